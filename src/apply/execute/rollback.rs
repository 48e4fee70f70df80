//! Undoes applied steps in reverse order. Keeps going past failures and reports them all: a
//! partial rollback beats stopping at the first error.

use std::collections::BTreeSet;

use ipnet::IpNet;

use crate::apply::execute::Executor;
use crate::apply::host::netlink::Link;
use crate::apply::observe::Observed;
use crate::apply::step::Step;

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

/// What rollback failed to put back: the kernel objects `applied` touched, as observed
/// `before` the apply, that differ `after` the rollback, one message each. Links are compared
/// by name with their kind, MTU, MAC, up state, bridge and bridge-port settings; addresses and routes by value (IPv6
/// link-local addresses and kernel-made IPv6 routes excepted: the kernel remakes them on its
/// own schedule). Objects no step touched (a pod starting meanwhile) are not compared.
pub fn residue(before: &Observed, after: &Observed, applied: &[Step]) -> Vec<String> {
    let touched = Touched::of(applied);
    let link_touched = |o: &Observed, index: u32| {
        o.link_name(index)
            .is_some_and(|n| touched.links.contains(n))
    };
    let mut out = Vec::new();
    let link_text = |o: &Observed, l: &Link| {
        format!(
            "{} {} mtu {} mac {} {} master {}{}",
            l.kind.as_deref().unwrap_or("device"),
            l.name,
            l.mtu,
            l.mac.map_or_else(|| "none".to_owned(), |m| m.to_string()),
            if l.up { "up" } else { "down" },
            l.master.and_then(|m| o.link_name(m)).unwrap_or("none"),
            l.port
                .as_ref()
                .map(|p| format!(" port {p}"))
                .unwrap_or_default(),
        )
    };
    let links = |o: &Observed| -> BTreeSet<String> {
        o.links
            .iter()
            .filter(|l| touched.links.contains(&l.name))
            .map(|l| link_text(o, l))
            .collect()
    };
    let addresses = |o: &Observed| -> BTreeSet<String> {
        o.addresses
            .iter()
            .filter(|a| link_touched(o, a.index))
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
            .filter(|r| {
                touched.routes.contains(&r.destination) || r.oif.is_some_and(|i| link_touched(o, i))
            })
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
            .filter(|e| e.mac == [0; 6] && link_touched(o, e.index))
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

/// The links (by name) and route destinations a list of steps touches.
#[derive(Default)]
struct Touched {
    links: BTreeSet<String>,
    routes: BTreeSet<IpNet>,
}

impl Touched {
    fn of(steps: &[Step]) -> Self {
        let mut t = Self::default();
        for step in steps {
            match step {
                Step::DeleteLink(s) | Step::RestoreLink(s) => {
                    t.links.insert(s.spec.name().to_owned());
                    t.links.extend(s.ports.iter().cloned());
                    t.links.extend(s.port_of.iter().cloned());
                    t.routes.extend(s.routes.iter().map(|r| r.destination));
                }
                Step::CreateLink(spec) => {
                    t.links.insert(spec.name().to_owned());
                }
                Step::SetMaster { link, from, to, .. } => {
                    t.links.insert(link.clone());
                    t.links.extend(from.iter().cloned());
                    t.links.extend(to.iter().cloned());
                }
                Step::SetMtu { link, .. } | Step::SetUp { link, .. } => {
                    t.links.insert(link.clone());
                }
                Step::AddAddress(a) | Step::DeleteAddress(a) => {
                    t.links.insert(a.link.clone());
                }
                Step::AddFdb(e) | Step::DeleteFdb(e) => {
                    t.links.insert(e.link.clone());
                }
                Step::AddRoute(r) | Step::DeleteRoute(r) => {
                    t.routes.insert(r.destination);
                }
                Step::SetSysctl { .. }
                | Step::Firewall { .. }
                | Step::WriteFile { .. }
                | Step::RemoveFile { .. } => {}
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::desired::LinkSpec;
    use crate::apply::host::netlink::Address;
    use crate::apply::step::LinkSnapshot;

    fn link(index: u32, name: &str, kind: &str, mac: u8) -> Link {
        Link::for_test(index, name, kind, mac)
    }

    #[test]
    fn residue_names_what_did_not_come_back_and_only_that() {
        let mut before = Observed::default();
        before.links.push(link(4, "cni0", "bridge", 1));
        before.links.push(link(9, "veth1", "veth", 9));
        before.addresses.push(Address {
            index: 4,
            net: "10.244.0.1/24".parse().unwrap(),
        });
        // After: cni0 back under another MAC and without its address; a pod's veth went away
        // meanwhile (no step touched it).
        let mut after = Observed::default();
        after.links.push(link(4, "cni0", "bridge", 2));
        let applied = [Step::DeleteLink(LinkSnapshot::new(LinkSpec::Bridge {
            name: "cni0".to_owned(),
        }))];
        let residue = residue(&before, &after, &applied);
        assert_eq!(
            residue,
            [
                "link not restored: bridge cni0 mtu 1500 mac 02:00:00:00:00:01 up master none",
                "link left behind: bridge cni0 mtu 1500 mac 02:00:00:00:00:02 up master none",
                "address not restored: address 10.244.0.1/24 on cni0",
            ]
        );
        assert!(super::residue(&before, &before, &applied).is_empty());
    }

    /// A port that rejoined the recreated bridge with its hairpin flag reset is residue.
    #[test]
    fn residue_names_a_port_setting_rejoining_reset() {
        use crate::apply::host::netlink::PortSettings;
        let port = |hairpin| {
            let mut veth = link(9, "veth1", "veth", 9);
            veth.master = Some(4);
            veth.port = Some(PortSettings {
                hairpin: Some(hairpin),
                learning: Some(true),
                ..PortSettings::default()
            });
            veth
        };
        let mut before = Observed::default();
        before
            .links
            .extend([link(4, "cni0", "bridge", 1), port(true)]);
        let mut after = Observed::default();
        after
            .links
            .extend([link(4, "cni0", "bridge", 1), port(false)]);
        let applied = [Step::DeleteLink(LinkSnapshot {
            ports: vec!["veth1".into()],
            ..LinkSnapshot::new(LinkSpec::Bridge {
                name: "cni0".to_owned(),
            })
        })];
        assert_eq!(
            residue(&before, &after, &applied),
            [
                "link not restored: veth veth1 mtu 1500 mac 02:00:00:00:00:09 up master cni0 \
                 port hairpin on learning on",
                "link left behind: veth veth1 mtu 1500 mac 02:00:00:00:00:09 up master cni0 \
                 port hairpin off learning on",
            ]
        );
    }
}
