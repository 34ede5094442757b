//! The spreadsheet importer's read step, `heard_feedback::import::read`: the same entry point
//! the upload, the preview and `heard import feedback` use, for CSV text in any encoding and
//! for `.xlsx` and `.ods` workbooks (it tells them apart by their first bytes). No store.
//!
//! Properties: it never panics; a file it reads without a header problem has every row under
//! the header either accepted or rejected (never both, never neither), and every rejection
//! names a column as the file heads it, by its letter, by Heard's name for it, or `(row)`;
//! the file of rejected rows can always be written.

#![no_main]

use std::collections::BTreeSet;
use std::sync::LazyLock;

use heard_feedback::domain::themes::{self, Vocabulary};
use heard_feedback::import::{self, Column, Known, Options, ROW_COLUMN};
use libfuzzer_sys::fuzz_target;

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    let mut vocabulary = Vocabulary::default();
    for event in themes::seed() {
        vocabulary.added(event);
    }
    vocabulary
});

static PROVIDERS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    vec![
        ("change-grow-live".to_owned(), "Change Grow Live".to_owned()),
        ("turning-point".to_owned(), "Turning Point".to_owned()),
    ]
});

fuzz_target!(|data: &[u8]| {
    let known =
        Known { hub: "crawley", providers: &PROVIDERS, vocabulary: &VOCABULARY, today: jiff::civil::date(2026, 3, 14) };
    let Ok(reading) = import::read(data, Options::default(), known) else { return };
    let _ = import::rejects_csv(&reading);
    if reading.problem.is_some() {
        assert!(reading.parsed.rows.is_empty() && reading.parsed.errors.is_empty(), "rows read under a bad header");
        return;
    }
    let layout = reading.layout.as_ref().expect("a file read has a layout");
    let mut names: BTreeSet<String> = layout.uses.iter().map(|found| found.heading.clone()).collect();
    names.extend((0..layout.uses.len()).map(|position| layout.label(position)));
    names.extend(Column::ALL.map(|column| column.name().to_owned()));
    names.insert(ROW_COLUMN.to_owned());
    names.remove("");
    for error in &reading.parsed.errors {
        assert!(names.contains(&error.column), "a rejection names no column: {error:?}");
        assert!(!error.message.is_empty(), "a rejection without a message: {error:?}");
    }
    let rows = &reading.table.rows[1..];
    assert_eq!(rows.len(), reading.rows);
    assert!(reading.table.rows.windows(2).all(|pair| pair[0].number < pair[1].number), "rows out of order");
    let accepted: BTreeSet<usize> = reading.parsed.rows.iter().map(|row| row.row).collect();
    assert_eq!(accepted.len(), reading.parsed.rows.len(), "a row accepted twice");
    let rejected: BTreeSet<usize> = reading.parsed.errors.iter().map(|error| error.row).collect();
    for row in rows {
        let (yes, no) = (accepted.contains(&row.number), rejected.contains(&row.number));
        assert!(yes != no, "row {} accepted {yes}, rejected {no}", row.number);
    }
    let numbers: BTreeSet<usize> = rows.iter().map(|row| row.number).collect();
    assert!(accepted.union(&rejected).all(|number| numbers.contains(number)), "a row that is not in the file");
});
