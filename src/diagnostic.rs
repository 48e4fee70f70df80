//! Findings about an intent file: one type for parse errors and validation rules alike,
//! rendered by miette for people and as JSON lines for machines.

use std::fmt;

use miette::{LabeledSpan, NamedSource, Report, SourceSpan};
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
}

impl SourceFile {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, column)
    }

    /// 1-based line of a span, for tests and JSON output.
    pub fn line_of(&self, span: Span) -> usize {
        self.line_col(span.offset).0
    }
}

/// The JSON form of one finding (`netc check --format json`, one object per line).
#[derive(Debug, Serialize)]
pub struct JsonDiag<'a> {
    pub code: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    pub file: &'a str,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub help: Option<&'a str>,
    pub labels: Vec<JsonLabel<'a>>,
}

#[derive(Debug, Serialize)]
pub struct JsonLabel<'a> {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
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

    /// A miette report with the source attached, for graphical rendering.
    pub fn to_report(&self, src: &SourceFile) -> Report {
        Report::new(self.clone())
            .with_source_code(NamedSource::new(src.name.clone(), src.text.clone()))
    }
}
