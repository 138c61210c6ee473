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

#[weft::test(start_paused = true)]
async fn to_thread_holds_the_paused_clock() {
    // While the blocking job runs, the idle runtime must not jump to the sleep's deadline.
    let start = weft::time::Instant::now();
    let sleeper = weft::spawn(weft::sleep(std::time::Duration::from_secs(3600)));
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let job = weft::to_thread(move || {
        rx.recv().unwrap(); // released below, from another thread, after a real pause
    });
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send(()).unwrap();
    });
    job.await.unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(3600));
    sleeper.cancel();
}
