//! `netc explain --matrix` against an independent analyzer: np-guard's network-config-analyzer
//! (NCA 2.1.0, PyPI `network-config-analyzer`, installed by `scripts/install-test-deps.sh` into
//! its own venv; `NETC_NCA` names its `nca` program, else `/opt/netc-test/nca/bin/nca`; without
//! it the tests print a note and pass).
//!
//! Two inputs:
//! - random intents (`tests/explain_gen/`: seeded, unnamed one-rule and named multi-rule
//!   policies, `matchExpressions` with In/NotIn/Exists/DoesNotExist, namespace selectors,
//!   ipBlocks, named and numbered ports, hostNetwork and pinned pods): `netc build` writes the
//!   NetworkPolicies, `netc explain --matrix json` gives netc's verdicts, and NCA computes its
//!   connectivity map (`connectivityMap` queries of one `--scheme` run, output
//!   `txt_no_fw_rules` with `outputEndpoints: pods`; nca/nca_cli.py and nca/SchemeRunner.py of
//!   the installed package) on the emitted NetworkPolicies and the same pods and namespaces
//!   given as a resource list;
//! - NCA's own test-suite policies (`../shared/policies/nca-k8s-testcases/`, skipped with a note
//!   where absent): `netc import policies` with the suite's pod and namespace lists, `build`,
//!   `explain --matrix`, against NCA on the original files.
//!
//! Each verdict of the matrix (a source, a pod destination, one of its declared ports) is
//! compared with NCA's. Two modelling choices of netc differ from NCA by design and are
//! excluded explicitly, each pair counted under its choice:
//! 1. an ipBlock covering the whole address range a pod may have (its node's pod subnet, or the
//!    pod network when it may run anywhere) matches that pod in netc; NCA never matches a pod
//!    with an ipBlock. Excluded: pairs where a policy selecting one end, in that direction, has
//!    such an ipBlock for the other end.
//! 2. a hostNetwork pod is its node in netc (policies do not select it; traffic to it meets the
//!    node firewall); NCA treats it as an ordinary pod. Excluded: pairs with a hostNetwork end.
//!
//! Outside NCA's model altogether (NCA has no nodes): destinations that are nodes (the node
//! firewall decides), and a node to a pod pinned on it (always allowed, the Kubernetes rule for
//! the node a pod runs on). A node towards any other pod is compared: NCA sees the node's
//! address as an IP source. Any other disagreement fails with the first differing pair.

#[path = "common/mod.rs"]
mod common;
mod explain_gen;
use common::yaml_files;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use explain_gen::{
    Coverage, Ep, Labels, NODES, Options, Pod, World, block_covers, generate_with, ip, selects,
};

fn nca() -> Option<PathBuf> {
    let path = std::env::var_os("NETC_NCA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/netc-test/nca/bin/nca"));
    path.is_file().then_some(path)
}

fn netc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_netc"))
        .args(args)
        .output()
        .expect("netc runs")
}

// ---------------------------------------------------------------------------------------------
// NCA's connectivity map, `txt_no_fw_rules`: one line `SRC => DST : CONNECTIONS` per pair and
// set of connections (nca/FWRules/ConnectivityGraph.py,
// get_connections_without_fw_rules_txt_format); pairs without connections are absent. SRC and
// DST are `ns/pod` or an IP range (`a.b.c.d-e.f.g.h`, or one address). CONNECTIONS is
// `All connections`, or cubes `{protocols:TCP, UDP,dst_ports:80,8000-8100}` joined by `,`,
// possibly as `All but ...` (the complement; nca/CoreDS/ConnectivityProperties.py,
// get_simplified_connections_representation); a protocol set may read `all but X, Y`
// (nca/CoreDS/ProtocolSet.py, __str__).

#[derive(Clone, Debug, PartialEq)]
enum End {
    Pod(String),
    Ips(u32, u32),
}

fn end(text: &str) -> Option<End> {
    let t = text.trim();
    let addr = |s: &str| {
        (s.split('.').count() == 4 && s.split('.').all(|o| o.parse::<u8>().is_ok())).then(|| ip(s))
    };
    if let Some((a, b)) = t.split_once('-')
        && let (Some(a), Some(b)) = (addr(a), addr(b))
    {
        return Some(End::Ips(a, b));
    }
    if let Some(a) = addr(t) {
        return Some(End::Ips(a, a));
    }
    if let Some((a, len)) = t.split_once('/')
        && let Some(a) = addr(a)
    {
        let r = explain_gen::cidr(&format!("{}/{len}", std::net::Ipv4Addr::from(a)));
        return Some(End::Ips(r.0, r.1));
    }
    // IPv6 ranges (NCA prints them when a policy names one): not a pod, not one of ours.
    if t.contains(':') {
        return None;
    }
    Some(End::Pod(t.to_owned()))
}

#[derive(Clone, Debug)]
struct Cube {
    /// `None`: every protocol; `Some((negated, names))`.
    protocols: Option<(bool, BTreeSet<String>)>,
    /// `None`: every port.
    ports: Option<Vec<(u16, u16)>>,
}

#[derive(Clone, Debug)]
enum Conns {
    All,
    Cubes { but: bool, cubes: Vec<Cube> },
}

fn cube(text: &str, line: &str) -> Cube {
    let body = text.trim().trim_start_matches('{').trim_end_matches('}');
    let (protos, ports) = match body.find("dst_ports:") {
        Some(i) => (
            body[..i].trim_end_matches(','),
            Some(body[i + "dst_ports:".len()..].trim()),
        ),
        None => (body, None),
    };
    let protocols = protos.strip_prefix("protocols:").map(|p| {
        let p = p.trim();
        let (neg, list) = match p.strip_prefix("all but ") {
            Some(rest) => (true, rest),
            None => (false, p),
        };
        (
            neg,
            list.split(',')
                .map(|s| s.trim().to_uppercase())
                .filter(|s| !s.is_empty())
                .collect(),
        )
    });
    assert!(
        protocols.is_some() || protos.is_empty(),
        "unknown NCA connection form {text:?} in {line:?}"
    );
    let ports = ports.map(|list| {
        list.split(',')
            .map(|r| {
                let r = r.trim();
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                let n = |s: &str| {
                    s.trim()
                        .parse::<u16>()
                        .unwrap_or_else(|_| panic!("port {s:?} in {line:?}"))
                };
                (n(a), n(b))
            })
            .collect()
    });
    Cube { protocols, ports }
}

fn conns(text: &str, line: &str) -> Conns {
    let t = text.trim();
    if t == "All connections" {
        return Conns::All;
    }
    let (but, rest) = match t.strip_prefix("All but ") {
        Some(r) => (true, r),
        None => (false, t),
    };
    assert!(
        rest.starts_with('{') && rest.ends_with('}'),
        "unknown NCA connection form in {line:?}"
    );
    let cubes = rest[1..rest.len() - 1]
        .split("},{")
        .map(|c| cube(c, line))
        .collect();
    Conns::Cubes { but, cubes }
}

impl Conns {
    fn admits(&self, proto: &str, port: u16) -> bool {
        match self {
            Conns::All => true,
            Conns::Cubes { but, cubes } => {
                let any = cubes.iter().any(|c| {
                    c.protocols
                        .as_ref()
                        .is_none_or(|(neg, names)| names.contains(proto) != *neg)
                        && c.ports
                            .as_ref()
                            .is_none_or(|rs| rs.iter().any(|(a, b)| *a <= port && port <= *b))
                });
                any != *but
            }
        }
    }
}

/// One connectivity map: (source, destination pod) → the connection sets NCA printed.
#[derive(Debug, Default)]
struct NcaMap(Vec<(End, String, Conns)>);

impl NcaMap {
    /// `prefix`: what the pod names NCA was given start with (stripped again here).
    fn parse(text: &str, prefix: &str) -> NcaMap {
        let mut out = Vec::new();
        for line in text.lines() {
            let Some((pair, c)) = line.split_once(" : ") else {
                continue;
            };
            let Some((src, dst)) = pair.split_once(" => ") else {
                continue;
            };
            let (Some(src), Some(End::Pod(dst))) = (end(src), end(dst)) else {
                continue;
            };
            let unprefix = |name: &str| {
                let (ns, pod) = name.split_once('/').unwrap_or(("", name));
                format!("{ns}/{}", pod.strip_prefix(prefix).unwrap_or(pod))
            };
            let src = match src {
                End::Pod(p) => End::Pod(unprefix(&p)),
                ips => ips,
            };
            let dst = unprefix(&dst);
            out.push((src, dst, conns(c, line)));
        }
        NcaMap(out)
    }

    /// NCA's lines towards `dst` (for a failure message).
    fn lines_to(&self, dst: &str) -> Vec<&(End, String, Conns)> {
        self.0.iter().filter(|(_, d, _)| d == dst).collect()
    }

    fn allowed(&self, src: &End, dst: &str, proto: &str, port: u16) -> bool {
        self.0.iter().any(|(s, d, c)| {
            d == dst
                && match (s, src) {
                    (End::Pod(a), End::Pod(b)) => a == b,
                    (End::Ips(a, b), End::Ips(x, _)) => a <= x && x <= b,
                    _ => false,
                }
                && c.admits(proto, port)
        })
    }
}

/// Runs NCA once on a scheme of `configs` (name, NetworkPolicy file, the config's input keys:
/// `resourceList`, or `podList` and `namespaceList`) with one
/// connectivity-map query each; returns each config's map. NCA keeps one table of pods for
/// all the configs of a run (nca/CoreDS/Peer.py, BasePeerSet, keyed by `ns/name`): configs
/// whose pods differ must name them apart, with the pod-name prefix `{config name}-`. A
/// config NCA wrote no map for is an error with NCA's output.
fn run_nca(
    nca: &Path,
    dir: &Path,
    configs: &[(String, PathBuf, Value)],
) -> Vec<Result<NcaMap, String>> {
    let mut scheme = json!({"networkConfigList": [], "queries": []});
    for (name, policies, inputs) in configs {
        let mut config = json!({"name": name, "networkPolicyList": [policies]});
        for (k, v) in inputs.as_object().into_iter().flatten() {
            config[k] = v.clone();
        }
        scheme["networkConfigList"]
            .as_array_mut()
            .expect("list")
            .push(config);
        scheme["queries"].as_array_mut().expect("list").push(json!({
            "name": format!("map-{name}"),
            "connectivityMap": [name],
            "outputConfiguration": {
                "outputFormat": "txt_no_fw_rules",
                "outputEndpoints": "pods",
                "outputPath": dir.join(format!("{name}.nca.txt")),
            },
        }));
    }
    let path = dir.join("scheme.yaml");
    // JSON is YAML: NCA reads the scheme with PyYAML.
    std::fs::write(&path, serde_json::to_string_pretty(&scheme).expect("json")).expect("write");
    let out = Command::new(nca)
        .arg("--scheme")
        .arg(&path)
        .output()
        .expect("nca runs");
    configs
        .iter()
        .map(|(name, _, _)| {
            let file = dir.join(format!("{name}.nca.txt"));
            let text = std::fs::read_to_string(&file).map_err(|_| {
                format!(
                    "NCA wrote no map for {name}:\n{}\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                )
            })?;
            Ok(NcaMap::parse(&text, &format!("{name}-")))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// netc's side and the comparison.

/// `netc explain FILE --matrix json`: (from, to, protocol, port, allowed).
fn netc_matrix(intent: &Path) -> Vec<(String, String, String, u16, bool)> {
    let out = netc(&["explain", &intent.display().to_string(), "--matrix", "json"]);
    assert!(
        out.status.success(),
        "netc explain {}: {}",
        intent.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("matrix json");
    v["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .map(|c| {
            // `tcp/8080` or `tcp/8080 (http)`.
            let port = c["port"].as_str().expect("port");
            let (proto, rest) = port.split_once('/').expect("proto/port");
            let number: u16 = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .expect("port number");
            (
                c["from"].as_str().expect("from").to_owned(),
                c["to"].as_str().expect("to").to_owned(),
                proto.to_uppercase(),
                number,
                c["allowed"].as_bool().expect("allowed"),
            )
        })
        .collect()
}

/// The verdict counts of a run.
#[derive(Debug, Default)]
struct Tally {
    compared: usize,
    allowed: usize,
    /// Excluded by choice 1 (ipBlock covering a pod), and how many of those differ.
    ip_block: usize,
    ip_block_differ: usize,
    /// Excluded by choice 2 (hostNetwork end), and how many of those differ.
    host_network: usize,
    host_network_differ: usize,
    /// Outside NCA's model: node destinations, a node to a pod pinned on it.
    outside: usize,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.compared += o.compared;
        self.allowed += o.allowed;
        self.ip_block += o.ip_block;
        self.ip_block_differ += o.ip_block_differ;
        self.host_network += o.host_network;
        self.host_network_differ += o.host_network_differ;
        self.outside += o.outside;
    }
}

/// What the comparison knows of a configuration, independently of netc: its pods (by
/// `ns/name`, pinned or not), namespaces, node addresses, and the NetworkPolicies as written.
struct Scene {
    world: World,
    nodes: BTreeMap<String, (u32, usize)>,
    policies: Vec<Value>,
}

impl Scene {
    fn pod(&self, name: &str) -> Option<usize> {
        self.world
            .pods
            .iter()
            .position(|p| format!("{}/{}", p.ns, p.name) == name)
    }

    /// Choice 1: a policy selecting `subject` for `dir` has an ipBlock (in a rule of that
    /// direction) covering every address `other` may have.
    fn ip_block_decides(&self, subject: &Pod, dir: &str, other: &Ep) -> bool {
        let (rules_key, peers_key) = if dir == "Ingress" {
            ("ingress", "from")
        } else {
            ("egress", "to")
        };
        let ranges = self.world.ranges(other);
        self.policies.iter().any(|p| {
            p["metadata"]["namespace"].as_str() == Some(subject.ns.as_str())
                && selects(&p["spec"]["podSelector"], &subject.labels)
                && explain_gen::types(p).iter().any(|t| t == dir)
                && p["spec"][rules_key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|r| r[peers_key].as_array().into_iter().flatten())
                    .filter_map(|peer| peer.get("ipBlock"))
                    .any(|b| block_covers(b, &ranges))
        })
    }

    /// Compares netc's matrix with NCA's map; `what` names the configuration in a failure.
    fn compare(
        &self,
        what: &str,
        matrix: &[(String, String, String, u16, bool)],
        nca: &NcaMap,
    ) -> Tally {
        let mut t = Tally::default();
        for (from, to, proto, port, got) in matrix {
            let Some(dst) = self.pod(to) else {
                // A node destination (node firewall), or a workload NCA was not given.
                t.outside += 1;
                continue;
            };
            let dst_pod = &self.world.pods[dst];
            let (src_end, src_ep) = if let Some((addr, n)) =
                from.strip_prefix("node/").and_then(|n| self.nodes.get(n))
            {
                if dst_pod.node == Some(*n) {
                    t.outside += 1;
                    continue;
                }
                (End::Ips(*addr, *addr), Ep::Node(*n))
            } else if let Some(src) = self.pod(from) {
                if src == dst {
                    // NCA leaves a workload's connections to itself out of its map.
                    continue;
                }
                (End::Pod(from.clone()), Ep::Pod(src))
            } else {
                t.outside += 1;
                continue;
            };
            let want = nca.allowed(&src_end, to, proto, *port);
            let src_pod = match src_ep {
                Ep::Pod(i) => Some(&self.world.pods[i]),
                _ => None,
            };
            if dst_pod.host_network || src_pod.is_some_and(|p| p.host_network) {
                t.host_network += 1;
                t.host_network_differ += usize::from(want != *got);
                continue;
            }
            // Choice 1 concerns pods only: a node's address is matched alike by both.
            let by_block = src_pod.is_some_and(|p| {
                self.ip_block_decides(dst_pod, "Ingress", &src_ep)
                    || self.ip_block_decides(p, "Egress", &Ep::Pod(dst))
            });
            if by_block {
                t.ip_block += 1;
                t.ip_block_differ += usize::from(want != *got);
                continue;
            }
            assert_eq!(
                *got,
                want,
                "{from} -> {to} {proto}/{port}: netc explain says {}, NCA says {} ({:?}), in {what}",
                allowed_word(*got),
                allowed_word(want),
                nca.lines_to(to)
            );
            t.compared += 1;
            t.allowed += usize::from(want);
        }
        t
    }
}

fn allowed_word(a: bool) -> &'static str {
    if a { "allowed" } else { "denied" }
}

// ---------------------------------------------------------------------------------------------
// Random intents.

const SEEDS: u64 = 150;

/// The cluster's own workloads netc knows without declaring them (src/plan/workloads.rs),
/// given to NCA as pods too: CoreDNS (kubeadm's labels and ports) and the API server
/// (hostNetwork on the control plane; these intents have none, so it may run anywhere).
fn cluster_pods() -> Vec<Pod> {
    vec![
        Pod {
            ns: "kube-system".into(),
            name: "coredns".into(),
            labels: Labels::from([("k8s-app".into(), "kube-dns".into())]),
            ports: BTreeMap::from([
                ("dns".into(), ("UDP".into(), 53)),
                ("dns-tcp".into(), ("TCP".into(), 53)),
                ("metrics".into(), ("TCP".into(), 9153)),
            ]),
            host_network: false,
            node: None,
        },
        Pod {
            ns: "kube-system".into(),
            name: "kube-apiserver".into(),
            labels: Labels::from([
                ("component".into(), "kube-apiserver".into()),
                ("tier".into(), "control-plane".into()),
            ]),
            ports: BTreeMap::from([("https".into(), ("TCP".into(), 6443))]),
            host_network: true,
            node: None,
        },
    ]
}

/// The pods and namespaces as Kubernetes objects, for NCA's resource list; pod names start
/// with `prefix`.
fn resources(world: &World, prefix: &str) -> String {
    let mut docs: Vec<Value> = world
        .ns_labels
        .iter()
        .map(|(ns, labels)| {
            json!({"apiVersion": "v1", "kind": "Namespace",
                   "metadata": {"name": ns, "labels": labels}})
        })
        .collect();
    for p in &world.pods {
        let ports: Vec<Value> = p
            .ports
            .iter()
            .map(|(name, (proto, port))| {
                json!({"name": name, "containerPort": port, "protocol": proto})
            })
            .collect();
        docs.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{prefix}{}", p.name), "namespace": p.ns, "labels": p.labels},
            "spec": {"hostNetwork": p.host_network,
                     "containers": [{"name": "c", "image": "x", "ports": ports}]},
        }));
    }
    docs.iter()
        .map(|d| format!("---\n{}\n", serde_json::to_string(d).expect("json")))
        .collect()
}

fn policy_stream(policies: &[Value]) -> String {
    policies
        .iter()
        .map(|d| format!("---\n{}\n", serde_json::to_string(d).expect("json")))
        .collect()
}

#[test]
fn netc_agrees_with_nca_on_random_intents() {
    let Some(nca) = nca() else {
        eprintln!(
            "note: network-config-analyzer absent (scripts/install-test-deps.sh, or NETC_NCA); explain-vs-NCA differential skipped"
        );
        return;
    };
    // NETC_NCA_KEEP=1 keeps the intents, NCA's inputs and maps for a look after a failure.
    let keep = std::env::var_os("NETC_NCA_KEEP").is_some();
    let dir = tempfile::Builder::new()
        .prefix("netc-nca-")
        .disable_cleanup(keep)
        .tempdir()
        .expect("tempdir");
    if keep {
        eprintln!("note: NCA inputs kept in {}", dir.path().display());
    }
    let mut scenes = Vec::new();
    let mut configs = Vec::new();
    let mut coverage = Coverage::default();
    for seed in 1..=SEEDS {
        let (text, mut world) = generate_with(
            seed,
            Options {
                key_ops_beside_namespaces: false,
            },
        );
        let intent = dir.path().join(format!("s{seed}.yaml"));
        std::fs::write(&intent, &text).expect("write");
        let out = dir.path().join(format!("s{seed}-out"));
        let built = netc(&[
            "build",
            &intent.display().to_string(),
            "-o",
            &out.display().to_string(),
        ]);
        assert!(
            built.status.success(),
            "seed {seed}: netc build: {}\n{text}",
            String::from_utf8_lossy(&built.stderr)
        );
        let files = emitted_policies(&out);
        let policies =
            explain_gen::network_policies(files.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        coverage.add(&policies);
        world.pods.extend(cluster_pods());
        world.ns_labels.insert(
            "kube-system".into(),
            Labels::from([("kubernetes.io/metadata.name".into(), "kube-system".into())]),
        );
        let pol_file = dir.path().join(format!("s{seed}-policies.yaml"));
        std::fs::write(&pol_file, policy_stream(&policies)).expect("write");
        let res_file = dir.path().join(format!("s{seed}-resources.yaml"));
        std::fs::write(&res_file, resources(&world, &format!("s{seed}-"))).expect("write");
        configs.push((
            format!("s{seed}"),
            pol_file,
            json!({"resourceList": [res_file]}),
        ));
        let nodes = NODES
            .iter()
            .enumerate()
            .map(|(i, (n, a, _))| ((*n).to_owned(), (ip(a), i)))
            .collect();
        scenes.push((
            seed,
            intent,
            text,
            Scene {
                world,
                nodes,
                policies,
            },
        ));
    }
    let maps = run_nca(&nca, dir.path(), &configs);
    let mut total = Tally::default();
    for ((seed, intent, text, scene), map) in scenes.iter().zip(&maps) {
        let map = map.as_ref().unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let matrix = netc_matrix(intent);
        let what = format!("seed {seed} (intent below)\n{text}\n");
        total.add(&scene.compare(&what, &matrix, map));
    }
    coverage.assert_complete();
    eprintln!(
        "note: netc vs NCA, {SEEDS} random intents: {} verdicts compared, {} agreed ({} allowed), 0 disagreements; excluded: {} by choice 1 (ipBlock covering a pod; {} of them differ), {} by choice 2 (hostNetwork; {} differ); {} outside NCA's model (node destinations, a node to its own pods)",
        total.compared,
        total.compared,
        total.allowed,
        total.ip_block,
        total.ip_block_differ,
        total.host_network,
        total.host_network_differ,
        total.outside
    );
    assert!(total.compared > 10_000, "only {} compared", total.compared);
    assert!(
        total.allowed > total.compared / 10 && total.compared - total.allowed > total.compared / 10,
        "{total:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// NCA's own test-suite policies, imported.

/// The intent around an imported fragment (as tests/import_policies.rs): a policy-enforcing
/// CNI, the pod network `explain_gen::POD_CIDR`, two nodes.
const HEAD: &str = "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: imported}
cluster: {distribution: kubeadm, kubernetesVersion: v1.31.2, podCIDR: 10.244.0.0/16, serviceCIDR: 10.96.0.0/12}
cni: {plugin: calico}
nodes:
  - {name: cp-1, role: control-plane, address: 10.0.1.10/24}
  - {name: worker-1, role: worker, address: 10.0.1.11/24}
";

/// The NetworkPolicy files `netc build` wrote under `out/policies`, as (artifact path, text).
fn emitted_policies(out: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(out.join("policies")) {
        for e in rd.flatten() {
            let text = std::fs::read_to_string(e.path()).expect("read");
            files.push((
                format!("policies/{}", e.file_name().to_string_lossy()),
                text,
            ));
        }
    }
    files
}

/// The pods (none pinned: the lists say nothing of nodes netc knows) and namespaces of NCA's
/// `PodList` and `NamespaceList` files.
fn world_of_lists(pods: &Path, namespaces: &Path) -> World {
    let read = |p: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json")
    };
    let labels = |v: &Value| -> Labels {
        v["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect()
    };
    let pods = read(pods)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| Pod {
            ns: p["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_owned(),
            name: p["metadata"]["name"].as_str().expect("name").to_owned(),
            labels: labels(p),
            ports: BTreeMap::new(),
            host_network: p["spec"]["hostNetwork"].as_bool().unwrap_or(false),
            node: None,
        })
        .collect();
    let ns_labels = read(namespaces)["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            let name = n["metadata"]["name"].as_str().expect("name").to_owned();
            let mut l = labels(n);
            l.insert("kubernetes.io/metadata.name".into(), name.clone());
            (name, l)
        })
        .collect();
    World { pods, ns_labels }
}

/// Each file of NetworkPolicies under NCA's `example_policies/`, with the suite's pod and
/// namespace lists: `netc import policies` → `build` → `explain --matrix`, against NCA's map of
/// the original file. Files netc refuses (at import: constructs outside NetworkPolicy v1; at
/// check: what the API server refuses, several objects of one name) are counted, not compared.
#[test]
fn netc_import_of_nca_test_policies_agrees_with_nca_on_the_originals() {
    let Some(nca) = nca() else {
        eprintln!(
            "note: network-config-analyzer absent (scripts/install-test-deps.sh, or NETC_NCA); NCA test-suite differential skipped"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/policies/nca-k8s-testcases");
    if !root.is_dir() {
        eprintln!(
            "note: {} absent; NCA test-suite differential skipped",
            root.display()
        );
        return;
    }
    let pods = root.join("example_podlist/pods_list.json");
    let namespaces = root.join("example_podlist/ns_list.json");
    let world = world_of_lists(&pods, &namespaces);
    let keep = std::env::var_os("NETC_NCA_KEEP").is_some();
    let dir = tempfile::Builder::new()
        .prefix("netc-nca-suite-")
        .disable_cleanup(keep)
        .tempdir()
        .expect("tempdir");
    let mut files = Vec::new();
    yaml_files(&root.join("example_policies"), &mut files);
    files.retain(|f| std::fs::read_to_string(f).is_ok_and(|t| t.contains("kind: NetworkPolicy")));
    let (mut refused_import, mut refused_check) = (Vec::new(), Vec::new());
    let mut cases = Vec::new();
    let mut configs = Vec::new();
    for (k, f) in files.iter().enumerate() {
        let rel = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        let imported = netc(&[
            "import",
            "policies",
            &f.display().to_string(),
            &pods.display().to_string(),
            &namespaces.display().to_string(),
        ]);
        if !imported.status.success() {
            let why = String::from_utf8_lossy(&imported.stderr);
            let why = why.lines().next().unwrap_or_default();
            let why = why.rsplit(": ").next().unwrap_or(why);
            refused_import.push(format!("{rel}: {why}"));
            continue;
        }
        let intent = dir.path().join(format!("case{k}.yaml"));
        std::fs::write(
            &intent,
            format!("{HEAD}{}", String::from_utf8_lossy(&imported.stdout)),
        )
        .expect("write");
        let out = dir.path().join(format!("case{k}-out"));
        let built = netc(&[
            "build",
            &intent.display().to_string(),
            "-o",
            &out.display().to_string(),
        ]);
        if !built.status.success() {
            let why = String::from_utf8_lossy(&built.stderr);
            let why = why
                .lines()
                .find(|l| l.contains("netc::"))
                .unwrap_or_default()
                .trim();
            refused_check.push(format!("{rel}: {why}"));
            continue;
        }
        let emitted = emitted_policies(&out);
        let policies =
            explain_gen::network_policies(emitted.iter().map(|(p, t)| (p.as_str(), t.as_str())));
        // The suite's own keys for its lists (a NamespaceList given as a resource list loses
        // the namespaces' labels).
        configs.push((
            format!("nca-case-{k}"),
            f.clone(),
            json!({"podList": [pods], "namespaceList": [namespaces]}),
        ));
        cases.push((rel, intent, policies));
    }
    let maps = run_nca(&nca, dir.path(), &configs);
    let mut total = Tally::default();
    let mut nca_refused = Vec::new();
    let nodes: BTreeMap<String, (u32, usize)> = [("cp-1", "10.0.1.10"), ("worker-1", "10.0.1.11")]
        .iter()
        .enumerate()
        .map(|(i, (n, a))| ((*n).to_owned(), (ip(a), i)))
        .collect();
    let mut compared_files = 0;
    for ((rel, intent, policies), map) in cases.into_iter().zip(maps) {
        let Ok(map) = map else {
            nca_refused.push(rel);
            continue;
        };
        let scene = Scene {
            world: World {
                pods: world.pods.clone(),
                ns_labels: world.ns_labels.clone(),
            },
            nodes: nodes.clone(),
            policies,
        };
        let matrix = netc_matrix(&intent);
        total.add(&scene.compare(&rel, &matrix, &map));
        compared_files += 1;
    }
    eprintln!(
        "note: netc vs NCA, NCA's test suite: {} files; {} refused by netc import ({}), {} by netc check ({}), {} by NCA ({}); {compared_files} imported and compared: {} verdicts compared, {} agreed ({} allowed), 0 disagreements; excluded: {} by choice 1 (ipBlock covering a pod; {} differ), {} by choice 2 (hostNetwork; {} differ); {} outside NCA's model or input",
        files.len(),
        refused_import.len(),
        refused_import.join(", "),
        refused_check.len(),
        refused_check.join(", "),
        nca_refused.len(),
        nca_refused.join(", "),
        total.compared,
        total.compared,
        total.allowed,
        total.ip_block,
        total.ip_block_differ,
        total.host_network,
        total.host_network_differ,
        total.outside
    );
    assert!(compared_files >= 50, "only {compared_files} files compared");
    assert!(total.compared > 1_000, "{total:?}");
}
