//! The firewall backends. netc owns one part of the host firewall (the nftables table
//! `inet netc`, or its entries in firewalld zones) and replaces it as a whole. What that part
//! holds comes from `emit`: the node's `firewall/<node>.nft` exactly as emitted, or the
//! entries of `emit::firewall::firewalld_zone` that `firewall/<node>.firewalld.sh` adds.

mod firewalld;
pub mod generation;
pub mod libnftables;
mod nft;

use serde::{Deserialize, Serialize};

pub use firewalld::Firewalld;
pub use nft::{Nftables, TABLE, loadable};

use super::ApplyError;

/// Which backend programs the firewall.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Nftables,
    Firewalld,
}

/// The firewall one node should have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FirewallSpec {
    pub backend: Backend,
    /// The firewalld zone (firewalld only).
    pub zone: String,
    /// What netc's part must hold, as the driver loads it: the emitted nftables file, or the
    /// firewalld entries one per line (`emit::firewall::FirewalldEntry::line`).
    pub text: String,
}

/// One firewall backend: reads netc's part back and swaps it.
pub trait FirewallDriver {
    /// What netc's part holds now (nftables: the listed table; firewalld: every entry of the
    /// zones netc uses, one per line); `None` when absent.
    fn observe(&self) -> Result<Option<String>, ApplyError>;
    /// Replaces netc's part, holding `from` now, by `to` (`None` removes it).
    fn replace(&self, from: Option<&str>, to: Option<&str>) -> Result<(), ApplyError>;
    /// How many rules a text (loaded or observed) holds, for verification.
    fn rule_count(&self, text: &str) -> usize;
}

/// Lists netc's nftables table, with the generation it was read at: `None` when it is unknown
/// or a commit happened while listing.
pub fn list_nftables() -> Result<(Option<String>, Option<generation::Generation>), ApplyError> {
    let before = generation::current();
    let listing = Nftables.observe()?;
    let after = generation::current();
    Ok((listing, before.filter(|b| after.as_ref() == Some(b))))
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
