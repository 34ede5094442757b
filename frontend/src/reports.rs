//! "You said, we did" for people, in the shared layout: the report builder (`GET /reports`),
//! the printable report it opens (`GET /reports/you-said-we-did`) and a hub's public page
//! (`GET /public/you-said-we-did/{hub}`, no login). Each asks GraphQL's `youSaidWeDid`; the
//! public version is asked as nobody in particular, so it can only hold what people agreed to
//! publish.
//!
//! The same report as CSV (`?format=csv`), and the report asked for with an API token, are
//! answered by the server hosting these pages before a request reaches them (the gateway's
//! `reports.rs`): this module renders HTML for browsers only.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use heard_api::Viewer;
use jiff::ToSpan;
use jiff::civil::Date;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::Backend;
use crate::backend::{UNDECODABLE, Undecodable, ask};
use crate::extract::Visitor;
use crate::forms::{self, Choices, Errors, form_page};
use crate::kit::{Connection, plain, urlencode};
use crate::layout::page;

/// Where the printable report lives.
const REPORT_PATH: &str = "/reports/you-said-we-did";

/// What a report is about. Everything empty means every hub, provider and theme, all dates.
/// The page and the gateway's CSV download read it from the same query string
/// ([`ReportQuery::scope`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    hub: Option<String>,
    provider: Option<String>,
    theme: Option<String>,
    from: Option<Date>,
    to: Option<Date>,
    /// Only what people agreed to make public.
    public: bool,
}

impl Scope {
    /// The query string naming this scope, empty parts left out.
    fn query(&self) -> String {
        let dates = [("from", self.from), ("to", self.to)];
        let mut parts: Vec<String> = [("hub", &self.hub), ("provider", &self.provider), ("theme", &self.theme)]
            .into_iter()
            .filter_map(|(key, value)| value.as_ref().map(|value| format!("{key}={}", urlencode(value))))
            .chain(dates.into_iter().filter_map(|(key, day)| day.map(|day| format!("{key}={day}"))))
            .collect();
        if self.public {
            parts.push("public=true".to_owned());
        }
        parts.join("&")
    }

    /// The printable report.
    fn report_url(&self) -> String {
        match self.query() {
            query if query.is_empty() => REPORT_PATH.to_owned(),
            query => format!("{REPORT_PATH}?{query}"),
        }
    }

    /// The same report as CSV.
    fn csv_url(&self) -> String {
        match self.query() {
            query if query.is_empty() => format!("{REPORT_PATH}?format=csv"),
            query => format!("{REPORT_PATH}?{query}&format=csv"),
        }
    }

    /// The builder, filled in with this scope.
    fn builder_url(&self) -> String {
        match self.query() {
            query if query.is_empty() => "/reports?period=all".to_owned(),
            query if self.from.is_none() && self.to.is_none() => format!("/reports?{query}&period=all"),
            query => format!("/reports?{query}&period=dates"),
        }
    }

    /// The GraphQL `ReportScopeInput`.
    /// Only what people agreed to make public.
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// The scope as GraphQL's `ReportScopeInput`.
    pub fn input(&self) -> Value {
        json!({
            "hub": self.hub, "provider": self.provider, "theme": self.theme,
            "from": self.from.map(|day| day.to_string()), "to": self.to.map(|day| day.to_string()),
        })
    }
}

/// A day in words: `1 July 2026`.
fn day_words(day: Date) -> String {
    heard_contracts::day::written(day)
}

/// From one day to another in words, the year said once when both share it.
fn span_words(from: Date, to: Date) -> String {
    if from.year() == to.year() {
        format!("{} to {}", from.strftime("%-d %B"), day_words(to))
    } else {
        format!("{} to {}", day_words(from), day_words(to))
    }
}

/// When the report's items were said, in words.
fn period_words(from: Option<Date>, to: Option<Date>) -> String {
    match (from, to) {
        (None, None) => "at any time".to_owned(),
        (Some(from), None) => format!("from {}", day_words(from)),
        (None, Some(to)) => format!("up to {}", day_words(to)),
        (Some(from), Some(to)) if from == to => format!("on {}", day_words(from)),
        (Some(from), Some(to)) => format!("from {}", span_words(from, to)),
    }
}

/// The quick choices of when something was said, and "Dates I choose".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Period {
    LastQuarter,
    ThisQuarter,
    LastMonth,
    LastTwelveMonths,
    AllDates,
    Dates,
}

impl Period {
    const ALL: [Period; 6] = [
        Period::LastQuarter,
        Period::ThisQuarter,
        Period::LastMonth,
        Period::LastTwelveMonths,
        Period::AllDates,
        Period::Dates,
    ];

    fn value(self) -> &'static str {
        match self {
            Period::LastQuarter => "last-quarter",
            Period::ThisQuarter => "this-quarter",
            Period::LastMonth => "last-month",
            Period::LastTwelveMonths => "last-12-months",
            Period::AllDates => "all",
            Period::Dates => "dates",
        }
    }

    fn parse(value: &str) -> Option<Period> {
        Period::ALL.into_iter().find(|period| period.value() == value)
    }

    /// The first and last day it covers, seen from `today`; `None` for "Dates I choose".
    fn days(self, today: Date) -> Option<(Option<Date>, Option<Date>)> {
        let quarter = quarter_start(today);
        let month = today.first_of_month();
        let before = |day: Date, span: jiff::Span| day.checked_sub(span).unwrap_or(day);
        Some(match self {
            Period::LastQuarter => (Some(before(quarter, 3.months())), Some(quarter.yesterday().unwrap_or(quarter))),
            Period::ThisQuarter => (Some(quarter), Some(today)),
            Period::LastMonth => (Some(before(month, 1.month())), Some(month.yesterday().unwrap_or(month))),
            Period::LastTwelveMonths => (Some(before(today, 1.year()).tomorrow().unwrap_or(today)), Some(today)),
            Period::AllDates => (None, None),
            Period::Dates => return None,
        })
    }

    /// The choice as the builder offers it, with the days it means today.
    fn label(self, today: Date) -> String {
        let name = match self {
            Period::LastQuarter => "The last quarter",
            Period::ThisQuarter => "This quarter so far",
            Period::LastMonth => "The last month",
            Period::LastTwelveMonths => "The last 12 months",
            Period::AllDates => "All dates",
            Period::Dates => "Dates I choose (below)",
        };
        match self.days(today) {
            Some((Some(from), Some(to))) => format!("{name}: {}", span_words(from, to)),
            _ => name.to_owned(),
        }
    }
}

/// The first day of the calendar quarter `day` falls in (quarters start in January, April,
/// July and October, as the financial year's do).
fn quarter_start(day: Date) -> Date {
    let month = (day.month() - 1) / 3 * 3 + 1;
    Date::new(day.year(), month, 1).unwrap_or(day)
}

fn today() -> Date {
    jiff::Zoned::now().date()
}

/// Hubs, providers and themes: the reference data a report is scoped by.
#[derive(Clone, Debug, Default)]
struct Reference {
    /// (id, name, is the Forum)
    hubs: Vec<(String, String, bool)>,
    /// (id, name)
    providers: Vec<(String, String)>,
    /// (id, name, parent id); only themes with a parent are given to items.
    themes: Vec<(String, String, Option<String>)>,
    /// Whether GraphQL's answer could not be read (there is then nothing to choose from).
    unreadable: bool,
}

/// The reference data as GraphQL answers it.
#[derive(Debug, Default, Deserialize)]
struct ReferenceAnswer {
    hubs: Option<Connection<Hub>>,
    providers: Option<Connection<Named>>,
    themes: Option<Vec<Theme>>,
}

/// A hub as the report builder and the home page list it.
#[derive(Debug, Deserialize)]
pub(crate) struct Hub {
    id: String,
    name: String,
    kind: String,
}

/// Hubs as (id, name, is a Forum), in the order the pages offer them: local hubs first, then
/// the Forum they belong to, each by name.
pub(crate) fn hubs_in_order(hubs: Option<Connection<Hub>>) -> Vec<(String, String, bool)> {
    let mut hubs: Vec<(String, String, bool)> =
        hubs.unwrap_or_default().nodes().into_iter().map(|hub| (hub.id, hub.name, hub.kind == "FORUM")).collect();
    hubs.sort_by(|a, b| (a.2, &a.1).cmp(&(b.2, &b.1)));
    hubs
}

#[derive(Debug, Deserialize)]
struct Named {
    id: String,
    name: String,
}

#[derive(Debug, Deserialize)]
struct Theme {
    id: String,
    name: String,
    parent: Option<String>,
}

impl Reference {
    async fn ask<B: Backend>(backend: &B, viewer: &Viewer) -> Reference {
        let answer = ask(
            backend,
            viewer,
            "{ hubs(first: 100) { edges { node { id name kind } } } \
               providers(first: 100) { edges { node { id name } } } \
               themes { id name parent } }",
            json!({}),
        )
        .await;
        match answer.read::<ReferenceAnswer>("report reference") {
            Ok(data) => Reference::from_answer(data),
            Err(Undecodable) => Reference { unreadable: true, ..Reference::default() },
        }
    }

    fn from_answer(data: ReferenceAnswer) -> Reference {
        let hubs = hubs_in_order(data.hubs);
        let providers = data.providers.unwrap_or_default().nodes().into_iter().map(|p| (p.id, p.name)).collect();
        let themes = data.themes.unwrap_or_default().into_iter().map(|t| (t.id, t.name, t.parent)).collect();
        Reference { hubs, providers, themes, unreadable: false }
    }

    fn hub(&self, id: &str) -> Option<&str> {
        self.hubs.iter().find(|(hub, _, _)| hub == id).map(|(_, name, _)| name.as_str())
    }

    fn provider(&self, id: &str) -> Option<&str> {
        self.providers.iter().find(|(provider, _)| provider == id).map(|(_, name)| name.as_str())
    }

    fn theme(&self, id: &str) -> Option<&str> {
        self.themes.iter().find(|(theme, _, _)| theme == id).map(|(_, name, _)| name.as_str())
    }

    /// What in `scope` does not exist, as (field, message).
    fn unknown(&self, scope: &Scope) -> Option<(&'static str, String)> {
        if let Some(hub) = scope.hub.as_deref().filter(|hub| self.hub(hub).is_none()) {
            return Some(("hub", format!("There is no hub “{hub}”.")));
        }
        if let Some(provider) = scope.provider.as_deref().filter(|p| self.provider(p).is_none()) {
            return Some(("provider", format!("There is no provider “{provider}”.")));
        }
        if let Some(theme) = scope.theme.as_deref().filter(|theme| self.theme(theme).is_none()) {
            return Some(("theme", format!("There is no theme “{theme}”.")));
        }
        None
    }

    /// What the report is about, in words: "Arun, Addaction, Opening hours".
    fn title(&self, scope: &Scope) -> String {
        let parts: Vec<&str> = [
            scope.hub.as_deref().map(|id| self.hub(id).unwrap_or(id)),
            scope.provider.as_deref().map(|id| self.provider(id).unwrap_or(id)),
            scope.theme.as_deref().map(|id| self.theme(id).unwrap_or(id)),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() { "every hub and the Forum".to_owned() } else { parts.join(", ") }
    }
}

fn empty_to_none(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|value| !value.is_empty())
}

/// The query string of `/reports/you-said-we-did`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    hub: String,
    provider: String,
    theme: String,
    from: String,
    to: String,
    public: String,
    format: String,
}

impl ReportQuery {
    /// Whether the address asks for the CSV download (`format=csv`).
    pub fn wants_csv(&self) -> bool {
        self.format.trim() == "csv"
    }

    /// The scope the address names, or why it cannot be made (naming the part that is wrong,
    /// never repeating what was typed).
    pub fn scope(&self) -> Result<Scope, String> {
        let date = |field: &str, value: &str| match empty_to_none(value) {
            None => Ok(None),
            Some(text) => heard_contracts::day::parse(&text).map(Some).map_err(|wrong| format!("{field}: {wrong}")),
        };
        let from = date("from", &self.from)?;
        let to = date("to", &self.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(format!("to ({to}) must not be before from ({from})"));
        }
        let public = match self.public.trim() {
            "" | "false" => false,
            "true" => true,
            _ => return Err("public must be true or false".to_owned()),
        };
        Ok(Scope {
            hub: empty_to_none(&self.hub),
            provider: empty_to_none(&self.provider),
            theme: empty_to_none(&self.theme),
            from,
            to,
            public,
        })
    }
}

/// What the builder's form holds (a GET form: every field arrives as text).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct BuilderForm {
    hub: String,
    provider: String,
    theme: String,
    period: String,
    from: String,
    to: String,
    public: String,
    /// Set by the form itself: the person asked to open the report (a link that only fills the
    /// form in leaves it out).
    open: String,
}

impl BuilderForm {
    /// Checks the form as of `today`: the scope of the report to open, or the errors to show
    /// beside their fields.
    fn check(&self, today: Date, reference: &Reference) -> Result<Scope, Errors> {
        let mut errors = Errors::default();
        let hub = empty_to_none(&self.hub);
        if hub.as_deref().is_some_and(|hub| reference.hub(hub).is_none()) {
            errors.add("hub", "Choose a hub or the Forum from the list");
        }
        let provider = empty_to_none(&self.provider);
        if provider.as_deref().is_some_and(|provider| reference.provider(provider).is_none()) {
            errors.add("provider", "Choose a service from the list");
        }
        let theme = empty_to_none(&self.theme);
        if theme.as_deref().is_some_and(|theme| reference.theme(theme).is_none()) {
            errors.add("theme", "Choose a theme from the list");
        }
        let typed = !self.from.trim().is_empty() || !self.to.trim().is_empty();
        let (mut from, mut to) = (None, None);
        match Period::parse(self.period.trim()) {
            None => errors.add("period", "Choose when it was said"),
            Some(Period::Dates) => {
                let date = |field: &str, value: &str, errors: &mut Errors| {
                    let text = value.trim();
                    if text.is_empty() {
                        return None;
                    }
                    match heard_contracts::day::parse(text) {
                        Ok(day) => Some(day),
                        Err(wrong) => {
                            errors.add(field, format!("The {} date: {wrong}", field_words(field)));
                            None
                        }
                    }
                };
                from = date("from", &self.from, &mut errors);
                to = date("to", &self.to, &mut errors);
                if let (Some(start), Some(end)) = (from, to)
                    && end < start
                {
                    errors.add("to", "The end date must be the same as the start date or after it");
                }
            }
            Some(_) if typed => {
                errors.add("period", "You typed dates: choose “Dates I choose” to use them, or clear them");
            }
            Some(period) => (from, to) = period.days(today).unwrap_or_default(),
        }
        let public = self.public == "true";
        if errors.is_empty() { Ok(Scope { hub, provider, theme, from, to, public }) } else { Err(errors) }
    }
}

fn field_words(field: &str) -> &'static str {
    if field == "from" { "start" } else { "end" }
}

/// A drop-down list whose options may come in groups: `groups` are (group label, options);
/// options of an empty group label stand alone. `options` are (value, label).
fn grouped_select(
    id: &str,
    label: &str,
    hint: &str,
    groups: &[(String, Vec<(String, String)>)],
    chosen: &str,
    errors: &Errors,
) -> Markup {
    let error = errors.of(id);
    let described = if error.is_some() { format!("{id}-hint {id}-error") } else { format!("{id}-hint") };
    let options = |options: &[(String, String)]| {
        html! {
            @for (value, text) in options {
                option value=(value) selected[value == chosen] { (text) }
            }
        }
    };
    html! {
        div class={ "field" @if error.is_some() { " field--error" } } {
            label for=(id) { (label) }
            p class="hint" id={ (id) "-hint" } { (hint) }
            @if let Some(error) = error {
                p class="field-error" id={ (id) "-error" } { span class="visually-hidden" { "Error: " } (error) }
            }
            select id=(id) name=(id) aria-describedby=(described) aria-invalid=[error.map(|_| "true")] {
                @for (group, members) in groups {
                    @if group.is_empty() { (options(members)) } @else { optgroup label=(group) { (options(members)) } }
                }
            }
        }
    }
}

fn builder_page(
    viewer: &Viewer,
    csrf: Option<&str>,
    form: &BuilderForm,
    errors: &Errors,
    reference: &Reference,
) -> Markup {
    let today = today();
    let single = |label: &str, options: Vec<(String, String)>| vec![(label.to_owned(), options)];
    let pair = |(id, name): &(String, String)| (id.clone(), name.clone());
    let mut hubs = vec![(String::new(), vec![(String::new(), "Every hub and the Forum".to_owned())])];
    hubs.extend(single(
        "Local hubs",
        reference.hubs.iter().filter(|h| !h.2).map(|h| (h.0.clone(), h.1.clone())).collect(),
    ));
    hubs.extend(single(
        "County forum",
        reference.hubs.iter().filter(|h| h.2).map(|h| (h.0.clone(), h.1.clone())).collect(),
    ));
    hubs.retain(|(_, options)| !options.is_empty());
    let mut providers = vec![(String::new(), vec![(String::new(), "Every service".to_owned())])];
    providers.extend(single("", reference.providers.iter().map(pair).collect()));
    let mut themes = vec![(String::new(), vec![(String::new(), "Every theme".to_owned())])];
    for (parent, name, _) in reference.themes.iter().filter(|theme| theme.2.is_none()) {
        let children: Vec<(String, String)> = reference
            .themes
            .iter()
            .filter(|theme| theme.2.as_deref() == Some(parent.as_str()))
            .map(|(id, name, _)| (id.clone(), name.clone()))
            .collect();
        if !children.is_empty() {
            themes.push((name.clone(), children));
        }
    }
    let periods: Vec<(String, String)> =
        Period::ALL.iter().map(|period| (period.value().to_owned(), period.label(today))).collect();
    let period = if form.period.is_empty() { Period::LastQuarter.value().to_owned() } else { form.period.clone() };
    let public = if form.public.is_empty() { "false".to_owned() } else { form.public.clone() };
    let signed_in = viewer.actor.is_authenticated();
    let body = html! {
        h1 { "Build a “you said, we did” report" }
        p class="lead" { "Choose whose feedback and when it was said. The report opens as a page you can print, or download as a spreadsheet (CSV)." }
        form method="get" action="/reports" novalidate {
            input type="hidden" name="open" value="yes";
            (grouped_select("hub", "Hub or the Forum", "What people said at one hub, or at the county Forum.", &hubs, &form.hub, errors))
            (grouped_select("provider", "Which service it was about", "A treatment service, pharmacy, GP or housing provider.", &providers, &form.provider, errors))
            (grouped_select("theme", "Theme", "What it was about.", &themes, &form.theme, errors))
            (forms::choices(Choices { id: "period", legend: "When was it said?", multiple: false, options: periods, chosen: vec![period], hint: Some("Quarters start in January, April, July and October.") }, errors))
            fieldset class="date-range" {
                legend { "Dates I choose" }
                p class="hint" { "Only if you chose “Dates I choose” above. Leave one empty for no start or no end." }
                (forms::day_input("from", "From", &form.from, None, errors))
                (forms::day_input("to", "To (this day included)", &form.to, None, errors))
            }
            @if signed_in {
                (forms::choices(Choices {
                    id: "public",
                    legend: "Who is it for?",
                    multiple: false,
                    options: vec![
                        ("false".to_owned(), "Commissioners and hubs: everything you may see".to_owned()),
                        ("true".to_owned(), "Anyone: only what people agreed to publish".to_owned()),
                    ],
                    chosen: vec![public],
                    hint: Some("Choose “Anyone” for a paper to hand out or put on a website."),
                }, errors))
            }
            button class="button" type="submit" { "Open the report" }
        }
    };
    form_page(viewer, "Build a report", csrf, errors, body)
}

/// `GET /reports`: the builder. Submitted, it opens the report, or comes back with errors
/// beside their fields.
async fn builder<B: Backend>(
    State(backend): State<B>,
    Visitor { viewer, csrf }: Visitor,
    Query(form): Query<BuilderForm>,
) -> Response {
    let reference = Reference::ask(&backend, &viewer).await;
    if form.open.is_empty() || reference.unreadable {
        let mut errors = Errors::default();
        if reference.unreadable {
            errors.add("", UNDECODABLE.to_owned());
        }
        return builder_page(&viewer, csrf.as_deref(), &form, &errors, &reference).into_response();
    }
    match form.check(today(), &reference) {
        Ok(mut scope) => {
            scope.public |= !viewer.actor.is_authenticated();
            Redirect::to(&scope.report_url()).into_response()
        }
        Err(errors) => {
            (StatusCode::UNPROCESSABLE_ENTITY, builder_page(&viewer, csrf.as_deref(), &form, &errors, &reference))
                .into_response()
        }
    }
}

/// A report that cannot be made: why, and the way back to the builder.
fn cannot(viewer: &Viewer, csrf: Option<&str>, status: StatusCode, message: &str) -> Response {
    let title = if status == StatusCode::NOT_FOUND { "Not found" } else { "This report cannot be made" };
    let body = html! {
        h1 { (title) }
        p { (message) }
        p { a href="/reports" { "Build a report" } }
    };
    (status, page(viewer, title, csrf, body)).into_response()
}

/// Counts of 1 to 4 are not given, nor any that would let one be worked out, so that nobody
/// can be recognised (a count not shown may be 5 or more).
fn count(value: Option<u64>) -> String {
    value.map_or_else(|| "not shown".to_owned(), |n| n.to_string())
}

fn percent(value: Option<f64>) -> String {
    value.map_or_else(|| "not enough items to say".to_owned(), |rate| format!("{:.0}%", rate * 100.0))
}

fn working_days(value: Option<f64>) -> String {
    match value {
        None => "not enough items to say".to_owned(),
        Some(days) if days < 0.05 => "the same working day".to_owned(),
        Some(days) if (days - 1.0).abs() < 0.05 => "1 working day".to_owned(),
        Some(days) if (days - days.round()).abs() < 0.05 => format!("{days:.0} working days"),
        Some(days) => format!("{days:.1} working days"),
    }
}

/// One figure of the summary; a figure in words ("not shown") is set smaller than a number.
fn figure(label: &str, value: String) -> Markup {
    let number = value.starts_with(|c: char| c.is_ascii_digit());
    html! { div { dt { (label) } dd class=[(!number).then_some("figure-words")] { (value) } } }
}

/// `IN_PROGRESS` → `in progress`.
fn words(value: &str) -> String {
    value.replace('_', " ").to_lowercase()
}

/// A day from GraphQL (`2026-11-23`) in words, or as it came if it is not one.
pub(crate) fn day_text(text: &str) -> String {
    crate::kit::day_words(text)
}

const REPORT_QUERY: &str = "query($s: ReportScopeInput!, $p: Boolean!) { youSaidWeDid(scope: $s, public: $p) { \
    public position chainHead sharedItems closedItems loopClosureRate medianWorkingDaysToFirstResponse \
    pairs { theme name count \
      quotes { id hub text saidOn outcome { decisionIds notActedOnReason answeredOn acknowledgedOn } } \
      responses { decisionId notActedOnReason answeredOn } } \
    decisions { id title serviceArea decidedBy decisionDate status statusHistory { status on } ladderWords involvement \
      progress { percent note on } milestones { title due metOn } outcomeReviews { on summary } } \
    notActedOn { item text reason on } } }";

/// The report as GraphQL answers it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportAnswer {
    you_said_we_did: Option<Report>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Report {
    public: bool,
    position: u64,
    chain_head: String,
    shared_items: Option<u64>,
    closed_items: Option<u64>,
    loop_closure_rate: Option<f64>,
    median_working_days_to_first_response: Option<f64>,
    pub(crate) pairs: Vec<Pairing>,
    pub(crate) decisions: Vec<ReportDecision>,
    not_acted_on: Vec<NotActedOn>,
}

impl Report {
    pub(crate) fn decision(&self, id: &str) -> Option<&ReportDecision> {
        self.decisions.iter().find(|decision| decision.id == id)
    }
}

impl Outcome {
    /// Whether anything came of it beyond being read: a decision, or a reason for not acting.
    pub(crate) fn answered(&self) -> bool {
        !self.decision_ids.is_empty() || self.not_acted_on_reason.is_some()
    }
}

/// The public report for everyone, all dates, as nobody in particular asks it (`None` when
/// GraphQL's answer cannot be read).
pub(crate) async fn public_report<B: Backend>(backend: &B) -> Option<Report> {
    let scope = Scope { public: true, ..Scope::default() };
    let answer = ask(backend, &Viewer::anonymous(), REPORT_QUERY, json!({ "s": scope.input(), "p": true })).await;
    match answer.read::<ReportAnswer>("youSaidWeDid") {
        Ok(ReportAnswer { you_said_we_did }) => you_said_we_did,
        Err(Undecodable) => None,
    }
}

/// Where the public report for everyone lives (its decisions are anchors on it).
pub(crate) const PUBLIC_REPORT_URL: &str = "/reports/you-said-we-did?public=true";

/// A theme beside what was done about it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Pairing {
    theme: Option<String>,
    pub(crate) name: String,
    count: Option<u64>,
    pub(crate) quotes: Vec<ReportItem>,
    responses: Vec<ThemeResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReportItem {
    pub(crate) hub: String,
    pub(crate) text: String,
    pub(crate) said_on: Option<String>,
    pub(crate) outcome: Outcome,
}

/// What came of one item.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Outcome {
    decision_ids: Vec<String>,
    not_acted_on_reason: Option<String>,
    answered_on: Option<String>,
    acknowledged_on: Option<String>,
}

/// One thing done about a theme: a decision, or a reason for not acting.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThemeResponse {
    decision_id: Option<String>,
    not_acted_on_reason: Option<String>,
    answered_on: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ReportDecision {
    id: String,
    pub(crate) title: String,
    service_area: String,
    decided_by: String,
    decision_date: String,
    pub(crate) status: String,
    status_history: Vec<StatusChange>,
    ladder_words: Option<String>,
    involvement: String,
    progress: Option<Progress>,
    milestones: Vec<Milestone>,
    outcome_reviews: Vec<OutcomeReview>,
}

#[derive(Debug, Deserialize)]
struct StatusChange {
    status: String,
    on: String,
}

#[derive(Debug, Deserialize)]
struct Progress {
    percent: u8,
    note: String,
    on: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Milestone {
    title: String,
    due: String,
    met_on: Option<String>,
}

#[derive(Debug, Deserialize)]
struct OutcomeReview {
    on: String,
    summary: String,
}

#[derive(Debug, Deserialize)]
struct NotActedOn {
    text: Option<String>,
    reason: String,
    on: String,
}

/// A status from GraphQL in words: `IN_PROGRESS` → "In progress".
fn status_words(status: &str) -> String {
    let words = words(status);
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// What came of one item, in a sentence or two; its decisions link to their full story on the
/// report at `report_url` (empty: this page).
pub(crate) fn outcome_words(report: &Report, outcome: &Outcome, report_url: &str) -> Markup {
    let decisions: Vec<&ReportDecision> = outcome.decision_ids.iter().filter_map(|id| report.decision(id)).collect();
    html! {
        @for decision in &decisions {
            span class="outcome" {
                "It fed into the decision " a href={ (report_url) "#decision-" (decision.id) } { "“" (decision.title) "”" }
                " (" (words(&decision.status)) ")."
            }
            " "
        }
        @if let Some(reason) = &outcome.not_acted_on_reason {
            span class="outcome" {
                "Not acted on"
                @if let Some(on) = &outcome.answered_on { " (" (day_text(on)) ")" }
                ", because: " (reason)
            }
        }
        @if decisions.is_empty() && outcome.not_acted_on_reason.is_none() {
            @match &outcome.acknowledged_on {
                Some(on) => { span class="outcome" { "Commissioners read it on " (day_text(on)) ". Nothing has been decided about it yet." } }
                None => { span class="outcome" { "Nothing has been decided about it yet." } }
            }
        }
    }
}

/// When a decision was taken and moved on, latest last.
fn decision_when(decision: &ReportDecision) -> Markup {
    // A proposal is not decided yet, whatever day it was planned for.
    let planned = decision.status == "PROPOSED";
    html! {
        ul class="when" {
            li { @if planned { "To be decided " } @else { "Decided " } (day_text(&decision.decision_date)) }
            @if let Some(change) = decision.status_history.last() {
                li { (status_words(&change.status)) " " (day_text(&change.on)) }
            }
            @if let Some(review) = decision.outcome_reviews.last() {
                li { "Reviewed " (day_text(&review.on)) }
            }
        }
    }
}

/// How many items raised a theme, in words.
fn items_words(count: Option<u64>) -> String {
    match count {
        Some(1) => "1 item".to_owned(),
        Some(n) => format!("{n} items"),
        None => "Number not shown".to_owned(),
    }
}

/// The pairing: each theme, what people said about it, and beside it what was decided or
/// done and when. One row per response; the theme and what was said span them.
fn pairing_table(scope: &Scope, reference: &Reference, report: &Report) -> Markup {
    html! {
        div class="table-scroll pairing-scroll" role="region" aria-labelledby="pairing-caption" tabindex="0" {
            table class="report-table pairing" {
                caption id="pairing-caption" { "What people said about each theme, beside what was decided or done about it" }
                thead {
                    tr {
                        th scope="col" { "Theme" }
                        th scope="col" { "What people said" }
                        th scope="col" { "What was decided or done" }
                        th scope="col" { "When" }
                    }
                }
                @for pair in &report.pairs {
                    @let rows = pair.responses.len().max(1);
                    tbody class="pair" {
                        @for index in 0..rows {
                            tr {
                                @if index == 0 {
                                    th scope="rowgroup" rowspan=(rows) class="pair-theme" { (pair.name) }
                                    td rowspan=(rows) class="pair-said" data-label="What people said" {
                                        @if pair.theme.is_some() { p class="pair-count" { (items_words(pair.count)) } }
                                        @for quote in &pair.quotes {
                                            blockquote { p { (quote.text) } }
                                            p class="meta" {
                                                @if scope.hub.is_none() { (reference.hub(&quote.hub).unwrap_or(&quote.hub)) " · " }
                                                @if let Some(said_on) = &quote.said_on { "said " (day_text(said_on)) }
                                            }
                                            p class="came-of-it" { strong { "What came of it: " } (outcome_words(report, &quote.outcome, "")) }
                                        }
                                    }
                                }
                                @match pair.responses.get(index) {
                                    None => {
                                        td data-label="What was decided or done" { "Nothing has been decided about it yet." }
                                        td data-label="When" { "Not yet" }
                                    }
                                    Some(response) => {
                                        @match response.decision_id.as_deref().and_then(|id| report.decision(id)) {
                                            Some(decision) => {
                                                td data-label="What was decided or done" {
                                                    a href={ "#decision-" (decision.id) } { (decision.title) }
                                                    " · " (status_words(&decision.status))
                                                    @if let Some(words) = &decision.ladder_words { p class="meta" { (words) } }
                                                }
                                                td data-label="When" { (decision_when(decision)) }
                                            }
                                            None => {
                                                td data-label="What was decided or done" {
                                                    "Not acted on, because: " (response.not_acted_on_reason.as_deref().unwrap_or_default())
                                                }
                                                td data-label="When" {
                                                    @if let Some(on) = &response.answered_on { "Answered " (day_text(on)) }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The report as a page: on screen with its actions, on paper as a board paper.
fn report_page(
    viewer: &Viewer,
    csrf: Option<&str>,
    scope: &Scope,
    reference: &Reference,
    report: &Report,
    change: bool,
) -> Markup {
    let title = reference.title(scope);
    let public = report.public;
    let body = html! {
        p class="report-kicker" { @if public { "Public version: only what people agreed to publish" } @else { "For commissioners and hubs" } }
        h1 { "You said, we did: " (title) }
        p class="lead" { "What people said " (period_words(scope.from, scope.to)) ", what was decided because of it, and what came of it." }
        div class="report-actions" {
            button class="button print-report" type="button" hidden { "Print" }
            a class="button button--secondary" href=(scope.csv_url()) download { "Download as CSV" }
            @if change { a href=(scope.builder_url()) { "Change what this report covers" } }
            p class="hint" { "To print it, use the Print button or your browser's Print command (Ctrl + P, or Command + P on a Mac). The menus and buttons are left off the paper." }
        }
        section aria-labelledby="summary" {
            h2 id="summary" { "Summary" }
            dl class="report-figures" {
                (figure("Items shared with commissioners", count(report.shared_items)))
                (figure("Items that reached a decision or a reasoned answer", count(report.closed_items)))
                (figure("Loop closed", percent(report.loop_closure_rate)))
                (figure("Time to a first response (median)", working_days(report.median_working_days_to_first_response)))
            }
        }
        section aria-labelledby="said" {
            h2 id="said" { "You said, we did" }
            @if report.pairs.is_empty() {
                p { "Nothing has been shared for this report yet." }
            } @else {
                p { "Each theme people raised, with examples in their own words where they agreed to it, beside what was decided or done about it." }
                (pairing_table(scope, reference, report))
                p class="hint" { "Counts from 1 to 4 are not shown, nor any count that would let one be worked out, so that nobody can be recognised." }
            }
        }
        section aria-labelledby="did" {
            h2 id="did" { "The decisions in full" }
            @if report.decisions.is_empty() {
                p { "No decision has been linked to this feedback yet." }
            }
            @for decision in &report.decisions {
                article class="decision" id={ "decision-" (decision.id) } tabindex="-1" {
                    h3 { (decision.title) }
                    dl class="summary-list" {
                        div { dt { "Where it stands" } dd { (words(&decision.status)) } }
                        div { dt { "Decided by" } dd { (decision.decided_by) " on " (day_text(&decision.decision_date)) } }
                        div { dt { "Service area" } dd { (decision.service_area) } }
                        div {
                            dt { "How far people who use services were involved" }
                            dd {
                                @if let Some(words) = &decision.ladder_words { p { (words) } }
                                p { (decision.involvement) }
                            }
                        }
                        @if let Some(progress) = &decision.progress {
                            div {
                                dt { "Progress" }
                                dd {
                                    (progress.percent) "% on " (day_text(&progress.on))
                                    @if !progress.note.is_empty() { ": " (progress.note) }
                                }
                            }
                        }
                        @for milestone in &decision.milestones {
                            div {
                                dt { "Milestone" }
                                dd {
                                    (milestone.title) " ("
                                    @match &milestone.met_on { None => { "due " (day_text(&milestone.due)) }, Some(met_on) => { "met " (day_text(met_on)) } }
                                    ")"
                                }
                            }
                        }
                        @if let Some(review) = decision.outcome_reviews.last() {
                            div { dt { "What came of it (reviewed " (day_text(&review.on)) ")" } dd { (review.summary) } }
                        }
                    }
                }
            }
        }
        @if !report.not_acted_on.is_empty() {
            section aria-labelledby="not-acted-on" {
                h2 id="not-acted-on" { "Not acted on, and why" }
                ul class="quotes" {
                    @for answer in &report.not_acted_on {
                        li {
                            @if let Some(words) = &answer.text { blockquote { p { (words) } } }
                            p { strong { "Answer (" (day_text(&answer.on)) "): " } (answer.reason) }
                        }
                    }
                }
            }
        }
        section class="report-proof" aria-labelledby="proof" {
            h2 id="proof" { "Checking this report" }
            p {
                "Made at position " (report.position) " of Heard's event log, whose chain head there is "
                code { (report.chain_head) } ". Anyone holding a copy of the log can confirm later that the evidence behind this report was not rewritten: "
                code { "heard verify --at " (report.position) } "."
            }
        }
        @if public { (crate::involved::get_involved_and_complain(&reference.hubs, true)) }
        script src="/assets/reports.js" defer {}
    };
    page(viewer, &format!("You said, we did: {title}"), csrf, body)
}

/// Checks that the scope names hubs, providers and themes there are (as `reference_asker` sees
/// them), then asks for the report (as nobody in particular for the public version) and
/// renders it.
async fn answer_report<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    reference_asker: &Viewer,
    csrf: Option<&str>,
    scope: &Scope,
    change: bool,
) -> Response {
    let reference = Reference::ask(backend, reference_asker).await;
    if reference.unreadable {
        return cannot(viewer, csrf, StatusCode::INTERNAL_SERVER_ERROR, UNDECODABLE);
    }
    if let Some((_, message)) = reference.unknown(scope) {
        return cannot(viewer, csrf, StatusCode::NOT_FOUND, &message);
    }
    let asker = if scope.public { Viewer::anonymous() } else { viewer.clone() };
    let answer = ask(backend, &asker, REPORT_QUERY, json!({ "s": scope.input(), "p": scope.public })).await;
    if let Some((_, _, message)) = answer.errors.first() {
        return cannot(viewer, csrf, StatusCode::BAD_REQUEST, &plain(message));
    }
    match answer.read::<ReportAnswer>("youSaidWeDid") {
        Ok(ReportAnswer { you_said_we_did: Some(report) }) => {
            report_page(viewer, csrf, scope, &reference, &report, change).into_response()
        }
        Ok(ReportAnswer { you_said_we_did: None }) | Err(Undecodable) => {
            cannot(viewer, csrf, StatusCode::INTERNAL_SERVER_ERROR, UNDECODABLE)
        }
    }
}

/// `GET /reports/you-said-we-did?hub=&provider=&theme=&from=&to=&public=`: the printable report.
/// Someone not logged in sees the public version.
async fn report<B: Backend>(
    State(backend): State<B>,
    Visitor { viewer, csrf }: Visitor,
    Query(query): Query<ReportQuery>,
) -> Response {
    let csrf = csrf.as_deref();
    match query.format.trim() {
        "" | "html" => {}
        // The host answers CSV before a request gets here; one that does not cannot make it.
        "csv" => return cannot(&viewer, csrf, StatusCode::NOT_ACCEPTABLE, "This server cannot make CSV."),
        _ => return cannot(&viewer, csrf, StatusCode::BAD_REQUEST, "format must be html or csv"),
    }
    let mut scope = match query.scope() {
        Ok(scope) => scope,
        Err(message) => return cannot(&viewer, csrf, StatusCode::BAD_REQUEST, &message),
    };
    scope.public |= !viewer.actor.is_authenticated();
    answer_report(&backend, &viewer, &viewer, csrf, &scope, true).await
}

/// `GET /public/you-said-we-did/{hub}`: a hub's published page, no login needed.
async fn public_hub<B: Backend>(
    State(backend): State<B>,
    Visitor { viewer, csrf }: Visitor,
    Path(hub): Path<String>,
) -> Response {
    let csrf = csrf.as_deref();
    let scope = Scope { hub: Some(hub), public: true, ..Scope::default() };
    answer_report(&backend, &viewer, &Viewer::anonymous(), csrf, &scope, false).await
}

/// This page's routes.
pub fn routes<B: Backend>() -> axum::Router<B> {
    use axum::routing::get;
    axum::Router::new()
        .route("/reports", get(builder::<B>))
        .route(REPORT_PATH, get(report::<B>))
        .route("/public/you-said-we-did/{hub}", get(public_hub::<B>))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn reference() -> Reference {
        Reference {
            hubs: vec![
                ("arun".into(), "Arun".into(), false),
                ("west-sussex-forum".into(), "West Sussex Forum".into(), true),
            ],
            providers: vec![("addaction".into(), "Addaction".into())],
            themes: vec![
                ("getting-help".into(), "Getting help".into(), None),
                ("opening-hours".into(), "Opening hours".into(), Some("getting-help".into())),
            ],
            unreadable: false,
        }
    }

    fn form(period: &str, from: &str, to: &str) -> BuilderForm {
        BuilderForm {
            hub: "arun".into(),
            period: period.into(),
            from: from.into(),
            to: to.into(),
            open: "yes".into(),
            ..BuilderForm::default()
        }
    }

    #[test]
    fn the_last_quarter_is_the_whole_calendar_quarter_before_the_one_today_is_in() {
        let days = Period::LastQuarter.days(day("2026-11-23"));
        assert_eq!(days, Some((Some(day("2026-07-01")), Some(day("2026-09-30")))));
        let january = Period::LastQuarter.days(day("2026-01-05"));
        assert_eq!(january, Some((Some(day("2025-10-01")), Some(day("2025-12-31")))), "across a new year");
    }

    #[test]
    fn this_quarter_runs_from_its_first_day_to_today() {
        let days = Period::ThisQuarter.days(day("2026-05-17"));
        assert_eq!(days, Some((Some(day("2026-04-01")), Some(day("2026-05-17")))));
    }

    #[test]
    fn the_last_month_and_the_last_twelve_months_end_where_people_expect() {
        assert_eq!(Period::LastMonth.days(day("2026-03-31")), Some((Some(day("2026-02-01")), Some(day("2026-02-28")))));
        assert_eq!(
            Period::LastTwelveMonths.days(day("2026-11-23")),
            Some((Some(day("2025-11-24")), Some(day("2026-11-23"))))
        );
        assert_eq!(Period::AllDates.days(day("2026-11-23")), Some((None, None)));
        assert_eq!(Period::Dates.days(day("2026-11-23")), None, "dates chosen come from the form");
    }

    #[test]
    fn quick_choices_say_the_days_they_mean() {
        assert_eq!(Period::LastQuarter.label(day("2026-11-23")), "The last quarter: 1 July to 30 September 2026");
        assert_eq!(Period::LastQuarter.label(day("2026-01-05")), "The last quarter: 1 October to 31 December 2025");
        assert_eq!(
            Period::LastTwelveMonths.label(day("2026-11-23")),
            "The last 12 months: 24 November 2025 to 23 November 2026"
        );
        assert_eq!(Period::AllDates.label(day("2026-11-23")), "All dates");
    }

    #[test]
    fn a_quick_choice_becomes_explicit_dates_in_the_reports_address() {
        let scope = form("last-quarter", "", "").check(day("2026-11-23"), &reference()).unwrap();
        assert_eq!(scope.report_url(), "/reports/you-said-we-did?hub=arun&from=2026-07-01&to=2026-09-30");
        assert_eq!(scope.csv_url(), "/reports/you-said-we-did?hub=arun&from=2026-07-01&to=2026-09-30&format=csv");
        assert_eq!(scope.builder_url(), "/reports?hub=arun&from=2026-07-01&to=2026-09-30&period=dates");
    }

    #[test]
    fn an_end_date_before_the_start_is_an_error_beside_the_end_date() {
        let errors = form("dates", "2026-09-30", "2026-07-01").check(day("2026-11-23"), &reference()).unwrap_err();
        assert_eq!(errors.0.len(), 1);
        assert_eq!(errors.of("to"), Some("The end date must be the same as the start date or after it"));
    }

    #[test]
    fn a_date_that_is_not_one_is_an_error_beside_its_own_field() {
        let errors = form("dates", "last week", "2026-07-01").check(day("2026-11-23"), &reference()).unwrap_err();
        assert_eq!(
            errors.of("from"),
            Some("The start date: enter the date as day, month and year, for example 4 December 2026 or 4/12/2026")
        );
        assert_eq!(errors.of("to"), None);
    }

    #[test]
    fn dates_typed_beside_a_quick_choice_are_not_silently_ignored() {
        let errors = form("last-quarter", "2026-01-01", "").check(day("2026-11-23"), &reference()).unwrap_err();
        assert!(errors.of("period").is_some_and(|message| message.contains("Dates I choose")));
    }

    #[test]
    fn chosen_dates_may_leave_out_the_start_or_the_end() {
        let scope = form("dates", "", "2026-06-30").check(day("2026-11-23"), &reference()).unwrap();
        assert_eq!((scope.from, scope.to), (None, Some(day("2026-06-30"))));
        assert_eq!(period_words(scope.from, scope.to), "up to 30 June 2026");
    }

    #[test]
    fn a_hub_provider_or_theme_not_in_the_lists_is_refused() {
        let mut crafted = form("all", "", "");
        crafted.hub = "atlantis".into();
        crafted.theme = "getting-help".into();
        let errors = crafted.check(day("2026-11-23"), &reference()).unwrap_err();
        assert!(errors.of("hub").is_some());
        assert!(
            errors.of("theme").is_none(),
            "a theme group can be chosen by address, though the list offers its themes"
        );
        let unknown = Scope { provider: Some("nobody".into()), ..Scope::default() };
        assert_eq!(reference().unknown(&unknown), Some(("provider", "There is no provider “nobody”.".to_owned())));
    }

    #[test]
    fn the_reports_address_names_a_bad_date_and_a_backwards_period() {
        let bad = ReportQuery { from: "last week".into(), ..ReportQuery::default() };
        assert_eq!(
            bad.scope().unwrap_err(),
            "from: enter the date as day, month and year, for example 4 December 2026 or 4/12/2026"
        );
        let backwards = ReportQuery { from: "2026-11-20".into(), to: "2026-11-01".into(), ..ReportQuery::default() };
        assert!(backwards.scope().unwrap_err().contains("must not be before"));
        let public = ReportQuery { hub: " arun ".into(), public: "true".into(), ..ReportQuery::default() };
        assert_eq!(public.scope().unwrap(), Scope { hub: Some("arun".into()), public: true, ..Scope::default() });
    }

    #[test]
    fn a_report_is_titled_by_names_not_ids() {
        let scope = Scope { hub: Some("arun".into()), theme: Some("opening-hours".into()), ..Scope::default() };
        assert_eq!(reference().title(&scope), "Arun, Opening hours");
        assert_eq!(reference().title(&Scope::default()), "every hub and the Forum");
    }

    #[test]
    fn small_counts_are_not_given_and_missing_figures_are_said_plainly() {
        assert_eq!(count(Some(7)), "7");
        assert_eq!(count(None), "not shown", "a hidden count may be 5 or more (issue #13)");
        assert_eq!(percent(Some(0.857)), "86%");
        assert_eq!(working_days(Some(0.0)), "the same working day");
        assert_eq!(working_days(Some(1.0)), "1 working day");
        assert_eq!(working_days(Some(3.0)), "3 working days");
        assert_eq!(working_days(Some(2.26)), "2.3 working days");
        assert_eq!(working_days(None), "not enough items to say");
    }

    #[test]
    fn the_forum_comes_after_the_local_hubs() {
        let data = json!({ "hubs": { "edges": [
            { "node": { "id": "west-sussex-forum", "name": "West Sussex Forum", "kind": "FORUM" } },
            { "node": { "id": "crawley", "name": "Crawley", "kind": "HUB" } },
            { "node": { "id": "arun", "name": "Arun", "kind": "HUB" } },
        ] } });
        let data = serde_json::from_value(data).unwrap();
        let hubs: Vec<String> = Reference::from_answer(data).hubs.into_iter().map(|hub| hub.0).collect();
        assert_eq!(hubs, ["arun", "crawley", "west-sussex-forum"]);
    }
}
