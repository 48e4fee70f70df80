//! kubeadm: `kubeadm/init.yaml` (Init + Cluster + KubeProxy + Kubelet configuration) for the
//! first control-plane node, and `kubeadm/join-<node>.yaml` (JoinConfiguration) for every other
//! node. API `kubeadm.k8s.io/v1beta3` below Kubernetes 1.31, `v1beta4` from 1.31 (whose
//! `extraArgs`/`kubeletExtraArgs` are `{name, value}` lists instead of maps).

pub(super) mod types;

use types::{
    ApiEndpoint, BootstrapTokenDiscovery, ClusterConfiguration, Conntrack, ControlPlaneComponent,
    Discovery, Document, ExtraArgs, InitConfiguration, Ipvs, JoinConfiguration, JoinControlPlane,
    JsonPatchOp, KubeProxyConfiguration, KubeletConfiguration, Networking, NodeRegistration,
    Patches,
};

use super::distribution::{self, ClusterRole};
use super::{ArtifactSink, Context, EmitError, Install, yaml_documents, yaml_documents_noted};
use crate::intent::{Distribution, KubeProxyMode};
use crate::plan::{NodePlan, Plan};

/// kubeadm requires a token and a CA pin on every join; netc cannot know either before
/// `kubeadm init` ran, so join files carry these well-formed placeholders (they pass kubeadm's
/// validation and can never authenticate).
pub const TOKEN_PLACEHOLDER: &str = "abcdef.0123456789abcdef";
pub const CA_HASH_PLACEHOLDER: &str =
    "sha256:0000000000000000000000000000000000000000000000000000000000000000";
/// Where `netc apply` puts the node's kubeadm file, for `kubeadm init|join --config`.
pub const CONFIG_DIR: &str = "/etc/netc/kubeadm";
/// The node's kubeadm patch directory (`patches.directory` of its Init/JoinConfiguration).
pub const PATCHES_DIR: &str = "/etc/netc/kubeadm/patches";
/// The kube-apiserver patch: kubeadm reads a file name as `target[suffix][+patchtype].extension`
/// (`cmd/kubeadm/app/util/patches/patches.go`, `parseFilename`): target `kube-apiserver` (the
/// static Pod), type `json` (RFC 6902), extension `yaml`.
pub const APISERVER_PATCH: &str = "kube-apiserver+json.yaml";

const PATCH_NOTES: &[&str] = &[
    "kube-apiserver --bind-address for this node: kubeadm appends it to the static Pod's command",
    "(its default arguments have none). kubeadm reads every patch file in this directory.",
];

const JOIN_NOTES: &[&str] = &[
    "PLACEHOLDERS: replace discovery.bootstrapToken.token and caCertHashes with the values",
    "printed by `kubeadm token create --print-join-command` on the first control-plane node.",
    "Control-plane joins also need `--certificate-key` (from `kubeadm init --upload-certs`).",
];

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    if plan.distribution != Distribution::Kubeadm {
        return Ok(());
    }
    let init = distribution::init_node(plan);
    let path = "kubeadm/init.yaml";
    let docs = init_documents(plan, init);
    let bytes = yaml_documents(ctx, path, &docs)?;
    // `kubeadm init` runs on the first control-plane node only; the others join.
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Bootstrap,
            "kubeadm init",
            format!("kubeadm init --config {CONFIG_DIR}/init.yaml"),
        )
        .at("the first control-plane node"),
    );
    match init {
        Some(first) => sink.put_installed(
            path.to_owned(),
            bytes,
            Install::file(&first.name, format!("{CONFIG_DIR}/init.yaml")),
        )?,
        None => sink.put(path.to_owned(), bytes)?,
    }
    for node in ctx.nodes() {
        let role = distribution::role(plan, node);
        if role == ClusterRole::Init {
            continue;
        }
        let path = format!("kubeadm/join-{}.yaml", node.name);
        let doc = Document::Join(join_configuration(plan, node, role));
        let bytes = yaml_documents_noted(ctx, &path, JOIN_NOTES, &[doc])?;
        let host_path = format!("{CONFIG_DIR}/join-{}.yaml", node.name);
        sink.read_by(
            &path,
            crate::emit::Consumer::new(
                crate::emit::Stage::Join,
                "kubeadm join",
                format!("kubeadm join --config {host_path}"),
            ),
        );
        sink.put_installed(path, bytes, Install::file(&node.name, host_path))?;
    }
    for node in ctx.nodes() {
        for file in patch_files(ctx, node)? {
            sink.read_by(&file.path, patch_consumer());
            sink.put_installed(
                file.path,
                file.bytes,
                Install::file(&node.name, file.host_path),
            )?;
        }
    }
    Ok(())
}

/// One of a node's kubeadm patch files: its artifact path, where the node has it, its bytes.
pub struct PatchFile {
    pub path: String,
    pub host_path: String,
    pub bytes: Vec<u8>,
}

/// The node's patch files (under `kubeadm/patches/<node>/`, installed in [`PATCHES_DIR`]);
/// cloud-init writes the same bytes.
pub fn patch_files(ctx: Context<'_>, node: &NodePlan) -> Result<Vec<PatchFile>, EmitError> {
    let Some((name, ops)) = apiserver_patch(node) else {
        return Ok(Vec::new());
    };
    let path = format!("kubeadm/patches/{}/{name}", node.name);
    let host_path = format!("{PATCHES_DIR}/{name}");
    let bytes = super::index::described(
        ctx.source,
        yaml_documents_noted(ctx, &path, PATCH_NOTES, &[ops])?,
        &patch_consumer(),
        Some(&Install::file(&node.name, host_path.clone())),
    );
    Ok(vec![PatchFile {
        path,
        host_path,
        bytes,
    }])
}

/// Who reads a node's patch file (the file and its cloud-init copy say the same).
fn patch_consumer() -> crate::emit::Consumer {
    crate::emit::Consumer::netc_apply("kubeadm (the node's patches.directory)")
}

/// The node's kube-apiserver patch file (its name and RFC 6902 operations), when it has a
/// specific `bindAddress`. ClusterConfiguration's `apiServer.extraArgs` is one for the whole
/// cluster, so a per-node flag goes through the node's own patches directory: an `add` at the
/// end of the only container's command (kubeadm's `ComponentPod` holds one container;
/// `getAPIServerCommand` sets no `--bind-address`). The node advertises the same address
/// (`NodePlan::api_address`), and kubeadm points the API server's probes at the advertised
/// address (`staticpod.GetAPIServerProbeAddress`), so they reach the bound socket.
pub fn apiserver_patch(node: &NodePlan) -> Option<(&'static str, Vec<JsonPatchOp>)> {
    if !node.is_control_plane() {
        return None;
    }
    let ip = node.specific_bind_address()?;
    Some((
        APISERVER_PATCH,
        vec![JsonPatchOp {
            op: "add",
            path: "/spec/containers/0/command/-",
            value: format!("--bind-address={ip}"),
        }],
    ))
}

/// `patches` for the node's Init/JoinConfiguration when it has a patch file.
fn patches(node: &NodePlan) -> Option<Patches> {
    apiserver_patch(node).map(|_| Patches {
        directory: PATCHES_DIR.to_owned(),
    })
}

/// The node's kubeadm file without the header: the init documents for the first control-plane
/// node, its JoinConfiguration for any other (for the cloud-init `cluster.config` string).
pub fn node_yaml(plan: &Plan, node: &NodePlan) -> Result<String, EmitError> {
    let init = distribution::init_node(plan);
    let role = distribution::role(plan, node);
    let (path, docs) = if role == ClusterRole::Init {
        ("kubeadm/init.yaml".to_owned(), init_documents(plan, init))
    } else {
        (
            format!("kubeadm/join-{}.yaml", node.name),
            vec![Document::Join(join_configuration(plan, node, role))],
        )
    };
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        let text = serde_saphyr::to_string(doc).map_err(|e| EmitError::Serialize {
            path: path.clone(),
            message: e.to_string(),
        })?;
        out.push_str(&text);
    }
    Ok(out)
}

fn init_documents(plan: &Plan, init: Option<&NodePlan>) -> Vec<Document> {
    vec![
        Document::Init(init_configuration(plan, init)),
        Document::Cluster(cluster_configuration(plan)),
        Document::KubeProxy(kube_proxy_configuration(plan)),
        Document::Kubelet(kubelet_configuration(plan)),
    ]
}

fn api_version(plan: &Plan) -> String {
    plan.kubeadm_api().to_owned()
}

fn uses_arg_lists(plan: &Plan) -> bool {
    plan.kubeadm_api().ends_with("v1beta4")
}

fn node_registration(plan: &Plan, node: &NodePlan) -> NodeRegistration {
    let flags: Vec<(&str, String)> = distribution::node_ip_flag(plan, node).into_iter().collect();
    NodeRegistration {
        name: node.name.clone(),
        kubelet_extra_args: ExtraArgs::new(uses_arg_lists(plan), &flags),
    }
}

fn init_configuration(plan: &Plan, init: Option<&NodePlan>) -> InitConfiguration {
    InitConfiguration {
        api_version: api_version(plan),
        kind: "InitConfiguration",
        node_registration: match init {
            Some(n) => node_registration(plan, n),
            None => NodeRegistration {
                name: String::new(),
                kubelet_extra_args: ExtraArgs::new(false, &[]),
            },
        },
        local_api_endpoint: init.and_then(NodePlan::api_address).map(|ip| ApiEndpoint {
            advertise_address: ip.to_string(),
            bind_port: bind_port(plan),
        }),
        patches: init.and_then(patches),
    }
}

fn cluster_configuration(plan: &Plan) -> ClusterConfiguration {
    let mask_flags = distribution::node_mask_flags(plan);
    ClusterConfiguration {
        api_version: api_version(plan),
        kind: "ClusterConfiguration",
        cluster_name: plan.name.clone(),
        kubernetes_version: plan.kubernetes_version.map(|v| v.to_string()),
        control_plane_endpoint: plan.control_plane_endpoint.clone(),
        networking: Networking {
            service_subnet: distribution::cidr_list(&plan.service_cidrs),
            pod_subnet: distribution::cidr_list(&plan.pod_cidrs),
            dns_domain: plan.dns_domain.clone(),
        },
        controller_manager: (!mask_flags.is_empty()).then(|| ControlPlaneComponent {
            extra_args: ExtraArgs::new(uses_arg_lists(plan), &mask_flags),
        }),
    }
}

/// The cluster's KubeProxyConfiguration (`distribution: manual` adds the node's own fields).
pub(super) fn kube_proxy_configuration(plan: &Plan) -> KubeProxyConfiguration {
    let kp = &plan.kube_proxy;
    KubeProxyConfiguration {
        api_version: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        cluster_cidr: distribution::cidr_list(&plan.pod_cidrs),
        mode: match kp.mode {
            KubeProxyMode::Iptables => "iptables",
            KubeProxyMode::Ipvs => "ipvs",
            KubeProxyMode::Nftables => "nftables",
        },
        ipvs: (kp.mode == KubeProxyMode::Ipvs).then(|| Ipvs {
            scheduler: kp.ipvs_scheduler.clone(),
            strict_arp: kp.strict_arp,
            sync_period: kp.ipvs.sync_period.clone(),
            min_sync_period: kp.ipvs.min_sync_period.clone(),
            exclude_cidrs: kp
                .ipvs
                .exclude_cidrs
                .iter()
                .map(ToString::to_string)
                .collect(),
        }),
        conntrack: (!kp.conntrack.is_empty()).then(|| Conntrack {
            max_per_core: kp.conntrack.max_per_core,
            min: kp.conntrack.min,
            tcp_established_timeout: kp.conntrack.tcp_established_timeout.clone(),
            tcp_close_wait_timeout: kp.conntrack.tcp_close_wait_timeout.clone(),
        }),
        bind_address: None,
        client_connection: None,
        // The profile's fact: `mode: nftables` is refused below 1.29 (`check`) and needs its
        // Alpha gate on 1.29–1.30.
        feature_gates: plan
            .profile
            .kube_proxy_gate
            .map(|g| (g, true))
            .into_iter()
            .collect(),
    }
}

/// The cluster's KubeletConfiguration (`distribution: manual` adds the node's own fields).
pub(super) fn kubelet_configuration(plan: &Plan) -> KubeletConfiguration {
    KubeletConfiguration {
        api_version: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        cluster_dns: plan.cluster_dns.iter().map(ToString::to_string).collect(),
        cluster_domain: plan.dns_domain.clone(),
        pod_cidr: None,
        resolv_conf: None,
    }
}

/// A node's JoinConfiguration; it finds the API server at `distribution::api_server_endpoint`.
fn join_configuration(plan: &Plan, node: &NodePlan, role: ClusterRole) -> JoinConfiguration {
    JoinConfiguration {
        api_version: api_version(plan),
        kind: "JoinConfiguration",
        node_registration: node_registration(plan, node),
        discovery: Discovery {
            bootstrap_token: BootstrapTokenDiscovery {
                token: TOKEN_PLACEHOLDER,
                api_server_endpoint: distribution::api_server_endpoint(plan).unwrap_or_default(),
                ca_cert_hashes: vec![CA_HASH_PLACEHOLDER],
                unsafe_skip_ca_verification: false,
            },
        },
        control_plane: match (role, node.api_address()) {
            (ClusterRole::ControlPlane, Some(ip)) => Some(JoinControlPlane {
                local_api_endpoint: ApiEndpoint {
                    advertise_address: ip.to_string(),
                    bind_port: bind_port(plan),
                },
            }),
            _ => None,
        },
        patches: patches(node),
    }
}

/// `localAPIEndpoint.bindPort` when the API server listens on another port than kubeadm's
/// default (the control-plane endpoint is the node's own address with another port).
fn bind_port(plan: &Plan) -> Option<u16> {
    (plan.api_server_port != crate::plan::API_SERVER_PORT).then_some(plan.api_server_port)
}
