//! Every Calico Installation netc writes validates against the tigera-operator's CRD schema
//! (`../shared/schemas/operator.tigera.io_installations.yaml`, read in place), closed against
//! unknown fields (`tests/consumers/crd_validate.py`, python jsonschema). Also checks the
//! IPPool and Cilium values carry the Plan's facts.

#[path = "consumers/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::{Artifacts, build, run, text, write_all};

/// Calico on k3s, dual-stack, IP-in-IP: an IPv6 pool (no IPIP there), BGP on, both
/// autodetection families.
const CALICO_DUAL: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: calico-dual}
cluster:
  distribution: k3s
  kubernetesVersion: v1.31.3+k3s1
  podCIDR: [10.42.0.0/16, "fd00:42::/56"]
  serviceCIDR: [10.43.0.0/16, "fd00:43::/112"]
cni:
  plugin: calico
  encapsulation: ipip
  interface: eth0.100
  calico: {blockSize: 28, natOutgoing: false}
nodes:
  - {name: s1, role: control-plane, address: 192.168.60.10/24, interfaces: [{name: eth0.100, mtu: 1500}]}
  - {name: a1, role: worker, address: 192.168.60.11/24, interfaces: [{name: eth0.100, mtu: 1500}]}
"#;

const CILIUM_WG: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: cilium-wg}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.200.0.0/16
  serviceCIDR: 10.96.0.0/12
  nodeCIDRMaskSize: 25
cni: {plugin: cilium, encapsulation: wireguard, interface: ens5}
nodes:
  - {name: c1, role: control-plane, address: 10.9.0.10/24, interfaces: [{name: ens5, mtu: 9001}]}
  - {name: c2, role: worker, address: 10.9.0.11/24, interfaces: [{name: ens5, mtu: 9001}]}
"#;

fn schema() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("schemas")
        .join("operator.tigera.io_installations.yaml");
    path.exists().then_some(path)
}

fn builds() -> Vec<(String, Artifacts)> {
    let mut out = vec![(
        "calico-dual".to_owned(),
        build("calico-dual.yaml", CALICO_DUAL).1,
    )];
    for (name, _, art) in support::all_examples() {
        if art.contains_key("calico/installation.yaml") {
            out.push((name, art));
        }
    }
    out
}

#[test]
fn installations_validate_against_the_operator_crd() {
    let Some(crd) = schema() else {
        eprintln!(
            "SKIPPED: ../shared/schemas/operator.tigera.io_installations.yaml is absent; \
             Installations not validated"
        );
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/consumers/crd_validate.py");
    let builds = builds();
    assert!(
        builds.len() >= 2,
        "expected the inline intent and at least one example"
    );
    for (name, art) in &builds {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        write_all(dir.path(), art);
        let file = dir.path().join("calico/installation.yaml");
        let out = run(
            "python3",
            &[
                &script.to_string_lossy(),
                &crd.to_string_lossy(),
                &file.to_string_lossy(),
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{name}: calico/installation.yaml does not validate:\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

fn yaml_docs(bytes: &[u8]) -> Vec<Value> {
    // serde-saphyr reads what it wrote; JSON values make assertions short.
    text(bytes)
        .split("\n---\n")
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect()
}

#[test]
fn dual_stack_pools_follow_the_plan() {
    let (plan, art) = build("calico-dual.yaml", CALICO_DUAL);
    let inst = &yaml_docs(&art["calico/installation.yaml"])[0];
    let net = &inst["spec"]["calicoNetwork"];
    assert_eq!(inst["metadata"]["name"], "default");
    assert_eq!(
        net["bgp"], "Enabled",
        "IP-in-IP routes are distributed by BGP"
    );
    assert_eq!(net["mtu"], plan.cni.mtu);
    assert_eq!(
        net["nodeAddressAutodetectionV4"]["interface"],
        "^eth0\\.100$"
    );
    assert_eq!(
        net["nodeAddressAutodetectionV6"]["interface"],
        "^eth0\\.100$"
    );
    let pools = net["ipPools"].as_array().cloned().unwrap_or_default();
    assert_eq!(pools.len(), 2);
    assert_eq!(pools[0]["cidr"], "10.42.0.0/16");
    assert_eq!(pools[0]["encapsulation"], "IPIP");
    assert_eq!(pools[0]["blockSize"], 28);
    assert_eq!(pools[0]["natOutgoing"], "Disabled");
    assert_eq!(pools[1]["cidr"], "fd00:42::/56");
    assert_eq!(pools[1]["encapsulation"], "None", "no IP-in-IP for IPv6");
    assert_eq!(pools[1]["blockSize"], 122);

    let ippools = yaml_docs(&art["calico/ippool.yaml"]);
    assert_eq!(ippools.len(), 2);
    assert_eq!(ippools[0]["apiVersion"], "projectcalico.org/v3");
    assert_eq!(ippools[0]["spec"]["ipipMode"], "Always");
    assert_eq!(ippools[0]["spec"]["vxlanMode"], "Never");
    assert_eq!(ippools[0]["spec"]["natOutgoing"], false);
    assert_eq!(ippools[1]["spec"]["ipipMode"], "Never");
}

#[test]
fn cilium_values_carry_the_pod_network() {
    let (plan, art) = build("cilium-wg.yaml", CILIUM_WG);
    let v = &yaml_docs(&art["cilium/values.yaml"])[0];
    assert_eq!(v["ipam"]["mode"], "cluster-pool");
    assert_eq!(
        v["ipam"]["operator"]["clusterPoolIPv4PodCIDRList"][0],
        "10.200.0.0/16"
    );
    assert_eq!(v["ipam"]["operator"]["clusterPoolIPv4MaskSize"], 25);
    assert_eq!(v["routingMode"], "tunnel");
    assert_eq!(v["tunnelProtocol"], "vxlan");
    assert_eq!(v["encryption"]["type"], "wireguard");
    assert_eq!(v["devices"][0], "ens5");
    // Cilium's MTU is the underlying network's: the data path's, not the pod MTU.
    assert_eq!(v["MTU"], 9001);
    assert!(plan.cni.mtu < 9001);
    assert_eq!(v["kubeProxyReplacement"], false);
    // Nothing else writes pod network files for Cilium.
    assert!(
        !art.keys()
            .any(|p| p.starts_with("cni/") || p.starts_with("calico/"))
    );
}
