//! Linux abstract Unix socket names: a path that starts with a NUL byte (`"\0name"`) binds
//! and connects in the abstract namespace, as tokio's types do; no file is made.

#![cfg(target_os = "linux")]

use std::os::linux::net::SocketAddrExt;

use weft::io::{AsyncReadExt, AsyncWriteExt};
use weft::net::{UnixDatagram, UnixListener, UnixStream};

/// A name no other process (or test) uses.
fn name(tag: &str) -> String {
    format!("\0weft-test-{}-{tag}", std::process::id())
}

#[weft::test]
async fn a_stream_listener_and_client_meet_at_an_abstract_name() {
    let path = name("stream");
    let listener = UnixListener::bind(&path).unwrap();
    let local = listener.local_addr().unwrap();
    assert_eq!(local.as_abstract_name(), Some(&path.as_bytes()[1..]));
    assert!(local.as_pathname().is_none(), "no file in the file system");
    let mut client = UnixStream::connect(&path).await.unwrap();
    let (mut server, _) = listener.accept().await.unwrap();
    client.write_all(b"abstract").await.unwrap();
    let mut buf = [0; 8];
    server.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"abstract");
    assert_eq!(
        client.peer_addr().unwrap().as_abstract_name(),
        Some(&path.as_bytes()[1..])
    );
    // The name is taken while the listener lives.
    assert!(UnixListener::bind(&path).is_err());
}

#[weft::test]
async fn connecting_to_an_unused_abstract_name_is_refused() {
    let err = UnixStream::connect(name("nobody")).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[weft::test]
async fn datagrams_between_abstract_names() {
    let (a_path, b_path) = (name("dgram-a"), name("dgram-b"));
    let a = UnixDatagram::bind(&a_path).unwrap();
    let b = UnixDatagram::bind(&b_path).unwrap();
    a.send_to(b"to b", &b_path).await.unwrap();
    let mut v = Vec::with_capacity(16);
    let (n, from) = b.recv_buf_from(&mut v).await.unwrap();
    assert_eq!((n, &v[..]), (4, &b"to b"[..]));
    assert_eq!(from.as_abstract_name(), Some(&a_path.as_bytes()[1..]));
    b.connect(&a_path).unwrap();
    b.send(b"back").await.unwrap();
    let mut buf = [0; 4];
    let (n, from) = a.recv_from(&mut buf).await.unwrap();
    assert_eq!((n, &buf), (4, b"back"));
    assert_eq!(from.as_abstract_name(), Some(&b_path.as_bytes()[1..]));
    b.try_send_to(b"x", &a_path).unwrap();
    a.readable().await.unwrap();
    let (n, _) = a.try_recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"x");
}

#[weft::test]
async fn a_path_name_still_works_and_a_nul_inside_a_path_is_refused() {
    let path = std::env::temp_dir().join(format!("weft-abstract-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path).unwrap();
    let _client = UnixStream::connect(&path).await.unwrap();
    assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(&*path));
    std::fs::remove_file(&path).unwrap();
    assert!(UnixStream::connect("/tmp/a\0b").await.is_err());
}
