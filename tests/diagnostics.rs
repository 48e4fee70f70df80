//! The validation catalogue, code by code: each failing input asserts the code, the line of the
//! primary label (and for overlaps and conflicts that both sides are labelled); passing edge
//! cases assert silence. Inputs are `tests/invalid/base.yaml` (a clean kubeadm + flannel intent)
//! with a targeted edit, so each test shows exactly what breaks the rule.

use std::fmt::Write as _;
use std::process::Command;

use netc::diagnostic::{Diag, Severity, SourceFile, code};
use netc::intent::{Span, Syntax};
use netc::pipeline;

#[path = "common/mod.rs"]
mod common;
use common::incompressible_comments;

const BASE: &str = include_str!("invalid/base.yaml");

/// The outcome of checking one text.
struct Run {
    src: SourceFile,
    diags: Vec<Diag>,
}

fn run(text: &str) -> Run {
    let src = SourceFile::new("intent.yaml", text);
    let checked = pipeline::check(&src, Syntax::Yaml);
    Run {
        src,
        diags: checked.diagnostics,
    }
}

/// BASE with each `(from, to)` replaced; `from` must occur exactly once.
fn edit(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_owned();
    for (from, to) in edits {
        assert_eq!(
            text.matches(from).count(),
            1,
            "`{from}` must occur once in the base"
        );
        text = text.replacen(from, to, 1);
    }
    text
}

/// BASE edited, then `tail` appended (new top-level keys).
fn edit_and_append(edits: &[(&str, &str)], tail: &str) -> String {
    let mut text = edit(edits);
    text.push_str(tail);
    text
}

impl Run {
    fn listing(&self) -> String {
        let mut s = String::new();
        for d in &self.diags {
            let line = d.primary_span().map(|sp| self.src.line_of(sp));
            let _ = writeln!(s, "  {} (line {line:?}): {}", d.code, d.message);
        }
        s
    }

    fn text(&self, span: Span) -> &str {
        self.src
            .text
            .get(span.offset..span.offset + span.len)
            .unwrap_or("")
    }

    /// The first finding with `code` whose primary label is on `line` and covers `snippet`.
    fn expect(&self, code: &str, line: usize, snippet: &str) -> &Diag {
        let found = self.diags.iter().find(|d| {
            d.code == code
                && d.primary_span().is_some_and(|sp| {
                    self.src.line_of(sp) == line && self.text(sp).contains(snippet)
                })
        });
        match found {
            Some(d) => {
                assert!(d.help.is_some(), "{code} has no help: {}", d.message);
                d
            }
            None => panic!(
                "no {code} at line {line} on `{snippet}`; found:\n{}",
                self.listing()
            ),
        }
    }

    /// Asserts that `d` also labels `line` (the other party of an overlap or a conflict).
    fn also_labels(&self, d: &Diag, line: usize, snippet: &str) {
        assert!(
            d.labels.len() >= 2,
            "{} labels only one span: {}",
            d.code,
            d.message
        );
        assert!(
            d.labels.iter().skip(1).any(|l| {
                self.src.line_of(l.span) == line && self.text(l.span).contains(snippet)
            }),
            "{} does not label `{snippet}` on line {line}: {:?}",
            d.code,
            d.labels
        );
    }

    fn lacks(&self, code: &str) {
        assert!(
            self.diags.iter().all(|d| d.code != code),
            "unexpected {code}:\n{}",
            self.listing()
        );
    }

    fn clean(&self) {
        assert!(
            self.diags.iter().all(|d| !d.is_error()),
            "expected no errors:\n{}",
            self.listing()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The base and the bundled example are clean.

#[test]
fn base_is_clean() {
    // kube-flannel's DaemonSet gets --iface from netc's kustomize patch: nothing to report.
    let r = run(BASE);
    assert!(r.diags.is_empty(), "{}", r.listing());
    // On manual, host flanneld takes --iface: nothing to report.
    let r = run(&edit(&[("distribution: kubeadm", "distribution: manual")]));
    assert!(r.diags.is_empty(), "{}", r.listing());
}

#[test]
fn kubeadm_flannel_example_is_clean() {
    let r = run(include_str!("../examples/kubeadm-flannel.yaml"));
    assert!(r.diags.is_empty(), "{}", r.listing());
}

// ---------------------------------------------------------------------------------------------
// netc::parse (document header)

#[test]
fn parse_wrong_api_version_kind_and_version() {
    let r = run(&edit(&[
        ("apiVersion: netc/v1alpha1", "apiVersion: netc/v1"),
        ("kind: NetworkIntent", "kind: Intent"),
        ("v1.31.2", "latest"),
    ]));
    r.expect(code::PARSE, 3, "netc/v1");
    r.expect(code::PARSE, 4, "Intent");
    r.expect(code::PARSE, 8, "latest");
}

#[test]
fn parse_vxlan_vni_out_of_range() {
    let r = run(&edit(&[("vni: 1}", "vni: 16777216}")]));
    r.expect(code::PARSE, 20, "16777216");
}

// ---------------------------------------------------------------------------------------------
// netc::cidr::invalid

#[test]
fn cidr_invalid_host_bits_names_the_network() {
    let r = run(&edit(&[(
        "podCIDR: 10.244.0.0/16",
        "podCIDR: 10.244.1.0/16",
    )]));
    let d = r.expect(code::CIDR_INVALID, 9, "10.244.1.0/16");
    assert!(d.help.as_deref().unwrap_or("").contains("10.244.0.0/16"));
}

#[test]
fn cidr_invalid_syntax() {
    let r = run(&edit(&[(
        "serviceCIDR: 10.96.0.0/12",
        "serviceCIDR: 10.96.0.0",
    )]));
    r.expect(code::CIDR_INVALID, 10, "10.96.0.0");
}

#[test]
fn cidr_invalid_two_cidrs_of_one_family() {
    let r = run(&edit(&[(
        "podCIDR: 10.244.0.0/16",
        "podCIDR: [10.244.0.0/16, 10.245.0.0/16]",
    )]));
    let d = r.expect(code::CIDR_INVALID, 9, "10.245.0.0/16");
    r.also_labels(d, 9, "10.244.0.0/16");
}

#[test]
fn cidr_invalid_more_than_two_cidrs() {
    let r = run(&edit(&[(
        "podCIDR: 10.244.0.0/16",
        "podCIDR:\n    - 10.244.0.0/16\n    - fd00:10:244::/56\n    - fd00:10:245::/56",
    )]));
    r.expect(code::CIDR_INVALID, 12, "fd00:10:245::/56");
}

#[test]
fn cidr_invalid_service_family_without_pods() {
    let r = run(&edit(&[(
        "serviceCIDR: 10.96.0.0/12",
        "serviceCIDR: fd00:96::/108",
    )]));
    r.expect(code::CIDR_INVALID, 10, "fd00:96::/108");
}

#[test]
fn cidr_invalid_node_address_reserved_and_firewall_from() {
    let r = run(&edit_and_append(
        &[
            ("address: 10.0.1.101/24", "address: 10.0.1.101"),
            ("reserved: [172.17.0.0/16]", "reserved: [172.17.0.1/16]"),
        ],
        "  rules:\n    - {name: exporter, ports: [tcp/9100], from: [10.0.1.0/33]}\n",
    ));
    r.expect(code::CIDR_INVALID, 21, "172.17.0.1/16");
    r.expect(code::CIDR_INVALID, 28, "10.0.1.101");
    r.expect(code::CIDR_INVALID, 34, "10.0.1.0/33");
}

#[test]
fn cidr_invalid_cluster_dns_and_policy_peer() {
    let r = run(&edit_and_append(
        &[
            ("dnsDomain: cluster.local", "clusterDNS: 10.96.0.x"),
            ("plugin: flannel", "plugin: calico"),
            ("encapsulation: vxlan", "encapsulation: ipip"),
        ],
        "policies:\n  - namespace: prod\n    rules:\n      - name: lan\n        from: [{cidr: 10.0.0.0/8, except: [10.1.0.0/33]}]\n",
    ));
    r.expect(code::CIDR_INVALID, 12, "10.96.0.x");
    r.expect(code::CIDR_INVALID, 37, "10.1.0.0/33");
}

// ---------------------------------------------------------------------------------------------
// netc::policy::cidr-host-bits

#[test]
fn policy_cidr_host_bits_is_kept_with_a_warning() {
    // The API server accepts host bits in an ipBlock (it matches the network): a warning
    // naming the network, not the cidr::invalid error of the cluster's own CIDRs.
    let r = run(&edit_and_append(
        &[
            ("plugin: flannel", "plugin: calico"),
            ("encapsulation: vxlan", "encapsulation: ipip"),
        ],
        "policies:\n  - namespace: prod\n    rules:\n      - name: lan\n        from: [{cidr: 192.168.1.7/24, except: [192.168.1.130/25]}]\n",
    ));
    let d = r.expect(code::POLICY_CIDR_HOST_BITS, 37, "192.168.1.7/24");
    assert!(d.message.contains("192.168.1.0/24"), "{}", d.message);
    let d = r.expect(code::POLICY_CIDR_HOST_BITS, 37, "192.168.1.130/25");
    assert!(d.message.contains("192.168.1.128/25"), "{}", d.message);
    r.lacks(code::CIDR_INVALID);
    r.lacks(code::POLICY_INVALID);
}

// ---------------------------------------------------------------------------------------------
// netc::cidr::overlap

#[test]
fn cidr_overlap_pod_and_service_labels_both() {
    let r = run(&edit(&[(
        "podCIDR: 10.244.0.0/16",
        "podCIDR: 10.96.0.0/16",
    )]));
    let d = r.expect(code::CIDR_OVERLAP, 9, "10.96.0.0/16");
    r.also_labels(d, 10, "10.96.0.0/12");
    assert!(
        d.message.contains("10.96.0.0/16 (podCIDR)")
            && d.message.contains("10.96.0.0/12 (serviceCIDR)"),
        "{}",
        d.message
    );
}

#[test]
fn cidr_overlap_reserved_and_node_network() {
    let r = run(&edit(&[(
        "reserved: [172.17.0.0/16]",
        "reserved: [10.0.0.0/16]",
    )]));
    let d = r.expect(code::CIDR_OVERLAP, 25, "10.0.1.100/24");
    r.also_labels(d, 21, "10.0.0.0/16");
    // Three nodes share one network: one finding, not three.
    let n = r
        .diags
        .iter()
        .filter(|d| d.code == code::CIDR_OVERLAP)
        .count();
    assert_eq!(n, 1, "{}", r.listing());
}

#[test]
fn cidr_overlap_pin_and_service() {
    let r = run(&edit(&[
        ("podCIDR: 10.244.0.0/16", "podCIDR: 10.0.0.0/8"),
        ("serviceCIDR: 10.96.0.0/12", "serviceCIDR: 172.20.0.0/16"),
        (
            "    address: 10.0.1.100/24\n",
            "    address: 192.168.1.100/24\n    podCIDR: 172.20.5.0/24\n",
        ),
        ("address: 10.0.1.101/24", "address: 192.168.1.101/24"),
        ("address: 10.0.1.102/24", "address: 192.168.1.102/24"),
    ]));
    let d = r.expect(code::CIDR_OVERLAP, 26, "172.20.5.0/24");
    r.also_labels(d, 10, "172.20.0.0/16");
}

#[test]
fn cidr_overlap_host_overlay_and_pods() {
    let r = run(&edit_and_append(
        &[],
        "hostOverlay:\n  bridge: scbr0\n  subnet: 10.244.200.0/24\n  vxlan: {port: 4789, vni: 100}\n",
    ));
    let d = r.expect(code::CIDR_OVERLAP, 35, "10.244.200.0/24");
    r.also_labels(d, 9, "10.244.0.0/16");
}

#[test]
fn adjacent_cidrs_pass() {
    // 10.96.0.0/12 ends at 10.111.255.255; the pods start right after it.
    let r = run(&edit(&[
        ("podCIDR: 10.244.0.0/16", "podCIDR: 10.112.0.0/16"),
        (
            "reserved: [172.17.0.0/16]",
            "reserved: [10.95.0.0/16, 10.0.0.0/24, 10.0.2.0/24]",
        ),
    ]));
    r.clean();
    r.lacks(code::CIDR_OVERLAP);
}

#[test]
fn dual_stack_pod_and_service_cidrs_pass() {
    let r = run(&edit(&[
        (
            "podCIDR: 10.244.0.0/16",
            "podCIDR: [10.244.0.0/16, fd00:10:244::/56]",
        ),
        (
            "serviceCIDR: 10.96.0.0/12",
            "serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]",
        ),
    ]));
    r.clean();
}

// ---------------------------------------------------------------------------------------------
// netc::dns::*

#[test]
fn dns_outside_service_cidr() {
    let r = run(&edit(&[(
        "dnsDomain: cluster.local",
        "clusterDNS: 10.0.0.10",
    )]));
    let d = r.expect(code::DNS_OUTSIDE_SERVICE_CIDR, 12, "10.0.0.10");
    r.also_labels(d, 10, "10.96.0.0/12");
}

#[test]
fn dns_reserved_addresses() {
    for addr in ["10.96.0.0", "10.96.0.1", "10.111.255.255"] {
        let r = run(&edit(&[(
            "dnsDomain: cluster.local",
            &format!("clusterDNS: {addr}"),
        )]));
        r.expect(code::DNS_RESERVED_ADDRESS, 12, addr);
    }
    run(&edit(&[(
        "dnsDomain: cluster.local",
        "clusterDNS: 10.96.0.10",
    )]))
    .clean();
}

#[test]
fn dns_kubeadm_puts_kube_dns_at_the_tenth_address() {
    let r = run(&edit(&[(
        "dnsDomain: cluster.local",
        "clusterDNS: 10.96.0.53",
    )]));
    let d = r.expect(code::DNS_KUBEADM_ADDRESS, 12, "10.96.0.53");
    assert!(d.message.contains("10.96.0.10"), "{}", d.message);
    assert!(
        d.help.as_deref().is_some_and(|h| h.contains("10.96.0.10")),
        "{:?}",
        d.help
    );
    r.also_labels(d, 7, "kubeadm");
    // k3s puts CoreDNS wherever `cluster-dns` says.
    run(&edit(&[
        ("dnsDomain: cluster.local", "clusterDNS: 10.96.0.53"),
        ("distribution: kubeadm", "distribution: k3s"),
        (
            "kubernetesVersion: v1.31.2",
            "kubernetesVersion: v1.31.3+k3s1",
        ),
    ]))
    .lacks(code::DNS_KUBEADM_ADDRESS);
}

// ---------------------------------------------------------------------------------------------
// netc::service-cidr::too-large

#[test]
fn service_cidr_too_large_v4_and_v6() {
    let r = run(&edit(&[(
        "serviceCIDR: 10.96.0.0/12",
        "serviceCIDR: 10.96.0.0/11",
    )]));
    r.expect(code::SERVICE_CIDR_TOO_LARGE, 10, "10.96.0.0/11");
    let r = run(&edit(&[
        (
            "podCIDR: 10.244.0.0/16",
            "podCIDR: [10.244.0.0/16, fd00:10:244::/56]",
        ),
        (
            "serviceCIDR: 10.96.0.0/12",
            "serviceCIDR: [10.96.0.0/12, fd00:10:96::/64]",
        ),
    ]));
    r.expect(code::SERVICE_CIDR_TOO_LARGE, 10, "fd00:10:96::/64");
}

// ---------------------------------------------------------------------------------------------
// netc::nodes::*

#[test]
fn pod_capacity_more_nodes_than_subnets() {
    let r = run(&edit(&[(
        "podCIDR: 10.244.0.0/16",
        "podCIDR: 10.244.0.0/23",
    )]));
    let d = r.expect(code::NODES_POD_CAPACITY, 9, "10.244.0.0/23");
    assert!(
        d.message.contains("3 nodes") && d.message.contains("only 2"),
        "{}",
        d.message
    );
    r.also_labels(d, 11, "24");
}

#[test]
fn pod_capacity_mask_not_longer_than_prefix() {
    let r = run(&edit(&[("nodeCIDRMaskSize: 24", "nodeCIDRMaskSize: 16")]));
    let d = r.expect(code::NODES_POD_CAPACITY, 11, "16");
    r.also_labels(d, 9, "10.244.0.0/16");
}

#[test]
fn pod_capacity_mask_more_than_16_bits_longer() {
    let r = run(&edit(&[
        ("podCIDR: 10.244.0.0/16", "podCIDR: 10.0.0.0/8"),
        ("reserved: [172.17.0.0/16]", "reserved: []"),
        ("address: 10.0.1.100/24", "address: 192.168.1.100/24"),
        ("address: 10.0.1.101/24", "address: 192.168.1.101/24"),
        ("address: 10.0.1.102/24", "address: 192.168.1.102/24"),
        ("serviceCIDR: 10.96.0.0/12", "serviceCIDR: 172.20.0.0/16"),
        (
            "controlPlaneEndpoint: 10.0.1.100:6443",
            "controlPlaneEndpoint: 192.168.1.100:6443",
        ),
        ("nodeCIDRMaskSize: 24", "nodeCIDRMaskSize: 25"),
    ]));
    r.expect(code::NODES_POD_CAPACITY, 11, "25");
}

#[test]
fn pin_outside_misaligned_shared_and_overlapping() {
    let r = run(&edit(&[
        (
            "    address: 10.0.1.100/24\n",
            "    address: 10.0.1.100/24\n    podCIDR: 10.245.0.0/24\n",
        ),
        (
            "address: 10.0.1.101/24,",
            "address: 10.0.1.101/24, podCIDR: 10.244.1.0/25,",
        ),
    ]));
    r.expect(code::NODES_POD_CIDR_PIN, 26, "10.245.0.0/24");
    let d = r.expect(code::NODES_POD_CIDR_PIN, 29, "10.244.1.0/25");
    r.also_labels(d, 11, "24");

    let r = run(&edit(&[
        (
            "address: 10.0.1.101/24,",
            "address: 10.0.1.101/24, podCIDR: 10.244.7.0/24,",
        ),
        (
            "address: 10.0.1.102/24,",
            "address: 10.0.1.102/24, podCIDR: 10.244.7.0/24,",
        ),
    ]));
    let d = r.expect(code::NODES_POD_CIDR_PIN, 29, "10.244.7.0/24");
    assert!(d.message.contains("shared"), "{}", d.message);
    r.also_labels(d, 28, "10.244.7.0/24");

    let r = run(&edit(&[
        (
            "nodeCIDRMaskSize: 24",
            "nodeCIDRMaskSize: 24\n  nodeCIDRMaskSizeV6: 64",
        ),
        (
            "address: 10.0.1.101/24,",
            "address: 10.0.1.101/24, podCIDR: 10.244.0.0/23,",
        ),
        (
            "address: 10.0.1.102/24,",
            "address: 10.0.1.102/24, podCIDR: 10.244.1.0/24,",
        ),
    ]));
    let d = r.expect(code::NODES_POD_CIDR_PIN, 30, "10.244.1.0/24");
    assert!(d.message.contains("overlaps"), "{}", d.message);
    r.also_labels(d, 29, "10.244.0.0/23");
}

#[test]
fn slash_32_pin_with_mask_32_passes() {
    // The bridge plugin takes pins (flannel does not: pinned_pod_cidr_reaches_no_ipam_cni).
    let r = run(&edit(&[
        ("plugin: flannel", "plugin: bridge"),
        ("encapsulation: vxlan", "encapsulation: none"),
        ("  vxlan: {port: 8472, vni: 1}\n", ""),
        ("podCIDR: 10.244.0.0/16", "podCIDR: 10.244.0.0/28"),
        ("nodeCIDRMaskSize: 24", "nodeCIDRMaskSize: 32"),
        (
            "    address: 10.0.1.100/24\n",
            "    address: 10.0.1.100/24\n    podCIDR: 10.244.0.7/32\n",
        ),
    ]));
    r.clean();
}

/// Issue 15 (Low): a pinned `nodes[].podCIDR` reaches only the bridge plugin; flannel and
/// Canal take the node's `spec.podCIDR` from kube-controller-manager, Calico and Cilium their
/// own IPAM: reported (a warning), never dropped silently.
#[test]
fn pinned_pod_cidr_reaches_no_ipam_cni() {
    let pin = (
        "address: 10.0.1.101/24,",
        "address: 10.0.1.101/24, podCIDR: 10.244.7.0/24,",
    );
    let r = run(&edit(&[pin]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 28, "10.244.7.0/24");
    // A warning: a Node created with its spec.podCIDR keeps it (the help says so).
    assert!(
        !d.is_error() && d.message.contains("nodes[].podCIDR") && d.message.contains("flannel"),
        "{}",
        d.message
    );
    for plugin in ["calico", "canal", "cilium"] {
        let r = run(&edit(&[
            pin,
            ("plugin: flannel", &format!("plugin: {plugin}")),
            ("vxlan: {port: 8472, vni: 1}", "vxlan: {port: 8472}"),
        ]));
        let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 28, "10.244.7.0/24");
        assert!(d.message.contains(plugin), "{}", d.message);
    }
    // The bridge plugin's host-local range is the pin.
    run(&edit(&[
        pin,
        ("plugin: flannel", "plugin: bridge"),
        ("encapsulation: vxlan", "encapsulation: none"),
        ("  vxlan: {port: 8472, vni: 1}\n", ""),
    ]))
    .lacks(code::CNI_SETTING_NOT_APPLIED);
}

/// Issue 15 (Low): k8s-snap gives its Cilium only the pod CIDR lists, so `nodeCIDRMaskSize`
/// other than Cilium's /24 reaches kube-controller-manager alone.
#[test]
fn canonical_cilium_takes_no_node_mask() {
    let canonical = [
        ("distribution: kubeadm", "distribution: canonical"),
        ("plugin: flannel", "plugin: cilium"),
        ("vxlan: {port: 8472, vni: 1}", "vxlan: {port: 8472}"),
    ];
    run(&edit(&canonical)).lacks(code::CNI_SETTING_NOT_APPLIED);
    let mut edits = canonical.to_vec();
    edits.push(("nodeCIDRMaskSize: 24", "nodeCIDRMaskSize: 25"));
    let r = run(&edit(&edits));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 11, "25");
    assert!(
        d.is_error() && d.message.contains("Canonical Kubernetes' built-in Cilium"),
        "{}",
        d.message
    );
}

#[test]
fn duplicate_node_name_and_address() {
    let r = run(&edit(&[
        ("name: worker-2", "name: worker-1"),
        ("address: 10.0.1.102/24", "address: 10.0.1.101/24"),
    ]));
    let d = r.expect(code::NODES_DUPLICATE, 29, "worker-1");
    r.also_labels(d, 28, "worker-1");
    let d = r.expect(code::NODES_DUPLICATE, 29, "10.0.1.101/24");
    r.also_labels(d, 28, "10.0.1.101/24");
}

// ---------------------------------------------------------------------------------------------
// netc::cni::*

#[test]
fn cni_unsupported_by_distribution() {
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: rke2"),
        ("plugin: flannel", "plugin: bridge"),
        ("encapsulation: vxlan", "encapsulation: none"),
    ]));
    let d = r.expect(code::CNI_UNSUPPORTED, 16, "bridge");
    r.also_labels(d, 7, "rke2");

    let r = run(&edit(&[(
        "distribution: kubeadm",
        "distribution: canonical",
    )]));
    let d = r.expect(code::CNI_UNSUPPORTED, 16, "flannel");
    assert!(d.message.contains("Canonical"), "{}", d.message);
}

#[test]
fn manual_takes_flannel_bridge_or_none() {
    // "The hard way" runs flannel on the host or the bridge plugin; netc writes no operator
    // or chart for the others.
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: manual"),
        ("plugin: flannel", "plugin: calico"),
        ("encapsulation: vxlan", "encapsulation: ipip"),
    ]));
    let d = r.expect(code::CNI_UNSUPPORTED, 16, "calico");
    r.also_labels(d, 7, "manual");
    assert!(
        d.help
            .as_deref()
            .is_some_and(|h| h.contains("flannel, bridge, none")),
        "{:?}",
        d.help
    );
    run(&edit(&[("distribution: kubeadm", "distribution: manual")])).clean();
    run(&edit(&[
        ("distribution: kubeadm", "distribution: manual"),
        ("plugin: flannel", "plugin: bridge"),
        ("encapsulation: vxlan", "encapsulation: none"),
        ("  vxlan: {port: 8472, vni: 1}\n", ""),
    ]))
    .clean();
}

const FLANNEL_PATHS: (&str, &str) = (
    "  vxlan: {port: 8472, vni: 1}\n",
    "  vxlan: {port: 8472, vni: 1}\n  flannel:\n    paths: {binary: /usr/local/bin/flanneld, netConf: etc/net-conf.json, kubeconfig: /var/lib/flannel/kubeconfig}\n",
);

#[test]
fn flannel_paths_must_be_absolute() {
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: manual"),
        FLANNEL_PATHS,
    ]));
    let d = r.expect(code::CNI_PATH_INVALID, 22, "etc/net-conf.json");
    assert!(
        d.message.contains("cni.flannel.paths.netConf"),
        "{}",
        d.message
    );
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::CNI_PATH_INVALID)
            .count(),
        1,
        "{}",
        r.listing()
    );
}

/// Issue 17 item 8: paths that pass as absolute but break apply or the agent's mounts.
#[test]
fn flannel_paths_normalised_outside_netc_dirs_and_distinct() {
    let manual = ("distribution: kubeadm", "distribution: manual");
    let with = |binary: &str, net_conf: &str, kubeconfig: &str| {
        edit(&[
            manual,
            (
                FLANNEL_PATHS.0,
                &format!(
                    "{}  flannel:\n    paths: {{binary: {binary}, netConf: {net_conf}, kubeconfig: {kubeconfig}}}\n",
                    FLANNEL_PATHS.0
                ),
            ),
        ])
    };
    let ok = (
        "/opt/bin/flanneld",
        "/etc/kube-flannel/net-conf.json",
        "/etc/kube-flannel/kubeconfig",
    );
    run(&with(ok.0, ok.1, ok.2)).lacks(code::CNI_PATH_INVALID);
    for (net_conf, why) in [
        ("/kube-flannel.json", "directly in `/`"),
        ("/etc/./x.json", "not normalised"),
        ("/etc//x.json", "not normalised"),
        ("/etc/netc-intent/x.json", "netc owns"),
        ("/var/lib/netc/net-conf.json", "netc owns"),
    ] {
        let r = run(&with(ok.0, net_conf, ok.2));
        let d = r.expect(code::CNI_PATH_INVALID, 22, net_conf);
        assert!(d.message.contains(why), "{net_conf}: {}", d.message);
    }
    // netConf = kubeconfig, and a kubeconfig named like the token written beside it.
    let r = run(&with(ok.0, "/etc/kube-flannel/kubeconfig", ok.2));
    let d = r.expect(code::CNI_PATH_INVALID, 22, "/etc/kube-flannel/kubeconfig");
    assert!(d.message.contains("both"), "{}", d.message);
    let r = run(&with(ok.0, ok.1, "/etc/kube-flannel/token"));
    let d = r.expect(code::CNI_PATH_INVALID, 22, "/etc/kube-flannel/token");
    assert!(d.message.contains("token"), "{}", d.message);
}

#[test]
fn flannel_paths_without_host_flanneld_are_a_warning() {
    // On kubeadm flannel is the kube-flannel DaemonSet: no flanneld on the host to place.
    let fixed = (
        FLANNEL_PATHS.0,
        &*FLANNEL_PATHS
            .1
            .replace("etc/net-conf.json", "/etc/net-conf.json"),
    );
    let r = run(&edit(&[fixed]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 22, "/usr/local/bin/flanneld");
    assert_eq!(d.severity, Severity::Warning, "{}", d.message);
    assert!(
        d.message.contains("cni.flannel.paths.binary"),
        "{}",
        d.message
    );
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::CNI_SETTING_NOT_APPLIED
                && d.message.starts_with("cni.flannel.paths"))
            .count(),
        3,
        "{}",
        r.listing()
    );
    r.clean();
    // On manual they place it: nothing to report.
    run(&edit(&[
        ("distribution: kubeadm", "distribution: manual"),
        fixed,
    ]))
    .lacks(code::CNI_SETTING_NOT_APPLIED);
}

#[test]
fn cni_unsupported_encapsulation() {
    let r = run(&edit(&[("encapsulation: vxlan", "encapsulation: ipip")]));
    let d = r.expect(code::CNI_UNSUPPORTED, 17, "ipip");
    r.also_labels(d, 16, "flannel");
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: canonical"),
        ("plugin: flannel", "plugin: cilium"),
        ("encapsulation: vxlan", "encapsulation: wireguard"),
    ]));
    r.expect(code::CNI_UNSUPPORTED, 17, "wireguard");
}

const POLICY: &str = "policies:\n  - namespace: production\n    defaultDeny: [ingress]\n    rules:\n      - name: allow-frontend\n        to: {app: backend}\n        from: [{pods: {app: frontend}}]\n        ports: [tcp/8080]\n";

#[test]
fn policy_not_enforced_by_flannel_on_kubeadm() {
    let r = run(&edit_and_append(&[], POLICY));
    let d = r.expect(code::CNI_POLICY_NOT_ENFORCED, 16, "flannel");
    r.also_labels(d, 34, "production");
    // k3s embeds a policy controller next to flannel.
    let r = run(&edit_and_append(
        &[("distribution: kubeadm", "distribution: k3s")],
        POLICY,
    ));
    r.clean();
}

#[test]
fn host_gw_needs_one_l2_network() {
    let r = run(&edit(&[
        ("encapsulation: vxlan", "encapsulation: host-gw"),
        ("address: 10.0.1.102/24", "address: 10.0.2.102/24"),
    ]));
    let d = r.expect(code::CNI_HOST_GW_NEEDS_L2, 29, "10.0.2.102/24");
    r.also_labels(d, 25, "10.0.1.100/24");
    // Same network: fine.
    run(&edit(&[("encapsulation: vxlan", "encapsulation: host-gw")])).clean();
}

#[test]
fn setting_not_applied_names_the_target() {
    // Canonical Kubernetes' Calico has no annotation for Felix's VXLAN port.
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: canonical"),
        ("plugin: flannel", "plugin: calico"),
        (
            "vxlan: {port: 8472, vni: 1}",
            "vxlan: {port: 9999, vni: 4096}",
        ),
    ]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 20, "9999");
    assert!(d.is_error(), "{}", d.message);
    assert!(
        d.message.contains("cni.vxlan.port 9999")
            && d.message.contains("Canonical Kubernetes' built-in Calico"),
        "{}",
        d.message
    );
    r.also_labels(d, 7, "canonical");
    // k3s' flannel always masquerades.
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: k3s"),
        (
            "kubernetesVersion: v1.31.2",
            "kubernetesVersion: v1.31.3+k3s1",
        ),
        (
            "vxlan: {port: 8472, vni: 1}",
            "calico: {natOutgoing: false}",
        ),
    ]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 20, "false");
    assert!(d.message.contains("k3s' embedded flannel"), "{}", d.message);
    // kube-flannel.yml's DaemonSet always passes --ip-masq.
    let r = run(&edit(&[(
        "vxlan: {port: 8472, vni: 1}",
        "calico: {natOutgoing: false}",
    )]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 20, "false");
    assert!(
        d.is_error() && d.message.contains("kube-flannel's DaemonSet"),
        "{}",
        d.message
    );
    // RKE2: flanneld runs without --ip-masq, but rke2-flannel's conflist leaves the bridge
    // plugin's ipMasq to the flannel CNI plugin, which turns it on (flannel-io/cni-plugin
    // flannel_linux.go doCmdAdd): still masqueraded, per node.
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: rke2"),
        (
            "kubernetesVersion: v1.31.2",
            "kubernetesVersion: v1.31.2+rke2r1",
        ),
        (
            "vxlan: {port: 8472, vni: 1}",
            "calico: {natOutgoing: false}",
        ),
    ]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 20, "false");
    assert!(
        d.message.contains("RKE2's rke2-flannel chart")
            && d.help
                .as_deref()
                .is_some_and(|h| h.contains("bridge plugin's ipMasq")),
        "{} / {:?}",
        d.message,
        d.help
    );
    // On manual it reaches host flanneld (no --ip-masq) and netc's conflist (the delegate's
    // ipMasq false): nothing to report.
    run(&edit(&[
        ("distribution: kubeadm", "distribution: manual"),
        (
            "vxlan: {port: 8472, vni: 1}",
            "calico: {natOutgoing: false}",
        ),
    ]))
    .lacks(code::CNI_SETTING_NOT_APPLIED);
}

#[test]
fn bridge_masquerade_needs_the_node_firewall() {
    let bridge = [
        ("plugin: flannel", "plugin: bridge"),
        ("encapsulation: vxlan", "encapsulation: none"),
        ("vxlan: {port: 8472, vni: 1}", "calico: {natOutgoing: true}"),
    ];
    let about_nat = |r: &Run| -> Vec<String> {
        r.diags
            .iter()
            .filter(|d| d.message.starts_with("cni.calico.natOutgoing"))
            .map(|d| d.message.clone())
            .collect()
    };
    // The node firewall's postrouting chain masquerades: nothing to report.
    let with_firewall = run(&edit(&bridge));
    assert!(
        about_nat(&with_firewall).is_empty(),
        "{:?}",
        about_nat(&with_firewall)
    );
    // Without a firewall nothing masquerades bridge pods.
    let mut without = bridge.to_vec();
    without.push((
        "firewall:\n  backend: nftables\n  managementAccess: [tcp/22]\n",
        "",
    ));
    let r = run(&edit(&without));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 20, "true");
    assert!(d.message.contains("the node firewall"), "{}", d.message);
}

#[test]
fn setting_without_effect_is_a_warning() {
    let r = run(&edit(&[("encapsulation: vxlan", "encapsulation: host-gw")]));
    let d = r.expect(code::CNI_SETTING_NOT_APPLIED, 20, "8472");
    assert_eq!(d.severity, Severity::Warning, "{}", d.message);
    assert!(d.message.contains("host-gw runs no VXLAN"), "{}", d.message);
    r.clean();
}

// ---------------------------------------------------------------------------------------------
// netc::mtu::too-large

#[test]
fn mtu_given_plus_overhead_exceeds_interface() {
    let r = run(&edit(&[("mtu: auto", "mtu: 1500")]));
    let d = r.expect(code::MTU_TOO_LARGE, 18, "1500");
    assert!(
        d.message.contains("1500 + VXLAN 50 = 1550")
            && d.message.contains("eth0's MTU 1500")
            && d.message.contains("cp-1"),
        "{}",
        d.message
    );
    r.also_labels(d, 27, "1500");
    // One finding for the three nodes that share the problem.
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::MTU_TOO_LARGE)
            .count(),
        1,
        "{}",
        r.listing()
    );
    run(&edit(&[("mtu: auto", "mtu: 1450")])).clean();
}

#[test]
fn mtu_per_node_when_nothing_can_set_it() {
    // flannel's host-gw gives pods each node's interface MTU: worker-2's jumbo frames would
    // not fit cp-1's path.
    let r = run(&edit(&[
        ("encapsulation: vxlan", "encapsulation: host-gw"),
        ("  vxlan: {port: 8472, vni: 1}\n", ""),
        (
            "address: 10.0.1.102/24, interfaces: [{name: eth0, mtu: 1500}]",
            "address: 10.0.1.102/24, interfaces: [{name: eth0, mtu: 9000}]",
        ),
    ]));
    // (One line less: the vxlan line is gone.)
    let d = r.expect(code::MTU_TOO_LARGE, 28, "9000");
    assert!(d.message.contains("host-gw"), "{}", d.message);
    r.also_labels(d, 26, "1500");
    // The same MTU everywhere: fine.
    run(&edit(&[("encapsulation: vxlan", "encapsulation: host-gw")])).clean();
}

#[test]
fn mtu_nested_overlays_add_up() {
    let r = run(&edit_and_append(
        &[
            ("mtu: auto", "mtu: 1450"),
            ("interface: eth0", "interface: scbr0"),
        ],
        "hostOverlay:\n  bridge: scbr0\n  subnet: 192.168.100.0/24\n  vxlan: {port: 4789, vni: 100, interface: eth0}\n",
    ));
    let d = r.expect(code::MTU_TOO_LARGE, 18, "1450");
    assert!(d.message.contains("host overlay VXLAN 50"), "{}", d.message);
}

#[test]
fn mtu_auto_too_small_to_be_useful() {
    let r = run(&edit(&[(
        "{name: eth0, mtu: 1500, purpose: management}",
        "{name: eth0, mtu: 600, purpose: management}",
    )]));
    r.expect(code::MTU_TOO_LARGE, 27, "600");
}

// ---------------------------------------------------------------------------------------------
// netc::ports::*

const OVERLAY_SAME_PORT: &str = "hostOverlay:\n  bridge: scbr0\n  subnet: 192.168.100.0/24\n  vxlan: {port: 8472, vni: VNI, interface: eth0}\n";

#[test]
fn ports_conflict_same_vxlan_port_and_vni() {
    let r = run(&edit_and_append(
        &[],
        &OVERLAY_SAME_PORT.replace("VNI", "1"),
    ));
    let d = r.expect(code::PORTS_CONFLICT, 36, "8472");
    r.also_labels(d, 20, "8472");
    assert!(
        d.message.contains("cp-1 and 2 other nodes"),
        "{}",
        d.message
    );
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::PORTS_CONFLICT)
            .count(),
        1,
        "{}",
        r.listing()
    );
}

#[test]
fn same_vxlan_port_with_different_vnis_passes() {
    let r = run(&edit_and_append(
        &[],
        &OVERLAY_SAME_PORT.replace("VNI", "100"),
    ));
    r.clean();
}

#[test]
fn ports_blocked_required_management_and_kubelet() {
    let r = run(&edit_and_append(
        &[],
        "  rules:\n    - {name: lockdown, ports: [tcp/1-1024], action: drop}\n    - {name: no-kubelet, ports: [tcp/10250], roles: [worker], action: drop}\n",
    ));
    let d = r.expect(code::PORTS_BLOCKED_REQUIRED, 34, "tcp/1-1024");
    r.also_labels(d, 32, "tcp/22");
    let d = r.expect(code::PORTS_BLOCKED_REQUIRED, 35, "tcp/10250");
    assert!(d.message.contains("kubelet"), "{}", d.message);
    // Dropping from outside the cluster's networks is the user's business.
    let r = run(&edit_and_append(
        &[],
        "  rules:\n    - {name: no-kubelet, ports: [tcp/10250], from: [203.0.113.0/24], action: drop}\n",
    ));
    r.clean();
}

// ---------------------------------------------------------------------------------------------
// netc::iface::*

#[test]
fn iface_invalid_name() {
    let r = run(&edit(&[(
        "{name: worker-1, role: worker, address: 10.0.1.101/24, interfaces: [{name: eth0, mtu: 1500}]}",
        "{name: worker-1, role: worker, address: 10.0.1.101/24, interfaces: [{name: eth0, mtu: 1500}, {name: a-very-long-ifname}]}",
    )]));
    r.expect(code::IFACE_INVALID, 28, "a-very-long-ifname");
    let r = run(&edit(&[("interface: eth0", "interface: \"eth/0\"")]));
    r.expect(code::IFACE_INVALID, 19, "eth/0");
}

#[test]
fn iface_unknown_on_nodes_that_declare_interfaces() {
    let r = run(&edit(&[("interface: eth0", "interface: eth1")]));
    let d = r.expect(code::IFACE_UNKNOWN, 19, "eth1");
    r.also_labels(d, 23, "cp-1");
    assert!(
        d.message.contains("cp-1 and 2 other nodes"),
        "{}",
        d.message
    );
    // Nodes that declare no interfaces are not checked.
    let text = edit(&[
        ("interface: eth0", "interface: eth1"),
        (
            "    interfaces:\n      - {name: eth0, mtu: 1500, purpose: management}\n",
            "",
        ),
    ])
    .replace(", interfaces: [{name: eth0, mtu: 1500}]}", "}");
    let r = run(&text);
    r.lacks(code::IFACE_UNKNOWN);
}

// ---------------------------------------------------------------------------------------------
// netc::policy::*

fn calico() -> [(&'static str, &'static str); 2] {
    [
        ("plugin: flannel", "plugin: calico"),
        ("encapsulation: vxlan", "encapsulation: ipip"),
    ]
}

#[test]
fn policy_invalid_labels_ports_except_and_mixed_peer() {
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    defaultDeny: [ingress]
    rules:
      - name: web
        to: {-app: backend}
        from: [{pods: {app: front_end_}}]
        ports: [tcp/0]
      - name: lan
        from:
          - {cidr: 10.0.0.0/16, except: [10.0.0.0/16]}
          - {cidr: 10.1.0.0/16, pods: {app: x}}
",
    ));
    r.expect(code::POLICY_INVALID, 38, "-app");
    r.expect(code::POLICY_INVALID, 39, "front_end_");
    r.expect(code::POLICY_INVALID, 40, "tcp/0");
    let d = r.expect(code::POLICY_INVALID, 43, "10.0.0.0/16");
    r.also_labels(d, 43, "10.0.0.0/16");
    let d = r.expect(code::POLICY_INVALID, 44, "10.1.0.0/16");
    r.also_labels(d, 44, "app");
}

#[test]
fn policy_invalid_duplicate_rule_and_namespace() {
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    rules:
      - {name: web, from: [{pods: {app: a}}]}
    egress:
      - {name: web, to: [{pods: {app: b}}]}
  - namespace: production
",
    ));
    let d = r.expect(code::POLICY_INVALID, 38, "web");
    r.also_labels(d, 36, "web");
    let d = r.expect(code::POLICY_INVALID, 39, "production");
    r.also_labels(d, 34, "production");
}

#[test]
fn policy_invalid_ports_without_peers_but_empty_list_passes() {
    // Absent `from`/`to` admits nobody, so ports there would be silently meaningless.
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    rules:
      - {name: web, to: {app: web}, ports: [tcp/80]}
    egress:
      - {name: out, ports: [udp/123]}
",
    ));
    let d = r.expect(code::POLICY_INVALID, 36, "tcp/80");
    r.also_labels(d, 36, "web");
    r.expect(code::POLICY_INVALID, 38, "udp/123");
    // `from: []` / `to: []` is every peer: valid.
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    rules:
      - {name: web, to: {app: web}, from: [], ports: [tcp/80]}
    egress:
      - {name: out, to: [], ports: [udp/123]}
",
    ));
    r.lacks(code::POLICY_INVALID);
}

#[test]
fn policy_invalid_match_expressions_as_the_api_server_refuses_them() {
    // ValidateLabelSelectorRequirement: the operator, values for In/NotIn, none for
    // Exists/DoesNotExist, label key and value syntax.
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    rules:
      - name: web
        toExpressions:
          - {key: app, operator: in, values: [web]}
          - {key: tier, operator: NotIn}
        from:
          - podExpressions: [{key: -bad, operator: Exists}]
          - namespace: {expressions: [{key: team, operator: DoesNotExist, values: [ops]}]}
          - podExpressions: [{key: env, operator: In, values: [bad_value_]}]
",
    ));
    r.expect(code::POLICY_INVALID, 38, "in");
    r.expect(code::POLICY_INVALID, 39, "NotIn");
    r.expect(code::POLICY_INVALID, 41, "-bad");
    let d = r.expect(code::POLICY_INVALID, 42, "ops");
    r.also_labels(d, 42, "DoesNotExist");
    r.expect(code::POLICY_INVALID, 43, "bad_value_");
    // The same expressions written correctly pass.
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    rules:
      - name: web
        toExpressions:
          - {key: app, operator: In, values: [web]}
          - {key: tier, operator: NotIn, values: [db]}
        from:
          - podExpressions: [{key: bad, operator: Exists, values: []}]
          - namespace: {expressions: [{key: team, operator: DoesNotExist}]}
",
    ));
    r.lacks(code::POLICY_INVALID);
}

#[test]
fn policy_invalid_mixing_the_named_and_unnamed_forms() {
    let r = run(&edit_and_append(
        &calico(),
        "policies:
  - namespace: production
    name: api
    defaultDeny: [ingress]
    allowDNS: true
    policyTypes: [egress]
    rules:
      - {to: {app: api}, from: []}
      - {from: [{pods: {app: web}}]}
  - namespace: production
    podSelector: {app: web}
    rules:
      - {from: []}
  - namespace: production
    name: api
    rules: [{from: []}]
",
    ));
    r.expect(code::POLICY_INVALID, 36, "ingress");
    r.expect(code::POLICY_INVALID, 37, "true");
    r.expect(code::POLICY_INVALID, 40, "app");
    // Ingress rules under policyTypes [egress]: Kubernetes would ignore them.
    let d = r.expect(code::POLICY_INVALID, 35, "api");
    r.also_labels(d, 38, "egress");
    r.expect(code::POLICY_INVALID, 43, "app");
    r.expect(code::POLICY_INVALID, 42, "production");
    let d = r.expect(code::POLICY_INVALID, 47, "api");
    r.also_labels(d, 35, "api");
}

#[test]
fn policy_dns_blocked_is_a_warning() {
    let r = run(&edit_and_append(
        &calico(),
        "policies:\n  - namespace: production\n    defaultDeny: [ingress, egress]\n    allowDNS: false\n",
    ));
    let d = r.expect(code::POLICY_DNS_BLOCKED, 36, "false");
    assert_eq!(d.severity, Severity::Warning);
    r.clean();
}

// ---------------------------------------------------------------------------------------------
// netc::proxy::no-proxy-missing

#[test]
fn no_proxy_missing_warns_and_informs() {
    let r = run(&edit_and_append(
        &[],
        "proxy: {http: \"http://proxy.corp:3128\", noProxy: [corp.internal, 10.0.0.0/8]}\n",
    ));
    let d = r.expect(code::PROXY_NO_PROXY_MISSING, 33, "10.0.0.0/8");
    assert_eq!(d.severity, Severity::Warning);
    // 10.0.0.0/8 covers the pod, service and node networks.
    assert!(!d.message.contains("10.244.0.0/16"), "{}", d.message);
    assert!(d.message.contains(".svc"), "{}", d.message);

    let r = run(&edit_and_append(
        &[],
        "proxy: {http: \"http://proxy.corp:3128\"}\n",
    ));
    let d = r.expect(code::PROXY_NO_PROXY_MISSING, 33, "http://proxy.corp:3128");
    assert_eq!(d.severity, Severity::Info);
    r.clean();
}

// ---------------------------------------------------------------------------------------------
// netc::name::invalid

#[test]
fn name_invalid_node_namespace_metadata() {
    let r = run(&edit_and_append(
        &[
            ("name: worker-1", "name: Worker_1"),
            (
                "metadata: {name: kubeadm-flannel}",
                "metadata: {name: Kubeadm}",
            ),
            ("plugin: flannel", "plugin: calico"),
            ("encapsulation: vxlan", "encapsulation: ipip"),
        ],
        "policies:\n  - namespace: prod.eu\n",
    ));
    r.expect(code::NAME_INVALID, 5, "Kubeadm");
    r.expect(code::NAME_INVALID, 28, "Worker_1");
    r.expect(code::NAME_INVALID, 34, "prod.eu");
}

// ---------------------------------------------------------------------------------------------
// Order, the binary, robustness, scale

#[test]
fn findings_come_in_a_stable_order() {
    let text = edit(&[
        ("podCIDR: 10.244.0.0/16", "podCIDR: 10.96.0.0/16"),
        ("name: worker-2", "name: worker-1"),
        ("mtu: auto", "mtu: 1500"),
    ]);
    let a: Vec<_> = run(&text)
        .diags
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect();
    let b: Vec<_> = run(&text)
        .diags
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect();
    assert_eq!(a, b);
    assert!(a.len() >= 3);
}

#[test]
fn binary_exits_1_and_prints_json() {
    let dir = std::env::temp_dir().join(format!("netc-diag-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("bad.yaml");
    std::fs::write(
        &file,
        edit(&[("podCIDR: 10.244.0.0/16", "podCIDR: 10.96.0.0/16")]),
    )
    .expect("write intent");
    let out = Command::new(env!("CARGO_BIN_EXE_netc"))
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .expect("run netc");
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().expect("one JSON line");
    let v: serde_json::Value = serde_json::from_str(first).expect("valid JSON");
    for field in [
        "formatVersion",
        "code",
        "severity",
        "message",
        "file",
        "line",
        "column",
        "help",
    ] {
        assert!(v.get(field).is_some(), "no `{field}` in {first}");
    }
    assert_eq!(v["code"], code::CIDR_OVERLAP);
    assert_eq!(v["severity"], "error");
    assert_eq!(v["line"], 9);
}

/// A deterministic pseudo-random sequence (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn validate_never_panics_on_mutated_numbers() {
    let text = include_str!("../examples/kubeadm-flannel.yaml");
    let digits: Vec<usize> = text
        .char_indices()
        .filter(|(_, c)| c.is_ascii_digit())
        .map(|(i, _)| i)
        .collect();
    let interesting = [
        "0",
        "1",
        "9",
        "32",
        "33",
        "64",
        "128",
        "255",
        "256",
        "65535",
        "65536",
        "4294967295",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    for _ in 0..400 {
        let mut bytes = text.as_bytes().to_vec();
        let edits = 1 + rng.next() % 4;
        let mut replaced = String::new();
        for _ in 0..edits {
            let at = digits[(rng.next() as usize) % digits.len()];
            let with = interesting[(rng.next() as usize) % interesting.len()];
            if let Some(b) = bytes.get_mut(at) {
                *b = with.as_bytes()[0];
            }
            replaced = with.to_owned();
        }
        let mut mutated = String::from_utf8(bytes).expect("ASCII digits");
        // Also splice a whole number in once, to reach multi-digit extremes.
        if let Some(&at) = digits.get((rng.next() as usize) % digits.len()) {
            mutated.insert_str(at, &replaced);
        }
        // Parsing may refuse it; validation of whatever parses must not panic.
        let _ = run(&mutated);
    }
}

/// An intent of `n` nodes: one control plane, workers on a /16, pods on a /12 with /24 each.
fn large_intent(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: large}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.64.0.0/10
  serviceCIDR: 10.192.0.0/12
  nodeCIDRMaskSize: 24
cni:
  plugin: calico
  encapsulation: vxlan
  mtu: auto
  interface: eth0
reserved: [172.17.0.0/16]
nodes:
",
    );
    for i in 0..n {
        let role = if i == 0 { "control-plane" } else { "worker" };
        let _ = writeln!(
            s,
            "  - {{name: node-{i}, role: {role}, address: 172.20.{}.{}/16, interfaces: [{{name: eth0, mtu: 1500}}]}}",
            i / 250,
            i % 250 + 1
        );
    }
    s.push_str(
        "firewall:\n  backend: nftables\n  managementAccess: [tcp/22]\n  rules:\n    - {name: exporter, ports: [tcp/9100], from: [172.20.0.0/16]}\n",
    );
    s
}

/// The same, with pins on every node, a pod MTU too large everywhere and a host overlay whose
/// VXLAN clashes with Calico's on every node: findings grouped, not one per node.
fn large_intent_with_findings(n: usize) -> String {
    let mut s = large_intent(n)
        .replace("mtu: auto", "mtu: 1500")
        .replace(
            "reserved: [172.17.0.0/16]",
            "reserved: [172.17.0.0/16]\nhostOverlay: {bridge: scbr0, subnet: 192.168.0.0/16, vxlan: {port: 4789, vni: 4096}}",
        );
    let mut i = 0usize;
    s = s
        .lines()
        .map(|line| {
            if line.starts_with("  - {name: node-") {
                let pin = format!(", podCIDR: 10.{}.{}.0/24}}", 64 + i / 256, i % 256);
                i += 1;
                line.replacen("}]}", &format!("}}]{pin}"), 1)
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    s.push('\n');
    s
}

#[test]
fn ten_thousand_nodes_findings_are_grouped() {
    let r = run(&large_intent_with_findings(10_000));
    let count = |c: &str| r.diags.iter().filter(|d| d.code == c).count();
    assert_eq!(count(code::MTU_TOO_LARGE), 1, "{}", r.listing());
    assert_eq!(count(code::PORTS_CONFLICT), 1, "{}", r.listing());
    assert_eq!(count(code::NODES_POD_CIDR_PIN), 0, "{}", r.listing());
    assert!(r.diags.len() <= 3, "{}", r.listing());
}

#[test]
fn ten_thousand_nodes_validate_clean() {
    let r = run(&large_intent(10_000));
    assert!(r.diags.is_empty(), "{}", r.listing());
}

/// BASE with `n` firewall rules whose names are not DNS-1123 labels: `n` findings spread over
/// the file (issue 17 item 10; `bench/check.sh` times the same with the release build).
fn intent_with_findings(n: usize) -> String {
    let mut s = BASE.to_owned();
    s.push_str("  rules:\n");
    for i in 0..n {
        let _ = writeln!(s, "    - {{name: Bad_{i}, ports: [tcp/9100]}}");
    }
    s
}

/// Issue 17 item 10: locating 20,000 findings is linear in the file (lines indexed once), not
/// a rescan from the start per finding (16k findings took 36 s).
#[test]
fn twenty_thousand_findings_are_located_in_linear_time() {
    use std::time::Instant;
    let r = run(&intent_with_findings(20_000));
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::NAME_INVALID)
            .count(),
        20_000
    );
    let t = Instant::now();
    let mut lines = 0;
    for d in &r.diags {
        lines += d.to_json(&r.src).line.unwrap_or(0);
    }
    let took = t.elapsed();
    assert!(lines > 0);
    // The last finding is on the last line, each at its own line.
    let last = r.diags.last().expect("findings").to_json(&r.src);
    assert_eq!(last.line, Some(r.src.text.lines().count()));
    assert_eq!(last.column, Some(14));
    assert!(
        took < std::time::Duration::from_secs(3),
        "locating 20,000 findings took {took:?}"
    );
}

/// `cargo test --release --test diagnostics -- --ignored --nocapture perf`: the cost of each
/// stage on 10,000 nodes (validation should be at most about twice parsing).
#[test]
#[ignore = "timing report, run by hand"]
fn perf_report() {
    use std::time::Instant;
    let text = large_intent(10_000);
    let src = SourceFile::new("large.yaml", text);
    let t = Instant::now();
    let intent = netc::intent::parse(&src, Syntax::Yaml).expect("parses");
    let parse = t.elapsed();
    let t = Instant::now();
    let plan = netc::plan::lower(&intent, &src.text);
    let lower = t.elapsed();
    let t = Instant::now();
    let diags = netc::validate::validate(&intent, &plan);
    let validate = t.elapsed();
    println!(
        "10,000 nodes: parse {parse:?}, lower {lower:?}, validate {validate:?} ({} findings)",
        diags.len()
    );
    let src = SourceFile::new("findings.yaml", large_intent_with_findings(10_000));
    let t = Instant::now();
    let intent = netc::intent::parse(&src, Syntax::Yaml).expect("parses");
    let parse = t.elapsed();
    let plan = netc::plan::lower(&intent, &src.text);
    let t = Instant::now();
    let diags = netc::validate::validate(&intent, &plan);
    let validate = t.elapsed();
    println!(
        "10,000 pinned nodes with findings: parse {parse:?}, validate {validate:?} ({} findings)",
        diags.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Issue 11, items 11, 12, 17: every value that reaches a file is checked, with a code.

/// `check` passes exactly when `build` can write the files: the emitters never fail on an
/// intent without errors.
fn builds(text: &str) -> Result<(), String> {
    let src = SourceFile::new("intent.yaml", text);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let plan = checked.valid_plan().ok_or("has errors")?;
    let mut out = std::collections::BTreeMap::new();
    netc::emit::emit_all(netc::emit::Context::new(plan, "intent.yaml"), &mut out)
        .map_err(|e| e.to_string())?;
    for path in out.keys() {
        for part in path.split('/') {
            if part.len() > 255 {
                return Err(format!("{} bytes: {path}", part.len()));
            }
        }
    }
    Ok(())
}

#[test]
fn kube_proxy_invalid_scheduler() {
    for bad in ["\"r r\"", "\"$(reboot)\"", "foo", "RR"] {
        let text = edit(&[(
            "kubeProxy: {mode: iptables}",
            &format!("kubeProxy: {{mode: ipvs, ipvsScheduler: {bad}}}"),
        )]);
        let r = run(&text);
        let d = r.expect(code::KUBE_PROXY_INVALID, 14, bad.trim_matches('"'));
        assert!(d.help.as_deref().is_some_and(|h| h.contains("rr, wrr")));
    }
    for good in [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq",
    ] {
        let text = edit(&[(
            "kubeProxy: {mode: iptables}",
            &format!("kubeProxy: {{mode: ipvs, ipvsScheduler: {good}}}"),
        )]);
        run(&text).lacks(code::KUBE_PROXY_INVALID);
        builds(&text).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn endpoint_invalid_control_plane_endpoint() {
    for bad in [
        "'h:99999'",
        "'10.0.1.100:'",
        "'a b:6443'",
        "'api.corp:6443/x'",
        "\"h:6443\\nx\"",
    ] {
        let r = run(&edit(&[(
            "controlPlaneEndpoint: 10.0.1.100:6443",
            &format!("controlPlaneEndpoint: {bad}"),
        )]));
        r.expect(code::ENDPOINT_INVALID, 13, "");
    }
    for good in ["api.corp.example:6443", "10.0.1.100", "'[fd00::1]:6443'"] {
        let text = edit(&[(
            "controlPlaneEndpoint: 10.0.1.100:6443",
            &format!("controlPlaneEndpoint: {good}"),
        )]);
        run(&text).lacks(code::ENDPOINT_INVALID);
    }
}

#[test]
fn proxy_invalid_urls_no_proxy_entries_and_nul_bytes() {
    let text = edit_and_append(
        &[],
        "proxy: {http: \"http://p:3128\\0x\", https: proxy.corp:3128, noProxy: [\"a b\", \"x,y\", corp.internal]}\n",
    );
    let r = run(&text);
    r.expect(code::PROXY_INVALID, 33, "http://p:3128");
    r.expect(code::PROXY_INVALID, 33, "proxy.corp:3128");
    r.expect(code::PROXY_INVALID, 33, "a b");
    r.expect(code::PROXY_INVALID, 33, "x,y");
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::PROXY_INVALID)
            .count(),
        4,
        "{}",
        r.listing()
    );
    let good = edit_and_append(
        &[],
        "proxy: {http: \"http://proxy.corp:3128\", https: \"http://u:p@proxy.corp:3128/\", noProxy: [corp.internal, .svc, 10.0.0.0/8, \"*.example.com\"]}\n",
    );
    run(&good).lacks(code::PROXY_INVALID);
    builds(&good).expect("builds");
}

#[test]
fn name_invalid_firewall_rule_names_and_node_names_too_long_for_a_file() {
    let r = run(&edit(&[(
        "managementAccess: [tcp/22]",
        "managementAccess: [tcp/22]\n  rules: [{name: \"a b;$(x)\", ports: [tcp/9100]}]",
    )]));
    r.expect(code::NAME_INVALID, 33, "a b;$(x)");

    // A valid DNS-1123 subdomain of 253 characters: Kubernetes takes it, a file name cannot.
    let long = "a".repeat(61) + &format!(".{}", "a".repeat(63)).repeat(3);
    assert_eq!(long.len(), 253);
    let text = edit(&[("name: worker-2", &format!("name: {long}"))]);
    let r = run(&text);
    let d = r.expect(code::NAME_INVALID, 29, &long);
    assert!(d.message.contains("too long"), "{}", d.message);
    // The longest accepted name builds.
    let max = netc::plan::artifacts::MAX_NODE_NAME_IN_FILE_NAME;
    let label = "a".repeat(63);
    let fits = format!("{label}.{label}.{label}.{}", "b".repeat(max - 192));
    assert_eq!(fits.len(), max);
    let text = edit(&[("name: worker-2", &format!("name: {fits}"))]);
    run(&text).clean();
    builds(&text).expect("the longest accepted node name builds");
}

/// Issue 17 item 12: a node whose build directory would be a shared artifact's path.
#[test]
fn name_invalid_node_named_like_a_shared_artifact() {
    for (distribution, name) in [("k3s", "flannel-net-conf.json"), ("rke2", "manifests")] {
        let text = edit(&[
            (
                "distribution: kubeadm",
                &format!("distribution: {distribution}"),
            ),
            ("name: worker-2", &format!("name: {name}")),
        ]);
        let r = run(&text);
        let d = r.expect(code::NAME_INVALID, 29, name);
        assert!(d.message.contains("shared artifact"), "{}", d.message);
        // The same name on another distribution, or another name, builds.
        let other = text.replace(&format!("name: {name}"), "name: worker-2");
        run(&other).lacks(code::NAME_INVALID);
    }
    let kubeadm = edit(&[("name: worker-2", "name: manifests")]);
    run(&kubeadm).lacks(code::NAME_INVALID);
    builds(&kubeadm).expect("builds");
}

#[test]
fn iface_invalid_names_nftables_cannot_quote() {
    let text = edit(&[
        ("interface: eth0", "interface: 'e\"1'"),
        (
            "      - {name: eth0, mtu: 1500, purpose: management}",
            "      - {name: 'e\"1', mtu: 1500, purpose: management}",
        ),
    ]);
    let r = run(&text);
    let d = r.expect(code::IFACE_INVALID, 19, "e\"1");
    assert!(d.message.contains("nftables"), "{}", d.message);
    // With firewalld the name is quoted for the shell: no finding.
    let text = text.replace("backend: nftables", "backend: firewalld");
    run(&text).lacks(code::IFACE_INVALID);
}

/// Item 17: a missing key labels the map that lacks it and says who needs the value.
#[test]
fn parse_missing_key_labels_the_map_that_lacks_it() {
    let r = run(&edit(&[("  kubernetesVersion: v1.31.2\n", "")]));
    let d = r.expect(code::PARSE, 6, "cluster");
    assert_eq!(
        d.message,
        "`cluster` lacks the required key `kubernetesVersion`"
    );
    assert_eq!(r.text(d.primary_span().expect("labelled")), "cluster");
    let help = d.help.as_deref().unwrap_or("");
    assert!(
        help.contains("kubeadm needs it") && help.contains("rke2"),
        "{help}"
    );

    let r = run(&edit(&[(
        "metadata: {name: kubeadm-flannel}",
        "metadata: {}",
    )]));
    let d = r.expect(code::PARSE, 5, "metadata");
    assert_eq!(d.message, "`metadata` lacks the required key `name`");

    let r = run(&edit(&[("    role: control-plane\n", "")]));
    let d = r.expect(code::PARSE, 23, "-");
    assert_eq!(d.message, "this list item lacks the required key `role`");

    let r = run(&edit(&[("kind: NetworkIntent\n", "")]));
    let d = r.expect(code::PARSE, 3, "apiVersion");
    assert_eq!(
        d.message,
        "the intent lacks the required top-level key `kind`"
    );
}

// ---------------------------------------------------------------------------------------------
// netc::fleet::invalid

#[test]
fn fleet_invalid_settings_and_tolerations() {
    let r = run(&edit_and_append(
        &[],
        "fleet:\n  image: \"\"\n  namespace: Net_System\n  maxUnavailable: 0\n  interval: 25h\n  tolerations:\n    - {operator: Equal, effect: NoSchedule}\n    - {key: a, operator: Exists, value: x}\n    - {key: b, effect: NoSchedule, tolerationSeconds: 60}\n",
    ));
    r.expect(code::FLEET_INVALID, 34, "\"\"");
    r.expect(code::NAME_INVALID, 35, "Net_System");
    r.expect(code::FLEET_INVALID, 36, "0");
    // Past the agent's 24 h: the one range of plan::fleet::parse_interval (issue 17 item 8).
    let d = r.expect(code::FLEET_INVALID, 37, "25h");
    assert!(d.message.contains("100ms to 24h"), "{}", d.message);
    let d = r.expect(code::FLEET_INVALID, 39, "Equal");
    assert!(d.message.contains("without a key"), "{}", d.message);
    let d = r.expect(code::FLEET_INVALID, 40, "a");
    assert!(d.message.contains("no value"), "{}", d.message);
    let d = r.expect(code::FLEET_INVALID, 41, "b");
    assert!(d.message.contains("NoExecute"), "{}", d.message);

    let r = run(&edit_and_append(
        &[],
        "fleet:\n  image: registry.example/netc:1.0\n  interval: 5m\n  tolerations: [{operator: Exists}]\n",
    ));
    r.clean();
    r.lacks(code::FLEET_INVALID);
}

/// Issue 17 item 8: what the agent reads and the API server validates, checked the same way.
#[test]
fn fleet_interval_selector_and_toleration_labels_as_the_api_server_checks_them() {
    for (interval, ok) in [
        ("500ms", true),
        ("24h", true),
        ("90", true),
        ("50ms", false),
        ("25h", false),
    ] {
        let r = run(&edit_and_append(
            &[],
            &format!("fleet:\n  image: registry.example/netc:1.0\n  interval: {interval}\n"),
        ));
        if ok {
            r.lacks(code::FLEET_INVALID);
        } else {
            r.expect(code::FLEET_INVALID, 35, interval);
        }
        // The agent's own parser agrees.
        assert_eq!(
            netc::apply::agent::parse_interval(interval).is_ok(),
            ok,
            "{interval}"
        );
    }
    let r = run(&edit_and_append(
        &[],
        "fleet:\n  image: registry.example/netc:1.0\n  nodeSelector: {\"bad key!\": x, role: \"not valid\", \"example.com/ok\": \"\"}\n  tolerations:\n    - {key: \"-dash\", operator: Exists}\n    - {key: dedicated, value: \"a b\"}\n",
    ));
    let d = r.expect(code::FLEET_INVALID, 35, "bad key!");
    assert!(d.message.contains("label key"), "{}", d.message);
    r.expect(code::FLEET_INVALID, 35, "not valid");
    r.expect(code::FLEET_INVALID, 37, "-dash");
    r.expect(code::FLEET_INVALID, 38, "a b");
    assert_eq!(
        r.diags
            .iter()
            .filter(|d| d.code == code::FLEET_INVALID)
            .count(),
        4,
        "{}",
        r.listing()
    );
}

// ---------------------------------------------------------------------------------------------
// netc::fleet::too-large (issue 17 item 8)

#[test]
fn fleet_intent_too_large_even_compressed() {
    let fleet = "fleet:\n  image: registry.example/netc:1.0\n";
    // About 1.5 MB of text, over 1.1 MiB compressed: the ConfigMap cannot carry it.
    let big = incompressible_comments(19_000);
    let r = run(&edit_and_append(&[], &format!("{fleet}{big}")));
    let d = r.expect(code::FLEET_TOO_LARGE, 34, "registry.example/netc:1.0");
    assert!(d.message.contains("1048576 bytes (1 MiB)"), "{}", d.message);
    assert!(d.message.contains("gzip-compressed"), "{}", d.message);
    // The same text without a fleet ships nowhere: nothing to refuse.
    run(&edit_and_append(&[], &big)).lacks(code::FLEET_TOO_LARGE);
    // Text over 1 MiB that compresses is carried (the ConfigMap holds it compressed).
    let repetitive =
        "# the same line again and again, compressing to almost nothing\n".repeat(30_000);
    assert!(repetitive.len() > 1 << 20);
    run(&edit_and_append(&[], &format!("{fleet}{repetitive}"))).lacks(code::FLEET_TOO_LARGE);
}

// netc::fleet::client-side-apply-too-large

#[test]
fn fleet_intent_too_large_for_client_side_apply() {
    let fleet = "fleet:\n  image: registry.example/netc:1.0\n";
    // About 300 KB of text, about 230 KB compressed: the ConfigMap carries it, but its base64
    // (4/3 of that) does not fit kubectl's last-applied annotation (256 KiB).
    let r = run(&edit_and_append(
        &[],
        &format!("{fleet}{}", incompressible_comments(3_800)),
    ));
    let d = r.expect(
        code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE,
        34,
        "registry.example/netc:1.0",
    );
    assert_eq!(d.severity, Severity::Warning);
    let help = d.help.as_deref().unwrap_or("");
    assert!(help.contains("kubectl apply --server-side"), "{help}");
    assert!(
        d.message.contains("262144 bytes (256 KiB)"),
        "{}",
        d.message
    );
    r.lacks(code::FLEET_TOO_LARGE);
    r.clean();
    // About 180 KB compressed: base64 and the object fit the annotation.
    run(&edit_and_append(
        &[],
        &format!("{fleet}{}", incompressible_comments(3_000)),
    ))
    .lacks(code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE);
    // Over 1 MiB compressed: refused, and only that.
    let r = run(&edit_and_append(
        &[],
        &format!("{fleet}{}", incompressible_comments(19_000)),
    ));
    r.expect(code::FLEET_TOO_LARGE, 34, "registry.example/netc:1.0");
    r.lacks(code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE);
}

#[test]
fn fleet_without_image_is_a_parse_error() {
    let r = run(&edit_and_append(&[], "fleet: {interval: 30s}\n"));
    let d = r.diags.first().expect("a finding");
    assert_eq!(d.code, code::PARSE);
    assert!(d.message.contains("image"), "{}", d.message);
}

// ---------------------------------------------------------------------------------------------
// kube-proxy tuning (issue 8 item 4).

#[test]
fn kube_proxy_bad_durations_counts_and_cidrs() {
    let r = run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy:\n    mode: ipvs\n    conntrack: {maxPerCore: -1, min: 3000000000, tcpEstablishedTimeout: 24hours, tcpCloseWaitTimeout: -5s}\n    ipvs: {syncPeriod: 0s, minSyncPeriod: 1m, excludeCIDRs: [10.9.0.1/16, nope]}",
    )]));
    r.expect(code::KUBE_PROXY_INVALID, 16, "-1");
    r.expect(code::KUBE_PROXY_INVALID, 16, "3000000000");
    let d = r.expect(code::KUBE_PROXY_INVALID, 16, "24hours");
    assert!(d.message.contains("unknown unit"), "{}", d.message);
    r.expect(code::KUBE_PROXY_INVALID, 16, "-5s");
    r.expect(code::KUBE_PROXY_INVALID, 17, "0s");
    let d = r.expect(code::KUBE_PROXY_INVALID, 17, "1m");
    assert!(
        d.message.contains("longer than syncPeriod"),
        "{}",
        d.message
    );
    r.also_labels(d, 17, "0s");
    let d = r.expect(code::KUBE_PROXY_INVALID, 17, "10.9.0.1/16");
    assert!(d.message.contains("10.9.0.0/16"), "{}", d.message);
    r.expect(code::KUBE_PROXY_INVALID, 17, "nope");
}

#[test]
fn kube_proxy_min_sync_period_is_checked_against_the_default_sync_period() {
    let r = run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: ipvs, ipvs: {minSyncPeriod: 45s}}",
    )]));
    let d = r.expect(code::KUBE_PROXY_INVALID, 14, "45s");
    assert!(d.message.contains("30s (the default)"), "{}", d.message);
    let ok = run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: ipvs, ipvs: {minSyncPeriod: 30s}, conntrack: {maxPerCore: 0, tcpEstablishedTimeout: \"0\"}}",
    )]));
    ok.lacks(code::KUBE_PROXY_INVALID);
    ok.clean();
}

#[test]
fn kube_proxy_ipvs_settings_outside_ipvs_mode() {
    let r = run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: nftables, strictARP: true, ipvs: {syncPeriod: 10s}}",
    )]));
    let d = r.expect(code::KUBE_PROXY_MODE_MISMATCH, 14, "10s");
    assert!(d.message.contains("nftables"), "{}", d.message);
    r.also_labels(d, 14, "nftables");
    r.expect(code::KUBE_PROXY_MODE_MISMATCH, 14, "true");
    // Conntrack applies to every mode.
    let ok = run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: iptables, conntrack: {min: 1000}}",
    )]));
    ok.lacks(code::KUBE_PROXY_MODE_MISMATCH);
    ok.clean();
}

// ---------------------------------------------------------------------------------------------
// Node addressing (issue 8 item 5).

#[test]
fn node_address_of_a_family_the_cluster_lacks() {
    let r = run(&edit(&[(
        "address: 10.0.1.101/24, interfaces",
        "address: 10.0.1.101/24, secondaryAddress: fd00:1::101/64, externalAddress: 2001:db8::1, interfaces",
    )]));
    let d = r.expect(code::NODES_ADDRESS_FAMILY, 28, "fd00:1::101/64");
    assert!(
        d.message.contains("IPv6") && d.message.contains("are IPv4"),
        "{}",
        d.message
    );
    r.also_labels(d, 9, "10.244.0.0/16");
    r.expect(code::NODES_ADDRESS_FAMILY, 28, "2001:db8::1");
    // kubeadm has no external-address setting: reported, not dropped.
    let d = r.expect(code::NODES_SETTING_NOT_APPLIED, 28, "2001:db8::1");
    assert!(d.message.contains("kubeadm"), "{}", d.message);
}

#[test]
fn node_secondary_address_of_the_same_family_and_two_external_v4() {
    let r = run(&edit(&[
        ("distribution: kubeadm", "distribution: k3s"),
        (
            "kubernetesVersion: v1.31.2",
            "kubernetesVersion: v1.31.2+k3s1",
        ),
        (
            "address: 10.0.1.101/24, interfaces",
            "address: 10.0.1.101/24, secondaryAddress: 10.0.2.101/24, externalAddress: [203.0.113.1, 203.0.113.2], interfaces",
        ),
    ]));
    let d = r.expect(code::NODES_ADDRESS_FAMILY, 28, "10.0.2.101/24");
    r.also_labels(d, 28, "10.0.1.101/24");
    let d = r.expect(code::NODES_ADDRESS_FAMILY, 28, "203.0.113.2");
    r.also_labels(d, 28, "203.0.113.1");
    r.lacks(code::NODES_SETTING_NOT_APPLIED);
}

#[test]
fn dual_stack_node_addressing() {
    let dual = [
        (
            "podCIDR: 10.244.0.0/16",
            "podCIDR: [10.244.0.0/16, fd00:10:244::/56]",
        ),
        (
            "serviceCIDR: 10.96.0.0/12",
            "serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]",
        ),
        (
            "      - {name: eth0, mtu: 1500, purpose: management}\n",
            "      - {name: eth0, mtu: 1500, purpose: management}\n      - {name: eth1, mtu: 1500}\n",
        ),
    ];
    // cp-1 has two interfaces and no IPv6 address: its node-ip would be IPv4 only.
    let r = run(&edit(&dual));
    let d = r.expect(code::NODES_ADDRESS_FAMILY, 25, "10.0.1.100/24");
    assert_eq!(d.severity, Severity::Warning);
    r.clean();
    // With a secondary address, the pair is complete.
    let mut fixed = dual.to_vec();
    fixed.push((
        "    address: 10.0.1.100/24\n",
        "    address: 10.0.1.100/24\n    secondaryAddress: fd00:1::100/64\n",
    ));
    let r = run(&edit(&fixed));
    r.lacks(code::NODES_ADDRESS_FAMILY);
    r.clean();
    // A malformed secondary address is a CIDR finding.
    let mut bad = dual.to_vec();
    bad.push((
        "    address: 10.0.1.100/24\n",
        "    address: 10.0.1.100/24\n    secondaryAddress: fd00:1::100\n",
    ));
    run(&edit(&bad)).expect(code::CIDR_INVALID, 26, "fd00:1::100");
}

/// The secondary (other-family) address is a node address like the primary: two nodes may not
/// share it, and its network may not overlap the pod or service networks.
#[test]
fn secondary_address_duplicate_and_overlap() {
    let dual = [
        (
            "podCIDR: 10.244.0.0/16",
            "podCIDR: [10.244.0.0/16, fd00:10:244::/56]",
        ),
        (
            "serviceCIDR: 10.96.0.0/12",
            "serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]",
        ),
    ];
    let mut dup = dual.to_vec();
    dup.push((
        "address: 10.0.1.101/24, interfaces",
        "address: 10.0.1.101/24, secondaryAddress: fd00:1::7/64, interfaces",
    ));
    dup.push((
        "address: 10.0.1.102/24, interfaces",
        "address: 10.0.1.102/24, secondaryAddress: fd00:1::7/64, interfaces",
    ));
    let r = run(&edit(&dup));
    let d = r.expect(code::NODES_DUPLICATE, 29, "fd00:1::7/64");
    r.also_labels(d, 28, "fd00:1::7/64");
    r.lacks(code::CIDR_OVERLAP);

    let mut overlap = dual.to_vec();
    overlap.push((
        "address: 10.0.1.101/24, interfaces",
        "address: 10.0.1.101/24, secondaryAddress: fd00:10:244:5::1/64, interfaces",
    ));
    let r = run(&edit(&overlap));
    let d = r.expect(code::CIDR_OVERLAP, 28, "fd00:10:244:5::1/64");
    r.also_labels(d, 9, "fd00:10:244::/56");
    r.lacks(code::NODES_DUPLICATE);
}

#[test]
fn datastore_k8s_dqlite_outside_canonical() {
    let r = run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: iptables}\n  datastore: k8s-dqlite",
    )]));
    let d = r.expect(code::DATASTORE_UNSUPPORTED, 15, "k8s-dqlite");
    r.also_labels(d, 7, "kubeadm");
    run(&edit(&[(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: iptables}\n  datastore: etcd",
    )]))
    .clean();
}

/// BASE with `bindAddress: <bind>` on cp-1 (line 26), plus `edits`.
fn with_bind(bind: &str, edits: &[(&str, &str)]) -> String {
    let line = format!("    address: 10.0.1.100/24\n    bindAddress: \"{bind}\"\n");
    let mut all = vec![("    address: 10.0.1.100/24\n", line.as_str())];
    all.extend_from_slice(edits);
    edit(&all)
}

#[test]
fn bind_address_own_or_unspecified_is_clean() {
    for bind in ["10.0.1.100", "0.0.0.0", "::"] {
        let r = run(&with_bind(bind, &[]));
        r.lacks(code::NODES_BIND_ADDRESS);
        r.clean();
    }
    // An interface's own address counts (the control-plane endpoint, cp-1's primary address,
    // would lead elsewhere: it goes).
    let r = run(&with_bind(
        "192.168.50.10",
        &[
            ("  controlPlaneEndpoint: 10.0.1.100:6443\n", ""),
            (
                "      - {name: eth0, mtu: 1500, purpose: management}\n",
                "      - {name: eth0, mtu: 1500, purpose: management}\n      - {name: eth1, mtu: 1500, address: 192.168.50.10/24}\n",
            ),
        ],
    ));
    r.lacks(code::NODES_BIND_ADDRESS);
    r.clean();
}

#[test]
fn bind_address_not_the_nodes_or_with_a_prefix() {
    let r = run(&with_bind("10.0.1.200", &[]));
    let d = r.expect(code::NODES_BIND_ADDRESS, 26, "10.0.1.200");
    assert!(
        d.message.contains("none of its addresses (10.0.1.100)"),
        "{}",
        d.message
    );
    r.also_labels(d, 25, "10.0.1.100/24");
    run(&with_bind("10.0.1.100/24", &[])).expect(code::CIDR_INVALID, 26, "10.0.1.100/24");
}

#[test]
fn bind_address_on_a_worker() {
    let r = run(&edit(&[(
        "address: 10.0.1.101/24, interfaces",
        "address: 10.0.1.101/24, bindAddress: 10.0.1.101, interfaces",
    )]));
    let d = r.expect(code::NODES_BIND_ADDRESS, 28, "10.0.1.101");
    assert!(d.message.contains("worker"), "{}", d.message);
    r.also_labels(d, 28, "worker");
}

#[test]
fn bind_address_of_the_second_family_and_not_where_the_endpoint_leads() {
    let r = run(&with_bind(
        "fd00:1::100",
        &[
            (
                "podCIDR: 10.244.0.0/16",
                "podCIDR: [10.244.0.0/16, fd00:10:244::/56]",
            ),
            (
                "serviceCIDR: 10.96.0.0/12",
                "serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]",
            ),
            (
                "    role: control-plane\n",
                "    role: control-plane\n    secondaryAddress: fd00:1::100/64\n",
            ),
        ],
    ));
    // cp-1: role (24), secondaryAddress (25), address (26), bindAddress (27).
    let d = r.expect(code::NODES_ADDRESS_FAMILY, 27, "fd00:1::100");
    assert!(
        d.message
            .contains("first service CIDR 10.96.0.0/12 is IPv4"),
        "{}",
        d.message
    );
    r.also_labels(d, 10, "10.96.0.0/12");
    // controlPlaneEndpoint 10.0.1.100 is cp-1's own address, where nothing would listen.
    let d = r.expect(code::NODES_BIND_ADDRESS, 27, "fd00:1::100");
    r.also_labels(d, 13, "10.0.1.100:6443");
}

#[test]
fn bind_address_not_applied_on_rke2_and_canonical_warned_on_manual() {
    let r = run(&with_bind(
        "10.0.1.100",
        &[
            ("distribution: kubeadm", "distribution: rke2"),
            (
                "kubernetesVersion: v1.31.2",
                "kubernetesVersion: v1.31.2+rke2r1",
            ),
        ],
    ));
    let d = r.expect(code::NODES_SETTING_NOT_APPLIED, 26, "10.0.1.100");
    assert!(d.message.contains("localhost"), "{}", d.message);
    r.also_labels(d, 7, "rke2");
    // The unspecified address is RKE2's own: nothing to report.
    let r = run(&with_bind(
        "0.0.0.0",
        &[
            ("distribution: kubeadm", "distribution: rke2"),
            (
                "kubernetesVersion: v1.31.2",
                "kubernetesVersion: v1.31.2+rke2r1",
            ),
        ],
    ));
    r.lacks(code::NODES_SETTING_NOT_APPLIED);
    let r = run(&with_bind(
        "10.0.1.100",
        &[("distribution: kubeadm", "distribution: canonical")],
    ));
    let d = r.expect(code::NODES_SETTING_NOT_APPLIED, 26, "10.0.1.100");
    assert!(d.message.contains("Canonical Kubernetes"), "{}", d.message);
    r.also_labels(d, 7, "canonical");
    let r = run(&with_bind(
        "10.0.1.100",
        &[("distribution: kubeadm", "distribution: manual")],
    ));
    let d = r.expect(code::NODES_BIND_ADDRESS, 26, "10.0.1.100");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("127.0.0.1:6443"), "{}", d.message);
    r.clean();
}

// ---------------------------------------------------------------------------------------------
// lint.allow and netc::lint::invalid (issue 16 item 7)

/// Two namespaces that deny egress without DNS: a `netc::policy::dns-blocked` warning each.
fn two_dns_blocked(first_lint: &str, top_lint: &str) -> String {
    edit_and_append(
        &calico(),
        &format!(
            "policies:
  - namespace: production
    defaultDeny: [ingress, egress]
    allowDNS: false
{first_lint}  - namespace: staging
    defaultDeny: [ingress, egress]
    allowDNS: false
{top_lint}"
        ),
    )
}

#[test]
fn lint_allow_accepts_warnings_top_level_and_per_policy() {
    let r = run(&two_dns_blocked("", ""));
    r.expect(code::POLICY_DNS_BLOCKED, 36, "false");
    r.expect(code::POLICY_DNS_BLOCKED, 39, "false");
    // Per policy: only the finding inside that policy is accepted.
    let r = run(&two_dns_blocked(
        "    lint: {allow: [netc::policy::dns-blocked]}\n",
        "",
    ));
    let blocked: Vec<_> = r
        .diags
        .iter()
        .filter(|d| d.code == code::POLICY_DNS_BLOCKED)
        .collect();
    assert_eq!(blocked.len(), 1, "{}", r.listing());
    r.expect(code::POLICY_DNS_BLOCKED, 40, "false");
    r.lacks(code::LINT_INVALID);
    // Top level: every finding of the code.
    let r = run(&two_dns_blocked(
        "",
        "lint:\n  allow: [netc::policy::dns-blocked]\n",
    ));
    r.lacks(code::POLICY_DNS_BLOCKED);
    r.clean();
}

#[test]
fn lint_invalid_unknown_or_error_code() {
    let r = run(&two_dns_blocked(
        "",
        "lint:\n  allow:\n    - netc::policy::dns-blocke\n    - netc::cidr::overlap\n",
    ));
    let d = r.expect(code::LINT_INVALID, 42, "netc::policy::dns-blocke");
    assert!(
        d.help
            .as_deref()
            .unwrap_or("")
            .contains("netc::policy::dns-blocked"),
        "{:?}",
        d.help
    );
    let d = r.expect(code::LINT_INVALID, 43, "netc::cidr::overlap");
    assert!(d.message.contains("error"), "{}", d.message);
    // The valid-looking but wrong entries accept nothing.
    r.expect(code::POLICY_DNS_BLOCKED, 36, "false");
}

/// The catalogue behind SARIF's rules and `lint.allow` lists exactly the README's codes.
#[test]
fn the_code_catalogue_is_the_readme_table() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README");
    let table = readme
        .split("\n## Diagnostics\n")
        .nth(1)
        .expect("a Diagnostics section");
    let mut documented: Vec<String> = Vec::new();
    for line in table.lines().skip_while(|l| !l.starts_with("| `")) {
        if !line.starts_with("| `") {
            break;
        }
        let first = line.split(" | ").next().unwrap_or("");
        documented.extend(
            first
                .split('`')
                .filter(|s| s.starts_with("netc::"))
                .map(str::to_owned),
        );
    }
    let mut catalogued: Vec<String> = netc::diagnostic::rules::RULES
        .iter()
        .map(|r| r.code.to_owned())
        .collect();
    documented.sort();
    catalogued.sort();
    assert_eq!(documented, catalogued);
}

#[test]
fn deny_warnings_fails_on_a_warning_the_intent_does_not_accept() {
    let dir = tempfile::tempdir().unwrap();
    // Without the VXLAN settings calico has no use for: only the DNS warnings are left.
    let text = two_dns_blocked("", "").replace("  vxlan: {port: 8472, vni: 1}\n", "");
    let warn = dir.path().join("warn.yaml");
    std::fs::write(&warn, &text).unwrap();
    let accepted = dir.path().join("accepted.yaml");
    std::fs::write(
        &accepted,
        format!("{text}lint: {{allow: [netc::policy::dns-blocked]}}\n"),
    )
    .unwrap();
    let netc = |args: &[&std::path::Path], deny: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_netc"));
        c.arg("check").args(args).env("NO_COLOR", "1");
        if deny {
            c.arg("--deny-warnings");
        }
        c.output().unwrap().status.code()
    };
    assert_eq!(netc(&[&warn], false), Some(0));
    assert_eq!(netc(&[&warn], true), Some(1));
    assert_eq!(netc(&[&accepted], true), Some(0));
}

// ---------------------------------------------------------------------------------------------
// Target profiles (`plan/profile/`): facts asked outside the versions they are known for.

/// BASE as a Canonical Kubernetes cluster at `version` with `plugin`.
fn canonical(version: &str, plugin: &str, edits: &[(&str, &str)]) -> String {
    let version_line = format!("  kubernetesVersion: {version}");
    let plugin_line = format!("  plugin: {plugin}");
    let mut all = vec![
        ("  distribution: kubeadm", "  distribution: canonical"),
        ("  kubernetesVersion: v1.31.2", version_line.as_str()),
        ("  plugin: flannel", plugin_line.as_str()),
        ("  vxlan: {port: 8472, vni: 1}\n", ""),
    ];
    all.extend_from_slice(edits);
    edit(&all)
}

#[test]
fn profile_version_below_every_range() {
    let r = run(&edit(&[("v1.31.2", "v1.21.0")]));
    let d = r.expect(code::PROFILE_VERSION_UNSUPPORTED, 8, "v1.21.0");
    assert!(d.message.contains("1.22"), "{}", d.message);
    r.also_labels(d, 7, "kubeadm");
    let r = run(&canonical("v1.29.4", "cilium", &[]));
    r.expect(code::PROFILE_VERSION_UNSUPPORTED, 8, "v1.29.4");
}

#[test]
fn profile_version_newer_than_verified_warns() {
    let r = run(&edit(&[("v1.31.2", "v1.37.0")]));
    let d = r.expect(code::PROFILE_VERSION_UNVERIFIED, 8, "v1.37.0");
    assert_eq!(d.severity, Severity::Warning);
    r.clean();
    run(&edit(&[("v1.31.2", "v1.36.1")])).lacks(code::PROFILE_VERSION_UNVERIFIED);
}

#[test]
fn canonical_calico_only_in_the_moonray_releases() {
    // k8s-snap's default build runs Cilium; its moonray flavor (1.32-1.33) ran Calico.
    let r = run(&canonical("v1.35.0", "calico", &[]));
    let d = r.expect(code::CNI_UNSUPPORTED, 16, "calico");
    assert!(d.message.contains("1.32–1.33"), "{}", d.message);
    r.also_labels(d, 8, "v1.35.0");
    let r = run(&canonical("v1.33.2", "calico", &[]));
    let d = r.expect(code::CNI_BUILTIN_FLAVOR, 16, "calico");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.message.contains("Cilium"), "{}", d.message);
    r.lacks(code::CNI_UNSUPPORTED);
    let r = run(&canonical("v1.35.0", "cilium", &[]));
    r.lacks(code::CNI_BUILTIN_FLAVOR);
    r.clean();
}

#[test]
fn kube_proxy_nftables_needs_1_29() {
    let r = run(&edit(&[
        ("v1.31.2", "v1.28.9"),
        ("{mode: iptables}", "{mode: nftables}"),
    ]));
    let d = r.expect(code::KUBE_PROXY_INVALID, 14, "nftables");
    r.also_labels(d, 8, "v1.28.9");
    for v in ["v1.29.0", "v1.30.5", "v1.31.2"] {
        run(&edit(&[
            ("v1.31.2", v),
            ("{mode: iptables}", "{mode: nftables}"),
        ]))
        .clean();
    }
}

#[test]
fn canonical_1_36_has_no_k8s_dqlite_and_no_kube_proxy() {
    let ds = [(
        "  kubeProxy: {mode: iptables}",
        "  kubeProxy: {mode: iptables}\n  datastore: k8s-dqlite",
    )];
    let r = run(&canonical("v1.36.0", "cilium", &ds));
    let d = r.expect(code::DATASTORE_UNSUPPORTED, 15, "k8s-dqlite");
    r.also_labels(d, 8, "v1.36.0");
    run(&canonical("v1.35.0", "cilium", &ds)).lacks(code::DATASTORE_UNSUPPORTED);
    let r = run(&canonical("v1.36.0", "cilium", &[]));
    let d = r.expect(code::KUBE_PROXY_NOT_APPLIED, 14, "iptables");
    assert_eq!(d.severity, Severity::Warning);
    r.clean();
    run(&canonical("v1.35.0", "cilium", &[])).lacks(code::KUBE_PROXY_NOT_APPLIED);
}

/// Every kube-proxy setting Canonical Kubernetes 1.36 ignores is labelled, not only `mode`,
/// `ipvsScheduler`, `strictARP` and `conntrack.maxPerCore`: an intent with conntrack limits and
/// timeouts alone is pointed at those lines, each one, beside `kubernetesVersion`; IPVS tuning
/// likewise.
#[test]
fn kube_proxy_not_applied_labels_every_setting_given() {
    let conntrack = [(
        "  kubeProxy: {mode: iptables}\n",
        "  kubeProxy:\n    conntrack:\n      min: 262144\n      tcpEstablishedTimeout: 48h\n",
    )];
    let r = run(&canonical("v1.36.0", "cilium", &conntrack));
    let d = r.expect(code::KUBE_PROXY_NOT_APPLIED, 16, "262144");
    assert_eq!(d.severity, Severity::Warning);
    r.also_labels(d, 17, "48h");
    r.also_labels(d, 8, "v1.36.0");
    assert_eq!(d.labels.len(), 3, "{:?}", d.labels);
    r.clean();
    // The same settings where kube-proxy runs: applied, nothing to report.
    run(&canonical("v1.35.0", "cilium", &conntrack)).lacks(code::KUBE_PROXY_NOT_APPLIED);

    let ipvs = [(
        "  kubeProxy: {mode: iptables}\n",
        "  kubeProxy:\n    mode: ipvs\n    ipvs:\n      syncPeriod: 1m\n      excludeCIDRs: [10.9.0.0/16]\n",
    )];
    let r = run(&canonical("v1.36.0", "cilium", &ipvs));
    let d = r.expect(code::KUBE_PROXY_NOT_APPLIED, 15, "ipvs");
    r.also_labels(d, 17, "1m");
    r.also_labels(d, 18, "10.9.0.0/16");
    r.clean();
}

#[test]
fn endpoint_port_on_the_node_itself_needs_a_port_setting() {
    let port = [("10.0.1.100:6443", "10.0.1.100:8443")];
    let r = run(&canonical("v1.35.0", "cilium", &port));
    let d = r.expect(code::ENDPOINT_PORT_UNSUPPORTED, 13, "10.0.1.100:8443");
    r.also_labels(d, 7, "canonical");
    // kubeadm takes it (localAPIEndpoint.bindPort); a load balancer's address is no node's.
    run(&edit(&port)).lacks(code::ENDPOINT_PORT_UNSUPPORTED);
    run(&canonical(
        "v1.35.0",
        "cilium",
        &[("10.0.1.100:6443", "10.0.9.9:8443")],
    ))
    .lacks(code::ENDPOINT_PORT_UNSUPPORTED);
}

// ---------------------------------------------------------------------------------------------
// Issue 16 item 14: other tools' role names, a kubernetesVersion YAML reads as a number

#[test]
fn parse_role_names_of_other_tools_suggest_netc_s() {
    for (role, suggestion) in [("server", "control-plane"), ("master", "control-plane")] {
        let r = run(&edit(&[("role: control-plane", &format!("role: {role}"))]));
        let d = r.expect(code::PARSE, 24, role);
        assert_eq!(
            d.help.as_deref(),
            Some(format!("did you mean `{suggestion}`?").as_str())
        );
    }
    let r = run(&edit(&[(
        "{name: worker-1, role: worker,",
        "{name: worker-1, role: agent,",
    )]));
    let d = r.expect(code::PARSE, 28, "agent");
    assert_eq!(d.help.as_deref(), Some("did you mean `worker`?"));
}

#[test]
fn parse_kubernetes_version_as_a_yaml_number() {
    let r = run(&edit(&[(
        "kubernetesVersion: v1.31.2",
        "kubernetesVersion: 1.31",
    )]));
    let d = r.expect(code::PARSE, 8, "1.31");
    assert!(d.message.contains("number"), "{}", d.message);
    // Quoted, it is a string, as the JSON Schema takes it.
    let r = run(&edit(&[(
        "kubernetesVersion: v1.31.2",
        "kubernetesVersion: \"1.31.2\"",
    )]));
    r.lacks(code::PARSE);
}

#[test]
fn firewall_zone_with_nftables_is_a_warning() {
    let zone = [(
        "  backend: nftables",
        "  backend: nftables\n  zone: trusted",
    )];
    let r = run(&edit(&zone));
    let d = r.expect(code::FIREWALL_NOT_APPLIED, 32, "trusted");
    assert_eq!(d.severity, Severity::Warning);
    r.also_labels(d, 31, "nftables");
    r.clean();
    // firewalld takes the zone; nftables without one has nothing to report.
    run(&edit(&[(
        "  backend: nftables",
        "  backend: firewalld\n  zone: trusted",
    )]))
    .lacks(code::FIREWALL_NOT_APPLIED);
    run(BASE).lacks(code::FIREWALL_NOT_APPLIED);
}

#[test]
fn verbose_check_says_which_node_lowers_an_auto_mtu() {
    let bin = env!("CARGO_BIN_EXE_netc");
    let dir = std::env::temp_dir().join(format!("netc-mtu-note-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("intent.yaml");
    // One worker's eth0 has MTU 1400, the others 9000: auto takes the smallest.
    let text = BASE.replace("mtu: 1500", "mtu: 9000").replacen(
        "{name: eth0, mtu: 9000}",
        "{name: eth0, mtu: 1400}",
        1,
    );
    assert!(text.contains("mtu: 1400"), "the base changed:\n{text}");
    std::fs::write(&path, &text).expect("write");
    let out = Command::new(bin)
        .args(["check", "-v"])
        .arg(&path)
        .output()
        .expect("runs");
    let quiet = Command::new(bin)
        .arg("check")
        .arg(&path)
        .output()
        .expect("runs");
    let _ = std::fs::remove_dir_all(&dir);
    // Without -v there is no note.
    assert!(!String::from_utf8_lossy(&quiet.stderr).contains("pod MTU"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let note = stderr
        .lines()
        .find(|l| l.contains("pod MTU"))
        .unwrap_or_else(|| panic!("no MTU note:\n{stderr}"));
    assert!(
        note.contains("pod MTU 1350 (auto)") && note.contains("interface eth0 (MTU 1400)"),
        "{note}"
    );
    assert!(
        note.contains("lowers the pod MTU of every node") && note.contains("MTU 9000"),
        "{note}"
    );
    // Which node: the one whose eth0 is 1400.
    let node = text
        .lines()
        .find(|l| l.contains("mtu: 1400"))
        .and_then(|l| l.split("name: ").nth(1))
        .and_then(|n| n.split([',', '}']).next())
        .expect("a node line");
    assert!(note.contains(&format!("node {node}'s")), "{note}");
}
