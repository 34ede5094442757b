//! The rights catalogue: versioned reference data, held as events. Heard starts with the 11
//! articles of the EXACT Bill of Rights, under our own short labels; other networks load their
//! own charter (e.g. Scotland's 2024 charter) as another `CharterPublished`.

use super::{Rejection, invalid};

pub use heard_contracts::rights::{Article, CHARTER, CharterPublished};

/// The EXACT Bill of Rights, with Heard's short labels.
pub fn exact_bill_of_rights() -> CharterPublished {
    let labels = [
        "Capable of change",
        "The right to know",
        "Own goals and care plan",
        "Informed choice of services",
        "Respectful, rapid, recovery-positive services",
        "Not a label: dignity after relapse",
        "Coordinated, culturally respectful care",
        "Policymakers who remove barriers",
        "Non-discrimination, parity with other long-term conditions",
        "Support in criminal justice and after sentence",
        "The right to speak out",
    ];
    CharterPublished {
        charter: "exact".into(),
        name: "EXACT Bill of Rights".into(),
        version: 1,
        articles: labels
            .iter()
            .enumerate()
            .map(|(index, label)| Article { number: index as u32 + 1, label: (*label).to_owned() })
            .collect(),
    }
}

/// Checks a charter before it is published: numbered 1..n without gaps, labels 1–120 chars,
/// and a version above the current one.
pub fn publish(mut charter: CharterPublished, current_version: Option<u32>) -> Result<CharterPublished, Rejection> {
    charter.name = super::clean("name", &charter.name)?;
    if charter.charter.is_empty() || !charter.charter.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
        return Err(invalid("charter", "use a short id of lower-case letters and dashes, e.g. exact"));
    }
    if charter.articles.is_empty() {
        return Err(invalid("articles", "a charter needs at least one article"));
    }
    for (index, article) in charter.articles.iter_mut().enumerate() {
        if article.number != index as u32 + 1 {
            return Err(invalid(&format!("articles[{index}].number"), "number the articles 1, 2, 3 … in order"));
        }
        let label = super::clean(&format!("articles[{index}].label"), &article.label)?;
        let chars = label.trim().chars().count();
        if chars == 0 || chars > 120 {
            return Err(invalid(&format!("articles[{index}].label"), "a label is 1–120 characters"));
        }
        article.label = label;
    }
    if let Some(current) = current_version
        && charter.version <= current
    {
        return Err(invalid("version", format!("the next version must be above {current}")));
    }
    Ok(charter)
}
