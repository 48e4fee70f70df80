//! Runs steps against the host, in order, keeping the list of those that took effect.

use std::collections::HashMap;
use std::path::PathBuf;

use super::desired::{AddressSpec, FdbSpec, LinkSpec, RouteSpec};
use super::netlink::{Fdb, Netlink, NewLink, Route};
use super::step::Step;
use super::{ApplyError, files, firewall, sysctl};

/// The environment variable of the test-only fault switch: `NETC_FAULT_AT_STEP=K` makes the
/// K-th step (1-based) of an apply fail before it runs, to exercise rollback. Unset by default.
pub const FAULT_ENV: &str = "NETC_FAULT_AT_STEP";

/// Route protocol number netc's routes carry (`proto static` in `ip route`).
const ROUTE_PROTOCOL: u8 = 4;

/// The handles steps need: a netlink socket, `--root`, link indices by name.
pub struct Executor {
    nl: Netlink,
    root: PathBuf,
    indices: HashMap<String, u32>,
}

impl Executor {
    pub fn new(nl: Netlink, root: PathBuf) -> Self {
        Self {
            nl,
            root,
            indices: HashMap::new(),
        }
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
            .ok_or_else(|| ApplyError::Unsupported(format!("link {name} does not exist")))
    }

    /// Runs one step.
    pub fn run(&mut self, step: &Step) -> Result<(), ApplyError> {
        let object = step.to_string();
        let kernel = |e: std::io::Error| ApplyError::Netlink {
            object: object.clone(),
            source: e,
        };
        match step {
            Step::SetSysctl { key, to, .. } => sysctl::write(key, to),
            Step::CreateLink(spec) => {
                let result = match spec {
                    LinkSpec::Bridge { name } => self.nl.create_link(&NewLink::Bridge { name }),
                    LinkSpec::Vxlan {
                        name,
                        vni,
                        port,
                        local,
                        underlay,
                        ..
                    } => {
                        let underlay = self.index(underlay)?;
                        self.nl.create_link(&NewLink::Vxlan {
                            name,
                            vni: *vni,
                            port: *port,
                            local: *local,
                            underlay,
                        })
                    }
                };
                self.indices.clear();
                result.map_err(kernel)
            }
            Step::DeleteLink(spec) => {
                let index = self.index(spec.name())?;
                self.indices.clear();
                self.nl.delete_link(index).map_err(kernel)
            }
            Step::SetMaster { link, to, .. } => {
                let index = self.index(link)?;
                let master = match to {
                    Some(m) => Some(self.index(m)?),
                    None => None,
                };
                self.nl.set_master(index, master).map_err(kernel)
            }
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
            Step::Firewall {
                backend,
                zone,
                from,
                to,
            } => firewall::driver(*backend, zone).replace(from.as_deref(), to.as_deref()),
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

    fn fdb(&mut self, e: &FdbSpec) -> Result<Fdb, ApplyError> {
        Ok(Fdb {
            index: self.index(&e.link)?,
            mac: [0; 6],
            destination: Some(e.destination),
        })
    }
}

fn route(r: &RouteSpec) -> Route {
    Route {
        destination: r.destination,
        gateway: Some(r.via),
        oif: None,
        protocol: ROUTE_PROTOCOL,
    }
}

/// The step (1-based) the fault switch fails at, if set.
pub fn fault_step() -> Option<usize> {
    std::env::var(FAULT_ENV).ok()?.trim().parse().ok()
}

fn is_route(step: &Step) -> bool {
    matches!(step, Step::AddRoute(_) | Step::DeleteRoute(_))
}

/// Runs `steps` in order. On the first failure returns the error and the steps that took
/// effect (for rollback); `on_step` hears about each step after it ran.
///
/// A run of consecutive route steps goes to the kernel as one pipelined batch: the kernel
/// handles each of them even after one fails, so every route step that took effect is among
/// the applied steps (and rolled back), and the error is that of the first that failed.
pub fn execute(
    exec: &mut Executor,
    steps: &[Step],
    mut on_step: impl FnMut(usize, &Step),
) -> Result<(), (ApplyError, Vec<Step>)> {
    let fault = fault_step();
    let mut applied = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        let step = &steps[i];
        if fault == Some(i + 1) {
            return Err((
                ApplyError::Fault {
                    step: i + 1,
                    what: step.to_string(),
                },
                applied,
            ));
        }
        if is_route(step) {
            // The batch stops before the step the fault switch fails at.
            let end = (i..steps.len())
                .find(|&j| !is_route(&steps[j]) || (j > i && fault == Some(j + 1)))
                .unwrap_or(steps.len());
            let mut first_error = None;
            for (k, result) in exec.run_routes(&steps[i..end]).into_iter().enumerate() {
                match result {
                    Ok(()) => {
                        applied.push(steps[i + k].clone());
                        on_step(i + k, &steps[i + k]);
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            if let Some(e) = first_error {
                return Err((e, applied));
            }
            i = end;
            continue;
        }
        if let Err(e) = exec.run(step) {
            return Err((e, applied));
        }
        applied.push(step.clone());
        on_step(i, step);
        i += 1;
    }
    Ok(())
}
