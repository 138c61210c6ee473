//! Several runtimes on several threads, and tasks sent between them.

use std::time::Duration;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::sync::mpsc;

/// Each of four threads runs its own runtime with timers, a TCP echo over 127.0.0.1, local
/// tasks and a channel to its neighbour, all at the same time: nothing one runtime does is
/// seen by another.
#[test]
fn runtimes_on_several_threads_run_side_by_side() {
    const N: usize = 4;
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..N).map(|_| mpsc::unbounded_channel::<usize>()).unzip();
    let threads: Vec<_> = rxs
        .into_iter()
        .enumerate()
        .map(|(i, mut rx)| {
            let next = txs[(i + 1) % N].clone();
            std::thread::spawn(move || {
                weft::run(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = weft::spawn(async move {
                        let (mut s, _) = listener.accept().await.unwrap();
                        let mut buf = [0u8; 4];
                        s.read_exact(&mut buf).await.unwrap();
                        s.write_all(&buf).await.unwrap();
                    });
                    let mut c = TcpStream::connect(addr).await.unwrap();
                    c.write_all(&(i as u32).to_le_bytes()).await.unwrap();
                    let mut buf = [0u8; 4];
                    c.read_exact(&mut buf).await.unwrap();
                    server.await.unwrap();
                    assert_eq!(u32::from_le_bytes(buf), i as u32);
                    weft::sleep(Duration::from_millis(5)).await;
                    next.send(i).unwrap();
                    let from = rx.recv().await.unwrap();
                    assert_eq!(from, (i + N - 1) % N);
                    (weft::runtime::Handle::current().id(), i)
                })
            })
        })
        .collect();
    drop(txs);
    let mut ids: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap().0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), N, "every runtime has its own id");
}

/// tokio's `Handle::spawn` from another runtime's thread: the task runs on the handle's
/// runtime, and the handle is awaited on the caller's.
#[test]
fn handle_spawn_from_another_runtime_runs_on_the_handles_thread() {
    let rt = weft::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let home = std::thread::current().id();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();
    let other = std::thread::spawn(move || {
        weft::run(async move {
            let ran_on = handle.spawn(async { std::thread::current().id() }).await;
            // A remote task cancelled by its handle is cancelled for the caller too.
            let stuck = handle.spawn(std::future::pending::<()>());
            stuck.abort();
            let aborted = stuck.await.unwrap_err().is_cancelled();
            let panicked = handle.spawn(async { panic!("over there") }).await;
            done_tx.send(()).unwrap();
            (ran_on.unwrap(), aborted, panicked.unwrap_err().is_panic())
        })
    });
    rt.block_on(async move { done_rx.recv().await });
    let (ran_on, aborted, panicked) = other.join().unwrap();
    assert_eq!(ran_on, home);
    assert!(aborted);
    assert!(panicked);
}

/// From a thread with no runtime, `Handle::spawner` gives a handle awaited anywhere.
#[test]
fn spawner_from_a_plain_thread() {
    let rt = weft::Runtime::new().unwrap();
    let spawner = rt.handle().spawner();
    let h =
        std::thread::spawn(move || spawner.spawn(async { weft::runtime::Handle::current().id() }))
            .join()
            .unwrap();
    assert_eq!(rt.block_on(h).unwrap(), rt.handle().id());
}

#[test]
#[should_panic(expected = "runs no weft runtime")]
fn handle_spawn_from_a_plain_thread_says_what_to_use() {
    let rt = weft::Runtime::new().unwrap();
    let handle = rt.handle().clone();
    let r = std::thread::spawn(move || drop(handle.spawn(async {}))).join();
    std::panic::resume_unwind(r.unwrap_err());
}
