//! firewalld: netc's part of a zone is a set of ports and rich rules, one per line in netc's
//! text form (`port 8080/tcp`, `rich-rule rule family="ipv4" ...`). Changes go to the runtime
//! and the permanent configuration both, so they survive a reload and a reboot.

use std::collections::BTreeSet;
use std::process::Command;

use ipnet::IpNet;

use super::{FirewallDriver, FirewallSpec};
use crate::apply::ApplyError;
use crate::intent::values::PortRange;

pub struct Firewalld {
    pub zone: String,
}

fn port_arg(p: &PortRange) -> String {
    if p.first == p.last {
        format!("{}/{}", p.first, p.protocol.as_str())
    } else {
        format!("{}-{}/{}", p.first, p.last, p.protocol.as_str())
    }
}

fn rich_rule(from: &IpNet, port: &PortRange, accept: bool) -> String {
    let family = if matches!(from, IpNet::V4(_)) {
        "ipv4"
    } else {
        "ipv6"
    };
    let ports = if port.first == port.last {
        port.first.to_string()
    } else {
        format!("{}-{}", port.first, port.last)
    };
    format!(
        "rule family=\"{family}\" source address=\"{from}\" port port=\"{ports}\" protocol=\"{}\" {}",
        port.protocol.as_str(),
        if accept { "accept" } else { "drop" }
    )
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
        self.cmd(&["--state".to_owned()]).map(|_| ()).map_err(|_| {
            ApplyError::Unsupported(
                "firewall backend firewalld: the firewalld daemon is not running on this host \
                 (start it, or use backend: nftables)"
                    .to_owned(),
            )
        })
    }

    fn change(&self, line: &str, add: bool) -> Result<(), ApplyError> {
        let verb = if add { "add" } else { "remove" };
        let arg = if let Some(port) = line.strip_prefix("port ") {
            format!("--{verb}-port={port}")
        } else if let Some(rule) = line.strip_prefix("rich-rule ") {
            format!("--{verb}-rich-rule={rule}")
        } else {
            return Ok(());
        };
        let zone = format!("--zone={}", self.zone);
        self.cmd(&[zone.clone(), arg.clone()])?;
        self.cmd(&["--permanent".to_owned(), zone, arg])?;
        Ok(())
    }
}

impl FirewallDriver for Firewalld {
    fn render(&self, spec: &FirewallSpec) -> String {
        let mut lines = Vec::new();
        for m in &spec.management {
            lines.push(format!("port {}", port_arg(m)));
        }
        for rule in &spec.rules {
            for port in &rule.ports {
                if rule.from.is_empty() && rule.accept {
                    lines.push(format!("port {}", port_arg(port)));
                } else {
                    for from in &rule.from {
                        lines.push(format!("rich-rule {}", rich_rule(from, port, rule.accept)));
                    }
                }
            }
        }
        for (_, range) in &spec.required {
            lines.push(format!("port {}", port_arg(range)));
        }
        let mut seen = BTreeSet::new();
        lines.retain(|l| seen.insert(l.clone()));
        lines.join("\n") + "\n"
    }

    fn observe(&self) -> Result<Option<String>, ApplyError> {
        self.running()?;
        let zone = format!("--zone={}", self.zone);
        let ports = self.cmd(&[zone.clone(), "--list-ports".to_owned()])?;
        let rich = self.cmd(&[zone, "--list-rich-rules".to_owned()])?;
        let mut lines: Vec<String> = ports
            .split_whitespace()
            .map(|p| format!("port {p}"))
            .collect();
        lines.extend(
            rich.lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("rich-rule {}", l.trim())),
        );
        Ok((!lines.is_empty()).then(|| lines.join("\n") + "\n"))
    }

    fn replace(&self, from: Option<&str>, to: Option<&str>) -> Result<(), ApplyError> {
        self.running()?;
        let old: BTreeSet<&str> = from.unwrap_or("").lines().collect();
        let new: BTreeSet<&str> = to.unwrap_or("").lines().collect();
        // Additions first: a port that moves between two forms is never closed in between.
        for line in new.difference(&old) {
            self.change(line, true)?;
        }
        for line in old.difference(&new) {
            self.change(line, false)?;
        }
        Ok(())
    }

    fn rule_count(&self, text: &str) -> usize {
        text.lines().filter(|l| !l.trim().is_empty()).count()
    }
}
