//! `netc status --node NAME [FILE]`: whether the agent's last pass applied the intent and the
//! node's connectivity holds now. Exit 0 when ready, 1 when not, 2 when the record or FILE
//! cannot be read. Read-only and lock-free: the DaemonSet's readinessProbe.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{Cli, Format, exit};
use crate::apply::{self, status};

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
    #[arg(long, value_name = "DIR", default_value = apply::state::DEFAULT_DIR)]
    pub state_dir: PathBuf,
    /// `json`: the per-node status as one JSON object.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
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
            eprintln!("netc: {e}");
            return exit::USAGE;
        }
    };
    let verdict = status::readiness(
        &args.node,
        record.as_ref(),
        expected.as_deref(),
        apply::agent::unix_now(),
    );
    let mut out = std::io::stdout().lock();
    if args.format == Format::Json {
        if let Ok(line) = serde_json::to_string(&verdict) {
            let _ = writeln!(out, "{line}");
        }
    } else if !cli.quiet {
        let generation = verdict.generation.as_deref().map_or("none", status::short);
        if verdict.ready {
            let _ = writeln!(
                out,
                "{}: ready: intent {generation} applied, verified, {} probe(s) answer",
                verdict.node,
                verdict.probes.len()
            );
        } else {
            let _ = writeln!(out, "{}: not ready (intent {generation})", verdict.node);
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
