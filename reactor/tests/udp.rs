//! UDP round trips.

mod common;

use std::rc::Rc;

use weft_executor::spawn;
use weft_reactor::net::UdpSocket;

#[test]
fn send_to_and_recv_from() {
    common::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        for i in 0..100u32 {
            a.send_to(&i.to_be_bytes(), b_addr).await.unwrap();
            let mut buf = [0; 8];
            let (n, from) = b.recv_from(&mut buf).await.unwrap();
            assert_eq!((n, from), (4, a_addr));
            assert_eq!(u32::from_be_bytes(buf[..4].try_into().unwrap()), i);
            b.send_to(&buf[..n], from).await.unwrap();
            let (n, from) = a.recv_from(&mut buf).await.unwrap();
            assert_eq!((n, from), (4, b_addr));
        }
    });
}

#[test]
fn connected_send_and_recv() {
    common::run(async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        a.send(b"ping").await.unwrap();
        let mut buf = [0; 4];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf, b"ping");
        b.send(b"pong").await.unwrap();
        assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf, b"pong");
        // try_recv on an empty queue: WouldBlock, not a wait.
        assert_eq!(
            a.try_recv(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn a_receiver_task_and_a_sender_task_share_one_socket() {
    common::run(async {
        let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let peer = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let peer_addr = peer.local_addr().unwrap();
        let receiver = {
            let socket = socket.clone();
            spawn(async move {
                let mut total = 0;
                let mut buf = [0; 16];
                for _ in 0..10 {
                    total += socket.recv_from(&mut buf).await.unwrap().0;
                }
                total
            })
        };
        let sender = {
            let socket = socket.clone();
            spawn(async move {
                for _ in 0..10 {
                    socket.send_to(b"x", peer_addr).await.unwrap();
                }
            })
        };
        let mut buf = [0; 16];
        for _ in 0..10 {
            let (n, from) = peer.recv_from(&mut buf).await.unwrap();
            peer.send_to(&buf[..n], from).await.unwrap();
        }
        sender.await.unwrap();
        assert_eq!(receiver.await.unwrap(), 10);
    });
}

#[test]
fn several_tasks_await_recv_at_once_and_all_are_served() {
    common::run(async {
        let socket = Rc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = socket.local_addr().unwrap();
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let socket = socket.clone();
                spawn(async move {
                    let mut buf = [0; 4];
                    socket.recv(&mut buf).await.unwrap()
                })
            })
            .collect();
        weft_executor::yield_now().await; // every waiter is now parked in recv
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for _ in 0..4 {
            sender.send_to(b"abc", addr).await.unwrap();
        }
        for w in waiters {
            assert_eq!(w.await.unwrap(), 3);
        }
    });
}
