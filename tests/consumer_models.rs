//! Consumer models: every example, and a generated matrix of distribution × plugin ×
//! encapsulation × {default, custom VXLAN port/VNI, explicit MTU, jumbo data interface, mixed
//! jumbo}, is built and its files are read back the way each consumer reads them
//! (`consumer_models/readers.rs`), never through netc's Plan. The default variant also runs
//! across a version matrix (`matrix_versions`: Kubernetes 1.29, 1.30, 1.31, 1.36; k8s-snap 1.32
//! and 1.36; RKE2 and k3s 1.31 and 1.36), each file read back with the rules of its version
//! (kubeadm's config API, kube-proxy's nftables gate, Canonical 1.36's missing kube-proxy, the
//! CoreDNS label a DNS allowance selects). For every cluster `check` accepts:
//!
//! - the firewall (nftables and firewalld) opens every UDP port the CNI will use and no other
//!   (besides DHCP, NodePorts, the host overlay and the intent's own rules);
//! - the pod veth MTU plus the encapsulation's wire overhead fits the smallest data-path MTU,
//!   and never exceeds the tunnel device's MTU;
//! - every artifact agrees on the pod CIDR, the service CIDR and the DNS address, and the DNS
//!   Service really is where kubelets send pods.
//!
//! Plus "no silent drop": for every intent setting and every target, either the target's
//! files change when the setting changes, or `check` reports a diagnostic naming the target.

mod build_common;
#[path = "consumer_models/readers.rs"]
mod readers;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ipnet::IpNet;
use netc::diagnostic::{Diag, SourceFile, code};
use netc::emit::{self, Context};
use netc::intent::Syntax;
use netc::pipeline;
use readers::{ClusterNet, DataPath, Files, Hosts};
use serde_json::Value;

const DISTRIBUTIONS: &[&str] = &["kubeadm", "rke2", "k3s", "canonical", "manual"];
const PLUGINS: &[&str] = &["flannel", "calico", "canal", "cilium", "bridge"];
const ENCAPSULATIONS: &[&str] = &[
    "vxlan",
    "vxlan-cross-subnet",
    "ipip",
    "bgp",
    "host-gw",
    "wireguard",
    "none",
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    Default,
    CustomVxlan,
    ExplicitMtu,
    Jumbo,
    JumboMixed,
    DualStack,
}

const VARIANTS: &[Variant] = &[
    Variant::Default,
    Variant::CustomVxlan,
    Variant::ExplicitMtu,
    Variant::Jumbo,
    Variant::JumboMixed,
    Variant::DualStack,
];

/// One generated intent.
#[derive(Clone, Debug)]
struct Spec {
    dist: &'static str,
    plugin: &'static str,
    encap: &'static str,
    /// Extra `cni:` keys (`vxlan: {port: 9999}`), one per line, already indented.
    cni_extra: Vec<String>,
    /// Extra `cluster:` keys.
    cluster_extra: Vec<String>,
    /// Extra keys of the control-plane node `cp-1`.
    cp_extra: Vec<String>,
    pod_cidr: &'static str,
    service_cidr: &'static str,
    /// Each node's eth1 MTU (`None`: no eth1).
    eth1: [Option<u32>; 3],
    /// Whether eth1 is declared `purpose: data`.
    eth1_data: bool,
    firewall: &'static str,
    /// `kubernetesVersion` (`None`: the distribution's default version, `default_version`).
    version: Option<&'static str>,
}

/// The versions the default variant runs at (the other variants run at `default_version`):
/// Kubernetes 1.29, 1.30, 1.31 and the newest the profiles know (1.36) for kubeadm and a
/// hand-run cluster, k8s-snap 1.32 and 1.36, RKE2 and k3s releases of 1.31 and 1.36. kubeadm
/// and manual run them with kube-proxy `mode: nftables` (its gate differs by version).
fn matrix_versions(dist: &str) -> &'static [&'static str] {
    match dist {
        "kubeadm" | "manual" => &["v1.29.4", "v1.30.2", "v1.31.2", "v1.36.0"],
        "rke2" => &["v1.31.4+rke2r1", "v1.36.0+rke2r1"],
        "k3s" => &["v1.31.3+k3s1", "v1.36.0+k3s1"],
        _ => &["v1.32.0", "v1.36.0"],
    }
}

impl Spec {
    fn new(dist: &'static str, plugin: &'static str, encap: &'static str) -> Self {
        Self {
            dist,
            plugin,
            encap,
            cni_extra: Vec::new(),
            cluster_extra: Vec::new(),
            cp_extra: Vec::new(),
            pod_cidr: "10.244.0.0/16",
            service_cidr: "10.96.0.0/16",
            eth1: [None; 3],
            eth1_data: false,
            firewall: "nftables",
            version: None,
        }
    }

    fn with_variant(mut self, v: Variant) -> Self {
        match v {
            Variant::Default => {}
            Variant::CustomVxlan => self.cni_extra.push("vxlan: {port: 9999, vni: 77}".into()),
            Variant::ExplicitMtu => self.cni_extra.push("mtu: 1360".into()),
            Variant::Jumbo => {
                self.eth1 = [Some(9000); 3];
                self.eth1_data = true;
                self.cni_extra.push("interface: eth1".into());
            }
            Variant::JumboMixed => {
                self.eth1 = [Some(9000), Some(1500), Some(1500)];
                self.eth1_data = true;
                self.cni_extra.push("interface: eth1".into());
            }
            Variant::DualStack => {
                self.pod_cidr = "10.244.0.0/16,fd00:10:244::/56";
                self.service_cidr = "10.96.0.0/16,fd00:10:96::/112";
            }
        }
        self
    }

    fn version(&self) -> &'static str {
        self.version.unwrap_or_else(|| self.default_version())
    }

    fn default_version(&self) -> &'static str {
        match self.dist {
            "kubeadm" => "v1.31.2",
            "rke2" => "v1.31.4+rke2r1",
            "k3s" => "v1.31.3+k3s1",
            _ => "v1.32.0",
        }
    }

    fn yaml(&self) -> String {
        let mut y = String::new();
        let _ = writeln!(y, "apiVersion: netc/v1alpha1\nkind: NetworkIntent");
        let _ = writeln!(y, "metadata: {{name: matrix}}\ncluster:");
        let _ = writeln!(y, "  distribution: {}", self.dist);
        let _ = writeln!(y, "  kubernetesVersion: {}", self.version());
        let list = |s: &str| {
            if s.contains(',') {
                format!("[{}]", s.replace(',', ", "))
            } else {
                s.to_owned()
            }
        };
        let _ = writeln!(y, "  podCIDR: {}", list(self.pod_cidr));
        let _ = writeln!(y, "  serviceCIDR: {}", list(self.service_cidr));
        for line in &self.cluster_extra {
            let _ = writeln!(y, "  {line}");
        }
        let _ = writeln!(y, "cni:\n  plugin: {}", self.plugin);
        let _ = writeln!(y, "  encapsulation: {}", self.encap);
        for line in &self.cni_extra {
            let _ = writeln!(y, "  {line}");
        }
        let _ = writeln!(y, "nodes:");
        let names = ["cp-1", "worker-1", "worker-2"];
        for (i, name) in names.iter().enumerate() {
            let role = if i == 0 { "control-plane" } else { "worker" };
            let _ = writeln!(y, "  - name: {name}\n    role: {role}");
            let _ = writeln!(y, "    address: 10.0.1.{}/24", 10 + i);
            if i == 0 {
                for line in &self.cp_extra {
                    let _ = writeln!(y, "    {line}");
                }
            }
            let _ = writeln!(y, "    interfaces:");
            let _ = writeln!(y, "      - {{name: eth0, mtu: 1500, purpose: management}}");
            if let Some(mtu) = self.eth1[i] {
                let purpose = if self.eth1_data {
                    ", purpose: data"
                } else {
                    ""
                };
                let _ = writeln!(
                    y,
                    "      - {{name: eth1, mtu: {mtu}{purpose}, address: 10.1.0.{}/24}}",
                    10 + i
                );
            }
        }
        let _ = writeln!(y, "firewall:\n  backend: {}", self.firewall);
        let _ = writeln!(y, "  managementAccess: [tcp/22]");
        y
    }

    /// The data-path MTU of each node: eth1's when the CNI uses it, else eth0's.
    fn hosts(&self) -> Hosts {
        let uses_eth1 = self.cni_extra.iter().any(|l| l == "interface: eth1");
        Hosts {
            node_mtus: self
                .eth1
                .iter()
                .map(|m| if uses_eth1 { m.unwrap_or(1500) } else { 1500 })
                .collect(),
            canonical_builtin: self.plugin,
            version: readers::minor_of(self.version()),
        }
    }
}

/// `check`'s verdict and, when it accepts, every file `build` writes.
fn run(name: &str, text: &str) -> (Vec<Diag>, Option<Files>) {
    let src = SourceFile::new(name, text.to_owned());
    let checked = pipeline::check(&src, Syntax::from_path(name));
    let files = checked.valid_plan().map(|plan| {
        let mut files = BTreeMap::new();
        emit::emit_all(Context::new(plan, name), &mut files).expect("emit");
        files
    });
    (checked.diagnostics, files)
}

/// What the test itself knows about a cluster (from the intent it wrote, not the Plan).
struct Expect {
    dist: String,
    plugin: String,
    pod_cidrs: Vec<IpNet>,
    service_cidrs: Vec<IpNet>,
    cluster_dns: Option<std::net::IpAddr>,
    /// UDP ports the firewall may open besides the CNI's.
    infra_udp: BTreeSet<u16>,
}

fn infra(extra: impl IntoIterator<Item = u16>) -> BTreeSet<u16> {
    // DHCP client replies and the NodePort range.
    let mut s: BTreeSet<u16> = [68, 546].into_iter().collect();
    s.extend(30000..=32767);
    s.extend(extra);
    s
}

fn tenth(net: &IpNet) -> std::net::IpAddr {
    match net {
        IpNet::V4(v4) => std::net::IpAddr::V4((u32::from(v4.network()) + 10).into()),
        IpNet::V6(v6) => std::net::IpAddr::V6((u128::from(v6.network()) + 10).into()),
    }
}

/// Every consumer-model assertion on one accepted cluster; returns the problems found.
fn verify(label: &str, files: &Files, hosts: &Hosts, expect: &Expect) -> Vec<String> {
    let mut problems = Vec::new();
    let mut fail = |m: String| problems.push(format!("{label}: {m}"));
    let (net, dp): (ClusterNet, Option<DataPath>) =
        readers::read_cluster(&expect.dist, files, hosts);

    // One pod CIDR, one service CIDR, one DNS address everywhere.
    if net.pod_cidrs != expect.pod_cidrs {
        fail(format!(
            "distribution pod CIDR {:?} != intent {:?}",
            net.pod_cidrs, expect.pod_cidrs
        ));
    }
    if net.service_cidrs != expect.service_cidrs {
        fail(format!(
            "service CIDR {:?} != intent {:?}",
            net.service_cidrs, expect.service_cidrs
        ));
    }
    let want_dns = expect
        .cluster_dns
        .or_else(|| expect.service_cidrs.first().map(tenth));
    if net.kubelet_dns != want_dns || net.dns_service != want_dns {
        fail(format!(
            "DNS: kubelets use {:?}, the DNS Service is at {:?}, intent {:?}",
            net.kubelet_dns, net.dns_service, want_dns
        ));
    }
    if let Some(dns) = net.dns_service
        && !net.service_cidrs.iter().any(|n| n.contains(&dns))
    {
        fail(format!("DNS {dns} outside the service CIDR"));
    }

    // The DNS allowance selects the label CoreDNS carries on this distribution and version.
    for (path, _) in files.range::<String, _>("policies/".to_owned()..) {
        if !path.starts_with("policies/") {
            break;
        }
        for d in readers::yaml_docs(files, path) {
            if d["metadata"]["name"] != "allow-dns" {
                continue;
            }
            let (k, v) = readers::coredns_label(&expect.dist, hosts.version);
            for rule in d["spec"]["egress"].as_array().into_iter().flatten() {
                for to in rule["to"].as_array().into_iter().flatten() {
                    let labels = &to["podSelector"]["matchLabels"];
                    if !labels.is_null() && labels[k] != v {
                        fail(format!(
                            "{path}: allow-dns selects {labels}, CoreDNS is {k}: {v}"
                        ));
                    }
                }
            }
        }
    }
    let Some(dp) = dp else {
        if expect.plugin != "none" {
            fail(format!("no CNI configuration read for {}", expect.plugin));
        }
        return problems;
    };
    for cidr in &dp.pod_cidrs {
        if !expect.pod_cidrs.iter().any(|p| p.contains(cidr)) {
            fail(format!(
                "{}: pod CIDR {cidr} outside {:?}",
                dp.consumer, expect.pod_cidrs
            ));
        }
    }
    if expect.plugin != "bridge" && !dp.pod_cidrs.is_empty() {
        let mut got = dp.pod_cidrs.clone();
        got.sort();
        let mut want = expect.pod_cidrs.clone();
        want.sort();
        if got != want {
            fail(format!("{}: pod CIDRs {got:?} != {want:?}", dp.consumer));
        }
    }

    // MTU: pod + wire overhead fits the smallest data path; pod <= tunnel device.
    let largest_pod = dp.pod_mtus.iter().copied().max().unwrap_or(0);
    if largest_pod + dp.wire_overhead > hosts.min_mtu() {
        fail(format!(
            "{}: pod MTU {largest_pod} + overhead {} > data-path MTU {} (nodes {:?}, pods {:?})",
            dp.consumer,
            dp.wire_overhead,
            hosts.min_mtu(),
            hosts.node_mtus,
            dp.pod_mtus
        ));
    }
    for (i, (pod, dev)) in dp.pod_mtus.iter().zip(&dp.device_mtus).enumerate() {
        if pod > dev {
            fail(format!(
                "{}: node {i}: pod MTU {pod} > tunnel device MTU {dev}",
                dp.consumer
            ));
        }
    }

    // Firewall: exactly the CNI's UDP ports (plus the infrastructure ones).
    let fw: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("firewall/"))
        .collect();
    if fw.is_empty() {
        fail("no firewall file".into());
    }
    for path in fw {
        let open = readers::firewall_udp_ports(path, readers::text(files, path));
        let missing: Vec<&u16> = dp.udp_ports.difference(&open).collect();
        if !missing.is_empty() {
            fail(format!(
                "{path} does not open {missing:?}, which {} uses",
                dp.consumer
            ));
        }
        let extra: Vec<&u16> = open
            .iter()
            .filter(|p| !dp.udp_ports.contains(p) && !expect.infra_udp.contains(p))
            .collect();
        if !extra.is_empty() {
            fail(format!(
                "{path} opens {extra:?}, which {} does not use",
                dp.consumer
            ));
        }
    }
    problems
}

fn nets_of(s: &str) -> Vec<IpNet> {
    let mut v: Vec<IpNet> = s
        .split(',')
        .map(|p| p.trim().parse().expect("cidr"))
        .collect();
    v.sort_by_key(|n| matches!(n, IpNet::V6(_)));
    v
}

fn errors(diags: &[Diag]) -> Vec<&Diag> {
    diags
        .iter()
        .filter(|d| d.severity == netc::diagnostic::Severity::Error)
        .collect()
}

#[test]
fn generated_matrix_agrees_with_its_consumers() {
    let mut accepted = 0usize;
    let mut per_dist: BTreeMap<&str, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for &dist in DISTRIBUTIONS {
        for &plugin in PLUGINS {
            for &encap in ENCAPSULATIONS {
                // Every variant at the distribution's default version, then the default
                // variant at each version of the version matrix.
                let runs = VARIANTS.iter().map(|&v| (v, None)).chain(
                    matrix_versions(dist)
                        .iter()
                        .map(|&version| (Variant::Default, Some(version))),
                );
                for (variant, version) in runs {
                    for firewall in ["nftables", "firewalld"] {
                        let mut spec = Spec::new(dist, plugin, encap).with_variant(variant);
                        spec.firewall = firewall;
                        if version.is_some() {
                            spec.version = version;
                            if matches!(dist, "kubeadm" | "manual") {
                                spec.cluster_extra
                                    .push("kubeProxy: {mode: nftables}".into());
                            }
                        }
                        let label = format!(
                            "{dist}/{plugin}/{encap}/{variant:?}/{firewall}/{}",
                            spec.version()
                        );
                        let (diags, files) = run("matrix.yaml", &spec.yaml());
                        let Some(files) = files else {
                            assert!(!errors(&diags).is_empty(), "{label}: no files, no errors");
                            continue;
                        };
                        accepted += 1;
                        *per_dist.entry(dist).or_default() += 1;
                        let expect = Expect {
                            dist: dist.to_owned(),
                            plugin: plugin.to_owned(),
                            pod_cidrs: nets_of(spec.pod_cidr),
                            service_cidrs: nets_of(spec.service_cidr),
                            cluster_dns: None,
                            infra_udp: infra([]),
                        };
                        problems.extend(verify(&label, &files, &spec.hosts(), &expect));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The matrix must exercise every distribution, not just parse.
    for dist in DISTRIBUTIONS {
        assert!(
            per_dist.get(dist).copied().unwrap_or(0) >= 10,
            "{dist}: only {:?} accepted combinations",
            per_dist.get(dist)
        );
    }
    eprintln!("{accepted} accepted combinations checked: {per_dist:?}");
}

/// The data-path MTU of each node of an example, read from the intent file: the CNI
/// interface's MTU, else the data interfaces', else every interface's smallest (1500 unset).
fn example_hosts(intent: &Value) -> Hosts {
    let iface = intent["cni"]["interface"].as_str();
    let node_mtus = intent["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| {
            let ifs: Vec<&Value> = n["interfaces"].as_array().into_iter().flatten().collect();
            let mtu = |i: &&Value| i["mtu"].as_u64().map_or(1500, |m| m as u32);
            let chosen: Vec<&Value> = match iface {
                Some(name) => ifs.iter().copied().filter(|i| i["name"] == name).collect(),
                None => {
                    let data: Vec<&Value> = ifs
                        .iter()
                        .copied()
                        .filter(|i| i["purpose"] == "data")
                        .collect();
                    if data.is_empty() { ifs.clone() } else { data }
                }
            };
            chosen.iter().map(mtu).min().unwrap_or(1500)
        })
        .collect();
    let builtin = match intent["cni"]["plugin"].as_str() {
        Some("cilium") => "cilium",
        _ => "calico",
    };
    Hosts {
        node_mtus,
        canonical_builtin: builtin,
        version: readers::minor_of(
            intent["cluster"]["kubernetesVersion"]
                .as_str()
                .unwrap_or("v1.31.0"),
        ),
    }
}

#[test]
fn every_example_agrees_with_its_consumers() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for rel in build_common::all_intents()
        .into_iter()
        .filter(|r| r.starts_with("examples/"))
    {
        let text = std::fs::read_to_string(build_common::repo().join(&rel)).expect("read");
        let intent: Value = serde_saphyr::from_str(&text).expect("example YAML");
        let (diags, files) = run(&rel, &text);
        let files = files.unwrap_or_else(|| panic!("{rel} has errors: {diags:?}"));
        let list = |v: &Value| -> Vec<IpNet> {
            match v {
                Value::String(s) => nets_of(s),
                Value::Array(a) => {
                    let mut n: Vec<IpNet> = a
                        .iter()
                        .filter_map(Value::as_str)
                        .map(|s| s.parse().expect("cidr"))
                        .collect();
                    n.sort_by_key(|n| matches!(n, IpNet::V6(_)));
                    n
                }
                _ => Vec::new(),
            }
        };
        let mut udp_extra: Vec<u16> = Vec::new();
        if let Some(p) = intent["hostOverlay"]["vxlan"]["port"].as_u64() {
            udp_extra.push(p as u16);
        }
        for rule in intent["firewall"]["rules"].as_array().into_iter().flatten() {
            for p in rule["ports"].as_array().into_iter().flatten() {
                if let Some(spec) = p.as_str().and_then(|s| s.strip_prefix("udp/")) {
                    let (a, b) = spec.split_once('-').unwrap_or((spec, spec));
                    udp_extra.extend(a.parse::<u16>().expect("port")..=b.parse().expect("port"));
                }
            }
        }
        let expect = Expect {
            dist: intent["cluster"]["distribution"]
                .as_str()
                .expect("distribution")
                .to_owned(),
            plugin: intent["cni"]["plugin"].as_str().expect("plugin").to_owned(),
            pod_cidrs: list(&intent["cluster"]["podCIDR"]),
            service_cidrs: list(&intent["cluster"]["serviceCIDR"]),
            cluster_dns: intent["cluster"]["clusterDNS"]
                .as_str()
                .map(|s| s.parse().expect("clusterDNS")),
            infra_udp: infra(udp_extra),
        };
        problems.extend(verify(&rel, &files, &example_hosts(&intent), &expect));
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} examples");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The files of a distribution's own targets: what must change when a setting reaches it.
/// Firewall, host and cloud-init files are left out: a setting that reaches only the
/// firewall is exactly the silent drop this test is for. One exception: the bridge plugin
/// leaves masquerading to the node firewall (its conflist has `ipMasq: false`), so with it the
/// firewall files' masquerade lines are the plugin's too.
fn target_files(dist: &str, plugin: &str, files: &Files) -> BTreeMap<String, Vec<u8>> {
    let mut out = dist_files(dist, files);
    if plugin == "bridge" {
        for (k, v) in files.iter().filter(|(k, _)| k.starts_with("firewall/")) {
            let lines: Vec<&str> = std::str::from_utf8(v)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("masquerade"))
                .collect();
            out.insert(format!("{k} (masquerade)"), lines.join("\n").into_bytes());
        }
    }
    out
}

fn dist_files(dist: &str, files: &Files) -> BTreeMap<String, Vec<u8>> {
    let prefixes: &[&str] = match dist {
        "kubeadm" => &[
            "kubeadm/", "flannel/", "canal/", "calico/", "cilium/", "cni/",
        ],
        "rke2" => &["rke2/"],
        "k3s" => &["k3s/", "canal/", "calico/", "cilium/", "cni/"],
        "manual" => &["manual/", "flannel/", "cni/"],
        _ => &["canonical/"],
    };
    files
        .iter()
        .filter(|(k, _)| {
            prefixes.iter().any(|p| k.starts_with(p)) && !k.ends_with(".netc-manifest.json")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// A setting and the change the table makes to a baseline intent.
struct Setting {
    key: &'static str,
    apply: fn(&mut Spec),
}

const SETTINGS: &[Setting] = &[
    Setting {
        key: "cni.vxlan.port",
        apply: |s| s.cni_extra.push("vxlan: {port: 9999}".into()),
    },
    Setting {
        key: "cni.vxlan.vni",
        apply: |s| s.cni_extra.push("vxlan: {vni: 77}".into()),
    },
    Setting {
        key: "cni.mtu",
        apply: |s| s.cni_extra.push("mtu: 1360".into()),
    },
    Setting {
        key: "cni.interface",
        apply: |s| s.cni_extra.push("interface: eth1".into()),
    },
    Setting {
        key: "cni.calico.blockSize",
        apply: |s| s.cni_extra.push("calico: {blockSize: 27}".into()),
    },
    Setting {
        key: "cni.calico.natOutgoing",
        apply: |s| s.cni_extra.push("calico: {natOutgoing: false}".into()),
    },
    Setting {
        key: "cluster.clusterDNS",
        apply: |s| s.cluster_extra.push("clusterDNS: 10.96.0.53".into()),
    },
    Setting {
        key: "cluster.podCIDR",
        apply: |s| s.pod_cidr = "10.200.0.0/16",
    },
    Setting {
        key: "cluster.serviceCIDR",
        apply: |s| s.service_cidr = "10.100.0.0/16",
    },
    Setting {
        key: "cluster.nodeCIDRMaskSize",
        apply: |s| s.cluster_extra.push("nodeCIDRMaskSize: 25".into()),
    },
    Setting {
        key: "cluster.dnsDomain",
        apply: |s| s.cluster_extra.push("dnsDomain: edge.local".into()),
    },
    Setting {
        key: "cluster.kubeProxy",
        apply: |s| {
            s.cluster_extra
                .push("kubeProxy: {mode: ipvs, ipvsScheduler: wrr, strictARP: true}".into())
        },
    },
    Setting {
        key: "cluster.kubeProxy.conntrack",
        apply: |s| {
            s.cluster_extra.push(
                "kubeProxy: {conntrack: {maxPerCore: 65536, min: 262144, tcpEstablishedTimeout: 2h, tcpCloseWaitTimeout: 30m}}"
                    .into(),
            )
        },
    },
    Setting {
        // cp-1's eth1 address: the API server listens (and is advertised) there only.
        key: "nodes[].bindAddress",
        apply: |s| s.cp_extra.push("bindAddress: 10.1.0.10".into()),
    },
    Setting {
        key: "cluster.controlPlaneEndpoint",
        apply: |s| {
            s.cluster_extra
                .push("controlPlaneEndpoint: 10.0.1.100:6443".into())
        },
    },
];

fn codes(diags: &[Diag]) -> BTreeSet<(&'static str, String)> {
    diags.iter().map(|d| (d.code, d.message.clone())).collect()
}

#[test]
fn no_accepted_setting_is_dropped_silently() {
    let mut rows = 0usize;
    let mut by_diagnostic = 0usize;
    let mut problems = Vec::new();
    for &dist in DISTRIBUTIONS {
        for &plugin in PLUGINS.iter().chain(&["none"]) {
            for &encap in ENCAPSULATIONS {
                let mut base = Spec::new(dist, plugin, encap);
                // eth1 without a purpose: only `cni.interface` puts the CNI on it.
                base.eth1 = [Some(9000); 3];
                let (base_diags, Some(base_files)) = run("table.yaml", &base.yaml()) else {
                    continue;
                };
                let base_codes = codes(&base_diags);
                for setting in SETTINGS {
                    let mut spec = base.clone();
                    (setting.apply)(&mut spec);
                    let (diags, files) = run("table.yaml", &spec.yaml());
                    rows += 1;
                    let new: Vec<&Diag> = diags
                        .iter()
                        .filter(|d| !base_codes.contains(&(d.code, d.message.clone())))
                        .collect();
                    let label = format!("{dist}/{plugin}/{encap}: {}", setting.key);
                    if !new.is_empty() {
                        by_diagnostic += 1;
                        // A not-applied finding must name the setting it is about.
                        for d in &new {
                            if d.code == code::CNI_SETTING_NOT_APPLIED
                                && !d.message.starts_with(setting.key)
                            {
                                problems.push(format!("{label}: unrelated finding {}", d.message));
                            }
                        }
                        continue;
                    }
                    let Some(files) = files else {
                        problems.push(format!("{label}: rejected without a new diagnostic"));
                        continue;
                    };
                    if target_files(dist, plugin, &files) == target_files(dist, plugin, &base_files)
                    {
                        problems.push(format!(
                            "{label}: silently dropped (no {dist} file changed, no diagnostic)"
                        ));
                    }
                }
            }
        }
    }
    eprintln!("{rows} setting × target rows, {by_diagnostic} answered by a diagnostic");
    assert!(rows > 300, "only {rows} rows");
    assert!(by_diagnostic > 0, "no row was answered by a diagnostic");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Control-plane datastore and BGP ports: each control-plane firewall opens exactly the TCP
/// ports its datastore listens on, as the distribution reads its own files
/// (`readers::datastore_tcp_ports`), never another datastore's, and workers open none; Calico's
/// BGP port is open only where the Installation enables BGP.
#[test]
fn firewalls_open_the_datastore_and_bgp_ports_the_cluster_uses() {
    let all_datastore: BTreeSet<u16> = [2379, 2380, 2381, 9000].into_iter().collect();
    let cases: &[(&str, &str, &str, usize)] = &[
        ("canonical", "calico", "", 1),
        ("canonical", "calico", "datastore: k8s-dqlite", 1),
        ("canonical", "cilium", "datastore: etcd", 2),
        ("k3s", "flannel", "", 1),
        ("k3s", "flannel", "", 2),
        ("k3s", "flannel", "datastore: etcd", 1),
        ("kubeadm", "calico", "", 1),
        ("rke2", "canal", "", 1),
    ];
    let mut problems = Vec::new();
    let (mut control_planes, mut bgp_checked) = (0usize, 0usize);
    for &(dist, plugin, datastore, servers) in cases {
        for encap in ["vxlan", "bgp"] {
            if plugin != "calico" && encap == "bgp" {
                continue;
            }
            let version = match dist {
                "rke2" => "v1.31.4+rke2r1",
                "k3s" => "v1.31.4+k3s1",
                // k8s-snap 1.33: its moonray flavor still runs Calico, and k8s-dqlite exists.
                "canonical" => "v1.33.0",
                _ => "v1.31.2",
            };
            let mut y = format!(
                "apiVersion: netc/v1alpha1\nkind: NetworkIntent\nmetadata: {{name: ds}}\ncluster:\n  distribution: {dist}\n  kubernetesVersion: {version}\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\n"
            );
            if !datastore.is_empty() {
                let _ = writeln!(y, "  {datastore}");
            }
            let _ = writeln!(
                y,
                "cni: {{plugin: {plugin}, encapsulation: {encap}}}\nnodes:"
            );
            for i in 0..servers {
                let _ = writeln!(
                    y,
                    "  - {{name: cp-{i}, role: control-plane, address: 10.0.1.{}/24}}",
                    10 + i
                );
            }
            let _ = writeln!(
                y,
                "  - {{name: worker-1, role: worker, address: 10.0.1.50/24}}\nfirewall: {{backend: nftables, managementAccess: [tcp/22]}}"
            );
            let label = format!("{dist}/{plugin}/{encap} {datastore:?} ×{servers}");
            let (diags, Some(files)) = run("ds.yaml", &y) else {
                problems.push(format!("{label}: rejected"));
                continue;
            };
            if diags.iter().any(Diag::is_error) {
                problems.push(format!("{label}: {diags:?}"));
                continue;
            }
            let wanted = readers::datastore_tcp_ports(dist, &files);
            let bgp = files.contains_key("calico/installation.yaml") && {
                let inst = readers::yaml(&files, "calico/installation.yaml");
                // installation_types.go: bgp defaults to Enabled.
                inst["spec"]["calicoNetwork"]["bgp"]
                    .as_str()
                    .unwrap_or("Enabled")
                    == "Enabled"
            };
            for (path, text) in files.iter().filter(|(k, _)| k.ends_with(".nft")) {
                let open = readers::firewall_ports(path, &String::from_utf8_lossy(text), "tcp");
                let control_plane = path.contains("/cp-");
                control_planes += usize::from(control_plane);
                let ds_open: BTreeSet<u16> = open.intersection(&all_datastore).copied().collect();
                let expect_ds = if control_plane {
                    wanted.clone()
                } else {
                    BTreeSet::new()
                };
                if ds_open != expect_ds {
                    problems.push(format!(
                        "{label}: {path} opens datastore ports {ds_open:?}, the cluster uses {expect_ds:?}"
                    ));
                }
                // kube-proxy's healthz: 0.0.0.0:10256 on kubeadm and manual, 127.0.0.1 on k3s and RKE2.
                if open.contains(&10256) != matches!(dist, "kubeadm" | "manual") {
                    problems.push(format!(
                        "{label}: {path}: kube-proxy health 10256 open = {}",
                        open.contains(&10256)
                    ));
                }
                bgp_checked += usize::from(bgp);
                if files.contains_key("calico/installation.yaml") && open.contains(&179) != bgp {
                    problems.push(format!(
                        "{label}: {path}: BGP port 179 open = {}, BGP = {bgp}",
                        open.contains(&179)
                    ));
                }
            }
        }
    }
    assert!(
        control_planes >= 10,
        "only {control_planes} control-plane firewalls read"
    );
    assert!(bgp_checked > 0, "no BGP cluster was read");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
