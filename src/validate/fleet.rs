//! `netc::fleet::invalid`: a `fleet:` section the API server or the agent would refuse;
//! `netc::fleet::too-large`: an intent the agent's ConfigMap cannot carry even compressed
//! ([`CONFIGMAP_MAX_BYTES`]); `netc::fleet::client-side-apply-too-large`: one it carries but
//! client-side `kubectl apply` cannot store in its annotation
//! (`FleetPlan::client_side_apply_too_large`, [`ANNOTATIONS_MAX_BYTES`]).
//!
//! Toleration rules are Kubernetes' own (pkg/apis/core/validation/validation.go,
//! validateTolerations): an empty key needs `operator: Exists`, `Exists` takes no value,
//! `tolerationSeconds` needs `effect: NoExecute`; a toleration's key is a label key and its
//! value a label value (validateTolerations: ValidateLabelName, ValidateLabelValue), as are the
//! `nodeSelector`'s keys and values (ValidateNodeSelector → ValidateLabels). The interval is
//! parsed once, in the plan, by the parser and range `netc apply --interval` uses
//! (`plan::fleet::parse_interval`).

use super::policy::{is_qualified_name, key_problem};
use crate::diagnostic::{Diag, code};
use crate::intent::values::is_dns1123_label;
use crate::intent::{NetworkIntent, TaintEffect, Text, TolerationOperator};
use crate::plan::Plan;
use crate::plan::fleet::{ANNOTATIONS_MAX_BYTES, CONFIGMAP_MAX_BYTES};

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let Some(fleet) = &intent.fleet else {
        return;
    };
    let image = &fleet.image.value;
    if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
        out.push(
            Diag::error(code::FLEET_INVALID, format!("fleet image `{image}` is not an image reference"))
                .label(fleet.image.span, "image")
                .help("name the image holding netc, ip, nft and modprobe, e.g. `registry.example/netc:0.4.0`; netc never picks one"),
        );
    }
    if let Some(ns) = &fleet.namespace
        && !is_dns1123_label(&ns.value)
    {
        out.push(
            Diag::error(
                code::NAME_INVALID,
                format!("fleet namespace `{}` is not a DNS-1123 label", ns.value),
            )
            .label(ns.span, "invalid name")
            .help("use lower-case letters, digits and `-`, at most 63 characters"),
        );
    }
    if let Some(m) = &fleet.max_unavailable
        && m.value == 0
    {
        out.push(
            Diag::error(
                code::FLEET_INVALID,
                "fleet maxUnavailable is 0: no node could ever be updated",
            )
            .label(m.span, "maxUnavailable")
            .help("use 1 (the default) to update one node at a time"),
        );
    }
    if let (Some(i), Some(Err(why))) = (
        &fleet.interval,
        plan.fleet.as_ref().map(|f| &f.interval_parsed),
    ) {
        out.push(
            Diag::error(
                code::FLEET_INVALID,
                format!("fleet interval {why}: the agent would refuse it"),
            )
            .label(i.span, "interval")
            .help("write a duration from 100ms to 24h: `500ms`, `30s`, `5m`, `1h`"),
        );
    }
    if let Some(plan) = &plan.fleet
        && plan.intent_gzip.len() > CONFIGMAP_MAX_BYTES
    {
        out.push(
            Diag::error(
                code::FLEET_TOO_LARGE,
                format!(
                    "the intent is too large for the agent's ConfigMap: {} bytes, {} gzip-compressed, \
                     over the API server's limit of {CONFIGMAP_MAX_BYTES} bytes (1 MiB) per ConfigMap",
                    plan.intent_text.len(),
                    plan.intent_gzip.len()
                ),
            )
            .label(fleet.image.span, "the fleet ships this intent in one ConfigMap")
            .help("shorten the intent: comments and random-looking names compress worst (a 10,000-node intent is about 60 KB compressed); the agent's intent is one ConfigMap and netc does not split it"),
        );
    } else if let Some(plan) = &plan.fleet
        && plan.client_side_apply_too_large()
    {
        out.push(
            Diag::warning(
                code::FLEET_CLIENT_SIDE_APPLY_TOO_LARGE,
                format!(
                    "the agent's ConfigMap is too large for client-side `kubectl apply`: the intent is {} bytes gzip-compressed, {} in base64, and kubectl copies the whole object into its last-applied-configuration annotation, over the API server's limit of {ANNOTATIONS_MAX_BYTES} bytes (256 KiB) on an object's annotations",
                    plan.intent_gzip.len(),
                    plan.intent_base64_len()
                ),
            )
            .label(fleet.image.span, "the fleet ships this intent in one ConfigMap")
            .help("apply the fleet with `kubectl apply --server-side -f fleet/` (server-side apply writes no annotation), or shorten the intent: comments and random-looking names compress worst"),
        );
    }
    for (k, v) in fleet.node_selector.iter().flatten() {
        label_key("fleet nodeSelector", k, out);
        label_value("fleet nodeSelector", v, out);
    }
    for t in &fleet.tolerations {
        let operator = t
            .operator
            .as_ref()
            .map_or(TolerationOperator::Equal, |o| o.value);
        let empty_key = t.key.as_ref().is_none_or(|k| k.value.is_empty());
        let span = t
            .key
            .as_ref()
            .map(|k| k.span)
            .or(t.operator.as_ref().map(|o| o.span))
            .or(t.effect.as_ref().map(|e| e.span));
        if let Some(k) = t.key.as_ref().filter(|k| !k.value.is_empty()) {
            label_key("toleration", k, out);
        }
        if let Some(v) = &t.value {
            label_value("toleration", v, out);
        }
        let mut push = |message: &str, help: &str| {
            let mut d = Diag::error(code::FLEET_INVALID, message.to_owned()).help(help.to_owned());
            if let Some(span) = span {
                d = d.label(span, "toleration");
            }
            out.push(d);
        };
        if empty_key && operator != TolerationOperator::Exists {
            push(
                "a toleration without a key must have `operator: Exists`",
                "add `operator: Exists` (tolerate every taint) or give the taint's key",
            );
        }
        if operator == TolerationOperator::Exists
            && t.value.as_ref().is_some_and(|v| !v.value.is_empty())
        {
            push(
                "a toleration with `operator: Exists` takes no value",
                "drop the value, or use `operator: Equal`",
            );
        }
        if t.toleration_seconds.is_some()
            && t.effect.as_ref().map(|e| e.value) != Some(TaintEffect::NoExecute)
        {
            push(
                "tolerationSeconds is only for `effect: NoExecute`",
                "set `effect: NoExecute` or drop tolerationSeconds",
            );
        }
    }
}

/// A label key as the API server validates it (a nodeSelector key, a toleration key).
fn label_key(what: &str, k: &Text, out: &mut Vec<Diag>) {
    if let Some(why) = key_problem(&k.value) {
        out.push(
            Diag::error(
                code::FLEET_INVALID,
                format!("{what} key `{}` is not a valid label key", k.value),
            )
            .label(k.span, "invalid key")
            .help(why),
        );
    }
}

/// A label value as the API server validates it: empty, or at most 63 characters.
fn label_value(what: &str, v: &Text, out: &mut Vec<Diag>) {
    if !v.value.is_empty() && !is_qualified_name(&v.value) {
        out.push(
            Diag::error(
                code::FLEET_INVALID,
                format!("{what} value `{}` is not a valid label value", v.value),
            )
            .label(v.span, "invalid value")
            .help("a label value is empty or at most 63 letters, digits, `.`, `_` or `-`, starting and ending with a letter or digit"),
        );
    }
}
