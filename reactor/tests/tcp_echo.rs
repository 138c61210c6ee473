//! Echo round trips over many concurrent connections, and over several runtimes at once.

mod common;

use futures_util::{AsyncReadExt, AsyncWriteExt};
use weft_executor::spawn;
use weft_reactor::net::{TcpListener, TcpStream};

/// Connections wanted. Each takes two descriptors in this process (client and server ends).
const WANTED: usize = 1000;

/// How many connections fit under the soft `RLIMIT_NOFILE` (we raise nothing): two
/// descriptors each, plus headroom for the test harness, the driver and the listener.
fn connections() -> usize {
    let limit = common::nofile_limit();
    let fit = (limit.saturating_sub(64) / 2) as usize;
    if fit < WANTED {
        eprintln!("RLIMIT_NOFILE is {limit}: testing {fit} connections instead of {WANTED}");
    }
    WANTED.min(fit)
}

async fn echo_server(listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (socket, _) = listener.accept().await?;
        // Detached: each echo task ends when its client closes.
        drop(spawn(async move {
            let mut socket = socket;
            // Not `socket.split()`: with `AsyncReadExt` in scope that is futures' split.
            let (mut rd, mut wr) = TcpStream::split(&mut socket);
            futures_util::io::copy(&mut rd, &mut wr).await
        }));
    }
}

async fn client(addr: std::net::SocketAddr, i: usize) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    let msg = format!("hello from client {i:04}, ").repeat(8);
    stream.write_all(msg.as_bytes()).await?;
    let mut back = vec![0; msg.len()];
    stream.read_exact(&mut back).await?;
    assert_eq!(back, msg.as_bytes());
    // A second round trip on the same connection.
    stream.write_all(b"bye").await?;
    let mut bye = [0; 3];
    stream.read_exact(&mut bye).await?;
    assert_eq!(&bye, b"bye");
    stream.close().await?;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await?;
    assert!(
        rest.is_empty(),
        "the server closes after echoing everything"
    );
    Ok(())
}

#[test]
fn echo_many_concurrent_connections() {
    let n = connections();
    common::run(async move {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(echo_server(listener));
        let clients: Vec<_> = (0..n).map(|i| spawn(client(addr, i))).collect();
        for c in clients {
            c.await.unwrap().unwrap();
        }
        server.cancel();
    });
}

#[test]
fn runtimes_on_several_threads_do_not_see_each_other() {
    let threads: Vec<_> = (0..3)
        .map(|t| {
            std::thread::spawn(move || {
                common::run(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    let addr = listener.local_addr().unwrap();
                    let server = spawn(echo_server(listener));
                    let clients: Vec<_> =
                        (0..50).map(|i| spawn(client(addr, t * 100 + i))).collect();
                    for c in clients {
                        c.await.unwrap().unwrap();
                    }
                    server.cancel();
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn vectored_write_and_nodelay() {
    common::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, peer) = listener.accept().await.unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(client.peer_addr().unwrap(), server.local_addr().unwrap());
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        let bufs = [
            std::io::IoSlice::new(b"one "),
            std::io::IoSlice::new(b"two "),
            std::io::IoSlice::new(b"three"),
        ];
        let n = client.write_vectored(&bufs).await.unwrap();
        assert_eq!(n, 13, "a loopback socket takes 13 bytes in one writev");
        let mut got = [0; 13];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"one two three");
        // Vectored read too.
        server.write_all(b"abcdef").await.unwrap();
        let (mut a, mut b) = ([0; 2], [0; 4]);
        let mut bufs = [
            std::io::IoSliceMut::new(&mut a),
            std::io::IoSliceMut::new(&mut b),
        ];
        // Loopback delivers the 6 bytes at once, so one readv fills both buffers.
        let read = client.read_vectored(&mut bufs).await.unwrap();
        assert_eq!(read, 6);
        assert_eq!((&a, &b), (b"ab", b"cdef"));
    });
}
