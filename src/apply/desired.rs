//! The desired host state of one node, derived from the Plan (and, for the few facts the Plan
//! leaves to the host such as which interface carries the node address, from what is observed).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::ApplyError;
use super::firewall::{Backend, FirewallSpec};
use super::observe::Observed;
pub use super::spec::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use crate::emit::firewall::{FirewalldEntry, firewalld_zone};
use crate::emit::{NodeArtifact, Target};
use crate::intent::{CniPlugin, FirewallBackend};
use crate::plan::firewall::node_firewall;
use crate::plan::{CNI_BRIDGE, ModuleRequirement, NodePlan, Plan, static_pod_routes};

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

/// The desired state of one node as the intent alone gives it: everything [`Desired`] holds
/// except the facts the Plan leaves to the host (which interface carries the node address when
/// the intent names none), plus what the probes need from the intent. A pure function of the
/// intent, the node and the file name the artifacts' headers name, so `apply::store::cache` can keep
/// it between runs; [`Derived::resolve`] completes it with what is observed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Derived {
    pub node: String,
    /// The node address (the management path; the VXLAN device's local address).
    address: Option<IpNet>,
    /// The management interface the intent declares.
    management_interface: Option<String>,
    /// The interfaces of this host the node's plan uses: the ones the node declares, the host
    /// overlay's underlay, the CNI's data-plane interface ([`Derived::check_host`]).
    #[serde(default)]
    interfaces: Vec<String>,
    /// The other nodes' addresses: a host holding one of them is that node, not this one.
    #[serde(default)]
    others: Vec<(String, IpAddr)>,
    /// Links netc creates, bridges first; the host overlay's VXLAN device is added by
    /// [`Derived::resolve`] (after them), once its underlay is known.
    links: Vec<LinkSpec>,
    overlay_device: Option<OverlayDevice>,
    mtus: Vec<(String, u32)>,
    addresses: Vec<AddressSpec>,
    routes: Vec<RouteSpec>,
    fdb: Vec<FdbSpec>,
    sysctls: Vec<(String, String)>,
    modules: Vec<ModuleRequirement>,
    firewall: Option<FirewallSpec>,
    #[serde(with = "contents")]
    files: HostFiles,
    /// Probe targets from the intent: up to three peer node addresses, and the API endpoint
    /// (`host:port`, resolved when probed).
    pub peers: Vec<IpAddr>,
    pub api_endpoint: Option<String>,
}

/// The host overlay's VXLAN device; `underlay: None` is the management interface.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct OverlayDevice {
    name: String,
    vni: u32,
    port: u16,
    local: Ipv4Addr,
    underlay: Option<String>,
    master: String,
}

/// Derives what `node` wants from the Plan and the node's installed artifacts
/// (`emit::node_artifacts`).
pub fn derive(
    plan: &Plan,
    node_name: &str,
    artifacts: &[NodeArtifact],
) -> Result<Derived, ApplyError> {
    let node = plan
        .node(node_name)
        .ok_or_else(|| ApplyError::UnknownNode {
            node: node_name.to_owned(),
            known: plan.nodes.iter().map(|n| n.name.clone()).collect(),
        })?;
    let Layer2 {
        links,
        addresses,
        fdb,
        overlay_device,
    } = layer2(plan, node)?;

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

    let interfaces = used_interfaces(plan, node);

    Ok(Derived {
        node: node.name.clone(),
        address: node.address,
        management_interface: node.management_interface().map(|i| i.name.clone()),
        interfaces,
        others: plan
            .nodes
            .iter()
            .filter(|n| n.name != node.name)
            .filter_map(|n| Some((n.name.clone(), n.ip()?)))
            .collect(),
        links,
        overlay_device,
        mtus,
        addresses,
        routes,
        fdb,
        sysctls,
        modules: node.modules.clone(),
        firewall,
        files,
        peers: plan
            .nodes
            .iter()
            .filter(|n| n.name != node.name)
            .filter_map(|n| n.ip())
            .take(3)
            .collect(),
        api_endpoint: plan.control_plane_endpoint.clone(),
    })
}

/// The links, addresses and forwarding entries a node's CNI bridge and host overlay need.
struct Layer2 {
    links: Vec<LinkSpec>,
    addresses: Vec<AddressSpec>,
    fdb: Vec<FdbSpec>,
    overlay_device: Option<OverlayDevice>,
}

/// [`Layer2`] of `node`: the CNI bridge (plugin `bridge`) with its gateways, and the host
/// overlay's bridge, VXLAN device, address and one forwarding entry per IPv4 peer.
fn layer2(plan: &Plan, node: &NodePlan) -> Result<Layer2, ApplyError> {
    let node_ip = node.ip();

    let mut links = Vec::new();
    let mut addresses = Vec::new();
    let mut fdb = Vec::new();
    let mut overlay_device = None;

    if plan.cni.plugin == CniPlugin::Bridge {
        links.push(LinkSpec::Bridge {
            name: CNI_BRIDGE.to_owned(),
        });
        addresses.extend(node.bridge_gateways.iter().map(|net| AddressSpec {
            link: CNI_BRIDGE.to_owned(),
            net: *net,
        }));
    }

    if let Some(overlay) = &plan.host_overlay {
        let Some(IpAddr::V4(local)) = node_ip else {
            return Err(ApplyError::OverlayNeedsIpv4 {
                node: node.name.clone(),
            });
        };
        links.push(LinkSpec::Bridge {
            name: overlay.bridge.clone(),
        });
        overlay_device = Some(OverlayDevice {
            name: overlay.device.clone(),
            vni: overlay.vni,
            port: overlay.port,
            local,
            underlay: overlay.underlay.clone(),
            master: overlay.bridge.clone(),
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
    Ok(Layer2 {
        links,
        addresses,
        fdb,
        overlay_device,
    })
}

/// The interfaces `node` declares, then those the plan uses that it does not declare (the
/// overlay's underlay, the CNI interface).
fn used_interfaces(plan: &Plan, node: &NodePlan) -> Vec<String> {
    let mut interfaces: Vec<String> = node.interfaces.iter().map(|i| i.name.clone()).collect();
    let used = [
        plan.host_overlay.as_ref().and_then(|o| o.underlay.clone()),
        plan.cni.interface.clone(),
    ];
    for name in used.into_iter().flatten() {
        if !interfaces.contains(&name) {
            interfaces.push(name);
        }
    }
    interfaces
}

impl Derived {
    /// Whether this host is the node: its address is on one of the host's interfaces (or, the
    /// address not being local yet, one of the interfaces it declares exists), and every
    /// interface its plan uses exists. Checked before any step: `--force` does not skip it.
    pub fn check_host(&self, observed: &Observed) -> Result<(), ApplyError> {
        use crate::diagnostic::code;
        let has = |name: &str| observed.link(name).is_some();
        if let Some(address) = self.address {
            let local = observed
                .addresses
                .iter()
                .any(|a| a.net.addr() == address.addr());
            let other = self.others.iter().find(|(_, ip)| {
                *ip != address.addr() && observed.addresses.iter().any(|a| a.net.addr() == *ip)
            });
            if let (false, Some((name, ip))) = (local, other) {
                return Err(ApplyError::WrongHost {
                    code: code::APPLY_NOT_THIS_NODE,
                    message: format!(
                        "this host is not node {}: it holds {ip}, node {name}'s address, not \
                         {}; run the apply with --node {name} here, or on node {}",
                        self.node,
                        address.addr(),
                        self.node
                    ),
                });
            }
            let declared_present = self.interfaces.iter().any(|i| has(i));
            if !local && !declared_present {
                let declared = if self.interfaces.is_empty() {
                    "it declares no interface".to_owned()
                } else {
                    format!(
                        "none of the interfaces it declares ({}) exists",
                        self.interfaces.join(", ")
                    )
                };
                return Err(ApplyError::WrongHost {
                    code: code::APPLY_NOT_THIS_NODE,
                    message: format!(
                        "this host is not node {}: no interface here holds its address {} and                          {declared}; run the apply on that node (an image build under --root                          may pass --assume-node)",
                        self.node,
                        address.addr()
                    ),
                });
            }
        }
        let missing: Vec<&str> = self
            .interfaces
            .iter()
            .map(String::as_str)
            .filter(|i| !has(i))
            .collect();
        if !missing.is_empty() {
            return Err(ApplyError::WrongHost {
                code: code::APPLY_MISSING_INTERFACE,
                message: format!(
                    "node {} uses interface(s) this host does not have: {} (create them, or fix                      the intent; an image build under --root may pass --assume-node)",
                    self.node,
                    missing.join(", ")
                ),
            });
        }
        Ok(())
    }

    /// The sysctl keys and file paths the desired state names (what to observe besides the
    /// kernel's objects).
    pub fn sysctl_keys(&self) -> impl Iterator<Item = &str> {
        self.sysctls.iter().map(|(k, _)| k.as_str())
    }

    pub fn file_paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn firewall(&self) -> Option<&FirewallSpec> {
        self.firewall.as_ref()
    }

    /// The desired state on this host: the management interface is the declared one, else
    /// the interface observed holding the node address; the VXLAN device's underlay is the
    /// declared one, else that interface.
    pub fn resolve(&self, observed: &Observed) -> Result<Desired, ApplyError> {
        let node_ip = self.address.map(|a| a.addr());
        let management_interface = self.management_interface.clone().or_else(|| {
            node_ip.and_then(|ip| {
                observed
                    .addresses
                    .iter()
                    .find(|a| a.net.addr() == ip)
                    .and_then(|a| observed.link_name(a.index).map(str::to_owned))
            })
        });
        let mut links = self.links.clone();
        if let Some(d) = &self.overlay_device {
            let underlay = d
                .underlay
                .clone()
                .or_else(|| management_interface.clone())
                .ok_or_else(|| ApplyError::NoUnderlay {
                    node: self.node.to_string(),
                    address: d.local.to_string(),
                })?;
            links.push(LinkSpec::Vxlan {
                name: d.name.clone(),
                vni: d.vni,
                port: d.port,
                local: d.local,
                underlay,
                master: Some(d.master.clone()),
            });
        }
        Ok(Desired {
            node: self.node.clone(),
            links,
            mtus: self.mtus.clone(),
            addresses: self.addresses.clone(),
            routes: self.routes.clone(),
            fdb: self.fdb.clone(),
            sysctls: self.sysctls.clone(),
            modules: self.modules.clone(),
            firewall: self.firewall.clone(),
            files: self.files.clone(),
            management: Management {
                address: self.address,
                interface: management_interface,
            },
        })
    }
}

/// File contents in the cache: text as a JSON string (every file netc emits is text), anything
/// else as an array of bytes.
mod contents {
    use super::HostFiles;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    #[serde(untagged)]
    enum Out<'a> {
        Text(&'a str),
        Bytes(&'a [u8]),
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum In {
        Text(String),
        Bytes(Vec<u8>),
    }

    pub fn serialize<S: Serializer>(files: &HostFiles, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(files.iter().map(|(path, bytes)| {
            let out = match std::str::from_utf8(bytes) {
                Ok(text) => Out::Text(text),
                Err(_) => Out::Bytes(bytes),
            };
            (path, out)
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<HostFiles, D::Error> {
        let files = std::collections::BTreeMap::<String, In>::deserialize(d)?;
        Ok(files
            .into_iter()
            .map(|(path, c)| {
                let bytes = match c {
                    In::Text(text) => text.into_bytes(),
                    In::Bytes(bytes) => bytes,
                };
                (path, bytes)
            })
            .collect())
    }
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
                    return Err(ApplyError::DuplicateFile {
                        path: host_path.to_string(),
                        node: node.name.to_string(),
                    });
                }
            }
            Target::NftRuleset => {
                let text =
                    String::from_utf8(a.contents.clone()).map_err(|_| ApplyError::NotUtf8 {
                        path: a.path.to_string(),
                    })?;
                if nft.replace(text).is_some() {
                    return Err(ApplyError::DuplicateRuleset {
                        node: node.name.to_string(),
                    });
                }
            }
        }
    }
    let Some(fw) = node_firewall(plan, node) else {
        return Ok((files, None));
    };
    let (backend, text) = match fw.backend {
        FirewallBackend::Nftables => {
            let text = nft.ok_or_else(|| ApplyError::NoRuleset {
                node: node.name.to_string(),
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
