//! Address plan: `netc::cidr::invalid`, `netc::cidr::overlap`, `netc::service-cidr::too-large`.
//!
//! Overlap detection sorts every network by (start, prefix length) and sweeps once with a stack
//! of the enclosing networks: two CIDRs either nest or are disjoint, so each network is
//! compared only with the innermost network that contains it. O(n log n) for any node count.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::diagnostic::{Diag, code};
use crate::intent::values::{self, CidrError};
use crate::intent::{CidrList, NetworkIntent, Span, Spanned, Text};
use crate::plan::{Plan, network_bounds};

/// kubeadm's ValidateNetworking: at most 20 host bits in an IPv4 service CIDR.
const MIN_SERVICE_PREFIX_V4: u8 = 12;
/// The API server's limit for IPv6 service CIDRs (also Canonical Kubernetes').
const MIN_SERVICE_PREFIX_V6: u8 = 108;
/// kubeadm: a service subnet needs room for at least 10 addresses (clusterDNS is the 10th).
const MIN_SERVICE_ADDRESSES: u128 = 10;

const CIDR_HELP: &str =
    "write a network as address/prefix, e.g. `10.244.0.0/16` or `fd00:10:244::/56`";

fn family(net: &IpNet) -> &'static str {
    match net {
        IpNet::V4(_) => "IPv4",
        IpNet::V6(_) => "IPv6",
    }
}

fn is_v6(net: &IpNet) -> bool {
    matches!(net, IpNet::V6(_))
}

/// Parses a network and reports why it is not one. `what` names the field (`podCIDR`).
pub(super) fn network(what: &str, text: &str, span: Span, out: &mut Vec<Diag>) -> Option<IpNet> {
    match values::parse_network(text) {
        Ok(net) => Some(net),
        Err(CidrError::Syntax) => {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!("`{text}` ({what}) is not a CIDR"),
                )
                .label(span, "not address/prefix")
                .help(CIDR_HELP),
            );
            None
        }
        Err(CidrError::HostBits { network }) => {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!(
                        "{text} ({what}) has host bits set past its /{} prefix",
                        network.prefix_len()
                    ),
                )
                .label(span, "host bits set")
                .help(format!("did you mean `{network}`?")),
            );
            None
        }
    }
}

/// An ipBlock `cidr` or `except`: the API server accepts host bits (`192.168.1.7/24`) and
/// matches the network (`ValidateIPBlock`: `IsValidCIDRForLegacyField`, then
/// `ParseCIDRSloppy`, in kubernetes/kubernetes pkg/apis/networking/validation/validation.go,
/// v1.33), so netc keeps it as written and warns with the canonical form.
fn block(what: &str, t: &Text, out: &mut Vec<Diag>) {
    match values::parse_block(&t.value) {
        Ok(net) if net.trunc() != net => out.push(
            Diag::warning(
                code::POLICY_CIDR_HOST_BITS,
                format!(
                    "ipBlock {} has host bits set past its /{}: it matches {}",
                    t.value,
                    net.prefix_len(),
                    net.trunc()
                ),
            )
            .label(t.span, "host bits set")
            .help(format!(
                "kept as written (the API server accepts it); write `{}` to say what it matches",
                net.trunc()
            )),
        ),
        Ok(_) => {}
        Err(_) => {
            network(what, &t.value, t.span, out);
        }
    }
}

fn interface_address(what: &str, t: &Text, out: &mut Vec<Diag>) {
    if values::parse_interface_address(&t.value).is_none() {
        out.push(
            Diag::error(
                code::CIDR_INVALID,
                format!("`{}` ({what}) is not an address with a prefix", t.value),
            )
            .label(t.span, "expected address/prefix")
            .help("write the address with its network's prefix length, e.g. `10.0.1.100/24`"),
        );
    }
}

/// A podCIDR/serviceCIDR value: each entry a network, at most one per family.
fn cidr_list(what: &str, list: &Spanned<CidrList>, out: &mut Vec<Diag>) -> Vec<(IpNet, Span)> {
    let mut nets: Vec<(IpNet, Span)> = Vec::new();
    let mut entries = 0usize;
    for (text, span) in list.entries() {
        entries += 1;
        let Some(net) = network(what, text, span, out) else {
            continue;
        };
        if entries > 2 {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!("{what} has more than two CIDRs: {net} is one too many"),
                )
                .label(span, "extra CIDR")
                .help("a dual-stack cluster takes exactly one IPv4 and one IPv6 CIDR"),
            );
            continue;
        }
        if let Some((first, first_span)) = nets.iter().find(|(n, _)| is_v6(n) == is_v6(&net)) {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!("{what} lists two {} CIDRs: {first} and {net}", family(&net)),
                )
                .label(span, "second CIDR of the same family")
                .label(*first_span, "first one")
                .help("a dual-stack list holds one IPv4 and one IPv6 CIDR; keep one of these"),
            );
            continue;
        }
        nets.push((net, span));
    }
    if entries == 0 {
        out.push(
            Diag::error(code::CIDR_INVALID, format!("{what} is empty"))
                .label(list.span, "no CIDR")
                .help(format!(
                    "give {what} one CIDR, or one IPv4 and one IPv6 CIDR"
                )),
        );
    }
    nets
}

/// 2^(host bits), saturating.
fn addresses(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

fn service_size(services: &[(IpNet, Span)], out: &mut Vec<Diag>) {
    for (net, span) in services {
        let limit = if is_v6(net) {
            MIN_SERVICE_PREFIX_V6
        } else {
            MIN_SERVICE_PREFIX_V4
        };
        if net.prefix_len() < limit {
            out.push(
                Diag::error(
                    code::SERVICE_CIDR_TOO_LARGE,
                    format!(
                        "{net} (serviceCIDR) is larger than the API server accepts: {} serviceCIDRs must be /{limit} or longer",
                        family(net)
                    ),
                )
                .label(*span, format!("a /{}", net.prefix_len()))
                .help(format!(
                    "shrink it to a /{limit} or longer (at most {} host bits), e.g. `{}`",
                    net.max_prefix_len() - limit,
                    IpNet::new(net.network(), limit).map_or_else(|_| net.to_string(), |n| n.to_string())
                )),
            );
        } else if addresses(net) < MIN_SERVICE_ADDRESSES {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!(
                        "{net} (serviceCIDR) has {} addresses; Kubernetes needs at least {MIN_SERVICE_ADDRESSES}",
                        addresses(net)
                    ),
                )
                .label(*span, "too small")
                .help("use a shorter prefix, e.g. a /24 or the default 10.96.0.0/12"),
            );
        }
    }
}

/// Every service family needs pods of that family (a Service's ClusterIP family is its pods').
fn service_families(pods: &[(IpNet, Span)], services: &[(IpNet, Span)], out: &mut Vec<Diag>) {
    if pods.is_empty() {
        return;
    }
    for (net, span) in services {
        if !pods.iter().any(|(p, _)| is_v6(p) == is_v6(net)) {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!(
                        "{net} (serviceCIDR) is {} but podCIDR has no {} CIDR",
                        family(net),
                        family(net)
                    ),
                )
                .label(*span, "wrong family")
                .label(pods.first().map_or(Span::default(), |p| p.1), "podCIDR")
                .help("give serviceCIDR the same families as podCIDR"),
            );
        }
    }
}

/// What kind of network an overlap entry is; two of the same kind are never reported here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Reserved,
    Node,
    HostOverlay,
    Service,
    Pod,
    /// A node's pinned pod subnet: belongs inside a podCIDR (pin rules check that).
    Pin,
}

/// Two kinds that may overlap: anything with its own kind, and pins inside pod CIDRs.
fn compatible(a: Kind, b: Kind) -> bool {
    a == b || matches!((a, b), (Kind::Pod, Kind::Pin) | (Kind::Pin, Kind::Pod))
}

struct Entry<'a> {
    net: IpNet,
    kind: Kind,
    span: Span,
    /// The node a node network or pin belongs to, and the interface for interface addresses.
    node: Option<&'a str>,
    iface: Option<&'a str>,
    /// The text the span points at, when it differs from `net` (a node's address).
    text: Option<&'a str>,
}

impl Entry<'_> {
    fn what(&self) -> String {
        match (self.kind, self.node, self.iface) {
            (Kind::Reserved, ..) => "reserved".to_owned(),
            (Kind::Service, ..) => "serviceCIDR".to_owned(),
            (Kind::Pod, ..) => "podCIDR".to_owned(),
            (Kind::HostOverlay, ..) => "hostOverlay.subnet".to_owned(),
            (Kind::Pin, Some(n), _) => format!("podCIDR pin of {n}"),
            (Kind::Node, Some(n), Some(i)) => format!(
                "network of {n}'s {i} address {}",
                self.text.unwrap_or_default()
            ),
            (Kind::Node, Some(n), None) => {
                format!("network of {n}'s address {}", self.text.unwrap_or_default())
            }
            (Kind::Pin | Kind::Node, None, _) => "node network".to_owned(),
        }
    }
}

fn overlap_help(a: &Entry, b: &Entry) -> String {
    let moved = if a.kind == Kind::Reserved { b } else { a };
    let fixed = if a.kind == Kind::Reserved { a } else { b };
    match moved.kind {
        Kind::Node => format!(
            "pick {} networks outside the node networks, or renumber the node",
            fixed.what()
        ),
        _ => format!(
            "move {} ({}) out of {} ({}); the two ranges must not share an address",
            moved.net,
            moved.what(),
            fixed.net,
            fixed.what()
        ),
    }
}

fn overlaps(entries: Vec<Entry>, out: &mut Vec<Diag>) {
    let mut entries = entries;
    entries.sort_by_key(|e| {
        let (start, _) = network_bounds(&e.net);
        (
            is_v6(&e.net),
            start,
            e.net.prefix_len(),
            e.kind,
            e.span.offset,
        )
    });
    // Many nodes share a network, and pins may repeat (the pin rule reports that).
    entries.dedup_by(|b, a| a.net == b.net && a.kind == b.kind);
    let mut stack: Vec<usize> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        while let Some(&top) = stack.last() {
            if entries.get(top).is_some_and(|t| t.net.contains(&e.net)) {
                break;
            }
            stack.pop();
        }
        if let Some(outer) = stack.last().and_then(|&t| entries.get(t))
            && !compatible(outer.kind, e.kind)
        {
            // The inner network is the one sitting in another's range; of two equal ones, the
            // one written later (most likely the one just added).
            let (inner, container) = if e.net != outer.net || e.span.offset >= outer.span.offset {
                (e, outer)
            } else {
                (outer, e)
            };
            out.push(
                Diag::error(
                    code::CIDR_OVERLAP,
                    format!(
                        "{} ({}) overlaps {} ({})",
                        inner.net,
                        inner.what(),
                        container.net,
                        container.what()
                    ),
                )
                .label(inner.span, inner.what())
                .label(container.span, format!("overlaps {}", container.what()))
                .help(overlap_help(inner, container)),
            );
        }
        stack.push(i);
    }
}

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let c = &intent.cluster;
    let pods = cidr_list("podCIDR", &c.pod_cidr, out);
    let services = cidr_list("serviceCIDR", &c.service_cidr, out);
    service_size(&services, out);
    service_families(&pods, &services, out);

    let mut entries: Vec<Entry> = Vec::with_capacity(intent.nodes.len() * 2 + 8);
    let push = |net: IpNet, kind: Kind, span: Span| Entry {
        net,
        kind,
        span,
        node: None,
        iface: None,
        text: None,
    };
    for (net, span) in &pods {
        entries.push(push(*net, Kind::Pod, *span));
    }
    for (net, span) in &services {
        entries.push(push(*net, Kind::Service, *span));
    }
    for r in &intent.reserved {
        if let Some(net) = network("reserved", &r.value, r.span, out) {
            entries.push(push(net, Kind::Reserved, r.span));
        }
    }
    if let Some(h) = &intent.host_overlay
        && let Some(net) = network("hostOverlay.subnet", &h.subnet.value, h.subnet.span, out)
    {
        entries.push(push(net, Kind::HostOverlay, h.subnet.span));
    }
    for node in &intent.nodes {
        let name = node.name.value.as_str();
        interface_address(&format!("address of {name}"), &node.address, out);
        if let Some(addr) = values::parse_interface_address(&node.address.value) {
            entries.push(Entry {
                node: Some(name),
                text: Some(node.address.value.trim()),
                ..push(addr.trunc(), Kind::Node, node.address.span)
            });
        }
        // The dual-stack secondary address: its network is a node network too (addressing.rs
        // reports a malformed one).
        if let Some(sec) = &node.secondary_address
            && let Some(addr) = values::parse_interface_address(&sec.value)
        {
            entries.push(Entry {
                node: Some(name),
                text: Some(sec.value.trim()),
                ..push(addr.trunc(), Kind::Node, sec.span)
            });
        }
        for f in &node.interfaces {
            let Some(a) = &f.address else { continue };
            interface_address(&format!("address of {name}'s {}", f.name.value), a, out);
            if let Some(addr) = values::parse_interface_address(&a.value) {
                entries.push(Entry {
                    node: Some(name),
                    iface: Some(f.name.value.as_str()),
                    text: Some(a.value.trim()),
                    ..push(addr.trunc(), Kind::Node, a.span)
                });
            }
        }
        if let Some(pin) = &node.pod_cidr
            && let Some(net) = network(&format!("podCIDR of {name}"), &pin.value, pin.span, out)
        {
            entries.push(Entry {
                node: Some(name),
                ..push(net, Kind::Pin, pin.span)
            });
        }
    }
    if let Some(dns) = &c.cluster_dns
        && values::parse_address(&dns.value).is_none()
    {
        out.push(
            Diag::error(
                code::CIDR_INVALID,
                format!("`{}` (clusterDNS) is not an IP address", dns.value),
            )
            .label(dns.span, "not an address")
            .help("write a single address inside serviceCIDR, e.g. `10.96.0.10`"),
        );
    }
    for policy in &intent.policies {
        let peers = policy
            .rules
            .iter()
            .flat_map(|r| &r.from)
            .chain(policy.egress.iter().flat_map(|r| &r.to));
        for peer in peers {
            if let Some(t) = &peer.cidr {
                block("policy peer cidr", t, out);
            }
            for t in &peer.except {
                block("policy peer except", t, out);
            }
        }
    }
    if let Some(fw) = &intent.firewall {
        for rule in &fw.rules {
            for from in &rule.from {
                network(
                    &format!("from of firewall rule {}", rule.name.value),
                    &from.value,
                    from.span,
                    out,
                );
            }
        }
    }
    overlaps(entries, out);
}

/// Whether `addr` is of the same family as `net`.
pub(super) fn same_family(net: &IpNet, addr: &IpAddr) -> bool {
    matches!(
        (net, addr),
        (IpNet::V4(_), IpAddr::V4(_)) | (IpNet::V6(_), IpAddr::V6(_))
    )
}
