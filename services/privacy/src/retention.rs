//! Retention: records whose retention period has ended are erased by Heard itself, through the
//! same path as a person's request (`heard_api::erasure::erase`), one erasure per record, with
//! [`ErasureReason::RetentionPeriodEnded`] and nobody as the asker.
//!
//! Which records are due is each owning service's to say (`due_for_retention(today, rules)` on
//! the feedback, advocacy and rights services); the gateway gathers them and hands them to
//! [`run`], from the daily job in `heard serve` and from `heard retention`.

use std::collections::BTreeMap;

use heard_api::ApiResult;
use heard_contracts::privacy::{ErasureReason, RecordRef};
use heard_eventstore::EventStore;
use jiff::civil::Date;
use serde::Serialize;

/// What a retention run found and did. Opaque ids and counts only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// The day the periods were counted to.
    pub today: Date,
    /// Nothing was erased: the records are only listed.
    pub dry_run: bool,
    /// The records whose period has ended (each once, in a stable order).
    pub due: Vec<RecordRef>,
    /// How many of them were erased now (0 on a dry run). A record whose streams are gone
    /// from the log (never there) is not counted.
    pub erased: usize,
    /// How many are due, by kind (`feedback_item`, `case`, `complaint`).
    pub by_kind: BTreeMap<&'static str, usize>,
}

/// Erases each record in `due` (or, on a dry run, only lists them). One erasure per record, so
/// that one record's failure leaves the others' erasures whole; the first failure stops the run
/// and is returned (what was erased before it stays erased, and the next run goes on).
pub async fn run(store: &EventStore, today: Date, due: Vec<RecordRef>, dry_run: bool) -> ApiResult<RetentionReport> {
    let mut due = due;
    due.sort();
    due.dedup();
    let by_kind = crate::service::count_by_kind(&due);
    let mut erased = 0;
    if !dry_run {
        for record in &due {
            let erasing = heard_api::erasure::erase(
                store,
                None,
                std::slice::from_ref(record),
                None,
                ErasureReason::RetentionPeriodEnded,
            );
            match erasing.await {
                Ok(event) => erased += event.records.len(),
                // Another replica's run erased it first.
                Err(heard_api::ApiError::Conflict(_)) => {}
                Err(error) => return Err(error),
            }
        }
        if erased > 0 {
            tracing::info!(erased, "erased records whose retention period ended");
        }
    }
    Ok(RetentionReport { today, dry_run, due, erased, by_kind })
}
