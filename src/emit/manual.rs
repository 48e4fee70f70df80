//! `manual/<node>/`: `distribution: manual`, a control plane run from binaries with flags as in
//! "Kubernetes the hard way". Per node, the network settings of each component it runs, as
//! files its systemd unit or `--config` reads:
//!
//! - control-plane nodes: `kube-apiserver.env` (`--advertise-address`, `--bind-address`,
//!   `--service-cluster-ip-range`) and `kube-controller-manager.env` (`--allocate-node-cidrs`,
//!   `--cluster-cidr`, `--node-cidr-mask-size[-ipv4|-ipv6]`, `--service-cluster-ip-range`),
//!   systemd `EnvironmentFile`s with one `ARGS=` line;
//! - every node: `kubelet-config.yaml` (KubeletConfiguration: `clusterDNS`, `clusterDomain`,
//!   `resolvConf`, and with the bridge plugin the node's `podCIDR`; a `--config-dir` drop-in
//!   from Kubernetes 1.30, with `kubelet.env` passing `--config-dir`) and `kube-proxy-config.yaml`
//!   (KubeProxyConfiguration: `clusterCIDR`, `mode`, `bindAddress`, the kubeconfig), and
//!   `kube-proxy.kubeconfig`, that kubeconfig: the API endpoint, the CA and client certificate
//!   by path.
//!
//! Flag names: kubernetes/kubernetes `pkg/controlplane/apiserver/options/options.go` and
//! `cmd/kube-apiserver/app/options/options.go` (`--service-cluster-ip-range`,
//! `--advertise-address`; `--bind-address` is the generic `SecureServingOptions` flag of
//! `staging/src/k8s.io/apiserver/pkg/server/options/serving.go`), `cmd/kube-controller-manager/app/options/nodeipamcontroller.go` and
//! `kubecontrollermanager.go` (`--cluster-cidr`, `--allocate-node-cidrs`,
//! `--node-cidr-mask-size`, `-ipv4`/`-ipv6` for dual-stack). Configuration fields:
//! `staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go`,
//! `staging/src/k8s.io/kubelet/config/v1beta1/types.go`. Paths are the lesson's
//! (kelseyhightower/kubernetes-the-hard-way `configs/`, `units/`).

use ipnet::IpNet;
use serde::Serialize;

use super::kubeadm::types::ClientConnection;
use super::kubeconfig::{Credentials, Kubeconfig};
use super::{
    ArtifactSink, Context, EmitError, Install, distribution, kubeadm, text, yaml,
    yaml_documents_noted,
};
use crate::intent::Distribution;
use crate::plan::{NodePlan, Plan};

/// Where each component's file is installed on the node.
pub const KUBE_APISERVER_ENV: &str = "/etc/netc/manual/kube-apiserver.env";
pub const KUBE_CONTROLLER_MANAGER_ENV: &str = "/etc/netc/manual/kube-controller-manager.env";
/// The lesson's kubelet `--config`: where the network settings go below Kubernetes 1.30.
pub const KUBELET_CONFIG: &str = "/var/lib/kubelet/kubelet-config.yaml";
/// From 1.30 (KEP-3983 beta: `--config-dir`, merged over `--config`; files end in `.conf`)
/// the settings are a drop-in, so the rest of the lesson's kubelet-config.yaml stays yours.
pub const KUBELET_DROP_IN: &str = "/etc/kubernetes/kubelet.conf.d/20-netc-network.conf";
/// The directory kubelet's `--config-dir` names: kubelet reads no drop-in without the flag
/// (kubernetes/kubernetes `cmd/kubelet/app/options/options.go`, `--config-dir`, default
/// empty), and the lesson's unit (`units/kubelet.service`) passes only `--config`.
pub const KUBELET_DROP_IN_DIR: &str = "/etc/kubernetes/kubelet.conf.d";
/// kubelet's flags file (`ARGS='--config-dir=...'`), beside the control plane's.
pub const KUBELET_ENV: &str = "/etc/netc/manual/kubelet.env";
/// The lesson's kube-proxy `--config`, and the kubeconfig it names.
pub const KUBE_PROXY_CONFIG: &str = "/var/lib/kube-proxy/kube-proxy-config.yaml";
pub const KUBE_PROXY_KUBECONFIG: &str = "/var/lib/kube-proxy/kubeconfig";
/// The files that kubeconfig names, beside it (the lesson's certificate names).
const KUBE_PROXY_CA: &str = "/var/lib/kube-proxy/ca.crt";
const KUBE_PROXY_CERT: &str = "/var/lib/kube-proxy/kube-proxy.crt";
const KUBE_PROXY_KEY: &str = "/var/lib/kube-proxy/kube-proxy.key";
/// The user the lesson's kube-proxy certificate names (`CN=system:kube-proxy`, which the
/// `system:node-proxier` ClusterRoleBinding grants).
const KUBE_PROXY_USER: &str = "system:kube-proxy";
/// The resolver file kubelet hands pods with `dnsPolicy: Default` (the lesson's, kubelet's
/// default too; a systemd-resolved host wants `/run/systemd/resolve/resolv.conf`).
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Where the node's KubeletConfiguration is installed: a `--config-dir` drop-in from
/// Kubernetes 1.30 (and when the version does not parse), else the lesson's `--config` file.
pub fn kubelet_config_path(plan: &Plan) -> &'static str {
    match plan.kubernetes_version {
        Some(v) if (v.major, v.minor) < (1, 30) => KUBELET_CONFIG,
        _ => KUBELET_DROP_IN,
    }
}

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    if plan.distribution != Distribution::Manual {
        return Ok(());
    }
    for node in ctx.nodes() {
        let dir = format!("manual/{}", node.name);
        if node.is_control_plane() {
            let flags = [
                (
                    "kube-apiserver",
                    KUBE_APISERVER_ENV,
                    apiserver_flags(plan, node),
                ),
                (
                    "kube-controller-manager",
                    KUBE_CONTROLLER_MANAGER_ENV,
                    controller_manager_flags(plan),
                ),
            ];
            for (component, install_path, flags) in flags {
                let path = format!("{dir}/{component}.env");
                let page = FlagsFile {
                    source: ctx.source,
                    component,
                    node: &node.name,
                    install_path,
                    args: flags
                        .iter()
                        .map(|(name, value)| format!("--{name}={value}"))
                        .collect(),
                };
                let bytes = text::render("manual/flags.env", &page)?.into_bytes();
                sink.read_by(
                    &path,
                    crate::emit::Consumer::netc_apply(
                        "the component's systemd unit (EnvironmentFile=)",
                    ),
                );
                sink.put_installed(path, bytes, Install::file(&node.name, install_path))?;
            }
        }
        let kubelet_path = kubelet_config_path(plan);
        if kubelet_path == KUBELET_DROP_IN {
            let path = format!("{dir}/kubelet.env");
            let page = FlagsFile {
                source: ctx.source,
                component: "kubelet",
                node: &node.name,
                install_path: KUBELET_ENV,
                args: vec![format!("--config-dir={KUBELET_DROP_IN_DIR}")],
            };
            let bytes = text::render("manual/flags.env", &page)?.into_bytes();
            sink.read_by(
                &path,
                crate::emit::Consumer::netc_apply("the kubelet's systemd unit (EnvironmentFile=)"),
            );
            sink.put_installed(path, bytes, Install::file(&node.name, KUBELET_ENV))?;
        }
        let path = format!("{dir}/kubelet-config.yaml");
        let mut kubelet = kubeadm::kubelet_configuration(plan);
        kubelet.resolv_conf = Some(RESOLV_CONF.to_owned());
        // The bridge plugin's host-local range is the node's subnet; kubelet reports it.
        if plan.cni.bridge().is_some() {
            kubelet.pod_cidr = distribution::cidr_list(&node.pod_cidrs);
        }
        let note = if kubelet_path == KUBELET_DROP_IN {
            format!(
                "A kubelet --config-dir drop-in ({kubelet_path}), merged over your --config; kubelet.env passes the flag."
            )
        } else {
            format!("kubelet --config {kubelet_path}: add your authentication and TLS settings.")
        };
        let bytes = yaml_documents_noted(ctx, &path, &[&note], &[kubelet])?;
        sink.read_by(&path, crate::emit::Consumer::netc_apply("the kubelet"));
        sink.put_installed(path, bytes, Install::file(&node.name, kubelet_path))?;

        let path = format!("{dir}/kube-proxy-config.yaml");
        let mut proxy = kubeadm::kube_proxy_configuration(plan);
        proxy.bind_address = node.ip().map(|ip| ip.to_string());
        proxy.client_connection = Some(ClientConnection {
            kubeconfig: KUBE_PROXY_KUBECONFIG.to_owned(),
        });
        let bytes = yaml(ctx, &path, &proxy)?;
        sink.read_by(
            &path,
            crate::emit::Consumer::netc_apply("kube-proxy (--config)"),
        );
        sink.put_installed(path, bytes, Install::file(&node.name, KUBE_PROXY_CONFIG))?;

        let path = format!("{dir}/kube-proxy.kubeconfig");
        let config = Kubeconfig::new(
            &plan.name,
            distribution::api_server_endpoint(plan),
            KUBE_PROXY_CA,
            KUBE_PROXY_USER,
            Credentials::ClientCertificate {
                certificate: KUBE_PROXY_CERT.to_owned(),
                key: KUBE_PROXY_KEY.to_owned(),
            },
        );
        let note = format!(
            "PLACEHOLDERS: put the cluster CA at {KUBE_PROXY_CA} and the {KUBE_PROXY_USER} client certificate and key at {KUBE_PROXY_CERT}, {KUBE_PROXY_KEY}."
        );
        let bytes = yaml_documents_noted(ctx, &path, &[&note], &[config])?;
        sink.read_by(
            &path,
            crate::emit::Consumer::netc_apply("kube-proxy (its kubeconfig)"),
        );
        sink.put_installed(
            path,
            bytes,
            Install::file(&node.name, KUBE_PROXY_KUBECONFIG),
        )?;
    }
    Ok(())
}

/// kube-apiserver: the service range it allocates ClusterIPs from, the address it advertises
/// and, given `bindAddress`, the one it listens on (`--bind-address`, as written: kube-apiserver
/// reads `0.0.0.0` and `::` alike as every address of both families). A specific bind address
/// is also the advertised one (`NodePlan::api_address`).
fn apiserver_flags(plan: &Plan, node: &NodePlan) -> Vec<(&'static str, String)> {
    let mut flags = Vec::new();
    if let Some(ip) = node.api_address() {
        flags.push(("advertise-address", ip.to_string()));
    }
    if let Some(ip) = node.bind_address {
        flags.push(("bind-address", ip.to_string()));
    }
    if plan.api_server_port != crate::plan::API_SERVER_PORT {
        flags.push(("secure-port", plan.api_server_port.to_string()));
    }
    if let Some(services) = distribution::cidr_list(&plan.service_cidrs) {
        flags.push(("service-cluster-ip-range", services));
    }
    flags
}

/// kube-controller-manager: node IPAM hands each node its pod subnet from the pod CIDR (what
/// flanneld's `--kube-subnet-mgr` reads); the mask flags always written, defaults included.
fn controller_manager_flags(plan: &Plan) -> Vec<(&'static str, String)> {
    let mut flags = vec![("allocate-node-cidrs", "true".to_owned())];
    if let Some(pods) = distribution::cidr_list(&plan.pod_cidrs) {
        flags.push(("cluster-cidr", pods));
    }
    let v4 = plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V4(_)));
    let v6 = plan.pod_cidrs.iter().any(|n| matches!(n, IpNet::V6(_)));
    match (v4, v6) {
        (true, true) => {
            flags.push(("node-cidr-mask-size-ipv4", plan.node_mask_v4.to_string()));
            flags.push(("node-cidr-mask-size-ipv6", plan.node_mask_v6.to_string()));
        }
        (false, true) => flags.push(("node-cidr-mask-size", plan.node_mask_v6.to_string())),
        _ => flags.push(("node-cidr-mask-size", plan.node_mask_v4.to_string())),
    }
    if let Some(services) = distribution::cidr_list(&plan.service_cidrs) {
        flags.push(("service-cluster-ip-range", services));
    }
    flags
}

/// The context of `templates/manual/flags.env.j2`.
#[derive(Serialize)]
struct FlagsFile<'a> {
    source: &'a str,
    component: &'static str,
    node: &'a str,
    install_path: &'static str,
    args: Vec<String>,
}
