//! TCP echo throughput on 127.0.0.1: 50 connections, each doing round trips of a 64-byte or a
//! 16 KiB message, server and clients on the same runtime, for weft, tokio's current_thread
//! runtime and smol (async-io + LocalExecutor). Each runtime serves with the same code shape:
//! one task per connection reading into a buffer and writing back what it read.
//!
//! Connections are made once per runtime, outside the timed region; each iteration times,
//! inside a spawned task, `ROUND_TRIPS` round trips on each of the 50 connections.
//!
//! ```text
//! cargo bench --bench net -- --warm-up-time 1 --measurement-time 3
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const CONNS: usize = 50;
const ROUND_TRIPS: usize = 20;

type Job = Pin<Box<dyn Future<Output = Duration>>>;

mod on_weft {
    use super::*;
    use weft::io::{AsyncReadExt, AsyncWriteExt};
    use weft::net::{TcpListener, TcpStream};

    async fn echo(mut s: TcpStream) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn round_trips(mut s: TcpStream, size: usize) -> TcpStream {
        let msg = vec![7u8; size];
        let mut back = vec![0u8; size];
        for _ in 0..ROUND_TRIPS {
            s.write_all(&msg).await.unwrap();
            s.read_exact(&mut back).await.unwrap();
        }
        s
    }

    pub fn runner(size: usize) -> impl FnMut() -> Duration {
        let rt = weft::Runtime::new().unwrap();
        let clients = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            weft::spawn(async move {
                loop {
                    let (s, _) = listener.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    weft::spawn(echo(s));
                }
            });
            let mut clients = Vec::new();
            for _ in 0..CONNS {
                let s = TcpStream::connect(addr).await.unwrap();
                s.set_nodelay(true).unwrap();
                clients.push(s);
            }
            clients
        });
        let clients = std::rc::Rc::new(std::cell::RefCell::new(clients));
        move || {
            let clients = clients.clone();
            let job: Job = Box::pin(async move {
                let streams: Vec<_> = clients.borrow_mut().drain(..).collect();
                let start = Instant::now();
                let hs: Vec<_> = streams
                    .into_iter()
                    .map(|s| weft::spawn(round_trips(s, size)))
                    .collect();
                let mut back = Vec::new();
                for h in hs {
                    back.push(h.await.unwrap());
                }
                let took = start.elapsed();
                *clients.borrow_mut() = back;
                took
            });
            let main = rt.spawn(job);
            rt.block_on(main).unwrap()
        }
    }
}

mod on_tokio {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    async fn echo(mut s: TcpStream) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn round_trips(mut s: TcpStream, size: usize) -> TcpStream {
        let msg = vec![7u8; size];
        let mut back = vec![0u8; size];
        for _ in 0..ROUND_TRIPS {
            s.write_all(&msg).await.unwrap();
            s.read_exact(&mut back).await.unwrap();
        }
        s
    }

    pub fn runner(size: usize) -> impl FnMut() -> Duration {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clients = rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(async move {
                loop {
                    let (s, _) = listener.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    tokio::spawn(echo(s));
                }
            });
            let mut clients = Vec::new();
            for _ in 0..CONNS {
                let s = TcpStream::connect(addr).await.unwrap();
                s.set_nodelay(true).unwrap();
                clients.push(s);
            }
            clients
        });
        let mut clients = Some(clients);
        move || {
            let streams = clients.take().unwrap();
            let main = rt.spawn(async move {
                let start = Instant::now();
                let hs: Vec<_> = streams
                    .into_iter()
                    .map(|s| tokio::spawn(round_trips(s, size)))
                    .collect();
                let mut back = Vec::new();
                for h in hs {
                    back.push(h.await.unwrap());
                }
                (start.elapsed(), back)
            });
            let (took, back) = rt.block_on(main).unwrap();
            clients = Some(back);
            took
        }
    }
}

mod on_smol {
    use super::*;
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    use smol::net::{TcpListener, TcpStream};
    use smol::LocalExecutor;

    async fn echo(mut s: TcpStream) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    async fn round_trips(mut s: TcpStream, size: usize) -> TcpStream {
        let msg = vec![7u8; size];
        let mut back = vec![0u8; size];
        for _ in 0..ROUND_TRIPS {
            s.write_all(&msg).await.unwrap();
            s.read_exact(&mut back).await.unwrap();
        }
        s
    }

    pub fn runner(size: usize) -> impl FnMut() -> Duration {
        let ex: &'static LocalExecutor<'static> = Box::leak(Box::new(LocalExecutor::new()));
        let clients = smol::block_on(ex.run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            ex.spawn(async move {
                loop {
                    let (s, _) = listener.accept().await.unwrap();
                    s.set_nodelay(true).unwrap();
                    ex.spawn(echo(s)).detach();
                }
            })
            .detach();
            let mut clients = Vec::new();
            for _ in 0..CONNS {
                let s = TcpStream::connect(addr).await.unwrap();
                s.set_nodelay(true).unwrap();
                clients.push(s);
            }
            clients
        }));
        let mut clients = Some(clients);
        move || {
            let streams = clients.take().unwrap();
            let main = ex.spawn(async move {
                let start = Instant::now();
                let hs: Vec<_> = streams
                    .into_iter()
                    .map(|s| ex.spawn(round_trips(s, size)))
                    .collect();
                let mut back = Vec::new();
                for h in hs {
                    back.push(h.await);
                }
                (start.elapsed(), back)
            });
            let (took, back) = smol::block_on(ex.run(main));
            clients = Some(back);
            took
        }
    }
}

fn benches(c: &mut Criterion) {
    for (label, size) in [("tcp_echo_64B", 64usize), ("tcp_echo_16KiB", 16 * 1024)] {
        let mut g = c.benchmark_group(label);
        g.throughput(Throughput::Bytes((CONNS * ROUND_TRIPS * size * 2) as u64));
        let mut weft = on_weft::runner(size);
        g.bench_function(BenchmarkId::from_parameter("weft"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| weft()).sum())
        });
        let mut tokio = on_tokio::runner(size);
        g.bench_function(BenchmarkId::from_parameter("tokio"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| tokio()).sum())
        });
        let mut smol = on_smol::runner(size);
        g.bench_function(BenchmarkId::from_parameter("smol"), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| smol()).sum())
        });
        g.finish();
    }
}

criterion_group!(net, benches);
criterion_main!(net);
