//! `netc build FILE -o DIR [--check]`

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::check::{read_and_check, report};
use super::progress::{CountingSink, Progress};
use super::{Cli, Format, exit};
use crate::diagnostic::{escape_controls, escape_message};
use crate::emit::{self, Context};
use crate::machine::{BuildDoc, DiffDoc, DiffEntry, FileChange, Versioned};
use crate::output::{self, Change};
use crate::plan::Plan;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The intent file (.yaml/.yml, or .kdl).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Output directory; replaced atomically, files netc did not write are kept.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Write nothing: exit 1 and print a unified diff when DIR is not what build would write.
    #[arg(long)]
    pub check: bool,
    /// Output format: `json` prints what was written as one document
    /// (`schema/build.schema.json`; with `--check`, `schema/diff.schema.json`).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Reads and checks the intent, printing its diagnostics, and runs `then` on its Plan; returns
/// the exit code (1 without running `then` when the intent has errors).
pub(super) fn with_plan(file: &str, format: Format, then: impl FnOnce(&Plan) -> u8) -> u8 {
    let (src, checked) = match read_and_check(file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    report(&src, &checked.diagnostics, format);
    match checked.valid_plan() {
        Some(plan) => then(plan),
        None => {
            eprintln!("netc: {file} has errors; nothing written");
            exit::FINDINGS
        }
    }
}

/// A path as the terminal may see it: control characters escaped, as in diagnostics.
fn shown(path: &Path) -> String {
    escape_controls(&path.to_string_lossy())
}

/// Whether to colour a diff: stdout is a terminal and `NO_COLOR` is unset or empty.
pub(super) fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Every difference between DIR and what build would write for this Plan. Reads only; says
/// when an interrupted build's tree waits beside a missing DIR (the next build puts it back).
pub(super) fn changes(plan: &Plan, file: &str, out: &Path) -> Result<Vec<Change>, u8> {
    if let Some(old) = output::interrupted(out) {
        eprintln!(
            "netc: note: {} does not exist, but an interrupted build left the previous tree at \
             {}; the next `netc build` puts it back first (compared here: an empty {})",
            shown(out),
            shown(&old),
            shown(out)
        );
    }
    let ctx = Context::new(plan, file);
    output::compare(out, file, |sink| emit::emit_all(ctx, sink)).map_err(|e| {
        eprintln!("netc: {}", escape_message(&e.to_string()));
        exit::USAGE
    })
}

/// The `--format json` document of `changes` to DIR `out`.
fn diff_doc(out: &Path, changes: &[Change]) -> DiffDoc {
    let text = |b: &Option<Vec<u8>>| b.as_deref().map(|b| String::from_utf8_lossy(b).into());
    DiffDoc {
        out: out.to_string_lossy().into_owned(),
        up_to_date: changes.is_empty(),
        entries: changes
            .iter()
            .map(|c| DiffEntry {
                path: c.path.clone(),
                change: match (&c.current, &c.wanted) {
                    (None, _) => FileChange::Added,
                    (Some(_), Some(_)) => FileChange::Modified,
                    (Some(_), None) => FileChange::Removed,
                },
                old: text(&c.current),
                new: text(&c.wanted),
            })
            .collect(),
    }
}

/// Prints the diff of `changes` (a unified diff, or with `--format json` one document of
/// structured entries) and a one-line summary on stderr.
pub(super) fn print_changes(
    changes: &[Change],
    out: &Path,
    format: Format,
    colour: bool,
    quiet: bool,
) {
    let text = match format {
        Format::Human => output::render(changes, colour),
        Format::Json => Versioned::new(diff_doc(out, changes)).pretty(),
    };
    let stdout = std::io::stdout();
    let _ = stdout.lock().write_all(text.as_bytes());
    if quiet {
        return;
    }
    let s = output::summary(changes);
    if changes.is_empty() {
        eprintln!("netc: {} is up to date", shown(out));
    } else {
        eprintln!(
            "netc: {} differs from the build: {} changed, {} missing, {} stale file(s)",
            shown(out),
            s.changed,
            s.missing,
            s.stale
        );
    }
}

pub(super) fn run(args: &BuildArgs, cli: &Cli) -> u8 {
    with_plan(&args.file, args.format, |plan| build(plan, args, cli))
}

fn build(plan: &Plan, args: &BuildArgs, cli: &Cli) -> u8 {
    if cli.verbose
        && let Some(note) = super::check::mtu_note(plan)
    {
        eprintln!("netc: note: {note}");
    }
    if args.check {
        return match changes(plan, &args.file, &args.out) {
            Ok(ch) => {
                print_changes(&ch, &args.out, args.format, colour_stdout(), cli.quiet);
                if ch.is_empty() {
                    exit::OK
                } else {
                    exit::FINDINGS
                }
            }
            Err(code) => code,
        };
    }
    let ctx = Context::new(plan, &args.file);
    let mut progress = Progress::on_stderr("files written", cli.quiet);
    let built = output::build(&args.out, &args.file, |sink| {
        let mut counting = CountingSink {
            inner: sink,
            progress: &mut progress,
        };
        emit::emit_all(ctx, &mut counting)
    });
    progress.finish();
    match built {
        Ok(w) => {
            if args.format == Format::Json {
                let doc = Versioned::new(BuildDoc {
                    out: args.out.to_string_lossy().into_owned(),
                    files: w.files,
                    removed: w.removed,
                    kept: w.kept,
                });
                print!("{}", doc.pretty());
            }
            if !cli.quiet {
                eprintln!(
                    "netc: wrote {} file(s) to {}{}{}",
                    w.files,
                    shown(&args.out),
                    if w.removed > 0 {
                        format!(", removed {} stale", w.removed)
                    } else {
                        String::new()
                    },
                    if w.kept > 0 {
                        format!(", kept {} file(s) netc did not write", w.kept)
                    } else {
                        String::new()
                    },
                );
            }
            exit::OK
        }
        Err(e) => {
            eprintln!(
                "netc: {}; {} left unchanged",
                escape_message(&e.to_string()),
                shown(&args.out)
            );
            exit::USAGE
        }
    }
}
