//! A tokio-style program compiled against weft renamed as `tokio`: the entry macros with each
//! of their options, `select!`, `join!`, `try_join!`, `pin!`, and `tokio::runtime`.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

mod program {
    // What a user's `src/main.rs` looks like; `main` is a plain fn once expanded.
    #[tokio::main]
    pub async fn main() -> Result<u32, Box<dyn std::error::Error>> {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let producer = tokio::spawn(async move {
            for i in 1..=3 {
                tx.send(i).await.unwrap();
            }
        });
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        producer.await?;
        Ok(sum)
    }

    #[tokio::main(flavor = "current_thread", start_paused = true)]
    pub async fn paused_main() -> Duration {
        let start = tokio::time::Instant::now();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        start.elapsed()
    }

    use std::time::Duration;
}

#[test]
fn main_runs_on_weft() {
    assert_eq!(program::main().unwrap(), 6);
}

#[test]
fn main_takes_flavor_and_start_paused() {
    assert!(program::paused_main() >= Duration::from_secs(3600));
}

#[tokio::test]
async fn test_attribute() {
    assert_eq!(weft_swap_test::double_later(21).await, 42);
}

#[tokio::test(flavor = "current_thread")]
async fn current_thread_flavor() {
    let rc = std::rc::Rc::new(1); // weft tasks may hold !Send values
    assert_eq!(
        tokio::task::spawn_local(async move { *rc }).await.unwrap(),
        1
    );
}

#[tokio::test(flavor = "local")]
async fn local_flavor() {
    let local = tokio::task::LocalSet::new();
    let h = local.spawn_local(async { 5 });
    assert_eq!(local.run_until(h).await.unwrap(), 5);
}

#[tokio::test(start_paused = true)]
async fn start_paused() {
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(60));
}

#[tokio::test(crate = "tokio")]
async fn crate_option() {
    tokio::task::yield_now().await;
}

#[tokio::test]
async fn select_join_try_join_pin() {
    let (tx, rx) = oneshot::channel();
    tx.send("ready").unwrap();
    let sleep = tokio::time::sleep(Duration::from_secs(10));
    tokio::pin!(sleep);
    let got = tokio::select! {
        biased;
        v = rx => v.unwrap(),
        _ = &mut sleep => "timeout",
    };
    assert_eq!(got, "ready");

    let (a, b) = tokio::join!(async { 1 }, async { "b" });
    assert_eq!((a, b), (1, "b"));
    let (c,) = tokio::join!(biased; async { 'c' });
    assert_eq!(c, 'c');

    let ok: Result<(u8, u8), &str> = tokio::try_join!(async { Ok(1) }, async { Ok(2) });
    assert_eq!(ok, Ok((1, 2)));
    let err: Result<(u8, u8), &str> =
        tokio::try_join!(biased; async { Err("no") }, async { Ok(2) });
    assert_eq!(err, Err("no"));
}

#[test]
fn runtime_module() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let task = rt.handle().spawn(async { 7 });
    let v = rt.block_on(async {
        let handle = tokio::runtime::Handle::current();
        let inner = handle.spawn(async { 3 }).await.unwrap();
        inner + task.await.unwrap()
    });
    assert_eq!(v, 10);
    let _guard = rt.enter();
    assert!(tokio::runtime::Handle::try_current().is_ok());
}

#[tokio::test]
async fn sync_paths() {
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    let permits = tx.reserve_many(2).await.unwrap();
    for (i, p) in permits.enumerate() {
        p.send(i as u32);
    }
    assert_eq!(rx.recv().await, Some(0));
    let sem = tokio::sync::Semaphore::new(1);
    let _p = sem.acquire().await.unwrap();
    let lock = tokio::sync::RwLock::with_max_readers(0, 4);
    assert_eq!(*lock.read().await, 0);
}
