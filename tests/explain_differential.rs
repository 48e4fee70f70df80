//! Differential test of `netc explain`: random intents (namespaces, workloads, unnamed one-rule
//! policies and named multi-rule policies, selectors with `matchLabels` and `matchExpressions`
//! of all four operators; `tests/explain_gen/`) are built, the emitted `policies/*.yaml` are
//! read back as plain JSON values, and an evaluator written here from the NetworkPolicy
//! specification (networking.k8s.io/v1 API reference and the Network Policies concept page),
//! sharing no code with netc, must give the same verdict as netc for every pair of endpoints on
//! several ports.
//!
//! The reference reads only the generated description (workloads, namespaces, pinned node
//! subnets) and the emitted documents; address math is done on plain `u32`s.

#[path = "consumers/support.rs"]
mod support;

mod explain_gen;

use serde_json::Value;

use explain_gen::{
    Coverage, Ep, NODES, Pod, Range, World, cidr, generate, inside, overlap, selects, types,
};
use netc::explain::Connectivity;

// ---------------------------------------------------------------------------------------------
// The reference evaluator, from the specification.

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
        Some(sel) => selects(sel, &world.ns_labels[&pod.ns]),
    };
    let pod_ok = match peer.get("podSelector") {
        None => true,
        Some(sel) => selects(sel, &pod.labels),
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
                && selects(&p["spec"]["podSelector"], &subject.labels)
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
    let mut coverage = Coverage::default();
    for seed in 1..=seeds {
        let (text, world) = generate(seed);
        let (plan, art) = support::build(&format!("diff-{seed}.yaml"), &text);
        let policies = emitted_policies(&art);
        coverage.add(&policies);
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
    coverage.assert_complete();
    eprintln!(
        "{compared} comparisons over {seeds} random intents: {allowed} allowed, {denied} denied; emitted: {coverage:?}"
    );
}
