//! The per-thread runtime context: what code running on a thread can know about the weft
//! runtime running there.
//!
//! One `thread_local!` holds it all:
//!
//! | part | set by | read by |
//! |---|---|---|
//! | the coop budget | the executor, around each poll ([`coop::with_budget`]) | every resource future ([`coop::poll_proceed`]) |
//! | the entered [`RuntimeContext`] | [`RuntimeContext::enter`], once per `block_on` | [`in_runtime`], [`current_id`], [`with`], [`with_clock`] |
//!
//! A [`RuntimeContext`] is built once per runtime: a fresh [`RuntimeId`], the runtime's
//! [`Clock`] (its timer), and its drivers' handles (the timer's, the reactor's), stored by
//! type. Crates find their own handle with [`with`]`::<TheirType, _>`: the crate below them
//! (this one) needs to know nothing about them, and no process-wide hook or global wires them
//! together. Off a weft runtime (a plain thread, another executor) nothing is entered: the
//! budget is unconstrained, [`in_runtime`] is `false`, and time is the real clock.
//!
//! # Ground rules
//!
//! * The entered pointer is set only by [`RuntimeContext::enter`], which borrows the context
//!   for the whole call of its closure and restores the previous pointer when the closure
//!   returns or unwinds. Entries therefore nest like stack frames: the pointer always names a
//!   context that is alive and not mutated (it is borrowed) for as long as it is entered.
//! * Readers ([`with`], [`with_clock`]) hand out references only to a closure, so no reference
//!   outlives the call, and the call cannot outlive the entry it started in (it runs inside
//!   that entry's closure, deeper on the same stack).
//!
//! [`coop::with_budget`]: crate::coop::with_budget
//! [`coop::poll_proceed`]: crate::coop::poll_proceed
//! [`Clock`]: crate::time::Clock

use std::any::{Any, TypeId};
use std::cell::Cell;
use std::fmt;
use std::num::NonZeroU64;
use std::ptr::NonNull;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::coop::UNCONSTRAINED;
use crate::time::Clock;

thread_local! {
    /// This thread's context. `const`-initialised and without a destructor, so an access is
    /// a plain thread-local load (no lazy-initialisation or teardown check).
    static CONTEXT: Context = const {
        Context {
            budget: Cell::new(UNCONSTRAINED),
            entered: Cell::new(None),
        }
    };
}

struct Context {
    /// Operations left for the task being polled (see `coop`).
    budget: Cell<u32>,
    /// The runtime context entered on this thread, if any (see the ground rules).
    entered: Cell<Option<NonNull<RuntimeContext>>>,
}

/// Runs `f` with this thread's budget counter (see [`coop`](crate::coop)).
#[inline(always)]
pub(crate) fn with_budget_cell<R>(f: impl FnOnce(&Cell<u32>) -> R) -> R {
    CONTEXT.with(|c| f(&c.budget))
}

/// Identifies a runtime: unique in the process, never reused, so that a waker that outlives
/// its runtime can never reach a newer one.
///
/// # Examples
///
/// ```
/// use weft_core::context::RuntimeContext;
///
/// let a = RuntimeContext::new();
/// let b = RuntimeContext::new();
/// assert_ne!(a.id(), b.id());
/// assert!(a.id().as_u64() > 0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuntimeId(NonZeroU64);

impl RuntimeId {
    fn next() -> RuntimeId {
        // The only process-wide counter of runtimes: ids, not state. 2^64 runtimes are
        // never made, so it does not wrap.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        RuntimeId(NonZeroU64::new(id).unwrap_or(NonZeroU64::MAX))
    }

    /// The id as a number (never 0).
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for RuntimeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What one runtime makes current on its thread while it runs: its id, its clock, and its
/// drivers' handles. Built once per runtime; entered by [`enter`](Self::enter) for each
/// `block_on` (and for the shutdown).
///
/// `!Send`: a runtime and its context belong to one thread.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use weft_core::context::{self, RuntimeContext};
///
/// struct MyDriver { name: &'static str }
///
/// let mut cx = RuntimeContext::new();
/// cx.insert(Rc::new(MyDriver { name: "io" }));
/// assert!(!context::in_runtime());
/// cx.enter(|| {
///     assert!(context::in_runtime());
///     assert_eq!(context::current_id(), Some(cx.id()));
///     assert_eq!(context::with(|d: &MyDriver| d.name), Some("io"));
///     assert_eq!(context::with(|_: &String| ()), None); // not registered
/// });
/// assert!(!context::in_runtime());
/// ```
pub struct RuntimeContext {
    id: RuntimeId,
    clock: Option<Rc<dyn Clock>>,
    /// At most one handle per type; a couple of entries, so a scan beats a map.
    handles: Vec<Handle>,
}

/// A driver's handle, stored by type.
struct Handle {
    /// `TypeId::of::<T>()` for the `Rc<T>` that `value` was made from (see `insert`).
    type_id: TypeId,
    value: Rc<dyn Any>,
}

impl Default for RuntimeContext {
    fn default() -> RuntimeContext {
        RuntimeContext::new()
    }
}

impl RuntimeContext {
    /// A context with a fresh [`RuntimeId`], no clock and no handles.
    pub fn new() -> RuntimeContext {
        RuntimeContext {
            id: RuntimeId::next(),
            clock: None,
            handles: Vec::new(),
        }
    }

    /// The runtime's id.
    pub fn id(&self) -> RuntimeId {
        self.id
    }

    /// Makes `clock` the runtime's clock: what [`time::now`](crate::time::now) and
    /// [`time::sleep_until`](crate::time::sleep_until) use while the context is entered.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::Pin;
    /// use std::rc::Rc;
    /// use std::time::Duration;
    /// use weft_core::context::RuntimeContext;
    /// use weft_core::time::{self, Clock};
    ///
    /// struct Frozen;
    /// impl Clock for Frozen {
    ///     fn now(&self) -> Duration { Duration::from_secs(7) }
    ///     fn sleep_until(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    ///         Box::pin(std::future::ready(()))
    ///     }
    /// }
    /// let mut cx = RuntimeContext::new();
    /// cx.set_clock(Rc::new(Frozen));
    /// cx.enter(|| assert_eq!(time::now(), Duration::from_secs(7)));
    /// ```
    pub fn set_clock(&mut self, clock: Rc<dyn Clock>) {
        self.clock = Some(clock);
    }

    /// Stores a driver's handle, found again by its type with [`with`] (or
    /// [`get`](Self::get)). Replaces an earlier handle of the same type.
    pub fn insert<T: Any>(&mut self, handle: Rc<T>) {
        let type_id = TypeId::of::<T>();
        self.handles.retain(|h| h.type_id != type_id);
        self.handles.push(Handle {
            type_id,
            value: handle,
        });
    }

    /// The stored handle of type `T`, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// let mut cx = weft_core::context::RuntimeContext::new();
    /// cx.insert(Rc::new(5u32));
    /// assert_eq!(cx.get::<u32>(), Some(&5));
    /// assert_eq!(cx.get::<u64>(), None);
    /// ```
    #[inline]
    pub fn get<T: Any>(&self) -> Option<&T> {
        let type_id = TypeId::of::<T>();
        let handle = self.handles.iter().find(|h| h.type_id == type_id)?;
        // SAFETY: `insert::<T>` is the only writer of `handles`, and it records
        // `TypeId::of::<T>()` beside an `Rc<T>` (unsized to `Rc<dyn Any>`), so equal ids mean
        // the value is a `T`; the thin part of the fat pointer is the `T`'s address. The `T`
        // lives as long as the `Rc`, which `&self` keeps alive for the returned borrow.
        Some(unsafe { &*Rc::as_ptr(&handle.value).cast::<T>() })
    }

    /// Makes this context current on this thread while `f` runs, then restores what was
    /// current before (also if `f` panics). Entries nest.
    ///
    /// A runtime enters its context once per `block_on`; code that runs no runtime of its
    /// own never needs this.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Restores the previous entry, on return and on unwind.
        struct Restore(Option<NonNull<RuntimeContext>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CONTEXT.with(|c| c.entered.set(self.0));
            }
        }
        let prev = CONTEXT.with(|c| c.entered.replace(Some(NonNull::from(self))));
        let _restore = Restore(prev);
        f()
    }
}

impl fmt::Debug for RuntimeContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeContext")
            .field("id", &self.id)
            .field("clock", &self.clock.is_some())
            .field("handles", &self.handles.len())
            .finish()
    }
}

/// Runs `f` with the entered runtime context, if any.
#[inline]
fn with_entered<R>(f: impl FnOnce(&RuntimeContext) -> R) -> Option<R> {
    let entered = CONTEXT.with(|c| c.entered.get())?;
    // SAFETY: by the ground rules, a pointer in `entered` names a context borrowed by an
    // `enter` call that is still running further up this thread's stack, so it is alive and
    // unchanged for as long as `f` (which runs deeper on the stack) can use it; `f` cannot
    // keep the reference (it is only lent to `f`).
    Some(f(unsafe { entered.as_ref() }))
}

/// Whether a weft runtime is running on this thread (its context is entered: inside its
/// `block_on`, in the tasks it polls, while it shuts down).
///
/// Code that is about to block its thread asks this first: blocking a runtime's thread
/// stalls all of its tasks.
///
/// # Examples
///
/// ```
/// use weft_core::context::{self, RuntimeContext};
///
/// assert!(!context::in_runtime());
/// RuntimeContext::new().enter(|| assert!(context::in_runtime()));
/// ```
#[inline]
pub fn in_runtime() -> bool {
    CONTEXT.with(|c| c.entered.get().is_some())
}

/// The id of the runtime running on this thread, if any.
///
/// # Examples
///
/// ```
/// assert_eq!(weft_core::context::current_id(), None);
/// ```
#[inline]
pub fn current_id() -> Option<RuntimeId> {
    with_entered(|cx| cx.id)
}

/// Runs `f` with the current runtime's handle of type `T` (see
/// [`RuntimeContext::insert`]); `None` if no runtime is entered or it has no such handle.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use weft_core::context::{self, RuntimeContext};
///
/// let mut cx = RuntimeContext::new();
/// cx.insert(Rc::new(String::from("driver")));
/// cx.enter(|| assert_eq!(context::with(|s: &String| s.len()), Some(6)));
/// assert_eq!(context::with(|s: &String| s.len()), None);
/// ```
#[inline]
pub fn with<T: Any, R>(f: impl FnOnce(&T) -> R) -> Option<R> {
    with_entered(|cx| cx.get::<T>().map(f)).flatten()
}

/// Runs `f` with the current runtime's clock; `None` if no runtime (or no clock) is entered.
/// [`time::now`](crate::time::now) and [`time::sleep_until`](crate::time::sleep_until) fall
/// back to the real clock then.
///
/// # Examples
///
/// ```
/// assert!(weft_core::context::with_clock(|c| c.now()).is_none());
/// ```
#[inline]
pub fn with_clock<R>(f: impl FnOnce(&dyn Clock) -> R) -> Option<R> {
    with_entered(|cx| cx.clock.as_deref().map(f)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_nest_and_restore_on_unwind() {
        let outer = RuntimeContext::new();
        let inner = RuntimeContext::new();
        outer.enter(|| {
            assert_eq!(current_id(), Some(outer.id()));
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inner.enter(|| {
                    assert_eq!(current_id(), Some(inner.id()));
                    panic!("inside");
                })
            }));
            assert!(caught.is_err());
            assert_eq!(current_id(), Some(outer.id()), "restored after the unwind");
        });
        assert_eq!(current_id(), None);
    }

    #[test]
    fn insert_replaces_a_handle_of_the_same_type() {
        let mut cx = RuntimeContext::new();
        cx.insert(Rc::new(1u8));
        cx.insert(Rc::new(2u8));
        cx.insert(Rc::new(3u16));
        assert_eq!(cx.get::<u8>(), Some(&2));
        assert_eq!(cx.get::<u16>(), Some(&3));
        assert_eq!(cx.handles.len(), 2);
    }

    #[test]
    fn other_threads_see_nothing() {
        let cx = RuntimeContext::new();
        cx.enter(|| {
            std::thread::spawn(|| assert!(!in_runtime()))
                .join()
                .unwrap();
        });
    }
}
