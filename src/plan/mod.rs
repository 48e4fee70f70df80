//! Stage 3: the Plan, every fact later stages need, derived once from the intent.
//!
//! Emitters and the applier read only the Plan, so no two targets can disagree. `lower` never
//! fails: a value that does not parse is left out here, and `validate` is what reports it.
//! Port claims keep the span of the intent value that caused them, for validation messages.

pub mod artifacts;
mod cni;
pub mod firewall;
pub mod fleet;
mod host;
pub mod layout;
pub mod masquerade;
mod mtu;
pub mod not_applied;
pub mod policies;
mod ports;
pub mod profile;
mod subnets;
mod workloads;

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

pub use cni::{
    BridgeSettings, CNI_BRIDGE, CalicoPool, CalicoSettings, CanalSettings, CiliumSettings,
    CniInstall, CniPlan, FLANNELD_BINARY, FLANNELD_KUBECONFIG, FLANNELD_NET_CONF, FlannelBackend,
    FlannelSettings, HostFlanneld, MtuLimit, NotApplied, PluginSettings, PoolEncap, anchored_regex,
    calico_bgp, default_encapsulation, enforces_network_policies, flannel_wireguard_keepalive,
    own_overhead,
};
pub use host::{ModuleRequirement, Route, Routes, Sysctl, required_no_proxy, static_pod_routes};
pub use policies::{
    NAMESPACE_NAME_LABEL, ObjectPlan, Operator, PeerPlan, Peers, PolicyPlan, PolicyRulePlan,
    PolicySpans, Requirement, Selector, peer_selectors, policy_types, rule_name,
    selector as policy_selector,
};
pub use ports::{PortClaim, RKE2_SUPERVISOR_PORT, Scope};
pub(crate) use subnets::bounds as network_bounds;
pub use subnets::capacity as subnet_capacity;
pub use workloads::{
    API_SERVER_PORT, DNS_PORT, NamedPort, SYSTEM_NAMESPACE, WorkloadOrigin, WorkloadPlan,
    WorkloadsPlan,
};

use crate::intent::values::{self, KubeVersion, PortRange};
use crate::intent::{
    Datastore, Distribution, FirewallAction, FirewallBackend, KubeProxyMode, NetworkIntent,
    Purpose, Role, Span,
};

/// Default prefix length of a node's IPv4 pod subnet (kube-controller-manager's default).
pub const DEFAULT_NODE_MASK_V4: u8 = 24;
/// Default prefix length of a node's IPv6 pod subnet.
pub const DEFAULT_NODE_MASK_V6: u8 = 64;
/// An interface MTU when the intent does not give one.
pub const DEFAULT_INTERFACE_MTU: u32 = 1500;
/// VXLAN's IANA port (RFC 7348 section 5), the host overlay's default.
pub const VXLAN_IANA_PORT: u16 = 4789;
/// The host overlay's VXLAN port when the intent gives none.
pub const HOST_OVERLAY_VXLAN_PORT: u16 = VXLAN_IANA_PORT;
/// The host overlay's VNI when the intent gives none.
pub const HOST_OVERLAY_VNI: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// `metadata.name`.
    pub name: String,
    pub distribution: Distribution,
    /// `None` when the version text does not parse (validation reports it).
    pub kubernetes_version: Option<KubeVersion>,
    pub kubernetes_version_text: String,
    /// IPv4 first for dual-stack.
    pub pod_cidrs: Vec<IpNet>,
    pub service_cidrs: Vec<IpNet>,
    pub node_mask_v4: u8,
    pub node_mask_v6: u8,
    pub dns_domain: String,
    pub cluster_dns: Option<IpAddr>,
    pub control_plane_endpoint: Option<String>,
    /// The port kube-apiserver listens on: the control-plane endpoint's port when the endpoint
    /// is a control-plane node's own address (nothing else would answer there), else the
    /// target's default (6443, `profile`).
    pub api_server_port: u16,
    pub kube_proxy: KubeProxyPlan,
    /// `cluster.datastore` as given; `None` = the distribution's default (etcd; SQLite on a
    /// single k3s server).
    pub datastore: Option<Datastore>,
    pub cni: CniPlan,
    pub host_overlay: Option<HostOverlayPlan>,
    pub reserved: Vec<IpNet>,
    pub nodes: Vec<NodePlan>,
    pub firewall: Option<FirewallPlan>,
    pub policies: Vec<PolicyPlan>,
    /// The pods the policies talk about (declared and the cluster's own).
    pub workloads: WorkloadsPlan,
    pub proxy: Option<ProxyPlan>,
    /// The DaemonSet running `netc apply --watch` (`fleet:`).
    pub fleet: Option<fleet::FleetPlan>,
    /// The consumer facts for this distribution at this version (`profile/`).
    pub profile: profile::Profile,
    /// What the targets have no knob for, outside the CNI's own (`cni.not_applied`): node
    /// settings, kube-proxy, the API server's port, the firewall. Reported by `check`.
    #[serde(skip)]
    pub not_applied: not_applied::Record,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KubeProxyPlan {
    pub mode: KubeProxyMode,
    /// IPVS scheduler (`rr`, `wrr`, `sh`, ...), IPVS mode only.
    pub ipvs_scheduler: Option<String>,
    pub strict_arp: bool,
    /// `kubeProxy.conntrack`: only the values the intent gives (kube-proxy keeps its defaults
    /// for the rest).
    pub conntrack: ConntrackPlan,
    /// `kubeProxy.ipvs`, for mode ipvs.
    pub ipvs: IpvsTuningPlan,
}

impl KubeProxyPlan {
    /// The kernel modules kube-proxy's IPVS mode needs: the ones the seed clusters load
    /// (`ip_vs`, the `rr`, `wrr` and `sh` schedulers, `nf_conntrack`) and the chosen
    /// scheduler's own. Empty in other modes.
    pub fn ipvs_modules(&self) -> Vec<String> {
        if self.mode != KubeProxyMode::Ipvs {
            return Vec::new();
        }
        let mut modules: Vec<String> =
            ["ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_sh", "nf_conntrack"]
                .iter()
                .map(|m| (*m).to_owned())
                .collect();
        if let Some(s) = &self.ipvs_scheduler {
            let own = format!("ip_vs_{s}");
            if !modules.contains(&own) {
                modules.push(own);
            }
        }
        modules
    }
}

/// kube-proxy's conntrack settings, in KubeProxyConfiguration's units (durations as Go
/// duration text that `parse_go_duration` accepted).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConntrackPlan {
    pub max_per_core: Option<i64>,
    pub min: Option<i64>,
    pub tcp_established_timeout: Option<String>,
    pub tcp_close_wait_timeout: Option<String>,
}

impl ConntrackPlan {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// kube-proxy's IPVS resync timing and exclusions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IpvsTuningPlan {
    pub sync_period: Option<String>,
    pub min_sync_period: Option<String>,
    pub exclude_cidrs: Vec<IpNet>,
}

impl IpvsTuningPlan {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostOverlayPlan {
    pub bridge: String,
    pub subnet: IpNet,
    pub port: u16,
    pub vni: u32,
    /// Underlay interface of the VXLAN device; `None` = the node's primary address's interface.
    pub underlay: Option<String>,
    /// Name of the VXLAN device netc creates (`vx<vni>`).
    pub device: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NodePlan {
    pub name: String,
    pub role: Role,
    /// The primary address and the network it is on (`10.0.1.100/24`).
    pub address: Option<IpNet>,
    /// Dual-stack: the address of the other family (`secondaryAddress`).
    pub secondary_address: Option<IpNet>,
    /// Public addresses (`externalAddress`), in the cluster's family order.
    pub external_addresses: Vec<IpAddr>,
    /// The address the API server listens on (`bindAddress`), as written: possibly the
    /// unspecified address.
    pub bind_address: Option<IpAddr>,
    /// The address a control-plane node's API server is advertised and reached at: a specific
    /// `bindAddress` (an API server listening only there answers nowhere else), else the
    /// node's address (primary or secondary) of the first service CIDR's family, which
    /// kube-apiserver requires of its advertised address (`kubernetes` Service and its
    /// endpoints share a family: "service IP family ... must match public address family",
    /// `validatePublicIPServiceClusterIPRangeIPFamilies`), else the primary address.
    pub api_address: Option<IpAddr>,
    pub interfaces: Vec<InterfacePlan>,
    /// Pod subnets of this node, IPv4 first; empty when the pod CIDR has no room (validated).
    pub pod_cidrs: Vec<IpNet>,
    /// This node's address on the host overlay bridge (`subnet`'s host number index+1).
    pub overlay_address: Option<IpNet>,
    /// The node's data-path MTU: the smallest MTU of its data-plane interfaces.
    pub data_mtu: u32,
    /// The data-path interface that MTU is of (the first declared, on a tie); `None` when the
    /// node declares none of its data-path interfaces (`data_mtu` is then the 1500 guess).
    pub data_interface: Option<String>,
    /// With the bridge plugin: the addresses netc gives [`CNI_BRIDGE`], each pod subnet's
    /// first host (the gateway host-local hands to pods, `isGateway`), so the node routes to
    /// its own pods before the first pod starts. Empty with any other plugin.
    pub bridge_gateways: Vec<IpNet>,
    /// Every port something on this node listens on.
    pub ports: Vec<PortClaim>,
    pub modules: Vec<ModuleRequirement>,
    pub sysctls: Vec<Sysctl>,
    /// Static routes to the other nodes' pod subnets (bridge plugin and host-gw).
    pub routes: Routes,
}

impl NodePlan {
    /// The node's primary IP address, without prefix.
    pub fn ip(&self) -> Option<IpAddr> {
        self.address.map(|a| a.addr())
    }

    pub fn is_control_plane(&self) -> bool {
        self.role == Role::ControlPlane
    }

    /// Every address the node holds: primary, secondary, its interfaces' and its host-overlay
    /// address (what an API server on it can bind to).
    pub fn own_addresses(&self) -> Vec<IpAddr> {
        self.address
            .iter()
            .chain(&self.secondary_address)
            .chain(self.interfaces.iter().filter_map(|i| i.address.as_ref()))
            .chain(&self.overlay_address)
            .map(|a| a.addr())
            .collect()
    }

    /// `bindAddress` when it names one address (not `0.0.0.0` / `::`, which are every
    /// consumer's default: all addresses of both families).
    pub fn specific_bind_address(&self) -> Option<IpAddr> {
        self.bind_address.filter(|ip| !ip.is_unspecified())
    }

    /// The address the node's API server is advertised and reached at (`api_address`).
    pub fn api_address(&self) -> Option<IpAddr> {
        self.api_address
    }

    /// Every address the kubelet registers the node with (`node-ip`), one per family, in the
    /// order of the cluster's pod CIDRs (kubelet, RKE2 and k3s take a dual-stack pair in the
    /// cluster's family order).
    pub fn node_ips(&self, pod_cidrs: &[IpNet]) -> Vec<IpAddr> {
        let mut ips: Vec<IpAddr> = self
            .address
            .iter()
            .chain(&self.secondary_address)
            .map(|a| a.addr())
            .collect();
        ips.sort_by_key(|ip| family_rank(pod_cidrs, ip.is_ipv6()));
        ips
    }

    /// The interface carrying management traffic, if declared.
    pub fn management_interface(&self) -> Option<&InterfacePlan> {
        self.interfaces
            .iter()
            .find(|i| i.purpose == Some(Purpose::Management))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InterfacePlan {
    pub name: String,
    pub mtu: u32,
    /// Whether the intent gave the MTU (netc programs only MTUs it was told).
    pub mtu_declared: bool,
    pub purpose: Option<Purpose>,
    pub address: Option<IpNet>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirewallPlan {
    pub backend: FirewallBackend,
    pub zone: String,
    /// Ports that stay open through everything netc does (`tcp/22`).
    pub management: Vec<PortRange>,
    /// The user's rules, in intent order.
    pub rules: Vec<FirewallRulePlan>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirewallRulePlan {
    pub name: String,
    pub ports: Vec<PortRange>,
    /// Allowed sources; empty = anywhere.
    pub from: Vec<IpNet>,
    /// Roles whose nodes carry the rule; empty = all.
    pub roles: Vec<Role>,
    pub action: FirewallAction,
    #[serde(skip)]
    pub span: Span,
}

impl FirewallRulePlan {
    pub fn applies_to(&self, role: Role) -> bool {
        self.roles.is_empty() || self.roles.contains(&role)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProxyPlan {
    pub http: Option<String>,
    pub https: Option<String>,
    /// The user's entries first, then what netc adds (pod/service CIDRs, node networks,
    /// `.svc`, the cluster domain, localhost), without duplicates.
    pub no_proxy: Vec<String>,
    /// Entries netc added to the user's list.
    pub added: Vec<String>,
}

/// Whether these networks (a cluster's pod CIDRs) are all IPv6, and there is at least one.
pub fn ipv6_only(nets: &[IpNet]) -> bool {
    !nets.is_empty() && nets.iter().all(|n| matches!(n, IpNet::V6(_)))
}

impl Plan {
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The kubeadm API version this Kubernetes version uses (the profile's fact: `v1beta4`
    /// from 1.31).
    pub fn kubeadm_api(&self) -> &'static str {
        self.profile.kubeadm_api
    }

    /// Who puts the cluster's CNI in place ([`cni::cni_install`]).
    pub fn cni_install(&self) -> CniInstall {
        cni::cni_install(self.distribution, self.cni.plugin)
    }

    /// Whether the control plane runs etcd (and listens on its ports): Canonical Kubernetes
    /// unless k8s-dqlite is chosen; k3s with several servers or `datastore: etcd`
    /// (`cluster-init`); kubeadm and RKE2 always (stacked etcd).
    pub fn runs_etcd(&self) -> bool {
        match (self.distribution, self.datastore) {
            (_, Some(Datastore::K8sDqlite)) => false,
            (Distribution::K3s, None) => {
                self.nodes.iter().filter(|n| n.is_control_plane()).count() > 1
            }
            _ => true,
        }
    }

    /// Whether the cluster is dual-stack (both families of pod CIDR).
    pub fn dual_stack(&self) -> bool {
        self.pod_cidrs.iter().any(|n| matches!(n, IpNet::V4(_)))
            && self.pod_cidrs.iter().any(|n| matches!(n, IpNet::V6(_)))
    }
}

/// Derives the Plan from the intent and the text it was read from (which the fleet's
/// ConfigMap carries verbatim). Never fails; malformed values are skipped (validation reports them).
pub fn lower(intent: &NetworkIntent, source_text: &str) -> Plan {
    let c = &intent.cluster;
    let pod_cidrs = networks(c.pod_cidr.entries().map(|(t, _)| t));
    let service_cidrs = networks(c.service_cidr.entries().map(|(t, _)| t));
    let node_mask_v4 = c
        .node_cidr_mask_size
        .as_ref()
        .map_or(DEFAULT_NODE_MASK_V4, |m| m.value);
    let node_mask_v6 = c
        .node_cidr_mask_size_v6
        .as_ref()
        .map_or(DEFAULT_NODE_MASK_V6, |m| m.value);
    let cluster_dns = match &c.cluster_dns {
        Some(t) => values::parse_address(t),
        None => service_cidrs.first().and_then(|n| nth_address(n, 10)),
    };
    let kube_proxy = kube_proxy_plan(c.kube_proxy.as_ref());
    let host_overlay = host_overlay_plan(intent);

    let mut nodes: Vec<NodePlan> = intent
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| node_plan(i, n, &pod_cidrs, host_overlay.as_ref()))
        .collect();

    subnets::allocate(intent, &pod_cidrs, node_mask_v4, node_mask_v6, &mut nodes);
    let service_v6 = service_cidrs.first().map(|n| matches!(n, IpNet::V6(_)));
    for n in &mut nodes {
        n.api_address = n.specific_bind_address().or_else(|| {
            let own = [n.address, n.secondary_address];
            own.iter()
                .flatten()
                .map(IpNet::addr)
                .find(|ip| Some(ip.is_ipv6()) == service_v6)
                .or_else(|| n.ip())
        });
    }

    let kubernetes_version = KubeVersion::parse(&c.kubernetes_version);
    let profile = profile::Profile::resolve(
        c.distribution.value,
        kubernetes_version,
        kube_proxy.mode,
        intent.cni.plugin.value,
        ipv6_only(&pod_cidrs),
    );
    let cni = cni::cni_plan(
        intent,
        c.distribution.value,
        &pod_cidrs,
        &host_overlay,
        &mut nodes,
        profile.encapsulations,
    );
    let firewall = firewall_plan(intent);
    let mut plan = Plan {
        name: intent.metadata.name.value.clone(),
        distribution: c.distribution.value,
        kubernetes_version,
        kubernetes_version_text: c.kubernetes_version.value.clone(),
        pod_cidrs,
        service_cidrs,
        node_mask_v4,
        node_mask_v6,
        dns_domain: c
            .dns_domain
            .as_ref()
            .map_or_else(|| "cluster.local".to_owned(), |d| d.value.clone()),
        cluster_dns,
        control_plane_endpoint: c.control_plane_endpoint.as_ref().map(|e| e.value.clone()),
        api_server_port: API_SERVER_PORT,
        kube_proxy,
        datastore: c.datastore.as_ref().map(|d| d.value),
        cni,
        host_overlay,
        reserved: networks(intent.reserved.iter().map(|t| t.value.as_str())),
        nodes,
        firewall,
        policies: policies::lower(&intent.policies, profile.dns_label),
        workloads: WorkloadsPlan::default(),
        proxy: None,
        fleet: intent.fleet.as_ref().map(|f| fleet::lower(f, source_text)),
        profile,
        not_applied: not_applied::Record::default(),
    };
    plan.api_server_port = own_endpoint_port(&plan).unwrap_or(API_SERVER_PORT);
    ports::claim_all(intent, &mut plan);
    host::derive(&mut plan);
    plan.not_applied = not_applied::record(intent, &plan);
    plan.proxy = host::proxy_plan(intent, &plan);
    plan.workloads = workloads::lower(
        intent,
        &plan.nodes,
        plan.profile.dns_label,
        plan.api_server_port,
    );
    plan
}

/// kube-proxy's mode and tuning, with its defaults (iptables).
fn kube_proxy_plan(kube_proxy: Option<&crate::intent::KubeProxy>) -> KubeProxyPlan {
    KubeProxyPlan {
        mode: kube_proxy
            .and_then(|k| k.mode.as_ref())
            .map_or(KubeProxyMode::Iptables, |m| m.value),
        ipvs_scheduler: kube_proxy
            .and_then(|k| k.ipvs_scheduler.as_ref())
            .map(|s| s.value.clone()),
        strict_arp: kube_proxy
            .and_then(|k| k.strict_arp.as_ref())
            .is_some_and(|s| s.value),
        conntrack: kube_proxy
            .and_then(|k| k.conntrack.as_ref())
            .map(|ct| ConntrackPlan {
                max_per_core: ct.max_per_core.as_ref().map(|v| v.value),
                min: ct.min.as_ref().map(|v| v.value),
                tcp_established_timeout: go_duration(ct.tcp_established_timeout.as_ref()),
                tcp_close_wait_timeout: go_duration(ct.tcp_close_wait_timeout.as_ref()),
            })
            .unwrap_or_default(),
        ipvs: kube_proxy
            .and_then(|k| k.ipvs.as_ref())
            .map(|i| IpvsTuningPlan {
                sync_period: go_duration(i.sync_period.as_ref()),
                min_sync_period: go_duration(i.min_sync_period.as_ref()),
                exclude_cidrs: networks(i.exclude_cidrs.iter().map(|t| t.value.as_str())),
            })
            .unwrap_or_default(),
    }
}

/// The host overlay, with its defaults ([`HOST_OVERLAY_VNI`], [`HOST_OVERLAY_VXLAN_PORT`]);
/// `None` when absent or its subnet does not parse (validation reports it).
fn host_overlay_plan(intent: &NetworkIntent) -> Option<HostOverlayPlan> {
    intent.host_overlay.as_ref().and_then(|h| {
        let subnet = values::parse_network(&h.subnet).ok()?;
        let vni = h.vxlan.vni.as_ref().map_or(HOST_OVERLAY_VNI, |v| v.value);
        Some(HostOverlayPlan {
            bridge: h.bridge.value.clone(),
            subnet,
            port: h
                .vxlan
                .port
                .as_ref()
                .map_or(HOST_OVERLAY_VXLAN_PORT, |p| p.value),
            vni,
            underlay: h.vxlan.interface.as_ref().map(|i| i.value.clone()),
            device: format!("vx{vni}"),
        })
    })
}

/// Node `i` as declared; what depends on every node (pod subnets, the API address, the data
/// path, ports, host facts) is filled in by `lower` afterwards.
fn node_plan(
    i: usize,
    n: &crate::intent::Node,
    pod_cidrs: &[IpNet],
    host_overlay: Option<&HostOverlayPlan>,
) -> NodePlan {
    NodePlan {
        name: n.name.value.clone(),
        role: n.role.value,
        address: values::parse_interface_address(&n.address),
        secondary_address: n
            .secondary_address
            .as_ref()
            .and_then(|a| values::parse_interface_address(a)),
        external_addresses: n
            .external_address
            .as_ref()
            .map(|l| {
                let mut ips: Vec<IpAddr> = l
                    .entries()
                    .filter_map(|(t, _)| values::parse_address(t))
                    .collect();
                ips.sort_by_key(|ip| family_rank(pod_cidrs, ip.is_ipv6()));
                ips
            })
            .unwrap_or_default(),
        bind_address: n
            .bind_address
            .as_ref()
            .and_then(|a| values::parse_address(a)),
        api_address: None,
        interfaces: n
            .interfaces
            .iter()
            .map(|f| InterfacePlan {
                name: f.name.value.clone(),
                mtu: f.mtu.as_ref().map_or(DEFAULT_INTERFACE_MTU, |m| m.value),
                mtu_declared: f.mtu.is_some(),
                purpose: f.purpose.as_ref().map(|p| p.value),
                address: f
                    .address
                    .as_ref()
                    .and_then(|a| values::parse_interface_address(a)),
            })
            .collect(),
        pod_cidrs: Vec::new(),
        overlay_address: host_overlay.and_then(|h| {
            let host = nth_address(&h.subnet, u128::try_from(i).ok()? + 1)?;
            IpNet::new(host, h.subnet.prefix_len()).ok()
        }),
        data_mtu: DEFAULT_INTERFACE_MTU,
        data_interface: None,
        bridge_gateways: Vec::new(),
        ports: Vec::new(),
        modules: Vec::new(),
        sysctls: Vec::new(),
        routes: Routes::default(),
    }
}

/// The control-plane endpoint's port, when the endpoint's host is one of a control-plane
/// node's own addresses (then that node's API server must listen on it).
fn own_endpoint_port(plan: &Plan) -> Option<u16> {
    let endpoint = plan.control_plane_endpoint.as_deref()?;
    let (host, port) = crate::intent::values::endpoint_parts(endpoint);
    let ip: IpAddr = host.parse().ok()?;
    let port: u16 = port?.parse().ok()?;
    let own = plan.nodes.iter().filter(|n| n.is_control_plane()).any(|n| {
        n.address.map(|a| a.addr()) == Some(ip)
            || n.secondary_address.map(|a| a.addr()) == Some(ip)
            || n.bind_address == Some(ip)
            || n.interfaces
                .iter()
                .any(|i| i.address.map(|a| a.addr()) == Some(ip))
    });
    own.then_some(port)
}

fn firewall_plan(intent: &NetworkIntent) -> Option<FirewallPlan> {
    let f = intent.firewall.as_ref()?;
    Some(FirewallPlan {
        backend: f.backend.value,
        zone: f
            .zone
            .as_ref()
            .map_or_else(|| "public".to_owned(), |z| z.value.clone()),
        management: f
            .management_access
            .iter()
            .filter_map(|p| values::parse_port_range(p).ok())
            .collect(),
        rules: f
            .rules
            .iter()
            .map(|r| FirewallRulePlan {
                name: r.name.value.clone(),
                ports: r
                    .ports
                    .iter()
                    .filter_map(|p| values::parse_port_range(p).ok())
                    .collect(),
                from: networks(r.from.iter().map(|t| t.value.as_str())),
                roles: r.roles.iter().map(|s| s.value).collect(),
                action: r
                    .action
                    .as_ref()
                    .map_or(FirewallAction::Accept, |a| a.value),
                span: r.name.span,
            })
            .collect(),
    })
}

/// A Go duration's text, trimmed, when it parses (validation reports the rest).
fn go_duration(text: Option<&crate::intent::Text>) -> Option<String> {
    let t = text?;
    values::parse_go_duration(t).ok()?;
    Some(t.value.trim().to_owned())
}

/// Where a family comes in the cluster's order (the pod CIDRs'): 0 first, 1 second.
fn family_rank(pod_cidrs: &[IpNet], v6: bool) -> usize {
    pod_cidrs
        .iter()
        .position(|n| matches!(n, IpNet::V6(_)) == v6)
        .unwrap_or(usize::MAX)
}

/// The networks among `texts` that parse, IPv4 first (stable otherwise).
fn networks<'a>(texts: impl Iterator<Item = &'a str>) -> Vec<IpNet> {
    let mut nets: Vec<IpNet> = texts
        .filter_map(|t| values::parse_network(t).ok())
        .collect();
    nets.sort_by_key(|n| matches!(n, IpNet::V6(_)));
    nets
}

/// The `n`th address of a network (0 = the network address), if it lies inside it.
pub fn nth_address(net: &IpNet, n: u128) -> Option<IpAddr> {
    match net {
        IpNet::V4(v4) => {
            let base = u32::from(v4.network());
            let n = u32::try_from(n).ok()?;
            let addr = std::net::Ipv4Addr::from(base.checked_add(n)?);
            v4.contains(&addr).then_some(IpAddr::V4(addr))
        }
        IpNet::V6(v6) => {
            let base = u128::from(v6.network());
            let addr = std::net::Ipv6Addr::from(base.checked_add(n)?);
            v6.contains(&addr).then_some(IpAddr::V6(addr))
        }
    }
}
