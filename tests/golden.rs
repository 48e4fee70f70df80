//! Golden outputs: `golden/<example>/` is the full `netc build` of `examples/<example>.yaml`
//! (including `.netc-manifest.json`), compared byte for byte, file set included.
//!
//! Regenerate after an intended change, then review the diff like code:
//!
//! ```text
//! NETC_UPDATE_GOLDEN=1 cargo test --test golden
//! git diff golden/
//! ```

mod build_common;

use std::collections::BTreeMap;
use std::path::Path;

use build_common::{read_tree, repo};
use netc::diagnostic::SourceFile;
use netc::emit::{self, Context};
use netc::intent::Syntax;
use netc::output;
use netc::pipeline;
use similar::TextDiff;

/// Builds `rel` (an intent path relative to the repository root) into `out` as `netc build`
/// run from the repository root would.
fn build(rel: &str, out: &Path) {
    let text = std::fs::read_to_string(repo().join(rel)).expect("read example");
    let src = SourceFile::new(rel, text);
    let checked = pipeline::check(&src, Syntax::from_path(rel));
    let Some(plan) = checked.valid_plan() else {
        panic!("{rel} has errors: {:?}", checked.diagnostics);
    };
    let ctx = Context::new(plan, rel);
    output::build(out, rel, |sink| emit::emit_all(ctx, sink)).expect("build");
}

fn describe(want: &BTreeMap<String, Vec<u8>>, got: &BTreeMap<String, Vec<u8>>) -> String {
    let mut report = String::new();
    let empty = Vec::new();
    for path in want
        .keys()
        .chain(got.keys().filter(|k| !want.contains_key(*k)))
    {
        let w = want.get(path).unwrap_or(&empty);
        let g = got.get(path).unwrap_or(&empty);
        if w == g && want.contains_key(path) == got.contains_key(path) {
            continue;
        }
        let w = String::from_utf8_lossy(w);
        let g = String::from_utf8_lossy(g);
        let diff = TextDiff::from_lines(w.as_ref(), g.as_ref());
        report.push_str(
            &diff
                .unified_diff()
                .header(&format!("golden/{path}"), &format!("build/{path}"))
                .to_string(),
        );
    }
    report
}

#[test]
fn examples_match_their_goldens() {
    let update = std::env::var_os("NETC_UPDATE_GOLDEN").is_some_and(|v| !v.is_empty());
    let mut examples: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    examples.sort();
    assert!(!examples.is_empty(), "no examples/*.yaml");
    let mut failures = Vec::new();
    for name in &examples {
        let stem = name.trim_end_matches(".yaml");
        let rel = format!("examples/{name}");
        let golden = repo().join("golden").join(stem);
        if update {
            build(&rel, &golden);
            continue;
        }
        let tmp = tempfile::tempdir().expect("tempdir");
        let out = tmp.path().join("out");
        build(&rel, &out);
        let want = read_tree(&golden);
        let got = read_tree(&out);
        if want != got {
            failures.push(format!(
                "{rel} differs from golden/{stem}/:\n{}",
                describe(&want, &got)
            ));
        }
    }
    // A golden without its example is stale.
    if let Ok(entries) = std::fs::read_dir(repo().join("golden")) {
        for e in entries.flatten() {
            let stem = e.file_name().to_string_lossy().into_owned();
            if !examples.contains(&format!("{stem}.yaml")) {
                if update {
                    std::fs::remove_dir_all(e.path()).expect("remove stale golden");
                } else {
                    failures.push(format!("golden/{stem}/ has no examples/{stem}.yaml"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\nIf the change is intended: NETC_UPDATE_GOLDEN=1 cargo test --test golden, then review git diff golden/",
        failures.join("\n")
    );
}
