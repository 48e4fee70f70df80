//! `netc apply`'s progress, in namespaces of the `lab`: on a terminal (a pseudo-terminal from
//! util-linux `script`, as `tests/build_cli.rs` does for `build`) every step is announced as
//! `[i/N] step`, `1` to `N` in plan order; with output piped, and with `-q` on a terminal, no
//! step line appears. Each case applies to a fresh node (its own namespace, root and state),
//! so each has a plan to carry out.
//!
//! Needs root (CI runs as root); fails loudly without it unless `NETC_SKIP_NETNS=1`.

mod lab;
use lab::intent::LabIntent;
use lab::{Lab, ok, text};

use std::path::Path;
use std::process::{Command, Stdio};

mod build_common;

const NODES: &[(&str, &str)] = &[
    ("n1", "172.16.0.3/24"),
    ("n2", "172.16.0.4/24"),
    ("n3", "172.16.0.5/24"),
];

/// Bridge CNI (files, routes to the other nodes' pod subnets, sysctls) and an nftables
/// firewall: a plan of several kinds of step.
fn intent() -> String {
    LabIntent::new()
        .set("/metadata/name", "progress")
        .worker("worker-3", "172.16.0.5/24")
        .set(
            "/firewall",
            serde_json::json!({"backend": "nftables", "managementAccess": ["tcp/22"]}),
        )
        .yaml()
}

/// `arg` as one single-quoted shell word.
fn sh_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// `cmd` run inside a pseudo-terminal (`script -qec CMD /dev/null`): what the terminal showed,
/// lines without the terminal's `\r`. `None` without `script`.
fn on_a_terminal(cmd: &Command) -> Option<String> {
    if !build_common::have("script") {
        eprintln!("script (util-linux) is not installed: skipping");
        return None;
    }
    let line = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| sh_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("NETC_FAULT_AT_STEP")
        .stdin(Stdio::null())
        .output()
        .expect("script");
    let shown = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    assert!(
        out.status.success(),
        "netc apply failed on the terminal:\n{shown}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(shown)
}

/// The steps of the plan netc printed (`plan: N step(s)` then `  i. step` lines).
fn plan_steps(shown: &str) -> Vec<String> {
    let mut lines = shown.lines().skip_while(|l| !l.starts_with("plan: "));
    let Some(head) = lines.next() else {
        return Vec::new();
    };
    let n: usize = head
        .trim_start_matches("plan: ")
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a plan line: {head}"));
    let steps: Vec<String> = lines
        .take(n)
        .map(|l| {
            let (_, step) = l.trim_start().split_once(". ").expect("numbered step");
            step.to_owned()
        })
        .collect();
    assert_eq!(steps.len(), n, "{shown}");
    steps
}

/// The `[i/N] step` lines.
fn step_lines(shown: &str) -> Vec<&str> {
    shown
        .lines()
        .filter(|l| {
            l.strip_prefix('[')
                .and_then(|r| r.split_once("] "))
                .is_some_and(|(count, _)| {
                    count.split_once('/').is_some_and(|(i, n)| {
                        i.parse::<usize>().is_ok() && n.parse::<usize>().is_ok()
                    })
                })
        })
        .collect()
}

/// What a dry run of `node` on `short` plans now.
fn planned(lab: &Lab, short: &str, file: &Path, node: &str) -> Vec<String> {
    plan_steps(&ok(lab.apply(short, file, node, &["--dry-run"], &[])))
}

#[test]
fn apply_counts_steps_on_a_terminal_only() {
    let Some(lab) = Lab::new(NODES) else {
        return;
    };
    let file = lab.file("intent.yaml", &intent());

    // A terminal: `[1/N]` to `[N/N]`, each with its step, in plan order.
    let state = lab.path("n1", "state");
    let cmd = lab.apply_command("n1", &file, "worker-1", &state, &[], &[]);
    let Some(shown) = on_a_terminal(&cmd) else {
        return;
    };
    let steps = plan_steps(&shown);
    let n = steps.len();
    assert!(n >= 3, "a plan of several steps: {shown}");
    let expected: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("[{}/{n}] {s}", i + 1))
        .collect();
    assert_eq!(step_lines(&shown), expected, "{shown}");
    assert!(shown.contains(&format!("worker-1: applied {n} change(s), verified")));

    // Output piped: the plan and the result, no step lines.
    let before = planned(&lab, "n2", &file, "worker-2");
    assert!(!before.is_empty());
    let piped = lab.apply("n2", &file, "worker-2", &[], &[]);
    let out = ok(piped);
    assert_eq!(plan_steps(&out).len(), before.len(), "{out}");
    assert!(step_lines(&out).is_empty(), "step lines in a pipe:\n{out}");
    assert!(!out.contains('\r') && !out.contains('\x1b'), "{out:?}");

    // -q on a terminal: nothing at all, yet every step ran.
    assert!(!planned(&lab, "n3", &file, "worker-3").is_empty());
    let state = lab.path("n3", "state");
    let cmd = lab.apply_command("n3", &file, "worker-3", &state, &["-q"], &[]);
    let quiet = on_a_terminal(&cmd).unwrap_or_default();
    assert!(
        step_lines(&quiet).is_empty(),
        "step lines with -q:\n{quiet}"
    );
    assert!(quiet.trim().is_empty(), "-q prints nothing: {quiet:?}");
    assert!(
        planned(&lab, "n3", &file, "worker-3").is_empty(),
        "the quiet apply left work undone:\n{}",
        text(&lab.apply("n3", &file, "worker-3", &["--dry-run"], &[]))
    );
}
