//! `netc build`, `--check` and `netc diff` as a user runs them: determinism, drift detection,
//! ownership of files (stale own files removed, foreign files kept), atomicity under `kill -9`.

mod build_common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use build_common::{netc, read_tree, repo};

const EXAMPLE: &str = "examples/kubeadm-flannel.yaml";

fn run(args: &[&str], cwd: &Path) -> Output {
    netc()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run netc")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A scratch directory holding a copy of the example (so the header names `intent.yaml`).
fn scratch() -> (tempfile::TempDir, std::path::PathBuf) {
    let t = tempfile::tempdir().expect("tempdir");
    let intent = t.path().join("intent.yaml");
    std::fs::copy(repo().join(EXAMPLE), &intent).expect("copy example");
    (t, intent)
}

#[test]
fn build_is_deterministic_and_check_is_clean_after_it() {
    let (t, _) = scratch();
    let o = run(&["build", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let first = read_tree(&t.path().join("out"));
    assert!(first.contains_key("kubeadm/init.yaml"));
    assert!(first.contains_key(".netc-manifest.json"));
    let o = run(&["build", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 0);
    assert_eq!(
        first,
        read_tree(&t.path().join("out")),
        "second build differs"
    );

    let o = run(&["build", "intent.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 0, "{}{}", text(&o.stdout), text(&o.stderr));
    assert!(o.stdout.is_empty());
    let o = run(&["diff", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 0);
    assert!(o.stdout.is_empty());
}

#[test]
fn check_reports_a_hand_edit_and_a_missing_file_with_a_diff() {
    let (t, _) = scratch();
    assert_eq!(
        code(&run(&["build", "intent.yaml", "-o", "out"], t.path())),
        0
    );
    let init = t.path().join("out/kubeadm/init.yaml");
    let edited = std::fs::read_to_string(&init)
        .unwrap()
        .replace("podSubnet: 10.244.0.0/16", "podSubnet: 10.99.0.0/16");
    std::fs::write(&init, edited).unwrap();
    let before = read_tree(&t.path().join("out"));

    let o = run(&["build", "intent.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 1);
    let diff = text(&o.stdout);
    assert!(diff.contains("--- a/kubeadm/init.yaml"), "{diff}");
    assert!(diff.contains("+++ b/kubeadm/init.yaml"), "{diff}");
    assert!(diff.contains("-  podSubnet: 10.99.0.0/16"), "{diff}");
    assert!(diff.contains("+  podSubnet: 10.244.0.0/16"), "{diff}");
    assert!(!diff.contains('\x1b'), "no colour when not a terminal");
    assert_eq!(before, read_tree(&t.path().join("out")), "--check wrote");

    // `netc diff` shows the same and exits 0.
    let o = run(&["diff", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 0);
    assert_eq!(text(&o.stdout), diff);
    // With --exit-code (issue 16 item 8), differences are exit 1, as `git diff --exit-code`.
    let o = run(
        &["diff", "intent.yaml", "-o", "out", "--exit-code"],
        t.path(),
    );
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert_eq!(text(&o.stdout), diff);

    std::fs::remove_file(t.path().join("out/kubeadm/join-worker-1.yaml")).unwrap();
    let o = run(&["build", "intent.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 1);
    assert!(text(&o.stdout).contains("--- /dev/null\n+++ b/kubeadm/join-worker-1.yaml"));

    // A build repairs both.
    assert_eq!(
        code(&run(&["build", "intent.yaml", "-o", "out"], t.path())),
        0
    );
    let o = run(&["build", "intent.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 0);
    let o = run(
        &["diff", "intent.yaml", "-o", "out", "--exit-code"],
        t.path(),
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
}

#[test]
fn stale_own_files_are_removed_and_foreign_files_kept() {
    let (t, intent) = scratch();
    assert_eq!(
        code(&run(&["build", "intent.yaml", "-o", "out"], t.path())),
        0
    );
    let out = t.path().join("out");
    std::fs::write(out.join("NOTES.md"), "mine\n").unwrap();
    std::fs::write(out.join("kubeadm/local-patch.yaml"), "mine too\n").unwrap();
    std::fs::create_dir_all(out.join("empty-dir")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("NOTES.md", out.join("link")).unwrap();

    // Drop worker-2 from the intent: its files are netc's own and must go.
    let text_in = std::fs::read_to_string(&intent).unwrap();
    let without: String = text_in
        .lines()
        .filter(|l| !l.contains("worker-2"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&intent, without).unwrap();

    let o = run(&["build", "intent.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 1);
    assert!(text(&o.stdout).contains("--- a/kubeadm/join-worker-2.yaml\n+++ /dev/null"));

    let o = run(&["build", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!out.join("kubeadm/join-worker-2.yaml").exists());
    assert!(!out.join("cloud-init/worker-2.yaml").exists());
    assert!(out.join("kubeadm/join-worker-1.yaml").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("NOTES.md")).unwrap(),
        "mine\n"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("kubeadm/local-patch.yaml")).unwrap(),
        "mine too\n"
    );
    assert!(out.join("empty-dir").is_dir());
    #[cfg(unix)]
    assert_eq!(
        std::fs::read_link(out.join("link")).unwrap(),
        Path::new("NOTES.md")
    );
    let manifest = std::fs::read_to_string(out.join(".netc-manifest.json")).unwrap();
    assert!(!manifest.contains("NOTES.md") && !manifest.contains("worker-2"));
    // Foreign files do not make --check fail.
    let o = run(&["build", "intent.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
}

#[test]
fn a_foreign_file_where_netc_would_write_is_never_overwritten() {
    let (t, _) = scratch();
    let out = t.path().join("out");
    std::fs::create_dir_all(out.join("kubeadm")).unwrap();
    std::fs::write(out.join("kubeadm/init.yaml"), "hand-written\n").unwrap();
    let o = run(&["build", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 2);
    assert!(
        text(&o.stderr).contains("netc did not write it"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("kubeadm/init.yaml")).unwrap(),
        "hand-written\n"
    );
    assert!(!out.join(".netc-manifest.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".netc-"))
        .collect();
    assert!(leftovers.is_empty(), "staging directory left behind");
}

#[test]
fn an_intent_with_errors_writes_nothing() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(
        t.path().join("bad.yaml"),
        "apiVersion: netc/v1alpha1\nkind: [\n",
    )
    .unwrap();
    let o = run(&["build", "bad.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 1);
    assert!(!t.path().join("out").exists());
    let o = run(&["build", "bad.yaml", "-o", "out", "--check"], t.path());
    assert_eq!(code(&o), 1);
}

#[test]
fn rke2_intent_writes_no_kubeadm_files() {
    let files = build_common::emit_file("tests/fixtures/intents/rke2-canal.yaml");
    assert!(files.keys().all(|p| !p.starts_with("kubeadm/")));
    assert!(files.contains_key("rke2/cp-1/config.yaml"));
    assert!(files.contains_key("rke2/manifests/rke2-canal-config.yaml"));
    let k3s = build_common::emit_file("tests/fixtures/intents/k3s-flannel.yaml");
    assert!(
        k3s.keys()
            .all(|p| !p.starts_with("kubeadm/") && !p.starts_with("rke2/"))
    );
}

#[test]
fn kill_9_during_a_build_leaves_the_old_directory_intact() {
    let (t, intent) = scratch();
    assert_eq!(
        code(&run(&["build", "intent.yaml", "-o", "out"], t.path())),
        0
    );
    let before = read_tree(&t.path().join("out"));
    // A different intent, so a completed build would change the directory.
    let changed = std::fs::read_to_string(&intent)
        .unwrap()
        .replace("10.244.0.0/16", "10.200.0.0/16");
    std::fs::write(&intent, changed).unwrap();

    let mut child = netc()
        .args(["build", "intent.yaml", "-o", "out"])
        .current_dir(t.path())
        .env(netc::output::SLOW_WRITE_ENV, "150")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(400));
    child.kill().expect("kill -9");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the build finished before it was killed");
    assert_eq!(before, read_tree(&t.path().join("out")), "old DIR changed");
    assert!(
        std::fs::read_dir(t.path()).unwrap().flatten().any(|e| e
            .file_name()
            .to_string_lossy()
            .starts_with(".out.netc-tmp-")),
        "expected the killed build's staging directory"
    );

    // The next build cleans the leftover and completes.
    let o = run(&["build", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let leftovers = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".netc-"))
        .count();
    assert_eq!(leftovers, 0);
    let init = std::fs::read_to_string(t.path().join("out/kubeadm/init.yaml")).unwrap();
    assert!(init.contains("podSubnet: 10.200.0.0/16"));
}

/// `netc build ARGS` inside a pseudo-terminal (util-linux `script`), every progress update
/// drawn; returns what the terminal showed.
fn build_on_a_terminal(cwd: &Path, extra: &str) -> Option<String> {
    if !build_common::have("script") {
        eprintln!("script (bsdutils) is not installed: skipping");
        return None;
    }
    let bin = env!("CARGO_BIN_EXE_netc");
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("'{bin}' build intent.yaml -o out {extra}"),
            "/dev/null",
        ])
        .env("NETC_PROGRESS_INTERVAL_MS", "0")
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("script");
    assert!(out.status.success(), "{}", text(&out.stderr));
    Some(text(&out.stdout))
}

#[test]
fn build_shows_progress_on_a_terminal_only() {
    let (t, _) = scratch();
    let Some(shown) = build_on_a_terminal(t.path(), "") else {
        return;
    };
    let files = read_tree(&t.path().join("out")).len() - 1; // without the manifest
    assert!(shown.contains("\r\x1b[Knetc: 1 files written"), "{shown:?}");
    assert!(
        shown.contains(&format!("netc: {files} files written")),
        "no count of all {files} files: {shown:?}"
    );
    // The line is erased before the summary.
    assert!(
        shown.contains(&format!("\r\x1b[Knetc: wrote {files} file(s)")),
        "{shown:?}"
    );
    // -q: nothing but findings, on a terminal too.
    let quiet = build_on_a_terminal(t.path(), "-q").unwrap_or_default();
    assert!(!quiet.contains("files written"), "{quiet:?}");
    // Not a terminal: no progress, no control characters.
    let piped = run(&["build", "intent.yaml", "-o", "out"], t.path());
    assert_eq!(code(&piped), 0);
    let err = text(&piped.stderr);
    assert!(
        !err.contains('\r') && !err.contains("files written"),
        "{err:?}"
    );
}
