//! The intent file as typed Rust: the contract of DESIGN.md's "The intent file".
//!
//! Every leaf a diagnostic may point at is `Spanned`. Addresses, CIDRs and ports stay text here:
//! a malformed one is a validation finding with its own code (`netc::cidr::invalid`,
//! `netc::policy::invalid`), not a parse error. `validate` checks them and `plan` reads them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::spanned::Spanned;
use super::values;

pub type Text = Spanned<String>;

/// Label map (`app: backend`), keys and values spanned.
pub type Labels = BTreeMap<Text, Text>;

/// A network intent: everything netc needs to check a cluster's networking and emit its files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NetworkIntent {
    /// Always `netc/v1alpha1`.
    #[schemars(extend("const" = values::API_VERSION))]
    pub api_version: Text,
    /// Always `NetworkIntent`.
    #[schemars(extend("const" = super::foreign::INTENT_KIND))]
    pub kind: Text,
    pub metadata: Metadata,
    pub cluster: Cluster,
    pub cni: Cni,
    /// Optional host-to-host VXLAN between sites: a bridge plus a VXLAN device on every node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_overlay: Option<HostOverlay>,
    /// Networks nothing may overlap (docker0, corporate ranges, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = values::CIDR_PATTERN)))]
    pub reserved: Vec<Text>,
    pub nodes: Vec<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<Proxy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firewall: Option<Firewall>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// The pods the policies talk about, for `netc explain`, its matrix and the policy lint.
    /// The cluster's own (CoreDNS, the API server, the nodes) are known without being listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workloads: Vec<Workload>,
    /// Optional: run `netc apply` on every node as a DaemonSet (`netc build` emits `fleet/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fleet: Option<Fleet>,
    /// Findings this intent accepts, anywhere in the file (`allow: [netc::policy::shadowed]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<Lint>,
}

/// Findings an intent accepts: warnings (and notes) of the listed codes are not reported.
/// Errors cannot be accepted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Lint {
    /// Diagnostic codes whose warnings are accepted: `netc::policy::api-server-unreachable`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    pub name: Text,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    pub distribution: Spanned<Distribution>,
    /// e.g. `v1.31.2`; picks the kubeadm API (v1beta3 below 1.31, v1beta4 from 1.31).
    pub kubernetes_version: Text,
    /// One CIDR, or a list of one IPv4 and one IPv6 CIDR for dual-stack.
    #[serde(rename = "podCIDR")]
    #[schemars(with = "Networks")]
    pub pod_cidr: Spanned<CidrList>,
    #[serde(rename = "serviceCIDR")]
    #[schemars(with = "Networks")]
    pub service_cidr: Spanned<CidrList>,
    /// Prefix length of each node's pod subnet (IPv4). Default 24.
    #[serde(
        rename = "nodeCIDRMaskSize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub node_cidr_mask_size: Option<Spanned<u8>>,
    /// Prefix length of each node's IPv6 pod subnet. Default 64.
    #[serde(
        rename = "nodeCIDRMaskSizeV6",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub node_cidr_mask_size_v6: Option<Spanned<u8>>,
    /// Default `cluster.local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_domain: Option<Text>,
    /// Default: the 10th address of the service CIDR.
    #[serde(
        rename = "clusterDNS",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_dns: Option<Text>,
    /// `host:port` of the API server (a load balancer or the first control-plane node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control_plane_endpoint: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_proxy: Option<KubeProxy>,
    /// The control plane's datastore (Canonical Kubernetes `datastore-type`): `etcd` (default)
    /// or `k8s-dqlite`. Decides which datastore ports control-plane nodes open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datastore: Option<Spanned<Datastore>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Datastore {
    Etcd,
    K8sDqlite,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    Kubeadm,
    Rke2,
    K3s,
    Canonical,
    /// A control plane run from binaries with flags, as in "Kubernetes the hard way": netc
    /// writes each component's network settings (flags files, KubeProxyConfiguration,
    /// KubeletConfiguration) and, with flannel, runs flanneld on the host.
    Manual,
}

/// The schema of a [`CidrList`] of networks (`podCIDR`, `serviceCIDR`): each a CIDR.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum Networks {
    One(#[schemars(regex(pattern = values::CIDR_PATTERN))] String),
    Many(#[schemars(inner(regex(pattern = values::CIDR_PATTERN)))] Vec<String>),
}

/// One CIDR or a list of them (dual-stack: one per family).
#[derive(Clone, Debug, Default, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CidrList {
    #[default]
    #[schemars(skip)]
    Empty,
    One(Text),
    Many(Vec<Text>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeProxy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Spanned<KubeProxyMode>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipvs_scheduler: Option<Text>,
    #[serde(rename = "strictARP", default, skip_serializing_if = "Option::is_none")]
    pub strict_arp: Option<Spanned<bool>>,
    /// Connection-tracking limits and timeouts kube-proxy sets on each node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conntrack: Option<KubeProxyConntrack>,
    /// IPVS resync timing and the CIDRs kube-proxy leaves alone (mode `ipvs` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipvs: Option<KubeProxyIpvs>,
}

/// kube-proxy's `conntrack` settings (KubeProxyConfiguration `conntrack.*`, flags
/// `--conntrack-*`). Durations are Go durations (`24h`, `1h0m0s`, `90s`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeProxyConntrack {
    /// Connections to track per CPU core (kube-proxy default 32768; 0 leaves the limit alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_core: Option<Spanned<i64>>,
    /// Least number of tracked connections, whatever `maxPerCore` gives (default 131072).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Spanned<i64>>,
    /// Idle timeout of established TCP connections (default `24h`; `0s` leaves it alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_established_timeout: Option<Text>,
    /// Timeout of TCP connections in CLOSE_WAIT (default `1h`; `0s` leaves it alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_close_wait_timeout: Option<Text>,
}

/// kube-proxy's `ipvs` settings (KubeProxyConfiguration `ipvs.*`, flags `--ipvs-*`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeProxyIpvs {
    /// How often IPVS rules are fully resynced, a Go duration greater than 0 (default `30s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_period: Option<Text>,
    /// Least time between resyncs, at most `syncPeriod` (default `0s`: every change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sync_period: Option<Text>,
    /// CIDRs whose IPVS virtual servers kube-proxy never cleans up (e.g. a load balancer's).
    #[serde(
        rename = "excludeCIDRs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub exclude_cidrs: Vec<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KubeProxyMode {
    Iptables,
    Ipvs,
    Nftables,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cni {
    pub plugin: Spanned<CniPlugin>,
    /// Default: the plugin's own (vxlan for flannel/canal/cilium, ipip for calico, none for bridge).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encapsulation: Option<Spanned<Encapsulation>>,
    /// Pod MTU: a number, or `auto` (the smallest data-path MTU minus encapsulation overhead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Spanned<Mtu>>,
    /// Data-plane interface (flannel --iface, calico autodetection, canal_iface).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = values::INTERFACE_NAME_PATTERN))]
    pub interface: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vxlan: Option<VxlanPort>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calico: Option<CalicoOptions>,
    /// flannel run on the host (`distribution: manual` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flannel: Option<FlannelOptions>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CniPlugin {
    Flannel,
    Calico,
    Canal,
    Cilium,
    Bridge,
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Encapsulation {
    Vxlan,
    VxlanCrossSubnet,
    Ipip,
    Bgp,
    HostGw,
    Wireguard,
    None,
}

/// `auto` or a number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Mtu {
    #[schemars(with = "AutoKeyword")]
    Auto,
    Bytes(u32),
}

#[derive(JsonSchema)]
#[allow(dead_code)]
enum AutoKeyword {
    #[serde(rename = "auto")]
    Auto,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VxlanPort {
    /// UDP port. Default: flannel and Cilium 8472, Calico 4789; the IANA port 4789 for host
    /// overlays.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub port: Option<Spanned<u16>>,
    /// VXLAN network identifier. Default: flannel 1, Calico 4096 (Cilium's cannot be set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = values::MAX_VNI))]
    pub vni: Option<Spanned<u32>>,
    /// Underlay interface (host overlay only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = values::INTERFACE_NAME_PATTERN))]
    pub interface: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CalicoOptions {
    /// IPAM block size (IPv4 20-32, default 26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_size: Option<Spanned<u8>>,
    /// Masquerade pod traffic leaving the pool. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nat_outgoing: Option<Spanned<bool>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlannelOptions {
    /// Where host flanneld and its files live (`distribution: manual`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paths: Option<FlannelPaths>,
}

/// Host flanneld's files; each absolute path defaults to the hard-way lesson's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlannelPaths {
    /// The flanneld binary. Default `/opt/bin/flanneld`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<Text>,
    /// flanneld's `--net-config-path`. Default `/etc/kube-flannel/net-conf.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_conf: Option<Text>,
    /// flanneld's `--kubeconfig-file`. Default `/etc/kube-flannel/kubeconfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HostOverlay {
    /// Name of the bridge the VXLAN device is enslaved to.
    #[schemars(regex(pattern = values::INTERFACE_NAME_PATTERN))]
    pub bridge: Text,
    /// Overlay subnet; node N gets its (N+1)th address on the bridge.
    #[schemars(regex(pattern = values::CIDR_PATTERN))]
    pub subnet: Text,
    pub vxlan: VxlanPort,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Node {
    /// DNS-1123 name, as Kubernetes will know the node.
    pub name: Text,
    pub role: Spanned<Role>,
    /// The node's primary address with its prefix (`10.0.1.100/24`).
    #[schemars(regex(pattern = values::CIDR_PATTERN))]
    pub address: Text,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub interfaces: Vec<Interface>,
    /// Pin of the node's pod subnet; otherwise allocated in node order.
    #[serde(rename = "podCIDR", default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = values::CIDR_PATTERN))]
    pub pod_cidr: Option<Text>,
    /// Dual-stack: the node's address of the other IP family, with its prefix
    /// (`fd00:10::100/64`). The kubelet's `node-ip` then lists both, in the order of the
    /// cluster's pod CIDRs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_address: Option<Text>,
    /// Public address(es) of the node, without prefix: one, or one per family
    /// (RKE2/k3s `node-external-ip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_address: Option<Spanned<CidrList>>,
    /// Control-plane nodes: the address the API server listens on, without prefix. One of the
    /// node's own addresses (`address`, `secondaryAddress`, an interface's or its host-overlay
    /// address), or `0.0.0.0` / `::` for every address (the default). A specific address is
    /// also the one the API server is advertised and reached at (kubeadm
    /// `advertiseAddress` and a `kube-apiserver` patch, k3s `bind-address` and
    /// `advertise-address`, manual `--bind-address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_address: Option<Text>,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Worker,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Interface {
    #[schemars(regex(pattern = values::INTERFACE_NAME_PATTERN))]
    pub name: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<Spanned<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<Spanned<Purpose>>,
    /// Address on this interface, with prefix, when it is not the node's primary address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = values::CIDR_PATTERN))]
    pub address: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    Management,
    Data,
    Storage,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Proxy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub https: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_proxy: Vec<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Firewall {
    pub backend: Spanned<FirewallBackend>,
    /// firewalld zone (default `public`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<Text>,
    /// Ports never blocked by anything netc emits or applies, e.g. `tcp/22`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(regex(pattern = values::PORT_RANGE_PATTERN)))]
    pub management_access: Vec<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<FirewallRule>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FirewallBackend {
    Firewalld,
    Nftables,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FirewallRule {
    pub name: Text,
    /// `tcp/9100`, `udp/30000-32767`.
    #[schemars(inner(regex(pattern = values::PORT_RANGE_PATTERN)))]
    pub ports: Vec<Text>,
    /// Source networks allowed; empty = anywhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<Text>,
    /// Roles whose nodes open the ports; empty = every node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Spanned<Role>>,
    /// `accept` (default) or `drop`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Spanned<FirewallAction>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FirewallAction {
    Accept,
    Drop,
}

/// One entry of `policies`. Two forms:
///
/// - without `name`: the namespace's defaults (`defaultDeny`, `allowDNS`) and one-rule
///   allowances, each rule its own NetworkPolicy named after the rule (one such entry per
///   namespace);
/// - with `name`: exactly one NetworkPolicy of that name, as Kubernetes writes it: the pods of
///   `podSelector`/`podExpressions`, `policyTypes`, and any number of rules in both directions
///   (rule index = position in `rules`/`egress`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Policy {
    pub namespace: Text,
    /// The NetworkPolicy's name (a DNS-1123 subdomain, at most 253 characters): the entry is
    /// that one object, its rules share `podSelector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Named entries: labels of the pods the policy applies to; absent (with no
    /// `podExpressions`) = every pod of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<Labels>,
    /// Named entries: `matchExpressions` of the policy's pod selector (ANDed with `podSelector`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_expressions: Vec<SelectorExpression>,
    /// Named entries: the directions the policy isolates (`[ingress]`, `[egress]`, both).
    /// Default as Kubernetes: ingress, plus egress when `egress` has rules. Always written out
    /// in the emitted object.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_types: Vec<Spanned<Direction>>,
    /// Unnamed entries: deny every connection in these directions not allowed by a rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_deny: Vec<Spanned<Direction>>,
    /// Unnamed entries: allow DNS to kube-dns; default true whenever egress is denied.
    #[serde(rename = "allowDNS", default, skip_serializing_if = "Option::is_none")]
    pub allow_dns: Option<Spanned<bool>>,
    /// Ingress allowances: traffic `from` peers `to` the selected pods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<IngressRule>,
    /// Egress allowances: traffic `from` the selected pods `to` peers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule>,
    /// Findings accepted for this policy only: warnings of the listed codes whose place is
    /// inside this policy are not reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lint: Option<Lint>,
}

/// One `matchExpressions` requirement of a Kubernetes label selector (LabelSelectorRequirement).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SelectorExpression {
    /// The label key.
    pub key: Text,
    /// `In` (the label is one of `values`), `NotIn` (absent, or none of `values`), `Exists`,
    /// `DoesNotExist`.
    pub operator: Text,
    /// Required (non-empty) for `In`/`NotIn`; empty or absent for `Exists`/`DoesNotExist`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Text>,
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Ingress,
    Egress,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressRule {
    /// Required in an unnamed entry, where it names the NetworkPolicy; optional in a named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Unnamed entries: labels of the protected pods; absent (with no `toExpressions`) =
    /// every pod of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Labels>,
    /// Unnamed entries: `matchExpressions` of the protected pods' selector.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to_expressions: Vec<SelectorExpression>,
    /// Who may connect. Absent = nobody (the rule only isolates the selected pods); an
    /// explicit empty list `[]` = every source, as in Kubernetes (`ports` still apply).
    #[serde(default, skip_serializing_if = "PeerList::is_absent")]
    pub from: PeerList,
    /// `tcp/8080`, `udp/53`, `tcp/8000-8080`, `tcp/http`, or a protocol alone (`udp`: every
    /// port of it); empty = all ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Text>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EgressRule {
    /// Required in an unnamed entry, where it names the NetworkPolicy; optional in a named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Unnamed entries: labels of the pods the allowance is for; absent (with no
    /// `fromExpressions`) = every pod of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Labels>,
    /// Unnamed entries: `matchExpressions` of the selector of the pods the allowance is for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_expressions: Vec<SelectorExpression>,
    /// Where they may connect. Absent = nowhere (the rule only isolates the selected pods); an
    /// explicit empty list `[]` = every destination, as in Kubernetes (`ports` still apply).
    #[serde(default, skip_serializing_if = "PeerList::is_absent")]
    pub to: PeerList,
    /// As an ingress rule's `ports`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Text>,
}

/// The peers of a rule: absent (`None`, nobody), or a list, where an empty list means every
/// peer (Kubernetes: "If this field is empty or missing, this rule matches all sources").
/// Iterating it yields the listed peers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct PeerList(pub Option<Vec<Peer>>);

impl PeerList {
    /// The key is absent: the rule admits nobody.
    pub fn is_absent(&self) -> bool {
        self.0.is_none()
    }

    /// An explicit `[]`: the rule admits every peer.
    pub fn is_everyone(&self) -> bool {
        self.0.as_ref().is_some_and(Vec::is_empty)
    }
}

impl std::ops::Deref for PeerList {
    type Target = [Peer];
    fn deref(&self) -> &[Peer] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl<'a> IntoIterator for &'a PeerList {
    type Item = &'a Peer;
    type IntoIter = std::slice::Iter<'a, Peer>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// One peer: pods (in this or selected namespaces), or an IP block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Peer {
    /// Labels of the peer pods (`podSelector.matchLabels`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<Labels>,
    /// `matchExpressions` of the peer pods' selector (ANDed with `pods`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pod_expressions: Vec<SelectorExpression>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<NamespaceSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<Text>,
}

/// A set of pods (a Deployment, a DaemonSet, ...) as the NetworkPolicies see it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    /// The namespace the pods run in.
    pub namespace: Text,
    /// A name for `netc explain` (`--from NAMESPACE/NAME`); DNS-1123.
    pub name: Text,
    /// The pods' labels, which policy selectors match.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: Labels,
    /// Labels of the namespace, which namespace selectors match (Kubernetes adds
    /// `kubernetes.io/metadata.name` itself). Workloads of one namespace share them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub namespace_labels: Labels,
    /// Named container ports, which named policy ports resolve to: `{http: tcp/8080}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ports: Labels,
    /// The pods use the node's network (`hostNetwork: true`): policies do not select them and
    /// traffic to them meets the node firewall. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_network: Option<Spanned<bool>>,
    /// The node the pods run on; default: any node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Text>,
}

/// A namespace by its name, or by labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSelector {
    /// The namespace's name (matched on `kubernetes.io/metadata.name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Labels of the namespaces (`namespaceSelector.matchLabels`); `{}` = every namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Labels>,
    /// `matchExpressions` of the namespace selector (ANDed with `name` and `labels`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expressions: Vec<SelectorExpression>,
}

/// The DaemonSet that runs `netc apply --watch` on every node.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fleet {
    /// Container image holding `netc`, `ip`, `nft` and `modprobe`. Required: netc never picks one.
    pub image: Text,
    /// Namespace of the DaemonSet and its objects. Default `netc-system`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<Text>,
    /// Nodes a rolling update may take down at once. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<Spanned<u32>>,
    /// How often the agent re-observes its node: `30s`, `5m`, `1h`. Default `30s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Text>,
    /// Labels a node must have to run the agent; absent = every node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<Labels>,
    /// Taints the agent tolerates, beside the ones it always tolerates (not-ready,
    /// unreachable, uninitialized).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

/// A Kubernetes toleration (core/v1 Toleration).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// Taint key; absent with `operator: Exists` = every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Text>,
    /// `Equal` (default) or `Exists`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Spanned<TolerationOperator>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Text>,
    /// Absent = every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<Spanned<TaintEffect>>,
    /// `NoExecute` only: how long the pod stays bound after the taint appears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<Spanned<i64>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TolerationOperator {
    Equal,
    Exists,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}
