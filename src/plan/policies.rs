//! NetworkPolicy intent in plain form: what the policy emitter and `explain` read.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Serialize;

use crate::intent::values::{self, PolicyPort};
use crate::intent::{Direction, Labels, Peer, PeerList, Policy, Span};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyPlan {
    pub namespace: String,
    /// Where each generated policy comes from in the intent, for `explain` and lint.
    #[serde(skip)]
    pub spans: PolicySpans,
    pub deny_ingress: bool,
    pub deny_egress: bool,
    /// Whether egress to cluster DNS is allowed (default: whenever egress is denied).
    pub allow_dns: bool,
    pub ingress: Vec<PolicyRulePlan>,
    pub egress: Vec<PolicyRulePlan>,
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
    pub name: String,
    /// The rule's `name` in the intent.
    #[serde(skip)]
    pub span: Span,
    /// Labels selecting the pods the rule is about (empty = all pods of the namespace).
    pub selector: BTreeMap<String, String>,
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
        pods: Option<BTreeMap<String, String>>,
        namespaces: Option<BTreeMap<String, String>>,
    },
    Block {
        cidr: IpNet,
        except: Vec<IpNet>,
    },
}

/// The label Kubernetes puts on every namespace with its name.
pub const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

fn labels(l: &Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

fn peer(p: &Peer) -> Option<PeerPlan> {
    if let Some(cidr) = &p.cidr {
        return Some(PeerPlan::Block {
            cidr: values::parse_network(cidr).ok()?,
            except: p
                .except
                .iter()
                .filter_map(|e| values::parse_network(e).ok())
                .collect(),
        });
    }
    let namespaces = p.namespace.as_ref().map(|ns| {
        let mut sel = ns.labels.as_ref().map(labels).unwrap_or_default();
        if let Some(name) = &ns.name {
            sel.insert(NAMESPACE_NAME_LABEL.to_owned(), name.value.clone());
        }
        sel
    });
    Some(PeerPlan::Pods {
        pods: p.pods.as_ref().map(labels),
        namespaces,
    })
}

fn peers(list: &PeerList) -> Peers {
    if list.is_everyone() {
        Peers::Anyone
    } else {
        Peers::Only(list.iter().filter_map(peer).collect())
    }
}

fn ports(texts: &[crate::intent::Text]) -> Vec<PolicyPort> {
    texts
        .iter()
        .filter_map(|t| values::parse_policy_port(t).ok())
        .collect()
}

pub(super) fn lower(policies: &[Policy]) -> Vec<PolicyPlan> {
    policies
        .iter()
        .map(|p| {
            let deny = |dir| {
                p.default_deny
                    .iter()
                    .find(|d| d.value == dir)
                    .map(|d| d.span)
            };
            let (deny_ingress, deny_egress) = (deny(Direction::Ingress), deny(Direction::Egress));
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
                ingress: p
                    .rules
                    .iter()
                    .map(|r| PolicyRulePlan {
                        name: r.name.value.clone(),
                        span: r.name.span,
                        selector: r.to.as_ref().map(labels).unwrap_or_default(),
                        peers: peers(&r.from),
                        ports: ports(&r.ports),
                    })
                    .collect(),
                egress: p
                    .egress
                    .iter()
                    .map(|r| PolicyRulePlan {
                        name: r.name.value.clone(),
                        span: r.name.span,
                        selector: r.from.as_ref().map(labels).unwrap_or_default(),
                        peers: peers(&r.to),
                        ports: ports(&r.ports),
                    })
                    .collect(),
            }
        })
        .collect()
}
