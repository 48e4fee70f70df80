//! `netc explain` against real packets (issue 17 item 9), in the namespace lab (`tests/lab/`):
//! two nodes applied with `netc apply` (the emitted `inet netc` table, with its postrouting
//! masquerade, and the bridge conflist, run by Debian's containernetworking-plugins for one
//! pod per node), TCP servers on each node, and every question asked both ways: `explain`'s
//! verdict must be what the connection does.
//!
//! With the bridge plugin netc masquerades pod traffic leaving the pod network in the node
//! firewall (the conflist keeps `ipMasq: false`), so a pod reaching the other node arrives
//! from its node's address (only a rule for that address admits it), while one reaching its
//! own node keeps its pod address; a hostNetwork pod is its node (to itself, through `lo`).

mod lab;

use lab::{Lab, ok};
use netc::diagnostic::SourceFile;
use netc::explain::Connectivity;
use netc::intent::Syntax;
use netc::pipeline;

const NODES: &[(&str, &str)] = &[("n1", "172.16.0.2/24"), ("n2", "172.16.0.3/24")];

const INTENT: &str = r#"apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: masquerade-lab}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.32.0.0/24
  nodeCIDRMaskSize: 24
  controlPlaneEndpoint: 172.16.0.2:6443
cni:
  plugin: bridge
  encapsulation: none
nodes:
  - {name: n1, role: control-plane, address: 172.16.0.2/24, podCIDR: 10.244.0.0/24, interfaces: [{name: eth0, purpose: management}]}
  - {name: n2, role: worker, address: 172.16.0.3/24, podCIDR: 10.244.1.0/24, interfaces: [{name: eth0, purpose: management}]}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
    - {name: from-n1, ports: [tcp/7100], from: [172.16.0.2/32]}
workloads:
  - {namespace: app, name: p1, labels: {app: p1}, node: n1}
  - {namespace: app, name: p2, labels: {app: p2}, node: n2}
  - {namespace: app, name: h1, labels: {app: h1}, hostNetwork: true, node: n1}
  - {namespace: app, name: h2, labels: {app: h2}, hostNetwork: true, node: n2}
"#;

/// The bridge plugin's configuration as `apply` installed it: its first plugin, with the
/// list's name and version, and host-local's state kept in the lab.
fn installed_bridge_conf(lab: &Lab, node: &str) -> String {
    let root = lab.path(node, "root");
    let path = root.join("etc/cni/net.d/10-netc-bridge.conflist");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("apply installed no {}: {e}", path.display()));
    let list: serde_json::Value = serde_json::from_str(&text).expect("conflist is JSON");
    let mut conf = list["plugins"][0].clone();
    assert_eq!(
        conf["ipMasq"], false,
        "the plugin itself masquerades nothing"
    );
    conf["cniVersion"] = list["cniVersion"].clone();
    conf["name"] = list["name"].clone();
    conf["ipam"]["dataDir"] = lab.path(node, "cni-ipam").display().to_string().into();
    conf.to_string()
}

/// One question: `from` (a lab namespace sending as that endpoint) to `to` at `ip:port`.
struct Flow {
    from: &'static str,
    ns: &'static str,
    to: &'static str,
    ip: &'static str,
    port: u16,
    /// What the packets do (and so what explain must say).
    allowed: bool,
    why: &'static str,
}

const fn flow(
    from: &'static str,
    ns: &'static str,
    to: &'static str,
    ip: &'static str,
    port: u16,
    allowed: bool,
    why: &'static str,
) -> Flow {
    Flow {
        from,
        ns,
        to,
        ip,
        port,
        allowed,
        why,
    }
}

const FLOWS: &[Flow] = &[
    flow(
        "app/p1",
        "p1",
        "node/n2",
        "172.16.0.3",
        7000,
        false,
        "masqueraded to 172.16.0.2 by n1: not a trusted pod network at n2, nothing opens 7000",
    ),
    flow(
        "app/p1",
        "p1",
        "node/n2",
        "172.16.0.3",
        7100,
        true,
        "masqueraded to 172.16.0.2 by n1, which n2's rule from-n1 accepts",
    ),
    flow(
        "app/p1",
        "p1",
        "app/h2",
        "172.16.0.3",
        7000,
        false,
        "a hostNetwork pod on n2 is n2's address: masqueraded as to node/n2",
    ),
    flow(
        "app/p2",
        "p2",
        "node/n1",
        "172.16.0.2",
        7100,
        false,
        "masqueraded to 172.16.0.3 by n2, which from-n1 does not admit",
    ),
    flow(
        "app/p2",
        "p2",
        "node/n2",
        "172.16.0.3",
        7000,
        true,
        "to its own node: delivered locally with the pod's address, a trusted pod network",
    ),
    flow(
        "app/p1",
        "p1",
        "node/n1",
        "172.16.0.2",
        7100,
        true,
        "to its own node: the pod's address, trusted",
    ),
    flow(
        "app/h1",
        "n1",
        "node/n2",
        "172.16.0.3",
        7100,
        true,
        "a hostNetwork pod on n1 sends from n1's address, as node/n1",
    ),
    flow(
        "node/n1",
        "n1",
        "node/n2",
        "172.16.0.3",
        7100,
        true,
        "n1's address",
    ),
    flow(
        "app/h2",
        "n2",
        "node/n1",
        "172.16.0.2",
        7100,
        false,
        "a hostNetwork pod on n2 sends from n2's address, as node/n2",
    ),
    flow(
        "node/n2",
        "n2",
        "node/n1",
        "172.16.0.2",
        7100,
        false,
        "n2's address",
    ),
    flow(
        "app/h2",
        "n2",
        "node/n2",
        "172.16.0.3",
        7000,
        true,
        "a hostNetwork pod to its own node arrives on lo, accepted first",
    ),
    flow(
        "app/h2",
        "n2",
        "app/p1",
        "10.244.0.2",
        7000,
        true,
        "host to pod: the input chain filters nothing forwarded, bridge enforces no policies",
    ),
];

#[test]
fn explain_says_what_the_masqueraded_and_host_network_packets_do() {
    let src = SourceFile::new("masquerade-lab.yaml", INTENT);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let plan = checked
        .valid_plan()
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let c = Connectivity::new(plan);
    let verdicts: Vec<bool> = FLOWS
        .iter()
        .map(|f| {
            let from = c.resolve(f.from).expect("from");
            let to = c.resolve(f.to).expect("to");
            let port = c
                .resolve_port(&format!("tcp/{}", f.port), &to)
                .expect("port");
            c.explain(&from, &to, &port).allowed
        })
        .collect();

    let Some(mut lab) = Lab::new(NODES) else {
        return;
    };
    let file = lab.file("masquerade-lab.yaml", INTENT);
    ok(lab.apply("n1", &file, "n1", &[], &[]));
    ok(lab.apply("n2", &file, "n2", &[], &[]));
    let table = lab.exec("n1", &["nft", "list", "table", "inet", "netc"]);
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade"),
        "n1 runs the emitted masquerade:\n{table}"
    );
    let p1 = lab.add_pod("n1", "p1", &installed_bridge_conf(&lab, "n1"));
    let p2 = lab.add_pod("n2", "p2", &installed_bridge_conf(&lab, "n2"));
    assert_eq!(
        p1, "10.244.0.2",
        "the first pod of n1's subnet (the flows name it)"
    );
    assert!(p2.starts_with("10.244.1."), "pod on n2 got {p2}");
    for node in ["n1", "n2"] {
        lab.echo_peer(node, 7000);
        lab.echo_peer(node, 7100);
    }
    lab.echo_peer("p1", 7000);

    // The address each destination sees: the masquerade is real, the local path is not.
    assert_eq!(
        lab.seen_as("p1", "172.16.0.3", 7100).as_deref(),
        Some("172.16.0.2"),
        "n2 must see p1's connection from n1's address"
    );
    assert_eq!(
        lab.seen_as("p2", "172.16.0.3", 7000).as_deref(),
        Some(p2.as_str()),
        "n2 must see its own pod's address"
    );

    let mut failures = Vec::new();
    for (f, explained) in FLOWS.iter().zip(&verdicts) {
        let real = lab.connects(f.ns, f.ip, f.port);
        if real != f.allowed || *explained != real {
            failures.push(format!(
                "{} -> {} ({}:{}): the packets {}, explain says {}, expected {} ({})",
                f.from,
                f.to,
                f.ip,
                f.port,
                if real { "connect" } else { "are refused" },
                if *explained { "ALLOWED" } else { "DENIED" },
                if f.allowed { "allowed" } else { "denied" },
                f.why
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        lab.dump("n2")
    );
}
