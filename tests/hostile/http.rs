//! `http_hello` under attack.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::*;

const SERVER: &str = "http_hello";

/// The status code at the start of `response`, if any.
fn status(response: &str) -> Option<&str> {
    response.strip_prefix("HTTP/1.1 ")?.get(..3)
}

/// Asserts `request` gets exactly one response, with `code`, saying it closes, and the
/// connection then closes.
fn assert_refused(server: &Server, request: &[u8], code: &str) {
    let r = exchange(server.addr, request);
    assert_eq!(
        status(&r),
        Some(code),
        "{:?}\n-> {r}",
        String::from_utf8_lossy(request)
    );
    assert_eq!(r.matches("HTTP/1.1 ").count(), 1, "{r}");
    assert!(r.contains("\r\nConnection: close\r\n"), "{r}");
}

#[test]
fn content_lengths_that_wrapped_the_parser_are_413() {
    let _one = serial();
    let mut server = Server::start(SERVER, &[]);
    // The 56-byte request, the one that desynced the connection, and one past u64.
    for len in [
        "18446744073709551560",
        "18446744073709551615",
        "99999999999999999999999",
    ] {
        let req = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\nGET / HTTP/1.1\r\n\r\n"
        );
        assert_refused(&server, req.as_bytes(), "413");
        assert_http_answers(server.addr);
    }
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn ambiguous_framing_is_refused() {
    let _one = serial();
    let mut server = Server::start(SERVER, &[]);
    let cases: &[(&[u8], &str)] = &[
        (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "400"),
        (b"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\nhello!", "400"),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "400"),
        // The request smuggling shape: both framings.
        (
            b"POST / HTTP/1.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
            "400",
        ),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "501"),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n", "413"),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", "400"),
    ];
    for (request, code) in cases {
        assert_refused(&server, request, code);
    }
    // Agreeing lengths and a chunked body are fine, and answered in order.
    let r = exchange(
        server.addr,
        b"POST / HTTP/1.1\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nhi\
          POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n\
          GET / HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let statuses: Vec<&str> = r.split("HTTP/1.1 ").skip(1).map(|p| &p[..3]).collect();
    assert_eq!(statuses, ["404", "404", "200"], "{r}");
    assert_http_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn huge_bodies_are_refused_or_discarded_never_held() {
    let _one = serial();
    let mut server = Server::start(SERVER, &[]);
    let mib = vec![b'x'; 1 << 20];

    // Announced: 413 from the head alone, before any of the body.
    let mut s = connect(server.addr);
    s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 268435456\r\n\r\n")
        .unwrap();
    assert_eq!(status(&read_head(&mut s)), Some("413"));
    // The rest is read and dropped while the server lingers, then it closes.
    write_until_blocked(&mut s, &mib.repeat(8), Duration::from_secs(3));
    drop(s);

    // Chunked: discarded as it arrives; the chunk that passes --max-body (1 MiB) is 413.
    let mut s = connect(server.addr);
    s.write_all(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n100000\r\n")
        .unwrap();
    s.write_all(&mib).unwrap();
    s.write_all(b"\r\n100000\r\n").unwrap();
    assert_eq!(status(&read_head(&mut s)), Some("413"));
    drop(s);
    assert_http_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);

    // The 256 MiB body, allowed here: read and discarded as it comes, never held.
    let mut server = Server::start(SERVER, &["--max-body", "256M"]);
    let mut s = connect(server.addr);
    s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 268435456\r\n\r\n")
        .unwrap();
    for i in 0..256 {
        s.write_all(&mib).unwrap();
        if i % 64 == 0 {
            assert_http_answers(server.addr); // others are answered meanwhile
        }
    }
    s.write_all(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let r = read_to_close(&mut s);
    assert_eq!(status(&r), Some("404"), "{r}");
    assert!(r.ends_with("Hello, World!"), "{r}");
    server.assert_healthy(RSS_LIMIT_MIB);
}

/// Reads one response head (up to its blank line), leaving the connection open.
fn read_head(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") && matches!(s.read(&mut byte), Ok(1)) {
        got.push(byte[0]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn slow_heads_and_bodies_get_408_at_their_deadline() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--head-timeout", "1", "--body-timeout", "1"]);
    // 200 clients trickle a head a byte at a time; 20 trickle a body.
    let head =
        b"GET / HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut heads: Vec<TcpStream> = (0..200).map(|_| connect(server.addr)).collect();
    let mut bodies: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = connect(server.addr);
            s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
                .unwrap();
            s
        })
        .collect();
    let start = Instant::now();
    for i in 0..15 {
        for s in heads.iter_mut().chain(bodies.iter_mut()) {
            let _ = s.write_all(&head[i..=i]);
        }
        if i % 5 == 0 {
            assert_http_answers(server.addr);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // 1.5 s of trickling: past both deadlines, each was answered 408 and closed.
    for s in heads.iter_mut().chain(bodies.iter_mut()) {
        let r = read_to_close(s);
        assert_eq!(status(&r), Some("408"), "{r}");
    }
    assert!(start.elapsed() < PATIENCE);
    assert_http_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn pipelining_without_reading_is_stopped_and_bounded() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--write-timeout", "1"]);
    let before = server.open_fds();
    // 200,000 requests each: 20 MiB of responses, more than the kernel buffers hold.
    let pipeline = b"GET / HTTP/1.1\r\n\r\n".repeat(200_000);
    let mut attackers: Vec<TcpStream> = (0..4).map(|_| connect_small(server.addr)).collect();
    for s in &mut attackers {
        // Until the server stops reading: it does once its answers are not taken.
        write_until_blocked(s, &pipeline, Duration::from_millis(200));
        assert_http_answers(server.addr);
    }
    server.assert_healthy(RSS_LIMIT_MIB);
    // The write deadline passes: the server gives up on them.
    server.wait_fds_at_most(before);
    drop(attackers);
    assert_http_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn at_the_connection_cap_accept_pauses_and_waiting_clients_are_shed() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--max-connections", "64"]);
    // Far more connections than the cap, sending nothing, or half a head.
    let mut flood: Vec<TcpStream> = (0..400).map(|_| connect(server.addr)).collect();
    for s in flood.iter_mut().step_by(2) {
        s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    }
    for _ in 0..5 {
        assert_http_answers(server.addr);
        let open = server.open_fds();
        assert!(
            open <= 64 + 16,
            "{open} descriptors open: the cap did not hold"
        );
    }
    drop(flood);
    assert_http_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn resets_with_a_stderr_nobody_reads_do_not_stop_the_server() {
    let _one = serial();
    let mut server = Server::start_undrained(SERVER, LOG_EVERYTHING);
    reset_storm(&server, b"GET / HTTP/1.1\r\nHost: x", || {
        assert_http_answers(server.addr)
    });
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn garbage_and_random_bytes_are_refused() {
    let _one = serial();
    let mut server = Server::start(SERVER, &[]);
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for i in 0..100 {
        let garbage = rng.bytes(64 + i * 97);
        let r = exchange(server.addr, &garbage);
        // Refused (400, or 431 for a long run of token bytes), or closed after the head
        // deadline... which is 10 s: random bytes never make a valid request line, so the
        // answer is immediate.
        assert!(
            matches!(status(&r), Some("400" | "431")),
            "{r:?} for {garbage:?}"
        );
    }
    // TLS to a plain HTTP port, and a stream of binary noise that never stops.
    let r = exchange(server.addr, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03");
    assert_eq!(status(&r), Some("400"));
    let mut s = connect(server.addr);
    let noise = rng.bytes(8 << 20);
    s.write_all(&noise[..64 * 1024]).unwrap();
    assert_eq!(status(&read_head(&mut s)), Some("400"));
    write_until_blocked(&mut s, &noise, Duration::from_secs(3));
    assert_http_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn keep_alive_clients_idle_out() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--idle-timeout", "1"]);
    let mut idle: Vec<TcpStream> = (0..50).map(|_| connect(server.addr)).collect();
    for s in &mut idle {
        s.write_all(b"GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut got = [0u8; 256];
        let n = s.read(&mut got).unwrap();
        assert!(got[..n].ends_with(b"Hello, World!"));
    }
    for s in &mut idle {
        assert_eq!(
            read_to_close(s),
            "",
            "closed without a word after --idle-timeout"
        );
    }
    server.assert_healthy(RSS_LIMIT_MIB);
}
