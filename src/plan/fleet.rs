//! The fleet: `netc apply --watch` on every node as a DaemonSet (`emit::fleet`).
//!
//! Defaults live here, once: namespace `netc-system`, `maxUnavailable` 1, interval `30s`. The
//! tolerations netc always adds are here too, so the emitted DaemonSet and anything that
//! explains it agree.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::intent::{Fleet, TaintEffect, TolerationOperator};

pub const DEFAULT_NAMESPACE: &str = "netc-system";
pub const DEFAULT_MAX_UNAVAILABLE: u32 = 1;
pub const DEFAULT_INTERVAL: &str = "30s";
/// The agent's interval range, the one `netc apply --interval` and `check` both apply.
pub const MIN_INTERVAL: Duration = Duration::from_millis(100);
pub const MAX_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// The most a ConfigMap may hold: the API server refuses one whose `data` and `binaryData`
/// values add up to more (kubernetes/kubernetes pkg/apis/core/validation/validation.go,
/// ValidateConfigMap: `totalSize > core.MaxSecretSize`, summing the decoded bytes;
/// pkg/apis/core/types.go: `MaxSecretSize = 1 * 1024 * 1024`; v1.31 to master). Keys and
/// metadata are not counted.
pub const CONFIGMAP_MAX_BYTES: usize = 1024 * 1024;

/// The most all of an object's annotations may hold together, keys and values: the API server
/// refuses more (kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/api/validation/
/// objectmeta.go: `TotalAnnotationSizeLimitB int = 256 * (1 << 10)`, ValidateAnnotationsSize
/// summing `len(k) + len(v)`; master at 008b365). Client-side `kubectl apply` stores the whole
/// object it applies as JSON in the `kubectl.kubernetes.io/last-applied-configuration`
/// annotation (staging/src/k8s.io/kubectl/pkg/util/apply.go, GetModifiedConfiguration), the
/// agent's intent with it; server-side apply (`kubectl apply --server-side`) stores none.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

/// What that annotation holds beside the intent's base64, at most: its key (48 bytes) and the
/// rest of the agent's ConfigMap as JSON (`apiVersion`, `kind`, `immutable`, the name, the
/// namespace of up to 63 characters, the label, the `binaryData` key, `"annotations":{}`, a
/// newline): 328 bytes with the longest namespace, 277 with `kube-network`
/// (`tests/consumers_fleet.rs` `client_side_apply_stores_the_configmap_in_an_annotation`
/// computes it from the emitted file; kubectl v1.32.4 `create --save-config --dry-run=client`
/// wrote the same 277, 2026-12-06).
pub const LAST_APPLIED_OVERHEAD_MAX: usize = 512;

/// Parses an interval as the agent reads it: `30s`, `2m`, `1h`, `500ms` or plain seconds,
/// from [`MIN_INTERVAL`] to [`MAX_INTERVAL`]. The one parser of `fleet.interval` (lowered here,
/// checked by `validate`) and of `netc apply --interval`.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 30s, 2m, 500ms)"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        "h" => Duration::from_secs(n.saturating_mul(3600)),
        _ => return Err(format!("`{text}`: unit must be ms, s, m or h")),
    };
    if !(MIN_INTERVAL..=MAX_INTERVAL).contains(&d) {
        return Err(format!("`{text}`: the interval must be 100ms to 24h"));
    }
    Ok(d)
}

/// Taints the agent always tolerates: it sets up the node's networking, so it must run while
/// the node is not ready (no pod network yet), unreachable, or waiting for its cloud
/// provider. Keys from k8s.io/api core/v1 well_known_taints.go.
const ALWAYS_TOLERATED: &[&str] = &[
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.cloudprovider.kubernetes.io/uninitialized",
];

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FleetPlan {
    pub image: String,
    pub namespace: String,
    pub max_unavailable: u32,
    /// As written (`30s`): what `netc apply --interval` reads.
    pub interval: String,
    /// `interval` parsed as the agent parses it; `Err` (the reason) when the agent would refuse
    /// it (`validate` reports it).
    #[serde(skip)]
    pub interval_parsed: Result<Duration, String>,
    pub node_selector: BTreeMap<String, String>,
    /// netc's own tolerations first, then the intent's, in order.
    pub tolerations: Vec<TolerationPlan>,
    /// The intent file's exact text: what the agent applies.
    #[serde(skip)]
    pub intent_text: String,
    /// `intent_text` gzip-compressed ([`crate::intent::compressed`]): what the agent's
    /// ConfigMap carries (in `binaryData`), always. Compressed once, here: `emit` ships it,
    /// `validate` refuses an intent it does not fit ([`CONFIGMAP_MAX_BYTES`]).
    #[serde(skip)]
    pub intent_gzip: Vec<u8>,
}

impl FleetPlan {
    /// The length of the ConfigMap's `binaryData` value as written: [`Self::intent_gzip`] in
    /// standard base64, four characters for every three bytes, the last group padded.
    pub fn intent_base64_len(&self) -> usize {
        self.intent_gzip.len().div_ceil(3) * 4
    }

    /// Whether client-side `kubectl apply` of the agent's ConfigMap may exceed
    /// [`ANNOTATIONS_MAX_BYTES`]: the intent's base64 and [`LAST_APPLIED_OVERHEAD_MAX`]. With
    /// gzip over about 191 KiB (196,225 bytes); `validate` warns.
    pub fn client_side_apply_too_large(&self) -> bool {
        self.intent_base64_len() + LAST_APPLIED_OVERHEAD_MAX > ANNOTATIONS_MAX_BYTES
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TolerationPlan {
    pub key: Option<String>,
    pub operator: Option<TolerationOperator>,
    pub value: Option<String>,
    pub effect: Option<TaintEffect>,
    pub toleration_seconds: Option<i64>,
}

pub(super) fn lower(fleet: &Fleet, intent_text: &str) -> FleetPlan {
    let own = ALWAYS_TOLERATED.iter().map(|key| TolerationPlan {
        key: Some((*key).to_owned()),
        operator: Some(TolerationOperator::Exists),
        value: None,
        effect: None,
        toleration_seconds: None,
    });
    let user = fleet.tolerations.iter().map(|t| TolerationPlan {
        key: t.key.as_ref().map(|k| k.value.clone()),
        operator: t.operator.as_ref().map(|o| o.value),
        value: t.value.as_ref().map(|v| v.value.clone()),
        effect: t.effect.as_ref().map(|e| e.value),
        toleration_seconds: t.toleration_seconds.as_ref().map(|s| s.value),
    });
    let interval = fleet
        .interval
        .as_ref()
        .map_or_else(|| DEFAULT_INTERVAL.to_owned(), |i| i.value.clone());
    FleetPlan {
        image: fleet.image.value.clone(),
        namespace: fleet
            .namespace
            .as_ref()
            .map_or_else(|| DEFAULT_NAMESPACE.to_owned(), |n| n.value.clone()),
        max_unavailable: fleet
            .max_unavailable
            .as_ref()
            .map_or(DEFAULT_MAX_UNAVAILABLE, |m| m.value),
        interval_parsed: parse_interval(&interval),
        interval,
        node_selector: fleet
            .node_selector
            .iter()
            .flatten()
            .map(|(k, v)| (k.value.clone(), v.value.clone()))
            .collect(),
        tolerations: own.chain(user).collect(),
        intent_text: intent_text.to_owned(),
        intent_gzip: crate::intent::compressed::gzip(intent_text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_parse_with_units_and_bounds() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("24h"), Ok(MAX_INTERVAL));
        assert_eq!(parse_interval("100ms"), Ok(MIN_INTERVAL));
        assert_eq!(parse_interval("7"), Ok(Duration::from_secs(7)));
        for bad in [
            "",
            "s",
            "0s",
            "25h",
            "99ms",
            "1.5m",
            "-1s",
            "1d",
            "99999999999999999999h",
        ] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
