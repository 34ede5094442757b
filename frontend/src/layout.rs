//! The page shell every page shares: a skip link, the header with the person's tasks and their
//! account (changing their password, logging out), one `main`, and a footer. Calm colours with AA contrast, a visible focus ring, usable at 320 px.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use heard_access::Role;
use heard_api::Viewer;
use maud::{DOCTYPE, Markup, html};

pub const STYLESHEET: &str = include_str!("../assets/heard.css");

/// `GET /assets/heard.css`.
pub async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], STYLESHEET).into_response()
}

/// The links in the header, by what the person does.
fn tasks(viewer: &Viewer) -> Vec<(&'static str, &'static str)> {
    let actor = &viewer.actor;
    let mut links = vec![("/", "Home")];
    if actor.has(Role::HubMember) || actor.has(Role::HubCoordinator) {
        links.push(("/feedback/new", "Log feedback"));
    }
    if actor.roles.iter().any(|role| *role != Role::Administrator) {
        links.push(("/search", "Search"));
    }
    if actor.has(Role::HubCoordinator) {
        links.push(("/moderation", "Moderation"));
        links.push(("/report-back", "Report back"));
    }
    if actor.has(Role::Advocate) {
        links.push(("/cases", "My cases"));
    }
    if [Role::ComplaintsHandler, Role::ProviderResponder, Role::Advocate, Role::HubMember, Role::HubCoordinator]
        .iter()
        .any(|role| actor.has(*role))
    {
        links.push(("/complaints", "Complaints"));
    }
    if actor.has(Role::Commissioner) {
        links.push(("/dashboard", "Dashboard"));
        links.push(("/shared", "Shared feedback"));
        links.push(("/decisions", "Decisions"));
    }
    if actor.has(Role::Commissioner) || actor.has(Role::HubCoordinator) {
        links.push(("/reports", "Reports"));
    }
    if actor.has(Role::Administrator) {
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
                                            li { a href=(href) { (label) } }
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
