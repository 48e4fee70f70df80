//! Atomic writes under `--root` (write a temporary file beside the target, fsync, rename). Which
//! files a node gets, and where, is `emit`'s to say (`emit::node_artifacts`).

use std::ffi::{CStr, CString};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::apply::ApplyError;

/// `path` (absolute host path) under `root`, lexically; refuses anything that could escape
/// `root` by its spelling. The files themselves are only ever reached through [`Beneath`],
/// which also refuses symbolic links leading out of `root`.
pub fn under(root: &Path, path: &str) -> Result<PathBuf, ApplyError> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty()
        || rel
            .split('/')
            .any(|c| c == ".." || c == "." || c.is_empty())
        || rel.contains('\0')
    {
        return Err(ApplyError::BadFilePath {
            path: path.to_owned(),
        });
    }
    Ok(root.join(rel))
}

/// A directory under `--root` opened without following any link out of `root`, and the name
/// of the file in it.
///
/// Every component is resolved from a descriptor of `root`: with `openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS)` (Linux 5.6+; openat2(2)) symbolic links are followed only while
/// they stay beneath `root` — an absolute link or one whose `..` climbs out fails with `EXDEV`.
/// Where `openat2` is missing (`ENOSYS`, or `EPERM` from a seccomp filter) each component is
/// opened with `O_NOFOLLOW`, so every symbolic link on the way is refused. The file itself is
/// never followed: it is opened with `O_NOFOLLOW` (a link there is refused), replaced by
/// `renameat` and removed by `unlinkat`, all relative to the directory's descriptor.
struct Beneath {
    dir: OwnedFd,
    name: CString,
    /// `root` + `path`, for messages.
    full: PathBuf,
}

fn c_string(s: &str) -> std::io::Result<CString> {
    CString::new(s).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))
}

fn check_fd(fd: libc::c_int) -> std::io::Result<OwnedFd> {
    if fd < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        // SAFETY: the kernel just returned this descriptor and nothing else owns it.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// `openat2(dir, path, flags, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`.
fn openat2_beneath(dir: &OwnedFd, path: &CStr, flags: libc::c_int) -> std::io::Result<OwnedFd> {
    /// `struct open_how` of `include/uapi/linux/openat2.h` (libc's is non-exhaustive).
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: 0,
        resolve: libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
    };
    // SAFETY: `path` is NUL-terminated, `how` lives across the call and its size is passed.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            path.as_ptr(),
            &raw const how,
            std::mem::size_of::<OpenHow>(),
        )
    };
    check_fd(fd as libc::c_int)
}

fn openat(
    dir: &OwnedFd,
    name: &CStr,
    flags: libc::c_int,
    mode: libc::mode_t,
) -> std::io::Result<OwnedFd> {
    // SAFETY: `name` is NUL-terminated; `dir` is an open descriptor.
    check_fd(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            libc::c_uint::from(mode),
        )
    })
}

/// Whether `openat2` works here (probed once).
fn has_openat2(root: &OwnedFd) -> bool {
    static PROBE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PROBE.get_or_init(|| {
        let dot = c".";
        !matches!(
            openat2_beneath(root, dot, libc::O_RDONLY | libc::O_DIRECTORY),
            // ENOSYS: before Linux 5.6; EPERM: a seccomp filter (older container runtimes)
            // that does not know the call.
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM))
        )
    })
}

/// What a refused link looks like, per resolution mode.
fn escapes(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EXDEV) | Some(libc::ELOOP) | Some(libc::ENOTDIR)
    )
}

impl Beneath {
    /// Opens the directory of `path` under `root`; with `create`, makes missing directories
    /// (mode 0755). `Ok(None)`: a directory is missing and `create` is false.
    fn open(root: &Path, path: &str, create: bool) -> Result<Option<Beneath>, ApplyError> {
        Self::open_with(root, path, create, None)
    }

    /// [`Self::open`]; `openat2: Some(false)` forces the `O_NOFOLLOW` walk (for tests).
    fn open_with(
        root: &Path,
        path: &str,
        create: bool,
        openat2: Option<bool>,
    ) -> Result<Option<Beneath>, ApplyError> {
        let full = under(root, path)?;
        let rel = path.trim_start_matches('/');
        let (parents, name) = match rel.rsplit_once('/') {
            Some((p, n)) => (p.split('/').collect::<Vec<_>>(), n),
            None => (Vec::new(), rel),
        };
        let io = |what: &Path, e: std::io::Error| ApplyError::Io {
            object: format!("directory {}", what.display()),
            source: e,
        };
        if create {
            std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
        }
        let root_fd = match std::fs::File::open(root) {
            Ok(f) => OwnedFd::from(f),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(root, e)),
        };
        let beneath = openat2.unwrap_or_else(|| has_openat2(&root_fd));
        let mut dir = root_fd.try_clone().map_err(|e| io(root, e))?;
        for (i, component) in parents.iter().enumerate() {
            let shown = root.join(parents[..=i].join("/"));
            let flags = libc::O_RDONLY | libc::O_DIRECTORY;
            let c = c_string(component).map_err(|e| io(&shown, e))?;
            let prefix = c_string(&parents[..=i].join("/")).map_err(|e| io(&shown, e))?;
            let open = |dir: &OwnedFd| {
                if beneath {
                    openat2_beneath(&root_fd, &prefix, flags)
                } else {
                    openat(dir, &c, flags | libc::O_NOFOLLOW, 0)
                }
            };
            let next = match open(&dir) {
                Ok(fd) => fd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                    // SAFETY: `c` is NUL-terminated; `dir` is an open directory.
                    let rc = unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755) };
                    if rc != 0 {
                        let e = std::io::Error::last_os_error();
                        if e.kind() != std::io::ErrorKind::AlreadyExists {
                            return Err(io(&shown, e));
                        }
                    }
                    open(&dir).map_err(|e| refuse_or(&shown, root, e))?
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(refuse_or(&shown, root, e)),
            };
            dir = next;
        }
        let name = c_string(name).map_err(|e| io(&full, e))?;
        Ok(Some(Beneath { dir, name, full }))
    }

    fn io(&self, e: std::io::Error) -> ApplyError {
        ApplyError::Io {
            object: format!("file {}", self.full.display()),
            source: e,
        }
    }

    /// The error for the file itself being a symbolic link.
    fn link_refused(&self) -> ApplyError {
        ApplyError::SymbolicLink {
            path: self.full.clone(),
        }
    }
}

/// A link out of `root` on the way (`EXDEV` from `openat2`, `ELOOP`/`ENOTDIR` from
/// `O_NOFOLLOW`) is a refusal naming the place; anything else an I/O error.
fn refuse_or(shown: &Path, root: &Path, e: std::io::Error) -> ApplyError {
    if escapes(&e) {
        ApplyError::LinkOutOfRoot {
            path: shown.to_owned(),
            root: root.to_owned(),
        }
    } else {
        ApplyError::Io {
            object: format!("directory {}", shown.display()),
            source: e,
        }
    }
}

/// Current contents, `None` if absent. A symbolic link or anything but a regular file is
/// refused (reading a FIFO would block).
pub fn read(root: &Path, path: &str) -> Result<Option<Vec<u8>>, ApplyError> {
    Ok(read_with_mode(root, path)?.map(|(bytes, _)| bytes))
}

/// [`read`], with the file's permission bits.
pub fn read_with_mode(root: &Path, path: &str) -> Result<Option<(Vec<u8>, u32)>, ApplyError> {
    let Some(at) = Beneath::open(root, path, false)? else {
        return Ok(None);
    };
    let fd = match openat(
        &at.dir,
        &at.name,
        libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        0,
    ) {
        Ok(fd) => fd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Err(at.link_refused()),
        Err(e) => return Err(at.io(e)),
    };
    let mut file = std::fs::File::from(fd);
    let meta = file.metadata().map_err(|e| at.io(e))?;
    if !meta.is_file() {
        return Err(ApplyError::NotRegularFile {
            path: at.full.clone(),
        });
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| at.io(e))?;
    Ok(Some((bytes, meta.permissions().mode() & 0o7777)))
}

/// Fills `buf` from the kernel's random pool (`getrandom(2)`, retried on EINTR).
pub(crate) fn fill_random(buf: &mut [u8]) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        // SAFETY: the buffer is valid for `len - filled` bytes from `filled`.
        let n =
            unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), buf.len() - filled, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        filled += n as usize;
    }
    Ok(())
}

/// A temporary name nobody can guess: 128 bits from the kernel's random pool.
fn temporary_name(name: &CStr) -> std::io::Result<CString> {
    let mut random = [0u8; 16];
    fill_random(&mut random)?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    // `.<name>.netc-<hex>`, the name cut so the whole stays a valid file name (NAME_MAX, 255
    // bytes): any name the target itself may have gets a temporary name.
    let keep = NAME_MAX - ".".len() - ".netc-".len() - hex.len();
    let name = name.to_string_lossy();
    let mut cut = name.len().min(keep);
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    c_string(&format!(".{}.netc-{hex}", &name[..cut]))
}

/// The longest file name (one path component) Linux file systems take.
pub const NAME_MAX: usize = 255;

/// Who may read a file netc writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// A new file 0644; an existing one keeps its mode.
    Public,
    /// Holds credentials (a proxy URL may carry a password): a new file 0600; an existing one
    /// others may read is narrowed to 0600 (an administrator's `root:<group>` 0640 is kept).
    Credentials,
    /// netc's own record: 0600, whatever the file's mode was.
    Record,
}

impl Access {
    fn of_installed(host_path: &str) -> Self {
        if crate::emit::holds_credentials(host_path) {
            Access::Credentials
        } else {
            Access::Public
        }
    }

    fn mode(self, existing: Option<u32>) -> u32 {
        match (self, existing) {
            (Access::Public, None) => 0o644,
            (Access::Public, Some(mode)) => mode,
            (Access::Credentials, None) | (Access::Record, _) => 0o600,
            (Access::Credentials, Some(mode)) if mode & 0o007 != 0 => 0o600,
            (Access::Credentials, Some(mode)) => mode & 0o7640,
        }
    }
}

/// Whether the installed file `host_path`, now of permission bits `mode`, is readable by more
/// than netc would install it for ([`write`] narrows it): a file holding credentials that
/// others may read, whatever its contents.
pub fn too_open(host_path: &str, mode: u32) -> bool {
    Access::of_installed(host_path).mode(Some(mode)) != mode
}

/// Writes `contents` atomically: readers see the old file or the new one, never a part. The
/// temporary file is created with `O_EXCL | O_NOFOLLOW` under an unpredictable name beside the
/// target and renamed over it; a symbolic link at the target is refused, never followed.
/// An existing file's permission bits are kept; a new file gets 0644.
/// A file that holds credentials (`emit::holds_credentials`) is written 0600 (an existing one
/// others may read narrowed to 0600, an existing 0640 kept).
pub fn write(root: &Path, path: &str, contents: &[u8]) -> Result<(), ApplyError> {
    write_with(root, path, contents, true, Access::of_installed(path))
}

/// [`write`] of netc's own records (state, status, the desired-state cache): owner-only, 0600,
/// whatever the file's mode was (they hold installed files' contents). Without `sync`, as
/// atomic for readers, but a crash may lose the new file or leave an empty one (for files whose
/// loss costs nothing, such as `apply::store::cache`).
pub fn write_private(
    root: &Path,
    path: &str,
    contents: &[u8],
    sync: bool,
) -> Result<(), ApplyError> {
    write_with(root, path, contents, sync, Access::Record)
}

fn write_with(
    root: &Path,
    path: &str,
    contents: &[u8],
    sync: bool,
    access: Access,
) -> Result<(), ApplyError> {
    let mut staged = Staged::new(root, path, contents, access)?;
    if sync {
        staged.sync()?;
    }
    staged.commit()?;
    if sync {
        staged.sync_dir()?;
    }
    Ok(())
}

/// Files written and synced under their temporary names, not yet in place: nothing on the
/// host reads them until [`StagedFiles::commit`]. Several files are written as [`write`]
/// writes one, each atomically, with one sync pass instead of two syncs per file. Dropped instead, their temporary files are
/// removed (the directories made for them stay, as after a rollback of [`write`]).
pub struct StagedFiles(Vec<Staged>);

/// Writes every file under its temporary name, starts writeback of all of them, then syncs
/// each (the filesystem journal commits once for all). On failure, the index of the file.
pub fn stage(root: &Path, files: &[(&str, &[u8])]) -> Result<StagedFiles, (usize, ApplyError)> {
    let mut staged = Vec::with_capacity(files.len());
    for (i, (path, contents)) in files.iter().enumerate() {
        match Staged::new(root, path, contents, Access::of_installed(path)) {
            Ok(s) => staged.push(s),
            Err(e) => return Err((i, e)),
        }
    }
    for s in &staged {
        s.start_writeback();
    }
    for (i, s) in staged.iter().enumerate() {
        s.sync().map_err(|e| (i, e))?;
    }
    Ok(StagedFiles(staged))
}

impl StagedFiles {
    /// Renames each file over its target in order (`renamed(i)` once file `i` is in place),
    /// then syncs each directory. No file is renamed before the data of all is on disk.
    pub fn commit(mut self, mut renamed: impl FnMut(usize)) -> Result<(), (usize, ApplyError)> {
        for (i, s) in self.0.iter_mut().enumerate() {
            s.commit().map_err(|e| (i, e))?;
            renamed(i);
        }
        for (i, s) in self.0.iter().enumerate() {
            s.sync_dir().map_err(|e| (i, e))?;
        }
        Ok(())
    }
}

/// A file written under its temporary name beside the target, not yet in place. Dropped before
/// [`Staged::commit`], the temporary file is removed.
struct Staged {
    at: Beneath,
    tmp: CString,
    file: std::fs::File,
    committed: bool,
}

impl Staged {
    fn new(root: &Path, path: &str, contents: &[u8], access: Access) -> Result<Staged, ApplyError> {
        let at = Beneath::open(root, path, true)?.ok_or_else(|| ApplyError::NoDirectory {
            path: path.to_owned(),
        })?;
        let mode = match openat(&at.dir, &at.name, libc::O_PATH | libc::O_NOFOLLOW, 0) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => access.mode(None),
            Err(e) => return Err(at.io(e)),
            Ok(fd) => match std::fs::File::from(fd).metadata() {
                Ok(m) if m.file_type().is_symlink() => return Err(at.link_refused()),
                Ok(m) if m.is_file() => access.mode(Some(m.permissions().mode() & 0o7777)),
                Ok(_) => {
                    return Err(ApplyError::NotRegularFile {
                        path: at.full.clone(),
                    });
                }
                Err(e) => return Err(at.io(e)),
            },
        };
        let (tmp, fd) = loop {
            let tmp = temporary_name(&at.name).map_err(|e| at.io(e))?;
            match openat(
                &at.dir,
                &tmp,
                libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
                mode as libc::mode_t,
            ) {
                Ok(fd) => break (tmp, fd),
                // 128 random bits collided: someone planted this very name. Draw again.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(at.io(e)),
            }
        };
        let staged = Staged {
            at,
            tmp,
            file: std::fs::File::from(fd),
            committed: false,
        };
        (|| {
            (&staged.file).write_all(contents)?;
            // The umask may have narrowed the mode given to openat.
            staged
                .file
                .set_permissions(std::fs::Permissions::from_mode(mode))
        })()
        .map_err(|e| staged.at.io(e))?;
        Ok(staged)
    }

    /// Starts writing the data back without waiting (`sync_file_range`), so that the syncs
    /// that follow find it under way or done.
    fn start_writeback(&self) {
        // SAFETY: an open descriptor; offset 0 and length 0 mean the whole file. Advisory:
        // a failure only leaves the work to `sync`.
        unsafe {
            libc::sync_file_range(self.file.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }

    fn sync(&self) -> Result<(), ApplyError> {
        self.file.sync_all().map_err(|e| self.at.io(e))
    }

    /// Renames the temporary file over the target.
    fn commit(&mut self) -> Result<(), ApplyError> {
        // SAFETY: both names are NUL-terminated; `at.dir` is an open directory.
        let rc = unsafe {
            libc::renameat(
                self.at.dir.as_raw_fd(),
                self.tmp.as_ptr(),
                self.at.dir.as_raw_fd(),
                self.at.name.as_ptr(),
            )
        };
        if rc != 0 {
            return Err(self.at.io(std::io::Error::last_os_error()));
        }
        self.committed = true;
        Ok(())
    }

    /// Makes the rename durable.
    fn sync_dir(&self) -> Result<(), ApplyError> {
        // SAFETY: `at.dir` is an open directory descriptor.
        if unsafe { libc::fsync(self.at.dir.as_raw_fd()) } != 0 {
            return Err(self.at.io(std::io::Error::last_os_error()));
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            // SAFETY: `tmp` is NUL-terminated; removing our own temporary file.
            unsafe { libc::unlinkat(self.at.dir.as_raw_fd(), self.tmp.as_ptr(), 0) };
        }
    }
}

/// Removes a file (absent is fine). A symbolic link in its place is removed itself, never
/// followed.
pub fn remove(root: &Path, path: &str) -> Result<(), ApplyError> {
    let Some(at) = Beneath::open(root, path, false)? else {
        return Ok(());
    };
    // SAFETY: `at.name` is NUL-terminated; `at.dir` is an open directory.
    if unsafe { libc::unlinkat(at.dir.as_raw_fd(), at.name.as_ptr(), 0) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::NotFound {
            return Err(at.io(e));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(r: Result<Option<Beneath>, ApplyError>) -> bool {
        matches!(r, Err(ApplyError::LinkOutOfRoot { .. }))
    }

    #[test]
    fn both_walks_refuse_links_out_of_root_and_the_fallback_refuses_every_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("srv/cni")).unwrap();
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("etc/out")).unwrap();
        std::os::unix::fs::symlink("../../..", root.join("etc/up")).unwrap();
        std::os::unix::fs::symlink("../srv/cni", root.join("etc/cni")).unwrap();
        for openat2 in [true, false] {
            for path in ["/etc/out/x.conf", "/etc/up/x.conf", "/etc/out/new/x.conf"] {
                let r = Beneath::open_with(&root, path, true, Some(openat2));
                assert!(refused(r), "{path} (openat2: {openat2}) not refused");
            }
        }
        // A link that stays under root: followed by openat2, refused by the fallback.
        let inside = Beneath::open_with(&root, "/etc/cni/x.conf", true, Some(true));
        assert!(matches!(inside, Ok(Some(_))));
        let fallback = Beneath::open_with(&root, "/etc/cni/x.conf", true, Some(false));
        assert!(refused(fallback));
        assert!(std::fs::read_dir(&outside).unwrap().next().is_none());
    }

    /// Names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_batch_renames_nothing_until_every_file_is_written_and_synced() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("etc/in-the-way.conf")).unwrap();
        std::fs::write(root.join("etc/a.conf"), "old a\n").unwrap();
        let mut renamed = Vec::new();
        let failed = stage(
            root,
            &[
                ("/etc/a.conf", b"new a\n"),
                ("/etc/in-the-way.conf", b"x\n"),
                ("/etc/b.conf", b"new b\n"),
            ],
        )
        .and_then(|staged| staged.commit(|i| renamed.push(i)));
        assert!(matches!(
            failed,
            Err((1, ApplyError::NotRegularFile { .. }))
        ));
        assert!(renamed.is_empty());
        assert_eq!(
            std::fs::read_to_string(root.join("etc/a.conf")).unwrap(),
            "old a\n"
        );
        // No temporary file is left behind.
        assert_eq!(names(&root.join("etc")), ["a.conf", "in-the-way.conf"]);

        stage(
            root,
            &[("/etc/a.conf", b"new a\n"), ("/etc/sub/b.conf", b"new b\n")],
        )
        .and_then(|staged| staged.commit(|i| renamed.push(i)))
        .unwrap();
        assert_eq!(renamed, [0, 1]);
        assert_eq!(
            std::fs::read_to_string(root.join("etc/a.conf")).unwrap(),
            "new a\n"
        );
        assert_eq!(
            std::fs::read_to_string(root.join("etc/sub/b.conf")).unwrap(),
            "new b\n"
        );
        assert_eq!(
            names(&root.join("etc")),
            ["a.conf", "in-the-way.conf", "sub"]
        );
    }

    #[test]
    fn the_file_itself_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep\n").unwrap();
        std::os::unix::fs::symlink(&victim, root.join("etc/a.conf")).unwrap();
        assert!(matches!(
            read(&root, "/etc/a.conf"),
            Err(ApplyError::SymbolicLink { .. })
        ));
        assert!(write(&root, "/etc/a.conf", b"new\n").is_err());
        remove(&root, "/etc/a.conf").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep\n");
        write(&root, "/etc/a.conf", b"new\n").unwrap();
        assert_eq!(
            read(&root, "/etc/a.conf").unwrap().as_deref(),
            Some(&b"new\n"[..])
        );
    }

    /// Issue 17 item 11: every file name a file system takes can be written, whatever the
    /// temporary name beside it (`kubeadm/join-<242-character node>.yaml` failed).
    #[test]
    fn the_longest_file_names_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let node = "a".repeat(crate::plan::artifacts::MAX_NODE_NAME_IN_FILE_NAME);
        for name in [format!("join-{node}.yaml"), "é".repeat(127) + "x"] {
            assert!(name.len() <= NAME_MAX, "{}", name.len());
            let path = format!("/etc/kubernetes/{name}");
            write(root, &path, b"x\n").unwrap_or_else(|e| panic!("{}: {e}", name.len()));
            stage(root, &[(path.as_str(), &b"y\n"[..])])
                .and_then(|s| s.commit(|_| {}))
                .unwrap_or_else(|(_, e)| panic!("{e}"));
            assert_eq!(read(root, &path).unwrap().as_deref(), Some(&b"y\n"[..]));
        }
        assert_eq!(names(&root.join("etc/kubernetes")).len(), 2);
    }

    /// Issue 17 item 17: files holding credentials are owner-only, whatever the umask and the
    /// mode an older netc gave them; other files keep 0644 or their mode; records are 0600.
    #[test]
    fn credentials_are_installed_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mode = |p: &str| {
            std::fs::metadata(under(root, p).unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o7777
        };
        let proxy = crate::emit::host::PROXY_ENV_PATH;
        let drop_in = crate::emit::host::CONTAINERD_PROXY_PATH;
        for p in [
            proxy,
            drop_in,
            "/etc/default/rke2-server",
            "/etc/default/k3s-agent",
        ] {
            assert!(crate::emit::holds_credentials(p), "{p}");
            write(root, p, b"HTTPS_PROXY=http://u:secret@proxy:3128\n").unwrap();
            assert_eq!(mode(p), 0o600, "{p}");
        }
        // An older netc's 0644 file is narrowed to 0600 when rewritten; an administrator's
        // 0640 is kept.
        for (before, after) in [(0o644, 0o600), (0o640, 0o640), (0o604, 0o600)] {
            std::fs::set_permissions(
                under(root, proxy).unwrap(),
                std::fs::Permissions::from_mode(before),
            )
            .unwrap();
            assert_eq!(too_open(proxy, before), before != after, "{before:o}");
            stage(root, &[(proxy, &b"NO_PROXY=x\n"[..])])
                .and_then(|s| s.commit(|_| {}))
                .unwrap_or_else(|(_, e)| panic!("{e}"));
            assert_eq!(mode(proxy), after, "{before:o}");
        }
        assert!(!too_open("/etc/sysctl.d/90-netc.conf", 0o644));
        assert!(!crate::emit::holds_credentials(
            "/etc/sysctl.d/90-netc.conf"
        ));
        write(root, "/etc/sysctl.d/90-netc.conf", b"x\n").unwrap();
        assert_eq!(mode("/etc/sysctl.d/90-netc.conf"), 0o644);
        write(root, "/var/lib/netc/state.json", b"{}").unwrap();
        write_private(root, "/var/lib/netc/state.json", b"{}", true).unwrap();
        assert_eq!(mode("/var/lib/netc/state.json"), 0o600);
    }
}
