//! `mini_redis` under attack, with 4 MiB values.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;

const SERVER: &str = "mini_redis";

/// A RESP command.
fn command(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one reply line (the first line of whatever the reply is).
fn reply_line(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n") && matches!(s.read(&mut byte), Ok(1)) {
        got.push(byte[0]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Sends `bytes` and our end of the stream; returns all the server said before closing.
fn said_then_closed(server: &Server, bytes: &[u8]) -> String {
    let mut s = connect(server.addr);
    let _ = s.write_all(bytes);
    finish(&s);
    read_to_close(&mut s)
}

/// Stores a 4 MiB value under `key`.
fn set_big(server: &Server, key: &[u8]) {
    let mut s = connect(server.addr);
    s.write_all(&command(&[b"SET", key, &vec![b'v'; 4 << 20]]))
        .unwrap();
    assert_eq!(reply_line(&mut s), "+OK\r\n");
}

#[test]
fn pipelined_gets_of_4mib_values_never_read_stay_bounded() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--write-timeout", "1"]);
    set_big(&server, b"big");
    let before = server.open_fds();
    // The attack: one read's worth of GETs used to build every reply at once
    // (2.8 GiB); now at most 64 KiB of replies wait, plus the one being built.
    let gets = command(&[b"GET", b"big"]).repeat(100_000);
    let mut hogs: Vec<TcpStream> = (0..8).map(|_| connect_small(server.addr)).collect();
    for s in &mut hogs {
        write_until_blocked(s, &gets, Duration::from_millis(300));
        assert_redis_answers(server.addr);
    }
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
    server.wait_fds_at_most(before); // the server gave up on them
    drop(hogs);
    assert_redis_answers(server.addr);
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
}

#[test]
fn huge_commands_from_many_clients_hit_the_clients_memory_limit() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--command-timeout", "2"]);
    // Forty clients each start a 500 MB SET and send 8 MiB of it: 320 MiB if all were held.
    let chunk = vec![b'q'; 8 << 20];
    let mut refused = 0;
    let mut hogs = Vec::new();
    for _ in 0..40 {
        let mut s = connect(server.addr);
        s.write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n")
            .unwrap();
        let _ = s.write_all(&chunk);
        hogs.push(s);
        assert_redis_answers(server.addr);
    }
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
    for s in &mut hogs {
        // Refused past --maxmemory-clients, or dropped at --command-timeout.
        if read_to_close(s).starts_with("-ERR client memory limit reached") {
            refused += 1;
        }
    }
    assert!(refused > 0, "the clients' memory limit never applied");
    assert_redis_answers(server.addr);
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
}

#[test]
fn storing_past_maxmemory_gets_oom() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--maxmemory", "16M"]);
    let mut s = connect(server.addr);
    let value = vec![b'm'; 4 << 20];
    let mut replies = Vec::new();
    for i in 0..6 {
        s.write_all(&command(&[b"SET", format!("key{i}").as_bytes(), &value]))
            .unwrap();
        replies.push(reply_line(&mut s));
    }
    assert!(replies[0] == "+OK\r\n", "{replies:?}");
    let oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n";
    assert!(replies.last().unwrap() == oom, "{replies:?}");
    // Reads and deletes go on; deleting makes room.
    s.write_all(&command(&[b"DEL", b"key0", b"key1"])).unwrap();
    assert_eq!(reply_line(&mut s), ":2\r\n");
    s.write_all(&command(&[b"SET", b"again", &value])).unwrap();
    assert_eq!(reply_line(&mut s), "+OK\r\n");
    assert_redis_answers(server.addr);
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
}

#[test]
fn subscribers_that_never_read_are_dropped() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--write-timeout", "1"]);
    let before = server.open_fds();
    let mut sleepers: Vec<TcpStream> = (0..20).map(|_| connect_small(server.addr)).collect();
    for s in &mut sleepers {
        s.write_all(&command(&[b"SUBSCRIBE", b"news"])).unwrap();
        reply_line(s);
    }
    let mut publisher = connect(server.addr);
    let message = vec![b'n'; 1 << 20];
    for i in 0..100 {
        publisher
            .write_all(&command(&[b"PUBLISH", b"news", &message]))
            .unwrap();
        reply_line(&mut publisher);
        if i % 25 == 0 {
            assert_redis_answers(server.addr);
        }
    }
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
    // Their outboxes passed the limit or the clients' budget (and were emptied then); the
    // connections end when their writes stall past --write-timeout.
    server.wait_fds_at_most(before + 1);
    publisher
        .write_all(&command(&[b"PUBLISH", b"news", b"anyone?"]))
        .unwrap();
    assert_eq!(reply_line(&mut publisher), ":0\r\n");
    assert_redis_answers(server.addr);
}

#[test]
fn trickled_commands_garbage_and_random_bytes() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--command-timeout", "1"]);
    // A command a byte at a time, slower than --command-timeout allows.
    let mut slow = connect(server.addr);
    for b in b"*2\r\n$4\r\nECHO" {
        if slow.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(read_to_close(&mut slow), "", "closed at --command-timeout");
    // Random bytes: protocol errors, or unknown commands; the server goes on.
    let mut rng = Rng(0x0bad_5eed_0bad_5eed);
    for i in 0..100 {
        said_then_closed(&server, &rng.bytes(64 + i * 101));
    }
    for (garbage, reply) in [
        (
            &b"*99999999999\r\n"[..],
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$999999999999\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"$-5\r\n",
            "-ERR unknown command '$-5', with args beginning with: \r\n",
        ),
        (b"\x16\x03\x01\x02\x00", ""), // no line end: an unfinished inline command
    ] {
        assert_eq!(said_then_closed(&server, garbage), reply);
    }
    assert_redis_answers(server.addr);
    server.assert_healthy(REDIS_RSS_LIMIT_MIB);
}
