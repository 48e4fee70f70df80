//! The ownership record: what netc created on this host, in `<state-dir>/state.json`. Only
//! objects listed here are ever changed back or removed; everything else is foreign.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::desired::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::Backend;
use super::step::Step;
use super::{ApplyError, files};

/// The default state directory.
pub const DEFAULT_DIR: &str = "/var/lib/netc";
const STATE_FILE: &str = "state.json";
const PENDING_FILE: &str = "pending.json";
const VERSION: u32 = 1;

/// What netc owns on this host.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Owned {
    pub version: u32,
    pub node: String,
    pub links: Vec<LinkSpec>,
    pub addresses: Vec<AddressSpec>,
    pub routes: Vec<RouteSpec>,
    pub fdb: Vec<FdbSpec>,
    /// Host paths of the files netc wrote.
    pub files: Vec<String>,
    pub firewall: Option<FirewallRecord>,
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
}

/// A `--try` apply waiting for `--confirm`: the steps that undo it, and when.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    /// Unix time (seconds) after which the watchdog reverts.
    pub deadline: u64,
    pub root: PathBuf,
    /// Undo steps, in the order to run them.
    pub undo: Vec<Step>,
    /// The ownership record to restore with them.
    pub previous: Owned,
}

fn load_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Option<T>, ApplyError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            ApplyError::State(format!("{} is not a netc state file: {e}", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ApplyError::Io {
            object: format!("state file {}", path.display()),
            source: e,
        }),
    }
}

fn store_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), ApplyError> {
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| ApplyError::State(format!("cannot serialize {name}: {e}")))?;
    let path = format!("/{name}");
    files::write(dir, &path, &bytes)
}

/// Reads the ownership record (empty when netc never applied here).
pub fn load(dir: &Path) -> Result<Owned, ApplyError> {
    Ok(load_json(&dir.join(STATE_FILE))?.unwrap_or_default())
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
