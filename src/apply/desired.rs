//! The desired host state of one node, derived from the Plan (and, for the few facts the Plan
//! leaves to the host such as which interface carries the node address, from what is observed).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::ApplyError;
use super::firewall::{Backend, FirewallSpec};
use super::observe::Observed;
use crate::emit::firewall::{FirewalldEntry, firewalld_zone};
use crate::emit::{NodeArtifact, Target};
use crate::intent::{CniPlugin, FirewallBackend};
use crate::plan::firewall::node_firewall;
use crate::plan::{ModuleRequirement, NodePlan, Plan, nth_address, static_pod_routes};

/// The Linux bridge the reference CNI bridge plugin attaches pods to.
pub const CNI_BRIDGE: &str = "cni0";

/// A link netc creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LinkSpec {
    Bridge {
        name: String,
    },
    Vxlan {
        name: String,
        vni: u32,
        port: u16,
        local: Ipv4Addr,
        underlay: String,
        /// The bridge the device is a port of.
        master: Option<String>,
    },
}

impl LinkSpec {
    pub fn name(&self) -> &str {
        match self {
            LinkSpec::Bridge { name } | LinkSpec::Vxlan { name, .. } => name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            LinkSpec::Bridge { .. } => "bridge",
            LinkSpec::Vxlan { .. } => "vxlan",
        }
    }

    pub fn master(&self) -> Option<&str> {
        match self {
            LinkSpec::Bridge { .. } => None,
            LinkSpec::Vxlan { master, .. } => master.as_deref(),
        }
    }
}

/// An address on a link.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AddressSpec {
    pub link: String,
    pub net: IpNet,
}

/// A gateway route in the main table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteSpec {
    pub destination: IpNet,
    pub via: IpAddr,
}

/// An all-zeros forwarding entry: broadcast and unknown traffic of a VXLAN device goes to `destination`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FdbSpec {
    pub link: String,
    pub destination: IpAddr,
}

/// What the management path of the node is: never removed, never re-MTU'd without `--force`.
#[derive(Clone, Debug, Default)]
pub struct Management {
    pub address: Option<IpNet>,
    /// The interface carrying the management address (declared or observed).
    pub interface: Option<String>,
}

/// Everything netc wants on one node.
#[derive(Clone, Debug)]
pub struct Desired {
    pub node: String,
    /// Links netc creates, bridges before the devices enslaved to them.
    pub links: Vec<LinkSpec>,
    /// MTUs of existing interfaces the intent declares.
    pub mtus: Vec<(String, u32)>,
    pub addresses: Vec<AddressSpec>,
    pub routes: Vec<RouteSpec>,
    pub fdb: Vec<FdbSpec>,
    /// `(key, value)`, e.g. `("net.ipv4.ip_forward", "1")`.
    pub sysctls: Vec<(String, String)>,
    pub modules: Vec<ModuleRequirement>,
    pub firewall: Option<FirewallSpec>,
    /// Host path (absolute, before `--root`) → contents: the node's installed artifacts.
    pub files: BTreeMap<String, Vec<u8>>,
    pub management: Management,
}

/// Builds the desired state of `node`. `artifacts` are the node's installed artifacts
/// (`emit::node_artifacts`).
pub fn desired(
    plan: &Plan,
    node_name: &str,
    artifacts: &[NodeArtifact],
    observed: &Observed,
) -> Result<Desired, ApplyError> {
    let node = plan
        .node(node_name)
        .ok_or_else(|| ApplyError::UnknownNode {
            node: node_name.to_owned(),
            known: plan.nodes.iter().map(|n| n.name.clone()).collect(),
        })?;
    let node_ip = node.ip();
    let management_interface = node
        .management_interface()
        .map(|i| i.name.clone())
        .or_else(|| {
            node_ip.and_then(|ip| {
                observed
                    .addresses
                    .iter()
                    .find(|a| a.net.addr() == ip)
                    .and_then(|a| observed.link_name(a.index).map(str::to_owned))
            })
        });

    let mut links = Vec::new();
    let mut addresses = Vec::new();
    let mut fdb = Vec::new();

    if plan.cni.plugin == CniPlugin::Bridge {
        links.push(LinkSpec::Bridge {
            name: CNI_BRIDGE.to_owned(),
        });
        // The gateway address host-local hands to pods (the subnet's first host), so the
        // node routes to its own pods before the first pod starts.
        for cidr in &node.pod_cidrs {
            if let Some(gw) = nth_address(cidr, 1)
                && let Ok(net) = IpNet::new(gw, cidr.prefix_len())
            {
                addresses.push(AddressSpec {
                    link: CNI_BRIDGE.to_owned(),
                    net,
                });
            }
        }
    }

    if let Some(overlay) = &plan.host_overlay {
        let Some(IpAddr::V4(local)) = node_ip else {
            return Err(ApplyError::Unsupported(format!(
                "the host overlay needs an IPv4 node address; node {node_name} has none"
            )));
        };
        let underlay = overlay
            .underlay
            .clone()
            .or_else(|| management_interface.clone())
            .ok_or_else(|| {
                ApplyError::Unsupported(format!(
                    "no interface of node {node_name} holds its address {local}: name the \
                     underlay in hostOverlay.vxlan.interface"
                ))
            })?;
        links.push(LinkSpec::Bridge {
            name: overlay.bridge.clone(),
        });
        links.push(LinkSpec::Vxlan {
            name: overlay.device.clone(),
            vni: overlay.vni,
            port: overlay.port,
            local,
            underlay,
            master: Some(overlay.bridge.clone()),
        });
        if let Some(addr) = node.overlay_address {
            addresses.push(AddressSpec {
                link: overlay.bridge.clone(),
                net: addr,
            });
        }
        for peer in plan.nodes.iter().filter(|n| n.name != node.name) {
            if let Some(ip @ IpAddr::V4(_)) = peer.ip() {
                fdb.push(FdbSpec {
                    link: overlay.device.clone(),
                    destination: ip,
                });
            }
        }
    }

    let routes = if static_pod_routes(plan) {
        node.routes
            .iter()
            .map(|r| RouteSpec {
                destination: r.destination,
                via: r.via,
            })
            .collect()
    } else {
        Vec::new()
    };

    let mtus = node
        .interfaces
        .iter()
        .filter(|i| i.mtu_declared)
        .map(|i| (i.name.clone(), i.mtu))
        .collect();

    let sysctls = node
        .sysctls
        .iter()
        .map(|s| (s.key.clone(), s.value.clone()))
        .collect();

    let (files, firewall) = installed(plan, node, artifacts)?;

    Ok(Desired {
        node: node.name.clone(),
        links,
        mtus,
        addresses,
        routes,
        fdb,
        sysctls,
        modules: node.modules.clone(),
        firewall,
        files,
        management: Management {
            address: node.address,
            interface: management_interface,
        },
    })
}

/// Host path (absolute, before `--root`) → contents.
type HostFiles = BTreeMap<String, Vec<u8>>;

/// The files `node` installs (host path -> contents) and the firewall it loads, from the
/// node's artifacts; firewalld gets the entries of the model the emitted script comes from.
fn installed(
    plan: &Plan,
    node: &NodePlan,
    artifacts: &[NodeArtifact],
) -> Result<(HostFiles, Option<FirewallSpec>), ApplyError> {
    let mut files = BTreeMap::new();
    let mut nft = None;
    for a in artifacts {
        match &a.target {
            Target::File(host_path) => {
                if files
                    .insert(host_path.clone(), a.contents.clone())
                    .is_some()
                {
                    return Err(ApplyError::Unsupported(format!(
                        "two artifacts install to {host_path} on node {}",
                        node.name
                    )));
                }
            }
            Target::NftRuleset => {
                let text = String::from_utf8(a.contents.clone()).map_err(|_| {
                    ApplyError::Unsupported(format!("{} is not UTF-8 text", a.path))
                })?;
                if nft.replace(text).is_some() {
                    return Err(ApplyError::Unsupported(format!(
                        "two nftables rulesets for node {}",
                        node.name
                    )));
                }
            }
        }
    }
    let Some(fw) = node_firewall(plan, node) else {
        return Ok((files, None));
    };
    let (backend, text) = match fw.backend {
        FirewallBackend::Nftables => {
            let text = nft.ok_or_else(|| {
                ApplyError::Unsupported(format!(
                    "emit produced no nftables ruleset for node {}",
                    node.name
                ))
            })?;
            (Backend::Nftables, text)
        }
        FirewallBackend::Firewalld => {
            let zone = firewalld_zone(&fw);
            let lines: Vec<String> = zone.entries().map(FirewalldEntry::line).collect();
            (Backend::Firewalld, lines.join("\n") + "\n")
        }
    };
    Ok((
        files,
        Some(FirewallSpec {
            backend,
            zone: fw.zone,
            text,
        }),
    ))
}
