//! Every bundled example passes `netc check` (exit 0, no errors), as a new user would run it.

use std::path::{Path, PathBuf};
use std::process::Command;

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "kdl"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_checks_clean() {
    let files = examples();
    assert!(
        files.len() >= 7,
        "expected the seven bundled examples, found {files:?}"
    );
    for file in files {
        let out = Command::new(env!("CARGO_BIN_EXE_netc"))
            .arg("check")
            .arg("--format")
            .arg("json")
            .arg(&file)
            .output()
            .expect("run netc");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{} does not pass netc check:\n{stdout}{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !stdout.contains("\"severity\":\"error\""),
            "{} has errors:\n{stdout}",
            file.display()
        );
    }
}

#[test]
fn all_examples_in_one_call_exit_zero() {
    let status = Command::new(env!("CARGO_BIN_EXE_netc"))
        .arg("check")
        .arg("-q")
        .args(examples())
        .status()
        .expect("run netc");
    assert_eq!(status.code(), Some(0));
}
