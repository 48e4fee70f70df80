//! Arbitrary text through both front-ends and, when it loads, through lowering and validation
//! (`pipeline::check`). Nothing may panic, and every diagnostic must render: its labels lie
//! inside the text, on character boundaries.

#![no_main]

use libfuzzer_sys::fuzz_target;
use miette::{GraphicalReportHandler, GraphicalTheme};
use netc::diagnostic::SourceFile;
use netc::intent::Syntax;
use netc::pipeline;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let src = SourceFile::new("fuzz", text);
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    for syntax in [Syntax::Yaml, Syntax::Kdl] {
        let checked = pipeline::check(&src, syntax);
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
    }
});
