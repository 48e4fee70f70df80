//! Port claims: every protocol/port something on a node listens on, by role, distribution,
//! CNI and host overlay, each with the span of the intent value that caused it.

use serde::Serialize;

use ipnet::IpNet;

use super::Plan;
use super::cni::{
    CALICO_WIREGUARD_PORT, CALICO_WIREGUARD_PORT_V6, CILIUM_WIREGUARD_PORT, FlannelBackend,
    FlannelSettings, PluginSettings,
};
use super::profile;
use crate::intent::values::{PortRange, Protocol};
use crate::intent::{Distribution, NetworkIntent, Role, Span};

/// RKE2's supervisor (registration) port on servers, where agents and further servers join
/// (docs.rke2.io "Inbound Network Rules": TCP 9345, RKE2 supervisor API).
pub const RKE2_SUPERVISOR_PORT: u16 = 9345;

/// Where a claim listens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Every address of the node.
    All,
    /// The addresses of one interface.
    Interface(String),
}

impl Scope {
    /// Whether two scopes can receive the same packet.
    pub fn intersects(&self, other: &Scope) -> bool {
        match (self, other) {
            (Scope::All, _) | (_, Scope::All) => true,
            (Scope::Interface(a), Scope::Interface(b)) => a == b,
        }
    }
}

/// One component's claim on a port range of a node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PortClaim {
    /// Who listens (`kubelet`, `etcd`, `flannel VXLAN`, `host overlay VXLAN`).
    pub component: String,
    pub range: PortRange,
    pub scope: Scope,
    /// VXLAN network identifier, for VXLAN sockets (several VNIs may share one port).
    pub vni: Option<u32>,
    /// The intent value this claim comes from.
    #[serde(skip)]
    pub origin: Span,
}

impl PortClaim {
    /// Whether two claims cannot both be bound: same protocol/port on a shared address,
    /// except VXLAN devices on one port with different VNIs (the kernel shares the socket).
    pub fn conflicts_with(&self, other: &PortClaim) -> bool {
        if !self.range.overlaps(&other.range) || !self.scope.intersects(&other.scope) {
            return false;
        }
        match (self.vni, other.vni) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// Whether kube-controller-manager and kube-scheduler listen (10257, 10259) on addresses other
/// nodes reach. k3s runs both with `bind-address` on the loopback address (k3s-io/k3s
/// `pkg/daemons/control/server.go`, `controllerManager` and `scheduler` argsMap): nothing
/// outside the node reaches them; every other distribution keeps their default, every address.
fn controllers_listen_beyond_the_node(d: Distribution) -> bool {
    match d {
        Distribution::K3s => false,
        Distribution::Kubeadm
        | Distribution::Rke2
        | Distribution::Canonical
        | Distribution::Manual => true,
    }
}

fn claim(component: &str, range: PortRange, scope: Scope, origin: Span) -> PortClaim {
    PortClaim {
        component: component.to_owned(),
        range,
        scope,
        vni: None,
        origin,
    }
}

const fn tcp(port: u16) -> PortRange {
    PortRange::single(Protocol::Tcp, port)
}

const fn udp(port: u16) -> PortRange {
    PortRange::single(Protocol::Udp, port)
}

/// What decides the control plane's datastore ports.
#[derive(Clone, Copy)]
struct ControlPlane {
    /// `Plan::runs_etcd`; otherwise Canonical runs k8s-dqlite and k3s SQLite.
    etcd: bool,
    /// The span of `cluster.datastore`, or of the distribution when it is not given.
    datastore_span: Span,
}

/// Claims of the Kubernetes components of a node, by distribution and role.
fn kubernetes_claims(
    plan: &Plan,
    role: Role,
    role_span: Span,
    dist_span: Span,
    cp: ControlPlane,
) -> Vec<PortClaim> {
    let dist = plan.distribution;
    let mut out = Vec::new();
    let all = || Scope::All;
    if role == Role::ControlPlane {
        out.push(claim(
            "kube-apiserver",
            tcp(plan.api_server_port),
            all(),
            role_span,
        ));
        if controllers_listen_beyond_the_node(dist) {
            out.push(claim(
                "kube-controller-manager",
                tcp(10257),
                all(),
                role_span,
            ));
            out.push(claim("kube-scheduler", tcp(10259), all(), role_span));
        }
        match dist {
            Distribution::Canonical => {
                // canonical/k8s-snap-api `api/type_bootstrap_config.go`: `datastore-type`
                // k8s-dqlite listens on `k8s-dqlite-port` (default 9000), etcd on `etcd-port`
                // and `etcd-peer-port` (2379, 2380).
                if cp.etcd {
                    out.push(claim(
                        "etcd",
                        PortRange::range(Protocol::Tcp, 2379, 2380),
                        all(),
                        cp.datastore_span,
                    ));
                } else {
                    out.push(claim("k8s-dqlite", tcp(9000), all(), cp.datastore_span));
                }
            }
            Distribution::Rke2 => {
                out.push(claim(
                    "rke2 supervisor",
                    tcp(RKE2_SUPERVISOR_PORT),
                    all(),
                    role_span,
                ));
                out.push(claim(
                    "etcd",
                    PortRange::range(Protocol::Tcp, 2379, 2381),
                    all(),
                    role_span,
                ));
            }
            // A single k3s server keeps its state in SQLite (kine) and listens on no etcd
            // port; with `cluster-init` (several servers, or `datastore: etcd`) it runs
            // embedded etcd (k3s docs "High Availability Embedded etcd": 2379-2380/tcp).
            Distribution::K3s if !cp.etcd => {}
            // "The hard way" runs etcd on the controller (client 2379, peer 2380).
            Distribution::Kubeadm | Distribution::K3s | Distribution::Manual => {
                out.push(claim(
                    "etcd",
                    PortRange::range(Protocol::Tcp, 2379, 2380),
                    all(),
                    role_span,
                ));
            }
        }
    }
    // Canonical Kubernetes: k8sd serves its REST API on every node (the profile's fact).
    if let Some(port) = plan.profile.k8sd_port {
        out.push(claim("k8sd", tcp(port), all(), dist_span));
    }
    out.push(claim("kubelet", tcp(10250), all(), dist_span));
    // kube-proxy's healthz listens on 0.0.0.0:10256 by default (KubeProxyConfiguration
    // `healthzBindAddress`); k3s, RKE2 and k8s-snap bind it to 127.0.0.1, and Canonical 1.36
    // runs no kube-proxy: the profile's `kube-proxy healthz bind` / `kube-proxy runs` decide.
    if plan.profile.kube_proxy_healthz_open {
        out.push(claim("kube-proxy health", tcp(10256), all(), dist_span));
    }
    out.push(claim(
        "NodePort services",
        PortRange::range(Protocol::Tcp, 30000, 32767),
        all(),
        dist_span,
    ));
    out.push(claim(
        "NodePort services",
        PortRange::range(Protocol::Udp, 30000, 32767),
        all(),
        dist_span,
    ));
    out
}

/// Claims of the CNI's data and control plane on a node: the ports of the plugin's settings
/// (`cni.rs`), so the firewall opens exactly the ports the CNI listens on.
fn cni_claims(plan: &Plan, intent: &NetworkIntent) -> Vec<PortClaim> {
    let cni = &plan.cni;
    // Cilium tunnels between node IPs (`mtu.rs`: the interface carrying each node's address,
    // not `cni.interface`): its ports are open on every interface.
    let scope = match (&cni.settings, &cni.interface) {
        (PluginSettings::Cilium(_), _) | (_, None) => Scope::All,
        (_, Some(i)) => Scope::Interface(i.clone()),
    };
    let plugin_span = intent.cni.plugin.span;
    let vxlan = intent.cni.vxlan.as_ref();
    let port_span = vxlan
        .and_then(|v| v.port.as_ref())
        .map_or(plugin_span, |p| p.span);
    let vxlan_claim = |name: &str, port: u16, vni: Option<u32>| PortClaim {
        vni,
        ..claim(name, udp(port), scope.clone(), port_span)
    };
    let mut out = Vec::new();
    let flannel = |name: &str, f: &FlannelSettings, out: &mut Vec<PortClaim>| match &f.backend {
        FlannelBackend::Vxlan { port, vni, .. } => {
            out.push(vxlan_claim(&format!("{name} VXLAN"), *port, Some(*vni)));
        }
        FlannelBackend::Wireguard {
            listen_port,
            listen_port_v6,
            ..
        } => {
            if plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V4(_))) {
                out.push(claim(
                    &format!("{name} WireGuard"),
                    udp(*listen_port),
                    scope.clone(),
                    plugin_span,
                ));
            }
            if let Some(p) = listen_port_v6 {
                out.push(claim(
                    &format!("{name} WireGuard (IPv6)"),
                    udp(*p),
                    scope.clone(),
                    plugin_span,
                ));
            }
        }
        FlannelBackend::HostGw => {}
    };
    match &cni.settings {
        PluginSettings::Flannel(f) => flannel("flannel", f, &mut out),
        PluginSettings::Canal(c) => flannel("canal", &c.flannel, &mut out),
        PluginSettings::Calico(c) => {
            if c.uses_vxlan() {
                out.push(vxlan_claim("calico VXLAN", c.vxlan_port, Some(c.vxlan_vni)));
            }
            if c.wireguard_v4 {
                out.push(claim(
                    "calico WireGuard",
                    udp(CALICO_WIREGUARD_PORT),
                    scope.clone(),
                    plugin_span,
                ));
            }
            if c.wireguard_v6 {
                out.push(claim(
                    "calico WireGuard (IPv6)",
                    udp(CALICO_WIREGUARD_PORT_V6),
                    scope.clone(),
                    plugin_span,
                ));
            }
            if c.bgp {
                out.push(claim(
                    "calico BGP",
                    tcp(profile::CALICO_BGP_PORT),
                    scope.clone(),
                    plugin_span,
                ));
            }
            out.push(claim(
                "calico typha",
                tcp(profile::CALICO_TYPHA_PORT),
                Scope::All,
                plugin_span,
            ));
        }
        PluginSettings::Cilium(c) => {
            if let Some(port) = c.tunnel_port {
                // Cilium's VNI is the security identity: any VNI arrives on this port.
                out.push(vxlan_claim("cilium VXLAN", port, None));
            }
            if c.wireguard {
                out.push(claim(
                    "cilium WireGuard",
                    udp(CILIUM_WIREGUARD_PORT),
                    scope.clone(),
                    plugin_span,
                ));
            }
            out.push(claim(
                "cilium health",
                tcp(profile::CILIUM_HEALTH_PORT),
                Scope::All,
                plugin_span,
            ));
            out.push(claim(
                "hubble",
                tcp(profile::CILIUM_HUBBLE_PORT),
                Scope::All,
                plugin_span,
            ));
        }
        PluginSettings::Bridge(_) | PluginSettings::None => {}
    }
    out
}

/// Fills every node's `ports`.
pub(super) fn claim_all(intent: &NetworkIntent, plan: &mut Plan) {
    let cni = cni_claims(plan, intent);
    let overlay = intent
        .host_overlay
        .as_ref()
        .zip(plan.host_overlay.as_ref())
        .map(|(h, p)| {
            let scope = p
                .underlay
                .as_ref()
                .map_or(Scope::All, |i| Scope::Interface(i.clone()));
            let span = h.vxlan.port.as_ref().map_or(h.bridge.span, |s| s.span);
            PortClaim {
                vni: Some(p.vni),
                ..claim("host overlay VXLAN", udp(p.port), scope, span)
            }
        });
    let dist_span = intent.cluster.distribution.span;
    let cp = ControlPlane {
        etcd: plan.runs_etcd(),
        datastore_span: intent
            .cluster
            .datastore
            .as_ref()
            .map_or(dist_span, |d| d.span),
    };
    let claims: Vec<Vec<PortClaim>> = plan
        .nodes
        .iter()
        .zip(&intent.nodes)
        .map(|(node, spec)| {
            let mut claims = kubernetes_claims(plan, node.role, spec.role.span, dist_span, cp);
            claims.extend(cni.iter().cloned());
            claims.extend(overlay.iter().cloned());
            claims
        })
        .collect();
    for (node, claims) in plan.nodes.iter_mut().zip(claims) {
        node.ports = claims;
    }
}
