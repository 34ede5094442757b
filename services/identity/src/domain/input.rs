//! Rules for what people type. Each failure names the field and says what is wrong, in words
//! that do not repeat what was typed (it may be personal).

/// A checked, lower-cased email address.
pub fn email(field: &str, text: &str) -> Result<String, (String, String)> {
    let email = text.trim().to_lowercase();
    let bad = |message: &str| Err((field.to_owned(), message.to_owned()));
    if email.is_empty() {
        return bad("enter an email address");
    }
    if email.len() > 254 {
        return bad("an email address is at most 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else {
        return bad("enter an email address like name@example.org");
    };
    if local.is_empty() || domain.len() < 3 || !domain.contains('.') || domain.contains('@') {
        return bad("enter an email address like name@example.org");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("an email address has no spaces");
    }
    Ok(email)
}

/// Free text for one line: control characters refused (see `heard_text`), then trimmed.
fn one_line<'a>(field: &str, text: &'a str, what: &str) -> Result<std::borrow::Cow<'a, str>, (String, String)> {
    let text = heard_text::clean(text).map_err(|refused| (field.to_owned(), refused.to_string()))?;
    if text.trim().contains(['\n', '\t']) {
        return Err((field.to_owned(), format!("{what} fits on one line, without tabs")));
    }
    Ok(text)
}

/// A display name: 1–100 characters on one line, no control characters.
pub fn display_name(field: &str, text: &str) -> Result<String, (String, String)> {
    let name = one_line(field, text, "a name")?;
    let name = name.trim();
    if name.is_empty() {
        return Err((field.to_owned(), "enter a name".to_owned()));
    }
    if name.chars().count() > 100 {
        return Err((field.to_owned(), "a name is at most 100 characters".to_owned()));
    }
    Ok(name.to_owned())
}

/// Passwords: long enough to resist guessing, short enough to hash quickly.
pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_BYTES: usize = 256;

pub fn password(field: &str, text: &str) -> Result<(), (String, String)> {
    if text.chars().count() < MIN_PASSWORD_CHARS {
        return Err((field.to_owned(), format!("a password needs at least {MIN_PASSWORD_CHARS} characters")));
    }
    if text.len() > MAX_PASSWORD_BYTES {
        return Err((field.to_owned(), format!("a password is at most {MAX_PASSWORD_BYTES} bytes")));
    }
    Ok(())
}

/// A short label (API token purpose): 1–80 characters.
pub fn label(field: &str, text: &str) -> Result<String, (String, String)> {
    let label = one_line(field, text, "a name")?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 80 {
        return Err((field.to_owned(), "give it a name of 1–80 characters".to_owned()));
    }
    Ok(label.to_owned())
}

/// A reference-data id from a name: "Adur & Worthing" → "adur-worthing".
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased_and_bad_ones_name_the_field() {
        assert_eq!(email("email", "  Sam@Example.ORG ").unwrap(), "sam@example.org");
        assert_eq!(email("input.email", "not an email").unwrap_err().0, "input.email");
        assert!(email("email", "a@b").is_err());
        assert!(email("email", "").is_err());
    }

    #[test]
    fn names_and_labels_refuse_control_characters_and_more_than_one_line() {
        let refused = display_name("input.displayName", "Sam\0").unwrap_err();
        assert_eq!(refused, ("input.displayName".to_owned(), "contains a control character; remove it".to_owned()));
        assert_eq!(label("label", "CRM\u{1b}[31m").unwrap_err().1, "contains a control character; remove it");
        assert!(display_name("name", "Sam\r\nJones").unwrap_err().1.contains("one line"));
        assert_eq!(display_name("name", "  Sam Jones\r\n").unwrap(), "Sam Jones");
        assert_eq!(label("label", "CRM export").unwrap(), "CRM export");
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(password("password", "short").is_err());
        assert!(password("password", "a long enough passphrase").is_ok());
    }

    #[test]
    fn slugs_are_readable_ids() {
        assert_eq!(slug("Adur & Worthing"), "adur-worthing");
        assert_eq!(slug("Mid-Sussex"), "mid-sussex");
        assert_eq!(slug("  West Sussex Forum "), "west-sussex-forum");
    }
}
