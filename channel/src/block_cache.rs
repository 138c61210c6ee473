//! A small per-thread cache of freed channel blocks (the oneshot's).
//!
//! A oneshot round (create, send, receive) allocates one block and frees it a moment later,
//! usually on the same thread: a reply channel per request. Keeping a few freed blocks per
//! thread and handing them back to the next `channel()` skips the allocator's two calls,
//! which were a tenth of the round's time (glibc's `malloc`, `free`, `_int_free`: about 125
//! of its 1,150 instructions).
//!
//! Blocks are kept by exact size: a block of `layout` whose size is a multiple of `STEP` up
//! to `CLASSES * STEP` and whose alignment is at most `STEP` (every oneshot block: its state
//! word makes it a multiple of 8 bytes, aligned to 8) is allocated with that size and an
//! alignment of exactly `STEP`, and whichever way it goes it is freed with that layout. Sizes
//! are not rounded up: a cached block costs the allocator what an uncached one would. A block may be freed on another thread than the one that allocated it (the last
//! side to let go frees it): it joins that thread's cache, as glibc's own per-thread cache
//! would take it. At most `PER_CLASS` blocks are kept per class and thread; a thread's
//! blocks go back to the allocator when it exits. A block freed while the thread's cache is
//! gone (during thread-local destruction) goes straight back to the allocator.
//!
//! In a loom build (`--cfg weft_loom`) there is no cache: every block goes through
//! `weft_core::sync::alloc`, which loom tracks for leaks.

use std::alloc::Layout;
use std::ptr::NonNull;
use weft_core::sync::alloc;

/// Cached sizes are multiples of this, and it is every cached block's alignment.
const STEP: usize = 8;
/// Blocks up to `CLASSES * STEP` bytes are cached.
const CLASSES: usize = 16;
/// The most blocks kept per class and thread: enough for a few replies in flight.
const PER_CLASS: usize = 8;

/// The layout a block of `layout` is allocated and freed with: its class's when cacheable,
/// else `layout` itself.
#[inline]
pub(crate) const fn block_layout(layout: Layout) -> Layout {
    match class(layout) {
        Some(c) => class_layout(c),
        None => layout,
    }
}

/// The class of a block of `layout` (the layout asked for, or its `block_layout`).
#[inline]
const fn class(layout: Layout) -> Option<usize> {
    let size = layout.size();
    if cfg!(weft_loom)
        || size == 0
        || size > CLASSES * STEP
        || size % STEP != 0
        || layout.align() > STEP
    {
        None
    } else {
        Some(size / STEP - 1)
    }
}

/// The layout of class `c`'s blocks.
#[inline]
const fn class_layout(c: usize) -> Layout {
    // SAFETY: `STEP` is a power of two and `(c + 1) * STEP` is at most `CLASSES * STEP`, a
    // multiple of `STEP` far from overflowing `isize`.
    unsafe { Layout::from_size_align_unchecked((c + 1) * STEP, STEP) }
}

/// One thread's freed blocks.
struct Cache {
    blocks: [[*mut u8; PER_CLASS]; CLASSES],
    len: [u8; CLASSES],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for c in 0..CLASSES {
            for &block in &self.blocks[c][..self.len[c] as usize] {
                // SAFETY: cached blocks are unused heap blocks allocated with their class's
                // layout (`free` admits no other), and each is in the cache once.
                unsafe { alloc::dealloc(block, class_layout(c)) };
            }
            self.len[c] = 0;
        }
    }
}

thread_local! {
    static CACHE: std::cell::UnsafeCell<Cache> = const {
        std::cell::UnsafeCell::new(Cache {
            blocks: [[std::ptr::null_mut(); PER_CLASS]; CLASSES],
            len: [0; CLASSES],
        })
    };
}

/// A block for a value of `layout`: a cached one, or a new allocation with
/// [`block_layout`]`(layout)`. Aborts through `handle_alloc_error` if the allocator fails.
#[inline]
pub(crate) fn allocate(layout: Layout) -> NonNull<u8> {
    if let Some(c) = class(layout) {
        let cached = CACHE
            .try_with(|cache| {
                // SAFETY: the cache is this thread's and no reference to it outlives this
                // closure (nothing in it calls back into this module).
                let cache = unsafe { &mut *cache.get() };
                let len = cache.len[c] as usize;
                if len == 0 {
                    return None;
                }
                cache.len[c] -= 1;
                NonNull::new(cache.blocks[c][len - 1])
            })
            .ok()
            .flatten();
        if let Some(block) = cached {
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
    if let Some(c) = class(layout) {
        let kept = CACHE
            .try_with(|cache| {
                // SAFETY: as in `allocate`.
                let cache = unsafe { &mut *cache.get() };
                let len = cache.len[c] as usize;
                if len == PER_CLASS {
                    return false;
                }
                cache.blocks[c][len] = block.as_ptr();
                cache.len[c] += 1;
                true
            })
            .unwrap_or(false);
        if kept {
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
    fn classes_are_exact_sizes() {
        assert_eq!(class(Layout::new::<u64>()), Some(0));
        assert_eq!(class(Layout::from_size_align(16, 8).unwrap()), Some(1));
        assert_eq!(class(Layout::from_size_align(16, 4).unwrap()), Some(1));
        assert_eq!(class(Layout::from_size_align(17, 1).unwrap()), None);
        assert_eq!(class(Layout::new::<u8>()), None);
        assert_eq!(
            class(Layout::from_size_align(CLASSES * STEP, 8).unwrap()),
            Some(CLASSES - 1)
        );
        assert_eq!(
            class(Layout::from_size_align(CLASSES * STEP + STEP, 8).unwrap()),
            None
        );
        assert_eq!(class(Layout::from_size_align(64, 16).unwrap()), None);
        let l = block_layout(Layout::from_size_align(40, 4).unwrap());
        assert_eq!((l.size(), l.align()), (40, 8));
        let l = block_layout(Layout::from_size_align(56, 8).unwrap());
        assert_eq!(l, Layout::from_size_align(56, 8).unwrap());
    }

    #[test]
    fn a_freed_block_is_reused_and_the_cache_is_bounded() {
        let layout = Layout::from_size_align(56, 8).unwrap();
        let a = allocate(layout);
        // SAFETY: from `allocate` with `layout`, unused, holds nothing.
        unsafe { free(a, layout) };
        let b = allocate(layout);
        assert_eq!(a, b, "the block just freed is the next one handed out");
        let blocks: Vec<_> = (0..PER_CLASS + 4).map(|_| allocate(layout)).collect();
        for &blk in &blocks {
            // SAFETY: as above.
            unsafe { free(blk, layout) };
        }
        // SAFETY: as above.
        unsafe { free(b, layout) };
        let kept = CACHE.with(|c| {
            // SAFETY: this thread's cache, no other reference alive.
            unsafe { (*c.get()).len[class(layout).unwrap()] as usize }
        });
        assert_eq!(kept, PER_CLASS);
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
