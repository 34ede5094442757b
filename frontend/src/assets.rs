//! Heard's own static files, compiled in from `frontend/assets/` and served under `/assets/`:
//! the stylesheet (with its print rules) and five small scripts that only enhance pages which
//! work without them (search as you type on `/search` and in the decision's evidence picker,
//! the report's Print button, finding a theme on the log-feedback forms, and an import's
//! progress page checking again while it runs). No page holds
//! an inline script or style: the Content-Security-Policy allows only `'self'`.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// `heard.css`: every page's one stylesheet.
pub const STYLESHEET: &str = include_str!("../assets/heard.css");

const JAVASCRIPT: &str = "text/javascript; charset=utf-8";

/// Each file: its address, its content type and its text.
const FILES: [(&str, &str, &str); 6] = [
    ("/assets/heard.css", "text/css; charset=utf-8", STYLESHEET),
    ("/assets/search.js", JAVASCRIPT, include_str!("../assets/search.js")),
    ("/assets/picker.js", JAVASCRIPT, include_str!("../assets/picker.js")),
    ("/assets/reports.js", JAVASCRIPT, include_str!("../assets/reports.js")),
    ("/assets/themes.js", JAVASCRIPT, include_str!("../assets/themes.js")),
    ("/assets/import.js", JAVASCRIPT, include_str!("../assets/import.js")),
];

fn file(content_type: &'static str, text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// A route for every file.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES.iter().fold(Router::new(), |router, &(path, content_type, text)| {
        router.route(path, get(move || async move { file(content_type, text) }))
    })
}
