//! Nodes: `netc::nodes::pod-capacity`, `netc::nodes::pod-cidr-pin`, `netc::nodes::duplicate`.
//!
//! Capacity follows kube-controller-manager and kubeadm's ValidateNetworking: the node mask
//! must be longer than the pod prefix and at most 16 bits longer, and the pod CIDR must hold a
//! subnet for every node. Pins are swept in address order, duplicates go through maps.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::net::IpAddr;

use ipnet::IpNet;

use super::count;
use crate::diagnostic::{Diag, code};
use crate::intent::values;
use crate::intent::{NetworkIntent, Span, Spanned};
use crate::plan::{Plan, subnet_capacity};

/// kube-controller-manager refuses node masks more than 16 bits longer than the cluster CIDR.
const MAX_MASK_DIFFERENCE: u8 = 16;

/// The node mask that applies to `net`'s family: value, its span (if written) and its key.
fn mask_for<'a>(
    net: &IpNet,
    intent: &'a NetworkIntent,
    plan: &Plan,
) -> (u8, Option<&'a Spanned<u8>>, &'static str) {
    match net {
        IpNet::V4(_) => (
            plan.node_mask_v4,
            intent.cluster.node_cidr_mask_size.as_ref(),
            "nodeCIDRMaskSize",
        ),
        IpNet::V6(_) => (
            plan.node_mask_v6,
            intent.cluster.node_cidr_mask_size_v6.as_ref(),
            "nodeCIDRMaskSizeV6",
        ),
    }
}

fn pod_nets(intent: &NetworkIntent) -> Vec<(IpNet, Span)> {
    intent
        .cluster
        .pod_cidr
        .entries()
        .filter_map(|(t, s)| Some((values::parse_network(t).ok()?, s)))
        .collect()
}

fn capacity(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    for (net, pod_span) in pod_nets(intent) {
        let (mask, mask_value, key) = mask_for(&net, intent, plan);
        let mask_span = mask_value.map_or(pod_span, |m| m.span);
        let prefix = net.prefix_len();
        let problem = if mask > net.max_prefix_len() {
            Some(format!(
                "{key} {mask} is not an {} prefix length",
                if net.max_prefix_len() == 32 {
                    "IPv4"
                } else {
                    "IPv6"
                }
            ))
        } else if mask <= prefix {
            Some(format!(
                "{key} {mask} is not longer than podCIDR {net}'s /{prefix}: each node's subnet must be smaller than the pod CIDR"
            ))
        } else if mask - prefix > MAX_MASK_DIFFERENCE {
            Some(format!(
                "{key} {mask} is {} bits longer than podCIDR {net}'s /{prefix}; Kubernetes allows at most {MAX_MASK_DIFFERENCE}",
                mask - prefix
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            out.push(
                Diag::error(code::NODES_POD_CAPACITY, message)
                    .label(mask_span, format!("a /{mask} per node"))
                    .label(pod_span, "podCIDR")
                    .help(format!(
                        "choose {key} between {} and {} for a /{prefix} podCIDR, or change the podCIDR",
                        prefix.saturating_add(1),
                        prefix.saturating_add(MAX_MASK_DIFFERENCE).min(net.max_prefix_len())
                    )),
            );
            continue;
        }
        let room = subnet_capacity(&net, mask);
        let nodes = intent.nodes.len();
        if u128::try_from(nodes).unwrap_or(u128::MAX) > room {
            out.push(
                Diag::error(
                    code::NODES_POD_CAPACITY,
                    format!(
                        "{} need a /{mask} each, but podCIDR {net} holds only {room}",
                        count(nodes, "node")
                    ),
                )
                .label(pod_span, format!("room for {room} /{mask} subnets"))
                .label(mask_span, format!("{key} {mask}"))
                .help(format!(
                    "widen podCIDR or lengthen {key} (a /{} holds {})",
                    mask.saturating_add(1),
                    room.saturating_mul(2)
                )),
            );
            continue;
        }
        // Enough subnets in total, yet pins may have left no whole free subnet for some nodes.
        let is_v6 = matches!(net, IpNet::V6(_));
        let starved: Vec<usize> = plan
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                !n.pod_cidrs
                    .iter()
                    .any(|p| matches!(p, IpNet::V6(_)) == is_v6)
            })
            .map(|(i, _)| i)
            .collect();
        if let Some(first) = starved.first().and_then(|&i| intent.nodes.get(i)) {
            out.push(
                Diag::error(
                    code::NODES_POD_CAPACITY,
                    format!(
                        "no free /{mask} left in podCIDR {net} for {} ({}): the pins take the room",
                        first.name.value,
                        count(starved.len(), "node")
                    ),
                )
                .label(first.name.span, "gets no pod subnet")
                .label(pod_span, "podCIDR")
                .help("pin fewer or smaller subnets, or widen podCIDR"),
            );
        }
    }
    overlay_capacity(intent, out);
}

/// Each node takes one address of the host overlay subnet (its index + 1); the IPv4 broadcast
/// address is not one. Reported under pod-capacity, the rule for "more nodes than addresses".
fn overlay_capacity(intent: &NetworkIntent, out: &mut Vec<Diag>) {
    let Some(h) = &intent.host_overlay else {
        return;
    };
    let Ok(net) = values::parse_network(&h.subnet.value) else {
        return;
    };
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    let size = 1u128.checked_shl(host_bits).unwrap_or(u128::MAX);
    let reserved = if matches!(net, IpNet::V4(_)) { 2 } else { 1 };
    let room = size.saturating_sub(reserved);
    let nodes = intent.nodes.len();
    if u128::try_from(nodes).unwrap_or(u128::MAX) > room {
        out.push(
            Diag::error(
                code::NODES_POD_CAPACITY,
                format!(
                    "{} need an address on the host overlay, but hostOverlay.subnet {net} has only {room}",
                    count(nodes, "node")
                ),
            )
            .label(h.subnet.span, format!("{room} usable addresses"))
            .help("use a shorter prefix for hostOverlay.subnet"),
        );
    }
}

struct Pin<'a> {
    net: IpNet,
    span: Span,
    node: &'a str,
}

fn pins(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let pods = pod_nets(intent);
    let mut all: Vec<Pin> = Vec::new();
    for node in &intent.nodes {
        let Some(text) = &node.pod_cidr else { continue };
        let Ok(pin) = values::parse_network(&text.value) else {
            continue; // cidr::invalid
        };
        let name = node.name.value.as_str();
        all.push(Pin {
            net: pin,
            span: text.span,
            node: name,
        });
        let same_family: Vec<&(IpNet, Span)> = pods
            .iter()
            .filter(|(p, _)| matches!(p, IpNet::V6(_)) == matches!(pin, IpNet::V6(_)))
            .collect();
        let Some(&&(parent, parent_span)) = same_family.first() else {
            if let Some(&(parent, parent_span)) = pods.first() {
                out.push(
                    Diag::error(
                        code::NODES_POD_CIDR_PIN,
                        format!("podCIDR pin {pin} of {name} is outside podCIDR {parent}: the cluster has no pods of its family"),
                    )
                    .label(text.span, "pinned here")
                    .label(parent_span, "podCIDR")
                    .help("pin a subnet of the podCIDR, or add a podCIDR of this family"),
                );
            }
            continue;
        };
        if !same_family.iter().any(|(p, _)| p.contains(&pin)) {
            out.push(
                Diag::error(
                    code::NODES_POD_CIDR_PIN,
                    format!("podCIDR pin {pin} of {name} is outside podCIDR {parent}"),
                )
                .label(text.span, "outside the pod range")
                .label(parent_span, "podCIDR")
                .help(format!(
                    "pin a /{} inside {parent}, or drop the pin to let netc allocate one",
                    mask_for(&pin, intent, plan).0
                )),
            );
            continue;
        }
        let (mask, mask_value, key) = mask_for(&pin, intent, plan);
        if pin.prefix_len() != mask {
            let d = Diag::error(
                code::NODES_POD_CIDR_PIN,
                format!(
                    "podCIDR pin {pin} of {name} is a /{}, but {key} is {mask}",
                    pin.prefix_len()
                ),
            )
            .label(text.span, format!("a /{}", pin.prefix_len()));
            let d = match mask_value {
                Some(m) => d.label(m.span, format!("every node gets a /{mask}")),
                None => d,
            };
            out.push(d.help(format!(
                "pin a /{mask} (the controller-manager hands out only /{mask} subnets), or change {key}"
            )));
        }
    }
    shared(all, out);
}

/// Pins shared by two nodes or nested in one another, by a sweep in address order.
fn shared(mut all: Vec<Pin>, out: &mut Vec<Diag>) {
    all.sort_by_key(|p| {
        (
            matches!(p.net, IpNet::V6(_)),
            p.net.network(),
            p.net.prefix_len(),
            p.span.offset,
        )
    });
    let mut stack: Vec<usize> = Vec::new();
    for (i, p) in all.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if all.get(top).is_some_and(|t| t.net.contains(&p.net)) {
                break;
            }
            stack.pop();
        }
        if let Some(outer) = stack.last().and_then(|&t| all.get(t)) {
            let message = if outer.net == p.net {
                format!(
                    "podCIDR pin {} is shared by {} and {}",
                    p.net, outer.node, p.node
                )
            } else {
                format!(
                    "podCIDR pin {} of {} overlaps pin {} of {}",
                    p.net, p.node, outer.net, outer.node
                )
            };
            out.push(
                Diag::error(code::NODES_POD_CIDR_PIN, message)
                    .label(p.span, format!("pin of {}", p.node))
                    .label(outer.span, format!("pin of {}", outer.node))
                    .help(
                        "give every node its own pod subnet, or drop one pin to let netc allocate",
                    ),
            );
        }
        stack.push(i);
    }
}

fn duplicates(intent: &NetworkIntent, out: &mut Vec<Diag>) {
    let mut names: HashMap<&str, Span> = HashMap::with_capacity(intent.nodes.len());
    for node in &intent.nodes {
        match names.entry(node.name.value.as_str()) {
            Entry::Vacant(v) => {
                v.insert(node.name.span);
            }
            Entry::Occupied(o) => out.push(
                Diag::error(
                    code::NODES_DUPLICATE,
                    format!("node name {} is declared twice", node.name.value),
                )
                .label(node.name.span, "declared again here")
                .label(*o.get(), "first declared here")
                .help("node names are unique in a cluster: rename or remove one"),
            ),
        }
    }
    // Address → (node index, span). The secondary (other-family) address and interface addresses
    // count too, but not against their own node.
    let mut seen: HashMap<IpAddr, (usize, Span)> = HashMap::with_capacity(intent.nodes.len());
    for (i, node) in intent.nodes.iter().enumerate() {
        let addresses = std::iter::once(&node.address)
            .chain(node.secondary_address.iter())
            .chain(node.interfaces.iter().filter_map(|f| f.address.as_ref()));
        for text in addresses {
            let Some(addr) = values::parse_interface_address(&text.value) else {
                continue;
            };
            match seen.entry(addr.addr()) {
                Entry::Vacant(v) => {
                    v.insert((i, text.span));
                }
                Entry::Occupied(o) => {
                    let (j, first_span) = *o.get();
                    if j == i {
                        continue;
                    }
                    let other = intent.nodes.get(j).map_or("", |n| n.name.value.as_str());
                    out.push(
                        Diag::error(
                            code::NODES_DUPLICATE,
                            format!(
                                "address {} of {} is already {other}'s",
                                addr.addr(),
                                node.name.value
                            ),
                        )
                        .label(text.span, format!("{}'s address", node.name.value))
                        .label(first_span, format!("{other}'s address"))
                        .help("every node needs its own address: renumber one of them"),
                    );
                }
            }
        }
    }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    capacity(intent, plan, out);
    pins(intent, plan, out);
    duplicates(intent, out);
}
