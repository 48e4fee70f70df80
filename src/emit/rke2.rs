//! RKE2: `rke2/<node>/config.yaml` (`/etc/rancher/rke2/config.yaml`, keys are the
//! `rke2 server`/`rke2 agent` flag names of rancher/rke2 `pkg/cli/cmds/{server,agent}.go`) and
//! `rke2/manifests/rke2-<cni>-config.yaml`, the HelmChartConfig (`helm.cattle.io/v1`) that sets
//! the bundled CNI chart's interface and MTU (`/var/lib/rancher/rke2/server/manifests/`).
//!
//! Join secrets are left out: every node but the first needs `token:` (from
//! `/var/lib/rancher/rke2/server/node-token`), added by the user in a `config.yaml.d/` file.

use serde::Serialize;

use super::distribution::{self, ClusterRole};
use super::{ArtifactSink, Context, EmitError, Install, calico, cilium, yaml_documents_noted};
use crate::intent::{CniPlugin, Distribution, Role};
use crate::plan::artifacts::RKE2_MANIFESTS_DIR;
use crate::plan::{FlannelBackend, FlannelSettings, NodePlan, Plan, PluginSettings};

/// RKE2's configuration file (docs.rke2.io, "Configuration File").
pub const CONFIG_PATH: &str = "/etc/rancher/rke2/config.yaml";
/// The directory an RKE2 server deploys manifests (and HelmChartConfigs) from.
pub const MANIFESTS_DIR: &str = "/var/lib/rancher/rke2/server/manifests";

const TOKEN_NOTE: &[&str] =
    &["Join secret left out: add `token:` (the first server's node-token) in config.yaml.d/."];

/// One node's `/etc/rancher/rke2/config.yaml`.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Config {
    #[serde(skip_serializing_if = "Option::is_none")]
    server: Option<String>,
    node_name: String,
    #[serde(flatten)]
    addresses: distribution::NodeAddresses,
    #[serde(flatten)]
    server_only: Option<ServerConfig>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    kube_proxy_arg: Vec<String>,
}

/// Keys only `rke2 server` takes.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ServerConfig {
    cni: Vec<&'static str>,
    #[serde(flatten)]
    network: distribution::ServerNetwork,
}

/// `helm.cattle.io/v1` HelmChartConfig (k3s-io/helm-controller).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmChartConfig {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: HelmChartConfigSpec,
}

#[derive(Serialize)]
struct Metadata {
    name: String,
    namespace: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HelmChartConfigSpec {
    values_content: String,
}

/// rancher/rke2-charts `rke2-canal` values (flannel + calico sections).
#[derive(Serialize)]
struct CanalValues {
    flannel: FlannelValues,
    calico: CanalCalicoValues,
}

/// The `flannel:` section of `rke2-canal` and `rke2-flannel`: the chart's `config.yaml`
/// writes `backendPort`, `vni` and `mtu` into net-conf's `Backend` (`Port`/`ListenPort`,
/// `VNI`, `MTU`: the underlay MTU, flannel.1 gets `mtu - 50`).
///
/// The interface reaches the two charts differently. rke2-canal's `templates/config.yaml`
/// writes `flannel.iface` into `canal_iface`, which its flannel container reads. rke2-flannel
/// has no such value: its `templates/daemonset.yaml` runs `/opt/bin/flanneld` with
/// `flannel.args` (default `["--ip-masq", "--kube-subnet-mgr"]`, `values.yaml`) and nothing
/// else but `--healthz-port`, so the interface is an `--iface=<if>` in `args` (rancher/rke2-charts
/// `charts/rke2-flannel/rke2-flannel/v0.28.906`, rendered with helm 3.17 in
/// `tests/consumers_render.rs`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FlannelValues {
    #[serde(skip_serializing_if = "Option::is_none")]
    iface: Option<String>,
    /// rke2-flannel only: flanneld's whole argument list (Helm replaces a list, it does not
    /// merge it), written only when it differs from the chart's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Vec<String>>,
    backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    backend_port: Option<u16>,
    #[serde(rename = "backendPortv6", skip_serializing_if = "Option::is_none")]
    backend_port_v6: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vni: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
}

#[derive(Serialize)]
struct CanalCalicoValues {
    /// The pod veth MTU (spelled so upstream): flannel.1's MTU, never more.
    #[serde(rename = "vethuMTU")]
    veth_mtu: u32,
    masquerade: bool,
}

#[derive(Serialize)]
struct FlannelChartValues {
    flannel: FlannelValues,
}

/// `rke2-calico` values: the tigera-operator Installation's `calicoNetwork`, and
/// `felixConfiguration`, which the chart's `templates/felixconfig.yaml` copies key by key into
/// the FelixConfiguration `default` (rancher/rke2-charts
/// `packages/rke2-calico/generated-changes/overlay/templates/felixconfig.yaml`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CalicoValues {
    installation: CalicoInstallation,
    felix_configuration: calico::FelixSpec,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CalicoInstallation {
    calico_network: calico::CalicoNetwork,
}

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    if plan.distribution != Distribution::Rke2 {
        return Ok(());
    }
    for node in ctx.nodes() {
        let path = format!("rke2/{}/config.yaml", node.name);
        let bytes =
            yaml_documents_noted(ctx, &path, notes(plan, node), &[node_config(plan, node)])?;
        sink.read_by(
            &path,
            crate::emit::Consumer::netc_apply("RKE2 (then start rke2-server or rke2-agent)"),
        );
        sink.put_installed(path, bytes, Install::file(&node.name, CONFIG_PATH))?;
    }
    if let Some((name, bytes)) = chart_manifest(ctx)? {
        // Servers deploy what is in their manifests directory; agents have none.
        let host_path = format!("{MANIFESTS_DIR}/{name}");
        sink.read_by(&format!("{RKE2_MANIFESTS_DIR}/{name}"), chart_consumer());
        sink.put_installed(
            format!("{RKE2_MANIFESTS_DIR}/{name}"),
            bytes,
            Install::role_file(Role::ControlPlane, host_path),
        )?;
    }
    Ok(())
}

/// The CNI chart's HelmChartConfig: its file name (`rke2-canal-config.yaml`) and contents,
/// the same bytes `rke2/manifests/` and the cloud-init `write_files` entry carry.
pub fn chart_manifest(ctx: Context<'_>) -> Result<Option<(String, Vec<u8>)>, EmitError> {
    let Some((chart, values)) = chart_values(ctx.plan)? else {
        return Ok(None);
    };
    let name = format!("{chart}-config.yaml");
    let path = format!("{RKE2_MANIFESTS_DIR}/{name}");
    let doc = HelmChartConfig {
        api_version: "helm.cattle.io/v1",
        kind: "HelmChartConfig",
        metadata: Metadata {
            name: chart.to_owned(),
            namespace: "kube-system",
        },
        spec: HelmChartConfigSpec {
            values_content: values,
        },
    };
    let bytes = super::index::described(
        ctx.source,
        super::yaml(ctx, &path, &doc)?,
        &chart_consumer(),
        Some(&Install::role_file(
            Role::ControlPlane,
            format!("{MANIFESTS_DIR}/{name}"),
        )),
    );
    Ok(Some((name, bytes)))
}

/// Who reads the chart's HelmChartConfig (the file and its cloud-init copy say the same).
fn chart_consumer() -> crate::emit::Consumer {
    crate::emit::Consumer::netc_apply("RKE2's deploy controller (the servers' manifests directory)")
}

/// The node's `config.yaml` without the header (for the cloud-init `cluster.config` string).
pub fn node_yaml(plan: &Plan, node: &NodePlan) -> Result<String, EmitError> {
    to_yaml(
        &format!("rke2/{}/config.yaml", node.name),
        &node_config(plan, node),
    )
}

fn to_yaml<T: Serialize>(path: &str, value: &T) -> Result<String, EmitError> {
    serde_saphyr::to_string(value).map_err(|e| EmitError::Serialize {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

fn notes(plan: &Plan, node: &NodePlan) -> &'static [&'static str] {
    if distribution::role(plan, node) == ClusterRole::Init {
        &[]
    } else {
        TOKEN_NOTE
    }
}

/// The `cni:` value RKE2 takes for the intent's plugin.
pub fn cni_name(plugin: CniPlugin) -> &'static str {
    match plugin {
        CniPlugin::Canal => "canal",
        CniPlugin::Calico => "calico",
        CniPlugin::Cilium => "cilium",
        CniPlugin::Flannel => "flannel",
        // The bridge plugin is installed by netc's own conflists, not by RKE2.
        CniPlugin::Bridge | CniPlugin::None => "none",
    }
}

/// `https://<first server>:<supervisor port>` (`plan::RKE2_SUPERVISOR_PORT`), the address every other node registers with.
pub fn supervisor_url(plan: &Plan) -> Option<String> {
    let ip = distribution::init_node(plan)?.ip()?;
    Some(format!(
        "https://{}",
        crate::intent::values::host_port(ip, crate::plan::RKE2_SUPERVISOR_PORT)
    ))
}

fn node_config(plan: &Plan, node: &NodePlan) -> Config {
    let role = distribution::role(plan, node);
    Config {
        server: match role {
            ClusterRole::Init => None,
            _ => supervisor_url(plan),
        },
        node_name: node.name.clone(),
        addresses: distribution::node_addresses(plan, node),
        server_only: node.is_control_plane().then(|| ServerConfig {
            cni: vec![cni_name(plan.cni.plugin)],
            network: distribution::server_network(plan),
        }),
        kube_proxy_arg: distribution::arg_list(&distribution::kube_proxy_flags(plan)),
    }
}

/// Which chart reads the `flannel:` values.
#[derive(Clone, Copy, PartialEq)]
enum FlannelChart {
    Canal,
    Flannel,
}

/// rke2-flannel's `flannel.args` default (its `values.yaml`).
const RKE2_FLANNEL_ARGS: [&str; 2] = ["--ip-masq", "--kube-subnet-mgr"];

/// rke2-flannel's flanneld arguments for these settings, `None` when they are the chart's own.
fn rke2_flannel_args(f: &FlannelSettings) -> Option<Vec<String>> {
    let mut args: Vec<String> = Vec::new();
    if f.ip_masq {
        args.push(RKE2_FLANNEL_ARGS[0].to_owned());
    }
    args.push(RKE2_FLANNEL_ARGS[1].to_owned());
    if let Some(iface) = &f.interface {
        args.push(format!("--iface={iface}"));
    }
    (args != RKE2_FLANNEL_ARGS).then_some(args)
}

fn flannel_values(f: &FlannelSettings, chart: FlannelChart) -> FlannelValues {
    let base = FlannelValues {
        iface: f.interface.clone().filter(|_| chart == FlannelChart::Canal),
        args: match chart {
            FlannelChart::Canal => None,
            FlannelChart::Flannel => rke2_flannel_args(f),
        },
        backend: "host-gw",
        backend_port: None,
        backend_port_v6: None,
        vni: None,
        mtu: None,
    };
    match &f.backend {
        FlannelBackend::HostGw => base,
        FlannelBackend::Vxlan { port, vni, mtu } => FlannelValues {
            backend: "vxlan",
            backend_port: Some(*port),
            vni: Some(*vni),
            mtu: *mtu,
            ..base
        },
        FlannelBackend::Wireguard {
            listen_port,
            listen_port_v6,
            mtu,
        } => FlannelValues {
            backend: "wireguard",
            backend_port: Some(*listen_port),
            backend_port_v6: *listen_port_v6,
            mtu: *mtu,
            ..base
        },
    }
}

fn values_yaml<T: Serialize>(chart: &str, values: &T) -> Result<String, EmitError> {
    to_yaml(&format!("{RKE2_MANIFESTS_DIR}/{chart}-config.yaml"), values)
}

/// The chart to configure and its `valuesContent`, for CNIs RKE2 bundles.
fn chart_values(plan: &Plan) -> Result<Option<(&'static str, String)>, EmitError> {
    Ok(Some(match &plan.cni.settings {
        PluginSettings::Canal(canal) => {
            let chart = "rke2-canal";
            let values = CanalValues {
                flannel: flannel_values(&canal.flannel, FlannelChart::Canal),
                calico: CanalCalicoValues {
                    veth_mtu: canal.veth_mtu,
                    masquerade: canal.masquerade,
                },
            };
            (chart, values_yaml(chart, &values)?)
        }
        PluginSettings::Flannel(flannel) => {
            let chart = "rke2-flannel";
            let values = FlannelChartValues {
                flannel: flannel_values(flannel, FlannelChart::Flannel),
            };
            (chart, values_yaml(chart, &values)?)
        }
        PluginSettings::Calico(settings) => {
            let chart = "rke2-calico";
            let values = CalicoValues {
                installation: CalicoInstallation {
                    calico_network: calico::installation(settings).spec.calico_network,
                },
                felix_configuration: calico::felix_spec(settings),
            };
            (chart, values_yaml(chart, &values)?)
        }
        PluginSettings::Cilium(settings) => {
            let chart = "rke2-cilium";
            let values = cilium::datapath(plan, settings);
            (chart, values_yaml(chart, &values)?)
        }
        PluginSettings::Bridge(_) | PluginSettings::None => return Ok(None),
    }))
}
