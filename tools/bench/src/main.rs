//! `heard-bench`: Heard's benchmarks, kept out of the product so that the `heard` binary links
//! no PostgreSQL client, HTTP client or scratch-directory crate. Each command measures and
//! prints figures (a JSON summary line at the end); none asserts anything. `BENCHMARKS.md`
//! holds the commands, the machine and the results.
//!
//! - [`store`]: `append`, `replay`, `rebuild`: the event store's write, read and rebuild rates.
//! - [`pg_append`]: `pg-append`: appends on PostgreSQL beside the segment log and a naive
//!   `INSERT` committed per event, for several writer counts (issue #19).
//! - [`open`]: `open`: how long the event store takes to open, with its index snapshot and without.
//! - [`feedback`]: `search` (tantivy against PostgreSQL full-text search, on a corpus made of
//!   the demo's sentences) and `log-feedback` (logging feedback over HTTP to a server started
//!   in process).
//! - [`scale`]: `scale`, a store of N events of every kind built through the services'
//!   commands, then served by the real `heard` binary: time to ready, resident memory, query
//!   latencies and the `logFeedback` rate (issue #17).
//! - [`replicas`]: `replicas`, that store copied into PostgreSQL and served by two real `heard`
//!   replicas under scale's query mix: throughput of each and the replication lag (issue #19).
//! - [`federation`]: `federation`, that store in PostgreSQL served by the single process and by
//!   Hive Gateway over the six services as subgraphs, under scale's query mix (issue #20).

mod federation;
mod feedback;
mod import;
mod open;
mod pg_append;
mod replicas;
mod scale;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use heard_eventstore::BackendKind;

#[derive(Debug, Parser)]
#[command(name = "heard-bench", version, about = "Measure Heard. Prints figures; asserts nothing.")]
struct Cli {
    #[command(subcommand)]
    bench: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// W concurrent writers append N events in total; ends with a JSON summary line.
    Append {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 1)]
        writers: usize,
        #[arg(long, default_value_t = 10_000)]
        events: u64,
        /// Bytes of payload per event.
        #[arg(long, default_value_t = 1024)]
        size: usize,
        /// Print `ack <stream> <revision> <position>` after each acknowledged append.
        #[arg(long)]
        print_acks: bool,
        /// `segments` (default) or `sled`.
        #[arg(long, default_value = "segments")]
        backend: BackendKind,
        /// Seal a personal field in every event under a new person's key (as logging feedback
        /// does), so every append also creates a key.
        #[arg(long)]
        personal: bool,
    },
    /// Appends on PostgreSQL, side by side with the embedded segment log and with one plain
    /// `INSERT` committed per event (`synchronous_commit = on`), for each writer count: every
    /// run on a fresh schema or data directory; medians of --runs. Ends with a JSON summary.
    PgAppend {
        /// The PostgreSQL database (`postgres://…`); each run works in a schema of its own.
        #[arg(long, default_value = pg_append::DEFAULT_URL)]
        url: String,
        /// Writer counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "1,8,64")]
        writers: Vec<usize>,
        /// Events per run.
        #[arg(long, default_value_t = 5000)]
        events: u64,
        /// Bytes of payload per event.
        #[arg(long, default_value_t = 1024)]
        size: usize,
        /// Runs of each kind and writer count.
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Where the segment log's scratch data directories go (default: a temporary directory).
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Read the whole log ($all), raw and decoded.
    Replay {
        #[arg(long)]
        data: PathBuf,
    },
    /// Rebuild a sled projection from the whole log.
    Rebuild {
        #[arg(long)]
        data: PathBuf,
    },
    /// Open and close the store R times by a full scan of the segment log (its index snapshot
    /// removed), and R times from the snapshot the close wrote; medians of both.
    Open {
        #[arg(long)]
        data: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Index N synthetic feedback items in tantivy and in PostgreSQL full-text search, and time
    /// the same queries (word, phrase, fuzzy, filter+facet) as a commissioner on both.
    Search {
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// PostgreSQL to compare against (`key=value …` or a URL); trust or password in it.
        #[arg(long, default_value = feedback::DEFAULT_PG)]
        pg: String,
        /// Queries timed per kind.
        #[arg(long, default_value_t = 200)]
        queries: usize,
        /// Seed of the synthetic corpus.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// C concurrent HTTP clients log N feedback items through `logFeedback` on a server started
    /// in process on a fresh temporary data directory.
    LogFeedback {
        #[arg(long, default_value_t = 32)]
        clients: usize,
        #[arg(long, default_value_t = 5000)]
        items: u64,
        /// Log into a fresh schema of the PostgreSQL database at this `postgres://` URL (dropped
        /// afterwards) instead of the embedded segment log.
        #[arg(long)]
        store_url: Option<String>,
    },
    /// A hub's spreadsheet of R rows as CSV (UTF-8 and Windows-1252), .xlsx and .ods, each read
    /// as an upload's preview reads it; then the workbook imported in the background on a
    /// server in process, and imported again.
    Import {
        #[arg(long, default_value_t = 20_000)]
        rows: usize,
        /// Readings of each file timed.
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Build (or reuse) a store of N events of every kind, serve a copy of it with the real
    /// `heard` binary, and report the time to ready, resident memory, the p50/p99 of a query
    /// mix and the `logFeedback` rate.
    Scale {
        #[arg(long, default_value_t = 100_000)]
        events: u64,
        /// Where to build the store, or a store this command built before with the same
        /// --events and --seed, which is reused. A temporary directory when not given.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Keep the temporary store (without --data) and print where it is.
        #[arg(long)]
        keep: bool,
        /// Seed of the content.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// GraphQL queries in the mix.
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        /// Stop the query mix after this many seconds, whatever has run.
        #[arg(long, default_value_t = 600)]
        query_budget_seconds: u64,
        /// Concurrent clients logging feedback at the end.
        #[arg(long, default_value_t = 32)]
        log_clients: usize,
        /// Seconds of logging feedback.
        #[arg(long, default_value_t = 5)]
        log_seconds: u64,
        /// The `heard` binary to serve with; by default the one beside heard-bench.
        #[arg(long)]
        heard: Option<PathBuf>,
    },
    /// Build (or reuse) the store of `scale`, copy it into a fresh PostgreSQL schema, serve it
    /// with two real `heard` replicas A and B, run scale's query mix on both while feedback is
    /// logged on A, and report each replica's requests/s, p50/p99 per operation, errors, and
    /// how long B took to answer each item A acknowledged (replication lag p50/p99/max).
    Replicas {
        #[arg(long, default_value_t = 20_000)]
        events: u64,
        /// Where to build the store, or a store `scale` or this command built before with the
        /// same --events and --seed, which is reused. A temporary directory when not given.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seed of the content.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds of the mixed workload.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Clients running the query mix, half on each replica (2: one query at a time on
        /// each, as `scale` asks its one server).
        #[arg(long, default_value_t = 2)]
        clients: usize,
        /// Feedback items logged on A a second, each followed on B.
        #[arg(long, default_value_t = 10.0)]
        log_rate: f64,
        /// The PostgreSQL database (`postgres://…`); the run works in a schema of its own,
        /// dropped at the end.
        #[arg(long, default_value = replicas::DEFAULT_PG_URL)]
        pg_url: String,
        /// The `heard` binary to serve with; by default the one beside heard-bench.
        #[arg(long)]
        heard: Option<PathBuf>,
    },
    /// Build (or reuse) the store of `scale`, copy it into a fresh PostgreSQL schema, serve it
    /// with the single `heard serve` process and with the six `heard serve --service NAME`
    /// subgraphs behind Hive Gateway, run scale's query mix on the one and then the other, and
    /// report requests/s, p50/p99 per operation and overall, errors, and gateway/single ratios.
    /// Needs Node 20+ and `npm ci --ignore-scripts` in ops/federation.
    Federation {
        #[arg(long, default_value_t = 20_000)]
        events: u64,
        /// Where to build the store, or a store `scale`, `replicas` or this command built before
        /// with the same --events and --seed, which is reused. A temporary directory when not given.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Seed of the content.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Seconds of the query mix on each of the two targets.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Clients running the query mix at once, each one query at a time.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// The PostgreSQL database (`postgres://…`); the run works in a schema of its own,
        /// dropped at the end.
        #[arg(long, default_value = federation::DEFAULT_PG_URL)]
        pg_url: String,
        /// The `heard` binary to serve with; by default the one beside heard-bench.
        #[arg(long)]
        heard: Option<PathBuf>,
        /// Heard's ops/federation, with node_modules installed; by default the workspace's.
        #[arg(long)]
        federation_dir: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("heard-bench: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.bench)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("heard-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(bench: BenchCommand) -> anyhow::Result<serde_json::Value> {
    match bench {
        BenchCommand::Append { data, writers, events, size, print_acks, backend, personal } => {
            store::append(&data, store::AppendOptions { writers, events, size, print_acks, backend, personal }).await
        }
        BenchCommand::PgAppend { url, writers, events, size, runs, data } => {
            pg_append::pg_append(pg_append::PgAppendOptions { url, writers, events, size, runs, data }).await
        }
        BenchCommand::Replay { data } => store::replay(&data).await,
        BenchCommand::Rebuild { data } => store::rebuild(&data).await,
        BenchCommand::Open { data, runs } => open::open(&data, runs).await,
        BenchCommand::Search { items, pg, queries, seed } => {
            feedback::search(feedback::SearchOptions { items, pg, queries, seed }).await
        }
        BenchCommand::LogFeedback { clients, items, store_url } => {
            feedback::log_feedback(clients, items, store_url.as_deref()).await
        }
        BenchCommand::Import { rows, runs } => import::import(rows, runs).await,
        BenchCommand::Scale {
            events,
            data,
            keep,
            seed,
            queries,
            query_budget_seconds,
            log_clients,
            log_seconds,
            heard,
        } => {
            let options = scale::ScaleOptions {
                events,
                data,
                keep,
                seed,
                queries,
                query_budget_seconds,
                log_clients,
                log_seconds,
                heard,
            };
            scale::scale(options).await
        }
        BenchCommand::Replicas { events, data, seed, seconds, clients, log_rate, pg_url, heard } => {
            let options = replicas::ReplicasOptions { events, data, seed, seconds, clients, log_rate, pg_url, heard };
            replicas::replicas(options).await
        }
        BenchCommand::Federation { events, data, seed, seconds, clients, pg_url, heard, federation_dir } => {
            let options =
                federation::FederationOptions { events, data, seed, seconds, clients, pg_url, heard, federation_dir };
            federation::federation(options).await
        }
    }
}
