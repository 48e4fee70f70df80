//! Shared by the `consumers_*` tests: building intents, running programs, and network
//! namespaces that are deleted on every exit path.
//!
//! Host tests only ever touch namespaces they create (`common::netns`): never the root
//! namespace's links, routes, sysctls or firewall. When namespaces cannot be created they
//! fail, unless `NETC_SKIP_NETNS=1` says to skip them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use netc::diagnostic::SourceFile;
use netc::emit::{Context, emit_all};
use netc::intent::Syntax;
use netc::pipeline;
use netc::plan::Plan;

/// Every artifact of one intent: path → contents.
pub type Artifacts = BTreeMap<String, Vec<u8>>;

/// Checks and builds an intent given inline; panics with the diagnostics when it has errors.
pub fn build(name: &str, yaml: &str) -> (Plan, Artifacts) {
    let src = SourceFile::new(name, yaml);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{d:?}"))
        .collect();
    assert!(
        errors.is_empty(),
        "{name} has errors:\n{}",
        errors.join("\n")
    );
    let plan = checked
        .valid_plan()
        .cloned()
        .unwrap_or_else(|| panic!("{name}: no plan"));
    let mut out = Artifacts::new();
    emit_all(Context::new(&plan, name), &mut out)
        .unwrap_or_else(|e| panic!("{name}: emit failed: {e}"));
    (plan, out)
}

/// Builds an intent even when validation rejects it: emitters must stay safe on any Plan.
pub fn build_unchecked(name: &str, yaml: &str) -> (Plan, Artifacts) {
    let src = SourceFile::new(name, yaml);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let plan = checked
        .plan
        .clone()
        .unwrap_or_else(|| panic!("{name} does not parse: {:?}", checked.diagnostics));
    let mut out = Artifacts::new();
    emit_all(Context::new(&plan, name), &mut out)
        .unwrap_or_else(|e| panic!("{name}: emit failed: {e}"));
    (plan, out)
}

/// Builds `examples/<file>` when it exists on this branch.
pub fn build_example(file: &str) -> Option<(Plan, Artifacts)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(file);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(build(&format!("examples/{file}"), &text))
}

/// Every example in `examples/` (YAML only; KDL twins build the same Plan).
pub fn all_examples() -> Vec<(String, Plan, Artifacts)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
        .into_iter()
        .filter_map(|n| {
            let (plan, art) = build_example(&n)?;
            Some((n, plan, art))
        })
        .collect()
}

/// The artifacts whose path matches `pred`.
pub fn select(art: &Artifacts, pred: impl Fn(&str) -> bool) -> Vec<(&str, &[u8])> {
    art.iter()
        .filter(|(p, _)| pred(p))
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Writes `art` under `dir` (tests hand files to real tools).
pub fn write_all(dir: &Path, art: &Artifacts) {
    for (path, bytes) in art {
        let full = dir.join(path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("mkdir {parent:?}: {e}"));
        }
        std::fs::write(&full, bytes).unwrap_or_else(|e| panic!("write {full:?}: {e}"));
    }
}

/// Runs a program, feeding `stdin`; returns its output (a missing program is a failure).
pub fn run(program: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_env(program, args, &[], stdin)
}

pub fn run_env(program: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args).envs(env.iter().copied());
    common::output_with_input(cmd, stdin)
}

/// Like [`run`], but a non-zero exit is a failure showing stdout and stderr.
pub fn run_ok(program: &str, args: &[&str]) -> String {
    let out = run(program, args, None);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

// A test file may use two helper modules, each including this one.
#[allow(clippy::duplicate_mod)]
#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)] // not every test file uses all of them
pub use common::netns::{Netns, veth};
#[allow(unused_imports)]
pub use common::{have, incompressible_comments, skip_netns};
