//! `netc::kube-proxy::invalid` and `netc::kube-proxy::mode-mismatch`: kube-proxy settings that
//! kube-proxy itself would refuse, or ignore.
//!
//! The rules are kube-proxy's own (kubernetes/kubernetes `pkg/proxy/apis/config/validation/
//! validation.go`): conntrack `maxPerCore`/`min` ≥ 0 and int32, timeouts ≥ 0; IPVS
//! `syncPeriod` greater than 0, `minSyncPeriod` ≥ 0 and ≤ `syncPeriod` (default 30s),
//! `excludeCIDRs` valid CIDRs.
//! Durations are Go durations. IPVS settings outside mode ipvs are never read by kube-proxy:
//! netc would drop them silently, so they are an error.

use crate::diagnostic::{Diag, code};
use crate::intent::values::{self, CidrError};
use crate::intent::{KubeProxyMode, NetworkIntent, Spanned, Text};
use crate::plan::Plan;

/// kube-proxy's default `ipvs.syncPeriod` (`pkg/proxy/apis/config/v1alpha1/defaults.go`).
const DEFAULT_IPVS_SYNC_NANOS: i128 = 30_000_000_000;

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let Some(kp) = &intent.cluster.kube_proxy else {
        return;
    };
    if let Some(ct) = &kp.conntrack {
        for (name, v) in [("maxPerCore", &ct.max_per_core), ("min", &ct.min)] {
            if let Some(v) = v {
                check_int32(name, v, out);
            }
        }
        for (name, t) in [
            ("tcpEstablishedTimeout", &ct.tcp_established_timeout),
            ("tcpCloseWaitTimeout", &ct.tcp_close_wait_timeout),
        ] {
            if let Some(t) = t
                && let Some(d) = duration(name, t, out)
                && d < 0
            {
                out.push(invalid(
                    t,
                    format!("kubeProxy.conntrack.{name} `{}` is negative", t.value),
                    "use 0s to leave the kernel's value alone, or a positive duration",
                ));
            }
        }
    }
    let mode = kp
        .mode
        .as_ref()
        .map_or(KubeProxyMode::Iptables, |m| m.value);
    if mode != KubeProxyMode::Ipvs {
        let ipvs_only: [(&str, Option<crate::intent::Span>); 3] = [
            ("ipvs", kp.ipvs.as_ref().and_then(first_span)),
            ("ipvsScheduler", kp.ipvs_scheduler.as_ref().map(|t| t.span)),
            ("strictARP", kp.strict_arp.as_ref().map(|t| t.span)),
        ];
        for (name, span) in ipvs_only {
            if let Some(span) = span {
                let mut d = Diag::error(
                    code::KUBE_PROXY_MODE_MISMATCH,
                    format!(
                        "kubeProxy.{name} is an IPVS setting but kube-proxy runs in {} mode, which never reads it",
                        mode_name(mode)
                    ),
                )
                .label(span, "IPVS setting");
                if let Some(m) = &kp.mode {
                    d = d.label(m.span, "proxy mode");
                }
                out.push(d.help(format!(
                    "set kubeProxy.mode: ipvs, or remove kubeProxy.{name}"
                )));
            }
        }
    }
    let Some(ipvs) = &kp.ipvs else {
        return;
    };
    let sync = ipvs
        .sync_period
        .as_ref()
        .and_then(|t| duration("syncPeriod", t, out).map(|d| (d, t)));
    if let Some((d, t)) = sync
        && d <= 0
    {
        out.push(invalid(
            t,
            format!(
                "kubeProxy.ipvs.syncPeriod `{}` must be greater than 0",
                t.value
            ),
            "kube-proxy refuses a zero or negative resync period; its default is 30s",
        ));
    }
    if let Some(t) = &ipvs.min_sync_period
        && let Some(min) = duration("minSyncPeriod", t, out)
    {
        let limit = sync.map_or(DEFAULT_IPVS_SYNC_NANOS, |(d, _)| d);
        if min < 0 {
            out.push(invalid(
                t,
                format!("kubeProxy.ipvs.minSyncPeriod `{}` is negative", t.value),
                "use 0s (resync on every change) or a positive duration",
            ));
        } else if min > limit {
            let sync_text = sync.map_or_else(
                || "30s (the default)".to_owned(),
                |(_, t)| format!("`{}`", t.value),
            );
            let mut d = invalid(
                t,
                format!(
                    "kubeProxy.ipvs.minSyncPeriod `{}` is longer than syncPeriod {sync_text}",
                    t.value
                ),
                "kube-proxy requires minSyncPeriod <= syncPeriod; lower minSyncPeriod or raise syncPeriod",
            );
            if let Some((_, s)) = sync {
                d = d.label(s.span, "syncPeriod");
            }
            out.push(d);
        }
    }
    for c in &ipvs.exclude_cidrs {
        if let Err(e) = values::parse_network(c) {
            let why = match e {
                CidrError::HostBits { network } => {
                    format!("has host bits set (the network is {network})")
                }
                _ => "is not a CIDR".to_owned(),
            };
            out.push(invalid(
                c,
                format!("kubeProxy.ipvs.excludeCIDRs entry `{}` {why}", c.value),
                "write each entry as network/prefix, e.g. 10.0.5.0/24",
            ));
        }
    }
}

fn mode_name(mode: KubeProxyMode) -> &'static str {
    match mode {
        KubeProxyMode::Iptables => "iptables",
        KubeProxyMode::Ipvs => "ipvs",
        KubeProxyMode::Nftables => "nftables",
    }
}

fn first_span(ipvs: &crate::intent::KubeProxyIpvs) -> Option<crate::intent::Span> {
    ipvs.sync_period
        .as_ref()
        .or(ipvs.min_sync_period.as_ref())
        .or(ipvs.exclude_cidrs.first())
        .map(|t| t.span)
}

fn invalid(t: &Text, message: String, help: &str) -> Diag {
    Diag::error(code::KUBE_PROXY_INVALID, message)
        .label(t.span, "kube-proxy setting")
        .help(help)
}

/// The duration in nanoseconds, or an `invalid` finding when `t` is not a Go duration.
fn duration(name: &str, t: &Text, out: &mut Vec<Diag>) -> Option<i128> {
    match values::parse_go_duration(t) {
        Ok(d) => Some(d),
        Err(why) => {
            out.push(invalid(
                t,
                format!("kubeProxy {name}: {why}"),
                "write a Go duration: a number with a unit of ns, us, ms, s, m or h, e.g. 30s or 1h30m",
            ));
            None
        }
    }
}

/// kube-proxy's counts are `*int32` and must not be negative.
fn check_int32(name: &str, v: &Spanned<i64>, out: &mut Vec<Diag>) {
    if v.value < 0 || v.value > i64::from(i32::MAX) {
        out.push(
            Diag::error(
                code::KUBE_PROXY_INVALID,
                format!(
                    "kubeProxy.conntrack.{name} {} is outside 0..={}",
                    v.value,
                    i32::MAX
                ),
            )
            .label(v.span, "kube-proxy setting")
            .help(
                "kube-proxy takes a non-negative 32-bit count; 0 leaves the kernel's limit alone",
            ),
        );
    }
}
