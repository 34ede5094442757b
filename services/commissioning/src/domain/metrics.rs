//! The loop metrics of "you said, we did" reports.

use heard_workdays::Calendar;
use jiff::civil::Date;

/// The share (0 to 1) of shared items whose loop closed: linked to a decision or answered
/// "not acted on, because …". `None` when nothing was shared.
pub fn loop_closure_rate(closed: u64, shared: u64) -> Option<f64> {
    if shared == 0 {
        return None;
    }
    Some(closed.min(shared) as f64 / shared as f64)
}

/// The median number of working days from sharing an item to its first response, over
/// `(shared, responded)` pairs. Pairs the calendar cannot count (outside the years whose bank
/// holidays it knows) are left out. `None` when no pair is left; for an even count, the mean
/// of the two middle values.
pub fn median_working_days(calendar: &Calendar, pairs: &[(Date, Date)]) -> Option<f64> {
    let mut days: Vec<i64> = pairs
        .iter()
        .filter_map(|(shared, responded)| calendar.working_days_between(*shared, *responded).ok())
        .collect();
    if days.is_empty() {
        return None;
    }
    days.sort_unstable();
    let middle = days.len() / 2;
    Some(if days.len() % 2 == 1 { days[middle] as f64 } else { (days[middle - 1] as f64 + days[middle] as f64) / 2.0 })
}
