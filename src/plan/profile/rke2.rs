//! RKE2's facts (an RKE2 release is `v<kubernetes>+rke2rN`: its Kubernetes version selects).

use super::{Fact, Key, Target, Value, Versions};
use crate::intent::CniPlugin;
use crate::intent::values::Protocol;

const T: Target = Target::Rke2;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::BuiltinCni,
        versions: Versions::from(1, 22),
        value: Value::Plugin(CniPlugin::Canal),
        source: "rancher/rke2 `pkg/cli/cmds/server.go` (`cni` flag, default `canal`)",
    },
    Fact {
        target: T,
        key: Key::DnsLabel,
        versions: Versions::from(1, 22),
        value: Value::Label("k8s-app", "kube-dns"),
        source: "rancher/rke2-charts `packages/rke2-coredns/generated-changes/patch/values.yaml.patch` (`k8sApp: kube-dns`, read by `_helpers.tpl` `coredns.k8sapplabel`)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPort,
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, crate::plan::API_SERVER_PORT),
        source: "rancher/rke2 `pkg/podtemplate/spec.go` (kube-apiserver probed at `https://localhost:6443`)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPortSetting,
        versions: Versions::from(1, 22),
        value: Value::Nothing,
        source: "rancher/rke2 `pkg/podtemplate/spec.go` (the port is fixed: probes and kubeconfigs use 6443)",
    },
    Fact {
        target: T,
        key: Key::Port("supervisor"),
        versions: Versions::from(1, 22),
        value: Value::Port(Protocol::Tcp, 9345),
        source: "rancher/rke2 `pkg/cli/defaults/defaults.go` (`cmds.ServerConfig.SupervisorPort = 9345`, since the first commit a5b1725cc; master 6ce1a8019)",
    },
    Fact {
        target: T,
        key: Key::KubeProxyHealthz,
        versions: Versions::from(1, 22),
        value: Value::Text("127.0.0.1:10256"),
        source: "k3s-io/k3s `pkg/daemons/agent/agent_linux.go` (`kubeProxyArgs`: `healthz-bind-address=127.0.0.1`, shared by RKE2)",
    },
    Fact {
        target: T,
        key: Key::CniPlugins,
        versions: Versions::between((1, 22), (1, 25)),
        value: Value::Plugins(&[
            CniPlugin::Canal,
            CniPlugin::Calico,
            CniPlugin::Cilium,
            CniPlugin::None,
        ]),
        source: "rancher/rke2 `pkg/cli/cmds/server.go` (`CNIItems`: calico, canal, cilium in every v1.22–v1.25 release, last v1.25.16+rke2r2; `cni` \"one of none, ...\"; no flannel, no bridge)",
    },
    Fact {
        target: T,
        key: Key::CniPlugins,
        versions: Versions::from(1, 26),
        value: Value::Plugins(&[
            CniPlugin::Canal,
            CniPlugin::Calico,
            CniPlugin::Cilium,
            CniPlugin::Flannel,
            CniPlugin::None,
        ]),
        source: "rancher/rke2 `pkg/cli/cmds/server.go` (`CNIItems`: calico, canal, cilium, flannel, from e473ea5ce \"Add CNI plugin flannel support for Windows\": first in v1.26.14, v1.27.11, v1.28.7, v1.29.2, every v1.30; earlier patches of 1.26–1.29 refuse `cni: flannel`), `pkg/cli/types.go` from 51a90815d (v1.33.13, v1.34.1; master 6ce1a8019); no bridge; rancher/rke2-docs `docs/networking/basic_network_options.md`",
    },
];
