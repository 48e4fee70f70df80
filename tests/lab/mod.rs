//! A lab of network namespaces for the apply tests: a "LAN" namespace with a bridge, "node"
//! namespaces joined to it by veth pairs, "pod" namespaces. Nothing is attached to the
//! machine's own namespace. Every namespace and process is removed on drop, on every exit path.
//!
//! Needs root. Without it the tests fail loudly, unless `NETC_SKIP_NETNS=1` skips them.

#![allow(dead_code)]

// A test file may use two helper modules, each including this one.
#[allow(clippy::duplicate_mod)]
#[path = "../common/mod.rs"]
mod common;
pub mod firewalld;
pub mod intent;
#[allow(unused_imports)] // not every test file uses all of them
pub use common::netns::{Netns, veth};
#[allow(unused_imports)]
pub use common::{have, skip_netns};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

pub const NETC: &str = env!("CARGO_BIN_EXE_netc");

pub struct Lab {
    prefix: String,
    /// In creation order: the LAN first, pods last.
    namespaces: Vec<Netns>,
    children: Vec<Child>,
    pub dir: PathBuf,
}

/// Runs a command, panicking with its output when it fails.
pub fn run(cmd: &[&str]) -> Output {
    let out = Command::new(cmd[0])
        .args(&cmd[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Lab {
    /// A lab with nodes `(short name, address/prefix)`; `None` when `NETC_SKIP_NETNS=1`.
    pub fn new(nodes: &[(&str, &str)]) -> Option<Lab> {
        if skip_netns() {
            eprintln!("NETC_SKIP_NETNS=1: skipping a namespace test");
            return None;
        }
        let prefix = common::netns::unique_name("lab");
        let dir = std::env::temp_dir().join(&prefix);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut lab = Lab {
            prefix,
            namespaces: Vec::new(),
            children: Vec::new(),
            dir,
        };
        lab.add_namespace("lan");
        // No IPv6 in the lab: its duplicate address detection changes addresses on its own,
        // which would blur the before/after comparisons.
        let lan = lab.netns("lan");
        lan.no_ipv6();
        lan.ok(&["ip", "link", "add", "br0", "type", "bridge"]);
        lan.ok(&["ip", "link", "set", "br0", "up"]);
        for (short, addr) in nodes {
            lab.add_namespace(short);
            let (lan, node) = (lab.netns("lan"), lab.netns(short));
            node.no_ipv6();
            let port = format!("v-{short}");
            veth(lan, &port, node, "eth0");
            lan.ok(&["ip", "link", "set", &port, "master", "br0"]);
            node.ok(&["ip", "addr", "add", addr, "dev", "eth0"]);
        }
        Some(lab)
    }

    /// Creates namespace `short` of this lab (loopback up); its full name.
    fn add_namespace(&mut self, short: &str) -> String {
        let ns = Netns::named(self.ns(short));
        let name = ns.name.clone();
        self.namespaces.push(ns);
        name
    }

    /// Namespace `short` of this lab.
    pub fn netns(&self, short: &str) -> &Netns {
        let name = self.ns(short);
        self.namespaces
            .iter()
            .find(|ns| ns.name == name)
            .unwrap_or_else(|| panic!("the lab has no namespace {short}"))
    }

    /// The full name of a namespace of this lab.
    pub fn ns(&self, short: &str) -> String {
        format!("{}-{short}", self.prefix)
    }

    /// Runs a command inside a namespace (not checked).
    pub fn exec(&self, short: &str, cmd: &[&str]) -> Output {
        self.netns(short).exec(cmd, &[], None)
    }

    /// A per-node directory (`root` or `state`).
    pub fn path(&self, short: &str, what: &str) -> PathBuf {
        let p = self.dir.join(short).join(what);
        std::fs::create_dir_all(&p).expect("lab dir");
        p
    }

    /// `netc apply <intent> --node <node>` inside namespace `short`, with its own root and state.
    pub fn apply(
        &self,
        short: &str,
        intent: &Path,
        node: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let state = self.path(short, "state");
        self.apply_command(short, intent, node, &state, extra, env)
            .output()
            .expect("run netc")
    }

    /// The command of [`Lab::apply`] with another state directory, not started.
    pub fn apply_command(
        &self,
        short: &str,
        intent: &Path,
        node: &str,
        state: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Command {
        let root = self.path(short, "root");
        let ns = self.ns(short);
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &ns, NETC, "apply"])
            .arg(intent)
            .args(["--node", node, "--root"])
            .arg(&root)
            .arg("--state-dir")
            .arg(state)
            .arg("--lock-dir")
            .arg(self.lock_dir())
            .args(extra)
            .env_remove("NETC_FAULT_AT_STEP")
            .env_remove("NETC_PANIC_AT_STEP");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// The lab's `--lock-dir` (not the machine's `/run/netc`).
    pub fn lock_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// The host lock file of namespace `short` (`apply-net-<namespace inode>.lock`).
    pub fn host_lock(&self, short: &str) -> PathBuf {
        use std::os::unix::fs::MetadataExt;
        let ns = std::fs::metadata(format!("/run/netns/{}", self.ns(short)))
            .expect("the namespace's bind mount");
        self.lock_dir().join(format!("apply-net-{}.lock", ns.ino()))
    }

    /// Writes a file into the lab directory.
    pub fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.join(name);
        std::fs::write(&p, text).expect("write lab file");
        p
    }

    /// A pod namespace attached to node `node` by the real CNI bridge plugin with `conf`.
    pub fn add_pod(&mut self, node: &str, pod: &str, conf: &str) -> String {
        let pod_ns = self.add_namespace(pod);
        let node_ns = self.ns(node);
        let mut child = Command::new("ip")
            .args(["netns", "exec", &node_ns, "/usr/lib/cni/bridge"])
            .env("CNI_COMMAND", "ADD")
            .env("CNI_CONTAINERID", &pod_ns)
            .env("CNI_NETNS", format!("/var/run/netns/{pod_ns}"))
            .env("CNI_IFNAME", "eth0")
            .env("CNI_PATH", "/usr/lib/cni")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run the CNI bridge plugin (install containernetworking-plugins)");
        std::io::Write::write_all(child.stdin.as_mut().expect("stdin"), conf.as_bytes())
            .expect("CNI stdin");
        drop(child.stdin.take());
        let out = child.wait_with_output().expect("CNI plugin");
        assert!(
            out.status.success(),
            "CNI ADD failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("CNI result");
        result["ips"][0]["address"]
            .as_str()
            .and_then(|a| a.split('/').next())
            .expect("CNI result has an address")
            .to_owned()
    }

    /// Starts a TCP listener on `port` in namespace `short` that accepts forever.
    pub fn listen(&mut self, short: &str, port: u16) {
        let ns = self.ns(short);
        let script = format!(
            "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.bind(('0.0.0.0',{port}))\ns.listen(64)\nwhile True:\n c,_=s.accept()\n c.close()\n"
        );
        let child = Command::new("ip")
            .args(["netns", "exec", &ns, "python3", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 listener");
        self.children.push(child);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    /// Whether a TCP connection from `short` to `ip:port` succeeds within a second.
    pub fn connects(&self, short: &str, ip: &str, port: u16) -> bool {
        let script = format!(
            "import socket,sys\ntry:\n socket.create_connection(('{ip}',{port}),timeout=1).close()\nexcept Exception:\n sys.exit(1)\n"
        );
        self.exec(short, &["python3", "-c", &script])
            .status
            .success()
    }

    /// A further namespace of the lab (not on the LAN), e.g. a scratch one; returns its name.
    pub fn scratch(&mut self, short: &str) -> String {
        self.add_namespace(short)
    }

    /// Starts a TCP server on `port` in namespace `short` that answers every connection with
    /// the source address it sees, then closes it.
    pub fn echo_peer(&mut self, short: &str, port: u16) {
        let ns = self.ns(short);
        let script = format!(
            "import socket\ns=socket.socket()\ns.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n\
             s.bind(('0.0.0.0',{port}))\ns.listen(64)\nwhile True:\n c,a=s.accept()\n c.sendall(a[0].encode())\n c.close()\n"
        );
        let child = Command::new("ip")
            .args(["netns", "exec", &ns, "python3", "-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 server");
        self.children.push(child);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }

    /// The source address an [`Self::echo_peer`] server at `ip:port` saw a connection from
    /// `short` come from; `None` when the connection fails.
    pub fn seen_as(&self, short: &str, ip: &str, port: u16) -> Option<String> {
        let script = format!(
            "import socket\nc=socket.create_connection(('{ip}',{port}),timeout=2)\nprint(c.recv(64).decode())\n"
        );
        let out = self.exec(short, &["python3", "-c", &script]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Whether `ip` answers a ping from `short`.
    pub fn pings(&self, short: &str, ip: &str) -> bool {
        self.exec(short, &["ping", "-c", "1", "-W", "1", ip])
            .status
            .success()
    }

    /// Everything apply may change in a node namespace, as text: links, addresses, routes,
    /// permanent neighbours, forwarding entries, the nft ruleset, sysctls, files under root.
    pub fn dump(&self, short: &str) -> String {
        let mut out = String::new();
        let links = self.exec(short, &["ip", "-o", "-d", "link", "show"]);
        out.push_str("$ ip -o -d link show (stable fields)\n");
        out.push_str(&stable_links(&String::from_utf8_lossy(&links.stdout)));
        for cmd in [
            &["ip", "addr", "show"][..],
            &["ip", "route", "show", "table", "all"],
            &["ip", "neigh", "show", "nud", "permanent"],
            &["bridge", "fdb", "show"],
            &["nft", "list", "ruleset"],
        ] {
            let o = self.exec(short, cmd);
            out.push_str(&format!("$ {}\n", cmd.join(" ")));
            let mut listing = String::from_utf8_lossy(&o.stdout).into_owned();
            if cmd[0] == "bridge" {
                // Entries a bridge learned from traffic age out on their own (ageing_time):
                // only configured ones (permanent, static) are state.
                listing = listing
                    .lines()
                    .filter(|l| l.contains("permanent") || l.contains("static"))
                    .map(|l| format!("{l}\n"))
                    .collect();
            }
            out.push_str(&stable_links(&listing));
        }
        for key in [
            "net/ipv4/ip_forward",
            "net/ipv4/conf/all/rp_filter",
            "net/bridge/bridge-nf-call-iptables",
            "net/bridge/bridge-nf-call-ip6tables",
        ] {
            let o = self.exec(short, &["cat", &format!("/proc/sys/{key}")]);
            out.push_str(&format!("{key} = {}", String::from_utf8_lossy(&o.stdout)));
        }
        let root = self.path(short, "root");
        let mut files = Vec::new();
        collect(&root, &mut files);
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            out.push_str(&format!("file {}\n{text}", f.display()));
        }
        out
    }
}

/// `ip -o -d link` without what the kernel changes on its own: operational and STP port
/// states and timers, and the carrier (`NO-CARRIER`, `LOWER_UP`, `M-DOWN`, a route's
/// `linkdown`), which a bridge derives from its ports — and, without ports, from whether its
/// MAC was chosen (`br_stp_change_bridge_id` turns the carrier off), so a bridge recreated
/// with its old MAC differs there from the original while holding every configured value.
fn stable_links(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let mut skip = false;
        let words: Vec<String> = line
            .split_whitespace()
            .filter(|w| {
                if skip {
                    skip = false;
                    return false;
                }
                if *w == "state" || w.ends_with("_timer") {
                    skip = true;
                    return false;
                }
                *w != "linkdown"
            })
            .map(
                |w| match w.strip_prefix('<').and_then(|f| f.strip_suffix('>')) {
                    Some(flags) => {
                        let kept: Vec<&str> = flags
                            .split(',')
                            .filter(|f| !matches!(*f, "NO-CARRIER" | "LOWER_UP" | "M-DOWN"))
                            .collect();
                        format!("<{}>", kept.join(","))
                    }
                    None => w.to_owned(),
                },
            )
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                collect(&p, out);
            } else {
                out.push(p);
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Pods first, the LAN last: deleting a namespace removes its veth ends too.
        while let Some(ns) = self.namespaces.pop() {
            drop(ns);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asserts two dumps are equal, showing only the lines that differ.
pub fn assert_same(before: &str, after: &str, what: &str) {
    if before == after {
        return;
    }
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    let gone: Vec<&&str> = a.iter().filter(|l| !b.contains(l)).collect();
    let new: Vec<&&str> = b.iter().filter(|l| !a.contains(l)).collect();
    panic!("{what}: host state differs\nonly before:\n{gone:#?}\nonly after:\n{new:#?}");
}

/// A command's stdout then stderr, as text (for assertions and failure messages).
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The output of a `netc apply` that must have succeeded.
pub fn ok(o: Output) -> String {
    let t = text(&o);
    assert!(o.status.success(), "netc apply failed:\n{t}");
    t
}
