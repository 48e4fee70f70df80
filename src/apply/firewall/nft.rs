//! nftables: netc's rules live in the table `inet netc`. `apply` loads the node's emitted
//! `firewall/<node>.nft` as it is: its first lines declare and delete the table, so the one
//! `nft -f` transaction replaces the whole table and no packet ever sees a half-loaded ruleset.
//! Loading and listing run in-process through libnftables when it is installed
//! ([`libnftables`]), else by the `nft` binary.

use std::io::Write;
use std::process::{Command, Stdio};

use super::{FirewallDriver, libnftables};
use crate::apply::ApplyError;

/// The table netc owns; no other table is ever read or changed.
pub const TABLE: &str = "netc";

/// Declaring the table first makes `delete` valid whether or not it exists.
const REPLACE_TABLE: &str = "table inet netc\ndelete table inet netc\n";

pub struct Nftables;

/// A table as `nft list table inet netc` printed it, made loadable in place of the current one
/// (to put it back on rollback).
pub fn loadable(listing: &str) -> String {
    format!("{REPLACE_TABLE}{listing}")
}

fn tool_error(tool: &str, message: impl ToString) -> ApplyError {
    ApplyError::Tool {
        tool: tool.into(),
        message: message.to_string(),
    }
}

/// Whether `nft list` failed because the table does not exist.
fn absent(stderr: &str) -> bool {
    stderr.contains("No such file or directory")
}

impl FirewallDriver for Nftables {
    fn observe(&self) -> Result<Option<String>, ApplyError> {
        let list = format!("list table inet {TABLE}");
        if let Some(outcome) = libnftables::run(&list) {
            return match outcome {
                Ok(listing) => Ok(Some(listing)),
                Err(stderr) if absent(&stderr) => Ok(None),
                Err(stderr) => Err(tool_error("nft list table inet netc", stderr.trim())),
            };
        }
        let out = Command::new("nft")
            .args(["list", "table", "inet", TABLE])
            .output()
            .map_err(|e| tool_error("nft", e))?;
        if out.status.success() {
            return Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()));
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        if absent(&stderr) {
            Ok(None)
        } else {
            Err(tool_error("nft list table inet netc", stderr.trim()))
        }
    }

    /// Loads `to` exactly (an emitted file, or a listing made [`loadable`]) as one
    /// transaction; `None` deletes the table.
    fn replace(&self, _from: Option<&str>, to: Option<&str>) -> Result<(), ApplyError> {
        let script = to.unwrap_or(REPLACE_TABLE);
        if let Some(outcome) = libnftables::run(script) {
            return outcome
                .map(drop)
                .map_err(|stderr| tool_error("nft -f (table inet netc)", stderr.trim()));
        }
        let mut child = Command::new("nft")
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| tool_error("nft", e))?;
        // An nft that fails early stops reading (the write then fails with EPIPE): its own
        // message says why, so the write's error is only reported when nft succeeded.
        let written = child
            .stdin
            .take()
            .map_or(Ok(()), |mut stdin| stdin.write_all(script.as_bytes()));
        let out = child
            .wait_with_output()
            .map_err(|e| tool_error("nft -f", e))?;
        if !out.status.success() {
            return Err(tool_error(
                "nft -f (table inet netc)",
                String::from_utf8_lossy(&out.stderr).trim(),
            ));
        }
        written.map_err(|e| tool_error("nft -f", e))
    }

    /// Rules of a loadable file or a listing: every line but comments, the table and chain
    /// declarations, chain types and closing braces.
    fn rule_count(&self, text: &str) -> usize {
        text.lines()
            .map(str::trim)
            .filter(|l| {
                !l.is_empty()
                    && !l.starts_with('#')
                    && !l.starts_with("table ")
                    && !l.starts_with("delete table ")
                    && !l.starts_with("chain ")
                    && !l.starts_with("type ")
                    && *l != "}"
            })
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_count_reads_emitted_files_and_listings_alike() {
        let emitted = "#!/usr/sbin/nft -f\n# header\n\ntable inet netc\ndelete table inet netc\n\n\
            table inet netc {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\n\
            \t\tct state established,related accept\n\t\ttcp dport 22 accept comment \"management\"\n\t}\n}\n";
        let listing = "table inet netc {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\
            \t\tct state established,related accept\n\t\ttcp dport 22 accept comment \"management\"\n\t}\n}\n";
        assert_eq!(Nftables.rule_count(emitted), 2);
        assert_eq!(Nftables.rule_count(listing), 2);
        assert_eq!(Nftables.rule_count(&loadable(listing)), 2);
    }
}
