//! The CNI plan: one settings struct per plugin, every value in the unit its consumer reads it
//! in (an underlay MTU where the consumer subtracts its own tunnel, a pod MTU where it does not,
//! an anchored regular expression where it matches interface names). Every emitter (kubeadm,
//! RKE2's HelmChartConfig, k3s, Canonical Kubernetes, flannel, canal, calico, cilium, cni) and
//! the port claims read these settings; none derives a CNI fact of its own.
//!
//! Settings depend on the distribution: a distribution that embeds the CNI decides the values
//! the intent cannot reach (Canonical Kubernetes' Calico runs BGP because the operator enables
//! it by default). An intent value a target cannot take is recorded in `not_applied`, and
//! `check` reports it (`netc::cni::setting-not-applied`): no accepted setting is dropped silently.

use ipnet::IpNet;
use serde::Serialize;

use super::mtu::{cni_over_host_overlay, data_path_interfaces};
use super::{DEFAULT_INTERFACE_MTU, HostOverlayPlan, NodePlan};
use crate::intent::{CniPlugin, Distribution, Encapsulation, Mtu, NetworkIntent, Span};

/// The bridge netc's bridge-plugin conflist names, and `apply` creates, on each node (the
/// reference plugin's default, containernetworking/plugins `plugins/main/bridge/bridge.go`
/// `defaultBrName`).
pub const CNI_BRIDGE: &str = "cni0";
/// Flannel's VXLAN port when `Backend.Port` is 0: the Linux kernel's VXLAN default (8472).
pub const FLANNEL_VXLAN_PORT: u16 = super::profile::FLANNEL_VXLAN_PORT;
/// flannel-io/flannel `pkg/backend/vxlan/vxlan.go`: `defaultVNI = 1` on Linux.
pub const FLANNEL_VXLAN_VNI: u32 = 1;
/// flannel-io/flannel `pkg/backend/vxlan/device.go`: the `flannel.<VNI>` device gets `MTU - 50`.
pub const FLANNEL_VXLAN_DEVICE_OVERHEAD: u32 = 50;
/// flannel-io/flannel `pkg/backend/wireguard/wireguard_network.go`: `overhead = 80`, taken off
/// `MTU` for the `flannel-wg` device whatever the underlay family.
pub const FLANNEL_WIREGUARD_DEVICE_OVERHEAD: u32 = 80;
/// flannel's wireguard backend `ListenPort` / `ListenPortV6` defaults.
pub const FLANNEL_WIREGUARD_PORT: u16 = super::profile::FLANNEL_WIREGUARD_PORT;
pub const FLANNEL_WIREGUARD_PORT_V6: u16 = super::profile::FLANNEL_WIREGUARD_PORT_V6;
/// Calico FelixConfiguration defaults (projectcalico/api `felixconfig.go`): `vxlanPort` 4789,
/// `vxlanVNI` 4096, `wireguardListeningPort` 51820, `wireguardListeningPortV6` 51821.
pub const CALICO_VXLAN_PORT: u16 = super::profile::CALICO_VXLAN_PORT;
pub const CALICO_VXLAN_VNI: u32 = 4096;
pub const CALICO_WIREGUARD_PORT: u16 = super::profile::CALICO_WIREGUARD_PORT;
pub const CALICO_WIREGUARD_PORT_V6: u16 = super::profile::CALICO_WIREGUARD_PORT_V6;
/// The operator's IPv4 block size default (tigera/operator `api/v1/installation_types.go`).
pub const CALICO_BLOCK_SIZE_V4: u8 = 26;
/// Calico's IPv6 IPAM block size default.
pub const CALICO_BLOCK_SIZE_V6: u8 = 122;
/// cilium/cilium `install/kubernetes/cilium/values.yaml`: `tunnelPort` 0 = 8472 for VXLAN.
pub const CILIUM_VXLAN_PORT: u16 = super::profile::CILIUM_VXLAN_PORT;
/// cilium/cilium `pkg/wireguard/agent/agent.go`: `listenPort = 51871`.
pub const CILIUM_WIREGUARD_PORT: u16 = super::profile::CILIUM_WIREGUARD_PORT;
/// cilium/cilium `pkg/mtu/mtu.go`: `TunnelOverhead = 50` (IPv4 underlay) and
/// `WireguardOverhead = 80`, both taken off the `MTU` value for pod routes.
pub const CILIUM_TUNNEL_OVERHEAD: u32 = 50;
/// cilium/cilium `install/kubernetes/cilium/values.yaml`: `ipam.operator.clusterPoolIPv4MaskSize`
/// 24 and `clusterPoolIPv6MaskSize` 120.
pub const CILIUM_POOL_MASK_V4: u8 = 24;
pub const CILIUM_POOL_MASK_V6: u8 = 120;
pub const CILIUM_WIREGUARD_OVERHEAD: u32 = 80;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CniPlan {
    pub plugin: CniPlugin,
    /// The effective encapsulation (the plugin's default when the intent names none).
    pub encapsulation: Encapsulation,
    /// Pod MTU (what pod veths get): the intent's number, or `auto` resolved against every
    /// node's data path.
    pub mtu: u32,
    /// Whether `mtu` was derived (`auto` or absent) rather than given.
    pub mtu_auto: bool,
    /// Whether the intent tells the data path's MTU: `cni.mtu` as a number, or a declared MTU
    /// on every data-path interface of every node. Otherwise `mtu` rests on a 1500 guess, and
    /// the CNIs that detect the MTU themselves get none (flannel's `Backend.MTU`: the
    /// interface's, `pkg/backend/vxlan`; Calico's Installation `mtu`: autodetected, tigera/operator
    /// `api/v1/installation_types.go`; Cilium's `MTU`: 0 = the device's, cilium `pkg/mtu`).
    pub mtu_known: bool,
    /// Bytes the CNI's own data path takes off the underlay MTU, as the plugin counts them.
    pub own_overhead: u32,
    /// Bytes each pod packet gains on the wire: `own_overhead` plus `host_overlay_overhead`.
    pub overhead: u32,
    /// Bytes the host overlay under the CNI adds (its VXLAN), 0 when the CNI does not run over
    /// the overlay's bridge.
    pub host_overlay_overhead: u32,
    /// Data-plane interface, when the intent names one.
    pub interface: Option<String>,
    /// How the plugin is configured, as its consumers read it.
    pub settings: PluginSettings,
    /// Intent values a target of this cluster has no knob for (reported by `check`).
    #[serde(skip)]
    pub not_applied: Vec<NotApplied>,
    /// `Some(target)` when no target can set the pod MTU: `target` gives pods each node's
    /// own interface MTU (less its overhead), so nodes with different data-path MTUs give
    /// some pods more than the path to other nodes carries (`check` reports it).
    #[serde(skip)]
    pub pod_mtu_per_node: Option<&'static str>,
    /// With a derived MTU (`auto` or absent): the node, interface and MTU of the smallest data
    /// path, which `mtu` is derived from (`check -v` and `build -v` say so).
    #[serde(skip)]
    pub mtu_limit: Option<MtuLimit>,
}

/// The data path that sets a derived pod MTU: the smallest among the nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct MtuLimit {
    pub node: String,
    /// The interface with that MTU; `None` when the node declares no data-path interface
    /// (netc assumes the 1500 default).
    pub interface: Option<String>,
    pub interface_mtu: u32,
    /// The largest data-path MTU among the nodes: above `interface_mtu` when one node
    /// lowers the pod MTU for all.
    pub largest: u32,
}

impl MtuLimit {
    /// Whether one node's smaller data path lowers the pod MTU of every node.
    pub fn lowers(&self) -> bool {
        self.largest > self.interface_mtu
    }
}

impl CniPlan {
    /// Flannel's settings: the flannel plugin's, or Canal's data path.
    pub fn flannel(&self) -> Option<&FlannelSettings> {
        match &self.settings {
            PluginSettings::Flannel(f) => Some(f),
            PluginSettings::Canal(c) => Some(&c.flannel),
            _ => None,
        }
    }

    pub fn canal(&self) -> Option<&CanalSettings> {
        match &self.settings {
            PluginSettings::Canal(c) => Some(c),
            _ => None,
        }
    }

    pub fn calico(&self) -> Option<&CalicoSettings> {
        match &self.settings {
            PluginSettings::Calico(c) => Some(c),
            _ => None,
        }
    }

    pub fn cilium(&self) -> Option<&CiliumSettings> {
        match &self.settings {
            PluginSettings::Cilium(c) => Some(c),
            _ => None,
        }
    }

    /// Which tunnels the CNI's data path uses, from its settings (kernel modules, sysctls).
    pub fn tunnels(&self) -> Tunnels {
        let mut t = Tunnels::default();
        match &self.settings {
            PluginSettings::Flannel(_) | PluginSettings::Canal(_) => {
                if let Some(f) = self.flannel() {
                    match f.backend {
                        FlannelBackend::Vxlan { .. } => t.vxlan = true,
                        FlannelBackend::Wireguard { .. } => t.wireguard = true,
                        FlannelBackend::HostGw => {}
                    }
                }
            }
            PluginSettings::Calico(c) => {
                t.vxlan = c.uses_vxlan();
                t.ipip = c.pools.iter().any(|p| p.encapsulation == PoolEncap::Ipip);
                t.wireguard = c.wireguard_v4 || c.wireguard_v6;
            }
            PluginSettings::Cilium(c) => {
                t.vxlan = c.tunnel_port.is_some();
                t.wireguard = c.wireguard;
            }
            PluginSettings::Bridge(_) | PluginSettings::None => {}
        }
        t
    }

    pub fn bridge(&self) -> Option<&BridgeSettings> {
        match &self.settings {
            PluginSettings::Bridge(b) => Some(b),
            _ => None,
        }
    }
}

/// The tunnel kinds a CNI's data path uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tunnels {
    pub vxlan: bool,
    pub ipip: bool,
    pub wireguard: bool,
}

/// One settings struct per plugin.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginSettings {
    Flannel(FlannelSettings),
    Calico(CalicoSettings),
    Canal(CanalSettings),
    Cilium(CiliumSettings),
    Bridge(BridgeSettings),
    None,
}

/// flannel (flannel-io/flannel `pkg/subnet/config.go`, `pkg/backend/{vxlan,wireguard}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlannelSettings {
    pub backend: FlannelBackend,
    /// `--iface` (k3s `flannel-iface`, canal `canal_iface`, charts `flannel.iface`).
    pub interface: Option<String>,
    /// `--ip-masq`: masquerade traffic leaving the pod network.
    pub ip_masq: bool,
    /// The MTU flannel hands pods (`FLANNEL_MTU` in subnet.env): its tunnel device's MTU, or
    /// the interface's for host-gw.
    pub device_mtu: u32,
    /// Whether the net-conf differs from what an embedded flannel (k3s) writes by default:
    /// port 8472, VNI 1, each node's interface MTU. k3s then needs `flannel-conf`.
    pub differs_from_k3s_default: bool,
    /// `Some` when flanneld runs on the host under systemd (`distribution: manual`), not as
    /// the distribution's DaemonSet or embedded in it.
    pub host: Option<HostFlanneld>,
}

/// Where host flanneld and the files it reads are (`cni.flannel.paths`, defaults of the
/// hard-way lesson: the binary where the kube-flannel image has it, the net-conf where the
/// DaemonSet mounts it, flanneld's own `--net-config-path` default).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostFlanneld {
    pub binary: String,
    /// `--net-config-path`.
    pub net_conf: String,
    /// `--kubeconfig-file`.
    pub kubeconfig: String,
    /// The cluster CA and the ServiceAccount token the kubeconfig names, beside it.
    pub ca_cert: String,
    pub token: String,
}

/// The flanneld binary's default path (kube-flannel.yml runs `/opt/bin/flanneld`).
pub const FLANNELD_BINARY: &str = "/opt/bin/flanneld";
/// flanneld's `--net-config-path` default (flannel-io/flannel `main.go`).
pub const FLANNELD_NET_CONF: &str = "/etc/kube-flannel/net-conf.json";
/// The kubeconfig host flanneld reads (beside its net-conf).
pub const FLANNELD_KUBECONFIG: &str = "/etc/kube-flannel/kubeconfig";

/// net-conf `Backend`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FlannelBackend {
    /// `MTU` is the underlay MTU: the device gets `MTU - 50` (`pkg/backend/vxlan/device.go`);
    /// `None`: left out, flannel takes the interface's.
    Vxlan {
        port: u16,
        vni: u32,
        mtu: Option<u32>,
    },
    /// No knobs but `Type`; pods get the interface's MTU.
    HostGw,
    /// `MTU` is the underlay MTU: the device gets `MTU - 80`; `None`: the interface's.
    Wireguard {
        listen_port: u16,
        listen_port_v6: Option<u16>,
        mtu: Option<u32>,
    },
}

/// Calico (tigera/operator Installation, projectcalico FelixConfiguration).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalicoSettings {
    pub pools: Vec<CalicoPool>,
    /// `calicoNetwork.bgp`: BIRD runs and peers on TCP 179.
    pub bgp: bool,
    /// `calicoNetwork.mtu`: the pod veth MTU (Calico sizes its tunnel devices itself);
    /// `None`: left out, Calico detects it.
    pub mtu: Option<u32>,
    /// `nodeAddressAutodetectionV4/V6.interface`: Calico matches the regex unanchored, so an
    /// exact name is `^name$` (`eth1` alone would also pick `veth1a2b`).
    pub interface_regex: Option<String>,
    /// FelixConfiguration `vxlanPort` / `vxlanVNI`, used when a pool runs VXLAN.
    pub vxlan_port: u16,
    pub vxlan_vni: u32,
    /// FelixConfiguration `wireguardEnabled` / `wireguardEnabledV6`.
    pub wireguard_v4: bool,
    pub wireguard_v6: bool,
}

impl CalicoSettings {
    /// Whether any pool runs VXLAN (Felix then listens on `vxlan_port`).
    pub fn uses_vxlan(&self) -> bool {
        self.pools.iter().any(|p| {
            matches!(
                p.encapsulation,
                PoolEncap::Vxlan | PoolEncap::VxlanCrossSubnet
            )
        })
    }
}

/// One Calico IP pool per pod CIDR.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalicoPool {
    pub name: String,
    pub cidr: IpNet,
    pub block_size: u8,
    pub encapsulation: PoolEncap,
    pub nat_outgoing: bool,
}

/// How a Calico pool's traffic crosses nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PoolEncap {
    Ipip,
    Vxlan,
    VxlanCrossSubnet,
    None,
}

impl PoolEncap {
    /// The operator's (and k8s-snap's annotation's) spelling.
    pub fn operator(self) -> &'static str {
        match self {
            PoolEncap::Ipip => "IPIP",
            PoolEncap::Vxlan => "VXLAN",
            PoolEncap::VxlanCrossSubnet => "VXLANCrossSubnet",
            PoolEncap::None => "None",
        }
    }
}

/// Canal: flannel's data path with Calico's policy (rke2-charts `rke2-canal`, calico
/// `canal.yaml`'s `canal-config`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CanalSettings {
    pub flannel: FlannelSettings,
    /// `veth_mtu` / `calico.vethuMTU`: the pod veth MTU, never above flannel's device MTU.
    pub veth_mtu: u32,
    /// `masquerade` / `calico.masquerade`.
    pub masquerade: bool,
}

/// Cilium Helm values (cilium/cilium `install/kubernetes/cilium/values.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CiliumSettings {
    /// `Some(port)`: `routingMode: tunnel` over VXLAN on `port`; `None`: native routing.
    pub tunnel_port: Option<u16>,
    /// `MTU`: the underlying network's MTU; Cilium takes its tunnel (50) and WireGuard (80)
    /// overhead off it for pod routes (`pkg/mtu/mtu.go`); `None`: left out, Cilium detects it.
    pub mtu: Option<u32>,
    /// `devices`.
    pub devices: Vec<String>,
    /// `encryption: {enabled: true, type: wireguard}`.
    pub wireguard: bool,
    /// `enableIPv4Masquerade` / `enableIPv6Masquerade`.
    pub masquerade: bool,
}

/// The reference bridge plugin, with netc's static routes between nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BridgeSettings {
    /// The bridge conflist's `mtu`.
    pub mtu: u32,
    /// Whether traffic leaving the pod network is masqueraded (by the node firewall: the
    /// conflist keeps `ipMasq: false`).
    pub masquerade: bool,
}

/// An intent value that a target of this cluster cannot take.
#[derive(Clone, Debug, PartialEq)]
pub struct NotApplied {
    /// The intent key (`cni.vxlan.port`).
    pub setting: &'static str,
    /// The value as written (`9999`).
    pub value: String,
    /// The target without a knob (`Canonical Kubernetes' built-in Calico`).
    pub target: &'static str,
    /// What the target does instead.
    pub instead: String,
    pub span: Span,
    /// `true`: the value has no effect in this configuration at all (a VXLAN port without
    /// VXLAN), a warning; `false`: the target has no knob for a value that matters, an error.
    pub unused: bool,
    /// `Some(help)`: the value is used elsewhere, but this target does not take it; a
    /// warning with this help (what to do by hand) instead of "remove it".
    pub by_hand: Option<String>,
}

/// VXLAN: outer IP + UDP + VXLAN + inner Ethernet (50 over IPv4, 70 over IPv6);
/// IPIP: one IP header; WireGuard: outer IP + UDP + WireGuard header (60 / 80).
fn wire_overhead(encap: Encapsulation, underlay_v6: bool) -> u32 {
    let (v4, v6) = match encap {
        Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => (50, 70),
        Encapsulation::Ipip => (20, 40),
        Encapsulation::Wireguard => (60, 80),
        Encapsulation::Bgp | Encapsulation::HostGw | Encapsulation::None => (0, 0),
    };
    if underlay_v6 { v6 } else { v4 }
}

/// What the plugin itself takes off the underlay MTU: the bytes on the wire, or more where the
/// plugin sizes its device with a fixed constant (flannel's WireGuard: 80 on IPv4 too) or
/// stacks two headers (Cilium: VXLAN then WireGuard).
pub fn own_overhead(plugin: CniPlugin, encap: Encapsulation, underlay_v6: bool) -> u32 {
    let wire = wire_overhead(encap, underlay_v6);
    match (plugin, encap) {
        (CniPlugin::Flannel | CniPlugin::Canal, Encapsulation::Wireguard) => {
            wire.max(FLANNEL_WIREGUARD_DEVICE_OVERHEAD)
        }
        (CniPlugin::Flannel | CniPlugin::Canal, _) if wire > 0 => {
            wire.max(FLANNEL_VXLAN_DEVICE_OVERHEAD)
        }
        (CniPlugin::Cilium, Encapsulation::Wireguard) => {
            CILIUM_TUNNEL_OVERHEAD.max(wire_overhead(Encapsulation::Vxlan, underlay_v6))
                + CILIUM_WIREGUARD_OVERHEAD
        }
        (CniPlugin::Bridge | CniPlugin::None, _) => 0,
        _ => wire,
    }
}

/// Whether Calico runs BGP. IP-in-IP and unencapsulated pools need it to distribute routes
/// (tigera/operator `validation.go`: "IPIP encapsulation requires that BGP is enabled", the
/// same for `None`); VXLAN and VXLANCrossSubnet pools do not (Felix programs their routes).
pub fn calico_bgp(encap: Encapsulation) -> bool {
    matches!(
        encap,
        Encapsulation::Ipip
            | Encapsulation::Bgp
            | Encapsulation::None
            | Encapsulation::HostGw
            | Encapsulation::Wireguard
    )
}

/// Whether the cluster's CNI enforces NetworkPolicies: Calico, Canal and Cilium do; flannel
/// alone and the bridge plugin do not, except on k3s, which runs its own policy controller
/// (kube-router's) next to flannel unless `disable-network-policy` is set. `none` means the
/// user installs a CNI of their own, assumed to enforce them.
pub fn enforces_network_policies(distribution: Distribution, plugin: CniPlugin) -> bool {
    match plugin {
        CniPlugin::Calico | CniPlugin::Canal | CniPlugin::Cilium | CniPlugin::None => true,
        CniPlugin::Flannel => distribution == Distribution::K3s,
        CniPlugin::Bridge => false,
    }
}

/// The encapsulation a plugin uses when the intent names none.
pub fn default_encapsulation(plugin: CniPlugin) -> Encapsulation {
    match plugin {
        CniPlugin::Flannel | CniPlugin::Canal | CniPlugin::Cilium => Encapsulation::Vxlan,
        CniPlugin::Calico => Encapsulation::Ipip,
        CniPlugin::Bridge | CniPlugin::None => Encapsulation::None,
    }
}

/// `^name$` with regex metacharacters escaped.
pub fn anchored_regex(name: &str) -> String {
    let mut out = String::from("^");
    for c in name.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('$');
    out
}

/// The MTU of a node's data path, the smallest MTU among its data-path interfaces, and the
/// interface it is of (the first declared, on a tie).
fn node_data_path(intent: &NetworkIntent, node: &NodePlan) -> (u32, Option<String>) {
    let names = data_path_interfaces(intent, node);
    node.interfaces
        .iter()
        .filter(|i| names.contains(&i.name.as_str()))
        .min_by_key(|i| i.mtu)
        .map_or((DEFAULT_INTERFACE_MTU, None), |i| {
            (i.mtu, Some(i.name.clone()))
        })
}

/// The bridge plugin's gateway on [`CNI_BRIDGE`] for each pod subnet: its first host.
fn bridge_gateways(pod_cidrs: &[IpNet]) -> Vec<IpNet> {
    pod_cidrs
        .iter()
        .filter_map(|cidr| {
            let gateway = super::nth_address(cidr, 1)?;
            IpNet::new(gateway, cidr.prefix_len()).ok()
        })
        .collect()
}

/// Whether every data-path interface of the node is declared with its MTU.
fn node_mtu_declared(intent: &NetworkIntent, node: &NodePlan) -> bool {
    let names = data_path_interfaces(intent, node);
    !names.is_empty()
        && names.iter().all(|name| {
            node.interfaces
                .iter()
                .any(|i| i.name == *name && i.mtu_declared)
        })
}

/// The intent's CNI values, with their spans, for the settings and the `not_applied` list.
struct Given<'a> {
    intent: &'a NetworkIntent,
    distribution: Distribution,
    pod_cidrs: &'a [IpNet],
    encapsulation: Encapsulation,
    pod_mtu: u32,
    path_mtu: u32,
    own_overhead: u32,
    /// `CniPlan::mtu_known`.
    mtu_known: bool,
    not_applied: Vec<NotApplied>,
}

impl Given<'_> {
    fn port(&self) -> Option<(u16, Span)> {
        let p = self.intent.cni.vxlan.as_ref()?.port.as_ref()?;
        Some((p.value, p.span))
    }

    fn vni(&self) -> Option<(u32, Span)> {
        let v = self.intent.cni.vxlan.as_ref()?.vni.as_ref()?;
        Some((v.value, v.span))
    }

    /// The explicit MTU, when the intent gives a number.
    fn explicit_mtu(&self) -> Option<(u32, Span)> {
        let m = self.intent.cni.mtu.as_ref()?;
        match m.value {
            Mtu::Bytes(b) => Some((b, m.span)),
            Mtu::Auto => None,
        }
    }

    fn block_size(&self) -> Option<(u8, Span)> {
        let b = self.intent.cni.calico.as_ref()?.block_size.as_ref()?;
        Some((b.value, b.span))
    }

    fn nat_outgoing(&self) -> (bool, Option<Span>) {
        match self
            .intent
            .cni
            .calico
            .as_ref()
            .and_then(|c| c.nat_outgoing.as_ref())
        {
            Some(n) => (n.value, Some(n.span)),
            None => (true, None),
        }
    }

    fn interface(&self) -> Option<String> {
        self.intent.cni.interface.as_ref().map(|i| i.value.clone())
    }

    fn has_v4(&self) -> bool {
        self.pod_cidrs.iter().any(|n| matches!(n, IpNet::V4(_)))
    }

    fn has_v6(&self) -> bool {
        self.pod_cidrs.iter().any(|n| matches!(n, IpNet::V6(_)))
    }

    fn no_knob(
        &mut self,
        setting: &'static str,
        value: impl ToString,
        span: Span,
        target: &'static str,
        instead: impl Into<String>,
    ) {
        self.not_applied.push(NotApplied {
            setting,
            value: value.to_string(),
            target,
            instead: instead.into(),
            span,
            unused: false,
            by_hand: None,
        });
    }

    /// A value this configuration does not use at all.
    fn no_effect(
        &mut self,
        setting: &'static str,
        value: impl ToString,
        span: Span,
        target: &'static str,
        why: impl Into<String>,
    ) {
        self.no_knob(setting, value, span, target, why);
        if let Some(last) = self.not_applied.last_mut() {
            last.unused = true;
        }
    }

    /// `cni.vxlan.*` given while the data path runs no VXLAN of the plugin's own.
    fn vxlan_has_no_effect(&mut self, target: &'static str, why: &str) {
        if let Some((port, span)) = self.port() {
            self.no_effect("cni.vxlan.port", port, span, target, why.to_owned());
        }
        if let Some((vni, span)) = self.vni() {
            self.no_effect("cni.vxlan.vni", vni, span, target, why.to_owned());
        }
    }

    /// `cni.calico.blockSize` with a plugin that has no Calico IPAM.
    fn block_size_has_no_effect(&mut self, target: &'static str) {
        if let Some((b, span)) = self.block_size() {
            self.no_effect(
                "cni.calico.blockSize",
                b,
                span,
                target,
                "it has no Calico IPAM blocks; each node gets its podCIDR subnet",
            );
        }
    }

    /// Flannel's settings; `pin_mtu`: write `Backend.MTU` even when the MTU is not known
    /// (Canal's veth MTU is sized from it).
    fn flannel(
        &mut self,
        target: &'static str,
        k3s_default_mtus: &[u32],
        pin_mtu: bool,
    ) -> FlannelSettings {
        let pin = pin_mtu || self.mtu_known;
        let (ip_masq, _) = self.nat_outgoing();
        let v6 = self.has_v6();
        let (backend, device_mtu) = match self.encapsulation {
            Encapsulation::HostGw => {
                self.vxlan_has_no_effect(target, "host-gw runs no VXLAN");
                if let Some((mtu, span)) = self.explicit_mtu()
                    && mtu != self.path_mtu
                {
                    self.no_knob(
                        "cni.mtu",
                        mtu,
                        span,
                        target,
                        format!(
                            "flannel's host-gw backend has no MTU setting: pods get the interface MTU ({})",
                            self.path_mtu
                        ),
                    );
                }
                (FlannelBackend::HostGw, self.path_mtu)
            }
            Encapsulation::Wireguard => {
                self.vxlan_has_no_effect(target, "the wireguard backend runs no VXLAN");
                let mtu = self.pod_mtu + FLANNEL_WIREGUARD_DEVICE_OVERHEAD;
                (
                    FlannelBackend::Wireguard {
                        listen_port: FLANNEL_WIREGUARD_PORT,
                        listen_port_v6: v6.then_some(FLANNEL_WIREGUARD_PORT_V6),
                        mtu: pin.then_some(mtu),
                    },
                    self.pod_mtu,
                )
            }
            // vxlan, and what flannel cannot do (validation reports those): VXLAN.
            _ => (
                FlannelBackend::Vxlan {
                    port: self.port().map_or(FLANNEL_VXLAN_PORT, |p| p.0),
                    vni: self.vni().map_or(FLANNEL_VXLAN_VNI, |v| v.0),
                    mtu: pin.then_some(self.pod_mtu + FLANNEL_VXLAN_DEVICE_OVERHEAD),
                },
                self.pod_mtu,
            ),
        };
        let differs_from_k3s_default = match &backend {
            FlannelBackend::Vxlan { port, vni, mtu } => {
                *port != FLANNEL_VXLAN_PORT
                    || *vni != FLANNEL_VXLAN_VNI
                    || mtu.is_some_and(|mtu| k3s_default_mtus.iter().any(|m| *m != mtu))
            }
            FlannelBackend::Wireguard { mtu, .. } => {
                mtu.is_some_and(|mtu| k3s_default_mtus.iter().any(|m| *m != mtu))
            }
            FlannelBackend::HostGw => false,
        };
        FlannelSettings {
            backend,
            interface: self.interface(),
            ip_masq,
            device_mtu,
            differs_from_k3s_default,
            host: None,
        }
    }

    /// `nodes[].podCIDR` with a CNI whose pods get addresses from elsewhere, a warning (the
    /// pin is not dropped silently). Flannel and Canal run host-local over the node's
    /// `spec.podCIDR`, which kube-controller-manager's node IPAM allocates in its own order
    /// (netc writes no pin there; a Node created with `spec.podCIDR` before its kubelet
    /// registers keeps it). Calico (IPAM blocks from its pools) and Cilium (cluster-pool IPAM)
    /// never read it. Only the bridge plugin takes the pin (its host-local range, kubelet's
    /// `podCIDR`, netc's routes).
    fn pinned_pod_cidrs(&mut self, plugin: CniPlugin) {
        let (target, instead, by_hand): (&'static str, &str, bool) = match plugin {
            CniPlugin::Flannel => (
                "flannel",
                "pods get the node's spec.podCIDR, which kube-controller-manager allocates in its own order",
                true,
            ),
            CniPlugin::Canal => (
                "canal",
                "pods get the node's spec.podCIDR, which kube-controller-manager allocates in its own order",
                true,
            ),
            CniPlugin::Calico => (
                "calico",
                "Calico's IPAM hands out blocks from its pools to whichever node needs one",
                false,
            ),
            CniPlugin::Cilium => (
                "cilium",
                "Cilium's cluster-pool IPAM hands each node a range of its own choosing",
                false,
            ),
            CniPlugin::Bridge | CniPlugin::None => return,
        };
        // One finding for all pins (a 10,000-node intent gets one line), at the first.
        let mut pins = self.intent.nodes.iter().filter_map(|n| n.pod_cidr.as_ref());
        let Some(first) = pins.next() else { return };
        let more = pins.count();
        let value = if more == 0 {
            first.value.clone()
        } else {
            format!("{} (and {more} more nodes' pins)", first.value)
        };
        let instead = format!("{instead}; only the bridge plugin takes a pinned node subnet");
        if by_hand {
            self.no_knob("nodes[].podCIDR", value, first.span, target, instead);
            if let Some(last) = self.not_applied.last_mut() {
                last.by_hand = Some(
                    "create each Node with its spec.podCIDR before its kubelet registers \
                     (kube-controller-manager keeps a podCIDR a Node already has), or remove \
                     the pins"
                        .to_owned(),
                );
            }
        } else {
            self.no_effect("nodes[].podCIDR", value, first.span, target, instead);
        }
    }

    /// Canonical Kubernetes' Cilium: k8s-snap passes Cilium only the pod CIDR lists
    /// (canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network/values.go`,
    /// `ipam.operator.clusterPoolIPv4PodCIDRList`/`IPv6`), so Cilium's cluster-pool IPAM sizes
    /// node ranges with its own defaults (cilium `install/kubernetes/cilium/values.yaml`:
    /// `clusterPoolIPv4MaskSize: 24`, `clusterPoolIPv6MaskSize: 120`); the intent's mask
    /// reaches only kube-controller-manager, whose `spec.podCIDR` Cilium does not use.
    fn canonical_cilium_node_masks(&mut self) {
        let c = &self.intent.cluster;
        for (key, given, default) in [
            (
                "cluster.nodeCIDRMaskSize",
                c.node_cidr_mask_size.as_ref(),
                CILIUM_POOL_MASK_V4,
            ),
            (
                "cluster.nodeCIDRMaskSizeV6",
                c.node_cidr_mask_size_v6.as_ref(),
                CILIUM_POOL_MASK_V6,
            ),
        ] {
            if let Some(m) = given
                && m.value != default
            {
                self.no_knob(
                    key,
                    m.value,
                    m.span,
                    CANONICAL_CILIUM,
                    format!(
                        "k8s-snap gives Cilium no mask size: its cluster-pool IPAM hands each node a /{default}"
                    ),
                );
            }
        }
    }

    /// `cni.flannel.paths.*` given, with their spans.
    fn flannel_paths(&self) -> Vec<(&'static str, String, Span)> {
        let Some(p) = self
            .intent
            .cni
            .flannel
            .as_ref()
            .and_then(|f| f.paths.as_ref())
        else {
            return Vec::new();
        };
        [
            ("cni.flannel.paths.binary", &p.binary),
            ("cni.flannel.paths.netConf", &p.net_conf),
            ("cni.flannel.paths.kubeconfig", &p.kubeconfig),
        ]
        .into_iter()
        .filter_map(|(key, t)| t.as_ref().map(|t| (key, t.value.clone(), t.span)))
        .collect()
    }

    /// Host flanneld for `distribution: manual` + flannel; elsewhere `cni.flannel.paths` has
    /// nothing to apply to (flannel runs as the distribution's DaemonSet or inside it).
    fn host_flanneld(&mut self, plugin: CniPlugin, target: &'static str) -> Option<HostFlanneld> {
        let given = self.flannel_paths();
        if self.distribution == Distribution::Manual && plugin == CniPlugin::Flannel {
            let path = |key: &str, default: &str| {
                given
                    .iter()
                    .find(|(k, _, _)| *k == key)
                    .map_or_else(|| default.to_owned(), |(_, v, _)| v.clone())
            };
            let kubeconfig = path("cni.flannel.paths.kubeconfig", FLANNELD_KUBECONFIG);
            let dir = match kubeconfig.rsplit_once('/') {
                Some((dir, _)) if !dir.is_empty() => dir.to_owned(),
                _ => String::new(),
            };
            return Some(HostFlanneld {
                binary: path("cni.flannel.paths.binary", FLANNELD_BINARY),
                net_conf: path("cni.flannel.paths.netConf", FLANNELD_NET_CONF),
                ca_cert: format!("{dir}/ca.crt"),
                token: format!("{dir}/token"),
                kubeconfig,
            });
        }
        for (key, value, span) in given {
            self.no_effect(
                key,
                value,
                span,
                target,
                "only distribution: manual runs flanneld on the host",
            );
        }
        None
    }
}

const CANONICAL_CALICO: &str = "Canonical Kubernetes' built-in Calico";
/// flannel on kubeadm: the upstream kube-flannel.yml DaemonSet, fed netc's ConfigMap.
const KUBE_FLANNEL_DAEMONSET: &str = "kube-flannel's DaemonSet";
const CANONICAL_CILIUM: &str = "Canonical Kubernetes' built-in Cilium";

pub(super) fn cni_plan(
    intent: &NetworkIntent,
    distribution: Distribution,
    pod_cidrs: &[IpNet],
    host_overlay: &Option<HostOverlayPlan>,
    nodes: &mut [NodePlan],
) -> CniPlan {
    let cni = &intent.cni;
    let plugin = cni.plugin.value;
    let encapsulation = cni
        .encapsulation
        .as_ref()
        .map_or_else(|| default_encapsulation(plugin), |e| e.value);
    let underlay_v6 = nodes
        .first()
        .and_then(|n| n.address)
        .is_some_and(|a| matches!(a, IpNet::V6(_)));
    let own = own_overhead(plugin, encapsulation, underlay_v6);
    let host_overlay_overhead = if host_overlay.is_some() && cni_over_host_overlay(intent) {
        wire_overhead(Encapsulation::Vxlan, underlay_v6)
    } else {
        0
    };
    let overhead = own + host_overlay_overhead;
    for node in nodes.iter_mut() {
        (node.data_mtu, node.data_interface) = node_data_path(intent, node);
        if plugin == CniPlugin::Bridge {
            node.bridge_gateways = bridge_gateways(&node.pod_cidrs);
        }
    }
    let path_mtu = nodes
        .iter()
        .map(|n| n.data_mtu)
        .min()
        .unwrap_or(DEFAULT_INTERFACE_MTU);
    let mtu_known = matches!(cni.mtu.as_ref().map(|m| m.value), Some(Mtu::Bytes(_)))
        || (!nodes.is_empty() && nodes.iter().all(|n| node_mtu_declared(intent, n)));
    let (mtu, mtu_auto) = match cni.mtu.as_ref().map(|m| m.value) {
        Some(Mtu::Bytes(b)) => (b, false),
        Some(Mtu::Auto) | None => (path_mtu.saturating_sub(overhead), true),
    };
    let mtu_limit = if mtu_auto { mtu_limit(nodes) } else { None };
    // The MTU each node's embedded flannel would pick by itself: its interface's, less a
    // host overlay under it.
    let k3s_default_mtus: Vec<u32> = nodes
        .iter()
        .map(|n| n.data_mtu.saturating_sub(overhead - own))
        .collect();
    let mut given = Given {
        intent,
        distribution,
        pod_cidrs,
        encapsulation,
        pod_mtu: mtu,
        path_mtu: path_mtu.saturating_sub(overhead - own),
        own_overhead: own,
        mtu_known,
        not_applied: Vec::new(),
    };
    let settings = match plugin {
        CniPlugin::Flannel => {
            let mut flannel = flannel_settings(&mut given, &k3s_default_mtus);
            flannel.host = given.host_flanneld(plugin, "flannel");
            PluginSettings::Flannel(flannel)
        }
        CniPlugin::Canal => PluginSettings::Canal(canal_settings(&mut given)),
        CniPlugin::Calico => PluginSettings::Calico(calico_settings(&mut given)),
        CniPlugin::Cilium => PluginSettings::Cilium(cilium_settings(&mut given)),
        CniPlugin::Bridge => PluginSettings::Bridge(bridge_settings(&mut given)),
        CniPlugin::None => {
            none_settings(&mut given);
            PluginSettings::None
        }
    };
    given.pinned_pod_cidrs(plugin);
    if plugin == CniPlugin::Cilium && distribution == Distribution::Canonical {
        given.canonical_cilium_node_masks();
    }
    // `cni.flannel.paths` without flannel: no flanneld to place.
    let other = match plugin {
        CniPlugin::Flannel => None,
        CniPlugin::Canal => Some("canal"),
        CniPlugin::Calico => Some("calico"),
        CniPlugin::Cilium => Some("cilium"),
        CniPlugin::Bridge => Some("the bridge plugin"),
        CniPlugin::None => Some("cni.plugin none"),
    };
    if let Some(target) = other {
        given.host_flanneld(plugin, target);
    }
    let pod_mtu_per_node = match (&settings, distribution) {
        (PluginSettings::Flannel(f), _) if f.backend == FlannelBackend::HostGw => {
            Some("flannel's host-gw backend")
        }
        (PluginSettings::Canal(c), _) if c.flannel.backend == FlannelBackend::HostGw => {
            Some("canal's host-gw backend")
        }
        (PluginSettings::Calico(_), Distribution::Canonical) => Some(CANONICAL_CALICO),
        (PluginSettings::Cilium(_), Distribution::Canonical) => Some(CANONICAL_CILIUM),
        _ => None,
    };
    CniPlan {
        plugin,
        encapsulation,
        mtu,
        mtu_auto,
        mtu_known,
        own_overhead: own,
        overhead,
        host_overlay_overhead,
        interface: cni.interface.as_ref().map(|i| i.value.clone()),
        settings,
        not_applied: given.not_applied,
        pod_mtu_per_node,
        mtu_limit,
    }
}

/// The first node with the smallest data-path MTU, and its interface of that MTU.
fn mtu_limit(nodes: &[NodePlan]) -> Option<MtuLimit> {
    let smallest = nodes.iter().min_by_key(|n| n.data_mtu)?;
    let largest = nodes.iter().map(|n| n.data_mtu).max()?;
    Some(MtuLimit {
        node: smallest.name.clone(),
        interface: smallest.data_interface.clone(),
        interface_mtu: smallest.data_mtu,
        largest,
    })
}

fn flannel_settings(given: &mut Given<'_>, k3s_default_mtus: &[u32]) -> FlannelSettings {
    let target = match given.distribution {
        Distribution::K3s => "k3s' embedded flannel",
        Distribution::Rke2 => "RKE2's rke2-flannel chart",
        _ => "flannel",
    };
    given.block_size_has_no_effect(target);
    let settings = given.flannel(target, k3s_default_mtus, false);
    let (masq, span) = given.nat_outgoing();
    if !masq && let Some(span) = span {
        match given.distribution {
            // k3s-io/k3s `pkg/agent/flannel/flannel.go` sets up flannel's IPv4 masquerade
            // rules unconditionally; only `flannel-ipv6-masq` is a flag.
            Distribution::K3s => given.no_knob(
                "cni.calico.natOutgoing",
                masq,
                span,
                target,
                "k3s always masquerades IPv4 pod traffic leaving the cluster",
            ),
            // flannel-io/flannel `Documentation/kube-flannel.yml`: the DaemonSet's container
            // args are `--ip-masq --kube-subnet-mgr`; netc writes only its ConfigMap.
            Distribution::Kubeadm => given.no_knob(
                "cni.calico.natOutgoing",
                masq,
                span,
                KUBE_FLANNEL_DAEMONSET,
                "kube-flannel.yml always runs flanneld with --ip-masq",
            ),
            // rke2-charts `rke2-flannel`: flanneld's flags are the `flannel.args` value, which
            // netc writes (`emit/rke2.rs`), so `--ip-masq` follows natOutgoing there.
            _ => {}
        }
    }
    // `cni.interface` reaches the DaemonSet's `--iface` through the kustomize patch
    // (`emit/flannel_kustomize.rs`), rke2-flannel's through `flannel.args` (`emit/rke2.rs`),
    // and sizes the MTU (net-conf `Backend.MTU`).
    settings
}

fn canal_settings(given: &mut Given<'_>) -> CanalSettings {
    let target = match given.distribution {
        Distribution::Rke2 => "RKE2's rke2-canal chart",
        _ => "canal",
    };
    given.block_size_has_no_effect(target);
    // Canal pins flannel's MTU: its pod veths are sized from flannel.1's (`veth_mtu`), which
    // Calico's own detection would not take the VXLAN header off.
    let flannel = given.flannel(target, &[], true);
    let (masquerade, _) = given.nat_outgoing();
    CanalSettings {
        // rke2-charts `rke2-canal` values: `calico.vethuMTU` must not exceed flannel.1's MTU,
        // which flannel derives from `flannel.mtu` (the underlay MTU) minus 50.
        veth_mtu: flannel.device_mtu,
        flannel,
        masquerade,
    }
}

fn calico_settings(given: &mut Given<'_>) -> CalicoSettings {
    let canonical = given.distribution == Distribution::Canonical;
    let encap = given.encapsulation;
    let (nat_outgoing, nat_span) = given.nat_outgoing();
    let block_size = given.block_size().map_or(CALICO_BLOCK_SIZE_V4, |b| b.0);
    let pools: Vec<CalicoPool> = given
        .pod_cidrs
        .iter()
        .map(|cidr| {
            let v6 = matches!(cidr, IpNet::V6(_));
            let encapsulation = match encap {
                // IP-in-IP carries IPv4 only: IPv6 pools are routed natively (BGP).
                Encapsulation::Ipip if v6 => PoolEncap::None,
                Encapsulation::Ipip => PoolEncap::Ipip,
                Encapsulation::Vxlan => PoolEncap::Vxlan,
                Encapsulation::VxlanCrossSubnet => PoolEncap::VxlanCrossSubnet,
                // WireGuard encrypts routed (BGP) traffic between nodes; host-gw is not a
                // Calico mode (validation reports it).
                Encapsulation::Bgp
                | Encapsulation::None
                | Encapsulation::HostGw
                | Encapsulation::Wireguard => PoolEncap::None,
            };
            CalicoPool {
                name: if v6 {
                    "default-ipv6-ippool".to_owned()
                } else {
                    "default-ipv4-ippool".to_owned()
                },
                cidr: *cidr,
                block_size: if v6 { CALICO_BLOCK_SIZE_V6 } else { block_size },
                encapsulation,
                nat_outgoing,
            }
        })
        .collect();
    let wireguard = encap == Encapsulation::Wireguard;
    let mut settings = CalicoSettings {
        // tigera/operator `pkg/controller/installation/core_controller.go` (fillDefaults):
        // with `bgp` unset the operator enables BGP, which k8s-snap never sets.
        bgp: canonical || calico_bgp(encap),
        mtu: given.mtu_known.then_some(given.pod_mtu),
        interface_regex: given.interface().map(|i| anchored_regex(&i)),
        vxlan_port: CALICO_VXLAN_PORT,
        vxlan_vni: CALICO_VXLAN_VNI,
        wireguard_v4: wireguard && given.has_v4(),
        wireguard_v6: wireguard && given.has_v6(),
        pools,
    };
    if !settings.uses_vxlan() {
        given.vxlan_has_no_effect(
            "calico",
            "no Calico pool runs VXLAN with this encapsulation",
        );
    } else if canonical {
        // canonical/k8s-snap-api `api/v1/annotations/calico/annotations.go` (read by k8s-snap
        // `src/k8s/pkg/k8sd/features/calico/internal.go`): encapsulation, autodetection and
        // apiserver-enabled only.
        if let Some((port, span)) = given.port()
            && port != CALICO_VXLAN_PORT
        {
            given.no_knob(
                "cni.vxlan.port",
                port,
                span,
                CANONICAL_CALICO,
                format!("k8s-snap has no annotation for Felix's vxlanPort: Calico uses {CALICO_VXLAN_PORT}"),
            );
        }
        if let Some((vni, span)) = given.vni()
            && vni != CALICO_VXLAN_VNI
        {
            given.no_knob(
                "cni.vxlan.vni",
                vni,
                span,
                CANONICAL_CALICO,
                format!("k8s-snap has no annotation for Felix's vxlanVNI: Calico uses {CALICO_VXLAN_VNI}"),
            );
        }
    } else {
        settings.vxlan_port = given.port().map_or(CALICO_VXLAN_PORT, |p| p.0);
        settings.vxlan_vni = given.vni().map_or(CALICO_VXLAN_VNI, |v| v.0);
    }
    if canonical {
        if let Some((mtu, span)) = given.explicit_mtu() {
            given.no_knob(
                "cni.mtu",
                mtu,
                span,
                CANONICAL_CALICO,
                "k8s-snap has no MTU annotation: Calico detects the MTU from the host's interfaces",
            );
        }
        if let Some((b, span)) = given.block_size()
            && b != CALICO_BLOCK_SIZE_V4
        {
            given.no_knob(
                "cni.calico.blockSize",
                b,
                span,
                CANONICAL_CALICO,
                format!("k8s-snap's pools take no block size: Calico uses /{CALICO_BLOCK_SIZE_V4}"),
            );
            for p in &mut settings.pools {
                if matches!(p.cidr, IpNet::V4(_)) {
                    p.block_size = CALICO_BLOCK_SIZE_V4;
                }
            }
        }
        if !nat_outgoing && let Some(span) = nat_span {
            given.no_knob(
                "cni.calico.natOutgoing",
                nat_outgoing,
                span,
                CANONICAL_CALICO,
                "k8s-snap's pools take no natOutgoing: the operator enables it",
            );
            for p in &mut settings.pools {
                p.nat_outgoing = true;
            }
        }
        if given.explicit_mtu().is_some() {
            settings.mtu = Some(given.path_mtu.saturating_sub(given.own_overhead));
        }
    }
    settings
}

fn cilium_settings(given: &mut Given<'_>) -> CiliumSettings {
    let canonical = given.distribution == Distribution::Canonical;
    let target = if canonical {
        CANONICAL_CILIUM
    } else {
        "cilium"
    };
    given.block_size_has_no_effect(target);
    let native = matches!(
        given.encapsulation,
        Encapsulation::Bgp | Encapsulation::HostGw | Encapsulation::None
    );
    // cilium's VXLAN network identifier carries the security identity: no VNI setting.
    if let Some((vni, span)) = given.vni() {
        given.no_knob(
            "cni.vxlan.vni",
            vni,
            span,
            target,
            "Cilium's VXLAN VNI carries the security identity and cannot be set",
        );
    }
    let mut tunnel_port = (!native).then_some(CILIUM_VXLAN_PORT);
    if native {
        if let Some((port, span)) = given.port() {
            given.no_effect(
                "cni.vxlan.port",
                port,
                span,
                target,
                "native routing runs no VXLAN",
            );
        }
    } else if let Some((port, _)) = given.port() {
        // Canonical Kubernetes: `k8sd/v1alpha1/cilium/tunnel-port` (canonical/k8s-snap-api
        // `api/v1/annotations/cilium/annotations.go`).
        tunnel_port = Some(port);
    }
    let (masquerade, nat_span) = given.nat_outgoing();
    let mut settings = CiliumSettings {
        tunnel_port,
        mtu: given
            .mtu_known
            .then_some(given.pod_mtu + given.own_overhead),
        devices: given.interface().into_iter().collect(),
        wireguard: given.encapsulation == Encapsulation::Wireguard,
        masquerade,
    };
    if canonical {
        // canonical/k8s-snap-api `api/v1/annotations/cilium/annotations.go`: devices,
        // direct-routing-device, tunnel-port, vlan-bpf-bypass, sctp, cni-exclusive; no MTU.
        if let Some((mtu, span)) = given.explicit_mtu() {
            given.no_knob(
                "cni.mtu",
                mtu,
                span,
                target,
                "k8s-snap has no MTU annotation: Cilium detects the MTU from the device",
            );
            settings.mtu = Some(given.path_mtu);
        }
        if !masquerade && let Some(span) = nat_span {
            given.no_knob(
                "cni.calico.natOutgoing",
                masquerade,
                span,
                target,
                "k8s-snap has no masquerade annotation: Cilium masquerades",
            );
            settings.masquerade = true;
        }
    }
    settings
}

fn bridge_settings(given: &mut Given<'_>) -> BridgeSettings {
    given.vxlan_has_no_effect(
        "the bridge plugin",
        "the bridge plugin routes pods without VXLAN",
    );
    given.block_size_has_no_effect("the bridge plugin");
    let (masquerade, nat_span) = given.nat_outgoing();
    // The conflist keeps `ipMasq: false` (it would masquerade traffic to other nodes' pods
    // too); the node firewall masquerades traffic leaving the pod network when `masquerade`
    // holds (`plan::firewall::host_masquerades`). Without a `firewall:` section nothing does.
    if masquerade
        && given.intent.firewall.is_none()
        && let Some(span) = nat_span
    {
        given.no_knob(
            "cni.calico.natOutgoing",
            masquerade,
            span,
            "the node firewall",
            "with the bridge plugin the node firewall masquerades pod traffic leaving the pod \
             network, and this intent has no `firewall:` section",
        );
    }
    BridgeSettings {
        mtu: given.pod_mtu,
        masquerade,
    }
}

/// `plugin: none`: the CNI the user installs decides everything.
fn none_settings(given: &mut Given<'_>) {
    const TARGET: &str = "cni.plugin none";
    const WHY: &str = "netc configures no CNI: the one you install decides";
    given.vxlan_has_no_effect(TARGET, WHY);
    given.block_size_has_no_effect(TARGET);
    if let Some((mtu, span)) = given.explicit_mtu() {
        given.no_effect("cni.mtu", mtu, span, TARGET, WHY);
    }
    if let (false, Some(span)) = given.nat_outgoing() {
        given.no_effect("cni.calico.natOutgoing", false, span, TARGET, WHY);
    }
    if let Some(i) = &given.intent.cni.interface {
        given.no_effect("cni.interface", i.value.clone(), i.span, TARGET, WHY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_regex_is_exact() {
        assert_eq!(anchored_regex("eth1"), "^eth1$");
        assert_eq!(anchored_regex("eth0.100"), "^eth0\\.100$");
    }

    #[test]
    fn flannel_wireguard_counts_its_device_constant() {
        assert_eq!(
            own_overhead(CniPlugin::Flannel, Encapsulation::Wireguard, false),
            80
        );
        assert_eq!(
            own_overhead(CniPlugin::Calico, Encapsulation::Wireguard, false),
            60
        );
        assert_eq!(
            own_overhead(CniPlugin::Cilium, Encapsulation::Wireguard, false),
            130
        );
        assert_eq!(
            own_overhead(CniPlugin::Flannel, Encapsulation::Vxlan, true),
            70
        );
        assert_eq!(
            own_overhead(CniPlugin::Flannel, Encapsulation::HostGw, false),
            0
        );
    }
}
