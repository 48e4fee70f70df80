//! NetworkPolicy intent in plain form, and ([`objects`]) the NetworkPolicy objects it stands
//! for: what the policy emitter, `validate` and `explain` read.
//!
//! Label selectors follow the Kubernetes label-selector rules (kubernetes.io/docs/concepts/
//! overview/working-with-objects/labels/#label-selectors, and LabelSelector in kubernetes/
//! kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/types.go): `matchLabels` and
//! every `matchExpressions` requirement are ANDed; an empty selector matches every object;
//! `In` needs the key present with one of the values, `NotIn` the key absent or none of the
//! values, `Exists` the key present, `DoesNotExist` the key absent.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Serialize;

pub mod objects;

use crate::intent::values::{self, PolicyPort};
use crate::intent::{Direction, Labels, Peer, PeerList, Policy, SelectorExpression, Span, Text};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyPlan {
    pub namespace: String,
    /// `Some` for a named entry: the one NetworkPolicy it is.
    pub object: Option<ObjectPlan>,
    /// Where each generated policy comes from in the intent, for `explain` and lint.
    #[serde(skip)]
    pub spans: PolicySpans,
    pub deny_ingress: bool,
    pub deny_egress: bool,
    /// Whether egress to cluster DNS is allowed (default: whenever egress is denied).
    pub allow_dns: bool,
    /// The label the DNS allowance selects CoreDNS pods by: the distribution's own
    /// (`Profile::dns_label`).
    pub dns_label: (&'static str, &'static str),
    pub ingress: Vec<PolicyRulePlan>,
    pub egress: Vec<PolicyRulePlan>,
}

/// A named entry: one NetworkPolicy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObjectPlan {
    pub name: String,
    #[serde(skip)]
    pub span: Span,
    pub selector: Selector,
    /// `policyTypes`: Ingress, Egress.
    pub ingress: bool,
    pub egress: bool,
}

/// Intent spans of one policy entry (default spans when netc supplied the value).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PolicySpans {
    pub namespace: Span,
    pub deny_ingress: Span,
    pub deny_egress: Span,
    /// `allowDNS`, or the `egress` entry of `defaultDeny` when DNS is allowed by default.
    pub allow_dns: Span,
}

/// One allowance: the selected pods, their peers and the ports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyRulePlan {
    /// The rule's `name`; in a named entry without one, `ingress rule N` / `egress rule N`.
    pub name: String,
    /// The rule's `name` in the intent (its first key when it has no name).
    #[serde(skip)]
    pub span: Span,
    /// The pods the rule is about (empty = all pods of the namespace); in a named entry, the
    /// policy's selector.
    pub selector: Selector,
    pub peers: Peers,
    #[serde(skip)]
    pub ports: Vec<PolicyPort>,
}

/// Who a rule admits.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Peers {
    /// `from: []` / `to: []`: every source or destination (the emitted rule has no peer list).
    Anyone,
    /// The listed peers; an empty list (the key absent) admits nobody.
    Only(Vec<PeerPlan>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum PeerPlan {
    /// Pods matching `pods` in namespaces matching `namespaces` (`None` = the policy's own).
    Pods {
        pods: Option<Selector>,
        namespaces: Option<Selector>,
    },
    Block {
        cidr: IpNet,
        except: Vec<IpNet>,
    },
}

/// A label selector operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

impl Operator {
    /// The API's spelling (case-sensitive, as the API server compares it).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Operator::In => "In",
            Operator::NotIn => "NotIn",
            Operator::Exists => "Exists",
            Operator::DoesNotExist => "DoesNotExist",
        }
    }

    /// Whether the operator takes `values` (In, NotIn) or forbids them.
    pub fn takes_values(self) -> bool {
        matches!(self, Operator::In | Operator::NotIn)
    }
}

/// One `matchExpressions` requirement.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

impl Requirement {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let v = labels.get(&self.key);
        match self.operator {
            Operator::In => v.is_some_and(|v| self.values.contains(v)),
            Operator::NotIn => v.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => v.is_some(),
            Operator::DoesNotExist => v.is_none(),
        }
    }

    fn as_ref(&self) -> ReqRef<'_> {
        ReqRef {
            key: &self.key,
            operator: self.operator,
            values: &self.values,
        }
    }
}

/// A requirement, borrowed (a `matchLabels` pair is `In` with its one value).
#[derive(Clone, Copy)]
struct ReqRef<'a> {
    key: &'a str,
    operator: Operator,
    values: &'a [String],
}

impl ReqRef<'_> {
    /// Whether every label set this requirement matches, `other` matches too (sound, not
    /// complete: `false` when unsure).
    fn implies(&self, other: &ReqRef<'_>) -> bool {
        if self.key != other.key {
            return false;
        }
        let subset = |a: &[String], b: &[String]| a.iter().all(|x| b.contains(x));
        let disjoint = |a: &[String], b: &[String]| !a.iter().any(|x| b.contains(x));
        match (self.operator, other.operator) {
            (Operator::In, Operator::In) => subset(self.values, other.values),
            (Operator::In, Operator::NotIn) => disjoint(self.values, other.values),
            (Operator::In, Operator::Exists) => !self.values.is_empty(),
            (Operator::NotIn, Operator::NotIn) => subset(other.values, self.values),
            (Operator::DoesNotExist, Operator::NotIn | Operator::DoesNotExist) => true,
            (Operator::Exists, Operator::Exists) => true,
            _ => false,
        }
    }
}

/// A label selector: `matchLabels` and `matchExpressions`, ANDed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Selector {
    pub labels: BTreeMap<String, String>,
    pub expressions: Vec<Requirement>,
}

impl Selector {
    pub fn from_labels(labels: BTreeMap<String, String>) -> Self {
        Selector {
            labels,
            expressions: Vec::new(),
        }
    }

    /// No requirement: matches every object.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.expressions.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|r| r.matches(labels))
    }

    /// Every requirement, `matchLabels` pairs as `In` with one value (borrowed: `covers` runs
    /// for every pair of rules of a namespace).
    fn requirements(&self) -> impl Iterator<Item = ReqRef<'_>> + Clone {
        self.labels
            .iter()
            .map(|(k, v)| ReqRef {
                key: k,
                operator: Operator::In,
                values: std::slice::from_ref(v),
            })
            .chain(self.expressions.iter().map(Requirement::as_ref))
    }

    /// Whether every label set `other` matches, `self` matches too (`self` is at least as
    /// broad). Sound, not complete: each of `self`'s requirements must follow from one of
    /// `other`'s.
    pub fn covers(&self, other: &Selector) -> bool {
        let theirs = other.requirements();
        self.requirements()
            .all(|mine| theirs.clone().any(|t| t.implies(&mine)))
    }

    /// The `In` requirements (`matchLabels` pairs with their one value), as key and values.
    pub fn in_requirements(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.requirements()
            .filter(|r| r.operator == Operator::In)
            .map(|r| (r.key, r.values))
    }

    /// The first `In` requirement: `self.covers(other)` needs `other` to have an `In`
    /// requirement on the same key whose values all lie in these (only `In` implies `In`,
    /// `ReqRef::implies`), so an index on it finds the selectors that may cover one without
    /// trying every pair. `None`: no `In` requirement, `self` may cover anything.
    pub fn anchor(&self) -> Option<(&str, &[String])> {
        self.in_requirements().next()
    }

    /// `app=web,tier in (a,b),!legacy`: the kubectl selector syntax, for messages.
    pub fn text(&self) -> String {
        let mut parts: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        for r in &self.expressions {
            parts.push(match r.operator {
                Operator::In => format!("{} in ({})", r.key, r.values.join(",")),
                Operator::NotIn => format!("{} notin ({})", r.key, r.values.join(",")),
                Operator::Exists => r.key.clone(),
                Operator::DoesNotExist => format!("!{}", r.key),
            });
        }
        parts.join(",")
    }
}

/// The label Kubernetes puts on every namespace with its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn labels(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

/// A selector from the intent's labels and expressions (an expression whose operator does not
/// parse is left out: `validate` reports it, and nothing is built from such an intent).
pub fn selector(l: Option<&Labels>, expressions: &[SelectorExpression]) -> Selector {
    Selector {
        labels: l.map(labels).unwrap_or_default(),
        expressions: expressions
            .iter()
            .filter_map(|e| {
                Some(Requirement {
                    key: e.key.value.clone(),
                    operator: Operator::parse(&e.operator.value)?,
                    values: e.values.iter().map(|v| v.value.clone()).collect(),
                })
            })
            .collect(),
    }
}

/// The pod and namespace selectors of a non-ipBlock peer (`None`: not given).
pub fn peer_selectors(p: &Peer) -> (Option<Selector>, Option<Selector>) {
    let pods = (p.pods.is_some() || !p.pod_expressions.is_empty())
        .then(|| selector(p.pods.as_ref(), &p.pod_expressions));
    let namespaces = p.namespace.as_ref().map(|ns| {
        let mut sel = selector(ns.labels.as_ref(), &ns.expressions);
        if let Some(name) = &ns.name {
            sel.labels
                .insert(NAMESPACE_NAME_LABEL.to_owned(), name.value.clone());
        }
        sel
    });
    (pods, namespaces)
}

/// The first span a peer offers.
fn peer_span(p: &Peer) -> Option<Span> {
    p.cidr
        .as_ref()
        .map(|c| c.span)
        .or_else(|| p.pods.as_ref()?.keys().next().map(|k| k.span))
        .or_else(|| p.pod_expressions.first().map(|e| e.key.span))
        .or_else(|| {
            let ns = p.namespace.as_ref()?;
            ns.name
                .as_ref()
                .map(|n| n.span)
                .or_else(|| ns.labels.as_ref()?.keys().next().map(|k| k.span))
                .or_else(|| ns.expressions.first().map(|e| e.key.span))
        })
}

fn peer(p: &Peer) -> Option<PeerPlan> {
    if let Some(cidr) = &p.cidr {
        return Some(PeerPlan::Block {
            // As written (host bits kept, for the emitted object); it matches its network.
            cidr: values::parse_block(cidr).ok()?,
            except: p
                .except
                .iter()
                .filter_map(|e| values::parse_block(e).ok())
                .collect(),
        });
    }
    let (pods, namespaces) = peer_selectors(p);
    Some(PeerPlan::Pods { pods, namespaces })
}

fn peers(list: &PeerList) -> Peers {
    if list.is_everyone() {
        Peers::Anyone
    } else {
        Peers::Only(list.iter().filter_map(peer).collect())
    }
}

fn ports(texts: &[Text]) -> Vec<PolicyPort> {
    texts
        .iter()
        .filter_map(|t| values::parse_policy_port(t).ok())
        .collect()
}

/// The name of a policy rule: its own, else its place in a named entry.
pub fn rule_name(name: Option<&Text>, dir: Direction, index: usize) -> String {
    match name {
        Some(n) => n.value.clone(),
        None => match dir {
            Direction::Ingress => format!("ingress rule {}", index + 1),
            Direction::Egress => format!("egress rule {}", index + 1),
        },
    }
}

/// The directions a named entry isolates: `policyTypes`, else Kubernetes' default (Ingress,
/// plus Egress when there are egress rules: NetworkPolicySpec.policyTypes in kubernetes/
/// kubernetes staging/src/k8s.io/api/networking/v1/types.go).
pub fn policy_types(p: &Policy) -> (bool, bool) {
    if p.policy_types.is_empty() {
        (true, !p.egress.is_empty())
    } else {
        let has = |d| p.policy_types.iter().any(|t| t.value == d);
        (has(Direction::Ingress), has(Direction::Egress))
    }
}

pub(super) fn lower(
    policies: &[Policy],
    dns_label: (&'static str, &'static str),
) -> Vec<PolicyPlan> {
    policies.iter().map(|p| lower_one(p, dns_label)).collect()
}

fn lower_one(p: &Policy, dns_label: (&'static str, &'static str)) -> PolicyPlan {
    let deny = |dir| {
        p.default_deny
            .iter()
            .find(|d| d.value == dir)
            .map(|d| d.span)
    };
    let (deny_ingress, deny_egress) = (deny(Direction::Ingress), deny(Direction::Egress));
    let object = p.name.as_ref().map(|name| {
        let (ingress, egress) = policy_types(p);
        ObjectPlan {
            name: name.value.clone(),
            span: name.span,
            selector: selector(p.pod_selector.as_ref(), &p.pod_expressions),
            ingress,
            egress,
        }
    });
    let fallback = object.as_ref().map_or(p.namespace.span, |o| o.span);
    // A rule without a name points at its first port or peer.
    let rule_span = |name: Option<&Text>, peers: &PeerList, ports: &[Text]| {
        name.map(|n| n.span)
            .or_else(|| ports.first().map(|t| t.span))
            .or_else(|| peers.iter().find_map(peer_span))
            .unwrap_or(fallback)
    };
    PolicyPlan {
        namespace: p.namespace.value.clone(),
        spans: PolicySpans {
            namespace: p.namespace.span,
            deny_ingress: deny_ingress.unwrap_or_default(),
            deny_egress: deny_egress.unwrap_or_default(),
            allow_dns: p
                .allow_dns
                .as_ref()
                .map(|a| a.span)
                .or(deny_egress)
                .unwrap_or_default(),
        },
        deny_ingress: deny_ingress.is_some(),
        deny_egress: deny_egress.is_some(),
        allow_dns: p
            .allow_dns
            .as_ref()
            .map_or(deny_egress.is_some(), |a| a.value),
        dns_label,
        ingress: p
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| PolicyRulePlan {
                name: rule_name(r.name.as_ref(), Direction::Ingress, i),
                span: rule_span(r.name.as_ref(), &r.from, &r.ports),
                selector: match &object {
                    Some(o) => o.selector.clone(),
                    None => selector(r.to.as_ref(), &r.to_expressions),
                },
                peers: peers(&r.from),
                ports: ports(&r.ports),
            })
            .collect(),
        egress: p
            .egress
            .iter()
            .enumerate()
            .map(|(i, r)| PolicyRulePlan {
                name: rule_name(r.name.as_ref(), Direction::Egress, i),
                span: rule_span(r.name.as_ref(), &r.to, &r.ports),
                selector: match &object {
                    Some(o) => o.selector.clone(),
                    None => selector(r.from.as_ref(), &r.from_expressions),
                },
                peers: peers(&r.to),
                ports: ports(&r.ports),
            })
            .collect(),
        object,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.to_owned(),
            operator,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// Truth table per operator: present / absent key, value in / not in the set (the
    /// Kubernetes label-selector documentation, "Set-based requirement": `In` and `NotIn` on a
    /// set of values, `NotIn` also matching objects without the key; `Exists` / `!key`).
    #[test]
    fn operators_follow_the_label_selector_documentation() {
        use Operator::*;
        type Row<'a> = (Requirement, &'a [(&'a str, &'a str)], bool);
        let rows: &[Row<'_>] = &[
            (req("env", In, &["prod", "qa"]), &[("env", "prod")], true),
            (req("env", In, &["prod", "qa"]), &[("env", "dev")], false),
            (req("env", In, &["prod", "qa"]), &[], false),
            (req("env", In, &["prod"]), &[("env", "")], false),
            (req("env", In, &[""]), &[("env", "")], true),
            (req("env", NotIn, &["prod", "qa"]), &[("env", "dev")], true),
            (req("env", NotIn, &["prod", "qa"]), &[("env", "qa")], false),
            (req("env", NotIn, &["prod", "qa"]), &[], true),
            (req("env", NotIn, &["prod"]), &[("app", "x")], true),
            (req("env", Exists, &[]), &[("env", "")], true),
            (req("env", Exists, &[]), &[("env", "prod")], true),
            (req("env", Exists, &[]), &[("app", "x")], false),
            (req("env", DoesNotExist, &[]), &[], true),
            (req("env", DoesNotExist, &[]), &[("env", "")], false),
            (req("env", DoesNotExist, &[]), &[("app", "x")], true),
        ];
        for (i, (r, labels, want)) in rows.iter().enumerate() {
            assert_eq!(r.matches(&l(labels)), *want, "row {i}: {r:?} on {labels:?}");
        }
        // matchLabels and matchExpressions are ANDed; the empty selector matches everything.
        let s = Selector {
            labels: l(&[("app", "web")]),
            expressions: vec![req("tier", NotIn, &["db"])],
        };
        assert!(s.matches(&l(&[("app", "web")])));
        assert!(!s.matches(&l(&[("app", "web"), ("tier", "db")])));
        assert!(!s.matches(&l(&[("tier", "front")])));
        assert!(Selector::default().matches(&l(&[])));
    }

    #[test]
    fn covers_is_sound() {
        use Operator::*;
        let sel = |labels: &[(&str, &str)], e: Vec<Requirement>| Selector {
            labels: l(labels),
            expressions: e,
        };
        assert!(sel(&[], vec![req("env", Exists, &[])]).covers(&sel(&[("env", "a")], vec![])));
        assert!(sel(&[], vec![req("env", In, &["a", "b"])]).covers(&sel(&[("env", "a")], vec![])));
        assert!(!sel(&[], vec![req("env", In, &["b"])]).covers(&sel(&[("env", "a")], vec![])));
        assert!(
            sel(&[], vec![req("env", NotIn, &["a"])])
                .covers(&sel(&[], vec![req("env", DoesNotExist, &[])]))
        );
        assert!(sel(&[], vec![req("env", NotIn, &["a"])]).covers(&sel(&[("env", "b")], vec![])));
        assert!(
            !sel(&[], vec![req("env", NotIn, &["a", "b"])])
                .covers(&sel(&[], vec![req("env", NotIn, &["a"])]))
        );
        assert!(Selector::default().covers(&sel(&[("x", "y")], vec![])));
        assert!(!sel(&[("x", "y")], vec![]).covers(&Selector::default()));
    }
}
