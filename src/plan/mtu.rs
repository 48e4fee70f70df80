//! Effective pod MTU: the data path's smallest MTU minus every encapsulation stacked on it.

use ipnet::IpNet;

use super::{CniPlan, DEFAULT_INTERFACE_MTU, HostOverlayPlan, NodePlan, default_encapsulation};
use crate::intent::{CniPlugin, Encapsulation, Mtu, NetworkIntent, Purpose};

/// Bytes of header an encapsulation adds, by the underlay's address family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overhead {
    pub v4: u32,
    pub v6: u32,
}

/// VXLAN: outer IP + UDP + VXLAN + inner Ethernet (50 over IPv4, 70 over IPv6);
/// IPIP: one IPv4 header; WireGuard: outer IP + UDP + WireGuard header (60 / 80).
pub fn encapsulation_overhead(encap: Encapsulation) -> Overhead {
    match encap {
        Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => Overhead { v4: 50, v6: 70 },
        Encapsulation::Ipip => Overhead { v4: 20, v6: 40 },
        Encapsulation::Wireguard => Overhead { v4: 60, v6: 80 },
        Encapsulation::Bgp | Encapsulation::HostGw | Encapsulation::None => {
            Overhead { v4: 0, v6: 0 }
        }
    }
}

fn for_family(o: Overhead, underlay_v6: bool) -> u32 {
    if underlay_v6 { o.v6 } else { o.v4 }
}

/// Whether the CNI's data path runs over the host overlay's bridge (a nested overlay).
pub(crate) fn cni_over_host_overlay(intent: &NetworkIntent) -> bool {
    match (&intent.cni.interface, &intent.host_overlay) {
        (Some(i), Some(h)) => i.value == h.bridge.value,
        _ => false,
    }
}

/// The names of a node's physical data-path interfaces: the CNI interface (or, when that is
/// the overlay bridge, the overlay's underlay), else the `data` interfaces, else all.
pub(crate) fn data_path_interfaces<'a>(
    intent: &'a NetworkIntent,
    node: &'a NodePlan,
) -> Vec<&'a str> {
    let named = if cni_over_host_overlay(intent) {
        intent
            .host_overlay
            .as_ref()
            .and_then(|h| h.vxlan.interface.as_ref())
            .map(|i| i.value.as_str())
    } else {
        intent.cni.interface.as_ref().map(|i| i.value.as_str())
    };
    if let Some(name) = named {
        return vec![name];
    }
    let data: Vec<&str> = node
        .interfaces
        .iter()
        .filter(|i| i.purpose == Some(Purpose::Data))
        .map(|i| i.name.as_str())
        .collect();
    if data.is_empty() {
        node.interfaces.iter().map(|i| i.name.as_str()).collect()
    } else {
        data
    }
}

/// The MTU of a node's data path: the smallest MTU among its data-path interfaces.
fn node_data_mtu(intent: &NetworkIntent, node: &NodePlan) -> u32 {
    data_path_interfaces(intent, node)
        .iter()
        .filter_map(|name| node.interfaces.iter().find(|i| i.name == *name))
        .map(|i| i.mtu)
        .min()
        .unwrap_or(DEFAULT_INTERFACE_MTU)
}

pub(super) fn cni_plan(
    intent: &NetworkIntent,
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
    let mut overhead = for_family(encapsulation_overhead(encapsulation), underlay_v6);
    if host_overlay.is_some() && cni_over_host_overlay(intent) {
        overhead += for_family(encapsulation_overhead(Encapsulation::Vxlan), underlay_v6);
    }
    for node in nodes.iter_mut() {
        node.data_mtu = node_data_mtu(intent, node);
    }
    let path_mtu = nodes
        .iter()
        .map(|n| n.data_mtu)
        .min()
        .unwrap_or(DEFAULT_INTERFACE_MTU);
    let (mtu, mtu_auto) = match cni.mtu.as_ref().map(|m| m.value) {
        Some(Mtu::Bytes(b)) => (b, false),
        Some(Mtu::Auto) | None => (path_mtu.saturating_sub(overhead), true),
    };
    let vxlan = cni.vxlan.as_ref();
    let default_port = match plugin {
        CniPlugin::Calico => 4789,
        _ => 8472,
    };
    let default_vni = match plugin {
        CniPlugin::Calico => 4096,
        _ => 1,
    };
    let calico = cni.calico.as_ref();
    CniPlan {
        plugin,
        encapsulation,
        mtu,
        mtu_auto,
        overhead,
        interface: cni.interface.as_ref().map(|i| i.value.clone()),
        vxlan_port: vxlan
            .and_then(|v| v.port.as_ref())
            .map_or(default_port, |p| p.value),
        vxlan_vni: vxlan
            .and_then(|v| v.vni.as_ref())
            .map_or(default_vni, |v| v.value),
        calico_block_size: calico
            .and_then(|c| c.block_size.as_ref())
            .map_or(26, |b| b.value),
        nat_outgoing: calico
            .and_then(|c| c.nat_outgoing.as_ref())
            .is_none_or(|n| n.value),
    }
}
