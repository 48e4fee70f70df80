//! Stage 5: writing artifacts. The only module besides `apply` that touches the filesystem.
//!
//! [`build`] writes every artifact into a staging directory beside DIR as the emitters produce
//! them, carries over files netc did not write (those not in DIR's manifest), records what it
//! wrote in `DIR/.netc-manifest.json`, and swaps the staging directory in atomically
//! ([`swap`]). [`compare`] produces the same files in memory, one at a time, and keeps only
//! the [`Change`]s against DIR (`--check`, `netc diff`).

mod diff;
mod manifest;
mod sink;
mod swap;

use std::path::{Path, PathBuf};

pub use diff::{Summary, render, summary};
pub use manifest::{MANIFEST, Manifest, digest};
pub use sink::{CompareSink, DiskSink, SLOW_WRITE_ENV};

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
    #[error("{path}: not a netc manifest: {message}")]
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
    swap::recover(dir)?;
    let staging = swap::staging_path(dir)?;
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(|e| OutputError::io(&staging, e))?;
    }
    std::fs::create_dir_all(&staging).map_err(|e| OutputError::io(&staging, e))?;
    let result = stage(dir, &staging, source, emit)
        .and_then(|written| swap::replace(dir, &staging).map(|()| written));
    if result.is_err() && staging.exists() {
        // Best effort: a leftover staging directory is also removed by the next build.
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Fills the staging directory: netc's files, the manifest, and DIR's foreign files.
fn stage(
    dir: &Path,
    staging: &Path,
    source: &str,
    emit: impl FnOnce(&mut dyn ArtifactSink) -> Result<(), EmitError>,
) -> Result<Written, OutputError> {
    let previous = if dir.is_dir() {
        Manifest::read(dir)?
    } else {
        None
    };
    let mut sink = DiskSink::with_previous(
        staging,
        source,
        previous.clone().map(|m| (dir.to_owned(), m)),
    );
    emit(&mut sink)?;
    let manifest = sink.into_manifest();
    let mut written = Written {
        files: manifest.files.len(),
        ..Written::default()
    };
    if dir.is_dir() {
        let own = previous.as_ref();
        for entry in walk(dir)? {
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
            if manifest.contains(rel) {
                return Err(OutputError::Foreign {
                    path: dir.join(rel).display().to_string(),
                });
            }
            carry_over(&entry, &staging.join(rel))?;
            if entry.kind != Kind::Dir {
                written.kept += 1;
            }
        }
    }
    let path = staging.join(MANIFEST);
    std::fs::write(&path, manifest.to_bytes()).map_err(|e| OutputError::io(&path, e))?;
    Ok(written)
}

/// Every difference between DIR and what `emit` produces, sorted by path: changed and missing
/// files, netc's stale files, and (only when nothing else differs) an outdated manifest.
pub fn compare(
    dir: &Path,
    source: &str,
    emit: impl FnOnce(&mut dyn ArtifactSink) -> Result<(), EmitError>,
) -> Result<Vec<Change>, OutputError> {
    swap::recover(dir)?;
    let mut sink = CompareSink::new(dir, source);
    emit(&mut sink)?;
    let previous = if dir.is_dir() {
        Manifest::read(dir)?
    } else {
        None
    };
    let mut changes = sink.changes;
    if let Some(prev) = &previous {
        for path in prev.files.keys() {
            if sink.manifest.contains(path) {
                continue;
            }
            let full = dir.join(path);
            match std::fs::read(&full) {
                Ok(bytes) => changes.push(Change {
                    path: path.clone(),
                    current: Some(bytes),
                    wanted: None,
                }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(OutputError::io(&full, e)),
            }
        }
    }
    let wanted = sink.manifest.to_bytes();
    let current = std::fs::read(dir.join(MANIFEST)).ok();
    if changes.is_empty() && current.as_deref() != Some(wanted.as_slice()) {
        changes.push(Change {
            path: MANIFEST.to_owned(),
            current,
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
}

struct Entry {
    rel: String,
    full: PathBuf,
    kind: Kind,
}

/// Every file, symlink and empty directory under `root`, with `/`-separated relative paths.
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
            let ty = entry.file_type().map_err(|e| OutputError::io(&full, e))?;
            if ty.is_dir() {
                stack.push((full, child_rel));
            } else {
                let kind = if ty.is_symlink() {
                    Kind::Symlink
                } else {
                    Kind::File
                };
                out.push(Entry {
                    rel: child_rel,
                    full,
                    kind,
                });
            }
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

/// Copies one foreign entry into the staging tree, keeping symlinks as symlinks and modes.
fn carry_over(entry: &Entry, to: &Path) -> Result<(), OutputError> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| OutputError::io(parent, e))?;
    }
    match entry.kind {
        Kind::Dir => std::fs::create_dir_all(to).map_err(|e| OutputError::io(to, e)),
        Kind::File => std::fs::copy(&entry.full, to)
            .map(|_| ())
            .map_err(|e| OutputError::io(&entry.full, e)),
        Kind::Symlink => {
            let target =
                std::fs::read_link(&entry.full).map_err(|e| OutputError::io(&entry.full, e))?;
            symlink(&target, to).map_err(|e| OutputError::io(to, e))
        }
    }
}

#[cfg(unix)]
fn symlink(target: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(not(unix))]
fn symlink(target: &Path, at: &Path) -> std::io::Result<()> {
    std::fs::copy(target, at).map(|_| ())
}
