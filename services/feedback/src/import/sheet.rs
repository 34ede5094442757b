//! The cells of the file a hub has: an Excel workbook (`.xlsx`), an OpenDocument spreadsheet
//! (`.ods`, LibreOffice's own) or CSV text in whatever encoding and separator it was saved with.
//!
//! What kind of file it is comes from its first bytes, never from its name alone: a `.csv` that
//! is really a workbook is read as the workbook it is. Workbooks are read with `calamine`; a
//! formula cell gives the value the spreadsheet last worked out and saved, and a date cell gives
//! its day. CSV text is UTF-8 (with or without a byte order mark), UTF-16 with a byte order
//! mark (Excel's "Unicode text"), or, when it is not UTF-8, Windows-1252 (as Excel on Windows
//! saves "CSV"), which is said in a notice; cells are separated by commas, semicolons or tabs,
//! whichever the header row uses.
//!
//! Nothing here allocates by what a file claims: a workbook is read cell by cell where the
//! library allows it (`.xlsx`), and rows beyond [`MAX_ROWS`] or columns beyond [`MAX_COLUMNS`]
//! refuse the file rather than grow a grid.

use std::io::Cursor;

use calamine::{Data, DataRef, Reader};

/// The most rows (counted as the spreadsheet numbers them) a file may have: Excel's own limit.
pub const MAX_ROWS: usize = 1_048_576;
/// The most columns a file may have.
pub const MAX_COLUMNS: usize = 200;

/// What one cell holds, as Heard reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Empty,
    Text(String),
    /// A number cell (never a CSV cell: CSV holds only text).
    Number(f64),
    /// A date cell of a workbook: its day (any time of day is dropped).
    Date(jiff::civil::Date),
    /// A formula whose value the spreadsheet never saved (a file written by a program rather
    /// than by Excel or LibreOffice).
    FormulaWithoutValue,
    /// A cell showing one of the spreadsheet's errors, such as `#N/A` or `#REF!`.
    Error(String),
}

impl Value {
    pub fn is_blank(&self) -> bool {
        match self {
            Value::Empty => true,
            Value::Text(text) => text.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text, as it would be typed: dates as day/month/year, whole numbers without a
    /// decimal point.
    pub fn text(&self) -> String {
        match self {
            Value::Empty | Value::FormulaWithoutValue => String::new(),
            Value::Text(text) => text.clone(),
            Value::Number(number) => number_text(*number),
            Value::Date(date) => format!("{:02}/{:02}/{}", date.day(), date.month(), date.year()),
            Value::Error(error) => error.clone(),
        }
    }
}

fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 { format!("{}", number as i64) } else { number.to_string() }
}

/// The kinds of file Heard reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Xlsx,
    Ods,
    Csv,
}

impl Kind {
    /// In words, for the preview.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Xlsx => "Excel workbook",
            Kind::Ods => "OpenDocument spreadsheet",
            Kind::Csv => "CSV file",
        }
    }
}

/// One row of the file: its number as the spreadsheet shows it, and its cells from column A.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub number: usize,
    pub cells: Vec<Value>,
}

/// The sheet Heard reads, with what it noticed on the way.
#[derive(Clone, Debug)]
pub struct Table {
    pub kind: Kind,
    /// A workbook's sheets, in order; empty for CSV.
    pub sheets: Vec<String>,
    /// The sheet read; `None` for CSV.
    pub sheet: Option<String>,
    /// Rows with anything in them, in order.
    pub rows: Vec<Row>,
    /// Plain sentences about how the file was read.
    pub notices: Vec<String>,
}

/// Why a file cannot be read at all. The words never repeat what the file holds.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Unreadable {
    #[error(
        "this file is protected with a password; open it in Excel or LibreOffice, remove the password and save it again, then upload that"
    )]
    Password,
    #[error(
        "this is an older Excel file (.xls); open it in Excel or LibreOffice and save it as an Excel workbook (.xlsx) or CSV, then upload that"
    )]
    OldExcel,
    #[error(
        "this is not a spreadsheet Heard can read; save it as an Excel workbook (.xlsx), an OpenDocument spreadsheet (.ods) or CSV"
    )]
    NotASpreadsheet,
    #[error("this workbook cannot be read: it looks damaged; open it in Excel or LibreOffice and save it again")]
    Damaged,
    #[error("the workbook has no sheet by that name; choose one of its {0} sheets")]
    NoSuchSheet(usize),
    #[error("the sheet has more than {MAX_ROWS} rows; split it into several files")]
    TooManyRows,
    #[error("the sheet has more than {MAX_COLUMNS} columns; keep only the columns of feedback")]
    TooManyColumns,
    #[error("the workbook is larger than Heard can read at once; save only the sheet of feedback, or save it as CSV")]
    TooManyCells,
    #[error(
        "the CSV text is broken in row {0} (a quote that never closes?); open it in a spreadsheet and save it again"
    )]
    BrokenCsv(usize),
    #[error("{0}")]
    Refused(String),
}

const ZIP: &[u8] = b"PK\x03\x04";
const COMPOUND_FILE: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument.spreadsheet";
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The most cells an `.ods` may hold up to its last cell with content: calamine builds every
/// sheet of an OpenDocument file as a full grid when it opens it (about 32 bytes a cell).
pub const MAX_ODS_CELLS: u64 = 4_000_000;

/// Reads `sheet` (by default the first) of the file in `bytes`. A workbook is first checked by
/// [`super::guard`]: its parts may unpack to at most `max_inflated` bytes, and an `.ods` may
/// hold at most [`MAX_ODS_CELLS`], so that a small hostile file cannot make Heard build a huge
/// one in memory.
pub fn read(bytes: &[u8], sheet: Option<&str>, max_inflated: u64) -> Result<Table, Unreadable> {
    if bytes.starts_with(ZIP) {
        let refused = |refusal: super::guard::Refusal| Unreadable::Refused(refusal.0);
        super::guard::check_zip(bytes, max_inflated).map_err(refused)?;
        if is_ods(bytes) {
            if super::guard::ods_extent(bytes, max_inflated).map_err(refused)? > MAX_ODS_CELLS {
                return Err(Unreadable::TooManyCells);
            }
            workbook(bytes, Kind::Ods, sheet)
        } else {
            workbook(bytes, Kind::Xlsx, sheet)
        }
    } else if bytes.starts_with(COMPOUND_FILE) {
        // Excel keeps a workbook with a password to open inside a compound file, as the old
        // .xls format is kept, as its stream `EncryptedPackage`. The compound file's directory
        // names its streams in UTF-16: that name is looked for here, as calamine would look
        // for it, because calamine's compound-file reader panics on some damaged files (found
        // by fuzzing, see `fuzz/`).
        if names_a_stream(bytes, "EncryptedPackage") { Err(Unreadable::Password) } else { Err(Unreadable::OldExcel) }
    } else {
        csv_table(bytes)
    }
}

/// Whether the compound file in `bytes` holds `name` in UTF-16, as its directory names a stream.
fn names_a_stream(bytes: &[u8], name: &str) -> bool {
    let utf16: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(utf16.len()).any(|window| window == utf16)
}

/// An ODS file begins with an uncompressed `mimetype` entry that says so.
fn is_ods(bytes: &[u8]) -> bool {
    bytes.get(30..38) == Some(b"mimetype") && bytes.get(38..38 + ODS_MIMETYPE.len()) == Some(ODS_MIMETYPE)
}

fn workbook(bytes: &[u8], kind: Kind, sheet: Option<&str>) -> Result<Table, Unreadable> {
    let mut table = Table { kind, sheets: Vec::new(), sheet: None, rows: Vec::new(), notices: Vec::new() };
    match kind {
        Kind::Xlsx => {
            let mut book = calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes)).map_err(
                |error| match error {
                    calamine::XlsxError::Password => Unreadable::Password,
                    _ => Unreadable::Damaged,
                },
            )?;
            let name = choose(&book.sheet_names(), sheet, &mut table)?;
            let mut cells = book.worksheet_cells_reader(&name).map_err(|_| Unreadable::Damaged)?;
            let mut grid = Grid::default();
            while let Some(cell) = cells.next_cell_with_formula().map_err(|_| Unreadable::Damaged)? {
                let (row, column) = cell.pos;
                let value = match (cell.value, cell.formula) {
                    // Excel always saves a formula's value; a file written by a program may not,
                    // and calamine then gives an empty value (or empty text).
                    (DataRef::Empty, Some(formula)) if !formula.is_empty() => Value::FormulaWithoutValue,
                    (DataRef::String(text), Some(formula)) if text.is_empty() && !formula.is_empty() => {
                        Value::FormulaWithoutValue
                    }
                    (value, _) => value_of(Data::from(value)),
                };
                grid.put(row as usize, column as usize, value)?;
            }
            table.rows = grid.rows();
        }
        Kind::Ods => {
            let mut book = calamine::open_workbook_from_rs::<calamine::Ods<_>, _>(Cursor::new(bytes)).map_err(
                |error| match error {
                    calamine::OdsError::Password => Unreadable::Password,
                    _ => Unreadable::Damaged,
                },
            )?;
            let name = choose(&book.sheet_names(), sheet, &mut table)?;
            let values = book.worksheet_range(&name).map_err(|_| Unreadable::Damaged)?;
            let formulas = book.worksheet_formula(&name).ok();
            let mut grid = Grid::default();
            let start = values.start().unwrap_or((0, 0));
            for (row, column, value) in values.used_cells() {
                grid.put(row + start.0 as usize, column + start.1 as usize, value_of(value.clone()))?;
            }
            if let Some(formulas) = formulas {
                let start = formulas.start().unwrap_or((0, 0));
                for (row, column, formula) in formulas.used_cells() {
                    let (row, column) = (row + start.0 as usize, column + start.1 as usize);
                    if !formula.is_empty() && grid.is_empty_at(row, column) {
                        grid.put(row, column, Value::FormulaWithoutValue)?;
                    }
                }
            }
            table.rows = grid.rows();
        }
        Kind::Csv => unreachable!("CSV is read as text"),
    }
    Ok(table)
}

/// The sheet to read: the one asked for, or the first.
fn choose(names: &[String], wanted: Option<&str>, table: &mut Table) -> Result<String, Unreadable> {
    table.sheets = names.to_vec();
    let name = match wanted.map(str::trim).filter(|wanted| !wanted.is_empty()) {
        Some(wanted) => names
            .iter()
            .find(|name| name.trim().eq_ignore_ascii_case(wanted))
            .cloned()
            .ok_or(Unreadable::NoSuchSheet(names.len()))?,
        None => names.first().cloned().ok_or(Unreadable::Damaged)?,
    };
    table.sheet = Some(name.clone());
    Ok(name)
}

fn value_of(data: Data) -> Value {
    match data {
        Data::Empty => Value::Empty,
        Data::String(text) => Value::Text(text),
        Data::Int(number) => Value::Number(number as f64),
        Data::Float(number) => Value::Number(number),
        Data::Bool(true) => Value::Text("TRUE".into()),
        Data::Bool(false) => Value::Text("FALSE".into()),
        Data::DateTime(date) if date.is_datetime() => {
            let (year, month, day, ..) = date.to_ymd_hms_milli();
            jiff::civil::Date::new(year as i16, month as i8, day as i8)
                .map_or_else(|_| Value::Number(date.as_f64()), Value::Date)
        }
        Data::DateTime(date) => Value::Number(date.as_f64()),
        Data::DateTimeIso(text) => {
            text.get(..10).and_then(|day| day.parse().ok()).map_or(Value::Text(text), Value::Date)
        }
        Data::DurationIso(text) => Value::Text(text),
        Data::Error(error) => Value::Error(error.to_string()),
    }
}

/// Cells as they come, kept by row, within the limits.
#[derive(Default)]
struct Grid {
    rows: std::collections::BTreeMap<usize, Vec<Value>>,
}

impl Grid {
    fn put(&mut self, row: usize, column: usize, value: Value) -> Result<(), Unreadable> {
        if value.is_blank() {
            return Ok(());
        }
        if row >= MAX_ROWS {
            return Err(Unreadable::TooManyRows);
        }
        if column >= MAX_COLUMNS {
            return Err(Unreadable::TooManyColumns);
        }
        let cells = self.rows.entry(row).or_default();
        if cells.len() <= column {
            cells.resize(column + 1, Value::Empty);
        }
        cells[column] = value;
        Ok(())
    }

    fn is_empty_at(&self, row: usize, column: usize) -> bool {
        self.rows.get(&row).and_then(|cells| cells.get(column)).is_none_or(Value::is_blank)
    }

    /// Numbered from 1, as a spreadsheet numbers its rows.
    fn rows(self) -> Vec<Row> {
        self.rows.into_iter().map(|(row, cells)| Row { number: row + 1, cells }).collect()
    }
}

/// CSV text: decoded, its separator found, and its records numbered from 1 (a record whose
/// quoted cell spans several lines is one row, as a spreadsheet shows it).
fn csv_table(bytes: &[u8]) -> Result<Table, Unreadable> {
    let mut notices = Vec::new();
    let text = decode(bytes, &mut notices)?;
    let delimiter = separator(&text);
    match delimiter {
        b';' => notices.push("Its columns are separated by semicolons, which Heard reads as they are.".to_owned()),
        b'\t' => notices.push("Its columns are separated by tabs, which Heard reads as they are.".to_owned()),
        _ => {}
    }
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut number = 0;
    loop {
        number += 1;
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => return Err(Unreadable::BrokenCsv(number)),
        }
        if number > MAX_ROWS {
            return Err(Unreadable::TooManyRows);
        }
        if record.len() > MAX_COLUMNS {
            return Err(Unreadable::TooManyColumns);
        }
        let cells: Vec<Value> = record.iter().map(|cell| Value::Text(cell.to_owned())).collect();
        if cells.iter().any(|cell| !cell.is_blank()) {
            rows.push(Row { number, cells });
        }
    }
    Ok(Table { kind: Kind::Csv, sheets: Vec::new(), sheet: None, rows, notices })
}

/// The text of a CSV file, whatever Excel saved it as.
fn decode(bytes: &[u8], notices: &mut Vec<String>) -> Result<String, Unreadable> {
    if let Some(rest) = bytes.strip_prefix(UTF8_BOM) {
        return std::str::from_utf8(rest).map(str::to_owned).map_err(|_| Unreadable::NotASpreadsheet);
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (text, _, malformed) = encoding_rs::UTF_16LE.decode(bytes);
        if malformed {
            return Err(Unreadable::NotASpreadsheet);
        }
        return Ok(text.into_owned());
    }
    // Text has no NUL bytes; a PDF, an image or a Word file does.
    if bytes.contains(&0) {
        return Err(Unreadable::NotASpreadsheet);
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(_) => {
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
            notices.push(
                "This file was saved in the Windows-1252 (Western European) encoding, as Excel on Windows saves CSV. \
                 Heard read it that way: check that £ signs, accents and curly quotes look right in what it found."
                    .to_owned(),
            );
            Ok(text.into_owned())
        }
    }
}

/// The separator the header row uses most outside quotes: comma, semicolon or tab (comma when
/// none is used, or on a tie).
fn separator(text: &str) -> u8 {
    let header = text.trim_start_matches(['\r', '\n']);
    let (mut commas, mut semicolons, mut tabs, mut quoted) = (0, 0, 0, false);
    for byte in header.bytes() {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            b'\t' if !quoted => tabs += 1,
            _ => {}
        }
    }
    if semicolons > commas && semicolons >= tabs {
        b';'
    } else if tabs > commas && tabs > semicolons {
        b'\t'
    } else {
        b','
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(table: &Table) -> Vec<Vec<String>> {
        table.rows.iter().map(|row| row.cells.iter().map(Value::text).collect()).collect()
    }

    #[test]
    fn a_utf8_csv_with_or_without_a_byte_order_mark_reads_the_same() {
        let plain = read("date,text\n25/08/2026,Café opens late\n".as_bytes(), None, 1 << 27).unwrap();
        let mut with_bom = UTF8_BOM.to_vec();
        with_bom.extend_from_slice("date,text\n25/08/2026,Café opens late\n".as_bytes());
        let bom = read(&with_bom, None, 1 << 27).unwrap();
        assert_eq!(texts(&plain), texts(&bom));
        assert_eq!(texts(&plain)[1], ["25/08/2026", "Café opens late"]);
        assert!(plain.notices.is_empty() && bom.notices.is_empty());
        assert_eq!(plain.kind, Kind::Csv);
    }

    #[test]
    fn a_windows_1252_csv_is_read_as_such_with_a_notice() {
        // "£5 bus fare" and curly quotes, as Excel on Windows saves them.
        let bytes = b"date,text\n25/08/2026,\x93The \xA35 bus fare\x94 is too much\n";
        let table = read(bytes, None, 1 << 27).unwrap();
        assert_eq!(texts(&table)[1][1], "\u{201c}The £5 bus fare\u{201d} is too much");
        assert_eq!(table.notices.len(), 1);
        assert!(table.notices[0].contains("Windows-1252"), "{:?}", table.notices);
    }

    #[test]
    fn semicolons_and_tabs_are_found_from_the_header_row() {
        let table =
            read("date;text;themes\n25/08/2026;\"Late, again\";Women, Keyworker time\n".as_bytes(), None, 1 << 27)
                .unwrap();
        assert_eq!(texts(&table)[1], ["25/08/2026", "Late, again", "Women, Keyworker time"]);
        assert!(table.notices[0].contains("semicolons"));
        let table = read("date\ttext\n25/08/2026\tLate; again\n".as_bytes(), None, 1 << 27).unwrap();
        assert_eq!(texts(&table)[1], ["25/08/2026", "Late; again"]);
        let table = read("date,text\n25/08/2026,\"Late; again; and again\"\n".as_bytes(), None, 1 << 27).unwrap();
        assert_eq!(texts(&table)[1], ["25/08/2026", "Late; again; and again"]);
    }

    #[test]
    fn a_utf16_file_as_excel_saves_unicode_text_is_read() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "date\ttext\n25/08/2026\tCafé\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let table = read(&bytes, None, 1 << 27).unwrap();
        assert_eq!(texts(&table)[1], ["25/08/2026", "Café"]);
    }

    #[test]
    fn blank_rows_are_left_out_and_the_others_keep_their_row_numbers() {
        let table = read("date,text\n,\n\"a\nb\",c\n , \nd,e\n,,,\n\n".as_bytes(), None, 1 << 27).unwrap();
        assert_eq!(table.rows.iter().map(|row| row.number).collect::<Vec<_>>(), [1, 3, 5]);
    }

    #[test]
    fn a_file_that_is_not_text_is_not_a_spreadsheet() {
        assert_eq!(read(b"%PDF-1.7\n\x00\x01\x02", None, 1 << 27).unwrap_err(), Unreadable::NotASpreadsheet);
        assert_eq!(read(b"\x89PNG\r\n\x1a\n\x00\x00", None, 1 << 27).unwrap_err(), Unreadable::NotASpreadsheet);
    }

    #[test]
    fn a_compound_file_that_is_not_encrypted_is_an_older_excel_file() {
        let mut bytes = COMPOUND_FILE.to_vec();
        bytes.extend_from_slice(&[0; 600]);
        assert_eq!(read(&bytes, None, 1 << 27).unwrap_err(), Unreadable::OldExcel);
    }

    #[test]
    fn a_compound_file_whose_table_of_sectors_is_cut_short_is_an_older_excel_file_not_a_panic() {
        // The header (512 bytes) of a compound file of 512-byte sectors whose one FAT sector,
        // sector 0, holds only 3 of its bytes: calamine's reader panicked on it.
        let mut bytes = COMPOUND_FILE.to_vec();
        bytes.extend_from_slice(&[0; 16]);
        for half in [0x3E, 3, 0xFFFE, 9, 6, 0, 0, 0] {
            bytes.extend_from_slice(&u16::to_le_bytes(half));
        }
        for word in [0, 1, 1, 0, 0x1000, 0xFFFF_FFFE, 0, 0xFFFF_FFFE, 0, 0] {
            bytes.extend_from_slice(&u32::to_le_bytes(word));
        }
        bytes.resize(512, 0xFF);
        bytes.extend_from_slice(&[0; 3]);
        assert_eq!(read(&bytes, None, 1 << 27).unwrap_err(), Unreadable::OldExcel);
    }

    #[test]
    fn a_compound_file_holding_an_encrypted_package_is_protected_with_a_password() {
        let mut bytes = COMPOUND_FILE.to_vec();
        bytes.extend_from_slice(&[0; 600]);
        bytes.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(read(&bytes, None, 1 << 27).unwrap_err(), Unreadable::Password);
    }

    #[test]
    fn a_zip_that_is_not_a_workbook_is_not_a_spreadsheet() {
        let refused = read(b"PK\x03\x04not really a zip at all", None, 1 << 27).unwrap_err();
        assert!(matches!(&refused, Unreadable::Refused(why) if why.contains("not a spreadsheet")), "{refused:?}");
    }

    #[test]
    fn a_quote_that_never_closes_names_its_row() {
        // The csv reader takes an unclosed quote to the end of the file as one cell, so a
        // broken file shows as a short, strange last row rather than an error: nothing is lost
        // or invented.
        let table = read("date,text\n25/08/2026,\"never closed\n26/08/2026,more\n".as_bytes(), None, 1 << 27).unwrap();
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[1].cells.len(), 2);
    }

    #[test]
    fn numbers_read_as_they_would_be_typed() {
        assert_eq!(Value::Number(46258.0).text(), "46258");
        assert_eq!(Value::Number(2.5).text(), "2.5");
        assert_eq!(Value::Date(jiff::civil::date(2026, 8, 5)).text(), "05/08/2026");
    }
}
