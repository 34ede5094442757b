//! Checks on the free text someone typed that every service's commands make the same way. Each
//! refusal is a [`Rejection`] naming the field as the GraphQL input spells it; messages say what
//! to do and never repeat what was typed.

use crate::Rejection;

/// Free text with its line endings made `\n`; refused, naming the field, if it holds a
/// control character other than tab and newline (`heard_text`).
pub fn clean(field: &str, text: &str) -> Result<String, Rejection> {
    heard_text::clean(text)
        .map(std::borrow::Cow::into_owned)
        .map_err(|refused| Rejection::invalid(field, refused.to_string()))
}

/// Trimmed text of 1 to `max` characters, without control characters; `message` says what to
/// write when it is blank or too long.
pub fn required(field: &str, text: &str, max: usize, message: &str) -> Result<String, Rejection> {
    let text = clean(field, text)?;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        return Err(Rejection::invalid(field, message));
    }
    Ok(text.to_owned())
}

/// Trimmed text of at most `max` characters, without control characters; blank is `None`.
pub fn optional(field: &str, text: Option<&str>, max: usize, message: &str) -> Result<Option<String>, Rejection> {
    let text = text.map(|text| clean(field, text)).transpose()?;
    let Some(text) = text.as_deref().map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max {
        return Err(Rejection::invalid(field, message));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_text_is_trimmed_and_refused_when_blank_too_long_or_holding_control_characters() {
        assert_eq!(required("reason", "  moved away \r\n", 20, "say why"), Ok("moved away".to_owned()));
        assert_eq!(required("reason", "   ", 20, "say why"), Err(Rejection::invalid("reason", "say why")));
        assert_eq!(required("reason", "ééé", 2, "say why"), Err(Rejection::invalid("reason", "say why")));
        assert!(
            matches!(required("reason", "a\u{7}b", 20, "say why"), Err(Rejection::Invalid { field, .. }) if field == "reason")
        );
    }

    #[test]
    fn optional_text_is_none_when_blank_and_refused_when_too_long() {
        assert_eq!(optional("contact", None, 5, "too long"), Ok(None));
        assert_eq!(optional("contact", Some("  "), 5, "too long"), Ok(None));
        assert_eq!(optional("contact", Some(" 0123 "), 5, "too long"), Ok(Some("0123".to_owned())));
        assert_eq!(optional("contact", Some("012345"), 5, "too long"), Err(Rejection::invalid("contact", "too long")));
    }
}
