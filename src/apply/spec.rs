//! The objects netc creates on a host, as the desired state and the records name them: links,
//! addresses, gateway routes, VXLAN forwarding entries.

use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A link netc creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LinkSpec {
    Bridge {
        name: String,
    },
    Vxlan {
        name: String,
        vni: u32,
        port: u16,
        local: Ipv4Addr,
        underlay: String,
        /// The bridge the device is a port of.
        master: Option<String>,
    },
}

impl LinkSpec {
    pub fn name(&self) -> &str {
        match self {
            LinkSpec::Bridge { name } | LinkSpec::Vxlan { name, .. } => name,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            LinkSpec::Bridge { .. } => "bridge",
            LinkSpec::Vxlan { .. } => "vxlan",
        }
    }

    pub fn master(&self) -> Option<&str> {
        match self {
            LinkSpec::Bridge { .. } => None,
            LinkSpec::Vxlan { master, .. } => master.as_deref(),
        }
    }
}

/// An address on a link.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AddressSpec {
    pub link: String,
    pub net: IpNet,
}

/// A gateway route in the main table.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RouteSpec {
    pub destination: IpNet,
    pub via: IpAddr,
}

/// An all-zeros forwarding entry: broadcast and unknown traffic of a VXLAN device goes to `destination`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FdbSpec {
    pub link: String,
    pub destination: IpAddr,
}

impl FdbSpec {
    /// The entry's link-layer address: all zeros, the entry broadcast and unknown traffic
    /// takes (`bridge fdb append 00:00:00:00:00:00 dev LINK dst DESTINATION`).
    pub const MAC: [u8; 6] = [0; 6];
}
