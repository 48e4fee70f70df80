//! Node addressing reaches each distribution in its form: the dual-stack `node-ip` pair in the
//! cluster's family order (kubeadm `kubeletExtraArgs`, RKE2/k3s `node-ip` lists, Canonical
//! `extra-node-kubelet-args`), `node-external-ip` (RKE2, k3s) and the servers'
//! `advertise-address`.

mod build_common;

use build_common::emit_text;
use serde_json::Value;

fn intent(dist: &str) -> String {
    let version = match dist {
        "rke2" => "v1.31.4+rke2r1",
        "k3s" => "v1.31.4+k3s1",
        _ => "v1.31.2",
    };
    let plugin = if dist == "canonical" {
        "cilium"
    } else {
        "flannel"
    };
    let external = if matches!(dist, "rke2" | "k3s") {
        "\n    externalAddress: [2001:db8::10, 203.0.113.10]"
    } else {
        ""
    };
    format!(
        "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: addr}}
cluster:
  distribution: {dist}
  kubernetesVersion: {version}
  podCIDR: [fd00:10:244::/56, 10.244.0.0/16]
  serviceCIDR: [10.96.0.0/12, fd00:10:96::/112]
cni: {{plugin: {plugin}}}
nodes:
  - name: cp-1
    role: control-plane
    address: fd00:1::10/64
    secondaryAddress: 10.0.1.10/24{external}
  - {{name: worker-1, role: worker, address: 10.0.1.11/24, secondaryAddress: fd00:1::11/64}}
  - {{name: worker-2, role: worker, address: 10.0.1.12/24}}
"
    )
}

fn yaml(bytes: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(bytes);
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text).expect("YAML");
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rke2_and_k3s_list_node_ips_in_cluster_order_external_ips_and_advertise_address() {
    for dist in ["rke2", "k3s"] {
        let files = emit_text("addr.yaml", &intent(dist));
        let cp = &yaml(&files[&format!("{dist}/cp-1/config.yaml")])[0];
        // The cluster CIDRs are written IPv4 first, so every node-ip pair is too.
        let cluster_cidr = cp["cluster-cidr"].as_str().expect("cluster-cidr");
        assert!(cluster_cidr.starts_with("10.244."), "{cluster_cidr}");
        assert_eq!(
            strings(&cp["node-ip"]),
            ["10.0.1.10", "fd00:1::10"],
            "{dist}"
        );
        assert_eq!(
            strings(&cp["node-external-ip"]),
            ["203.0.113.10", "2001:db8::10"],
            "{dist}"
        );
        // With an external address k3s would advertise it; the node's own address of the
        // first service CIDR's family (IPv4 here, though the primary is IPv6) is written:
        // kube-apiserver refuses an advertised address of another family.
        assert_eq!(cp["advertise-address"], "10.0.1.10", "{dist}");
        let w1 = &yaml(&files[&format!("{dist}/worker-1/config.yaml")])[0];
        assert_eq!(
            strings(&w1["node-ip"]),
            ["10.0.1.11", "fd00:1::11"],
            "{dist}"
        );
        assert!(
            w1.get("advertise-address").is_none(),
            "{dist}: agents have no API server"
        );
        assert!(w1.get("node-external-ip").is_none(), "{dist}");
        // A single-interface node without a second family keeps the kubelet's own choice.
        let w2 = &yaml(&files[&format!("{dist}/worker-2/config.yaml")])[0];
        assert!(w2.get("node-ip").is_none(), "{dist}: {w2}");
    }
}

#[test]
fn kubeadm_node_ip_is_one_comma_separated_pair() {
    let files = emit_text("addr.yaml", &intent("kubeadm"));
    let join = &yaml(&files["kubeadm/join-worker-1.yaml"])[0];
    let args = &join["nodeRegistration"]["kubeletExtraArgs"];
    // v1beta4: a list of {name, value}.
    let node_ip = args
        .as_array()
        .and_then(|a| a.iter().find(|e| e["name"] == "node-ip"))
        .expect("node-ip");
    assert_eq!(node_ip["value"], "10.0.1.11,fd00:1::11");
    let init = yaml(&files["kubeadm/init.yaml"]);
    let init_cfg = init
        .iter()
        .find(|d| d["kind"] == "InitConfiguration")
        .expect("InitConfiguration");
    // The first service CIDR is IPv4: the IPv4 (secondary) address is advertised.
    assert_eq!(init_cfg["localAPIEndpoint"]["advertiseAddress"], "10.0.1.10");
}

#[test]
fn canonical_node_ip_pair() {
    let files = emit_text("addr.yaml", &intent("canonical"));
    let join = &yaml(&files["canonical/join-worker-1.yaml"])[0];
    assert_eq!(
        join["extra-node-kubelet-args"]["--node-ip"], "10.0.1.11,fd00:1::11",
        "{join}"
    );
}
