//! Ports: `netc::ports::conflict` (two components on one port of one node) and
//! `netc::ports::blocked-required` (a `drop` rule over a port the cluster or the operator
//! needs). Port texts of the firewall that do not parse are `netc::parse` findings here, as are
//! VXLAN ports and VNIs out of range.
//!
//! Claims come from the Plan (`NodePlan.ports`). Conflicts are found per node (a handful of
//! claims each) and grouped by the pair of components, so a clash on 10,000 nodes is one finding.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::NodeSet;
use crate::diagnostic::{Diag, code};
use crate::intent::values::{self, PortRange};
use crate::intent::{FirewallAction, NetworkIntent, Role, Span, Spanned, Text, VxlanPort};
use crate::plan::{Plan, PortClaim, Scope};

use crate::intent::values::MAX_VNI;

fn vxlan_values(what: &str, v: &VxlanPort, out: &mut Vec<Diag>) {
    if let Some(p) = &v.port
        && p.value == 0
    {
        out.push(
            Diag::error(code::PARSE, format!("{what}.port 0 is not a UDP port"))
                .label(p.span, "port 0")
                .help(format!(
                    "use 1-65535; VXLAN's IANA port is {}, flannel's default {}",
                    crate::plan::VXLAN_IANA_PORT,
                    crate::plan::profile::FLANNEL_VXLAN_PORT
                )),
        );
    }
    if let Some(n) = &v.vni
        && n.value > MAX_VNI
    {
        out.push(
            Diag::error(
                code::PARSE,
                format!("{what}.vni {} does not fit VXLAN's 24 bits", n.value),
            )
            .label(n.span, "VNI too large")
            .help(format!("use a VNI between 0 and {MAX_VNI}")),
        );
    }
}

fn port_text(what: &str, t: &Text, out: &mut Vec<Diag>) -> Option<PortRange> {
    match values::parse_port_range(&t.value) {
        Ok(r) => Some(r),
        Err(e) => {
            out.push(
                Diag::error(code::PARSE, format!("`{}` ({what}): {e}", t.value))
                    .label(t.span, "invalid port")
                    .help("write ports as `tcp/22`, `udp/8472` or `tcp/30000-32767`"),
            );
            None
        }
    }
}

fn where_(a: &Scope, b: &Scope) -> String {
    match (a, b) {
        (Scope::Interface(i), Scope::Interface(_)) => format!("on {i}"),
        (Scope::Interface(i), Scope::All) | (Scope::All, Scope::Interface(i)) => {
            format!("on {i} (one of them listens on every address)")
        }
        (Scope::All, Scope::All) => "on every address".to_owned(),
    }
}

fn who(c: &PortClaim) -> String {
    match c.vni {
        Some(v) => format!("{} ({}, VNI {v})", c.component, c.range),
        None => format!("{} ({})", c.component, c.range),
    }
}

struct Clash<'a> {
    a: &'a PortClaim,
    b: &'a PortClaim,
    nodes: NodeSet<'a>,
}

fn conflicts(plan: &Plan, out: &mut Vec<Diag>) {
    // Keyed by the two claims' identities, so the same clash on many nodes is one entry.
    type Key<'a> = (
        &'a str,
        PortRange,
        Option<u32>,
        &'a str,
        PortRange,
        Option<u32>,
    );
    let mut clashes: BTreeMap<Key, Clash> = BTreeMap::new();
    for node in &plan.nodes {
        for (i, a) in node.ports.iter().enumerate() {
            for b in node.ports.iter().skip(i + 1) {
                if !a.conflicts_with(b) {
                    continue;
                }
                let key = (
                    a.component.as_str(),
                    a.range,
                    a.vni,
                    b.component.as_str(),
                    b.range,
                    b.vni,
                );
                clashes
                    .entry(key)
                    .or_insert_with(|| Clash {
                        a,
                        b,
                        nodes: NodeSet::default(),
                    })
                    .nodes
                    .add(&node.name);
            }
        }
    }
    for clash in clashes.values() {
        let (a, b) = (clash.a, clash.b);
        let vxlan = a.vni.is_some() && b.vni.is_some();
        let help = if vxlan {
            "give one of them another UDP port or another VNI (VXLAN devices share a port only with different VNIs)"
        } else {
            "move one of them to another port"
        };
        let d = Diag::error(
            code::PORTS_CONFLICT,
            format!(
                "{} and {} claim the same port {} of {}",
                who(a),
                who(b),
                where_(&a.scope, &b.scope),
                clash.nodes.describe()
            ),
        );
        let d = if a.origin == b.origin {
            d.label(a.origin, format!("{} and {}", a.component, b.component))
        } else {
            d.label(b.origin, b.component.clone())
                .label(a.origin, a.component.clone())
        };
        out.push(d.help(help));
    }
}

/// The networks cluster traffic comes from: a `drop` from elsewhere (the internet) is fine.
fn cluster_networks(plan: &Plan) -> Vec<IpNet> {
    let mut nets: BTreeSet<IpNet> = plan.pod_cidrs.iter().copied().collect();
    nets.extend(
        plan.nodes
            .iter()
            .filter_map(|n| n.address.map(|a| a.trunc())),
    );
    nets.extend(plan.host_overlay.as_ref().map(|h| h.subnet));
    nets.into_iter().collect()
}

fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b) || b.contains(a)
}

fn blocked(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(fw) = &intent.firewall else { return };
    let management: Vec<(PortRange, Span)> = fw
        .management_access
        .iter()
        .filter_map(|t| port_text("managementAccess", t, out).map(|r| (r, t.span)))
        .collect();
    // (role, component, range) → where the claim comes from; roles differ in what they run.
    let mut needed: BTreeMap<(Role, &str, PortRange), Span> = BTreeMap::new();
    let mut previous: Option<(&Role, &Vec<PortClaim>)> = None;
    for node in &plan.nodes {
        if previous.is_some_and(|(r, p)| *r == node.role && *p == node.ports) {
            continue; // most nodes repeat their predecessor's claims
        }
        for c in &node.ports {
            needed
                .entry((node.role, c.component.as_str(), c.range))
                .or_insert(c.origin);
        }
        previous = Some((&node.role, &node.ports));
    }
    let cluster = cluster_networks(plan);
    for rule in &fw.rules {
        let ports: Vec<(PortRange, Span)> = rule
            .ports
            .iter()
            .filter_map(|t| {
                port_text(
                    &format!("ports of firewall rule {}", rule.name.value),
                    t,
                    out,
                )
                .map(|r| (r, t.span))
            })
            .collect();
        let drops = rule
            .action
            .as_ref()
            .is_some_and(|a| a.value == FirewallAction::Drop);
        if !drops {
            continue;
        }
        let from: Vec<IpNet> = rule
            .from
            .iter()
            .filter_map(|t| values::parse_network(&t.value).ok())
            .collect();
        let hits_cluster =
            from.is_empty() || from.iter().any(|f| cluster.iter().any(|c| overlaps(f, c)));
        for (range, span) in &ports {
            for (m, m_span) in &management {
                if range.overlaps(m) {
                    out.push(
                        Diag::error(
                            code::PORTS_BLOCKED_REQUIRED,
                            format!(
                                "firewall rule {} drops {range}, which covers managementAccess {m}",
                                rule.name.value
                            ),
                        )
                        .label(*span, "dropped here")
                        .label(*m_span, "must stay open")
                        .help("managementAccess ports are never blocked: take them out of the rule's ports"),
                    );
                }
            }
            if !hits_cluster {
                continue;
            }
            let roles = roles_of(&rule.roles);
            let mut reported: BTreeSet<&str> = BTreeSet::new();
            for ((role, component, claimed), origin) in &needed {
                if !roles.contains(role) || !range.overlaps(claimed) || !reported.insert(component)
                {
                    continue;
                }
                out.push(
                    Diag::error(
                        code::PORTS_BLOCKED_REQUIRED,
                        format!(
                            "firewall rule {} drops {range}, which {component} needs ({claimed}) on {} nodes",
                            rule.name.value,
                            role_name(*role)
                        ),
                    )
                    .label(*span, "dropped here")
                    .label(*origin, format!("{component} needs {claimed}"))
                    .help("narrow the rule's ports, restrict `from` to networks outside the cluster, or remove the rule"),
                );
            }
        }
    }
}

fn roles_of(roles: &[Spanned<Role>]) -> Vec<Role> {
    if roles.is_empty() {
        vec![Role::ControlPlane, Role::Worker]
    } else {
        roles.iter().map(|r| r.value).collect()
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::ControlPlane => "control-plane",
        Role::Worker => "worker",
    }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    if let Some(v) = &intent.cni.vxlan {
        vxlan_values("cni.vxlan", v, out);
    }
    if let Some(h) = &intent.host_overlay {
        vxlan_values("hostOverlay.vxlan", &h.vxlan, out);
    }
    conflicts(plan, out);
    blocked(intent, plan, out);
}
