//! The `mini_redis` example's server answering over real sockets on 127.0.0.1, started
//! in-process on an ephemeral port. The example's modules are compiled in here, so their own
//! unit tests (the key space's, the memory budget's) run with these; the RESP parser's run
//! in `examples/common`.

#[path = "../examples/mini_redis/command.rs"]
mod command;
#[path = "../examples/mini_redis/db.rs"]
mod db;
#[path = "../examples/mini_redis/memory.rs"]
mod memory;
#[path = "../examples/mini_redis/pubsub.rs"]
mod pubsub;
#[path = "../examples/mini_redis/server.rs"]
#[allow(dead_code)]
mod server;
#[path = "../examples/mini_redis/shard.rs"]
#[allow(dead_code)]
mod shard;

use std::net::SocketAddr;
use std::rc::Rc;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{TcpListener, TcpStream};
use weft::time::Duration;

use examples_common::resp::{parse_frame, Frame};

/// Starts the server on an ephemeral port and returns its address.
async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Rc::new(server::Config::default());
    let never = std::future::pending();
    weft::spawn(server::run_until(listener, config, never, Duration::ZERO));
    addr
}

/// A test client: sends commands, reads reply frames.
struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    async fn send(&mut self, args: &[&str]) {
        self.send_raw(&Frame::command(args).to_bytes()).await;
    }

    /// The next reply, or `None` at end of stream.
    async fn reply(&mut self) -> Option<Frame> {
        loop {
            if let Some((frame, n)) = parse_frame(&self.buf).unwrap() {
                self.buf.drain(..n);
                return Some(frame);
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await.unwrap();
            if n == 0 {
                assert!(self.buf.is_empty(), "stream ended inside a frame");
                return None;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn call(&mut self, args: &[&str]) -> Frame {
        self.send(args).await;
        self.reply().await.expect("connection closed")
    }

    /// Everything until the server closes the connection.
    async fn read_to_end(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.buf);
        self.stream.read_to_end(&mut all).await.unwrap();
        all
    }
}

fn ok() -> Frame {
    Frame::Simple("OK".into())
}

fn bulk(s: &str) -> Frame {
    Frame::bulk(s)
}

fn array(items: Vec<Frame>) -> Frame {
    Frame::Array(items)
}

fn error_text(f: Frame) -> String {
    match f {
        Frame::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[weft::test]
async fn set_then_get() {
    let mut c = Client::connect(start().await).await;
    assert_eq!(c.call(&["PING"]).await, Frame::Simple("PONG".into()));
    assert_eq!(c.call(&["SET", "greeting", "hello world"]).await, ok());
    assert_eq!(c.call(&["GET", "greeting"]).await, bulk("hello world"));
    assert_eq!(c.call(&["get", "missing"]).await, Frame::Null);
    // NX / XX.
    assert_eq!(c.call(&["SET", "greeting", "x", "NX"]).await, Frame::Null);
    assert_eq!(c.call(&["SET", "other", "y", "XX"]).await, Frame::Null);
    assert_eq!(c.call(&["SET", "greeting", "bye", "xx"]).await, ok());
    assert_eq!(c.call(&["GET", "greeting"]).await, bulk("bye"));
    assert_eq!(
        c.call(&["DEL", "greeting", "other"]).await,
        Frame::Integer(1)
    );
    assert_eq!(c.call(&["EXISTS", "greeting"]).await, Frame::Integer(0));
    // Errors leave the connection usable.
    let e = error_text(c.call(&["GET"]).await);
    assert_eq!(e, "ERR wrong number of arguments for 'get' command");
    let e = error_text(c.call(&["SET", "k", "v", "EX", "0"]).await);
    assert_eq!(e, "ERR invalid expire time in 'set' command");
    let e = error_text(c.call(&["SET", "k", "v", "NX", "XX"]).await);
    assert_eq!(e, "ERR syntax error");
    let e = error_text(c.call(&["NOSUCH", "a"]).await);
    assert!(e.starts_with("ERR unknown command 'NOSUCH'"), "{e}");
    assert_eq!(c.call(&["GET", "k"]).await, Frame::Null);
}

#[weft::test]
async fn values_are_binary_safe_and_may_be_large() {
    let mut c = Client::connect(start().await).await;
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut cmd = Vec::new();
    Frame::command([&b"SET"[..], &b"big\r\n"[..], &big[..]]).encode(&mut cmd);
    c.send_raw(&cmd).await;
    assert_eq!(c.reply().await, Some(ok()));
    c.send_raw(&Frame::command([&b"GET"[..], &b"big\r\n"[..]]).to_bytes())
        .await;
    assert_eq!(c.reply().await, Some(Frame::Bulk(big)));
}

#[weft::test]
async fn a_command_split_across_writes_is_parsed_whole() {
    let mut c = Client::connect(start().await).await;
    let cmd = Frame::command(["SET", "key", "split value"]).to_bytes();
    for piece in cmd.chunks(3) {
        c.send_raw(piece).await;
        weft::yield_now().await; // let the server read the piece on its own
    }
    assert_eq!(c.reply().await, Some(ok()));
    assert_eq!(c.call(&["GET", "key"]).await, bulk("split value"));
}

#[weft::test(start_paused = true)]
async fn keys_expire_on_a_paused_clock() {
    // The clock moves only through `advance` (and, when the runtime is idle, jumps to the
    // next 100 ms purge tick: deadlines here are far beyond a few of those).
    let mut c = Client::connect(start().await).await;
    assert_eq!(c.call(&["SET", "session", "abc", "EX", "100"]).await, ok());
    let Frame::Integer(ttl) = c.call(&["TTL", "session"]).await else {
        panic!("TTL is an integer");
    };
    assert!((99..=100).contains(&ttl), "{ttl}");
    weft::time::advance(Duration::from_secs(50)).await;
    assert_eq!(c.call(&["GET", "session"]).await, bulk("abc"));
    weft::time::advance(Duration::from_secs(50)).await;
    // Read right at the deadline: gone (lazy expiry on access).
    assert_eq!(c.call(&["GET", "session"]).await, Frame::Null);
    assert_eq!(c.call(&["TTL", "session"]).await, Frame::Integer(-2));

    // A key nobody reads is purged by the periodic task: DBSIZE counts stored keys.
    assert_eq!(c.call(&["SET", "cache", "v", "PX", "1500"]).await, ok());
    assert_eq!(c.call(&["SET", "forever", "v"]).await, ok());
    assert_eq!(c.call(&["DBSIZE"]).await, Frame::Integer(2));
    assert_eq!(c.call(&["TTL", "forever"]).await, Frame::Integer(-1));
    weft::time::advance(Duration::from_secs(2)).await;
    assert_eq!(c.call(&["DBSIZE"]).await, Frame::Integer(1));
    assert_eq!(c.call(&["GET", "forever"]).await, bulk("v"));

    // A plain SET clears an earlier deadline.
    assert_eq!(c.call(&["SET", "k", "1", "EX", "10"]).await, ok());
    assert_eq!(c.call(&["SET", "k", "2"]).await, ok());
    weft::time::advance(Duration::from_secs(20)).await;
    assert_eq!(c.call(&["GET", "k"]).await, bulk("2"));
}

#[weft::test]
async fn publish_reaches_subscribers() {
    let addr = start().await;
    let mut sub = Client::connect(addr).await;
    let mut publisher = Client::connect(addr).await;

    sub.send(&["SUBSCRIBE", "news", "sport"]).await;
    let confirm =
        |kind: &str, chan: &str, n| array(vec![bulk(kind), bulk(chan), Frame::Integer(n)]);
    assert_eq!(sub.reply().await, Some(confirm("subscribe", "news", 1)));
    assert_eq!(sub.reply().await, Some(confirm("subscribe", "sport", 2)));

    assert_eq!(
        publisher.call(&["PUBLISH", "news", "hello"]).await,
        Frame::Integer(1)
    );
    assert_eq!(
        publisher.call(&["PUBLISH", "weather", "rain"]).await,
        Frame::Integer(0)
    );
    assert_eq!(
        publisher.call(&["PUBLISH", "sport", "goal"]).await,
        Frame::Integer(1)
    );
    let message =
        |chan: &str, payload: &str| array(vec![bulk("message"), bulk(chan), bulk(payload)]);
    assert_eq!(sub.reply().await, Some(message("news", "hello")));
    assert_eq!(sub.reply().await, Some(message("sport", "goal")));

    // In pub/sub mode only (UN)SUBSCRIBE, PING and QUIT are accepted.
    let e = error_text(sub.call(&["GET", "k"]).await);
    assert!(e.starts_with("ERR Can't execute 'get'"), "{e}");
    assert_eq!(
        sub.call(&["PING"]).await,
        array(vec![bulk("pong"), bulk("")])
    );

    sub.send(&["UNSUBSCRIBE", "news"]).await;
    assert_eq!(sub.reply().await, Some(confirm("unsubscribe", "news", 1)));
    assert_eq!(
        publisher.call(&["PUBLISH", "news", "again"]).await,
        Frame::Integer(0)
    );
    sub.send(&["UNSUBSCRIBE"]).await;
    assert_eq!(sub.reply().await, Some(confirm("unsubscribe", "sport", 0)));
    // Out of pub/sub mode: ordinary commands again.
    assert_eq!(sub.call(&["SET", "k", "v"]).await, ok());

    // A subscriber that leaves is unsubscribed: QUIT's EOF comes after the cleanup.
    let mut leaver = Client::connect(addr).await;
    leaver.send(&["SUBSCRIBE", "news"]).await;
    assert_eq!(leaver.reply().await, Some(confirm("subscribe", "news", 1)));
    leaver.send(&["QUIT"]).await;
    assert_eq!(leaver.read_to_end().await, b"+OK\r\n");
    assert_eq!(
        publisher.call(&["PUBLISH", "news", "anyone?"]).await,
        Frame::Integer(0)
    );
}

#[weft::test]
async fn many_subscribers_each_get_every_message_in_order() {
    let addr = start().await;
    let mut subs = Vec::new();
    for _ in 0..5 {
        let mut s = Client::connect(addr).await;
        s.send(&["SUBSCRIBE", "c"]).await;
        assert!(s.reply().await.is_some());
        subs.push(s);
    }
    let mut publisher = Client::connect(addr).await;
    let mut batch = Vec::new();
    for i in 0..100 {
        Frame::command(["PUBLISH", "c", &i.to_string()]).encode(&mut batch);
    }
    publisher.send_raw(&batch).await;
    for _ in 0..100 {
        assert_eq!(publisher.reply().await, Some(Frame::Integer(5)));
    }
    for s in &mut subs {
        for i in 0..100 {
            let expected = array(vec![bulk("message"), bulk("c"), bulk(&i.to_string())]);
            assert_eq!(s.reply().await, Some(expected));
        }
    }
}

#[weft::test]
async fn malformed_input_gets_an_error_and_the_connection_closes() {
    let addr = start().await;
    for (input, expected) in [
        (
            &b"*1\r\n$x\r\n"[..],
            &b"-ERR Protocol error: invalid bulk length\r\n"[..],
        ),
        (
            b"*2\r\n:1\r\n",
            b"-ERR Protocol error: expected '$', got ':'\r\n",
        ),
        (
            b"*99999999\r\n",
            b"-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$1073741824\r\n",
            b"-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"SET \"unclosed\r\n",
            b"-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
        // Replies to the commands before the bad one come first.
        (
            b"PING\r\n*1\r\n$-5\r\n",
            b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
        ),
    ] {
        let mut bad = Client::connect(addr).await;
        bad.send_raw(input).await;
        let got = bad.read_to_end().await;
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "input {:?}",
            String::from_utf8_lossy(input)
        );
    }
    // The server goes on serving others.
    let mut good = Client::connect(addr).await;
    assert_eq!(good.call(&["PING"]).await, Frame::Simple("PONG".into()));
}

#[weft::test]
async fn pipelined_commands_are_answered_in_order_in_one_write() {
    let mut c = Client::connect(start().await).await;
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    for i in 0..50 {
        let (k, v) = (format!("key:{i}"), format!("value {i}"));
        Frame::command(["SET", &k, &v]).encode(&mut batch);
        ok().encode(&mut expected);
        Frame::command(["GET", &k]).encode(&mut batch);
        bulk(&v).encode(&mut expected);
    }
    batch.extend_from_slice(b"PING\r\n"); // inline, in the middle of the pipeline
    Frame::Simple("PONG".into()).encode(&mut expected);
    Frame::command(["INCR", "n"]).encode(&mut batch);
    Frame::Error("ERR unknown command 'INCR', with args beginning with: 'n' ".into())
        .encode(&mut expected);
    assert!(
        batch.len() < 16 * 1024,
        "one read of the server's takes it all"
    );
    c.send_raw(&batch).await;
    // The server read the batch at once and answered it with one write (under the
    // loopback MTU), so one read here returns every reply.
    let mut got = vec![0u8; expected.len() + 1024];
    let n = c.stream.read(&mut got).await.unwrap();
    assert_eq!(
        String::from_utf8_lossy(&got[..n]),
        String::from_utf8_lossy(&expected)
    );
}

#[weft::test]
async fn client_handshakes_are_answered() {
    let mut c = Client::connect(start().await).await;
    // What redis-benchmark asks before it starts.
    let save = c.call(&["CONFIG", "GET", "save"]).await;
    assert_eq!(save, array(vec![bulk("save"), bulk("")]));
    let aof = c.call(&["CONFIG", "GET", "appendonly"]).await;
    assert_eq!(aof, array(vec![bulk("appendonly"), bulk("no")]));
    assert_eq!(c.call(&["CONFIG", "GET", "maxmemory"]).await, array(vec![]));
    // What redis-cli and client libraries may send.
    assert_eq!(c.call(&["COMMAND", "DOCS"]).await, array(vec![]));
    assert_eq!(c.call(&["CLIENT", "SETNAME", "me"]).await, ok());
    let e = error_text(c.call(&["HELLO", "3"]).await);
    assert!(e.starts_with("NOPROTO"), "{e}");
    let Frame::Array(hello) = c.call(&["HELLO"]).await else {
        panic!("HELLO answers an array in RESP2");
    };
    assert_eq!(hello[..2], [bulk("server"), bulk("mini_redis")]);
    assert_eq!(c.call(&["SELECT", "0"]).await, ok());
    assert_eq!(c.call(&["ECHO", "hi"]).await, bulk("hi"));
    c.send(&["QUIT"]).await;
    assert_eq!(c.read_to_end().await, b"+OK\r\n");
}
