//! `netc man`: the manual pages render with the real `man -l` (man-db + groff), groff reports no
//! warning for them, and they carry every subcommand and its flags from the clap definitions.

#[path = "build_common/mod.rs"]
mod build_common;

use std::path::Path;
use std::process::Command;

use build_common::{have, netc};

/// `man -l FILE` rendered as plain text (no pager); panics on a groff warning or failure.
fn render(page: &Path) -> String {
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(page)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .env("LC_ALL", "C.UTF-8")
        .output()
        .expect("run man");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "man -l {} failed: {stderr}",
        page.display()
    );
    assert!(
        stderr.trim().is_empty(),
        "groff warns on {}: {stderr}",
        page.display()
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// scripts/install-test-deps.sh installs man-db and groff-base: their absence is a failure.
fn need_man() {
    assert!(
        have("man") && have("groff"),
        "man-db and groff are not installed: run scripts/install-test-deps.sh"
    );
}

#[test]
fn man_page_renders_with_man_l() {
    need_man();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = netc().arg("man").output().expect("run netc man");
    assert!(out.status.success());
    assert!(out.stdout.starts_with(b".ie"), "roff text");
    let page = dir.path().join("netc.1");
    std::fs::write(&page, &out.stdout).expect("write page");
    let text = render(&page);
    assert!(text.contains("NAME"), "{text}");
    for sub in [
        "check", "build", "diff", "apply", "explain", "status", "schema", "man",
    ] {
        assert!(
            text.contains(&format!("netc-{sub}(1)")),
            "netc.1 lists netc-{sub}(1):\n{text}"
        );
    }
}

#[test]
fn out_dir_writes_one_page_per_subcommand() {
    need_man();
    let dir = tempfile::tempdir().expect("tempdir");
    let pages = dir.path().join("man1");
    let st = netc()
        .args(["man", "--out-dir"])
        .arg(&pages)
        .status()
        .expect("run");
    assert!(st.success());
    let apply = render(&pages.join("netc-apply.1"));
    for flag in ["--dry-run", "--node", "--state-dir", "--try", "--watch"] {
        assert!(
            apply.contains(flag),
            "netc-apply.1 documents {flag}:\n{apply}"
        );
    }
    let check = render(&pages.join("netc-check.1"));
    assert!(check.contains("--format"), "{check}");
    assert!(pages.join("netc.1").is_file());
}
