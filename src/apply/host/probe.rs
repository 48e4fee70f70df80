//! Connectivity probes for `--try`, the fleet agent and `netc status`: what answered before the
//! change must answer after it.
//!
//! ICMP echo is sent in-process, so the agent's image needs no `ping` binary: first on an
//! unprivileged ICMP socket (Linux's "ping socket", `SOCK_DGRAM`/`IPPROTO_ICMP`, allowed to the
//! groups in `net.ipv4.ping_group_range`; the kernel sets the identifier and checksum and
//! delivers only this socket's replies), else on a raw socket (`CAP_NET_RAW`, which root and a
//! `NET_RAW` container have; IPv4 replies then come with their IP header, and every raw socket
//! sees every reply from the peer it is connected to, so ours are told apart by identifier and
//! sequence).

use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::apply::desired::Derived;
use crate::apply::observe::Observed;

/// One thing to reach. Recorded in the agent's status record (`netc status` probes them again).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "address", rename_all = "lowercase")]
pub enum Target {
    /// ICMP echo (the default gateway, a peer node).
    Ping(IpAddr),
    /// A TCP connection (the API endpoint).
    Tcp(SocketAddr),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Ping(ip) => write!(f, "ping {ip}"),
            Target::Tcp(addr) => write!(f, "tcp {addr}"),
        }
    }
}

/// The default gateway, up to three peer nodes, and the API endpoint when the intent gives one.
pub fn targets(derived: &Derived, observed: &Observed) -> Vec<Target> {
    let mut out: Vec<Target> = observed
        .routes
        .iter()
        .filter(|r| r.destination.prefix_len() == 0)
        .filter_map(|r| r.gateway.map(Target::Ping))
        .collect();
    out.extend(derived.peers.iter().copied().map(Target::Ping));
    if let Some(endpoint) = &derived.api_endpoint
        && let Some(addr) = resolve_endpoint(endpoint)
    {
        out.push(Target::Tcp(addr));
    }
    out
}

/// How long resolving the API endpoint's name may take: a pass never waits on DNS longer.
pub const RESOLVE_WAIT: Duration = Duration::from_secs(2);
/// How long a resolution (or its failure) is reused: the agent's passes over one intent
/// resolve its endpoint once, not on every pass (an unresolvable name cost each pass seconds).
const RESOLVED_FOR: Duration = Duration::from_secs(600);

/// The API endpoint's first address: resolved at most once per [`RESOLVED_FOR`] per name, and
/// within [`RESOLVE_WAIT`] (`None` when it did not resolve in time).
pub fn resolve_endpoint(endpoint: &str) -> Option<SocketAddr> {
    resolve_with(endpoint, RESOLVE_WAIT, |e| {
        e.to_socket_addrs().ok().and_then(|mut a| a.next())
    })
}

type Resolved = (String, Instant, Option<SocketAddr>);

fn resolve_with(
    endpoint: &str,
    wait: Duration,
    resolve: fn(&str) -> Option<SocketAddr>,
) -> Option<SocketAddr> {
    static CACHE: std::sync::Mutex<Vec<Resolved>> = std::sync::Mutex::new(Vec::new());
    // An address needs no resolver (and no cache).
    if let Ok(addr) = endpoint.parse::<SocketAddr>() {
        return Some(addr);
    }
    let now = Instant::now();
    if let Ok(cache) = CACHE.lock()
        && let Some((_, _, addr)) = cache
            .iter()
            .find(|(e, at, _)| e == endpoint && now.duration_since(*at) < RESOLVED_FOR)
    {
        return *addr;
    }
    // getaddrinfo cannot be cancelled: it runs on its own thread, abandoned past `wait`.
    let (tx, rx) = std::sync::mpsc::channel();
    let name = endpoint.to_owned();
    let spawned = std::thread::Builder::new()
        .name("netc-resolve".into())
        .spawn(move || {
            let _ = tx.send(resolve(&name));
        });
    let addr = match spawned {
        Ok(_) => rx.recv_timeout(wait).ok().flatten(),
        Err(_) => None,
    };
    if let Ok(mut cache) = CACHE.lock() {
        cache.retain(|(e, at, _)| e != endpoint && now.duration_since(*at) < RESOLVED_FOR);
        cache.push((endpoint.to_owned(), now, addr));
    }
    addr
}

/// Whether the target answers within a second.
pub fn reachable(target: &Target) -> bool {
    const WAIT: Duration = Duration::from_secs(1);
    match target {
        Target::Ping(ip) => [IcmpSocket::Unprivileged, IcmpSocket::Raw]
            .into_iter()
            // The first kind of socket this process may open decides.
            .find_map(|kind| echo(*ip, kind, WAIT).ok())
            .unwrap_or(false),
        Target::Tcp(addr) => TcpStream::connect_timeout(addr, WAIT).is_ok(),
    }
}

/// The kind of socket an ICMP echo goes out on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpSocket {
    /// `SOCK_DGRAM`: allowed by `net.ipv4.ping_group_range`, no capability needed.
    Unprivileged,
    /// `SOCK_RAW`: needs `CAP_NET_RAW`.
    Raw,
}

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;
const PAYLOAD: &[u8; 8] = b"netc-prb";

/// Sequence numbers, so a late reply to an earlier probe is not taken for this one's.
static SEQUENCE: AtomicU16 = AtomicU16::new(1);

/// One ICMP echo to `ip` on a socket of `kind`: `Ok(true)` when the reply came within `wait`,
/// `Ok(false)` when it did not (or could not be sent), `Err` when this process may not open
/// that kind of socket.
pub fn echo(ip: IpAddr, kind: IcmpSocket, wait: Duration) -> io::Result<bool> {
    let (domain, protocol, request) = match ip {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4, ECHO_REQUEST_V4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6, ECHO_REQUEST_V6),
    };
    let ty = match kind {
        IcmpSocket::Unprivileged => Type::DGRAM,
        IcmpSocket::Raw => Type::RAW,
    };
    let socket = Socket::new(domain, ty, Some(protocol))?;
    // On a raw socket the identifier is ours to pick; the kernel replaces it on a ping socket.
    let id = (std::process::id() as u16) ^ 0x6e63;
    let seq = SEQUENCE.fetch_add(1, Ordering::Relaxed);
    let mut packet = Vec::with_capacity(8 + PAYLOAD.len());
    packet.extend_from_slice(&[request, 0, 0, 0]);
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(PAYLOAD);
    if ip.is_ipv4() {
        // ICMPv6 checksums cover a pseudo-header: the kernel computes them (RFC 3542 3.1).
        let sum = checksum(&packet).to_be_bytes();
        packet[2] = sum[0];
        packet[3] = sum[1];
    }
    // Connected, the socket takes only datagrams from `ip` (raw sockets filter on the peer).
    if socket
        .connect(&SockAddr::from(SocketAddr::new(ip, 0)))
        .is_err()
        || socket.send(&packet).is_err()
    {
        return Ok(false);
    }
    let deadline = Instant::now() + wait;
    let mut buf = [0u8; 1500];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || socket.set_read_timeout(Some(left)).is_err() {
            return Ok(false);
        }
        let Ok(len) = (&socket).read(&mut buf) else {
            return Ok(false);
        };
        let bytes = &buf[..len];
        // A raw IPv4 socket receives the IP header too.
        let icmp = if ip.is_ipv4() && kind == IcmpSocket::Raw {
            let header = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
            bytes.get(header..).unwrap_or_default()
        } else {
            bytes
        };
        let reply = if ip.is_ipv4() {
            ECHO_REPLY_V4
        } else {
            ECHO_REPLY_V6
        };
        let ours = icmp.len() >= 8
            && icmp[0] == reply
            && icmp[6..8] == seq.to_be_bytes()
            && (kind == IcmpSocket::Unprivileged || icmp[4..6] == id.to_be_bytes());
        if ours {
            return Ok(true);
        }
    }
}

/// The Internet checksum (RFC 1071) of an ICMPv4 message.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// [`reachable`] for every target at once (one thread each), so probing N targets takes about
/// a second, not N: `netc status` runs as a readinessProbe with a few seconds' timeout.
pub fn reachable_all(targets: &[Target]) -> Vec<bool> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .iter()
            .map(|t| scope.spawn(move || reachable(t)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(false))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17 item 19: a resolver that hangs costs one bounded wait, once per name.
    #[test]
    fn endpoint_names_resolve_once_and_within_the_bound() {
        use std::sync::atomic::AtomicUsize;
        static CALLS: AtomicUsize = AtomicUsize::new(0);
        fn hanging(_: &str) -> Option<SocketAddr> {
            CALLS.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_secs(30));
            None
        }
        // The first lookup waits out the bound; the second is answered from the remembered
        // failure without waiting.
        for bound in [Duration::from_secs(2), Duration::from_millis(100)] {
            let t = Instant::now();
            assert_eq!(
                resolve_with(
                    "api.never.invalid:6443",
                    Duration::from_millis(200),
                    hanging
                ),
                None
            );
            assert!(t.elapsed() < bound, "{:?}", t.elapsed());
        }
        assert_eq!(CALLS.load(Ordering::SeqCst), 1);
        // An address is taken as it is.
        assert_eq!(
            resolve_with("10.0.0.1:6443", Duration::from_millis(200), hanging),
            Some("10.0.0.1:6443".parse().expect("addr"))
        );
    }

    use super::checksum;

    #[test]
    fn internet_checksum_of_an_echo_request() {
        // type 8, code 0, checksum 0, id 0x1234, seq 1, payload "ab": RFC 1071's one's
        // complement of the 16-bit one's complement sum.
        let msg = [8, 0, 0, 0, 0x12, 0x34, 0, 1, b'a', b'b'];
        let sum = 0x0800u32 + 0x1234 + 0x0001 + 0x6162;
        assert_eq!(checksum(&msg), !(sum as u16));
        // Verifying a message with its checksum in place gives zero.
        let mut with = msg;
        with[2..4].copy_from_slice(&checksum(&msg).to_be_bytes());
        assert_eq!(checksum(&with), 0);
        // An odd length pads with a zero byte.
        assert_eq!(checksum(&[0xff]), !0xff00);
    }
}
