//! What anyone sees without logging in: the home page's content for a visitor (people's own
//! words, only where they agreed to make them public, and what came of them; how to get
//! involved; how to complain, with the EXACT Bill of Rights in its own words), and the same
//! "get involved" and "complain" sections at the end of every public report.
//!
//! Everything here is asked of GraphQL as nobody in particular (`Viewer::anonymous()`), so it
//! can only hold what people agreed to publish. It shows no figures of its own: the counts a
//! visitor may see are the public reports', suppressed there as one table, so nothing on this
//! page can be subtracted from them.

use heard_api::Viewer;
use maud::{Markup, html};
use serde_json::json;

use crate::Backend;
use crate::backend::ask;
use crate::involved::get_involved_and_complain;
use crate::kit::Connection;
use crate::reports::{self, Report};

/// How many of people's own words the home page shows.
const HOME_QUOTES: usize = 6;

/// The home page for someone not logged in: what people said in their own words (only what
/// they agreed to make public) and what came of it, the hubs' public pages, how to get involved
/// and how to complain.
pub(crate) async fn home<B: Backend>(backend: &B) -> Markup {
    let anyone = Viewer::anonymous();
    let hubs = ask(backend, &anyone, "{ hubs(first: 100) { edges { node { id name kind } } } }", json!({})).await;
    let hubs = reports::hubs_in_order(hubs.decode::<Connection<reports::Hub>>("hubs"));
    let report = reports::public_report(backend).await;
    html! {
        h1 { "Heard" }
        p class="lead" { "What people who use drug and alcohol services say, what happened because of it, and the rights they have." }
        p { a class="button" href="/login" { "Log in" } }
        nav aria-label="On this page" class="on-this-page" {
            ul {
                li { a href="#said-and-done" { "What people said, and what came of it" } }
                li { a href="#involved" { "Get involved" } }
                li { a href="#complaints" { "If a service did not respect your rights" } }
            }
        }
        section class="public-section" aria-labelledby="said-and-done" {
            h2 id="said-and-done" { "What people said, and what came of it" }
            p { "In people's own words, only where they agreed to make them public." }
            (public_quotes(report.as_ref()))
            h3 { "You said, we did, hub by hub" }
            p { "Each hub publishes what people told it and what changed. No login needed." }
            ul class="link-list" {
                @for (id, name, _) in &hubs {
                    li { a href={ "/public/you-said-we-did/" (id) } { (name) } }
                }
            }
        }
        (get_involved_and_complain(&hubs, false))
    }
}

/// A few public quotes, those something came of first, each with what came of it.
fn public_quotes(report: Option<&Report>) -> Markup {
    let Some(report) = report else {
        return html! { p { "These words cannot be shown just now. Please try again later." } };
    };
    let mut quotes: Vec<(&str, &reports::ReportItem)> =
        report.pairs.iter().flat_map(|pair| pair.quotes.iter().map(move |quote| (pair.name.as_str(), quote))).collect();
    quotes.sort_by_key(|(_, quote)| !quote.outcome.answered());
    quotes.truncate(HOME_QUOTES);
    html! {
        @if quotes.is_empty() {
            p { "Nobody has made their words public yet." }
        } @else {
            ul class="quotes public-quotes" {
                @for (theme, quote) in &quotes {
                    li {
                        blockquote { p { (quote.text) } }
                        p class="meta" {
                            (theme)
                            @if let Some(said_on) = &quote.said_on { " · said " (reports::day_text(said_on)) }
                        }
                        p class="came-of-it" { strong { "What came of it: " } (reports::outcome_words(report, &quote.outcome, reports::PUBLIC_REPORT_URL)) }
                    }
                }
            }
        }
    }
}
