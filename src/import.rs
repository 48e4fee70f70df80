//! `netc import policies`: Kubernetes manifests (networking.k8s.io/v1 NetworkPolicies, and Pods,
//! Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs and Namespaces for the workloads) as
//! the intent's `policies:` and `workloads:`. Pure: text in, model out.
//!
//! Nothing is dropped: every NetworkPolicy becomes one named entry with its rules index for
//! index, and a field the intent cannot hold is an error naming the object and the field
//! (`spec.ingress[0].from[1].foo`). Field meanings are the API's (NetworkPolicySpec,
//! NetworkPolicyPeer, NetworkPolicyPort, IPBlock in kubernetes/kubernetes staging/src/k8s.io/
//! api/networking/v1/types.go): `policyTypes` defaults to Ingress plus Egress when the policy
//! has egress rules; a rule without `from`/`to` (or an empty list) admits every peer (the
//! intent's `from: []`); a port without `port` is every port of its protocol (`tcp`, emitted
//! again without `port`); `protocol` defaults to TCP. A CIDR with host bits set (the API server
//! accepts it) is kept as written, with a warning naming the object and the canonical form.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::Value;

use crate::intent::{
    Direction, EgressRule, IngressRule, NamespaceSelector, Peer, PeerList, Policy,
    SelectorExpression, Spanned, Text, Workload,
};

/// What an import yields: the intent's two lists, and warnings.
#[derive(Debug, Default)]
pub struct Imported {
    pub policies: Vec<Policy>,
    pub workloads: Vec<Workload>,
    pub warnings: Vec<String>,
    /// Objects of other kinds, skipped (`kind name`).
    pub skipped: Vec<String>,
}

/// A construct the intent cannot hold, or a manifest that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// `FILE: Kind namespace/name`.
    pub object: String,
    /// The field path inside the object (`spec.ingress[0].ports[1].port`), empty for the
    /// whole document.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.object, self.message)
        } else {
            write!(f, "{}: {}: {}", self.object, self.field, self.message)
        }
    }
}

fn t(s: &str) -> Text {
    Spanned::unspanned(s.to_owned())
}

// The API objects, as far as import reads them. Unknown fields inside a NetworkPolicy's spec
// are refused (an error names them), never ignored.

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ObjectMeta {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NpSpec {
    #[serde(default)]
    pod_selector: LabelSelector,
    #[serde(default)]
    policy_types: Option<Vec<String>>,
    #[serde(default)]
    ingress: Option<Vec<NpIngress>>,
    #[serde(default)]
    egress: Option<Vec<NpEgress>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LabelSelector {
    #[serde(default)]
    match_labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    match_expressions: Option<Vec<Requirement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Requirement {
    key: String,
    operator: String,
    #[serde(default)]
    values: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NpIngress {
    #[serde(default)]
    from: Option<Vec<NpPeer>>,
    #[serde(default)]
    ports: Option<Vec<NpPort>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NpEgress {
    #[serde(default)]
    to: Option<Vec<NpPeer>>,
    #[serde(default)]
    ports: Option<Vec<NpPort>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NpPeer {
    #[serde(default)]
    pod_selector: Option<LabelSelector>,
    #[serde(default)]
    namespace_selector: Option<LabelSelector>,
    #[serde(default)]
    ip_block: Option<NpIpBlock>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NpIpBlock {
    cidr: String,
    #[serde(default)]
    except: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NpPort {
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    port: Option<Value>,
    #[serde(default)]
    end_port: Option<u32>,
}

/// The object's name for messages: `FILE: Kind namespace/name`.
fn object_id(file: &str, kind: &str, meta: &ObjectMeta) -> String {
    let ns = meta.namespace.as_deref().unwrap_or("default");
    format!("{file}: {kind} {ns}/{}", meta.name)
}

struct Ctx<'a> {
    object: &'a str,
    errors: &'a mut Vec<ImportError>,
    warnings: &'a mut Vec<String>,
}

impl Ctx<'_> {
    fn error(&mut self, field: String, message: impl Into<String>) {
        self.errors.push(ImportError {
            object: self.object.to_owned(),
            field,
            message: message.into(),
        });
    }
}

fn labels(m: &BTreeMap<String, String>) -> BTreeMap<Text, Text> {
    m.iter().map(|(k, v)| (t(k), t(v))).collect()
}

fn expressions(list: &[Requirement]) -> Vec<SelectorExpression> {
    list.iter()
        .map(|r| SelectorExpression {
            key: t(&r.key),
            operator: t(&r.operator),
            values: r.values.iter().flatten().map(|v| t(v)).collect(),
        })
        .collect()
}

/// A CIDR as written (the intent keeps host bits as the API server does), with a warning
/// naming the canonical form when the manifest set host bits.
fn cidr(ctx: &mut Ctx<'_>, field: &str, text: &str) -> Option<Text> {
    match text.trim().parse::<IpNet>() {
        Ok(net) if net.trunc() == net => Some(t(text.trim())),
        Ok(net) => {
            ctx.warnings.push(format!(
                "{}: {field}: {text} has host bits set; kept as written (the API server keeps it), it matches {}",
                ctx.object,
                net.trunc()
            ));
            Some(t(text.trim()))
        }
        Err(_) => {
            ctx.error(field.to_owned(), format!("`{text}` is not a CIDR"));
            None
        }
    }
}

fn peer(ctx: &mut Ctx<'_>, field: &str, p: &NpPeer) -> Option<Peer> {
    if let Some(block) = &p.ip_block {
        if p.pod_selector.is_some() || p.namespace_selector.is_some() {
            ctx.error(
                field.to_owned(),
                "ipBlock beside a selector (the API server refuses it)",
            );
            return None;
        }
        let c = cidr(ctx, &format!("{field}.ipBlock.cidr"), &block.cidr)?;
        let mut except = Vec::new();
        for (i, e) in block.except.iter().flatten().enumerate() {
            except.push(cidr(ctx, &format!("{field}.ipBlock.except[{i}]"), e)?);
        }
        return Some(Peer {
            pods: None,
            pod_expressions: Vec::new(),
            namespace: None,
            cidr: Some(c),
            except,
        });
    }
    if p.pod_selector.is_none() && p.namespace_selector.is_none() {
        ctx.error(
            field.to_owned(),
            "an empty peer (the API server refuses it)",
        );
        return None;
    }
    let pods = p.pod_selector.as_ref();
    Some(Peer {
        // `podSelector: {}` = every pod: `pods: {}`.
        pods: pods.map(|s| labels(s.match_labels.as_ref().unwrap_or(&BTreeMap::new()))),
        pod_expressions: pods
            .and_then(|s| s.match_expressions.as_deref())
            .map(expressions)
            .unwrap_or_default(),
        namespace: p.namespace_selector.as_ref().map(|s| NamespaceSelector {
            name: None,
            labels: Some(labels(s.match_labels.as_ref().unwrap_or(&BTreeMap::new()))),
            expressions: s
                .match_expressions
                .as_deref()
                .map(expressions)
                .unwrap_or_default(),
        }),
        cidr: None,
        except: Vec::new(),
    })
}

fn peers(ctx: &mut Ctx<'_>, field: &str, list: Option<&[NpPeer]>) -> PeerList {
    // "If this field is empty or missing, this rule matches all sources/destinations."
    let list = list.unwrap_or_default();
    PeerList(Some(
        list.iter()
            .enumerate()
            .filter_map(|(i, p)| peer(ctx, &format!("{field}[{i}]"), p))
            .collect(),
    ))
}

fn port(ctx: &mut Ctx<'_>, field: &str, p: &NpPort) -> Option<Text> {
    let proto = match p.protocol.as_deref().unwrap_or("TCP") {
        "TCP" => "tcp",
        "UDP" => "udp",
        "SCTP" => "sctp",
        other => {
            ctx.error(
                format!("{field}.protocol"),
                format!("protocol `{other}` (TCP, UDP or SCTP)"),
            );
            return None;
        }
    };
    let text = match (&p.port, p.end_port) {
        // All ports of the protocol: the protocol alone, emitted again without `port`.
        (None | Some(Value::Null), None) => proto.to_owned(),
        (None | Some(Value::Null), Some(_)) => {
            ctx.error(format!("{field}.endPort"), "endPort without port");
            return None;
        }
        (Some(Value::Number(n)), end) => {
            let Some(n) = n.as_u64().filter(|n| (1..=65535).contains(n)) else {
                ctx.error(format!("{field}.port"), format!("port {n} is not 1-65535"));
                return None;
            };
            match end {
                Some(e) if u64::from(e) != n => format!("{proto}/{n}-{e}"),
                _ => format!("{proto}/{n}"),
            }
        }
        (Some(Value::String(name)), None) => match name.parse::<u16>() {
            Ok(n) => format!("{proto}/{n}"),
            Err(_) => format!("{proto}/{name}"),
        },
        (Some(Value::String(_)), Some(_)) => {
            ctx.error(
                format!("{field}.endPort"),
                "endPort with a named port (the API server refuses it)",
            );
            return None;
        }
        (Some(other), _) => {
            ctx.error(
                format!("{field}.port"),
                format!("`{other}` is neither a number nor a port name"),
            );
            return None;
        }
    };
    Some(t(&text))
}

fn ports(ctx: &mut Ctx<'_>, field: &str, list: Option<&[NpPort]>) -> Vec<Text> {
    list.unwrap_or_default()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| port(ctx, &format!("{field}[{i}]"), p))
        .collect()
}

fn network_policy(ctx: &mut Ctx<'_>, meta: &ObjectMeta, spec: &NpSpec) -> Policy {
    let mut types = Vec::new();
    match &spec.policy_types {
        Some(list) => {
            for (i, ty) in list.iter().enumerate() {
                match ty.as_str() {
                    "Ingress" => types.push(Spanned::unspanned(Direction::Ingress)),
                    "Egress" => types.push(Spanned::unspanned(Direction::Egress)),
                    other => ctx.error(
                        format!("spec.policyTypes[{i}]"),
                        format!("`{other}` is not Ingress or Egress"),
                    ),
                }
            }
        }
        None => {
            types.push(Spanned::unspanned(Direction::Ingress));
            if spec.egress.as_ref().is_some_and(|e| !e.is_empty()) {
                types.push(Spanned::unspanned(Direction::Egress));
            }
        }
    }
    let sel = &spec.pod_selector;
    let rules = spec
        .ingress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| IngressRule {
            name: None,
            to: None,
            to_expressions: Vec::new(),
            from: peers(ctx, &format!("spec.ingress[{i}].from"), r.from.as_deref()),
            ports: ports(ctx, &format!("spec.ingress[{i}].ports"), r.ports.as_deref()),
        })
        .collect();
    let egress = spec
        .egress
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| EgressRule {
            name: None,
            from: None,
            from_expressions: Vec::new(),
            to: peers(ctx, &format!("spec.egress[{i}].to"), r.to.as_deref()),
            ports: ports(ctx, &format!("spec.egress[{i}].ports"), r.ports.as_deref()),
        })
        .collect();
    Policy {
        namespace: t(meta.namespace.as_deref().unwrap_or("default")),
        name: Some(t(&meta.name)),
        pod_selector: sel
            .match_labels
            .as_ref()
            .filter(|m| !m.is_empty())
            .map(labels),
        pod_expressions: sel
            .match_expressions
            .as_deref()
            .map(expressions)
            .unwrap_or_default(),
        policy_types: types,
        default_deny: Vec::new(),
        allow_dns: None,
        rules,
        egress,
        lint: None,
    }
}

/// The pod template of a workload object (`spec.template` or, for a Pod, the object).
fn workload(ctx: &mut Ctx<'_>, meta: &ObjectMeta, pod_meta: &Value, pod_spec: &Value) -> Workload {
    let pod_labels: BTreeMap<String, String> = pod_meta
        .get("labels")
        .and_then(|l| serde_json::from_value(l.clone()).ok())
        .unwrap_or_default();
    let mut ports = BTreeMap::new();
    let containers = pod_spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .chain(
            pod_spec
                .get("initContainers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    for c in containers {
        for p in c
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(name), Some(number)) = (
                p.get("name").and_then(Value::as_str),
                p.get("containerPort").and_then(Value::as_u64),
            ) else {
                continue;
            };
            let proto = p
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or("TCP")
                .to_ascii_lowercase();
            ports.insert(t(name), t(&format!("{proto}/{number}")));
        }
    }
    let host_network = pod_spec
        .get("hostNetwork")
        .and_then(Value::as_bool)
        .filter(|h| *h)
        .map(Spanned::unspanned);
    if meta.name.is_empty() {
        ctx.error("metadata.name".to_owned(), "no name");
    }
    Workload {
        namespace: t(meta.namespace.as_deref().unwrap_or("default")),
        name: t(&meta.name),
        labels: labels(&pod_labels),
        namespace_labels: BTreeMap::new(),
        ports,
        host_network,
        node: None,
    }
}

/// Reads one manifest file's documents (YAML streams, JSON, `List`s) into `out`.
pub fn add_file(
    out: &mut Imported,
    errors: &mut Vec<ImportError>,
    namespaces: &mut BTreeMap<String, BTreeMap<String, String>>,
    file: &str,
    text: &str,
) {
    let docs: Vec<Value> = match serde_saphyr::from_multiple::<Value>(text) {
        Ok(docs) => docs,
        Err(e) => {
            errors.push(ImportError {
                object: file.to_owned(),
                field: String::new(),
                message: format!("not YAML: {e}"),
            });
            return;
        }
    };
    for doc in docs {
        add_object(out, errors, namespaces, file, &doc);
    }
}

fn add_object(
    out: &mut Imported,
    errors: &mut Vec<ImportError>,
    namespaces: &mut BTreeMap<String, BTreeMap<String, String>>,
    file: &str,
    doc: &Value,
) {
    if doc.is_null() {
        return;
    }
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let meta: ObjectMeta = doc
        .get("metadata")
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default();
    let object = object_id(file, kind, &meta);
    let mut ctx = Ctx {
        object: &object,
        errors,
        warnings: &mut out.warnings,
    };
    match kind {
        "List" | "PodList" | "NamespaceList" | "NetworkPolicyList" | "DeploymentList" => {
            for item in doc
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                // Items of a typed list may leave out their kind.
                let mut item = item.clone();
                if item.get("kind").is_none()
                    && let (Some(k), Some(obj)) = (kind.strip_suffix("List"), item.as_object_mut())
                    && !k.is_empty()
                {
                    obj.insert("kind".to_owned(), Value::String(k.to_owned()));
                }
                add_object(out, errors, namespaces, file, &item);
            }
        }
        "NetworkPolicy" => {
            let api = doc.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if api != "networking.k8s.io/v1" {
                ctx.error(
                    "apiVersion".to_owned(),
                    format!("`{api}`: only networking.k8s.io/v1 NetworkPolicies"),
                );
                return;
            }
            let spec = doc
                .get("spec")
                .cloned()
                .unwrap_or(Value::Object(Default::default()));
            match serde_json::from_value::<NpSpec>(spec) {
                Ok(spec) => {
                    let before = ctx.errors.len();
                    let p = network_policy(&mut ctx, &meta, &spec);
                    if ctx.errors.len() == before {
                        out.policies.push(p);
                    }
                }
                Err(e) => ctx.error("spec".to_owned(), e.to_string()),
            }
        }
        "Pod" => {
            let spec = doc.get("spec").cloned().unwrap_or_default();
            let meta_v = doc.get("metadata").cloned().unwrap_or_default();
            let w = workload(&mut ctx, &meta, &meta_v, &spec);
            out.workloads.push(w);
        }
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            let template = doc.pointer("/spec/template").cloned().unwrap_or_default();
            let pod_meta = template.get("metadata").cloned().unwrap_or_default();
            let pod_spec = template.get("spec").cloned().unwrap_or_default();
            let w = workload(&mut ctx, &meta, &pod_meta, &pod_spec);
            out.workloads.push(w);
        }
        "Namespace" => {
            namespaces.insert(meta.name.clone(), meta.labels.clone());
        }
        _ => out.skipped.push(format!("{kind} {}", meta.name)),
    }
}

/// Every file's objects, then the namespaces' labels given to their workloads (beside the
/// `kubernetes.io/metadata.name` label Kubernetes adds, which netc knows).
pub fn import(files: &[(String, String)]) -> Result<Imported, Vec<ImportError>> {
    let mut out = Imported::default();
    let mut errors = Vec::new();
    let mut namespaces = BTreeMap::new();
    for (file, text) in files {
        add_file(&mut out, &mut errors, &mut namespaces, file, text);
    }
    for w in &mut out.workloads {
        if let Some(l) = namespaces.get(&w.namespace.value) {
            w.namespace_labels = l
                .iter()
                .filter(|(k, _)| k.as_str() != crate::plan::NAMESPACE_NAME_LABEL)
                .map(|(k, v)| (t(k), t(v)))
                .collect();
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// The intent fragment: `policies:` and `workloads:`, as YAML.
pub fn render(imported: &Imported) -> Result<String, String> {
    #[derive(serde::Serialize)]
    struct Fragment<'a> {
        #[serde(skip_serializing_if = "<[Policy]>::is_empty")]
        policies: &'a [Policy],
        #[serde(skip_serializing_if = "<[Workload]>::is_empty")]
        workloads: &'a [Workload],
    }
    serde_saphyr::to_string(&Fragment {
        policies: &imported.policies,
        workloads: &imported.workloads,
    })
    .map_err(|e| e.to_string())
}
