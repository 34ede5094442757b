//! `heard-bench import`: a hub's year of feedback as the spreadsheets hubs keep (CSV, the same
//! rows saved by Excel on Windows, an Excel workbook and an OpenDocument spreadsheet), read as
//! an upload's preview reads them, then the workbook imported in the background on a server
//! started in process, and imported again (every row already there). Figures, never assertions;
//! see `BENCHMARKS.md`.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use heard::config::Settings;
use heard_access::Role;
use heard_feedback::import::{self, Known, Options};
use heard_feedback::imports::{JobState, Which};
use heard_testsheets::Cell;
use serde_json::{Value, json};

const HEADINGS: [&str; 8] =
    ["Date said", "Where", "Service", "What was said", "Theme", "Who said it", "Who may see it", "Notes"];
const CHANNELS: [&str; 6] = ["Drop-in", "Forum", "One to one", "Phone", "Survey", "Online"];
const THEMES: [&str; 4] = ["Women", "Opening hours", "", "Access and waiting times"];
const SPEAKERS: [&str; 3] = ["Anonymous", "Named", "Pseudonymous"];
const CONSENTS: [&str; 3] = ["Hub", "Commissioners", "Public"];

/// One row of the hub's sheet: its day and its other cells as text.
struct Row {
    day: jiff::civil::Date,
    cells: [String; 7],
}

fn rows(n: usize) -> Vec<Row> {
    let texts: Vec<String> = heard_demo::feedback::generate(7, jiff::civil::date(2026, 11, 23))
        .items
        .into_iter()
        .filter(|item| !item.safeguarding)
        .map(|item| item.item.text)
        .collect();
    let start = jiff::civil::date(2025, 1, 1);
    (0..n)
        .map(|i| Row {
            day: start.checked_add(jiff::Span::new().days((i % 330) as i64)).expect("a day in 2025"),
            cells: [
                CHANNELS[i % CHANNELS.len()].to_owned(),
                if i % 3 == 0 { "Turning Point".to_owned() } else { String::new() },
                // Every row different, as a year of real feedback is.
                format!("{} (point {i})", texts[i % texts.len()]),
                THEMES[i % THEMES.len()].to_owned(),
                SPEAKERS[i % SPEAKERS.len()].to_owned(),
                CONSENTS[i % CONSENTS.len()].to_owned(),
                if i % 5 == 0 { "follow up".to_owned() } else { String::new() },
            ],
        })
        .collect()
}

fn csv_text(rows: &[Row]) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(HEADINGS).expect("in memory");
    for row in rows {
        let day = format!("{:02}/{:02}/{}", row.day.day(), row.day.month(), row.day.year());
        writer
            .write_record(std::iter::once(day.as_str()).chain(row.cells.iter().map(String::as_str)))
            .expect("in memory");
    }
    String::from_utf8(writer.into_inner().expect("in memory")).expect("UTF-8")
}

fn workbook_rows(rows: &[Row]) -> Vec<Vec<Cell<'_>>> {
    let mut sheet = vec![HEADINGS.map(Cell::Text).to_vec()];
    for row in rows {
        let mut cells = vec![Cell::Date(row.day.year(), row.day.month(), row.day.day())];
        cells.extend(row.cells.iter().map(|cell| Cell::Text(cell)));
        sheet.push(cells);
    }
    sheet
}

fn median(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples[samples.len() / 2].as_secs_f64() * 1000.0
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Reads and imports `n` rows; each format is read `runs` times.
pub async fn import(n: usize, runs: usize) -> anyhow::Result<Value> {
    anyhow::ensure!(n >= 1 && runs >= 1, "--rows and --runs must be at least 1");
    let dir = tempfile::tempdir().context("cannot make a temporary data directory")?;
    let settings = Settings { data_dir: dir.path().to_owned(), listen: "127.0.0.1:0".into(), ..Settings::default() };
    let server = heard::server::start(&settings).await?;
    let feedback = server.services.feedback.clone();
    let account = heard_identity::NewAccount {
        email: "arun.import@example.org".into(),
        display_name: "Arun coordinator".into(),
        roles: vec![Role::HubCoordinator],
        hubs: vec!["arun".into()],
        provider: None,
        password: Some("a long bench passphrase".into()),
    };
    let (account, _) =
        server.services.identity.create_account(None, account).await.map_err(|e| anyhow::anyhow!(e.message()))?;

    let rows = rows(n);
    let text = csv_text(&rows);
    let sheet = workbook_rows(&rows);
    let files = [
        ("csv_utf8", text.clone().into_bytes()),
        ("csv_windows_1252", heard_testsheets::windows_1252(&text)),
        ("xlsx", heard_testsheets::xlsx(&[("Feedback", sheet.clone())])),
        ("ods", heard_testsheets::ods(&[("Feedback", sheet)])),
    ];

    let (providers, vocabulary) = feedback.read(|state| {
        let providers: Vec<(String, String)> =
            state.reference.providers.iter().map(|(id, name)| (id.clone(), name.clone())).collect();
        (providers, state.vocabulary.clone())
    });
    let known =
        Known { hub: "arun", providers: &providers, vocabulary: &vocabulary, today: jiff::civil::date(2026, 1, 1) };
    let options = Options { max_bytes: usize::MAX, ..Options::default() };
    let mut reading = serde_json::Map::new();
    let mut csv_ms = 0.0;
    for (kind, bytes) in &files {
        let mut samples = Vec::with_capacity(runs);
        for _ in 0..runs {
            let started = Instant::now();
            let read = import::read(bytes, options, known).map_err(|error| anyhow::anyhow!("{kind}: {error}"))?;
            samples.push(started.elapsed());
            anyhow::ensure!(
                read.parsed.rows.len() == n,
                "{kind}: {} rows of {n}: {:?}",
                read.parsed.rows.len(),
                read.parsed.errors.first()
            );
        }
        let ms = median(samples);
        if *kind == "csv_utf8" {
            csv_ms = ms;
        }
        reading.insert(
            (*kind).into(),
            json!({ "bytes": bytes.len(), "median_ms": round(ms), "ratio_to_csv": round(ms / csv_ms.max(f64::MIN_POSITIVE)) }),
        );
    }

    // The workbook as an upload: read once more as the preview does, then imported in the
    // background, then the same file again.
    let xlsx = files[2].1.clone();
    let commits_before = server.store.stats().commits;
    let mut imports = Vec::new();
    for pass in ["first", "again"] {
        let started = Instant::now();
        let preview = feedback
            .upload_import(account.id, "arun".into(), "year.xlsx".into(), xlsx.clone(), None, Vec::new())
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        let previewed = started.elapsed();
        feedback
            .start_import(account.id, preview.id, Which::GoodRows)
            .await
            .map_err(|e| anyhow::anyhow!(e.message()))?;
        let job = loop {
            let job = feedback
                .import_job(account.id, preview.id)
                .await
                .map_err(|e| anyhow::anyhow!(e.message()))?
                .context("the job is kept")?;
            if job.state != JobState::Running {
                break job;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        anyhow::ensure!(job.state == JobState::Finished, "the import stopped: {:?}", job.message);
        let seconds = started.elapsed().as_secs_f64();
        imports.push(json!({
            "pass": pass,
            "preview_ms": round(previewed.as_secs_f64() * 1000.0),
            "seconds": round(seconds),
            "rows_per_sec": round(n as f64 / seconds),
            "imported": job.imported,
            "already_there": job.already_there,
        }));
    }
    let commits = server.store.stats().commits - commits_before;
    server.shutdown().await?;
    let (sequential, batched) = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        move || crate::store::raw_fsync_rates(&dir)
    })
    .await??;
    Ok(json!({
        "rows": n,
        "runs": runs,
        "reading": reading,
        "imports": imports,
        "log_commits_first_import": commits,
        "raw_fsync_sequential_per_sec": round(sequential),
        "raw_fsync_batch64_events_per_sec": round(batched),
    }))
}
