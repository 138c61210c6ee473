//! The runtime's list of live tasks: each task's `OwnedTask` token (its `OWNED` reference,
//! see `task/harness.rs`) with what the task dump shows about it, in a [`Slab`] whose index
//! the task's header remembers. Owner thread only.

use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use weft_core::slab::Slab;

use crate::task::harness::{OwnedTask, TaskRef};

pub(crate) struct OwnedSlot {
    pub(crate) task: OwnedTask,
    pub(crate) location: &'static Location<'static>,
    /// The task's name and what observation keeps about it, made the first time there is
    /// any: most tasks have no name and most runtimes observe nothing, and a small slot is
    /// cheaper to add and take out (24 bytes).
    extra: Option<Box<Extra>>,
}

/// The rarer parts of an owned slot.
#[derive(Default)]
pub(crate) struct Extra {
    name: Option<Arc<str>>,
    /// Total time in `poll` (tracked only in debug mode).
    pub(crate) poll_time: Duration,
    /// When the task was last woken (tracked only for sampled wakes).
    pub(crate) last_wake: Option<Instant>,
}

impl OwnedSlot {
    /// The rarer parts, made on first use.
    pub(crate) fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    pub(crate) fn name(&self) -> Option<&Arc<str>> {
        self.extra.as_ref().and_then(|e| e.name.as_ref())
    }

    pub(crate) fn last_wake(&self) -> Option<Instant> {
        self.extra.as_ref().and_then(|e| e.last_wake)
    }

    pub(crate) fn poll_time(&self) -> Duration {
        self.extra.as_ref().map_or(Duration::ZERO, |e| e.poll_time)
    }
}

#[derive(Default)]
pub(crate) struct Owned {
    slots: Slab<OwnedSlot>,
}

impl Owned {
    /// Adds a task; its header learns its index.
    pub(crate) fn insert(
        &mut self,
        task: OwnedTask,
        name: Option<Arc<str>>,
        location: &'static Location<'static>,
    ) {
        self.slots.insert_with(|key| {
            task.set_slot(key.index());
            OwnedSlot {
                task,
                location,
                extra: name.map(|name| {
                    Box::new(Extra {
                        name: Some(name),
                        ..Extra::default()
                    })
                }),
            }
        });
    }

    /// Takes out the task at `index` (from its `Completed` proof, which names a live entry).
    pub(crate) fn remove(&mut self, index: u32) -> OwnedSlot {
        self.slots.remove_at(index)
    }

    /// Takes out every task (shutdown).
    pub(crate) fn drain(&mut self) -> Vec<OwnedSlot> {
        self.slots.drain()
    }

    pub(crate) fn get(&self, index: u32) -> Option<&OwnedSlot> {
        self.slots.key_at(index).and_then(|k| self.slots.get(k))
    }

    pub(crate) fn get_mut(&mut self, index: u32) -> Option<&mut OwnedSlot> {
        let key = self.slots.key_at(index)?;
        self.slots.get_mut(key)
    }

    /// The entry of `task`, while it is in the list.
    pub(crate) fn get_slot(&self, task: TaskRef<'_>) -> Option<&OwnedSlot> {
        task.slot().and_then(|i| self.get(i))
    }

    /// Mutable [`Owned::get_slot`].
    pub(crate) fn get_slot_mut(&mut self, task: TaskRef<'_>) -> Option<&mut OwnedSlot> {
        task.slot().and_then(|i| self.get_mut(i))
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &OwnedSlot> {
        self.slots.iter().map(|(_, s)| s)
    }
}
