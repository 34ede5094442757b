//! The page shell every page shares: a skip link, the header with the person's tasks and their
//! account (changing their password, logging out), one `main`, and a footer. Calm colours with AA contrast, a visible focus ring, usable at 320 px.
//!
//! The header marks where the person is: the link for the page they are on, or for the section
//! it is under (`/complaints/123` marks Complaints), carries `aria-current="page"`, which the
//! stylesheet shows with a bar under it. [`page`] learns the address from [`current_page`], the
//! one layer of the router that runs every request's handler inside a task-local holding its
//! path ([`CURRENT_PATH`]); no handler passes it on. Rendered outside a request (a unit test),
//! no link is marked.

use std::future::Future;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use heard_access::{Action, Resource};
use heard_api::Viewer;
use maud::{DOCTYPE, Markup, html};

tokio::task_local! {
    /// The path of the page being answered (`/complaints/123`), never its query string.
    static CURRENT_PATH: String;
}

/// The menu link whose count [`beside`] shows.
const SAFEGUARDING: &str = "/safeguarding";

tokio::task_local! {
    /// Open disclosures with the person looking, for this request (counted by
    /// [`crate::waiting::count_for_menu`]).
    static OPEN_DISCLOSURES: usize;
}

/// Runs the rest of the request knowing how many disclosures are open with the person looking,
/// for the menu to show.
pub(crate) async fn with_open_disclosures<F: std::future::Future>(open: usize, rest: F) -> F::Output {
    OPEN_DISCLOSURES.scope(open, rest).await
}

/// What goes beside a menu link: for the safeguarding page, how many disclosures are open with
/// the person looking, when there are any ("(2 open)"; plain words, so what is seen is what a
/// screen reader says).
fn beside(href: &str) -> Markup {
    let open = if href == SAFEGUARDING { OPEN_DISCLOSURES.try_with(|open| *open).unwrap_or(0) } else { 0 };
    html! {
        @if open > 0 {
            " " span class="menu-count" { "(" (open) " open)" }
        }
    }
}

/// The router's layer that lets [`page`] know which page it is rendering: it runs the rest of
/// the request inside [`CURRENT_PATH`].
pub async fn current_page(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    answering(path, next.run(request)).await
}

/// Runs `future` as the answer to the page at `path`.
pub async fn answering<F: Future>(path: String, future: F) -> F::Output {
    CURRENT_PATH.scope(path, future).await
}

/// Whether the link to `href` is for the page at `path` or for the section `path` is under:
/// `/` only for itself, any other link for itself and the pages below it (`/complaints`
/// for `/complaints/123`, never for `/complaints-old`).
fn is_current(href: &str, path: &str) -> bool {
    if href == "/" {
        return path == "/";
    }
    path == href || path.strip_prefix(href).is_some_and(|below| below.starts_with('/'))
}

/// `Some("page")` for the link to the page being answered (the value of `aria-current`).
fn current(href: &str) -> Option<&'static str> {
    CURRENT_PATH.try_with(|path| is_current(href, path)).unwrap_or(false).then_some("page")
}

/// The links in the header after "Home", in order, each for the people the policy lets take
/// one of its actions.
const TASKS: [(&[Action], &str, &str); 13] = [
    (&[Action::LogFeedback], "/feedback/new", "Log feedback"),
    // Everyone but an administrator (who gets no content by virtue of the role) follows what
    // was said and decided.
    (&[Action::ViewDecision], "/search", "Search"),
    (&[Action::ViewQueue], "/moderation", "Moderation"),
    (&[Action::ViewQueue], "/report-back", "Report back"),
    (&[Action::FollowUpSafeguarding], "/safeguarding", "Safeguarding"),
    (&[Action::ImportFeedback], "/import", "Import a spreadsheet"),
    (&[Action::ReferCase], "/cases", "My cases"),
    (&[Action::RaiseComplaint, Action::AnswerForProvider], "/complaints", "Complaints"),
    (&[Action::RecordDecision], "/dashboard", "Dashboard"),
    (&[Action::RecordDecision], "/shared", "Shared feedback"),
    (&[Action::RecordDecision], "/decisions", "Decisions"),
    (&[Action::BuildReport], "/reports", "Reports"),
    (&[Action::CreateAccount], "/admin", "Administration"),
];

/// The links in the header, by what the policy lets the person do.
/// (The policy is asked here as [`crate::kit::may`] asks it; the shell imports nothing from the
/// pages' kit, which renders with this shell.)
fn tasks(viewer: &Viewer) -> Vec<(&'static str, &'static str)> {
    let may = |action: &Action| heard_access::may(&viewer.actor, *action, &Resource::System).is_allowed();
    let mut links = vec![("/", "Home")];
    links.extend(TASKS.iter().filter(|(actions, ..)| actions.iter().any(may)).map(|(_, href, words)| (*href, *words)));
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
                                            li { a href=(href) aria-current=[current(href)] { (label) (beside(href)) } }
                                        }
                                    }
                                }
                            }
                            div class="account" {
                                nav aria-label="Your account" {
                                    ul { li { a href="/account/password" aria-current=[current("/account/password")] { "Change your password" } } }
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
                                ul { li { a href="/login" aria-current=[current("/login")] { "Log in" } } }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_is_current_on_its_own_page_and_the_pages_under_it() {
        assert!(is_current("/", "/"));
        assert!(!is_current("/", "/complaints"), "home is only home");
        assert!(is_current("/complaints", "/complaints"));
        assert!(is_current("/complaints", "/complaints/123"));
        assert!(is_current("/admin", "/admin/users/7/deactivate"));
        assert!(!is_current("/complaints", "/complaints-old"), "a longer name is not under it");
        assert!(!is_current("/feedback/new", "/meetings/new"));
    }

    #[tokio::test]
    async fn the_page_marks_the_link_of_the_section_it_is_in_and_no_other() {
        let viewer = Viewer {
            actor: heard_access::Actor {
                account: Some(uuid::Uuid::from_u128(1)),
                roles: [heard_access::Role::ComplaintsHandler].into(),
                ..Default::default()
            },
            ..Viewer::default()
        };
        let markup = answering("/complaints/123".to_owned(), async { page(&viewer, "A complaint", None, html! {}) })
            .await
            .into_string();
        assert!(markup.contains(r#"<a href="/complaints" aria-current="page">Complaints</a>"#), "{markup}");
        assert_eq!(markup.matches("aria-current").count(), 1, "{markup}");
        let outside = page(&viewer, "A complaint", None, html! {}).into_string();
        assert!(!outside.contains("aria-current"), "outside a request nothing is marked");
    }
}
