//! `firewall/<node>.firewalld.sh` (firewalld backend) or `firewall/<node>.nft` (nftables
//! backend): what each node must accept, in one fixed order: management access, the ports the
//! Plan claims for the node (Kubernetes, CNI, host overlay), the intent's rules for the node's
//! role, then pod and service traffic.
//!
//! The nftables table has policy drop on input (see `templates/firewall/netc.nft.j2`): a
//! firewall that only adds accepts to an accept policy protects nothing. It never locks the
//! operator out: established traffic, loopback, ICMP, DHCP replies and the management ports
//! come first. Forwarded (pod-to-pod) traffic is not filtered here; NetworkPolicies do that.

use std::collections::BTreeSet;

use ipnet::IpNet;
use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, text};
use crate::intent::values::{PortRange, Protocol};
use crate::intent::{CniPlugin, Encapsulation, FirewallAction, FirewallBackend, Role};
use crate::plan::{FirewallPlan, NodePlan, Plan, Scope};

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let Some(fw) = &ctx.plan.firewall else {
        return Ok(());
    };
    for node in ctx.nodes() {
        let rules = NodeRules::new(ctx.plan, fw, node);
        match fw.backend {
            FirewallBackend::Firewalld => {
                let path = format!("firewall/{}.firewalld.sh", node.name);
                let text = text::render("firewall/firewalld.sh", &rules.firewalld(ctx, fw))?;
                sink.put(path, text.into_bytes())?;
            }
            FirewallBackend::Nftables => {
                let path = format!("firewall/{}.nft", node.name);
                let text = text::render("firewall/netc.nft", &rules.nft(ctx))?;
                sink.put(path, text.into_bytes())?;
            }
        }
    }
    Ok(())
}

/// One opening: a port range, maybe only from one source network or on one interface.
#[derive(Clone, Debug)]
struct Opening {
    range: PortRange,
    source: Option<IpNet>,
    interface: Option<String>,
    action: FirewallAction,
    /// Who needs it (component or rule name).
    comment: String,
}

/// Everything node `node` accepts, backend-neutral.
struct NodeRules<'a> {
    node: &'a NodePlan,
    management: Vec<PortRange>,
    /// The Plan's port claims, one per distinct range and scope, in claim order.
    cluster: Vec<Opening>,
    /// The intent's rules that apply to this node's role, in intent order.
    user: Vec<Opening>,
    /// IP protocols (not ports) the data path needs.
    protocols: Vec<&'static str>,
    /// Pod and service networks: traffic from them is cluster-internal.
    trusted: Vec<IpNet>,
    /// Pod networks masqueraded towards the outside (bridge plugin only; other CNIs do it).
    masquerade: Vec<IpNet>,
}

impl<'a> NodeRules<'a> {
    fn new(plan: &Plan, fw: &FirewallPlan, node: &'a NodePlan) -> Self {
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
                Some(o) => {
                    if !o.comment.split(", ").any(|c| c == claim.component) {
                        o.comment.push_str(", ");
                        o.comment.push_str(&claim.component);
                    }
                }
                None => cluster.push(Opening {
                    range: claim.range,
                    source: None,
                    interface,
                    action: FirewallAction::Accept,
                    comment: claim.component.clone(),
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
                    });
                }
            }
        }
        let mut protocols = Vec::new();
        if plan.cni.encapsulation == Encapsulation::Ipip
            && matches!(plan.cni.plugin, CniPlugin::Calico)
        {
            protocols.push("ipip");
        }
        let mut trusted: Vec<IpNet> = plan.pod_cidrs.clone();
        trusted.extend(plan.service_cidrs.iter().copied());
        let masquerade = if plan.cni.plugin == CniPlugin::Bridge {
            plan.pod_cidrs.clone()
        } else {
            Vec::new()
        };
        NodeRules {
            node,
            management: dedup(fw.management.clone()),
            cluster,
            user,
            protocols,
            trusted,
            masquerade,
        }
    }

    fn firewalld(&self, ctx: Context<'_>, fw: &FirewallPlan) -> FirewalldScript {
        let management: Vec<String> = self.management.iter().map(firewalld_port).collect();
        // firewalld opens a port for the whole zone: interface scopes collapse.
        let mut seen: BTreeSet<String> = management.iter().cloned().collect();
        let mut cluster: Vec<Commented> = Vec::new();
        for o in &self.cluster {
            let port = firewalld_port(&o.range);
            if seen.insert(port.clone()) {
                cluster.push(Commented {
                    port,
                    comment: o.comment.clone(),
                });
            } else if let Some(same) = cluster.iter_mut().find(|c| c.port == port) {
                // The same port on two interfaces: one zone-wide opening serves both.
                for name in o.comment.split(", ") {
                    if !same.comment.split(", ").any(|c| c == name) {
                        same.comment.push_str(", ");
                        same.comment.push_str(name);
                    }
                }
            }
        }
        let mut user_ports = Vec::new();
        let mut rich_rules = Vec::new();
        for o in &self.user {
            if o.source.is_none() && o.action == FirewallAction::Accept {
                let port = firewalld_port(&o.range);
                if seen.insert(port.clone()) {
                    user_ports.push(Commented {
                        port,
                        comment: o.comment.clone(),
                    });
                }
            } else {
                rich_rules.push(RichRule {
                    rule: rich_rule(o),
                    comment: o.comment.clone(),
                });
            }
        }
        FirewalldScript {
            source: ctx.source.to_owned(),
            node: self.node.name.clone(),
            role: role_name(self.node.role),
            zone: fw.zone.clone(),
            management,
            cluster,
            protocols: self.protocols.clone(),
            user_ports,
            rich_rules,
            trusted_sources: self.trusted.iter().map(ToString::to_string).collect(),
            masquerade: self
                .masquerade
                .iter()
                .map(|n| {
                    format!(
                        "rule family=\"{fam}\" source address=\"{n}\" destination not address=\"{n}\" masquerade",
                        fam = family(n)
                    )
                })
                .collect(),
        }
    }

    fn nft(&self, ctx: Context<'_>) -> NftFile {
        let rule = |o: &Opening| NftRule {
            iifname: o.interface.clone(),
            family: o.source.as_ref().map(nft_family),
            saddr: o.source.map(|s| s.to_string()),
            proto: o.range.protocol.as_str(),
            ports: nft_ports(&o.range),
            action: match o.action {
                FirewallAction::Accept => "accept",
                FirewallAction::Drop => "drop",
            },
            comment: o.comment.clone(),
        };
        // The intent's drops come before the cluster's accepts so a `from` restriction holds;
        // validation rejects drops of ports the cluster needs (`netc::ports::blocked-required`).
        let mut rules: Vec<NftRule> = self.user.iter().map(rule).collect();
        rules.extend(self.cluster.iter().map(rule));
        NftFile {
            source: ctx.source.to_owned(),
            node: self.node.name.clone(),
            role: role_name(self.node.role),
            management: self
                .management
                .iter()
                .map(|r| NftPort {
                    proto: r.protocol.as_str(),
                    ports: nft_ports(r),
                })
                .collect(),
            rules,
            protocols: self.protocols.clone(),
            trusted_sources: self
                .trusted
                .iter()
                .map(|n| NftNet {
                    family: nft_family(n),
                    cidr: n.to_string(),
                })
                .collect(),
            masquerade: self
                .masquerade
                .iter()
                .map(|n| NftNet {
                    family: nft_family(n),
                    cidr: n.to_string(),
                })
                .collect(),
        }
    }
}

fn dedup(mut ranges: Vec<PortRange>) -> Vec<PortRange> {
    let mut seen = BTreeSet::new();
    ranges.retain(|r| seen.insert(*r));
    ranges
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::ControlPlane => "control-plane",
        Role::Worker => "worker",
    }
}

/// `22/tcp`, `30000-32767/udp`: firewalld's `--add-port` form.
fn firewalld_port(r: &PortRange) -> String {
    format!("{}/{}", port_text(r), r.protocol)
}

fn port_text(r: &PortRange) -> String {
    if r.first == r.last {
        r.first.to_string()
    } else {
        format!("{}-{}", r.first, r.last)
    }
}

fn nft_ports(r: &PortRange) -> String {
    port_text(r)
}

fn family(n: &IpNet) -> &'static str {
    match n {
        IpNet::V4(_) => "ipv4",
        IpNet::V6(_) => "ipv6",
    }
}

fn nft_family(n: &IpNet) -> &'static str {
    match n {
        IpNet::V4(_) => "ip",
        IpNet::V6(_) => "ip6",
    }
}

/// A firewalld rich rule (firewalld.richlanguage): source-restricted or dropping openings.
fn rich_rule(o: &Opening) -> String {
    let mut rule = String::from("rule");
    if let Some(source) = &o.source {
        rule.push_str(&format!(
            " family=\"{}\" source address=\"{source}\"",
            family(source)
        ));
    }
    let protocol = match o.range.protocol {
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
    };
    rule.push_str(&format!(
        " port port=\"{}\" protocol=\"{protocol}\"",
        port_text(&o.range)
    ));
    rule.push_str(match o.action {
        FirewallAction::Accept => " accept",
        FirewallAction::Drop => " drop",
    });
    rule
}

#[derive(Serialize)]
struct Commented {
    port: String,
    comment: String,
}

#[derive(Serialize)]
struct RichRule {
    rule: String,
    comment: String,
}

/// The context of `templates/firewall/firewalld.sh.j2`.
#[derive(Serialize)]
struct FirewalldScript {
    source: String,
    node: String,
    role: &'static str,
    zone: String,
    management: Vec<String>,
    cluster: Vec<Commented>,
    protocols: Vec<&'static str>,
    user_ports: Vec<Commented>,
    rich_rules: Vec<RichRule>,
    trusted_sources: Vec<String>,
    masquerade: Vec<String>,
}

#[derive(Serialize)]
struct NftPort {
    proto: &'static str,
    ports: String,
}

#[derive(Serialize)]
struct NftRule {
    iifname: Option<String>,
    family: Option<&'static str>,
    saddr: Option<String>,
    proto: &'static str,
    ports: String,
    action: &'static str,
    comment: String,
}

#[derive(Serialize)]
struct NftNet {
    family: &'static str,
    cidr: String,
}

/// The context of `templates/firewall/netc.nft.j2`.
#[derive(Serialize)]
struct NftFile {
    source: String,
    node: String,
    role: &'static str,
    management: Vec<NftPort>,
    rules: Vec<NftRule>,
    protocols: Vec<&'static str>,
    trusted_sources: Vec<NftNet>,
    masquerade: Vec<NftNet>,
}
