//! kubeadm's configuration documents as typed structs. Field names follow
//! kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/{v1beta3,v1beta4}/types.go`,
//! `staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go` and
//! `staging/src/k8s.io/kubelet/config/v1beta1/types.go`. Only fields netc sets exist here.

use std::collections::BTreeMap;

use serde::Serialize;

/// One document of a kubeadm configuration file.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Document {
    Init(InitConfiguration),
    Cluster(ClusterConfiguration),
    KubeProxy(KubeProxyConfiguration),
    Kubelet(KubeletConfiguration),
    Join(JoinConfiguration),
}

/// Extra command-line arguments: a map in v1beta3, a list of `{name, value}` in v1beta4.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ExtraArgs {
    Map(BTreeMap<String, String>),
    List(Vec<Arg>),
}

impl ExtraArgs {
    /// `flags` in the form of API version `v1beta4` (`list`) or `v1beta3`.
    pub fn new(list: bool, flags: &[(&str, String)]) -> Self {
        if list {
            Self::List(
                flags
                    .iter()
                    .map(|(k, v)| Arg {
                        name: (*k).to_owned(),
                        value: v.clone(),
                    })
                    .collect(),
            )
        } else {
            Self::Map(
                flags
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.clone()))
                    .collect(),
            )
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Self::Map(m) => m.is_empty(),
            Self::List(l) => l.is_empty(),
        }
    }
}

#[derive(Serialize)]
pub struct Arg {
    pub name: String,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitConfiguration {
    pub api_version: String,
    pub kind: &'static str,
    pub node_registration: NodeRegistration,
    #[serde(rename = "localAPIEndpoint", skip_serializing_if = "Option::is_none")]
    pub local_api_endpoint: Option<ApiEndpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
}

/// `patches` of InitConfiguration and JoinConfiguration (v1beta3 and v1beta4, Kubernetes
/// 1.22 on): the directory kubeadm reads patch files from, applied to the static Pod manifests
/// it writes (`cmd/kubeadm/app/util/patches/patches.go`).
#[derive(Serialize)]
pub struct Patches {
    pub directory: String,
}

/// One RFC 6902 operation of a `+json` patch file.
#[derive(Serialize)]
pub struct JsonPatchOp {
    pub op: &'static str,
    pub path: &'static str,
    pub value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRegistration {
    pub name: String,
    #[serde(skip_serializing_if = "ExtraArgs::is_empty")]
    pub kubelet_extra_args: ExtraArgs,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiEndpoint {
    pub advertise_address: String,
    /// `bindPort` (default 6443): the control-plane endpoint's port when the endpoint is the
    /// node's own address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_port: Option<u16>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterConfiguration {
    pub api_version: String,
    pub kind: &'static str,
    pub cluster_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane_endpoint: Option<String>,
    pub networking: Networking,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller_manager: Option<ControlPlaneComponent>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Networking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_subnet: Option<String>,
    pub dns_domain: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneComponent {
    pub extra_args: ExtraArgs,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinConfiguration {
    pub api_version: String,
    pub kind: &'static str,
    pub node_registration: NodeRegistration,
    pub discovery: Discovery,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<JoinControlPlane>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patches: Option<Patches>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discovery {
    pub bootstrap_token: BootstrapTokenDiscovery,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapTokenDiscovery {
    pub token: &'static str,
    pub api_server_endpoint: String,
    pub ca_cert_hashes: Vec<&'static str>,
    #[serde(rename = "unsafeSkipCAVerification")]
    pub unsafe_skip_ca_verification: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinControlPlane {
    #[serde(rename = "localAPIEndpoint")]
    pub local_api_endpoint: ApiEndpoint,
}

/// `kubeproxy.config.k8s.io/v1alpha1`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeProxyConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(rename = "clusterCIDR", skip_serializing_if = "Option::is_none")]
    pub cluster_cidr: Option<String>,
    pub mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipvs: Option<Ipvs>,
    /// The node's primary IP as kube-proxy takes it (the name is historical: it binds no
    /// socket to it) (`distribution: manual`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind_address: Option<String>,
    /// The kubeconfig kube-proxy reads (`distribution: manual`; kubeadm sets its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_connection: Option<ClientConnection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conntrack: Option<Conntrack>,
    /// `featureGates` (`NFTablesProxyMode: true` for mode nftables on 1.29–1.30).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub feature_gates: BTreeMap<&'static str, bool>,
}

/// `clientConnection` (k8s.io/component-base `ClientConnectionConfiguration`).
#[derive(Serialize)]
pub struct ClientConnection {
    pub kubeconfig: String,
}

/// `KubeProxyIPVSConfiguration` (kubernetes/kubernetes
/// `staging/src/k8s.io/kube-proxy/config/v1alpha1/types.go`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ipvs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduler: Option<String>,
    #[serde(rename = "strictARP")]
    pub strict_arp: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_sync_period: Option<String>,
    #[serde(rename = "excludeCIDRs", skip_serializing_if = "Vec::is_empty")]
    pub exclude_cidrs: Vec<String>,
}

/// `KubeProxyConntrackConfiguration` (same file); unset fields keep kube-proxy's defaults.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Conntrack {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_per_core: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_established_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tcp_close_wait_timeout: Option<String>,
}

/// `kubelet.config.k8s.io/v1beta1`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    #[serde(rename = "clusterDNS", skip_serializing_if = "Vec::is_empty")]
    pub cluster_dns: Vec<String>,
    pub cluster_domain: String,
    /// The node's pod subnet (`distribution: manual` with the bridge plugin).
    #[serde(rename = "podCIDR", skip_serializing_if = "Option::is_none")]
    pub pod_cidr: Option<String>,
    /// The resolver file pods' DNS falls back to (`distribution: manual`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolv_conf: Option<String>,
}
