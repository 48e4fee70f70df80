//! Canonical Kubernetes: `canonical/bootstrap.yaml`, the file `k8s bootstrap --file` reads on the
//! first control-plane node, and `canonical/join-<node>.yaml` for `k8s join-cluster --file`.
//! Field names follow canonical/k8s-snap-api `api/v1/type_bootstrap_config.go`,
//! `type_cluster_config.go`, `type_control_plane_join_config.go` and
//! `type_worker_node_join_config.go`; k8s parses these files strictly, so only real keys appear.
//! Extra component arguments are `"--flag": "value"` maps. The network itself is the
//! distribution's built-in one (`cluster-config.network.enabled`), configured through
//! `cluster-config.annotations` (canonical/k8s-snap-api `api/v1/annotations/{calico,cilium}`,
//! read by k8s-snap `src/k8s/pkg/k8sd/features/{calico,cilium}`) from the Plan's CNI settings;
//! settings without an annotation are reported by `check` (`netc::cni::setting-not-applied`).

use std::collections::BTreeMap;

use serde::Serialize;

use super::distribution::{self, ClusterRole};
use super::{ArtifactSink, Context, EmitError, Install, yaml_documents_noted};
use crate::intent::Distribution;
use crate::plan::{NodePlan, Plan, PluginSettings};

/// Where `netc apply` puts the node's file, for `k8s bootstrap|join-cluster --file`.
pub const CONFIG_DIR: &str = "/etc/netc/canonical";

const JOIN_NOTE: &[&str] =
    &["Use with `k8s join-cluster <token> --file` (token from `k8s get-join-token` on cp nodes)."];

type Args = BTreeMap<String, String>;

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct BootstrapConfig {
    cluster_config: ClusterConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pod_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_cidr: Option<String>,
    /// `k8s-dqlite` or `etcd`, written out: the default changed between k8s-snap releases,
    /// and the firewall must open the datastore the node really runs.
    datastore_type: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra_sans: Vec<String>,
    #[serde(flatten)]
    args: NodeArgs,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterConfig {
    network: Enabled,
    dns: DnsConfig,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct Enabled {
    enabled: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct DnsConfig {
    enabled: bool,
    cluster_domain: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    service_ip: Option<String>,
}

/// The per-node `extra-node-*-args` maps, shared by bootstrap and join files.
#[derive(Default, Serialize)]
#[serde(rename_all = "kebab-case")]
struct NodeArgs {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra_node_kube_controller_manager_args: Args,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra_node_kube_proxy_args: Args,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    extra_node_kubelet_args: Args,
}

/// ControlPlaneJoinConfig or WorkerJoinConfig: the keys netc sets exist in both, except
/// `extra-sans` and the controller-manager arguments, which only control-plane nodes get.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct JoinConfig {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    extra_sans: Vec<String>,
    #[serde(flatten)]
    args: NodeArgs,
}

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    if plan.distribution != Distribution::Canonical {
        return Ok(());
    }
    let path = "canonical/bootstrap.yaml";
    let init = distribution::init_node(plan);
    let bootstrap = bootstrap_config(plan, init);
    let bytes = yaml_documents_noted(ctx, path, &[], &[bootstrap])?;
    // `k8s bootstrap` runs on the first control-plane node only; the others join.
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Bootstrap,
            "k8s bootstrap (Canonical Kubernetes)",
            format!("k8s bootstrap --file {CONFIG_DIR}/bootstrap.yaml"),
        )
        .at("the first control-plane node"),
    );
    match init {
        Some(first) => sink.put_installed(
            path.to_owned(),
            bytes,
            Install::file(&first.name, format!("{CONFIG_DIR}/bootstrap.yaml")),
        )?,
        None => sink.put(path.to_owned(), bytes)?,
    }
    for node in ctx.nodes() {
        if distribution::role(plan, node) == ClusterRole::Init {
            continue;
        }
        let path = format!("canonical/join-{}.yaml", node.name);
        let bytes = yaml_documents_noted(ctx, &path, JOIN_NOTE, &[join_config(plan, node)])?;
        let host_path = format!("{CONFIG_DIR}/join-{}.yaml", node.name);
        sink.read_by(
            &path,
            crate::emit::Consumer::new(
                crate::emit::Stage::Join,
                "k8s join-cluster (Canonical Kubernetes)",
                format!("k8s join-cluster <join token> --file {host_path}"),
            ),
        );
        sink.put_installed(path, bytes, Install::file(&node.name, host_path))?;
    }
    Ok(())
}

/// The node's bootstrap or join file without the header (for the cloud-init `cluster.config`).
pub fn node_yaml(plan: &Plan, node: &NodePlan) -> Result<String, EmitError> {
    let (path, text) = if distribution::role(plan, node) == ClusterRole::Init {
        (
            "canonical/bootstrap.yaml".to_owned(),
            serde_saphyr::to_string(&bootstrap_config(plan, Some(node))),
        )
    } else {
        (
            format!("canonical/join-{}.yaml", node.name),
            serde_saphyr::to_string(&join_config(plan, node)),
        )
    };
    text.map_err(|e| EmitError::Serialize {
        path,
        message: e.to_string(),
    })
}

fn flag_map(flags: &[(&str, String)]) -> Args {
    flags
        .iter()
        .map(|(k, v)| (format!("--{k}"), v.clone()))
        .collect()
}

fn node_args(plan: &Plan, node: Option<&NodePlan>) -> NodeArgs {
    let control_plane = node.is_none_or(NodePlan::is_control_plane);
    NodeArgs {
        extra_node_kube_controller_manager_args: if control_plane {
            flag_map(&distribution::node_mask_flags(plan))
        } else {
            Args::new()
        },
        // k8s-snap 1.36 runs no kube-proxy (Cilium replaces it; the key is "no longer used"):
        // `check` reports kube-proxy settings as not applied, and nothing is written.
        extra_node_kube_proxy_args: if plan.profile.kube_proxy_runs {
            flag_map(&distribution::kube_proxy_flags(plan))
        } else {
            Args::new()
        },
        extra_node_kubelet_args: node
            .and_then(|n| distribution::node_ip_flag(plan, n))
            .map(|flag| flag_map(&[flag]))
            .unwrap_or_default(),
    }
}

fn extra_sans(plan: &Plan) -> Vec<String> {
    plan.control_plane_endpoint
        .as_deref()
        .map(|e| crate::intent::values::endpoint_host(e).to_owned())
        .into_iter()
        .collect()
}

fn bootstrap_config(plan: &Plan, init: Option<&NodePlan>) -> BootstrapConfig {
    BootstrapConfig {
        cluster_config: ClusterConfig {
            network: Enabled { enabled: true },
            dns: DnsConfig {
                enabled: true,
                cluster_domain: plan.dns_domain.clone(),
                service_ip: plan.cluster_dns.map(|ip| ip.to_string()),
            },
            annotations: network_annotations(plan),
        },
        pod_cidr: distribution::cidr_list(&plan.pod_cidrs),
        service_cidr: distribution::cidr_list(&plan.service_cidrs),
        datastore_type: if plan.runs_etcd() {
            "etcd"
        } else {
            "k8s-dqlite"
        },
        extra_sans: extra_sans(plan),
        args: node_args(plan, init),
    }
}

fn join_config(plan: &Plan, node: &NodePlan) -> JoinConfig {
    JoinConfig {
        extra_sans: if node.is_control_plane() {
            extra_sans(plan)
        } else {
            Vec::new()
        },
        args: node_args(plan, Some(node)),
    }
}

/// The built-in network's settings as `k8sd/v1alpha1/...` annotations.
fn network_annotations(plan: &Plan) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    match &plan.cni.settings {
        PluginSettings::Calico(calico) => {
            for pool in &calico.pools {
                let v6 = matches!(pool.cidr, ipnet::IpNet::V6(_));
                let (encap, iface) = if v6 {
                    (
                        "k8sd/v1alpha1/calico/encapsulation-v6",
                        "k8sd/v1alpha1/calico/autodetection-v6/interface",
                    )
                } else {
                    (
                        "k8sd/v1alpha1/calico/encapsulation-v4",
                        "k8sd/v1alpha1/calico/autodetection-v4/interface",
                    )
                };
                out.insert(encap, pool.encapsulation.operator().to_owned());
                if let Some(regex) = &calico.interface_regex {
                    out.insert(iface, regex.clone());
                }
            }
        }
        PluginSettings::Cilium(cilium) => {
            if !cilium.devices.is_empty() {
                out.insert("k8sd/v1alpha1/cilium/devices", cilium.devices.join(" "));
            }
            if let Some(port) = cilium.tunnel_port {
                out.insert("k8sd/v1alpha1/cilium/tunnel-port", port.to_string());
            }
        }
        _ => {}
    }
    out
}
