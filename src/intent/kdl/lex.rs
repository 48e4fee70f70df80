//! A linear pre-pass over KDL text that keeps the `kdl` parser's recursion bounded.
//!
//! The `kdl` 6.7 v2 parser (`kdl-6.7.1/src/v2_parser.rs`) recurses in three places: once per
//! `{ }` level (`node_children`), once per token of a `/* */` comment (`commented_block`), and
//! once per error at the top level (`document` calls itself after skipping one character).
//! Each can be driven by the input to any depth and overflows the stack (`a{` x 3000,
//! `/*` + `*` x 100,000, `}` x 100,000). This pass removes all three before the parser runs:
//!
//! * it lexes strings, comments and keywords by the same rules as the parser, and refuses
//!   (with its own diagnostic) anything it cannot lex exactly as the parser would: an
//!   unterminated or malformed string, an unknown `#` keyword, a quote glued to the word
//!   before it, a stray `\`, a `}` with nothing open. After that, every `{` it counts is one
//!   the parser will open, so the nesting limit is exact;
//! * it blanks every comment to spaces of the same byte length: a comment is whitespace to
//!   the parser, and spans into the original text stay valid;
//! * it splits the text into top-level nodes (at newlines and `;` outside blocks, strings,
//!   `\` continuations and `/-`), which the caller parses one at a time, so the parser's
//!   top-level error recovery never recurses more than one node deep;
//! * it bounds how many slashdashed child blocks (`/-{ … }`) enclose one another: the parser
//!   reads everything inside such a block twice (found by fuzzing: 14 nested levels, 84 bytes,
//!   took 5 s, and each level doubles it), so more than [`MAX_SLASHDASHED_BLOCKS`] on one path
//!   are refused.
//!
//! Everything is one pass over the bytes: a 50 MB file of comments costs what reading it does.

use std::ops::Range;

use crate::intent::Span;

/// Slashdashed child blocks allowed inside one another: the parser's work doubles with each
/// (measured: 2,000 lines inside 1, 2, 3, 4 such blocks take 2, 3.5, 7, 18 times as long as
/// bare), so this bounds it at 4 times a linear read. A commented-out block rarely holds
/// another commented-out block, and almost never a third.
pub(super) const MAX_SLASHDASHED_BLOCKS: usize = 2;

/// A refusal from the pre-pass: where, what, and how to fix it.
#[derive(Debug)]
pub(super) struct LexError {
    pub span: Span,
    pub message: String,
    pub label: &'static str,
    pub help: &'static str,
}

/// The text as the parser gets it, and the top-level nodes in it.
#[derive(Debug)]
pub(super) struct Prepared {
    /// The original text with comments (and a leading BOM) replaced by spaces.
    pub text: String,
    /// Byte ranges of the top-level nodes that are not slashdashed out.
    pub nodes: Vec<Range<usize>>,
}

/// KDL v2 `unicode-space` (`v2_parser.rs`, `UNICODE_SPACES`).
pub(super) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// KDL v2 `newline` (`v2_parser.rs`, `NEWLINES`; `\r\n` is read as `\r` then `\n`, both newlines).
pub(super) fn is_newline(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// KDL v2 `disallowed-literal-code-points` (`v2_parser.rs`, `is_disallowed_unicode`, and the
/// spec's table, which also names U+007F).
fn is_disallowed(c: char) -> bool {
    matches!(c,
        '\u{0000}'..='\u{0008}'
        | '\u{000E}'..='\u{001F}'
        | '\u{007F}'
        | '\u{200E}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}'
    )
}

/// Characters after which a string or `#` keyword may start: those that end a value
/// (`value_terminator`) or open one (`(`). After anything else the parser's error recovery
/// (`badval`) would swallow the quote, and the text would no longer mean what it seems to.
fn separates(c: char) -> bool {
    is_space(c) || is_newline(c) || matches!(c, ';' | '{' | '}' | '(' | ')' | '=')
}

struct Lexer<'a> {
    text: &'a str,
    out: Vec<u8>,
    pos: usize,
    depth: usize,
    max_depth: usize,
    /// The previous character allows a string to start right here.
    separated: bool,
    /// A `/-` was seen and no token has started since: newlines do not end the node.
    slashdash: bool,
    /// For each open `{`, whether it was slashdashed (`/-{`).
    open_blocks: Vec<bool>,
    /// How many of `open_blocks` are slashdashed.
    slashdashed_open: usize,
    /// A `\` line continuation was seen: the next newline does not end the node.
    escline: Option<usize>,
    node_start: usize,
    nodes: Vec<Range<usize>>,
    /// `{` inside multi-line strings of the current top-level node. The multi-line rules
    /// (indentation) are the ones most likely to differ in some detail from the parser's; were
    /// the parser to give up on such a string, its error recovery would read the braces in it
    /// as blocks. Counting them against the nesting limit keeps the bound sound regardless.
    hidden_opens: usize,
}

pub(super) fn prepare(text: &str, max_depth: usize) -> Result<Prepared, LexError> {
    let mut lx = Lexer {
        text,
        out: text.as_bytes().to_vec(),
        pos: 0,
        depth: 0,
        max_depth,
        separated: true,
        slashdash: false,
        open_blocks: Vec::new(),
        slashdashed_open: 0,
        escline: None,
        node_start: 0,
        nodes: Vec::new(),
        hidden_opens: 0,
    };
    if text.starts_with('\u{FEFF}') {
        lx.blank(0, '\u{FEFF}'.len_utf8());
        lx.pos = '\u{FEFF}'.len_utf8();
    }
    lx.run()?;
    let Lexer { out, nodes, .. } = lx;
    // Only whole characters were replaced, each by as many ASCII spaces as it had bytes.
    let text = String::from_utf8(out).map_err(|_| LexError {
        span: Span::new(0, 0),
        message: "internal error: blanking comments broke UTF-8".to_owned(),
        label: "here",
        help: "please report this input",
    })?;
    Ok(Prepared { text, nodes })
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn blank(&mut self, from: usize, to: usize) {
        for b in self.out.get_mut(from..to).into_iter().flatten() {
            *b = b' ';
        }
    }

    fn error(&self, at: usize, len: usize, message: String, label: &'static str) -> LexError {
        LexError {
            span: Span::new(at, len),
            message,
            label,
            help: "netc reads KDL v2: strings are \"quoted\", #\"raw\"# or multi-line \"\"\" blocks \
                   separated from what precedes them, keywords are #true/#false/#null",
        }
    }

    fn end_node(&mut self, at: usize) {
        self.hidden_opens = 0;
        let range = self.node_start..at;
        self.node_start = at;
        let body = self.out.get(range.clone()).unwrap_or_default();
        let body = std::str::from_utf8(body).unwrap_or("");
        let body = body.trim_matches(|c: char| is_space(c) || is_newline(c));
        // A slashdashed node is a comment; an empty one is nothing.
        if !body.is_empty() && !body.starts_with("/-") {
            self.nodes.push(range);
        }
    }

    fn run(&mut self) -> Result<(), LexError> {
        while let Some(c) = self.peek() {
            let at = self.pos;
            let len = c.len_utf8();
            if let Some(open) = self.escline
                && !(is_space(c) || is_newline(c) || self.rest().starts_with("/*"))
                && !self.rest().starts_with("//")
            {
                return Err(self.error(
                    open,
                    1,
                    "`\\` outside a string must end its line (a line continuation)".to_owned(),
                    "continuation",
                ));
            }
            match c {
                '"' => {
                    self.expect_separated(at)?;
                    self.string(0)?;
                    self.token_seen(false);
                    continue;
                }
                '#' => {
                    self.expect_separated(at)?;
                    self.hash()?;
                    self.token_seen(false);
                    continue;
                }
                '/' if self.rest().starts_with("//") => {
                    let end = self
                        .rest()
                        .find(is_newline)
                        .map_or(self.text.len(), |n| at.saturating_add(n));
                    self.blank(at, end);
                    self.pos = end;
                    self.separated = true;
                    continue;
                }
                '/' if self.rest().starts_with("/*") => {
                    let end = self.block_comment()?;
                    self.blank(at, end);
                    self.pos = end;
                    self.separated = true;
                    continue;
                }
                '/' if self.rest().starts_with("/-") => {
                    self.pos = at.saturating_add(2);
                    self.slashdash = true;
                    self.separated = true;
                    continue;
                }
                '\\' => {
                    self.escline = Some(at);
                    self.separated = true;
                }
                '{' => {
                    self.depth = self.depth.saturating_add(1);
                    self.check_depth(at)?;
                    self.open_block(at)?;
                    self.token_seen(true);
                }
                '}' => {
                    if self.depth == 0 {
                        return Err(self.error(
                            at,
                            1,
                            "`}` closes no child block".to_owned(),
                            "nothing to close",
                        ));
                    }
                    self.depth -= 1;
                    if self.open_blocks.pop() == Some(true) {
                        self.slashdashed_open = self.slashdashed_open.saturating_sub(1);
                    }
                    self.token_seen(true);
                }
                ';' => {
                    self.pos = at.saturating_add(len);
                    if self.depth == 0 {
                        self.end_node(self.pos);
                    }
                    self.token_seen(true);
                    continue;
                }
                _ if is_newline(c) => {
                    self.pos = at.saturating_add(len);
                    if self.escline.take().is_none() && !self.slashdash && self.depth == 0 {
                        self.end_node(self.pos);
                    }
                    self.separated = true;
                    continue;
                }
                _ if is_space(c) => self.separated = true,
                _ if is_disallowed(c) => {
                    return Err(self.error(
                        at,
                        len,
                        format!(
                            "the control character U+{:04X} is not allowed in KDL",
                            c as u32
                        ),
                        "here",
                    ));
                }
                _ => self.token_seen(separates(c)),
            }
            self.pos = at.saturating_add(len);
        }
        self.end_node(self.text.len());
        Ok(())
    }

    /// Records a `{` (the depth check has bounded how many are open) and refuses one more
    /// slashdashed block inside [`MAX_SLASHDASHED_BLOCKS`] others.
    fn open_block(&mut self, at: usize) -> Result<(), LexError> {
        self.open_blocks.push(self.slashdash);
        if !self.slashdash {
            return Ok(());
        }
        self.slashdashed_open += 1;
        if self.slashdashed_open <= MAX_SLASHDASHED_BLOCKS {
            return Ok(());
        }
        Err(LexError {
            span: Span::new(at, 1),
            message: format!(
                "slashdashed child blocks (`/-{{ … }}`) nested more than \
                 {MAX_SLASHDASHED_BLOCKS} levels deep"
            ),
            label: "one commented-out block too many",
            help: "the KDL parser reads a slashdashed block's contents twice, once per level \
                   around it: delete the commented-out blocks, or comment them out with /* */",
        })
    }

    fn check_depth(&self, at: usize) -> Result<(), LexError> {
        if self.depth.saturating_add(self.hidden_opens) <= self.max_depth {
            return Ok(());
        }
        Err(LexError {
            span: Span::new(at, 1),
            message: format!(
                "KDL child blocks nested more than {} levels deep{}",
                self.max_depth,
                if self.hidden_opens > 0 {
                    " (counting the `{` in multi-line strings)"
                } else {
                    ""
                }
            ),
            label: "too deep",
            help: "an intent nests a few levels: `policies { - { rules { - { from { ... } } } } }`",
        })
    }

    fn token_seen(&mut self, separated: bool) {
        self.slashdash = false;
        self.separated = separated;
    }

    fn expect_separated(&self, at: usize) -> Result<(), LexError> {
        if self.separated {
            return Ok(());
        }
        Err(self.error(
            at,
            1,
            "a string or keyword must be separated from the word before it".to_owned(),
            "glued to the previous word",
        ))
    }

    /// A nested `/* */` comment starting at `pos`: the byte offset after it.
    fn block_comment(&self) -> Result<usize, LexError> {
        let bytes = self.text.as_bytes();
        let mut open = 0usize;
        let mut j = self.pos;
        while let Some(pair) = bytes.get(j..j.saturating_add(2)) {
            match pair {
                b"/*" => {
                    open = open.saturating_add(1);
                    j = j.saturating_add(2);
                }
                b"*/" => {
                    open = open.saturating_sub(1);
                    j = j.saturating_add(2);
                    if open == 0 {
                        return Ok(j);
                    }
                }
                _ => j = j.saturating_add(1),
            }
        }
        Err(self.error(
            self.pos,
            2,
            "unterminated `/*` comment".to_owned(),
            "opened here",
        ))
    }

    /// `#` at `pos`: a raw string (`#"..."#`, `##"""..."""##`) or a keyword.
    fn hash(&mut self) -> Result<(), LexError> {
        let at = self.pos;
        let hashes = self.rest().bytes().take_while(|&b| b == b'#').count();
        if self.rest().as_bytes().get(hashes) == Some(&b'"') {
            self.pos = at.saturating_add(hashes);
            return self.string(hashes);
        }
        let word_len = self
            .rest()
            .get(1..)
            .and_then(|w| w.find(|c: char| separates(c) || matches!(c, '"' | '#' | '/' | '\\')))
            .map_or(self.rest().len(), |n| n.saturating_add(1));
        let word = self.rest().get(..word_len).unwrap_or("");
        if !matches!(
            word,
            "#true" | "#false" | "#null" | "#inf" | "#-inf" | "#nan"
        ) {
            return Err(self.error(
                at,
                word_len.max(1),
                format!("`{word}` is not a KDL keyword (#true, #false, #null, #inf, #-inf, #nan)"),
                "unknown keyword",
            ));
        }
        self.pos = at.saturating_add(word_len);
        Ok(())
    }

    /// A string whose opening quote is at `pos` (after `hashes` `#` for a raw string).
    fn string(&mut self, hashes: usize) -> Result<(), LexError> {
        let start = self.pos.saturating_sub(hashes);
        let raw = hashes > 0;
        let fence = "#".repeat(hashes);
        let unterminated = |lx: &Self, what: &str| {
            lx.error(
                start,
                hashes.saturating_add(1),
                format!("unterminated {what}"),
                "opened here",
            )
        };
        if self.rest().starts_with("\"\"\"") {
            let after = self.pos.saturating_add(3);
            let next = self.text.get(after..).and_then(|t| t.chars().next());
            if !next.is_some_and(is_newline) {
                return Err(self.error(
                    start,
                    hashes.saturating_add(3),
                    "`\"\"\"` opens a multi-line string and must end its line".to_owned(),
                    "not followed by a newline",
                ));
            }
            self.pos = after;
            let close = format!("\"\"\"{fence}");
            let body_start = self.pos;
            loop {
                let Some(c) = self.peek() else {
                    return Err(unterminated(self, "multi-line string"));
                };
                if self.rest().starts_with(close.as_str()) {
                    let body_end = self.pos;
                    self.pos = self.pos.saturating_add(close.len());
                    return self.check_dedent(start, body_start, body_end);
                }
                if c == '{' {
                    self.hidden_opens = self.hidden_opens.saturating_add(1);
                    self.check_depth(self.pos)?;
                }
                if !raw && c == '\\' {
                    if self
                        .text
                        .get(self.pos.saturating_add(1)..)
                        .and_then(|t| t.chars().next())
                        .is_some_and(|c| is_space(c) || is_newline(c))
                    {
                        return Err(self.error(
                            self.pos,
                            1,
                            "netc does not read `\\` line continuations inside multi-line strings"
                                .to_owned(),
                            "continuation",
                        ));
                    }
                    self.escape()?;
                    continue;
                }
                self.string_char(c)?;
            }
        }
        self.pos = self.pos.saturating_add(1);
        let close = format!("\"{fence}");
        loop {
            let Some(c) = self.peek() else {
                return Err(unterminated(self, "string"));
            };
            if self.rest().starts_with(close.as_str()) {
                self.pos = self.pos.saturating_add(close.len());
                return Ok(());
            }
            if is_newline(c) {
                return Err(unterminated(
                    self,
                    "string (a single-line string ends at its line)",
                ));
            }
            if !raw && c == '\\' {
                self.escape()?;
                continue;
            }
            self.string_char(c)?;
        }
    }

    fn string_char(&mut self, c: char) -> Result<(), LexError> {
        if is_disallowed(c) {
            return Err(self.error(
                self.pos,
                c.len_utf8(),
                format!(
                    "the control character U+{:04X} is not allowed in a KDL string (write it as an escape)",
                    c as u32
                ),
                "here",
            ));
        }
        self.pos = self.pos.saturating_add(c.len_utf8());
        Ok(())
    }

    /// An escape in a quoted string (`escaped_char`, `ws_escape` in `v2_parser.rs`).
    fn escape(&mut self) -> Result<(), LexError> {
        let at = self.pos;
        let rest = self.text.get(at.saturating_add(1)..).unwrap_or("");
        let bad = |lx: &Self, len: usize| {
            lx.error(
                at,
                len.max(1),
                "invalid escape in a string (\\n \\r \\t \\\\ \\\" \\b \\f \\s \\u{hex} are KDL's)"
                    .to_owned(),
                "this escape",
            )
        };
        let Some(c) = rest.chars().next() else {
            return Err(bad(self, 1));
        };
        if matches!(c, '\\' | '"' | 'b' | 'f' | 'n' | 'r' | 't' | 's') {
            self.pos = at.saturating_add(2);
            return Ok(());
        }
        if is_space(c) || is_newline(c) {
            let ws: usize = rest
                .chars()
                .take_while(|&c| is_space(c) || is_newline(c))
                .map(char::len_utf8)
                .sum();
            self.pos = at.saturating_add(1).saturating_add(ws);
            return Ok(());
        }
        if let Some(hex) = rest.strip_prefix("u{") {
            let digits = hex.bytes().take_while(u8::is_ascii_hexdigit).count();
            let valid = (1..=6).contains(&digits)
                && hex.as_bytes().get(digits) == Some(&b'}')
                && hex
                    .get(..digits)
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .and_then(char::from_u32)
                    .is_some();
            if !valid {
                return Err(bad(self, 3usize.saturating_add(digits)));
            }
            self.pos = at.saturating_add(4).saturating_add(digits);
            return Ok(());
        }
        Err(bad(self, 1usize.saturating_add(c.len_utf8())))
    }

    /// A multi-line string's lines all start with the whitespace before its closing quotes
    /// (or hold only whitespace), as the parser requires.
    fn check_dedent(
        &self,
        start: usize,
        body_start: usize,
        body_end: usize,
    ) -> Result<(), LexError> {
        let body = self.text.get(body_start..body_end).unwrap_or("");
        let (lines, last) = match body.rfind(is_newline) {
            Some(i) => (body.get(..i).unwrap_or(""), body.get(i..).unwrap_or("")),
            None => ("", body),
        };
        let prefix = last.trim_start_matches(is_newline);
        let bad =
            |message: &str| Err(self.error(start, 3, message.to_owned(), "this multi-line string"));
        if !prefix.chars().all(is_space) {
            return bad("the closing `\"\"\"` of a multi-line string must be alone on its line");
        }
        for line in lines.split(is_newline) {
            if !line.chars().all(is_space) && !line.starts_with(prefix) {
                return bad(
                    "every line of a multi-line string must start with the indentation of its closing `\"\"\"`",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(text: &str) -> Vec<String> {
        let p = prepare(text, 16).expect("lexes");
        p.nodes
            .iter()
            .map(|r| p.text.get(r.clone()).unwrap_or("").trim().to_owned())
            .collect()
    }

    #[test]
    fn splits_top_level_nodes_outside_blocks_strings_and_continuations() {
        assert_eq!(
            nodes("a 1\nb { c\n d }\ne \"x y\""),
            ["a 1", "b { c\n d }", "e \"x y\""]
        );
        assert_eq!(
            nodes("a; b \\\n c\n/- d\n/-\ne { f }\ng"),
            ["a;", "b \\\n c", "g"]
        );
        assert_eq!(
            nodes("a \"\"\"\n  {\n  \"\"\"\nb"),
            ["a \"\"\"\n  {\n  \"\"\"", "b"]
        );
    }

    #[test]
    fn comments_become_spaces_of_the_same_length() {
        let text = "a /* é { /* } */ */ 1 // ü {\nb";
        let p = prepare(text, 16).expect("lexes");
        assert_eq!(p.text.len(), text.len());
        let comment = "/* é { /* } */ */";
        let expected = format!("a {} 1", " ".repeat(comment.len()));
        assert_eq!(p.text.trim_end_matches('b').trim_end(), expected);
    }

    #[test]
    fn refuses_what_the_parser_would_recover_from_differently() {
        for bad in [
            "\"\"\"a{",
            "#\"a{",
            "#\"\"\"a{",
            "r#\"a\"#",
            "x \"a\\u{a{",
            "##\"abc\"#",
            "x \"\"\"\nabc\n\"\"",
            "x \"a",
            "x \"\\q\"",
            "x a\"b\"",
            "x #yes",
            "x \\ y",
            "}",
            "/* open",
            "x \"\"\"\n  a\n b\n  \"\"\"",
            "x \"\u{1}\"",
            // Braces in multi-line strings count against the nesting limit.
            "x \"\"\"\n  {{{{{{{{{{{{{{{{{\n  \"\"\"",
        ] {
            assert!(prepare(bad, 16).is_err(), "{bad:?} was accepted");
        }
        for good in [
            "x \"a\\u{1F600}\\n\\\"\" #true #-inf #\"raw \\\"# ##\"a\"#b\"##",
            "x \"\"\"\n  a\n\n  b\n  \"\"\"",
            "x #\"\"\"\n  \\q\n  \"\"\"#",
            "(t)x (u)\"v\" k=\"w\"",
            "x \"a\\   \n  b\"",
        ] {
            assert!(prepare(good, 16).is_ok(), "{good:?} was refused");
        }
    }
}
