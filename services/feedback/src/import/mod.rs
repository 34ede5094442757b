//! Reading a hub's spreadsheet of feedback, from the web UI's "Import a spreadsheet" page
//! (`uploadImport` in GraphQL) or `heard import feedback --hub HUB FILE`.
//!
//! A pure module: it turns the bytes of a file into [`NewItem`]s and row errors, and never
//! touches storage. It reads in three steps:
//! - [`sheet`]: the file's cells, whatever it is: an Excel workbook, an OpenDocument
//!   spreadsheet, or CSV text in UTF-8, UTF-16 or Windows-1252, separated by commas, semicolons
//!   or tabs;
//! - [`columns`]: which column holds what, from the header row's headings (matched by name,
//!   with the names hubs commonly use) and the coordinator's [`Choice`]s; other columns are
//!   left out and listed;
//! - the rows: each cell checked as the web form checks it, with dates in UK order, ISO or as
//!   the spreadsheet's date cells, and values matched whatever their case.
//!
//! **Row numbers** are the spreadsheet's own: the header is row 1 when it is the first row, and
//! a CSV record whose quoted cell spans several lines is one row. Rows whose cells are all
//! blank (spreadsheets leave a few at the end) are left out.
//!
//! Messages never repeat a cell's content: it may be personal data, and messages end up in
//! logs and terminals. [`rejects_csv`] writes the rejected rows themselves, with what is wrong,
//! for the coordinator to fix and import again. Its cells are escaped against formula injection
//! (`heard_api::spreadsheet`), and the quote comes off again when the file is imported.

pub mod columns;
pub mod sheet;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use heard_access::Consent;
use heard_api::spreadsheet::{escape_cell, unescape_cell};
use sha2::{Digest, Sha256};

pub use columns::{Choice, Column, ERROR_COLUMN, HeaderProblem, Layout, Use};
pub use sheet::{Kind, Table, Unreadable, Value};

use crate::domain::themes::Vocabulary;
use crate::domain::{self, Channel, MAX_TEXT_CHARS, NewItem, Rejection, SpeakerKind};

/// The largest file Heard reads: a year of a busy hub's feedback is a few hundred kilobytes.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;

/// The column named in a [`RowError`] when the row itself is wrong (it has cells beyond the
/// last heading).
pub const ROW_COLUMN: &str = "(row)";

/// Longest `about`, in characters (as [`domain::log`] allows).
const MAX_ABOUT_CHARS: usize = 200;

/// Excel's day numbers: day 1 is 1 January 1900, counted as if 1900 were a leap year, so from
/// March 1900 on, day N is N days after 30 December 1899.
const EXCEL_EPOCH: jiff::civil::Date = jiff::civil::date(1899, 12, 30);

/// A valid row, ready for the service to log.
#[derive(Clone, Debug)]
pub struct ImportRow {
    /// The row's number in the spreadsheet.
    pub row: usize,
    /// `hub` is the hub imported into, `import_key` is always set, `provider` is set when `about`
    /// names a known provider, and `themes` holds theme ids.
    pub item: NewItem,
}

/// What is wrong with one cell (or, for the column [`ROW_COLUMN`], with the whole row). The
/// message never repeats the cell.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("row {row}, {column}: {message}")]
pub struct RowError {
    /// The row's number in the spreadsheet.
    pub row: usize,
    /// The column as the file heads it (or its letter, when it has no heading).
    pub column: String,
    pub message: String,
}

/// The rows read: the good ones, and what is wrong with the others. A row with several wrong
/// cells has one error for each.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

impl Parsed {
    /// How many rows need fixing (a row with several errors counts once).
    pub fn rows_to_fix(&self) -> usize {
        self.errors.iter().map(|error| error.row).collect::<BTreeSet<_>>().len()
    }
}

/// How to read a file: which sheet, the coordinator's choices of columns, and how large a file
/// may be.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// `None`: the first sheet.
    pub sheet: Option<&'a str>,
    pub choices: &'a [Choice],
    /// [`MAX_FILE_BYTES`] for an upload; the command line, reading a file on the hub's own
    /// machine, allows more.
    pub max_bytes: usize,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options { sheet: None, choices: &[], max_bytes: MAX_FILE_BYTES }
    }
}

/// What Heard checks every row against.
#[derive(Clone, Copy)]
pub struct Known<'a> {
    /// The hub imported into.
    pub hub: &'a str,
    /// The known providers as `(id, name)`: an `about` cell that matches one's name or id
    /// (ignoring case and spaces) links the item to it.
    pub providers: &'a [(String, String)],
    /// Themes are matched by name or id through [`Vocabulary::find`].
    pub vocabulary: &'a Vocabulary,
    /// Dates may not be after it.
    pub today: jiff::civil::Date,
}

/// A file read: everything its preview shows, and the rows to import.
#[derive(Clone, Debug)]
pub struct Reading {
    pub table: Table,
    /// `None` when the sheet has no rows at all.
    pub layout: Option<Layout>,
    /// Why the file cannot be imported as it is; the coordinator can fix it by choosing
    /// columns. When set, `parsed` is empty.
    pub problem: Option<String>,
    /// Rows below the header with anything in them.
    pub rows: usize,
    pub parsed: Parsed,
}

/// The file as a whole cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// Larger than this many bytes.
    TooBig(usize),
    /// No rows with anything in them, or a header and nothing under it.
    Empty,
    Unreadable(Unreadable),
    /// The header row cannot be used as it is (for the command line, which has no preview).
    Header(String),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::TooBig(limit) => write!(
                f,
                "the file is larger than {} MB; split it into smaller files, or save only the sheet of feedback",
                limit / (1024 * 1024)
            ),
            FileError::Empty => write!(f, "the file has no rows"),
            FileError::Unreadable(why) => write!(f, "{why}"),
            FileError::Header(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for FileError {}

/// Reads a file of feedback for `known.hub`: its cells, its columns and every row, so one call
/// reports every bad row. A header that cannot be used as it is gives a [`Reading`] with a
/// `problem` (for a preview to ask the coordinator); a file that cannot be read at all gives a
/// [`FileError`].
pub fn read(bytes: &[u8], options: Options<'_>, known: Known<'_>) -> Result<Reading, FileError> {
    if bytes.len() > options.max_bytes {
        return Err(FileError::TooBig(options.max_bytes));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) || bytes == b"\xEF\xBB\xBF" {
        return Err(FileError::Empty);
    }
    let table = sheet::read(bytes, options.sheet).map_err(FileError::Unreadable)?;
    let Some(header) = table.rows.first() else {
        return Err(FileError::Empty);
    };
    let (layout, problem) = columns::layout(header, options.choices);
    let rows = table.rows.len() - 1;
    if problem.is_none() && rows == 0 {
        return Err(FileError::Empty);
    }
    let mut reading =
        Reading { layout: None, problem: problem.map(|p| p.to_string()), rows, parsed: Parsed::default(), table };
    if reading.problem.is_none() {
        let mut context = Context::new(known);
        for row in &reading.table.rows[1..] {
            context.row(&layout, row, &mut reading.parsed);
        }
    }
    reading.layout = Some(layout);
    Ok(reading)
}

/// Reads a file with Heard's own column names and no choices, refusing a header it cannot use
/// (for the tests).
pub fn parse(
    bytes: &[u8],
    hub: &str,
    providers: &[(String, String)],
    vocabulary: &Vocabulary,
    today: jiff::civil::Date,
) -> Result<Parsed, FileError> {
    let options = Options { max_bytes: usize::MAX, ..Options::default() };
    let reading = read(bytes, options, Known { hub, providers, vocabulary, today })?;
    match reading.problem {
        Some(problem) => Err(FileError::Header(problem)),
        None => Ok(reading.parsed),
    }
}

/// The rejected rows as a CSV file to fix and import again (UTF-8 with a byte order mark, so
/// Excel opens it as it should): the header row as the file has it plus an `error` column
/// (unless it already has one, which is then filled), and for each row with errors its cells
/// and all its errors, "row 5, date: …", joined by "; ". It repeats what the rows hold, so it
/// goes only to the coordinator who imports. Rows are in file order; dates are written
/// day/month/year.
pub fn rejects_csv(reading: &Reading) -> Vec<u8> {
    let mut messages: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for error in &reading.parsed.errors {
        messages.entry(error.row).or_default().push(format!("{}: {}", error.column, error.message));
    }
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.reserve(1024);
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let Some(header) = reading.table.rows.first() else {
        return writer.into_inner().expect("writing to memory cannot fail");
    };
    let width = header.cells.len();
    let existing = header.cells.iter().position(|cell| cell.text().trim().eq_ignore_ascii_case(ERROR_COLUMN));
    let mut headings: Vec<String> = header.cells.iter().map(Value::text).collect();
    if existing.is_none() {
        headings.push(ERROR_COLUMN.to_owned());
    }
    write(&mut writer, &headings);
    for row in &reading.table.rows[1..] {
        let Some(messages) = messages.get(&row.number) else { continue };
        let mut cells: Vec<String> = row.cells.iter().map(Value::text).collect();
        if cells.len() < width {
            cells.resize(width, String::new());
        }
        let joined = messages.iter().map(|message| format!("row {}, {message}", row.number)).collect::<Vec<_>>();
        let joined = joined.join("; ");
        match existing {
            Some(index) => cells[index] = joined,
            None => {
                cells.truncate(width.max(cells.len()));
                cells.push(joined);
            }
        }
        write(&mut writer, &cells);
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

/// Every cell is escaped: a rejected row repeats whatever the hub's spreadsheet held, and none of
/// it may run as a formula when the file is opened ([`unescape_cell`] undoes it on import).
fn write(writer: &mut csv::Writer<Vec<u8>>, cells: &[String]) {
    writer.write_record(cells.iter().map(escape_cell)).expect("writing to memory cannot fail");
}

/// What every row is checked against, with the theme lookups remembered.
struct Context<'a> {
    hub: &'a str,
    /// Lower-cased provider id and name → provider id.
    providers: HashMap<String, &'a str>,
    vocabulary: &'a Vocabulary,
    /// Theme cell entries already looked up → theme id.
    themes: HashMap<String, Option<String>>,
    today: jiff::civil::Date,
}

fn provider_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl<'a> Context<'a> {
    fn new(known: Known<'a>) -> Context<'a> {
        let mut map = HashMap::new();
        // Names first, so that an id wins where a name happens to equal another provider's id.
        for (id, name) in known.providers {
            map.insert(provider_key(name), id.as_str());
        }
        for (id, _) in known.providers {
            map.insert(provider_key(id), id.as_str());
        }
        Context {
            hub: known.hub,
            providers: map,
            vocabulary: known.vocabulary,
            themes: HashMap::new(),
            today: known.today,
        }
    }

    /// Reads one row below the header into `parsed`: an item, or an error for each bad cell.
    fn row(&mut self, layout: &Layout, row: &sheet::Row, parsed: &mut Parsed) {
        let width = layout.uses.len();
        if let Some(beyond) = row.cells.iter().skip(width).position(|cell| !cell.is_blank()) {
            parsed.errors.push(RowError {
                row: row.number,
                column: ROW_COLUMN.into(),
                message: format!(
                    "this row has a cell in column {}, beyond the last heading; check for a stray comma or a missing quote",
                    columns::letter(width + beyond)
                ),
            });
            return;
        }
        let before = parsed.errors.len();
        let item = self.item(layout, row, &mut parsed.errors);
        if let (Some(item), true) = (item, parsed.errors.len() == before) {
            parsed.rows.push(ImportRow { row: row.number, item });
        }
    }

    /// Checks one row's cells, pushing an error for each bad cell.
    fn item(&mut self, layout: &Layout, row: &sheet::Row, errors: &mut Vec<RowError>) -> Option<NewItem> {
        let empty = Value::Empty;
        let value =
            |column: Column| layout.position(column).and_then(|position| row.cells.get(position)).unwrap_or(&empty);
        let texts: [String; 7] = std::array::from_fn(|index| {
            let text = value(Column::ALL[index]).text();
            unescape_cell(text.trim()).trim().to_owned()
        });
        let text_of = |column: Column| texts[column as usize].as_str();
        let mut fail = |column: Column, message: String| {
            errors.push(RowError { row: row.number, column: layout.label_of(column), message });
        };
        for column in Column::ALL {
            match value(column) {
                Value::FormulaWithoutValue => fail(
                    column,
                    "this cell holds a formula whose value was never saved; open the file in Excel or LibreOffice, save it and upload it again, or type the value in"
                        .into(),
                ),
                Value::Error(code) => {
                    fail(column, format!("this cell shows the spreadsheet error {code}; put the value in it instead"))
                }
                _ => {}
            }
        }
        if matches!(value(Column::Date), Value::FormulaWithoutValue | Value::Error(_)) {
            return None;
        }

        let said_on = self.date(value(Column::Date), text_of(Column::Date), &mut |message| fail(Column::Date, message));

        let channel = Channel::parse(text_of(Column::Channel));
        if channel.is_none() {
            let list = Channel::ALL.map(Channel::as_str).join(", ");
            let what =
                if text_of(Column::Channel).is_empty() { "the channel is missing" } else { "this is not a channel" };
            fail(Column::Channel, format!("{what}; use one of {list}"));
        }

        let about_text = text_of(Column::About);
        let about = (!about_text.is_empty()).then(|| about_text.to_owned());
        if heard_text::clean(about_text).is_err() {
            fail(Column::About, heard_text::ControlCharacter::MESSAGE.into());
        } else if about_text.chars().count() > MAX_ABOUT_CHARS {
            fail(Column::About, format!("name the service in at most {MAX_ABOUT_CHARS} characters"));
        }
        let provider =
            about.as_deref().and_then(|about| self.providers.get(&provider_key(about))).map(|id| (*id).to_owned());

        let text = text_of(Column::Text);
        if text.is_empty() {
            fail(Column::Text, "the text is missing; write down what the person said".into());
        } else if heard_text::clean(text).is_err() {
            fail(Column::Text, heard_text::ControlCharacter::MESSAGE.into());
        } else if text.chars().count() > MAX_TEXT_CHARS {
            fail(
                Column::Text,
                format!("one item holds at most {MAX_TEXT_CHARS} characters; split it into several rows"),
            );
        }

        let themes = self.themes(text_of(Column::Themes), &mut |message| fail(Column::Themes, message));

        let speaker = match SpeakerKind::parse(text_of(Column::Speaker)) {
            // A spreadsheet has no name column: for named and pseudonymous speakers the kind is
            // recorded and the name stays in the hub's own records.
            Some(kind) => Some(kind),
            None if text_of(Column::Speaker).is_empty() => {
                fail(Column::Speaker, "who said it is missing; use anonymous, pseudonymous or named".into());
                None
            }
            None => {
                fail(Column::Speaker, "this is not a kind of speaker; use anonymous, pseudonymous or named".into());
                None
            }
        };

        let consent: Option<Consent> = domain::parse_consent(text_of(Column::Consent));
        if consent.is_none() {
            let what =
                if text_of(Column::Consent).is_empty() { "the consent is missing" } else { "this is not a consent" };
            fail(Column::Consent, format!("{what}; choose who may see it: hub, commissioners or public"));
        }

        let (channel, themes, speaker, consent, said_on) = (channel?, themes?, speaker?, consent?, said_on?);
        let import_key = import_key(self.hub, &said_on, channel, about.as_deref(), text, &themes, speaker, consent);
        Some(NewItem {
            hub: self.hub.to_owned(),
            channel: Some(channel),
            about,
            provider,
            themes,
            speaker: Some(speaker),
            consent: Some(consent),
            said_on,
            text: text.to_owned(),
            import_key: Some(import_key),
            ..NewItem::default()
        })
    }

    /// The day a row was said on, as ISO text: a date cell, an Excel day number in a cell not
    /// formatted as a date, or a date typed as the web form takes it (UK order, ISO or words).
    fn date(&self, value: &Value, text: &str, fail: &mut impl FnMut(String)) -> Option<String> {
        let typed = match value {
            Value::Date(date) => date.to_string(),
            Value::Number(number) if number.fract() == 0.0 && (36_526.0..=2_958_465.0).contains(number) => {
                let date = EXCEL_EPOCH.checked_add(jiff::Span::new().days(*number as i64)).ok()?;
                date.to_string()
            }
            Value::Number(_) => {
                fail(
                    "this is a number, not a date; enter the date as day, month and year, for example 4/12/2026".into(),
                );
                return None;
            }
            _ if text.is_empty() => {
                fail("the date is missing; enter it as day, month and year, for example 4/12/2026".into());
                return None;
            }
            _ => text.to_owned(),
        };
        match domain::check_date(Column::Date.name(), &typed, self.today) {
            Ok(date) => Some(date.to_string()),
            Err(Rejection::Invalid { message, .. } | Rejection::Conflict(message)) => {
                fail(message);
                None
            }
        }
    }

    /// Theme ids for a cell of names separated by semicolons; `None` if any is unknown.
    fn themes(&mut self, cell: &str, fail: &mut impl FnMut(String)) -> Option<BTreeSet<String>> {
        let names: Vec<&str> = cell.split(';').map(str::trim).filter(|name| !name.is_empty()).collect();
        let mut ids = BTreeSet::new();
        let mut unknown = Vec::new();
        for (position, name) in names.iter().enumerate() {
            let id = match self.themes.get(*name) {
                Some(id) => id.clone(),
                None => {
                    let id = self.vocabulary.find(name).map(|theme| theme.id.clone());
                    self.themes.insert((*name).to_owned(), id.clone());
                    id
                }
            };
            match id {
                Some(id) => {
                    ids.insert(id);
                }
                None => unknown.push((position + 1).to_string()),
            }
        }
        if unknown.is_empty() {
            return Some(ids);
        }
        let which = match unknown.as_slice() {
            [one] => format!("theme {one} of {} is", names.len()),
            [rest @ .., last] => format!("themes {} and {last} of {} are", rest.join(", "), names.len()),
            [] => unreachable!("checked above"),
        };
        fail(format!(
            "{which} not in the theme list; check the spelling (separate themes with ;) or ask a coordinator to add it"
        ));
        None
    }
}

/// Hex SHA-256 of the hub and the row's values as Heard reads them, separated by U+001F: the
/// day in ISO form, the channel, the service, the words, the theme ids, the kind of speaker and
/// the consent. The same row gives the same key whatever the column order, the file's kind or
/// how its date was written, so importing a file twice (or the workbook and then its CSV) logs
/// each row once.
#[allow(clippy::too_many_arguments)]
fn import_key(
    hub: &str,
    said_on: &str,
    channel: Channel,
    about: Option<&str>,
    text: &str,
    themes: &BTreeSet<String>,
    speaker: SpeakerKind,
    consent: Consent,
) -> String {
    let themes = themes.iter().map(String::as_str).collect::<Vec<_>>().join(";");
    let speaker = format!("{speaker:?}");
    let consent = format!("{consent:?}");
    let mut hasher = Sha256::new();
    hasher.update(hub.as_bytes());
    for value in [said_on, channel.as_str(), about.unwrap_or(""), text, &themes, &speaker, &consent] {
        hasher.update("\u{1f}".as_bytes());
        hasher.update(value.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::themes;

    const HEADER: &str = "date,channel,about,text,themes,speaker,consent\n";
    const BOM: &[u8] = b"\xEF\xBB\xBF";

    fn today() -> jiff::civil::Date {
        jiff::civil::date(2026, 3, 14)
    }

    fn vocabulary() -> Vocabulary {
        let mut vocabulary = Vocabulary::default();
        for event in themes::seed() {
            vocabulary.added(event);
        }
        vocabulary
    }

    fn providers() -> Vec<(String, String)> {
        vec![
            ("change-grow-live".to_owned(), "Change Grow Live".to_owned()),
            ("turning-point".to_owned(), "Turning Point".to_owned()),
        ]
    }

    fn parse_text(text: &str) -> Result<Parsed, FileError> {
        parse(text.as_bytes(), "crawley", &providers(), &vocabulary(), today())
    }

    fn reading(bytes: &[u8], options: Options<'_>) -> Reading {
        let (providers, vocabulary) = (providers(), vocabulary());
        read(bytes, options, Known { hub: "crawley", providers: &providers, vocabulary: &vocabulary, today: today() })
            .unwrap()
    }

    fn rejects_of(bytes: &[u8]) -> Vec<u8> {
        rejects_csv(&reading(bytes, Options::default()))
    }

    fn parsed(text: &str) -> Parsed {
        parse_text(text).unwrap()
    }

    fn one_error(text: &str) -> RowError {
        let parsed = parsed(text);
        assert!(parsed.rows.is_empty(), "{:?}", parsed.rows);
        assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
        parsed.errors[0].clone()
    }

    const GOOD_ROW: &str =
        "2026-03-01,drop-in,Turning Point,The waiting list is too long,Access and waiting times,anonymous,hub\n";

    #[test]
    fn a_good_row_becomes_an_item_for_the_hub() {
        let parsed = parsed(&format!("{HEADER}{GOOD_ROW}"));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 1);
        let row = &parsed.rows[0];
        assert_eq!(row.row, 2);
        let item = &row.item;
        assert_eq!(item.hub, "crawley");
        assert_eq!(item.said_on, "2026-03-01");
        assert_eq!(item.channel, Some(Channel::DropIn));
        assert_eq!(item.about.as_deref(), Some("Turning Point"));
        assert_eq!(item.provider.as_deref(), Some("turning-point"));
        assert_eq!(item.text, "The waiting list is too long");
        assert_eq!(item.themes, BTreeSet::from(["access-and-waiting-times".to_owned()]));
        assert_eq!(item.speaker, Some(SpeakerKind::Anonymous));
        assert_eq!(item.consent, Some(Consent::Hub));
        assert_eq!(item.meeting, None);
        assert_eq!(item.speaker_name, None);
        assert_eq!(item.import_key.as_ref().map(String::len), Some(64));
    }

    #[test]
    fn every_valid_row_is_accepted_by_the_domain() {
        let text = format!(
            "{HEADER}{GOOD_ROW}2026-01-02,Phone/SMS,,Nobody called back,,Anon,Public\n\
             2025-12-31,one to one,a GP surgery,\"Line one\nline two\",Women; Keyworker time,anonymous,commissioners\n"
        );
        let parsed = parsed(&text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 3);
        for row in parsed.rows {
            let event = domain::log(uuid::Uuid::nil(), uuid::Uuid::nil(), row.item, today());
            assert!(event.is_ok(), "{event:?}");
        }
    }

    #[test]
    fn a_utf8_byte_order_mark_is_accepted() {
        let mut bytes = BOM.to_vec();
        bytes.extend_from_slice(format!("{HEADER}{GOOD_ROW}").as_bytes());
        let parsed = parse(&bytes, "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert!(parsed.errors.is_empty());
    }

    #[test]
    fn headers_match_whatever_their_case_spaces_and_order() {
        let text = " Consent , SPEAKER,Themes,  Text,About ,Channel,Date\n\
                    hub,anonymous,Women,Too far to travel,Turning Point,forum,2026-02-02\n";
        let parsed = parsed(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let item = &parsed.rows[0].item;
        assert_eq!(item.said_on, "2026-02-02");
        assert_eq!(item.channel, Some(Channel::Forum));
        assert_eq!(item.text, "Too far to travel");
        assert_eq!(item.consent, Some(Consent::Hub));
    }

    #[test]
    fn the_same_row_has_the_same_key_whatever_the_column_order() {
        let reordered = "consent,speaker,themes,text,about,channel,date\n\
                         hub,anonymous,Access and waiting times,The waiting list is too long,Turning Point,drop-in,2026-03-01\n";
        let a = parsed(&format!("{HEADER}{GOOD_ROW}"));
        let b = parsed(reordered);
        assert_eq!(a.rows[0].item.import_key, b.rows[0].item.import_key);
    }

    #[test]
    fn a_windows_1252_file_is_read_with_its_pound_signs_and_curly_quotes() {
        let mut bytes = format!("{HEADER}{GOOD_ROW}").into_bytes();
        bytes.extend_from_slice(b"2026-03-01,forum,,\x93The \xA35 fare\x94 at the caf\xE9,,anonymous,hub\n");
        let reading = reading(&bytes, Options::default());
        assert!(reading.parsed.errors.is_empty(), "{:?}", reading.parsed.errors);
        assert_eq!(reading.parsed.rows[1].item.text, "\u{201c}The £5 fare\u{201d} at the café");
        assert!(
            reading.table.notices.iter().any(|notice| notice.contains("Windows-1252")),
            "{:?}",
            reading.table.notices
        );
    }

    #[test]
    fn a_utf16_file_is_read_as_utf16() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in format!("{HEADER}{GOOD_ROW}").encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let parsed = parse(&bytes, "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert_eq!(parsed.rows.len(), 1, "{:?}", parsed.errors);
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_before_it_is_read() {
        let bytes = vec![b'a'; MAX_FILE_BYTES + 1];
        let (providers, vocabulary) = (providers(), vocabulary());
        let known = Known { hub: "crawley", providers: &providers, vocabulary: &vocabulary, today: today() };
        let error = read(&bytes, Options::default(), known).unwrap_err();
        assert_eq!(error, FileError::TooBig(MAX_FILE_BYTES));
        assert!(error.to_string().contains("larger than 5 MB"), "{error}");
    }

    #[test]
    fn a_missing_column_is_named_in_words() {
        let error =
            parse_text("date,channel,about,themes,speaker,consent\n2026-03-01,forum,,,anonymous,hub\n").unwrap_err();
        assert_eq!(
            error,
            FileError::Header("no column holds what was said; choose the column that does, or add one".into())
        );
    }

    #[test]
    fn the_about_and_themes_columns_and_their_cells_may_be_left_out() {
        let parsed = parsed("date,channel,text,speaker,consent\n2026-03-01,forum,Some words,anonymous,hub\n");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows[0].item.about, None);
        assert!(parsed.rows[0].item.themes.is_empty());
        let parsed = self::parsed(&format!("{HEADER}2026-03-01,forum,,Some words,  ,anonymous,hub\n"));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows[0].item.about, None);
        assert_eq!(parsed.rows[0].item.provider, None);
        assert!(parsed.rows[0].item.themes.is_empty());
    }

    #[test]
    fn columns_heard_does_not_know_are_left_out_and_listed_not_refused() {
        let text = "date,channel,about,text,themes,Postcode,speaker,consent,,Notes\n\
                    2026-03-01,forum,,Words,,BN1 1AA,anonymous,hub,,called back\n";
        let reading = reading(text.as_bytes(), Options::default());
        assert_eq!(reading.problem, None);
        assert_eq!(reading.parsed.rows.len(), 1, "{:?}", reading.parsed.errors);
        let left_out: Vec<&str> = reading
            .layout
            .as_ref()
            .unwrap()
            .uses
            .iter()
            .filter(|found| found.column.is_none())
            .map(|found| found.heading.as_str())
            .collect();
        assert_eq!(left_out, ["Postcode", "", "Notes"]);
    }

    #[test]
    fn a_column_given_twice_is_a_problem_to_choose_from() {
        let error = parse_text("date,channel,about,text,themes,speaker,consent,Text\n").unwrap_err();
        assert!(
            matches!(&error, FileError::Header(why) if why.contains("columns D and H could both hold what was said")),
            "{error:?}"
        );
        let choices = [Choice { heading: "TEXT".into(), column: None }];
        let reading = reading(
            format!("date,channel,about,text,themes,speaker,consent,Notes\n{GOOD_ROW}").as_bytes(),
            Options { choices: &choices, ..Options::default() },
        );
        assert!(reading.problem.is_some(), "leaving the only text column out leaves no text");
    }

    #[test]
    fn a_file_without_a_header_row_is_refused_without_echoing_its_first_row() {
        let error = parse_text(GOOD_ROW).unwrap_err();
        assert!(matches!(&error, FileError::Header(_)), "{error:?}");
        assert!(!error.to_string().contains("waiting list"), "{error}");
    }

    #[test]
    fn a_semicolon_separated_file_is_read_with_a_notice() {
        let text =
            format!("{}{}", HEADER.replace(',', ";"), "2026-03-01;drop-in;;\"Late, again\";Women;anonymous;hub\n");
        let reading = reading(text.as_bytes(), Options::default());
        assert_eq!(reading.parsed.rows.len(), 1, "{:?}", reading.parsed.errors);
        assert_eq!(reading.parsed.rows[0].item.text, "Late, again");
        assert!(reading.table.notices.iter().any(|notice| notice.contains("semicolons")));
    }

    #[test]
    fn common_headings_uk_dates_and_capitalised_values_are_read() {
        let text = "Date said,Where,Service,What was said,Theme,Who said it,Who may see it,Notes\n\
                    25/08/2025,Drop-in,TURNING POINT,The bus costs too much,WOMEN,Anonymous,Public,follow up\n\
                    25 Aug 2025,Phone,,Call me back please,,Named,Hub only,\n\
                    25/08/25,One to one,,Opening hours suit me,,Pseudonymous,Commissioners,\n";
        let parsed = parsed(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let items: Vec<_> = parsed
            .rows
            .iter()
            .map(|row| (row.item.said_on.as_str(), row.item.channel.unwrap(), row.item.consent.unwrap()))
            .collect();
        assert_eq!(
            items,
            [
                ("2025-08-25", Channel::DropIn, Consent::Public),
                ("2025-08-25", Channel::Phone, Consent::Hub),
                ("2025-08-25", Channel::OneToOne, Consent::Commissioners)
            ]
        );
        assert_eq!(parsed.rows[0].item.provider.as_deref(), Some("turning-point"));
        assert_eq!(parsed.rows[0].item.themes, BTreeSet::from(["women".to_owned()]));
    }

    #[test]
    fn an_error_names_the_column_as_the_file_heads_it() {
        let text = "Date said,Where,What was said,Who said it,Who may see it\n30/02/2025,Drop-in,Words,Anonymous,Hub\n";
        let error = one_error(text);
        assert_eq!((error.row, error.column.as_str()), (2, "Date said"));
        assert!(error.message.contains("30 February 2025 does not exist"), "{}", error.message);
    }

    #[test]
    fn an_empty_file_has_no_rows() {
        for text in ["", "   \n\r\n\t ", "\u{feff}", "\u{feff}\n\n"] {
            let error = parse_text(text).unwrap_err();
            assert_eq!(error, FileError::Empty, "{text:?}");
            assert_eq!(error.to_string(), "the file has no rows");
        }
    }

    #[test]
    fn a_header_only_file_has_no_rows() {
        assert_eq!(parse_text(HEADER).unwrap_err(), FileError::Empty);
        assert_eq!(parse_text(HEADER.trim_end()).unwrap_err(), FileError::Empty);
    }

    #[test]
    fn blank_rows_are_skipped_but_counted() {
        let text = format!("{HEADER},,,,,,\n , , ,,,,\n{GOOD_ROW}\n\n,,,,,,\n,,,,,,\n");
        let parsed = parsed(&text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].row, 4);
        assert_eq!(parse_text(&format!("{HEADER},,,,,,\n")).unwrap_err(), FileError::Empty);
    }

    #[test]
    fn row_numbers_count_the_header_as_row_one_and_a_multiline_cell_as_one_row() {
        let text = format!(
            "{HEADER}2026-03-01,forum,,\"first line\nsecond line\",,anonymous,hub\n2026-03-01,fax,,Words,,anonymous,hub\n"
        );
        let parsed = parsed(&text);
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].row, 2);
        assert_eq!(parsed.rows[0].item.text, "first line\nsecond line");
        assert_eq!(parsed.errors.len(), 1);
        assert_eq!((parsed.errors[0].row, parsed.errors[0].column.as_str()), (3, "channel"));
    }

    #[test]
    fn an_excel_day_number_in_the_date_column_is_read_as_its_day() {
        // 46000 is 9 December 2025 in Excel's numbering, as a date cell not formatted as a date holds it.
        let (providers, vocabulary) = (providers(), vocabulary());
        let mut context =
            Context::new(Known { hub: "crawley", providers: &providers, vocabulary: &vocabulary, today: today() });
        let mut fail = |message: String| panic!("{message}");
        assert_eq!(context.date(&Value::Number(46000.0), "46000", &mut fail).as_deref(), Some("2025-12-09"));
        assert_eq!(
            context.date(&Value::Date(jiff::civil::date(2025, 8, 25)), "25/08/2025", &mut fail).as_deref(),
            Some("2025-08-25")
        );
        let mut messages = Vec::new();
        assert_eq!(context.date(&Value::Number(12.5), "12.5", &mut |message| messages.push(message)), None);
        assert!(messages[0].contains("a number, not a date"), "{messages:?}");
        let _ = &mut context;
    }

    #[test]
    fn a_bad_date_is_reported_by_row_and_column() {
        let error = one_error(&format!("{HEADER}30/02/2026,forum,,Words,,anonymous,hub\n"));
        assert_eq!((error.row, error.column.as_str()), (2, "date"));
        assert!(error.message.contains("30 February 2026 does not exist"), "{}", error.message);
        assert_eq!(error.to_string(), format!("row 2, date: {}", error.message));
    }

    #[test]
    fn a_missing_date_is_reported() {
        let error = one_error(&format!("{HEADER} ,forum,,Words,,anonymous,hub\n"));
        assert_eq!(error.column, "date");
        assert!(error.message.contains("missing"), "{}", error.message);
    }

    #[test]
    fn a_future_date_is_refused() {
        let error = one_error(&format!("{HEADER}2026-03-15,forum,,Words,,anonymous,hub\n"));
        assert_eq!(error.column, "date");
        assert!(error.message.contains("future"), "{}", error.message);
        let parsed = parsed(&format!("{HEADER}2026-03-14,forum,,Words,,anonymous,hub\n"));
        assert_eq!(parsed.rows.len(), 1, "today is allowed: {:?}", parsed.errors);
    }

    #[test]
    fn an_unknown_theme_is_refused_for_its_row_and_column() {
        let error = one_error(&format!("{HEADER}2026-03-01,forum,,Words,Women;Parking spaces,anonymous,hub\n"));
        assert_eq!((error.row, error.column.as_str()), (2, "themes"));
        assert!(error.message.contains("theme 2 of 2"), "{}", error.message);
        let error = one_error(&format!("{HEADER}2026-03-01,forum,,Words,Parking;Women;Lifts,anonymous,hub\n"));
        assert!(error.message.contains("themes 1 and 3 of 3"), "{}", error.message);
    }

    #[test]
    fn themes_are_separated_by_semicolons_with_any_spaces_and_case() {
        let parsed = parsed(&format!(
            "{HEADER}2026-03-01,forum,,Words, women ;  KEYWORKER TIME;;access-and-waiting-times ; Women,anonymous,hub\n"
        ));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(
            parsed.rows[0].item.themes,
            BTreeSet::from(["women".to_owned(), "keyworker-time".to_owned(), "access-and-waiting-times".to_owned()])
        );
    }

    #[test]
    fn a_merged_theme_counts_as_the_theme_it_was_merged_into() {
        let mut vocabulary = vocabulary();
        vocabulary.merged("rural-transport", themes::ThemeMerged { into: "access-and-waiting-times".into() });
        let text = format!("{HEADER}2026-03-01,forum,,Words,Rural transport,anonymous,hub\n");
        let parsed = parse(text.as_bytes(), "crawley", &providers(), &vocabulary, today()).unwrap();
        assert_eq!(parsed.rows[0].item.themes, BTreeSet::from(["access-and-waiting-times".to_owned()]));
    }

    #[test]
    fn an_unknown_channel_is_refused() {
        let error = one_error(&format!("{HEADER}2026-03-01,carrier pigeon,,Words,,anonymous,hub\n"));
        assert_eq!(error.column, "channel");
        assert!(error.message.contains("drop-in"), "{}", error.message);
    }

    #[test]
    fn every_channel_spelling_in_the_spec_is_accepted() {
        let mut text = HEADER.to_owned();
        for channel in ["forum", "drop-in", "one-to-one", "survey", "online", "phone"] {
            text.push_str(&format!("2026-03-01,{channel},,Words,,anonymous,hub\n"));
        }
        let parsed = parsed(&text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let channels: Vec<_> = parsed.rows.iter().map(|row| row.item.channel.unwrap()).collect();
        assert_eq!(channels, Channel::ALL.to_vec());
    }

    #[test]
    fn named_and_pseudonymous_speakers_are_recorded_without_a_name() {
        for (speaker, kind) in [("named", SpeakerKind::Named), ("Pseudonymous", SpeakerKind::Pseudonymous)] {
            let parsed = parsed(&format!("{HEADER}2026-03-01,forum,,Words,,{speaker},hub\n"));
            assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
            let item = &parsed.rows[0].item;
            assert_eq!(item.speaker, Some(kind));
            assert_eq!(item.speaker_name, None);
            let logged = crate::domain::log(uuid::Uuid::nil(), uuid::Uuid::nil(), item.clone(), today());
            assert!(logged.is_ok(), "the domain accepts an imported row without a name: {logged:?}");
        }
    }

    #[test]
    fn an_unknown_speaker_or_consent_is_refused() {
        let parsed = parsed(&format!("{HEADER}2026-03-01,forum,,Words,,someone,everyone\n"));
        let columns: Vec<_> = parsed.errors.iter().map(|error| error.column.as_str()).collect();
        assert_eq!(columns, ["speaker", "consent"]);
    }

    #[test]
    fn empty_and_overlong_text_is_refused() {
        let long = "a".repeat(MAX_TEXT_CHARS + 1);
        let parsed =
            parsed(&format!("{HEADER}2026-03-01,forum,,   ,,anonymous,hub\n2026-03-01,forum,,{long},,anonymous,hub\n"));
        assert!(parsed.rows.is_empty());
        let found: Vec<_> = parsed.errors.iter().map(|error| (error.row, error.column.as_str())).collect();
        assert_eq!(found, [(2, "text"), (3, "text")]);
        let exact = "é".repeat(MAX_TEXT_CHARS);
        assert_eq!(self::parsed(&format!("{HEADER}2026-03-01,forum,,{exact},,anonymous,hub\n")).rows.len(), 1);
    }

    #[test]
    fn an_overlong_about_is_refused() {
        let about = "x".repeat(MAX_ABOUT_CHARS + 1);
        let error = one_error(&format!("{HEADER}2026-03-01,forum,{about},Words,,anonymous,hub\n"));
        assert_eq!(error.column, "about");
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported() {
        let parsed = parsed(&format!("{HEADER}someday,fax,,,Nope,nobody,maybe\n"));
        let columns: Vec<_> = parsed.errors.iter().map(|error| error.column.as_str()).collect();
        assert_eq!(columns, ["date", "channel", "text", "themes", "speaker", "consent"]);
        assert!(parsed.errors.iter().all(|error| error.row == 2));
    }

    #[test]
    fn good_rows_are_kept_when_other_rows_are_bad() {
        let parsed = parsed(&format!("{HEADER}{GOOD_ROW}2030-01-01,forum,,Words,,anonymous,hub\n{GOOD_ROW}"));
        assert_eq!(parsed.rows.iter().map(|row| row.row).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(parsed.errors.iter().map(|error| error.row).collect::<Vec<_>>(), [3]);
    }

    #[test]
    fn a_row_with_a_cell_beyond_the_last_heading_is_a_row_error() {
        let parsed = parsed(&format!("{HEADER}2026-03-01,forum,,Words, more words,,anonymous,hub\n{GOOD_ROW}"));
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.errors.len(), 1);
        let error = &parsed.errors[0];
        assert_eq!((error.row, error.column.as_str()), (2, ROW_COLUMN));
        assert!(error.message.contains("column H, beyond the last heading"), "{}", error.message);
    }

    #[test]
    fn a_provider_is_matched_by_name_or_id_ignoring_case_and_spaces() {
        for about in ["change grow live", "  CHANGE GROW LIVE ", "Change  Grow Live", "change-grow-live"] {
            let parsed = parsed(&format!("{HEADER}2026-03-01,forum,{about},Words,,anonymous,hub\n"));
            let item = &parsed.rows[0].item;
            assert_eq!(item.provider.as_deref(), Some("change-grow-live"), "{about:?}");
            assert_eq!(item.about.as_deref(), Some(about.trim()));
        }
    }

    #[test]
    fn an_unknown_provider_keeps_its_about_text_without_a_provider() {
        let parsed = parsed(&format!("{HEADER}2026-03-01,forum,The chemist on the corner,Words,,anonymous,hub\n"));
        let item = &parsed.rows[0].item;
        assert_eq!(item.about.as_deref(), Some("The chemist on the corner"));
        assert_eq!(item.provider, None);
    }

    #[test]
    fn identical_rows_share_a_key_and_different_rows_differ() {
        let different = GOOD_ROW.replace("too long", "far too long");
        let parsed = parsed(&format!("{HEADER}{GOOD_ROW}  {}\n{different}", GOOD_ROW.trim_end()));
        let keys: Vec<_> = parsed.rows.iter().map(|row| row.item.import_key.clone().unwrap()).collect();
        assert_eq!(keys.len(), 3);
        assert_eq!(keys[0], keys[1], "surrounding spaces do not change the key");
        assert_ne!(keys[0], keys[2]);
        assert!(keys[0].chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_same_row_for_another_hub_has_another_key() {
        let text = format!("{HEADER}{GOOD_ROW}");
        let here = parse(text.as_bytes(), "crawley", &providers(), &vocabulary(), today()).unwrap();
        let there = parse(text.as_bytes(), "worthing", &providers(), &vocabulary(), today()).unwrap();
        assert_ne!(here.rows[0].item.import_key, there.rows[0].item.import_key);
    }

    #[test]
    fn the_import_key_is_the_sha256_of_hub_and_the_values_as_heard_reads_them() {
        let parsed = parsed(&format!("{HEADER}{GOOD_ROW}"));
        let content = [
            "crawley",
            "2026-03-01",
            "drop-in",
            "Turning Point",
            "The waiting list is too long",
            "access-and-waiting-times",
            "Anonymous",
            "Hub",
        ]
        .join("\u{1f}");
        let expected = hex::encode(Sha256::digest(content.as_bytes()));
        assert_eq!(parsed.rows[0].item.import_key.as_deref(), Some(expected.as_str()));
    }

    #[test]
    fn the_same_row_written_another_way_has_the_same_key() {
        let other = "Date said,Where,Service,What was said,Theme,Who said it,Who may see it\n\
                     01/03/2026,Drop in,Turning Point,The waiting list is too long,access and waiting times,Anonymous,HUB\n";
        assert_eq!(
            parsed(&format!("{HEADER}{GOOD_ROW}")).rows[0].item.import_key,
            parsed(other).rows[0].item.import_key
        );
    }

    #[test]
    fn messages_never_contain_the_cell_text() {
        let secret = "Zebediah";
        let long = format!("{secret} {}", "x".repeat(MAX_TEXT_CHARS));
        let rows = [
            format!("{secret}-01-01,{secret},,Words,,anonymous,hub"),
            format!("2026-03-01,forum,{secret} {},Words,{secret};Women,{secret},{secret}", "y".repeat(200)),
            format!("2026-03-01,forum,,{long},,anonymous,hub"),
            format!("2026-03-01,forum,,Words,,named,{secret}"),
            format!("2026-03-01,{secret},,{secret},,anonymous,hub,{secret}"),
        ];
        let parsed = parsed(&format!("{HEADER}{}\n", rows.join("\n")));
        assert!(parsed.rows.is_empty());
        assert!(parsed.errors.len() >= 9, "{:?}", parsed.errors);
        for error in &parsed.errors {
            assert!(!error.to_string().to_lowercase().contains(&secret.to_lowercase()), "{error}");
        }
        // Nor for short enumerated values.
        let parsed = self::parsed(&format!("{HEADER}2026-03-01,pidgeon,,Words,,named,everyone\n"));
        for error in &parsed.errors {
            for cell in ["pidgeon", "everyone"] {
                assert!(!error.to_string().contains(cell), "{error}");
            }
        }
    }

    #[test]
    fn rejects_csv_holds_the_bad_rows_with_their_errors() {
        let bad_date = "2030-01-01,forum,,\"Words, with a comma\",,anonymous,hub";
        let bad_two = "2026-03-01,fax,,Words,Nope,anonymous,hub";
        let short = "2026-03-01,forum";
        let text = format!("{HEADER}{GOOD_ROW}{bad_date}\n{GOOD_ROW}{bad_two}\n{short}\n");
        let parsed = parsed(&text);
        assert_eq!(parsed.rows.len(), 2);
        let rejects = String::from_utf8(rejects_of(text.as_bytes())).unwrap();
        assert!(rejects.starts_with('\u{feff}'), "a byte order mark, so that Excel reads it as UTF-8");
        let mut reader = csv::ReaderBuilder::new().from_reader(rejects.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, ["date", "channel", "about", "text", "themes", "speaker", "consent", "error"]);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(&records[0].iter().take(7).collect::<Vec<_>>().join(","), &bad_date.replace('"', ""));
        assert!(records[0][7].starts_with("row 3, date: "), "{}", &records[0][7]);
        assert_eq!(&records[1].iter().take(7).collect::<Vec<_>>().join(","), bad_two);
        let errors: Vec<&str> = records[1][7].split("; ").collect();
        assert!(errors[0].starts_with("row 5, channel: "), "{errors:?}");
        assert!(errors.iter().any(|error| error.starts_with("row 5, themes: ")), "{errors:?}");
        assert_eq!(&records[2][0], "2026-03-01");
        assert_eq!(&records[2][2], "", "a short row is padded so its error lands in the error column");
        assert!(records[2][7].starts_with("row 6, text: "), "{}", &records[2][7]);
    }

    #[test]
    fn a_fixed_rejects_file_can_be_imported_again() {
        let mut bytes = BOM.to_vec();
        bytes.extend_from_slice(format!("{HEADER}{GOOD_ROW}2030-01-01,forum,,Words,,anonymous,hub\n").as_bytes());
        let rejects = rejects_of(&bytes);
        assert!(rejects.starts_with(BOM), "the BOM is kept");
        let again = parse(&rejects, "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert!(again.rows.is_empty());
        assert_eq!(again.errors.len(), 1, "the error column is ignored: {:?}", again.errors);
        let fixed = String::from_utf8(rejects).unwrap().replace("2030-01-01", "2026-01-01");
        let fixed = parse(fixed.as_bytes(), "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert!(fixed.errors.is_empty(), "{:?}", fixed.errors);
        assert_eq!(fixed.rows.len(), 1);
        // Rejecting from a rejects file replaces its error column rather than adding another.
        let twice = rejects_of(&rejects_of(&bytes));
        let header = String::from_utf8(twice).unwrap().lines().next().unwrap().to_owned();
        assert_eq!(header.trim_start_matches('\u{feff}'), "date,channel,about,text,themes,speaker,consent,error");
    }

    #[test]
    fn a_rejected_cell_that_starts_a_formula_is_escaped_in_the_rejects_file_and_imports_again_as_it_was() {
        let words = "=1+2+cmd|' /C calc'!A0 and the pharmacy shuts at five";
        let text = format!("{HEADER}2030-01-01,forum,@Turning Point,\"{words}\",-Women,anonymous,hub\n");
        let first = parsed(&text);
        assert!(first.rows.is_empty(), "the date is in the future");
        let rejects = String::from_utf8(rejects_of(text.as_bytes())).unwrap();
        let rejects = rejects.trim_start_matches('\u{feff}').to_owned();
        let mut reader = csv::ReaderBuilder::new().from_reader(rejects.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[3], format!("'{words}"), "{rejects}");
        assert_eq!(&record[2], "'@Turning Point");
        assert_eq!(&record[4], "'-Women");
        for cell in record.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?} would run as a formula");
        }
        let fixed = rejects.replace("2030-01-01", "2026-01-01");
        let again = parse(fixed.as_bytes(), "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert_eq!(again.errors.len(), 1, "the theme was wrong in the first place: {:?}", again.errors);
        assert_eq!(again.errors[0].column, "themes");
        let fixed = fixed.replace("'-Women", "Women");
        let again = parse(fixed.as_bytes(), "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert!(again.errors.is_empty(), "{:?}", again.errors);
        assert_eq!(again.rows[0].item.text, words, "the quote comes off again on import");
        assert_eq!(again.rows[0].item.about.as_deref(), Some("@Turning Point"));
    }

    #[test]
    fn rejects_csv_without_errors_is_just_the_header() {
        let text = format!("{HEADER}{GOOD_ROW}");
        let rejects = rejects_of(text.as_bytes());
        assert_eq!(
            String::from_utf8(rejects).unwrap(),
            "\u{feff}date,channel,about,text,themes,speaker,consent,error\n"
        );
    }

    #[test]
    fn a_hundred_thousand_row_spreadsheet_parses_every_row_with_its_own_row_number_and_key() {
        let themes = ["Women", "Keyworker time; Opening hours", "", "access and waiting times"];
        let channels = ["forum", "drop-in", "one-to-one", "survey", "online", "phone"];
        let mut text = String::with_capacity(100_000 * 120);
        text.push_str(HEADER);
        for n in 0..100_000 {
            text.push_str(&format!(
                "2025-{:02}-{:02},{},Turning Point,Point number {n} about the service,{},anonymous,public\n",
                n % 12 + 1,
                n % 28 + 1,
                channels[n % channels.len()],
                themes[n % themes.len()],
            ));
        }
        let parsed = parsed(&text);
        assert!(parsed.errors.is_empty(), "{:?}", &parsed.errors[..parsed.errors.len().min(3)]);
        assert_eq!(parsed.rows.len(), 100_000);
        assert_eq!(parsed.rows.last().unwrap().row, 100_001);
        let keys: std::collections::HashSet<_> = parsed.rows.iter().map(|row| row.item.import_key.as_deref()).collect();
        assert_eq!(keys.len(), 100_000);
        // How fast is the import benchmark's business (BENCHMARKS.md), never a test's.
    }
}
