//! What the differential tests of `netc explain` share: a seeded generator of random intents
//! (namespaces, workloads, unnamed one-rule policies and named multi-rule policies, label
//! selectors with `matchLabels` and `matchExpressions` of all four operators, namespace
//! selectors, ipBlocks, ports), the world it describes (written independently of netc), and a
//! LabelSelector evaluator from the Kubernetes documentation. Used by
//! `tests/explain_differential.rs` (against an evaluator written in the test) and
//! `tests/explain_nca.rs` (against np-guard's network-config-analyzer).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// A small deterministic generator (xorshift), so a failure is reproducible from its seed.

pub struct Rng {
    state: u64,
    /// Whether a pod selector beside a namespace selector may use `Exists`/`DoesNotExist`
    /// (see [`Options`]).
    key_ops_beside_namespaces: bool,
}

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.state = x;
        x
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------------
// The world as the test describes it.

pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Debug)]
pub struct Pod {
    pub ns: String,
    pub name: String,
    pub labels: Labels,
    /// name -> (protocol as Kubernetes writes it, port)
    pub ports: BTreeMap<String, (String, u16)>,
    pub host_network: bool,
    pub node: Option<usize>,
}

/// Inclusive IPv4 range.
pub type Range = (u32, u32);

pub const NODES: [(&str, &str, &str); 3] = [
    ("n1", "10.0.1.11", "10.244.1.0/24"),
    ("n2", "10.0.1.12", "10.244.2.0/24"),
    ("n3", "10.0.1.13", "10.244.3.0/24"),
];
pub const POD_CIDR: &str = "10.244.0.0/16";

pub fn ip(text: &str) -> u32 {
    let mut v = 0u32;
    for part in text.split('.') {
        v = (v << 8) | part.parse::<u32>().expect("octet");
    }
    v
}

pub fn cidr(text: &str) -> Range {
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

pub fn inside(inner: Range, outer: Range) -> bool {
    outer.0 <= inner.0 && inner.1 <= outer.1
}

pub fn overlap(a: Range, b: Range) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

#[derive(Clone, Debug)]
pub enum Ep {
    Pod(usize),
    Node(usize),
    Ip(&'static str),
}

pub struct World {
    pub pods: Vec<Pod>,
    pub ns_labels: BTreeMap<String, Labels>,
}

impl World {
    /// The addresses an endpoint may have.
    pub fn ranges(&self, e: &Ep) -> Vec<Range> {
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
    pub fn policy_pod(&self, e: &Ep) -> Option<&Pod> {
        match e {
            Ep::Pod(i) if !self.pods[*i].host_network => Some(&self.pods[*i]),
            _ => None,
        }
    }
}

/// Whether an `ipBlock` (`{cidr, except}`) matches every address `ranges` may stand for: the
/// way netc decides a peer whose address is known only up to a range (README, explain).
/// An IPv6 block never covers these (IPv4) ranges.
pub fn block_covers(block: &Value, ranges: &[Range]) -> bool {
    let text = block["cidr"].as_str().expect("cidr");
    if text.contains(':') {
        return false;
    }
    let c = cidr(text);
    let except: Vec<Range> = block
        .get("except")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|x| !x.contains(':'))
                .map(cidr)
                .collect()
        })
        .unwrap_or_default();
    !ranges.is_empty()
        && ranges
            .iter()
            .all(|r| inside(*r, c) && !except.iter().any(|x| overlap(*r, *x)))
}

// ---------------------------------------------------------------------------------------------
// LabelSelector, from the Kubernetes documentation ("Labels and Selectors", set-based
// requirements; meta/v1 LabelSelector): matchLabels pairs and matchExpressions requirements
// are ANDed; an empty selector ({}) matches everything. `In`: the key is present and its value
// one of `values`; `NotIn`: the key is absent or its value none of `values`; `Exists`: the key
// is present; `DoesNotExist`: it is absent.

pub fn selects(selector: &Value, labels: &Labels) -> bool {
    let pairs_ok = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .is_none_or(|ml| {
            ml.iter()
                .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
        });
    let exprs_ok = selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .is_none_or(|exprs| {
            exprs.iter().all(|e| {
                let key = e["key"].as_str().expect("key");
                let values: Vec<&str> = e
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let have = labels.get(key).map(String::as_str);
                match e["operator"].as_str().expect("operator") {
                    "In" => have.is_some_and(|v| values.contains(&v)),
                    "NotIn" => have.is_none_or(|v| !values.contains(&v)),
                    "Exists" => have.is_some(),
                    "DoesNotExist" => have.is_none(),
                    other => panic!("operator {other}"),
                }
            })
        });
    pairs_ok && exprs_ok
}

/// A NetworkPolicy's `policyTypes`, with the API's default when absent: Ingress always, Egress
/// when egress rules are present.
pub fn types(policy: &Value) -> Vec<String> {
    match policy["spec"].get("policyTypes").and_then(Value::as_array) {
        Some(t) => t
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        None => {
            let mut t = vec!["Ingress".to_owned()];
            if policy["spec"].get("egress").is_some() {
                t.push("Egress".to_owned());
            }
            t
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Random intents.

pub const NAMESPACES: [&str; 3] = ["alpha", "beta", "gamma"];
const APPS: [&str; 3] = ["web", "api", "db"];
const TIERS: [&str; 2] = ["front", "back"];
const TEAMS: [&str; 2] = ["red", "blue"];
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

pub fn labels_yaml(l: &Labels) -> String {
    let pairs: Vec<String> = l.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", pairs.join(", "))
}

fn random_labels(rng: &mut Rng) -> Labels {
    let mut l = Labels::new();
    if rng.chance(80) {
        l.insert("app".into(), (*rng.pick(&APPS)).into());
    }
    if rng.chance(40) {
        l.insert("tier".into(), (*rng.pick(&TIERS)).into());
    }
    l
}

fn random_selector(rng: &mut Rng) -> Labels {
    let mut l = Labels::new();
    if rng.chance(70) {
        l.insert("app".into(), (*rng.pick(&APPS)).into());
    }
    if rng.chance(20) {
        l.insert("tier".into(), (*rng.pick(&TIERS)).into());
    }
    l
}

/// One `matchExpressions` requirement on `key` (values drawn from `values`), any operator, or
/// only `In`/`NotIn` without `key_ops` (the same draws: the intent differs only there).
fn random_requirement(rng: &mut Rng, key: &str, values: &[&str], key_ops: bool) -> String {
    match rng.below(4) {
        op @ (0 | 1) => {
            let mut vs: Vec<&str> = (0..1 + rng.below(2)).map(|_| *rng.pick(values)).collect();
            vs.sort_unstable();
            vs.dedup();
            let op = if op == 0 { "In" } else { "NotIn" };
            format!(
                "{{key: {key}, operator: {op}, values: [{}]}}",
                vs.join(", ")
            )
        }
        2 if key_ops => format!("{{key: {key}, operator: Exists}}"),
        3 if key_ops => format!("{{key: {key}, operator: DoesNotExist}}"),
        op => {
            let op = if op == 2 { "In" } else { "NotIn" };
            format!("{{key: {key}, operator: {op}, values: [{}]}}", values[0])
        }
    }
}

/// A pod selector's `matchExpressions`: one or two requirements on `app`/`tier`.
fn random_pod_expressions(rng: &mut Rng, key_ops: bool) -> String {
    let reqs: Vec<String> = (0..1 + rng.below(2))
        .map(|_| {
            if rng.chance(50) {
                random_requirement(rng, "app", &APPS, key_ops)
            } else {
                random_requirement(rng, "tier", &TIERS, key_ops)
            }
        })
        .collect();
    format!("[{}]", reqs.join(", "))
}

/// A namespace selector's `matchExpressions`: on `team`, or on the namespace's name.
fn random_namespace_expressions(rng: &mut Rng) -> String {
    if rng.chance(60) {
        format!("[{}]", random_requirement(rng, "team", &TEAMS, true))
    } else {
        format!(
            "[{}]",
            random_requirement(rng, "kubernetes.io/metadata.name", &NAMESPACES, true)
        )
    }
}

fn random_peer(rng: &mut Rng) -> String {
    match rng.below(9) {
        0 => format!("{{pods: {}}}", labels_yaml(&random_selector(rng))),
        1 => format!("{{namespace: {{name: {}}}}}", rng.pick(&NAMESPACES)),
        2 => format!("{{namespace: {{labels: {{team: {}}}}}}}", rng.pick(&TEAMS)),
        3 => format!(
            "{{namespace: {{labels: {{team: {}}}}}, pods: {}}}",
            rng.pick(&TEAMS),
            labels_yaml(&random_selector(rng))
        ),
        4 => "{namespace: {labels: {}}}".to_owned(),
        5 => {
            if rng.chance(50) {
                format!("{{podExpressions: {}}}", random_pod_expressions(rng, true))
            } else {
                format!(
                    "{{pods: {}, podExpressions: {}}}",
                    labels_yaml(&random_selector(rng)),
                    random_pod_expressions(rng, true)
                )
            }
        }
        6 => {
            let pods = if rng.chance(50) {
                let key_ops = rng.key_ops_beside_namespaces;
                format!(", podExpressions: {}", random_pod_expressions(rng, key_ops))
            } else {
                String::new()
            };
            format!(
                "{{namespace: {{expressions: {}}}{pods}}}",
                random_namespace_expressions(rng)
            )
        }
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

/// The selector of an unnamed rule's own pods (`to`/`from` with `toExpressions`/
/// `fromExpressions`), or nothing (every pod of the namespace).
fn random_own_pods(rng: &mut Rng, key: &str) -> String {
    let mut s = String::new();
    if rng.chance(60) {
        let _ = write!(s, ", {key}: {}", labels_yaml(&random_selector(rng)));
    }
    if rng.chance(25) {
        let _ = write!(
            s,
            ", {key}Expressions: {}",
            random_pod_expressions(rng, true)
        );
    }
    s
}

/// A rule of a named entry: `{from: ..., ports: ...}`; the peer list is always there (a named
/// policy isolates with `policyTypes`, and netc refuses a rule that admits nobody).
fn random_named_rule(rng: &mut Rng, peers_key: &str) -> String {
    let rule = random_rule(rng, peers_key);
    let rule = rule.trim_start_matches(", ");
    if rule.starts_with(peers_key) {
        format!("{{{rule}}}")
    } else if rule.is_empty() {
        format!("{{{peers_key}: []}}")
    } else {
        format!("{{{peers_key}: [], {rule}}}")
    }
}

/// A named entry: one NetworkPolicy with its own pod selector, `policyTypes` (or the default)
/// and several rules in both directions.
fn random_named(rng: &mut Rng, text: &mut String, ns: &str, k: usize) {
    let _ = write!(text, "  - {{namespace: {ns}, name: whole-{k}");
    if rng.chance(60) {
        let _ = write!(
            text,
            ", podSelector: {}",
            labels_yaml(&random_selector(rng))
        );
    }
    if rng.chance(40) {
        let _ = write!(
            text,
            ", podExpressions: {}",
            random_pod_expressions(rng, true)
        );
    }
    let n_in = rng.below(4);
    let n_out = rng.below(3);
    // Stated `policyTypes` cover the directions that have rules (the API server refuses rules
    // of an unlisted type, and so does netc).
    if rng.chance(40) {
        let t = match (n_in > 0, n_out > 0) {
            (_, true) => "[ingress, egress]",
            (true, false) => *rng.pick(&["[ingress]", "[ingress, egress]"]),
            (false, false) => *rng.pick(&["[ingress]", "[egress]", "[ingress, egress]"]),
        };
        let _ = write!(text, ", policyTypes: {t}");
    }
    if n_in > 0 {
        let rules: Vec<String> = (0..n_in).map(|_| random_named_rule(rng, "from")).collect();
        let _ = write!(text, ", rules: [{}]", rules.join(", "));
    }
    if n_out > 0 {
        let rules: Vec<String> = (0..n_out).map(|_| random_named_rule(rng, "to")).collect();
        let _ = write!(text, ", egress: [{}]", rules.join(", "));
    }
    text.push_str("}\n");
}

/// What a generated intent may contain beyond the default.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// A peer's pod selector beside a namespace selector may use `Exists`/`DoesNotExist`
    /// (default true). NCA 2.1.0 evaluates those two operators of a pod selector among the
    /// policy's own namespace only, also when a namespace selector picks other namespaces
    /// (nca/Parsers/K8sPolicyYamlParser.py, parse_label_selector_requirement →
    /// nca/NetworkConfig/PeerContainer.py, get_peers_with_key(self.namespace, ...); In/NotIn
    /// look at every namespace), against the NetworkPolicy API ("namespaceSelector and
    /// podSelector: ... selects particular Pods within particular namespaces"): the NCA
    /// differential leaves that combination out, the reference differential keeps it.
    pub key_ops_beside_namespaces: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            key_ops_beside_namespaces: true,
        }
    }
}

pub fn generate(seed: u64) -> (String, World) {
    generate_with(seed, Options::default())
}

pub fn generate_with(seed: u64, options: Options) -> (String, World) {
    let mut rng = Rng {
        state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        key_ops_beside_namespaces: options.key_ops_beside_namespaces,
    };
    let mut ns_labels: BTreeMap<String, Labels> = BTreeMap::new();
    for ns in NAMESPACES {
        let mut l = Labels::from([("kubernetes.io/metadata.name".to_owned(), ns.to_owned())]);
        if rng.chance(70) {
            l.insert("team".into(), (*rng.pick(&TEAMS)).into());
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
    let mut named = 0;
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
            let sel = random_own_pods(&mut rng, "to");
            let rule = random_rule(&mut rng, "from");
            let _ = writeln!(text, "      - {{name: in-{r}{sel}{rule}}}");
        }
        let n_out = rng.below(4);
        if n_out > 0 {
            let _ = writeln!(text, "    egress:");
        }
        for r in 0..n_out {
            let sel = random_own_pods(&mut rng, "from");
            let rule = random_rule(&mut rng, "to");
            let _ = writeln!(text, "      - {{name: out-{r}{sel}{rule}}}");
        }
        // Policies kept whole: up to two named multi-rule objects in the namespace.
        for _ in 0..rng.below(3) {
            random_named(&mut rng, &mut text, ns, named);
            named += 1;
        }
    }
    (text, World { pods, ns_labels })
}

/// The NetworkPolicy documents among a build's `policies/*.yaml`, as plain JSON values.
pub fn network_policies<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Value> {
    files
        .into_iter()
        .filter(|(p, _)| p.starts_with("policies/"))
        .flat_map(|(_, text)| {
            text.split("\n---\n")
                .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{e}: {d}")))
                .collect::<Vec<_>>()
        })
        .filter(|d| d.get("kind").and_then(Value::as_str) == Some("NetworkPolicy"))
        .collect()
}

/// What the emitted policies of a run exercised, so a test can show its generator reached
/// every construct: `matchExpressions` per operator, objects of several rules, objects with
/// rules in both directions, ipBlocks.
#[derive(Debug, Default)]
pub struct Coverage {
    pub operators: BTreeMap<String, usize>,
    pub multi_rule: usize,
    pub both_directions: usize,
    pub ip_blocks: usize,
    pub namespace_selectors: usize,
}

impl Coverage {
    pub fn add(&mut self, policies: &[Value]) {
        fn walk(v: &Value, c: &mut Coverage) {
            match v {
                Value::Object(m) => {
                    for (k, x) in m {
                        match k.as_str() {
                            "matchExpressions" => {
                                for e in x.as_array().into_iter().flatten() {
                                    if let Some(op) = e["operator"].as_str() {
                                        *c.operators.entry(op.to_owned()).or_default() += 1;
                                    }
                                }
                            }
                            "ipBlock" => c.ip_blocks += 1,
                            "namespaceSelector" => c.namespace_selectors += 1,
                            _ => walk(x, c),
                        }
                        if k == "namespaceSelector" {
                            walk(x, c);
                        }
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, c)),
                _ => {}
            }
        }
        for p in policies {
            let n = |k: &str| {
                p["spec"]
                    .get(k)
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len)
            };
            if n("ingress") + n("egress") > 1 {
                self.multi_rule += 1;
            }
            if n("ingress") > 0 && n("egress") > 0 {
                self.both_directions += 1;
            }
            walk(&p["spec"], self);
        }
    }

    /// Panics unless every operator, multi-rule and two-direction objects, ipBlocks and
    /// namespace selectors occurred.
    pub fn assert_complete(&self) {
        for op in ["In", "NotIn", "Exists", "DoesNotExist"] {
            assert!(
                self.operators.get(op).copied().unwrap_or(0) > 0,
                "no {op} expression: {self:?}"
            );
        }
        assert!(
            self.multi_rule > 0
                && self.both_directions > 0
                && self.ip_blocks > 0
                && self.namespace_selectors > 0,
            "{self:?}"
        );
    }
}
