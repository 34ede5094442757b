//! The person's own account: changing their password (`/account/password`), linked from every
//! signed-in page's header. An account with a one-time password is sent here from every other
//! page until it has its own ([`password_first`]); the API refuses it everything else anyway
//! (`PASSWORD_CHANGE_REQUIRED`).
//!
//! A plain form that works without JavaScript: it posts `changePassword`, and on success
//! redirects back with a short code for the notice; with errors the page comes back at once,
//! the errors beside their fields (no password is ever echoed into the page).

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use heard_api::Viewer;
use maud::html;
use serde::Deserialize;
use serde_json::json;

use crate::Backend;
use crate::backend::ask;
use crate::extract::{PostedForm, SignedIn};
use crate::forms::{self, Choices, Errors, Input};
use crate::kit::{field_id, plain};
use crate::layout::page;

/// Where the form lives.
pub const PASSWORD_PAGE: &str = "/account/password";

pub fn routes<B: Backend>() -> axum::Router<B> {
    axum::Router::new().route(PASSWORD_PAGE, get(password_form).post(change_password::<B>))
}

/// While the signed-in person still has a one-time password, every page but this one (and
/// logging out, and the stylesheet) sends them here. Everyone else passes straight through.
pub async fn password_first<B: Backend>(State(backend): State<B>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let exempt = path == PASSWORD_PAGE || path == "/logout" || path.starts_with("/assets/");
    if !exempt && backend.viewer(request.headers()).must_change_password {
        return Redirect::to(PASSWORD_PAGE).into_response();
    }
    next.run(request).await
}

/// What happened, by the code a redirect carries: the words come from here, never from the
/// address.
fn done_message(code: &str) -> Option<&'static str> {
    Some(match code {
        "changed" => "Your password is changed. Anywhere else you were logged in, you are logged out.",
        "changed-tokens-revoked" => {
            "Your password is changed. Anywhere else you were logged in, you are logged out, and your API tokens \
             are revoked."
        }
        _ => return None,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

const REVOKE: &str = "revoke_api_tokens";

fn password_page(viewer: &Viewer, csrf: &str, revoke: bool, done: Option<&str>, errors: &Errors) -> Response {
    let title = if errors.is_empty() { "Change your password" } else { "Error: Change your password" };
    let body = html! {
        (forms::summary(errors))
        @if let Some(message) = done.and_then(done_message) {
            div class="notice" role="status" {
                p { (message) }
                p { a href="/" { "Go to your tasks" } }
            }
        }
        h1 { "Change your password" }
        @if viewer.must_change_password {
            div class="notice" {
                p { "The password you were given works only until you choose your own. Choose it now to carry on." }
            }
        }
        p { "Changing it logs you out everywhere else you are logged in. You stay logged in here." }
        form method="post" action=(PASSWORD_PAGE) novalidate {
            (forms::csrf_field(csrf))
            (forms::input(Input { id: "current_password", label: "Your current password", kind: "password", value: "", hint: None, autocomplete: Some("current-password") }, errors))
            (forms::input(Input { id: "new_password", label: "New password", kind: "password", value: "", hint: Some("At least 12 characters. A few words you will remember works well."), autocomplete: Some("new-password") }, errors))
            (forms::input(Input { id: "confirm_password", label: "New password again", kind: "password", value: "", hint: None, autocomplete: Some("new-password") }, errors))
            (forms::choices(Choices {
                id: REVOKE,
                legend: "API tokens",
                multiple: true,
                options: vec![("yes".to_owned(), "Also revoke my API tokens".to_owned())],
                chosen: if revoke { vec!["yes".to_owned()] } else { Vec::new() },
                hint: Some("Integrations that use them stop working at once. Choose this if you think a token, or your password, was seen by someone else."),
            }, errors))
            button class="button" type="submit" { "Change your password" }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, page(viewer, title, Some(csrf), body)).into_response()
}

/// `GET /account/password`.
async fn password_form(SignedIn { viewer, csrf }: SignedIn, Query(query): Query<DoneQuery>) -> Response {
    password_page(&viewer, &csrf, false, query.done.as_deref(), &Errors::default())
}

/// `POST /account/password`: `changePassword`.
async fn change_password<B: Backend>(
    State(backend): State<B>,
    PostedForm { viewer, csrf, form: fields }: PostedForm<Vec<(String, String)>>,
) -> Response {
    let current = forms::value_of(&fields, "current_password");
    let new = forms::value_of(&fields, "new_password");
    let confirm = forms::value_of(&fields, "confirm_password");
    let revoke = forms::value_of(&fields, REVOKE) == "yes";
    let mut errors = Errors::default();
    errors.require("current_password", &current, "Enter your current password");
    errors.require("new_password", &new, "Enter a new password");
    if confirm.is_empty() {
        errors.add("confirm_password", "Enter the new password again");
    } else if !new.is_empty() && confirm != new {
        errors.add("confirm_password", "The two new passwords are not the same");
    }
    if errors.is_empty() {
        let answer = ask(
            &backend,
            &viewer,
            "mutation($c: String!, $n: String!, $r: Boolean!) { changePassword(currentPassword: $c, newPassword: $n, revokeApiTokens: $r) }",
            json!({ "c": current, "n": new, "r": revoke }),
        )
        .await;
        if answer.errors.is_empty() {
            let done = if revoke { "changed-tokens-revoked" } else { "changed" };
            return Redirect::to(&format!("{PASSWORD_PAGE}?done={done}")).into_response();
        }
        for (field, _, message) in answer.errors {
            let field = field
                .as_deref()
                .map(field_id)
                .filter(|id| id == "new_password")
                .unwrap_or_else(|| "current_password".to_owned());
            errors.add(&field, plain(&message));
        }
    }
    password_page(&viewer, &csrf, revoke, None, &errors)
}
