//! Host layout: where netc keeps its state and lock on a node, where it reads and writes
//! sysctls (on the host and inside the fleet's agent pod), and which sysctls it writes at run
//! time. `apply` uses these as its defaults; `emit::fleet` mounts them into the agent's pod and
//! `validate` keeps user-given paths out of them.

/// The state directory: netc's ownership record, pending `--try` and status.
pub const STATE_DIR: &str = "/var/lib/netc";
/// The directory of the host's apply lock (and the desired-state cache's secret): on tmpfs,
/// root's.
pub const LOCK_DIR: &str = "/run/netc";
/// Where the fleet's agent pod sees the intent (its ConfigMap's mount). Not under `/etc/netc`:
/// netc installs files there itself (`/etc/netc/proxy.env`, `/etc/netc/kubeadm/`), and that
/// directory is a hostPath mount.
pub const INTENT_DIR: &str = "/etc/netc-intent";
/// iptables' lock file (iptables/xshared.c XT_LOCK_NAME), shared with kube-proxy and the CNI;
/// the agent's pod mounts it.
pub const XTABLES_LOCK: &str = "/run/xtables.lock";
/// Where sysctls are read and written outside a container.
pub const SYSCTL_DIR: &str = "/proc/sys";
/// Where the fleet's DaemonSet mounts the host's `/proc/sys/net` (its parent): a container
/// sees its own `/proc/sys` read-only (Cilium's agent mounts the host's the same way).
pub const SYSCTL_CONTAINER_DIR: &str = "/host/proc/sys";

/// Whether netc writes sysctl `key` at run time: only keys under `net.`, which belong to the
/// caller's network namespace. Any other key is only persisted (`sysctl.conf`) and takes
/// effect at the next boot or `sysctl --system`.
pub fn runtime_sysctl(key: &str) -> bool {
    key.starts_with("net.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_net_sysctls_are_written_at_run_time() {
        assert!(runtime_sysctl("net.ipv4.ip_forward"));
        assert!(!runtime_sysctl("kernel.pid_max"));
        assert!(!runtime_sysctl("vm.net.x"));
    }
}
