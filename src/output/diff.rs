//! Unified diffs of [`Change`]s, plain or coloured.

use std::fmt::Write as _;

use similar::TextDiff;

use super::Change;

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One unified diff per change (`a/` = DIR now, `b/` = what build writes), in path order.
pub fn render(changes: &[Change], colour: bool) -> String {
    let mut out = String::new();
    for c in changes {
        let current = c
            .current
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let wanted = c
            .wanted
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let old = match c.current {
            Some(_) => format!("a/{}", c.path),
            None => "/dev/null".to_owned(),
        };
        let new = match c.wanted {
            Some(_) => format!("b/{}", c.path),
            None => "/dev/null".to_owned(),
        };
        let diff = TextDiff::from_lines(current.as_ref(), wanted.as_ref());
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old, &new)
            .to_string();
        if !colour {
            out.push_str(&text);
            continue;
        }
        for line in text.split_inclusive('\n') {
            let style = if line.starts_with("---") || line.starts_with("+++") {
                BOLD
            } else if line.starts_with("@@") {
                CYAN
            } else if line.starts_with('-') {
                RED
            } else if line.starts_with('+') {
                GREEN
            } else {
                out.push_str(line);
                continue;
            };
            let body = line.strip_suffix('\n').unwrap_or(line);
            let _ = write!(out, "{style}{body}{RESET}");
            if line.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    out
}

/// Counts of each kind of change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub changed: usize,
    pub missing: usize,
    pub stale: usize,
}

pub fn summary(changes: &[Change]) -> Summary {
    let mut s = Summary::default();
    for c in changes {
        match (&c.current, &c.wanted) {
            (Some(_), Some(_)) => s.changed += 1,
            (None, _) => s.missing += 1,
            (Some(_), None) => s.stale += 1,
        }
    }
    s
}
