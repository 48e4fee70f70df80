//! The two sinks the output stage hands to the emitters: one writes each file into the staging
//! directory as it comes (so 10,000 nodes' files are never all in memory), one compares each
//! file with what is on disk and keeps only the differences (`--check`, `netc diff`).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Change;
use super::manifest::{MANIFEST, Manifest, digest};
use crate::emit::{ArtifactSink, EmitError};

/// Test-only: milliseconds to sleep before each file, so a test can `kill -9` a build midway.
pub const SLOW_WRITE_ENV: &str = "NETC_TEST_SLOW_WRITE_MS";

/// Rejects paths that could leave the output directory or clash with the manifest.
pub(crate) fn check_relative(path: &str) -> Result<(), EmitError> {
    let bad = path.is_empty()
        || path == MANIFEST
        || path.starts_with('/')
        || path.contains('\\')
        || path.contains('\0')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if bad {
        return Err(EmitError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a relative path inside the output directory",
            ),
        });
    }
    Ok(())
}

/// Writes files under `root` as the emitters produce them and records each in a manifest.
///
/// A file netc wrote in the previous build (`previous`) whose bytes are unchanged is hard-linked
/// from the old tree instead of written: a rebuild of 20,000 mostly unchanged files then costs
/// directory entries, not new inodes and data blocks. The old tree is never modified, so the
/// swap stays atomic.
pub struct DiskSink {
    root: PathBuf,
    manifest: Manifest,
    dirs: HashSet<PathBuf>,
    delay: Option<Duration>,
    previous: Option<(PathBuf, Manifest)>,
}

impl DiskSink {
    /// A sink writing under `root`; `previous` is the current output directory and its manifest.
    pub fn with_previous(root: &Path, source: &str, previous: Option<(PathBuf, Manifest)>) -> Self {
        let mut sink = Self::new(root, source);
        sink.previous = previous;
        sink
    }

    pub fn new(root: &Path, source: &str) -> Self {
        let delay = std::env::var(SLOW_WRITE_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        Self {
            root: root.to_owned(),
            manifest: Manifest::new(source),
            dirs: HashSet::new(),
            delay,
            previous: None,
        }
    }

    pub fn into_manifest(self) -> Manifest {
        self.manifest
    }
}

impl ArtifactSink for DiskSink {
    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError> {
        check_relative(&path)?;
        if self.manifest.contains(&path) {
            return Err(EmitError::DuplicatePath(path));
        }
        if let Some(d) = self.delay {
            std::thread::sleep(d);
        }
        let full = self.root.join(&path);
        let io = |source| EmitError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = full.parent()
            && !self.dirs.contains(parent)
        {
            std::fs::create_dir_all(parent).map_err(io)?;
            self.dirs.insert(parent.to_owned());
        }
        if !self.link_unchanged(&path, &contents, &full) {
            let mut file = std::fs::File::create(&full).map_err(io)?;
            file.write_all(&contents).map_err(io)?;
            if path.ends_with(".sh") {
                set_executable(&full).map_err(io)?;
            }
        }
        self.manifest.files.insert(path, digest(&contents));
        Ok(())
    }
}

impl DiskSink {
    /// Hard-links `path` from the previous build when netc wrote it there and its bytes are
    /// still exactly `contents`; false when the file must be written.
    fn link_unchanged(&self, path: &str, contents: &[u8], to: &Path) -> bool {
        let Some((dir, manifest)) = &self.previous else {
            return false;
        };
        if !manifest.contains(path) {
            return false;
        }
        let from = dir.join(path);
        // Compare the bytes on disk, not the manifest's digest: the file may have been edited.
        match std::fs::read(&from) {
            Ok(old) if old == contents => std::fs::hard_link(&from, to).is_ok(),
            _ => false,
        }
    }
}

/// Scripts are written executable (0755); everything else keeps the umask's default.
#[cfg(unix)]
fn set_executable(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Compares each file with `root/<path>` and keeps only those that differ.
pub struct CompareSink {
    root: PathBuf,
    pub(super) manifest: Manifest,
    pub(super) changes: Vec<Change>,
}

impl CompareSink {
    pub fn new(root: &Path, source: &str) -> Self {
        Self {
            root: root.to_owned(),
            manifest: Manifest::new(source),
            changes: Vec::new(),
        }
    }
}

impl ArtifactSink for CompareSink {
    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError> {
        check_relative(&path)?;
        if self.manifest.contains(&path) {
            return Err(EmitError::DuplicatePath(path));
        }
        let full = self.root.join(&path);
        let current = match std::fs::read(&full) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => return Err(EmitError::Io { path, source }),
        };
        self.manifest.files.insert(path.clone(), digest(&contents));
        if current.as_deref() != Some(contents.as_slice()) {
            self.changes.push(Change {
                path,
                current,
                wanted: Some(contents),
            });
        }
        Ok(())
    }
}
