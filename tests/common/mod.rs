//! What every test-support module shares: whether a program is installed, whether the
//! namespace tests were told to skip, and the one network-namespace primitive ([`netns`]).
//! Included by `tests/build_common`, `tests/consumers/support.rs` and `tests/lab` (`#[path]`),
//! which re-export it, so each test file keeps the helper module it uses.

#![allow(dead_code)]

use std::path::Path;

pub mod netns;

/// Whether a program is installed (on PATH, or at an absolute path).
pub fn have(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Whether the namespace tests were told to skip (`NETC_SKIP_NETNS=1`).
pub fn skip_netns() -> bool {
    std::env::var("NETC_SKIP_NETNS").is_ok_and(|v| v == "1")
}
