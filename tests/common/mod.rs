//! What every test-support module shares: whether a program is installed, whether the
//! namespace tests were told to skip, running a command with input, the one network-namespace
//! primitive ([`netns`]) and text gzip cannot shrink. Included by `tests/build_common`,
//! `tests/consumers/support.rs`, `tests/lab` and `tests/diagnostics.rs` (`#[path]`); the helper
//! modules re-export it, so each test file keeps the helper module it uses.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

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

/// Runs `cmd` with `stdin` as its input (none: `/dev/null`), capturing stdout and stderr. A
/// program that cannot be started fails the test, naming it.
pub fn output_with_input(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    let what = format!("{:?}", cmd.get_program());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e} (see .ci/run for what to install)"));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input)
            .unwrap_or_else(|e| panic!("{what}: stdin: {e}"));
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}

/// `lines` comment lines of 76 pseudo-random base64 characters (xorshift64, 6 bits each: gzip
/// cannot get them below three quarters of their size), to make an intent large compressed.
pub fn incompressible_comments(lines: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut out = String::with_capacity(lines * 79);
    for _ in 0..lines {
        out.push_str("# ");
        for _ in 0..76 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push(char::from(ALPHABET[(x % 64) as usize]));
        }
        out.push('\n');
    }
    out
}

/// Every `.yaml`/`.yml` file under `dir`, depth first in name order, appended to `out`.
pub fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            yaml_files(&e, out);
        } else if e.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(e);
        }
    }
}
