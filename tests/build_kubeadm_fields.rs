//! Every kubeadm document netc writes carries only fields of its API version: each key path is
//! checked against `tests/fixtures/kubeadm-fields.txt`, a field list read from the upstream
//! `v1beta3/types.go` and `v1beta4/types.go`. Also: the API version follows Kubernetes' (v1beta3
//! below 1.31), and v1beta4 `extraArgs` are `{name, value}` lists. `distribution: manual`'s
//! KubeletConfiguration and KubeProxyConfiguration files (`manual/<node>/*.yaml`) are checked
//! against the same list.

mod build_common;

use std::collections::{BTreeMap, BTreeSet};

use build_common::{all_intents, emit_file, emit_text, repo};
use serde_json::Value;

fn allowed() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("tests/fixtures/kubeadm-fields.txt"))
        .expect("field list");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

fn paths(value: &Value, prefix: &str, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push(p.clone());
                paths(v, &p, out);
            }
        }
        Value::Array(items) => {
            let p = format!("{prefix}[]");
            if !items.is_empty() {
                out.push(p.clone());
            }
            for v in items {
                paths(v, &p, out);
            }
        }
        _ => {}
    }
}

/// Whether `path` is a kubeadm or component configuration file netc writes (kubeadm's patch
/// files are RFC 6902 operations, read back in `tests/build_node_addressing.rs`).
fn is_config(path: &str) -> bool {
    (path.starts_with("kubeadm/") && !path.starts_with("kubeadm/patches/"))
        || (path.starts_with("manual/") && path.ends_with(".yaml"))
}

/// Problems with the kubeadm and component configuration files among `files`.
fn check(files: &BTreeMap<String, Vec<u8>>, allowed: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, bytes) in files.iter().filter(|(p, _)| is_config(p)) {
        let text = String::from_utf8_lossy(bytes);
        let docs: Vec<Value> = match serde_saphyr::from_multiple(&text) {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{path}: not YAML: {e}"));
                continue;
            }
        };
        let mut kinds = BTreeSet::new();
        for doc in &docs {
            let api = doc["apiVersion"].as_str().unwrap_or_default();
            let kind = doc["kind"].as_str().unwrap_or_default();
            if !kinds.insert(kind.to_owned()) {
                problems.push(format!("{path}: {kind} twice"));
            }
            let mut ps = Vec::new();
            paths(doc, "", &mut ps);
            for p in ps {
                let exact = format!("{api} {kind} {p}");
                let wildcard = p
                    .rsplit_once('.')
                    .map(|(parent, _)| format!("{api} {kind} {parent}.*"));
                if !allowed.contains(&exact) && !wildcard.is_some_and(|w| allowed.contains(&w)) {
                    problems.push(format!("{path}: {api} {kind} has no field {p}"));
                }
            }
        }
    }
    problems
}

#[test]
fn kubeadm_documents_carry_only_fields_of_their_api_version() {
    let allowed = allowed();
    let mut problems = Vec::new();
    let (mut checked, mut manual) = (0, 0);
    for rel in all_intents() {
        let files = emit_file(&rel);
        checked += files.keys().filter(|p| p.starts_with("kubeadm/")).count();
        manual += files
            .keys()
            .filter(|p| p.starts_with("manual/") && is_config(p))
            .count();
        problems.extend(check(&files, &allowed));
    }
    assert!(checked > 0, "no kubeadm file was checked");
    assert!(manual > 0, "no manual component configuration was checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_field_check_catches_a_v1beta4_list_in_a_v1beta3_document() {
    let mut files = BTreeMap::new();
    files.insert(
        "kubeadm/init.yaml".to_owned(),
        b"apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\ncontrollerManager:\n  extraArgs:\n  - {name: a, value: b}\n"
            .to_vec(),
    );
    assert!(!check(&files, &allowed()).is_empty());
}

#[test]
fn the_field_check_catches_a_kubelet_flag_spelled_as_a_field() {
    let mut files = BTreeMap::new();
    files.insert(
        "manual/n1/kubelet-config.yaml".to_owned(),
        b"apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\npodCidr: 10.0.0.0/24\n"
            .to_vec(),
    );
    assert!(!check(&files, &allowed()).is_empty());
}

#[test]
fn api_version_follows_the_kubernetes_version() {
    let v3 = emit_file("tests/fixtures/intents/kubeadm-v1beta3.yaml");
    let init = String::from_utf8_lossy(&v3["kubeadm/init.yaml"]).into_owned();
    assert!(init.contains("apiVersion: kubeadm.k8s.io/v1beta3"));
    assert!(
        init.contains("  extraArgs:\n    node-cidr-mask-size-ipv4: \"25\"\n"),
        "{init}"
    );
    assert!(
        init.contains("  kubeletExtraArgs:\n    node-ip: \"10.0.1.10\"\n"),
        "{init}"
    );

    let text = std::fs::read_to_string(repo().join("tests/fixtures/intents/kubeadm-v1beta3.yaml"))
        .unwrap()
        .replace("v1.30.4", "v1.31.0");
    let v4 = emit_text("v1beta4.yaml", &text);
    let init = String::from_utf8_lossy(&v4["kubeadm/init.yaml"]).into_owned();
    assert!(init.contains("apiVersion: kubeadm.k8s.io/v1beta4"));
    assert!(
        init.contains("  extraArgs:\n  - name: node-cidr-mask-size-ipv4\n    value: \"25\"\n"),
        "{init}"
    );
    assert!(check(&v4, &allowed()).is_empty());
    let join = String::from_utf8_lossy(&v4["kubeadm/join-cp-2.yaml"]).into_owned();
    assert!(
        join.contains("controlPlane:\n  localAPIEndpoint:\n    advertiseAddress: \"10.0.1.11\"")
    );
    // cp-2's bindAddress: its patches directory, in both API versions.
    for files in [&v3, &v4] {
        let join = String::from_utf8_lossy(&files["kubeadm/join-cp-2.yaml"]).into_owned();
        assert!(
            join.contains("patches:\n  directory: /etc/netc/kubeadm/patches\n"),
            "{join}"
        );
    }
    assert!(
        !v4.contains_key("kubeadm/join-cp-1.yaml"),
        "the init node gets no join file"
    );
}
