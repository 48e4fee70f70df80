//! Differential test of `netc explain`: random intents (namespaces, workloads, policies) are
//! built, the emitted `policies/*.yaml` are read back as plain JSON values, and an evaluator
//! written here from the NetworkPolicy specification (networking.k8s.io/v1 API reference and
//! the Network Policies concept page), sharing no code with netc, must give the same verdict
//! as netc for every pair of endpoints on several ports.
//!
//! The reference reads only the generated description (workloads, namespaces, pinned node
//! subnets) and the emitted documents; address math is done on plain `u32`s.

#[path = "consumers/support.rs"]
mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use netc::explain::Connectivity;

// ---------------------------------------------------------------------------------------------
// A small deterministic generator (xorshift), so a failure is reproducible from its seed.

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// The world as the test describes it.

type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug)]
struct Pod {
    ns: String,
    name: String,
    labels: Labels,
    /// name -> (protocol as Kubernetes writes it, port)
    ports: BTreeMap<String, (String, u16)>,
    host_network: bool,
    node: Option<usize>,
}

/// Inclusive IPv4 range.
type Range = (u32, u32);

const NODES: [(&str, &str, &str); 3] = [
    ("n1", "10.0.1.11", "10.244.1.0/24"),
    ("n2", "10.0.1.12", "10.244.2.0/24"),
    ("n3", "10.0.1.13", "10.244.3.0/24"),
];
const POD_CIDR: &str = "10.244.0.0/16";

fn ip(text: &str) -> u32 {
    let mut v = 0u32;
    for part in text.split('.') {
        v = (v << 8) | part.parse::<u32>().expect("octet");
    }
    v
}

fn cidr(text: &str) -> Range {
    let (addr, len) = text.split_once('/').unwrap_or((text, "32"));
    let len: u32 = len.parse().expect("prefix");
    let size = if len == 0 {
        u32::MAX
    } else {
        (1u32 << (32 - len)) - 1
    };
    let start = ip(addr) & !size;
    (start, start | size)
}

fn inside(inner: Range, outer: Range) -> bool {
    outer.0 <= inner.0 && inner.1 <= outer.1
}

fn overlap(a: Range, b: Range) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

#[derive(Clone, Debug)]
enum Ep {
    Pod(usize),
    Node(usize),
    Ip(&'static str),
}

struct World {
    pods: Vec<Pod>,
    ns_labels: BTreeMap<String, Labels>,
}

impl World {
    /// The addresses an endpoint may have.
    fn ranges(&self, e: &Ep) -> Vec<Range> {
        match e {
            Ep::Ip(t) => vec![cidr(t)],
            Ep::Node(n) => vec![cidr(NODES[*n].1)],
            Ep::Pod(i) => {
                let p = &self.pods[*i];
                match (p.host_network, p.node) {
                    (true, Some(n)) => vec![cidr(NODES[n].1)],
                    (true, None) => NODES.iter().map(|n| cidr(n.1)).collect(),
                    (false, Some(n)) => vec![cidr(NODES[n].2)],
                    (false, None) => vec![cidr(POD_CIDR)],
                }
            }
        }
    }

    /// A pod NetworkPolicies apply to (hostNetwork pods are the node's).
    fn policy_pod(&self, e: &Ep) -> Option<&Pod> {
        match e {
            Ep::Pod(i) if !self.pods[*i].host_network => Some(&self.pods[*i]),
            _ => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The reference evaluator, from the specification.

fn match_labels(selector: &Value, labels: &Labels) -> bool {
    // LabelSelector: matchLabels pairs must all be present; {} (or absent fields) matches all.
    let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) else {
        return true;
    };
    ml.iter()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
}

fn peer_matches(world: &World, policy_ns: &str, peer: &Value, e: &Ep) -> bool {
    if let Some(block) = peer.get("ipBlock") {
        let c = cidr(block["cidr"].as_str().expect("cidr"));
        let except: Vec<Range> = block
            .get("except")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|x| cidr(x.as_str().expect("except")))
                    .collect()
            })
            .unwrap_or_default();
        let ranges = world.ranges(e);
        return !ranges.is_empty()
            && ranges
                .iter()
                .all(|r| inside(*r, c) && !except.iter().any(|x| overlap(*r, *x)));
    }
    let Some(pod) = world.policy_pod(e) else {
        return false;
    };
    let ns_ok = match peer.get("namespaceSelector") {
        None => pod.ns == policy_ns,
        Some(sel) => match_labels(sel, &world.ns_labels[&pod.ns]),
    };
    let pod_ok = match peer.get("podSelector") {
        None => true,
        Some(sel) => match_labels(sel, &pod.labels),
    };
    ns_ok && pod_ok
}

fn port_matches(world: &World, port: &Value, proto: &str, number: u16, dst: &Ep) -> bool {
    let p = port
        .get("protocol")
        .and_then(Value::as_str)
        .unwrap_or("TCP");
    if p != proto {
        return false;
    }
    match port.get("port") {
        None => true,
        Some(Value::Number(n)) => {
            let first = n.as_u64().expect("port") as u16;
            let last = port
                .get("endPort")
                .and_then(Value::as_u64)
                .map_or(first, |e| e as u16);
            first <= number && number <= last
        }
        Some(Value::String(name)) => match dst {
            Ep::Pod(i) => world.pods[*i]
                .ports
                .get(name)
                .is_some_and(|(pp, n)| pp == proto && *n == number),
            _ => false,
        },
        Some(other) => panic!("port {other}"),
    }
}

fn types(policy: &Value) -> Vec<String> {
    match policy["spec"].get("policyTypes").and_then(Value::as_array) {
        Some(t) => t
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => {
            // Default: Ingress always, Egress when egress rules are present.
            let mut t = vec!["Ingress".to_owned()];
            if policy["spec"].get("egress").is_some() {
                t.push("Egress".to_owned());
            }
            t
        }
    }
}

/// The connection's port and destination (named ports resolve there).
struct Flow<'a> {
    proto: &'a str,
    number: u16,
    dst: &'a Ep,
}

/// Whether `subject`'s side of the connection admits it; `peer` is the other end.
fn side(
    world: &World,
    policies: &[Value],
    subject: &Pod,
    dir: &str,
    peer: &Ep,
    flow: &Flow<'_>,
) -> bool {
    let Flow { proto, number, dst } = *flow;
    let (rules_key, peers_key) = if dir == "Ingress" {
        ("ingress", "from")
    } else {
        ("egress", "to")
    };
    let applicable: Vec<&Value> = policies
        .iter()
        .filter(|p| {
            p["metadata"]["namespace"].as_str() == Some(subject.ns.as_str())
                && match_labels(&p["spec"]["podSelector"], &subject.labels)
                && types(p).iter().any(|t| t == dir)
        })
        .collect();
    if applicable.is_empty() {
        return true;
    }
    applicable.iter().any(|p| {
        let ns = p["metadata"]["namespace"].as_str().expect("namespace");
        p["spec"]
            .get(rules_key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|rule| {
                let peers_ok = match rule.get(peers_key).and_then(Value::as_array) {
                    None => true,
                    Some(a) if a.is_empty() => true,
                    Some(a) => a.iter().any(|peer_v| peer_matches(world, ns, peer_v, peer)),
                };
                let ports_ok = match rule.get("ports").and_then(Value::as_array) {
                    None => true,
                    Some(a) if a.is_empty() => true,
                    Some(a) => a
                        .iter()
                        .any(|pt| port_matches(world, pt, proto, number, dst)),
                };
                peers_ok && ports_ok
            })
    })
}

fn reference(
    world: &World,
    policies: &[Value],
    from: &Ep,
    to: &Ep,
    proto: &str,
    number: u16,
) -> bool {
    let flow = Flow {
        proto,
        number,
        dst: to,
    };
    let egress = match world.policy_pod(from) {
        Some(pod) => side(world, policies, pod, "Egress", to, &flow),
        None => true,
    };
    let ingress = match world.policy_pod(to) {
        Some(pod) => {
            // Traffic from the node the pod runs on is always allowed; a hostNetwork pod
            // sends as its node.
            let sender = match from {
                Ep::Node(n) => Some(*n),
                Ep::Pod(i) if world.pods[*i].host_network => world.pods[*i].node,
                _ => None,
            };
            let local = matches!((sender, pod.node), (Some(n), Some(m)) if n == m);
            local || side(world, policies, pod, "Ingress", from, &flow)
        }
        None => true,
    };
    egress && ingress
}

// ---------------------------------------------------------------------------------------------
// Random intents.

const NAMESPACES: [&str; 3] = ["alpha", "beta", "gamma"];
const APPS: [&str; 3] = ["web", "api", "db"];
const BLOCKS: [(&str, &[&str]); 6] = [
    ("10.244.0.0/16", &[]),
    ("10.244.1.0/24", &[]),
    ("10.244.0.0/16", &["10.244.2.0/24"]),
    ("10.0.1.0/24", &["10.0.1.12/32"]),
    ("192.168.0.0/16", &["192.168.1.0/24"]),
    ("0.0.0.0/0", &["10.0.0.0/8"]),
];
const PORTS: [&str; 7] = [
    "tcp/80",
    "tcp/8080",
    "tcp/8000-8100",
    "udp/53",
    "tcp/http",
    "udp/dns",
    "sctp/80",
];

fn labels_yaml(l: &Labels) -> String {
    let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn random_labels(rng: &mut Rng) -> Labels {
    let mut l = Labels::new();
    if rng.chance(80) {
        l.insert("app".into(), (*rng.pick(&APPS)).into());
    }
    if rng.chance(40) {
        l.insert("tier".into(), (*rng.pick(&["front", "back"])).into());
    }
    l
}

fn random_selector(rng: &mut Rng) -> Labels {
    let mut l = Labels::new();
    if rng.chance(70) {
        l.insert("app".into(), (*rng.pick(&APPS)).into());
    }
    if rng.chance(20) {
        l.insert("tier".into(), (*rng.pick(&["front", "back"])).into());
    }
    l
}

fn random_peer(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{{pods: {}}}", labels_yaml(&random_selector(rng))),
        1 => format!("{{namespace: {{name: {}}}}}", rng.pick(&NAMESPACES)),
        2 => format!(
            "{{namespace: {{labels: {{team: {}}}}}}}",
            rng.pick(&["red", "blue"])
        ),
        3 => format!(
            "{{namespace: {{labels: {{team: {}}}}}, pods: {}}}",
            rng.pick(&["red", "blue"]),
            labels_yaml(&random_selector(rng))
        ),
        4 => "{namespace: {labels: {}}}".to_owned(),
        _ => {
            let (c, except) = rng.pick(&BLOCKS);
            if except.is_empty() {
                format!("{{cidr: {c}}}")
            } else {
                format!("{{cidr: {c}, except: [{}]}}", except.join(", "))
            }
        }
    }
}

/// A rule's peer list and ports (never ports with an absent peer list: netc refuses that).
fn random_rule(rng: &mut Rng, peers_key: &str) -> String {
    let mut s = String::new();
    let ports: Vec<&str> = (0..rng.below(3)).map(|_| *rng.pick(&PORTS)).collect();
    match rng.below(10) {
        0 if ports.is_empty() => {}
        0 | 1 => {
            let _ = write!(s, ", {peers_key}: []");
        }
        _ => {
            let peers: Vec<String> = (0..1 + rng.below(3)).map(|_| random_peer(rng)).collect();
            let _ = write!(s, ", {peers_key}: [{}]", peers.join(", "));
        }
    }
    if !ports.is_empty() {
        let _ = write!(s, ", ports: [{}]", ports.join(", "));
    }
    s
}

fn generate(seed: u64) -> (String, World) {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut ns_labels: BTreeMap<String, Labels> = BTreeMap::new();
    for ns in NAMESPACES {
        let mut l = Labels::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())]);
        if rng.chance(70) {
            l.insert("team".into(), (*rng.pick(&["red", "blue"])).into());
        }
        ns_labels.insert(ns.to_owned(), l);
    }
    let mut pods = Vec::new();
    for i in 0..6 + rng.below(6) {
        let ns = (*rng.pick(&NAMESPACES)).to_owned();
        let mut ports = BTreeMap::new();
        if rng.chance(60) {
            ports.insert(
                "http".to_owned(),
                ("TCP".to_owned(), *rng.pick(&[80u16, 8080, 8081])),
            );
        }
        if rng.chance(30) {
            ports.insert("dns".to_owned(), ("UDP".to_owned(), 53));
        }
        pods.push(Pod {
            ns,
            name: format!("w{i}"),
            labels: random_labels(&mut rng),
            ports,
            host_network: rng.chance(10),
            node: rng.chance(50).then(|| rng.below(NODES.len())),
        });
    }
    let mut text = String::from(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: diff}
cluster: {distribution: kubeadm, kubernetesVersion: v1.31.2, podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}
cni: {plugin: calico}
nodes:
",
    );
    for (name, addr, sub) in NODES {
        let _ = writeln!(
            text,
            "  - {{name: {name}, role: worker, address: {addr}/24, podCIDR: {sub}}}"
        );
    }
    text.push_str("workloads:\n");
    for p in &pods {
        let ns_extra: Labels = ns_labels[&p.ns]
            .iter()
            .filter(|(k, _)| k.as_str() != "kubernetes.io/metadata.name")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let ports: Vec<String> = p
            .ports
            .iter()
            .map(|(n, (proto, port))| format!("{n}: {}/{port}", proto.to_lowercase()))
            .collect();
        let _ = write!(
            text,
            "  - {{namespace: {}, name: {}, labels: {}, namespaceLabels: {}, ports: {{{}}}, hostNetwork: {}",
            p.ns,
            p.name,
            labels_yaml(&p.labels),
            labels_yaml(&ns_extra),
            ports.join(", "),
            p.host_network
        );
        if let Some(n) = p.node {
            let _ = write!(text, ", node: {}", NODES[n].0);
        }
        text.push_str("}\n");
    }
    let mut entries = 0;
    for ns in NAMESPACES {
        if rng.chance(25) {
            continue;
        }
        if entries == 0 {
            text.push_str("policies:\n");
        }
        entries += 1;
        let _ = writeln!(text, "  - namespace: {ns}");
        let deny: Vec<&str> = [("ingress", 50), ("egress", 40)]
            .iter()
            .filter(|(_, p)| rng.chance(*p))
            .map(|(d, _)| *d)
            .collect();
        let _ = writeln!(text, "    defaultDeny: [{}]", deny.join(", "));
        let _ = writeln!(text, "    allowDNS: {}", rng.chance(50));
        let n_in = rng.below(4);
        if n_in > 0 {
            let _ = writeln!(text, "    rules:");
        }
        for r in 0..n_in {
            let sel = if rng.chance(70) {
                format!(", to: {}", labels_yaml(&random_selector(&mut rng)))
            } else {
                String::new()
            };
            let rule = random_rule(&mut rng, "from");
            let _ = writeln!(text, "      - {{name: in-{r}{sel}{rule}}}");
        }
        let n_out = rng.below(4);
        if n_out > 0 {
            let _ = writeln!(text, "    egress:");
        }
        for r in 0..n_out {
            let sel = if rng.chance(70) {
                format!(", from: {}", labels_yaml(&random_selector(&mut rng)))
            } else {
                String::new()
            };
            let rule = random_rule(&mut rng, "to");
            let _ = writeln!(text, "      - {{name: out-{r}{sel}{rule}}}");
        }
    }
    (text, World { pods, ns_labels })
}

fn emitted_policies(art: &support::Artifacts) -> Vec<Value> {
    art.iter()
        .filter(|(p, _)| p.starts_with("policies/"))
        .flat_map(|(_, bytes)| {
            support::text(bytes)
                .split("\n---\n")
                .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{e}: {d}")))
                .collect::<Vec<_>>()
        })
        .filter(|d| d.get("kind").and_then(Value::as_str) == Some("NetworkPolicy"))
        .collect()
}

const QUERY_PORTS: [(&str, u16); 6] = [
    ("TCP", 80),
    ("TCP", 8080),
    ("TCP", 8081),
    ("TCP", 8100),
    ("UDP", 53),
    ("SCTP", 80),
];
const OUTSIDE: [&str; 4] = ["192.168.5.5", "192.168.1.9", "10.0.1.12", "203.0.113.7"];

#[test]
fn netc_agrees_with_an_independent_evaluator_on_random_intents() {
    let seeds = 150u64;
    let (mut compared, mut allowed, mut denied) = (0usize, 0usize, 0usize);
    for seed in 1..=seeds {
        let (text, world) = generate(seed);
        let (plan, art) = support::build(&format!("diff-{seed}.yaml"), &text);
        let policies = emitted_policies(&art);
        let c = Connectivity::new(&plan);
        // Endpoints on both sides, described independently and resolved by name in netc.
        let mut eps: Vec<(Ep, String)> = world
            .pods
            .iter()
            .enumerate()
            .map(|(i, p)| (Ep::Pod(i), format!("{}/{}", p.ns, p.name)))
            .collect();
        eps.extend((0..NODES.len()).map(|n| (Ep::Node(n), format!("node/{}", NODES[n].0))));
        eps.extend(OUTSIDE.iter().map(|a| (Ep::Ip(a), (*a).to_owned())));
        for (from, from_name) in &eps {
            for (to, to_name) in &eps {
                // The reference covers the NetworkPolicy layer: destinations that are pods.
                if world.policy_pod(to).is_none() && !matches!(to, Ep::Ip(_)) {
                    continue;
                }
                if matches!((from, to), (Ep::Ip(_), Ep::Ip(_))) {
                    continue;
                }
                let f = c
                    .resolve(from_name)
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                let t = c
                    .resolve(to_name)
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
                for (proto, number) in QUERY_PORTS {
                    let want = reference(&world, &policies, from, to, proto, number);
                    let port = c
                        .resolve_port(&format!("{}/{number}", proto.to_lowercase()), &t)
                        .unwrap_or_else(|e| panic!("{e}"));
                    let got = c.explain(&f, &t, &port);
                    let fast = c.allowed(&f, &t, &port);
                    assert!(
                        got.allowed == want && fast == want,
                        "seed {seed}: {from_name} -> {to_name} {proto}/{number}: reference {want}, \
                         netc explain {} (fast path {fast})\n  egress: {}\n  ingress: {}\nintent:\n{text}",
                        got.allowed,
                        got.egress.reason,
                        got.ingress.reason
                    );
                    compared += 1;
                    if want {
                        allowed += 1;
                    } else {
                        denied += 1;
                    }
                }
            }
        }
    }
    // Both verdicts occur often enough for the comparison to mean something.
    assert!(compared > 50_000, "only {compared} comparisons");
    assert!(
        allowed > compared / 10 && denied > compared / 10,
        "{allowed} allowed, {denied} denied"
    );
    eprintln!(
        "{compared} comparisons over {seeds} random intents: {allowed} allowed, {denied} denied"
    );
}
