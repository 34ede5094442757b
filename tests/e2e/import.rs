//! Importing a hub's spreadsheet: `heard import feedback` with the real binary against a real
//! data directory, and the upload, preview and background import through GraphQL while Heard
//! runs; each then looked at the way a hub coordinator would.

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use heard_access::Role;
use heard_tests::{heard_binary, spawn_app, spawn_app_in};
use serde_json::{Value, json};
use tempfile::TempDir;

pub(crate) const HEADER: &str = "date,channel,about,text,themes,speaker,consent\n";

/// A data directory holding a seeded log (hubs, providers, themes) and no feedback.
async fn seeded_data_dir() -> TempDir {
    spawn_app().await.shutdown().await
}

/// Writes `bytes` as `name` in `dir` and returns its path.
fn spreadsheet(dir: &TempDir, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("the spreadsheet is written");
    path
}

/// Runs `heard import feedback --data DATA --hub HUB [extra…] FILE`.
fn import(data: &Path, hub: &str, file: &Path, extra: &[&str]) -> Output {
    Command::new(heard_binary())
        .args(["import", "feedback", "--data"])
        .arg(data)
        .args(["--hub", hub])
        .args(extra)
        .arg(file)
        .output()
        .expect("heard runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The one JSON line a successful import prints.
fn summary(output: &Output) -> Value {
    assert!(output.status.success(), "the import failed: {}", stderr(output));
    let stdout = String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8");
    assert_eq!(stdout.lines().count(), 1, "one line on stdout: {stdout}");
    serde_json::from_str(stdout.trim()).expect("the summary is JSON")
}

/// How many `FeedbackLogged` events the log holds, counted through `heard export`.
fn feedback_logged(data: &Path) -> usize {
    let mut child = Command::new(heard_binary())
        .args(["export", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("heard runs");
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut count = 0;
    for line in std::io::BufReader::new(stdout).lines() {
        if line.expect("export prints lines").contains(r#""type":"FeedbackLogged""#) {
            count += 1;
        }
    }
    let output = child.wait_with_output().expect("heard export ends");
    assert!(output.status.success(), "export failed: {}", stderr(&output));
    count
}

pub(crate) const ITEMS: &str = "query($hub: ID!) {
    feedbackItems(filter: {hub: $hub}, first: 100) {
        pageInfo { hasNextPage }
        edges { node { text about saidOn speaker themes { id } provider channel consent } }
    }
}";

/// Starts the server on `data`, logs in as a coordinator of `hub` and lists what they see,
/// sorted by text. Returns the directory so the test can go on using it.
async fn seen_by_coordinator(data: TempDir, hub: &str) -> (Vec<Value>, TempDir) {
    let app = spawn_app_in(data, |_| {}).await;
    app.create_user("c@example.org", &[Role::HubCoordinator], &[hub]).await;
    let session = app.login("c@example.org").await;
    let response = session.graphql(ITEMS, json!({ "hub": hub })).await;
    assert!(response["errors"].is_null(), "{response}");
    let connection = &response["data"]["feedbackItems"];
    assert_eq!(connection["pageInfo"]["hasNextPage"], false, "the test lists at most 100 items");
    let mut nodes: Vec<Value> =
        connection["edges"].as_array().expect("edges").iter().map(|edge| edge["node"].clone()).collect();
    nodes.iter_mut().for_each(sort_themes);
    nodes.sort_by_key(|node| node["text"].as_str().unwrap_or_default().to_owned());
    (nodes, app.shutdown().await)
}

/// A small CSV reader for the rejects file (quotes, doubled quotes, commas and newlines in
/// quoted cells), so the test reads it as a spreadsheet would rather than line by line.
pub(crate) fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[tokio::test]
async fn a_good_spreadsheet_from_excel_imports_every_row_and_the_hub_coordinator_then_sees_each_one_as_written() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(
        " Date,CHANNEL,About , Text,THEMES,Speaker,consent\r\n\
         2025-03-14,drop-in,Addaction,The doors are shut by four and I work till five,Opening hours; keyworker TIME,anonymous,hub\r\n\
         2025-04-01,Phone/SMS,  community PHARMACIES ,\"Supervised doses, every day, at the counter\",,Anon,Public\r\n\
         2025-05-20,one to one,the café on the high street,\"Line one\nline two – naïve café\",Peer support and mutual aid,anonymous,commissioners\r\n"
            .as_bytes(),
    );
    let file = spreadsheet(&files, "arun feedback.csv", bytes);

    let output = import(data.path(), "arun", &file, &[]);
    assert_eq!(summary(&output), json!({ "imported": 3, "already_there": 0, "rejected": 0 }));
    assert!(!files.path().join("arun feedback.rejects.csv").exists(), "no rejects file when nothing is rejected");

    let (items, _data) = seen_by_coordinator(data, "arun").await;
    assert_eq!(
        items,
        [
            json!({
                "text": "Line one\nline two – naïve café",
                "about": "the café on the high street",
                "saidOn": "2025-05-20",
                "speaker": "ANONYMOUS",
                "themes": [{ "id": "peer-support-and-mutual-aid" }],
                "provider": null,
                "channel": "ONE_TO_ONE",
                "consent": "COMMISSIONERS",
            }),
            json!({
                "text": "Supervised doses, every day, at the counter",
                "about": "community PHARMACIES",
                "saidOn": "2025-04-01",
                "speaker": "ANONYMOUS",
                "themes": [],
                "provider": "community-pharmacies",
                "channel": "PHONE",
                "consent": "PUBLIC",
            }),
            json!({
                "text": "The doors are shut by four and I work till five",
                "about": "Addaction",
                "saidOn": "2025-03-14",
                "speaker": "ANONYMOUS",
                "themes": [{ "id": "keyworker-time" }, { "id": "opening-hours" }],
                "provider": "addaction",
                "channel": "DROP_IN",
                "consent": "HUB",
            }),
        ]
        .map(|mut item| {
            // Theme order is not part of the promise; compare as sets.
            sort_themes(&mut item);
            item
        }),
        "{}",
        serde_json::to_string_pretty(&items).unwrap()
    );
}

/// Sorts an item's `themes` by id, in place.
fn sort_themes(item: &mut Value) {
    if let Some(themes) = item["themes"].as_array_mut() {
        themes.sort_by_key(|theme| theme["id"].as_str().unwrap_or_default().to_owned());
    }
}

#[tokio::test]
async fn importing_the_same_spreadsheet_twice_adds_nothing_the_second_time() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(
        &files,
        "feedback.csv",
        format!(
            "{HEADER}2025-03-01,forum,Addaction,Nobody rings back,Access and waiting times,anonymous,hub\n\
             2025-03-01,forum,,The group on Tuesdays keeps me going,Peer support and mutual aid,anonymous,public\n\
             2025-03-02,survey,,Opening at weekends would help,Opening hours,anonymous,commissioners\n"
        ),
    );
    let first = import(data.path(), "arun", &file, &[]);
    assert_eq!(summary(&first), json!({ "imported": 3, "already_there": 0, "rejected": 0 }));
    let second = import(data.path(), "arun", &file, &[]);
    assert_eq!(summary(&second), json!({ "imported": 0, "already_there": 3, "rejected": 0 }));
    assert_eq!(feedback_logged(data.path()), 3, "each row is in the log once");

    let (items, _data) = seen_by_coordinator(data, "arun").await;
    assert_eq!(items.len(), 3);
}

/// Three bad rows among good ones; the cells that are wrong are distinctive so the test can
/// tell whether a message repeats them.
const BAD_ROWS: &str = "2025-03-01,forum,,Zebediah said the waiting room is fine,Opening hours,anonymous,hub\n\
                        31/02/2025,forum,,Quentin waited six weeks for a first appointment,,anonymous,hub\n\
                        2025-03-03,drop-in,,Ophelia wants a women-only group,Parking spaces,anonymous,hub\n\
                        2025-03-04,carrier pigeon,,Barnaby never sees the same keyworker twice,Keyworker time,anonymous,hub\n\
                        2025-03-05,phone,,Wilhelmina liked the new peer mentor,Peer support and mutual aid,anonymous,public\n";

#[tokio::test]
async fn a_spreadsheet_with_bad_rows_imports_nothing_and_names_each_row_and_column_without_repeating_a_cell() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(&files, "feedback.csv", format!("{HEADER}{BAD_ROWS}"));

    let output = import(data.path(), "arun", &file, &[]);
    assert!(!output.status.success(), "an import with bad rows fails");
    assert!(output.stdout.is_empty(), "no summary line: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = stderr(&output);
    let path = file.display();
    for (row, column) in [(3, "date"), (4, "themes"), (5, "channel")] {
        assert!(stderr.contains(&format!("{path}: row {row}, {column}: ")), "row {row}, {column} in:\n{stderr}");
    }
    assert_eq!(stderr.matches(&format!("{path}: row ")).count(), 3, "one message per bad cell:\n{stderr}");
    assert!(stderr.contains("--skip-invalid"), "the way out is named:\n{stderr}");
    for cell in
        ["31/02/2025", "Parking spaces", "carrier pigeon", "Zebediah", "Quentin", "Ophelia", "Barnaby", "Wilhelmina"]
    {
        assert!(!stderr.to_lowercase().contains(&cell.to_lowercase()), "{cell:?} repeated in:\n{stderr}");
    }
    assert!(!files.path().join("feedback.rejects.csv").exists(), "rejects are only written with --skip-invalid");

    assert_eq!(feedback_logged(data.path()), 0, "not even the good rows were logged");
    let (items, _data) = seen_by_coordinator(data, "arun").await;
    assert_eq!(items, Vec::<Value>::new(), "the coordinator sees nothing");
}

#[tokio::test]
async fn skip_invalid_imports_the_good_rows_and_writes_exactly_the_bad_rows_with_an_error_column() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(&files, "feedback.csv", format!("{HEADER}{BAD_ROWS}"));

    let output = import(data.path(), "arun", &file, &["--skip-invalid"]);
    assert_eq!(summary(&output), json!({ "imported": 2, "already_there": 0, "rejected": 3 }));
    let rejects_path = files.path().join("feedback.rejects.csv");
    let stderr = stderr(&output);
    assert!(stderr.contains(&rejects_path.display().to_string()), "the rejects file is named:\n{stderr}");

    let rejects = std::fs::read_to_string(&rejects_path).expect("a rejects file beside the spreadsheet");
    assert!(!rejects.contains("Zebediah") && !rejects.contains("Wilhelmina"), "good rows stay out:\n{rejects}");
    let rejects = rejects.strip_prefix('\u{feff}').expect("a byte order mark, so that Excel opens it as UTF-8");
    let records = csv_records(rejects);
    assert_eq!(records[0], ["date", "channel", "about", "text", "themes", "speaker", "consent", "error"]);
    let bad: Vec<&str> = BAD_ROWS.lines().skip(1).take(3).collect();
    assert_eq!(records.len(), 1 + bad.len(), "the header and exactly the bad rows:\n{rejects}");
    for ((record, original), column) in records[1..].iter().zip(&bad).zip(["date", "themes", "channel"]) {
        assert_eq!(record[..7].join(","), *original, "the row as it was");
        assert!(record[7].contains(&format!(", {column}: ")), "{column} error for {original}: {:?}", record[7]);
    }

    let (items, _data) = seen_by_coordinator(data, "arun").await;
    let texts: Vec<&str> = items.iter().filter_map(|item| item["text"].as_str()).collect();
    assert_eq!(texts, ["Wilhelmina liked the new peer mentor", "Zebediah said the waiting room is fine"]);
}

#[tokio::test]
async fn a_fixed_rejects_file_imports_the_rows_it_held_and_nothing_twice() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(&files, "feedback.csv", format!("{HEADER}{BAD_ROWS}"));
    let rejects = files.path().join("to fix.csv");
    let output = import(data.path(), "arun", &file, &["--skip-invalid", "--rejects", rejects.to_str().unwrap()]);
    assert_eq!(summary(&output)["imported"], 2);
    assert!(!files.path().join("feedback.rejects.csv").exists(), "--rejects decides where they go");

    let fixed = std::fs::read_to_string(&rejects)
        .expect("the rejects file is where --rejects said")
        .replace("31/02/2025", "14/03/2025")
        .replace("Parking spaces", "Women")
        .replace("carrier pigeon", "phone");
    let fixed_file = spreadsheet(&files, "fixed.csv", fixed);
    let again = import(data.path(), "arun", &fixed_file, &[]);
    assert_eq!(summary(&again), json!({ "imported": 3, "already_there": 0, "rejected": 0 }));
    let once_more = import(data.path(), "arun", &fixed_file, &[]);
    assert_eq!(summary(&once_more), json!({ "imported": 0, "already_there": 3, "rejected": 0 }));
    assert_eq!(feedback_logged(data.path()), 5);
}

#[tokio::test]
async fn a_spreadsheet_excel_saved_in_windows_1252_is_imported_with_a_notice_and_its_pound_signs() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"2025-03-01,forum,,The waiting list is too long,,anonymous,hub\n");
    bytes.extend_from_slice(b"02/03/2025,forum,,\x93The caf\xe9 upstairs charges \xa32\x94,,anonymous,hub\n");
    let file = spreadsheet(&files, "windows.csv", bytes);

    let output = import(data.path(), "arun", &file, &[]);
    assert_eq!(summary(&output), json!({ "imported": 2, "already_there": 0, "rejected": 0 }));
    let stderr = stderr(&output);
    assert!(stderr.contains("Windows-1252"), "the encoding is said: {stderr}");
    assert!(!stderr.contains("upstairs"), "the cell is not repeated: {stderr}");
    let (items, _data) = seen_by_coordinator(data, "arun").await;
    let texts: Vec<&str> = items.iter().filter_map(|item| item["text"].as_str()).collect();
    assert!(texts.contains(&"\u{201c}The café upstairs charges £2\u{201d}"), "{texts:?}");
}

#[tokio::test]
async fn a_missing_column_is_named_and_nothing_is_imported() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(
        &files,
        "feedback.csv",
        "date,channel,about,themes,speaker,consent\n2025-03-01,forum,,,anonymous,hub\n",
    );
    let output = import(data.path(), "arun", &file, &[]);
    assert!(!output.status.success());
    let stderr = stderr(&output);
    assert!(stderr.contains("no column holds what was said"), "{stderr}");
    assert_eq!(feedback_logged(data.path()), 0);
}

#[tokio::test]
async fn a_column_heard_does_not_recognise_can_be_named_on_the_command_line() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(
        &files,
        "feedback.csv",
        "Date said,Where,Comment box,Who said it,Consent,Notes\n01/03/2025,Drop-in,Nobody rings back,Anonymous,Hub,call Tuesday\n",
    );
    let refused = import(data.path(), "arun", &file, &[]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains("--column"), "{}", stderr(&refused));
    let output = import(data.path(), "arun", &file, &["--column", "Comment box=text"]);
    assert_eq!(summary(&output), json!({ "imported": 1, "already_there": 0, "rejected": 0 }));
    let wrong = import(data.path(), "arun", &file, &["--column", "Comment box=words"]);
    assert!(stderr(&wrong).contains("--column: the column after = must be one of"), "{}", stderr(&wrong));
}

#[tokio::test]
async fn an_unknown_hub_is_refused_naming_the_hub_flag_and_the_hubs_there_are() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let file =
        spreadsheet(&files, "feedback.csv", format!("{HEADER}2025-03-01,forum,,Nobody rings back,,anonymous,hub\n"));
    let output = import(data.path(), "atlantis", &file, &[]);
    assert!(!output.status.success());
    let stderr = stderr(&output);
    assert!(stderr.contains("--hub"), "{stderr}");
    assert!(stderr.contains("arun") && stderr.contains("west-sussex-forum"), "the hubs are listed: {stderr}");
    assert_eq!(feedback_logged(data.path()), 0);

    let by_name = import(data.path(), "Adur & Worthing", &file, &[]);
    assert_eq!(summary(&by_name)["imported"], 1, "a hub may be named as people write it");
}

#[tokio::test]
async fn an_empty_spreadsheet_is_refused_as_having_no_rows() {
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.csv", &b""[..]),
        ("bom-only.csv", &b"\xEF\xBB\xBF\r\n"[..]),
        ("header-only.csv", HEADER.as_bytes()),
        ("blank-rows.csv", b"date,channel,about,text,themes,speaker,consent\n,,,,,,\n,,,,,,\n"),
    ] {
        let file = spreadsheet(&files, name, bytes);
        let output = import(data.path(), "arun", &file, &[]);
        assert!(!output.status.success(), "{name} is refused");
        let stderr = stderr(&output);
        assert!(stderr.contains("no rows"), "{name}: {stderr}");
    }
    assert_eq!(feedback_logged(data.path()), 0);
}

#[tokio::test]
async fn a_hundred_thousand_row_spreadsheet_imports_every_row() {
    const ROWS: usize = 100_000;
    let data = seeded_data_dir().await;
    let files = tempfile::tempdir().unwrap();
    let channels = ["forum", "drop-in", "one-to-one", "survey", "online", "phone"];
    let themes = ["Opening hours", "Keyworker time; Access and waiting times", "", "Peer support and mutual aid"];
    let abouts = ["Addaction", "Community pharmacies", "", "the GP"];
    let consents = ["hub", "commissioners", "public"];
    let mut text = String::with_capacity(ROWS * 130);
    text.push_str(HEADER);
    for n in 0..ROWS {
        text.push_str(&format!(
            "2025-{:02}-{:02},{},{},\"Point {n}: the service could do better, said visitor {}\",{},anonymous,{}\n",
            n % 12 + 1,
            n % 28 + 1,
            channels[n % channels.len()],
            abouts[n % abouts.len()],
            n * 7919 % 100_003,
            themes[n % themes.len()],
            consents[n % consents.len()],
        ));
    }
    let file = spreadsheet(&files, "a decade of forums.csv", text);

    let started = std::time::Instant::now();
    let output = import(data.path(), "arun", &file, &[]);
    eprintln!("importing {ROWS} rows took {:?}", started.elapsed());
    assert_eq!(summary(&output), json!({ "imported": ROWS, "already_there": 0, "rejected": 0 }));

    let started = std::time::Instant::now();
    assert_eq!(feedback_logged(data.path()), ROWS, "every row is in the log");
    eprintln!("exporting took {:?}", started.elapsed());
}

// ---- While Heard runs: upload, preview, confirm, through GraphQL ----

pub(crate) const UPLOAD: &str = "mutation($input: UploadImportInput!) { uploadImport(input: $input) {
    draftId hub hubName fileName kind sheets sheet notices problem
    columns { heading use chosen } missing rows readyRows alreadyThere rowsToFix
    errors { row column message } } }";
pub(crate) const START: &str = "mutation($id: ID!, $rows: ImportRows!) { startImport(draftId: $id, rows: $rows) {
    id state total done imported alreadyThere rowsToFix } }";
pub(crate) const JOB: &str =
    "query($id: ID!) { importJob(id: $id) { id state total done imported alreadyThere rowsToFix message } }";
pub(crate) const PREVIEW: &str = "query($id: ID!) { importPreview(draftId: $id) { draftId readyRows } }";
pub(crate) const REJECTS: &str = "query($id: ID!) { importRejects(id: $id) }";
const QUEUE: &str =
    "query($hub: ID!) { moderationQueue(hub: $hub, first: 100) { totalCount edges { node { text saidOn } } } }";

/// A spreadsheet as a hub keeps it: its own headings and a Notes column, UK dates, capitalised
/// values, one row in the future and one with a channel Heard does not know.
const AS_KEPT: &str = "Date said,Where,What was said,Theme,Who said it,Who may see it,Notes\n\
    25/08/2025,Drop-in,The £5 bus fare is too much,WOMEN,Anonymous,Public,ring back\n\
    26 Aug 2025,Phone,Nobody rings back after six,,Named,Hub,\n\
    01/01/2099,Forum,Written in the future,,Anonymous,Hub,\n\
    02/09/2025,Carrier pigeon,Evening clinic please,,Anonymous,Hub,\n\
    ,,,,,,\n";

pub(crate) fn upload_input(hub: &str, name: &str, bytes: &[u8]) -> Value {
    use base64::Engine as _;
    json!({ "input": { "hub": hub, "fileName": name, "content": base64::engine::general_purpose::STANDARD.encode(bytes) } })
}

/// Polls the job until it is no longer running (each poll is a real request; the job itself is
/// never waited on with a fixed sleep).
pub(crate) async fn finished(session: &heard_tests::Session, id: &str) -> Value {
    for _ in 0..600 {
        let job = session.graphql(JOB, json!({ "id": id })).await;
        if job["data"]["importJob"]["state"] != "RUNNING" {
            return job["data"]["importJob"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn a_coordinator_previews_an_upload_imports_the_good_rows_and_they_wait_in_the_moderation_queue() {
    let app = spawn_app().await;
    app.create_user("c@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let session = app.login("c@example.org").await;
    let before =
        session.graphql(QUEUE, json!({ "hub": "arun" })).await["data"]["moderationQueue"]["totalCount"].clone();

    let preview = session.graphql(UPLOAD, upload_input("arun", "C:\\fakepath\\feedback.csv", AS_KEPT.as_bytes())).await;
    assert!(preview["errors"].is_null(), "{preview}");
    let preview = &preview["data"]["uploadImport"];
    assert_eq!(preview["fileName"], "feedback.csv", "only the name, never the path");
    assert_eq!(preview["kind"], "CSV file");
    assert_eq!(preview["problem"], Value::Null);
    assert_eq!(
        (preview["rows"].as_i64(), preview["readyRows"].as_i64(), preview["rowsToFix"].as_i64()),
        (Some(4), Some(2), Some(2))
    );
    let ignored: Vec<&Value> = preview["columns"].as_array().unwrap().iter().filter(|c| c["use"].is_null()).collect();
    assert_eq!(ignored.len(), 1);
    assert_eq!(ignored[0]["heading"], "Notes");
    let errors: Vec<(i64, &str)> = preview["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_i64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(errors, [(4, "Date said"), (5, "Where")]);
    let after_preview = session.graphql(QUEUE, json!({ "hub": "arun" })).await;
    assert_eq!(after_preview["data"]["moderationQueue"]["totalCount"], before, "nothing is written before confirming");

    let id = preview["draftId"].as_str().unwrap().to_owned();
    let all = session.graphql(START, json!({ "id": id, "rows": "ALL" })).await;
    assert_eq!(heard_tests::error_code(&all), Some("BAD_USER_INPUT"), "{all}");
    assert!(all["errors"][0]["message"].as_str().unwrap().contains("2 rows need fixing"), "{all}");

    let rejects = session.graphql(REJECTS, json!({ "id": id })).await;
    let rejects = rejects["data"]["importRejects"].as_str().unwrap().trim_start_matches('\u{feff}').to_owned();
    let records = csv_records(&rejects);
    assert_eq!(records[0].last().map(String::as_str), Some("error"));
    assert_eq!(records.len(), 3, "the header and the two rows to fix: {rejects}");
    assert!(records[1].last().unwrap().starts_with("row 4, Date said: "), "{rejects}");

    let started = session.graphql(START, json!({ "id": id, "rows": "GOOD_ROWS" })).await;
    assert!(started["errors"].is_null(), "{started}");
    let job = finished(&session, &id).await;
    assert_eq!(job["state"], "FINISHED", "{job}");
    assert_eq!(
        (job["imported"].as_i64(), job["alreadyThere"].as_i64(), job["rowsToFix"].as_i64()),
        (Some(2), Some(0), Some(2))
    );
    // The public item waits for moderation like any other before it leaves the hub; the
    // hub-only one never leaves it, and its coordinators see both.
    let queue = session.graphql(QUEUE, json!({ "hub": "arun" })).await;
    let texts: Vec<&str> = queue["data"]["moderationQueue"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["text"].as_str())
        .collect();
    assert!(texts.contains(&"The £5 bus fare is too much"), "{texts:?}");
    assert_eq!(queue["data"]["moderationQueue"]["totalCount"].as_i64(), before.as_i64().map(|n| n + 1));
    let items = session.graphql(ITEMS, json!({ "hub": "arun" })).await;
    let texts: Vec<&str> = items["data"]["feedbackItems"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["node"]["text"].as_str())
        .collect();
    assert!(texts.contains(&"Nobody rings back after six"), "{texts:?}");
    let rejects_after = session.graphql(REJECTS, json!({ "id": id })).await;
    assert!(
        rejects_after["data"]["importRejects"].as_str().is_some(),
        "the rows to fix stay with the job: {rejects_after}"
    );

    // The same file again, as a workbook this time: every good row is there already.
    let sheet = heard_testsheets::xlsx(&[(
        "Feedback",
        AS_KEPT.lines().map(|line| line.split(',').map(heard_testsheets::Cell::Text).collect()).collect(),
    )]);
    let again = session.graphql(UPLOAD, upload_input("arun", "feedback.xlsx", &sheet)).await;
    let again = &again["data"]["uploadImport"];
    assert_eq!(again["kind"], "Excel workbook", "{again}");
    assert_eq!((again["readyRows"].as_i64(), again["alreadyThere"].as_i64()), (Some(0), Some(2)), "{again}");
    let again_id = again["draftId"].as_str().unwrap();
    session.graphql(START, json!({ "id": again_id, "rows": "GOOD_ROWS" })).await;
    let job = finished(&session, again_id).await;
    assert_eq!((job["imported"].as_i64(), job["alreadyThere"].as_i64()), (Some(0), Some(2)), "{job}");
    let queue = session.graphql(QUEUE, json!({ "hub": "arun" })).await;
    assert_eq!(
        queue["data"]["moderationQueue"]["totalCount"].as_i64(),
        before.as_i64().map(|n| n + 1),
        "nothing twice"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn a_column_heard_does_not_recognise_is_chosen_and_the_preview_is_read_again() {
    let app = spawn_app().await;
    app.create_user("c@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let session = app.login("c@example.org").await;
    let file = "Date,Channel,Comment box,Speaker,Consent\n01/03/2025,Drop-in,Nobody rings back,Anonymous,Hub\n";
    let preview = session.graphql(UPLOAD, upload_input("arun", "f.csv", file.as_bytes())).await;
    let preview = &preview["data"]["uploadImport"];
    assert_eq!(preview["problem"], "no column holds what was said; choose the column that does, or add one");
    assert_eq!(preview["missing"], json!(["TEXT"]));
    assert_eq!(preview["readyRows"], 0);
    let id = preview["draftId"].as_str().unwrap();
    let refused = session.graphql(START, json!({ "id": id, "rows": "GOOD_ROWS" })).await;
    assert_eq!(heard_tests::error_code(&refused), Some("BAD_USER_INPUT"), "{refused}");

    let revise = "mutation($input: ReviseImportInput!) { reviseImport(input: $input) { problem readyRows columns { heading use chosen } } }";
    let revised = session
        .graphql(
            revise,
            json!({ "input": { "draftId": id, "columns": [{ "heading": "Comment box", "use": "TEXT" }] } }),
        )
        .await;
    let revised = &revised["data"]["reviseImport"];
    assert_eq!(revised["problem"], Value::Null, "{revised}");
    assert_eq!(revised["readyRows"], 1);
    assert_eq!(revised["columns"][2], json!({ "heading": "Comment box", "use": "TEXT", "chosen": true }));
    app.shutdown().await;
}

#[tokio::test]
async fn nobody_but_the_coordinator_who_uploaded_can_see_or_import_a_draft_and_nobody_uploads_into_another_hub() {
    let app = spawn_app().await;
    app.create_user("owner@example.org", &[Role::HubCoordinator], &["arun"]).await;
    app.create_user("colleague@example.org", &[Role::HubCoordinator], &["arun"]).await;
    app.create_user("nosy@example.org", &[Role::HubCoordinator], &["crawley"]).await;
    app.create_user("member@example.org", &[Role::HubMember], &["arun"]).await;
    let owner = app.login("owner@example.org").await;
    let file = format!("{HEADER}2025-03-01,forum,,Nobody rings back,,anonymous,hub\n");

    let nosy = app.login("nosy@example.org").await;
    let into_arun = nosy.graphql(UPLOAD, upload_input("arun", "f.csv", file.as_bytes())).await;
    assert_eq!(heard_tests::error_code(&into_arun), Some("FORBIDDEN"), "{into_arun}");
    let member = app.login("member@example.org").await;
    let by_member = member.graphql(UPLOAD, upload_input("arun", "f.csv", file.as_bytes())).await;
    assert_eq!(heard_tests::error_code(&by_member), Some("FORBIDDEN"), "{by_member}");
    let anonymous = app.graphql(UPLOAD, upload_input("arun", "f.csv", file.as_bytes())).await;
    assert_eq!(heard_tests::error_code(&anonymous), Some("UNAUTHENTICATED"), "{anonymous}");

    let preview = owner.graphql(UPLOAD, upload_input("arun", "f.csv", file.as_bytes())).await;
    let id = preview["data"]["uploadImport"]["draftId"].as_str().unwrap().to_owned();
    let colleague = app.login("colleague@example.org").await;
    for other in [&colleague, &nosy] {
        assert_eq!(other.graphql(PREVIEW, json!({ "id": id })).await["data"]["importPreview"], Value::Null);
        assert_eq!(other.graphql(REJECTS, json!({ "id": id })).await["data"]["importRejects"], Value::Null);
        let start = other.graphql(START, json!({ "id": id, "rows": "GOOD_ROWS" })).await;
        assert_eq!(heard_tests::error_code(&start), Some("NOT_FOUND"), "{start}");
        let cancel = other.graphql("mutation($id: ID!) { cancelImport(draftId: $id) }", json!({ "id": id })).await;
        assert_eq!(heard_tests::error_code(&cancel), Some("NOT_FOUND"), "{cancel}");
    }
    owner.graphql(START, json!({ "id": id, "rows": "ALL" })).await;
    let job = finished(&owner, &id).await;
    assert_eq!(job["imported"], 1);
    for other in [&colleague, &nosy] {
        assert_eq!(other.graphql(JOB, json!({ "id": id })).await["data"]["importJob"], Value::Null);
    }
    let cancel_after = owner.graphql("mutation($id: ID!) { cancelImport(draftId: $id) }", json!({ "id": id })).await;
    assert_eq!(heard_tests::error_code(&cancel_after), Some("NOT_FOUND"), "a started import is no draft to cancel");
    app.shutdown().await;
}

#[tokio::test]
async fn a_file_that_cannot_be_read_gets_a_plain_answer_naming_the_file_and_nothing_is_kept() {
    let app = spawn_app().await;
    app.create_user("c@example.org", &[Role::HubCoordinator], &["arun"]).await;
    let session = app.login("c@example.org").await;
    for (bytes, words) in [
        (heard_testsheets::password_protected_xlsx(), "password"),
        (b"%PDF-1.7\n\x00\x01".to_vec(), "not a spreadsheet"),
        (heard_testsheets::xlsx_zip_bomb(), "larger than Heard can read"),
        (vec![b' '; 10], "no rows"),
    ] {
        let answer = session.graphql(UPLOAD, upload_input("arun", "f.xlsx", &bytes)).await;
        assert_eq!(heard_tests::error_code(&answer), Some("BAD_USER_INPUT"), "{answer}");
        assert_eq!(answer["errors"][0]["extensions"]["field"], "file", "{answer}");
        assert!(answer["errors"][0]["message"].as_str().unwrap().contains(words), "{answer}");
    }
    let not_base64 = session
        .graphql(UPLOAD, json!({ "input": { "hub": "arun", "fileName": "f.csv", "content": "not base64!" } }))
        .await;
    assert_eq!(not_base64["errors"][0]["extensions"]["field"], "content", "{not_base64}");
    app.shutdown().await;
}

#[tokio::test]
async fn the_command_line_says_to_use_the_web_page_while_heard_is_running() {
    let app = spawn_app().await;
    let files = tempfile::tempdir().unwrap();
    let file = spreadsheet(&files, "f.csv", format!("{HEADER}2025-03-01,forum,,Words,,anonymous,hub\n"));
    let output = import(app.data_dir.path(), "arun", &file, &[]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("Heard is running"), "{}", stderr(&output));
    assert!(stderr(&output).contains("Import a spreadsheet"), "{}", stderr(&output));
    app.shutdown().await;
}
