//! Undoes applied steps in reverse order. Keeps going past failures and reports them all: a
//! partial rollback beats stopping at the first error.

use super::execute::Executor;
use super::step::Step;

/// The steps that undo `applied`, in the order to run them.
pub fn undo_steps(applied: &[Step]) -> Vec<Step> {
    applied.iter().rev().map(Step::inverse).collect()
}

/// Runs `undo` (from [`undo_steps`]); returns the errors, each naming its step.
pub fn rollback(exec: &mut Executor, undo: &[Step]) -> Vec<String> {
    let mut errors = Vec::new();
    for step in undo {
        if let Err(e) = exec.run(step) {
            errors.push(format!("{step}: {e}"));
        }
    }
    errors
}
