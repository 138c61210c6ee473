//! [`Mutex`]: a fair async mutex, a [`Semaphore`] with one permit around an `UnsafeCell`.
//!
//! Uncontended, `lock` is one CAS and unlocking is one CAS (a plain load and store each on
//! the first thread to take it, until another thread does): no lock word besides the
//! semaphore's, no allocation. Contended, tasks get the lock in the order they asked.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use weft_core::sync::UnsafeCell;

use crate::semaphore::{AcquireFut, Semaphore, TryAcquireError};

/// Error from [`Mutex::try_lock`] and [`RwLock::try_read`](crate::RwLock::try_read) /
/// [`try_write`](crate::RwLock::try_write): the lock is held (or tasks are queued for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

/// An async mutex: the guard may be held across `.await`. Fair: FIFO among waiters.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_channel::Mutex;
///
/// futures::executor::block_on(async {
///     let count = Arc::new(Mutex::new(0));
///     *count.lock().await += 1;
///     let mut owned = count.clone().lock_owned().await; // for `Arc<Mutex<T>>`
///     *owned += 1;
///     drop(owned);
///     assert_eq!(*count.lock().await, 2);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `data` to one holder at a time (the semaphore has one
// permit), so sharing or sending it is sound when `T` itself may be sent to another thread.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: `&Mutex<T>` only gives `&mut T` to the single permit holder.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: a shared guard only gives `&T`, so it may be shared when `T: Sync`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T> Mutex<T> {
    weft_core::const_fn_unless_loom! {
    /// Creates an unlocked mutex. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static M: weft_channel::Mutex<u32> = weft_channel::Mutex::new(0);
    /// assert_eq!(*M.try_lock().unwrap(), 0);
    /// ```
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }
    }

    /// Consumes the mutex, returning the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weft_channel::Mutex::new(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe and fair: a dropped `lock` leaves the queue; if the lock had already been
    /// handed to it, it goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let m = weft_channel::Mutex::new(vec![1]);
    ///     m.lock().await.push(2);
    ///     assert_eq!(*m.lock().await, [1, 2]);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        // The semaphore is never closed, so acquiring cannot fail.
        AcquireFut::new(&self.sem, 1)
            .await
            .expect("mutex semaphore closed");
        MutexGuard { lock: self }
    }

    /// Waits for the lock of an `Arc<Mutex<T>>`; the guard owns a clone of the `Arc`.
    ///
    /// # Cancel safety
    ///
    /// As [`lock`](Self::lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let m = Arc::new(weft_channel::Mutex::new(1));
    ///     let guard = m.clone().lock_owned().await;
    ///     std::thread::spawn(move || assert_eq!(*guard, 1)).join().unwrap();
    /// });
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        AcquireFut::new(&self.sem, 1)
            .await
            .expect("mutex semaphore closed");
        OwnedMutexGuard { lock: self }
    }

    /// Takes the lock if it is free and nobody is queued.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if it is held or tasks are waiting for it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = weft_channel::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire_many(1) {
            Ok(permit) => {
                permit.forget(); // the guard releases it
                Ok(MutexGuard { lock: self })
            }
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(TryLockError(())),
        }
    }

    /// Like [`try_lock`](Self::try_lock), for an `Arc<Mutex<T>>`.
    ///
    /// # Errors
    ///
    /// As [`try_lock`](Self::try_lock).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(weft_channel::Mutex::new(1));
    /// assert_eq!(*m.clone().try_lock_owned().unwrap(), 1);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire_many(1) {
            Ok(permit) => permit.forget(),
            Err(_) => return Err(TryLockError(())),
        }
        Ok(OwnedMutexGuard { lock: self })
    }

    /// The value, through a unique borrow: no locking needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = weft_channel::Mutex::new(1);
    /// *m.get_mut() += 1;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` is exclusive: no guard and no other access exists.
        unsafe { &mut *self.data.with_mut(|p| p) }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to the value of a locked [`Mutex`]; unlocks when dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks (used by [`Condvar`](crate::Condvar) to re-lock it).
    ///
    /// # Examples
    ///
    /// ```
    /// let m = weft_channel::Mutex::new(0);
    /// let g = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(weft_channel::MutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while its holder owns the mutex's single permit, so no
        // other reference to `data` exists.
        unsafe { &*self.lock.data.with(|p| p) }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only access through the guard.
        unsafe { &mut *self.lock.data.with_mut(|p| p) }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Like [`MutexGuard`], owning an `Arc` of its mutex (from [`Mutex::lock_owned`]).
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(weft_channel::Mutex::new(0));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(weft_channel::OwnedMutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's single permit: no other access to `data`.
        unsafe { &*self.lock.data.with(|p| p) }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` is unique.
        unsafe { &mut *self.lock.data.with_mut(|p| p) }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
