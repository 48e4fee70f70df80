//! RKE2's HelmChartConfigs validate against the `helm.cattle.io` CRD schema in
//! `../shared/schemas/` (Python `jsonschema` does the validating), and their `valuesContent`
//! is a YAML mapping.

mod build_common;

use std::io::Write;
use std::process::{Command, Stdio};

use build_common::{emit_text, repo};

const VALIDATE: &str = r#"
import json, sys, yaml, jsonschema
crd = yaml.safe_load(open(sys.argv[1]))
version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
schema = version["schema"]["openAPIV3Schema"]
failures = []
for path, doc in json.load(sys.stdin).items():
    obj = yaml.safe_load(doc)
    try:
        jsonschema.validate(obj, schema)
    except jsonschema.ValidationError as e:
        failures.append(f"{path}: {e.message}")
    values = yaml.safe_load(obj["spec"]["valuesContent"])
    if not isinstance(values, dict):
        failures.append(f"{path}: valuesContent is not a mapping")
print("\n".join(failures))
sys.exit(1 if failures else 0)
"#;

#[test]
fn helmchartconfigs_validate_against_the_crd_schema() {
    let schema = repo().join("../shared/schemas/helm.cattle.io_helmchartconfigs.yaml");
    if !schema.exists() {
        eprintln!("skipped: {} not found", schema.display());
        return;
    }
    let base = std::fs::read_to_string(repo().join("tests/fixtures/intents/rke2-canal.yaml"))
        .expect("fixture");
    let mut docs = serde_json::Map::new();
    for (plugin, encapsulation) in [
        ("canal", "vxlan"),
        ("flannel", "vxlan"),
        ("calico", "ipip"),
        ("calico", "vxlan"),
        ("cilium", "vxlan"),
    ] {
        let text = base
            .replace("plugin: canal", &format!("plugin: {plugin}"))
            .replace(
                "encapsulation: vxlan",
                &format!("encapsulation: {encapsulation}"),
            );
        let files = emit_text("rke2.yaml", &text);
        let path = format!("rke2/manifests/rke2-{plugin}-config.yaml");
        let Some(doc) = files.get(&path) else {
            panic!("{plugin}: no {path} among {:?}", files.keys());
        };
        docs.insert(
            format!("{plugin}/{encapsulation}: {path}"),
            String::from_utf8_lossy(doc).into_owned().into(),
        );
        // The copy each server's cloud-init writes into the manifests directory.
        for (ci, bytes) in files.iter().filter(|(k, _)| k.starts_with("cloud-init/")) {
            let cloud: serde_json::Value =
                serde_saphyr::from_str(&String::from_utf8_lossy(bytes)).expect("cloud-config");
            for wf in cloud["write_files"].as_array().into_iter().flatten() {
                docs.insert(
                    format!("{plugin}/{encapsulation}: {ci} {}", wf["path"]),
                    wf["content"].clone(),
                );
            }
        }
    }
    let mut child = Command::new("python3")
        .args(["-c", VALIDATE])
        .arg(&schema)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (with the jsonschema and PyYAML modules) is needed");
    let input = serde_json::to_vec(&docs).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write");
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// cloud-init on an RKE2 server writes the same HelmChartConfig `rke2/manifests/` holds into
/// the server manifests directory (cloud-init `write_files`: `path`, `content`, octal
/// `permissions`); agents, which run no manifests controller, get none.
#[test]
fn rke2_cloud_init_writes_the_chart_config_on_servers_only() {
    let files = build_common::emit_file("examples/rke2-canal.yaml");
    let manifest = &files["rke2/manifests/rke2-canal-config.yaml"];
    let mut servers = 0;
    for (path, bytes) in files.iter().filter(|(k, _)| k.starts_with("cloud-init/")) {
        let text = String::from_utf8_lossy(bytes);
        assert!(text.starts_with("#cloud-config\n"), "{path}");
        let cloud: serde_json::Value = serde_saphyr::from_str(&text).expect("cloud-config");
        let server = cloud["cluster"]["role"].as_str() != Some("worker");
        let writes = cloud["write_files"].as_array().cloned().unwrap_or_default();
        if !server {
            assert!(writes.is_empty(), "{path}: an agent writes {writes:?}");
            continue;
        }
        servers += 1;
        assert_eq!(writes.len(), 1, "{path}");
        let wf = &writes[0];
        assert_eq!(
            wf["path"], "/var/lib/rancher/rke2/server/manifests/rke2-canal-config.yaml",
            "{path}"
        );
        assert_eq!(
            wf["content"].as_str().map(str::as_bytes),
            Some(&manifest[..]),
            "{path}"
        );
        let perms = wf["permissions"].as_str().expect("permissions is a string");
        assert!(u32::from_str_radix(perms, 8).is_ok(), "{path}: {perms}");
    }
    assert!(servers >= 1, "no RKE2 server cloud-init");
}
