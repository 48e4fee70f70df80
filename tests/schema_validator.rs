//! The intent's JSON Schema under a real validator (python-jsonschema, Draft 2020-12; installed
//! by scripts/install-test-deps.sh) against `netc check`, on one corpus:
//! - every bad value the schema can express (a CIDR, a port, an interface name, `apiVersion`,
//!   `kind`, a VNI, a VXLAN port) is flagged by both, `check` with its own code;
//! - every example and the edge values `check` takes (VNI 2^24-1, port 65535, a 15-character
//!   interface name) pass both;
//! - each pattern accepts everything its parser in `intent/values.rs` accepts (an editor never
//!   flags what `check` takes), over all ports 0-100000 and a list of tricky strings.

#[path = "build_common/mod.rs"]
mod build_common;

use std::process::{Command, Stdio};

use build_common::{netc, repo};
use netc::intent::values;
use serde_json::{Value, json};

/// Runs python-jsonschema: `schema` against each instance; true = valid.
fn jsonschema_valid(schema: &Value, instances: &[Value]) -> Vec<bool> {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.json");
    std::fs::write(
        &input,
        json!({"schema": schema, "instances": instances}).to_string(),
    )
    .expect("write");
    let script = r#"
import json, sys
import jsonschema
data = json.load(open(sys.argv[1]))
v = jsonschema.Draft202012Validator(data["schema"], format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
jsonschema.Draft202012Validator.check_schema(data["schema"])
print(json.dumps([v.is_valid(i) for i in data["instances"]]))
"#;
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&input)
        .stderr(Stdio::inherit())
        .output()
        .expect("python3 (scripts/install-test-deps.sh installs jsonschema)");
    assert!(out.status.success(), "python-jsonschema failed");
    serde_json::from_slice(&out.stdout).expect("a JSON list")
}

fn intent_schema() -> Value {
    serde_json::from_str(&netc::cli::schema::schema_json()).expect("schema JSON")
}

fn base() -> Value {
    let text = std::fs::read_to_string(repo().join("examples/kubeadm-calico-overlay.yaml"))
        .expect("example");
    serde_saphyr::from_str(&text).expect("example YAML")
}

/// The codes of `netc check`'s errors on `doc` (written as JSON, which is YAML).
fn check_errors(doc: &Value) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intent.yaml");
    std::fs::write(&path, serde_json::to_string_pretty(doc).expect("json")).expect("write");
    let out = netc()
        .args(["check", "-q", "--format", "json"])
        .arg(&path)
        .output()
        .expect("run netc");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| d["severity"] == "error")
        .map(|d| d["code"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn with(pointer: &str, value: Value) -> Value {
    let mut doc = base();
    *doc.pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{pointer} is in the base intent")) = value;
    doc
}

#[test]
fn bad_values_are_flagged_by_schema_and_check() {
    // (where, bad value, the code `check` gives it)
    let bad: Vec<(&str, Value, &str)> = vec![
        ("/apiVersion", json!("netc/v1"), "netc::parse"),
        ("/kind", json!("NetworkIntnet"), "netc::parse"),
        (
            "/cluster/podCIDR",
            json!("10.244.0.0/33"),
            "netc::cidr::invalid",
        ),
        (
            "/cluster/podCIDR",
            json!("10.244.0/16"),
            "netc::cidr::invalid",
        ),
        (
            "/cluster/serviceCIDR",
            json!(["10.96.0.0/12", "fd00::/200"]),
            "netc::cidr::invalid",
        ),
        ("/reserved/0", json!("172.17.0.0"), "netc::cidr::invalid"),
        (
            "/hostOverlay/subnet",
            json!("192.168.100.0/24x"),
            "netc::cidr::invalid",
        ),
        (
            "/nodes/0/address",
            json!("10.0.1.300/24"),
            "netc::cidr::invalid",
        ),
        (
            "/nodes/1/interfaces/1/address",
            json!("ten.10.0.101/24"),
            "netc::cidr::invalid",
        ),
        ("/cni/vxlan/vni", json!(16_777_216), "netc::parse"),
        ("/hostOverlay/vxlan/port", json!(0), "netc::parse"),
        (
            "/cni/interface",
            json!("eth1234567890123"),
            "netc::iface::invalid",
        ),
        ("/hostOverlay/bridge", json!("br/0"), "netc::iface::invalid"),
        (
            "/hostOverlay/vxlan/interface",
            json!(".."),
            "netc::iface::invalid",
        ),
        (
            "/firewall/managementAccess/0",
            json!("tcp/99999"),
            "netc::parse",
        ),
        (
            "/firewall/managementAccess/0",
            json!("tcp/0"),
            "netc::parse",
        ),
        (
            "/firewall/rules/0/ports/0",
            json!("icmp/9100"),
            "netc::parse",
        ),
    ];
    let docs: Vec<Value> = bad.iter().map(|(p, v, _)| with(p, v.clone())).collect();
    let valid = jsonschema_valid(&intent_schema(), &docs);
    let mut failures = Vec::new();
    for ((pointer, value, code), (doc, schema_ok)) in bad.iter().zip(docs.iter().zip(valid)) {
        let errors = check_errors(doc);
        if schema_ok {
            failures.push(format!("{pointer} = {value}: the schema accepts it"));
        }
        if !errors.iter().any(|c| c == code) {
            failures.push(format!(
                "{pointer} = {value}: check gives {errors:?}, not {code}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn good_intents_pass_schema_and_check() {
    let mut docs = Vec::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(repo().join("examples"))
        .expect("examples")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") {
            let text = std::fs::read_to_string(entry.path()).expect("read");
            docs.push(serde_saphyr::from_str::<Value>(&text).expect("YAML"));
            names.push(name);
        }
    }
    // Edge values `check` takes.
    let edges: Vec<(&str, Value)> = vec![
        ("/cni/vxlan/vni", json!(values::MAX_VNI)),
        ("/hostOverlay/vxlan/port", json!(65535)),
        ("/hostOverlay/bridge", json!("abcdefghijklmno")),
        ("/firewall/managementAccess/0", json!("TCP/65535")),
        ("/firewall/rules/0/ports/0", json!("udp/30000-32767")),
        ("/reserved/0", json!("fd00:17::/64")),
    ];
    for (pointer, value) in &edges {
        let doc = with(pointer, value.clone());
        assert_eq!(
            check_errors(&doc),
            Vec::<String>::new(),
            "{pointer} = {value}"
        );
        docs.push(doc);
        names.push(format!("{pointer} = {value}"));
    }
    let valid = jsonschema_valid(&intent_schema(), &docs);
    let rejected: Vec<&String> = names
        .iter()
        .zip(valid)
        .filter(|(_, ok)| !ok)
        .map(|(n, _)| n)
        .collect();
    assert!(
        rejected.is_empty(),
        "the schema rejects good intents: {rejected:?}"
    );
}

/// `pattern` accepts `text` (python-jsonschema), for each text.
fn pattern_accepts(pattern: &str, texts: &[String]) -> Vec<bool> {
    let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string", "pattern": pattern});
    let instances: Vec<Value> = texts.iter().map(|t| json!(t)).collect();
    jsonschema_valid(&schema, &instances)
}

fn assert_sound(
    what: &str,
    pattern: &str,
    texts: Vec<String>,
    parses: impl Fn(&str) -> bool,
) -> Vec<String> {
    let accepted = pattern_accepts(pattern, &texts);
    let mut refused = Vec::new();
    for (t, ok) in texts.iter().zip(accepted) {
        if ok {
            continue;
        }
        assert!(
            !parses(t),
            "{what}: the schema refuses {t:?}, which check accepts"
        );
        refused.push(t.clone());
    }
    refused
}

#[test]
fn patterns_accept_everything_the_parsers_accept() {
    // Ports: every number around the range, with the forms Rust's integer parsing takes.
    let mut ports: Vec<String> = (0..=100_000).map(|n| format!("tcp/{n}")).collect();
    for t in [
        "udp/1-65535",
        "sctp/080",
        "tcp/+22",
        " tcp/22 ",
        "UDP/53",
        "tcp/22-",
        "tcp/-22",
        "tcp/22-99999",
        "tcp/",
        "tcp22",
        "icmp/1",
        "tcp/2 2",
        "tcp/00000000022",
    ] {
        ports.push(t.to_owned());
    }
    let refused = assert_sound("port", values::PORT_RANGE_PATTERN, ports, |t| {
        values::parse_port_range(t).is_ok()
    });
    for t in ["tcp/0", "tcp/65536", "tcp/99999", "icmp/1", "tcp/22-99999"] {
        assert!(
            refused.iter().any(|r| r == t),
            "the port pattern accepts {t}"
        );
    }

    let cidrs: Vec<String> = [
        "10.0.0.0/8",
        "10.0.0.1/8",
        "0.0.0.0/0",
        "255.255.255.255/32",
        " 10.0.0.0/8 ",
        "10.0.0.0/08",
        "10.0.0.0/33",
        "10.0.0.256/8",
        "010.0.0.0/8",
        "10.0.0/8",
        "10.0.0.0",
        "fd00::/8",
        "::/0",
        "fd00:10:244::/56",
        "::ffff:10.0.0.0/104",
        "fd00::/129",
        "fd00::/0128",
        "fd00:::/64",
        "1:2:3:4:5:6:7:8/64",
        "10.0.0.0/-1",
        "10.0.0.0/+8",
        "x",
        "",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let refused = assert_sound("CIDR", values::CIDR_PATTERN, cidrs, |t| {
        values::parse_interface_address(t).is_some() || values::parse_network(t).is_ok()
    });
    for t in [
        "10.0.0.0/33",
        "10.0.0.256/8",
        "10.0.0/8",
        "10.0.0.0",
        "fd00::/129",
        "x",
    ] {
        assert!(
            refused.iter().any(|r| r == t),
            "the CIDR pattern accepts {t}"
        );
    }

    let names: Vec<String> = [
        "eth0",
        "abcdefghijklmno",
        "abcdefghijklmnop",
        "br/0",
        "a:b",
        "a b",
        ".",
        "..",
        "...",
        "a\u{0}b",
        "",
        "é",
        "ééééééééééééééé",
        "eth0.100",
        "-x",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let refused = assert_sound(
        "interface name",
        values::INTERFACE_NAME_PATTERN,
        names,
        values::is_interface_name,
    );
    for t in ["abcdefghijklmnop", "br/0", "a:b", "a b", ".", "..", ""] {
        assert!(
            refused.iter().any(|r| r == t),
            "the interface name pattern accepts {t:?}"
        );
    }
}
