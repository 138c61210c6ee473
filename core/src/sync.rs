//! The synchronisation primitives of weft's lock-free protocols: std's normally, loom's in a
//! model-checking build (`RUSTFLAGS="--cfg weft_loom"`), so that the loom models in
//! `channel/tests/loom_*.rs` and the executor's `task/loom.rs` check the code that ships.
//!
//! Only protocol state goes through here: the atomics and cells that two threads race on, the
//! yields of spin loops, and the task block's allocation. Counters that only hand out ids stay
//! std atomics (loom would reset them between executions for no gain).
//!
//! The cfg is `weft_loom`, not `loom`: tokio and other dependencies change their own code under
//! `cfg(loom)` and do not build that way as dependencies.
//!
//! In a normal build everything here is a re-export or an `#[inline(always)]` wrapper that
//! compiles to what it wraps: the instruction-count guard (`cargo xtask instr`) checks it.
#![doc(hidden)]

pub use imp::*;

#[cfg(not(weft_loom))]
mod imp {
    /// Atomics and fences (std's).
    pub mod atomic {
        pub use std::sync::atomic::{
            compiler_fence, fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize,
            Ordering,
        };
    }

    /// The shared allocation of a channel (std's `Arc`).
    pub use std::sync::Arc;

    /// Threads (std's).
    pub mod thread {
        pub use std::thread::{spawn, yield_now, JoinHandle};

        /// A name for the calling thread, unique among live threads, never 0 and never
        /// `usize::MAX` (the address of a thread-local byte).
        #[inline]
        pub fn name() -> usize {
            thread_local! {
                static NAME: u8 = const { 0 };
            }
            NAME.with(|n| n as *const u8 as usize)
        }
    }

    /// Hints (std's).
    pub mod hint {
        pub use std::hint::spin_loop;
    }

    /// The global allocator (std's).
    pub mod alloc {
        pub use std::alloc::{alloc, dealloc};
    }

    /// `UnsafeCell` with loom's access API: the raw pointer is lent to a closure, so that loom
    /// can see when each access starts and ends.
    #[derive(Debug, Default)]
    #[repr(transparent)]
    pub struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        /// A cell holding `value`.
        #[inline(always)]
        pub const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// The value, out of the cell.
        #[inline(always)]
        pub fn into_inner(self) -> T {
            self.0.into_inner()
        }
    }

    impl<T: ?Sized> UnsafeCell<T> {
        /// Lends a pointer for reading.
        #[inline(always)]
        pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Lends a pointer for writing.
        #[inline(always)]
        pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(weft_loom)]
mod imp {
    /// Atomics and fences (loom's; a compiler fence is std's, which loom cannot see: the code
    /// that relies on one models what it pairs with instead, see `channel/src/lock_free`).
    pub mod atomic {
        pub use loom::sync::atomic::{
            fence, AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
        };
        pub use std::sync::atomic::compiler_fence;
    }

    /// loom's `Arc`, whose count orders the last drop after every other use.
    pub use loom::sync::Arc;

    /// Threads (loom's).
    pub mod thread {
        pub use loom::thread::{spawn, yield_now, JoinHandle};

        /// A name for the calling loom thread, unique among live threads, never 0 and never
        /// `usize::MAX` (the address of a loom thread-local, which is per modelled thread).
        pub fn name() -> usize {
            loom::thread_local! {
                static NAME: u8 = 0;
            }
            NAME.with(|n| n as *const u8 as usize)
        }
    }

    /// Hints (loom's: a spin is a yield to the model's scheduler).
    pub mod hint {
        pub use loom::hint::spin_loop;
    }

    /// The global allocator (loom's: leaks and double frees fail the model).
    pub mod alloc {
        pub use loom::alloc::{alloc, dealloc};
    }

    pub use loom::cell::UnsafeCell;

    pub use loom::sync::{MutexGuard, RwLockReadGuard, RwLockWriteGuard};

    /// loom's mutex with `parking_lot`'s face (no poisoning), for the channels' locks.
    #[derive(Debug)]
    pub struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        /// A mutex holding `value`.
        pub fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        /// Locks it.
        pub fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    /// loom's readers-writer lock with `parking_lot`'s face.
    #[derive(Debug)]
    pub struct RwLock<T>(loom::sync::RwLock<T>);

    impl<T> RwLock<T> {
        /// A lock holding `value`.
        pub fn new(value: T) -> RwLock<T> {
            RwLock(loom::sync::RwLock::new(value))
        }

        /// Locks it for reading.
        pub fn read(&self) -> RwLockReadGuard<'_, T> {
            self.0.read().unwrap_or_else(|e| e.into_inner())
        }

        /// Locks it for writing.
        pub fn write(&self) -> RwLockWriteGuard<'_, T> {
            self.0.write().unwrap_or_else(|e| e.into_inner())
        }
    }
}

/// Defines a `const fn` that is a plain `fn` in a loom build (loom's atomics and cells have no
/// `const` constructors). The function is written once, as a `const fn`.
#[macro_export]
#[doc(hidden)]
macro_rules! const_fn_unless_loom {
    ($(#[$m:meta])* $vis:vis const fn $($rest:tt)*) => {
        #[cfg(not(weft_loom))]
        $(#[$m])* $vis const fn $($rest)*
        #[cfg(weft_loom)]
        $(#[$m])* $vis fn $($rest)*
    };
}
