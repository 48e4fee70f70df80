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
    let trusted_hit = fw.trusted.iter().find(|t| inside(t, source));
    if fw.backend == FirewallBackend::Firewalld
        && let Some(t) = trusted_hit
    {
        return SideVerdict::allowed(
            layer,
            format!(
                "node {}: the source is in {t}, bound to firewalld's trusted zone",
                node.name
            ),
            vec![decider(
                &format!("trusted source {t} (pods and services)"),
                Default::default(),
            )],
        );
    }
    if fw.management.iter().any(|r| hits(r, protocol, port)) {
        return SideVerdict::allowed(
            layer,
            format!("node {}: {protocol}/{port} is management access", node.name),
            vec![decider("managementAccess", Default::default())],
        );
    }
    let matching = fw
        .user
        .iter()
        .filter(|o| hits(&o.range, protocol, port) && o.source.is_none_or(|s| inside(&s, source)));
    // nftables: the first matching rule decides; firewalld: a drop rich rule beats accepts.
    let chosen: Option<&Opening> = match fw.backend {
        FirewallBackend::Nftables => matching.into_iter().next(),
        FirewallBackend::Firewalld => {
            let all: Vec<&Opening> = matching.collect();
            all.iter()
                .find(|o| o.action == FirewallAction::Drop)
                .or(all.first())
                .copied()
        }
    };
    if let Some(rule) = chosen {
        let what = format!("firewall rule {}", rule.comment);
        return match rule.action {
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
        };
    }
    if let Some(open) = fw.cluster.iter().find(|o| hits(&o.range, protocol, port)) {
        let on = match &open.interface {
            None => String::new(),
            Some(i) => format!(" (on interface {i})"),
        };
        return SideVerdict::allowed(
            layer,
            format!(
                "node {}: {protocol}/{port} is open for {}{on}",
                node.name, open.comment
            ),
            vec![decider(
                &format!("port claim of {}", open.comment),
                open.origin,
            )],
        );
    }
    if let Some(t) = trusted_hit {
        return SideVerdict::allowed(
            layer,
            format!(
                "node {}: the source is in {t}, a trusted pod/service network",
                node.name
            ),
            vec![decider(
                &format!("trusted source {t} (pods and services)"),
                Default::default(),
            )],
        );
    }
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
