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
