//! flanneld on the host (`distribution: manual`, "the hard way"): `flannel/flanneld.service`
//! runs it under systemd with the paths of the Plan's [`HostFlanneld`]; `flannel/kubeconfig`
//! is what it reads to reach the API server; `flannel/flanneld-rbac.yaml` is its identity
//! there (the ServiceAccount, ClusterRole and ClusterRoleBinding of flannel-io/flannel
//! `Documentation/kube-flannel.yml`, and a long-lived token Secret for the kubeconfig),
//! applied once with `kubectl apply -f`.
//!
//! On kubeadm flannel is the kube-flannel DaemonSet; k3s and RKE2 embed or chart it: none of
//! them gets any of these files.

use serde::Serialize;

use super::kubeconfig::{Credentials, Kubeconfig};
use super::{
    ArtifactSink, Context, EmitError, Install, distribution, text, yaml_documents,
    yaml_documents_noted,
};
use crate::plan::{FlannelSettings, HostFlanneld};

/// flanneld's ServiceAccount and its namespace (kube-flannel.yml's).
pub const SERVICE_ACCOUNT: &str = "flannel";
pub const NAMESPACE: &str = "kube-flannel";
/// The ServiceAccount token Secret the control plane fills with a token that does not expire
/// (Kubernetes documentation, "Secrets": `kubernetes.io/service-account-token`, created by hand
/// with the `kubernetes.io/service-account.name` annotation; the token controller adds
/// `data.token` and `data.ca.crt`).
pub const TOKEN_SECRET: &str = "flannel-token";
/// Where systemd reads the unit.
pub const UNIT_PATH: &str = "/etc/systemd/system/flanneld.service";

pub fn emit(
    ctx: Context<'_>,
    flannel: &FlannelSettings,
    host: &HostFlanneld,
    sink: &mut dyn ArtifactSink,
) -> Result<(), EmitError> {
    let path = "flannel/flanneld.service";
    let unit = Unit {
        source: ctx.source,
        net_conf_path: &host.net_conf,
        kubeconfig: &host.kubeconfig,
        binary: &host.binary,
        args: flanneld_args(flannel, host),
    };
    sink.read_by(
        path,
        crate::emit::Consumer::netc_apply("systemd (host flanneld)"),
    );
    sink.put_installed(
        path.to_owned(),
        text::render("flannel/flanneld.service", &unit)?.into_bytes(),
        Install::everywhere_file(UNIT_PATH),
    )?;

    let path = "flannel/kubeconfig";
    // The token is the long-lived one of the `flannel-token` Secret (flanneld-rbac.yaml): a
    // `kubectl create token` token expires after an hour (its default `--duration`), and
    // flanneld then loses the node list.
    let notes = [
        format!(
            "PLACEHOLDERS: put the cluster CA certificate at {} and the token of Secret",
            host.ca_cert
        ),
        format!(
            "{NAMESPACE}/{TOKEN_SECRET} (flanneld-rbac.yaml; it does not expire) at {}:",
            host.token
        ),
        format!(
            "kubectl -n {NAMESPACE} get secret {TOKEN_SECRET} -o jsonpath='{{.data.token}}' | base64 -d"
        ),
    ];
    let notes: Vec<&str> = notes.iter().map(String::as_str).collect();
    let config = Kubeconfig::new(
        &ctx.plan.name,
        distribution::api_server_endpoint(ctx.plan),
        &host.ca_cert,
        SERVICE_ACCOUNT,
        Credentials::TokenFile {
            token_file: host.token.clone(),
        },
    );
    sink.read_by(path, crate::emit::Consumer::netc_apply("host flanneld"));
    sink.put_installed(
        path.to_owned(),
        yaml_documents_noted(ctx, path, &notes, &[config])?,
        Install::everywhere_file(host.kubeconfig.clone()),
    )?;

    // Cluster objects: `kubectl apply -f`, never a node's file.
    let path = "flannel/flanneld-rbac.yaml";
    sink.read_by(
        path,
        crate::emit::Consumer::kubectl(crate::emit::Stage::Bootstrap, path),
    );
    sink.put(path.to_owned(), yaml_documents(ctx, path, &rbac())?)?;
    Ok(())
}

/// flanneld's flags (flannel `Documentation/configuration.md`): subnets from the Kubernetes
/// API, the data-plane interface, masquerading of traffic leaving the pod network.
fn flanneld_args(flannel: &FlannelSettings, host: &HostFlanneld) -> Vec<String> {
    let mut args = vec![
        "--kube-subnet-mgr".to_owned(),
        format!("--kubeconfig-file={}", host.kubeconfig),
        format!("--net-config-path={}", host.net_conf),
    ];
    if let Some(iface) = &flannel.interface {
        args.push(format!("--iface={iface}"));
    }
    if flannel.ip_masq {
        args.push("--ip-masq".to_owned());
    }
    args
}

/// The context of `templates/flannel/flanneld.service.j2`.
#[derive(Serialize)]
struct Unit<'a> {
    source: &'a str,
    net_conf_path: &'a str,
    kubeconfig: &'a str,
    binary: &'a str,
    args: Vec<String>,
}

/// The RBAC objects, in the order `kubectl apply` needs them.
#[derive(Serialize)]
#[serde(untagged)]
enum RbacObject {
    Namespace(Object),
    ServiceAccount(Object),
    ClusterRole(ClusterRole),
    ClusterRoleBinding(ClusterRoleBinding),
    Secret(TokenSecret),
}

/// v1 Secret of type `kubernetes.io/service-account-token`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenSecret {
    api_version: &'static str,
    kind: &'static str,
    metadata: SecretMetadata,
    #[serde(rename = "type")]
    kind_of_secret: &'static str,
}

#[derive(Serialize)]
struct SecretMetadata {
    name: &'static str,
    namespace: &'static str,
    annotations: std::collections::BTreeMap<&'static str, &'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
}

#[derive(Serialize)]
struct Metadata {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterRole {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    rules: Vec<PolicyRule>,
}

/// rbac/v1 `PolicyRule`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyRule {
    api_groups: Vec<&'static str>,
    resources: Vec<&'static str>,
    verbs: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ClusterRoleBinding {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RoleRef {
    api_group: &'static str,
    kind: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct Subject {
    kind: &'static str,
    name: &'static str,
    namespace: &'static str,
}

const RBAC_API: &str = "rbac.authorization.k8s.io/v1";

/// What flanneld's `--kube-subnet-mgr` does with the API (kube-flannel.yml's ClusterRole
/// `flannel`): read its own pod (DaemonSet mode), read and watch nodes for their podCIDRs and
/// leases, patch its node's status (annotations, NetworkUnavailable).
fn rbac() -> Vec<RbacObject> {
    let meta = |namespace| Metadata {
        name: SERVICE_ACCOUNT,
        namespace,
    };
    let rule = |resources: &[&'static str], verbs: &[&'static str]| PolicyRule {
        api_groups: vec![""],
        resources: resources.to_vec(),
        verbs: verbs.to_vec(),
    };
    vec![
        RbacObject::Namespace(Object {
            api_version: "v1",
            kind: "Namespace",
            metadata: Metadata {
                name: NAMESPACE,
                namespace: None,
            },
        }),
        RbacObject::ServiceAccount(Object {
            api_version: "v1",
            kind: "ServiceAccount",
            metadata: meta(Some(NAMESPACE)),
        }),
        RbacObject::ClusterRole(ClusterRole {
            api_version: RBAC_API,
            kind: "ClusterRole",
            metadata: meta(None),
            rules: vec![
                rule(&["pods"], &["get"]),
                rule(&["nodes"], &["get", "list", "watch"]),
                rule(&["nodes/status"], &["patch"]),
            ],
        }),
        RbacObject::ClusterRoleBinding(ClusterRoleBinding {
            api_version: RBAC_API,
            kind: "ClusterRoleBinding",
            metadata: meta(None),
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io",
                kind: "ClusterRole",
                name: SERVICE_ACCOUNT,
            },
            subjects: vec![Subject {
                kind: "ServiceAccount",
                name: SERVICE_ACCOUNT,
                namespace: NAMESPACE,
            }],
        }),
        // After its ServiceAccount: the token controller fills it only for an existing one.
        RbacObject::Secret(TokenSecret {
            api_version: "v1",
            kind: "Secret",
            metadata: SecretMetadata {
                name: TOKEN_SECRET,
                namespace: NAMESPACE,
                annotations: [("kubernetes.io/service-account.name", SERVICE_ACCOUNT)]
                    .into_iter()
                    .collect(),
            },
            kind_of_secret: "kubernetes.io/service-account-token",
        }),
    ]
}
