//! nftables: netc's rules live in the table `inet netc`, loaded by one `nft -f` transaction that
//! deletes and recreates the table, so no packet ever sees a half-loaded ruleset.

use std::io::Write;
use std::process::{Command, Stdio};

use ipnet::IpNet;

use super::{FirewallDriver, FirewallSpec};
use crate::apply::ApplyError;
use crate::intent::values::{PortRange, Protocol};

/// The table netc owns; no other table is ever read or changed.
pub const TABLE: &str = "netc";

pub struct Nftables;

fn ports_expr(protocol: Protocol, ports: &[&PortRange]) -> String {
    let items: Vec<String> = ports
        .iter()
        .map(|p| {
            if p.first == p.last {
                p.first.to_string()
            } else {
                format!("{}-{}", p.first, p.last)
            }
        })
        .collect();
    if items.len() == 1 {
        format!("{} dport {}", protocol.as_str(), items[0])
    } else {
        format!("{} dport {{ {} }}", protocol.as_str(), items.join(", "))
    }
}

/// One line per protocol: `tcp dport { 80, 443 }`.
fn port_matches(ports: &[PortRange]) -> Vec<String> {
    [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
        .into_iter()
        .filter_map(|proto| {
            let of: Vec<&PortRange> = ports.iter().filter(|p| p.protocol == proto).collect();
            (!of.is_empty()).then(|| ports_expr(proto, &of))
        })
        .collect()
}

/// Source matches, one per family (`ip saddr { ... }`); `[""]` when any source.
fn source_matches(from: &[IpNet]) -> Vec<String> {
    if from.is_empty() {
        return vec![String::new()];
    }
    let mut out = Vec::new();
    for (keyword, nets) in [
        (
            "ip",
            from.iter()
                .filter(|n| matches!(n, IpNet::V4(_)))
                .collect::<Vec<_>>(),
        ),
        (
            "ip6",
            from.iter().filter(|n| matches!(n, IpNet::V6(_))).collect(),
        ),
    ] {
        if !nets.is_empty() {
            let list: Vec<String> = nets.iter().map(ToString::to_string).collect();
            out.push(format!("{keyword} saddr {{ {} }} ", list.join(", ")));
        }
    }
    out
}

/// nft string literal for a comment (names are DNS-1123 labels, quoted anyway).
fn comment(text: &str) -> String {
    let clean: String = text
        .chars()
        .filter(|c| !matches!(c, '"' | '\\' | '\n'))
        .collect();
    format!("comment \"{clean}\"")
}

impl FirewallDriver for Nftables {
    fn render(&self, spec: &FirewallSpec) -> String {
        let mut rules: Vec<String> = Vec::new();
        // Management first: nothing below can shadow it.
        for m in port_matches(&spec.management) {
            rules.push(format!("{m} accept {}", comment("management")));
        }
        rules.push("ct state established,related accept".into());
        rules.push("iifname \"lo\" accept".into());
        rules.push("meta l4proto { icmp, ipv6-icmp } accept".into());
        for rule in &spec.rules {
            let verdict = if rule.accept { "accept" } else { "drop" };
            for src in source_matches(&rule.from) {
                for m in port_matches(&rule.ports) {
                    rules.push(format!("{src}{m} {verdict} {}", comment(&rule.name)));
                }
            }
        }
        for (component, range) in &spec.required {
            for m in port_matches(std::slice::from_ref(range)) {
                rules.push(format!("{m} accept {}", comment(component)));
            }
        }
        let mut out = format!(
            "table inet {TABLE} {{\n\tchain input {{\n\t\ttype filter hook input priority filter; policy drop;\n"
        );
        for r in rules {
            out.push_str("\t\t");
            out.push_str(&r);
            out.push('\n');
        }
        out.push_str("\t}\n}\n");
        out
    }

    fn observe(&self) -> Result<Option<String>, ApplyError> {
        let out = Command::new("nft")
            .args(["list", "table", "inet", TABLE])
            .output()
            .map_err(|e| ApplyError::Tool {
                tool: "nft".into(),
                message: e.to_string(),
            })?;
        if out.status.success() {
            return Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("No such file or directory") {
            Ok(None)
        } else {
            Err(ApplyError::Tool {
                tool: "nft list table inet netc".into(),
                message: stderr.trim().to_owned(),
            })
        }
    }

    fn replace(&self, _from: Option<&str>, to: Option<&str>) -> Result<(), ApplyError> {
        // Declaring the table first makes `delete` valid whether or not it exists; the whole
        // script is one transaction.
        let mut script = format!("table inet {TABLE}\ndelete table inet {TABLE}\n");
        if let Some(to) = to {
            script.push_str(to);
        }
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| ApplyError::Tool {
                tool: "nft".into(),
                message: e.to_string(),
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(|e| ApplyError::Tool {
                    tool: "nft -f".into(),
                    message: e.to_string(),
                })?;
        }
        let out = child.wait_with_output().map_err(|e| ApplyError::Tool {
            tool: "nft -f".into(),
            message: e.to_string(),
        })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(ApplyError::Tool {
                tool: "nft -f (table inet netc)".into(),
                message: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }

    fn rule_count(&self, text: &str) -> usize {
        text.lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && !l.starts_with("table ")
                    && !l.starts_with("chain ")
                    && !l.starts_with("type ")
                    && *l != "}"
            })
            .count()
    }
}
