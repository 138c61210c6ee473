//! Thread-per-core workers: start, spawn_on, shutdown, panics.

use std::sync::Arc;
use std::time::Duration;

use weft::workers::Failure;

#[test]
fn every_worker_runs_the_main_on_its_own_thread() {
    let out = weft::Builder::new()
        .workers(3)
        .run(|w| async move {
            let name = std::thread::current().name().map(String::from);
            (
                w.id(),
                w.count(),
                name,
                weft::runtime::Handle::current().id(),
            )
        })
        .unwrap();
    let mut runtimes: Vec<u64> = out.iter().map(|o| o.3).collect();
    runtimes.sort_unstable();
    runtimes.dedup();
    assert_eq!(runtimes.len(), 3);
    for (i, (id, count, name, _)) in out.into_iter().enumerate() {
        assert_eq!((id, count), (i, 3));
        assert_eq!(name.as_deref(), Some(format!("weft-worker-{i}").as_str()));
    }
}

#[test]
fn spawn_on_runs_on_the_named_worker() {
    let out = weft::Builder::new()
        .workers(3)
        .run(|w| async move {
            let mut seen = Vec::new();
            for target in 0..w.count() {
                let there = w.spawn_on(target, async {
                    let me = weft::workers::current().unwrap();
                    (me.id(), std::thread::current().name().map(String::from))
                });
                seen.push(there.await.unwrap());
            }
            seen
        })
        .unwrap();
    for seen in out {
        for (target, (ran_on, thread)) in seen.into_iter().enumerate() {
            assert_eq!(ran_on, target);
            assert_eq!(thread, Some(format!("weft-worker-{target}")));
        }
    }
}

#[test]
fn a_handle_stops_every_worker_and_join_returns_their_outputs() {
    let workers = weft::Builder::new()
        .workers(2)
        .start(|w| async move {
            w.stopping().await;
            weft::sleep(Duration::from_millis(1)).await; // some draining
            w.id() * 10
        })
        .unwrap();
    let handle = workers.handle().clone();
    std::thread::spawn(move || handle.shutdown());
    assert_eq!(workers.join().unwrap(), vec![0, 10]);
}

#[test]
fn mains_that_ignore_the_stop_are_dropped_at_the_shutdown_timeout() {
    let alive = Arc::new(());
    let held = alive.clone();
    let workers = weft::Builder::new()
        .workers(2)
        .shutdown_timeout(Duration::from_millis(20))
        .start(move |_| {
            let held = held.clone();
            async move {
                let _held = held;
                std::future::pending::<()>().await
            }
        })
        .unwrap();
    workers.handle().shutdown();
    let err = workers.join().unwrap_err();
    assert_eq!(err.failures.len(), 2);
    assert!(err
        .failures
        .iter()
        .all(|(_, why)| matches!(why, Failure::Cancelled)));
    // Every main (and the closure each thread held) is gone: the threads ended.
    assert_eq!(Arc::strong_count(&alive), 1);
}

#[test]
fn a_thread_that_never_returns_is_reported_not_waited_for() {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(wait);
    let workers = weft::Builder::new()
        .workers(2)
        .shutdown_timeout(Duration::from_millis(10))
        .start(move |w| {
            // Worker 1 blocks its thread outright: no timeout can cancel that.
            if w.id() == 1 {
                let _ = wait.lock().unwrap().recv();
            }
            async move { w.stopping().await }
        })
        .unwrap();
    // Worker 1's thread is stuck in `recv` until we release it; join must not wait for it.
    std::thread::sleep(Duration::from_millis(50));
    workers.handle().shutdown();
    let err = workers.join().unwrap_err();
    assert_eq!(err.failures.len(), 1);
    assert!(matches!(err.failures[0], (1, Failure::Hung)));
    release.send(()).unwrap();
}

#[test]
fn a_panicking_worker_is_reported_and_the_others_stop_cleanly() {
    let err = weft::Builder::new()
        .workers(3)
        .run(|w| async move {
            if w.id() == 1 {
                weft::yield_now().await;
                panic!("worker one fell over");
            }
            w.stopping().await; // the panic stops us
            w.id()
        })
        .unwrap_err();
    assert_eq!(err.failures.len(), 1);
    match &err.failures[0] {
        (1, Failure::Panicked(m)) => assert_eq!(m, "worker one fell over"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("worker 1 panicked"));
}

#[test]
fn metrics_and_dumps_cover_every_worker() {
    let out = weft::Builder::new()
        .workers(2)
        .metrics(true)
        .run(|w| async move {
            for _ in 0..=w.id() {
                weft::spawn(async {}).await.unwrap();
            }
            // Left running: a worker stays up (and its task with it) until every main is done.
            let _idle = weft::task::Builder::new()
                .name(format!("idle-{}", w.id()))
                .spawn(std::future::pending::<()>());
            weft::yield_now().await;
            // Both workers reach this point before either reads the others.
            barrier(&w).await;
            let m = w.metrics().await;
            let dump = w.dump().await;
            (m, dump)
        })
        .unwrap();
    let (m, dump) = &out[0];
    assert_eq!(m.workers.len(), 2);
    assert!(m.workers[0].tasks_spawned >= 2 && m.workers[1].tasks_spawned >= 3);
    assert_eq!(
        m.total.tasks_spawned,
        m.workers[0].tasks_spawned + m.workers[1].tasks_spawned
    );
    assert!(
        dump.contains("== worker 0") && dump.contains("== worker 1"),
        "{dump}"
    );
    assert!(dump.contains("idle-0") && dump.contains("idle-1"), "{dump}");
}

/// Waits until every worker has called it.
async fn barrier(w: &weft::workers::Worker) {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    static ARRIVED: AtomicUsize = AtomicUsize::new(0);
    ARRIVED.fetch_add(1, SeqCst);
    while ARRIVED.load(SeqCst) < w.count() {
        weft::sleep(Duration::from_millis(1)).await;
    }
}

#[weft::main(workers = 2)]
async fn two_worker_main() -> Result<(), String> {
    let me = weft::workers::current().unwrap();
    if me.count() != 2 {
        return Err(format!("{} workers", me.count()));
    }
    Ok(())
}

#[test]
fn main_attribute_runs_the_body_on_every_worker() {
    assert_eq!(two_worker_main(), Ok(()));
}

/// `start_paused` reaches every worker: each worker's clock stands still while real time
/// passes, and an hour's sleep ends at once (the paused clock jumps to it).
#[weft::main(workers = 2, start_paused = true)]
async fn paused_worker_main() -> Result<(), String> {
    let start = weft::time::Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    if start.elapsed() != Duration::ZERO {
        return Err(format!("the clock moved {:?}: not paused", start.elapsed()));
    }
    weft::sleep(Duration::from_secs(3600)).await;
    if start.elapsed() < Duration::from_secs(3600) {
        return Err(format!("only {:?} passed", start.elapsed()));
    }
    Ok(())
}

#[test]
fn main_attribute_with_workers_honours_start_paused() {
    assert_eq!(paused_worker_main(), Ok(()));
}

/// Each worker accepts on its own `SO_REUSEPORT` listener on one port; the kernel spreads
/// 200 connections between them (by a hash of each connection's addresses: with 200
/// source ports, a worker left without any would be a 2^-199 chance).
#[test]
fn every_worker_accepts_connections_on_a_shared_port() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering::SeqCst};
    use weft::io::{AsyncReadExt, AsyncWriteExt};

    const WORKERS: usize = 2;
    const CONNECTIONS: usize = 200;
    let port = Arc::new(AtomicU16::new(0));
    let bound = Arc::new(AtomicUsize::new(0));
    let (p, b) = (port.clone(), bound.clone());
    let workers = weft::Builder::new()
        .workers(WORKERS)
        .start(move |w| {
            let (port, bound) = (p.clone(), b.clone());
            async move {
                // Worker 0 picks the port; the others bind the same one.
                let listener = if w.id() == 0 {
                    let l = weft::net::TcpListener::bind_reuseport("127.0.0.1:0").await?;
                    port.store(l.local_addr()?.port(), SeqCst);
                    l
                } else {
                    while port.load(SeqCst) == 0 {
                        weft::sleep(Duration::from_millis(1)).await;
                    }
                    weft::net::TcpListener::bind_reuseport(("127.0.0.1", port.load(SeqCst))).await?
                };
                bound.fetch_add(1, SeqCst);
                let mut served = 0usize;
                loop {
                    let accepted = weft::select! {
                        a = listener.accept() => a,
                        () = w.stopping() => break,
                    };
                    let (mut s, _) = accepted?;
                    let mut byte = [0u8; 1];
                    s.read_exact(&mut byte).await?;
                    s.write_all(&[w.id() as u8]).await?;
                    served += 1;
                }
                Ok::<_, std::io::Error>(served)
            }
        })
        .unwrap();
    while bound.load(SeqCst) < WORKERS {
        std::thread::sleep(Duration::from_millis(1));
    }
    let addr = ("127.0.0.1", port.load(SeqCst));
    let mut by_client = [0usize; WORKERS];
    for _ in 0..CONNECTIONS {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(b"?").unwrap();
        let mut who = [0u8; 1];
        c.read_exact(&mut who).unwrap();
        by_client[usize::from(who[0])] += 1;
    }
    workers.handle().shutdown();
    let served: Vec<usize> = workers
        .join()
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_eq!(served.iter().sum::<usize>(), CONNECTIONS);
    assert_eq!(served, by_client.to_vec());
    assert!(served.iter().all(|&n| n >= 1), "{served:?}");
}
