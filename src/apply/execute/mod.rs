//! Runs steps against the host, in order, keeping the list of those that took effect.

pub mod rollback;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::PathBuf;

use super::desired::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::generation::Generation;
use super::host::netlink::{
    Fdb, Link, LinkExtras, Mac, Netlink, NewLink, PortSettings, ROUTE_PROTOCOL, Route,
};
use super::host::{files, sysctl};
use super::observe::{Parameters, identify};
use super::step::{LinkSnapshot, Step};
use super::{ApplyError, firewall};

/// The environment variable of the test-only fault switch: `NETC_FAULT_AT_STEP=K` makes the
/// K-th step (1-based) of an apply fail before it runs, to exercise rollback. Unset by default.
/// Read by the CLI only ([`Faults::from_env`]); [`execute`] takes the switches as an argument.
pub const FAULT_ENV: &str = "NETC_FAULT_AT_STEP";
/// The test-only panic switch: `NETC_PANIC_AT_STEP=K` makes the worker thread that runs step K
/// beside the main thread panic there, to prove a panicking worker does not skip rollback: the
/// firewall step loaded beside a route batch panics after its load, a file write staged ahead
/// of its step after staging. Steps on the main thread ignore it. Unset by default.
pub const PANIC_ENV: &str = "NETC_PANIC_AT_STEP";

/// The handles steps need: a netlink socket, `--root`, `--sysctl-dir`, link indices by name.
pub struct Executor {
    nl: Netlink,
    root: PathBuf,
    sysctl_dir: PathBuf,
    indices: HashMap<String, u32>,
    /// The nftables table as listed right after a load beside a route batch, with the
    /// generation it was read at.
    listing: Option<(String, Option<Generation>)>,
}

impl Executor {
    pub fn new(nl: Netlink, root: PathBuf, sysctl_dir: PathBuf) -> Self {
        Self {
            nl,
            root,
            sysctl_dir,
            indices: HashMap::new(),
            listing: None,
        }
    }

    /// The table listed after the last load beside a route batch, if any (taken once).
    pub fn take_listing(&mut self) -> Option<(String, Option<Generation>)> {
        self.listing.take()
    }

    pub fn netlink(&mut self) -> &mut Netlink {
        &mut self.nl
    }

    fn index(&mut self, name: &str) -> Result<u32, ApplyError> {
        if let Some(i) = self.indices.get(name) {
            return Ok(*i);
        }
        let links = self.nl.links().map_err(|e| ApplyError::Netlink {
            object: "dump of links".into(),
            source: e,
        })?;
        self.indices = links.into_iter().map(|l| (l.name, l.index)).collect();
        self.indices
            .get(name)
            .copied()
            .ok_or_else(|| ApplyError::NoSuchLink {
                name: name.to_owned(),
            })
    }

    /// Runs one step.
    pub fn run(&mut self, step: &Step) -> Result<(), ApplyError> {
        let object = step.to_string();
        let kernel = |e: std::io::Error| ApplyError::Netlink {
            object: object.clone(),
            source: e,
        };
        match step {
            Step::SetSysctl { key, to, .. } => sysctl::write(&self.sysctl_dir, key, to),
            Step::CreateLink(spec) => {
                // A bridge gets a MAC of its own choosing (locally administered, random): with
                // one set, the kernel keeps it when ports join instead of taking the lowest
                // port's (`br_stp_recalculate_bridge_id`), so the link keeps the identity the
                // state file records.
                let mac = match spec {
                    LinkSpec::Bridge { .. } => Some(random_mac()?),
                    LinkSpec::Vxlan { .. } => None,
                };
                let extras = LinkExtras {
                    mac,
                    ..LinkExtras::default()
                };
                self.create(spec, &extras).map_err(kernel)
            }
            Step::DeleteLink(snapshot) => {
                let link = self.current(snapshot.spec.name())?;
                if let Err(why) = identify(&snapshot.identity(), &link, Parameters::Kind) {
                    return Err(ApplyError::NotThePlannedLink {
                        name: snapshot.spec.name().to_owned(),
                        why: why.to_string(),
                    });
                }
                self.indices.clear();
                self.nl.delete_link(link.index).map_err(kernel)
            }
            Step::RestoreLink(snapshot) => self.restore(snapshot, &object),
            Step::SetMaster {
                link, to, to_port, ..
            } => self.set_master(&object, link, to.as_deref(), to_port.as_ref()),
            Step::SetMtu { link, to, .. } => {
                let index = self.index(link)?;
                self.nl.set_mtu(index, *to).map_err(kernel)
            }
            Step::SetUp { link, up } => {
                let index = self.index(link)?;
                self.nl.set_up(index, *up).map_err(kernel)
            }
            Step::AddAddress(AddressSpec { link, net }) => {
                let index = self.index(link)?;
                self.nl.add_address(index, net).map_err(kernel)
            }
            Step::DeleteAddress(AddressSpec { link, net }) => {
                let index = self.index(link)?;
                self.nl.delete_address(index, net).map_err(kernel)
            }
            Step::AddFdb(e) => {
                let entry = self.fdb(e)?;
                self.nl.add_fdb(&entry).map_err(kernel)
            }
            Step::DeleteFdb(e) => {
                let entry = self.fdb(e)?;
                self.nl.delete_fdb(&entry).map_err(kernel)
            }
            Step::AddRoute(r) => self.nl.add_route(&route(r)).map_err(kernel),
            Step::DeleteRoute(r) => self.nl.delete_route(&route(r)).map_err(kernel),
            Step::Firewall { .. } => run_firewall(step),
            Step::WriteFile { path, to, .. } => files::write(&self.root, path, to),
            Step::RemoveFile { path, .. } => files::remove(&self.root, path),
        }
    }

    /// Runs route steps (only [`Step::AddRoute`] and [`Step::DeleteRoute`]) as one pipelined
    /// batch; one result per step, in order, as [`Self::run`] would have returned them.
    pub fn run_routes(&mut self, steps: &[Step]) -> Vec<Result<(), ApplyError>> {
        let routes: Vec<(bool, Route)> = steps
            .iter()
            .filter_map(|s| match s {
                Step::AddRoute(r) => Some((true, route(r))),
                Step::DeleteRoute(r) => Some((false, route(r))),
                _ => None,
            })
            .collect();
        if routes.len() != steps.len() {
            return steps.iter().map(|s| self.run(s)).collect();
        }
        self.nl
            .change_routes(&routes)
            .into_iter()
            .zip(steps)
            .map(|(result, step)| {
                result.map_err(|e| ApplyError::Netlink {
                    object: step.to_string(),
                    source: e,
                })
            })
            .collect()
    }

    /// Commits file writes staged beforehand ([`files::stage`] of [`writes`]` (steps)`), or
    /// stages and commits them now: `written(k)` for each step in place, in order; on failure
    /// the error and the index of the step it concerns.
    pub fn run_writes(
        &mut self,
        steps: &[Step],
        staged: Option<Result<files::StagedFiles, (usize, ApplyError)>>,
        written: impl FnMut(usize),
    ) -> Result<(), (usize, ApplyError)> {
        let staged = match staged {
            Some(staged) => staged,
            None => {
                let writes = writes(steps).ok_or((0, ApplyError::MixedWriteBatch))?;
                files::stage(&self.root, &writes)
            }
        };
        staged?.commit(written)
    }

    /// Creates the link of `spec` with `extras`.
    fn create(&mut self, spec: &LinkSpec, extras: &LinkExtras<'_>) -> std::io::Result<()> {
        let result = match spec {
            LinkSpec::Bridge { name } => self.nl.create_link(&NewLink::Bridge { name }, extras),
            LinkSpec::Vxlan {
                name,
                vni,
                port,
                local,
                underlay,
                ..
            } => {
                let underlay = self
                    .index(underlay)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                self.nl.create_link(
                    &NewLink::Vxlan {
                        name,
                        vni: *vni,
                        port: *port,
                        local: *local,
                        underlay,
                    },
                    extras,
                )
            }
        };
        self.indices.clear();
        result
    }

    /// The link called `name` as the kernel reports it now.
    fn current(&mut self, name: &str) -> Result<Link, ApplyError> {
        let links = self.nl.links().map_err(|e| ApplyError::Netlink {
            object: "dump of links".into(),
            source: e,
        })?;
        links
            .into_iter()
            .find(|l| l.name == name)
            .ok_or_else(|| ApplyError::NoSuchLink {
                name: name.to_owned(),
            })
    }

    /// Recreates a deleted link as `snapshot` saw it: same index, MAC, MTU and bridge
    /// parameters in the creating request, then its bridge membership, its ports and the
    /// port settings joining reset, up state, addresses, forwarding entries and the routes
    /// through it. Goes on past a failing part and reports them all.
    fn restore(&mut self, snapshot: &LinkSnapshot, object: &str) -> Result<(), ApplyError> {
        let name = snapshot.spec.name().to_owned();
        let mac = snapshot.mac;
        let mut extras = LinkExtras {
            index: snapshot.index.unwrap_or(0),
            mac,
            mtu: snapshot.mtu,
            bridge: snapshot.bridge.as_ref(),
        };
        if let Err(e) = self.create(&snapshot.spec, &extras) {
            // The old index may have been taken meanwhile: any index beats no link.
            if extras.index == 0 || e.raw_os_error() != Some(libc::EBUSY) {
                return Err(ApplyError::Netlink {
                    object: object.to_owned(),
                    source: e,
                });
            }
            extras.index = 0;
            self.create(&snapshot.spec, &extras)
                .map_err(|e| ApplyError::Netlink {
                    object: object.to_owned(),
                    source: e,
                })?;
        }
        let mut failed: Vec<String> = Vec::new();
        let mut part = |what: String, r: Result<(), ApplyError>| {
            if let Err(e) = r {
                failed.push(format!("{what}: {e}"));
            }
        };
        let index = self.index(&name)?;
        if let Some(master) = &snapshot.port_of {
            let r = self.index(master).and_then(|m| {
                self.nl
                    .set_master(index, Some(m))
                    .map_err(|e| ApplyError::Netlink {
                        object: format!("bridge {master}"),
                        source: e,
                    })
            });
            part(format!("attach to {master}"), r);
        }
        for port in &snapshot.ports {
            let r = self.index(port).and_then(|p| {
                self.nl
                    .set_master(p, Some(index))
                    .map_err(|e| ApplyError::Netlink {
                        object: format!("port {port}"),
                        source: e,
                    })
            });
            part(format!("re-attach port {port}"), r);
        }
        if !snapshot.port_settings.is_empty() {
            match self.restore_port_settings(&snapshot.port_settings) {
                Ok(failed) => {
                    for (port, e) in failed {
                        part(format!("port settings of {port}"), Err(e));
                    }
                }
                Err(e) => part("port settings".into(), Err(e)),
            }
        }
        if snapshot.up {
            let r = self
                .nl
                .set_up(index, true)
                .map_err(|e| ApplyError::Netlink {
                    object: format!("set {name} up"),
                    source: e,
                });
            part("set up".into(), r);
        }
        for net in &snapshot.addresses {
            let r = self
                .nl
                .add_address(index, net)
                .map_err(|e| ApplyError::Netlink {
                    object: format!("address {net}"),
                    source: e,
                });
            part(format!("address {net}"), r);
        }
        for destination in &snapshot.fdb {
            let entry = Fdb {
                index,
                mac: FdbSpec::MAC,
                destination: Some(*destination),
            };
            let r = self.nl.add_fdb(&entry).map_err(|e| ApplyError::Netlink {
                object: format!("forwarding entry -> {destination}"),
                source: e,
            });
            part(format!("forwarding entry -> {destination}"), r);
        }
        for r in &snapshot.routes {
            let route = Route {
                destination: r.destination,
                gateway: r.gateway,
                oif: Some(index),
                protocol: r.protocol,
                metric: r.metric,
            };
            let result = self.nl.add_route(&route).map_err(|e| ApplyError::Netlink {
                object: format!("route {}", r.destination),
                source: e,
            });
            part(format!("route {}", r.destination), result);
        }
        if failed.is_empty() {
            Ok(())
        } else {
            Err(ApplyError::PartlyRestored {
                name: name.to_owned(),
                failed,
            })
        }
    }

    /// Puts `link` in bridge `to` (`None`: out of any), then gives it the bridge-port settings
    /// `to_port` it had there (a rollback's re-attach: joining resets them), sending only
    /// those that differ. `object` names the step in errors.
    fn set_master(
        &mut self,
        object: &str,
        link: &str,
        to: Option<&str>,
        to_port: Option<&PortSettings>,
    ) -> Result<(), ApplyError> {
        let kernel = |e: std::io::Error| ApplyError::Netlink {
            object: object.to_owned(),
            source: e,
        };
        let index = self.index(link)?;
        let master = match to {
            Some(m) => Some(self.index(m)?),
            None => None,
        };
        self.nl.set_master(index, master).map_err(kernel)?;
        let (Some(settings), Some(_)) = (to_port, master) else {
            return Ok(());
        };
        let recorded = BTreeMap::from([(link.to_owned(), settings.clone())]);
        match self.restore_port_settings(&recorded)?.pop() {
            Some((_, e)) => Err(e),
            None => Ok(()),
        }
    }

    /// Gives the links of `recorded` (by name) their recorded bridge-port settings back,
    /// sending only those that differ now (joining a bridge resets them to the kernel's
    /// defaults); returns the ports that refused, each with its error. A link that is no port
    /// now is skipped: re-attaching it failed, and said so.
    fn restore_port_settings(
        &mut self,
        recorded: &BTreeMap<String, PortSettings>,
    ) -> Result<Vec<(String, ApplyError)>, ApplyError> {
        let links = self.nl.links().map_err(|e| ApplyError::Netlink {
            object: "dump of links".into(),
            source: e,
        })?;
        let mut failed = Vec::new();
        for link in &links {
            let (Some(want), Some(now)) = (recorded.get(&link.name), &link.port) else {
                continue;
            };
            let missing = want.missing_from(now);
            if missing.is_empty() {
                continue;
            }
            if let Err(e) = self.nl.set_port(link.index, &missing) {
                let error = ApplyError::Netlink {
                    object: format!("bridge port {} ({missing})", link.name),
                    source: e,
                };
                failed.push((link.name.clone(), error));
            }
        }
        Ok(failed)
    }

    fn fdb(&mut self, e: &FdbSpec) -> Result<Fdb, ApplyError> {
        Ok(Fdb {
            index: self.index(&e.link)?,
            mac: FdbSpec::MAC,
            destination: Some(e.destination),
        })
    }
}

/// Runs a [`Step::Firewall`] (it needs nothing of the executor's, so it may run beside
/// route steps).
fn run_firewall(step: &Step) -> Result<(), ApplyError> {
    match step {
        Step::Firewall {
            backend,
            zone,
            from,
            to,
        } => firewall::driver(*backend, zone).replace(from.as_deref(), to.as_deref()),
        _ => Err(ApplyError::NotAFirewallStep {
            step: step.to_string(),
        }),
    }
}

fn route(r: &RouteSpec) -> Route {
    Route {
        destination: r.destination,
        gateway: Some(r.via),
        oif: None,
        protocol: ROUTE_PROTOCOL,
        metric: None,
    }
}

/// A random, locally administered, unicast MAC address.
fn random_mac() -> Result<Mac, ApplyError> {
    let mut mac = [0u8; 6];
    let mut filled = 0;
    while filled < mac.len() {
        // SAFETY: the buffer is valid for `len - filled` bytes from `filled`.
        let n =
            unsafe { libc::getrandom(mac[filled..].as_mut_ptr().cast(), mac.len() - filled, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(ApplyError::Io {
                object: "the kernel's random pool".into(),
                source: e,
            });
        }
        filled += n as usize;
    }
    mac[0] = (mac[0] & 0xfe) | 0x02;
    Ok(Mac(mac))
}

/// The test-only fault switches (off in production): where an apply fails or a worker thread
/// panics, to exercise rollback. Passed in explicitly; the CLI fills them from
/// [`FAULT_ENV`] and [`PANIC_ENV`] ([`Faults::from_env`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The step (1-based) the apply fails at, before it runs.
    pub fail_at: Option<usize>,
    /// The step (1-based) whose worker thread panics (a firewall step loaded beside a route
    /// batch, after its load; a file write staged ahead of its step, after staging).
    pub panic_at: Option<usize>,
}

impl Faults {
    /// The switches as the environment sets them.
    pub fn from_env() -> Self {
        let step = |name: &str| std::env::var(name).ok()?.trim().parse().ok();
        Faults {
            fail_at: step(FAULT_ENV),
            panic_at: step(PANIC_ENV),
        }
    }
}

fn is_route(step: &Step) -> bool {
    matches!(step, Step::AddRoute(_) | Step::DeleteRoute(_))
}

fn is_write(step: &Step) -> bool {
    matches!(step, Step::WriteFile { .. })
}

/// The (path, contents) of file write steps; `None` if another step is among them.
fn writes(steps: &[Step]) -> Option<Vec<(&str, &[u8])>> {
    steps
        .iter()
        .map(|s| match s {
            Step::WriteFile { path, to, .. } => Some((path.as_str(), to.as_slice())),
            _ => None,
        })
        .collect()
}

/// The thread staging a run of file writes ahead of its steps, and where the run starts. When
/// no step took it (an earlier step failed), it is joined on drop and a panic of it discarded:
/// a panic leaving [`execute`]'s scope would skip the rollback. Its temporary files are gone
/// with its result, or its unwinding.
struct Staging<'scope, T>(Option<(usize, std::thread::ScopedJoinHandle<'scope, T>)>);

impl<T> Drop for Staging<'_, T> {
    fn drop(&mut self) {
        if let Some((_, handle)) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// Where the run of steps matching `kind` from `i` ends: at the first other step, or before
/// the step the fault switch fails at.
fn run_end(steps: &[Step], i: usize, fault: Option<usize>, kind: fn(&Step) -> bool) -> usize {
    (i..steps.len())
        .find(|&j| !kind(&steps[j]) || (j > i && fault == Some(j + 1)))
        .unwrap_or(steps.len())
}

/// What [`execute`] runs at once (indices into the steps, 0-based).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Batch {
    /// One step, on the calling thread.
    Step(usize),
    /// A run of consecutive route steps, one pipelined netlink batch; with the firewall step
    /// right after it, loaded at the same time on another thread.
    Routes {
        steps: Range<usize>,
        firewall: Option<usize>,
    },
    /// A run of consecutive file writes, synced in one pass. `early`: written and synced under
    /// temporary names on another thread while the steps before it run (the first such run
    /// that has steps before it); each file still takes its place only at its own step.
    Writes { steps: Range<usize>, early: bool },
    /// The fault switch fails the apply here, before this step runs; nothing after it runs.
    Fault(usize),
}

/// How `steps` are run: pure, so the batching is tested without a kernel.
pub fn batches(steps: &[Step], faults: Faults) -> Vec<Batch> {
    let fault = faults.fail_at;
    let mut out = Vec::new();
    let mut early_taken = false;
    let mut i = 0;
    while i < steps.len() {
        if fault == Some(i + 1) {
            out.push(Batch::Fault(i));
            break;
        }
        if is_route(&steps[i]) {
            let end = run_end(steps, i, fault, is_route);
            // The firewall step after the batch, unless the fault switch fails it.
            let firewall = steps
                .get(end)
                .filter(|s| matches!(s, Step::Firewall { .. }) && fault != Some(end + 1))
                .map(|_| end);
            out.push(Batch::Routes {
                steps: i..end,
                firewall,
            });
            i = firewall.map_or(end, |f| f + 1);
        } else if is_write(&steps[i]) {
            let end = run_end(steps, i, fault, is_write);
            let early = i > 0 && !early_taken;
            early_taken |= early;
            out.push(Batch::Writes {
                steps: i..end,
                early,
            });
            i = end;
        } else {
            out.push(Batch::Step(i));
            i += 1;
        }
    }
    out
}

/// Runs `steps` in order, in the [`batches`] `faults` leave. On the first failure returns the
/// error and the steps that took effect (for rollback); `on_step` hears about each step after
/// it ran.
///
/// A run of consecutive route steps goes to the kernel as one pipelined batch: the kernel
/// handles each of them even after one fails, so every route step that took effect is among
/// the applied steps (and rolled back), and the error is that of the first that failed. A
/// firewall step right after such a run is loaded at the same time, on another thread (the
/// routing table and the firewall are independent; one nftables transaction or firewalld
/// call): if it took effect it is applied (after the routes), whatever the routes did. A run
/// of consecutive file writes is synced in one pass ([`files::stage`]): each file still
/// replaces its target atomically, and only those in place count as applied.
pub fn execute(
    exec: &mut Executor,
    steps: &[Step],
    faults: Faults,
    mut on_step: impl FnMut(usize, &Step),
) -> Result<(), (ApplyError, Vec<Step>)> {
    let plan = batches(steps, faults);
    let root = exec.root.clone();
    std::thread::scope(|scope| {
        let early = plan.iter().find_map(|b| match b {
            Batch::Writes { steps, early: true } => Some(steps.clone()),
            _ => None,
        });
        let mut staging = Staging(early.and_then(|run| {
            let writes = writes(&steps[run.clone()])?;
            let root = &root;
            Some((
                run.start,
                scope.spawn(move || {
                    let staged = files::stage(root, &writes);
                    if faults
                        .panic_at
                        .is_some_and(|k| k > run.start && k <= run.end)
                    {
                        panic!("{PANIC_ENV}: staging files panicked");
                    }
                    staged
                }),
            ))
        }));
        let mut applied = Vec::new();
        for batch in &plan {
            let result = match batch {
                Batch::Fault(i) => Err(ApplyError::Fault {
                    step: i + 1,
                    what: steps[*i].to_string(),
                }),
                Batch::Step(i) => exec.run(&steps[*i]).map(|()| {
                    applied.push(steps[*i].clone());
                    on_step(*i, &steps[*i]);
                }),
                Batch::Routes {
                    steps: run,
                    firewall,
                } => run_routes_beside_firewall(
                    exec,
                    steps,
                    run.clone(),
                    *firewall,
                    faults.panic_at,
                    &mut |i, ran| {
                        applied.push(steps[i].clone());
                        if ran {
                            on_step(i, &steps[i]);
                        }
                    },
                ),
                Batch::Writes { steps: run, .. } => {
                    let staged = match staging.0.take() {
                        Some((start, handle)) if start == run.start => {
                            Some(handle.join().unwrap_or_else(|_| {
                                Err((
                                    0,
                                    ApplyError::Panicked {
                                        what: "writing files",
                                    },
                                ))
                            }))
                        }
                        other => {
                            staging.0 = other;
                            None
                        }
                    };
                    exec.run_writes(&steps[run.clone()], staged, |k| {
                        applied.push(steps[run.start + k].clone());
                        on_step(run.start + k, &steps[run.start + k]);
                    })
                    .map_err(|(_, e)| e)
                }
            };
            if let Err(e) = result {
                return Err((e, applied));
            }
        }
        Ok(())
    })
}

/// The route steps `run` as one batch, and the firewall step `firewall` loaded beside them on
/// another thread. `applied(i, true)` hears of each step that took effect, the firewall step
/// after the routes; `applied(i, false)` of a firewall step that panicked, maybe after its load
/// (rolled back in any case). The error is the first of them.
fn run_routes_beside_firewall(
    exec: &mut Executor,
    steps: &[Step],
    run: Range<usize>,
    firewall: Option<usize>,
    panic_at: Option<usize>,
    applied: &mut dyn FnMut(usize, bool),
) -> Result<(), ApplyError> {
    let (routes, loaded) = std::thread::scope(|scope| {
        let loaded = firewall.map(|end| {
            let step = &steps[end];
            scope.spawn(move || {
                run_firewall(step)?;
                if panic_at == Some(end + 1) {
                    panic!("{PANIC_ENV}: the firewall step panicked after its load");
                }
                // Listed here too, while the routes still go in: the verification after the
                // steps need not list it again.
                let nftables = matches!(
                    step,
                    Step::Firewall {
                        backend: firewall::Backend::Nftables,
                        to: Some(_),
                        ..
                    }
                );
                Ok(if nftables {
                    firewall::list_nftables()
                        .ok()
                        .and_then(|(l, g)| l.map(|l| (l, g)))
                } else {
                    None
                })
            })
        });
        let routes = exec.run_routes(&steps[run.clone()]);
        (routes, loaded.map(|h| h.join()))
    });
    let mut first_error = None;
    for (k, result) in routes.into_iter().enumerate() {
        match result {
            Ok(()) => applied(run.start + k, true),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let (Some(end), Some(result)) = (firewall, loaded) {
        match result {
            Ok(Ok(listing)) => {
                exec.listing = listing;
                applied(end, true);
            }
            Ok(Err(e)) => {
                first_error.get_or_insert(e);
            }
            // A panic may come after the load took effect: the step is rolled back in any
            // case (restoring what it replaces is harmless if it did not take effect).
            Err(_) => {
                applied(end, false);
                first_error.get_or_insert(ApplyError::Panicked {
                    what: "the firewall step",
                });
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(n: u8) -> Step {
        Step::AddRoute(RouteSpec {
            destination: format!("10.0.{n}.0/24").parse().unwrap(),
            via: "192.168.1.1".parse().unwrap(),
        })
    }

    fn write(name: &str) -> Step {
        Step::WriteFile {
            path: format!("/etc/{name}"),
            from: None,
            to: b"x\n".to_vec(),
        }
    }

    fn other() -> Step {
        Step::SetUp {
            link: "cni0".into(),
            up: true,
        }
    }

    fn firewall() -> Step {
        Step::Firewall {
            backend: firewall::Backend::Nftables,
            zone: String::new(),
            from: None,
            to: Some(String::new()),
        }
    }

    /// Routes go as one batch with the firewall step right after them beside it, file writes
    /// as one synced run (the first after other steps staged early), anything else alone; the
    /// fault switch cuts a run before its step and ends the plan there.
    #[test]
    fn steps_are_batched_by_kind_and_cut_at_the_fault() {
        let steps = [
            write("a"),
            other(),
            route(1),
            route(2),
            firewall(),
            other(),
            write("b"),
            write("c"),
            route(3),
            write("d"),
        ];
        let none = Faults::default();
        assert_eq!(
            batches(&steps, none),
            [
                Batch::Writes {
                    steps: 0..1,
                    early: false
                },
                Batch::Step(1),
                Batch::Routes {
                    steps: 2..4,
                    firewall: Some(4)
                },
                Batch::Step(5),
                Batch::Writes {
                    steps: 6..8,
                    early: true
                },
                Batch::Routes {
                    steps: 8..9,
                    firewall: None
                },
                Batch::Writes {
                    steps: 9..10,
                    early: false
                },
            ]
        );
        // Failing at the second route (step 4, 1-based): the batch stops before it.
        let at = |k| Faults {
            fail_at: Some(k),
            panic_at: None,
        };
        assert_eq!(
            batches(&steps, at(4)),
            [
                Batch::Writes {
                    steps: 0..1,
                    early: false
                },
                Batch::Step(1),
                Batch::Routes {
                    steps: 2..3,
                    firewall: None
                },
                Batch::Fault(3),
            ]
        );
        // Failing at the firewall step: the routes go alone.
        assert_eq!(
            batches(&steps, at(5))[2..],
            [
                Batch::Routes {
                    steps: 2..4,
                    firewall: None
                },
                Batch::Fault(4),
            ]
        );
        // Failing at the first step: nothing runs; the panic switch changes no batch.
        assert_eq!(batches(&steps, at(1)), [Batch::Fault(0)]);
        let panic = Faults {
            fail_at: None,
            panic_at: Some(5),
        };
        assert_eq!(batches(&steps, panic), batches(&steps, none));
        assert!(batches(&[], none).is_empty());
    }
}
