//! What each target cannot take: the Plan's one record of "a target ignores this setting"
//! ([`Record`], `Plan::not_applied`) for node settings, kube-proxy and the firewall, beside the
//! CNI half ([`super::CniPlan::not_applied`], decided next to each plugin's settings).
//! `validate/not_applied.rs` reports all of it, so no accepted setting is dropped silently.
//!
//! The targets without a knob, with the upstream facts behind each decision (on the variants
//! and functions below; the node cases' longer sources are in `validate/addressing.rs` and
//! `validate/bind_address.rs`): a manual control plane writes no kubelet `node-ip` (so no
//! `secondaryAddress`); kubeadm, Canonical Kubernetes and a manual control plane have no
//! setting for a node's external address; RKE2 fixes kube-apiserver's bind address at 0.0.0.0
//! and Canonical Kubernetes has no bind-address setting; Canonical Kubernetes 1.36 runs no
//! kube-proxy (`cluster.kubeProxy`); RKE2, k3s and Canonical Kubernetes take no API server
//! port from netc (`controlPlaneEndpoint` at a node's own address, another port than 6443);
//! the nftables firewall backend has no zones (`firewall.zone`).

use std::net::IpAddr;

use crate::intent::{
    Distribution, FirewallBackend, KubeProxy, KubeProxyConntrack, KubeProxyIpvs, NetworkIntent,
    Role, Span, values,
};

use super::profile::{self, Key, Minor, Profile, Target, Value};
use super::{API_SERVER_PORT, FirewallPlan, NodePlan, Plan};

/// Everything the cluster's targets cannot take, outside the CNI's own: reported by `check`
/// (`validate/not_applied.rs`), never dropped.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// Node settings the distribution has no knob for, node by node in intent order.
    pub nodes: Vec<NodeNotApplied>,
    /// `cluster.kubeProxy` on a target that runs no kube-proxy.
    pub kube_proxy: Option<KubeProxyNotApplied>,
    /// The API server port a control-plane endpoint at a node's own address asks for, on a
    /// target netc cannot move the API server's port on.
    pub api_server_port: Option<ApiServerPortNotApplied>,
    /// `firewall:` settings the chosen backend has no knob for.
    pub firewall: Vec<FirewallNotApplied>,
}

/// Decides the record from the intent and the Plan's nodes, profile, API server port and
/// firewall (everything but the record itself is lowered by then).
pub(super) fn record(intent: &NetworkIntent, plan: &Plan) -> Record {
    Record {
        nodes: node_settings(intent, &plan.nodes),
        kube_proxy: intent
            .cluster
            .kube_proxy
            .as_ref()
            .and_then(|kp| kube_proxy(kp, &plan.profile)),
        api_server_port: api_server_port(intent, plan),
        firewall: firewall_settings(intent, plan.firewall.as_ref()),
    }
}

/// `cluster.kubeProxy` given for a target that runs no kube-proxy at the cluster's version.
#[derive(Clone, Debug, PartialEq)]
pub struct KubeProxyNotApplied {
    /// The target without kube-proxy (the profile's `kube-proxy runs` fact is false).
    pub target: Target,
    /// The cluster's Kubernetes minor version, which the fact depends on.
    pub version: Minor,
    /// Every kube-proxy setting the intent gives ([`kube_proxy_settings`]), in the order
    /// written: the report labels each. Empty when `kubeProxy` (or each block in it) is empty:
    /// the report then points at `kubernetesVersion` alone.
    pub settings: Vec<KubeProxySetting>,
}

/// One setting under `cluster.kubeProxy` and where it is written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KubeProxySetting {
    /// Its path under `kubeProxy` (`mode`, `conntrack.min`, `ipvs.excludeCIDRs`).
    pub name: &'static str,
    /// The span of its value (for `ipvs.excludeCIDRs`, from the first entry to the last).
    pub span: Span,
}

/// Canonical Kubernetes 1.36 runs no kube-proxy: Cilium's kube-proxy replacement serves
/// Services, and `extra-node-kube-proxy-args` is "no longer used" (canonical/k8s-snap
/// `docs/canonicalk8s/_parts/bootstrap_config.md`, release-1.36; the profile's
/// `KubeProxyRuns` fact, `plan/profile/canonical.rs`, which `emit/canonical.rs` reads to write
/// no kube-proxy arguments). Every other target runs kube-proxy and takes `cluster.kubeProxy`.
/// Decided only at a version that parses (`header.rs` reports one that does not).
fn kube_proxy(kp: &KubeProxy, profile: &Profile) -> Option<KubeProxyNotApplied> {
    let version = profile.version?;
    if profile.kube_proxy_runs {
        return None;
    }
    Some(KubeProxyNotApplied {
        target: profile.target,
        version,
        settings: kube_proxy_settings(kp),
    })
}

/// Every setting `kubeProxy` gives, sorted by where it is written. The destructuring names
/// every field of the model (no `..`): a kube-proxy field added to `intent/model.rs` does not
/// compile until it is listed here, so none is ignored without its label.
fn kube_proxy_settings(kp: &KubeProxy) -> Vec<KubeProxySetting> {
    let KubeProxy {
        mode,
        ipvs_scheduler,
        strict_arp,
        conntrack,
        ipvs,
    } = kp;
    let mut out = Vec::new();
    let mut push = |name, span: Option<Span>| {
        if let Some(span) = span {
            out.push(KubeProxySetting { name, span });
        }
    };
    push("mode", mode.as_ref().map(|v| v.span));
    push("ipvsScheduler", ipvs_scheduler.as_ref().map(|v| v.span));
    push("strictARP", strict_arp.as_ref().map(|v| v.span));
    if let Some(KubeProxyConntrack {
        max_per_core,
        min,
        tcp_established_timeout,
        tcp_close_wait_timeout,
    }) = conntrack
    {
        push(
            "conntrack.maxPerCore",
            max_per_core.as_ref().map(|v| v.span),
        );
        push("conntrack.min", min.as_ref().map(|v| v.span));
        push(
            "conntrack.tcpEstablishedTimeout",
            tcp_established_timeout.as_ref().map(|v| v.span),
        );
        push(
            "conntrack.tcpCloseWaitTimeout",
            tcp_close_wait_timeout.as_ref().map(|v| v.span),
        );
    }
    if let Some(KubeProxyIpvs {
        sync_period,
        min_sync_period,
        exclude_cidrs,
    }) = ipvs
    {
        push("ipvs.syncPeriod", sync_period.as_ref().map(|v| v.span));
        push(
            "ipvs.minSyncPeriod",
            min_sync_period.as_ref().map(|v| v.span),
        );
        let cidrs = exclude_cidrs
            .first()
            .zip(exclude_cidrs.last())
            .map(|(a, b)| {
                let (start, end) = (a.span.offset, b.span.offset + b.span.len);
                Span::new(start, end.saturating_sub(start))
            });
        push("ipvs.excludeCIDRs", cidrs);
    }
    out.sort_by_key(|s| s.span.offset);
    out
}

/// A control-plane endpoint at a control-plane node's own address with a port other than
/// 6443 (`Plan::api_server_port`), on a target netc cannot move the API server's port on.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiServerPortNotApplied {
    /// The target without a port setting netc writes.
    pub target: Target,
    /// The port the endpoint asks for.
    pub port: u16,
    /// `controlPlaneEndpoint` as given.
    pub endpoint: String,
    /// The span of `controlPlaneEndpoint`.
    pub span: Span,
}

/// The API server's port: an endpoint at a control-plane node's own address reaches that
/// node's API server, so it must listen on the endpoint's port. netc writes the port where the
/// target has a setting for it (the profile's `ApiServerPortSetting` facts): kubeadm's
/// `localAPIEndpoint.bindPort` (kubernetes/kubernetes `cmd/kubeadm/app/apis/kubeadm/v1beta4/
/// types.go`) and kube-apiserver's `--secure-port` on a manual control plane. RKE2 fixes the
/// port (its probes and kubeconfigs use 6443, rancher/rke2 `pkg/podtemplate/spec.go`),
/// Canonical Kubernetes has no key for it (canonical/k8s-snap
/// `docs/canonicalk8s/_parts/bootstrap_config.md`), and k3s' `https-listen-port`
/// (k3s-io/k3s `pkg/cli/cmds/server.go`) is a setting netc does not write. Decided only at a
/// version that parses (`header.rs` reports one that does not); a version below every range
/// of the fact takes no port either.
fn api_server_port(intent: &NetworkIntent, plan: &Plan) -> Option<ApiServerPortNotApplied> {
    let endpoint = intent.cluster.control_plane_endpoint.as_ref()?;
    let version = plan.profile.version?;
    if plan.api_server_port == API_SERVER_PORT {
        return None;
    }
    let target = plan.profile.target;
    let setting = profile::lookup(target, Key::ApiServerPortSetting, version).map(|f| f.value);
    let writes = matches!(target, Target::Kubeadm | Target::Manual)
        && matches!(setting, Some(Value::Text(_)));
    (!writes).then(|| ApiServerPortNotApplied {
        target,
        port: plan.api_server_port,
        endpoint: endpoint.value.clone(),
        span: endpoint.span,
    })
}

/// A `firewall:` setting the chosen backend has no knob for.
#[derive(Clone, Debug, PartialEq)]
pub struct FirewallNotApplied {
    pub setting: FirewallSetting,
    /// The backend without the knob.
    pub target: FirewallBackend,
    /// The span of the setting's value.
    pub span: Span,
}

/// The firewall setting, with the value the report names.
#[derive(Clone, Debug, PartialEq)]
pub enum FirewallSetting {
    /// `firewall.zone`: a firewalld zone ("a network zone defines the level of trust for
    /// network connections", firewalld/firewalld `doc/xml/firewalld.zones.xml`), the zone
    /// `firewall-cmd --zone=` adds netc's entries to (`emit::firewall::firewalld_zone`).
    Zone(String),
}

/// The nftables backend writes netc's own `inet netc` table (`templates/firewall/netc.nft.j2`),
/// and an nftables ruleset has tables, chains, rules, sets, maps, flowtables and stateful
/// objects, no zones (nft(8), netfilter nftables `doc/nft.txt`): a `zone` has nothing to
/// reach there. firewalld takes it.
fn firewall_settings(
    intent: &NetworkIntent,
    firewall: Option<&FirewallPlan>,
) -> Vec<FirewallNotApplied> {
    let (Some(fw), Some(plan)) = (&intent.firewall, firewall) else {
        return Vec::new();
    };
    if plan.backend != FirewallBackend::Nftables {
        return Vec::new();
    }
    fw.zone
        .iter()
        .map(|zone| FirewallNotApplied {
            setting: FirewallSetting::Zone(zone.value.clone()),
            target: plan.backend,
            span: zone.span,
        })
        .collect()
}

/// A node setting that the cluster's distribution has no knob for.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeNotApplied {
    /// The node's name.
    pub node: String,
    pub setting: NodeSetting,
    /// The distribution without the knob.
    pub target: Distribution,
    /// The span of the setting's value.
    pub span: Span,
}

/// The node setting, with the value the report names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeSetting {
    /// `secondaryAddress`: the kubelet's second `node-ip`, which a manual control plane does
    /// not write.
    SecondaryAddress,
    /// `externalAddress`: RKE2 and k3s take `node-external-ip` (k3s `pkg/cli/cmds/agent.go`);
    /// the kubelet of kubeadm, Canonical Kubernetes and a manual control plane has no such
    /// setting (only a cloud provider sets ExternalIP).
    ExternalAddress,
    /// A specific address of the node's own, on a control-plane node: RKE2 fixes
    /// kube-apiserver's bind address at 0.0.0.0 (rancher/rke2 `pkg/cli/cmds/server.go`,
    /// `pkg/cli/defaults/defaults.go`); Canonical Kubernetes' bootstrap and join files have no
    /// such key, and its control-plane kubeconfigs name the local API server on localhost
    /// (canonical/k8s-snap `setup.SetupControlPlaneKubeconfigs`). The gap says which.
    BindAddress(IpAddr, BindAddressGap),
}

/// Why a distribution takes no specific `bindAddress` for kube-apiserver.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BindAddressGap {
    /// RKE2: the bind address is fixed at 0.0.0.0 and its probes use localhost.
    FixedAtEveryAddress,
    /// Canonical Kubernetes: no such setting, and its components reach the API server on
    /// localhost.
    NoSetting,
}

/// Which of a node's own settings the distribution writes, one row per distribution, so a new
/// distribution does not compile until it answers (the sources are on [`NodeSetting`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeKnobs {
    /// `secondaryAddress` (the kubelet's second `node-ip`).
    pub secondary_address: bool,
    /// `externalAddress` (`node-external-ip`).
    pub external_address: bool,
    /// A specific `bindAddress` on a control-plane node: `None` where it is written, else why
    /// not.
    pub bind_address_gap: Option<BindAddressGap>,
}

/// The node settings `d` takes.
pub fn node_knobs(d: Distribution) -> NodeKnobs {
    let row = |secondary_address, external_address, bind_address_gap| NodeKnobs {
        secondary_address,
        external_address,
        bind_address_gap,
    };
    match d {
        Distribution::Kubeadm => row(true, false, None),
        Distribution::Rke2 => row(true, true, Some(BindAddressGap::FixedAtEveryAddress)),
        Distribution::K3s => row(true, true, None),
        Distribution::Canonical => row(true, false, Some(BindAddressGap::NoSetting)),
        Distribution::Manual => row(false, false, None),
    }
}

/// The node settings the distribution cannot take, node by node in intent order. A
/// `bindAddress` is recorded only where it could otherwise be applied (a valid, specific
/// address of the node's own on a control-plane node); the other cases are errors of the value.
fn node_settings(intent: &NetworkIntent, nodes: &[NodePlan]) -> Vec<NodeNotApplied> {
    let dist = intent.cluster.distribution.value;
    let knobs = node_knobs(dist);
    let mut out = Vec::new();
    for (node, np) in intent.nodes.iter().zip(nodes) {
        let mut push = |setting, span| {
            out.push(NodeNotApplied {
                node: node.name.value.clone(),
                setting,
                target: dist,
                span,
            });
        };
        if let Some(sec) = &node.secondary_address
            && !knobs.secondary_address
        {
            push(NodeSetting::SecondaryAddress, sec.span);
        }
        if let Some(ext) = &node.external_address
            && !knobs.external_address
        {
            push(NodeSetting::ExternalAddress, ext.span);
        }
        if let Some(bind) = &node.bind_address
            && let Some(gap) = knobs.bind_address_gap
            && node.role.value != Role::Worker
            && let Some(ip) = values::parse_address(bind)
            && !ip.is_unspecified()
            && np.own_addresses().contains(&ip)
        {
            push(NodeSetting::BindAddress(ip, gap), bind.span);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use crate::intent::Syntax;

    fn plan(text: &str) -> super::super::Plan {
        let src = SourceFile::new("t.yaml", text);
        let intent = crate::intent::parse(&src, Syntax::Yaml).expect("intent");
        super::super::lower(&intent, text)
    }

    /// One record in the Plan for the node settings a distribution cannot take, beside the CNI
    /// ones: RKE2's fixed bind address, kubeadm's missing external-address setting; nothing for
    /// the unspecified bind address, a worker's or an address that is not the node's own
    /// (those are errors of the value, not of the target).
    #[test]
    fn the_plan_records_node_settings_a_target_cannot_take() {
        let base = include_str!("../../examples/rke2-canal.yaml");
        let bind = |addr: &str| {
            base.replacen(
                "    address: 10.20.0.10/24\n",
                &format!("    address: 10.20.0.10/24\n    bindAddress: \"{addr}\"\n"),
                1,
            )
        };
        let p = plan(&bind("10.20.0.10"));
        let ip: IpAddr = "10.20.0.10".parse().expect("ip");
        assert_eq!(p.not_applied.nodes.len(), 1, "{:?}", p.not_applied.nodes);
        let n = &p.not_applied.nodes[0];
        assert_eq!(
            (n.setting, n.target),
            (
                NodeSetting::BindAddress(ip, BindAddressGap::FixedAtEveryAddress),
                Distribution::Rke2
            )
        );
        assert!(p.not_applied.nodes.iter().all(|n| !n.node.is_empty()));
        for clean in ["0.0.0.0", "10.99.0.1", "not-an-ip"] {
            assert!(plan(&bind(clean)).not_applied.nodes.is_empty(), "{clean}");
        }
        let kubeadm = base
            .replacen("distribution: rke2", "distribution: kubeadm", 1)
            .replacen(
                "    address: 10.20.0.21/24\n",
                "    address: 10.20.0.21/24\n    externalAddress: 203.0.113.21\n",
                1,
            );
        let p = plan(&kubeadm);
        assert_eq!(p.not_applied.nodes.len(), 1, "{:?}", p.not_applied.nodes);
        assert_eq!(p.not_applied.nodes[0].setting, NodeSetting::ExternalAddress);
        // The CNI half stays where each plugin decides it.
        assert!(p.cni.not_applied.is_empty());
    }

    /// kube-proxy and the firewall in the same record: Canonical Kubernetes 1.36 runs no
    /// kube-proxy (every kube-proxy setting given is recorded with its span), 1.35 does, and
    /// a version that does not parse decides nothing; `firewall.zone` reaches firewalld but not
    /// the nftables backend.
    #[test]
    fn the_plan_records_kube_proxy_and_firewall_settings_a_target_cannot_take() {
        let base = include_str!("../../examples/canonical-cilium.yaml");
        let at = |version: &str, kube_proxy: &str| {
            let text = base.replacen("v1.35.0", version, 1).replacen(
                "  clusterDNS: 10.152.183.10\n",
                &format!("  clusterDNS: 10.152.183.10\n  kubeProxy: {kube_proxy}\n"),
                1,
            );
            (plan(&text), text)
        };
        let (p, text) = at(
            "v1.36.0",
            "{strictARP: true, conntrack: {min: 0, tcpCloseWaitTimeout: 2h}, ipvs: {excludeCIDRs: [10.9.0.0/16, 10.8.0.0/16]}}",
        );
        let kp = p
            .not_applied
            .kube_proxy
            .as_ref()
            .expect("kube-proxy not applied");
        assert_eq!((kp.target, kp.version), (Target::Canonical, Minor(1, 36)));
        let labelled: Vec<(&str, &str)> = kp
            .settings
            .iter()
            .map(|s| (s.name, &text[s.span.offset..s.span.offset + s.span.len]))
            .collect();
        assert_eq!(
            labelled,
            [
                ("strictARP", "true"),
                ("conntrack.min", "0"),
                ("conntrack.tcpCloseWaitTimeout", "2h"),
                ("ipvs.excludeCIDRs", "10.9.0.0/16, 10.8.0.0/16"),
            ]
        );
        // Every field of the model, each labelled once, in the order written.
        let (p, _) = at(
            "v1.36.0",
            "{ipvs: {syncPeriod: 1m, minSyncPeriod: 1s}, conntrack: {tcpEstablishedTimeout: 1h, maxPerCore: 0}, mode: ipvs, ipvsScheduler: rr}",
        );
        let names: Vec<&str> = p
            .not_applied
            .kube_proxy
            .iter()
            .flat_map(|k| &k.settings)
            .map(|s| s.name)
            .collect();
        assert_eq!(
            names,
            [
                "ipvs.syncPeriod",
                "ipvs.minSyncPeriod",
                "conntrack.tcpEstablishedTimeout",
                "conntrack.maxPerCore",
                "mode",
                "ipvsScheduler",
            ]
        );
        // Given but empty: still reported, with nothing of its own to label.
        let (p, _) = at("v1.36.0", "{conntrack: {}}");
        assert_eq!(
            p.not_applied.kube_proxy.map(|k| k.settings),
            Some(Vec::new())
        );
        for kept in ["v1.35.0", "v1.x"] {
            assert_eq!(
                at(kept, "{mode: iptables}").0.not_applied.kube_proxy,
                None,
                "{kept}"
            );
        }
        assert_eq!(plan(base).not_applied, Record::default());

        let zoned = |backend: &str| {
            plan(&base.replacen(
                "  backend: nftables\n",
                &format!("  backend: {backend}\n  zone: trusted\n"),
                1,
            ))
        };
        let p = zoned("nftables");
        assert_eq!(
            p.not_applied.firewall.len(),
            1,
            "{:?}",
            p.not_applied.firewall
        );
        let fw = &p.not_applied.firewall[0];
        assert_eq!(
            (&fw.setting, fw.target),
            (
                &FirewallSetting::Zone("trusted".into()),
                FirewallBackend::Nftables
            )
        );
        assert!(zoned("firewalld").not_applied.firewall.is_empty());
    }

    /// The API server's port in the same record: an endpoint at a control-plane node's own
    /// address with another port than 6443 is recorded on RKE2 and k3s (no port setting netc
    /// writes), not on kubeadm (`localAPIEndpoint.bindPort`), not at 6443, not for a load
    /// balancer's address.
    #[test]
    fn the_plan_records_an_api_server_port_a_target_cannot_take() {
        let rke2 = include_str!("../../examples/rke2-canal.yaml");
        let at = |text: &str, from: &str, to: &str| plan(&text.replacen(from, to, 1));
        let p = at(rke2, "10.20.0.10:6443", "10.20.0.10:8443");
        let n = p.not_applied.api_server_port.as_ref().expect("recorded");
        assert_eq!(
            (n.target, n.port, n.endpoint.as_str()),
            (Target::Rke2, 8443, "10.20.0.10:8443")
        );
        assert_eq!(
            at(rke2, "10.20.0.10:6443", "10.99.0.1:8443")
                .not_applied
                .api_server_port,
            None
        );
        assert_eq!(plan(rke2).not_applied.api_server_port, None);
        let k3s = include_str!("../../examples/k3s-flannel.yaml");
        let p = at(k3s, "192.168.50.10:6443", "192.168.50.10:8443");
        assert_eq!(
            p.not_applied.api_server_port.map(|n| n.target),
            Some(Target::K3s)
        );
        let kubeadm = include_str!("../../examples/kubeadm-flannel.yaml");
        let p = at(kubeadm, "10.0.1.100:6443", "10.0.1.100:8443");
        assert_eq!(
            (p.api_server_port, p.not_applied.api_server_port),
            (8443, None)
        );
    }
}
