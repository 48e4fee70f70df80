//! The conflists netc writes, executed by the reference CNI plugins (`/usr/lib/cni`, Debian's
//! containernetworking-plugins) inside network namespaces this test creates: each node is a
//! namespace holding its `cni0` bridge, each pod a further namespace.
//!
//! What they prove: the bridge conflist is accepted by bridge, host-local and portmap as
//! written; pods get addresses from their own node's subnet; two pods on a node reach each
//! other; DEL removes the interfaces and releases the addresses; and, for the "hard way"
//! example, worker-1's `routes.txt` carries pod traffic to worker-2's pods with their
//! addresses intact (the conflist's `ipMasq: false`).

#[path = "consumers/support.rs"]
mod support;

use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use serde_json::{Value, json};
use support::{Artifacts, Netns, build, build_example, skip_netns, text, veth};

/// Where Debian installs the reference plugins.
const CNI_PATH: &str = "/usr/lib/cni";

/// The hard-way example, inline for branches where `examples/` does not have it yet.
const HARD_WAY: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: hard-way}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.32.0.0/24
  nodeCIDRMaskSize: 24
  clusterDNS: 10.32.0.10
  controlPlaneEndpoint: 172.16.0.2:6443
cni: {plugin: bridge, encapsulation: none, mtu: 1500}
nodes:
  - {name: worker-1, role: worker, address: 172.16.0.3/24, podCIDR: 10.244.0.0/24,
     interfaces: [{name: eth0, mtu: 1500, purpose: management}]}
  - {name: worker-2, role: worker, address: 172.16.0.4/24, podCIDR: 10.244.1.0/24,
     interfaces: [{name: eth0, mtu: 1500, purpose: management}]}
  - {name: server, role: control-plane, address: 172.16.0.2/24,
     interfaces: [{name: eth0, mtu: 1500, purpose: management}]}
firewall: {backend: nftables, managementAccess: [tcp/22]}
"#;

/// Dual-stack bridge: one host-local range set per family.
const DUAL_STACK_BRIDGE: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: bridge-dual}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: [10.88.0.0/16, "fd00:88::/56"]
  serviceCIDR: [10.96.0.0/12, "fd00:96::/112"]
cni: {plugin: bridge, mtu: 1400}
nodes:
  - {name: node-a, role: control-plane, address: 192.168.7.10/24}
  - {name: node-b, role: worker, address: 192.168.7.11/24}
"#;

fn hard_way() -> (netc::plan::Plan, Artifacts) {
    build_example("hard-way-bridge.yaml").unwrap_or_else(|| build("hard-way.yaml", HARD_WAY))
}

/// One network configuration from a conflist, as the CNI spec hands it to a plugin.
fn plugin_conf(list: &Value, plugin: &Value, prev: Option<&Value>, data_dir: &Path) -> Vec<u8> {
    let mut conf = plugin.clone();
    conf["cniVersion"] = list["cniVersion"].clone();
    conf["name"] = list["name"].clone();
    if conf["ipam"]["type"] == "host-local" {
        // host-local's state goes to this test's directory, not the machine's.
        conf["ipam"]["dataDir"] = json!(data_dir.to_string_lossy());
    }
    if plugin["capabilities"]["portMappings"] == true {
        conf["runtimeConfig"] = json!({
            "portMappings": [{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]
        });
    }
    if let Some(prev) = prev {
        conf["prevResult"] = prev.clone();
    }
    serde_json::to_vec(&conf).unwrap_or_default()
}

/// Runs one plugin binary inside the node namespace.
fn invoke(
    node: &Netns,
    command: &str,
    pod: &Netns,
    container: &str,
    kind: &str,
    stdin: &[u8],
) -> Value {
    let binary = format!("{CNI_PATH}/{kind}");
    assert!(
        Path::new(&binary).exists(),
        "{binary} is missing: install containernetworking-plugins"
    );
    let netns = pod.path();
    let netns = netns.to_string_lossy();
    let out = node.exec(
        &[&binary],
        &[
            ("CNI_COMMAND", command),
            ("CNI_CONTAINERID", container),
            ("CNI_NETNS", &netns),
            ("CNI_IFNAME", "eth0"),
            ("CNI_PATH", CNI_PATH),
        ],
        Some(stdin),
    );
    assert!(
        out.status.success(),
        "{kind} {command} failed in {}:\nconf: {}\nstdout: {}\nstderr: {}",
        node.name,
        text(stdin),
        text(&out.stdout),
        text(&out.stderr)
    );
    if out.stdout.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{kind} {command}: result is not JSON ({e}): {}",
            text(&out.stdout)
        )
    })
}

/// ADD: every plugin in order, each getting the previous result (CNI spec, "Add").
fn add(node: &Netns, pod: &Netns, id: &str, list: &Value, data_dir: &Path) -> Value {
    let mut prev: Option<Value> = None;
    for plugin in list["plugins"].as_array().into_iter().flatten() {
        let kind = plugin["type"].as_str().unwrap_or_default();
        let conf = plugin_conf(list, plugin, prev.as_ref(), data_dir);
        prev = Some(invoke(node, "ADD", pod, id, kind, &conf));
    }
    prev.unwrap_or(Value::Null)
}

/// DEL: every plugin in reverse order, each getting the ADD's final result.
fn del(node: &Netns, pod: &Netns, id: &str, list: &Value, result: &Value, data_dir: &Path) {
    for plugin in list["plugins"].as_array().into_iter().flatten().rev() {
        let kind = plugin["type"].as_str().unwrap_or_default();
        let conf = plugin_conf(list, plugin, Some(result), data_dir);
        invoke(node, "DEL", pod, id, kind, &conf);
    }
}

/// The addresses a result assigned (`ips[].address`, with prefix).
fn result_ips(result: &Value) -> Vec<IpNet> {
    result["ips"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|ip| ip["address"].as_str()?.parse().ok())
        .collect()
}

fn parse_json(path: &str, art: &Artifacts) -> Value {
    let bytes = art
        .get(path)
        .unwrap_or_else(|| panic!("{path} was not written"));
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// A node namespace with pods attached by the node's conflist.
struct NodeUnderTest {
    node: Netns,
    pods: Vec<(Netns, String, Value)>,
    list: Value,
    data_dir: tempfile::TempDir,
}

impl NodeUnderTest {
    fn new(tag: &str, list: Value) -> Self {
        NodeUnderTest {
            node: Netns::new(tag),
            pods: Vec::new(),
            list,
            data_dir: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
        }
    }

    fn add_pod(&mut self, tag: &str, loopback: Option<&Value>) -> Vec<IpNet> {
        let pod = Netns::new(tag);
        if let Some(lo) = loopback {
            // A single network configuration, not a list: the plugin gets it as is.
            let conf = serde_json::to_vec(lo).unwrap_or_default();
            invoke(&self.node, "ADD", &pod, tag, "loopback", &conf);
            let state = pod.ok(&["ip", "-j", "link", "show", "lo"]);
            assert!(
                state.contains("LOOPBACK") && state.contains("\"UP\""),
                "lo not up: {state}"
            );
        }
        let id = format!("{tag}-container");
        let result = add(&self.node, &pod, &id, &self.list, self.data_dir.path());
        let ips = result_ips(&result);
        self.pods.push((pod, id, result));
        ips
    }

    /// DEL for every pod, then checks that nothing is left behind.
    fn del_all(&mut self) {
        for (pod, id, result) in &self.pods {
            del(
                &self.node,
                pod,
                id,
                &self.list,
                result,
                self.data_dir.path(),
            );
            let links = pod.ok(&["ip", "-o", "link", "show"]);
            assert!(
                !links.contains("eth0"),
                "eth0 still in {} after DEL: {links}",
                pod.name
            );
        }
        let name = self.list["name"].as_str().unwrap_or_default();
        let leases: Vec<String> = std::fs::read_dir(self.data_dir.path().join(name))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.parse::<IpAddr>().is_ok())
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            leases.is_empty(),
            "host-local kept leases after DEL: {leases:?}"
        );
    }
}

fn ping(from: &Netns, to: IpAddr) {
    let to = to.to_string();
    let flag = if to.contains(':') { "-6" } else { "-4" };
    let out = from.exec(&["ping", flag, "-c", "1", "-W", "3", &to], &[], None);
    assert!(
        out.status.success(),
        "{} cannot ping {to}:\n{}{}",
        from.name,
        text(&out.stdout),
        text(&out.stderr)
    );
}

fn root_has_link(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Runs every bridge conflist of one build: two pods per node, addresses, ping, DEL.
fn exercise_bridge_conflists(label: &str, plan: &netc::plan::Plan, art: &Artifacts) -> usize {
    let cni0_before = root_has_link("cni0");
    let mut nodes_run = 0;
    for (i, node) in plan.nodes.iter().enumerate() {
        let path = format!("cni/{}/10-netc-bridge.conflist", node.name);
        if !art.contains_key(&path) {
            continue;
        }
        let list = parse_json(&path, art);
        let lo = parse_json(&format!("cni/{}/99-loopback.conf", node.name), art);
        let mut n = NodeUnderTest::new(&format!("n{i}"), list);
        let a = n.add_pod(&format!("n{i}-p1"), Some(&lo));
        let b = n.add_pod(&format!("n{i}-p2"), None);
        assert_eq!(
            a.len(),
            node.pod_cidrs.len(),
            "{label} {path}: one address per family"
        );
        for ip in a.iter().chain(&b) {
            assert!(
                node.pod_cidrs.iter().any(|c| c.contains(&ip.addr())),
                "{label}: pod address {ip} on {} is outside its subnets {:?}",
                node.name,
                node.pod_cidrs
            );
        }
        // The bridge lives in the node's namespace, with the MTU the conflist asked for.
        let bridge = n.node.ok(&["ip", "-j", "link", "show", "cni0"]);
        let mtu = format!("\"mtu\":{}", plan.cni.mtu);
        assert!(
            bridge.contains(&mtu),
            "{label}: cni0 on {} is not {mtu}: {bridge}",
            node.name
        );
        // portmap installed the hostPort mapping in the node, nowhere else.
        if support::have("iptables-save") {
            let nat = n.node.ok(&["iptables-save", "-t", "nat"]);
            assert!(
                nat.contains("18080"),
                "{label}: no hostPort DNAT on {}",
                node.name
            );
        }
        let (p1, p2) = (&n.pods[0].0, &n.pods[1].0);
        for (x, y) in a.iter().zip(&b) {
            ping(p1, y.addr());
            ping(p2, x.addr());
        }
        n.del_all();
        nodes_run += 1;
    }
    assert_eq!(
        root_has_link("cni0"),
        cni0_before,
        "the root namespace's links changed"
    );
    nodes_run
}

#[test]
fn bridge_conflists_run_under_the_reference_plugins() {
    if skip_netns() {
        eprintln!("NETC_SKIP_NETNS=1: skipping the CNI namespace test");
        return;
    }
    let mut builds = vec![
        ("hard-way".to_owned(), hard_way()),
        (
            "bridge-dual".to_owned(),
            build("bridge-dual.yaml", DUAL_STACK_BRIDGE),
        ),
    ];
    for (name, plan, art) in support::all_examples() {
        if art.keys().any(|p| p.ends_with("10-netc-bridge.conflist"))
            && name != "hard-way-bridge.yaml"
        {
            builds.push((name, (plan, art)));
        }
    }
    for (label, (plan, art)) in &builds {
        let ran = exercise_bridge_conflists(label, plan, art);
        assert!(ran > 0, "{label}: no bridge conflist to run");
    }
}

#[test]
fn hard_way_routes_carry_pod_traffic_between_nodes() {
    let (plan, art) = hard_way();
    let routes = text(
        art.get("host/worker-1/routes.txt")
            .unwrap_or_else(|| panic!("host/worker-1/routes.txt was not written")),
    );
    assert!(
        routes.lines().any(|l| l == "10.244.1.0/24 via 172.16.0.4"),
        "worker-1's routes.txt:\n{routes}"
    );
    if skip_netns() {
        eprintln!("NETC_SKIP_NETNS=1: skipping the cross-node namespace test");
        return;
    }
    // Two node namespaces on one "L2 segment" (a veth pair), each with its own pods.
    let mut nodes = Vec::new();
    for (i, name) in ["worker-1", "worker-2"].iter().enumerate() {
        let list = parse_json(&format!("cni/{name}/10-netc-bridge.conflist"), &art);
        nodes.push(NodeUnderTest::new(&format!("hw{i}"), list));
    }
    veth(&nodes[0].node, "eth0", &nodes[1].node, "eth0");
    let mut pod_ips = Vec::new();
    for (i, name) in ["worker-1", "worker-2"].iter().enumerate() {
        let node = plan
            .node(name)
            .unwrap_or_else(|| panic!("no {name} in the plan"));
        let address = node
            .address
            .unwrap_or_else(|| panic!("{name} has no address"));
        let ns = &nodes[i].node;
        ns.ok(&["ip", "addr", "add", &address.to_string(), "dev", "eth0"]);
        // The node's own forwarding switch (per namespace), as sysctl.conf asks for.
        let sysctl = text(
            art.get(&format!("host/{name}/sysctl.conf"))
                .map_or(&[][..], |b| b),
        );
        assert!(
            sysctl.contains("net.ipv4.ip_forward = 1"),
            "{name} sysctl.conf:\n{sysctl}"
        );
        ns.ok(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        let ips = nodes[i].add_pod(&format!("hw{i}-p1"), None);
        let subnet: IpNet = if i == 0 {
            "10.244.0.0/24"
        } else {
            "10.244.1.0/24"
        }
        .parse()
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            ips.iter().all(|ip| subnet.contains(&ip.addr())),
            "{name}'s pods got {ips:?}, not addresses in {subnet}"
        );
        pod_ips.push(ips[0].addr());
    }
    // Program each node's routes.txt exactly as written (comments skipped).
    for (i, name) in ["worker-1", "worker-2"].iter().enumerate() {
        let routes = text(
            art.get(&format!("host/{name}/routes.txt"))
                .map_or(&[][..], |b| b),
        );
        for line in routes
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut args = vec!["ip", "route", "replace"];
            args.extend(line.split_whitespace());
            // Routes to nodes this test does not build (the server) still install: the
            // gateway is on the link's subnet.
            nodes[i].node.ok(&args);
        }
    }
    // worker-2's pod counts what arrives from worker-1's pod's own address.
    let receiver = &nodes[1].pods[0].0;
    receiver.ok(&["nft", "add", "table", "inet", "probe"]);
    receiver.ok(&[
        "nft",
        "add",
        "chain",
        "inet",
        "probe",
        "in",
        "{ type filter hook input priority 0; }",
    ]);
    let from = pod_ips[0].to_string();
    receiver.ok(&[
        "nft", "add", "rule", "inet", "probe", "in", "ip", "saddr", &from, "counter",
    ]);
    // A pod on worker-1 reaches a pod on worker-2, and the reply finds its way back.
    ping(&nodes[0].pods[0].0, pod_ips[1]);
    ping(&nodes[1].pods[0].0, pod_ips[0]);
    // The source address arrived unchanged (no masquerading to worker-1's address).
    let counted = receiver.ok(&["nft", "list", "chain", "inet", "probe", "in"]);
    assert!(
        counted.contains(&format!("ip saddr {from} counter packets"))
            && !counted.contains("packets 0 "),
        "worker-2's pod never saw {from} as the source:\n{counted}"
    );
    for n in &mut nodes {
        n.del_all();
    }
}

#[test]
fn flannel_conflist_is_kube_flannels_shape() {
    // Debian ships no flannel CNI plugin, so this conflist cannot run here; check what the
    // plugin (flannel-io/cni-plugin) reads instead.
    let Some((plan, art)) = build_example("kubeadm-flannel.yaml") else {
        return;
    };
    for node in &plan.nodes {
        let list = parse_json(&format!("cni/{}/10-flannel.conflist", node.name), &art);
        assert_eq!(list["cniVersion"], "1.0.0");
        assert_eq!(list["name"], "cbr0");
        assert_eq!(list["plugins"][0]["type"], "flannel");
        assert_eq!(list["plugins"][0]["delegate"]["hairpinMode"], true);
        assert_eq!(list["plugins"][0]["delegate"]["isDefaultGateway"], true);
        // flannel sets the delegate's name and ipam itself and refuses them here.
        assert!(list["plugins"][0]["delegate"].get("name").is_none());
        assert!(list["plugins"][0]["delegate"].get("ipam").is_none());
        assert_eq!(list["plugins"][1]["type"], "portmap");
        assert_eq!(list["plugins"][1]["capabilities"]["portMappings"], true);
    }
}

/// flanneld without `--ip-masq` writes `FLANNEL_IPMASQ=false`, and the flannel CNI plugin
/// then sets an unset delegate `ipMasq` to true (flannel-io/cni-plugin `flannel_linux.go`
/// `doCmdAdd`: "if flannel is not doing ipmasq, we should"): with `natOutgoing: false` the
/// conflist must set it false itself, and leave it unset otherwise.
#[test]
fn flannel_conflist_turns_the_bridge_masquerade_off_with_nat_outgoing_false() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hard-way-manual-flannel.yaml");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return;
    };
    for (edit, ip_masq) in [(false, None), (true, Some(json!(false)))] {
        let text = if edit {
            text.replace("cni:\n", "cni:\n  calico: {natOutgoing: false}\n")
        } else {
            text.clone()
        };
        assert_eq!(text.contains("natOutgoing"), edit);
        let (plan, art) = build("hard-way-manual-flannel.yaml", &text);
        for node in &plan.nodes {
            let list = parse_json(&format!("cni/{}/10-flannel.conflist", node.name), &art);
            assert_eq!(
                list["plugins"][0]["delegate"].get("ipMasq"),
                ip_masq.as_ref(),
                "natOutgoing false: {edit}"
            );
        }
    }
}

#[test]
fn reference_plugins_accept_the_cni_version() {
    // The version every conflist names must be one the installed plugins support.
    let out = support::run_env(
        &format!("{CNI_PATH}/bridge"),
        &[],
        &[("CNI_COMMAND", "VERSION")],
        Some(b"{}"),
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bridge VERSION: {e}: {}", text(&out.stdout)));
    let supported = v["supportedVersions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        supported.contains(&json!(netc::emit::cni::CNI_VERSION)),
        "plugins support {supported:?}"
    );
}
