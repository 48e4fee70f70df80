//! Text formats (shell scripts, nftables files, systemd units, env and conf files): minijinja
//! templates from `templates/`, compiled into the binary, rendered from typed serde values.
//!
//! Undefined values are errors, and every value that lands in a shell, systemd or nftables
//! context goes through the filter for that context:
//! - `sh`: one POSIX shell word (single-quoted; `'` becomes `'\''`);
//! - `systemd`: one word of a systemd command line (double-quoted; `\`, `"`, `%`, `$` escaped);
//! - `nft`: an nftables quoted string (values that cannot be quoted are refused);
//! - `nft_comment`: an nftables `comment "..."` string (what cannot be quoted is replaced);
//! - `comment`: text inside a `#` comment (line breaks and other control characters escaped);
//! - `word`: a bare token (a module name, a sysctl key, a CIDR): refused if it has whitespace,
//!   control characters, quotes or `#`.

use std::sync::OnceLock;

use minijinja::value::Serde;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;

use super::EmitError;

/// Every template, by the name emitters render it with.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "firewall/firewalld.sh",
        include_str!("../../templates/firewall/firewalld.sh.j2"),
    ),
    (
        "firewall/netc.nft",
        include_str!("../../templates/firewall/netc.nft.j2"),
    ),
    (
        "flannel/flanneld.service",
        include_str!("../../templates/flannel/flanneld.service.j2"),
    ),
    (
        "manual/flags.env",
        include_str!("../../templates/manual/flags.env.j2"),
    ),
    (
        "host/sysctl.conf",
        include_str!("../../templates/host/sysctl.conf.j2"),
    ),
    (
        "host/modules.conf",
        include_str!("../../templates/host/modules.conf.j2"),
    ),
    (
        "host/routes.txt",
        include_str!("../../templates/host/routes.txt.j2"),
    ),
    (
        "host/proxy.env",
        include_str!("../../templates/host/proxy.env.j2"),
    ),
    (
        "host/containerd-proxy.conf",
        include_str!("../../templates/host/containerd-proxy.conf.j2"),
    ),
    (
        "index.md",
        include_str!("../../templates/index/INDEX.md.j2"),
    ),
];

fn build_environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()?,
    );
    env.add_filter("sh", |v: minijinja::Value| sh_quote(&scalar(&v)));
    env.add_filter("systemd", |v: minijinja::Value| systemd_quote(&scalar(&v)));
    env.add_filter("systemd_env", |v: minijinja::Value| {
        systemd_env_quote(&scalar(&v))
    });
    env.add_filter("nft", |v: minijinja::Value| nft_quote(&scalar(&v)));
    env.add_filter("nft_comment", |v: minijinja::Value| {
        nft_comment(&scalar(&v))
    });
    env.add_filter("comment", |v: minijinja::Value| comment_text(&scalar(&v)));
    env.add_filter("word", |v: minijinja::Value| bare_word(&scalar(&v)));
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(env)
}

fn environment() -> Result<&'static Environment<'static>, EmitError> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| build_environment().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|message| EmitError::Template {
            name: "(environment)".to_owned(),
            message: message.clone(),
        })
}

/// Renders template `name` with `ctx` (any serde value) as its context.
pub fn render<T: Serialize>(name: &str, ctx: &T) -> Result<String, EmitError> {
    let fail = |e: Error| EmitError::Template {
        name: name.to_owned(),
        message: format!("{e:#}"),
    };
    let env = environment()?;
    let template = env.get_template(name).map_err(fail)?;
    template.render(Serde(ctx)).map_err(fail)
}

/// The text of a scalar value (strings without their quotes, numbers as written).
fn scalar(v: &minijinja::Value) -> String {
    match v.as_str() {
        Some(s) => s.to_owned(),
        None => v.to_string(),
    }
}

/// One POSIX shell word that expands to exactly `s`.
pub fn sh_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// One word of a systemd command line (`ExecStart=`) that systemd passes on as exactly `s`.
pub fn systemd_quote(s: &str) -> Result<String, Error> {
    systemd_quoted(s, true)
}

/// One `Environment=` assignment (`NAME=value`) that systemd reads back as exactly `s`.
/// Unlike a command line, `$` means nothing in `Environment=` (systemd.exec(5)), so it stays.
pub fn systemd_env_quote(s: &str) -> Result<String, Error> {
    systemd_quoted(s, false)
}

/// `s` quoted for systemd: C escapes for `\` and `"`, `%` doubled (specifiers are expanded
/// inside quotes too), `$` doubled where variables are expanded (`expands_variables`).
fn systemd_quoted(s: &str, expands_variables: bool) -> Result<String, Error> {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '%' => out.push_str("%%"),
            '$' if expands_variables => out.push_str("$$"),
            c if c.is_control() => {
                return Err(Error::new(
                    ErrorKind::InvalidOperation,
                    format!("{s:?} has a control character and cannot go in a systemd unit"),
                ));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    Ok(out)
}

/// An nftables quoted string. nft has no escape inside quotes, so `"`, `\` and control
/// characters are refused rather than mangled.
pub fn nft_quote(s: &str) -> Result<String, Error> {
    if s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{s:?} cannot be written as an nftables string"),
        ));
    }
    Ok(format!("\"{s}\""))
}

/// An nftables comment string: informational only, so characters nft cannot quote are
/// replaced (`"` by `'`, `\\` by `/`, control characters by spaces) rather than refused,
/// and cut to nft's 128 bytes.
pub fn nft_comment(s: &str) -> String {
    // nft refuses comments over 128 bytes.
    let mut clean: String = s
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    while clean.len() > 128 {
        clean.pop();
    }
    format!("\"{clean}\"")
}

/// Text safe inside a one-line `#` comment (the intent's file name in every header): control
/// characters, and the Unicode line and paragraph separators that YAML 1.1 readers such as
/// go-yaml v2 (`is_break` in its `yamlprivateh.go`) take as line breaks, are written as
/// `\u{..}` escapes, so the name can never start a line of its own; a trailing `\` (a line
/// continuation in systemd units) is escaped too.
pub fn comment_text(s: &str) -> String {
    let mut out = crate::diagnostic::escape_controls(s);
    if out.ends_with('\\') {
        out.pop();
        out.push_str("\\u{5c}");
    }
    out
}

/// A bare token, unchanged; refused when it could split or end a line, quote, or start a comment.
pub fn bare_word(s: &str) -> Result<String, Error> {
    let bad = |c: char| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '\\' | '#');
    if s.is_empty() || s.chars().any(bad) {
        return Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("{s:?} is not a single bare word"),
        ));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings a shell would otherwise split, expand, glob or execute.
    const HOSTILE: &[&str] = &[
        "",
        "plain",
        "two words",
        "it's",
        "'",
        "''",
        "\"double\"",
        "$(touch /tmp/netc-pwned)",
        "`id`",
        "${HOME}",
        "a;b|c&d",
        "*",
        "~root",
        "line\nbreak",
        "tab\there",
        "back\\slash",
        "-n",
        "!event",
        "ünïcödé",
        "'; rm -rf / #",
    ];

    #[test]
    fn sh_quote_round_trips_through_a_real_shell() {
        for s in HOSTILE {
            let script = format!("printf '%s' {}", sh_quote(s));
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(&script)
                .output();
            let Ok(out) = out else {
                // No shell on this machine: the pure checks below still run.
                continue;
            };
            assert!(out.status.success(), "{script}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), *s, "{script}");
        }
    }

    #[test]
    fn sh_quote_always_quotes() {
        assert_eq!(sh_quote("eth0"), "'eth0'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
    }

    #[test]
    fn systemd_quote_escapes_specifiers_and_variables() {
        assert_eq!(
            systemd_quote(r#"a"b\c%d$e"#).ok().as_deref(),
            Some(r#""a\"b\\c%%d$$e""#)
        );
        assert!(systemd_quote("a\nb").is_err());
    }

    #[test]
    fn systemd_env_quote_escapes_specifiers_but_not_dollars() {
        assert_eq!(
            systemd_env_quote(r#"A=a"b\c%d$e"#).ok().as_deref(),
            Some(r#""A=a\"b\\c%%d$e""#)
        );
        assert!(systemd_env_quote("A=a\nb").is_err());
    }

    #[test]
    fn nft_quote_refuses_what_it_cannot_quote() {
        assert_eq!(nft_quote("eth0").ok().as_deref(), Some("\"eth0\""));
        assert!(nft_quote("a\"b").is_err());
        assert!(nft_quote("a\\b").is_err());
        assert!(nft_quote("a\nb").is_err());
        assert_eq!(nft_comment("a\"b\nc"), "\"a'b c\"");
    }

    #[test]
    fn comments_and_words_cannot_break_lines() {
        assert_eq!(comment_text("a\nrm -rf /"), "a\\u{a}rm -rf /");
        assert_eq!(
            comment_text("x\r\u{85}\u{2028}y\\"),
            "x\\u{d}\\u{85}\\u{2028}y\\u{5c}"
        );
        assert!(bare_word("ip_vs_rr").is_ok());
        assert!(bare_word("rr\nevil").is_err());
        assert!(bare_word("a b").is_err());
        assert!(bare_word("").is_err());
    }

    #[test]
    fn every_template_compiles() {
        assert!(environment().is_ok(), "{:?}", environment().err());
    }

    #[test]
    fn filters_apply_in_templates() {
        let env = environment().ok();
        let Some(env) = env else {
            panic!("template environment does not build");
        };
        let out = env
            .render_str("{{ v|sh }}", minijinja::context! { v => "a'b" })
            .ok();
        assert_eq!(out.as_deref(), Some("'a'\\''b'"));
        let err = env.render_str("{{ missing }}", minijinja::context! {});
        assert!(err.is_err(), "undefined values must be errors");
    }
}
