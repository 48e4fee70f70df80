//! `firewall/<node>.firewalld.sh` (firewalld backend) or `firewall/<node>.nft` (nftables
//! backend), both rendered from the node's [`NodeFirewall`] (`plan::firewall`).
//!
//! The nftables table has policy drop on input (see `templates/firewall/netc.nft.j2`): a
//! firewall that only adds accepts to an accept policy protects nothing. It never locks the
//! operator out: established traffic, loopback, ICMP, DHCP replies and the management ports
//! come first. Forwarded (pod-to-pod) traffic is not filtered here; NetworkPolicies do that.
//! `apply` loads the `.nft` file exactly as emitted ([`Target::NftRuleset`]).
//!
//! The firewalld script and `apply`'s firewalld backend both come from [`firewalld_zone`]:
//! the script adds its [`FirewalldZone::entries`] with `firewall-cmd --permanent`, `apply`
//! adds (and removes) the same entries at run time and in the permanent configuration.

use ipnet::IpNet;
use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, Install, Target, text};
use crate::intent::values::{PortRange, Protocol};
use crate::intent::{FirewallAction, FirewallBackend, Role};
use crate::plan::firewall::{NodeFirewall, Opening, add_name, node_firewall};

/// The firewalld zone netc adds pod and service networks to as sources.
pub const TRUSTED_ZONE: &str = "trusted";

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    for node in ctx.nodes() {
        let Some(fw) = node_firewall(ctx.plan, node) else {
            return Ok(());
        };
        match fw.backend {
            FirewallBackend::Firewalld => {
                let path = crate::plan::artifacts::firewalld_script(&node.name);
                let script = FirewalldScript {
                    source: ctx.source,
                    node: &fw.node,
                    role: role_name(fw.role),
                    zone: firewalld_zone(&fw),
                };
                let text = text::render("firewall/firewalld.sh", &script)?;
                // Not installed: `apply` programs the zone from the same entries itself.
                sink.read_by(
                    &path,
                    crate::emit::Consumer::new(
                        crate::emit::Stage::Nodes,
                        "firewall-cmd (firewalld)",
                        format!("sh {path}"),
                    )
                    .at(format!("{}'s firewalld", node.name))
                    .noted("netc apply adds the same entries itself; the script is for doing it by hand"),
                );
                sink.put(path, text.into_bytes())?;
            }
            FirewallBackend::Nftables => {
                let path = format!("firewall/{}.nft", node.name);
                let text = text::render("firewall/netc.nft", &nft_file(ctx, &fw))?;
                sink.read_by(
                    &path,
                    crate::emit::Consumer::netc_apply("nftables (one nft -f transaction)"),
                );
                sink.put_installed(
                    path,
                    text.into_bytes(),
                    Install::on_node(&node.name, Target::NftRuleset),
                )?;
            }
        }
    }
    Ok(())
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::ControlPlane => "control-plane",
        Role::Worker => "worker",
    }
}

fn port_text(r: &PortRange) -> String {
    if r.first == r.last {
        r.first.to_string()
    } else {
        format!("{}-{}", r.first, r.last)
    }
}

/// `22/tcp`, `30000-32767/udp`: firewalld's `--add-port` form.
fn firewalld_port(r: &PortRange) -> String {
    format!("{}/{}", port_text(r), r.protocol)
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

/// A firewalld rich rule (firewalld.richlanguage) for a source-restricted or dropping opening,
/// in the form firewalld lists it back (`firewall/core/rich.py`, `Rich_Rule.__str__`).
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

/// Masquerade of a pod network's traffic to anywhere but the pod network, as firewalld lists
/// it back (`destination NOT`, upper case: `rich.py`, `Rich_Destination.__str__`).
fn masquerade_rule(n: &IpNet) -> String {
    format!(
        "rule family=\"{}\" source address=\"{n}\" destination NOT address=\"{n}\" masquerade",
        family(n)
    )
}

/// What kind of zone setting an entry is: the `--add-<kind>` / `--remove-<kind>` option of
/// `firewall-cmd` and the `--list-<kind>s` that reads it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirewalldKind {
    Port,
    Protocol,
    RichRule,
    Source,
}

impl FirewalldKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FirewalldKind::Port => "port",
            FirewalldKind::Protocol => "protocol",
            FirewalldKind::RichRule => "rich-rule",
            FirewalldKind::Source => "source",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "port" => FirewalldKind::Port,
            "protocol" => FirewalldKind::Protocol,
            "rich-rule" => FirewalldKind::RichRule,
            "source" => FirewalldKind::Source,
            _ => return None,
        })
    }
}

/// One setting of a firewalld zone, as `firewall-cmd --zone=ZONE --add-KIND=VALUE` sets it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FirewalldEntry {
    pub zone: String,
    pub kind: FirewalldKind,
    pub value: String,
    /// Who needs it (script comments only; not part of the entry's identity on the host).
    pub comment: Option<String>,
}

impl FirewalldEntry {
    fn new(zone: &str, kind: FirewalldKind, value: String, comment: Option<&str>) -> Self {
        Self {
            zone: zone.to_owned(),
            kind,
            value,
            comment: comment.map(str::to_owned),
        }
    }

    /// `ZONE KIND VALUE` on one line (zone names have no spaces: `validate::names`).
    pub fn line(&self) -> String {
        format!("{} {} {}", self.zone, self.kind.as_str(), self.value)
    }

    /// The entry of a [`Self::line`].
    pub fn parse(line: &str) -> Option<Self> {
        let mut parts = line.splitn(3, ' ');
        let zone = parts.next()?;
        let kind = FirewalldKind::parse(parts.next()?)?;
        let value = parts.next()?;
        (!zone.is_empty() && !value.is_empty())
            .then(|| Self::new(zone, kind, value.to_owned(), None))
    }
}

/// Everything netc puts into firewalld for one node, by section, in script order.
#[derive(Clone, Debug, Serialize)]
pub struct FirewalldZone {
    pub zone: String,
    pub management: Vec<FirewalldEntry>,
    pub cluster: Vec<FirewalldEntry>,
    pub protocols: Vec<FirewalldEntry>,
    pub user_ports: Vec<FirewalldEntry>,
    pub rich_rules: Vec<FirewalldEntry>,
    pub trusted_sources: Vec<FirewalldEntry>,
    pub masquerade: Vec<FirewalldEntry>,
}

impl FirewalldZone {
    /// Every entry, in the order the script adds them (management first).
    pub fn entries(&self) -> impl Iterator<Item = &FirewalldEntry> {
        self.management
            .iter()
            .chain(&self.cluster)
            .chain(&self.protocols)
            .chain(&self.user_ports)
            .chain(&self.rich_rules)
            .chain(&self.trusted_sources)
            .chain(&self.masquerade)
    }
}

/// The firewalld form of a node's firewall. firewalld opens a port for the whole zone, so
/// interface scopes collapse and each port appears once (management first).
pub fn firewalld_zone(fw: &NodeFirewall) -> FirewalldZone {
    let zone = fw.zone.as_str();
    let port = |r: &PortRange, comment: Option<&str>| {
        FirewalldEntry::new(zone, FirewalldKind::Port, firewalld_port(r), comment)
    };
    let management: Vec<FirewalldEntry> = fw.management.iter().map(|r| port(r, None)).collect();
    let seen = |v: &[FirewalldEntry], e: &FirewalldEntry| v.iter().any(|x| x.value == e.value);
    let mut cluster: Vec<FirewalldEntry> = Vec::new();
    for o in &fw.cluster {
        let entry = port(&o.range, Some(&o.comment));
        if seen(&management, &entry) {
            continue;
        }
        match cluster.iter_mut().find(|c| c.value == entry.value) {
            // The same port on two interfaces: one zone-wide opening serves both.
            Some(same) => {
                let names = same.comment.get_or_insert_with(String::new);
                for name in o.comment.split(", ") {
                    add_name(names, name);
                }
            }
            None => cluster.push(entry),
        }
    }
    let protocols = fw
        .protocols
        .iter()
        .map(|p| FirewalldEntry::new(zone, FirewalldKind::Protocol, p.as_str().to_owned(), None))
        .collect();
    let mut user_ports: Vec<FirewalldEntry> = Vec::new();
    let mut rich_rules = Vec::new();
    for o in &fw.user {
        if o.source.is_none() && o.action == FirewallAction::Accept {
            let entry = port(&o.range, Some(&o.comment));
            if !seen(&management, &entry) && !seen(&cluster, &entry) && !seen(&user_ports, &entry) {
                user_ports.push(entry);
            }
        } else {
            rich_rules.push(FirewalldEntry::new(
                zone,
                FirewalldKind::RichRule,
                rich_rule(o),
                Some(&o.comment),
            ));
        }
    }
    FirewalldZone {
        zone: fw.zone.clone(),
        management,
        cluster,
        protocols,
        user_ports,
        rich_rules,
        trusted_sources: fw
            .trusted
            .iter()
            .map(|n| FirewalldEntry::new(TRUSTED_ZONE, FirewalldKind::Source, n.to_string(), None))
            .collect(),
        masquerade: fw
            .masquerade
            .iter()
            .map(|n| FirewalldEntry::new(zone, FirewalldKind::RichRule, masquerade_rule(n), None))
            .collect(),
    }
}

/// The context of `templates/firewall/firewalld.sh.j2`.
#[derive(Serialize)]
struct FirewalldScript<'a> {
    source: &'a str,
    node: &'a str,
    role: &'static str,
    #[serde(flatten)]
    zone: FirewalldZone,
}

fn nft_file(ctx: Context<'_>, fw: &NodeFirewall) -> NftFile {
    let rule = |o: &Opening| NftRule {
        iifname: o.interface.clone(),
        family: o.source.as_ref().map(nft_family),
        saddr: o.source.map(|s| s.to_string()),
        proto: o.range.protocol.as_str(),
        ports: port_text(&o.range),
        action: match o.action {
            FirewallAction::Accept => "accept",
            FirewallAction::Drop => "drop",
        },
        comment: o.comment.clone(),
    };
    // The intent's drops come before the cluster's accepts so a `from` restriction holds;
    // validation rejects drops of ports the cluster needs (`netc::ports::blocked-required`).
    let mut rules: Vec<NftRule> = fw.user.iter().map(rule).collect();
    rules.extend(fw.cluster.iter().map(rule));
    let nets = |nets: &[IpNet]| {
        nets.iter()
            .map(|n| NftNet {
                family: nft_family(n),
                cidr: n.to_string(),
            })
            .collect()
    };
    NftFile {
        source: ctx.source.to_owned(),
        node: fw.node.clone(),
        role: role_name(fw.role),
        management: fw
            .management
            .iter()
            .map(|r| NftPort {
                proto: r.protocol.as_str(),
                ports: port_text(r),
            })
            .collect(),
        rules,
        protocols: fw.protocols.iter().map(|p| p.as_str()).collect(),
        trusted_sources: nets(&fw.trusted),
        masquerade: nets(&fw.masquerade),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_lines_read_back() {
        let e = FirewalldEntry::new(
            "public",
            FirewalldKind::RichRule,
            "rule family=\"ipv4\" source address=\"10.0.0.0/8\" port port=\"80\" protocol=\"tcp\" accept".into(),
            Some("web"),
        );
        let back = FirewalldEntry::parse(&e.line()).expect("parses");
        assert_eq!(
            (back.zone, back.kind, back.value),
            (e.zone, e.kind, e.value)
        );
        assert!(FirewalldEntry::parse("public port").is_none());
        assert!(FirewalldEntry::parse("public masquerade yes").is_none());
    }
}
