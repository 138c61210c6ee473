//! The hand-written `RawWaker` vtable. The data pointer is the task's header.
//!
//! A waker holds one unit of the task's atomic `refs` (see `raw.rs`), except the one the
//! executor lends to `poll`, which is built by [`borrowed`] and never dropped.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{self, Header};
use crate::runtime;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker for `ptr` that does not own a reference.
///
/// # Safety
/// The caller keeps the task alive while the waker is in use and never drops the waker
/// (wrap it in `ManuallyDrop`).
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable functions below uphold the `RawWaker` contract for a header pointer;
    // the caller handles the missing reference.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &VTABLE)) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    let ptr = header(data);
    // SAFETY: the waker being cloned keeps the task alive; the clone takes its own unit: a
    // banked one on the owner thread if there is one (see `raw.rs`), else a new one.
    unsafe {
        if !(runtime::on_owner_thread(ptr) && raw::unbank(ptr)) {
            raw::inc_ref(ptr);
        }
    }
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: this waker owns one unit of `refs`; `schedule` takes it over.
    unsafe { runtime::wake_task(header(data), true) }
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker (owned or borrowed) keeps the task alive during the call.
    unsafe { runtime::wake_task(header(data), false) }
}

unsafe fn drop_waker(data: *const ()) {
    let ptr = header(data);
    // SAFETY: this waker owns one unit, given up here: banked on the owner thread while the
    // local side holds the task, else given back.
    unsafe {
        if !(runtime::on_owner_thread(ptr) && raw::bank(ptr)) {
            raw::drop_ref(ptr);
        }
    }
}

fn header(data: *const ()) -> NonNull<Header> {
    // The data pointer was made from a `NonNull<Header>` in this module.
    NonNull::new(data as *mut Header).unwrap_or_else(|| unreachable!("null task waker"))
}
