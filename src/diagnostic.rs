//! Findings about an intent file: one type for parse errors and validation rules alike,
//! rendered by miette for people and as JSON lines for machines.

pub mod rules;
pub mod sarif;

use std::fmt;

use miette::{LabeledSpan, Report, SourceSpan};
use serde::Serialize;

/// A byte range in one intent file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub const fn new(offset: usize, len: usize) -> Self {
        Self { offset, len }
    }

    /// True for values that came without a position (defaults, values built by netc).
    pub fn is_unknown(&self) -> bool {
        self.offset == 0 && self.len == 0
    }
}

impl From<Span> for SourceSpan {
    fn from(s: Span) -> Self {
        SourceSpan::new(s.offset.into(), s.len)
    }
}

/// The stable diagnostic codes of DESIGN.md's catalogue. Codes never change meaning.
pub mod code {
    pub const PARSE: &str = "netc::parse";
    pub const CIDR_INVALID: &str = "netc::cidr::invalid";
    pub const CIDR_OVERLAP: &str = "netc::cidr::overlap";
    pub const DNS_OUTSIDE_SERVICE_CIDR: &str = "netc::dns::outside-service-cidr";
    pub const DNS_RESERVED_ADDRESS: &str = "netc::dns::reserved-address";
    pub const DNS_KUBEADM_ADDRESS: &str = "netc::dns::kubeadm-address";
    pub const SERVICE_CIDR_TOO_LARGE: &str = "netc::service-cidr::too-large";
    pub const NODES_POD_CAPACITY: &str = "netc::nodes::pod-capacity";
    pub const NODES_POD_CIDR_PIN: &str = "netc::nodes::pod-cidr-pin";
    pub const NODES_DUPLICATE: &str = "netc::nodes::duplicate";
    pub const CNI_UNSUPPORTED: &str = "netc::cni::unsupported";
    pub const CNI_POLICY_NOT_ENFORCED: &str = "netc::cni::policy-not-enforced";
    pub const CNI_HOST_GW_NEEDS_L2: &str = "netc::cni::host-gw-needs-l2";
    pub const CNI_SETTING_NOT_APPLIED: &str = "netc::cni::setting-not-applied";
    pub const CNI_PATH_INVALID: &str = "netc::cni::path-invalid";
    pub const MTU_TOO_LARGE: &str = "netc::mtu::too-large";
    pub const PORTS_CONFLICT: &str = "netc::ports::conflict";
    pub const PORTS_BLOCKED_REQUIRED: &str = "netc::ports::blocked-required";
    pub const IFACE_INVALID: &str = "netc::iface::invalid";
    pub const IFACE_UNKNOWN: &str = "netc::iface::unknown";
    pub const POLICY_INVALID: &str = "netc::policy::invalid";
    pub const POLICY_DNS_BLOCKED: &str = "netc::policy::dns-blocked";
    pub const PROXY_NO_PROXY_MISSING: &str = "netc::proxy::no-proxy-missing";
    pub const NAME_INVALID: &str = "netc::name::invalid";
    pub const PROXY_INVALID: &str = "netc::proxy::invalid";
    pub const ENDPOINT_INVALID: &str = "netc::endpoint::invalid";
    pub const NODES_ADDRESS_FAMILY: &str = "netc::nodes::address-family";
    pub const NODES_SETTING_NOT_APPLIED: &str = "netc::nodes::setting-not-applied";
    pub const NODES_BIND_ADDRESS: &str = "netc::nodes::bind-address";
    pub const DATASTORE_UNSUPPORTED: &str = "netc::datastore::unsupported";
    pub const KUBE_PROXY_INVALID: &str = "netc::kube-proxy::invalid";
    pub const WORKLOAD_INVALID: &str = "netc::workload::invalid";
    pub const POLICY_SELECTOR_UNMATCHED: &str = "netc::policy::selector-unmatched";
    pub const POLICY_SHADOWED: &str = "netc::policy::shadowed";
    pub const POLICY_DNS_ONE_PROTOCOL: &str = "netc::policy::dns-one-protocol";
    pub const POLICY_IPBLOCK_COVERS_CLUSTER: &str = "netc::policy::ipblock-covers-cluster";
    pub const POLICY_API_SERVER_UNREACHABLE: &str = "netc::policy::api-server-unreachable";
    pub const POLICY_CIDR_HOST_BITS: &str = "netc::policy::cidr-host-bits";
    pub const DIFF_DISRUPTIVE: &str = "netc::diff::disruptive";
    pub const FLEET_INVALID: &str = "netc::fleet::invalid";
    pub const FLEET_TOO_LARGE: &str = "netc::fleet::too-large";
    pub const FLEET_CLIENT_SIDE_APPLY_TOO_LARGE: &str = "netc::fleet::client-side-apply-too-large";
    pub const KUBE_PROXY_MODE_MISMATCH: &str = "netc::kube-proxy::mode-mismatch";
    pub const LINT_INVALID: &str = "netc::lint::invalid";
    /// `netc apply` refusals before any step (not `check` findings: they depend on the host).
    pub const APPLY_NOT_THIS_NODE: &str = "netc::apply::not-this-node";
    pub const APPLY_MISSING_INTERFACE: &str = "netc::apply::missing-interface";
    pub const KUBE_PROXY_NOT_APPLIED: &str = "netc::kube-proxy::setting-not-applied";
    pub const PROFILE_VERSION_UNSUPPORTED: &str = "netc::profile::version-unsupported";
    pub const PROFILE_VERSION_UNVERIFIED: &str = "netc::profile::version-unverified";
    pub const CNI_BUILTIN_FLAVOR: &str = "netc::cni::builtin-flavor";
    pub const ENDPOINT_PORT_UNSUPPORTED: &str = "netc::endpoint::port-unsupported";
    pub const FIREWALL_NOT_APPLIED: &str = "netc::firewall::setting-not-applied";
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// A labelled place in the intent file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One finding: a stable code, a message naming the user's values, labelled spans and a fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diag {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    pub fn info(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Info, message)
    }

    fn new(code: &'static str, severity: Severity, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            labels: Vec::new(),
            help: None,
        }
    }

    /// Points at `span`. Spans netc made up itself (defaults) are not labelled.
    #[must_use]
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Self {
        if !span.is_unknown() {
            self.labels.push(Label {
                span,
                text: text.into(),
            });
        }
        self
    }

    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The span the finding is about (its first label).
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diag {}

impl miette::Diagnostic for Diag {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, l)| {
            let text = Some(l.text.clone());
            if i == 0 {
                LabeledSpan::new_primary_with_span(text, l.span)
            } else {
                LabeledSpan::new_with_span(text, l.span)
            }
        })))
    }
}

/// An intent file's name and text, for rendering spans.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub name: String,
    pub text: String,
    /// Where each line starts, indexed once on first use (`line_col` is then a binary search,
    /// not a rescan of the text per finding).
    lines: std::sync::OnceLock<LineIndex>,
}

/// The byte offset of each line's start, and whether the text is ASCII (a column is then a
/// byte difference).
#[derive(Clone, Debug)]
struct LineIndex {
    starts: Vec<usize>,
    ascii: bool,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
            lines: std::sync::OnceLock::new(),
        }
    }

    fn index(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex {
            starts: std::iter::once(0)
                .chain(
                    self.text
                        .bytes()
                        .enumerate()
                        .filter(|&(_, b)| b == b'\n')
                        .map(|(i, _)| i + 1),
                )
                .collect(),
            ascii: self.text.is_ascii(),
        })
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let index = self.index();
        // The last line start at or before `offset` (starts[0] = 0 <= offset always).
        let line = index.starts.partition_point(|&s| s <= offset);
        let line_start = index.starts[line - 1];
        let column = if index.ascii {
            offset - line_start
        } else {
            self.text
                .get(line_start..offset)
                .map_or(0, |s| s.chars().count())
        } + 1;
        (line, column)
    }

    /// 1-based line of a span, for tests and JSON output.
    pub fn line_of(&self, span: Span) -> usize {
        self.line_col(span.offset).0
    }
}

/// The JSON form of one finding (`netc check --format json`, one object per line).
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct JsonDiag<'a> {
    /// The stable code (`netc::cidr::overlap`; README's table).
    pub code: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    /// The intent file as named on the command line (`-`: standard input).
    pub file: &'a str,
    /// 1-based line of the primary label (`null`: the finding has no place in the file).
    pub line: Option<usize>,
    /// 1-based column, in characters.
    pub column: Option<usize>,
    pub help: Option<&'a str>,
    /// Every labelled place, the primary first.
    pub labels: Vec<JsonLabel<'a>>,
}

/// A labelled place of a finding.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema)]
pub struct JsonLabel<'a> {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// Byte offset in the file.
    pub offset: usize,
    /// Length in bytes.
    pub length: usize,
    pub text: &'a str,
}

impl Diag {
    pub fn to_json<'a>(&'a self, src: &'a SourceFile) -> JsonDiag<'a> {
        let pos = self.primary_span().map(|s| src.line_col(s.offset));
        JsonDiag {
            code: self.code,
            severity: self.severity,
            message: &self.message,
            file: &src.name,
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            help: self.help.as_deref(),
            labels: self
                .labels
                .iter()
                .map(|l| {
                    let (line, column) = src.line_col(l.span.offset);
                    JsonLabel {
                        line,
                        column,
                        offset: l.span.offset,
                        length: l.span.len,
                        text: &l.text,
                    }
                })
                .collect(),
        }
    }

    /// A miette report with the source attached, for graphical rendering (a terminal).
    ///
    /// What reaches the terminal is made safe and small first: control characters (escape
    /// sequences, bidi overrides) in the message, labels, help, file name and source are
    /// shown escaped (`\u{1b}`), never sent raw; and the source is cut to the lines around
    /// the labels, long lines to a window around each label, so a 10 MB one-line file renders
    /// as fast as a short one.
    pub fn to_report(&self, src: &SourceFile) -> Report {
        let excerpt = Excerpt::new(src, &self.labels);
        let mut shown = self.clone();
        shown.message = escape(&self.message, true);
        shown.help = self.help.as_deref().map(|h| escape(h, true));
        for (label, span) in shown.labels.iter_mut().zip(&excerpt.spans) {
            label.text = escape(&label.text, true);
            label.span = *span;
        }
        Report::new(shown).with_source_code(excerpt)
    }
}

/// Characters never written raw to a terminal or into a one-line comment: C0/C1 controls
/// (line breaks included, tab excepted), and the invisible format characters that reorder or
/// hide text (bidi overrides and isolates, zero width characters, line/paragraph separators,
/// BOM).
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'
        )
}

/// `text` with every unsafe character (see [`is_unsafe`]) written as a `\u{..}` escape: one
/// line that shows what it holds and cannot drive a terminal.
pub fn escape_controls(text: &str) -> String {
    escape(text, false)
}

/// [`escape_controls`] keeping line breaks: a message of several lines (an apply error listing
/// conflicts) whose parts may hold file or interface names.
pub fn escape_message(text: &str) -> String {
    escape(text, true)
}

fn escape(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_escaped(&mut out, c, keep_newlines);
    }
    out
}

fn push_escaped(out: &mut String, c: char, keep_newlines: bool) {
    if is_unsafe(c) && !(keep_newlines && c == '\n') {
        out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
    } else {
        out.push(c);
    }
}

/// Longest source line shown whole; longer ones are cut to windows around the labels.
const MAX_SHOWN_LINE: usize = 240;
/// Bytes kept on each side of a label end in a cut line.
const LINE_WINDOW: usize = 80;

/// The part of a source file a diagnostic shows: the lines around its labels (one line of
/// context each side, as miette shows), control characters escaped, long lines cut. It reports
/// line numbers and the primary column of the original file.
struct Excerpt {
    name: String,
    text: String,
    /// 0-based line of the original file where `text` starts.
    first_line: usize,
    /// The labels' spans, moved into `text`.
    spans: Vec<Span>,
    /// For each label start in `text`: its 0-based line and column in the original file.
    starts: Vec<(usize, usize, usize)>,
}

impl Excerpt {
    fn new(src: &SourceFile, labels: &[Label]) -> Self {
        let text = src.text.as_str();
        let clamp = |o: usize| {
            let mut o = o.min(text.len());
            while !text.is_char_boundary(o) {
                o = o.saturating_sub(1);
            }
            o
        };
        let ends: Vec<(usize, usize)> = labels
            .iter()
            .map(|l| {
                let start = clamp(l.span.offset);
                (
                    start,
                    clamp(l.span.offset.saturating_add(l.span.len)).max(start),
                )
            })
            .collect();
        let lo = ends.iter().map(|e| e.0).min().unwrap_or(0);
        let hi = ends.iter().map(|e| e.1).max().unwrap_or(0);
        // One line of context before the first label and after the last.
        let line_start = |o: usize| {
            text.get(..o)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1)
        };
        let line_end = |o: usize| {
            text.get(o..)
                .and_then(|t| t.find('\n'))
                .map_or(text.len(), |i| o + i + 1)
        };
        let from = line_start(lo);
        let from = if from > 0 { line_start(from - 1) } else { 0 };
        let to = line_end(hi);
        let to = if to < text.len() { line_end(to) } else { to };
        let first_line = text
            .get(..from)
            .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count());

        // Byte ranges kept from each long line: windows around every label end in it.
        let mut points: Vec<usize> = ends.iter().flat_map(|&(a, b)| [a, b]).collect();
        points.sort_unstable();
        let mut out = String::with_capacity(to.saturating_sub(from).min(1 << 20));
        let mut moved: Vec<(usize, usize)> = Vec::with_capacity(points.len());
        let mut line_at = from;
        let region = text.get(from..to).unwrap_or("");
        for line in region.split_inclusive('\n') {
            let base = line_at;
            line_at = line_at.saturating_add(line.len());
            // Byte ranges of the line to show: all of it, or windows around the label ends
            // in it plus its start and end, merged.
            let mut windows: Vec<(usize, usize)> = if line.len() <= MAX_SHOWN_LINE {
                vec![(0, line.len())]
            } else {
                let mut w = vec![(0, LINE_WINDOW), (line.len().saturating_sub(1), line.len())];
                w.extend(
                    points
                        .iter()
                        .filter(|&&p| (base..=line_at).contains(&p))
                        .map(|&p| {
                            let at = p - base;
                            (
                                at.saturating_sub(LINE_WINDOW),
                                at.saturating_add(LINE_WINDOW),
                            )
                        }),
                );
                w.sort_unstable();
                w
            };
            for w in &mut windows {
                w.1 = w.1.min(line.len());
                while !line.is_char_boundary(w.0) {
                    w.0 -= 1;
                }
                while !line.is_char_boundary(w.1) {
                    w.1 += 1;
                }
            }
            let mut shown_to = 0usize;
            for (start, end) in windows {
                let start = start.max(shown_to);
                if start >= end {
                    continue;
                }
                if start > shown_to {
                    out.push('…');
                }
                shown_to = end;
                for (i, c) in line.get(start..end).unwrap_or("").char_indices() {
                    let o = base.saturating_add(start).saturating_add(i);
                    while let Some(&p) = points.get(moved.len()) {
                        if p > o {
                            break;
                        }
                        moved.push((p, out.len()));
                    }
                    // A CRLF line end stays one (miette reads it as a line break).
                    let crlf = c == '\r' && line.as_bytes().get(start + i + 1) == Some(&b'\n');
                    if crlf {
                        out.push(c);
                    } else {
                        push_escaped(&mut out, c, true);
                    }
                }
            }
            if shown_to < line.len() {
                out.push('…');
            }
        }
        while let Some(&p) = points.get(moved.len()) {
            moved.push((p, out.len()));
        }
        let at = |o: usize| {
            moved
                .iter()
                .find(|&&(p, _)| p == o)
                .map_or(out.len(), |&(_, n)| n)
        };
        let spans: Vec<Span> = ends
            .iter()
            .map(|&(a, b)| Span::new(at(a), at(b).saturating_sub(at(a))))
            .collect();
        let starts = ends
            .iter()
            .zip(&spans)
            .map(|(&(a, _), s)| {
                let (line, col) = src.line_col(a);
                (s.offset, line.saturating_sub(1), col.saturating_sub(1))
            })
            .collect();
        Self {
            name: escape_controls(&src.name),
            text: out,
            first_line,
            spans,
            starts,
        }
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        let (line, column) = match self.starts.iter().find(|s| s.0 == span.offset()) {
            Some(&(_, line, column)) if context_lines_before == 0 => (line, column),
            _ => (inner.line().saturating_add(self.first_line), inner.column()),
        };
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            inner.data(),
            *inner.span(),
            line,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::SourceFile;

    /// The indexed lookup agrees with counting from the start, on ASCII and non-ASCII text,
    /// at every offset (line starts, ends, past the end).
    #[test]
    fn line_col_agrees_with_a_rescan() {
        for text in ["", "a", "ab\ncd\n\nef", "é\nxé€y\n\n€", "\n\n"] {
            let src = SourceFile::new("t", text);
            for offset in 0..=text.len() + 2 {
                let o = offset.min(text.len());
                if !text.is_char_boundary(o) {
                    continue;
                }
                let before = &text[..o];
                let line = before.matches('\n').count() + 1;
                let start = before.rfind('\n').map_or(0, |i| i + 1);
                let column = before[start..].chars().count() + 1;
                assert_eq!(src.line_col(offset), (line, column), "{text:?} at {offset}");
            }
        }
    }
}
