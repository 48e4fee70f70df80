//! Desired vs observed → the minimal ordered steps, and the ownership record they leave.
//!
//! Objects netc owns (the state file) are changed or removed as needed; an object netc does not
//! own that is already exactly as desired is left alone (and stays foreign); one that differs is
//! a conflict, which only `--force` overrides (netc then takes it over).
//!
//! Ownership is checked, not assumed: a state entry names an object *and* says which one it is
//! (a link's kind, index and MAC, a route's gateway and protocol, a file's hash). An entry whose
//! object is no longer that one is never changed or removed: the object is foreign, and the
//! entry is dropped with a note.

pub mod verify;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;

use ipnet::IpNet;

use super::desired::{AddressSpec, Desired, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::{self, Backend};
use super::host::netlink::{KERNEL_ROUTE_PROTOCOL, Link, Route};
use super::observe::{LinkIdentity, Observed, Parameters, identify};
use super::record::{
    FirewallRecord, Owned, OwnedAddress, OwnedFdb, OwnedFile, OwnedLink, OwnedRoute,
};
use super::step::{LinkSnapshot, RouteThrough, Step};

/// The outcome of comparing.
#[derive(Debug, Default)]
pub struct Changes {
    pub steps: Vec<Step>,
    /// The ownership record once every step has run (identities of new objects are filled in
    /// after they exist: [`Owned::record_identity`]).
    pub owned_after: Owned,
    /// Foreign objects in the way (each message names the object).
    pub conflicts: Vec<String>,
    /// What the host lacks (an interface, a sysctl): no `--force` makes it appear.
    pub missing: Vec<String>,
    /// Steps that would cut the management path (refused unless `--force`).
    pub refusals: Vec<String>,
    /// State entries whose object is no longer netc's: left alone and forgotten.
    pub notes: Vec<String>,
}

/// The steps by group, the fields in the order the groups run ([`Groups::into_run_order`]).
#[derive(Default)]
struct Groups {
    sysctls: Vec<Step>,
    deletes_routes: Vec<Step>,
    deletes_fdb: Vec<Step>,
    deletes_addresses: Vec<Step>,
    deletes_links: Vec<Step>,
    links: Vec<Step>,
    mtus: Vec<Step>,
    addresses: Vec<Step>,
    fdb: Vec<Step>,
    routes: Vec<Step>,
    firewall: Vec<Step>,
    files: Vec<Step>,
}

impl Groups {
    /// The groups in the order they run. Destructured without `..`: a new group does not
    /// compile until it has its place here, and with it in every check over the steps (the
    /// foreign-link check reads them all, [`foreign_links`]).
    fn into_run_order(self) -> [Vec<Step>; 12] {
        let Groups {
            sysctls,
            deletes_routes,
            deletes_fdb,
            deletes_addresses,
            deletes_links,
            links,
            mtus,
            addresses,
            fdb,
            routes,
            firewall,
            files,
        } = self;
        [
            sysctls,
            deletes_routes,
            deletes_fdb,
            deletes_addresses,
            deletes_links,
            links,
            mtus,
            addresses,
            fdb,
            routes,
            firewall,
            files,
        ]
    }
}

/// Everything deleting `link` takes with it, so that [`Step::RestoreLink`] can put it back.
fn snapshot(spec: LinkSpec, link: &Link, observed: &Observed) -> LinkSnapshot {
    LinkSnapshot {
        spec,
        index: Some(link.index),
        mac: link.mac,
        mtu: Some(link.mtu),
        up: link.up,
        port_of: link
            .master
            .and_then(|m| observed.link_name(m))
            .map(str::to_owned),
        bridge: link.bridge.clone(),
        addresses: observed
            .addresses
            .iter()
            .filter(|a| a.index == link.index)
            .map(|a| a.net)
            .collect(),
        routes: observed
            .routes
            .iter()
            .filter(|r| r.oif == Some(link.index) && r.protocol != KERNEL_ROUTE_PROTOCOL)
            .map(|r| RouteThrough {
                destination: r.destination,
                gateway: r.gateway,
                protocol: r.protocol,
                metric: r.metric,
            })
            .collect(),
        ports: observed
            .links
            .iter()
            .filter(|l| l.master == Some(link.index))
            .map(|l| l.name.clone())
            .collect(),
        port_settings: observed
            .links
            .iter()
            .filter(|l| l.master == Some(link.index))
            .chain(link.master.is_some().then_some(link))
            .filter_map(|l| Some((l.name.clone(), l.port.clone()?)))
            .collect(),
        fdb: observed
            .fdb
            .iter()
            .filter(|e| e.index == link.index && e.mac == [0; 6])
            .filter_map(|e| e.destination)
            .collect(),
    }
}

/// Whether an existing link is the desired one, apart from its bridge membership.
fn same_link(spec: &LinkSpec, link: &Link, observed: &Observed) -> bool {
    identify(
        &LinkIdentity::of_spec(spec),
        link,
        Parameters::All(observed),
    )
    .is_ok()
}

/// Who may change what, beyond netc's own objects.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// A foreign object in the way, and a file netc wrote that was edited since, are conflicts.
    #[default]
    Careful,
    /// The agent (`apply --watch`): a file netc wrote that was edited since is drift to write
    /// back rather than a conflict (the intent is the source of truth for the files it
    /// installs). Files netc did not write stay conflicts.
    RevertEdits,
    /// `--force`: foreign objects in the way are taken over.
    Force,
}

impl Mode {
    /// The mode of an apply with `--force` (`force`) or of the agent (`agent`).
    pub fn of(force: bool, agent: bool) -> Self {
        match (force, agent) {
            (true, _) => Mode::Force,
            (false, true) => Mode::RevertEdits,
            (false, false) => Mode::Careful,
        }
    }

    fn force(self) -> bool {
        self == Mode::Force
    }
}

/// Compares and orders: one pass per object kind over a shared [`Diff`], in the order the
/// kinds depend on each other (links before what sits on them; what a deleted link takes with
/// it is not deleted again), then the steps grouped in the order they run.
pub fn diff(desired: &Desired, observed: &Observed, owned: &Owned, mode: Mode) -> Changes {
    let mut d = Diff::new(desired, observed, owned, mode);
    d.sysctls();
    d.links();
    d.dropped_links();
    d.mtus();
    d.addresses();
    d.fdb();
    d.routes();
    d.firewall();
    d.files();
    d.finish()
}

/// What every per-kind pass reads and adds to.
struct Diff<'a> {
    desired: &'a Desired,
    observed: &'a Observed,
    owned: &'a Owned,
    mode: Mode,
    g: Groups,
    out: Changes,
    /// The indices of links this plan deletes (replaced or dropped).
    deleted: Vec<u32>,
    /// Links the intent wants that exist and netc did not create (name, kind).
    foreign: Vec<(String, Option<String>)>,
    management_ip: Option<IpAddr>,
    management_if: Option<&'a str>,
}

impl<'a> Diff<'a> {
    fn new(desired: &'a Desired, observed: &'a Observed, owned: &'a Owned, mode: Mode) -> Self {
        Diff {
            desired,
            observed,
            owned,
            mode,
            g: Groups::default(),
            out: Changes {
                owned_after: Owned {
                    node: desired.node.clone(),
                    ..Owned::default()
                },
                ..Changes::default()
            },
            deleted: Vec::new(),
            foreign: Vec::new(),
            management_ip: desired.management.address.map(|a| a.addr()),
            management_if: desired.management.interface.as_deref(),
        }
    }

    /// Sysctls (run-time part; the persisted file is one of the files).
    fn sysctls(&mut self) {
        for (key, value) in &self.desired.sysctls {
            if !crate::plan::layout::runtime_sysctl(key) {
                continue;
            }
            match self.observed.sysctls.get(key).cloned().flatten() {
                None => self.out.missing.push(format!(
                    "sysctl {key} does not exist on this kernel (is its module loaded?)"
                )),
                Some(current) if current != *value => self.g.sysctls.push(Step::SetSysctl {
                    key: key.clone(),
                    from: current,
                    to: value.clone(),
                }),
                Some(_) => {}
            }
        }
    }

    /// The state entry of a link, if the link of that name is still the one netc created.
    fn owned_link(&self, name: &str) -> Option<&'a OwnedLink> {
        let observed = self.observed;
        self.owned
            .owns_link(name)
            .filter(|r| observed.link(name).is_some_and(|l| r.is(l, observed)))
    }

    /// The steps that create `spec` (and put it in its bridge, and up), recorded as netc's.
    fn create_link(&mut self, spec: &LinkSpec) {
        let name = spec.name();
        self.g.links.push(Step::CreateLink(spec.clone()));
        if let Some(m) = spec.master() {
            self.g.links.push(Step::SetMaster {
                link: name.to_owned(),
                from: None,
                to: Some(m.to_owned()),
                from_port: None,
                to_port: None,
            });
        }
        self.g.links.push(Step::SetUp {
            link: name.to_owned(),
            up: true,
        });
        self.out
            .owned_after
            .links
            .push(OwnedLink::new(spec.clone()));
    }

    /// The links the intent wants: created, fixed up, or replaced when netc's (or forced).
    fn links(&mut self) {
        let observed = self.observed;
        for spec in &self.desired.links {
            let name = spec.name();
            let was_owned = self.owned_link(name);
            if let LinkSpec::Vxlan { underlay, .. } = spec
                && observed.link(underlay).is_none()
            {
                self.out.missing.push(format!(
                    "underlay interface {underlay} of {name} does not exist"
                ));
                continue;
            }
            match observed.link(name) {
                None => self.create_link(spec),
                Some(link) if same_link(spec, link, observed) => {
                    self.existing_link(spec, link, was_owned)
                }
                Some(link) => match observed.spec_of(link) {
                    Some(old) if was_owned.is_some() || self.mode.force() => {
                        // Deleting a link takes its addresses, routes, ports and entries with
                        // it: the snapshot holds them, so rollback can put every one back.
                        self.g
                            .deletes_links
                            .push(Step::DeleteLink(snapshot(old, link, observed)));
                        self.deleted.push(link.index);
                        self.create_link(spec);
                    }
                    _ => self.out.conflicts.push(format!(
                        "link {name} exists ({}) and was not created by netc as a {}",
                        link.kind.as_deref().unwrap_or("device"),
                        spec.kind()
                    )),
                },
            }
        }
    }

    /// A desired link that exists as desired (apart from its bridge and up state).
    fn existing_link(&mut self, spec: &LinkSpec, link: &Link, was_owned: Option<&OwnedLink>) {
        let name = spec.name();
        let current_master = link.master.and_then(|m| self.observed.link_name(m));
        if current_master != spec.master() {
            // Leaving its bridge drops its port settings: the step keeps them, so rollback
            // can give them back when it re-attaches the link.
            self.g.links.push(Step::SetMaster {
                link: name.to_owned(),
                from: current_master.map(str::to_owned),
                to: spec.master().map(str::to_owned),
                from_port: current_master.and(link.port.clone()),
                to_port: None,
            });
        }
        if !link.up {
            self.g.links.push(Step::SetUp {
                link: name.to_owned(),
                up: true,
            });
        }
        if let Some(record) = was_owned {
            self.out.owned_after.links.push(OwnedLink {
                spec: spec.clone(),
                ..record.clone()
            });
        } else {
            // Foreign: left alone when the plan changes nothing of it (checked once every
            // step is known: [`foreign_links`]); taken over with --force.
            self.foreign.push((name.to_owned(), link.kind.clone()));
            if self.mode.force() {
                self.out
                    .owned_after
                    .links
                    .push(OwnedLink::new(spec.clone()));
            }
        }
    }

    /// Owned links the intent dropped, enslaved devices before their bridges.
    fn dropped_links(&mut self) {
        let observed = self.observed;
        for record in self.owned.links.iter().rev() {
            let name = record.name();
            if self.desired.links.iter().any(|d| d.name() == name) {
                continue;
            }
            let Some(link) = observed.link(name) else {
                continue;
            };
            if let Err(why) = identify(&record.identity(), link, Parameters::Recorded(observed)) {
                self.out.notes.push(format!(
                    "the state lists {} {name}, but {name} here is not the link netc created \
                     ({why}): left alone",
                    record.spec.kind(),
                ));
                continue;
            }
            if Some(name) == self.management_if {
                self.out.refusals.push(format!(
                    "deleting {name} would remove the management interface"
                ));
            }
            let spec = observed
                .spec_of(link)
                .unwrap_or_else(|| record.spec.clone());
            self.g
                .deletes_links
                .push(Step::DeleteLink(snapshot(spec, link, observed)));
            self.deleted.push(link.index);
        }
    }

    /// Whether the link `name` goes with a link this plan deletes.
    fn gone(&self, name: &str) -> bool {
        self.observed
            .link(name)
            .is_some_and(|l| self.deleted.contains(&l.index))
    }

    /// MTUs of existing interfaces.
    fn mtus(&mut self) {
        for (name, mtu) in &self.desired.mtus {
            match self.observed.link(name) {
                None if self.desired.links.iter().any(|l| l.name() == name) => {}
                None => self
                    .out
                    .missing
                    .push(format!("interface {name} is declared but does not exist")),
                Some(link) if link.mtu != *mtu => {
                    if Some(name.as_str()) == self.management_if {
                        self.out.refusals.push(format!(
                            "changing the MTU of management interface {name} ({} -> {mtu})",
                            link.mtu
                        ));
                    }
                    self.g.mtus.push(Step::SetMtu {
                        link: name.clone(),
                        from: link.mtu,
                        to: *mtu,
                    });
                }
                Some(_) => {}
            }
        }
    }

    /// Whether `a` is on its link (one this plan does not delete).
    fn has_address(&self, a: &AddressSpec) -> bool {
        !self.gone(&a.link)
            && self.observed.link(&a.link).is_some_and(|l| {
                self.observed
                    .addresses
                    .iter()
                    .any(|o| o.index == l.index && o.net == a.net)
            })
    }

    /// The record of an address, if it sits on the link it was added to.
    fn owned_address(&self, a: &AddressSpec) -> Option<&'a OwnedAddress> {
        let observed = self.observed;
        self.owned.addresses.iter().find(|r| {
            r.spec == *a
                && observed
                    .link(&a.link)
                    .is_some_and(|l| r.index.is_none_or(|i| i == l.index))
        })
    }

    fn addresses(&mut self) {
        for a in &self.desired.addresses {
            if self.has_address(a) {
                if let Some(record) = self.owned_address(a) {
                    self.out.owned_after.addresses.push(record.clone());
                }
            } else {
                self.g.addresses.push(Step::AddAddress(a.clone()));
                self.out.owned_after.addresses.push(OwnedAddress {
                    spec: a.clone(),
                    index: None,
                });
            }
        }
        for record in &self.owned.addresses {
            let a = &record.spec;
            if self.desired.addresses.contains(a) || !self.has_address(a) {
                continue;
            }
            if self.owned_address(a).is_none() {
                self.out.notes.push(format!(
                    "the state lists address {} on {}, but {} is not the link it was added to: \
                     left alone",
                    a.net, a.link, a.link
                ));
                continue;
            }
            if Some(a.net.addr()) == self.management_ip {
                self.out.refusals.push(format!(
                    "removing management address {} from {}",
                    a.net, a.link
                ));
            }
            self.g
                .deletes_addresses
                .push(Step::DeleteAddress(a.clone()));
        }
    }

    /// VXLAN forwarding entries (one per peer node: looked up in sets, not by scanning).
    fn fdb(&mut self) {
        let observed = self.observed;
        let all_zero: HashSet<(u32, IpAddr)> = observed
            .fdb
            .iter()
            .filter(|o| o.mac == [0; 6])
            .filter_map(|o| o.destination.map(|d| (o.index, d)))
            .collect();
        let has_fdb = |e: &FdbSpec| {
            !self.gone(&e.link)
                && observed
                    .link(&e.link)
                    .is_some_and(|l| all_zero.contains(&(l.index, e.destination)))
        };
        let mut owned_by_spec: BTreeMap<&FdbSpec, Vec<&OwnedFdb>> = BTreeMap::new();
        for r in &self.owned.fdb {
            owned_by_spec.entry(&r.spec).or_default().push(r);
        }
        let owned_fdb = |e: &FdbSpec| {
            owned_by_spec.get(e).and_then(|records| {
                records.iter().copied().find(|r| {
                    observed
                        .link(&e.link)
                        .is_some_and(|l| r.index.is_none_or(|i| i == l.index))
                })
            })
        };
        let desired_fdb: BTreeSet<&FdbSpec> = self.desired.fdb.iter().collect();
        let (mut adds, mut deletes, mut after, mut notes) = (vec![], vec![], vec![], vec![]);
        for e in &self.desired.fdb {
            if !has_fdb(e) {
                adds.push(Step::AddFdb(e.clone()));
                after.push(OwnedFdb {
                    spec: e.clone(),
                    index: None,
                });
            } else if let Some(record) = owned_fdb(e) {
                after.push(record.clone());
            }
        }
        for record in &self.owned.fdb {
            let e = &record.spec;
            if desired_fdb.contains(e) || !has_fdb(e) {
                continue;
            }
            if owned_fdb(e).is_none() {
                notes.push(format!(
                    "the state lists forwarding entry {} -> {}, but {} is not the device it was \
                     added to: left alone",
                    e.link, e.destination, e.link
                ));
                continue;
            }
            deletes.push(Step::DeleteFdb(e.clone()));
        }
        self.g.fdb.extend(adds);
        self.g.deletes_fdb.extend(deletes);
        self.out.owned_after.fdb.extend(after);
        self.out.notes.extend(notes);
    }

    /// Routes. One leaving through a link this plan deletes goes with it. Looked up by
    /// destination (in observed order, the first record wins), not by scanning: a node of a
    /// large cluster has a route per peer.
    fn routes(&mut self) {
        let observed = self.observed;
        let mut observed_by_dst: HashMap<&IpNet, Vec<&Route>> = HashMap::new();
        for r in &observed.routes {
            observed_by_dst.entry(&r.destination).or_default().push(r);
        }
        let deleted = &self.deleted;
        let current_route = |dst: &IpNet| {
            observed_by_dst.get(dst).and_then(|routes| {
                routes
                    .iter()
                    .copied()
                    .find(|r| !r.oif.is_some_and(|i| deleted.contains(&i)))
            })
        };
        let mut owned_by_dst: HashMap<&IpNet, &OwnedRoute> = HashMap::new();
        for o in &self.owned.routes {
            owned_by_dst.entry(&o.spec.destination).or_insert(o);
        }
        let desired_dsts: HashSet<&IpNet> =
            self.desired.routes.iter().map(|d| &d.destination).collect();
        let (g, out) = (&mut self.g, &mut self.out);
        for r in &self.desired.routes {
            let record = owned_by_dst.get(&r.destination).copied();
            match current_route(&r.destination) {
                None => {
                    g.routes.push(Step::AddRoute(r.clone()));
                    out.owned_after.routes.push(OwnedRoute::new(r.clone()));
                }
                Some(cur) if cur.gateway == Some(r.via) => {
                    if let Some(record) = record.filter(|o| o.is(cur)) {
                        out.owned_after.routes.push(record.clone());
                    }
                }
                Some(cur) => match cur.gateway {
                    Some(gw) if record.is_some_and(|o| o.is(cur)) || self.mode.force() => {
                        g.deletes_routes.push(Step::DeleteRoute(RouteSpec {
                            destination: r.destination,
                            via: gw,
                        }));
                        g.routes.push(Step::AddRoute(r.clone()));
                        out.owned_after.routes.push(OwnedRoute::new(r.clone()));
                    }
                    _ => out.conflicts.push(format!(
                        "route {} exists ({}) and was not created by netc",
                        r.destination,
                        gateway_text(cur)
                    )),
                },
            }
        }
        for record in &self.owned.routes {
            let r = &record.spec;
            if desired_dsts.contains(&r.destination) {
                continue;
            }
            let Some(cur) = current_route(&r.destination) else {
                continue;
            };
            if !record.is(cur) {
                out.notes.push(format!(
                    "the state lists route {} via {}, but the route here is not the one netc \
                     added ({}, protocol {}): left alone",
                    r.destination,
                    r.via,
                    gateway_text(cur),
                    cur.protocol
                ));
                continue;
            }
            if r.destination.prefix_len() == 0
                || self
                    .management_ip
                    .is_some_and(|ip| r.destination.contains(&ip))
            {
                out.refusals.push(format!(
                    "removing route {} (the management path)",
                    r.destination
                ));
            }
            g.deletes_routes.push(Step::DeleteRoute(r.clone()));
        }
    }

    /// The firewalld lines present in the zone now.
    fn firewalld_present(&self) -> BTreeSet<&'a str> {
        self.observed
            .firewall_firewalld
            .as_deref()
            .unwrap_or("")
            .lines()
            .collect()
    }

    /// What netc's part `record` holds now, in a form the driver loads back: the listed table,
    /// or netc's firewalld entries that are still there.
    fn firewall_now(&self, record: &FirewallRecord) -> Option<String> {
        match record.backend {
            Backend::Nftables => self
                .observed
                .firewall_nft
                .as_deref()
                .map(firewall::loadable),
            Backend::Firewalld => {
                let present = self.firewalld_present();
                lines_text(record.listing.lines().filter(|l| present.contains(l)))
            }
        }
    }

    /// The firewall part: netc's old part removed when the intent moved it (another backend
    /// or zone), the intent's loaded unless converged.
    fn firewall(&mut self) {
        let owned_fw = self.owned.firewall.as_ref();
        if let Some(record) = owned_fw
            && self
                .desired
                .firewall
                .as_ref()
                .is_none_or(|spec| spec.backend != record.backend || spec.zone != record.zone)
        {
            self.g.firewall.push(Step::Firewall {
                backend: record.backend,
                zone: record.zone.clone(),
                from: self.firewall_now(record),
                to: None,
            });
        }
        let Some(spec) = &self.desired.firewall else {
            return;
        };
        let same_owner = owned_fw.filter(|r| r.backend == spec.backend && r.zone == spec.zone);
        let (converged, from, ours) = match spec.backend {
            Backend::Nftables => (
                same_owner.is_some_and(|r| {
                    r.source == spec.text
                        && self.observed.firewall_nft.as_deref() == Some(&r.listing)
                }),
                // What the table holds now (netc's, or taken over with --force).
                self.observed
                    .firewall_nft
                    .as_deref()
                    .map(firewall::loadable),
                String::new(),
            ),
            Backend::Firewalld => {
                let present = self.firewalld_present();
                let owned_lines: BTreeSet<&str> =
                    same_owner.map_or_else(BTreeSet::new, |r| r.listing.lines().collect());
                let wanted: BTreeSet<&str> = spec.text.lines().collect();
                // An entry someone else already made stays theirs: netc neither owns it nor
                // removes it later.
                let ours = lines_text(
                    spec.text
                        .lines()
                        .filter(|l| owned_lines.contains(l) || !present.contains(l)),
                )
                .unwrap_or_default();
                let complete = wanted.iter().all(|l| present.contains(l));
                let stale = owned_lines
                    .iter()
                    .any(|l| !wanted.contains(l) && present.contains(l));
                (
                    complete && !stale && same_owner.is_some_and(|r| r.source == spec.text),
                    same_owner.and_then(|r| self.firewall_now(r)),
                    ours,
                )
            }
        };
        // The nftables table is netc's by name only when the state file says netc loaded it:
        // a `table inet netc` that someone else made is foreign like any other object.
        let foreign_table = spec.backend == Backend::Nftables
            && self.observed.firewall_nft.is_some()
            && !owned_fw.is_some_and(|r| r.backend == Backend::Nftables);
        if foreign_table && !self.mode.force() {
            self.out
                .conflicts
                .push("nftables table inet netc exists and was not created by netc".to_owned());
        } else if converged {
            self.out.owned_after.firewall = same_owner.cloned();
        } else {
            let to = match spec.backend {
                Backend::Nftables => spec.text.clone(),
                Backend::Firewalld => ours.clone(),
            };
            self.g.firewall.push(Step::Firewall {
                backend: spec.backend,
                zone: spec.zone.clone(),
                from,
                to: Some(to),
            });
            self.out.owned_after.firewall = Some(FirewallRecord {
                backend: spec.backend,
                zone: spec.zone.clone(),
                source: spec.text.clone(),
                // nftables: the listing once loaded (filled in by `apply`).
                listing: ours,
                generation: None,
            });
        }
    }

    /// Files. netc's own is the file whose contents still hash to what netc wrote.
    fn files(&mut self) {
        for (path, contents) in &self.desired.files {
            let record = self.owned.owns_file(path);
            match self.observed.files.get(path).cloned().flatten() {
                None => {
                    self.g.files.push(Step::WriteFile {
                        path: path.clone(),
                        from: None,
                        to: contents.clone(),
                    });
                    self.out
                        .owned_after
                        .files
                        .push(OwnedFile::new(path, contents));
                }
                Some(current) => self.existing_file(path, contents, current, record),
            }
        }
        for record in &self.owned.files {
            let path = &record.path;
            if self.desired.files.contains_key(path) {
                continue;
            }
            let Some(current) = self.observed.files.get(path).cloned().flatten() else {
                continue;
            };
            match &record.sha256 {
                Some(_) if record.holds(&current) => self.g.files.push(Step::RemoveFile {
                    path: path.clone(),
                    from: current,
                }),
                Some(_) => self.out.notes.push(format!(
                    "file {path} was changed since netc wrote it: left in place"
                )),
                None => self.out.notes.push(format!(
                    "file {path} is listed by a version 1 state file, which kept no hash to \
                     prove netc wrote what is there now: left in place (remove it yourself if \
                     it is netc's)"
                )),
            }
        }
    }

    /// A file the intent installs that exists with `current` contents.
    fn existing_file(
        &mut self,
        path: &str,
        contents: &[u8],
        current: Vec<u8>,
        record: Option<&OwnedFile>,
    ) {
        // A version 1 record has no hash: the file is netc's by the record alone, as that
        // version had it (it is one the intent writes anyway).
        let unchanged = record.is_some_and(|r| r.holds(&current));
        let rewrite = |g: &mut Groups, current: Vec<u8>| {
            g.files.push(Step::WriteFile {
                path: path.to_owned(),
                from: Some(current),
                to: contents.to_vec(),
            });
        };
        if current == contents {
            if unchanged {
                // netc's file as it should be, but readable by others (an older netc
                // installed credentials 0644): written again, which narrows it.
                if self.observed.too_open.contains(path) {
                    rewrite(&mut self.g, current);
                }
                self.out
                    .owned_after
                    .files
                    .push(OwnedFile::new(path, contents));
            }
        } else if unchanged
            || self.mode.force()
            || (self.mode == Mode::RevertEdits && record.is_some())
        {
            rewrite(&mut self.g, current);
            self.out
                .owned_after
                .files
                .push(OwnedFile::new(path, contents));
        } else if record.is_some() {
            self.out
                .conflicts
                .push(format!("file {path} was changed since netc wrote it"));
        } else {
            self.out.conflicts.push(format!(
                "file {path} exists with other contents and was not written by netc"
            ));
        }
    }

    /// The steps in the order they run (the order of [`Groups`]' fields), and the foreign
    /// links any of them would change.
    fn finish(self) -> Changes {
        let mut out = self.out;
        out.steps = self.g.into_run_order().concat();
        if !self.mode.force() {
            out.conflicts
                .extend(foreign_links(&self.foreign, &out.steps));
        }
        out
    }
}

/// A link netc did not create is never changed without --force: not brought up, not re-MTU'd,
/// not given an address, a forwarding entry, a port or a bridge. Every step of the plan is
/// asked ([`changes_link`]), so no group and no step kind is left out.
fn foreign_links(foreign: &[(String, Option<String>)], steps: &[Step]) -> Vec<String> {
    let mut conflicts = Vec::new();
    for (name, kind) in foreign {
        let changes: Vec<String> = steps
            .iter()
            .filter(|step| changes_link(step, name))
            .map(ToString::to_string)
            .collect();
        if !changes.is_empty() {
            conflicts.push(format!(
                "link {name} exists ({}) and was not created by netc; the plan would change it: {}",
                kind.as_deref().unwrap_or("device"),
                changes.join("; ")
            ));
        }
    }
    conflicts
}

/// A route's gateway for messages.
fn gateway_text(route: &Route) -> String {
    route
        .gateway
        .map_or_else(|| "directly connected".to_owned(), |g| format!("via {g}"))
}

/// Whether `step` changes the link `name` that netc did not create (itself, or as the bridge a
/// port joins or leaves). Every step kind answers: a new one does not compile until it does.
fn changes_link(step: &Step, name: &str) -> bool {
    match step {
        Step::SetMaster { link, from, to, .. } => {
            link == name || from.as_deref() == Some(name) || to.as_deref() == Some(name)
        }
        Step::SetUp { link, .. } | Step::SetMtu { link, .. } => link == name,
        Step::AddAddress(a) => a.link == name,
        Step::AddFdb(e) => e.link == name,
        // Removes only what netc added and recorded, on the very link it added it to (`diff`
        // checks the state's index): undoing netc's own change, not changing the link's.
        Step::DeleteAddress(_) | Step::DeleteFdb(_) => false,
        // A link netc creates does not exist yet (one in the way is replaced only when netc's
        // or with --force, which skips this check); it deletes only links it created (the
        // same); restoring a deleted link is rollback's, never a plan's.
        Step::CreateLink(_) | Step::DeleteLink(_) | Step::RestoreLink(_) => false,
        // Gateway routes name no link (`RouteSpec`); sysctls, the firewall and files are no
        // link's.
        Step::AddRoute(_)
        | Step::DeleteRoute(_)
        | Step::SetSysctl { .. }
        | Step::Firewall { .. }
        | Step::WriteFile { .. }
        | Step::RemoveFile { .. } => false,
    }
}

/// Lines joined as a text, `None` when there are none.
fn lines_text<'a>(lines: impl Iterator<Item = &'a str>) -> Option<String> {
    let lines: Vec<&str> = lines.collect();
    (!lines.is_empty()).then(|| lines.join("\n") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::host::netlink::PortSettings;

    /// Every step kind of a plan is asked whether it changes a link netc did not create,
    /// whichever group it runs in: bringing it up, its MTU, an address, a forwarding entry, a
    /// port joining or leaving it. Deleting what netc itself added there, creating or deleting
    /// links netc owns, routes, sysctls, the firewall and files do not.
    #[test]
    fn every_step_kind_answers_whether_it_changes_a_foreign_link() {
        let foreign = [("ens9".to_owned(), Some("bridge".to_owned()))];
        let address = AddressSpec {
            link: "ens9".into(),
            net: "10.0.0.1/24".parse().expect("net"),
        };
        let fdb = FdbSpec {
            link: "ens9".into(),
            destination: "10.0.0.2".parse().expect("ip"),
        };
        let route = RouteSpec {
            destination: "10.1.0.0/24".parse().expect("net"),
            via: "10.0.0.2".parse().expect("ip"),
        };
        let bridge = LinkSpec::Bridge {
            name: "ens9".into(),
        };
        let changes = [
            Step::SetUp {
                link: "ens9".into(),
                up: true,
            },
            Step::SetMtu {
                link: "ens9".into(),
                from: 1500,
                to: 1450,
            },
            Step::AddAddress(address.clone()),
            Step::AddFdb(fdb.clone()),
            Step::SetMaster {
                link: "veth1".into(),
                from: None,
                to: Some("ens9".into()),
                from_port: None,
                to_port: None,
            },
        ];
        let others = [
            Step::DeleteAddress(address),
            Step::DeleteFdb(fdb),
            Step::CreateLink(bridge.clone()),
            Step::DeleteLink(LinkSnapshot::new(bridge.clone())),
            Step::RestoreLink(LinkSnapshot::new(bridge)),
            Step::AddRoute(route.clone()),
            Step::DeleteRoute(route),
            Step::SetSysctl {
                key: "net.ipv4.conf.ens9.forwarding".into(),
                from: "0".into(),
                to: "1".into(),
            },
            Step::Firewall {
                backend: Backend::Nftables,
                zone: String::new(),
                from: None,
                to: Some("table inet netc {}".into()),
            },
            Step::WriteFile {
                path: "/etc/ens9".into(),
                from: None,
                to: Vec::new(),
            },
            Step::RemoveFile {
                path: "/etc/ens9".into(),
                from: Vec::new(),
            },
        ];
        let mut steps: Vec<Step> = others.to_vec();
        steps.extend(changes.iter().cloned());
        let said: Vec<String> = changes.iter().map(ToString::to_string).collect();
        assert_eq!(
            foreign_links(&foreign, &steps),
            [format!(
                "link ens9 exists (bridge) and was not created by netc; the plan would change it: {}",
                said.join("; ")
            )]
        );
        assert!(foreign_links(&foreign, &others).is_empty());
    }

    fn link(index: u32, name: &str, kind: &str, master: Option<u32>) -> Link {
        Link {
            master,
            port: master.map(|_| PortSettings {
                hairpin: Some(index % 2 == 1),
                ..PortSettings::default()
            }),
            ..Link::for_test(index, name, kind, index as u8)
        }
    }

    /// A deleted bridge's snapshot keeps its ports' bridge-port settings, and a deleted port
    /// its own: rejoining a bridge resets them, rollback puts them back.
    #[test]
    fn a_snapshot_keeps_the_port_settings_joining_a_bridge_resets() {
        let observed = Observed {
            links: vec![
                link(3, "scbr0", "bridge", None),
                link(4, "cni0", "bridge", None),
                link(5, "veth1", "veth", Some(4)),
                link(6, "veth2", "veth", Some(4)),
                link(7, "vx100", "vxlan", Some(3)),
            ],
            ..Observed::default()
        };
        let cni0 = snapshot(
            LinkSpec::Bridge {
                name: "cni0".into(),
            },
            &observed.links[1],
            &observed,
        );
        assert_eq!(cni0.ports, ["veth1", "veth2"]);
        let hairpin = |on| PortSettings {
            hairpin: Some(on),
            ..PortSettings::default()
        };
        assert_eq!(
            cni0.port_settings,
            BTreeMap::from([
                ("veth1".into(), hairpin(true)),
                ("veth2".into(), hairpin(false))
            ])
        );
        let spec = LinkSpec::Vxlan {
            name: "vx100".into(),
            vni: 100,
            port: 4789,
            local: "172.16.0.3".parse().unwrap(),
            underlay: "eth0".into(),
            master: Some("scbr0".into()),
        };
        let vx = snapshot(spec, &observed.links[4], &observed);
        assert_eq!(vx.port_of.as_deref(), Some("scbr0"));
        assert_eq!(
            vx.port_settings,
            BTreeMap::from([("vx100".into(), hairpin(true))])
        );
    }
}
