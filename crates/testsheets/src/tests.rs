//! Every file read back: the ordinary ones by calamine, the reader Heard uses; the hostile ones
//! only by their structure, cheaply, since reading them is what they are built to punish.

use std::io::Read;

use calamine::{Data, Ods, Reader, Xlsx, XlsxError};

use super::*;

const WORDS: &str = "  The café's hours don't suit people\nwho work — £5 for the bus";

fn feedback_rows() -> Rows<'static> {
    vec![
        vec![
            Cell::Text("Date"),
            Cell::Text("Channel"),
            Cell::Text("What was said"),
            Cell::Text("Visits"),
            Cell::Text("Twice"),
        ],
        vec![
            Cell::Date(2026, 8, 25),
            Cell::Text("drop-in"),
            Cell::Text(WORDS),
            Cell::Number(3.0),
            Cell::Formula { formula: "=D2*2", cached: Some("6") },
        ],
        vec![
            Cell::Date(2026, 8, 26),
            Cell::Empty,
            Cell::Text("a\ttab <&> \"quoted\""),
            Cell::Number(0.5),
            Cell::Formula { formula: "=D3&\" visits\"", cached: None },
        ],
        vec![
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Formula { formula: "=C3&\"!\"", cached: Some("a\ttab <&> \"quoted\"!") },
        ],
    ]
}

fn workbook() -> Vec<(&'static str, Rows<'static>)> {
    vec![("Feedback", feedback_rows()), ("Notes", vec![vec![Cell::Text("just notes")]])]
}

fn string(text: &str) -> Data {
    Data::String(text.to_owned())
}

/// 25 August 2026 as Excel counts days (from 30 December 1899).
const EXCEL_SERIAL_2026_08_25: f64 = 46_259.0;

#[test]
fn an_xlsx_reads_back_with_its_sheets_in_order_and_every_kind_of_cell() {
    let mut workbook = Xlsx::new(Cursor::new(xlsx(&workbook()))).unwrap();
    assert_eq!(workbook.sheet_names(), vec!["Feedback", "Notes"]);

    let feedback = workbook.worksheet_range("Feedback").unwrap();
    assert_eq!(feedback.start(), Some((0, 0)));
    assert_eq!(feedback.get_size(), (4, 5));
    assert_eq!(feedback.get((0, 2)), Some(&string("What was said")));
    match feedback.get((1, 0)) {
        Some(Data::DateTime(date)) => {
            assert!(date.is_datetime(), "a date cell, not a number");
            assert_eq!(date.as_f64(), EXCEL_SERIAL_2026_08_25);
        }
        other => panic!("expected a date cell, found {other:?}"),
    }
    assert_eq!(feedback.get((1, 1)), Some(&string("drop-in")));
    assert_eq!(feedback.get((1, 2)), Some(&string(WORDS)));
    assert_eq!(feedback.get((1, 3)), Some(&Data::Float(3.0)));
    assert_eq!(feedback.get((2, 1)), Some(&Data::Empty));
    assert_eq!(feedback.get((2, 2)), Some(&string("a\ttab <&> \"quoted\"")));
    assert_eq!(feedback.get((2, 3)), Some(&Data::Float(0.5)));

    let notes = workbook.worksheet_range("Notes").unwrap();
    assert_eq!(notes.get((0, 0)), Some(&string("just notes")));
}

#[test]
fn an_xlsx_formula_keeps_its_cached_value_and_one_without_a_cached_value_reads_as_empty_text() {
    let bytes = xlsx(&workbook());
    let mut workbook = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
    let values = workbook.worksheet_range("Feedback").unwrap();
    assert_eq!(values.get((1, 4)), Some(&Data::Float(6.0)));
    assert_eq!(values.get((2, 4)), Some(&string("")));
    assert_eq!(values.get((3, 4)), Some(&string("a\ttab <&> \"quoted\"!")));

    let formulas = workbook.worksheet_formula("Feedback").unwrap();
    assert_eq!(formulas.get_value((1, 4)).map(String::as_str), Some("D2*2"));
    assert_eq!(formulas.get_value((2, 4)).map(String::as_str), Some("D3&\" visits\""));

    // No cached value is an empty <v>, not rust_xlsxwriter's default 0.
    let sheet = entry_text(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<c r="E3" t="str"><f>D3&amp;" visits"</f><v></v></c>"#), "{sheet}");
}

#[test]
fn an_xlsx_date_cell_is_formatted_as_people_in_the_uk_write_dates() {
    let styles = entry_text(&xlsx(&workbook()), "xl/styles.xml");
    assert!(styles.contains(r#"formatCode="dd/mm/yyyy""#), "{styles}");
}

#[test]
fn an_ods_reads_back_with_its_sheets_in_order_and_every_kind_of_cell() {
    let mut workbook = Ods::new(Cursor::new(ods(&workbook()))).unwrap();
    assert_eq!(workbook.sheet_names(), vec!["Feedback", "Notes"]);

    let feedback = workbook.worksheet_range("Feedback").unwrap();
    assert_eq!(feedback.start(), Some((0, 0)));
    assert_eq!(feedback.get((0, 2)), Some(&string("What was said")));
    assert_eq!(feedback.get((1, 0)), Some(&Data::DateTimeIso("2026-08-25".to_owned())));
    assert_eq!(feedback.get((1, 1)), Some(&string("drop-in")));
    assert_eq!(feedback.get((1, 2)), Some(&string(WORDS)));
    assert_eq!(feedback.get((1, 3)), Some(&Data::Float(3.0)));
    assert_eq!(feedback.get((2, 0)), Some(&Data::DateTimeIso("2026-08-26".to_owned())));
    assert_eq!(feedback.get((2, 1)), Some(&Data::Empty));
    assert_eq!(feedback.get((2, 2)), Some(&string("a\ttab <&> \"quoted\"")));
    assert_eq!(feedback.get((2, 3)), Some(&Data::Float(0.5)));

    let notes = workbook.worksheet_range("Notes").unwrap();
    assert_eq!(notes.get((0, 0)), Some(&string("just notes")));
}

#[test]
fn an_ods_ends_with_libreoffices_huge_empty_trailing_row_yet_reads_as_its_content() {
    let bytes = ods(&workbook());
    let content = entry_text(&bytes, "content.xml");
    assert!(
        content.contains(
            r#"<table:table-row table:style-name="ro1" table:number-rows-repeated="1048572"><table:table-cell table:number-columns-repeated="1024"/></table:table-row>"#
        ),
        "{content}"
    );
    let mut workbook = Ods::new(Cursor::new(bytes)).unwrap();
    assert_eq!(workbook.worksheet_range("Feedback").unwrap().get_size(), (4, 5));
}

#[test]
fn an_ods_is_packaged_as_libreoffice_packages_it() {
    let bytes = ods(&workbook());
    // The mimetype comes first, stored, so its name and value sit at fixed offsets.
    assert_eq!(&bytes[30..38], b"mimetype");
    assert_eq!(&bytes[38..38 + ODS_MIMETYPE.len()], ODS_MIMETYPE.as_bytes());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mimetype = archive.by_index(0).unwrap();
    assert_eq!(mimetype.compression(), CompressionMethod::Stored);
    drop(mimetype);
    assert!(archive.by_name("META-INF/manifest.xml").is_ok());
}

#[test]
fn an_ods_formula_is_written_in_openformula_with_or_without_a_cached_value() {
    let mut workbook = Ods::new(Cursor::new(ods(&workbook()))).unwrap();
    let values = workbook.worksheet_range("Feedback").unwrap();
    assert_eq!(values.get((1, 4)), Some(&Data::Float(6.0)));
    assert_eq!(values.get((2, 4)), Some(&Data::Empty));
    assert_eq!(values.get((3, 4)), Some(&string("a\ttab <&> \"quoted\"!")));

    let formulas = workbook.worksheet_formula("Feedback").unwrap();
    assert_eq!(formulas.get_value((1, 4)).map(String::as_str), Some("of:=[.D2]*2"));
    assert_eq!(formulas.get_value((2, 4)).map(String::as_str), Some("of:=[.D3]&\" visits\""));
}

#[test]
fn an_excel_formula_becomes_openformula_with_references_in_brackets_and_semicolons() {
    assert_eq!(open_formula("=SUM(B2:B3,$C$4)"), "of:=SUM([.B2:.B3];[.$C$4])");
    assert_eq!(open_formula("LOG10(A1)+AB12"), "of:=LOG10([.A1])+[.AB12]");
    assert_eq!(open_formula(r#"=A1&"B2, ""C3""""#), r#"of:=[.A1]&"B2, ""C3""""#);
}

#[test]
fn windows_1252_csv_holds_accented_letters_dashes_and_the_pound_sign_in_one_byte_each() {
    let bytes = windows_1252("date,said\r\n25/08/2026,café – £5\r\n");
    assert_eq!(bytes.len(), "date,said\r\n25/08/2026,café – £5\r\n".chars().count());
    assert!(bytes.ends_with(b"caf\xE9 \x96 \xA35\r\n"), "{bytes:?}");
}

#[test]
#[should_panic(expected = "Windows-1252 cannot hold")]
fn windows_1252_refuses_a_character_it_cannot_hold() {
    windows_1252("they said 🙂");
}

#[test]
fn utf8_csv_starts_with_a_byte_order_mark() {
    assert_eq!(utf8_with_bom("date,said\r\n"), b"\xEF\xBB\xBFdate,said\r\n");
}

#[test]
fn calamine_reports_the_password_protected_xlsx_as_password_protected() {
    let bytes = password_protected_xlsx();
    assert_eq!(&bytes[..8], b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "a compound file");
    match Xlsx::new(Cursor::new(bytes.clone())) {
        Err(XlsxError::Password) => {}
        Err(other) => panic!("expected a password error, got {other}"),
        Ok(_) => panic!("expected a password error, the file opened"),
    }
    match calamine::open_workbook_from_rs::<Xlsx<_>, _>(Cursor::new(bytes)) {
        Err(XlsxError::Password) => {}
        Err(other) => panic!("expected a password error, got {other}"),
        Ok(_) => panic!("expected a password error, the file opened"),
    }
}

#[test]
fn the_password_protected_xlsx_holds_the_streams_excel_writes() {
    let mut file = cfb::CompoundFile::open(Cursor::new(password_protected_xlsx())).unwrap();
    let mut info = Vec::new();
    file.open_stream("/EncryptionInfo").unwrap().read_to_end(&mut info).unwrap();
    assert_eq!(&info[..4], &[4, 0, 4, 0], "agile encryption, version 4.4");
    assert!(file.is_stream("/EncryptedPackage"));
    assert_eq!(password_protected_xlsx(), password_protected_xlsx(), "the same bytes each time");
}

#[test]
fn the_far_cell_xlsx_has_a_value_in_a1_and_in_xfd1048576() {
    let sheet = entry_text(&xlsx_with_far_cell(), "xl/worksheets/sheet1.xml");
    assert!(sheet.contains(r#"<dimension ref="A1:XFD1048576"/>"#), "{sheet}");
    assert!(sheet.contains(r#"<c r="A1" t="s">"#), "{sheet}");
    assert!(sheet.contains(r#"<c r="XFD1048576" t="s">"#), "{sheet}");
}

#[test]
fn the_zip_bomb_is_under_a_megabyte_and_its_sheet_truly_inflates_past_200_mb() {
    let bytes = xlsx_zip_bomb();
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    for part in ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"] {
        assert!(archive.by_name(part).is_ok(), "{part}");
    }
    let mut sheet = archive.by_name("xl/worksheets/sheet1.xml").unwrap();
    let declared = sheet.size();
    assert!(declared > 200 * 1024 * 1024, "declares {declared} bytes");
    // Inflated into nothing (no calamine, no buffer): the size is true and the CRC matches,
    // which the zip crate checks at the end.
    let mut start = [0; 64];
    sheet.read_exact(&mut start).unwrap();
    assert!(start.starts_with(b"<?xml"));
    let rest = std::io::copy(&mut sheet, &mut std::io::sink()).unwrap();
    assert_eq!(rest + 64, declared);
}

#[test]
fn the_repeated_cells_ods_repeats_a_cell_with_content_16384_times_in_1048576_rows() {
    let bytes = ods_with_repeated_cells();
    assert!(bytes.len() < 10_000, "{} bytes", bytes.len());
    let content = entry_text(&bytes, "content.xml");
    assert!(content.contains(r#"<table:table-row table:style-name="ro1" table:number-rows-repeated="1048576"><table:table-cell table:number-columns-repeated="16384" office:value-type="string""#), "{content}");
}

/// A small entry of a zip, as text.
fn entry_text(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut text = String::new();
    archive.by_name(name).unwrap().read_to_string(&mut text).unwrap();
    text
}
