//! The command line: `heard serve | verify | export | bench`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use heard_eventstore::{BackendKind, EventStore, Personal, Upcasters, verify_chain};
use serde_json::json;

use crate::bench;
use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "heard", version, about = "Heard: service-user involvement and advocacy, kept as an event log")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web UI, GraphQL, health and metrics.
    Serve {
        /// Data directory (overrides the config file and HEARD_DATA_DIR).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Address to listen on, e.g. 127.0.0.1:8080 (overrides HEARD_LISTEN).
        #[arg(long)]
        listen: Option<String>,
        /// A TOML config file (see ops/heard.example.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Walk the hash chain of the event log and report the first break.
    Verify {
        #[arg(long)]
        data: PathBuf,
        /// Verify only up to this global position (as quoted by a report).
        #[arg(long)]
        at: Option<u64>,
    },
    /// Print every event in global order as NDJSON, personal fields still encrypted.
    Export {
        #[arg(long)]
        data: PathBuf,
    },
    /// Measure the store. Prints figures; asserts nothing.
    Bench {
        #[command(subcommand)]
        bench: BenchCommand,
    },
    /// Print the composed GraphQL schema (SDL).
    Schema,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
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
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("heard: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("heard: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve { data, listen, config } => {
            let mut settings = Settings::load(config.as_deref(), std::env::vars())?;
            if let Some(data) = data {
                settings.data_dir = data;
            }
            if let Some(listen) = listen {
                settings.listen = listen;
            }
            settings.validate().map_err(anyhow::Error::msg)?;
            crate::telemetry::init(&settings.log);
            serve(settings).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { data, at } => {
            let store = open_existing(&data)?;
            let report = verify_chain(&store, at).await?;
            store.close().await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(if report.ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Export { data } => {
            let store = open_existing(&data)?;
            export(&store).await?;
            store.close().await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench { bench } => {
            let summary = match bench {
                BenchCommand::Append { data, writers, events, size, print_acks, backend } => {
                    bench::append(&data, bench::AppendOptions { writers, events, size, print_acks, backend }).await?
                }
                BenchCommand::Replay { data } => bench::replay(&data).await?,
                BenchCommand::Rebuild { data } => bench::rebuild(&data).await?,
            };
            println!("{summary}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Opens a data directory that must already hold a log (verify and export never create one).
pub fn open_existing(data: &std::path::Path) -> anyhow::Result<EventStore> {
    let Some(kind) = BackendKind::detect(data) else {
        anyhow::bail!("{} holds no Heard event log", data.display());
    };
    Ok(EventStore::open_embedded(data, kind, Upcasters::new())?)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let server = crate::server::start(&settings).await?;
    println!("Heard is running at http://{}/  (GraphQL: http://{}/graphql)", server.addr, server.addr);
    wait_for_shutdown_signal().await;
    tracing::info!("shutting down");
    server.shutdown().await
}

async fn wait_for_shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Writes the backup format: one JSON object per event, in global order.
async fn export(store: &EventStore) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut from = 1;
    loop {
        let page = store.read_all_raw(from, 4096).await?;
        let Some(last) = page.last() else { break };
        from = last.position + 1;
        for event in page {
            let personal = match &event.personal {
                Personal::Sealed(sealed) => json!({
                    "subject": sealed.subject,
                    "nonce": hex::encode(sealed.nonce),
                    "ciphertext": hex::encode(&sealed.ciphertext),
                }),
                _ => serde_json::Value::Null,
            };
            let line = json!({
                "position": event.position,
                "stream": event.stream.as_str(),
                "revision": event.revision,
                "id": event.id,
                "type": event.event_type,
                "version": event.schema_version,
                "recorded_at_micros": event.recorded_at_micros,
                "prev_hash": hex::encode(event.prev_hash),
                "hash": hex::encode(event.hash),
                "metadata": event.metadata_json()?,
                "data": event.data_json()?,
                "personal": personal,
            });
            serde_json::to_writer(&mut out, &line)?;
            out.write_all(b"\n")?;
        }
    }
    out.flush()?;
    Ok(())
}
