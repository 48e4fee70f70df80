//! A real firewalld daemon inside one lab namespace, on a private D-Bus system bus: the way
//! DESIGN.md's "Testing rules" say it is known to work. `ip netns exec NS unshare -m
//! --propagation private` gives a mount namespace of its own, where a tmpfs on /run/dbus and a
//! bind mount of a copy of /etc/firewalld keep the host's bus and configuration untouched;
//! `dbus-daemon --system --fork` and `firewalld --nofork --nopid` run there. Commands reach it
//! through `nsenter` into the same mount and network namespaces. Both daemons and the shell
//! holding the namespace are killed by process id on drop (every exit path).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{Lab, NETC};

const SETUP: &str = r#"set -eu
dir=$1
[ -d /run/dbus ] || mkdir -p /run/dbus
mount -t tmpfs tmpfs /run/dbus
mount --bind "$dir/etc" /etc/firewalld
dbus-daemon --system --fork --print-pid > "$dir/dbus.pid"
firewalld --nofork --nopid --log-target console > "$dir/firewalld.log" 2>&1 &
echo $! > "$dir/firewalld.pid"
: > "$dir/ready"
exec sleep 3600
"#;

pub struct Firewalld {
    /// The shell (then `sleep`) that holds the mount namespace.
    anchor: Child,
    /// dbus-daemon and firewalld.
    daemons: Vec<u32>,
    dir: PathBuf,
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

fn kill(pid: u32) {
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(3);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

impl Firewalld {
    /// Starts the daemons in namespace `short`; `Err` says exactly why they cannot run.
    pub fn start(lab: &Lab, short: &str) -> Result<Firewalld, String> {
        for tool in [
            "firewalld",
            "firewall-cmd",
            "dbus-daemon",
            "unshare",
            "nsenter",
        ] {
            let found = std::env::var_os("PATH")
                .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).exists()))
                || Path::new("/usr/sbin").join(tool).exists();
            if !found {
                return Err(format!(
                    "{tool} is not installed (scripts/install-test-deps.sh installs it)"
                ));
            }
        }
        let dir = lab.dir.join(format!("firewalld-{short}"));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let copy = Command::new("cp")
            .args(["-a", "/etc/firewalld"])
            .arg(dir.join("etc"))
            .output()
            .map_err(|e| format!("cp: {e}"))?;
        if !copy.status.success() {
            return Err(format!(
                "cannot copy /etc/firewalld: {}",
                String::from_utf8_lossy(&copy.stderr)
            ));
        }
        let stderr = std::fs::File::create(dir.join("setup.err")).map_err(|e| e.to_string())?;
        let anchor = Command::new("ip")
            .args(["netns", "exec", &lab.ns(short)])
            .args([
                "unshare",
                "-m",
                "--propagation",
                "private",
                "sh",
                "-c",
                SETUP,
                "sh",
            ])
            .arg(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run ip netns exec ... unshare: {e}"))?;
        let mut fw = Firewalld {
            anchor,
            daemons: Vec::new(),
            dir: dir.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while !dir.join("ready").exists() {
            if let Ok(Some(status)) = fw.anchor.try_wait() {
                fw.collect_pids();
                return Err(format!(
                    "the namespace setup exited ({status}): {}",
                    std::fs::read_to_string(dir.join("setup.err")).unwrap_or_default()
                ));
            }
            if Instant::now() > deadline {
                fw.collect_pids();
                return Err("the namespace setup did not finish within 20 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        fw.collect_pids();
        loop {
            let state = fw.firewall_cmd_output(&["--state"]);
            if String::from_utf8_lossy(&state.stdout).trim() == "running" {
                return Ok(fw);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "firewall-cmd --state says {:?} {:?} after 20 s; firewalld log:\n{}",
                    String::from_utf8_lossy(&state.stdout).trim(),
                    String::from_utf8_lossy(&state.stderr).trim(),
                    std::fs::read_to_string(dir.join("firewalld.log")).unwrap_or_default()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn collect_pids(&mut self) {
        for name in ["dbus.pid", "firewalld.pid"] {
            if let Some(pid) = read_pid(&self.dir.join(name))
                && !self.daemons.contains(&pid)
            {
                self.daemons.push(pid);
            }
        }
    }

    /// A command run in the daemons' mount and network namespaces.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.args([
            "-t",
            &self.anchor.id().to_string(),
            "-m",
            "-n",
            "--",
            program,
        ]);
        cmd
    }

    pub fn firewall_cmd_output(&self, args: &[&str]) -> Output {
        self.command("firewall-cmd")
            .args(args)
            .output()
            .expect("nsenter firewall-cmd")
    }

    /// `firewall-cmd ARGS`, which must succeed; its output.
    pub fn firewall_cmd(&self, args: &[&str]) -> String {
        let out = self.firewall_cmd_output(args);
        assert!(
            out.status.success(),
            "firewall-cmd {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything in `zones`, at run time and permanent.
    pub fn zones(&self, zones: &[&str]) -> String {
        let mut out = String::new();
        for zone in zones {
            let z = format!("--zone={zone}");
            out.push_str(&self.firewall_cmd(&[&z, "--list-all"]));
            out.push_str("permanent:\n");
            out.push_str(&self.firewall_cmd(&["--permanent", &z, "--list-all"]));
        }
        out
    }

    /// `netc apply` as [`Lab::apply`] runs it, but inside the daemons' namespaces.
    pub fn apply(
        &self,
        lab: &Lab,
        short: &str,
        intent: &Path,
        node: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Output {
        let mut cmd = self.command(NETC);
        cmd.arg("apply")
            .arg(intent)
            .args(["--node", node, "--root"])
            .arg(lab.path(short, "root"))
            .arg("--state-dir")
            .arg(lab.path(short, "state"))
            .args(extra)
            .env_remove("NETC_FAULT_AT_STEP");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run netc")
    }
}

impl Drop for Firewalld {
    fn drop(&mut self) {
        self.collect_pids();
        for pid in self.daemons.iter().rev() {
            kill(*pid);
        }
        let _ = self.anchor.kill();
        let _ = self.anchor.wait();
    }
}
