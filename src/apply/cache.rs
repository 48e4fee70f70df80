//! The node's desired state ([`Derived`]) kept in the state directory between runs, so that a
//! pass over an unchanged intent skips parse, check, plan and emit and goes straight to
//! observing the host. The cache replaces only the derivation: everything apply compares
//! (links, addresses, routes, sysctls, files, the firewall) is still observed on every pass.
//!
//! The key is the SHA-256 of everything the desired state is derived from: the intent file's
//! bytes, the file name as given (the artifacts' headers name it, and its extension picks the
//! syntax), the node, `--root`, and this netc build (its version and [`BUILD_ID`], a hash of
//! the sources it was compiled from, so a rebuilt netc never reads an older build's cache).
//! Any change is a miss. A cache that is missing, unreadable, corrupt or of another key is a
//! miss too, never an error: the desired state is then derived as without a cache, and
//! stored again.
//!
//! One entry, `<state-dir>/desired.json`. It is written atomically (a temporary file renamed
//! over it) but not synced: a cache lost in a crash is only a miss.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::desired::Derived;
use super::files;

/// Of the sources this netc was built from (`build.rs`).
pub const BUILD_ID: &str = env!("NETC_BUILD_ID");
/// The cache file in the state directory.
pub const FILE: &str = "desired.json";
/// The cache's own format; part of the key.
const FORMAT: u32 = 1;

/// What a cached desired state was derived from, hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key(String);

impl Key {
    /// The key of the desired state of `node` from the intent `text` read from `source`
    /// (the file name as given), applied under `root`.
    pub fn new(text: &[u8], source: &str, node: &str, root: &Path) -> Self {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        // Each part length-prefixed, so no two different tuples hash the same bytes.
        let root = root.as_os_str().as_encoded_bytes();
        let format = FORMAT.to_string();
        for part in [
            format.as_bytes(),
            env!("CARGO_PKG_VERSION").as_bytes(),
            BUILD_ID.as_bytes(),
            source.as_bytes(),
            node.as_bytes(),
            root,
            text,
        ] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part);
        }
        Self(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    key: &'a str,
    derived: &'a Derived,
}

#[derive(Deserialize)]
struct Stored {
    key: String,
    derived: Derived,
}

/// The cached desired state under `key`; `None` on any miss (absent, unreadable, corrupt, or
/// another key).
pub fn load(state_dir: &Path, key: &Key) -> Option<Derived> {
    let bytes = std::fs::read(state_dir.join(FILE)).ok()?;
    let stored: Stored = serde_json::from_slice(&bytes).ok()?;
    (stored.key == key.0).then_some(stored.derived)
}

/// Keeps `derived` under `key`. A failure only costs the next run a derivation, so callers
/// may ignore it.
pub fn store(state_dir: &Path, key: &Key, derived: &Derived) -> Result<(), super::ApplyError> {
    let bytes = serde_json::to_vec(&Entry {
        key: &key.0,
        derived,
    })
    .map_err(|e| super::ApplyError::State(format!("cannot serialize the cache: {e}")))?;
    super::state::create_dir(state_dir)?;
    files::write_private(state_dir, &format!("/{FILE}"), &bytes, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_part_of_the_key_counts() {
        let root = Path::new("/");
        let base = Key::new(b"intent", "a.yaml", "n1", root);
        assert_eq!(base, Key::new(b"intent", "a.yaml", "n1", root));
        for other in [
            Key::new(b"intent ", "a.yaml", "n1", root),
            Key::new(b"intent", "b.yaml", "n1", root),
            Key::new(b"intent", "a.yaml", "n2", root),
            Key::new(b"intent", "a.yaml", "n1", Path::new("/r")),
            // Parts cannot slide into each other.
            Key::new(b"intent", "a.yaml", "n", Path::new("1/")),
        ] {
            assert_ne!(base, other);
        }
    }
}
