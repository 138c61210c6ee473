//! Executor benches: weft beside tokio's current_thread runtime, async-executor's
//! `LocalExecutor` and futures' `LocalPool`, on the same workloads in the same run.
//!
//! Workloads: `spawn_many`, `yield_many`, `ping_pong` (one message bounced over
//! `futures::channel::mpsc`, the same channel for every runtime: the executors' own cost),
//! `ping_pong_native` (the same over each runtime's own channel: weft's `sync::mpsc`, tokio's
//! `sync::mpsc`, async-channel for async-executor, futures' mpsc for LocalPool) and
//! `chained_spawn`. weft runs twice: as built by default and with metrics on.
//!
//! Every measurement is taken inside a spawned main task (runtimes poll the `block_on`
//! future on a special path), with the runtime built outside the timed region.
//!
//! ```text
//! cargo bench --bench executor -- --warm-up-time 1 --measurement-time 3
//! ```

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};

const SPAWN_MANY: usize = 10_000;
const YIELD_TASKS: usize = 200;
const YIELDS: usize = 1_000;
const PING_PONGS: usize = 10_000;
const CHAIN_DEPTH: usize = 1_000;

/// A workload: builds the future to time (inside a task) and returns its duration.
type Workload = fn() -> std::pin::Pin<Box<dyn Future<Output = Duration>>>;

/// The four workloads, written once against `spawn`, `spawn_detached`, `join` and
/// `yield_now`, which each runtime's module defines.
macro_rules! workloads {
    () => {
        pub async fn spawn_many() -> Duration {
            let start = Instant::now();
            let mut handles = Vec::with_capacity(SPAWN_MANY);
            for i in 0..SPAWN_MANY {
                handles.push(spawn(async move { black_box(i) }));
            }
            for h in handles {
                black_box(join(h).await);
            }
            start.elapsed()
        }

        pub async fn yield_many() -> Duration {
            let start = Instant::now();
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    spawn(async {
                        for _ in 0..YIELDS {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                join(h).await;
            }
            start.elapsed()
        }

        pub async fn ping_pong() -> Duration {
            let start = Instant::now();
            let (mut to_b, mut from_a) = mpsc::channel::<usize>(1);
            let (mut to_a, mut from_b) = mpsc::channel::<usize>(1);
            let b = spawn(async move {
                while let Some(v) = from_a.next().await {
                    to_a.send(v + 1).await.unwrap();
                }
            });
            let a = spawn(async move {
                let mut v = 0;
                for _ in 0..PING_PONGS {
                    to_b.send(v).await.unwrap();
                    v = from_b.next().await.unwrap();
                }
                drop(to_b);
                v
            });
            assert_eq!(join(a).await, PING_PONGS);
            join(b).await;
            start.elapsed()
        }

        /// The same bounce over each runtime's own channel (`nchan`, `nsend`, `nrecv`).
        pub async fn ping_pong_native() -> Duration {
            let start = Instant::now();
            let (mut to_b, mut from_a) = nchan();
            let (mut to_a, mut from_b) = nchan();
            let b = spawn(async move {
                while let Some(v) = nrecv(&mut from_a).await {
                    nsend(&mut to_a, v + 1).await;
                }
            });
            let a = spawn(async move {
                let mut v = 0;
                for _ in 0..PING_PONGS {
                    nsend(&mut to_b, v).await;
                    v = nrecv(&mut from_b).await.unwrap();
                }
                drop(to_b);
                v
            });
            assert_eq!(join(a).await, PING_PONGS);
            join(b).await;
            start.elapsed()
        }

        fn chain(depth: usize, done: oneshot::Sender<usize>) {
            if depth == 0 {
                let _ = done.send(CHAIN_DEPTH);
            } else {
                spawn_detached(async move { chain(depth - 1, done) });
            }
        }

        pub async fn chained_spawn() -> Duration {
            let start = Instant::now();
            let (tx, rx) = oneshot::channel();
            chain(CHAIN_DEPTH, tx);
            assert_eq!(rx.await.unwrap(), CHAIN_DEPTH);
            start.elapsed()
        }
    };
}

mod on_weft {
    use super::*;
    fn spawn<F: Future + 'static>(f: F) -> weft::JoinHandle<F::Output> {
        weft::spawn(f)
    }
    fn spawn_detached<F: Future + 'static>(f: F) {
        drop(weft::spawn(f));
    }
    async fn join<T>(h: weft::JoinHandle<T>) -> T {
        h.await.unwrap()
    }
    use weft::sync::mpsc as native;
    use weft::yield_now;
    fn nchan() -> (native::Sender<usize>, native::Receiver<usize>) {
        native::channel(1)
    }
    async fn nsend(tx: &mut native::Sender<usize>, v: usize) {
        tx.send(v).await.unwrap();
    }
    async fn nrecv(rx: &mut native::Receiver<usize>) -> Option<usize> {
        rx.recv().await
    }
    workloads!();

    pub fn runner(metrics: bool) -> impl FnMut(Workload) -> Duration {
        let rt = weft::Builder::new().metrics(metrics).build().unwrap();
        move |w| {
            let main = rt.spawn(w());
            rt.block_on(main).unwrap()
        }
    }
}

mod on_tokio {
    use super::*;
    fn spawn<F: Future + Send + 'static>(f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F::Output: Send,
    {
        tokio::spawn(f)
    }
    fn spawn_detached<F: Future + Send + 'static>(f: F)
    where
        F::Output: Send,
    {
        drop(tokio::spawn(f));
    }
    async fn join<T>(h: tokio::task::JoinHandle<T>) -> T {
        h.await.unwrap()
    }
    use tokio::sync::mpsc as native;
    use tokio::task::yield_now;
    fn nchan() -> (native::Sender<usize>, native::Receiver<usize>) {
        native::channel(1)
    }
    async fn nsend(tx: &mut native::Sender<usize>, v: usize) {
        tx.send(v).await.unwrap();
    }
    async fn nrecv(rx: &mut native::Receiver<usize>) -> Option<usize> {
        rx.recv().await
    }
    workloads!();

    type SendWorkload = fn() -> std::pin::Pin<Box<dyn Future<Output = Duration> + Send>>;
    pub fn runner() -> impl FnMut(SendWorkload) -> Duration {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        move |w| {
            let main = rt.spawn(w());
            rt.block_on(main).unwrap()
        }
    }
}

mod on_async_executor {
    use super::*;
    use async_executor::{LocalExecutor, Task};
    thread_local! {
        static EX: &'static LocalExecutor<'static> = Box::leak(Box::new(LocalExecutor::new()));
    }
    fn spawn<F: Future + 'static>(f: F) -> Task<F::Output> {
        EX.with(|ex| ex.spawn(f))
    }
    fn spawn_detached<F: Future + 'static>(f: F) {
        EX.with(|ex| ex.spawn(f).detach());
    }
    async fn join<T>(h: Task<T>) -> T {
        h.await
    }
    use futures_lite::future::yield_now;
    fn nchan() -> (async_channel::Sender<usize>, async_channel::Receiver<usize>) {
        async_channel::bounded(1)
    }
    async fn nsend(tx: &mut async_channel::Sender<usize>, v: usize) {
        tx.send(v).await.unwrap();
    }
    async fn nrecv(rx: &mut async_channel::Receiver<usize>) -> Option<usize> {
        rx.recv().await.ok()
    }
    workloads!();

    pub fn runner() -> impl FnMut(Workload) -> Duration {
        move |w| {
            let ex = EX.with(|ex| *ex);
            futures_lite::future::block_on(ex.run(ex.spawn(w())))
        }
    }
}

mod on_local_pool {
    use super::*;
    use futures::executor::{LocalPool, LocalSpawner};
    use futures::future::RemoteHandle;
    use futures::task::LocalSpawnExt;
    use std::cell::RefCell;
    thread_local! {
        static POOL: RefCell<LocalPool> = RefCell::new(LocalPool::new());
        static SPAWNER: LocalSpawner = POOL.with(|p| p.borrow().spawner());
    }
    fn spawn<F: Future + 'static>(f: F) -> RemoteHandle<F::Output>
    where
        F::Output: 'static,
    {
        SPAWNER.with(|s| s.spawn_local_with_handle(f).unwrap())
    }
    fn spawn_detached<F: Future<Output = ()> + 'static>(f: F) {
        SPAWNER.with(|s| s.spawn_local(f).unwrap());
    }
    async fn join<T: 'static>(h: RemoteHandle<T>) -> T {
        h.await
    }
    use futures_lite::future::yield_now;
    fn nchan() -> (mpsc::Sender<usize>, mpsc::Receiver<usize>) {
        mpsc::channel(1)
    }
    async fn nsend(tx: &mut mpsc::Sender<usize>, v: usize) {
        tx.send(v).await.unwrap();
    }
    async fn nrecv(rx: &mut mpsc::Receiver<usize>) -> Option<usize> {
        rx.next().await
    }
    workloads!();

    pub fn runner() -> impl FnMut(Workload) -> Duration {
        move |w| {
            let h = spawn(w());
            POOL.with(|p| p.borrow_mut().run_until(h))
        }
    }
}

/// One group per workload; one entry per runtime; `iter_custom` sums the in-task times.
macro_rules! group {
    ($c:expr, $name:literal, $work:ident, $elements:expr) => {{
        let mut g = $c.benchmark_group($name);
        g.throughput(Throughput::Elements($elements as u64));
        for (name, metrics) in [("weft", false), ("weft+metrics", true)] {
            let mut run = on_weft::runner(metrics);
            g.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter_custom(|iters| (0..iters).map(|_| run(|| Box::pin(on_weft::$work()))).sum())
            });
        }
        {
            let mut run = on_tokio::runner();
            g.bench_function(BenchmarkId::from_parameter("tokio"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| run(|| Box::pin(on_tokio::$work())))
                        .sum()
                })
            });
        }
        {
            let mut run = on_async_executor::runner();
            g.bench_function(BenchmarkId::from_parameter("async-executor"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| run(|| Box::pin(on_async_executor::$work())))
                        .sum()
                })
            });
        }
        {
            let mut run = on_local_pool::runner();
            g.bench_function(BenchmarkId::from_parameter("local-pool"), |b| {
                b.iter_custom(|iters| {
                    (0..iters)
                        .map(|_| run(|| Box::pin(on_local_pool::$work())))
                        .sum()
                })
            });
        }
        g.finish();
    }};
}

fn benches(c: &mut Criterion) {
    group!(c, "spawn_many", spawn_many, SPAWN_MANY);
    group!(c, "yield_many", yield_many, YIELD_TASKS * YIELDS);
    group!(c, "ping_pong", ping_pong, PING_PONGS);
    group!(c, "ping_pong_native", ping_pong_native, PING_PONGS);
    group!(c, "chained_spawn", chained_spawn, CHAIN_DEPTH);
}

criterion_group!(executor, benches);
criterion_main!(executor);
