//! Workloads (`netc::workload::invalid`) and the policy lint, warnings that read the policies
//! as `explain` does: a selector that matches no declared workload
//! (`netc::policy::selector-unmatched`), a rule another rule already covers
//! (`netc::policy::shadowed`), DNS allowed on one of UDP/TCP only
//! (`netc::policy::dns-one-protocol`), an ipBlock over the pod network or a node's pod subnet
//! (`netc::policy::ipblock-covers-cluster`), and a namespace denying egress whose declared pods
//! cannot reach the API server (`netc::policy::api-server-unreachable`).

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;

use super::policy::{is_qualified_name, key_problem, rule_text};
use crate::diagnostic::{Diag, code};
use crate::explain::{Connectivity, Endpoint};
use crate::intent::values::{self, PolicyPort, PortRange, Protocol};
use crate::intent::{Direction, NetworkIntent, Peer, Policy, Span, Text};
use crate::plan::{
    NAMESPACE_NAME_LABEL, PeerPlan, Peers, Plan, PolicyRulePlan, Selector, WorkloadOrigin,
};
use crate::plan::{peer_selectors, policy_selector as selector};

/// Every peer of an entry's rules, with the rule's text.
fn rule_peers(policy: &Policy) -> Vec<(Text, &Peer)> {
    let ingress = policy.rules.iter().enumerate().flat_map(|(i, r)| {
        let name = rule_text(policy, r.name.as_ref(), Direction::Ingress, i);
        r.from.iter().map(move |p| (name.clone(), p))
    });
    let egress = policy.egress.iter().enumerate().flat_map(|(i, r)| {
        let name = rule_text(policy, r.name.as_ref(), Direction::Egress, i);
        r.to.iter().map(move |p| (name.clone(), p))
    });
    ingress.chain(egress).collect()
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    workloads(intent, plan, out);
    let subnets = NodeSubnets::new(plan);
    for (policy, p) in intent.policies.iter().zip(&plan.policies) {
        for rules in [&p.ingress, &p.egress] {
            shadowed(rules, &p.namespace, out);
        }
        for (i, rule) in policy.egress.iter().enumerate() {
            let name = rule_text(policy, rule.name.as_ref(), Direction::Egress, i);
            dns_one_protocol(&name, &rule.ports, out);
        }
        for (rule, peer) in rule_peers(policy) {
            ipblock_covers_cluster(&rule, peer, plan, &subnets, out);
        }
    }
    if intent.workloads.is_empty() || intent.policies.is_empty() {
        return;
    }
    let c = Connectivity::new(plan);
    unmatched(intent, plan, out);
    api_server_unreachable(intent, plan, &c, out);
}

fn workload_error(message: String, span: Span, label: &str, help: &str) -> Diag {
    Diag::error(code::WORKLOAD_INVALID, message)
        .label(span, label.to_owned())
        .help(help.to_owned())
}

fn workloads(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let mut seen: HashMap<(&str, &str), Span> = HashMap::new();
    let mut ns_labels: HashMap<(&str, &str), &Text> = HashMap::new();
    for w in &intent.workloads {
        for t in [&w.namespace, &w.name] {
            if !values::is_dns1123_label(&t.value) {
                out.push(workload_error(
                    format!("workload `{}` is not a DNS-1123 label", t.value),
                    t.span,
                    "invalid name",
                    "use lower-case letters, digits and `-`, at most 63, starting and ending with a letter or digit",
                ));
            }
        }
        if let Some(first) = seen.insert((&w.namespace.value, &w.name.value), w.name.span) {
            out.push(
                workload_error(
                    format!(
                        "workload {}/{} is declared twice",
                        w.namespace.value, w.name.value
                    ),
                    w.name.span,
                    "declared again",
                    "give each workload of a namespace its own name",
                )
                .label(first, "first declared here"),
            );
        }
        for (k, v) in w.labels.iter().chain(&w.namespace_labels) {
            if let Some(why) = key_problem(&k.value) {
                out.push(workload_error(
                    format!(
                        "`{}` (workload {}) is not a valid label key",
                        k.value, w.name.value
                    ),
                    k.span,
                    "invalid label key",
                    why,
                ));
            }
            if !v.value.is_empty() && !is_qualified_name(&v.value) {
                out.push(workload_error(
                    format!("`{}` (workload {}, key {}) is not a valid label value", v.value, w.name.value, k.value),
                    v.span,
                    "invalid label value",
                    "a label value is empty or at most 63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit",
                ));
            }
        }
        for (k, v) in &w.namespace_labels {
            if let Some(other) = ns_labels.insert((&w.namespace.value, &k.value), v)
                && other.value != v.value
            {
                out.push(
                    workload_error(
                        format!(
                            "namespace {} gets label {}={} here and {}={} elsewhere",
                            w.namespace.value, k.value, v.value, k.value, other.value
                        ),
                        v.span,
                        "conflicting namespace label",
                        "a namespace has one set of labels: give every workload of the namespace the same namespaceLabels",
                    )
                    .label(other.span, "other value"),
                );
            }
        }
        for (name, port) in &w.ports {
            if !values::is_iana_service_name(&name.value) {
                out.push(workload_error(
                    format!("`{}` (workload {}) is not a valid port name", name.value, w.name.value),
                    name.span,
                    "invalid port name",
                    "a port name is at most 15 of `a-z`, `0-9`, `-`, with a letter, no `--` and no `-` at either end",
                ));
            }
            match values::parse_port_range(&port.value) {
                Ok(r) if r.first == r.last => {}
                Ok(_) => out.push(workload_error(
                    format!(
                        "port {} of workload {} is a range",
                        port.value, w.name.value
                    ),
                    port.span,
                    "a range",
                    "a container port is one number: `tcp/8080`",
                )),
                Err(e) => out.push(workload_error(
                    format!("port `{}` of workload {}: {e}", port.value, w.name.value),
                    port.span,
                    "invalid port",
                    "write `tcp/8080`, `udp/53` or `sctp/9000`",
                )),
            }
        }
        if let Some(node) = &w.node
            && plan.node(&node.value).is_none()
        {
            out.push(workload_error(
                format!(
                    "workload {} runs on node {}, which the intent does not declare",
                    w.name.value, node.value
                ),
                node.span,
                "unknown node",
                "name one of the intent's nodes, or leave `node` out (any node)",
            ));
        }
    }
}

fn net_contains(a: &IpNet, b: &IpNet) -> bool {
    a.contains(b)
}

/// Whether peer `a` admits at least everything peer `b` admits; `own` selects the policy's
/// namespace by its name label.
fn peer_covers(a: &PeerPlan, b: &PeerPlan, own: &Selector) -> bool {
    match (a, b) {
        (
            PeerPlan::Pods {
                pods: pa,
                namespaces: na,
            },
            PeerPlan::Pods {
                pods: pb,
                namespaces: nb,
            },
        ) => {
            let ns_ok = match (na, nb) {
                (None, None) => true,
                (Some(sa), Some(sb)) => sa.covers(sb),
                (Some(sa), None) => sa.covers(own),
                (None, Some(sb)) => own.covers(sb),
            };
            let pods_ok = match (pa, pb) {
                (None, _) => true,
                (Some(x), Some(y)) => x.covers(y),
                (Some(x), None) => x.is_empty(),
            };
            ns_ok && pods_ok
        }
        (
            PeerPlan::Block {
                cidr: ca,
                except: ea,
            },
            PeerPlan::Block {
                cidr: cb,
                except: eb,
            },
        ) => {
            net_contains(ca, cb)
                && ea.iter().all(|x| {
                    !(net_contains(cb, x) || net_contains(x, cb))
                        || eb.iter().any(|y| net_contains(y, x))
                })
        }
        _ => false,
    }
}

fn port_covers(a: &PolicyPort, b: &PolicyPort) -> bool {
    if let (Some(x), Some(y)) = (a.numbers(), b.numbers()) {
        return x.contains(&y);
    }
    match (a, b) {
        // Every port of a protocol holds its named ports too.
        (PolicyPort::All(pa), PolicyPort::Named { protocol: pb, .. }) => pa == pb,
        (
            PolicyPort::Named {
                protocol: pa,
                name: na,
            },
            PolicyPort::Named {
                protocol: pb,
                name: nb,
            },
        ) => pa == pb && na == nb,
        _ => false,
    }
}

/// Whether rule `a` admits everything rule `b` admits (and `b` admits something); `own`
/// selects the policy's namespace. Cheapest test first: the selectors, the ports, the peers.
fn rule_covers(a: &PolicyRulePlan, b: &PolicyRulePlan, own: &Selector) -> bool {
    if !a.selector.covers(&b.selector) {
        return false;
    }
    let ports = a.ports.is_empty()
        || (!b.ports.is_empty()
            && b.ports
                .iter()
                .all(|y| a.ports.iter().any(|x| port_covers(x, y))));
    ports
        && match (&a.peers, &b.peers) {
            (_, Peers::Only(list)) if list.is_empty() => false,
            (Peers::Anyone, _) => true,
            (Peers::Only(_), Peers::Anyone) => false,
            (Peers::Only(pa), Peers::Only(pb)) => {
                pb.iter().all(|y| pa.iter().any(|x| peer_covers(x, y, own)))
            }
        }
}

/// The rules whose selector may cover a rule's: indexed by their selector's anchor
/// (`Selector::anchor`: a selector with an `In` requirement covers only selectors with an `In`
/// requirement on that key and values among its own), so the shadowing lint compares a rule
/// with those instead of every rule of its entry (20,000 rules in 200 namespaces were 4
/// million comparisons). A superset of the rules that cover: the verdicts are unchanged.
struct CoverIndex<'r> {
    /// (key, value) of an anchor → rules anchored there.
    by_value: HashMap<(&'r str, &'r str), Vec<usize>>,
    /// key → rules anchored on it (for an `In` requirement without values).
    by_key: HashMap<&'r str, Vec<usize>>,
    /// Rules without an anchor: they may cover any rule.
    free: Vec<usize>,
}

impl<'r> CoverIndex<'r> {
    fn new(rules: &'r [PolicyRulePlan]) -> Self {
        let mut index = CoverIndex {
            by_value: HashMap::new(),
            by_key: HashMap::new(),
            free: Vec::new(),
        };
        for (i, r) in rules.iter().enumerate() {
            match r.selector.anchor() {
                Some((key, values)) => {
                    index.by_key.entry(key).or_default().push(i);
                    for v in values {
                        index.by_value.entry((key, v)).or_default().push(i);
                    }
                }
                None => index.free.push(i),
            }
        }
        index
    }

    /// The rules that may cover `b`, in rule order.
    fn candidates(&self, b: &PolicyRulePlan) -> Vec<usize> {
        let mut out = self.free.clone();
        for (key, values) in b.selector.in_requirements() {
            let found = match values.first() {
                Some(v) => self.by_value.get(&(key, v.as_str())),
                None => self.by_key.get(key),
            };
            out.extend(found.into_iter().flatten());
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn shadowed(rules: &[PolicyRulePlan], ns: &str, out: &mut Vec<Diag>) {
    let own = Selector::from_labels(BTreeMap::from([(
        NAMESPACE_NAME_LABEL.to_owned(),
        ns.to_owned(),
    )]));
    let index = CoverIndex::new(rules);
    for (j, b) in rules.iter().enumerate() {
        // The earlier of two equal rules is the one kept.
        let by = index.candidates(b).into_iter().find(|&i| {
            let a = &rules[i];
            i != j && rule_covers(a, b, &own) && (i < j || !rule_covers(b, a, &own))
        });
        if let Some(a) = by.map(|i| &rules[i]) {
            out.push(
                Diag::warning(
                    code::POLICY_SHADOWED,
                    format!(
                        "rule {} (namespace {ns}) admits nothing that rule {} does not already admit",
                        b.name, a.name
                    ),
                )
                .label(b.span, "shadowed rule")
                .label(a.span, "covered by this rule")
                .help("remove the narrower rule, or narrow the broader one if it admits more than intended"),
            );
        }
    }
}

/// Whether `ports` open port 53 for `protocol` (a number, a range, or the CoreDNS port names).
fn opens_dns(ports: &[PolicyPort], protocol: Protocol) -> bool {
    ports.iter().any(|p| match p {
        PolicyPort::Numeric(_) | PolicyPort::All(_) => p
            .numbers()
            .is_some_and(|r| r.contains(&PortRange::single(protocol, crate::plan::DNS_PORT))),
        PolicyPort::Named { protocol: pr, name } => {
            *pr == protocol
                && matches!(
                    (protocol, name.as_str()),
                    (Protocol::Udp, "dns") | (Protocol::Tcp, "dns-tcp") | (_, "domain")
                )
        }
    })
}

fn dns_one_protocol(rule: &Text, texts: &[Text], out: &mut Vec<Diag>) {
    let parsed: Vec<(PolicyPort, Span)> = texts
        .iter()
        .filter_map(|t| Some((values::parse_policy_port(t).ok()?, t.span)))
        .collect();
    let ports: Vec<PolicyPort> = parsed.iter().map(|(p, _)| p.clone()).collect();
    let (udp, tcp) = (
        opens_dns(&ports, Protocol::Udp),
        opens_dns(&ports, Protocol::Tcp),
    );
    if udp == tcp {
        return;
    }
    let (has, lacks) = if udp {
        (Protocol::Udp, "TCP")
    } else {
        (Protocol::Tcp, "UDP")
    };
    let span = parsed
        .iter()
        .find(|(p, _)| opens_dns(std::slice::from_ref(p), has))
        .map_or(rule.span, |(_, s)| *s);
    out.push(
        Diag::warning(
            code::POLICY_DNS_ONE_PROTOCOL,
            format!(
                "rule {} allows DNS on {} but not on {lacks}",
                rule.value,
                has.as_str().to_uppercase()
            ),
        )
        .label(span, "DNS on one protocol")
        .help(format!(
            "DNS falls back to {lacks} (truncated UDP answers, zone transfers, DNS over TCP): allow port {} on both, or rely on `allowDNS`", crate::plan::DNS_PORT
        )),
    );
}

/// Every node's pod subnets sorted by start address, so the one holding a block is found by
/// binary search instead of a scan of every node for every ipBlock (nodes × policies).
struct NodeSubnets(Vec<(IpNet, usize)>);

impl NodeSubnets {
    fn new(plan: &Plan) -> Self {
        let mut v: Vec<(IpNet, usize)> = plan
            .nodes
            .iter()
            .enumerate()
            .flat_map(|(i, n)| n.pod_cidrs.iter().map(move |s| (*s, i)))
            .collect();
        v.sort_by_key(|(s, i)| (s.network(), s.prefix_len(), *i));
        NodeSubnets(v)
    }

    /// The node subnet containing `block` (node subnets do not overlap: `cidr::overlap`).
    fn containing(&self, block: &IpNet) -> Option<(IpNet, usize)> {
        let at = self
            .0
            .partition_point(|(s, _)| s.network() <= block.network());
        self.0[..at]
            .iter()
            .rev()
            .take_while(|(s, _)| s.addr().is_ipv4() == block.addr().is_ipv4())
            .take(1)
            .find(|(s, _)| s.contains(block))
            .copied()
    }
}

fn ipblock_covers_cluster(
    rule: &Text,
    peer: &Peer,
    plan: &Plan,
    subnets: &NodeSubnets,
    out: &mut Vec<Diag>,
) {
    let Some(text) = &peer.cidr else {
        return;
    };
    let Ok(block) = values::parse_block(text).map(|b| b.trunc()) else {
        return;
    };
    // `0.0.0.0/0` and `::/0` say "anywhere" on purpose.
    if block.prefix_len() == 0 {
        return;
    }
    let except: Vec<IpNet> = peer
        .except
        .iter()
        .filter_map(|e| values::parse_block(e).ok())
        .collect();
    let excepted = |r: &IpNet| except.iter().any(|e| e.contains(r));
    // A block inside one node's pod subnet names that node; otherwise the pod network.
    let node_mask = if block.addr().is_ipv4() {
        plan.node_mask_v4
    } else {
        plan.node_mask_v6
    };
    let node_subnet = || {
        // Only a block at least as long as a node's subnet can lie inside one.
        if block.prefix_len() < node_mask {
            return None;
        }
        let (sub, n) = subnets.containing(&block)?;
        (!excepted(&block))
            .then(|| format!("part of node {}'s pod subnet {sub}", plan.nodes[n].name))
    };
    let pods = || {
        plan.pod_cidrs.iter().find_map(|p| {
            let region = if block.contains(p) {
                *p
            } else if p.contains(&block) {
                block
            } else {
                return None;
            };
            (!excepted(&region)).then(|| format!("the pod network {p}"))
        })
    };
    let Some(what) = node_subnet().or_else(pods) else {
        return;
    };
    out.push(
        Diag::warning(
            code::POLICY_IPBLOCK_COVERS_CLUSTER,
            format!("cidr {block} in rule {} covers {what}", rule.value),
        )
        .label(text.span, "ipBlock")
        .help("pod addresses are ephemeral and whether an ipBlock matches them depends on the CNI: select pods with `pods`/`namespace` peers, and put the pod network in `except`"),
    );
}

fn unmatched(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let wl = &plan.workloads;
    let pods_in = |ns: &str, sel: &Selector| {
        wl.list
            .iter()
            .any(|w| !w.host_network && w.namespace == ns && sel.matches(&w.labels))
    };
    let mut warn = |span: Span, message: String| {
        out.push(
            Diag::warning(code::POLICY_SELECTOR_UNMATCHED, message)
                .label(span, "matches no declared workload")
                .help("fix the labels, or declare the workloads it is meant for under `workloads`"),
        );
    };
    for policy in &intent.policies {
        let ns = &policy.namespace.value;
        // Only namespaces the intent describes: a user who declares some workloads has not
        // claimed to list every namespace's.
        if !intent.workloads.iter().any(|w| &w.namespace.value == ns) {
            continue;
        }
        // The pods each rule (or the named policy) is about: (what, selector, span).
        let mut subjects = Vec::new();
        if let Some(name) = &policy.name {
            if policy.pod_selector.is_some() || !policy.pod_expressions.is_empty() {
                let span = policy
                    .pod_selector
                    .as_ref()
                    .and_then(|l| l.keys().next().map(|k| k.span))
                    .or_else(|| policy.pod_expressions.first().map(|e| e.key.span))
                    .unwrap_or(name.span);
                subjects.push((
                    format!("policy {}", name.value),
                    selector(policy.pod_selector.as_ref(), &policy.pod_expressions),
                    span,
                ));
            }
        } else {
            let rules = policy
                .rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    (
                        r.name.as_ref(),
                        r.to.as_ref(),
                        &r.to_expressions,
                        Direction::Ingress,
                        i,
                    )
                })
                .chain(policy.egress.iter().enumerate().map(|(i, r)| {
                    (
                        r.name.as_ref(),
                        r.from.as_ref(),
                        &r.from_expressions,
                        Direction::Egress,
                        i,
                    )
                }));
            for (name, labels, exprs, dir, i) in rules {
                if labels.is_none() && exprs.is_empty() {
                    continue;
                }
                let name = rule_text(policy, name, dir, i);
                let span = labels
                    .and_then(|l| l.keys().next().map(|k| k.span))
                    .or_else(|| exprs.first().map(|e| e.key.span))
                    .unwrap_or(name.span);
                subjects.push((
                    format!("rule {}", name.value),
                    selector(labels, exprs),
                    span,
                ));
            }
        }
        for (what, sel, span) in subjects {
            if !pods_in(ns, &sel) {
                warn(
                    span,
                    format!("{what} selects no declared pod of namespace {ns}"),
                );
            }
        }
        for (name, peer) in rule_peers(policy) {
            if peer.cidr.is_some() {
                continue;
            }
            let (pods, namespaces) = peer_selectors(peer);
            let any = wl.list.iter().any(|w| {
                !w.host_network
                    && pods.as_ref().is_none_or(|p| p.matches(&w.labels))
                    && match &namespaces {
                        None => &w.namespace == ns,
                        Some(sel) => sel.matches(&wl.namespace_labels(&w.namespace)),
                    }
            });
            if !any {
                let span = peer
                    .pods
                    .as_ref()
                    .and_then(|l| l.keys().next().map(|k| k.span))
                    .or_else(|| peer.pod_expressions.first().map(|e| e.key.span))
                    .or_else(|| {
                        peer.namespace.as_ref().and_then(|n| {
                            n.name
                                .as_ref()
                                .map(|t| t.span)
                                .or_else(|| {
                                    n.labels
                                        .as_ref()
                                        .and_then(|l| l.keys().next().map(|k| k.span))
                                })
                                .or_else(|| n.expressions.first().map(|e| e.key.span))
                        })
                    })
                    .unwrap_or(name.span);
                warn(
                    span,
                    format!("a peer of rule {} matches no declared workload", name.value),
                );
            }
        }
    }
}

fn api_server_unreachable(
    intent: &NetworkIntent,
    plan: &Plan,
    c: &Connectivity<'_>,
    out: &mut Vec<Diag>,
) {
    if !c.enforced {
        return;
    }
    let Some(api) = plan
        .workloads
        .list
        .iter()
        .position(|w| w.origin == WorkloadOrigin::ApiServer)
    else {
        return;
    };
    let Ok(port) = c.resolve_port(
        &format!("tcp/{}", plan.api_server_port),
        &Endpoint::Workload(api),
    ) else {
        return;
    };
    for (policy, p) in intent.policies.iter().zip(&plan.policies) {
        if !p.deny_egress {
            continue;
        }
        let blocked: Vec<String> = plan
            .workloads
            .list
            .iter()
            .enumerate()
            .filter(|(_, w)| {
                w.origin == WorkloadOrigin::Declared
                    && !w.host_network
                    && w.namespace == p.namespace
            })
            .filter(|(i, _)| {
                !c.explain(&Endpoint::Workload(*i), &Endpoint::Workload(api), &port)
                    .egress
                    .allowed
            })
            .map(|(_, w)| w.name.clone())
            .collect();
        if blocked.is_empty() {
            continue;
        }
        let span = policy
            .default_deny
            .iter()
            .find(|d| d.value == crate::intent::Direction::Egress)
            .map_or(policy.namespace.span, |d| d.span);
        let names = match blocked.as_slice() {
            [one] => one.clone(),
            [a, b] => format!("{a} and {b}"),
            [a, rest @ ..] => format!("{a} and {} others", rest.len()),
            [] => String::new(),
        };
        out.push(
            Diag::warning(
                code::POLICY_API_SERVER_UNREACHABLE,
                format!(
                    "namespace {} denies egress and {names} cannot reach the API server (tcp/{} on the control-plane nodes)",
                    p.namespace,
                    plan.api_server_port
                ),
            )
            .label(span, "egress denied")
            .help(format!(
                "pods that use the Kubernetes API (controllers, operators, service-account clients) need an egress rule to the control-plane addresses on tcp/{}; ignore this if none of them does",
                plan.api_server_port
            )),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Operator, Requirement};

    fn rule(
        labels: &[(&str, &str)],
        expressions: Vec<Requirement>,
        peers: Peers,
    ) -> PolicyRulePlan {
        PolicyRulePlan {
            name: String::new(),
            span: Span::default(),
            selector: Selector {
                labels: labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                expressions,
            },
            peers,
            ports: Vec::new(),
        }
    }

    fn req(key: &str, operator: Operator, values: &[&str]) -> Requirement {
        Requirement {
            key: key.to_owned(),
            operator,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        }
    }

    /// Every rule that covers another is among its candidates (the index never hides a
    /// shadowing rule), over selectors mixing every operator.
    #[test]
    fn cover_index_keeps_every_covering_rule() {
        type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<Requirement>);
        let selectors: Vec<Case<'_>> = vec![
            (vec![], vec![]),
            (vec![("app", "a")], vec![]),
            (vec![("app", "b")], vec![]),
            (vec![("app", "a"), ("tier", "x")], vec![]),
            (vec![], vec![req("app", Operator::In, &["a", "b"])]),
            (vec![], vec![req("app", Operator::In, &[])]),
            (vec![], vec![req("app", Operator::Exists, &[])]),
            (vec![], vec![req("app", Operator::NotIn, &["c"])]),
            (vec![], vec![req("legacy", Operator::DoesNotExist, &[])]),
            (vec![("tier", "x")], vec![req("app", Operator::In, &["a"])]),
            (
                vec![("app", "a")],
                vec![req("app", Operator::In, &["a", "c"])],
            ),
        ];
        let rules: Vec<PolicyRulePlan> = selectors
            .into_iter()
            .map(|(l, e)| rule(&l, e, Peers::Anyone))
            .collect();
        let own = Selector::default();
        let index = CoverIndex::new(&rules);
        let mut covering = 0;
        for b in &rules {
            let candidates = index.candidates(b);
            for (i, a) in rules.iter().enumerate() {
                if rule_covers(a, b, &own) {
                    covering += 1;
                    assert!(
                        candidates.contains(&i),
                        "{} covers {} but is no candidate",
                        a.selector.text(),
                        b.selector.text()
                    );
                }
            }
        }
        assert!(covering > rules.len(), "the cases exercise covering pairs");
    }

    /// Rules with distinct `matchLabels` selectors (the bench's 100 rules per entry) are each
    /// compared with themselves only, not with every rule of the entry.
    #[test]
    fn distinct_selectors_have_one_candidate() {
        let names: Vec<String> = (0..1000).map(|i| format!("svc-{i}")).collect();
        let rules: Vec<PolicyRulePlan> = names
            .iter()
            .map(|n| rule(&[("app", n)], Vec::new(), Peers::Anyone))
            .collect();
        let index = CoverIndex::new(&rules);
        for (j, b) in rules.iter().enumerate() {
            assert_eq!(index.candidates(b), [j]);
        }
    }
}
