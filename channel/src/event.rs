//! [`Event`]: asyncio's `Event` (`set`, `clear`, `wait`, `is_set`).

use std::pin::pin;
use weft_core::sync::atomic::{AtomicBool, Ordering::SeqCst};

use crate::notify::Notify;

/// A flag that tasks can wait for, as asyncio's `Event`.
///
/// [`set`](Event::set) raises the flag and wakes every waiter; [`wait`](Event::wait) returns
/// at once while the flag is up; [`clear`](Event::clear) lowers it. A waiter woken by `set`
/// returns even if the flag was cleared again before it ran (as in asyncio).
///
/// Cost: `is_set` is one load; `set` is one swap (plus one CAS, and the lock only if tasks are
/// waiting); `wait` on a set event is one load.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_channel::Event;
///
/// futures::executor::block_on(async {
///     let ready = Arc::new(Event::new());
///     let r = ready.clone();
///     let t = std::thread::spawn(move || r.set());
///     ready.wait().await;
///     assert!(ready.is_set());
///     t.join().unwrap();
/// });
/// ```
#[derive(Debug, Default)]
pub struct Event {
    flag: AtomicBool,
    notify: Notify,
}

impl Event {
    weft_core::const_fn_unless_loom! {
    /// A new, unset event. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static STOP: weft_channel::Event = weft_channel::Event::new();
    /// assert!(!STOP.is_set());
    /// ```
    pub const fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }
    }

    /// Whether the flag is up.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = weft_channel::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.flag.load(SeqCst)
    }

    /// Raises the flag and wakes every task waiting in [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// let e = weft_channel::Event::new();
    /// e.set();
    /// futures::executor::block_on(e.wait());
    /// ```
    pub fn set(&self) {
        if !self.flag.swap(true, SeqCst) {
            self.notify.notify_waiters();
        }
    }

    /// Lowers the flag: later [`wait`](Self::wait)s block until the next [`set`](Self::set).
    ///
    /// # Examples
    ///
    /// ```
    /// let e = weft_channel::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        self.flag.store(false, SeqCst);
    }

    /// Waits until the flag is up (returns at once if it is).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = weft_channel::Event::new();
    /// e.set();
    /// futures::executor::block_on(e.wait());
    /// ```
    pub async fn wait(&self) {
        if self.is_set() {
            return;
        }
        let mut notified = pin!(self.notify.notified());
        // Registered (for notify_waiters, from creation) before this second check: a `set`
        // after it wakes us, a `set` before it is seen here.
        if self.is_set() {
            return;
        }
        notified.as_mut().await;
    }
}
