//! Cilium: Helm values (cilium/cilium `install/kubernetes/cilium/values.yaml`) and Canonical
//! Kubernetes' built-in Cilium.

use super::*;

/// cilium/cilium `install/kubernetes/cilium/values.yaml`: `tunnelPort` 0 = 8472 for VXLAN.
pub const CILIUM_VXLAN_PORT: u16 = crate::plan::profile::CILIUM_VXLAN_PORT;

/// cilium/cilium `pkg/wireguard/agent/agent.go`: `listenPort = 51871`.
pub const CILIUM_WIREGUARD_PORT: u16 = crate::plan::profile::CILIUM_WIREGUARD_PORT;

/// cilium/cilium `pkg/mtu/mtu.go`: `TunnelOverhead = 50` (IPv4 underlay) and
/// `WireguardOverhead = 80`, both taken off the `MTU` value for pod routes.
pub const CILIUM_TUNNEL_OVERHEAD: u32 = 50;

/// cilium/cilium `install/kubernetes/cilium/values.yaml`: `ipam.operator.clusterPoolIPv4MaskSize`
/// 24 and `clusterPoolIPv6MaskSize` 120.
pub const CILIUM_POOL_MASK_V4: u8 = 24;

pub const CILIUM_POOL_MASK_V6: u8 = 120;

pub const CILIUM_WIREGUARD_OVERHEAD: u32 = 80;

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

impl Given<'_> {
    /// Canonical Kubernetes' Cilium: k8s-snap passes Cilium only the pod CIDR lists
    /// (canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network/values.go`,
    /// `ipam.operator.clusterPoolIPv4PodCIDRList`/`IPv6`), so Cilium's cluster-pool IPAM sizes
    /// node ranges with its own defaults (cilium `install/kubernetes/cilium/values.yaml`:
    /// `clusterPoolIPv4MaskSize: 24`, `clusterPoolIPv6MaskSize: 120`); the intent's mask
    /// reaches only kube-controller-manager, whose `spec.podCIDR` Cilium does not use.
    pub(super) fn canonical_cilium_node_masks(&mut self) {
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
}

pub(super) const CANONICAL_CILIUM: &str = "Canonical Kubernetes' built-in Cilium";

pub(super) fn cilium_settings(given: &mut Given<'_>) -> CiliumSettings {
    let canonical = cni_install(given.distribution, CniPlugin::Cilium) == CniInstall::Builtin;
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
