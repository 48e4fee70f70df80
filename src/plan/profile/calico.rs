//! Calico's facts (tigera-operator, RKE2's rke2-calico and rke2-canal).

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::values::Protocol;

/// FelixConfiguration defaults (projectcalico/api `felixconfig.go`).
pub const VXLAN_PORT: u16 = 4789;
pub const WIREGUARD_PORT: u16 = 51820;
pub const WIREGUARD_PORT_V6: u16 = 51821;
pub const BGP_PORT: u16 = 179;
pub const TYPHA_PORT: u16 = 5473;

const T: Target = Target::Calico;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::Port("VXLAN (default)"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, VXLAN_PORT),
        source: "projectcalico/api `pkg/apis/projectcalico/v3/felixconfig.go` (`vxlanPort` 4789)",
    },
    Fact {
        target: T,
        key: Key::Port("WireGuard"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, WIREGUARD_PORT),
        source: "projectcalico/api `pkg/apis/projectcalico/v3/felixconfig.go` (`wireguardListeningPort` 51820)",
    },
    Fact {
        target: T,
        key: Key::Port("WireGuard IPv6"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, WIREGUARD_PORT_V6),
        source: "projectcalico/api `pkg/apis/projectcalico/v3/felixconfig.go` (`wireguardListeningPortV6` 51821)",
    },
    Fact {
        target: T,
        key: Key::Port("BGP"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, BGP_PORT),
        source: "projectcalico/api `pkg/apis/projectcalico/v3/bgpconfig.go` (`listenPort` 179)",
    },
    Fact {
        target: T,
        key: Key::Port("Typha"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, TYPHA_PORT),
        source: "tigera/operator `pkg/render/typha.go` (`TyphaPort` 5473)",
    },
];
