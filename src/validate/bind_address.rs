//! `netc::nodes::bind-address`: a node's `bindAddress`, the address its API server listens on.
//!
//! A specific address must be one of the node's own (an API server bound elsewhere never
//! starts: `listen tcp X:6443: bind: cannot assign requested address`), on a control-plane
//! node (a worker runs no API server; RKE2/k3s agents' `bind-address` is their own listener,
//! not the API server's), of the first service CIDR's family (netc advertises the API server at
//! its bind address, and kube-apiserver refuses an advertised address of another family than
//! its first service CIDR: "service IP family ... must match public address family",
//! kubernetes/kubernetes `cmd/kube-apiserver/app/options/validation.go`), and it must be where
//! the control-plane endpoint leads when that endpoint is one of the node's own addresses.
//!
//! The targets that cannot take it are recorded in the Plan (`plan/not_applied.rs`) and reported by
//! `not_applied.rs` (`netc::nodes::setting-not-applied`): RKE2 fixes
//! kube-apiserver's bind address at 0.0.0.0 (`apiserver-bind-address` is a dropped flag,
//! rancher/rke2 `pkg/cli/cmds/server.go`, set in `pkg/cli/defaults/defaults.go`) and its probes
//! run `kubectl --server=https://localhost:6443` (`pkg/podtemplate/spec.go`); Canonical
//! Kubernetes' bootstrap and join files have no such key and its control-plane kubeconfigs name
//! the local API server on localhost (canonical/k8s-snap `setup.SetupControlPlaneKubeconfigs`),
//! so `--bind-address` in `extra-node-kube-apiserver-args` would cut the node's own components
//! off. The unspecified addresses (`0.0.0.0`, `::`) are every target's default and pass.

use std::net::IpAddr;

use crate::diagnostic::{Diag, code};
use crate::intent::values;
use crate::intent::{Distribution, NetworkIntent, Role, Span};
use crate::plan::Plan;

pub(super) fn check(intent: &NetworkIntent, plan: &Plan, out: &mut Vec<Diag>) {
    let dist = intent.cluster.distribution.value;
    let endpoint_ip: Option<IpAddr> = plan
        .control_plane_endpoint
        .as_deref()
        .and_then(|e| values::endpoint_host(e).parse().ok());
    for (node, np) in intent.nodes.iter().zip(&plan.nodes) {
        let Some(bind) = &node.bind_address else {
            continue;
        };
        let name = &node.name.value;
        let Some(ip) = values::parse_address(bind) else {
            out.push(
                Diag::error(
                    code::CIDR_INVALID,
                    format!("bindAddress `{}` of node {name} is not an IP address", bind.value),
                )
                .label(bind.span, "not an address")
                .help("write a plain address without prefix, e.g. 10.0.1.10, or 0.0.0.0 / :: for every address"),
            );
            continue;
        };
        if node.role.value == Role::Worker {
            out.push(
                Diag::error(
                    code::NODES_BIND_ADDRESS,
                    format!(
                        "bindAddress of node {name}: a worker runs no API server, so there is nothing to bind"
                    ),
                )
                .label(bind.span, "bind address")
                .label(node.role.span, "worker")
                .help("remove bindAddress from the worker, or make the node a control-plane node"),
            );
            continue;
        }
        if ip.is_unspecified() {
            continue; // every address: each target's default
        }
        let own = np.own_addresses();
        if !own.contains(&ip) {
            let list = own
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            out.push(
                Diag::error(
                    code::NODES_BIND_ADDRESS,
                    format!(
                        "bindAddress {ip} of node {name} is none of its addresses ({list}): the API server could not listen on it"
                    ),
                )
                .label(bind.span, "bind address")
                .label(node.address.span, "the node's address")
                .help("give one of the node's own addresses, or 0.0.0.0 / :: for every address"),
            );
            continue;
        }
        // A distribution without the knob: reported from the Plan's record
        // (`validate/not_applied.rs`), which decides it in one place.
        if crate::plan::not_applied::node_knobs(dist)
            .bind_address_gap
            .is_some()
        {
            continue;
        }
        match dist {
            Distribution::Rke2 | Distribution::Canonical => {}
            Distribution::Manual => out.push(
                Diag::warning(
                    code::NODES_BIND_ADDRESS,
                    format!(
                        "node {name}'s kube-apiserver gets --bind-address={ip}: it no longer answers on https://127.0.0.1:{port}, where the lesson's kube-controller-manager, kube-scheduler and admin kubeconfigs point",
                        port = crate::plan::API_SERVER_PORT
                    ),
                )
                .label(bind.span, "bind address")
                .help(format!(
                    "write https://{} as the server of those kubeconfigs (netc's kube-proxy kubeconfig already does)",
                    values::host_port(ip, plan.api_server_port)
                )),
            ),
            Distribution::Kubeadm | Distribution::K3s => {}
        }
        if let Some(first) = plan.service_cidrs.first()
            && first.addr().is_ipv6() != ip.is_ipv6()
        {
            out.push(
                Diag::error(
                    code::NODES_ADDRESS_FAMILY,
                    format!(
                        "node {name}'s bindAddress {ip} is {} but the first service CIDR {first} is {}: the API server is advertised at its bind address, and kube-apiserver requires the two families to match",
                        family(ip.is_ipv6()),
                        family(first.addr().is_ipv6())
                    ),
                )
                .label(bind.span, "bind address")
                .label(service_span(intent, *first), "first service CIDR")
                .help(format!(
                    "bind to the node's {} address, or to 0.0.0.0 / :: for every address",
                    family(first.addr().is_ipv6())
                )),
            );
        }
        if let Some(ep) = endpoint_ip
            && ep != ip
            && own.contains(&ep)
            && let Some(span) = intent
                .cluster
                .control_plane_endpoint
                .as_ref()
                .map(|e| e.span)
        {
            out.push(
                Diag::error(
                    code::NODES_BIND_ADDRESS,
                    format!(
                        "controlPlaneEndpoint {ep} is node {name}'s own address, but its API server listens only on {ip}: every node and kubeconfig pointed at the endpoint is refused"
                    ),
                )
                .label(bind.span, "bind address")
                .label(span, "control-plane endpoint")
                .help(format!(
                    "bind to {ep}, point controlPlaneEndpoint at {ip} (or a load balancer), or bind to 0.0.0.0 / ::"
                )),
            );
        }
    }
}

/// The span of the service CIDR entry that is `net`, else of the whole value.
fn service_span(intent: &NetworkIntent, net: ipnet::IpNet) -> Span {
    let cidrs = &intent.cluster.service_cidr;
    cidrs
        .entries()
        .find(|(t, _)| values::parse_network(t).is_ok_and(|n| n == net))
        .map_or(cidrs.span, |(_, span)| span)
}

fn family(v6: bool) -> &'static str {
    if v6 { "IPv6" } else { "IPv4" }
}
