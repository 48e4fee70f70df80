//! Consumer models: the emitted files read back the way each consumer reads them (its
//! defaults and the meaning of each key, from its source), never through netc's Plan.
//!
//! - flannel net-conf (flannel-io/flannel `pkg/subnet/config.go`, `pkg/backend/vxlan/vxlan.go`,
//!   `device.go`: `Port` 0 = the kernel's 8472, `VNI` 1, `MTU` unset = the interface's, the
//!   `flannel.<VNI>` device gets `MTU - 50`; `pkg/backend/wireguard`: `ListenPort` 51820,
//!   `ListenPortV6` 51821, device `MTU - 80`; host-gw: pods get the interface MTU);
//! - k3s (k3s-io/k3s `pkg/agent/flannel/setup.go`: without `flannel-conf` its flannel writes
//!   `{"Type": "vxlan"}`, `{"Type": "host-gw"}` or `{"Type": "wireguard"}`, all defaults);
//! - Calico (tigera/operator Installation: `mtu` unset = detected from the host; projectcalico
//!   FelixConfiguration: `vxlanPort` 4789, `vxlanVNI` 4096, WireGuard 51820/51821);
//! - rke2-charts `rke2-canal` / `rke2-flannel` values (`backendPort` 0 = 8472, `vni` 1,
//!   `mtu` unset = the interface's, `calico.vethuMTU` default 1450), `rke2-calico`,
//!   `rke2-cilium`;
//! - Cilium values (`tunnelPort` 0 = 8472, `MTU` 0 = the device's, pod routes `MTU - 50` in
//!   tunnel mode and a further `- 80` with WireGuard, WireGuard on 51871);
//! - kubeadm (the kube-dns Service is always the 10th address of the service subnet);
//! - a hand-run control plane (`manual/<node>/`): the flags as systemd passes `$ARGS` from the
//!   EnvironmentFile, kube-controller-manager's node IPAM (`--cluster-cidr`, mask flags), the
//!   KubeletConfiguration and KubeProxyConfiguration each node's kubelet and kube-proxy read;
//! - Canonical Kubernetes (k8s-snap annotations; Calico's and Cilium's own MTU detection).
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

pub type Files = BTreeMap<String, Vec<u8>>;

/// Facts about the hosts that are not in any emitted file: each node's data-path MTU (the
/// interface the CNI uses), which CNI Canonical Kubernetes has built in, and the Kubernetes
/// minor the cluster runs (a consumer's rules depend on it).
#[derive(Clone, Debug)]
pub struct Hosts {
    pub node_mtus: Vec<u32>,
    pub canonical_builtin: &'static str,
    /// `(1, 31)` for `v1.31.4+rke2r1` (a k8s-snap track is the same minor).
    pub version: (u32, u32),
}

/// The Kubernetes minor of a `kubernetesVersion` (`v1.31.4+k3s1` -> `(1, 31)`).
pub fn minor_of(version: &str) -> (u32, u32) {
    let v = version.trim_start_matches('v');
    let mut parts = v.split(['.', '+', '-']);
    let major = parts.next().and_then(|p| p.parse().ok()).expect("major");
    let minor = parts.next().and_then(|p| p.parse().ok()).expect("minor");
    (major, minor)
}

/// The kubeadm config API a kubeadm of this minor reads: `v1beta4` from 1.31 (kubernetes
/// `cmd/kubeadm/app/apis/kubeadm/v1beta4/doc.go`: introduced in v1.31; `v1beta3` is what
/// 1.22–1.30 take).
pub fn kubeadm_api(version: (u32, u32)) -> &'static str {
    if version < (1, 31) {
        "kubeadm.k8s.io/v1beta3"
    } else {
        "kubeadm.k8s.io/v1beta4"
    }
}

/// kube-proxy's validation of `mode: nftables` at this minor (kubernetes
/// `pkg/proxy/apis/config/validation/validation.go` `validateProxyModeLinux`, `NFTablesProxyMode`
/// in `pkg/features/kube_features.go`: Alpha 1.29–1.30, default off; Beta on from 1.31): a
/// KubeProxyConfiguration kube-proxy would refuse panics here.
pub fn check_kube_proxy_mode(path: &str, proxy: &Value, version: (u32, u32)) {
    if proxy["mode"] != "nftables" {
        return;
    }
    assert!(version >= (1, 29), "{path}: nftables mode before 1.29");
    if version <= (1, 30) {
        assert_eq!(
            proxy["featureGates"]["NFTablesProxyMode"],
            Value::Bool(true),
            "{path}: nftables on {version:?} needs the NFTablesProxyMode gate"
        );
    }
}

/// The label CoreDNS pods carry on each distribution (what a DNS allowance must select):
/// `k8s-app: coredns` on Canonical Kubernetes (k8s-snap's coredns chart `_helpers.tpl`,
/// `tests/integration/tests/test_dns.py`), `k8s-app: kube-dns` elsewhere (kubeadm's CoreDNS
/// manifest, k3s `manifests/coredns.yaml`, rke2-coredns `k8sApp: kube-dns`).
pub fn coredns_label(dist: &str, _version: (u32, u32)) -> (&'static str, &'static str) {
    if dist == "canonical" {
        ("k8s-app", "coredns")
    } else {
        ("k8s-app", "kube-dns")
    }
}

impl Hosts {
    pub fn min_mtu(&self) -> u32 {
        self.node_mtus.iter().copied().min().unwrap_or(1500)
    }
}

/// What a cluster's CNI does on the wire, as its consumers read the files.
#[derive(Clone, Debug, Default)]
pub struct DataPath {
    /// Which files were read (for messages).
    pub consumer: String,
    pub udp_ports: BTreeSet<u16>,
    /// The pod veth MTU on each node.
    pub pod_mtus: Vec<u32>,
    /// The tunnel device's MTU on each node, where the CNI has one pods route through.
    pub device_mtus: Vec<u32>,
    /// Bytes each pod packet gains on the wire (IPv4 underlay).
    pub wire_overhead: u32,
    /// Pod CIDRs the CNI's own files name.
    pub pod_cidrs: Vec<IpNet>,
}

/// What a cluster's files say about the cluster network.
#[derive(Clone, Debug, Default)]
pub struct ClusterNet {
    pub pod_cidrs: Vec<IpNet>,
    pub service_cidrs: Vec<IpNet>,
    /// The DNS address kubelets hand pods.
    pub kubelet_dns: Option<IpAddr>,
    /// The address the DNS Service actually gets.
    pub dns_service: Option<IpAddr>,
}

pub fn text<'a>(files: &'a Files, path: &str) -> &'a str {
    let bytes = files
        .get(path)
        .unwrap_or_else(|| panic!("{path} was not emitted"));
    std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn yaml_docs(files: &Files, path: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(text(files, path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn yaml(files: &Files, path: &str) -> Value {
    yaml_docs(files, path)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{path}: no document"))
}

pub fn json(files: &Files, path: &str) -> Value {
    serde_json::from_str(text(files, path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn json_str(path: &str, s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn u32_of(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A number that is unset when absent or 0 (how flannel, the charts and Cilium read them).
fn set(v: &Value) -> Option<u32> {
    u32_of(v).filter(|n| *n != 0)
}

fn port(n: u32) -> u16 {
    u16::try_from(n).unwrap_or_else(|_| panic!("port {n} out of range"))
}

fn nets(v: &Value) -> Vec<IpNet> {
    match v {
        Value::String(s) => s
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.trim().parse().unwrap_or_else(|e| panic!("{s}: {e}")))
            .collect(),
        Value::Array(a) => a.iter().flat_map(nets).collect(),
        _ => Vec::new(),
    }
}

/// Case-insensitive key lookup (flannel's JSON decoding is case-insensitive).
fn get_ci<'a>(v: &'a Value, key: &str) -> &'a Value {
    match v {
        Value::Object(m) => m
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map_or(&Value::Null, |(_, v)| v),
        _ => &Value::Null,
    }
}

// ---------------------------------------------------------------------------------------
// flannel

/// flannel reading a net-conf.json; `node_mtus` are the interfaces flannel picks on each node.
pub fn flannel(consumer: &str, conf: &Value, node_mtus: &[u32]) -> DataPath {
    let backend = get_ci(conf, "Backend");
    // pkg/subnet/config.go: no Backend (or no Type) means udp; netc never wants that.
    let kind = get_ci(backend, "Type")
        .as_str()
        .unwrap_or_else(|| panic!("{consumer}: Backend.Type missing (flannel would use udp)"));
    let mut pod_cidrs = nets(get_ci(conf, "Network"));
    pod_cidrs.extend(nets(get_ci(conf, "IPv6Network")));
    let v4 =
        get_ci(conf, "EnableIPv4").as_bool().unwrap_or(true) && !get_ci(conf, "Network").is_null();
    let v6 = get_ci(conf, "EnableIPv6").as_bool().unwrap_or(false);
    let mut out = DataPath {
        consumer: consumer.to_owned(),
        pod_cidrs,
        ..DataPath::default()
    };
    let underlay = |i: usize| set(get_ci(backend, "MTU")).unwrap_or(node_mtus[i]);
    match kind {
        "vxlan" => {
            out.udp_ports
                .insert(set(get_ci(backend, "Port")).map_or(8472, port));
            out.device_mtus = (0..node_mtus.len()).map(|i| underlay(i) - 50).collect();
            out.pod_mtus = out.device_mtus.clone();
            out.wire_overhead = 50;
        }
        "wireguard" => {
            if v4 {
                out.udp_ports
                    .insert(set(get_ci(backend, "ListenPort")).map_or(51820, port));
            }
            if v6 {
                out.udp_ports
                    .insert(set(get_ci(backend, "ListenPortV6")).map_or(51821, port));
            }
            out.device_mtus = (0..node_mtus.len()).map(|i| underlay(i) - 80).collect();
            out.pod_mtus = out.device_mtus.clone();
            out.wire_overhead = 60;
        }
        "host-gw" => {
            out.pod_mtus = node_mtus.to_vec();
        }
        other => panic!("{consumer}: flannel backend {other}"),
    }
    out
}

/// k3s' embedded flannel: its own net-conf unless `flannel-conf` names a file.
pub fn k3s_flannel(
    files: &Files,
    server: &Value,
    agent_configs: &[Value],
    hosts: &Hosts,
) -> DataPath {
    let backend = server["flannel-backend"].as_str().unwrap_or("vxlan");
    let conf_paths: BTreeSet<Option<&str>> = agent_configs
        .iter()
        .map(|c| c["flannel-conf"].as_str())
        .collect();
    assert_eq!(
        conf_paths.len(),
        1,
        "every k3s node must read the same flannel-conf: {conf_paths:?}"
    );
    if let Some(Some(host_path)) = conf_paths.into_iter().next() {
        // The node file is the artifact of the same name.
        let name = host_path.rsplit('/').next().unwrap_or(host_path);
        let artifact = files
            .keys()
            .find(|k| k.starts_with("k3s/") && k.ends_with(name))
            .unwrap_or_else(|| panic!("flannel-conf {host_path}: no artifact {name}"));
        let conf = json(files, artifact);
        return flannel(
            &format!("k3s flannel ({artifact})"),
            &conf,
            &hosts.node_mtus,
        );
    }
    let kind = match backend {
        "vxlan" => "vxlan",
        "host-gw" => "host-gw",
        "wireguard-native" => "wireguard",
        other => panic!("k3s flannel-backend {other}"),
    };
    let cidrs = nets(&server["cluster-cidr"]);
    let conf = serde_json::json!({
        "Network": cidrs.iter().find(|n| matches!(n, IpNet::V4(_))).map(ToString::to_string),
        "EnableIPv6": cidrs.iter().any(|n| matches!(n, IpNet::V6(_))),
        "Backend": {"Type": kind},
    });
    flannel("k3s flannel (its defaults)", &conf, &hosts.node_mtus)
}

// ---------------------------------------------------------------------------------------
// Calico

/// The wire overhead of a Calico pool encapsulation (IPv4 underlay).
fn calico_encap_overhead(encap: &str) -> u32 {
    match encap {
        "IPIP" | "IPIPCrossSubnet" => 20,
        "VXLAN" | "VXLANCrossSubnet" => 50,
        "None" | "" => 0,
        other => panic!("calico encapsulation {other}"),
    }
}

/// Calico from the operator's `calicoNetwork` and the FelixConfiguration spec.
pub fn calico(consumer: &str, network: &Value, felix: &Value, hosts: &Hosts) -> DataPath {
    let pools = network["ipPools"].as_array().cloned().unwrap_or_default();
    let encaps: Vec<String> = pools
        .iter()
        .map(|p| p["encapsulation"].as_str().unwrap_or("IPIP").to_owned())
        .collect();
    calico_model(
        consumer,
        &pools,
        &encaps,
        set(&network["mtu"]),
        felix,
        hosts,
    )
}

fn calico_model(
    consumer: &str,
    pools: &[Value],
    encaps: &[String],
    mtu: Option<u32>,
    felix: &Value,
    hosts: &Hosts,
) -> DataPath {
    let mut out = DataPath {
        consumer: consumer.to_owned(),
        pod_cidrs: pools.iter().flat_map(|p| nets(&p["cidr"])).collect(),
        ..DataPath::default()
    };
    let vxlan = encaps.iter().any(|e| e.starts_with("VXLAN"));
    if vxlan {
        out.udp_ports
            .insert(set(&felix["vxlanPort"]).map_or(4789, port));
    }
    let wg4 = felix["wireguardEnabled"].as_bool().unwrap_or(false);
    let wg6 = felix["wireguardEnabledV6"].as_bool().unwrap_or(false);
    if wg4 {
        out.udp_ports
            .insert(set(&felix["wireguardListeningPort"]).map_or(51820, port));
    }
    if wg6 {
        out.udp_ports
            .insert(set(&felix["wireguardListeningPortV6"]).map_or(51821, port));
    }
    let encap = encaps
        .iter()
        .map(|e| calico_encap_overhead(e))
        .max()
        .unwrap_or(0);
    out.wire_overhead = encap + if wg4 { 60 } else { 0 };
    // Without `mtu`, Calico detects the host MTU and takes off what its enabled
    // encapsulations need (docs "Configure MTU": VXLAN 50, IPIP 20, WireGuard 60).
    out.pod_mtus = hosts
        .node_mtus
        .iter()
        .map(|m| mtu.unwrap_or(m - out.wire_overhead))
        .collect();
    out
}

// ---------------------------------------------------------------------------------------
// Cilium

/// Cilium from its Helm values (`pkg/mtu/mtu.go`: pod routes get `MTU - 50` in tunnel mode,
/// `- 80` more with WireGuard; `MTU` 0 = the device's).
pub fn cilium(consumer: &str, values: &Value, hosts: &Hosts) -> DataPath {
    let tunnel = values["routingMode"].as_str().unwrap_or("tunnel") == "tunnel";
    let wireguard = values["encryption"]["enabled"].as_bool().unwrap_or(false)
        && values["encryption"]["type"].as_str() == Some("wireguard");
    let mut out = DataPath {
        consumer: consumer.to_owned(),
        pod_cidrs: nets(&values["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"])
            .into_iter()
            .chain(nets(
                &values["ipam"]["operator"]["clusterPoolIPv6PodCIDRList"],
            ))
            .collect(),
        ..DataPath::default()
    };
    if tunnel {
        let protocol = values["tunnelProtocol"].as_str().unwrap_or("vxlan");
        assert_eq!(protocol, "vxlan", "{consumer}: tunnel protocol");
        out.udp_ports
            .insert(set(&values["tunnelPort"]).map_or(8472, port));
        out.wire_overhead += 50;
    }
    let mut taken = if tunnel { 50 } else { 0 };
    if wireguard {
        out.udp_ports.insert(51871);
        out.wire_overhead += 60;
        taken += 80;
    }
    out.pod_mtus = hosts
        .node_mtus
        .iter()
        .map(|m| set(&values["MTU"]).unwrap_or(*m) - taken)
        .collect();
    out
}

// ---------------------------------------------------------------------------------------
// Canal

/// Canal's `canal-config` ConfigMap data (canal.yaml): flannel from `net-conf.json`, pod
/// veths from `veth_mtu` (0 = Calico's detection, which knows nothing of flannel's VXLAN).
pub fn canal_config(consumer: &str, data: &Value, hosts: &Hosts) -> DataPath {
    let conf = json_str(
        consumer,
        data["net-conf.json"]
            .as_str()
            .expect("canal-config net-conf.json"),
    );
    let mut out = flannel(consumer, &conf, &hosts.node_mtus);
    let veth = set(&data["veth_mtu"]);
    out.pod_mtus = hosts.node_mtus.iter().map(|m| veth.unwrap_or(*m)).collect();
    out
}

/// rke2-charts `rke2-canal` / `rke2-flannel` `flannel:` values as the chart's `config.yaml`
/// writes them into net-conf; the networks come from `global.clusterCIDRv4/v6`, which RKE2
/// fills from `cluster-cidr`.
fn chart_net_conf(flannel: &Value, cluster_cidrs: &[IpNet]) -> Value {
    let backend = flannel["backend"].as_str().unwrap_or("vxlan");
    let mut b = serde_json::Map::new();
    b.insert("Type".into(), backend.into());
    match backend {
        "vxlan" => {
            for (value, key) in [("backendPort", "Port"), ("vni", "VNI"), ("mtu", "MTU")] {
                if let Some(n) = set(&flannel[value]) {
                    b.insert(key.into(), n.into());
                }
            }
        }
        "wireguard" => {
            for (value, key) in [
                ("backendPort", "ListenPort"),
                ("backendPortv6", "ListenPortV6"),
                ("mtu", "MTU"),
            ] {
                if let Some(n) = set(&flannel[value]) {
                    b.insert(key.into(), n.into());
                }
            }
        }
        _ => {}
    }
    let v4 = cluster_cidrs.iter().find(|n| matches!(n, IpNet::V4(_)));
    let v6 = cluster_cidrs.iter().find(|n| matches!(n, IpNet::V6(_)));
    let mut conf = serde_json::json!({"Backend": Value::Object(b)});
    match v4 {
        Some(n) => conf["Network"] = n.to_string().into(),
        None => conf["EnableIPv4"] = false.into(),
    }
    if let Some(n) = v6 {
        conf["IPv6Network"] = n.to_string().into();
        conf["EnableIPv6"] = true.into();
    }
    conf
}

// ---------------------------------------------------------------------------------------
// Firewall

/// The UDP ports a node's firewall file accepts from anywhere: `.nft` rules with `udp dport`
/// and no source match, or firewalld `--add-port=N/udp`. Ranges are expanded.
pub fn firewall_udp_ports(path: &str, text: &str) -> BTreeSet<u16> {
    firewall_ports(path, text, "udp")
}

/// The ports of protocol `proto` (`tcp`, `udp`) a node's firewall file accepts from anywhere.
pub fn firewall_ports(path: &str, text: &str, proto: &str) -> BTreeSet<u16> {
    let dport = format!("{proto} dport");
    let suffix = format!("/{proto}");
    let mut out = BTreeSet::new();
    if path.ends_with(".nft") {
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') || line.contains("saddr") || !line.contains("accept") {
                continue;
            }
            let Some(rest) = line.split(dport.as_str()).nth(1) else {
                continue;
            };
            let rest = rest.trim();
            let spec = if let Some(inner) = rest.strip_prefix('{') {
                inner.split('}').next().unwrap_or("")
            } else {
                rest.split_whitespace().next().unwrap_or("")
            };
            for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                expand(item, &mut out);
            }
        }
    } else {
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') {
                continue;
            }
            for part in line.split("--add-port=").skip(1) {
                let spec = part
                    .trim_start_matches(['\'', '"'])
                    .split(['\'', '"', ' '])
                    .next()
                    .unwrap_or("");
                if let Some(ports) = spec.strip_suffix(suffix.as_str()) {
                    expand(ports, &mut out);
                }
            }
        }
    }
    out
}

fn expand(item: &str, out: &mut BTreeSet<u16>) {
    let (a, b) = item.split_once('-').unwrap_or((item, item));
    let (a, b): (u16, u16) = (
        a.parse().unwrap_or_else(|e| panic!("port {item}: {e}")),
        b.parse().unwrap_or_else(|e| panic!("port {item}: {e}")),
    );
    out.extend(a..=b);
}

// ---------------------------------------------------------------------------------------
// Datastores

/// The TCP ports the control plane's datastore listens on, read from the distribution's files
/// the way it reads them: Canonical Kubernetes `datastore-type` (canonical/k8s-snap-api
/// `api/type_bootstrap_config.go`: default etcd; k8s-dqlite on `k8s-dqlite-port` 9000, etcd
/// on `etcd-port` 2379 and `etcd-peer-port` 2380); k3s runs embedded etcd when its first
/// server has `cluster-init` (several servers join it), SQLite otherwise; kubeadm and RKE2
/// stacked etcd (RKE2 also 2381, its metrics port).
pub fn datastore_tcp_ports(dist: &str, files: &Files) -> BTreeSet<u16> {
    let etcd: BTreeSet<u16> = [2379, 2380].into_iter().collect();
    match dist {
        "canonical" => {
            let boot = yaml(files, "canonical/bootstrap.yaml");
            match boot["datastore-type"].as_str().unwrap_or("etcd") {
                "k8s-dqlite" => {
                    let port = boot["k8s-dqlite-port"].as_u64().unwrap_or(9000);
                    [u16::try_from(port).expect("port")].into_iter().collect()
                }
                "etcd" => etcd,
                other => panic!("datastore-type {other}"),
            }
        }
        "k3s" => {
            let (server, _) = node_configs(files, "k3s");
            if server["cluster-init"].as_bool() == Some(true) {
                etcd
            } else {
                BTreeSet::new()
            }
        }
        "rke2" => [2379, 2380, 2381].into_iter().collect(),
        _ => etcd,
    }
}

// ---------------------------------------------------------------------------------------
// Distributions

fn nth(net: &IpNet, n: u32) -> IpAddr {
    match net {
        IpNet::V4(v4) => IpAddr::V4((u32::from(v4.network()) + n).into()),
        IpNet::V6(v6) => IpAddr::V6((u128::from(v6.network()) + u128::from(n)).into()),
    }
}

fn addr(v: &Value) -> Option<IpAddr> {
    v.as_str()
        .map(|s| s.parse().unwrap_or_else(|e| panic!("{s}: {e}")))
}

/// The config.yaml of each node of a k3s/RKE2 cluster, and the first server's.
fn node_configs(files: &Files, dist: &str) -> (Value, Vec<Value>) {
    let configs: Vec<(String, Value)> = files
        .keys()
        .filter(|k| k.starts_with(&format!("{dist}/")) && k.ends_with("/config.yaml"))
        .map(|k| (k.clone(), yaml(files, k)))
        .collect();
    let server = configs
        .iter()
        .find(|(_, c)| c["server"].is_null())
        .map(|(_, c)| c.clone())
        .unwrap_or_else(|| panic!("{dist}: no first server config"));
    (server, configs.into_iter().map(|(_, c)| c).collect())
}

/// The cluster network and the CNI data path of an emitted cluster, by distribution.
pub fn read_cluster(dist: &str, files: &Files, hosts: &Hosts) -> (ClusterNet, Option<DataPath>) {
    match dist {
        "kubeadm" => kubeadm(files, hosts),
        "rke2" => rke2(files, hosts),
        "k3s" => k3s(files, hosts),
        "canonical" => canonical(files, hosts),
        "manual" => manual(files, hosts),
        other => panic!("distribution {other}"),
    }
}

/// The CNI files a kubeadm (or k3s-without-flannel) cluster installs itself.
fn installed_cni(files: &Files, hosts: &Hosts) -> Option<DataPath> {
    if files.contains_key("flannel/net-conf.json") {
        let conf = json(files, "flannel/net-conf.json");
        // The DaemonSet's ConfigMap (kubeadm; host flanneld has none) must carry the same.
        if files.contains_key("flannel/kube-flannel-cfg.yaml") {
            let cm = yaml(files, "flannel/kube-flannel-cfg.yaml");
            let in_cm = json_str("kube-flannel-cfg", cm["data"]["net-conf.json"].as_str()?);
            assert_eq!(conf, in_cm, "net-conf.json and kube-flannel-cfg disagree");
        }
        return Some(flannel("flannel/net-conf.json", &conf, &hosts.node_mtus));
    }
    if files.contains_key("canal/canal-config.yaml") {
        let cm = yaml(files, "canal/canal-config.yaml");
        return Some(canal_config("canal/canal-config.yaml", &cm["data"], hosts));
    }
    if files.contains_key("calico/installation.yaml") {
        let inst = yaml(files, "calico/installation.yaml");
        let felix = if files.contains_key("calico/felixconfiguration.yaml") {
            yaml(files, "calico/felixconfiguration.yaml")["spec"].clone()
        } else {
            Value::Null
        };
        let mut dp = calico(
            "calico/installation.yaml + felixconfiguration.yaml",
            &inst["spec"]["calicoNetwork"],
            &felix,
            hosts,
        );
        // The manifest-install IPPools must describe the same pools.
        let pools = yaml_docs(files, "calico/ippool.yaml");
        let mut manifest: Vec<IpNet> = pools
            .iter()
            .flat_map(|p| nets(&p["spec"]["cidr"]))
            .collect();
        manifest.sort();
        let mut operator = dp.pod_cidrs.clone();
        operator.sort();
        assert_eq!(
            manifest, operator,
            "ippool.yaml and installation.yaml disagree"
        );
        dp.pod_cidrs = operator;
        return Some(dp);
    }
    if files.contains_key("cilium/values.yaml") {
        let values = yaml(files, "cilium/values.yaml");
        return Some(cilium("cilium/values.yaml", &values, hosts));
    }
    let bridge: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("cni/") && k.ends_with("10-netc-bridge.conflist"))
        .collect();
    if !bridge.is_empty() {
        let mut dp = DataPath {
            consumer: "cni/*/10-netc-bridge.conflist".to_owned(),
            ..DataPath::default()
        };
        for path in bridge {
            let list = json(files, path);
            let b = &list["plugins"][0];
            dp.pod_mtus.push(u32_of(&b["mtu"]).unwrap_or(1500));
            for range in b["ipam"]["ranges"].as_array().into_iter().flatten() {
                dp.pod_cidrs.extend(nets(&range[0]["subnet"]));
            }
        }
        return Some(dp);
    }
    None
}

fn kubeadm(files: &Files, hosts: &Hosts) -> (ClusterNet, Option<DataPath>) {
    let docs = yaml_docs(files, "kubeadm/init.yaml");
    let kind = |k: &str| {
        docs.iter()
            .find(|d| d["kind"] == k)
            .cloned()
            .unwrap_or(Value::Null)
    };
    for d in &docs {
        if let Some(api) = d["apiVersion"].as_str()
            && api.starts_with("kubeadm.k8s.io/")
        {
            assert_eq!(
                api,
                kubeadm_api(hosts.version),
                "kubeadm {:?} reads {}",
                hosts.version,
                kubeadm_api(hosts.version)
            );
        }
    }
    let cluster = kind("ClusterConfiguration");
    let kubelet = kind("KubeletConfiguration");
    let service_cidrs = nets(&cluster["networking"]["serviceSubnet"]);
    let service_cidrs = if service_cidrs.is_empty() {
        vec!["10.96.0.0/12".parse().expect("default")]
    } else {
        service_cidrs
    };
    // kubeadm `constants.GetDNSIP`: the 10th address of the (first) service subnet.
    let dns_service = Some(nth(&service_cidrs[0], 10));
    let kubelet_dns = kubelet["clusterDNS"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(addr)
        .or(dns_service);
    let proxy = kind("KubeProxyConfiguration");
    check_kube_proxy_mode("kubeadm/init.yaml", &proxy, hosts.version);
    let pod_cidrs = nets(&cluster["networking"]["podSubnet"]);
    if !proxy["clusterCIDR"].is_null() {
        assert_eq!(
            nets(&proxy["clusterCIDR"]),
            pod_cidrs,
            "kube-proxy clusterCIDR"
        );
    }
    let net = ClusterNet {
        pod_cidrs,
        service_cidrs,
        kubelet_dns,
        dns_service,
    };
    (net, installed_cni(files, hosts))
}

/// `--name=value` flags as systemd passes an EnvironmentFile's `ARGS='...'` through an
/// unbraced `$ARGS` (split at whitespace; single quotes removed).
pub fn env_file_flags(path: &str, text: &str) -> BTreeMap<String, String> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ARGS="))
        .unwrap_or_else(|| panic!("{path}: no ARGS= line"));
    let value = line
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .unwrap_or_else(|| panic!("{path}: ARGS is not one single-quoted value: {line}"));
    value
        .split_whitespace()
        .map(|flag| {
            let flag = flag
                .strip_prefix("--")
                .unwrap_or_else(|| panic!("{path}: not a flag: {flag}"));
            let (k, v) = flag.split_once('=').unwrap_or((flag, "true"));
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

/// A hand-run control plane: the service range kube-apiserver allocates from, the pod CIDR
/// kube-controller-manager's node IPAM hands out (it must agree with every kube-proxy's
/// `clusterCIDR` and cut node subnets the CNI can use), the DNS address every kubelet hands
/// pods. Nothing netc writes places the DNS Service (the user's CoreDNS manifest does): it is
/// taken to be where the kubelets point, which must at least lie in the service range.
fn manual(files: &Files, hosts: &Hosts) -> (ClusterNet, Option<DataPath>) {
    let of = |suffix: &str| -> Vec<&String> {
        files
            .keys()
            .filter(|k| k.starts_with("manual/") && k.ends_with(suffix))
            .collect()
    };
    let mut service_cidrs: Option<Vec<IpNet>> = None;
    let mut pod_cidrs: Option<Vec<IpNet>> = None;
    let mut node_mask = None;
    for path in of("/kube-apiserver.env") {
        let flags = env_file_flags(path, text(files, path));
        let s = nets(&Value::from(flags["service-cluster-ip-range"].as_str()));
        assert!(
            flags.contains_key("advertise-address"),
            "{path}: no advertise-address"
        );
        assert!(
            service_cidrs.get_or_insert(s.clone()) == &s,
            "{path}: service range differs"
        );
    }
    for path in of("/kube-controller-manager.env") {
        let flags = env_file_flags(path, text(files, path));
        assert_eq!(flags["allocate-node-cidrs"], "true", "{path}");
        let s = nets(&Value::from(flags["service-cluster-ip-range"].as_str()));
        assert!(
            service_cidrs.as_ref() == Some(&s),
            "{path}: service range differs from the API server's"
        );
        let p = nets(&Value::from(flags["cluster-cidr"].as_str()));
        assert!(
            pod_cidrs.get_or_insert(p.clone()) == &p,
            "{path}: cluster-cidr differs"
        );
        let mask = flags
            .get("node-cidr-mask-size")
            .or_else(|| flags.get("node-cidr-mask-size-ipv4"))
            .map(|m| m.parse::<u8>().expect("mask"));
        node_mask = node_mask.or(mask);
    }
    let pod_cidrs = pod_cidrs.expect("no kube-controller-manager.env");
    let mut kubelet_dns = None;
    let mut bridge_subnets = Vec::new();
    for path in of("/kubelet-config.yaml") {
        let kubelet = yaml(files, path);
        assert_eq!(kubelet["kind"], "KubeletConfiguration", "{path}");
        let dns = kubelet["clusterDNS"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(addr);
        assert!(
            kubelet_dns.get_or_insert(dns) == &dns,
            "{path}: clusterDNS differs"
        );
        bridge_subnets.push((path.clone(), nets(&kubelet["podCIDR"])));
    }
    for path in of("/kube-proxy-config.yaml") {
        let proxy = yaml(files, path);
        check_kube_proxy_mode(path, &proxy, hosts.version);
        assert_eq!(
            nets(&proxy["clusterCIDR"]),
            pod_cidrs,
            "{path}: kube-proxy clusterCIDR"
        );
        assert!(
            proxy["bindAddress"]
                .as_str()
                .and_then(|a| a.parse::<IpAddr>().ok())
                .is_some(),
            "{path}: bindAddress"
        );
    }
    let dp = installed_cni(files, hosts);
    if let Some(dp) = &dp {
        // Host flanneld's --kube-subnet-mgr takes each node's podCIDR from node IPAM: those
        // subnets must be SubnetLen long inside Network.
        if files.contains_key("flannel/net-conf.json") {
            let conf = json(files, "flannel/net-conf.json");
            if let Some(len) = conf["SubnetLen"].as_u64() {
                assert_eq!(
                    node_mask.map(u64::from),
                    Some(len),
                    "node IPAM mask != flannel SubnetLen"
                );
            }
        }
        // The bridge plugin: kubelet's podCIDR is the node's host-local range.
        for (path, subnets) in &bridge_subnets {
            let node = path
                .trim_start_matches("manual/")
                .split('/')
                .next()
                .unwrap_or_default();
            let conflist = format!("cni/{node}/10-netc-bridge.conflist");
            if files.contains_key(&conflist) {
                let list = json(files, &conflist);
                let mut ranges: Vec<IpNet> = list["plugins"][0]["ipam"]["ranges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| nets(&r[0]["subnet"]))
                    .collect();
                ranges.sort_by_key(|n| matches!(n, IpNet::V6(_)));
                assert_eq!(
                    &ranges, subnets,
                    "{path}: podCIDR != {conflist}'s range ({})",
                    dp.consumer
                );
            } else {
                assert!(
                    subnets.is_empty(),
                    "{path}: podCIDR without the bridge plugin"
                );
            }
        }
    }
    let kubelet_dns = kubelet_dns.flatten();
    let net = ClusterNet {
        pod_cidrs,
        service_cidrs: service_cidrs.expect("no kube-apiserver.env"),
        kubelet_dns,
        dns_service: kubelet_dns,
    };
    (net, dp)
}

fn k3s_like_net(server: &Value, defaults: (&str, &str, &str)) -> ClusterNet {
    let or = |v: &Value, d: &str| {
        if v.is_null() {
            nets(&Value::String(d.to_owned()))
        } else {
            nets(v)
        }
    };
    let dns = addr(&server["cluster-dns"]).or_else(|| defaults.2.parse().ok());
    ClusterNet {
        pod_cidrs: or(&server["cluster-cidr"], defaults.0),
        service_cidrs: or(&server["service-cidr"], defaults.1),
        kubelet_dns: dns,
        // k3s/RKE2 deploy CoreDNS at `cluster-dns` too.
        dns_service: dns,
    }
}

fn k3s(files: &Files, hosts: &Hosts) -> (ClusterNet, Option<DataPath>) {
    let (server, configs) = node_configs(files, "k3s");
    let net = k3s_like_net(&server, ("10.42.0.0/16", "10.43.0.0/16", "10.43.0.10"));
    let backend = server["flannel-backend"].as_str().unwrap_or("vxlan");
    let dp = if backend == "none" {
        installed_cni(files, hosts)
    } else {
        let mut dp = k3s_flannel(files, &server, &configs, hosts);
        // k3s hands its flannel the cluster CIDR itself.
        dp.pod_cidrs = net.pod_cidrs.clone();
        Some(dp)
    };
    (net, dp)
}

fn rke2(files: &Files, hosts: &Hosts) -> (ClusterNet, Option<DataPath>) {
    let (server, _) = node_configs(files, "rke2");
    let net = k3s_like_net(&server, ("10.42.0.0/16", "10.43.0.0/16", "10.43.0.10"));
    let cni = server["cni"]
        .as_array()
        .and_then(|a| a.first())
        .and_then(Value::as_str)
        .unwrap_or("canal")
        .to_owned();
    let chart = format!("rke2/manifests/rke2-{cni}-config.yaml");
    let values = if files.contains_key(&chart) {
        let hcc = yaml(files, &chart);
        assert_eq!(
            hcc["metadata"]["name"],
            format!("rke2-{cni}"),
            "{chart} name"
        );
        let content = hcc["spec"]["valuesContent"].as_str().unwrap_or("");
        serde_saphyr::from_str::<Value>(content).unwrap_or_else(|e| panic!("{chart}: {e}"))
    } else {
        Value::Null
    };
    let dp = match cni.as_str() {
        "canal" => {
            let conf = chart_net_conf(&values["flannel"], &net.pod_cidrs);
            let mut dp = flannel(&chart, &conf, &hosts.node_mtus);
            // rke2-canal values.yaml: vethuMTU defaults to 1450.
            let veth = set(&values["calico"]["vethuMTU"]).unwrap_or(1450);
            dp.pod_mtus = vec![veth; hosts.node_mtus.len()];
            dp.pod_cidrs = net.pod_cidrs.clone();
            Some(dp)
        }
        "flannel" => {
            let conf = chart_net_conf(&values["flannel"], &net.pod_cidrs);
            let mut dp = flannel(&chart, &conf, &hosts.node_mtus);
            dp.pod_cidrs = net.pod_cidrs.clone();
            Some(dp)
        }
        "calico" => {
            let mut dp = calico(
                &chart,
                &values["installation"]["calicoNetwork"],
                &values["felixConfiguration"],
                hosts,
            );
            if dp.pod_cidrs.is_empty() {
                dp.pod_cidrs = net.pod_cidrs.clone();
            }
            Some(dp)
        }
        "cilium" => {
            let mut dp = cilium(&chart, &values, hosts);
            dp.pod_cidrs = net.pod_cidrs.clone();
            Some(dp)
        }
        _ => None,
    };
    (net, dp)
}

fn canonical(files: &Files, hosts: &Hosts) -> (ClusterNet, Option<DataPath>) {
    let boot = yaml(files, "canonical/bootstrap.yaml");
    // k8s-snap 1.36 runs no kube-proxy (`extra-node-kube-proxy-args` "no longer used").
    if hosts.version >= (1, 36) {
        assert!(
            boot.get("extra-node-kube-proxy-args").is_none(),
            "canonical {:?}: extra-node-kube-proxy-args",
            hosts.version
        );
    }
    let or = |v: &Value, d: &str| {
        if v.is_null() {
            nets(&Value::String(d.to_owned()))
        } else {
            nets(v)
        }
    };
    let pod_cidrs = or(&boot["pod-cidr"], "10.1.0.0/16");
    let service_cidrs = or(&boot["service-cidr"], "10.152.183.0/24");
    let dns = addr(&boot["cluster-config"]["dns"]["service-ip"]);
    let ann = &boot["cluster-config"]["annotations"];
    let a = |k: &str| ann[k].as_str();
    let dp = match hosts.canonical_builtin {
        "calico" => {
            // k8s-snap features/calico: pools from pod-cidr with the annotation's
            // encapsulation (default VXLAN), no MTU, no Felix settings.
            let mut pools = Vec::new();
            let mut encaps = Vec::new();
            for cidr in &pod_cidrs {
                let key = if matches!(cidr, IpNet::V4(_)) {
                    "k8sd/v1alpha1/calico/encapsulation-v4"
                } else {
                    "k8sd/v1alpha1/calico/encapsulation-v6"
                };
                pools.push(serde_json::json!({"cidr": cidr.to_string()}));
                encaps.push(a(key).unwrap_or("VXLAN").to_owned());
            }
            Some(calico_model(
                "canonical bootstrap annotations (calico)",
                &pools,
                &encaps,
                None,
                &Value::Null,
                hosts,
            ))
        }
        "cilium" => {
            let mut values = serde_json::json!({"routingMode": "tunnel"});
            if let Some(p) = a("k8sd/v1alpha1/cilium/tunnel-port") {
                values["tunnelPort"] = p.parse::<u32>().expect("tunnel-port").into();
            }
            let mut dp = cilium("canonical bootstrap annotations (cilium)", &values, hosts);
            dp.pod_cidrs = pod_cidrs.clone();
            Some(dp)
        }
        other => panic!("canonical built-in {other}"),
    };
    let net = ClusterNet {
        pod_cidrs,
        service_cidrs,
        kubelet_dns: dns,
        dns_service: dns,
    };
    (net, dp)
}
