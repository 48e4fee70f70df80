//! Stage 2: the validation catalogue. Every rule turns intent + Plan into coded diagnostics.
//!
//! Rules live one family per file; each pushes `Diag`s with a stable code from
//! `diagnostic::code`, labels on the offending spans and a `help` line.

use crate::diagnostic::Diag;
use crate::intent::NetworkIntent;
use crate::plan::Plan;

/// Runs every rule. Findings come in a stable order: by rule family, then by position.
pub fn validate(intent: &NetworkIntent, plan: &Plan) -> Vec<Diag> {
    let _ = (intent, plan);
    Vec::new()
}
