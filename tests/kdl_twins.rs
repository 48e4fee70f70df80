//! Every `examples/X.kdl` is a twin of `examples/X.yaml`: both load to the same intent.
//! And KDL mistakes are one `netc::parse` diagnostic at the right line.

use std::fs;
use std::path::{Path, PathBuf};

use netc::diagnostic::{Diag, SourceFile, code};
use netc::intent::{NetworkIntent, Syntax, parse};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn load(path: &Path) -> Result<NetworkIntent, Box<Diag>> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let src = SourceFile::new(path.display().to_string(), text);
    parse(&src, Syntax::from_path(&path.display().to_string()))
}

fn kdl_twins() -> Vec<PathBuf> {
    let mut twins: Vec<PathBuf> = fs::read_dir(examples())
        .expect("examples/ is readable")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "kdl"))
        .collect();
    twins.sort();
    twins
}

#[test]
fn every_kdl_example_equals_its_yaml_twin() {
    let twins = kdl_twins();
    assert!(!twins.is_empty(), "no .kdl example in examples/");
    for kdl in twins {
        let yaml = kdl.with_extension("yaml");
        assert!(
            yaml.exists(),
            "{} has no YAML twin {}",
            kdl.display(),
            yaml.display()
        );
        let from_kdl = load(&kdl).unwrap_or_else(|d| panic!("{}: {d:?}", kdl.display()));
        let from_yaml = load(&yaml).unwrap_or_else(|d| panic!("{}: {d:?}", yaml.display()));
        assert_eq!(
            from_kdl,
            from_yaml,
            "{} differs from its YAML twin",
            kdl.display()
        );
    }
}

#[test]
fn kdl_values_point_into_the_kdl_text() {
    let path = examples().join("kubeadm-flannel.kdl");
    let text = fs::read_to_string(&path).expect("readable");
    let intent = load(&path).expect("loads");
    let node = &intent.nodes[2];
    let span = node.address.span;
    assert_eq!(
        &text[span.offset..span.offset + span.len],
        "\"10.0.1.102/24\""
    );
    let src = SourceFile::new("x.kdl", text.clone());
    let line = text
        .lines()
        .position(|l| l.contains("worker-2"))
        .expect("present")
        + 1;
    assert_eq!(src.line_of(span), line);
}

/// Parses KDL text that must fail, and returns the diagnostic and the 1-based line it labels.
fn failure(text: &str) -> (Diag, usize) {
    let src = SourceFile::new("bad.kdl", text);
    let diag = match parse(&src, Syntax::Kdl) {
        Ok(_) => panic!("expected a parse error for:\n{text}"),
        Err(d) => *d,
    };
    assert_eq!(diag.code, code::PARSE, "{diag:?}");
    let span = diag
        .primary_span()
        .unwrap_or_else(|| panic!("unlabelled: {diag:?}"));
    (diag, src.line_of(span))
}

fn example_with(from: &str, to: &str) -> (String, usize) {
    let text = fs::read_to_string(examples().join("kubeadm-flannel.kdl")).expect("readable");
    assert!(text.contains(from), "example no longer contains {from:?}");
    let text = text.replacen(from, to, 1);
    let line = text.lines().position(|l| l.contains(to)).expect("present") + 1;
    (text, line)
}

#[test]
fn unknown_key_is_labelled_at_its_line_with_a_suggestion() {
    let (text, line) = example_with("vxlan port=8472", "vxlan prot=8472");
    let (diag, at) = failure(&text);
    assert_eq!(at, line, "{diag:?}");
    assert!(
        diag.message.contains("unknown field `prot`"),
        "{}",
        diag.message
    );
    assert_eq!(diag.help.as_deref(), Some("did you mean `port`?"));
}

#[test]
fn unknown_child_node_is_labelled_at_its_line() {
    let (text, line) = example_with("    dnsDomain", "    dnsDomian");
    let (diag, at) = failure(&text);
    assert_eq!(at, line, "{diag:?}");
    assert_eq!(diag.help.as_deref(), Some("did you mean `dnsDomain`?"));
}

#[test]
fn syntax_error_is_labelled_at_its_line() {
    // An unterminated property value inside the nodes block.
    let (text, line) = example_with("address=\"10.0.1.101/24\"", "address=\"10.0.1.101/24");
    let (diag, at) = failure(&text);
    assert!(
        diag.message.starts_with("malformed KDL"),
        "{}",
        diag.message
    );
    assert_eq!(at, line, "{diag:?}");

    let (text, line) = example_with("nodeCIDRMaskSize 24", "nodeCIDRMaskSize 24.");
    let (diag, at) = failure(&text);
    assert_eq!(at, line, "{diag:?}");
}

#[test]
fn wrong_type_is_labelled_at_its_line() {
    let (text, line) = example_with("nodeCIDRMaskSize 24", "nodeCIDRMaskSize \"24\"");
    let (diag, at) = failure(&text);
    assert_eq!(at, line, "{diag:?}");
    assert_eq!(
        diag.message,
        "expected a whole number from 0 to 255 here, found the string \"24\"",
    );

    let (text, line) = example_with("nodeCIDRMaskSize 24", "nodeCIDRMaskSize 300");
    let (diag, at) = failure(&text);
    assert_eq!(at, line, "{diag:?}");
}

/// `from {}` in KDL is the explicit empty list (`from: []`, every source); a bare `from` node
/// is absent (nobody), as in YAML.
#[test]
fn kdl_empty_peer_list_is_explicit_and_bare_node_is_absent() {
    let intent = |from: &str| {
        let text = format!(
            r#"apiVersion "netc/v1alpha1"
kind NetworkIntent
metadata name=x
cluster distribution=kubeadm kubernetesVersion="v1.31.2" podCIDR="10.244.0.0/16" serviceCIDR="10.96.0.0/12"
cni plugin=calico
nodes {{
    - name=cp role=control-plane address="10.0.1.1/24"
}}
policies {{
    - namespace=web {{
        rules {{
            - name=r {{
                {from}
            }}
        }}
    }}
}}
"#
        );
        let src = SourceFile::new("x.kdl", text);
        let parsed = parse(&src, Syntax::Kdl).unwrap_or_else(|d| panic!("{}", d.message));
        parsed.policies[0].rules[0].from.clone()
    };
    assert!(intent("from {}").is_everyone());
    assert!(intent("from").is_absent());
    assert!(intent("").is_absent());
}
