//! firewalld: netc's part is a set of zone entries (ports, protocols and rich rules of the
//! intent's zone, pod and service networks as sources of the `trusted` zone), the same entries
//! `firewall/<node>.firewalld.sh` adds (`emit::firewall::firewalld_zone`). Changes go to the
//! runtime and the permanent configuration both, so they survive a reload and a reboot. Only
//! netc's own entries are ever removed.

use std::collections::BTreeSet;
use std::process::Command;

use super::FirewallDriver;
use crate::apply::ApplyError;
use crate::emit::firewall::{FirewalldEntry, FirewalldKind, TRUSTED_ZONE};

pub struct Firewalld {
    pub zone: String,
}

/// The entries netc uses in a zone's `firewall-cmd --list-all` output: `  ports: 22/tcp
/// 8080/tcp`, `  protocols: ...`, `  sources: ...` (space-separated), and `  rich rules:`
/// followed by one tab-indented rule per line (firewalld `src/firewall/command.py`,
/// `print_zone_policy_info`).
fn zone_entries(list_all: &str) -> Vec<(FirewalldKind, String)> {
    let mut out = Vec::new();
    let mut in_rich_rules = false;
    for line in list_all.lines() {
        if in_rich_rules && line.starts_with('\t') {
            let rule = line.trim();
            if !rule.is_empty() {
                out.push((FirewalldKind::RichRule, rule.to_owned()));
            }
            continue;
        }
        in_rich_rules = false;
        let Some((key, values)) = line.trim().split_once(':') else {
            continue;
        };
        let kind = match key {
            "ports" => FirewalldKind::Port,
            "protocols" => FirewalldKind::Protocol,
            "sources" => FirewalldKind::Source,
            "rich rules" => {
                in_rich_rules = true;
                continue;
            }
            _ => continue,
        };
        out.extend(values.split_whitespace().map(|v| (kind, v.to_owned())));
    }
    out
}

impl Firewalld {
    fn cmd(&self, args: &[String]) -> Result<String, ApplyError> {
        let out = Command::new("firewall-cmd")
            .args(args)
            .output()
            .map_err(|e| ApplyError::Tool {
                tool: "firewall-cmd".into(),
                message: e.to_string(),
            })?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(ApplyError::Tool {
                tool: format!("firewall-cmd {}", args.join(" ")),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }

    fn running(&self) -> Result<(), ApplyError> {
        self.cmd(&["--state".to_owned()])
            .map(|_| ())
            .map_err(|_| ApplyError::FirewalldNotRunning)
    }

    /// The zones netc puts entries into: the intent's and `trusted`.
    fn zones(&self) -> Vec<&str> {
        let mut zones = vec![self.zone.as_str()];
        if self.zone != TRUSTED_ZONE {
            zones.push(TRUSTED_ZONE);
        }
        zones
    }

    /// Adds or removes one entry, at run time and in the permanent configuration. firewalld
    /// answers ALREADY_ENABLED / NOT_ENABLED with success, so both are idempotent.
    fn change(&self, entry: &FirewalldEntry, add: bool) -> Result<(), ApplyError> {
        let verb = if add { "add" } else { "remove" };
        let arg = format!("--{verb}-{}={}", entry.kind.as_str(), entry.value);
        let zone = format!("--zone={}", entry.zone);
        self.cmd(&[zone.clone(), arg.clone()])?;
        self.cmd(&["--permanent".to_owned(), zone, arg])?;
        Ok(())
    }
}

/// The entries of a text of lines, in order, without duplicates.
fn entries(text: Option<&str>) -> Vec<FirewalldEntry> {
    let mut seen = BTreeSet::new();
    text.unwrap_or("")
        .lines()
        .filter_map(FirewalldEntry::parse)
        .filter(|e| seen.insert(e.line()))
        .collect()
}

impl FirewallDriver for Firewalld {
    fn observe(&self) -> Result<Option<String>, ApplyError> {
        self.running()?;
        let known = self.cmd(&["--get-zones".to_owned()])?;
        let mut lines = Vec::new();
        for zone in self.zones() {
            if !known.split_whitespace().any(|z| z == zone) {
                return Err(ApplyError::FirewalldNoZone {
                    zone: zone.to_owned(),
                });
            }
            let all = self.cmd(&[format!("--zone={zone}"), "--list-all".to_owned()])?;
            lines.extend(
                zone_entries(&all)
                    .into_iter()
                    .map(|(kind, value)| format!("{zone} {} {value}", kind.as_str())),
            );
        }
        Ok((!lines.is_empty()).then(|| lines.join("\n") + "\n"))
    }

    fn replace(&self, from: Option<&str>, to: Option<&str>) -> Result<(), ApplyError> {
        self.running()?;
        let old = entries(from);
        let new = entries(to);
        // Additions first (management first, in order): a port that moves between two forms
        // is never closed in between.
        for e in new.iter().filter(|e| !old.contains(e)) {
            self.change(e, true)?;
        }
        for e in old.iter().rev().filter(|e| !new.contains(e)) {
            self.change(e, false)?;
        }
        Ok(())
    }

    fn rule_count(&self, text: &str) -> usize {
        entries(Some(text)).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_all_output_is_read_entry_by_entry() {
        let out = "public (active)\n  target: default\n  icmp-block-inversion: no\n  interfaces: \n  \
            sources: \n  services: dhcpv6-client ssh\n  ports: 22/tcp 30000-32767/udp\n  protocols: ipip\n  \
            forward: yes\n  masquerade: no\n  forward-ports: \n  source-ports: 53/udp\n  icmp-blocks: \n  rich rules: \n\
            \trule family=\"ipv4\" source address=\"10.0.0.0/8\" port port=\"80\" protocol=\"tcp\" accept\n";
        let got: Vec<String> = zone_entries(out)
            .into_iter()
            .map(|(k, v)| format!("{} {v}", k.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                "port 22/tcp",
                "port 30000-32767/udp",
                "protocol ipip",
                "rich-rule rule family=\"ipv4\" source address=\"10.0.0.0/8\" port port=\"80\" protocol=\"tcp\" accept",
            ]
        );
    }
}
