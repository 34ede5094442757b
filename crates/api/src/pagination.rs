//! Relay cursor connections over an in-memory, already ordered and filtered list.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge, EmptyFields};

use crate::error::{ApiError, ApiResult};

/// The most items one page may hold; `first`/`last` default to 50.
pub const MAX_PAGE: usize = 100;
const DEFAULT_PAGE: usize = 50;

/// Cuts one page out of `items`. Cursors are opaque offsets (`"o:12"`); `first`/`after` page
/// forwards and `last`/`before` backwards, as the Relay specification describes.
pub fn paginate<T: OutputType>(
    items: Vec<T>,
    after: Option<String>,
    before: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> ApiResult<Connection<String, T, EmptyFields, EmptyFields>> {
    let total = items.len();
    let mut start = match after {
        // A cursor this list never gave out may hold any number: one past the largest is
        // past the end, not a wrap back to the start.
        Some(cursor) => decode(&cursor, "after")?.saturating_add(1),
        None => 0,
    };
    let mut end = match before {
        Some(cursor) => decode(&cursor, "before")?,
        None => total,
    };
    start = start.min(total);
    end = end.clamp(start, total);
    let size = |value: Option<i32>, field: &str| -> ApiResult<Option<usize>> {
        match value {
            None => Ok(None),
            Some(n) if n < 0 => Err(ApiError::bad_input(field, "must be 0 or more")),
            Some(n) if n as usize > MAX_PAGE => Err(ApiError::bad_input(field, format!("must be at most {MAX_PAGE}"))),
            Some(n) => Ok(Some(n as usize)),
        }
    };
    let first = size(first, "first")?;
    let last = size(last, "last")?;
    match (first, last) {
        (Some(first), _) => end = end.min(start + first),
        (None, Some(last)) => start = start.max(end.saturating_sub(last)),
        (None, None) => end = end.min(start + DEFAULT_PAGE),
    }
    let mut connection = Connection::new(start > 0, end < total);
    connection.edges.extend(
        items.into_iter().enumerate().skip(start).take(end - start).map(|(index, item)| Edge::new(encode(index), item)),
    );
    Ok(connection)
}

/// The `after` cursor of a page that starts at `offset` (the 21st item: 20), for a client that
/// jumps to a page by its number; `None` for the first page.
pub fn cursor_before(offset: usize) -> Option<String> {
    offset.checked_sub(1).map(encode)
}

fn encode(index: usize) -> String {
    format!("o:{index}")
}

fn decode(cursor: &str, field: &str) -> ApiResult<usize> {
    cursor
        .strip_prefix("o:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| ApiError::bad_input(field, "is not a cursor this list gave out"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(after: Option<&str>, first: Option<i32>) -> (Vec<i32>, bool, bool) {
        let connection = paginate((0..10).collect(), after.map(Into::into), None, first, None).unwrap();
        (connection.edges.iter().map(|e| e.node).collect(), connection.has_previous_page, connection.has_next_page)
    }

    #[test]
    fn pages_follow_each_other_without_a_gap_or_an_overlap() {
        assert_eq!(page(None, Some(4)), (vec![0, 1, 2, 3], false, true));
        assert_eq!(page(Some("o:3"), Some(4)), (vec![4, 5, 6, 7], true, true));
        assert_eq!(page(Some("o:7"), Some(4)), (vec![8, 9], true, false));
    }

    #[test]
    fn a_made_up_cursor_at_the_largest_number_gives_an_empty_page_not_the_first_one() {
        let after = format!("o:{}", usize::MAX);
        assert_eq!(page(Some(&after), Some(4)), (vec![], true, false));
        let Err(refused) = paginate((0..10).collect::<Vec<i32>>(), Some("o:-1".into()), None, None, None) else {
            panic!("a negative cursor is refused");
        };
        assert!(format!("{refused:?}").contains("after"), "{refused:?}");
    }

    #[test]
    fn a_page_can_be_reached_by_where_it_starts() {
        assert_eq!(cursor_before(0), None);
        let third = cursor_before(8);
        assert_eq!(page(third.as_deref(), Some(4)), (vec![8, 9], true, false));
    }

    #[test]
    fn a_bad_cursor_or_page_size_names_the_argument() {
        let error = paginate(vec![1], Some("zzz".into()), None, None, None).err().unwrap();
        assert!(matches!(error, ApiError::BadUserInput { ref field, .. } if field == "after"), "{error:?}");
        let error = paginate(vec![1], None, None, Some(1000), None).err().unwrap();
        assert!(matches!(error, ApiError::BadUserInput { ref field, .. } if field == "first"), "{error:?}");
    }
}
