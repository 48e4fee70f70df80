//! What the build tests share: running the pipeline in memory, reading directory trees.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use netc::diagnostic::SourceFile;
use netc::emit::{self, Context};
use netc::intent::Syntax;
use netc::pipeline;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn netc() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netc"))
}

/// Every artifact of an intent, in memory. `name` is the intent's name as given to netc.
pub fn emit_text(name: &str, text: &str) -> BTreeMap<String, Vec<u8>> {
    let src = SourceFile::new(name, text);
    let checked = pipeline::check(&src, Syntax::from_path(name));
    let Some(plan) = checked.valid_plan() else {
        panic!("{name} has errors: {:?}", checked.diagnostics);
    };
    let mut files = BTreeMap::new();
    emit::emit_all(Context::new(plan, name), &mut files).expect("emit");
    files
}

/// Every artifact of an intent file under the repository root (`tests/fixtures/intents/x.yaml`).
pub fn emit_file(rel: &str) -> BTreeMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(repo().join(rel)).expect("read intent");
    emit_text(rel, &text)
}

/// The intent files the build tests cover: every example and every test fixture intent.
pub fn all_intents() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["examples", "tests/fixtures/intents"] {
        let Ok(entries) = std::fs::read_dir(repo().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".yaml") {
                out.push(format!("{dir}/{name}"));
            }
        }
    }
    out.sort();
    out
}

/// Every file under `root` (relative `/` paths → contents).
pub fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

// A test file may use two helper modules, each including this one.
#[allow(clippy::duplicate_mod)]
#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)] // not every test file uses it
pub use common::{have, skip_netns};
