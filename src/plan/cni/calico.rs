//! Calico: the operator's Installation and FelixConfiguration values (tigera/operator,
//! projectcalico/api), one IP pool per pod CIDR.

use super::*;

/// Calico FelixConfiguration defaults (projectcalico/api `felixconfig.go`): `vxlanPort` 4789,
/// `vxlanVNI` 4096, `wireguardListeningPort` 51820, `wireguardListeningPortV6` 51821.
pub const CALICO_VXLAN_PORT: u16 = crate::plan::profile::CALICO_VXLAN_PORT;

pub const CALICO_VXLAN_VNI: u32 = 4096;

pub const CALICO_WIREGUARD_PORT: u16 = crate::plan::profile::CALICO_WIREGUARD_PORT;

pub const CALICO_WIREGUARD_PORT_V6: u16 = crate::plan::profile::CALICO_WIREGUARD_PORT_V6;

/// The operator's IPv4 block size default (tigera/operator `api/v1/installation_types.go`).
pub const CALICO_BLOCK_SIZE_V4: u8 = 26;

/// Calico's IPv6 IPAM block size default.
pub const CALICO_BLOCK_SIZE_V6: u8 = 122;

/// Calico (tigera/operator Installation, projectcalico FelixConfiguration).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalicoSettings {
    pub pools: Vec<CalicoPool>,
    /// `calicoNetwork.bgp`: BIRD runs and peers on TCP 179.
    pub bgp: bool,
    /// `calicoNetwork.mtu`: the pod veth MTU (Calico sizes its tunnel devices itself);
    /// `None`: left out, Calico detects it.
    pub mtu: Option<u32>,
    /// `nodeAddressAutodetectionV4/V6.interface`: Calico matches the regex unanchored, so an
    /// exact name is `^name$` (`eth1` alone would also pick `veth1a2b`).
    pub interface_regex: Option<String>,
    /// FelixConfiguration `vxlanPort` / `vxlanVNI`, used when a pool runs VXLAN.
    pub vxlan_port: u16,
    pub vxlan_vni: u32,
    /// FelixConfiguration `wireguardEnabled` / `wireguardEnabledV6`.
    pub wireguard_v4: bool,
    pub wireguard_v6: bool,
}

impl CalicoSettings {
    /// Whether any pool runs VXLAN (Felix then listens on `vxlan_port`).
    pub fn uses_vxlan(&self) -> bool {
        self.pools.iter().any(|p| {
            matches!(
                p.encapsulation,
                PoolEncap::Vxlan | PoolEncap::VxlanCrossSubnet
            )
        })
    }
}

/// One Calico IP pool per pod CIDR.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CalicoPool {
    pub name: String,
    pub cidr: IpNet,
    pub block_size: u8,
    pub encapsulation: PoolEncap,
    pub nat_outgoing: bool,
}

/// How a Calico pool's traffic crosses nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PoolEncap {
    Ipip,
    Vxlan,
    VxlanCrossSubnet,
    None,
}

impl PoolEncap {
    /// The operator's (and k8s-snap's annotation's) spelling.
    pub fn operator(self) -> &'static str {
        match self {
            PoolEncap::Ipip => "IPIP",
            PoolEncap::Vxlan => "VXLAN",
            PoolEncap::VxlanCrossSubnet => "VXLANCrossSubnet",
            PoolEncap::None => "None",
        }
    }
}

/// Whether Calico runs BGP. IP-in-IP and unencapsulated pools need it to distribute routes
/// (tigera/operator `validation.go`: "IPIP encapsulation requires that BGP is enabled", the
/// same for `None`); VXLAN and VXLANCrossSubnet pools do not (Felix programs their routes).
pub fn calico_bgp(encap: Encapsulation) -> bool {
    matches!(
        encap,
        Encapsulation::Ipip
            | Encapsulation::Bgp
            | Encapsulation::None
            | Encapsulation::HostGw
            | Encapsulation::Wireguard
    )
}

pub(super) const CANONICAL_CALICO: &str = "Canonical Kubernetes' built-in Calico";

pub(super) fn calico_settings(given: &mut Given<'_>) -> CalicoSettings {
    let canonical = cni_install(given.distribution, CniPlugin::Calico) == CniInstall::Builtin;
    let encap = given.encapsulation;
    let (nat_outgoing, nat_span) = given.nat_outgoing();
    let pools = calico_pools(given, nat_outgoing);
    let wireguard = encap == Encapsulation::Wireguard;
    let mut settings = CalicoSettings {
        // tigera/operator `pkg/controller/installation/core_controller.go` (fillDefaults):
        // with `bgp` unset the operator enables BGP, which k8s-snap never sets.
        bgp: canonical || calico_bgp(encap),
        mtu: given.mtu_known.then_some(given.pod_mtu),
        interface_regex: given.interface().map(|i| anchored_regex(&i)),
        vxlan_port: CALICO_VXLAN_PORT,
        vxlan_vni: CALICO_VXLAN_VNI,
        wireguard_v4: wireguard && given.has_v4(),
        wireguard_v6: wireguard && given.has_v6(),
        pools,
    };
    if !settings.uses_vxlan() {
        given.vxlan_has_no_effect(
            "calico",
            "no Calico pool runs VXLAN with this encapsulation",
        );
    } else if canonical {
        // canonical/k8s-snap-api `api/v1/annotations/calico/annotations.go` (read by k8s-snap
        // `src/k8s/pkg/k8sd/features/calico/internal.go`): encapsulation, autodetection and
        // apiserver-enabled only.
        if let Some((port, span)) = given.port()
            && port != CALICO_VXLAN_PORT
        {
            given.no_knob(
                "cni.vxlan.port",
                port,
                span,
                CANONICAL_CALICO,
                format!("k8s-snap has no annotation for Felix's vxlanPort: Calico uses {CALICO_VXLAN_PORT}"),
            );
        }
        if let Some((vni, span)) = given.vni()
            && vni != CALICO_VXLAN_VNI
        {
            given.no_knob(
                "cni.vxlan.vni",
                vni,
                span,
                CANONICAL_CALICO,
                format!("k8s-snap has no annotation for Felix's vxlanVNI: Calico uses {CALICO_VXLAN_VNI}"),
            );
        }
    } else {
        settings.vxlan_port = given.port().map_or(CALICO_VXLAN_PORT, |p| p.0);
        settings.vxlan_vni = given.vni().map_or(CALICO_VXLAN_VNI, |v| v.0);
    }
    if canonical {
        canonical_calico_limits(given, &mut settings, nat_outgoing, nat_span);
    }
    settings
}

/// One pool per pod CIDR, in the intent's encapsulation (IPv6 pools routed natively under
/// IP-in-IP, which carries IPv4 only).
fn calico_pools(given: &Given<'_>, nat_outgoing: bool) -> Vec<CalicoPool> {
    let encap = given.encapsulation;
    let block_size = given.block_size().map_or(CALICO_BLOCK_SIZE_V4, |b| b.0);
    given
        .pod_cidrs
        .iter()
        .map(|cidr| {
            let v6 = matches!(cidr, IpNet::V6(_));
            let encapsulation = match encap {
                // IP-in-IP carries IPv4 only: IPv6 pools are routed natively (BGP).
                Encapsulation::Ipip if v6 => PoolEncap::None,
                Encapsulation::Ipip => PoolEncap::Ipip,
                Encapsulation::Vxlan => PoolEncap::Vxlan,
                Encapsulation::VxlanCrossSubnet => PoolEncap::VxlanCrossSubnet,
                // WireGuard encrypts routed (BGP) traffic between nodes; host-gw is not a
                // Calico mode (validation reports it).
                Encapsulation::Bgp
                | Encapsulation::None
                | Encapsulation::HostGw
                | Encapsulation::Wireguard => PoolEncap::None,
            };
            CalicoPool {
                name: if v6 {
                    "default-ipv6-ippool".to_owned()
                } else {
                    "default-ipv4-ippool".to_owned()
                },
                cidr: *cidr,
                block_size: if v6 { CALICO_BLOCK_SIZE_V6 } else { block_size },
                encapsulation,
                nat_outgoing,
            }
        })
        .collect()
}

/// Canonical Kubernetes' built-in Calico: what k8s-snap's annotations cannot carry (MTU, block
/// size, natOutgoing) is reported, and the settings say what Calico does instead.
fn canonical_calico_limits(
    given: &mut Given<'_>,
    settings: &mut CalicoSettings,
    nat_outgoing: bool,
    nat_span: Option<Span>,
) {
    if let Some((mtu, span)) = given.explicit_mtu() {
        given.no_knob(
            "cni.mtu",
            mtu,
            span,
            CANONICAL_CALICO,
            "k8s-snap has no MTU annotation: Calico detects the MTU from the host's interfaces",
        );
    }
    if let Some((b, span)) = given.block_size()
        && b != CALICO_BLOCK_SIZE_V4
    {
        given.no_knob(
            "cni.calico.blockSize",
            b,
            span,
            CANONICAL_CALICO,
            format!("k8s-snap's pools take no block size: Calico uses /{CALICO_BLOCK_SIZE_V4}"),
        );
        for p in &mut settings.pools {
            if matches!(p.cidr, IpNet::V4(_)) {
                p.block_size = CALICO_BLOCK_SIZE_V4;
            }
        }
    }
    if !nat_outgoing && let Some(span) = nat_span {
        given.no_knob(
            "cni.calico.natOutgoing",
            nat_outgoing,
            span,
            CANONICAL_CALICO,
            "k8s-snap's pools take no natOutgoing: the operator enables it",
        );
        for p in &mut settings.pools {
            p.nat_outgoing = true;
        }
    }
    if given.explicit_mtu().is_some() {
        settings.mtu = Some(given.path_mtu.saturating_sub(given.own_overhead));
    }
}
