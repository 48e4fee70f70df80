//! Issue 15 finding 3, in the namespace lab (`tests/lab/`): Cilium tunnels between the nodes'
//! InternalIPs (the kubelet's node-ip, cilium `pkg/node` `GetNodeIP`), whatever `cni.interface`
//! names (`devices` only picks BPF NodePort/masquerade devices). With the node address on
//! `eth0` (MTU 1500) and `cni.interface: eth1` (a jumbo second NIC), netc's firewall must accept
//! Cilium's VXLAN where it arrives (the node-IP interface) and Cilium's `MTU` must fit that
//! path. Two nodes, netc's own nftables files loaded in each, a real VXLAN device on port 8472
//! between the node addresses as Cilium builds it: a full-size inner packet crosses.

mod lab;

use std::collections::BTreeMap;

use lab::{Lab, ok, run};
use netc::diagnostic::SourceFile;
use netc::emit::{Context, emit_all};
use netc::intent::Syntax;
use netc::pipeline;
use serde_json::Value;

const NODES: &[(&str, &str)] = &[("n1", "10.1.0.1/24"), ("n2", "10.1.0.2/24")];

const INTENT: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: cilium-two-nics}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
  controlPlaneEndpoint: 10.1.0.1:6443
cni:
  plugin: cilium
  encapsulation: vxlan
  mtu: auto
  interface: eth1
nodes:
  - name: n1
    role: control-plane
    address: 10.1.0.1/24
    interfaces:
      - {name: eth0, mtu: 1500, purpose: management}
      - {name: eth1, mtu: 9000, purpose: data, address: 10.2.0.1/24}
  - name: n2
    role: worker
    address: 10.1.0.2/24
    interfaces:
      - {name: eth0, mtu: 1500, purpose: management}
      - {name: eth1, mtu: 9000, purpose: data, address: 10.2.0.2/24}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
"#;

fn build() -> BTreeMap<String, Vec<u8>> {
    let src = SourceFile::new("cilium-two-nics.yaml", INTENT);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let plan = checked
        .valid_plan()
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics))
        .clone();
    let mut files = BTreeMap::new();
    emit_all(Context::new(&plan, "cilium-two-nics.yaml"), &mut files).expect("emit");
    files
}

#[test]
fn cilium_vxlan_rides_the_node_ip_interface() {
    let files = build();
    // Cilium's MTU is the underlay's: the node-IP path (1500), not the jumbo data NIC.
    let values: Value =
        serde_saphyr::from_str(&String::from_utf8_lossy(&files["cilium/values.yaml"]))
            .expect("values");
    assert_eq!(values["MTU"], 1500, "{values}");
    assert_eq!(values["devices"], serde_json::json!(["eth1"]), "{values}");
    let Some(lab) = Lab::new(NODES) else {
        return;
    };
    // The second NIC: a jumbo LAN of its own.
    let lan = lab.ns("lan");
    run(&["ip", "-n", &lan, "link", "add", "br1", "type", "bridge"]);
    run(&["ip", "-n", &lan, "link", "set", "br1", "mtu", "9000", "up"]);
    for (i, (short, _)) in NODES.iter().enumerate() {
        let ns = lab.ns(short);
        let veth = format!("w-{short}");
        run(&[
            "ip", "-n", &lan, "link", "add", &veth, "mtu", "9000", "type", "veth", "peer", "name",
            "eth1", "netns", &ns,
        ]);
        run(&[
            "ip", "-n", &lan, "link", "set", &veth, "master", "br1", "up",
        ]);
        run(&["ip", "-n", &ns, "link", "set", "eth1", "mtu", "9000", "up"]);
        let data = format!("10.2.0.{}/24", i + 1);
        run(&["ip", "-n", &ns, "addr", "add", &data, "dev", "eth1"]);
        // netc's firewall for the node, loaded as `netc apply` loads it.
        let nft = lab.file(
            &format!("{short}.nft"),
            &String::from_utf8_lossy(&files[&format!("firewall/{short}.nft")]),
        );
        ok(lab.exec(short, &["nft", "-f", &nft.to_string_lossy()]));
        // Cilium's tunnel: VXLAN on 8472 between the node addresses (InternalIPs).
        let local = format!("10.1.0.{}", i + 1);
        let remote = format!("10.1.0.{}", 2 - i);
        ok(lab.exec(
            short,
            &[
                "ip",
                "link",
                "add",
                "cilium_vxlan",
                "type",
                "vxlan",
                "id",
                "2",
                "dstport",
                "8472",
                "local",
                &local,
                "remote",
                &remote,
            ],
        ));
        // Pods get MTU - 50 (cilium pkg/mtu: TunnelOverhead).
        ok(lab.exec(
            short,
            &["ip", "link", "set", "cilium_vxlan", "mtu", "1450", "up"],
        ));
        let inner = format!("192.168.77.{}/24", i + 1);
        ok(lab.exec(short, &["ip", "addr", "add", &inner, "dev", "cilium_vxlan"]));
    }
    // A full-size inner packet (1450 - 28 bytes of ICMP payload and headers), unfragmented,
    // crosses the tunnel both ways: the firewall of each node accepts the other's VXLAN on eth0.
    for (from, to) in [("n1", "192.168.77.2"), ("n2", "192.168.77.1")] {
        let out = lab.exec(
            from,
            &["ping", "-c", "2", "-W", "2", "-M", "do", "-s", "1422", to],
        );
        assert!(
            out.status.success(),
            "{from} -> {to} over Cilium's VXLAN between node IPs: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            lab.dump(from)
        );
    }
}
