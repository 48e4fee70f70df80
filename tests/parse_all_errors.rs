//! Every mistake in one run (issue 16 item 6): unknown keys, bad enum values and wrong types in
//! different places of one file are all reported by one `check`, at their own lines, in YAML
//! and in its KDL twin; values the readers take are not flagged beside a real mistake; a file
//! that does not parse gets no semantic findings.

use netc::diagnostic::{Diag, SourceFile, code};
use netc::intent::Syntax;
use netc::pipeline;

const YAML: &str = include_str!("../examples/kubeadm-flannel.yaml");
const KDL: &str = include_str!("../examples/kubeadm-flannel.kdl");

/// `text` with each `(from, to)` replaced; `from` must occur exactly once.
fn edit(text: &str, edits: &[(&str, &str)]) -> String {
    let mut text = text.to_owned();
    for (from, to) in edits {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must occur once");
        text = text.replacen(from, to, 1);
    }
    text
}

fn check(text: &str, syntax: Syntax) -> (SourceFile, Vec<Diag>) {
    let name = match syntax {
        Syntax::Yaml => "intent.yaml",
        Syntax::Kdl => "intent.kdl",
    };
    let src = SourceFile::new(name, text);
    let checked = pipeline::check(&src, syntax);
    (src, checked.diagnostics)
}

/// Each finding as (line of its primary label, labelled text, message).
fn listing(src: &SourceFile, diags: &[Diag]) -> Vec<(usize, String, String)> {
    diags
        .iter()
        .map(|d| {
            let span = d.primary_span().expect("labelled");
            let text = src
                .text
                .get(span.offset..span.offset + span.len)
                .unwrap_or("")
                .to_owned();
            (src.line_of(span), text, d.message.clone())
        })
        .collect()
}

/// The 1-based line of the only occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    assert_eq!(
        text.matches(needle).count(),
        1,
        "`{needle}` must occur once"
    );
    let at = text.find(needle).expect("present");
    text[..at].matches('\n').count() + 1
}

/// Asserts that `diags` are exactly the expected mistakes, in the order of the text: each
/// `(line text, labelled text, words of the message)`.
fn assert_findings(text: &str, syntax: Syntax, expected: &[(&str, &str, &str)]) {
    let (src, diags) = check(text, syntax);
    let found = listing(&src, &diags);
    assert!(
        diags.iter().all(|d| d.code == code::PARSE && d.is_error()),
        "{syntax:?}: not only parse errors: {found:#?}"
    );
    assert_eq!(
        found.len(),
        expected.len(),
        "{syntax:?}: expected {} findings, got {found:#?}",
        expected.len()
    );
    for ((line, label, message), (line_text, want_label, words)) in found.iter().zip(expected) {
        assert_eq!(
            *line,
            line_of(text, line_text),
            "{syntax:?}: `{message}` is not on the line of `{line_text}`: {found:#?}"
        );
        assert!(
            label.contains(want_label),
            "{syntax:?}: `{message}` labels `{label}`, not `{want_label}`"
        );
        assert!(
            message.contains(words),
            "{syntax:?}: `{message}` does not say `{words}`"
        );
    }
    for d in &diags {
        assert!(d.help.is_some(), "{} has no help", d.message);
    }
}

#[test]
fn unknown_keys_and_bad_values_in_several_places_are_all_reported_yaml() {
    let text = edit(
        YAML,
        &[
            ("  dnsDomain: cluster.local", "  dnsDomian: cluster.local"),
            ("kubeProxy: {mode: iptables}", "kubeProxy: {mode: iptable}"),
            ("  encapsulation: vxlan", "  encapsulation: vxlan-gbp"),
            ("    role: control-plane", "    role: master"),
            (
                "{name: worker-2, role: worker,",
                "{name: worker-2, role: worker, zone: a,",
            ),
            ("mtu: 1500, purpose", "mtu: big, purpose"),
        ],
    );
    let findings = [
        ("dnsDomian", "dnsDomian", "unknown field `dnsDomian`"),
        ("mode: iptable}", "iptable", "unknown variant `iptable`"),
        ("vxlan-gbp", "vxlan-gbp", "unknown variant `vxlan-gbp`"),
        ("role: master", "master", "unknown variant `master`"),
        ("mtu: big", "big", "not a whole number"),
        ("zone: a", "zone", "unknown field `zone`"),
    ];
    assert_findings(&text, Syntax::Yaml, &findings);
    // The help of each is the one the first error gets.
    let (_, diags) = check(&text, Syntax::Yaml);
    assert_eq!(diags[0].help.as_deref(), Some("did you mean `dnsDomain`?"));
    assert_eq!(
        diags[3].help.as_deref(),
        Some("did you mean `control-plane`?")
    );
}

#[test]
fn unknown_keys_and_bad_values_in_several_places_are_all_reported_kdl() {
    let text = edit(
        KDL,
        &[
            (
                "    dnsDomain \"cluster.local\"",
                "    dnsDomian \"cluster.local\"",
            ),
            ("kubeProxy mode=iptables", "kubeProxy mode=iptable"),
            ("encapsulation=vxlan", "encapsulation=vxlan-gbp"),
            ("role=control-plane", "role=master"),
            (
                "- name=worker-2 role=worker",
                "- name=worker-2 role=worker zone=a",
            ),
            ("mtu=1500 purpose", "mtu=\"big\" purpose"),
        ],
    );
    let findings = [
        ("dnsDomian", "dnsDomian", "unknown field `dnsDomian`"),
        ("mode=iptable", "iptable", "unknown variant `iptable`"),
        ("vxlan-gbp", "vxlan-gbp", "unknown variant `vxlan-gbp`"),
        ("role=master", "master", "unknown variant `master`"),
        ("mtu=\"big\"", "big", "big"),
        ("zone=a", "zone", "unknown field `zone`"),
    ];
    assert_findings(&text, Syntax::Kdl, &findings);
}

#[test]
fn missing_keys_and_wrong_shapes_are_reported_beside_other_mistakes() {
    // A list item without its name, a list given as one value, and an unknown top-level key.
    let text = edit(
        YAML,
        &[
            ("{name: worker-1, role: worker,", "{role: worker,"),
            ("reserved: [172.17.0.0/16]", "reserved: 172.17.0.0/16"),
            ("firewall:", "firewal:"),
        ],
    );
    assert_findings(
        &text,
        Syntax::Yaml,
        &[
            ("reserved:", "172.17.0.0/16", "expected a list"),
            (
                "{role: worker, address: 10.0.1.101",
                "{",
                "lacks the required key `name`",
            ),
            ("firewal:", "firewal", "unknown field `firewal`"),
        ],
    );
    let text = edit(
        KDL,
        &[
            ("- name=worker-1 role=worker", "- role=worker"),
            ("metadata name=kubeadm-flannel", "metadata name=#true"),
            ("firewall backend", "firewal backend"),
        ],
    );
    assert_findings(
        &text,
        Syntax::Kdl,
        &[
            (
                "metadata name=#true",
                "#true",
                "expected a string here, found #true",
            ),
            ("- role=worker", "-", "lacks the required key `name`"),
            ("firewal backend", "firewal", "unknown field `firewal`"),
        ],
    );
}

#[test]
fn one_type_error_gets_no_semantic_noise() {
    // The service CIDR overlaps the pod CIDR (a semantic error): with a type error elsewhere,
    // the model is never built and only the type error is reported.
    let yaml = edit(
        YAML,
        &[
            ("serviceCIDR: 10.96.0.0/12", "serviceCIDR: 10.244.0.0/16"),
            ("mtu: 1500, purpose", "mtu: big, purpose"),
        ],
    );
    assert_findings(
        &yaml,
        Syntax::Yaml,
        &[("mtu: big", "big", "not a whole number")],
    );
    let kdl = edit(
        KDL,
        &[
            (
                "serviceCIDR=\"10.96.0.0/12\"",
                "serviceCIDR=\"10.244.0.0/16\"",
            ),
            ("mtu=1500 purpose", "mtu=\"big\" purpose"),
        ],
    );
    assert_findings(&kdl, Syntax::Kdl, &[("mtu=\"big\"", "big", "big")]);
    // Without the type error, the semantic check runs and finds the overlap.
    let (_, diags) = check(
        &edit(
            YAML,
            &[("serviceCIDR: 10.96.0.0/12", "serviceCIDR: 10.244.0.0/16")],
        ),
        Syntax::Yaml,
    );
    assert!(diags.iter().any(|d| d.code == code::CIDR_OVERLAP));
}

#[test]
fn values_the_readers_take_are_not_flagged_beside_a_real_mistake() {
    // YAML reads numbers and booleans from text: a quoted number is a number, a number is
    // text, an empty value of an optional key is absent. One real mistake: one finding.
    let yaml = edit(
        YAML,
        &[
            ("nodeCIDRMaskSize: 24", "nodeCIDRMaskSize: \"24\""),
            (
                "vxlan: {port: 8472, vni: 1}",
                "vxlan: {port: '8472', vni: 0x1}",
            ),
            ("mtu: auto", "mtu:"),
            ("metadata: {name: kubeadm-flannel}", "metadata: {name: 12}"),
            (
                "10.0.1.102/24, interfaces: [{name: eth0, mtu: 1500}]",
                "10.0.1.102/24, interfaces: [{name: eth0, mtu: \"1500\"}]",
            ),
            (
                "kubeProxy: {mode: iptables}",
                "kubeProxy: {mode: iptables, strictARP: no}",
            ),
            ("  dnsDomain: cluster.local", "  dnsDomian: cluster.local"),
        ],
    );
    assert_findings(
        &yaml,
        Syntax::Yaml,
        &[("dnsDomian", "dnsDomian", "unknown field `dnsDomian`")],
    );
    // KDL: a bare node and `#null` are absent, `{}` an empty list, a lone value a list of
    // one, type annotations are ignored.
    let kdl = edit(
        KDL,
        &[
            ("    nodeCIDRMaskSize 24", "    nodeCIDRMaskSize (u8)24"),
            ("kubeProxy mode=iptables", "kubeProxy"),
            ("mtu=auto", "mtu=#null"),
            ("reserved \"172.17.0.0/16\"", "reserved {}"),
            (
                "managementAccess=\"tcp/22\"",
                "managementAccess=\"tcp/22\" zone=#null",
            ),
            (
                "    dnsDomain \"cluster.local\"",
                "    dnsDomian \"cluster.local\"",
            ),
        ],
    );
    assert_findings(
        &kdl,
        Syntax::Kdl,
        &[("dnsDomian", "dnsDomian", "unknown field `dnsDomian`")],
    );
}

#[test]
fn a_syntax_error_that_hides_the_rest_stays_one_error() {
    let yaml = edit(
        YAML,
        &[("reserved: [172.17.0.0/16]", "reserved: [172.17.0.0/16")],
    );
    let (_, diags) = check(&yaml, Syntax::Yaml);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let kdl = edit(
        KDL,
        &[("reserved \"172.17.0.0/16\"", "reserved \"172.17.0.0/16")],
    );
    let (_, diags) = check(&kdl, Syntax::Kdl);
    assert_eq!(diags.len(), 1, "{diags:#?}");
}

#[test]
fn a_misspelt_required_key_is_one_mistake_not_two() {
    // `plugn` is unknown and `plugin` therefore absent: one finding, with the suggestion.
    for (text, syntax) in [
        (
            edit(YAML, &[("  plugin: flannel", "  plugn: flannel")]),
            Syntax::Yaml,
        ),
        (
            edit(KDL, &[("cni plugin=flannel", "cni plugn=flannel")]),
            Syntax::Kdl,
        ),
    ] {
        let (_, diags) = check(&text, syntax);
        assert_eq!(diags.len(), 1, "{syntax:?}: {diags:#?}");
        assert_eq!(diags[0].help.as_deref(), Some("did you mean `plugin`?"));
    }
    // A key that is absent and an unrelated unknown key are two.
    let text = edit(YAML, &[("  plugin: flannel", "  colour: flannel")]);
    let (_, diags) = check(&text, Syntax::Yaml);
    assert_eq!(diags.len(), 2, "{diags:#?}");
}
