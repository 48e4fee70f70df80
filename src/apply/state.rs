//! The ownership record: what netc created on this host, in `<state-dir>/state.json`. Only
//! objects listed here are ever changed back or removed; everything else is foreign.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::desired::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::Backend;
use super::netlink::{Link, Route};
use super::observe::Observed;
use super::step::{Step, mac_text};
use super::{ApplyError, files};

/// The default state directory.
pub use crate::plan::layout::STATE_DIR as DEFAULT_DIR;
const STATE_FILE: &str = "state.json";
const PENDING_FILE: &str = "pending.json";
/// The record's format. Version 2 added identities (link index and MAC, route protocol, file
/// hashes). A version 1 record is read as "legacy": its entries carry no identity, so they are
/// checked by what can still be seen (a link's kind and VXLAN parameters, a route's gateway and
/// netc's route protocol), files netc no longer writes are left in place with a note instead of
/// being removed, and the next apply writes version 2.
const VERSION: u32 = 2;
const OLDEST_VERSION: u32 = 1;

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
    /// `aa:bb:cc:dd:ee:ff`.
    #[serde(default)]
    pub mac: Option<String>,
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

    /// Whether `link` is this record's link: same kind (and VXLAN parameters), and, when
    /// recorded, the same index and MAC. A name alone proves nothing.
    pub fn is(&self, link: &Link, observed: &Observed) -> bool {
        let kind_matches = link.kind.as_deref() == Some(self.spec.kind())
            && match (&self.spec, super::diff::spec_of(link, observed)) {
                (LinkSpec::Bridge { .. }, Some(LinkSpec::Bridge { .. })) => true,
                (
                    LinkSpec::Vxlan {
                        vni, port, local, ..
                    },
                    Some(LinkSpec::Vxlan {
                        vni: v2,
                        port: p2,
                        local: l2,
                        ..
                    }),
                ) => *vni == v2 && *port == p2 && *local == l2,
                _ => false,
            };
        kind_matches
            && self.index.is_none_or(|i| i == link.index)
            && self
                .mac
                .as_deref()
                .is_none_or(|m| link.mac.as_ref().map(mac_text).as_deref() == Some(m))
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
    super::execute::ROUTE_PROTOCOL
}

impl OwnedRoute {
    pub fn new(spec: RouteSpec) -> Self {
        Self {
            spec,
            protocol: super::execute::ROUTE_PROTOCOL,
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
                l.mac = link.mac.as_ref().map(mac_text);
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

fn default_sysctl_dir() -> PathBuf {
    PathBuf::from(super::sysctl::DEFAULT_DIR)
}

/// A `--try` apply waiting for `--confirm`: the steps that undo it, and when.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    /// Unix time (seconds) after which the watchdog reverts.
    pub deadline: u64,
    pub root: PathBuf,
    /// `--sysctl-dir` of the apply (absent in files written before it existed).
    #[serde(default = "default_sysctl_dir")]
    pub sysctl_dir: PathBuf,
    /// Undo steps, in the order to run them.
    pub undo: Vec<Step>,
    /// The ownership record to restore with them.
    pub previous: Owned,
}

/// The largest record netc reads back (state, pending record, status): far above what any
/// node's record holds, far below what would exhaust memory.
pub const MAX_RECORD: u64 = 64 << 20;

/// Reads a record of at most `max` bytes: `Ok(None)` when it does not exist. A FIFO, device,
/// directory or symbolic link in its place is refused without blocking (opened `O_NONBLOCK |
/// O_NOFOLLOW`, checked with `fstat`), and a larger file is refused without reading it.
pub fn read_record(path: &Path, max: u64) -> Result<Option<Vec<u8>>, ApplyError> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source: std::io::Error| ApplyError::Io {
        object: format!("state file {}", path.display()),
        source,
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(ApplyError::State(format!(
                "{} is a symbolic link: refusing to read it",
                path.display()
            )));
        }
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(ApplyError::State(format!(
            "{} is not a regular file: refusing to read it",
            path.display()
        )));
    }
    // A record an older netc (or a hand copy) left readable by others is narrowed to
    // owner-only as it is read, even when it is not written again (a cache hit, unchanged
    // ownership). Best effort: a reader that does not own it (`netc status` as another user)
    // leaves it as it is.
    narrow(&file, meta.permissions().mode(), 0o7700);
    if meta.len() > max {
        return Err(ApplyError::State(format!(
            "{} is {} bytes, more than a netc record can be ({max}): refusing to read it",
            path.display(),
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    // The size may grow between fstat and read: never read more than `max` + 1.
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(ApplyError::State(format!(
            "{} grew past {max} bytes while read: refusing it",
            path.display()
        )));
    }
    Ok(Some(bytes))
}

pub(super) fn load_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
) -> Result<Option<T>, ApplyError> {
    load_json_bounded(path, MAX_RECORD)
}

/// [`load_json`] of a record of at most `max` bytes.
pub(super) fn load_json_bounded<T: for<'de> Deserialize<'de>>(
    path: &Path,
    max: u64,
) -> Result<Option<T>, ApplyError> {
    let Some(bytes) = read_record(path, max)? else {
        return Ok(None);
    };
    parse_json(&bytes)
        .map(Some)
        .map_err(|e| ApplyError::State(format!("{} is not a netc state file: {e}", path.display())))
}

/// A record's bytes as `T` (the part of reading a record the fuzz target drives).
pub fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    serde_json::from_slice(bytes)
}

pub(super) fn store_json<T: Serialize>(
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<(), ApplyError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| ApplyError::State(format!("cannot serialize {name}: {e}")))?;
    let path = format!("/{name}");
    files::write_private(dir, &path, &bytes, true)
}

/// Clears the permission bits of an open file outside `keep` (nothing when none are set).
fn narrow(file: &std::fs::File, mode: u32, keep: u32) -> bool {
    let mode = mode & 0o7777;
    mode & !keep != 0
        && file
            .set_permissions(std::fs::Permissions::from_mode(mode & keep))
            .is_ok()
}

/// Narrows an existing state directory to owner-only (0700) when others may enter or read it
/// (the fleet's hostPath `DirectoryOrCreate` makes it 0755): the agent's. Only a real
/// directory (not a link) this process owns and without the sticky bit (never a shared
/// `/tmp`). Returns the mode it had when it narrowed it.
pub fn narrow_dir(dir: &Path) -> Result<Option<u32>, ApplyError> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let io = |source: std::io::Error| ApplyError::Io {
        object: format!("state directory {}", dir.display()),
        source,
    };
    let file = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(e)),
    };
    let meta = file.metadata().map_err(io)?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let mode = meta.mode() & 0o7777;
    if meta.uid() != me || mode & 0o1000 != 0 {
        return Ok(None);
    }
    Ok(narrow(&file, mode, 0o7700).then_some(mode))
}

/// Creates the state directory when it is missing: owner-only, since what is kept there
/// (ownership, `--try`'s pending record, the desired-state cache) holds the installed files'
/// contents, and a proxy URL may carry a password. An existing directory keeps its mode (the
/// agent narrows it: [`narrow_dir`]).
pub fn create_dir(dir: &Path) -> Result<(), ApplyError> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| ApplyError::Io {
            object: format!("state directory {}", dir.display()),
            source: e,
        })
}

/// Reads the ownership record (empty when netc never applied here). Refuses a record of a
/// version this netc does not know, and one written for another node than `node`.
pub fn load(dir: &Path, node: &str) -> Result<Owned, ApplyError> {
    let path = dir.join(STATE_FILE);
    // The version first, so that a newer format is named as such, not as a parse error.
    #[derive(Deserialize)]
    struct Version {
        version: Option<u32>,
    }
    let Some(version) = load_json::<Version>(&path)? else {
        return Ok(Owned::default());
    };
    match version.version {
        Some(v) if (OLDEST_VERSION..=VERSION).contains(&v) => {}
        Some(v) => {
            return Err(ApplyError::State(format!(
                "{} has format version {v}; this netc reads versions {OLDEST_VERSION} to \
                 {VERSION} (was it written by a newer netc?)",
                path.display()
            )));
        }
        None => {
            return Err(ApplyError::State(format!(
                "{} has no format version: not a netc state file",
                path.display()
            )));
        }
    }
    let owned: Owned = load_json(&path)?.unwrap_or_default();
    if !owned.node.is_empty() && owned.node != node {
        return Err(ApplyError::State(format!(
            "{} records what netc made on node {}, not on {node}: give each node its own \
             --state-dir (or remove the file if this host really was renamed)",
            path.display(),
            owned.node
        )));
    }
    Ok(owned)
}

/// Whether an ownership record exists (netc applied here before).
pub fn exists(dir: &Path) -> bool {
    dir.join(STATE_FILE).exists()
}

/// Removes the ownership record (a first apply rolled back whole leaves none).
pub fn remove(dir: &Path) -> Result<(), ApplyError> {
    files::remove(dir, &format!("/{STATE_FILE}"))
}

/// Writes the ownership record atomically.
pub fn store(dir: &Path, owned: &Owned) -> Result<(), ApplyError> {
    let mut owned = owned.clone();
    owned.version = VERSION;
    store_json(dir, STATE_FILE, &owned)
}

/// Whether `stored` (as [`load`] read it) already records `next`: storing `next` would write
/// the same file again. (`next` comes from `diff`, which leaves `version` unset.)
pub fn is_current(stored: &Owned, next: &Owned) -> bool {
    stored.version == VERSION
        && *stored
            == Owned {
                version: VERSION,
                ..next.clone()
            }
}

pub fn load_pending(dir: &Path) -> Result<Option<Pending>, ApplyError> {
    load_json(&dir.join(PENDING_FILE))
}

pub fn store_pending(dir: &Path, pending: &Pending) -> Result<(), ApplyError> {
    store_json(dir, PENDING_FILE, pending)
}

pub fn clear_pending(dir: &Path) -> Result<(), ApplyError> {
    files::remove(dir, &format!("/{PENDING_FILE}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    /// Issue 17 item 17: records and the agent's state directory are owner-only even when
    /// they existed, readable by others, before (an older netc, a hostPath `DirectoryOrCreate`).
    #[test]
    fn existing_records_and_state_directory_are_narrowed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let record = dir.join("desired.json");
        std::fs::write(&record, b"{}").unwrap();
        std::fs::set_permissions(&record, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_record(&record, MAX_RECORD).unwrap().unwrap(), b"{}");
        assert_eq!(mode(&record), 0o600);
        assert_eq!(narrow_dir(&dir).unwrap(), Some(0o755));
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(narrow_dir(&dir).unwrap(), None);
        // A shared directory (sticky bit) is never narrowed; a missing one is nothing.
        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert_eq!(narrow_dir(&shared).unwrap(), None);
        assert_eq!(mode(&shared), 0o1777);
        assert_eq!(narrow_dir(&tmp.path().join("missing")).unwrap(), None);
    }

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
        assert_eq!(parse_json::<Owned>(text.as_bytes()).unwrap(), pending);
        assert!(!serde_json::to_string(&after).unwrap().contains("pending"));
        // Unchanged contents add nothing pending.
        assert_eq!(before.with_pending(&before), before);
    }
}
