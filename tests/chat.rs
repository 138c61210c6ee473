//! The `chat` example's server over real sockets on 127.0.0.1, started in-process on an
//! ephemeral port: lines reach everyone else, commands answer their sender, and a client that
//! breaks the rules loses its own connection while the room goes on.

#[path = "../examples/chat/server.rs"]
mod server;

use std::net::SocketAddr;

use weft::io::AsyncWriteExt;
use weft::net::{TcpListener, TcpStream};
use weft::time::Duration;

use server::{Line, LineReader, MAX_LINE};

/// A guard against a hang, not a measurement: every expected line arrives in microseconds.
const PATIENCE: Duration = Duration::from_secs(10);

async fn start() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    weft::spawn(server::run(listener));
    addr
}

struct Client {
    lines: LineReader<weft::net::tcp::OwnedReadHalf>,
    writer: weft::net::tcp::OwnedWriteHalf,
}

impl Client {
    /// Connects and reads the welcome line; returns the client and its guest name.
    async fn join(addr: SocketAddr) -> (Client, String) {
        let (reader, writer) = TcpStream::connect(addr).await.unwrap().into_split();
        let mut client = Client {
            lines: LineReader::new(reader),
            writer,
        };
        let welcome = client.line().await;
        let name = welcome
            .strip_prefix("*** welcome, ")
            .and_then(|rest| rest.split_once('.'))
            .map(|(name, _)| name.to_string())
            .unwrap_or_else(|| panic!("not a welcome: {welcome:?}"));
        (client, name)
    }

    async fn say(&mut self, line: &str) {
        let line = format!("{line}\n");
        self.writer.write_all(line.as_bytes()).await.unwrap();
    }

    async fn next(&mut self) -> Line {
        weft::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("the server went silent")
            .unwrap()
    }

    async fn line(&mut self) -> String {
        match self.next().await {
            Line::Text(text) => text,
            other => panic!("expected a line, got {other:?}"),
        }
    }
}

#[weft::test]
async fn lines_reach_everyone_else() {
    let addr = start().await;
    let (mut a, name_a) = Client::join(addr).await;
    let (mut b, name_b) = Client::join(addr).await;
    assert_eq!(a.line().await, format!("*** {name_b} joined"));
    let (mut c, name_c) = Client::join(addr).await;
    assert_eq!(a.line().await, format!("*** {name_c} joined"));
    assert_eq!(b.line().await, format!("*** {name_c} joined"));

    a.say("hello, room").await;
    assert_eq!(b.line().await, format!("{name_a}: hello, room"));
    assert_eq!(c.line().await, format!("{name_a}: hello, room"));
    // The author does not get its own line back: its next line is the answer to /who.
    a.say("/who").await;
    assert_eq!(
        a.line().await,
        format!("*** here: {name_a}, {name_b}, {name_c}")
    );

    // A `\r\n` ending is accepted, and blank lines go nowhere.
    b.say("").await;
    b.writer.write_all(b"from b\r\n").await.unwrap();
    assert_eq!(a.line().await, format!("{name_b}: from b"));
    assert_eq!(c.line().await, format!("{name_b}: from b"));
}

#[weft::test]
async fn nick_renames_and_says_why_not() {
    let addr = start().await;
    let (mut a, name_a) = Client::join(addr).await;
    let (mut b, name_b) = Client::join(addr).await;
    assert_eq!(a.line().await, format!("*** {name_b} joined"));

    a.say("/nick alice").await;
    assert_eq!(a.line().await, "*** you are now alice");
    assert_eq!(b.line().await, format!("*** {name_a} is now alice"));
    b.say("/nick alice").await;
    assert_eq!(b.line().await, "*** error: alice is taken");
    b.say("/nick no spaces").await;
    assert!(b.line().await.starts_with("*** error: a nickname has only"));
    b.say("/nick guest-99").await;
    assert!(b
        .line()
        .await
        .starts_with("*** error: names starting with guest-"));
    b.say("/frobnicate").await;
    assert_eq!(b.line().await, "*** error: unknown command /frobnicate");
    b.say("hi alice").await;
    assert_eq!(a.line().await, format!("{name_b}: hi alice"));
}

#[weft::test]
async fn quit_and_disconnect_are_announced() {
    let addr = start().await;
    let (mut a, _) = Client::join(addr).await;
    let (mut b, name_b) = Client::join(addr).await;
    let (c, name_c) = Client::join(addr).await;
    assert_eq!(a.line().await, format!("*** {name_b} joined"));
    assert_eq!(a.line().await, format!("*** {name_c} joined"));
    assert_eq!(b.line().await, format!("*** {name_c} joined"));

    b.say("/quit").await;
    assert_eq!(b.line().await, "*** bye");
    assert_eq!(b.next().await, Line::End);
    assert_eq!(a.line().await, format!("*** {name_b} left"));

    drop(c);
    assert_eq!(a.line().await, format!("*** {name_c} left"));
}

#[weft::test]
async fn a_bad_line_closes_only_its_connection() {
    let addr = start().await;
    let (mut a, name_a) = Client::join(addr).await;
    let (mut b, name_b) = Client::join(addr).await;
    let (mut c, name_c) = Client::join(addr).await;
    assert_eq!(a.line().await, format!("*** {name_b} joined"));
    assert_eq!(a.line().await, format!("*** {name_c} joined"));
    assert_eq!(b.line().await, format!("*** {name_c} joined"));

    // Too long: one byte over the limit, no newline in sight.
    b.writer.write_all(&vec![b'x'; MAX_LINE + 1]).await.unwrap();
    assert!(b.line().await.starts_with("*** error: a line is at most"));
    assert_eq!(b.next().await, Line::End);
    assert_eq!(a.line().await, format!("*** {name_b} left"));
    assert_eq!(c.line().await, format!("*** {name_b} left"));

    // Not UTF-8.
    c.writer.write_all(b"\xff\xfe\n").await.unwrap();
    assert_eq!(c.line().await, "*** error: lines must be UTF-8; closing");
    assert_eq!(c.next().await, Line::End);
    assert_eq!(a.line().await, format!("*** {name_c} left"));

    // The room goes on.
    let (mut d, name_d) = Client::join(addr).await;
    assert_eq!(a.line().await, format!("*** {name_d} joined"));
    d.say("still here?").await;
    assert_eq!(a.line().await, format!("{name_d}: still here?"));
    a.say("yes").await;
    assert_eq!(d.line().await, format!("{name_a}: yes"));
}

#[weft::test]
async fn line_reader_splits_and_limits() {
    let (mut client, server) = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        (client, listener.accept().await.unwrap().0)
    };
    let mut lines = LineReader::new(server);
    let exact = "y".repeat(MAX_LINE);
    client
        .write_all(format!("one\r\ntwo\n\n{exact}\nlast").as_bytes())
        .await
        .unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(lines.next_line().await.unwrap(), Line::Text("one".into()));
    assert_eq!(lines.next_line().await.unwrap(), Line::Text("two".into()));
    assert_eq!(lines.next_line().await.unwrap(), Line::Text(String::new()));
    assert_eq!(lines.next_line().await.unwrap(), Line::Text(exact));
    assert_eq!(lines.next_line().await.unwrap(), Line::Text("last".into()));
    assert_eq!(lines.next_line().await.unwrap(), Line::End);
}
