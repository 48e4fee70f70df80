//! Reads the current host state: links, addresses, routes and VXLAN forwarding entries over
//! netlink, netc's part of the firewall, the sysctls and files netc manages.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::ApplyError;
use super::host::netlink::{Address, Fdb, Link, Mac, Netlink, Route};
use super::host::{files, sysctl};
use super::spec::LinkSpec;

/// The host as it is now.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    pub routes: Vec<Route>,
    pub fdb: Vec<Fdb>,
    /// Key → current value (`None`: the key does not exist on this kernel).
    pub sysctls: BTreeMap<String, Option<String>>,
    /// The nftables table `inet netc` as `nft list` prints it (`None`: absent).
    pub firewall_nft: Option<String>,
    /// The nftables generation `firewall_nft` holds for (`None`: unknown, or it moved while
    /// the table was listed).
    pub nft_generation: Option<super::firewall::generation::Generation>,
    /// The firewalld zone's ports and rich rules in netc's text form (read only when used).
    pub firewall_firewalld: Option<String>,
    /// Host path → current contents (`None`: absent).
    pub files: BTreeMap<String, Option<Vec<u8>>>,
    /// Host paths of `files` readable by more than netc installs them for
    /// ([`files::too_open`]: a file holding credentials that others may read).
    pub too_open: BTreeSet<String>,
}

impl Observed {
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }

    pub fn link_name(&self, index: u32) -> Option<&str> {
        self.links
            .iter()
            .find(|l| l.index == index)
            .map(|l| l.name.as_str())
    }

    /// The spec of an existing link, if netc can recreate it (bridge or VXLAN).
    pub fn spec_of(&self, link: &Link) -> Option<LinkSpec> {
        match link.kind.as_deref() {
            Some("bridge") => Some(LinkSpec::Bridge {
                name: link.name.clone(),
            }),
            Some("vxlan") => {
                let v = link.vxlan.as_ref()?;
                Some(LinkSpec::Vxlan {
                    name: link.name.clone(),
                    vni: v.vni,
                    port: v.port,
                    local: v.local?,
                    underlay: self.link_name(v.underlay?)?.to_owned(),
                    master: link
                        .master
                        .and_then(|m| self.link_name(m))
                        .map(str::to_owned),
                })
            }
            _ => None,
        }
    }
}

/// Whether `link` is the link `id` names (`Err`: why not). The one place that decides "is this
/// the same link", for a state entry, a link to delete or restore, and a desired link that
/// exists. A name alone proves nothing: the kind, then the index and MAC where known, then the
/// parameters `params` names are compared.
pub fn identify(
    id: &LinkIdentity<'_>,
    link: &Link,
    params: Parameters<'_>,
) -> Result<(), Mismatch> {
    let kind = link.kind.as_deref().unwrap_or("device");
    if kind != id.spec.kind() {
        return Err(Mismatch::Kind {
            is: kind.to_owned(),
            was: id.spec.kind(),
        });
    }
    if let Some(was) = id.index.filter(|i| *i != link.index) {
        return Err(Mismatch::Index {
            is: link.index,
            was,
        });
    }
    if let Some(was) = id.mac.filter(|m| link.mac != Some(*m)) {
        return Err(Mismatch::Mac { is: link.mac, was });
    }
    let (observed, underlay_counts) = match params {
        Parameters::Kind => return Ok(()),
        Parameters::Recorded(o) => (o, false),
        Parameters::All(o) => (o, true),
    };
    let same = match (id.spec, observed.spec_of(link)) {
        (LinkSpec::Bridge { .. }, Some(LinkSpec::Bridge { .. })) => true,
        (
            LinkSpec::Vxlan {
                vni,
                port,
                local,
                underlay,
                ..
            },
            Some(LinkSpec::Vxlan {
                vni: v2,
                port: p2,
                local: l2,
                underlay: u2,
                ..
            }),
        ) => *vni == v2 && *port == p2 && *local == l2 && (!underlay_counts || *underlay == u2),
        _ => false,
    };
    if same {
        Ok(())
    } else {
        Err(Mismatch::Parameters)
    }
}

/// Which link a state entry, a snapshot or a desired spec names: its kind and parameters, and,
/// once known, its index and MAC.
#[derive(Clone, Copy, Debug)]
pub struct LinkIdentity<'a> {
    pub spec: &'a LinkSpec,
    pub index: Option<u32>,
    pub mac: Option<Mac>,
}

impl<'a> LinkIdentity<'a> {
    /// A desired link: its spec alone.
    pub fn of_spec(spec: &'a LinkSpec) -> Self {
        Self {
            spec,
            index: None,
            mac: None,
        }
    }
}

/// Which of a link's parameters [`identify`] compares beyond its kind, read from the host as
/// observed.
#[derive(Clone, Copy, Debug)]
pub enum Parameters<'a> {
    /// None (a snapshot taken of the link as it was: kind, index and MAC suffice).
    Kind,
    /// A VXLAN's VNI, port and local address (a state entry: its underlay is not part of the
    /// identity).
    Recorded(&'a Observed),
    /// Everything netc creates it with, the underlay too (whether an existing link is the
    /// desired one, apart from its bridge membership).
    All(&'a Observed),
}

/// Why a link is not the one named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mismatch {
    Kind { is: String, was: &'static str },
    Index { is: u32, was: u32 },
    Mac { is: Option<Mac>, was: Mac },
    Parameters,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mismatch::Kind { is, was } => write!(f, "it is a {is}, netc created a {was}"),
            Mismatch::Index { is, was } => write!(f, "its index is {is}, netc's had {was}"),
            Mismatch::Mac { is, was } => match is {
                Some(is) => write!(f, "its MAC is {is}, netc's had {was}"),
                None => write!(f, "its MAC is none, netc's had {was}"),
            },
            Mismatch::Parameters => f.write_str("its parameters differ"),
        }
    }
}

/// Reads the kernel's links, addresses, routes and forwarding entries.
pub fn observe_kernel(nl: &mut Netlink) -> Result<Observed, ApplyError> {
    let dump = |what: &str, e: std::io::Error| ApplyError::Netlink {
        object: format!("dump of {what}"),
        source: e,
    };
    Ok(Observed {
        links: nl.links().map_err(|e| dump("links", e))?,
        addresses: nl.addresses().map_err(|e| dump("addresses", e))?,
        routes: nl.routes().map_err(|e| dump("routes", e))?,
        fdb: nl.fdb().map_err(|e| dump("forwarding entries", e))?,
        ..Observed::default()
    })
}

/// Reads the sysctls and files named by the desired state (and by the state file).
pub fn observe_host<'a>(
    observed: &mut Observed,
    root: &Path,
    sysctl_dir: &Path,
    sysctl_keys: impl Iterator<Item = &'a str>,
    file_paths: impl Iterator<Item = &'a str>,
) -> Result<(), ApplyError> {
    for key in sysctl_keys {
        observed
            .sysctls
            .insert(key.to_owned(), sysctl::read(sysctl_dir, key));
    }
    for path in file_paths {
        let file = files::read_with_mode(root, path)?;
        if file
            .as_ref()
            .is_some_and(|(_, mode)| files::too_open(path, *mode))
        {
            observed.too_open.insert(path.to_owned());
        }
        observed
            .files
            .insert(path.to_owned(), file.map(|(bytes, _)| bytes));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::host::netlink::Vxlan;

    fn link(index: u32, name: &str, kind: &str) -> Link {
        Link::for_test(index, name, kind, index as u8)
    }

    /// The one "is this the same link" decision: kind, then index and MAC where known, then
    /// the parameters asked for (a VXLAN's underlay only for a desired link).
    #[test]
    fn identify_compares_kind_identity_then_parameters() {
        let mut vx = link(7, "vx100", "vxlan");
        vx.vxlan = Some(Vxlan {
            vni: 100,
            port: 4789,
            local: Some("172.16.0.3".parse().unwrap()),
            underlay: Some(3),
        });
        let observed = Observed {
            links: vec![link(2, "eth0", "veth"), link(3, "eth1", "veth"), vx.clone()],
            ..Observed::default()
        };
        let spec = LinkSpec::Vxlan {
            name: "vx100".into(),
            vni: 100,
            port: 4789,
            local: "172.16.0.3".parse().unwrap(),
            underlay: "eth0".into(),
            master: None,
        };
        let recorded = LinkIdentity {
            spec: &spec,
            index: Some(7),
            mac: Some(Mac([2, 0, 0, 0, 0, 7])),
        };
        assert_eq!(
            identify(&recorded, &vx, Parameters::Recorded(&observed)),
            Ok(())
        );
        // The underlay (eth1 here, eth0 wanted) counts only for a desired link.
        assert_eq!(
            identify(
                &LinkIdentity::of_spec(&spec),
                &vx,
                Parameters::All(&observed)
            ),
            Err(Mismatch::Parameters)
        );
        let moved = LinkIdentity {
            index: Some(8),
            ..recorded
        };
        assert_eq!(
            identify(&moved, &vx, Parameters::Kind).map_err(|m| m.to_string()),
            Err("its index is 7, netc's had 8".to_owned())
        );
        let other_mac = LinkIdentity {
            mac: Some(Mac([2, 0, 0, 0, 0, 9])),
            ..recorded
        };
        assert!(matches!(
            identify(&other_mac, &vx, Parameters::Kind),
            Err(Mismatch::Mac { .. })
        ));
        let bridge = LinkSpec::Bridge {
            name: "vx100".into(),
        };
        assert_eq!(
            identify(&LinkIdentity::of_spec(&bridge), &vx, Parameters::Kind)
                .map_err(|m| m.to_string()),
            Err("it is a vxlan, netc created a bridge".to_owned())
        );
    }
}
