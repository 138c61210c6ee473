//! Runtime metrics through the facade: the driver's counters reach `Runtime::metrics`.

use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn timers_and_io_events_are_counted() {
    let rt = weft::Builder::new()
        .metrics(true)
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            weft::sleep(Duration::from_secs(1)).await;
        }
        let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = weft::spawn(async move {
            let mut s = weft::net::TcpStream::connect(addr).await.unwrap();
            s.write_all(b"ping").await.unwrap();
        });
        let (mut server, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 4];
        server.read_exact(&mut buf).await.unwrap();
        client.await.unwrap();
    });
    let m = rt.metrics();
    assert_eq!(m.timers_fired, 3);
    assert!(m.io_events >= 1, "{m:?}");
    assert!(m.parks >= 3);
}

#[test]
fn cpu_heavy_tasks_do_not_hold_the_driver_back_for_a_whole_batch() {
    // Tasks that always spend their whole budget, each slice taking at least 1.2 ms of wall
    // time: the driver must be polled after every such slice (at least every millisecond of
    // such work), not only every `event_interval` (61) polls. Wall time only makes slices
    // longer, so the count below is a lower bound whatever the machine's load.
    const HOGS: usize = 4;
    const SLICES: usize = 10;
    let rt = weft::Builder::new()
        .budget(4)
        .metrics(true)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut hogs = Vec::new();
        for _ in 0..HOGS {
            hogs.push(weft::spawn(async move {
                let (tx, mut rx) = weft::sync::mpsc::unbounded_channel::<()>();
                for _ in 0..SLICES * 4 {
                    tx.send(()).unwrap();
                    rx.recv().await; // always ready: only the budget makes it yield
                    let t = std::time::Instant::now();
                    while t.elapsed() < Duration::from_micros(300) {
                        std::hint::spin_loop();
                    }
                }
            }));
        }
        for h in hogs {
            h.await.unwrap();
        }
    });
    let m = rt.metrics();
    // Every slice but the last of each task ends with a spent budget, then a driver poll.
    assert!(
        m.parks >= (HOGS * (SLICES - 1)) as u64,
        "{} parks for {} slices",
        m.parks,
        HOGS * SLICES
    );
}

#[weft::test(start_paused = true)]
async fn rate_limiter_follows_the_paused_clock() {
    // 10 tokens per second, burst 1: 50 acquisitions take 4.9 s of (paused) time.
    let limiter = weft::sync::RateLimiter::new(10.0, 1);
    let start = weft::time::Instant::now();
    for _ in 0..50 {
        limiter.acquire().await;
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(4890) && took <= Duration::from_millis(4910),
        "{took:?}"
    );
}
