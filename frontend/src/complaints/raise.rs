//! `/complaints/new`: raising a complaint. The questions, then check your answers, then
//! record it, then the confirmation (`/complaints/raised`). The answers travel in the form
//! itself, so it works without JavaScript and nothing personal goes into a URL.

use super::*;

/// What the raise-a-complaint form holds. It travels in hidden fields through "check your
/// answers", so no draft is kept anywhere and nothing personal goes into a URL.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct RaiseForm {
    pub(super) provider: String,
    pub(super) service: String,
    pub(super) articles: Vec<String>,
    pub(super) what_happened: String,
    pub(super) outcome_wanted: String,
    pub(super) route: String,
    pub(super) complainant_kind: String,
    pub(super) complainant_name: String,
    pub(super) complainant_contact: String,
    pub(super) received_on: String,
    /// The form's `clientMutationId` ([`forms::ONCE_FIELD`]), from the questions to the
    /// record: one complaint however often "Record the complaint" is sent.
    pub(super) once: String,
}

/// The form's fields in page order (for hidden fields and the error summary).
pub(super) const RAISE_FIELDS: [&str; 10] = [
    "provider",
    "service",
    "articles",
    "what_happened",
    "outcome_wanted",
    "route",
    "complainant_kind",
    "complainant_name",
    "complainant_contact",
    "received_on",
];

pub(super) fn too_long(text: &str, max: usize) -> bool {
    text.trim().chars().count() > max
}

impl RaiseForm {
    pub(super) fn from_pairs(pairs: &[(String, String)]) -> RaiseForm {
        let mut form = RaiseForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "provider" => form.provider = value.clone(),
                "service" => form.service = value.clone(),
                "articles" => form.articles.push(value.clone()),
                "what_happened" => form.what_happened = value.clone(),
                "outcome_wanted" => form.outcome_wanted = value.clone(),
                "route" => form.route = value.clone(),
                "complainant_kind" => form.complainant_kind = value.clone(),
                "complainant_name" => form.complainant_name = value.clone(),
                "complainant_contact" => form.complainant_contact = value.clone(),
                "received_on" => form.received_on = value.clone(),
                forms::ONCE_FIELD => form.once = value.clone(),
                _ => {}
            }
        }
        form
    }

    pub(super) fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        for field in RAISE_FIELDS {
            match field {
                "articles" => pairs.extend(self.articles.iter().map(|a| ("articles", a.clone()))),
                "provider" => pairs.push((field, self.provider.clone())),
                "service" => pairs.push((field, self.service.clone())),
                "what_happened" => pairs.push((field, self.what_happened.clone())),
                "outcome_wanted" => pairs.push((field, self.outcome_wanted.clone())),
                "route" => pairs.push((field, self.route.clone())),
                "complainant_kind" => pairs.push((field, self.complainant_kind.clone())),
                "complainant_name" => pairs.push((field, self.complainant_name.clone())),
                "complainant_contact" => pairs.push((field, self.complainant_contact.clone())),
                _ => pairs.push((field, self.received_on.clone())),
            }
        }
        if !self.once.is_empty() {
            pairs.push((forms::ONCE_FIELD, self.once.clone()));
        }
        pairs
    }

    pub(super) fn articles(&self) -> Vec<u32> {
        let mut numbers: Vec<u32> = self.articles.iter().filter_map(|a| a.trim().parse().ok()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    pub(super) fn named(&self) -> bool {
        self.complainant_kind == "NAMED"
    }

    /// What is missing or wrong, in page order. `may_relay`: only an advocate can pass a
    /// complaint on as its advocate.
    pub(super) fn check(&self, today: jiff::civil::Date, may_relay: bool) -> Errors {
        let mut errors = Errors::default();
        if self.provider.trim().is_empty() {
            errors.add("provider", "Choose the service provider the complaint is about");
        }
        if too_long(&self.service, 200) {
            errors.add("service", "Keep the service to 200 characters");
        }
        if self.articles.is_empty() {
            errors.add("articles", "Choose at least one right that was not respected");
        } else if self.articles().len() != self.articles.iter().collect::<std::collections::BTreeSet<_>>().len() {
            errors.add("articles", "Choose rights from the list");
        }
        if self.what_happened.trim().is_empty() {
            errors.add("what_happened", "Say what happened");
        } else if too_long(&self.what_happened, 5000) {
            errors.add("what_happened", "Keep what happened to 5000 characters");
        }
        if self.outcome_wanted.trim().is_empty() {
            errors.add("outcome_wanted", "Say what they would like to happen");
        } else if too_long(&self.outcome_wanted, 2000) {
            errors.add("outcome_wanted", "Keep what they would like to 2000 characters");
        }
        if !ROUTES.iter().any(|(value, _)| *value == self.route) {
            errors.add("route", "Choose how the complaint came in");
        }
        let kinds: &[&str] =
            if may_relay { &["ANONYMOUS", "NAMED", "RELAYED_BY_ADVOCATE"] } else { &["ANONYMOUS", "NAMED"] };
        if !kinds.contains(&self.complainant_kind.as_str()) {
            errors.add("complainant_kind", "Choose who is making the complaint");
        }
        let name = self.complainant_name.trim();
        let contact = self.complainant_contact.trim();
        if self.named() && name.is_empty() {
            errors.add("complainant_name", "Give their name, or choose that they want to stay anonymous");
        } else if !self.named() && !self.complainant_kind.is_empty() && !name.is_empty() {
            errors.add("complainant_name", "Leave the name empty unless they chose to give it");
        } else if too_long(name, 200) {
            errors.add("complainant_name", "Keep the name to 200 characters");
        }
        if !self.named() && !self.complainant_kind.is_empty() && !contact.is_empty() {
            errors.add("complainant_contact", "Leave contact details empty unless they gave their name");
        } else if too_long(contact, 200) {
            errors.add("complainant_contact", "Keep contact details to 200 characters");
        }
        let received = self.received_on.trim();
        if !received.is_empty() {
            match heard_contracts::day::parse(received) {
                Err(wrong) => errors.add("received_on", crate::kit::plain(&wrong.to_string())),
                Ok(date) if date > today => errors.add("received_on", "The date cannot be in the future"),
                Ok(_) => {}
            }
        }
        errors
    }

    /// The `RaiseComplaintInput` the form makes. An advocate passing a complaint on is taken
    /// by the API to be its advocate, so no advocate is named here.
    pub(super) fn input(&self) -> Value {
        let optional = |text: &str| Some(text.trim().to_owned()).filter(|t| !t.is_empty());
        let mut input = json!({
            "charter": "exact",
            "provider": self.provider.trim(),
            "service": optional(&self.service),
            "articles": self.articles(),
            "complainantKind": self.complainant_kind,
            "complainantName": if self.named() { optional(&self.complainant_name) } else { None },
            "complainantContact": if self.named() { optional(&self.complainant_contact) } else { None },
            "route": self.route,
            "whatHappened": self.what_happened.trim(),
            "outcomeWanted": self.outcome_wanted.trim(),
            "receivedOn": optional(&self.received_on),
        });
        if !self.once.is_empty() {
            input["clientMutationId"] = json!(self.once);
        }
        input
    }
}

/// The charter's articles and the providers, as (value, label) choices.
#[derive(Debug, Default)]
pub(super) struct Reference {
    pub(super) charter: String,
    pub(super) articles: Vec<(String, String)>,
    pub(super) providers: Vec<(String, String)>,
    /// Whether GraphQL's answer could not be read (the form then says so at the top).
    pub(super) unreadable: bool,
}

/// What the raise form's reference query answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReferenceAnswer {
    rights: Option<Charter>,
    providers: Connection<Provider>,
}

#[derive(Debug, Deserialize)]
struct Charter {
    name: String,
    articles: Vec<Article>,
}

#[derive(Debug, Deserialize)]
struct Article {
    number: i64,
    label: String,
}

#[derive(Debug, Deserialize)]
struct Provider {
    id: String,
    name: String,
}

/// What `raiseComplaint` answers.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct RaiseAnswer {
    raise_complaint: Option<Raised>,
}

#[derive(Debug, Deserialize)]
struct Raised {
    id: String,
    clock: RaisedClock,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RaisedClock {
    acknowledge_by: String,
}

/// The charter and the providers to choose from; none, and [`Reference::unreadable`], when the
/// answer could not be read.
pub(super) async fn reference<B: Backend>(backend: &B, viewer: &Viewer) -> Reference {
    let answer = ask(
        backend,
        viewer,
        "{ rights { name articles { number label } } providers(first: 100) { edges { node { id name } } } }",
        json!({}),
    )
    .await;
    let Ok(data) = answer.read::<ReferenceAnswer>("complaint reference") else {
        return Reference { unreadable: true, ..Reference::default() };
    };
    let (charter, articles) = data.rights.map_or_else(Default::default, |rights| {
        let articles = rights
            .articles
            .iter()
            .map(|a| (a.number.to_string(), format!("Right {}: {}", a.number, a.label)))
            .collect();
        (rights.name, articles)
    });
    let providers = data.providers.nodes().into_iter().map(|p| (p.id, p.name)).collect();
    Reference { charter, articles, providers, unreadable: false }
}

pub(super) fn kinds_for(viewer: &Viewer) -> Vec<(String, String)> {
    let mut kinds = options(&KINDS);
    if !may(viewer, Action::RelayComplaint) {
        kinds.retain(|(value, _)| value != "RELAYED_BY_ADVOCATE");
    }
    kinds
}

pub(super) fn raise_page(
    viewer: &Viewer,
    csrf: &str,
    reference: &Reference,
    form: &RaiseForm,
    errors: &Errors,
) -> Markup {
    let mut errors = errors.clone();
    if reference.unreadable {
        errors.add("", UNDECODABLE.to_owned());
    }
    let errors = &errors;
    let charter = if reference.charter.is_empty() { "the Bill of Rights" } else { reference.charter.as_str() };
    let body = html! {
        p { a href="/complaints" { "Complaints" } }
        h1 { "Raise a complaint" }
        p class="lead" { "For when someone says a right in the " (charter) " was not respected. You can check your answers before anything is recorded." }
        form method="post" action="/complaints/new" novalidate {
            (csrf_field(csrf))
            @if !form.once.is_empty() { (forms::once_field(&form.once)) }
            (forms::choices(Choices { id: "provider", legend: "Which service provider is it about?", multiple: false, options: reference.providers.clone(), chosen: vec![form.provider.clone()], hint: None }, errors))
            (forms::input(Input { id: "service", label: "Which part of the service, or where? (optional)", kind: "text", value: &form.service, hint: Some("For example: the needle exchange in Crawley."), autocomplete: Some("off") }, errors))
            (forms::choices(Choices { id: "articles", legend: "Which rights were not respected?", multiple: true, options: reference.articles.clone(), chosen: form.articles.clone(), hint: Some("Choose all that apply.") }, errors))
            (forms::textarea("what_happened", "What happened?", &form.what_happened, Some("In their own words where you can. Leave out the names of other people."), errors))
            (forms::textarea("outcome_wanted", "What would they like to happen?", &form.outcome_wanted, Some("For example: an apology, a review meeting, or a change for everyone."), errors))
            (forms::choices(Choices { id: "route", legend: "How did the complaint come in?", multiple: false, options: options(&ROUTES), chosen: vec![form.route.clone()], hint: None }, errors))
            (forms::choices(Choices { id: "complainant_kind", legend: "Who is making the complaint?", multiple: false, options: kinds_for(viewer), chosen: vec![form.complainant_kind.clone()], hint: Some("People can complain without giving their name. The service it is about never learns who complained.") }, errors))
            (forms::input(Input { id: "complainant_name", label: "Their name (only if they gave it)", kind: "text", value: &form.complainant_name, hint: Some("Only the complaints team sees it."), autocomplete: Some("off") }, errors))
            (forms::input(Input { id: "complainant_contact", label: "How to contact them (optional, only if they gave their name)", kind: "text", value: &form.complainant_contact, hint: Some("A phone number or email address the complaints team can use."), autocomplete: Some("off") }, errors))
            (forms::day_input("received_on", "When did the complaint come in? (optional)", &form.received_on, Some("Leave it empty for today unless it came in earlier."), errors))
            button class="button" type="submit" { "Continue" }
        }
    };
    form_page(viewer, "Raise a complaint", Some(csrf), errors, body)
}

pub(super) fn check_page(viewer: &Viewer, csrf: &str, reference: &Reference, form: &RaiseForm) -> Markup {
    let label = |choices: &[(String, String)], value: &str| {
        choices.iter().find(|(v, _)| v == value).map_or_else(|| value.to_owned(), |(_, l)| l.clone())
    };
    let not_given = "Not given";
    let received = match heard_contracts::day::parse(&form.received_on) {
        Ok(day) => heard_contracts::day::written(day),
        Err(_) if form.received_on.trim().is_empty() => "Today".to_owned(),
        Err(_) => form.received_on.trim().to_owned(),
    };
    let rows: Vec<(&str, &str, Markup)> = vec![
        ("provider", "Service provider", html! { (label(&reference.providers, &form.provider)) }),
        (
            "service",
            "Part of the service, or where",
            html! { (Some(form.service.trim()).filter(|s| !s.is_empty()).unwrap_or(not_given)) },
        ),
        (
            "articles",
            "Rights not respected",
            html! {
                ul class="plain-list" { @for article in form.articles() { li { (label(&reference.articles, &article.to_string())) } } }
            },
        ),
        ("what_happened", "What happened", html! { (form.what_happened.trim()) }),
        ("outcome_wanted", "What they would like to happen", html! { (form.outcome_wanted.trim()) }),
        ("route", "How it came in", html! { (words(&ROUTES, &form.route)) }),
        ("complainant_kind", "Who is making the complaint", html! { (words(&KINDS, &form.complainant_kind)) }),
        (
            "complainant_name",
            "Their name",
            html! { (Some(form.complainant_name.trim()).filter(|s| !s.is_empty()).unwrap_or(not_given)) },
        ),
        (
            "complainant_contact",
            "How to contact them",
            html! { (Some(form.complainant_contact.trim()).filter(|s| !s.is_empty()).unwrap_or(not_given)) },
        ),
        ("received_on", "When it came in", html! { (received) }),
    ];
    let rows: Vec<(&str, &str, Markup)> = rows
        .into_iter()
        .filter(|(field, _, _)| form.named() || !matches!(*field, "complainant_name" | "complainant_contact"))
        .collect();
    page(
        viewer,
        "Check your answers",
        Some(csrf),
        html! {
            h1 { "Check your answers before recording the complaint" }
            form method="post" action="/complaints/new/submit" novalidate {
                (csrf_field(csrf))
                @for (name, value) in form.pairs() { input type="hidden" name=(name) value=(value); }
                dl class="summary-list check-answers" {
                    @for (field, question, answer) in &rows {
                        div {
                            dt { (question) }
                            dd { (answer) }
                            dd class="change" {
                                button class="button-link" type="submit" formaction={ "/complaints/new/change#" (field) } formnovalidate {
                                    "Change" span class="visually-hidden" { " " (question.to_lowercase()) }
                                }
                            }
                        }
                    }
                }
                h2 { "Now record the complaint" }
                p { "The complaints team will acknowledge it within 3 working days and answer it within 20, unless they agree another period with the person who complained." }
                button class="button" type="submit" { "Record the complaint" }
            }
        },
    )
}

/// `GET /complaints/new`: the questions.
pub async fn raise_form<B: Backend>(
    State(backend): State<B>,
    SignedInAs { viewer, csrf, .. }: SignedInAs<ComplaintRaisers>,
) -> Response {
    let csrf = csrf.as_str();
    let reference = reference(&backend, &viewer).await;
    let form =
        RaiseForm { received_on: heard_api::today().to_string(), once: forms::new_once(), ..RaiseForm::default() };
    raise_page(&viewer, csrf, &reference, &form, &Errors::default()).into_response()
}

/// The answers posted back: to `check`, then "check your answers" (or the questions again with
/// what is missing); otherwise the questions again with the answers kept.
async fn answers_back<B: Backend>(
    backend: &B,
    viewer: &Viewer,
    csrf: &str,
    fields: &[(String, String)],
    check: bool,
) -> Response {
    let mut form = RaiseForm::from_pairs(fields);
    form.once = forms::once_of(&form.once);
    let reference = reference(backend, viewer).await;
    if !check {
        return no_store(raise_page(viewer, csrf, &reference, &form, &Errors::default()).into_response());
    }
    let errors = form.check(heard_api::today(), may(viewer, Action::RelayComplaint));
    if !errors.is_empty() || reference.unreadable {
        let page = raise_page(viewer, csrf, &reference, &form, &errors);
        return no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    no_store(check_page(viewer, csrf, &reference, &form).into_response())
}

/// `POST /complaints/new`: the answers checked; then "check your answers" (or the questions
/// again with what is missing).
pub async fn raise_check<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<ComplaintRaisers, Vec<(String, String)>>,
) -> Response {
    answers_back(&backend, &viewer, &csrf, &fields, true).await
}

/// `POST /complaints/new/change`: back to the questions with the answers kept.
pub async fn raise_change<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<ComplaintRaisers, Vec<(String, String)>>,
) -> Response {
    answers_back(&backend, &viewer, &csrf, &fields, false).await
}

/// `POST /complaints/new/submit`: `raiseComplaint`; then the confirmation, or the questions
/// with the API's errors beside their fields.
pub async fn raise<B: Backend>(
    State(backend): State<B>,
    PostedFormAs { viewer, csrf, form: fields, .. }: PostedFormAs<ComplaintRaisers, Vec<(String, String)>>,
) -> Response {
    let csrf = csrf.as_str();
    let mut form = RaiseForm::from_pairs(&fields);
    form.once = forms::once_of(&form.once);
    let mut errors = form.check(heard_api::today(), may(&viewer, Action::RelayComplaint));
    if errors.is_empty() {
        let answer = submit(&backend, &viewer, "raiseComplaint", "id clock { acknowledgeBy }", form.input()).await;
        if answer.errors.is_empty() {
            match answer.read::<RaiseAnswer>("raiseComplaint") {
                Ok(RaiseAnswer { raise_complaint: Some(raised) }) => {
                    let mut url = format!("/complaints/raised?by={}", urlencode(&raised.clock.acknowledge_by));
                    if is_handler(&viewer) {
                        url.push_str(&format!("&id={}", urlencode(&raised.id)));
                    }
                    return Redirect::to(&url).into_response();
                }
                _ => errors.add("", UNDECODABLE.to_owned()),
            }
        } else if answer.errors.iter().any(|(field, _, _)| forms::Once::of(field.as_deref()) == forms::Once::Next) {
            form.once = forms::new_once();
            errors.add("", forms::Once::SENT_BEFORE);
        } else {
            errors = api_errors(&answer.errors, &RAISE_FIELDS);
        }
    }
    let reference = reference(&backend, &viewer).await;
    let page = raise_page(&viewer, csrf, &reference, &form, &errors);
    no_store((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct RaisedQuery {
    pub(super) by: Option<String>,
    pub(super) id: Option<String>,
}

/// `GET /complaints/raised`: the confirmation, and what happens next.
pub async fn raised(SignedIn { viewer, csrf }: SignedIn, Query(query): Query<RaisedQuery>) -> Response {
    let csrf = csrf.as_str();
    let by = query.by.as_deref().and_then(|by| by.parse::<jiff::civil::Date>().ok());
    let id = query.id.as_deref().and_then(|id| uuid::Uuid::parse_str(id).ok());
    let body = html! {
        div class="panel" role="status" {
            h1 { "Complaint recorded" }
            @if let Some(by) = by { p { "The complaints team will acknowledge it by " strong { (by) } "." } }
        }
        h2 { "What happens next" }
        ul {
            li { "The complaints team acknowledges it within 3 working days and becomes its handler." }
            li { "They answer it within 20 working days, or a period they agree with the person who complained. Any extension or pause is recorded with its reason." }
            li { "The service it is about sees what happened once the complaints team has checked the words, never who complained." }
        }
        p {
            @if let (Some(id), true) = (id, is_handler(&viewer)) { a href={ "/complaints/" (id) } { "Open the complaint" } " · " }
            a href="/complaints/new" { "Raise another complaint" } " · "
            a href="/" { "Home" }
        }
    };
    page(&viewer, "Complaint recorded", Some(csrf), body).into_response()
}
