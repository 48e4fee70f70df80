//! `netc status --node NAME [FILE]`: whether the agent's last pass (or the last one-shot apply)
//! applied the intent and the node's connectivity holds now. Exit 0 when ready, 1 when not, 2
//! when the record or FILE cannot be read. Read-only and lock-free: the DaemonSet's
//! readinessProbe. `--liveness`: only whether the agent is alive and passing (its
//! livenessProbe), whatever its intent did.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Cli, Format, exit};
use crate::apply::{self, status};
use crate::machine::{LivenessDoc, Versioned};

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The intent the node should run (its generation must be the applied one); without it,
    /// the intent the agent read last.
    #[arg(value_name = "FILE")]
    pub file: Option<String>,
    /// The node this host is ($NODE_NAME in a DaemonSet).
    #[arg(long, env = "NODE_NAME")]
    pub node: String,
    /// The agent's state directory.
    #[arg(long, value_name = "DIR", default_value = apply::store::state::DEFAULT_DIR)]
    pub state_dir: PathBuf,
    /// Only whether the agent is alive and passing (the livenessProbe): its process runs and it
    /// wrote its record recently, whether or not its intent applied.
    #[arg(long, conflicts_with = "file")]
    pub liveness: bool,
    /// `json`: the per-node status as one JSON document (`schema/status.schema.json`; with
    /// `--liveness`, `schema/status-liveness.schema.json`).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `--liveness --format json`: the verdict as one document (`reason`: why not alive).
fn print_liveness(node: &str, reason: Option<String>) {
    let doc = Versioned::new(LivenessDoc {
        node: node.to_owned(),
        alive: reason.is_none(),
        reason,
    });
    print!("{}", doc.pretty());
}

pub(super) fn run(args: &StatusArgs, cli: &Cli) -> u8 {
    let expected = match &args.file {
        Some(file) => match super::check::read_source(file) {
            Ok(src) => Some(status::generation(src.text.as_bytes())),
            Err(message) => {
                eprintln!("{message}");
                return exit::USAGE;
            }
        },
        None => None,
    };
    let record = match status::load(&args.state_dir) {
        Ok(record) => record,
        Err(e) => {
            eprintln!(
                "netc: {}",
                crate::diagnostic::escape_message(&e.to_string())
            );
            return exit::USAGE;
        }
    };
    if args.liveness {
        let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
        return match status::liveness(
            &args.node,
            record.as_ref(),
            apply::agent::unix_now(),
            &alive,
        ) {
            Ok(()) => {
                if args.format == Format::Json {
                    print_liveness(&args.node, None);
                } else if !cli.quiet {
                    println!("{}: agent alive", args.node);
                }
                exit::OK
            }
            Err(reason) => {
                if args.format == Format::Json {
                    print_liveness(&args.node, Some(reason));
                } else if !cli.quiet {
                    println!("{}: agent not alive: {reason}", args.node);
                }
                exit::FINDINGS
            }
        };
    }
    // Without FILE: the file the record names, as it is now (the agent may not have read an
    // edit yet, or cannot read it).
    let expected = expected.map(Ok).or_else(|| {
        let file = record.as_ref()?.file.as_deref()?;
        Some(
            super::check::read_source(file)
                .map(|src| status::generation(src.text.as_bytes()))
                .map_err(|message| format!("cannot read the intent {file}: {message}")),
        )
    });
    let pending_try = apply::store::pending::load(&args.state_dir)
        .ok()
        .flatten()
        .map(|p| p.deadline);
    let verdict = status::readiness(
        &args.node,
        record.as_ref(),
        &status::Context {
            expected,
            pending_try,
        },
        apply::agent::unix_now(),
    );
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        let _ = write!(out, "{}", Versioned::new(&verdict).pretty());
    } else if !cli.quiet {
        let generation = verdict.generation.as_deref().map_or("none", status::short);
        let by = match verdict.record {
            Some(status::RecordKind::Agent) => " (agent pass)",
            Some(status::RecordKind::Apply) => " (one-shot apply)",
            None => "",
        };
        if verdict.ready {
            let _ = writeln!(
                out,
                "{}: ready: intent {generation} applied, verified{by}, {} probe(s) answer",
                verdict.node,
                verdict.probes.len()
            );
        } else {
            let _ = writeln!(out, "{}: not ready (intent {generation}){by}", verdict.node);
            for reason in &verdict.reasons {
                let _ = writeln!(out, "  {reason}");
            }
        }
    }
    if verdict.ready {
        exit::OK
    } else {
        exit::FINDINGS
    }
}
