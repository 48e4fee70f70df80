//! `lint.allow` (top level and per policy): the findings an intent accepts.
//!
//! `check` reports each entry that names no netc code, or a code that is only ever an error
//! (`netc::lint::invalid`); [`accept`] then drops the warnings and notes the entries cover: a
//! top-level entry anywhere in the file, a policy's entry only where the finding's place (its
//! first label) lies inside that policy.

use crate::diagnostic::{Diag, Severity, Span, code, rules};
use crate::intent::{Labels, Lint, NetworkIntent, Peer, Policy, SelectorExpression, Text};
use crate::plan::Plan;

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let lints = intent
        .lint
        .iter()
        .chain(intent.policies.iter().filter_map(|p| p.lint.as_ref()));
    for entry in lints.flat_map(|l| &l.allow) {
        match rules::rule(&entry.value) {
            None => out.push(
                Diag::error(
                    code::LINT_INVALID,
                    format!("`{}` in lint.allow is not a netc diagnostic code", entry.value),
                )
                .label(entry.span, "unknown code")
                .help(match rules::closest(&entry.value) {
                    Some(c) => format!("did you mean `{c}`? (codes are listed in the README)"),
                    None => "use a code netc reports, such as `netc::policy::shadowed` (the README lists them)".to_owned(),
                }),
            ),
            Some(rule) if !rule.allowable() => out.push(
                Diag::error(
                    code::LINT_INVALID,
                    format!(
                        "`{}` in lint.allow is only ever an error, and errors cannot be accepted",
                        entry.value
                    ),
                )
                .label(entry.span, "an error code")
                .help("fix what the error reports; lint.allow accepts warnings and notes only"),
            ),
            Some(_) => {}
        }
    }
}

/// `diags` without the warnings and notes the intent's `lint.allow` entries accept.
pub fn accept(intent: &NetworkIntent, diags: Vec<Diag>) -> Vec<Diag> {
    let allowed = |lint: &Option<Lint>, code: &str| {
        lint.as_ref()
            .is_some_and(|l| l.allow.iter().any(|a| a.value == code))
    };
    let scopes: Vec<(Span, &Policy)> = intent
        .policies
        .iter()
        .filter(|p| p.lint.is_some())
        .filter_map(|p| extent(p).map(|e| (e, p)))
        .collect();
    diags
        .into_iter()
        .filter(|d| {
            if d.severity == Severity::Error {
                return true;
            }
            if allowed(&intent.lint, d.code) {
                return false;
            }
            let Some(at) = d.primary_span() else {
                return true;
            };
            !scopes.iter().any(|(scope, p)| {
                at.offset >= scope.offset
                    && at.offset < scope.offset.saturating_add(scope.len)
                    && allowed(&p.lint, d.code)
            })
        })
        .collect()
}

/// The stretch of text a policy was written in: from the first to the end of the last of its
/// values (names, selectors, peers, ports, its own `lint`).
fn extent(p: &Policy) -> Option<Span> {
    let mut spans: Vec<Span> = vec![p.namespace.span];
    spans.extend(p.default_deny.iter().map(|d| d.span));
    spans.extend(p.allow_dns.iter().map(|a| a.span));
    if let Some(l) = &p.lint {
        spans.extend(l.allow.iter().map(|a| a.span));
    }
    let texts = |v: &[Text], spans: &mut Vec<Span>| spans.extend(v.iter().map(|t| t.span));
    let labels = |l: &Labels, spans: &mut Vec<Span>| {
        spans.extend(l.iter().flat_map(|(k, v)| [k.span, v.span]));
    };
    let exprs = |e: &[SelectorExpression], spans: &mut Vec<Span>| {
        for x in e {
            spans.push(x.key.span);
            spans.push(x.operator.span);
            spans.extend(x.values.iter().map(|v| v.span));
        }
    };
    spans.extend(p.name.iter().map(|n| n.span));
    spans.extend(p.policy_types.iter().map(|t| t.span));
    if let Some(l) = &p.pod_selector {
        labels(l, &mut spans);
    }
    exprs(&p.pod_expressions, &mut spans);
    let peers = |ps: &[Peer], spans: &mut Vec<Span>| {
        for peer in ps {
            if let Some(l) = &peer.pods {
                labels(l, spans);
            }
            exprs(&peer.pod_expressions, spans);
            if let Some(ns) = &peer.namespace {
                spans.extend(ns.name.iter().map(|n| n.span));
                if let Some(l) = &ns.labels {
                    labels(l, spans);
                }
                exprs(&ns.expressions, spans);
            }
            spans.extend(peer.cidr.iter().map(|c| c.span));
            texts(&peer.except, spans);
        }
    };
    for r in &p.rules {
        spans.extend(r.name.iter().map(|n| n.span));
        if let Some(l) = &r.to {
            labels(l, &mut spans);
        }
        exprs(&r.to_expressions, &mut spans);
        peers(&r.from, &mut spans);
        texts(&r.ports, &mut spans);
    }
    for r in &p.egress {
        spans.extend(r.name.iter().map(|n| n.span));
        if let Some(l) = &r.from {
            labels(l, &mut spans);
        }
        exprs(&r.from_expressions, &mut spans);
        peers(&r.to, &mut spans);
        texts(&r.ports, &mut spans);
    }
    let known = spans.iter().filter(|s| !s.is_unknown());
    let start = known.clone().map(|s| s.offset).min()?;
    let end = known.map(|s| s.offset.saturating_add(s.len)).max()?;
    Some(Span::new(start, end - start))
}
