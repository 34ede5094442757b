//! A PostgreSQL schema of a test's own, for the tests of every crate that runs against the test
//! database (`HEARD_TEST_POSTGRES_URL`, by default `postgres://postgres@127.0.0.1:5432/test`
//! with trust auth; `scripts/test` starts it). Built with the `testing` feature, for tests only.
//!
//! Every session opened through [`TestSchema::url`] carries the schema's name as its
//! `application_name`. Dropping the schema first ends those sessions, then drops it with a
//! bounded lock wait. That matters: a test's store may still have an append in flight in a
//! task of the test's own runtime when the test ends, and the drop runs on that runtime's
//! thread, so a `DROP SCHEMA` waiting for that append's locks would wait for ever.

use tokio_postgres::NoTls;

/// The test database's URL.
pub fn base_url() -> String {
    std::env::var("HEARD_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// What to do when the test database does not answer.
pub const HOW_TO_START: &str = "start it with `scripts/test` (which starts it when it is not answering), \
     or `sudo pg_ctlcluster 15 main start`; or point HEARD_TEST_POSTGRES_URL at another server";

/// A schema of the test's own in the test database, dropped (with every session still in it)
/// when this is dropped.
#[derive(Debug)]
pub struct TestSchema {
    name: String,
}

impl TestSchema {
    /// Creates `<prefix>_<random>`. Safe to call inside or outside a runtime.
    pub fn create(prefix: &str) -> TestSchema {
        assert!(
            prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "a schema prefix is a-z, 0-9 and _"
        );
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        if let Err(error) = run_on_the_side(format!("CREATE SCHEMA {name}")) {
            panic!(
                "the PostgreSQL tests need PostgreSQL at {} and it did not create a schema ({error}): {HOW_TO_START}",
                without_query(&base_url())
            );
        }
        TestSchema { name }
    }

    /// The schema's name, which is also the application name of the sessions opened through
    /// [`url`](Self::url).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The test database's URL with this schema as the search path and its name as the
    /// application name.
    pub fn url(&self) -> String {
        let base = base_url();
        let join = if base.contains('?') { '&' } else { '?' };
        format!("{base}{join}options=-c%20search_path%3D{0}&application_name={0}", self.name)
    }

    /// The SQL that ends the schema's sessions and drops it, waiting at most ten seconds for a
    /// lock (for a test that drops a schema from another process, with `psql`).
    pub fn drop_sql(&self) -> String {
        format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE application_name = '{0}' AND pid <> pg_backend_pid(); \
             SET lock_timeout = '10s'; DROP SCHEMA IF EXISTS {0} CASCADE",
            self.name
        )
    }
}

impl Drop for TestSchema {
    fn drop(&mut self) {
        let _ = run_on_the_side(self.drop_sql());
    }
}

/// The part of a URL before its query (which may name options, never a password here).
fn without_query(url: &str) -> &str {
    url.split_once('?').map_or(url, |(before, _)| before)
}

/// Runs `sql` on the test database from a thread and runtime of its own, so that it can be
/// called from a `Drop` or a synchronous test inside any runtime.
pub fn run_on_the_side(sql: String) -> Result<(), String> {
    let ran = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&base_url(), NoTls).await.map_err(|e| e.to_string())?;
            tokio::spawn(connection);
            client.batch_execute(&sql).await.map_err(|e| e.to_string())
        })
    });
    ran.join().unwrap_or_else(|_| Err("the thread running the SQL panicked".into()))
}
