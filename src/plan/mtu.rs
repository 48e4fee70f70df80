//! The data path of a node: which interfaces carry pod traffic (the CNI plan in `cni.rs` takes
//! their smallest MTU).

use super::NodePlan;
use super::cni::{CniInstall, cni_install};
use crate::intent::{CniPlugin, NetworkIntent, Purpose};

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
    // Cilium's tunnel endpoint is the node's InternalIP, the kubelet's node-ip (cilium/cilium
    // `pkg/node/address.go` `GetNodeIP` prefers the internal IP; `devices` only picks the
    // BPF NodePort/masquerade devices): its VXLAN and WireGuard ride the interface carrying
    // the node's address, whatever `cni.interface` names, so netc sizes Cilium's `MTU` for
    // that interface and the named one together. Canonical Kubernetes' Cilium takes no MTU
    // from netc (it detects one from its `devices`): there the named interface stays the data
    // path, whose per-node MTUs `check` compares.
    if intent.cni.plugin.value == CniPlugin::Cilium
        && cni_install(intent.cluster.distribution.value, CniPlugin::Cilium) != CniInstall::Builtin
        && !cni_over_host_overlay(intent)
    {
        let mut out = node_ip_interfaces(node);
        if let Some(name) = named
            && !out.contains(&name)
        {
            out.push(name);
        }
        return out;
    }
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

/// The interfaces that may carry the node's address (its InternalIP): the one declared with
/// that address, else the management interface, else the only interface, else all of them
/// (the data path is then as small as the smallest).
fn node_ip_interfaces(node: &NodePlan) -> Vec<&str> {
    let ip = node.ip();
    if let Some(i) = node
        .interfaces
        .iter()
        .find(|i| ip.is_some() && i.address.map(|a| a.addr()) == ip)
    {
        return vec![i.name.as_str()];
    }
    if let Some(i) = node.management_interface() {
        return vec![i.name.as_str()];
    }
    node.interfaces.iter().map(|i| i.name.as_str()).collect()
}
