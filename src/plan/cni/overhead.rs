//! The MTU a CNI's data path takes: bytes each encapsulation adds on the wire, what each plugin
//! takes off the underlay MTU, and each node's data path (its smallest data-path interface).

use super::*;

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

/// VXLAN: outer IP + UDP + VXLAN + inner Ethernet (50 over IPv4, 70 over IPv6);
/// IPIP: one IP header; WireGuard: outer IP + UDP + WireGuard header (60 / 80).
pub(super) fn wire_overhead(encap: Encapsulation, underlay_v6: bool) -> u32 {
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

/// The MTU of a node's data path, the smallest MTU among its data-path interfaces, and the
/// interface it is of (the first declared, on a tie).
pub(super) fn node_data_path(intent: &NetworkIntent, node: &NodePlan) -> (u32, Option<String>) {
    let names = data_path_interfaces(intent, node);
    node.interfaces
        .iter()
        .filter(|i| names.contains(&i.name.as_str()))
        .min_by_key(|i| i.mtu)
        .map_or((DEFAULT_INTERFACE_MTU, None), |i| {
            (i.mtu, Some(i.name.clone()))
        })
}

/// Whether every data-path interface of the node is declared with its MTU.
pub(super) fn node_mtu_declared(intent: &NetworkIntent, node: &NodePlan) -> bool {
    let names = data_path_interfaces(intent, node);
    !names.is_empty()
        && names.iter().all(|name| {
            node.interfaces
                .iter()
                .any(|i| i.name == *name && i.mtu_declared)
        })
}

/// The first node with the smallest data-path MTU, and its interface of that MTU.
pub(super) fn mtu_limit(nodes: &[NodePlan]) -> Option<MtuLimit> {
    let smallest = nodes.iter().min_by_key(|n| n.data_mtu)?;
    let largest = nodes.iter().map(|n| n.data_mtu).max()?;
    Some(MtuLimit {
        node: smallest.name.clone(),
        interface: smallest.data_interface.clone(),
        interface_mtu: smallest.data_mtu,
        largest,
    })
}
