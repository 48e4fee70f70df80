//! A control plane run from binaries ("Kubernetes the hard way").

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::CniPlugin;
use crate::intent::values::Protocol;

const T: Target = Target::Manual;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::DnsLabel,
        versions: Versions::from(1, 22),
        value: Value::Label("k8s-app", "kube-dns"),
        source: "coredns/deployment `kubernetes/coredns.yaml.sed` (the CoreDNS manifest a hand-run cluster applies)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPort,
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, crate::plan::API_SERVER_PORT),
        source: "kubernetes/kubernetes `pkg/controlplane/apiserver/options/options.go` (`SecureServing.BindPort = 6443`)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPortSetting,
        versions: Versions::from(1, 22),
        value: Value::Text("--secure-port"),
        source: "kubernetes/kubernetes `staging/src/k8s.io/apiserver/pkg/server/options/serving.go` (`--secure-port`)",
    },
    Fact {
        target: T,
        key: Key::KubeProxyHealthz,
        versions: Versions::from(1, 22),
        value: Value::Text("0.0.0.0:10256"),
        source: "kubernetes/kubernetes `pkg/proxy/apis/config/v1alpha1/defaults.go` (`HealthzBindAddress`)",
    },
    Fact {
        target: T,
        key: Key::CniPlugins,
        versions: Versions::from(1, 22),
        value: Value::Plugins(&[CniPlugin::Flannel, CniPlugin::Bridge, CniPlugin::None]),
        source: "kelseyhightower/kubernetes-the-hard-way `docs/11-pod-network-routes.md` (the bridge plugin with static routes; netc adds flanneld on the host and writes no operator or chart)",
    },
];
