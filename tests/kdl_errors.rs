//! KDL errors in the user's words (issue 16 item 5, the KDL half): every error message the KDL
//! front-end gives for a corpus of mistakes (the KDL examples mutated line by line, the fuzz
//! seeds, crafted inputs) speaks of the file, not of the `kdl` crate, serde or Rust types; and
//! each is labelled inside the text, at the line of the mistake.

use std::collections::BTreeSet;
use std::path::Path;

use netc::diagnostic::{Diag, SourceFile, code};
use netc::intent::{Syntax, parse_all};

/// The parse errors of `text` (the parse stage alone: the corpus is large).
fn check(text: &str) -> (SourceFile, Vec<Diag>) {
    let src = SourceFile::new("intent.kdl", text);
    let diags = parse_all(&src, Syntax::Kdl).err().unwrap_or_default();
    (src, diags)
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The KDL examples (between them every section of the intent).
fn corpus() -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kdl"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable"))
        .collect()
}

/// The fuzz seeds of the KDL target (inputs that once crashed or misbehaved).
fn seeds() -> Vec<String> {
    let dir = repo().join("fuzz/seeds/kdl");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| std::fs::read(e.ok()?.path()).ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .collect();
    out.sort();
    out
}

/// Values a hand may leave in a KDL file: broken syntax, KDL v1 habits, wrong types.
const VALUES: &[&str] = &[
    "\"open",
    "{",
    "}",
    "(",
    "1.5",
    "-1",
    "99999999999999999999999999999999999999999",
    "true",
    "#true",
    "null",
    "#null",
    "#inf",
    "#nan",
    "0x1F",
    "1e400",
    "r\"raw\"",
    "#\"raw\"#",
    "\"\"\"\nmulti\n\"\"\"",
    "a=b",
    "=",
    ";",
    "\\",
    "/-",
    "/*",
    "x y z",
    "(u8)300",
    "\"\\q\"",
    "\u{0}",
    "\u{feff}",
    "[1, 2]",
    "x:y",
];

/// Whether a mistake of value `v` belongs on its own line: one token, changing no structure
/// (no braces, `;`, comments, continuations or multi-line strings).
fn placed(v: &str) -> bool {
    !v.contains(['{', '}', ';', '\\', '/', '"', '\n', '=', '('])
}

/// Each line duplicated, dropped, cut in half; its first property value and its last word
/// replaced by a share of [`VALUES`] (each value on every sixth line: the KDL reader of a
/// debug build is slow enough that all of them everywhere takes minutes).
fn mutations(text: &str) -> Vec<(String, Option<usize>)> {
    let lines: Vec<&str> = text.lines().collect();
    let join = |ls: &[String]| ls.join("\n") + "\n";
    let mut out = Vec::new();
    for i in 0..lines.len() {
        let owned: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
        let mut dup = owned.clone();
        dup.insert(i, owned[i].clone());
        out.push((join(&dup), None));
        let mut drop = owned.clone();
        drop.remove(i);
        out.push((join(&drop), None));
        let mut cut = owned.clone();
        let half = owned[i]
            .char_indices()
            .nth(owned[i].chars().count() / 2)
            .map_or(0, |(b, _)| b);
        cut[i] = owned[i][..half].to_owned();
        out.push((join(&cut), None));
        // The value of the first property, and the node's last word.
        if let Some(eq) = owned[i].find('=') {
            let end = owned[i][eq + 1..]
                .find([' ', '{', ';'])
                .map_or(owned[i].len(), |e| eq + 1 + e);
            for v in VALUES.iter().skip(i % 6).step_by(6) {
                let mut m = owned.clone();
                m[i] = format!("{}={v}{}", &owned[i][..eq], &owned[i][end..]);
                out.push((join(&m), placed(v).then_some(i + 1)));
            }
        }
        if let Some(sp) = owned[i].trim_end().rfind(' ') {
            for v in VALUES.iter().skip((i + 3) % 6).step_by(6) {
                let mut m = owned.clone();
                m[i] = format!("{} {v}", &owned[i][..sp]);
                out.push((join(&m), placed(v).then_some(i + 1)));
            }
        }
    }
    out
}

/// Words of the KDL library, of serde and of Rust, never of the user's file.
const JARGON: &[&str] = &[
    "serde",
    "kdl::",
    "Kdl",
    "winnow",
    "miette",
    "deserializ",
    "newtype",
    "struct ",
    "enum ",
    "Spanned",
    "__yaml",
    "netc_offset",
    "netc_len",
    "u8",
    "u16",
    "u32",
    "u64",
    "i64",
    "i128",
    "f64",
    "unit value",
    "ErrMode",
    "Backtrack",
    "Cut",
    "a map value was read",
    "a spanned value",
    "this is a bug",
    "identifier string",
    "value terminator",
    "partially parsed",
    "not closed",
];

#[test]
fn no_kdl_error_speaks_the_library_s_language() {
    let mut messages = BTreeSet::new();
    let mut inputs: Vec<(String, Option<usize>)> = seeds().into_iter().map(|s| (s, None)).collect();
    for text in corpus() {
        inputs.extend(mutations(&text));
    }
    for (text, line) in &inputs {
        let (src, diags) = check(text);
        for d in diags.iter().filter(|d| d.code == code::PARSE) {
            // Labelled inside the text, on character boundaries.
            for l in &d.labels {
                assert!(
                    l.span.offset + l.span.len <= src.text.len(),
                    "{text:?}: {d:?}"
                );
                assert!(src.text.is_char_boundary(l.span.offset), "{text:?}: {d:?}");
            }
            // A wrong value on one line is reported on that line (a missing key is reported
            // at the map that lacks it; a syntax error may be noticed further on).
            if let (Some(line), Some(span)) = (line, d.primary_span())
                && !d.message.starts_with("malformed KDL")
                && !d.message.contains("lacks the required")
            {
                assert_eq!(
                    src.line_of(span),
                    *line,
                    "`{}` is not on the edited line:\n{text}",
                    d.message
                );
            }
            let shape = d
                .message
                .split('`')
                .step_by(2)
                .collect::<Vec<_>>()
                .join("`…`");
            let labels: Vec<&str> = d.labels.iter().map(|l| l.text.as_str()).collect();
            messages.insert(format!(
                "{shape} || {} || {}",
                labels.join(" | "),
                d.help.as_deref().unwrap_or("")
            ));
        }
    }
    // NETC_PRINT_MESSAGES=FILE writes every distinct message there, to review them.
    if let Some(path) = std::env::var_os("NETC_PRINT_MESSAGES") {
        let all: Vec<&str> = messages.iter().map(String::as_str).collect();
        std::fs::write(path, all.join("\n") + "\n").expect("writable");
    }
    let bad: Vec<&String> = messages
        .iter()
        .filter(|m| JARGON.iter().any(|j| m.contains(j)))
        .collect();
    assert!(
        bad.is_empty(),
        "{} KDL messages with library jargon:\n{bad:#?}",
        bad.len()
    );
}
