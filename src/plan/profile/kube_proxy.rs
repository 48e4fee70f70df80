//! kube-proxy's facts, on every target that passes it configuration.

use super::{Fact, Key, Target, Value, Versions};

/// The gate `mode: nftables` needs while Alpha.
pub const NFTABLES_GATE: &str = "NFTablesProxyMode";

const T: Target = Target::KubeProxy;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::NftablesMode,
        versions: Versions::between((1, 22), (1, 28)),
        value: Value::Refused,
        source: "kubernetes/kubernetes `pkg/proxy/apis/config/validation/validation.go` (`validateProxyModeLinux`: no nftables mode before the gate, v1.29)",
    },
    Fact {
        target: T,
        key: Key::NftablesMode,
        versions: Versions::between((1, 29), (1, 30)),
        value: Value::Gate(NFTABLES_GATE),
        source: "kubernetes/kubernetes `pkg/features/kube_features.go` (`NFTablesProxyMode` Alpha, default off, v1.29); `validation.go` `validateProxyModeLinux` accepts nftables only with the gate",
    },
    Fact {
        target: T,
        key: Key::NftablesMode,
        versions: Versions::from(1, 31),
        value: Value::Nothing,
        source: "kubernetes/kubernetes `pkg/features/kube_features.go` (`NFTablesProxyMode` Beta, default on, v1.31; GA v1.33)",
    },
];
