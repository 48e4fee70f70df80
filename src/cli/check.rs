//! `netc check FILE...`

use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;

use clap::Args;

use super::{Cli, Format, exit};
use crate::diagnostic::{Diag, Severity, SourceFile, code};
use crate::intent::{self, Syntax};
use crate::{output, pipeline};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Intent files (.yaml/.yml, or .kdl); `-` reads YAML from standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Diagnostic output format: `sarif` writes one SARIF 2.1.0 log of every file's findings
    /// (GitHub code scanning).
    #[arg(long, value_enum, default_value_t)]
    pub format: CheckFormat,
    /// Exit 1 when there are warnings, not only errors (CI). An intent accepts a warning it
    /// means to keep with `lint: {allow: [CODE]}` (top level, or in one policy).
    #[arg(long)]
    pub deny_warnings: bool,
}

/// How `check` prints its findings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// miette's graphical report (colour unless NO_COLOR or not a terminal).
    #[default]
    Human,
    /// One JSON object per finding, one per line (`schema/check.schema.json`).
    Json,
    /// One SARIF 2.1.0 log on standard output, after every file is checked.
    Sarif,
}

/// The largest intent netc reads, in bytes (64 MiB). A 10,000-node intent is 2.5 MB; the
/// bound keeps a mistaken argument (a disk image, a log) from being read into memory whole.
pub const MAX_INTENT_BYTES: u64 = 64 * 1024 * 1024;

/// Reads an intent file (or stdin for `-`); the error is already a message for the user.
///
/// A regular file (or a symbolic link to one) has its size checked before it is read. A FIFO
/// (`netc check <(git show main:net.yaml)`) or a character device (`/dev/stdin`) is a stream,
/// read as standard input is: no further than one byte past [`MAX_INTENT_BYTES`], so an
/// endless one (`/dev/zero`) stops at the bound. Directories, sockets and block devices are
/// refused before they are opened. Gzip-compressed input is decompressed
/// ([`intent::compressed`]), its output bounded the same way.
pub(crate) fn read_source(path: &str) -> Result<SourceFile, String> {
    let too_large = |what: &str| {
        format!(
            "netc: cannot read {what}: more than {} MiB, the largest intent netc reads",
            MAX_INTENT_BYTES / (1024 * 1024)
        )
    };
    let bytes = if path == "-" {
        let bytes = read_at_most(std::io::stdin().lock())
            .map_err(|e| format!("netc: cannot read standard input: {e}"))?;
        if bytes.len() as u64 > MAX_INTENT_BYTES {
            return Err(too_large("standard input"));
        }
        bytes
    } else {
        let cannot = |e: &dyn std::fmt::Display| format!("netc: cannot read {path}: {e}");
        let refused = |ty: std::fs::FileType| {
            format!(
                "netc: cannot read {path}: it is {}, not a file or a pipe (`-` reads the \
                 intent from standard input)",
                output::file_kind(ty)
            )
        };
        // Follows a symbolic link (an intent may be one), then looks before opening.
        let meta = std::fs::metadata(path).map_err(|e| cannot(&e))?;
        let stream = is_stream(meta.file_type());
        if !meta.is_file() && !stream {
            return Err(refused(meta.file_type()));
        }
        if meta.is_file() && meta.len() > MAX_INTENT_BYTES {
            return Err(too_large(path));
        }
        // A regular file is opened with O_NONBLOCK: should it be swapped for a FIFO after the
        // check, open still returns (and the kind is checked again below). A stream is opened
        // as `cat` opens it: a FIFO waits for its writer.
        let flags = if stream {
            libc::O_NOCTTY
        } else {
            libc::O_NONBLOCK | libc::O_NOCTTY
        };
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(path)
            .map_err(|e| cannot(&e))?;
        let opened = file.metadata().map_err(|e| cannot(&e))?;
        if opened.is_file() != meta.is_file() || is_stream(opened.file_type()) != stream {
            return Err(refused(opened.file_type()));
        }
        if opened.is_file() && opened.len() > MAX_INTENT_BYTES {
            return Err(too_large(path));
        }
        let bytes = read_at_most(file).map_err(|e| cannot(&e))?;
        if bytes.len() as u64 > MAX_INTENT_BYTES {
            return Err(too_large(path));
        }
        bytes
    };
    let what = if path == "-" { "standard input" } else { path };
    // A gzip-compressed intent (the fleet's ConfigMap mounts one), recognised by its magic
    // bytes, is read decompressed, up to the same bound.
    let bytes = if intent::compressed::is_gzip(&bytes) {
        intent::compressed::gunzip(&bytes, MAX_INTENT_BYTES)
            .map_err(|e| format!("netc: cannot read {what}: {e}"))?
    } else {
        bytes
    };
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("netc: cannot read {what}: not UTF-8 text"))?;
    Ok(SourceFile::new(path, text))
}

/// A FIFO or a character device: read as a stream, up to the bound.
fn is_stream(ty: std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    ty.is_fifo() || ty.is_char_device()
}

/// Reads up to one byte more than [`MAX_INTENT_BYTES`] (so the caller can tell it was more).
fn read_at_most(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(MAX_INTENT_BYTES + 1).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads and checks one intent file (build, diff and apply start here). A file that cannot be
/// read has already been reported; the error is the exit code.
pub(crate) fn read_and_check(path: &str) -> Result<(SourceFile, pipeline::Checked), u8> {
    let src = read_source(path).map_err(|msg| {
        eprintln!("{msg}");
        exit::USAGE
    })?;
    let checked = pipeline::check(&src, Syntax::from_path(path));
    Ok((src, checked))
}

/// Prints findings in the chosen format; returns whether any is an error.
pub(crate) fn report(src: &SourceFile, diags: &[Diag], format: Format) -> bool {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for d in diags {
        match format {
            Format::Json => {
                let line = crate::machine::Versioned::new(d.to_json(src)).line();
                let _ = writeln!(out, "{line}");
            }
            Format::Human => errln!("{:?}", d.to_report(src)),
        }
    }
    diags.iter().any(Diag::is_error)
}

/// Where a derived pod MTU (`cni.mtu: auto` or absent) comes from: the node, interface and
/// MTU of the smallest data path, and whether that one node lowers it for every node.
pub(super) fn mtu_note(plan: &crate::plan::Plan) -> Option<String> {
    let limit = plan.cni.mtu_limit.as_ref()?;
    let path = match &limit.interface {
        Some(i) => format!(
            "node {}'s interface {} (MTU {})",
            limit.node, i, limit.interface_mtu
        ),
        None => format!(
            "node {} (MTU {}: no data-path interface with a declared MTU, the default)",
            limit.node, limit.interface_mtu
        ),
    };
    let overhead = plan.cni.overhead;
    let mut note = format!(
        "pod MTU {} (auto) = {path} less {overhead} bytes of encapsulation",
        plan.cni.mtu
    );
    if limit.lowers() {
        note.push_str(&format!(
            "; this one data path lowers the pod MTU of every node (the largest is MTU {})",
            limit.largest
        ));
    }
    Some(note)
}

/// Whether the file failed to parse as an intent (only then is it asked whether it is one).
fn has_parse_error(checked: &pipeline::Checked) -> bool {
    checked
        .diagnostics
        .iter()
        .any(|d| d.is_error() && d.code == code::PARSE)
}

pub(super) fn run(args: &CheckArgs, cli: &Cli) -> u8 {
    let mut code = exit::OK;
    let (mut checked_files, mut skipped, mut errors, mut warnings) =
        (0usize, 0usize, 0usize, 0usize);
    let mut sarif = Vec::new();
    for path in &args.files {
        let (src, checked) = match read_and_check(path) {
            Ok(loaded) => loaded,
            Err(usage) => {
                code = usage;
                continue;
            }
        };
        // A file that is no intent at all (a manifest kept beside the intent, netc's own
        // output) is skipped with a note: a pre-commit `files:` pattern matches those too.
        if has_parse_error(&checked)
            && let Some(why) = intent::not_an_intent(&src.text, Syntax::from_path(path))
        {
            skipped += 1;
            if !cli.quiet {
                eprintln!(
                    "netc: note: skipped {}: {why}",
                    crate::diagnostic::escape_controls(path)
                );
            }
            continue;
        }
        checked_files += 1;
        if cli.verbose
            && args.format == CheckFormat::Human
            && let Some(plan) = checked.valid_plan()
            && let Some(note) = mtu_note(plan)
        {
            eprintln!("netc: note: {note}");
        }
        errors += checked.diagnostics.iter().filter(|d| d.is_error()).count();
        let file_warnings = checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        warnings += file_warnings;
        let has_errors = checked.diagnostics.iter().any(Diag::is_error);
        match args.format {
            CheckFormat::Human => {
                report(&src, &checked.diagnostics, Format::Human);
            }
            CheckFormat::Json => {
                report(&src, &checked.diagnostics, Format::Json);
            }
            CheckFormat::Sarif => sarif.push((src, checked.diagnostics)),
        }
        if (has_errors || (args.deny_warnings && file_warnings > 0)) && code == exit::OK {
            code = exit::FINDINGS;
        }
    }
    if args.format == CheckFormat::Sarif {
        let cwd = std::env::current_dir().unwrap_or_default();
        let log = crate::diagnostic::sarif::log(&sarif, &cwd);
        match serde_json::to_string_pretty(&log) {
            Ok(text) => {
                let _ = writeln!(std::io::stdout().lock(), "{text}");
            }
            Err(e) => {
                eprintln!("netc: cannot write the SARIF log: {e}");
                return exit::USAGE;
            }
        }
    }
    if !cli.quiet && args.format == CheckFormat::Human {
        let skipped = match skipped {
            0 => String::new(),
            n => format!(" ({n} skipped: not intents)"),
        };
        eprintln!(
            "netc: checked {checked_files} file(s){skipped}: {errors} error(s), {warnings} warning(s)"
        );
    }
    code
}
