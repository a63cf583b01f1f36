//! The process-wide Prometheus recorder behind `/metrics`, and its upkeep.
//!
//! The recorder keeps every histogram sample (a request's latency, a connector call's time)
//! until upkeep folds them into their summaries; `install_recorder` leaves upkeep to the
//! caller, and a scrape of `/metrics` is the only other thing that does it. A host nobody
//! scrapes (many are) grew by every request it answered: ~30 bytes each, 2 MiB a minute in
//! the soak test. A thread runs upkeep every few seconds instead.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// How often upkeep runs: samples held at most this long.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Upkeep runs since start (for the test that it runs without a scrape).
static UPKEEPS: AtomicU64 = AtomicU64::new(0);

/// The recorder's handle (installed once; later calls reuse it). `None` when another
/// recorder was installed first.
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new().install_recorder().ok()?;
            start_upkeep(handle.clone(), UPKEEP_EVERY);
            Some(handle)
        })
        .clone()
}

fn start_upkeep(handle: PrometheusHandle, every: Duration) {
    let started = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(every);
                handle.run_upkeep();
                UPKEEPS.fetch_add(1, Ordering::Relaxed);
            }
        });
    if let Err(e) = started {
        tracing::warn!(
            "cannot start the metrics upkeep thread ({e}): histogram samples are kept until /metrics is scraped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upkeep_runs_without_a_scrape() {
        let handle = metrics_handle().expect("the recorder installs");
        metrics::histogram!("ecma_test_upkeep_seconds").record(0.5);
        let before = UPKEEPS.load(Ordering::Relaxed);
        let deadline = std::time::Instant::now() + UPKEEP_EVERY * 3;
        while UPKEEPS.load(Ordering::Relaxed) == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no upkeep within {:?}",
                UPKEEP_EVERY * 3
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Upkeep folded the sample into the summary: it is reported, not lost.
        assert!(
            handle.render().contains("ecma_test_upkeep_seconds_count 1"),
            "{}",
            handle.render()
        );
    }
}
