//! `heard-bench pg-append`: appends to Heard's PostgreSQL backend, side by side in one run with
//! the embedded segment log on the same machine and with the naive baseline, one `INSERT` into
//! a plain table committed on its own per event (`synchronous_commit = on`), for each writer
//! count. Every run starts from an empty log: a fresh schema (dropped afterwards) or a fresh
//! data directory. Figures, never assertions; see `BENCHMARKS.md`.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use heard_eventstore::{BackendKind, EventStore, Upcasters};
use serde_json::json;
use tokio_postgres::NoTls;

use crate::store::{AppendOptions, Appended, append_to, percentile, round};

/// The PostgreSQL the benchmark runs in by default (the test server; trust auth).
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Options of `heard-bench pg-append`.
#[derive(Clone, Debug)]
pub struct PgAppendOptions {
    /// A `postgres://` URL; each run works in a schema of its own in that database.
    pub url: String,
    pub writers: Vec<usize>,
    /// Events per run.
    pub events: u64,
    pub size: usize,
    /// Runs of each kind and writer count; the summary gives medians.
    pub runs: usize,
    /// Where the segment log's scratch data directories go (a temporary directory by default).
    pub data: Option<PathBuf>,
}

/// The three ways of appending compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Segments,
    Postgres,
    Naive,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Segments => "heard segments",
            Kind::Postgres => "heard postgres",
            Kind::Naive => "naive INSERT+COMMIT",
        }
    }
}

/// One run's figures.
#[derive(Clone, Debug)]
struct Figures {
    events_per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    events_per_commit: f64,
}

pub async fn pg_append(options: PgAppendOptions) -> anyhow::Result<serde_json::Value> {
    anyhow::ensure!(
        options.url.starts_with("postgres://") || options.url.starts_with("postgresql://"),
        "--url must be a postgres:// URL"
    );
    anyhow::ensure!(
        !options.writers.is_empty() && options.writers.iter().all(|w| *w >= 1),
        "--writers: each at least 1"
    );
    anyhow::ensure!(options.events >= 1, "--events must be at least 1");
    anyhow::ensure!(options.runs >= 1, "--runs must be at least 1");
    let server = server_settings(&options.url).await?;
    eprintln!("PostgreSQL: {server}");
    let scratch = match &options.data {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            tempfile::tempdir_in(dir)?
        }
        None => tempfile::tempdir()?,
    };
    let mut rows = Vec::new();
    eprintln!("{:<22} {:>7} {:>10} {:>8} {:>8} {:>9}", "kind", "writers", "events/s", "p50 ms", "p99 ms", "ev/commit");
    for &writers in &options.writers {
        let mut medians = Vec::new();
        for kind in [Kind::Segments, Kind::Postgres, Kind::Naive] {
            let mut runs = Vec::new();
            for run in 0..options.runs {
                let figures = match kind {
                    Kind::Segments => {
                        let data = scratch.path().join(format!("segments-{writers}-{run}"));
                        let store = EventStore::open_embedded(&data, BackendKind::Segments, Upcasters::new())?;
                        let figures = heard_run(&store, &options, writers).await?;
                        store.close().await?;
                        drop(store);
                        std::fs::remove_dir_all(&data)?;
                        figures
                    }
                    Kind::Postgres => {
                        let schema = Schema::create(&options.url).await?;
                        let store = EventStore::open_postgres(&schema.url, Upcasters::new()).await?;
                        let figures = heard_run(&store, &options, writers).await;
                        store.close().await?;
                        drop(store);
                        schema.drop().await?;
                        figures?
                    }
                    Kind::Naive => {
                        let schema = Schema::create(&options.url).await?;
                        let figures = naive_run(&schema.url, &options, writers).await;
                        schema.drop().await?;
                        figures?
                    }
                };
                runs.push(figures);
            }
            let median = median_of(&runs);
            eprintln!(
                "{:<22} {:>7} {:>10.0} {:>8.2} {:>8.2} {:>9.1}",
                kind.name(),
                writers,
                median.events_per_sec,
                median.p50_ms,
                median.p99_ms,
                median.events_per_commit
            );
            medians.push((kind, median, runs));
        }
        let rate =
            |wanted: Kind| medians.iter().find(|(kind, ..)| *kind == wanted).map_or(0.0, |(_, m, _)| m.events_per_sec);
        let naive = rate(Kind::Naive);
        for (kind, median, runs) in medians.iter() {
            rows.push(json!({
                "kind": kind.name(),
                "writers": writers,
                "events_per_sec": round(median.events_per_sec),
                "p50_ms": round(median.p50_ms),
                "p99_ms": round(median.p99_ms),
                "events_per_commit": round(median.events_per_commit),
                "ratio_to_naive": round(median.events_per_sec / naive),
                "runs_events_per_sec": runs.iter().map(|r| round(r.events_per_sec)).collect::<Vec<_>>(),
            }));
        }
    }
    Ok(json!({
        "events_per_run": options.events,
        "size": options.size,
        "runs": options.runs,
        "postgres": server,
        "rows": rows,
    }))
}

async fn heard_run(store: &EventStore, options: &PgAppendOptions, writers: usize) -> anyhow::Result<Figures> {
    let append = AppendOptions {
        writers,
        events: options.events,
        size: options.size,
        print_acks: false,
        backend: BackendKind::Segments,
        personal: false,
    };
    let Appended { seconds, latencies, commits } = append_to(store, &append).await?;
    Ok(Figures {
        events_per_sec: options.events as f64 / seconds,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        events_per_commit: options.events as f64 / commits.max(1) as f64,
    })
}

/// W connections, each inserting its share of the events one `INSERT` at a time, each
/// committed on its own (autocommit) with `synchronous_commit = on`.
async fn naive_run(url: &str, options: &PgAppendOptions, writers: usize) -> anyhow::Result<Figures> {
    let setup = connect(url).await?;
    setup
        .batch_execute(
            "CREATE TABLE naive_events (
                 id bigserial PRIMARY KEY,
                 stream text NOT NULL,
                 body bytea NOT NULL
             )",
        )
        .await?;
    let payload = Arc::new(vec![b'x'; options.size]);
    let mut clients = Vec::new();
    for _ in 0..writers {
        let client = connect(url).await?;
        client.batch_execute("SET synchronous_commit = on").await?;
        clients.push(client);
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (writer, client) in clients.into_iter().enumerate() {
        let share = options.events / writers as u64 + u64::from((writer as u64) < options.events % writers as u64);
        let payload = payload.clone();
        tasks.push(tokio::spawn(async move {
            let insert = client.prepare("INSERT INTO naive_events (stream, body) VALUES ($1, $2)").await?;
            let stream = format!("naive-w{writer}");
            let mut mine = Vec::with_capacity(share as usize);
            for _ in 0..share {
                let sent = Instant::now();
                client.execute(&insert, &[&stream, payload.as_ref()]).await?;
                mine.push(sent.elapsed());
            }
            anyhow::Ok(mine)
        }));
    }
    let mut latencies: Vec<Duration> = Vec::with_capacity(options.events as usize);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    let inserted: i64 = setup.query_one("SELECT count(*) FROM naive_events", &[]).await?.get(0);
    anyhow::ensure!(inserted as u64 == options.events, "the naive table holds {inserted} rows, not {}", options.events);
    Ok(Figures {
        events_per_sec: options.events as f64 / seconds,
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        events_per_commit: 1.0,
    })
}

/// The median run by rate, with that run's latencies.
fn median_of(runs: &[Figures]) -> Figures {
    let mut sorted = runs.to_vec();
    sorted.sort_by(|a, b| a.events_per_sec.total_cmp(&b.events_per_sec));
    sorted[sorted.len() / 2].clone()
}

async fn connect(url: &str) -> anyhow::Result<tokio_postgres::Client> {
    connect_as(url, "--url").await
}

/// A connection to `url`, which the command's option `flag` gave.
pub(crate) async fn connect_as(url: &str, flag: &str) -> anyhow::Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|error| anyhow::anyhow!("cannot connect to PostgreSQL at {flag}: {error}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// The server's version and the settings that decide what a commit costs.
async fn server_settings(url: &str) -> anyhow::Result<serde_json::Value> {
    let client = connect(url).await?;
    let rows = client
        .query(
            "SELECT name, setting FROM pg_settings WHERE name IN
             ('server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'commit_delay', 'shared_buffers')
             ORDER BY name",
            &[],
        )
        .await?;
    let settings: serde_json::Map<String, serde_json::Value> =
        rows.iter().map(|row| (row.get::<_, String>(0), json!(row.get::<_, String>(1)))).collect();
    Ok(serde_json::Value::Object(settings))
}

/// A schema of one run's own (`heard_bench_…`) in the database at `--url`.
pub(crate) struct Schema {
    base: String,
    pub(crate) name: String,
    /// `base` with `options=-c search_path=` this schema.
    pub(crate) url: String,
}

impl Schema {
    async fn create(base: &str) -> anyhow::Result<Schema> {
        Schema::create_as(base, "--url").await
    }

    /// Creates the schema in the database at `base`, which the command's option `flag` gave.
    pub(crate) async fn create_as(base: &str, flag: &str) -> anyhow::Result<Schema> {
        let name = format!("heard_bench_{}", uuid::Uuid::new_v4().simple());
        connect_as(base, flag).await?.batch_execute(&format!("CREATE SCHEMA {name}")).await?;
        let join = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{join}options=-c%20search_path%3D{name}");
        Ok(Schema { base: base.to_owned(), name, url })
    }

    /// Reads of each of the schema's tables so far (sequential and index scans), by table:
    /// how many round trips a workload cost the database, whatever the machine's speed.
    pub(crate) async fn reads_by_table(&self) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
        let client = connect(&self.base).await?;
        // Statistics reach the shared view when a session ends or within a second.
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        let rows = client
            .query(
                "SELECT relname::text, (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::bigint
                 FROM pg_stat_user_tables WHERE schemaname = $1 ORDER BY relname",
                &[&self.name],
            )
            .await?;
        Ok(rows.iter().map(|row| (row.get::<_, String>(0), json!(row.get::<_, i64>(1)))).collect())
    }

    pub(crate) async fn drop(self) -> anyhow::Result<()> {
        connect(&self.base).await?.batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn bench_schemas(client: &tokio_postgres::Client) -> i64 {
        let row = client
            .query_one("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'heard\\_bench\\_%'", &[])
            .await
            .unwrap();
        row.get(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pg_append_compares_all_three_for_each_writer_count_and_leaves_no_schema_behind() {
        let client = connect(DEFAULT_URL).await.expect("PostgreSQL at 127.0.0.1:5432 (scripts/test starts it)");
        let before = bench_schemas(&client).await;
        let options =
            PgAppendOptions { url: DEFAULT_URL.into(), writers: vec![1, 3], events: 20, size: 64, runs: 1, data: None };
        let summary = pg_append(options).await.unwrap();
        let rows = summary["rows"].as_array().unwrap();
        let seen: Vec<(String, u64)> = rows
            .iter()
            .map(|row| (row["kind"].as_str().unwrap().to_owned(), row["writers"].as_u64().unwrap()))
            .collect();
        let mut wanted = Vec::new();
        for writers in [1, 3] {
            for kind in [Kind::Segments, Kind::Postgres, Kind::Naive] {
                wanted.push((kind.name().to_owned(), writers));
            }
        }
        assert_eq!(seen, wanted);
        for row in rows {
            assert!(row["events_per_sec"].as_f64().unwrap() > 0.0, "{row}");
            assert!(row["p99_ms"].as_f64().unwrap() >= row["p50_ms"].as_f64().unwrap(), "{row}");
        }
        let naive = rows.iter().find(|row| row["kind"] == Kind::Naive.name()).unwrap();
        assert_eq!(naive["ratio_to_naive"], 1.0);
        assert!(summary["postgres"]["synchronous_commit"].is_string(), "the server's settings are reported: {summary}");
        assert_eq!(bench_schemas(&client).await, before, "every run's schema is dropped");
        let refused = PgAppendOptions { writers: vec![0], ..tiny() };
        assert!(pg_append(refused).await.unwrap_err().to_string().contains("--writers"));
        let refused = PgAppendOptions { url: "host=127.0.0.1".into(), ..tiny() };
        assert!(pg_append(refused).await.unwrap_err().to_string().contains("--url"));
    }

    fn tiny() -> PgAppendOptions {
        PgAppendOptions { url: DEFAULT_URL.into(), writers: vec![1], events: 1, size: 1, runs: 1, data: None }
    }
}
