//! Desired vs observed → the minimal ordered steps, and the ownership record they leave.
//!
//! Objects netc owns (the state file) are changed or removed as needed; an object netc does not
//! own that is already exactly as desired is left alone (and stays foreign); one that differs is
//! a conflict, which only `--force` overrides (netc then takes it over).

use ipnet::IpNet;

use super::desired::{AddressSpec, Desired, FdbSpec, LinkSpec, RouteSpec};
use super::firewall::{self, Backend};
use super::netlink::Link;
use super::observe::Observed;
use super::state::{FirewallRecord, Owned};
use super::step::Step;
use super::sysctl;

/// The outcome of comparing.
#[derive(Debug, Default)]
pub struct Changes {
    pub steps: Vec<Step>,
    /// The ownership record once every step has run.
    pub owned_after: Owned,
    /// Foreign objects in the way (each message names the object).
    pub conflicts: Vec<String>,
    /// Steps that would cut the management path (refused unless `--force`).
    pub refusals: Vec<String>,
}

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

/// The spec of an existing link, if netc can recreate it (bridge or VXLAN).
fn spec_of(link: &Link, observed: &Observed) -> Option<LinkSpec> {
    match link.kind.as_deref() {
        Some("bridge") => Some(LinkSpec::Bridge {
            name: link.name.clone(),
        }),
        Some("vxlan") => {
            let v = link.vxlan.as_ref()?;
            Some(LinkSpec::Vxlan {
                name: link.name.clone(),
                vni: v.vni,
                port: v.port,
                local: v.local?,
                underlay: observed.link_name(v.underlay?)?.to_owned(),
                master: link
                    .master
                    .and_then(|m| observed.link_name(m))
                    .map(str::to_owned),
            })
        }
        _ => None,
    }
}

/// Whether an existing link is the desired one, apart from its bridge membership.
fn same_link(spec: &LinkSpec, link: &Link, observed: &Observed) -> bool {
    match (spec, spec_of(link, observed)) {
        (LinkSpec::Bridge { .. }, Some(LinkSpec::Bridge { .. })) => true,
        (
            LinkSpec::Vxlan {
                vni,
                port,
                local,
                underlay,
                ..
            },
            Some(LinkSpec::Vxlan {
                vni: v2,
                port: p2,
                local: l2,
                underlay: u2,
                ..
            }),
        ) => *vni == v2 && *port == p2 && *local == l2 && *underlay == u2,
        _ => false,
    }
}

/// Compares and orders. `force` takes over foreign objects in the way.
pub fn diff(desired: &Desired, observed: &Observed, owned: &Owned, force: bool) -> Changes {
    let mut g = Groups::default();
    let mut out = Changes {
        owned_after: Owned {
            node: desired.node.clone(),
            ..Owned::default()
        },
        ..Changes::default()
    };
    let management_ip = desired.management.address.map(|a| a.addr());
    let management_if = desired.management.interface.as_deref();

    // Sysctls (run-time part; the persisted file is one of the files).
    for (key, value) in &desired.sysctls {
        if !sysctl::runtime(key) {
            continue;
        }
        match observed.sysctls.get(key).cloned().flatten() {
            None => out.conflicts.push(format!(
                "sysctl {key} does not exist on this kernel (is its module loaded?)"
            )),
            Some(current) if current != *value => g.sysctls.push(Step::SetSysctl {
                key: key.clone(),
                from: current,
                to: value.clone(),
            }),
            Some(_) => {}
        }
    }

    // Links.
    let mut replaced: Vec<String> = Vec::new();
    for spec in &desired.links {
        let name = spec.name();
        let was_owned = owned.links.iter().any(|l| l.name() == name);
        if let LinkSpec::Vxlan { underlay, .. } = spec
            && observed.link(underlay).is_none()
        {
            out.conflicts.push(format!(
                "underlay interface {underlay} of {name} does not exist"
            ));
            continue;
        }
        match observed.link(name) {
            None => {
                g.links.push(Step::CreateLink(spec.clone()));
                if let Some(m) = spec.master() {
                    g.links.push(Step::SetMaster {
                        link: name.to_owned(),
                        from: None,
                        to: Some(m.to_owned()),
                    });
                }
                g.links.push(Step::SetUp {
                    link: name.to_owned(),
                    up: true,
                });
                out.owned_after.links.push(spec.clone());
            }
            Some(link) if same_link(spec, link, observed) => {
                let current_master = link.master.and_then(|m| observed.link_name(m));
                if current_master != spec.master() {
                    g.links.push(Step::SetMaster {
                        link: name.to_owned(),
                        from: current_master.map(str::to_owned),
                        to: spec.master().map(str::to_owned),
                    });
                }
                if !link.up {
                    g.links.push(Step::SetUp {
                        link: name.to_owned(),
                        up: true,
                    });
                }
                if was_owned {
                    out.owned_after.links.push(spec.clone());
                }
            }
            Some(link) => match spec_of(link, observed) {
                Some(old) if was_owned || force => {
                    // Deleting a link takes its addresses and entries with it: undo them one
                    // by one first, so rollback can put every one of them back.
                    for a in observed.addresses.iter().filter(|a| a.index == link.index) {
                        g.deletes_addresses.push(Step::DeleteAddress(AddressSpec {
                            link: name.to_owned(),
                            net: a.net,
                        }));
                    }
                    for e in observed.fdb.iter().filter(|e| e.index == link.index) {
                        if let (Some(destination), [0, 0, 0, 0, 0, 0]) = (e.destination, e.mac) {
                            g.deletes_fdb.push(Step::DeleteFdb(FdbSpec {
                                link: name.to_owned(),
                                destination,
                            }));
                        }
                    }
                    g.deletes_links.push(Step::DeleteLink(old));
                    g.links.push(Step::CreateLink(spec.clone()));
                    if let Some(m) = spec.master() {
                        g.links.push(Step::SetMaster {
                            link: name.to_owned(),
                            from: None,
                            to: Some(m.to_owned()),
                        });
                    }
                    g.links.push(Step::SetUp {
                        link: name.to_owned(),
                        up: true,
                    });
                    replaced.push(name.to_owned());
                    out.owned_after.links.push(spec.clone());
                }
                _ => out.conflicts.push(format!(
                    "link {name} exists ({}) and was not created by netc as a {}",
                    link.kind.as_deref().unwrap_or("device"),
                    spec.kind()
                )),
            },
        }
    }
    // Owned links the intent dropped, enslaved devices before their bridges.
    for spec in owned.links.iter().rev() {
        if desired.links.iter().any(|d| d.name() == spec.name()) {
            continue;
        }
        if let Some(link) = observed.link(spec.name()) {
            if Some(spec.name()) == management_if {
                out.refusals.push(format!(
                    "deleting {} would remove the management interface",
                    spec.name()
                ));
            }
            g.deletes_links.push(Step::DeleteLink(
                spec_of(link, observed).unwrap_or(spec.clone()),
            ));
        }
    }
    let gone = |link: &str| -> bool {
        replaced.iter().any(|r| r == link)
            || (owned.links.iter().any(|l| l.name() == link)
                && !desired.links.iter().any(|d| d.name() == link))
    };

    // MTUs of existing interfaces.
    for (name, mtu) in &desired.mtus {
        match observed.link(name) {
            None if desired.links.iter().any(|l| l.name() == name) => {}
            None => out
                .conflicts
                .push(format!("interface {name} is declared but does not exist")),
            Some(link) if link.mtu != *mtu => {
                if Some(name.as_str()) == management_if {
                    out.refusals.push(format!(
                        "changing the MTU of management interface {name} ({} -> {mtu})",
                        link.mtu
                    ));
                }
                g.mtus.push(Step::SetMtu {
                    link: name.clone(),
                    from: link.mtu,
                    to: *mtu,
                });
            }
            Some(_) => {}
        }
    }

    // Addresses.
    let has_address = |a: &AddressSpec| {
        !gone(&a.link)
            && observed.link(&a.link).is_some_and(|l| {
                observed
                    .addresses
                    .iter()
                    .any(|o| o.index == l.index && o.net == a.net)
            })
    };
    for a in &desired.addresses {
        let was_owned = owned.addresses.contains(a);
        if has_address(a) {
            if was_owned {
                out.owned_after.addresses.push(a.clone());
            }
        } else {
            g.addresses.push(Step::AddAddress(a.clone()));
            out.owned_after.addresses.push(a.clone());
        }
    }
    for a in &owned.addresses {
        if !desired.addresses.contains(a) && has_address(a) {
            if Some(a.net.addr()) == management_ip {
                out.refusals.push(format!(
                    "removing management address {} from {}",
                    a.net, a.link
                ));
            }
            g.deletes_addresses.push(Step::DeleteAddress(a.clone()));
        }
    }

    // VXLAN forwarding entries.
    let has_fdb = |e: &FdbSpec| {
        !gone(&e.link)
            && observed.link(&e.link).is_some_and(|l| {
                observed.fdb.iter().any(|o| {
                    o.index == l.index && o.mac == [0; 6] && o.destination == Some(e.destination)
                })
            })
    };
    for e in &desired.fdb {
        if !has_fdb(e) {
            g.fdb.push(Step::AddFdb(e.clone()));
            out.owned_after.fdb.push(e.clone());
        } else if owned.fdb.contains(e) {
            out.owned_after.fdb.push(e.clone());
        }
    }
    for e in &owned.fdb {
        if !desired.fdb.contains(e) && has_fdb(e) {
            g.deletes_fdb.push(Step::DeleteFdb(e.clone()));
        }
    }

    // Routes.
    let current_route = |dst: &IpNet| observed.routes.iter().find(|r| r.destination == *dst);
    for r in &desired.routes {
        let was_owned = owned.routes.iter().any(|o| o.destination == r.destination);
        match current_route(&r.destination) {
            None => {
                g.routes.push(Step::AddRoute(r.clone()));
                out.owned_after.routes.push(r.clone());
            }
            Some(cur) if cur.gateway == Some(r.via) => {
                if was_owned {
                    out.owned_after.routes.push(r.clone());
                }
            }
            Some(cur) => match cur.gateway {
                Some(gw) if was_owned || force => {
                    g.deletes_routes.push(Step::DeleteRoute(RouteSpec {
                        destination: r.destination,
                        via: gw,
                    }));
                    g.routes.push(Step::AddRoute(r.clone()));
                    out.owned_after.routes.push(r.clone());
                }
                _ => out.conflicts.push(format!(
                    "route {} exists ({}) and was not created by netc",
                    r.destination,
                    cur.gateway
                        .map_or_else(|| "directly connected".to_owned(), |g| format!("via {g}"))
                )),
            },
        }
    }
    for r in &owned.routes {
        if desired
            .routes
            .iter()
            .any(|d| d.destination == r.destination)
        {
            continue;
        }
        if current_route(&r.destination).is_some_and(|c| c.gateway == Some(r.via)) {
            if r.destination.prefix_len() == 0
                || management_ip.is_some_and(|ip| r.destination.contains(&ip))
            {
                out.refusals.push(format!(
                    "removing route {} (the management path)",
                    r.destination
                ));
            }
            g.deletes_routes.push(Step::DeleteRoute(r.clone()));
        }
    }

    // Firewall.
    let owned_fw = owned.firewall.as_ref();
    let wanted = desired.firewall.as_ref().map(|spec| {
        let driver = firewall::driver(spec.backend, &spec.zone);
        (spec, driver.render(spec))
    });
    let observed_of = |backend: Backend| match backend {
        Backend::Nftables => observed.firewall_nft.clone(),
        Backend::Firewalld => observed.firewall_firewalld.clone(),
    };
    // What netc's part holds now, as the driver would load it back.
    let current_of = |record: &FirewallRecord| match record.backend {
        Backend::Nftables => observed.firewall_nft.clone(),
        Backend::Firewalld => Some(record.source.clone()),
    };
    if let Some(record) = owned_fw
        && wanted
            .as_ref()
            .is_none_or(|(spec, _)| spec.backend != record.backend || spec.zone != record.zone)
    {
        g.firewall.push(Step::Firewall {
            backend: record.backend,
            zone: record.zone.clone(),
            from: current_of(record),
            to: None,
        });
    }
    if let Some((spec, rendered)) = wanted {
        let same_owner = owned_fw.filter(|r| r.backend == spec.backend && r.zone == spec.zone);
        let converged = same_owner.is_some_and(|r| {
            r.source == rendered
                && match spec.backend {
                    Backend::Nftables => observed.firewall_nft.as_deref() == Some(&r.listing),
                    Backend::Firewalld => observed
                        .firewall_firewalld
                        .as_deref()
                        .is_some_and(|o| rendered.lines().all(|l| o.lines().any(|x| x == l))),
                }
        });
        // The nftables table is netc's by name only when the state file says netc loaded it:
        // a `table inet netc` that someone else made is foreign like any other object.
        let foreign_table = spec.backend == Backend::Nftables
            && observed.firewall_nft.is_some()
            && !owned_fw.is_some_and(|r| r.backend == Backend::Nftables);
        if foreign_table && !force {
            out.conflicts
                .push("nftables table inet netc exists and was not created by netc".to_owned());
        } else if converged {
            out.owned_after.firewall = same_owner.cloned();
        } else {
            g.firewall.push(Step::Firewall {
                backend: spec.backend,
                zone: spec.zone.clone(),
                from: match same_owner {
                    Some(r) => current_of(r),
                    // The nftables table is netc's by name; firewalld's zone is shared.
                    None if spec.backend == Backend::Nftables => observed_of(Backend::Nftables),
                    None => None,
                },
                to: Some(rendered.clone()),
            });
            out.owned_after.firewall = Some(FirewallRecord {
                backend: spec.backend,
                zone: spec.zone.clone(),
                source: rendered,
                listing: String::new(),
            });
        }
    }

    // Files.
    for (path, contents) in &desired.files {
        let was_owned = owned.files.contains(path);
        match observed.files.get(path).cloned().flatten() {
            None => {
                g.files.push(Step::WriteFile {
                    path: path.clone(),
                    from: None,
                    to: contents.clone(),
                });
                out.owned_after.files.push(path.clone());
            }
            Some(current) if current == *contents => {
                if was_owned {
                    out.owned_after.files.push(path.clone());
                }
            }
            Some(current) if was_owned || force => {
                g.files.push(Step::WriteFile {
                    path: path.clone(),
                    from: Some(current),
                    to: contents.clone(),
                });
                out.owned_after.files.push(path.clone());
            }
            Some(_) => out.conflicts.push(format!(
                "file {path} exists with other contents and was not written by netc"
            )),
        }
    }
    for path in &owned.files {
        if desired.files.contains_key(path) {
            continue;
        }
        if let Some(current) = observed.files.get(path).cloned().flatten() {
            g.files.push(Step::RemoveFile {
                path: path.clone(),
                from: current,
            });
        }
    }

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
    } = g;
    out.steps = [
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
    .concat();
    out
}
