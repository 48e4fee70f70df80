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

/// `Ok` when every command of the nftables text `script` is about the table `inet netc` only:
/// at the top level only `table inet netc` (with its block) and `add`/`create`/`delete`/
/// `destroy`/`flush`/`insert`/`replace`/`reset`/`list` of `inet netc` or of an object in it,
/// besides `define`/`redefine`/`undefine` of variables; `include` nowhere. Anything else
/// (`flush ruleset`, another table, a table without its family) is refused, naming it.
pub fn only_netc(script: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let mut statement: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut chars = script.chars().peekable();
    let mut in_string = false;
    let check = |statement: &mut Vec<String>| -> Result<(), String> {
        let words: Vec<&str> = statement.iter().map(String::as_str).collect();
        let ok = matches!(
            words.as_slice(),
            [] | ["table", "inet", "netc", ..]
                | ["define" | "redefine" | "undefine", ..]
                | [
                    "add"
                        | "create"
                        | "delete"
                        | "destroy"
                        | "flush"
                        | "insert"
                        | "replace"
                        | "reset"
                        | "list",
                    _,
                    "inet",
                    "netc",
                    ..,
                ]
        );
        let text = words.join(" ");
        statement.clear();
        if ok {
            Ok(())
        } else {
            Err(format!(
                "nftables text touching more than table inet netc: `{}` (netc loads only its own \
                 table)",
                crate::diagnostic::escape_controls(&text.chars().take(80).collect::<String>())
            ))
        }
    };
    let mut include = false;
    let mut end_word = |word: &mut String, statement: &mut Vec<String>, depth: usize| {
        include |= word == "include";
        if !word.is_empty() {
            if depth == 0 {
                statement.push(std::mem::take(word));
            } else {
                word.clear();
            }
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => {
                // A comment, to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                end_word(&mut word, &mut statement, depth);
                if depth == 0 {
                    check(&mut statement)?;
                }
            }
            '\\' if chars.peek() == Some(&'\n') => {
                chars.next();
                end_word(&mut word, &mut statement, depth);
            }
            '{' => {
                end_word(&mut word, &mut statement, depth);
                depth += 1;
            }
            '}' => {
                end_word(&mut word, &mut statement, depth);
                depth = depth
                    .checked_sub(1)
                    .ok_or("nftables text with an unbalanced `}`")?;
            }
            ';' | '\n' => {
                end_word(&mut word, &mut statement, depth);
                if depth == 0 {
                    check(&mut statement)?;
                }
            }
            c if c.is_whitespace() => end_word(&mut word, &mut statement, depth),
            c => word.push(c),
        }
    }
    end_word(&mut word, &mut statement, depth);
    if include {
        return Err(
            "nftables text with an `include` (netc loads only its own table, from the text \
             itself)"
                .to_owned(),
        );
    }
    if depth != 0 {
        return Err("nftables text with an unbalanced `{`".to_owned());
    }
    check(&mut statement)
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
        // Whatever the text came from (an emitter, the cache, a pending --try's undo steps, a
        // listing), nothing but netc's own table is ever loaded.
        only_netc(script).map_err(|why| ApplyError::Refused(vec![why]))?;
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
        assert_eq!(only_netc(emitted), Ok(()));
        assert_eq!(only_netc(&loadable(listing)), Ok(()));
        assert_eq!(only_netc(REPLACE_TABLE), Ok(()));
    }

    #[test]
    fn text_touching_another_table_is_refused() {
        for ok in [
            "add rule inet netc input tcp dport 22 accept\n",
            "flush table inet netc; add chain inet netc c { type filter hook input priority 0; }\n",
            "define ports = { 22, 80 }\ntable inet netc {\n chain c { tcp dport $ports accept comment \"flush ruleset\" }\n}\n",
            "# table ip filter in a comment\ntable inet netc\n",
            "table inet netc { chain include_x { } }\n",
        ] {
            assert_eq!(only_netc(ok), Ok(()), "{ok}");
        }
        for bad in [
            "flush ruleset\n",
            "table inet netc\ndelete table ip filter\n",
            "table inet netc { }\ntable ip nat { chain c { } }\n",
            "table inet netc { chain c { } }; delete table ip nat\n",
            "table netc { }\n",
            "add rule ip filter INPUT accept\n",
            "delete table inet netc2\n",
            "table inet netc {\n include \"/etc/x.nft\"\n}\n",
            "include \"/etc/x.nft\"\n",
            "table inet netc {\n",
            "}\nflush ruleset\n",
        ] {
            assert!(only_netc(bad).is_err(), "accepted: {bad}");
        }
    }
}
