//! [`Condvar`]: asyncio's `Condition`, over weft's async [`Mutex`].

use std::pin::pin;

use crate::mutex::{Mutex, MutexGuard};
use crate::notify::Notify;

/// A condition variable for the async [`Mutex`] (asyncio's `Condition`).
///
/// [`wait`](Condvar::wait) unlocks the mutex, waits for a notification and locks it again.
/// As with every condition variable, re-check the condition in a loop.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_channel::{Condvar, Mutex};
///
/// futures::executor::block_on(async {
///     let pair = Arc::new((Mutex::new(false), Condvar::new()));
///     let p2 = pair.clone();
///     let t = std::thread::spawn(move || futures::executor::block_on(async {
///         *p2.0.lock().await = true;
///         p2.1.notify_one();
///     }));
///     let (lock, cvar) = &*pair;
///     let mut ready = lock.lock().await;
///     while !*ready {
///         ready = cvar.wait(ready).await;
///     }
///     t.join().unwrap();
/// });
/// ```
#[derive(Debug, Default)]
pub struct Condvar {
    notify: Notify,
}

impl Condvar {
    weft_core::const_fn_unless_loom! {
    /// A new condition variable.
    ///
    /// # Examples
    ///
    /// ```
    /// let _cv = weft_channel::Condvar::new();
    /// ```
    pub const fn new() -> Condvar {
        Condvar {
            notify: Notify::new(),
        }
    }
    }

    /// Unlocks `guard`'s mutex, waits for [`notify_one`](Self::notify_one) or
    /// [`notify_all`](Self::notify_all), then locks it again.
    ///
    /// A notification sent after the mutex is unlocked here is never missed. Spurious wakeups
    /// are possible (a stored `notify_one` permit): re-check the condition.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that the mutex is left unlocked and a consumed `notify_one` is passed on;
    /// the guard given in is gone either way.
    ///
    /// # Examples
    ///
    /// See [`Condvar`].
    pub async fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        let mutex: &'a Mutex<T> = MutexGuard::mutex(&guard);
        let mut notified = pin!(self.notify.notified());
        notified.as_mut().enable();
        drop(guard);
        notified.await;
        mutex.lock().await
    }

    /// Wakes one waiting task (or lets the next `wait` return at once).
    ///
    /// # Examples
    ///
    /// ```
    /// weft_channel::Condvar::new().notify_one();
    /// ```
    pub fn notify_one(&self) {
        self.notify.notify_one();
    }

    /// Wakes every waiting task.
    ///
    /// # Examples
    ///
    /// ```
    /// weft_channel::Condvar::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify.notify_waiters();
    }
}
