//! Issue 11, the output and command-line items: `diff` / `build --check` never read outside DIR
//! (manifest entries, symbolic links), `build` keeps DIR's owner, modes and file identity, only
//! regular files and directories are read (a FIFO never hangs a command), `--try` is bounded,
//! intent inputs are bounded in size and kind, recovery leftovers neither block a build nor get
//! moved by a read-only command, and a corrupt state file is an I/O error (exit 2).
//!
//! Every netc process runs with a time limit and an address-space limit, so a regression shows up
//! as a failed assertion, not as a hung test or an exhausted machine.

mod build_common;

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use build_common::{netc, read_tree, repo};

const EXAMPLE: &str = "examples/kubeadm-flannel.yaml";
/// Longer than any command here needs; a command still running then is hung.
const TIME_LIMIT: Duration = Duration::from_secs(30);
/// Far above what checking or building an example needs; reading `/dev/zero` hits it.
const MEMORY_LIMIT: u64 = 1 << 30;
/// A process id no Linux system hands out (above the largest `pid_max`, 2^22).
const DEAD_PID: &str = "4294967290";
/// `nobody` / `nogroup` on Debian.
const NOBODY: u32 = 65534;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// For failure messages: the exit code and the start of both outputs.
    fn text(&self) -> String {
        let head = |s: &str| s.chars().take(4000).collect::<String>();
        format!(
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            head(&self.stdout),
            head(&self.stderr)
        )
    }
}

/// Runs netc in `cwd` with a time and memory limit; `stdin` is fed to it when given.
fn run_in(cwd: &Path, args: &[&str], stdin: Option<Vec<u8>>) -> Run {
    let logs = tempfile::tempdir().expect("tempdir");
    let out_path = logs.path().join("stdout");
    let err_path = logs.path().join("stderr");
    let mut cmd = netc();
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
    // SAFETY: setrlimit is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: MEMORY_LIMIT,
                rlim_max: MEMORY_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn netc");
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        // netc may stop reading early (that is the point of some tests): ignore EPIPE.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if start.elapsed() > TIME_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Some(f) = feeder {
        let _ = f.join();
    }
    let stdout = String::from_utf8_lossy(&std::fs::read(&out_path).unwrap_or_default()).into();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into();
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    };
    assert!(
        status.is_some(),
        "netc {args:?} still ran after {TIME_LIMIT:?} (hung):\n{}",
        run.text()
    );
    run
}

/// A scratch directory holding the example as `intent.yaml`, built into `out/` when `built`.
fn scratch(built: bool) -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    std::fs::copy(repo().join(EXAMPLE), t.path().join("intent.yaml")).expect("copy example");
    if built {
        let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
        assert_eq!(r.code, Some(0), "{}", r.text());
    }
    t
}

/// Changes the intent so that a rebuild rewrites some of netc's files.
fn change_intent(t: &Path) {
    let path = t.join("intent.yaml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("10.244.0.0/16", "10.200.0.0/16");
    std::fs::write(&path, text).unwrap();
}

fn set_manifest_entry(out: &Path, entry: &str) {
    let path = out.join(".netc-manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    manifest["files"][entry] = serde_json::Value::String(format!("sha256:{}", "0".repeat(64)));
    std::fs::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
}

/// A file outside DIR whose contents must never appear in netc's output.
fn secret(t: &Path) -> PathBuf {
    let path = t.join("secret.txt");
    std::fs::write(&path, "TOP-SECRET-CONTENTS\n").unwrap();
    path
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o644) };
    assert_eq!(rc, 0, "mkfifo {}", path.display());
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

// ---- item 2: the manifest and symbolic links never lead a read outside DIR ----

#[test]
fn manifest_entries_outside_dir_are_refused_by_diff_check_and_build() {
    let t = scratch(true);
    let secret = secret(t.path());
    let out = t.path().join("out");
    let before = read_tree(&out);
    for entry in [
        "../secret.txt".to_owned(),
        "kubeadm/../../secret.txt".to_owned(),
        secret.display().to_string(),
        "/proc/self/environ".to_owned(),
        "./kubeadm/init.yaml".to_owned(),
        "kubeadm//init.yaml".to_owned(),
        "x\n+++ b/evil".to_owned(),
    ] {
        std::fs::write(
            out.join(".netc-manifest.json"),
            &before[".netc-manifest.json"],
        )
        .unwrap();
        set_manifest_entry(&out, &entry);
        let manifest = std::fs::read(out.join(".netc-manifest.json")).unwrap();
        for args in [
            &["diff", "intent.yaml", "-o", "out"][..],
            &["build", "intent.yaml", "-o", "out", "--check"],
            &["build", "intent.yaml", "-o", "out"],
        ] {
            let r = run_in(t.path(), args, None);
            assert_eq!(r.code, Some(2), "entry {entry:?}, {args:?}: {}", r.text());
            assert!(
                !r.stdout.contains("TOP-SECRET") && !r.stderr.contains("TOP-SECRET"),
                "{}",
                r.text()
            );
            assert!(
                r.stderr.contains(".netc-manifest.json")
                    && r.stderr.contains(&format!("{entry:?}")),
                "the error names the manifest and the entry {entry:?}: {}",
                r.text()
            );
            assert_eq!(
                std::fs::read(out.join(".netc-manifest.json")).unwrap(),
                manifest,
                "{args:?} changed the manifest"
            );
        }
    }
}

#[test]
fn a_symlink_inside_dir_is_never_followed_by_diff_or_check() {
    let t = scratch(true);
    let secret = secret(t.path());
    let out = t.path().join("out");
    // A netc file replaced by a link out of DIR.
    let init = out.join("kubeadm/init.yaml");
    std::fs::remove_file(&init).unwrap();
    std::os::unix::fs::symlink(&secret, &init).unwrap();
    for args in [
        &["diff", "intent.yaml", "-o", "out"][..],
        &["build", "intent.yaml", "-o", "out", "--check"],
    ] {
        let r = run_in(t.path(), args, None);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.text());
        assert!(!r.stdout.contains("TOP-SECRET"), "{}", r.text());
        assert!(
            r.stderr.contains("kubeadm/init.yaml") && r.stderr.contains("symbolic link"),
            "{}",
            r.text()
        );
    }
    // A build replaces netc's own file (the link itself, never what it points to).
    let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(std::fs::symlink_metadata(&init).unwrap().is_file());
    assert_eq!(
        std::fs::read_to_string(&secret).unwrap(),
        "TOP-SECRET-CONTENTS\n"
    );

    // A directory of netc's replaced by a link to a directory outside DIR.
    let elsewhere = t.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::copy(&secret, elsewhere.join("init.yaml")).unwrap();
    std::fs::copy(&secret, elsewhere.join("join-worker-9.yaml")).unwrap();
    std::fs::remove_dir_all(out.join("kubeadm")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, out.join("kubeadm")).unwrap();
    // ... and a stale manifest entry under it.
    set_manifest_entry(&out, "kubeadm/join-worker-9.yaml");
    for args in [
        &["diff", "intent.yaml", "-o", "out"][..],
        &["build", "intent.yaml", "-o", "out", "--check"],
    ] {
        let r = run_in(t.path(), args, None);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.text());
        assert!(!r.stdout.contains("TOP-SECRET"), "{}", r.text());
        assert!(r.stderr.contains("symbolic link"), "{}", r.text());
    }
    // build neither writes through the link nor replaces it: it is not netc's.
    let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(
        r.stderr.contains("out/kubeadm") && r.stderr.contains("netc did not write it"),
        "{}",
        r.text()
    );
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        2,
        "nothing written through the link"
    );
    assert!(
        std::fs::symlink_metadata(out.join("kubeadm"))
            .unwrap()
            .file_type()
            .is_symlink()
    );

    // The manifest itself as a link out of DIR.
    let t = scratch(true);
    let out = t.path().join("out");
    let outside = t.path().join("outside.json");
    std::fs::rename(out.join(".netc-manifest.json"), &outside).unwrap();
    std::os::unix::fs::symlink(&outside, out.join(".netc-manifest.json")).unwrap();
    let r = run_in(t.path(), &["diff", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(
        r.stderr.contains(".netc-manifest.json") && r.stderr.contains("symbolic link"),
        "{}",
        r.text()
    );
}

// ---- item 5: build keeps DIR's owner, modes and the identity of carried-over files ----

#[test]
fn build_keeps_owner_modes_setgid_and_hard_links() {
    let t = scratch(true);
    let out = t.path().join("out");
    let owner = if is_root() {
        NOBODY
    } else {
        eprintln!("not root: ownership is checked with the current user only");
        // SAFETY: getuid has no preconditions.
        unsafe { libc::getuid() }
    };
    let chown = |p: &Path| std::os::unix::fs::chown(p, Some(owner), Some(owner)).unwrap();
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    // Foreign files: a private directory, a file hard-linked from outside DIR, two names of one
    // file inside DIR, a symlink.
    std::fs::create_dir(out.join("keep")).unwrap();
    std::fs::write(out.join("keep/secret"), "mine\n").unwrap();
    std::fs::hard_link(out.join("keep/secret"), t.path().join("outside-name")).unwrap();
    std::fs::hard_link(out.join("keep/secret"), out.join("second-name")).unwrap();
    std::os::unix::fs::symlink("keep/secret", out.join("link")).unwrap();
    for p in [
        out.join("keep/secret"),
        out.join("keep"),
        out.join("kubeadm"),
        out.clone(),
    ] {
        chown(&p);
    }
    std::os::unix::fs::lchown(out.join("link"), Some(owner), Some(owner)).unwrap();
    chmod(&out.join("keep/secret"), 0o600);
    chmod(&out.join("keep"), 0o700);
    chmod(&out.join("kubeadm"), 0o750);
    // A group-shared, private, setgid DIR.
    chmod(&out, 0o2770);
    let identity = |p: &Path| {
        let m = std::fs::symlink_metadata(p).unwrap();
        (m.dev(), m.ino())
    };
    let secret_id = identity(&out.join("keep/secret"));
    let link_id = identity(&out.join("link"));

    // A directory of netc's that the rebuild creates anew.
    std::fs::remove_dir_all(out.join("cloud-init")).unwrap();

    change_intent(t.path());
    let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(
        std::fs::read_to_string(out.join("kubeadm/init.yaml"))
            .unwrap()
            .contains("10.200.0.0/16"),
        "the rebuild did not happen"
    );
    let meta = |p: &Path| std::fs::symlink_metadata(p).unwrap();
    let m = meta(&out);
    assert_eq!(m.mode() & 0o7777, 0o2770, "DIR's mode (with setgid)");
    assert_eq!((m.uid(), m.gid()), (owner, owner), "DIR's owner");
    let m = meta(&out.join("keep"));
    assert_eq!(m.mode() & 0o7777, 0o700, "keep/ keeps its exact mode");
    assert_eq!((m.uid(), m.gid()), (owner, owner));
    let m = meta(&out.join("kubeadm"));
    assert_eq!(
        m.mode() & 0o777,
        0o750,
        "netc's own directory keeps its mode"
    );
    assert_eq!((m.uid(), m.gid()), (owner, owner));
    let m = meta(&out.join("keep/secret"));
    assert_eq!(m.mode() & 0o7777, 0o600);
    assert_eq!((m.uid(), m.gid()), (owner, owner));
    assert_eq!(identity(&out.join("keep/secret")), secret_id, "same file");
    assert_eq!(
        identity(&out.join("second-name")),
        secret_id,
        "hard link kept"
    );
    assert_eq!(identity(&t.path().join("outside-name")), secret_id);
    assert_eq!(m.nlink(), 3, "no name of the file was lost or added");
    assert_eq!(identity(&out.join("link")), link_id, "the symlink itself");
    assert_eq!(
        std::fs::read_link(out.join("link")).unwrap(),
        Path::new("keep/secret")
    );
    // Directories netc creates inherit the setgid group like any directory in DIR.
    let m = meta(&out.join("cloud-init"));
    assert_eq!(m.gid(), owner, "the setgid group");
    assert_ne!(m.mode() & 0o2000, 0, "setgid inherited");
}

// ---- item 9: FIFOs never hang a command; only regular files and directories are read ----

#[test]
fn a_fifo_in_dir_is_reported_not_read() {
    let t = scratch(true);
    let out = t.path().join("out");
    mkfifo(&out.join("pipe"));
    let before = read_tree_without(&out, "pipe");
    let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(
        r.stderr.contains("pipe") && r.stderr.contains("FIFO"),
        "{}",
        r.text()
    );
    assert_eq!(before, read_tree_without(&out, "pipe"), "DIR changed");
    assert!(
        std::fs::symlink_metadata(out.join("pipe"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    // A foreign FIFO does not concern --check (it only reads netc's files).
    let r = run_in(
        t.path(),
        &["build", "intent.yaml", "-o", "out", "--check"],
        None,
    );
    assert_eq!(r.code, Some(0), "{}", r.text());
    std::fs::remove_file(out.join("pipe")).unwrap();

    // A FIFO where netc's own file was.
    let init = out.join("kubeadm/init.yaml");
    std::fs::remove_file(&init).unwrap();
    mkfifo(&init);
    for args in [
        &["diff", "intent.yaml", "-o", "out"][..],
        &["build", "intent.yaml", "-o", "out", "--check"],
    ] {
        let r = run_in(t.path(), args, None);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.text());
        assert!(
            r.stderr.contains("kubeadm/init.yaml") && r.stderr.contains("FIFO"),
            "{}",
            r.text()
        );
    }
    // build replaces its own file without reading the FIFO.
    let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(std::fs::symlink_metadata(&init).unwrap().is_file());

    // The manifest as a FIFO.
    let manifest = out.join(".netc-manifest.json");
    std::fs::remove_file(&manifest).unwrap();
    mkfifo(&manifest);
    for args in [
        &["diff", "intent.yaml", "-o", "out"][..],
        &["build", "intent.yaml", "-o", "out"],
    ] {
        let r = run_in(t.path(), args, None);
        assert_eq!(r.code, Some(2), "{args:?}: {}", r.text());
        assert!(r.stderr.contains("FIFO"), "{}", r.text());
    }
}

fn read_tree_without(root: &Path, skip: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut tree = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(root).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == skip {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            for (k, v) in read_tree(&e.path()) {
                tree.insert(format!("{name}/{k}"), v);
            }
        } else {
            tree.insert(name, std::fs::read(e.path()).unwrap());
        }
    }
    tree
}

// ---- item 13: --try is bounded ----

#[test]
fn try_seconds_are_bounded_on_the_command_line() {
    let t = tempfile::tempdir().unwrap();
    // An intent with errors: whatever gets past the command line stops there, before the host.
    std::fs::write(
        t.path().join("bad.yaml"),
        "apiVersion: netc/v1alpha1\nkind: [\n",
    )
    .unwrap();
    let state = t.path().join("state");
    let state_arg = state.display().to_string();
    for secs in ["18446744073709551615", "86401", "0"] {
        let r = run_in(
            t.path(),
            &[
                "apply",
                "bad.yaml",
                "--node",
                "n",
                "--dry-run",
                "--state-dir",
                &state_arg,
                "--try",
                secs,
            ],
            None,
        );
        assert_eq!(r.code, Some(2), "--try {secs}: {}", r.text());
        assert!(
            r.stderr.contains("--try") && r.stderr.contains("1..=86400"),
            "{}",
            r.text()
        );
    }
    // The largest accepted value gets past the command line (to the intent's errors).
    let r = run_in(
        t.path(),
        &[
            "apply",
            "bad.yaml",
            "--node",
            "n",
            "--dry-run",
            "--state-dir",
            &state_arg,
            "--try",
            "86400",
        ],
        None,
    );
    assert_eq!(r.code, Some(1), "{}", r.text());
    assert!(!state.exists());
}

// ---- item 14 (reading): intent inputs are bounded in size and kind ----

#[test]
fn intent_inputs_that_are_directories_are_refused_and_endless_devices_bounded() {
    let t = tempfile::tempdir().unwrap();
    // /dev/zero is read as a stream, and stops at the 64 MiB bound (not at its kind).
    let r = run_in(t.path(), &["check", "/dev/zero"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(
        r.stderr.contains("/dev/zero") && r.stderr.contains("64 MiB"),
        "{}",
        r.text()
    );
    std::fs::create_dir(t.path().join("dir.yaml")).unwrap();
    let r = run_in(t.path(), &["check", "dir.yaml"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(r.stderr.contains("directory"), "{}", r.text());
}

/// Issue 17 item 8: a gzip-compressed intent (the fleet's ConfigMap mounts one) is read
/// decompressed, from a file or stdin, its syntax named without `.gz`; one that inflates past
/// the 64 MiB bound is refused without being inflated whole (this process's memory is
/// limited to 1 GiB), as is a corrupt one.
#[test]
fn compressed_intents_are_read_and_bombs_refused() {
    let t = tempfile::tempdir().unwrap();
    let gzip = |input: &[u8]| {
        let mut child = std::process::Command::new("gzip")
            .args(["-c", "-1"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("gzip");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let feeder = std::thread::spawn(move || stdin.write_all(&input));
        let out = child.wait_with_output().expect("gzip output");
        feeder.join().expect("feeder").expect("write to gzip");
        assert!(out.status.success());
        out.stdout
    };
    for example in [EXAMPLE, "examples/kubeadm-flannel.kdl"] {
        let text = std::fs::read(repo().join(example)).unwrap();
        let name = format!(
            "intent.{}.gz",
            Path::new(example).extension().unwrap().to_string_lossy()
        );
        std::fs::write(t.path().join(&name), gzip(&text)).unwrap();
        let r = run_in(t.path(), &["check", &name], None);
        assert_eq!(r.code, Some(0), "{example}: {}", r.text());
    }
    let text = std::fs::read(repo().join(EXAMPLE)).unwrap();
    let r = run_in(t.path(), &["check", "-"], Some(gzip(&text)));
    assert_eq!(r.code, Some(0), "stdin: {}", r.text());
    // 200 MiB of zeros, about 200 KB compressed.
    let bomb = gzip(&vec![0u8; 200 << 20]);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    std::fs::write(t.path().join("bomb.yaml.gz"), &bomb).unwrap();
    let r = run_in(t.path(), &["check", "bomb.yaml.gz"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(
        r.stderr.contains("bomb.yaml.gz") && r.stderr.contains("more than 64 MiB"),
        "{}",
        r.text()
    );
    let mut corrupt = gzip(&text);
    corrupt.truncate(corrupt.len() - 5);
    std::fs::write(t.path().join("cut.yaml.gz"), &corrupt).unwrap();
    let r = run_in(t.path(), &["check", "cut.yaml.gz"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(r.stderr.contains("not a valid gzip file"), "{}", r.text());
}

/// Issue 16 item 1: a FIFO (`<(cat f)`, `<(git show main:net.yaml)`) is read like stdin.
#[test]
fn intent_inputs_from_fifos_are_read() {
    let t = tempfile::tempdir().unwrap();
    let example = std::fs::read(repo().join(EXAMPLE)).unwrap();
    for cmd in ["check", "build"] {
        let fifo = t.path().join(format!("{cmd}.yaml"));
        mkfifo(&fifo);
        let writer = {
            let (fifo, bytes) = (fifo.clone(), example.clone());
            std::thread::spawn(move || std::fs::write(fifo, bytes))
        };
        let name = format!("{cmd}.yaml");
        let mut args = vec![cmd, name.as_str()];
        if cmd == "build" {
            args.extend(["-o", "out"]);
        }
        let r = run_in(t.path(), &args, None);
        if !writer.is_finished() {
            // netc never opened it: unblock the writer before failing.
            let _ = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&fifo);
        }
        let _ = writer.join();
        assert_eq!(r.code, Some(0), "{cmd}: {}", r.text());
    }
    assert!(t.path().join("out/kubeadm/init.yaml").is_file());

    // The README's own line, through bash's process substitution.
    let copy = t.path().join("new.yaml");
    std::fs::copy(repo().join(EXAMPLE), &copy).unwrap();
    let out = std::process::Command::new("timeout")
        .args(["30", "bash", "-c"])
        .arg(format!(
            "'{}' diff-connectivity <(cat new.yaml) new.yaml && '{}' check <(cat new.yaml)",
            env!("CARGO_BIN_EXE_netc"),
            env!("CARGO_BIN_EXE_netc")
        ))
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn intent_inputs_above_64_mib_are_refused() {
    let t = tempfile::tempdir().unwrap();
    let big = t.path().join("big.yaml");
    // Sparse: no disk space, and netc must refuse it without reading it.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(64 * 1024 * 1024 + 1)
        .unwrap();
    let r = run_in(t.path(), &["check", "big.yaml"], None);
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(r.stderr.contains("64 MiB"), "{}", r.text());

    // Standard input has no size to look at: netc stops reading past the limit.
    let mut input = b"# comment\n".repeat(7 * 1024 * 1024);
    input.truncate(64 * 1024 * 1024 + 10);
    let r = run_in(t.path(), &["check", "-"], Some(input));
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(
        r.stderr.contains("standard input") && r.stderr.contains("64 MiB"),
        "{}",
        r.text()
    );
    // Below the limit, standard input is still read.
    let example = std::fs::read(repo().join(EXAMPLE)).unwrap();
    let r = run_in(t.path(), &["check", "-"], Some(example));
    assert_eq!(r.code, Some(0), "{}", r.text());
}

// ---- item 15: recovery leftovers ----

#[test]
fn a_stray_file_with_a_staging_name_does_not_block_builds() {
    let t = scratch(true);
    let stray = t.path().join(format!(".out.netc-tmp-{DEAD_PID}"));
    std::fs::write(&stray, "not netc's\n").unwrap();
    let stray_old = t.path().join(format!(".out.netc-old-{DEAD_PID}"));
    std::fs::write(&stray_old, "not netc's either\n").unwrap();
    change_intent(t.path());
    for _ in 0..2 {
        let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
        assert_eq!(r.code, Some(0), "{}", r.text());
    }
    assert!(
        std::fs::read_to_string(t.path().join("out/kubeadm/init.yaml"))
            .unwrap()
            .contains("10.200.0.0/16")
    );
    // Not netc's directories: left alone.
    assert_eq!(std::fs::read_to_string(&stray).unwrap(), "not netc's\n");
    assert_eq!(
        std::fs::read_to_string(&stray_old).unwrap(),
        "not netc's either\n"
    );
}

#[test]
fn diff_and_check_move_and_delete_nothing() {
    // An interrupted build's moved-away DIR, with DIR missing: only build puts it back.
    let t = scratch(true);
    let old = t.path().join(format!(".out.netc-old-{DEAD_PID}"));
    std::fs::rename(t.path().join("out"), &old).unwrap();
    let tree = read_tree(&old);
    for args in [
        &["diff", "intent.yaml", "-o", "out"][..],
        &["build", "intent.yaml", "-o", "out", "--check"],
    ] {
        let r = run_in(t.path(), args, None);
        assert!(!t.path().join("out").exists(), "{args:?} created DIR");
        assert_eq!(read_tree(&old), tree, "{args:?} moved the old tree");
        assert!(
            r.stderr.contains(&format!(".out.netc-old-{DEAD_PID}")),
            "{args:?} says what it found: {}",
            r.text()
        );
    }
    // With DIR present, a leftover old tree and staging directory are not deleted either.
    let t = scratch(true);
    let old = t.path().join(format!(".out.netc-old-{DEAD_PID}"));
    let tmp = t.path().join(format!(".out.netc-tmp-{DEAD_PID}"));
    std::fs::create_dir(&old).unwrap();
    std::fs::write(old.join("a"), "a\n").unwrap();
    std::fs::create_dir(&tmp).unwrap();
    let r = run_in(t.path(), &["diff", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(0), "{}", r.text());
    let r = run_in(
        t.path(),
        &["build", "intent.yaml", "-o", "out", "--check"],
        None,
    );
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(old.join("a").exists() && tmp.is_dir());
    // build cleans them.
    let r = run_in(t.path(), &["build", "intent.yaml", "-o", "out"], None);
    assert_eq!(r.code, Some(0), "{}", r.text());
    assert!(!old.exists() && !tmp.exists());
}

#[test]
fn a_corrupt_state_file_is_an_io_error() {
    let t = scratch(false);
    let state = t.path().join("state");
    std::fs::create_dir(&state).unwrap();
    std::fs::write(state.join("state.json"), "{ not json").unwrap();
    let root = t.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let r = run_in(
        t.path(),
        &[
            "apply",
            "intent.yaml",
            "--node",
            "worker-1",
            "--dry-run",
            "--root",
            &root.display().to_string(),
            "--state-dir",
            &state.display().to_string(),
            // Not the machine's /run/netc.
            "--lock-dir",
            &t.path().join("run").display().to_string(),
        ],
        None,
    );
    assert_eq!(r.code, Some(2), "{}", r.text());
    assert!(r.stderr.contains("state.json"), "{}", r.text());
}
