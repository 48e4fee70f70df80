//! The target profiles' verdicts (`plan/profile/`): a fact the cluster needs at a version no
//! known range holds (`netc::profile::version-unsupported`), a version newer than the profiles
//! are verified against (`netc::profile::version-unverified`), and the findings that depend on
//! a version: Canonical Kubernetes' built-in network (`netc::cni::builtin-flavor`,
//! `netc::cni::unsupported`), its datastores (`netc::datastore::unsupported`), kube-proxy's
//! nftables mode (`netc::kube-proxy::invalid`), and, in their place in the report, a target
//! that runs no kube-proxy (`netc::kube-proxy::setting-not-applied`, the Plan's
//! `not_applied` record, worded by `not_applied.rs`).

use crate::diagnostic::{Diag, code};
use crate::intent::{CniPlugin, Distribution, KubeProxyMode, NetworkIntent};
use crate::plan::Plan;
use crate::plan::profile::{self, Key, Minor, NEWEST, Target, Value};

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let c = &intent.cluster;
    let version_span = c.kubernetes_version.span;
    let p = &plan.profile;
    let Some(v) = p.version else {
        return; // header.rs reports a version that does not parse
    };
    for m in &p.missing {
        out.push(
            Diag::error(
                code::PROFILE_VERSION_UNSUPPORTED,
                format!(
                    "netc knows {}'s {} only for Kubernetes {}, not {v}",
                    m.target.name(),
                    m.key.name(),
                    profile::ranges(m.target, m.key)
                ),
            )
            .label(version_span, "kubernetesVersion")
            .label(c.distribution.span, "distribution")
            .help(format!(
                "use a kubernetesVersion in {}: netc does not guess a consumer's behaviour outside the versions it was checked against",
                profile::ranges(m.target, m.key)
            )),
        );
    }
    if v > NEWEST {
        out.push(
            Diag::warning(
                code::PROFILE_VERSION_UNVERIFIED,
                format!(
                    "kubernetesVersion {v} is newer than {NEWEST}, the newest release netc's target profiles are verified against; the {NEWEST} facts are used"
                ),
            )
            .label(version_span, "kubernetesVersion")
            .help("check the README's fact table against the release notes of your version"),
        );
    }
    canonical_network(intent, plan, v, out);
    if let Some(ds) = &c.datastore
        && plan.distribution == Distribution::Canonical
        && !p.datastores.contains(&ds.value)
    {
        let names: Vec<&str> = p
            .datastores
            .iter()
            .map(|d| profile::datastore_name(*d))
            .collect();
        let ranges = profile::known(Target::Canonical, Key::Datastores)
            .filter(|f| matches!(f.value, Value::Datastores(d) if d.contains(&ds.value)))
            .map(|f| f.versions.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        out.push(
            Diag::error(
                code::DATASTORE_UNSUPPORTED,
                format!(
                    "{} {v} takes datastore-type {} only; {} is gone (it ran in {ranges})",
                    profile::distribution_names(Distribution::Canonical).product,
                    names.join(" | "),
                    profile::datastore_name(ds.value)
                ),
            )
            .label(ds.span, "datastore")
            .label(version_span, "kubernetesVersion")
            .help("use datastore: etcd (k8s-snap 1.36 migrated from k8s-dqlite to etcd)"),
        );
    }
    kube_proxy(intent, plan, v, out);
    // The Plan's record, worded by `not_applied.rs`, in its place among the profile's findings.
    super::not_applied::api_server_port(intent, plan, out);
}

/// Canonical Kubernetes runs Cilium; Calico only in the moonray flavor of a few releases.
fn canonical_network(intent: &NetworkIntent, plan: &Plan, v: Minor, out: &mut Vec<Diag>) {
    if plan.distribution != Distribution::Canonical || plan.cni.plugin != CniPlugin::Calico {
        return;
    }
    let plugin = &intent.cni.plugin;
    let flavor = profile::ranges(Target::Canonical, Key::BuiltinCniAlternative);
    if plan.profile.builtin_cni.contains(&CniPlugin::Calico) {
        out.push(
            Diag::warning(
                code::CNI_BUILTIN_FLAVOR,
                format!(
                    "{} runs Cilium (k8s-snap's default build); Calico is the built-in network only of its \"moonray\" flavor, k8s-snap {flavor} (removed in August 2025): netc writes Calico's annotations and opens Calico's ports, which are wrong on a default k8s-snap",
                    profile::distribution_names(Distribution::Canonical).product
                ),
            )
            .label(plugin.span, "calico")
            .help("use cni.plugin: cilium unless the nodes run the moonray flavor"),
        );
    } else {
        out.push(
            Diag::error(
                code::CNI_UNSUPPORTED,
                format!(
                    "{} {v} runs Cilium; Calico was its built-in network only in the \"moonray\" flavor of k8s-snap {flavor}",
                    profile::distribution_names(Distribution::Canonical).product
                ),
            )
            .label(plugin.span, "calico")
            .label(intent.cluster.kubernetes_version.span, "kubernetesVersion")
            .help("use cni.plugin: cilium (encapsulation vxlan)"),
        );
    }
}

/// kube-proxy's nftables mode by version; kube-proxy settings on a target without it are the
/// Plan's record, reported by `not_applied.rs`.
fn kube_proxy(intent: &NetworkIntent, plan: &Plan, v: Minor, out: &mut Vec<Diag>) {
    let Some(kp) = &intent.cluster.kube_proxy else {
        return;
    };
    if plan.not_applied.kube_proxy.is_some() {
        // Not applied at all (the Plan's record, `plan/not_applied.rs`): reported from
        // `not_applied.rs`, here, among the profile's findings, where it has always been.
        super::not_applied::kube_proxy(intent, plan, out);
        return;
    }
    let Some(mode) = &kp.mode else {
        return;
    };
    if mode.value != KubeProxyMode::Nftables {
        return;
    }
    if let Some(f) = profile::lookup(Target::KubeProxy, Key::NftablesMode, v)
        && f.value == Value::Refused
    {
        let from = profile::known(Target::KubeProxy, Key::NftablesMode)
            .find(|f| f.value != Value::Refused)
            .map_or_else(|| "1.29".to_owned(), |f| f.versions.from.to_string());
        out.push(
            Diag::error(
                code::KUBE_PROXY_INVALID,
                format!(
                    "kube-proxy has no nftables mode in Kubernetes {v}; it has one from {from}"
                ),
            )
            .label(mode.span, "proxy mode")
            .label(intent.cluster.kubernetes_version.span, "kubernetesVersion")
            .help(format!(
                "use mode iptables or ipvs, or Kubernetes {from} or newer"
            )),
        );
    }
}
