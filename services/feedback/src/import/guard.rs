//! The guard an uploaded workbook passes before calamine opens it (issue #16).
//!
//! An .xlsx or .ods file is a zip of XML, and a few hundred kilobytes of zip can unpack to
//! gigabytes (a "zip bomb"), or describe billions of cells in a few bytes (an .ods cell repeated
//! 16,384 times across 1,048,576 rows). calamine would build all of it in memory, so the server
//! checks first, without unpacking more than a set number of bytes:
//!
//! - [`check_zip`] reads only the zip's directory: how many entries, how large they say they are.
//! - [`ods_extent`] streams an .ods's `content.xml` through a counter that stops at the limit
//!   and tells how many cells a reader that expands repeats would build.
//!
//! A pure module, like `import`: bytes in, a figure or a [`Refusal`] out. A refusal's words are
//! for the coordinator who uploaded the file and never quote the file, whose cells may be a
//! person's words.

use std::io::{self, BufReader, Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use zip::ZipArchive;
use zip::result::ZipError;

/// What a guard refuses, in plain words for a coordinator (no file content in it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// More entries than any spreadsheet has: Excel and LibreOffice write a few dozen.
pub const MAX_ZIP_ENTRIES: usize = 10_000;

const NOT_A_WORKBOOK: &str = "this file is not a spreadsheet Heard can read; save it again as an Excel workbook \
     (.xlsx), an OpenDocument spreadsheet (.ods) or CSV";

const PASSWORD_OR_OLD_EXCEL: &str = "this file is protected by a password or saved in the older Excel format (.xls), \
     which Heard cannot read; save it again without a password as an Excel workbook (.xlsx), or as CSV";

const PASSWORD_PROTECTED: &str = "this file is protected by a password, so Heard cannot read it; save it again \
     without a password, or as CSV";

const TOO_LARGE_UNPACKED: &str = "this file is larger than Heard can read once unpacked; save it again with only \
     the sheet of feedback, or as CSV";

const TOO_MANY_PARTS: &str = "this file has more parts than a spreadsheet has, so Heard will not open it; save it \
     again with only the sheet of feedback, or as CSV";

const DAMAGED: &str = "this spreadsheet is damaged and Heard cannot read its cells; open it and save it again, \
     or save it as CSV";

fn refusal(words: &str) -> Refusal {
    Refusal(words.to_owned())
}

/// The first bytes of a compound file: what Excel wraps a password-protected workbook in, and
/// what an old .xls is.
const COMPOUND_FILE_SIGNATURE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// Refuses a zip whose entries' declared uncompressed sizes add up to more than `max_inflated`
/// bytes, that has more than 10,000 entries, or that cannot be read as a zip. The declared sizes
/// are not trusted alone: reading an entry that inflates past its declared size must also be
/// caught where this module reads entries (see [`ods_extent`]).
///
/// Only the zip's central directory is read; nothing is inflated. A compound file (a
/// password-protected .xlsx, or an old .xls) is refused with words that say so.
pub fn check_zip(bytes: &[u8], max_inflated: u64) -> Result<(), Refusal> {
    let mut archive = open_zip(bytes)?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(refusal(TOO_MANY_PARTS));
    }
    let mut declared: u64 = 0;
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(|_| refusal(DAMAGED))?;
        declared = declared.saturating_add(entry.size());
    }
    if declared > max_inflated {
        return Err(refusal(TOO_LARGE_UNPACKED));
    }
    Ok(())
}

fn open_zip(bytes: &[u8]) -> Result<ZipArchive<Cursor<&[u8]>>, Refusal> {
    if bytes.starts_with(COMPOUND_FILE_SIGNATURE) {
        return Err(refusal(PASSWORD_OR_OLD_EXCEL));
    }
    ZipArchive::new(Cursor::new(bytes)).map_err(|_| refusal(NOT_A_WORKBOOK))
}

/// For an .ods file: streams content.xml (inflating at most `max_inflated` bytes, never more)
/// with quick-xml and returns how many cells a reader that expands repeats would hold up to the
/// last cell that has content, taking table:number-rows-repeated and
/// table:number-columns-repeated into account. Trailing empty repeats (what LibreOffice writes)
/// count for nothing.
///
/// Each sheet counts as the rectangle from A1 to its last row with content and its widest
/// row's last cell with content. The figure is the sum over the sheets, not the largest sheet
/// alone: calamine reads every sheet of an .ods when it opens the file, so that is what the
/// server would hold at once. A cell has content when it has a value, a formula or anything
/// inside it.
///
/// Content that stops before the document's end is refused as damaged, not measured: calamine
/// 0.38 loops for ever on an .ods whose content.xml ends inside a sheet.
///
/// The manifest is read first (from the same `max_inflated`): a password-protected .ods is
/// refused as one. An entry that inflates past its declared size is refused as damaged (the zip
/// reader counts), and so is XML that is not well formed. Memory stays small whatever the
/// repeats say; at worst one XML event is held, and an event is never larger than `max_inflated`.
pub fn ods_extent(bytes: &[u8], max_inflated: u64) -> Result<u64, Refusal> {
    let mut archive = open_zip(bytes)?;
    let mut budget = InflateBudget { left: max_inflated, exceeded: false };
    if manifest_declares_encryption(&mut archive, &mut budget)? {
        return Err(refusal(PASSWORD_PROTECTED));
    }
    let content = archive.by_name("content.xml").map_err(|error| match error {
        ZipError::FileNotFound => refusal(NOT_A_WORKBOOK),
        _ => refusal(DAMAGED),
    })?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(Limited { inner: content, budget: &mut budget }));
    let extent = read_extent(&mut reader);
    let exceeded = reader.into_inner().into_inner().budget.exceeded;
    match extent {
        Err(_) if exceeded => Err(refusal(TOO_LARGE_UNPACKED)),
        Err(_) => Err(refusal(DAMAGED)),
        Ok(extent) => Ok(extent),
    }
}

/// How many inflated bytes the guard may still read, shared by the entries it reads.
struct InflateBudget {
    left: u64,
    exceeded: bool,
}

/// An entry's reader that fails once the budget is spent, before handing over a byte more.
struct Limited<'budget, R> {
    inner: R,
    budget: &'budget mut InflateBudget,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.budget.left == 0 {
            // The XML is not finished (its last element stops the reading), so the entry goes
            // on past what Heard will unpack.
            self.budget.exceeded = true;
            return Err(io::Error::other("inflated past the limit"));
        }
        let wanted = buf.len().min(usize::try_from(self.budget.left).unwrap_or(usize::MAX));
        let read = self.inner.read(&mut buf[..wanted])?;
        self.budget.left -= read as u64;
        Ok(read)
    }
}

/// Whether META-INF/manifest.xml names encryption data (ODF's password protection). A missing
/// manifest is left for calamine to report.
fn manifest_declares_encryption(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    budget: &mut InflateBudget,
) -> Result<bool, Refusal> {
    let manifest = match archive.by_name("META-INF/manifest.xml") {
        Ok(manifest) => manifest,
        Err(ZipError::FileNotFound) => return Ok(false),
        Err(_) => return Err(refusal(DAMAGED)),
    };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(Limited { inner: manifest, budget }));
    let mut buf = Vec::new();
    let found = loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(element) | Event::Empty(element))
                if element.name().as_ref() == "manifest:encryption-data" =>
            {
                break Ok(true);
            }
            Ok(Event::End(element)) if element.name().as_ref() == "manifest:manifest" => break Ok(false),
            Ok(Event::Eof) => break Ok(false),
            Ok(_) => {}
            Err(_) => break Err(()),
        }
    };
    let exceeded = reader.into_inner().into_inner().budget.exceeded;
    match found {
        Err(()) if exceeded => Err(refusal(TOO_LARGE_UNPACKED)),
        Err(()) => Err(refusal(DAMAGED)),
        Ok(found) => Ok(found),
    }
}

/// Why the content could not be measured: the caller tells a spent budget from damage.
struct Unreadable;

/// One sheet's extent so far.
#[derive(Default)]
struct Sheet {
    /// Rows before the current one, repeats counted.
    rows_before: u64,
    /// The row number (from 1) of the last row with content.
    last_row_with_content: u64,
    /// The column number (from 1) of the last cell with content in any row.
    widest: u64,
}

/// The row being read.
struct Row {
    repeats: u64,
    /// Cells before the current one, repeats counted.
    columns_before: u64,
    /// The column number (from 1) of the last cell with content in this row.
    last_column_with_content: u64,
}

/// The cell being read.
struct OpenCell {
    repeats: u64,
    has_content: bool,
    /// Elements open inside the cell, the cell itself included.
    depth: u32,
}

/// Walks content.xml and adds up the sheets' extents, element by element: nothing is expanded.
/// The element names are matched with their usual prefixes, as calamine matches them.
fn read_extent<R: io::BufRead>(reader: &mut quick_xml::Reader<R>) -> Result<u64, Unreadable> {
    let mut total: u64 = 0;
    let mut sheet: Option<Sheet> = None;
    let mut row: Option<Row> = None;
    let mut cell: Option<OpenCell> = None;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = reader.read_event_into(&mut buf).map_err(|_| Unreadable)?;
        if let Some(open) = cell.as_mut() {
            // Inside a cell anything counts as content, and only the cell's own end matters.
            match event {
                Event::Start(_) => {
                    open.has_content = true;
                    open.depth += 1;
                }
                Event::Empty(_) => open.has_content = true,
                Event::Text(ref text) if !text.trim_ascii().is_empty() => open.has_content = true,
                Event::CData(_) | Event::GeneralRef(_) => open.has_content = true,
                Event::End(_) => {
                    open.depth -= 1;
                    if open.depth == 0 {
                        let closed = cell.take().expect("a cell is open");
                        if let Some(row) = row.as_mut() {
                            close_cell(row, closed.repeats, closed.has_content);
                        }
                    }
                }
                Event::Eof => return Err(Unreadable),
                _ => {}
            }
            continue;
        }
        match event {
            Event::Start(ref element) | Event::Empty(ref element) => {
                let empty = matches!(event, Event::Empty(_));
                match element.name().as_ref() {
                    "table:table" if sheet.is_none() && !empty => sheet = Some(Sheet::default()),
                    "table:table-row" if row.is_none() => {
                        if let Some(sheet) = sheet.as_mut() {
                            let opened = Row {
                                repeats: repeats(element, "table:number-rows-repeated")?,
                                columns_before: 0,
                                last_column_with_content: 0,
                            };
                            if empty {
                                close_row(sheet, &opened);
                            } else {
                                row = Some(opened);
                            }
                        }
                    }
                    "table:table-cell" | "table:covered-table-cell" => {
                        if let Some(row) = row.as_mut() {
                            let repeats = repeats(element, "table:number-columns-repeated")?;
                            let has_content = has_value_or_formula(element)?;
                            if empty {
                                close_cell(row, repeats, has_content);
                            } else {
                                cell = Some(OpenCell { repeats, has_content, depth: 1 });
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::End(ref element) => match element.name().as_ref() {
                "table:table-row" => {
                    if let (Some(sheet), Some(closed)) = (sheet.as_mut(), row.take()) {
                        close_row(sheet, &closed);
                    }
                }
                "table:table" => {
                    if let Some(closed) = sheet.take() {
                        total = total.saturating_add(closed.last_row_with_content.saturating_mul(closed.widest));
                    }
                    row = None;
                }
                // The document's end: stop before asking the entry for a byte more.
                "office:document-content" => return Ok(total),
                _ => {}
            },
            // A well-formed document stops at its end, above: this one was cut short. calamine
            // 0.38 never returns from an .ods whose content.xml ends inside a sheet (its loop over
            // a sheet's rows takes the end of the file for one more event), so it is damage.
            Event::Eof => return Err(Unreadable),
            _ => {}
        }
    }
}

fn close_cell(row: &mut Row, repeats: u64, has_content: bool) {
    row.columns_before = row.columns_before.saturating_add(repeats);
    if has_content {
        row.last_column_with_content = row.columns_before;
    }
}

fn close_row(sheet: &mut Sheet, row: &Row) {
    sheet.rows_before = sheet.rows_before.saturating_add(row.repeats);
    if row.last_column_with_content > 0 {
        sheet.last_row_with_content = sheet.rows_before;
        sheet.widest = sheet.widest.max(row.last_column_with_content);
    }
}

/// A repeat count (1 when the attribute is missing). Not a number, or an attribute given twice
/// (a reader taking the first and the guard the last would disagree), is damage.
fn repeats(element: &BytesStart, name: &str) -> Result<u64, Unreadable> {
    let mut found = None;
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|_| Unreadable)?;
        if attribute.key.as_ref() == name {
            found = Some(attribute.value.parse().map_err(|_| Unreadable)?);
        }
    }
    Ok(found.unwrap_or(1))
}

/// Whether a cell carries a value (any `office:` attribute: value-type, value, date-value...) or
/// a formula.
fn has_value_or_formula(element: &BytesStart) -> Result<bool, Unreadable> {
    for attribute in element.attributes() {
        let key = attribute.map_err(|_| Unreadable)?.key;
        if key.as_ref().starts_with("office:") || key.as_ref() == "table:formula" {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use heard_testsheets::{Cell, Rows};
    use zip::write::{SimpleFileOptions, ZipWriter};

    use super::*;

    /// What the tests allow to be unpacked: far more than an ordinary file, far less than a bomb.
    const LIMIT: u64 = 50 * 1024 * 1024;

    /// Three rows of four columns, with an empty cell inside and formulas.
    fn feedback() -> Rows<'static> {
        vec![
            vec![Cell::Text("Date"), Cell::Text("Channel"), Cell::Text("What was said"), Cell::Text("Visits")],
            vec![Cell::Date(2026, 8, 25), Cell::Empty, Cell::Text("The  café's\nhours"), Cell::Number(3.0)],
            vec![
                Cell::Date(2026, 8, 26),
                Cell::Text("phone"),
                Cell::Formula { formula: "=C2", cached: None },
                Cell::Formula { formula: "=D2*2", cached: Some("6") },
            ],
        ]
    }

    #[test]
    fn an_ordinary_xlsx_and_ods_pass_the_zip_check() {
        assert_eq!(check_zip(&heard_testsheets::xlsx(&[("Feedback", feedback())]), LIMIT), Ok(()));
        assert_eq!(check_zip(&heard_testsheets::ods(&[("Feedback", feedback())]), LIMIT), Ok(()));
    }

    #[test]
    fn an_ods_extent_is_its_rows_times_columns_despite_libreoffices_trailing_repeat() {
        let ods = heard_testsheets::ods(&[("Feedback", feedback())]);
        assert_eq!(ods_extent(&ods, LIMIT), Ok(3 * 4));
    }

    #[test]
    fn an_ods_extent_counts_up_to_the_last_cell_with_content_from_a1() {
        let rows = vec![
            vec![Cell::Empty, Cell::Empty],
            vec![Cell::Empty, Cell::Text("b2")],
            vec![Cell::Text("a3"), Cell::Empty, Cell::Empty, Cell::Empty],
            vec![Cell::Empty],
        ];
        let ods = heard_testsheets::ods(&[("Sheet1", rows)]);
        assert_eq!(ods_extent(&ods, LIMIT), Ok(3 * 2));
    }

    #[test]
    fn an_ods_extent_adds_up_every_sheet_because_calamine_reads_them_all_at_once() {
        let ods = heard_testsheets::ods(&[
            ("Feedback", feedback()),
            ("Empty", vec![]),
            ("Notes", vec![vec![Cell::Text("a"), Cell::Text("b")]]),
        ]);
        assert_eq!(ods_extent(&ods, LIMIT), Ok(3 * 4 + 2));
    }

    #[test]
    fn a_zip_bomb_is_refused_before_anything_is_unpacked() {
        let refused = check_zip(&heard_testsheets::xlsx_zip_bomb(), LIMIT).unwrap_err();
        assert_eq!(refused.0, TOO_LARGE_UNPACKED);
        assert!(refused.0.contains("larger than Heard can read once unpacked"));
    }

    #[test]
    fn an_ods_repeating_one_cell_across_a_whole_sheet_measures_over_ten_billion_cells() {
        let hostile = heard_testsheets::ods_with_repeated_cells();
        assert_eq!(check_zip(&hostile, LIMIT), Ok(()), "small once unpacked: only the repeats are huge");
        let extent = ods_extent(&hostile, LIMIT).unwrap();
        assert_eq!(extent, 1_048_576 * 16_384);
        assert!(extent > 10_000_000_000);
    }

    #[test]
    fn a_file_that_is_not_a_zip_is_refused_in_a_plain_sentence() {
        let csv = heard_testsheets::utf8_with_bom("date,text\r\n25/08/2026,hello\r\n");
        for refused in [check_zip(&csv, LIMIT).unwrap_err(), ods_extent(&csv, LIMIT).unwrap_err()] {
            assert_eq!(refused.0, NOT_A_WORKBOOK);
            assert!(!refused.0.contains("hello"));
        }
    }

    #[test]
    fn a_password_protected_xlsx_is_refused_as_protected_by_a_password_or_old() {
        let refused = check_zip(&heard_testsheets::password_protected_xlsx(), LIMIT).unwrap_err();
        assert_eq!(refused.0, PASSWORD_OR_OLD_EXCEL);
    }

    #[test]
    fn a_password_protected_ods_is_refused_as_protected_by_a_password() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default();
        zip.start_file("mimetype", options.compression_method(zip::CompressionMethod::Stored)).unwrap();
        zip.write_all(b"application/vnd.oasis.opendocument.spreadsheet").unwrap();
        zip.start_file("META-INF/manifest.xml", options).unwrap();
        zip.write_all(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="4000"><manifest:encryption-data manifest:checksum-type="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k" manifest:checksum="AAAA"><manifest:algorithm manifest:algorithm-name="http://www.w3.org/2001/04/xmlenc#aes256-cbc" manifest:initialisation-vector="AAAA"/></manifest:encryption-data></manifest:file-entry></manifest:manifest>"#,
        )
        .unwrap();
        zip.start_file("content.xml", options).unwrap();
        zip.write_all(&[0x5A; 512]).unwrap();
        let ods = zip.finish().unwrap().into_inner();
        assert_eq!(ods_extent(&ods, LIMIT).unwrap_err().0, PASSWORD_PROTECTED);
    }

    #[test]
    fn a_zip_with_more_than_ten_thousand_entries_is_refused() {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for index in 0..=MAX_ZIP_ENTRIES {
            zip.start_file(format!("{index}"), options).unwrap();
        }
        let many = zip.finish().unwrap().into_inner();
        assert_eq!(check_zip(&many, LIMIT).unwrap_err().0, TOO_MANY_PARTS);
    }

    #[test]
    fn an_ods_is_never_unpacked_past_the_limit_whatever_its_zip_declares() {
        let ods = heard_testsheets::ods(&[("Feedback", feedback())]);
        let content_size = ZipArchive::new(Cursor::new(&ods[..])).unwrap().by_name("content.xml").unwrap().size();
        let manifest_size =
            ZipArchive::new(Cursor::new(&ods[..])).unwrap().by_name("META-INF/manifest.xml").unwrap().size();
        let just_enough = content_size + manifest_size;
        assert_eq!(ods_extent(&ods, just_enough), Ok(12));
        assert_eq!(ods_extent(&ods, just_enough - 1).unwrap_err().0, TOO_LARGE_UNPACKED);
        assert_eq!(ods_extent(&ods, 100).unwrap_err().0, TOO_LARGE_UNPACKED);
    }

    #[test]
    fn an_ods_whose_content_inflates_past_its_declared_size_is_refused() {
        let ods = heard_testsheets::ods(&[("Feedback", feedback())]);
        let lying = with_declared_size(&ods, "content.xml", 1_000);
        assert_eq!(check_zip(&lying, LIMIT), Ok(()), "the declared sizes are small");
        assert_eq!(ods_extent(&lying, LIMIT).unwrap_err().0, DAMAGED);
    }

    #[test]
    fn an_ods_with_a_repeat_that_is_not_a_number_is_refused_as_damaged() {
        let ods = heard_testsheets::ods(&[("Feedback", feedback())]);
        let content = entry_text(&ods, "content.xml")
            .replace(r#"table:number-rows-repeated="1048573""#, r#"table:number-rows-repeated="many""#);
        let damaged =
            zip_of(&[("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", &content)]);
        assert_eq!(ods_extent(&damaged, LIMIT).unwrap_err().0, DAMAGED);
    }

    #[test]
    fn an_ods_whose_xml_is_cut_short_is_refused_as_damaged() {
        let ods = heard_testsheets::ods(&[("Feedback", feedback())]);
        let content = entry_text(&ods, "content.xml");
        let cut = &content[..content.find("<table:table-cell office:value-type=\"float\"").unwrap() + 20];
        let damaged = zip_of(&[("mimetype", "application/vnd.oasis.opendocument.spreadsheet"), ("content.xml", cut)]);
        assert_eq!(ods_extent(&damaged, LIMIT).unwrap_err().0, DAMAGED);
    }

    #[test]
    fn an_ods_whose_xml_ends_inside_a_sheet_is_refused_as_damaged_because_calamine_would_never_return() {
        let ods = heard_testsheets::ods(&[("Feedback", feedback())]);
        let content = entry_text(&ods, "content.xml");
        let after_first_row = content.find("</table:table-row>").unwrap() + "</table:table-row>".len();
        let cut = zip_of(&[
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", &content[..after_first_row]),
        ]);
        assert_eq!(ods_extent(&cut, LIMIT).unwrap_err().0, DAMAGED);
    }

    #[test]
    fn an_xlsx_has_no_content_xml_to_measure() {
        let xlsx = heard_testsheets::xlsx(&[("Feedback", feedback())]);
        assert_eq!(ods_extent(&xlsx, LIMIT).unwrap_err().0, NOT_A_WORKBOOK);
    }

    fn entry_text(bytes: &[u8], name: &str) -> String {
        let mut text = String::new();
        ZipArchive::new(Cursor::new(bytes)).unwrap().by_name(name).unwrap().read_to_string(&mut text).unwrap();
        text
    }

    fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
        for (name, text) in entries {
            zip.start_file(*name, SimpleFileOptions::default()).unwrap();
            zip.write_all(text.as_bytes()).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// The zip with `name`'s uncompressed size rewritten to `size` in its local header and its
    /// central directory record, its data untouched: an entry that lies about its size.
    fn with_declared_size(bytes: &[u8], name: &str, size: u32) -> Vec<u8> {
        let mut patched = bytes.to_vec();
        let field = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
        let mut patched_records = 0;
        for at in 0..bytes.len().saturating_sub(46) {
            let (name_length_at, name_at, size_at) = match &bytes[at..at + 4] {
                b"PK\x03\x04" => (at + 26, at + 30, at + 22),
                b"PK\x01\x02" => (at + 28, at + 46, at + 24),
                _ => continue,
            };
            if bytes.get(name_at..name_at + field(name_length_at)) == Some(name.as_bytes()) {
                patched[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
                patched_records += 1;
            }
        }
        assert_eq!(patched_records, 2, "a local header and a central record");
        patched
    }
}
