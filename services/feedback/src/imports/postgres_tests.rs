//! [`InPostgres`] against a real PostgreSQL (127.0.0.1:5432, trust auth, database `test`): two
//! stores over one fresh schema stand for two replicas holding the same server key. Each test's
//! schema is dropped after.

use std::collections::BTreeSet;

use heard_contracts::identity::{HubAdded, HubKind};
use heard_eventstore::testing::TestSchema;
use heard_eventstore::{EventStore, ModelStore, Upcasters};

use super::*;
use crate::FeedbackService;
use crate::imports::kept::BATCH;

/// Words of a row, a file name and a heading, none of which may be in the table in the clear.
const WORDS: &str = "Nobody rings back after six";
const FILE_NAME: &str = "Jane Quartermaine feedback.csv";
const HEADING: &str = "Notes from Quartermaine";

/// A schema of the test's own, dropped (with its sessions) when this is dropped.
struct Schema(TestSchema);

impl Schema {
    async fn create() -> Schema {
        Schema(TestSchema::create("heard_imports"))
    }

    fn url(&self) -> String {
        self.0.url()
    }

    /// A replica's event store over this schema (migrated by opening it).
    async fn store(&self) -> EventStore {
        EventStore::open_postgres(&self.url(), Upcasters::new())
            .await
            .expect("PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`); scripts/test starts it")
    }

    /// A replica's drafts, under the key every replica derives from the same server key.
    async fn replica(&self) -> Arc<InPostgres> {
        let pool = self.store().await.postgres_pool().expect("a PostgreSQL store has a pool");
        InPostgres::start(pool, ImportKey::new([7; 32]))
    }

    async fn rows(&self, sql: &str) -> Vec<tokio_postgres::Row> {
        let (client, connection) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.query(sql, &[]).await.unwrap()
    }

    async fn count(&self) -> i64 {
        self.rows("SELECT count(*) FROM heard_imports").await[0].get(0)
    }
}

fn file() -> Vec<u8> {
    format!("Date,Channel,Text,{HEADING}\n25/08/2025,Phone,{WORDS},\n").into_bytes()
}

fn draft(owner: Uuid) -> Draft {
    Draft {
        owner,
        hub: "arun".into(),
        file_name: FILE_NAME.into(),
        bytes: Arc::new(file()),
        sheet: Some("Feedback".into()),
        choices: vec![Choice { heading: HEADING.into(), column: Some(Column::About) }],
        revision: 0,
        reading: None,
    }
}

/// A new account's draft, kept on `replica`: (owner, draft id).
async fn kept_draft(replica: &InPostgres) -> (Uuid, Uuid) {
    let (owner, id) = (Uuid::new_v4(), Uuid::new_v4());
    replica.keep(id, draft(owner)).await.unwrap();
    (owner, id)
}

fn job(id: Uuid) -> Job {
    Job {
        id,
        hub: "arun".into(),
        file_name: FILE_NAME.into(),
        state: JobState::Running,
        total: 1,
        done: 0,
        imported: 0,
        already_there: 0,
        rows_to_fix: 0,
        message: None,
    }
}

fn found(job: Option<FoundJob>) -> Job {
    match job.expect("the job is found") {
        FoundJob::Job(job) => job,
        FoundJob::Interrupted { .. } => panic!("the job was taken for interrupted"),
    }
}

#[tokio::test]
async fn a_draft_kept_on_one_replica_opens_on_the_other_for_its_owner_alone() {
    let schema = Schema::create().await;
    let (a, b) = (schema.replica().await, schema.replica().await);
    let (owner, someone_else, id) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
    a.keep(id, draft(owner)).await.unwrap();

    let opened = b.draft(owner, id).await.unwrap().expect("the other replica finds the draft");
    assert_eq!(opened.bytes.as_slice(), file().as_slice());
    assert_eq!((opened.file_name.as_str(), opened.hub.as_str()), (FILE_NAME, "arun"));
    assert_eq!(opened.sheet.as_deref(), Some("Feedback"));
    assert_eq!(opened.choices, draft(owner).choices);
    assert!(b.draft(someone_else, id).await.unwrap().is_none(), "another account finds nothing");
    assert!(!b.cancel(someone_else, id).await.unwrap(), "nor cancels it");

    let revised = Draft { sheet: None, choices: Vec::new(), ..opened };
    assert!(b.revise(owner, id, &revised).await.unwrap());
    let again = a.draft(owner, id).await.unwrap().unwrap();
    assert_eq!((again.sheet, again.choices, again.revision), (None, Vec::new(), 1), "the revision is seen on A");
    assert!(a.cancel(owner, id).await.unwrap());
    assert!(b.draft(owner, id).await.unwrap().is_none(), "cancelled on A, gone on B");
    assert_eq!(schema.count().await, 0, "and its row is deleted");
}

#[tokio::test]
async fn the_table_holds_none_of_the_words_the_file_name_or_the_headings_in_the_clear() {
    let schema = Schema::create().await;
    let a = schema.replica().await;
    let (owner, id) = kept_draft(&a).await;
    a.start(owner, &job(id), format!("{HEADING},error\n{WORDS},row 2\n").into_bytes(), 0).await.unwrap();

    let rows = schema.rows("SELECT name, file, reading, rejects, progress::text, hub FROM heard_imports").await;
    assert_eq!(rows.len(), 1);
    let mut raw = Vec::new();
    for column in 0..4 {
        let bytes: Option<Vec<u8>> = rows[0].get(column);
        raw.push(bytes.expect("every sealed column is set while the job runs"));
    }
    raw.push(rows[0].get::<_, String>(4).into_bytes());
    raw.push(rows[0].get::<_, String>(5).into_bytes());
    for (column, bytes) in raw.iter().enumerate() {
        for clear in [WORDS, "Quartermaine", "rings back", HEADING, "Feedback"] {
            assert!(
                !bytes.windows(clear.len()).any(|window| window == clear.as_bytes()),
                "column {column} holds {clear:?} in the clear"
            );
        }
    }
    let other_key = ImportKey::new([8; 32]);
    assert!(other_key.open(id, "file", &raw[1]).is_err(), "another server key does not open it");
    assert!(ImportKey::new([7; 32]).open(id, "name", &raw[1]).is_err(), "nor does one column open as another");
    assert!(ImportKey::new([7; 32]).open(Uuid::new_v4(), "file", &raw[1]).is_err(), "nor as another draft");
}

#[tokio::test]
async fn a_draft_lasts_an_hour_after_it_was_last_looked_at_and_its_row_is_then_deleted() {
    let schema = Schema::create().await;
    let a = schema.replica().await;
    let (owner, id) = kept_draft(&a).await;
    a.advance_clock(Duration::from_secs(50 * 60));
    assert!(a.draft(owner, id).await.unwrap().is_some(), "looked at after 50 minutes");
    a.advance_clock(Duration::from_secs(50 * 60));
    assert!(a.draft(owner, id).await.unwrap().is_some(), "50 minutes after it was last looked at");
    a.advance_clock(DRAFT_LIFETIME + Duration::from_secs(1));
    assert!(a.draft(owner, id).await.unwrap().is_none(), "an hour and a second after");
    assert_eq!(schema.count().await, 1, "not deleted yet");
    a.prune().await.unwrap();
    assert_eq!(schema.count().await, 0, "the prune deletes it");
}

#[tokio::test]
async fn a_finished_job_drops_its_file_and_is_shown_on_either_replica_for_a_day() {
    let schema = Schema::create().await;
    let (a, b) = (schema.replica().await, schema.replica().await);
    let (owner, id) = kept_draft(&a).await;
    assert!(a.start(owner, &job(id), b"rows to fix".to_vec(), 0).await.unwrap());
    assert!(!b.start(owner, &job(id), Vec::new(), 0).await.unwrap(), "a second confirmation starts nothing");
    assert!(b.draft(owner, id).await.unwrap().is_none(), "the draft became the job");
    assert_eq!(found(b.job(owner, id).await.unwrap()).state, JobState::Running);

    let done = Job { state: JobState::Finished, done: 1, imported: 1, ..job(id) };
    assert!(a.progress(&done).await.unwrap());
    assert_eq!(found(b.job(owner, id).await.unwrap()), done, "B shows what A wrote");
    assert!(b.job(Uuid::new_v4(), id).await.unwrap().is_none(), "to the owner alone");
    assert_eq!(b.rejects(owner, id).await.unwrap().as_deref(), Some(&b"rows to fix"[..]));
    let files = schema.rows("SELECT file IS NULL AND reading IS NULL FROM heard_imports").await;
    assert!(files[0].get::<_, bool>(0), "the file went when the job ended");

    b.advance_clock(JOB_LIFETIME - Duration::from_secs(60));
    assert!(b.job(owner, id).await.unwrap().is_some(), "kept for a day");
    b.advance_clock(Duration::from_secs(120));
    assert!(b.job(owner, id).await.unwrap().is_none());
    b.prune().await.unwrap();
    assert_eq!(schema.count().await, 0);
}

#[tokio::test]
async fn a_job_whose_replica_stops_renewing_its_lease_is_found_interrupted_and_recorded_once() {
    let schema = Schema::create().await;
    let (a, b) = (schema.replica().await, schema.replica().await);
    let (owner, id) = kept_draft(&a).await;
    a.start(owner, &job(id), Vec::new(), 0).await.unwrap();
    b.advance_clock(LEASE - Duration::from_secs(1));
    assert_eq!(found(b.job(owner, id).await.unwrap()).state, JobState::Running, "within its lease");
    assert!(a.renew(id).await.unwrap());
    b.advance_clock(LEASE + Duration::from_secs(1));
    let Some(FoundJob::Interrupted { job: stopped, draft: Some(kept_file), .. }) = b.job(owner, id).await.unwrap()
    else {
        panic!("the lapsed lease is taken for an interruption, with the file to count what was added");
    };
    assert_eq!(kept_file.bytes.as_slice(), file().as_slice());
    let failed = Job { state: JobState::Failed, message: Some("stopped".into()), ..stopped };
    b.interrupted(&failed).await.unwrap();
    assert_eq!(found(b.job(owner, id).await.unwrap()), failed);
    assert!(!a.progress(&Job { done: 1, ..job(id) }).await.unwrap(), "A is told the job is no longer its to run");
    assert_eq!(found(a.job(owner, id).await.unwrap()), failed, "and what it would have written is not");
}

#[tokio::test]
async fn an_account_keeps_five_drafts_and_the_least_recently_looked_at_goes_first() {
    let schema = Schema::create().await;
    let a = schema.replica().await;
    let owner = Uuid::new_v4();
    let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
    for id in &ids {
        a.keep(*id, draft(owner)).await.unwrap();
        a.advance_clock(Duration::from_secs(1));
    }
    a.draft(owner, ids[0]).await.unwrap().expect("the first, looked at again");
    a.advance_clock(Duration::from_secs(1));
    let sixth = Uuid::new_v4();
    a.keep(sixth, draft(owner)).await.unwrap();
    let mut kept = BTreeSet::new();
    for id in ids.iter().chain([&sixth]) {
        if a.draft(owner, *id).await.unwrap().is_some() {
            kept.insert(*id);
        }
    }
    let expected: BTreeSet<Uuid> = [ids[0], ids[2], ids[3], ids[4], sixth].into();
    assert_eq!(kept, expected, "the second upload, looked at least recently, went");
    a.keep(Uuid::new_v4(), draft(Uuid::new_v4())).await.unwrap();
    assert_eq!(schema.count().await, 6, "another account's draft takes no room from this one");
}

/// A job whose replica stopped after adding some rows: another replica's service reports it
/// stopped, counting the file's rows in the log, as the embedded default reports a failed job.
#[tokio::test]
async fn an_interrupted_import_is_reported_stopped_with_the_items_already_in_the_log() {
    let schema = Schema::create().await;
    let store = schema.store().await;
    let arun = HubAdded { hub: "arun".into(), name: "Arun".into(), kind: HubKind::Hub, area: "West Sussex".into() };
    crate::rights_tests::put(&store, "arun", &arun).await;
    let dir = tempfile::tempdir().unwrap();
    let models = ModelStore::open(&dir.path().join("models")).unwrap();
    let service = FeedbackService::open_with(store, dir.path(), &models, Some(ImportKey::new([7; 32]))).await.unwrap();
    let owner = Uuid::new_v4();
    let mut csv = String::from("Date,Channel,Text,Speaker,Consent\n");
    for n in 0..(BATCH + 6) {
        csv.push_str(&format!("25/08/2025,Phone,row {n} of the file,Anonymous,Hub\n"));
    }
    let preview = service
        .upload_import(owner, "arun".into(), "year.csv".into(), csv.into_bytes(), None, Vec::new())
        .await
        .unwrap();
    assert_eq!(preview.ready_rows(), BATCH + 6);
    // The replica that confirmed it got as far as adding three rows, then stopped.
    let rows: Vec<_> = preview.reading.parsed.rows.iter().take(3).map(|row| row.item.clone()).collect();
    service.import(owner, rows).await.unwrap();
    let job = Job { total: BATCH + 6, ..job(preview.id) };
    assert!(service.inner().imports.kept.start(owner, &job, Vec::new(), 0).await.unwrap());
    service.inner().imports.kept.advance_clock(LEASE + Duration::from_secs(1));

    let stopped = service.import_job(owner, preview.id).await.unwrap().expect("the job is shown");
    assert_eq!(stopped.state, JobState::Failed, "never running for ever");
    assert_eq!((stopped.imported, stopped.done), (3, 3));
    let message = stopped.message.clone().unwrap();
    assert!(message.contains("the 3 items added are kept"), "{message}");
    assert!(message.contains("importing the same file again adds the rest"), "{message}");
    assert_eq!(service.import_job(owner, preview.id).await.unwrap(), Some(stopped), "recorded as it was reported");
}
