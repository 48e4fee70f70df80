//! `netc::datastore::unsupported`: a control-plane datastore the distribution does not run.
//!
//! k8s-dqlite is Canonical Kubernetes' own (`datastore-type`, canonical/k8s-snap-api
//! `api/type_bootstrap_config.go`); kubeadm, RKE2 and k3s run etcd (k3s also SQLite on a
//! single server, its default when `datastore` is not given).

use crate::diagnostic::{Diag, code};
use crate::intent::{Datastore, Distribution, NetworkIntent};
use crate::plan::Plan;

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let c = &intent.cluster;
    let Some(ds) = &c.datastore else {
        return;
    };
    let dist = c.distribution.value;
    if ds.value == Datastore::K8sDqlite && !runs_k8s_dqlite(dist) {
        let name = crate::plan::profile::distribution_names(dist).product;
        out.push(
            Diag::error(
                code::DATASTORE_UNSUPPORTED,
                format!("datastore k8s-dqlite is Canonical Kubernetes' own; {name} runs etcd"),
            )
            .label(ds.span, "datastore")
            .label(c.distribution.span, "distribution")
            .help("use datastore: etcd, or leave datastore out"),
        );
    }
}

/// Whether `d` runs k8s-dqlite at any version (which versions: `validate/profile.rs`, from the
/// profile's `Datastores` facts).
fn runs_k8s_dqlite(d: Distribution) -> bool {
    match d {
        Distribution::Canonical => true,
        Distribution::Kubeadm | Distribution::Rke2 | Distribution::K3s | Distribution::Manual => {
            false
        }
    }
}
