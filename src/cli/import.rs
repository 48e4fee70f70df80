//! `netc import policies FILE...|DIR`: existing manifests as the intent's `policies:` and
//! `workloads:` (printed on stdout; warnings and refusals on stderr).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{Cli, exit};
use crate::import;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ImportKind {
    /// networking.k8s.io/v1 NetworkPolicies (and Pods, Deployments, StatefulSets, DaemonSets,
    /// Namespaces for `workloads:`).
    Policies,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// What to import.
    #[arg(value_enum)]
    pub kind: ImportKind,
    /// Manifest files (YAML streams, JSON, `List`s) or directories (their `.yaml`, `.yml` and
    /// `.json` files, recursively, in name order).
    #[arg(value_name = "FILE|DIR", required = true)]
    pub paths: Vec<String>,
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for e in entries {
            let manifest = e
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"));
            if e.is_dir() || manifest {
                collect(&e, out)?;
            }
        }
    } else {
        out.push(path.to_owned());
    }
    Ok(())
}

pub(super) fn run(args: &ImportArgs, cli: &Cli) -> u8 {
    let ImportKind::Policies = args.kind;
    let mut paths = Vec::new();
    for p in &args.paths {
        if let Err(e) = collect(Path::new(p), &mut paths) {
            eprintln!("netc: {p}: {e}");
            return exit::USAGE;
        }
    }
    let mut files = Vec::new();
    for p in &paths {
        match std::fs::read_to_string(p) {
            Ok(text) => files.push((p.display().to_string(), text)),
            Err(e) => {
                eprintln!("netc: {}: {e}", p.display());
                return exit::USAGE;
            }
        }
    }
    match import::import(&files) {
        Ok(imported) => {
            for w in &imported.warnings {
                eprintln!("warning: {w}");
            }
            if cli.verbose {
                for s in &imported.skipped {
                    eprintln!("note: skipped {s} (not a policy or workload)");
                }
            }
            match import::render(&imported) {
                Ok(text) => {
                    print!("{text}");
                    if !cli.quiet {
                        eprintln!(
                            "netc: imported {} NetworkPolicies and {} workloads from {} file(s)",
                            imported.policies.len(),
                            imported.workloads.len(),
                            files.len()
                        );
                    }
                    exit::OK
                }
                Err(e) => {
                    eprintln!("netc: cannot write the intent: {e}");
                    exit::FINDINGS
                }
            }
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            eprintln!(
                "netc: {} construct(s) the intent cannot hold; nothing written",
                errors.len()
            );
            exit::FINDINGS
        }
    }
}
