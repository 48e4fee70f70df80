//! Reading files inside an output directory without ever leaving it.
//!
//! DIR's contents are not trusted: in a CI drift check the pull request controls them. Every
//! path netc reads below DIR — its own files, the manifest, the stale entries the manifest
//! lists — is first checked to be a plain relative path ([`path_problem`]) and then resolved
//! one component at a time from a descriptor of DIR with `openat(O_NOFOLLOW)`, so neither `..`
//! nor a symbolic link (at any component) can lead outside. Only directories and regular files
//! are opened, and a file's type is checked with `fstatat(AT_SYMLINK_NOFOLLOW)` before it is
//! opened, so a FIFO never blocks a read and a device is never opened.

use std::cell::RefCell;
use std::ffi::CString;
use std::fs::{File, FileType};
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::OutputError;

/// Why `path` is not a plain relative path inside the output directory (`None`: it is one).
/// Plain: `/`-separated, no empty, `.` or `..` component, not absolute, no backslash, no
/// control character (a newline would forge lines of the unified diff).
pub fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        Some("is empty")
    } else if path.starts_with('/') {
        Some("is absolute; entries are relative to the output directory")
    } else if path.chars().any(char::is_control) {
        Some("contains a control character")
    } else if path.contains('\\') {
        Some("contains a backslash")
    } else if path.split('/').any(|c| c == "..") {
        Some("has a `..` component; entries stay inside the output directory")
    } else if path.split('/').any(|c| c.is_empty() || c == ".") {
        Some("is not normalised (an empty or `.` component)")
    } else {
        None
    }
}

/// What a file is, for messages ("a FIFO").
pub fn file_kind(ty: FileType) -> &'static str {
    if ty.is_file() {
        "a regular file"
    } else if ty.is_dir() {
        "a directory"
    } else if ty.is_symlink() {
        "a symbolic link"
    } else if ty.is_fifo() {
        "a FIFO"
    } else if ty.is_socket() {
        "a socket"
    } else if ty.is_char_device() {
        "a character device"
    } else if ty.is_block_device() {
        "a block device"
    } else {
        "not a regular file"
    }
}

/// The message for an entry that netc does not read because of its type.
pub(super) fn refused_kind(ty: FileType, wanted: &str) -> String {
    if ty.is_symlink() {
        "is a symbolic link; netc never follows links inside the output directory".to_owned()
    } else {
        format!(
            "is {}, not {wanted}; netc reads only regular files and directories in the output \
             directory",
            file_kind(ty)
        )
    }
}

/// An output directory opened for reading: a descriptor of DIR itself (none when DIR does not
/// exist, so every read finds nothing).
pub struct ConfinedDir {
    path: PathBuf,
    fd: Option<OwnedFd>,
    /// The directories of the last read below DIR: (name, descriptor), outermost first.
    chain: RefCell<Vec<(String, OwnedFd)>>,
}

impl ConfinedDir {
    /// Opens DIR. DIR itself must be a directory, not a symbolic link to one: `build` replaces
    /// DIR by renaming, which would replace the link, not the directory it points to.
    pub fn open(dir: &Path) -> Result<Self, OutputError> {
        let bad = |message: String| OutputError::BadOutput {
            path: dir.display().to_string(),
            message,
        };
        match std::fs::symlink_metadata(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: dir.to_owned(),
                    fd: None,
                    chain: RefCell::default(),
                });
            }
            Err(e) => return Err(OutputError::io(dir, e)),
            Ok(m) if m.file_type().is_symlink() => {
                return Err(bad(
                    "is a symbolic link; give the output directory itself".to_owned()
                ));
            }
            Ok(m) if !m.is_dir() => {
                return Err(bad(format!(
                    "is {}; the output directory must be a directory",
                    file_kind(m.file_type())
                )));
            }
            Ok(_) => {}
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir)
            .map_err(|e| OutputError::io(dir, e))?;
        Ok(Self {
            path: dir.to_owned(),
            fd: Some(OwnedFd::from(file)),
            chain: RefCell::default(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether DIR existed when it was opened.
    pub fn exists(&self) -> bool {
        self.fd.is_some()
    }

    /// The contents of the regular file at `rel` (a `/`-separated path inside DIR); `None` when
    /// it, or a directory on the way, does not exist. A symbolic link at any component, or a
    /// file that is not a regular file (FIFO, device, socket, directory), is an error naming it.
    pub fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, OutputError> {
        if let Some(problem) = path_problem(rel) {
            return Err(OutputError::BadOutput {
                path: format!("{rel:?}"),
                message: problem.to_owned(),
            });
        }
        let Some(root) = &self.fd else {
            return Ok(None);
        };
        let full = self.path.join(rel);
        let err = |e: io::Error| OutputError::io(&full, e);
        let refused = |at: &str, ty: FileType, wanted: &str| OutputError::BadOutput {
            path: self.path.join(at).display().to_string(),
            message: refused_kind(ty, wanted),
        };
        let components: Vec<&str> = rel.split('/').collect();
        let (name, parents) = components.split_last().ok_or_else(|| {
            // `path_problem` refused the empty path; an empty split cannot happen.
            err(io::Error::from(io::ErrorKind::InvalidInput))
        })?;
        // Directories of the previous read are reused: files come grouped by directory.
        let mut chain = self.chain.borrow_mut();
        let shared = chain
            .iter()
            .zip(parents.iter())
            .take_while(|((held, _), wanted)| held == *wanted)
            .count();
        chain.truncate(shared);
        for (depth, component) in parents.iter().enumerate().skip(shared) {
            let parent = chain.last().map_or(root, |(_, fd)| fd);
            let Some((fd, ty)) = entry_at(parent, component).map_err(err)? else {
                return Ok(None);
            };
            if !ty.is_dir() {
                return Err(refused(&parents[..=depth].join("/"), ty, "a directory"));
            }
            chain.push(((*component).to_owned(), fd));
        }
        let parent = chain.last().map_or(root, |(_, fd)| fd);
        let Some((_, ty)) = entry_at(parent, name).map_err(err)? else {
            return Ok(None);
        };
        if !ty.is_file() {
            return Err(refused(rel, ty, "a regular file"));
        }
        // O_NONBLOCK: should the file be swapped for a FIFO after the check, open still returns.
        let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
        let mut file = File::from(open_at(parent, name, flags).map_err(err)?);
        let ty = file.metadata().map_err(err)?.file_type();
        if !ty.is_file() {
            return Err(refused(rel, ty, "a regular file"));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(err)?;
        Ok(Some(bytes))
    }
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// `openat(dir, name, flags)`.
fn open_at(dir: &OwnedFd, name: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
    let name = c_name(name)?;
    // SAFETY: `dir` is an open descriptor and `name` a NUL-terminated string, both alive for
    // the call; on success the returned descriptor is ours alone.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by openat and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The entry `name` in `dir`, not following a symbolic link, and its type; `None` when it does
/// not exist. O_PATH opens nothing (no driver is called, a FIFO does not block) and, with
/// O_NOFOLLOW, yields the link itself for a symbolic link. A directory's descriptor serves
/// as the `dir` of the next component.
fn entry_at(dir: &OwnedFd, name: &str) -> io::Result<Option<(OwnedFd, FileType)>> {
    let flags = libc::O_PATH | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    match open_at(dir, name, flags) {
        Ok(fd) => {
            let file = File::from(fd);
            let ty = file.metadata()?.file_type();
            Ok(Some((OwnedFd::from(file), ty)))
        }
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_relative_paths_only() {
        for ok in ["a", "kubeadm/init.yaml", "a.b/c-d_e", "..a/b..", ".hidden"] {
            assert_eq!(path_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "./a",
            "a//b",
            "a/",
            "a\\b",
            "a\nb",
            "a\0b",
            "a\x1b[2J",
        ] {
            assert!(path_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn reads_regular_files_and_refuses_links_at_every_component() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        std::fs::create_dir_all(dir.join("a/b")).unwrap();
        std::fs::write(dir.join("a/b/f"), "inside").unwrap();
        std::fs::write(t.path().join("secret"), "outside").unwrap();
        std::os::unix::fs::symlink(t.path().join("secret"), dir.join("a/link")).unwrap();
        std::os::unix::fs::symlink(dir.join("a/b"), dir.join("dirlink")).unwrap();
        let d = ConfinedDir::open(&dir).unwrap();
        assert_eq!(d.read("a/b/f").unwrap().as_deref(), Some(&b"inside"[..]));
        assert_eq!(d.read("a/missing").unwrap(), None);
        assert_eq!(d.read("missing/f").unwrap(), None);
        let e = d.read("a/link").unwrap_err().to_string();
        assert!(e.contains("a/link") && e.contains("symbolic link"), "{e}");
        let e = d.read("dirlink/f").unwrap_err().to_string();
        assert!(e.contains("dirlink") && e.contains("symbolic link"), "{e}");
        let e = d.read("a/b").unwrap_err().to_string();
        assert!(e.contains("a directory, not a regular file"), "{e}");
        let e = d.read("a/b/f/g").unwrap_err().to_string();
        assert!(e.contains("a regular file, not a directory"), "{e}");
        assert!(d.read("../secret").is_err());

        let none = ConfinedDir::open(&t.path().join("absent")).unwrap();
        assert_eq!(none.read("a").unwrap(), None);
        std::os::unix::fs::symlink(&dir, t.path().join("outlink")).unwrap();
        assert!(ConfinedDir::open(&t.path().join("outlink")).is_err());
    }
}
