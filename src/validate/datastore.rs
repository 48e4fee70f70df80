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
    if ds.value == Datastore::K8sDqlite && dist != Distribution::Canonical {
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
