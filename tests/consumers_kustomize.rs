//! The flannel overlay for kubeadm (`flannel/kustomization.yaml`, the `--iface` JSON 6902
//! patch, the ConfigMap as a strategic-merge patch) rendered by kustomize itself
//! (`kustomize build`, or `kubectl kustomize`) over a stand-in of flannel's release manifest
//! (`tests/fixtures/kustomize/kube-flannel.yml`): the DaemonSet's flanneld gets `--iface=<if>`
//! after its own flags, and the ConfigMap carries netc's net-conf.

#[path = "consumers/support.rs"]
mod support;

use serde_json::Value;
use support::{build, build_example, have, run, text, write_all};

/// `kustomize build DIR`, or `kubectl kustomize DIR`; `None` when neither is installed.
fn kustomize(dir: &std::path::Path) -> Option<String> {
    let d = dir.to_string_lossy();
    let out = if have("kustomize") {
        run("kustomize", &["build", &d], None)
    } else if have("kubectl") {
        run("kubectl", &["kustomize", &d], None)
    } else {
        return None;
    };
    assert!(
        out.status.success(),
        "kustomize rejects the overlay:\n{}",
        text(&out.stderr)
    );
    Some(text(&out.stdout))
}

fn render(art: &support::Artifacts) -> Option<Vec<Value>> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_all(dir.path(), art);
    let manifest = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/kustomize/kube-flannel.yml"),
    )
    .expect("fixture");
    std::fs::write(dir.path().join("flannel/kube-flannel.yml"), manifest).expect("write");
    let out = kustomize(&dir.path().join("flannel"))?;
    Some(serde_saphyr::from_multiple(&out).expect("kustomize output is YAML"))
}

fn flanneld_args(docs: &[Value]) -> Vec<String> {
    let ds = docs
        .iter()
        .find(|d| d["kind"] == "DaemonSet")
        .expect("DaemonSet");
    ds["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect()
}

#[test]
fn kustomize_adds_the_data_interface_and_the_net_conf() {
    let Some((_, art)) = build_example("kubeadm-flannel.yaml") else {
        panic!("example missing");
    };
    let Some(docs) = render(&art) else {
        eprintln!("neither kustomize nor kubectl is installed: skipping");
        return;
    };
    assert_eq!(
        flanneld_args(&docs),
        ["--ip-masq", "--kube-subnet-mgr", "--iface=eth0"]
    );
    let cm = docs
        .iter()
        .find(|d| d["kind"] == "ConfigMap")
        .expect("ConfigMap");
    let net_conf: Value =
        serde_json::from_str(cm["data"]["net-conf.json"].as_str().expect("net-conf"))
            .expect("JSON");
    let ours: Value = serde_json::from_slice(&art["flannel/net-conf.json"]).expect("JSON");
    assert_eq!(net_conf, ours);
}

#[test]
fn without_an_interface_flanneld_keeps_its_own_flags() {
    let intent =
        include_str!("../examples/kubeadm-flannel.yaml").replace("  interface: eth0\n", "");
    let (_, art) = build("noiface.yaml", &intent);
    assert!(!art.contains_key("flannel/kube-flannel-ds-iface.yaml"));
    let Some(docs) = render(&art) else {
        eprintln!("neither kustomize nor kubectl is installed: skipping");
        return;
    };
    assert_eq!(flanneld_args(&docs), ["--ip-masq", "--kube-subnet-mgr"]);
}
