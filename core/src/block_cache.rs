//! A small cache of freed heap blocks, kept by exact size: the executor's per-runtime cache of
//! task blocks and the channels' per-thread cache of oneshot blocks are both one of these.
//!
//! A block of `layout` is cacheable when its size is a multiple of [`STEP`] up to
//! `CLASSES * STEP` and its alignment at most `ALIGN`; it is then allocated with that size and
//! an alignment of exactly `ALIGN` ([`BlockCache::block_layout`]), and whichever way it goes
//! (into the cache, or back to the allocator) it is freed with that layout. Sizes are never
//! rounded up: a cached block costs the allocator what an uncached one would. At most
//! `PER_CLASS` blocks are kept per size; the rest go back to the allocator, and dropping the
//! cache frees what it holds.

use std::alloc::Layout;
use std::ptr::NonNull;

use crate::sync::alloc;

/// Cached sizes are multiples of this.
pub const STEP: usize = 8;

/// Freed blocks by size: `ALIGN` is every cached block's alignment (a power of two, at least
/// [`STEP`]), blocks up to `CLASSES * STEP` bytes are cached, at most `PER_CLASS` of each size.
///
/// # Examples
///
/// ```
/// use std::alloc::Layout;
/// use weft_core::block_cache::BlockCache;
///
/// let mut cache = BlockCache::<8, 16, 4>::new();
/// let layout = Layout::new::<[u64; 3]>();
/// let a = cache.allocate(layout);
/// // SAFETY: from `allocate` with `layout`, unused, holding nothing.
/// unsafe { cache.free(a, layout) };
/// assert_eq!(cache.allocate(layout), a);
/// # unsafe { cache.free(a, layout) };
/// ```
pub struct BlockCache<const ALIGN: usize, const CLASSES: usize, const PER_CLASS: usize> {
    blocks: [[*mut u8; PER_CLASS]; CLASSES],
    len: [u8; CLASSES],
}

impl<const ALIGN: usize, const CLASSES: usize, const PER_CLASS: usize>
    BlockCache<ALIGN, CLASSES, PER_CLASS>
{
    /// An empty cache.
    pub const fn new() -> Self {
        assert!(ALIGN.is_power_of_two() && ALIGN >= STEP && PER_CLASS <= u8::MAX as usize);
        BlockCache {
            blocks: [[std::ptr::null_mut(); PER_CLASS]; CLASSES],
            len: [0; CLASSES],
        }
    }

    /// The layout a block of `layout` is allocated and freed with: aligned to `ALIGN` when
    /// cacheable, else `layout` itself.
    #[inline]
    pub const fn block_layout(layout: Layout) -> Layout {
        match Self::class(layout) {
            Some(c) => Self::class_layout(c),
            None => layout,
        }
    }

    /// The class of a block of `layout` (the layout asked for, or its `block_layout`).
    #[inline]
    const fn class(layout: Layout) -> Option<usize> {
        let size = layout.size();
        if size == 0 || size > CLASSES * STEP || size % STEP != 0 || layout.align() > ALIGN {
            None
        } else {
            Some(size / STEP - 1)
        }
    }

    /// The layout of class `c`'s blocks.
    #[inline]
    const fn class_layout(c: usize) -> Layout {
        match Layout::from_size_align((c + 1) * STEP, ALIGN) {
            Ok(layout) => layout,
            Err(_) => panic!("BlockCache: ALIGN must be a power of two"),
        }
    }

    /// A block for a value of `layout`: a cached one, or a new allocation with
    /// [`block_layout`](Self::block_layout)`(layout)`. Aborts through `handle_alloc_error` if
    /// the allocator fails.
    #[inline]
    pub fn allocate(&mut self, layout: Layout) -> NonNull<u8> {
        if let Some(c) = Self::class(layout) {
            let len = self.len[c] as usize;
            if len > 0 {
                self.len[c] -= 1;
                if let Some(block) = NonNull::new(self.blocks[c][len - 1]) {
                    return block;
                }
            }
        }
        let layout = Self::block_layout(layout);
        assert!(layout.size() != 0, "BlockCache: zero-sized block");
        // SAFETY: `layout` is not zero-sized (asserted).
        let ptr = unsafe { alloc::alloc(layout) };
        NonNull::new(ptr).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
    }

    /// Keeps `block` for reuse if there is room in its class; gives it back otherwise.
    ///
    /// # Safety
    /// `block` came from [`allocate`](Self::allocate) (of any cache with the same `ALIGN`) or
    /// the global allocator with `block_layout(layout)`, nothing uses it any more, and what it
    /// held has been dropped.
    #[inline]
    pub unsafe fn free(&mut self, block: NonNull<u8>, layout: Layout) {
        if let Some(c) = Self::class(layout) {
            let len = self.len[c] as usize;
            if len < PER_CLASS {
                self.blocks[c][len] = block.as_ptr();
                self.len[c] += 1;
                return;
            }
        }
        // SAFETY: forwarded from the caller: allocated with `block_layout(layout)`.
        unsafe { alloc::dealloc(block.as_ptr(), Self::block_layout(layout)) };
    }

    /// How many blocks of `layout`'s class are kept now.
    pub fn cached(&self, layout: Layout) -> usize {
        Self::class(layout).map_or(0, |c| self.len[c] as usize)
    }
}

impl<const ALIGN: usize, const CLASSES: usize, const PER_CLASS: usize> Default
    for BlockCache<ALIGN, CLASSES, PER_CLASS>
{
    fn default() -> Self {
        Self::new()
    }
}

impl<const ALIGN: usize, const CLASSES: usize, const PER_CLASS: usize> Drop
    for BlockCache<ALIGN, CLASSES, PER_CLASS>
{
    fn drop(&mut self) {
        for c in 0..CLASSES {
            for &block in &self.blocks[c][..self.len[c] as usize] {
                // SAFETY: cached blocks are unused heap blocks allocated with their class's
                // layout (`free` admits no other), each in the cache once.
                unsafe { alloc::dealloc(block, Self::class_layout(c)) };
            }
            self.len[c] = 0;
        }
    }
}

impl<const ALIGN: usize, const CLASSES: usize, const PER_CLASS: usize> std::fmt::Debug
    for BlockCache<ALIGN, CLASSES, PER_CLASS>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept: usize = self.len.iter().map(|&n| n as usize).sum();
        f.debug_struct("BlockCache").field("kept", &kept).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Cache = BlockCache<16, 16, 8>;

    #[test]
    fn classes_are_exact_sizes_aligned_to_align() {
        assert_eq!(Cache::class(Layout::new::<u64>()), Some(0));
        assert_eq!(
            Cache::class(Layout::from_size_align(16, 4).unwrap()),
            Some(1)
        );
        assert_eq!(Cache::class(Layout::from_size_align(17, 1).unwrap()), None);
        assert_eq!(Cache::class(Layout::new::<u8>()), None);
        assert_eq!(
            Cache::class(Layout::from_size_align(128, 8).unwrap()),
            Some(15)
        );
        assert_eq!(Cache::class(Layout::from_size_align(136, 8).unwrap()), None);
        assert_eq!(Cache::class(Layout::from_size_align(64, 32).unwrap()), None);
        let l = Cache::block_layout(Layout::from_size_align(40, 8).unwrap());
        assert_eq!((l.size(), l.align()), (40, 16));
        let odd = Layout::from_size_align(41, 1).unwrap();
        assert_eq!(Cache::block_layout(odd), odd);
    }

    #[test]
    fn a_freed_block_is_reused_and_the_cache_is_bounded() {
        let mut cache = Cache::new();
        let layout = Layout::from_size_align(56, 8).unwrap();
        let a = cache.allocate(layout);
        // SAFETY: from `allocate` with `layout`, unused, holds nothing.
        unsafe { cache.free(a, layout) };
        let b = cache.allocate(layout);
        assert_eq!(a, b, "the block just freed is the next one handed out");
        let blocks: Vec<_> = (0..12).map(|_| cache.allocate(layout)).collect();
        for &blk in blocks.iter().chain([&b]) {
            // SAFETY: as above.
            unsafe { cache.free(blk, layout) };
        }
        assert_eq!(cache.cached(layout), 8);
    }
}
