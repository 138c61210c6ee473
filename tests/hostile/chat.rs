//! `chat` under attack.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;

const SERVER: &str = "chat";

#[test]
fn a_client_that_sends_commands_and_never_reads_is_bounded_and_dropped() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--write-timeout", "1"]);
    // A full room, with long names: each /who reply is about 800 bytes.
    let members: Vec<TcpStream> = (0..31)
        .map(|i| {
            let mut s = connect(server.addr);
            std::io::Read::read(&mut s, &mut [0u8; 256]).unwrap(); // welcomed: accepted
            s.write_all(format!("/nick member-with-a-long-name-{i:02}\n").as_bytes())
                .unwrap();
            s
        })
        .collect();
    let before = server.open_fds();
    // The attack: commands whose replies pile up while the client does not read.
    // 20,000 of them each, 16 MB of replies: more than the kernel buffers hold.
    let who = b"/who\n".repeat(20_000);
    let mut hogs: Vec<TcpStream> = (0..4).map(|_| connect_small(server.addr)).collect();
    for s in &mut hogs {
        write_until_blocked(s, &who, Duration::from_millis(200));
        assert_chat_answers(server.addr);
    }
    server.assert_healthy(RSS_LIMIT_MIB);
    server.wait_fds_at_most(before); // the server gave up on them
    drop(hogs);
    drop(members);
    assert_chat_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn a_flooded_room_with_members_who_never_read_stays_bounded() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--write-timeout", "1"]);
    let sleepers: Vec<TcpStream> = (0..50).map(|_| connect_small(server.addr)).collect();
    let line = [vec![b'y'; 4000], b"\n".to_vec()].concat().repeat(256);
    let mut talkers: Vec<TcpStream> = (0..8).map(|_| connect(server.addr)).collect();
    for _ in 0..4 {
        for s in &mut talkers {
            write_until_blocked(s, &line, Duration::from_millis(200));
        }
        assert_chat_answers(server.addr);
    }
    server.assert_healthy(RSS_LIMIT_MIB);
    drop(sleepers);
    assert_chat_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn endless_lines_garbage_and_resets_close_only_their_connection() {
    let _one = serial();
    let mut server = Server::start_undrained(SERVER, LOG_EVERYTHING);
    // A line that never ends: refused once it passes --max-line.
    let mut s = connect(server.addr);
    write_until_blocked(&mut s, &vec![b'z'; 16 << 20], Duration::from_millis(500));
    assert!(read_to_close(&mut s).contains("a line is at most 4096 bytes"));
    // Random bytes: not UTF-8, or too long, or a few odd lines; the connection ends or not,
    // the server goes on.
    let mut rng = Rng(0xfeed_beef_cafe_f00d);
    for i in 0..100 {
        let mut s = connect(server.addr);
        let _ = s.write_all(&rng.bytes(100 + i * 113));
        reset(s);
    }
    // Resets, each logged, with nobody reading the log.
    reset_storm(&server, b"half a line", || assert_chat_answers(server.addr));
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn at_the_connection_cap_accept_pauses_and_clients_inside_are_served() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--max-connections", "32"]);
    // A client inside the cap, then a flood past it.
    let mut inside = connect(server.addr);
    let flood: Vec<TcpStream> = (0..200).map(|_| connect(server.addr)).collect();
    let open = server.open_fds();
    assert!(
        open <= 32 + 16,
        "{open} descriptors open: the cap did not hold"
    );
    inside.write_all(b"/who\n").unwrap();
    let mut lines = String::new();
    while !lines.contains("*** here:") {
        let mut buf = [0u8; 4096];
        let n = std::io::Read::read(&mut inside, &mut buf).unwrap();
        assert!(n > 0, "closed");
        lines.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    // The flood leaves: accept resumes.
    drop(flood);
    assert_chat_answers(server.addr);
    server.assert_healthy(RSS_LIMIT_MIB);
}
