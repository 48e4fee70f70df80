//! YAML syntax errors in the user's words (issue 16 item 5): a tab in indentation is named at
//! its own line and column, a duplicate key with both lines; and no parse error the corpus
//! can produce speaks the parser library's language.

use std::collections::BTreeSet;

use netc::diagnostic::{Diag, SourceFile, code};
use netc::intent::Syntax;
use netc::pipeline;

fn check(text: &str) -> (SourceFile, Vec<Diag>) {
    let src = SourceFile::new("intent.yaml", text);
    let checked = pipeline::check(&src, Syntax::Yaml);
    (src, checked.diagnostics)
}

/// The corpus: the diagnostics base and the examples that between them use every section
/// of the intent (fleet, manual paths, dual-stack, kube-proxy tuning, policies, workloads).
fn corpus() -> Vec<String> {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    [
        "tests/invalid/base.yaml",
        "examples/kubeadm-calico-overlay.yaml",
        "examples/rke2-canal.yaml",
        "examples/k3s-dual-stack-tuned.yaml",
        "examples/hard-way-manual-flannel.yaml",
        "examples/kubeadm-flannel-fleet.yaml",
    ]
    .iter()
    .map(|p| std::fs::read_to_string(repo.join(p)).expect("corpus file"))
    .collect()
}

/// What a user's hand does to a file: each line duplicated, dropped, tab-indented, its value
/// replaced by a broken or mistyped one.
fn mutations(text: &str) -> Vec<String> {
    const VALUES: &[&str] = &[
        "[",
        "{",
        "\"open",
        "'open",
        "&a",
        "*nowhere",
        "!!int x",
        "- x",
        "x: y: z",
        "99999999999",
        "-1",
        "1.5",
        "true",
        "~",
        "{a: 1, a: 2}",
        "[1, 2",
        "|",
        ">",
        "@x",
        "`x`",
        "%x",
        "? x",
        "a\tb",
        "\u{0}",
        "0x1F",
        "1e400",
        "[[[[",
        "}",
    ];
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let join = |ls: &[String]| ls.join("\n") + "\n";
    for i in 0..lines.len() {
        let owned: Vec<String> = lines.iter().map(|s| (*s).to_owned()).collect();
        let mut dup = owned.clone();
        dup.insert(i, owned[i].clone());
        out.push(join(&dup));
        let mut drop = owned.clone();
        drop.remove(i);
        out.push(join(&drop));
        let mut tab = owned.clone();
        tab[i] = format!("\t{}", owned[i].trim_start());
        out.push(join(&tab));
        let mut tab2 = owned.clone();
        tab2[i] = owned[i].replacen("  ", "\t", 1);
        out.push(join(&tab2));
        if let Some((k, _)) = owned[i].split_once(": ") {
            for v in VALUES {
                let mut m = owned.clone();
                m[i] = format!("{k}: {v}");
                out.push(join(&m));
            }
        }
    }
    out
}

/// Words of the parser library and of serde, never of the user's file.
const JARGON: &[&str] = &[
    "DuplicateKeyPolicy",
    "Options",
    "serde",
    "saphyr",
    "Budget",
    "budget",
    "deserializ",
    "newtype",
    "struct ",
    "Spanned",
    "__yaml",
    "netc_offset",
    "u8",
    "u16",
    "u32",
    "u64",
    "i64",
    "f64",
    "enum ",
];

#[test]
fn no_parse_error_speaks_the_library_s_language() {
    let mut messages = BTreeSet::new();
    for text in corpus() {
        for m in mutations(&text) {
            let (_, diags) = check(&m);
            for d in diags.iter().filter(|d| d.code == code::PARSE) {
                let shape = d
                    .message
                    .split('`')
                    .step_by(2)
                    .collect::<Vec<_>>()
                    .join("`…`");
                messages.insert(format!("{shape} || {}", d.help.as_deref().unwrap_or("")));
            }
        }
    }
    let bad: Vec<&String> = messages
        .iter()
        .filter(|m| JARGON.iter().any(|j| m.contains(j)))
        .collect();
    if std::env::var_os("NETC_PRINT_MESSAGES").is_some() {
        for m in &messages {
            eprintln!("{m}");
        }
    }
    assert!(
        bad.is_empty(),
        "{} messages with library jargon:\n{bad:#?}",
        bad.len()
    );
}

#[test]
fn a_tab_in_indentation_is_named_at_its_own_line_and_column() {
    let base = include_str!("invalid/base.yaml");
    for (from, to, line) in [
        ("  distribution: kubeadm", "\tdistribution: kubeadm", 7),
        (
            "  serviceCIDR: 10.96.0.0/12",
            "\tserviceCIDR: 10.96.0.0/12",
            10,
        ),
        ("    role: control-plane", "  \trole: control-plane", 24),
        ("  - {name: worker-1", "\t- {name: worker-1", 28),
    ] {
        assert_eq!(base.matches(from).count(), 1, "{from}");
        let (src, diags) = check(&base.replacen(from, to, 1));
        assert_eq!(diags.len(), 1, "{to:?}: {diags:#?}");
        let d = &diags[0];
        assert_eq!(d.code, code::PARSE);
        assert!(
            d.message
                .starts_with("tabs are not allowed for indentation in YAML"),
            "{to:?}: {}",
            d.message
        );
        let at = d.primary_span().expect("labelled");
        assert_eq!(&src.text[at.offset..at.offset + at.len], "\t", "{to:?}");
        assert_eq!(src.line_of(at), line, "{to:?}: {}", d.message);
    }
}

#[test]
fn a_duplicate_key_names_both_lines() {
    let base = include_str!("invalid/base.yaml");
    // Top level, nested block map, list item, flow map.
    for (from, to, key, lines) in [
        (
            "metadata: {name: kubeadm-flannel}\n",
            "metadata: {name: kubeadm-flannel}\nmetadata: {name: other}\n",
            "metadata",
            (5, 6),
        ),
        (
            "  dnsDomain: cluster.local\n",
            "  dnsDomain: cluster.local\n  podCIDR: 10.1.0.0/16\n",
            "podCIDR",
            (9, 13),
        ),
        (
            "    role: control-plane\n",
            "    role: control-plane\n    name: cp-2\n",
            "name",
            (23, 25),
        ),
        (
            "{name: worker-1, role: worker,",
            "{name: worker-1, role: worker, name: w,",
            "name",
            (28, 28),
        ),
    ] {
        let (src, diags) = check(&base.replacen(from, to, 1));
        assert_eq!(diags.len(), 1, "{to:?}: {diags:#?}");
        let d = &diags[0];
        let expected = if lines.0 == lines.1 {
            format!("`{key}` is set twice on line {}", lines.0)
        } else {
            format!("`{key}` is set twice: lines {} and {}", lines.0, lines.1)
        };
        assert_eq!(d.message, expected);
        assert_eq!(d.labels.len(), 2, "{d:#?}");
        for (label, line) in d.labels.iter().zip([lines.1, lines.0]) {
            assert_eq!(src.line_of(label.span), line, "{d:#?}");
            assert_eq!(
                &src.text[label.span.offset..label.span.offset + label.span.len],
                key
            );
        }
        assert!(!d.help.as_deref().unwrap_or("").contains("Options"));
    }
}
