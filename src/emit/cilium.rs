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
use crate::intent::CniPlugin;
use crate::plan::masquerade::cilium_native_routing_cidr;
use crate::plan::{CiliumSettings, CniInstall, Plan};

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let Some(cilium) = ctx.plan.cni.cilium().filter(|_| applies(ctx.plan)) else {
        return Ok(());
    };
    let path = "cilium/values.yaml";
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Network,
            "Helm (the cilium chart)",
            "helm install cilium cilium/cilium --namespace kube-system -f cilium/values.yaml",
        )
        .at("the cluster (kube-system)"),
    );
    sink.put(path.to_owned(), yaml(ctx, path, &values(ctx.plan, cilium))?)?;
    Ok(())
}

/// Cilium, where the user installs it ([`CniInstall::Cluster`]).
pub fn applies(plan: &Plan) -> bool {
    plan.cni.plugin == CniPlugin::Cilium && plan.cni_install() == CniInstall::Cluster
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Values {
    pub ipam: Ipam,
    pub ipv4: Enabled,
    pub ipv6: Enabled,
    #[serde(flatten)]
    pub datapath: Datapath,
    pub kube_proxy_replacement: bool,
}

/// The data-path values every Cilium install takes from the Plan's `CiliumSettings` (this
/// target's `values.yaml` and RKE2's `rke2-cilium` HelmChartConfig alike).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Datapath {
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
    /// The underlying network's MTU; Cilium takes its tunnel and WireGuard overhead off it
    /// for pod routes (cilium/cilium `pkg/mtu/mtu.go`).
    /// Left out when the MTU is not known: Cilium detects it.
    #[serde(rename = "MTU", skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    #[serde(rename = "enableIPv4Masquerade")]
    pub enable_ipv4_masquerade: bool,
    #[serde(rename = "enableIPv6Masquerade")]
    pub enable_ipv6_masquerade: bool,
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

fn family(plan: &Plan, v6: bool) -> Vec<IpNet> {
    plan.pod_cidrs
        .iter()
        .copied()
        .filter(|n| matches!(n, IpNet::V6(_)) == v6)
        .collect()
}

pub fn datapath(plan: &Plan, cilium: &CiliumSettings) -> Datapath {
    let v4 = family(plan, false);
    let v6 = family(plan, true);
    let native = cilium.tunnel_port.is_none();
    Datapath {
        routing_mode: if native { "native" } else { "tunnel" },
        tunnel_protocol: (!native).then_some("vxlan"),
        tunnel_port: cilium.tunnel_port,
        auto_direct_node_routes: native.then_some(true),
        ipv4_native_routing_cidr: cilium_native_routing_cidr(plan, cilium, false),
        ipv6_native_routing_cidr: cilium_native_routing_cidr(plan, cilium, true),
        mtu: cilium.mtu,
        devices: cilium.devices.clone(),
        enable_ipv4_masquerade: cilium.masquerade && !v4.is_empty(),
        enable_ipv6_masquerade: cilium.masquerade && !v6.is_empty(),
        encryption: cilium.wireguard.then_some(Encryption {
            enabled: true,
            kind: "wireguard",
        }),
    }
}

pub fn values(plan: &Plan, cilium: &CiliumSettings) -> Values {
    let v4 = family(plan, false);
    let v6 = family(plan, true);
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
        datapath: datapath(plan, cilium),
        kube_proxy_replacement: false,
    }
}
