//! `netc explain` against the Kubernetes documentation, case by case. Every case cites the rule
//! it tests: "NP §..." is a section of the Network Policies concept page
//! (kubernetes.io/docs/concepts/services-networking/network-policies/), "API ..." a field of the
//! networking.k8s.io/v1 NetworkPolicy reference; firewall cases cite netc's own node firewall
//! (README: "Things to know about the emitted files").
//!
//! The cluster is fixed (BASE: Calico, three nodes, an nftables firewall, workloads in four
//! namespaces); each case adds its `policies:` and asks one question.

use netc::diagnostic::{SourceFile, code};
use netc::explain::{Connectivity, Layer};
use netc::intent::Syntax;
use netc::pipeline;

const BASE: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: truth}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
cni: {plugin: calico}
nodes:
  - {name: cp-1, role: control-plane, address: 10.0.1.10/24}
  - {name: worker-1, role: worker, address: 10.0.1.11/24}
  - {name: worker-2, role: worker, address: 10.0.1.12/24}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
    - {name: exporter, ports: [tcp/9100], from: [10.0.1.0/24]}
    - {name: block-7000, ports: [tcp/7000], action: drop}
workloads:
  - {namespace: prod, name: web, labels: {app: web, tier: front}, namespaceLabels: {env: prod}, ports: {http: tcp/8080, metrics: tcp/9090}}
  - {namespace: prod, name: api, labels: {app: api}, ports: {grpc: tcp/9000, http: tcp/8081}}
  - {namespace: prod, name: db, labels: {app: db}, ports: {pg: tcp/5432}, node: worker-1}
  - {namespace: prod, name: agent, labels: {app: agent}, ports: {metrics: tcp/9100}, hostNetwork: true, node: worker-1}
  - {namespace: dev, name: web, labels: {app: web}, namespaceLabels: {env: dev}, ports: {http: tcp/8080}}
  - {namespace: dev, name: tool, labels: {app: tool}}
  - {namespace: mon, name: prom, labels: {app: prometheus}, namespaceLabels: {team: ops}}
"#;

struct Case {
    cite: &'static str,
    policies: &'static str,
    from: &'static str,
    to: &'static str,
    port: &'static str,
    allowed: bool,
}

const fn case(
    cite: &'static str,
    policies: &'static str,
    from: &'static str,
    to: &'static str,
    port: &'static str,
    allowed: bool,
) -> Case {
    Case {
        cite,
        policies,
        from,
        to,
        port,
        allowed,
    }
}

const NONE: &str = "";
const DENY_IN_PROD: &str = "
  - namespace: prod
    defaultDeny: [ingress]";
const DENY_OUT_PROD: &str = "
  - namespace: prod
    defaultDeny: [egress]
    allowDNS: false";
const API_FROM_WEB: &str = "
  - namespace: prod
    rules:
      - {name: api-from-web, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/9000]}";
const API_TWO_RULES: &str = "
  - namespace: prod
    rules:
      - {name: api-from-web, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/9000]}
      - {name: api-from-ops, to: {app: api}, from: [{namespace: {labels: {team: ops}}}], ports: [tcp/9090]}";
const DENY_PLUS_ALLOW: &str = "
  - namespace: prod
    defaultDeny: [ingress]
    rules:
      - {name: api-from-web, to: {app: api}, from: [{pods: {app: web}}]}";
const NS_ONLY: &str = "
  - namespace: prod
    rules:
      - {name: api-from-ops, to: {app: api}, from: [{namespace: {labels: {team: ops}}}]}";
const AND_PEER: &str = "
  - namespace: prod
    rules:
      - {name: api-from-dev-web, to: {app: api}, from: [{namespace: {labels: {env: dev}}, pods: {app: web}}]}";
const OR_PEERS: &str = "
  - namespace: prod
    rules:
      - {name: api-from-dev-or-web, to: {app: api}, from: [{namespace: {labels: {env: dev}}}, {pods: {app: web}}]}";
const NS_BY_NAME: &str = "
  - namespace: prod
    rules:
      - {name: api-from-mon, to: {app: api}, from: [{namespace: {name: mon}}]}";
const EMPTY_POD_SELECTOR: &str = "
  - namespace: prod
    rules:
      - {name: api-from-prod, to: {app: api}, from: [{pods: {}}]}";
const EMPTY_NS_SELECTOR: &str = "
  - namespace: prod
    rules:
      - {name: api-from-all-ns, to: {app: api}, from: [{namespace: {labels: {}}}]}";
const BLOCK: &str = "
  - namespace: prod
    rules:
      - {name: api-from-lan, to: {app: api}, from: [{cidr: 192.168.0.0/16, except: [192.168.1.0/24]}]}";
const BLOCK_PODS: &str = "
  - namespace: prod
    rules:
      - {name: api-from-pods, to: {app: api}, from: [{cidr: 10.244.0.0/16}]}";
const BLOCK_WORKER1_PODS: &str = "
  - namespace: prod
    rules:
      - {name: api-from-w1-pods, to: {app: api}, from: [{cidr: 10.244.1.0/24}]}";
const BLOCK_NODES: &str = "
  - namespace: prod
    rules:
      - {name: api-from-nodes, to: {app: api}, from: [{cidr: 10.0.1.0/24}]}";
const AGENT_BY_LABEL: &str = "
  - namespace: prod
    rules:
      - {name: api-from-agent, to: {app: api}, from: [{pods: {app: agent}}]}";
const AGENT_BY_ADDRESS: &str = "
  - namespace: prod
    rules:
      - {name: api-from-worker-1, to: {app: api}, from: [{cidr: 10.0.1.11/32}]}";
const PORT_RANGE: &str = "
  - namespace: prod
    rules:
      - {name: api-range, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/9000-9010]}";
const NAMED_GRPC: &str = "
  - namespace: prod
    rules:
      - {name: api-grpc, to: {app: api}, from: [{pods: {app: web}}], ports: [tcp/grpc]}";
const NAMED_HTTP_ALL: &str = "
  - namespace: prod
    rules:
      - {name: http-for-all, from: [], ports: [tcp/http]}";
const NO_PORTS: &str = "
  - namespace: prod
    rules:
      - {name: api-any-port, to: {app: api}, from: [{pods: {app: web}}]}";
const SCTP: &str = "
  - namespace: prod
    rules:
      - {name: api-sctp, to: {app: api}, from: [{pods: {app: web}}], ports: [sctp/9000]}";
const FROM_ANYONE: &str = "
  - namespace: prod
    rules:
      - {name: api-from-anyone, to: {app: api}, from: [], ports: [tcp/9000]}";
const FROM_ABSENT: &str = "
  - namespace: prod
    rules:
      - {name: api-from-nobody, to: {app: api}}";
const TO_ANYWHERE_NTP: &str = "
  - namespace: prod
    defaultDeny: [egress]
    egress:
      - {name: ntp, to: [], ports: [udp/123]}";
const EGRESS_TO_DB: &str = "
  - namespace: prod
    defaultDeny: [egress]
    egress:
      - {name: web-to-db, from: {app: web}, to: [{pods: {app: db}}], ports: [tcp/5432]}";
const DENY_OUT_DNS_DEFAULT: &str = "
  - namespace: prod
    defaultDeny: [egress]";
const EGRESS_INTERNET: &str = "
  - namespace: prod
    defaultDeny: [egress]
    allowDNS: false
    egress:
      - {name: web-to-internet, from: {app: web}, to: [{cidr: 0.0.0.0/0}], ports: [tcp/443]}";
const EGRESS_NAMED: &str = "
  - namespace: prod
    defaultDeny: [egress]
    allowDNS: false
    egress:
      - {name: web-to-api-grpc, from: {app: web}, to: [{pods: {app: api}}], ports: [tcp/grpc]}
      - {name: web-to-lan-grpc, from: {app: web}, to: [{cidr: 10.0.0.0/8}], ports: [tcp/grpc]}";
const IN_OK_OUT_DENIED: &str = "
  - namespace: prod
    defaultDeny: [egress]
    allowDNS: false
    rules:
      - {name: api-from-web, to: {app: api}, from: [{pods: {app: web}}]}";
const OUT_OK_IN_DENIED: &str = "
  - namespace: prod
    defaultDeny: [ingress, egress]
    allowDNS: false
    egress:
      - {name: web-to-api, from: {app: web}, to: [{pods: {app: api}}]}";
const DENY_IN_DEV: &str = "
  - namespace: dev
    defaultDeny: [ingress]";
const DENY_IN_EXCEPT_API: &str = "
  - namespace: prod
    defaultDeny: [ingress]
    rules:
      - {name: api-from-anyone, to: {app: api}, from: []}";

const NP_ISO: &str = "NP §The two sorts of pod isolation: a pod is non-isolated for a direction until a policy that selects it has that direction in policyTypes";
const NP_ISO_NS: &str = "API NetworkPolicy.metadata.namespace / NP §The NetworkPolicy resource: a policy applies to pods of its own namespace only";
const NP_ADD: &str = "NP §The two sorts of pod isolation: policies are additive; the allowed connections are the union of the selecting policies' rules";
const NP_DIR: &str = "NP §The two sorts of pod isolation: for a connection both the source's egress and the destination's ingress must allow it";
const API_POD_SEL: &str =
    "API NetworkPolicyPeer.podSelector: alone, it selects pods in the policy's own namespace";
const API_NS_SEL: &str = "API NetworkPolicyPeer.namespaceSelector: alone, it selects all pods of the matching namespaces";
const NP_AND: &str = "NP §Behavior of to and from selectors: namespaceSelector and podSelector in one element select pods matching both";
const NP_OR: &str = "NP §Behavior of to and from selectors: separate elements of from/to are ORed";
const NP_NS_NAME: &str =
    "NP §Targeting a Namespace by its name: kubernetes.io/metadata.name is set on every namespace";
const API_EMPTY_SEL: &str = "API LabelSelector: an empty selector ({}) matches everything";
const API_IPBLOCK: &str = "API IPBlock: cidr with except, addresses in except do not match";
const NP_IPBLOCK_PODS: &str = "API IPBlock + netc: a pod address matches an ipBlock only when its whole possible range (its node's pod subnet, or the pod network) lies inside";
const NP_HOSTNET: &str = "NP §What you can't do / hostNetwork: hostNetwork pods are not selected by pod selectors; they have the node's address";
const API_PORT: &str = "API NetworkPolicyPort.port + protocol: both must match";
const NP_RANGE: &str = "NP §Targeting a range of ports: endPort is inclusive";
const API_NAMED: &str =
    "API NetworkPolicyPort.port: a named port is resolved on the destination pod's container ports";
const API_NO_PORTS: &str = "API NetworkPolicyIngressRule.ports: empty or missing matches all ports";
const API_FROM_EMPTY: &str =
    "API NetworkPolicyIngressRule.from: empty or missing matches all sources";
const API_TO_EMPTY: &str =
    "API NetworkPolicyEgressRule.to: empty or missing matches all destinations";
const NETC_ABSENT: &str = "netc intent: an absent `from` admits nobody, so the policy only isolates its pods (NP §Default policies: a policy with no rules denies)";
const NETC_DNS: &str = "netc intent: allowDNS (default true with egress denied) emits an egress rule to k8s-app=kube-dns in kube-system on UDP and TCP 53";
const NP_NODE: &str = "NP §intro: traffic to and from the node where a pod runs is always allowed";
const FW: &str = "netc node firewall (nftables): management, then the intent's rules in order, then claimed ports, then trusted pod/service networks, then policy drop";
const NP_NODE_HOSTNET: &str = "NP §intro + NP §What you can't do / hostNetwork: a hostNetwork pod sends from its node's address, so it is the node a pod runs on (or not) exactly as node/NAME is";
const FW_LOOPBACK: &str = "netc node firewall: a node's (or its hostNetwork pod's) connection to its own address arrives on lo, accepted first (netc.nft.j2 `iifname \"lo\" accept`)";

const CASES: &[Case] = &[
    // Isolation
    case(NP_ISO, NONE, "prod/web", "prod/api", "tcp/9000", true),
    case(
        NP_ISO,
        DENY_IN_PROD,
        "prod/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_ISO,
        DENY_IN_PROD,
        "prod/api",
        "dev/web",
        "tcp/8080",
        true,
    ),
    case(
        NP_ISO_NS,
        DENY_IN_DEV,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_ISO_NS,
        DENY_IN_DEV,
        "prod/web",
        "dev/web",
        "tcp/8080",
        false,
    ),
    case(
        NP_ISO,
        DENY_OUT_PROD,
        "prod/web",
        "dev/web",
        "tcp/8080",
        false,
    ),
    case(
        NP_ISO,
        DENY_OUT_PROD,
        "dev/web",
        "prod/web",
        "tcp/8080",
        true,
    ),
    case(
        NP_ISO,
        DENY_IN_EXCEPT_API,
        "dev/tool",
        "prod/web",
        "tcp/8080",
        false,
    ),
    case(
        NP_ISO,
        DENY_IN_EXCEPT_API,
        "dev/tool",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_ISO,
        API_FROM_WEB,
        "dev/tool",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_ISO,
        API_FROM_WEB,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_ISO,
        API_FROM_WEB,
        "dev/tool",
        "prod/db",
        "tcp/5432",
        true,
    ),
    // Union
    case(
        NP_ADD,
        API_TWO_RULES,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_ADD,
        API_TWO_RULES,
        "mon/prom",
        "prod/api",
        "tcp/9090",
        true,
    ),
    case(
        NP_ADD,
        API_TWO_RULES,
        "prod/web",
        "prod/api",
        "tcp/9090",
        false,
    ),
    case(
        NP_ADD,
        API_TWO_RULES,
        "mon/prom",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_ADD,
        DENY_PLUS_ALLOW,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_ADD,
        DENY_PLUS_ALLOW,
        "prod/web",
        "prod/db",
        "tcp/5432",
        false,
    ),
    // Peers
    case(
        API_POD_SEL,
        API_FROM_WEB,
        "dev/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        API_NS_SEL, NS_ONLY, "mon/prom", "prod/api", "tcp/9000", true,
    ),
    case(
        API_NS_SEL, NS_ONLY, "prod/web", "prod/api", "tcp/9000", false,
    ),
    case(NP_AND, AND_PEER, "dev/web", "prod/api", "tcp/9000", true),
    case(NP_AND, AND_PEER, "prod/web", "prod/api", "tcp/9000", false),
    case(NP_AND, AND_PEER, "dev/tool", "prod/api", "tcp/9000", false),
    case(NP_OR, OR_PEERS, "dev/tool", "prod/api", "tcp/9000", true),
    case(NP_OR, OR_PEERS, "prod/web", "prod/api", "tcp/9000", true),
    case(NP_OR, OR_PEERS, "mon/prom", "prod/api", "tcp/9000", false),
    case(
        NP_NS_NAME, NS_BY_NAME, "mon/prom", "prod/api", "tcp/9000", true,
    ),
    case(
        NP_NS_NAME, NS_BY_NAME, "dev/web", "prod/api", "tcp/9000", false,
    ),
    case(
        API_EMPTY_SEL,
        EMPTY_POD_SELECTOR,
        "prod/db",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_EMPTY_SEL,
        EMPTY_POD_SELECTOR,
        "dev/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        API_EMPTY_SEL,
        EMPTY_NS_SELECTOR,
        "mon/prom",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_EMPTY_SEL,
        EMPTY_NS_SELECTOR,
        "192.168.3.3",
        "prod/api",
        "tcp/9000",
        false,
    ),
    // ipBlock
    case(
        API_IPBLOCK,
        BLOCK,
        "192.168.5.5",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_IPBLOCK,
        BLOCK,
        "172.16.0.1",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        API_IPBLOCK,
        BLOCK,
        "192.168.1.7",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        API_IPBLOCK,
        BLOCK,
        "192.168.2.0/24",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_IPBLOCK,
        BLOCK,
        "192.168.0.0/23",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_IPBLOCK_PODS,
        BLOCK_PODS,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_IPBLOCK_PODS,
        BLOCK_WORKER1_PODS,
        "prod/db",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        NP_IPBLOCK_PODS,
        BLOCK_WORKER1_PODS,
        "prod/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        API_IPBLOCK,
        BLOCK_NODES,
        "node/worker-2",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_EMPTY_SEL,
        EMPTY_POD_SELECTOR,
        "node/worker-2",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_HOSTNET,
        AGENT_BY_LABEL,
        "prod/agent",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_HOSTNET,
        AGENT_BY_ADDRESS,
        "prod/agent",
        "prod/api",
        "tcp/9000",
        true,
    ),
    // Ports
    case(
        API_PORT,
        API_FROM_WEB,
        "prod/web",
        "prod/api",
        "tcp/9001",
        false,
    ),
    case(
        API_PORT,
        API_FROM_WEB,
        "prod/web",
        "prod/api",
        "udp/9000",
        false,
    ),
    case(
        NP_RANGE, PORT_RANGE, "prod/web", "prod/api", "tcp/9010", true,
    ),
    case(
        NP_RANGE, PORT_RANGE, "prod/web", "prod/api", "tcp/9011", false,
    ),
    case(
        NP_RANGE, PORT_RANGE, "prod/web", "prod/api", "tcp/8999", false,
    ),
    case(
        API_NAMED, NAMED_GRPC, "prod/web", "prod/api", "tcp/9000", true,
    ),
    case(
        API_NAMED, NAMED_GRPC, "prod/web", "prod/api", "tcp/8081", false,
    ),
    case(
        API_NAMED,
        NAMED_HTTP_ALL,
        "dev/tool",
        "prod/web",
        "tcp/8080",
        true,
    ),
    case(
        API_NAMED,
        NAMED_HTTP_ALL,
        "dev/tool",
        "prod/api",
        "tcp/8081",
        true,
    ),
    case(
        API_NAMED,
        NAMED_HTTP_ALL,
        "dev/tool",
        "prod/api",
        "tcp/8080",
        false,
    ),
    case(
        API_NAMED,
        NAMED_HTTP_ALL,
        "dev/tool",
        "prod/db",
        "tcp/5432",
        false,
    ),
    case(
        API_NO_PORTS,
        NO_PORTS,
        "prod/web",
        "prod/api",
        "tcp/1234",
        true,
    ),
    case(
        API_NO_PORTS,
        NO_PORTS,
        "prod/web",
        "prod/api",
        "udp/53",
        true,
    ),
    case(API_PORT, SCTP, "prod/web", "prod/api", "sctp/9000", true),
    case(API_PORT, SCTP, "prod/web", "prod/api", "tcp/9000", false),
    // from: [] / absent
    case(
        API_FROM_EMPTY,
        FROM_ANYONE,
        "203.0.113.9",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_FROM_EMPTY,
        FROM_ANYONE,
        "mon/prom",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_FROM_EMPTY,
        FROM_ANYONE,
        "mon/prom",
        "prod/api",
        "tcp/9001",
        false,
    ),
    case(
        NETC_ABSENT,
        FROM_ABSENT,
        "prod/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        API_TO_EMPTY,
        TO_ANYWHERE_NTP,
        "prod/web",
        "198.51.100.1",
        "udp/123",
        true,
    ),
    case(
        API_TO_EMPTY,
        TO_ANYWHERE_NTP,
        "prod/web",
        "198.51.100.1",
        "tcp/123",
        false,
    ),
    // Egress
    case(
        NP_ISO,
        EGRESS_TO_DB,
        "prod/web",
        "prod/db",
        "tcp/5432",
        true,
    ),
    case(
        NP_ISO,
        EGRESS_TO_DB,
        "prod/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_ISO,
        EGRESS_TO_DB,
        "prod/api",
        "prod/db",
        "tcp/5432",
        false,
    ),
    case(
        NETC_DNS,
        DENY_OUT_DNS_DEFAULT,
        "prod/web",
        "kube-system/coredns",
        "udp/53",
        true,
    ),
    case(
        NETC_DNS,
        DENY_OUT_DNS_DEFAULT,
        "prod/web",
        "kube-system/coredns",
        "tcp/dns-tcp",
        true,
    ),
    case(
        NETC_DNS,
        DENY_OUT_DNS_DEFAULT,
        "prod/web",
        "kube-system/coredns",
        "tcp/9153",
        false,
    ),
    case(
        NETC_DNS,
        DENY_OUT_PROD,
        "prod/web",
        "kube-system/coredns",
        "udp/53",
        false,
    ),
    case(
        API_IPBLOCK,
        EGRESS_INTERNET,
        "prod/web",
        "8.8.8.8",
        "tcp/443",
        true,
    ),
    case(
        API_IPBLOCK,
        EGRESS_INTERNET,
        "prod/web",
        "8.8.8.8",
        "tcp/80",
        false,
    ),
    case(
        API_NAMED,
        EGRESS_NAMED,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
    case(
        API_NAMED,
        EGRESS_NAMED,
        "prod/web",
        "10.1.2.3",
        "tcp/9000",
        false,
    ),
    // Both directions
    case(
        NP_DIR,
        IN_OK_OUT_DENIED,
        "prod/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(
        NP_DIR,
        OUT_OK_IN_DENIED,
        "prod/web",
        "prod/api",
        "tcp/9000",
        false,
    ),
    // Nodes, hostNetwork, the node firewall
    case(
        NP_HOSTNET,
        DENY_IN_PROD,
        "prod/web",
        "prod/agent",
        "tcp/9100",
        true,
    ),
    case(FW, NONE, "192.168.9.9", "node/worker-1", "tcp/9100", false),
    case(FW, NONE, "10.0.1.50", "node/worker-1", "tcp/9100", true),
    case(FW, NONE, "192.168.9.9", "node/worker-1", "tcp/22", true),
    case(FW, NONE, "192.168.9.9", "node/worker-1", "tcp/7000", false),
    case(FW, NONE, "prod/web", "node/worker-1", "tcp/7000", false),
    // A pod on the node itself: delivered locally, a trusted pod network. (From another
    // node, Calico's natOutgoing masquerades it: CNI_MASQ_CASES.)
    case(FW, NONE, "prod/db", "node/worker-1", "tcp/8443", true),
    case(FW, NONE, "192.168.9.9", "node/cp-1", "tcp/6443", true),
    case(FW, NONE, "192.168.9.9", "node/worker-1", "tcp/6443", false),
    case(
        FW,
        NONE,
        "192.168.9.9",
        "kube-system/kube-apiserver",
        "tcp/6443",
        true,
    ),
    case(FW, NONE, "192.168.9.9", "prod/agent", "tcp/9100", false),
    case(
        NP_NODE,
        DENY_IN_PROD,
        "node/worker-1",
        "prod/db",
        "tcp/5432",
        true,
    ),
    case(
        NP_NODE,
        DENY_IN_PROD,
        "node/worker-2",
        "prod/db",
        "tcp/5432",
        false,
    ),
    // A hostNetwork pod (prod/agent, on worker-1) is its node: what node/worker-1 gets above.
    case(
        NP_NODE_HOSTNET,
        DENY_IN_PROD,
        "prod/agent",
        "prod/db",
        "tcp/5432",
        true,
    ),
    case(
        NP_NODE_HOSTNET,
        DENY_IN_PROD,
        "prod/agent",
        "prod/api",
        "tcp/9000",
        false,
    ),
    case(FW, NONE, "prod/agent", "node/cp-1", "tcp/9100", true),
    case(FW, NONE, "prod/agent", "node/cp-1", "tcp/7000", false),
    case(
        FW_LOOPBACK,
        NONE,
        "prod/agent",
        "node/worker-1",
        "tcp/7000",
        true,
    ),
    case(
        FW_LOOPBACK,
        NONE,
        "node/worker-1",
        "node/worker-1",
        "tcp/7000",
        true,
    ),
];

// matchExpressions: "Set-based requirement" of the Labels and Selectors concept page
// (kubernetes.io/docs/concepts/overview/working-with-objects/labels/#set-based-requirement):
// `In` needs the key with one of the values; `NotIn` matches objects without the key or with
// none of the values; `exists` (`Exists`) the key present; `!key` (`DoesNotExist`) absent;
// "all of the requirements must be satisfied" (with matchLabels: LabelSelector, API reference).
const SEL_IN: &str = "Labels §Set-based: In = key present with one of the values";
const SEL_NOTIN: &str = "Labels §Set-based: NotIn = key absent, or none of the values";
const SEL_EXISTS: &str = "Labels §Set-based: Exists = key present, any value";
const SEL_DNE: &str = "Labels §Set-based: DoesNotExist = key absent";
const SEL_AND: &str = "API LabelSelector: matchLabels and matchExpressions are ANDed";
const POD_IN: &str = "
  - namespace: prod
    rules:
      - {name: api-from-tiers, to: {app: api}, from: [{podExpressions: [{key: tier, operator: In, values: [front, back]}]}]}";
const POD_NOTIN: &str = "
  - namespace: prod
    rules:
      - {name: api-not-front, to: {app: api}, from: [{podExpressions: [{key: tier, operator: NotIn, values: [front]}]}]}";
const POD_EXISTS: &str = "
  - namespace: prod
    rules:
      - {name: api-tiered, to: {app: api}, from: [{podExpressions: [{key: tier, operator: Exists}]}]}";
const POD_DNE: &str = "
  - namespace: prod
    rules:
      - {name: api-untiered, to: {app: api}, from: [{podExpressions: [{key: tier, operator: DoesNotExist}]}]}";
const POD_AND: &str = "
  - namespace: prod
    rules:
      - {name: api-web-not-front, to: {app: api}, from: [{pods: {app: web}, podExpressions: [{key: tier, operator: NotIn, values: [front]}], namespace: {}}]}";
const NS_IN: &str = "
  - namespace: prod
    rules:
      - {name: api-from-dev, to: {app: api}, from: [{namespace: {expressions: [{key: env, operator: In, values: [dev, qa]}]}}]}";
const NS_NOTIN: &str = "
  - namespace: prod
    rules:
      - {name: api-not-prod, to: {app: api}, from: [{namespace: {expressions: [{key: env, operator: NotIn, values: [prod]}]}}]}";
const NS_EXISTS: &str = "
  - namespace: prod
    rules:
      - {name: api-from-teams, to: {app: api}, from: [{namespace: {expressions: [{key: team, operator: Exists}]}}]}";
const NS_DNE: &str = "
  - namespace: prod
    rules:
      - {name: api-no-team, to: {app: api}, from: [{namespace: {expressions: [{key: team, operator: DoesNotExist}]}}]}";
const SUBJECT_NOTIN: &str = "
  - namespace: prod
    rules:
      - {name: all-but-api, toExpressions: [{key: app, operator: NotIn, values: [api]}], from: [{pods: {app: nothing}}]}";

/// matchExpressions per operator: present / absent key, in / not in the values, on pod,
/// namespace and subject selectors.
const EXPRESSION_CASES: &[Case] = &[
    case(SEL_IN, POD_IN, "prod/web", "prod/api", "tcp/9000", true),
    case(SEL_IN, POD_IN, "prod/db", "prod/api", "tcp/9000", false),
    case(
        SEL_NOTIN, POD_NOTIN, "prod/web", "prod/api", "tcp/9000", false,
    ),
    case(
        SEL_NOTIN, POD_NOTIN, "prod/db", "prod/api", "tcp/9000", true,
    ),
    case(
        SEL_EXISTS, POD_EXISTS, "prod/web", "prod/api", "tcp/9000", true,
    ),
    case(
        SEL_EXISTS, POD_EXISTS, "prod/db", "prod/api", "tcp/9000", false,
    ),
    case(SEL_DNE, POD_DNE, "prod/web", "prod/api", "tcp/9000", false),
    case(SEL_DNE, POD_DNE, "prod/db", "prod/api", "tcp/9000", true),
    case(SEL_AND, POD_AND, "prod/web", "prod/api", "tcp/9000", false),
    case(SEL_AND, POD_AND, "dev/web", "prod/api", "tcp/9000", true),
    case(SEL_AND, POD_AND, "dev/tool", "prod/api", "tcp/9000", false),
    case(SEL_IN, NS_IN, "dev/tool", "prod/api", "tcp/9000", true),
    case(SEL_IN, NS_IN, "mon/prom", "prod/api", "tcp/9000", false),
    case(
        SEL_NOTIN, NS_NOTIN, "mon/prom", "prod/api", "tcp/9000", true,
    ),
    case(
        SEL_NOTIN, NS_NOTIN, "dev/tool", "prod/api", "tcp/9000", true,
    ),
    case(
        SEL_NOTIN, NS_NOTIN, "prod/web", "prod/api", "tcp/9000", false,
    ),
    case(
        SEL_EXISTS, NS_EXISTS, "mon/prom", "prod/api", "tcp/9000", true,
    ),
    case(
        SEL_EXISTS, NS_EXISTS, "dev/tool", "prod/api", "tcp/9000", false,
    ),
    case(SEL_DNE, NS_DNE, "dev/tool", "prod/api", "tcp/9000", true),
    case(SEL_DNE, NS_DNE, "mon/prom", "prod/api", "tcp/9000", false),
    case(
        SEL_NOTIN,
        SUBJECT_NOTIN,
        "prod/web",
        "prod/db",
        "tcp/5432",
        false,
    ),
    case(
        SEL_NOTIN,
        SUBJECT_NOTIN,
        "prod/web",
        "prod/api",
        "tcp/9000",
        true,
    ),
];

// The source address the destination sees, with the reference bridge plugin. netc writes its
// conflist with `ipMasq: false` (`emit::cni`, `BridgeConf::ip_masq`) and masquerades in the
// node firewall instead (`plan::firewall::host_masquerades`, on unless `natOutgoing: false`):
// `firewall/NODE.nft`'s postrouting chain `ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16
// masquerade` (firewalld: the rich rule `source address=... destination NOT address=...
// masquerade`). Postrouting sees only traffic leaving the node, so a pod reaching another
// node's address arrives from its own node's address; to its own node it keeps its address.
const BRIDGE_BASE: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: masquerade}
cluster:
  distribution: kubeadm
  kubernetesVersion: v1.31.2
  podCIDR: 10.244.0.0/16
  serviceCIDR: 10.96.0.0/12
cni: {plugin: bridge}
nodes:
  - {name: cp-1, role: control-plane, address: 10.0.1.10/24}
  - {name: worker-1, role: worker, address: 10.0.1.11/24}
  - {name: worker-2, role: worker, address: 10.0.1.12/24}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
    - {name: from-cp, ports: [tcp/7100], from: [10.0.1.10/32]}
workloads:
  - {namespace: prod, name: web, labels: {app: web}, node: cp-1}
  - {namespace: prod, name: db, labels: {app: db}, ports: {pg: tcp/5432}, node: worker-1}
  - {namespace: prod, name: any, labels: {app: any}}
  - {namespace: prod, name: agent, labels: {app: agent}, ports: {metrics: tcp/9100}, hostNetwork: true, node: worker-2}
"#;

const MASQ_OTHER: &str = "netc bridge + nftables: firewall/cp-1.nft postrouting `ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade` (plan::firewall::host_masquerades; conflist ipMasq false): a pod reaching another node arrives from its node's address, not a trusted pod network";
const MASQ_RULE: &str = "netc bridge + nftables: masqueraded to cp-1's address 10.0.1.10 (firewall/cp-1.nft postrouting), which worker-1's rule from-cp accepts";
const MASQ_SAME: &str = "netc bridge + nftables: to its own node's address a pod's packet is delivered locally (input, never postrouting): not masqueraded, a trusted pod network";
const MASQ_ANY: &str = "netc bridge + nftables: a pod that may run on any node is masqueraded (firewall/NODE.nft postrouting) from every node but the destination: allowed only if every way is";
const MASQ_HOSTNET: &str = "netc bridge + nftables: a hostNetwork destination is its node's address, outside 10.244.0.0/16: the pod is masqueraded by firewall/cp-1.nft postrouting";
const MASQ_POD: &str = "netc bridge + nftables: pod to pod stays inside 10.244.0.0/16 (`daddr != 10.244.0.0/16` fails): never masqueraded, and bridge enforces no policies";
const HOSTNET_NODE: &str = "netc: a hostNetwork pod sends from its node's address, as node/NAME does (never masqueraded: host traffic, not from 10.244.0.0/16)";
const HOSTNET_LO: &str = "netc: a hostNetwork pod reaching its own node arrives on lo, accepted first (netc.nft.j2 `iifname \"lo\" accept`), as node/NAME to itself";
const NO_MASQ: &str = "netc bridge, natOutgoing: false: BridgeSettings::masquerade off, no postrouting chain in firewall/NODE.nft: the pod keeps its trusted address";
const MASQ_FIREWALLD: &str = "netc bridge + firewalld: the zone's rich rule `source address=10.244.0.0/16 destination NOT address=10.244.0.0/16 masquerade` (emit::firewall::masquerade_rule): the node's address is outside the trusted zone, the default target rejects";

/// One question on BRIDGE_BASE after `edit` (from, to) replacements.
struct MasqCase {
    cite: &'static str,
    edit: (&'static str, &'static str),
    from: &'static str,
    to: &'static str,
    port: &'static str,
    allowed: bool,
}

const fn masq(
    cite: &'static str,
    edit: (&'static str, &'static str),
    from: &'static str,
    to: &'static str,
    port: &'static str,
    allowed: bool,
) -> MasqCase {
    MasqCase {
        cite,
        edit,
        from,
        to,
        port,
        allowed,
    }
}

const AS_IS: (&str, &str) = ("", "");
const NAT_OFF: (&str, &str) = (
    "cni: {plugin: bridge}",
    "cni: {plugin: bridge, calico: {natOutgoing: false}}",
);
const FIREWALLD: (&str, &str) = ("backend: nftables", "backend: firewalld");

const MASQ_CASES: &[MasqCase] = &[
    masq(
        MASQ_OTHER,
        AS_IS,
        "prod/web",
        "node/worker-1",
        "tcp/7000",
        false,
    ),
    masq(
        MASQ_RULE,
        AS_IS,
        "prod/web",
        "node/worker-1",
        "tcp/7100",
        true,
    ),
    masq(
        MASQ_RULE,
        AS_IS,
        "prod/db",
        "node/worker-2",
        "tcp/7100",
        false,
    ),
    masq(
        MASQ_SAME,
        AS_IS,
        "prod/db",
        "node/worker-1",
        "tcp/7000",
        true,
    ),
    masq(MASQ_SAME, AS_IS, "prod/web", "node/cp-1", "tcp/7000", true),
    masq(
        MASQ_ANY,
        AS_IS,
        "prod/any",
        "node/worker-1",
        "tcp/7000",
        false,
    ),
    masq(
        MASQ_HOSTNET,
        AS_IS,
        "prod/web",
        "prod/agent",
        "tcp/9100",
        false,
    ),
    masq(MASQ_POD, AS_IS, "prod/web", "prod/db", "tcp/5432", true),
    masq(
        HOSTNET_NODE,
        AS_IS,
        "prod/agent",
        "node/worker-1",
        "tcp/7000",
        false,
    ),
    masq(
        HOSTNET_NODE,
        AS_IS,
        "node/worker-2",
        "node/worker-1",
        "tcp/7000",
        false,
    ),
    masq(
        HOSTNET_NODE,
        AS_IS,
        "prod/agent",
        "node/worker-1",
        "tcp/22",
        true,
    ),
    masq(
        HOSTNET_LO,
        AS_IS,
        "prod/agent",
        "node/worker-2",
        "tcp/7000",
        true,
    ),
    masq(
        HOSTNET_LO,
        AS_IS,
        "node/worker-2",
        "node/worker-2",
        "tcp/7000",
        true,
    ),
    masq(
        NO_MASQ,
        NAT_OFF,
        "prod/web",
        "node/worker-1",
        "tcp/7000",
        true,
    ),
    masq(
        NO_MASQ,
        NAT_OFF,
        "prod/any",
        "node/worker-1",
        "tcp/7000",
        true,
    ),
    masq(
        MASQ_FIREWALLD,
        FIREWALLD,
        "prod/web",
        "node/worker-1",
        "tcp/7000",
        false,
    ),
    masq(
        MASQ_FIREWALLD,
        FIREWALLD,
        "prod/db",
        "node/worker-1",
        "tcp/7000",
        true,
    ),
];

// The masquerade the CNI itself does, on BRIDGE_BASE with another plugin: the node firewall
// judges the address it sees, and an address outside the cluster sees the node.
const FLANNEL_MASQ: &str = "flannel-io/flannel v0.28.9 pkg/trafficmngr/iptables/iptables.go masqRules (nftables.go addMasqRules the same): FLANNEL-POSTRTG `-s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE` after returning for traffic inside the network; kube-flannel.yml runs flanneld --ip-masq: a pod reaching another node's address arrives from its node's";
const FLANNEL_POD: &str = "flannel-io/flannel v0.28.9 masqRules: `-s <node subnet> -d 10.244.0.0/16 -j RETURN` first: pod to pod is never masqueraded";
const FLANNEL_MCAST: &str =
    "flannel-io/flannel v0.28.9 masqRules: `! -d 224.0.0.0/4`: multicast is never masqueraded";
const FLANNEL_PARTLY: &str = "flannel-io/flannel v0.28.9 masqRules: a destination network partly inside the pod network (or multicast) is partly left alone: explain says the pod may be masqueraded, not that it is";
const FLANNEL_OFF: &str = "rke2-flannel `flannel.args` without --ip-masq (emit::rke2, natOutgoing: false): flanneld writes FLANNEL_IPMASQ=false, and the flannel CNI plugin sets the delegate's unset ipMasq to true (flannel-io/cni-plugin flannel_linux.go doCmdAdd: \"if flannel is not doing ipmasq, we should\"; rke2-flannel's cni-conf.json sets none): the bridge plugin's SetupIPMasq (containernetworking/plugins pkg/ip/ipmasq_iptables_linux.go) `-d <node subnet> -j ACCEPT`, `! -d 224.0.0.0/4 -j MASQUERADE`: another node and an outside host see cp-1";
const CANAL_MASQ: &str = "calico manifests/canal.yaml, rke2-charts rke2-canal: FLANNELD_IP_MASQ from canal-config `masquerade` (emit::rke2 calico.masquerade): flanneld's masquerade as with flannel";
const CALICO_MASQ: &str = "projectcalico/calico felix/rules/nat.go makeNATOutgoingRuleIPTables: `--match-set cali40masq-ipam-pools src ! --match-set cali40all-ipam-pools dst -j MASQUERADE` (natOutgoingExclusions default IPPoolsOnly: node addresses are not excluded)";
const CALICO_POD: &str = "projectcalico/calico felix/rules/nat.go: a destination in any IP pool (cali40all-ipam-pools) is never masqueraded";
const CALICO_OFF: &str = "projectcalico/calico felix/dataplane/linux/masq_mgr.go: a pool with natOutgoing false is not in masq-ipam-pools: no masquerade, the pod keeps its trusted address";
const CILIUM_TUNNEL: &str = "cilium/cilium pkg/datapath/iptables/iptables.go installMasqueradeRules: `-s <node range> ! -d <node range> ! -o cilium_+ -j MASQUERADE` (tunnel: RemoteSNATDstAddrExclusionCIDR is the node range; remote pods leave on cilium_vxlan): another node's address is masqueraded";
const CILIUM_NATIVE: &str = "cilium/cilium installMasqueradeRules with native routing (NodeIpsetNeeded): `-s <node range> -m set --match-set cilium_node_set_v4 dst -j ACCEPT` first (\"exclude traffic to cluster nodes from masquerade\"), then `! -d <ipv4NativeRoutingCIDR>`: another node sees the pod, an outside host the node";
const CILIUM_OFF: &str = "cilium values enableIPv4Masquerade: false (emit::cilium, natOutgoing: false): no masquerade rule, the pod keeps its trusted address";

const CK_CILIUM: &str = "canonical/k8s-snap release-1.31 src/k8s/pkg/k8sd/features/cilium/network.go sets no routingMode, masquerade or bpf.masquerade; charts/cilium-1.16.3.tgz: routing-mode tunnel, enable-ipv4-masquerade true, no enable-bpf-masquerade: cilium's iptables `-s <node range> ! -d <node range> ! -o cilium_+ -j MASQUERADE`: another node, an outside host see cp-1";
const CK_CILIUM_POD: &str = "canonical/k8s-snap cilium/network.go (tunnel routing, chart default): remote pods leave on cilium_vxlan (`! -o cilium_+`): pod to pod keeps the pod's address";
const CK_CILIUM_130: &str = "canonical/k8s-snap release-1.30 src/k8s/pkg/k8sd/features/feature_network.go with charts/cilium-1.15.2.tgz: tunnel, enable-ipv4-masquerade true, iptables masquerade (as 1.31)";
const CK_CILIUM_136: &str = "canonical/k8s-snap release-1.36 builds canonical/k8sd pkg/k8sd/features/cilium/network.go: kubeProxyReplacement true but still no bpf.masquerade (charts/cilium-1.19.4.tgz: enable-bpf-masquerade unrendered, agent default false): iptables masquerade, tunnel";

const FLANNEL: (&str, &str) = ("cni: {plugin: bridge}", "cni: {plugin: flannel}");
const FLANNEL_RKE2_OFF: (&str, &str) = (
    "distribution: kubeadm\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: bridge}",
    "distribution: rke2\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: flannel, calico: {natOutgoing: false}}",
);
const CANAL: (&str, &str) = (
    "distribution: kubeadm\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: bridge}",
    "distribution: rke2\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: canal}",
);
const CALICO: (&str, &str) = ("cni: {plugin: bridge}", "cni: {plugin: calico}");
const CALICO_NAT_OFF: (&str, &str) = (
    "cni: {plugin: bridge}",
    "cni: {plugin: calico, calico: {natOutgoing: false}}",
);
const CILIUM: (&str, &str) = ("cni: {plugin: bridge}", "cni: {plugin: cilium}");
const CANONICAL_130: (&str, &str) = (
    "distribution: kubeadm\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: bridge}",
    "distribution: canonical\n  kubernetesVersion: v1.30.8\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: cilium}",
);
const CANONICAL_131: (&str, &str) = (
    "distribution: kubeadm\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: bridge}",
    "distribution: canonical\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: cilium}",
);
const CANONICAL_136: (&str, &str) = (
    "distribution: kubeadm\n  kubernetesVersion: v1.31.2\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: bridge}",
    "distribution: canonical\n  kubernetesVersion: v1.36.0\n  podCIDR: 10.244.0.0/16\n  serviceCIDR: 10.96.0.0/12\ncni: {plugin: cilium}",
);
const CILIUM_NATIVE_ROUTING: (&str, &str) = (
    "cni: {plugin: bridge}",
    "cni: {plugin: cilium, encapsulation: none}",
);
const CILIUM_NAT_OFF: (&str, &str) = (
    "cni: {plugin: bridge}",
    "cni: {plugin: cilium, calico: {natOutgoing: false}}",
);

/// One question on BRIDGE_BASE with another CNI: the verdict, and the masquerade the answer
/// must name on the destination's side (`Some(by)`: a decider from cp-1, whose `what` ends in
/// `(by)`), or none (`None`: the destination sees the pod).
struct CniMasqCase {
    cite: &'static str,
    edit: (&'static str, &'static str),
    from: &'static str,
    to: &'static str,
    port: &'static str,
    allowed: bool,
    masquerade: Option<&'static str>,
}

const fn cni_masq(
    cite: &'static str,
    edit: (&'static str, &'static str),
    (from, to, port): (&'static str, &'static str, &'static str),
    allowed: bool,
    masquerade: Option<&'static str>,
) -> CniMasqCase {
    CniMasqCase {
        cite,
        edit,
        from,
        to,
        port,
        allowed,
        masquerade,
    }
}

/// An address outside the cluster (TEST-NET-3).
const OUTSIDE: &str = "203.0.113.7";
const WEB_TO_NODE: (&str, &str, &str) = ("prod/web", "node/worker-1", "tcp/7000");
const WEB_TO_NODE_RULE: (&str, &str, &str) = ("prod/web", "node/worker-1", "tcp/7100");
const WEB_TO_HOSTNET: (&str, &str, &str) = ("prod/web", "prod/agent", "tcp/9100");
const WEB_TO_OUTSIDE: (&str, &str, &str) = ("prod/web", OUTSIDE, "tcp/443");
const WEB_TO_POD: (&str, &str, &str) = ("prod/web", "prod/db", "tcp/5432");
const DB_TO_OWN_NODE: (&str, &str, &str) = ("prod/db", "node/worker-1", "tcp/7000");

const FLANNELD: Option<&str> = Some("(flanneld --ip-masq)");
const FELIX: Option<&str> = Some("(Calico natOutgoing)");
const FLANNELD_MAYBE: Option<&str> = Some("(flanneld --ip-masq, not known to apply)");
const BRIDGE_IPMASQ: Option<&str> = Some("(bridge plugin ipMasq)");
const CILIUM_AGENT: Option<&str> = Some("(Cilium masquerade)");

const CNI_MASQ_CASES: &[CniMasqCase] = &[
    // flannel (kubeadm: kube-flannel.yml's --ip-masq)
    cni_masq(FLANNEL_MASQ, FLANNEL, WEB_TO_NODE, false, FLANNELD),
    cni_masq(FLANNEL_MASQ, FLANNEL, WEB_TO_NODE_RULE, true, FLANNELD),
    cni_masq(FLANNEL_MASQ, FLANNEL, WEB_TO_HOSTNET, false, FLANNELD),
    cni_masq(FLANNEL_MASQ, FLANNEL, WEB_TO_OUTSIDE, true, FLANNELD),
    cni_masq(
        FLANNEL_MASQ,
        FLANNEL,
        ("prod/any", "node/worker-1", "tcp/7000"),
        false,
        FLANNELD,
    ),
    cni_masq(FLANNEL_POD, FLANNEL, WEB_TO_POD, true, None),
    cni_masq(MASQ_SAME, FLANNEL, DB_TO_OWN_NODE, true, None),
    cni_masq(
        FLANNEL_MCAST,
        FLANNEL,
        ("prod/web", "239.1.2.3", "udp/5000"),
        true,
        None,
    ),
    cni_masq(
        FLANNEL_PARTLY,
        FLANNEL,
        ("prod/web", "10.0.0.0/8", "tcp/443"),
        true,
        FLANNELD_MAYBE,
    ),
    cni_masq(
        FLANNEL_PARTLY,
        FLANNEL,
        ("prod/web", "224.0.0.0/3", "udp/5000"),
        true,
        FLANNELD_MAYBE,
    ),
    cni_masq(
        FLANNEL_MASQ,
        FLANNEL,
        ("prod/web", "192.168.0.0/16", "tcp/443"),
        true,
        FLANNELD,
    ),
    cni_masq(
        FLANNEL_OFF,
        FLANNEL_RKE2_OFF,
        WEB_TO_NODE,
        false,
        BRIDGE_IPMASQ,
    ),
    cni_masq(
        FLANNEL_OFF,
        FLANNEL_RKE2_OFF,
        WEB_TO_NODE_RULE,
        true,
        BRIDGE_IPMASQ,
    ),
    cni_masq(
        FLANNEL_OFF,
        FLANNEL_RKE2_OFF,
        WEB_TO_POD,
        true,
        BRIDGE_IPMASQ,
    ),
    cni_masq(
        FLANNEL_OFF,
        FLANNEL_RKE2_OFF,
        WEB_TO_OUTSIDE,
        true,
        BRIDGE_IPMASQ,
    ),
    // Canal (RKE2: flanneld with FLANNELD_IP_MASQ)
    cni_masq(CANAL_MASQ, CANAL, WEB_TO_NODE, false, FLANNELD),
    cni_masq(CANAL_MASQ, CANAL, WEB_TO_OUTSIDE, true, FLANNELD),
    // Calico (natOutgoing on the pool)
    cni_masq(CALICO_MASQ, CALICO, WEB_TO_NODE, false, FELIX),
    cni_masq(CALICO_MASQ, CALICO, WEB_TO_NODE_RULE, true, FELIX),
    cni_masq(CALICO_MASQ, CALICO, WEB_TO_OUTSIDE, true, FELIX),
    cni_masq(CALICO_POD, CALICO, WEB_TO_POD, true, None),
    cni_masq(MASQ_SAME, CALICO, DB_TO_OWN_NODE, true, None),
    cni_masq(CALICO_OFF, CALICO_NAT_OFF, WEB_TO_NODE, true, None),
    cni_masq(CALICO_OFF, CALICO_NAT_OFF, WEB_TO_OUTSIDE, true, None),
    // Cilium, tunnel routing (the default)
    cni_masq(CILIUM_TUNNEL, CILIUM, WEB_TO_NODE, false, CILIUM_AGENT),
    cni_masq(CILIUM_TUNNEL, CILIUM, WEB_TO_NODE_RULE, true, CILIUM_AGENT),
    cni_masq(CILIUM_TUNNEL, CILIUM, WEB_TO_OUTSIDE, true, CILIUM_AGENT),
    cni_masq(CILIUM_TUNNEL, CILIUM, WEB_TO_POD, true, None),
    // Cilium, native routing: cluster nodes are excluded
    cni_masq(
        CILIUM_NATIVE,
        CILIUM_NATIVE_ROUTING,
        WEB_TO_NODE,
        true,
        None,
    ),
    cni_masq(
        CILIUM_NATIVE,
        CILIUM_NATIVE_ROUTING,
        WEB_TO_HOSTNET,
        true,
        None,
    ),
    cni_masq(
        CILIUM_NATIVE,
        CILIUM_NATIVE_ROUTING,
        WEB_TO_OUTSIDE,
        true,
        CILIUM_AGENT,
    ),
    cni_masq(CILIUM_OFF, CILIUM_NAT_OFF, WEB_TO_NODE, true, None),
    cni_masq(CILIUM_OFF, CILIUM_NAT_OFF, WEB_TO_OUTSIDE, true, None),
    // Canonical Kubernetes' built-in Cilium (the profile's `Masquerade(Cilium)` fact)
    cni_masq(CK_CILIUM, CANONICAL_131, WEB_TO_NODE, false, CILIUM_AGENT),
    cni_masq(
        CK_CILIUM,
        CANONICAL_131,
        WEB_TO_NODE_RULE,
        true,
        CILIUM_AGENT,
    ),
    cni_masq(
        CK_CILIUM,
        CANONICAL_131,
        WEB_TO_HOSTNET,
        false,
        CILIUM_AGENT,
    ),
    cni_masq(CK_CILIUM, CANONICAL_131, WEB_TO_OUTSIDE, true, CILIUM_AGENT),
    cni_masq(CK_CILIUM_POD, CANONICAL_131, WEB_TO_POD, true, None),
    cni_masq(MASQ_SAME, CANONICAL_131, DB_TO_OWN_NODE, true, None),
    cni_masq(
        CK_CILIUM_130,
        CANONICAL_130,
        WEB_TO_NODE,
        false,
        CILIUM_AGENT,
    ),
    cni_masq(
        CK_CILIUM_130,
        CANONICAL_130,
        WEB_TO_OUTSIDE,
        true,
        CILIUM_AGENT,
    ),
    cni_masq(
        CK_CILIUM_136,
        CANONICAL_136,
        WEB_TO_NODE,
        false,
        CILIUM_AGENT,
    ),
    cni_masq(
        CK_CILIUM_136,
        CANONICAL_136,
        WEB_TO_OUTSIDE,
        true,
        CILIUM_AGENT,
    ),
    cni_masq(CK_CILIUM_POD, CANONICAL_136, WEB_TO_POD, true, None),
];

/// The masquerade flannel, Canal, Calico and Cilium do themselves, as upstream's rules read:
/// another node's firewall judges the sending node's address, an outside host sees the node,
/// pods see pods.
#[test]
fn the_cni_masquerade_as_the_destination_sees_it() {
    let mut failures = Vec::new();
    for (i, c) in CNI_MASQ_CASES.iter().enumerate() {
        assert!(BRIDGE_BASE.contains(c.edit.0), "case {i}: {:?}", c.edit);
        let text = BRIDGE_BASE.replace(c.edit.0, c.edit.1);
        // RKE2's natOutgoing false is reported as not applied (the bridge plugin masquerades
        // instead); the answer says what then happens.
        let tolerated = (c.edit == FLANNEL_RKE2_OFF)
            .then_some("cni.calico.natOutgoing false cannot be applied: RKE2's rke2-flannel");
        let e = match ask_despite(&text, c.from, c.to, c.port, tolerated) {
            Ok(e) => e,
            Err(msg) => {
                failures.push(format!("case {i} ({}): {msg}", c.cite));
                continue;
            }
        };
        let named: Vec<&str> = e
            .ingress
            .rules
            .iter()
            .filter(|r| r.what.starts_with("masquerade of "))
            .map(|r| r.what.as_str())
            .collect();
        let masquerade_ok = match c.masquerade {
            Some(by) => {
                e.ingress
                    .rules
                    .first()
                    .is_some_and(|r| r.node.as_deref() == Some("cp-1") && r.what.ends_with(by))
                    && e.ingress.reason.contains("masqueraded to 10.0.1.10")
            }
            None => named.is_empty(),
        };
        if e.allowed != c.allowed || !masquerade_ok {
            failures.push(format!(
                "case {i} ({}): {} -> {} {}: expected allowed={} masquerade={:?}, got {} {:?}\n  ingress: {}",
                c.cite,
                c.from,
                c.to,
                c.port,
                c.allowed,
                c.masquerade,
                e.allowed,
                named,
                e.ingress.reason
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The masquerade netc emits and hostNetwork pods: the firewall judges the address it sees.
#[test]
fn masquerade_and_host_network_as_the_destination_sees_them() {
    let mut failures = Vec::new();
    for (i, c) in MASQ_CASES.iter().enumerate() {
        let text = if c.edit.0.is_empty() {
            BRIDGE_BASE.to_owned()
        } else {
            assert!(BRIDGE_BASE.contains(c.edit.0), "case {i}: {:?}", c.edit);
            BRIDGE_BASE.replace(c.edit.0, c.edit.1)
        };
        match ask(&text, c.from, c.to, c.port) {
            Ok(e) if e.allowed == c.allowed => {}
            Ok(e) => failures.push(format!(
                "case {i} ({}): {} -> {} {}: expected allowed={}, got {}\n  ingress: {}",
                c.cite, c.from, c.to, c.port, c.allowed, e.allowed, e.ingress.reason
            )),
            Err(msg) => failures.push(format!("case {i} ({}): {msg}", c.cite)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The answer names the masquerade and the node it comes from, then the deciding rule.
    let e = ask(BRIDGE_BASE, "prod/web", "node/worker-1", "tcp/7100").expect("asks");
    let rules: Vec<(Option<&str>, &str)> = e
        .ingress
        .rules
        .iter()
        .map(|r| (r.node.as_deref(), r.what.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            (Some("cp-1"), "masquerade of 10.244.0.0/16 (postrouting)"),
            (Some("worker-1"), "firewall rule from-cp"),
        ],
        "{}",
        e.ingress.reason
    );
    assert!(
        e.ingress.reason.contains("masqueraded to 10.0.1.10"),
        "{}",
        e.ingress.reason
    );
    // The emitted file holds the masquerade the answer names.
    let src = SourceFile::new("m.yaml", BRIDGE_BASE);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let plan = checked.valid_plan().expect("valid");
    let mut files = std::collections::BTreeMap::new();
    netc::emit::emit_all(netc::emit::Context::new(plan, "m.yaml"), &mut files).expect("emit");
    let nft = String::from_utf8_lossy(&files["firewall/cp-1.nft"]).into_owned();
    assert!(
        nft.contains("ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade"),
        "{nft}"
    );
}

fn intent(policies: &str) -> String {
    if policies.is_empty() {
        BASE.to_owned()
    } else {
        format!("{BASE}policies:{policies}\n")
    }
}

/// The verdict for one case, or why it could not be asked.
fn ask(text: &str, from: &str, to: &str, port: &str) -> Result<netc::explain::Explanation, String> {
    ask_despite(text, from, to, port, None)
}

/// [`ask`], answering also despite the error `tolerated` (a setting `check` reports as not
/// applied, whose effect the model still knows).
fn ask_despite(
    text: &str,
    from: &str,
    to: &str,
    port: &str,
    tolerated: Option<&str>,
) -> Result<netc::explain::Explanation, String> {
    let src = SourceFile::new("truth.yaml", text);
    let checked = pipeline::check(&src, Syntax::Yaml);
    let errors: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.code != code::CNI_POLICY_NOT_ENFORCED)
        .filter(|d| tolerated.is_none_or(|t| !d.message.starts_with(t)))
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    if !errors.is_empty() {
        return Err(format!("intent has errors: {errors:?}"));
    }
    let plan = checked.plan.as_ref().ok_or("no plan")?;
    let c = Connectivity::new(plan);
    let from = c.resolve(from)?;
    let to = c.resolve(to)?;
    let port = c.resolve_port(port, &to)?;
    Ok(c.explain(&from, &to, &port))
}

#[test]
fn truth_table_from_the_kubernetes_documentation() {
    assert!(CASES.len() >= 60, "only {} cases", CASES.len());
    let mut failures = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        match ask(&intent(c.policies), c.from, c.to, c.port) {
            Ok(e) if e.allowed == c.allowed => {}
            Ok(e) => failures.push(format!(
                "case {i} ({}): {} -> {} {}: expected allowed={}, got {}\n  egress: {}\n  ingress: {}",
                c.cite, c.from, c.to, c.port, c.allowed, e.allowed, e.egress.reason, e.ingress.reason
            )),
            Err(msg) => failures.push(format!("case {i} ({}): {msg}", c.cite)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

#[test]
fn match_expressions_per_operator() {
    let mut failures = Vec::new();
    for (i, c) in EXPRESSION_CASES.iter().enumerate() {
        match ask(&intent(c.policies), c.from, c.to, c.port) {
            Ok(e) if e.allowed == c.allowed => {}
            Ok(e) => failures.push(format!(
                "case {i} ({}): {} -> {}: expected allowed={}, got {}\n  ingress: {}",
                c.cite, c.from, c.to, c.allowed, e.allowed, e.ingress.reason
            )),
            Err(msg) => failures.push(format!("case {i} ({}): {msg}", c.cite)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The answer names the deciding rules and the layer that decided.
#[test]
fn explanations_name_the_deciding_rules_and_layers() {
    let e = ask(&intent(API_TWO_RULES), "mon/prom", "prod/api", "tcp/9090").expect("asks");
    assert_eq!(e.ingress.layer, Layer::NetworkPolicy);
    let names: Vec<_> = e
        .ingress
        .rules
        .iter()
        .filter_map(|r| r.policy.clone())
        .collect();
    assert_eq!(names, ["prod/api-from-ops"]);
    assert!(
        e.ingress.rules[0].span.len > 0,
        "the deciding rule points into the intent"
    );

    let e = ask(&intent(DENY_PLUS_ALLOW), "prod/web", "prod/db", "tcp/5432").expect("asks");
    let names: Vec<_> = e
        .ingress
        .rules
        .iter()
        .filter_map(|r| r.policy.clone())
        .collect();
    assert_eq!(
        names,
        ["prod/default-deny-ingress"],
        "the isolating policy is named"
    );

    let e = ask(&intent(NONE), "192.168.9.9", "node/worker-1", "tcp/7000").expect("asks");
    assert_eq!(e.ingress.layer, Layer::NodeFirewall);
    assert_eq!(e.ingress.rules[0].what, "firewall rule block-7000");
    assert_eq!(e.ingress.rules[0].node.as_deref(), Some("worker-1"));
}

/// flannel alone does not enforce policies: allowed, with the code already used for that.
#[test]
fn flannel_alone_allows_with_policy_not_enforced() {
    let text = intent(DENY_IN_PROD).replace("cni: {plugin: calico}", "cni: {plugin: flannel}");
    let e = ask(&text, "prod/web", "prod/api", "tcp/9000").expect("asks");
    assert!(e.allowed);
    assert!(!e.policies_enforced);
    assert_eq!(e.ingress.code, Some(code::CNI_POLICY_NOT_ENFORCED));
    // The node firewall still decides for nodes.
    let e = ask(&text, "192.168.9.9", "node/worker-1", "tcp/7000").expect("asks");
    assert!(!e.allowed);
}

/// `explain --matrix csv --port tcp/7000` on `matrix_of`, every cell checked against the single
/// answer ([`ask`]), and `diff-connectivity OLD NEW`: the CSV and the diff.
fn matrix_checked_and_diff(tag: &str, matrix_of: &str, old: &str, new: &str) -> (String, String) {
    let dir = std::env::temp_dir().join(format!("netc-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let (matrix_file, old_file, new_file) = (
        write("matrix.yaml", matrix_of),
        write("old.yaml", old),
        write("new.yaml", new),
    );
    let netc = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_netc"))
            .args(args)
            .output()
            .expect("run netc");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let csv = netc(&[
        "explain".as_ref(),
        matrix_file.as_os_str(),
        "--matrix".as_ref(),
        "csv".as_ref(),
        "--port".as_ref(),
        "tcp/7000".as_ref(),
    ]);
    let mut rows = 0;
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let e = ask(matrix_of, f[0], f[1], f[2]).expect("asks");
        assert_eq!(f[3], e.allowed.to_string(), "matrix {line} vs explain");
        rows += 1;
    }
    assert!(rows > 40, "{csv}");
    let diff = netc(&[
        "diff-connectivity".as_ref(),
        old_file.as_os_str(),
        new_file.as_os_str(),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    (csv, diff)
}

/// `explain --matrix` and `diff-connectivity` see the CNI's masquerade too: on BRIDGE_BASE
/// with Calico, every matrix cell is the single answer's verdict, a pod reaching another node
/// is its node, and turning natOutgoing off adds what the pod network is trusted for.
#[test]
fn matrix_and_diff_connectivity_see_the_cni_masquerade() {
    let on = BRIDGE_BASE.replace(CALICO.0, CALICO.1);
    let off = BRIDGE_BASE.replace(CALICO_NAT_OFF.0, CALICO_NAT_OFF.1);
    let (csv, diff) = matrix_checked_and_diff("cni-masq", &on, &on, &off);
    assert!(
        csv.contains("prod/web,node/worker-1,tcp/7000,false"),
        "{csv}"
    );
    assert!(csv.contains("prod/db,node/worker-1,tcp/7000,true"), "{csv}");
    assert!(
        diff.contains("+ prod/web -> prod/agent tcp/9100 (metrics)"),
        "{diff}"
    );
    assert!(diff.contains("connections removed: 0"), "{diff}");
}

/// `explain --matrix` and `diff-connectivity` see the masquerade too: every matrix cell on
/// BRIDGE_BASE is the single answer's verdict, and turning the masquerade on removes the
/// connection to the hostNetwork pod of another node.
#[test]
fn matrix_and_diff_connectivity_see_the_masquerade() {
    let old = BRIDGE_BASE.replace(NAT_OFF.0, NAT_OFF.1);
    let (csv, diff) = matrix_checked_and_diff("masq", BRIDGE_BASE, &old, BRIDGE_BASE);
    assert!(
        csv.contains("prod/web,node/worker-1,tcp/7000,false"),
        "{csv}"
    );
    assert!(csv.contains("prod/db,node/worker-1,tcp/7000,true"), "{csv}");
    assert!(
        csv.contains("prod/agent,node/worker-2,tcp/7000,true"),
        "{csv}"
    );
    assert!(
        diff.contains("- prod/web -> prod/agent tcp/9100 (metrics)"),
        "{diff}"
    );
    assert!(diff.contains("connections added: 0"), "{diff}");
}

/// An IPv6-only Canonical Kubernetes cluster: control-plane nodes cp-1 (fd00::/64) and cp-2
/// (`CP2`), worker-1 on fd00::/64; worker-1 trusts cp-1's address on tcp/7100.
const CK_V6_ONLY: &str = r#"
apiVersion: netc/v1alpha1
kind: NetworkIntent
metadata: {name: ck-v6}
cluster:
  distribution: canonical
  kubernetesVersion: VERSION
  podCIDR: "fd00:10:244::/56"
  serviceCIDR: "fd00:10:96::/112"
cni: {plugin: cilium}
nodes:
  - {name: cp-1, role: control-plane, address: "fd00::10/64"}
  - {name: cp-2, role: control-plane, address: "CP2"}
  - {name: worker-1, role: worker, address: "fd00::11/64"}
firewall:
  backend: nftables
  managementAccess: [tcp/22]
  rules:
    - {name: from-cp, ports: [tcp/7100], from: ["fd00::10/128"]}
workloads:
  - {namespace: prod, name: web, labels: {app: web}, node: cp-1}
"#;

/// Canonical Kubernetes 1.32–1.34 route an IPv6-only cluster natively, `ipv6NativeRoutingCIDR`
/// the network of the control-plane node k8sd applies Cilium from (canonical/k8s-snap
/// release-1.33 `src/k8s/pkg/k8sd/features/cilium/network.go`, `utils.FindCIDRForIP(nodeIP)`):
/// with every control-plane node on one network the masquerade is known (cilium's node ipset
/// and that network are left alone); on two networks netc does not know it for a host inside
/// either network, and says so. 1.35 tunnels again (#2114). Outside every range of the fact
/// (1.29) `check` reports it and explain has nothing to answer.
#[test]
fn canonical_cilium_masquerade_known_unknown_and_outside_the_facts() {
    let ck = |version: &str, cp2: &str| {
        CK_V6_ONLY
            .replace("VERSION", version)
            .replace("\"CP2\"", &format!("\"{cp2}\""))
    };
    // One network: native routing, worker-1 is in cilium's node ipset: it sees the pod.
    let e = ask(
        &ck("v1.33.1", "fd00::12/64"),
        "prod/web",
        "node/worker-1",
        "tcp/7000",
    )
    .expect("asks");
    assert!(e.allowed, "{}", e.ingress.reason);
    assert!(
        !e.ingress.reason.contains("masquerade"),
        "{}",
        e.ingress.reason
    );
    let e = ask(
        &ck("v1.33.1", "fd00::12/64"),
        "prod/web",
        "2001:db8::7",
        "tcp/443",
    )
    .expect("asks");
    assert!(
        e.ingress.reason.contains("masqueraded to fd00::10"),
        "{}",
        e.ingress.reason
    );

    // Two networks: a node is still never masqueraded (cilium's node ipset), a host outside
    // both networks always, a host inside either network may be: netc says it does not know.
    let text = ck("v1.33.1", "fd01::12/64");
    let e = ask(&text, "prod/web", "node/worker-1", "tcp/7000").expect("asks");
    assert!(e.allowed, "{}", e.ingress.reason);
    assert!(
        !e.ingress.reason.contains("masquerade"),
        "{}",
        e.ingress.reason
    );
    let e = ask(&text, "prod/web", "2001:db8::7", "tcp/443").expect("asks");
    assert!(
        e.ingress
            .reason
            .contains("leaves node cp-1 masqueraded to fd00::10 (Cilium"),
        "{}",
        e.ingress.reason
    );
    let e = ask(&text, "prod/web", "fd01::99", "tcp/443").expect("asks");
    assert!(
        e.ingress.reason.contains(
            "prod/web may leave node cp-1 masqueraded to fd00::10 (netc does not know whether \
             Cilium masquerade covers fd00:10:244::/64 to this destination: Canonical Kubernetes \
             1.33 routes an IPv6-only cluster natively"
        ) && e.ingress.reason.contains("on fd00::/64, fd01::/64"),
        "{}",
        e.ingress.reason
    );
    assert!(
        e.ingress
            .rules
            .first()
            .is_some_and(|r| r.node.as_deref() == Some("cp-1")
                && r.what.ends_with("(Cilium masquerade, not known to apply)")),
        "{:?}",
        e.ingress.rules
    );

    // 1.35: tunnel routing again, known: another node's address is masqueraded.
    let e = ask(
        &ck("v1.35.0", "fd01::12/64"),
        "prod/web",
        "node/worker-1",
        "tcp/7000",
    )
    .expect("asks");
    assert!(!e.allowed);
    assert!(
        e.ingress
            .reason
            .contains("masqueraded to fd00::10 (Cilium masquerade"),
        "{}",
        e.ingress.reason
    );

    // Outside every range: an error naming the fact, nothing to explain.
    let err = ask(
        &ck("v1.29.5", "fd00::12/64"),
        "prod/web",
        "2001:db8::7",
        "tcp/443",
    )
    .expect_err("1.29 is outside the facts");
    assert!(
        err.contains("netc::profile::version-unsupported") && err.contains("cilium masquerade"),
        "{err}"
    );
}

/// Canonical Kubernetes 1.33's IPv6-only native routing masquerades pod to pod across nodes
/// (`ipv6NativeRoutingCIDR` is the node network, not the pod network: cilium/cilium
/// installMasqueradeRules `! -d <ipv6NativeRoutingCIDR>`), so a pod on another node sees the
/// sending node's address, and the answer judges and names it so; 1.35 tunnels again and
/// the pod keeps its address.
#[test]
fn canonical_ipv6_only_masquerades_pod_to_pod_across_nodes() {
    let with_db = |version: &str| {
        CK_V6_ONLY
            .replace("VERSION", version)
            .replace("\"CP2\"", "\"fd00::12/64\"")
            .replace(
                "node: cp-1}\n",
                "node: cp-1}\n  - {namespace: prod, name: db, labels: {app: db}, node: worker-1}\n",
            )
    };
    let e = ask(&with_db("v1.33.1"), "prod/web", "prod/db", "tcp/5432").expect("asks");
    assert!(
        e.ingress.rules.first().is_some_and(
            |r| r.node.as_deref() == Some("cp-1") && r.what.ends_with("(Cilium masquerade)")
        ) && e.ingress.reason.contains("masqueraded to fd00::10"),
        "{:?}\n{}",
        e.ingress.rules,
        e.ingress.reason
    );
    let e = ask(&with_db("v1.35.0"), "prod/web", "prod/db", "tcp/5432").expect("asks");
    assert!(
        !e.ingress.reason.contains("masquerade"),
        "{}",
        e.ingress.reason
    );
}
