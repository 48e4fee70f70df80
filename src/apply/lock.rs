//! Serialises applies. Two locks, taken in this order and held until the apply ends:
//!
//! 1. **the host's**: an abstract unix socket named [`HOST_LOCK`], bound and listening. Abstract
//!    socket names belong to the network namespace (unix(7): "the abstract socket namespace";
//!    the kernel keys them by `net` in `net/unix/af_unix.c`), so every apply that changes the
//!    same links, routes and firewall — whatever its `--state-dir` or mount namespace — meets the
//!    same name, and applies in different namespaces (containers, test labs) do not block each
//!    other. A second bind fails with `EADDRINUSE`; connecting to the holder tells its pid
//!    (`SO_PEERCRED`) for the error message.
//! 2. **the state directory's**: an exclusive `flock` on `<state-dir>/lock`, so two namespaces
//!    that share one state directory do not rewrite its record at once.
//!
//! The kernel drops both when the process dies, so a crashed apply never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::ErrorKind;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use super::ApplyError;

/// The abstract socket name of the per-network-namespace lock (`@netc/apply.lock` in `ss -xl`).
pub const HOST_LOCK: &str = "netc/apply.lock";

/// A held lock; dropping it releases the lock.
pub struct ApplyLock {
    _host: Option<UnixListener>,
    _state: File,
}

const POLL: Duration = Duration::from_millis(100);

/// Takes the lock of this network namespace, then the state directory's, waiting up to
/// `timeout` in all for another apply to finish.
pub fn acquire(state_dir: &Path, timeout: Duration) -> Result<ApplyLock, ApplyError> {
    let start = Instant::now();
    let host = acquire_host(start, timeout)?;
    let state = acquire_state_dir(state_dir, start, timeout)?;
    Ok(ApplyLock {
        _host: Some(host),
        _state: state,
    })
}

/// Takes only the state directory's lock: for `--confirm` and the `--try` watchdog, which
/// touch the record but may run in another namespace than the apply they settle (the watchdog
/// itself takes the host lock before reverting, see [`acquire`]).
pub fn acquire_state_only(state_dir: &Path, timeout: Duration) -> Result<ApplyLock, ApplyError> {
    let state = acquire_state_dir(state_dir, Instant::now(), timeout)?;
    Ok(ApplyLock {
        _host: None,
        _state: state,
    })
}

fn acquire_host(start: Instant, timeout: Duration) -> Result<UnixListener, ApplyError> {
    let io = |e: std::io::Error| ApplyError::Io {
        object: format!("the apply lock @{HOST_LOCK} of this network namespace"),
        source: e,
    };
    let addr = SocketAddr::from_abstract_name(HOST_LOCK.as_bytes()).map_err(io)?;
    loop {
        match UnixListener::bind_addr(&addr) {
            Ok(listener) => return Ok(listener),
            Err(e) if e.kind() == ErrorKind::AddrInUse => {
                if start.elapsed() >= timeout {
                    let holder = holder_pid(&addr)
                        .map_or_else(String::new, |pid| format!(", held by pid {pid}"));
                    return Err(ApplyError::Locked {
                        path: format!(
                            "the apply lock of this network namespace (@{HOST_LOCK}{holder})"
                        ),
                        waited: timeout.as_secs(),
                    });
                }
                std::thread::sleep(POLL);
            }
            Err(e) => return Err(io(e)),
        }
    }
}

/// The pid of the process holding the host lock, as the kernel reports the listener's owner.
fn holder_pid(addr: &SocketAddr) -> Option<i32> {
    let stream = UnixStream::connect_addr(addr).ok()?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `fd` is an open socket owned by `stream`; `cred` and `len` are valid for writes
    // of the size passed.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &raw mut len,
        )
    };
    (rc == 0 && cred.pid > 0).then_some(cred.pid)
}

fn acquire_state_dir(
    state_dir: &Path,
    start: Instant,
    timeout: Duration,
) -> Result<File, ApplyError> {
    super::state::create_dir(state_dir)?;
    let path = state_dir.join("lock");
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| ApplyError::Io {
            object: format!("lock file {}", path.display()),
            source: e,
        })?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(TryLockError::WouldBlock) if start.elapsed() < timeout => {
                std::thread::sleep(POLL);
            }
            Err(TryLockError::WouldBlock) => {
                return Err(ApplyError::Locked {
                    path: path.display().to_string(),
                    waited: timeout.as_secs(),
                });
            }
            Err(TryLockError::Error(e)) => {
                return Err(ApplyError::Io {
                    object: format!("lock file {}", path.display()),
                    source: e,
                });
            }
        }
    }
}
