//! The runtime's list of live tasks: a slab indexed by `Header::slot`, with what the task dump
//! shows about each task. Owner thread only; holds no references of its own (the `OWNED` flag
//! is the runtime's reference).

use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::task::raw::{Header, NO_SLOT};

pub(crate) struct Slot {
    pub(crate) task: Option<NonNull<Header>>,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) location: &'static Location<'static>,
    /// Total time in `poll` (tracked only with metrics or debug on).
    pub(crate) poll_time: Duration,
    /// When the task was last woken (tracked only with metrics or debug on).
    pub(crate) last_wake: Option<Instant>,
    next_free: u32,
}

#[derive(Default)]
pub(crate) struct Owned {
    slots: Vec<Slot>,
    free_head: Option<u32>,
    len: usize,
}

impl Owned {
    pub(crate) fn insert(
        &mut self,
        task: NonNull<Header>,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) -> u32 {
        self.len += 1;
        let slot = Slot {
            task: Some(task),
            name,
            location,
            poll_time: Duration::ZERO,
            last_wake: None,
            next_free: NO_SLOT,
        };
        match self.free_head {
            Some(i) => {
                let s = &mut self.slots[i as usize];
                self.free_head = (s.next_free != NO_SLOT).then_some(s.next_free);
                *s = slot;
                i
            }
            None => {
                let i = self.slots.len() as u32;
                assert!(i != NO_SLOT, "too many live tasks");
                self.slots.push(slot);
                i
            }
        }
    }

    pub(crate) fn remove(&mut self, index: u32) {
        let s = &mut self.slots[index as usize];
        debug_assert!(s.task.is_some());
        s.task = None;
        s.name = None;
        s.next_free = self.free_head.unwrap_or(NO_SLOT);
        self.free_head = Some(index);
        self.len -= 1;
    }

    pub(crate) fn get(&self, index: u32) -> Option<&Slot> {
        self.slots.get(index as usize).filter(|s| s.task.is_some())
    }

    pub(crate) fn get_mut(&mut self, index: u32) -> Option<&mut Slot> {
        self.slots
            .get_mut(index as usize)
            .filter(|s| s.task.is_some())
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().filter(|s| s.task.is_some())
    }
}
