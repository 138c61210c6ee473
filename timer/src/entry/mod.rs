//! What the wheel stores per timer, and the wakers those timers share.
//!
//! # Ground rules
//!
//! An [`Entry`] lives in the wheel's [`Slab`] and is touched only through a `&mut Wheel`,
//! that is, while its timer's `RefCell<Wheel>` is mutably borrowed, which never lasts across
//! user code (a wake, or the drop of a waker). A [`Sleep`](crate::Sleep) refers to its entry
//! only by [`Key`]: plain data, valid until the entry fires, is cancelled, or is reset (which
//! hands the Sleep a new key).
//!
//! [`Slab`]: weft_core::slab::Slab
//! [`Key`]: weft_core::slab::Key

pub(crate) mod wakers;

/// Where an entry is linked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    /// In the list of `slot` on wheel level `level`.
    Slot { level: u8, slot: u8 },
    /// Due in the wheel's current tick (or in the past): in the ready heap. The heap item
    /// carries the entry's stamp; a cancelled or reset entry leaves a stale item behind (the
    /// stamp no longer matches), skipped when popped.
    Ready,
}

/// One timer (24 bytes; 40 with its slab slot).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// The exact deadline, in nanoseconds since the timer's origin.
    pub(crate) when: u64,
    /// Its waker's index in the wheel's [`wakers::Wakers`] (`NIL`: none).
    pub(crate) waker: u32,
    /// Neighbours in the slot list (`NIL` at the ends, and while `loc` is `Ready`).
    pub(crate) prev: u32,
    pub(crate) next: u32,
    pub(crate) loc: Loc,
}
