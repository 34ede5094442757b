//! Which column of a hub's spreadsheet holds what: the header row's headings matched by name
//! (case, spaces and punctuation ignored, with the names hubs commonly use), and the choices a
//! coordinator made for headings Heard does not recognise. A column Heard has no use for is
//! left out and listed, never a reason to refuse the file.

use std::fmt;

use super::sheet::{Row, Value};

/// What Heard reads from a spreadsheet, in the order their values go into the import key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    Date,
    Channel,
    About,
    Text,
    Themes,
    Speaker,
    Consent,
}

impl Column {
    pub const ALL: [Column; 7] =
        [Column::Date, Column::Channel, Column::About, Column::Text, Column::Themes, Column::Speaker, Column::Consent];

    /// Heard's own name for it, as the canonical CSV heads it.
    pub fn name(self) -> &'static str {
        match self {
            Column::Date => "date",
            Column::Channel => "channel",
            Column::About => "about",
            Column::Text => "text",
            Column::Themes => "themes",
            Column::Speaker => "speaker",
            Column::Consent => "consent",
        }
    }

    /// What it holds, in words, for messages: "the date".
    pub fn what(self) -> &'static str {
        match self {
            Column::Date => "the date it was said",
            Column::Channel => "the channel (where it was said)",
            Column::About => "the service it is about",
            Column::Text => "what was said",
            Column::Themes => "the themes",
            Column::Speaker => "who said it (anonymous, pseudonymous or named)",
            Column::Consent => "who may see it (hub, commissioners or public)",
        }
    }

    /// A file may leave these out: the service and the themes are then blank.
    pub fn optional(self) -> bool {
        matches!(self, Column::About | Column::Themes)
    }

    /// Reads Heard's own name ("date"), whatever its case.
    pub fn parse(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|column| column.name().eq_ignore_ascii_case(name.trim()))
    }

    const fn index(self) -> usize {
        self as usize
    }

    /// The headings hubs give each column, folded by [`fold`].
    fn names(self) -> &'static [&'static str] {
        match self {
            Column::Date => &[
                "date",
                "date said",
                "day",
                "when",
                "when said",
                "date of feedback",
                "feedback date",
                "date received",
                "said on",
                "date given",
            ],
            Column::Channel => &[
                "channel",
                "where",
                "where said",
                "how",
                "how given",
                "how received",
                "source",
                "setting",
                "method",
                "where was it said",
            ],
            Column::About => &[
                "about",
                "service",
                "provider",
                "about which service",
                "service provider",
                "which service",
                "service it is about",
                "organisation",
            ],
            Column::Text => &[
                "text",
                "what was said",
                "what they said",
                "what people said",
                "said",
                "feedback",
                "comment",
                "comments",
                "words",
                "quote",
                "their words",
            ],
            Column::Themes => &["themes", "theme", "topic", "topics", "category", "categories", "tags", "issues"],
            Column::Speaker => {
                &["speaker", "who said it", "who", "said by", "speaker type", "named or anonymous", "identity"]
            }
            Column::Consent => &[
                "consent",
                "who may see it",
                "who can see it",
                "sharing",
                "share with",
                "can we share",
                "consent to share",
                "visibility",
                "permission",
            ],
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The heading of the column the rejects file adds. A file that has it is still read (its cells
/// are left out), so a coordinator can fix the rejected rows and import that file as it is.
pub const ERROR_COLUMN: &str = "error";

/// Lower case, and every run of spaces and punctuation one space: "Date  Said:" is "date said".
pub fn fold(heading: &str) -> String {
    heading
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// What Heard recognises a heading as, by name alone.
pub fn recognise(heading: &str) -> Option<Column> {
    let folded = fold(heading);
    Column::ALL.into_iter().find(|column| column.names().contains(&folded.as_str()))
}

/// A coordinator's choice for one heading: the column it holds, or `None` to leave it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Choice {
    pub heading: String,
    pub column: Option<Column>,
}

/// One column of the file as Heard will read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    /// The heading as the file has it, trimmed ("" for a column with no heading).
    pub heading: String,
    /// What it holds; `None` when it is left out.
    pub column: Option<Column>,
    /// The coordinator chose this, rather than Heard recognising the heading.
    pub chosen: bool,
}

/// Where each of Heard's columns is in the file, and what every column of the file is used for.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The header row's number.
    pub header: usize,
    pub uses: Vec<Use>,
    /// Position in the row, for each [`Column`] in [`Column::ALL`] order.
    positions: [Option<usize>; 7],
}

impl Layout {
    pub fn position(&self, column: Column) -> Option<usize> {
        self.positions[column.index()]
    }

    /// The columns Heard needs that no heading gives.
    pub fn missing(&self) -> Vec<Column> {
        Column::ALL.into_iter().filter(|column| !column.optional() && self.position(*column).is_none()).collect()
    }

    /// How a message names the column at `position`: its heading, or its letter when it has none.
    pub fn label(&self, position: usize) -> String {
        match self.uses.get(position) {
            Some(found) if !found.heading.is_empty() => found.heading.clone(),
            _ => format!("column {}", letter(position)),
        }
    }

    /// How a message names `column`: the file's heading for it, or Heard's name.
    pub fn label_of(&self, column: Column) -> String {
        self.position(column).map_or_else(|| column.name().to_owned(), |position| self.label(position))
    }
}

/// Why the header row cannot be used as it is. A coordinator fixes it by choosing columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderProblem {
    /// No heading of the first row is one Heard knows: it is most likely data.
    NoHeadings,
    /// Two columns would hold the same thing (positions in the row).
    Twice(Column, usize, usize),
    /// Columns Heard needs are missing.
    Missing(Vec<Column>),
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderProblem::NoHeadings => write!(
                f,
                "the first row must be the column headings, and Heard recognises none of them; choose what each column holds, or add headings such as {}",
                Column::ALL.map(Column::name).join(", ")
            ),
            HeaderProblem::Twice(column, first, second) => write!(
                f,
                "columns {} and {} could both hold {}; choose which one Heard reads and leave the other out",
                letter(*first),
                letter(*second),
                column.what()
            ),
            HeaderProblem::Missing(columns) => {
                let names: Vec<&str> = columns.iter().map(|column| column.what()).collect();
                let (what, verb) =
                    if names.len() == 1 { (names[0].to_owned(), "holds") } else { (list(&names), "hold") };
                write!(f, "no column {verb} {what}; choose the column that does, or add one")
            }
        }
    }
}

fn list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A spreadsheet's name for the column at `position`: A, B, … Z, AA, AB, …
pub fn letter(position: usize) -> String {
    let mut n = position + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).expect("ASCII letters")
}

/// Reads the header row with the coordinator's `choices`. The layout is returned with its
/// problem, if any, so a preview can show every column and ask for the missing choices.
pub fn layout(header: &Row, choices: &[Choice]) -> (Layout, Option<HeaderProblem>) {
    let mut uses = Vec::with_capacity(header.cells.len());
    for cell in &header.cells {
        let heading = match cell {
            Value::Empty => String::new(),
            other => other.text().trim().to_owned(),
        };
        let chosen = choices.iter().find(|choice| fold(&choice.heading) == fold(&heading) && !heading.is_empty());
        let (column, chosen) = match chosen {
            Some(choice) => (choice.column, true),
            None => (recognise(&heading), false),
        };
        uses.push(Use { heading, column, chosen });
    }
    let mut positions = [None; 7];
    let mut problem = None;
    for (position, found) in uses.iter().enumerate() {
        let Some(column) = found.column else { continue };
        match positions[column.index()] {
            None => positions[column.index()] = Some(position),
            Some(first) => {
                problem.get_or_insert(HeaderProblem::Twice(column, first, position));
            }
        }
    }
    let layout = Layout { header: header.number, uses, positions };
    if problem.is_none() {
        let any_chosen = layout.uses.iter().any(|found| found.chosen);
        if !any_chosen && layout.uses.iter().all(|found| found.column.is_none()) {
            problem = Some(HeaderProblem::NoHeadings);
        } else if !layout.missing().is_empty() {
            problem = Some(HeaderProblem::Missing(layout.missing()));
        }
    }
    (layout, problem)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(headings: &[&str]) -> Row {
        Row { number: 1, cells: headings.iter().map(|heading| Value::Text((*heading).to_owned())).collect() }
    }

    #[test]
    fn headings_are_recognised_whatever_their_case_spacing_and_punctuation() {
        for (heading, column) in [
            ("Date said", Column::Date),
            ("  DATE   SAID: ", Column::Date),
            ("Where", Column::Channel),
            ("Who said it?", Column::Speaker),
            ("What was said", Column::Text),
            ("Topics", Column::Themes),
            ("Who may see it", Column::Consent),
            ("Service", Column::About),
        ] {
            assert_eq!(recognise(heading), Some(column), "{heading:?}");
        }
        assert_eq!(recognise("Notes"), None);
        assert_eq!(recognise("Postcode"), None);
    }

    #[test]
    fn a_column_heard_does_not_know_is_left_out_and_listed() {
        let (layout, problem) = layout(
            &header(&["Date said", "Where", "Notes", "What was said", "Who said it", "Consent", "Staff initials"]),
            &[],
        );
        assert_eq!(problem, None);
        let left_out: Vec<&str> =
            layout.uses.iter().filter(|found| found.column.is_none()).map(|found| found.heading.as_str()).collect();
        assert_eq!(left_out, ["Notes", "Staff initials"]);
        assert_eq!(layout.position(Column::Text), Some(3));
        assert_eq!(layout.position(Column::About), None, "about is optional");
        assert_eq!(layout.position(Column::Themes), None, "themes are optional");
    }

    #[test]
    fn a_missing_column_is_named_in_words_and_can_be_chosen() {
        let row = header(&["Date", "Channel", "Comment box", "Speaker", "Consent"]);
        let (_, problem) = layout(&row, &[]);
        assert_eq!(problem, Some(HeaderProblem::Missing(vec![Column::Text])));
        assert_eq!(
            problem.unwrap().to_string(),
            "no column holds what was said; choose the column that does, or add one"
        );
        let choices = [Choice { heading: "comment BOX".into(), column: Some(Column::Text) }];
        let (layout, problem) = layout(&row, &choices);
        assert_eq!(problem, None);
        assert_eq!(layout.position(Column::Text), Some(2));
        assert!(layout.uses[2].chosen);
        assert!(!layout.uses[0].chosen);
    }

    #[test]
    fn a_recognised_column_can_be_left_out_by_choice() {
        let row = header(&["Date", "Day", "Channel", "Text", "Speaker", "Consent"]);
        let (_, problem) = layout(&row, &[]);
        assert_eq!(problem, Some(HeaderProblem::Twice(Column::Date, 0, 1)));
        assert!(problem.unwrap().to_string().starts_with("columns A and B could both hold the date"));
        let (layout, problem) = layout(&row, &[Choice { heading: "Day".into(), column: None }]);
        assert_eq!(problem, None);
        assert_eq!(layout.position(Column::Date), Some(0));
    }

    #[test]
    fn a_first_row_of_data_is_not_taken_for_headings() {
        let row = header(&["25/08/2026", "drop-in", "The bus costs too much", "anonymous", "hub"]);
        assert_eq!(layout(&row, &[]).1, Some(HeaderProblem::NoHeadings));
    }

    #[test]
    fn column_letters_run_as_a_spreadsheet_names_them() {
        assert_eq!(
            [0, 1, 25, 26, 27, 51, 52, 701, 702].map(letter),
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]
        );
    }
}
