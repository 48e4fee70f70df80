//! `netc check FILE...`

use std::io::Write;

use clap::Args;

use super::{Cli, Format, exit};
use crate::diagnostic::{Diag, Severity, SourceFile};
use crate::intent::Syntax;
use crate::pipeline;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Intent files (.yaml/.yml, or .kdl); `-` reads YAML from standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Diagnostic output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// Reads an intent file (or stdin for `-`); the error is already a message for the user.
pub(crate) fn read_source(path: &str) -> Result<SourceFile, String> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("netc: cannot read standard input: {e}"))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("netc: cannot read {path}: {e}"))?
    };
    Ok(SourceFile::new(path, text))
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
                if let Ok(line) = serde_json::to_string(&d.to_json(src)) {
                    let _ = writeln!(out, "{line}");
                }
            }
            Format::Human => eprintln!("{:?}", d.to_report(src)),
        }
    }
    diags.iter().any(Diag::is_error)
}

pub(super) fn run(args: &CheckArgs, cli: &Cli) -> u8 {
    let mut code = exit::OK;
    let (mut checked_files, mut errors, mut warnings) = (0usize, 0usize, 0usize);
    for path in &args.files {
        let (src, checked) = match read_and_check(path) {
            Ok(loaded) => loaded,
            Err(usage) => {
                code = usage;
                continue;
            }
        };
        checked_files += 1;
        errors += checked.diagnostics.iter().filter(|d| d.is_error()).count();
        warnings += checked
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        if report(&src, &checked.diagnostics, args.format) && code == exit::OK {
            code = exit::FINDINGS;
        }
    }
    if !cli.quiet && args.format == Format::Human {
        eprintln!(
            "netc: checked {checked_files} file(s): {errors} error(s), {warnings} warning(s)"
        );
    }
    code
}
