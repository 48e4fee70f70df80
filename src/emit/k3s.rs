//! k3s: `k3s/<node>/config.yaml` (`/etc/rancher/k3s/config.yaml`, keys are the `k3s server` /
//! `k3s agent` flag names of k3s-io/k3s `pkg/cli/cmds/{server,agent}.go`). Flannel options and
//! the cluster networks are server flags (the same on every server); `node-ip`, `flannel-iface`
//! and `kube-proxy-arg` are agent flags, which servers take too.
//!
//! With any CNI but flannel, k3s's own flannel and network-policy controller are turned off
//! (`flannel-backend: none`, `disable-network-policy: true`) and the CNI's manifests come from
//! the other targets. Join secrets are left out: every node but the first needs `token:`.
//!
//! k3s writes its embedded flannel's net-conf itself (`{"Type": "vxlan"}`: port 8472, VNI 1,
//! the interface's MTU; k3s-io/k3s `pkg/agent/flannel/setup.go`). When the Plan's flannel
//! settings differ from that, `k3s/flannel-net-conf.json` carries them and every node's
//! `flannel-conf` (an agent flag, `pkg/cli/cmds/agent.go`) points at it: k3s then uses the file
//! as is (`ConfOverride`, `pkg/executor/embed/embed.go`).

use serde::Serialize;

use super::distribution::{self, ClusterRole};
use super::{ArtifactSink, Context, EmitError, Install, flannel, json, yaml_documents_noted};
use crate::intent::Distribution;
use crate::plan::artifacts::K3S_FLANNEL_CONF;
use crate::plan::{FlannelBackend, FlannelSettings, NodePlan, Plan, PluginSettings};

/// k3s' configuration file (docs.k3s.io, "Configuration File").
pub const CONFIG_PATH: &str = "/etc/rancher/k3s/config.yaml";

/// Where each node has the net-conf artifact for k3s' embedded flannel
/// (`plan::artifacts::K3S_FLANNEL_CONF`).
pub const FLANNEL_CONF_PATH: &str = "/etc/rancher/k3s/flannel-net-conf.json";

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
    #[serde(flatten)]
    addresses: distribution::NodeAddresses,
    #[serde(skip_serializing_if = "Option::is_none")]
    flannel_iface: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flannel_conf: Option<&'static str>,
    #[serde(flatten)]
    server_only: Option<ServerConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kube_proxy_arg: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ServerConfig {
    /// The server's listener (`bind-address`, "(listener) k3s bind address (default:
    /// 0.0.0.0)"): the supervisor on the HTTPS port that fronts kube-apiserver, which itself
    /// stays on loopback:6444 (k3s `pkg/daemons/control/server.go`). Only a specific address
    /// is written: with `0.0.0.0` written out, k3s would also put it in the kubeconfig it
    /// writes and in its agent's server URL (`BindAddressOrLoopback`), where the default is
    /// loopback.
    #[serde(skip_serializing_if = "Option::is_none")]
    bind_address: Option<String>,
    flannel_backend: &'static str,
    /// k3s-io/k3s `pkg/cli/cmds/server.go` `flannel-ipv6-masq` ("Enable IPv6 masquerading for
    /// pod", default false): k3s masquerades IPv4 pod egress always, IPv6 only with it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    flannel_ipv6_masq: bool,
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
        sink.read_by(
            &path,
            crate::emit::Consumer::netc_apply("k3s (then start k3s)"),
        );
        sink.put_installed(path, bytes, Install::file(&node.name, CONFIG_PATH))?;
    }
    if let Some(f) = custom_flannel(plan) {
        let conf = flannel::net_conf(plan, f);
        // Every node's `flannel-conf` names it.
        sink.read_by(
            K3S_FLANNEL_CONF,
            crate::emit::Consumer::netc_apply("k3s's flannel (flannel-conf)"),
        );
        sink.put_installed(
            K3S_FLANNEL_CONF.to_owned(),
            json(K3S_FLANNEL_CONF, &conf)?,
            Install::everywhere_file(FLANNEL_CONF_PATH),
        )?;
    }
    Ok(())
}

/// k3s' own flannel, when its settings need a net-conf file of their own.
fn custom_flannel(plan: &Plan) -> Option<&FlannelSettings> {
    match &plan.cni.settings {
        PluginSettings::Flannel(f) if f.differs_from_k3s_default => Some(f),
        _ => None,
    }
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
    match &plan.cni.settings {
        PluginSettings::Flannel(f) => match f.backend {
            FlannelBackend::HostGw => "host-gw",
            FlannelBackend::Wireguard { .. } => "wireguard-native",
            FlannelBackend::Vxlan { .. } => "vxlan",
        },
        _ => "none",
    }
}

/// `https://<first server>:6443`, where further servers and agents join.
pub fn server_url(plan: &Plan) -> Option<String> {
    let ip = distribution::init_api_address(plan)?;
    Some(format!(
        "https://{}",
        crate::intent::values::host_port(ip, plan.api_server_port)
    ))
}

fn node_config(plan: &Plan, node: &NodePlan) -> Config {
    let role = distribution::role(plan, node);
    let flannel = match &plan.cni.settings {
        PluginSettings::Flannel(f) => Some(f),
        _ => None,
    };
    Config {
        server: match role {
            ClusterRole::Init => None,
            _ => server_url(plan),
        },
        // Embedded etcd: several servers need it; one server gets it when asked for.
        cluster_init: role == ClusterRole::Init && plan.runs_etcd(),
        node_name: node.name.clone(),
        addresses: distribution::node_addresses(plan, node),
        flannel_iface: flannel.and_then(|f| f.interface.clone()),
        flannel_conf: custom_flannel(plan).map(|_| FLANNEL_CONF_PATH),
        server_only: node.is_control_plane().then(|| ServerConfig {
            bind_address: node.specific_bind_address().map(|ip| ip.to_string()),
            flannel_backend: flannel_backend(plan),
            flannel_ipv6_masq: flannel.is_some_and(|f| f.ip_masq)
                && plan
                    .pod_cidrs
                    .iter()
                    .any(|n| matches!(n, ipnet::IpNet::V6(_))),
            disable_network_policy: flannel.is_none(),
            network: distribution::server_network(plan),
        }),
        kube_proxy_arg: distribution::arg_list(&distribution::kube_proxy_flags(plan)),
    }
}
