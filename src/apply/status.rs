//! The agent's status record, `<state-dir>/status.json`: what the last pass of `netc apply
//! --watch` did. `netc status` reads it (no lock: the record is replaced by rename, so a reader
//! sees the old or the new one whole) and decides readiness from it and from probes run now.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::probe::{self, Target};
use super::{ApplyError, state};

const STATUS_FILE: &str = "status.json";
/// How far in the future a recorded pass may be (the record has whole seconds).
const FUTURE_SLACK: u64 = 1;

/// The generation of an intent: `sha256:` and the hex digest of the file's bytes, so every
/// node (and `netc status FILE`) names the same intent the same way.
pub fn generation(intent: &[u8]) -> String {
    let digest = Sha256::digest(intent);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// One agent pass, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub node: String,
    /// The intent the agent read last (it may have failed to apply).
    pub generation: String,
    /// The intent the host was last verified to match (`None`: none yet).
    pub applied_generation: Option<String>,
    /// Unix time at which the last pass ended.
    pub last_pass: u64,
    /// Seconds between passes (`netc status` calls a record older than three passes stale).
    pub interval_secs: u64,
    /// Whether the last pass ended with the host verified to match `applied_generation`.
    pub verified: bool,
    /// Corrections made since the agent started (drift of the intent already applied).
    pub drift_corrected: u64,
    /// What the last pass corrected (empty when it found nothing to do).
    #[serde(default)]
    pub last_corrections: Vec<String>,
    /// The connectivity targets that answered at the last pass that probed.
    #[serde(default)]
    pub probes: Vec<Target>,
    /// Why the intent `generation` is not applied (invalid intent, rolled back, ...).
    pub failure: Option<String>,
}

pub fn store(dir: &Path, status: &Status) -> Result<(), ApplyError> {
    state::store_json(dir, STATUS_FILE, status)
}

/// The largest status record `netc status` reads (a record is a few kilobytes; the probe must
/// answer fast whatever sits in its place).
const MAX_STATUS: u64 = 1 << 20;

/// Reads the record: bounded, regular files only (a FIFO or device in its place is refused
/// without blocking), see [`state::read_record`].
pub fn load(dir: &Path) -> Result<Option<Status>, ApplyError> {
    state::load_json_bounded(&dir.join(STATUS_FILE), MAX_STATUS)
}

/// A status record from its bytes, as [`load`] reads it.
pub fn parse(bytes: &[u8]) -> Result<Status, serde_json::Error> {
    state::parse_json(bytes)
}

/// A probe of `netc status`, run now.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeResult {
    pub target: String,
    pub reachable: bool,
}

/// The readiness verdict of `netc status`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub node: String,
    pub ready: bool,
    /// Why it is not ready (empty when ready).
    pub reasons: Vec<String>,
    pub generation: Option<String>,
    pub applied_generation: Option<String>,
    pub last_pass: Option<u64>,
    pub verified: bool,
    pub drift_corrected: u64,
    pub failure: Option<String>,
    pub probes: Vec<ProbeResult>,
}

/// Whether `node` is ready: the record exists and is `node`'s, is fresh (at most three
/// intervals and ten seconds old), its last pass verified the host against the intent
/// `expected` (the FILE given to `netc status`; without one, the intent the agent read last),
/// and every probe target it recorded answers now.
pub fn readiness(
    node: &str,
    record: Option<&Status>,
    expected: Option<&str>,
    now: u64,
) -> Readiness {
    let Some(record) = record else {
        return Readiness {
            node: node.to_owned(),
            ready: false,
            reasons: vec!["no agent pass recorded yet".into()],
            generation: expected.map(str::to_owned),
            applied_generation: None,
            last_pass: None,
            verified: false,
            drift_corrected: 0,
            failure: None,
            probes: Vec::new(),
        };
    };
    let mut reasons = Vec::new();
    if record.node != node {
        reasons.push(format!(
            "the record is node {}'s, not {node}'s",
            record.node
        ));
    }
    let wanted = expected.unwrap_or(&record.generation);
    if wanted.is_empty() {
        reasons.push("the agent has read no intent".into());
    } else if record.applied_generation.as_deref() != Some(wanted) {
        reasons.push(format!(
            "intent {} is not applied (applied: {})",
            short(wanted),
            record.applied_generation.as_deref().map_or("none", short)
        ));
    }
    if !record.verified {
        reasons.push("the last pass did not verify the host".into());
    }
    if let Some(failure) = &record.failure {
        reasons.push(format!("the last pass failed: {failure}"));
    }
    let max_age = record.interval_secs.saturating_mul(3).saturating_add(10);
    // A pass "in the future" (the clock was stepped back, or the record was forged) says
    // nothing about now: stale until the agent writes a record with the current clock.
    if record.last_pass > now.saturating_add(FUTURE_SLACK) {
        reasons.push(format!(
            "the last pass is recorded {}s in the future (clock stepped back?): stale",
            record.last_pass - now
        ));
    } else if now.saturating_sub(record.last_pass) > max_age {
        reasons.push(format!(
            "the last pass is {}s old (the agent passes every {}s)",
            now.saturating_sub(record.last_pass),
            record.interval_secs
        ));
    }
    // Probes only when the rest holds: a readinessProbe must answer fast.
    let probes: Vec<ProbeResult> = if reasons.is_empty() {
        record
            .probes
            .iter()
            .zip(probe::reachable_all(&record.probes))
            .map(|(t, reachable)| ProbeResult {
                target: t.to_string(),
                reachable,
            })
            .collect()
    } else {
        Vec::new()
    };
    for p in probes.iter().filter(|p| !p.reachable) {
        reasons.push(format!("{} does not answer", p.target));
    }
    Readiness {
        node: node.to_owned(),
        ready: reasons.is_empty(),
        reasons,
        generation: Some(wanted.to_owned()),
        applied_generation: record.applied_generation.clone(),
        last_pass: Some(record.last_pass),
        verified: record.verified,
        drift_corrected: record.drift_corrected,
        failure: record.failure.clone(),
        probes,
    }
}

/// A generation as people read it in logs: the first 12 hex digits.
pub fn short(generation: &str) -> &str {
    let hex = generation.strip_prefix("sha256:").unwrap_or(generation);
    hex.get(..12).unwrap_or(hex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Status {
        Status {
            node: "worker-1".into(),
            generation: generation(b"a"),
            applied_generation: Some(generation(b"a")),
            last_pass: 1000,
            interval_secs: 30,
            verified: true,
            drift_corrected: 2,
            last_corrections: Vec::new(),
            probes: Vec::new(),
            failure: None,
        }
    }

    #[test]
    fn ready_only_when_the_expected_generation_is_applied_verified_and_fresh() {
        let r = record();
        assert!(readiness("worker-1", Some(&r), None, 1010).ready);
        assert!(readiness("worker-1", Some(&r), Some(&generation(b"a")), 1010).ready);
        let other = readiness("worker-1", Some(&r), Some(&generation(b"b")), 1010);
        assert!(!other.ready && other.reasons[0].contains("not applied"));
        assert!(!readiness("worker-2", Some(&r), None, 1010).ready);
        assert!(!readiness("worker-1", Some(&r), None, 1000 + 101).ready);
        assert!(!readiness("worker-1", None, None, 1010).ready);
        let failed = Status {
            generation: generation(b"b"),
            failure: Some("rolled back".into()),
            ..record()
        };
        assert!(!readiness("worker-1", Some(&failed), None, 1010).ready);
        let unverified = Status {
            verified: false,
            ..record()
        };
        assert!(!readiness("worker-1", Some(&unverified), None, 1010).ready);
    }

    #[test]
    fn a_record_from_the_future_is_stale() {
        let r = Status {
            last_pass: 1000 + 3600,
            ..record()
        };
        let v = readiness("worker-1", Some(&r), None, 1000);
        assert!(!v.ready, "{:?}", v.reasons);
        assert!(v.reasons[0].contains("future"), "{:?}", v.reasons);
        // Within a second: the same pass, rounded.
        let r = Status {
            last_pass: 1001,
            ..record()
        };
        assert!(readiness("worker-1", Some(&r), None, 1000).ready);
    }

    #[test]
    fn load_refuses_fifos_and_huge_records_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STATUS_FILE);
        let c = std::ffi::CString::new(path.to_str().expect("utf-8")).expect("no NUL");
        // SAFETY: a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.path().to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(load(&d).map(|_| ()).map_err(|e| e.to_string()));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(5))
            .expect("load blocked on a FIFO");
        assert!(got.expect_err("a FIFO").contains("not a regular file"));
        std::fs::remove_file(&path).expect("rm");
        // A sparse record far over the bound: refused by its size, not read.
        let f = std::fs::File::create(&path).expect("create");
        f.set_len(3 << 30).expect("sparse");
        let e = load(dir.path()).expect_err("too big").to_string();
        assert!(e.contains("more than a netc record"), "{e}");
        std::fs::write(&path, serde_json::to_vec(&record()).expect("json")).expect("write");
        assert_eq!(load(dir.path()).expect("reads"), Some(record()));
    }

    #[test]
    fn generation_is_the_content_hash() {
        assert_eq!(generation(b"x"), generation(b"x"));
        assert_ne!(generation(b"x"), generation(b"y"));
        assert_eq!(short(&generation(b"x")).len(), 12);
    }
}
