//! The NetworkPolicy objects (networking.k8s.io/v1) an intent's policy entry stands for, and
//! the intent value each comes from: what `emit::policies` writes, and what `validate` and
//! `explain` evaluate. An unnamed entry is, in a fixed order, `default-deny-ingress`,
//! `default-deny-egress`, `allow-dns`, then one policy per intent rule (named after it),
//! ingress rules first; a named entry is exactly one policy of its name with all its rules and
//! `policyTypes`.
//!
//! Only a denied direction gets the DNS allowance: a policy that selects pods for egress
//! isolates them, so an `allow-dns` without `default-deny-egress` would itself deny egress.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::intent::Span;
use crate::intent::values::{PolicyPort, Protocol};
use crate::plan::{
    NAMESPACE_NAME_LABEL, ObjectPlan, PeerPlan, Peers, PolicyPlan, PolicyRulePlan, Selector,
};

/// The namespace and labels of cluster DNS pods (the Plan's CoreDNS workload).
pub const DNS_NAMESPACE: &str = crate::plan::SYSTEM_NAMESPACE;
/// Marks every object netc writes.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "netc");

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkPolicy {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: Spec,
}

#[derive(Clone, Debug, Serialize)]
pub struct Metadata {
    pub name: String,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    pub pod_selector: LabelSelector,
    pub policy_types: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress: Vec<IngressRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub egress: Vec<EgressRule>,
}

/// `matchLabels` and `matchExpressions`; an empty selector (`{}`) selects every pod.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One `matchExpressions` entry (meta/v1 LabelSelectorRequirement).
#[derive(Clone, Debug, Serialize)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IngressRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<Peer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EgressRule {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Peer>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<Port>,
}

#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Peer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace_selector: Option<LabelSelector>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_block: Option<IpBlock>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IpBlock {
    pub cidr: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Port {
    pub protocol: &'static str,
    /// `None`: every port of the protocol (the intent's `tcp`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<PortValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_port: Option<u16>,
}

/// IntOrString: a number, or a named container port.
#[derive(Clone, Debug, Serialize)]
#[serde(untagged)]
pub enum PortValue {
    Number(u16),
    Name(String),
}

/// Every policy of one intent entry, in file order.
pub fn policies(p: &PolicyPlan) -> Vec<NetworkPolicy> {
    sourced_policies(p).into_iter().map(|s| s.policy).collect()
}

/// An emitted policy and the intent value it comes from (a rule's name, `defaultDeny`,
/// `allowDNS`): what `explain` evaluates and cites.
#[derive(Clone, Debug)]
pub struct SourcedPolicy {
    pub policy: NetworkPolicy,
    pub span: Span,
    /// Per emitted ingress / egress rule, the intent rule it comes from.
    pub rule_spans: [Vec<Span>; 2],
}

/// [`policies`] with the span each policy comes from.
pub fn sourced_policies(p: &PolicyPlan) -> Vec<SourcedPolicy> {
    let policy = |name: &str, span: Span, selector: LabelSelector, spec: SpecParts| {
        sourced(p, name, span, selector, spec)
    };
    if let Some(object) = &p.object {
        return vec![named_policy(p, object)];
    }
    let mut out = Vec::new();
    if p.deny_ingress {
        out.push(policy(
            "default-deny-ingress",
            p.spans.deny_ingress,
            LabelSelector::default(),
            SpecParts::ingress(Vec::new()),
        ));
    }
    if p.deny_egress {
        out.push(policy(
            "default-deny-egress",
            p.spans.deny_egress,
            LabelSelector::default(),
            SpecParts::egress(Vec::new()),
        ));
        if p.allow_dns {
            out.push(policy(
                "allow-dns",
                p.spans.allow_dns,
                LabelSelector::default(),
                SpecParts::egress(vec![dns_rule(p.dns_label)]),
            ));
        }
    }
    for rule in &p.ingress {
        // An absent `from` means nobody (the intent's contract): a policy with no rules, which
        // isolates the pods. `from: []` means anyone: a rule without `from` ("If this field is
        // empty or missing, this rule matches all sources", NetworkPolicyIngressRule in
        // kubernetes/kubernetes staging/src/k8s.io/api/networking/v1/types.go), ports kept.
        let rules = match &rule.peers {
            Peers::Only(list) if list.is_empty() => Vec::new(),
            _ => vec![IngressRule {
                from: peers(rule),
                ports: ports(rule),
            }],
        };
        out.push(policy(
            &rule.name,
            rule.span,
            selector(&rule.selector),
            SpecParts::ingress(rules),
        ));
    }
    for rule in &p.egress {
        // The same for egress: "If this field is empty or missing, this rule matches all
        // destinations" (NetworkPolicyEgressRule.to).
        let rules = match &rule.peers {
            Peers::Only(list) if list.is_empty() => Vec::new(),
            _ => vec![EgressRule {
                to: peers(rule),
                ports: ports(rule),
            }],
        };
        out.push(policy(
            &rule.name,
            rule.span,
            selector(&rule.selector),
            SpecParts::egress(rules),
        ));
    }
    out
}

/// One policy of entry `p`, citing `span` for every rule.
fn sourced(
    p: &PolicyPlan,
    name: &str,
    span: Span,
    selector: LabelSelector,
    spec: SpecParts,
) -> SourcedPolicy {
    SourcedPolicy {
        span,
        rule_spans: [
            vec![span; spec.ingress.len()],
            vec![span; spec.egress.len()],
        ],
        policy: NetworkPolicy {
            api_version: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: Metadata {
                name: name.to_owned(),
                namespace: p.namespace.clone(),
                labels: BTreeMap::from([(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned())]),
            },
            spec: Spec {
                pod_selector: selector,
                policy_types: spec.types,
                ingress: spec.ingress,
                egress: spec.egress,
            },
        },
    }
}

/// A named entry: one object with every rule of the entry.
fn named_policy(p: &PolicyPlan, object: &ObjectPlan) -> SourcedPolicy {
    // A named entry is one object. A rule without peers cannot occur here (`check`
    // refuses it), so every intent rule is one emitted rule, index for index.
    let ingress: Vec<&PolicyRulePlan> = p.ingress.iter().filter(|r| admits(r)).collect();
    let egress: Vec<&PolicyRulePlan> = p.egress.iter().filter(|r| admits(r)).collect();
    let mut types = Vec::new();
    if object.ingress {
        types.push("Ingress");
    }
    if object.egress {
        types.push("Egress");
    }
    let mut s = sourced(
        p,
        &object.name,
        object.span,
        selector(&object.selector),
        SpecParts {
            types,
            ingress: ingress
                .iter()
                .map(|r| IngressRule {
                    from: peers(r),
                    ports: ports(r),
                })
                .collect(),
            egress: egress
                .iter()
                .map(|r| EgressRule {
                    to: peers(r),
                    ports: ports(r),
                })
                .collect(),
        },
    );
    s.rule_spans = [
        ingress.iter().map(|r| r.span).collect(),
        egress.iter().map(|r| r.span).collect(),
    ];
    s
}

struct SpecParts {
    types: Vec<&'static str>,
    ingress: Vec<IngressRule>,
    egress: Vec<EgressRule>,
}

impl SpecParts {
    fn ingress(ingress: Vec<IngressRule>) -> Self {
        SpecParts {
            types: vec!["Ingress"],
            ingress,
            egress: Vec::new(),
        }
    }

    fn egress(egress: Vec<EgressRule>) -> Self {
        SpecParts {
            types: vec!["Egress"],
            ingress: Vec::new(),
            egress,
        }
    }
}

/// Whether a rule admits anyone (its peer key is present).
fn admits(rule: &PolicyRulePlan) -> bool {
    !matches!(&rule.peers, Peers::Only(list) if list.is_empty())
}

fn selector(s: &Selector) -> LabelSelector {
    LabelSelector {
        match_labels: s.labels.clone(),
        match_expressions: s
            .expressions
            .iter()
            .map(|r| LabelSelectorRequirement {
                key: r.key.clone(),
                operator: r.operator.as_str(),
                values: r.values.clone(),
            })
            .collect(),
    }
}

fn label_selector(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: labels,
        match_expressions: Vec::new(),
    }
}

/// Egress to CoreDNS on its port (`plan::DNS_PORT`, UDP and TCP), selected by the distribution's CoreDNS label.
fn dns_rule(label: (&str, &str)) -> EgressRule {
    let ns = BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), DNS_NAMESPACE.to_owned())]);
    EgressRule {
        to: vec![Peer {
            pod_selector: Some(label_selector(BTreeMap::from([(
                label.0.to_owned(),
                label.1.to_owned(),
            )]))),
            namespace_selector: Some(label_selector(ns)),
            ip_block: None,
        }],
        ports: [Protocol::Udp, Protocol::Tcp]
            .into_iter()
            .map(|protocol| Port {
                protocol: protocol_name(protocol),
                port: Some(PortValue::Number(crate::plan::DNS_PORT)),
                end_port: None,
            })
            .collect(),
    }
}

/// The emitted peer list; empty (no `from`/`to` key) for `Peers::Anyone`.
fn peers(rule: &PolicyRulePlan) -> Vec<Peer> {
    let Peers::Only(list) = &rule.peers else {
        return Vec::new();
    };
    list.iter()
        .map(|peer| match peer {
            PeerPlan::Pods { pods, namespaces } => Peer {
                // A peer must select something: neither selector means every pod of the
                // policy's own namespace.
                pod_selector: match (pods, namespaces) {
                    (Some(p), _) => Some(selector(p)),
                    (None, None) => Some(LabelSelector::default()),
                    (None, Some(_)) => None,
                },
                namespace_selector: namespaces.as_ref().map(selector),
                ip_block: None,
            },
            PeerPlan::Block { cidr, except } => Peer {
                ip_block: Some(IpBlock {
                    cidr: cidr.to_string(),
                    except: except.iter().map(ToString::to_string).collect(),
                }),
                ..Peer::default()
            },
        })
        .collect()
}

fn ports(rule: &PolicyRulePlan) -> Vec<Port> {
    rule.ports
        .iter()
        .map(|p| match p {
            PolicyPort::Numeric(r) => Port {
                protocol: protocol_name(r.protocol),
                port: Some(PortValue::Number(r.first)),
                end_port: (r.last != r.first).then_some(r.last),
            },
            PolicyPort::Named { protocol, name } => Port {
                protocol: protocol_name(*protocol),
                port: Some(PortValue::Name(name.clone())),
                end_port: None,
            },
            // No `port`, no `endPort`: not `1-65535`, which a CNI without `endPort` support
            // would read as port 1 alone.
            PolicyPort::All(protocol) => Port {
                protocol: protocol_name(*protocol),
                port: None,
                end_port: None,
            },
        })
        .collect()
}

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Sctp => "SCTP",
    }
}
