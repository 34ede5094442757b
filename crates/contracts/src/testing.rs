//! What every service's domain tests read a [`Rejection`] with, and the table check of which
//! commands each state allows. Compiled only with the `testing` feature, which the services
//! turn on for their tests alone.

use std::fmt::Debug;

use crate::Rejection;

/// A command that may be refused, as the tables of [`conflicts_table_mismatches`] hold it.
pub type Command<'a, S, T> = Box<dyn Fn(&S) -> Result<T, Rejection> + 'a>;

/// Whether the command was refused because of the state.
pub fn is_conflict<T>(result: Result<T, Rejection>) -> bool {
    matches!(result, Err(Rejection::Conflict(_)))
}

/// The message of a refusal because of the state; anything else fails the test.
pub fn conflict_of<T: Debug>(result: Result<T, Rejection>) -> String {
    match result {
        Err(Rejection::Conflict(message)) => message,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// The field a refusal names; anything else fails the test.
pub fn field_of<T: Debug>(result: Result<T, Rejection>) -> String {
    field_and_message_of(result).0
}

/// The field a refusal names and what it says to do; anything else fails the test.
pub fn field_and_message_of<T: Debug>(result: Result<T, Rejection>) -> (String, String) {
    match result {
        Err(Rejection::Invalid { field, message }) => (field, message),
        other => panic!("expected a field error, got {other:?}"),
    }
}

/// Runs every command in every state: `expected` has one letter a state, `O` allowed and `C`
/// refused as a conflict. Returns a line for every cell that came out otherwise. A conflict
/// must say something readable (more than ten characters, no leftover `{`), and a refused
/// field fails the test outright: the commands of the table are written to be valid.
pub fn conflicts_table_mismatches<S, T>(
    states: &[(&str, S)],
    commands: &[(&str, Command<'_, S, T>, &str)],
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (name, command, expected) in commands {
        for ((state, subject), want) in states.iter().zip(expected.chars()) {
            let got = match command(subject) {
                Ok(_) => 'O',
                Err(Rejection::Conflict(message)) => {
                    assert!(message.len() > 10 && !message.contains('{'), "{name} when {state}: unclear {message:?}");
                    'C'
                }
                Err(Rejection::Invalid { field, message }) => panic!("{name} when {state}: {field}: {message}"),
            };
            if got != want {
                wrong.push(format!("{name} when {state}: expected {want}, got {got}"));
            }
        }
    }
    wrong
}

/// Every file below `dir`, for the tests that read the raw bytes Heard left on disk (a saved
/// model, an index, a key file) for words that must not be there.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the directory can be read") {
        let path = entry.expect("the directory can be read").path();
        if path.is_dir() { files.extend(files_under(&path)) } else { files.push(path) }
    }
    files
}

/// The files below `dir` whose raw bytes hold `needle`.
pub fn files_holding(dir: &std::path::Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|file| std::fs::read(file).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle)))
        .collect()
}

/// The data of a `ComplaintReceived` (the fields other services read), for the tests of a
/// service that folds complaints without the rights service beside it.
pub fn complaint_received(provider: &str, articles: &[u32]) -> serde_json::Value {
    serde_json::json!({ "Received": { "provider": provider, "articles": articles } })
}

/// The data of a `ComplaintLearningRecorded` (the fields other services read).
pub fn complaint_learning_recorded(statement: &str) -> serde_json::Value {
    serde_json::json!({ "LearningRecorded": { "statement": statement } })
}
