//! What netc writes to its output streams, whatever they are.
//!
//! Issue 17 item 13: a closed stdout or stderr (`netc check f | head`) is a quiet end, as
//! coreutils have it (SIGPIPE's default action), never a panic; `apply`, which changes the
//! host, ignores the closed pipe and finishes: its changes are recorded, its exit code kept.
//! Item 19: file names in the build summary and in I/O errors are escaped as in diagnostics.

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

fn netc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netc"))
}

fn repo(rel: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(rel)
        .display()
        .to_string()
}

/// The write end of a pipe whose read end is already closed: every write fails (EPIPE).
fn closed_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 returns.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: both descriptors were just created and are owned here alone.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

enum Closed {
    Stdout,
    Stderr,
}

/// Runs netc with one stream closed; returns the status and what the other stream got.
fn run(args: &[&str], closed: Closed) -> (std::process::ExitStatus, String) {
    let mut cmd = netc();
    cmd.args(args).stdin(Stdio::null()).env("NO_COLOR", "1");
    match closed {
        Closed::Stdout => cmd.stdout(closed_pipe()).stderr(Stdio::piped()),
        Closed::Stderr => cmd.stderr(closed_pipe()).stdout(Stdio::piped()),
    };
    let out = cmd.output().expect("netc runs");
    let other = match closed {
        Closed::Stdout => out.stderr,
        Closed::Stderr => out.stdout,
    };
    (out.status, String::from_utf8_lossy(&other).into_owned())
}

/// An intent with many findings: more output than a pipe buffer holds.
fn noisy() -> tempfile::NamedTempFile {
    let mut text = std::fs::read_to_string(repo("tests/invalid/base.yaml")).expect("base");
    text.push_str("  rules:\n");
    for i in 0..2000 {
        text.push_str(&format!("    - {{name: Bad_{i}, ports: [tcp/9100]}}\n"));
    }
    let f = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp");
    std::fs::write(f.path(), text).expect("write");
    f
}

fn quiet_end(what: &str, status: std::process::ExitStatus, other: &str) {
    assert!(!other.contains("panicked"), "{what}: {other}");
    assert_ne!(status.code(), Some(101), "{what}: a panic ({status})");
    assert!(
        status.signal() == Some(libc::SIGPIPE) || status.code().is_some_and(|c| c <= 2),
        "{what}: {status}: {other}"
    );
}

#[test]
fn read_only_commands_end_quietly_on_a_closed_pipe() {
    let f = noisy();
    let path = f.path().display().to_string();
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().join("out").display().to_string();
    let example = repo("examples/kubeadm-flannel.yaml");
    let cases: Vec<(Vec<&str>, Closed)> = vec![
        (vec!["check", "--format", "json", &path], Closed::Stdout),
        (vec!["check", &path], Closed::Stderr),
        (vec!["diff", &example, "--out", &out_dir], Closed::Stdout),
        (
            vec!["build", "--check", &example, "--out", &out_dir],
            Closed::Stdout,
        ),
        (vec!["schema"], Closed::Stdout),
        (vec!["diff", &path, "--out", &out_dir], Closed::Stderr),
    ];
    for (args, closed) in cases {
        let (status, other) = run(&args, closed);
        let what = args.join(" ");
        quiet_end(&what, status, &other);
        // Ended by the pipe, as `yes | head` is: SIGPIPE, not an error message.
        assert_eq!(
            status.signal(),
            Some(libc::SIGPIPE),
            "{what}: {status}: {other}"
        );
    }
}

#[test]
fn apply_with_a_closed_output_keeps_its_exit_code() {
    let f = noisy();
    let path = f.path().display().to_string();
    let state = tempfile::tempdir().expect("tempdir");
    let state_dir = state.path().display().to_string();
    // An intent with errors: nothing applied, exit 1 whatever happened to stderr.
    for dry_run in [true, false] {
        let mut args = vec!["apply", &path, "--node", "cp-1", "--state-dir", &state_dir];
        if dry_run {
            args.push("--dry-run");
        }
        let (status, other) = run(&args, Closed::Stderr);
        quiet_end(&args.join(" "), status, &other);
        if dry_run {
            assert!(
                status.signal() == Some(libc::SIGPIPE) || status.code() == Some(1),
                "{status}"
            );
        } else {
            // A changing apply never dies of the pipe: it reports its own exit code.
            assert_eq!(status.code(), Some(1), "{status}: {other}");
        }
    }
}

#[test]
fn file_names_in_the_summary_and_io_errors_are_escaped() {
    let t = tempfile::tempdir().expect("tempdir");
    let example = repo("examples/kubeadm-flannel.yaml");
    let out = t.path().join("out\u{1b}[2Jx");
    let out_arg = out.display().to_string();
    let r = netc()
        .args(["build", &example, "--out", &out_arg])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "raw escape: {stderr:?}");
    assert!(stderr.contains("out\\u{1b}[2Jx"), "{stderr:?}");
    // An I/O error naming the path: DIR below a regular file.
    let file = t.path().join("f\u{1b}]0;title\u{7}");
    std::fs::write(&file, "x").expect("write");
    let below = file.join("out").display().to_string();
    let r = netc()
        .args(["build", &example, "--out", &below])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{7}'),
        "raw controls: {stderr:?}"
    );
    assert!(stderr.contains("\\u{1b}"), "{stderr:?}");
}
