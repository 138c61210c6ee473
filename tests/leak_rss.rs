//! 1,000,000 tasks and 1,000,000 timers created and finished: the process's RSS comes back
//! near where it started. Tasks and timers run 1,000 at a time, so the live set is small: a
//! leak of 8 bytes per task or timer would leave 8 MB behind, twice the bound.
//!
//! One test per binary (RSS is per process, and other tests would move it).
//! Release: `cargo test --release --test leak_rss -- --nocapture` prints the figures.

use std::time::Duration;

/// The resident set of this process in KiB (Linux; 0 elsewhere, which makes the check moot).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|v| v.parse().unwrap_or(0)))
        })
        .unwrap_or(0)
}

const TOTAL: usize = 1_000_000;
const BATCH: usize = 1_000;
/// The most RSS may grow over the baseline, in KiB.
const BOUND_KIB: u64 = 4 * 1024;

async fn tasks(n: usize) {
    for _ in 0..n / BATCH {
        let handles: Vec<_> = (0..BATCH as u64)
            .map(|i| weft::spawn(async move { i * 2 }))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    }
}

async fn timers(n: usize) {
    for _ in 0..n / BATCH {
        let handles: Vec<_> = (0..BATCH as u64)
            .map(|i| weft::spawn(weft::time::sleep(Duration::from_millis(1 + i % 7))))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    }
}

#[test]
fn a_million_tasks_and_timers_leave_rss_near_its_baseline() {
    let rt = weft::Builder::new().start_paused(true).build().unwrap();
    rt.block_on(async {
        // Warm-up: the allocator's arenas, the run queue, the wheel and the block cache
        // reach their working size.
        tasks(10 * BATCH).await;
        timers(10 * BATCH).await;
        let base = rss_kib();
        tasks(TOTAL).await;
        let after_tasks = rss_kib();
        timers(TOTAL).await;
        let after_timers = rss_kib();
        eprintln!(
            "leak_rss: baseline {base} KiB; after {TOTAL} tasks {after_tasks} KiB ({:+} KiB); \
             after {TOTAL} timers {after_timers} KiB ({:+} KiB)",
            after_tasks as i64 - base as i64,
            after_timers as i64 - base as i64
        );
        assert!(
            after_tasks <= base + BOUND_KIB,
            "tasks left {after_tasks} KiB vs {base}"
        );
        assert!(
            after_timers <= base + BOUND_KIB,
            "timers left {after_timers} KiB vs {base}"
        );
    });
}
