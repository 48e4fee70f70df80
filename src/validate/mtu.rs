//! `netc::mtu::too-large`: a pod packet plus every encapsulation stacked under it must fit
//! each node's data path.
//!
//! The data path of a node, its MTU and the interface that MTU is of come from the Plan
//! (`NodePlan.data_mtu`, `NodePlan.data_interface`); the overhead too (`CniPlan.overhead`,
//! `own_overhead` plus `host_overlay_overhead`). Nodes with the same interface and MTU are reported together.

use std::collections::BTreeMap;

use ipnet::IpNet;

use super::NodeSet;
use super::cni::encapsulation_name;
use crate::diagnostic::{Diag, code};
use crate::intent::{Mtu, NetworkIntent, Node, Span};
use crate::plan::{NodePlan, Plan};

/// The smallest MTU an IP network may have: IPv4 576 (RFC 791 datagram), IPv6 1280 (RFC 8200).
const MIN_MTU_V4: u32 = 576;
const MIN_MTU_V6: u32 = 1280;

/// "VXLAN 50 + host overlay VXLAN 50": the parts of `plan.cni.overhead`, for messages.
fn overhead_parts(plan: &Plan) -> String {
    let mut parts = Vec::new();
    let cni = plan.cni.own_overhead;
    if cni > 0 {
        parts.push(format!(
            "{} {cni}",
            encapsulation_name(plan.cni.encapsulation).to_uppercase()
        ));
    }
    let overlay = plan.cni.host_overlay_overhead;
    if overlay > 0 {
        parts.push(format!("host overlay VXLAN {overlay}"));
    }
    if parts.is_empty() {
        "no encapsulation 0".to_owned()
    } else {
        parts.join(" + ")
    }
}

/// The interface that limits a node's data path (the plan's `data_interface`): its name, and
/// the span to point at.
fn limiting_interface<'a>(plan_node: &NodePlan, node: &'a Node) -> Option<(&'a str, Span)> {
    let name = plan_node.data_interface.as_deref()?;
    let f = node.interfaces.iter().find(|f| f.name.value == name)?;
    let span = f.mtu.as_ref().map_or(f.name.span, |m| m.span);
    Some((f.name.value.as_str(), span))
}

struct Group<'a> {
    nodes: NodeSet<'a>,
    span: Span,
}

/// A CNI whose pod MTU nothing can set follows each node's own interface: with data paths of
/// different MTUs, pods on the larger ones send packets the smaller ones cannot carry.
fn per_node_mtu(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(target) = plan.cni.pod_mtu_per_node else {
        return;
    };
    let pairs = || plan.nodes.iter().zip(&intent.nodes);
    let (Some(big), Some(small)) = (
        pairs().max_by_key(|(pn, _)| pn.data_mtu),
        pairs().min_by_key(|(pn, _)| pn.data_mtu),
    ) else {
        return;
    };
    if big.0.data_mtu == small.0.data_mtu {
        return;
    }
    let own = plan.cni.own_overhead;
    let span = |(pn, node): (&NodePlan, &Node)| {
        limiting_interface(pn, node).map_or(node.name.span, |(_, s)| s)
    };
    out.push(
        Diag::error(
            code::MTU_TOO_LARGE,
            format!(
                "{target} sets each node's pod MTU from its own interface: pods on {} get {} + {own} overhead, more than {}'s data-path MTU {}",
                big.0.name,
                big.0.data_mtu.saturating_sub(own),
                small.0.name,
                small.0.data_mtu
            ),
        )
        .label(span(big), format!("MTU {}", big.0.data_mtu))
        .label(span(small), format!("MTU {}", small.0.data_mtu))
        .help(format!(
            "give every node's data-path interface the same MTU ({}), or use a CNI/encapsulation whose pod MTU netc can set",
            small.0.data_mtu
        )),
    );
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    per_node_mtu(intent, plan, out);
    let ipv6 = plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V6(_)));
    let (minimum, family) = if ipv6 {
        (MIN_MTU_V6, "IPv6")
    } else {
        (MIN_MTU_V4, "IPv4")
    };
    let overhead = plan.cni.overhead;
    let mtu_span = intent.cni.mtu.as_ref().map_or(Span::default(), |m| m.span);
    match intent.cni.mtu.as_ref().map(|m| m.value) {
        Some(Mtu::Bytes(pod)) => {
            if pod < minimum {
                out.push(
                    Diag::error(
                        code::MTU_TOO_LARGE,
                        format!("pod MTU {pod} is below {family}'s minimum MTU {minimum}"),
                    )
                    .label(mtu_span, "too small")
                    .help(format!("use at least {minimum}, or `auto`")),
                );
            }
            let needed = pod.saturating_add(overhead);
            // (interface or "", MTU) → the nodes whose data path is that small.
            let mut groups: BTreeMap<(&str, u32), Group> = BTreeMap::new();
            for (pn, node) in plan.nodes.iter().zip(&intent.nodes) {
                if needed <= pn.data_mtu {
                    continue;
                }
                let limit = limiting_interface(pn, node);
                if limit.is_none() && !node.interfaces.is_empty() {
                    continue; // its data-path interface is undeclared: iface::unknown says so
                }
                let (name, span) = limit.unwrap_or(("", node.name.span));
                let g = groups.entry((name, pn.data_mtu)).or_insert_with(|| Group {
                    nodes: NodeSet::default(),
                    span,
                });
                g.nodes.add(&pn.name);
            }
            let parts = overhead_parts(plan);
            for ((iface, link), g) in groups {
                let whose = if iface.is_empty() {
                    format!(
                        "the assumed MTU {link} on {} (no interfaces declared)",
                        g.nodes.describe()
                    )
                } else {
                    format!("{iface}'s MTU {link} on {}", g.nodes.describe())
                };
                out.push(
                    Diag::error(
                        code::MTU_TOO_LARGE,
                        format!("pod MTU {pod} + {parts} = {needed} exceeds {whose}"),
                    )
                    .label(mtu_span, format!("pod MTU {pod}"))
                    .label(g.span, format!("MTU {link}"))
                    .help(format!(
                        "set cni.mtu to {} or less (or `auto`), or raise the data-path MTU to {needed}",
                        link.saturating_sub(overhead)
                    )),
                );
            }
        }
        Some(Mtu::Auto) | None => {
            if plan.cni.mtu >= minimum || plan.nodes.is_empty() {
                return;
            }
            let smallest = plan
                .nodes
                .iter()
                .zip(&intent.nodes)
                .min_by_key(|(pn, _)| pn.data_mtu);
            let Some((pn, node)) = smallest else { return };
            let (iface, span) = limiting_interface(pn, node).unwrap_or(("", node.name.span));
            let parts = overhead_parts(plan);
            out.push(
                Diag::error(
                    code::MTU_TOO_LARGE,
                    format!(
                        "{}'s MTU {} minus {parts} leaves pod MTU {}, below {family}'s minimum {minimum}",
                        if iface.is_empty() { pn.name.clone() } else { format!("{iface} on {}", pn.name) },
                        pn.data_mtu,
                        plan.cni.mtu
                    ),
                )
                .label(span, format!("MTU {}", pn.data_mtu))
                .label(mtu_span, "derived pod MTU")
                .help(format!(
                    "raise the data-path MTU to at least {}, or use an encapsulation with less overhead",
                    minimum.saturating_add(overhead)
                )),
            );
        }
    }
}
