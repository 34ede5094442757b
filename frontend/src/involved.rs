//! "Get involved" and "If a service did not respect your rights", with the EXACT Bill of Rights
//! in its own words: the end of the visitor's home page ([`crate::public`]) and of every public
//! report ([`crate::reports`]). Words only, no figures and nothing asked of GraphQL.

use maud::{Markup, html};

/// The EXACT Bill of Rights, word for word (EXACT, West Sussex, 2009): what a complaint cites.
pub(crate) const BILL_OF_RIGHTS: [&str; 11] = [
    "We have the right to be viewed as capable of changing, growing and becoming positively connected with our community, no matter what we did in the past because of our addiction.",
    "We have the right — as do our families and friends — to know about the many pathways to recovery, the nature of addiction and the barriers to long-term recovery — all conveyed in ways that we can understand.",
    "We have the right, whether seeking recovery in the community, at a GP’s, a treatment centre, or whilst in prison, to set our own goals, working with a personalised care plan that we have designed based on accurate and understandable information about our health status, including a comprehensive, holistic assessment.",
    "We have the right to select services that build on our strengths, armed with full information about the experience, and the credentials of the people providing services and the effectiveness of the services and programmes from which we are seeking help.",
    "We have the right to be served by organisations or health and social care providers that view recovery positively, meet the highest public health and safety standards, provide rapid access to services, treat us respectfully, understand that our motivation is related to successfully accessing our strengths and will work with us and our families to find a pathway to recovery.",
    "We have the right to be considered as more than a statistic, stereotype, risk score, diagnosis, label or pathology unit — free from the social stigma that characterises us as weak or morally flawed. If we relapse and begin treatment again, we should be treated with dignity and respect that welcomes our continued efforts to achieve long-term recovery.",
    "We have the right to a health and social care system that recognises the strengths and needs of people with addiction and coordinates its efforts to provide recovery-based care that honours and respects our cultural beliefs.",
    "We have the right to be represented by informed policymakers who remove barriers to educational, housing and employment opportunities once we are no longer misusing alcohol and/or drugs and are on the road to recovery.",
    "We have the right to respectful, non-discriminatory care from doctors and other health care providers and to receive services on the same basis as people do for any other chronic illness.",
    "We have the right to treatment and recovery support in the criminal justice system and to regain our place and rights in society once we have served our sentence.",
    "We have the right to speak out publicly about our recovery to let others know that long-term recovery is a reality.",
];

/// Where someone raises a complaint (those who record complaints with people log in first).
pub(crate) const COMPLAINT_ROUTE: &str = "/complaints/new";

/// "Get involved" and "If a service did not respect your rights", with the Bill of Rights:
/// the end of the home page and of every public report. `hubs` are (id, name, is the Forum);
/// `link_hubs` links each to its public page (the home page lists those links already).
pub(crate) fn get_involved_and_complain(hubs: &[(String, String, bool)], link_hubs: bool) -> Markup {
    let local: Vec<&(String, String, bool)> = hubs.iter().filter(|hub| !hub.2).collect();
    let forum = hubs.iter().find(|hub| hub.2);
    html! {
        section class="public-section" aria-labelledby="get-involved" id="involved" {
            h2 id="get-involved" { "Get involved" }
            p { "If you use, or have used, drug and alcohol services, your views count. You are the expert. Local hubs of EXACT meet regularly to hear what people say and take it to the people who plan and pay for services." }
            @if !local.is_empty() {
                p { "The local hubs are:" }
                ul class="link-list" {
                    @for (id, name, _) in &local {
                        li {
                            @if link_hubs { a href={ "/public/you-said-we-did/" (id) } { (name) } " (what people said there and what came of it)" }
                            @else { (name) }
                        }
                    }
                }
            }
            h3 { "How to join a hub or the Forum" }
            ol {
                li { "Ask your keyworker, your treatment service or any hub member when and where your local hub meets next." }
                li { "Come along. You do not have to give your name, and you can come as often or as rarely as you like." }
                li {
                    "Hub members also meet at "
                    @match forum {
                        Some((id, name, _)) if link_hubs => { a href={ "/public/you-said-we-did/" (id) } { (name) } },
                        Some((_, name, _)) => { (name) },
                        None => { "the county Forum" },
                    }
                    ", which meets every month. Ask your hub how to go with them."
                }
            }
            p { "What you say is written down in your own words. You choose who may see it: only the hub, the commissioners too, or everyone. You can change your mind later." }
        }
        section class="public-section" aria-labelledby="complain" id="complaints" {
            h2 id="complain" { "If a service did not respect your rights" }
            p { "You can complain when a service does not respect one of the rights below. A hub member, a peer representative or an advocate can record the complaint with you. An advocate can make it for you, so the service does not learn who you are." }
            p { "The complaint is acknowledged within 3 working days, and answered within 20 working days unless you agree a longer time." }
            p { a class="button button--secondary" href=(COMPLAINT_ROUTE) { "Raise a complaint" } }
            p class="hint" { "Raising a complaint here needs a Heard account: hub members, coordinators and advocates have one. If you do not, ask one of them." }
            h3 id="bill-of-rights" { "The EXACT Bill of Rights" }
            p { "A statement of the principle that all have the right to recover from addiction to alcohol and drugs." }
            ol class="rights" aria-labelledby="bill-of-rights" {
                @for article in BILL_OF_RIGHTS { li { (article) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bill_of_rights_has_its_eleven_articles_in_its_own_words() {
        assert_eq!(BILL_OF_RIGHTS.len(), 11);
        assert!(BILL_OF_RIGHTS.iter().all(|article| article.starts_with("We have the right")));
        assert!(BILL_OF_RIGHTS[10].ends_with("long-term recovery is a reality."));
        let page = get_involved_and_complain(&[], true).into_string();
        assert!(page.contains(&format!(r#"href="{COMPLAINT_ROUTE}""#)), "{page}");
        assert_eq!(page.matches("<li>We have the right").count(), 11, "{page}");
    }
}
