//! Interfaces: `netc::iface::invalid` (names the kernel refuses, an interface declared twice
//! on a node, an impossible MTU) and `netc::iface::unknown` (an interface the intent uses but
//! a node that lists its interfaces does not have). Nodes that list no interfaces are not
//! checked for `unknown`: netc knows nothing about them.

use std::collections::HashMap;

use super::NodeSet;
use crate::diagnostic::{Diag, code};
use crate::intent::values::is_interface_name;
use crate::intent::{FirewallBackend, NetworkIntent, Text};
use crate::plan::Plan;

/// The kernel's MTU bounds for Ethernet-like devices (IPv4's 68-byte minimum, 16-bit maximum).
const MIN_LINK_MTU: u32 = 68;
const MAX_LINK_MTU: u32 = 65535;

/// Characters the kernel allows in an interface name but that no file netc writes can carry
/// as they are: control characters anywhere, and `"` and `\\`, which an nftables string
/// cannot quote (`nft_quote` in `emit/text.rs`), when the firewall is nftables.
fn unwritable(value: &str, nftables: bool) -> Option<char> {
    value
        .chars()
        .find(|&c| c.is_control() || (nftables && matches!(c, '"' | '\\')))
}

fn name(what: &str, t: &Text, nftables: bool, out: &mut Vec<Diag>) {
    if is_interface_name(&t.value)
        && let Some(c) = unwritable(&t.value, nftables)
    {
        let why = if c.is_control() {
            "a control character".to_owned()
        } else {
            format!("`{c}`, which nftables cannot quote")
        };
        out.push(
            Diag::error(
                code::IFACE_INVALID,
                format!(
                    "interface `{}` ({what}) holds {why}",
                    t.value.escape_debug()
                ),
            )
            .label(t.span, "cannot be written")
            .help("rename the interface with letters, digits, `-`, `_` and `.` (e.g. `eth1`)"),
        );
        return;
    }
    if !is_interface_name(&t.value) {
        let why = if t.value.len() > 15 {
            format!("is {} bytes long; Linux allows 15", t.value.len())
        } else if t.value.is_empty() {
            "is empty".to_owned()
        } else {
            "is not a Linux interface name".to_owned()
        };
        out.push(
            Diag::error(
                code::IFACE_INVALID,
                format!("interface `{}` ({what}) {why}", t.value),
            )
            .label(t.span, "invalid interface name")
            .help("use at most 15 bytes without `/`, `:` or whitespace, and not `.` or `..` (e.g. `eth1`, `bond0.100`)"),
        );
    }
}

fn invalid(intent: &NetworkIntent, out: &mut Vec<Diag>) {
    let nft = intent
        .firewall
        .as_ref()
        .is_some_and(|f| f.backend.value == FirewallBackend::Nftables);
    if let Some(i) = &intent.cni.interface {
        name("cni.interface", i, nft, out);
    }
    if let Some(i) = intent.cni.vxlan.as_ref().and_then(|v| v.interface.as_ref()) {
        name("cni.vxlan.interface", i, nft, out);
    }
    if let Some(h) = &intent.host_overlay {
        name("hostOverlay.bridge", &h.bridge, nft, out);
        if let Some(i) = &h.vxlan.interface {
            name("hostOverlay.vxlan.interface", i, nft, out);
        }
    }
    for node in &intent.nodes {
        let mut seen: HashMap<&str, &Text> = HashMap::new();
        for f in &node.interfaces {
            name(&format!("on {}", node.name.value), &f.name, nft, out);
            if let Some(first) = seen.insert(f.name.value.as_str(), &f.name) {
                out.push(
                    Diag::error(
                        code::IFACE_INVALID,
                        format!(
                            "interface {} is declared twice on {}",
                            f.name.value, node.name.value
                        ),
                    )
                    .label(f.name.span, "declared again")
                    .label(first.span, "first declared here")
                    .help("declare each interface once per node"),
                );
            }
            if let Some(mtu) = &f.mtu
                && !(MIN_LINK_MTU..=MAX_LINK_MTU).contains(&mtu.value)
            {
                out.push(
                    Diag::error(
                        code::IFACE_INVALID,
                        format!(
                            "MTU {} of {} on {} is outside {MIN_LINK_MTU}-{MAX_LINK_MTU}",
                            mtu.value, f.name.value, node.name.value
                        ),
                    )
                    .label(mtu.span, "impossible MTU")
                    .help("use the MTU the link really has (1500 for plain Ethernet, up to 9000 or so for jumbo frames)"),
                );
            }
        }
    }
}

/// `reference` must be declared on every node that declares interfaces.
fn unknown(intent: &NetworkIntent, what: &str, reference: &Text, out: &mut Vec<Diag>) {
    let mut missing = NodeSet::default();
    let mut first_span = None;
    for node in &intent.nodes {
        if node.interfaces.is_empty()
            || node
                .interfaces
                .iter()
                .any(|f| f.name.value == reference.value)
        {
            continue;
        }
        first_span.get_or_insert(node.name.span);
        missing.add(&node.name.value);
    }
    let Some(node_span) = first_span else { return };
    out.push(
        Diag::error(
            code::IFACE_UNKNOWN,
            format!(
                "{} ({what}) is not declared on {}",
                reference.value,
                missing.describe()
            ),
        )
        .label(reference.span, what.to_owned())
        .label(node_span, format!("has no {}", reference.value))
        .help(format!(
            "add `{{name: {}}}` to those nodes' interfaces, or name an interface they have",
            reference.value
        )),
    );
}

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    invalid(intent, out);
    let bridge = intent
        .host_overlay
        .as_ref()
        .map(|h| h.bridge.value.as_str());
    if let Some(i) = &intent.cni.interface
        && is_interface_name(&i.value)
        && Some(i.value.as_str()) != bridge
    {
        unknown(intent, "cni.interface", i, out);
    }
    if let Some(i) = intent
        .host_overlay
        .as_ref()
        .and_then(|h| h.vxlan.interface.as_ref())
        && is_interface_name(&i.value)
    {
        unknown(intent, "hostOverlay.vxlan.interface", i, out);
    }
}
