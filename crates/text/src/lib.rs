//! The one rule every free-text input follows (feedback, names, complaint and case fields,
//! decisions, labels, reasons…), so that no service stores what nobody can see or print.
//!
//! - Line endings become `\n`: browsers send a textarea's newlines as `\r\n`, and old Mac
//!   files use a lone `\r`.
//! - Tab and newline are kept; every other control character (C0, DEL and C1: NUL, escape,
//!   backspace, form feed…) is refused, never silently removed, so what is stored is what the
//!   person sees.
//!
//! It has no dependencies, so every domain module may use it. Each service calls it from its
//! own validators and names the field in its own error ([`ControlCharacter::MESSAGE`]).

use std::borrow::Cow;

/// Text held a control character other than tab and newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ControlCharacter;

impl ControlCharacter {
    /// What a field's error says, in plain words that do not repeat what was typed.
    pub const MESSAGE: &'static str = "contains a control character; remove it";
}

impl std::fmt::Display for ControlCharacter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(Self::MESSAGE)
    }
}

impl std::error::Error for ControlCharacter {}

/// `\r\n` and lone `\r` turned into `\n`; borrowed when there was none.
pub fn normalise_newlines(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Whether `c` may be stored: anything but a control character, or a tab or newline.
pub fn allowed(c: char) -> bool {
    !c.is_control() || c == '\t' || c == '\n'
}

/// Free text, its line endings made `\n`; refused if any other control character remains.
/// Trimming and length limits stay with each field's own rule.
pub fn clean(text: &str) -> Result<Cow<'_, str>, ControlCharacter> {
    let text = normalise_newlines(text);
    if text.chars().all(allowed) { Ok(text) } else { Err(ControlCharacter) }
}

/// Like [`clean`] for an optional field.
pub fn clean_opt(text: Option<&str>) -> Result<Option<Cow<'_, str>>, ControlCharacter> {
    text.map(clean).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_old_mac_line_endings_become_newlines() {
        assert_eq!(clean("one\r\ntwo\rthree\nfour").unwrap(), "one\ntwo\nthree\nfour");
        assert_eq!(clean("\r\n\r\n").unwrap(), "\n\n");
        assert!(matches!(clean("nothing to change"), Ok(Cow::Borrowed(_))));
    }

    #[test]
    fn tab_and_newline_are_kept() {
        assert_eq!(clean("a\tb\nc").unwrap(), "a\tb\nc");
    }

    #[test]
    fn every_other_control_character_is_refused() {
        for bad in ['\0', '\u{1}', '\u{7}', '\u{8}', '\u{b}', '\u{c}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}']
        {
            assert_eq!(clean(&format!("before{bad}after")), Err(ControlCharacter), "{:?}", bad);
        }
    }

    #[test]
    fn ordinary_text_in_any_language_is_kept() {
        for good in ["Café – naïve “quotes”", "Cymraeg: ŵ ŷ", "日本語", "emoji 👍", "zero\u{200b}width"]
        {
            assert_eq!(clean(good).unwrap(), good);
        }
    }

    #[test]
    fn an_optional_field_that_is_left_out_is_fine() {
        assert_eq!(clean_opt(None), Ok(None));
        assert_eq!(clean_opt(Some("x\0")), Err(ControlCharacter));
    }
}
