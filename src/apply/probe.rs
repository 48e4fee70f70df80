//! Connectivity probes for `--try`: what answered before the change must answer after it.

use std::fmt;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::observe::Observed;
use crate::plan::Plan;

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
pub fn targets(plan: &Plan, node: &str, observed: &Observed) -> Vec<Target> {
    let mut out: Vec<Target> = observed
        .routes
        .iter()
        .filter(|r| r.destination.prefix_len() == 0)
        .filter_map(|r| r.gateway.map(Target::Ping))
        .collect();
    out.extend(
        plan.nodes
            .iter()
            .filter(|n| n.name != node)
            .filter_map(|n| n.ip())
            .take(3)
            .map(Target::Ping),
    );
    if let Some(endpoint) = &plan.control_plane_endpoint
        && let Ok(mut addrs) = endpoint.to_socket_addrs()
        && let Some(addr) = addrs.next()
    {
        out.push(Target::Tcp(addr));
    }
    out
}

/// Whether the target answers within a second.
pub fn reachable(target: &Target) -> bool {
    match target {
        Target::Ping(ip) => Command::new("ping")
            .args(["-c", "1", "-W", "1", &ip.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
        Target::Tcp(addr) => TcpStream::connect_timeout(addr, Duration::from_secs(1)).is_ok(),
    }
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
