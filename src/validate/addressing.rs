//! `netc::nodes::address-family`: each node's addresses (`address`, `secondaryAddress`,
//! `externalAddress`) against the cluster's IP families.
//!
//! The kubelet registers a node with its `node-ip` (one address per family); a node whose
//! address is of a family the pod and service CIDRs do not have gets no usable InternalIP for
//! that family, and a dual-stack node-ip pair must hold one address of each family
//! (kubernetes/kubernetes `pkg/kubelet/nodestatus/setters.go`, `validateNodeIPs`). RKE2 and k3s
//! take the same pair and `node-external-ip` (k3s `pkg/cli/cmds/agent.go`); the kubelet of
//! kubeadm, Canonical Kubernetes and a manual control plane has no external-address setting (only a cloud provider sets
//! ExternalIP), so an external address there is reported, never dropped (recorded in the Plan,
//! `plan/not_applied.rs`, reported by `not_applied.rs`).

use ipnet::IpNet;

use crate::diagnostic::{Diag, code};
use crate::intent::values;
use crate::intent::{NetworkIntent, Span};
use crate::plan::Plan;

fn family(v6: bool) -> &'static str {
    if v6 { "IPv6" } else { "IPv4" }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let has = |v6: bool| {
        plan.pod_cidrs
            .iter()
            .chain(&plan.service_cidrs)
            .any(|n| matches!(n, IpNet::V6(_)) == v6)
    };
    if plan.pod_cidrs.is_empty() {
        return; // the pod CIDR itself is reported by the cidr rules
    }
    let cidr_span = intent.cluster.pod_cidr.span;
    let families = if has(false) && has(true) {
        "IPv4 and IPv6"
    } else if has(true) {
        "IPv6"
    } else {
        "IPv4"
    };
    let dual = has(false) && has(true);
    for node in &intent.nodes {
        let name = &node.name.value;
        let primary = values::parse_interface_address(&node.address).map(|a| a.addr());
        if let Some(ip) = primary
            && !has(ip.is_ipv6())
        {
            out.push(mismatch(
                format!(
                    "node {name}'s address {ip} is {} but the cluster's pod and service CIDRs are {families}",
                    family(ip.is_ipv6())
                ),
                node.address.span,
                cidr_span,
            ));
        }
        let mut secondary_family = None;
        if let Some(sec) = &node.secondary_address {
            match values::parse_interface_address(sec) {
                None => out.push(
                    Diag::error(
                        code::CIDR_INVALID,
                        format!(
                            "secondaryAddress `{}` of node {name} is not an address with a prefix",
                            sec.value
                        ),
                    )
                    .label(sec.span, "not address/prefix")
                    .help("write the address with its network's prefix, e.g. fd00:10::5/64"),
                ),
                Some(a) => {
                    let v6 = a.addr().is_ipv6();
                    secondary_family = Some(v6);
                    if primary.is_some_and(|p| p.is_ipv6() == v6) {
                        out.push(
                            Diag::error(
                                code::NODES_ADDRESS_FAMILY,
                                format!(
                                    "node {name}'s secondaryAddress {} is {} like its address: a node-ip pair needs one address of each family",
                                    a.addr(),
                                    family(v6)
                                ),
                            )
                            .label(sec.span, "secondary address")
                            .label(node.address.span, "primary address")
                            .help("give the address of the other family, or remove secondaryAddress"),
                        );
                    } else if !has(v6) {
                        out.push(mismatch(
                            format!(
                                "node {name}'s secondaryAddress {} is {} but the cluster's pod and service CIDRs are {families}",
                                a.addr(),
                                family(v6)
                            ),
                            sec.span,
                            cidr_span,
                        ));
                    }
                }
            }
        }
        // A node pinned to one family in a dual-stack cluster: node-ip is written for nodes
        // with several interfaces, and a single-family node-ip gives the node only that family.
        if dual
            && node.interfaces.len() > 1
            && let Some(ip) = primary
            && secondary_family.is_none()
        {
            out.push(
                Diag::warning(
                    code::NODES_ADDRESS_FAMILY,
                    format!(
                        "node {name} has several interfaces, so netc pins its node-ip to {ip}, but the cluster is dual-stack and the node has no {} address",
                        family(!ip.is_ipv6())
                    ),
                )
                .label(node.address.span, "only address")
                .label(cidr_span, "dual-stack pod CIDRs")
                .help(format!(
                    "add secondaryAddress: <{} address>/<prefix> to node {name}",
                    family(!ip.is_ipv6())
                )),
            );
        }
        let Some(ext) = &node.external_address else {
            continue;
        };
        let mut seen: [Option<Span>; 2] = [None, None];
        for (text, span) in ext.entries() {
            let Some(ip) = values::parse_address(text) else {
                out.push(
                    Diag::error(
                        code::CIDR_INVALID,
                        format!("externalAddress `{text}` of node {name} is not an IP address"),
                    )
                    .label(span, "not an address")
                    .help("write a plain address without prefix, e.g. 203.0.113.10"),
                );
                continue;
            };
            let v6 = ip.is_ipv6();
            if !has(v6) {
                out.push(mismatch(
                    format!(
                        "node {name}'s externalAddress {ip} is {} but the cluster's pod and service CIDRs are {families}",
                        family(v6)
                    ),
                    span,
                    cidr_span,
                ));
            }
            let slot = &mut seen[usize::from(v6)];
            if let Some(first) = slot {
                out.push(
                    Diag::error(
                        code::NODES_ADDRESS_FAMILY,
                        format!("node {name} has two {} external addresses", family(v6)),
                    )
                    .label(span, "second")
                    .label(*first, "first")
                    .help("node-external-ip takes at most one address per family"),
                );
            } else {
                *slot = Some(span);
            }
        }
    }
}

fn mismatch(message: String, at: Span, cidr_span: Span) -> Diag {
    Diag::error(code::NODES_ADDRESS_FAMILY, message)
        .label(at, "node address")
        .label(cidr_span, "cluster pod CIDR")
        .help("give the node an address of the cluster's family, or add that family to podCIDR and serviceCIDR")
}
