//! The data path of a node: which interfaces carry pod traffic (the CNI plan in `cni.rs` takes
//! their smallest MTU).

use super::NodePlan;
use crate::intent::{NetworkIntent, Purpose};

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
