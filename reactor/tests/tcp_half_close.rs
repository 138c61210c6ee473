//! Half-close: shutting down one direction leaves the other working.

mod common;

use std::net::Shutdown;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use weft_executor::spawn;
use weft_reactor::net::{TcpListener, TcpStream};

/// The server reads the request until end-of-file, then answers on the same connection.
async fn answer_after_eof(listener: TcpListener) -> std::io::Result<Vec<u8>> {
    let (mut socket, _) = listener.accept().await?;
    let mut request = Vec::new();
    socket.read_to_end(&mut request).await?;
    socket.write_all(b"got ").await?;
    socket.write_all(&request).await?;
    socket.close().await?;
    Ok(request)
}

#[test]
fn shutdown_write_then_read_the_answer() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(answer_after_eof(listener));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"question").await.unwrap();
        client.shutdown_std(Shutdown::Write).unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.unwrap();
        assert_eq!(answer, "got question");
        assert_eq!(server.await.unwrap().unwrap(), b"question");
        // Writing after shutting down the write side fails.
        assert!(client.write_all(b"more").await.is_err());
    });
}

#[test]
fn async_write_close_shuts_down_only_the_write_side() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(answer_after_eof(listener));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"ping").await.unwrap();
        client.close().await.unwrap(); // futures-io's poll_close
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"got ping");
        server.await.unwrap().unwrap();
    });
}

#[test]
fn owned_halves_close_and_drop_shut_down_the_write_side() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(answer_after_eof(listener));
        let client = TcpStream::connect(addr).await.unwrap();
        let (mut rd, mut wr) = client.into_split();
        let writer = spawn(async move {
            wr.write_all(b"from a half").await.unwrap();
            // Dropping the owned write half shuts down the write side.
        });
        let mut answer = Vec::new();
        rd.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"got from a half");
        writer.await.unwrap();
        server.await.unwrap().unwrap();
    });
}

#[test]
fn reunite_gives_the_stream_back_and_refuses_strangers() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let a = TcpStream::connect(addr).await.unwrap();
        let b = TcpStream::connect(addr).await.unwrap();
        let (ar, aw) = a.into_split();
        let (br, bw) = b.into_split();
        let err = ar.reunite(bw).unwrap_err();
        assert!(err.to_string().contains("not from the same socket"));
        let (ar, bw) = (err.0, err.1);
        let a = ar.reunite(aw).unwrap();
        let b = bw.reunite(br).unwrap();
        let (mut server_a, _) = listener.accept().await.unwrap();
        // Reuniting did not shut down the write side.
        (&a).write_all(b"still open").await.unwrap();
        let mut buf = [0; 10];
        server_a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"still open");
        drop(b);
    });
}

#[test]
fn peer_close_reads_as_end_of_file() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let reader = spawn(async move {
            let mut buf = [0; 16];
            client.read(&mut buf).await
        });
        drop(server);
        assert_eq!(reader.await.unwrap().unwrap(), 0);
    });
}
