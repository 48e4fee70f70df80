//! `fleet/`: `netc apply --watch` on every node, rolled out by Kubernetes itself (a DaemonSet,
//! as flannel and calico-node run), when the intent has `fleet:`.
//!
//! Objects follow k8s.io/api core/v1 and apps/v1 (types.go); checked by
//! `kubernetes-validate --strict` (tests/consumers_fleet.rs). What the pod may touch is derived,
//! not listed: its hostPath mounts are the directories of the install locations every other
//! emitter gives its artifacts ([`Install`]), plus the state directory and `/run/xtables.lock`.
//!
//! The ConfigMap's name carries the hash of the intent text and is immutable: a new intent is a
//! new ConfigMap and a changed pod template, so the DaemonSet's RollingUpdate (and its
//! `maxUnavailable`, gated by the readiness probe) is what rolls it out, node by node.
//!
//! The ConfigMap carries the intent gzip-compressed in `binaryData`, always: the API server
//! refuses a ConfigMap over 1 MiB ([`CONFIGMAP_MAX_BYTES`]), which the text of a 3,000-node
//! intent exceeds, and client-side `kubectl apply` copies the whole object into its
//! `kubectl.kubernetes.io/last-applied-configuration` annotation (kubernetes/kubernetes
//! staging/src/k8s.io/kubectl/pkg/util/apply.go, GetModifiedConfiguration), where every
//! annotation together is limited to 256 KiB (staging/src/k8s.io/apimachinery/pkg/api/
//! validation/objectmeta.go, TotalAnnotationSizeLimitB): plain text fails there from about
//! 250 KB. Compressed, a 10,000-node intent is under 100 KB; one over about 191 KiB compressed
//! still fails there, which `check` warns of (`netc::fleet::client-side-apply-too-large`, from
//! `FleetPlan::client_side_apply_too_large`). One form for every size also
//! means the agent's decompression is what every fleet runs, not a path first taken at scale.
//!
//! [`CONFIGMAP_MAX_BYTES`]: crate::plan::fleet::CONFIGMAP_MAX_BYTES

use std::collections::BTreeMap;

use base64::prelude::{BASE64_STANDARD, Engine as _};
use serde::Serialize;

use super::{
    ArtifactSink, Consumer, Context, EmitError, Install, Stage, Target, yaml, yaml_documents_noted,
};
use crate::diagnostic::code;
use crate::digest;
use crate::intent::{Syntax, TaintEffect, TolerationOperator};
use crate::plan::fleet::{ANNOTATIONS_MAX_BYTES, FleetPlan};
use crate::plan::layout;

/// Name of the DaemonSet, its ServiceAccount and the `app.kubernetes.io/name` label.
pub const AGENT_NAME: &str = "netc-agent";
/// modprobe reads the host's modules here.
const MODULES_DIR: &str = "/lib/modules";

const NAME_LABEL: &str = "app.kubernetes.io/name";

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    // A node's own artifacts (`netc apply`) never include the fleet's objects.
    let (Some(fleet), None) = (&ctx.plan.fleet, ctx.node) else {
        return Ok(());
    };
    let mut targets = InstallDirs::default();
    super::emit_installable(ctx, &mut targets)?;
    // The intent ships gzip-compressed, always (`plan::fleet::FleetPlan::intent_gzip`); the
    // name says so, and the agent reads the file decompressed (`intent::compressed`).
    let intent_file = match Syntax::from_path(ctx.source) {
        Syntax::Kdl => "intent.kdl.gz",
        Syntax::Yaml => "intent.yaml.gz",
    };
    let hash = digest::sha256(fleet.intent_text.as_bytes());
    let config_map = format!("netc-intent-{}", &hash[..10]);
    let meta = |name: &str| ObjectMeta {
        name: name.to_owned(),
        namespace: Some(fleet.namespace.clone()),
        labels: labels(),
    };

    // The plan's one answer to whether client-side apply's annotation would exceed the API
    // server's limit (`check` warns from the same fact): then INDEX.md and the headers say
    // `--server-side`, which stores no last-applied-configuration.
    let apply = || {
        if fleet.client_side_apply_too_large() {
            Consumer::kubectl_server_side(Stage::Fleet, "fleet/")
        } else {
            Consumer::kubectl(Stage::Fleet, "fleet/")
        }
    };

    let path = "fleet/namespace.yaml";
    sink.read_by(path, apply());
    let namespace = Object {
        api_version: "v1",
        kind: "Namespace",
        metadata: ObjectMeta {
            name: fleet.namespace.clone(),
            namespace: None,
            labels: labels(),
        },
        body: Body::None {},
    };
    sink.put(path.to_owned(), yaml(ctx, path, &namespace)?)?;

    let path = "fleet/serviceaccount.yaml";
    sink.read_by(path, apply());
    let account = Object {
        api_version: "v1",
        kind: "ServiceAccount",
        metadata: meta(AGENT_NAME),
        // netc reads no Kubernetes API: no token in the pod.
        body: Body::ServiceAccount {
            automount_service_account_token: false,
        },
    };
    sink.put(path.to_owned(), yaml(ctx, path, &account)?)?;

    let path = "fleet/configmap.yaml";
    let consumer = apply();
    let consumer = if fleet.client_side_apply_too_large() {
        consumer.noted(format!(
            "client-side `kubectl apply` would copy this ConfigMap into its last-applied-configuration annotation, over the API server's {ANNOTATIONS_MAX_BYTES}-byte limit on an object's annotations (`check`: {})",
            code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE
        ))
    } else {
        consumer
    };
    sink.read_by(path, consumer);
    let cm = Object {
        api_version: "v1",
        kind: "ConfigMap",
        metadata: meta(&config_map),
        body: Body::ConfigMap {
            immutable: true,
            binary_data: BTreeMap::from([(
                intent_file.to_owned(),
                BASE64_STANDARD.encode(&fleet.intent_gzip),
            )]),
        },
    };
    let key = intent_file.replace('.', "\\.");
    let read_back = format!(
        "the intent, gzip-compressed: kubectl -n {} get configmap {config_map} -o \
         jsonpath='{{.binaryData.{key}}}' | base64 -d | gunzip",
        fleet.namespace
    );
    sink.put(
        path.to_owned(),
        yaml_documents_noted(ctx, path, &[&read_back], &[&cm])?,
    )?;

    let path = "fleet/daemonset.yaml";
    sink.read_by(path, apply());
    let ds = Object {
        api_version: "apps/v1",
        kind: "DaemonSet",
        metadata: meta(AGENT_NAME),
        body: Body::DaemonSet {
            spec: Box::new(daemon_set(ctx, fleet, &targets, &config_map, intent_file)),
        },
    };
    sink.put(path.to_owned(), yaml(ctx, path, &ds)?)
}

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([(NAME_LABEL.to_owned(), AGENT_NAME.to_owned())])
}

/// The directories of every file artifact any node installs, and whether a ruleset is loaded.
#[derive(Default)]
struct InstallDirs {
    dirs: std::collections::BTreeSet<String>,
}

impl ArtifactSink for InstallDirs {
    fn put(&mut self, _path: String, _contents: Vec<u8>) -> Result<(), EmitError> {
        Ok(())
    }

    fn put_installed(
        &mut self,
        _path: String,
        _contents: Vec<u8>,
        install: Install,
    ) -> Result<(), EmitError> {
        if let Target::File(host_path) = install.target
            && let Some((dir, _)) = host_path.rsplit_once('/')
        {
            self.dirs
                .insert(if dir.is_empty() { "/" } else { dir }.to_owned());
        }
        Ok(())
    }
}

impl InstallDirs {
    /// The directories to mount: each one not already inside another.
    fn outermost(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        // Sorted: a parent comes before everything under it.
        for dir in &self.dirs {
            if !out.iter().any(|p| {
                dir.strip_prefix(p)
                    .is_some_and(|rest| rest.starts_with('/'))
            }) {
                out.push(dir);
            }
        }
        out
    }
}

/// `/etc/cni/net.d` → `etc-cni-net-d-<hash>`: a DNS-1123 label (at most 63 characters, as
/// volume names must be) that no other path gets. The readable part is cut and lossy (`_`,
/// `.`, `-` all become `-`), so the first 10 hex digits of the path's SHA-256 keep names of
/// different paths apart.
fn volume_name(path: &str) -> String {
    let hash = &digest::sha256(path.as_bytes())[..10];
    let mut name = readable(path);
    name.truncate(63 - 1 - hash.len());
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        format!("h-{hash}")
    } else {
        format!("{name}-{hash}")
    }
}

/// The path in volume-name characters: lower-case letters, digits and `-`.
fn readable(path: &str) -> String {
    let name: String = path
        .trim_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.trim_matches('-').to_owned()
}

fn daemon_set(
    ctx: Context<'_>,
    fleet: &FleetPlan,
    targets: &InstallDirs,
    config_map: &str,
    intent_file: &str,
) -> DaemonSetSpec {
    let loads_modules = ctx.plan.nodes.iter().any(|n| !n.modules.is_empty());
    let writes_sysctls = ctx
        .plan
        .nodes
        .iter()
        .any(|n| n.sysctls.iter().any(|s| layout::runtime_sysctl(&s.key)));
    let mut volumes = vec![Volume {
        name: "intent".to_owned(),
        host_path: None,
        config_map: Some(ConfigMapSource {
            name: config_map.to_owned(),
        }),
    }];
    let mut mounts = vec![VolumeMount {
        name: "intent".to_owned(),
        mount_path: layout::INTENT_DIR.to_owned(),
        read_only: true,
    }];
    let mut host = |path: &str, at: &str, kind: &'static str, read_only: bool| {
        let name = volume_name(path);
        volumes.push(Volume {
            name: name.clone(),
            host_path: Some(HostPathSource {
                path: path.to_owned(),
                kind,
            }),
            config_map: None,
        });
        mounts.push(VolumeMount {
            name,
            mount_path: at.to_owned(),
            read_only,
        });
    };
    for dir in targets.outermost() {
        host(dir, dir, "DirectoryOrCreate", false);
    }
    host(
        layout::STATE_DIR,
        layout::STATE_DIR,
        "DirectoryOrCreate",
        false,
    );
    // The host's apply lock (and the desired-state cache's secret): the agent and a one-shot
    // `netc apply` on the host take the same lock file.
    host(
        layout::LOCK_DIR,
        layout::LOCK_DIR,
        "DirectoryOrCreate",
        false,
    );
    host(
        layout::XTABLES_LOCK,
        layout::XTABLES_LOCK,
        "FileOrCreate",
        false,
    );
    if loads_modules {
        host(MODULES_DIR, MODULES_DIR, "Directory", true);
    }
    // The container's own /proc/sys is read-only; the host's net sysctls, mounted elsewhere,
    // are writable with NET_ADMIN (and are the host network namespace's: hostNetwork).
    let net_sysctls = format!("{}/net", layout::SYSCTL_DIR);
    if writes_sysctls {
        host(
            &net_sysctls,
            &format!("{}/net", layout::SYSCTL_CONTAINER_DIR),
            "Directory",
            false,
        );
    }

    // NET_ADMIN: links, addresses, routes, nftables, net.* sysctls. NET_RAW: the reachability
    // probes' ICMP echo (apply::host::probe, a raw socket as root in a container whose
    // ping_group_range allows no ping socket). SYS_MODULE: modprobe, only when modules are needed.
    let mut add = vec!["NET_ADMIN", "NET_RAW"];
    if loads_modules {
        add.push("SYS_MODULE");
    }
    // The intent as the pod sees it: what the agent applies and what readiness compares with.
    let intent_path = format!("{}/{intent_file}", layout::INTENT_DIR);
    let mut command: Vec<String> = [
        "netc",
        "apply",
        &intent_path,
        "--watch",
        "--interval",
        &fleet.interval,
    ]
    .map(str::to_owned)
    .into();
    if writes_sysctls {
        command.extend([
            "--sysctl-dir".to_owned(),
            layout::SYSCTL_CONTAINER_DIR.to_owned(),
        ]);
    }
    // Exec probes expand only literal env values, not the Downward API's
    // (kubernetes pkg/kubelet/prober/prober.go: ExpandContainerCommandOnlyStatic), so
    // `netc status` reads the node from $NODE_NAME itself. It is given the intent file: ready
    // means this intent is applied, not merely whatever the agent read last (an agent that
    // cannot read its file is then not ready).
    let status = || Probe {
        exec: ExecAction {
            command: vec!["netc".to_owned(), "status".to_owned(), intent_path.clone()],
        },
        period_seconds: 10,
        timeout_seconds: 10,
        failure_threshold: 3,
    };
    // Liveness is its own check, `netc status --liveness`: the agent process runs and writes
    // its record. A failed intent is readiness's business: restarting the agent for it would
    // only apply it again. Restarted after a long run of failed checks (a wedged agent).
    let liveness = Probe {
        exec: ExecAction {
            command: ["netc", "status", "--liveness"].map(str::to_owned).into(),
        },
        failure_threshold: 30,
        period_seconds: 20,
        ..status()
    };
    let mut node_selector = BTreeMap::from([("kubernetes.io/os".to_owned(), "linux".to_owned())]);
    node_selector.extend(fleet.node_selector.clone());
    DaemonSetSpec {
        selector: LabelSelector {
            match_labels: labels(),
        },
        update_strategy: UpdateStrategy {
            kind: "RollingUpdate",
            rolling_update: RollingUpdate {
                max_unavailable: fleet.max_unavailable,
            },
        },
        template: PodTemplate {
            metadata: TemplateMeta { labels: labels() },
            spec: PodSpec {
                service_account_name: AGENT_NAME.to_owned(),
                automount_service_account_token: false,
                host_network: true,
                // The node's resolver: cluster DNS may not run yet.
                dns_policy: "Default",
                priority_class_name: "system-node-critical",
                // Enough for a pass in progress to finish and verify after SIGTERM.
                termination_grace_period_seconds: 60,
                node_selector,
                tolerations: fleet.tolerations.iter().map(toleration).collect(),
                containers: vec![Container {
                    name: "netc".to_owned(),
                    image: fleet.image.clone(),
                    command,
                    env: vec![EnvVar {
                        name: "NODE_NAME",
                        value_from: EnvSource {
                            field_ref: FieldRef {
                                field_path: "spec.nodeName",
                            },
                        },
                    }],
                    // Pod Security "restricted"-style hardening as far as the agent allows
                    // (it needs root and the capabilities above): no privilege gain through
                    // setuid files, nothing written outside the mounts (netc writes only
                    // under the hostPath mounts), and the runtime's default seccomp filter,
                    // which allows the module syscalls when SYS_MODULE is granted
                    // (containerd contrib/seccomp/seccomp_default.go, v1.7/v2.0).
                    security_context: SecurityContext {
                        privileged: false,
                        allow_privilege_escalation: false,
                        read_only_root_filesystem: true,
                        seccomp_profile: SeccompProfile {
                            kind: "RuntimeDefault",
                        },
                        capabilities: Capabilities {
                            drop: vec!["ALL"],
                            add,
                        },
                    },
                    readiness_probe: status(),
                    liveness_probe: liveness,
                    volume_mounts: mounts,
                }],
                volumes,
            },
        },
    }
}

fn toleration(t: &crate::plan::fleet::TolerationPlan) -> Toleration {
    Toleration {
        key: t.key.clone(),
        operator: t.operator.map(|o| match o {
            TolerationOperator::Equal => "Equal",
            TolerationOperator::Exists => "Exists",
        }),
        value: t.value.clone(),
        effect: t.effect.map(|e| match e {
            TaintEffect::NoSchedule => "NoSchedule",
            TaintEffect::PreferNoSchedule => "PreferNoSchedule",
            TaintEffect::NoExecute => "NoExecute",
        }),
        toleration_seconds: t.toleration_seconds,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    api_version: &'static str,
    kind: &'static str,
    metadata: ObjectMeta,
    #[serde(flatten)]
    body: Body,
}

#[derive(Serialize)]
#[serde(untagged, rename_all_fields = "camelCase")]
enum Body {
    None {},
    ServiceAccount {
        automount_service_account_token: bool,
    },
    ConfigMap {
        immutable: bool,
        /// Key → base64 (RFC 4648 standard alphabet, padded: how Kubernetes encodes a
        /// `[]byte` in JSON and YAML).
        binary_data: BTreeMap<String, String>,
    },
    DaemonSet {
        spec: Box<DaemonSetSpec>,
    },
}

#[derive(Serialize)]
struct ObjectMeta {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DaemonSetSpec {
    selector: LabelSelector,
    update_strategy: UpdateStrategy,
    template: PodTemplate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LabelSelector {
    match_labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStrategy {
    #[serde(rename = "type")]
    kind: &'static str,
    rolling_update: RollingUpdate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RollingUpdate {
    max_unavailable: u32,
}

#[derive(Serialize)]
struct PodTemplate {
    metadata: TemplateMeta,
    spec: PodSpec,
}

#[derive(Serialize)]
struct TemplateMeta {
    labels: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    service_account_name: String,
    automount_service_account_token: bool,
    host_network: bool,
    dns_policy: &'static str,
    priority_class_name: &'static str,
    termination_grace_period_seconds: u32,
    node_selector: BTreeMap<String, String>,
    tolerations: Vec<Toleration>,
    containers: Vec<Container>,
    volumes: Vec<Volume>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Toleration {
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operator: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    effect: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    toleration_seconds: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    name: String,
    image: String,
    command: Vec<String>,
    env: Vec<EnvVar>,
    security_context: SecurityContext,
    readiness_probe: Probe,
    liveness_probe: Probe,
    volume_mounts: Vec<VolumeMount>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvVar {
    name: &'static str,
    value_from: EnvSource,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvSource {
    field_ref: FieldRef,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldRef {
    field_path: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SecurityContext {
    privileged: bool,
    allow_privilege_escalation: bool,
    read_only_root_filesystem: bool,
    seccomp_profile: SeccompProfile,
    capabilities: Capabilities,
}

#[derive(Serialize)]
struct SeccompProfile {
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct Capabilities {
    drop: Vec<&'static str>,
    add: Vec<&'static str>,
}

#[derive(Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    exec: ExecAction,
    period_seconds: u32,
    timeout_seconds: u32,
    failure_threshold: u32,
}

#[derive(Clone, Serialize)]
struct ExecAction {
    command: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VolumeMount {
    name: String,
    mount_path: String,
    read_only: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Volume {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_path: Option<HostPathSource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config_map: Option<ConfigMapSource>,
}

#[derive(Serialize)]
struct HostPathSource {
    path: String,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Serialize)]
struct ConfigMapSource {
    name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outermost_drops_nested_directories_only() {
        let mut d = InstallDirs::default();
        for p in [
            "/etc/netc",
            "/etc/netc/kubeadm",
            "/etc/netcx",
            "/etc/cni/net.d",
        ] {
            d.dirs.insert(p.to_owned());
        }
        assert_eq!(d.outermost(), ["/etc/cni/net.d", "/etc/netc", "/etc/netcx"]);
    }

    #[test]
    fn volume_names_are_distinct_labels() {
        assert!(volume_name("/etc/cni/net.d").starts_with("etc-cni-net-d-"));
        assert!(volume_name("/run/xtables.lock").starts_with("run-xtables-lock-"));
        // Issue 17 item 8: paths the readable part cannot tell apart.
        let long = format!("/opt/{}", "d".repeat(70));
        let pairs = [
            ("/etc/a_b", "/etc/a-b"),
            ("/etc/a.b", "/etc/a-b"),
            (&*format!("{long}/x"), &*format!("{long}/y")),
            ("/", "/-"),
        ];
        for (a, b) in pairs {
            let (na, nb) = (volume_name(a), volume_name(b));
            assert_ne!(na, nb, "{a} {b}");
            for n in [na, nb] {
                assert!(crate::intent::values::is_dns1123_label(&n), "{n}");
                assert_ne!(n, "intent");
            }
        }
    }
}
