//! `cilium/values.yaml`: Helm values for the cilium chart (cilium/cilium
//! `install/kubernetes/cilium/values.yaml`), for clusters that install Cilium themselves
//! (kubeadm, k3s). RKE2 takes its Cilium values through a HelmChartConfig (the rke2 target);
//! Canonical Kubernetes ships its own network.
//!
//! Pods get addresses from the intent's pod CIDR through cluster-pool IPAM with the intent's
//! per-node mask; kube-proxy stays (the intent always deploys it), so `kubeProxyReplacement`
//! is off.

use ipnet::IpNet;
use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, yaml};
use crate::intent::{CniPlugin, Distribution, Encapsulation};
use crate::plan::{Plan, encapsulation_overhead};

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    if !applies(ctx.plan) {
        return Ok(());
    }
    let path = "cilium/values.yaml";
    sink.put(path.to_owned(), yaml(ctx, path, &values(ctx.plan))?)?;
    Ok(())
}

/// Cilium, on a distribution where the user installs it.
pub fn applies(plan: &Plan) -> bool {
    plan.cni.plugin == CniPlugin::Cilium
        && matches!(plan.distribution, Distribution::Kubeadm | Distribution::K3s)
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub ipam: Ipam,
    pub ipv4: Enabled,
    pub ipv6: Enabled,
    pub routing_mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel_port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_direct_node_routes: Option<bool>,
    #[serde(
        rename = "ipv4NativeRoutingCIDR",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv4_native_routing_cidr: Option<IpNet>,
    #[serde(
        rename = "ipv6NativeRoutingCIDR",
        skip_serializing_if = "Option::is_none"
    )]
    pub ipv6_native_routing_cidr: Option<IpNet>,
    /// The underlying network's MTU; Cilium subtracts its own tunnel overhead.
    #[serde(rename = "MTU")]
    pub mtu: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    pub kube_proxy_replacement: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encryption: Option<Encryption>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Enabled {
    pub enabled: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Ipam {
    pub mode: &'static str,
    pub operator: IpamOperator,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpamOperator {
    #[serde(
        rename = "clusterPoolIPv4PodCIDRList",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub v4_cidrs: Vec<IpNet>,
    #[serde(
        rename = "clusterPoolIPv4MaskSize",
        skip_serializing_if = "Option::is_none"
    )]
    pub v4_mask: Option<u8>,
    #[serde(
        rename = "clusterPoolIPv6PodCIDRList",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub v6_cidrs: Vec<IpNet>,
    #[serde(
        rename = "clusterPoolIPv6MaskSize",
        skip_serializing_if = "Option::is_none"
    )]
    pub v6_mask: Option<u8>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Encryption {
    pub enabled: bool,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

pub fn values(plan: &Plan) -> Values {
    let v4: Vec<IpNet> = plan
        .pod_cidrs
        .iter()
        .copied()
        .filter(|n| matches!(n, IpNet::V4(_)))
        .collect();
    let v6: Vec<IpNet> = plan
        .pod_cidrs
        .iter()
        .copied()
        .filter(|n| matches!(n, IpNet::V6(_)))
        .collect();
    let native = matches!(
        plan.cni.encapsulation,
        Encapsulation::Bgp | Encapsulation::HostGw | Encapsulation::None
    );
    let underlay_v6 = plan
        .nodes
        .first()
        .and_then(|n| n.address)
        .is_some_and(|a| matches!(a, IpNet::V6(_)));
    let own = encapsulation_overhead(plan.cni.encapsulation);
    let own = if underlay_v6 { own.v6 } else { own.v4 };
    Values {
        ipam: Ipam {
            mode: "cluster-pool",
            operator: IpamOperator {
                v4_mask: (!v4.is_empty()).then_some(plan.node_mask_v4),
                v6_mask: (!v6.is_empty()).then_some(plan.node_mask_v6),
                v4_cidrs: v4.clone(),
                v6_cidrs: v6.clone(),
            },
        },
        ipv4: Enabled {
            enabled: !v4.is_empty(),
        },
        ipv6: Enabled {
            enabled: !v6.is_empty(),
        },
        routing_mode: if native { "native" } else { "tunnel" },
        tunnel_protocol: (!native).then_some("vxlan"),
        tunnel_port: (!native).then_some(plan.cni.vxlan_port),
        auto_direct_node_routes: native.then_some(true),
        ipv4_native_routing_cidr: if native { v4.first().copied() } else { None },
        ipv6_native_routing_cidr: if native { v6.first().copied() } else { None },
        // The Plan's pod MTU is what is left after the CNI's own encapsulation; Cilium wants
        // the MTU below that (the node's data path, or a host overlay's bridge).
        mtu: plan.cni.mtu + own,
        devices: plan.cni.interface.iter().cloned().collect(),
        kube_proxy_replacement: false,
        encryption: (plan.cni.encapsulation == Encapsulation::Wireguard).then_some(Encryption {
            enabled: true,
            kind: "wireguard",
        }),
    }
}
