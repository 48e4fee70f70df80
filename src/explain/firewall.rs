//! The node firewall as `emit::firewall` writes it (both render `plan::firewall`), evaluated
//! for one incoming connection.
//!
//! nftables (`templates/firewall/netc.nft.j2`, input chain with policy drop): management ports,
//! then the intent's rules for the node's role in intent order (first match accepts or drops),
//! then the Plan's port claims, then pod and service networks as trusted sources; anything
//! else is dropped. firewalld: the pod and service networks are bound to the `trusted` zone
//! (a source binding wins over the interface's zone), then the zone's ports and rich rules,
//! where drop rules act before accepts, and the zone's default target rejects the rest.
//! Without a `firewall` section netc manages no firewall and says so.

use ipnet::IpNet;

use super::{Decider, Layer, SideVerdict};
use crate::intent::values::{PortRange, Protocol};
use crate::intent::{FirewallAction, FirewallBackend};
use crate::plan::NodePlan;
use crate::plan::firewall::{NodeFirewall, Opening};

/// Whether `source` (every range of it) lies inside `net`.
fn inside(net: &IpNet, source: &[IpNet]) -> bool {
    !source.is_empty() && source.iter().all(|s| net.contains(s))
}

fn hits(range: &PortRange, protocol: Protocol, port: u16) -> bool {
    range.protocol == protocol && range.first <= port && port <= range.last
}

fn unmanaged(node: &NodePlan) -> SideVerdict {
    SideVerdict::allowed(
        Layer::None,
        format!(
            "node {}: the intent declares no firewall, netc manages none",
            node.name
        ),
        Vec::new(),
    )
}

/// The verdict of `node`'s firewall on a connection the node makes to one of its own
/// addresses (the node itself, a hostNetwork pod on it): the kernel routes it through `lo`,
/// which both backends accept before any other rule (nftables: the emitted
/// `iifname "lo" accept`, `templates/firewall/netc.nft.j2`; firewalld: `filter_INPUT`'s
/// `iifname "lo" accept`, firewalld 1.3.3 `src/firewall/core/nftables.py`
/// `build_default_rules`).
pub fn loopback(node: &NodePlan, fw: Option<&NodeFirewall>) -> SideVerdict {
    if fw.is_none() {
        return unmanaged(node);
    }
    SideVerdict::allowed(
        Layer::NodeFirewall,
        format!(
            "node {}: from the node itself, which arrives on lo and is accepted first",
            node.name
        ),
        vec![Decider {
            policy: None,
            node: Some(node.name.clone()),
            what: "iifname \"lo\" accept".to_owned(),
            span: Default::default(),
            line: None,
        }],
    )
}

/// What decides a connection at a node firewall, in the order both backends apply.
enum Decision<'f> {
    /// firewalld: the source is bound to the trusted zone.
    TrustedZone(&'f IpNet),
    Management,
    Rule(&'f Opening),
    Claim(&'f Opening),
    /// nftables: the trusted pod/service networks after the ports.
    Trusted(&'f IpNet),
    /// Nothing accepts: the chain's policy or the zone's target.
    End,
}

impl Decision<'_> {
    fn accepts(&self) -> bool {
        match self {
            Decision::Rule(rule) => rule.action == FirewallAction::Accept,
            Decision::End => false,
            _ => true,
        }
    }
}

/// The firewall model's decision on a connection from `source` to `protocol/port`.
fn decide<'f>(
    fw: &'f NodeFirewall,
    source: &[IpNet],
    protocol: Protocol,
    port: u16,
) -> Decision<'f> {
    let trusted_hit = || fw.trusted.iter().find(|t| inside(t, source));
    if fw.backend == FirewallBackend::Firewalld
        && let Some(t) = trusted_hit()
    {
        return Decision::TrustedZone(t);
    }
    if fw.management.iter().any(|r| hits(r, protocol, port)) {
        return Decision::Management;
    }
    let mut matching = fw
        .user
        .iter()
        .filter(|o| hits(&o.range, protocol, port) && o.source.is_none_or(|s| inside(&s, source)));
    // nftables: the first matching rule decides; firewalld: a drop rich rule beats accepts.
    let chosen: Option<&Opening> = match fw.backend {
        FirewallBackend::Nftables => matching.next(),
        FirewallBackend::Firewalld => {
            let first = matching.next();
            first
                .into_iter()
                .chain(matching)
                .find(|o| o.action == FirewallAction::Drop)
                .or(first)
        }
    };
    if let Some(rule) = chosen {
        return Decision::Rule(rule);
    }
    if let Some(open) = fw.cluster.iter().find(|o| hits(&o.range, protocol, port)) {
        return Decision::Claim(open);
    }
    match trusted_hit() {
        Some(t) => Decision::Trusted(t),
        None => Decision::End,
    }
}

/// Only whether `fw` (`None`: no firewall netc manages) accepts a connection from `source`
/// to `protocol/port`: [`evaluate`]'s verdict without its text (the matrix's hot path).
pub fn accepts(fw: Option<&NodeFirewall>, source: &[IpNet], protocol: Protocol, port: u16) -> bool {
    fw.is_none_or(|fw| decide(fw, source, protocol, port).accepts())
}

/// Whether `fw` accepts `protocol/port` whatever the source (management access, or a port
/// claim no rule of the intent's comes before); a trusted-zone source is accepted too.
pub fn accepts_any_source(fw: Option<&NodeFirewall>, protocol: Protocol, port: u16) -> bool {
    fw.is_none_or(|fw| {
        fw.management.iter().any(|r| hits(r, protocol, port))
            || (!fw.user.iter().any(|o| hits(&o.range, protocol, port))
                && fw.cluster.iter().any(|o| hits(&o.range, protocol, port)))
    })
}

/// The verdict of `node`'s firewall (`fw`: `plan::firewall::node_firewall`, the model both
/// backends are rendered from; `None` without a `firewall:` section) on a connection from
/// `source` (the addresses the node sees, after any masquerade) to `protocol/port`.
pub fn evaluate(
    node: &NodePlan,
    fw: Option<&NodeFirewall>,
    source: &[IpNet],
    protocol: Protocol,
    port: u16,
) -> SideVerdict {
    let layer = Layer::NodeFirewall;
    let Some(fw) = fw else {
        return unmanaged(node);
    };
    let decider = |what: &str, span| Decider {
        policy: None,
        node: Some(node.name.clone()),
        what: what.to_owned(),
        span,
        line: None,
    };
    match decide(fw, source, protocol, port) {
        Decision::TrustedZone(t) => SideVerdict::allowed(
            layer,
            format!(
                "node {}: the source is in {t}, bound to firewalld's trusted zone",
                node.name
            ),
            vec![decider(
                &format!("trusted source {t} (pods and services)"),
                Default::default(),
            )],
        ),
        Decision::Management => SideVerdict::allowed(
            layer,
            format!("node {}: {protocol}/{port} is management access", node.name),
            vec![decider("managementAccess", Default::default())],
        ),
        Decision::Rule(rule) => {
            let what = format!("firewall rule {}", rule.comment);
            match rule.action {
                FirewallAction::Accept => SideVerdict::allowed(
                    layer,
                    format!("node {}: {what} accepts {protocol}/{port}", node.name),
                    vec![decider(&what, rule.origin)],
                ),
                FirewallAction::Drop => SideVerdict::denied(
                    layer,
                    format!("node {}: {what} drops {protocol}/{port}", node.name),
                    vec![decider(&what, rule.origin)],
                ),
            }
        }
        Decision::Claim(open) => {
            let on = match &open.interface {
                None => String::new(),
                Some(i) => format!(" (on interface {i})"),
            };
            SideVerdict::allowed(
                layer,
                format!(
                    "node {}: {protocol}/{port} is open for {}{on}",
                    node.name, open.comment
                ),
                vec![decider(
                    &format!("port claim of {}", open.comment),
                    open.origin,
                )],
            )
        }
        Decision::Trusted(t) => SideVerdict::allowed(
            layer,
            format!(
                "node {}: the source is in {t}, a trusted pod/service network",
                node.name
            ),
            vec![decider(
                &format!("trusted source {t} (pods and services)"),
                Default::default(),
            )],
        ),
        Decision::End => {
            let end = match fw.backend {
                FirewallBackend::Nftables => "the input chain's policy drop",
                FirewallBackend::Firewalld => "the zone's default target (reject)",
            };
            SideVerdict::denied(
                layer,
                format!(
                    "node {}: nothing accepts {protocol}/{port} from this source; {end}",
                    node.name
                ),
                vec![decider(end, Default::default())],
            )
        }
    }
}
