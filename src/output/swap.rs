//! Replacing an output directory atomically.
//!
//! A build writes everything into a staging directory beside DIR (`.DIR.netc-tmp-<pid>`) and
//! then swaps it with DIR in one `renameat2(RENAME_EXCHANGE)`: at every instant DIR is either
//! the complete old tree or the complete new one, even under `kill -9` or a crash. After the
//! exchange the staging name holds the old tree, which is then deleted.
//!
//! Filesystems without `RENAME_EXCHANGE` get two renames instead: DIR → `.DIR.netc-old-<pid>`,
//! staging → DIR. A crash between the two leaves no DIR but a complete `.DIR.netc-old-<pid>`;
//! the next build puts it back first ([`recover`]). Leftover staging directories of dead
//! processes are removed by the next build. Only directories with these names are netc's:
//! anything else so named is left alone, and the staging name steps aside for it
//! (`.DIR.netc-tmp-<pid>-<n>`). `diff` and `build --check` only read: they move and remove
//! nothing, and say when an interrupted build's tree is waiting ([`interrupted`]).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

use super::OutputError;

const TMP_TAG: &str = ".netc-tmp-";
const OLD_TAG: &str = ".netc-old-";

/// Parent directory and file name of DIR (`out` → (`.`, `out`)).
pub(super) fn split(dir: &Path) -> Result<(PathBuf, OsString), OutputError> {
    let name = dir.file_name().ok_or_else(|| OutputError::BadOutput {
        path: dir.display().to_string(),
        message: "the output directory needs a name (not `/`, `.` or `..`)".to_owned(),
    })?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name.to_owned()))
}

fn sibling(dir: &Path, tag: &str, suffix: &str) -> Result<PathBuf, OutputError> {
    let (parent, name) = split(dir)?;
    let mut n = OsString::from(".");
    n.push(&name);
    n.push(tag);
    n.push(suffix);
    Ok(parent.join(n))
}

/// Creates the staging directory this process builds into: `.DIR.netc-tmp-<pid>`, or with a
/// `-<n>` suffix when something else has that name. It is private to the user (0700) when DIR
/// exists, until [`super::keep`] gives it DIR's owner and mode; otherwise it gets the umask's
/// default like any new directory.
pub fn create_staging(dir: &Path, private: bool) -> Result<PathBuf, OutputError> {
    use std::os::unix::fs::DirBuilderExt;
    let pid = std::process::id();
    for n in 0..100u32 {
        let tag = if n == 0 {
            pid.to_string()
        } else {
            format!("{pid}-{n}")
        };
        let path = sibling(dir, TMP_TAG, &tag)?;
        let mut builder = std::fs::DirBuilder::new();
        if private {
            builder.mode(0o700);
        }
        match builder.create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(OutputError::io(&path, e)),
        }
    }
    Err(OutputError::BadOutput {
        path: dir.display().to_string(),
        message: format!(
            "no free staging name beside it ({}*)",
            sibling(dir, TMP_TAG, &pid.to_string())?.display()
        ),
    })
}

/// A leftover of an earlier build beside DIR: `(path, is_old_tree)`, for directories only.
/// Staging directories of processes that still run (another build) are not listed.
fn leftovers(dir: &Path) -> Result<Vec<(PathBuf, bool)>, OutputError> {
    let (parent, name) = split(dir)?;
    let entries = match std::fs::read_dir(&parent) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(OutputError::io(&parent, e)),
    };
    let prefix = format!(".{}", name.to_string_lossy());
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|f| f.strip_prefix(&prefix)) else {
            continue;
        };
        let (is_old, tag) = if let Some(tag) = rest.strip_prefix(OLD_TAG) {
            (true, tag)
        } else if let Some(tag) = rest.strip_prefix(TMP_TAG) {
            (false, tag)
        } else {
            continue;
        };
        // `<pid>` or `<pid>-<n>`.
        let Ok(pid) = tag.split('-').next().unwrap_or(tag).parse::<u32>() else {
            continue;
        };
        // netc only makes directories with these names (`file_type` does not follow links).
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if pid != std::process::id() && process_alive(pid) {
            // Another build into the same DIR is running: leave its directories alone.
            continue;
        }
        out.push((entry.path(), is_old));
    }
    out.sort();
    Ok(out)
}

/// Undoes what an interrupted earlier build left: puts a moved-away old DIR back, and removes
/// staging/old directories of processes that no longer run. Only `build` calls this.
pub fn recover(dir: &Path) -> Result<(), OutputError> {
    for (path, is_old) in leftovers(dir)? {
        if is_old && std::fs::symlink_metadata(dir).is_err() {
            std::fs::rename(&path, dir).map_err(|e| OutputError::io(dir, e))?;
        } else {
            std::fs::remove_dir_all(&path).map_err(|e| OutputError::io(&path, e))?;
        }
    }
    Ok(())
}

/// When DIR is missing because a build was interrupted between its two renames: the complete
/// previous tree that the next build puts back. Reads only.
pub fn interrupted(dir: &Path) -> Option<PathBuf> {
    if std::fs::symlink_metadata(dir).is_ok() {
        return None;
    }
    leftovers(dir)
        .ok()?
        .into_iter()
        .find_map(|(path, is_old)| is_old.then_some(path))
}

fn process_alive(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Puts the complete tree at `staging` in place of `dir`, then deletes the old tree.
/// `fail_after_move_away` injects a crash point for tests of the fallback path.
pub fn replace(dir: &Path, staging: &Path) -> Result<(), OutputError> {
    replace_with(dir, staging, false)
}

pub(super) fn replace_with(
    dir: &Path,
    staging: &Path,
    fail_after_move_away: bool,
) -> Result<(), OutputError> {
    let exists = match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => {
            return Err(OutputError::BadOutput {
                path: dir.display().to_string(),
                message: "exists and is not a directory".to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(OutputError::io(dir, e)),
    };
    if !exists {
        return std::fs::rename(staging, dir).map_err(|e| OutputError::io(dir, e));
    }
    if !fail_after_move_away {
        match exchange(staging, dir) {
            Ok(()) => {
                // `staging` now holds the old tree.
                return std::fs::remove_dir_all(staging).map_err(|e| OutputError::io(staging, e));
            }
            Err(e) if exchange_unsupported(&e) => {}
            Err(e) => return Err(OutputError::io(dir, e)),
        }
    }
    let old = sibling(dir, OLD_TAG, &std::process::id().to_string())?;
    std::fs::rename(dir, &old).map_err(|e| OutputError::io(dir, e))?;
    if fail_after_move_away {
        return Err(OutputError::io(
            dir,
            io::Error::other("injected failure between the two renames"),
        ));
    }
    if let Err(e) = std::fs::rename(staging, dir) {
        // Put the old tree back; if even that fails, `recover` does it on the next run.
        let _ = std::fs::rename(&old, dir);
        return Err(OutputError::io(dir, e));
    }
    std::fs::remove_dir_all(&old).map_err(|e| OutputError::io(&old, e))
}

fn exchange_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
    )
}

/// Swaps two paths atomically (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both pointers are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_a: &Path, _b: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &Path, file: &str, text: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(file), text).unwrap();
    }

    #[test]
    fn exchange_replaces_and_removes_old() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        tree(&dir, "a", "old");
        let staging = create_staging(&dir, true).unwrap();
        tree(&staging, "a", "new");
        replace(&dir, &staging).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "new");
        assert!(!staging.exists());
    }

    #[test]
    fn the_staging_name_steps_aside_for_a_file_and_recover_leaves_it() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        let taken = sibling(&dir, TMP_TAG, &std::process::id().to_string()).unwrap();
        std::fs::write(&taken, "not netc's").unwrap();
        let staging = create_staging(&dir, true).unwrap();
        assert_ne!(staging, taken);
        assert!(staging.is_dir());
        assert!(
            staging
                .to_string_lossy()
                .ends_with(&format!("{TMP_TAG}{}-1", std::process::id()))
        );
        // Our own leftover staging directory goes, the file with a staging name stays.
        recover(&dir).unwrap();
        assert!(!staging.exists());
        assert_eq!(std::fs::read_to_string(&taken).unwrap(), "not netc's");
    }

    #[test]
    fn crash_between_renames_is_recovered_to_the_old_tree() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("out");
        tree(&dir, "a", "old");
        let staging = create_staging(&dir, true).unwrap();
        tree(&staging, "a", "new");
        assert!(replace_with(&dir, &staging, true).is_err());
        assert!(!dir.exists(), "the injected crash leaves DIR moved away");
        recover(&dir).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a")).unwrap(), "old");
        assert!(!staging.exists(), "our own staging directory is cleaned");
    }
}
