//! Cooperative cancellation of Parallel branches and Map iterations.
//!
//! When a branch fails, its Parallel state cancels the other branches; when a Map state gives up,
//! it cancels the iterations in flight. Cancelled work stops at its next await point (a task, a
//! Wait, a retry backoff), records its `…StateAborted` / `MapIterationAborted` events and returns.
//! Tokens form a tree: cancelling one cancels everything below it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Notify;

/// A cancellation token.
#[derive(Debug, Default)]
pub(crate) struct Cancel {
    flag: AtomicBool,
    notify: Notify,
    children: Mutex<Vec<Weak<Cancel>>>,
}

impl Cancel {
    /// A new root token.
    pub(crate) fn new() -> Arc<Cancel> {
        Arc::new(Cancel::default())
    }

    /// A token cancelled when this one is (or already cancelled, if this one is).
    pub(crate) fn child(self: &Arc<Self>) -> Arc<Cancel> {
        let child = Arc::new(Cancel::default());
        if self.is_cancelled() {
            child.cancel();
            return child;
        }
        let mut children = self.children.lock().unwrap_or_else(|p| p.into_inner());
        children.retain(|w| w.strong_count() > 0);
        children.push(Arc::downgrade(&child));
        child
    }

    /// Cancels this token and its descendants.
    pub(crate) fn cancel(&self) {
        if self.flag.swap(true, Ordering::SeqCst) {
            return;
        }
        self.notify.notify_waiters();
        let children =
            std::mem::take(&mut *self.children.lock().unwrap_or_else(|p| p.into_inner()));
        for c in children.iter().filter_map(Weak::upgrade) {
            c.cancel();
        }
    }

    /// Whether the token is cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Completes when the token is cancelled.
    pub(crate) async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cancelling_a_parent_cancels_children_and_wakes_waiters() {
        let root = Cancel::new();
        let child = root.child();
        let grandchild = child.child();
        let waiter = {
            let g = Arc::clone(&grandchild);
            tokio::spawn(async move { g.cancelled().await })
        };
        tokio::task::yield_now().await;
        assert!(!grandchild.is_cancelled());
        root.cancel();
        waiter.await.expect("waiter finished");
        assert!(child.is_cancelled() && grandchild.is_cancelled());
        assert!(root.child().is_cancelled());
    }
}
