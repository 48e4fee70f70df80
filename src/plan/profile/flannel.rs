//! flannel's facts (kube-flannel.yml, RKE2's and k3s's flannel).

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::values::Protocol;

/// flannel's VXLAN port when `Backend.Port` is 0: the Linux kernel's VXLAN default.
pub const VXLAN_PORT: u16 = 8472;
/// flannel's wireguard backend `ListenPort` / `ListenPortV6` defaults.
pub const WIREGUARD_PORT: u16 = 51820;
pub const WIREGUARD_PORT_V6: u16 = 51821;

const T: Target = Target::Flannel;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::Port("VXLAN (default)"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, VXLAN_PORT),
        source: "flannel-io/flannel `pkg/backend/vxlan/vxlan.go` (`Port` 0 = the kernel's 8472)",
    },
    Fact {
        target: T,
        key: Key::Port("WireGuard"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, WIREGUARD_PORT),
        source: "flannel-io/flannel `pkg/backend/wireguard/wireguard.go` (`ListenPort` 51820)",
    },
    Fact {
        target: T,
        key: Key::Port("WireGuard IPv6"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Udp, WIREGUARD_PORT_V6),
        source: "flannel-io/flannel `pkg/backend/wireguard/wireguard.go` (`ListenPortV6` 51821)",
    },
];
