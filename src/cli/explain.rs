//! `netc explain FILE --from X --to Y [--port tcp/8080]`, `--matrix [FORMAT]`, `--exposure`.

use std::io::Write;

use clap::Args;

use super::check::{read_and_check, report};
use super::{Cli, Format, exit};
use crate::diagnostic::{Diag, SourceFile, code};
use crate::explain::matrix::{self, MatrixFormat};
use crate::explain::{Connectivity, Decider, Explanation, SideVerdict, exposure};
use crate::machine::{DiffConnectivityDoc, ExplainDoc, ExposureDoc, Versioned};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The intent file (.yaml/.yml, or .kdl).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Source: `NAMESPACE/NAME` (a workload), `node/NAME`, a CIDR or an address.
    #[arg(long, value_name = "ENDPOINT", required_unless_present_any = ["matrix", "exposure"])]
    pub from: Option<String>,
    /// Destination: `NAMESPACE/NAME`, `node/NAME`, a CIDR or an address.
    #[arg(long, value_name = "ENDPOINT", required_unless_present_any = ["matrix", "exposure"])]
    pub to: Option<String>,
    /// `tcp/8080`, `udp/53`, or a named port of the destination (`tcp/http`); without a
    /// protocol it is TCP (`9100` = `tcp/9100`, as kubectl); default: each port the
    /// destination declares.
    #[arg(long, value_name = "PROTO/PORT", value_parser = tcp_by_default)]
    pub port: Option<String>,
    /// Output format of the answer (and of diagnostics).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// The connectivity matrix of every workload and node instead (txt, md, csv, json, dot).
    #[arg(long, value_enum, num_args = 0..=1, default_missing_value = "txt", value_name = "FORMAT",
          conflicts_with_all = ["from", "to", "exposure"])]
    pub matrix: Option<MatrixFormat>,
    /// What each policy admits from pods that are not declared (any namespace, any pod).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub exposure: bool,
}

/// Fills each decider's intent line from its span.
fn lines(src: &SourceFile, side: &mut SideVerdict) {
    for d in &mut side.rules {
        if d.span.len > 0 {
            d.line = Some(src.line_of(d.span));
        }
    }
}

fn decider_text(d: &Decider) -> String {
    let mut s = String::from("      ");
    if let Some(p) = &d.policy {
        s.push_str(&format!("NetworkPolicy {p}: "));
    }
    s.push_str(&d.what);
    if let Some(line) = d.line {
        s.push_str(&format!(" (intent line {line})"));
    }
    s
}

fn side_text(name: &str, who: &str, side: &SideVerdict) -> String {
    let verdict = if side.allowed { "allowed" } else { "denied" };
    let layer = match side.layer {
        crate::explain::Layer::NetworkPolicy => "NetworkPolicy",
        crate::explain::Layer::NodeFirewall => "node firewall",
        crate::explain::Layer::None => "no filter",
    };
    let mut s = format!("  {name} ({who}): {verdict} by {layer}: {}", side.reason);
    if let Some(c) = side.code {
        s.push_str(&format!(" [{c}]"));
    }
    s.push('\n');
    for d in &side.rules {
        s.push_str(&decider_text(d));
        s.push('\n');
    }
    s
}

fn explanation_text(e: &Explanation) -> String {
    let verdict = match (e.allowed, e.policies_enforced) {
        (true, false) => "ALLOWED (policies not enforced)",
        (true, true) => "ALLOWED",
        (false, _) => "DENIED",
    };
    format!(
        "{} -> {} on {}: {verdict}\n{}{}",
        e.from,
        e.to,
        e.port,
        side_text("egress ", &e.from, &e.egress),
        side_text("ingress", &e.to, &e.ingress)
    )
}

pub(super) fn run(args: &ExplainArgs, _cli: &Cli) -> u8 {
    let (src, checked) = match read_and_check(&args.file) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // A CNI that does not enforce policies still has an answer: allowed, with its code.
    let blocking: Vec<Diag> = checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.code != code::CNI_POLICY_NOT_ENFORCED)
        .cloned()
        .collect();
    let Some(plan) = checked.plan.as_ref().filter(|_| blocking.is_empty()) else {
        report(&src, &checked.diagnostics, args.format);
        eprintln!("netc: {} has errors; nothing to explain", args.file);
        return exit::FINDINGS;
    };
    let c = Connectivity::new(plan);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(format) = args.matrix {
        if format == MatrixFormat::Csv {
            // Streamed: each row is written as it is decided, never the whole matrix held.
            let mut w = std::io::BufWriter::with_capacity(1 << 16, out);
            let _ = matrix::write_csv(&c, args.port.as_deref(), &mut w).and_then(|()| w.flush());
            return exit::OK;
        }
        let m = matrix::build(&c, args.port.as_deref());
        let _ = out.write_all(m.render(format).as_bytes());
        return exit::OK;
    }
    if args.exposure {
        let mut findings = exposure(&c);
        for f in &mut findings {
            if f.span.len > 0 {
                f.line = Some(src.line_of(f.span));
            }
        }
        match args.format {
            Format::Json => {
                let doc = Versioned::new(ExposureDoc {
                    exposures: findings,
                });
                let _ = out.write_all(doc.pretty().as_bytes());
            }
            Format::Human => {
                for f in &findings {
                    let line = f
                        .line
                        .map(|l| format!(" (intent line {l})"))
                        .unwrap_or_default();
                    let _ = writeln!(out, "{}{line}: {}", f.policy, f.admits);
                }
            }
        }
        return exit::OK;
    }
    let (Some(from), Some(to)) = (&args.from, &args.to) else {
        eprintln!("netc: explain needs --from and --to, or --matrix, or --exposure");
        return exit::USAGE;
    };
    let endpoints = c.resolve(from).and_then(|f| Ok((f, c.resolve(to)?)));
    let (from, to) = match endpoints {
        Ok(e) => e,
        Err(msg) => {
            eprintln!("netc: {msg}");
            return exit::USAGE;
        }
    };
    let ports = match &args.port {
        Some(p) => match c.resolve_port(p, &to) {
            Ok(p) => vec![p],
            Err(msg) => {
                eprintln!("netc: {msg}");
                return exit::USAGE;
            }
        },
        None => {
            let declared = matrix::declared_ports(&c, &to);
            if declared.is_empty() {
                eprintln!(
                    "netc: {} declares no ports: pass --port PROTO/PORT",
                    c.describe(&to)
                );
                return exit::USAGE;
            }
            declared
        }
    };
    let explanations = ports.iter().map(|port| {
        let mut e = c.explain(&from, &to, port);
        lines(&src, &mut e.egress);
        lines(&src, &mut e.ingress);
        e
    });
    match args.format {
        // One document for every port checked.
        Format::Json => {
            let doc = Versioned::new(ExplainDoc {
                explanations: explanations.collect(),
            });
            let _ = out.write_all(doc.pretty().as_bytes());
        }
        Format::Human => {
            for e in explanations {
                let _ = out.write_all(explanation_text(&e).as_bytes());
            }
        }
    }
    exit::OK
}

#[derive(Debug, Args)]
pub struct DiffConnectivityArgs {
    /// The intent before the change (e.g. `git show main:net.yaml > old.yaml`).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The intent after the change.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// Exit 1 when a connection OLD allows is no longer allowed (for CI).
    #[arg(long)]
    pub fail_on_removed: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `--port 9100` is `tcp/9100` (kubectl's convention: a port without a protocol is TCP).
fn tcp_by_default(port: &str) -> Result<String, String> {
    Ok(if port.contains('/') {
        port.to_owned()
    } else {
        format!("tcp/{port}")
    })
}

/// Loads one side: its source and Plan, or the exit code after reporting its errors.
fn load(file: &str, format: Format) -> Result<(SourceFile, crate::pipeline::Checked), u8> {
    let (src, checked) = read_and_check(file)?;
    let blocking = checked
        .diagnostics
        .iter()
        .any(|d| d.is_error() && d.code != code::CNI_POLICY_NOT_ENFORCED);
    if blocking || checked.plan.is_none() {
        report(&src, &checked.diagnostics, format);
        eprintln!("netc: {file} has errors; nothing to compare");
        return Err(exit::FINDINGS);
    }
    Ok((src, checked))
}

pub(super) fn run_diff(args: &DiffConnectivityArgs, cli: &Cli) -> u8 {
    let (_, old) = match load(&args.old, args.format) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (new_src, new) = match load(&args.new, args.format) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let (Some(old_plan), Some(new_plan), Some(new_intent)) =
        (old.plan.as_ref(), new.plan.as_ref(), new.intent.as_ref())
    else {
        return exit::FINDINGS;
    };
    let diff = crate::explain::diff::connections(
        &Connectivity::new(old_plan),
        &Connectivity::new(new_plan),
    );
    let host = crate::explain::diff::host_changes(old_plan, new_plan, new_intent);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match args.format {
        Format::Json => {
            let doc = Versioned::new(DiffConnectivityDoc {
                added: &diff.added,
                removed: &diff.removed,
                host: host.iter().map(|d| d.to_json(&new_src)).collect(),
            });
            let _ = out.write_all(doc.pretty().as_bytes());
        }
        Format::Human => {
            for (sign, what, flows) in
                [("+", "added", &diff.added), ("-", "removed", &diff.removed)]
            {
                if !cli.quiet || !flows.is_empty() {
                    let _ = writeln!(out, "connections {what}: {}", flows.len());
                }
                for f in flows {
                    let _ = writeln!(out, "  {sign} {} -> {} {}", f.from, f.to, f.port);
                }
            }
            for d in &host {
                eprintln!("{:?}", d.to_report(&new_src));
            }
        }
    }
    if args.fail_on_removed && !diff.removed.is_empty() {
        exit::FINDINGS
    } else {
        exit::OK
    }
}
