//! Sysctls: read and written through `/proc/sys`; persisted by the node's emitted
//! `host/<node>/sysctl.conf`, installed as `/etc/sysctl.d/90-netc.conf` (`emit::host`).
//!
//! Only keys under `net.` are written at run time. They belong to the network namespace of the
//! caller, so netc run inside a namespace never changes the host's; any other key is only
//! persisted, and takes effect at the next boot (or `sysctl --system`).

use std::path::PathBuf;

use super::ApplyError;

/// Whether netc writes `key` at run time (it is per network namespace).
pub fn runtime(key: &str) -> bool {
    key.starts_with("net.")
}

fn proc_path(key: &str) -> Option<PathBuf> {
    // A key is dot-separated; a `/` or `..` inside would escape /proc/sys.
    if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty()) {
        return None;
    }
    Some(PathBuf::from("/proc/sys").join(key.replace('.', "/")))
}

/// The current value, `None` if the key does not exist here.
pub fn read(key: &str) -> Option<String> {
    let path = proc_path(key)?;
    std::fs::read_to_string(path)
        .ok()
        .map(|v| v.trim().to_owned())
}

/// Writes a value.
pub fn write(key: &str, value: &str) -> Result<(), ApplyError> {
    if !runtime(key) {
        return Err(ApplyError::Unsupported(format!(
            "sysctl {key} is not per network namespace; netc only persists it"
        )));
    }
    let path =
        proc_path(key).ok_or_else(|| ApplyError::Unsupported(format!("bad sysctl key {key}")))?;
    std::fs::write(&path, format!("{value}\n")).map_err(|e| ApplyError::Io {
        object: format!("sysctl {key} ({})", path.display()),
        source: e,
    })
}
