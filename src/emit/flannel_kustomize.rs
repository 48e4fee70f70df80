//! `flannel/kustomization.yaml` and `flannel/kube-flannel-ds-iface.yaml`: the kustomize overlay
//! that fits flannel's release manifest (`kube-flannel.yml`) to the cluster on kubeadm, where
//! flannel runs as the `kube-flannel-ds` DaemonSet.
//!
//! The ConfigMap alone cannot choose flannel's interface: `--iface` is a flanneld flag, and the
//! manifest's `kube-flannel` container starts flanneld with `--ip-masq --kube-subnet-mgr` only
//! (flannel-io/flannel `Documentation/kube-flannel.yml`: DaemonSet `kube-flannel-ds` in
//! namespace `kube-flannel`, its one container `kube-flannel`). A JSON 6902 patch appends
//! `--iface=<if>` to that container's args; the ConfigMap (`kube-flannel-cfg.yaml`, from the
//! `flannel` target) is the strategic-merge patch that replaces the manifest's net-conf.
//! `kubectl apply -k flannel/` applies the result.

use serde::Serialize;

use super::{ArtifactSink, Context, EmitError, yaml_documents_noted};
use crate::plan::{CniInstall, Plan, PluginSettings};

/// The release manifest the overlay patches, downloaded next to the kustomization.
const MANIFEST: &str = "kube-flannel.yml";
const IFACE_PATCH: &str = "kube-flannel-ds-iface.yaml";
/// The `flannel` target's ConfigMap.
const CONFIG_MAP: &str = "kube-flannel-cfg.yaml";

const NOTES: &[&str] = &[
    "Put flannel's release manifest beside this file as kube-flannel.yml",
    "(https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml),",
    "then: kubectl apply -k flannel/",
];

/// `kustomize.config.k8s.io/v1beta1` Kustomization (kubernetes-sigs/kustomize
/// `api/types/kustomization.go`: `resources`, `patches` with `path` and `target`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<&'static str>,
    patches: Vec<Patch>,
}

#[derive(Serialize)]
struct Patch {
    path: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<Target>,
}

/// `api/types/selector.go`: the resource a JSON 6902 patch applies to.
#[derive(Serialize)]
struct Target {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    name: &'static str,
    namespace: &'static str,
}

/// One RFC 6902 operation.
#[derive(Serialize)]
struct Operation {
    op: &'static str,
    path: &'static str,
    value: String,
}

/// Whether flannel runs as kube-flannel's DaemonSet: the flannel plugin where the user
/// installs it ([`CniInstall::Cluster`]: kubeadm; RKE2 and k3s embed flannel, a manual
/// control plane runs flanneld on the host). Not Canal: calico's `canal.yaml` has neither the
/// `kube-flannel-cfg` ConfigMap nor the `kube-flannel-ds` DaemonSet the patches target (its
/// flannel runs in the `canal` DaemonSet and reads `canal-config`, the `canal` target's file).
fn applies(plan: &Plan) -> bool {
    plan.cni_install() == CniInstall::Cluster
        && matches!(plan.cni.settings, PluginSettings::Flannel(_))
}

pub fn emit(ctx: Context<'_>, sink: &mut dyn ArtifactSink) -> Result<(), EmitError> {
    let plan = ctx.plan;
    if !applies(plan) {
        return Ok(());
    }
    let iface = plan.cni.flannel().and_then(|f| f.interface.clone());
    let mut patches = vec![Patch {
        path: CONFIG_MAP,
        target: None,
    }];
    if let Some(iface) = &iface {
        patches.push(Patch {
            path: IFACE_PATCH,
            target: Some(Target {
                group: "apps",
                version: "v1",
                kind: "DaemonSet",
                name: "kube-flannel-ds",
                namespace: "kube-flannel",
            }),
        });
        let path = format!("flannel/{IFACE_PATCH}");
        let ops = vec![Operation {
            op: "add",
            // The manifest's only container is kube-flannel; `-` appends to its args.
            path: "/spec/template/spec/containers/0/args/-",
            value: format!("--iface={iface}"),
        }];
        sink.read_by(&path, overlay_consumer());
        let bytes = yaml_documents_noted(ctx, &path, &[], &[ops])?;
        sink.put(path, bytes)?;
    }
    let path = "flannel/kustomization.yaml".to_owned();
    let k = Kustomization {
        api_version: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: vec![MANIFEST],
        patches,
    };
    sink.read_by(&path, overlay_consumer());
    let bytes = yaml_documents_noted(ctx, &path, NOTES, &[k])?;
    sink.put(path, bytes)?;
    Ok(())
}

/// Who reads the overlay's files, and how they are applied.
fn overlay_consumer() -> crate::emit::Consumer {
    crate::emit::Consumer::new(
        crate::emit::Stage::Network,
        "kustomize",
        "kubectl apply -k flannel/",
    )
    .at("the cluster (kube-flannel)")
}
