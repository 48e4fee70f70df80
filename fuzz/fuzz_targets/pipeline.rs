//! The whole pipeline: arbitrary text through both front-ends, lowering and validation, and,
//! for every intent `check` accepts, every emitter. `build` must not fail on an intent that
//! `check` passed (everything that reaches a file is validated first), and every file name it
//! emits must be one a file system takes: relative, no empty, `.` or `..` component, each
//! component at most 255 bytes.

#![no_main]

#[path = "common.rs"]
mod common;

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use netc::emit::{self, Context};
use netc::intent::Syntax;

fuzz_target!(|data: &[u8]| {
    let Some(text) = common::text(data) else {
        return;
    };
    for syntax in [Syntax::Yaml, Syntax::Kdl] {
        let (src, checked) = common::check(text, syntax);
        let Some(plan) = checked.valid_plan() else {
            continue;
        };
        let mut files = BTreeMap::new();
        if let Err(e) = emit::emit_all(Context::new(plan, &src.name), &mut files) {
            panic!("{syntax:?}: check passed but build failed: {e}");
        }
        for path in files.keys() {
            assert!(!path.starts_with('/'), "absolute path {path:?}");
            for part in path.split('/') {
                assert!(
                    !part.is_empty() && part != "." && part != ".." && part.len() <= 255,
                    "{syntax:?}: bad file name component {part:?} in {path:?}"
                );
            }
        }
    }
});
