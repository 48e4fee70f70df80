//! Artifact layout: the paths of `build`'s output that `validate` reasons about as well as
//! `emit` writes them: a node's name becomes part of a file name (`firewall/<node>.firewalld.sh`)
//! and of a directory (`k3s/<node>/`) that sits beside shared artifacts. `emit` writes at these
//! paths; `validate` refuses node names they cannot take.

use crate::intent::Distribution;

/// A node's firewalld script: `firewall/<node>` and this (`emit::firewall`).
const FIREWALLD_SCRIPT_SUFFIX: &str = ".firewalld.sh";

/// The path of `node`'s firewalld script in the build output.
pub fn firewalld_script(node: &str) -> String {
    format!("firewall/{node}{FIREWALLD_SCRIPT_SUFFIX}")
}

/// The net-conf artifact for k3s' embedded flannel (`emit::k3s`).
pub const K3S_FLANNEL_CONF: &str = "k3s/flannel-net-conf.json";

/// Where the build output keeps RKE2's manifests (`rke2/manifests/<name>`, `emit::rke2`).
pub const RKE2_MANIFESTS_DIR: &str = "rke2/manifests";

/// The longest node name all of whose per-node files have names a file system takes (255
/// bytes per path component). The longest name around a node's is `firewall/<node>.firewalld.sh`;
/// `kubeadm/join-<node>.yaml`, `canonical/join-<node>.yaml`, `cloud-init/<node>.yaml` and the
/// `<node>/` directories add less. `validate` refuses longer node names.
pub const MAX_NODE_NAME_IN_FILE_NAME: usize = 255 - FIREWALLD_SCRIPT_SUFFIX.len();

/// The shared build paths that sit beside per-node directories, as (directory, name): a node
/// of that name would make its directory (`k3s/<node>/`) where the shared file or directory is
/// (`k3s/flannel-net-conf.json`, `rke2/manifests/`). `validate` refuses such node names.
pub fn shared_beside_node_dirs(distribution: Distribution) -> Vec<(&'static str, &'static str)> {
    let split = |path: &'static str| path.split_once('/').unwrap_or(("", path));
    match distribution {
        Distribution::K3s => vec![split(K3S_FLANNEL_CONF)],
        Distribution::Rke2 => vec![split(RKE2_MANIFESTS_DIR)],
        Distribution::Kubeadm | Distribution::Canonical | Distribution::Manual => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_node_name_fits_its_firewalld_script() {
        let name = "a".repeat(MAX_NODE_NAME_IN_FILE_NAME);
        let path = firewalld_script(&name);
        let file = path.rsplit('/').next().expect("a file name");
        assert_eq!(file.len(), 255);
    }

    #[test]
    fn shared_artifacts_beside_node_directories() {
        assert_eq!(
            shared_beside_node_dirs(Distribution::K3s),
            [("k3s", "flannel-net-conf.json")]
        );
        assert_eq!(
            shared_beside_node_dirs(Distribution::Rke2),
            [("rke2", "manifests")]
        );
        assert!(shared_beside_node_dirs(Distribution::Kubeadm).is_empty());
    }
}
