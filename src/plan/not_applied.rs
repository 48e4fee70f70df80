//! What each target cannot take, for node settings: the node-level half of the Plan's one
//! record of "a target ignores this setting" (the CNI half is [`super::CniPlan::not_applied`],
//! decided next to each plugin's settings). `validate/not_applied.rs` reports both, in one place.
//!
//! The targets without a knob (facts and sources in `validate/addressing.rs` and
//! `validate/bind_address.rs`): a manual control plane writes no kubelet `node-ip` (so no
//! `secondaryAddress`); kubeadm, Canonical Kubernetes and a manual control plane have no setting
//! for a node's external address; RKE2 fixes kube-apiserver's bind address at 0.0.0.0 and
//! Canonical Kubernetes has no bind-address setting.

use std::net::IpAddr;

use crate::intent::{Distribution, NetworkIntent, Role, Span, values};

use super::NodePlan;

/// A node setting that the cluster's distribution has no knob for.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeNotApplied {
    /// The node's name.
    pub node: String,
    pub setting: NodeSetting,
    /// The distribution without the knob.
    pub target: Distribution,
    /// The span of the setting's value.
    pub span: Span,
}

/// The node setting, with the value the report names.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NodeSetting {
    SecondaryAddress,
    ExternalAddress,
    /// A specific address of the node's own, on a control-plane node.
    BindAddress(IpAddr),
}

/// The node settings the distribution cannot take, node by node in intent order. A
/// `bindAddress` is recorded only where it could otherwise be applied (a valid, specific
/// address of the node's own on a control-plane node); the other cases are errors of the value.
pub(super) fn nodes(intent: &NetworkIntent, nodes: &[NodePlan]) -> Vec<NodeNotApplied> {
    let dist = intent.cluster.distribution.value;
    let mut out = Vec::new();
    for (node, np) in intent.nodes.iter().zip(nodes) {
        let mut push = |setting, span| {
            out.push(NodeNotApplied {
                node: node.name.value.clone(),
                setting,
                target: dist,
                span,
            });
        };
        if let Some(sec) = &node.secondary_address
            && dist == Distribution::Manual
        {
            push(NodeSetting::SecondaryAddress, sec.span);
        }
        if let Some(ext) = &node.external_address
            && matches!(
                dist,
                Distribution::Kubeadm | Distribution::Canonical | Distribution::Manual
            )
        {
            push(NodeSetting::ExternalAddress, ext.span);
        }
        if let Some(bind) = &node.bind_address
            && matches!(dist, Distribution::Rke2 | Distribution::Canonical)
            && node.role.value != Role::Worker
            && let Some(ip) = values::parse_address(bind)
            && !ip.is_unspecified()
            && np.own_addresses().contains(&ip)
        {
            push(NodeSetting::BindAddress(ip), bind.span);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use crate::intent::Syntax;

    fn plan(text: &str) -> super::super::Plan {
        let src = SourceFile::new("t.yaml", text);
        let intent = crate::intent::parse(&src, Syntax::Yaml).expect("intent");
        super::super::lower(&intent, text)
    }

    /// One record in the Plan for the node settings a distribution cannot take, beside the CNI
    /// ones: RKE2's fixed bind address, kubeadm's missing external-address setting; nothing for
    /// the unspecified bind address, a worker's or an address that is not the node's own
    /// (those are errors of the value, not of the target).
    #[test]
    fn the_plan_records_node_settings_a_target_cannot_take() {
        let base = include_str!("../../examples/rke2-canal.yaml");
        let bind = |addr: &str| {
            base.replacen(
                "    address: 10.20.0.10/24\n",
                &format!("    address: 10.20.0.10/24\n    bindAddress: \"{addr}\"\n"),
                1,
            )
        };
        let p = plan(&bind("10.20.0.10"));
        let ip: IpAddr = "10.20.0.10".parse().expect("ip");
        assert_eq!(p.node_not_applied.len(), 1, "{:?}", p.node_not_applied);
        let n = &p.node_not_applied[0];
        assert_eq!(
            (n.setting, n.target),
            (NodeSetting::BindAddress(ip), Distribution::Rke2)
        );
        assert!(p.node_not_applied.iter().all(|n| !n.node.is_empty()));
        for clean in ["0.0.0.0", "10.99.0.1", "not-an-ip"] {
            assert!(plan(&bind(clean)).node_not_applied.is_empty(), "{clean}");
        }
        let kubeadm = base
            .replacen("distribution: rke2", "distribution: kubeadm", 1)
            .replacen(
                "    address: 10.20.0.21/24\n",
                "    address: 10.20.0.21/24\n    externalAddress: 203.0.113.21\n",
                1,
            );
        let p = plan(&kubeadm);
        assert_eq!(p.node_not_applied.len(), 1, "{:?}", p.node_not_applied);
        assert_eq!(p.node_not_applied[0].setting, NodeSetting::ExternalAddress);
        // The CNI half stays where each plugin decides it.
        assert!(p.cni.not_applied.is_empty());
    }
}
