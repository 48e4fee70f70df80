//! The records netc keeps in the state directory: the ownership record ([`crate::apply::record`]:
//! what netc created on this host, in `<state-dir>/state.json`; only objects listed there are
//! ever changed back or removed, everything else is foreign), `--try`'s pending record, and
//! the bounded, non-blocking reads and atomic owner-only writes of every record.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::apply::ApplyError;
use crate::apply::host::files;
use crate::apply::record::Owned;

/// The default state directory.
pub use crate::plan::layout::STATE_DIR as DEFAULT_DIR;
const STATE_FILE: &str = "state.json";
/// The record's format. Version 2 added identities (link index and MAC, route protocol, file
/// hashes). A version 1 record is read as "legacy": its entries carry no identity, so they are
/// checked by what can still be seen (a link's kind and VXLAN parameters, a route's gateway and
/// netc's route protocol), files netc no longer writes are left in place with a note instead of
/// being removed, and the next apply writes version 2.
const VERSION: u32 = 2;
const OLDEST_VERSION: u32 = 1;

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

pub(crate) fn load_json<T: for<'de> Deserialize<'de>>(
    path: &Path,
) -> Result<Option<T>, ApplyError> {
    load_json_bounded(path, MAX_RECORD)
}

/// [`load_json`] of a record of at most `max` bytes.
pub(crate) fn load_json_bounded<T: for<'de> Deserialize<'de>>(
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

pub(crate) fn store_json<T: Serialize>(
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
}
