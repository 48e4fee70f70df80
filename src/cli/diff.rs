//! `netc diff FILE -o DIR`: what build would change in DIR, as a unified diff (or, with
//! `--format json`, one document of structured entries).

use std::path::PathBuf;

use clap::Args;

use super::build::{changes, colour_stdout, print_changes, with_plan};
use super::{Cli, Format, exit};

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The intent file (.yaml/.yml, or .kdl).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The output directory to compare with.
    #[arg(short = 'o', long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// Output format: `json` prints the differences as one document of structured entries
    /// (`schema/diff.schema.json`) instead of a unified diff.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Exit 1 when DIR differs from what build would write, 0 when it is up to date (as
    /// `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

pub(super) fn run(args: &DiffArgs, cli: &Cli) -> u8 {
    with_plan(&args.file, args.format, |plan| {
        match changes(plan, &args.file, &args.out) {
            Ok(ch) => {
                print_changes(&ch, &args.out, args.format, colour_stdout(), cli.quiet);
                if args.exit_code && !ch.is_empty() {
                    exit::FINDINGS
                } else {
                    exit::OK
                }
            }
            Err(code) => code,
        }
    })
}
