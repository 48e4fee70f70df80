//! Serialises applies. Two locks, taken in this order and held until the apply ends:
//!
//! 1. **the host's**: an exclusive `flock` on `<lock-dir>/apply-net-<inode>.lock`, where
//!    `<lock-dir>` is `--lock-dir` (default [`DEFAULT_DIR`], `/run/netc`) and `<inode>` the
//!    inode of this process's network namespace (`/proc/self/ns/net`), so every apply that
//!    changes the same links, routes and firewall — whatever its `--state-dir`; the host's
//!    one-shot `netc apply` and a hostNetwork agent pod that mounts `/run/netc` — meets the same
//!    file, and applies in different namespaces (containers, test labs) do not block each other.
//!    Only root can take it: the directory is created `0700` and refused unless it is a real
//!    directory owned by this user and writable by no one else, and the lock file is opened
//!    without following links, created `0600` and refused unless this user owns it. (The
//!    abstract unix socket this replaced had no permissions: any process in the namespace could
//!    bind the name and stop every apply.)
//! 2. **the state directory's**: an exclusive `flock` on `<state-dir>/lock`, so two namespaces
//!    that share one state directory do not rewrite its record at once.
//!
//! While a lock is busy the waiter learns who holds it (the pid in `/proc/locks`, and its
//! command name) and reports it once through `on_busy` (the agent records it in its status:
//! "blocked"). The wait polls; the agent's SIGTERM ([`super::stop::stopping`]) ends it at once
//! with [`ApplyError::Interrupted`].
//!
//! The agent also holds `<state-dir>/agent.lock` for its whole life ([`agent`]): a second agent
//! on the same state directory is refused instead of fighting the first one.
//!
//! The kernel drops every lock when the process dies, so a crashed apply never leaves a stale
//! lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::ApplyError;

/// The default directory of the host lock.
pub use crate::plan::layout::LOCK_DIR as DEFAULT_DIR;
/// The file in the state directory an agent holds for its whole life.
pub const AGENT_FILE: &str = "agent.lock";

/// A held lock; dropping it releases the lock.
pub struct ApplyLock {
    _host: Option<File>,
    _state: File,
}

const POLL: Duration = Duration::from_millis(100);

/// How long to wait, and whom to tell that a lock is busy (once per lock, with the holder).
pub struct Wait<'a> {
    pub timeout: Duration,
    pub on_busy: &'a mut dyn FnMut(&str),
}

/// Takes the lock of this network namespace, then the state directory's, waiting up to
/// `wait.timeout` in all for another apply to finish.
pub fn acquire(
    state_dir: &Path,
    lock_dir: &Path,
    wait: &mut Wait<'_>,
) -> Result<ApplyLock, ApplyError> {
    let start = Instant::now();
    let host_path = host_lock_path(lock_dir)?;
    let host = open_root_only(&host_path)?;
    wait_for(
        &host,
        &format!(
            "the apply lock of this network namespace ({})",
            host_path.display()
        ),
        start,
        wait,
    )?;
    let state = acquire_state_dir(state_dir, start, wait)?;
    Ok(ApplyLock {
        _host: Some(host),
        _state: state,
    })
}

/// Takes only the state directory's lock: for `--confirm`, which touches the record but may
/// run in another namespace than the apply it settles.
pub fn acquire_state_only(state_dir: &Path, wait: &mut Wait<'_>) -> Result<ApplyLock, ApplyError> {
    let state = acquire_state_dir(state_dir, Instant::now(), wait)?;
    Ok(ApplyLock {
        _host: None,
        _state: state,
    })
}

/// The host lock's file for this network namespace under `lock_dir` (created `0700` when
/// missing, refused when anyone but this user could create files in it).
pub fn host_lock_path(lock_dir: &Path) -> Result<PathBuf, ApplyError> {
    let io = |object: String| move |e: std::io::Error| ApplyError::Io { object, source: e };
    match std::fs::DirBuilder::new().mode(0o700).create(lock_dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(format!("lock directory {}", lock_dir.display()))(e)),
    }
    let meta = std::fs::symlink_metadata(lock_dir)
        .map_err(io(format!("lock directory {}", lock_dir.display())))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !meta.file_type().is_dir() || meta.uid() != me || meta.permissions().mode() & 0o022 != 0 {
        return Err(ApplyError::State(format!(
            "lock directory {} must be a directory owned by uid {me} that no one else can \
             write (it is {}, uid {}, mode {:o}): anyone who can create files there could \
             hold the apply lock",
            lock_dir.display(),
            if meta.file_type().is_symlink() {
                "a symbolic link"
            } else if meta.file_type().is_dir() {
                "a directory"
            } else {
                "not a directory"
            },
            meta.uid(),
            meta.permissions().mode() & 0o7777
        )));
    }
    let ns = std::fs::metadata("/proc/self/ns/net").map_err(io(
        "this process's network namespace (/proc/self/ns/net)".into(),
    ))?;
    Ok(lock_dir.join(format!("apply-net-{}.lock", ns.ino())))
}

/// Opens (creating `0600`) a lock file only this user may hold: never through a symbolic link,
/// and refused when someone else owns it.
fn open_root_only(path: &Path) -> Result<File, ApplyError> {
    let io = |e: std::io::Error| ApplyError::Io {
        object: format!("lock file {}", path.display()),
        source: e,
    };
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !meta.file_type().is_file() || meta.uid() != me {
        return Err(ApplyError::State(format!(
            "lock file {} is not a regular file owned by uid {me}",
            path.display()
        )));
    }
    Ok(file)
}

/// Who holds the `flock` on `file` now, as `pid N (command)`, from `/proc/locks`.
fn holder(file: &File) -> Option<String> {
    let meta = file.metadata().ok()?;
    let dev = meta.dev();
    // /proc/locks: `N: FLOCK  ADVISORY  WRITE PID MAJOR:MINOR:INODE START END`, major and
    // minor in hex (linux fs/locks.c, lock_get_status); waiters are `N: -> FLOCK ...`.
    let wanted = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        meta.ino()
    );
    let locks = std::fs::read_to_string("/proc/locks").ok()?;
    let pid = locks.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        (fields.get(1) == Some(&"FLOCK") && fields.get(5) == Some(&wanted.as_str()))
            .then(|| fields.get(4).and_then(|p| p.parse::<i32>().ok()))
            .flatten()
    })?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_default();
    Some(if comm.is_empty() {
        format!("pid {pid}")
    } else {
        format!("pid {pid} ({})", crate::diagnostic::escape_controls(&comm))
    })
}

/// Waits for the `flock` on `file`: polls until `wait.timeout` (from `start`) has passed, the
/// agent is told to stop, or the lock is taken.
fn wait_for(
    file: &File,
    what: &str,
    start: Instant,
    wait: &mut Wait<'_>,
) -> Result<(), ApplyError> {
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) => {
                let held_by = holder(file).map_or_else(String::new, |h| format!(", held by {h}"));
                if !told {
                    told = true;
                    (wait.on_busy)(&format!("waiting for {what}{held_by}"));
                }
                if super::stop::stopping() {
                    return Err(ApplyError::Interrupted {
                        what: format!("{what}{held_by}"),
                    });
                }
                if start.elapsed() >= wait.timeout {
                    return Err(ApplyError::Locked {
                        path: format!("{what}{held_by}"),
                        waited: wait.timeout.as_secs(),
                    });
                }
                std::thread::sleep(POLL);
            }
            Err(TryLockError::Error(e)) => {
                return Err(ApplyError::Io {
                    object: what.to_owned(),
                    source: e,
                });
            }
        }
    }
}

fn open_state_file(state_dir: &Path, name: &str) -> Result<File, ApplyError> {
    super::store::state::create_dir(state_dir)?;
    let path = state_dir.join(name);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
        .map_err(|e| ApplyError::Io {
            object: format!("lock file {}", path.display()),
            source: e,
        })
}

fn acquire_state_dir(
    state_dir: &Path,
    start: Instant,
    wait: &mut Wait<'_>,
) -> Result<File, ApplyError> {
    let file = open_state_file(state_dir, "lock")?;
    wait_for(
        &file,
        &format!("the lock of {}", state_dir.join("lock").display()),
        start,
        wait,
    )?;
    Ok(file)
}

/// The agent's lock on `state_dir`, held for its whole life; refused at once (naming the
/// holder) when another agent holds it.
pub fn agent(state_dir: &Path) -> Result<File, ApplyError> {
    let file = open_state_file(state_dir, AGENT_FILE)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(ApplyError::AgentRunning {
            state_dir: state_dir.display().to_string(),
            holder: holder(&file).unwrap_or_else(|| "another process".into()),
        }),
        Err(TryLockError::Error(e)) => Err(ApplyError::Io {
            object: format!("lock file {}", state_dir.join(AGENT_FILE).display()),
            source: e,
        }),
    }
}
