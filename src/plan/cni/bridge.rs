//! The reference bridge plugin (containernetworking/plugins `plugins/main/bridge`), with netc's
//! static routes between nodes.

use super::*;

/// The bridge netc's bridge-plugin conflist names, and `apply` creates, on each node (the
/// reference plugin's default, containernetworking/plugins `plugins/main/bridge/bridge.go`
/// `defaultBrName`).
pub const CNI_BRIDGE: &str = "cni0";

/// The reference bridge plugin, with netc's static routes between nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BridgeSettings {
    /// The bridge conflist's `mtu`.
    pub mtu: u32,
    /// Whether traffic leaving the pod network is masqueraded (by the node firewall: the
    /// conflist keeps `ipMasq: false`).
    pub masquerade: bool,
}

/// The bridge plugin's gateway on [`CNI_BRIDGE`] for each pod subnet: its first host.
pub(super) fn bridge_gateways(pod_cidrs: &[IpNet]) -> Vec<IpNet> {
    pod_cidrs
        .iter()
        .filter_map(|cidr| {
            let gateway = crate::plan::nth_address(cidr, 1)?;
            IpNet::new(gateway, cidr.prefix_len()).ok()
        })
        .collect()
}

pub(super) fn bridge_settings(given: &mut Given<'_>) -> BridgeSettings {
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
