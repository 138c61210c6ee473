//! Short reads clear readiness (saving a `WouldBlock` system call), and must never lose an
//! end-of-file or data that arrives later.
mod common;

use std::io::Write;

use futures_util::io::{AsyncReadExt, AsyncWriteExt};
use weft_reactor::net::{TcpListener, TcpStream};

#[test]
fn eof_right_after_data_is_seen_after_a_short_read() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        for _ in 0..20 {
            let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
            let client = std::thread::spawn(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                go_rx.recv().unwrap();
                // Write and close at once: data and FIN arrive as one edge.
                s.write_all(b"hello").unwrap();
            });
            let (mut s, _) = listener.accept().await.unwrap();
            // Let the driver take the registration's first edge, then the data+FIN edge,
            // before the first read (a timer makes the runtime park in its driver).
            weft_timer::sleep(std::time::Duration::from_millis(1)).await;
            go_tx.send(()).unwrap();
            client.join().unwrap();
            weft_timer::sleep(std::time::Duration::from_millis(1)).await;
            let mut buf = [0u8; 1024];
            let mut got = Vec::new();
            loop {
                let n = s.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"hello");
        }
    });
}

#[test]
fn data_arriving_after_a_short_read_wakes_the_reader() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut client = TcpStream::connect(addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let mut buf = [0u8; 64];
        for i in 0..200u32 {
            let msg = i.to_be_bytes();
            client.write_all(&msg).await.unwrap();
            let n = server.read(&mut buf).await.unwrap(); // short: 4 of 64
            assert_eq!(&buf[..n], &msg);
            // The second message must wake the reader although readiness was cleared.
            client.write_all(&msg).await.unwrap();
            server.read_exact(&mut buf[..4]).await.unwrap();
            assert_eq!(&buf[..4], &msg);
        }
    });
}
