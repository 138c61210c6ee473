//! `echo` under attack.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::*;

const SERVER: &str = "echo";

/// A client gets its bytes back within the bar.
fn assert_echo_answers(server: &Server) {
    assert_answered(
        "echo",
        |s| {
            s.write_all(b"ping\n")?;
            let mut got = [0u8; 5];
            s.read_exact(&mut got)?;
            Ok(&got == b"ping\n")
        },
        server.addr,
    );
}

#[test]
fn resets_with_a_stderr_nobody_reads_do_not_stop_the_server() {
    let _one = serial();
    let mut server = Server::start_undrained(SERVER, LOG_EVERYTHING);
    reset_storm(&server, b"some bytes to echo", || {
        assert_echo_answers(&server)
    });
    server.assert_healthy(RSS_LIMIT_MIB);
}

#[test]
fn a_client_that_never_reads_is_bounded_and_dropped() {
    let _one = serial();
    let mut server = Server::start(SERVER, &["--write-timeout", "1"]);
    let before = server.open_fds();
    let data = vec![b'x'; 32 << 20];
    let mut hogs: Vec<TcpStream> = (0..4).map(|_| connect_small(server.addr)).collect();
    for s in &mut hogs {
        write_until_blocked(s, &data, Duration::from_millis(200));
        assert_echo_answers(&server);
    }
    server.assert_healthy(RSS_LIMIT_MIB);
    server.wait_fds_at_most(before); // the server gave up on them
    drop(hogs);
    assert_echo_answers(&server);
    server.assert_healthy(RSS_LIMIT_MIB);
}
