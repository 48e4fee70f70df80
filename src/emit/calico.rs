//! `calico/`: Calico's pod network for clusters that install Calico themselves (kubeadm, k3s
//! with flannel off). RKE2 configures its bundled Calico through a HelmChartConfig (the rke2
//! target) and Canonical Kubernetes ships its own network, so they get nothing here.
//!
//! - `installation.yaml`: the tigera-operator's `operator.tigera.io/v1` Installation `default`
//!   (tigera/operator `api/v1/installation_types.go`);
//! - `ippool.yaml`: the same pools as `projectcalico.org/v3` IPPools, for manifest installs.

use ipnet::IpNet;
use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, yaml, yaml_documents};
use crate::intent::{CniPlugin, Distribution, Encapsulation};
use crate::plan::{Plan, calico_bgp};

/// Calico's IPv6 IPAM block size default.
pub const BLOCK_SIZE_V6: u8 = 122;

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    if !applies(ctx.plan) {
        return Ok(());
    }
    let path = "calico/installation.yaml";
    sink.put(path.to_owned(), yaml(ctx, path, &installation(ctx.plan))?)?;
    let path = "calico/ippool.yaml";
    sink.put(
        path.to_owned(),
        yaml_documents(ctx, path, &ip_pools(ctx.plan))?,
    )?;
    Ok(())
}

/// Calico, on a distribution where the user installs it.
pub fn applies(plan: &Plan) -> bool {
    plan.cni.plugin == CniPlugin::Calico
        && matches!(plan.distribution, Distribution::Kubeadm | Distribution::K3s)
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
    pub mtu: u32,
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

pub fn installation(plan: &Plan) -> Installation {
    let autodetect = plan.cni.interface.as_ref().map(|i| Autodetection {
        interface: anchored_regex(i),
    });
    let has = |v6: bool| {
        plan.pod_cidrs
            .iter()
            .any(|n| matches!(n, IpNet::V6(_)) == v6)
    };
    Installation {
        api_version: "operator.tigera.io/v1",
        kind: "Installation",
        metadata: Metadata {
            name: "default".to_owned(),
        },
        spec: InstallationSpec {
            calico_network: CalicoNetwork {
                bgp: if calico_bgp(plan.cni.encapsulation) {
                    "Enabled"
                } else {
                    "Disabled"
                },
                ip_pools: pools(plan)
                    .into_iter()
                    .map(|p| OperatorPool {
                        name: p.name,
                        cidr: p.cidr,
                        block_size: p.block_size,
                        encapsulation: p.encapsulation.operator(),
                        nat_outgoing: if p.nat_outgoing {
                            "Enabled"
                        } else {
                            "Disabled"
                        },
                        node_selector: "all()",
                    })
                    .collect(),
                mtu: plan.cni.mtu,
                node_address_autodetection_v4: autodetect.clone().filter(|_| has(false)),
                node_address_autodetection_v6: autodetect.filter(|_| has(true)),
            },
        },
    }
}

/// How a pool's traffic crosses nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolEncap {
    Ipip,
    Vxlan,
    VxlanCrossSubnet,
    None,
}

impl PoolEncap {
    fn operator(self) -> &'static str {
        match self {
            PoolEncap::Ipip => "IPIP",
            PoolEncap::Vxlan => "VXLAN",
            PoolEncap::VxlanCrossSubnet => "VXLANCrossSubnet",
            PoolEncap::None => "None",
        }
    }
}

/// One pool per pod CIDR, as both manifests describe it.
#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    pub cidr: IpNet,
    pub block_size: u8,
    pub encapsulation: PoolEncap,
    pub nat_outgoing: bool,
}

pub fn pools(plan: &Plan) -> Vec<Pool> {
    plan.pod_cidrs
        .iter()
        .map(|cidr| {
            let v6 = matches!(cidr, IpNet::V6(_));
            let encapsulation = match plan.cni.encapsulation {
                // IP-in-IP carries IPv4 only: IPv6 pools are routed natively (BGP).
                Encapsulation::Ipip if v6 => PoolEncap::None,
                Encapsulation::Ipip => PoolEncap::Ipip,
                Encapsulation::Vxlan => PoolEncap::Vxlan,
                Encapsulation::VxlanCrossSubnet => PoolEncap::VxlanCrossSubnet,
                // host-gw and wireguard are not Calico pool modes (validation reports them).
                Encapsulation::Bgp
                | Encapsulation::None
                | Encapsulation::HostGw
                | Encapsulation::Wireguard => PoolEncap::None,
            };
            Pool {
                name: if v6 {
                    "default-ipv6-ippool".to_owned()
                } else {
                    "default-ipv4-ippool".to_owned()
                },
                cidr: *cidr,
                block_size: if v6 {
                    BLOCK_SIZE_V6
                } else {
                    plan.cni.calico_block_size
                },
                encapsulation,
                nat_outgoing: plan.cni.nat_outgoing,
            }
        })
        .collect()
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

pub fn ip_pools(plan: &Plan) -> Vec<IpPool> {
    pools(plan)
        .into_iter()
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
                metadata: Metadata { name: p.name },
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

/// A regular expression matching exactly the interface `name` (Calico matches unanchored:
/// `eth1` alone would also pick `veth1a2b`).
fn anchored_regex(name: &str) -> String {
    let mut out = String::from("^");
    for c in name.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::anchored_regex;

    #[test]
    fn interface_regex_is_exact() {
        assert_eq!(anchored_regex("eth1"), "^eth1$");
        assert_eq!(anchored_regex("eth0.100"), "^eth0\\.100$");
    }
}
