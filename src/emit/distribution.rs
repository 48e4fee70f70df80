//! Facts the cluster-configuration targets (kubeadm, RKE2, k3s, Canonical Kubernetes,
//! cloud-init) read the same way from the Plan: which node initialises the cluster, how
//! addresses and CIDR lists are written, which kube-proxy and controller-manager flags differ
//! from the defaults.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use crate::intent::{KubeProxyMode, values};
use crate::plan::{DEFAULT_NODE_MASK_V4, DEFAULT_NODE_MASK_V6, NodePlan, Plan};

/// A node's part in bringing the cluster up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClusterRole {
    /// The first control-plane node: it initialises the cluster.
    Init,
    /// A further control-plane node joining the first.
    ControlPlane,
    Worker,
}

/// The node that initialises the cluster: the first control-plane node in intent order.
pub fn init_node(plan: &Plan) -> Option<&NodePlan> {
    plan.nodes.iter().find(|n| n.is_control_plane())
}

pub fn role(plan: &Plan, node: &NodePlan) -> ClusterRole {
    if !node.is_control_plane() {
        ClusterRole::Worker
    } else if init_node(plan).is_some_and(|i| i.name == node.name) {
        ClusterRole::Init
    } else {
        ClusterRole::ControlPlane
    }
}

/// CIDRs as the comma-separated list Kubernetes flags take (IPv4 first); `None` when empty.
pub fn cidr_list(nets: &[IpNet]) -> Option<String> {
    if nets.is_empty() {
        return None;
    }
    Some(
        nets.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// `host:port` of the API server every node talks to: the control-plane endpoint, else the
/// first control-plane node's API address (`NodePlan::api_address`) on port 6443; `None`
/// without either.
pub fn api_server_endpoint(plan: &Plan) -> Option<String> {
    if let Some(e) = &plan.control_plane_endpoint {
        return Some(e.clone());
    }
    init_api_address(plan).map(|ip| values::host_port(ip, plan.api_server_port))
}

/// The first control-plane node's API address: where the others join when no control-plane
/// endpoint is given.
pub fn init_api_address(plan: &Plan) -> Option<IpAddr> {
    init_node(plan).and_then(NodePlan::api_address)
}

/// The addresses the node's kubelet must register with, when the kubelet could pick others:
/// nodes with more than one interface, and dual-stack nodes (a `secondaryAddress`), get an
/// explicit `node-ip`, one address per family in the cluster's family order.
pub fn node_ips(plan: &Plan, node: &NodePlan) -> Vec<IpAddr> {
    if node.interfaces.len() > 1 || node.secondary_address.is_some() {
        node.node_ips(&plan.pod_cidrs)
    } else {
        Vec::new()
    }
}

/// `node-ip` as one flag value (kubelet's `--node-ip` takes a comma-separated pair).
pub fn node_ip_flag(plan: &Plan, node: &NodePlan) -> Option<(&'static str, String)> {
    let ips = node_ips(plan, node);
    (!ips.is_empty()).then(|| ("node-ip", join_ips(&ips)))
}

pub fn join_ips(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The address an RKE2/k3s server's API server advertises, when it would advertise another:
/// with `node-external-ip` set, k3s and RKE2 advertise the external address
/// (k3s `pkg/cli/cmds/server.go`: `advertise-address` "default: node-external-ip/node-ip"),
/// and with a specific `bindAddress` nothing but that address answers. Then it is the node's
/// API address (`NodePlan::api_address`); otherwise their default (node-ip) already is.
pub fn advertise_address(node: &NodePlan) -> Option<IpAddr> {
    if !node.is_control_plane()
        || (node.external_addresses.is_empty() && node.specific_bind_address().is_none())
    {
        return None;
    }
    node.api_address()
}

/// kube-proxy flags (without dashes) that differ from kube-proxy's defaults.
pub fn kube_proxy_flags(plan: &Plan) -> Vec<(&'static str, String)> {
    let kp = &plan.kube_proxy;
    let mut flags = Vec::new();
    match kp.mode {
        KubeProxyMode::Iptables => {}
        KubeProxyMode::Ipvs => {
            flags.push(("proxy-mode", "ipvs".to_owned()));
            if let Some(s) = &kp.ipvs_scheduler {
                flags.push(("ipvs-scheduler", s.clone()));
            }
            if kp.strict_arp {
                flags.push(("ipvs-strict-arp", "true".to_owned()));
            }
            // kube-proxy's flags for KubeProxyIPVSConfiguration (cmd/kube-proxy/app/options.go).
            if let Some(d) = &kp.ipvs.sync_period {
                flags.push(("ipvs-sync-period", d.clone()));
            }
            if let Some(d) = &kp.ipvs.min_sync_period {
                flags.push(("ipvs-min-sync-period", d.clone()));
            }
            if !kp.ipvs.exclude_cidrs.is_empty() {
                let cidrs: Vec<String> = kp
                    .ipvs
                    .exclude_cidrs
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                flags.push(("ipvs-exclude-cidrs", cidrs.join(",")));
            }
        }
        KubeProxyMode::Nftables => {
            flags.push(("proxy-mode", "nftables".to_owned()));
            // The profile's fact: the Alpha gate on 1.29–1.30 (kube-proxy's validation
            // refuses the mode without it).
            if let Some(g) = plan.profile.kube_proxy_gate {
                flags.push(("feature-gates", format!("{g}=true")));
            }
        }
    }
    // KubeProxyConntrackConfiguration's flags. RKE2 and k3s start kube-proxy with
    // `conntrack-max-per-core=0` and both timeouts `0s` (k3s `pkg/daemons/agent`), and a
    // `kube-proxy-arg` entry overrides them.
    let ct = &kp.conntrack;
    if let Some(v) = ct.max_per_core {
        flags.push(("conntrack-max-per-core", v.to_string()));
    }
    if let Some(v) = ct.min {
        flags.push(("conntrack-min", v.to_string()));
    }
    if let Some(d) = &ct.tcp_established_timeout {
        flags.push(("conntrack-tcp-timeout-established", d.clone()));
    }
    if let Some(d) = &ct.tcp_close_wait_timeout {
        flags.push(("conntrack-tcp-timeout-close-wait", d.clone()));
    }
    flags
}

/// kube-controller-manager flags for per-node pod subnet sizes that are not the defaults
/// (`node-cidr-mask-size` single-stack, `-ipv4`/`-ipv6` dual-stack).
pub fn node_mask_flags(plan: &Plan) -> Vec<(&'static str, String)> {
    let v4 = plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V4(_)));
    let v6 = plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V6(_)));
    let mut flags = Vec::new();
    match (v4, v6) {
        (true, true) => {
            if plan.node_mask_v4 != DEFAULT_NODE_MASK_V4 {
                flags.push(("node-cidr-mask-size-ipv4", plan.node_mask_v4.to_string()));
            }
            if plan.node_mask_v6 != DEFAULT_NODE_MASK_V6 {
                flags.push(("node-cidr-mask-size-ipv6", plan.node_mask_v6.to_string()));
            }
        }
        (true, false) if plan.node_mask_v4 != DEFAULT_NODE_MASK_V4 => {
            flags.push(("node-cidr-mask-size", plan.node_mask_v4.to_string()));
        }
        (false, true) if plan.node_mask_v6 != DEFAULT_NODE_MASK_V6 => {
            flags.push(("node-cidr-mask-size", plan.node_mask_v6.to_string()));
        }
        _ => {}
    }
    flags
}

/// The address keys RKE2 and k3s share (`node-ip`, `node-external-ip` and, on servers,
/// `advertise-address`; the same flags in both, rancher/rke2 inherits k3s's agent flags).
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct NodeAddresses {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_ip: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_external_ip: Vec<String>,
    /// Server only: the API server's advertised address.
    #[serde(skip_serializing_if = "Option::is_none")]
    advertise_address: Option<String>,
}

/// `node`'s address keys.
pub fn node_addresses(plan: &Plan, node: &NodePlan) -> NodeAddresses {
    NodeAddresses {
        node_ip: node_ips(plan, node)
            .iter()
            .map(ToString::to_string)
            .collect(),
        node_external_ip: node
            .external_addresses
            .iter()
            .map(ToString::to_string)
            .collect(),
        advertise_address: advertise_address(node).map(|ip| ip.to_string()),
    }
}

/// `name=value` strings, the form of RKE2/k3s `*-arg` lists.
pub fn arg_list(flags: &[(&str, String)]) -> Vec<String> {
    flags.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// The cluster-network keys an RKE2 or k3s server's `config.yaml` takes (RKE2 inherits k3s's
/// flags for them): CIDRs, cluster DNS and domain, the API endpoint's SAN, the node mask.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ServerNetwork {
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_dns: Option<String>,
    cluster_domain: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tls_san: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kube_controller_manager_arg: Vec<String>,
}

pub fn server_network(plan: &Plan) -> ServerNetwork {
    ServerNetwork {
        cluster_cidr: cidr_list(&plan.pod_cidrs),
        service_cidr: cidr_list(&plan.service_cidrs),
        cluster_dns: plan.cluster_dns.map(|ip| ip.to_string()),
        cluster_domain: plan.dns_domain.clone(),
        tls_san: plan
            .control_plane_endpoint
            .as_deref()
            .map(|e| values::endpoint_host(e).to_owned())
            .into_iter()
            .collect(),
        kube_controller_manager_arg: arg_list(&node_mask_flags(plan)),
    }
}
