//! The privacy service's part of the GraphQL schema (a federation subgraph).
//!
//! - `eraseSubject(person)`: erases everything Heard holds about a person, for someone who
//!   holds one of their records (the policy's `EraseSubject`), and answers with how many of the
//!   erased records the asker may see (never the others).
//! - `subjectAccess(person)`: in the composed schema, the gateway's root field merges every
//!   service's part; [`authorize_subject_access`] is its first step (the policy's
//!   `ViewSubjectAccess`, and the request on the access log), and [`PrivacyHeld`] is this
//!   service's part. In this service's own subgraph, `subjectAccess` answers with that part.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use heard_access::Action;
use heard_api::{account, authorize, timestamp, uuid_arg, viewer};
use heard_contracts::privacy::PersonId;

use crate::service::PrivacyService;

fn service<'a>(ctx: &'a Context<'_>) -> &'a PrivacyService {
    ctx.data_unchecked::<PrivacyService>()
}

pub use heard_api::subgraph::register;

heard_api::subgraph_roots!(PrivacyQuery, PrivacyMutation);

/// A person's records erased.
#[derive(SimpleObject, Clone, Debug)]
pub struct Erasure {
    pub person: ID,
    pub erased_at: String,
    /// How many of the person's erased records you may see. Records held by others were erased
    /// too, and are not counted here.
    pub records: i32,
}

/// The privacy service's part of a subject access answer: whether, and when, the person was
/// erased. The gateway merges it with the other services' parts into `SubjectAccess`.
#[derive(Clone, Debug)]
pub struct PrivacyHeld {
    pub person: PersonId,
}

#[Object]
impl PrivacyHeld {
    /// The person (the opaque id the hub or service holds for them).
    async fn person(&self) -> ID {
        ID(self.person.to_string())
    }
    /// When this answer was made.
    async fn requested_at(&self, ctx: &Context<'_>) -> String {
        service(ctx).held_about(self.person, None).requested_at
    }
    /// Whether the person's records were erased.
    async fn erased(&self, ctx: &Context<'_>) -> bool {
        service(ctx).erased_at(self.person).is_some()
    }
    /// When they were erased; `null` when they were not.
    async fn erased_at(&self, ctx: &Context<'_>) -> Option<String> {
        service(ctx).erased_at(self.person).map(timestamp)
    }
}

/// The first step of `subjectAccess`: checks that the viewer may see everything held about
/// `person` (`ViewSubjectAccess`: someone who holds one of their records; anyone else, and a
/// person Heard does not know, get `NOT_FOUND`), and records the request on the access log.
/// Each part of the answer then shows only the records the viewer may see under their own rule.
pub async fn authorize_subject_access(ctx: &Context<'_>, person: &ID) -> Result<PersonId> {
    account(ctx)?;
    let person = PersonId(uuid_arg("person", person)?);
    let privacy = service(ctx);
    authorize(ctx, Action::ViewSubjectAccess, &privacy.resource(person)).await?;
    let actor = viewer(ctx).actor.clone();
    privacy.record_subject_access(person, Some(&actor)).await?;
    Ok(person)
}

/// This service's queries, in its own subgraph only: in the composed schema the gateway's
/// `subjectAccess` merges every part.
#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Whether, and when, a person was erased: the privacy part of subject access.
    async fn subject_access(&self, ctx: &Context<'_>, person: ID) -> Result<PrivacyHeld> {
        Ok(PrivacyHeld { person: authorize_subject_access(ctx, &person).await? })
    }
}

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Erases everything Heard holds about a person, at their request: the words and details of
    /// every feedback item, case and complaint of theirs are gone for good (their keys are
    /// destroyed before this answers); counts, dates and themes stay. For those who hold one of
    /// their records. A person already erased is refused (`CONFLICT`).
    async fn erase_subject(&self, ctx: &Context<'_>, person: ID) -> Result<Erasure> {
        account(ctx)?;
        let person = PersonId(uuid_arg("person", &person)?);
        let privacy = service(ctx);
        authorize(ctx, Action::EraseSubject, &privacy.resource(person)).await?;
        let actor = viewer(ctx).actor.clone();
        let erased = privacy.erase_person(person, Some(&actor)).await?;
        Ok(Erasure {
            person: ID(person.to_string()),
            erased_at: timestamp(erased.erased_at_micros),
            records: i32::try_from(erased.visible).unwrap_or(i32::MAX),
        })
    }
}
