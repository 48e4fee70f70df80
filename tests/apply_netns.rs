//! `netc apply` proven in network namespaces the tests create and delete (see `lab`): bridge
//! mode with real CNI pods, the host overlay over VXLAN, the nftables firewall, idempotence,
//! ownership, rollback at every step, `--try`, the lock, and built-in/absent kernel modules.
//!
//! Needs root (CI runs as root); fails loudly without it unless `NETC_SKIP_NETNS=1`.

mod lab;
use lab::{ok, text};

use lab::Lab;
use lab::intent::{LabIntent, eth0};

const NODES: &[(&str, &str)] = &[("n1", "172.16.0.3/24"), ("n2", "172.16.0.4/24")];

/// The lab intent: bridge CNI, host overlay, nftables firewall. `extra` replaces parts.
/// The lab intent with a host overlay and an nftables firewall opening tcp/8080 to the LAN.
fn full() -> LabIntent {
    LabIntent::new().host_overlay(100).nftables_web(8080)
}

fn full_intent() -> String {
    full().yaml()
}

/// The lab intent alone: no overlay, no firewall.
fn smaller_intent() -> String {
    LabIntent::new().yaml()
}

/// Every variant of the lab intent these tests write is one `check` accepts: a test that
/// meant to exercise apply must not be testing a rejected intent.
#[test]
fn the_lab_intent_variants_check_clean() {
    let variants = [
        full(),
        LabIntent::new(),
        LabIntent::new()
            .kube_proxy("ipvs")
            .host_overlay(101)
            .interfaces(serde_json::json!([eth0(), {"name": "data0", "mtu": 1400}]))
            .node_address("worker-2", "172.16.0.9/24")
            .worker("worker-3", "172.16.0.5/24")
            .set("/metadata/name", "variant"),
    ];
    for lab in variants {
        let yaml = lab.yaml();
        let src = netc::diagnostic::SourceFile::new("lab.yaml", &yaml);
        let checked = netc::pipeline::check(&src, netc::intent::Syntax::Yaml);
        let errors: Vec<String> = checked
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{d:?}"))
            .collect();
        assert!(errors.is_empty(), "{yaml}\n{errors:#?}");
    }
}

/// The bridge plugin's configuration `netc build` emits for NODE (its conflist under
/// `cni/NODE/`), as the container runtime reads it: see [`bridge_conf_of`].
fn built_bridge_conf(lab: &Lab, file: &std::path::Path, short: &str, node: &str) -> String {
    let out = lab.dir.join(format!("built-{short}"));
    let build = std::process::Command::new(lab::NETC)
        .arg("build")
        .arg(file)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("netc build");
    assert!(build.status.success(), "{}", text(&build));
    bridge_conf_of(
        lab,
        short,
        &out.join("cni").join(node).join("10-netc-bridge.conflist"),
    )
}

#[test]
fn bridge_mode_pods_ping_across_nodes() {
    let Some(mut lab) = Lab::new(NODES) else {
        return;
    };
    let file = lab.file("intent.yaml", &full_intent());
    let c1 = built_bridge_conf(&lab, &file, "n1", "worker-1");
    let c2 = built_bridge_conf(&lab, &file, "n2", "worker-2");
    let p1 = lab.add_pod("n1", "p1", &c1);
    let p2 = lab.add_pod("n2", "p2", &c2);
    assert!(p1.starts_with("10.200.1."), "pod 1 got {p1}");
    assert!(p2.starts_with("10.200.2."), "pod 2 got {p2}");
    assert!(
        !lab.pings("p1", &p2),
        "pods must not reach each other before apply"
    );
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    ok(lab.apply("n2", &file, "worker-2", &[], &[]));
    assert!(
        lab.pings("p1", &p2),
        "pod on worker-1 cannot ping pod on worker-2 after apply"
    );
    assert!(lab.pings("p2", &p1));
}

#[test]
fn host_overlay_connects_nodes_over_vxlan() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    assert!(!lab.pings("n1", "192.168.100.3"));
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    ok(lab.apply("n2", &file, "worker-2", &[], &[]));
    let link = text(&lab.exec("n1", &["ip", "-d", "link", "show", "vx100"]));
    assert!(
        link.contains("vxlan id 100") && link.contains("dstport 4789"),
        "{link}"
    );
    assert!(
        lab.pings("n1", "192.168.100.3"),
        "overlay address of worker-2 unreachable"
    );
    assert!(lab.pings("n2", "192.168.100.2"));
}

#[test]
fn firewall_opens_declared_ports_and_keeps_management_reachable() {
    let Some(mut lab) = Lab::new(NODES) else {
        return;
    };
    let file = lab.file("intent.yaml", &full_intent());
    for port in [22, 8080, 9999] {
        lab.listen("n2", port);
    }
    assert!(lab.connects("n1", "172.16.0.4", 9999), "listener not up");
    // Management connections keep being attempted while the firewall is loaded.
    let ns = lab.ns("n1");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let prober = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut failures = 0;
            let mut tries = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let st = std::process::Command::new("ip")
                    .args(["netns", "exec", &ns, "python3", "-c",
                        "import socket;socket.create_connection(('172.16.0.4',22),timeout=1).close()"])
                    .status();
                tries += 1;
                if !st.is_ok_and(|s| s.success()) {
                    failures += 1;
                }
            }
            (tries, failures)
        })
    };
    ok(lab.apply("n2", &file, "worker-2", &[], &[]));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (tries, failures) = prober.join().expect("prober");
    assert!(
        tries > 0 && failures == 0,
        "management port failed {failures}/{tries} times during apply"
    );
    assert!(
        lab.connects("n1", "172.16.0.4", 22),
        "management port closed after apply"
    );
    assert!(
        lab.connects("n1", "172.16.0.4", 8080),
        "opened port 8080 refused"
    );
    assert!(
        !lab.connects("n1", "172.16.0.4", 9999),
        "undeclared port 9999 still open"
    );
}

#[test]
fn second_apply_says_no_changes_and_changes_nothing() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let dry = ok(lab.apply("n1", &file, "worker-1", &["--dry-run"], &[]));
    assert!(
        dry.contains("create vxlan vx100") && dry.contains("add route 10.200.2.0/24"),
        "{dry}"
    );
    assert!(
        !text(&lab.exec("n1", &["ip", "link"])).contains("vx100"),
        "dry run changed the host"
    );
    // --exit-code (issue 16 item 8): 1 while changes are pending, 0 once the node matches.
    let pending = lab.apply("n1", &file, "worker-1", &["--dry-run", "--exit-code"], &[]);
    assert_eq!(pending.status.code(), Some(1), "{}", text(&pending));
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let before = lab.dump("n1");
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(again.contains("no changes"), "{again}");
    let none = lab.apply("n1", &file, "worker-1", &["--dry-run", "--exit-code"], &[]);
    assert_eq!(none.status.code(), Some(0), "{}", text(&none));
    lab::assert_same(&before, &lab.dump("n1"), "after apply");
    // A changed intent applies only the difference.
    // Same file name: the headers of the written files name it.
    let changed = lab.file("intent.yaml", &full().nftables_web(8081).yaml());
    let out = ok(lab.apply("n1", &changed, "worker-1", &[], &[]));
    assert!(
        out.contains("plan: 1 step(s)") && out.contains("replace nftables"),
        "{out}"
    );
}

/// Puts an executable `nft` with `script` in a directory of node `short`, and returns a PATH
/// that finds it first. The file is installed by a child process (`install`), so this test
/// process never holds a writable descriptor of it that a concurrently forked child could
/// inherit (which makes exec fail with ETXTBSY).
fn fake_nft(lab: &Lab, short: &str, script: &str) -> String {
    let bin = lab.path(short, "bin");
    let source = lab.dir.join(format!("nft-{short}.sh"));
    std::fs::write(&source, script).expect("fake nft");
    let installed = lab::run(&[
        "install",
        "-m",
        "0755",
        &source.display().to_string(),
        &bin.join("nft").display().to_string(),
    ]);
    assert!(installed.status.success(), "{}", text(&installed));
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A converged pass does not list the nftables table while nothing was committed since netc
/// read it (the generation is unchanged): an `nft` whose `list` fails proves it. Any commit
/// (a flushed chain, another table) makes the next pass list it again, and drift is repaired.
#[test]
fn converged_pass_skips_nft_list_until_a_commit_and_still_repairs_drift() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let path = fake_nft(
        &lab,
        "n1",
        "#!/bin/sh\nif [ \"$1\" = list ]; then echo 'nft list must not run' >&2; exit 1; fi\nexec /usr/sbin/nft \"$@\"\n",
    );
    // The binary, not libnftables in-process: the fake proves which commands run.
    let no_list = [("PATH", path.as_str()), ("NETC_NFT_BINARY", "1")];
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &no_list));
    assert!(again.contains("no changes"), "{again}");

    // Drift: the rules flushed by hand. The generation moved: listed, seen, reloaded.
    lab::run(&[
        "ip",
        "netns",
        "exec",
        &lab.ns("n1"),
        "nft",
        "flush",
        "chain",
        "inet",
        "netc",
        "input",
    ]);
    let failed = lab.apply("n1", &file, "worker-1", &[], &no_list);
    assert!(
        !failed.status.success() && text(&failed).contains("nft list must not run"),
        "a changed generation must list the table:\n{}",
        text(&failed)
    );
    let repaired = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(
        repaired.contains("replace nftables table inet netc"),
        "{repaired}"
    );
    let input = text(&lab.exec("n1", &["nft", "list", "chain", "inet", "netc", "input"]));
    assert!(input.contains("8080"), "{input}");
    // Converged again: no listing.
    ok(lab.apply("n1", &file, "worker-1", &[], &no_list));

    // A commit to another table also moves the generation: listed once, then skipped again.
    lab::run(&[
        "ip",
        "netns",
        "exec",
        &lab.ns("n1"),
        "nft",
        "add",
        "table",
        "ip",
        "other",
    ]);
    let listed = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(listed.contains("no changes"), "{listed}");
    ok(lab.apply("n1", &file, "worker-1", &[], &no_list));
}

#[test]
fn foreign_route_and_table_survive_and_dropped_objects_go() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    lab::run(&[
        "ip",
        "-n",
        &lab.ns("n1"),
        "route",
        "add",
        "10.99.0.0/24",
        "via",
        "172.16.0.1",
    ]);
    lab::run(&[
        "ip",
        "netns",
        "exec",
        &lab.ns("n1"),
        "nft",
        "add",
        "table",
        "inet",
        "foreign",
    ]);
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    // The intent drops the overlay and the firewall: netc removes what it made, only that.
    let smaller = lab.file("smaller.yaml", &smaller_intent());
    let out = ok(lab.apply("n1", &smaller, "worker-1", &[], &[]));
    assert!(
        out.contains("delete vxlan vx100") && out.contains("remove nftables"),
        "{out}"
    );
    let routes = text(&lab.exec("n1", &["ip", "route"]));
    assert!(
        routes.contains("10.99.0.0/24 via 172.16.0.1"),
        "foreign route removed:\n{routes}"
    );
    let tables = text(&lab.exec("n1", &["nft", "list", "tables"]));
    assert!(
        tables.contains("inet foreign") && !tables.contains("inet netc"),
        "{tables}"
    );
    let links = text(&lab.exec("n1", &["ip", "link"]));
    assert!(
        !links.contains("scbr0") && !links.contains("vx100") && links.contains("cni0"),
        "{links}"
    );
}

#[test]
fn foreign_object_in_the_way_is_a_conflict() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    lab::run(&[
        "ip",
        "-n",
        &lab.ns("n1"),
        "route",
        "add",
        "10.200.2.0/24",
        "via",
        "172.16.0.1",
    ]);
    let before = lab.dump("n1");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("route 10.200.2.0/24 exists"),
        "{}",
        text(&out)
    );
    lab::assert_same(&before, &lab.dump("n1"), "after apply");
}

/// The number of steps `file` plans on node `short` as `node`.
fn plan_steps(lab: &Lab, short: &str, file: &std::path::Path, node: &str) -> Vec<String> {
    let plan = ok(lab.apply(short, file, node, &["--dry-run", "--format", "json"], &[]));
    serde_json::from_str::<serde_json::Value>(&plan)
        .ok()
        .and_then(|v| {
            v["steps"].as_array().map(|steps| {
                steps
                    .iter()
                    .filter_map(|s| s["description"].as_str().map(str::to_owned))
                    .collect()
            })
        })
        .expect("the apply document")
}

/// Applies `file` with a fault at every step K in turn: each must fail, say it rolled back
/// everything, and leave the full dump (links with their attributes and MACs, addresses,
/// routes, neighbours, forwarding entries, ruleset, sysctls, files) exactly as before.
fn rollback_at_every_step(lab: &Lab, short: &str, file: &std::path::Path, node: &str) {
    let steps = plan_steps(lab, short, file, node).len();
    let before = lab.dump(short);
    for k in 1..=steps {
        let out = lab.apply(
            short,
            file,
            node,
            &[],
            &[("NETC_FAULT_AT_STEP", &k.to_string())],
        );
        assert!(!out.status.success(), "fault at step {k} did not fail");
        assert!(
            text(&out).contains("every applied step was rolled back"),
            "fault at step {k}: {}",
            text(&out)
        );
        lab::assert_same(&before, &lab.dump(short), &format!("fault at step {k}"));
    }
}

#[test]
fn failure_at_every_step_rolls_back_to_the_state_before() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    // Some state netc will change back and forth: a previous apply of a smaller intent.
    let smaller = lab.file("smaller.yaml", &smaller_intent());
    ok(lab.apply("n1", &smaller, "worker-1", &[], &[]));
    let steps = plan_steps(&lab, "n1", &file, "worker-1").len();
    assert!(steps >= 8, "expected a real plan, got {steps} steps");
    rollback_at_every_step(&lab, "n1", &file, "worker-1");
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
}

#[test]
fn rollback_restores_a_deleted_bridge_with_everything_it_had() {
    let Some(mut lab) = Lab::new(NODES) else {
        return;
    };
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let bridge = examples.join("hard-way-bridge.yaml");
    let flannel = examples.join("hard-way-flannel.yaml");
    ok(lab.apply("n1", &bridge, "worker-1", &[], &[]));
    // A pod on cni0 (a port, and the bridge plugin's own view of the gateway) and someone's
    // route through cni0: deleting the bridge takes all of it along. The pod gets the conflist
    // netc builds for the node, whose `hairpinMode` turns on its port's hairpin flag: a flag
    // the kernel resets when the port joins the recreated bridge, which rollback puts back.
    let conf = built_bridge_conf(&lab, &bridge, "n1", "worker-1");
    assert!(conf.contains(r#""hairpinMode":true"#), "{conf}");
    let pod = lab.add_pod("n1", "p1", &conf);
    let port = text(&lab.exec("n1", &["ip", "-d", "link", "show", "master", "cni0"]));
    assert!(port.contains("hairpin on"), "the pod's port: {port}");
    lab::run(&[
        "ip",
        "-n",
        &lab.ns("n1"),
        "route",
        "add",
        "10.50.0.0/24",
        "dev",
        "cni0",
        "metric",
        "7",
    ]);
    assert!(lab.pings("n1", &pod), "pod unreachable before the test");
    // Switching the node to flannel deletes the bridge and the routes and changes the files,
    // the sysctls and the firewall.
    let plan = plan_steps(&lab, "n1", &flannel, "worker-1");
    assert!(
        plan.iter().any(|s| s == "delete bridge cni0"),
        "the plan does not delete cni0: {plan:#?}"
    );
    rollback_at_every_step(&lab, "n1", &flannel, "worker-1");
    assert!(lab.pings("n1", &pod), "pod unreachable after the rollbacks");

    // A replaced VXLAN device (another VNI): deleted with its forwarding entries and its
    // bridge membership, then created anew.
    let overlay = lab.file("overlay.yaml", &full_intent());
    ok(lab.apply("n2", &overlay, "worker-2", &[], &[]));
    let other_vni = lab.file("vni.yaml", &full().host_overlay(101).yaml());
    let plan = plan_steps(&lab, "n2", &other_vni, "worker-2");
    assert!(
        plan.iter().any(|s| s.starts_with("delete vxlan")),
        "the plan does not delete the VXLAN device: {plan:#?}"
    );
    rollback_at_every_step(&lab, "n2", &other_vni, "worker-2");
}

/// A link the plan moves from one bridge to another (the VXLAN device someone put in another
/// bridge, with its hairpin flag on there): leaving that bridge drops its port settings, and
/// rollback's re-attach starts from the kernel's defaults, so the step keeps them and rollback
/// gives them back.
#[test]
fn rollback_of_a_move_between_bridges_restores_the_port_settings() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let vxlan = text(&lab.exec("n1", &["ip", "-o", "link", "show", "type", "vxlan"]));
    let vxlan = vxlan
        .split(':')
        .nth(1)
        .map(|n| n.trim().split('@').next().unwrap_or_default().to_owned())
        .expect("the applied VXLAN device");
    let node = lab.netns("n1");
    for cmd in [
        &["ip", "link", "add", "other0", "type", "bridge"][..],
        &["ip", "link", "set", "other0", "up"],
        &["ip", "link", "set", &vxlan, "master", "other0"],
        &[
            "ip",
            "link",
            "set",
            &vxlan,
            "type",
            "bridge_slave",
            "hairpin",
            "on",
        ],
    ] {
        node.ok(cmd);
    }
    let port = text(&lab.exec("n1", &["ip", "-d", "link", "show", &vxlan]));
    assert!(
        port.contains("master other0") && port.contains("hairpin on"),
        "{port}"
    );
    // The plan also opens another port, so steps run after the move: a fault at any of them
    // rolls the move back.
    let file = lab.file("web.yaml", &full().nftables_web(8081).yaml());
    let plan = plan_steps(&lab, "n1", &file, "worker-1");
    let attach = format!("attach {vxlan} to bridge scbr0");
    assert!(
        plan.contains(&attach),
        "the plan does not move {vxlan}: {plan:#?}"
    );
    assert!(plan.len() > 1 && plan[0] == attach, "{plan:#?}");
    rollback_at_every_step(&lab, "n1", &file, "worker-1");
    // Applied for real, the link is in scbr0 again (its settings there are the kernel's).
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let port = text(&lab.exec("n1", &["ip", "-d", "link", "show", &vxlan]));
    assert!(port.contains("master scbr0"), "{port}");
}

#[test]
fn try_reverts_unless_confirmed() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let before = lab.dump("n1");
    let out = ok(lab.apply("n1", &file, "worker-1", &["--try", "2"], &[]));
    assert!(out.contains("reverting in 2s"), "{out}");
    // The exact command that keeps the changes (issue 16 item 14).
    let confirm_line = format!(
        "netc apply --confirm --state-dir {}",
        lab.path("n1", "state").display()
    );
    assert!(out.contains(&confirm_line), "{out}");
    assert!(text(&lab.exec("n1", &["ip", "link"])).contains("vx100"));
    // A second apply meanwhile is refused: the first is not settled.
    let blocked = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(
        !blocked.status.success() && text(&blocked).contains("--confirm"),
        "{}",
        text(&blocked)
    );
    let mut reverted = false;
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        if lab.dump("n1") == before {
            reverted = true;
            break;
        }
    }
    assert!(reverted, "--try did not revert:\n{}", lab.dump("n1"));

    // -q still says the deadline and the command.
    let quiet = ok(lab.apply("n1", &file, "worker-1", &["-q", "--try", "3"], &[]));
    assert!(
        quiet.contains("reverting in 3s") && quiet.contains(&confirm_line),
        "{quiet}"
    );
    let state = lab.path("n1", "state");
    let confirm = std::process::Command::new(lab::NETC)
        .args(["apply", "--confirm", "--state-dir"])
        .arg(&state)
        .output()
        .expect("confirm");
    assert!(confirm.status.success(), "{}", text(&confirm));
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert!(
        text(&lab.exec("n1", &["ip", "link"])).contains("vx100"),
        "confirmed change reverted"
    );
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(again.contains("no changes"), "{again}");
}

#[test]
fn concurrent_apply_waits_for_the_lock_then_fails_clearly() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let state = lab.path("n1", "state");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state.join("lock"))
        .expect("lock file");
    lock.lock().expect("take the lock");
    let out = lab.apply("n1", &file, "worker-1", &["--lock-timeout", "1"], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("another netc apply holds"),
        "{}",
        text(&out)
    );
    lock.unlock().expect("unlock");
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
}

#[test]
fn management_mtu_change_is_refused_without_force() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file(
        "intent.yaml",
        &LabIntent::new()
            .worker_interfaces(serde_json::json!([
                {"name": "eth0", "mtu": 1400, "purpose": "management"}
            ]))
            .yaml(),
    );
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("MTU of management interface eth0"),
        "{}",
        text(&out)
    );
    ok(lab.apply("n1", &file, "worker-1", &["--force"], &[]));
    assert!(text(&lab.exec("n1", &["ip", "link", "show", "eth0"])).contains("mtu 1400"));
}

#[test]
fn builtin_modules_are_present_and_absent_ipvs_is_named() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file(
        "intent.yaml",
        &LabIntent::new().kube_proxy("ipvs").host_overlay(100).yaml(),
    );
    let before = lab.dump("n1");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    if std::path::Path::new("/proc/net/ip_vs").exists() {
        eprintln!("this kernel has IPVS: nothing to check");
        return;
    }
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("ip_vs (kube-proxy IPVS mode)"), "{t}");
    for builtin in ["br_netfilter", "bridge", "vxlan", "overlay"] {
        assert!(
            !t.contains(&format!(" {builtin} (")),
            "built-in {builtin} reported missing: {t}"
        );
    }
    lab::assert_same(&before, &lab.dump("n1"), "after apply");
}

#[test]
fn applies_with_different_state_dirs_in_one_namespace_serialise() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    // The first apply takes the namespace's lock, then waits on its state directory's lock,
    // which this test holds.
    let state_a = lab.path("n1", "state");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(state_a.join("lock"))
        .expect("lock file");
    lock.lock().expect("take the lock");
    let first = lab
        .apply_command(
            "n1",
            &file,
            "worker-1",
            &state_a,
            &["--lock-timeout", "30"],
            &[],
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run netc");
    // Wait until it holds the namespace's lock: its file is locked.
    let host_lock = lab.host_lock("n1");
    let held = (0..200).any(|_| {
        let busy = std::fs::File::open(&host_lock)
            .is_ok_and(|f| matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
        if !busy {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        busy
    });
    // A second apply in the same namespace with another state directory must wait too.
    let state_b = lab.path("n1", "state-b");
    let out = lab
        .apply_command(
            "n1",
            &file,
            "worker-1",
            &state_b,
            &["--lock-timeout", "1"],
            &[],
        )
        .output()
        .expect("run netc");
    let second = text(&out);
    // Another namespace is another host: its apply does not wait.
    let other = lab.apply("n2", &file, "worker-2", &["--lock-timeout", "1"], &[]);
    lock.unlock().expect("unlock");
    let first = first.wait_with_output().expect("first apply");
    assert!(held, "the first apply never took the namespace's lock");
    assert!(
        !out.status.success() && second.contains("another netc apply holds"),
        "second apply ran beside the first: {second}"
    );
    assert!(
        second.contains("network namespace"),
        "the error does not name the namespace lock: {second}"
    );
    ok(first);
    ok(other);
}

#[test]
fn foreign_netc_table_is_a_conflict() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    // Someone else's table that happens to be called `inet netc`.
    let nft = |args: &str| {
        let mut cmd = vec!["ip", "netns", "exec"];
        let ns = lab.ns("n1");
        cmd.push(&ns);
        cmd.push("nft");
        cmd.extend(args.split(' '));
        lab::run(&cmd);
    };
    nft("add table inet netc");
    nft("add chain inet netc keep { type filter hook input priority 10 ; }");
    let before = lab.dump("n1");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(
        !out.status.success(),
        "foreign table replaced: {}",
        text(&out)
    );
    assert!(
        text(&out).contains("nftables table inet netc exists and was not created by netc"),
        "{}",
        text(&out)
    );
    lab::assert_same(&before, &lab.dump("n1"), "after the refused apply");
    // --force takes it over, and from then on it is netc's.
    ok(lab.apply("n1", &file, "worker-1", &["--force"], &[]));
    let table = text(&lab.exec("n1", &["nft", "list", "table", "inet", "netc"]));
    assert!(!table.contains("chain keep"), "{table}");
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(again.contains("no changes"), "{again}");
}

#[test]
fn files_never_follow_links_out_of_root() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let root = lab.path("n1", "root");
    let elsewhere = lab.dir.join("elsewhere");
    std::fs::create_dir_all(root.join("etc")).expect("root/etc");
    std::fs::create_dir_all(&elsewhere).expect("elsewhere");
    std::os::unix::fs::symlink(&elsewhere, root.join("etc/cni")).expect("plant a link");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "apply wrote through a link: {t}");
    assert!(
        t.contains("etc/cni") && t.contains("symbolic link leading out of --root"),
        "{t}"
    );
    assert!(
        std::fs::read_dir(&elsewhere)
            .expect("elsewhere")
            .next()
            .is_none(),
        "files landed outside --root"
    );
}

#[test]
fn temporary_files_are_unpredictable_and_never_followed() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let root = lab.path("n1", "root");
    let dir = root.join("etc/sysctl.d");
    std::fs::create_dir_all(&dir).expect("root/etc/sysctl.d");
    let victim = lab.dir.join("victim");
    std::fs::write(&victim, "untouched\n").expect("victim");
    // Links at every name an apply started in the next few thousand pids would use for its
    // temporary file, were the names derived from its pid.
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .expect("ns_last_pid")
        .trim()
        .parse()
        .expect("a pid");
    for pid in last + 1..last + 3000 {
        std::os::unix::fs::symlink(&victim, dir.join(format!(".90-netc.conf.netc-{pid}")))
            .expect("plant a link");
    }
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "untouched\n",
        "a planted temporary name was followed"
    );
    let written = std::fs::read_to_string(dir.join("90-netc.conf")).expect("sysctl file");
    assert!(written.contains("net.ipv4.ip_forward"), "{written}");
    // Only the planted links and the file itself are left: no temporary file of netc's.
    let stray = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .filter(|e| !e.file_type().is_ok_and(|t| t.is_symlink()))
        .filter(|e| e.file_name() != "90-netc.conf")
        .count();
    assert_eq!(stray, 0, "temporary files left behind");
}

/// Edits the state file of node `short` with `edit`.
fn edit_state(lab: &Lab, short: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = lab.path(short, "state").join("state.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("state file")).expect("state JSON");
    edit(&mut state);
    std::fs::write(&path, serde_json::to_vec_pretty(&state).expect("JSON")).expect("write state");
}

#[test]
fn state_entries_are_verified_before_anything_is_removed() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let smaller = lab.file("smaller.yaml", &smaller_intent());
    let ns = lab.ns("n1");
    let root = lab.path("n1", "root");
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));

    // Entries naming objects netc did not make: a veth where the state says bridge, a route
    // added by hand, a file netc never wrote.
    lab::run(&[
        "ip", "-n", &ns, "link", "add", "fA", "type", "veth", "peer", "name", "fB",
    ]);
    lab::run(&[
        "ip",
        "-n",
        &ns,
        "route",
        "add",
        "10.99.0.0/24",
        "via",
        "172.16.0.1",
    ]);
    std::fs::write(root.join("etc/passwd"), b"root:x:0:0::/root:/bin/sh\n").expect("passwd");
    edit_state(&lab, "n1", |s| {
        s["links"]
            .as_array_mut()
            .expect("links")
            .push(serde_json::json!({"kind": "bridge", "name": "fA"}));
        s["routes"]
            .as_array_mut()
            .expect("routes")
            .push(serde_json::json!({"destination": "10.99.0.0/24", "via": "172.16.0.1"}));
        s["files"]
            .as_array_mut()
            .expect("files")
            .push(serde_json::json!("/etc/passwd"));
    });
    let before = lab.dump("n1");
    let out = ok(lab.apply("n1", &smaller, "worker-1", &[], &[]));
    assert!(out.contains("delete vxlan vx100"), "{out}");
    let links = text(&lab.exec("n1", &["ip", "link"]));
    assert!(
        links.contains("fA@fB") && links.contains("fB@fA"),
        "foreign veth deleted:\n{links}"
    );
    let routes = text(&lab.exec("n1", &["ip", "route"]));
    assert!(
        routes.contains("10.99.0.0/24 via 172.16.0.1"),
        "foreign route deleted:\n{routes}"
    );
    assert!(root.join("etc/passwd").exists(), "foreign file removed");
    assert!(
        out.contains("fA here is not the link netc created"),
        "no note about fA: {out}"
    );
    assert_ne!(before, lab.dump("n1"), "the apply did nothing at all");

    // A file netc wrote and someone edited since is not overwritten.
    let join = root.join("etc/netc/kubeadm/join-worker-1.yaml");
    std::fs::write(&join, b"# edited by hand\n").expect("edit");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(
        !out.status.success() && text(&out).contains("was changed since netc wrote it"),
        "edited file overwritten: {}",
        text(&out)
    );
    assert_eq!(
        std::fs::read(&join).expect("join file"),
        b"# edited by hand\n"
    );

    // A record from a newer netc, or another node's, is refused before anything happens.
    edit_state(&lab, "n1", |s| s["version"] = 99.into());
    let before = lab.dump("n1");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(
        !out.status.success() && text(&out).contains("format version 99"),
        "{}",
        text(&out)
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a version 99 state");
    edit_state(&lab, "n1", |s| {
        s["version"] = 2.into();
        s["node"] = "worker-2".into();
    });
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(
        !out.status.success() && text(&out).contains("on node worker-2, not on worker-1"),
        "{}",
        text(&out)
    );
    lab::assert_same(&before, &lab.dump("n1"), "after another node's state");
}

#[test]
fn version_1_state_is_read_and_upgraded() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    // What netc wrote before identities: bare specs and paths.
    edit_state(&lab, "n1", |s| {
        s["version"] = 1.into();
        for key in ["links", "addresses", "fdb"] {
            for e in s[key].as_array_mut().expect("array") {
                e.as_object_mut().expect("object").remove("index");
                e.as_object_mut().expect("object").remove("mac");
            }
        }
        for r in s["routes"].as_array_mut().expect("routes") {
            r.as_object_mut().expect("object").remove("protocol");
        }
        let files: Vec<serde_json::Value> = s["files"]
            .as_array()
            .expect("files")
            .iter()
            .map(|f| f["path"].clone())
            .collect();
        s["files"] = files.into();
    });
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(again.contains("no changes"), "{again}");
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(lab.path("n1", "state").join("state.json")).expect("state"),
    )
    .expect("JSON");
    assert_eq!(state["version"], 2, "{state:#}");
    assert!(state["links"][0]["index"].is_u64(), "{state:#}");
    assert!(state["files"][0]["sha256"].is_string(), "{state:#}");
    // And it still removes what it made.
    let smaller = lab.file("smaller.yaml", &smaller_intent());
    let out = ok(lab.apply("n1", &smaller, "worker-1", &[], &[]));
    assert!(out.contains("delete vxlan vx100"), "{out}");
}

/// The bridge plugin's configuration as the container runtime reads it from the conflist
/// `apply` installed: its first plugin, with the list's name and version, and host-local's
/// state kept in the lab.
fn installed_bridge_conf(lab: &Lab, node: &str) -> String {
    let root = lab.path(node, "root");
    bridge_conf_of(
        lab,
        node,
        &root.join("etc/cni/net.d/10-netc-bridge.conflist"),
    )
}

/// A conflist's first plugin with the list's name and version, as the runtime hands it to the
/// plugin, and host-local's state kept in the lab node's directory.
fn bridge_conf_of(lab: &Lab, node: &str, path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("no conflist {}: {e}", path.display()));
    let list: serde_json::Value = serde_json::from_str(&text).expect("conflist is JSON");
    let mut conf = list["plugins"][0].clone();
    conf["cniVersion"] = list["cniVersion"].clone();
    conf["name"] = list["name"].clone();
    conf["ipam"]["dataDir"] = lab.path(node, "cni-ipam").display().to_string().into();
    conf.to_string()
}

/// `nft list table inet netc` in a namespace.
fn netc_table(lab: &Lab, short: &str) -> String {
    let out = lab.exec(short, &["nft", "list", "table", "inet", "netc"]);
    assert!(out.status.success(), "no table inet netc: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Apply = build: the hard-way bridge example (nftables firewall) applied on its nodes
/// installs exactly the files `build` emits for them and loads exactly the emitted table,
/// whose masquerade lets pods reach a LAN host that has no route back to the pod network,
/// while pods on different nodes keep seeing each other's own addresses.
#[test]
fn apply_installs_what_build_emits_and_masquerades_only_leaving_traffic() {
    let nodes = [
        ("n0", "172.16.0.2/24"),
        ("n1", "172.16.0.3/24"),
        ("n2", "172.16.0.4/24"),
        // Off the cluster: on the node LAN, with no route to 10.244.0.0/16.
        ("ext", "172.16.0.50/24"),
    ];
    let Some(mut lab) = Lab::new(&nodes) else {
        return;
    };
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hard-way-bridge.yaml");
    let source = std::fs::read_to_string(example).expect("example");
    assert!(source.contains("backend: nftables"), "the example changed");
    let file = lab.file("hard-way-bridge.yaml", &source);
    let out = lab.dir.join("out");
    let build = std::process::Command::new(lab::NETC)
        .arg("build")
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("netc build");
    assert!(build.status.success(), "{}", text(&build));

    for (short, node) in [("n0", "server"), ("n1", "worker-1"), ("n2", "worker-2")] {
        ok(lab.apply(short, &file, node, &[], &[]));
        // Every installed file is the emitted one, byte for byte; nothing else is installed.
        let root = lab.path(short, "root");
        let mut expected: Vec<(String, String)> = [
            (
                "etc/cni/net.d/10-netc-bridge.conflist",
                "cni/NODE/10-netc-bridge.conflist",
            ),
            (
                "etc/cni/net.d/99-loopback.conf",
                "cni/NODE/99-loopback.conf",
            ),
            ("etc/sysctl.d/90-netc.conf", "host/NODE/sysctl.conf"),
            ("etc/modules-load.d/netc.conf", "host/NODE/modules.conf"),
            // Only the first control-plane node runs `kubeadm init`; the others join.
            if node == "server" {
                ("etc/netc/kubeadm/init.yaml", "kubeadm/init.yaml")
            } else {
                ("etc/netc/kubeadm/join-NODE.yaml", "kubeadm/join-NODE.yaml")
            },
        ]
        .iter()
        .map(|(h, a)| (h.replace("NODE", node), a.replace("NODE", node)))
        .collect();
        expected.sort();
        let mut installed = Vec::new();
        collect_files(&root, &root, &mut installed);
        installed.sort();
        let want: Vec<&str> = expected.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(installed, want, "files apply installed on {node}");
        for (host, artifact) in &expected {
            let got = std::fs::read(root.join(host)).expect("installed file");
            let emitted = std::fs::read(out.join(artifact)).expect("emitted file");
            assert!(got == emitted, "{host} on {node} differs from {artifact}");
        }
        // The table apply loaded, listed back, is the emitted file loaded and listed back.
        let scratch = format!("scratch-{short}");
        lab.scratch(&scratch);
        let nft_file = out.join(format!("firewall/{node}.nft"));
        let load = lab.exec(&scratch, &["nft", "-f", &nft_file.display().to_string()]);
        assert!(load.status.success(), "{}", text(&load));
        assert_eq!(
            netc_table(&lab, short),
            netc_table(&lab, &scratch),
            "table inet netc on {node} is not the emitted {}",
            nft_file.display()
        );
    }

    let p1 = lab.add_pod("n1", "p1", &installed_bridge_conf(&lab, "n1"));
    let p2 = lab.add_pod("n2", "p2", &installed_bridge_conf(&lab, "n2"));
    assert!(p1.starts_with("10.244.0."), "pod on worker-1 got {p1}");
    assert!(p2.starts_with("10.244.1."), "pod on worker-2 got {p2}");
    lab.echo_peer("ext", 7000);
    lab.echo_peer("p2", 7000);

    // Leaving the pod network: masqueraded to the node's address, so the answer comes back.
    assert!(
        lab.pings("p1", "172.16.0.50"),
        "pod cannot reach the LAN host"
    );
    assert_eq!(
        lab.seen_as("p1", "172.16.0.50", 7000).as_deref(),
        Some("172.16.0.3"),
        "the LAN host must see the node's address"
    );
    // Between pods: never masqueraded.
    assert_eq!(
        lab.seen_as("p1", &p2, 7000).as_deref(),
        Some(p1.as_str()),
        "the pod on worker-2 must see the other pod's own address"
    );
    // Without the emitted masquerade the LAN host cannot answer: it is what made it work.
    lab::run(&[
        "ip",
        "netns",
        "exec",
        &lab.ns("n1"),
        "nft",
        "flush",
        "chain",
        "inet",
        "netc",
        "postrouting",
    ]);
    assert!(
        !lab.pings("p1", "172.16.0.50"),
        "the LAN host answered without masquerade: the test proves nothing"
    );
    // apply notices the changed table and loads the emitted one again.
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    assert!(
        again.contains("replace nftables table inet netc"),
        "{again}"
    );
    assert!(lab.pings("p1", "172.16.0.50"));
}

/// Files under `dir`, as paths relative to `root`.
fn collect_files(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_files(root, &p, out);
        } else {
            let rel = p.strip_prefix(root).expect("under root");
            out.push(rel.display().to_string());
        }
    }
}

/// Behind a proxy, apply installs the containerd drop-in and proxy.env build emits for the
/// node, byte for byte, at the paths systemd reads (issue 8 item 6).
#[test]
fn apply_installs_the_containerd_proxy_drop_in() {
    let Some(lab) = Lab::new(NODES) else { return };
    let intent = LabIntent::new()
        .nftables_web(8080)
        .set(
            "/proxy",
            serde_json::json!({"http": "http://proxy.corp:3128", "https": "http://proxy.corp:3128"}),
        )
        .yaml();
    let file = lab.file("intent.yaml", &intent);
    let out = lab.dir.join("out");
    let build = std::process::Command::new(lab::NETC)
        .arg("build")
        .arg(&file)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("netc build");
    assert!(build.status.success(), "{}", text(&build));
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let root = lab.path("n1", "root");
    for (host, artifact) in [
        (
            "etc/systemd/system/containerd.service.d/http-proxy.conf",
            "host/worker-1/containerd-proxy.conf",
        ),
        ("etc/netc/proxy.env", "host/worker-1/proxy.env"),
    ] {
        let got = std::fs::read(root.join(host)).unwrap_or_else(|e| panic!("{host}: {e}"));
        let emitted = std::fs::read(out.join(artifact)).expect("emitted file");
        assert!(got == emitted, "{host} differs from {artifact}");
    }
    // Issue 17 item 17: an older netc installed them (and the cache) 0644. Same contents:
    // the next apply still narrows them to 0600.
    use std::os::unix::fs::PermissionsExt;
    let credentials = [
        root.join("etc/systemd/system/containerd.service.d/http-proxy.conf"),
        root.join("etc/netc/proxy.env"),
        lab.path("n1", "state").join("desired.json"),
    ];
    for path in &credentials {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    for path in &credentials {
        let mode = std::fs::metadata(path).expect("file").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o600, "{}: mode {mode:o}", path.display());
    }
    // Narrowed once: the apply after changes nothing.
    let again = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(
        again.status.success() && !text(&again).contains("update file"),
        "{}",
        text(&again)
    );
}

const FROM_CACHE: &str = "desired state from the cache";
const DERIVED: &str = "desired state derived from";

/// The state directory holds the installed files' contents (state, `--try`'s pending record,
/// the desired-state cache; a proxy URL may carry a password): netc creates it owner-only.
#[test]
fn the_state_directory_netc_creates_is_owner_only() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let state = lab.dir.join("fresh").join("state");
    let out = lab
        .apply_command("n1", &file, "worker-1", &state, &[], &[])
        .output()
        .expect("run netc");
    ok(out);
    assert!(state.join("desired.json").exists());
    for dir in [&state, &lab.dir.join("fresh")] {
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir).expect("state dir").permissions(),
        );
        assert_eq!(mode & 0o777, 0o700, "{}: mode {mode:o}", dir.display());
    }
}

/// An unchanged intent takes its desired state from the cache in the state directory (parse,
/// check, plan and emit skipped), yet the host is still observed: a route deleted by hand is
/// restored on a hit. Any change of the key is a miss: an edited intent, another node; a
/// corrupt or truncated cache is a miss, never an error; a dry run writes no cache.
#[test]
fn cached_desired_state_is_used_only_for_the_same_intent_and_node() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let cache = lab.path("n1", "state").join("desired.json");

    let dry = ok(lab.apply("n1", &file, "worker-1", &["-v", "--dry-run"], &[]));
    assert!(dry.contains(DERIVED), "{dry}");
    assert!(!cache.exists(), "a dry run wrote the cache");

    let first = ok(lab.apply("n1", &file, "worker-1", &["-v"], &[]));
    assert!(first.contains(DERIVED), "{first}");
    assert!(cache.exists(), "no cache after an apply");
    let before = lab.dump("n1");
    let hit = ok(lab.apply("n1", &file, "worker-1", &["-v"], &[]));
    assert!(
        hit.contains(FROM_CACHE) && hit.contains("no changes"),
        "{hit}"
    );

    // A hit still observes the host: drift is found and corrected.
    lab::run(&[
        "ip",
        "-n",
        &lab.ns("n1"),
        "route",
        "del",
        "10.200.2.0/24",
        "via",
        "172.16.0.4",
    ]);
    let repaired = ok(lab.apply("n1", &file, "worker-1", &["-v"], &[]));
    assert!(
        repaired.contains(FROM_CACHE) && repaired.contains("add route 10.200.2.0/24"),
        "{repaired}"
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a repair from the cache");

    // An edited intent (same file name) is a miss, and its change is applied.
    let edited = lab.file("intent.yaml", &full().nftables_web(8081).yaml());
    let out = ok(lab.apply("n1", &edited, "worker-1", &["-v"], &[]));
    assert!(
        out.contains(DERIVED) && out.contains("replace nftables"),
        "{out}"
    );
    let again = ok(lab.apply("n1", &edited, "worker-1", &["-v"], &[]));
    assert!(
        again.contains(FROM_CACHE) && again.contains("no changes"),
        "{again}"
    );

    // Corrupt, truncated or emptied: a miss, the apply goes on and stores it again.
    let good = std::fs::read(&cache).expect("cache");
    for bad in [
        b"not json".to_vec(),
        good[..good.len() / 2].to_vec(),
        Vec::new(),
    ] {
        std::fs::write(&cache, &bad).expect("corrupt the cache");
        let out = ok(lab.apply("n1", &edited, "worker-1", &["-v"], &[]));
        assert!(out.contains(DERIVED) && out.contains("no changes"), "{out}");
        assert_eq!(
            std::fs::read(&cache).expect("cache"),
            good,
            "cache not stored again"
        );
    }

    // Another node with worker-1's cache in its state directory: a miss, and worker-2 gets
    // its own routes (to worker-1's pods, not to its own).
    let n2_state = lab.path("n2", "state");
    std::fs::copy(&cache, n2_state.join("desired.json")).expect("copy the cache");
    let other = ok(lab.apply("n2", &edited, "worker-2", &["-v"], &[]));
    assert!(other.contains(DERIVED), "{other}");
    let routes = text(&lab.exec("n2", &["ip", "route"]));
    assert!(
        routes.contains("10.200.1.0/24 via 172.16.0.3") && !routes.contains("10.200.2.0/24 via"),
        "{routes}"
    );
}

/// Whether libnftables can be loaded here (the dynamic linker knows it).
fn has_libnftables() -> bool {
    let o = lab::run(&["ldconfig", "-p"]);
    String::from_utf8_lossy(&o.stdout).contains("libnftables.so.1 ")
}

/// With libnftables installed, apply loads and lists `inet netc` in-process: an `nft` binary
/// that always fails is never run, a flushed chain is still found and reloaded, and the
/// listing netc records is byte for byte what `nft list table inet netc` prints (so records
/// written by either path compare equal). `NETC_NFT_BINARY=1` runs the binary instead.
#[test]
fn nft_runs_in_process_and_lists_as_the_binary_does() {
    let Some(lab) = Lab::new(NODES) else { return };
    if !has_libnftables() {
        eprintln!("skipped: libnftables.so.1 is not installed");
        return;
    }
    let file = lab.file("intent.yaml", &full_intent());
    let path = fake_nft(
        &lab,
        "n1",
        "#!/bin/sh\necho 'the nft binary ran' >&2\nexit 1\n",
    );
    let broken = [("PATH", path.as_str())];
    let first = ok(lab.apply("n1", &file, "worker-1", &[], &broken));
    assert!(first.contains("load nftables table inet netc"), "{first}");

    let listed = lab.exec("n1", &["nft", "list", "table", "inet", "netc"]);
    assert!(listed.status.success(), "{}", text(&listed));
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(lab.path("n1", "state").join("state.json")).expect("state file"),
    )
    .expect("state json");
    assert_eq!(
        state["firewall"]["listing"].as_str(),
        Some(String::from_utf8_lossy(&listed.stdout).as_ref()),
        "the recorded listing is not what nft lists"
    );

    let flush = |lab: &Lab| {
        lab::run(&[
            "ip",
            "netns",
            "exec",
            &lab.ns("n1"),
            "nft",
            "flush",
            "chain",
            "inet",
            "netc",
            "input",
        ])
    };
    flush(&lab);
    let repaired = ok(lab.apply("n1", &file, "worker-1", &[], &broken));
    assert!(
        repaired.contains("replace nftables table inet netc"),
        "{repaired}"
    );
    let input = text(&lab.exec("n1", &["nft", "list", "chain", "inet", "netc", "input"]));
    assert!(input.contains("8080"), "{input}");
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &broken));
    assert!(again.contains("no changes"), "{again}");

    flush(&lab);
    let binary = [("PATH", path.as_str()), ("NETC_NFT_BINARY", "1")];
    let failed = lab.apply("n1", &file, "worker-1", &[], &binary);
    assert!(
        !failed.status.success() && text(&failed).contains("the nft binary ran"),
        "{}",
        text(&failed)
    );
}

/// Route additions go to the kernel as one pipelined batch, the firewall table loaded beside
/// them. When the kernel rejects one route in the middle of the batch (here: a gateway off the
/// node's on-link /24, `ENETUNREACH`), the routes before and after it that it accepted and the
/// table are rolled back with every other applied step, and the error names the rejected
/// route: the host is as it was.
#[test]
fn a_route_the_kernel_rejects_mid_batch_rolls_back_the_whole_apply() {
    let Some(lab) = Lab::new(NODES) else { return };
    // worker-2 sits on the declared /16 but off n1's on-link 172.16.0.0/24; worker-3 after
    // it: the rejected route sits between two accepted ones.
    let text_of = LabIntent::new()
        .nftables_web(8080)
        .node_address("server", "172.16.0.2/16")
        .node_address("worker-1", "172.16.0.3/16")
        .node_address("worker-2", "172.16.1.9/16")
        .worker("worker-3", "172.16.0.5/16")
        .yaml();
    let file = lab.file("intent.yaml", &text_of);
    let steps = plan_steps(&lab, "n1", &file, "worker-1");
    let routes: Vec<&String> = steps
        .iter()
        .filter(|s| s.starts_with("add route"))
        .collect();
    assert_eq!(routes.len(), 3, "{steps:?}");
    let before = lab.dump("n1");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("via 172.16.1.9") && t.contains("every applied step was rolled back"),
        "{t}"
    );
    // Routes on both sides of the rejected one were accepted, then removed again.
    let first_route = steps
        .iter()
        .position(|s| s.starts_with("add route"))
        .expect("a route step");
    assert!(
        steps[first_route + 1].contains("via 172.16.1.9"),
        "the rejected route is not mid-batch: {steps:?}"
    );
    // The firewall step after the routes was loaded beside them, and is rolled back too.
    assert!(
        steps[first_route + 3].starts_with("load nftables"),
        "{steps:?}"
    );
    assert!(
        t.contains(&format!("rolling back {} applied step(s)", first_route + 3)),
        "{t}"
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a rejected route");
    assert!(
        !lab.path("n1", "state").join("state.json").exists(),
        "an ownership record was written"
    );
}

/// The firewall table is loaded beside the route batch: when its load fails (an `nft` that
/// refuses every file) while every route went in, the routes are rolled back with the rest.
#[test]
fn a_failed_firewall_load_beside_the_routes_rolls_back_the_routes() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let steps = plan_steps(&lab, "n1", &file, "worker-1");
    let routes = steps.iter().filter(|s| s.starts_with("add route")).count();
    let firewall = steps
        .iter()
        .position(|s| s.starts_with("load nftables"))
        .expect("a firewall step");
    assert!(
        routes > 0 && steps[firewall - 1].starts_with("add route"),
        "{steps:?}"
    );
    let path = fake_nft(
        &lab,
        "n1",
        "#!/bin/sh\nif [ \"$1\" = -f ]; then echo 'refusing the file' >&2; exit 1; fi\nexec /usr/sbin/nft \"$@\"\n",
    );
    let before = lab.dump("n1");
    let out = lab.apply(
        "n1",
        &file,
        "worker-1",
        &[],
        &[("PATH", path.as_str()), ("NETC_NFT_BINARY", "1")],
    );
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("refusing the file")
            && t.contains(&format!("rolling back {firewall} applied step(s)"))
            && t.contains("every applied step was rolled back"),
        "{t}"
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a failed firewall load");
}

/// What a full apply and a converged pass cost in `nft` runs (with the binary, whose runs a
/// wrapper logs): one listing to find the table absent, one load, one listing of what was
/// loaded (taken beside the routes, and reused by the verification); then nothing while the
/// ruleset generation is unchanged.
#[test]
fn a_full_apply_lists_the_table_once_after_loading_it() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let log = lab.dir.join("nft-runs.log");
    let path = fake_nft(
        &lab,
        "n1",
        &format!(
            "#!/bin/sh\necho \"$*\" >> {}\nexec /usr/sbin/nft \"$@\"\n",
            log.display()
        ),
    );
    let env = [("PATH", path.as_str()), ("NETC_NFT_BINARY", "1")];
    ok(lab.apply("n1", &file, "worker-1", &[], &env));
    let runs = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        runs.lines().collect::<Vec<_>>(),
        ["list table inet netc", "-f -", "list table inet netc"],
        "{runs}"
    );
    let again = ok(lab.apply("n1", &file, "worker-1", &[], &env));
    assert!(again.contains("no changes"), "{again}");
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), runs);
}

/// A worker thread that panics after the firewall table it loads beside the routes took
/// effect (the test-only `NETC_PANIC_AT_STEP`): the step may have taken effect, so it is rolled
/// back with the routes, and the host is as before (no new table left loaded).
#[test]
fn a_panic_after_the_table_load_beside_the_routes_still_rolls_the_table_back() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let steps = plan_steps(&lab, "n1", &file, "worker-1");
    let firewall = steps
        .iter()
        .position(|s| s.starts_with("load nftables"))
        .expect("a firewall step");
    assert!(steps[firewall - 1].starts_with("add route"), "{steps:?}");
    let before = lab.dump("n1");
    let out = lab.apply(
        "n1",
        &file,
        "worker-1",
        &[],
        &[("NETC_PANIC_AT_STEP", &(firewall + 1).to_string())],
    );
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains(&format!("rolling back {} applied step(s)", firewall + 1))
            && t.contains("every applied step was rolled back"),
        "{t}"
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a panic beside the routes");
}

/// The files written ahead of their steps on another thread: when that thread panics while an
/// earlier step fails on the main thread, the apply still rolls back what it applied (it does
/// not die with the panic), and no temporary file is left under `--root`.
#[test]
fn a_panic_while_staging_files_does_not_skip_the_rollback_of_an_earlier_failure() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let steps = plan_steps(&lab, "n1", &file, "worker-1");
    let first_write = (1..steps.len())
        .find(|&j| steps[j].starts_with("write file") && !steps[j - 1].contains(" file "))
        .expect("a run of file writes after other steps");
    assert!(first_write >= 2, "{steps:?}");
    let before = lab.dump("n1");
    let out = lab.apply(
        "n1",
        &file,
        "worker-1",
        &[],
        &[
            // The step just before the writes fails; the staging of the first write panics.
            ("NETC_FAULT_AT_STEP", &first_write.to_string()),
            ("NETC_PANIC_AT_STEP", &(first_write + 1).to_string()),
        ],
    );
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains(&format!("rolling back {} applied step(s)", first_write - 1))
            && t.contains("every applied step was rolled back"),
        "{t}"
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a panic while staging");
}

/// `netc apply` in `short` with its own `--lock-dir` (not the lab's).
fn apply_with_lock_dir(
    lab: &Lab,
    short: &str,
    file: &std::path::Path,
    lock_dir: &std::path::Path,
) -> std::process::Output {
    std::process::Command::new("ip")
        .args(["netns", "exec", &lab.ns(short), lab::NETC, "apply"])
        .arg(file)
        .args(["--node", "worker-1", "--root"])
        .arg(lab.path(short, "root"))
        .arg("--state-dir")
        .arg(lab.path(short, "state"))
        .arg("--lock-dir")
        .arg(lock_dir)
        .output()
        .expect("run netc")
}

/// Runs `script` with /usr/bin/python3 as `nobody` inside namespace `short`.
fn as_nobody(lab: &Lab, short: &str, script: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new("ip");
    cmd.args(["netns", "exec", &lab.ns(short), "setpriv", "--reuid=65534"])
        .args([
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            script,
        ]);
    cmd
}

#[test]
fn an_unprivileged_process_can_neither_block_nor_take_the_apply_lock() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    // The old lock's name, bound by an unprivileged process: abstract sockets have no
    // permissions.
    let mut squatter = as_nobody(
        &lab,
        "n1",
        "import socket,time\ns=socket.socket(socket.AF_UNIX)\ns.bind('\\0netc/apply.lock')\n\
         s.listen(1)\nprint('bound',flush=True)\ntime.sleep(60)\n",
    )
    .stdout(std::process::Stdio::piped())
    .spawn()
    .expect("python3 as nobody");
    let mut line = String::new();
    std::io::BufReader::new(squatter.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    let out = lab.apply("n1", &file, "worker-1", &["--lock-timeout", "2"], &[]);
    let _ = squatter.kill();
    let _ = squatter.wait();
    assert_eq!(line.trim(), "bound");
    assert!(
        out.status.success(),
        "an unprivileged process blocked apply: {}",
        text(&out)
    );
    // The lock: a file in a directory only root can enter, which nobody can open.
    let mode = std::fs::metadata(lab.lock_dir())
        .expect("lock dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let lock = lab.host_lock("n1");
    assert!(lock.exists());
    let take = as_nobody(
        &lab,
        "n1",
        &format!(
            "import fcntl\nf=open({:?},'r')\nfcntl.flock(f,fcntl.LOCK_EX|fcntl.LOCK_NB)\n",
            lock.display().to_string()
        ),
    )
    .output()
    .expect("python3 as nobody");
    assert!(!take.status.success(), "nobody took the apply lock");
    // A lock directory others can write is refused (anyone could create the lock file there).
    let open_dir = lab.dir.join("open-run");
    std::fs::create_dir(&open_dir).expect("dir");
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = apply_with_lock_dir(&lab, "n1", &file, &open_dir);
    assert!(!out.status.success());
    assert!(text(&out).contains("lock directory"), "{}", text(&out));
}

#[test]
fn a_one_shot_apply_writes_the_status_record_netc_status_reads() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let status = |file: Option<&std::path::Path>, json: bool| {
        let mut cmd = std::process::Command::new("ip");
        cmd.args(["netns", "exec", &lab.ns("n1"), lab::NETC, "status"]);
        if let Some(f) = file {
            cmd.arg(f);
        }
        cmd.args(["--node", "worker-1", "--state-dir"])
            .arg(lab.path("n1", "state"));
        if json {
            cmd.args(["--format", "json"]);
        }
        cmd.output().expect("netc status")
    };
    let out = status(Some(&file), true);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(verdict["record"], "apply", "{verdict}");
    assert_eq!(verdict["verified"], true, "{verdict}");
    let out = status(None, false);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("(one-shot apply)"), "{}", text(&out));
    // Another intent in the file: not the one applied.
    std::fs::write(&file, smaller_intent()).expect("edit");
    let out = status(None, false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

/// The pid of the `--try` watchdog of the state directory `state` (a process this test
/// started through netc), found by its command line.
fn watchdog_pid(state: &std::path::Path) -> Option<i32> {
    let wanted = state.display().to_string();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: i32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        (args.iter().any(|a| a == "--revert-pending") && args.contains(&wanted)).then_some(pid)
    })
}

#[test]
fn an_expired_try_whose_watchdog_died_is_reverted_by_the_next_apply() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let state = lab.path("n1", "state");
    ok(lab.apply("n1", &file, "worker-1", &["--try", "2"], &[]));
    let pid = watchdog_pid(&state).expect("the watchdog runs");
    // SAFETY: kill(2) of the watchdog this test's apply started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        state.join("pending.json").exists(),
        "the watchdog reverted before it died"
    );
    let status = std::process::Command::new("ip")
        .args(["netns", "exec", &lab.ns("n1"), lab::NETC, "status"])
        .args(["--node", "worker-1", "--state-dir"])
        .arg(&state)
        .output()
        .expect("netc status");
    assert_eq!(status.status.code(), Some(1), "{}", text(&status));
    assert!(
        text(&status).contains("not confirmed by its deadline"),
        "{}",
        text(&status)
    );
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("reverting an unconfirmed --try"),
        "{}",
        text(&out)
    );
    assert!(!state.join("pending.json").exists());
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
}

#[test]
fn foreign_links_the_plan_would_change_are_conflicts() {
    let Some(lab) = Lab::new(NODES) else { return };
    let ns = lab.ns("n1");
    // A bridge of the overlay's name with an address, down, and a VXLAN device with the
    // overlay's parameters: exactly what the plan wants, but not netc's.
    lab::run(&["ip", "-n", &ns, "link", "add", "scbr0", "type", "bridge"]);
    lab::run(&[
        "ip",
        "-n",
        &ns,
        "addr",
        "add",
        "10.99.0.1/24",
        "dev",
        "scbr0",
    ]);
    lab::run(&[
        "ip",
        "-n",
        &ns,
        "link",
        "add",
        "vx100",
        "type",
        "vxlan",
        "id",
        "100",
        "dstport",
        "4789",
        "local",
        "172.16.0.3",
        "dev",
        "eth0",
    ]);
    let file = lab.file("intent.yaml", &full_intent());
    let before = lab.dump("n1");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains(
            "link scbr0 exists (bridge) and was not created by netc; the plan would change it: "
        ),
        "{t}"
    );
    assert!(
        t.contains("link vx100 exists (vxlan) and was not created by netc"),
        "{t}"
    );
    lab::assert_same(&before, &lab.dump("n1"), "after a refused apply");
    // --force takes them over: they are netc's from then on.
    ok(lab.apply("n1", &file, "worker-1", &["--force"], &[]));
    let state = std::fs::read_to_string(lab.path("n1", "state").join("state.json")).expect("state");
    assert!(
        state.contains("\"scbr0\"") && state.contains("\"vx100\""),
        "{state}"
    );
}

#[test]
fn an_edited_cache_is_a_miss_and_only_inet_netc_is_ever_loaded() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    let state = lab.path("n1", "state");
    let cache = state.join("desired.json");
    let text_of = std::fs::read_to_string(&cache).expect("cache");
    let (header, body) = text_of.split_once('\n').expect("header line");
    let mut derived: serde_json::Value = serde_json::from_str(body).expect("cache body");
    derived["files"]["/etc/cron.d/evil"] = "* * * * * root sh -c id\n".into();
    std::fs::write(&cache, format!("{header}\n{derived}")).expect("edit the cache");
    let out = lab.apply("n1", &file, "worker-1", &["-v"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("derived from"), "{}", text(&out));
    assert!(!lab.path("n1", "root").join("etc/cron.d/evil").exists());

    // Whatever the source of nftables text (here undo steps in a pending --try record), a
    // command on another table is refused before anything is loaded.
    let ns = lab.ns("n1");
    lab::run(&[
        "ip", "netns", "exec", &ns, "nft", "add", "table", "ip", "filter",
    ]);
    let previous: serde_json::Value =
        serde_json::from_slice(&std::fs::read(state.join("state.json")).expect("state"))
            .expect("state JSON");
    let pending = serde_json::json!({
        "deadline": 1,
        "root": lab.path("n1", "root"),
        "undo": [{
            "step": "firewall", "backend": "nftables", "zone": "", "from": null,
            "to": "table inet netc\ndelete table inet netc\ndelete table ip filter\n",
        }],
        "previous": previous,
    });
    std::fs::write(state.join("pending.json"), pending.to_string()).expect("pending");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("touching more than table inet netc"),
        "{}",
        text(&out)
    );
    let tables = text(&lab.exec("n1", &["nft", "list", "tables"]));
    assert!(tables.contains("table ip filter"), "{tables}");
}

#[test]
fn apply_refuses_a_node_that_is_not_this_host_or_an_interface_it_lacks() {
    let Some(lab) = Lab::new(NODES) else { return };
    let file = lab.file("intent.yaml", &full_intent());
    let before = lab.dump("n1");
    for extra in [&[][..], &["--force"][..]] {
        let out = lab.apply("n1", &file, "worker-2", extra, &[]);
        let t = text(&out);
        assert!(!out.status.success(), "{t}");
        assert!(t.contains("[netc::apply::not-this-node]"), "{t}");
        assert!(t.contains("node worker-1's address"), "{t}");
        assert!(!t.contains("--force"), "{t}");
    }
    lab::assert_same(&before, &lab.dump("n1"), "after refusing another node");
    // An interface the node declares that this host lacks.
    let missing = lab.file(
        "missing.yaml",
        &LabIntent::new()
            .worker_interfaces(serde_json::json!([eth0(), {"name": "data9"}]))
            .yaml(),
    );
    let out = lab.apply("n1", &missing, "worker-1", &["--force"], &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("[netc::apply::missing-interface]") && t.contains("data9"),
        "{t}"
    );
    assert!(!t.contains("--force"), "{t}");
    lab::assert_same(
        &before,
        &lab.dump("n1"),
        "after refusing a missing interface",
    );
    // Preparing an image under --root: --assume-node skips the check.
    ok(lab.apply("n1", &missing, "worker-1", &["--assume-node"], &[]));
}
