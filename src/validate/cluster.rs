//! Cluster-wide values written verbatim into the distribution files:
//! `netc::endpoint::invalid` (`controlPlaneEndpoint` is not `host` or `host:port`) and
//! `netc::kube-proxy::invalid` (an `ipvsScheduler` kube-proxy does not know; netc also loads
//! its kernel module `ip_vs_<scheduler>` on every node).

use crate::diagnostic::{Diag, code};
use crate::intent::NetworkIntent;
use crate::intent::values::{IPVS_SCHEDULERS, is_endpoint};
use crate::plan::Plan;

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    if let Some(endpoint) = &intent.cluster.control_plane_endpoint
        && !is_endpoint(&endpoint.value)
    {
        out.push(
            Diag::error(
                code::ENDPOINT_INVALID,
                format!(
                    "controlPlaneEndpoint `{}` is not `host` or `host:port`",
                    endpoint.value
                ),
            )
            .label(endpoint.span, "not host:port")
            .help(
                "write the API server's address as kubeadm reads it: an IP address or DNS name, \
                 optionally `:port` (1-65535), e.g. `10.0.1.100:6443` or `[fd00::1]:6443`",
            ),
        );
    }
    let scheduler = intent
        .cluster
        .kube_proxy
        .as_ref()
        .and_then(|k| k.ipvs_scheduler.as_ref());
    if let Some(s) = scheduler
        && !IPVS_SCHEDULERS.contains(&s.value.as_str())
    {
        out.push(
            Diag::error(
                code::KUBE_PROXY_INVALID,
                format!(
                    "ipvsScheduler `{}` is not an IPVS scheduler kube-proxy accepts",
                    s.value
                ),
            )
            .label(s.span, "unknown scheduler")
            .help(format!("use one of {}", IPVS_SCHEDULERS.join(", "))),
        );
    }
}
