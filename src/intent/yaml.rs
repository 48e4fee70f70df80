//! The YAML front-end (serde-saphyr: pure Rust, maintained, per-value spans).

use super::model::NetworkIntent;
use super::suggest::did_you_mean;
use crate::diagnostic::{Diag, code};
use crate::intent::Span;

pub(super) fn parse(text: &str) -> Result<NetworkIntent, Box<Diag>> {
    serde_saphyr::from_str_with_options::<NetworkIntent>(text, options(text.len()))
        .map_err(|e| Box::new(to_diag(&e, text)))
}

/// serde-saphyr's default budget (250,000 nodes) refuses a legitimate 10,000-node intent.
/// Nodes and events can only grow with the text itself (aliases are capped separately, which
/// is what stops "billion laughs"), so the limits scale with the input's length.
fn options(len: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = budget.max_nodes.max(len);
    budget.max_events = budget.max_events.max(len.saturating_mul(2));
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options
}

fn to_diag(err: &serde_saphyr::Error, text: &str) -> Diag {
    let message = err.without_snippet().to_string();
    let message = message.lines().next().unwrap_or("malformed YAML");
    // The label shows where; the message says what.
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
    .to_owned();
    let span = err
        .location()
        .map(|loc| {
            let s = loc.span();
            let offset = s.byte_offset().unwrap_or_else(|| s.offset());
            let offset = usize::try_from(offset).unwrap_or(0).min(text.len());
            // Point at the whole token: up to the end of the word or line.
            let rest = text.get(offset..).unwrap_or("");
            let len = rest
                .find(['\n', ':', ',', '}', ']'])
                .unwrap_or(rest.len())
                .max(1);
            Span::new(offset, len.min(rest.len().max(1)))
        })
        .unwrap_or_default();
    let help = match did_you_mean(&message) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "see `netc schema` for the keys and types an intent takes".to_owned(),
    };
    Diag::error(code::PARSE, message)
        .label(force_known(span), "here")
        .help(help)
}

/// A parse error at the very first byte still deserves a label.
fn force_known(span: Span) -> Span {
    if span.is_unknown() {
        Span::new(0, 1)
    } else {
        span
    }
}
