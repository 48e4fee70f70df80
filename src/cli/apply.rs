//! `netc apply FILE --node NAME`, `netc apply --confirm`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::check::report;
use super::{Cli, Format, exit};
use crate::apply::desired::Derived;
use crate::apply::step::Step;
use crate::apply::{self, ApplyError, Event, Options};
use crate::diagnostic::{SourceFile, escape_message};
use crate::intent::Syntax;
use crate::machine::{
    ApplyDoc, ApplyResult, StepEntry, StepKind, StepResult, Versioned, WatchEvent, WatchLine,
};
use crate::pipeline::{self, Checked};

/// The longest `--try` (one day): it is a safety net for the next minutes, and the bound keeps
/// the deadline (now + SECS) far from overflowing.
pub const MAX_TRY_SECS: u64 = 24 * 60 * 60;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The intent file.
    #[arg(value_name = "FILE", required_unless_present_any = ["confirm", "revert_pending"])]
    pub file: Option<String>,
    /// The node this host is (a `nodes[].name` of the intent; a DaemonSet passes it from the
    /// Downward API as $NODE_NAME).
    #[arg(long, env = "NODE_NAME", required_unless_present_any = ["confirm", "revert_pending"])]
    pub node: Option<String>,
    /// Show the steps and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --dry-run: exit 1 when the plan has steps (changes pending), 0 when the node
    /// already matches (as `git diff --exit-code`).
    #[arg(long, requires = "dry_run")]
    pub exit_code: bool,
    /// Prefix of every file written (CNI conflists, sysctl.d, modules-load.d, ...).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub root: PathBuf,
    /// Where sysctls are read and written: the host's `/proc/sys`, or where a container mounts
    /// it writable (the fleet's DaemonSet: `/host/proc/sys`).
    #[arg(long, value_name = "DIR", default_value = apply::host::sysctl::DEFAULT_DIR)]
    pub sysctl_dir: PathBuf,
    /// Where netc records what it owns (and its lock).
    #[arg(long, value_name = "DIR", default_value = apply::store::state::DEFAULT_DIR)]
    pub state_dir: PathBuf,
    /// Revert automatically after SECS (1 to 86400) unless `netc apply --confirm` runs first.
    #[arg(long = "try", value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=MAX_TRY_SECS))]
    pub try_secs: Option<u64>,
    /// Stay running as the node's agent: apply, then pass again every --interval and whenever
    /// FILE changes, correcting drift; exit on SIGTERM/SIGINT after the pass under way.
    #[arg(long, conflicts_with_all = ["dry_run", "try_secs", "confirm"])]
    pub watch: bool,
    /// Time between agent passes (`30s`, `2m`, `500ms`; 100ms to 24h).
    #[arg(long, value_name = "DURATION", requires = "watch", value_parser = apply::agent::parse_interval)]
    pub interval: Option<Duration>,
    /// Keep the changes of a pending `--try`.
    #[arg(long, conflicts_with_all = ["file", "dry_run", "try_secs"])]
    pub confirm: bool,
    /// Take over foreign objects in the way, and allow changes to the management path.
    #[arg(long)]
    pub force: bool,
    /// Where the host's apply lock lives (a directory only root can write; the DaemonSet mounts
    /// the host's `/run/netc`).
    #[arg(long, value_name = "DIR", default_value = apply::lock::DEFAULT_DIR)]
    pub lock_dir: PathBuf,
    /// With `--root` (not `/`): skip the check that this host is the node (its address or a
    /// declared interface here, every interface it uses present), e.g. to prepare an image.
    #[arg(long, requires = "root")]
    pub assume_node: bool,
    /// Seconds to wait for another apply's lock.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub lock_timeout: u64,
    /// Output format of progress and result.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// The `--try` watchdog (started by netc itself).
    #[arg(long, hide = true)]
    pub revert_pending: bool,
}

/// The exit code of a failed apply (README: 1 for a failure that was rolled back or a
/// verification difference, 2 for usage and I/O problems: nothing was changed because netc
/// could not read or write what it needs, or was asked for a node the intent does not have).
fn exit_code(e: &ApplyError) -> u8 {
    match e {
        ApplyError::State(_)
        | ApplyError::Io { .. }
        | ApplyError::UnknownNode { .. }
        | ApplyError::AgentRunning { .. } => exit::USAGE,
        _ => exit::FINDINGS,
    }
}

struct Printer {
    format: Format,
    quiet: bool,
    terminal: bool,
    /// With `--format json`: what the events said, for the one document printed at the end.
    collected: std::cell::RefCell<Collected>,
}

/// The events of one apply, as `--format json` reports them.
#[derive(Default)]
struct Collected {
    steps: Vec<apply::step::Step>,
    /// 0-based indexes of the steps that took effect.
    applied: std::collections::BTreeSet<usize>,
    rolled_back: bool,
    notes: Vec<String>,
}

impl Printer {
    fn event(&self, event: Event) {
        if self.format == Format::Json {
            let mut c = self.collected.borrow_mut();
            match event {
                Event::Plan { steps } => c.steps = steps,
                Event::Step { index, .. } => {
                    c.applied.insert(index.saturating_sub(1));
                }
                Event::RollingBack { .. } => c.rolled_back = true,
                Event::Note { message } => c.notes.push(message),
                Event::Waiting { message } => {
                    // A wait is said as it happens too: the document comes only at the end.
                    if !self.quiet {
                        errln!("netc: {message}");
                    }
                    c.notes.push(message);
                }
            }
            return;
        }
        if self.quiet {
            return;
        }
        let mut out = std::io::stdout().lock();
        match event {
            Event::Plan { steps } if steps.is_empty() => {}
            Event::Plan { steps } => {
                let _ = writeln!(out, "plan: {} step(s)", steps.len());
                for (i, s) in steps.iter().enumerate() {
                    let _ = writeln!(out, "  {:>3}. {s}", i + 1);
                }
            }
            Event::Step { index, total, step } => {
                // One line per step on a terminal; a log gets only the plan and the result.
                if self.terminal {
                    let _ = writeln!(out, "[{index}/{total}] {step}");
                }
            }
            Event::RollingBack { steps } => {
                let _ = writeln!(out, "rolling back {steps} applied step(s)");
            }
            Event::Note { message } | Event::Waiting { message } => {
                let _ = writeln!(out, "{message}");
            }
        }
    }

    /// The `--format json` document of an apply of `node` (`None`: `--confirm`) that ended as
    /// `result`, with its report (success) or its error.
    fn document(
        &self,
        node: Option<&str>,
        dry_run: bool,
        result: ApplyResult,
        report: Option<&apply::Report>,
        error: Option<&ApplyError>,
    ) -> ApplyDoc {
        let c = self.collected.borrow();
        let step_result = |i: usize| match (error, c.applied.contains(&i)) {
            _ if dry_run => StepResult::Planned,
            (None, _) => StepResult::Applied,
            (Some(_), true) if c.rolled_back => StepResult::RolledBack,
            (Some(_), true) => StepResult::Applied,
            (Some(_), false) => StepResult::NotApplied,
        };
        ApplyDoc {
            node: node.map(str::to_owned),
            dry_run,
            result,
            changes: report.map_or(0, |r| r.changes),
            steps: c
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| step_entry(s, step_result(i)))
                .collect(),
            revert_at: report.and_then(|r| r.revert_at),
            reverted_try: report.and_then(|r| r.reverted_try),
            probes: report
                .map(|r| r.probes.iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            notes: c.notes.clone(),
            error: error.map(ToString::to_string),
        }
    }

    fn print_document(&self, doc: ApplyDoc) {
        outln!("{}", Versioned::new(doc).pretty().trim_end());
    }
}

pub(super) fn run(args: &ApplyArgs, cli: &Cli) -> u8 {
    let printer = Printer {
        format: args.format,
        quiet: cli.quiet,
        terminal: std::io::stdout().is_terminal(),
        collected: Default::default(),
    };
    let timeout = Duration::from_secs(args.lock_timeout);
    if args.revert_pending {
        return match apply::revert_pending(&args.state_dir, &args.lock_dir, true) {
            Ok(_) => exit::OK,
            Err(e) => {
                errln!("netc: {}", escape_message(&e.to_string()));
                exit_code(&e)
            }
        };
    }
    if args.confirm {
        return match apply::confirm(&args.state_dir, timeout) {
            Ok(true) => {
                if args.format == Format::Json {
                    let doc = printer.document(None, false, ApplyResult::Confirmed, None, None);
                    printer.print_document(doc);
                } else {
                    printer.event(Event::Note {
                        message: "confirmed: the changes stay".into(),
                    });
                }
                exit::OK
            }
            Ok(false) => {
                if args.format == Format::Json {
                    let doc =
                        printer.document(None, false, ApplyResult::NothingPending, None, None);
                    printer.print_document(doc);
                }
                errln!("netc: no --try apply is waiting for confirmation");
                exit::FINDINGS
            }
            Err(e) => {
                if args.format == Format::Json {
                    let doc = printer.document(None, false, ApplyResult::Failed, None, Some(&e));
                    printer.print_document(doc);
                }
                errln!("netc: {}", escape_message(&e.to_string()));
                exit_code(&e)
            }
        };
    }
    let (Some(file), Some(node)) = (&args.file, &args.node) else {
        errln!("netc: apply needs FILE and --node");
        return exit::USAGE;
    };
    let opts = Options {
        node: node.clone(),
        source: file.clone(),
        root: args.root.clone(),
        sysctl_dir: args.sysctl_dir.clone(),
        state_dir: args.state_dir.clone(),
        dry_run: args.dry_run,
        force: args.force,
        try_secs: args.try_secs,
        lock_timeout: timeout,
        lock_dir: args.lock_dir.clone(),
        assume_node: args.assume_node,
        agent: args.watch,
        faults: apply::execute::Faults::from_env(),
    };
    if args.assume_node && args.root == std::path::Path::new("/") {
        eprintln!("netc: --assume-node needs a --root other than / (it is for preparing images)");
        return exit::USAGE;
    }
    if args.watch {
        // The agent starts whatever FILE holds: an unreadable or invalid intent is reported by
        // `netc status` (and logged) until the file is fixed, not a crash loop.
        return watch(file, opts, args, cli);
    }
    let src = match super::check::read_source(file) {
        Ok(src) => src,
        Err(message) => {
            errln!("{message}");
            return exit::USAGE;
        }
    };
    let (derived, cached) = match desired_state(&src, &opts) {
        Ok(found) => found,
        Err(checked) => {
            report(&src, &checked.diagnostics, args.format);
            errln!("netc: {file} has errors; nothing applied");
            return exit::FINDINGS;
        }
    };
    if cli.verbose {
        printer.event(Event::Note {
            message: if cached {
                format!(
                    "{node}: desired state from the cache (intent, node, --root and netc unchanged)"
                )
            } else {
                format!("{node}: desired state derived from {file}")
            },
        });
    }
    let outcome =
        derived.and_then(|derived| apply::apply(&derived, &opts, &mut |e| printer.event(e)));
    record_one_shot(
        &opts,
        file,
        &apply::status::generation(src.text.as_bytes()),
        &outcome,
    );
    match outcome {
        Ok(r) => {
            if args.format == Format::Json {
                let result = match (r.changes, r.dry_run) {
                    (0, _) => ApplyResult::Unchanged,
                    (_, true) => ApplyResult::Planned,
                    (_, false) => ApplyResult::Applied,
                };
                let doc = printer.document(Some(node), r.dry_run, result, Some(&r), None);
                printer.print_document(doc);
            } else {
                // A pending --try is said even with -q: the deadline and the command that
                // keeps the changes are what the operator must act on.
                let msg = match (r.changes, r.dry_run, r.revert_at) {
                    (n, false, Some(_)) if n > 0 => Some(format!(
                        "{}: applied {n} change(s), verified; reverting in {}s unless confirmed by: {}",
                        r.node,
                        args.try_secs.unwrap_or(0),
                        confirm_command(&args.state_dir)
                    )),
                    _ if cli.quiet => None,
                    (0, _, _) => Some(format!("{}: no changes", r.node)),
                    (n, true, _) => Some(format!("{}: {n} change(s) planned (dry run)", r.node)),
                    (n, false, _) => Some(format!("{}: applied {n} change(s), verified", r.node)),
                };
                if let Some(msg) = msg {
                    outln!("{msg}");
                }
            }
            if args.exit_code && r.dry_run && r.changes > 0 {
                exit::FINDINGS
            } else {
                exit::OK
            }
        }
        Err(e) => {
            if args.format == Format::Json {
                let doc = printer.document(
                    Some(node),
                    args.dry_run,
                    ApplyResult::Failed,
                    None,
                    Some(&e),
                );
                printer.print_document(doc);
            }
            errln!("netc: {}", escape_message(&e.to_string()));
            exit_code(&e)
        }
    }
}

/// One step of the `--format json` document: what it changes, before and after.
fn step_entry(step: &Step, result: StepResult) -> StepEntry {
    use crate::apply::desired::{AddressSpec, FdbSpec, LinkSpec};
    use crate::apply::firewall::Backend;
    use crate::apply::host::netlink::Mac;
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let s = |x: &dyn std::fmt::Display| Some(x.to_string());
    // The address with its prefix and its link; the forwarding entry as `bridge fdb` shows it.
    let address_text = |a: &AddressSpec| format!("{} dev {}", a.net, a.link);
    let fdb_text = |f: &FdbSpec| {
        Some(format!(
            "{} dst {} dev {}",
            Mac(FdbSpec::MAC),
            f.destination,
            f.link
        ))
    };
    let link_text = |l: &LinkSpec| match l {
        LinkSpec::Bridge { .. } => "bridge".to_owned(),
        LinkSpec::Vxlan {
            vni,
            port,
            local,
            underlay,
            master,
            ..
        } => {
            let mut t = format!("vxlan vni {vni} port {port} local {local} dev {underlay}");
            if let Some(m) = master {
                t.push_str(&format!(" master {m}"));
            }
            t
        }
    };
    let (kind, object, action, before, after): (_, String, &str, _, _) = match step {
        Step::SetSysctl { key, from, to } => (StepKind::Sysctl, key.clone(), "set", s(from), s(to)),
        Step::DeleteRoute(r) => (
            StepKind::Route,
            r.destination.to_string(),
            "delete",
            Some(format!("via {}", r.via)),
            None,
        ),
        Step::AddRoute(r) => (
            StepKind::Route,
            r.destination.to_string(),
            "add",
            None,
            Some(format!("via {}", r.via)),
        ),
        Step::DeleteFdb(f) => (
            StepKind::Fdb,
            format!("{} dst {}", f.link, f.destination),
            "delete",
            fdb_text(f),
            None,
        ),
        Step::AddFdb(f) => (
            StepKind::Fdb,
            format!("{} dst {}", f.link, f.destination),
            "add",
            None,
            fdb_text(f),
        ),
        Step::DeleteAddress(a) => (
            StepKind::Address,
            address_text(a),
            "delete",
            Some(address_text(a)),
            None,
        ),
        Step::AddAddress(a) => (
            StepKind::Address,
            address_text(a),
            "add",
            None,
            Some(address_text(a)),
        ),
        Step::DeleteLink(l) => (
            StepKind::Link,
            l.spec.name().to_owned(),
            "delete",
            Some(link_text(&l.spec)),
            None,
        ),
        Step::RestoreLink(l) => (
            StepKind::Link,
            l.spec.name().to_owned(),
            "restore",
            None,
            Some(link_text(&l.spec)),
        ),
        Step::CreateLink(l) => (
            StepKind::Link,
            l.name().to_owned(),
            "create",
            None,
            Some(link_text(l)),
        ),
        Step::SetMaster { link, from, to, .. } => (
            StepKind::Link,
            link.clone(),
            "set-master",
            from.clone(),
            to.clone(),
        ),
        Step::SetMtu { link, from, to } => {
            (StepKind::Link, link.clone(), "set-mtu", s(from), s(to))
        }
        Step::SetUp { link, up } => {
            let state = |up: bool| Some(if up { "up" } else { "down" }.to_owned());
            (
                StepKind::Link,
                link.clone(),
                "set-state",
                state(!up),
                state(*up),
            )
        }
        Step::Firewall {
            backend,
            zone,
            from,
            to,
        } => {
            let object = match backend {
                Backend::Nftables => "nftables table inet netc".to_owned(),
                Backend::Firewalld => format!("firewalld zone {zone}"),
            };
            let action = match (from, to) {
                (None, Some(_)) => "load",
                (Some(_), Some(_)) => "replace",
                (_, None) => "remove",
            };
            (StepKind::Firewall, object, action, from.clone(), to.clone())
        }
        Step::WriteFile { path, from, to } => (
            StepKind::File,
            path.clone(),
            if from.is_some() { "update" } else { "write" },
            from.as_deref().map(text),
            Some(text(to)),
        ),
        Step::RemoveFile { path, from } => (
            StepKind::File,
            path.clone(),
            "remove",
            Some(text(from)),
            None,
        ),
    };
    StepEntry {
        kind,
        object,
        action: action.to_owned(),
        before,
        after,
        description: step.to_string(),
        result,
    }
}

/// The exact command that confirms a pending `--try` for this state directory.
fn confirm_command(state_dir: &std::path::Path) -> String {
    let dir = state_dir.to_string_lossy();
    let plain = !dir.is_empty()
        && dir
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@%".contains(&b));
    let dir = if plain {
        dir.into_owned()
    } else {
        format!("'{}'", dir.replace('\'', r"'\''"))
    };
    format!("netc apply --confirm --state-dir {dir}")
}

/// `--watch`: the agent. Runs until SIGTERM/SIGINT, then exits 0.
fn watch(file: &str, opts: Options, args: &ApplyArgs, cli: &Cli) -> u8 {
    let agent = apply::agent::AgentOptions {
        apply: opts,
        file: PathBuf::from(file),
        interval: args.interval.unwrap_or(apply::agent::DEFAULT_INTERVAL),
    };
    let json = args.format == Format::Json;
    let quiet = cli.quiet;
    let mut load = || {
        let src = super::check::read_source(file)?;
        let generation = apply::status::generation(src.text.as_bytes());
        // A restarted agent (a new pod on the same node, same intent) finds the desired state
        // it derived before; passes over an unchanged file reuse the one in memory.
        let (derived, cached) = match desired_state(&src, &agent.apply) {
            Ok((derived, cached)) => (derived.map_err(|e| e.to_string()), cached),
            Err(checked) => (
                Err(checked
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(|d| format!("{:?}", d.to_report(&src)))
                    .collect::<Vec<_>>()
                    .join("\n")),
                false,
            ),
        };
        Ok(apply::agent::Intent {
            generation,
            derived,
            cached,
        })
    };
    let mut log = |line: String| {
        if quiet {
            return;
        }
        let mut out = std::io::stdout().lock();
        let _ = if json {
            let line = Versioned::new(WatchLine {
                event: WatchEvent::Agent,
                message: line,
            });
            writeln!(out, "{}", line.line())
        } else {
            writeln!(out, "{line}")
        };
        let _ = out.flush();
    };
    match apply::agent::run(&agent, &mut load, &mut log) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("netc: {e}");
            exit_code(&e)
        }
    }
}

/// Writes the status record of a one-shot apply (the one an agent pass writes, of kind
/// `apply`), so `netc status` can tell whether the node runs the intent. Nothing is recorded
/// for a dry run, nor for a failure to get the lock (the record is the lock holder's).
fn record_one_shot(
    opts: &Options,
    file: &str,
    generation: &str,
    outcome: &Result<apply::Report, ApplyError>,
) {
    if opts.dry_run
        || matches!(
            outcome,
            Err(ApplyError::Locked { .. }
                | ApplyError::Interrupted { .. }
                | ApplyError::AgentRunning { .. })
        )
    {
        return;
    }
    let now = apply::agent::unix_now();
    let previous = apply::status::load(&opts.state_dir).ok().flatten();
    let applied = match outcome {
        Ok(_) => Some(generation.to_owned()),
        // A failed apply changed nothing that stays: the host is still what it was.
        Err(_) => previous.and_then(|p| p.applied_generation),
    };
    let record = apply::status::Status {
        kind: apply::status::RecordKind::Apply,
        node: opts.node.clone(),
        file: std::path::absolute(file)
            .ok()
            .map(|p| p.display().to_string()),
        pid: None,
        updated: now,
        lock_timeout_secs: opts.lock_timeout.as_secs(),
        blocked: None,
        retry: None,
        notes: match outcome {
            Ok(r) => r
                .reverted_try
                .map(|d| {
                    format!("reverted an unconfirmed --try apply whose deadline ({d}) had passed")
                })
                .into_iter()
                .chain(r.revert_at.map(|at| {
                    format!("a --try apply: reverts at {at} unless `netc apply --confirm`")
                }))
                .collect(),
            Err(_) => Vec::new(),
        },
        generation: generation.to_owned(),
        applied_generation: applied,
        last_pass: now,
        interval_secs: 0,
        verified: outcome.is_ok(),
        drift_corrected: 0,
        last_corrections: Vec::new(),
        probes: outcome
            .as_ref()
            .map(|r| r.probes.clone())
            .unwrap_or_default(),
        failure: outcome.as_ref().err().map(ToString::to_string),
    };
    // The apply's own outcome is what the user asked for; a record it cannot write is said,
    // not fatal.
    if let Err(e) = apply::status::store(&opts.state_dir, &record) {
        eprintln!("netc: cannot record the status: {e}");
    }
}

/// The node's desired state for the intent `src` (read from `opts.source`), and whether it came
/// from `apply::store::cache`: an unchanged intent (same bytes, file name, node, `--root` and netc
/// build) skips the front end and takes the state derived last time; otherwise it is checked,
/// derived from its Plan and cached (except on a dry run, which leaves the state directory
/// alone; a cache that cannot be written only costs the next run a derivation). `Err` is the
/// check of an intent with errors.
fn desired_state(
    src: &SourceFile,
    opts: &Options,
) -> Result<(Result<Derived, ApplyError>, bool), Box<Checked>> {
    let key =
        apply::store::cache::Key::new(src.text.as_bytes(), &opts.source, &opts.node, &opts.root);
    // No secret (none yet, or the lock directory unusable): no cache hit, the intent is derived.
    if opts.state_dir.join(apply::store::cache::FILE).exists()
        && let Some(secret) = apply::store::cache::secret(&opts.lock_dir, false)
        && let Some(derived) = apply::store::cache::load(&opts.state_dir, &secret, &key)
    {
        return Ok((Ok(derived), true));
    }
    let checked = pipeline::check(src, Syntax::from_path(&opts.source));
    let Some(plan) = checked.valid_plan() else {
        return Err(Box::new(checked));
    };
    let derived = apply::derive(plan, opts);
    if let Ok(derived) = &derived
        && !opts.dry_run
        && let Some(secret) = apply::store::cache::secret(&opts.lock_dir, true)
    {
        let _ = apply::store::cache::store(&opts.state_dir, &secret, &key, derived);
    }
    Ok((derived, false))
}
