//! k3s's facts (a k3s release is `v<kubernetes>+k3sN`: its Kubernetes version selects).

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::values::Protocol;
use crate::intent::{CniPlugin, Encapsulation};

const T: Target = Target::K3s;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::BuiltinCni,
        versions: Versions::from(1, 22),
        value: Value::Plugin(CniPlugin::Flannel),
        source: "k3s-io/k3s `pkg/cli/cmds/server.go` (`flannel-backend`, default `vxlan`)",
    },
    Fact {
        target: T,
        key: Key::DnsLabel,
        versions: Versions::from(1, 22),
        value: Value::Label("k8s-app", "kube-dns"),
        source: "k3s-io/k3s `manifests/coredns.yaml` (Deployment `coredns` pod labels)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPort,
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, crate::plan::API_SERVER_PORT),
        source: "k3s-io/k3s `pkg/cli/cmds/server.go` (`https-listen-port`, default 6443)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPortSetting,
        versions: Versions::from(1, 22),
        value: Value::Text("https-listen-port"),
        source: "k3s-io/k3s `pkg/cli/cmds/server.go` (`https-listen-port`)",
    },
    Fact {
        target: T,
        key: Key::KubeProxyHealthz,
        versions: Versions::from(1, 22),
        value: Value::Text("127.0.0.1:10256"),
        source: "k3s-io/k3s `pkg/daemons/agent/agent_linux.go` (`kubeProxyArgs`: `healthz-bind-address=127.0.0.1`)",
    },
    Fact {
        target: T,
        key: Key::CniPlugins,
        versions: Versions::from(1, 22),
        value: Value::Plugins(&[
            CniPlugin::Flannel,
            CniPlugin::Calico,
            CniPlugin::Canal,
            CniPlugin::Cilium,
            CniPlugin::None,
        ]),
        source: "k3s-io/k3s `pkg/cli/cmds/server.go` (`flannel-backend`: `none` lets another CNI run; netc writes flannel built in, or calico/canal/cilium with `flannel-backend: none`; no bare bridge)",
    },
    Fact {
        target: T,
        key: Key::Encapsulations(CniPlugin::Flannel),
        versions: Versions::between((1, 22), (1, 23)),
        value: Value::Encapsulations(&[Encapsulation::Vxlan, Encapsulation::HostGw]),
        source: "k3s-io/k3s `pkg/cli/cmds/server.go` (`flannel-backend`: vxlan, host-gw, and the old `wireguard`/`ipsec` backends netc does not write; `wireguard-native` only from v1.23.6+k3s1, so not across 1.23)",
    },
    Fact {
        target: T,
        key: Key::Encapsulations(CniPlugin::Flannel),
        versions: Versions::from(1, 24),
        value: Value::Encapsulations(&[
            Encapsulation::Vxlan,
            Encapsulation::HostGw,
            Encapsulation::Wireguard,
        ]),
        source: "k3s-io/k3s `pkg/cli/cmds/server.go` (`flannel-backend` valid values: 'none', 'vxlan', 'host-gw', 'wireguard-native'; `wireguard` replaced by `wireguard-native` in v1.27.1+k3s1, k3s-io/k3s#7297)",
    },
];
