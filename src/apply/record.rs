//! The ownership record's vocabulary: what netc created on this host and which object each
//! entry is (a link's kind, index and MAC, a route's protocol, a file's hash). `store::state`
//! keeps it in `<state-dir>/state.json`; `diff` reads and produces it.

use serde::{Deserialize, Serialize};

use super::desired::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::Backend;
use super::host::netlink::{Link, Mac, ROUTE_PROTOCOL, Route};
use super::observe::{LinkIdentity, Observed, Parameters, identify};

/// What netc owns on this host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Owned {
    pub version: u32,
    pub node: String,
    pub links: Vec<OwnedLink>,
    pub addresses: Vec<OwnedAddress>,
    pub routes: Vec<OwnedRoute>,
    pub fdb: Vec<OwnedFdb>,
    /// The files netc wrote.
    pub files: Vec<OwnedFile>,
    pub firewall: Option<FirewallRecord>,
}

/// A link netc created, and which one it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedLink {
    #[serde(flatten)]
    pub spec: LinkSpec,
    /// The interface index (`None`: a version 1 record, or not created yet).
    #[serde(default)]
    pub index: Option<u32>,
    #[serde(default)]
    pub mac: Option<Mac>,
}

impl OwnedLink {
    pub fn new(spec: LinkSpec) -> Self {
        Self {
            spec,
            index: None,
            mac: None,
        }
    }

    pub fn name(&self) -> &str {
        self.spec.name()
    }

    /// Which link this record names.
    pub fn identity(&self) -> LinkIdentity<'_> {
        LinkIdentity {
            spec: &self.spec,
            index: self.index,
            mac: self.mac,
        }
    }

    /// Whether `link` is this record's link: same kind (and VXLAN parameters), and, when
    /// recorded, the same index and MAC. A name alone proves nothing.
    pub fn is(&self, link: &Link, observed: &Observed) -> bool {
        identify(&self.identity(), link, Parameters::Recorded(observed)).is_ok()
    }
}

/// An address netc added, on the link of index `index` (`None`: version 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedAddress {
    #[serde(flatten)]
    pub spec: AddressSpec,
    #[serde(default)]
    pub index: Option<u32>,
}

/// A route netc added, by its exact key: destination, gateway, protocol, main table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedRoute {
    #[serde(flatten)]
    pub spec: RouteSpec,
    /// The protocol netc's routes carry (version 1 records: the same, `static`).
    #[serde(default = "netc_route_protocol")]
    pub protocol: u8,
}

fn netc_route_protocol() -> u8 {
    ROUTE_PROTOCOL
}

impl OwnedRoute {
    pub fn new(spec: RouteSpec) -> Self {
        Self {
            spec,
            protocol: ROUTE_PROTOCOL,
        }
    }

    /// Whether `route` is this record's route.
    pub fn is(&self, route: &Route) -> bool {
        route.destination == self.spec.destination
            && route.gateway == Some(self.spec.via)
            && route.protocol == self.protocol
    }
}

/// A forwarding entry netc added, on the device of index `index` (`None`: version 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedFdb {
    #[serde(flatten)]
    pub spec: FdbSpec,
    #[serde(default)]
    pub index: Option<u32>,
}

/// A file netc wrote, and the SHA-256 of what it wrote (`None`: a version 1 record, which was
/// a bare path).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "FileEntry")]
pub struct OwnedFile {
    pub path: String,
    pub sha256: Option<String>,
    /// The SHA-256 of what a pass under way writes over it (recorded before the write, cleared
    /// once the pass ends): a pass killed between the two finds either contents netc's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FileEntry {
    Legacy(String),
    Record {
        path: String,
        sha256: Option<String>,
        #[serde(default)]
        pending: Option<String>,
    },
}

impl From<FileEntry> for OwnedFile {
    fn from(e: FileEntry) -> Self {
        match e {
            FileEntry::Legacy(path) => Self {
                path,
                sha256: None,
                pending: None,
            },
            FileEntry::Record {
                path,
                sha256,
                pending,
            } => Self {
                path,
                sha256,
                pending,
            },
        }
    }
}

impl OwnedFile {
    pub fn new(path: &str, contents: &[u8]) -> Self {
        Self {
            path: path.to_owned(),
            sha256: Some(crate::digest::sha256(contents)),
            pending: None,
        }
    }

    /// Whether `contents` are what netc wrote there (or was writing when a pass was cut
    /// short). A version 1 record kept no hash: the file is netc's by the record alone.
    pub fn holds(&self, contents: &[u8]) -> bool {
        let Some(recorded) = &self.sha256 else {
            return true;
        };
        let hash = crate::digest::sha256(contents);
        *recorded == hash || self.pending.as_ref() == Some(&hash)
    }
}

impl Owned {
    pub fn owns_link(&self, name: &str) -> Option<&OwnedLink> {
        self.links.iter().find(|l| l.name() == name)
    }

    pub fn owns_file(&self, path: &str) -> Option<&OwnedFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// This record with, as pending entries, what `after` adds that this record does not
    /// list: links (without an identity yet: a pass killed after creating one adopts it by its
    /// kind and parameters), addresses, forwarding entries, routes, the firewall part, files
    /// that did not exist (their hash is of what will be written), and the new hash of files
    /// the pass rewrites ([`OwnedFile::pending`]). Stored before a pass changes anything.
    pub fn with_pending(&self, after: &Owned) -> Owned {
        let mut out = self.clone();
        out.node.clone_from(&after.node);
        for l in &after.links {
            if self.owns_link(l.name()).is_none() {
                out.links.push(OwnedLink::new(l.spec.clone()));
            }
        }
        for a in &after.addresses {
            if !self.addresses.iter().any(|o| o.spec == a.spec) {
                out.addresses.push(OwnedAddress {
                    spec: a.spec.clone(),
                    index: None,
                });
            }
        }
        for e in &after.fdb {
            if !self.fdb.iter().any(|o| o.spec == e.spec) {
                out.fdb.push(OwnedFdb {
                    spec: e.spec.clone(),
                    index: None,
                });
            }
        }
        for r in &after.routes {
            if !self.routes.iter().any(|o| o.spec == r.spec) {
                out.routes.push(r.clone());
            }
        }
        if self.firewall.is_none()
            && let Some(fw) = &after.firewall
        {
            out.firewall = Some(FirewallRecord {
                listing: String::new(),
                generation: None,
                ..fw.clone()
            });
        }
        for f in &after.files {
            match out.files.iter_mut().find(|o| o.path == f.path) {
                None => out.files.push(f.clone()),
                // Rewritten by this pass: the new hash beside the old one.
                Some(o) if o.sha256.is_some() && o.sha256 != f.sha256 => {
                    o.pending.clone_from(&f.sha256);
                }
                Some(_) => {}
            }
        }
        out
    }

    /// Fills in the identity of what was just created (link indices and MACs, the indices of
    /// the links addresses and forwarding entries sit on) from the host as observed after.
    pub fn record_identity(&mut self, observed: &Observed) {
        for l in &mut self.links {
            if let Some(link) = observed.link(l.spec.name()) {
                l.index = Some(link.index);
                l.mac = link.mac;
            }
        }
        for a in &mut self.addresses {
            a.index = observed.link(&a.spec.link).map(|l| l.index);
        }
        for e in &mut self.fdb {
            e.index = observed.link(&e.spec.link).map(|l| l.index);
        }
    }
}

/// The firewall part netc loaded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirewallRecord {
    pub backend: Backend,
    pub zone: String,
    /// The text netc rendered and loaded.
    pub source: String,
    /// What the backend reported right after loading it.
    pub listing: String,
    /// nftables: the ruleset generation `listing` was read at. While the kernel reports the
    /// same one, nothing was committed since and the table is still `listing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<super::firewall::generation::Generation>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17 item 18: a file a pass rewrites is recorded with its new hash before the write,
    /// so a pass killed before or after the rename finds the file netc's either way.
    #[test]
    fn a_rewritten_file_is_pending_with_both_hashes() {
        let before = Owned {
            files: vec![OwnedFile::new("/etc/a.conf", b"old\n")],
            ..Owned::default()
        };
        let after = Owned {
            files: vec![
                OwnedFile::new("/etc/a.conf", b"new\n"),
                OwnedFile::new("/etc/b.conf", b"b\n"),
            ],
            ..Owned::default()
        };
        let pending = before.with_pending(&after);
        let a = pending.owns_file("/etc/a.conf").unwrap();
        assert!(a.holds(b"old\n") && a.holds(b"new\n") && !a.holds(b"edited\n"));
        assert!(pending.owns_file("/etc/b.conf").unwrap().holds(b"b\n"));
        // The pending hash is kept through the record on disk, and absent from a settled one.
        let text = serde_json::to_string(&pending).unwrap();
        assert_eq!(serde_json::from_str::<Owned>(&text).unwrap(), pending);
        assert!(!serde_json::to_string(&after).unwrap().contains("pending"));
        // Unchanged contents add nothing pending.
        assert_eq!(before.with_pending(&before), before);
    }
}
