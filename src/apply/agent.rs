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
use std::time::{Duration, Instant};

use super::desired::Derived;
use super::host::probe;
use super::status::{self, Status, short};
use super::stop::{install_signal_handlers, stopping};
use super::{ApplyError, Event, Options, Report, apply, now};

/// The default interval between passes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
/// How often the agent looks at FILE and at the stop flag while it waits.
const POLL: Duration = Duration::from_millis(250);

/// The environment variable of a test-only switch: `NETC_AGENT_STEP_DELAY_MS=N` makes the agent
/// wait N ms after each step of a pass, so a test can signal it mid-pass. Unset by default.
pub const STEP_DELAY_ENV: &str = "NETC_AGENT_STEP_DELAY_MS";

fn step_delay() -> Option<Duration> {
    let ms: u64 = std::env::var(STEP_DELAY_ENV).ok()?.trim().parse().ok()?;
    Some(Duration::from_millis(ms.min(10_000)))
}

/// An intent file as read: its generation, and the node's desired state or why it has none
/// (the rendered diagnostics). (`D`: the desired state; another type only in tests.)
pub struct Intent<D = Derived> {
    pub generation: String,
    pub derived: Result<D, String>,
    /// The desired state came from `apply::store::cache` (the intent is the one derived before).
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
/// when another agent holds the state directory. The decisions are [`Machine`]'s; this loop
/// does the I/O around them.
pub fn run(
    opts: &AgentOptions,
    load: &mut dyn FnMut() -> Result<Intent, String>,
    log: &mut dyn FnMut(String),
) -> Result<(), super::ApplyError> {
    install_signal_handlers();
    // One agent per state directory, for its whole life.
    let _agent_lock = super::lock::agent(&opts.apply.state_dir)?;
    let node = opts.apply.node.clone();
    let state_dir = &opts.apply.state_dir;
    // What the state directory keeps holds the installed files' contents: owner-only, also
    // when the DaemonSet's hostPath made it 0755.
    if let Some(mode) = super::store::state::narrow_dir(state_dir)? {
        log(format!(
            "{node}: state directory {} was mode {mode:o}: narrowed to {:o}",
            state_dir.display(),
            mode & 0o7700
        ));
    }
    let file = std::path::absolute(&opts.file)
        .unwrap_or_else(|_| opts.file.clone())
        .display()
        .to_string();
    let shown = opts.file.display().to_string();
    let mut machine = Machine::new(status::load_failed(state_dir));
    let mut seen: Identity = None;
    let mut first = true;
    log(format!(
        "{node}: agent started, passing every {}s and when {shown} changes",
        opts.interval.as_secs_f64(),
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
            for line in machine.read(load(), &shown) {
                log(format!("{node}: {line}"));
            }
        }
        let mut steps: Vec<String> = Vec::new();
        let outcome = match machine.begin(now()) {
            Some(Pass { rollout, derived }) => {
                let result = pass(
                    opts,
                    derived,
                    rollout.is_some(),
                    &last_record,
                    &mut steps,
                    log,
                );
                machine.finish(rollout, result, now())
            }
            None => machine.idle(&shown),
        };
        for line in &outcome.log {
            log(format!("{node}: {line}"));
        }
        if let Some(failed) = &outcome.store_failed
            && let Err(e) = status::store_failed(state_dir, failed)
        {
            log(format!("{node}: cannot record the failure: {e}"));
        }
        if outcome.clear_failed
            && let Err(e) = status::clear_failed(state_dir)
        {
            log(format!("{node}: cannot clear the failure record: {e}"));
        }
        let record = machine.record(&base, &outcome, steps, now());
        if let Err(e) = status::store(state_dir, &record) {
            log(format!("{node}: cannot record the status: {e}"));
        }
        last_record = record;

        let deadline = Instant::now() + machine.wait(opts.interval, now());
        while !stopping() && Instant::now() < deadline && identity(&opts.file) == seen {
            std::thread::sleep(POLL.min(deadline.saturating_duration_since(Instant::now())));
        }
    }
    machine.stop();
    log(format!("{node}: agent stopped"));
    Ok(())
}

/// One pass: [`apply`] of `derived`, its events logged (`rollout`: a new generation's steps
/// are "applied", a correction's "corrected") and its steps kept in `steps`; a lock wait
/// recorded in the status (from `last_record`) while it lasts.
fn pass(
    opts: &AgentOptions,
    derived: &Derived,
    rollout: bool,
    last_record: &Status,
    steps: &mut Vec<String>,
    log: &mut dyn FnMut(String),
) -> Result<super::Report, super::ApplyError> {
    let node = &opts.apply.node;
    let what = if rollout { "applied" } else { "corrected" };
    let delay = step_delay();
    apply(derived, &opts.apply, &mut |event| match event {
        Event::Step { step, .. } => {
            log(format!("{node}: {what}: {step}"));
            steps.push(step);
            if let Some(delay) = delay {
                std::thread::sleep(delay);
            }
        }
        Event::Note { message } => log(format!("{node}: {message}")),
        Event::Waiting { message } => {
            // `netc status` says so while the wait lasts: recorded before the log line, so
            // whoever reads the log and then the status sees the block.
            let blocked = Status {
                blocked: Some(format!("{message} (since {})", now())),
                updated: now(),
                ..last_record.clone()
            };
            if let Err(e) = status::store(&opts.apply.state_dir, &blocked) {
                log(format!("{node}: cannot record the status: {e}"));
            }
            log(format!("{node}: blocked: {message}"));
        }
        Event::RollingBack { steps } => {
            log(format!("{node}: rolling back {steps} applied step(s)"))
        }
        Event::Plan { .. } => {}
    })
}

/// Where the agent's loop is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Between passes (and before the first): the next begins when the interval has passed,
    /// FILE changes, or a retry falls due.
    Waiting,
    /// A pass runs: rolling out `rollout` (a new generation), or correcting drift against the
    /// last intent that applied (`None`).
    Passing { rollout: Option<String> },
    /// The current generation failed for its own reason, before or in this agent, or has
    /// errors: not applied until FILE changes; drift of the last good intent is still
    /// corrected.
    FailedGeneration { generation: String },
    /// SIGTERM or SIGINT: no pass begins.
    Stopping,
}

/// The agent's loop without its I/O (reading FILE, applying, the records, sleeping): each
/// transition is a method, tested alone. `D`: an intent's desired state.
pub struct Machine<D> {
    phase: Phase,
    current: Option<Intent<D>>,
    /// Why `current` is not applied, until FILE changes.
    current_failure: Option<String>,
    last_good: Option<(String, D)>,
    /// A generation that failed before (this agent or one before it, as recorded in the state
    /// directory): not applied again until FILE changes.
    known_failed: Option<status::Failed>,
    retry: Option<status::Retry>,
    drift_total: u64,
    probes: Vec<probe::Target>,
}

/// A pass to run: the generation it rolls out (`None`: a correction of the last good one),
/// and the desired state.
pub struct Pass<'a, D> {
    pub rollout: Option<String>,
    pub derived: &'a D,
}

/// What a pass (or a loop round without one) leaves besides the machine's state.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// Log lines (the caller prefixes the node).
    pub log: Vec<String>,
    /// This pass's failure, for the status record.
    pub failure: Option<String>,
    pub verified: bool,
    pub notes: Vec<String>,
    /// Whether the pass rolled out a generation (its steps are not drift corrections).
    pub rollout: bool,
    /// The failure to record in the state directory (`failed.json`).
    pub store_failed: Option<status::Failed>,
    /// Whether to remove the failure record (a generation applied since).
    pub clear_failed: bool,
}

impl<D: Clone> Machine<D> {
    /// A machine that knows `known_failed` from the state directory.
    pub fn new(known_failed: Option<status::Failed>) -> Self {
        Machine {
            phase: Phase::Waiting,
            current: None,
            current_failure: None,
            last_good: None,
            known_failed,
            retry: None,
            drift_total: 0,
            probes: Vec::new(),
        }
    }

    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The phase the state leads to between passes.
    fn settle(&mut self) {
        if self.phase == Phase::Stopping {
            return;
        }
        self.phase = match (&self.current_failure, &self.current) {
            (Some(_), Some(c)) => Phase::FailedGeneration {
                generation: c.generation.clone(),
            },
            _ => Phase::Waiting,
        };
    }

    /// FILE was read (an `Err` is why it could not be): a new generation resets the retry
    /// and, when it failed before or has errors, is not applied. `file` names FILE in logs.
    pub fn read(&mut self, loaded: Result<Intent<D>, String>, file: &str) -> Vec<String> {
        let intent = match loaded {
            Ok(intent) => intent,
            Err(message) => return vec![format!("{message}; keeping the last good intent")],
        };
        if self.current.as_ref().map(|c| &c.generation) == Some(&intent.generation) {
            return Vec::new();
        }
        let generation = short(&intent.generation);
        self.retry = None;
        let mut log = Vec::new();
        self.current_failure = match &intent.derived {
            Ok(_) => match self
                .known_failed
                .as_ref()
                .filter(|f| f.generation == intent.generation)
            {
                Some(failed) => {
                    log.push(format!(
                        "intent {generation} failed before (at {}): not applying it again \
                         until {file} changes",
                        failed.at
                    ));
                    Some(format!(
                        "intent {generation} failed (not retried until the file changes): {}",
                        failed.failure
                    ))
                }
                None => {
                    log.push(format!(
                        "intent {generation}{}",
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
                log.push(format!(
                    "intent {generation} has errors; keeping the last good intent\n{diagnostics}"
                ));
                Some(format!("intent {generation} has errors"))
            }
        };
        self.current = Some(intent);
        self.settle();
        log
    }

    fn current_derived(&self) -> Option<&D> {
        self.current.as_ref()?.derived.as_ref().ok()
    }

    /// The pass due at `now`, if any: the current generation when it has not applied, did not
    /// fail for its own reason and its retry (if any) is due; else a correction of the last
    /// good one; none before any intent applied, or once stopping.
    pub fn begin(&mut self, now: u64) -> Option<Pass<'_, D>> {
        if self.phase == Phase::Stopping {
            return None;
        }
        let retry_due = self.retry.as_ref().is_none_or(|r| now >= r.at);
        let rollout = self
            .current
            .as_ref()
            .filter(|c| c.derived.is_ok() && self.current_failure.is_none() && retry_due)
            .map(|c| c.generation.clone())
            .filter(|g| self.last_good.as_ref().map(|(l, _)| l) != Some(g));
        if rollout.is_none() && self.last_good.is_none() {
            return None;
        }
        self.phase = Phase::Passing {
            rollout: rollout.clone(),
        };
        let derived = match rollout {
            Some(_) => self.current_derived()?,
            None => &self.last_good.as_ref()?.1,
        };
        Some(Pass { rollout, derived })
    }

    /// The pass that rolled out `rollout` (or corrected drift) ended with `result` at `now`.
    pub fn finish(
        &mut self,
        rollout: Option<String>,
        result: Result<Report, ApplyError>,
        now: u64,
    ) -> Outcome {
        let mut o = Outcome {
            rollout: rollout.is_some(),
            ..Outcome::default()
        };
        if let Ok(report) = &result
            && let Some(deadline) = report.reverted_try
        {
            o.notes.push(format!(
                "reverted an unconfirmed --try apply whose deadline ({deadline}) had passed"
            ));
        }
        match (result, rollout) {
            (Ok(report), Some(generation)) => {
                o.log.push(format!(
                    "intent {} applied ({} change(s)), verified",
                    short(&generation),
                    report.changes
                ));
                if let Some(derived) = self.current_derived().cloned() {
                    self.last_good = Some((generation, derived));
                }
                self.probes = report.probes;
                o.verified = true;
                self.retry = None;
                o.clear_failed = self.known_failed.take().is_some();
            }
            (Ok(report), None) => {
                self.drift_total += report.changes as u64;
                self.probes = report.probes;
                o.verified = true;
            }
            (Err(e), Some(generation)) if e.is_transient() => {
                let attempt = self
                    .retry
                    .as_ref()
                    .filter(|r| r.generation == generation)
                    .map_or(1, |r| r.attempt + 1);
                let wait = backoff(attempt);
                o.log.push(format!(
                    "intent {} not applied (attempt {attempt}): {e}; retrying in {}s",
                    short(&generation),
                    wait.as_secs()
                ));
                o.failure = Some(format!("intent {}: {e}", short(&generation)));
                self.retry = Some(status::Retry {
                    generation,
                    attempt,
                    at: now + wait.as_secs(),
                    reason: e.to_string(),
                });
            }
            (Err(e), Some(generation)) => {
                o.log
                    .push(format!("intent {} not applied: {e}", short(&generation)));
                self.current_failure = Some(format!("intent {}: {e}", short(&generation)));
                self.retry = None;
                // Recorded, so a restarted agent does not apply it again.
                let failed = status::Failed {
                    generation,
                    failure: e.to_string(),
                    at: now,
                };
                o.store_failed = Some(failed.clone());
                self.known_failed = Some(failed);
            }
            (Err(e), None) => {
                o.log.push(format!("pass failed: {e}"));
                o.failure = Some(e.to_string());
            }
        }
        self.settle();
        o
    }

    /// A loop round without a pass: no intent ever applied. `file` names FILE.
    pub fn idle(&self, file: &str) -> Outcome {
        Outcome {
            failure: (self.current_failure.is_none() && self.retry.is_none())
                .then(|| format!("no valid intent in {file}")),
            ..Outcome::default()
        }
    }

    /// The status record after a round that left `o` (and ran `steps`) at `now`.
    pub fn record(&self, base: &Status, o: &Outcome, steps: Vec<String>, now: u64) -> Status {
        Status {
            generation: self
                .current
                .as_ref()
                .map(|c| c.generation.clone())
                .or_else(|| self.last_good.as_ref().map(|(g, _)| g.clone()))
                .unwrap_or_default(),
            applied_generation: self.last_good.as_ref().map(|(g, _)| g.clone()),
            last_pass: now,
            updated: now,
            verified: o.verified,
            drift_corrected: self.drift_total,
            last_corrections: if o.rollout { Vec::new() } else { steps },
            probes: self.probes.clone(),
            failure: self
                .current_failure
                .clone()
                .or_else(|| o.failure.clone())
                .or_else(|| self.retry.as_ref().map(|r| r.reason.clone())),
            retry: self.retry.clone(),
            notes: o.notes.clone(),
            ..base.clone()
        }
    }

    /// How long to wait before the next round at most (FILE changing ends it sooner).
    pub fn wait(&self, interval: Duration, now: u64) -> Duration {
        match &self.retry {
            Some(r) => interval.min(Duration::from_secs(r.at.saturating_sub(now))),
            None => interval,
        }
    }

    /// SIGTERM or SIGINT: no pass begins again.
    pub fn stop(&mut self) {
        self.phase = Phase::Stopping;
    }
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

    fn intent(generation: &str, derived: Result<&'static str, String>) -> Intent<&'static str> {
        Intent {
            generation: generation.to_owned(),
            derived,
            cached: false,
        }
    }

    fn report(changes: usize) -> Report {
        Report {
            node: "n".into(),
            changes,
            dry_run: false,
            revert_at: None,
            probes: Vec::new(),
            reverted_try: None,
        }
    }

    fn conflict() -> ApplyError {
        ApplyError::Conflicts(vec!["link x".into()])
    }

    fn locked() -> ApplyError {
        ApplyError::Locked {
            path: "/run/netc/lock".into(),
            waited: 1,
        }
    }

    fn rollout(m: &mut Machine<&'static str>, now: u64) -> Option<(Option<String>, &'static str)> {
        m.begin(now).map(|p| (p.rollout, *p.derived))
    }

    /// Waiting → passing (rollout) → waiting; then passes correct drift of the last good
    /// intent; an intent's own failure → failed-generation (recorded, not retried, drift still
    /// corrected) until FILE brings another generation; stopping ends every pass.
    #[test]
    fn rollout_correction_failed_generation_and_stop() {
        let mut m = Machine::new(None);
        assert_eq!(m.phase(), &Phase::Waiting);
        assert_eq!(m.begin(0).map(|p| p.rollout), None, "nothing to pass yet");
        assert_eq!(m.idle("f").failure.as_deref(), Some("no valid intent in f"));
        m.read(Ok(intent("g1", Ok("one"))), "f");
        assert_eq!(rollout(&mut m, 0), Some((Some("g1".into()), "one")));
        assert_eq!(
            m.phase(),
            &Phase::Passing {
                rollout: Some("g1".into())
            }
        );
        let o = m.finish(Some("g1".into()), Ok(report(3)), 0);
        assert!(o.verified && o.rollout && !o.clear_failed, "{o:?}");
        assert_eq!(m.phase(), &Phase::Waiting);
        assert_eq!(rollout(&mut m, 1), Some((None, "one")), "a correction");
        let o = m.finish(None, Ok(report(2)), 1);
        let record = m.record(&base(), &o, vec!["set x up".into()], 1);
        assert_eq!(record.drift_corrected, 2);
        assert_eq!(record.last_corrections, ["set x up"]);
        assert_eq!(record.applied_generation.as_deref(), Some("g1"));

        // The same generation read again changes nothing; a new one that conflicts fails.
        assert!(m.read(Ok(intent("g1", Ok("one"))), "f").is_empty());
        m.read(Ok(intent("g2", Ok("two"))), "f");
        assert_eq!(rollout(&mut m, 2), Some((Some("g2".into()), "two")));
        let o = m.finish(Some("g2".into()), Err(conflict()), 2);
        assert_eq!(
            o.store_failed.as_ref().map(|f| f.generation.as_str()),
            Some("g2")
        );
        assert_eq!(
            m.phase(),
            &Phase::FailedGeneration {
                generation: "g2".into()
            }
        );
        // Not retried: passes correct drift of g1; the status says why g2 is not applied.
        assert_eq!(rollout(&mut m, 100), Some((None, "one")));
        let o = m.finish(None, Ok(report(0)), 100);
        let record = m.record(&base(), &o, Vec::new(), 100);
        assert!(record.failure.as_deref().is_some_and(|f| f.contains("g2")));
        assert_eq!(record.generation, "g2");
        assert_eq!(record.applied_generation.as_deref(), Some("g1"));
        // A new generation is rolled out (and its success clears the failure record).
        m.read(Ok(intent("g3", Ok("three"))), "f");
        assert_eq!(m.phase(), &Phase::Waiting);
        assert_eq!(rollout(&mut m, 101), Some((Some("g3".into()), "three")));
        assert!(m.finish(Some("g3".into()), Ok(report(1)), 101).clear_failed);

        m.stop();
        assert_eq!(m.phase(), &Phase::Stopping);
        assert!(m.begin(102).is_none());
    }

    /// A failure outside the intent is retried with backoff: waiting until the retry is due.
    #[test]
    fn transient_failures_are_retried_with_backoff() {
        let mut m = Machine::new(None);
        m.read(Ok(intent("g1", Ok("one"))), "f");
        assert!(rollout(&mut m, 10).is_some());
        let o = m.finish(Some("g1".into()), Err(locked()), 10);
        assert!(o.store_failed.is_none() && o.failure.is_some(), "{o:?}");
        assert_eq!(m.phase(), &Phase::Waiting);
        assert_eq!(m.wait(Duration::from_secs(30), 10), Duration::from_secs(1));
        assert!(
            m.begin(10).is_none(),
            "not due yet, and nothing applied to correct"
        );
        assert_eq!(rollout(&mut m, 11), Some((Some("g1".into()), "one")));
        let o = m.finish(Some("g1".into()), Err(locked()), 11);
        assert!(o.log[0].contains("attempt 2"), "{o:?}");
        assert_eq!(m.wait(Duration::from_secs(30), 11), Duration::from_secs(2));
        let record = m.record(&base(), &o, Vec::new(), 11);
        assert_eq!(record.retry.as_ref().map(|r| r.attempt), Some(2));
        assert_eq!(rollout(&mut m, 13), Some((Some("g1".into()), "one")));
        m.finish(Some("g1".into()), Ok(report(1)), 13);
        assert_eq!(m.wait(Duration::from_secs(30), 13), Duration::from_secs(30));
    }

    /// A restarted agent does not apply the generation recorded as failed; an intent with
    /// errors is a failed generation too.
    #[test]
    fn a_recorded_failure_or_errors_keep_the_generation_from_passing() {
        let failed = status::Failed {
            generation: "g1".into(),
            failure: "conflict".into(),
            at: 5,
        };
        let mut m = Machine::new(Some(failed));
        let log = m.read(Ok(intent("g1", Ok("one"))), "f");
        assert!(log[0].contains("failed before"), "{log:?}");
        assert_eq!(
            m.phase(),
            &Phase::FailedGeneration {
                generation: "g1".into()
            }
        );
        assert!(m.begin(6).is_none());
        assert!(
            m.idle("f").failure.is_none(),
            "the failure is the generation's"
        );
        m.read(Ok(intent("g2", Err("line 3: bad".into()))), "f");
        assert_eq!(
            m.phase(),
            &Phase::FailedGeneration {
                generation: "g2".into()
            }
        );
        assert!(m.begin(7).is_none());
        assert_eq!(
            m.record(&base(), &m.idle("f"), Vec::new(), 7)
                .failure
                .as_deref(),
            Some("intent g2 has errors")
        );
    }

    fn base() -> Status {
        Status {
            kind: status::RecordKind::Agent,
            node: "n".into(),
            file: None,
            pid: None,
            updated: 0,
            lock_timeout_secs: 60,
            blocked: None,
            retry: None,
            notes: Vec::new(),
            generation: String::new(),
            applied_generation: None,
            last_pass: 0,
            interval_secs: 30,
            verified: false,
            drift_corrected: 0,
            last_corrections: Vec::new(),
            probes: Vec::new(),
            failure: None,
        }
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
