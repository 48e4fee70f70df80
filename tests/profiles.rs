//! Target profiles (`src/plan/profile/`): the facts each target is built with depend on its
//! version, and the files say so. Each test here failed before the profiles existed:
//!
//! - Canonical Kubernetes' CoreDNS is labelled `k8s-app: coredns`: the DNS allowance and
//!   `explain`'s CoreDNS workload select that label there, `k8s-app: kube-dns` elsewhere;
//! - k8sd's 6400/tcp is open on every Canonical node, workers included;
//! - kube-proxy `mode: nftables` carries the `NFTablesProxyMode` gate on 1.29–1.30 on every
//!   target that passes kube-proxy configuration, and not from 1.31;
//! - Canonical Kubernetes 1.36 gets no `extra-node-kube-proxy-args` (it runs no kube-proxy);
//! - the README's fact table is exactly what the profiles hold.

mod build_common;

use std::collections::BTreeMap;
use std::path::Path;

use netc::diagnostic::SourceFile;
use netc::intent::Syntax;
use netc::pipeline;
use serde_json::Value;

type Files = BTreeMap<String, Vec<u8>>;

/// A three-node intent (one control plane) with egress denied in `default` (where the CNI
/// enforces policies: not flannel outside k3s).
fn intent(dist: &str, version: &str, plugin: &str, kube_proxy: &str) -> String {
    let mut text = format!(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: profiles}}
cluster:
  distribution: {dist}
  kubernetesVersion: {version}
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/16
  kubeProxy: {{mode: {kube_proxy}}}
cni: {{plugin: {plugin}, encapsulation: vxlan}}
nodes:
  - {{name: cp-1, role: control-plane, address: 10.0.1.10/24}}
  - {{name: worker-1, role: worker, address: 10.0.1.11/24}}
  - {{name: worker-2, role: worker, address: 10.0.1.12/24}}
firewall: {{backend: nftables, managementAccess: [tcp/22]}}
"
    );
    if plugin != "flannel" || dist == "k3s" {
        text.push_str("policies:\n  - {namespace: default, defaultDeny: [ingress, egress]}\n");
    }
    text
}

fn text<'a>(files: &'a Files, path: &str) -> &'a str {
    std::str::from_utf8(files.get(path).unwrap_or_else(|| panic!("no {path}"))).expect("utf-8")
}

/// Every YAML document of a file (the header comment skipped).
fn documents(files: &Files, path: &str) -> Vec<Value> {
    text(files, path)
        .split("\n---")
        .filter(|d| {
            d.lines()
                .any(|l| !l.starts_with('#') && !l.trim().is_empty())
        })
        .map(|d| serde_saphyr::from_str(d).expect("YAML"))
        .collect()
}

/// The label the emitted allow-dns policy selects CoreDNS pods by.
fn dns_selector(files: &Files) -> (String, String) {
    let docs = documents(files, "policies/default.yaml");
    let dns = docs
        .iter()
        .find(|d| d["metadata"]["name"] == "allow-dns")
        .expect("allow-dns policy");
    let labels = dns["spec"]["egress"][0]["to"][0]["podSelector"]["matchLabels"]
        .as_object()
        .expect("matchLabels");
    assert_eq!(labels.len(), 1, "{labels:?}");
    let (k, v) = labels.iter().next().expect("one label");
    (k.clone(), v.as_str().expect("string").to_owned())
}

#[test]
fn dns_allowance_selects_each_distributions_coredns_label() {
    // kubeadm `manifests.go`, k3s `manifests/coredns.yaml`, rke2-coredns `k8sApp: kube-dns`,
    // the hard way's coredns/deployment manifest: kube-dns. Canonical's chart: coredns.
    for (dist, version, plugin, want) in [
        ("kubeadm", "v1.31.2", "calico", "kube-dns"),
        ("k3s", "v1.31.4+k3s1", "flannel", "kube-dns"),
        ("rke2", "v1.31.4+rke2r1", "canal", "kube-dns"),
        ("manual", "v1.31.2", "flannel", "kube-dns"),
        ("canonical", "v1.32.0", "cilium", "coredns"),
        ("canonical", "v1.36.0", "cilium", "coredns"),
    ] {
        let text = intent(dist, version, plugin, "iptables");
        let files = build_common::emit_text("p.yaml", &text);
        if files.contains_key("policies/default.yaml") {
            assert_eq!(
                dns_selector(&files),
                ("k8s-app".to_owned(), want.to_owned()),
                "{dist} {version}"
            );
        } else {
            assert_eq!(dist, "manual", "no policies file");
        }
        // explain's built-in CoreDNS workload carries the same label.
        let src = SourceFile::new("p.yaml", text);
        let checked = pipeline::check(&src, Syntax::Yaml);
        let plan = checked.valid_plan().expect("valid");
        let i = plan
            .workloads
            .find("kube-system", "coredns")
            .expect("CoreDNS workload");
        assert_eq!(
            plan.workloads.list[i]
                .labels
                .get("k8s-app")
                .map(String::as_str),
            Some(want),
            "{dist}: explain's CoreDNS"
        );
    }
}

#[test]
fn explain_lets_canonical_pods_reach_coredns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.yaml");
    let text = intent("canonical", "v1.35.0", "cilium", "iptables").replace(
        "policies:\n",
        "workloads:\n  - {namespace: default, name: web, labels: {app: web}}\npolicies:\n",
    );
    std::fs::write(&path, text).expect("write");
    let out = build_common::netc()
        .args(["explain"])
        .arg(&path)
        .args([
            "--from",
            "default/web",
            "--to",
            "kube-system/coredns",
            "--port",
            "udp/53",
            "--format",
            "json",
        ])
        .output()
        .expect("netc explain");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["explanations"][0]["allowed"], Value::Bool(true), "{v}");
}

/// The TCP ports an nftables file accepts (`tcp dport N` / `N-M`).
fn nft_tcp_ports(text: &str) -> Vec<u16> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("tcp dport ") else {
            continue;
        };
        let spec = rest.split_whitespace().next().unwrap_or("");
        let (a, b) = spec.split_once('-').unwrap_or((spec, spec));
        if let (Ok(a), Ok(b)) = (a.parse::<u16>(), b.parse::<u16>()) {
            out.extend(a..=b);
        }
    }
    out
}

#[test]
fn k8sd_is_open_on_every_canonical_node() {
    for version in ["v1.32.0", "v1.36.0"] {
        let files = build_common::emit_text(
            "p.yaml",
            &intent("canonical", version, "cilium", "iptables"),
        );
        for node in ["cp-1", "worker-1", "worker-2"] {
            let open = nft_tcp_ports(text(&files, &format!("firewall/{node}.nft")));
            assert!(open.contains(&6400), "{version} {node}: k8sd 6400 not open");
            assert!(
                open.contains(&4240),
                "{version} {node}: cilium health 4240 not open"
            );
        }
    }
    let files = build_common::emit_text(
        "p.yaml",
        &intent("kubeadm", "v1.31.2", "cilium", "iptables"),
    );
    assert!(!nft_tcp_ports(text(&files, "firewall/worker-1.nft")).contains(&6400));
}

/// kube-proxy's healthz 10256/tcp is opened only where the profile says it listens beyond
/// loopback: kubeadm and manual (`0.0.0.0:10256`); not k3s, RKE2, k8s-snap 1.32
/// (`127.0.0.1`), nor k8s-snap 1.36 (no kube-proxy at all).
#[test]
fn kube_proxy_healthz_is_opened_where_the_profile_says_it_listens() {
    use netc::intent::{CniPlugin, Distribution, KubeProxyMode, values::KubeVersion};
    use netc::plan::profile::Profile;
    for (dist, version, plugin, want) in [
        ("kubeadm", "v1.31.2", "calico", true),
        ("manual", "v1.31.2", "flannel", true),
        ("k3s", "v1.31.2+k3s1", "flannel", false),
        ("rke2", "v1.31.2+rke2r1", "canal", false),
        ("canonical", "v1.32.0", "cilium", false),
        ("canonical", "v1.36.0", "cilium", false),
    ] {
        let files = build_common::emit_text("p.yaml", &intent(dist, version, plugin, "iptables"));
        let open = nft_tcp_ports(text(&files, "firewall/worker-1.nft"));
        assert_eq!(open.contains(&10256), want, "{dist} {version}");
    }
    let v = |minor| KubeVersion {
        major: 1,
        minor,
        patch: 0,
    };
    let runs = |d, minor| {
        Profile::resolve(
            d,
            Some(v(minor)),
            KubeProxyMode::Iptables,
            CniPlugin::Flannel,
            false,
        )
    };
    assert!(runs(Distribution::Kubeadm, 36).kube_proxy_healthz_open);
    assert!(!runs(Distribution::Canonical, 35).kube_proxy_healthz_open);
    let p = runs(Distribution::Canonical, 36);
    assert!(!p.kube_proxy_runs && !p.kube_proxy_healthz_open);
    assert!(p.missing.is_empty(), "{:?}", p.missing);
}

/// The CNIs each distribution offers are its profile's `CniPlugins` facts (Canonical: its
/// built-in network facts, Cilium and the moonray flavor's Calico): `check` refuses a plugin
/// outside them and lists exactly the profile's plugins.
#[test]
fn offered_cni_plugins_are_the_profiles_facts() {
    use netc::intent::{CniPlugin, Distribution, KubeProxyMode, values::KubeVersion};
    use netc::plan::profile::Profile;
    let v = Some(KubeVersion {
        major: 1,
        minor: 31,
        patch: 2,
    });
    let offered =
        |d| Profile::resolve(d, v, KubeProxyMode::Iptables, CniPlugin::None, false).cni_plugins;
    use CniPlugin::*;
    assert_eq!(
        offered(Distribution::Rke2),
        [Canal, Calico, Cilium, Flannel, None]
    );
    assert_eq!(
        offered(Distribution::K3s),
        [Flannel, Calico, Canal, Cilium, None]
    );
    assert_eq!(
        offered(Distribution::Kubeadm),
        [Flannel, Calico, Canal, Cilium, Bridge, None]
    );
    assert_eq!(offered(Distribution::Manual), [Flannel, Bridge, None]);
    assert_eq!(offered(Distribution::Canonical), [Cilium, Calico]);
    for (dist, version, plugin, help) in [
        (
            "rke2",
            "v1.31.2+rke2r1",
            "bridge",
            "canal, calico, cilium, flannel, none",
        ),
        ("manual", "v1.31.2", "calico", "flannel, bridge, none"),
        // RKE2's `cni` took flannel from v1.26.14+rke2r1 (rancher/rke2 e473ea5ce); never on
        // 1.22–1.25.
        (
            "rke2",
            "v1.25.16+rke2r2",
            "flannel",
            "canal, calico, cilium, none",
        ),
    ] {
        let text = intent(dist, version, plugin, "iptables");
        let checked = pipeline::check(&SourceFile::new("c.yaml", &text), Syntax::Yaml);
        let d = checked
            .diagnostics
            .iter()
            .find(|d| d.code == "netc::cni::unsupported")
            .unwrap_or_else(|| panic!("{dist} {plugin}: {:?}", checked.diagnostics));
        assert!(
            d.help.as_deref().is_some_and(|h| h.ends_with(help)),
            "{dist}: {:?}",
            d.help
        );
    }
}

/// The encapsulations a distribution narrows a plugin to are profile facts with versions:
/// k3s's flannel takes `wireguard-native` from 1.24 (v1.23.6+k3s1), Canonical's Cilium only
/// VXLAN. Outside them `check` refuses, naming the target and version.
#[test]
fn distribution_encapsulations_are_versioned_profile_facts() {
    let unsupported = |dist: &str, version: &str, plugin: &str, encap: &str| {
        let text = intent(dist, version, plugin, "iptables")
            .replace("encapsulation: vxlan", &format!("encapsulation: {encap}"));
        let checked = pipeline::check(&SourceFile::new("e.yaml", &text), Syntax::Yaml);
        checked
            .diagnostics
            .iter()
            .find(|d| d.code == "netc::cni::unsupported")
            .map(|d| d.message.clone())
    };
    let m = unsupported("k3s", "v1.23.4+k3s1", "flannel", "wireguard").expect("refused");
    assert!(m.contains("k3s 1.23"), "{m}");
    assert_eq!(
        unsupported("k3s", "v1.24.2+k3s1", "flannel", "wireguard"),
        None
    );
    assert_eq!(
        unsupported("k3s", "v1.23.4+k3s1", "flannel", "host-gw"),
        None
    );
    let m = unsupported("canonical", "v1.32.0", "cilium", "wireguard").expect("refused");
    assert!(m.contains("Canonical Kubernetes (k8s-snap) 1.32"), "{m}");
    assert_eq!(
        unsupported("kubeadm", "v1.31.2", "cilium", "wireguard"),
        None
    );
}

/// Canonical Kubernetes' Cilium routes IPv6-only pods natively on 1.32–1.34 (k8s-snap #1007)
/// and tunnels them over VXLAN before and after (#2114): `check` takes `encapsulation: none`
/// and refuses `vxlan` exactly there, an intent that names none gets the distribution's
/// routing, and a cluster with IPv4 pods stays on VXLAN at every version.
#[test]
fn canonical_cilium_routes_ipv6_only_pods_natively_on_1_32_to_1_34() {
    use netc::intent::Encapsulation;
    let ipv6_only = |version: &str, encap: Option<&str>| {
        let mut text = intent("canonical", version, "cilium", "iptables")
            .replace("podCIDR: 10.244.0.0/16", "podCIDR: fd00:10:244::/56")
            .replace("serviceCIDR: 10.96.0.0/16", "serviceCIDR: fd00:10:96::/112");
        for (i, host) in ["10", "11", "12"].iter().enumerate() {
            text = text.replace(
                &format!("address: 10.0.1.{host}/24"),
                &format!("address: \"fd00:1::{}/64\"", 10 + i),
            );
        }
        match encap {
            Some(e) => text.replace("encapsulation: vxlan", &format!("encapsulation: {e}")),
            None => text.replace(", encapsulation: vxlan", ""),
        }
    };
    let check = |text: &str| pipeline::check(&SourceFile::new("e.yaml", text), Syntax::Yaml);
    let refused = |text: &str| {
        check(text)
            .diagnostics
            .iter()
            .find(|d| d.code == "netc::cni::unsupported")
            .map(|d| (d.message.clone(), d.help.clone().unwrap_or_default()))
    };
    for (version, native) in [
        ("v1.31.2", false),
        ("v1.32.0", true),
        ("v1.33.1", true),
        ("v1.34.0", true),
        ("v1.35.0", false),
    ] {
        let (right, wrong) = if native {
            ("none", "vxlan")
        } else {
            ("vxlan", "none")
        };
        assert_eq!(refused(&ipv6_only(version, Some(right))), None, "{version}");
        let (message, help) =
            refused(&ipv6_only(version, Some(wrong))).expect("the other routing is refused");
        let minor = &version[1..5];
        assert!(
            message.contains(&format!(
                "cilium cannot use {wrong} encapsulation on Canonical Kubernetes (k8s-snap) {minor}"
            )),
            "{version}: {message}"
        );
        assert!(
            help.ends_with(&format!("takes: {right}")),
            "{version}: {help}"
        );
        // Unset: what the distribution runs.
        let checked = check(&ipv6_only(version, None));
        let plan = checked
            .valid_plan()
            .unwrap_or_else(|| panic!("{version}: {:?}", checked.diagnostics));
        let want = if native {
            Encapsulation::None
        } else {
            Encapsulation::Vxlan
        };
        assert_eq!(plan.cni.encapsulation, want, "{version}");
        assert_eq!(plan.profile.native_routing(), native, "{version}");
        // Cilium's VXLAN port (8472/udp) is open between the nodes only where it tunnels.
        let files = build_common::emit_text("p.yaml", &ipv6_only(version, None));
        let nft = text(&files, "firewall/worker-1.nft");
        assert_eq!(nft.contains("8472"), !native, "{version}:\n{nft}");
        // IPv4 pods: VXLAN at every version.
        let v4 = intent("canonical", version, "cilium", "iptables");
        assert_eq!(refused(&v4), None, "{version}");
        let m = refused(&v4.replace("encapsulation: vxlan", "encapsulation: none"));
        assert!(m.is_some(), "{version}: IPv4 pods are tunnelled");
    }
}

/// The kube-proxy feature gates each target writes for `mode: nftables` at `version`.
fn nftables_gates(dist: &str, version: &str) -> Vec<String> {
    let plugin = if dist == "rke2" { "canal" } else { "flannel" };
    let files = build_common::emit_text("p.yaml", &intent(dist, version, plugin, "nftables"));
    let mut gates = Vec::new();
    match dist {
        "kubeadm" | "manual" => {
            let path = if dist == "kubeadm" {
                "kubeadm/init.yaml".to_owned()
            } else {
                files
                    .keys()
                    .find(|k| {
                        k.starts_with("manual/") && k.contains("kube-proxy") && k.ends_with(".yaml")
                    })
                    .expect("manual kube-proxy configuration")
                    .clone()
            };
            for d in documents(&files, &path) {
                if d["kind"] == "KubeProxyConfiguration" {
                    assert_eq!(d["mode"], "nftables");
                    for (k, v) in d["featureGates"].as_object().into_iter().flatten() {
                        gates.push(format!("{k}={v}"));
                    }
                }
            }
        }
        "rke2" | "k3s" => {
            let path = format!("{dist}/cp-1/config.yaml");
            let path = if files.contains_key(&path) {
                path
            } else {
                files
                    .keys()
                    .find(|k| {
                        k.starts_with(&format!("{dist}/"))
                            && k.contains("cp-1")
                            && k.ends_with(".yaml")
                    })
                    .expect("server config")
                    .clone()
            };
            let doc = &documents(&files, &path)[0];
            let args: Vec<&str> = doc["kube-proxy-arg"]
                .as_array()
                .expect("kube-proxy-arg")
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(args.contains(&"proxy-mode=nftables"), "{args:?}");
            for a in args {
                if let Some(g) = a.strip_prefix("feature-gates=") {
                    gates.push(g.to_owned());
                }
            }
        }
        _ => unreachable!(),
    }
    gates
}

#[test]
fn nftables_mode_carries_its_gate_on_1_29_and_1_30() {
    for (dist, suffix) in [
        ("kubeadm", ""),
        ("manual", ""),
        ("rke2", "+rke2r1"),
        ("k3s", "+k3s1"),
    ] {
        for minor in [29, 30] {
            let gates = nftables_gates(dist, &format!("v1.{minor}.4{suffix}"));
            assert_eq!(gates, ["NFTablesProxyMode=true"], "{dist} 1.{minor}");
        }
        for minor in [31, 33, 36] {
            let gates = nftables_gates(dist, &format!("v1.{minor}.1{suffix}"));
            assert!(gates.is_empty(), "{dist} 1.{minor}: {gates:?}");
        }
    }
}

#[test]
fn canonical_1_36_writes_no_kube_proxy_arguments() {
    let proxy_args = |version: &str| {
        let files =
            build_common::emit_text("p.yaml", &intent("canonical", version, "cilium", "ipvs"));
        let doc = &documents(&files, "canonical/bootstrap.yaml")[0];
        doc.get("extra-node-kube-proxy-args").cloned()
    };
    assert!(proxy_args("v1.35.0").is_some(), "1.35 runs kube-proxy");
    assert_eq!(proxy_args("v1.36.0"), None);
}

const TABLE_BEGIN: &str =
    "<!-- profile facts: generated by tests/profiles.rs from src/plan/profile/ -->\n";
const TABLE_END: &str = "<!-- end of profile facts -->";

/// The README's fact table equals `profile::table()`; `NETC_UPDATE_README=1` rewrites it.
#[test]
fn readme_fact_table_is_generated_from_the_profiles() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md");
    let start = readme
        .find(TABLE_BEGIN)
        .expect("README has the fact table markers")
        + TABLE_BEGIN.len();
    let end = start + readme[start..].find(TABLE_END).expect("end marker");
    let table = netc::plan::profile::table();
    if readme[start..end] != table {
        if std::env::var_os("NETC_UPDATE_README").is_some() {
            let updated = format!("{}{table}{}", &readme[..start], &readme[end..]);
            std::fs::write(&path, updated).expect("write README.md");
        } else {
            panic!(
                "README.md's fact table is stale: NETC_UPDATE_README=1 cargo test --test profiles"
            );
        }
    }
    // Every fact is a row.
    assert_eq!(
        table.lines().count(),
        netc::plan::profile::all().count() + 2,
        "one row per fact"
    );
}

#[test]
fn api_server_listens_on_the_endpoint_port_of_its_own_address() {
    let text = intent("kubeadm", "v1.31.2", "calico", "iptables").replace(
        "  kubeProxy:",
        "  controlPlaneEndpoint: 10.0.1.10:8443\n  kubeProxy:",
    );
    let files = build_common::emit_text("p.yaml", &text);
    let init = documents(&files, "kubeadm/init.yaml");
    let init_cfg = init
        .iter()
        .find(|d| d["kind"] == "InitConfiguration")
        .expect("InitConfiguration");
    assert_eq!(init_cfg["localAPIEndpoint"]["bindPort"], 8443);
    let open = nft_tcp_ports(text_of(&files, "firewall/cp-1.nft"));
    assert!(open.contains(&8443) && !open.contains(&6443), "{open:?}");
    // explain's built-in kube-apiserver workload listens on the same port.
    let checked = pipeline::check(&SourceFile::new("p.yaml", text.clone()), Syntax::Yaml);
    let plan = checked.valid_plan().expect("valid");
    let api = plan
        .workloads
        .list
        .iter()
        .find(|w| w.origin == netc::plan::WorkloadOrigin::ApiServer)
        .expect("kube-apiserver workload");
    let ports: Vec<String> = api.ports.iter().map(|p| p.port.to_string()).collect();
    assert_eq!(ports, ["tcp/8443"]);
    // manual: --secure-port.
    let text = intent("manual", "v1.31.2", "flannel", "iptables").replace(
        "  kubeProxy:",
        "  controlPlaneEndpoint: 10.0.1.10:8443\n  kubeProxy:",
    );
    let files = build_common::emit_text("p.yaml", &text);
    let env = files
        .iter()
        .find(|(k, _)| k.ends_with("kube-apiserver.env"))
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .expect("kube-apiserver.env");
    assert!(env.contains("--secure-port=8443"), "{env}");
}

fn text_of<'a>(files: &'a Files, path: &str) -> &'a str {
    text(files, path)
}

/// The version matrix (Kubernetes 1.29, 1.30, 1.31 and the newest, 1.36; k8s-snap 1.32 and
/// 1.36; k3s and RKE2 releases of the same minors): each cluster's files read back with the
/// rules of its version: kubeadm's config API, kube-proxy's nftables gate, Canonical's
/// kube-proxy arguments and datastore, the CoreDNS label the DNS allowance selects.
#[test]
fn version_matrix_reads_back_with_each_versions_rules() {
    let mut checked = 0;
    for (dist, suffix) in [("kubeadm", ""), ("rke2", "+rke2r1"), ("k3s", "+k3s1")] {
        for minor in [29u32, 30, 31, 36] {
            let version = format!("v1.{minor}.2{suffix}");
            let gates = nftables_gates(dist, &version);
            let want_gate = matches!(minor, 29 | 30);
            assert_eq!(!gates.is_empty(), want_gate, "{dist} {version}: {gates:?}");
            let plugin = if dist == "rke2" { "canal" } else { "calico" };
            let files =
                build_common::emit_text("m.yaml", &intent(dist, &version, plugin, "iptables"));
            if dist == "kubeadm" {
                let api = if minor < 31 { "v1beta3" } else { "v1beta4" };
                for d in documents(&files, "kubeadm/init.yaml") {
                    if let Some(v) = d["apiVersion"].as_str()
                        && v.starts_with("kubeadm.k8s.io/")
                    {
                        assert_eq!(v, format!("kubeadm.k8s.io/{api}"), "{version}");
                    }
                }
            }
            if files.contains_key("policies/default.yaml") {
                assert_eq!(dns_selector(&files).1, "kube-dns", "{dist} {version}");
            }
            checked += 1;
        }
    }
    for (version, runs_kube_proxy) in [("v1.32.0", true), ("v1.36.0", false)] {
        let files =
            build_common::emit_text("m.yaml", &intent("canonical", version, "cilium", "ipvs"));
        let doc = &documents(&files, "canonical/bootstrap.yaml")[0];
        assert_eq!(
            doc.get("extra-node-kube-proxy-args").is_some(),
            runs_kube_proxy,
            "{version}"
        );
        assert_eq!(doc["datastore-type"], "etcd", "{version}");
        assert_eq!(dns_selector(&files).1, "coredns", "{version}");
        for node in ["cp-1", "worker-1"] {
            let open = nft_tcp_ports(text(&files, &format!("firewall/{node}.nft")));
            assert!(
                open.contains(&6400) && open.contains(&4240),
                "{version} {node}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 14);
}
