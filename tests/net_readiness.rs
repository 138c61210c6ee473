//! tokio's readiness API on weft's sockets (`ready`, `readable`/`writable`,
//! `poll_*_ready`, `try_io`/`async_io`), the `try_*` operations into `BufMut`s and vectors,
//! and UDP's `recv_buf`, `peek_sender` and multicast options. All on 127.0.0.1 or socket
//! pairs; every wait is for an event the test itself causes.

use std::io::{ErrorKind, IoSlice, IoSliceMut};
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::task::Poll;

use weft::io::{AsyncReadExt, AsyncWriteExt, Interest, ReadBuf, Ready};
use weft::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixStream};

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Reads with `try_read` until `n` bytes came, waiting with `readable` in between.
async fn try_read_exactly(s: &TcpStream, n: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < n {
        s.readable().await.unwrap();
        let mut buf = [0; 64];
        match s.try_read(&mut buf) {
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    got
}

#[weft::test]
async fn ready_reports_what_the_driver_saw() {
    let (client, server) = tcp_pair().await;
    let r = client
        .ready(Interest::READABLE | Interest::WRITABLE)
        .await
        .unwrap();
    assert!(r.is_writable());
    // Nothing to read yet: the first try_read clears the (optimistic) read readiness.
    let mut buf = [0; 8];
    assert_eq!(
        server.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    client.try_write(b"abc").unwrap();
    let r = server.ready(Interest::READABLE).await.unwrap();
    assert!(r.is_readable() && !r.is_writable(), "{r:?}");
    assert_eq!(try_read_exactly(&server, 3).await, b"abc");
    // A hang-up is reported as read-closed, and a read then returns end-of-file.
    drop(client);
    let r = loop {
        let r = server.ready(Interest::READABLE).await.unwrap();
        if r.is_read_closed() {
            break r;
        }
        // The readiness left by the bytes read above: stale until the hang-up's event is
        // dispatched (a read meanwhile returns 0 or WouldBlock). A wait for readiness spends
        // no budget (as tokio's), so a loop that finds it ready yields to let the driver run.
        let _ = server.try_read(&mut buf);
        weft::task::yield_now().await;
    };
    assert!(r.is_readable());
    assert_eq!(server.try_read(&mut buf).unwrap(), 0);
}

#[weft::test]
async fn every_task_waiting_for_readiness_is_woken() {
    let (client, server) = tcp_pair().await;
    let server = Rc::new(server);
    let mut buf = [0; 8];
    assert!(server.try_read(&mut buf).is_err()); // clears the read readiness
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let s = server.clone();
            weft::spawn(async move { s.ready(Interest::READABLE).await.unwrap() })
        })
        .collect();
    weft::yield_now().await;
    assert!(waiters.iter().all(|w| !w.is_finished()));
    client.try_write(b"x").unwrap();
    for w in waiters {
        assert!(w.await.unwrap().is_readable());
    }
}

#[weft::test]
async fn poll_read_ready_and_poll_write_ready() {
    let (client, server) = tcp_pair().await;
    std::future::poll_fn(|cx| client.poll_write_ready(cx))
        .await
        .unwrap();
    let mut buf = [0; 8];
    assert!(server.try_read(&mut buf).is_err());
    let pending = std::future::poll_fn(|cx| match server.poll_read_ready(cx) {
        Poll::Pending => Poll::Ready(true),
        Poll::Ready(_) => Poll::Ready(false),
    })
    .await;
    assert!(pending, "nothing was sent yet");
    client.try_write(b"ok").unwrap();
    std::future::poll_fn(|cx| server.poll_read_ready(cx))
        .await
        .unwrap();
    assert_eq!(try_read_exactly(&server, 2).await, b"ok");
}

#[weft::test]
async fn try_read_buf_and_vectored_try_operations() {
    let (client, server) = tcp_pair().await;
    client.writable().await.unwrap();
    let n = client
        .try_write_vectored(&[IoSlice::new(b"one "), IoSlice::new(b"two")])
        .unwrap();
    assert_eq!(n, 7);
    let mut first = [0u8; 4];
    let mut second = [0u8; 3];
    let mut got = 0;
    while got < 7 {
        server.readable().await.unwrap();
        let mut bufs = [IoSliceMut::new(&mut first), IoSliceMut::new(&mut second)];
        match server.try_read_vectored(&mut bufs) {
            Ok(k) => {
                assert_eq!(k, 7, "a loopback segment of 7 bytes arrives whole");
                got = k;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((&first, &second), (b"one ", b"two"));

    client.try_write(b"into a vec").unwrap();
    let mut v = Vec::new(); // no capacity: try_read_buf grows it
    while v.len() < 10 {
        server.readable().await.unwrap();
        match server.try_read_buf(&mut v) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(v, b"into a vec");
}

#[weft::test]
async fn halves_have_the_readiness_and_try_methods() {
    let (client, mut server) = tcp_pair().await;
    let (rd, wr) = client.into_split();
    wr.writable().await.unwrap();
    wr.try_write(b"half").unwrap();
    let (srd, mut swr) = server.split();
    let r = srd.ready(Interest::READABLE).await.unwrap();
    assert!(r.is_readable());
    let mut v = Vec::with_capacity(8);
    while v.len() < 4 {
        srd.readable().await.unwrap();
        let _ = srd.try_read_buf(&mut v);
    }
    assert_eq!(v, b"half");
    swr.write_all(b"back").await.unwrap();
    let mut buf = [0; 4];
    let mut rd = rd;
    let mut peeked = [0; 4];
    let n = rd.peek(&mut peeked).await.unwrap();
    assert!(n > 0 && peeked[..n] == b"back"[..n]);
    rd.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"back");
}

#[weft::test]
async fn poll_peek_leaves_the_data_queued() {
    let (mut client, server) = tcp_pair().await;
    client.write_all(b"peek").await.unwrap();
    let mut storage = [0u8; 4];
    let mut buf = ReadBuf::new(&mut storage);
    let n = std::future::poll_fn(|cx| server.poll_peek(cx, &mut buf))
        .await
        .unwrap();
    assert_eq!(buf.filled(), &b"peek"[..n]);
    assert_eq!(try_read_exactly(&server, 4).await, b"peek");
}

/// `recv(2)` on a raw descriptor, for `try_io` / `async_io` callers' own operations.
fn raw_recv(fd: i32, buf: &mut [u8]) -> std::io::Result<usize> {
    // SAFETY: `buf` is a valid, writable buffer of `buf.len()` bytes for the whole call, and
    // `fd` is a socket owned by the caller's stream, open for the call's duration.
    let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[weft::test]
async fn try_io_and_async_io_run_the_callers_operation() {
    let (a, b) = UnixStream::pair().unwrap();
    let fd = b.as_raw_fd();
    let mut buf = [0; 16];
    // Optimistically ready at first; the kernel says WouldBlock, which clears it...
    let r = b.try_io(Interest::READABLE, || raw_recv(fd, &mut buf));
    assert_eq!(r.unwrap_err().kind(), ErrorKind::WouldBlock);
    // ...so the next try_io does not even call the operation.
    let mut called = false;
    let r = b.try_io(Interest::READABLE, || {
        called = true;
        Ok(())
    });
    assert_eq!(r.unwrap_err().kind(), ErrorKind::WouldBlock);
    assert!(!called);
    let sender = weft::spawn(async move {
        weft::yield_now().await;
        let mut a = a;
        a.write_all(b"raw bytes").await.unwrap();
        a
    });
    let n = b
        .async_io(Interest::READABLE, || raw_recv(fd, &mut buf))
        .await
        .unwrap();
    assert_eq!(&buf[..n], b"raw bytes");
    drop(sender.await.unwrap());
}

#[weft::test]
async fn interest_and_ready_are_tokios() {
    let i = Interest::READABLE | Interest::ERROR;
    assert!(i.is_readable() && i.is_error() && !i.is_writable());
    assert_eq!(i.remove(Interest::ERROR), Some(Interest::READABLE));
    let all = Ready::READABLE | Ready::WRITABLE | Ready::READ_CLOSED;
    assert!(all.is_read_closed() && !all.is_write_closed());
    assert!(Ready::EMPTY.is_empty());
    assert_eq!(Ready::ALL - Ready::ALL, Ready::EMPTY);
}

#[weft::test]
async fn udp_recv_buf_peek_and_peek_sender() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.send_to(b"first", b_addr).await.unwrap();
    assert_eq!(b.peek_sender().await.unwrap(), a_addr);
    assert_eq!(b.try_peek_sender().unwrap(), a_addr);
    let mut peeked = [0; 5];
    assert_eq!(b.try_peek_from(&mut peeked).unwrap(), (5, a_addr));
    let mut v = Vec::with_capacity(32);
    assert_eq!(b.recv_buf_from(&mut v).await.unwrap(), (5, a_addr));
    assert_eq!(v, b"first");
    assert_eq!(
        b.try_recv_buf_from(&mut v).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );

    b.connect(a_addr).await.unwrap();
    a.send_to(b"second", b_addr).await.unwrap();
    let mut p = [0; 6];
    assert_eq!(b.peek(&mut p).await.unwrap(), 6);
    let mut v = Vec::with_capacity(32);
    assert_eq!(b.recv_buf(&mut v).await.unwrap(), 6);
    assert_eq!(v, b"second");
    a.send_to(b"third", b_addr).await.unwrap();
    b.readable().await.unwrap();
    let mut v = Vec::new();
    loop {
        match b.try_recv_buf(&mut v) {
            Ok(n) => break assert_eq!((n, &v[..]), (5, &b"third"[..])),
            Err(e) if e.kind() == ErrorKind::WouldBlock => b.readable().await.unwrap(),
            Err(e) => panic!("{e}"),
        }
    }
}

#[weft::test]
async fn udp_poll_recv_and_poll_recv_from_take_a_read_buf() {
    let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    a.send(b"one").await.unwrap();
    a.send(b"two").await.unwrap();
    let mut storage = [0u8; 8];
    let mut buf = ReadBuf::new(&mut storage);
    std::future::poll_fn(|cx| b.poll_recv(cx, &mut buf))
        .await
        .unwrap();
    assert_eq!(buf.filled(), b"one");
    let mut storage = [0u8; 8];
    let mut buf = ReadBuf::new(&mut storage);
    let from = std::future::poll_fn(|cx| b.poll_recv_from(cx, &mut buf))
        .await
        .unwrap();
    assert_eq!((buf.filled(), from), (&b"two"[..], a.local_addr().unwrap()));
    std::future::poll_fn(|cx| a.poll_send_ready(cx))
        .await
        .unwrap();
    a.send(b"3").await.unwrap();
    std::future::poll_fn(|cx| b.poll_recv_ready(cx))
        .await
        .unwrap();
}

#[weft::test]
async fn udp_multicast_options() {
    let s = UdpSocket::bind("0.0.0.0:0").await.unwrap();
    s.set_multicast_loop_v4(false).unwrap();
    assert!(!s.multicast_loop_v4().unwrap());
    s.set_multicast_loop_v4(true).unwrap();
    assert!(s.multicast_loop_v4().unwrap());
    s.set_multicast_ttl_v4(7).unwrap();
    assert_eq!(s.multicast_ttl_v4().unwrap(), 7);
    // Joining on the loopback interface sends nothing off this host. Leaving twice fails
    // the second time, which shows the first join took effect.
    let group = Ipv4Addr::new(239, 255, 77, 1);
    s.join_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
    s.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).unwrap();
    assert!(s.leave_multicast_v4(group, Ipv4Addr::LOCALHOST).is_err());

    let v6 = UdpSocket::bind("[::1]:0").await.unwrap();
    v6.set_multicast_loop_v6(false).unwrap();
    assert!(!v6.multicast_loop_v6().unwrap());
    v6.set_multicast_loop_v6(true).unwrap();
    assert!(v6.multicast_loop_v6().unwrap());
}

#[weft::test]
async fn unix_datagram_recv_buf_and_readiness() {
    let (a, b) = UnixDatagram::pair().unwrap();
    a.writable().await.unwrap();
    a.send(b"dgram").await.unwrap();
    let r = b.ready(Interest::READABLE).await.unwrap();
    assert!(r.is_readable());
    let mut v = Vec::new();
    assert_eq!(b.recv_buf(&mut v).await.unwrap(), 5);
    assert_eq!(v, b"dgram");
    assert_eq!(
        b.try_recv_buf(&mut v).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    a.send(b"more").await.unwrap();
    let (n, from) = b.recv_buf_from(&mut v).await.unwrap();
    assert_eq!(n, 4);
    assert!(from.is_unnamed(), "{from:?}");
    assert_eq!(v, b"dgrammore");
}
