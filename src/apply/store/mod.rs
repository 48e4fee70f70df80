//! What netc keeps in the state directory: the ownership record and `--try`'s pending record
//! ([`state`]), the desired-state cache ([`cache`]).

pub mod cache;
pub mod pending;
pub mod state;
