//! What an accept loop does when an accept fails: skip, back off, or give up.
//!
//! A server out of file descriptors (`EMFILE`, `ENFILE`) cannot accept, yet the connection
//! stays queued and the listener stays readable: retrying at once spins at 100 % CPU, and
//! returning the error ends the typical `while let Ok(..) = listener.accept().await` loop.
//! So the listener waits [`BACKOFF`] and tries again; by then a descriptor may be free.
//!
//! The wait uses the runtime's timer when the listener is polled inside its own runtime,
//! and a helper thread otherwise (there is no timer to use then). Every task waiting on the
//! back-off is woken when it ends: the timer (or thread) wakes a fan-out waker that wakes
//! them all, so no waiter depends on another one still being there.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::Handle;

/// How long an accept waits after running out of descriptors or buffers before retrying.
/// Long enough not to spin (20 tries a second), short enough that a freed descriptor is
/// used soon.
pub(crate) const BACKOFF: Duration = Duration::from_millis(50);

/// The back-off state of one listener.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    wait: RefCell<Option<Wait>>,
}

#[derive(Debug)]
struct Wait {
    clock: Clock,
    fan_out: Arc<FanOut>,
}

#[derive(Debug)]
enum Clock {
    /// Armed by a failed accept; started by the next poll (which knows where it runs).
    Armed,
    Timer(weft_timer::Sleep),
    /// A helper thread sleeps, sets `FanOut::fired` and wakes the fan-out.
    Thread,
}

/// A waker that wakes every task waiting on the back-off.
#[derive(Debug, Default)]
struct FanOut {
    wakers: Mutex<Vec<Waker>>,
    /// Set by the helper thread when its sleep is over.
    fired: AtomicBool,
}

impl Wake for FanOut {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let wakers = std::mem::take(&mut *self.wakers.lock().unwrap_or_else(|e| e.into_inner()));
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl FanOut {
    fn add(&self, waker: &Waker) {
        let mut wakers = self.wakers.lock().unwrap_or_else(|e| e.into_inner());
        if !wakers.iter().any(|w| w.will_wake(waker)) {
            wakers.push(waker.clone());
        }
    }
}

/// Whether `e` means "no resources right now": the connection waits in the queue.
fn is_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}

/// Whether `e` concerns only the connection being accepted (it failed while queued).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

impl AcceptBackoff {
    /// Sorts the result of one accept: `Some` to return it, `None` to try again (after
    /// arming the back-off if the error calls for one).
    pub(crate) fn check<T>(&self, accepted: io::Result<T>) -> Option<io::Result<T>> {
        match accepted {
            Err(e) if is_exhaustion(&e) => {
                self.arm(&e);
                None
            }
            Err(e) if is_connection_error(&e) => None,
            other => Some(other),
        }
    }

    #[cold]
    #[inline(never)]
    fn arm(&self, e: &io::Error) {
        log::warn!("accept failed ({e}); retrying in {BACKOFF:?}");
        let mut wait = self.wait.borrow_mut();
        if wait.is_none() {
            *wait = Some(Wait {
                clock: Clock::Armed,
                fan_out: Arc::default(),
            });
        }
    }

    /// `Ready` unless a back-off is running; otherwise registers `cx` to be woken when it
    /// ends.
    pub(crate) fn poll_wait(&self, cx: &mut Context<'_>, handle: &Handle) -> Poll<()> {
        if self.wait.borrow().is_none() {
            return Poll::Ready(());
        }
        self.poll_slow(cx, handle)
    }

    #[cold]
    #[inline(never)]
    fn poll_slow(&self, cx: &mut Context<'_>, handle: &Handle) -> Poll<()> {
        let mut guard = self.wait.borrow_mut();
        let Some(wait) = guard.as_mut() else {
            return Poll::Ready(());
        };
        wait.fan_out.add(cx.waker());
        if let Clock::Armed = wait.clock {
            wait.clock = start(handle, &wait.fan_out);
        }
        let over = match &mut wait.clock {
            Clock::Timer(sleep) => {
                let waker = Waker::from(wait.fan_out.clone());
                Pin::new(sleep)
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready()
            }
            Clock::Thread => wait.fan_out.fired.load(Ordering::Acquire),
            Clock::Armed => unreachable!("started above"),
        };
        if !over {
            return Poll::Pending;
        }
        let finished = guard.take();
        drop(guard);
        if let Some(wait) = finished {
            // The other waiters retry too (only one of them gets the next connection).
            wait.fan_out.wake_by_ref();
        }
        Poll::Ready(())
    }

    /// Waits out a running back-off, if any.
    pub(crate) async fn wait(&self, handle: &Handle) {
        if self.wait.borrow().is_some() {
            std::future::poll_fn(|cx| self.poll_wait(cx, handle)).await;
        }
    }
}

/// Starts the back-off clock: the runtime's timer if we run inside the listener's runtime,
/// else a helper thread.
fn start(handle: &Handle, fan_out: &Arc<FanOut>) -> Clock {
    if handle.is_current() {
        return Clock::Timer(weft_timer::sleep(BACKOFF));
    }
    let theirs = fan_out.clone();
    let spawned = std::thread::Builder::new()
        .name("weft-accept-backoff".into())
        .spawn(move || {
            std::thread::sleep(BACKOFF);
            theirs.fired.store(true, Ordering::Release);
            theirs.wake_by_ref();
        });
    if spawned.is_err() {
        // Outside its runtime and unable to start a thread: retry at once. The retries
        // still consume the task's cooperative budget, so the thread is not monopolised.
        fan_out.fired.store(true, Ordering::Release);
    }
    Clock::Thread
}
