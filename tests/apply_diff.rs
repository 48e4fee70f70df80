//! Golden fixtures for `apply::diff`: the pure function from (observed host, desired state,
//! ownership record) to ordered steps. In nmstate's style each case is a triple — current,
//! desired, owned — built here in Rust (the observed netlink types are not serde types), with
//! the resulting plan kept as text in `tests/fixtures/apply-diff/<case>.plan`: the steps one per
//! line in order, then the conflicts, the refusals and the ownership record left behind.
//!
//! No root and no namespaces: nothing here touches the host.
//!
//! Regenerate after an intended change, then review the diff like code:
//!
//! ```text
//! NETC_UPDATE_GOLDEN=1 cargo test --test apply_diff
//! git diff tests/fixtures/apply-diff/
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use netc::apply::desired::{AddressSpec, Desired, LinkSpec, Management, RouteSpec};
use netc::apply::diff::{Changes, Mode, diff};
use netc::apply::firewall::{Backend, FirewallSpec};
use netc::apply::host::netlink::{Address, Link, Mac, Route};
use netc::apply::observe::Observed;
use netc::apply::record::{
    FirewallRecord, Owned, OwnedAddress, OwnedFdb, OwnedFile, OwnedLink, OwnedRoute,
};
use similar::TextDiff;

const NODE: &str = "worker-1";
const CONFLIST: &str = "/etc/cni/net.d/10-netc.conflist";
const SYSCTL_FILE: &str = "/etc/sysctl.d/90-netc.conf";
/// What `nft list table inet netc` printed after loading (opaque to diff: compared verbatim).
const NFT_LISTING: &str = "table inet netc {\n}\n";

fn net(s: &str) -> IpNet {
    s.parse().expect("cidr")
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("ip")
}

fn route(dst: &str, via: &str) -> RouteSpec {
    RouteSpec {
        destination: net(dst),
        via: ip(via),
    }
}

fn link(index: u32, name: &str, kind: Option<&str>, mtu: u32) -> Link {
    Link {
        index,
        name: name.to_owned(),
        kind: kind.map(str::to_owned),
        mtu,
        up: true,
        master: None,
        vxlan: None,
        mac: Some(Mac([2, 0, 0, 0, 0, index as u8])),
        bridge: None,
        port: None,
    }
}

fn kernel_route(dst: &str, via: &str) -> Route {
    Route {
        destination: net(dst),
        gateway: Some(ip(via)),
        oif: Some(2),
        protocol: 4,
        metric: None,
    }
}

/// The node's emitted `firewall/<node>.nft` (opaque to diff: loaded and compared verbatim).
fn firewall_spec() -> FirewallSpec {
    FirewallSpec {
        backend: Backend::Nftables,
        zone: String::new(),
        text: "table inet netc\ndelete table inet netc\ntable inet netc {\n\tchain input {\n\t\t\
               type filter hook input priority filter; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n"
            .to_owned(),
    }
}

/// A bridge-mode (reference CNI bridge plugin) worker: `cni0` with the pod gateway, a static
/// route to the other node's pods, nftables, the CNI config and the persisted sysctls.
fn desired_bridge() -> Desired {
    Desired {
        node: NODE.to_owned(),
        links: vec![LinkSpec::Bridge {
            name: "cni0".to_owned(),
        }],
        mtus: Vec::new(),
        addresses: vec![AddressSpec {
            link: "cni0".to_owned(),
            net: net("10.244.1.1/24"),
        }],
        routes: vec![route("10.244.2.0/24", "192.168.1.12")],
        fdb: Vec::new(),
        sysctls: vec![
            ("net.ipv4.ip_forward".to_owned(), "1".to_owned()),
            ("net.bridge.bridge-nf-call-iptables".to_owned(), "1".to_owned()),
            // Not a run-time key: only persisted (in the sysctl file), never a step.
            ("vm.overcommit_memory".to_owned(), "1".to_owned()),
        ],
        modules: Vec::new(),
        firewall: Some(firewall_spec()),
        files: BTreeMap::from([
            (CONFLIST.to_owned(), b"{\"cniVersion\":\"1.0.0\"}\n".to_vec()),
            (
                SYSCTL_FILE.to_owned(),
                b"net.ipv4.ip_forward = 1\nnet.bridge.bridge-nf-call-iptables = 1\nvm.overcommit_memory = 1\n".to_vec(),
            ),
        ]),
        management: Management {
            address: Some(net("192.168.1.11/24")),
            interface: Some("eth0".to_owned()),
        },
    }
}

/// A host netc never touched: lo, the management NIC eth0, a data NIC eth1, the default route.
fn observed_empty(desired: &Desired) -> Observed {
    Observed {
        links: vec![
            link(1, "lo", None, 65536),
            link(2, "eth0", None, 1500),
            link(3, "eth1", None, 1500),
        ],
        addresses: vec![Address {
            index: 2,
            net: net("192.168.1.11/24"),
        }],
        routes: vec![kernel_route("0.0.0.0/0", "192.168.1.1")],
        fdb: Vec::new(),
        sysctls: desired
            .sysctls
            .iter()
            .map(|(k, _)| (k.clone(), Some("0".to_owned())))
            .collect(),
        firewall_nft: None,
        nft_generation: None,
        firewall_firewalld: None,
        files: desired.files.keys().map(|p| (p.clone(), None)).collect(),
        ..Observed::default()
    }
}

/// The host once `desired` is fully applied.
fn observed_converged(desired: &Desired) -> Observed {
    let mut o = observed_empty(desired);
    for (i, l) in (10..).zip(&desired.links) {
        o.links.push(link(i, l.name(), Some(l.kind()), 1500));
    }
    for a in &desired.addresses {
        let index = o.link(&a.link).expect("link of address").index;
        o.addresses.push(Address { index, net: a.net });
    }
    for r in &desired.routes {
        o.routes.push(Route {
            destination: r.destination,
            gateway: Some(r.via),
            oif: Some(2),
            protocol: 4,
            metric: None,
        });
    }
    for (k, v) in &desired.sysctls {
        o.sysctls.insert(k.clone(), Some(v.clone()));
    }
    for (name, mtu) in &desired.mtus {
        o.links
            .iter_mut()
            .filter(|l| l.name == *name)
            .for_each(|l| l.mtu = *mtu);
    }
    o.firewall_nft = desired.firewall.as_ref().map(|_| NFT_LISTING.to_owned());
    for (p, c) in &desired.files {
        o.files.insert(p.clone(), Some(c.clone()));
    }
    o
}

/// The ownership record netc left after applying `desired` (on the host `observed_converged`
/// makes of it, whose identities it records).
fn owned_after(desired: &Desired) -> Owned {
    let mut owned = Owned {
        version: 2,
        node: desired.node.clone(),
        links: desired.links.iter().cloned().map(OwnedLink::new).collect(),
        addresses: desired
            .addresses
            .iter()
            .map(|a| OwnedAddress {
                spec: a.clone(),
                index: None,
            })
            .collect(),
        routes: desired
            .routes
            .iter()
            .cloned()
            .map(OwnedRoute::new)
            .collect(),
        fdb: desired
            .fdb
            .iter()
            .map(|e| OwnedFdb {
                spec: e.clone(),
                index: None,
            })
            .collect(),
        files: desired
            .files
            .iter()
            .map(|(p, c)| OwnedFile::new(p, c))
            .collect(),
        firewall: desired.firewall.as_ref().map(|spec| FirewallRecord {
            backend: spec.backend,
            zone: spec.zone.clone(),
            source: spec.text.clone(),
            listing: NFT_LISTING.to_owned(),
            generation: None,
        }),
    };
    owned.record_identity(&observed_converged(desired));
    owned
}

/// The plan as text: steps in order, conflicts, refusals, then what netc owns afterwards.
fn render(changes: &Changes) -> String {
    let mut out = String::new();
    let mut section = |title: &str, lines: Vec<String>| {
        writeln!(out, "# {title}").unwrap();
        for l in lines {
            writeln!(out, "{l}").unwrap();
        }
    };
    section(
        "steps",
        changes.steps.iter().map(ToString::to_string).collect(),
    );
    section("conflicts", changes.conflicts.clone());
    section("refusals", changes.refusals.clone());
    section("notes", changes.notes.clone());
    let o = &changes.owned_after;
    let mut owned = vec![format!("node {}", o.node)];
    owned.extend(
        o.links
            .iter()
            .map(|l| format!("{} {}", l.spec.kind(), l.name())),
    );
    owned.extend(
        o.addresses
            .iter()
            .map(|a| format!("address {} on {}", a.spec.net, a.spec.link)),
    );
    owned.extend(o.routes.iter().map(|r| {
        format!(
            "route {} via {} proto {}",
            r.spec.destination, r.spec.via, r.protocol
        )
    }));
    owned.extend(
        o.fdb
            .iter()
            .map(|e| format!("forwarding entry {} -> {}", e.spec.link, e.spec.destination)),
    );
    owned.extend(o.files.iter().map(|f| {
        format!(
            "file {} sha256 {}",
            f.path,
            f.sha256.as_deref().map_or("none", |h| &h[..12])
        )
    }));
    owned.extend(o.firewall.iter().map(|f| {
        let backend = match f.backend {
            Backend::Nftables => "nftables",
            Backend::Firewalld => "firewalld",
        };
        format!("firewall {backend} zone {:?}", f.zone)
    }));
    section("owned after", owned);
    out
}

fn fixture(case: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apply-diff")
        .join(format!("{case}.plan"))
}

/// Runs `diff` (without `--force`) and compares its rendered plan with the golden file.
fn check(case: &str, desired: &Desired, observed: &Observed, owned: &Owned) {
    let got = render(&diff(desired, observed, owned, Mode::Careful));
    let path = fixture(case);
    if std::env::var_os("NETC_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run NETC_UPDATE_GOLDEN=1 cargo test --test apply_diff)",
            path.display()
        )
    });
    if want != got {
        let d = TextDiff::from_lines(&want, &got);
        panic!(
            "plan of {case} differs from {} (NETC_UPDATE_GOLDEN=1 to accept):\n{}",
            path.display(),
            d.unified_diff().header("golden", "diff")
        );
    }
}

#[test]
fn empty_host_gets_the_full_bridge_plan() {
    let desired = desired_bridge();
    check(
        "empty-host-bridge",
        &desired,
        &observed_empty(&desired),
        &Owned::default(),
    );
}

#[test]
fn converged_host_needs_no_steps() {
    let desired = desired_bridge();
    let observed = observed_converged(&desired);
    let owned = owned_after(&desired);
    let changes = diff(&desired, &observed, &owned, Mode::Careful);
    assert!(changes.steps.is_empty(), "{:?}", changes.steps);
    check("converged", &desired, &observed, &owned);
}

/// Issue 17 item 17: netc's file with the right contents but readable by others (an older
/// netc's credentials file, 0644) is written again (which narrows it); a foreign one is not.
#[test]
fn an_owned_file_too_open_is_written_again() {
    let desired = desired_bridge();
    let mut observed = observed_converged(&desired);
    observed.too_open.insert(CONFLIST.to_owned());
    let owned = owned_after(&desired);
    let changes = diff(&desired, &observed, &owned, Mode::Careful);
    let steps: Vec<String> = changes.steps.iter().map(ToString::to_string).collect();
    assert_eq!(steps, [format!("update file {CONFLIST}")]);
    let mut foreign = owned.clone();
    foreign.files.clear();
    assert!(
        diff(&desired, &observed, &foreign, Mode::Careful)
            .steps
            .is_empty()
    );
}

#[test]
fn changed_route_is_replaced_alone() {
    let before = desired_bridge();
    let observed = observed_converged(&before);
    let owned = owned_after(&before);
    let mut desired = before.clone();
    desired.routes = vec![route("10.244.2.0/24", "192.168.1.13")];
    check("route-changed", &desired, &observed, &owned);
}

#[test]
fn foreign_objects_out_of_the_way_are_untouched() {
    let desired = desired_bridge();
    let mut observed = observed_converged(&desired);
    observed
        .links
        .push(link(20, "docker0", Some("bridge"), 1500));
    observed.addresses.push(Address {
        index: 20,
        net: net("172.17.0.1/16"),
    });
    observed
        .routes
        .push(kernel_route("10.99.0.0/16", "192.168.1.254"));
    check(
        "foreign-untouched",
        &desired,
        &observed,
        &owned_after(&desired),
    );
}

#[test]
fn foreign_objects_in_the_way_are_conflicts() {
    // A fresh apply: cni0 exists as someone else's dummy device, the peer's pod route points
    // elsewhere, the CNI config holds other contents and someone made a `table inet netc`. None of it is netc's. (The plan
    // still lists the steps around them; `apply` refuses to run it while conflicts remain.)
    let desired = desired_bridge();
    let mut observed = observed_empty(&desired);
    observed.links.push(link(10, "cni0", Some("dummy"), 1500));
    observed
        .routes
        .push(kernel_route("10.244.2.0/24", "192.168.1.99"));
    observed
        .files
        .insert(CONFLIST.to_owned(), Some(b"{}\n".to_vec()));
    // A `table inet netc` netc did not load is foreign too, whatever its name.
    observed.firewall_nft = Some("table inet netc {\n\tchain input {\n\t}\n}\n".to_owned());
    check("foreign-conflict", &desired, &observed, &Owned::default());
}

#[test]
fn owned_objects_the_intent_dropped_are_deleted() {
    // Applied before with a second peer route, another bridge (with its address) and a file the intent no longer has.
    let mut before = desired_bridge();
    before.links.push(LinkSpec::Bridge {
        name: "br-old".to_owned(),
    });
    before.addresses.push(AddressSpec {
        link: "br-old".to_owned(),
        net: net("10.250.0.11/24"),
    });
    before.routes.push(route("10.244.3.0/24", "192.168.1.13"));
    before
        .files
        .insert("/etc/netc/old.conf".to_owned(), b"old\n".to_vec());
    let observed = observed_converged(&before);
    let owned = owned_after(&before);
    // br-old's address goes with the link: no separate step for it.
    check("owned-dropped", &desired_bridge(), &observed, &owned);
}

/// A link `diff` takes out of a bridge (here netc's bridge found as a port of another one)
/// keeps the bridge-port settings it had there in the step, and its inverse gives them back
/// on re-attaching: leaving a bridge drops them, joining one starts from the kernel's defaults.
#[test]
fn a_link_leaving_a_bridge_keeps_its_port_settings_for_the_rollback() {
    use netc::apply::host::netlink::PortSettings;
    use netc::apply::step::Step;
    let desired = desired_bridge();
    let owned = owned_after(&desired);
    let mut observed = observed_converged(&desired);
    observed
        .links
        .push(link(30, "other0", Some("bridge"), 1500));
    let hairpin = PortSettings {
        hairpin: Some(true),
        learning: Some(false),
        ..PortSettings::default()
    };
    let cni0 = observed
        .links
        .iter_mut()
        .find(|l| l.name == "cni0")
        .expect("cni0");
    cni0.master = Some(30);
    cni0.port = Some(hairpin.clone());
    let changes = diff(&desired, &observed, &owned, Mode::Careful);
    let release = Step::SetMaster {
        link: "cni0".into(),
        from: Some("other0".into()),
        to: None,
        from_port: Some(hairpin.clone()),
        to_port: None,
    };
    assert_eq!(
        changes.steps,
        std::slice::from_ref(&release),
        "{:?}",
        changes.conflicts
    );
    assert_eq!(
        release.inverse(),
        Step::SetMaster {
            link: "cni0".into(),
            from: None,
            to: Some("other0".into()),
            from_port: None,
            to_port: Some(hairpin),
        }
    );
}

#[test]
fn mtu_change_on_a_data_interface() {
    let before = desired_bridge();
    let observed = observed_converged(&before);
    let owned = owned_after(&before);
    let mut desired = before.clone();
    desired.mtus = vec![("eth1".to_owned(), 9000)];
    check("mtu-data-interface", &desired, &observed, &owned);
}

#[test]
fn state_entries_that_name_other_objects_are_left_alone() {
    // The record names objects the host holds under the same names, but they are not the
    // ones netc made: a veth where netc made a bridge, a bridge recreated by someone else (new
    // index), a route added by hand (protocol boot), a file whose contents netc did not write,
    // and a version 1 entry without a hash. None of them may be removed.
    let desired = desired_bridge();
    let mut observed = observed_converged(&desired);
    let mut owned = owned_after(&desired);
    observed.links.push(link(30, "fA", Some("veth"), 1500));
    owned.links.push(OwnedLink::new(LinkSpec::Bridge {
        name: "fA".to_owned(),
    }));
    observed
        .links
        .push(link(31, "br-old", Some("bridge"), 1500));
    owned.links.push(OwnedLink {
        spec: LinkSpec::Bridge {
            name: "br-old".to_owned(),
        },
        index: Some(21),
        mac: Some(Mac([2, 0, 0, 0, 0, 0x15])),
    });
    observed.routes.push(Route {
        protocol: 3,
        ..kernel_route("10.99.0.0/24", "192.168.1.1")
    });
    owned
        .routes
        .push(OwnedRoute::new(route("10.99.0.0/24", "192.168.1.1")));
    observed.files.insert(
        "/etc/passwd".to_owned(),
        Some(b"root:x:0:0::/root:/bin/sh\n".to_vec()),
    );
    owned
        .files
        .push(OwnedFile::new("/etc/passwd", b"netc wrote this\n"));
    observed
        .files
        .insert("/etc/netc/legacy.conf".to_owned(), Some(b"x\n".to_vec()));
    owned.files.push(OwnedFile {
        path: "/etc/netc/legacy.conf".to_owned(),
        sha256: None,
        pending: None,
    });
    let changes = diff(&desired, &observed, &owned, Mode::Careful);
    assert!(changes.steps.is_empty(), "{:?}", changes.steps);
    assert_eq!(changes.notes.len(), 5, "{:#?}", changes.notes);
    check("state-identity", &desired, &observed, &owned);
}
