//! k3s: `k3s/<node>/config.yaml` (`/etc/rancher/k3s/config.yaml`, keys are the `k3s server` /
//! `k3s agent` flag names of k3s-io/k3s `pkg/cli/cmds/{server,agent}.go`). Flannel options and
//! the cluster networks are server flags (the same on every server); `node-ip`, `flannel-iface`
//! and `kube-proxy-arg` are agent flags, which servers take too.
//!
//! With any CNI but flannel, k3s's own flannel and network-policy controller are turned off
//! (`flannel-backend: none`, `disable-network-policy: true`) and the CNI's manifests come from
//! the other targets. Join secrets are left out: every node but the first needs `token:`.

use serde::Serialize;

use super::distribution::{self, ClusterRole};
use super::{ArtifactSink, Context, EmitError, yaml_documents_noted};
use crate::intent::{CniPlugin, Distribution, Encapsulation};
use crate::plan::{NodePlan, Plan};

const API_PORT: u16 = 6443;

const TOKEN_NOTE: &[&str] =
    &["Join secret left out: add `token:` (the first server's node-token) in config.yaml.d/."];

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    /// Embedded etcd on the first of several servers.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    cluster_init: bool,
    node_name: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    node_ip: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flannel_iface: Option<String>,
    #[serde(flatten)]
    server_only: Option<ServerConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kube_proxy_arg: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ServerConfig {
    flannel_backend: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    disable_network_policy: bool,
    #[serde(flatten)]
    network: distribution::ServerNetwork,
}

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    if plan.distribution != Distribution::K3s {
        return Ok(());
    }
    for node in ctx.nodes() {
        let path = format!("k3s/{}/config.yaml", node.name);
        let notes: &[&str] = if distribution::role(plan, node) == ClusterRole::Init {
            &[]
        } else {
            TOKEN_NOTE
        };
        let bytes = yaml_documents_noted(ctx, &path, notes, &[node_config(plan, node)])?;
        sink.put(path, bytes)?;
    }
    Ok(())
}

/// The node's `config.yaml` without the header (for the cloud-init `cluster.config` string).
pub fn node_yaml(plan: &Plan, node: &NodePlan) -> Result<String, EmitError> {
    serde_saphyr::to_string(&node_config(plan, node)).map_err(|e| EmitError::Serialize {
        path: format!("k3s/{}/config.yaml", node.name),
        message: e.to_string(),
    })
}

/// k3s's `flannel-backend` for the intent's CNI.
pub fn flannel_backend(plan: &Plan) -> &'static str {
    if plan.cni.plugin != CniPlugin::Flannel {
        return "none";
    }
    match plan.cni.encapsulation {
        Encapsulation::HostGw => "host-gw",
        Encapsulation::Wireguard => "wireguard-native",
        _ => "vxlan",
    }
}

/// `https://<first server>:6443`, where further servers and agents join.
pub fn server_url(plan: &Plan) -> Option<String> {
    let ip = distribution::init_node(plan)?.ip()?;
    Some(format!("https://{}", distribution::host_port(ip, API_PORT)))
}

fn node_config(plan: &Plan, node: &NodePlan) -> Config {
    let role = distribution::role(plan, node);
    let flannel = plan.cni.plugin == CniPlugin::Flannel;
    let servers = plan.nodes.iter().filter(|n| n.is_control_plane()).count();
    Config {
        server: match role {
            ClusterRole::Init => None,
            _ => server_url(plan),
        },
        cluster_init: role == ClusterRole::Init && servers > 1,
        node_name: node.name.clone(),
        node_ip: distribution::node_ip(node)
            .map(|ip| ip.to_string())
            .into_iter()
            .collect(),
        flannel_iface: if flannel {
            plan.cni.interface.clone()
        } else {
            None
        },
        server_only: node.is_control_plane().then(|| ServerConfig {
            flannel_backend: flannel_backend(plan),
            disable_network_policy: !flannel,
            network: distribution::server_network(plan),
        }),
        kube_proxy_arg: distribution::arg_list(&distribution::kube_proxy_flags(plan)),
    }
}
