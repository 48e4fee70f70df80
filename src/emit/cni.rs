//! `cni/<node>/`: the CNI network configuration each node's container runtime reads
//! (`/etc/cni/net.d/`), CNI spec 1.0.0.
//!
//! - `bridge` plugin: `10-netc-bridge.conflist` (bridge with host-local IPAM over the node's
//!   own pod subnets, then portmap) and `99-loopback.conf`.
//! - flannel on kubeadm: `10-flannel.conflist` (the flannel plugin delegating to bridge, then
//!   portmap), the same file the kube-flannel DaemonSet installs, needed as-is with host-level
//!   flanneld.
//! - Calico, Canal, Cilium, and the CNIs RKE2, k3s and Canonical Kubernetes embed: nothing;
//!   their node agents write their own configuration.

use ipnet::IpNet;
use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, Install, json};
use crate::intent::CniPlugin;
use crate::plan::{CniInstall, NodePlan, Plan};

/// The CNI spec version of every configuration netc writes (the newest the reference
/// plugins from 1.1 on accept).
pub const CNI_VERSION: &str = "1.0.0";
/// host-local's default state directory, written out so it is visible and overridable.
pub const HOST_LOCAL_DATA_DIR: &str = "/var/lib/cni/networks";

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    match plan.cni.plugin {
        CniPlugin::Bridge => {
            for node in ctx.nodes() {
                // A node without a pod subnet has no valid conflist (validation reports it).
                let Some(list) = bridge_conflist(plan, node) else {
                    continue;
                };
                let path = format!("cni/{}/10-netc-bridge.conflist", node.name);
                let bytes = json(&path, &list)?;
                sink.read_by(
                    &path,
                    crate::emit::Consumer::netc_apply("the container runtime (CNI)"),
                );
                sink.put_installed(path, bytes, installed(node, "10-netc-bridge.conflist"))?;
                let path = format!("cni/{}/99-loopback.conf", node.name);
                let bytes = json(&path, &loopback_conf())?;
                sink.read_by(
                    &path,
                    crate::emit::Consumer::netc_apply("the container runtime (CNI)"),
                );
                sink.put_installed(path, bytes, installed(node, "99-loopback.conf"))?;
            }
        }
        CniPlugin::Flannel if flannel_conflist_applies(plan) => {
            let list = flannel_conflist(plan.cni.flannel().is_none_or(|f| f.ip_masq));
            for node in ctx.nodes() {
                let path = format!("cni/{}/10-flannel.conflist", node.name);
                let bytes = json(&path, &list)?;
                sink.read_by(
                    &path,
                    crate::emit::Consumer::netc_apply("the container runtime (CNI)"),
                );
                sink.put_installed(path, bytes, installed(node, "10-flannel.conflist"))?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Where the container runtime reads network configurations (containerd's and CRI-O's
/// default `conf_dir`).
pub const CONF_DIR: &str = "/etc/cni/net.d";

/// `file` in the node's [`CONF_DIR`].
fn installed(node: &NodePlan, file: &str) -> Install {
    Install::file(&node.name, format!("{CONF_DIR}/{file}"))
}

/// Whether netc writes flannel's conflist: wherever the distribution does not ship flannel
/// (kubeadm and manual clusters; k3s and RKE2 write their own).
pub fn flannel_conflist_applies(plan: &Plan) -> bool {
    plan.cni.plugin == CniPlugin::Flannel
        && match plan.cni_install() {
            CniInstall::Cluster | CniInstall::Host => true,
            CniInstall::Distribution | CniInstall::Builtin => false,
        }
}

/// A network configuration list (CNI spec: `cniVersion`, `name`, `plugins`).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfList {
    pub cni_version: &'static str,
    pub name: &'static str,
    pub plugins: Vec<Plugin>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum Plugin {
    Bridge(BridgeConf),
    Flannel(FlannelConf),
    Portmap(PortmapConf),
}

/// The reference `bridge` plugin.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeConf {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub bridge: &'static str,
    /// The bridge gets the gateway address, so pods route through the node.
    pub is_gateway: bool,
    /// Off: the plugin would masquerade everything leaving the node's own subnet, including
    /// traffic to other nodes' pods, which must keep its pod source address (routes.txt and
    /// NetworkPolicies depend on it). The node's firewall masquerades only traffic leaving
    /// the cluster's pod network.
    pub ip_masq: bool,
    pub hairpin_mode: bool,
    pub mtu: u32,
    pub ipam: HostLocal,
}

/// `host-local` IPAM: one range set per address family, from the node's own pod subnets.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HostLocal {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub ranges: Vec<Vec<Range>>,
    pub routes: Vec<RouteConf>,
    pub data_dir: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct Range {
    pub subnet: IpNet,
}

#[derive(Clone, Debug, Serialize)]
pub struct RouteConf {
    pub dst: IpNet,
}

/// The `portmap` plugin: hostPort support, driven by the runtime's `portMappings`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PortmapConf {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub capabilities: Capabilities,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub port_mappings: bool,
}

/// flannel-io/cni-plugin: reads the node's subnet from flanneld's `subnet.env` and delegates.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlannelConf {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub delegate: FlannelDelegate,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlannelDelegate {
    pub hairpin_mode: bool,
    pub is_default_gateway: bool,
    /// The bridge plugin's `ipMasq`: `false` when flanneld runs without `--ip-masq`, else
    /// unset. Unset, the flannel CNI plugin sets it to the opposite of subnet.env's
    /// `FLANNEL_IPMASQ` (flannel-io/cni-plugin `flannel_linux.go` `doCmdAdd`, commit 6f13a99:
    /// "if flannel is not doing ipmasq, we should"), so `natOutgoing: false` would still
    /// masquerade, per node (`plan::masquerade`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_masq: Option<bool>,
}

/// A single network configuration (not a list): the loopback plugin.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoopbackConf {
    pub cni_version: &'static str,
    pub name: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

fn portmap() -> Plugin {
    Plugin::Portmap(PortmapConf {
        kind: "portmap",
        capabilities: Capabilities {
            port_mappings: true,
        },
    })
}

/// The bridge conflist of `node`: `None` when the node has no pod subnet.
pub fn bridge_conflist(plan: &Plan, node: &NodePlan) -> Option<ConfList> {
    let settings = plan.cni.bridge()?;
    if node.pod_cidrs.is_empty() {
        return None;
    }
    let ranges = node
        .pod_cidrs
        .iter()
        .map(|subnet| vec![Range { subnet: *subnet }])
        .collect();
    let routes = node
        .pod_cidrs
        .iter()
        .map(|subnet| RouteConf {
            dst: match subnet {
                IpNet::V4(_) => IpNet::V4(Default::default()),
                IpNet::V6(_) => IpNet::V6(Default::default()),
            },
        })
        .collect();
    Some(ConfList {
        cni_version: CNI_VERSION,
        name: "netc",
        plugins: vec![
            Plugin::Bridge(BridgeConf {
                kind: "bridge",
                bridge: crate::plan::CNI_BRIDGE,
                is_gateway: true,
                ip_masq: false,
                hairpin_mode: true,
                mtu: settings.mtu,
                ipam: HostLocal {
                    kind: "host-local",
                    ranges,
                    routes,
                    data_dir: HOST_LOCAL_DATA_DIR,
                },
            }),
            portmap(),
        ],
    })
}

/// flannel's conflist, as kube-flannel ships it (network name `cbr0`); with `ip_masq` false
/// (flanneld without `--ip-masq`), the delegate's `ipMasq: false`.
pub fn flannel_conflist(ip_masq: bool) -> ConfList {
    ConfList {
        cni_version: CNI_VERSION,
        name: "cbr0",
        plugins: vec![
            Plugin::Flannel(FlannelConf {
                kind: "flannel",
                delegate: FlannelDelegate {
                    hairpin_mode: true,
                    is_default_gateway: true,
                    ip_masq: (!ip_masq).then_some(false),
                },
            }),
            portmap(),
        ],
    }
}

pub fn loopback_conf() -> LoopbackConf {
    LoopbackConf {
        cni_version: CNI_VERSION,
        name: "lo",
        kind: "loopback",
    }
}
