//! A small per-thread cache of freed channel blocks (the oneshot's).
//!
//! A oneshot round (create, send, receive) allocates one block and frees it a moment later,
//! usually on the same thread: a reply channel per request. Keeping a few freed blocks per
//! thread and handing them back to the next `channel()` skips the allocator's two calls,
//! which were a tenth of the round's time (glibc's `malloc`, `free`, `_int_free`: about 125
//! of its 1,150 instructions).
//!
//! The cache is `weft_core::block_cache` (the executor's task-block cache is one too): blocks
//! kept by exact size (every oneshot block is a multiple of 8 bytes, aligned to 8), at most 8
//! of each size per thread, never rounded up, so a cached block costs the allocator what an
//! uncached one would. A block may be freed on another thread than the one that allocated it
//! (the last side to let go frees it): it joins that thread's cache, as glibc's own per-thread
//! cache would take it. A thread's blocks go back to the allocator when it exits; a block
//! freed while the thread's cache is gone (during thread-local destruction) goes straight
//! back.
//!
//! In a loom build (`--cfg weft_loom`) there is no cache: every block goes through
//! `weft_core::sync::alloc`, which loom tracks for leaks.

use std::alloc::Layout;
use std::ptr::NonNull;
use weft_core::sync::alloc;

/// One thread's cache: blocks up to 128 bytes, aligned to 8, 8 of each size.
type Cache = weft_core::block_cache::BlockCache<8, 16, 8>;

thread_local! {
    static CACHE: std::cell::UnsafeCell<Cache> = const { std::cell::UnsafeCell::new(Cache::new()) };
}

/// The layout a block of `layout` is allocated and freed with.
#[inline]
fn block_layout(layout: Layout) -> Layout {
    Cache::block_layout(layout)
}

/// A block for a value of `layout`: a cached one, or a new allocation. Aborts through
/// `handle_alloc_error` if the allocator fails.
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    if !cfg!(weft_loom) {
        // SAFETY: the cache is this thread's and no reference to it outlives this closure
        // (nothing in it calls back into this module).
        if let Ok(block) = CACHE.try_with(|cache| unsafe { &mut *cache.get() }.allocate(layout)) {
            return block;
        }
    }
    let layout = block_layout(layout);
    // SAFETY: `layout` is not zero-sized (callers allocate blocks with a state word).
    let ptr = unsafe { alloc::alloc(layout) };
    NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

/// Keeps `block` for reuse if there is room in its class; gives it back otherwise.
///
/// # Safety
/// `block` came from [`allocate`] with the same `layout`, nothing uses it any more, and what
/// it held has been dropped.
#[inline]
pub(crate) unsafe fn free(block: NonNull<u8>, layout: Layout) {
    if !cfg!(weft_loom) {
        // SAFETY: as in `allocate`; and forwarded from the caller: every block `allocate`
        // hands out, whichever thread's cache it came from, was allocated with
        // `block_layout(layout)`, the same for every thread's cache.
        let kept = CACHE.try_with(|cache| unsafe { (*cache.get()).free(block, layout) });
        if kept.is_ok() {
            return;
        }
    }
    // SAFETY: forwarded from the caller: `allocate` allocated it with `block_layout(layout)`.
    unsafe { alloc::dealloc(block.as_ptr(), block_layout(layout)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_block_is_reused_by_the_same_thread() {
        let layout = Layout::from_size_align(56, 8).unwrap();
        let a = allocate(layout);
        // SAFETY: from `allocate` with `layout`, unused, holds nothing.
        unsafe { free(a, layout) };
        assert_eq!(
            allocate(layout),
            a,
            "the block just freed is the next one handed out"
        );
        // SAFETY: as above.
        unsafe { free(a, layout) };
    }

    #[test]
    fn a_block_freed_on_another_thread_joins_that_threads_cache() {
        let layout = Layout::from_size_align(24, 8).unwrap();
        let block = SendPtr(allocate(layout));
        std::thread::spawn(move || {
            let block = block;
            // SAFETY: from `allocate` with `layout`, unused, holds nothing.
            unsafe { free(block.0, layout) };
            assert_eq!(allocate(layout), block.0);
            // SAFETY: as above; the thread's exit frees it with its cache.
            unsafe { free(block.0, layout) };
        })
        .join()
        .unwrap();
    }

    struct SendPtr(NonNull<u8>);
    // SAFETY: the test hands an unused block to one other thread.
    unsafe impl Send for SendPtr {}
}
