//! Host facts of each node: kernel modules, sysctls, static pod routes, proxy environment.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::{Deserialize, Serialize, Serializer};

use super::{Plan, ProxyPlan};
use crate::intent::{KubeProxyMode, NetworkIntent};

/// A kernel module the node needs, and why.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ModuleRequirement {
    pub name: String,
    pub reason: String,
}

/// A sysctl the node needs (`net.ipv4.ip_forward = 1`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Sysctl {
    pub key: String,
    pub value: String,
}

/// A static route to another node's pod subnet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub destination: IpNet,
    pub via: IpAddr,
    /// The node that owns `destination`.
    pub node: String,
}

/// A node's static routes: every other node's pod subnets, via that node.
///
/// Each node's list is every route of the cluster but its own, so the nodes share one list of
/// all routes and each leaves out the ones to itself: lowering costs O(nodes), not O(nodes²),
/// while every node still reads as its own list (iteration, equality, serialization).
#[derive(Clone, Default)]
pub struct Routes {
    /// Every route of the cluster, in node order.
    all: Arc<[Route]>,
    /// The node whose own subnets are left out.
    node: String,
}

impl Routes {
    /// `node`'s routes among `all`: those to the other nodes.
    pub fn of(all: Arc<[Route]>, node: &str) -> Self {
        Self {
            all,
            node: node.to_owned(),
        }
    }

    /// The routes, in node order.
    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.all.iter().filter(|r| r.node != self.node)
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }
}

impl<'a> IntoIterator for &'a Routes {
    type Item = &'a Route;
    type IntoIter = Box<dyn Iterator<Item = &'a Route> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

impl PartialEq for Routes {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Routes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

fn module(name: &str, reason: &str) -> ModuleRequirement {
    ModuleRequirement {
        name: name.to_owned(),
        reason: reason.to_owned(),
    }
}

fn sysctl(key: &str, value: &str) -> Sysctl {
    Sysctl {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// Whether netc itself routes pod subnets between nodes: only for the bridge plugin. Flannel
/// (any backend, host-gw included) installs the routes to other nodes' subnets itself from its
/// leases (flannel-io/flannel `pkg/backend/hostgw`, `pkg/backend/route_network.go`), with the
/// subnets the cluster assigned, which need not follow node order.
pub fn static_pod_routes(plan: &Plan) -> bool {
    plan.cni.bridge().is_some()
}

pub(super) fn derive(plan: &mut Plan) {
    let mut modules = vec![
        module("overlay", "container runtime overlay filesystem"),
        module(
            "br_netfilter",
            "bridged pod traffic must traverse iptables/nftables",
        ),
    ];
    let tunnels = plan.cni.tunnels();
    if tunnels.vxlan || plan.host_overlay.is_some() {
        modules.push(module("vxlan", "VXLAN overlay"));
    }
    if tunnels.ipip {
        modules.push(module("ipip", "IP-in-IP encapsulation"));
    }
    if tunnels.wireguard {
        modules.push(module("wireguard", "WireGuard encapsulation"));
    }
    if plan.host_overlay.is_some() || plan.cni.bridge().is_some() {
        modules.push(module("bridge", "Linux bridge"));
    }
    for name in plan.kube_proxy.ipvs_modules() {
        let reason = if name.starts_with("ip_vs_") {
            "kube-proxy IPVS scheduler"
        } else {
            "kube-proxy IPVS mode"
        };
        modules.push(module(&name, reason));
    }
    if plan.kube_proxy.mode == KubeProxyMode::Nftables {
        modules.push(module("nf_tables", "kube-proxy nftables mode"));
    }
    modules.sort();
    modules.dedup_by(|a, b| a.name == b.name);

    let v6 = plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V6(_)));
    let mut sysctls = vec![
        sysctl("net.ipv4.ip_forward", "1"),
        sysctl("net.bridge.bridge-nf-call-iptables", "1"),
        sysctl("net.bridge.bridge-nf-call-ip6tables", "1"),
    ];
    if v6 {
        sysctls.push(sysctl("net.ipv6.conf.all.forwarding", "1"));
    }
    if plan.host_overlay.is_some() || tunnels.vxlan || tunnels.ipip {
        // Overlay replies can arrive on another interface than the route back: loose mode.
        sysctls.push(sysctl("net.ipv4.conf.all.rp_filter", "2"));
    }
    sysctls.sort();

    let routes_wanted = static_pod_routes(plan);
    // Every node's pod subnets via its address; each node gets all of them but its own.
    let all: Arc<[Route]> = plan
        .nodes
        .iter()
        .filter_map(|n| Some((n, n.ip()?)))
        .flat_map(|(n, via)| {
            n.pod_cidrs
                .iter()
                .filter(move |c| same_family(c, &via))
                .map(move |c| Route {
                    destination: *c,
                    via,
                    node: n.name.clone(),
                })
        })
        .collect();
    for node in &mut plan.nodes {
        node.modules = modules.clone();
        node.sysctls = sysctls.clone();
        if routes_wanted {
            node.routes = Routes::of(all.clone(), &node.name);
        }
    }
}

fn same_family(net: &IpNet, addr: &IpAddr) -> bool {
    matches!(
        (net, addr),
        (IpNet::V4(_), IpAddr::V4(_)) | (IpNet::V6(_), IpAddr::V6(_))
    )
}

/// NO_PROXY must keep cluster traffic off the proxy: everything netc adds to the user's list.
pub fn required_no_proxy(plan: &Plan) -> Vec<String> {
    let mut out: Vec<String> = vec!["localhost".into(), "127.0.0.1".into()];
    out.extend(plan.pod_cidrs.iter().map(ToString::to_string));
    out.extend(plan.service_cidrs.iter().map(ToString::to_string));
    let mut node_nets: Vec<String> = plan
        .nodes
        .iter()
        .filter_map(|n| n.address.map(|a| a.trunc().to_string()))
        .collect();
    node_nets.sort();
    node_nets.dedup();
    out.extend(node_nets);
    if let Some(h) = &plan.host_overlay {
        out.push(h.subnet.to_string());
    }
    out.push(".svc".into());
    out.push(format!(".{}", plan.dns_domain));
    out
}

pub(super) fn proxy_plan(intent: &NetworkIntent, plan: &Plan) -> Option<ProxyPlan> {
    let p = intent.proxy.as_ref()?;
    let mut no_proxy: Vec<String> = p.no_proxy.iter().map(|t| t.value.clone()).collect();
    let mut added = Vec::new();
    for entry in required_no_proxy(plan) {
        if !no_proxy.contains(&entry) {
            no_proxy.push(entry.clone());
            added.push(entry);
        }
    }
    Some(ProxyPlan {
        http: p.http.as_ref().map(|h| h.value.clone()),
        https: p.https.as_ref().map(|h| h.value.clone()),
        no_proxy,
        added,
    })
}
