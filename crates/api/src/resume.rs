//! Subscriptions a client can resume: what they deliver carries the log position it is at (a
//! string cursor), a subscriber gives the last one it saw as `after` to carry on from there,
//! and one that fell too far behind is told so with [`lagged`] (never silently skipped).

use crate::{ApiError, ApiResult};

/// `extensions.code` of [`lagged`].
pub const LAGGED: &str = "LAGGED";

/// A subscription's `after` (named `field`): a global log position, as `position` gave it, no
/// further than the log's `head`. `None` when it was left out.
pub fn after_arg(field: &str, after: Option<&str>, head: u64) -> ApiResult<Option<u64>> {
    let Some(after) = after else { return Ok(None) };
    let position: u64 = after.trim().parse().map_err(|_| {
        ApiError::bad_input(
            field,
            "give a position a subscription delivered (its `position`): a whole number, as a string",
        )
    })?;
    if position > head {
        return Err(ApiError::bad_input(
            field,
            format!("there is no position {position} yet: give one a subscription delivered"),
        ));
    }
    Ok(Some(position))
}

/// The error that ends a subscription which fell too far behind: `extensions.code` is
/// [`LAGGED`] and `extensions.resumeAfter` the position to subscribe again `after` (everything
/// up to it was delivered, or was not the subscriber's to see).
pub fn lagged(resume_after: u64) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::new(format!(
        "this subscription fell behind and has ended; subscribe again with `after: \"{resume_after}\"` to get the rest"
    ))
    .extend_with(|_, extensions| {
        extensions.set("code", LAGGED);
        extensions.set("resumeAfter", resume_after.to_string());
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_is_a_position_no_further_than_the_head() {
        assert_eq!(after_arg("after", None, 10).unwrap(), None);
        assert_eq!(after_arg("after", Some("0"), 10).unwrap(), Some(0));
        assert_eq!(after_arg("after", Some("10"), 10).unwrap(), Some(10));
        for bad in ["", "ten", "-1", "1.5", "11", "18446744073709551616"] {
            match after_arg("after", Some(bad), 10) {
                Err(ApiError::BadUserInput { field, .. }) => assert_eq!(field, "after"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn a_lagged_subscriber_is_told_where_to_resume() {
        let error = lagged(42);
        let extensions = error.extensions.expect("extensions");
        assert_eq!(extensions.get("code"), Some(&async_graphql::Value::from("LAGGED")));
        assert_eq!(extensions.get("resumeAfter"), Some(&async_graphql::Value::from("42")));
        assert!(error.message.contains("after: \"42\""), "{}", error.message);
    }
}
