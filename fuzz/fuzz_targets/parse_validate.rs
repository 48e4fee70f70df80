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
        // Known and reported, both in the YAML front-end's parse errors (miette still renders
        // them): an empty file is labelled one byte past its end, and a scanner error after
        // multi-byte text is labelled at a character offset taken as a byte offset. Those get
        // one byte of slack and no character-boundary check.
        let yaml_parse_error = syntax == Syntax::Yaml && checked.intent.is_none();
        let slack = usize::from(yaml_parse_error);
        for diag in &checked.diagnostics {
            for label in &diag.labels {
                let end = label.span.offset.checked_add(label.span.len);
                assert!(
                    end.is_some_and(|end| end <= text.len() + slack),
                    "{syntax:?}: label {:?} outside the {}-byte text: {diag:?}",
                    label.span,
                    text.len()
                );
                assert!(
                    yaml_parse_error
                        || text.is_char_boundary(label.span.offset.min(text.len()))
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
