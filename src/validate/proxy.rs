//! `netc::proxy::invalid`: a proxy URL or `noProxy` entry curl and Go would not read, or that
//! cannot be written into `proxy.env` as it is (whitespace, control characters, a comma).
//!
//! `netc::proxy::no-proxy-missing`: cluster traffic sent to the HTTP proxy.
//!
//! netc always adds what NO_PROXY needs (`ProxyPlan.added`). When the user wrote a noProxy list
//! that misses some of it, that is a warning: their list says something the emitted files do
//! not. When they wrote none, netc's filling it in is only worth an info.

use crate::diagnostic::{Diag, code};
use crate::intent::values;
use crate::intent::{NetworkIntent, Proxy, Text};
use crate::plan::{Plan, required_no_proxy};

/// Whether the user's entries already cover `required` (the same text, a wider network, or
/// the domain with or without its leading dot).
fn covered(required: &str, user: &[Text]) -> bool {
    let req_net = values::parse_network(required).ok();
    user.iter().any(|u| {
        let u = u.value.trim();
        if u == required || u == "*" {
            return true;
        }
        match (req_net, values::parse_network(u).ok()) {
            (Some(r), Some(n)) => n.contains(&r),
            (None, _) => required
                .strip_prefix('.')
                .is_some_and(|d| d == u.trim_start_matches('.')),
            _ => false,
        }
    })
}

fn invalid(proxy: &Proxy, out: &mut Vec<Diag>) {
    for (key, url) in [("http", &proxy.http), ("https", &proxy.https)] {
        if let Some(url) = url
            && !values::is_proxy_url(&url.value)
        {
            out.push(
                Diag::error(
                    code::PROXY_INVALID,
                    format!(
                        "proxy.{key} `{}` is not a proxy URL",
                        url.value.escape_debug()
                    ),
                )
                .label(url.span, "not scheme://host:port")
                .help(
                    "write `http://host:port` (or https, socks5, socks5h; `user:password@` may \
                     precede the host), without spaces, quotes or control characters",
                ),
            );
        }
    }
    for entry in &proxy.no_proxy {
        if !values::is_no_proxy_entry(&entry.value) {
            out.push(
                Diag::error(
                    code::PROXY_INVALID,
                    format!(
                        "noProxy entry `{}` is not a domain, address or CIDR",
                        entry.value.escape_debug()
                    ),
                )
                .label(entry.span, "invalid entry")
                .help(
                    "one domain (`.corp.internal`), IP address or CIDR per entry, optionally \
                     with `:port`; no spaces, commas or control characters",
                ),
            );
        }
    }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let (Some(proxy), Some(p)) = (&intent.proxy, &plan.proxy) else {
        return;
    };
    invalid(proxy, out);
    if proxy.http.is_none() && proxy.https.is_none() {
        return; // no proxy, nothing to bypass
    }
    if let Some(last) = proxy.no_proxy.last() {
        let missing: Vec<String> = required_no_proxy(plan)
            .into_iter()
            .filter(|r| !covered(r, &proxy.no_proxy))
            .collect();
        if missing.is_empty() {
            return;
        }
        out.push(
            Diag::warning(
                code::PROXY_NO_PROXY_MISSING,
                format!(
                    "noProxy lacks cluster networks and domains: {}",
                    missing.join(", ")
                ),
            )
            .label(last.span, "noProxy list")
            .help(format!(
                "netc adds them to the NO_PROXY it writes, but anything else reading this list would send cluster traffic to the proxy; add {} to noProxy",
                missing.join(", ")
            )),
        );
    } else if !p.added.is_empty() {
        let span = proxy
            .http
            .as_ref()
            .or(proxy.https.as_ref())
            .map(|t| t.span)
            .unwrap_or_default();
        out.push(
            Diag::info(
                code::PROXY_NO_PROXY_MISSING,
                format!("netc sets NO_PROXY to {}", p.added.join(",")),
            )
            .label(span, "proxy without noProxy")
            .help("list your own exceptions under proxy.noProxy; netc keeps the cluster's networks in it"),
        );
    }
}
