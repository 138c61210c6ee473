//! The memory all clients' buffers may use together (`--maxmemory-clients`, as Redis 7
//! calls it): query buffers, reply buffers and pub/sub outboxes.
//!
//! A limit per client is not enough: a thousand clients each within their own limit are
//! a thousand times that limit. So every buffer past the small base each connection has
//! anyway is charged to one shared [`Budget`]; a client whose buffers would take it past
//! its limit is disconnected (Redis disconnects the largest client; we disconnect the one
//! that asked, which is simpler and bounds memory just as well). Keys and values have
//! their own limit, `--maxmemory`, in [`crate::db`].
//!
//! Everything runs on one thread, so the budget is a `Cell`.

use std::cell::Cell;
use std::rc::Rc;

/// Bytes the clients' buffers may hold together.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: Cell<usize>,
}

impl Budget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Rc<Budget> {
        Rc::new(Budget {
            limit,
            used: Cell::new(0),
        })
    }
}

/// One client's (or one outbox's) share of a [`Budget`], given back when dropped.
#[derive(Debug)]
pub struct Charge {
    budget: Rc<Budget>,
    held: usize,
}

impl Charge {
    /// A share of nothing yet.
    pub fn new(budget: Rc<Budget>) -> Charge {
        Charge { budget, held: 0 }
    }

    /// Makes this share `bytes`. Returns `false` (and keeps the old share) if the budget
    /// does not have that much.
    pub fn set(&mut self, bytes: usize) -> bool {
        let others = self.budget.used.get() - self.held;
        if bytes > self.held && others + bytes > self.budget.limit {
            return false;
        }
        self.budget.used.set(others + bytes);
        self.held = bytes;
        true
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.budget.used.set(self.budget.used.get() - self.held);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_limit() {
        let budget = Budget::new(100);
        let mut a = Charge::new(budget.clone());
        let mut b = Charge::new(budget.clone());
        assert!(a.set(60));
        assert!(!b.set(41));
        assert!(b.set(40));
        assert!(a.set(10)); // shrinking always works
        assert!(b.set(90));
        drop(b);
        assert_eq!(budget.used.get(), 10);
    }
}
