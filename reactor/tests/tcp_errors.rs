//! Errors surface as `io::Error`s, never as panics or hangs.

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use weft_executor::spawn;
use weft_reactor::net::{TcpListener, TcpStream};

#[test]
fn connect_to_a_closed_port_is_refused() {
    common::run(async {
        // A port that was just free: bind, note it, close.
        let addr = {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            listener.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err:?}");
    });
}

#[test]
fn peer_reset_during_a_write_is_an_error() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        // Far more than the socket buffers hold: the write has to wait for the peer.
        let big = vec![7u8; 64 << 20];
        let writer = spawn(async move { client.write_all(&big).await });
        // Let the writer fill the buffers and block.
        let mut first = [0; 1];
        (&server).read_exact(&mut first).await.unwrap();
        // SO_LINGER 0: closing sends a reset instead of a FIN.
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let err = writer
            .await
            .expect("the writer must not panic")
            .unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
            ),
            "{err:?}"
        );
    });
}

#[test]
fn reading_after_a_reset_is_an_error() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let reader = spawn(async move {
            let mut buf = [0; 8];
            client.read(&mut buf).await
        });
        server.set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let err = reader.await.unwrap().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err:?}");
    });
}

#[test]
fn names_resolve_off_the_runtime_thread() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        // "localhost" goes through the resolver (on a helper thread); it may yield ::1
        // first, which refuses, and connect moves on to 127.0.0.1.
        let stream = TcpStream::connect(("localhost", port)).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        let stream = TcpStream::connect(format!("localhost:{port}"))
            .await
            .unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
        let addrs: Vec<_> = weft_reactor::net::lookup_host(("localhost", port))
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()), "{addrs:?}");
        match weft_reactor::net::lookup_host("no port here").await {
            Ok(_) => panic!("an address without a port resolved"),
            Err(e) => assert_eq!(e.kind(), ErrorKind::InvalidInput),
        }
    });
}

#[test]
fn sockets_outside_a_runtime_report_an_error() {
    let err = weft_reactor::net::UnixStream::pair().unwrap_err();
    assert!(err.to_string().contains("no weft runtime"), "{err}");
}

#[test]
fn a_socket_that_outlived_its_runtime_reports_an_error() {
    let socket = common::run(async {
        weft_reactor::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .unwrap()
    });
    // Its runtime (and driver) is gone: waiting would never end, so it fails instead.
    let err = common::run(async {
        let mut buf = [0; 4];
        socket.recv(&mut buf).await
    })
    .unwrap_err();
    assert!(err.to_string().contains("shut down"), "{err}");
}
