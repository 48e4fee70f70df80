//! The connectivity probes (`--try`, the fleet agent, `netc status`) send ICMP echo in-process:
//! on an unprivileged ping socket where `net.ipv4.ping_group_range` allows it, else on a raw
//! socket. Two namespaces joined by a veth pair, IPv4 and IPv6; the probe runs on a thread that
//! entered one of them (`setns` moves only the calling thread). Needs root; the namespaces are
//! deleted on every exit path. `NETC_SKIP_NETNS=1` skips.

use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netc::apply::host::probe::{self, IcmpSocket, Target};

mod lab;
use lab::{Netns, veth};

/// Namespaces a (10.9.0.1/24, fd09::1/64) and b (10.9.0.2/24, fd09::2/64) on one veth pair.
struct Pair {
    a: Netns,
    b: Netns,
}

fn pair() -> Option<Pair> {
    if lab::skip_netns() {
        eprintln!("NETC_SKIP_NETNS=1: skipping");
        return None;
    }
    let pair = Pair {
        a: Netns::new("probe-a"),
        b: Netns::new("probe-b"),
    };
    // No duplicate address detection: the link-local address is usable at once too.
    pair.a.no_dad();
    pair.b.no_dad();
    veth(&pair.a, "eth0", &pair.b, "eth0");
    for (ns, v4, v6) in [
        (&pair.a, "10.9.0.1/24", "fd09::1/64"),
        (&pair.b, "10.9.0.2/24", "fd09::2/64"),
    ] {
        ns.ok(&["ip", "addr", "add", v4, "dev", "eth0"]);
        ns.ok(&["ip", "addr", "add", v6, "dev", "eth0", "nodad"]);
    }
    // A fresh link drops the first IPv6 packet while the neighbour is resolved: warm the path up
    // with iputils ping (a test tool here, not what is tested).
    let warm = (0..10).any(|_| {
        pair.a
            .exec(&["ping", "-c1", "-W1", "fd09::2"], &[], None)
            .status
            .success()
    });
    assert!(warm, "IPv6 between the namespaces never came up");
    Some(pair)
}

/// Runs `f` on a thread inside network namespace `ns`.
fn inside<T: Send + 'static>(ns: &Netns, f: impl FnOnce() -> T + Send + 'static) -> T {
    let file = std::fs::File::open(ns.path()).expect("open the namespace");
    std::thread::spawn(move || {
        // SAFETY: setns on a valid namespace fd changes only this thread's network namespace.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("probe thread")
}

fn echo(ns: &Netns, ip: &str, kind: IcmpSocket) -> std::io::Result<bool> {
    let ip: IpAddr = ip.parse().expect("address");
    inside(ns, move || {
        probe::echo(ip, kind, Duration::from_millis(500))
    })
}

#[test]
fn icmp_echo_on_ping_and_raw_sockets_v4_and_v6() {
    let Some(pair) = pair() else { return };
    // Ping sockets allowed for every group (as root's group 0 needs) in namespace a.
    pair.a.sysctl("net.ipv4.ping_group_range", "0 2147483647");
    for kind in [IcmpSocket::Unprivileged, IcmpSocket::Raw] {
        for peer in ["10.9.0.2", "fd09::2"] {
            assert!(
                echo(&pair.a, peer, kind).expect("socket"),
                "{kind:?}: no echo reply from {peer}"
            );
        }
        // Nobody has these addresses: no reply, within the wait.
        for absent in ["10.9.0.77", "fd09::77"] {
            assert!(
                !echo(&pair.a, absent, kind).expect("socket"),
                "{kind:?}: {absent} answered"
            );
        }
    }
    // Dropping echo requests in b makes it unreachable, whatever the socket.
    pair.b.sysctl("net.ipv4.icmp_echo_ignore_all", "1");
    assert!(!echo(&pair.a, "10.9.0.2", IcmpSocket::Raw).expect("socket"));
    assert!(!echo(&pair.a, "10.9.0.2", IcmpSocket::Unprivileged).expect("socket"));
}

#[test]
fn reachable_falls_back_to_a_raw_socket_when_ping_sockets_are_not_allowed() {
    let Some(pair) = pair() else { return };
    // The kernel default "1 0": no group may open a ping socket.
    pair.a.sysctl("net.ipv4.ping_group_range", "1 0");
    assert!(
        echo(&pair.a, "10.9.0.2", IcmpSocket::Unprivileged).is_err(),
        "a ping socket opened against ping_group_range"
    );
    let answered = inside(&pair.a, || {
        probe::reachable_all(&[
            Target::Ping("10.9.0.2".parse().expect("ip")),
            Target::Ping("fd09::2".parse().expect("ip")),
            Target::Ping("10.9.0.77".parse().expect("ip")),
        ])
    });
    // reachable_all probes on threads of its own: they inherit the namespace of the thread that
    // spawned them.
    assert_eq!(answered, vec![true, true, false]);
}
