/*!
The `netc` binary: parses the command line and hands it to [`netc::cli::run`].
*/

use clap::Parser;

fn main() -> std::process::ExitCode {
    miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().context_lines(2).build())
    }))
    .ok();
    netc::cli::run(netc::cli::Cli::parse())
}
