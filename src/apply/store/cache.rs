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
//!
//! The entry is bound to its content: its first line holds the key and an HMAC-SHA256 (RFC
//! 2104) of the key and the derived state that follows, under a secret of 32 random bytes kept
//! in `<lock-dir>/cache.key` (`/run/netc/cache.key`: created `0600` in the directory only root
//! can write, see `apply::lock`; on tmpfs, so a reboot makes a new one and the cache misses
//! once). An entry edited by anyone who cannot read that secret — a state directory shared with
//! another container, a hostPath written from a pod — is a miss, not an instruction: the
//! desired state is derived again from the intent. Without a usable secret there is no cache.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::apply::desired::Derived;
use crate::apply::host::files;

/// Of the sources this netc was built from (`build.rs`).
pub const BUILD_ID: &str = env!("NETC_BUILD_ID");
/// The cache file in the state directory.
pub const FILE: &str = "desired.json";
/// The cache's own format; part of the key.
const FORMAT: u32 = 2;

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
        Self(crate::digest::hex(&h.finalize()))
    }
}

/// The cache's secret file in the lock directory.
pub const SECRET_FILE: &str = "cache.key";

/// The cache's secret (created when missing and `create`): `None` when there is none, it
/// cannot be read or made, or is not a regular file of this user's, readable by no one else.
pub fn secret(lock_dir: &Path, create: bool) -> Option<[u8; 32]> {
    use std::io::{Read, Write};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    if !create && !lock_dir.join(SECRET_FILE).exists() {
        return None;
    }
    // The lock directory is checked (owner, mode, not a link) as the lock checks it.
    crate::apply::lock::host_lock_path(lock_dir).ok()?;
    let path = lock_dir.join(SECRET_FILE);
    let open = |create: bool| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(create)
            .create_new(create)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
    };
    match open(false) {
        Ok(mut file) => {
            let meta = file.metadata().ok()?;
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if !meta.is_file() || meta.uid() != me || meta.permissions().mode() & 0o077 != 0 {
                return None;
            }
            let mut secret = [0u8; 32];
            file.read_exact(&mut secret).ok()?;
            Some(secret)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut secret = [0u8; 32];
            crate::apply::host::files::fill_random(&mut secret).ok()?;
            // Two processes may race here: the loser reads the winner's secret.
            match open(true) {
                Ok(mut file) => {
                    file.write_all(&secret).ok()?;
                    Some(secret)
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => secret_again(&path),
                Err(_) => None,
            }
        }
        Err(_) => None,
    }
}

fn secret_again(path: &Path) -> Option<[u8; 32]> {
    let bytes = std::fs::read(path).ok()?;
    bytes.try_into().ok()
}

/// HMAC-SHA256 (RFC 2104) under `secret` (zero-padded to the 64-byte block) of the
/// concatenated `chunks`, hex.
fn hmac(secret: &[u8; 32], chunks: &[&[u8]]) -> String {
    use sha2::Digest;
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(secret);
    let mut inner = sha2::Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for chunk in chunks {
        inner.update(chunk);
    }
    let mut outer = sha2::Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    crate::digest::hex(&outer.finalize())
}

/// The MAC of an entry: of its key (length-prefixed, so key and body cannot slide into each
/// other) and its body.
fn mac(secret: &[u8; 32], key: &str, body: &[u8]) -> String {
    hmac(
        secret,
        &[&(key.len() as u64).to_le_bytes(), key.as_bytes(), body],
    )
}

/// Equal without an early exit (the time taken does not say where two MACs differ).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[derive(Serialize, Deserialize)]
struct Header {
    key: String,
    mac: String,
}

/// The cached desired state under `key`; `None` on any miss (absent, unreadable, corrupt,
/// another key, or a MAC that does not match under `secret`).
pub fn load(state_dir: &Path, secret: &[u8; 32], key: &Key) -> Option<Derived> {
    // Bounded, regular files only: a FIFO or a huge file in its place is a miss, not a hang.
    let bytes = crate::apply::store::state::read_record(
        &state_dir.join(FILE),
        crate::apply::store::state::MAX_RECORD,
    )
    .ok()??;
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (header, body) = (&bytes[..newline], &bytes[newline + 1..]);
    let header: Header = serde_json::from_slice(header).ok()?;
    if header.key != key.0 || !same(&header.mac, &mac(secret, &key.0, body)) {
        return None;
    }
    serde_json::from_slice(body).ok()
}

/// Keeps `derived` under `key`, bound to it by a MAC under `secret`. A failure only costs the
/// next run a derivation, so callers may ignore it.
pub fn store(
    state_dir: &Path,
    secret: &[u8; 32],
    key: &Key,
    derived: &Derived,
) -> Result<(), crate::apply::ApplyError> {
    let body = serde_json::to_vec(derived)
        .map_err(|e| crate::apply::ApplyError::State(format!("cannot serialize the cache: {e}")))?;
    let header = Header {
        key: key.0.clone(),
        mac: mac(secret, &key.0, &body),
    };
    let mut bytes = serde_json::to_vec(&header)
        .map_err(|e| crate::apply::ApplyError::State(format!("cannot serialize the cache: {e}")))?;
    bytes.push(b'\n');
    bytes.extend_from_slice(&body);
    crate::apply::store::state::create_dir(state_dir)?;
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

    #[test]
    fn mac_is_hmac_sha256_and_binds_every_byte() {
        // RFC 4231 test case 2 (key "Jefe": HMAC zero-pads a short key to the block, so a
        // 32-byte secret of "Jefe" and zeros is the same key).
        let mut secret = [0u8; 32];
        secret[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hmac(&secret, &[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let a = mac(&secret, "key", b"body");
        assert_ne!(a, mac(&secret, "key", b"bodY"));
        assert_ne!(a, mac(&[1; 32], "key", b"body"));
        assert_ne!(a, mac(&secret, "keyb", b"ody"));
        assert!(same(&a, &a.clone()) && !same(&a, &a[1..]));
    }

    #[test]
    fn an_edited_entry_is_a_miss() {
        let dir = std::env::temp_dir().join(format!("netc-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let derived: Derived = serde_json::from_str(
            r#"{"node":"n1","address":null,"management_interface":null,"links":[],
                "overlay_device":null,"mtus":[],"addresses":[],"routes":[],"fdb":[],
                "sysctls":[],"modules":[],"firewall":null,"files":{"/etc/a":"x"},
                "peers":[],"api_endpoint":null}"#,
        )
        .expect("a Derived");
        let key = Key::new(b"intent", "a.yaml", "n1", Path::new("/"));
        let secret = [7u8; 32];
        store(&dir, &secret, &key, &derived).expect("store");
        assert_eq!(load(&dir, &secret, &key), Some(derived));
        assert_eq!(load(&dir, &[8u8; 32], &key), None);
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replace("/etc/a", "/etc/b")).expect("edit");
        assert_eq!(load(&dir, &secret, &key), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
