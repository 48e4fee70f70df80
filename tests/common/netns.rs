//! The one network-namespace primitive of the test suite: a namespace this test created,
//! deleted on drop (so on every exit path, a failing assertion included), and veth pairs
//! between two of them. Nothing is ever attached to the machine's own namespace: a veth pair
//! is created inside one test namespace with its peer moved straight into another.
//!
//! Built on by `tests/lab` (the apply lab: a LAN, nodes, pods), `tests/consumers/support.rs`
//! (the CNI plugins and `nft` in a namespace) and `tests/apply_probe.rs` (two namespaces on one
//! veth pair). Needs root and iproute2: without them creating a namespace fails the test,
//! naming what is missing, unless `NETC_SKIP_NETNS=1` told the caller to skip first.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A name no other namespace of this test run has: `netc-<pid>-<n>-<tag>`.
pub fn unique_name(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    format!("netc-{}-{n}-{tag}", std::process::id())
}

/// A network namespace this test created; deleted, with everything in it, on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// A new namespace with a unique name ending in `tag`, loopback up.
    pub fn new(tag: &str) -> Netns {
        Netns::named(unique_name(tag))
    }

    /// A new namespace called `name` (unique to this test), loopback up. Fails the test,
    /// saying what is missing, when it cannot be created.
    pub fn named(name: String) -> Netns {
        match Command::new("ip").args(["netns", "add", &name]).output() {
            Ok(o) if o.status.success() => {}
            Ok(o) => panic!(
                "cannot create network namespace {name}: {} (these tests need root; \
                 NETC_SKIP_NETNS=1 skips them)",
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => {
                panic!("cannot run ip: {e} (install iproute2; NETC_SKIP_NETNS=1 skips these tests)")
            }
        }
        let ns = Netns { name };
        ns.ok(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    /// `/run/netns/<name>`: what `CNI_NETNS` names and `setns` opens.
    pub fn path(&self) -> PathBuf {
        PathBuf::from("/run/netns").join(&self.name)
    }

    /// `ip netns exec <name> CMD...`, not started.
    pub fn command(&self, cmd: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(cmd);
        c
    }

    /// Runs a command inside the namespace with extra environment and optional stdin; its
    /// output, whatever the exit status.
    pub fn exec(&self, cmd: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
        let mut c = self.command(cmd);
        c.envs(env.iter().copied());
        super::output_with_input(c, stdin)
    }

    /// Runs a command inside the namespace; a non-zero exit fails the test. Its stdout.
    pub fn ok(&self, cmd: &[&str]) -> String {
        let out = self.exec(cmd, &[], None);
        assert!(
            out.status.success(),
            "in {}: {cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sets a sysctl of this namespace (`net.*` keys are per namespace).
    pub fn sysctl(&self, key: &str, value: &str) {
        self.ok(&["sysctl", "-q", "-w", &format!("{key}={value}")]);
    }

    /// Turns IPv6 off: its duplicate address detection and router solicitations change
    /// addresses and send packets on their own, which blurs before/after comparisons.
    pub fn no_ipv6(&self) {
        for key in ["all", "default"] {
            self.sysctl(&format!("net.ipv6.conf.{key}.disable_ipv6"), "1");
        }
    }

    /// Skips IPv6 duplicate address detection, so an address is usable at once.
    pub fn no_dad(&self) {
        for key in ["all", "default"] {
            self.sysctl(&format!("net.ipv6.conf.{key}.accept_dad"), "0");
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Best effort: a failing delete must not hide the test's own failure.
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A veth pair: `a_if` in `a`, its peer `b_if` in `b`, both up. Created inside `a`, so
/// nothing ever appears in the machine's own namespace.
pub fn veth(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    a.ok(&[
        "ip", "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", &b.name,
    ]);
    a.ok(&["ip", "link", "set", a_if, "up"]);
    b.ok(&["ip", "link", "set", b_if, "up"]);
}
