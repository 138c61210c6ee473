//! A small per-runtime cache of freed task blocks.
//!
//! A task that ends on its runtime's thread leaves its block here (when it is freed there,
//! by `raw::release_local`), and the next spawn of a task of the same size takes it back
//! without a trip through the allocator: spawning short tasks in a loop (a request handler, a
//! oneshot reply) then reuses one warm block. A block freed on another thread (its last waker
//! dropped there) goes back to the allocator as usual.
//!
//! The cache is `weft_core::block_cache` (blocks kept by exact size, allocated with an
//! alignment of exactly 16, which is what the allocator gives anyway); the layout its
//! `block_layout` gives is what a task's vtable records, so a block is freed with the layout it
//! was allocated with whichever way it goes. The runtime frees the cached blocks when it is
//! dropped.

use std::alloc::Layout;

/// The runtime's cache: task blocks up to 512 bytes, 8 of each size. Few: enough for a task
/// that ends and the next spawn (the common loop), while a burst that frees thousands of blocks
/// leaves almost all of them to the allocator, whose free lists coalesce better without cached
/// blocks between them (64 a size cost spawn_many ~50 instructions a task in glibc's
/// `unlink_chunk`).
pub(crate) type BlockCache = weft_core::block_cache::BlockCache<16, 64, 8>;

/// The layout to allocate a task block of `layout` with: aligned to 16 when the block is
/// cacheable, else `layout` itself.
pub(crate) const fn block_layout(layout: Layout) -> Layout {
    BlockCache::block_layout(layout)
}
