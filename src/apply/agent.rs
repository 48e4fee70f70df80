//! `netc apply FILE --node NAME --watch`: the agent a DaemonSet runs on every node.
//!
//! It applies the intent, then passes again every interval and as soon as FILE changes (a
//! ConfigMap update replaces the file through a symlink swap, so its inode changes; an edit in
//! place changes its mtime or size; the content hash decides whether the intent changed). Each
//! pass is one ordinary [`apply`](super::apply) — observe, diff, execute, verify, probe, roll
//! back on failure — so drift (a deleted route, a changed MTU, a flushed `inet netc` table, an
//! edited conflist) is corrected by the same steps an apply runs, one log line per correction.
//!
//! A new intent that fails for its own reason (invalid, a conflict, refused, rolled back because
//! verification or a probe failed) is not retried until FILE changes again, and is recorded in
//! `<state-dir>/failed.json` so a restarted agent does not apply it again either: the agent keeps
//! correcting drift against the last intent that applied, and records the failure so `netc
//! status` reports not ready. A failure outside the intent ([`ApplyError::is_transient`]: a lock
//! timeout, a state-dir I/O error, a pending `--try`) is retried with [`backoff`].
//!
//! One agent per state directory: it holds `<state-dir>/agent.lock` for its life.
//!
//! SIGTERM and SIGINT only set a flag: the pass under way finishes (or rolls back) and releases
//! the lock, then the agent exits 0; a wait for a lock ends at once.
//!
//! [`ApplyError::is_transient`]: super::ApplyError::is_transient

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::desired::Derived;
use super::status::{self, Status, short};
use super::{Event, Options, apply, now};

/// The default interval between passes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// How often the agent looks at FILE and at the stop flag while it waits.
const POLL: Duration = Duration::from_millis(250);

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    for signal in [libc::SIGTERM, libc::SIGINT] {
        // SAFETY: `on_signal` only stores to an atomic, which is async-signal-safe; the
        // sigaction struct is zeroed (no flags, empty mask) before the handler is set.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// Whether the agent was told to stop (SIGTERM, SIGINT): a lock wait ends at once.
pub fn stopping() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// The environment variable of a test-only switch: `NETC_AGENT_STEP_DELAY_MS=N` makes the agent
/// wait N ms after each step of a pass, so a test can signal it mid-pass. Unset by default.
pub const STEP_DELAY_ENV: &str = "NETC_AGENT_STEP_DELAY_MS";

fn step_delay() -> Option<Duration> {
    let ms: u64 = std::env::var(STEP_DELAY_ENV).ok()?.trim().parse().ok()?;
    Some(Duration::from_millis(ms.min(10_000)))
}

/// An intent file as read: its generation, and the node's desired state or why it has none
/// (the rendered diagnostics).
pub struct Intent {
    pub generation: String,
    pub derived: Result<Derived, String>,
    /// The desired state came from `apply::cache` (the intent is the one derived before).
    pub cached: bool,
}

/// What the agent runs.
pub struct AgentOptions {
    pub apply: Options,
    pub file: PathBuf,
    pub interval: Duration,
}

/// What identifies FILE's content without reading it: the file the path resolves to now, its
/// size and its modification and change times.
type Identity = Option<(u64, u64, u64, i64, i64, i64, i64)>;

fn identity(path: &Path) -> Identity {
    std::fs::metadata(path).ok().map(|m| {
        (
            m.dev(),
            m.ino(),
            m.len(),
            m.mtime(),
            m.mtime_nsec(),
            m.ctime(),
            m.ctime_nsec(),
        )
    })
}

/// The longest wait before retrying a transient failure.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The wait before attempt `attempt + 1`, after `attempt` transient failures: 1 s, 2 s, 4 s, …
/// up to [`MAX_BACKOFF`].
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.saturating_sub(1).min(16)).min(MAX_BACKOFF)
}

/// Runs passes until SIGTERM or SIGINT. `load` reads FILE (an `Err` is a message: the file
/// cannot be read); `log` gets one line per event worth a log line. Refuses to start (`Err`)
/// when another agent holds the state directory.
pub fn run(
    opts: &AgentOptions,
    load: &mut dyn FnMut() -> Result<Intent, String>,
    log: &mut dyn FnMut(String),
) -> Result<(), super::ApplyError> {
    install_signal_handlers();
    // One agent per state directory, for its whole life.
    let _agent_lock = super::lock::agent(&opts.apply.state_dir)?;
    // What the state directory keeps holds the installed files' contents: owner-only, also
    // when the DaemonSet's hostPath made it 0755.
    if let Some(mode) = super::state::narrow_dir(&opts.apply.state_dir)? {
        log(format!(
            "{}: state directory {} was mode {mode:o}: narrowed to {:o}",
            opts.apply.node,
            opts.apply.state_dir.display(),
            mode & 0o7700
        ));
    }
    let node = opts.apply.node.clone();
    let state_dir = &opts.apply.state_dir;
    let file = std::path::absolute(&opts.file)
        .unwrap_or_else(|_| opts.file.clone())
        .display()
        .to_string();
    let mut current: Option<Intent> = None;
    // Why `current` is not applied, until FILE changes.
    let mut current_failure: Option<String> = None;
    let mut last_good: Option<(String, Derived)> = None;
    // A generation that failed before (this agent or one before it, as recorded in the state
    // directory): not applied again until FILE changes.
    let mut known_failed = status::load_failed(state_dir);
    let mut retry: Option<status::Retry> = None;
    let mut drift_total = 0u64;
    let mut probes = Vec::new();
    let mut seen: Identity = None;
    let mut first = true;
    log(format!(
        "{node}: agent started, passing every {}s and when {} changes",
        opts.interval.as_secs_f64(),
        opts.file.display()
    ));
    let base = Status {
        kind: status::RecordKind::Agent,
        node: node.clone(),
        file: Some(file),
        pid: Some(std::process::id()),
        updated: 0,
        lock_timeout_secs: opts.apply.lock_timeout.as_secs(),
        blocked: None,
        retry: None,
        notes: Vec::new(),
        generation: String::new(),
        applied_generation: None,
        last_pass: 0,
        interval_secs: opts.interval.as_secs().max(1),
        verified: false,
        drift_corrected: 0,
        last_corrections: Vec::new(),
        probes: Vec::new(),
        failure: None,
    };
    let mut last_record = base.clone();
    while !stopping() {
        let now_seen = identity(&opts.file);
        if first || now_seen != seen {
            first = false;
            seen = now_seen;
            match load() {
                Ok(intent) => {
                    if current.as_ref().map(|c| &c.generation) != Some(&intent.generation) {
                        retry = None;
                        current_failure = match &intent.derived {
                            Ok(_) => match known_failed
                                .as_ref()
                                .filter(|f| f.generation == intent.generation)
                            {
                                Some(failed) => {
                                    log(format!(
                                        "{node}: intent {} failed before (at {}): not applying \
                                         it again until {} changes",
                                        short(&intent.generation),
                                        failed.at,
                                        opts.file.display()
                                    ));
                                    Some(format!(
                                        "intent {} failed (not retried until the file changes): {}",
                                        short(&intent.generation),
                                        failed.failure
                                    ))
                                }
                                None => {
                                    log(format!(
                                        "{node}: intent {}{}",
                                        short(&intent.generation),
                                        if intent.cached {
                                            " (desired state from the cache)"
                                        } else {
                                            ""
                                        }
                                    ));
                                    None
                                }
                            },
                            Err(diagnostics) => {
                                log(format!(
                                    "{node}: intent {} has errors; keeping the last good intent\n{diagnostics}",
                                    short(&intent.generation)
                                ));
                                Some(format!("intent {} has errors", short(&intent.generation)))
                            }
                        };
                        current = Some(intent);
                    }
                }
                Err(message) => log(format!("{node}: {message}; keeping the last good intent")),
            }
        }

        // A transient failure is retried once its backoff has passed; meanwhile the pass only
        // corrects drift of the last good intent.
        let retry_due = retry.as_ref().is_none_or(|r| now() >= r.at);
        let rollout = match &current {
            Some(Intent {
                generation,
                derived: Ok(derived),
                ..
            }) if current_failure.is_none()
                && retry_due
                && last_good.as_ref().map(|(g, _)| g) != Some(generation) =>
            {
                Some((generation.clone(), derived))
            }
            _ => None,
        };
        let target = match (&rollout, &last_good) {
            (Some((_, derived)), _) => Some(*derived),
            (None, Some((_, derived))) => Some(derived),
            (None, None) => None,
        };
        let mut steps: Vec<String> = Vec::new();
        let mut pass_failure = None;
        let mut verified = false;
        let mut notes = Vec::new();
        if let Some(derived) = target {
            let what = if rollout.is_some() {
                "applied"
            } else {
                "corrected"
            };
            let delay = step_delay();
            let result = apply(derived, &opts.apply, &mut |event| match event {
                Event::Step { step, .. } => {
                    log(format!("{node}: {what}: {step}"));
                    steps.push(step);
                    if let Some(delay) = delay {
                        std::thread::sleep(delay);
                    }
                }
                Event::Note { message } => log(format!("{node}: {message}")),
                Event::Waiting { message } => {
                    // `netc status` says so while the wait lasts: recorded before the log line,
                    // so whoever reads the log and then the status sees the block.
                    let blocked = Status {
                        blocked: Some(format!("{message} (since {})", now())),
                        updated: now(),
                        ..last_record.clone()
                    };
                    if let Err(e) = status::store(state_dir, &blocked) {
                        log(format!("{node}: cannot record the status: {e}"));
                    }
                    log(format!("{node}: blocked: {message}"));
                }
                Event::RollingBack { steps } => {
                    log(format!("{node}: rolling back {steps} applied step(s)"))
                }
                Event::Plan { .. } => {}
            });
            if let Ok(report) = &result
                && let Some(deadline) = report.reverted_try
            {
                notes.push(format!(
                    "reverted an unconfirmed --try apply whose deadline ({deadline}) had passed"
                ));
            }
            match (result, &rollout) {
                (Ok(report), Some((generation, derived))) => {
                    log(format!(
                        "{node}: intent {} applied ({} change(s)), verified",
                        short(generation),
                        report.changes
                    ));
                    last_good = Some((generation.clone(), (*derived).clone()));
                    probes = report.probes;
                    verified = true;
                    retry = None;
                    if known_failed.take().is_some()
                        && let Err(e) = status::clear_failed(state_dir)
                    {
                        log(format!("{node}: cannot clear the failure record: {e}"));
                    }
                }
                (Ok(report), None) => {
                    drift_total += report.changes as u64;
                    probes = report.probes;
                    verified = true;
                }
                (Err(e), Some((generation, _))) if e.is_transient() => {
                    let attempt = retry
                        .as_ref()
                        .filter(|r| &r.generation == generation)
                        .map_or(1, |r| r.attempt + 1);
                    let wait = backoff(attempt);
                    log(format!(
                        "{node}: intent {} not applied (attempt {attempt}): {e}; retrying in {}s",
                        short(generation),
                        wait.as_secs()
                    ));
                    retry = Some(status::Retry {
                        generation: generation.clone(),
                        attempt,
                        at: now() + wait.as_secs(),
                        reason: e.to_string(),
                    });
                    pass_failure = Some(format!("intent {}: {e}", short(generation)));
                }
                (Err(e), Some((generation, _))) => {
                    log(format!(
                        "{node}: intent {} not applied: {e}",
                        short(generation)
                    ));
                    current_failure = Some(format!("intent {}: {e}", short(generation)));
                    retry = None;
                    // Recorded, so a restarted agent does not apply it again.
                    let failed = status::Failed {
                        generation: generation.clone(),
                        failure: e.to_string(),
                        at: now(),
                    };
                    if let Err(e) = status::store_failed(state_dir, &failed) {
                        log(format!("{node}: cannot record the failure: {e}"));
                    }
                    known_failed = Some(failed);
                }
                (Err(e), None) => {
                    log(format!("{node}: pass failed: {e}"));
                    pass_failure = Some(e.to_string());
                }
            }
        } else if current_failure.is_none() && retry.is_none() {
            pass_failure = Some(format!("no valid intent in {}", opts.file.display()));
        }

        let record = Status {
            generation: current
                .as_ref()
                .map(|c| c.generation.clone())
                .or_else(|| last_good.as_ref().map(|(g, _)| g.clone()))
                .unwrap_or_default(),
            applied_generation: last_good.as_ref().map(|(g, _)| g.clone()),
            last_pass: now(),
            updated: now(),
            verified,
            drift_corrected: drift_total,
            last_corrections: if rollout.is_none() { steps } else { Vec::new() },
            probes: probes.clone(),
            failure: current_failure
                .clone()
                .or(pass_failure)
                .or_else(|| retry.as_ref().map(|r| r.reason.clone())),
            retry: retry.clone(),
            notes,
            ..base.clone()
        };
        if let Err(e) = status::store(state_dir, &record) {
            log(format!("{node}: cannot record the status: {e}"));
        }
        last_record = record;

        let mut deadline = Instant::now() + opts.interval;
        if let Some(r) = &retry {
            let wait = Duration::from_secs(r.at.saturating_sub(now()));
            deadline = deadline.min(Instant::now() + wait);
        }
        while !stopping() && Instant::now() < deadline && identity(&opts.file) == seen {
            std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
    }
    log(format!("{node}: agent stopped"));
    Ok(())
}

/// Parses `30s`, `2m`, `1h`, `500ms` or plain seconds: the plan's parser and range, the
/// same `check` applies to `fleet.interval`.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    crate::plan::fleet::parse_interval(text)
}

/// The Unix time now (for `netc status`).
pub fn unix_now() -> u64 {
    now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_units_and_bounds() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_interval("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_interval("7"), Ok(Duration::from_secs(7)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("2d").is_err());
        assert!(parse_interval("s").is_err());
        assert!(parse_interval("99999h").is_err());
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(2), Duration::from_secs(2));
        assert_eq!(backoff(4), Duration::from_secs(8));
        assert_eq!(backoff(9), Duration::from_secs(256));
        assert_eq!(backoff(10), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}
