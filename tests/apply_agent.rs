//! The node agent (`netc apply --watch`) and `netc status`, in network namespaces the tests
//! create and delete (see `lab`): three nodes each running the agent, drift corrected, an
//! intent rolled out by a ConfigMap-style symlink swap, an intent that breaks a probe rolled
//! back and reported not ready, SIGTERM mid-pass.
//!
//! Needs root (CI runs as root); fails loudly without it unless `NETC_SKIP_NETNS=1`.

mod lab;
use lab::text;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use lab::Lab;
use lab::intent::{LabIntent, eth0};

const INTERVAL: Duration = Duration::from_secs(1);

/// The lab intent: bridge CNI, host overlay, nftables firewall opening `port`, and a data
/// interface `data0` with MTU 1400 on every node.
fn lab_intent(port: u16) -> LabIntent {
    LabIntent::new()
        .host_overlay(100)
        .nftables_web(port)
        .interfaces(serde_json::json!([eth0(), {"name": "data0", "mtu": 1400}]))
}

fn intent(port: u16) -> String {
    lab_intent(port).yaml()
}

/// An intent mounted the way the kubelet mounts a ConfigMap key: `DIR/intent.yaml` ->
/// `..data/intent.yaml`, `..data` -> a timestamped directory; an update writes a new
/// directory and renames a new `..data` link over the old one.
struct ConfigMap {
    dir: PathBuf,
    key: String,
    version: usize,
}

impl ConfigMap {
    fn new(lab: &Lab, text: &str) -> Self {
        Self::with_key(lab, "intent.yaml", text.as_bytes())
    }

    /// A ConfigMap whose one key is `key` (the fleet's `intent.yaml.gz`), holding `bytes`.
    fn with_key(lab: &Lab, key: &str, bytes: &[u8]) -> Self {
        let dir = lab.dir.join("configmap");
        std::fs::create_dir_all(&dir).expect("configmap dir");
        let mut cm = ConfigMap {
            dir,
            key: key.to_owned(),
            version: 0,
        };
        cm.update_bytes(bytes);
        std::os::unix::fs::symlink(format!("..data/{key}"), cm.file()).expect("key link");
        cm
    }

    fn file(&self) -> PathBuf {
        self.dir.join(&self.key)
    }

    fn update(&mut self, text: &str) {
        self.update_bytes(text.as_bytes());
    }

    fn update_bytes(&mut self, bytes: &[u8]) {
        self.version += 1;
        let data = format!("..2026_11_30_{}", self.version);
        std::fs::create_dir(self.dir.join(&data)).expect("data dir");
        std::fs::write(self.dir.join(&data).join(&self.key), bytes).expect("intent");
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&data, &tmp).expect("data link");
        std::fs::rename(&tmp, self.dir.join("..data")).expect("swap ..data");
    }
}

/// A running agent; killed (SIGKILL) on drop if the test did not stop it.
struct Agent {
    child: Option<Child>,
    log: PathBuf,
    short: String,
    node: String,
    state: PathBuf,
}

impl Agent {
    fn start(lab: &Lab, short: &str, node: &str, file: &Path, env: &[(&str, &str)]) -> Agent {
        let state = lab.path(short, "state");
        let log = lab.dir.join(format!("agent-{short}.log"));
        let out = std::fs::File::create(&log).expect("agent log");
        let err = out.try_clone().expect("agent log");
        let interval = format!("{}ms", INTERVAL.as_millis());
        let child = lab
            .apply_command(
                short,
                file,
                node,
                &state,
                &["--watch", "--interval", &interval],
                env,
            )
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .expect("start the agent");
        Agent {
            child: Some(child),
            log,
            short: short.to_owned(),
            node: node.to_owned(),
            state,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log has `needle`; panics with the log after `within`.
    fn wait_log(&self, needle: &str, within: Duration) {
        let start = Instant::now();
        while !self.log().contains(needle) {
            assert!(
                start.elapsed() < within,
                "agent {} did not log {needle:?} within {within:?}:\n{}",
                self.node,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `netc status` in the node's namespace: (exit code, JSON verdict).
    fn status(&self, lab: &Lab, file: Option<&Path>) -> (i32, serde_json::Value) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &lab.ns(&self.short), lab::NETC, "status"]);
        if let Some(file) = file {
            cmd.arg(file);
        }
        let out = cmd
            .args(["--node", &self.node, "--format", "json", "--state-dir"])
            .arg(&self.state)
            .output()
            .expect("netc status");
        let verdict = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("status output is not JSON ({e}): {}", text(&out)));
        (out.status.code().unwrap_or(-1), verdict)
    }

    /// Waits until `netc status FILE` exits 0; returns how long it took.
    fn wait_ready(&self, lab: &Lab, file: &Path, within: Duration) -> Duration {
        let start = Instant::now();
        loop {
            let (code, verdict) = self.status(lab, Some(file));
            if code == 0 {
                assert_eq!(verdict["ready"], true, "{verdict}");
                return start.elapsed();
            }
            assert!(
                start.elapsed() < within,
                "{} not ready within {within:?}: {verdict}\nlog:\n{}",
                self.node,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Sends SIGTERM and waits for the exit; returns the exit code.
    fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("wait agent") {
                return status.code();
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("agent did not exit within 30s of SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Waits until `check` holds; returns how long that took, or `None` after `within`.
fn until(within: Duration, mut check: impl FnMut() -> bool) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < within {
        if check() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn out_of(lab: &Lab, short: &str, cmd: &[&str]) -> String {
    text(&lab.exec(short, cmd))
}

/// A data interface `data0` (one end of a veth pair: the lab has no dummy module) in `short`.
fn add_data_interface(lab: &Lab, short: &str) {
    let ns = lab.ns(short);
    lab::run(&[
        "ip", "-n", &ns, "link", "add", "data0", "type", "veth", "peer", "name", "data0p",
    ]);
    lab::run(&["ip", "-n", &ns, "link", "set", "data0", "up"]);
}

fn find_conflist(dir: &Path) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_conflist(&path) {
                return Some(found);
            }
        } else if path.extension().is_some_and(|e| e == "conflist") {
            return Some(path);
        }
    }
    None
}

const THREE: &[(&str, &str)] = &[
    ("n1", "172.16.0.3/24"),
    ("n2", "172.16.0.4/24"),
    ("n3", "172.16.0.2/24"),
];
const NAMES: &[(&str, &str)] = &[("n1", "worker-1"), ("n2", "worker-2"), ("n3", "server")];

#[test]
fn three_agents_correct_drift_and_roll_out_an_edited_intent() {
    let Some(lab) = Lab::new(THREE) else { return };
    for (short, _) in NAMES {
        add_data_interface(&lab, short);
    }
    let mut cm = ConfigMap::new(&lab, &intent(8080));
    let file = cm.file();
    let agents: Vec<Agent> = NAMES
        .iter()
        .map(|(short, node)| Agent::start(&lab, short, node, &file, &[]))
        .collect();
    for agent in &agents {
        agent.wait_ready(&lab, &file, Duration::from_secs(60));
    }
    assert!(out_of(&lab, "n1", &["ip", "route"]).contains("10.200.2.0/24 via 172.16.0.4"));
    assert!(out_of(&lab, "n1", &["ip", "link", "show", "data0"]).contains("mtu 1400"));

    // Drift by hand on worker-1: a deleted route, a changed MTU, a flushed netc table.
    let a1 = &agents[0];
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
    lab::run(&[
        "ip",
        "-n",
        &lab.ns("n1"),
        "link",
        "set",
        "data0",
        "mtu",
        "1500",
    ]);
    let two_intervals = 2 * INTERVAL;
    // A pass observes, diffs and verifies: the bound is two intervals plus one pass (a debug
    // build's pass in this lab takes well under a second).
    let bound = two_intervals + Duration::from_secs(1);
    let restored = until(bound, || {
        out_of(&lab, "n1", &["ip", "route"]).contains("10.200.2.0/24 via 172.16.0.4")
            && out_of(&lab, "n1", &["ip", "link", "show", "data0"]).contains("mtu 1400")
    });
    assert!(
        restored.is_some(),
        "route and MTU not restored within {bound:?}:\n{}",
        a1.log()
    );
    eprintln!("route and MTU restored after {restored:?} (interval {INTERVAL:?})");
    a1.wait_log("corrected: add route 10.200.2.0/24", Duration::from_secs(1));
    a1.wait_log("corrected: set mtu of data0", Duration::from_secs(1));
    let listing = |lab: &Lab| out_of(lab, "n1", &["nft", "list", "table", "inet", "netc"]);
    assert!(listing(&lab).contains("8080"));
    lab::run(&[
        "ip",
        "netns",
        "exec",
        &lab.ns("n1"),
        "nft",
        "flush",
        "table",
        "inet",
        "netc",
    ]);
    assert!(!listing(&lab).contains("8080"));
    assert!(
        until(bound, || listing(&lab).contains("8080")).is_some(),
        "flushed netc table not restored within {bound:?}:\n{}",
        a1.log()
    );
    // An edited conflist is written back.
    let conflist = find_conflist(&lab.path("n1", "root")).expect("a conflist under root");
    let original = std::fs::read_to_string(&conflist).expect("conflist");
    std::fs::write(&conflist, "{\"edited\": true}\n").expect("edit conflist");
    assert!(
        until(bound, || std::fs::read_to_string(&conflist).ok().as_ref()
            == Some(&original))
        .is_some(),
        "edited conflist not restored within {bound:?}:\n{}",
        a1.log()
    );
    // The pass that rewrote the file records its corrections when it ends.
    let counted = until(bound, || {
        let (code, verdict) = a1.status(&lab, Some(&file));
        code == 0 && verdict["driftCorrected"].as_u64() == Some(4)
    });
    assert!(
        counted.is_some(),
        "{}\n{}",
        a1.status(&lab, Some(&file)).1,
        a1.log()
    );
    // Readiness probes the peers (those that answered at the last pass) now.
    let probed = until(bound, || {
        let probes = a1.status(&lab, Some(&file)).1["probes"].to_string();
        probes.contains("ping 172.16.0.4") && probes.contains("ping 172.16.0.2")
    });
    assert!(probed.is_some(), "{}", a1.status(&lab, Some(&file)).1);
    // The other nodes were not touched and corrected nothing.
    for agent in &agents[1..] {
        assert!(!agent.log().contains("corrected:"), "{}", agent.log());
    }

    // An edited intent (the ConfigMap updated): every node rolls it out and turns ready.
    let old = file.canonicalize().expect("old intent");
    cm.update(&intent(8081));
    assert_ne!(old, file.canonicalize().expect("new intent"));
    for (agent, (short, _)) in agents.iter().zip(NAMES) {
        let took = agent.wait_ready(&lab, &file, Duration::from_secs(30));
        let nft = out_of(&lab, short, &["nft", "list", "table", "inet", "netc"]);
        assert!(
            nft.contains("8081") && !nft.contains("8080"),
            "{short} after {took:?}: {nft}"
        );
        // Ready against the new file only: the old generation is no longer the applied one.
        let (code, _) = agent.status(&lab, Some(&old));
        assert_eq!(code, 1);
    }
    let mut agents = agents;
    for agent in &mut agents {
        assert_eq!(agent.terminate(), Some(0), "{}", agent.log());
        assert!(agent.log().trim_end().ends_with("agent stopped"));
    }
}

#[test]
fn intent_that_breaks_a_probe_is_rolled_back_and_not_ready() {
    let Some(mut lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    // The API endpoint 10.201.1.10:6443 lives behind the LAN's router 172.16.0.1.
    let lan = lab.ns("lan");
    lab::run(&[
        "ip",
        "-n",
        &lan,
        "addr",
        "add",
        "172.16.0.1/24",
        "dev",
        "br0",
    ]);
    lab::run(&[
        "ip",
        "-n",
        &lan,
        "addr",
        "add",
        "10.201.1.10/32",
        "dev",
        "br0",
    ]);
    lab.listen("lan", 6443);
    lab::run(&[
        "ip",
        "-n",
        &lab.ns("n1"),
        "route",
        "add",
        "10.201.0.0/16",
        "via",
        "172.16.0.1",
    ]);
    assert!(lab.connects("n1", "10.201.1.10", 6443), "endpoint not up");
    // The second intent moves the pod network onto 10.201.0.0/16: worker-1's pod bridge gets
    // 10.201.1.1/24, whose connected route captures the API endpoint.
    let with_pods = |pods: &str| {
        format!(
            "apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {{name: lab}}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  controlPlaneEndpoint: \"10.201.1.10:6443\"
  podCIDR: {pods}
  serviceCIDR: 10.32.0.0/24
  nodeCIDRMaskSize: 24
  kubeProxy: {{mode: iptables}}
cni:
  plugin: bridge
nodes:
  - {{name: server, role: control-plane, address: 172.16.0.2/24, interfaces: [{{name: eth0, purpose: management}}]}}
  - {{name: worker-1, role: worker, address: 172.16.0.3/24, interfaces: [{{name: eth0, purpose: management}}]}}
"
        )
    };
    let good = with_pods("10.200.0.0/16");
    let mut cm = ConfigMap::new(&lab, &good);
    let file = cm.file();
    let good_copy = lab.file("good.yaml", &good);
    let agent = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    agent.wait_ready(&lab, &file, Duration::from_secs(60));
    let (_, verdict) = agent.status(&lab, Some(&file));
    assert!(
        verdict["probes"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p["target"] == "tcp 10.201.1.10:6443")),
        "the API endpoint is not among the probes: {verdict}"
    );
    let before = lab.dump("n1");

    cm.update(&with_pods("10.201.0.0/16"));
    agent.wait_log("not applied", Duration::from_secs(30));
    let log = agent.log();
    assert!(
        log.contains("connectivity lost after applying: tcp 10.201.1.10:6443"),
        "{log}"
    );
    assert!(log.contains("every applied step was rolled back"), "{log}");
    lab::assert_same(&before, &lab.dump("n1"), "after the rolled-back intent");
    assert!(lab.connects("n1", "10.201.1.10", 6443));
    // Not ready, and it stays so: the failed intent is not retried every interval.
    std::thread::sleep(3 * INTERVAL);
    let (code, verdict) = agent.status(&lab, Some(&file));
    assert_eq!(code, 1, "{verdict}");
    assert!(
        verdict["failure"]
            .as_str()
            .is_some_and(|f| f.contains("connectivity lost")),
        "{verdict}"
    );
    assert_eq!(
        agent.log().matches("not applied").count(),
        1,
        "{}",
        agent.log()
    );
    lab::assert_same(&before, &lab.dump("n1"), "intervals after the rollback");
    // The node still runs the last good intent: ready against it, not against the new one.
    let (code, verdict) = agent.status(&lab, Some(&good_copy));
    assert_eq!(code, 1, "a failure is pending: {verdict}");
    // Putting the good intent back makes it ready again.
    cm.update(&good);
    agent.wait_ready(&lab, &file, Duration::from_secs(30));

    // An invalid intent: its diagnostics are logged, the node is not ready, and the agent
    // keeps correcting drift against the last good intent.
    cm.update(&good.replace("podCIDR: 10.200.0.0/16", "podCIDR: 10.200.0.0/33"));
    agent.wait_log(
        "has errors; keeping the last good intent",
        Duration::from_secs(10),
    );
    // The record is written when the pass that read the file ends.
    let reported = until(2 * INTERVAL + Duration::from_secs(1), || {
        let (code, verdict) = agent.status(&lab, Some(&file));
        code == 1
            && verdict["failure"]
                .as_str()
                .is_some_and(|f| f.contains("has errors"))
    });
    assert!(reported.is_some(), "{}", agent.status(&lab, Some(&file)).1);
    assert!(agent.log().contains("podCIDR"), "{}", agent.log());
    let route = ["10.200.0.0/24", "via", "172.16.0.2"];
    let ns = lab.ns("n1");
    let del: Vec<&str> = ["ip", "-n", &ns, "route", "del"]
        .into_iter()
        .chain(route)
        .collect();
    lab::run(&del);
    let back = until(2 * INTERVAL + Duration::from_secs(1), || {
        out_of(&lab, "n1", &["ip", "route"]).contains("10.200.0.0/24 via 172.16.0.2")
    });
    assert!(back.is_some(), "{}", agent.log());
    lab::assert_same(&before, &lab.dump("n1"), "under an invalid intent");
}

#[test]
fn sigterm_mid_pass_finishes_the_pass_and_leaves_no_partial_step() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24"), ("n2", "172.16.0.4/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let file = lab.file("intent.yaml", &intent(8080));
    let mut agent = Agent::start(
        &lab,
        "n1",
        "worker-1",
        &file,
        &[("NETC_AGENT_STEP_DELAY_MS", "200")],
    );
    agent.wait_log("applied: ", Duration::from_secs(30));
    let code = agent.terminate();
    let log = agent.log();
    assert_eq!(code, Some(0), "{log}");
    assert!(
        log.contains("applied (") && log.contains("verified"),
        "the pass under way did not finish:\n{log}"
    );
    assert!(log.trim_end().ends_with("agent stopped"), "{log}");
    // The host is exactly the intent (nothing half-applied) and the lock is free. The
    // agent's desired state is cached in the state directory: this apply reuses it.
    let again = lab.apply("n1", &file, "worker-1", &["--lock-timeout", "1", "-v"], &[]);
    assert!(again.status.success(), "{}", text(&again));
    assert!(text(&again).contains("no changes"), "{}", text(&again));
    assert!(
        text(&again).contains("desired state from the cache"),
        "{}",
        text(&again)
    );
    // So does a restarted agent (a new pod on the node, the same intent).
    let mut restarted = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    restarted.wait_log("(desired state from the cache)", Duration::from_secs(30));
    assert_eq!(restarted.terminate(), Some(0), "{}", restarted.log());
}

/// Holds the host lock of namespace `short` (as root, from this test process) until dropped.
fn hold_host_lock(lab: &Lab, short: &str) -> std::fs::File {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let _ = std::fs::DirBuilder::new()
        .mode(0o700)
        .create(lab.lock_dir());
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .open(lab.host_lock(short))
        .expect("host lock file");
    file.lock().expect("take the host lock");
    file
}

fn liveness(lab: &Lab, agent: &Agent) -> (i32, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.ns(&agent.short), lab::NETC, "status"])
        .args(["--liveness", "--node", &agent.node, "--state-dir"])
        .arg(&agent.state)
        .output()
        .expect("netc status --liveness");
    (out.status.code().unwrap_or(-1), text(&out))
}

#[test]
fn an_agent_waiting_for_the_lock_says_by_whom_and_stops_at_once_on_sigterm() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let file = lab.file("intent.yaml", &intent(8080));
    let lock = hold_host_lock(&lab, "n1");
    let mut agent = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    agent.wait_log(
        "blocked: waiting for the apply lock",
        Duration::from_secs(20),
    );
    let me = format!("held by pid {}", std::process::id());
    let (code, verdict) = agent.status(&lab, None);
    assert_eq!(code, 1, "{verdict}");
    assert!(
        verdict["blocked"].as_str().is_some_and(|b| b.contains(&me)),
        "status does not say who blocks the agent: {verdict}"
    );
    // The default --lock-timeout is 60 s: SIGTERM must not wait for it.
    let start = Instant::now();
    assert_eq!(agent.terminate(), Some(0), "{}", agent.log());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "SIGTERM took {:?} to end a lock wait:\n{}",
        start.elapsed(),
        agent.log()
    );
    drop(lock);
}

#[test]
fn a_pass_that_fails_for_a_transient_reason_is_retried_with_backoff() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let file = lab.file("intent.yaml", &intent(8080));
    let lock = hold_host_lock(&lab, "n1");
    let state = lab.path("n1", "state");
    let log = lab.dir.join("agent-retry.log");
    let out = std::fs::File::create(&log).expect("log");
    let mut agent = Agent {
        child: Some(
            lab.apply_command(
                "n1",
                &file,
                "worker-1",
                &state,
                &["--watch", "--interval", "1s", "--lock-timeout", "1"],
                &[],
            )
            .stdout(Stdio::from(out.try_clone().expect("log")))
            .stderr(Stdio::from(out))
            .spawn()
            .expect("agent"),
        ),
        log,
        short: "n1".into(),
        node: "worker-1".into(),
        state,
    };
    agent.wait_log("(attempt 2)", Duration::from_secs(30));
    let (code, verdict) = agent.status(&lab, Some(&file));
    assert_eq!(code, 1, "{verdict}");
    assert!(verdict["retry"]["attempt"].as_u64() >= Some(1), "{verdict}");
    assert!(
        verdict["retry"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("another netc apply holds")),
        "{verdict}"
    );
    // The lock goes: the same intent is applied at the next attempt, without a new file.
    drop(lock);
    agent.wait_ready(&lab, &file, Duration::from_secs(30));
    assert_eq!(agent.terminate(), Some(0));
}

#[test]
fn a_second_agent_on_one_state_dir_is_refused_and_status_reads_the_agents_file() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let mut cm = ConfigMap::new(&lab, &intent(8080));
    let mut agent = Agent::start(&lab, "n1", "worker-1", &cm.file(), &[]);
    agent.wait_ready(&lab, &cm.file(), Duration::from_secs(30));
    let second = lab
        .apply_command(
            "n1",
            &cm.file(),
            "worker-1",
            &agent.state,
            &["--watch", "--interval", "1s"],
            &[],
        )
        .output()
        .expect("second agent");
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(
        text(&second).contains("another netc agent runs on state directory"),
        "{}",
        text(&second)
    );
    // The agent stops; the file changes after. `netc status` without FILE reads the file the
    // agent reads: its intent is not the one applied.
    assert_eq!(agent.terminate(), Some(0));
    let (code, verdict) = agent.status(&lab, None);
    assert_eq!(code, 0, "{verdict}");
    cm.update(&intent(8081));
    let (code, verdict) = agent.status(&lab, None);
    assert_eq!(
        code, 1,
        "status ready for a file the agent never applied: {verdict}"
    );
    assert!(
        verdict["reasons"][0]
            .as_str()
            .is_some_and(|r| r.contains("is not applied")),
        "{verdict}"
    );
}

#[test]
fn a_failed_intent_is_not_applied_again_by_a_restarted_agent_and_liveness_holds() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let file = lab.file("intent.yaml", &intent(8080));
    // A file netc did not write where the intent installs one: a conflict, the intent's own
    // fault on this host.
    let root = lab.path("n1", "root");
    std::fs::create_dir_all(root.join("etc/sysctl.d")).expect("dir");
    std::fs::write(root.join("etc/sysctl.d/90-netc.conf"), "# someone else's\n").expect("file");
    let mut agent = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    agent.wait_log("not applied", Duration::from_secs(30));
    assert!(agent.log().contains("90-netc.conf"), "{}", agent.log());
    let (code, verdict) = agent.status(&lab, Some(&file));
    assert_eq!(code, 1, "{verdict}");
    // Alive and passing, though its intent failed: the liveness probe does not restart it.
    let (code, out) = liveness(&lab, &agent);
    assert_eq!(code, 0, "{out}");
    assert!(agent.state.join("failed.json").exists());
    assert_eq!(agent.terminate(), Some(0));
    // A stopped agent is not alive.
    std::thread::sleep(Duration::from_millis(200));
    let (code, out) = liveness(&lab, &agent);
    assert_eq!(code, 1, "{out}");

    // A restarted agent (a new pod) does not apply the same intent again.
    let again = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    again.wait_log("failed before", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        !again.log().contains("not applied") && !again.log().contains("applied:"),
        "the restarted agent applied the failed intent again:\n{}",
        again.log()
    );
    let (code, verdict) = again.status(&lab, Some(&file));
    assert_eq!(code, 1, "{verdict}");
    assert!(
        verdict["failure"]
            .as_str()
            .is_some_and(|f| f.contains("not retried until the file changes")),
        "{verdict}"
    );
}

#[test]
fn links_created_before_a_sigkill_are_recorded_and_adopted() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let file = lab.file("intent.yaml", &intent(8080));
    let mut agent = Agent::start(
        &lab,
        "n1",
        "worker-1",
        &file,
        &[("NETC_AGENT_STEP_DELAY_MS", "3000")],
    );
    agent.wait_log("applied: create", Duration::from_secs(30));
    // SIGKILL: no rollback, no record written after the step.
    let mut child = agent.child.take().expect("agent");
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let created: Vec<String> = ["cni0", "scbr0", "vx100"]
        .into_iter()
        .filter(|l| lab.exec("n1", &["ip", "link", "show", l]).status.success())
        .map(str::to_owned)
        .collect();
    assert!(!created.is_empty(), "no link created before the kill");
    // The next apply adopts them: no conflict, and they are netc's.
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(agent.state.join("state.json")).expect("state"))
            .expect("state JSON");
    for link in &created {
        let entry = state["links"]
            .as_array()
            .and_then(|ls| ls.iter().find(|l| l["name"] == link.as_str()))
            .unwrap_or_else(|| panic!("{link} is not recorded as netc's: {state}"));
        assert!(entry["index"].is_u64(), "{link} has no identity: {entry}");
    }
}

/// Issue 17 item 18: a pass killed right after it rewrote a file netc owns (a new intent) leaves
/// a record in which the new contents are netc's: the next apply keeps the file as netc's, with
/// the new hash, instead of forgetting it.
#[test]
fn a_file_rewritten_before_a_sigkill_stays_owned() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let first = intent(8080);
    let file = lab.file("intent.yaml", &first);
    lab::ok(lab.apply("n1", &file, "worker-1", &[], &[]));
    // The new intent changes the conflist (data0's MTU is the pods' MTU).
    let second = first.replace("mtu: 1400", "mtu: 1300");
    assert_ne!(first, second);
    std::fs::write(&file, &second).expect("edit the intent");
    let mut agent = Agent::start(
        &lab,
        "n1",
        "worker-1",
        &file,
        &[("NETC_AGENT_STEP_DELAY_MS", "3000")],
    );
    agent.wait_log("applied: update file", Duration::from_secs(30));
    let mut child = agent.child.take().expect("agent");
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    let out = lab.apply("n1", &file, "worker-1", &[], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(agent.state.join("state.json")).expect("state"))
            .expect("state JSON");
    let root = lab.path("n1", "root");
    let conflists: Vec<&serde_json::Value> = state["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter(|f| f["path"].as_str().is_some_and(|p| p.ends_with(".conflist")))
        .collect();
    assert!(
        !conflists.is_empty(),
        "no conflist recorded as netc's: {state}"
    );
    for entry in conflists {
        let path = entry["path"].as_str().expect("path");
        let on_disk = std::fs::read(root.join(path.trim_start_matches('/'))).expect("conflist");
        assert!(
            String::from_utf8_lossy(&on_disk).contains("1300"),
            "{path} not rewritten"
        );
        assert_eq!(
            entry["sha256"].as_str(),
            Some(netc::digest::sha256(&on_disk).as_str()),
            "{entry}"
        );
        assert!(entry.get("pending").is_none(), "{entry}");
    }
}

/// Issue 17 item 17: the agent narrows a state directory that exists readable by others (the
/// fleet's hostPath `DirectoryOrCreate` makes it 0755) to owner-only.
#[test]
fn the_agent_narrows_an_existing_state_directory() {
    use std::os::unix::fs::PermissionsExt;
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let file = lab.file("intent.yaml", &intent(8080));
    let state = lab.path("n1", "state");
    std::fs::create_dir_all(&state).expect("state dir");
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let agent = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    agent.wait_log("applied (", Duration::from_secs(30));
    let mode = std::fs::metadata(&state)
        .expect("state dir")
        .permissions()
        .mode()
        & 0o7777;
    assert_eq!(mode, 0o700, "mode {mode:o}:\n{}", agent.log());
    assert!(agent.log().contains("was mode 755"), "{}", agent.log());
}

/// The fleet's ConfigMap as `netc build` emits it (issue 17 item 8): its one `binaryData` key
/// and that value's bytes (gzip), and the file the DaemonSet's agent is given.
fn emitted_configmap(text: &str) -> (String, Vec<u8>, String) {
    use base64::prelude::{BASE64_STANDARD, Engine as _};
    let src = netc::diagnostic::SourceFile::new("lab.yaml", text);
    let checked = netc::pipeline::check(&src, netc::intent::Syntax::Yaml);
    let plan = checked.valid_plan().expect("a valid intent");
    let mut art = std::collections::BTreeMap::<String, Vec<u8>>::new();
    netc::emit::fleet::emit(netc::emit::Context::new(plan, "lab.yaml"), &mut art).expect("emits");
    let doc = |path: &str| -> serde_json::Value {
        serde_saphyr::from_str(&String::from_utf8_lossy(&art[path])).expect("YAML")
    };
    let cm = doc("fleet/configmap.yaml");
    let (key, value) = cm["binaryData"]
        .as_object()
        .and_then(|m| m.iter().next())
        .expect("one binaryData key");
    let bytes = BASE64_STANDARD
        .decode(value.as_str().expect("string"))
        .expect("base64");
    let ds = doc("fleet/daemonset.yaml");
    let file = ds["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .expect("the agent's FILE")
        .to_owned();
    (key.clone(), bytes, file)
}

#[test]
fn the_agent_applies_the_compressed_intent_its_configmap_mounts() {
    let Some(lab) = Lab::new(&[("n1", "172.16.0.3/24")]) else {
        return;
    };
    add_data_interface(&lab, "n1");
    let fleet = serde_json::json!({"image": "registry.example/netc:0.1.0"});
    let text = lab_intent(8080).set("/fleet", fleet.clone()).yaml();
    let (key, gz, agent_file) = emitted_configmap(&text);
    assert_eq!(key, "intent.yaml.gz");
    assert_eq!(agent_file, format!("/etc/netc-intent/{key}"));
    assert_eq!(&gz[..2], &[0x1f, 0x8b], "gzip");
    let mut cm = ConfigMap::with_key(&lab, &key, &gz);
    let file = cm.file();
    let mut agent = Agent::start(&lab, "n1", "worker-1", &file, &[]);
    agent.wait_ready(&lab, &file, Duration::from_secs(30));
    let nft = out_of(&lab, "n1", &["nft", "list", "table", "inet", "netc"]);
    assert!(nft.contains("8080"), "{nft}");
    assert!(out_of(&lab, "n1", &["ip", "link", "show", "data0"]).contains("mtu 1400"));
    // The generation is the text's: the same as the plain file's.
    let plain = lab.dir.join("plain.yaml");
    std::fs::write(&plain, &text).expect("plain intent");
    let (code, verdict) = agent.status(&lab, Some(&plain));
    assert_eq!(code, 0, "{verdict}");
    // A new ConfigMap's file is rolled out as a plain one is.
    let (_, gz2, _) = emitted_configmap(&lab_intent(8081).set("/fleet", fleet).yaml());
    cm.update_bytes(&gz2);
    agent.wait_ready(&lab, &file, Duration::from_secs(30));
    let nft = out_of(&lab, "n1", &["nft", "list", "table", "inet", "netc"]);
    assert!(nft.contains("8081") && !nft.contains("8080"), "{nft}");
    // A corrupt file is not an intent: the agent keeps the last good one and says why.
    let mut broken = gz2.clone();
    let n = broken.len();
    broken[n - 8] ^= 0xff;
    cm.update_bytes(&broken);
    agent.wait_log("not a valid gzip file", Duration::from_secs(10));
    let nft = out_of(&lab, "n1", &["nft", "list", "table", "inet", "netc"]);
    assert!(nft.contains("8081"), "{nft}");
    assert_eq!(agent.terminate(), Some(0), "{}", agent.log());
}
