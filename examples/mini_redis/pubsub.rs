//! Publish/subscribe: the registry of channels and their subscribers, and each
//! subscriber's outbox.
//!
//! `PUBLISH` encodes the message once per subscriber straight into that subscriber's
//! [`Outbox`] and wakes its connection, which writes the outbox with its own replies in one
//! write. Everything runs on the runtime's one thread, so the state is `Rc` + `RefCell`.
//!
//! # Ground rules
//!
//! - The registry's `RefCell` is borrowed only inside the methods of this module, never
//!   across an `.await`; an outbox's buffer likewise.
//! - A [`Subscription`] is in the registry under exactly the channels of its own set; its
//!   `Drop` removes it from all of them, so a connection that ends for any reason leaves no
//!   outbox behind.
//!
//! # Memory
//!
//! Outboxes and subscriptions are charged to the clients' [`Budget`]: a subscriber that
//! does not read is disconnected when its outbox passes [`OUTBOX_LIMIT`] or the budget, and
//! a `SUBSCRIBE` that would pass the budget disconnects its client.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Poll, Waker};

use examples_common::resp::{write_array_len, write_bulk};

use crate::memory::{Budget, Charge};

/// What one subscription to one channel is counted for, beyond the channel's name: the
/// set's and the registry's entries.
const SUBSCRIPTION_OVERHEAD: usize = 96;

/// An outbox holding more than this is a subscriber that does not read: it is marked
/// overflowed and its connection is closed (Redis's `client-output-buffer-limit pubsub`
/// hard limit is the same 32 MiB).
pub const OUTBOX_LIMIT: usize = 32 * 1024 * 1024;

/// Messages published to one subscriber and not yet written to its socket.
pub struct Outbox {
    /// Encoded `message` frames, in publication order.
    buf: RefCell<Vec<u8>>,
    /// `buf`'s share of the clients' memory.
    charge: RefCell<Charge>,
    /// The connection task waiting in [`Outbox::ready`].
    waker: Cell<Option<Waker>>,
    /// Set once `buf` passed [`OUTBOX_LIMIT`]; later messages are dropped.
    overflowed: Cell<bool>,
}

impl std::fmt::Debug for Outbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbox")
            .field("pending", &self.buf.borrow().len())
            .field("overflowed", &self.overflowed.get())
            .finish_non_exhaustive()
    }
}

impl Outbox {
    /// An empty outbox charged to `budget`.
    fn new(budget: Rc<Budget>) -> Outbox {
        Outbox {
            buf: RefCell::default(),
            charge: RefCell::new(Charge::new(budget)),
            waker: Cell::default(),
            overflowed: Cell::default(),
        }
    }

    /// Appends a `message` frame for `channel` and wakes the connection.
    fn push(&self, channel: &[u8], payload: &[u8]) {
        if self.overflowed.get() {
            return;
        }
        let mut buf = self.buf.borrow_mut();
        write_array_len(&mut buf, 3);
        write_bulk(&mut buf, b"message");
        write_bulk(&mut buf, channel);
        write_bulk(&mut buf, payload);
        let mut charge = self.charge.borrow_mut();
        if buf.len() > OUTBOX_LIMIT || !charge.set(buf.capacity()) {
            self.overflowed.set(true);
            *buf = Vec::new();
            charge.set(0);
        }
        drop(buf);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Moves the pending messages to the end of `out`.
    pub fn take_into(&self, out: &mut Vec<u8>) {
        let mut buf = self.buf.borrow_mut();
        if buf.is_empty() {
            return;
        }
        if out.is_empty() && out.capacity() <= buf.capacity() {
            // Swap rather than copy; `buf` keeps `out`'s (cleared) allocation.
            std::mem::swap(&mut *buf, out);
        } else {
            out.extend_from_slice(&buf);
            buf.clear();
        }
        self.charge.borrow_mut().set(buf.capacity());
    }

    /// Whether a subscriber fell [`OUTBOX_LIMIT`] behind: its connection must close.
    pub fn overflowed(&self) -> bool {
        self.overflowed.get()
    }

    /// Resolves once a message is pending or the outbox overflowed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it takes nothing out of the outbox.
    pub fn ready(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(move |cx| {
            if !self.buf.borrow().is_empty() || self.overflowed.get() {
                return Poll::Ready(());
            }
            self.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        })
    }
}

/// One channel's subscribers, by subscription id.
type Subscribers = HashMap<u64, Rc<Outbox>>;

/// The registry shared by all connections.
#[derive(Debug, Default)]
struct Registry {
    /// Channel → its subscribers; a channel with none is removed.
    channels: RefCell<HashMap<Rc<[u8]>, Subscribers>>,
    /// The next subscription's id.
    next_id: Cell<u64>,
}

/// A handle to the server's publish/subscribe registry (a cheap clone).
#[derive(Debug, Clone)]
pub struct PubSub {
    registry: Rc<Registry>,
    /// What outboxes and subscriptions are charged to.
    budget: Rc<Budget>,
}

impl PubSub {
    /// An empty registry whose outboxes and subscriptions are charged to `budget`.
    pub fn new(budget: Rc<Budget>) -> PubSub {
        PubSub {
            registry: Rc::default(),
            budget,
        }
    }

    /// Delivers `payload` to every subscriber of `channel`; returns how many there were.
    pub fn publish(&self, channel: &[u8], payload: &[u8]) -> usize {
        let channels = self.registry.channels.borrow();
        let Some(subscribers) = channels.get(channel) else {
            return 0;
        };
        // Waking a weft task only queues it: no other task's code runs inside `push`, so
        // the registry borrow held here cannot be re-entered.
        for outbox in subscribers.values() {
            outbox.push(channel, payload);
        }
        subscribers.len()
    }

    /// A new subscription, subscribed to nothing yet, with its own outbox.
    pub fn subscription(&self) -> Subscription {
        let id = self.registry.next_id.get();
        self.registry.next_id.set(id + 1);
        Subscription {
            id,
            pubsub: self.clone(),
            outbox: Rc::new(Outbox::new(self.budget.clone())),
            channels: HashSet::new(),
            charge: Charge::new(self.budget.clone()),
            names: 0,
        }
    }
}

/// One connection's subscriptions and outbox.
#[derive(Debug)]
pub struct Subscription {
    /// This subscription's key in each channel's subscribers.
    id: u64,
    /// The registry it is entered in.
    pubsub: PubSub,
    /// Where the registry delivers this connection's messages.
    outbox: Rc<Outbox>,
    /// The channels subscribed to: exactly those under which the registry holds `id`.
    channels: HashSet<Rc<[u8]>>,
    /// What the subscriptions are counted for: `names` plus an overhead per channel.
    charge: Charge,
    /// The bytes of the channels' names.
    names: usize,
}

impl Subscription {
    /// Subscribes to `channel` (again is a no-op); returns how many channels this
    /// subscription now has, or `None` if the clients' memory budget has no room for it.
    pub fn subscribe(&mut self, channel: &[u8]) -> Option<usize> {
        if !self.channels.contains(channel) {
            let names = self.names + channel.len();
            let cost = names + (self.channels.len() + 1) * SUBSCRIPTION_OVERHEAD;
            if !self.charge.set(cost) {
                return None;
            }
            self.names = names;
            let channel: Rc<[u8]> = Rc::from(channel);
            let mut registry = self.pubsub.registry.channels.borrow_mut();
            registry
                .entry(channel.clone())
                .or_default()
                .insert(self.id, self.outbox.clone());
            self.channels.insert(channel);
        }
        Some(self.channels.len())
    }

    /// Unsubscribes from `channel` (not subscribed is a no-op); returns how many channels
    /// this subscription still has.
    pub fn unsubscribe(&mut self, channel: &[u8]) -> usize {
        if self.channels.remove(channel) {
            self.names -= channel.len();
            self.charge
                .set(self.names + self.channels.len() * SUBSCRIPTION_OVERHEAD);
            let mut registry = self.pubsub.registry.channels.borrow_mut();
            if let Some(subscribers) = registry.get_mut(channel) {
                subscribers.remove(&self.id);
                if subscribers.is_empty() {
                    registry.remove(channel);
                }
            }
        }
        self.channels.len()
    }

    /// The channels subscribed to, in no particular order.
    pub fn channels(&self) -> Vec<Rc<[u8]>> {
        self.channels.iter().cloned().collect()
    }

    /// How many channels are subscribed to; 0 means the connection is out of pub/sub mode.
    pub fn count(&self) -> usize {
        self.channels.len()
    }

    /// The messages waiting to be written.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        for channel in self.channels() {
            self.unsubscribe(&channel);
        }
    }
}
