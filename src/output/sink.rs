//! The two sinks the output stage hands to the emitters: one writes each file into the staging
//! directory as it comes (so 10,000 nodes' files are never all in memory), one compares each
//! file with what is on disk and keeps only the differences (`--check`, `netc diff`).

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::confined::{ConfinedDir, path_problem};
use super::keep::StagingDirs;
use super::manifest::{MANIFEST, Manifest, digest};
use super::{Change, OutputError};
use crate::emit::{ArtifactSink, EmitError};

/// Test-only: milliseconds to sleep before each file, so a test can `kill -9` a build midway.
pub const SLOW_WRITE_ENV: &str = "NETC_TEST_SLOW_WRITE_MS";

/// Rejects paths that could leave the output directory or clash with the manifest.
pub(crate) fn check_relative(path: &str) -> Result<(), EmitError> {
    let problem = if path == MANIFEST {
        Some("is the manifest's name")
    } else {
        path_problem(path)
    };
    match problem {
        Some(problem) => Err(EmitError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("not a relative path inside the output directory: {problem}"),
            ),
        }),
        None => Ok(()),
    }
}

/// Writes files into the staging tree as the emitters produce them and records each in a
/// manifest.
///
/// A file netc wrote in the previous build (`previous`) whose bytes are unchanged is hard-linked
/// from the old tree instead of written: a rebuild of 20,000 mostly unchanged files then costs
/// directory entries, not new inodes and data blocks. The old tree is never modified, so the
/// swap stays atomic.
pub struct DiskSink {
    dirs: StagingDirs,
    manifest: Manifest,
    delay: Option<Duration>,
    previous: Option<(ConfinedDir, Manifest)>,
}

impl DiskSink {
    /// A sink writing into `dirs`; `previous` is the current output directory and its manifest.
    pub(super) fn new(
        dirs: StagingDirs,
        source: &str,
        previous: Option<(ConfinedDir, Manifest)>,
    ) -> Self {
        let delay = std::env::var(SLOW_WRITE_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_millis);
        Self {
            dirs,
            manifest: Manifest::new(source),
            delay,
            previous,
        }
    }

    pub(super) fn into_parts(self) -> (StagingDirs, Manifest) {
        (self.dirs, self.manifest)
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
        let io = |source| EmitError::Io {
            path: path.clone(),
            source,
        };
        self.dirs.ensure_parent(&path).map_err(io)?;
        let full = self.dirs.root().join(&path);
        if !self.link_unchanged(&path, &contents, &full) {
            // `create_new`: nothing may be in the way in a fresh staging tree, least of all a
            // link to follow.
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&full)
                .map_err(io)?;
            file.write_all(&contents).map_err(io)?;
            if path.ends_with(".sh") {
                set_executable(&file).map_err(io)?;
            }
        }
        self.manifest.files.insert(path, digest(&contents));
        Ok(())
    }
}

impl DiskSink {
    /// Hard-links `path` from the previous build when netc wrote it there and its bytes are
    /// still exactly `contents`; false when the file must be written (also when the old entry
    /// is not a regular file: it is netc's to replace, and is neither read nor followed).
    fn link_unchanged(&self, path: &str, contents: &[u8], to: &Path) -> bool {
        let Some((dir, manifest)) = &self.previous else {
            return false;
        };
        if !manifest.contains(path) {
            return false;
        }
        // Compare the bytes on disk, not the manifest's digest: the file may have been edited.
        match dir.read(path) {
            Ok(Some(old)) if old == contents => {
                std::fs::hard_link(dir.path().join(path), to).is_ok()
            }
            _ => false,
        }
    }
}

/// Scripts are written executable (0755); everything else keeps the umask's default.
fn set_executable(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(0o755))
}

/// Compares each file with the same path in DIR and keeps only those that differ.
pub struct CompareSink {
    dir: ConfinedDir,
    pub(super) manifest: Manifest,
    pub(super) changes: Vec<Change>,
    /// Why reading DIR failed; `compare` returns it instead of the emitter's error.
    pub(super) failure: Option<OutputError>,
}

impl CompareSink {
    pub(super) fn new(dir: ConfinedDir, source: &str) -> Self {
        Self {
            dir,
            manifest: Manifest::new(source),
            changes: Vec::new(),
            failure: None,
        }
    }

    pub(super) fn dir(&self) -> &ConfinedDir {
        &self.dir
    }
}

impl ArtifactSink for CompareSink {
    fn put(&mut self, path: String, contents: Vec<u8>) -> Result<(), EmitError> {
        check_relative(&path)?;
        if self.manifest.contains(&path) {
            return Err(EmitError::DuplicatePath(path));
        }
        let current = match self.dir.read(&path) {
            Ok(current) => current,
            Err(e) => {
                let source = std::io::Error::other(e.to_string());
                self.failure = Some(e);
                return Err(EmitError::Io { path, source });
            }
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
