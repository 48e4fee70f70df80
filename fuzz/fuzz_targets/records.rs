//! Arbitrary bytes as the agent's records: `status.json` (`netc status`), `state.json` (the
//! ownership record), `pending.json` (a `--try`) and `desired.json` (the desired-state cache),
//! each read through the function apply and status read it with, from a real file (bounded,
//! regular files only). None may panic or hang, whatever the bytes; what they refuse is an
//! error, never a partial record.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use netc::apply::store::{cache, pending, state};
use netc::apply::{desired::Derived, record, status};

/// One state directory for the whole run: each input overwrites the same four files.
fn dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("a temporary state directory"))
        .path()
}

fuzz_target!(|data: &[u8]| {
    // In memory: the parsers alone.
    let _ = status::parse(data);
    let _ = state::parse_json::<record::Owned>(data);
    let _ = state::parse_json::<Derived>(data);
    // From files, through the readers apply and `netc status` use.
    let dir = dir();
    for name in ["status.json", "state.json", "pending.json", "desired.json"] {
        std::fs::write(dir.join(name), data).expect("write the record");
    }
    let _ = status::load(dir);
    if let Ok(owned) = state::load(dir, "node-1") {
        // A record that loads is one netc can write back.
        let _ = state::store(dir, &owned);
    }
    let _ = pending::load(dir);
    let key = cache::Key::new(b"intent", "intent.yaml", "node-1", Path::new("/"));
    let _ = cache::load(dir, &[7; 32], &key);
});
