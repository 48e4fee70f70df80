//! `canal/canal-config.yaml`: the `canal-config` ConfigMap (namespace `kube-system`) of Calico's
//! `canal.yaml` manifest, for clusters that install Canal themselves (kubeadm, k3s with its
//! flannel off). RKE2 configures its bundled Canal through a HelmChartConfig (the rke2 target).
//!
//! The ConfigMap replaces the manifest's own (as rke2-charts `rke2-canal` renders it in
//! `templates/config.yaml`): `canal_iface` and `net-conf.json` drive flannel, `veth_mtu` is the
//! pod veth MTU the CNI plugin writes (`CNI_MTU`; never above flannel.1's MTU, which flannel
//! derives from net-conf's `Backend.MTU` minus 50), `masquerade` Calico's NAT of traffic
//! leaving the pod network. Every value comes from the Plan's `CanalSettings`.

use std::collections::BTreeMap;

use serde::Serialize;

use super::config_map::ConfigMap;
use super::{ArtifactSink, Context, EmitError, flannel, yaml};
use crate::plan::{CanalSettings, CniInstall, Plan};

pub const PATH: &str = "canal/canal-config.yaml";

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    let Some(canal) = plan.cni.canal().filter(|_| applies(plan)) else {
        return Ok(());
    };
    sink.read_by(
        PATH,
        crate::emit::Consumer::new(
            crate::emit::Stage::Network,
            "Canal's DaemonSet (the canal-config ConfigMap of canal.yaml)",
            "kubectl apply -f canal/canal-config.yaml",
        )
        .at("the cluster (kube-system)")
        .noted("before canal.yaml, in place of canal.yaml's own canal-config"),
    );
    sink.put(PATH.to_owned(), yaml(ctx, PATH, &config_map(plan, canal)?)?)
}

/// Canal, where the user installs it ([`CniInstall::Cluster`]).
pub fn applies(plan: &Plan) -> bool {
    plan.cni.canal().is_some() && plan.cni_install() == CniInstall::Cluster
}

/// The CNI configuration `install-cni` writes on each node (`cni_network_config`): the calico
/// plugin with host-local IPAM over the node's podCIDR, then portmap and bandwidth.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CniNetworkConfig {
    name: &'static str,
    cni_version: &'static str,
    plugins: (CalicoPlugin, PortmapPlugin, BandwidthPlugin),
}

#[derive(Serialize)]
struct CalicoPlugin {
    #[serde(rename = "type")]
    kind: &'static str,
    log_level: &'static str,
    datastore_type: &'static str,
    /// install-cni substitutes the `__...__` placeholders on each node.
    nodename: &'static str,
    mtu: u32,
    ipam: TypeAndSubnet,
    policy: TypeOnly,
    kubernetes: Kubeconfig,
}

#[derive(Serialize)]
struct TypeAndSubnet {
    #[serde(rename = "type")]
    kind: &'static str,
    subnet: &'static str,
}

#[derive(Serialize)]
struct TypeOnly {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Kubeconfig {
    kubeconfig: &'static str,
}

#[derive(Serialize)]
struct PortmapPlugin {
    #[serde(rename = "type")]
    kind: &'static str,
    snat: bool,
    capabilities: BTreeMap<&'static str, bool>,
}

#[derive(Serialize)]
struct BandwidthPlugin {
    #[serde(rename = "type")]
    kind: &'static str,
    capabilities: BTreeMap<&'static str, bool>,
}

fn cni_network_config(canal: &CanalSettings) -> CniNetworkConfig {
    CniNetworkConfig {
        name: "k8s-pod-network",
        cni_version: "0.3.1",
        plugins: (
            CalicoPlugin {
                kind: "calico",
                log_level: "info",
                datastore_type: "kubernetes",
                nodename: "__KUBERNETES_NODE_NAME__",
                mtu: canal.veth_mtu,
                ipam: TypeAndSubnet {
                    kind: "host-local",
                    subnet: "usePodCidr",
                },
                policy: TypeOnly { kind: "k8s" },
                kubernetes: Kubeconfig {
                    kubeconfig: "__KUBECONFIG_FILEPATH__",
                },
            },
            PortmapPlugin {
                kind: "portmap",
                snat: true,
                capabilities: BTreeMap::from([("portMappings", true)]),
            },
            BandwidthPlugin {
                kind: "bandwidth",
                capabilities: BTreeMap::from([("bandwidth", true)]),
            },
        ),
    }
}

fn config_map(plan: &Plan, canal: &CanalSettings) -> Result<ConfigMap, EmitError> {
    let mut cm = ConfigMap::new("canal-config", "kube-system", BTreeMap::new());
    cm.insert("typha_service_name", "none".to_owned());
    cm.insert(
        "canal_iface",
        canal.flannel.interface.clone().unwrap_or_default(),
    );
    cm.insert("masquerade", canal.masquerade.to_string());
    cm.insert("veth_mtu", canal.veth_mtu.to_string());
    cm.insert_json(PATH, "cni_network_config", &cni_network_config(canal))?;
    cm.insert_json(
        PATH,
        "net-conf.json",
        &flannel::net_conf(plan, &canal.flannel),
    )?;
    Ok(cm)
}
