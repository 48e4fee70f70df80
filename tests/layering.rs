//! The pipeline's layering, checked on the source (issue 18): the pure layers (`intent`,
//! `plan`, `validate`, `emit`, `explain`) never import the I/O layers (`apply`, `output`,
//! `cli`), the layers before `emit` (`intent`, `plan`, `validate` and the `explain` it calls)
//! never import `emit`, and the port numbers and names `plan` owns appear nowhere else as
//! literals.

use std::path::{Path, PathBuf};

const PURE: &[&str] = &["intent", "plan", "validate", "emit", "explain"];
const IO: &[&str] = &["apply", "output", "cli"];
/// The layers `emit` reads from: a fact they share with `emit` (an artifact's path, the
/// longest node name a file name takes) lives in `plan`, which both read. `validate` calls
/// `explain`, so `explain` is one of them.
const BEFORE_EMIT: &[&str] = &["intent", "plan", "validate", "explain"];

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

/// The module of `targets` a line of code names through a crate path, if any: `crate::apply`,
/// `netc::output`, `crate::{cli, ...}` or a `super::` chain that climbs to the crate root.
fn import_of(line: &str, depth: usize, targets: &[&'static str]) -> Option<&'static str> {
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
            for m in targets {
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

/// The I/O module a line of code names, if any.
fn io_import(line: &str, depth: usize) -> Option<&'static str> {
    import_of(line, depth, IO)
}

/// Every line of the files under `layers` that imports one of `targets`, as
/// `src/FILE:LINE: imports M: CODE`.
fn imports(layers: &[&str], targets: &[&'static str]) -> Vec<String> {
    let mut found = Vec::new();
    for layer in layers {
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
                if let Some(m) = import_of(line, depth, targets) {
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
    found
}

#[test]
fn pure_layers_never_import_the_io_layers() {
    let found = imports(PURE, IO);
    assert!(
        found.is_empty(),
        "the pure layers ({}) import the I/O layers ({}); move the shared fact into `plan`:\n{}",
        PURE.join(", "),
        IO.join(", "),
        found.join("\n")
    );
}

/// Issue 18 item 6: `validate` read artifact paths from `emit` (`emit::MAX_NODE_NAME_IN_FILE_NAME`,
/// `emit::shared_beside_node_dirs`, `emit::distribution`); they are `plan`'s now.
#[test]
fn the_layers_before_emit_never_import_emit() {
    let found = imports(BEFORE_EMIT, &["emit"]);
    assert!(
        found.is_empty(),
        "the layers before emit ({}) import emit; move the shared fact into `plan`:\n{}",
        BEFORE_EMIT.join(", "),
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
    let emit = &["emit"];
    assert_eq!(
        import_of("use crate::emit::MAX_NODE_NAME_IN_FILE_NAME;", 1, emit),
        Some("emit")
    );
    assert_eq!(
        import_of(
            "    let s = crate::emit::shared_beside_node_dirs(d);",
            1,
            emit
        ),
        Some("emit")
    );
    assert_eq!(
        import_of("use super::super::emit::x;", 2, emit),
        Some("emit")
    );
    assert_eq!(import_of("use crate::emitter::x;", 1, emit), None);
    assert_eq!(import_of("use crate::plan::artifacts;", 1, emit), None);
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
    ("262144", true, "plan::fleet::ANNOTATIONS_MAX_BYTES"),
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

/// The module path below `apply` of a file under `src/apply`: `host/files.rs` → `host::files`,
/// `diff/mod.rs` → `diff`, `mod.rs` → the root (empty).
fn apply_module(path: &Path, apply: &Path) -> Vec<String> {
    let rel = path.strip_prefix(apply).expect("under apply");
    let mut parts: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// The paths a line of code names below `apply`, from the file of module `me`: through
/// `crate::apply::`, `super::` (the parent of `me`) or `self::` (`me`), with a brace group's
/// items each a path.
fn apply_paths(line: &str, me: &[String]) -> Vec<Vec<String>> {
    let ident = |s: &str| -> usize {
        s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(s.len())
    };
    let parent = &me[..me.len().saturating_sub(1)];
    let mut out = Vec::new();
    let code = code(line);
    let mut rest = code;
    while let Some(i) = rest.find(['c', 's']) {
        let at = &rest[i..];
        let boundary =
            i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':');
        let (base, after): (Vec<String>, &str) = if !boundary {
            (Vec::new(), "")
        } else if let Some(a) = at.strip_prefix("crate::apply::") {
            (Vec::new(), a)
        } else if let Some(a) = at.strip_prefix("super::") {
            (parent.to_vec(), a)
        } else if let Some(a) = at.strip_prefix("self::") {
            (me.to_vec(), a)
        } else {
            (Vec::new(), "")
        };
        if after.is_empty() {
            rest = &at[1..];
            continue;
        }
        let mut path = base;
        let mut tail = after;
        loop {
            let n = ident(tail);
            if n == 0 {
                break;
            }
            path.push(tail[..n].to_owned());
            tail = &tail[n..];
            match tail.strip_prefix("::") {
                Some(t) => tail = t,
                None => break,
            }
        }
        if let Some(group) = tail.strip_prefix('{') {
            for item in group.split(['}', ',']) {
                let item = item.trim();
                let n = ident(item);
                if n > 0 {
                    let mut p = path.clone();
                    p.push(item[..n].to_owned());
                    out.push(p);
                }
            }
        }
        out.push(path);
        rest = tail;
    }
    out
}

/// Issue 18 item 13: no import cycle between the files of `apply/`. What every file takes from
/// `apply`'s root (`ApplyError`, the options, the pass) is the facade's, not an edge.
#[test]
fn apply_files_import_no_cycle() {
    let apply = src().join("apply");
    let mut files = Vec::new();
    rust_files(&apply, &mut files);
    let modules: Vec<Vec<String>> = files.iter().map(|f| apply_module(f, &apply)).collect();
    let resolve = |path: &[String]| -> Option<usize> {
        (1..=path.len())
            .rev()
            .find_map(|n| modules.iter().position(|m| m.as_slice() == &path[..n]))
    };
    let mut edges: Vec<std::collections::BTreeSet<usize>> = vec![Default::default(); files.len()];
    for (i, file) in files.iter().enumerate() {
        let text = std::fs::read_to_string(file).expect("source");
        let text = text.split("#[cfg(test)]").next().unwrap_or("");
        for line in text.lines() {
            for path in apply_paths(line, &modules[i]) {
                if let Some(j) = resolve(&path)
                    && j != i
                {
                    edges[i].insert(j);
                }
            }
        }
    }
    // Depth-first search; a back edge is a cycle, reported as its files.
    fn visit(
        v: usize,
        edges: &[std::collections::BTreeSet<usize>],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[v] = 1;
        stack.push(v);
        for &w in &edges[v] {
            if state[w] == 1 {
                let from = stack.iter().position(|&s| s == w).unwrap_or(0);
                return Some(stack[from..].to_vec());
            }
            if state[w] == 0
                && let Some(cycle) = visit(w, edges, state, stack)
            {
                return Some(cycle);
            }
        }
        stack.pop();
        state[v] = 2;
        None
    }
    let mut state = vec![0u8; files.len()];
    for v in 0..files.len() {
        if state[v] == 0
            && let Some(cycle) = visit(v, &edges, &mut state, &mut Vec::new())
        {
            let names: Vec<String> = cycle
                .iter()
                .map(|&i| format!("apply::{}", modules[i].join("::")))
                .collect();
            panic!("import cycle between apply/ files: {}", names.join(" -> "));
        }
    }
    // The check sees edges at all (a file the pass reads imports another).
    let of = |m: &[&str]| {
        modules
            .iter()
            .position(|x| x.iter().map(String::as_str).eq(m.iter().copied()))
            .expect("module")
    };
    assert!(edges[of(&["diff"])].contains(&of(&["record"])));
    assert!(edges[of(&["store", "state"])].contains(&of(&["host", "files"])));
}

#[test]
fn apply_paths_reads_crate_super_and_groups() {
    let me: Vec<String> = vec!["store".into(), "state".into()];
    assert_eq!(
        apply_paths("use crate::apply::host::files;", &me),
        [vec!["host".to_owned(), "files".to_owned()]]
    );
    let p = apply_paths("use super::{cache, pending};", &me);
    assert!(
        p.contains(&vec!["store".to_owned(), "cache".to_owned()]),
        "{p:?}"
    );
    assert!(apply_paths("// see crate::apply::diff", &me).is_empty());
}

/// Function lengths in `plan/` and `apply/`: from a line opening `fn` to the line closing its body (the
/// first line back at the opening's indentation that is `}`).
fn long_functions(text: &str, limit: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "pub(super) fn ",
            "const fn ",
            "pub const fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if !is_fn || trimmed.ends_with(';') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        let close = format!("{}}}", " ".repeat(indent));
        let Some(end) = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with(&close) && l.trim() == "}")
        else {
            continue;
        };
        let len = end + 2;
        if len > limit {
            let name = trimmed
                .split("fn ")
                .nth(1)
                .and_then(|r| r.split(['(', '<']).next())
                .unwrap_or("?")
                .to_owned();
            out.push((i + 1, name, len));
        }
    }
    out
}

#[test]
fn no_function_in_plan_or_apply_is_over_120_lines() {
    const LIMIT: usize = 120;
    let mut files = Vec::new();
    rust_files(&src().join("plan"), &mut files);
    rust_files(&src().join("apply"), &mut files);
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source");
        for (line, name, len) in long_functions(&text, LIMIT) {
            let rel = file.strip_prefix(src()).expect("under src");
            found.push(format!(
                "src/{}:{line}: fn {name} is {len} lines",
                rel.display()
            ));
        }
    }
    assert!(
        found.is_empty(),
        "functions in plan/ or apply/ over {LIMIT} lines:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_length_check_measures_a_function() {
    let text =
        "fn a() {\n    let x = 1;\n}\n\n    pub fn b() {\n        if x {\n        }\n    }\n";
    assert_eq!(
        long_functions(text, 2),
        vec![(1, "a".to_owned(), 3), (5, "b".to_owned(), 4)]
    );
    assert!(long_functions(text, 4).is_empty());
}
