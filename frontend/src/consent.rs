//! Consent as the person gave it, in words, and the form a coordinator records its narrowing
//! or withdrawal with (never a widening: that needs the person's new consent, as a new item).
//! Used by the moderation queue and by a disclosure's page.

use maud::{Markup, html};

use crate::extract::Fields;
use crate::forms::{self, Choices, Errors};

pub(crate) fn consent_words(consent: &str) -> &'static str {
    match consent {
        "HUB" => "This hub only",
        "COMMISSIONERS" => "Commissioners and the service it is about",
        "PUBLIC" => "Anyone (can be published)",
        _ => "Withdrawn",
    }
}

/// How far consent can go now: only narrower than `current`, or withdrawn (never widened on
/// someone's behalf).
pub(crate) fn narrower_consents(current: &str) -> Vec<(String, String)> {
    let order = ["HUB", "COMMISSIONERS", "PUBLIC"];
    let Some(rank) = order.iter().position(|scope| *scope == current) else {
        return Vec::new();
    };
    let mut choices: Vec<(String, String)> = order[..rank]
        .iter()
        .rev()
        .map(|scope| ((*scope).to_owned(), format!("Narrow it to: {}", consent_words(scope).to_lowercase())))
        .collect();
    choices.push(("WITHDRAWN".to_owned(), "Withdrawn: they no longer want it used at all".to_owned()));
    choices
}

/// "They narrowed or withdrew their consent", for one item; posts to `action`.
pub(crate) fn consent_form(csrf: &str, action: &str, id: &str, hub: &str, current: &str, errors: &Errors) -> Markup {
    consent_form_with(csrf, action, id, current, errors, html! { input type="hidden" name="hub" value=(hub); })
}

/// [`consent_form`], with `hidden` fields of the page's own (the hub among them).
pub(crate) fn consent_form_with(
    csrf: &str,
    action: &str,
    id: &str,
    current: &str,
    errors: &Errors,
    hidden: Markup,
) -> Markup {
    let choices = narrower_consents(current);
    html! {
        @if !choices.is_empty() {
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf_token" value=(csrf);
                input type="hidden" name="id" value=(id);
                (hidden)
                (forms::choices(Choices {
                    id: &format!("consent-{id}"),
                    legend: "They changed what they agreed to: who may see it now?",
                    multiple: false,
                    options: choices,
                    chosen: vec![],
                    hint: Some("Only ever narrower than before. Record it as soon as they tell you."),
                }, errors))
                button class="button button--secondary" type="submit" { "Change consent" }
            }
        }
    }
}

/// The consent change a posted form asks for (`consent-{id}`), if it is one the API knows.
pub(crate) fn posted_consent(fields: &Fields, id: &str) -> Option<String> {
    let value = fields.value(&format!("consent-{id}"));
    ["HUB", "COMMISSIONERS", "PUBLIC", "WITHDRAWN"].contains(&value.as_str()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(choices: Vec<(String, String)>) -> Vec<String> {
        choices.into_iter().map(|(value, _)| value).collect()
    }

    #[test]
    fn consent_can_only_be_narrowed_or_withdrawn_never_widened() {
        assert_eq!(values(narrower_consents("PUBLIC")), ["COMMISSIONERS", "HUB", "WITHDRAWN"]);
        assert_eq!(values(narrower_consents("COMMISSIONERS")), ["HUB", "WITHDRAWN"]);
        assert_eq!(values(narrower_consents("HUB")), ["WITHDRAWN"]);
        assert!(narrower_consents("WITHDRAWN").is_empty(), "nothing is left to change once withdrawn");
    }

    #[test]
    fn a_posted_consent_change_is_read_from_the_items_own_field_and_must_be_known() {
        let fields =
            Fields(vec![("consent-a".to_owned(), "HUB".to_owned()), ("consent-b".to_owned(), "EVERYONE".to_owned())]);
        assert_eq!(posted_consent(&fields, "a").as_deref(), Some("HUB"));
        assert_eq!(posted_consent(&fields, "b"), None);
        assert_eq!(posted_consent(&fields, "c"), None);
    }
}
