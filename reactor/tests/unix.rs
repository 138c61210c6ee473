//! Unix domain sockets: stream and datagram round trips.

mod common;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use weft_executor::spawn;
use weft_reactor::net::{UnixDatagram, UnixListener, UnixStream};

#[test]
fn stream_echo_through_a_listener() {
    let path = common::socket_path("stream-echo");
    common::run(async {
        let listener = UnixListener::bind(&path).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        let server = spawn(async move {
            for _ in 0..10 {
                let (mut socket, _) = listener.accept().await.unwrap();
                drop(spawn(async move {
                    let (mut rd, mut wr) = (&socket, &socket);
                    futures_util::io::copy(&mut rd, &mut wr).await.unwrap();
                    socket.close().await.unwrap();
                }));
            }
        });
        let clients: Vec<_> = (0..10)
            .map(|i| {
                let path = path.clone();
                spawn(async move {
                    let mut stream = UnixStream::connect(&path).await.unwrap();
                    let msg = format!("unix client {i}");
                    stream.write_all(msg.as_bytes()).await.unwrap();
                    stream.close().await.unwrap(); // half-close: the echo still comes back
                    let mut back = String::new();
                    stream.read_to_string(&mut back).await.unwrap();
                    assert_eq!(back, msg);
                })
            })
            .collect();
        for c in clients {
            c.await.unwrap();
        }
        server.await.unwrap();
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn stream_pair() {
    common::run(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"over").await.unwrap();
        let mut buf = [0; 4];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"over");
        b.write_all(b"back").await.unwrap();
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
        drop(b);
        assert_eq!(a.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn connect_to_nothing_fails() {
    let path = common::socket_path("nothing");
    common::run(async {
        let err = UnixStream::connect(&path).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err:?}");
    });
}

#[test]
fn datagram_bound_and_unbound() {
    let server_path = common::socket_path("dgram-server");
    let client_path = common::socket_path("dgram-client");
    common::run(async {
        let server = UnixDatagram::bind(&server_path).unwrap();
        let client = UnixDatagram::bind(&client_path).unwrap();
        client.send_to(b"request", &server_path).await.unwrap();
        let mut buf = [0; 16];
        let (n, from) = server.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"request");
        assert_eq!(from.as_pathname(), Some(client_path.as_path()));
        server
            .send_to(b"reply", from.as_pathname().unwrap())
            .await
            .unwrap();
        let n = client.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"reply");

        let unbound = UnixDatagram::unbound().unwrap();
        unbound.connect(&server_path).unwrap();
        unbound.send(b"connected").await.unwrap();
        let n = server.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"connected");
    });
    std::fs::remove_file(&server_path).unwrap();
    std::fs::remove_file(&client_path).unwrap();
}

#[test]
fn datagram_pair() {
    common::run(async {
        let (a, b) = UnixDatagram::pair().unwrap();
        for i in 0..50u8 {
            a.send(&[i; 3]).await.unwrap();
            let mut buf = [0; 8];
            assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
            assert_eq!(buf[..3], [i; 3]);
        }
    });
}
