//! The YAML front-end (serde-saphyr: pure Rust, maintained, per-value spans).

use super::model::NetworkIntent;
use super::shape::{self, Dialect, Tree};
use super::suggest::{did_you_mean, missing_field, missing_field_help};
use crate::diagnostic::{Diag, code};
use crate::intent::Span;

/// Reads the intent; when it cannot be read, every independent mistake of the file (the
/// parser's first, then the schema walk's, see `shape`), in the order of the text.
pub(super) fn parse(text: &str) -> Result<NetworkIntent, Vec<Diag>> {
    let intent =
        match serde_saphyr::from_str_with_options::<NetworkIntent>(text, options(text.len())) {
            Ok(intent) => intent,
            Err(e) => {
                let first = to_diag(&e, text);
                let more =
                    match serde_saphyr::from_str_with_options::<Tree>(text, options(text.len())) {
                        Ok(tree @ Tree::Map(_)) => {
                            shape::check(&tree, Span::default(), Dialect::Yaml, text)
                                .into_iter()
                                .map(|f| finding_diag(f.message, f.span, text))
                                .collect()
                        }
                        _ => Vec::new(),
                    };
                return Err(super::merge(first, more, text));
            }
        };
    // YAML reads `kubernetesVersion: 1.31` as a number (1.31, and 1.30 as 1.3), which the
    // parser would hand over as the string "1.31": the JSON Schema refuses it as a number, and
    // so does `check`.
    let version = &intent.cluster.kubernetes_version;
    if let Some(raw) = text.get(version.span.offset..version.span.offset + version.span.len)
        && !raw.starts_with(['"', '\''])
        && raw.trim().parse::<f64>().is_ok()
    {
        return Err(vec![
            Diag::error(
                code::PARSE,
                format!("kubernetesVersion `{}` is a number in YAML, not a version", raw.trim()),
            )
            .label(version.span, "a number")
            .help("write the version as Kubernetes does, a string: `kubernetesVersion: v1.31.2` (YAML would read 1.30 as 1.3)"),
        ]);
    }
    Ok(intent)
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
    // The label shows where; the message says what.
    let message = shape::yaml_message(err);
    let span = err
        .location()
        .map(|loc| token_span(text, loc.span()))
        .unwrap_or_default();
    if missing_field(&message).is_some() {
        return finding_diag(message, span, text);
    }
    if let Some(tab) = tab_in_indentation(text, span.offset, message.contains("tab")) {
        let (line, column) = line_col(text, tab);
        return Diag::error(
            code::PARSE,
            format!("tabs are not allowed for indentation in YAML (line {line}, column {column})"),
        )
        .label(Span::new(tab, 1), "a tab")
        .help("indent with spaces only (YAML reads a tab in indentation as an error)");
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(", set ").next().unwrap_or(rest).trim();
        return duplicate_key(text, span, key);
    }
    finding_diag(message, span, text)
}

/// A mistake of the model (unknown key, wrong type or value, missing key), from the reader's
/// message and the place it points at: the typed reader's first, or the schema walk's.
fn finding_diag(message: String, span: Span, text: &str) -> Diag {
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
    Diag::error(code::PARSE, in_user_words(&message))
        .label(force_known(span, text), "here")
        .help(help)
}

/// The parser's and serde's wording, in the words of the file's author: no type names of
/// Rust, no settings of the parser library.
fn in_user_words(message: &str) -> String {
    const WHOLE: &[(&str, &str)] = &[
        ("invalid u8", "not a whole number from 0 to 255"),
        ("invalid u16", "not a whole number from 0 to 65535"),
        ("invalid u32", "not a whole number from 0 to 4294967295"),
        (
            "invalid u64",
            "not a whole number from 0 to 18446744073709551615",
        ),
        ("invalid i64", "not a whole number"),
        ("invalid boolean", "not a boolean: write true or false"),
        (
            "invalid enum variant",
            "not one of the values this key takes",
        ),
        (
            "expected mapping start",
            "expected a map here (`key: value` lines, or `{key: value}`)",
        ),
        (
            "expected sequence start",
            "expected a list here (`- item` lines, or `[a, b]`)",
        ),
        ("expected string scalar", "expected a text value here"),
        (
            "cannot deserialize tagged scalar into string",
            "a YAML tag (`!!type`) is not taken here: write the value alone",
        ),
        (
            "externally tagged enum expected scalar or mapping",
            "expected one word here (one of the values this key takes)",
        ),
    ];
    if let Some((_, plain)) = WHOLE.iter().find(|(m, _)| *m == message) {
        return (*plain).to_owned();
    }
    if message.starts_with("cannot deserialize null into") {
        return "a value is missing here (the key is empty or `~`)".to_owned();
    }
    if message.starts_with("non-finite float") {
        return "not a number netc takes (`.inf` and `.nan` are YAML's infinity and not-a-number)"
            .to_owned();
    }
    if message.starts_with("tabs disallowed") {
        return "a tab where YAML takes only spaces".to_owned();
    }
    let mut out = message.to_owned();
    for (rust, plain) in [
        ("`u8`", "a whole number from 0 to 255"),
        ("`u16`", "a whole number from 0 to 65535"),
        ("`u32`", "a whole number from 0 to 4294967295"),
        ("`u64`", "a whole number"),
        ("u8", "a whole number from 0 to 255"),
        ("u16", "a whole number from 0 to 65535"),
        ("u32", "a whole number from 0 to 4294967295"),
        ("u64", "a whole number"),
        ("i64", "a whole number"),
        ("f64", "a number"),
        ("unit value", "an empty value"),
    ] {
        if let Some(i) = out.find(&format!("expected {rust}")) {
            out.replace_range(
                i + "expected ".len()..i + "expected ".len() + rust.len(),
                plain,
            );
        }
        out = out.replace(
            &format!("invalid type: {rust}"),
            &format!("invalid type: {plain}"),
        );
    }
    out
}

/// 1-based line and column (in characters) of byte `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.bytes().filter(|&b| b == b'\n').count() + 1,
        before.get(line_start..).map_or(0, |l| l.chars().count()) + 1,
    )
}

/// The offset of a tab in the indentation of a line near an error at `at` (its own line, the
/// line before, or the next one: the parser may stop on either side of it). With `any`, the
/// parser said it was a tab: the nearest tab-indented line after the line before the error,
/// else the first one in the file.
fn tab_in_indentation(text: &str, at: usize, any: bool) -> Option<usize> {
    let at = at.min(text.len());
    let mut tabs = Vec::new();
    let mut offset = 0usize;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        if let Some(i) = line.get(..indent).and_then(|w| w.find('\t')) {
            tabs.push((offset, offset + i));
        }
        offset += line.len();
    }
    let line_start = |o: usize| {
        text.get(..o)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1)
    };
    let this = line_start(at);
    let before = if this > 0 { line_start(this - 1) } else { 0 };
    let after = text
        .get(at..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| at + i + 1);
    let next_end = text
        .get(after..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| after + i + 1);
    let near = tabs
        .iter()
        .find(|&&(start, _)| start >= before && start < next_end)
        .map(|&(_, tab)| tab);
    if near.is_some() || !any {
        return near;
    }
    tabs.iter()
        .find(|&&(start, _)| start >= before)
        .or(tabs.first())
        .map(|&(_, tab)| tab)
}

/// `key` is set twice in one map: the parser points at the second; the first is the nearest
/// earlier `key:` of the same map (same indentation, no line indented less between them; or
/// earlier in the same flow map on the line).
fn duplicate_key(text: &str, second: Span, key: &str) -> Diag {
    let second = force_known(second, text);
    let second = Span::new(second.offset, key.len().min(text.len() - second.offset));
    let first = first_occurrence(text, second.offset, key);
    let (l2, _) = line_col(text, second.offset);
    let message = match first {
        Some(f) => {
            let (l1, _) = line_col(text, f);
            if l1 == l2 {
                format!("`{key}` is set twice on line {l1}")
            } else {
                format!("`{key}` is set twice: lines {l1} and {l2}")
            }
        }
        None => format!("`{key}` is set twice in one map (line {l2})"),
    };
    let mut diag = Diag::error(code::PARSE, message).label(second, "set again here");
    if let Some(f) = first {
        diag = diag.label(Span::new(f, key.len()), "first set here");
    }
    diag.help(format!(
        "a YAML map takes each key once: keep one `{key}` (merge what the two say)"
    ))
}

fn first_occurrence(text: &str, at: usize, key: &str) -> Option<usize> {
    let is_key_at = |o: usize| {
        text.get(o..).is_some_and(|t| {
            let t = t.strip_prefix(['"', '\'']).unwrap_or(t);
            t.strip_prefix(key).is_some_and(|r| {
                let r = r.strip_prefix(['"', '\'']).unwrap_or(r);
                r.trim_start_matches(' ').starts_with(':')
            })
        })
    };
    let line_start = text
        .get(..at)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    // Earlier in a flow map on the same line: after `{`, `,` and spaces.
    let head = text.get(line_start..at).unwrap_or("");
    if head.contains('{') {
        for (i, c) in head.char_indices() {
            if matches!(c, '{' | ',') {
                let k = i + 1 + (head.len() - i - 1 - head[i + 1..].trim_start().len());
                if line_start + k < at && is_key_at(line_start + k) {
                    return Some(line_start + k);
                }
            }
        }
    }
    let column = head.chars().count();
    for (start, indent, content) in lines_above(text, line_start) {
        // `- key: v`: an item whose map starts at the key's column.
        let dash = content.len() - content.trim_start_matches(['-', ' ']).len();
        if indent + dash == column && is_key_at(start + indent + dash) {
            return Some(start + indent + dash);
        }
        if indent < column || (dash > 0 && indent + dash == column) {
            return None;
        }
    }
    None
}

/// The lines above the one starting at byte `line_start`, nearest first, without blank and
/// comment lines: each line's start, its indentation (spaces) and its content after them.
fn lines_above(text: &str, line_start: usize) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut end = line_start;
    std::iter::from_fn(move || {
        while end > 0 {
            let start = text
                .get(..end - 1)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            let line = text.get(start..end - 1).unwrap_or("");
            end = start;
            let content = line.trim_start_matches(' ');
            if !content.is_empty() && !content.starts_with('#') {
                return Some((start, line.len() - content.len(), content));
            }
        }
        None
    })
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
    for (start, indent, content) in lines_above(text, line_start) {
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
            let diags = parse(text).expect_err("not an intent");
            let diag = &diags[0];
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
