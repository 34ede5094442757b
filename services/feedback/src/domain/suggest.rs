//! Suggested redactions: the passages of an item's words that could identify someone, for a
//! coordinator to confirm before the item leaves the hub. Nothing here redacts anything: it
//! only points (see [`crate::domain::redact`], which takes what the coordinator confirmed).
//!
//! Four things are found, each a whole word or run of words, never part of one:
//!
//! - a name or place on the hub's own gazetteer, in any case (`bognor` finds `Bognor`);
//! - an email address (`jo.smith@example.org`);
//! - a UK phone number: `07700 900123`, `07700900123`, `+44 7700 900123`, `+44 (0)7700 900123`,
//!   `01903 123456`, `(01903) 123456`, `020 7946 0018`;
//! - a capitalised word that does not start a sentence (`told Marnie`), with the capitalised
//!   words right after it (`Marnie Smith`). A sentence's first word is capitalised anyway, so
//!   it is left alone, unless capitalised words follow it (`Marnie Smith said`, where both are
//!   found; `The Hope Centre`, where the opening `The` is not). Left out as well: `I` (and
//!   `I'm`, `I've`, …), words in capitals (`GP`, `NHS`, `A&E` are services, not people), and
//!   the days of the week and months, which are too common to be worth a tick each.
//!
//! Where two findings overlap they become one passage, named after the strongest reason
//! (gazetteer, then email, then phone, then name).

/// Why a passage was suggested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// On the hub's own list of names and places.
    Gazetteer,
    Email,
    Phone,
    /// A capitalised word that does not start a sentence: most likely a person or a place.
    Name,
}

/// A passage to take out, as characters `start..end` of the text (end exclusive), and the
/// passage itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suggestion {
    pub start: usize,
    pub end: usize,
    pub text: String,
    pub reason: Reason,
}

/// The passages of `text` that could identify someone: the `gazetteer`'s names and places, and
/// what the detector finds. In order, never overlapping.
pub fn suggest(text: &str, gazetteer: &[&str]) -> Vec<Suggestion> {
    let mut found: Vec<(usize, usize, Reason)> = Vec::new();
    for name in gazetteer {
        found.extend(occurrences(text, name).into_iter().map(|(start, end)| (start, end, Reason::Gazetteer)));
    }
    found.extend(emails(text).into_iter().map(|(start, end)| (start, end, Reason::Email)));
    found.extend(phones(text).into_iter().map(|(start, end)| (start, end, Reason::Phone)));
    found.extend(names(text).into_iter().map(|(start, end)| (start, end, Reason::Name)));
    found.sort_by_key(|&(start, end, reason)| (start, std::cmp::Reverse(end), reason));
    let mut merged: Vec<(usize, usize, Reason)> = Vec::new();
    for (start, end, reason) in found {
        match merged.last_mut() {
            Some(last) if start < last.1 => {
                last.1 = last.1.max(end);
                last.2 = last.2.min(reason);
            }
            _ => merged.push((start, end, reason)),
        }
    }
    merged
        .into_iter()
        .map(|(start, end, reason)| Suggestion {
            start: text[..start].chars().count(),
            end: text[..end].chars().count(),
            text: text[start..end].to_owned(),
            reason,
        })
        .collect()
}

/// The character just before byte `at`, if any.
fn before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

/// The character at byte `at`, if any.
fn after(text: &str, at: usize) -> Option<char> {
    text[at..].chars().next()
}

/// Whether `start..end` is whole words: no letter or digit right before or after it.
fn whole_words(text: &str, start: usize, end: usize) -> bool {
    !before(text, start).is_some_and(char::is_alphanumeric) && !after(text, end).is_some_and(char::is_alphanumeric)
}

/// Where `name` occurs in `text` as whole words, ignoring case; a space in the name matches any
/// run of whitespace. Byte ranges.
fn occurrences(text: &str, name: &str) -> Vec<(usize, usize)> {
    let wanted: Vec<char> = name.split_whitespace().collect::<Vec<_>>().join(" ").chars().collect();
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<(usize, usize)> = Vec::new();
    for (start, _) in text.char_indices() {
        if found.last().is_some_and(|&(_, end)| start < end) {
            continue;
        }
        if let Some(end) = match_at(text, start, &wanted)
            && whole_words(text, start, end)
        {
            found.push((start, end));
        }
    }
    found
}

/// The end of `wanted` matched at byte `start` of `text` (see [`occurrences`]), if it is there.
fn match_at(text: &str, start: usize, wanted: &[char]) -> Option<usize> {
    let mut chars = text[start..].char_indices().peekable();
    let mut end = start;
    for &want in wanted {
        let (offset, got) = chars.next()?;
        end = start + offset + got.len_utf8();
        if want == ' ' {
            if !got.is_whitespace() {
                return None;
            }
            while let Some(&(offset, c)) = chars.peek() {
                if !c.is_whitespace() {
                    break;
                }
                end = start + offset + c.len_utf8();
                chars.next();
            }
        } else if got != want && !got.to_lowercase().eq(want.to_lowercase()) {
            return None;
        }
    }
    Some(end)
}

/// Email addresses: `local@domain.tld`, the local part of letters, digits and `._%+-`, the
/// domain of letters, digits, `-` and dots, ending in a dot and two letters or more.
fn emails(text: &str) -> Vec<(usize, usize)> {
    let local = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let domain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        let start = text[..at].char_indices().rev().take_while(|&(_, c)| local(c)).last().map_or(at, |(i, _)| i);
        let start = start + text[start..at].len() - text[start..at].trim_start_matches('.').len();
        let tail = &text[at + 1..];
        let length = tail.find(|c: char| !domain(c)).unwrap_or(tail.len());
        let host = tail[..length].trim_end_matches(['.', '-']);
        let top = host.rsplit_once('.').map(|(_, top)| top).unwrap_or_default();
        let labels_ok = host.split('.').all(|label| !label.is_empty());
        if start < at && labels_ok && top.len() >= 2 && top.chars().all(|c| c.is_ascii_alphabetic()) {
            found.push((start, at + 1 + host.len()));
        }
    }
    found
}

/// UK phone numbers: from `0` (or `(0`) with 10 or 11 digits, or from `+44` with 10 digits
/// after it (an optional `(0)` between), digits grouped by single spaces, hyphens or brackets.
fn phones(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut found: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts = match bytes[at] {
            b'0' => true,
            b'(' => bytes.get(at + 1) == Some(&b'0'),
            b'+' => text[at..].starts_with("+44"),
            _ => false,
        };
        if !starts || before(text, at).is_some_and(|c| c.is_alphanumeric() || c == '+') {
            at += 1;
            continue;
        }
        match phone_at(text, at) {
            Some(end) => {
                found.push((at, end));
                at = end;
            }
            None => at += 1,
        }
    }
    found
}

/// The end of the longest phone number starting at byte `start`, if one does.
fn phone_at(text: &str, start: usize) -> Option<usize> {
    let international = text[start..].starts_with("+44");
    let bytes = text.as_bytes();
    let mut at = if international { start + 3 } else { start };
    let mut digits = 0;
    let mut best = None;
    while at < bytes.len() && digits <= 11 {
        let byte = bytes[at];
        if byte.is_ascii_digit() {
            digits += 1;
            let ends_here = !bytes.get(at + 1).is_some_and(u8::is_ascii_digit);
            let wanted = if international { digits == 10 } else { digits == 10 || digits == 11 };
            if ends_here && wanted && !after(text, at + 1).is_some_and(char::is_alphanumeric) {
                best = Some(at + 1);
            }
        } else if international && digits == 0 && text[at..].starts_with("(0)") {
            // `+44 (0)7700 900123`: the trunk zero in brackets does not count.
            at += 3;
            continue;
        } else if !matches!(byte, b' ' | b'-' | b'(' | b')') || (byte == b' ' && bytes[at - 1] == b' ') {
            // Anything else, or two spaces, ends the number.
            break;
        }
        at += 1;
    }
    best
}

/// Words that open many sentences: when a sentence opens with one of them followed by
/// capitalised words (`The Hope Centre`), the opener is not part of the name.
const OPENERS: &[&str] = &[
    "a", "an", "and", "at", "but", "for", "from", "he", "her", "his", "if", "in", "it", "my", "on", "our", "she", "so",
    "that", "the", "their", "then", "there", "they", "this", "to", "we", "when", "with", "you", "your",
];

/// Capitalised words that name no one.
const COMMON: &[&str] = &[
    "i",
    "i'm",
    "i've",
    "i'd",
    "i'll",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// Titles after which a full stop does not end the sentence (`Dr. Patel`).
const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "dr", "prof", "st"];

/// A word of the text: byte range, and whether a sentence starts with it.
struct Word {
    start: usize,
    end: usize,
    sentence_start: bool,
}

/// The words of `text`: letters, with an apostrophe or hyphen inside (`O'Brien`, `Mary-Jane`).
fn words(text: &str) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut index = 0;
    while index < chars.len() {
        if !chars[index].1.is_alphabetic() {
            index += 1;
            continue;
        }
        let start = chars[index].0;
        let mut last = index;
        let mut next = index + 1;
        while next < chars.len() {
            let c = chars[next].1;
            let joins =
                matches!(c, '\'' | '\u{2019}' | '-') && chars.get(next + 1).is_some_and(|(_, c)| c.is_alphabetic());
            if c.is_alphabetic() {
                last = next;
                next += 1;
            } else if joins {
                next += 1;
            } else {
                break;
            }
        }
        let end = chars[last].0 + chars[last].1.len_utf8();
        let sentence_start = match words.last() {
            None => true,
            Some(previous) => {
                let gap = &text[previous.end..start];
                let title = TITLES.contains(&text[previous.start..previous.end].to_lowercase().as_str());
                gap.contains(['!', '?', '\n']) || (gap.contains('.') && !(title && gap.trim() == "."))
            }
        };
        words.push(Word { start, end, sentence_start });
        index = next;
    }
    words
}

/// Whether a word is capitalised the way a name is: two letters or more, the first in upper
/// case and not all of them (`GP`), and not a common word.
fn capitalised(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let first_upper = letters.first().is_some_and(|c| c.is_uppercase());
    let all_upper = letters.iter().all(|c| c.is_uppercase());
    let common = COMMON.contains(&word.to_lowercase().replace('\u{2019}', "'").as_str());
    letters.len() > 1 && first_upper && !all_upper && !common
}

/// Capitalised words that are not a sentence's first, joined into runs (`Marnie Smith`).
fn names(text: &str) -> Vec<(usize, usize)> {
    let words = words(text);
    let mut found = Vec::new();
    let mut index = 0;
    while index < words.len() {
        if !capitalised(&text[words[index].start..words[index].end]) {
            index += 1;
            continue;
        }
        // The run: the words after this one, each capitalised and only spaces apart.
        let mut last = index;
        while let Some(next) = words.get(last + 1) {
            let gap = &text[words[last].end..next.start];
            if gap.is_empty() || !gap.chars().all(|c| c == ' ') || !capitalised(&text[next.start..next.end]) {
                break;
            }
            last += 1;
        }
        let mut first = index;
        if words[index].sentence_start {
            let opener = text[words[index].start..words[index].end].to_lowercase();
            if last == index || OPENERS.contains(&opener.as_str()) {
                first = index + 1;
            }
        }
        if first <= last {
            found.push((words[first].start, words[last].end));
        }
        index = last + 1;
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The passages found in `text` with no gazetteer, and why.
    fn found(text: &str) -> Vec<(String, Reason)> {
        suggest(text, &[]).into_iter().map(|s| (s.text, s.reason)).collect()
    }

    fn passages(text: &str, gazetteer: &[&str]) -> Vec<String> {
        suggest(text, gazetteer).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn a_capitalised_word_in_the_middle_of_a_sentence_is_suggested_as_a_name() {
        assert_eq!(found("The nurse told Marnie to come back on her own."), [("Marnie".to_owned(), Reason::Name)]);
        assert_eq!(passages("we went to see Tobias at the chemist", &[]), ["Tobias"]);
    }

    #[test]
    fn the_capital_that_starts_a_sentence_is_not_suggested() {
        assert!(found("Waiting lists are too long.").is_empty());
        assert!(found("It was fine. Staff were kind! Really? Yes.").is_empty());
        assert!(found("The first line.\nSecond line starts with a capital").is_empty());
        assert_eq!(passages("They were rude. Kezia said so too.", &[]), Vec::<String>::new());
    }

    #[test]
    fn capitalised_words_side_by_side_are_one_name_even_at_the_start_of_a_sentence() {
        assert_eq!(passages("I saw Marnie Smith at the hub.", &[]), ["Marnie Smith"]);
        assert_eq!(passages("Marnie Smith was there.", &[]), ["Marnie Smith"]);
        assert_eq!(passages("The Hope Centre closed early.", &[]), ["Hope Centre"], "the opener is not a name");
    }

    #[test]
    fn i_words_in_capitals_days_and_months_are_not_names() {
        assert!(found("then I said I'm fed up and I've had enough").is_empty());
        assert!(found("the GP and the NHS and A&E were no help").is_empty());
        assert!(found("it was on Monday in December").is_empty());
    }

    #[test]
    fn a_title_with_a_full_stop_does_not_end_the_sentence() {
        assert_eq!(passages("we saw Dr. Patel about it", &[]), ["Dr", "Patel"]);
        assert_eq!(passages("we saw Dr Patel about it", &[]), ["Dr Patel"]);
    }

    #[test]
    fn names_with_an_apostrophe_or_a_hyphen_are_one_word() {
        assert_eq!(passages("ask for Dougie O'Brien or Mary-Jane", &[]), ["Dougie O'Brien", "Mary-Jane"]);
    }

    #[test]
    fn uk_mobile_numbers_are_found_written_every_usual_way() {
        for number in
            ["07700 900123", "07700900123", "+44 7700 900123", "+447700900123", "+44 (0)7700 900123", "07700-900-123"]
        {
            let text = format!("ring me on {number} after six");
            assert_eq!(found(&text), [(number.to_owned(), Reason::Phone)], "{text}");
        }
    }

    #[test]
    fn uk_landline_numbers_are_found_too() {
        for number in ["01903 123456", "(01903) 123456", "020 7946 0018", "0190 312 3456"] {
            let text = format!("the number is {number}.");
            assert_eq!(found(&text), [(number.to_owned(), Reason::Phone)], "{text}");
        }
    }

    #[test]
    fn numbers_that_are_not_phone_numbers_are_left_alone() {
        assert!(found("I waited 12 weeks and 3 days, 10 miles away").is_empty());
        assert!(found("on 2026-03-14 at 0900 for 20 minutes").is_empty());
        assert!(found("a reference 077009001234567 is too long").is_empty());
        assert!(found("+1 202 555 0143 is not a UK number").is_empty());
    }

    #[test]
    fn email_addresses_are_found_and_their_full_stop_is_not_taken() {
        assert_eq!(
            found("write to jo.smith+hub@example.org."),
            [("jo.smith+hub@example.org".to_owned(), Reason::Email)]
        );
        assert_eq!(found("or Jo@Example.co.uk today"), [("Jo@Example.co.uk".to_owned(), Reason::Email)]);
        assert!(found("meet @ the hub, or at me@home").is_empty(), "an @ alone is no address");
    }

    #[test]
    fn a_gazetteer_name_is_found_in_any_case_as_whole_words_only() {
        assert_eq!(suggest("Down in bognor by the pier", &["Bognor"])[0].reason, Reason::Gazetteer);
        assert_eq!(passages("Down in bognor by the pier", &["Bognor"]), ["bognor"]);
        assert!(passages("Bognorians are fine", &["Bognor"]).is_empty(), "never part of a word");
        assert_eq!(
            passages("Three  Bridges again, three bridges", &["Three Bridges"]),
            ["Three  Bridges", "three bridges"]
        );
    }

    #[test]
    fn a_gazetteer_name_that_starts_a_sentence_is_still_found() {
        assert_eq!(passages("Littlehampton has nothing after five.", &["Littlehampton"]), ["Littlehampton"]);
    }

    #[test]
    fn overlapping_findings_become_one_passage_named_after_the_strongest_reason() {
        let found = suggest("we went with Marnie Smith to it", &["Smith"]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].text.as_str(), found[0].reason), ("Marnie Smith", Reason::Gazetteer));
    }

    #[test]
    fn positions_are_in_characters_so_the_page_can_mark_them() {
        let text = "Café staff told Zoë off";
        let found = suggest(text, &[]);
        assert_eq!(found.len(), 1);
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(chars[found[0].start..found[0].end].iter().collect::<String>(), "Zoë");
    }

    #[test]
    fn every_suggestion_is_a_passage_of_the_text_so_redacting_it_works() {
        let text = "Sam said call 07700 900123 or email sam@example.org, ask for Kezia in Bognor.";
        for suggestion in suggest(text, &["bognor"]) {
            assert!(text.contains(&suggestion.text), "{suggestion:?}");
        }
        assert_eq!(
            passages(text, &["bognor"]),
            ["07700 900123", "sam@example.org", "Kezia", "Bognor"],
            "the opening Sam is a sentence's first word"
        );
    }

    #[test]
    fn odd_text_never_trips_the_detector() {
        for text in [
            "+44",
            "(",
            "(0",
            "0",
            "@",
            "a@",
            "@b.cd",
            "é@ü.de",
            "İstanbul İ",
            "👍 Zoë 👍 +44 (0)",
            "x\u{301}Y Z",
            "Ⅻ Ⅻ",
        ] {
            for suggestion in suggest(text, &["İ", "ü", "👍"]) {
                let chars: Vec<char> = text.chars().collect();
                let marked: String = chars[suggestion.start..suggestion.end].iter().collect();
                assert_eq!(marked, suggestion.text, "{text:?}");
            }
        }
    }

    #[test]
    fn empty_text_and_an_empty_gazetteer_entry_find_nothing() {
        assert!(suggest("", &["Bognor"]).is_empty());
        assert!(suggest("nothing here", &["", "  "]).is_empty());
    }
}
