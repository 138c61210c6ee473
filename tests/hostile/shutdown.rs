//! `graceful_shutdown`: draining on Ctrl-C, and a second Ctrl-C.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

use crate::support::*;

const SERVER: &str = "graceful_shutdown";

/// Sends SIGINT to the server, as Ctrl-C in its terminal would.
fn interrupt(server: &Server) {
    let status = Command::new("kill")
        .args(["-INT", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// A keep-alive client that has had one answer and is now idle.
fn idle_client(server: &Server) -> TcpStream {
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
    let mut got = [0u8; 256];
    let n = s.read(&mut got).unwrap();
    assert!(got[..n].ends_with(b"Hello, World!"));
    s
}

/// A client in the middle of a request: the server has its head (it said `100 Continue`)
/// and waits for its 5-byte body.
fn busy_client(server: &Server) -> TcpStream {
    let mut s = connect(server.addr);
    s.write_all(b"PUT / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        .unwrap();
    let mut got = [0u8; 25];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"HTTP/1.1 100 Continue\r\n\r\n");
    s
}

#[test]
fn draining_closes_idle_connections_at_once_and_tells_busy_ones() {
    let _one = serial();
    // A drain deadline far beyond PATIENCE: exiting within PATIENCE means nobody waited for it.
    let mut server = Server::start(SERVER, &["--drain-timeout", "600"]);
    let mut idle: Vec<TcpStream> = (0..20).map(|_| idle_client(&server)).collect();
    let mut busy = busy_client(&server);

    interrupt(&server);
    for s in &mut idle {
        assert_eq!(
            read_to_close(s),
            "",
            "an idle connection closes without a word"
        );
    }
    // The busy one finishes its request, and hears it was the last.
    busy.write_all(b"hello").unwrap();
    let r = read_to_close(&mut busy);
    assert!(r.starts_with("HTTP/1.1 404 Not Found\r\n"), "{r}");
    assert!(r.contains("\r\nConnection: close\r\n"), "{r}");
    assert_eq!(server.wait_exit(), Some(0));
    assert!(TcpStream::connect(server.addr).is_err(), "still accepting");
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--drain-timeout", "600"]);
    let mut idle = idle_client(&server);
    let _busy = busy_client(&server); // and never its body

    interrupt(&server);
    // The idle client's close shows the drain has begun (and the first signal was seen).
    assert_eq!(read_to_close(&mut idle), "");
    interrupt(&server);
    assert_eq!(server.wait_exit(), Some(130));
}

/// `http_hello --workers 2`: both workers answer on the one port, and Ctrl-C stops them
/// all: idle connections close, the process exits 0, and nothing listens any more.
#[test]
fn http_hello_on_two_workers_stops_them_all_on_ctrl_c() {
    let _one = serial();
    let mut server = Server::start("http_hello", &["--workers", "2"]);
    let mut idle: Vec<TcpStream> = (0..20).map(|_| idle_client(&server)).collect();
    interrupt(&server);
    for s in &mut idle {
        assert_eq!(
            read_to_close(s),
            "",
            "an idle connection closes at the stop"
        );
    }
    assert_eq!(server.wait_exit(), Some(0));
    assert!(TcpStream::connect(server.addr).is_err(), "still accepting");
}

/// Reads one RESP line reply (`+OK`, `:3`, `$-1`) or a one-line bulk (`$1\r\nv`).
fn redis_reply(s: &mut TcpStream) -> String {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        s.read_exact(&mut byte).unwrap();
        line.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&line).trim_end().to_string();
    match head.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => {
            let mut body = vec![0u8; n + 2];
            s.read_exact(&mut body).unwrap();
            String::from_utf8_lossy(&body[..n]).into_owned()
        }
        None => head,
    }
}

/// `mini_redis --workers 2`: the key space is sharded over the workers, yet every
/// connection, whichever worker took it, sees every key, the total size, and the
/// subscribers on every worker; Ctrl-C stops both.
#[test]
fn mini_redis_on_two_workers_is_one_key_space() {
    let _one = serial();
    let mut server = Server::start("mini_redis", &["--workers", "2"]);
    let mut conns: Vec<TcpStream> = (0..16).map(|_| connect(server.addr)).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        // Pipelined: a key of this worker's, maybe another's, in one write.
        c.write_all(format!("SET k{i} v{i}\r\nSET x{i} w{i}\r\n").as_bytes())
            .unwrap();
        assert_eq!(redis_reply(c), "+OK");
        assert_eq!(redis_reply(c), "+OK");
    }
    for c in &mut conns {
        for i in 0..16 {
            c.write_all(format!("GET k{i}\r\n").as_bytes()).unwrap();
            assert_eq!(redis_reply(c), format!("v{i}"));
        }
        c.write_all(b"DBSIZE\r\nEXISTS k0 k1 k2 nope\r\n").unwrap();
        assert_eq!(redis_reply(c), ":32");
        assert_eq!(redis_reply(c), ":3");
    }
    // Subscribers on the first half; a publish from each of the rest reaches all of them.
    for c in &mut conns[..8] {
        c.write_all(b"SUBSCRIBE news\r\n").unwrap();
        let mut got = [0u8; 64];
        let mut n = 0;
        while !got[..n].ends_with(b":1\r\n") {
            n += c.read(&mut got[n..]).unwrap();
        }
    }
    for c in &mut conns[8..] {
        c.write_all(b"PUBLISH news hi\r\n").unwrap();
        assert_eq!(redis_reply(c), ":8");
    }
    conns[8].write_all(b"DEL k0 k1 x0 nope\r\n").unwrap();
    assert_eq!(redis_reply(&mut conns[8]), ":3");
    interrupt(&server);
    assert_eq!(server.wait_exit(), Some(0));
}

/// `mini_redis` on its default single worker: Ctrl-C stops it gracefully too (it used to
/// take the signal's default action there): an idle client is closed within the drain
/// timeout, the process exits 0, and nothing listens any more.
#[test]
fn mini_redis_on_one_worker_stops_on_ctrl_c() {
    let _one = serial();
    let mut server = Server::start("mini_redis", &["--drain-timeout", "1"]);
    let mut idle = connect(server.addr);
    idle.write_all(b"SET k v\r\n").unwrap();
    assert_eq!(redis_reply(&mut idle), "+OK");
    interrupt(&server);
    assert_eq!(read_to_close(&mut idle), "", "the idle client is closed");
    assert_eq!(server.wait_exit(), Some(0));
    assert!(TcpStream::connect(server.addr).is_err(), "still accepting");
}
