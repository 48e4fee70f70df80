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
//! the property or node name. Any error, KDL syntax or model, is one `netc::parse` diagnostic
//! labelled at the node or entry it is about.

mod de;

use ::kdl::{KdlDocument, KdlError};

use super::model::NetworkIntent;
use super::suggest::did_you_mean;
use crate::diagnostic::{Diag, code};
use crate::intent::Span;

/// Deepest `{ }` nesting accepted: twice what the model uses (policies → rules → from → peer).
/// The `kdl` parser recurses once per level with large frames: a release build overflows an
/// 8 MiB main thread at a few thousand levels (a 6 KB file of `a{`), a debug build a 2 MiB
/// test thread at about 64.
const MAX_DEPTH: usize = 16;

pub(super) fn parse(text: &str) -> Result<NetworkIntent, Box<Diag>> {
    if let Some(at) = too_deep(text) {
        return Err(Box::new(
            Diag::error(
                code::PARSE,
                format!("KDL child blocks nested more than {MAX_DEPTH} levels deep"),
            )
            .label(fit(Span::new(at, 1), text), "too deep")
            .help(
                "an intent nests a few levels: `policies { - { rules { - { from { ... } } } } }`",
            ),
        ));
    }
    let doc = KdlDocument::parse_v2(text).map_err(|e| Box::new(syntax_diag(&e, text)))?;
    debug_assert!(
        block_depth(&doc) <= MAX_DEPTH,
        "too_deep() missed a nesting the parser saw"
    );
    de::from_document(&doc, fit(Span::new(0, 1), text)).map_err(|e| Box::new(model_diag(e, text)))
}

/// Byte offset of the first `{` nested deeper than [`MAX_DEPTH`], read with KDL v2's lexical
/// rules for strings and comments, whose braces do not nest. Runs before the parser so that
/// its recursion stays bounded.
fn too_deep(text: &str) -> Option<usize> {
    // The depth never exceeds the number of `{`: most files need no scan at all.
    if text.bytes().filter(|&b| b == b'{').count() <= MAX_DEPTH {
        return None;
    }
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        let rest = text.get(i..).unwrap_or("");
        let step = match b {
            b'{' => {
                depth = depth.saturating_add(1);
                if depth > MAX_DEPTH {
                    return Some(i);
                }
                1
            }
            b'}' => {
                depth = depth.saturating_sub(1);
                1
            }
            _ if rest.starts_with("//") => rest.find(is_newline).unwrap_or(rest.len()),
            _ if rest.starts_with("/*") => block_comment_len(rest),
            b'"' | b'#' => string_len(rest),
            _ => 1,
        };
        i = i.saturating_add(step.max(1));
    }
    None
}

/// KDL v2 newlines: a single-line string or a `//` comment ends at any of them.
fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// Length of a (nestable) `/* */` comment at the start of `rest`, or all of it if unclosed.
fn block_comment_len(rest: &str) -> usize {
    let mut open = 0usize;
    let mut j = 0usize;
    while let Some(tail) = rest.get(j..).filter(|t| !t.is_empty()) {
        if tail.starts_with("/*") {
            open = open.saturating_add(1);
            j = j.saturating_add(2);
        } else if tail.starts_with("*/") {
            open = open.saturating_sub(1);
            j = j.saturating_add(2);
            if open == 0 {
                return j;
            }
        } else {
            j = j.saturating_add(tail.chars().next().map_or(1, char::len_utf8));
        }
    }
    rest.len()
}

/// Length of the string or `#` keyword at the start of `rest`: quoted `"..."`, multi-line
/// `"""..."""`, raw `#"..."#` (any number of `#`, single- or multi-line). A single-line
/// string ends at a newline even when unterminated, as the parser's error recovery does.
fn string_len(rest: &str) -> usize {
    let hashes = rest.bytes().take_while(|&b| b == b'#').count();
    let Some(body) = rest.get(hashes..).filter(|b| b.starts_with('"')) else {
        return hashes.max(1);
    };
    let fence = "#".repeat(hashes);
    let multi = body.starts_with("\"\"\"");
    let (open, close) = if multi {
        (3, format!("\"\"\"{fence}"))
    } else {
        (1, format!("\"{fence}"))
    };
    let mut j = open;
    while let Some(tail) = body.get(j..).filter(|t| !t.is_empty()) {
        if tail.starts_with(close.as_str()) {
            return hashes.saturating_add(j).saturating_add(close.len());
        }
        let c = tail.chars().next().unwrap_or('\0');
        if !multi && is_newline(c) {
            return hashes.saturating_add(j);
        }
        j = j.saturating_add(c.len_utf8());
        if c == '\\' && hashes == 0 {
            // An escape: `\` and whitespace (newlines too) is one escape, else one character.
            let ws: usize = body
                .get(j..)
                .unwrap_or("")
                .chars()
                .take_while(|c| c.is_whitespace())
                .map(char::len_utf8)
                .sum();
            j = j.saturating_add(if ws > 0 {
                ws
            } else {
                body.get(j..)
                    .and_then(|t| t.chars().next())
                    .map_or(1, char::len_utf8)
            });
        }
    }
    rest.len()
}

/// Nesting depth of children blocks in a parsed document (checks [`too_deep`] in debug builds).
fn block_depth(doc: &KdlDocument) -> usize {
    doc.nodes()
        .iter()
        .filter_map(|n| n.children())
        .map(|c| block_depth(c).saturating_add(1))
        .max()
        .unwrap_or(0)
}

fn syntax_diag(err: &KdlError, text: &str) -> Diag {
    let first = err.diagnostics.first();
    let detail = first
        .and_then(|d| d.message.clone())
        .unwrap_or_else(|| "unexpected input".to_owned());
    let mut message = format!("malformed KDL: {detail}");
    let more = err.diagnostics.len().saturating_sub(1);
    if more > 0 {
        message.push_str(&format!(" (and {more} more KDL error(s) after it)"));
    }
    let span = first.map_or(Span::new(0, 1), |d| {
        Span::new(d.span.offset(), d.span.len())
    });
    let label = first
        .and_then(|d| d.label.clone())
        .unwrap_or_else(|| "here".to_owned());
    let help = first.and_then(|d| d.help.clone()).unwrap_or_else(|| {
        "netc reads KDL v2: quote strings that are not plain words (\"10.0.0.0/8\"), \
         booleans are #true/#false"
            .to_owned()
    });
    Diag::error(code::PARSE, message)
        .label(fit(span, text), label)
        .help(help)
}

fn model_diag(err: de::Error, text: &str) -> Diag {
    let help = match did_you_mean(&err.message) {
        Some(s) => format!("did you mean `{s}`?"),
        None => "see `netc schema` for the keys and types an intent takes".to_owned(),
    };
    let span = fit(err.span.unwrap_or(Span::new(0, 1)), text);
    Diag::error(code::PARSE, err.message)
        .label(span, "here")
        .help(help)
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
            Err(d) => *d,
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
        assert!(d.message.contains("invalid type"), "{}", d.message);
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
        assert!(d.message.contains("missing field `name`"), "{}", d.message);
        let span = d.primary_span().expect("labelled");
        assert_eq!(span.offset, text.find("- role").expect("present"));
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
        let noise =
            "s \"{{{\" #\"{\\\"}\"# \"\"\"\n}}\\\"\"\"\n\"\"\"\n// {{{\n/* { /* } */ { */\n";
        let wide = noise.repeat(MAX_DEPTH);
        assert_eq!(too_deep(&wide), None);
        let levels = |n: usize| format!("{}{}", "a{".repeat(n), "}".repeat(n));
        assert_eq!(too_deep(&(wide.clone() + &levels(MAX_DEPTH))), None);
        // ... and the parser agrees that the noise is strings and comments.
        let doc = KdlDocument::parse_v2(&(wide.clone() + &levels(MAX_DEPTH))).expect("valid KDL");
        assert_eq!(block_depth(&doc), MAX_DEPTH);
        assert!(too_deep(&(wide.clone() + &levels(MAX_DEPTH + 1))).is_some());
        // A string's closing braces cannot hide the levels after it.
        let hidden = format!(
            "{}x \"{}\"\n{}",
            "a{".repeat(40),
            "}".repeat(40),
            "b{".repeat(40)
        );
        assert!(too_deep(&hidden).is_some());
        // An unterminated single-line string ends at the newline: the braces after it count.
        let unterminated = format!("x \"abc\n{}", "a{".repeat(MAX_DEPTH + 1));
        assert!(too_deep(&unterminated).is_some());
        // So do braces after a `//` comment ended by a Unicode line separator.
        let separator = format!("// c\u{2028}{}", "a{".repeat(MAX_DEPTH + 1));
        assert!(too_deep(&separator).is_some());
        assert_eq!(
            block_depth(&KdlDocument::parse_v2(&levels(5)).expect("valid")),
            5
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
