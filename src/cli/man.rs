//! `netc man`: the manual pages, rendered by clap_mangen from the same clap definitions as
//! `--help` and the completions (`mod.rs`), so they cannot drift from the flags.

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use super::{Cli, exit};

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `netc.1` and one page per subcommand (`netc-check.1`, ...) into DIR instead of
    /// printing `netc.1` (e.g. `netc man --out-dir /usr/local/share/man/man1`).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// The roff text of `netc.1`, exactly as `netc man` prints it.
pub fn page() -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out)?;
    Ok(out)
}

pub(super) fn run(args: &ManArgs) -> u8 {
    let result = match &args.out_dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
            .map_err(|e| {
                format!(
                    "netc: cannot write the manual pages to {}: {e}",
                    dir.display()
                )
            }),
        None => page()
            .and_then(|text| std::io::Write::write_all(&mut std::io::stdout().lock(), &text))
            .map_err(|e| format!("netc: cannot print the manual page: {e}")),
    };
    match result {
        Ok(()) => exit::OK,
        Err(msg) => {
            eprintln!("{msg}");
            exit::USAGE
        }
    }
}
