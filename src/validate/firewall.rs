//! `netc::firewall::setting-not-applied`: a `firewall:` setting the chosen backend has no
//! knob for. `zone` names a firewalld zone; the nftables backend writes its own `inet netc`
//! table, which has no zones, so the value would be dropped without a word.

use crate::diagnostic::{Diag, code};
use crate::intent::{FirewallBackend, NetworkIntent};
use crate::plan::Plan;

pub(super) fn check(intent: &NetworkIntent, _plan: &Plan, out: &mut Vec<Diag>) {
    let Some(fw) = &intent.firewall else {
        return;
    };
    if fw.backend.value != FirewallBackend::Nftables {
        return;
    }
    if let Some(zone) = &fw.zone {
        out.push(
            Diag::warning(
                code::FIREWALL_NOT_APPLIED,
                format!(
                    "`firewall.zone: {}` has no effect with the nftables backend: zones are firewalld's",
                    zone.value
                ),
            )
            .label(zone.span, "a firewalld zone")
            .label(fw.backend.span, "nftables backend")
            .help("remove `zone`, or use `backend: firewalld` to have netc's rules in that zone"),
        );
    }
}
