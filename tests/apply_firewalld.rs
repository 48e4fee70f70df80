//! `netc apply` with the firewalld backend against a real firewalld daemon, run inside a lab
//! namespace with its own mount namespace and private D-Bus system bus (`lab::firewalld`):
//! ports open, a second apply changes nothing, a failure rolls the zone back, and netc removes
//! only its own entries.
//!
//! Needs root (CI runs as root); fails loudly without it unless `NETC_SKIP_NETNS=1`. If the
//! daemon cannot run, the test fails saying exactly why.

mod lab;
use lab::{ok, text};

use lab::Lab;
use lab::firewalld::Firewalld;
use lab::intent::{LAN, LabIntent};

const NODES: &[(&str, &str)] = &[("n1", "172.16.0.3/24"), ("n2", "172.16.0.4/24")];

/// The lab intent with `firewall` (none when `Null`).
fn intent(firewall: serde_json::Value) -> String {
    let lab = LabIntent::new();
    if firewall.is_null() {
        lab.yaml()
    } else {
        lab.set("/firewall", firewall).yaml()
    }
}

fn firewalld() -> serde_json::Value {
    serde_json::json!({
        "backend": "firewalld",
        "zone": "public",
        "managementAccess": ["tcp/22"],
        "rules": [
            {"name": "web", "ports": ["tcp/8080"], "from": [LAN]},
            {"name": "metrics", "ports": ["tcp/9100"]},
        ],
    })
}

const ZONES: &[&str] = &["public", "trusted"];

#[test]
fn firewalld_backend_programs_a_real_daemon_and_rolls_back() {
    let Some(mut lab) = Lab::new(NODES) else {
        return;
    };
    let fw = match Firewalld::start(&lab, "n1") {
        Ok(fw) => fw,
        Err(why) => panic!("firewalld cannot run in a test namespace: {why}"),
    };
    // Someone else's entry that netc also wants: it stays theirs (never removed by netc).
    fw.firewall_cmd(&["--zone=public", "--add-port=22/tcp"]);
    fw.firewall_cmd(&["--permanent", "--zone=public", "--add-port=22/tcp"]);
    let file = lab.file("intent.yaml", &intent(firewalld()));
    for port in [8080, 9100, 9999] {
        lab.listen("n1", port);
    }
    assert!(
        !lab.connects("n2", "172.16.0.3", 8080),
        "firewalld does not filter the namespace: the test proves nothing"
    );
    let before = fw.zones(ZONES);

    // A failure after the firewall step: the zone is as before, at run time and permanent.
    let plan = ok(fw.apply(
        &lab,
        "n1",
        &file,
        "worker-1",
        &["--dry-run", "--format", "json"],
        &[],
    ));
    let steps: Vec<String> = serde_json::from_str::<serde_json::Value>(&plan)
        .ok()
        .and_then(|v| {
            v["steps"].as_array().map(|s| {
                s.iter()
                    .map(|x| x["description"].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
        })
        .expect("the apply document");
    let firewall_step = steps
        .iter()
        .position(|s| s == "load firewalld zone rules")
        .unwrap_or_else(|| panic!("no firewalld step in {steps:#?}"));
    assert!(firewall_step + 1 < steps.len(), "{steps:#?}");
    let fault = (firewall_step + 2).to_string();
    let failed = fw.apply(
        &lab,
        "n1",
        &file,
        "worker-1",
        &[],
        &[("NETC_FAULT_AT_STEP", &fault)],
    );
    assert!(!failed.status.success(), "{}", text(&failed));
    assert!(
        text(&failed).contains("every applied step was rolled back"),
        "{}",
        text(&failed)
    );
    lab::assert_same(&before, &fw.zones(ZONES), "zones after rollback");

    // Applied: netc's entries at run time and permanent, and the ports really open.
    ok(fw.apply(&lab, "n1", &file, "worker-1", &[], &[]));
    for permanent in [false, true] {
        let list = |zone: &str| {
            let zone = format!("--zone={zone}");
            let mut args = vec![zone.as_str(), "--list-all"];
            if permanent {
                args.insert(0, "--permanent");
            }
            fw.firewall_cmd(&args)
        };
        let public = list("public");
        for want in [
            "22/tcp",
            "10250/tcp",
            "30000-32767/tcp",
            "9100/tcp",
            r#"rule family="ipv4" source address="172.16.0.0/24" port port="8080" protocol="tcp" accept"#,
            r#"rule family="ipv4" source address="10.200.0.0/16" destination NOT address="10.200.0.0/16" masquerade"#,
        ] {
            assert!(public.contains(want), "zone public lacks {want}:\n{public}");
        }
        let trusted = list("trusted");
        assert!(
            trusted.contains("10.200.0.0/16") && trusted.contains("10.32.0.0/24"),
            "{trusted}"
        );
    }
    assert!(lab.connects("n2", "172.16.0.3", 8080), "port 8080 not open");
    assert!(lab.connects("n2", "172.16.0.3", 9100), "port 9100 not open");
    assert!(
        !lab.connects("n2", "172.16.0.3", 9999),
        "undeclared port 9999 open"
    );

    // Converged: nothing to do.
    let again = ok(fw.apply(&lab, "n1", &file, "worker-1", &[], &[]));
    assert!(again.contains("no changes"), "{again}");

    // The firewall leaves the intent: netc removes its own entries, and only those.
    let without = lab.file("intent.yaml", &intent(serde_json::Value::Null));
    let out = ok(fw.apply(&lab, "n1", &without, "worker-1", &[], &[]));
    assert!(out.contains("remove firewalld zone rules"), "{out}");
    lab::assert_same(
        &before,
        &fw.zones(ZONES),
        "zones after the firewall left the intent",
    );
}
