//! GraphiQL at `GET /graphql`, served entirely by Heard: React, ReactDOM and GraphiQL are
//! vendored at pinned versions (`assets/graphiql/README.md` says which and how they were
//! fetched), and the page's own script is a file. So the page's Content-Security-Policy is
//! strict: scripts and styles from Heard only, no other host, nothing inline.
//!
//! `[server] graphiql = false` turns the page and its files off (404); `POST /graphql` and
//! `/graphql/ws` are not affected.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// Where the files are served; the vendored ones carry their versions in their names.
const PREFIX: &str = "/assets/graphiql/";

/// A file the page loads.
struct Asset {
    /// Its name under [`PREFIX`].
    name: &'static str,
    body: &'static str,
    content_type: &'static str,
    /// Vendored at a pinned version (named in `name`): cached for a year. Heard's own files
    /// change with Heard, so a browser checks them again each time.
    pinned: bool,
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// The stylesheets, then the scripts, in the order the page loads them.
const ASSETS: [Asset; 6] = [
    Asset {
        name: "graphiql-4.1.2.min.css",
        body: include_str!("../assets/graphiql/graphiql.min.css"),
        content_type: CSS,
        pinned: true,
    },
    Asset {
        name: "heard-graphiql.css",
        body: include_str!("../assets/graphiql/heard-graphiql.css"),
        content_type: CSS,
        pinned: false,
    },
    Asset {
        name: "react-18.3.1.production.min.js",
        body: include_str!("../assets/graphiql/react.production.min.js"),
        content_type: JS,
        pinned: true,
    },
    Asset {
        name: "react-dom-18.3.1.production.min.js",
        body: include_str!("../assets/graphiql/react-dom.production.min.js"),
        content_type: JS,
        pinned: true,
    },
    Asset {
        name: "graphiql-4.1.2.min.js",
        body: include_str!("../assets/graphiql/graphiql.min.js"),
        content_type: JS,
        pinned: true,
    },
    Asset {
        name: "heard-graphiql.js",
        body: include_str!("../assets/graphiql/heard-graphiql.js"),
        content_type: JS,
        pinned: false,
    },
];

/// The page's policy: everything from Heard; fonts and icons in GraphiQL's stylesheet are
/// `data:` URLs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `GET /graphql` (the page) and `GET /assets/graphiql/…` (its files).
pub fn routes() -> Router<AppState> {
    let mut router = Router::new().route("/graphql", get(page));
    for (index, asset) in ASSETS.iter().enumerate() {
        router =
            router.route(&format!("{PREFIX}{}", asset.name), get(move |state: State<AppState>| file(state, index)));
    }
    router
}

/// The page: GraphiQL's stylesheet and scripts, all from [`ASSETS`].
fn html() -> String {
    let mut links = String::new();
    let mut scripts = String::new();
    for asset in &ASSETS {
        if asset.content_type == CSS {
            links.push_str(&format!("    <link rel=\"stylesheet\" href=\"{PREFIX}{}\">\n", asset.name));
        } else {
            scripts.push_str(&format!("    <script src=\"{PREFIX}{}\"></script>\n", asset.name));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta charset=\"utf-8\">\n    \
         <meta name=\"robots\" content=\"noindex\">\n    \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n    \
         <title>Heard GraphQL</title>\n{links}  </head>\n  <body>\n    \
         <div id=\"graphiql\">Loading GraphiQL… (the API at /graphql works without it)</div>\n{scripts}  \
         </body>\n</html>\n"
    )
}

fn turned_off() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "GraphiQL is turned off on this server ([server] graphiql = false). GraphQL itself answers POST /graphql.\n",
    )
        .into_response()
}

async fn page(State(state): State<AppState>) -> Response {
    if !state.graphiql {
        return turned_off();
    }
    let mut response = Html(html()).into_response();
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    response
}

async fn file(State(state): State<AppState>, index: usize) -> Response {
    if !state.graphiql {
        return turned_off();
    }
    let asset = &ASSETS[index];
    let cache = if asset.pinned { "public, max-age=31536000, immutable" } else { "no-cache" };
    ([(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, cache)], asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_every_file_from_heard_and_nothing_inline() {
        let page = html();
        for asset in &ASSETS {
            assert!(page.contains(&format!("\"{PREFIX}{}\"", asset.name)), "{}", asset.name);
        }
        assert!(!page.contains("<style") && !page.contains("style="), "no inline style");
        assert_eq!(page.matches("<script").count(), page.matches("<script src=\"/assets/").count(), "no inline script");
        assert!(!page.contains("http"), "no other host: {page}");
    }

    #[test]
    fn the_policy_names_no_other_host_and_allows_nothing_inline() {
        assert!(!CONTENT_SECURITY_POLICY.contains("http") && !CONTENT_SECURITY_POLICY.contains("unsafe"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    }

    #[test]
    fn the_readme_names_the_versions_the_page_serves() {
        let readme = include_str!("../assets/graphiql/README.md");
        for version in ["graphiql@4.1.2", "react@18.3.1", "react-dom@18.3.1"] {
            assert!(readme.contains(version), "{version}");
        }
        for asset in ASSETS.iter().filter(|asset| asset.pinned) {
            let version = asset.name.split('-').find(|part| part.starts_with(|c: char| c.is_ascii_digit()));
            let version = version.and_then(|v| v.split(".min").next()).and_then(|v| v.split(".production").next());
            let version = version.unwrap_or_else(|| panic!("{} names its version", asset.name));
            assert!(readme.contains(&format!("@{version}")), "{} is {version}", asset.name);
        }
    }
}
