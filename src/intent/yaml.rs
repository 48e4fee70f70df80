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
        .map(|loc| token_span(text, loc.span()))
        .unwrap_or_default();
    let help = match did_you_mean(&message) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "see `netc schema` for the keys and types an intent takes".to_owned(),
    };
    Diag::error(code::PARSE, message)
        .label(force_known(span, text), "here")
        .help(help)
}

/// The span of the token an error points at (up to the end of the word or line), in bytes
/// and on character boundaries. serde-saphyr gives a byte offset for string input; should it
/// give only its character offset, that is converted rather than misread as bytes.
fn token_span(text: &str, at: serde_saphyr::Span) -> Span {
    let offset = match at.byte_offset() {
        Some(b) => usize::try_from(b).unwrap_or(usize::MAX),
        None => {
            let chars = usize::try_from(at.offset()).unwrap_or(usize::MAX);
            text.char_indices()
                .nth(chars)
                .map_or(text.len(), |(i, _)| i)
        }
    };
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let rest = text.get(offset..).unwrap_or("");
    let token = rest.find(['\n', ':', ',', '}', ']']).unwrap_or(rest.len());
    // An error on an empty token still gets one character to stand on, if there is one.
    let len = match token {
        0 => rest.chars().next().map_or(0, char::len_utf8),
        n => n,
    };
    Span::new(offset, len)
}

/// A parse error at the very first byte still deserves a label (when the text has one).
fn force_known(span: Span, text: &str) -> Span {
    if span.is_unknown() {
        Span::new(0, text.chars().next().map_or(0, char::len_utf8))
    } else {
        span
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn labels_stay_inside_the_text_on_char_boundaries() {
        for text in ["", "\u{45e}\0", "a: \u{45e}\u{45e}: [", "kind: [\n\u{45e}"] {
            let diag = parse(text).expect_err("not an intent");
            for l in &diag.labels {
                assert!(l.span.offset + l.span.len <= text.len(), "{text:?}: {l:?}");
                assert!(text.is_char_boundary(l.span.offset), "{text:?}: {l:?}");
                assert!(
                    text.is_char_boundary(l.span.offset + l.span.len),
                    "{text:?}: {l:?}"
                );
            }
        }
    }
}
