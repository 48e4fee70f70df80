//! `netc explain` and `netc diff-connectivity` as a user runs them, on the RKE2 example (which
//! declares its workloads).

use std::process::{Command, Output};

use serde_json::Value;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/rke2-canal.yaml");

fn netc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run netc")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn explain_text_names_the_rules_and_intent_lines() {
    let o = netc(&[
        "explain",
        EXAMPLE,
        "--from",
        "shop/frontend",
        "--to",
        "shop/backend",
        "--port",
        "tcp/9000",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with("shop/frontend -> shop/backend on tcp/9000: ALLOWED"),
        "{text}"
    );
    assert!(
        text.contains(
            "NetworkPolicy shop/frontend-to-backend: egress rule 1 allows (intent line 66)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "NetworkPolicy shop/backend-from-frontend: ingress rule 1 allows (intent line 57)"
        ),
        "{text}"
    );
}

#[test]
fn explain_json_has_a_boolean_and_exits_zero_when_denied() {
    let o = netc(&[
        "explain",
        EXAMPLE,
        "--from",
        "shop/backend",
        "--to",
        "shop/frontend",
        "--port",
        "tcp/http",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "denied still exits 0");
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(doc["formatVersion"], 1);
    assert_eq!(doc["explanations"].as_array().map(Vec::len), Some(1));
    let v = &doc["explanations"][0];
    assert_eq!(v["allowed"], Value::Bool(false));
    assert_eq!(v["port"], "tcp/8080 (http)");
    assert_eq!(v["egress"]["allowed"], Value::Bool(false));
    assert_eq!(v["egress"]["layer"], "network-policy");
    let rules: Vec<&str> = v["ingress"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["policy"].as_str())
        .collect();
    assert_eq!(
        rules,
        ["shop/default-deny-ingress", "shop/frontend-from-ingress"]
    );
    assert_eq!(v["ingress"]["rules"][0]["line"], 50);

    let o = netc(&[
        "explain",
        EXAMPLE,
        "--from",
        "192.168.7.7",
        "--to",
        "node/rke2-agent-1",
        "--port",
        "tcp/443",
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let v = &doc["explanations"][0];
    assert_eq!(v["allowed"], Value::Bool(true));
    assert_eq!(v["ingress"]["layer"], "node-firewall");
    assert_eq!(
        v["ingress"]["rules"][0]["what"],
        "firewall rule ingress-http"
    );
}

#[test]
fn explain_without_port_checks_each_declared_port() {
    let o = netc(&[
        "explain",
        EXAMPLE,
        "--from",
        "shop/frontend",
        "--to",
        "kube-system/coredns",
    ]);
    let text = stdout(&o);
    assert_eq!(
        text.matches(": ALLOWED").count(),
        2,
        "dns and dns-tcp:\n{text}"
    );
    assert_eq!(text.matches(": DENIED").count(), 1, "metrics:\n{text}");
}

#[test]
fn explain_usage_errors_exit_two() {
    for args in [
        [
            "explain",
            EXAMPLE,
            "--from",
            "shop/nobody",
            "--to",
            "shop/backend",
            "--port",
            "tcp/1",
        ],
        [
            "explain",
            EXAMPLE,
            "--from",
            "shop/frontend",
            "--to",
            "shop/backend",
            "--port",
            "tcp/nope",
        ],
        [
            "explain",
            EXAMPLE,
            "--from",
            "shop/frontend",
            "--to",
            "10.0.0.1",
            "--port",
            "tcp/http",
        ],
    ] {
        let o = netc(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

#[test]
fn matrix_in_every_format() {
    let endpoints = 9; // 4 declared workloads, CoreDNS, the API server, 3 nodes
    let o = netc(&["explain", EXAMPLE, "--matrix", "json", "--port", "tcp/9000"]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["endpoints"].as_array().map(Vec::len), Some(endpoints));
    let allowed: Vec<(String, String)> = v["connections"]
        .as_array()
        .expect("connections")
        .iter()
        .filter(|c| c["allowed"] == Value::Bool(true) && c["to"] == "shop/backend")
        .map(|c| {
            (
                c["from"].as_str().unwrap_or("").to_owned(),
                c["port"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        allowed,
        [("shop/frontend".to_owned(), "tcp/9000".to_owned())]
    );

    let csv = stdout(&netc(&[
        "explain", EXAMPLE, "--matrix", "csv", "--port", "tcp/9000",
    ]));
    assert!(csv.starts_with("from,to,port,allowed\n"));
    assert!(
        csv.contains("shop/frontend,shop/backend,tcp/9000,true\n"),
        "{csv}"
    );
    assert!(
        csv.contains("shop/backend,shop/frontend,tcp/9000,false\n"),
        "{csv}"
    );
    // Every pair but a node to itself.
    assert_eq!(csv.lines().count(), 1 + endpoints * endpoints - 3);

    let md = stdout(&netc(&[
        "explain", EXAMPLE, "--matrix", "md", "--port", "tcp/9000",
    ]));
    // The table, then the legend the text matrix has (issue 16 item 14).
    let (table, legend) = md.split_once("\n\n").expect("a legend after the table");
    assert_eq!(table.lines().count(), 2 + endpoints);
    assert!(
        table
            .lines()
            .all(|l| l.starts_with('|') && l.ends_with('|')),
        "{md}"
    );
    assert!(
        legend.starts_with("cells: all = every checked port allowed"),
        "{md}"
    );

    let dot = stdout(&netc(&[
        "explain", EXAMPLE, "--matrix", "dot", "--port", "tcp/9000",
    ]));
    assert!(dot.starts_with("digraph connectivity {"), "{dot}");
    assert!(
        dot.contains("\"shop/frontend\" -> \"shop/backend\""),
        "{dot}"
    );
    assert!(
        !dot.contains("\"shop/backend\" -> \"shop/frontend\""),
        "{dot}"
    );

    let txt = stdout(&netc(&["explain", EXAMPLE, "--matrix"]));
    assert!(txt.contains("#1 = shop/backend"), "{txt}");
}

#[test]
fn exposure_lists_what_each_rule_admits() {
    let o = netc(&["explain", EXAMPLE, "--exposure", "--format", "json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["formatVersion"], 1);
    let rows = v["exposures"].as_array().expect("array");
    let dns = rows
        .iter()
        .find(|r| r["policy"] == "shop/allow-dns")
        .expect("allow-dns");
    assert!(
        dns["admits"]
            .as_str()
            .unwrap_or("")
            .contains("k8s-app=kube-dns"),
        "{dns}"
    );
    assert_eq!(dns["direction"], "egress");
    let backend = rows
        .iter()
        .find(|r| r["policy"] == "shop/backend-from-frontend")
        .expect("rule");
    assert!(
        backend["admits"]
            .as_str()
            .unwrap_or("")
            .contains("declared or not"),
        "{backend}"
    );
}

#[test]
fn diff_connectivity_reports_removed_and_fails_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let new = dir.path().join("new.yaml");
    let text = std::fs::read_to_string(EXAMPLE).expect("example");
    let changed = text
        .replace("to: [{pods: {tier: database}}]", "to: [{pods: {tier: db}}]")
        .replace("vxlan: {port: 8472, vni: 1}", "vxlan: {port: 8473, vni: 1}");
    assert_ne!(text, changed);
    std::fs::write(&new, changed).expect("write");
    let new = new.to_string_lossy();

    let o = netc(&["diff-connectivity", EXAMPLE, &new, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let removed = v["removed"].as_array().expect("removed");
    assert!(
        removed
            .iter()
            .any(|f| f["from"] == "shop/backend" && f["to"] == "shop/database"),
        "{v}"
    );
    assert_eq!(v["host"][0]["code"], "netc::diff::disruptive");

    let o = netc(&["diff-connectivity", EXAMPLE, &new, "--fail-on-removed"]);
    assert_eq!(o.status.code(), Some(1));
    let o = netc(&["diff-connectivity", EXAMPLE, EXAMPLE, "--fail-on-removed"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "connections added: 0\nconnections removed: 0\n");
}

/// Issue 16 item 14: `--port 9100` is tcp/9100 (kubectl's convention); an unknown
/// `namespace/name` says to declare it under `workloads:`.
#[test]
fn a_port_without_protocol_is_tcp_and_unknown_workloads_say_where_to_declare_them() {
    let args = |port: &str| {
        netc(&[
            "explain",
            EXAMPLE,
            "--from",
            "shop/frontend",
            "--to",
            "shop/backend",
            "--port",
            port,
            "--format",
            "json",
        ])
    };
    let tcp = args("tcp/9000");
    let bare = args("9000");
    assert_eq!(
        bare.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&bare.stderr)
    );
    assert_eq!(stdout(&bare), stdout(&tcp));
    let o = netc(&[
        "explain",
        EXAMPLE,
        "--from",
        "apps/web",
        "--to",
        "shop/backend",
        "--port",
        "9000",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("apps/web") && err.contains("declare it under `workloads:`"),
        "{err}"
    );
}

/// The CSV as `Matrix::render` wrote it before it was streamed: the held matrix, row by row.
fn held_csv(file: &str, port: Option<&str>) -> String {
    use netc::explain::{Connectivity, matrix};
    let text = std::fs::read_to_string(file).expect("read");
    let syntax = if file.ends_with(".kdl") {
        netc::intent::Syntax::Kdl
    } else {
        netc::intent::Syntax::Yaml
    };
    let checked = netc::pipeline::check(&netc::diagnostic::SourceFile::new(file, &text), syntax);
    let plan = checked.plan.expect("a plan");
    let c = Connectivity::new(&plan);
    let m = matrix::build(&c, port);
    let mut out = String::from("from,to,port,allowed\n");
    for x in m.connections() {
        out.push_str(&format!("{},{},{},{}\n", x.from, x.to, x.port, x.allowed));
    }
    out
}

#[test]
fn streamed_csv_equals_the_held_matrix() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/");
    for (file, port) in [
        ("rke2-canal.yaml", None),
        ("rke2-canal.yaml", Some("tcp/9000")),
        ("rke2-canal.yaml", Some("tcp/http")),
        ("kubeadm-calico-overlay.yaml", None),
        ("k3s-dual-stack-tuned.yaml", Some("udp/53")),
        ("hard-way-bridge.yaml", None),
    ] {
        let path = format!("{dir}{file}");
        let mut args = vec!["explain", &path, "--matrix", "csv"];
        args.extend(port.iter().flat_map(|p| ["--port", p]));
        let o = netc(&args);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{file} {port:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let streamed = stdout(&o);
        assert!(streamed.lines().count() > 1, "{file} {port:?}: {streamed}");
        assert_eq!(streamed, held_csv(&path, port), "{file} {port:?}");
    }
}

/// Rows reach the writer as their verdicts are decided: a writer that refuses everything after
/// the header and the first row stops the matrix there (the error comes back), where a held
/// matrix would have decided every verdict before writing anything.
#[test]
fn csv_rows_are_written_as_decided() {
    use netc::explain::{Connectivity, matrix};
    struct Refusing {
        lines: usize,
        written: Vec<u8>,
    }
    impl std::io::Write for Refusing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let so_far = self.written.iter().filter(|b| **b == b'\n').count();
            if so_far >= self.lines {
                return Err(std::io::Error::other("full"));
            }
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let text = std::fs::read_to_string(EXAMPLE).expect("read");
    let checked = netc::pipeline::check(
        &netc::diagnostic::SourceFile::new(EXAMPLE, &text),
        netc::intent::Syntax::Yaml,
    );
    let plan = checked.plan.expect("a plan");
    let c = Connectivity::new(&plan);
    let mut w = Refusing {
        lines: 2,
        written: Vec::new(),
    };
    assert!(matrix::write_csv(&c, Some("tcp/9000"), &mut w).is_err());
    let written = String::from_utf8_lossy(&w.written);
    let held = held_csv(EXAMPLE, Some("tcp/9000"));
    let first_two: String = held.split_inclusive('\n').take(2).collect();
    assert_eq!(written, first_two);
}
