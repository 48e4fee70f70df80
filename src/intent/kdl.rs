//! The KDL front-end: a KDL v2 intent read into the same [`NetworkIntent`] as the YAML one.
//!
//! The text is parsed by the `kdl` crate, then the model is deserialized straight from the KDL
//! document tree by serde (module `de`), so `deny_unknown_fields`, enums and types behave as for
//! YAML and every [`Spanned`](super::Spanned) value records where it was written in the KDL text.
//!
//! # How KDL maps onto the model
//!
//! * The document's top-level nodes are the keys of the intent (`apiVersion`, `cluster`, ...).
//! * A node with properties and/or children is a map: each property `key=value` and each child
//!   node `key ...` is one entry (properties first, then children).
//! * A node with exactly one argument and nothing else is that value: `kind NetworkIntent`.
//!   A node with several arguments is a list: `podCIDR "10.244.0.0/16" "fd00:10:244::/56"`.
//! * Children named `-` are list items. Each `-` is read by the same rules: `- "10.0.0.0/8"` is a
//!   scalar, `- name=eth0 mtu=1500` and `- { pods app=frontend }` are maps.
//! * Where the model expects a list, a single value is a list of one: `reserved "172.17.0.0/16"`,
//!   `except="10.1.0.0/16"`. An empty children block `{}` is an empty list or map.
//! * `#true`/`#false` are booleans, `#null` and a bare node (`kubeProxy`) are "absent",
//!   numbers are numbers, every string (quoted or bare identifier) is a string. Strings are never
//!   read as numbers: `mtu "1500"` is a type error, as `mtu: "1500"` is in YAML.
//! * Type annotations (`(u8)24`) are ignored.
//! * A node may not mix arguments with properties or children, nor `-` items with named keys.
//!
//! A value's span is that of its text (for a property, the value after `=`); a map key's span is
//! the property or node name. Each error is a `netc::parse` diagnostic labelled at the node or
//! entry it is about: a syntax error alone, else every mistake of the model (`shape`).

mod de;
mod lex;

use ::kdl::{KdlDocument, KdlError, KdlNode};
use miette::SourceSpan;

use super::model::NetworkIntent;
use super::shape::{self, Dialect, Tree};
use super::suggest::{did_you_mean, missing_field, missing_field_help};
use crate::diagnostic::{Diag, code};
use crate::intent::Span;

/// Deepest `{ }` nesting accepted: twice what the model uses (policies → rules → from → peer).
/// The `kdl` parser recurses once per level with large frames (about 3 KB in a release build,
/// 32 KB in a debug one); the pre-pass (`lex`) refuses anything deeper before it runs.
const MAX_DEPTH: usize = 16;

/// Stack of the thread the parser and the model reader run on. With the nesting capped at
/// [`MAX_DEPTH`] they need well under 1 MiB; the rest is margin that is only reserved, not
/// used (a thread's stack is committed as it is touched).
const PARSER_STACK: usize = 64 << 20;

/// Reads the intent; when it cannot be read, every independent mistake of the file (a syntax
/// error alone; else the model's first error, then the schema walk's, see `shape`).
pub(super) fn parse(text: &str) -> Result<NetworkIntent, Vec<Diag>> {
    let prepared = lex::prepare(text, MAX_DEPTH).map_err(|e| vec![lex_diag(e, text)])?;
    let work = || -> Result<NetworkIntent, Vec<Diag>> {
        let doc = parse_nodes(&prepared).map_err(|e| vec![syntax_diag(&e, text)])?;
        debug_assert!(
            block_depth(&doc) <= MAX_DEPTH,
            "the pre-pass missed a nesting the parser saw"
        );
        let whole = fit(Span::new(0, 1), text);
        de::from_document(&doc, whole).map_err(|e| {
            let first = model_diag(e, text);
            let more = match de::from_document::<Tree>(&doc, whole) {
                Ok(tree) => shape::check(&tree, whole, Dialect::Kdl, text)
                    .into_iter()
                    .map(|f| model_diag(de::Error::located(f.message, f.span), text))
                    .collect(),
                Err(_) => Vec::new(),
            };
            super::merge(first, more, text)
        })
    };
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("netc-kdl".to_owned())
            .stack_size(PARSER_STACK)
            .spawn_scoped(scope, work)
            .map_err(|e| {
                vec![internal(format!(
                    "could not start the KDL reader thread: {e}"
                ))]
            })?;
        worker
            .join()
            .unwrap_or_else(|_| Err(vec![internal("the KDL reader failed".to_owned())]))
    })
}

fn internal(message: String) -> Diag {
    Diag::error(code::PARSE, message).help("this is a bug in netc; please report the input")
}

/// Parses each top-level node on its own (see `lex`: the parser's top-level error recovery
/// recurses once per error) and puts them back into one document, spans and all.
fn parse_nodes(prepared: &lex::Prepared) -> Result<KdlDocument, KdlError> {
    let mut doc = KdlDocument::new();
    for range in &prepared.nodes {
        let chunk = prepared.text.get(range.clone()).unwrap_or("");
        match KdlNode::parse(chunk) {
            Ok(mut node) => {
                shift_node(&mut node, range.start);
                doc.nodes_mut().push(node);
            }
            Err(mut err) => {
                for d in &mut err.diagnostics {
                    d.span = shift(d.span, range.start);
                }
                return Err(err);
            }
        }
    }
    Ok(doc)
}

fn shift(span: SourceSpan, by: usize) -> SourceSpan {
    SourceSpan::new(span.offset().saturating_add(by).into(), span.len())
}

fn shift_node(node: &mut KdlNode, by: usize) {
    node.set_span(shift(node.span(), by));
    let name = node.name_mut();
    name.set_span(shift(name.span(), by));
    if let Some(ty) = node.ty_mut() {
        ty.set_span(shift(ty.span(), by));
    }
    for entry in node.entries_mut() {
        entry.set_span(shift(entry.span(), by));
        if let Some(name) = entry.name_mut() {
            name.set_span(shift(name.span(), by));
        }
        if let Some(ty) = entry.ty_mut() {
            ty.set_span(shift(ty.span(), by));
        }
    }
    if let Some(children) = node.children_mut() {
        children.set_span(shift(children.span(), by));
        for child in children.nodes_mut() {
            shift_node(child, by);
        }
    }
}

/// Nesting depth of children blocks in a parsed document (checks the pre-pass in debug builds).
fn block_depth(doc: &KdlDocument) -> usize {
    doc.nodes()
        .iter()
        .filter_map(|n| n.children())
        .map(|c| block_depth(c).saturating_add(1))
        .max()
        .unwrap_or(0)
}

fn lex_diag(err: lex::LexError, text: &str) -> Diag {
    Diag::error(code::PARSE, format!("malformed KDL: {}", err.message))
        .label(fit(err.span, text), err.label)
        .help(err.help)
}

fn syntax_diag(err: &KdlError, text: &str) -> Diag {
    let first = err.diagnostics.first();
    let detail = first
        .and_then(|d| d.message.as_deref())
        .map_or_else(|| "unexpected input".to_owned(), syntax_words);
    let mut message = format!("malformed KDL: {detail}");
    let more = err.diagnostics.len().saturating_sub(1);
    if more > 0 {
        message.push_str(&format!(" (and {more} more KDL error(s) after it)"));
    }
    let span = first.map_or(Span::new(0, 1), |d| {
        Span::new(d.span.offset(), d.span.len())
    });
    let label = first
        .and_then(|d| d.label.as_deref())
        .map_or_else(|| "here".to_owned(), syntax_words);
    let help = first
        .and_then(|d| d.help.as_deref())
        .map(syntax_words)
        .unwrap_or_else(|| {
            "netc reads KDL v2: quote strings that are not plain words (\"10.0.0.0/8\"), \
         booleans are #true/#false"
                .to_owned()
        });
    Diag::error(code::PARSE, message)
        .label(fit(span, text), label)
        .help(help)
}

fn model_diag(err: de::Error, text: &str) -> Diag {
    let span = fit(err.span.unwrap_or(Span::new(0, 1)), text);
    if let Some(field) = missing_field(&err.message) {
        // The error is labelled at the node that lacks the key (the whole document at the top).
        let at = text.get(span.offset..).unwrap_or("");
        let name: String = at
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '{' | '=' | ';'))
            .collect();
        // The document's own span is the first character (`parse`).
        let top = err.span.is_none_or(|s| s == fit(Span::new(0, 1), text));
        let message = if top {
            format!("the intent lacks the required top-level key `{field}`")
        } else if name == "-" {
            format!("this list item lacks the required key `{field}`")
        } else if name.is_empty() {
            format!("the intent lacks the required top-level key `{field}`")
        } else {
            format!("`{name}` lacks the required key `{field}`")
        };
        return Diag::error(code::PARSE, message)
            .label(span, format!("needs `{field}`"))
            .help(missing_field_help(field));
    }
    let help = match did_you_mean(&err.message) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "see `netc schema` for the keys and types an intent takes".to_owned(),
    };
    Diag::error(code::PARSE, in_user_words(&err.message))
        .label(span, "here")
        .help(help)
}

/// serde's wording of a model error in the words of a KDL file's author: no Rust type names
/// (`u8`, `struct Cni`, `enum Role`), no "unit value"; KDL's own names for what was found.
fn in_user_words(message: &str) -> String {
    let parsed = message
        .strip_prefix("invalid type: ")
        .map(|r| (r, false))
        .or_else(|| message.strip_prefix("invalid value: ").map(|r| (r, true)));
    let Some((rest, is_value)) = parsed else {
        return message.to_owned();
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else {
        return message.to_owned();
    };
    let expected = expected_words(expected);
    let found = found_words(found);
    if is_value {
        format!("{found} is not {expected}")
    } else {
        format!("expected {expected} here, found {found}")
    }
}

/// What serde says a value should be, as the author of a KDL intent says it.
fn expected_words(expected: &str) -> String {
    let plain = match expected {
        "u8" => "a whole number from 0 to 255",
        "u16" => "a whole number from 0 to 65535",
        "u32" => "a whole number from 0 to 4294967295",
        "u64" | "i64" | "i32" | "u128" | "i128" => "a whole number",
        "f64" | "f32" => "a number",
        "a string" | "a borrowed string" => "a string",
        "a boolean" => "#true or #false",
        "a sequence" => "a list (several arguments, or `-` children)",
        "a map" => "properties or a `{ }` block of keys",
        "unit" => "nothing",
        e if e.starts_with("struct ") => "properties or a `{ }` block of keys",
        e if e.starts_with("enum ") => "one word (one of the values this key takes)",
        e => return e.to_owned(),
    };
    plain.to_owned()
}

/// What serde says it found, in KDL's terms.
fn found_words(found: &str) -> String {
    let (what, shown) = match found.split_once(' ') {
        Some((w, rest)) => (w, rest.trim()),
        None => (found, ""),
    };
    let shown = shown
        .strip_suffix(" as i128")
        .unwrap_or(shown)
        .trim_matches('`');
    match (what, shown) {
        ("boolean", v) => format!("#{v}"),
        ("integer", v) => format!("the number {v}"),
        ("floating", v) => format!(
            "the number {}",
            v.strip_prefix("point ").unwrap_or(v).trim_matches('`')
        ),
        ("string", v) => format!("the string {v}"),
        ("unit", _) => "nothing (a bare node or #null)".to_owned(),
        ("sequence", _) => "a list (several arguments, or `-` children)".to_owned(),
        ("map", _) => "properties or a `{ }` block".to_owned(),
        _ => found.to_owned(),
    }
}

/// The `kdl` crate's syntax messages, labels ("not identifier string") and parser-speak helps
/// in the words of the file's author.
fn syntax_words(text: &str) -> String {
    let thing = |t: &str| -> String {
        match t {
            "identifier string" => "a word or a \"quoted string\"".to_owned(),
            "property value" => "a value after `=`".to_owned(),
            "quoted string" | "multi-line quoted string" => "a \"quoted string\"".to_owned(),
            "raw string" => "a raw string (#\"...\"#)".to_owned(),
            "node name" => "a node name".to_owned(),
            "type name" => "a type name in `( )`".to_owned(),
            "keyword" => "a keyword (#true, #false, #null, #inf, #-inf, #nan)".to_owned(),
            "EOF" => "the end of the file".to_owned(),
            "newline" | "multi-line string newline" => "a new line".to_owned(),
            "integer" | "float" | "hexadecimal number" | "octal number" | "binary number"
            | "hexadecimal" | "octal" | "binary" => "a number".to_owned(),
            "unicode escape char" => "a unicode escape (\\u{hex})".to_owned(),
            "closed" => "a closing `}`".to_owned(),
            other => other.to_owned(),
        }
    };
    match text {
        "Expected end of document" => return "expected the end of the file here".to_owned(),
        "Found child block instead of node name" => {
            return "a `{ }` block where a node name should be".to_owned();
        }
        "Found invalid node name" => return "not a valid node name".to_owned(),
        "This can be any string type, including a quoted, raw, or multiline string, as well as a plain identifier string." =>
        {
            return "a node name is a word (`cluster`) or a string: \"quoted\", #\"raw\"# or multi-line"
                .to_owned();
        }
        "not closed" => return "this `{` is never closed".to_owned(),
        "No closing '}' for child block" => {
            return "a `{` block is never closed with `}`".to_owned();
        }
        "invalid contents inside type annotation" => {
            return "not a type annotation: `(` starts one, as in `(name)value`".to_owned();
        }
        "Unexpected newline in single-line quoted string" => {
            return "a \"quoted string\" ends at the end of its line".to_owned();
        }
        "missing string closing quote" => return "the string has no closing `\"`".to_owned(),
        "missing multiline string closing quotes" => {
            return "the multi-line string has no closing `\"\"\"`".to_owned();
        }
        "matching multiline string prefix" => {
            return "a line of the multi-line string is indented less than its closing `\"\"\"`"
                .to_owned();
        }
        "Non-digit character found after the '.' of a float" => {
            return "a number with a `.` needs digits after it".to_owned();
        }
        "Non-digit character found in the exponent part of a float" => {
            return "a number's exponent needs digits (`2.0e10`)".to_owned();
        }
        "A valid value was partially parsed, but was not followed by a value terminator. Did you want a space here?" =>
        {
            return "a value ends with a space, `;`, a new line or `}`: did you want a space here?"
                .to_owned();
        }
        _ => {}
    }
    if let Some(t) = text.strip_prefix("Expected ") {
        return format!("expected {}", thing(t));
    }
    if let Some(t) = text.strip_prefix("not ") {
        return format!("not {}", thing(t));
    }
    text.to_owned()
}

/// Fits a span to the text so a renderer can always show it: inside it, on character
/// boundaries, and at least one character long (an error at the end points at the last one).
fn fit(span: Span, text: &str) -> Span {
    let mut start = span.offset.min(text.len());
    let mut end = span.offset.saturating_add(span.len).min(text.len());
    if start == end {
        if end < text.len() {
            end = end.saturating_add(1);
        } else {
            start = start.saturating_sub(1);
        }
    }
    while !text.is_char_boundary(start) {
        start = start.saturating_sub(1);
    }
    while !text.is_char_boundary(end) {
        end = end.saturating_add(1);
    }
    Span::new(start, end.saturating_sub(start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{CidrList, Mtu};

    const MINIMAL: &str = r#"apiVersion "netc/v1alpha1"
kind NetworkIntent
metadata name=demo
cluster distribution=kubeadm kubernetesVersion="v1.31.2" podCIDR="10.244.0.0/16" serviceCIDR="10.96.0.0/12"
cni plugin=flannel mtu=auto
nodes {
    - name=cp-1 role=control-plane address="10.0.1.100/24" {
        interfaces { - name=eth0 mtu=1500 purpose=management }
    }
}
"#;

    fn text_at(text: &str, span: Span) -> &str {
        text.get(span.offset..span.offset + span.len)
            .unwrap_or("<out of range>")
    }

    fn err(text: &str) -> Diag {
        match parse(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(d) => d.into_iter().next().expect("one error at least"),
        }
    }

    #[test]
    fn values_carry_the_span_of_their_text() {
        // Spans are byte offsets: multi-byte text before the values must not shift them.
        let text = format!("// réseau «démo»\n{MINIMAL}");
        let intent = parse(&text).expect("loads");
        assert_eq!(text_at(&text, intent.api_version.span), "\"netc/v1alpha1\"");
        assert_eq!(text_at(&text, intent.metadata.name.span), "demo");
        assert_eq!(text_at(&text, intent.cluster.distribution.span), "kubeadm");
        assert_eq!(
            text_at(&text, intent.cluster.pod_cidr.span),
            "\"10.244.0.0/16\""
        );
        let iface = &intent.nodes[0].interfaces[0];
        assert_eq!(
            text_at(&text, iface.mtu.as_ref().expect("mtu").span),
            "1500"
        );
        assert_eq!(intent.cni.mtu.as_ref().map(|m| m.value), Some(Mtu::Auto));
    }

    #[test]
    fn several_arguments_are_a_list_and_one_is_a_list_of_one() {
        let text =
            MINIMAL.replace("podCIDR=\"10.244.0.0/16\" ", "") + "reserved \"172.17.0.0/16\"\n";
        let text = text.replace(
            "serviceCIDR=\"10.96.0.0/12\"",
            "serviceCIDR=\"10.96.0.0/12\" {\n    podCIDR \"10.244.0.0/16\" \"fd00:10:244::/56\"\n}",
        );
        let intent = parse(&text).expect("loads");
        match &intent.cluster.pod_cidr.value {
            CidrList::Many(v) => assert_eq!(v.len(), 2),
            other => panic!("expected two CIDRs, got {other:?}"),
        }
        assert_eq!(
            text_at(&text, intent.cluster.pod_cidr.span),
            "\"10.244.0.0/16\" \"fd00:10:244::/56\""
        );
        assert_eq!(intent.reserved.len(), 1);
        assert_eq!(text_at(&text, intent.reserved[0].span), "\"172.17.0.0/16\"");
    }

    #[test]
    fn label_keys_are_spanned() {
        let text = MINIMAL.to_owned()
            + "policies {\n    - namespace=prod {\n        rules { - name=r to=#null { to app=backend } }\n    }\n}\n";
        // `to` twice: the duplicate is an error at the second key.
        let d = err(&text);
        assert!(d.message.contains("duplicate field `to`"), "{}", d.message);
        let span = d.primary_span().expect("labelled");
        assert_eq!(text_at(&text, span), "to");
        assert!(span.offset > text.find("to=#null").expect("present"));

        let text = text.replace("to=#null ", "");
        let intent = parse(&text).expect("loads");
        let labels = intent.policies[0].rules[0].to.as_ref().expect("to");
        let (k, v) = labels.iter().next().expect("one label");
        assert_eq!(text_at(&text, k.span), "app");
        assert_eq!(text_at(&text, v.span), "backend");
    }

    #[test]
    fn null_and_bare_nodes_are_absent_and_empty_blocks_are_empty() {
        let text = MINIMAL.replace(
            "cni plugin=flannel mtu=auto",
            "cni plugin=flannel mtu=#null",
        ) + "proxy\nreserved {}\n";
        let text = text.replace(
            "interfaces { - name=eth0 mtu=1500 purpose=management }",
            "interfaces {}",
        );
        let intent = parse(&text).expect("loads");
        assert_eq!(intent.cni.mtu, None);
        assert_eq!(intent.proxy, None);
        assert!(intent.reserved.is_empty());
        assert!(intent.nodes[0].interfaces.is_empty());
    }

    #[test]
    fn numbers_out_of_range_are_errors_at_the_value() {
        for bad in [
            "-1",
            "4294967296",
            "170141183460469231731687303715884105727",
            "1.5",
        ] {
            let text = MINIMAL.replace("mtu=1500", &format!("mtu={bad}"));
            let d = err(&text);
            assert_eq!(text_at(&text, d.primary_span().expect("labelled")), bad);
        }
    }

    #[test]
    fn unknown_key_points_at_the_key_with_a_suggestion() {
        let text = MINIMAL.replace("cni plugin=flannel", "cni plugn=flannel");
        let d = err(&text);
        assert_eq!(d.code, code::PARSE);
        assert!(d.message.contains("unknown field `plugn`"), "{}", d.message);
        assert_eq!(text_at(&text, d.primary_span().expect("labelled")), "plugn");
        assert_eq!(d.help.as_deref(), Some("did you mean `plugin`?"));
    }

    #[test]
    fn wrong_type_and_bad_variant_point_at_the_value() {
        let text = MINIMAL.replace("mtu=1500", "mtu=\"big\"");
        let d = err(&text);
        assert_eq!(
            d.message,
            "expected a whole number from 0 to 4294967295 here, found the string \"big\""
        );
        assert_eq!(
            text_at(&text, d.primary_span().expect("labelled")),
            "\"big\""
        );

        let text = MINIMAL.replace("role=control-plane", "role=controlplane");
        let d = err(&text);
        assert!(d.message.contains("unknown variant"), "{}", d.message);
        assert_eq!(
            text_at(&text, d.primary_span().expect("labelled")),
            "controlplane"
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `control-plane`?"));
    }

    #[test]
    fn missing_field_points_at_its_node() {
        let text = MINIMAL.replace("- name=cp-1 ", "- ");
        let d = err(&text);
        assert_eq!(d.message, "this list item lacks the required key `name`");
        let span = d.primary_span().expect("labelled");
        assert_eq!(span.offset, text.find("- role").expect("present"));

        // The map that lacks the key is named, and the help says who needs it (issue 11, 17).
        let text = MINIMAL.replace("kubernetesVersion=\"v1.31.2\" ", "");
        let d = err(&text);
        assert_eq!(
            d.message,
            "`cluster` lacks the required key `kubernetesVersion`"
        );
        assert_eq!(d.primary_span().map(|s| s.offset), text.find("cluster "));
        assert!(
            d.help
                .as_deref()
                .is_some_and(|h| h.contains("kubeadm needs it"))
        );
        let d = err(&MINIMAL.replace("kind NetworkIntent\n", ""));
        assert_eq!(
            d.message,
            "the intent lacks the required top-level key `kind`"
        );
    }

    #[test]
    fn mixing_shapes_is_an_error_at_the_offender() {
        let text = MINIMAL.replace("metadata name=demo", "metadata \"x\" name=demo");
        let d = err(&text);
        assert!(
            d.message.contains("`metadata` has arguments"),
            "{}",
            d.message
        );
        assert_eq!(text_at(&text, d.primary_span().expect("labelled")), "\"x\"");

        let text = MINIMAL.replace(
            "interfaces { - name=eth0",
            "interfaces { extra 1; - name=eth0",
        );
        let d = err(&text);
        assert!(d.message.contains("mixes `-` items"), "{}", d.message);
        assert_eq!(text_at(&text, d.primary_span().expect("labelled")), "extra");
    }

    #[test]
    fn syntax_errors_are_labelled_inside_the_text() {
        for text in ["a \"unterminated", "a {", "\u{e9}\u{e9} 1.", "", "}", "a=1"] {
            let d = err(text);
            assert_eq!(d.code, code::PARSE);
            if let Some(span) = d.primary_span() {
                assert!(span.offset + span.len <= text.len(), "{text:?}: {span:?}");
                assert!(text.is_char_boundary(span.offset), "{text:?}: {span:?}");
            } else {
                assert!(text.is_empty(), "{text:?} has no label");
            }
        }
    }

    #[test]
    fn deep_nesting_is_refused_before_the_parser_recurses() {
        // 3000 levels overflow the parser's stack even in a release build.
        let deep = format!("{}{}", "a{".repeat(3000), "}".repeat(3000));
        let d = err(&deep);
        assert!(d.message.contains("nested more than"), "{}", d.message);
        assert_eq!(d.primary_span().map(|s| s.offset), Some(2 * MAX_DEPTH + 1));

        // Braces in strings and comments do not nest; closing braces there do not unnest.
        let noise = "s \"{{{\" #\"{\\\"}\"# \"\"\"\n}}\\\"\n\"\"\"\n// {{{\n/* { /* } */ { */\n";
        let wide = noise.repeat(MAX_DEPTH);
        let levels = |n: usize| format!("{}{}", "a{".repeat(n), "}".repeat(n));
        let ok = wide.clone() + &levels(MAX_DEPTH);
        lex::prepare(&ok, MAX_DEPTH).expect("within the limit");
        // ... and the parser agrees that the noise is strings and comments.
        let prepared = lex::prepare(&ok, MAX_DEPTH).expect("lexes");
        let doc = parse_nodes(&prepared).expect("valid KDL");
        assert_eq!(block_depth(&doc), MAX_DEPTH);
        assert!(lex::prepare(&(wide.clone() + &levels(MAX_DEPTH + 1)), MAX_DEPTH).is_err());
        // A string's closing braces cannot hide the levels after it.
        let hidden = format!(
            "{}x \"{}\"\n{}",
            "a{".repeat(40),
            "}".repeat(40),
            "b{".repeat(40)
        );
        assert!(lex::prepare(&hidden, MAX_DEPTH).is_err());
    }

    #[test]
    fn nested_slashdashed_blocks_are_bounded() {
        use lex::MAX_SLASHDASHED_BLOCKS as MAX;
        // The parser's work doubles with each slashdashed block around another (the fuzzer's
        // 265-byte `a /-{ itr /-{ ...` took 12 s); past the bound the pre-pass refuses.
        let nested = |n: usize| format!("{}{}", "a /-{ ".repeat(n), "}".repeat(n));
        let prepared = lex::prepare(&nested(MAX), MAX_DEPTH).expect("within the bound");
        parse_nodes(&prepared).expect("valid KDL");
        let d = err(&nested(MAX + 1));
        assert!(d.message.contains("slashdashed"), "{}", d.message);
        assert_eq!(
            d.primary_span().map(|s| s.offset),
            Some("a /-{ ".len() * MAX + "a /-".len())
        );
        // Unclosed, on a line of its own after `/-`, and with ordinary blocks in between: the
        // same count. Siblings do not add up; a closed block no longer counts.
        for text in [
            "a /-{ ".repeat(MAX + 1),
            "a /-\n{ ".repeat(MAX + 1),
            "a /-{ b { ".repeat(MAX + 1),
        ] {
            assert!(lex::prepare(&text, MAX_DEPTH).is_err(), "{text:?}");
        }
        let siblings = format!("a {{ {} }}", "b /-{ c /-{ d } }\n".repeat(50));
        lex::prepare(&siblings, MAX_DEPTH).expect("siblings are not nested");
        let closed = format!("{}{}", "a /-{ }\n".repeat(20), nested(MAX));
        lex::prepare(&closed, MAX_DEPTH).expect("closed blocks are gone");
    }

    #[test]
    fn inputs_that_overflowed_the_parser_are_diagnostics() {
        // Each of these aborted `netc check` with a stack overflow (issue 11, item 1).
        let many = |s: &str, n: usize| s.repeat(n);
        for text in [
            format!("\"\"\"{}", many("a{", 2000)),
            format!("#\"{}", many("a{", 2000)),
            format!("#\"\"\"{}", many("a{", 2000)),
            format!("r#\"{}", many("a{", 2000)),
            format!("x \"a\\u{{{}", many("a{", 2000)),
            format!("##\"abc\"#{}", many("a{", 2000)),
            format!("x \"\"\"\nabc\n\"\"{}", many("a{", 2000)),
            many("}", 100_000),
            many("a{}", 100_000),
            format!("/*{}*/", many("*", 100_000)),
            format!("/*{}*/", many("/ ", 100_000)),
            many(")", 100_000),
        ] {
            let d = err(&text);
            assert_eq!(d.code, code::PARSE);
            let span = d.primary_span().expect("labelled");
            assert!(span.offset + span.len <= text.len());
        }
    }

    #[test]
    fn comments_cost_linear_time_and_errors_point_into_the_original() {
        let comments =
            "// a comment line with { braces } and /* stars */\n/* a ** block / comment */\n"
                .repeat(20_000);
        let text = comments.clone() + MINIMAL;
        let start = std::time::Instant::now();
        let intent = parse(&text).expect("loads");
        assert!(
            start.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(text_at(&text, intent.metadata.name.span), "demo");
        let bad = comments + &MINIMAL.replace("mtu=1500", "mtu=\"big\"");
        let d = err(&bad);
        assert_eq!(
            text_at(&bad, d.primary_span().expect("labelled")),
            "\"big\""
        );
    }

    #[test]
    fn fit_keeps_spans_inside_and_on_boundaries() {
        assert_eq!(fit(Span::new(10, 5), "abc"), Span::new(2, 1));
        assert_eq!(fit(Span::new(1, 0), "abc"), Span::new(1, 1));
        assert_eq!(fit(Span::new(1, 1), "\u{e9}x"), Span::new(0, 2));
        assert_eq!(fit(Span::new(0, 0), ""), Span::new(0, 0));
    }
}
