//! Which part of a hub's queue a coordinator is looking at: the plain `GET` form's fields (hub,
//! said from and to, theme, meeting, order, page), each checked, and written back into the
//! page's links and into every form's hidden fields, so that after an action the coordinator
//! comes back to the same page of the same filters.
//!
//! A value Heard does not understand (a date that does not exist, a theme or meeting that is
//! not on the lists, a page past the last, a field given twice) is left out, and the page says
//! which field it was in its own words, never repeating what was in the address.

use jiff::civil::Date;
use maud::{Markup, html};

use crate::forms::Errors;
use crate::kit::urlencode;

/// Items on a page.
pub(crate) const PAGE_SIZE: usize = 20;

/// Which part of a hub's queue is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct View {
    pub hub: String,
    /// Said on this day or later.
    pub from: Option<Date>,
    /// Said on this day or earlier.
    pub to: Option<Date>,
    /// A theme id.
    pub theme: Option<String>,
    /// A meeting id of the hub.
    pub meeting: Option<String>,
    pub newest_first: bool,
    /// From 1.
    pub page: usize,
}

impl Default for View {
    fn default() -> Self {
        View { hub: String::new(), from: None, to: None, theme: None, meeting: None, newest_first: false, page: 1 }
    }
}

/// What the address asked for a field: nothing, one value, or the field more than once.
enum Asked<'a> {
    Nothing,
    Once(&'a str),
    Repeated,
}

fn asked<'a>(pairs: &'a [(String, String)], field: &str) -> Asked<'a> {
    let mut values = pairs.iter().filter(|(key, _)| key == field).map(|(_, value)| value.trim());
    match (values.next(), values.next()) {
        (None, _) => Asked::Nothing,
        (Some(_), Some(_)) => Asked::Repeated,
        (Some(""), None) => Asked::Nothing,
        (Some(value), None) => Asked::Once(value),
    }
}

/// What a page past the last says, for `pages` pages.
fn past_the_end(pages: usize) -> String {
    if pages <= 1 {
        "There is only one page of items, shown here".to_owned()
    } else {
        format!("There are only {pages} pages of items; this is the last")
    }
}

/// The page number asked for: `Err` when it is not one; a number too long to be a page reads as
/// past the end.
fn page_number(value: &str) -> Result<usize, ()> {
    if value.is_empty() || !value.chars().all(|c| c.is_ascii_digit()) {
        return Err(());
    }
    match value.parse::<usize>() {
        Ok(0) => Err(()),
        Ok(page) => Ok(page),
        Err(_) => Ok(usize::MAX),
    }
}

impl View {
    /// The hub the address asks for, if it is one of `hubs` (the coordinator's, in order);
    /// otherwise the first of them, and an error when one was asked for.
    pub fn hub_from(pairs: &[(String, String)], hubs: &[String]) -> (String, Option<&'static str>) {
        let first = hubs.first().cloned().unwrap_or_default();
        match asked(pairs, "hub") {
            Asked::Nothing => (first, None),
            Asked::Once(hub) if hubs.iter().any(|known| known == hub) => (hub.to_owned(), None),
            Asked::Once(_) | Asked::Repeated => (first, Some("Choose one of your hubs")),
        }
    }

    /// The view the address asks for, checked against `hubs`, `themes` and the chosen hub's
    /// `meetings` (ids): each value not understood is left out, with an error naming its field.
    /// The page is checked against the number of pages once the queue is counted
    /// ([`View::within`]).
    pub fn read(pairs: &[(String, String)], hubs: &[String], themes: &[String], meetings: &[String]) -> (View, Errors) {
        let mut errors = Errors::default();
        let (hub, hub_error) = View::hub_from(pairs, hubs);
        if let Some(message) = hub_error {
            // With one hub there is no list to choose from, so the error is the page's.
            errors.add(if hubs.len() > 1 { "hub" } else { "" }, message);
        }
        let mut view = View { hub, ..View::default() };
        let mut day = |field: &str, label: &str| match asked(pairs, field) {
            Asked::Nothing => None,
            Asked::Once(text) => match heard_contracts::day::parse(text) {
                Ok(day) => Some(day),
                Err(wrong) => {
                    // The same words as every date field ("30 February 2026 does not exist").
                    errors.add(field, format!("{label}: {wrong}"));
                    None
                }
            },
            Asked::Repeated => {
                errors.add(field, format!("{label}: give one day"));
                None
            }
        };
        view.from = day("from", "Said on or after");
        view.to = day("to", "Said on or before");
        if let (Some(from), Some(to)) = (view.from, view.to)
            && to < from
        {
            errors.add("to", "Said on or before: the day must be the same as the first day or after it");
            view.to = None;
        }
        let mut listed = |field: &str, known: &[String], message: &str| match asked(pairs, field) {
            Asked::Nothing => None,
            Asked::Once(value) if known.iter().any(|k| k == value) => Some(value.to_owned()),
            Asked::Once(_) | Asked::Repeated => {
                errors.add(field, message);
                None
            }
        };
        view.theme = listed("theme", themes, "Choose a theme from the list");
        view.meeting = listed("meeting", meetings, "Choose a meeting of this hub from the list");
        match asked(pairs, "order") {
            Asked::Nothing => {}
            Asked::Once("newest") => view.newest_first = true,
            Asked::Once("oldest") => {}
            Asked::Once(_) | Asked::Repeated => errors.add("order", "Choose newest first or oldest first"),
        }
        match asked(pairs, "page") {
            Asked::Nothing => {}
            Asked::Once(value) => match page_number(value) {
                Ok(page) => view.page = page,
                Err(()) => errors.add("", "Give the page as a number, for example 2"),
            },
            Asked::Repeated => errors.add("", "Give one page number"),
        }
        (view, errors)
    }

    /// The view as an action's form posted it back (its hidden fields), read leniently: it is
    /// only written into the address the action goes back to, where [`View::read`] checks it.
    pub fn posted(fields: &[(String, String)]) -> View {
        let value = |field: &str| match asked(fields, field) {
            Asked::Once(value) if value.chars().count() <= 100 => Some(value.to_owned()),
            _ => None,
        };
        View {
            hub: value("hub").unwrap_or_default(),
            from: value("from").and_then(|day| heard_contracts::day::parse(&day).ok()),
            to: value("to").and_then(|day| heard_contracts::day::parse(&day).ok()),
            theme: value("theme"),
            meeting: value("meeting"),
            newest_first: value("order").as_deref() == Some("newest"),
            page: value("page").as_deref().and_then(|page| page_number(page).ok()).unwrap_or(1),
        }
    }

    /// The number of pages for `total` items (at least one).
    pub fn pages(total: usize) -> usize {
        total.div_ceil(PAGE_SIZE).max(1)
    }

    /// The view with its page within the `total` items' pages: a page past the last becomes
    /// the last, with an error saying so.
    pub fn within(mut self, total: usize, errors: &mut Errors) -> View {
        let pages = View::pages(total);
        if self.page > pages {
            errors.add("", past_the_end(pages));
            self.page = pages;
        }
        self
    }

    /// Where the page starts among the items.
    pub fn offset(&self) -> usize {
        (self.page - 1).saturating_mul(PAGE_SIZE)
    }

    /// The filters as GraphQL's `ModerationFilter`.
    pub fn filter(&self) -> serde_json::Value {
        serde_json::json!({
            "from": self.from.map(|day| day.to_string()),
            "to": self.to.map(|day| day.to_string()),
            "theme": self.theme,
            "meeting": self.meeting,
        })
    }

    /// The order as GraphQL's `QueueOrder`.
    pub fn order(&self) -> &'static str {
        if self.newest_first { "NEWEST_FIRST" } else { "OLDEST_FIRST" }
    }

    /// Whether any filter narrows the queue.
    pub fn filtered(&self) -> bool {
        self.from.is_some() || self.to.is_some() || self.theme.is_some() || self.meeting.is_some()
    }

    /// The view's fields as (name, value), only those that differ from the first page of the
    /// whole queue, oldest first (the hub always).
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("hub", self.hub.clone())];
        pairs.extend(self.from.map(|day| ("from", day.to_string())));
        pairs.extend(self.to.map(|day| ("to", day.to_string())));
        pairs.extend(self.theme.clone().map(|theme| ("theme", theme)));
        pairs.extend(self.meeting.clone().map(|meeting| ("meeting", meeting)));
        if self.newest_first {
            pairs.push(("order", "newest".to_owned()));
        }
        if self.page > 1 {
            pairs.push(("page", self.page.to_string()));
        }
        pairs
    }

    /// The address of this view at `path` (`/moderation`), every value made safe for it.
    pub fn url(&self, path: &str) -> String {
        let query: Vec<String> =
            self.pairs().into_iter().map(|(key, value)| format!("{key}={}", urlencode(&value))).collect();
        format!("{path}?{}", query.join("&"))
    }

    /// The same view at another page.
    pub fn at_page(&self, page: usize) -> View {
        View { page, ..self.clone() }
    }

    /// The view as hidden fields, for a form whose action comes back to it.
    pub fn hidden_fields(&self) -> Markup {
        html! {
            @for (name, value) in self.pairs() {
                input type="hidden" name=(name) value=(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forms::testing::{fields, posted};

    fn hubs() -> Vec<String> {
        vec!["arun".into(), "crawley".into()]
    }

    fn themes() -> Vec<String> {
        vec!["housing".into(), "access-and-waiting".into()]
    }

    fn meetings() -> Vec<String> {
        vec!["7f0c2c52-3d8b-4f43-9a39-6a2c8e1d1a11".into()]
    }

    fn read(query: &[(&str, &str)]) -> (View, Errors) {
        View::read(&posted(query), &hubs(), &themes(), &meetings())
    }

    #[test]
    fn no_address_is_the_first_page_of_the_first_hubs_whole_queue_oldest_first() {
        let (view, errors) = read(&[]);
        assert!(errors.is_empty());
        assert_eq!(view, View { hub: "arun".into(), ..View::default() });
        assert_eq!(view.url("/moderation"), "/moderation?hub=arun");
    }

    #[test]
    fn every_filter_is_read_and_written_back_into_the_address() {
        let query = [
            ("hub", "crawley"),
            ("from", "1/3/2026"),
            ("to", "2026-03-31"),
            ("theme", "housing"),
            ("meeting", "7f0c2c52-3d8b-4f43-9a39-6a2c8e1d1a11"),
            ("order", "newest"),
            ("page", "2"),
        ];
        let (view, errors) = read(&query);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            view.url("/moderation"),
            "/moderation?hub=crawley&from=2026-03-01&to=2026-03-31&theme=housing&meeting=7f0c2c52-3d8b-4f43-9a39-6a2c8e1d1a11&order=newest&page=2"
        );
        assert_eq!((view.offset(), view.order()), (20, "NEWEST_FIRST"));
        let posted: Vec<(String, String)> = view.pairs().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let fields = ["hub", "from", "to", "theme", "meeting", "order", "page"];
        assert!(posted.iter().all(|(key, _)| fields.contains(&key.as_str())));
        assert_eq!(View::posted(&posted), view, "the hidden fields bring the same view back");
    }

    #[test]
    fn a_value_heard_does_not_understand_is_left_out_and_named_by_its_field() {
        let (view, errors) = read(&[
            ("hub", "brighton"),
            ("from", "30/2/2026"),
            ("to", "<script>"),
            ("theme", "nonsense"),
            ("meeting", "not-a-meeting"),
            ("order", "sideways"),
            ("page", "two"),
        ]);
        assert_eq!(fields(&errors), ["hub", "from", "to", "theme", "meeting", "order", ""]);
        assert_eq!(view, View { hub: "arun".into(), ..View::default() });
        let said: Vec<&str> = errors.0.iter().map(|error| error.message.as_str()).collect();
        assert!(said.iter().all(|message| !message.contains("script") && !message.contains("nonsense")), "{said:?}");
    }

    #[test]
    fn a_field_given_twice_is_refused_not_guessed() {
        let (view, errors) = read(&[("page", "1"), ("page", "2"), ("theme", "housing"), ("theme", "housing")]);
        assert_eq!(fields(&errors), ["theme", ""]);
        assert_eq!((view.page, view.theme), (1, None));
    }

    #[test]
    fn the_last_day_before_the_first_is_refused() {
        let (view, errors) = read(&[("from", "2026-03-10"), ("to", "2026-03-01")]);
        assert_eq!(fields(&errors), ["to"]);
        assert_eq!(view.to, None);
    }

    #[test]
    fn a_page_past_the_last_shows_the_last_and_says_so_however_huge() {
        for asked in ["9", "99999999999999999999999999"] {
            let (view, mut errors) = read(&[("page", asked)]);
            assert!(errors.is_empty(), "a number is a page until the queue is counted");
            let view = view.within(45, &mut errors);
            assert_eq!(view.page, 3);
            assert_eq!(errors.0[0].message, "There are only 3 pages of items; this is the last");
        }
        let (view, mut errors) = read(&[("page", "2")]);
        assert_eq!(view.within(0, &mut errors).page, 1);
        assert_eq!(errors.0[0].message, "There is only one page of items, shown here");
        assert_eq!(read(&[("page", "0")]).1.0[0].message, "Give the page as a number, for example 2");
    }

    #[test]
    fn every_value_in_an_address_is_made_safe_for_it() {
        let view = View { hub: "a&b=c#d".into(), theme: Some("x y".into()), ..View::default() };
        assert_eq!(view.url("/moderation"), "/moderation?hub=a%26b%3Dc%23d&theme=x%20y");
    }

    #[test]
    fn empty_values_from_the_form_mean_no_filter() {
        let (view, errors) = read(&[("from", ""), ("to", " "), ("theme", ""), ("meeting", ""), ("order", "oldest")]);
        assert!(errors.is_empty());
        assert!(!view.filtered());
    }
}
