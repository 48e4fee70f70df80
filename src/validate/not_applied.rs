//! `netc::cni::setting-not-applied`, `netc::nodes::setting-not-applied`,
//! `netc::kube-proxy::setting-not-applied`, `netc::endpoint::port-unsupported` and
//! `netc::firewall::setting-not-applied`: the Plan's
//! one record of what each target cannot take (`CniPlan::not_applied`, decided next to each
//! plugin's settings; `Plan::not_applied`, `plan/not_applied.rs`, with the upstream facts
//! behind each decision), reported here and only here, so no accepted setting is dropped
//! silently. This file decides nothing: it words what the Plan recorded.
//!
//! Three entry points keep each finding where the report has always listed it: [`check`] (CNI
//! and node settings) after the CNI family, [`kube_proxy`] and [`api_server_port`] among the
//! target-profile findings (`profile.rs` calls them), [`firewall`] where the firewall family
//! stood.

use crate::diagnostic::{Diag, code};
use crate::intent::NetworkIntent;
use crate::plan::Plan;
use crate::plan::not_applied::{BindAddressGap, FirewallSetting, NodeSetting};

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
    for n in &plan.not_applied.nodes {
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
                    crate::plan::profile::distribution_names(n.target).node_settings
                ),
                "external address",
                String::from(
                    "remove externalAddress, or set the address through your cloud provider",
                ),
            ),
            NodeSetting::BindAddress(ip, BindAddressGap::FixedAtEveryAddress) => (
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
            NodeSetting::BindAddress(ip, BindAddressGap::NoSetting) => (
                format!(
                    "bindAddress of node {name}: {} has no bind-address setting, and its control-plane kubeconfigs reach the local API server on localhost, which --bind-address={ip} in extra-node-kube-apiserver-args would close",
                    crate::plan::profile::distribution_names(n.target).node_settings
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

/// `cluster.kubeProxy` on a target that runs no kube-proxy: a warning labelled on every
/// kube-proxy setting the Plan recorded, one label each, and on `kubernetesVersion`. Called by
/// `profile.rs`, in the place of the target-profile findings it has always had.
pub(super) fn kube_proxy(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(n) = &plan.not_applied.kube_proxy else {
        return;
    };
    let mut d = Diag::warning(
        code::KUBE_PROXY_NOT_APPLIED,
        format!(
            "cluster.kubeProxy is not applied: Canonical Kubernetes {} runs no kube-proxy (Cilium replaces it; `extra-node-kube-proxy-args` is no longer used)",
            n.version
        ),
    );
    for s in &n.settings {
        d = d.label(s.span, format!("kubeProxy.{}", s.name));
    }
    d = d.label(intent.cluster.kubernetes_version.span, "kubernetesVersion");
    out.push(d.help("remove cluster.kubeProxy, or configure Cilium's kube-proxy replacement"));
}

/// The API server's port from a control-plane endpoint at a node's own address, on a target
/// without a port setting netc writes: an error labelled on the endpoint and on
/// `cluster.distribution`. Called by `profile.rs`, in its place among the profile's findings.
pub(super) fn api_server_port(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(n) = &plan.not_applied.api_server_port else {
        return;
    };
    let default = crate::plan::API_SERVER_PORT;
    out.push(
        Diag::error(
            code::ENDPOINT_PORT_UNSUPPORTED,
            format!(
                "controlPlaneEndpoint `{}` is a control-plane node's own address, so its API server must listen on {}; netc cannot move {}'s API server off {default}",
                n.endpoint,
                n.port,
                n.target.name(),
            ),
        )
        .label(n.span, "the node itself, another port")
        .label(intent.cluster.distribution.span, "distribution")
        .help(format!(
            "use port {default} on a node's own address, or put a load balancer's address in controlPlaneEndpoint"
        )),
    );
}

/// A `firewall:` setting the backend has no knob for: a warning labelled on the value and on
/// `firewall.backend`. A rule family of its own, where the firewall family stood.
pub(super) fn firewall(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(fw) = &intent.firewall else {
        return;
    };
    for n in &plan.not_applied.firewall {
        match &n.setting {
            FirewallSetting::Zone(zone) => out.push(
                Diag::warning(
                    code::FIREWALL_NOT_APPLIED,
                    format!(
                        "`firewall.zone: {zone}` has no effect with the nftables backend: zones are firewalld's"
                    ),
                )
                .label(n.span, "a firewalld zone")
                .label(fw.backend.span, "nftables backend")
                .help(
                    "remove `zone`, or use `backend: firewalld` to have netc's rules in that zone",
                ),
            ),
        }
    }
}
