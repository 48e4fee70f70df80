//! `netc explain`: can A reach B on a port, and which rule decides, before anything is
//! deployed. Pure: reads the Plan (its policies as `emit` writes them, its workloads, nodes and
//! firewall) and answers per direction.
//!
//! A connection passes two sides: the source's egress and the destination's ingress. For a
//! pod, a side is decided by NetworkPolicies (`policy.rs`, exact Kubernetes semantics); for a
//! node or a hostNetwork pod as destination, by the node firewall (`firewall.rs`); host
//! traffic leaving a node is not filtered (netc's firewall filters input only), and an address
//! outside the cluster has no side netc knows. When the CNI does not enforce policies, policy
//! sides are allowed with `netc::cni::policy-not-enforced`.
//!
//! The destination judges the source address it sees. A hostNetwork pod sends as its node
//! (the node's address; to the node itself, through `lo`). A pod's connection that leaves its
//! node masqueraded (`plan::masquerade::Masquerade::masquerades`, the one fact per node: netc's
//! node firewall with the bridge plugin, flanneld's `--ip-masq` with flannel and Canal, Calico's
//! `natOutgoing`, Cilium's masquerade) arrives with its node's address, so another node's
//! firewall judges it as that node, and an address outside the cluster sees the node; to its
//! own node it is delivered locally with the pod's address. Where netc does not know whether a
//! masquerade covers a destination (`Masquerade::uncertain`: Canonical's IPv6-only native
//! routing with control-plane nodes on several networks), the destination may see either, the
//! answer says so, and a firewall must admit both.

pub mod diff;
mod firewall;
pub mod matrix;
pub mod policy;

use std::collections::BTreeMap;
use std::fmt;

use ipnet::IpNet;
use serde::Serialize;

use crate::diagnostic::code;
use crate::digest::count;
use crate::intent::Span;
use crate::intent::values::{self, Protocol};
use crate::plan::firewall::{NodeFirewall, node_firewall};
use crate::plan::masquerade::{Masquerade, node_masquerade};
use crate::plan::{NodePlan, Plan, Selector, WorkloadOrigin, WorkloadPlan};
pub use policy::Dir;
use policy::{Compiled, CompiledPeer, PortMatch, Rule};

/// One end of a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// Index into `plan.workloads.list`.
    Workload(usize),
    /// Index into `plan.nodes`.
    Node(usize),
    /// Addresses outside what the intent names.
    Cidr(IpNet),
}

/// The port of a connection: a number, maybe given by a name of the destination's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowPort {
    pub protocol: Protocol,
    pub port: u16,
    /// The container port name it was given as (`tcp/http`).
    pub name: Option<String>,
}

impl fmt::Display for FlowPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{}/{} ({n})", self.protocol, self.port),
            None => write!(f, "{}/{}", self.protocol, self.port),
        }
    }
}

/// Which layer decided a side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    NetworkPolicy,
    NodeFirewall,
    /// Nothing netc models filters this side.
    None,
}

/// A rule that decided a side: a policy (rule) that admits or isolates, a firewall rule.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Decider {
    /// The emitted NetworkPolicy, `namespace/name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// The node whose firewall decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// What it is and does (`allows`, `isolates`, `firewall rule ssh`).
    pub what: String,
    /// Where it comes from in the intent (default when netc supplied it).
    #[serde(skip)]
    pub span: Span,
    /// The intent line of `span`, filled in by the caller that has the source text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The verdict of one side of a connection.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct SideVerdict {
    pub allowed: bool,
    pub layer: Layer,
    pub reason: String,
    pub rules: Vec<Decider>,
    /// A diagnostic code that qualifies the answer (`netc::cni::policy-not-enforced`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<&'static str>,
}

impl SideVerdict {
    fn allowed(layer: Layer, reason: String, rules: Vec<Decider>) -> Self {
        SideVerdict {
            allowed: true,
            layer,
            reason,
            rules,
            code: None,
        }
    }

    fn denied(layer: Layer, reason: String, rules: Vec<Decider>) -> Self {
        SideVerdict {
            allowed: false,
            layer,
            reason,
            rules,
            code: None,
        }
    }
}

/// The answer for one connection.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Explanation {
    pub from: String,
    pub to: String,
    pub port: String,
    pub allowed: bool,
    /// Whether the CNI enforces the policies at all.
    pub policies_enforced: bool,
    /// The source's side.
    pub egress: SideVerdict,
    /// The destination's side.
    pub ingress: SideVerdict,
}

/// The Plan's policies compiled for evaluation, with the pods each one selects.
pub struct Connectivity<'p> {
    pub plan: &'p Plan,
    pub policies: Vec<Compiled>,
    pub enforced: bool,
    /// Per workload: the policies selecting it for ingress and for egress.
    selecting: Vec<[Vec<usize>; 2]>,
    /// Labels of each workload's namespace.
    ns_labels: Vec<BTreeMap<String, String>>,
    /// Per node: its firewall as emitted (`None` without a `firewall:` section).
    firewalls: Vec<Option<NodeFirewall>>,
    /// Per node: how its pods' traffic is masqueraded ([`node_masquerade`]).
    masquerades: Vec<Masquerade>,
    /// Whether any node masquerades its pods' traffic (else a pod is always seen as itself).
    masquerading: bool,
    /// Whether any node's masquerade may cover another node's pod subnet (pod to pod).
    masquerading_pods: bool,
    /// Per node: [`node_addresses`].
    node_addresses: Vec<Vec<IpNet>>,
}

/// Where a connection comes from, as one destination node sees it.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    /// From the destination node itself: through `lo`.
    Loopback,
    /// From node `node`'s address: its host traffic (a node, a hostNetwork pod), or a pod's
    /// connection `masqueraded` (the masquerade's source network) by that node, `maybe` when
    /// netc does not know whether that masquerade covers the destination.
    Host {
        node: usize,
        masqueraded: Option<IpNet>,
        maybe: bool,
    },
    /// From the source's own addresses (a pod not masqueraded, a CIDR).
    Own,
    /// From a pod's own addresses, if node `node` does not masquerade it (`net`): netc does
    /// not know (the other way is `Host` with `maybe`).
    OwnUnlessMasqueraded { node: usize, net: IpNet },
}

fn dir_index(dir: Dir) -> usize {
    match dir {
        Dir::Ingress => 0,
        Dir::Egress => 1,
    }
}

impl<'p> Connectivity<'p> {
    pub fn new(plan: &'p Plan) -> Self {
        let policies = policy::compile_all(plan);
        let mut by_namespace: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, p) in policies.iter().enumerate() {
            by_namespace
                .entry(p.namespace.as_str())
                .or_default()
                .push(i);
        }
        let selecting = plan
            .workloads
            .list
            .iter()
            .map(|w| {
                let mut sel = [Vec::new(), Vec::new()];
                if w.host_network {
                    return sel;
                }
                for &i in by_namespace.get(w.namespace.as_str()).into_iter().flatten() {
                    let p = &policies[i];
                    if !policy::selects(&p.selector, &w.labels) {
                        continue;
                    }
                    if p.ingress.is_some() {
                        sel[0].push(i);
                    }
                    if p.egress.is_some() {
                        sel[1].push(i);
                    }
                }
                sel
            })
            .collect();
        let ns_labels = plan
            .workloads
            .list
            .iter()
            .map(|w| plan.workloads.namespace_labels(&w.namespace))
            .collect();
        let firewalls: Vec<Option<NodeFirewall>> =
            plan.nodes.iter().map(|n| node_firewall(plan, n)).collect();
        let masquerades: Vec<Masquerade> = plan
            .nodes
            .iter()
            .map(|n| node_masquerade(plan, n))
            .collect();
        let masquerading_pods = plan.nodes.iter().enumerate().any(|(s, sn)| {
            plan.nodes.iter().enumerate().any(|(d, dn)| {
                s != d
                    && (masquerades[s]
                        .masquerades(&sn.pod_cidrs, &dn.pod_cidrs)
                        .is_some()
                        || masquerades[s]
                            .may_masquerade(&sn.pod_cidrs, &dn.pod_cidrs)
                            .is_some())
            })
        });
        Connectivity {
            plan,
            masquerading_pods,
            policies,
            enforced: crate::plan::enforces_network_policies(plan.distribution, plan.cni.plugin),
            selecting,
            ns_labels,
            masquerading: masquerades
                .iter()
                .any(|m| !m.rules.is_empty() || !m.uncertain.is_empty()),
            masquerades,
            firewalls,
            node_addresses: plan.nodes.iter().map(node_addresses).collect(),
        }
    }

    pub fn workload(&self, i: usize) -> &WorkloadPlan {
        &self.plan.workloads.list[i]
    }

    /// `--from`/`--to` text: `node/NAME`, `NAMESPACE/NAME`, a CIDR or an address, or a bare
    /// node name.
    pub fn resolve(&self, text: &str) -> Result<Endpoint, String> {
        let plan = self.plan;
        if let Some(name) = text.strip_prefix("node/") {
            return plan
                .nodes
                .iter()
                .position(|n| n.name == name)
                .map(Endpoint::Node)
                .ok_or_else(|| format!("no node named {name} in the intent"));
        }
        if let Some((ns, name)) = text.split_once('/')
            && let Some(i) = plan.workloads.find(ns, name)
        {
            return Ok(Endpoint::Workload(i));
        }
        if let Ok(net) = text.parse::<IpNet>() {
            return Ok(Endpoint::Cidr(net.trunc()));
        }
        if let Some(addr) = values::parse_address(text) {
            return Ok(Endpoint::Cidr(IpNet::from(addr)));
        }
        if let Some(i) = plan.nodes.iter().position(|n| n.name == text) {
            return Ok(Endpoint::Node(i));
        }
        let known: Vec<String> = plan.workloads.list.iter().map(WorkloadPlan::id).collect();
        let declare = match text.split_once('/') {
            Some((ns, name)) => format!(
                "; to explain it, declare it under `workloads:` (`- {{namespace: {ns}, name: {name}, labels: {{...}}}}`)"
            ),
            None => String::new(),
        };
        Err(format!(
            "`{text}` is no workload, node, CIDR or address (workloads: {}){declare}",
            known.join(", ")
        ))
    }

    /// `tcp/8080`, or `tcp/NAME` resolved against the destination's named ports.
    pub fn resolve_port(&self, text: &str, to: &Endpoint) -> Result<FlowPort, String> {
        match values::parse_policy_port(text) {
            Ok(values::PolicyPort::Numeric(r)) if r.first == r.last => Ok(FlowPort {
                protocol: r.protocol,
                port: r.first,
                name: None,
            }),
            Ok(values::PolicyPort::Numeric(_) | values::PolicyPort::All(_)) => {
                Err(format!("`{text}`: give one port, not a range"))
            }
            Ok(values::PolicyPort::Named { protocol, name }) => {
                let Endpoint::Workload(w) = to else {
                    return Err(format!(
                        "`{text}`: a named port needs a workload as destination"
                    ));
                };
                let w = self.workload(*w);
                let port = w.named_port(protocol, &name).ok_or_else(|| {
                    format!("{} declares no {protocol} port named {name}", w.id())
                })?;
                Ok(FlowPort {
                    protocol,
                    port,
                    name: Some(name),
                })
            }
            Err(e) => Err(format!("`{text}`: {e}")),
        }
    }

    pub fn describe(&self, e: &Endpoint) -> String {
        match e {
            Endpoint::Workload(i) => self.workload(*i).id(),
            Endpoint::Node(i) => format!("node/{}", self.plan.nodes[*i].name),
            Endpoint::Cidr(n) => n.to_string(),
        }
    }

    /// The addresses an endpoint may have: a pod somewhere in its nodes' pod subnets (the
    /// whole pod network when it may run anywhere), a node's addresses, or the CIDR itself.
    pub fn addresses(&self, e: &Endpoint) -> Vec<IpNet> {
        match e {
            Endpoint::Cidr(n) => vec![*n],
            Endpoint::Node(i) => node_addresses(&self.plan.nodes[*i]),
            Endpoint::Workload(i) => {
                let w = self.workload(*i);
                let nodes = self.nodes_of(w);
                if w.host_network {
                    nodes
                        .iter()
                        .flat_map(|&n| host_network_addresses(w, &self.plan.nodes[n]))
                        .collect()
                } else if w.nodes.is_empty() {
                    self.plan.pod_cidrs.clone()
                } else {
                    nodes
                        .iter()
                        .flat_map(|&n| self.plan.nodes[n].pod_cidrs.iter().copied())
                        .collect()
                }
            }
        }
    }

    /// Indexes of the nodes a workload may run on.
    fn nodes_of(&self, w: &WorkloadPlan) -> Vec<usize> {
        let all = 0..self.plan.nodes.len();
        if w.nodes.is_empty() {
            all.collect()
        } else {
            all.filter(|&i| w.nodes.contains(&self.plan.nodes[i].name))
                .collect()
        }
    }

    /// The nodes whose host traffic `e` is: a node, or the nodes a hostNetwork pod may run on
    /// (it sends as its node does).
    fn host_nodes(&self, e: &Endpoint) -> Option<Vec<usize>> {
        match e {
            Endpoint::Node(n) => Some(vec![*n]),
            Endpoint::Workload(i) if self.workload(*i).host_network => {
                Some(self.nodes_of(self.workload(*i)))
            }
            _ => None,
        }
    }

    /// Whether `from` is host traffic of the one node pod `w` is pinned to, which
    /// NetworkPolicies always allow ("traffic to and from the node where a Pod is running is
    /// always allowed", kubernetes.io, Network Policies): the node, or a hostNetwork pod there.
    fn sent_by_own_node(&self, from: &Endpoint, w: &WorkloadPlan) -> bool {
        w.nodes.len() == 1
            && self
                .host_nodes(from)
                .is_some_and(|h| h.len() == 1 && self.plan.nodes[h[0]].name == w.nodes[0])
    }

    /// The addresses `to` has on node `d` (a node's, a hostNetwork pod's there).
    fn addresses_on(&self, to: &Endpoint, d: usize) -> Vec<IpNet> {
        match to {
            Endpoint::Workload(i) if self.workload(*i).host_network => {
                host_network_addresses(self.workload(*i), &self.plan.nodes[d])
            }
            _ => node_addresses(&self.plan.nodes[d]),
        }
    }

    /// Every way node `d` may see a connection from `from` to `to` (one of `d`'s addresses):
    /// per node the source may be on, its host traffic (through `lo` on `d` itself), a pod
    /// masqueraded by its node when that node's masquerade covers the destination, else the
    /// source's own addresses.
    fn seen_at<'a>(
        &'a self,
        from: &'a Endpoint,
        to: &'a Endpoint,
        d: usize,
    ) -> Box<dyn Iterator<Item = Seen> + 'a> {
        let host = move |s: usize| {
            if s == d {
                Seen::Loopback
            } else {
                Seen::Host {
                    node: s,
                    masqueraded: None,
                    maybe: false,
                }
            }
        };
        match from {
            Endpoint::Node(s) => Box::new(std::iter::once(host(*s))),
            Endpoint::Workload(i) if self.workload(*i).host_network => {
                let nodes = self.nodes_of(self.workload(*i));
                if nodes.is_empty() {
                    Box::new(std::iter::once(Seen::Own))
                } else {
                    Box::new(nodes.into_iter().map(host))
                }
            }
            Endpoint::Workload(i) if self.masquerading => {
                let nodes = self.nodes_of(self.workload(*i));
                if nodes.is_empty() {
                    return Box::new(std::iter::once(Seen::Own));
                }
                let to_addresses = self.addresses_on(to, d);
                Box::new(nodes.into_iter().flat_map(move |s| {
                    if s == d {
                        return vec![Seen::Own];
                    }
                    let (m, pods) = (&self.masquerades[s], &self.plan.nodes[s].pod_cidrs);
                    if let Some(net) = m.masquerades(pods, &to_addresses) {
                        return vec![Seen::Host {
                            node: s,
                            masqueraded: Some(net),
                            maybe: false,
                        }];
                    }
                    // Not known: the destination may see either.
                    match m.may_masquerade(pods, &to_addresses) {
                        Some(net) => vec![
                            Seen::OwnUnlessMasqueraded { node: s, net },
                            Seen::Host {
                                node: s,
                                masqueraded: Some(net),
                                maybe: true,
                            },
                        ],
                        None => vec![Seen::Own],
                    }
                }))
            }
            Endpoint::Workload(_) | Endpoint::Cidr(_) => Box::new(std::iter::once(Seen::Own)),
        }
    }

    /// Whether every node of `nodes` accepts `from` however it arrives ([`Self::firewall_side`]
    /// without its text: the matrix's hot path).
    fn firewall_allows(
        &self,
        nodes: &[usize],
        from: &Endpoint,
        to: &Endpoint,
        port: &FlowPort,
    ) -> bool {
        // The sender's own addresses, worked out once for every destination node.
        let own = std::cell::OnceCell::new();
        !nodes.is_empty()
            && nodes.iter().all(|&d| {
                let fw = self.firewalls[d].as_ref();
                firewall::accepts_any_source(fw, port.protocol, port.port)
                    || self.seen_at(from, to, d).all(|seen| match seen {
                        Seen::Loopback => true,
                        Seen::Own | Seen::OwnUnlessMasqueraded { .. } => firewall::accepts(
                            fw,
                            own.get_or_init(|| self.addresses(from)),
                            port.protocol,
                            port.port,
                        ),
                        Seen::Host { node: s, .. } => {
                            firewall::accepts(fw, &self.node_addresses[s], port.protocol, port.port)
                        }
                    })
            })
    }

    /// Node `d`'s firewall on a connection from `from` to `to`, seen as `seen`.
    fn firewall_verdict(
        &self,
        d: usize,
        seen: &Seen,
        from: &Endpoint,
        to: &Endpoint,
        port: &FlowPort,
    ) -> SideVerdict {
        let node = &self.plan.nodes[d];
        let fw = self.firewalls[d].as_ref();
        match seen {
            Seen::Loopback => firewall::loopback(node, fw),
            Seen::Own => {
                firewall::evaluate(node, fw, &self.addresses(from), port.protocol, port.port)
            }
            Seen::OwnUnlessMasqueraded { node: s, net } => {
                let mut v =
                    firewall::evaluate(node, fw, &self.addresses(from), port.protocol, port.port);
                v.reason = format!(
                    "{}; if not masqueraded: {}",
                    self.masquerade_text(from, *s, *net, true, &self.addresses_on(to, d)),
                    v.reason
                );
                v
            }
            Seen::Host {
                node: s,
                masqueraded,
                maybe,
            } => {
                let sender = &self.plan.nodes[*s];
                let source = node_addresses(sender);
                let mut v = firewall::evaluate(node, fw, &source, port.protocol, port.port);
                if let Some(net) = masqueraded {
                    v.reason = format!(
                        "{}; {}",
                        self.masquerade_text(from, *s, *net, *maybe, &self.addresses_on(to, d)),
                        v.reason
                    );
                    v.rules.insert(0, self.masquerade_decider(*s, *net, *maybe));
                }
                v
            }
        }
    }

    /// "`from` leaves node `s` masqueraded to its address (… masquerades `net` …)"; with
    /// `maybe`, that it may, and why netc does not know for `destination`.
    fn masquerade_text(
        &self,
        from: &Endpoint,
        s: usize,
        net: IpNet,
        maybe: bool,
        destination: &[IpNet],
    ) -> String {
        let sender = &self.plan.nodes[s];
        let shown: Vec<String> = self.node_addresses[s]
            .iter()
            .map(|a| a.addr().to_string())
            .collect();
        if maybe {
            return format!(
                "{} may leave node {} masqueraded to {} (netc does not know whether {} covers {net} to this destination: {})",
                self.describe(from),
                sender.name,
                shown.join(", "),
                self.masquerades[s].by.describe(),
                self.masquerades[s].why_uncertain(net, destination)
            );
        }
        format!(
            "{} leaves node {} masqueraded to {} ({} masquerades {net} to outside it)",
            self.describe(from),
            sender.name,
            shown.join(", "),
            self.masquerades[s].by.describe()
        )
    }

    /// The masquerade of node `s` as a decider (`maybe`: netc does not know if it applies).
    fn masquerade_decider(&self, s: usize, net: IpNet, maybe: bool) -> Decider {
        Decider {
            policy: None,
            node: Some(self.plan.nodes[s].name.clone()),
            what: format!(
                "masquerade of {net} ({}{})",
                self.masquerades[s].by.describe(),
                if maybe { ", not known to apply" } else { "" }
            ),
            span: Default::default(),
            line: None,
        }
    }

    /// For a destination outside the intent: the nodes that masquerade a pod `from` to it,
    /// with the masquerade network (an outside host sees those nodes' addresses), and
    /// whether netc only knows that they may.
    fn masqueraded_to_outside(&self, from: &Endpoint, to: IpNet) -> Vec<(usize, IpNet, bool)> {
        let Some(i) = self.pod(from) else {
            return Vec::new();
        };
        if !self.masquerading {
            return Vec::new();
        }
        self.nodes_of(self.workload(i))
            .into_iter()
            .filter_map(|s| {
                let (m, pods) = (&self.masquerades[s], &self.plan.nodes[s].pod_cidrs);
                match m.masquerades(pods, &[to]) {
                    Some(net) => Some((s, net, false)),
                    None => Some((s, m.may_masquerade(pods, &[to])?, true)),
                }
            })
            .collect()
    }

    /// Whether `e` is a pod that policies apply to (not hostNetwork).
    fn pod(&self, e: &Endpoint) -> Option<usize> {
        match e {
            Endpoint::Workload(i) if !self.workload(*i).host_network => Some(*i),
            _ => None,
        }
    }

    /// Whether one peer of a rule in `policy_ns` matches endpoint `e`.
    fn peer_matches(&self, policy_ns: &str, peer: &CompiledPeer, e: &Endpoint) -> bool {
        match peer {
            CompiledPeer::Block { cidr, except } => {
                policy::block_covers(cidr, except, &self.addresses(e))
            }
            CompiledPeer::Selectors { pods, namespaces } => {
                let Some(i) = self.pod(e) else {
                    return false;
                };
                let w = self.workload(i);
                let ns_ok = match namespaces {
                    None => w.namespace == policy_ns,
                    Some(sel) => policy::selects(sel, &self.ns_labels[i]),
                };
                ns_ok
                    && pods
                        .as_ref()
                        .is_none_or(|sel| policy::selects(sel, &w.labels))
            }
        }
    }

    /// Whether a rule's ports admit `port` to destination `to`.
    fn port_matches(&self, rule: &Rule, port: &FlowPort, to: &Endpoint) -> bool {
        let Some(ports) = &rule.ports else {
            return true;
        };
        ports.iter().any(|p| {
            p.protocol == port.protocol
                && match &p.port {
                    PortMatch::Range(first, last) => *first <= port.port && port.port <= *last,
                    PortMatch::Named(name) => match to {
                        Endpoint::Workload(w) => {
                            self.workload(*w).named_port(p.protocol, name) == Some(port.port)
                        }
                        _ => false,
                    },
                }
        })
    }

    /// The policy side of `subject` (a pod) for `dir`, with `peer` the other end.
    fn policy_side(
        &self,
        dir: Dir,
        subject: usize,
        peer: &Endpoint,
        port: &FlowPort,
        to: &Endpoint,
    ) -> SideVerdict {
        let layer = Layer::NetworkPolicy;
        let w = self.workload(subject);
        let way = match dir {
            Dir::Ingress => "ingress",
            Dir::Egress => "egress",
        };
        if !self.enforced {
            let mut v = SideVerdict::allowed(
                Layer::None,
                format!(
                    "policies not enforced: {:?} on {:?} does not enforce NetworkPolicies",
                    self.plan.cni.plugin, self.plan.distribution
                )
                .to_lowercase(),
                Vec::new(),
            );
            v.code = Some(code::CNI_POLICY_NOT_ENFORCED);
            return v;
        }
        let selecting = &self.selecting[subject][dir_index(dir)];
        if selecting.is_empty() {
            return SideVerdict::allowed(
                layer,
                format!("no policy selects {} for {way}: not isolated", w.id()),
                Vec::new(),
            );
        }
        let mut allows = Vec::new();
        for &pi in selecting {
            let p = &self.policies[pi];
            for (ri, rule) in p.rules(dir).unwrap_or_default().iter().enumerate() {
                let peers_ok = match &rule.peers {
                    None => true,
                    Some(peers) => peers
                        .iter()
                        .any(|pe| self.peer_matches(&p.namespace, pe, peer)),
                };
                if peers_ok && self.port_matches(rule, port, to) {
                    allows.push(Decider {
                        policy: Some(p.id()),
                        node: None,
                        what: format!("{way} rule {} allows", ri + 1),
                        span: rule.span,
                        line: None,
                    });
                }
            }
        }
        if allows.is_empty() {
            let isolating = selecting
                .iter()
                .map(|&pi| {
                    let p = &self.policies[pi];
                    Decider {
                        policy: Some(p.id()),
                        node: None,
                        what: format!("selects {} for {way}, no rule matches", w.id()),
                        span: p.span,
                        line: None,
                    }
                })
                .collect();
            SideVerdict::denied(
                layer,
                format!(
                    "{} is isolated for {way} and no rule admits {} on {port}",
                    w.id(),
                    self.describe(peer)
                ),
                isolating,
            )
        } else {
            SideVerdict::allowed(
                layer,
                format!(
                    "{} is isolated for {way}; {} allow{} {} on {port}",
                    w.id(),
                    count(allows.len(), "rule"),
                    if allows.len() == 1 { "s" } else { "" },
                    self.describe(peer)
                ),
                allows,
            )
        }
    }

    /// The node firewall side for a destination node or hostNetwork workload: allowed only
    /// if every node it may be on accepts, however the connection may arrive there
    /// ([`Self::seen_at`]).
    fn firewall_side(
        &self,
        nodes: &[usize],
        from: &Endpoint,
        to: &Endpoint,
        port: &FlowPort,
    ) -> SideVerdict {
        let mut first = None;
        for &d in nodes {
            // The source's own addresses once, first.
            let mut seen: Vec<Seen> = self.seen_at(from, to, d).collect();
            seen.sort_by_key(|s| *s != Seen::Own);
            seen.dedup();
            for seen in seen {
                let v = self.firewall_verdict(d, &seen, from, to, port);
                if !v.allowed {
                    return v;
                }
                first.get_or_insert(v);
            }
        }
        first.unwrap_or_else(|| {
            SideVerdict::denied(
                Layer::None,
                "no node in the intent for this destination".to_owned(),
                Vec::new(),
            )
        })
    }

    /// The source's side.
    fn egress_side(&self, from: &Endpoint, to: &Endpoint, port: &FlowPort) -> SideVerdict {
        match from {
            Endpoint::Cidr(n) => SideVerdict::allowed(
                Layer::None,
                format!("{n} is outside what the intent describes: no egress side"),
                Vec::new(),
            ),
            Endpoint::Node(_) | Endpoint::Workload(_) if self.pod(from).is_none() => {
                SideVerdict::allowed(
                    Layer::None,
                    "host traffic leaving a node is not filtered (the node firewall filters input)"
                        .to_owned(),
                    Vec::new(),
                )
            }
            _ => {
                let subject = self.pod(from).unwrap_or_default();
                self.policy_side(Dir::Egress, subject, to, port, to)
            }
        }
    }

    /// The destination's side.
    fn ingress_side(&self, from: &Endpoint, to: &Endpoint, port: &FlowPort) -> SideVerdict {
        match to {
            Endpoint::Cidr(n) => {
                let mut reason =
                    format!("{n} is outside what the intent describes: no ingress side");
                let masqueraded = self.masqueraded_to_outside(from, *n);
                let mut rules = Vec::new();
                match masqueraded.as_slice() {
                    [] => {}
                    [(s, net, maybe)] => {
                        reason = format!(
                            "{reason}; {}",
                            self.masquerade_text(from, *s, *net, *maybe, &[*n])
                        );
                        rules.push(self.masquerade_decider(*s, *net, *maybe));
                    }
                    [(s, net, _), ..] => {
                        let by = self.masquerades[*s].by.describe();
                        let maybe = masqueraded.iter().any(|(_, _, maybe)| *maybe);
                        let (leaves, how, known) = if maybe {
                            (
                                "may leave",
                                format!(
                                    "netc does not know whether {by} covers {net} to this destination: {}",
                                    self.masquerades[*s].why_uncertain(*net, &[*n])
                                ),
                                ", not known to apply",
                            )
                        } else {
                            (
                                "leaves",
                                format!("{by} masquerades {net} to outside it"),
                                "",
                            )
                        };
                        reason = format!(
                            "{reason}; {} {leaves} any of its {} nodes masqueraded to that node's \
                             address ({how})",
                            self.describe(from),
                            masqueraded.len()
                        );
                        rules.push(Decider {
                            policy: None,
                            node: None,
                            what: format!("masquerade of {net} ({by}{known}) on each node"),
                            span: Default::default(),
                            line: None,
                        });
                    }
                }
                SideVerdict::allowed(Layer::None, reason, rules)
            }
            Endpoint::Node(n) => self.firewall_side(&[*n], from, to, port),
            Endpoint::Workload(i) => {
                let w = self.workload(*i);
                if w.host_network {
                    return self.firewall_side(&self.nodes_of(w), from, to, port);
                }
                if self.sent_by_own_node(from, w) {
                    return SideVerdict::allowed(
                        Layer::NetworkPolicy,
                        format!(
                            "traffic from the node a pod runs on is always allowed ({} runs on {})",
                            w.id(),
                            w.nodes[0]
                        ),
                        Vec::new(),
                    );
                }
                self.pod_ingress_side(*i, from, port, to)
            }
        }
    }

    /// How a connection from `from` may reach pod `subject`: `None` with the source's own
    /// address, `Some((s, net, maybe))` from node `s`'s address, masqueraded (`net`, the
    /// masquerade's source network; `maybe`: netc does not know whether it applies) by a node
    /// the source may run on, other than one the destination may run on. Pod to pod is
    /// masqueraded only where the node's masquerade covers the destination node's pod subnet
    /// (the bridge plugin's `ipMasq` under flannel on RKE2, Canonical's IPv6-only native
    /// routing); each way once, the pod's own address first.
    fn pod_ingress_ways(
        &self,
        from: &Endpoint,
        subject: usize,
    ) -> Vec<Option<(usize, IpNet, bool)>> {
        let mut ways = Vec::new();
        let Some(src) = self.pod(from).filter(|_| self.masquerading_pods) else {
            return vec![None];
        };
        let (senders, dests) = (
            self.nodes_of(self.workload(src)),
            self.nodes_of(self.workload(subject)),
        );
        for &d in &dests {
            let to = &self.plan.nodes[d].pod_cidrs;
            for &s in &senders {
                let (m, pods) = (&self.masquerades[s], &self.plan.nodes[s].pod_cidrs);
                let masq = (s != d).then(|| m.masquerades(pods, to)).flatten();
                let maybe = (s != d && masq.is_none())
                    .then(|| m.may_masquerade(pods, to))
                    .flatten();
                if let Some(net) = masq {
                    ways.push(Some((s, net, false)));
                } else {
                    ways.push(None);
                    if let Some(net) = maybe {
                        ways.push(Some((s, net, true)));
                    }
                }
            }
        }
        if ways.is_empty() {
            ways.push(None);
        }
        ways.sort_by_key(|w| w.map(|(s, net, maybe)| (s, net, maybe)));
        ways.dedup();
        ways
    }

    /// A pod's ingress policy side, for every way the connection may arrive
    /// ([`Self::pod_ingress_ways`]): a masqueraded one is judged as its node (an ipBlock may
    /// admit the node's address; pod selectors do not match it), and the answer names the
    /// masquerade; allowed only if every way is.
    fn pod_ingress_side(
        &self,
        subject: usize,
        from: &Endpoint,
        port: &FlowPort,
        to: &Endpoint,
    ) -> SideVerdict {
        let mut first = None;
        for way in self.pod_ingress_ways(from, subject) {
            let v = match way {
                None => self.policy_side(Dir::Ingress, subject, from, port, to),
                Some((s, net, maybe)) => {
                    let mut v =
                        self.policy_side(Dir::Ingress, subject, &Endpoint::Node(s), port, to);
                    v.reason = format!(
                        "{}; {}",
                        self.masquerade_text(from, s, net, maybe, &self.addresses(to)),
                        v.reason
                    );
                    v.rules.insert(0, self.masquerade_decider(s, net, maybe));
                    v
                }
            };
            if !v.allowed {
                return v;
            }
            first.get_or_insert(v);
        }
        first.unwrap_or_else(|| self.policy_side(Dir::Ingress, subject, from, port, to))
    }

    /// The answer for `from` → `to` on `port`.
    pub fn explain(&self, from: &Endpoint, to: &Endpoint, port: &FlowPort) -> Explanation {
        let egress = self.egress_side(from, to, port);
        let ingress = self.ingress_side(from, to, port);
        Explanation {
            from: self.describe(from),
            to: self.describe(to),
            port: port.to_string(),
            allowed: egress.allowed && ingress.allowed,
            policies_enforced: self.enforced,
            egress,
            ingress,
        }
    }

    /// Only the verdict (the matrix's hot path: no text).
    pub fn allowed(&self, from: &Endpoint, to: &Endpoint, port: &FlowPort) -> bool {
        let side = |dir: Dir, subject: usize, peer: &Endpoint| {
            if !self.enforced {
                return true;
            }
            let selecting = &self.selecting[subject][dir_index(dir)];
            selecting.is_empty()
                || selecting.iter().any(|&pi| {
                    let p = &self.policies[pi];
                    p.rules(dir).unwrap_or_default().iter().any(|rule| {
                        rule.peers.as_ref().is_none_or(|peers| {
                            peers
                                .iter()
                                .any(|pe| self.peer_matches(&p.namespace, pe, peer))
                        }) && self.port_matches(rule, port, to)
                    })
                })
        };
        let egress = match self.pod(from) {
            Some(s) => side(Dir::Egress, s, to),
            None => true,
        };
        egress
            && match (to, self.pod(to)) {
                (Endpoint::Workload(i), Some(_)) => {
                    self.sent_by_own_node(from, self.workload(*i))
                        || self.pod_ingress_ways(from, *i).iter().all(|way| match way {
                            None => side(Dir::Ingress, *i, from),
                            Some((s, ..)) => side(Dir::Ingress, *i, &Endpoint::Node(*s)),
                        })
                }
                (Endpoint::Workload(i), None) => {
                    self.firewall_allows(&self.nodes_of(self.workload(*i)), from, to, port)
                }
                (Endpoint::Node(n), _) => self.firewall_allows(&[*n], from, to, port),
                (Endpoint::Cidr(_), _) => true,
            }
    }

    /// Every endpoint of the matrix: the workloads, then the nodes.
    pub fn endpoints(&self) -> Vec<Endpoint> {
        (0..self.plan.workloads.list.len())
            .map(Endpoint::Workload)
            .chain((0..self.plan.nodes.len()).map(Endpoint::Node))
            .collect()
    }

    /// The policies selecting workload `i` for `dir` (for lint).
    pub fn selecting(&self, i: usize, dir: Dir) -> &[usize] {
        &self.selecting[i][dir_index(dir)]
    }

    /// Whether a peer of a policy in `ns` matches any workload (for lint).
    pub fn peer_matches_any(&self, ns: &str, peer: &CompiledPeer) -> bool {
        (0..self.plan.workloads.list.len()).any(|i| {
            self.pod(&Endpoint::Workload(i)).is_some()
                && self.peer_matches(ns, peer, &Endpoint::Workload(i))
        })
    }
}

/// A node's primary address, which its host traffic leaves from (and a masquerade rewrites
/// its pods' to) and node peers name.
fn node_addresses(n: &NodePlan) -> Vec<IpNet> {
    n.address.iter().map(|a| IpNet::from(a.addr())).collect()
}

/// The addresses a hostNetwork workload answers at on `node`: the node's, except the API
/// server, which answers at its node's API address (a specific `bindAddress`, else the
/// advertised one), which need not be the node's primary address.
fn host_network_addresses(w: &WorkloadPlan, node: &NodePlan) -> Vec<IpNet> {
    match (w.origin, node.api_address()) {
        (WorkloadOrigin::ApiServer, Some(ip)) => vec![IpNet::from(ip)],
        _ => node_addresses(node),
    }
}

/// What one rule admits beyond the declared workloads: any pod of any namespace a selector
/// could match, any address of an ipBlock.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Exposure {
    /// The emitted NetworkPolicy, `namespace/name`.
    pub policy: String,
    pub direction: Dir,
    /// 1-based rule index in the policy.
    pub rule: usize,
    /// In words: who (or where) the rule admits, on which ports.
    pub admits: String,
    #[serde(skip)]
    pub span: Span,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

fn selector_text(sel: &Selector) -> String {
    sel.text()
}

/// "every pod" / "pods labelled app=web".
fn pods_text(sel: Option<&Selector>) -> String {
    match sel {
        Some(sel) if !sel.is_empty() => format!("pods labelled {}", selector_text(sel)),
        _ => "every pod".to_owned(),
    }
}

fn peer_text(policy_ns: &str, peer: &CompiledPeer) -> String {
    match peer {
        CompiledPeer::Block { cidr, except } if except.is_empty() => {
            format!("any address in {cidr}")
        }
        CompiledPeer::Block { cidr, except } => {
            let ex: Vec<String> = except.iter().map(ToString::to_string).collect();
            format!("any address in {cidr} except {}", ex.join(", "))
        }
        CompiledPeer::Selectors { pods, namespaces } => {
            let pods = pods_text(pods.as_ref());
            let ns = match namespaces {
                None => format!("of namespace {policy_ns}"),
                Some(sel) if sel.is_empty() => "of any namespace".to_owned(),
                Some(sel) => format!("of the namespaces labelled {}", selector_text(sel)),
            };
            format!("{pods} {ns}, declared or not")
        }
    }
}

fn ports_text(rule: &Rule) -> String {
    match &rule.ports {
        None => "on every port".to_owned(),
        Some(ports) => {
            let list: Vec<String> = ports
                .iter()
                .map(|p| match &p.port {
                    PortMatch::Range(a, b) if a == b => format!("{}/{a}", p.protocol),
                    PortMatch::Range(a, b) => format!("{}/{a}-{b}", p.protocol),
                    PortMatch::Named(n) => format!("{}/{n}", p.protocol),
                })
                .collect();
            format!("on {}", list.join(", "))
        }
    }
}

/// Every rule of every policy, with what it admits from workloads that may not exist yet.
pub fn exposure(c: &Connectivity<'_>) -> Vec<Exposure> {
    let mut out = Vec::new();
    for p in &c.policies {
        for dir in [Dir::Ingress, Dir::Egress] {
            for (i, rule) in p.rules(dir).unwrap_or_default().iter().enumerate() {
                let who = match &rule.peers {
                    None => match dir {
                        Dir::Ingress => "every source, inside the cluster or not".to_owned(),
                        Dir::Egress => "every destination, inside the cluster or not".to_owned(),
                    },
                    Some(peers) => peers
                        .iter()
                        .map(|pe| peer_text(&p.namespace, pe))
                        .collect::<Vec<_>>()
                        .join("; or "),
                };
                let subject = pods_text(Some(&p.selector));
                let admits = match dir {
                    Dir::Ingress => format!(
                        "{subject} of {} accept from {who} {}",
                        p.namespace,
                        ports_text(rule)
                    ),
                    Dir::Egress => format!(
                        "{subject} of {} may connect to {who} {}",
                        p.namespace,
                        ports_text(rule)
                    ),
                };
                out.push(Exposure {
                    policy: p.id(),
                    direction: dir,
                    rule: i + 1,
                    admits,
                    span: rule.span,
                    line: None,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Connectivity;
    use crate::diagnostic::SourceFile;
    use crate::intent::Syntax;
    use crate::pipeline;

    /// The API server's addresses, as `explain` evaluates flows to it.
    fn api_server_addresses(text: &str) -> Vec<String> {
        let checked = pipeline::check(&SourceFile::new("i.yaml", text), Syntax::Yaml);
        let plan = checked.plan.expect("plan");
        let c = Connectivity::new(&plan);
        let api = c.resolve("kube-system/kube-apiserver").expect("endpoint");
        c.addresses(&api).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn the_api_server_is_where_it_is_bound() {
        let example = include_str!("../../examples/kubeadm-calico-overlay.yaml");
        assert_eq!(api_server_addresses(example), ["10.0.1.100/32"]);
        // Bound to the data interface's address instead: only there, not the primary address.
        let data = example.replace("bindAddress: 10.0.1.100", "bindAddress: 10.10.0.100");
        assert_ne!(data, example);
        assert_eq!(api_server_addresses(&data), ["10.10.0.100/32"]);
    }
}
