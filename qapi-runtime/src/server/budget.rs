//! The server's memory budget: what clients make it hold (input being
//! read, requests waiting to run, replies and events not yet sent),
//! shared by all connections, and what it counts.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

use crate::stream::STORED_TOKEN_COST;

/// What each connection may hold without drawing on the budget: enough
/// for ordinary requests and replies, so that a client with small
/// requests is served even when others have used the budget up.
pub const FREE_PER_CONNECTION: usize = 64 << 10;

/// The memory budget of one server, and its counters.
#[derive(Debug, Default)]
pub(super) struct Budget {
    limit: usize,
    used: AtomicUsize,
    /// Events dropped for clients that did not read them.
    pub(super) events_lost: AtomicU64,
    /// Clients disconnected for going over the budget.
    pub(super) over_budget: AtomicU64,
}

impl Budget {
    pub(super) fn new(limit: usize) -> Self {
        Budget { limit, ..Budget::default() }
    }

    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    pub(super) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `n` bytes if they fit.
    fn take(&self, n: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn give(&self, n: usize) {
        self.used.fetch_sub(n, Ordering::AcqRel);
    }
}

/// The connection would take the server over its budget.
#[derive(Debug)]
pub(super) struct OverBudget;

/// What one connection holds: past [`FREE_PER_CONNECTION`], drawn from
/// the server's budget, and given back when it holds less or is dropped.
#[derive(Debug)]
pub(super) struct Account {
    budget: Arc<Budget>,
    charged: usize,
}

impl Account {
    pub(super) fn new(budget: Arc<Budget>) -> Self {
        Account { budget, charged: 0 }
    }

    /// Records that the connection holds (or is about to hold) `held`
    /// bytes; fails, changing nothing, when the budget cannot cover them.
    pub(super) fn hold(&mut self, held: usize) -> Result<(), OverBudget> {
        let charge = held.saturating_sub(FREE_PER_CONNECTION);
        if charge > self.charged {
            if !self.budget.take(charge - self.charged) {
                return Err(OverBudget);
            }
        } else {
            self.budget.give(self.charged - charge);
        }
        self.charged = charge;
        Ok(())
    }
}

impl Drop for Account {
    fn drop(&mut self) {
        self.budget.give(self.charged);
    }
}

/// Roughly the memory a parsed request holds (counted as
/// [`JsonStream::memory`](crate::stream::JsonStream::memory) counts it).
pub(super) fn value_memory(v: &Value) -> usize {
    // Recursive: a request nests at most `Limits::max_depth` deep, and
    // this runs for every request (no allocation).
    STORED_TOKEN_COST
        + match v {
            Value::String(s) => s.len(),
            Value::Array(items) => items.iter().map(value_memory).sum(),
            Value::Object(map) => map.iter().map(|(k, item)| STORED_TOKEN_COST + k.len() + value_memory(item)).sum(),
            Value::Null | Value::Bool(_) | Value::Number(_) => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_draw_past_the_allowance_and_give_back() {
        let budget = Arc::new(Budget::new(100_000));
        let mut a = Account::new(budget.clone());
        let mut b = Account::new(budget.clone());
        a.hold(FREE_PER_CONNECTION).unwrap();
        assert_eq!(budget.used(), 0);
        a.hold(FREE_PER_CONNECTION + 60_000).unwrap();
        assert!(b.hold(FREE_PER_CONNECTION + 50_000).is_err());
        assert_eq!(budget.used(), 60_000);
        b.hold(FREE_PER_CONNECTION + 40_000).unwrap();
        assert_eq!(budget.used(), 100_000);
        a.hold(10).unwrap();
        assert_eq!(budget.used(), 40_000);
        drop(b);
        assert_eq!(budget.used(), 0);
    }
}
