//! Stage 5: writing artifacts. The only module besides `apply` that touches the filesystem.
//!
//! [`build`] writes every artifact into a staging directory beside DIR as the emitters produce
//! them, carries over files netc did not write (those not in DIR's manifest), records what it
//! wrote in `DIR/.netc-manifest.json`, and swaps the staging directory in atomically
//! ([`swap`]), keeping DIR's owners and modes and the carried-over files' identity ([`keep`]).
//! [`compare`] produces the same files in memory, one at a time, and keeps only the
//! [`Change`]s against DIR (`--check`, `netc diff`).
//!
//! DIR is untrusted input: every read below it goes through [`confined`] (no `..`, no symbolic
//! link followed, only regular files and directories opened).

mod confined;
mod diff;
mod keep;
mod manifest;
mod sink;
mod swap;

use std::path::{Path, PathBuf};

pub use confined::file_kind;
pub use diff::{Summary, render, summary};
pub use manifest::{MANIFEST, Manifest, digest};
pub use sink::SLOW_WRITE_ENV;
pub use swap::interrupted;

use self::confined::ConfinedDir;
use self::keep::StagingDirs;
use self::sink::{CompareSink, DiskSink};

use crate::emit::{ArtifactSink, EmitError};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(transparent)]
    Emit(#[from] EmitError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    BadOutput { path: String, message: String },
    #[error("{path}: {message}")]
    Manifest { path: String, message: String },
    #[error(
        "{path} exists but netc did not write it (it is not in {MANIFEST}); netc never overwrites \
         files it did not write: move it away and build again"
    )]
    Foreign { path: String },
}

impl OutputError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// One file whose contents on disk differ from what build would write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Relative, `/`-separated.
    pub path: String,
    /// What DIR holds now; `None` = missing.
    pub current: Option<Vec<u8>>,
    /// What build would write; `None` = netc's own stale file, which build removes.
    pub wanted: Option<Vec<u8>>,
}

/// What a build did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Files netc wrote.
    pub files: usize,
    /// Files carried over because netc did not write them.
    pub kept: usize,
    /// netc's own files of the previous build that this build no longer writes.
    pub removed: usize,
}

/// Builds DIR atomically: `emit` writes every artifact into a sink, and only when all of them
/// are written does the new tree replace DIR. On any error DIR is left as it was.
pub fn build(
    dir: &Path,
    source: &str,
    emit: impl FnOnce(&mut dyn ArtifactSink) -> Result<(), EmitError>,
) -> Result<Written, OutputError> {
    let old = ConfinedDir::open(dir)?;
    swap::recover(dir)?;
    // `recover` may have put an interrupted build's tree back in place of a missing DIR.
    let old = if old.exists() {
        old
    } else {
        ConfinedDir::open(dir)?
    };
    let (parent, _) = swap::split(dir)?;
    std::fs::create_dir_all(&parent).map_err(|e| OutputError::io(&parent, e))?;
    let staging = swap::create_staging(dir, old.exists())?;
    let result = stage(old, &staging, source, emit)
        .and_then(|written| swap::replace(dir, &staging).map(|()| written));
    if result.is_err() {
        // Best effort: a leftover staging directory is also removed by the next build.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Fills the staging directory: netc's files, the manifest, and DIR's foreign files.
fn stage(
    old: ConfinedDir,
    staging: &Path,
    source: &str,
    emit: impl FnOnce(&mut dyn ArtifactSink) -> Result<(), EmitError>,
) -> Result<Written, OutputError> {
    let dir = old.path().to_owned();
    let exists = old.exists();
    let previous = Manifest::read(&old)?;
    let dirs = StagingDirs::new(staging, exists.then_some(dir.as_path()))
        .map_err(|e| OutputError::io(staging, e))?;
    let mut sink = DiskSink::new(dirs, source, previous.clone().map(|m| (old, m)));
    emit(&mut sink)?;
    let (mut dirs, manifest) = sink.into_parts();
    let mut written = Written {
        files: manifest.files.len(),
        ..Written::default()
    };
    if exists {
        let own = previous.as_ref();
        for entry in walk(&dir)? {
            let rel = entry.rel.as_str();
            if rel == MANIFEST {
                continue;
            }
            if own.is_some_and(|m| m.contains(rel)) {
                if !manifest.contains(rel) {
                    written.removed += 1;
                }
                continue;
            }
            if manifest.contains(rel) || (entry.kind != Kind::Dir && manifest.has_below(rel)) {
                // Where netc writes a file, or a directory of files (a link or a file named
                // like netc's directory, `kubeadm -> /elsewhere`, is not netc's to replace).
                return Err(OutputError::Foreign {
                    path: entry.full.display().to_string(),
                });
            }
            let to = staging.join(rel);
            match entry.kind {
                Kind::Dir => dirs.ensure(rel).map_err(|e| OutputError::io(&to, e))?,
                Kind::File | Kind::Symlink => {
                    dirs.ensure_parent(rel)
                        .map_err(|e| OutputError::io(&to, e))?;
                    keep::carry_over(&entry.full, &to)
                        .map_err(|e| OutputError::io(&entry.full, e))?;
                    written.kept += 1;
                }
                Kind::Other(ty) => {
                    return Err(OutputError::BadOutput {
                        path: entry.full.display().to_string(),
                        message: format!(
                            "is {}, and netc did not write it; build carries over only regular \
                             files, directories and symbolic links: move it away and build again",
                            file_kind(ty)
                        ),
                    });
                }
            }
        }
    }
    let path = staging.join(MANIFEST);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| OutputError::io(&path, e))?;
    std::io::Write::write_all(&mut file, &manifest.to_bytes())
        .map_err(|e| OutputError::io(&path, e))?;
    dirs.finish().map_err(|e| OutputError::io(staging, e))?;
    Ok(written)
}

/// Every difference between DIR and what `emit` produces, sorted by path: changed and missing
/// files, netc's stale files, and (only when nothing else differs) an outdated manifest.
/// Only reads: an interrupted build's leftovers stay where they are ([`interrupted`]).
pub fn compare(
    dir: &Path,
    source: &str,
    emit: impl FnOnce(&mut dyn ArtifactSink) -> Result<(), EmitError>,
) -> Result<Vec<Change>, OutputError> {
    let confined = ConfinedDir::open(dir)?;
    // Read (and check) the manifest first: a bad one is reported before any file is read.
    let previous = Manifest::read(&confined)?;
    let current_manifest = confined.read(MANIFEST)?;
    let mut sink = CompareSink::new(confined, source);
    if let Err(e) = emit(&mut sink) {
        return Err(sink.failure.take().unwrap_or(OutputError::Emit(e)));
    }
    let mut changes = std::mem::take(&mut sink.changes);
    if let Some(prev) = &previous {
        for path in prev.files.keys() {
            if sink.manifest.contains(path) {
                continue;
            }
            if let Some(bytes) = sink.dir().read(path)? {
                changes.push(Change {
                    path: path.clone(),
                    current: Some(bytes),
                    wanted: None,
                });
            }
        }
    }
    let wanted = sink.manifest.to_bytes();
    if changes.is_empty() && current_manifest.as_deref() != Some(wanted.as_slice()) {
        changes.push(Change {
            path: MANIFEST.to_owned(),
            current: current_manifest,
            wanted: Some(wanted),
        });
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    File,
    Symlink,
    /// Only empty directories are listed: the others come back with their contents.
    Dir,
    /// A FIFO, socket or device: never read.
    Other(std::fs::FileType),
}

struct Entry {
    rel: String,
    full: PathBuf,
    kind: Kind,
}

/// Every entry under `root` with `/`-separated relative paths: files, symlinks, empty
/// directories, and anything else (FIFOs, sockets, devices) as [`Kind::Other`]. Symbolic links
/// to directories are entries, never descended.
fn walk(root: &Path) -> Result<Vec<Entry>, OutputError> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_owned(), String::new())];
    while let Some((dir, rel)) = stack.pop() {
        let mut empty = true;
        for entry in std::fs::read_dir(&dir).map_err(|e| OutputError::io(&dir, e))? {
            let entry = entry.map_err(|e| OutputError::io(&dir, e))?;
            empty = false;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child_rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let full = entry.path();
            // `DirEntry::file_type` does not follow symbolic links.
            let ty = entry.file_type().map_err(|e| OutputError::io(&full, e))?;
            if ty.is_dir() {
                stack.push((full, child_rel));
                continue;
            }
            let kind = if ty.is_symlink() {
                Kind::Symlink
            } else if ty.is_file() {
                Kind::File
            } else {
                Kind::Other(ty)
            };
            out.push(Entry {
                rel: child_rel,
                full,
                kind,
            });
        }
        if empty && !rel.is_empty() {
            out.push(Entry {
                rel,
                full: dir,
                kind: Kind::Dir,
            });
        }
    }
    Ok(out)
}
