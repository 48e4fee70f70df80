//! Canonical Kubernetes' facts (k8s-snap; a snap track is a Kubernetes minor, `1.32-classic`).

use super::{CiliumMasquerade, Fact, Key, Target, Value, Versions};
use crate::intent::values::Protocol;
use crate::intent::{CniPlugin, Datastore, Encapsulation};

const T: Target = Target::Canonical;

pub(super) const FACTS: &[Fact] = &[
    Fact {
        target: T,
        key: Key::BuiltinCni,
        versions: Versions::from(1, 30),
        value: Value::Plugin(CniPlugin::Cilium),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/implementation_default.go` (`applyNetwork: cilium.ApplyNetwork`; release-1.32…release-1.35, k8sd after 2026-01 #2296)",
    },
    Fact {
        target: T,
        key: Key::BuiltinCniAlternative,
        versions: Versions::between((1, 32), (1, 33)),
        value: Value::Plugin(CniPlugin::Calico),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/implementation_moonray.go` (moonray flavor only: release-1.32, release-1.33; removed 2025-08-06, 165810bc8 #1682)",
    },
    Fact {
        target: T,
        key: Key::DnsLabel,
        versions: Versions::from(1, 30),
        value: Value::Label("k8s-app", "coredns"),
        source: "canonical/k8s-snap `k8s/manifests/charts/coredns-1.39.2.tgz` `templates/_helpers.tpl` (`coredns.k8sapplabel`: the chart name; no override), `tests/integration/tests/test_dns.py` (`k8s-app=coredns`)",
    },
    Fact {
        target: T,
        key: Key::K8sdPort,
        versions: Versions::from(1, 30),
        value: Value::Port(Protocol::Tcp, 6400),
        source: "canonical/k8s-snap `docs/canonicalk8s/snap/reference/ports-and-services.md` (\"Services on all nodes\": k8sd 6400/tcp; release-1.36)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPort,
        versions: Versions::from(1, 30),
        value: Value::Port(Protocol::Tcp, crate::plan::API_SERVER_PORT),
        source: "canonical/k8s-snap `docs/canonicalk8s/snap/reference/ports-and-services.md` (kube-apiserver `*:6443`)",
    },
    Fact {
        target: T,
        key: Key::ApiServerPortSetting,
        versions: Versions::from(1, 30),
        value: Value::Nothing,
        source: "canonical/k8s-snap `docs/canonicalk8s/_parts/bootstrap_config.md` (no API server port key netc writes; its components reach the API server on localhost:6443)",
    },
    Fact {
        target: T,
        key: Key::Datastores,
        versions: Versions::between((1, 30), (1, 35)),
        value: Value::Datastores(&[Datastore::Etcd, Datastore::K8sDqlite]),
        source: "canonical/k8s-snap `docs/canonicalk8s/_parts/bootstrap_config.md` (`datastore-type`: `k8s-dqlite | etcd | external`; release-1.32…release-1.35)",
    },
    Fact {
        target: T,
        key: Key::Datastores,
        versions: Versions::from(1, 36),
        value: Value::Datastores(&[Datastore::Etcd]),
        source: "canonical/k8s-snap `docs/canonicalk8s/_parts/bootstrap_config.md` (`datastore-type`: `etcd | external`; release-1.36, d924cc27f #2741)",
    },
    Fact {
        target: T,
        key: Key::KubeProxyRuns,
        versions: Versions::between((1, 30), (1, 35)),
        value: Value::Flag(true),
        source: "canonical/k8s-snap `k8s/wrappers/services/kube-proxy`, `docs/canonicalk8s/_parts/bootstrap_config.md` (`extra-node-kube-proxy-args`; release-1.35)",
    },
    Fact {
        target: T,
        key: Key::KubeProxyRuns,
        versions: Versions::from(1, 36),
        value: Value::Flag(false),
        source: "canonical/k8s-snap `docs/canonicalk8s/_parts/bootstrap_config.md` (`extra-node-kube-proxy-args` \"no longer used\": Cilium's kube-proxy replacement; release-1.36)",
    },
    Fact {
        target: T,
        key: Key::KubeProxyHealthz,
        versions: Versions::between((1, 30), (1, 35)),
        value: Value::Text("127.0.0.1:10256"),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/setup/kube_proxy.go` (`KubeProxy`: `--healthz-bind-address=127.0.0.1`; release-1.35)",
    },
    // Cilium's routing: k8sd sets no `tunnelProtocol` and no encryption (WireGuard) on any
    // release, so the chart's tunnel over VXLAN (`templates/cilium-configmap.yaml`:
    // `routing-mode` default "tunnel", `tunnel-protocol` default "vxlan") except where k8sd
    // sets `routingMode`. `plan::masquerade` reads the native routing (`Profile::native_routing`).
    Fact {
        target: T,
        key: Key::Encapsulations(CniPlugin::Cilium),
        versions: Versions::between((1, 30), (1, 31)),
        value: Value::Encapsulations(&[Encapsulation::Vxlan]),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/feature_network.go` (release-1.30, f9b7237c6) and `src/k8s/pkg/k8sd/features/cilium/network.go` (release-1.31, 599ac2016): no `routingMode`, `tunnelProtocol` or encryption values; `k8s/manifests/charts/cilium-1.15.2.tgz`, `cilium-1.16.3.tgz` `templates/cilium-configmap.yaml`: routing-mode tunnel, tunnel-protocol vxlan",
    },
    Fact {
        target: T,
        key: Key::Encapsulations(CniPlugin::Cilium),
        versions: Versions::between((1, 32), (1, 34)),
        value: Value::EncapsulationsIpv6Only {
            others: &[Encapsulation::Vxlan],
            ipv6_only: &[Encapsulation::None],
        },
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network.go` (release-1.32 388c9d93a, release-1.33 02bb1a699, release-1.34 f7e1b7c79: IPv6-only pod CIDRs set `routingMode: native`, `ipv6NativeRoutingCIDR: utils.FindCIDRForIP(nodeIP)`, `autoDirectNodeRoutes: true`, #1007; otherwise no `routingMode` or `tunnelProtocol`) with `k8s/manifests/charts/cilium-1.17.12.tgz` (1.32, 1.33), `cilium-1.17.1.tgz` (1.34) (`templates/cilium-configmap.yaml`: routing-mode tunnel, tunnel-protocol vxlan)",
    },
    Fact {
        target: T,
        key: Key::Encapsulations(CniPlugin::Cilium),
        versions: Versions::from(1, 35),
        value: Value::Encapsulations(&[Encapsulation::Vxlan]),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network.go` (release-1.35 ee72ef7ba: IPv6-only back to `routingMode: tunnel`, `ipv6NativeRoutingCIDR` empty, `autoDirectNodeRoutes: false`, #2114) with `k8s/manifests/charts/cilium-1.18.4.tgz` (tunnel-protocol vxlan); release-1.36 f8c4d39d4 builds canonical/k8sd `pkg/k8sd/features/cilium/network.go` with `cilium-1.19.4.tgz`",
    },
    Fact {
        target: T,
        key: Key::Encapsulations(CniPlugin::Calico),
        versions: Versions::between((1, 32), (1, 33)),
        value: Value::Encapsulations(&[
            Encapsulation::Ipip,
            Encapsulation::Vxlan,
            Encapsulation::VxlanCrossSubnet,
            Encapsulation::Bgp,
            Encapsulation::None,
        ]),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/calico/` (moonray flavor: `k8sd/v1alpha1/calico/encapsulation-v4` takes the IP pool encapsulations; no WireGuard setting; release-1.32, release-1.33)",
    },
    Fact {
        target: T,
        key: Key::Masquerade(CniPlugin::Cilium),
        versions: Versions::between((1, 30), (1, 30)),
        value: Value::CiliumMasquerade(CiliumMasquerade { ipv6: false }),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/feature_network.go` (release-1.30, f9b7237c6: no `ipv6`, `routingMode`, masquerade or `bpf` masquerade values) with `k8s/manifests/charts/cilium-1.15.2.tgz` (`ipv6.enabled: false`; `templates/cilium-configmap.yaml`: routing-mode tunnel, tunnel-protocol vxlan, `enable-ipv4-masquerade: true`, no `enable-bpf-masquerade`: the agent's default false, iptables masquerade)",
    },
    Fact {
        target: T,
        key: Key::Masquerade(CniPlugin::Cilium),
        versions: Versions::between((1, 31), (1, 31)),
        value: Value::CiliumMasquerade(CiliumMasquerade { ipv6: true }),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network.go` (release-1.31, 599ac2016: `ipv4`/`ipv6.enabled` from the pod CIDRs; no `routingMode`, masquerade or `bpf` masquerade values) with `k8s/manifests/charts/cilium-1.16.3.tgz` (routing-mode tunnel, vxlan; `enableIPv4Masquerade`/`enableIPv6Masquerade` true; `bpf.masquerade: ~`: iptables masquerade)",
    },
    Fact {
        target: T,
        key: Key::Masquerade(CniPlugin::Cilium),
        versions: Versions::between((1, 32), (1, 34)),
        value: Value::CiliumMasquerade(CiliumMasquerade { ipv6: true }),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network.go` (release-1.32 388c9d93a, release-1.33 02bb1a699, release-1.34 f7e1b7c79: no masquerade or `bpf` masquerade values; IPv6-only routed natively: the `cilium encapsulations` fact) with `k8s/manifests/charts/cilium-1.17.12.tgz` (1.32, 1.33), `cilium-1.17.1.tgz` (1.34): both masquerades true, `bpf.masquerade: ~` (iptables)",
    },
    Fact {
        target: T,
        key: Key::Masquerade(CniPlugin::Cilium),
        versions: Versions::from(1, 35),
        value: Value::CiliumMasquerade(CiliumMasquerade { ipv6: true }),
        source: "canonical/k8s-snap `src/k8s/pkg/k8sd/features/cilium/network.go` (release-1.35 ee72ef7ba: no masquerade or `bpf` masquerade values) with `cilium-1.18.4.tgz`; release-1.36 f8c4d39d4 builds canonical/k8sd `pkg/k8sd/features/cilium/network.go` (main 1417866: `kubeProxyReplacement: true`, still no `bpf.masquerade`) with `cilium-1.19.4.tgz`: `enableIPv4Masquerade: ~` (chart default true), `enableIPv6Masquerade: true`, iptables masquerade",
    },
];
