//! tokio's I/O traits on weft's sockets: every stream type and half implements tokio's
//! `AsyncRead` / `AsyncWrite`, and tokio's helpers (re-exported as `weft::io`) work over
//! real sockets on 127.0.0.1 and Unix socket pairs. futures-io's traits still work too.

use std::pin::Pin;

use weft::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, BufWriter,
    ReadBuf,
};
use weft::net::{tcp, unix, TcpListener, TcpStream, UnixStream};

fn is_tokio_io<T: AsyncRead + AsyncWrite + Unpin>() {}
fn is_tokio_read<T: AsyncRead + Unpin>() {}
fn is_tokio_write<T: AsyncWrite + Unpin>() {}
fn is_futures_io<T: weft::io::futures::AsyncRead + weft::io::futures::AsyncWrite + Unpin>() {}

#[test]
fn every_stream_type_and_half_implements_tokio_and_futures_io() {
    is_tokio_io::<TcpStream>();
    is_tokio_io::<&TcpStream>();
    is_tokio_io::<UnixStream>();
    is_tokio_io::<&UnixStream>();
    is_tokio_read::<tcp::ReadHalf<'static>>();
    is_tokio_read::<tcp::OwnedReadHalf>();
    is_tokio_read::<unix::ReadHalf<'static>>();
    is_tokio_read::<unix::OwnedReadHalf>();
    is_tokio_write::<tcp::WriteHalf<'static>>();
    is_tokio_write::<tcp::OwnedWriteHalf>();
    is_tokio_write::<unix::WriteHalf<'static>>();
    is_tokio_write::<unix::OwnedWriteHalf>();
    is_futures_io::<TcpStream>();
    is_futures_io::<UnixStream>();
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[weft::test]
async fn read_buf_fills_a_vec_without_zeroing_and_reports_eof() {
    let (mut client, mut server) = tcp_pair().await;
    client.write_all(b"hello, tokio traits").await.unwrap();
    client.shutdown().await.unwrap();
    let mut got = Vec::with_capacity(4);
    // read_buf grows nothing by itself: it reads into the spare capacity, so loop with
    // reserve as a codec does.
    loop {
        got.reserve(8);
        if server.read_buf(&mut got).await.unwrap() == 0 {
            break;
        }
    }
    assert_eq!(got, b"hello, tokio traits");
}

#[weft::test]
async fn poll_read_fills_only_the_unfilled_part_of_a_read_buf() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    a.write_all(b"abcdef").await.unwrap();
    let mut storage = [0u8; 10];
    storage[..2].copy_from_slice(b"xy");
    let mut buf = ReadBuf::new(&mut storage);
    buf.advance(2);
    let mut got = 0;
    while got < 6 {
        std::future::poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
            .await
            .unwrap();
        got = buf.filled().len() - 2;
    }
    assert_eq!(buf.filled(), b"xyabcdef");
    assert_eq!(buf.remaining(), 2);
}

#[weft::test]
async fn lines_through_a_buf_reader_over_tcp() {
    let (mut client, server) = tcp_pair().await;
    let writer = weft::spawn(async move {
        for i in 0..100 {
            client
                .write_all(format!("line {i}\n").as_bytes())
                .await
                .unwrap();
        }
        client.shutdown().await.unwrap();
    });
    let mut lines = BufReader::new(server).lines();
    let mut n = 0;
    while let Some(line) = lines.next_line().await.unwrap() {
        assert_eq!(line, format!("line {n}"));
        n += 1;
    }
    assert_eq!(n, 100);
    writer.await.unwrap();
}

#[weft::test]
async fn buf_writer_and_copy_echo_over_split_halves() {
    let (client, mut server) = tcp_pair().await;
    // The server echoes through tokio's copy over its borrowed halves.
    let echo = weft::spawn(async move {
        let (mut rd, mut wr) = server.split();
        let n = weft::io::copy(&mut rd, &mut wr).await.unwrap();
        wr.shutdown().await.unwrap();
        n
    });
    let (mut rd, wr) = client.into_split();
    let mut wr = BufWriter::new(wr);
    let payload: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let send = {
        let payload = payload.clone();
        weft::spawn(async move {
            wr.write_all(&payload).await.unwrap();
            wr.flush().await.unwrap();
            wr.shutdown().await.unwrap();
        })
    };
    let mut back = Vec::new();
    rd.read_to_end(&mut back).await.unwrap();
    send.await.unwrap();
    assert_eq!(echo.await.unwrap(), payload.len() as u64);
    assert_eq!(back, payload);
}

#[weft::test]
async fn tokio_split_and_join_over_a_unix_stream() {
    let (a, b) = UnixStream::pair().unwrap();
    let (mut a_rd, mut a_wr) = weft::io::split(a);
    let (b_rd, b_wr) = tokio_split_owned(b);
    let mut b = weft::io::join(b_rd, b_wr);
    a_wr.write_all(b"ping").await.unwrap();
    let mut buf = [0; 4];
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"ping");
    b.write_all(b"pong").await.unwrap();
    a_rd.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"pong");
}

fn tokio_split_owned(s: UnixStream) -> (unix::OwnedReadHalf, unix::OwnedWriteHalf) {
    s.into_split()
}

#[weft::test]
async fn unix_halves_reunite_and_the_owned_write_half_shuts_down_on_drop() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let (rd, wr) = a.into_split();
    let (other, _keep) = UnixStream::pair().unwrap();
    let (other_rd, other_wr) = other.into_split();
    let unix::ReuniteError(rd, other_wr) = rd.reunite(other_wr).unwrap_err();
    drop((other_rd, other_wr));
    let mut a = rd.reunite(wr).expect("same stream");
    a.write_all(b"x").await.unwrap();
    let (_rd, wr) = a.into_split();
    drop(wr);
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"x");
}

#[weft::test]
async fn duplex_copy_bidirectional_and_a_socket() {
    // tokio's in-memory duplex on one side, a TCP connection on the other, joined by
    // copy_bidirectional.
    let (client, server) = tcp_pair().await;
    let (mut near, far) = weft::io::duplex(64);
    let bridge = weft::spawn(async move {
        let mut far = far;
        let mut server = server;
        weft::io::copy_bidirectional(&mut far, &mut server).await
    });
    let mut client = client;
    near.write_all(b"through the duplex").await.unwrap();
    let mut buf = [0; 18];
    client.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"through the duplex");
    client.write_all(b"and back").await.unwrap();
    client.shutdown().await.unwrap();
    let mut back = Vec::new();
    near.shutdown().await.unwrap();
    near.read_to_end(&mut back).await.unwrap();
    assert_eq!(back, b"and back");
    let (up, down) = bridge.await.unwrap().unwrap();
    assert_eq!((up, down), (18, 8));
}

#[weft::test]
async fn shutdown_closes_only_the_write_side() {
    let (mut client, mut server) = tcp_pair().await;
    client.shutdown().await.unwrap();
    let mut buf = [0; 1];
    assert_eq!(server.read(&mut buf).await.unwrap(), 0);
    // The client can still read what the server sends.
    server.write_all(b"late").await.unwrap();
    let mut got = [0; 4];
    client.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"late");
    // Writing after the shutdown fails.
    assert!(client.write_all(b"more").await.is_err());
}

#[weft::test]
async fn vectored_writes_go_out_whole() {
    let (mut client, mut server) = tcp_pair().await;
    assert!(client.is_write_vectored());
    let bufs = [
        std::io::IoSlice::new(b"head "),
        std::io::IoSlice::new(b"body"),
    ];
    let n = client.write_vectored(&bufs).await.unwrap();
    assert_eq!(n, 9);
    let mut got = [0; 9];
    server.read_exact(&mut got).await.unwrap();
    assert_eq!(&got, b"head body");
}

#[weft::test]
async fn futures_io_still_works_through_weft_io_futures() {
    // Fully qualified: tokio's extension traits are in scope too, with the same names.
    use weft::io::futures::{AsyncReadExt as FutRead, AsyncWriteExt as FutWrite};
    let (mut client, mut server) = tcp_pair().await;
    FutWrite::write_all(&mut client, b"smol side")
        .await
        .unwrap();
    FutWrite::close(&mut client).await.unwrap();
    let mut got = String::new();
    FutRead::read_to_string(&mut server, &mut got)
        .await
        .unwrap();
    assert_eq!(got, "smol side");
}

#[weft::test]
async fn loops_on_empty_repeat_and_sink_yield_to_a_timeout() {
    use std::time::Duration;
    // Each operation is always ready; only the cooperative budget lets the timer run. The
    // real clock: a paused one advances only when the runtime is idle, which a busy loop
    // never lets it be.
    let mut buf = [0u8; 16];
    let r = weft::time::timeout(Duration::from_millis(5), async {
        let mut e = weft::io::empty();
        loop {
            assert_eq!(e.read(&mut buf).await.unwrap(), 0);
        }
    })
    .await;
    assert!(r.is_err());
    let r = weft::time::timeout(Duration::from_millis(5), async {
        let mut rep = weft::io::repeat(9);
        loop {
            rep.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [9; 16]);
        }
    })
    .await;
    assert!(r.is_err());
    let r = weft::time::timeout(Duration::from_millis(5), async {
        let mut s = weft::io::sink();
        loop {
            s.write_all(b"x").await.unwrap();
        }
    })
    .await;
    assert!(r.is_err());
}
