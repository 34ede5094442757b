//! Importing a spreadsheet from the web UI while Heard runs (issue #16): a coordinator uploads
//! a file as their browser sends it (`multipart/form-data`, over real HTTP), reads the preview,
//! imports the good rows in the background, watches the progress page and downloads the rows
//! that need fixing. Nothing is written before they start it, importing the same file twice adds
//! nothing, and nobody else can upload into their hub or see their drafts.

use heard_tests::{Hub, Session, hub, page_with_status, see_other};
use serde_json::json;

/// A spreadsheet of five rows as a hub keeps it: rows 2, 3 and 5 are good; row 4 has a day
/// that does not exist and row 6 a consent Heard does not know.
const SPREADSHEET: &str = "date,channel,about,text,themes,speaker,consent\r\n\
    2026-01-12,drop-in,,The waiting list is too long,Access and waiting times,anonymous,commissioners\r\n\
    2026-01-19,forum,,Evening opening would help people who work,Opening hours,anonymous,commissioners\r\n\
    30/02/2026,forum,,Peer support kept me going,,anonymous,hub\r\n\
    2026-02-02,phone,,The new keyworker listens,,pseudonymous,public\r\n\
    2026-02-09,online,,Nobody rang back,,anonymous,everyone\r\n";

const BOUNDARY: &str = "----heard-test-boundary-7MA4YWxkTrZu0gW";

/// A `multipart/form-data` body as a browser sends the upload form: the text fields in order,
/// then the file.
fn multipart(fields: &[(&str, &str)], file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Posts the upload form as `session`'s browser would, with `token` as its CSRF field (`None`:
/// none at all), without following where it answers to go.
fn upload_request(
    hub: &Hub,
    session: &Session,
    token: Option<&str>,
    into: &str,
    file_name: &str,
    bytes: &[u8],
) -> reqwest::RequestBuilder {
    let mut fields = Vec::new();
    if let Some(token) = token {
        fields.push(("csrf_token", token));
    }
    fields.extend([("hub", into), ("sheet", "")]);
    session
        .posting
        .post(hub.app.url("/import"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(multipart(&fields, file_name, bytes))
}

/// Uploads `bytes` into Arun's hub as its coordinator and returns the preview's address.
async fn upload(hub: &Hub, file_name: &str, bytes: &[u8]) -> String {
    let coordinator = &hub.coordinator;
    let response = upload_request(hub, coordinator, Some(&coordinator.csrf_token), "arun", file_name, bytes)
        .send()
        .await
        .expect("the upload is answered");
    let preview = see_other(response).await;
    assert!(preview.starts_with("/import/") && !preview.contains("refused"), "to the preview: {preview}");
    preview
}

/// A page as `session` sees it, checking its status.
async fn page(hub: &Hub, session: &Session, path: &str, status: u16) -> String {
    page_with_status(session.client.get(hub.app.url(path)), status).await
}

/// The rows of the table of problems on a preview: (row, column, what is wrong).
fn problems(preview: &str) -> Vec<(String, String, String)> {
    let Some(start) = preview.find("id=\"to-fix-caption\"") else { return Vec::new() };
    let table = &preview[start..preview[start..].find("</table>").map_or(preview.len(), |end| start + end)];
    table
        .split("<tr>")
        .skip(2)
        .map(|row| {
            let cells: Vec<String> = row
                .split("<td")
                .skip(1)
                .map(|cell| {
                    let text = &cell[cell.find('>').map_or(0, |at| at + 1)..];
                    text[..text.find("</td>").unwrap_or(text.len())].to_owned()
                })
                .collect();
            (cells[0].clone(), cells[1].clone(), cells[2].clone())
        })
        .collect()
}

/// What the summary of a preview says beside `what` ("Ready to import": "3 rows").
fn found(preview: &str, what: &str) -> String {
    let at = preview.find(&format!("<dt>{what}</dt>")).unwrap_or_else(|| panic!("no {what} on {preview}"));
    let rest = &preview[at..];
    let value = &rest[rest.find("<dd>").unwrap() + 4..];
    value[..value.find("</dd>").unwrap()].to_owned()
}

/// How many items wait in Arun's moderation queue.
async fn waiting(hub: &Hub) -> u64 {
    hub.app.settled().await;
    let queue =
        hub.coordinator.graphql("{ moderationQueue(hub: \"arun\", first: 100) { totalCount } }", json!({})).await;
    queue["data"]["moderationQueue"]["totalCount"].as_u64().unwrap_or_else(|| panic!("{queue}"))
}

/// Starts the import of the draft at `preview` with `rows`, then loads its progress page as the
/// coordinator's browser would ("Check progress") until it has finished; returns that page.
async fn import_and_wait(hub: &Hub, preview: &str, rows: &str) -> String {
    let progress = hub.coordinator.submit_form(&format!("{preview}/start"), &[("rows", rows)]).await;
    assert_eq!(progress, format!("{preview}/progress"));
    // A bounded number of looks, each a short wait apart: the import runs in the background.
    for _ in 0..400 {
        let page = page(hub, &hub.coordinator, &progress, 200).await;
        if page.contains("data-state=\"FINISHED\"") {
            return page;
        }
        assert!(page.contains("data-state=\"RUNNING\""), "{page}");
        assert!(page.contains("Check progress") && page.contains("<progress"), "{page}");
        assert!(!page.contains("http-equiv"), "no meta refresh: the page moves only when asked");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the import did not finish");
}

#[tokio::test]
async fn a_coordinator_uploads_a_spreadsheet_reads_the_preview_imports_the_good_rows_and_downloads_the_others() {
    let hub = hub().await;
    let form = page(&hub, &hub.coordinator, "/import", 200).await;
    assert!(form.contains("enctype=\"multipart/form-data\"") && form.contains("name=\"csrf_token\""), "{form}");
    assert!(form.contains(r#"<a href="/import" aria-current="page">Import a spreadsheet</a>"#), "in the menu");

    let preview = upload(&hub, "arun feedback.csv", SPREADSHEET.as_bytes()).await;
    let shown = page(&hub, &hub.coordinator, &preview, 200).await;
    assert_eq!(found(&shown, "Rows with something in them"), "5 rows");
    assert_eq!(found(&shown, "Ready to import"), "3 rows");
    assert_eq!(found(&shown, "Need fixing"), "2 rows");
    let problems = problems(&shown);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].0, "4");
    assert!(problems[0].1.eq_ignore_ascii_case("date"), "{problems:?}");
    assert!(problems[0].2.contains("30 February 2026 does not exist"), "{problems:?}");
    assert_eq!(problems[1].0, "6");
    assert!(problems[1].1.eq_ignore_ascii_case("consent"), "{problems:?}");
    assert!(!problems[1].2.contains("everyone"), "what is wrong never repeats the cell: {problems:?}");
    assert!(shown.contains("Import the 3 good rows"), "{shown}");
    assert!(shown.contains("Download the 2 rows that need fixing (CSV)"), "{shown}");
    assert_eq!(waiting(&hub).await, 0, "nothing is written before the coordinator starts the import");

    let finished = import_and_wait(&hub, &preview, "GOOD_ROWS").await;
    assert!(finished.contains("3 items were added to the hub's feedback; 0 were already in Heard."), "{finished}");
    assert!(finished.contains(r#"href="/moderation""#), "{finished}");
    assert_eq!(waiting(&hub).await, 3, "the good rows wait in the moderation queue like any other item");

    let rejects = hub.coordinator.client.get(hub.app.url(&format!("{preview}/rejects.csv"))).send().await.unwrap();
    assert_eq!(rejects.status(), 200);
    assert_eq!(rejects.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(rejects.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(rejects.headers()["cache-control"].to_str().unwrap().contains("no-store"));
    let csv = rejects.text().await.unwrap();
    let mut lines = csv.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("date,channel,about,text,themes,speaker,consent,error"), "{csv}");
    let rest: Vec<&str> = lines.collect();
    assert_eq!(rest.len(), 2, "the two rows that need fixing: {csv}");
    assert!(rest[0].starts_with("30/02/2026,forum") && rest[1].contains("everyone"), "as the file had them: {csv}");

    // The same file again: every good row is already there, and importing it adds nothing.
    let again = upload(&hub, "arun feedback.csv", SPREADSHEET.as_bytes()).await;
    let shown = page(&hub, &hub.coordinator, &again, 200).await;
    assert_eq!(found(&shown, "Ready to import"), "0 rows");
    assert_eq!(found(&shown, "Already in Heard, so left out"), "3 rows");
    assert!(shown.contains("importing this file again would add nothing"), "{shown}");
    let finished = import_and_wait(&hub, &again, "GOOD_ROWS").await;
    assert!(finished.contains("0 items were added"), "{finished}");
    assert!(finished.contains("3 were already in Heard"), "{finished}");
    assert_eq!(waiting(&hub).await, 3, "importing the same file twice adds nothing");
}

#[tokio::test]
async fn a_heading_heard_does_not_know_can_be_said_to_be_the_column_it_needs() {
    let hub = hub().await;
    let file = SPREADSHEET.replacen("date,channel,about,text,", "date,channel,about,zq words,", 1);
    let preview = upload(&hub, "arun.csv", file.as_bytes()).await;
    let shown = page(&hub, &hub.coordinator, &preview, 200).await;
    assert!(shown.contains("This file cannot be imported as it is"), "no column holds the text: {shown}");
    assert!(!shown.contains("/start\""), "nothing can be started: {shown}");
    assert!(shown.contains("<select id=\"column-3\" name=\"column-3\">"), "{shown}");
    let back =
        hub.coordinator.submit_form(&format!("{preview}/columns"), &[("column-3", "TEXT"), ("column-0", "DATE")]).await;
    assert_eq!(back, preview);
    let shown = page(&hub, &hub.coordinator, &preview, 200).await;
    assert!(!shown.contains("This file cannot be imported as it is"), "{shown}");
    assert_eq!(found(&shown, "Ready to import"), "3 rows");
    assert!(shown.contains("Text (you chose this)"), "{shown}");
    // Cancelled: the draft is gone and nothing was imported.
    let back = hub.coordinator.submit_form(&format!("{preview}/cancel"), &[]).await;
    assert_eq!(back, "/import");
    let form = page(&hub, &hub.coordinator, "/import", 200).await;
    assert!(form.contains("Nothing from that file was imported"), "{form}");
    page(&hub, &hub.coordinator, &preview, 404).await;
    assert_eq!(waiting(&hub).await, 0);
}

#[tokio::test]
async fn a_coordinator_of_another_hub_cannot_upload_into_this_hub_nor_see_anyone_elses_import() {
    let hub = hub().await;
    let nosy = &hub.crawley;
    let sent = upload_request(&hub, nosy, Some(&nosy.csrf_token), "arun", "arun.csv", SPREADSHEET.as_bytes())
        .send()
        .await
        .unwrap();
    let refused = see_other(sent).await;
    assert!(refused.starts_with("/import?refused="), "refused, not to a preview: {refused}");
    let page_shown = page(&hub, nosy, &refused, 422).await;
    assert!(page_shown.contains("Choose one of the hubs you coordinate"), "{page_shown}");
    assert!(!page_shown.contains(">Arun<"), "Arun is not one of their hubs to choose: {page_shown}");

    let preview = upload(&hub, "arun.csv", SPREADSHEET.as_bytes()).await;
    for path in [preview.clone(), format!("{preview}/rejects.csv"), format!("{preview}/progress")] {
        let shown = page(&hub, nosy, &path, 404).await;
        assert!(shown.contains("Page not found"), "{path}: {shown}");
        assert!(!shown.contains("waiting list"), "{path}: {shown}");
    }
    for (action, fields) in
        [("start", vec![("rows", "GOOD_ROWS")]), ("columns", vec![("column-0", "TEXT")]), ("cancel", vec![])]
    {
        let refused = see_other(nosy.post_form(&format!("{preview}/{action}"), &fields).await).await;
        let shown = page(&hub, nosy, &refused, 404).await;
        assert!(shown.contains("Page not found"), "{action}: {shown}");
    }
    let still = page(&hub, &hub.coordinator, &preview, 200).await;
    assert_eq!(found(&still, "Ready to import"), "3 rows", "the coordinator's draft is as it was");
    assert_eq!(waiting(&hub).await, 0, "nothing was imported");

    import_and_wait(&hub, &preview, "GOOD_ROWS").await;
    for path in [format!("{preview}/progress"), format!("{preview}/rejects.csv")] {
        page(&hub, nosy, &path, 404).await;
    }
    // A hub member is no coordinator: the page is not for them.
    let shown = page(&hub, &hub.member, "/import", 403).await;
    assert!(shown.contains("This page is for hub coordinators"), "{shown}");
    assert!(!shown.contains("multipart"), "{shown}");
}

#[tokio::test]
async fn an_upload_from_another_site_or_without_the_forms_token_keeps_nothing() {
    let hub = hub().await;
    let coordinator = &hub.coordinator;
    // Another site cannot read the token: it posts none, one it made up, or another person's.
    for token in [None, Some("0000"), Some(hub.crawley.csrf_token.as_str())] {
        let sent = upload_request(&hub, coordinator, token, "arun", "arun.csv", SPREADSHEET.as_bytes())
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 403, "{token:?}");
        assert!(sent.text().await.unwrap().contains("This form has expired"));
    }
    let sent =
        upload_request(&hub, coordinator, None, "arun", "arun.csv", SPREADSHEET.as_bytes()).send().await.unwrap();
    assert_eq!(sent.status(), 403, "no token from this site either");
    assert_eq!(waiting(&hub).await, 0);
}

#[tokio::test]
async fn a_file_over_five_megabytes_is_refused_in_words_that_say_what_to_do() {
    let hub = hub().await;
    let coordinator = &hub.coordinator;
    let mut big = SPREADSHEET.as_bytes().to_vec();
    big.resize(5 * 1024 * 1024 + 10, b' ');
    let sent =
        upload_request(&hub, coordinator, Some(&coordinator.csrf_token), "arun", "big.csv", &big).send().await.unwrap();
    let refused = see_other(sent).await;
    assert!(refused.starts_with("/import?refused="), "{refused}");
    let shown = page(&hub, coordinator, &refused, 422).await;
    assert!(shown.contains("<a href=\"#file\">The file is larger than 5 MB"), "named beside its field: {shown}");

    big.resize(6 * 1024 * 1024, b' ');
    let sent =
        upload_request(&hub, coordinator, Some(&coordinator.csrf_token), "arun", "big.csv", &big).send().await.unwrap();
    assert_eq!(sent.status(), 413);
    let shown = sent.text().await.unwrap();
    assert!(shown.contains("The file is too large") && shown.contains("up to 5 MB"), "{shown}");

    // Every other form keeps the server's limit.
    let padding = "x".repeat(2 * 1024 * 1024);
    let other = coordinator.post_form("/moderation/hold", &[("reason", padding.as_str())]).await;
    assert_eq!(other.status(), 413);
    assert_eq!(waiting(&hub).await, 0);
}
