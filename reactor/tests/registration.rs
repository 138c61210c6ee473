//! Registration: readiness per direction, no spurious wake-ups, no lost ones, the
//! cooperative budget, and deregistration on drop.

mod common;

use std::cell::Cell;
use std::fmt::Debug;
use std::rc::Rc;

use futures_util::{AsyncReadExt, AsyncWriteExt, StreamExt};
use weft_executor::{spawn, yield_now};
use weft_reactor::net::tcp::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use weft_reactor::net::{
    TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream,
};

use common::CountPolls;

async fn connected_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

#[test]
fn types_are_debug_and_streams_are_unpin() {
    fn debug<T: Debug>() {}
    fn unpin_debug<T: Unpin + Debug>() {}
    unpin_debug::<TcpStream>();
    unpin_debug::<OwnedReadHalf>();
    unpin_debug::<OwnedWriteHalf>();
    unpin_debug::<ReadHalf<'static>>();
    unpin_debug::<WriteHalf<'static>>();
    unpin_debug::<UnixStream>();
    debug::<TcpListener>();
    debug::<UdpSocket>();
    debug::<UnixListener>();
    debug::<UnixDatagram>();
    debug::<weft_reactor::signal::unix::Signal>();
    common::run(async {
        let (client, _server) = connected_pair().await;
        let text = format!("{client:?}");
        assert!(text.contains("TcpStream"), "{text}");
    });
}

#[test]
fn an_idle_reader_is_not_polled_by_others_events() {
    common::run(async {
        let (mut quiet_client, mut quiet_server) = connected_pair().await;
        let (mut busy_client, mut busy_server) = connected_pair().await;
        let (reader, polls) = CountPolls::new(async move {
            let mut buf = [0; 4];
            quiet_server.read_exact(&mut buf).await.unwrap();
            buf
        });
        let reader = spawn(reader);
        yield_now().await;
        assert_eq!(polls.get(), 1, "polled once, then parked");
        // Plenty of I/O on another connection: many events, none for the reader.
        for i in 0..200u32 {
            busy_client.write_all(&i.to_be_bytes()).await.unwrap();
            let mut buf = [0; 4];
            busy_server.read_exact(&mut buf).await.unwrap();
        }
        assert_eq!(polls.get(), 1, "no spurious wake-up, no busy loop");
        quiet_client.write_all(b"wake").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"wake");
        assert_eq!(polls.get(), 2, "woken exactly once by its data");
    });
}

#[test]
fn reader_and_writer_of_one_stream_are_woken_separately() {
    common::run(async {
        let (client, server) = connected_pair().await;
        let client = Rc::new(client);
        // The writer blocks once the socket buffers are full.
        let (writer, writer_polls) = CountPolls::new({
            let client = client.clone();
            async move {
                let chunk = vec![1u8; 1 << 16];
                let mut sent = 0usize;
                while sent < 32 << 20 {
                    sent += (&*client).write(&chunk).await.unwrap();
                }
                sent
            }
        });
        let (reader, reader_polls) = CountPolls::new({
            let client = client.clone();
            async move {
                let mut buf = [0; 5];
                (&*client).read_exact(&mut buf).await.unwrap();
                buf
            }
        });
        let writer = spawn(writer);
        let reader = spawn(reader);
        // Run until both are parked (the writer's loop may take several polls to fill the
        // buffers, because of the cooperative budget).
        let mut last = (0, 0);
        loop {
            yield_now().await;
            let now = (writer_polls.get(), reader_polls.get());
            if now == last {
                break;
            }
            last = now;
        }
        // Data for the reader: only the reader wakes.
        (&server).write_all(b"hello").await.unwrap();
        assert_eq!(&reader.await.unwrap(), b"hello");
        assert_eq!(
            writer_polls.get(),
            last.0,
            "the writer was not woken by readable data"
        );
        // Draining the writer's data wakes the writer.
        let mut total = 0usize;
        let mut buf = vec![0; 1 << 16];
        while total < 32 << 20 {
            total += (&server).read(&mut buf).await.unwrap();
        }
        // The writer's last chunk may cross 32 MiB: read the rest of what it sent.
        let sent = writer.await.unwrap();
        while total < sent {
            total += (&server).read(&mut buf).await.unwrap();
        }
        assert_eq!(sent, total);
    });
}

#[test]
fn several_tasks_accept_on_one_listener() {
    common::run(async {
        let listener = Rc::new(TcpListener::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let acceptors: Vec<_> = (0..4)
            .map(|_| {
                let listener = listener.clone();
                spawn(async move { listener.accept().await.unwrap().1 })
            })
            .collect();
        yield_now().await; // all four wait in accept
        let mut clients = Vec::new();
        for _ in 0..4 {
            clients.push(TcpStream::connect(addr).await.unwrap());
        }
        let mut peers: Vec<_> = Vec::new();
        for a in acceptors {
            peers.push(a.await.unwrap());
        }
        let mut locals: Vec<_> = clients.iter().map(|c| c.local_addr().unwrap()).collect();
        peers.sort();
        locals.sort();
        assert_eq!(peers, locals, "every connection was accepted exactly once");
    });
}

#[test]
fn incoming_yields_connections() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..3)
            .map(|_| spawn(async move { TcpStream::connect(addr).await.unwrap() }))
            .collect();
        let mut incoming = listener.incoming();
        for _ in 0..3 {
            let stream = incoming.next().await.unwrap().unwrap();
            assert_eq!(stream.local_addr().unwrap(), addr);
        }
        for c in clients {
            c.await.unwrap();
        }
    });
}

#[test]
fn a_busy_reader_yields_to_other_tasks() {
    const TOTAL: usize = 20_000;
    common::run(async {
        let (mut client, server) = connected_pair().await;
        client.write_all(&vec![0u8; TOTAL]).await.unwrap();
        let progress = Rc::new(Cell::new(0usize));
        let seen_by_other = Rc::new(Cell::new(None));
        let reader = {
            let progress = progress.clone();
            spawn(async move {
                let mut byte = [0; 1];
                // The data is all there: without the budget this loop never yields.
                while progress.get() < TOTAL {
                    (&server).read_exact(&mut byte).await.unwrap();
                    progress.set(progress.get() + 1);
                }
            })
        };
        let other = {
            let (progress, seen) = (progress.clone(), seen_by_other.clone());
            spawn(async move { seen.set(Some(progress.get())) })
        };
        other.await.unwrap();
        reader.await.unwrap();
        let seen = seen_by_other.get().unwrap();
        assert!(
            seen < TOTAL,
            "the other task ran only after the reader finished"
        );
    });
}

#[test]
fn try_read_and_readable() {
    common::run(async {
        let (client, server) = connected_pair().await;
        let mut buf = [0; 8];
        // Nothing there: WouldBlock (and the readiness is cleared).
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        let waiter = {
            let (w, polls) = CountPolls::new(async move {
                server.readable().await.unwrap();
                let n = server.try_read(&mut buf).unwrap();
                buf[..n].to_vec()
            });
            (spawn(w), polls)
        };
        yield_now().await;
        assert_eq!(waiter.1.get(), 1);
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"data").unwrap(), 4);
        assert_eq!(waiter.0.await.unwrap(), b"data");
    });
}
