//! The pipeline's layering, checked on the source (issue 18): the pure layers (`intent`,
//! `plan`, `validate`, `emit`, `explain`) never import the I/O layers (`apply`, `output`,
//! `cli`).

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
