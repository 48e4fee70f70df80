//! `netc::cni::setting-not-applied` and `netc::nodes::setting-not-applied`: the Plan's one record
//! of what each target cannot take (`CniPlan::not_applied`, decided next to each plugin's
//! settings; `Plan::node_not_applied`, `plan/not_applied.rs`), reported here and only here, so
//! no accepted setting is dropped silently. The upstream facts behind each node case are cited
//! in `addressing.rs` and `bind_address.rs`.

use crate::diagnostic::{Diag, code};
use crate::intent::{Distribution, NetworkIntent};
use crate::plan::Plan;
use crate::plan::not_applied::NodeSetting;

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    cni(intent, plan, out);
    nodes(intent, plan, out);
}

/// An intent value a target of this cluster has no knob for (the Plan's CNI settings list
/// them): never dropped silently.
fn cni(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    for n in &plan.cni.not_applied {
        let d = if let Some(by_hand) = &n.by_hand {
            Diag::warning(
                code::CNI_SETTING_NOT_APPLIED,
                format!(
                    "{} {} does not reach {}: {}",
                    n.setting, n.value, n.target, n.instead
                ),
            )
            .label(n.span, format!("not applied by {}", n.target))
            .help(by_hand.clone())
        } else if n.unused {
            Diag::warning(
                code::CNI_SETTING_NOT_APPLIED,
                format!(
                    "{} {} has no effect on {}: {}",
                    n.setting, n.value, n.target, n.instead
                ),
            )
            .label(n.span, "unused")
            .help(format!("remove {}", n.setting))
        } else {
            Diag::error(
                code::CNI_SETTING_NOT_APPLIED,
                format!(
                    "{} {} cannot be applied: {} has no setting for it",
                    n.setting, n.value, n.target
                ),
            )
            .label(n.span, format!("not applied by {}", n.target))
            .label(intent.cluster.distribution.span, "distribution")
            .help(format!(
                "{}; remove {} or choose a CNI or distribution that takes it",
                n.instead, n.setting
            ))
        };
        out.push(d);
    }
}

/// A node setting the distribution has no knob for: an error naming the node, labelled on the
/// value and on `cluster.distribution`.
fn nodes(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let dist_span = intent.cluster.distribution.span;
    for n in &plan.node_not_applied {
        let name = &n.node;
        let (message, label, help) = match n.setting {
            NodeSetting::SecondaryAddress => (
                format!(
                    "secondaryAddress of node {name}: the manual target writes no kubelet node-ip to carry it"
                ),
                "secondary address",
                String::from("remove secondaryAddress, or give the kubelet --node-ip yourself"),
            ),
            NodeSetting::ExternalAddress => (
                format!(
                    "externalAddress of node {name}: {} has no setting for a node's external address (only a cloud provider sets ExternalIP)",
                    dist_name(n.target)
                ),
                "external address",
                String::from(
                    "remove externalAddress, or set the address through your cloud provider",
                ),
            ),
            NodeSetting::BindAddress(ip) if n.target == Distribution::Rke2 => (
                format!(
                    "bindAddress of node {name}: RKE2 fixes kube-apiserver's bind address at 0.0.0.0 and probes it on https://localhost:{port}, so a kube-apiserver-arg bind-address={ip} would fail its own health checks",
                    port = crate::plan::API_SERVER_PORT
                ),
                "bind address",
                format!(
                    "remove bindAddress (RKE2's API server listens on every address); restrict who reaches tcp/{} with firewall rules",
                    crate::plan::API_SERVER_PORT
                ),
            ),
            NodeSetting::BindAddress(ip) => (
                format!(
                    "bindAddress of node {name}: {} has no bind-address setting, and its control-plane kubeconfigs reach the local API server on localhost, which --bind-address={ip} in extra-node-kube-apiserver-args would close",
                    dist_name(n.target)
                ),
                "bind address",
                String::from(
                    "remove bindAddress (the API server listens on every address); restrict who reaches the API port with firewall rules",
                ),
            ),
        };
        out.push(
            Diag::error(code::NODES_SETTING_NOT_APPLIED, message)
                .label(n.span, label)
                .label(dist_span, "distribution")
                .help(help),
        );
    }
}

fn dist_name(d: Distribution) -> &'static str {
    match d {
        Distribution::Kubeadm => "kubeadm",
        Distribution::Rke2 => "RKE2",
        Distribution::K3s => "k3s",
        Distribution::Canonical => "Canonical Kubernetes",
        Distribution::Manual => "a manual control plane (kubelet)",
    }
}
