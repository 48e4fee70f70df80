//! The pipeline's layering, checked on the source (issue 18): the pure layers (`intent`,
//! `plan`, `validate`, `emit`, `explain`) never import the I/O layers (`apply`, `output`,
//! `cli`), and the port numbers and names `plan` owns appear nowhere else as literals.

use std::path::{Path, PathBuf};

const PURE: &[&str] = &["intent", "plan", "validate", "emit", "explain"];
const IO: &[&str] = &["apply", "output", "cli"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The code of a line: what precedes a `//` comment (a doc or plain comment may name any
/// module). A `//` inside a string literal is rare enough in `use` paths to ignore.
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

/// The I/O module a line of code names through a crate path, if any: `crate::apply`,
/// `netc::output`, `crate::{cli, ...}` or a `super::` chain that climbs to the crate root.
fn io_import(line: &str, depth: usize) -> Option<&'static str> {
    let code = code(line);
    let mut roots = vec!["crate::".to_owned(), "netc::".to_owned()];
    // `super::` repeated `depth` times from a file `depth` modules below the crate root.
    if depth > 0 {
        roots.push("super::".repeat(depth));
    }
    for root in &roots {
        let mut rest = code;
        while let Some(i) = rest.find(root.as_str()) {
            let after = &rest[i + root.len()..];
            for m in IO {
                let brace = after.strip_prefix('{').map(str::trim_start);
                let named = |s: &str| {
                    s.strip_prefix(m)
                        .is_some_and(|r| !r.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
                };
                if named(after) || brace.is_some_and(|b| b.split(',').any(|p| named(p.trim()))) {
                    return Some(m);
                }
            }
            rest = after;
        }
    }
    None
}

#[test]
fn pure_layers_never_import_the_io_layers() {
    let mut found = Vec::new();
    for layer in PURE {
        let mut files = Vec::new();
        rust_files(&src().join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} has no Rust files");
        for file in files {
            let rel = file.strip_prefix(src()).expect("under src");
            // Module depth below the crate root: `plan/mod.rs` is 1, `plan/cni/flannel.rs` 2.
            let mut depth = rel.components().count();
            if rel.file_name().is_some_and(|n| n == "mod.rs") {
                depth -= 1;
            }
            let text = std::fs::read_to_string(&file).expect("read source");
            for (n, line) in text.lines().enumerate() {
                if let Some(m) = io_import(line, depth) {
                    found.push(format!(
                        "src/{}:{}: imports {m}: {}",
                        rel.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "the pure layers ({}) import the I/O layers ({}); move the shared fact into `plan`:\n{}",
        PURE.join(", "),
        IO.join(", "),
        found.join("\n")
    );
}

#[test]
fn the_import_check_sees_every_spelling() {
    assert_eq!(io_import("use crate::apply::state;", 1), Some("apply"));
    assert_eq!(
        io_import("    crate::output::sink::Sink,", 1),
        Some("output")
    );
    assert_eq!(io_import("use crate::{cli, plan};", 1), Some("cli"));
    assert_eq!(
        io_import("use crate::{plan, apply::lock};", 1),
        Some("apply")
    );
    assert_eq!(io_import("use super::super::apply::x;", 2), Some("apply"));
    assert_eq!(
        io_import("let x = netc::output::write();", 1),
        Some("output")
    );
    assert_eq!(io_import("use super::apply_rule;", 1), None);
    assert_eq!(io_import("use crate::applyish::x;", 1), None);
    assert_eq!(io_import("// see crate::apply::state", 1), None);
    assert_eq!(io_import("use crate::plan::layout;", 1), None);
}

/// Facts `plan` owns, as literals: a number or name here outside `src/plan/` is a second copy
/// of a fact (use the constant or the plan field named beside it). `in_strings`: also inside
/// string literals (a message naming the port); DNS's 53 only in code, since `udp/53` is the
/// syntax example of many help texts.
const PLAN_LITERALS: &[(&str, bool, &str)] = &[
    (
        "6443",
        true,
        "plan::API_SERVER_PORT / Plan::api_server_port",
    ),
    ("9345", true, "plan::RKE2_SUPERVISOR_PORT"),
    (
        "4789",
        true,
        "plan::VXLAN_IANA_PORT, plan::HOST_OVERLAY_VXLAN_PORT, profile::CALICO_VXLAN_PORT",
    ),
    ("8472", true, "plan::profile::{FLANNEL,CILIUM}_VXLAN_PORT"),
    ("53", false, "plan::DNS_PORT"),
    ("cni0", true, "plan::CNI_BRIDGE, NodePlan::bridge_gateways"),
];

/// Lines outside `plan/` that may carry such a literal: data tables and examples in help
/// texts, each (file, a piece of the line).
const LITERAL_ALLOWED: &[(&str, &str)] = &[
    // The rule table's summaries are documentation (the README's table is made from them).
    ("src/diagnostic/rules.rs", "summary: "),
    // Syntax examples in help texts: how to write an endpoint or a port.
    (
        "src/validate/cluster.rs",
        "`10.0.1.100:6443` or `[fd00::1]:6443`",
    ),
    ("src/validate/ports.rs", "`udp/8472`"),
];

/// `line` without its `//` comment and, unless `keep_strings`, without string contents.
fn code_of(line: &str, keep_strings: bool) -> String {
    let mut out = String::new();
    let mut in_string = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
                if keep_strings {
                    out.push(' ');
                }
            }
            '"' => {
                in_string = !in_string;
                out.push('"');
            }
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            _ if in_string && !keep_strings => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// Whether `literal` occurs in `code` as a whole token (not inside `16443` or `cni0x`).
fn has_token(code: &str, literal: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    code.match_indices(literal)
        .any(|(i, _)| !code[..i].ends_with(word) && !code[i + literal.len()..].starts_with(word))
}

fn literal_hits(rel: &str, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        // Unit tests sit at the end of a file, after `#[cfg(test)]`: their fixtures may spell
        // the values out.
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        if LITERAL_ALLOWED
            .iter()
            .any(|(f, piece)| *f == rel && line.contains(piece))
        {
            continue;
        }
        for (literal, in_strings, instead) in PLAN_LITERALS {
            if has_token(&code_of(line, *in_strings), literal) {
                out.push(format!(
                    "{rel}:{}: `{literal}` (use {instead}): {}",
                    n + 1,
                    line.trim()
                ));
            }
        }
    }
    out
}

#[test]
fn plan_facts_appear_as_literals_only_in_plan() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = format!(
            "src/{}",
            file.strip_prefix(src()).expect("under src").display()
        );
        if rel.starts_with("src/plan/") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        found.extend(literal_hits(&rel, &text));
    }
    assert!(
        found.is_empty(),
        "facts plan owns written again outside src/plan/:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_literal_check_sees_code_and_messages_but_not_comments() {
    let hits = |text: &str| literal_hits("src/emit/x.rs", text).len();
    assert_eq!(hits("const PORT: u16 = 6443;"), 1);
    assert_eq!(hits("format!(\"https://{ip}:9345\")"), 1);
    assert_eq!(hits("let b = \"cni0\";"), 1);
    assert_eq!(hits("port: PortValue::Number(53),"), 1);
    assert_eq!(hits("// the API server on 6443"), 0);
    assert_eq!(hits("/// `cni0`, VXLAN 4789"), 0);
    assert_eq!(hits("help(\"write `udp/53`\")"), 0);
    assert_eq!(hits("let x = 16443 + 530;"), 0);
    assert_eq!(hits("#[cfg(test)]\nmod tests { const P: u16 = 6443; }"), 0);
    assert_eq!(
        literal_hits("src/validate/ports.rs", "help(\"`udp/8472`\")").len(),
        0
    );
}
