//! The agent's records read back from hostile bytes (issue 17, fuzz acceptance): what the
//! `records` fuzz target does for minutes, done here for a few thousand mutated inputs on
//! every `cargo test`. `status.json`, `state.json`, `pending.json` and `desired.json` go
//! through the readers apply and `netc status` use; none may panic, and each input is read
//! within a bound (no hang on any content).

use std::path::Path;
use std::time::{Duration, Instant};

use netc::apply::status;
use netc::apply::store::{cache, pending, state};

const SEEDS: &[&[u8]] = &[
    include_bytes!("../fuzz/seeds/records/status.json"),
    include_bytes!("../fuzz/seeds/records/state.json"),
    include_bytes!("../fuzz/seeds/records/desired.json"),
    b"",
    b"null",
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"{\"version\": 99}",
    b"{\"version\": 2, \"node\": \"other\"}",
    b"\xff\xfe\x00{",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A seed with a few bytes replaced, inserted or removed.
fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(3) {
            0 if at < v.len() => v[at] = rng.next() as u8,
            1 => {
                let alphabet = b"{}[]\",:0-e9\\u\xff";
                v.insert(at, alphabet[rng.below(alphabet.len())]);
            }
            _ if at < v.len() => {
                v.remove(at);
            }
            _ => v.push(rng.next() as u8),
        }
    }
    v
}

#[test]
fn mutated_records_never_panic_or_hang() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let key = cache::Key::new(b"intent", "intent.yaml", "node-1", Path::new("/"));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut slowest = Duration::ZERO;
    for i in 0..3000 {
        let seed = SEEDS[i % SEEDS.len()];
        let data = mutate(&mut rng, seed);
        for name in ["status.json", "state.json", "pending.json", "desired.json"] {
            std::fs::write(dir.join(name), &data).expect("write");
        }
        let t = Instant::now();
        let _ = status::parse(&data);
        let _ = status::load(dir);
        if let Ok(owned) = state::load(dir, "node-1") {
            state::store(dir, &owned).expect("a record that loads is written back");
        }
        let _ = pending::load(dir);
        let _ = cache::load(dir, &[7; 32], &key);
        slowest = slowest.max(t.elapsed());
    }
    assert!(
        slowest < Duration::from_secs(2),
        "one input took {slowest:?}"
    );
}

/// A FIFO (or a device) in place of any record is refused at once: the agent and the probe
/// never block on it.
#[test]
fn fifos_in_place_of_records_do_not_block() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    for name in ["status.json", "state.json", "pending.json", "desired.json"] {
        let c = std::ffi::CString::new(path.join(name).to_str().expect("utf-8")).expect("no NUL");
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "{name}");
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let key = cache::Key::new(b"intent", "intent.yaml", "node-1", Path::new("/"));
        let results = [
            status::load(&path).is_err(),
            state::load(&path, "node-1").is_err(),
            pending::load(&path).is_err(),
            cache::load(&path, &[7; 32], &key).is_none(),
        ];
        let _ = tx.send(results);
    });
    let results = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a reader blocked on a FIFO");
    assert_eq!(results, [true; 4]);
}
