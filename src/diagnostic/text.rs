//! Text that is safe to print on a terminal.
//!
//! Protocol titles, question texts, comments and file names are written by
//! people Carepath does not control. A terminal acts on some characters
//! instead of showing them: escape sequences retitle the window, move the
//! cursor or rewrite what is already on screen; a carriage return lets later
//! text overwrite earlier text; bidirectional overrides make text read in an
//! order other than the one it is stored in. Every report that shows such
//! text to a person passes it through [`terminal_safe`] (one line) or
//! [`terminal_safe_lines`] (line breaks kept) first, which show each of
//! those characters as a visible escape such as `\u{1b}` and leave every
//! other character, accents, emoji and right-to-left letters included, as it
//! is.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether a terminal could act on `c` rather than show it: the C0 controls
/// (U+0000 to U+001F, escape, carriage return, line feed and tab among
/// them), DEL, the C1 controls (U+0080 to U+009F, which some terminals read
/// as escape sequences), and the invisible bidirectional formatting
/// characters (the marks U+200E, U+200F and U+061C, the embeddings and
/// overrides U+202A to U+202E, the isolates U+2066 to U+2069).
pub fn is_terminal_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{61c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// `s` as one line that is safe to print on a terminal: every character for
/// which [`is_terminal_unsafe`] holds, line feeds and tabs included, is
/// written as `\u{...}` (its code point in lower-case hexadecimal). Text
/// without such characters is returned as it is, without copying.
///
/// ```
/// use carepath::diagnostic::text::terminal_safe;
/// assert_eq!(terminal_safe("Café ☕"), "Café ☕");
/// assert_eq!(terminal_safe("a\u{1b}]0;x\u{7}b"), "a\\u{1b}]0;x\\u{7}b");
/// assert_eq!(terminal_safe("one\ntwo"), "one\\u{a}two");
/// ```
pub fn terminal_safe(s: &str) -> Cow<'_, str> {
    escape(s, is_terminal_unsafe)
}

/// Like [`terminal_safe`], but keeps line feeds and tabs, for text that may
/// run over several lines (a message, help). Carriage returns are escaped:
/// on their own they move the cursor back over what was printed.
///
/// ```
/// use carepath::diagnostic::text::terminal_safe_lines;
/// assert_eq!(terminal_safe_lines("one\n\ttwo\r\n"), "one\n\ttwo\\u{d}\n");
/// ```
pub fn terminal_safe_lines(s: &str) -> Cow<'_, str> {
    escape(s, |c| c != '\n' && c != '\t' && is_terminal_unsafe(c))
}

fn escape(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    let Some(first) = s.find(&unsafe_char) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        if unsafe_char(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Append `c` written as `\u{...}`.
pub(crate) fn push_escape(out: &mut String, c: char) {
    let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmless_text_is_borrowed_unchanged() {
        for s in [
            "",
            "plain",
            "Café, naïve, Łódź",
            "emoji 🚓👮🏽‍♀️",
            "عربي",
            "עברית",
            "zero\u{200b}width and non\u{a0}breaking",
        ] {
            assert!(
                matches!(terminal_safe(s), Cow::Borrowed(t) if t == s),
                "{s:?}"
            );
            assert!(
                matches!(terminal_safe_lines(s), Cow::Borrowed(t) if t == s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn every_unsafe_character_is_escaped() {
        let cases = [
            ('\u{0}', "\\u{0}"),
            ('\u{7}', "\\u{7}"),
            ('\u{1b}', "\\u{1b}"),
            ('\r', "\\u{d}"),
            ('\n', "\\u{a}"),
            ('\t', "\\u{9}"),
            ('\u{7f}', "\\u{7f}"),
            ('\u{80}', "\\u{80}"),
            ('\u{9b}', "\\u{9b}"),
            ('\u{9f}', "\\u{9f}"),
            ('\u{61c}', "\\u{61c}"),
            ('\u{200e}', "\\u{200e}"),
            ('\u{200f}', "\\u{200f}"),
            ('\u{202a}', "\\u{202a}"),
            ('\u{202e}', "\\u{202e}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2069}', "\\u{2069}"),
        ];
        for (c, escaped) in cases {
            assert!(is_terminal_unsafe(c), "{c:?}");
            assert_eq!(terminal_safe(&format!("a{c}b")), format!("a{escaped}b"));
        }
        for c in ['\u{1f}', ' ', '~', '\u{a0}', '\u{200d}', '\u{2070}'] {
            assert_eq!(is_terminal_unsafe(c), c == '\u{1f}', "{c:?}");
        }
    }

    #[test]
    fn lines_keep_line_feeds_and_tabs_only() {
        assert_eq!(
            terminal_safe_lines("a\nb\tc\rd\u{1b}[2Je\u{202e}f"),
            "a\nb\tc\\u{d}d\\u{1b}[2Je\\u{202e}f"
        );
    }

    #[test]
    fn escaped_text_has_nothing_unsafe_left() {
        let hostile: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!terminal_safe(&hostile).chars().any(is_terminal_unsafe));
        assert!(
            !terminal_safe_lines(&hostile)
                .chars()
                .any(|c| c != '\n' && c != '\t' && is_terminal_unsafe(c))
        );
    }
}
