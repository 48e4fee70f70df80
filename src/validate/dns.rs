//! Cluster DNS: `netc::dns::outside-service-cidr`, `netc::dns::reserved-address`,
//! `netc::dns::kubeadm-address`.
//!
//! kubeadm checks neither of the first two; a clusterDNS outside the service range or on an
//! address the API server hands out itself leaves every pod without name resolution. kubeadm
//! also always puts the kube-dns Service at the 10th address of the (first) service subnet
//! (kubernetes/kubernetes `cmd/kubeadm/app/constants/constants.go` `GetDNSIP`, used by
//! `cmd/kubeadm/app/phases/addons/dns/dns.go`); neither ClusterConfiguration v1beta3 nor
//! v1beta4 has a field to move it, so another clusterDNS would reach the kubelets only.

use std::net::IpAddr;

use ipnet::IpNet;

use super::cidr::same_family;
use crate::diagnostic::{Diag, code};
use crate::intent::values;
use crate::intent::{Distribution, NetworkIntent, Span};
use crate::plan::Plan;

fn offset_in(net: &IpNet, addr: &IpAddr) -> Option<u128> {
    match (net, addr) {
        (IpNet::V4(n), IpAddr::V4(a)) => u32::from(*a)
            .checked_sub(u32::from(n.network()))
            .map(u128::from),
        (IpNet::V6(n), IpAddr::V6(a)) => u128::from(*a).checked_sub(u128::from(n.network())),
        _ => None,
    }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(dns) = &intent.cluster.cluster_dns else {
        // The default is the 10th address, inside any service CIDR big enough to pass `cidr`.
        return;
    };
    let Some(addr) = values::parse_address(&dns.value) else {
        return; // cidr::invalid reports it
    };
    let services: Vec<(IpNet, Span)> = intent
        .cluster
        .service_cidr
        .entries()
        .filter_map(|(t, s)| Some((values::parse_network(t).ok()?, s)))
        .collect();
    if services.is_empty() || plan.service_cidrs.is_empty() {
        return; // nothing valid to compare with; cidr::invalid reports the service CIDR
    }
    let Some((net, _)) = services.iter().find(|(n, _)| n.contains(&addr)) else {
        let Some(&(net, span)) = services
            .iter()
            .find(|(n, _)| same_family(n, &addr))
            .or(services.first())
        else {
            return;
        };
        out.push(
            Diag::error(
                code::DNS_OUTSIDE_SERVICE_CIDR,
                format!("clusterDNS {addr} is not inside serviceCIDR {net}"),
            )
            .label(dns.span, "outside the service range")
            .label(span, "serviceCIDR")
            .help(format!(
                "pick an address inside {net} (kubeadm's default is its 10th address{}), or omit clusterDNS",
                crate::plan::nth_address(&net, 10).map_or_else(String::new, |a| format!(", {a}"))
            )),
        );
        return;
    };
    if kube_dns_fixed_at_tenth_address(plan.distribution)
        && let Some(first) = plan.service_cidrs.first()
        && let Some(tenth) = crate::plan::nth_address(first, 10)
        && tenth != addr
    {
        out.push(
            Diag::error(
                code::DNS_KUBEADM_ADDRESS,
                format!(
                    "kubeadm always gives the kube-dns Service {tenth} (the 10th address of {first}), but clusterDNS is {addr}"
                ),
            )
            .label(dns.span, "kubeadm cannot put kube-dns here")
            .label(intent.cluster.distribution.span, "kubeadm")
            .help(format!(
                "set clusterDNS to {tenth} or remove it: kubeadm has no setting for the DNS Service address, and kubelets pointed elsewhere leave pods without DNS"
            )),
        );
    }
    let offset = offset_in(net, &addr);
    let reason = match (net, offset) {
        (_, Some(0)) => Some("the network address"),
        (IpNet::V4(n), _) if IpAddr::V4(n.broadcast()) == addr => Some("the broadcast address"),
        (_, Some(1)) => Some("the first address, which the `kubernetes` Service takes"),
        _ => None,
    };
    if let Some(reason) = reason {
        out.push(
            Diag::error(
                code::DNS_RESERVED_ADDRESS,
                format!("clusterDNS {addr} is {reason} of serviceCIDR {net}"),
            )
            .label(dns.span, "reserved address")
            .help(format!(
                "use another address of {net}, conventionally the 10th{}",
                crate::plan::nth_address(net, 10).map_or_else(String::new, |a| format!(" ({a})"))
            )),
        );
    }
}

/// Whether the distribution puts the kube-dns Service at the 10th address of the first service
/// network with no setting to move it: kubeadm (`GetDNSIP`, the module's sources). The others
/// take the address netc writes: RKE2's and k3s' `cluster-dns` (`emit/distribution.rs`),
/// Canonical Kubernetes' `cluster-config.dns.service-ip` (`emit/canonical.rs`), a manual
/// control plane's KubeletConfiguration `clusterDNS` (`emit/manual.rs`).
fn kube_dns_fixed_at_tenth_address(d: Distribution) -> bool {
    match d {
        Distribution::Kubeadm => true,
        Distribution::Rke2 | Distribution::K3s | Distribution::Canonical | Distribution::Manual => {
            false
        }
    }
}
