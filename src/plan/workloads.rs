//! The pods the policies talk about: the intent's `workloads` plus the cluster's own (CoreDNS,
//! the API server), with each namespace's labels. `explain` and the policy lint read these.

use std::collections::BTreeMap;

use serde::Serialize;

use super::NodePlan;
use super::policies::NAMESPACE_NAME_LABEL;
use crate::intent::values::{self, PortRange, Protocol};
use crate::intent::{NetworkIntent, Span};

/// The namespace of the cluster's own workloads.
pub const SYSTEM_NAMESPACE: &str = "kube-system";

/// The cluster DNS port, UDP and TCP (RFC 1035 4.2; CoreDNS's `dns` and `dns-tcp` ports).
pub const DNS_PORT: u16 = 53;
/// CoreDNS's container ports as every supported distribution deploys it: kubeadm
/// (kubernetes/kubernetes `cmd/kubeadm/app/phases/addons/dns/manifests.go`,
/// `CoreDNSDeployment`) and k3s (k3s-io/k3s `manifests/coredns.yaml`) name them `dns` (UDP
/// 53), `dns-tcp` (TCP 53) and `metrics` (TCP 9153). Its pod label is a per-distribution
/// fact (`profile`, `Profile::dns_label`: `k8s-app: coredns` on Canonical Kubernetes), which
/// `emit::policies`' DNS allowance selects too.
const CLUSTER_DNS_PORTS: [(&str, Protocol, u16); 3] = [
    ("dns", Protocol::Udp, DNS_PORT),
    ("dns-tcp", Protocol::Tcp, DNS_PORT),
    ("metrics", Protocol::Tcp, 9153),
];
/// kube-apiserver's default secure port on every target (kubeadm `DefaultAPIBindPort`,
/// kube-apiserver `--secure-port`, k3s `https-listen-port`, RKE2 and Canonical fixed); the
/// cluster's own is `Plan::api_server_port` (the endpoint's port where the endpoint is a
/// control-plane node's own address).
pub const API_SERVER_PORT: u16 = 6443;

/// Where a workload comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadOrigin {
    /// The intent's `workloads` list.
    Declared,
    /// CoreDNS, which the distribution deploys.
    ClusterDns,
    /// The API server on the control-plane nodes.
    ApiServer,
}

/// One named container port.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedPort {
    pub name: String,
    pub port: PortRange,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkloadPlan {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub ports: Vec<NamedPort>,
    pub host_network: bool,
    /// The nodes the pods may run on; empty = any node.
    pub nodes: Vec<String>,
    pub origin: WorkloadOrigin,
    /// The workload's `name` in the intent (default for the cluster's own).
    #[serde(skip)]
    pub span: Span,
}

impl WorkloadPlan {
    /// `namespace/name`.
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// The container port called `name` for `protocol`, if the workload declares one.
    pub fn named_port(&self, protocol: Protocol, name: &str) -> Option<u16> {
        self.ports
            .iter()
            .find(|p| p.name == name && p.port.protocol == protocol)
            .map(|p| p.port.first)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkloadsPlan {
    /// Declared workloads in intent order, then the cluster's own that are not declared.
    pub list: Vec<WorkloadPlan>,
    /// Labels of every namespace that has a workload or a policy, `kubernetes.io/metadata.name`
    /// included.
    pub namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
}

impl WorkloadsPlan {
    /// The labels of namespace `ns` (only its name label when nothing else is known).
    pub fn namespace_labels(&self, ns: &str) -> BTreeMap<String, String> {
        self.namespace_labels
            .get(ns)
            .cloned()
            .unwrap_or_else(|| BTreeMap::from([(NAMESPACE_NAME_LABEL.to_owned(), ns.to_owned())]))
    }

    pub fn find(&self, namespace: &str, name: &str) -> Option<usize> {
        self.list
            .iter()
            .position(|w| w.namespace == namespace && w.name == name)
    }
}

fn labels(l: &crate::intent::Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect()
}

pub(super) fn lower(
    intent: &NetworkIntent,
    nodes: &[NodePlan],
    dns_label: (&str, &str),
    api_server_port: u16,
) -> WorkloadsPlan {
    let mut out = WorkloadsPlan::default();
    let name_label = |ns: &str, out: &mut WorkloadsPlan| {
        out.namespace_labels
            .entry(ns.to_owned())
            .or_default()
            .insert(NAMESPACE_NAME_LABEL.to_owned(), ns.to_owned());
    };
    for w in &intent.workloads {
        let ns = w.namespace.value.clone();
        name_label(&ns, &mut out);
        if let Some(set) = out.namespace_labels.get_mut(&ns) {
            for (k, v) in labels(&w.namespace_labels) {
                set.entry(k).or_insert(v);
            }
        }
        out.list.push(WorkloadPlan {
            namespace: ns,
            name: w.name.value.clone(),
            labels: labels(&w.labels),
            ports: w
                .ports
                .iter()
                .filter_map(|(name, port)| {
                    let range = values::parse_port_range(port).ok()?;
                    (range.first == range.last).then(|| NamedPort {
                        name: name.value.clone(),
                        port: range,
                    })
                })
                .collect(),
            host_network: w.host_network.as_ref().is_some_and(|h| h.value),
            nodes: w.node.iter().map(|n| n.value.clone()).collect(),
            origin: WorkloadOrigin::Declared,
            span: w.name.span,
        });
    }
    for p in &intent.policies {
        name_label(&p.namespace.value, &mut out);
    }
    name_label(SYSTEM_NAMESPACE, &mut out);
    if out.find(SYSTEM_NAMESPACE, "coredns").is_none() {
        out.list.push(WorkloadPlan {
            namespace: SYSTEM_NAMESPACE.to_owned(),
            name: "coredns".to_owned(),
            labels: BTreeMap::from([(dns_label.0.to_owned(), dns_label.1.to_owned())]),
            ports: CLUSTER_DNS_PORTS
                .iter()
                .map(|(name, protocol, port)| NamedPort {
                    name: (*name).to_owned(),
                    port: PortRange::single(*protocol, *port),
                })
                .collect(),
            host_network: false,
            nodes: Vec::new(),
            origin: WorkloadOrigin::ClusterDns,
            span: Span::default(),
        });
    }
    if out.find(SYSTEM_NAMESPACE, "kube-apiserver").is_none() {
        out.list.push(WorkloadPlan {
            namespace: SYSTEM_NAMESPACE.to_owned(),
            name: "kube-apiserver".to_owned(),
            labels: BTreeMap::from([
                ("component".to_owned(), "kube-apiserver".to_owned()),
                ("tier".to_owned(), "control-plane".to_owned()),
            ]),
            ports: vec![NamedPort {
                name: "https".to_owned(),
                port: PortRange::single(Protocol::Tcp, api_server_port),
            }],
            host_network: true,
            nodes: nodes
                .iter()
                .filter(|n| n.is_control_plane())
                .map(|n| n.name.clone())
                .collect(),
            origin: WorkloadOrigin::ApiServer,
            span: Span::default(),
        });
    }
    out
}
