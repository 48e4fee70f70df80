//! flannel: net-conf settings, host flanneld for `distribution: manual`, and the values no
//! flannel target takes (flannel-io/flannel `pkg/backend/{vxlan,wireguard}`, `pkg/subnet/config.go`).

use super::*;

/// Flannel's VXLAN port when `Backend.Port` is 0: the Linux kernel's VXLAN default (8472).
pub const FLANNEL_VXLAN_PORT: u16 = crate::plan::profile::FLANNEL_VXLAN_PORT;

/// flannel-io/flannel `pkg/backend/vxlan/vxlan.go`: `defaultVNI = 1` on Linux.
pub const FLANNEL_VXLAN_VNI: u32 = 1;

/// flannel-io/flannel `pkg/backend/vxlan/device.go`: the `flannel.<VNI>` device gets `MTU - 50`.
pub const FLANNEL_VXLAN_DEVICE_OVERHEAD: u32 = 50;

/// flannel-io/flannel `pkg/backend/wireguard/wireguard_network.go`: `overhead = 80`, taken off
/// `MTU` for the `flannel-wg` device whatever the underlay family.
pub const FLANNEL_WIREGUARD_DEVICE_OVERHEAD: u32 = 80;

/// flannel's wireguard backend `ListenPort` / `ListenPortV6` defaults.
pub const FLANNEL_WIREGUARD_PORT: u16 = crate::plan::profile::FLANNEL_WIREGUARD_PORT;

pub const FLANNEL_WIREGUARD_PORT_V6: u16 = crate::plan::profile::FLANNEL_WIREGUARD_PORT_V6;

/// flannel (flannel-io/flannel `pkg/subnet/config.go`, `pkg/backend/{vxlan,wireguard}`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FlannelSettings {
    pub backend: FlannelBackend,
    /// `--iface` (k3s `flannel-iface`, canal `canal_iface`, charts `flannel.iface`).
    pub interface: Option<String>,
    /// `--ip-masq`: masquerade traffic leaving the pod network.
    pub ip_masq: bool,
    /// The MTU flannel hands pods (`FLANNEL_MTU` in subnet.env): its tunnel device's MTU, or
    /// the interface's for host-gw.
    pub device_mtu: u32,
    /// Whether the net-conf differs from what an embedded flannel (k3s) writes by default:
    /// port 8472, VNI 1, each node's interface MTU. k3s then needs `flannel-conf`.
    pub differs_from_k3s_default: bool,
    /// `Some` when flanneld runs on the host under systemd (`distribution: manual`), not as
    /// the distribution's DaemonSet or embedded in it.
    pub host: Option<HostFlanneld>,
}

/// Where host flanneld and the files it reads are (`cni.flannel.paths`, defaults of the
/// hard-way lesson: the binary where the kube-flannel image has it, the net-conf where the
/// DaemonSet mounts it, flanneld's own `--net-config-path` default).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostFlanneld {
    pub binary: String,
    /// `--net-config-path`.
    pub net_conf: String,
    /// `--kubeconfig-file`.
    pub kubeconfig: String,
    /// The cluster CA and the ServiceAccount token the kubeconfig names, beside it.
    pub ca_cert: String,
    pub token: String,
}

/// The flanneld binary's default path (kube-flannel.yml runs `/opt/bin/flanneld`).
pub const FLANNELD_BINARY: &str = "/opt/bin/flanneld";

/// flanneld's `--net-config-path` default (flannel-io/flannel `main.go`).
pub const FLANNELD_NET_CONF: &str = "/etc/kube-flannel/net-conf.json";

/// The kubeconfig host flanneld reads (beside its net-conf).
pub const FLANNELD_KUBECONFIG: &str = "/etc/kube-flannel/kubeconfig";

/// net-conf `Backend`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum FlannelBackend {
    /// `MTU` is the underlay MTU: the device gets `MTU - 50` (`pkg/backend/vxlan/device.go`);
    /// `None`: left out, flannel takes the interface's.
    Vxlan {
        port: u16,
        vni: u32,
        mtu: Option<u32>,
    },
    /// No knobs but `Type`; pods get the interface's MTU.
    HostGw,
    /// `MTU` is the underlay MTU: the device gets `MTU - 80`; `None`: the interface's.
    Wireguard {
        listen_port: u16,
        listen_port_v6: Option<u16>,
        mtu: Option<u32>,
    },
}

impl Given<'_> {
    /// Flannel's settings; `pin_mtu`: write `Backend.MTU` even when the MTU is not known
    /// (Canal's veth MTU is sized from it).
    pub(super) fn flannel(
        &mut self,
        target: &'static str,
        k3s_default_mtus: &[u32],
        pin_mtu: bool,
    ) -> FlannelSettings {
        let pin = pin_mtu || self.mtu_known;
        let (ip_masq, _) = self.nat_outgoing();
        let v6 = self.has_v6();
        let (backend, device_mtu) = match self.encapsulation {
            Encapsulation::HostGw => {
                self.vxlan_has_no_effect(target, "host-gw runs no VXLAN");
                if let Some((mtu, span)) = self.explicit_mtu()
                    && mtu != self.path_mtu
                {
                    self.no_knob(
                        "cni.mtu",
                        mtu,
                        span,
                        target,
                        format!(
                            "flannel's host-gw backend has no MTU setting: pods get the interface MTU ({})",
                            self.path_mtu
                        ),
                    );
                }
                (FlannelBackend::HostGw, self.path_mtu)
            }
            Encapsulation::Wireguard => {
                self.vxlan_has_no_effect(target, "the wireguard backend runs no VXLAN");
                let mtu = self.pod_mtu + FLANNEL_WIREGUARD_DEVICE_OVERHEAD;
                (
                    FlannelBackend::Wireguard {
                        listen_port: FLANNEL_WIREGUARD_PORT,
                        listen_port_v6: v6.then_some(FLANNEL_WIREGUARD_PORT_V6),
                        mtu: pin.then_some(mtu),
                    },
                    self.pod_mtu,
                )
            }
            // vxlan, and what flannel cannot do (validation reports those): VXLAN.
            _ => (
                FlannelBackend::Vxlan {
                    port: self.port().map_or(FLANNEL_VXLAN_PORT, |p| p.0),
                    vni: self.vni().map_or(FLANNEL_VXLAN_VNI, |v| v.0),
                    mtu: pin.then_some(self.pod_mtu + FLANNEL_VXLAN_DEVICE_OVERHEAD),
                },
                self.pod_mtu,
            ),
        };
        let differs_from_k3s_default = match &backend {
            FlannelBackend::Vxlan { port, vni, mtu } => {
                *port != FLANNEL_VXLAN_PORT
                    || *vni != FLANNEL_VXLAN_VNI
                    || mtu.is_some_and(|mtu| k3s_default_mtus.iter().any(|m| *m != mtu))
            }
            FlannelBackend::Wireguard { mtu, .. } => {
                mtu.is_some_and(|mtu| k3s_default_mtus.iter().any(|m| *m != mtu))
            }
            FlannelBackend::HostGw => false,
        };
        FlannelSettings {
            backend,
            interface: self.interface(),
            ip_masq,
            device_mtu,
            differs_from_k3s_default,
            host: None,
        }
    }

    /// `cni.flannel.paths.*` given, with their spans.
    pub(super) fn flannel_paths(&self) -> Vec<(&'static str, String, Span)> {
        let Some(p) = self
            .intent
            .cni
            .flannel
            .as_ref()
            .and_then(|f| f.paths.as_ref())
        else {
            return Vec::new();
        };
        [
            ("cni.flannel.paths.binary", &p.binary),
            ("cni.flannel.paths.netConf", &p.net_conf),
            ("cni.flannel.paths.kubeconfig", &p.kubeconfig),
        ]
        .into_iter()
        .filter_map(|(key, t)| t.as_ref().map(|t| (key, t.value.clone(), t.span)))
        .collect()
    }

    /// Host flanneld where netc's host artifacts install the CNI (`CniInstall::Host`, a manual
    /// control plane) and the CNI is flannel; elsewhere `cni.flannel.paths` has nothing to
    /// apply to (flannel runs as the distribution's DaemonSet or inside it).
    pub(super) fn host_flanneld(
        &mut self,
        plugin: CniPlugin,
        target: &'static str,
    ) -> Option<HostFlanneld> {
        let given = self.flannel_paths();
        if cni_install(self.distribution, plugin) == CniInstall::Host
            && plugin == CniPlugin::Flannel
        {
            let path = |key: &str, default: &str| {
                given
                    .iter()
                    .find(|(k, _, _)| *k == key)
                    .map_or_else(|| default.to_owned(), |(_, v, _)| v.clone())
            };
            let kubeconfig = path("cni.flannel.paths.kubeconfig", FLANNELD_KUBECONFIG);
            let dir = match kubeconfig.rsplit_once('/') {
                Some((dir, _)) if !dir.is_empty() => dir.to_owned(),
                _ => String::new(),
            };
            return Some(HostFlanneld {
                binary: path("cni.flannel.paths.binary", FLANNELD_BINARY),
                net_conf: path("cni.flannel.paths.netConf", FLANNELD_NET_CONF),
                ca_cert: format!("{dir}/ca.crt"),
                token: format!("{dir}/token"),
                kubeconfig,
            });
        }
        for (key, value, span) in given {
            self.no_effect(
                key,
                value,
                span,
                target,
                "only distribution: manual runs flanneld on the host",
            );
        }
        None
    }
}

/// The wireguard backend's `PersistentKeepaliveInterval` in the net-conf netc writes for `d`:
/// k3s writes 25 for its `wireguard-native` backend and netc keeps that; elsewhere none
/// (flannel's default, no keepalive).
pub fn flannel_wireguard_keepalive(d: Distribution) -> Option<u32> {
    match d {
        Distribution::K3s => Some(K3S_WIREGUARD_KEEPALIVE),
        Distribution::Kubeadm
        | Distribution::Rke2
        | Distribution::Canonical
        | Distribution::Manual => None,
    }
}

/// k3s' wireguard-native `PersistentKeepaliveInterval`, in seconds.
const K3S_WIREGUARD_KEEPALIVE: u32 = 25;

/// flannel on kubeadm: the upstream kube-flannel.yml DaemonSet, fed netc's ConfigMap.
const KUBE_FLANNEL_DAEMONSET: &str = "kube-flannel's DaemonSet";

pub(super) fn flannel_settings(given: &mut Given<'_>, k3s_default_mtus: &[u32]) -> FlannelSettings {
    let target = match given.distribution {
        Distribution::K3s => "k3s' embedded flannel",
        Distribution::Rke2 => "RKE2's rke2-flannel chart",
        Distribution::Kubeadm | Distribution::Canonical | Distribution::Manual => "flannel",
    };
    given.block_size_has_no_effect(target);
    let settings = given.flannel(target, k3s_default_mtus, false);
    let (masq, span) = given.nat_outgoing();
    if !masq && let Some(span) = span {
        match given.distribution {
            // k3s-io/k3s `pkg/agent/flannel/flannel.go` sets up flannel's IPv4 masquerade
            // rules unconditionally; only `flannel-ipv6-masq` is a flag.
            Distribution::K3s => given.no_knob(
                "cni.calico.natOutgoing",
                masq,
                span,
                target,
                "k3s always masquerades IPv4 pod traffic leaving the cluster",
            ),
            // flannel-io/flannel `Documentation/kube-flannel.yml`: the DaemonSet's container
            // args are `--ip-masq --kube-subnet-mgr`; netc writes only its ConfigMap.
            Distribution::Kubeadm => given.no_knob(
                "cni.calico.natOutgoing",
                masq,
                span,
                KUBE_FLANNEL_DAEMONSET,
                "kube-flannel.yml always runs flanneld with --ip-masq",
            ),
            // rke2-charts `rke2-flannel`: flanneld's flags are the `flannel.args` value, which
            // netc writes (`emit/rke2.rs`), so flanneld runs without `--ip-masq`; but the
            // chart's cni-conf.json (flannel-io/flannel `chart/kube-flannel/templates/
            // config.yaml`, unpatched by rke2-charts) leaves the delegate's `ipMasq` unset,
            // so the flannel CNI plugin turns the bridge plugin's on (`plan::masquerade`
            // `flanneld`), and netc has no value to write it through.
            Distribution::Rke2 => given.no_knob(
                "cni.calico.natOutgoing",
                masq,
                span,
                target,
                "without flanneld's --ip-masq, the flannel CNI plugin turns on the bridge plugin's ipMasq (rke2-flannel's cni-conf.json does not set it): pod traffic leaving its node's pod subnet, other nodes' pods included, is masqueraded to the node's address",
            ),
            // Host flanneld (`distribution: manual`): no `--ip-masq`, and netc's conflist sets
            // the delegate's `ipMasq: false` (`emit::cni`). Canonical Kubernetes offers no
            // flannel (its profile's CNIs; `validate/cni.rs` reports it).
            Distribution::Manual | Distribution::Canonical => {}
        }
    }
    // `cni.interface` reaches the DaemonSet's `--iface` through the kustomize patch
    // (`emit/flannel_kustomize.rs`), rke2-flannel's through `flannel.args` (`emit/rke2.rs`),
    // and sizes the MTU (net-conf `Backend.MTU`).
    settings
}
