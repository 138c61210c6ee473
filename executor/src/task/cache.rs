//! A small per-runtime cache of freed task blocks.
//!
//! A task that ends on its runtime's thread leaves its block here (when it is freed there,
//! by `raw::release_local`), and the next spawn of a task of the same size takes it back
//! without a trip through the allocator: spawning short tasks in a loop (a request handler, a
//! oneshot reply) then reuses one warm block. A block freed on another thread (its last waker
//! dropped there) goes back to the allocator as usual.
//!
//! A cacheable task block (size a multiple of `STEP` up to `CLASSES * STEP`, alignment up to
//! `ALIGN`) is allocated with its own size and an alignment of exactly `ALIGN` (what the
//! allocator gives anyway), and that layout is what its vtable records: blocks are kept by
//! exact size, so a cached block is reused only for a task of that size, and is freed with the
//! layout it was allocated with whichever way it goes. At most `PER_CLASS` blocks are kept per
//! size; the runtime frees them when it is dropped.

use std::alloc::Layout;
use std::ptr::NonNull;
use weft_core::sync::alloc;

/// The alignment of every cacheable block (and the largest alignment that is cached).
const ALIGN: usize = 16;
/// Sizes are multiples of this (a task block holds `u64`s, so its size is one).
const STEP: usize = 8;
/// Blocks up to `CLASSES * STEP` bytes are cached.
const CLASSES: usize = 64;
/// The most blocks kept per size. Few: enough for a task that ends and the next spawn (the
/// common loop), while a burst that frees thousands of blocks leaves almost all of them to
/// the allocator, whose free lists coalesce better without cached blocks between them (64
/// cost spawn_many ~50 instructions a task in glibc's `unlink_chunk`).
const PER_CLASS: usize = 8;

/// The layout to allocate a task block of `layout` with: aligned to `ALIGN` when the block is
/// cacheable, else `layout` itself.
pub(crate) const fn block_layout(layout: Layout) -> Layout {
    let size = layout.size();
    if layout.align() > ALIGN || size > CLASSES * STEP || size == 0 || size % STEP != 0 {
        return layout;
    }
    match Layout::from_size_align(size, ALIGN) {
        Ok(l) => l,
        Err(_) => layout,
    }
}

/// The layout of the blocks of class `c`.
fn class_layout(c: usize) -> Layout {
    // A multiple of a power of two, far from overflowing: always valid.
    Layout::from_size_align((c + 1) * STEP, ALIGN).expect("valid class layout")
}

/// The class of a block allocated with `layout` (from [`block_layout`]), if cacheable.
fn class(layout: Layout) -> Option<usize> {
    let size = layout.size();
    let cacheable =
        layout.align() == ALIGN && size <= CLASSES * STEP && size != 0 && size % STEP == 0;
    cacheable.then(|| size / STEP - 1)
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
    NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}
