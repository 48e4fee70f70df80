//! The front half of the pipeline as one call: parse → lower → validate.

use crate::diagnostic::{Diag, SourceFile};
use crate::intent::{self, NetworkIntent, Syntax};
use crate::plan::{self, Plan};
use crate::validate;

/// The outcome of checking one intent file.
pub struct Checked {
    /// `None` when the file did not parse.
    pub intent: Option<NetworkIntent>,
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diag>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diag::is_error)
    }

    /// The Plan, when the intent has no errors: what `build` and `apply` may use.
    pub fn valid_plan(&self) -> Option<&Plan> {
        if self.has_errors() {
            None
        } else {
            self.plan.as_ref()
        }
    }
}

/// Parses, lowers and validates one intent file.
pub fn check(src: &SourceFile, syntax: Syntax) -> Checked {
    match intent::parse_all(src, syntax) {
        Err(diagnostics) => Checked {
            intent: None,
            plan: None,
            diagnostics,
        },
        Ok(intent) => {
            let plan = plan::lower(&intent, &src.text);
            let diagnostics = validate::validate(&intent, &plan);
            Checked {
                intent: Some(intent),
                plan: Some(plan),
                diagnostics,
            }
        }
    }
}
