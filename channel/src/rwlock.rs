//! [`RwLock`]: a fair async reader-writer lock over a [`Semaphore`] with `MAX_READS` permits.
//!
//! A reader takes one permit, a writer all of them. Because the semaphore is FIFO, a queued
//! writer stops later readers from overtaking it: neither side starves. Uncontended, a read
//! or write lock is one CAS and its release one CAS.

use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::mutex::TryLockError;
use crate::semaphore::{AcquireFut, Semaphore};

/// Maximum number of concurrent readers (the number of permits a writer takes).
const MAX_READS: usize = (u32::MAX >> 3) as usize;

/// An async reader-writer lock; fair (FIFO between readers and writers).
///
/// # Examples
///
/// ```
/// use weft_channel::RwLock;
///
/// futures::executor::block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await; // many readers at once
///         assert_eq!(*r1 + *r2, 10);
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    sem: Semaphore,
    /// The most readers at once: the number of permits a writer takes.
    max_readers: u32,
    data: UnsafeCell<T>,
}

// SAFETY: `RwLock` hands out `&mut T` to one writer or `&T` to readers on any thread, so it
// needs `T: Send` to be sent and `T: Send + Sync` to be shared (same bounds as std's).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}
// SAFETY: a read guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: a read guard only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: a shared write guard only gives `&T`; sending it moves the unique access.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}
// SAFETY: as above, owning the `Arc`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}
// SAFETY: an owned read guard only gives `&T` and owns an `Arc<RwLock<T>>`.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockReadGuard<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T> {}

impl<T> RwLock<T> {
    weft_core::const_fn_unless_loom! {
    /// Creates an unlocked lock. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static CONFIG: weft_channel::RwLock<u32> = weft_channel::RwLock::new(1);
    /// assert_eq!(*CONFIG.try_read().unwrap(), 1);
    /// ```
    pub const fn new(value: T) -> RwLock<T> {
        RwLock::const_with_max_readers(value, MAX_READS as u32)
    }
    }

    /// Creates an unlocked lock that lets at most `max_reads` readers in at once.
    ///
    /// # Panics
    ///
    /// If `max_reads` is 0 or more than `u32::MAX >> 3`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = weft_channel::RwLock::with_max_readers(0, 2);
    /// let _a = lock.try_read().unwrap();
    /// let _b = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err());
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        RwLock::const_with_max_readers(value, max_reads)
    }

    weft_core::const_fn_unless_loom! {
    /// [`with_max_readers`](Self::with_max_readers), usable in a `static`.
    ///
    /// # Panics
    ///
    /// As [`with_max_readers`](Self::with_max_readers).
    ///
    /// # Examples
    ///
    /// ```
    /// static LOCK: weft_channel::RwLock<u8> = weft_channel::RwLock::const_with_max_readers(0, 8);
    /// assert!(LOCK.try_write().is_ok());
    /// ```
    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(max_reads != 0, "a RwLock may not be created with 0 readers");
        assert!(
            max_reads as usize <= MAX_READS,
            "a RwLock may not be created with more than u32::MAX >> 3 readers"
        );
        RwLock {
            sem: Semaphore::new(max_reads as usize),
            max_readers: max_reads,
            data: UnsafeCell::new(value),
        }
    }
    }

    /// Consumes the lock, returning the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weft_channel::RwLock::new(1).into_inner(), 1);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared read access.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair: a dropped `read` leaves the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let lock = weft_channel::RwLock::new(1);
    ///     assert_eq!(*lock.read().await, 1);
    /// });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        AcquireFut::new(&self.sem, 1)
            .await
            .expect("rwlock semaphore closed");
        RwLockReadGuard { lock: self }
    }

    /// Waits for exclusive write access.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair: a dropped `write` leaves the queue and passes on the permits it
    /// had gathered, so readers behind it proceed.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let lock = weft_channel::RwLock::new(1);
    ///     *lock.write().await = 2;
    ///     assert_eq!(*lock.read().await, 2);
    /// });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        AcquireFut::new(&self.sem, self.max_readers as usize)
            .await
            .expect("rwlock semaphore closed");
        RwLockWriteGuard { lock: self }
    }

    /// Like [`read`](Self::read) for an `Arc<RwLock<T>>`.
    ///
    /// # Cancel safety
    ///
    /// As [`read`](Self::read).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let lock = Arc::new(weft_channel::RwLock::new(1));
    ///     assert_eq!(*lock.read_owned().await, 1);
    /// });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        AcquireFut::new(&self.sem, 1)
            .await
            .expect("rwlock semaphore closed");
        OwnedRwLockReadGuard { lock: self }
    }

    /// Like [`write`](Self::write) for an `Arc<RwLock<T>>`.
    ///
    /// # Cancel safety
    ///
    /// As [`write`](Self::write).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let lock = Arc::new(weft_channel::RwLock::new(1));
    ///     *lock.clone().write_owned().await += 1;
    ///     assert_eq!(*lock.read().await, 2);
    /// });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        AcquireFut::new(&self.sem, self.max_readers as usize)
            .await
            .expect("rwlock semaphore closed");
        OwnedRwLockWriteGuard { lock: self }
    }

    /// Read access if available now (no writer holds or waits for the lock).
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if a writer holds the lock or tasks are queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = weft_channel::RwLock::new(1);
    /// let _r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        let permit = self.sem.try_acquire_many(1).map_err(|_| TryLockError(()))?;
        permit.forget();
        Ok(RwLockReadGuard { lock: self })
    }

    /// Write access if available now.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held or tasks are queued.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = weft_channel::RwLock::new(1);
    /// *lock.try_write().unwrap() = 3;
    /// assert_eq!(lock.into_inner(), 3);
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        let permit = self
            .sem
            .try_acquire_many(self.max_readers)
            .map_err(|_| TryLockError(()))?;
        permit.forget();
        Ok(RwLockWriteGuard { lock: self })
    }

    /// The value, through a unique borrow: no locking needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut lock = weft_channel::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

macro_rules! guard {
    ($(#[$m:meta])* $name:ident [$($lt:lifetime,)?] $field:ty, permits = |$l:ident| $n:expr, mut = $mutable:tt) => {
        $(#[$m])*
        #[must_use = "if unused the RwLock will immediately unlock"]
        pub struct $name<$($lt,)? T: ?Sized> {
            lock: $field,
        }

        impl<$($lt,)? T: ?Sized> Deref for $name<$($lt,)? T> {
            type Target = T;
            fn deref(&self) -> &T {
                // SAFETY: the guard holds at least one permit, so no writer has `&mut T`
                // (a writer needs all `max_readers` permits).
                unsafe { &*self.lock.data.get() }
            }
        }

        guard!(@mut $mutable $name [$($lt,)?]);

        impl<$($lt,)? T: ?Sized> Drop for $name<$($lt,)? T> {
            fn drop(&mut self) {
                let $l = &self.lock;
                $l.sem.release($n);
            }
        }

        impl<$($lt,)? T: ?Sized + fmt::Debug> fmt::Debug for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($lt,)? T: ?Sized + fmt::Display> fmt::Display for $name<$($lt,)? T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    };
    (@mut true $name:ident [$($lt:lifetime,)?]) => {
        impl<$($lt,)? T: ?Sized> DerefMut for $name<$($lt,)? T> {
            fn deref_mut(&mut self) -> &mut T {
                // SAFETY: a write guard holds all `max_readers` permits: no reader or other writer
                // exists, and `&mut self` is unique.
                unsafe { &mut *self.lock.data.get() }
            }
        }
    };
    (@mut false $name:ident [$($lt:lifetime,)?]) => {};
}

guard!(
    /// Shared access to the value of an [`RwLock`]; released when dropped.
    RwLockReadGuard ['a,] &'a RwLock<T>, permits = |_lock| 1, mut = false
);
guard!(
    /// Exclusive access to the value of an [`RwLock`]; released when dropped.
    RwLockWriteGuard ['a,] &'a RwLock<T>, permits = |lock| lock.max_readers as usize, mut = true
);
guard!(
    /// Like [`RwLockReadGuard`], owning an `Arc` of its lock.
    OwnedRwLockReadGuard [] Arc<RwLock<T>>, permits = |_lock| 1, mut = false
);
guard!(
    /// Like [`RwLockWriteGuard`], owning an `Arc` of its lock.
    OwnedRwLockWriteGuard [] Arc<RwLock<T>>, permits = |lock| lock.max_readers as usize, mut = true
);

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns write access into read access without letting a writer in between.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = weft_channel::RwLock::new(1);
    /// let mut w = lock.try_write().unwrap();
    /// *w = 2;
    /// let r = w.downgrade();
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let lock = self.lock;
        std::mem::forget(self);
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard { lock }
    }
}
