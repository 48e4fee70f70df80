//! The status record, `<state-dir>/status.json`: what the last pass of `netc apply --watch`
//! did, or the last one-shot `netc apply` (the same record, [`RecordKind::Apply`]). `netc
//! status` reads it (no lock: the record is replaced by rename, so a reader sees the old or the
//! new one whole) and decides readiness from it and from probes run now; `netc status
//! --liveness` only whether the agent is alive and passing.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::ApplyError;
use super::host::probe::{self, Target};
use super::store::state;

const STATUS_FILE: &str = "status.json";
/// How far in the future a recorded pass may be (the record has whole seconds).
const FUTURE_SLACK: u64 = 1;

/// The generation of an intent: `sha256:` and the hex digest of the file's bytes, so every
/// node (and `netc status FILE`) names the same intent the same way.
pub fn generation(intent: &[u8]) -> String {
    crate::digest::sha256_tagged(intent)
}

/// Who wrote the record.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    /// A pass of the agent (`netc apply --watch`).
    #[default]
    Agent,
    /// A one-shot `netc apply`.
    Apply,
}

/// A transient failure the agent retries (with backoff).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Retry {
    /// The generation being retried.
    pub generation: String,
    /// Attempts that failed so far.
    pub attempt: u32,
    /// Unix time of the next attempt.
    pub at: u64,
    pub reason: String,
}

/// One agent pass or one-shot apply, as recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Absent in records written before one-shot applies wrote one: an agent's.
    #[serde(default)]
    pub kind: RecordKind,
    pub node: String,
    /// The intent file the agent reads (absolute): `netc status` without FILE compares the
    /// applied generation with what this file holds now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The agent's process id (liveness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Unix time the record was written (a pass ended, or the agent found itself blocked).
    #[serde(default)]
    pub updated: u64,
    /// How long the agent waits for the lock (liveness allows a pass that long).
    #[serde(default)]
    pub lock_timeout_secs: u64,
    /// What the agent is waiting for now (a lock and its holder), when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    /// A transient failure being retried, and when next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// Things the last pass did besides applying (an expired `--try` reverted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
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

/// A generation the agent applied and had to roll back (or that a conflict or refusal stopped),
/// kept in `<state-dir>/failed.json` so a restarted agent does not apply it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Failed {
    pub generation: String,
    pub failure: String,
    /// Unix time of the failure.
    pub at: u64,
}

const FAILED_FILE: &str = "failed.json";

pub fn store_failed(dir: &Path, failed: &Failed) -> Result<(), ApplyError> {
    state::store_json(dir, FAILED_FILE, failed)
}

/// The failed generation recorded, if any (an unreadable record counts as none: the worst
/// case is one more attempt).
pub fn load_failed(dir: &Path) -> Option<Failed> {
    state::load_json(&dir.join(FAILED_FILE)).ok().flatten()
}

pub fn clear_failed(dir: &Path) -> Result<(), ApplyError> {
    if dir.join(FAILED_FILE).exists() {
        super::host::files::remove(dir, &format!("/{FAILED_FILE}"))?;
    }
    Ok(())
}

/// A probe of `netc status`, run now.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct ProbeResult {
    pub target: String,
    pub reachable: bool,
}

/// The readiness verdict of `netc status`.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Readiness {
    pub node: String,
    pub ready: bool,
    /// Which record was read: an agent's pass or a one-shot apply (`None`: none).
    pub record: Option<RecordKind>,
    /// Why it is not ready (empty when ready).
    pub reasons: Vec<String>,
    pub generation: Option<String>,
    pub applied_generation: Option<String>,
    pub last_pass: Option<u64>,
    pub verified: bool,
    pub drift_corrected: u64,
    pub failure: Option<String>,
    pub probes: Vec<ProbeResult>,
    /// What the agent is waiting for (a lock and its holder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<String>,
    /// A transient failure the agent is retrying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What `netc status` knows besides the record.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The generation the node should run: FILE's, else that of the file the record names, read
    /// now (`Err`: it cannot be read); `None`: the generation the record read last.
    pub expected: Option<Result<String, String>>,
    /// The deadline of a `--try` apply waiting for confirmation.
    pub pending_try: Option<u64>,
}

/// Whether `node` is ready: the record exists and is `node`'s, is fresh (at most three
/// intervals and ten seconds old), its last pass verified the host against the intent
/// `expected` (the FILE given to `netc status`; without one, the intent the agent read last),
/// and every probe target it recorded answers now.
pub fn readiness(node: &str, record: Option<&Status>, context: &Context, now: u64) -> Readiness {
    let expected = match &context.expected {
        Some(Ok(generation)) => Some(generation.as_str()),
        _ => None,
    };
    let Some(record) = record else {
        return Readiness {
            node: node.to_owned(),
            ready: false,
            record: None,
            reasons: vec!["no agent pass or apply recorded yet".into()],
            generation: expected.map(str::to_owned),
            applied_generation: None,
            last_pass: None,
            verified: false,
            drift_corrected: 0,
            failure: None,
            probes: Vec::new(),
            blocked: None,
            retry: None,
            notes: Vec::new(),
        };
    };
    let mut reasons = Vec::new();
    if let Some(Err(message)) = &context.expected {
        reasons.push(message.clone());
    }
    if let Some(deadline) = context.pending_try {
        reasons.push(if now >= deadline {
            format!(
                "a --try apply was not confirmed by its deadline ({deadline}) and is not reverted \
                 yet (its watchdog died?): the next apply or agent pass reverts it"
            )
        } else {
            format!("a --try apply waits for `netc apply --confirm` (reverts at {deadline})")
        });
    }
    if let Some(blocked) = &record.blocked {
        reasons.push(format!("the agent is blocked: {blocked}"));
    }
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
    if let Some(retry) = &record.retry {
        reasons.push(format!(
            "retrying intent {} (attempt {} failed: {}; next at {})",
            short(&retry.generation),
            retry.attempt,
            retry.reason,
            retry.at
        ));
    }
    reasons.extend(staleness(record, now));
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
        record: Some(record.kind),
        reasons,
        generation: Some(wanted.to_owned()),
        applied_generation: record.applied_generation.clone(),
        last_pass: Some(record.last_pass),
        verified: record.verified,
        drift_corrected: record.drift_corrected,
        failure: record.failure.clone(),
        probes,
        blocked: record.blocked.clone(),
        retry: record.retry.clone(),
        notes: record.notes.clone(),
    }
}

/// Why `record`'s last pass says nothing about `now`: recorded in the future, or an agent's
/// pass older than three intervals and ten seconds. `None` if fresh.
fn staleness(record: &Status, now: u64) -> Option<String> {
    // A one-shot apply's record does not age: no agent is expected to pass again.
    let max_age = record.interval_secs.saturating_mul(3).saturating_add(10);
    // A pass "in the future" (the clock was stepped back, or the record was forged) says
    // nothing about now: stale until the agent writes a record with the current clock.
    if record.last_pass > now.saturating_add(FUTURE_SLACK) {
        Some(format!(
            "the last pass is recorded {}s in the future (clock stepped back?): stale",
            record.last_pass - now
        ))
    } else if record.kind == RecordKind::Agent && now.saturating_sub(record.last_pass) > max_age {
        Some(format!(
            "the last pass is {}s old (the agent passes every {}s)",
            now.saturating_sub(record.last_pass),
            record.interval_secs
        ))
    } else {
        None
    }
}

/// Whether the agent is alive and passing (the DaemonSet's livenessProbe): an agent's record,
/// its process still there (`pid_alive`), written no longer ago than three intervals plus a
/// lock wait plus 10 s. Whether the passes succeed is readiness's business, not liveness's:
/// restarting an agent whose intent failed would only apply it again. `Err` is why not.
pub fn liveness(
    node: &str,
    record: Option<&Status>,
    now: u64,
    pid_alive: &dyn Fn(u32) -> bool,
) -> Result<(), String> {
    let record = record.ok_or("no agent pass recorded yet")?;
    if record.node != node {
        return Err(format!(
            "the record is node {}'s, not {node}'s",
            record.node
        ));
    }
    if record.kind != RecordKind::Agent {
        return Err("the record is a one-shot apply's: no agent has passed since".into());
    }
    if let Some(pid) = record.pid
        && !pid_alive(pid)
    {
        return Err(format!("the agent (pid {pid}) is not running"));
    }
    let written = record.updated.max(record.last_pass);
    let max_age = record
        .interval_secs
        .saturating_mul(3)
        .saturating_add(record.lock_timeout_secs)
        .saturating_add(10);
    let age = now.saturating_sub(written);
    if age > max_age {
        return Err(format!(
            "the agent last wrote its record {age}s ago (it passes every {}s)",
            record.interval_secs
        ));
    }
    Ok(())
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
            kind: RecordKind::Agent,
            file: None,
            pid: None,
            updated: 1000,
            lock_timeout_secs: 60,
            blocked: None,
            retry: None,
            notes: Vec::new(),
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
        let none = Context::default();
        let expect = |g: &[u8]| Context {
            expected: Some(Ok(generation(g))),
            pending_try: None,
        };
        let r = record();
        assert!(readiness("worker-1", Some(&r), &none, 1010).ready);
        assert!(readiness("worker-1", Some(&r), &expect(b"a"), 1010).ready);
        let other = readiness("worker-1", Some(&r), &expect(b"b"), 1010);
        assert!(!other.ready && other.reasons[0].contains("not applied"));
        assert!(!readiness("worker-2", Some(&r), &none, 1010).ready);
        assert!(!readiness("worker-1", Some(&r), &none, 1000 + 101).ready);
        assert!(!readiness("worker-1", None, &none, 1010).ready);
        let failed = Status {
            generation: generation(b"b"),
            failure: Some("rolled back".into()),
            ..record()
        };
        assert!(!readiness("worker-1", Some(&failed), &none, 1010).ready);
        let unverified = Status {
            verified: false,
            ..record()
        };
        assert!(!readiness("worker-1", Some(&unverified), &none, 1010).ready);
        // The file the agent reads cannot be read: not ready, and why.
        let unreadable = Context {
            expected: Some(Err("cannot read /etc/netc/intent.yaml".into())),
            pending_try: None,
        };
        let v = readiness("worker-1", Some(&r), &unreadable, 1010);
        assert!(!v.ready && v.reasons[0].contains("cannot read"));
        // A pending --try, before and after its deadline.
        for now in [1010, 3000] {
            let pending = Context {
                expected: None,
                pending_try: Some(2000),
            };
            assert!(!readiness("worker-1", Some(&r), &pending, now).ready);
        }
        // Blocked, or retrying: not ready, saying so.
        let blocked = Status {
            blocked: Some("waiting for the apply lock, held by pid 7 (x)".into()),
            ..record()
        };
        let v = readiness("worker-1", Some(&blocked), &none, 1010);
        assert!(!v.ready && v.reasons.iter().any(|r| r.contains("pid 7")));
        // A one-shot apply's record does not go stale.
        let one_shot = Status {
            kind: RecordKind::Apply,
            ..record()
        };
        let v = readiness("worker-1", Some(&one_shot), &none, 1_000_000);
        assert!(v.ready && v.record == Some(RecordKind::Apply));
    }

    #[test]
    fn liveness_is_the_agent_alive_and_writing_not_its_intent_applied() {
        let alive = |_| true;
        let failed = Status {
            failure: Some("rolled back".into()),
            verified: false,
            pid: Some(42),
            ..record()
        };
        assert_eq!(liveness("worker-1", Some(&failed), 1010, &alive), Ok(()));
        assert!(liveness("worker-1", Some(&failed), 1010, &|_| false).is_err());
        assert!(liveness("worker-1", Some(&failed), 1000 + 90 + 60 + 11, &alive).is_err());
        assert!(liveness("worker-1", None, 1010, &alive).is_err());
        let one_shot = Status {
            kind: RecordKind::Apply,
            ..record()
        };
        assert!(liveness("worker-1", Some(&one_shot), 1010, &alive).is_err());
    }

    #[test]
    fn a_record_from_the_future_is_stale() {
        let r = Status {
            last_pass: 1000 + 3600,
            ..record()
        };
        let v = readiness("worker-1", Some(&r), &Context::default(), 1000);
        assert!(!v.ready, "{:?}", v.reasons);
        assert!(v.reasons[0].contains("future"), "{:?}", v.reasons);
        // Within a second: the same pass, rounded.
        let r = Status {
            last_pass: 1001,
            ..record()
        };
        assert!(readiness("worker-1", Some(&r), &Context::default(), 1000).ready);
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
