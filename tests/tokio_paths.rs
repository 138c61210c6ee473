//! A small tokio-style service, ported by changing `tokio::` to `weft::`: every path below is
//! the one tokio uses (the I/O traits are futures-io's; see MIGRATING.md).

use weft::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use weft::net::{TcpListener, TcpStream};
use weft::sync::{broadcast, mpsc, oneshot, watch, Barrier, Mutex, Notify, RwLock, Semaphore};
use weft::task::{spawn_blocking, yield_now, JoinHandle, JoinSet};
use weft::time::{interval, sleep, timeout, Duration, Instant};

#[weft::test(start_paused = true)]
async fn a_tokio_shaped_service_runs_on_weft() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown_tx, mut shutdown_rx) = watch::channel(false);
    let hits = std::sync::Arc::new(Mutex::new(0u32));
    let hits2 = hits.clone();
    let server: JoinHandle<()> = weft::spawn(async move {
        let mut conns = JoinSet::new();
        loop {
            weft::select! {
                accepted = listener.accept() => {
                    let (mut s, _) = accepted.unwrap();
                    let hits = hits2.clone();
                    conns.spawn(async move {
                        let mut buf = [0u8; 4];
                        s.read_exact(&mut buf).await.unwrap();
                        *hits.lock().await += 1;
                        s.write_all(&buf).await.unwrap();
                    });
                }
                _ = shutdown_rx.changed() => break,
            }
        }
        while conns.join_next().await.is_some() {}
    });

    let (tx, mut rx) = mpsc::channel::<u32>(8);
    for i in 0..3 {
        let tx = tx.clone();
        weft::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"ping").await.unwrap();
            let mut reader = BufReader::new(s);
            let mut back = [0u8; 4];
            reader.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"ping");
            tx.send(i).await.unwrap();
        });
    }
    drop(tx);
    let mut done = Vec::new();
    while let Some(i) = rx.recv().await {
        done.push(i);
    }
    done.sort();
    assert_eq!(done, [0, 1, 2]);
    assert_eq!(*hits.lock().await, 3);

    // Time, on the paused clock.
    let start = Instant::now();
    let mut tick = interval(Duration::from_secs(1));
    for _ in 0..3 {
        tick.tick().await;
    }
    assert!(
        timeout(Duration::from_millis(10), sleep(Duration::from_secs(5)))
            .await
            .is_err()
    );
    assert!(start.elapsed() >= Duration::from_secs(2));

    // The rest of tokio::sync and tokio::task.
    let (otx, orx) = oneshot::channel();
    otx.send(spawn_blocking(|| 2 + 2).await.unwrap()).unwrap();
    assert_eq!(orx.await.unwrap(), 4);
    let (btx, mut brx) = broadcast::channel(4);
    btx.send("hi").unwrap();
    assert_eq!(brx.recv().await.unwrap(), "hi");
    let sem = Semaphore::new(1);
    let _permit = sem.acquire().await.unwrap();
    let lock = RwLock::new(1);
    assert_eq!(*lock.read().await, 1);
    let notify = Notify::new();
    notify.notify_one();
    notify.notified().await;
    Barrier::new(1).wait().await;
    yield_now().await;

    shutdown_tx.send(true).unwrap();
    server.await.unwrap();
}
