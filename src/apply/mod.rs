//! `netc apply`: makes one node match the intent, as one explicit loop —
//! [`observe`] → [`desired`] → [`diff`] → [`execute`] → [`verify`], with [`rollback`] of the
//! applied steps on any failure, under a [`lock`], recording ownership in [`state`].
//!
//! This is the only module (with `output`) that changes the host. It never touches an object
//! the state file does not list as netc's, except with `--force`.

// The vocabulary: what a node wants (`spec`, `desired`), a change (`step`), what netc owns
// (`record`).
pub mod desired;
pub mod record;
pub mod spec;
pub mod step;
// The pipeline: observe → diff (and verify) → execute (and rollback), on the host's
// interfaces, with netc's records kept in the store.
pub mod diff;
pub mod execute;
pub mod firewall;
pub mod host;
pub mod observe;
pub mod store;
// Around a pass: the lock, the agent, the status record.
pub mod agent;
pub mod lock;
pub mod status;
pub mod stop;

use std::path::PathBuf;
use std::time::Duration;

use self::desired::{Derived, Desired};
use self::diff::verify;
use self::execute::Executor;
use self::execute::rollback;
use self::firewall::{Backend, generation};
use self::host::netlink::Netlink;
use self::host::{modules, probe};
use self::observe::Observed;
use self::record::Owned;
use self::step::Step;
use self::store::pending::Pending;
use self::store::{pending, state};
use crate::emit::{self, EmitError};
use crate::plan::Plan;

/// Why an apply did not complete.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("node {node} is not in the intent (nodes: {})", known.join(", "))]
    UnknownNode { node: String, known: Vec<String> },
    #[error("kernel refused {object}: {source}")]
    Netlink {
        object: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot access {object}: {source}")]
    Io {
        object: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot emit the node's artifacts: {0}")]
    Emit(#[from] EmitError),
    #[error("{tool} failed: {message}")]
    Tool { tool: String, message: String },
    /// A link a step names is not in the kernel's dump.
    #[error("link {name} does not exist")]
    NoSuchLink { name: String },
    /// A link to delete is not the one the plan saw (its kind or identity changed).
    #[error("not deleting {name}: not the link planned ({why})")]
    NotThePlannedLink { name: String, why: String },
    /// A deleted link was recreated, but some of its parts (addresses, routes, ...) were not.
    #[error("{name} recreated, but not all of it: {}", .failed.join("; "))]
    PartlyRestored { name: String, failed: Vec<String> },
    /// A batch of file writes handed to the file writer holds a step of another kind.
    #[error("a batch of file writes holds another step")]
    MixedWriteBatch,
    /// The firewall runner was handed a step that is not a firewall step.
    #[error("{step} is not a firewall step")]
    NotAFirewallStep { step: String },
    /// A worker thread panicked (`what`: "writing files", "the firewall step").
    #[error("{what} panicked")]
    Panicked { what: &'static str },
    /// `--try` reverted because nobody confirmed it.
    #[error("--try was not confirmed")]
    TryNotConfirmed,
    /// The host overlay needs an IPv4 node address the node has not.
    #[error("the host overlay needs an IPv4 node address; node {node} has none")]
    OverlayNeedsIpv4 { node: String },
    /// No interface holds the node's address, so the overlay's underlay is unknown.
    #[error(
        "no interface of node {node} holds its address {address}: name the underlay in \
         hostOverlay.vxlan.interface"
    )]
    NoUnderlay { node: String, address: String },
    /// Two artifacts of the node install to the same host path.
    #[error("two artifacts install to {path} on node {node}")]
    DuplicateFile { path: String, node: String },
    /// An nftables ruleset artifact is not UTF-8.
    #[error("{path} is not UTF-8 text")]
    NotUtf8 { path: String },
    /// Emit produced two nftables rulesets for one node.
    #[error("two nftables rulesets for node {node}")]
    DuplicateRuleset { node: String },
    /// The node's firewall is nftables but emit produced no ruleset for it.
    #[error("emit produced no nftables ruleset for node {node}")]
    NoRuleset { node: String },
    /// A sysctl that is not per network namespace (netc only persists it).
    #[error("sysctl {key} is not per network namespace; netc only persists it")]
    SysctlNotRuntime { key: String },
    /// A sysctl key that names no file under `/proc/sys`.
    #[error("bad sysctl key {key}")]
    BadSysctlKey { key: String },
    /// A file path that is empty or has `..`, `.`, an empty part or a NUL.
    #[error("refusing file path {path}")]
    BadFilePath { path: String },
    /// The file itself is a symbolic link (netc follows none under `--root`).
    #[error("refusing {}: it is a symbolic link (netc does not follow links under --root)", .path.display())]
    SymbolicLink { path: PathBuf },
    /// A directory on the way is a symbolic link out of `--root` (or not a directory).
    #[error(
        "refusing {}: it is a symbolic link leading out of --root {} (or not a directory)",
        .path.display(),
        .root.display()
    )]
    LinkOutOfRoot { path: PathBuf, root: PathBuf },
    /// The path is there but is not a regular file (a FIFO, a directory, a device).
    #[error("refusing {}: not a regular file", .path.display())]
    NotRegularFile { path: PathBuf },
    /// The directory of a file to write could not be made.
    #[error("cannot create the directory of {path}")]
    NoDirectory { path: String },
    /// The firewall backend is firewalld but its daemon does not answer.
    #[error(
        "firewall backend firewalld: the firewalld daemon is not running on this host \
         (start it, or use backend: nftables)"
    )]
    FirewalldNotRunning,
    /// The firewalld zone the intent names does not exist.
    #[error(
        "firewalld has no zone {zone}: create it first (`firewall-cmd --permanent \
         --new-zone={zone}` and `firewall-cmd --reload`, as the emitted script does)"
    )]
    FirewalldNoZone { zone: String },
    #[error("required kernel modules are missing: {}", .0.join(", "))]
    MissingModules(Vec<String>),
    #[error("objects not owned by netc are in the way (use --force to take them over):\n  {}", .0.join("\n  "))]
    Conflicts(Vec<String>),
    /// What the host lacks (an interface, a sysctl of the kernel): `--force` cannot help.
    #[error("this host lacks what the plan needs:\n  {}", .0.join("\n  "))]
    HostLacks(Vec<String>),
    /// The node given is not this host (`netc::apply::not-this-node`), or an interface the
    /// node's plan uses is missing (`netc::apply::missing-interface`).
    #[error("[{code}] {message}")]
    WrongHost { code: &'static str, message: String },
    #[error("refusing to cut the management path (use --force if you are sure):\n  {}", .0.join("\n  "))]
    Refused(Vec<String>),
    #[error("another netc apply holds {path} (waited {waited}s)")]
    Locked { path: String, waited: u64 },
    #[error("stopped while {what}")]
    Interrupted { what: String },
    #[error(
        "another netc agent runs on state directory {state_dir} ({holder}): one agent per state directory"
    )]
    AgentRunning { state_dir: String, holder: String },
    #[error("state: {0}")]
    State(String),
    #[error(
        "a --try apply is waiting for confirmation until {deadline} (Unix time): run `netc apply --confirm` (or wait for its revert)"
    )]
    PendingTry { deadline: u64 },
    #[error("fault injected at step {step} ({what}) by NETC_FAULT_AT_STEP")]
    Fault { step: usize, what: String },
    #[error("verification failed after applying:\n  {}", .0.join("\n  "))]
    Verify(Vec<String>),
    #[error("connectivity lost after applying: {}", .0.join(", "))]
    ProbeFailed(Vec<String>),
    #[error("{cause}; {}", rolled_back(.errors))]
    RolledBack {
        cause: Box<ApplyError>,
        errors: Vec<String>,
    },
}

impl ApplyError {
    /// Whether the failure lies outside the intent and may pass on its own (a lock held by
    /// another apply, an I/O error of the state directory, a pending `--try`, a stop request):
    /// the agent retries it with backoff. Everything else is the intent's own fault on this
    /// host (a conflict, a refusal, a failed verification or probe: rolled back) and waits for
    /// a new intent.
    pub fn is_transient(&self) -> bool {
        match self {
            ApplyError::Locked { .. }
            | ApplyError::Io { .. }
            | ApplyError::State(_)
            | ApplyError::PendingTry { .. }
            | ApplyError::Interrupted { .. } => true,
            ApplyError::RolledBack { cause, errors } => errors.is_empty() && cause.is_transient(),
            _ => false,
        }
    }
}

fn rolled_back(errors: &[String]) -> String {
    if errors.is_empty() {
        "every applied step was rolled back".to_owned()
    } else {
        format!("rollback incomplete:\n  {}", errors.join("\n  "))
    }
}

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct Options {
    pub node: String,
    /// The intent file as named (for file headers).
    pub source: String,
    pub root: PathBuf,
    /// Where sysctls are read and written (`/proc/sys`).
    pub sysctl_dir: PathBuf,
    pub state_dir: PathBuf,
    pub dry_run: bool,
    pub force: bool,
    /// `--try SECS`.
    pub try_secs: Option<u64>,
    pub lock_timeout: Duration,
    /// `--lock-dir`: where the host lock lives ([`lock::DEFAULT_DIR`]).
    pub lock_dir: PathBuf,
    /// `--assume-node` (only with a `--root` other than `/`): skip the check that this host is
    /// the node (an image build prepares a node's files elsewhere).
    pub assume_node: bool,
    /// The agent (`apply --watch`): probe connectivity around every change, as `--try` does
    /// without the watchdog, reporting the targets that answer in [`Report::probes`]; and
    /// write back files netc wrote that were edited since (drift, not a conflict).
    pub agent: bool,
    /// The test-only fault switches (none in production; the CLI reads them from the
    /// environment: [`execute::Faults::from_env`]).
    pub faults: execute::Faults,
}

/// What happened, for progress output (`cli::apply` renders it as text or as the documents
/// of `machine`: this type has no serialized form of its own).
#[derive(Clone, Debug)]
pub enum Event {
    /// The steps to run (printed before running, and alone for `--dry-run`).
    Plan {
        steps: Vec<Step>,
    },
    /// Step `index` (1-based) of `total` took effect.
    Step {
        index: usize,
        total: usize,
        step: String,
    },
    /// Undoing applied steps.
    RollingBack {
        steps: usize,
    },
    Note {
        message: String,
    },
    /// A lock is busy: the apply waits (the message names the lock and its holder).
    Waiting {
        message: String,
    },
}

/// The outcome of a successful apply (serialized only through `machine`'s apply document).
#[derive(Clone, Debug)]
pub struct Report {
    pub node: String,
    pub changes: usize,
    pub dry_run: bool,
    /// Unix time at which a `--try` apply reverts unless confirmed.
    pub revert_at: Option<u64>,
    /// With [`Options::agent`]: the targets that answered before the change and after it (with
    /// no change: that answer now).
    pub probes: Vec<probe::Target>,
    /// The deadline of an unconfirmed `--try` whose watchdog did not revert it: this apply
    /// reverted it first.
    pub reverted_try: Option<u64>,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn open_netlink() -> Result<Netlink, ApplyError> {
    Netlink::open().map_err(|e| ApplyError::Netlink {
        object: "rtnetlink socket".into(),
        source: e,
    })
}

/// Observes everything `derived` and `owned` name, and resolves the desired state against it.
fn observe_all(
    nl: &mut Netlink,
    opts: &Options,
    derived: &Derived,
    owned: &Owned,
) -> Result<(Desired, Observed), ApplyError> {
    let mut observed = observe::observe_kernel(nl)?;
    let desired = derived.resolve(&observed)?;
    let mut paths: Vec<&str> = derived.file_paths().collect();
    // Files netc wrote that the intent no longer names (a path is read once).
    for f in &owned.files {
        if !desired.files.contains_key(&f.path) {
            paths.push(&f.path);
        }
    }
    observe::observe_host(
        &mut observed,
        &opts.root,
        &opts.sysctl_dir,
        derived.sysctl_keys(),
        paths.into_iter(),
    )?;
    let mut backends: Vec<(Backend, String)> = Vec::new();
    for part in desired
        .firewall
        .iter()
        .map(|f| (f.backend, f.zone.clone()))
        .chain(owned.firewall.iter().map(|f| (f.backend, f.zone.clone())))
    {
        // The intent's and the state file's part are usually the same one: read it once.
        if !backends.contains(&part) {
            backends.push(part);
        }
    }
    for (backend, zone) in backends {
        match backend {
            Backend::Nftables => {
                let before = generation::current();
                // Nothing committed since netc last listed the table: it is still that listing.
                let recorded = owned
                    .firewall
                    .as_ref()
                    .filter(|r| r.backend == Backend::Nftables && r.generation.is_some())
                    .filter(|r| r.generation == before);
                if let Some(record) = recorded {
                    observed.firewall_nft = Some(record.listing.clone());
                    observed.nft_generation = before;
                } else {
                    (observed.firewall_nft, observed.nft_generation) = firewall::list_nftables()?;
                }
            }
            Backend::Firewalld => {
                observed.firewall_firewalld = firewall::driver(backend, &zone).observe()?;
            }
        }
    }
    Ok((desired, observed))
}

/// What `opts.node` wants, derived from `plan`: the node's artifacts exactly as `emit`
/// produces them for `build`, plus the links, addresses, routes and sysctls the Plan gives the
/// node. (`apply::store::cache` keeps it between runs.)
pub fn derive(plan: &Plan, opts: &Options) -> Result<Derived, ApplyError> {
    let artifacts = emit::node_artifacts(plan, &opts.source, &opts.node)?.ok_or_else(|| {
        ApplyError::UnknownNode {
            node: opts.node.clone(),
            known: plan.nodes.iter().map(|n| n.name.clone()).collect(),
        }
    })?;
    desired::derive(plan, &opts.node, &artifacts)
}

/// Keeps, with netc's nftables record, the generation its listing was observed at, when
/// `observed` read exactly that listing at a known generation; otherwise none (the next pass
/// lists the table).
fn record_generation(owned: &mut Owned, observed: &Observed) {
    if let Some(record) = owned.firewall.as_mut()
        && record.backend == Backend::Nftables
    {
        record.generation = if observed.firewall_nft.as_deref() == Some(&record.listing) {
            observed.nft_generation.clone()
        } else {
            None
        };
    }
}

/// Makes this host what `derived` ([`derive`], or its cached copy) wants for `opts.node`.
pub fn apply(
    derived: &Derived,
    opts: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Result<Report, ApplyError> {
    let _lock = lock_host(opts, on_event)?;
    let reverted_try = revert_expired_try(opts, on_event)?;
    let owned = state::load(&opts.state_dir, &opts.node)?;
    let mut nl = open_netlink()?;
    let (desired, observed) = observe_all(&mut nl, opts, derived, &owned)?;
    if !opts.assume_node {
        derived.check_host(&observed)?;
    }
    modules::ensure(&desired.modules)?;

    let mut changes = diff::diff(
        &desired,
        &observed,
        &owned,
        diff::Mode::of(opts.force, opts.agent),
    );
    admit(&mut changes, opts.force, on_event)?;
    let steps = changes.steps;
    on_event(Event::Plan {
        steps: steps.clone(),
    });
    let report = |changes: usize, revert_at: Option<u64>| Report {
        node: opts.node.clone(),
        changes,
        dry_run: opts.dry_run,
        revert_at,
        probes: Vec::new(),
        reverted_try,
    };
    if opts.dry_run {
        return Ok(report(steps.len(), None));
    }
    if steps.is_empty() {
        converged(changes.owned_after, &owned, &observed, opts)?;
        let mut done = report(0, None);
        if opts.agent {
            done.probes = answering(probe::targets(derived, &observed));
        }
        return Ok(done);
    }

    let probes_before = watched(derived, &observed, opts);

    // What this pass creates is recorded before it is created (pending entries, identities
    // filled in after): a pass killed half-way leaves a record a later pass adopts or removes
    // the objects by, instead of finding them foreign.
    let pending = owned.with_pending(&changes.owned_after);
    let had_record = state::exists(&opts.state_dir);
    if pending != owned {
        state::store(&opts.state_dir, &pending)?;
    }
    let mut exec = Executor::new(nl, opts.root.clone(), opts.sysctl_dir.clone());
    // After a complete rollback the pending entries name nothing: the record before is put back.
    let undo = |exec: &mut Executor,
                applied: &[Step],
                observed: &Observed,
                cause: ApplyError,
                on_event: &mut dyn FnMut(Event)| {
        let error = undo(exec, applied, observed, cause, on_event);
        if matches!(&error, ApplyError::RolledBack { errors, .. } if errors.is_empty())
            && pending != owned
            && let Err(e) = if had_record {
                state::store(&opts.state_dir, &owned)
            } else {
                state::remove(&opts.state_dir)
            }
        {
            return ApplyError::RolledBack {
                cause: Box::new(error),
                errors: vec![format!("cannot restore the ownership record: {e}")],
            };
        }
        error
    };
    let total = steps.len();
    let outcome = execute::execute(&mut exec, &steps, opts.faults, |i, step| {
        on_event(Event::Step {
            index: i + 1,
            total,
            step: step.to_string(),
        });
    });
    let applied = match outcome {
        Ok(()) => steps.clone(),
        Err((cause, applied)) => {
            return Err(undo(&mut exec, &applied, &observed, cause, on_event));
        }
    };

    keep_listing(&mut exec, &mut changes.owned_after);
    // Record what the firewall backend now reports, for the next idempotence check.
    let (_, after) = match observe_all(exec.netlink(), opts, derived, &changes.owned_after) {
        Ok(v) => v,
        Err(e) => return Err(undo(&mut exec, &applied, &observed, e, on_event)),
    };
    let mut owned_after = changes.owned_after;
    record_after(&mut owned_after, &after);
    if let Err(e) = check_after(&desired, &after, &owned_after, &probes_before)
        .and_then(|()| state::store(&opts.state_dir, &owned_after))
    {
        return Err(undo(&mut exec, &applied, &observed, e, on_event));
    }

    let revert_at = match opts.try_secs {
        Some(secs) => Some(keep_for_confirmation(opts, secs, &applied, owned)?),
        None => None,
    };
    let mut done = report(applied.len(), revert_at);
    if opts.agent {
        done.probes = probes_before;
    }
    Ok(done)
}

/// The notes of `changes` as events; an error when the host lacks what the plan needs, a
/// foreign object is in the way, or (without `force`) a step would cut the management path.
/// Takes the host's and the state directory's locks, reporting a wait on a busy one.
fn lock_host(
    opts: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Result<lock::ApplyLock, ApplyError> {
    lock::acquire(
        &opts.state_dir,
        &opts.lock_dir,
        &mut lock::Wait {
            timeout: opts.lock_timeout,
            on_busy: &mut |message| {
                on_event(Event::Waiting {
                    message: message.to_owned(),
                })
            },
        },
    )
}

/// Records in `owned_after` what the host reports after the steps ran: the identities of
/// the objects, the nftables listing if none was kept, the generations.
fn record_after(owned_after: &mut Owned, after: &Observed) {
    owned_after.record_identity(after);
    if let Some(record) = owned_after.firewall.as_mut()
        && record.backend == Backend::Nftables
        && record.listing.is_empty()
    {
        record.listing = after.firewall_nft.clone().unwrap_or_default();
    }
    record_generation(owned_after, after);
}

/// Whether the host after the steps is what `desired` asks for ([`ApplyError::Verify`]
/// otherwise) and every probe target that answered before still answers
/// ([`ApplyError::ProbeFailed`] otherwise).
fn check_after(
    desired: &Desired,
    after: &Observed,
    owned_after: &Owned,
    probes_before: &[probe::Target],
) -> Result<(), ApplyError> {
    let differences = verify::verify(desired, after, owned_after);
    if !differences.is_empty() {
        return Err(ApplyError::Verify(differences));
    }
    let lost: Vec<String> = probes_before
        .iter()
        .zip(probe::reachable_all(probes_before))
        .filter(|(_, answers)| !answers)
        .map(|(t, _)| t.to_string())
        .collect();
    if lost.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::ProbeFailed(lost))
    }
}

fn admit(
    changes: &mut diff::Changes,
    force: bool,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), ApplyError> {
    for message in &changes.notes {
        on_event(Event::Note {
            message: message.clone(),
        });
    }
    if !changes.missing.is_empty() {
        return Err(ApplyError::HostLacks(std::mem::take(&mut changes.missing)));
    }
    if !changes.conflicts.is_empty() {
        return Err(ApplyError::Conflicts(std::mem::take(
            &mut changes.conflicts,
        )));
    }
    if !changes.refusals.is_empty() && !force {
        return Err(ApplyError::Refused(std::mem::take(&mut changes.refusals)));
    }
    Ok(())
}

/// The table as listed right after loading it (beside the routes), at a generation: while
/// the kernel reports that generation, observing after the steps takes it instead of listing
/// again.
fn keep_listing(exec: &mut Executor, owned_after: &mut Owned) {
    if let Some((listing, generation)) = exec.take_listing()
        && let Some(record) = owned_after.firewall.as_mut()
        && record.backend == Backend::Nftables
        && record.listing.is_empty()
        && generation.is_some()
    {
        record.listing = listing;
        record.generation = generation;
    }
}

/// A `--try` whose watchdog died is reverted by the first apply after its deadline (under the
/// lock); one still waiting for confirmation refuses the apply. Returns the deadline of the
/// one reverted.
fn revert_expired_try(
    opts: &Options,
    on_event: &mut dyn FnMut(Event),
) -> Result<Option<u64>, ApplyError> {
    let Some(pending) = pending::load(&opts.state_dir)? else {
        return Ok(None);
    };
    if opts.dry_run || now() < pending.deadline {
        return Err(ApplyError::PendingTry {
            deadline: pending.deadline,
        });
    }
    on_event(Event::Note {
        message: format!(
            "reverting an unconfirmed --try apply whose deadline ({}) has passed",
            pending.deadline
        ),
    });
    revert_locked(&opts.state_dir, &pending)?;
    Ok(Some(pending.deadline))
}

/// A pass with nothing to change: the ownership record as `diff` leaves it, with the
/// identities a record of an older version lacks, stored when it differs from `owned`.
fn converged(
    mut owned_after: Owned,
    owned: &Owned,
    observed: &Observed,
    opts: &Options,
) -> Result<(), ApplyError> {
    owned_after.record_identity(observed);
    record_generation(&mut owned_after, observed);
    if !state::is_current(owned, &owned_after) {
        state::store(&opts.state_dir, &owned_after)?;
    }
    Ok(())
}

/// The `targets` that answer now.
/// The probe targets that answer before a `--try` or agent pass changes anything (those it
/// must not lose); none for a plain apply.
fn watched(derived: &Derived, observed: &Observed, opts: &Options) -> Vec<probe::Target> {
    if opts.try_secs.is_some() || opts.agent {
        answering(probe::targets(derived, observed))
    } else {
        Vec::new()
    }
}

fn answering(targets: Vec<probe::Target>) -> Vec<probe::Target> {
    let answers = probe::reachable_all(&targets);
    targets
        .into_iter()
        .zip(answers)
        .filter_map(|(t, ok)| ok.then_some(t))
        .collect()
}

/// Rolls back `applied` after `cause`, and says so in the error: what failed to run, and what
/// of the kernel state observed `before` the apply is still not back.
fn undo(
    exec: &mut Executor,
    applied: &[Step],
    before: &Observed,
    cause: ApplyError,
    on_event: &mut dyn FnMut(Event),
) -> ApplyError {
    on_event(Event::RollingBack {
        steps: applied.len(),
    });
    let mut errors = rollback::rollback(exec, &rollback::undo_steps(applied));
    match observe::observe_kernel(exec.netlink()) {
        Ok(after) => errors.extend(rollback::residue(before, &after, applied)),
        Err(e) => errors.push(format!("cannot re-read the host after rolling back: {e}")),
    }
    ApplyError::RolledBack {
        cause: Box::new(cause),
        errors,
    }
}

/// `--try SECS`: records what undoes `applied` (and the ownership record `previous`) until
/// the deadline it returns, and starts the watchdog that reverts it then unless confirmed.
fn keep_for_confirmation(
    opts: &Options,
    secs: u64,
    applied: &[Step],
    previous: Owned,
) -> Result<u64, ApplyError> {
    let deadline = now() + secs;
    let pending = Pending {
        deadline,
        root: opts.root.clone(),
        sysctl_dir: opts.sysctl_dir.clone(),
        undo: rollback::undo_steps(applied),
        previous,
    };
    pending::store(&opts.state_dir, &pending)?;
    spawn_watchdog(opts)?;
    Ok(deadline)
}

fn spawn_watchdog(opts: &Options) -> Result<(), ApplyError> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(|e| ApplyError::Io {
        object: "the netc executable".into(),
        source: e,
    })?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("apply")
        .arg("--revert-pending")
        .arg("--state-dir")
        .arg(&opts.state_dir)
        .arg("--lock-dir")
        .arg(&opts.lock_dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .env_remove(execute::FAULT_ENV)
        .env_remove(execute::PANIC_ENV);
    // Its own session: the watchdog outlives the terminal (and ssh session) that started it.
    cmd.process_group(0);
    cmd.spawn().map(|_| ()).map_err(|e| ApplyError::Io {
        object: "the --try watchdog process".into(),
        source: e,
    })
}

/// `netc apply --confirm`: keeps a `--try` apply. Returns whether one was pending.
pub fn confirm(state_dir: &std::path::Path, timeout: Duration) -> Result<bool, ApplyError> {
    let _lock = lock::acquire_state_only(
        state_dir,
        &mut lock::Wait {
            timeout,
            on_busy: &mut |_| {},
        },
    )?;
    let pending = pending::load(state_dir)?.is_some();
    pending::clear(state_dir)?;
    Ok(pending)
}

/// The watchdog of `--try`: waits for the deadline, then reverts unless confirmed meanwhile.
/// Returns whether it reverted.
pub fn revert_pending(
    state_dir: &std::path::Path,
    lock_dir: &std::path::Path,
    wait: bool,
) -> Result<bool, ApplyError> {
    loop {
        let Some(pending) = pending::load(state_dir)? else {
            return Ok(false);
        };
        let now = now();
        if wait && now < pending.deadline {
            std::thread::sleep(Duration::from_millis(
                ((pending.deadline - now) * 1000).min(500),
            ));
            continue;
        }
        let _lock = lock::acquire(
            state_dir,
            lock_dir,
            &mut lock::Wait {
                timeout: Duration::from_secs(60),
                on_busy: &mut |_| {},
            },
        )?;
        // Confirmed (or reverted by a later apply) while we waited for the lock?
        let Some(pending) = pending::load(state_dir)? else {
            return Ok(false);
        };
        revert_locked(state_dir, &pending)?;
        return Ok(true);
    }
}

/// Reverts the pending `--try` apply `pending` (under the lock): its undo steps, its previous
/// ownership record, and no pending record.
fn revert_locked(state_dir: &std::path::Path, pending: &Pending) -> Result<(), ApplyError> {
    let mut exec = Executor::new(
        open_netlink()?,
        pending.root.clone(),
        pending.sysctl_dir.clone(),
    );
    let errors = rollback::rollback(&mut exec, &pending.undo);
    state::store(state_dir, &pending.previous)?;
    pending::clear(state_dir)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::RolledBack {
            cause: Box::new(ApplyError::TryNotConfirmed),
            errors,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each failure kind that was once `Unsupported(String)` prints the message it printed
    /// then, and none is transient (the agent waits for a new intent, as before).
    #[test]
    fn failure_kinds_keep_their_messages_and_are_not_transient() {
        let cases = [
            (
                ApplyError::NoSuchLink { name: "br0".into() },
                "link br0 does not exist",
            ),
            (
                ApplyError::NotThePlannedLink {
                    name: "br0".into(),
                    why: "kind changed".into(),
                },
                "not deleting br0: not the link planned (kind changed)",
            ),
            (
                ApplyError::PartlyRestored {
                    name: "br0".into(),
                    failed: vec!["address a".into(), "route b".into()],
                },
                "br0 recreated, but not all of it: address a; route b",
            ),
            (
                ApplyError::MixedWriteBatch,
                "a batch of file writes holds another step",
            ),
            (
                ApplyError::NotAFirewallStep { step: "x".into() },
                "x is not a firewall step",
            ),
            (
                ApplyError::Panicked {
                    what: "writing files",
                },
                "writing files panicked",
            ),
            (
                ApplyError::Panicked {
                    what: "the firewall step",
                },
                "the firewall step panicked",
            ),
            (ApplyError::TryNotConfirmed, "--try was not confirmed"),
        ];
        keep_their_messages(cases);
    }

    /// The same for the failures of deriving the node's wants and of its files, sysctls and
    /// firewall backend.
    #[test]
    fn host_failure_kinds_keep_their_messages_and_are_not_transient() {
        let p = PathBuf::from;
        let cases = [
            (
                ApplyError::OverlayNeedsIpv4 { node: "n1".into() },
                "the host overlay needs an IPv4 node address; node n1 has none",
            ),
            (
                ApplyError::NoUnderlay {
                    node: "n1".into(),
                    address: "10.0.0.1".into(),
                },
                "no interface of node n1 holds its address 10.0.0.1: name the underlay in \
                 hostOverlay.vxlan.interface",
            ),
            (
                ApplyError::DuplicateFile {
                    path: "/etc/a".into(),
                    node: "n1".into(),
                },
                "two artifacts install to /etc/a on node n1",
            ),
            (
                ApplyError::NotUtf8 {
                    path: "a.nft".into(),
                },
                "a.nft is not UTF-8 text",
            ),
            (
                ApplyError::DuplicateRuleset { node: "n1".into() },
                "two nftables rulesets for node n1",
            ),
            (
                ApplyError::NoRuleset { node: "n1".into() },
                "emit produced no nftables ruleset for node n1",
            ),
            (
                ApplyError::SysctlNotRuntime { key: "k".into() },
                "sysctl k is not per network namespace; netc only persists it",
            ),
            (
                ApplyError::BadSysctlKey { key: "k".into() },
                "bad sysctl key k",
            ),
            (
                ApplyError::BadFilePath {
                    path: "/a/../b".into(),
                },
                "refusing file path /a/../b",
            ),
            (
                ApplyError::SymbolicLink {
                    path: p("/r/etc/a"),
                },
                "refusing /r/etc/a: it is a symbolic link (netc does not follow links under --root)",
            ),
            (
                ApplyError::LinkOutOfRoot {
                    path: p("/r/etc"),
                    root: p("/r"),
                },
                "refusing /r/etc: it is a symbolic link leading out of --root /r (or not a directory)",
            ),
            (
                ApplyError::NotRegularFile {
                    path: p("/r/etc/a"),
                },
                "refusing /r/etc/a: not a regular file",
            ),
            (
                ApplyError::NoDirectory {
                    path: "/etc/a".into(),
                },
                "cannot create the directory of /etc/a",
            ),
            (
                ApplyError::FirewalldNotRunning,
                "firewall backend firewalld: the firewalld daemon is not running on this host \
                 (start it, or use backend: nftables)",
            ),
            (
                ApplyError::FirewalldNoZone { zone: "k8s".into() },
                "firewalld has no zone k8s: create it first (`firewall-cmd --permanent \
                 --new-zone=k8s` and `firewall-cmd --reload`, as the emitted script does)",
            ),
        ];
        keep_their_messages(cases);
    }

    fn keep_their_messages<const N: usize>(cases: [(ApplyError, &str); N]) {
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
            assert!(!error.is_transient(), "{text}");
        }
    }
}
