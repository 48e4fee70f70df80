//! kubeadm's facts.

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::CniPlugin;
use crate::intent::values::Protocol;

pub const API_V1BETA3: &str = "kubeadm.k8s.io/v1beta3";
pub const API_V1BETA4: &str = "kubeadm.k8s.io/v1beta4";

const T: Target = Target::Kubeadm;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::KubeadmApi,
        versions: Versions::between((1, 22), (1, 30)),
        value: Value::Text(API_V1BETA3),
        source: "kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/v1beta3/doc.go` (added v1.22)",
    },
    Fact {
        target: T,
        key: Key::KubeadmApi,
        versions: Versions::from(1, 31),
        value: Value::Text(API_V1BETA4),
        source: "kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/v1beta4/doc.go` (added v1.31)",
    },
    Fact {
        target: T,
        key: Key::DnsLabel,
        versions: Versions::from(1, 22),
        value: Value::Label("k8s-app", "kube-dns"),
        source: "kubernetes/kubernetes `cmd/kubeadm/app/phases/addons/dns/manifests.go` (`CoreDNSDeployment`)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPort,
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, crate::plan::API_SERVER_PORT),
        source: "kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go` (`DefaultAPIBindPort`)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPortSetting,
        versions: Versions::from(1, 22),
        value: Value::Text("localAPIEndpoint.bindPort"),
        source: "kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go` (`APIEndpoint.BindPort`)",
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
        value: Value::Plugins(&[
            CniPlugin::Flannel,
            CniPlugin::Calico,
            CniPlugin::Canal,
            CniPlugin::Cilium,
            CniPlugin::Bridge,
            CniPlugin::None,
        ]),
        source: "kubernetes/website `content/en/docs/setup/production-environment/tools/kubeadm/create-cluster-kubeadm.md` (\"kubeadm does not install a Pod network add-on\": any CNI)",
    },
];
