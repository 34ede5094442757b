//! Reading a hub's spreadsheet of feedback: `heard import feedback --data DIR --hub HUB FILE.csv`.
//!
//! A pure module: it turns the bytes of a CSV file into [`NewItem`]s and row errors, and never
//! touches storage. The file is UTF-8 (a UTF-8 byte order mark is fine) with a header row naming
//! the columns `date, channel, about, text, themes, speaker, consent`, in any order and any case.
//!
//! **Row numbers** count the header as row 1, so the first data row is row 2: the number a
//! person sees beside the row when they open the file in a spreadsheet. A row is one CSV record,
//! so a quoted cell that spans several lines is still one row. Rows whose cells are all blank
//! (spreadsheets often export a few at the end) are skipped but still counted.
//!
//! Messages never repeat a cell's content: it may be personal data, and messages end up in
//! logs and terminals. [`rejects_csv`] writes the rejected rows themselves, with what is wrong,
//! to a file on the hub's own disk so a person can fix them and import just those again. Its
//! cells are escaped against formula injection (`heard_api::spreadsheet`), and the quote comes
//! off again when the file is imported.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use heard_access::Consent;
use heard_api::spreadsheet::{escape_cell, unescape_cell};
use sha2::{Digest, Sha256};

use crate::domain::themes::Vocabulary;
use crate::domain::{self, Channel, MAX_TEXT_CHARS, NewItem, Rejection, SpeakerKind};

/// The columns a feedback spreadsheet must have, in the order their cells go into the import key.
pub const COLUMNS: [&str; 7] = ["date", "channel", "about", "text", "themes", "speaker", "consent"];

/// The column [`rejects_csv`] adds. A file that has it is still accepted (its cells are ignored),
/// so a person can fix the rejected rows and import that file as it is.
pub const ERROR_COLUMN: &str = "error";

/// The column named in a [`RowError`] when the row itself is wrong (it has too many or too few
/// cells).
pub const ROW_COLUMN: &str = "(row)";

const DATE: usize = 0;
const CHANNEL: usize = 1;
const ABOUT: usize = 2;
const TEXT: usize = 3;
const THEMES: usize = 4;
const SPEAKER: usize = 5;
const CONSENT: usize = 6;

/// Longest `about`, in characters (as [`domain::log`] allows).
const MAX_ABOUT_CHARS: usize = 200;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A valid row, ready for the service to log.
#[derive(Clone, Debug)]
pub struct ImportRow {
    /// The row number: the header is row 1, the first data row is row 2.
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
    /// The row number: the header is row 1, the first data row is row 2.
    pub row: usize,
    pub column: String,
    pub message: String,
}

/// A file read: the good rows, and what is wrong with the others. A row with several wrong
/// cells has one error for each.
#[derive(Clone, Debug, Default)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<RowError>,
}

/// The file as a whole cannot be imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileError {
    /// Bytes that are not UTF-8, first found in this row.
    NotUtf8 {
        row: usize,
    },
    /// No header, or a header and no rows with anything in them.
    Empty,
    MissingColumn(String),
    /// A column that is not one of [`COLUMNS`] (or [`ERROR_COLUMN`]), named as the header has it.
    UnknownColumn(String),
    /// The CSV itself is broken in this row, or the header row is not a header.
    Unreadable {
        row: usize,
        message: String,
    },
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NotUtf8 { row } => {
                write!(f, "row {row} is not UTF-8 text; save the spreadsheet as \"CSV UTF-8\" and import it again")
            }
            FileError::Empty => write!(f, "the file has no rows"),
            FileError::MissingColumn(column) => {
                write!(f, "the file has no \"{column}\" column; the header row needs {}", column_list())
            }
            FileError::UnknownColumn(column) if column.is_empty() => {
                write!(f, "a column has no heading; remove it (the columns are {})", column_list())
            }
            FileError::UnknownColumn(column) => write!(
                f,
                "the file has a column \"{column}\" that is not known; remove it (the columns are {})",
                column_list()
            ),
            FileError::Unreadable { row, message } => write!(f, "row {row} cannot be read: {message}"),
        }
    }
}

impl std::error::Error for FileError {}

fn column_list() -> String {
    format!("{} and {}", COLUMNS[..COLUMNS.len() - 1].join(", "), COLUMNS[COLUMNS.len() - 1])
}

/// Reads a feedback spreadsheet for `hub`.
///
/// `providers` are the known providers as `(id, name)`: an `about` cell that matches one's name
/// or id (ignoring case and surrounding spaces) links the item to that provider. Themes are
/// matched by name or id through [`Vocabulary::find`]. Dates may not be after `today`.
///
/// Every row is read, so one call reports every bad row. The file as a whole is refused (a
/// [`FileError`]) when it is not UTF-8, has no rows, or its header is wrong.
pub fn parse(
    bytes: &[u8],
    hub: &str,
    providers: &[(String, String)],
    vocabulary: &Vocabulary,
    today: jiff::civil::Date,
) -> Result<Parsed, FileError> {
    let (_, body) = split_bom(bytes);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    let mut reader = reader(body);
    let mut record = csv::ByteRecord::new();
    if !read(&mut reader, &mut record, 1)? {
        return Err(FileError::Empty);
    }
    let layout = Layout::from_header(&record)?;
    let mut context = Context::new(hub, providers, vocabulary, today);

    let mut parsed = Parsed::default();
    let mut row = 1;
    loop {
        row += 1;
        if !read(&mut reader, &mut record, row)? {
            break;
        }
        let mut cells = Vec::with_capacity(record.len());
        for field in record.iter() {
            cells.push(std::str::from_utf8(field).map_err(|_| FileError::NotUtf8 { row })?);
        }
        if cells.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        if cells.len() != layout.width {
            parsed.errors.push(RowError {
                row,
                column: ROW_COLUMN.into(),
                message: format!(
                    "this row has {} cells but the header has {}; check for a stray comma or a missing quote",
                    cells.len(),
                    layout.width
                ),
            });
            continue;
        }
        let cells: [&str; 7] = std::array::from_fn(|column| unescape_cell(cells[layout.index[column]].trim()).trim());
        let before = parsed.errors.len();
        let item = context.item(&cells, row, &mut parsed.errors);
        if let (Some(item), true) = (item, parsed.errors.len() == before) {
            parsed.rows.push(ImportRow { row, item });
        }
    }
    if parsed.rows.is_empty() && parsed.errors.is_empty() {
        return Err(FileError::Empty);
    }
    Ok(parsed)
}

/// The rejected rows as a CSV to fix and import again: the original header (plus an `error`
/// column, unless it already has one) and, for each row with errors, its original cells and all
/// its errors joined by "; ". It repeats what the rows hold, so it belongs on the hub's own
/// disk only. Rows are in file order; a BOM in the original is kept.
pub fn rejects_csv(bytes: &[u8], errors: &[RowError]) -> Vec<u8> {
    let (bom, body) = split_bom(bytes);
    let mut messages: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for error in errors {
        messages.entry(error.row).or_default().push(format!("{}: {}", error.column, error.message));
    }
    let mut out = Vec::with_capacity(bom.len());
    out.extend_from_slice(bom);
    let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(out);
    let mut reader = reader(body);
    let mut record = csv::ByteRecord::new();
    if matches!(reader.read_byte_record(&mut record), Ok(true)) {
        let width = record.len();
        let existing = record.iter().position(|name| name.trim_ascii().eq_ignore_ascii_case(ERROR_COLUMN.as_bytes()));
        let mut header: Vec<&[u8]> = record.iter().collect();
        if existing.is_none() {
            header.push(ERROR_COLUMN.as_bytes());
        }
        write(&mut writer, &header);
        let last = messages.keys().next_back().copied().unwrap_or(0);
        let mut row = 1;
        while row < last && matches!(reader.read_byte_record(&mut record), Ok(true)) {
            row += 1;
            let Some(messages) = messages.get(&row) else { continue };
            let joined = messages.join("; ");
            let mut cells: Vec<&[u8]> = record.iter().collect();
            if cells.len() < width {
                cells.resize(width, b"");
            }
            match existing {
                Some(index) => cells[index] = joined.as_bytes(),
                None => cells.push(joined.as_bytes()),
            }
            write(&mut writer, &cells);
        }
    }
    writer.into_inner().expect("writing to memory cannot fail")
}

/// Every cell is escaped: a rejected row repeats whatever the hub's spreadsheet held, and none of
/// it may run as a formula when the file is opened ([`unescape_cell`] undoes it on import).
fn write(writer: &mut csv::Writer<Vec<u8>>, cells: &[&[u8]]) {
    writer.write_record(cells.iter().map(escape_cell)).expect("writing to memory cannot fail");
}

fn split_bom(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.strip_prefix(BOM) {
        Some(body) => (BOM, body),
        None => (&[], bytes),
    }
}

/// Both [`parse`] and [`rejects_csv`] read with this, so they number rows alike. The field count
/// is checked by hand rather than by the reader (`flexible(false)`), so that a blank line of any
/// width is skipped rather than reported.
fn reader(body: &[u8]) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body)
}

fn read(reader: &mut csv::Reader<&[u8]>, record: &mut csv::ByteRecord, row: usize) -> Result<bool, FileError> {
    reader.read_byte_record(record).map_err(|error| FileError::Unreadable {
        row,
        message: match error.kind() {
            csv::ErrorKind::Utf8 { .. } => "it is not UTF-8 text".into(),
            _ => "the CSV is broken here".into(),
        },
    })
}

/// Where each of [`COLUMNS`] is in the file.
struct Layout {
    index: [usize; 7],
    width: usize,
}

impl Layout {
    fn from_header(record: &csv::ByteRecord) -> Result<Layout, FileError> {
        let mut names = Vec::with_capacity(record.len());
        for field in record.iter() {
            names.push(std::str::from_utf8(field).map_err(|_| FileError::NotUtf8 { row: 1 })?.trim());
        }
        let known = |name: &str| COLUMNS.iter().position(|column| column.eq_ignore_ascii_case(name));
        if names.len() == 1 && names[0].contains([';', '\t']) && known(names[0]).is_none() {
            return Err(FileError::Unreadable {
                row: 1,
                message: "the columns are not separated by commas; save the spreadsheet as CSV (comma separated)"
                    .into(),
            });
        }
        // A first row with no known heading is most likely data: say so rather than echo it.
        if !names.iter().any(|name| known(name).is_some()) {
            return Err(FileError::Unreadable {
                row: 1,
                message: format!("the first row must be the column headings: {}", column_list()),
            });
        }
        let mut index = [None; 7];
        let mut error_column = false;
        for (position, name) in names.iter().enumerate() {
            let duplicate = match known(name) {
                Some(column) => index[column].replace(position).is_some(),
                None if name.eq_ignore_ascii_case(ERROR_COLUMN) => std::mem::replace(&mut error_column, true),
                None => return Err(FileError::UnknownColumn((*name).to_owned())),
            };
            if duplicate {
                return Err(FileError::Unreadable {
                    row: 1,
                    message: format!("there are two \"{}\" columns", name.to_lowercase()),
                });
            }
        }
        let mut found = [0; 7];
        for (column, position) in index.into_iter().enumerate() {
            found[column] = position.ok_or_else(|| FileError::MissingColumn(COLUMNS[column].to_owned()))?;
        }
        Ok(Layout { index: found, width: names.len() })
    }
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
    fn new(
        hub: &'a str,
        providers: &'a [(String, String)],
        vocabulary: &'a Vocabulary,
        today: jiff::civil::Date,
    ) -> Context<'a> {
        let mut map = HashMap::new();
        // Names first, so that an id wins where a name happens to equal another provider's id.
        for (id, name) in providers {
            map.insert(provider_key(name), id.as_str());
        }
        for (id, _) in providers {
            map.insert(provider_key(id), id.as_str());
        }
        Context { hub, providers: map, vocabulary, themes: HashMap::new(), today }
    }

    /// Checks one row's trimmed cells (in [`COLUMNS`] order), pushing an error for each bad cell.
    fn item(&mut self, cells: &[&str; 7], row: usize, errors: &mut Vec<RowError>) -> Option<NewItem> {
        let mut fail = |column: usize, message: String| {
            errors.push(RowError { row, column: COLUMNS[column].to_owned(), message });
        };

        let said_on = if cells[DATE].is_empty() {
            fail(DATE, "the date is missing; enter it as day, month and year, for example 4/12/2026".into());
            None
        } else {
            match domain::check_date(COLUMNS[DATE], cells[DATE], self.today) {
                Ok(date) => Some(date.to_string()),
                Err(Rejection::Invalid { message, .. } | Rejection::Conflict(message)) => {
                    fail(DATE, message);
                    None
                }
            }
        };

        let channel = Channel::parse(cells[CHANNEL]);
        if channel.is_none() {
            let list = Channel::ALL.map(Channel::as_str).join(", ");
            let what = if cells[CHANNEL].is_empty() { "the channel is missing" } else { "this is not a channel" };
            fail(CHANNEL, format!("{what}; use one of {list}"));
        }

        let about = (!cells[ABOUT].is_empty()).then(|| cells[ABOUT].to_owned());
        if heard_text::clean(cells[ABOUT]).is_err() {
            fail(ABOUT, heard_text::ControlCharacter::MESSAGE.into());
        } else if cells[ABOUT].chars().count() > MAX_ABOUT_CHARS {
            fail(ABOUT, format!("name the service in at most {MAX_ABOUT_CHARS} characters"));
        }
        let provider =
            about.as_deref().and_then(|about| self.providers.get(&provider_key(about))).map(|id| (*id).to_owned());

        let text = cells[TEXT];
        if text.is_empty() {
            fail(TEXT, "the text is missing; write down what the person said".into());
        } else if heard_text::clean(text).is_err() {
            fail(TEXT, heard_text::ControlCharacter::MESSAGE.into());
        } else if text.chars().count() > MAX_TEXT_CHARS {
            fail(TEXT, format!("one item holds at most {MAX_TEXT_CHARS} characters; split it into several rows"));
        }

        let themes = self.themes(cells[THEMES], &mut fail);

        let speaker = match SpeakerKind::parse(cells[SPEAKER]) {
            // A spreadsheet has no name column: for named and pseudonymous speakers the kind is
            // recorded and the name stays in the hub's own records.
            Some(kind) => Some(kind),
            None if cells[SPEAKER].is_empty() => {
                fail(SPEAKER, "the speaker is missing; use anonymous, pseudonymous or named".into());
                None
            }
            None => {
                fail(SPEAKER, "this is not a kind of speaker; use anonymous, pseudonymous or named".into());
                None
            }
        };

        let consent: Option<Consent> = domain::parse_consent(cells[CONSENT]);
        if consent.is_none() {
            let what = if cells[CONSENT].is_empty() { "the consent is missing" } else { "this is not a consent" };
            fail(CONSENT, format!("{what}; choose who may see it: hub, commissioners or public"));
        }

        Some(NewItem {
            hub: self.hub.to_owned(),
            channel: Some(channel?),
            about,
            provider,
            themes: themes?,
            speaker: Some(speaker?),
            consent: Some(consent?),
            said_on: said_on?,
            text: text.to_owned(),
            import_key: Some(import_key(self.hub, cells)),
            ..NewItem::default()
        })
    }

    /// Theme ids for a cell of names separated by semicolons; `None` if any is unknown.
    fn themes(&mut self, cell: &str, fail: &mut impl FnMut(usize, String)) -> Option<BTreeSet<String>> {
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
        fail(
            THEMES,
            format!(
                "{which} not in the theme list; check the spelling (separate themes with ;) or ask a coordinator to add it"
            ),
        );
        None
    }
}

/// Hex SHA-256 of the hub and the row's trimmed cells in [`COLUMNS`] order, separated by U+001F:
/// the same row gives the same key whatever the column order, so importing a file twice logs
/// each row once.
fn import_key(hub: &str, cells: &[&str; 7]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(hub.as_bytes());
    for cell in cells {
        hasher.update("\u{1f}".as_bytes());
        hasher.update(cell.as_bytes());
    }
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::themes;

    const HEADER: &str = "date,channel,about,text,themes,speaker,consent\n";

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
    fn bytes_that_are_not_utf8_name_their_row() {
        let mut bytes = format!("{HEADER}{GOOD_ROW}").into_bytes();
        bytes.extend_from_slice(b"2026-03-01,forum,,Caf\xE9 was closed,,anonymous,hub\n");
        let error = parse(&bytes, "crawley", &providers(), &vocabulary(), today()).unwrap_err();
        assert_eq!(error, FileError::NotUtf8 { row: 3 });
        assert!(error.to_string().contains("row 3"), "{error}");
        assert!(error.to_string().contains("UTF-8"), "{error}");
    }

    #[test]
    fn a_header_that_is_not_utf8_is_row_one() {
        let mut bytes = b"date,channel,about,text,themes,speaker,consent,\xFF\n".to_vec();
        bytes.extend_from_slice(GOOD_ROW.as_bytes());
        let error = parse(&bytes, "crawley", &providers(), &vocabulary(), today()).unwrap_err();
        assert_eq!(error, FileError::NotUtf8 { row: 1 });
    }

    #[test]
    fn a_utf16_file_is_refused_as_not_utf8() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in format!("{HEADER}{GOOD_ROW}").encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let error = parse(&bytes, "crawley", &providers(), &vocabulary(), today()).unwrap_err();
        assert_eq!(error, FileError::NotUtf8 { row: 1 });
    }

    #[test]
    fn a_missing_column_is_named() {
        let error = parse_text("date,channel,about,text,speaker,consent\n").unwrap_err();
        assert_eq!(error, FileError::MissingColumn("themes".into()));
        assert!(error.to_string().contains("\"themes\""), "{error}");
    }

    #[test]
    fn about_and_themes_columns_are_required_but_their_cells_may_be_empty() {
        let error = parse_text("date,channel,text,themes,speaker,consent\n").unwrap_err();
        assert_eq!(error, FileError::MissingColumn("about".into()));
        let parsed = parsed(&format!("{HEADER}2026-03-01,forum,,Some words,  ,anonymous,hub\n"));
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.rows[0].item.about, None);
        assert_eq!(parsed.rows[0].item.provider, None);
        assert!(parsed.rows[0].item.themes.is_empty());
    }

    #[test]
    fn an_unknown_column_is_named() {
        let error = parse_text("date,channel,about,text,themes,Postcode,speaker,consent\n").unwrap_err();
        assert_eq!(error, FileError::UnknownColumn("Postcode".into()));
        assert!(error.to_string().contains("\"Postcode\""), "{error}");
    }

    #[test]
    fn a_column_without_a_heading_is_unknown() {
        let error = parse_text("date,channel,about,text,themes,speaker,consent,\n").unwrap_err();
        assert_eq!(error, FileError::UnknownColumn(String::new()));
        assert!(error.to_string().contains("no heading"), "{error}");
    }

    #[test]
    fn a_column_given_twice_is_refused() {
        let error = parse_text("date,channel,about,text,themes,speaker,consent,Text\n").unwrap_err();
        assert!(matches!(&error, FileError::Unreadable { row: 1, .. }), "{error:?}");
        assert!(error.to_string().contains("two \"text\" columns"), "{error}");
    }

    #[test]
    fn a_file_without_a_header_row_is_refused_without_echoing_its_first_row() {
        let error = parse_text(GOOD_ROW).unwrap_err();
        assert!(matches!(&error, FileError::Unreadable { row: 1, .. }), "{error:?}");
        assert!(!error.to_string().contains("waiting list"), "{error}");
    }

    #[test]
    fn a_semicolon_separated_file_is_explained() {
        let error = parse_text("date;channel;about;text;themes;speaker;consent\n").unwrap_err();
        assert!(error.to_string().contains("not separated by commas"), "{error}");
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
        let text = format!("{HEADER},,,,,,\n , , ,,,,\n{GOOD_ROW}\n\n");
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
    fn a_row_with_the_wrong_number_of_cells_is_a_row_error() {
        let parsed = parsed(&format!("{HEADER}2026-03-01,forum,,Words, more words,,anonymous,hub\n{GOOD_ROW}"));
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.errors.len(), 1);
        let error = &parsed.errors[0];
        assert_eq!((error.row, error.column.as_str()), (2, ROW_COLUMN));
        assert!(error.message.contains("8 cells but the header has 7"), "{}", error.message);
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
    fn the_import_key_is_the_sha256_of_hub_and_cells() {
        let parsed = parsed(&format!("{HEADER}{GOOD_ROW}"));
        let content = [
            "crawley",
            "2026-03-01",
            "drop-in",
            "Turning Point",
            "The waiting list is too long",
            "Access and waiting times",
            "anonymous",
            "hub",
        ]
        .join("\u{1f}");
        let expected = hex::encode(Sha256::digest(content.as_bytes()));
        assert_eq!(parsed.rows[0].item.import_key.as_deref(), Some(expected.as_str()));
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
        let rejects = String::from_utf8(rejects_csv(text.as_bytes(), &parsed.errors)).unwrap();
        let mut reader = csv::ReaderBuilder::new().from_reader(rejects.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, ["date", "channel", "about", "text", "themes", "speaker", "consent", "error"]);
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 3);
        assert_eq!(&records[0].iter().take(7).collect::<Vec<_>>().join(","), &bad_date.replace('"', ""));
        assert!(records[0][7].starts_with("date: "), "{}", &records[0][7]);
        assert_eq!(&records[1].iter().take(7).collect::<Vec<_>>().join(","), bad_two);
        let errors: Vec<&str> = records[1][7].split("; ").collect();
        assert!(errors[0].starts_with("channel: "), "{errors:?}");
        assert!(errors.iter().any(|error| error.starts_with("themes: ")), "{errors:?}");
        assert_eq!(&records[2][0], "2026-03-01");
        assert_eq!(&records[2][2], "", "a short row is padded so its error lands in the error column");
        assert!(records[2][7].starts_with("(row): "), "{}", &records[2][7]);
    }

    #[test]
    fn a_fixed_rejects_file_can_be_imported_again() {
        let mut bytes = BOM.to_vec();
        bytes.extend_from_slice(format!("{HEADER}{GOOD_ROW}2030-01-01,forum,,Words,,anonymous,hub\n").as_bytes());
        let first = parse(&bytes, "crawley", &providers(), &vocabulary(), today()).unwrap();
        let rejects = rejects_csv(&bytes, &first.errors);
        assert!(rejects.starts_with(BOM), "the BOM is kept");
        let again = parse(&rejects, "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert!(again.rows.is_empty());
        assert_eq!(again.errors.len(), 1, "the error column is ignored: {:?}", again.errors);
        let fixed = String::from_utf8(rejects).unwrap().replace("2030-01-01", "2026-01-01");
        let fixed = parse(fixed.as_bytes(), "crawley", &providers(), &vocabulary(), today()).unwrap();
        assert!(fixed.errors.is_empty(), "{:?}", fixed.errors);
        assert_eq!(fixed.rows.len(), 1);
        // Rejecting from a rejects file replaces its error column rather than adding another.
        let twice = String::from_utf8(rejects_csv(&bytes, &first.errors)).unwrap();
        let twice = rejects_csv(twice.as_bytes(), &again.errors);
        let header = String::from_utf8(twice).unwrap().lines().next().unwrap().to_owned();
        assert_eq!(header.trim_start_matches('\u{feff}'), "date,channel,about,text,themes,speaker,consent,error");
    }

    #[test]
    fn a_rejected_cell_that_starts_a_formula_is_escaped_in_the_rejects_file_and_imports_again_as_it_was() {
        let words = "=1+2+cmd|' /C calc'!A0 and the pharmacy shuts at five";
        let text = format!("{HEADER}2030-01-01,forum,@Turning Point,\"{words}\",-Women,anonymous,hub\n");
        let first = parsed(&text);
        assert!(first.rows.is_empty(), "the date is in the future");
        let rejects = String::from_utf8(rejects_csv(text.as_bytes(), &first.errors)).unwrap();
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
        let rejects = rejects_csv(text.as_bytes(), &[]);
        assert_eq!(String::from_utf8(rejects).unwrap(), "date,channel,about,text,themes,speaker,consent,error\n");
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
