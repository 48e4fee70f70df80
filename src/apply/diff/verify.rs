//! After applying: re-read the host and compare it with the desired state again.

use crate::apply::desired::Desired;
use crate::apply::diff::{Mode, diff};
use crate::apply::firewall;
use crate::apply::observe::Observed;
use crate::apply::record::Owned;

/// Every difference between the host and `desired`, as messages (empty = verified).
pub fn verify(desired: &Desired, observed: &Observed, owned: &Owned) -> Vec<String> {
    let changes = diff(desired, observed, owned, Mode::Careful);
    let mut out: Vec<String> = changes
        .steps
        .iter()
        .map(|s| format!("still needed: {s}"))
        .collect();
    out.extend(changes.conflicts);
    if let Some(spec) = &desired.firewall
        && spec.backend == firewall::Backend::Nftables
    {
        let driver = firewall::driver(spec.backend, &spec.zone);
        let want = driver.rule_count(&spec.text);
        match &observed.firewall_nft {
            None => out.push("nftables table inet netc is missing".into()),
            Some(listing) => {
                let have = driver.rule_count(listing);
                if have != want {
                    out.push(format!(
                        "nftables table inet netc holds {have} rules, expected {want}"
                    ));
                }
            }
        }
    }
    out
}
