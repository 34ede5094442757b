//! Real spreadsheets for the import tests (issue #16), written as the programs hubs use write
//! them: an `.xlsx` as Excel saves it, an `.ods` as LibreOffice saves it, CSV in the encodings
//! Excel gives it, a workbook protected by a password to open, and hostile files that a small
//! upload could use to make a reader allocate gigabytes.
//!
//! A dev-dependency only (heard-feedback's unit tests, the end-to-end tests in `tests/`): no
//! product code depends on it, so it may panic on a bad argument.

use std::io::{Cursor, Write};

use rust_xlsxwriter::{ExcelDateTime, Format, Formula, Workbook};
use zip::CompressionMethod;
use zip::write::{SimpleFileOptions, ZipWriter};

/// One cell of a sheet to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    /// Text, as a person typed it (newlines, tabs and runs of spaces are kept).
    Text(&'a str),
    /// A number.
    Number(f64),
    /// A real date cell (year, month, day), not text that looks like one: Excel stores a serial
    /// number formatted "dd/mm/yyyy", LibreOffice an `office:date-value`.
    Date(i16, i8, i8),
    /// A formula written as in Excel (`=B2*2`, `=SUM(B2:B3)`, `="a"&"b"`). `cached` is the value
    /// the program saved with it (a number if it reads as one, text otherwise); `None` is a
    /// formula with no saved value, as a program that never calculated it writes.
    Formula {
        /// The formula, with or without its leading `=`.
        formula: &'a str,
        /// The saved result, if any.
        cached: Option<&'a str>,
    },
    /// Nothing in this cell.
    Empty,
}

/// A sheet's rows, top to bottom, each a row's cells from column A.
pub type Rows<'a> = Vec<Vec<Cell<'a>>>;

/// An .xlsx workbook as Excel saves it; date cells formatted "dd/mm/yyyy". Sheets in order.
///
/// Written by `rust_xlsxwriter`: shared strings for text, a cached `<v>` for a formula that has
/// one and an empty `<v></v>` for one that has none.
pub fn xlsx(sheets: &[(&str, Rows)]) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let date_format = Format::new().set_num_format("dd/mm/yyyy");
    for (name, rows) in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(*name).expect("a sheet name Excel accepts");
        // A formula without a saved value gets an empty `<v>` rather than rust_xlsxwriter's
        // default of 0, which would read as a cached number.
        worksheet.set_formula_result_default("");
        for (row, cells) in rows.iter().enumerate() {
            let row = u32::try_from(row).expect("fewer rows than Excel's limit");
            for (column, cell) in cells.iter().enumerate() {
                let column = u16::try_from(column).expect("fewer columns than Excel's limit");
                match *cell {
                    Cell::Text(text) => {
                        worksheet.write_string(row, column, text).expect("text written");
                    }
                    Cell::Number(number) => {
                        worksheet.write_number(row, column, number).expect("number written");
                    }
                    Cell::Date(year, month, day) => {
                        let date = ExcelDateTime::from_ymd(
                            u16::try_from(year).expect("a year Excel can hold"),
                            u8::try_from(month).expect("a month from 1 to 12"),
                            u8::try_from(day).expect("a day from 1 to 31"),
                        )
                        .expect("a date Excel can hold");
                        worksheet.write_datetime_with_format(row, column, &date, &date_format).expect("date written");
                    }
                    Cell::Formula { formula, cached } => {
                        let mut written = Formula::new(formula);
                        if let Some(cached) = cached {
                            written = written.set_result(cached);
                        }
                        worksheet.write_formula(row, column, written).expect("formula written");
                    }
                    Cell::Empty => {}
                }
            }
        }
    }
    workbook.save_to_buffer().expect("workbook saved")
}

/// The media type an .ods file declares in its `mimetype` entry and manifest.
const ODS_MIMETYPE: &str = "application/vnd.oasis.opendocument.spreadsheet";

/// How many rows a LibreOffice sheet has: it writes the empty rows after the last used one as a
/// single row repeated up to this many.
const ODS_SHEET_ROWS: usize = 1_048_576;

/// How many columns LibreOffice pads its trailing empty row to when columns carry a style.
const ODS_TRAILING_COLUMNS: usize = 1024;

/// An .ods workbook as LibreOffice saves it (mimetype stored first and uncompressed,
/// META-INF/manifest.xml, content.xml with office:value-type="date"
/// office:date-value="2026-08-25", float, string, formulas as table:formula="of:=..." with or
/// without a cached office:value / text, and the huge repeated empty trailing row LibreOffice
/// writes: table:number-rows-repeated="1048560" (for 16 used rows) of an empty cell with
/// number-columns-repeated="1024").
///
/// As LibreOffice does, each row is padded with empty cells to the width of the widest row,
/// runs of empty cells are written once with `table:number-columns-repeated`, runs of spaces as
/// `<text:s>`, tabs as `<text:tab/>` and each line of a cell as a `<text:p>` of its own.
/// Formulas are turned into OpenFormula: `=SUM(B2:B3)` is written `of:=SUM([.B2:.B3])`.
pub fn ods(sheets: &[(&str, Rows)]) -> Vec<u8> {
    let mut content = String::from(ODS_CONTENT_START);
    for (name, rows) in sheets {
        write_ods_table(&mut content, name, rows);
    }
    content.push_str(ODS_CONTENT_END);
    ods_package(&content)
}

/// Writes a zip holding an OpenDocument spreadsheet around `content` (content.xml's text).
fn ods_package(content: &str) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file("mimetype", stored).expect("zip entry started");
    zip.write_all(ODS_MIMETYPE.as_bytes()).expect("zip entry written");
    for (name, text) in [
        ("content.xml", content),
        ("styles.xml", ODS_STYLES),
        ("meta.xml", ODS_META),
        ("META-INF/manifest.xml", ODS_MANIFEST),
    ] {
        zip.start_file(name, deflated).expect("zip entry started");
        zip.write_all(text.as_bytes()).expect("zip entry written");
    }
    zip.finish().expect("zip finished").into_inner()
}

const ODS_CONTENT_START: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0" xmlns:of="urn:oasis:names:tc:opendocument:xmlns:of:1.2" xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" xmlns:loext="urn:org:documentfoundation:names:experimental:office:xmlns:loext:1.0" office:version="1.3"><office:scripts/><office:font-face-decls><style:font-face style:name="Liberation Sans" svg:font-family="&apos;Liberation Sans&apos;" style:font-family-generic="swiss" style:font-pitch="variable" xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"/></office:font-face-decls><office:automatic-styles><style:style style:name="co1" style:family="table-column"><style:table-column-properties fo:break-before="auto" style:column-width="0.889in"/></style:style><style:style style:name="ro1" style:family="table-row"><style:table-row-properties style:row-height="0.178in" fo:break-before="auto" style:use-optimal-row-height="true"/></style:style><style:style style:name="ta1" style:family="table" style:master-page-name="Default"><style:table-properties table:display="true" style:writing-mode="lr-tb"/></style:style><number:date-style style:name="N37" number:automatic-order="true"><number:day number:style="long"/><number:text>/</number:text><number:month number:style="long"/><number:text>/</number:text><number:year number:style="long"/></number:date-style><style:style style:name="ce1" style:family="table-cell" style:parent-style-name="Default" style:data-style-name="N37"/></office:automatic-styles><office:body><office:spreadsheet><table:calculation-settings table:automatic-find-labels="false" table:use-regular-expressions="false" table:use-wildcards="true"/>"#;

const ODS_CONTENT_END: &str = "<table:named-expressions/></office:spreadsheet></office:body></office:document-content>";

const ODS_STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-styles xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" office:version="1.3"><office:styles><style:default-style style:family="table-cell"/><style:style style:name="Default" style:family="table-cell"/></office:styles><office:automatic-styles/><office:master-styles><style:master-page style:name="Default"/></office:master-styles></office:document-styles>"#;

const ODS_META: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" office:version="1.3"><office:meta><meta:generator>LibreOffice/24.2.7.2$Linux_X86_64 LibreOffice_project/420$Build-2</meta:generator></office:meta></office:document-meta>"#;

const ODS_MANIFEST: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/>
 <manifest:file-entry manifest:full-path="meta.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"#;

/// Appends one `<table:table>` for a sheet to content.xml.
fn write_ods_table(out: &mut String, name: &str, rows: &Rows) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    out.push_str(&format!(
        r#"<table:table table:name="{}" table:style-name="ta1"><table:table-column table:style-name="co1" table:number-columns-repeated="{width}" table:default-cell-style-name="Default"/>"#,
        xml_escape(name)
    ));
    if width < ODS_TRAILING_COLUMNS {
        out.push_str(&format!(
            r#"<table:table-column table:style-name="co1" table:number-columns-repeated="{}" table:default-cell-style-name="Default"/>"#,
            ODS_TRAILING_COLUMNS - width
        ));
    }
    for cells in rows {
        out.push_str(r#"<table:table-row table:style-name="ro1">"#);
        let mut empty_run = 0;
        for cell in cells {
            if *cell == Cell::Empty {
                empty_run += 1;
                continue;
            }
            push_empty_cells(out, empty_run);
            empty_run = 0;
            write_ods_cell(out, cell);
        }
        push_empty_cells(out, empty_run + width - cells.len());
        out.push_str("</table:table-row>");
    }
    let trailing_rows = ODS_SHEET_ROWS.saturating_sub(rows.len());
    if trailing_rows > 0 {
        out.push_str(&format!(
            r#"<table:table-row table:style-name="ro1" table:number-rows-repeated="{trailing_rows}"><table:table-cell table:number-columns-repeated="{ODS_TRAILING_COLUMNS}"/></table:table-row>"#
        ));
    }
    out.push_str("</table:table>");
}

/// `count` empty cells, written once with a repeat as LibreOffice does.
fn push_empty_cells(out: &mut String, count: usize) {
    match count {
        0 => {}
        1 => out.push_str("<table:table-cell/>"),
        _ => out.push_str(&format!(r#"<table:table-cell table:number-columns-repeated="{count}"/>"#)),
    }
}

/// One non-empty `<table:table-cell>`.
fn write_ods_cell(out: &mut String, cell: &Cell) {
    match *cell {
        Cell::Text(text) => {
            out.push_str(r#"<table:table-cell office:value-type="string" calcext:value-type="string">"#);
            push_paragraphs(out, text);
            out.push_str("</table:table-cell>");
        }
        Cell::Number(number) => out.push_str(&format!(
            r#"<table:table-cell office:value-type="float" office:value="{number}" calcext:value-type="float"><text:p>{number}</text:p></table:table-cell>"#
        )),
        Cell::Date(year, month, day) => out.push_str(&format!(
            r#"<table:table-cell table:style-name="ce1" office:value-type="date" office:date-value="{year:04}-{month:02}-{day:02}" calcext:value-type="date"><text:p>{day:02}/{month:02}/{year:04}</text:p></table:table-cell>"#
        )),
        Cell::Formula { formula, cached } => {
            let formula = xml_escape(&open_formula(formula));
            match cached {
                None => out.push_str(&format!(r#"<table:table-cell table:formula="{formula}"/>"#)),
                Some(cached) if cached.parse::<f64>().is_ok() => out.push_str(&format!(
                    r#"<table:table-cell table:formula="{formula}" office:value-type="float" office:value="{cached}" calcext:value-type="float"><text:p>{cached}</text:p></table:table-cell>"#
                )),
                Some(cached) => {
                    out.push_str(&format!(
                        r#"<table:table-cell table:formula="{formula}" office:value-type="string" office:string-value="{}" calcext:value-type="string">"#,
                        xml_escape(cached)
                    ));
                    push_paragraphs(out, cached);
                    out.push_str("</table:table-cell>");
                }
            }
        }
        Cell::Empty => push_empty_cells(out, 1),
    }
}

/// A cell's text as LibreOffice writes it: one `<text:p>` a line, the second and later spaces
/// of a run (or all of a run that starts a line) as `<text:s/>`, tabs as `<text:tab/>`.
fn push_paragraphs(out: &mut String, text: &str) {
    for line in text.split('\n') {
        out.push_str("<text:p>");
        let mut spaces = 0;
        let mut at_start = true;
        for character in line.chars() {
            if character == ' ' {
                spaces += 1;
                continue;
            }
            push_spaces(out, spaces, at_start);
            spaces = 0;
            at_start = false;
            match character {
                '\t' => out.push_str("<text:tab/>"),
                other => push_escaped(out, other),
            }
        }
        push_spaces(out, spaces, at_start);
        out.push_str("</text:p>");
    }
}

fn push_spaces(out: &mut String, spaces: usize, at_start: bool) {
    let (literal, collapsed) = match (spaces, at_start) {
        (0, _) => return,
        (_, true) => (0, spaces),
        (_, false) => (1, spaces - 1),
    };
    if literal == 1 {
        out.push(' ');
    }
    match collapsed {
        0 => {}
        1 => out.push_str("<text:s/>"),
        _ => out.push_str(&format!(r#"<text:s text:c="{collapsed}"/>"#)),
    }
}

fn push_escaped(out: &mut String, character: char) {
    match character {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        '\'' => out.push_str("&apos;"),
        other => out.push(other),
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    text.chars().for_each(|character| push_escaped(&mut out, character));
    out
}

/// An Excel formula in OpenFormula, as LibreOffice saves it: `of:=` before it, references in
/// brackets with a dot (`[.B2]`, `[.B2:.B3]`), `;` between a function's arguments. Text in
/// quotes is kept as it is.
fn open_formula(excel: &str) -> String {
    let excel = excel.strip_prefix('=').unwrap_or(excel);
    let characters: Vec<char> = excel.chars().collect();
    let mut out = String::from("of:=");
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        if character == '"' {
            // A quoted text, with "" for a quote inside it.
            out.push('"');
            index += 1;
            while index < characters.len() {
                out.push(characters[index]);
                if characters[index] == '"' {
                    if characters.get(index + 1) == Some(&'"') {
                        out.push('"');
                        index += 2;
                        continue;
                    }
                    index += 1;
                    break;
                }
                index += 1;
            }
            continue;
        }
        let follows_a_name = index > 0 && (characters[index - 1].is_alphanumeric() || characters[index - 1] == '_');
        if !follows_a_name && let Some(end) = reference_end(&characters, index) {
            let first: String = characters[index..end].iter().collect();
            if characters.get(end) == Some(&':')
                && let Some(second_end) = reference_end(&characters, end + 1)
            {
                let second: String = characters[end + 1..second_end].iter().collect();
                out.push_str(&format!("[.{first}:.{second}]"));
                index = second_end;
            } else {
                out.push_str(&format!("[.{first}]"));
                index = end;
            }
            continue;
        }
        out.push(if character == ',' { ';' } else { character });
        index += 1;
    }
    out
}

/// Where a cell reference (`B2`, `$B$2`, `AA10`) starting at `start` ends, if one does: letters
/// then digits, not followed by `(` (a function such as `LOG10(`) or more of a name.
fn reference_end(characters: &[char], start: usize) -> Option<usize> {
    let mut index = start;
    let skip_dollar = |index: &mut usize| {
        if characters.get(*index) == Some(&'$') {
            *index += 1;
        }
    };
    skip_dollar(&mut index);
    let letters_start = index;
    while characters.get(index).is_some_and(|c| c.is_ascii_uppercase()) {
        index += 1;
    }
    if index == letters_start || index - letters_start > 3 {
        return None;
    }
    skip_dollar(&mut index);
    let digits_start = index;
    while characters.get(index).is_some_and(char::is_ascii_digit) {
        index += 1;
    }
    if index == digits_start {
        return None;
    }
    match characters.get(index) {
        Some(next) if *next == '(' || next.is_alphanumeric() || *next == '_' => None,
        _ => Some(index),
    }
}

/// CSV text encoded as Windows-1252 (as Excel on Windows saves "CSV (Comma delimited)"); panics
/// on a char Windows-1252 cannot hold.
pub fn windows_1252(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable, "the text has a character Windows-1252 cannot hold");
    bytes.into_owned()
}

/// CSV text as UTF-8 with a byte order mark (Excel's "CSV UTF-8").
pub fn utf8_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// An .xlsx protected by a password to open, as Excel writes it: a compound file (CFB) holding
/// EncryptionInfo and EncryptedPackage streams (the content may be random bytes; what matters is
/// the container).
///
/// The EncryptionInfo stream starts as agile encryption's does (version 4.4, flags 0x40, then
/// its XML descriptor); the EncryptedPackage holds the package's size then pseudo-random bytes,
/// the same on every call.
pub fn password_protected_xlsx() -> Vec<u8> {
    let mut file = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
        .expect("compound file created");
    let mut info = vec![0x04, 0x00, 0x04, 0x00, 0x40, 0x00, 0x00, 0x00];
    info.extend_from_slice(AGILE_ENCRYPTION_DESCRIPTOR.as_bytes());
    file.create_stream("/EncryptionInfo")
        .and_then(|mut stream| stream.write_all(&info))
        .expect("EncryptionInfo written");
    let package_size: u64 = 8_000;
    let mut package = package_size.to_le_bytes().to_vec();
    package.extend(pseudo_random_bytes(8_192));
    file.create_stream("/EncryptedPackage")
        .and_then(|mut stream| stream.write_all(&package))
        .expect("EncryptedPackage written");
    file.flush().expect("compound file flushed");
    file.into_inner().into_inner()
}

const AGILE_ENCRYPTION_DESCRIPTOR: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<encryption xmlns="http://schemas.microsoft.com/office/2006/encryption" xmlns:p="http://schemas.microsoft.com/office/2006/keyEncryptor/password"><keyData saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/><keyEncryptors><keyEncryptor uri="http://schemas.microsoft.com/office/2006/keyEncryptor/password"><p:encryptedKey spinCount="100000" saltSize="16" blockSize="16" keyBits="256" hashSize="64" cipherAlgorithm="AES" cipherChaining="ChainingModeCBC" hashAlgorithm="SHA512" saltValue="AAAAAAAAAAAAAAAAAAAAAA=="/></keyEncryptor></keyEncryptors></encryption>"#;

/// Bytes that look random (xorshift), the same on every call.
fn pseudo_random_bytes(count: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..count)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// A value in A1 and one in XFD1048576, the last cell Excel has (a reader that makes a dense
/// grid would allocate ~17 billion cells).
pub fn xlsx_with_far_cell() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let worksheet = workbook.add_worksheet();
    worksheet.write_string(0, 0, "near").expect("A1 written");
    worksheet.write_string(1_048_575, 16_383, "far").expect("XFD1048576 written");
    workbook.save_to_buffer().expect("workbook saved")
}

/// How many bytes of whitespace the zip bomb's sheet holds at least: more than 200 MB once
/// inflated.
const ZIP_BOMB_WHITESPACE: usize = 210 * 1024 * 1024;

/// A valid xlsx whose sheet XML inflates to more than 200 MB (whitespace inside the sheet
/// data), under 1 MB on disk.
///
/// Compressing 210 MiB of spaces takes a debug build many seconds, so the sheet's deflate
/// stream is written by hand, as the best compressor would write it: the XML's start in a
/// stored block, then one block whose only codes are "258 bytes again, one byte back" (two bits
/// each, about 1:1000), then the XML's end. The zip around it is written by hand too, since the
/// zip crate only stores what it compressed itself. Every size and CRC in it is true.
pub fn xlsx_zip_bomb() -> Vec<u8> {
    let start = format!("{XLSX_SHEET_START} ");
    let repeats = ZIP_BOMB_WHITESPACE.div_ceil(MAX_MATCH);
    let sheet_size = start.len() + repeats * MAX_MATCH + XLSX_SHEET_END.len();

    let mut deflate = BitWriter::default();
    deflate.stored_block(start.as_bytes(), false);
    deflate.repeat_last_byte_block(repeats);
    deflate.stored_block(XLSX_SHEET_END.as_bytes(), true);

    let mut crc = crc32fast::Hasher::new();
    crc.update(start.as_bytes());
    crc.combine(&crc_of_spaces(repeats * MAX_MATCH));
    crc.update(XLSX_SHEET_END.as_bytes());

    let mut entries: Vec<ZipEntry> = [
        ("[Content_Types].xml", XLSX_CONTENT_TYPES),
        ("_rels/.rels", XLSX_ROOT_RELS),
        ("xl/workbook.xml", XLSX_WORKBOOK),
        ("xl/_rels/workbook.xml.rels", XLSX_WORKBOOK_RELS),
    ]
    .into_iter()
    .map(|(name, text)| ZipEntry::stored(name, text.as_bytes()))
    .collect();
    entries.push(ZipEntry {
        name: "xl/worksheets/sheet1.xml",
        deflated: true,
        crc32: crc.finalize(),
        data: deflate.finish(),
        uncompressed_size: u32::try_from(sheet_size).expect("under 4 GiB"),
    });
    zip_by_hand(&entries)
}

/// The longest match deflate has (length code 285).
const MAX_MATCH: usize = 258;

/// The CRC of `count` spaces, without hashing them all: a MiB hashed, then doubled and added by
/// CRC combination.
fn crc_of_spaces(count: usize) -> crc32fast::Hasher {
    let chunk = 1024 * 1024;
    let mut total = crc32fast::Hasher::new();
    let mut power = crc32fast::Hasher::new();
    power.update(&vec![b' '; chunk]);
    let (mut whole_chunks, rest) = (count / chunk, count % chunk);
    while whole_chunks > 0 {
        if whole_chunks & 1 == 1 {
            total.combine(&power);
        }
        let doubled = power.clone();
        power.combine(&doubled);
        whole_chunks >>= 1;
    }
    let mut tail = crc32fast::Hasher::new();
    tail.update(&vec![b' '; rest]);
    total.combine(&tail);
    total
}

/// A deflate stream being written, bits least significant first (RFC 1951).
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    pending_bits: u32,
}

impl BitWriter {
    /// Writes the low `count` bits of `value`, lowest first.
    fn bits(&mut self, value: u64, count: u32) {
        self.pending |= value << self.pending_bits;
        self.pending_bits += count;
        while self.pending_bits >= 8 {
            self.bytes.push(self.pending.to_le_bytes()[0]);
            self.pending >>= 8;
            self.pending_bits -= 8;
        }
    }

    fn align_to_byte(&mut self) {
        let padding = (8 - self.pending_bits % 8) % 8;
        self.bits(0, padding);
    }

    /// A block of bytes kept as they are.
    fn stored_block(&mut self, data: &[u8], last: bool) {
        self.bits(u64::from(last), 1);
        self.bits(0b00, 2);
        self.align_to_byte();
        let length = u16::try_from(data.len()).expect("a stored block holds at most 65535 bytes");
        self.bytes.extend_from_slice(&length.to_le_bytes());
        self.bytes.extend_from_slice(&(!length).to_le_bytes());
        self.bytes.extend_from_slice(data);
    }

    /// A block with dynamic Huffman codes that repeats the byte before it `repeats` times 258
    /// bytes long. Its literal/length code has two symbols of one bit (256, the end of the
    /// block: 0; 285, a 258-byte match: 1), its distance code two of one bit (0, one byte back:
    /// 0; 1, unused: 1), and so each match is two bits.
    fn repeat_last_byte_block(&mut self, repeats: usize) {
        self.bits(0, 1); // not the last block
        self.bits(0b10, 2); // dynamic Huffman codes
        self.bits(286 - 257, 5); // literal/length codes 0..=285
        self.bits(2 - 1, 5); // distance codes 0..=1
        self.bits(18 - 4, 4); // code length codes, up to symbol 1 in the order below
        const ORDER: [u64; 18] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
        for symbol in ORDER {
            // Symbols 1 (a length of one) and 18 (a run of zeros) get one bit: 1 is 0, 18 is 1.
            let length = if symbol == 1 || symbol == 18 { 1 } else { 0 };
            self.bits(length, 3);
        }
        let zeros = |writer: &mut BitWriter, count: u64| {
            writer.bits(1, 1); // symbol 18
            writer.bits(count - 11, 7);
        };
        let one = |writer: &mut BitWriter| writer.bits(0, 1); // symbol 1
        zeros(self, 138); // literals 0..=137
        zeros(self, 118); // literals 138..=255
        one(self); // 256, the end of the block
        zeros(self, 28); // lengths 257..=284
        one(self); // 285, a 258-byte match
        one(self); // distance 0, one byte back
        one(self); // distance 1, unused
        for _ in 0..repeats {
            self.bits(0b01, 2); // 285 (1), then distance 0 (0)
        }
        self.bits(0, 1); // the end of the block
    }

    fn finish(mut self) -> Vec<u8> {
        self.align_to_byte();
        self.bytes
    }
}

/// One entry of a zip written by hand.
struct ZipEntry<'a> {
    name: &'a str,
    deflated: bool,
    crc32: u32,
    data: Vec<u8>,
    uncompressed_size: u32,
}

impl<'a> ZipEntry<'a> {
    fn stored(name: &'a str, data: &[u8]) -> ZipEntry<'a> {
        ZipEntry {
            name,
            deflated: false,
            crc32: crc32fast::hash(data),
            data: data.to_vec(),
            uncompressed_size: u32::try_from(data.len()).expect("under 4 GiB"),
        }
    }
}

/// A plain zip (no zip64, no data descriptors, dated 1 January 1980) of `entries`.
fn zip_by_hand(entries: &[ZipEntry]) -> Vec<u8> {
    fn u16_le(out: &mut Vec<u8>, value: u16) {
        out.extend_from_slice(&value.to_le_bytes());
    }
    fn u32_le(out: &mut Vec<u8>, value: u32) {
        out.extend_from_slice(&value.to_le_bytes());
    }
    // The fields a local header and a central directory header share, from "version needed".
    fn common_fields(out: &mut Vec<u8>, entry: &ZipEntry) {
        u16_le(out, 20); // version needed: 2.0, deflate
        u16_le(out, 0); // flags
        u16_le(out, if entry.deflated { 8 } else { 0 });
        u16_le(out, 0); // time: midnight
        u16_le(out, 0x21); // date: 1980-01-01
        u32_le(out, entry.crc32);
        u32_le(out, u32::try_from(entry.data.len()).expect("under 4 GiB"));
        u32_le(out, entry.uncompressed_size);
        u16_le(out, u16::try_from(entry.name.len()).expect("a short name"));
        u16_le(out, 0); // extra field length
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = u32::try_from(out.len()).expect("under 4 GiB");
        u32_le(&mut out, 0x0403_4b50);
        common_fields(&mut out, entry);
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&entry.data);

        u32_le(&mut central, 0x0201_4b50);
        u16_le(&mut central, 20); // made by: 2.0, MS-DOS
        common_fields(&mut central, entry);
        u16_le(&mut central, 0); // comment length
        u16_le(&mut central, 0); // disk
        u16_le(&mut central, 0); // internal attributes
        u32_le(&mut central, 0); // external attributes
        u32_le(&mut central, offset);
        central.extend_from_slice(entry.name.as_bytes());
    }
    let central_offset = u32::try_from(out.len()).expect("under 4 GiB");
    out.extend_from_slice(&central);
    let count = u16::try_from(entries.len()).expect("few entries");
    u32_le(&mut out, 0x0605_4b50);
    u16_le(&mut out, 0); // this disk
    u16_le(&mut out, 0); // the central directory's disk
    u16_le(&mut out, count);
    u16_le(&mut out, count);
    u32_le(&mut out, u32::try_from(central.len()).expect("under 4 GiB"));
    u32_le(&mut out, central_offset);
    u16_le(&mut out, 0); // comment length
    out
}

const XLSX_CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#;

const XLSX_ROOT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;

const XLSX_WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;

const XLSX_WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;

const XLSX_SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Date</t></is></c></row>"#;

const XLSX_SHEET_END: &str = "</sheetData></worksheet>";

/// A non-empty cell repeated table:number-columns-repeated="16384" in a row repeated
/// table:number-rows-repeated="1048576": a few hundred bytes that a reader expanding repeats
/// would turn into 17 billion cells.
pub fn ods_with_repeated_cells() -> Vec<u8> {
    let mut content = String::from(ODS_CONTENT_START);
    content.push_str(
        r#"<table:table table:name="Sheet1" table:style-name="ta1"><table:table-column table:style-name="co1" table:number-columns-repeated="16384" table:default-cell-style-name="Default"/><table:table-row table:style-name="ro1" table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="string" calcext:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row></table:table>"#,
    );
    content.push_str(ODS_CONTENT_END);
    ods_package(&content)
}

#[cfg(test)]
mod tests;
