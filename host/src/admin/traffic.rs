//! The last hour of SCIM traffic, per minute: request count and summed latency, for the
//! status page's chart. Prometheus keeps the long history; this ring only has to answer
//! "what happened lately" from inside the process, without a metrics server.
//!
//! Recording is two atomic adds on the request path (no lock). A bucket is reused for a new
//! minute by whoever records first in it; a request recorded by another thread in the same
//! instant may land in the old minute's count: a chart can afford that, a lock on every
//! request could not.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

/// Minutes kept.
pub const MINUTES: usize = 60;

struct Bucket {
    /// Minutes since the ring started, plus one (0: never used).
    minute: AtomicU64,
    requests: AtomicU64,
    latency_micros: AtomicU64,
    errors: AtomicU64,
}

/// Per-minute request counts and latency sums over the last hour.
pub struct Traffic {
    started: Instant,
    started_wall: SystemTime,
    buckets: [Bucket; MINUTES],
}

/// One minute of traffic.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Minute {
    /// Start of the minute (Unix seconds).
    pub start_unix: u64,
    pub requests: u64,
    /// Answers with a 5xx status.
    pub errors: u64,
    /// Mean latency in milliseconds (0 without requests).
    pub mean_ms: f64,
}

impl Default for Traffic {
    fn default() -> Self {
        Self::new()
    }
}

impl Traffic {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            started_wall: SystemTime::now(),
            buckets: std::array::from_fn(|_| Bucket {
                minute: AtomicU64::new(0),
                requests: AtomicU64::new(0),
                latency_micros: AtomicU64::new(0),
                errors: AtomicU64::new(0),
            }),
        }
    }

    fn minute_at(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.started).as_secs() / 60 + 1
    }

    /// Counts one answered request.
    pub fn record(&self, latency: Duration, status: u16) {
        self.record_at(Instant::now(), latency, status);
    }

    fn record_at(&self, at: Instant, latency: Duration, status: u16) {
        let minute = self.minute_at(at);
        let b = &self.buckets[(minute as usize) % MINUTES];
        let seen = b.minute.load(Ordering::Acquire);
        if seen != minute
            && b.minute
                .compare_exchange(seen, minute, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            b.requests.store(0, Ordering::Relaxed);
            b.latency_micros.store(0, Ordering::Relaxed);
            b.errors.store(0, Ordering::Relaxed);
        }
        b.requests.fetch_add(1, Ordering::Relaxed);
        b.latency_micros.fetch_add(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        if status >= 500 {
            b.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The last [`MINUTES`] minutes, oldest first, the current (partial) minute last.
    pub fn last_hour(&self) -> Vec<Minute> {
        self.last_hour_at(Instant::now())
    }

    fn last_hour_at(&self, now: Instant) -> Vec<Minute> {
        let current = self.minute_at(now);
        let start_unix = self
            .started_wall
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        (0..MINUTES as u64)
            .rev()
            .map(|ago| {
                let minute = current.saturating_sub(ago);
                let mut m = Minute {
                    start_unix: start_unix + minute.saturating_sub(1) * 60,
                    ..Minute::default()
                };
                let b = &self.buckets[(minute as usize) % MINUTES];
                if minute > 0 && b.minute.load(Ordering::Acquire) == minute {
                    m.requests = b.requests.load(Ordering::Relaxed);
                    m.errors = b.errors.load(Ordering::Relaxed);
                    if m.requests > 0 {
                        m.mean_ms = b.latency_micros.load(Ordering::Relaxed) as f64
                            / m.requests as f64
                            / 1000.0;
                    }
                }
                m
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_are_counted_apart_and_an_hour_later_the_bucket_starts_over() {
        let t = Traffic::new();
        let t0 = t.started;
        t.record_at(t0, Duration::from_millis(10), 200);
        t.record_at(t0 + Duration::from_secs(5), Duration::from_millis(30), 503);
        t.record_at(t0 + Duration::from_secs(61), Duration::from_millis(4), 201);
        let hour = t.last_hour_at(t0 + Duration::from_secs(90));
        assert_eq!(hour.len(), MINUTES);
        let (first, last) = (hour[MINUTES - 2], hour[MINUTES - 1]);
        assert_eq!((first.requests, first.errors), (2, 1));
        assert!((first.mean_ms - 20.0).abs() < 1e-9, "{first:?}");
        assert_eq!((last.requests, last.errors), (1, 0));
        assert_eq!(last.start_unix - first.start_unix, 60);
        assert!(hour[..MINUTES - 2].iter().all(|m| m.requests == 0));

        // Sixty minutes on, the first minute's bucket is reused: the old count is gone.
        let later = t0 + Duration::from_secs(60 * 60 + 1);
        t.record_at(later, Duration::from_millis(1), 200);
        let hour = t.last_hour_at(later);
        assert_eq!(hour[MINUTES - 1].requests, 1);
        assert_eq!(hour.iter().map(|m| m.requests).sum::<u64>(), 2);
    }
}
