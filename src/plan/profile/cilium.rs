//! Cilium's facts (the cilium chart, RKE2's rke2-cilium, Canonical's built-in Cilium).

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::values::Protocol;

/// `tunnelPort` 0 = 8472 for VXLAN.
pub const VXLAN_PORT: u16 = 8472;
pub const HEALTH_PORT: u16 = 4240;
pub const HUBBLE_PORT: u16 = 4244;
pub const WIREGUARD_PORT: u16 = 51871;

const T: Target = Target::Cilium;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::Port("VXLAN (default)"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, VXLAN_PORT),
        source: "cilium/cilium `install/kubernetes/cilium/values.yaml` (`tunnelPort` 0 = 8472 for VXLAN)",
    },
    Fact {
        target: T,
        key: Key::Port("health"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, HEALTH_PORT),
        source: "cilium/cilium `pkg/defaults/defaults.go` (`ClusterHealthPort` 4240)",
    },
    Fact {
        target: T,
        key: Key::Port("Hubble"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, HUBBLE_PORT),
        source: "cilium/cilium `install/kubernetes/cilium/values.yaml` (`hubble.peerService.targetPort` 4244)",
    },
    Fact {
        target: T,
        key: Key::Port("WireGuard"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, WIREGUARD_PORT),
        source: "cilium/cilium `pkg/wireguard/agent/agent.go` (`listenPort` 51871)",
    },
];
