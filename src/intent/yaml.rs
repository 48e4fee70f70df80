//! The YAML front-end (serde-saphyr: pure Rust, maintained, per-value spans).

use super::model::NetworkIntent;
use super::suggest::{did_you_mean, missing_field, missing_field_help};
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
    if let Some(field) = missing_field(&message) {
        // serde-saphyr reports a missing key at the last key it read; the finding is about
        // the map that lacks it.
        let (map, holder) = enclosing_map(text, span.offset);
        let message = match holder {
            Holder::Key(key) => format!("`{key}` lacks the required key `{field}`"),
            Holder::Item => format!("this list item lacks the required key `{field}`"),
            Holder::Document => format!("the intent lacks the required top-level key `{field}`"),
        };
        return Diag::error(code::PARSE, message)
            .label(force_known(map, text), format!("needs `{field}`"))
            .help(missing_field_help(field));
    }
    let help = match did_you_mean(&message) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "see `netc schema` for the keys and types an intent takes".to_owned(),
    };
    Diag::error(code::PARSE, message)
        .label(force_known(span, text), "here")
        .help(help)
}

/// What holds a map: a key, a list item, or the document itself.
enum Holder {
    Key(String),
    Item,
    Document,
}

/// The map holding the key at byte `at` and the span that names it: its own key (`cluster`),
/// the `-` or `{` of a list item, or the document's first key at the top level. Reads YAML's
/// layout: a flow map `{...}` opened earlier on the line (or at `at`), else the nearest line
/// above that is indented less than the key.
fn enclosing_map(text: &str, at: usize) -> (Span, Holder) {
    let at = at.min(text.len());
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let before = text.get(line_start..at).unwrap_or("");
    // A flow map opened on this line and not closed before `at` (an empty `{}` at `at`).
    let mut open = Vec::new();
    for (i, c) in before.char_indices() {
        match c {
            '{' => open.push(i),
            '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    if text.get(at..).is_some_and(|t| t.starts_with('{')) {
        open.push(before.len());
    }
    if let Some(&brace) = open.last() {
        let head = before.get(..brace).unwrap_or("").trim_end();
        let key = head.strip_suffix(':').map(|h| {
            let (k, key) = key_of(h.trim_start_matches([' ', '-']));
            (h.len() - h.trim_start_matches([' ', '-']).len() + k, key)
        });
        return match key {
            Some((k, key)) if !key.is_empty() => (
                Span::new(line_start + k, key.len()),
                Holder::Key(key.to_owned()),
            ),
            _ => (Span::new(line_start + brace, 1), Holder::Item),
        };
    }
    let column = before.chars().count();
    let mut end = line_start;
    while end > 0 {
        let start = text
            .get(..end - 1)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let line = text.get(start..end - 1).unwrap_or("");
        end = start;
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        if let Some(item) = content.strip_prefix('-') {
            // `- key: v`: the item's map starts at its first key.
            let first = indent + 1 + (item.len() - item.trim_start_matches(' ').len());
            if first == column {
                return (Span::new(start + indent, 1), Holder::Item);
            }
        }
        if indent < column {
            let dash = content.len() - content.trim_start_matches(['-', ' ']).len();
            let (k, key) = key_of(content.get(dash..).unwrap_or(""));
            if key.is_empty() {
                break;
            }
            return (
                Span::new(start + indent + dash + k, key.len()),
                Holder::Key(key.to_owned()),
            );
        }
    }
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let t = line.trim();
        if !t.is_empty() && !t.starts_with('#') && !t.starts_with("---") && !t.starts_with('%') {
            let (k, key) = key_of(line);
            return (Span::new(offset + k, key.len().max(1)), Holder::Document);
        }
        offset += line.len();
    }
    (Span::new(0, 0), Holder::Document)
}

/// The key at the start of `line` (`key: ...`, `"key": ...`): its offset in `line` and text.
fn key_of(line: &str) -> (usize, &str) {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    let key = trimmed
        .split_once(':')
        .map_or(trimmed, |(k, _)| k)
        .trim_end()
        .trim_matches(['"', '\'']);
    let quote = usize::from(trimmed.starts_with(['"', '\'']));
    (lead + quote, key)
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
