//! Undoes applied steps in reverse order. Keeps going past failures and reports them all: a
//! partial rollback beats stopping at the first error.

use std::collections::BTreeSet;

use ipnet::IpNet;

use super::execute::Executor;
use super::netlink::Link;
use super::observe::Observed;
use super::step::{Step, mac_text};

/// The steps that undo `applied`, in the order to run them.
pub fn undo_steps(applied: &[Step]) -> Vec<Step> {
    applied.iter().rev().map(Step::inverse).collect()
}

/// Runs `undo` (from [`undo_steps`]); returns the errors, each naming its step.
pub fn rollback(exec: &mut Executor, undo: &[Step]) -> Vec<String> {
    let mut errors = Vec::new();
    for step in undo {
        if let Err(e) = exec.run(step) {
            errors.push(format!("{step}: {e}"));
        }
    }
    errors
}

/// What rollback failed to put back: the kernel objects of `before` (observed before the apply)
/// that differ in `after` (observed after the rollback), one message each. Links are compared by
/// name with their kind, MTU, MAC, up state and bridge; addresses and routes by value (IPv6
/// link-local addresses and kernel-made IPv6 routes excepted: the kernel remakes them on its
/// own schedule).
pub fn residue(before: &Observed, after: &Observed) -> Vec<String> {
    let mut out = Vec::new();
    let link_text = |o: &Observed, l: &Link| {
        format!(
            "{} {} mtu {} mac {} {} master {}",
            l.kind.as_deref().unwrap_or("device"),
            l.name,
            l.mtu,
            l.mac.as_ref().map_or_else(|| "none".to_owned(), mac_text),
            if l.up { "up" } else { "down" },
            l.master.and_then(|m| o.link_name(m)).unwrap_or("none"),
        )
    };
    let links =
        |o: &Observed| -> BTreeSet<String> { o.links.iter().map(|l| link_text(o, l)).collect() };
    let addresses = |o: &Observed| -> BTreeSet<String> {
        o.addresses
            .iter()
            .filter(|a| !matches!(a.net, IpNet::V6(n) if n.addr().is_unicast_link_local()))
            .map(|a| {
                format!(
                    "address {} on {}",
                    a.net,
                    o.link_name(a.index).unwrap_or("?")
                )
            })
            .collect()
    };
    let routes = |o: &Observed| -> BTreeSet<String> {
        o.routes
            .iter()
            .filter(|r| !(r.destination.addr().is_ipv6() && matches!(r.protocol, 2 | 9)))
            .map(|r| {
                format!(
                    "route {}{}{} proto {}{}",
                    r.destination,
                    r.gateway.map(|g| format!(" via {g}")).unwrap_or_default(),
                    r.oif
                        .and_then(|i| o.link_name(i))
                        .map(|n| format!(" dev {n}"))
                        .unwrap_or_default(),
                    r.protocol,
                    r.metric.map(|m| format!(" metric {m}")).unwrap_or_default(),
                )
            })
            .collect()
    };
    let fdb = |o: &Observed| -> BTreeSet<String> {
        o.fdb
            .iter()
            .filter(|e| e.mac == [0; 6])
            .filter_map(|e| {
                Some(format!(
                    "forwarding entry {} -> {}",
                    o.link_name(e.index)?,
                    e.destination?
                ))
            })
            .collect()
    };
    for (what, b, a) in [
        ("link", links(before), links(after)),
        ("address", addresses(before), addresses(after)),
        ("route", routes(before), routes(after)),
        ("forwarding entry", fdb(before), fdb(after)),
    ] {
        for gone in b.difference(&a) {
            out.push(format!("{what} not restored: {gone}"));
        }
        for new in a.difference(&b) {
            out.push(format!("{what} left behind: {new}"));
        }
    }
    out
}
