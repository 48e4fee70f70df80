//! Serialises applies: an exclusive lock on `<state-dir>/lock`, held until the apply ends. The
//! kernel drops it when the process dies, so a crashed apply never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::time::{Duration, Instant};

use super::ApplyError;

/// A held lock; dropping it releases the lock.
pub struct ApplyLock {
    _file: File,
}

/// Takes the lock, waiting up to `timeout` for another apply to finish.
pub fn acquire(state_dir: &Path, timeout: Duration) -> Result<ApplyLock, ApplyError> {
    std::fs::create_dir_all(state_dir).map_err(|e| ApplyError::Io {
        object: format!("state directory {}", state_dir.display()),
        source: e,
    })?;
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
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(ApplyLock { _file: file }),
            Err(TryLockError::WouldBlock) if start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(100));
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
