//! `cloud-init/<node>.yaml`: a `#cloud-config` user-data document per node whose `cluster:`
//! block is what Kairos-style edge providers (kairos-io/provider-rke2, provider-k3s,
//! provider-kubeadm; spectrocloud's providers) read: `cluster_token`, `control_plane_host`,
//! `role` (`init` | `controlplane` | `worker`) and `config`, a string holding that node's
//! distribution configuration (the same text as its file under `rke2/`, `k3s/`, `kubeadm/` or
//! `canonical/`).
//!
//! On RKE2 servers the document also carries the CNI chart's HelmChartConfig in `write_files`
//! (to `/var/lib/rancher/rke2/server/manifests/`), since `config.yaml` cannot hold chart
//! values; on kubeadm control-plane nodes with a `bindAddress`, the kube-apiserver patch
//! their configuration's `patches.directory` names.
//!
//! `cluster_token` is a join secret and is left out: add it from your secret store.

use serde::Serialize;

use super::distribution::{self, ClusterRole};
use super::{
    ArtifactSink, Context, EmitError, canonical, k3s, kubeadm, rke2, yaml_documents_noted,
};
use crate::intent::Distribution;
use crate::plan::{NodePlan, Plan};

/// cloud-init only reads the file as cloud-config when this is its very first line.
const CLOUD_CONFIG: &str = "#cloud-config\n";

const NOTES: &[&str] = &["cluster.cluster_token (the join secret) is left out: add it before use."];

#[derive(Serialize)]
struct CloudConfig {
    cluster: Cluster,
    /// cloud-init's `write_files` module (cloudinit/config/cc_write_files.py: `path`,
    /// `content`, `permissions`): on RKE2 servers, the CNI chart's HelmChartConfig into the
    /// server manifests directory, as the RKE2 seed writes it; kubeadm patch files.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    write_files: Vec<WriteFile>,
}

#[derive(Serialize)]
struct WriteFile {
    path: String,
    content: String,
    permissions: &'static str,
}

#[derive(Serialize)]
struct Cluster {
    #[serde(skip_serializing_if = "Option::is_none")]
    control_plane_host: Option<String>,
    role: &'static str,
    config: String,
}

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    // The edge providers bootstrap a distribution; a hand-run control plane has none.
    match plan.distribution {
        Distribution::Manual => return Ok(()),
        Distribution::Kubeadm
        | Distribution::Rke2
        | Distribution::K3s
        | Distribution::Canonical => {}
    }
    let host = control_plane_host(plan);
    let chart = match plan.distribution {
        Distribution::Rke2 => rke2::chart_manifest(ctx)?,
        Distribution::Kubeadm
        | Distribution::K3s
        | Distribution::Canonical
        | Distribution::Manual => None,
    };
    for node in ctx.nodes() {
        let path = format!("cloud-init/{}.yaml", node.name);
        let mut write_files: Vec<WriteFile> = chart
            .iter()
            .filter(|_| node.is_control_plane())
            .map(|(name, bytes)| WriteFile {
                path: format!("{}/{name}", rke2::MANIFESTS_DIR),
                content: String::from_utf8_lossy(bytes).into_owned(),
                permissions: "0600",
            })
            .collect();
        // The kubeadm patches its configuration's `patches.directory` names; the other
        // distributions' files carry their settings themselves.
        let patches = match plan.distribution {
            Distribution::Kubeadm => kubeadm::patch_files(ctx, node)?,
            Distribution::Rke2
            | Distribution::K3s
            | Distribution::Canonical
            | Distribution::Manual => Vec::new(),
        };
        for file in patches {
            write_files.push(WriteFile {
                path: file.host_path,
                content: String::from_utf8_lossy(&file.bytes).into_owned(),
                permissions: "0600",
            });
        }
        let doc = CloudConfig {
            cluster: Cluster {
                control_plane_host: host.clone(),
                role: match distribution::role(plan, node) {
                    ClusterRole::Init => "init",
                    ClusterRole::ControlPlane => "controlplane",
                    ClusterRole::Worker => "worker",
                },
                config: node_config(plan, node)?,
            },
            write_files,
        };
        let mut bytes = CLOUD_CONFIG.as_bytes().to_vec();
        bytes.extend(yaml_documents_noted(ctx, &path, NOTES, &[doc])?);
        sink.read_by(
            &path,
            crate::emit::Consumer::new(
                crate::emit::Stage::Nodes,
                "cloud-init (the edge provider's bootstrap)",
                "give it to the machine as its cloud-init user data",
            )
            .at("the machine's user data")
            .noted("instead of running netc apply and the distribution's bootstrap by hand"),
        );
        sink.put(path, bytes)?;
    }
    Ok(())
}

/// The host every node registers with: the control-plane endpoint's host, else the first
/// control-plane node's address.
fn control_plane_host(plan: &Plan) -> Option<String> {
    if let Some(e) = &plan.control_plane_endpoint {
        return Some(crate::intent::values::endpoint_host(e).to_owned());
    }
    distribution::init_api_address(plan).map(|ip| ip.to_string())
}

fn node_config(plan: &Plan, node: &NodePlan) -> Result<String, EmitError> {
    match plan.distribution {
        Distribution::Kubeadm => kubeadm::node_yaml(plan, node),
        Distribution::Rke2 => rke2::node_yaml(plan, node),
        Distribution::K3s => k3s::node_yaml(plan, node),
        Distribution::Canonical => canonical::node_yaml(plan, node),
        Distribution::Manual => Ok(String::new()),
    }
}
