//! The firewall backends. netc owns one part of the host firewall (the nftables table
//! `inet netc`, or its ports and rich rules in a firewalld zone) and replaces it as a whole.

mod firewalld;
mod nft;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

pub use firewalld::Firewalld;
pub use nft::{Nftables, TABLE};

use super::ApplyError;
use crate::intent::values::PortRange;

/// Which backend programs the firewall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Nftables,
    Firewalld,
}

/// The firewall one node should have.
#[derive(Clone, Debug, PartialEq)]
pub struct FirewallSpec {
    pub backend: Backend,
    /// The firewalld zone (firewalld only).
    pub zone: String,
    /// Accepted before anything else, in every ruleset netc loads.
    pub management: Vec<PortRange>,
    /// The user's rules for this node's role, in intent order.
    pub rules: Vec<RuleSpec>,
    /// Ports the cluster's components listen on: `(component, range)`.
    pub required: Vec<(String, PortRange)>,
}

/// One user rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleSpec {
    pub name: String,
    pub ports: Vec<PortRange>,
    /// Allowed sources; empty = anywhere.
    pub from: Vec<IpNet>,
    /// Accept (true) or drop.
    pub accept: bool,
}

/// One firewall backend: renders netc's part, reads it back, and swaps it atomically.
pub trait FirewallDriver {
    /// The text netc's part of the firewall is loaded from.
    fn render(&self, spec: &FirewallSpec) -> String;
    /// What netc's part holds now, in a form `replace` can load again; `None` when absent.
    fn observe(&self) -> Result<Option<String>, ApplyError>;
    /// Replaces netc's part, holding `from` now, by `to` (`None` removes it).
    fn replace(&self, from: Option<&str>, to: Option<&str>) -> Result<(), ApplyError>;
    /// How many rules a text (rendered or observed) holds, for verification.
    fn rule_count(&self, text: &str) -> usize;
}

/// The driver of a backend.
pub fn driver(backend: Backend, zone: &str) -> Box<dyn FirewallDriver> {
    match backend {
        Backend::Nftables => Box::new(Nftables),
        Backend::Firewalld => Box::new(Firewalld {
            zone: zone.to_owned(),
        }),
    }
}

/// `tcp/22`-style text of a port range for messages.
pub fn port_text(range: &PortRange) -> String {
    if range.first == range.last {
        format!("{}/{}", range.protocol.as_str(), range.first)
    } else {
        format!("{}/{}-{}", range.protocol.as_str(), range.first, range.last)
    }
}
