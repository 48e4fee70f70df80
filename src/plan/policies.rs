//! NetworkPolicy intent in plain form: what the policy emitter and `explain` read.

use std::collections::BTreeMap;

use ipnet::IpNet;
use serde::Serialize;

use crate::intent::values::{self, PolicyPort};
use crate::intent::{Direction, Labels, Peer, Policy};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyPlan {
    pub namespace: String,
    pub deny_ingress: bool,
    pub deny_egress: bool,
    /// Whether egress to cluster DNS is allowed (default: whenever egress is denied).
    pub allow_dns: bool,
    pub ingress: Vec<PolicyRulePlan>,
    pub egress: Vec<PolicyRulePlan>,
}

/// One allowance: the selected pods, their peers and the ports.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyRulePlan {
    pub name: String,
    /// Labels selecting the pods the rule is about (empty = all pods of the namespace).
    pub selector: BTreeMap<String, String>,
    pub peers: Vec<PeerPlan>,
    #[serde(skip)]
    pub ports: Vec<PolicyPort>,
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
            let deny_egress = p.default_deny.iter().any(|d| d.value == Direction::Egress);
            PolicyPlan {
                namespace: p.namespace.value.clone(),
                deny_ingress: p.default_deny.iter().any(|d| d.value == Direction::Ingress),
                deny_egress,
                allow_dns: p.allow_dns.as_ref().map_or(deny_egress, |a| a.value),
                ingress: p
                    .rules
                    .iter()
                    .map(|r| PolicyRulePlan {
                        name: r.name.value.clone(),
                        selector: r.to.as_ref().map(labels).unwrap_or_default(),
                        peers: r.from.iter().filter_map(peer).collect(),
                        ports: ports(&r.ports),
                    })
                    .collect(),
                egress: p
                    .egress
                    .iter()
                    .map(|r| PolicyRulePlan {
                        name: r.name.value.clone(),
                        selector: r.from.as_ref().map(labels).unwrap_or_default(),
                        peers: r.to.iter().filter_map(peer).collect(),
                        ports: ports(&r.ports),
                    })
                    .collect(),
            }
        })
        .collect()
}
