//! netc: a compiler for Kubernetes node networking.
//!
//! The pipeline, one module per stage: [`intent`] (parse, spans) → [`validate`] (rules,
//! diagnostics) → [`plan`] (derived facts). [`pipeline::check`] runs the three in order.
//! See ARCHITECTURE.md for the map.

pub mod apply;
pub mod cli;
pub mod diagnostic;
pub mod digest;
pub mod emit;
pub mod explain;
pub mod import;
pub mod intent;
pub mod machine;
pub mod output;
pub mod pipeline;
pub mod plan;
pub mod validate;
