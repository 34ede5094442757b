//! A latency histogram with fixed buckets, kept in atomics: cheap enough for every append and
//! every flush, and readable at any time without a lock (for `/metrics`).
//!
//! [`LatencyHistogram::observe`] adds one duration; [`LatencyHistogram::snapshot`] copies the
//! counts into a [`LatencySnapshot`], whose cumulative buckets are what Prometheus calls a
//! histogram. Counts only grow. A snapshot taken while observations land may see one in its
//! bucket and not yet in the sum; the counts themselves are always consistent with each other.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The upper bounds of the buckets, in microseconds: 100 µs to 10 s. Anything slower falls in
/// the last, unbounded bucket (`+Inf`).
pub const LATENCY_BUCKETS_MICROS: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000, 10_000_000,
];

const SLOTS: usize = LATENCY_BUCKETS_MICROS.len() + 1;

/// Durations counted into [`LATENCY_BUCKETS_MICROS`], lock-free.
#[derive(Debug)]
pub struct LatencyHistogram {
    /// Observations per bucket (not cumulative); the last slot is beyond the last bound.
    counts: [AtomicU64; SLOTS],
    sum_micros: AtomicU64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram (usable in a `static`).
    pub const fn new() -> Self {
        LatencyHistogram { counts: [const { AtomicU64::new(0) }; SLOTS], sum_micros: AtomicU64::new(0) }
    }

    /// Counts one duration.
    pub fn observe(&self, elapsed: Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        let slot = LATENCY_BUCKETS_MICROS.iter().position(|bound| micros <= *bound).unwrap_or(SLOTS - 1);
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// Counts the time since `started`.
    pub fn observe_since(&self, started: std::time::Instant) {
        self.observe(started.elapsed());
    }

    /// The counts now.
    pub fn snapshot(&self) -> LatencySnapshot {
        let mut counts = [0; SLOTS];
        for (count, atomic) in counts.iter_mut().zip(&self.counts) {
            *count = atomic.load(Ordering::Relaxed);
        }
        LatencySnapshot { counts, sum_micros: self.sum_micros.load(Ordering::Relaxed) }
    }
}

/// A copy of a [`LatencyHistogram`]'s counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencySnapshot {
    /// Observations per bucket of [`LATENCY_BUCKETS_MICROS`] (not cumulative), then those
    /// beyond the last bound.
    pub counts: [u64; SLOTS],
    /// The sum of every observation, in microseconds.
    pub sum_micros: u64,
}

impl LatencySnapshot {
    /// How many durations were observed.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The sum of every observation, in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_micros as f64 / 1e6
    }

    /// Each bucket's upper bound in seconds (`None` for `+Inf`) with the number of
    /// observations at or below it: Prometheus's cumulative `le` buckets.
    pub fn cumulative(&self) -> impl Iterator<Item = (Option<f64>, u64)> + '_ {
        let bounds = LATENCY_BUCKETS_MICROS.iter().map(|micros| Some(*micros as f64 / 1e6)).chain([None]);
        bounds.zip(self.counts.iter().scan(0, |total, count| {
            *total += count;
            Some(*total)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_land_in_the_first_bucket_that_holds_them_and_the_buckets_are_cumulative() {
        let histogram = LatencyHistogram::new();
        histogram.observe(Duration::from_micros(100));
        histogram.observe(Duration::from_micros(101));
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_secs(60));
        let snapshot = histogram.snapshot();
        assert_eq!(snapshot.count(), 4);
        assert_eq!(snapshot.sum_micros, 100 + 101 + 3_000 + 60_000_000);
        let buckets: Vec<(Option<f64>, u64)> = snapshot.cumulative().collect();
        assert_eq!(buckets.len(), LATENCY_BUCKETS_MICROS.len() + 1);
        assert_eq!(buckets[0], (Some(0.0001), 1), "100 µs is within the first bound");
        assert_eq!(buckets[1], (Some(0.00025), 2));
        assert_eq!(buckets[5], (Some(0.005), 3));
        assert_eq!(buckets[15], (Some(10.0), 3));
        assert_eq!(buckets[16], (None, 4), "a minute is counted in +Inf only");
        assert!(buckets.windows(2).all(|pair| pair[0].1 <= pair[1].1));
    }
}
