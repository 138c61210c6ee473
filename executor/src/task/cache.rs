//! A small per-runtime cache of freed task blocks.
//!
//! A task that ends on its runtime's thread leaves its block here (when it is freed there,
//! by `raw::release_local`), and the next spawn of a task of the same size takes it back
//! without a trip through the allocator: spawning short tasks in a loop (a request handler, a
//! oneshot reply) then reuses one warm block. A block freed on another thread (its last waker
//! dropped there) goes back to the allocator as usual.
//!
//! Every cacheable task block (size up to `CLASSES * GRANULE`, alignment up to `GRANULE`) is
//! allocated with its size rounded up to a multiple of `GRANULE` and an alignment of exactly
//! `GRANULE` (what the allocator does anyway), and that layout is what its vtable records: so
//! all blocks of a size class have one layout, any of them fits any task of that class, and a
//! block is freed with the layout it was allocated with whichever way it goes. Blocks are kept
//! by size class, at most `PER_CLASS` per class; the runtime frees them when it is dropped.

use std::alloc::{self, Layout};
use std::ptr::NonNull;

/// Size classes are multiples of this (and blocks aligned to at most this are cached).
const GRANULE: usize = 16;
/// Blocks up to `CLASSES * GRANULE` bytes are cached.
const CLASSES: usize = 32;
/// The most blocks kept per class.
const PER_CLASS: usize = 64;

/// The layout to allocate a task block of `layout` with: the size class's layout when the
/// block is cacheable, else `layout` itself.
pub(crate) const fn block_layout(layout: Layout) -> Layout {
    if layout.align() > GRANULE || layout.size() > CLASSES * GRANULE || layout.size() == 0 {
        return layout;
    }
    match Layout::from_size_align(layout.size().div_ceil(GRANULE) * GRANULE, GRANULE) {
        Ok(l) => l,
        Err(_) => layout,
    }
}

/// The layout of the blocks of class `c`.
fn class_layout(c: usize) -> Layout {
    // A multiple of a power of two, far from overflowing: always valid.
    Layout::from_size_align((c + 1) * GRANULE, GRANULE).expect("valid class layout")
}

/// The class of a block allocated with `layout` (from [`block_layout`]), if cacheable.
fn class(layout: Layout) -> Option<usize> {
    let cacheable = layout.align() == GRANULE
        && layout.size() <= CLASSES * GRANULE
        && layout.size() != 0
        && layout.size() % GRANULE == 0;
    cacheable.then(|| layout.size() / GRANULE - 1)
}

/// Freed blocks by size class. Owner thread only (it lives in the runtime's core).
pub(crate) struct BlockCache {
    classes: [Vec<NonNull<u8>>; CLASSES],
}

impl BlockCache {
    pub(crate) fn new() -> BlockCache {
        BlockCache {
            classes: std::array::from_fn(|_| Vec::new()),
        }
    }

    /// A block for `layout` (from [`block_layout`]): a cached one, or a new allocation.
    /// Aborts through `handle_alloc_error` if the allocator fails.
    #[inline]
    pub(crate) fn allocate(&mut self, layout: Layout) -> NonNull<u8> {
        if let Some(block) = class(layout).and_then(|c| self.classes[c].pop()) {
            return block;
        }
        allocate(layout)
    }

    /// Keeps `block` for reuse if there is room in its class; gives it back otherwise.
    ///
    /// # Safety
    /// `block` was allocated with `layout` by the global allocator, nothing uses it any more,
    /// and it holds nothing that needs dropping.
    #[inline]
    pub(crate) unsafe fn free(&mut self, block: NonNull<u8>, layout: Layout) {
        if let Some(c) = class(layout) {
            let list = &mut self.classes[c];
            if list.len() < PER_CLASS {
                list.push(block);
                return;
            }
        }
        // SAFETY: forwarded from the caller.
        unsafe { alloc::dealloc(block.as_ptr(), layout) };
    }
}

impl Drop for BlockCache {
    fn drop(&mut self) {
        for (c, list) in self.classes.iter_mut().enumerate() {
            for block in list.drain(..) {
                // SAFETY: cached blocks are unused heap blocks allocated with their class's
                // layout (`class` admits no other).
                unsafe { alloc::dealloc(block.as_ptr(), class_layout(c)) };
            }
        }
    }
}

/// A new block for `layout` from the global allocator.
fn allocate(layout: Layout) -> NonNull<u8> {
    // SAFETY: task layouts are never zero-sized (the header alone is not).
    let ptr = unsafe { alloc::alloc(layout) };
    NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}
