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

mod bridge;
mod calico;
mod canal;
mod cilium;
mod flannel;
mod overhead;

use ipnet::IpNet;
use serde::Serialize;

use super::mtu::{cni_over_host_overlay, data_path_interfaces};
use super::{DEFAULT_INTERFACE_MTU, HostOverlayPlan, NodePlan};
use crate::intent::{CniPlugin, Distribution, Encapsulation, Mtu, NetworkIntent, Span};

pub use bridge::*;
pub use calico::*;
pub use canal::*;
pub use cilium::*;
pub use flannel::*;
pub use overhead::*;

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

/// Whether the cluster's CNI enforces NetworkPolicies: Calico, Canal and Cilium do; flannel
/// alone and the bridge plugin do not, except on k3s, which runs its own policy controller
/// (kube-router's) next to flannel unless `disable-network-policy` is set. `none` means the
/// user installs a CNI of their own, assumed to enforce them.
pub fn enforces_network_policies(distribution: Distribution, plugin: CniPlugin) -> bool {
    match plugin {
        CniPlugin::Calico | CniPlugin::Canal | CniPlugin::Cilium | CniPlugin::None => true,
        CniPlugin::Flannel => match distribution {
            Distribution::K3s => true,
            Distribution::Kubeadm
            | Distribution::Rke2
            | Distribution::Canonical
            | Distribution::Manual => false,
        },
        CniPlugin::Bridge => false,
    }
}

/// Who puts the cluster's CNI in place, which decides the manifests netc writes for it: a
/// CNI emitter (`emit/{calico,canal,cilium,flannel_kustomize,cni}.rs`) writes its files only
/// for the install it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CniInstall {
    /// The distribution runs its own copy, and netc configures it through the distribution:
    /// RKE2's charts (its HelmChartConfig), k3s' embedded flannel.
    Distribution,
    /// The distribution's built-in network, which its own manager configures: netc passes
    /// only what the bootstrap file takes (Canonical Kubernetes' k8sd, its network
    /// annotations), so the CNI's other settings are the distribution's, not netc's.
    Builtin,
    /// The user applies netc's manifests, operator resources or chart values to the cluster
    /// (kubeadm; k3s with a CNI other than its own flannel).
    Cluster,
    /// netc's host artifacts only: the nodes' conflists and flanneld on the host, no operator
    /// or chart (a manual control plane).
    Host,
}

/// The [`CniInstall`] of `plugin` on `distribution`: every distribution answers here (a new
/// one is a compile error until it does).
pub fn cni_install(distribution: Distribution, plugin: CniPlugin) -> CniInstall {
    match distribution {
        Distribution::Kubeadm => CniInstall::Cluster,
        // k3s embeds flannel (`flannel-backend`); any other CNI is installed by the user.
        Distribution::K3s if plugin == CniPlugin::Flannel => CniInstall::Distribution,
        Distribution::K3s => CniInstall::Cluster,
        Distribution::Rke2 => CniInstall::Distribution,
        Distribution::Canonical => CniInstall::Builtin,
        Distribution::Manual => CniInstall::Host,
    }
}

/// The encapsulation a plugin uses when the intent names none: its own default, unless the
/// distribution's profile narrows its encapsulations to others (`Profile::encapsulations`:
/// Canonical's Cilium routes IPv6-only pods natively on 1.32–1.34), then the profile's first.
pub fn default_encapsulation(
    plugin: CniPlugin,
    narrowed: Option<&[Encapsulation]>,
) -> Encapsulation {
    let own = match plugin {
        CniPlugin::Flannel | CniPlugin::Canal | CniPlugin::Cilium => Encapsulation::Vxlan,
        CniPlugin::Calico => Encapsulation::Ipip,
        CniPlugin::Bridge | CniPlugin::None => Encapsulation::None,
    };
    match narrowed {
        Some(es) if !es.contains(&own) => es.first().copied().unwrap_or(own),
        _ => own,
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
}

pub(super) fn cni_plan(
    intent: &NetworkIntent,
    distribution: Distribution,
    pod_cidrs: &[IpNet],
    host_overlay: &Option<HostOverlayPlan>,
    nodes: &mut [NodePlan],
    narrowed: Option<&[Encapsulation]>,
) -> CniPlan {
    let cni = &intent.cni;
    let plugin = cni.plugin.value;
    let encapsulation = cni
        .encapsulation
        .as_ref()
        .map_or_else(|| default_encapsulation(plugin, narrowed), |e| e.value);
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
    let builtin = cni_install(distribution, plugin) == CniInstall::Builtin;
    if plugin == CniPlugin::Cilium && builtin {
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
        (PluginSettings::Calico(_), _) if builtin => Some(CANONICAL_CALICO),
        (PluginSettings::Cilium(_), _) if builtin => Some(CANONICAL_CILIUM),
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

    /// Who installs each CNI, on every distribution: the user on kubeadm and (but for its own
    /// flannel) k3s, the distribution on RKE2, its built-in manager on Canonical Kubernetes,
    /// netc's host artifacts
    /// on a manual control plane. The CNI emitters read only this.
    #[test]
    fn every_distribution_says_who_installs_its_cni() {
        use CniInstall::{Builtin, Cluster, Host};
        let by_distribution = CniInstall::Distribution;
        let plugins = [
            CniPlugin::Flannel,
            CniPlugin::Calico,
            CniPlugin::Canal,
            CniPlugin::Cilium,
            CniPlugin::Bridge,
            CniPlugin::None,
        ];
        for p in plugins {
            let k3s = if p == CniPlugin::Flannel {
                by_distribution
            } else {
                Cluster
            };
            for (d, want) in [
                (Distribution::Kubeadm, Cluster),
                (Distribution::K3s, k3s),
                (Distribution::Rke2, by_distribution),
                (Distribution::Canonical, Builtin),
                (Distribution::Manual, Host),
            ] {
                assert_eq!(cni_install(d, p), want, "{d:?} {p:?}");
            }
        }
    }

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
