//! Policies: `netc::policy::invalid` (what the API server would refuse in the NetworkPolicies
//! netc writes, plus names that would collide) and `netc::policy::dns-blocked`.
//!
//! Label rules are Kubernetes': a key is an optional DNS-1123 subdomain prefix and `/`, then a
//! name of at most 63 of `[A-Za-z0-9._-]` with alphanumeric ends; a value is empty or such a
//! name. An IP block peer stands alone, and each `except` lies strictly inside its `cidr`.

use std::collections::HashMap;

use crate::diagnostic::{Diag, code};
use crate::intent::values::{self, PolicyPort, Protocol, is_dns1123_subdomain};
use crate::intent::{
    Direction, Labels, NetworkIntent, Peer, PeerList, Policy, SelectorExpression, Span, Text,
};
use crate::plan::{Operator, Plan};

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
                .help("write `tcp/8080`, `udp/53`, a range `tcp/8000-8080`, a named port `tcp/http`, or a protocol alone `tcp` (every port)"),
            );
        }
    }
}

/// The first span a selector offers (its first key), to point at it.
fn labels_span(l: &Labels) -> Span {
    l.keys().next().map_or(Span::default(), |k| k.span)
}

fn peer(rule: &Text, p: &Peer, out: &mut Vec<Diag>) {
    selector("pod selector", p.pods.as_ref(), &p.pod_expressions, out);
    if let Some(ns) = &p.namespace {
        selector(
            "namespace selector",
            ns.labels.as_ref(),
            &ns.expressions,
            out,
        );
    }
    let selector_span = p
        .pods
        .as_ref()
        .map(labels_span)
        .or_else(|| p.pod_expressions.first().map(|e| e.key.span))
        .or_else(|| {
            p.namespace.as_ref().map(|ns| {
                ns.name
                    .as_ref()
                    .map(|n| n.span)
                    .or_else(|| ns.labels.as_ref().map(labels_span))
                    .or_else(|| ns.expressions.first().map(|e| e.key.span))
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
            // Host bits are allowed here (policy::cidr-host-bits warns); what counts is the
            // network, as for the API server: an except strictly longer and inside it.
            let Ok(block) = values::parse_block(&cidr.value).map(|b| b.trunc()) else {
                return; // cidr::invalid
            };
            for e in &p.except {
                let Ok(ex) = values::parse_block(&e.value).map(|e| e.trunc()) else {
                    continue;
                };
                if !block.contains(&ex) || ex.prefix_len() <= block.prefix_len() {
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
            && r.from_expressions.is_empty()
            && !r.to.is_absent()
            && (r.ports.is_empty()
                || r.ports
                    .iter()
                    .any(|p| match values::parse_policy_port(&p.value) {
                        Ok(PolicyPort::Numeric(range)) => {
                            range.protocol == Protocol::Udp
                                && range.first <= crate::plan::DNS_PORT
                                && crate::plan::DNS_PORT <= range.last
                        }
                        Ok(PolicyPort::All(protocol)) => protocol == Protocol::Udp,
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

/// The text a diagnostic calls a rule by, and where it points: the rule's name, else (a rule
/// of a named entry without one) `ingress rule N of NAME` at the entry's name.
pub(super) fn rule_text(
    policy: &Policy,
    name: Option<&Text>,
    dir: Direction,
    index: usize,
) -> Text {
    match (name, &policy.name) {
        (Some(n), _) => n.clone(),
        (None, Some(object)) => Text::new(
            format!(
                "{} of {}",
                crate::plan::rule_name(None, dir, index),
                object.value
            ),
            object.span,
        ),
        (None, None) => Text::new(
            crate::plan::rule_name(None, dir, index),
            policy.namespace.span,
        ),
    }
}

/// `matchExpressions` as the API server validates them (ValidateLabelSelectorRequirement in
/// kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/apis/meta/v1/validation/
/// validation.go): the operator is one of `In`, `NotIn`, `Exists`, `DoesNotExist`; `values`
/// must be non-empty for In/NotIn and empty for Exists/DoesNotExist; the key is a label key and
/// each value a label value.
fn expressions(what: &str, list: &[SelectorExpression], out: &mut Vec<Diag>) {
    for e in list {
        if let Some(why) = key_problem(&e.key.value) {
            out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!(
                        "`{}` ({what} expression) is not a valid label key",
                        e.key.value
                    ),
                )
                .label(e.key.span, "invalid label key")
                .help(why),
            );
        }
        for v in &e.values {
            if !v.value.is_empty() && !is_qualified_name(&v.value) {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!("`{}` ({what} expression on {}) is not a valid label value", v.value, e.key.value),
                    )
                    .label(v.span, "invalid label value")
                    .help("a label value is empty or at most 63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit"),
                );
            }
        }
        match Operator::parse(&e.operator.value) {
            None => out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!(
                        "`{}` ({what} expression on {}) is not a valid selector operator",
                        e.operator.value, e.key.value
                    ),
                )
                .label(e.operator.span, "invalid operator")
                .help("the operators are `In`, `NotIn`, `Exists` and `DoesNotExist`, spelled so"),
            ),
            Some(op) if op.takes_values() && e.values.is_empty() => out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!(
                        "{what} expression `{} {}` has no values",
                        e.key.value,
                        op.as_str()
                    ),
                )
                .label(e.operator.span, "needs `values`")
                .help(format!(
                    "`values` must be specified when the operator is `In` or `NotIn`: list them, or use `{}`",
                    if op == Operator::In { "Exists" } else { "DoesNotExist" }
                )),
            ),
            Some(op) if !op.takes_values() && !e.values.is_empty() => {
                let mut d = Diag::error(
                    code::POLICY_INVALID,
                    format!(
                        "{what} expression `{} {}` lists values",
                        e.key.value,
                        op.as_str()
                    ),
                )
                .label(e.values[0].span, "values not allowed here")
                .label(e.operator.span, "operator");
                d = d.help(format!(
                    "`values` may not be specified when the operator is `Exists` or `DoesNotExist`: drop them, or use `{}`",
                    if op == Operator::Exists { "In" } else { "NotIn" }
                ));
                out.push(d);
            }
            Some(_) => {}
        }
    }
}

/// A selector's labels and expressions.
fn selector(
    what: &str,
    labels_: Option<&Labels>,
    exprs: &[SelectorExpression],
    out: &mut Vec<Diag>,
) {
    if let Some(l) = labels_ {
        labels(what, l, out);
    }
    expressions(what, exprs, out);
}

fn forbidden(span: Span, message: String, label: &str, help: &str, out: &mut Vec<Diag>) {
    out.push(
        Diag::error(code::POLICY_INVALID, message)
            .label(span, label.to_owned())
            .help(help.to_owned()),
    );
}

/// The keys only one of the two entry forms has.
fn entry_form(policy: &Policy, out: &mut Vec<Diag>) {
    match &policy.name {
        Some(name) => {
            let what = &name.value;
            for d in &policy.default_deny {
                forbidden(
                    d.span,
                    format!("named policy {what} has `defaultDeny`"),
                    "defaultDeny in a named policy",
                    "a named policy is one NetworkPolicy: isolate with `policyTypes` (a type with no rules denies that direction), or put `defaultDeny` in an entry without `name`",
                    out,
                );
            }
            if let Some(a) = &policy.allow_dns {
                forbidden(
                    a.span,
                    format!("named policy {what} has `allowDNS`"),
                    "allowDNS in a named policy",
                    "`allowDNS` belongs to the namespace's unnamed entry; in a named policy write the DNS egress rule itself",
                    out,
                );
            }
            for (i, r) in policy.rules.iter().enumerate() {
                let span =
                    r.to.as_ref()
                        .map(labels_span)
                        .or_else(|| r.to_expressions.first().map(|e| e.key.span));
                if let Some(span) = span {
                    forbidden(
                        span,
                        format!(
                            "ingress rule {} of named policy {what} selects its own pods",
                            i + 1
                        ),
                        "rule selector in a named policy",
                        "in a named policy, `podSelector`/`podExpressions` select the pods of every rule: move the labels there, or make a separate policy",
                        out,
                    );
                }
            }
            for (i, r) in policy.egress.iter().enumerate() {
                let span = r
                    .from
                    .as_ref()
                    .map(labels_span)
                    .or_else(|| r.from_expressions.first().map(|e| e.key.span));
                if let Some(span) = span {
                    forbidden(
                        span,
                        format!(
                            "egress rule {} of named policy {what} selects its own pods",
                            i + 1
                        ),
                        "rule selector in a named policy",
                        "in a named policy, `podSelector`/`podExpressions` select the pods of every rule: move the labels there, or make a separate policy",
                        out,
                    );
                }
            }
            let (ingress, egress) = crate::plan::policy_types(policy);
            if !ingress && let Some(r) = policy.rules.first() {
                let span = r.name.as_ref().map_or(name.span, |n| n.span);
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!("named policy {what} has ingress rules but its policyTypes leave out ingress"),
                    )
                    .label(span, "ingress rule")
                    .label(policy.policy_types.first().map_or(name.span, |t| t.span), "policyTypes")
                    .help("add `ingress` to `policyTypes`: Kubernetes ignores the rules of a type the policy does not list"),
                );
            }
            if !egress && let Some(r) = policy.egress.first() {
                let span = r.name.as_ref().map_or(name.span, |n| n.span);
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!("named policy {what} has egress rules but its policyTypes leave out egress"),
                    )
                    .label(span, "egress rule")
                    .label(policy.policy_types.first().map_or(name.span, |t| t.span), "policyTypes")
                    .help("add `egress` to `policyTypes`: Kubernetes ignores the rules of a type the policy does not list"),
                );
            }
        }
        None => {
            let span = policy
                .pod_selector
                .as_ref()
                .map(labels_span)
                .or_else(|| policy.pod_expressions.first().map(|e| e.key.span))
                .or_else(|| policy.policy_types.first().map(|t| t.span));
            if let Some(span) = span {
                forbidden(
                    span,
                    format!(
                        "a policy entry of namespace {} without `name` has `podSelector`, `podExpressions` or `policyTypes`",
                        policy.namespace.value
                    ),
                    "needs a named policy",
                    "give the entry a `name` (it is then one NetworkPolicy of that name), or select pods per rule with `to` (ingress) / `from` (egress)",
                    out,
                );
            }
            let unnamed = policy
                .rules
                .iter()
                .map(|r| (r.name.is_none(), Direction::Ingress))
                .chain(
                    policy
                        .egress
                        .iter()
                        .map(|r| (r.name.is_none(), Direction::Egress)),
                );
            let mut counts = [0usize, 0usize];
            for (missing, dir) in unnamed {
                let k = usize::from(dir == Direction::Egress);
                counts[k] += 1;
                if missing {
                    forbidden(
                        policy.namespace.span,
                        format!(
                            "{} rule {} of namespace {}'s unnamed entry has no name",
                            if k == 0 { "ingress" } else { "egress" },
                            counts[k],
                            policy.namespace.value
                        ),
                        "entry with an unnamed rule",
                        "in an entry without `name`, each rule is its own NetworkPolicy named after the rule: give it a `name`, or give the entry a `name` to make it one policy",
                        out,
                    );
                }
            }
        }
    }
}

/// The NetworkPolicy names an entry writes, with the spans they come from.
fn object_names(policy: &Policy) -> Vec<(String, Span)> {
    if let Some(name) = &policy.name {
        return vec![(name.value.clone(), name.span)];
    }
    let mut out = Vec::new();
    for d in &policy.default_deny {
        match d.value {
            Direction::Ingress => out.push(("default-deny-ingress".to_owned(), d.span)),
            Direction::Egress => {
                out.push(("default-deny-egress".to_owned(), d.span));
                if policy.allow_dns.as_ref().is_none_or(|a| a.value) {
                    out.push((
                        "allow-dns".to_owned(),
                        policy.allow_dns.as_ref().map_or(d.span, |a| a.span),
                    ));
                }
            }
        }
    }
    let names = policy
        .rules
        .iter()
        .filter_map(|r| r.name.as_ref())
        .chain(policy.egress.iter().filter_map(|r| r.name.as_ref()));
    out.extend(names.map(|n| (n.value.clone(), n.span)));
    out
}

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let mut namespaces: HashMap<&str, Span> = HashMap::new();
    // NetworkPolicy names per namespace, across entries.
    let mut objects: HashMap<(&str, String), Span> = HashMap::new();
    for policy in &intent.policies {
        if policy.name.is_none()
            && let Some(first) =
                namespaces.insert(policy.namespace.value.as_str(), policy.namespace.span)
        {
            out.push(
                Diag::error(
                    code::POLICY_INVALID,
                    format!(
                        "namespace {} has two policy entries without `name`",
                        policy.namespace.value
                    ),
                )
                .label(policy.namespace.span, "declared again")
                .label(first, "first declared here")
                .help("merge the two entries' rules into one, or give one a `name` (one NetworkPolicy of that name)"),
            );
        }
        entry_form(policy, out);
        let mut seen_here: HashMap<String, Span> = HashMap::new();
        for (name, span) in object_names(policy) {
            if let Some(first) = seen_here.insert(name.clone(), span) {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!("rule name {name} is used twice in namespace {}", policy.namespace.value),
                    )
                    .label(span, "used again")
                    .label(first, "first used here")
                    .help("rule names become NetworkPolicy names: make each unique within its namespace"),
                );
                continue;
            }
            if let Some(first) =
                objects.insert((policy.namespace.value.as_str(), name.clone()), span)
            {
                out.push(
                    Diag::error(
                        code::POLICY_INVALID,
                        format!(
                            "NetworkPolicy {}/{name} would be written by two entries",
                            policy.namespace.value
                        ),
                    )
                    .label(span, "written again")
                    .label(first, "first written here")
                    .help("NetworkPolicy names are unique within a namespace: rename one"),
                );
            }
        }
        selector(
            "policy podSelector",
            policy.pod_selector.as_ref(),
            &policy.pod_expressions,
            out,
        );
        for (i, rule) in policy.rules.iter().enumerate() {
            let name = rule_text(policy, rule.name.as_ref(), Direction::Ingress, i);
            selector(
                "rule `to` selector",
                rule.to.as_ref(),
                &rule.to_expressions,
                out,
            );
            ports(&name, &rule.ports, out);
            ports_without_peers(&name, &rule.from, "from", &rule.ports, out);
            no_peers_in_named(policy, &name, &rule.from, "from", &rule.ports, out);
            for p in &rule.from {
                peer(&name, p, out);
            }
        }
        for (i, rule) in policy.egress.iter().enumerate() {
            let name = rule_text(policy, rule.name.as_ref(), Direction::Egress, i);
            selector(
                "rule `from` selector",
                rule.from.as_ref(),
                &rule.from_expressions,
                out,
            );
            ports(&name, &rule.ports, out);
            ports_without_peers(&name, &rule.to, "to", &rule.ports, out);
            no_peers_in_named(policy, &name, &rule.to, "to", &rule.ports, out);
            for p in &rule.to {
                peer(&name, p, out);
            }
        }
        dns_blocked(policy, out);
    }
}

/// In a named policy every rule is a rule of the object, so a rule admitting nobody (its peer
/// key absent) would be a rule Kubernetes reads as "everyone": refuse it (with ports,
/// `ports_without_peers` already did).
fn no_peers_in_named(
    policy: &Policy,
    rule: &Text,
    peers: &PeerList,
    key: &str,
    ports: &[Text],
    out: &mut Vec<Diag>,
) {
    if policy.name.is_none() || !peers.is_absent() || !ports.is_empty() {
        return;
    }
    out.push(
        Diag::error(
            code::POLICY_INVALID,
            format!("rule {} has no `{key}`: it admits nobody", rule.value),
        )
        .label(rule.span, "rule without peers")
        .help(format!(
            "write `{key}: []` for every peer (Kubernetes' rule without `{key}`), or list the peers; a named policy isolates with `policyTypes` alone"
        )),
    );
}
