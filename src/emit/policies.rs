//! `policies/<namespace>.yaml`: networking.k8s.io/v1 NetworkPolicies, one file per namespace,
//! one document per policy, entries in intent order. An unnamed entry writes, in a fixed order,
//! `default-deny-ingress`, `default-deny-egress`, `allow-dns`, then one policy per intent rule
//! (named after it), ingress rules first; a named entry writes exactly one policy of its name
//! with all its rules and `policyTypes`.
//!
//! Which policies exist, and their objects, are the plan's (`plan::policies::objects`); this
//! module writes them.

use std::collections::BTreeMap;

use super::{ArtifactSink, Context, EmitError, yaml_documents};
use crate::plan::PolicyPlan;
use crate::plan::policies::objects::NetworkPolicy;
pub use crate::plan::policies::objects::policies;

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    // Several intent entries may name one namespace: one file, entries in intent order.
    let mut by_namespace: BTreeMap<&str, Vec<&PolicyPlan>> = BTreeMap::new();
    for p in &ctx.plan.policies {
        by_namespace.entry(&p.namespace).or_default().push(p);
    }
    for (namespace, plans) in by_namespace {
        let docs: Vec<NetworkPolicy> = plans.iter().flat_map(|p| policies(p)).collect();
        if docs.is_empty() {
            continue;
        }
        let path = format!("policies/{namespace}.yaml");
        sink.read_by(
            &path,
            crate::emit::Consumer::kubectl(crate::emit::Stage::Policies, &path),
        );
        let bytes = yaml_documents(ctx, &path, &docs)?;
        sink.put(path, bytes)?;
    }
    Ok(())
}
