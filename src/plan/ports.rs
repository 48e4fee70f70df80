//! Port claims: every protocol/port something on a node listens on, by role, distribution,
//! CNI and host overlay, each with the span of the intent value that caused it.

use serde::Serialize;

use super::Plan;
use crate::intent::values::{PortRange, Protocol};
use crate::intent::{CniPlugin, Distribution, Encapsulation, NetworkIntent, Role, Span};

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

/// Claims of the Kubernetes components of a node, by distribution and role.
fn kubernetes_claims(
    dist: Distribution,
    role: Role,
    role_span: Span,
    dist_span: Span,
) -> Vec<PortClaim> {
    let mut out = Vec::new();
    let all = || Scope::All;
    if role == Role::ControlPlane {
        out.push(claim("kube-apiserver", tcp(6443), all(), role_span));
        out.push(claim(
            "kube-controller-manager",
            tcp(10257),
            all(),
            role_span,
        ));
        out.push(claim("kube-scheduler", tcp(10259), all(), role_span));
        match dist {
            Distribution::Canonical => {
                out.push(claim("k8sd", tcp(6400), all(), role_span));
                out.push(claim("k8s-dqlite", tcp(9000), all(), role_span));
            }
            Distribution::Rke2 => {
                out.push(claim("rke2 supervisor", tcp(9345), all(), role_span));
                out.push(claim(
                    "etcd",
                    PortRange::range(Protocol::Tcp, 2379, 2381),
                    all(),
                    role_span,
                ));
            }
            Distribution::Kubeadm | Distribution::K3s => {
                out.push(claim(
                    "etcd",
                    PortRange::range(Protocol::Tcp, 2379, 2380),
                    all(),
                    role_span,
                ));
            }
        }
    }
    out.push(claim("kubelet", tcp(10250), all(), dist_span));
    if dist != Distribution::Canonical {
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

/// Claims of the CNI's data and control plane on a node.
fn cni_claims(plan: &Plan, intent: &NetworkIntent) -> Vec<PortClaim> {
    let cni = &plan.cni;
    let scope = cni
        .interface
        .as_ref()
        .map_or(Scope::All, |i| Scope::Interface(i.clone()));
    let plugin_span = intent.cni.plugin.span;
    let vxlan = intent.cni.vxlan.as_ref();
    let port_span = vxlan
        .and_then(|v| v.port.as_ref())
        .map_or(plugin_span, |p| p.span);
    let name = match cni.plugin {
        CniPlugin::Flannel => "flannel",
        CniPlugin::Calico => "calico",
        CniPlugin::Canal => "canal",
        CniPlugin::Cilium => "cilium",
        CniPlugin::Bridge | CniPlugin::None => return Vec::new(),
    };
    let mut out = Vec::new();
    match cni.encapsulation {
        Encapsulation::Vxlan | Encapsulation::VxlanCrossSubnet => out.push(PortClaim {
            vni: Some(cni.vxlan_vni),
            ..claim(
                &format!("{name} VXLAN"),
                udp(cni.vxlan_port),
                scope.clone(),
                port_span,
            )
        }),
        Encapsulation::Wireguard => {
            let port = if cni.plugin == CniPlugin::Cilium {
                51871
            } else {
                51820
            };
            out.push(claim(
                &format!("{name} WireGuard"),
                udp(port),
                scope.clone(),
                plugin_span,
            ));
            if plan.dual_stack() && cni.plugin != CniPlugin::Cilium {
                out.push(claim(
                    &format!("{name} WireGuard (IPv6)"),
                    udp(51821),
                    scope.clone(),
                    plugin_span,
                ));
            }
        }
        _ => {}
    }
    match cni.plugin {
        CniPlugin::Calico => {
            if super::calico_bgp(cni.encapsulation) {
                out.push(claim("calico BGP", tcp(179), scope.clone(), plugin_span));
            }
            out.push(claim("calico typha", tcp(5473), Scope::All, plugin_span));
        }
        CniPlugin::Cilium => {
            out.push(claim("cilium health", tcp(4240), Scope::All, plugin_span));
            out.push(claim("hubble", tcp(4244), Scope::All, plugin_span));
        }
        _ => {}
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
    for (node, spec) in plan.nodes.iter_mut().zip(&intent.nodes) {
        let mut claims = kubernetes_claims(plan.distribution, node.role, spec.role.span, dist_span);
        claims.extend(cni.iter().cloned());
        claims.extend(overlay.iter().cloned());
        node.ports = claims;
    }
}
