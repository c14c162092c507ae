//! Durable stores: where executions and their append-only histories live.
//!
//! A [`Store`] holds named executions (definition, input, status, output) and each execution's
//! history events, appended in order. Two implementations ship:
//!
//! - [`MemoryStore`]: a map behind a mutex, for tests and for runs that need no persistence;
//! - `SqliteStore` (cargo feature `sqlite`): an embedded SQLite file (WAL mode), the default
//!   persistent store; its durability policy is documented on `SyncPolicy`.
//!
//! [`DurableRuntime`] runs executions recorded in a store and resumes them after a crash:
//!
//! ```
//! use std::sync::Arc;
//! use serde_json::json;
//! use workflow_runtime::store::{NewExecution, SqliteStore, Store};
//! use workflow_runtime::Runtime;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let store = Arc::new(SqliteStore::open(dir.path().join("executions.db"))?);
//! let durable = Runtime::builder().durable(store.clone());
//!
//! // On start-up: finish whatever a previous process left running.
//! for resumed in durable.resume().await? {
//!     let outcome = resumed?.wait().await;
//!     println!("{outcome:?}");
//! }
//!
//! let execution = durable
//!     .start(NewExecution {
//!         name: "order-42".into(),
//!         definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
//!         input: json!({"id": 42}),
//!         metadata: json!({}),
//!     })
//!     .await?;
//! let outcome = execution.wait().await;
//! assert_eq!(outcome.output, Some(json!({"id": 42})));
//! let record = store.describe_execution("order-42").await?;
//! assert_eq!(record.event_count, 4); // started, entered, exited, succeeded
//! # Ok(())
//! # }
//! ```
//!
//! # Rules every store enforces
//!
//! - **Write-ahead.** [`Store::append_events`] completes only once the events are committed; the
//!   executor acts on events only after that, so whatever it acted on can be replayed. A
//!   [`DurableRuntime`] also commits every state's events before the next state starts.
//! - **No gaps, no duplicates.** Appended ids continue the history exactly (`1, 2, …, n` with no
//!   gap), and an event's logical position `(scope, seq)` is recorded at most once per execution.
//!   A batch that breaks either rule is rejected whole ([`StoreError::Conflict`]) and nothing of
//!   it is written.
//! - **Closed means closed.** Appending a terminal event (`ExecutionSucceeded`, `ExecutionFailed`,
//!   `ExecutionTimedOut`, `ExecutionAborted`) sets the execution's status, output, error and cause
//!   in the same transaction; nothing can be appended after it ([`StoreError::Closed`]). A process
//!   still running an execution that another process stopped thus gets an error on its next
//!   append instead of writing past the end.
//! - **Idempotent start** ([`Store::start_execution`]), as AWS's `StartExecution`: a new name
//!   creates the execution; the name of a *running* execution with the same definition and input
//!   returns that execution; a different input or definition, or the name of a *closed*
//!   execution, is [`StoreError::AlreadyExists`].
//!
//! # Delivery guarantee
//!
//! A task whose result is recorded in the history is never run again: on resume the recorded
//! result is replayed. A task that was running when the process died has no recorded result and
//! runs again (at-least-once), so task handlers should be idempotent.

mod durable;
mod fault;
mod memory;
mod owner;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use durable::{
    stop_execution, DurableError, DurableExecution, DurableRuntime, StoreSink, SEED_KEY,
};
pub use fault::{Fault, FaultyStore};
pub use memory::MemoryStore;
pub use owner::{Owner, LEASE_TTL};
#[cfg(feature = "sqlite")]
pub use sqlite::{CheckReport, EventText, EventTexts, SqliteOptions, SqliteStore, SyncPolicy};

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::history::HistoryEvent;

/// The future every [`Store`] method returns: boxed so that `dyn Store` works.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::store::{MemoryStore, Store, StoreFuture};
///
/// let store = MemoryStore::new();
/// let count: StoreFuture<'_, u64> = store.count_executions(None);
/// assert_eq!(count.await?, 0);
/// # Ok(())
/// # }
/// ```
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A place where executions and their histories are kept.
///
/// All methods are asynchronous and safe to call from many tasks at once; see the module docs for
/// the rules every implementation enforces.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// use workflow_runtime::store::ListFilter;
/// use workflow_runtime::ExecutionStatus;
///
/// let record = store.describe_execution("order-1").await?;
/// assert_eq!(record.status, ExecutionStatus::Succeeded);
/// assert_eq!(record.output, Some(json!({"id": 1})));
/// let events = store.load_events("order-1").await?;
/// assert_eq!(events.last().map(|e| e.event_type()), Some("ExecutionSucceeded"));
/// let listed = store.list_executions(ListFilter::with_status(ExecutionStatus::Succeeded)).await?;
/// assert_eq!(listed[0].name, "order-1");
/// assert_eq!(store.count_executions(Some(ExecutionStatus::Running)).await?, 0);
/// assert!(store.describe_execution("nope").await.is_err());
/// # Ok(())
/// # }
/// ```
pub trait Store: Send + Sync {
    /// Starts (records) a named execution, or returns the running one with the same name,
    /// definition and input (AWS `StartExecution` idempotency).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// let started = store.start_execution(new("order-2")).await?;
    /// assert!(started.created);
    /// assert_eq!(started.record.event_count, 0); // recorded; its events come from the run
    /// # Ok(())
    /// # }
    /// ```
    fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution>;

    /// Appends events to an execution's history in one transaction, after checking that they
    /// continue it (see the module docs). Returns once the events are committed.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// use workflow_runtime::store::StoreError;
    ///
    /// // The history of order-1 is closed: nothing can follow its ExecutionSucceeded.
    /// let events = store.load_events("order-1").await?;
    /// let err = store.append_events("order-1", &events[3..]).await.unwrap_err();
    /// assert!(matches!(err, StoreError::Closed { .. } | StoreError::Conflict { .. }));
    /// # Ok(())
    /// # }
    /// ```
    fn append_events<'a>(
        &'a self,
        name: &'a str,
        events: &'a [HistoryEvent],
    ) -> StoreFuture<'a, ()>;

    /// Whether [`Store::queue_events`] queues appends (default `false`).
    ///
    /// ```
    /// use workflow_runtime::store::{MemoryStore, Store};
    /// assert!(!MemoryStore::new().queues_appends());
    /// ```
    fn queues_appends(&self) -> bool {
        false
    }

    /// Queues an append of `events` to `name`'s history, to be made as [`Store::append_events`]
    /// makes it (checked, whole or not at all) after every append queued before it; the returned
    /// future completes once it is committed. The append is queued before this returns, whether
    /// or not the future is polled, so a writer can queue several (one per state) and the store
    /// can commit them together. Only when [`Store::queues_appends`] is `true`; the default
    /// refuses. ([`SqliteStore`] queues appends to its store thread, which commits every queued
    /// append in one transaction, each in its own savepoint.)
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use workflow_runtime::store::{MemoryStore, Store};
    ///
    /// // The memory store does not queue: it refuses, and the executor awaits each append instead.
    /// let store = MemoryStore::new();
    /// assert!(!store.queues_appends());
    /// assert!(store.queue_events("e-1", Vec::new()).await.is_err());
    /// # }
    /// ```
    fn queue_events(&self, name: &str, events: Vec<HistoryEvent>) -> StoreFuture<'static, ()> {
        drop(events);
        let detail = format!("this store does not queue appends (execution `{name}`)");
        Box::pin(async move {
            Err(StoreError::Storage {
                path: "store".into(),
                detail,
            })
        })
    }

    /// The execution named `name`, or [`StoreError::NotFound`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// let record = store.describe_execution("order-1").await?;
    /// assert_eq!(record.output, Some(json!({"id": 1})));
    /// # Ok(())
    /// # }
    /// ```
    fn describe_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ExecutionRecord>;

    /// The execution's whole history, in id order.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// let types: Vec<String> = store.load_events("order-1").await?.iter().map(|e| e.event_type().to_string()).collect();
    /// assert_eq!(types, ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
    /// # Ok(())
    /// # }
    /// ```
    fn load_events<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Vec<HistoryEvent>>;

    /// Executions matching `filter`, oldest first.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// use workflow_runtime::store::ListFilter;
    ///
    /// let all = store.list_executions(ListFilter::all()).await?;
    /// assert_eq!(all.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["order-1"]);
    /// # Ok(())
    /// # }
    /// ```
    fn list_executions(&self, filter: ListFilter) -> StoreFuture<'_, Vec<ExecutionSummary>>;

    /// How many executions match `status` (all of them for `None`).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// use workflow_runtime::ExecutionStatus;
    ///
    /// assert_eq!(store.count_executions(None).await?, 1);
    /// assert_eq!(store.count_executions(Some(ExecutionStatus::Succeeded)).await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    fn count_executions(&self, status: Option<ExecutionStatus>) -> StoreFuture<'_, u64>;

    /// One page of the executions matching `query`, newest first, with how many match in all
    /// (for a console's list). The default reads every summary through
    /// [`Store::list_executions`]; [`SqliteStore`] answers with one indexed query.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// use workflow_runtime::store::PageQuery;
    ///
    /// let page = store.list_page(PageQuery { limit: 20, ..PageQuery::default() }).await?;
    /// assert_eq!((page.total, page.executions[0].name.as_str()), (1, "order-1"));
    /// # Ok(())
    /// # }
    /// ```
    fn list_page(&self, query: PageQuery) -> StoreFuture<'_, ExecutionPage> {
        Box::pin(async move {
            let all = self
                .list_executions(ListFilter {
                    status: query.status,
                    limit: None,
                })
                .await?;
            Ok(query.page_of(all))
        })
    }

    /// At most `limit` events of the execution's history with ids above `after`, in id order:
    /// a page, for readers that must not hold a whole history in memory. The default reads the
    /// whole history and cuts it; [`SqliteStore`] reads only the page.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// // Two events at a time, after event 2.
    /// let page = store.load_events_page("order-1", 2, 2).await?;
    /// assert_eq!(page.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4]);
    /// # Ok(())
    /// # }
    /// ```
    fn load_events_page<'a>(
        &'a self,
        name: &'a str,
        after: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<HistoryEvent>> {
        Box::pin(async move {
            let all = self.load_events(name).await?;
            Ok(all
                .into_iter()
                .filter(|e| e.id > after)
                .take(limit)
                .collect())
        })
    }

    /// Makes this store handle the owner of the `RUNNING` execution `name`, so that no other
    /// process runs it at the same time ([`StoreError::Owned`] while another live process owns
    /// it). An owner is live while it renews its lease ([`LEASE_TTL`]); an owner on this machine
    /// whose process is gone is recognised at once (process id and start time), so a resume
    /// right after a crash does not wait. The returned [`Claim`] tells when the execution was
    /// lost: closed by another process (`workflow stop`) or taken over. The default (a store
    /// that only this process uses) accepts every claim and never reports one lost.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// store.start_execution(new("order-2")).await?;
    /// let _claim = store.claim_execution("order-2").await?; // this handle owns it now
    /// store.release_execution("order-2").await?;
    /// # Ok(())
    /// # }
    /// ```
    fn claim_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Claim> {
        let _ = name;
        Box::pin(async { Ok(Claim::unwatched()) })
    }

    /// Gives up the ownership taken by [`Store::claim_execution`] (when the run ends).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new("order-1")).await?.wait().await;
    /// store.start_execution(new("order-2")).await?;
    /// store.claim_execution("order-2").await?;
    /// store.release_execution("order-2").await?;
    /// # Ok(())
    /// # }
    /// ```
    fn release_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        let _ = name;
        Box::pin(async { Ok(()) })
    }

    /// Whether this store keeps the progress of distributed Map Runs
    /// ([`Store::record_map_children`]); default `false`: a resumed execution then runs every
    /// child of an unfinished Map Run again.
    ///
    /// ```
    /// use workflow_runtime::store::{MemoryStore, Store};
    /// assert!(MemoryStore::new().keeps_map_progress());
    /// ```
    fn keeps_map_progress(&self) -> bool {
        false
    }

    /// Records finished children of the Map Run `run` of the running execution `name` (see
    /// [`MapChild`]) and, unless `None`, where the Map Run stands after them ([`MapRunState`],
    /// replacing the one recorded before), all or none. The write is made (or queued, after
    /// every append queued before it) before this returns, whether or not the future is
    /// polled; the future completes once it is committed. A child recorded again replaces its
    /// record. A closed execution is [`StoreError::Closed`]. The default (a store that does not
    /// keep progress) records nothing.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = MemoryStore::new();
    /// # store.start_execution(NewExecution {
    /// #     name: "e-1".into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # }).await?;
    /// # let child = |index, outcome| MapChild {
    /// #     index,
    /// #     input_hash: 7,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// #     outcome,
    /// # };
    /// # // Two children of the Map Run `run-1` finished, one of them failed.
    /// # store.record_map_children("e-1", "run-1", vec![
    /// #     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
    /// #     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
    /// # ], Some(MapRunState { failed_items: 1, failure: None })).await?;
    /// assert!(store.keeps_map_progress());
    /// assert_eq!(store.load_map_children("e-1", "run-1", 0, 10).await?.len(), 2);
    /// # Ok(())
    /// # }
    /// ```
    fn record_map_children(
        &self,
        name: &str,
        run: &str,
        children: Vec<MapChild>,
        state: Option<MapRunState>,
    ) -> StoreFuture<'static, ()> {
        let _ = (name, run, children, state);
        Box::pin(async { Ok(()) })
    }

    /// The state last recorded with the children of the Map Run `run` of the execution `name`
    /// ([`Store::record_map_children`]); `None` when none was (no child recorded, or children
    /// recorded by a version that kept no state). A state that does not match its checksum is
    /// [`StoreError::Corrupt`]. The default (a store that does not keep progress) has none.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = MemoryStore::new();
    /// # store.start_execution(NewExecution {
    /// #     name: "e-1".into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # }).await?;
    /// # let child = |index, outcome| MapChild {
    /// #     index,
    /// #     input_hash: 7,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// #     outcome,
    /// # };
    /// # // Two children of the Map Run `run-1` finished, one of them failed.
    /// # store.record_map_children("e-1", "run-1", vec![
    /// #     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
    /// #     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
    /// # ], Some(MapRunState { failed_items: 1, failure: None })).await?;
    /// assert!(store.load_map_run("e-1", "run-1").await?.is_some());
    /// assert!(store.load_map_run("e-1", "another-run").await?.is_none());
    /// # Ok(())
    /// # }
    /// ```
    fn load_map_run<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
    ) -> StoreFuture<'a, Option<MapRunState>> {
        let _ = (name, run);
        Box::pin(async { Ok(None) })
    }

    /// At most `limit` recorded children of the Map Run `run` of the execution `name` whose
    /// index is `from` or more, in index order. A record that does not match its checksum is
    /// [`StoreError::Corrupt`]. The default (a store that does not keep progress) has none.
    ///
    /// ```
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = MemoryStore::new();
    /// # store.start_execution(NewExecution {
    /// #     name: "e-1".into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # }).await?;
    /// # let child = |index, outcome| MapChild {
    /// #     index,
    /// #     input_hash: 7,
    /// #     start_date: "2024-01-01T00:00:00.000Z".into(),
    /// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
    /// #     outcome,
    /// # };
    /// # // Two children of the Map Run `run-1` finished, one of them failed.
    /// # store.record_map_children("e-1", "run-1", vec![
    /// #     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
    /// #     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
    /// # ], Some(MapRunState { failed_items: 1, failure: None })).await?;
    /// // From index 1, at most one.
    /// let page = store.load_map_children("e-1", "run-1", 1, 1).await?;
    /// assert_eq!(page.iter().map(|c| c.index).collect::<Vec<_>>(), [1]);
    /// # Ok(())
    /// # }
    /// ```
    fn load_map_children<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<MapChild>> {
        let _ = (name, run, from, limit);
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A finished child execution of a distributed Map Run, as a store keeps it, so that a resumed
/// execution does not run it again ([`Store::record_map_children`]).
///
/// Children are silent in their parent's history (one event per child would pass AWS's limit
/// of 25,000 events), so this record, kept apart from the history, is what makes a Map Run
/// resumable child by child. A Map Run is named by the position of its `MapRunStarted` event
/// and its id (one nested in a child also by a hash of its settings), so a retry of the Map
/// state (a new Map Run) starts afresh, as on AWS.
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryStore::new();
/// store.start_execution(NewExecution {
///     name: "e-1".into(),
///     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
///     input: json!({}),
///     metadata: json!({}),
/// }).await?;
/// let child = |index, outcome| MapChild {
///     index,
///     input_hash: 7,
///     start_date: "2024-01-01T00:00:00.000Z".into(),
///     stop_date: "2024-01-01T00:00:01.000Z".into(),
///     outcome,
/// };
/// // Two children of the Map Run `run-1` finished, one of them failed.
/// store.record_map_children("e-1", "run-1", vec![
///     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
///     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
/// ], Some(MapRunState { failed_items: 1, failure: None })).await?;
/// let recorded = store.load_map_children("e-1", "run-1", 0, 10).await?;
/// assert_eq!(recorded.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1]);
/// assert_eq!(recorded[0].outcome, MapChildOutcome::Succeeded("\"ok\"".into()));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapChild {
    /// The child's index in its Map Run (its item's, or with an `ItemBatcher` its batch's).
    pub index: u64,
    /// A 64-bit FNV-1a hash of the child's input as compact JSON text: a record is used only
    /// for a child with the same input (the items read again on resume may have changed).
    pub input_hash: u64,
    /// When the child started (RFC 3339, milliseconds), as its `ResultWriter` entry shows.
    pub start_date: String,
    /// When it ended.
    pub stop_date: String,
    /// How it ended.
    pub outcome: MapChildOutcome,
}

/// How a recorded child ended ([`MapChild::outcome`]).
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = MemoryStore::new();
/// # store.start_execution(NewExecution {
/// #     name: "e-1".into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # }).await?;
/// # let child = |index, outcome| MapChild {
/// #     index,
/// #     input_hash: 7,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// #     outcome,
/// # };
/// # // Two children of the Map Run `run-1` finished, one of them failed.
/// # store.record_map_children("e-1", "run-1", vec![
/// #     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
/// #     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
/// # ], Some(MapRunState { failed_items: 1, failure: None })).await?;
/// let recorded = store.load_map_children("e-1", "run-1", 1, 10).await?;
/// assert!(matches!(&recorded[0].outcome, MapChildOutcome::Failed { error: Some(e), .. } if e == "Boom"));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapChildOutcome {
    /// It succeeded with this output (JSON text).
    Succeeded(String),
    /// It failed with this error and cause.
    Failed {
        /// The error name.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
}

/// Where a Map Run stood once the children recorded with it had finished
/// ([`Store::record_map_children`]): what a resumed run needs to end as the uninterrupted one
/// would, whatever order it replays the recorded children in.
///
/// Which failure ends a Map Run depends on the order its children finished (the first failure
/// when none is tolerated; the one that passes the threshold, or a `States.Runtime`, when some
/// are) and on whether the reader was done then (a percentage is judged only then). A resumed
/// run meets the recorded children in index order, so rather than judging them again it takes
/// the count and the decision recorded here: recorded failures are already counted, and a Map
/// Run that had failed ends with the same error, running no child again.
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = MemoryStore::new();
/// # store.start_execution(NewExecution {
/// #     name: "e-1".into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # }).await?;
/// # let child = |index, outcome| MapChild {
/// #     index,
/// #     input_hash: 7,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// #     outcome,
/// # };
/// # // Two children of the Map Run `run-1` finished, one of them failed.
/// # store.record_map_children("e-1", "run-1", vec![
/// #     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
/// #     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
/// # ], Some(MapRunState { failed_items: 1, failure: None })).await?;
/// let state = store.load_map_run("e-1", "run-1").await?.expect("recorded");
/// assert_eq!((state.failed_items, state.failure), (1, None));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapRunState {
    /// The items of failed children counted against the tolerated failures (a failed batch
    /// counts each of its items).
    pub failed_items: u64,
    /// The failure a child's outcome decided for the Map Run, if one did.
    pub failure: Option<MapRunFailure>,
}

/// The error and cause a Map Run failed with ([`MapRunState::failure`]).
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState, MemoryStore, NewExecution, Store};
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = MemoryStore::new();
/// # store.start_execution(NewExecution {
/// #     name: "e-1".into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # }).await?;
/// # let child = |index, outcome| MapChild {
/// #     index,
/// #     input_hash: 7,
/// #     start_date: "2024-01-01T00:00:00.000Z".into(),
/// #     stop_date: "2024-01-01T00:00:01.000Z".into(),
/// #     outcome,
/// # };
/// # // Two children of the Map Run `run-1` finished, one of them failed.
/// # store.record_map_children("e-1", "run-1", vec![
/// #     child(0, MapChildOutcome::Succeeded("\"ok\"".into())),
/// #     child(1, MapChildOutcome::Failed { error: Some("Boom".into()), cause: None }),
/// # ], Some(MapRunState { failed_items: 1, failure: None })).await?;
/// // The second failure passed the tolerated count: the Map Run failed.
/// let failure = MapRunFailure { error: Some("States.ExceedToleratedFailureThreshold".into()), cause: None };
/// store.record_map_children("e-1", "run-1", vec![], Some(MapRunState { failed_items: 2, failure: Some(failure.clone()) })).await?;
/// assert_eq!(store.load_map_run("e-1", "run-1").await?.unwrap().failure, Some(failure));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapRunFailure {
    /// The error name.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
}

/// An execution a store handle owns ([`Store::claim_execution`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::store::Claim;
///
/// let (tx, rx) = tokio::sync::watch::channel(false);
/// let mut claim = Claim::watched(rx);
/// tx.send(true)?; // another process took the execution over
/// claim.lost().await;
/// let _never = Claim::unwatched();
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Claim {
    lost: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Claim {
    /// A claim that is never reported lost.
    ///
    /// ```
    /// let _claim = workflow_runtime::store::Claim::unwatched(); // never reported lost
    /// ```
    pub fn unwatched() -> Claim {
        Claim { lost: None }
    }

    /// A claim reported lost when `lost` turns `true`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (tx, rx) = tokio::sync::watch::channel(false);
    /// let mut claim = workflow_runtime::store::Claim::watched(rx);
    /// tx.send(true)?;
    /// claim.lost().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn watched(lost: tokio::sync::watch::Receiver<bool>) -> Claim {
        Claim { lost: Some(lost) }
    }

    /// Completes when the claim is lost (never for an unwatched claim, or once its store is
    /// gone).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (tx, rx) = tokio::sync::watch::channel(false);
    /// let mut claim = workflow_runtime::store::Claim::watched(rx);
    /// drop(tx); // the store is gone: `lost` then never completes
    /// let waited = tokio::time::timeout(std::time::Duration::from_secs(60), claim.lost()).await;
    /// assert!(waited.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn lost(&mut self) {
        if let Some(rx) = &mut self.lost {
            if rx.wait_for(|lost| *lost).await.is_ok() {
                return;
            }
        }
        std::future::pending::<()>().await;
    }
}

/// The version of the engine that records executions (this crate's version).
pub const ENGINE_VERSION: &str = concat!("workflow-runtime ", env!("CARGO_PKG_VERSION"));

/// The history format this engine writes and the newest it replays. It changes when the events
/// an execution records, or their meaning on replay, change; an execution recorded in a newer
/// format is refused by [`DurableRuntime`] rather than replayed wrongly.
pub const HISTORY_FORMAT: u32 = 1;

// ===== data types =====

/// An execution's status (one type for the executor's outcomes and the store's records; see
/// [`crate::ExecutionStatus`]).
pub use crate::runtime::ExecutionStatus;

/// What [`Store::start_execution`] needs to record a new execution.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use serde_json::json;
/// use workflow_runtime::store::{MemoryStore, NewExecution, Store};
///
/// let store = MemoryStore::new();
/// let new = NewExecution {
///     name: "order-1".into(),
///     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
///     input: json!({"id": 1}),
///     metadata: json!({"handlers": "orders-v2"}),
/// };
/// let started = store.start_execution(new.clone()).await?;
/// assert!(started.created);
/// // Starting the same running execution again returns it (AWS's idempotent StartExecution).
/// assert!(!store.start_execution(new).await?.created);
/// # let _ = Arc::new(store);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewExecution {
    /// The execution's name: unique in the store, 1–80 characters, AWS's character rules
    /// ([`validate_execution_name`]).
    pub name: String,
    /// The state machine definition (ASL JSON text), kept so the execution can be resumed
    /// without the original file.
    pub definition: String,
    /// The execution input.
    pub input: Value,
    /// Opaque data for whoever resumes the execution (for example which task handlers it runs
    /// with); the store keeps it and never interprets it.
    pub metadata: Value,
}

/// An execution as the store knows it (the local counterpart of AWS's `DescribeExecution`).
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// let record = store.describe_execution("order-1").await?;
/// assert_eq!(record.name, "order-1");
/// assert_eq!(record.input, json!({"id": 1}));
/// assert!(record.stop_date.is_some());
/// assert_eq!(record.engine_version, workflow_runtime::store::ENGINE_VERSION);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    /// The execution's name.
    pub name: String,
    /// The state machine definition (ASL JSON text).
    pub definition: String,
    /// The execution input.
    pub input: Value,
    /// The opaque metadata given at start.
    pub metadata: Value,
    /// Current status.
    pub status: ExecutionStatus,
    /// When the execution was started (RFC 3339, UTC, milliseconds).
    pub start_date: String,
    /// When it closed: the timestamp of its terminal event.
    pub stop_date: Option<String>,
    /// The output, once `SUCCEEDED`.
    pub output: Option<Value>,
    /// The error name, once `FAILED`, `TIMED_OUT` or `ABORTED` (when the event carried one).
    pub error: Option<String>,
    /// The error cause, when the terminal event carried one.
    pub cause: Option<String>,
    /// How many events the history holds (the id of the last one).
    pub event_count: u64,
    /// The engine that recorded the execution ([`ENGINE_VERSION`] of the process that started
    /// it); empty for executions recorded before versions were kept.
    pub engine_version: String,
    /// The history format it was recorded in ([`HISTORY_FORMAT`] of that engine).
    pub history_format: u32,
}

impl ExecutionRecord {
    /// The summary [`Store::list_executions`] returns for this execution.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let durable = Runtime::builder().durable(store.clone());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// // A durable run recorded in the store.
    /// durable.start(new("order-1")).await?.wait().await;
    /// let record = store.describe_execution("order-1").await?;
    /// let summary = record.summary();
    /// assert_eq!((summary.name.as_str(), summary.event_count), ("order-1", 4));
    /// # Ok(())
    /// # }
    /// ```
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            name: self.name.clone(),
            status: self.status,
            start_date: self.start_date.clone(),
            stop_date: self.stop_date.clone(),
            event_count: self.event_count,
        }
    }
}

/// One line of [`Store::list_executions`].
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// use workflow_runtime::store::ListFilter;
///
/// let summary = &store.list_executions(ListFilter::all()).await?[0];
/// let text = serde_json::to_value(summary)?;
/// assert_eq!(text["name"], "order-1");
/// assert_eq!(text["status"], "SUCCEEDED");
/// assert_eq!(text["eventCount"], 4);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionSummary {
    /// The execution's name.
    pub name: String,
    /// Current status.
    pub status: ExecutionStatus,
    /// When it was started.
    pub start_date: String,
    /// When it closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_date: Option<String>,
    /// How many events its history holds.
    pub event_count: u64,
}

/// The answer of [`Store::start_execution`].
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// let started = store.start_execution(new("order-2")).await?;
/// assert!(started.created);
/// assert_eq!(started.record.status, workflow_runtime::ExecutionStatus::Running);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StartedExecution {
    /// The execution, new or existing.
    pub record: ExecutionRecord,
    /// `true` when this call created it; `false` when it returned the running execution that
    /// already had this name and input.
    pub created: bool,
}

/// Which executions [`Store::list_executions`] returns.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// use workflow_runtime::store::ListFilter;
///
/// durable.start(new("order-2")).await?.wait().await;
/// let first = store.list_executions(ListFilter { status: None, limit: Some(1) }).await?;
/// assert_eq!(first.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["order-1"]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListFilter {
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// At most this many (the oldest first).
    pub limit: Option<usize>,
}

impl ListFilter {
    /// Every execution.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let durable = Runtime::builder().durable(store.clone());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// // A durable run recorded in the store.
    /// durable.start(new("order-1")).await?.wait().await;
    /// use workflow_runtime::store::ListFilter;
    ///
    /// assert_eq!(store.list_executions(ListFilter::all()).await?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn all() -> Self {
        Self::default()
    }

    /// The executions with `status`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::json;
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::Runtime;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let store = Arc::new(MemoryStore::new());
    /// # let durable = Runtime::builder().durable(store.clone());
    /// # let new = |name: &str| NewExecution {
    /// #     name: name.into(),
    /// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: json!({"id": 1}),
    /// #     metadata: json!({}),
    /// # };
    /// // A durable run recorded in the store.
    /// durable.start(new("order-1")).await?.wait().await;
    /// use workflow_runtime::store::ListFilter;
    /// use workflow_runtime::ExecutionStatus;
    ///
    /// assert!(store.list_executions(ListFilter::with_status(ExecutionStatus::Failed)).await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_status(status: ExecutionStatus) -> Self {
        Self {
            status: Some(status),
            limit: None,
        }
    }
}

/// Which page of executions [`Store::list_page`] returns.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// use workflow_runtime::store::PageQuery;
///
/// durable.start(new("order-2")).await?.wait().await;
/// durable.start(new("invoice-1")).await?.wait().await;
/// let page = store
///     .list_page(PageQuery { name_contains: "order".into(), limit: 1, ..PageQuery::default() })
///     .await?;
/// assert_eq!(page.total, 2);
/// assert_eq!(page.executions[0].name, "order-2"); // newest first
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageQuery {
    /// Only executions with this status.
    pub status: Option<ExecutionStatus>,
    /// Only executions whose name contains this text (case-sensitive); empty matches all.
    pub name_contains: String,
    /// How many matching executions to skip, newest first.
    pub offset: usize,
    /// At most this many.
    pub limit: usize,
}

impl PageQuery {
    /// The page of `all` (oldest first, already filtered by status) this query selects.
    fn page_of(&self, all: Vec<ExecutionSummary>) -> ExecutionPage {
        let matching: Vec<ExecutionSummary> = all
            .into_iter()
            .rev()
            .filter(|s| s.name.contains(self.name_contains.as_str()))
            .collect();
        let total = matching.len() as u64;
        let executions = matching
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        ExecutionPage { executions, total }
    }
}

/// The answer of [`Store::list_page`].
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// use workflow_runtime::store::PageQuery;
///
/// let page = store.list_page(PageQuery { limit: 10, ..PageQuery::default() }).await?;
/// assert_eq!((page.total, page.executions.len()), (1, 1));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ExecutionPage {
    /// The page, newest first.
    pub executions: Vec<ExecutionSummary>,
    /// How many executions match the query in all pages.
    pub total: u64,
}

// ===== errors =====

/// What can go wrong in a store.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::json;
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let store = Arc::new(MemoryStore::new());
/// # let durable = Runtime::builder().durable(store.clone());
/// # let new = |name: &str| NewExecution {
/// #     name: name.into(),
/// #     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: json!({"id": 1}),
/// #     metadata: json!({}),
/// # };
/// // A durable run recorded in the store.
/// durable.start(new("order-1")).await?.wait().await;
/// use workflow_runtime::store::StoreError;
///
/// // A closed execution's name cannot be started again.
/// let again = store.start_execution(new("order-1")).await.unwrap_err();
/// assert!(matches!(again, StoreError::AlreadyExists { .. }));
/// let missing = store.describe_execution("nope").await.unwrap_err();
/// assert_eq!(missing, StoreError::NotFound("nope".into()));
/// assert_eq!(missing.to_string(), "execution `nope` does not exist");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No execution has this name.
    #[error("execution `{0}` does not exist")]
    NotFound(String),
    /// The name is not a valid execution name (AWS `InvalidName`).
    #[error("invalid execution name `{name}`: {reason}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// The name is taken by an execution that cannot be returned instead (AWS
    /// `ExecutionAlreadyExists`).
    #[error("execution `{name}` already exists {reason}")]
    AlreadyExists {
        /// The name.
        name: String,
        /// Why the existing execution is not returned (different input, closed, …).
        reason: String,
    },
    /// Events were appended to a closed execution.
    #[error("execution `{name}` is {status}; no events can be appended to a closed execution")]
    Closed {
        /// The execution.
        name: String,
        /// Its status.
        status: ExecutionStatus,
    },
    /// Appended events do not continue the history (a gap, a duplicate id or `(scope, seq)`,
    /// events after the terminal one) — typically two processes running the same execution.
    #[error("history conflict in execution `{name}`: {detail}")]
    Conflict {
        /// The execution.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// The store file is damaged, truncated, or not a workflow store.
    #[error("store file {path} is corrupted or not a workflow store: {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What was found.
        detail: String,
    },
    /// The store file was written by a newer version of this library.
    #[error(
        "store file {path} has schema version {found}, newer than the {supported} this version \
         of workflow understands; upgrade workflow to open it"
    )]
    UnsupportedVersion {
        /// The file.
        path: String,
        /// The file's schema version.
        found: i64,
        /// The newest version this build reads.
        supported: i64,
    },
    /// Another live process runs the execution (see [`Store::claim_execution`]).
    #[error(
        "execution `{name}` is owned by {owner}; it is running there (wait for it, stop it with \
         `workflow stop`, or resume once that process has ended)"
    )]
    Owned {
        /// The execution.
        name: String,
        /// The owner: process id, machine, and when its lease expires.
        owner: String,
    },
    /// Any other failure of the underlying storage (I/O error, locked file, …).
    #[error("store file {path}: {detail}")]
    Storage {
        /// The file (or `memory`).
        path: String,
        /// The underlying error.
        detail: String,
    },
}

// ===== names =====

/// The longest execution name AWS accepts.
pub const MAX_NAME_LEN: usize = 80;

/// Checks an execution name against AWS's rules: 1–80 characters; no whitespace, no brackets
/// `< > { } [ ]`, no wildcards `? *`, none of `" # % \ ^ | ~ ` $ & , ; : /`, and no control
/// characters (U+0000–U+001F, U+007F–U+009F).
///
/// ```
/// use workflow_runtime::store::validate_execution_name;
///
/// assert!(validate_execution_name("order-42").is_ok());
/// assert!(validate_execution_name("").is_err());
/// assert!(validate_execution_name("has space").is_err());
/// assert!(validate_execution_name(&"x".repeat(81)).is_err());
/// ```
pub fn validate_execution_name(name: &str) -> Result<(), StoreError> {
    let invalid = |reason: String| StoreError::InvalidName {
        name: name.to_string(),
        reason,
    };
    let len = name.chars().count();
    if len == 0 {
        return Err(invalid("a name must not be empty".into()));
    }
    if len > MAX_NAME_LEN {
        return Err(invalid(format!(
            "a name has at most {MAX_NAME_LEN} characters, this one has {len}"
        )));
    }
    for c in name.chars() {
        let bad = c.is_whitespace()
            || matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
            || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c);
        if bad {
            return Err(invalid(format!(
                "{} is not allowed in an execution name",
                if c.is_control() || c.is_whitespace() {
                    format!("the character U+{:04X}", c as u32)
                } else {
                    format!("`{c}`")
                }
            )));
        }
    }
    Ok(())
}

// ===== shared rules =====

/// The changes a terminal event makes to its execution.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Closing {
    pub(crate) status: ExecutionStatus,
    pub(crate) stop_date: String,
    pub(crate) output: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
}

/// The status a terminal event type closes an execution with, or `None` for other types.
pub(crate) fn terminal_status(event_type: &str) -> Option<ExecutionStatus> {
    match event_type {
        "ExecutionSucceeded" => Some(ExecutionStatus::Succeeded),
        "ExecutionFailed" => Some(ExecutionStatus::Failed),
        "ExecutionTimedOut" => Some(ExecutionStatus::TimedOut),
        "ExecutionAborted" => Some(ExecutionStatus::Aborted),
        _ => None,
    }
}

/// What a batch of events to append is, once checked on its own ([`check_batch`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Batch {
    /// The id of the first event (0 for an empty batch).
    pub(crate) first_id: u64,
    /// How many events.
    pub(crate) len: u64,
    /// The closing the batch's terminal event makes, if it has one.
    pub(crate) closing: Option<Closing>,
}

/// Checks a batch on its own: ids contiguous, each `previousEventId` earlier than its event, no
/// `(scope, seq)` twice, nothing after a terminal event. Returns what the batch does.
pub(crate) fn check_batch(name: &str, events: &[HistoryEvent]) -> Result<Batch, StoreError> {
    let conflict = |detail: String| StoreError::Conflict {
        name: name.to_string(),
        detail,
    };
    let first_id = events.first().map_or(0, |ev| ev.id);
    let mut closing = None;
    let mut keys = HashSet::with_capacity(events.len());
    for (i, ev) in events.iter().enumerate() {
        let expected = first_id.saturating_add(i as u64);
        if ev.id != expected || ev.id == 0 || ev.id > i64::MAX as u64 {
            return Err(conflict(format!(
                "event ids in a batch must be contiguous from 1 on: expected {expected}, got {}",
                ev.id
            )));
        }
        if ev.previous_event_id >= ev.id {
            return Err(conflict(format!(
                "event {} has previousEventId {}, which is not an earlier event",
                ev.id, ev.previous_event_id
            )));
        }
        if ev.seq > i64::MAX as u64 {
            return Err(conflict(format!(
                "event {} has seq {} out of range",
                ev.id, ev.seq
            )));
        }
        if !keys.insert((ev.scope.as_str(), ev.seq)) {
            return Err(conflict(format!(
                "event {} repeats the position (scope `{}`, seq {}) of an earlier event in the \
                 same batch",
                ev.id, ev.scope, ev.seq
            )));
        }
        if closing.is_some() {
            return Err(conflict(format!(
                "event {} follows the execution's terminal event",
                ev.id
            )));
        }
        closing = closing_of(ev);
    }
    Ok(Batch {
        first_id,
        len: events.len() as u64,
        closing,
    })
}

/// Checks that a batch continues an execution whose status is `status` and whose history holds
/// `event_count` events.
pub(crate) fn check_continues(
    name: &str,
    status: ExecutionStatus,
    event_count: u64,
    batch: &Batch,
) -> Result<(), StoreError> {
    if status.is_closed() {
        return Err(StoreError::Closed {
            name: name.to_string(),
            status,
        });
    }
    if batch.len > 0 && batch.first_id != event_count + 1 {
        return Err(StoreError::Conflict {
            name: name.to_string(),
            detail: format!(
                "expected event id {}, got {} (the history holds {event_count} events; is \
                 another process running this execution?)",
                event_count + 1,
                batch.first_id
            ),
        });
    }
    Ok(())
}

/// The closing a terminal event makes, from its details (`output`, `error`, `cause`).
fn closing_of(ev: &HistoryEvent) -> Option<Closing> {
    let status = terminal_status(ev.event_type())?;
    let details = ev.details();
    let details = details.as_ref().map(|(_, v)| v);
    let field = |key: &str| -> Option<String> {
        match details?.get(key)? {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        }
    };
    Some(Closing {
        status,
        stop_date: ev.timestamp.clone(),
        output: field("output"),
        error: field("error"),
        cause: field("cause"),
    })
}

/// Parses stored output text back into JSON; text that is not JSON (which a well-behaved
/// executor never records) is returned as a JSON string rather than lost.
pub(crate) fn output_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Why an existing execution with the same name is not returned by `start_execution`, or `None`
/// when it is (running, same definition, same input).
pub(crate) fn start_conflict(existing: &ExecutionRecord, new: &NewExecution) -> Option<String> {
    if existing.status.is_closed() {
        return Some(format!(
            "and is closed ({}); a closed execution's name cannot be reused",
            existing.status
        ));
    }
    if existing.input != new.input {
        return Some("with a different input".into());
    }
    if !same_definition(&existing.definition, &new.definition) {
        return Some("with a different state machine definition".into());
    }
    None
}

/// Two definitions are the same when they are equal JSON (whatever the formatting), or equal
/// text when either is not JSON.
fn same_definition(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The current UTC time as the store writes dates: RFC 3339 with milliseconds.
pub(crate) fn now_rfc3339() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
pub(crate) mod tests;
