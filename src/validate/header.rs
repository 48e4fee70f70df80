//! The document itself: `apiVersion`, `kind` and a Kubernetes version netc can read.
//!
//! These are shape errors of the file rather than of the network, so they carry `netc::parse`.

use crate::diagnostic::{Diag, code};
use crate::intent::NetworkIntent;
use crate::intent::values::KubeVersion;
use crate::plan::Plan;

use crate::intent::INTENT_KIND as KIND;
use crate::intent::values::API_VERSION;

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let api = &intent.api_version;
    if api.value != API_VERSION {
        out.push(
            Diag::error(
                code::PARSE,
                format!("apiVersion `{}` is not `{API_VERSION}`", api.value),
            )
            .label(api.span, "unknown apiVersion")
            .help(format!(
                "set `apiVersion: {API_VERSION}`, the only version this netc reads"
            )),
        );
    }
    let kind = &intent.kind;
    if kind.value != KIND {
        out.push(
            Diag::error(
                code::PARSE,
                format!("kind `{}` is not `{KIND}`", kind.value),
            )
            .label(kind.span, "unknown kind")
            .help(format!("set `kind: {KIND}`")),
        );
    }
    let version = &intent.cluster.kubernetes_version;
    if KubeVersion::parse(&version.value).is_none() {
        out.push(
            Diag::error(
                code::PARSE,
                format!(
                    "kubernetesVersion `{}` is not a Kubernetes version",
                    version.value
                ),
            )
            .label(version.span, "expected a version such as v1.31.2")
            .help("write the version as `v<major>.<minor>.<patch>`, e.g. `v1.31.2`"),
        );
    }
}
