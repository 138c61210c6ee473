//! hyper 1.x on weft through `weft::compat::hyper`: real HTTP over real sockets on 127.0.0.1,
//! hyper's server and client on both ends. `cargo test --features hyper --test hyper`.
#![cfg(feature = "hyper")]

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Bytes, Incoming};
use hyper::rt::Timer;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use weft::compat::hyper::{WeftExecutor, WeftIo, WeftTimer};
use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::time::Instant;

type Body = Full<Bytes>;

async fn hello(req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    if req.method() == Method::GET && req.uri().path() == "/" {
        return Ok(Response::new(Full::new(Bytes::from_static(
            b"Hello, World!",
        ))));
    }
    let mut res = Response::new(Full::new(Bytes::from_static(b"Not Found")));
    *res.status_mut() = StatusCode::NOT_FOUND;
    Ok(res)
}

/// What the server saw, shared with the test.
#[derive(Default)]
struct Seen {
    connections: Cell<usize>,
    /// How the last connection ended: `Some(true)` on a hyper timeout error.
    last_timed_out: Cell<Option<bool>>,
}

/// Starts the example's HTTP/1 server (one task per connection) on an ephemeral port, with a
/// header-read timeout of `header_timeout`.
async fn start_http1(header_timeout: Duration) -> (std::net::SocketAddr, Rc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Rc::new(Seen::default());
    let counter = seen.clone();
    weft::spawn(async move {
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(WeftTimer).header_read_timeout(header_timeout);
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            counter.connections.set(counter.connections.get() + 1);
            let conn = http.serve_connection(WeftIo::new(stream), service_fn(hello));
            let counter = counter.clone();
            weft::spawn(async move {
                let r = conn.await;
                counter
                    .last_timed_out
                    .set(Some(r.as_ref().is_err_and(|e| e.is_timeout())));
            });
        }
    });
    (addr, seen)
}

fn get(path: &str) -> Request<Empty<Bytes>> {
    Request::get(path)
        .header("host", "127.0.0.1")
        .body(Empty::new())
        .unwrap()
}

/// Sends `req` and returns the status and the whole body.
async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    req: Request<Empty<Bytes>>,
) -> (StatusCode, Bytes) {
    let res = sender.send_request(req).await.unwrap();
    let status = res.status();
    (status, res.into_body().collect().await.unwrap().to_bytes())
}

#[weft::test]
async fn get_then_keep_alive_on_one_connection() {
    let (addr, seen) = start_http1(Duration::from_secs(30)).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(WeftIo::new(stream))
        .await
        .unwrap();
    let conn = weft::spawn(conn);

    let (status, body) = send(&mut sender, get("/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "Hello, World!");

    // The same connection again (keep-alive), and a 404 on it.
    let (status, body) = send(&mut sender, get("/")).await;
    assert_eq!((status, &body[..]), (StatusCode::OK, &b"Hello, World!"[..]));
    let (status, body) = send(&mut sender, get("/nope")).await;
    assert_eq!(
        (status, &body[..]),
        (StatusCode::NOT_FOUND, &b"Not Found"[..])
    );
    assert_eq!(seen.connections.get(), 1);

    // Dropping the sender closes the client side; both ends finish cleanly.
    drop(sender);
    conn.await.unwrap().unwrap();
}

#[weft::test(start_paused = true)]
async fn header_read_timeout_closes_a_silent_connection() {
    let (addr, seen) = start_http1(Duration::from_secs(5)).await;
    let mut raw = TcpStream::connect(addr).await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 64];
    // Nothing sent: the server closes after exactly 5 s of the paused clock, answering nothing.
    let n = raw.read(&mut buf).await.unwrap();
    assert_eq!(n, 0, "{:?}", String::from_utf8_lossy(&buf[..n]));
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_millis(5100),
        "{waited:?}"
    );
    weft::yield_now().await;
    assert_eq!(seen.last_timed_out.get(), Some(true));
}

#[weft::test(start_paused = true)]
async fn header_read_timeout_restarts_for_each_request() {
    let (addr, seen) = start_http1(Duration::from_secs(5)).await;
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(WeftIo::new(stream))
        .await
        .unwrap();
    let conn = weft::spawn(conn);
    let start = Instant::now();

    // hyper starts the header-read deadline afresh for each request head (a new sleep from
    // WeftTimer::sleep_until at WeftTimer::now() + 5 s): 4 s + 4 s idle keeps the connection.
    for _ in 0..2 {
        weft::sleep(Duration::from_secs(4)).await;
        let (status, _) = send(&mut sender, get("/")).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(seen.connections.get(), 1);

    // Then left idle, it is closed 5 s after the last request.
    let _ = conn.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(8 + 5));
    assert_eq!(seen.last_timed_out.get(), Some(true));
}

#[weft::test(start_paused = true)]
async fn timer_reset_moves_a_weft_sleep_and_replaces_a_foreign_one() {
    let start = Instant::now();
    let mut sleep = WeftTimer.sleep(Duration::from_secs(10));
    WeftTimer.reset(&mut sleep, WeftTimer.now() + Duration::from_secs(1));
    sleep.as_mut().await;
    assert_eq!(start.elapsed(), Duration::from_secs(1));

    /// A sleep from another runtime's timer: never ready.
    struct Foreign;
    impl Future for Foreign {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }
    impl hyper::rt::Sleep for Foreign {}

    let mut foreign: Pin<Box<dyn hyper::rt::Sleep>> = Box::pin(Foreign);
    WeftTimer.reset(&mut foreign, WeftTimer.now() + Duration::from_secs(2));
    foreign.await;
    assert_eq!(start.elapsed(), Duration::from_secs(3));
}

#[weft::test]
async fn http2_streams_run_as_weft_tasks_and_need_not_be_send() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Rc: the service and its futures are !Send, which WeftExecutor accepts.
    let served = Rc::new(Cell::new(0));
    let counter = served.clone();
    weft::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let service = service_fn(move |req: Request<Incoming>| {
            let counter = counter.clone();
            async move {
                counter.set(counter.get() + 1);
                hello(req).await
            }
        });
        hyper::server::conn::http2::Builder::new(WeftExecutor)
            .timer(WeftTimer)
            .serve_connection(WeftIo::new(stream), service)
            .await
            .unwrap();
    });

    let stream = TcpStream::connect(addr).await.unwrap();
    let (sender, conn) = hyper::client::conn::http2::handshake(WeftExecutor, WeftIo::new(stream))
        .await
        .unwrap();
    weft::spawn(conn);
    // Two requests in flight at once on the one connection.
    let one = |path: &'static str| {
        let mut sender = sender.clone();
        async move {
            let req = Request::get(path).body(Empty::<Bytes>::new()).unwrap();
            let res = sender.send_request(req).await.unwrap();
            let status = res.status();
            (status, res.into_body().collect().await.unwrap().to_bytes())
        }
    };
    let (a, b) = weft::gather!(weft::spawn(one("/")), weft::spawn(one("/x"))).await;
    assert_eq!(a.unwrap(), (StatusCode::OK, Bytes::from("Hello, World!")));
    assert_eq!(
        b.unwrap(),
        (StatusCode::NOT_FOUND, Bytes::from("Not Found"))
    );
    assert_eq!(served.get(), 2);
}

#[weft::test]
async fn weft_io_both_ways_round_trips_bytes() {
    // tokio-io → hyper → tokio-io: every byte through both adapters.
    let inner = std::io::Cursor::new(b"hello through hyper's traits".to_vec());
    let mut io = WeftIo::new(WeftIo::new(inner));
    let mut got = String::new();
    io.read_to_string(&mut got).await.unwrap();
    assert_eq!(got, "hello through hyper's traits");
    io.write_all(b"!").await.unwrap();
    io.flush().await.unwrap();
    assert_eq!(io.get_ref().get_ref().get_ref().last(), Some(&b'!'));
    io.shutdown().await.unwrap();
}
