//! `netc::fleet::invalid`: a `fleet:` section the API server or the agent would refuse.
//!
//! Toleration rules are Kubernetes' own (pkg/apis/core/validation/validation.go,
//! validateTolerations): an empty key needs `operator: Exists`, `Exists` takes no value,
//! `tolerationSeconds` needs `effect: NoExecute`. The interval is what `netc apply --interval`
//! reads: a whole number of seconds, minutes or hours.

use crate::diagnostic::{Diag, code};
use crate::intent::values::is_dns1123_label;
use crate::intent::{NetworkIntent, TaintEffect, TolerationOperator};
use crate::plan::Plan;

/// Seconds in an interval (`30s`, `5m`, `1h`); `None` when it does not parse or is zero.
pub fn interval_seconds(text: &str) -> Option<u64> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    (n > 0).then(|| n.checked_mul(unit)).flatten()
}

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
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
    if let Some(i) = &fleet.interval
        && interval_seconds(&i.value).is_none()
    {
        out.push(
            Diag::error(
                code::FLEET_INVALID,
                format!("fleet interval `{}` is not a duration", i.value),
            )
            .label(i.span, "interval")
            .help("write a whole number of seconds, minutes or hours: `30s`, `5m`, `1h`"),
        );
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

#[cfg(test)]
mod tests {
    use super::interval_seconds;

    #[test]
    fn intervals() {
        assert_eq!(interval_seconds("30s"), Some(30));
        assert_eq!(interval_seconds("5m"), Some(300));
        assert_eq!(interval_seconds("1h"), Some(3600));
        for bad in ["", "s", "0s", "30", "1.5m", "-1s", "30 s", "1d"] {
            assert_eq!(interval_seconds(bad), None, "{bad}");
        }
    }
}
