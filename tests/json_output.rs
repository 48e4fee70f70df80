//! The machine-output contract (`src/machine.rs`, README "Machine-readable output"): every
//! `--format json` document of every command has `formatVersion`, camelCase keys, and
//! validates against its checked-in `schema/<name>.schema.json` (python `jsonschema`), which is
//! what `netc schema --output NAME` generates from the serde types.
//!
//! `apply` on a real node runs in a network namespace the test creates and deletes (`lab`);
//! `NETC_SKIP_NETNS=1` skips that part.

mod lab;
mod schema_check;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const RKE2: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/rke2-canal.yaml");
const KUBEADM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/kubeadm-flannel.yaml");

fn netc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netc")
}

fn schema_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(format!("{name}.schema.json"))
}

/// The one document on stdout.
fn document(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Each line of stdout (NDJSON).
fn lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// Every key of `v`, with its path.
fn keys(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                out.push(format!("{path}/{k}"));
                keys(x, &format!("{path}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                keys(x, &format!("{path}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The contract, then the schema: `formatVersion` 1 at the top, camelCase keys everywhere.
fn assert_valid(name: &str, docs: &[Value]) {
    assert!(!docs.is_empty(), "{name}: no document to check");
    for doc in docs {
        assert_eq!(doc["formatVersion"], 1, "{name}: {doc}");
        let mut all = Vec::new();
        keys(doc, "", &mut all);
        for key in all {
            let last = key.rsplit('/').next().unwrap_or_default();
            let camel = last.chars().next().is_some_and(|c| c.is_ascii_lowercase())
                && last.chars().all(|c| c.is_ascii_alphanumeric());
            assert!(camel, "{name}: key {key} is not camelCase in {doc}");
        }
    }
    schema_check::validate(&schema_path(name), docs)
        .unwrap_or_else(|e| panic!("{name}: output does not match its schema:\n{e}"));
}

#[test]
fn checked_in_schemas_are_the_generated_ones() {
    for (name, _) in netc::cli::schema::OUTPUTS {
        let generated = netc::cli::schema::output_schema(name).expect("a schema");
        let path = schema_path(name);
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{} is not what `netc schema --output {name}` generates: run `cargo run -q -- \
             schema --output {name} > schema/{name}.schema.json`",
            path.display()
        );
        let o = netc(&["schema", "--output", name]);
        assert_eq!(o.status.code(), Some(0));
        assert_eq!(String::from_utf8_lossy(&o.stdout), generated);
    }
    let o = netc(&["schema", "--output", "nonsense"]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn check_prints_one_versioned_finding_per_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.yaml");
    let text = std::fs::read_to_string(KUBEADM).expect("example");
    let bad = text.replacen("podCIDR: 10.244.0.0/16", "podCIDR: 10.96.0.0/16", 1);
    assert_ne!(bad, text);
    std::fs::write(&file, bad).expect("write");
    let file = file.to_string_lossy();
    let o = netc(&["check", "--format", "json", &file]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let found = lines(&o);
    assert_valid("check", &found);
    // Any command whose intent has errors prints them the same way.
    for args in [
        vec!["build", &file, "-o", "/nonexistent/out", "--format", "json"],
        vec!["explain", &file, "--matrix", "--format", "json"],
    ] {
        let o = netc(&args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {o:?}");
        assert_eq!(lines(&o), found, "{args:?}");
    }
}

#[test]
fn explain_outputs_match_their_schemas() {
    let o = netc(&[
        "explain",
        RKE2,
        "--from",
        "shop/backend",
        "--to",
        "shop/frontend",
        "--port",
        "tcp/http",
        "--format",
        "json",
    ]);
    let one = document(&o);
    assert_eq!(one["explanations"][0]["policiesEnforced"], true, "{one}");
    // Without --port: one document for all the destination's ports (not one per port).
    let o = netc(&[
        "explain",
        RKE2,
        "--from",
        "shop/frontend",
        "--to",
        "shop/backend",
        "--format",
        "json",
    ]);
    let each = document(&o);
    assert!(!each["explanations"].as_array().expect("array").is_empty());
    assert_valid("explain", &[one, each]);

    let o = netc(&["explain", RKE2, "--exposure", "--format", "json"]);
    assert_valid("explain-exposure", &[document(&o)]);
    let o = netc(&["explain", RKE2, "--matrix", "json"]);
    assert_valid("explain-matrix", &[document(&o)]);

    let dir = tempfile::tempdir().expect("tempdir");
    let new = dir.path().join("new.yaml");
    let text = std::fs::read_to_string(RKE2).expect("example");
    let changed = text
        .replace("to: [{pods: {tier: database}}]", "to: [{pods: {tier: db}}]")
        .replace("vxlan: {port: 8472, vni: 1}", "vxlan: {port: 8473, vni: 1}");
    assert_ne!(text, changed);
    std::fs::write(&new, changed).expect("write");
    let o = netc(&[
        "diff-connectivity",
        RKE2,
        &new.to_string_lossy(),
        "--format",
        "json",
    ]);
    let doc = document(&o);
    assert!(!doc["host"].as_array().expect("host").is_empty(), "{doc}");
    assert_valid("diff-connectivity", &[doc]);
}

#[test]
fn build_and_diff_print_structured_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_s = out.to_string_lossy().into_owned();
    let o = netc(&["build", KUBEADM, "-o", &out_s, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let built = document(&o);
    assert!(built["files"].as_u64() > Some(0), "{built}");
    assert_valid("build", &[built]);

    let o = netc(&["diff", KUBEADM, "-o", &out_s, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let same = document(&o);
    assert_eq!(same["upToDate"], true, "{same}");
    assert_eq!(same["entries"], serde_json::json!([]));

    // One file edited, one removed: a modified and an added entry, with old and new text.
    let index = out.join("INDEX.md");
    let text = std::fs::read_to_string(&index).expect("INDEX.md");
    std::fs::write(&index, format!("{text}edited\n")).expect("edit");
    let gone = std::fs::read_dir(&out)
        .expect("out")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .flat_map(|d| {
            std::fs::read_dir(d)
                .expect("dir")
                .flatten()
                .map(|e| e.path())
        })
        .find(|p| p.is_file())
        .expect("a file in a directory of out");
    std::fs::remove_file(&gone).expect("rm");
    let o = netc(&[
        "diff",
        KUBEADM,
        "-o",
        &out_s,
        "--format",
        "json",
        "--exit-code",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let diff = document(&o);
    assert!(
        !String::from_utf8_lossy(&o.stdout).contains("@@"),
        "a unified diff in the JSON output"
    );
    let entries = diff["entries"].as_array().expect("entries");
    let entry = |path: &str| {
        entries
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("no entry {path} in {diff}"))
    };
    let modified = entry("INDEX.md");
    assert_eq!(modified["change"], "modified");
    assert_eq!(modified["old"], format!("{text}edited\n"));
    assert_eq!(modified["new"], text);
    let rel = gone.strip_prefix(&out).expect("under out");
    let added = entry(&rel.to_string_lossy());
    assert_eq!(added["change"], "added");
    assert_eq!(added["old"], Value::Null);
    let o = netc(&[
        "build", KUBEADM, "-o", &out_s, "--check", "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    assert_eq!(document(&o)["entries"], diff["entries"]);
    assert_valid("diff", &[same, diff, document(&o)]);
}

#[test]
fn status_documents_match_their_schemas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().to_string_lossy().into_owned();
    let o = netc(&[
        "status",
        "--node",
        "worker-1",
        "--state-dir",
        &state,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let none = document(&o);
    assert_eq!(none["ready"], false);
    // A one-shot apply's record, verified: ready.
    let generation = "sha256:".to_owned() + &"ab".repeat(32);
    let record = serde_json::json!({
        "kind": "apply", "node": "worker-1", "updated": 1, "lockTimeoutSecs": 60,
        "generation": generation, "appliedGeneration": generation, "lastPass": 1,
        "intervalSecs": 0, "verified": true, "driftCorrected": 0, "failure": null,
    });
    std::fs::write(
        dir.path().join("status.json"),
        serde_json::to_vec(&record).expect("json"),
    )
    .expect("write");
    let o = netc(&[
        "status",
        "--node",
        "worker-1",
        "--state-dir",
        &state,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let ready = document(&o);
    assert_eq!(ready["appliedGeneration"], generation.as_str());
    assert_valid("status", &[none, ready]);

    let o = netc(&[
        "status",
        "--liveness",
        "--node",
        "worker-1",
        "--state-dir",
        &state,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let dead = document(&o);
    assert_eq!(dead["alive"], false);
    assert!(dead["reason"].as_str().is_some(), "{dead}");
    assert_valid("status-liveness", &[dead]);
}

#[test]
fn apply_documents_without_a_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state").to_string_lossy().into_owned();
    let lock = dir.path().join("lock").to_string_lossy().into_owned();
    let o = netc(&[
        "apply",
        "--confirm",
        "--state-dir",
        &state,
        "--lock-dir",
        &lock,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let nothing = document(&o);
    assert_eq!(nothing["result"], "nothing-pending");
    let o = netc(&[
        "apply",
        KUBEADM,
        "--node",
        "no-such-node",
        "--dry-run",
        "--state-dir",
        &state,
        "--lock-dir",
        &lock,
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let failed = document(&o);
    assert_eq!(failed["result"], "failed");
    assert_eq!(failed["dryRun"], true);
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.contains("no-such-node")),
        "{failed}"
    );
    assert_valid("apply", &[nothing, failed]);
}

/// The agent's log: one versioned line per event, until SIGTERM ends it. An intent with errors
/// keeps it waiting (and logging) without touching the host.
#[test]
fn the_agent_logs_one_document_per_line() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: netc/v1alpha1\nkind: NetworkIntent\nmetadata: {name: x}\nbogus: 1\n",
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_netc"))
        .arg("apply")
        .arg(&file)
        .args([
            "--node",
            "n1",
            "--watch",
            "--interval",
            "1s",
            "--format",
            "json",
        ])
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .arg("--lock-dir")
        .arg(dir.path().join("lock"))
        .arg("--root")
        .arg(dir.path().join("root"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the agent");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut docs = Vec::new();
    let mut line = String::new();
    // Started, then the intent's errors.
    while docs.len() < 2 && out.read_line(&mut line).is_ok_and(|n| n > 0) {
        docs.push(serde_json::from_str::<Value>(&line).expect("a JSON line"));
        line.clear();
    }
    let pid = i32::try_from(child.id()).expect("pid");
    // SAFETY: a signal to the child this test started.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    for line in out.lines() {
        docs.push(serde_json::from_str(&line.expect("line")).expect("a JSON line"));
    }
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{docs:?}");
    assert!(docs.len() >= 3, "{docs:?}");
    assert!(
        docs[1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("has errors")),
        "{docs:?}"
    );
    assert_valid("apply-watch", &docs);
}

#[test]
fn apply_documents_on_a_node() {
    let Some(lab) = lab::Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    let file = lab.file("intent.yaml", &lab::intent::LabIntent::new().yaml());
    let json = ["--format", "json"];
    let dry = [json[0], json[1], "--dry-run"];

    let o = lab.apply("n1", &file, "worker-1", &dry, &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let planned = document(&o);
    assert_eq!(planned["result"], "planned");
    let steps = planned["steps"].as_array().expect("steps").clone();
    assert!(steps.len() > 3, "{planned}");
    assert!(steps.iter().all(|s| s["result"] == "planned"), "{planned}");
    let route = steps
        .iter()
        .find(|s| s["kind"] == "route" && s["object"] == "10.200.2.0/24")
        .unwrap_or_else(|| panic!("no route to worker-2's pods in {planned}"));
    assert_eq!(route["action"], "add");
    assert_eq!(route["before"], Value::Null);
    assert_eq!(route["after"], "via 172.16.0.4");

    // A fault at the last step: the earlier ones were applied, then rolled back.
    let last = steps.len().to_string();
    let o = lab.apply(
        "n1",
        &file,
        "worker-1",
        &json,
        &[("NETC_FAULT_AT_STEP", &last)],
    );
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let failed = document(&o);
    assert_eq!(failed["result"], "failed");
    let results: Vec<&str> = failed["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["result"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(results.last(), Some(&"not-applied"), "{failed}");
    assert!(
        results[..results.len() - 1]
            .iter()
            .all(|r| *r == "rolled-back"),
        "{failed}"
    );

    let o = lab.apply("n1", &file, "worker-1", &json, &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let applied = document(&o);
    assert_eq!(applied["result"], "applied");
    assert_eq!(applied["changes"], steps.len());
    let o = lab.apply("n1", &file, "worker-1", &json, &[]);
    let unchanged = document(&o);
    assert_eq!(unchanged["result"], "unchanged");
    assert_valid("apply", &[planned, failed, applied, unchanged]);

    let o = lab.exec(
        "n1",
        &[
            lab::NETC,
            "status",
            &file.to_string_lossy(),
            "--node",
            "worker-1",
            "--format",
            "json",
            "--state-dir",
            &lab.path("n1", "state").to_string_lossy(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_valid("status", &[document(&o)]);
}

/// Address and forwarding-entry steps say what they change, as file and firewall steps do:
/// the address with its prefix and link, the entry's MAC (all zeros), destination and link;
/// `after` when added, `before` when deleted, from the step's own data (both were `null`).
#[test]
fn apply_documents_say_what_address_and_fdb_steps_change() {
    let Some(lab) = lab::Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    let overlay = lab::intent::LabIntent::new().host_overlay(100);
    let file = lab.file("intent.yaml", &overlay.yaml());
    let dry = ["--format", "json", "--dry-run"];
    let changes = |o: &Output| -> Vec<(String, String, String, Value, Value)> {
        assert_eq!(o.status.code(), Some(0), "{o:?}");
        let doc = document(o);
        assert_valid("apply", std::slice::from_ref(&doc));
        doc["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .filter(|s| s["kind"] == "address" || s["kind"] == "fdb")
            .map(|s| {
                let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
                (
                    text("kind"),
                    text("action"),
                    text("object"),
                    s["before"].clone(),
                    s["after"].clone(),
                )
            })
            .collect()
    };
    let step = |kind: &str, action: &str, object: &str, before: Value, after: Value| {
        (
            kind.to_owned(),
            action.to_owned(),
            object.to_owned(),
            before,
            after,
        )
    };
    let none = || Value::Null;
    let text = |t: &str| Value::String(t.to_owned());
    let planned = changes(&lab.apply("n1", &file, "worker-1", &dry, &[]));
    assert_eq!(
        planned,
        [
            step(
                "address",
                "add",
                "10.200.1.1/24 dev cni0",
                none(),
                text("10.200.1.1/24 dev cni0")
            ),
            step(
                "address",
                "add",
                "192.168.100.2/24 dev scbr0",
                none(),
                text("192.168.100.2/24 dev scbr0")
            ),
            step(
                "fdb",
                "add",
                "vx100 dst 172.16.0.2",
                none(),
                text("00:00:00:00:00:00 dst 172.16.0.2 dev vx100")
            ),
            step(
                "fdb",
                "add",
                "vx100 dst 172.16.0.4",
                none(),
                text("00:00:00:00:00:00 dst 172.16.0.4 dev vx100")
            ),
        ]
    );
    let o = lab.apply("n1", &file, "worker-1", &["--format", "json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{o:?}");

    // worker-2 moves and the overlay's subnet changes: netc's own address and entry go.
    let moved = overlay
        .node_address("worker-2", "172.16.0.5/24")
        .set("/hostOverlay/subnet", "192.168.101.0/24");
    let file = lab.file("moved.yaml", &moved.yaml());
    let planned = changes(&lab.apply("n1", &file, "worker-1", &dry, &[]));
    assert_eq!(
        planned,
        [
            step(
                "fdb",
                "delete",
                "vx100 dst 172.16.0.4",
                text("00:00:00:00:00:00 dst 172.16.0.4 dev vx100"),
                none()
            ),
            step(
                "address",
                "delete",
                "192.168.100.2/24 dev scbr0",
                text("192.168.100.2/24 dev scbr0"),
                none()
            ),
            step(
                "address",
                "add",
                "192.168.101.2/24 dev scbr0",
                none(),
                text("192.168.101.2/24 dev scbr0")
            ),
            step(
                "fdb",
                "add",
                "vx100 dst 172.16.0.5",
                none(),
                text("00:00:00:00:00:00 dst 172.16.0.5 dev vx100")
            ),
        ]
    );
}
