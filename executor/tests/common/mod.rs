//! Helpers shared by the executor's integration tests.
#![allow(dead_code)]

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

/// Counts how many times it was dropped.
pub struct DropCounter(pub Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A future that stays pending until `release` is called, recording its waker.
#[derive(Clone, Default)]
pub struct Gate(Rc<RefCell<(bool, Option<Waker>)>>);

impl Gate {
    pub fn release(&self) {
        let w = {
            let mut g = self.0.borrow_mut();
            g.0 = true;
            g.1.take()
        };
        if let Some(w) = w {
            w.wake();
        }
    }
    pub fn waker(&self) -> Option<Waker> {
        self.0.borrow().1.clone()
    }
    pub fn wait(&self) -> GateWait {
        GateWait(self.clone())
    }
}

pub struct GateWait(Gate);

impl Future for GateWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut g = (self.0).0.borrow_mut();
        if g.0 {
            Poll::Ready(())
        } else {
            g.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Loop counts shrink under Miri, which is ~1000x slower.
pub fn scaled(n: usize) -> usize {
    if cfg!(miri) {
        (n / 1000).max(2)
    } else {
        n
    }
}

/// A runtime on a thread park, configured by `f`.
pub fn runtime_with(f: impl FnOnce(&mut weft_executor::Config)) -> weft_executor::Runtime {
    let mut config = weft_executor::Config::default();
    f(&mut config);
    weft_executor::Runtime::with_config(weft_executor::park::ThreadPark::new(), config)
}
