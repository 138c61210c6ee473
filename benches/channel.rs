//! Channel benches: weft's channels beside tokio::sync, flume, kanal, async-channel and
//! futures::channel, every one on weft's executor, and each peer also on its native executor
//! (tokio's current_thread runtime for tokio::sync, async-executor's `LocalExecutor` for
//! flume, kanal and async-channel, futures' `LocalPool` for futures::channel).
//!
//! Every measurement is taken inside a spawned main task, with the runtime built outside the
//! timed region (`iter_custom` sums the in-task times).
//!
//! ```text
//! cargo bench --bench channel -- --warm-up-time 1 --measurement-time 2
//! ```
//!
//! * `ping_pong`: two tasks, 10,000 round trips over two capacity-1 channels.
//! * `mpsc_throughput`: one producer task, one consumer task, capacity 1,024, 1,000,000 u64.
//! * `oneshot`: create a oneshot, send from a spawned task, await it; 10,000 times.
//!   (kanal 0.1 and async-channel have no oneshot: a bounded(1) channel stands in.)
//! * `broadcast`: one sender, 16 receiver tasks, 1,000 values each. Only weft and tokio have
//!   a broadcast channel; for the others the sender feeds 16 bounded channels.

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const PING_PONGS: usize = 10_000;
const THROUGHPUT: u64 = 1_000_000;
const CAPACITY: usize = 1_024;
const ONESHOTS: usize = 10_000;
const FANOUT: usize = 16;
const BROADCASTS: u64 = 1_000;

/// The channel operations each library provides, as free functions over `u64` messages.
mod libs {
    pub mod weft_ch {
        use weft_channel::{broadcast, mpsc, oneshot};
        pub type Tx = mpsc::Sender<u64>;
        pub type Rx = mpsc::Receiver<u64>;
        pub fn bounded(cap: usize) -> (Tx, Rx) {
            mpsc::channel(cap)
        }
        pub async fn send(tx: &mut Tx, v: u64) {
            tx.send(v).await.unwrap()
        }
        pub async fn recv(rx: &mut Rx) -> Option<u64> {
            rx.recv().await
        }
        pub type OTx = oneshot::Sender<u64>;
        pub type ORx = oneshot::Receiver<u64>;
        pub fn oneshot() -> (OTx, ORx) {
            oneshot::channel()
        }
        pub fn osend(tx: OTx, v: u64) {
            tx.send(v).unwrap()
        }
        pub async fn orecv(rx: ORx) -> u64 {
            rx.await.unwrap()
        }
        pub type BTx = broadcast::Sender<u64>;
        pub type BRx = broadcast::Receiver<u64>;
        pub fn fanout(n: usize, cap: usize) -> (BTx, Vec<BRx>) {
            let (tx, rx) = broadcast::channel(cap);
            let rxs = (0..n).map(|_| rx.resubscribe()).collect();
            (tx, rxs)
        }
        pub async fn bsend(tx: &mut BTx, v: u64) {
            tx.send(v).unwrap();
        }
        pub async fn brecv(rx: &mut BRx) -> Option<u64> {
            rx.recv().await.ok()
        }
    }

    pub mod tokio_ch {
        use tokio::sync::{broadcast, mpsc, oneshot};
        pub type Tx = mpsc::Sender<u64>;
        pub type Rx = mpsc::Receiver<u64>;
        pub fn bounded(cap: usize) -> (Tx, Rx) {
            mpsc::channel(cap)
        }
        pub async fn send(tx: &mut Tx, v: u64) {
            tx.send(v).await.unwrap()
        }
        pub async fn recv(rx: &mut Rx) -> Option<u64> {
            rx.recv().await
        }
        pub type OTx = oneshot::Sender<u64>;
        pub type ORx = oneshot::Receiver<u64>;
        pub fn oneshot() -> (OTx, ORx) {
            oneshot::channel()
        }
        pub fn osend(tx: OTx, v: u64) {
            tx.send(v).unwrap()
        }
        pub async fn orecv(rx: ORx) -> u64 {
            rx.await.unwrap()
        }
        pub type BTx = broadcast::Sender<u64>;
        pub type BRx = broadcast::Receiver<u64>;
        pub fn fanout(n: usize, cap: usize) -> (BTx, Vec<BRx>) {
            let (tx, rx) = broadcast::channel(cap);
            let rxs = (0..n).map(|_| rx.resubscribe()).collect();
            (tx, rxs)
        }
        pub async fn bsend(tx: &mut BTx, v: u64) {
            tx.send(v).unwrap();
        }
        pub async fn brecv(rx: &mut BRx) -> Option<u64> {
            rx.recv().await.ok()
        }
    }

    /// For libraries without a broadcast channel: one bounded channel per receiver.
    macro_rules! fanout_by_channels {
        () => {
            pub type BTx = Vec<Tx>;
            pub type BRx = Rx;
            pub fn fanout(n: usize, cap: usize) -> (BTx, Vec<BRx>) {
                (0..n).map(|_| bounded(cap)).unzip()
            }
            pub async fn bsend(txs: &mut BTx, v: u64) {
                for tx in txs.iter_mut() {
                    send(tx, v).await;
                }
            }
            pub async fn brecv(rx: &mut BRx) -> Option<u64> {
                recv(rx).await
            }
        };
    }

    pub mod flume_ch {
        pub type Tx = flume::Sender<u64>;
        pub type Rx = flume::Receiver<u64>;
        pub fn bounded(cap: usize) -> (Tx, Rx) {
            flume::bounded(cap)
        }
        pub async fn send(tx: &mut Tx, v: u64) {
            tx.send_async(v).await.unwrap()
        }
        pub async fn recv(rx: &mut Rx) -> Option<u64> {
            rx.recv_async().await.ok()
        }
        pub type OTx = Tx;
        pub type ORx = Rx;
        pub fn oneshot() -> (OTx, ORx) {
            flume::bounded(1)
        }
        pub fn osend(tx: OTx, v: u64) {
            tx.try_send(v).unwrap()
        }
        pub async fn orecv(rx: ORx) -> u64 {
            rx.recv_async().await.unwrap()
        }
        fanout_by_channels!();
    }

    pub mod kanal_ch {
        pub type Tx = kanal::AsyncSender<u64>;
        pub type Rx = kanal::AsyncReceiver<u64>;
        pub fn bounded(cap: usize) -> (Tx, Rx) {
            kanal::bounded_async(cap)
        }
        pub async fn send(tx: &mut Tx, v: u64) {
            tx.send(v).await.unwrap()
        }
        pub async fn recv(rx: &mut Rx) -> Option<u64> {
            rx.recv().await.ok()
        }
        pub type OTx = Tx;
        pub type ORx = Rx;
        pub fn oneshot() -> (OTx, ORx) {
            kanal::bounded_async(1)
        }
        pub fn osend(tx: OTx, v: u64) {
            assert!(tx.try_send(v).unwrap())
        }
        pub async fn orecv(rx: ORx) -> u64 {
            rx.recv().await.unwrap()
        }
        fanout_by_channels!();
    }

    pub mod async_channel_ch {
        pub type Tx = async_channel::Sender<u64>;
        pub type Rx = async_channel::Receiver<u64>;
        pub fn bounded(cap: usize) -> (Tx, Rx) {
            async_channel::bounded(cap)
        }
        pub async fn send(tx: &mut Tx, v: u64) {
            tx.send(v).await.unwrap()
        }
        pub async fn recv(rx: &mut Rx) -> Option<u64> {
            rx.recv().await.ok()
        }
        pub type OTx = Tx;
        pub type ORx = Rx;
        pub fn oneshot() -> (OTx, ORx) {
            async_channel::bounded(1)
        }
        pub fn osend(tx: OTx, v: u64) {
            tx.try_send(v).unwrap()
        }
        pub async fn orecv(rx: ORx) -> u64 {
            rx.recv().await.unwrap()
        }
        fanout_by_channels!();
    }

    pub mod futures_ch {
        use futures::channel::{mpsc, oneshot};
        use futures::{SinkExt, StreamExt};
        pub type Tx = mpsc::Sender<u64>;
        pub type Rx = mpsc::Receiver<u64>;
        /// futures' capacity is `buffer + number of senders`: `cap - 1` gives `cap` here.
        pub fn bounded(cap: usize) -> (Tx, Rx) {
            mpsc::channel(cap - 1)
        }
        pub async fn send(tx: &mut Tx, v: u64) {
            tx.send(v).await.unwrap()
        }
        pub async fn recv(rx: &mut Rx) -> Option<u64> {
            rx.next().await
        }
        pub type OTx = oneshot::Sender<u64>;
        pub type ORx = oneshot::Receiver<u64>;
        pub fn oneshot() -> (OTx, ORx) {
            oneshot::channel()
        }
        pub fn osend(tx: OTx, v: u64) {
            tx.send(v).unwrap()
        }
        pub async fn orecv(rx: ORx) -> u64 {
            rx.await.unwrap()
        }
        fanout_by_channels!();
    }
}

/// A workload: builds the future to time (inside a task) and returns its duration.
type Workload = fn() -> std::pin::Pin<Box<dyn Future<Output = Duration>>>;
type SendWorkload = fn() -> std::pin::Pin<Box<dyn Future<Output = Duration> + Send>>;

/// The four workloads, written once against the `libs` functions (`bounded`, `send`, ...)
/// and the executor's `spawn` / `join`, which the expanding module brings into scope.
macro_rules! workloads {
    () => {
        pub async fn ping_pong() -> Duration {
            let start = Instant::now();
            let (mut to_b, mut from_a) = bounded(1);
            let (mut to_a, mut from_b) = bounded(1);
            let b = spawn(async move {
                while let Some(v) = recv(&mut from_a).await {
                    send(&mut to_a, v + 1).await;
                }
            });
            let a = spawn(async move {
                let mut v = 0;
                for _ in 0..PING_PONGS {
                    send(&mut to_b, v).await;
                    v = recv(&mut from_b).await.unwrap();
                }
                drop(to_b);
                v
            });
            assert_eq!(join(a).await, PING_PONGS as u64);
            join(b).await;
            start.elapsed()
        }

        pub async fn mpsc_throughput() -> Duration {
            let start = Instant::now();
            let (mut tx, mut rx) = bounded(CAPACITY);
            let producer = spawn(async move {
                for i in 0..THROUGHPUT {
                    send(&mut tx, i).await;
                }
            });
            let consumer = spawn(async move {
                let mut sum = 0u64;
                while let Some(v) = recv(&mut rx).await {
                    sum = sum.wrapping_add(v);
                }
                sum
            });
            join(producer).await;
            black_box(join(consumer).await);
            start.elapsed()
        }

        pub async fn oneshot_many() -> Duration {
            let start = Instant::now();
            for i in 0..ONESHOTS as u64 {
                let (tx, rx) = oneshot();
                let h = spawn(async move { osend(tx, i) });
                assert_eq!(orecv(rx).await, i);
                join(h).await;
            }
            start.elapsed()
        }

        pub async fn broadcast_fanout() -> Duration {
            let start = Instant::now();
            let (mut tx, rxs) = fanout(FANOUT, BROADCASTS as usize);
            let receivers: Vec<_> = rxs
                .into_iter()
                .map(|mut rx| {
                    spawn(async move {
                        let mut n = 0u64;
                        while let Some(v) = brecv(&mut rx).await {
                            n += 1;
                            black_box(v);
                        }
                        n
                    })
                })
                .collect();
            for i in 0..BROADCASTS {
                bsend(&mut tx, i).await;
            }
            drop(tx);
            for r in receivers {
                assert_eq!(join(r).await, BROADCASTS);
            }
            start.elapsed()
        }
    };
}

/// Executors: `spawn`, `join` and a `runner` that times a workload inside a spawned task.
mod exec {
    use super::*;

    pub mod weft_rt {
        use super::*;
        pub fn spawn<F: Future + 'static>(f: F) -> weft::JoinHandle<F::Output> {
            weft::spawn(f)
        }
        pub async fn join<T>(h: weft::JoinHandle<T>) -> T {
            h.await.unwrap()
        }
        pub fn runner() -> impl FnMut(Workload) -> Duration {
            let rt = weft::Runtime::new().expect("weft runtime");
            move |w| {
                let main = rt.spawn(w());
                rt.block_on(main).unwrap()
            }
        }
    }

    pub mod tokio_rt {
        use super::*;
        pub fn spawn<F: Future + Send + 'static>(f: F) -> tokio::task::JoinHandle<F::Output>
        where
            F::Output: Send,
        {
            tokio::spawn(f)
        }
        pub async fn join<T>(h: tokio::task::JoinHandle<T>) -> T {
            h.await.unwrap()
        }
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

    pub mod smol_rt {
        use super::*;
        use async_executor::{LocalExecutor, Task};
        thread_local! {
            static EX: &'static LocalExecutor<'static> = Box::leak(Box::new(LocalExecutor::new()));
        }
        pub fn spawn<F: Future + 'static>(f: F) -> Task<F::Output> {
            EX.with(|ex| ex.spawn(f))
        }
        pub async fn join<T>(h: Task<T>) -> T {
            h.await
        }
        pub fn runner() -> impl FnMut(Workload) -> Duration {
            move |w| {
                let ex = EX.with(|ex| *ex);
                futures_lite::future::block_on(ex.run(ex.spawn(w())))
            }
        }
    }

    pub mod local_pool {
        use super::*;
        use futures::executor::{LocalPool, LocalSpawner};
        use futures::future::RemoteHandle;
        use futures::task::LocalSpawnExt;
        use std::cell::RefCell;
        thread_local! {
            static POOL: RefCell<LocalPool> = RefCell::new(LocalPool::new());
            static SPAWNER: LocalSpawner = POOL.with(|p| p.borrow().spawner());
        }
        pub fn spawn<F: Future + 'static>(f: F) -> RemoteHandle<F::Output>
        where
            F::Output: 'static,
        {
            SPAWNER.with(|s| s.spawn_local_with_handle(f).unwrap())
        }
        pub async fn join<T: 'static>(h: RemoteHandle<T>) -> T {
            h.await
        }
        pub fn runner() -> impl FnMut(Workload) -> Duration {
            move |w| {
                let h = spawn(w());
                POOL.with(|p| p.borrow_mut().run_until(h))
            }
        }
    }
}

/// One module per (channel library, executor) pair.
macro_rules! pair {
    ($name:ident, $lib:ident, $exec:ident) => {
        mod $name {
            use super::*;
            pub use crate::exec::$exec::runner;
            use crate::exec::$exec::{join, spawn};
            use crate::libs::$lib::*;
            workloads!();
        }
    };
}

pair!(weft_on_weft, weft_ch, weft_rt);
pair!(tokio_on_weft, tokio_ch, weft_rt);
pair!(flume_on_weft, flume_ch, weft_rt);
pair!(kanal_on_weft, kanal_ch, weft_rt);
pair!(async_channel_on_weft, async_channel_ch, weft_rt);
pair!(futures_on_weft, futures_ch, weft_rt);
pair!(tokio_on_tokio, tokio_ch, tokio_rt);
pair!(flume_on_smol, flume_ch, smol_rt);
pair!(kanal_on_smol, kanal_ch, smol_rt);
pair!(async_channel_on_smol, async_channel_ch, smol_rt);
pair!(futures_on_local_pool, futures_ch, local_pool);

/// One benchmark entry: `$m::$work` run by `$m::runner()`.
macro_rules! entry {
    ($g:expr, $label:literal, $m:ident, $work:ident) => {{
        let mut run = $m::runner();
        $g.bench_function(BenchmarkId::from_parameter($label), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run(|| Box::pin($m::$work()))).sum())
        });
    }};
}

macro_rules! group {
    ($c:expr, $name:literal, $work:ident, $elements:expr, $samples:expr) => {{
        let mut g = $c.benchmark_group($name);
        g.throughput(Throughput::Elements($elements as u64));
        g.sample_size($samples);
        entry!(g, "weft", weft_on_weft, $work);
        entry!(g, "tokio/weft-rt", tokio_on_weft, $work);
        entry!(g, "tokio/tokio-rt", tokio_on_tokio, $work);
        entry!(g, "flume/weft-rt", flume_on_weft, $work);
        entry!(g, "flume/smol-rt", flume_on_smol, $work);
        entry!(g, "kanal/weft-rt", kanal_on_weft, $work);
        entry!(g, "kanal/smol-rt", kanal_on_smol, $work);
        entry!(g, "async-channel/weft-rt", async_channel_on_weft, $work);
        entry!(g, "async-channel/smol-rt", async_channel_on_smol, $work);
        entry!(g, "futures/weft-rt", futures_on_weft, $work);
        entry!(g, "futures/local-pool", futures_on_local_pool, $work);
        g.finish();
    }};
}

fn benches(c: &mut Criterion) {
    group!(c, "channel/ping_pong", ping_pong, PING_PONGS, 20);
    group!(
        c,
        "channel/mpsc_throughput",
        mpsc_throughput,
        THROUGHPUT,
        10
    );
    group!(c, "channel/oneshot", oneshot_many, ONESHOTS, 20);
    group!(
        c,
        "channel/broadcast",
        broadcast_fanout,
        BROADCASTS * FANOUT as u64,
        20
    );
}

criterion_group!(channel, benches);
criterion_main!(channel);
