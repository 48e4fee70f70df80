//! What every fuzz target asserts about a checked intent: nothing panicked (libFuzzer reports
//! that), every diagnostic label lies inside the text on character boundaries, and every
//! diagnostic renders with miette.

use miette::{GraphicalReportHandler, GraphicalTheme};
use netc::diagnostic::SourceFile;
use netc::intent::Syntax;
use netc::pipeline::{self, Checked};

/// The text of a fuzz input, when it is UTF-8 (intents are text; the CLI refuses the rest).
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Checks `text` as `syntax` and asserts that its diagnostics are well formed.
pub fn check(text: &str, syntax: Syntax) -> (SourceFile, Checked) {
    let name = match syntax {
        Syntax::Yaml => "fuzz.yaml",
        Syntax::Kdl => "fuzz.kdl",
    };
    let src = SourceFile::new(name, text);
    let checked = pipeline::check(&src, syntax);
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    for diag in &checked.diagnostics {
        for label in &diag.labels {
            let end = label.span.offset.checked_add(label.span.len);
            assert!(
                end.is_some_and(|end| end <= text.len()),
                "{syntax:?}: label {:?} outside the {}-byte text: {diag:?}",
                label.span,
                text.len()
            );
            assert!(
                text.is_char_boundary(label.span.offset.min(text.len()))
                    && end.is_some_and(|end| text.is_char_boundary(end.min(text.len()))),
                "{syntax:?}: label {:?} splits a character: {diag:?}",
                label.span
            );
        }
        let mut out = String::new();
        handler
            .render_report(&mut out, diag.to_report(&src).as_ref())
            .expect("a diagnostic renders");
    }
    (src, checked)
}
