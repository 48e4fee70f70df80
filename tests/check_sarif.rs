//! `netc check --format sarif` (issue 16 item 4): a SARIF 2.1.0 log valid against the
//! specification's JSON Schema (`../shared/schemas/sarif-schema-2.1.0.json`; skipped with a
//! note where it is absent), with the driver's rules, one result per finding, the file relative
//! to the working directory, regions, and the secondary labels as related locations.

mod build_common;
mod schema_check;

use build_common::{netc, repo};

/// A pod network that overlaps the service network (an error with two labels), and a namespace
/// that denies egress without DNS (a warning).
fn intent() -> String {
    std::fs::read_to_string(repo().join("tests/invalid/base.yaml"))
        .unwrap()
        .replace("podCIDR: 10.244.0.0/16", "podCIDR: 10.96.0.0/16")
        .replace("plugin: flannel", "plugin: calico")
        .replace("encapsulation: vxlan", "encapsulation: ipip")
        .replace("  vxlan: {port: 8472, vni: 1}\n", "")
        + "policies:\n  - namespace: production\n    defaultDeny: [ingress, egress]\n    allowDNS: false\n"
}

fn sarif(cwd: &std::path::Path, files: &[&str]) -> (Option<i32>, serde_json::Value) {
    let out = netc()
        .arg("check")
        .args(files)
        .args(["--format", "sarif"])
        .current_dir(cwd)
        .output()
        .expect("netc");
    let log = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), log)
}

#[test]
fn check_writes_a_sarif_log() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir(t.path().join("network")).unwrap();
    std::fs::write(t.path().join("network/site.yaml"), intent()).unwrap();
    let clean = repo().join("examples/kubeadm-flannel.yaml");
    let absolute = t.path().join("network/site.yaml");
    let (code, log) = sarif(
        t.path(),
        &[
            "network/site.yaml",
            clean.to_str().unwrap(),
            absolute.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(1), "{log:#}");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "netc");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    let overlap = rules
        .iter()
        .position(|r| r["id"] == "netc::cidr::overlap")
        .expect("overlap rule");
    for r in rules {
        assert!(
            r["shortDescription"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        assert!(r["help"]["text"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let results = run["results"].as_array().unwrap();
    // The same file twice (relative and absolute), the clean example adds nothing.
    let found: Vec<_> = results
        .iter()
        .filter(|r| r["ruleId"] == "netc::cidr::overlap")
        .collect();
    assert_eq!(found.len(), 2, "{results:#?}");
    for r in &found {
        assert_eq!(r["level"], "error");
        assert_eq!(r["ruleIndex"], overlap);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "network/site.yaml");
        // podCIDR: 10.96.0.0/16 on line 9, from column 12 to after its last character.
        let region = &loc["region"];
        assert_eq!(region["startLine"], 9, "{r:#}");
        assert_eq!(region["startColumn"], 12, "{r:#}");
        assert_eq!(region["endLine"], 9, "{r:#}");
        assert_eq!(region["endColumn"], 24, "{r:#}");
        // The service CIDR is the related location.
        let related = &r["relatedLocations"][0];
        assert_eq!(related["physicalLocation"]["region"]["startLine"], 10);
        assert!(related["message"]["text"].as_str().is_some());
    }
    let warning = results
        .iter()
        .find(|r| r["ruleId"] == "netc::policy::dns-blocked")
        .expect("the warning");
    assert_eq!(warning["level"], "warning");
    assert!(
        warning["message"]["text"]
            .as_str()
            .is_some_and(|m| m.contains("production") && m.contains("help:")),
        "{warning:#}"
    );

    let Some(schema) = schema_check::shared_schema("sarif-schema-2.1.0.json") else {
        eprintln!("skipped: ../shared/schemas/sarif-schema-2.1.0.json not found");
        return;
    };
    schema_check::validate(&schema, &[log]).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_clean_run_is_an_empty_valid_log() {
    let (code, log) = sarif(&repo(), &["examples/kubeadm-flannel.yaml"]);
    assert_eq!(code, Some(0));
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(0));
    if let Some(schema) = schema_check::shared_schema("sarif-schema-2.1.0.json") {
        schema_check::validate(&schema, &[log]).unwrap_or_else(|e| panic!("{e}"));
    }
}
