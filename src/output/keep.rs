//! What a build keeps of DIR besides contents: the owner and mode (setgid and sticky included)
//! of DIR and of each of its directories, and the identity of the files netc carries over.
//!
//! The swap replaces DIR by another directory, so DIR's inode cannot be kept; its owner, group
//! and mode are copied onto the staging directory before anything is written into it (so a
//! setgid DIR's group is inherited by everything netc creates). Carried-over files and symbolic
//! links are hard-linked into the staging tree, so they stay the same inode: owner, mode, times
//! and every other name of the file (inside DIR or out of it) are kept. Only where the kernel
//! refuses a hard link (a mount inside DIR, `fs.protected_hardlinks` for a non-root user) is the
//! file copied, with its owner (when allowed) and mode.
//!
//! Owners are copied when the user may (root, or the owner keeping a group it belongs to);
//! otherwise the user's own stays, as with any file it creates.

use std::cmp::Reverse;
use std::collections::HashSet;
use std::fs::{Metadata, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The directories of a staging tree, each created like its counterpart in DIR if there is one.
pub(super) struct StagingDirs {
    staging: PathBuf,
    /// DIR, when it exists.
    old: Option<PathBuf>,
    /// Relative directories that exist in the staging tree (`""` is its root).
    made: HashSet<String>,
    /// Modes to set once the tree is complete. While it is built, a copied directory is
    /// writable by its owner only, so no one else can add entries to the staging tree, and the
    /// owner can write into it even when DIR's mode does not let it.
    exact: Vec<(PathBuf, u32)>,
}

impl StagingDirs {
    /// `staging` (existing, empty) becomes like `old` (DIR, when it exists).
    pub(super) fn new(staging: &Path, old: Option<&Path>) -> io::Result<Self> {
        let mut dirs = Self {
            staging: staging.to_owned(),
            old: old.map(Path::to_owned),
            made: HashSet::from([String::new()]),
            exact: Vec::new(),
        };
        if let Some(old) = old {
            let meta = std::fs::symlink_metadata(old)?;
            dirs.copy_onto(staging, &meta)?;
        }
        Ok(dirs)
    }

    pub(super) fn root(&self) -> &Path {
        &self.staging
    }

    /// Makes the directory `rel` (`/`-separated, `""` = the root) and its parents exist.
    pub(super) fn ensure(&mut self, rel: &str) -> io::Result<()> {
        if self.made.contains(rel) {
            return Ok(());
        }
        if let Some((parent, _)) = rel.rsplit_once('/') {
            self.ensure(parent)?;
        }
        let to = self.staging.join(rel);
        // `create_dir`, not `create_dir_all`: an entry already there was not made by this build.
        std::fs::create_dir(&to)?;
        if let Some(old) = &self.old
            && let Ok(meta) = std::fs::symlink_metadata(old.join(rel))
            && meta.is_dir()
        {
            self.copy_onto(&to, &meta)?;
        }
        self.made.insert(rel.to_owned());
        Ok(())
    }

    /// Makes the parent directory of the file `rel` exist.
    pub(super) fn ensure_parent(&mut self, rel: &str) -> io::Result<()> {
        match rel.rsplit_once('/') {
            Some((parent, _)) => self.ensure(parent),
            None => Ok(()),
        }
    }

    fn copy_onto(&mut self, to: &Path, from: &Metadata) -> io::Result<()> {
        keep_owner(to, from, false)?;
        let mode = from.mode() & 0o7777;
        let building = (mode & !0o022) | 0o700;
        std::fs::set_permissions(to, Permissions::from_mode(building))?;
        if building != mode {
            self.exact.push((to.to_owned(), mode));
        }
        Ok(())
    }

    /// Gives every copied directory its exact mode, deepest first.
    pub(super) fn finish(mut self) -> io::Result<()> {
        self.exact
            .sort_by_key(|(path, _)| Reverse(path.components().count()));
        for (path, mode) in self.exact {
            std::fs::set_permissions(&path, Permissions::from_mode(mode))?;
        }
        Ok(())
    }
}

/// Gives `to` the owner and group of `from` where the user may: both (root), else the group
/// alone (a group the user belongs to), else neither.
fn keep_owner(to: &Path, from: &Metadata, symlink: bool) -> io::Result<()> {
    let chown = |uid: Option<u32>, gid: Option<u32>| {
        if symlink {
            std::os::unix::fs::lchown(to, uid, gid)
        } else {
            std::os::unix::fs::chown(to, uid, gid)
        }
    };
    let not_permitted = |e: &io::Error| e.raw_os_error() == Some(libc::EPERM);
    match chown(Some(from.uid()), Some(from.gid())) {
        Err(e) if not_permitted(&e) => match chown(None, Some(from.gid())) {
            Err(e) if not_permitted(&e) => Ok(()),
            other => other,
        },
        other => other,
    }
}

/// Carries a foreign regular file or symbolic link over to `to`: the same inode by a hard link,
/// or, where the kernel refuses one, a copy with the owner and mode of the original.
pub(super) fn carry_over(from: &Path, to: &Path) -> io::Result<()> {
    // On Linux `hard_link` is `linkat(..., 0)`: a symbolic link is linked, not followed.
    match std::fs::hard_link(from, to) {
        Ok(()) => return Ok(()),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EXDEV | libc::EPERM | libc::EMLINK | libc::EACCES)
            ) => {}
        Err(e) => return Err(e),
    }
    copy_keeping_owner(from, to)
}

/// Copies a regular file or symbolic link with its owner (where allowed) and mode.
fn copy_keeping_owner(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        let target = std::fs::read_link(from)?;
        std::os::unix::fs::symlink(target, to)?;
        return keep_owner(to, &meta, true);
    }
    // O_NOFOLLOW | O_NONBLOCK: `from` was a regular file when DIR was walked; should it have
    // become a link or a FIFO since, the copy fails instead of following or blocking.
    let mut source = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(from)?;
    if !source.metadata()?.is_file() {
        return Err(io::Error::other("no longer a regular file"));
    }
    let mut copy = OpenOptions::new().write(true).create_new(true).open(to)?;
    io::copy(&mut source, &mut copy)?;
    keep_owner(to, &meta, false)?;
    copy.set_permissions(Permissions::from_mode(meta.mode() & 0o7777))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_fallback_keeps_mode_owner_and_links() {
        let t = tempfile::tempdir().unwrap();
        let from = t.path().join("f");
        std::fs::write(&from, "x").unwrap();
        std::fs::set_permissions(&from, Permissions::from_mode(0o640)).unwrap();
        // SAFETY: getuid/getgid have no preconditions.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let owner = if uid == 0 { 65534 } else { uid };
        let group = if uid == 0 { 65534 } else { gid };
        std::os::unix::fs::chown(&from, Some(owner), Some(group)).unwrap();
        let to = t.path().join("g");
        copy_keeping_owner(&from, &to).unwrap();
        let m = std::fs::metadata(&to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), b"x");
        assert_eq!(m.mode() & 0o7777, 0o640);
        assert_eq!((m.uid(), m.gid()), (owner, group));
        assert_ne!(m.ino(), std::fs::metadata(&from).unwrap().ino());

        let link = t.path().join("l");
        std::os::unix::fs::symlink("f", &link).unwrap();
        let to = t.path().join("l2");
        copy_keeping_owner(&link, &to).unwrap();
        assert_eq!(std::fs::read_link(&to).unwrap(), Path::new("f"));

        // A FIFO is not copied (and the copy does not block).
        let fifo = t.path().join("p");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(copy_keeping_owner(&fifo, &t.path().join("p2")).is_err());
    }
}
