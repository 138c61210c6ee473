//! A runtime-agnostic stand-in for the `tokio-test` crate: its assertion macros and its mock
//! task, for running tokio's own integration tests against weft (see `scripts/tokio-suite`).
//!
//! The real `tokio-test` depends on tokio itself; this one depends on no runtime. It has what
//! tokio's tests use: [`task::spawn`] with `poll`, `poll_next`, `enter`, `is_woken` and
//! `waker_ref_count`, and the `assert_*` macros.
//!
//! ```
//! use std::task::Poll;
//! use tokio_test::{assert_pending, assert_ready, task};
//!
//! let (tx, rx) = futures_channel_like();
//! let mut rx = task::spawn(rx);
//! assert_pending!(rx.poll());
//! tx.set(5);
//! assert!(rx.is_woken());
//! assert_eq!(assert_ready!(rx.poll()), 5);
//!
//! # use std::sync::{Arc, Mutex};
//! # use std::task::{Context, Waker};
//! # use std::pin::Pin;
//! # use std::future::Future;
//! # #[derive(Default)]
//! # struct Slot { v: Option<u32>, w: Option<Waker> }
//! # struct Tx(Arc<Mutex<Slot>>);
//! # struct Rx(Arc<Mutex<Slot>>);
//! # impl Tx { fn set(&self, v: u32) { let mut s = self.0.lock().unwrap(); s.v = Some(v); if let Some(w) = s.w.take() { w.wake() } } }
//! # impl Future for Rx { type Output = u32; fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
//! #     let mut s = self.0.lock().unwrap();
//! #     match s.v.take() { Some(v) => Poll::Ready(v), None => { s.w = Some(cx.waker().clone()); Poll::Pending } } } }
//! # fn futures_channel_like() -> (Tx, Rx) { let s = Arc::new(Mutex::new(Slot::default())); (Tx(s.clone()), Rx(s)) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod task;

mod macros;
