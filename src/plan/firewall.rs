//! The firewall of one node, backend-independent: what it accepts, in one fixed order, and
//! what it masquerades. `emit::firewall` renders it as an nftables table or a firewalld script,
//! and `apply` programs firewalld from the same model, so the two backends and the two commands
//! cannot disagree.
//!
//! Order: management access first (nothing after it may close it), the ports the Plan claims
//! for the node (Kubernetes, CNI, host overlay), the intent's rules for the node's role, the
//! IP protocols the data path needs, then pod and service networks as trusted sources.

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde::Serialize;

use super::{NodePlan, Plan, PluginSettings, PoolEncap, Scope};
use crate::intent::values::PortRange;
use crate::intent::{FirewallAction, FirewallBackend, Role, Span};

/// Everything one node's firewall accepts and masquerades.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodeFirewall {
    pub node: String,
    pub role: Role,
    pub backend: FirewallBackend,
    /// The firewalld zone (firewalld only).
    pub zone: String,
    /// `managementAccess`, without duplicates, in intent order.
    pub management: Vec<PortRange>,
    /// The node's port claims, one opening per distinct range and interface, in claim order.
    pub cluster: Vec<Opening>,
    /// The intent's rules for the node's role, one opening per port and source, in intent order.
    pub user: Vec<Opening>,
    /// IP protocols (not ports) the data path needs.
    pub protocols: Vec<IpProtocol>,
    /// Pod and service networks: traffic from them is cluster-internal.
    pub trusted: Vec<IpNet>,
    /// Pod networks the host masquerades when their traffic leaves the pod network
    /// (`plan::masquerade::node_masquerade`, the bridge plugin's): nftables `ip saddr NET
    /// ip daddr != NET masquerade` in the `postrouting` chain (`templates/firewall/netc.nft.j2`),
    /// firewalld the rich rule `source address=NET destination NOT address=NET masquerade`.
    pub masquerade: Vec<IpNet>,
}

/// One opening: a port range, maybe only from one source network or on one interface.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Opening {
    pub range: PortRange,
    pub source: Option<IpNet>,
    pub interface: Option<String>,
    pub action: FirewallAction,
    /// Who needs it: the components (`kubelet`, `calico VXLAN, host overlay VXLAN`) or the
    /// rule's name.
    pub comment: String,
    /// The intent value it comes from: the first claim's origin, or the rule's name.
    #[serde(skip)]
    pub origin: Span,
}

/// An IP protocol the node must accept as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IpProtocol {
    /// IP-in-IP (protocol 4): Calico's IPIP encapsulation.
    Ipip,
}

impl IpProtocol {
    /// The name nft (`meta l4proto ipip`) and firewalld (`--add-protocol=ipip`) both read,
    /// from /etc/protocols.
    pub fn as_str(self) -> &'static str {
        match self {
            IpProtocol::Ipip => "ipip",
        }
    }
}

/// Whether the node itself must masquerade pod traffic leaving the pod network: with the
/// reference `bridge` plugin, whose conflist netc writes with `ipMasq: false` (`emit::cni`):
/// with `ipMasq` the plugin would masquerade everything leaving the node's own subnet, other
/// nodes' pods included (containernetworking/plugins `plugins/main/bridge/bridge.go`,
/// `ip.SetupIPMasq` for the pod's own subnet). `natOutgoing: false` turns it off
/// (`BridgeSettings::masquerade`). Flannel, Calico, Canal and Cilium masquerade themselves
/// (`plan::masquerade`).
pub fn host_masquerades(plan: &Plan) -> bool {
    matches!(&plan.cni.settings, PluginSettings::Bridge(b) if b.masquerade)
}

/// Whether the data path carries IP-in-IP (protocol 4): a Calico pool with IPIP
/// encapsulation. Calico's IPIP pools have no cross-subnet form in `PoolEncap`.
fn carries_ipip(plan: &Plan) -> bool {
    matches!(&plan.cni.settings, PluginSettings::Calico(c)
        if c.pools.iter().any(|p| p.encapsulation == PoolEncap::Ipip))
}

/// The firewall of `node`, `None` when the intent has no `firewall:` section.
pub fn node_firewall(plan: &Plan, node: &NodePlan) -> Option<NodeFirewall> {
    let fw = plan.firewall.as_ref()?;
    let mut cluster: Vec<Opening> = Vec::new();
    for claim in &node.ports {
        let interface = match &claim.scope {
            Scope::All => None,
            Scope::Interface(i) => Some(i.clone()),
        };
        let same = cluster
            .iter_mut()
            .find(|o| o.range == claim.range && o.interface == interface);
        match same {
            Some(o) => add_name(&mut o.comment, &claim.component),
            None => cluster.push(Opening {
                range: claim.range,
                source: None,
                interface,
                action: FirewallAction::Accept,
                comment: claim.component.clone(),
                origin: claim.origin,
            }),
        }
    }
    let mut user = Vec::new();
    for rule in fw.rules.iter().filter(|r| r.applies_to(node.role)) {
        for range in &rule.ports {
            let sources: Vec<Option<IpNet>> = if rule.from.is_empty() {
                vec![None]
            } else {
                rule.from.iter().copied().map(Some).collect()
            };
            for source in sources {
                user.push(Opening {
                    range: *range,
                    source,
                    interface: None,
                    action: rule.action,
                    comment: rule.name.clone(),
                    origin: rule.span,
                });
            }
        }
    }
    let mut protocols = Vec::new();
    if carries_ipip(plan) {
        protocols.push(IpProtocol::Ipip);
    }
    let mut trusted: Vec<IpNet> = plan.pod_cidrs.clone();
    trusted.extend(plan.service_cidrs.iter().copied());
    // Only netc's own bridge masquerade is a firewall rule: don't build the node's whole
    // masquerade (every node's addresses for Cilium) per node just to find that out.
    let masquerade = if host_masquerades(plan) {
        super::masquerade::node_masquerade(plan, node).firewall_networks()
    } else {
        Vec::new()
    };
    let mut seen = BTreeSet::new();
    let management = fw
        .management
        .iter()
        .copied()
        .filter(|r| seen.insert(*r))
        .collect();
    Some(NodeFirewall {
        node: node.name.clone(),
        role: node.role,
        backend: fw.backend,
        zone: fw.zone.clone(),
        management,
        cluster,
        user,
        protocols,
        trusted,
        masquerade,
    })
}

/// Appends `name` to a `, `-separated list of names unless it is there already.
pub fn add_name(list: &mut String, name: &str) {
    if !list.split(", ").any(|c| c == name) {
        list.push_str(", ");
        list.push_str(name);
    }
}
