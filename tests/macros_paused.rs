//! `#[weft::test(start_paused = true)]` (and `#[weft::main(start_paused = true)]`).
//!
//! Pending: `weft::Builder::start_paused` does not exist yet (the timer work adds it). Rename
//! this file to `macros_paused.rs` once it does.

use std::time::Duration;

#[weft::test(start_paused = true)]
async fn paused_clock_skips_sleeps() {
    let start = weft::time::Instant::now();
    let wall = std::time::Instant::now();
    weft::sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    assert!(
        wall.elapsed() < Duration::from_secs(5),
        "no real hour went by"
    );
}

#[weft::main(start_paused = true)]
async fn paused_main() -> Duration {
    let start = weft::time::Instant::now();
    weft::sleep(Duration::from_millis(1500)).await;
    start.elapsed()
}

#[test]
fn main_with_start_paused() {
    assert_eq!(paused_main(), Duration::from_millis(1500));
}
