//! The attacks Heard withstands, each reproduced as it was first done against `heard serve`
//! (issue #13): as a curious member of the public, a nosy account and a hostile web page would.
//! Each module is one kind of attack; each test's name says what Heard does about it.
mod access_log;
mod accounts;
mod flood;
mod input;
mod limits;
mod login;
pub(crate) mod messages;
mod not_found;
mod public_page;
mod reports;
mod search;
mod sessions;
