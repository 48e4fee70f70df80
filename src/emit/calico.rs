//! `calico/`: Calico's pod network for clusters that install Calico themselves (kubeadm, k3s
//! with flannel off). RKE2 configures its bundled Calico through a HelmChartConfig (the rke2
//! target) and Canonical Kubernetes ships its own network, so they get nothing here.
//!
//! - `installation.yaml`: the tigera-operator's `operator.tigera.io/v1` Installation `default`
//!   (tigera/operator `api/v1/installation_types.go`);
//! - `ippool.yaml`: the same pools as `projectcalico.org/v3` IPPools, for manifest installs;
//! - `felixconfiguration.yaml`: the `projectcalico.org/v3` FelixConfiguration `default` fields
//!   the Installation has no place for (projectcalico/api `pkg/apis/projectcalico/v3/felixconfig.go`):
//!   `vxlanPort`/`vxlanVNI` when a pool runs VXLAN, `wireguardEnabled`/`wireguardEnabledV6` for
//!   WireGuard. Applied over the operator's own `default` object, it changes only these fields.
//!
//! Every value comes from the Plan's `CalicoSettings`.

use ipnet::IpNet;
use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, yaml, yaml_documents};
use crate::intent::CniPlugin;
use crate::plan::{CalicoSettings, CniInstall, Plan, PoolEncap};

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let Some(calico) = ctx.plan.cni.calico().filter(|_| applies(ctx.plan)) else {
        return Ok(());
    };
    let path = "calico/installation.yaml";
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Network,
            "the Tigera operator",
            "kubectl apply -f calico/installation.yaml",
        )
        .at("the cluster")
        .noted(
            "after the operator's own tigera-operator.yaml; the operator creates the IP pools \
             from this Installation: apply this file, not ippool.yaml",
        ),
    );
    sink.put(path.to_owned(), yaml(ctx, path, &installation(calico))?)?;
    let path = "calico/ippool.yaml";
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Network,
            "calicoctl (Calico installed from its manifest, without the operator)",
            "calicoctl apply -f calico/ippool.yaml",
        )
        .at("the cluster")
        .noted(
            "the same pools as installation.yaml, for a manifest install without the Tigera \
             operator only: apply one of the two, never both",
        ),
    );
    sink.put(
        path.to_owned(),
        yaml_documents(ctx, path, &ip_pools(calico))?,
    )?;
    let path = "calico/felixconfiguration.yaml";
    sink.read_by(
        path,
        crate::emit::Consumer::new(
            crate::emit::Stage::Network,
            "Felix (through calicoctl or the Calico API server)",
            "calicoctl apply -f calico/felixconfiguration.yaml",
        )
        .at("the cluster"),
    );
    sink.put(
        path.to_owned(),
        yaml(ctx, path, &felix_configuration(calico))?,
    )?;
    Ok(())
}

/// Calico, where the user installs it ([`CniInstall::Cluster`]).
pub fn applies(plan: &Plan) -> bool {
    plan.cni.plugin == CniPlugin::Calico && plan.cni_install() == CniInstall::Cluster
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: InstallationSpec,
}

#[derive(Clone, Debug, Serialize)]
pub struct Metadata {
    pub name: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallationSpec {
    pub calico_network: CalicoNetwork,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CalicoNetwork {
    pub bgp: &'static str,
    pub ip_pools: Vec<OperatorPool>,
    /// Left out when the MTU is not known: Calico detects it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    #[serde(
        rename = "nodeAddressAutodetectionV4",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_address_autodetection_v4: Option<Autodetection>,
    #[serde(
        rename = "nodeAddressAutodetectionV6",
        skip_serializing_if = "Option::is_none"
    )]
    pub node_address_autodetection_v6: Option<Autodetection>,
}

/// Exactly one method (the operator's rule); netc only ever uses `interface`.
#[derive(Clone, Debug, Serialize)]
pub struct Autodetection {
    /// A regular expression over interface names.
    pub interface: String,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperatorPool {
    pub name: String,
    pub cidr: IpNet,
    pub block_size: u8,
    pub encapsulation: &'static str,
    pub nat_outgoing: &'static str,
    pub node_selector: &'static str,
}

pub fn installation(calico: &CalicoSettings) -> Installation {
    let autodetect = calico
        .interface_regex
        .as_ref()
        .map(|interface| Autodetection {
            interface: interface.clone(),
        });
    let has = |v6: bool| {
        calico
            .pools
            .iter()
            .any(|p| matches!(p.cidr, IpNet::V6(_)) == v6)
    };
    Installation {
        api_version: "operator.tigera.io/v1",
        kind: "Installation",
        metadata: Metadata {
            name: "default".to_owned(),
        },
        spec: InstallationSpec {
            calico_network: CalicoNetwork {
                bgp: enabled(calico.bgp),
                ip_pools: calico
                    .pools
                    .iter()
                    .map(|p| OperatorPool {
                        name: p.name.clone(),
                        cidr: p.cidr,
                        block_size: p.block_size,
                        encapsulation: p.encapsulation.operator(),
                        nat_outgoing: enabled(p.nat_outgoing),
                        node_selector: "all()",
                    })
                    .collect(),
                mtu: calico.mtu,
                node_address_autodetection_v4: autodetect.clone().filter(|_| has(false)),
                node_address_autodetection_v6: autodetect.filter(|_| has(true)),
            },
        },
    }
}

/// The operator's `Enabled` / `Disabled`.
pub fn enabled(on: bool) -> &'static str {
    if on { "Enabled" } else { "Disabled" }
}

/// `projectcalico.org/v3` FelixConfiguration.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FelixConfiguration {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: FelixSpec,
}

/// The FelixConfiguration fields netc sets (the same keys in RKE2's `felixConfiguration` values).
#[derive(Clone, Debug, Default, Serialize)]
pub struct FelixSpec {
    #[serde(rename = "vxlanPort", skip_serializing_if = "Option::is_none")]
    pub vxlan_port: Option<u16>,
    #[serde(rename = "vxlanVNI", skip_serializing_if = "Option::is_none")]
    pub vxlan_vni: Option<u32>,
    #[serde(rename = "wireguardEnabled")]
    pub wireguard_enabled: bool,
    #[serde(rename = "wireguardEnabledV6")]
    pub wireguard_enabled_v6: bool,
}

pub fn felix_spec(calico: &CalicoSettings) -> FelixSpec {
    let vxlan = calico.uses_vxlan();
    FelixSpec {
        vxlan_port: vxlan.then_some(calico.vxlan_port),
        vxlan_vni: vxlan.then_some(calico.vxlan_vni),
        wireguard_enabled: calico.wireguard_v4,
        wireguard_enabled_v6: calico.wireguard_v6,
    }
}

pub fn felix_configuration(calico: &CalicoSettings) -> FelixConfiguration {
    FelixConfiguration {
        api_version: "projectcalico.org/v3",
        kind: "FelixConfiguration",
        metadata: Metadata {
            name: "default".to_owned(),
        },
        spec: felix_spec(calico),
    }
}

/// `projectcalico.org/v3` IPPool.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpPool {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub metadata: Metadata,
    pub spec: IpPoolSpec,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IpPoolSpec {
    pub cidr: IpNet,
    pub block_size: u8,
    #[serde(rename = "ipipMode")]
    pub ipip_mode: &'static str,
    #[serde(rename = "vxlanMode")]
    pub vxlan_mode: &'static str,
    pub nat_outgoing: bool,
    pub node_selector: &'static str,
}

pub fn ip_pools(calico: &CalicoSettings) -> Vec<IpPool> {
    calico
        .pools
        .iter()
        .map(|p| {
            let (ipip, vxlan) = match p.encapsulation {
                PoolEncap::Ipip => ("Always", "Never"),
                PoolEncap::Vxlan => ("Never", "Always"),
                PoolEncap::VxlanCrossSubnet => ("Never", "CrossSubnet"),
                PoolEncap::None => ("Never", "Never"),
            };
            IpPool {
                api_version: "projectcalico.org/v3",
                kind: "IPPool",
                metadata: Metadata {
                    name: p.name.clone(),
                },
                spec: IpPoolSpec {
                    cidr: p.cidr,
                    block_size: p.block_size,
                    ipip_mode: ipip,
                    vxlan_mode: vxlan,
                    nat_outgoing: p.nat_outgoing,
                    node_selector: "all()",
                },
            }
        })
        .collect()
}
