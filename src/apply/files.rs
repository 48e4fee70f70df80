//! The files a node needs, chosen among the build artifacts and mapped to their host paths, and
//! atomic writes under `--root` (write a temporary file beside the target, fsync, rename).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ApplyError, modules, sysctl};
use crate::intent::{Distribution, Role};
use crate::plan::{NodePlan, Plan};

/// Maps one artifact path to its place on `node`, `None` if the node does not need it.
fn host_path(plan: &Plan, node: &NodePlan, artifact: &str) -> Option<String> {
    let name = &node.name;
    let rest = |prefix: &str| artifact.strip_prefix(prefix).map(str::to_owned);
    if let Some(file) = rest(&format!("cni/{name}/")) {
        return Some(format!("/etc/cni/net.d/{file}"));
    }
    if artifact == "flannel/net-conf.json" {
        return Some("/etc/kube-flannel/net-conf.json".into());
    }
    if artifact == "flannel/flanneld.service" {
        return Some("/etc/systemd/system/flanneld.service".into());
    }
    if artifact == format!("host/{name}/proxy.env") {
        return Some("/etc/netc/proxy.env".into());
    }
    match plan.distribution {
        Distribution::Rke2 => {
            if artifact == format!("rke2/{name}/config.yaml") {
                return Some("/etc/rancher/rke2/config.yaml".into());
            }
            if node.role == Role::ControlPlane
                && let Some(file) = rest("rke2/manifests/")
            {
                return Some(format!("/var/lib/rancher/rke2/server/manifests/{file}"));
            }
        }
        Distribution::K3s => {
            if artifact == format!("k3s/{name}/config.yaml") {
                return Some("/etc/rancher/k3s/config.yaml".into());
            }
        }
        Distribution::Kubeadm => {
            let own = artifact == format!("kubeadm/join-{name}.yaml")
                || (artifact == "kubeadm/init.yaml" && node.role == Role::ControlPlane);
            if own && let Some(file) = rest("kubeadm/") {
                return Some(format!("/etc/netc/kubeadm/{file}"));
            }
        }
        Distribution::Canonical => {
            let own = artifact == format!("canonical/join-{name}.yaml")
                || (artifact == "canonical/bootstrap.yaml" && node.role == Role::ControlPlane);
            if own && let Some(file) = rest("canonical/") {
                return Some(format!("/etc/netc/canonical/{file}"));
            }
        }
    }
    None
}

/// The files `node` needs, host path → contents. The sysctl and module lists are netc's own
/// (from the Plan), under the names systemd reads at boot.
pub fn node_files(
    plan: &Plan,
    node: &NodePlan,
    artifacts: &BTreeMap<String, Vec<u8>>,
    source: &str,
) -> BTreeMap<String, Vec<u8>> {
    let mut out: BTreeMap<String, Vec<u8>> = artifacts
        .iter()
        .filter_map(|(path, bytes)| Some((host_path(plan, node, path)?, bytes.clone())))
        .collect();
    let sysctls: Vec<(String, String)> = node
        .sysctls
        .iter()
        .map(|s| (s.key.clone(), s.value.clone()))
        .collect();
    out.insert(
        sysctl::PERSIST_PATH.into(),
        sysctl::render(&sysctls, source),
    );
    out.insert(
        modules::PERSIST_PATH.into(),
        modules::render(&node.modules, source),
    );
    out
}

/// `path` (absolute host path) under `root`; refuses anything that could escape `root`.
pub fn under(root: &Path, path: &str) -> Result<PathBuf, ApplyError> {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.split('/').any(|c| c == ".." || c.is_empty()) {
        return Err(ApplyError::Unsupported(format!(
            "refusing file path {path}"
        )));
    }
    Ok(root.join(rel))
}

/// Current contents, `None` if absent.
pub fn read(root: &Path, path: &str) -> Result<Option<Vec<u8>>, ApplyError> {
    let full = under(root, path)?;
    match std::fs::read(&full) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ApplyError::Io {
            object: format!("file {}", full.display()),
            source: e,
        }),
    }
}

/// Writes `contents` atomically: readers see the old file or the new one, never a part.
pub fn write(root: &Path, path: &str, contents: &[u8]) -> Result<(), ApplyError> {
    let full = under(root, path)?;
    let io = |e: std::io::Error| ApplyError::Io {
        object: format!("file {}", full.display()),
        source: e,
    };
    let dir = full.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(io)?;
    let file_name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.netc-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &full)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Removes a file (absent is fine).
pub fn remove(root: &Path, path: &str) -> Result<(), ApplyError> {
    let full = under(root, path)?;
    match std::fs::remove_file(&full) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ApplyError::Io {
            object: format!("file {}", full.display()),
            source: e,
        }),
    }
}
