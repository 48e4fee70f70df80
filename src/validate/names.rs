//! `netc::name::invalid`: names Kubernetes and the host tools will refuse.
//!
//! Node names and `metadata.name` are DNS-1123 subdomains (Kubernetes object names), the
//! cluster domain too (kubeadm's ValidateNetworking), and so are policy and policy rule names
//! (NetworkPolicy names); namespaces are DNS-1123 labels, as are firewall rule names (they
//! become nftables comments and firewalld script comments). firewalld zone names are at most 17
//! characters. A node name also names files (`firewall/<node>.firewalld.sh`), so it is short
//! enough for a file name.

use crate::diagnostic::{Diag, code};
use crate::intent::values::{is_dns1123_label, is_dns1123_subdomain, is_object_name};
use crate::intent::{NetworkIntent, Text};
use crate::plan::Plan;
use crate::plan::artifacts::{MAX_NODE_NAME_IN_FILE_NAME, shared_beside_node_dirs};

/// firewalld refuses longer zone names.
const MAX_ZONE_LEN: usize = 17;

const SUBDOMAIN_HELP: &str = "use lower-case letters, digits, `-` and `.`, starting and ending \
                              with a letter or digit (a DNS-1123 subdomain, at most 253 characters)";
const LABEL_HELP: &str = "use lower-case letters, digits and `-`, starting and ending with a \
                          letter or digit (a DNS-1123 label, at most 63 characters)";

fn subdomain(what: &str, t: &Text, out: &mut Vec<Diag>) {
    if !is_dns1123_subdomain(&t.value) {
        out.push(
            Diag::error(
                code::NAME_INVALID,
                format!("{what} `{}` is not a DNS-1123 subdomain", t.value),
            )
            .label(t.span, "invalid name")
            .help(SUBDOMAIN_HELP),
        );
    }
}

fn label(what: &str, t: &Text, out: &mut Vec<Diag>) {
    if !is_dns1123_label(&t.value) {
        out.push(
            Diag::error(
                code::NAME_INVALID,
                format!("{what} `{}` is not a DNS-1123 label", t.value),
            )
            .label(t.span, "invalid name")
            .help(LABEL_HELP),
        );
    }
}

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    subdomain("metadata.name", &intent.metadata.name, out);
    if let Some(domain) = &intent.cluster.dns_domain {
        subdomain("dnsDomain", domain, out);
    }
    for node in &intent.nodes {
        subdomain("node name", &node.name, out);
        let len = node.name.value.len();
        if len > MAX_NODE_NAME_IN_FILE_NAME && is_dns1123_subdomain(&node.name.value) {
            out.push(
                Diag::error(
                    code::NAME_INVALID,
                    format!(
                        "node name `{}` is {len} characters: too long for the file names netc writes",
                        node.name.value
                    ),
                )
                .label(node.name.span, "too long for a file name")
                .help(format!(
                    "netc writes `firewall/<node>.firewalld.sh` and the like, and a file name \
                     holds at most 255 bytes: use at most {MAX_NODE_NAME_IN_FILE_NAME} characters"
                )),
            );
        }
    }
    // A node's build directory must not land on a shared artifact (`k3s/<node>/config.yaml`
    // beside `k3s/flannel-net-conf.json`): build would fail, or mix the node's files into a
    // shared directory.
    let shared = shared_beside_node_dirs(plan.distribution);
    for node in &intent.nodes {
        if let Some((dir, name)) = shared.iter().find(|(_, n)| *n == node.name.value) {
            out.push(
                Diag::error(
                    code::NAME_INVALID,
                    format!(
                        "node name `{name}` is the name of a shared artifact: `{dir}/{name}` \
                         would be both the shared one and node {name}'s directory"
                    ),
                )
                .label(node.name.span, "collides with a shared artifact")
                .help(format!(
                    "netc writes each node's files under `{dir}/<node>/` and `{dir}/{name}` for \
                     every node: rename the node"
                )),
            );
        }
    }
    for rule in intent.firewall.iter().flat_map(|f| &f.rules) {
        label("firewall rule name", &rule.name, out);
    }
    for policy in &intent.policies {
        label("namespace", &policy.namespace, out);
        // A policy's name and an unnamed entry's rule names are NetworkPolicy names: DNS-1123
        // subdomains as Kubernetes checks them, up to 253 characters with no 63 limit per part
        // (ValidateNetworkPolicyName in kubernetes/kubernetes pkg/apis/networking/validation/
        // validation.go is NameIsDNSSubdomain). A rule name in a named policy names nothing in
        // Kubernetes; it keeps the same syntax.
        let names = policy.name.iter().map(|n| ("policy name", n)).chain(
            policy
                .rules
                .iter()
                .filter_map(|r| r.name.as_ref())
                .chain(policy.egress.iter().filter_map(|r| r.name.as_ref()))
                .map(|n| ("policy rule name", n)),
        );
        for (what, name) in names {
            if !is_object_name(&name.value) {
                out.push(
                    Diag::error(
                        code::NAME_INVALID,
                        format!("{what} `{}` is not a Kubernetes object name", name.value),
                    )
                    .label(name.span, "invalid name")
                    .help("use lower-case letters, digits, `-` and `.`, each `.`-separated part starting and ending with a letter or digit, at most 253 characters"),
                );
            }
        }
        let peers = policy
            .rules
            .iter()
            .flat_map(|r| &r.from)
            .chain(policy.egress.iter().flat_map(|r| &r.to));
        for ns in peers.filter_map(|p| p.namespace.as_ref()?.name.as_ref()) {
            label("namespace", ns, out);
        }
    }
    if let Some(zone) = intent.firewall.as_ref().and_then(|f| f.zone.as_ref()) {
        let z = &zone.value;
        if z.is_empty()
            || z.len() > MAX_ZONE_LEN
            || !z
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            out.push(
                Diag::error(
                    code::NAME_INVALID,
                    format!("firewall zone `{z}` is not a valid firewalld zone name"),
                )
                .label(zone.span, "invalid zone")
                .help(format!(
                    "use at most {MAX_ZONE_LEN} letters, digits, `-` or `_` (e.g. `public`)"
                )),
            );
        }
    }
}
