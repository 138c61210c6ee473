//! Auto traits, checked at compile time: every handle and guard is `Send + Sync` when its
//! `T` allows, and the futures are `Send` so they can be spawned on multi-thread executors.

#![allow(dead_code, clippy::extra_unused_type_parameters)]

use weft_channel::*;

fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}
fn send_val<T: Send>(_: &T) {}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<mpsc::Sender<u8>>();
    send_sync::<mpsc::Receiver<u8>>();
    send_sync::<mpsc::UnboundedSender<u8>>();
    send_sync::<mpsc::UnboundedReceiver<u8>>();
    send_sync::<mpsc::WeakSender<u8>>();
    send_sync::<mpsc::WeakUnboundedSender<u8>>();
    send_sync::<mpsc::Permit<'static, u8>>();
    send_sync::<mpsc::OwnedPermit<u8>>();
    send_sync::<oneshot::Sender<u8>>();
    send_sync::<oneshot::Receiver<u8>>();
    send_sync::<broadcast::Sender<u8>>();
    send_sync::<broadcast::Receiver<u8>>();
    send_sync::<watch::Sender<u8>>();
    send_sync::<watch::Receiver<u8>>();
    send_sync::<Queue<u8>>();
    send_sync::<PriorityQueue<u8>>();
    send_sync::<LifoQueue<u8>>();
    send_sync::<Mutex<u8>>();
    send_sync::<MutexGuard<'static, u8>>();
    send_sync::<OwnedMutexGuard<u8>>();
    send_sync::<RwLock<u8>>();
    send_sync::<RwLockReadGuard<'static, u8>>();
    send_sync::<RwLockWriteGuard<'static, u8>>();
    send_sync::<Semaphore>();
    send_sync::<SemaphorePermit<'static>>();
    send_sync::<OwnedSemaphorePermit>();
    send_sync::<Notify>();
    send_sync::<Notified<'static>>();
    send_sync::<Event>();
    send_sync::<Barrier>();
    send_sync::<Condvar>();
    send_sync::<RateLimiter>();
    // Non-Sync payloads still move between threads.
    send::<mpsc::Sender<std::cell::Cell<u8>>>();
    send::<oneshot::Sender<std::cell::Cell<u8>>>();
}

#[test]
fn futures_are_send() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    send_val(&tx.send(1));
    send_val(&tx.reserve());
    send_val(&rx.recv());
    let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
    send_val(&urx.recv());
    send_val(&utx.closed());
    let m = Mutex::new(0);
    send_val(&m.lock());
    let s = Semaphore::new(1);
    send_val(&s.acquire());
    let q = Queue::<u8>::new(0);
    send_val(&q.get());
    send_val(&q.put(1));
    send_val(&q.join());
    let e = Event::new();
    send_val(&e.wait());
    let l = RateLimiter::new(1.0, 1);
    send_val(&l.acquire());
    let (_wtx, mut wrx) = watch::channel(0u8);
    send_val(&wrx.changed());
    let (_btx, mut brx) = broadcast::channel::<u8>(1);
    send_val(&brx.recv());
}

/// A `oneshot` of a non-`Send` type cannot cross threads.
///
/// ```compile_fail
/// let (tx, _rx) = weft_channel::oneshot::channel::<std::rc::Rc<u8>>();
/// std::thread::spawn(move || drop(tx));
/// ```
///
/// An `mpsc::Receiver` is not `Clone`: one consumer.
///
/// ```compile_fail
/// let (_tx, rx) = weft_channel::mpsc::channel::<u8>(1);
/// let _rx2 = rx.clone();
/// ```
pub fn compile_fail_docs() {}
