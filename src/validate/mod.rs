//! Stage 2: the validation catalogue. Every rule turns intent + Plan into coded diagnostics.
//!
//! Rules live one family per file; each pushes `Diag`s with a stable code from
//! `diagnostic::code`, labels on the offending spans and a `help` line. No rule compares all
//! pairs of nodes: overlaps are found by sorting and sweeping, duplicates through maps, and
//! per-node findings that repeat on many nodes are reported once with a count.

mod addressing;
mod bind_address;
mod cidr;
mod cluster;
mod cni;
mod connectivity;
mod datastore;
mod dns;
mod fleet;
mod header;
mod iface;
mod kube_proxy;
mod lint;
mod mtu;
mod names;
mod nodes;
mod not_applied;
mod policy;
mod ports;
mod profile;
mod proxy;

use crate::diagnostic::Diag;
use crate::digest::count;
use crate::intent::NetworkIntent;
use crate::plan::Plan;

/// A rule family: reads the intent and the Plan, pushes its findings.
type Family = fn(&NetworkIntent, &Plan, &mut Vec<Diag>);

/// The families in report order: the document first, then values, then cross-layer rules.
const FAMILIES: &[Family] = &[
    header::check,
    profile::check,
    names::check,
    cluster::check,
    cidr::check,
    dns::check,
    nodes::check,
    addressing::check,
    bind_address::check,
    cni::check,
    not_applied::check,
    datastore::check,
    mtu::check,
    iface::check,
    kube_proxy::check,
    ports::check,
    not_applied::firewall,
    policy::check,
    connectivity::check,
    proxy::check,
    fleet::check,
    lint::check,
];

/// Runs every rule. Findings come in a stable order: by rule family, then by position.
pub fn validate(intent: &NetworkIntent, plan: &Plan) -> Vec<Diag> {
    let mut out = Vec::new();
    for family in FAMILIES {
        let mut found = Vec::new();
        family(intent, plan, &mut found);
        // Stable: findings at the same place keep the order their rule produced them in.
        found.sort_by_key(|d| d.primary_span().map_or(usize::MAX, |s| s.offset));
        out.extend(found);
    }
    lint::accept(intent, out)
}

/// The nodes a repeated finding applies to: the first two names and how many in all, so a
/// finding on 10,000 nodes is one line, not 10,000.
#[derive(Debug, Default)]
struct NodeSet<'a> {
    first: Vec<&'a str>,
    total: usize,
}

impl<'a> NodeSet<'a> {
    fn add(&mut self, name: &'a str) {
        if self.first.len() < 2 {
            self.first.push(name);
        }
        self.total += 1;
    }

    /// "worker-1", "worker-1 and worker-2", "worker-1 and 41 other nodes".
    fn describe(&self) -> String {
        match (self.first.as_slice(), self.total) {
            ([], _) => String::from("no node"),
            ([one], _) | ([one, _], 1) => (*one).to_owned(),
            ([a, b], 2) => format!("{a} and {b}"),
            ([first, ..], n) => format!("{first} and {} other nodes", n.saturating_sub(1)),
        }
    }
}
