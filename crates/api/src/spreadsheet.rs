//! Cells of the CSV files Heard writes, made safe to open in a spreadsheet.
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` as a formula, and Excel
//! does the same after a leading tab or carriage return; a formula can fetch from the network
//! or start a program (`=1+2+cmd|' /C calc'!A0`). Anyone can write words that end up in a
//! cell: a decision's title, a speaker's words, a cell of a hub's own spreadsheet. So every
//! CSV Heard writes passes every cell through [`escape_cell`], which puts a single quote in
//! front of such a cell, as OWASP recommends: the spreadsheet shows the words as text.
//! [`unescape_cell`] takes the quote off again where Heard reads back a file it wrote (the
//! rejected rows of an import, fixed and imported again).

use std::borrow::Cow;

/// The first bytes that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [u8; 6] = [b'=', b'+', b'-', b'@', b'\t', b'\r'];

/// True for a cell that begins a formula, after any single quotes: a cell that already begins
/// with quotes gets one more, so that [`unescape_cell`] gives back exactly what was written.
fn needs_a_quote(cell: &[u8]) -> bool {
    let start = cell.iter().position(|byte| *byte != b'\'').unwrap_or(cell.len());
    cell.get(start).is_some_and(|first| FORMULA_STARTS.contains(first))
}

/// A cell as every CSV of Heard's holds it: unchanged, or with a single quote in front when
/// it begins with `=`, `+`, `-`, `@`, a tab or a carriage return.
pub fn escape_cell<T: AsRef<[u8]> + ?Sized>(cell: &T) -> Cow<'_, [u8]> {
    let cell = cell.as_ref();
    if needs_a_quote(cell) {
        let mut escaped = Vec::with_capacity(cell.len() + 1);
        escaped.push(b'\'');
        escaped.extend_from_slice(cell);
        Cow::Owned(escaped)
    } else {
        Cow::Borrowed(cell)
    }
}

/// A cell read back from a CSV Heard wrote: the quote [`escape_cell`] added comes off.
pub fn unescape_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_a_quote(rest.as_bytes()) => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_that_starts_a_formula_gets_a_single_quote_in_front() {
        for formula in ["=1+2+cmd|' /C calc'!A0", "+44 1903 000000", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"] {
            let escaped = escape_cell(formula);
            assert_eq!(escaped.as_ref(), format!("'{formula}").as_bytes(), "{formula:?}");
        }
    }

    #[test]
    fn ordinary_cells_are_left_as_they_are_without_copying() {
        for plain in
            ["Open the Arun hub until 8pm", "7", "0.857", "2026-11-02", "", " =1", "'quoted", "a=b", "\n=1", "'"]
        {
            assert!(matches!(escape_cell(plain), Cow::Borrowed(cell) if cell == plain.as_bytes()), "{plain:?}");
        }
        assert!(matches!(escape_cell(b"\xff=not utf-8".as_slice()), Cow::Borrowed(_)));
    }

    #[test]
    fn unescaping_gives_back_the_cell_and_leaves_other_quotes_alone() {
        for cell in ["=1+2", "-dashes", "@someone", "\tTabbed", "plain", "'quoted words", "", "'", "'=1", "''+2"] {
            let escaped = String::from_utf8(escape_cell(cell).into_owned()).unwrap();
            assert_eq!(unescape_cell(&escaped), cell, "{cell:?}");
        }
        assert_eq!(unescape_cell("'tis the season"), "'tis the season");
        assert_eq!(escape_cell("'=1").as_ref(), b"''=1", "a quote already there gets another");
    }
}
