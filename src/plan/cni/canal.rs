//! Canal: flannel's data path with Calico's policy (rke2-charts `rke2-canal`, calico `canal.yaml`).

use super::*;

/// Canal: flannel's data path with Calico's policy (rke2-charts `rke2-canal`, calico
/// `canal.yaml`'s `canal-config`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CanalSettings {
    pub flannel: FlannelSettings,
    /// `veth_mtu` / `calico.vethuMTU`: the pod veth MTU, never above flannel's device MTU.
    pub veth_mtu: u32,
    /// `masquerade` / `calico.masquerade`.
    pub masquerade: bool,
}

pub(super) fn canal_settings(given: &mut Given<'_>) -> CanalSettings {
    let target = match given.distribution {
        Distribution::Rke2 => "RKE2's rke2-canal chart",
        Distribution::Kubeadm
        | Distribution::K3s
        | Distribution::Canonical
        | Distribution::Manual => "canal",
    };
    given.block_size_has_no_effect(target);
    // Canal pins flannel's MTU: its pod veths are sized from flannel.1's (`veth_mtu`), which
    // Calico's own detection would not take the VXLAN header off.
    let flannel = given.flannel(target, &[], true);
    let (masquerade, _) = given.nat_outgoing();
    CanalSettings {
        // rke2-charts `rke2-canal` values: `calico.vethuMTU` must not exceed flannel.1's MTU,
        // which flannel derives from `flannel.mtu` (the underlay MTU) minus 50.
        veth_mtu: flannel.device_mtu,
        flannel,
        masquerade,
    }
}
