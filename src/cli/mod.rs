//! The command line: one clap definition of every command and flag, and the dispatcher.

/// `eprintln!` that never panics: when stderr is closed (EPIPE) the line is lost, not the run.
/// For `apply`, which keeps SIGPIPE ignored ([`run`]) so that it always finishes what it
/// changed and records it.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// `println!` that never panics (see [`errln!`]).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod apply;
mod build;
mod check;
mod diff;
mod explain;
mod import;
mod man;
mod progress;
pub mod schema;
mod status;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit codes of every command (DESIGN.md: 0 ok/warnings, 1 errors, 2 usage/IO).
pub mod exit {
    pub const OK: u8 = 0;
    pub const FINDINGS: u8 = 1;
    pub const USAGE: u8 = 2;
}

/// netc: one network intent file, validated across every layer and compiled into every config
/// a Kubernetes cluster's nodes need.
#[derive(Debug, Parser)]
#[command(name = "netc", version, about, long_about = None)]
pub struct Cli {
    /// Print only diagnostics and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more about what is done.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and validate intent files; report every finding with its source span.
    Check(check::CheckArgs),
    /// Check, then write every artifact to DIR atomically (`--check`: only diff against DIR).
    Build(build::BuildArgs),
    /// Show, as a unified diff, what `netc build` would change in DIR.
    Diff(diff::DiffArgs),
    /// Program this node to match the intent: plan, apply, verify; roll back on failure.
    Apply(apply::ApplyArgs),
    /// Can A reach B on a port, and which rule decides (NetworkPolicies and node firewall).
    Explain(explain::ExplainArgs),
    /// The connections two intents allow differently, and disruptive host-level changes.
    DiffConnectivity(explain::DiffConnectivityArgs),
    /// Existing manifests as intent: `netc import policies FILE...|DIR` prints `policies:` and
    /// `workloads:`.
    Import(import::ImportArgs),
    /// Whether this node's agent applied the intent and its connectivity holds (readinessProbe).
    Status(status::StatusArgs),
    /// Print the JSON Schema of the intent file, or with `--output NAME` that of a command's
    /// `--format json` document (`schema/NAME.schema.json`).
    Schema(schema::SchemaArgs),
    /// Print the manual page (roff; `netc man | man -l -`), or write every page with `--out-dir`.
    Man(man::ManArgs),
    /// Print a shell completion script (`netc completions bash > /etc/bash_completion.d/netc`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// How diagnostics are printed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// miette's graphical report (colour unless NO_COLOR or not a terminal).
    #[default]
    Human,
    /// JSON: the command's one document (`schema/`), or, when the intent has errors, one
    /// finding per line as `check --format json` prints them.
    Json,
}

/// Whether the command may change the host: `apply`, except `--dry-run`.
fn changes_host(command: &Command) -> bool {
    matches!(command, Command::Apply(a) if !a.dry_run || a.watch || a.confirm || a.revert_pending)
}

/// Writing to a closed pipe (`netc check f | head`) ends the process quietly, as coreutils
/// do: SIGPIPE back to its default action, which Rust's runtime sets to "ignore" (every write
/// would then fail with EPIPE and `println!` panic). Not for a command that changes the host:
/// `apply` must finish (or roll back) and record what it changed whatever happens to its
/// output, so it keeps SIGPIPE ignored and its output ignores EPIPE ([`errln!`], [`outln!`]).
/// `build` may be ended at any write: DIR is replaced in one rename with its manifest, and an
/// interrupted build's staging directory is removed by the next one.
fn quiet_on_closed_pipe(command: &Command) {
    if !changes_host(command) {
        // SAFETY: setting a signal's disposition to its default; no handler runs.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
}

/// Runs the command line and returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    quiet_on_closed_pipe(&cli.command);
    let code = match &cli.command {
        Command::Check(args) => check::run(args, &cli),
        Command::Build(args) => build::run(args, &cli),
        Command::Diff(args) => diff::run(args, &cli),
        Command::Apply(args) => apply::run(args, &cli),
        Command::Explain(args) => explain::run(args, &cli),
        Command::DiffConnectivity(args) => explain::run_diff(args, &cli),
        Command::Import(args) => import::run(args, &cli),
        Command::Status(args) => status::run(args, &cli),
        Command::Schema(args) => schema::run(args),
        Command::Man(args) => man::run(args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "netc", &mut std::io::stdout());
            exit::OK
        }
    };
    ExitCode::from(code)
}
