//! Gives the binary `NETC_BUILD_ID`: a hash of the sources it is compiled from (`src/`,
//! `templates/`, `Cargo.toml`, `Cargo.lock`, this file), so that `apply::cache` never serves a
//! desired state derived by another build of netc, even one with the same version number.

use std::hash::{DefaultHasher, Hasher};
use std::path::Path;

const INPUTS: [&str; 5] = ["src", "templates", "Cargo.toml", "Cargo.lock", "build.rs"];

fn hash(path: &Path, h: &mut DefaultHasher) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            hash(&e, h);
        }
    } else if let Ok(bytes) = std::fs::read(path) {
        h.write(path.to_string_lossy().as_bytes());
        h.write_usize(bytes.len());
        h.write(&bytes);
    }
}

fn main() {
    let mut h = DefaultHasher::new();
    for input in INPUTS {
        println!("cargo:rerun-if-changed={input}");
        hash(Path::new(input), &mut h);
    }
    println!("cargo:rustc-env=NETC_BUILD_ID={:016x}", h.finish());
}
