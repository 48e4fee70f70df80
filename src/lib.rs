//! netc: a compiler for Kubernetes node networking.
//!
//! The pipeline, one module per stage: [`intent`] (parse, spans) → [`validate`] (rules,
//! diagnostics) → [`plan`] (derived facts). See ARCHITECTURE.md.

pub mod diagnostic;
pub mod intent;
