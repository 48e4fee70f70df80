//! The catalogue of diagnostic codes: what each one is about, and whether it may be a
//! warning (hence be accepted by an intent's `lint.allow`). It feeds SARIF's `rules` and the
//! `lint.allow` check; `tests/diagnostics.rs` keeps it equal to the README's table.

use super::{Severity, code};

/// One code of the catalogue.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub code: &'static str,
    /// The severities it is reported with.
    pub severities: &'static [Severity],
    /// The rule, as the README's diagnostics table says it.
    pub summary: &'static str,
}

impl Rule {
    /// A finding of this code may be accepted (`lint.allow`): it is never only an error.
    pub fn allowable(&self) -> bool {
        self.severities.iter().any(|s| *s != Severity::Error)
    }
}

/// The rule of `code`, if it is one of netc's.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// The code closest to a misspelt one (`netc::policy::shadow` → `netc::policy::shadowed`).
pub fn closest(code: &str) -> Option<&'static str> {
    RULES
        .iter()
        .map(|r| (strsim::levenshtein(code, r.code), r.code))
        .filter(|&(d, c)| d <= c.len() / 3)
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

use Severity::{Error as E, Info as I, Warning as W};

/// Every code, in the README's order.
pub const RULES: &[Rule] = &[
    Rule {
        code: code::PARSE,
        severities: &[E],
        summary: r#"malformed YAML/KDL, unknown key (with "did you mean"), wrong type, a missing required key (labelled at the map that lacks it, with who needs it); every one of them in the file in one run (a syntax error that hides the rest is one)"#,
    },
    Rule {
        code: code::CIDR_INVALID,
        severities: &[E],
        summary: r#"not a CIDR, host bits set, wrong family; a `secondaryAddress` without prefix, an `externalAddress` or `bindAddress` that is not a plain address"#,
    },
    Rule {
        code: code::CIDR_OVERLAP,
        severities: &[E],
        summary: r#"pod, service, node, host-overlay or reserved networks overlap (both spans labelled)"#,
    },
    Rule {
        code: code::DNS_OUTSIDE_SERVICE_CIDR,
        severities: &[E],
        summary: r#"clusterDNS not inside serviceCIDR"#,
    },
    Rule {
        code: code::DNS_RESERVED_ADDRESS,
        severities: &[E],
        summary: r#"clusterDNS is the network, broadcast or first address (the `kubernetes` Service)"#,
    },
    Rule {
        code: code::DNS_KUBEADM_ADDRESS,
        severities: &[E],
        summary: r#"kubeadm with a clusterDNS other than the 10th address of the service CIDR (kubeadm always puts kube-dns there; it has no setting to move it)"#,
    },
    Rule {
        code: code::SERVICE_CIDR_TOO_LARGE,
        severities: &[E],
        summary: r#"larger than the API server accepts (IPv4 /12, IPv6 /108)"#,
    },
    Rule {
        code: code::NODES_POD_CAPACITY,
        severities: &[E],
        summary: r#"more nodes than podCIDR has node subnets, or mask not longer than the pod prefix"#,
    },
    Rule {
        code: code::NODES_POD_CIDR_PIN,
        severities: &[E],
        summary: r#"pinned node podCIDR outside podCIDR, misaligned, or shared"#,
    },
    Rule {
        code: code::NODES_DUPLICATE,
        severities: &[E],
        summary: r#"duplicate node name or address"#,
    },
    Rule {
        code: code::CNI_UNSUPPORTED,
        severities: &[E],
        summary: r#"CNI/encapsulation not offered by that distribution"#,
    },
    Rule {
        code: code::CNI_POLICY_NOT_ENFORCED,
        severities: &[E],
        summary: r#"policies declared but the CNI cannot enforce them"#,
    },
    Rule {
        code: code::CNI_HOST_GW_NEEDS_L2,
        severities: &[E],
        summary: r#"host-gw/static routes with nodes not on one L2 subnet"#,
    },
    Rule {
        code: code::CNI_SETTING_NOT_APPLIED,
        severities: &[E, W],
        summary: r#"a CNI setting a target has no knob for (names the setting and the target); warning when the value has no effect in that configuration, or when you must apply it by hand (`--iface` on kube-flannel's DaemonSet)"#,
    },
    Rule {
        code: code::CNI_PATH_INVALID,
        severities: &[E],
        summary: r#"a `cni.flannel.paths` entry that is not an absolute, normalised file path outside `/` itself and the directories netc owns (its state dir, the fleet's intent mount), or two of flanneld's files (the kubeconfig's `ca.crt` and `token` included) on one path"#,
    },
    Rule {
        code: code::MTU_TOO_LARGE,
        severities: &[E],
        summary: r#"pod MTU + encapsulation overhead exceeds a data-path interface MTU; or nodes' data-path MTUs differ where the CNI gives pods each node's own MTU (flannel host-gw, Canonical Kubernetes)"#,
    },
    Rule {
        code: code::PORTS_CONFLICT,
        severities: &[E],
        summary: r#"two components claim the same protocol/port on the same interface (VXLAN: same port and VNI)"#,
    },
    Rule {
        code: code::PORTS_BLOCKED_REQUIRED,
        severities: &[E],
        summary: r#"a firewall rule would block a port the cluster needs, or management access"#,
    },
    Rule {
        code: code::IFACE_INVALID,
        severities: &[E],
        summary: r#"not a valid Linux interface name (or one holding control characters, or `"`/`\` with the nftables backend), or not declared on the node"#,
    },
    Rule {
        code: code::IFACE_UNKNOWN,
        severities: &[E],
        summary: r#"not a valid Linux interface name (or one holding control characters, or `"`/`\` with the nftables backend), or not declared on the node"#,
    },
    Rule {
        code: code::POLICY_INVALID,
        severities: &[E],
        summary: r#"bad label, selector, port, endPort < port, `except` not inside its `cidr`"#,
    },
    Rule {
        code: code::POLICY_DNS_BLOCKED,
        severities: &[W],
        summary: r#"egress denied and DNS not allowed"#,
    },
    Rule {
        code: code::PROXY_NO_PROXY_MISSING,
        severities: &[W, I],
        summary: r#"NO_PROXY lacks pod/service CIDRs, node networks, `.svc`, the cluster domain (netc adds them)"#,
    },
    Rule {
        code: code::NAME_INVALID,
        severities: &[E],
        summary: r#"node, namespace, policy and firewall rule names not DNS-1123; a node name too long for the file names netc writes (over 242 characters); a node named like a shared artifact beside the per-node directories (`flannel-net-conf.json` on k3s, `manifests` on RKE2)"#,
    },
    Rule {
        code: code::PROXY_INVALID,
        severities: &[E],
        summary: r#"`proxy.http`/`https` not a `scheme://host:port` proxy URL (http, https, socks5, socks5h), a `noProxy` entry that is not a domain, address or CIDR, or either holding whitespace, quotes, commas or control characters (a NUL)"#,
    },
    Rule {
        code: code::ENDPOINT_INVALID,
        severities: &[E],
        summary: r#"`controlPlaneEndpoint` not `host` or `host:port` (an IP address or DNS name, port 1-65535)"#,
    },
    Rule {
        code: code::KUBE_PROXY_INVALID,
        severities: &[E],
        summary: r#"a kube-proxy setting kube-proxy refuses: `mode: nftables` below Kubernetes 1.29 (on 1.29–1.30 netc writes the `NFTablesProxyMode` gate the mode needs); `ipvsScheduler` not one of its IPVS schedulers (rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq); not a Go duration, negative timeout or count, count above int32, `ipvs.syncPeriod` ≤ 0, `ipvs.minSyncPeriod` > `syncPeriod` (default 30s), an `excludeCIDRs` entry that is not a CIDR"#,
    },
    Rule {
        code: code::WORKLOAD_INVALID,
        severities: &[E],
        summary: r#"a workload's name, labels, port names or ports are malformed, its node is unknown, it is declared twice, or two workloads give their namespace different labels"#,
    },
    Rule {
        code: code::POLICY_SELECTOR_UNMATCHED,
        severities: &[W],
        summary: r#"a rule's pod selector or a peer matches no declared workload (namespaces with declared workloads only)"#,
    },
    Rule {
        code: code::POLICY_SHADOWED,
        severities: &[W],
        summary: r#"a rule admits nothing another rule of the namespace does not already admit"#,
    },
    Rule {
        code: code::POLICY_DNS_ONE_PROTOCOL,
        severities: &[W],
        summary: r#"an egress rule opens port 53 on UDP but not TCP, or the reverse"#,
    },
    Rule {
        code: code::POLICY_IPBLOCK_COVERS_CLUSTER,
        severities: &[W],
        summary: r#"an ipBlock covers the pod network or part of a node's pod subnet (`0.0.0.0/0` excepted)"#,
    },
    Rule {
        code: code::POLICY_API_SERVER_UNREACHABLE,
        severities: &[W],
        summary: r#"a namespace denies egress and its declared pods cannot reach the API server (tcp/6443 on the control-plane nodes)"#,
    },
    Rule {
        code: code::POLICY_CIDR_HOST_BITS,
        severities: &[W],
        summary: r#"an ipBlock `cidr` or `except` with host bits set (`192.168.1.7/24`): kept as written, as the API server keeps it, and matching its network (named in the message)"#,
    },
    Rule {
        code: code::DIFF_DISRUPTIVE,
        severities: &[W],
        summary: r#"(`diff-connectivity`) pod/service CIDR, node mask, CNI VXLAN port/VNI, Calico block size, primary family or CNI plugin changes"#,
    },
    Rule {
        code: code::FLEET_INVALID,
        severities: &[E],
        summary: r#"`fleet:` the API server or the agent would refuse: an empty image, `maxUnavailable: 0`, an interval the agent refuses (one parser and range, 100ms to 24h), a `nodeSelector` or toleration key or value the API server refuses as a label, a toleration without key but not `Exists`, `Exists` with a value, `tolerationSeconds` without `NoExecute`"#,
    },
    Rule {
        code: code::FLEET_TOO_LARGE,
        severities: &[E],
        summary: r#"an intent with `fleet:` that even gzip-compressed exceeds the API server's 1 MiB limit on a ConfigMap (the agent's ConfigMap carries the intent compressed in `binaryData`)"#,
    },
    Rule {
        code: code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE,
        severities: &[W],
        summary: r#"an intent with `fleet:` whose agent ConfigMap fits the API server but not client-side `kubectl apply`: over about 191 KiB gzip-compressed, its base64 and the object's JSON exceed the 256 KiB limit on an object's annotations, where `kubectl apply` stores the last-applied configuration (`kubectl apply --server-side` stores none)"#,
    },
    Rule {
        code: code::NODES_ADDRESS_FAMILY,
        severities: &[E, W],
        summary: r#"a node's `address`, `secondaryAddress` or `externalAddress` of a family the pod and service CIDRs lack; a secondary address of the primary's family; two external addresses of one family; a specific `bindAddress` not of the first service CIDR's family (it is the advertised address, which kube-apiserver requires of that family); warning: a multi-interface node of a dual-stack cluster without an address of the second family (its pinned node-ip would be single-family)"#,
    },
    Rule {
        code: code::NODES_SETTING_NOT_APPLIED,
        severities: &[E],
        summary: r#"`externalAddress` on kubeadm, Canonical Kubernetes or manual (their kubelet has no external-address setting); `secondaryAddress` on manual (its files carry no kubelet node-ip); a specific `bindAddress` on RKE2 (kube-apiserver's bind address is fixed at 0.0.0.0, its probes use localhost) or Canonical Kubernetes (no such setting; its components reach the API server on localhost)"#,
    },
    Rule {
        code: code::NODES_BIND_ADDRESS,
        severities: &[E, W],
        summary: r#"`bindAddress` on a worker (no API server), or a specific one that is none of the node's own addresses; `controlPlaneEndpoint` at one of the node's own addresses other than the bound one (nothing answers there); warning: manual, where the lesson's kube-controller-manager, kube-scheduler and admin kubeconfigs use `https://127.0.0.1:6443`"#,
    },
    Rule {
        code: code::DATASTORE_UNSUPPORTED,
        severities: &[E],
        summary: r#"`datastore: k8s-dqlite` on a distribution other than Canonical Kubernetes, or on Canonical Kubernetes 1.36+ (`datastore-type` is `etcd \| external` there)"#,
    },
    Rule {
        code: code::KUBE_PROXY_MODE_MISMATCH,
        severities: &[E],
        summary: r#"`ipvs`, `ipvsScheduler` or `strictARP` set while kube-proxy runs in another mode (it would never read them)"#,
    },
    Rule {
        code: code::LINT_INVALID,
        severities: &[E],
        summary: r#"a `lint.allow` entry that is not a netc code, or names a code that is only ever an error (errors cannot be accepted)"#,
    },
    Rule {
        code: code::KUBE_PROXY_NOT_APPLIED,
        severities: &[W],
        summary: r#"`cluster.kubeProxy` on a target that runs no kube-proxy (Canonical Kubernetes 1.36: Cilium replaces it)"#,
    },
    Rule {
        code: code::PROFILE_VERSION_UNSUPPORTED,
        severities: &[E],
        summary: r#"a fact the cluster needs (see "Target profiles") is not known for its `kubernetesVersion` (e.g. kubeadm below 1.22, Canonical Kubernetes below 1.30)"#,
    },
    Rule {
        code: code::PROFILE_VERSION_UNVERIFIED,
        severities: &[W],
        summary: r#"`kubernetesVersion` newer than the newest release the profiles are verified against (1.36)"#,
    },
    Rule {
        code: code::CNI_BUILTIN_FLAVOR,
        severities: &[W],
        summary: r#"`plugin: calico` on Canonical Kubernetes 1.32–1.33: only its moonray flavor runs Calico; the default build runs Cilium"#,
    },
    Rule {
        code: code::ENDPOINT_PORT_UNSUPPORTED,
        severities: &[E],
        summary: r#"`controlPlaneEndpoint` at a control-plane node's own address with a port other than 6443 on RKE2, k3s or Canonical Kubernetes (netc writes no API server port there); on kubeadm (`localAPIEndpoint.bindPort`) and manual (`--secure-port`) the API server and the firewall take the endpoint's port"#,
    },
    Rule {
        code: code::FIREWALL_NOT_APPLIED,
        severities: &[W],
        summary: r#"`firewall.zone` with the nftables backend (a firewalld zone; the nftables table has none, so the setting has no effect)"#,
    },
];
