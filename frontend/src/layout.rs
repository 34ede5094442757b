//! The page shell every page shares: a skip link, the header with the person's tasks and their
//! account (changing their password, logging out), one `main`, and a footer. Calm colours with AA contrast, a visible focus ring, usable at 320 px.

use heard_access::{Action, Resource};
use heard_api::Viewer;
use maud::{DOCTYPE, Markup, html};

/// The links in the header, by what the policy lets the person do.
/// (The policy is asked here as [`crate::kit::may`] asks it; the shell imports nothing from the
/// pages' kit, which renders with this shell.)
fn tasks(viewer: &Viewer) -> Vec<(&'static str, &'static str)> {
    let may = |_: &Viewer, action: Action| heard_access::may(&viewer.actor, action, &Resource::System).is_allowed();
    let mut links = vec![("/", "Home")];
    if may(viewer, Action::LogFeedback) {
        links.push(("/feedback/new", "Log feedback"));
    }
    // Everyone but an administrator (who gets no content by virtue of the role) follows what
    // was said and decided.
    if may(viewer, Action::ViewDecision) {
        links.push(("/search", "Search"));
    }
    if may(viewer, Action::ViewQueue) {
        links.push(("/moderation", "Moderation"));
        links.push(("/report-back", "Report back"));
    }
    if may(viewer, Action::FollowUpSafeguarding) {
        links.push(("/safeguarding", "Safeguarding"));
    }
    if may(viewer, Action::ReferCase) {
        links.push(("/cases", "My cases"));
    }
    if may(viewer, Action::RaiseComplaint) || may(viewer, Action::AnswerForProvider) {
        links.push(("/complaints", "Complaints"));
    }
    if may(viewer, Action::RecordDecision) {
        links.push(("/dashboard", "Dashboard"));
        links.push(("/shared", "Shared feedback"));
        links.push(("/decisions", "Decisions"));
    }
    if may(viewer, Action::BuildReport) {
        links.push(("/reports", "Reports"));
    }
    if may(viewer, Action::CreateAccount) {
        links.push(("/admin", "Administration"));
    }
    links
}

/// A whole page. `title` is the page's own title; Heard's name follows it.
pub fn page(viewer: &Viewer, title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en-GB" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – Heard" }
                link rel="stylesheet" href="/assets/heard.css";
            }
            body {
                a class="skip-link" href="#main" { "Skip to main content" }
                header class="site-header" {
                    div class="wrap" {
                        a class="brand" href="/" { "Heard" }
                        @if viewer.actor.is_authenticated() {
                            // Until a one-time password is changed, no other page opens.
                            @if !viewer.must_change_password {
                                nav aria-label="Your tasks" {
                                    ul {
                                        @for (href, label) in tasks(viewer) {
                                            li { a href=(href) { (label) (crate::waiting::beside(href)) } }
                                        }
                                    }
                                }
                            }
                            div class="account" {
                                nav aria-label="Your account" {
                                    ul { li { a href="/account/password" { "Change your password" } } }
                                }
                                @if let Some(csrf) = csrf {
                                    form class="logout" method="post" action="/logout" {
                                        input type="hidden" name="csrf_token" value=(csrf);
                                        button class="button-link" type="submit" { "Log out" }
                                    }
                                }
                            }
                        } @else {
                            nav aria-label="Account" {
                                ul { li { a href="/login" { "Log in" } } }
                            }
                        }
                    }
                }
                main id="main" class="wrap" tabindex="-1" {
                    (body)
                }
                footer class="site-footer" {
                    div class="wrap" {
                        p { "Heard keeps what you said, and shows it only to the people you agreed to." }
                    }
                }
            }
        }
    }
}
