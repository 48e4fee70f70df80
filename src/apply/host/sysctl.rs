//! Sysctls: read and written through `/proc/sys`; persisted by the node's emitted
//! `host/<node>/sysctl.conf`, installed as `/etc/sysctl.d/90-netc.conf` (`emit::host`).
//!
//! The directory is `/proc/sys` unless `netc apply --sysctl-dir` names another: a container
//! sees `/proc/sys` read-only, so the fleet's DaemonSet mounts the host's `/proc/sys/net` at
//! `plan::layout::SYSCTL_CONTAINER_DIR``/net` (`emit::fleet`), as Cilium's agent does.
//!
//! Only keys under `net.` are written at run time. They belong to the network namespace of the
//! caller, so netc run inside a namespace never changes the host's; any other key is only
//! persisted, and takes effect at the next boot (or `sysctl --system`).

use std::path::{Path, PathBuf};

use crate::apply::ApplyError;

/// Where sysctls are read and written outside a container.
pub use crate::plan::layout::SYSCTL_DIR as DEFAULT_DIR;
use crate::plan::layout::runtime_sysctl as runtime;

fn proc_path(dir: &Path, key: &str) -> Option<PathBuf> {
    // A key is dot-separated; a `/` or `..` inside would escape /proc/sys.
    if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty()) {
        return None;
    }
    Some(dir.join(key.replace('.', "/")))
}

/// The current value, `None` if the key does not exist here.
pub fn read(dir: &Path, key: &str) -> Option<String> {
    let path = proc_path(dir, key)?;
    std::fs::read_to_string(path)
        .ok()
        .map(|v| v.trim().to_owned())
}

/// Writes a value.
pub fn write(dir: &Path, key: &str, value: &str) -> Result<(), ApplyError> {
    if !runtime(key) {
        return Err(ApplyError::SysctlNotRuntime {
            key: key.to_owned(),
        });
    }
    let path = proc_path(dir, key).ok_or_else(|| ApplyError::BadSysctlKey {
        key: key.to_owned(),
    })?;
    std::fs::write(&path, format!("{value}\n")).map_err(|e| ApplyError::Io {
        object: format!("sysctl {key} ({})", path.display()),
        source: e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_under_the_given_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("net/ipv4/ip_forward");
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        std::fs::write(&file, "0\n").expect("seed");
        assert_eq!(
            read(dir.path(), "net.ipv4.ip_forward").as_deref(),
            Some("0")
        );
        write(dir.path(), "net.ipv4.ip_forward", "1").expect("write");
        assert_eq!(std::fs::read_to_string(&file).expect("read"), "1\n");
        assert_eq!(read(dir.path(), "net.ipv4.nope"), None);
        assert!(write(dir.path(), "kernel.pid_max", "1").is_err());
        assert!(write(dir.path(), "net/../x", "1").is_err());
    }
}
