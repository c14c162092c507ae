//! A store wrapper that fails writes at chosen points: the power-loss and I/O-error tests of
//! the durable runtime (and of any [`Store`] implementation) run executions over it.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use super::{
    Claim, ExecutionPage, ExecutionRecord, ExecutionStatus, ExecutionSummary, ListFilter, MapChild,
    MapRunState, NewExecution, PageQuery, StartedExecution, Store, StoreError, StoreFuture,
};
use crate::history::HistoryEvent;

/// How an injected write fault behaves.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{Fault, FaultyStore, MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # };
/// let store = Arc::new(MemoryStore::new());
/// // The second append fails (a full disk), and every one after it.
/// let faulty = Arc::new(FaultyStore::new(store.clone(), 1, Fault::Refuse));
/// let outcome = Runtime::builder().durable(faulty.clone()).start(new("e-1")).await?.wait().await;
/// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
/// assert!(faulty.injected());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The append fails and nothing of it is written (a full disk, a refused write).
    Refuse,
    /// The append is written, then reported as failed (the acknowledgement was lost: an fsync
    /// error after the write, a crash between the commit and the reply).
    LoseAck,
}

/// A [`Store`] that passes everything to another store, except that from the `at`-th append on
/// (counting from 0) appends fail as `fault` says, until [`FaultyStore::heal`]. A write of Map
/// Run progress ([`Store::record_map_children`]) counts as an append. Reads always pass
/// through.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{Fault, FaultyStore, MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # };
/// let store = Arc::new(MemoryStore::new());
/// // The second append fails (a full disk), and every one after it.
/// let faulty = Arc::new(FaultyStore::new(store.clone(), 1, Fault::Refuse));
/// let outcome = Runtime::builder().durable(faulty.clone()).start(new("e-1")).await?.wait().await;
/// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
/// assert!(faulty.injected());
/// // The store kept what was written before the fault: the execution can be resumed from it.
/// assert_eq!(store.describe_execution("e-1").await?.status, workflow_runtime::ExecutionStatus::Running);
/// # Ok(())
/// # }
/// ```
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    at: usize,
    fault: Fault,
    appends: AtomicUsize,
    healed: AtomicBool,
}

impl std::fmt::Debug for FaultyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyStore")
            .field("at", &self.at)
            .field("fault", &self.fault)
            .finish_non_exhaustive()
    }
}

impl FaultyStore {
    /// Wraps `inner`; appends number `at` and later fail as `fault` says.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{Fault, FaultyStore, MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// let store = Arc::new(MemoryStore::new());
    /// // The second append fails (a full disk), and every one after it.
    /// let faulty = Arc::new(FaultyStore::new(store.clone(), 1, Fault::Refuse));
    /// let outcome = Runtime::builder().durable(faulty.clone()).start(new("e-1")).await?.wait().await;
    /// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
    /// assert!(faulty.injected());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(inner: Arc<dyn Store>, at: usize, fault: Fault) -> FaultyStore {
        FaultyStore {
            inner,
            at,
            fault,
            appends: AtomicUsize::new(0),
            healed: AtomicBool::new(false),
        }
    }

    /// How many appends were attempted.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{Fault, FaultyStore, MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// let store = Arc::new(MemoryStore::new());
    /// // The second append fails (a full disk), and every one after it.
    /// let faulty = Arc::new(FaultyStore::new(store.clone(), 1, Fault::Refuse));
    /// let outcome = Runtime::builder().durable(faulty.clone()).start(new("e-1")).await?.wait().await;
    /// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
    /// assert!(faulty.injected());
    /// assert!(faulty.appends() >= 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn appends(&self) -> usize {
        self.appends.load(Ordering::SeqCst)
    }

    /// Whether a fault was injected.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{Fault, FaultyStore, MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// let store = Arc::new(MemoryStore::new());
    /// // The second append fails (a full disk), and every one after it.
    /// let faulty = Arc::new(FaultyStore::new(store.clone(), 1, Fault::Refuse));
    /// let outcome = Runtime::builder().durable(faulty.clone()).start(new("e-1")).await?.wait().await;
    /// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
    /// assert!(faulty.injected());
    /// # Ok(())
    /// # }
    /// ```
    pub fn injected(&self) -> bool {
        self.appends() > self.at
    }

    /// Stops injecting faults.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{Fault, FaultyStore, MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// let store = Arc::new(MemoryStore::new());
    /// // The second append fails (a full disk), and every one after it.
    /// let faulty = Arc::new(FaultyStore::new(store.clone(), 1, Fault::Refuse));
    /// let outcome = Runtime::builder().durable(faulty.clone()).start(new("e-1")).await?.wait().await;
    /// assert_eq!(outcome.error.as_deref(), Some("States.Runtime"));
    /// assert!(faulty.injected());
    /// // Healed, the store takes appends again: the execution resumes and ends.
    /// faulty.heal();
    /// let resumed = Runtime::builder().durable(faulty.clone()).resume_execution("e-1").await?;
    /// assert!(resumed.wait().await.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn heal(&self) {
        self.healed.store(true, Ordering::SeqCst);
    }

    fn injected_error(&self) -> StoreError {
        StoreError::Storage {
            path: "faulty".into(),
            detail: format!("injected fault ({:?}) at append {}", self.fault, self.at),
        }
    }
}

impl Store for FaultyStore {
    fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution> {
        self.inner.start_execution(new)
    }

    fn append_events<'a>(
        &'a self,
        name: &'a str,
        events: &'a [HistoryEvent],
    ) -> StoreFuture<'a, ()> {
        let n = self.appends.fetch_add(1, Ordering::SeqCst);
        if n < self.at || self.healed.load(Ordering::SeqCst) {
            return self.inner.append_events(name, events);
        }
        match self.fault {
            Fault::Refuse => {
                let e = self.injected_error();
                Box::pin(async move { Err(e) })
            }
            Fault::LoseAck => Box::pin(async move {
                // Written (or refused by the store's own rules), and reported failed either way.
                let _ = self.inner.append_events(name, events).await;
                Err(self.injected_error())
            }),
        }
    }

    fn queues_appends(&self) -> bool {
        self.inner.queues_appends()
    }

    /// A queued append counts as an append and fails as [`FaultyStore::append_events`] does.
    fn queue_events(&self, name: &str, events: Vec<HistoryEvent>) -> StoreFuture<'static, ()> {
        let n = self.appends.fetch_add(1, Ordering::SeqCst);
        if n < self.at || self.healed.load(Ordering::SeqCst) {
            return self.inner.queue_events(name, events);
        }
        let e = self.injected_error();
        match self.fault {
            Fault::Refuse => Box::pin(async move { Err(e) }),
            Fault::LoseAck => {
                let queued = self.inner.queue_events(name, events);
                Box::pin(async move {
                    let _ = queued.await;
                    Err(e)
                })
            }
        }
    }

    fn keeps_map_progress(&self) -> bool {
        self.inner.keeps_map_progress()
    }

    /// Counts as an append and fails as [`FaultyStore::append_events`] does.
    fn record_map_children(
        &self,
        name: &str,
        run: &str,
        children: Vec<MapChild>,
        state: Option<MapRunState>,
    ) -> StoreFuture<'static, ()> {
        let n = self.appends.fetch_add(1, Ordering::SeqCst);
        if n < self.at || self.healed.load(Ordering::SeqCst) {
            return self.inner.record_map_children(name, run, children, state);
        }
        let e = self.injected_error();
        match self.fault {
            Fault::Refuse => Box::pin(async move { Err(e) }),
            Fault::LoseAck => {
                let written = self.inner.record_map_children(name, run, children, state);
                Box::pin(async move {
                    let _ = written.await;
                    Err(e)
                })
            }
        }
    }

    fn load_map_children<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<MapChild>> {
        self.inner.load_map_children(name, run, from, limit)
    }

    fn load_map_run<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
    ) -> StoreFuture<'a, Option<MapRunState>> {
        self.inner.load_map_run(name, run)
    }

    fn describe_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ExecutionRecord> {
        self.inner.describe_execution(name)
    }

    fn load_events<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Vec<HistoryEvent>> {
        self.inner.load_events(name)
    }

    fn list_executions(&self, filter: ListFilter) -> StoreFuture<'_, Vec<ExecutionSummary>> {
        self.inner.list_executions(filter)
    }

    fn count_executions(&self, status: Option<ExecutionStatus>) -> StoreFuture<'_, u64> {
        self.inner.count_executions(status)
    }

    fn list_page(&self, query: PageQuery) -> StoreFuture<'_, ExecutionPage> {
        self.inner.list_page(query)
    }

    fn load_events_page<'a>(
        &'a self,
        name: &'a str,
        after: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<HistoryEvent>> {
        self.inner.load_events_page(name, after, limit)
    }

    fn claim_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Claim> {
        self.inner.claim_execution(name)
    }

    fn release_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        self.inner.release_execution(name)
    }
}
