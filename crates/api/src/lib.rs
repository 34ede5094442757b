//! The parts of a GraphQL API every Heard service shares.
//!
//! - [`ApiError`]: every error carries `extensions.code`, one of `UNAUTHENTICATED`, `FORBIDDEN`,
//!   `NOT_FOUND`, `CONFLICT`, `BAD_USER_INPUT` (with `extensions.field`),
//!   `PASSWORD_CHANGE_REQUIRED` or `INTERNAL` (with a reference only, never internal detail).
//! - [`Viewer`]: who is asking, put into each request by the gateway.
//! - [`authorize`]: asks the one policy (`heard_access::may`) and appends an access event for
//!   every refusal; [`record_read`] does the same for reads that must be logged (case files,
//!   complaints).
//! - [`paginate`]: Relay cursor connections for every list.
//! - [`suppression`]: which counts, rates and medians may be published, so that no small
//!   count can be seen or worked out; every roll-up and report asks it.
//! - [`fold`]: what every service's model does the same way while it folds the log.
//! - [`subgraph`]: how a service joins the composed schema and prints its federation subgraph.
//! - [`resume`]: subscriptions a client can resume `after` a position, and the `LAGGED`
//!   error (with `extensions.resumeAfter`) that ends one which fell behind.
//! - [`spreadsheet::escape_cell`]: every cell of every CSV Heard writes, safe from formula
//!   injection.
//! - [`idempotent`]: the `clientMutationId` of create mutations, and the record id derived from
//!   it, so that a retried request adds nothing.

pub mod entity;
pub mod erasure;
mod error;
pub mod fold;
pub mod idempotent;
pub mod limits;
mod pagination;
pub mod persons;
pub mod resume;
pub mod rollup;
pub mod spreadsheet;
pub mod subgraph;
pub mod suppression;

use async_graphql::Context;
use heard_access::{Action, Actor, Decision, Resource};
use heard_contracts::Event as _;
use heard_contracts::access::AccessRecorded;
use heard_eventstore::{EventStore, ExpectedRevision, NewEvent, StreamName};

pub use error::{ApiError, ApiResult, ErrorCode};
pub use limits::{AccessBudget, access_counters};
pub use pagination::{MAX_PAGE, cursor_before, paginate};

/// Who is asking, and how they proved it.
#[derive(Clone, Debug, Default)]
pub struct Viewer {
    pub actor: Actor,
    /// The session behind a cookie login, if that is how they came.
    pub session: Option<uuid::Uuid>,
    /// The API token, if that is how they came.
    pub token: Option<uuid::Uuid>,
    /// The account still has the one-time password it was given: until it is changed, only
    /// changing it, `me` and logging out are answered (`PASSWORD_CHANGE_REQUIRED`).
    pub must_change_password: bool,
}

impl Viewer {
    pub fn anonymous() -> Self {
        Viewer::default()
    }
}

/// The viewer of this request (anonymous when the gateway put none in).
pub fn viewer<'a>(ctx: &'a Context<'_>) -> std::borrow::Cow<'a, Viewer> {
    match ctx.data_opt::<Viewer>() {
        Some(viewer) => std::borrow::Cow::Borrowed(viewer),
        None => std::borrow::Cow::Owned(Viewer::anonymous()),
    }
}

/// The logged-in account, or `UNAUTHENTICATED`.
pub fn account(ctx: &Context<'_>) -> ApiResult<uuid::Uuid> {
    viewer(ctx).actor.account.ok_or_else(|| ApiError::Unauthenticated("you need to log in first".into()))
}

/// Asks the policy. A refusal becomes `UNAUTHENTICATED`, `FORBIDDEN`, or `NOT_FOUND` when the
/// resource's existence must stay hidden. A logged-in person's refusal is appended to the
/// access log (within the request's [`AccessBudget`]); an anonymous one is only counted, so
/// that nobody can grow the permanent log without an account.
pub async fn authorize(ctx: &Context<'_>, action: Action, resource: &Resource) -> ApiResult<()> {
    let actor = viewer(ctx).actor.clone();
    let decision = heard_access::may(&actor, action, resource);
    match decision {
        Decision::Allow => Ok(()),
        Decision::Deny(denial) => {
            if !actor.is_authenticated() {
                limits::count_anonymous_refusal();
            } else if let Ok(store) = ctx.data::<EventStore>()
                && AccessBudget::take(ctx)
            {
                record(store, &actor, action, resource, decision).await?;
            }
            Err(if denial.unauthenticated {
                ApiError::Unauthenticated(denial.reason.into())
            } else if denial.conceal {
                ApiError::not_found()
            } else {
                ApiError::Forbidden(denial.reason.into())
            })
        }
    }
}

/// Whether the policy allows it, without recording anything: for filtering list items the
/// asker was allowed to list.
pub fn allowed(ctx: &Context<'_>, action: Action, resource: &Resource) -> bool {
    heard_access::may(&viewer(ctx).actor, action, resource).is_allowed()
}

/// Records an allowed read that must be on the access log (a case file, a complaint).
pub async fn record_read(ctx: &Context<'_>, action: Action, resource: &Resource) -> ApiResult<()> {
    let actor = viewer(ctx).actor.clone();
    let store = ctx.data::<EventStore>().map_err(|_| ApiError::internal("no event store in the schema"))?;
    if !AccessBudget::take(ctx) {
        return Ok(());
    }
    record(store, &actor, action, resource, Decision::Allow).await
}

/// Records allowed reads of several records (one page of a list) as one access event.
pub async fn record_reads(ctx: &Context<'_>, action: Action, resources: &[Resource]) -> ApiResult<()> {
    if resources.is_empty() {
        return Ok(());
    }
    let actor = viewer(ctx).actor.clone();
    let store = ctx.data::<EventStore>().map_err(|_| ApiError::internal("no event store in the schema"))?;
    if !AccessBudget::take(ctx) {
        return Ok(());
    }
    append_access(store, vec![AccessRecorded::list_read(&actor, action, resources)]).await
}

/// Appends one access event to today's stream in the `access` category.
pub async fn record(
    store: &EventStore,
    actor: &Actor,
    action: Action,
    resource: &Resource,
    decision: Decision,
) -> ApiResult<()> {
    append_access(store, vec![AccessRecorded::new(actor, action, resource, decision)]).await
}

async fn append_access(store: &EventStore, records: Vec<AccessRecorded>) -> ApiResult<()> {
    let today = jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::UTC).strftime("%Y%m%d").to_string();
    let stream = StreamName::of(AccessRecorded::CATEGORY, today).map_err(ApiError::internal)?;
    let events = records
        .iter()
        .map(|record| NewEvent::new(AccessRecorded::TYPE, AccessRecorded::VERSION, record).map_err(ApiError::internal))
        .collect::<ApiResult<Vec<_>>>()?;
    let appended = events.len();
    store.append(&stream, ExpectedRevision::Any, events).await?;
    limits::count_access_events_appended(appended);
    Ok(())
}

/// The client's IP address, put into each request by the gateway (for login throttling).
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

/// RFC 3339 text for microseconds since the Unix epoch, as every `…At` field shows time.
pub fn timestamp(micros: i64) -> String {
    jiff::Timestamp::from_microsecond(micros).map(|at| at.to_string()).unwrap_or_default()
}

/// Parses an `ID` argument that should be a UUID, naming the argument when it is not.
pub fn uuid_arg(field: &str, id: &async_graphql::ID) -> ApiResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id.as_str()).map_err(|_| ApiError::bad_input(field, "is not an id Heard gave out"))
}

/// Parses a date argument (`2026-11-23`, or as people in the UK write it: `23/11/2026`,
/// `23 November 2026`; [`heard_contracts::day`]), naming the field and saying what was wrong
/// when it is not a real day.
pub fn date_arg(field: &str, text: &str) -> ApiResult<jiff::civil::Date> {
    heard_contracts::day::parse(text).map_err(|error| ApiError::bad_input(field, error.to_string()))
}

/// An optional date argument ([`date_arg`]); `None` when it is left out.
pub fn optional_date_arg(field: &str, text: Option<&str>) -> ApiResult<Option<jiff::civil::Date>> {
    text.map(|text| date_arg(field, text)).transpose()
}

/// An optional date argument ([`date_arg`]); today when it is left out.
pub fn date_arg_or_today(field: &str, text: Option<&str>) -> ApiResult<jiff::civil::Date> {
    text.map_or_else(|| Ok(today()), |text| date_arg(field, text))
}

/// The optional start and end arguments of a period, each named by its field; an end before
/// the start is refused on the end's field, saying `reversed`.
pub fn period_args(
    (from_field, from): (&str, Option<&str>),
    (to_field, to): (&str, Option<&str>),
    reversed: &str,
) -> ApiResult<(Option<jiff::civil::Date>, Option<jiff::civil::Date>)> {
    let from = optional_date_arg(from_field, from)?;
    let to = optional_date_arg(to_field, to)?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::bad_input(to_field, reversed));
    }
    Ok((from, to))
}

/// Today's date where Heard runs (UK time for the clocks of complaints).
pub fn today() -> jiff::civil::Date {
    jiff::Zoned::now().date()
}
