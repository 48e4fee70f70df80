//! `fleet/`: what Kubernetes and the node need from the agent's objects.
//!
//! Every file passes `kubernetes-validate --strict` (the Kubernetes OpenAPI schemas, unknown
//! fields rejected); the ConfigMap holds the intent's exact text; the DaemonSet's hostPath
//! mounts are exactly the directories of what `netc apply` installs on the nodes (read here
//! from `emit::node_artifacts`, apply's own view), plus the state directory, the xtables lock,
//! the modules and the host's net sysctls.

#[path = "consumers/support.rs"]
mod support;

use std::collections::BTreeSet;

use base64::prelude::{BASE64_STANDARD, Engine as _};
use netc::diagnostic::SourceFile;
use netc::diagnostic::code;
use netc::emit::{Context, Target, fleet, node_artifacts};
use netc::intent::{Syntax, compressed};
use netc::pipeline;
use netc::plan::fleet::{ANNOTATIONS_MAX_BYTES, CONFIGMAP_MAX_BYTES, LAST_APPLIED_OVERHEAD_MAX};
use serde_json::Value;
use support::{Artifacts, build, incompressible_comments, run, text, write_all};

const KUBERNETES_VERSION: &str = "1.31.0";

/// kubeadm with the bridge plugin and a proxy: artifacts in /etc/netc and /etc/netc/kubeadm
/// (nested: one mount), /etc/cni/net.d; a user
/// toleration with every field.
const BRIDGE: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: fleet}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.4
  podCIDR: 10.42.0.0/16
  serviceCIDR: 10.43.0.0/16
cni: {plugin: bridge}
nodes:
  - {name: s1, role: control-plane, address: 10.20.0.10/24}
  - {name: a1, role: worker, address: 10.20.0.11/24}
proxy: {http: "http://proxy:3128"}
fleet:
  image: registry.example/netc@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  namespace: kube-network
  maxUnavailable: 3
  interval: 5m
  tolerations:
    - {key: dedicated, operator: Equal, value: net, effect: NoExecute, tolerationSeconds: 600}
"#;

fn doc(art: &Artifacts, path: &str) -> Value {
    let bytes = art
        .get(path)
        .unwrap_or_else(|| panic!("no {path} in {:?}", art.keys().collect::<Vec<_>>()));
    serde_saphyr::from_str(&text(bytes)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The ConfigMap's one key and the intent text it carries (base64 of gzip in `binaryData`).
fn intent_in(cm: &Value) -> (String, String) {
    assert!(
        cm.get("data").is_none(),
        "the intent is not in `data`: {cm}"
    );
    let data = cm["binaryData"].as_object().expect("binaryData");
    assert_eq!(data.len(), 1, "{data:?}");
    let (key, value) = data.iter().next().expect("one key");
    assert!(key.ends_with(".gz"), "{key}");
    let gz = BASE64_STANDARD
        .decode(value.as_str().expect("base64 string"))
        .expect("base64");
    let text = compressed::gunzip(&gz, 64 << 20).expect("gzip");
    (key.clone(), String::from_utf8(text).expect("UTF-8"))
}

fn fleet_files(art: &Artifacts) -> Vec<String> {
    art.keys()
        .filter(|p| p.starts_with("fleet/"))
        .cloned()
        .collect()
}

fn validate(label: &str, art: &Artifacts) {
    let files = fleet_files(art);
    assert_eq!(files.len(), 4, "{label}: {files:?}");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    write_all(dir.path(), art);
    let mut args = vec![
        "--strict".to_owned(),
        "--kubernetes-version".to_owned(),
        KUBERNETES_VERSION.to_owned(),
    ];
    args.extend(
        files
            .iter()
            .map(|f| dir.path().join(f).to_string_lossy().into_owned()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run("kubernetes-validate", &args, None);
    let report = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        out.status.success() && !report.contains("ERROR") && !report.contains("WARN"),
        "{label}: kubernetes-validate rejects {files:?}:\n{report}"
    );
}

/// The host directories the DaemonSet mounts read-write, and every host path it mounts.
fn mounts(ds: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let spec = &ds["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let mut writable = BTreeSet::new();
    let mut all = BTreeSet::new();
    for v in spec["volumes"].as_array().expect("volumes") {
        let Some(path) = v["hostPath"]["path"].as_str() else {
            continue;
        };
        all.insert(path.to_owned());
        let m = container["volumeMounts"]
            .as_array()
            .expect("volumeMounts")
            .iter()
            .find(|m| m["name"] == v["name"])
            .unwrap_or_else(|| panic!("volume {v} is not mounted"));
        if m["readOnly"] != Value::Bool(true) {
            writable.insert(path.to_owned());
        }
    }
    (writable, all)
}

/// The directories of every file any node installs, nested ones dropped.
fn install_dirs(source: &str, text: &str) -> BTreeSet<String> {
    let checked = pipeline::check(&SourceFile::new(source, text), Syntax::Yaml);
    let plan = checked.valid_plan().expect("valid");
    let mut dirs = BTreeSet::new();
    for node in &plan.nodes {
        for a in node_artifacts(plan, source, &node.name)
            .expect("emits")
            .expect("node")
        {
            if let Target::File(p) = a.target {
                let (dir, _) = p.rsplit_once('/').expect("absolute");
                dirs.insert(dir.to_owned());
            }
        }
    }
    let all = dirs.clone();
    dirs.retain(|d| !all.iter().any(|p| d.starts_with(&format!("{p}/"))));
    dirs
}

fn check_fleet(label: &str, source: &str, intent: &str, art: &Artifacts) {
    validate(label, art);
    let ds = doc(art, "fleet/daemonset.yaml");
    let cm = doc(art, "fleet/configmap.yaml");
    // The ConfigMap holds the intent byte for byte, gzip-compressed, under the name the
    // agent reads.
    let (key, text) = intent_in(&cm);
    assert_eq!(text, intent, "{label}: ConfigMap text differs");
    let spec = &ds["spec"]["template"]["spec"];
    let container = &spec["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_array()
        .expect("command")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    assert_eq!(
        command[..4],
        [
            "netc",
            "apply",
            &format!("/etc/netc-intent/{key}"),
            "--watch"
        ],
        "{label}"
    );
    let cm_name = cm["metadata"]["name"].as_str().expect("name");
    assert!(
        spec["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .any(|v| v["configMap"]["name"] == cm_name),
        "{label}: the DaemonSet does not mount {cm_name}"
    );
    // Every directory apply writes into, and nothing else, is mounted read-write.
    let mut want = install_dirs(source, intent);
    want.extend(
        [
            "/var/lib/netc",
            "/run/netc",
            "/run/xtables.lock",
            "/proc/sys/net",
        ]
        .map(str::to_owned),
    );
    let (writable, all) = mounts(&ds);
    assert_eq!(writable, want, "{label}: writable host paths");
    assert!(
        all.contains("/lib/modules"),
        "{label}: modprobe needs /lib/modules"
    );
    // Capabilities: exactly what apply uses.
    let caps = &container["securityContext"]["capabilities"];
    assert_eq!(caps["drop"], serde_json::json!(["ALL"]), "{label}");
    assert_eq!(
        caps["add"],
        serde_json::json!(["NET_ADMIN", "NET_RAW", "SYS_MODULE"]),
        "{label}"
    );
    assert_eq!(container["securityContext"]["privileged"], false, "{label}");
    assert_eq!(spec["hostNetwork"], true, "{label}");
    assert!(
        spec.get("hostPID").is_none(),
        "{label}: hostPID is not needed"
    );
    assert_eq!(spec["priorityClassName"], "system-node-critical", "{label}");
    let tolerated: Vec<&str> = spec["tolerations"]
        .as_array()
        .expect("tolerations")
        .iter()
        .filter_map(|t| t["key"].as_str())
        .collect();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
        "node.cloudprovider.kubernetes.io/uninitialized",
    ] {
        assert!(tolerated.contains(&key), "{label}: {key} not tolerated");
    }
    // Readiness is this intent applied: `netc status` is given the file the agent applies.
    let intent_path = format!("/etc/netc-intent/{key}");
    assert_eq!(
        container["readinessProbe"]["exec"]["command"],
        serde_json::json!(["netc", "status", intent_path]),
        "{label}"
    );
    // Liveness is the agent alive and passing, not its intent applied (a restart would only
    // apply a failed intent again).
    assert_eq!(
        container["livenessProbe"]["exec"]["command"],
        serde_json::json!(["netc", "status", "--liveness"]),
        "{label}"
    );
    // Restricted-style hardening where the agent allows it.
    let sc = &container["securityContext"];
    assert_eq!(sc["allowPrivilegeEscalation"], false, "{label}");
    assert_eq!(sc["readOnlyRootFilesystem"], true, "{label}");
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{label}");
}

#[test]
fn fleet_objects_pass_kubernetes_validate_and_mount_what_apply_writes() {
    let (_, art) = build("fleet.yaml", BRIDGE);
    check_fleet("bridge", "fleet.yaml", BRIDGE, &art);
    let ds = doc(&art, "fleet/daemonset.yaml");
    assert_eq!(ds["metadata"]["namespace"], "kube-network");
    assert_eq!(
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
        3
    );
    let spec = &ds["spec"]["template"]["spec"];
    assert!(
        spec["tolerations"]
            .as_array()
            .expect("tolerations")
            .iter()
            .any(|t| t["key"] == "dedicated"
                && t["value"] == "net"
                && t["tolerationSeconds"] == 600),
        "the intent's toleration is kept: {}",
        spec["tolerations"]
    );
    let command = &spec["containers"][0]["command"];
    assert_eq!(command[5], "5m");

    let mut checked = 0;
    for (name, _, art) in support::all_examples() {
        if art.keys().any(|p| p.starts_with("fleet/")) {
            let path = format!("examples/{name}");
            let intent = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&path),
            )
            .expect("example");
            check_fleet(&name, &path, &intent, &art);
            checked += 1;
        }
    }
    assert!(checked >= 1, "no example has a fleet");
}

#[test]
fn a_changed_intent_is_a_new_configmap_and_a_new_pod_template() {
    let (_, a) = build("fleet.yaml", BRIDGE);
    let edited = BRIDGE.replace("interval: 5m", "interval: 10m");
    let (_, b) = build("fleet.yaml", &edited);
    let name = |art: &Artifacts| doc(art, "fleet/configmap.yaml")["metadata"]["name"].clone();
    assert_ne!(
        name(&a),
        name(&b),
        "the ConfigMap name must follow the intent"
    );
    assert_ne!(
        doc(&a, "fleet/daemonset.yaml")["spec"]["template"],
        doc(&b, "fleet/daemonset.yaml")["spec"]["template"],
        "an unchanged pod template would not roll out"
    );
    // A comment is part of the text the agent reads: it changes the generation too.
    let (_, c) = build("fleet.yaml", &format!("# edited\n{BRIDGE}"));
    assert_ne!(name(&a), name(&c));
}

#[test]
fn no_fleet_section_no_fleet_files_and_apply_never_installs_them() {
    let plain = BRIDGE.split("fleet:").next().expect("head");
    let (_, art) = build("plain.yaml", plain);
    assert!(fleet_files(&art).is_empty());
    let checked = pipeline::check(&SourceFile::new("f.yaml", BRIDGE), Syntax::Yaml);
    let plan = checked.valid_plan().expect("valid");
    let on_node = node_artifacts(plan, "f.yaml", "a1")
        .expect("emits")
        .expect("node");
    assert!(on_node.iter().all(|a| !a.path.starts_with("fleet/")));
}

/// Issue 17 item 8: the API server refuses a ConfigMap over 1 MiB; a 10,000-node intent's text
/// is well over it. Shipped gzip-compressed in `binaryData`, it fits, and the fleet's objects
/// still pass kubernetes-validate.
#[test]
fn a_ten_thousand_node_intent_fits_its_configmap() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/gen_intent.py");
    let out = run("python3", &[script, "--fleet", "10000", "2000"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let intent = text(&out.stdout);
    assert!(intent.len() > 2 * CONFIGMAP_MAX_BYTES, "{}", intent.len());
    let src = SourceFile::new("big.yaml", &intent);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let plan = checked.valid_plan().expect("valid");
    // The fleet's objects only: the other 50,000 files are not what this is about.
    let mut art = Artifacts::new();
    fleet::emit(Context::new(plan, "big.yaml"), &mut art).expect("emits");
    validate("10k nodes", &art);
    let cm = doc(&art, "fleet/configmap.yaml");
    let (key, carried) = intent_in(&cm);
    assert_eq!(key, "intent.yaml.gz");
    assert_eq!(carried, intent);
    // What the API server counts: the decoded bytes of every value.
    let counted: usize = cm["binaryData"]
        .as_object()
        .expect("binaryData")
        .values()
        .map(|v| {
            BASE64_STANDARD
                .decode(v.as_str().expect("string"))
                .expect("base64")
                .len()
        })
        .sum();
    assert!(counted <= CONFIGMAP_MAX_BYTES / 8, "{counted} bytes");
    // Client-side `kubectl apply` copies the object into an annotation limited to 256 KiB.
    let file = art.get("fleet/configmap.yaml").expect("configmap");
    assert!(file.len() < 200 << 10, "{} bytes", file.len());
    eprintln!(
        "10,000 nodes: intent {} bytes, ConfigMap binaryData {counted} bytes, configmap.yaml {} bytes",
        intent.len(),
        file.len()
    );
}

/// The `kubectl.kubernetes.io/last-applied-configuration` annotation client-side `kubectl
/// apply` gives the ConfigMap, as kubectl builds it (kubernetes/kubernetes
/// staging/src/k8s.io/kubectl/pkg/util/apply.go, GetModifiedConfiguration): the object as
/// JSON, with its own annotation removed from an otherwise empty `metadata.annotations` (`{}`
/// stays), and the encoder's newline. Returns the size the API server counts for it (key and
/// value, objectmeta.go ValidateAnnotationsSize) and the base64 value's length.
fn last_applied(cm: &Value) -> (usize, usize) {
    const KEY: &str = "kubectl.kubernetes.io/last-applied-configuration";
    let mut obj = cm.clone();
    obj["metadata"]["annotations"] = serde_json::json!({});
    let json = serde_json::to_string(&obj).expect("json");
    let b64: usize = cm["binaryData"]
        .as_object()
        .expect("binaryData")
        .values()
        .map(|v| v.as_str().expect("string").len())
        .sum();
    (KEY.len() + json.len() + 1, b64)
}

/// `netc::fleet::client-side-apply-too-large` against the annotation kubectl would write for
/// the emitted ConfigMap: the rest of the object beside the intent's base64 stays within
/// `LAST_APPLIED_OVERHEAD_MAX` even with a 63-character namespace, the base64 is the plan's
/// `intent_base64_len`, and the warning is given exactly when this intent's annotation is over
/// 256 KiB (about 180 KB compressed: under; about 230 KB: over).
#[test]
fn client_side_apply_stores_the_configmap_in_an_annotation() {
    let longest = "n".repeat(63);
    let small = BRIDGE.replace("namespace: kube-network", &format!("namespace: {longest}"));
    let (plan, art) = build("fleet.yaml", &small);
    let (annotation, b64) = last_applied(&doc(&art, "fleet/configmap.yaml"));
    let fp = plan.fleet.as_ref().expect("fleet");
    assert_eq!(b64, fp.intent_base64_len());
    let overhead = annotation - b64;
    assert!(
        overhead <= LAST_APPLIED_OVERHEAD_MAX,
        "{overhead} bytes beside the base64"
    );
    eprintln!(
        "last-applied annotation: {overhead} bytes beside the base64 (63-character namespace)"
    );

    for (lines, over) in [(3_000, false), (3_800, true)] {
        let intent = format!("{BRIDGE}{}", incompressible_comments(lines));
        let src = SourceFile::new("big.yaml", &intent);
        let checked = pipeline::check(&src, Syntax::Yaml);
        let warned = checked
            .diagnostics
            .iter()
            .any(|d| d.code == code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE);
        let plan = checked.valid_plan().expect("valid");
        let mut art = Artifacts::new();
        fleet::emit(Context::new(plan, "big.yaml"), &mut art).expect("emits");
        let (annotation, b64) = last_applied(&doc(&art, "fleet/configmap.yaml"));
        let gzip = plan.fleet.as_ref().expect("fleet").intent_gzip.len();
        eprintln!(
            "{lines} comment lines: intent {} bytes, gzip {gzip}, base64 {b64}, annotation {annotation} bytes",
            intent.len()
        );
        assert_eq!(
            annotation > ANNOTATIONS_MAX_BYTES,
            over,
            "{annotation} bytes"
        );
        assert_eq!(warned, over, "{lines} lines: {:?}", checked.diagnostics);
    }
}

/// INDEX.md and the fleet files' `# apply:` headers say `kubectl apply --server-side -f fleet/`
/// exactly when `check` warns that client-side apply's annotation would be over 256 KiB (the
/// plan's one fact, `FleetPlan::client_side_apply_too_large`), and the plain command otherwise.
#[test]
fn index_says_server_side_apply_when_client_side_apply_is_too_large() {
    let server_side = "`kubectl apply --server-side -f fleet/`";
    let client_side = "`kubectl apply -f fleet/`";
    let files = [
        "fleet/namespace.yaml",
        "fleet/serviceaccount.yaml",
        "fleet/configmap.yaml",
        "fleet/daemonset.yaml",
    ];
    for (lines, over) in [(0, false), (3_000, false), (3_800, true)] {
        let intent = format!("{BRIDGE}{}", incompressible_comments(lines));
        let src = SourceFile::new("big.yaml", &intent);
        let warned = pipeline::check(&src, Syntax::Yaml)
            .diagnostics
            .iter()
            .any(|d| d.code == code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE);
        assert_eq!(warned, over, "{lines} lines");
        let (plan, art) = build("big.yaml", &intent);
        assert_eq!(
            plan.fleet
                .as_ref()
                .expect("fleet")
                .client_side_apply_too_large(),
            over
        );
        let index = text(&art["INDEX.md"]);
        let (want, not) = if over {
            (server_side, client_side)
        } else {
            (client_side, server_side)
        };
        for path in files {
            let row = index
                .lines()
                .find(|l| l.starts_with(&format!("| `{path}` |")))
                .unwrap_or_else(|| panic!("{path} not in INDEX.md:\n{index}"));
            assert!(
                row.ends_with(&format!("| {want} |")),
                "{lines} lines: {row}"
            );
            let header = text(&art[path]);
            let apply = header
                .lines()
                .find(|l| l.starts_with("# apply: "))
                .unwrap_or_else(|| panic!("{path}: no apply header"));
            assert_eq!(
                apply,
                format!("# apply: {}", want.trim_matches('`')),
                "{path}"
            );
        }
        assert!(!index.contains(not), "{lines} lines:\n{index}");
        assert_eq!(
            index.contains(code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE),
            over,
            "{lines} lines: the note on the ConfigMap"
        );
    }
}
