//! `netc diff-connectivity OLD NEW`: the connections two intents allow differently, and the
//! host-level changes that cannot be made in place on a running cluster.

use std::collections::BTreeSet;

use serde::Serialize;

use super::Connectivity;
use super::matrix;
use crate::diagnostic::{Diag, code};
use crate::intent::{NetworkIntent, Span};
use crate::plan::{FlannelBackend, Plan};

/// One connection: source, destination, port (as the matrix names them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
pub struct Flow {
    pub from: String,
    pub to: String,
    pub port: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConnectionDiff {
    /// Allowed by NEW, not by OLD (including connections of endpoints or ports NEW adds).
    pub added: Vec<Flow>,
    /// Allowed by OLD, not by NEW (including connections of endpoints or ports NEW drops).
    pub removed: Vec<Flow>,
}

fn allowed_set(c: &Connectivity<'_>) -> BTreeSet<Flow> {
    let m = matrix::build(c, None);
    m.connections()
        .filter(|x| x.allowed)
        .map(|x| Flow {
            from: x.from.to_owned(),
            to: x.to.to_owned(),
            port: x.port.to_owned(),
        })
        .collect()
}

/// The allowed connections (on each destination's declared ports) that differ.
pub fn connections(old: &Connectivity<'_>, new: &Connectivity<'_>) -> ConnectionDiff {
    let (a, b) = (allowed_set(old), allowed_set(new));
    ConnectionDiff {
        added: b.difference(&a).cloned().collect(),
        removed: a.difference(&b).cloned().collect(),
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    let v: Vec<String> = items.iter().map(ToString::to_string).collect();
    v.join(", ")
}

/// The CNI's own VXLAN port and VNI (none for Cilium's tunnel, which has no VNI knob), from
/// the Plan's plugin settings.
fn cni_vxlan(p: &Plan) -> Option<(u16, Option<u32>)> {
    if let Some(f) = p.cni.flannel()
        && let FlannelBackend::Vxlan { port, vni, .. } = f.backend
    {
        return Some((port, Some(vni)));
    }
    if let Some(c) = p.cni.calico()
        && c.uses_vxlan()
    {
        return Some((c.vxlan_port, Some(c.vxlan_vni)));
    }
    p.cni
        .cilium()
        .and_then(|c| c.tunnel_port)
        .map(|port| (port, None))
}

fn vxlan_text((port, vni): (u16, Option<u32>)) -> String {
    match vni {
        Some(v) => format!("udp/{port} VNI {v}"),
        None => format!("udp/{port}"),
    }
}

/// Calico's IPAM block size (of its first pool).
fn block_size(p: &Plan) -> Option<u8> {
    p.cni.calico()?.pools.first().map(|pool| pool.block_size)
}

/// Host-level changes between OLD and NEW that disrupt a running cluster or cannot be made in
/// place, as warnings labelled on NEW's intent.
pub fn host_changes(old: &Plan, new: &Plan, intent: &NetworkIntent) -> Vec<Diag> {
    let c = &intent.cluster;
    let cni_span = intent.cni.plugin.span;
    let vxlan_span = intent
        .cni
        .vxlan
        .as_ref()
        .and_then(|v| v.port.as_ref().map(|p| p.span))
        .unwrap_or(cni_span);
    let block_span = intent
        .cni
        .calico
        .as_ref()
        .and_then(|x| x.block_size.as_ref().map(|b| b.span))
        .unwrap_or(cni_span);
    let mask_span = c
        .node_cidr_mask_size
        .as_ref()
        .map_or(c.pod_cidr.span, |m| m.span);
    let mut out = Vec::new();
    let mut change = |setting: &str, from: String, to: String, span: Span, why: &str| {
        out.push(
            Diag::warning(
                code::DIFF_DISRUPTIVE,
                format!("{setting} changes from {from} to {to}"),
            )
            .label(span, "changed here")
            .help(why.to_owned()),
        );
    };
    if old.pod_cidrs != new.pod_cidrs {
        change(
            "podCIDR",
            list(&old.pod_cidrs),
            list(&new.pod_cidrs),
            c.pod_cidr.span,
            "the pod network cannot change in place: nodes keep their allocated pod subnets and running pods their addresses; plan a migration (new cluster or drain and re-register every node)",
        );
    }
    if old.service_cidrs != new.service_cidrs {
        change(
            "serviceCIDR",
            list(&old.service_cidrs),
            list(&new.service_cidrs),
            c.service_cidr.span,
            "existing Services keep their cluster IPs and the kubernetes Service its address: changing the service network needs a migration of every Service",
        );
    }
    if (old.node_mask_v4, old.node_mask_v6) != (new.node_mask_v4, new.node_mask_v6) {
        change(
            "the node pod-subnet mask",
            format!("/{} (v6 /{})", old.node_mask_v4, old.node_mask_v6),
            format!("/{} (v6 /{})", new.node_mask_v4, new.node_mask_v6),
            mask_span,
            "nodes already hold pod subnets of the old size: the controller manager allocates new sizes only to new nodes",
        );
    }
    if let (Some(a), Some(b)) = (cni_vxlan(old), cni_vxlan(new))
        && a != b
    {
        change(
            "the CNI's VXLAN port/VNI",
            vxlan_text(a),
            vxlan_text(b),
            vxlan_span,
            "nodes on the old and the new VXLAN settings cannot reach each other's pods until all are changed: roll it out as one maintenance, firewall first",
        );
    }
    if let (Some(a), Some(b)) = (block_size(old), block_size(new))
        && a != b
    {
        change(
            "Calico's IPAM block size",
            format!("/{a}"),
            format!("/{b}"),
            block_span,
            "an IPPool's blockSize cannot be edited: Calico needs a new pool and a migration of every pod off the old one",
        );
    }
    let family = |p: &Plan| {
        p.pod_cidrs
            .first()
            .map(|n| if n.addr().is_ipv4() { "IPv4" } else { "IPv6" })
    };
    if family(old) != family(new) {
        change(
            "the primary address family",
            family(old).unwrap_or("none").to_owned(),
            family(new).unwrap_or("none").to_owned(),
            c.pod_cidr.span,
            "a cluster's primary family is fixed at creation (Services and node addresses follow it)",
        );
    }
    if old.cni.plugin != new.cni.plugin {
        change(
            "the CNI plugin",
            format!("{:?}", old.cni.plugin).to_lowercase(),
            format!("{:?}", new.cni.plugin).to_lowercase(),
            cni_span,
            "swapping the CNI under running pods breaks their networking: every pod must be recreated",
        );
    }
    out
}
