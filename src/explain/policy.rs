//! Kubernetes NetworkPolicy semantics over the policies netc emits (`plan::policies::objects`), so the
//! answer is about exactly what `kubectl apply` will load. The rules, from the NetworkPolicy
//! API reference and the "Network Policies" concept page (kubernetes.io):
//!
//! - A pod is isolated for a direction once any policy in its namespace selects it
//!   (`podSelector`, `{}` = every pod) with that direction in `policyTypes`; until then
//!   everything is allowed that way.
//! - An isolated pod admits exactly the union of the selecting policies' rules: a rule matches
//!   when its peers match ("empty or missing `from`/`to`: all peers") and its ports match
//!   ("empty or missing `ports`: all ports").
//! - A peer with `podSelector` alone means pods of the policy's namespace; with
//!   `namespaceSelector` alone every pod of the matching namespaces; with both, the pods
//!   matching the pod selector inside the matching namespaces (AND in one peer, OR across
//!   peers). `ipBlock` matches addresses in `cidr` outside every `except`.
//! - A selector's `matchLabels` and `matchExpressions` are ANDed (`plan::Selector::matches`,
//!   the Kubernetes label-selector rules).
//! - A port matches on protocol and number, up to `endPort` inclusive; a named port matches the
//!   destination pod's container port of that name and protocol.
//! - hostNetwork pods are never selected: they share the node's address, so peers reach them
//!   through `ipBlock` only.

use std::collections::BTreeMap;

use ipnet::IpNet;

use crate::intent::Span;
use crate::intent::values::Protocol;
use crate::plan::policies::objects::{
    LabelSelector, NetworkPolicy, Peer, Port, PortValue, SourcedPolicy, sourced_policies,
};
use crate::plan::{Operator, Plan, Requirement, Selector};

/// A direction of a policy.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Ingress,
    Egress,
}

/// A policy as evaluated: the emitted object, parsed once.
#[derive(Clone, Debug)]
pub struct Compiled {
    pub namespace: String,
    pub name: String,
    pub span: Span,
    pub selector: Selector,
    /// `Some` when `policyTypes` has Ingress: the rules (possibly none).
    pub ingress: Option<Vec<Rule>>,
    pub egress: Option<Vec<Rule>>,
}

impl Compiled {
    pub fn rules(&self, dir: Dir) -> Option<&[Rule]> {
        match dir {
            Dir::Ingress => self.ingress.as_deref(),
            Dir::Egress => self.egress.as_deref(),
        }
    }

    /// `namespace/name`, as `kubectl` names it.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    /// The intent rule it comes from.
    pub span: Span,
    /// `None`: no `from`/`to`, every peer.
    pub peers: Option<Vec<CompiledPeer>>,
    /// `None`: no `ports`, every port.
    pub ports: Option<Vec<CompiledPort>>,
}

#[derive(Clone, Debug)]
pub enum CompiledPeer {
    Selectors {
        pods: Option<Selector>,
        namespaces: Option<Selector>,
    },
    Block {
        cidr: IpNet,
        except: Vec<IpNet>,
    },
}

#[derive(Clone, Debug)]
pub struct CompiledPort {
    pub protocol: Protocol,
    pub port: PortMatch,
}

#[derive(Clone, Debug)]
pub enum PortMatch {
    /// `port` .. `endPort`, inclusive.
    Range(u16, u16),
    Named(String),
}

/// The emitted selector read back (an operator netc did not write cannot occur: the emitter
/// writes `Operator::as_str`).
fn labels(s: &LabelSelector) -> Selector {
    Selector {
        labels: s.match_labels.clone(),
        expressions: s
            .match_expressions
            .iter()
            .filter_map(|r| {
                Some(Requirement {
                    key: r.key.clone(),
                    operator: Operator::parse(r.operator)?,
                    values: r.values.clone(),
                })
            })
            .collect(),
    }
}

fn protocol(p: &str) -> Protocol {
    match p {
        "UDP" => Protocol::Udp,
        "SCTP" => Protocol::Sctp,
        _ => Protocol::Tcp,
    }
}

fn peer(p: &Peer) -> Option<CompiledPeer> {
    if let Some(block) = &p.ip_block {
        return Some(CompiledPeer::Block {
            cidr: block.cidr.parse().ok()?,
            except: block.except.iter().filter_map(|e| e.parse().ok()).collect(),
        });
    }
    Some(CompiledPeer::Selectors {
        pods: p.pod_selector.as_ref().map(labels),
        namespaces: p.namespace_selector.as_ref().map(labels),
    })
}

fn port(p: &Port) -> CompiledPort {
    CompiledPort {
        protocol: protocol(p.protocol),
        port: match &p.port {
            Some(PortValue::Number(n)) => PortMatch::Range(*n, p.end_port.unwrap_or(*n)),
            Some(PortValue::Name(name)) => PortMatch::Named(name.clone()),
            // "If this field is not provided, this matches all port names and numbers."
            None => PortMatch::Range(0, u16::MAX),
        },
    }
}

fn rule(span: Span, peers: &[Peer], ports: &[Port]) -> Rule {
    Rule {
        span,
        peers: (!peers.is_empty()).then(|| peers.iter().filter_map(peer).collect()),
        ports: (!ports.is_empty()).then(|| ports.iter().map(port).collect()),
    }
}

fn compile(s: &SourcedPolicy) -> Compiled {
    let NetworkPolicy { metadata, spec, .. } = &s.policy;
    let has = |t: &str| spec.policy_types.contains(&t);
    Compiled {
        namespace: metadata.namespace.clone(),
        name: metadata.name.clone(),
        span: s.span,
        selector: labels(&spec.pod_selector),
        ingress: has("Ingress").then(|| {
            spec.ingress
                .iter()
                .zip(&s.rule_spans[0])
                .map(|(r, span)| rule(*span, &r.from, &r.ports))
                .collect()
        }),
        egress: has("Egress").then(|| {
            spec.egress
                .iter()
                .zip(&s.rule_spans[1])
                .map(|(r, span)| rule(*span, &r.to, &r.ports))
                .collect()
        }),
    }
}

/// Every policy `build` writes, compiled, in file order.
pub fn compile_all(plan: &Plan) -> Vec<Compiled> {
    plan.policies
        .iter()
        .flat_map(sourced_policies)
        .map(|s| compile(&s))
        .collect()
}

/// Label-selector semantics: `matchLabels` and `matchExpressions`, ANDed.
pub fn selects(selector: &Selector, labels: &BTreeMap<String, String>) -> bool {
    selector.matches(labels)
}

/// Whether every address of every range of `ranges` in `cidr`'s family lies in `cidr` and in
/// no `except` (and there is at least one such range). A pod whose address is only known to
/// be somewhere in its node's pod subnet matches only if the whole subnet does.
pub fn block_covers(cidr: &IpNet, except: &[IpNet], ranges: &[IpNet]) -> bool {
    let same_family: Vec<&IpNet> = ranges
        .iter()
        .filter(|r| r.addr().is_ipv4() == cidr.addr().is_ipv4())
        .collect();
    !same_family.is_empty()
        && same_family
            .iter()
            .all(|r| cidr.contains(*r) && !except.iter().any(|e| e.contains(*r) || r.contains(e)))
}
