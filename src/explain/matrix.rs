//! `netc explain --matrix`: the verdict for every pair of workloads and nodes, on one port or on
//! each destination's declared ports, rendered as text, Markdown, CSV, JSON or Graphviz dot.

use std::fmt::Write as _;
use std::io;

use serde::Serialize;

use super::{Connectivity, Endpoint, FlowPort};

/// One connection of the matrix.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Connection<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub port: &'a str,
    pub allowed: bool,
}

/// The matrix: endpoint names, the ports checked towards each destination, and for each
/// (source, destination) which of those ports are allowed.
#[derive(Clone, Debug, Default)]
pub struct Matrix {
    pub endpoints: Vec<String>,
    /// `ports[to]`: the ports checked towards destination `to`.
    pub ports: Vec<Vec<String>>,
    /// `cells[from][to][k]`: whether `ports[to][k]` is allowed (empty for a node to itself).
    pub cells: Vec<Vec<Vec<bool>>>,
}

impl Matrix {
    /// `all`, `-` (none), `?` (no port to check), `n/a` (a node to itself), or the allowed
    /// ports.
    pub fn summary(&self, from: usize, to: usize) -> String {
        let cell = &self.cells[from][to];
        let allowed: Vec<&str> = cell
            .iter()
            .zip(&self.ports[to])
            .filter(|(a, _)| **a)
            .map(|(_, p)| p.as_str())
            .collect();
        if self.ports[to].is_empty() {
            "?".to_owned()
        } else if cell.is_empty() {
            "n/a".to_owned()
        } else if allowed.is_empty() {
            "-".to_owned()
        } else if allowed.len() == cell.len() {
            "all".to_owned()
        } else {
            allowed.join(",")
        }
    }

    /// Every checked connection, row by row.
    pub fn connections(&self) -> impl Iterator<Item = Connection<'_>> {
        self.cells.iter().enumerate().flat_map(move |(i, row)| {
            row.iter().enumerate().flat_map(move |(j, cell)| {
                cell.iter()
                    .zip(&self.ports[j])
                    .map(move |(allowed, port)| Connection {
                        from: &self.endpoints[i],
                        to: &self.endpoints[j],
                        port,
                        allowed: *allowed,
                    })
            })
        })
    }
}

/// The ports checked towards `to`: `port` (a name resolved per destination), or the
/// destination's declared ports.
fn ports_to(c: &Connectivity<'_>, to: &Endpoint, port: Option<&str>) -> Vec<FlowPort> {
    match port {
        Some(text) => c.resolve_port(text, to).into_iter().collect(),
        None => declared_ports(c, to),
    }
}

/// A workload's named ports, a node's claimed ports (the first of a range).
pub fn declared_ports(c: &Connectivity<'_>, to: &Endpoint) -> Vec<FlowPort> {
    let mut out: Vec<FlowPort> = match to {
        Endpoint::Workload(i) => c
            .workload(*i)
            .ports
            .iter()
            .map(|p| FlowPort {
                protocol: p.port.protocol,
                port: p.port.first,
                name: Some(p.name.clone()),
            })
            .collect(),
        Endpoint::Node(n) => c.plan.nodes[*n]
            .ports
            .iter()
            .map(|claim| FlowPort {
                protocol: claim.range.protocol,
                port: claim.range.first,
                name: None,
            })
            .collect(),
        Endpoint::Cidr(_) => Vec::new(),
    };
    out.dedup_by(|a, b| a.protocol == b.protocol && a.port == b.port);
    out
}

/// Builds the matrix over every workload and node (a node to itself is left out).
pub fn build(c: &Connectivity<'_>, port: Option<&str>) -> Matrix {
    let endpoints = c.endpoints();
    let flow_ports: Vec<Vec<FlowPort>> = endpoints.iter().map(|e| ports_to(c, e, port)).collect();
    let cells = endpoints
        .iter()
        .enumerate()
        .map(|(fi, from)| {
            endpoints
                .iter()
                .enumerate()
                .map(|(ti, to)| {
                    if fi == ti && matches!(from, Endpoint::Node(_)) {
                        return Vec::new();
                    }
                    flow_ports[ti]
                        .iter()
                        .map(|p| c.allowed(from, to, p))
                        .collect()
                })
                .collect()
        })
        .collect();
    Matrix {
        endpoints: endpoints.iter().map(|e| c.describe(e)).collect(),
        ports: flow_ports
            .iter()
            .map(|ps| ps.iter().map(ToString::to_string).collect())
            .collect(),
        cells,
    }
}

/// `from,to,port,allowed`: the CSV header, then one [`csv_row`] per checked connection.
const CSV_HEADER: &str = "from,to,port,allowed\n";

/// One CSV row (fields already quoted by [`csv_field`]).
fn csv_row(
    out: &mut impl io::Write,
    from: &str,
    to: &str,
    port: &str,
    allowed: bool,
) -> io::Result<()> {
    writeln!(out, "{from},{to},{port},{allowed}")
}

/// The CSV matrix written row by row as each verdict is decided, in the order of
/// [`Matrix::connections`]: memory stays flat in the number of verdicts (only the endpoints'
/// names and ports are held), where [`build`] holds every cell.
pub fn write_csv(
    c: &Connectivity<'_>,
    port: Option<&str>,
    out: &mut impl io::Write,
) -> io::Result<()> {
    let endpoints = c.endpoints();
    let names: Vec<String> = endpoints
        .iter()
        .map(|e| csv_field(&c.describe(e)))
        .collect();
    let flow_ports: Vec<Vec<FlowPort>> = endpoints.iter().map(|e| ports_to(c, e, port)).collect();
    let port_names: Vec<Vec<String>> = flow_ports
        .iter()
        .map(|ps| ps.iter().map(|p| csv_field(&p.to_string())).collect())
        .collect();
    out.write_all(CSV_HEADER.as_bytes())?;
    for (fi, from) in endpoints.iter().enumerate() {
        for (ti, to) in endpoints.iter().enumerate() {
            if fi == ti && matches!(from, Endpoint::Node(_)) {
                continue;
            }
            for (p, name) in flow_ports[ti].iter().zip(&port_names[ti]) {
                csv_row(out, &names[fi], &names[ti], name, c.allowed(from, to, p))?;
            }
        }
    }
    Ok(())
}

/// Matrix output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFormat {
    Txt,
    Md,
    Csv,
    Json,
    Dot,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn dot_id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Matrix {
    pub fn render(&self, format: MatrixFormat) -> String {
        /// What a cell says (the text and Markdown matrices).
        const LEGEND: &str = "cells: all = every checked port allowed, - = none, ? = no port to check (declare ports or pass --port)";
        let mut out = String::new();
        match format {
            MatrixFormat::Txt => {
                let width = self.endpoints.iter().map(String::len).max().unwrap_or(0);
                let n = self.endpoints.len();
                let summaries: Vec<Vec<String>> = (0..n)
                    .map(|i| (0..n).map(|j| self.summary(i, j)).collect())
                    .collect();
                let col: Vec<usize> = (0..self.endpoints.len())
                    .map(|j| {
                        summaries
                            .iter()
                            .map(|r| r[j].len())
                            .chain([j.to_string().len() + 1])
                            .max()
                            .unwrap_or(1)
                    })
                    .collect();
                let _ = write!(out, "{:width$}", "from \\ to");
                for (j, w) in col.iter().enumerate() {
                    let _ = write!(out, "  {:w$}", format!("#{j}"));
                }
                out.push('\n');
                for (i, row) in summaries.iter().enumerate() {
                    let _ = write!(out, "{:width$}", self.endpoints[i]);
                    for (j, s) in row.iter().enumerate() {
                        let _ = write!(out, "  {:w$}", s, w = col[j]);
                    }
                    out.push('\n');
                }
                out.push('\n');
                for (j, name) in self.endpoints.iter().enumerate() {
                    let _ = writeln!(out, "#{j} = {name}");
                }
                out.push_str(LEGEND);
                out.push('\n');
            }
            MatrixFormat::Md => {
                out.push_str("| from \\ to |");
                for name in &self.endpoints {
                    let _ = write!(out, " {name} |");
                }
                out.push_str("\n|---|");
                for _ in &self.endpoints {
                    out.push_str("---|");
                }
                out.push('\n');
                for (i, name) in self.endpoints.iter().enumerate() {
                    let _ = write!(out, "| {name} |");
                    for j in 0..self.endpoints.len() {
                        let _ = write!(out, " {} |", self.summary(i, j));
                    }
                    out.push('\n');
                }
                // The same legend as the text matrix, as a paragraph after the table.
                let _ = writeln!(out, "\n{LEGEND}");
            }
            MatrixFormat::Csv => {
                let mut bytes = CSV_HEADER.as_bytes().to_vec();
                for c in self.connections() {
                    let _ = csv_row(
                        &mut bytes,
                        &csv_field(c.from),
                        &csv_field(c.to),
                        &csv_field(c.port),
                        c.allowed,
                    );
                }
                out = String::from_utf8_lossy(&bytes).into_owned();
            }
            MatrixFormat::Json => {
                out = crate::machine::Versioned::new(crate::machine::MatrixDoc {
                    endpoints: &self.endpoints,
                    connections: self.connections().collect(),
                })
                .pretty();
            }
            MatrixFormat::Dot => {
                out.push_str("digraph connectivity {\n  rankdir=LR;\n");
                for name in &self.endpoints {
                    let _ = writeln!(out, "  {};", dot_id(name));
                }
                for (i, row) in self.cells.iter().enumerate() {
                    for (j, cell) in row.iter().enumerate() {
                        if cell.iter().any(|a| *a) {
                            let _ = writeln!(
                                out,
                                "  {} -> {} [label={}];",
                                dot_id(&self.endpoints[i]),
                                dot_id(&self.endpoints[j]),
                                dot_id(&self.summary(i, j))
                            );
                        }
                    }
                }
                out.push_str("}\n");
            }
        }
        out
    }
}
