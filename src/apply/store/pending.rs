//! `--try`'s pending record, `<state-dir>/pending.json`: the steps that undo an unconfirmed
//! apply, the ownership record to restore with them, and the deadline.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::state::{load_json, store_json};
use crate::apply::ApplyError;
use crate::apply::host::files;
use crate::apply::record::Owned;
use crate::apply::step::Step;

const PENDING_FILE: &str = "pending.json";

fn default_sysctl_dir() -> PathBuf {
    PathBuf::from(crate::apply::host::sysctl::DEFAULT_DIR)
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

/// The pending record, if a `--try` apply waits for confirmation.
pub fn load(dir: &Path) -> Result<Option<Pending>, ApplyError> {
    load_json(&dir.join(PENDING_FILE))
}

pub fn store(dir: &Path, pending: &Pending) -> Result<(), ApplyError> {
    store_json(dir, PENDING_FILE, pending)
}

pub fn clear(dir: &Path) -> Result<(), ApplyError> {
    files::remove(dir, &format!("/{PENDING_FILE}"))
}
