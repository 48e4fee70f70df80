//! Policies: `netc::policy::invalid` (what the API server would refuse in the NetworkPolicies
//! netc writes, plus names that would collide) and `netc::policy::dns-blocked`.
//!
//! Label rules are Kubernetes': a key is an optional DNS-1123 subdomain prefix and `/`, then a
//! name of at most 63 of `[A-Za-z0-9._-]` with alphanumeric ends; a value is empty or such a
//! name. An IP block peer stands alone, and each `except` lies strictly inside its `cidr`.

use std::collections::HashMap;

use crate::diagnostic::{Diag, code};
use crate::intent::values::{self, PolicyPort, Protocol, is_dns1123_subdomain};
use crate::intent::{Direction, Labels, NetworkIntent, Peer, PeerList, Policy, Span, Text};
use crate::plan::Plan;

/// `[A-Za-z0-9._-]{1,63}` with alphanumeric ends: a label name, and a non-empty label value.
pub(super) fn is_qualified_name(s: &str) -> bool {
    let alnum_ends = s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric());
    !s.is_empty()
        && s.len() <= 63
        && alnum_ends
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(super) fn key_problem(key: &str) -> Option<&'static str> {
    match key.split_once('/') {
        None => (!is_qualified_name(key)).then_some(
            "a label key is at most 63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit",
        ),
        Some((prefix, name)) => {
            if name.contains('/') {
                Some("a label key has at most one `/`")
            } else if !is_dns1123_subdomain(prefix) {
                Some("a label key's prefix (before `/`) is a DNS-1123 subdomain such as `app.kubernetes.io`")
            } else if !is_qualified_name(name) {
                Some("a label key's name (after `/`) is at most 63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit")
            } else {
                None
            }
        }
    }
}

fn labels(what: &str, l: &Labels, out: &mut Vec<Diag>) {
    for (k, v) in l {
        if let Some(why) = key_problem(&k.value) {
            out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!("`{}` ({what}) is not a valid label key", k.value),
                )
                .label(k.span, "invalid label key")
                .help(why),
            );
        }
        if !v.value.is_empty() && !is_qualified_name(&v.value) {
            out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!("`{}` ({what}, key {}) is not a valid label value", v.value, k.value),
                )
                .label(v.span, "invalid label value")
                .help("a label value is empty or at most 63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit"),
            );
        }
    }
}

fn ports(rule: &Text, texts: &[Text], out: &mut Vec<Diag>) {
    for t in texts {
        if let Err(e) = values::parse_policy_port(&t.value) {
            out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!("port `{}` of rule {}: {e}", t.value, rule.value),
                )
                .label(t.span, "invalid port")
                .help("write `tcp/8080`, `udp/53`, a range `tcp/8000-8080`, or a named port `tcp/http`"),
            );
        }
    }
}

/// The first span a selector offers (its first key), to point at it.
fn labels_span(l: &Labels) -> Span {
    l.keys().next().map_or(Span::default(), |k| k.span)
}

fn peer(rule: &Text, p: &Peer, out: &mut Vec<Diag>) {
    if let Some(pods) = &p.pods {
        labels("pod selector", pods, out);
    }
    if let Some(ns) = &p.namespace
        && let Some(l) = &ns.labels
    {
        labels("namespace selector", l, out);
    }
    let selector_span = p.pods.as_ref().map(labels_span).or_else(|| {
        p.namespace.as_ref().map(|ns| {
            ns.name
                .as_ref()
                .map(|n| n.span)
                .or_else(|| ns.labels.as_ref().map(labels_span))
                .unwrap_or_default()
        })
    });
    match &p.cidr {
        Some(cidr) => {
            if let Some(sel) = selector_span {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!(
                            "a peer of rule {} has both cidr {} and a pod/namespace selector",
                            rule.value, cidr.value
                        ),
                    )
                    .label(cidr.span, "ip block")
                    .label(sel, "selector")
                    .help("an IP block peer stands alone: split it into two peers"),
                );
            }
            let Ok(block) = values::parse_network(&cidr.value) else {
                return; // cidr::invalid
            };
            for e in &p.except {
                let Ok(ex) = values::parse_network(&e.value) else {
                    continue;
                };
                if !block.contains(&ex) || ex == block {
                    out.push(
                        Diag::error(
                            code::POLICY_INVALID,
                            format!(
                                "except {ex} is not strictly inside cidr {block} (rule {})",
                                rule.value
                            ),
                        )
                        .label(e.span, "not inside the block")
                        .label(cidr.span, "cidr")
                        .help(format!(
                            "list only subnets of {block} smaller than it, or widen cidr"
                        )),
                    );
                }
            }
        }
        None => {
            if let Some(e) = p.except.first() {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!(
                            "except {} in rule {} has no cidr to be carved from",
                            e.value, rule.value
                        ),
                    )
                    .label(e.span, "except without cidr")
                    .help("add the `cidr` the exceptions belong to"),
                );
            } else if selector_span.is_none() {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!("rule {} has an empty peer", rule.value),
                    )
                    .label(rule.span, "rule with an empty peer")
                    .help("a peer names `pods`, a `namespace`, or a `cidr`"),
                );
            }
        }
    }
}

/// Whether an egress rule for all pods lets DNS out (udp/53, or every port).
fn allows_dns(policy: &Policy) -> bool {
    policy.egress.iter().any(|r| {
        r.from.is_none()
            && !r.to.is_absent()
            && (r.ports.is_empty()
                || r.ports
                    .iter()
                    .any(|p| match values::parse_policy_port(&p.value) {
                        Ok(PolicyPort::Numeric(range)) => {
                            range.protocol == Protocol::Udp && range.first <= 53 && 53 <= range.last
                        }
                        Ok(PolicyPort::Named { protocol, name }) => {
                            protocol == Protocol::Udp && (name == "dns" || name == "domain")
                        }
                        Err(_) => false,
                    }))
    })
}

/// Ports on a rule whose peer key is absent would mean nothing (the rule admits nobody):
/// refuse them rather than drop them, and say how to write "from anywhere".
fn ports_without_peers(
    rule: &Text,
    peers: &PeerList,
    key: &str,
    ports: &[Text],
    out: &mut Vec<Diag>,
) {
    let Some(first) = ports.first() else {
        return;
    };
    if !peers.is_absent() {
        return;
    }
    out.push(
        Diag::error(
            code::POLICY_INVALID,
            format!(
                "rule {} lists ports but no `{key}`: it admits nobody, so its ports would mean nothing",
                rule.value
            ),
        )
        .label(first.span, "ports of a rule without peers")
        .label(rule.span, "rule")
        .help(format!(
            "write `{key}: []` to allow these ports for every peer, or list the peers in `{key}`"
        )),
    );
}

fn dns_blocked(policy: &Policy, out: &mut Vec<Diag>) {
    let denies_egress = policy
        .default_deny
        .iter()
        .any(|d| d.value == Direction::Egress);
    let Some(allow) = policy.allow_dns.as_ref().filter(|a| !a.value) else {
        return;
    };
    if !denies_egress || allows_dns(policy) {
        return;
    }
    out.push(
        Diag::warning(
            code::POLICY_DNS_BLOCKED,
            format!(
                "namespace {} denies egress and allowDNS is false: its pods cannot resolve names",
                policy.namespace.value
            ),
        )
        .label(allow.span, "DNS not allowed")
        .help("set `allowDNS: true` (netc then allows udp/53 and tcp/53 to cluster DNS), unless name resolution really is unwanted"),
    );
}

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let mut namespaces: HashMap<&str, Span> = HashMap::new();
    for policy in &intent.policies {
        if let Some(first) =
            namespaces.insert(policy.namespace.value.as_str(), policy.namespace.span)
        {
            out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!(
                        "namespace {} has two policy entries",
                        policy.namespace.value
                    ),
                )
                .label(policy.namespace.span, "declared again")
                .label(first, "first declared here")
                .help("merge the two entries' rules into one"),
            );
        }
        let mut rule_names: HashMap<&str, Span> = HashMap::new();
        let names = policy
            .rules
            .iter()
            .map(|r| &r.name)
            .chain(policy.egress.iter().map(|r| &r.name));
        for name in names {
            if let Some(first) = rule_names.insert(name.value.as_str(), name.span) {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!("rule name {} is used twice in namespace {}", name.value, policy.namespace.value),
                    )
                    .label(name.span, "used again")
                    .label(first, "first used here")
                    .help("rule names become NetworkPolicy names: make each unique within its namespace"),
                );
            }
        }
        for rule in &policy.rules {
            if let Some(to) = &rule.to {
                labels("rule `to` selector", to, out);
            }
            ports(&rule.name, &rule.ports, out);
            ports_without_peers(&rule.name, &rule.from, "from", &rule.ports, out);
            for p in &rule.from {
                peer(&rule.name, p, out);
            }
        }
        for rule in &policy.egress {
            if let Some(from) = &rule.from {
                labels("rule `from` selector", from, out);
            }
            ports(&rule.name, &rule.ports, out);
            ports_without_peers(&rule.name, &rule.to, "to", &rule.ports, out);
            for p in &rule.to {
                peer(&rule.name, p, out);
            }
        }
        dns_blocked(policy, out);
    }
}
