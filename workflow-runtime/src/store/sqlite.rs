//! The SQLite store: one embedded database file (WAL mode) holding executions and histories.
//!
//! # Layout
//!
//! ```text
//! definitions(id, hash, text)                       each distinct definition once
//! executions(id, name UNIQUE, definition, input, metadata, status, start_date, stop_date,
//!            output, error, cause)
//! events(execution, id, previous_event_id, timestamp, type, details_key, details, scope, seq)
//!        PRIMARY KEY (execution, id), WITHOUT ROWID
//! map_runs(id, execution, run, failed_items, failure, error, cause, crc)
//!                                                   the distributed Map Runs with progress
//! map_children(run, idx, input_hash, start_date, stop_date, status, output, error, cause, crc)
//!        PRIMARY KEY (run, idx), WITHOUT ROWID      their finished children
//! ```
//!
//! An append of one state's events therefore changes one page (the last leaf of the execution's
//! events) in the common case: the write-ahead log grows by one page per commit. The event count
//! is `MAX(id)` (an index seek), not a column rewritten on every append, and the uniqueness of
//! `(scope, seq)` is checked by the writer rather than by a second index: for each running
//! execution it appends to, the writer keeps the event count and the positions recorded so far
//! (read once from the file). That cache cannot go stale unnoticed: an append by another
//! connection (another process, `workflow stop`) takes the next id, so this writer's next insert
//! of that id violates the primary key, is rejected as a conflict, and drops the cache.
//!
//! The file is marked with `PRAGMA application_id` (`WFLW`) and versioned with
//! `PRAGMA user_version` ([`SCHEMA_VERSION`]); a file that is not a workflow store, was written
//! by a newer version, is empty, truncated or damaged is refused with an error naming the file.
//!
//! # One connection, one writer thread, group commit
//!
//! One connection writes, owned by a store thread; the async methods send it requests and await
//! the answer. Appends waiting in its queue are committed together in one transaction (each in
//! its own savepoint, so one rejected append does not affect the others), and every one of them
//! is answered only after that commit. With many executions running at once, they share commits
//! (and, under [`SyncPolicy::Full`], fsyncs) instead of queueing for one each.
//!
//! When the store is idle (nothing queued, nobody writing) and the policy is
//! [`SyncPolicy::Normal`], an append commits directly on the calling thread instead: a commit
//! then costs a WAL write and no fsync, less than the two thread switches of a round trip to
//! the store thread. Under [`SyncPolicy::Full`] every append goes through the store thread, so
//! fsyncs never block an async runtime's thread.
//!
//! Checkpoints (copying the WAL into the database file, with their fsyncs) run on a second
//! connection and thread, every [`CHECKPOINT_EVERY`] commits, in SQLite's `PASSIVE` mode: they
//! never block the writer, so under [`SyncPolicy::Normal`] a commit costs a WAL write and no
//! fsync.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension};
use serde_json::Value;
use tokio::sync::oneshot;

use super::owner::{now_ms, Owner, LEASE_TTL};
use super::{
    check_batch, check_continues, now_rfc3339, output_value, start_conflict,
    validate_execution_name, Batch, Claim, ExecutionPage, ExecutionRecord, ExecutionStatus,
    ExecutionSummary, ListFilter, MapChild, MapChildOutcome, MapRunFailure, MapRunState,
    NewExecution, PageQuery, StartedExecution, Store, StoreError, StoreFuture, ENGINE_VERSION,
    HISTORY_FORMAT,
};
use crate::fnv::{fnv1a_each, Fnv};
use crate::history::{EventKind, HistoryEvent};

/// The schema version this build writes and reads (`PRAGMA user_version`). Version 2 added a
/// checksum per event, the engine and history format of each execution, and ownership leases;
/// version 3 a checksum per execution row; version 4 the progress of distributed Map Runs
/// (`map_runs`, `map_children`); version 5 the state of each Map Run (its failed items and
/// the failure a child decided, [`MapRunState`]). An older file is upgraded when it is opened
/// for writing.
pub const SCHEMA_VERSION: i64 = 5;

/// `PRAGMA application_id` of a workflow store: `"WFLW"` in ASCII.
pub const APPLICATION_ID: i64 = 0x5746_4c57;

/// When a commit reaches the disk.
///
/// Whatever the policy, [`Store::append_events`] returns only after the events are committed to
/// the database file's write-ahead log, so they survive any crash of the *process* (SIGKILL,
/// panic, OOM kill): the next open finds them. The policies differ on a crash of the *machine*
/// (power loss, kernel panic).
///
/// ```
/// use workflow_runtime::store::{SqliteOptions, SyncPolicy};
///
/// assert_eq!(SyncPolicy::default(), SyncPolicy::Normal);
/// // Survive power loss, at one fsync per commit.
/// let options = SqliteOptions { sync: SyncPolicy::Full, ..SqliteOptions::default() };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// `PRAGMA synchronous=NORMAL` (the default). Commits are written to the WAL file but not
    /// fsynced; the WAL is fsynced when it is checkpointed into the database (about every 4 MB
    /// of commits, and on close). After a power loss the store opens consistent, but the
    /// commits since the last checkpoint may be gone: those executions resume from the earlier
    /// point and re-run the tasks after it. Costs no fsync per state.
    #[default]
    Normal,
    /// `PRAGMA synchronous=FULL`. Every commit fsyncs the WAL before it is acknowledged, so a
    /// recorded event survives power loss too. Costs one fsync per commit; appends of
    /// concurrent executions share commits.
    Full,
}

impl SyncPolicy {
    fn pragma(self) -> &'static str {
        match self {
            SyncPolicy::Normal => "NORMAL",
            SyncPolicy::Full => "FULL",
        }
    }
}

/// How [`SqliteStore::open_with`] opens a store.
///
/// ```
/// use std::time::Duration;
/// use workflow_runtime::store::{SqliteOptions, SyncPolicy};
///
/// let defaults = SqliteOptions::default();
/// assert_eq!((defaults.sync, defaults.verify, defaults.read_only), (SyncPolicy::Normal, false, false));
/// let patient = SqliteOptions { busy_timeout: Duration::from_secs(60), ..defaults };
/// # let _ = patient;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    /// When commits reach the disk.
    pub sync: SyncPolicy,
    /// On open, run SQLite's `quick_check` and check every history (ids without gaps, no
    /// `(scope, seq)` twice, no event without its execution). Reads the whole file: about a
    /// second per few hundred MB.
    pub verify: bool,
    /// The most appends committed together in one transaction (at least 1).
    pub max_batch: usize,
    /// How long to wait for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Open for reading only: nothing is created, upgraded or written (appends fail), and a
    /// file the process may not write (or in a directory it may not write) can be read.
    pub read_only: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            sync: SyncPolicy::default(),
            verify: false,
            max_batch: 256,
            busy_timeout: Duration::from_secs(10),
            read_only: false,
        }
    }
}

/// A [`Store`] in an SQLite database file. See the module docs.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use workflow_runtime::store::{NewExecution, SqliteStore, Store};
/// use workflow_runtime::Runtime;
///
/// let dir = tempfile::tempdir()?;
/// let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
/// let new = NewExecution {
///     name: "run-1".into(),
///     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
///     input: serde_json::json!({"a": 1}),
///     metadata: serde_json::Value::Null,
/// };
/// Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
/// assert_eq!(store.describe_execution("run-1").await?.event_count, 4);
/// drop(store);
/// // Reopened (by the next process, say), the execution is still there.
/// let again = SqliteStore::open(dir.path().join("runs.db"))?;
/// assert_eq!(again.load_events("run-1").await?.len(), 4);
/// # Ok(())
/// # }
/// ```
pub struct SqliteStore {
    path: Arc<str>,
    shared: Arc<Shared>,
    /// Executions this handle claimed, with the channel that tells their runs they were lost.
    claims: Claims,
    /// Stops the lease thread (see [`start_lease_thread`]).
    lease: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
    /// Whether appends may run on the caller's thread when the store is idle.
    inline: bool,
    requests: Option<mpsc::Sender<Request>>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

type Reply<T> = oneshot::Sender<Result<T, StoreError>>;

enum Request {
    Start(NewExecution, Reply<StartedExecution>),
    Append(Append, Reply<()>),
    Describe(String, Reply<ExecutionRecord>),
    Load(String, Reply<Vec<HistoryEvent>>),
    List(ListFilter, Reply<Vec<ExecutionSummary>>),
    Count(Option<ExecutionStatus>, Reply<u64>),
    Page(PageQuery, Reply<ExecutionPage>),
    Events(String, u64, usize, Reply<Vec<HistoryEvent>>),
    EventTexts(String, u64, usize, Reply<EventTexts>),
    Claim(String, Reply<()>),
    Release(String, Reply<()>),
    /// Execution, Map Run, first index, limit.
    Children(String, String, u64, usize, Reply<Vec<MapChild>>),
    /// Execution, Map Run.
    MapRun(String, String, Reply<Option<MapRunState>>),
}

/// Claimed executions and the channels that report them lost.
type Claims = Arc<Mutex<HashMap<String, tokio::sync::watch::Sender<bool>>>>;

struct Append {
    name: String,
    batch: Batch,
    events: AppendEvents,
}

/// An append's events: rows built by the caller, or events whose rows the store thread builds
/// (a queued append, so that the executor's thread does not wait for that work); or finished
/// children of a Map Run (progress, committed with the appends queued around it).
enum AppendEvents {
    Rows(Vec<EventRow>),
    Events(Vec<HistoryEvent>),
    Children(String, Vec<MapChild>, Option<MapRunState>),
}

/// What the store's callers and its thread share: the connection, and how many requests wait in
/// the thread's queue.
struct Shared {
    worker: Mutex<Worker>,
    queued: AtomicUsize,
    /// How many more appends go through the store thread before committing on the caller's
    /// thread is tried again: set when an append finds the store busy, so that concurrent
    /// executions keep sharing commits.
    skip_inline: AtomicUsize,
}

/// How many appends skip the inline path after one found the store busy.
const INLINE_BACKOFF: usize = 1024;

impl Shared {
    /// The worker, if no one else holds it.
    fn try_worker(&self) -> Option<MutexGuard<'_, Worker>> {
        match self.worker.try_lock() {
            Ok(guard) => Some(guard),
            // Every update of the worker's caches is undone or completed before anything that
            // could panic, so a poisoned worker is consistent.
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    fn lock_worker(&self) -> MutexGuard<'_, Worker> {
        self.worker.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A page of stored events as text ([`SqliteStore::load_event_texts_page`]): each event's AWS
/// fields, and its details as the key and the compact JSON text AWS's `GetExecutionHistory`
/// gives them under. All the page's text is in one buffer (a page costs a few allocations, not
/// a few per event); [`EventTexts::iter`] and [`EventTexts::get`] lend each event as an
/// [`EventText`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use std::sync::Arc;
/// # use workflow_runtime::store::{NewExecution, SqliteStore};
/// # use workflow_runtime::Runtime;
/// #
/// # let dir = tempfile::tempdir()?;
/// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
/// # let new = NewExecution {
/// #     name: "run-1".into(),
/// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: serde_json::json!({"a": 1}),
/// #     metadata: serde_json::Value::Null,
/// # };
/// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
/// let page = store.load_event_texts_page("run-1", 0, 100).await?;
/// let types: Vec<&str> = page.iter().map(|e| e.event_type).collect();
/// assert_eq!(
///     types,
///     ["ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
/// );
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventTexts {
    /// Every event's timestamp, type, details key and details, one after the other.
    text: String,
    events: Vec<TextSpans>,
}

/// Where one event's fields are in [`EventTexts::text`]: it starts where the one before ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TextSpans {
    id: u64,
    previous_event_id: u64,
    /// The ends of the timestamp, the type, the details key and the details.
    ends: [usize; 4],
    has_details: bool,
}

impl EventTexts {
    /// How many events the page holds.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use workflow_runtime::store::{NewExecution, SqliteStore};
    /// # use workflow_runtime::Runtime;
    /// #
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// # let new = NewExecution {
    /// #     name: "run-1".into(),
    /// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: serde_json::json!({"a": 1}),
    /// #     metadata: serde_json::Value::Null,
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
    /// assert_eq!(store.load_event_texts_page("run-1", 0, 3).await?.len(), 3);
    /// assert_eq!(store.load_event_texts_page("run-1", 3, 3).await?.len(), 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether the page holds no event (none is stored after the id asked for).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use workflow_runtime::store::{NewExecution, SqliteStore};
    /// # use workflow_runtime::Runtime;
    /// #
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// # let new = NewExecution {
    /// #     name: "run-1".into(),
    /// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: serde_json::json!({"a": 1}),
    /// #     metadata: serde_json::Value::Null,
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
    /// assert!(store.load_event_texts_page("run-1", 4, 100).await?.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The page's `index`th event (from 0), if it holds that many.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use workflow_runtime::store::{NewExecution, SqliteStore};
    /// # use workflow_runtime::Runtime;
    /// #
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// # let new = NewExecution {
    /// #     name: "run-1".into(),
    /// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: serde_json::json!({"a": 1}),
    /// #     metadata: serde_json::Value::Null,
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
    /// let page = store.load_event_texts_page("run-1", 1, 100).await?;
    /// let entered = page.get(0).expect("event 2");
    /// assert_eq!((entered.id, entered.previous_event_id), (2, 0));
    /// assert_eq!(
    ///     entered.details,
    ///     Some(("stateEnteredEventDetails", r#"{"name":"P","input":"{\"a\":1}","inputDetails":{"truncated":false}}"#))
    /// );
    /// assert!(page.get(3).is_none());
    /// # Ok(())
    /// # }
    /// ```
    pub fn get(&self, index: usize) -> Option<EventText<'_>> {
        self.events.get(index).map(|spans| self.view(index, spans))
    }

    /// The page's last event: a reader asks for the next page after its id.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use workflow_runtime::store::{NewExecution, SqliteStore};
    /// # use workflow_runtime::Runtime;
    /// #
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// # let new = NewExecution {
    /// #     name: "run-1".into(),
    /// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: serde_json::json!({"a": 1}),
    /// #     metadata: serde_json::Value::Null,
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
    /// let first = store.load_event_texts_page("run-1", 0, 2).await?;
    /// let after = first.last().map_or(0, |e| e.id);
    /// let rest = store.load_event_texts_page("run-1", after, 2).await?;
    /// assert_eq!(rest.iter().map(|e| e.id).collect::<Vec<_>>(), [3, 4]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn last(&self) -> Option<EventText<'_>> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The page's events in id order.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use workflow_runtime::store::{NewExecution, SqliteStore};
    /// # use workflow_runtime::Runtime;
    /// #
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// # let new = NewExecution {
    /// #     name: "run-1".into(),
    /// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: serde_json::json!({"a": 1}),
    /// #     metadata: serde_json::Value::Null,
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
    /// let page = store.load_event_texts_page("run-1", 0, 100).await?;
    /// let keys: Vec<&str> = page.iter().filter_map(|e| e.details.map(|(key, _)| key)).collect();
    /// assert_eq!(keys, [
    ///     "executionStartedEventDetails",
    ///     "stateEnteredEventDetails",
    ///     "stateExitedEventDetails",
    ///     "executionSucceededEventDetails",
    /// ]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = EventText<'_>> + '_ {
        self.events
            .iter()
            .enumerate()
            .map(|(index, spans)| self.view(index, spans))
    }

    /// The `index`th event, whose spans are `spans`.
    fn view(&self, index: usize, spans: &TextSpans) -> EventText<'_> {
        let start = match index.checked_sub(1) {
            Some(before) => self.events.get(before).map_or(0, |b| b.ends[3]),
            None => 0,
        };
        let [timestamp, event_type, key, details] = spans.ends;
        // The ends were taken from the buffer as each field was appended, so every range is on
        // character boundaries; `get` keeps a mistake from panicking.
        let field = |from: usize, to: usize| self.text.get(from..to).unwrap_or_default();
        EventText {
            id: spans.id,
            previous_event_id: spans.previous_event_id,
            timestamp: field(start, timestamp),
            event_type: field(timestamp, event_type),
            details: spans
                .has_details
                .then(|| (field(event_type, key), field(key, details))),
        }
    }

    /// Appends an event whose fields have been checked (`Worker::load_text_page`).
    fn push(&mut self, ev: EventText<'_>) {
        let end = |text: &mut String, field: &str| {
            text.push_str(field);
            text.len()
        };
        let timestamp = end(&mut self.text, ev.timestamp);
        let event_type = end(&mut self.text, ev.event_type);
        let (key, details) = ev.details.unwrap_or_default();
        let key = end(&mut self.text, key);
        let details = end(&mut self.text, details);
        self.events.push(TextSpans {
            id: ev.id,
            previous_event_id: ev.previous_event_id,
            ends: [timestamp, event_type, key, details],
            has_details: ev.details.is_some(),
        });
    }
}

/// One stored event as text, lent by a page of them ([`EventTexts`]): its AWS fields, and its
/// details as the key and the compact JSON text AWS's `GetExecutionHistory` gives them under.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use std::sync::Arc;
/// # use workflow_runtime::store::{NewExecution, SqliteStore, Store};
/// # use workflow_runtime::Runtime;
/// #
/// # let dir = tempfile::tempdir()?;
/// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
/// # let new = NewExecution {
/// #     name: "run-1".into(),
/// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: serde_json::json!({"a": 1}),
/// #     metadata: serde_json::Value::Null,
/// # };
/// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
/// let page = store.load_event_texts_page("run-1", 3, 10).await?;
/// let last = page.last().expect("event 4");
/// assert_eq!((last.id, last.event_type), (4, "ExecutionSucceeded"));
/// assert_eq!(last.timestamp.len(), "2026-12-06T10:00:00.000Z".len());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventText<'a> {
    /// The event's id (from 1).
    pub id: u64,
    /// The id of the event before it (`previousEventId`, 0 for none).
    pub previous_event_id: u64,
    /// The time, as AWS writes it (`2026-12-06T10:00:00.000Z`).
    pub timestamp: &'a str,
    /// The AWS event type (`PassStateEntered`).
    pub event_type: &'a str,
    /// The details' key (`stateEnteredEventDetails`) and their JSON text, if the event has
    /// details.
    pub details: Option<(&'a str, &'a str)>,
}

/// An event as stored: integers as SQLite's, details serialised.
struct EventRow {
    crc: Option<i64>,
    id: i64,
    previous_event_id: i64,
    timestamp: String,
    event_type: String,
    details_key: Option<String>,
    details: Option<String>,
    scope: String,
    seq: i64,
}

impl EventRow {
    fn from_event(ev: &HistoryEvent) -> Self {
        // `check_batch` has bounded id and seq by i64::MAX, and previous_event_id < id.
        // The details' JSON text, written directly from the typed event.
        let details_key = ev.kind.details_key().map(str::to_string);
        let details = details_key.as_ref().map(|_| {
            let mut text = String::new();
            ev.kind.write_details(&mut text);
            text
        });
        let mut row = EventRow {
            crc: None,
            id: ev.id as i64,
            previous_event_id: ev.previous_event_id as i64,
            timestamp: ev.timestamp.clone(),
            event_type: ev.event_type().to_string(),
            details_key,
            details,
            scope: ev.scope.clone(),
            seq: ev.seq as i64,
        };
        row.crc = Some(row.checksum());
        row
    }

    /// The row's checksum ([`event_checksum`]).
    fn checksum(&self) -> i64 {
        event_checksum(&EventFields {
            id: self.id,
            previous_event_id: self.previous_event_id,
            timestamp: &self.timestamp,
            event_type: &self.event_type,
            details_key: self.details_key.as_deref(),
            details: self.details.as_deref(),
            scope: &self.scope,
            seq: self.seq,
        })
    }

    /// Whether the row matches its checksum (a row without one, written by schema version 1,
    /// cannot be checked and passes).
    fn intact(&self) -> bool {
        self.crc.is_none_or(|crc| crc == self.checksum())
    }

    /// Reads a row of `SELECT id, previous_event_id, timestamp, type, details_key, details,
    /// scope, seq, crc`.
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
        Ok(EventRow {
            id: r.get(0)?,
            previous_event_id: r.get(1)?,
            timestamp: r.get(2)?,
            event_type: r.get(3)?,
            details_key: r.get(4)?,
            details: r.get(5)?,
            scope: r.get(6)?,
            seq: r.get(7)?,
            crc: r.get(8)?,
        })
    }
}

/// An event row's fields as SQLite lends them (`Worker::load_text_page` reads a page without
/// copying each field into its own `String`).
struct EventFields<'a> {
    id: i64,
    previous_event_id: i64,
    timestamp: &'a str,
    event_type: &'a str,
    details_key: Option<&'a str>,
    details: Option<&'a str>,
    scope: &'a str,
    seq: i64,
}

impl<'a> EventFields<'a> {
    /// Reads a row of `SELECT id, previous_event_id, timestamp, type, details_key, details,
    /// scope, seq, crc`, and its checksum.
    fn from_row(row: &'a rusqlite::Row<'_>) -> rusqlite::Result<(EventFields<'a>, Option<i64>)> {
        let fields = EventFields {
            id: row.get(0)?,
            previous_event_id: row.get(1)?,
            timestamp: row.get_ref(2)?.as_str()?,
            event_type: row.get_ref(3)?.as_str()?,
            details_key: row.get_ref(4)?.as_str_or_null()?,
            details: row.get_ref(5)?.as_str_or_null()?,
            scope: row.get_ref(6)?.as_str()?,
            seq: row.get(7)?,
        };
        Ok((fields, row.get(8)?))
    }
}

/// An event row's checksum: 64-bit FNV-1a over every field, each length-prefixed (so that moving
/// bytes from one field to the next changes it).
fn event_checksum(row: &EventFields<'_>) -> i64 {
    let mut h = Fnv::new();
    row.feed(&mut h);
    h.finish() as i64
}

impl EventFields<'_> {
    /// Feeds the fields the checksum covers, in its order.
    fn feed(&self, h: &mut impl Fields) {
        h.int(self.id);
        h.int(self.previous_event_id);
        h.text(self.timestamp);
        h.text(self.event_type);
        h.opt(self.details_key);
        h.opt(self.details);
        h.text(self.scope);
        h.int(self.seq);
    }
}

/// A page of an execution's events (`?1` its row id) after an id (`?2`), at most `?3`, in id
/// order: the typed and the text pages read the same columns.
const EVENTS_PAGE_SQL: &str =
    "SELECT id, previous_event_id, timestamp, type, details_key, details, \
     scope, seq, crc FROM events WHERE execution = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

/// Feeding a record's fields to the runtime's FNV-1a ([`Fnv`]), each length-prefixed; or
/// collecting the bytes it would be fed (`Vec<u8>`: `fnv1a_each` then hashes many records at once).
trait Fields {
    /// Feeds raw bytes.
    fn feed(&mut self, bytes: &[u8]);

    fn int(&mut self, n: i64) {
        self.feed(&n.to_le_bytes());
    }

    fn text(&mut self, t: &str) {
        self.int(t.len() as i64);
        self.feed(t.as_bytes());
    }

    fn opt(&mut self, t: Option<&str>) {
        match t {
            Some(t) => self.text(t),
            None => self.int(-1),
        }
    }
}

impl Fields for Fnv {
    fn feed(&mut self, bytes: &[u8]) {
        self.bytes(bytes);
    }
}

impl Fields for Vec<u8> {
    fn feed(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// The checksums of an execution row, over its fields as stored (JSON columns as text).
struct ExecutionSums<'a> {
    name: &'a str,
    definition: &'a str,
    input: &'a str,
    metadata: &'a str,
    status: &'a str,
    start_date: &'a str,
    stop_date: Option<&'a str>,
    output: Option<&'a str>,
    error: Option<&'a str>,
    cause: Option<&'a str>,
    engine: &'a str,
    format: i64,
}

impl ExecutionSums<'_> {
    /// Over every field a reader is shown (`executions.crc`).
    fn full(&self) -> i64 {
        let mut h = Fnv::new();
        h.text(self.name);
        h.text(self.definition);
        h.text(self.input);
        h.text(self.metadata);
        h.text(self.status);
        h.text(self.start_date);
        h.opt(self.stop_date);
        h.opt(self.output);
        h.opt(self.error);
        h.opt(self.cause);
        h.text(self.engine);
        h.int(self.format);
        h.finish() as i64
    }

    /// Over what a list shows (`executions.crc_summary`).
    fn summary(&self) -> i64 {
        summary_sum(self.name, self.status, self.start_date, self.stop_date)
    }
}

/// The checksum of a listed execution's name, status and dates.
fn summary_sum(name: &str, status: &str, start_date: &str, stop_date: Option<&str>) -> i64 {
    let mut h = Fnv::new();
    h.text(name);
    h.text(status);
    h.text(start_date);
    h.opt(stop_date);
    h.finish() as i64
}

/// The message for an execution row that does not match its checksum.
fn altered_execution(name: &str) -> String {
    format!(
        "execution `{name}` does not match its checksum (the record was altered after it was \
         written); run `workflow check` on the store"
    )
}

/// A recorded Map Run child's checksum: 64-bit FNV-1a over its Map Run and every field, each
/// length-prefixed.
fn child_sum(run: &str, c: &MapChild) -> i64 {
    let mut h = Fnv::new();
    h.text(run);
    h.int(c.index as i64);
    h.int(c.input_hash as i64);
    h.text(&c.start_date);
    h.text(&c.stop_date);
    match &c.outcome {
        MapChildOutcome::Succeeded(output) => {
            h.text("SUCCEEDED");
            h.text(output);
        }
        MapChildOutcome::Failed { error, cause } => {
            h.text("FAILED");
            h.opt(error.as_deref());
            h.opt(cause.as_deref());
        }
    }
    h.finish() as i64
}

/// The columns of a `map_children` row, as stored.
type ChildRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// A `map_children` row of `run` back as a child, its checksum verified.
fn child_of_row(run: &str, row: ChildRow) -> Result<MapChild, String> {
    let (idx, input_hash, start_date, stop_date, status, output, error, cause, crc) = row;
    let index = u64::try_from(idx).map_err(|_| format!("child {idx} has a negative index"))?;
    let outcome = match (status.as_str(), output) {
        ("SUCCEEDED", Some(output)) => MapChildOutcome::Succeeded(output),
        ("FAILED", None) => MapChildOutcome::Failed { error, cause },
        (other, _) => {
            return Err(format!(
                "child {index} of Map Run `{run}` has the status `{other}` and an output that \
                 do not go together"
            ))
        }
    };
    let child = MapChild {
        index,
        input_hash: input_hash as u64,
        start_date,
        stop_date,
        outcome,
    };
    if child_sum(run, &child) != crc {
        return Err(format!(
            "child {index} of Map Run `{run}` does not match its checksum (the record was \
             altered after it was written)"
        ));
    }
    Ok(child)
}

/// A Map Run's state's checksum: 64-bit FNV-1a over its Map Run and every field, each
/// length-prefixed.
fn run_sum(run: &str, state: &MapRunState) -> i64 {
    let mut h = Fnv::new();
    h.text(run);
    h.int(state.failed_items as i64);
    match &state.failure {
        None => h.text("RUNNING"),
        Some(f) => {
            h.text("FAILED");
            h.opt(f.error.as_deref());
            h.opt(f.cause.as_deref());
        }
    }
    h.finish() as i64
}

/// The state columns of a `map_runs` row (`failed_items`, `failure`, `error`, `cause`, `crc`),
/// as stored; `failed_items` is `NULL` in a row written before schema version 5.
type RunRow = (
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// A `map_runs` row's state back, its checksum verified (`None`: written before version 5).
fn run_of_row(run: &str, row: RunRow) -> Result<Option<MapRunState>, String> {
    let (failed_items, failure, error, cause, crc) = row;
    let Some(failed_items) = failed_items else {
        return Ok(None);
    };
    let damaged = || {
        format!(
            "the state of Map Run `{run}` does not match its checksum (the record was altered \
             after it was written)"
        )
    };
    let state = MapRunState {
        failed_items: u64::try_from(failed_items).map_err(|_| damaged())?,
        failure: match failure {
            Some(0) => None,
            Some(1) => Some(MapRunFailure { error, cause }),
            _ => return Err(damaged()),
        },
    };
    if crc != Some(run_sum(run, &state)) {
        return Err(damaged());
    }
    Ok(Some(state))
}

// ===== impl SqliteStore =====

impl SqliteStore {
    /// Opens the store at `path` with the default options, creating it if the file does not
    /// exist.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = workflow_runtime::store::SqliteStore::open(dir.path().join("new.db"))?; // created
    /// assert!(dir.path().join("new.db").exists());
    /// # drop(store);
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, SqliteOptions::default())
    }

    /// Opens the store at `path`, creating it if the file does not exist.
    ///
    /// An existing file is checked before use: it must be a non-empty SQLite database, not
    /// shorter than its header says, marked as a workflow store, of a schema version this build
    /// reads, with the expected tables; with [`SqliteOptions::verify`] every page is checked
    /// too. Any failure is an error naming the file; nothing is modified.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow_runtime::store::{SqliteOptions, SqliteStore, SyncPolicy};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let options = SqliteOptions { sync: SyncPolicy::Full, verify: true, ..SqliteOptions::default() };
    /// let store = SqliteStore::open_with(dir.path().join("durable.db"), options)?;
    /// // A read-only handle on the same file.
    /// let reader = SqliteStore::open_with(dir.path().join("durable.db"), SqliteOptions { read_only: true, ..SqliteOptions::default() })?;
    /// # drop((store, reader));
    /// # Ok(())
    /// # }
    /// ```
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let shown: Arc<str> = path.display().to_string().into();
        match std::fs::metadata(path) {
            Ok(meta) => regular_file(&meta, &shown)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !options.read_only => {
                create(path, &shown)?;
            }
            Err(e) => {
                return Err(StoreError::Storage {
                    path: shown.to_string(),
                    detail: format!("cannot open: {e}"),
                })
            }
        }
        precheck_file(path, &shown)?;
        let conn = if options.read_only {
            open_read_only(path, &shown)?
        } else {
            Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(|e| sql_error(&shown, e))?
        };
        // Identify the file before changing anything in it (switching to WAL writes the header).
        conn.busy_timeout(options.busy_timeout)
            .map_err(|e| sql_error(&shown, e))?;
        let version = check_schema(&conn, &shown)?;
        if options.read_only {
            if version < SCHEMA_VERSION {
                return Err(StoreError::Storage {
                    path: shown.to_string(),
                    detail: format!(
                        "schema version {version} must be upgraded to {SCHEMA_VERSION} before \
                         it can be read; open it once for writing (for example with `workflow \
                         resume`)"
                    ),
                });
            }
        } else {
            configure(&conn, &shown, &options)?;
            if version < SCHEMA_VERSION {
                upgrade(&conn, &shown, version)?;
            }
        }
        if options.verify {
            verify(&conn, &shown)?;
        }
        let checkpointer = if options.read_only {
            Checkpointer {
                ticks: None,
                thread: None,
            }
        } else {
            Checkpointer::start(path, &shown, &options)?
        };
        let (tx, rx) = mpsc::channel();
        let worker = Worker {
            conn,
            path: shown.clone(),
            max_batch: options.max_batch.max(1),
            ids: HashMap::new(),
            heads: HashMap::new(),
            checkpointer,
            commits: 0,
            owner: Owner::current(),
            renewed: 0,
            read_only: options.read_only,
            text_scratch: TextScratch::default(),
        };
        let shared = Arc::new(Shared {
            worker: Mutex::new(worker),
            queued: AtomicUsize::new(0),
            skip_inline: AtomicUsize::new(0),
        });
        let serving = Arc::clone(&shared);
        let handle = std::thread::Builder::new()
            .name("workflow-store".into())
            .spawn(move || serve(&serving, rx))
            .map_err(|e| StoreError::Storage {
                path: shown.to_string(),
                detail: format!("cannot start the store thread: {e}"),
            })?;
        let claims = Claims::default();
        let lease = if options.read_only {
            None
        } else {
            Some(start_lease_thread(&shared, &claims, &shown)?)
        };
        Ok(SqliteStore {
            path: shown,
            shared,
            claims,
            lease,
            inline: options.sync == SyncPolicy::Normal && !options.read_only,
            requests: Some(tx),
            worker: Some(handle),
        })
    }

    /// Whether an append may try to commit on the caller's thread: nothing is queued for the
    /// store thread, and no recent append found the store busy.
    fn try_inline(&self) -> bool {
        let skip = &self.shared.skip_inline;
        if skip.load(Ordering::Relaxed) > 0 {
            // Saturating: concurrent decrements never wrap below zero.
            let _ = skip.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
            return false;
        }
        if self.shared.queued.load(Ordering::SeqCst) > 0 {
            skip.store(INLINE_BACKOFF, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// The file this store was opened from, as shown in messages.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let file = dir.path().join("runs.db");
    /// let store = workflow_runtime::store::SqliteStore::open(&file)?;
    /// assert_eq!(store.path(), file.display().to_string());
    /// # Ok(())
    /// # }
    /// ```
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Checks the whole store: SQLite's `integrity_check` of every page and index, the rules of
    /// every history (ids without gaps, no position twice, no event without its execution), and
    /// the checksum of every event. Reads the whole file. Damage is reported in the returned
    /// report's `problems`, not as an error; an error means the check could not run.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::sync::Arc;
    /// # use workflow_runtime::store::{NewExecution, SqliteStore, Store};
    /// # use workflow_runtime::Runtime;
    /// #
    /// # let dir = tempfile::tempdir()?;
    /// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// # let new = NewExecution {
    /// #     name: "run-1".into(),
    /// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    /// #     input: serde_json::json!({"a": 1}),
    /// #     metadata: serde_json::Value::Null,
    /// # };
    /// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
    /// let report = store.check()?;
    /// assert_eq!((report.executions, report.events), (1, 4));
    /// assert!(report.problems.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn check(&self) -> Result<CheckReport, StoreError> {
        let worker = self.shared.lock_worker();
        check_all(&worker.conn, &self.path)
    }

    /// Up to `limit` events of execution `name` after id `after` (0: from the first), in id
    /// order, as the text they are stored as: what [`Store::load_events_page`] reads, without
    /// building each event's typed details (for printing a history as AWS's JSON). Each row is
    /// checked against its checksum, as there. The request goes to the store's thread when this
    /// is called, so a reader can ask for its next page before it prints the current one.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::sync::Arc;
    /// use workflow_runtime::store::{DurableRuntime, NewExecution, SqliteStore};
    /// use workflow_runtime::Runtime;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
    /// let durable = DurableRuntime::new(Runtime::builder(), store.clone());
    /// let run = durable
    ///     .start(NewExecution {
    ///         name: "run-1".into(),
    ///         definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
    ///         input: serde_json::json!({"a": 1}),
    ///         metadata: serde_json::Value::Null,
    ///     })
    ///     .await?;
    /// run.wait().await;
    ///
    /// let events = store.load_event_texts_page("run-1", 0, 100).await?;
    /// let started = events.get(0).expect("an event");
    /// assert_eq!(started.event_type, "ExecutionStarted");
    /// let (key, text) = started.details.expect("ExecutionStarted has details");
    /// assert_eq!(key, "executionStartedEventDetails");
    /// assert!(text.contains(r#""input":"{\"a\":1}""#));
    /// # Ok(())
    /// # }
    /// ```
    pub fn load_event_texts_page(
        &self,
        name: &str,
        after: u64,
        limit: usize,
    ) -> StoreFuture<'static, EventTexts> {
        let name = name.to_string();
        self.request(move |reply| Request::EventTexts(name, after, limit, reply))
    }

    fn request<T: Send + 'static>(
        &self,
        make: impl FnOnce(Reply<T>) -> Request,
    ) -> StoreFuture<'static, T> {
        let (tx, rx) = oneshot::channel();
        self.shared.queued.fetch_add(1, Ordering::SeqCst);
        let sent = match &self.requests {
            Some(requests) => requests.send(make(tx)).is_ok(),
            None => false,
        };
        if !sent {
            self.shared.queued.fetch_sub(1, Ordering::SeqCst);
        }
        let path = self.path.clone();
        Box::pin(async move {
            if !sent {
                return Err(stopped(&path));
            }
            rx.await.map_err(|_| stopped(&path))?
        })
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.lease.take() {
            drop(stop);
            let _ = thread.join();
        }
        // Closing the channel ends the worker once it has answered every queued request; joining
        // it closes the connection (checkpointing the WAL) before the store is gone.
        drop(self.requests.take());
        if let Some(worker) = self.worker.take() {
            // A panicked worker has already answered with errors; nothing more to report here.
            let _ = worker.join();
        }
    }
}

fn stopped(path: &str) -> StoreError {
    StoreError::Storage {
        path: path.to_string(),
        detail: "the store thread has stopped".into(),
    }
}

impl Store for SqliteStore {
    fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution> {
        if let Err(e) = validate_execution_name(&new.name) {
            return Box::pin(async move { Err(e) });
        }
        self.request(|reply| Request::Start(new, reply))
    }

    fn append_events<'a>(
        &'a self,
        name: &'a str,
        events: &'a [HistoryEvent],
    ) -> StoreFuture<'a, ()> {
        let batch = match check_batch(name, events) {
            Ok(batch) => batch,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let append = Append {
            name: name.to_string(),
            batch,
            events: AppendEvents::Rows(events.iter().map(EventRow::from_event).collect()),
        };
        if self.inline && self.try_inline() {
            // The store is idle: commit on this thread rather than waking the store thread
            // and waiting to be woken (two thread switches, a third of an append's cost).
            // The commit writes the WAL without an fsync, so it blocks only briefly.
            if let Some(mut worker) = self.shared.try_worker() {
                let result = worker
                    .append_all(std::slice::from_ref(&append))
                    .pop()
                    .unwrap_or_else(|| Err(stopped(&self.path)));
                return Box::pin(async move { result });
            }
            self.shared
                .skip_inline
                .store(INLINE_BACKOFF, Ordering::Relaxed);
        }
        self.request(|reply| Request::Append(append, reply))
    }

    fn queues_appends(&self) -> bool {
        true
    }

    fn queue_events(&self, name: &str, events: Vec<HistoryEvent>) -> StoreFuture<'static, ()> {
        let batch = match check_batch(name, &events) {
            Ok(batch) => batch,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        let append = Append {
            name: name.to_string(),
            batch,
            events: AppendEvents::Events(events),
        };
        // Always through the store thread: it commits whatever is queued in one transaction
        // while the caller goes on.
        self.request(|reply| Request::Append(append, reply))
    }

    fn describe_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ExecutionRecord> {
        let name = name.to_string();
        self.request(|reply| Request::Describe(name, reply))
    }

    fn load_events<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Vec<HistoryEvent>> {
        let name = name.to_string();
        self.request(|reply| Request::Load(name, reply))
    }

    fn list_executions(&self, filter: ListFilter) -> StoreFuture<'_, Vec<ExecutionSummary>> {
        self.request(|reply| Request::List(filter, reply))
    }

    fn count_executions(&self, status: Option<ExecutionStatus>) -> StoreFuture<'_, u64> {
        self.request(|reply| Request::Count(status, reply))
    }

    fn list_page(&self, query: PageQuery) -> StoreFuture<'_, ExecutionPage> {
        self.request(|reply| Request::Page(query, reply))
    }

    fn load_events_page<'a>(
        &'a self,
        name: &'a str,
        after: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<HistoryEvent>> {
        let name = name.to_string();
        self.request(move |reply| Request::Events(name, after, limit, reply))
    }

    fn claim_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Claim> {
        let claimed = self.request({
            let name = name.to_string();
            move |reply| Request::Claim(name, reply)
        });
        Box::pin(async move {
            claimed.await?;
            let (tx, rx) = tokio::sync::watch::channel(false);
            self.claims
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(name.to_string(), tx);
            Ok(Claim::watched(rx))
        })
    }

    fn release_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ()> {
        self.claims
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        let name = name.to_string();
        self.request(move |reply| Request::Release(name, reply))
    }

    fn keeps_map_progress(&self) -> bool {
        true
    }

    fn record_map_children(
        &self,
        name: &str,
        run: &str,
        children: Vec<MapChild>,
        state: Option<MapRunState>,
    ) -> StoreFuture<'static, ()> {
        let append = Append {
            name: name.to_string(),
            batch: Batch {
                first_id: 0,
                len: 0,
                closing: None,
            },
            events: AppendEvents::Children(run.to_string(), children, state),
        };
        // Through the store thread, with the event appends queued around it: one commit for
        // whatever is queued while the caller goes on.
        self.request(|reply| Request::Append(append, reply))
    }

    fn load_map_children<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<MapChild>> {
        let (name, run) = (name.to_string(), run.to_string());
        self.request(move |reply| Request::Children(name, run, from, limit, reply))
    }

    fn load_map_run<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
    ) -> StoreFuture<'a, Option<MapRunState>> {
        let (name, run) = (name.to_string(), run.to_string());
        self.request(move |reply| Request::MapRun(name, run, reply))
    }
}

/// How often the lease thread looks for lost claims (and renews the lease when due).
const LEASE_POLL: Duration = Duration::from_millis(200);

/// The lease thread: while the store is open and holds claims, every [`LEASE_POLL`] it renews
/// this handle's lease (when a third of [`LEASE_TTL`] has passed) and reports the claims that
/// were lost: closed by another process (`workflow stop`) or taken over after the lease expired.
fn start_lease_thread(
    shared: &Arc<Shared>,
    claims: &Claims,
    shown: &str,
) -> Result<(mpsc::Sender<()>, JoinHandle<()>), StoreError> {
    let (stop, stopped) = mpsc::channel::<()>();
    let shared = Arc::clone(shared);
    let claims = Arc::clone(claims);
    let thread = std::thread::Builder::new()
        .name("workflow-store-lease".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(LEASE_POLL) {
                let held: Vec<String> = {
                    let claims = claims.lock().unwrap_or_else(|p| p.into_inner());
                    if claims.is_empty() {
                        continue;
                    }
                    claims.keys().cloned().collect()
                };
                // A failed poll (a busy file) proves nothing: try again at the next tick.
                let Ok(owned) = shared.lock_worker().poll_lease() else {
                    continue;
                };
                let claims = claims.lock().unwrap_or_else(|p| p.into_inner());
                for name in held {
                    if !owned.contains(&name) {
                        if let Some(tx) = claims.get(&name) {
                            tx.send_replace(true);
                        }
                    }
                }
            }
        })
        .map_err(|e| StoreError::Storage {
            path: shown.to_string(),
            detail: format!("cannot start the lease thread: {e}"),
        })?;
    Ok((stop, thread))
}

/// What [`SqliteStore::check`] found.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use std::sync::Arc;
/// # use workflow_runtime::store::{NewExecution, SqliteStore, Store};
/// # use workflow_runtime::Runtime;
/// #
/// # let dir = tempfile::tempdir()?;
/// # let store = Arc::new(SqliteStore::open(dir.path().join("runs.db"))?);
/// # let new = NewExecution {
/// #     name: "run-1".into(),
/// #     definition: r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into(),
/// #     input: serde_json::json!({"a": 1}),
/// #     metadata: serde_json::Value::Null,
/// # };
/// # Runtime::builder().durable(store.clone()).start(new).await?.wait().await;
/// let report = store.check()?;
/// assert_eq!(report.unchecked, 0);
/// assert!(report.problems.is_empty(), "{:?}", report.problems);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Executions in the store.
    pub executions: u64,
    /// Events checked against their checksum.
    pub events: u64,
    /// Events without a checksum (recorded by schema version 1), checked only structurally.
    pub unchecked: u64,
    /// Every problem found (empty when the store is intact).
    pub problems: Vec<String>,
}

/// The whole check of [`SqliteStore::check`].
fn check_all(conn: &Connection, shown: &str) -> Result<CheckReport, StoreError> {
    let mut report = CheckReport::default();
    let mut stmt = conn
        .prepare("PRAGMA integrity_check(100)")
        .map_err(|e| sql_error(shown, e))?;
    let problems = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
    drop(stmt);
    match problems {
        Ok(p) if p == ["ok"] => {}
        Ok(p) => report.problems.extend(p),
        Err(e) => report.problems.push(e.to_string()),
    }
    if let Err(e) = verify(conn, shown) {
        report.problems.push(match e {
            StoreError::Corrupt { detail, .. } => detail,
            other => other.to_string(),
        });
    }
    report.executions = conn
        .query_row("SELECT COUNT(*) FROM executions", [], |r| {
            r.get::<_, i64>(0)
        })
        .map_or(0, |n| n.max(0) as u64);
    // Every execution row against both its checksums.
    let mut stmt = conn
        .prepare(&format!("{SELECT_EXECUTION} ORDER BY x.id"))
        .map_err(|e| sql_error(shown, e))?;
    let rows = stmt
        .query_map([], RawRecord::from_row)
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
    drop(stmt);
    match rows {
        Ok(rows) => {
            for row in rows.iter().filter(|r| !r.intact()) {
                report.problems.push(altered_execution(&row.name));
            }
        }
        Err(e) => report.problems.push(e.to_string()),
    }
    let mut stmt = conn
        .prepare("SELECT name, status, start_date, stop_date, crc_summary FROM executions")
        .map_err(|e| sql_error(shown, e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>());
    drop(stmt);
    match rows {
        Ok(rows) => {
            for (name, status, start, stop, crc) in rows {
                if crc
                    .is_some_and(|crc| crc != summary_sum(&name, &status, &start, stop.as_deref()))
                {
                    report.problems.push(format!(
                        "the summary of execution `{name}` (its status and dates) does not match \
                         its checksum (the record was altered after it was written)"
                    ));
                }
            }
        }
        Err(e) => report.problems.push(e.to_string()),
    }
    check_children(conn, shown, &mut report)?;
    let mut stmt = conn
        .prepare(
            "SELECT e.id, e.previous_event_id, e.timestamp, e.type, e.details_key, e.details, \
             e.scope, e.seq, e.crc, x.name FROM events e JOIN executions x ON x.id = e.execution \
             ORDER BY e.execution, e.id",
        )
        .map_err(|e| sql_error(shown, e))?;
    let rows = stmt.query_map([], |r| Ok((EventRow::from_row(r)?, r.get::<_, String>(9)?)));
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            report.problems.push(e.to_string());
            return Ok(report);
        }
    };
    for row in rows {
        match row {
            Ok((row, name)) => {
                if row.crc.is_none() {
                    report.unchecked += 1;
                } else if row.intact() {
                    report.events += 1;
                } else {
                    report.problems.push(format!(
                        "event {} of execution `{name}` does not match its checksum (the \
                         record was altered after it was written)",
                        row.id
                    ));
                }
            }
            Err(e) => report.problems.push(e.to_string()),
        }
        if report.problems.len() >= 100 {
            report.problems.push("(stopped after 100 problems)".into());
            break;
        }
    }
    Ok(report)
}

/// Checks each `(row, Map Run, execution name)` of a query with `check`, adding what fails (and
/// any error reading the rows) to `report`; `true` once it holds 100 problems.
fn note_problems<T>(
    report: &mut CheckReport,
    rows: rusqlite::Result<impl Iterator<Item = rusqlite::Result<(T, String, String)>>>,
    check: impl Fn(&str, T) -> Result<(), String>,
) -> bool {
    let rows = match rows {
        Ok(rows) => rows,
        Err(e) => {
            report.problems.push(e.to_string());
            return false;
        }
    };
    for row in rows {
        match row {
            Ok((row, run, name)) => {
                if let Err(detail) = check(&run, row) {
                    report
                        .problems
                        .push(format!("execution `{name}`: {detail}"));
                }
            }
            Err(e) => report.problems.push(e.to_string()),
        }
        if report.problems.len() >= 100 {
            return true;
        }
    }
    false
}

/// The part of [`check_all`] about Map Run progress: every recorded child and Map Run state
/// against its checksum, and no child of a Map Run or Map Run of an execution that does not exist.
fn check_children(
    conn: &Connection,
    shown: &str,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare(
            "SELECT c.idx, c.input_hash, c.start_date, c.stop_date, c.status, c.output, c.error, \
             c.cause, c.crc, r.run, x.name FROM map_children c JOIN map_runs r ON r.id = c.run \
             JOIN executions x ON x.id = r.execution ORDER BY c.run, c.idx",
        )
        .map_err(|e| sql_error(shown, e))?;
    let rows = stmt.query_map([], |r| {
        let row: ChildRow = (
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
        );
        Ok((row, r.get::<_, String>(9)?, r.get::<_, String>(10)?))
    });
    if note_problems(report, rows, |run, row| child_of_row(run, row).map(drop)) {
        return Ok(());
    }
    let mut stmt = conn
        .prepare(
            "SELECT r.failed_items, r.failure, r.error, r.cause, r.crc, r.run, x.name \
             FROM map_runs r JOIN executions x ON x.id = r.execution ORDER BY r.id",
        )
        .map_err(|e| sql_error(shown, e))?;
    let rows = stmt.query_map([], |r| {
        let row: RunRow = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
        Ok((row, r.get::<_, String>(5)?, r.get::<_, String>(6)?))
    });
    if note_problems(report, rows, |run, row| run_of_row(run, row).map(drop)) {
        return Ok(());
    }
    let orphans: i64 = conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM map_children c WHERE NOT EXISTS \
             (SELECT 1 FROM map_runs r WHERE r.id = c.run)) + (SELECT COUNT(*) FROM map_runs r \
             WHERE NOT EXISTS (SELECT 1 FROM executions x WHERE x.id = r.execution))",
            [],
            |r| r.get(0),
        )
        .map_err(|e| sql_error(shown, e))?;
    if orphans > 0 {
        report.problems.push(format!(
            "{orphans} Map Run progress rows belong to no Map Run or execution"
        ));
    }
    Ok(())
}

// ===== opening =====

const SCHEMA: &str = "
CREATE TABLE definitions (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX definitions_by_hash ON definitions(hash);
CREATE TABLE executions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    definition INTEGER NOT NULL REFERENCES definitions(id),
    input TEXT NOT NULL,
    metadata TEXT NOT NULL,
    status TEXT NOT NULL,
    start_date TEXT NOT NULL,
    stop_date TEXT,
    output TEXT,
    error TEXT,
    cause TEXT
);
CREATE INDEX executions_by_status ON executions(status, id);
CREATE TABLE events (
    execution INTEGER NOT NULL,
    id INTEGER NOT NULL,
    previous_event_id INTEGER NOT NULL,
    timestamp TEXT NOT NULL,
    type TEXT NOT NULL,
    details_key TEXT,
    details TEXT,
    scope TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (execution, id)
) WITHOUT ROWID;
";

/// From schema version 1 to 2: a checksum per event (`NULL` for events recorded before), the
/// engine and history format of each execution, and ownership (`owners`, `executions.owner`).
const UPGRADE_TO_2: &str = "
ALTER TABLE events ADD COLUMN crc INTEGER;
ALTER TABLE executions ADD COLUMN engine TEXT NOT NULL DEFAULT '';
ALTER TABLE executions ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
ALTER TABLE executions ADD COLUMN owner TEXT;
CREATE INDEX executions_by_owner ON executions(owner);
CREATE TABLE owners (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
PRAGMA user_version = 2;
";

/// From schema version 2 to 3: two checksums per execution row (`NULL` for rows written before):
/// `crc` over every field a reader is shown (the definition's text included), `crc_summary`
/// over what a list shows (name, status, start and stop dates), so that a list need not read
/// inputs and outputs to check its rows. The owner (a lease, rewritten every few seconds) is
/// not covered.
const UPGRADE_TO_3: &str = "
ALTER TABLE executions ADD COLUMN crc INTEGER;
ALTER TABLE executions ADD COLUMN crc_summary INTEGER;
PRAGMA user_version = 3;
";

/// From schema version 3 to 4: the progress of distributed Map Runs. `map_runs` names each Map
/// Run of an execution once (its key is long: the position of its `MapRunStarted` event and its
/// id); `map_children` holds its finished children by index, each row with a checksum over its
/// Map Run's key and every field.
const UPGRADE_TO_4: &str = "
CREATE TABLE map_runs (
    id INTEGER PRIMARY KEY,
    execution INTEGER NOT NULL,
    run TEXT NOT NULL,
    UNIQUE (execution, run)
);
CREATE TABLE map_children (
    run INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    input_hash INTEGER NOT NULL,
    start_date TEXT NOT NULL,
    stop_date TEXT NOT NULL,
    status TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    crc INTEGER NOT NULL,
    PRIMARY KEY (run, idx)
) WITHOUT ROWID;
PRAGMA user_version = 4;
";

/// From schema version 4 to 5: the state of each Map Run ([`MapRunState`]): the items of its
/// failed children counted so far and the failure a child decided (`failure` 1, with its
/// `error` and `cause`), with a checksum over its key and every field. `NULL` for Map Runs
/// recorded before: a resumed run then counts their recorded failures as it meets them.
const UPGRADE_TO_5: &str = "
ALTER TABLE map_runs ADD COLUMN failed_items INTEGER;
ALTER TABLE map_runs ADD COLUMN failure INTEGER;
ALTER TABLE map_runs ADD COLUMN error TEXT;
ALTER TABLE map_runs ADD COLUMN cause TEXT;
ALTER TABLE map_runs ADD COLUMN crc INTEGER;
PRAGMA user_version = 5;
";

/// Upgrades a store from `version` to [`SCHEMA_VERSION`] in one transaction.
fn upgrade(conn: &Connection, shown: &str, version: i64) -> Result<(), StoreError> {
    let steps = match version {
        1 => format!("{UPGRADE_TO_2} {UPGRADE_TO_3} {UPGRADE_TO_4} {UPGRADE_TO_5}"),
        2 => format!("{UPGRADE_TO_3} {UPGRADE_TO_4} {UPGRADE_TO_5}"),
        3 => format!("{UPGRADE_TO_4} {UPGRADE_TO_5}"),
        4 => UPGRADE_TO_5.to_string(),
        _ => String::new(),
    };
    if !steps.is_empty() {
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {steps} COMMIT;"))
            .map_err(|e| {
                let _ = conn.execute_batch("ROLLBACK");
                sql_error(shown, e)
            })?;
    }
    Ok(())
}

/// Refuses anything but a regular file (a FIFO would block the open forever; a directory or a
/// device is not a store).
fn regular_file(meta: &std::fs::Metadata, shown: &str) -> Result<(), StoreError> {
    let ty = meta.file_type();
    if ty.is_file() {
        return Ok(());
    }
    #[cfg(unix)]
    let kind = {
        use std::os::unix::fs::FileTypeExt;
        if ty.is_fifo() {
            "a FIFO (named pipe)"
        } else if ty.is_socket() {
            "a socket"
        } else if ty.is_char_device() || ty.is_block_device() {
            "a device"
        } else if ty.is_dir() {
            "a directory"
        } else {
            "not a regular file"
        }
    };
    #[cfg(not(unix))]
    let kind = if ty.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Err(StoreError::Storage {
        path: shown.to_string(),
        detail: format!("is {kind}, not a store file (a store is a regular file)"),
    })
}

/// Opens a store for reading only. Where SQLite cannot set up its shared-memory file next to
/// the store (a directory this process may not write), the file is opened as immutable: read
/// as it is, without the write-ahead log of a writer that is still running.
fn open_read_only(path: &Path, shown: &str) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let probe = |c: Connection| {
        // Opening is lazy: read the schema to find out whether the file can be read.
        c.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| {
            r.get::<_, i64>(0)
        })
        .map(|_| c)
    };
    match Connection::open_with_flags(path, flags).and_then(probe) {
        Ok(conn) => Ok(conn),
        Err(first) => {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let uri = format!(
                "file:{}?immutable=1",
                absolute
                    .display()
                    .to_string()
                    .replace('%', "%25")
                    .replace('?', "%3f")
                    .replace('#', "%23")
            );
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                .and_then(probe)
                .map_err(|_| sql_error(shown, first))
        }
    }
}

/// Creates a new store at `path`: initialised under a temporary name, then linked into place,
/// so that `path` never names a half-initialised (for example empty) file.
fn create(path: &Path, shown: &str) -> Result<(), StoreError> {
    let io = |what: &str, e: std::io::Error| StoreError::Storage {
        path: shown.to_string(),
        detail: format!("{what}: {e}"),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    let temp: PathBuf = path.with_file_name(format!(
        ".{file_name}.init-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let init = || -> Result<(), StoreError> {
        let conn = Connection::open_with_flags(
            &temp,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(shown, e))?;
        let sql = format!(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             PRAGMA application_id={APPLICATION_ID}; BEGIN; {SCHEMA} {UPGRADE_TO_2} \
             {UPGRADE_TO_3} {UPGRADE_TO_4} {UPGRADE_TO_5} COMMIT;"
        );
        conn.execute_batch(&sql).map_err(|e| sql_error(shown, e))?;
        conn.close().map_err(|(_, e)| sql_error(shown, e))
    };
    let linked = init().and_then(|()| match std::fs::hard_link(&temp, path) {
        Ok(()) => Ok(()),
        // Another process created the store first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        // File systems without hard links: a rename (which would replace a store created in
        // the same instant by another process; acceptable where links are unsupported).
        Err(_) => std::fs::rename(&temp, path).map_err(|e| io("cannot create the store", e)),
    });
    // Best effort: the temporary name is gone after a rename, and a leftover is harmless.
    let _ = std::fs::remove_file(&temp);
    linked?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the new directory entry durable; some platforms cannot open directories.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Cheap checks of an existing file before SQLite opens it: not empty, an SQLite header, not
/// shorter than the header says (when no WAL file could hold the missing pages).
fn precheck_file(path: &Path, shown: &str) -> Result<(), StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        path: shown.to_string(),
        detail,
    };
    let mut file = File::open(path).map_err(|e| StoreError::Storage {
        path: shown.to_string(),
        detail: format!("cannot open: {e}"),
    })?;
    let meta = file.metadata().map_err(|e| StoreError::Storage {
        path: shown.to_string(),
        detail: format!("cannot read metadata: {e}"),
    })?;
    if meta.is_dir() {
        return Err(StoreError::Storage {
            path: shown.to_string(),
            detail: "is a directory, not a store file".into(),
        });
    }
    let len = meta.len();
    if len == 0 {
        return Err(corrupt(
            "the file is empty (a workflow store is never empty: was it truncated?)".into(),
        ));
    }
    let mut header = [0u8; 100];
    if len < header.len() as u64 {
        return Err(corrupt(format!(
            "the file is {len} bytes long, shorter than an SQLite header (truncated?)"
        )));
    }
    file.read_exact(&mut header)
        .map_err(|e| corrupt(format!("cannot read the header: {e}")))?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(corrupt(
            "the file does not start with an SQLite header".into(),
        ));
    }
    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536u64,
        n => u64::from(n),
    };
    let change_counter = &header[24..28];
    let valid_for = &header[92..96];
    let pages = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_exists = Path::new(&wal).exists();
    if change_counter == valid_for && pages > 0 && !wal_exists && len < pages * page_size {
        return Err(corrupt(format!(
            "the file is {len} bytes long but its header says {pages} pages of {page_size} bytes \
             ({} bytes): it was truncated",
            pages * page_size
        )));
    }
    Ok(())
}

/// How many commits the writer makes between two checkpoint requests.
pub const CHECKPOINT_EVERY: u32 = 500;

/// Checkpoints the WAL on its own connection and thread (see the module docs).
struct Checkpointer {
    ticks: Option<mpsc::SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(path: &Path, shown: &str, options: &SqliteOptions) -> Result<Self, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| sql_error(shown, e))?;
        conn.busy_timeout(options.busy_timeout)
            .map_err(|e| sql_error(shown, e))?;
        conn.pragma_update(None, "synchronous", options.sync.pragma())
            .map_err(|e| sql_error(shown, e))?;
        let (tx, rx) = mpsc::sync_channel::<()>(1);
        let thread = std::thread::Builder::new()
            .name("workflow-store-checkpoint".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    // PASSIVE never waits for the writer or readers; frames it cannot copy now
                    // are copied at a later request (or when the store closes). A failure here
                    // loses nothing: the frames stay in the WAL.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
                let _ = conn.close();
            })
            .map_err(|e| StoreError::Storage {
                path: shown.to_string(),
                detail: format!("cannot start the checkpoint thread: {e}"),
            })?;
        Ok(Checkpointer {
            ticks: Some(tx),
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint (a request already pending is enough).
    fn request(&self) {
        if let Some(ticks) = &self.ticks {
            let _ = ticks.try_send(());
        }
    }

    /// Stops the thread and closes its connection.
    fn stop(&mut self) {
        drop(self.ticks.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn configure(conn: &Connection, shown: &str, options: &SqliteOptions) -> Result<(), StoreError> {
    conn.set_prepared_statement_cache_capacity(32);
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(|e| sql_error(shown, e))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Storage {
            path: shown.to_string(),
            detail: format!("cannot switch the journal to WAL mode (it is `{mode}`)"),
        });
    }
    conn.pragma_update(None, "synchronous", options.sync.pragma())
        .map_err(|e| sql_error(shown, e))?;
    // The checkpointer does the work; SQLite's own checkpoint on the writer is only a backstop
    // (80 MB of WAL), and a WAL that grew past 64 MB is truncated after a checkpoint.
    conn.pragma_update(None, "wal_autocheckpoint", 20_000)
        .map_err(|e| sql_error(shown, e))?;
    conn.pragma_update_and_check(None, "journal_size_limit", 64 * 1024 * 1024, |_| Ok(()))
        .map_err(|e| sql_error(shown, e))?;
    Ok(())
}

/// Checks that the file is a workflow store this build reads; returns its schema version.
fn check_schema(conn: &Connection, shown: &str) -> Result<i64, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        path: shown.to_string(),
        detail,
    };
    let app: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| sql_error(shown, e))?;
    if app != APPLICATION_ID {
        return Err(corrupt(format!(
            "an SQLite database, but not a workflow store (application_id {app:#x}, expected \
             {APPLICATION_ID:#x})"
        )));
    }
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| sql_error(shown, e))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::UnsupportedVersion {
            path: shown.to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    if version < 1 {
        return Err(corrupt(format!(
            "schema version {version} is not a valid version"
        )));
    }
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table'")
        .map_err(|e| sql_error(shown, e))?;
    let tables = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| sql_error(shown, e))?;
    let mut wanted = vec!["definitions", "executions", "events"];
    if version >= 2 {
        wanted.push("owners");
    }
    if version >= 4 {
        wanted.extend(["map_runs", "map_children"]);
    }
    for wanted in wanted {
        if !tables.iter().any(|t| t == wanted) {
            return Err(corrupt(format!("the `{wanted}` table is missing")));
        }
    }
    Ok(version)
}

/// Full check: every page (`quick_check`), then every history: ids `1..=n` without gaps, no
/// `(scope, seq)` twice, no event without its execution.
fn verify(conn: &Connection, shown: &str) -> Result<(), StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        path: shown.to_string(),
        detail,
    };
    let mut stmt = conn
        .prepare("PRAGMA quick_check(10)")
        .map_err(|e| sql_error(shown, e))?;
    let problems = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| sql_error(shown, e))?;
    if problems != ["ok"] {
        return Err(corrupt(problems.join("; ")));
    }
    let gap: Option<(String, i64, i64)> = conn
        .query_row(
            "SELECT x.name, MAX(e.id), COUNT(*) FROM executions x
             JOIN events e ON e.execution = x.id
             GROUP BY x.id HAVING COUNT(*) != MAX(e.id) OR MIN(e.id) != 1
             LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(|e| sql_error(shown, e))?;
    if let Some((name, last, found)) = gap {
        return Err(corrupt(format!(
            "execution `{name}` has events up to id {last} but holds only {found} events"
        )));
    }
    let duplicate: Option<(String, String, i64)> = conn
        .query_row(
            "SELECT x.name, e.scope, e.seq FROM events e
             JOIN executions x ON x.id = e.execution
             GROUP BY e.execution, e.scope, e.seq HAVING COUNT(*) > 1
             LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(|e| sql_error(shown, e))?;
    if let Some((name, scope, seq)) = duplicate {
        return Err(corrupt(format!(
            "execution `{name}` records the position (scope `{scope}`, seq {seq}) twice"
        )));
    }
    let orphans: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM events e WHERE NOT EXISTS \
             (SELECT 1 FROM executions x WHERE x.id = e.execution)",
            [],
            |r| r.get(0),
        )
        .map_err(|e| sql_error(shown, e))?;
    if orphans > 0 {
        return Err(corrupt(format!(
            "{orphans} events belong to no execution (the executions table lost rows)"
        )));
    }
    Ok(())
}

/// Maps an SQLite error: damage is [`StoreError::Corrupt`], the rest [`StoreError::Storage`].
fn sql_error(shown: &str, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseCorrupt) | Some(ErrorCode::NotADatabase) => StoreError::Corrupt {
            path: shown.to_string(),
            detail: e.to_string(),
        },
        _ => StoreError::Storage {
            path: shown.to_string(),
            detail: e.to_string(),
        },
    }
}

/// A stable 64-bit FNV-1a hash, used to find an identical stored definition.
fn fnv1a(text: &str) -> i64 {
    crate::fnv::fnv1a(text.as_bytes()) as i64
}

// ===== the worker thread =====

/// The store thread: answers requests in order, committing consecutive appends together.
fn serve(shared: &Shared, requests: mpsc::Receiver<Request>) {
    let mut pending = None;
    loop {
        let request = match pending.take() {
            Some(r) => r,
            None => match requests.recv() {
                Ok(r) => r,
                Err(_) => break,
            },
        };
        let max_batch = shared.lock_worker().max_batch;
        // Answers are sent only once the worker is unlocked and the requests are no longer
        // counted as queued: a caller woken by its answer that appends at once then finds the
        // store idle and commits on its own thread, instead of backing off to this one.
        let (handled, answer): (usize, Box<dyn FnOnce()>) = match request {
            Request::Append(first, reply) => {
                let mut appends = vec![first];
                let mut replies = vec![reply];
                while appends.len() < max_batch {
                    match requests.try_recv() {
                        Ok(Request::Append(next, reply)) => {
                            appends.push(next);
                            replies.push(reply);
                        }
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let results = shared.lock_worker().append_all(&appends);
                let answer = move || {
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(result);
                    }
                };
                (appends.len(), Box::new(answer))
            }
            other => {
                let mut worker = shared.lock_worker();
                let answer: Box<dyn FnOnce()> = match other {
                    Request::Start(new, reply) => {
                        let r = worker.start(new);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Describe(name, reply) => {
                        let r = worker.describe(&name);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Load(name, reply) => {
                        let r = worker.load(&name);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::List(filter, reply) => {
                        let r = worker.list(&filter);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Count(status, reply) => {
                        let r = worker.count(status);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Page(query, reply) => {
                        let r = worker.page(&query);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Events(name, after, limit, reply) => {
                        let r = worker.load_page(&name, after, limit);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::EventTexts(name, after, limit, reply) => {
                        let r = worker.load_text_page(&name, after, limit);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Claim(name, reply) => {
                        let r = worker.claim(&name);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Release(name, reply) => {
                        let r = worker.release(&name);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Children(name, run, from, limit, reply) => {
                        let r = worker.load_children(&name, &run, from, limit);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::MapRun(name, run, reply) => {
                        let r = worker.load_run(&name, &run);
                        Box::new(move || drop(reply.send(r)))
                    }
                    Request::Append(..) => Box::new(|| ()),
                };
                drop(worker);
                (1, answer)
            }
        };
        shared.queued.fetch_sub(handled, Ordering::SeqCst);
        answer();
    }
    // The writer's connection closes last: closing the last connection checkpoints the WAL into
    // the database; on failure SQLite keeps the WAL, which the next open recovers.
    let mut worker = shared.lock_worker();
    worker.checkpointer.stop();
    if let Ok(placeholder) = Connection::open_in_memory() {
        let conn = std::mem::replace(&mut worker.conn, placeholder);
        let _ = conn.close();
    }
}

struct Worker {
    conn: Connection,
    path: Arc<str>,
    max_batch: usize,
    /// Execution name → row id (names are never reused or deleted).
    ids: HashMap<String, i64>,
    /// Execution row id → what this worker knows of a running execution it appends to (dropped
    /// when the execution closes, and on any failure).
    heads: HashMap<i64, Head>,
    checkpointer: Checkpointer,
    /// Commits since the last checkpoint request.
    commits: u32,
    /// Who this handle is when it claims executions.
    owner: Owner,
    /// When this handle's lease was last renewed (Unix ms; 0: never).
    renewed: i64,
    /// Opened for reading only.
    read_only: bool,
    /// What `load_text_page` keeps from one page to the next.
    text_scratch: TextScratch,
}

/// Buffers `Worker::load_text_page` reuses from page to page (a page's are large enough that
/// allocating them afresh costs page faults), and the size of the last page's text, reserved for
/// the next.
#[derive(Default)]
struct TextScratch {
    /// What each row's checksum covers, one after the other.
    covered: Vec<u8>,
    /// Where each row's part of `covered` ends.
    ends: Vec<usize>,
    /// Each row's id and stored checksum.
    crcs: Vec<(i64, Option<i64>)>,
    /// Each row's computed checksum.
    sums: Vec<u64>,
    /// The length of the last page's text.
    text_len: usize,
}

/// A running execution's event count and, per scope, the position after its last event.
///
/// The executor records a scope's events in `seq` order, so a position is new exactly when it
/// comes after the scope's last one: one number per scope instead of every position.
struct Head {
    count: u64,
    next_seq: HashMap<String, u64>,
}

impl Head {
    /// Whether `(scope, seq)` comes after every recorded event of the scope.
    fn is_new(&self, scope: &str, seq: u64) -> bool {
        self.next_seq.get(scope).is_none_or(|&next| seq >= next)
    }

    fn record(&mut self, scope: &str, seq: u64) {
        match self.next_seq.get_mut(scope) {
            Some(next) => *next = (*next).max(seq.saturating_add(1)),
            None => {
                self.next_seq
                    .insert(scope.to_string(), seq.saturating_add(1));
            }
        }
    }
}

const SELECT_EXECUTION: &str = "SELECT x.name, d.text, x.input, x.metadata, x.status, \
     x.start_date, x.stop_date, x.output, x.error, x.cause, \
     (SELECT COALESCE(MAX(e.id), 0) FROM events e WHERE e.execution = x.id), x.engine, x.format, \
     x.crc FROM executions x JOIN definitions d ON d.id = x.definition";

/// Milliseconds a lease lasts.
fn lease_ms() -> i64 {
    i64::try_from(LEASE_TTL.as_millis()).unwrap_or(i64::MAX)
}

impl Worker {
    /// Counts a commit, asking for a checkpoint every [`CHECKPOINT_EVERY`] commits.
    fn committed(&mut self) {
        self.commits += 1;
        if self.commits >= CHECKPOINT_EVERY {
            self.commits = 0;
            self.checkpointer.request();
        }
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sql_error(&self.path, e)
    }

    fn corrupt(&self, detail: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.to_string(),
            detail,
        }
    }

    /// Runs a statement without parameters or rows (`BEGIN`, `COMMIT`), prepared once.
    fn run_cached(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute([]).map(drop)
    }

    /// Commits every append in one transaction; each append runs in a savepoint so that one
    /// rejected append leaves the others intact. Replies are sent after the commit.
    fn append_all(&mut self, appends: &[Append]) -> Vec<Result<(), StoreError>> {
        if self.read_only {
            let e = self.read_only_error();
            return appends.iter().map(|_| Err(e.clone())).collect();
        }
        let mut results: Vec<Result<(), StoreError>> = Vec::with_capacity(appends.len());
        let began = self.run_cached("BEGIN IMMEDIATE");
        if let Err(e) = began {
            let e = self.err(e);
            return appends.iter().map(|_| Err(e.clone())).collect();
        }
        let several = appends.len() > 1;
        for a in appends {
            if several {
                if let Err(e) = self.run_cached("SAVEPOINT append") {
                    results.push(Err(self.err(e)));
                    continue;
                }
            }
            let result = self.append_one(a);
            if several {
                let undo = if result.is_ok() {
                    "RELEASE append"
                } else {
                    "ROLLBACK TO append; RELEASE append"
                };
                if let Err(e) = self.conn.execute_batch(undo) {
                    self.heads.clear();
                    results.push(Err(self.err(e)));
                    continue;
                }
            }
            results.push(result);
        }
        let finish = if !several && results.iter().any(Result::is_err) {
            "ROLLBACK"
        } else {
            "COMMIT"
        };
        let finished = self.run_cached(finish);
        if finished.is_ok() {
            self.committed();
        }
        if let Err(e) = finished {
            let e = self.err(e);
            // A failed COMMIT leaves the transaction open: roll it back so nothing of it stays.
            let _ = self.conn.execute_batch("ROLLBACK");
            for r in &mut results {
                if r.is_ok() {
                    *r = Err(e.clone());
                }
            }
            // The cached heads include events that were not committed.
            self.heads.clear();
        }
        results
    }

    fn append_one(&mut self, a: &Append) -> Result<(), StoreError> {
        let id = self.execution_id(&a.name)?;
        let mut head = match self.heads.remove(&id) {
            Some(head) => head,
            None => self.load_head(id, &a.name)?,
        };
        // `head` is back in the cache only if this append succeeds and leaves it running.
        check_continues(&a.name, ExecutionStatus::Running, head.count, &a.batch)?;
        let built;
        let rows: &[EventRow] = match &a.events {
            AppendEvents::Rows(rows) => rows,
            AppendEvents::Events(events) => {
                built = events.iter().map(EventRow::from_event).collect::<Vec<_>>();
                &built
            }
            AppendEvents::Children(run, children, state) => {
                self.insert_children(id, run, children, state.as_ref())?;
                self.heads.insert(id, head);
                return Ok(());
            }
        };
        if rows.is_empty() {
            self.heads.insert(id, head);
            return Ok(());
        }
        if let Some(row) = rows
            .iter()
            .find(|row| !head.is_new(&row.scope, row.seq as u64))
        {
            return Err(StoreError::Conflict {
                name: a.name.clone(),
                detail: format!(
                    "event {} repeats the position (scope `{}`, seq {}) of a recorded event, \
                     or comes before it",
                    row.id, row.scope, row.seq
                ),
            });
        }
        {
            let mut insert = self
                .conn
                .prepare_cached(
                    "INSERT INTO events (execution, id, previous_event_id, timestamp, type, \
                     details_key, details, scope, seq, crc) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(|e| sql_error(&self.path, e))?;
            for row in rows {
                let inserted = insert.execute(params![
                    id,
                    row.id,
                    row.previous_event_id,
                    row.timestamp,
                    row.event_type,
                    row.details_key,
                    row.details,
                    row.scope,
                    row.seq,
                    row.crc
                ]);
                if let Err(e) = inserted {
                    return Err(match e.sqlite_error_code() {
                        Some(ErrorCode::ConstraintViolation) => StoreError::Conflict {
                            name: a.name.clone(),
                            detail: format!(
                                "event {} is already recorded (is another process running this \
                                 execution?)",
                                row.id
                            ),
                        },
                        _ => sql_error(&self.path, e),
                    });
                }
            }
        }
        if let Some(c) = &a.batch.closing {
            // The row's fixed fields, for its new checksums.
            type Fixed = (String, String, String, String, String, String, i64);
            let fixed: Fixed = self
                .conn
                .prepare_cached(
                    "SELECT x.name, d.text, x.input, x.metadata, x.start_date, x.engine, x.format \
                     FROM executions x JOIN definitions d ON d.id = x.definition WHERE x.id = ?1",
                )
                .and_then(|mut s| {
                    s.query_row([id], |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                            r.get(6)?,
                        ))
                    })
                })
                .map_err(|e| self.err(e))?;
            let sums = ExecutionSums {
                name: &fixed.0,
                definition: &fixed.1,
                input: &fixed.2,
                metadata: &fixed.3,
                status: c.status.as_str(),
                start_date: &fixed.4,
                stop_date: Some(c.stop_date.as_str()),
                output: c.output.as_deref(),
                error: c.error.as_deref(),
                cause: c.cause.as_deref(),
                engine: &fixed.5,
                format: fixed.6,
            };
            self.conn
                .prepare_cached(
                    "UPDATE executions SET status = ?2, stop_date = ?3, output = ?4, error = ?5, \
                     cause = ?6, crc = ?7, crc_summary = ?8 WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id,
                        c.status.as_str(),
                        c.stop_date,
                        c.output,
                        c.error,
                        c.cause,
                        sums.full(),
                        sums.summary()
                    ])
                })
                .map_err(|e| self.err(e))?;
            return Ok(());
        }
        for row in rows {
            head.record(&row.scope, row.seq as u64);
        }
        head.count += a.batch.len;
        self.heads.insert(id, head);
        Ok(())
    }

    /// Records finished children of the Map Run `run` of the execution with row id `id`, and
    /// the Map Run's state unless `None` (in the caller's transaction); a child recorded before
    /// is replaced.
    fn insert_children(
        &mut self,
        id: i64,
        run: &str,
        children: &[MapChild],
        state: Option<&MapRunState>,
    ) -> Result<(), StoreError> {
        // Looked up (or made) in this transaction every time rather than cached: a cached id
        // could name a row that a rollback took back. One indexed statement per batch.
        let run_id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO map_runs (execution, run) VALUES (?1, ?2) \
                 ON CONFLICT (execution, run) DO UPDATE SET run = excluded.run RETURNING id",
            )
            .and_then(|mut s| s.query_row(params![id, run], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        if let Some(state) = state {
            let failed_items =
                i64::try_from(state.failed_items).map_err(|_| StoreError::Conflict {
                    name: run.to_string(),
                    detail: format!("failed item count {} out of range", state.failed_items),
                })?;
            let (failure, error, cause) = match &state.failure {
                None => (0, None, None),
                Some(f) => (1, f.error.as_ref(), f.cause.as_ref()),
            };
            self.conn
                .prepare_cached(
                    "UPDATE map_runs SET failed_items = ?2, failure = ?3, error = ?4, \
                     cause = ?5, crc = ?6 WHERE id = ?1",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        run_id,
                        failed_items,
                        failure,
                        error,
                        cause,
                        run_sum(run, state)
                    ])
                })
                .map_err(|e| self.err(e))?;
        }
        let mut insert = self
            .conn
            .prepare_cached(
                "INSERT OR REPLACE INTO map_children (run, idx, input_hash, start_date, \
                 stop_date, status, output, error, cause, crc) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .map_err(|e| sql_error(&self.path, e))?;
        for c in children {
            let index = i64::try_from(c.index).map_err(|_| StoreError::Conflict {
                name: run.to_string(),
                detail: format!("child index {} out of range", c.index),
            })?;
            let (status, output, error, cause) = match &c.outcome {
                MapChildOutcome::Succeeded(output) => ("SUCCEEDED", Some(output), None, None),
                MapChildOutcome::Failed { error, cause } => {
                    ("FAILED", None, error.as_ref(), cause.as_ref())
                }
            };
            insert
                .execute(params![
                    run_id,
                    index,
                    c.input_hash as i64,
                    c.start_date,
                    c.stop_date,
                    status,
                    output,
                    error,
                    cause,
                    child_sum(run, c)
                ])
                .map_err(|e| sql_error(&self.path, e))?;
        }
        Ok(())
    }

    /// At most `limit` recorded children of the Map Run `run` of the execution `name` from
    /// index `from` on, in index order, each checked against its checksum.
    fn load_children(
        &mut self,
        name: &str,
        run: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<MapChild>, StoreError> {
        let id = self.execution_id(name)?;
        let from = i64::try_from(from).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT c.idx, c.input_hash, c.start_date, c.stop_date, c.status, c.output, \
                 c.error, c.cause, c.crc FROM map_children c JOIN map_runs r ON r.id = c.run \
                 WHERE r.execution = ?1 AND r.run = ?2 AND c.idx >= ?3 ORDER BY c.idx LIMIT ?4",
            )
            .map_err(|e| sql_error(&self.path, e))?;
        let rows: Vec<ChildRow> = stmt
            .query_map(params![id, run, from, limit], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| sql_error(&self.path, e))?;
        drop(stmt);
        rows.into_iter()
            .map(|row| {
                child_of_row(run, row)
                    .map_err(|detail| self.corrupt(format!("execution `{name}`: {detail}")))
            })
            .collect()
    }

    /// The state recorded for the Map Run `run` of the execution `name`, checked against its
    /// checksum.
    fn load_run(&mut self, name: &str, run: &str) -> Result<Option<MapRunState>, StoreError> {
        let id = self.execution_id(name)?;
        let row: Option<RunRow> = self
            .conn
            .prepare_cached(
                "SELECT failed_items, failure, error, cause, crc FROM map_runs \
                 WHERE execution = ?1 AND run = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![id, run], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()
            })
            .map_err(|e| sql_error(&self.path, e))?;
        match row {
            None => Ok(None),
            Some(row) => run_of_row(run, row)
                .map_err(|detail| self.corrupt(format!("execution `{name}`: {detail}"))),
        }
    }

    /// Reads a running execution's event count and positions; a closed execution is
    /// [`StoreError::Closed`].
    fn load_head(&mut self, id: i64, name: &str) -> Result<Head, StoreError> {
        let status: String = self
            .conn
            .prepare_cached("SELECT status FROM executions WHERE id = ?1")
            .and_then(|mut s| s.query_row([id], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        let status = self.parse_status(&status)?;
        if status.is_closed() {
            return Err(StoreError::Closed {
                name: name.to_string(),
                status,
            });
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT MAX(id), scope, MAX(seq) FROM events WHERE execution = ?1 GROUP BY scope",
            )
            .map_err(|e| sql_error(&self.path, e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| sql_error(&self.path, e))?;
        drop(stmt);
        let mut head = Head {
            count: 0,
            next_seq: HashMap::with_capacity(rows.len()),
        };
        for (event_id, scope, seq) in rows {
            let event_id = u64::try_from(event_id)
                .map_err(|_| self.corrupt(format!("negative event id {event_id}")))?;
            let seq =
                u64::try_from(seq).map_err(|_| self.corrupt(format!("negative seq {seq}")))?;
            head.count = head.count.max(event_id);
            head.record(&scope, seq);
        }
        Ok(head)
    }

    fn execution_id(&mut self, name: &str) -> Result<i64, StoreError> {
        if let Some(&id) = self.ids.get(name) {
            return Ok(id);
        }
        let id: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM executions WHERE name = ?1")
            .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
            .map_err(|e| sql_error(&self.path, e))?;
        let id = id.ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        self.ids.insert(name.to_string(), id);
        Ok(id)
    }

    fn parse_status(&self, text: &str) -> Result<ExecutionStatus, StoreError> {
        text.parse()
            .map_err(|_| self.corrupt(format!("unknown execution status `{text}`")))
    }

    fn start(&mut self, new: NewExecution) -> Result<StartedExecution, StoreError> {
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let result = self.start_in_transaction(new);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = self.conn.execute_batch(end) {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err(e));
        }
        self.committed();
        result
    }

    fn start_in_transaction(&mut self, new: NewExecution) -> Result<StartedExecution, StoreError> {
        if let Some(existing) = self.find(&new.name)? {
            return match start_conflict(&existing, &new) {
                Some(reason) => Err(StoreError::AlreadyExists {
                    name: new.name,
                    reason,
                }),
                None => Ok(StartedExecution {
                    record: existing,
                    created: false,
                }),
            };
        }
        let definition = self.definition_id(&new.definition)?;
        let start_date = now_rfc3339();
        let input = new.input.to_string();
        let metadata = new.metadata.to_string();
        let sums = ExecutionSums {
            name: &new.name,
            definition: &new.definition,
            input: &input,
            metadata: &metadata,
            status: ExecutionStatus::Running.as_str(),
            start_date: &start_date,
            stop_date: None,
            output: None,
            error: None,
            cause: None,
            engine: ENGINE_VERSION,
            format: i64::from(HISTORY_FORMAT),
        };
        let (crc, crc_summary) = (sums.full(), sums.summary());
        self.conn
            .prepare_cached(
                "INSERT INTO executions (name, definition, input, metadata, status, start_date, \
                 engine, format, crc, crc_summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    new.name,
                    definition,
                    input,
                    metadata,
                    ExecutionStatus::Running.as_str(),
                    start_date,
                    ENGINE_VERSION,
                    HISTORY_FORMAT,
                    crc,
                    crc_summary
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(StartedExecution {
            record: ExecutionRecord {
                name: new.name,
                definition: new.definition,
                input: new.input,
                metadata: new.metadata,
                status: ExecutionStatus::Running,
                start_date,
                stop_date: None,
                output: None,
                error: None,
                cause: None,
                event_count: 0,
                engine_version: ENGINE_VERSION.to_string(),
                history_format: HISTORY_FORMAT,
            },
            created: true,
        })
    }

    /// The id of the stored definition equal to `text`, stored now if there is none.
    fn definition_id(&mut self, text: &str) -> Result<i64, StoreError> {
        let hash = fnv1a(text);
        let found: Option<i64> = self
            .conn
            .prepare_cached("SELECT id FROM definitions WHERE hash = ?1 AND text = ?2")
            .and_then(|mut s| s.query_row(params![hash, text], |r| r.get(0)).optional())
            .map_err(|e| self.err(e))?;
        if let Some(id) = found {
            return Ok(id);
        }
        self.conn
            .prepare_cached("INSERT INTO definitions (hash, text) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![hash, text]))
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn find(&self, name: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let sql = format!("{SELECT_EXECUTION} WHERE x.name = ?1");
        let raw = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([name], RawRecord::from_row).optional())
            .map_err(|e| self.err(e))?;
        raw.map(|r| r.into_record(self)).transpose()
    }

    fn describe(&self, name: &str) -> Result<ExecutionRecord, StoreError> {
        self.find(name)?
            .ok_or_else(|| StoreError::NotFound(name.to_string()))
    }

    fn load(&mut self, name: &str) -> Result<Vec<HistoryEvent>, StoreError> {
        self.load_page(name, 0, usize::MAX)
    }

    /// Up to `limit` rows of execution `name`'s events after id `after`, in id order, each
    /// checked against its checksum and its place (no id missing).
    fn load_rows(
        &mut self,
        name: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<EventRow>, StoreError> {
        let id = self.execution_id(name)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(EVENTS_PAGE_SQL)
            .map_err(|e| sql_error(&self.path, e))?;
        let rows = stmt
            .query_map(params![id, after, limit], EventRow::from_row)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| sql_error(&self.path, e))?;
        drop(stmt);
        for (i, row) in rows.iter().enumerate() {
            let expected = after + i as i64 + 1;
            if !row.intact() {
                return Err(self.corrupt(format!(
                    "event {} of execution `{name}` does not match its checksum (the record was \
                     altered after it was written); run `workflow check` on the store",
                    row.id
                )));
            }
            if row.id != expected {
                return Err(self.corrupt(format!(
                    "execution `{name}` is missing event {expected} (the next stored is {})",
                    row.id
                )));
            }
            if row.previous_event_id < 0 {
                return Err(
                    self.corrupt(format!("event {} has a negative previousEventId", row.id))
                );
            }
            if row.seq < 0 {
                return Err(self.corrupt(format!("event {} has a negative seq", row.id)));
            }
        }
        Ok(rows)
    }

    fn load_page(
        &mut self,
        name: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<HistoryEvent>, StoreError> {
        let rows = self.load_rows(name, after, limit)?;
        let mut events = Vec::with_capacity(rows.len());
        let mut scratch = String::new();
        for row in rows {
            let kind = match (row.details_key, row.details) {
                (Some(k), Some(text)) => {
                    EventKind::from_aws_text(&row.event_type, k, &text, &mut scratch).map_err(
                        |e| {
                            self.corrupt(format!(
                                "event {} of execution `{name}` has unreadable details: {e}",
                                row.id
                            ))
                        },
                    )?
                }
                _ => EventKind::from_aws(&row.event_type, None),
            };
            // `load_rows` checked that the integers are not negative.
            events.push(HistoryEvent {
                id: row.id as u64,
                previous_event_id: row.previous_event_id as u64,
                timestamp: row.timestamp,
                kind,
                scope: row.scope,
                seq: row.seq as u64,
            });
        }
        Ok(events)
    }

    /// Up to `limit` events of execution `name` after id `after`, as text, checked as
    /// [`Worker::load_rows`] checks them and reported in the same order (the first row with a
    /// problem; in a row, its checksum first). Each field is read as SQLite lends it and copied
    /// once, into the page's one buffer; the checksums are computed together at the end
    /// (`fnv1a_each`, several rows at a time).
    fn load_text_page(
        &mut self,
        name: &str,
        after: u64,
        limit: usize,
    ) -> Result<EventTexts, StoreError> {
        let mut scratch = std::mem::take(&mut self.text_scratch);
        let page = self.load_text_page_with(name, after, limit, &mut scratch);
        self.text_scratch = scratch;
        page
    }

    fn load_text_page_with(
        &mut self,
        name: &str,
        after: u64,
        limit: usize,
        scratch: &mut TextScratch,
    ) -> Result<EventTexts, StoreError> {
        let id = self.execution_id(name)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(EVENTS_PAGE_SQL)
            .map_err(|e| sql_error(&self.path, e))?;
        let mut rows = stmt
            .query(params![id, after, limit])
            .map_err(|e| sql_error(&self.path, e))?;
        let TextScratch {
            covered,
            ends,
            crcs,
            sums,
            text_len,
        } = scratch;
        covered.clear();
        ends.clear();
        crcs.clear();
        sums.clear();
        let mut page = EventTexts {
            text: String::with_capacity(*text_len),
            events: Vec::with_capacity(ends.capacity().min(usize::try_from(limit).unwrap_or(0))),
        };
        // The first row whose id or integers are wrong, if any: reading stops there.
        let mut wrong = None;
        let mut expected = after;
        loop {
            let row = match rows.next() {
                Ok(Some(row)) => row,
                Ok(None) => break,
                Err(e) => return Err(sql_error(&self.path, e)),
            };
            let (row, crc) = EventFields::from_row(row).map_err(|e| sql_error(&self.path, e))?;
            row.feed(covered);
            ends.push(covered.len());
            crcs.push((row.id, crc));
            expected += 1;
            let previous_event_id = u64::try_from(row.previous_event_id);
            if row.id != expected {
                wrong = Some(format!(
                    "execution `{name}` is missing event {expected} (the next stored is {})",
                    row.id
                ));
            } else if previous_event_id.is_err() {
                wrong = Some(format!("event {} has a negative previousEventId", row.id));
            } else if row.seq < 0 {
                wrong = Some(format!("event {} has a negative seq", row.id));
            }
            if wrong.is_some() {
                break;
            }
            page.push(EventText {
                // `row.id` is `expected`, above `after`, which is not negative.
                id: row.id as u64,
                previous_event_id: previous_event_id.unwrap_or_default(),
                timestamp: row.timestamp,
                event_type: row.event_type,
                details: row.details_key.zip(row.details),
            });
        }
        drop(rows);
        drop(stmt);
        *text_len = page.text.len();
        let starts = std::iter::once(0).chain(ends.iter().copied());
        fnv1a_each(
            starts
                .zip(ends.iter())
                .map(|(start, &end)| covered.get(start..end).unwrap_or_default()),
            sums,
        );
        for (&(id, crc), &sum) in crcs.iter().zip(sums.iter()) {
            if crc.is_some_and(|crc| crc != sum as i64) {
                return Err(self.corrupt(format!(
                    "event {id} of execution `{name}` does not match its checksum (the record \
                     was altered after it was written); run `workflow check` on the store"
                )));
            }
        }
        match wrong {
            Some(detail) => Err(self.corrupt(detail)),
            None => Ok(page),
        }
    }

    /// Claims the execution for this handle (see [`Store::claim_execution`]), renewing the lease.
    fn claim(&mut self, name: &str) -> Result<(), StoreError> {
        if self.read_only {
            return Err(self.read_only_error());
        }
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err(e))?;
        let result = self.claim_in_transaction(name);
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        if let Err(e) = self.conn.execute_batch(end) {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(self.err(e));
        }
        if result.is_ok() {
            self.committed();
        }
        result
    }

    fn claim_in_transaction(&mut self, name: &str) -> Result<(), StoreError> {
        let row: Option<(String, Option<String>)> = self
            .conn
            .prepare_cached("SELECT status, owner FROM executions WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row([name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.err(e))?;
        let (status, owner) = row.ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        let status = self.parse_status(&status)?;
        if status.is_closed() {
            return Err(StoreError::Closed {
                name: name.to_string(),
                status,
            });
        }
        let now = now_ms();
        if let Some(other) = owner.filter(|o| *o != self.owner.id) {
            let lease: Option<(String, i64, i64, i64)> = self
                .conn
                .prepare_cached("SELECT host, pid, started, expires FROM owners WHERE id = ?1")
                .and_then(|mut s| {
                    s.query_row([&other], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                    })
                    .optional()
                })
                .map_err(|e| self.err(e))?;
            if let Some((host, pid, started, expires)) = lease {
                let pid = u32::try_from(pid).unwrap_or(0);
                let dead = self
                    .owner
                    .is_dead_here(&host, pid, u64::try_from(started).unwrap_or(0));
                if expires > now && !dead {
                    let machine = host.split('/').next().unwrap_or_default();
                    return Err(StoreError::Owned {
                        name: name.to_string(),
                        owner: format!(
                            "process {pid} on {} (its lease expires in {} s unless renewed)",
                            if machine.is_empty() {
                                "this machine"
                            } else {
                                machine
                            },
                            (expires - now + 999) / 1000
                        ),
                    });
                }
            }
        }
        self.renew(now)?;
        self.conn
            .prepare_cached("UPDATE executions SET owner = ?2 WHERE name = ?1")
            .and_then(|mut s| s.execute(params![name, self.owner.id]))
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Writes this handle's lease, valid for [`LEASE_TTL`] from `now`.
    fn renew(&mut self, now: i64) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO owners (id, host, pid, started, expires) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT(id) DO UPDATE SET expires = excluded.expires",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.owner.id,
                    self.owner.host,
                    i64::from(self.owner.pid),
                    i64::try_from(self.owner.started).unwrap_or(0),
                    now.saturating_add(lease_ms())
                ])
            })
            .map_err(|e| self.err(e))?;
        self.renewed = now;
        Ok(())
    }

    /// Gives up this handle's claim on `name`.
    fn release(&mut self, name: &str) -> Result<(), StoreError> {
        if self.read_only {
            return Ok(());
        }
        self.conn
            .prepare_cached("UPDATE executions SET owner = NULL WHERE name = ?1 AND owner = ?2")
            .and_then(|mut s| s.execute(params![name, self.owner.id]))
            .map_err(|e| self.err(e))?;
        self.committed();
        Ok(())
    }

    /// Renews the lease when a third of it has passed; returns the running executions this
    /// handle owns.
    fn poll_lease(&mut self) -> Result<HashSet<String>, StoreError> {
        let now = now_ms();
        if now - self.renewed >= lease_ms() / 3 {
            self.renew(now)?;
            self.committed();
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT name FROM executions WHERE owner = ?1 AND status = 'RUNNING'")
            .map_err(|e| self.err(e))?;
        stmt.query_map([&self.owner.id], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<Result<HashSet<_>, _>>())
            .map_err(|e| self.err(e))
    }

    fn read_only_error(&self) -> StoreError {
        StoreError::Storage {
            path: self.path.to_string(),
            detail: "the store was opened read-only".into(),
        }
    }

    fn list(&self, filter: &ListFilter) -> Result<Vec<ExecutionSummary>, StoreError> {
        let limit = filter
            .limit
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX));
        let status = filter.status.map(ExecutionStatus::as_str);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT x.name, x.status, x.start_date, x.stop_date, \
                 (SELECT COALESCE(MAX(e.id), 0) FROM events e WHERE e.execution = x.id), \
                 x.crc_summary FROM executions x WHERE ?1 IS NULL OR x.status = ?1 ORDER BY x.id LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![status, limit], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(name, status, start_date, stop_date, count, crc)| {
                let sum = summary_sum(&name, &status, &start_date, stop_date.as_deref());
                if crc.is_some_and(|crc| crc != sum) {
                    return Err(self.corrupt(altered_execution(&name)));
                }
                Ok(ExecutionSummary {
                    status: self.parse_status(&status)?,
                    event_count: u64::try_from(count).map_err(|_| {
                        self.corrupt(format!("execution `{name}` has a negative event count"))
                    })?,
                    name,
                    start_date,
                    stop_date,
                })
            })
            .collect()
    }

    /// One page, newest first: the row ids are the start order, and `executions_by_status`
    /// serves a status filter.
    fn page(&self, query: &PageQuery) -> Result<ExecutionPage, StoreError> {
        let status = query.status.map(ExecutionStatus::as_str);
        let name = query.name_contains.as_str();
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        let offset = i64::try_from(query.offset).unwrap_or(i64::MAX);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT x.name, x.status, x.start_date, x.stop_date, \
                 (SELECT COALESCE(MAX(e.id), 0) FROM events e WHERE e.execution = x.id), \
                 x.crc_summary FROM executions x WHERE (?1 IS NULL OR x.status = ?1) \
                 AND (?2 = '' OR instr(x.name, ?2) > 0) \
                 ORDER BY x.id DESC LIMIT ?3 OFFSET ?4",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![status, name, limit, offset], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| self.err(e))?;
        drop(stmt);
        let executions = rows
            .into_iter()
            .map(|(name, status, start_date, stop_date, count, crc)| {
                let sum = summary_sum(&name, &status, &start_date, stop_date.as_deref());
                if crc.is_some_and(|crc| crc != sum) {
                    return Err(self.corrupt(altered_execution(&name)));
                }
                Ok(ExecutionSummary {
                    status: self.parse_status(&status)?,
                    event_count: u64::try_from(count).map_err(|_| {
                        self.corrupt(format!("execution `{name}` has a negative event count"))
                    })?,
                    name,
                    start_date,
                    stop_date,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let total: i64 = self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM executions x WHERE (?1 IS NULL OR x.status = ?1) \
                 AND (?2 = '' OR instr(x.name, ?2) > 0)",
            )
            .and_then(|mut s| s.query_row(params![status, name], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        Ok(ExecutionPage {
            executions,
            total: total.max(0) as u64,
        })
    }

    fn count(&self, status: Option<ExecutionStatus>) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .prepare_cached("SELECT COUNT(*) FROM executions WHERE ?1 IS NULL OR status = ?1")
            .and_then(|mut s| s.query_row([status.map(ExecutionStatus::as_str)], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }
}

/// An `executions` row before its JSON columns are parsed.
struct RawRecord {
    name: String,
    definition: String,
    input: String,
    metadata: String,
    status: String,
    start_date: String,
    stop_date: Option<String>,
    output: Option<String>,
    error: Option<String>,
    cause: Option<String>,
    event_count: i64,
    engine: String,
    format: i64,
    crc: Option<i64>,
}

impl RawRecord {
    fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawRecord {
            name: r.get(0)?,
            definition: r.get(1)?,
            input: r.get(2)?,
            metadata: r.get(3)?,
            status: r.get(4)?,
            start_date: r.get(5)?,
            stop_date: r.get(6)?,
            output: r.get(7)?,
            error: r.get(8)?,
            cause: r.get(9)?,
            event_count: r.get(10)?,
            engine: r.get(11)?,
            format: r.get(12)?,
            crc: r.get(13)?,
        })
    }

    /// Whether the row matches its checksum (a row written before schema version 3 has none and
    /// passes).
    fn intact(&self) -> bool {
        let sums = ExecutionSums {
            name: &self.name,
            definition: &self.definition,
            input: &self.input,
            metadata: &self.metadata,
            status: &self.status,
            start_date: &self.start_date,
            stop_date: self.stop_date.as_deref(),
            output: self.output.as_deref(),
            error: self.error.as_deref(),
            cause: self.cause.as_deref(),
            engine: &self.engine,
            format: self.format,
        };
        self.crc.is_none_or(|crc| crc == sums.full())
    }

    fn into_record(self, w: &Worker) -> Result<ExecutionRecord, StoreError> {
        if !self.intact() {
            return Err(w.corrupt(altered_execution(&self.name)));
        }
        let json = |what: &str, text: &str| -> Result<Value, StoreError> {
            serde_json::from_str(text).map_err(|e| {
                w.corrupt(format!(
                    "the {what} of execution `{}` is not JSON: {e}",
                    self.name
                ))
            })
        };
        Ok(ExecutionRecord {
            input: json("input", &self.input)?,
            metadata: json("metadata", &self.metadata)?,
            status: w.parse_status(&self.status)?,
            event_count: u64::try_from(self.event_count).map_err(|_| {
                w.corrupt(format!(
                    "execution `{}` has a negative event count",
                    self.name
                ))
            })?,
            output: self.output.as_deref().map(output_value),
            name: self.name,
            definition: self.definition,
            start_date: self.start_date,
            stop_date: self.stop_date,
            error: self.error,
            cause: self.cause,
            engine_version: self.engine,
            history_format: u32::try_from(self.format).unwrap_or(u32::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::store::tests::{ev, new_exec};

    /// A store at `path` holding `n` executions of `events` events each.
    fn populate(path: &Path, n: usize, events: u64) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let store = SqliteStore::open(path).expect("open");
        rt.block_on(async {
            for i in 0..n {
                let name = format!("exec-{i}");
                store
                    .start_execution(new_exec(&name, json!({"i": i, "pad": "p".repeat(200)})))
                    .await
                    .expect("start");
                let batch: Vec<_> = (1..=events)
                    .map(|id| ev(id, "PassStateEntered", "", id))
                    .collect();
                store.append_events(&name, &batch).await.expect("append");
            }
        });
    }

    fn open_error(path: &Path, verify: bool) -> StoreError {
        let options = SqliteOptions {
            verify,
            ..SqliteOptions::default()
        };
        match SqliteStore::open_with(path, options) {
            Ok(_) => panic!("{} opened", path.display()),
            Err(e) => e,
        }
    }

    #[test]
    fn a_new_store_is_marked_and_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.db");
        drop(SqliteStore::open(&path).expect("create"));
        let conn = Connection::open(&path).expect("plain open");
        let get = |pragma: &str| -> String {
            conn.query_row(&format!("PRAGMA {pragma}"), [], |r| {
                r.get::<_, rusqlite::types::Value>(0)
            })
            .map(|v| format!("{v:?}"))
            .expect("pragma")
        };
        assert_eq!(get("user_version"), format!("Integer({SCHEMA_VERSION})"));
        assert_eq!(get("application_id"), format!("Integer({APPLICATION_ID})"));
        assert_eq!(get("journal_mode"), "Text(\"wal\")");
        // Only the store itself is left in the directory (no temporary files).
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with("-wal") && !n.ends_with("-shm"))
            .collect();
        assert_eq!(names, ["new.db"]);
    }

    #[test]
    fn sync_policies_set_the_pragma() {
        for (policy, level) in [(SyncPolicy::Normal, 1), (SyncPolicy::Full, 2)] {
            let conn = Connection::open_in_memory().expect("memory db");
            let options = SqliteOptions {
                sync: policy,
                ..SqliteOptions::default()
            };
            // An in-memory database cannot be in WAL mode; the pragma is set before that check
            // only for files, so check the pragma directly.
            conn.pragma_update(None, "synchronous", options.sync.pragma())
                .expect("pragma");
            let got: i64 = conn
                .pragma_query_value(None, "synchronous", |r| r.get(0))
                .expect("read back");
            assert_eq!(got, level, "{policy:?}");
        }
    }

    #[test]
    fn damaged_files_are_refused_with_their_name_and_left_untouched() {
        type Damage = fn(&Path);
        let plain_sqlite: Damage = |p| {
            let c = Connection::open(p).expect("open");
            c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
                .expect("plain db");
        };
        let newer: Damage = |p| {
            populate(p, 1, 1);
            let c = Connection::open(p).expect("open");
            c.pragma_update(None, "user_version", 99).expect("pragma");
        };
        let missing_table: Damage = |p| {
            populate(p, 1, 1);
            let c = Connection::open(p).expect("open");
            c.execute_batch("DROP TABLE events").expect("drop");
        };
        let truncated: Damage = |p| {
            populate(p, 200, 20);
            let len = std::fs::metadata(p).expect("metadata").len();
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .expect("open");
            f.set_len(len / 2).expect("truncate");
        };
        let cases: [(&str, Damage, &str); 7] = [
            (
                "empty",
                |p| std::fs::write(p, b"").expect("write"),
                "is empty",
            ),
            (
                "tiny",
                |p| std::fs::write(p, [7u8; 50]).expect("write"),
                "shorter than an SQLite header",
            ),
            (
                "garbage",
                |p| std::fs::write(p, vec![0xA5u8; 8192]).expect("write"),
                "does not start with an SQLite header",
            ),
            ("plain", plain_sqlite, "not a workflow store"),
            ("newer", newer, "schema version 99"),
            ("missing", missing_table, "`events` table is missing"),
            ("truncated", truncated, "truncated"),
        ];
        for (label, damage, expected) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join(format!("{label}.db"));
            damage(&path);
            let before = std::fs::read(&path).expect("read");
            let err = open_error(&path, false);
            let message = err.to_string();
            assert!(message.contains(expected), "{label}: {message}");
            assert!(
                message.contains(&path.display().to_string()),
                "{label}: {message}"
            );
            assert!(
                std::fs::read(&path).expect("read") == before,
                "{label}: a refused file is not modified"
            );
        }
    }

    /// Overwrites 4 KiB at several places in a populated store: opening with `verify` refuses
    /// it; without `verify`, every read either fails with an error or returns complete data —
    /// never fewer executions or events than were stored, and never a panic.
    #[test]
    fn overwritten_pages_are_errors_never_silent_losses() {
        const N: usize = 120;
        const EVENTS: u64 = 15;
        let dir = tempfile::tempdir().expect("tempdir");
        let pristine = dir.path().join("pristine.db");
        populate(&pristine, N, EVENTS);
        let len = std::fs::metadata(&pristine).expect("metadata").len();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let mut detected = 0;
        for k in 1..8u64 {
            let path = dir.path().join(format!("damaged-{k}.db"));
            let mut bytes = std::fs::read(&pristine).expect("read");
            let at = (len * k / 8) as usize & !4095;
            let end = (at + 4096).min(bytes.len());
            for (i, b) in bytes[at..end].iter_mut().enumerate() {
                *b = (i as u8).wrapping_mul(31).wrapping_add(k as u8);
            }
            std::fs::write(&path, &bytes).expect("write");

            let err = open_error(&path, true);
            assert!(
                matches!(&err, StoreError::Corrupt { path: p, .. } if *p == path.display().to_string()),
                "offset {at}: {err}"
            );

            let Ok(store) = SqliteStore::open(&path) else {
                detected += 1;
                continue;
            };
            let outcome = rt.block_on(async {
                let list = store.list_executions(ListFilter::all()).await?;
                assert_eq!(
                    list.len(),
                    N,
                    "offset {at}: a listing is complete or an error"
                );
                for summary in list {
                    let events = store.load_events(&summary.name).await?;
                    assert_eq!(events.len() as u64, EVENTS, "offset {at}: {}", summary.name);
                }
                Ok::<_, StoreError>(())
            });
            if let Err(e) = outcome {
                assert!(
                    matches!(e, StoreError::Corrupt { .. }),
                    "offset {at}: damage is reported as corruption: {e}"
                );
                detected += 1;
            }
        }
        assert!(detected > 0, "some damage hit pages the reads use");
    }

    #[tokio::test]
    async fn two_handles_on_one_file_cannot_both_extend_a_history() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.db");
        let a = SqliteStore::open(&path).expect("open a");
        let b = SqliteStore::open(&path).expect("open b");
        a.start_execution(new_exec("e", json!(1)))
            .await
            .expect("start");
        let again = b
            .start_execution(new_exec("e", json!(1)))
            .await
            .expect("idempotent start through the other handle");
        assert!(!again.created);
        a.append_events("e", &[ev(1, "T", "", 0)])
            .await
            .expect("a appends");
        // `b` does not know about event 1 and tries to write it again.
        let lost = b.append_events("e", &[ev(1, "T", "", 0)]).await;
        assert!(matches!(lost, Err(StoreError::Conflict { .. })), "{lost:?}");
        let mut abort = ev(2, "ExecutionAborted", "", 1);
        abort.kind = EventKind::from_aws(
            "ExecutionAborted",
            Some(("executionAbortedEventDetails".into(), json!({}))),
        );
        b.append_events("e", &[abort]).await.expect("b aborts");
        let closed = a.append_events("e", &[ev(2, "T", "", 1)]).await;
        assert!(
            matches!(
                closed,
                Err(StoreError::Closed {
                    status: ExecutionStatus::Aborted,
                    ..
                }) | Err(StoreError::Conflict { .. })
            ),
            "{closed:?}"
        );
        let record = a.describe_execution("e").await.expect("describe");
        assert_eq!(record.status, ExecutionStatus::Aborted);
        assert_eq!(record.event_count, 2);
    }

    #[tokio::test]
    async fn a_writer_catches_up_with_appends_made_through_another_connection() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.db");
        let a = SqliteStore::open(&path).expect("open a");
        let b = SqliteStore::open(&path).expect("open b");
        a.start_execution(new_exec("e", json!(1)))
            .await
            .expect("start");
        a.append_events("e", &[ev(1, "T", "", 0), ev(2, "T", "", 1)])
            .await
            .expect("a appends");
        b.append_events("e", &[ev(3, "T", "b", 0)])
            .await
            .expect("b appends");
        // `a` believes the history holds 2 events: its next id is taken.
        let stale = a.append_events("e", &[ev(3, "T", "", 2)]).await;
        assert!(
            matches!(&stale, Err(StoreError::Conflict { detail, .. }) if detail.contains("already recorded")),
            "{stale:?}"
        );
        // Having failed, `a` reads the history again: it sees b's position and the next id.
        let repeated = a.append_events("e", &[ev(4, "T", "b", 0)]).await;
        assert!(
            matches!(&repeated, Err(StoreError::Conflict { detail, .. }) if detail.contains("position")),
            "{repeated:?}"
        );
        a.append_events("e", &[ev(4, "T", "", 2)])
            .await
            .expect("a continues after catching up");
        let events = b.load_events("e").await.expect("load");
        assert_eq!(
            events.iter().map(|e| e.id).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn verify_finds_histories_that_break_the_rules() {
        let cases = [
            (
                "DELETE FROM events WHERE execution = 1 AND id = 2",
                "has events up to id 3 but holds only 2",
            ),
            (
                "UPDATE events SET seq = 1 WHERE execution = 1 AND id = 3",
                "records the position (scope ``, seq 1) twice",
            ),
            (
                "DELETE FROM executions WHERE id = 2",
                "belong to no execution",
            ),
        ];
        for (damage, expected) in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("v.db");
            populate(&path, 2, 3);
            Connection::open(&path)
                .and_then(|c| c.execute_batch(damage))
                .expect("damage");
            let err = open_error(&path, true);
            assert!(
                matches!(&err, StoreError::Corrupt { detail, .. } if detail.contains(expected)),
                "{damage}: {err}"
            );
            // Without `verify` the store opens; reading the damaged history is an error.
            let store = SqliteStore::open(&path).expect("opens");
            if damage.starts_with("DELETE FROM events") {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("runtime");
                let loaded = rt.block_on(store.load_events("exec-0"));
                assert!(
                    matches!(&loaded, Err(StoreError::Corrupt { detail, .. }) if detail.contains("missing event 2")),
                    "{loaded:?}"
                );
            }
        }
    }

    #[test]
    fn definitions_are_stored_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("defs.db");
        populate(&path, 30, 0);
        let conn = Connection::open(&path).expect("open");
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM definitions", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 1);
    }

    /// Issue 12: flipped bytes in a store were read back as altered history with no error.
    #[test]
    fn an_altered_event_is_an_error_and_check_reports_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("flip.db");
        populate(&path, 3, 5);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        {
            let store = SqliteStore::open(&path).expect("open");
            let report = store.check().expect("check");
            assert_eq!(report.problems, Vec::<String>::new());
            assert_eq!((report.executions, report.events), (3, 15));
        }
        // One byte of one event's type changes, as a flipped bit on the disk would.
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch(
                    "UPDATE events SET type = 'PassStateEnterec' WHERE execution = 2 AND id = 4",
                )
            })
            .expect("damage");
        let store = SqliteStore::open(&path).expect("opens");
        let loaded = rt.block_on(store.load_events("exec-1"));
        assert!(
            matches!(&loaded, Err(StoreError::Corrupt { detail, .. }) if detail.contains("event 4") && detail.contains("checksum")),
            "{loaded:?}"
        );
        let page = rt.block_on(store.load_events_page("exec-1", 3, 10));
        assert!(matches!(page, Err(StoreError::Corrupt { .. })), "{page:?}");
        // The pages before the damage read normally; the other executions are intact.
        let first = rt
            .block_on(store.load_events_page("exec-1", 0, 3))
            .expect("the first page");
        assert_eq!(first.iter().map(|e| e.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(
            rt.block_on(store.load_events("exec-0"))
                .expect("intact")
                .len(),
            5
        );
        let report = store.check().expect("check runs");
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(report.problems[0].contains("event 4 of execution `exec-1`"));
    }

    /// A page of event texts is checked as a page of typed events is, with the same error for
    /// the same damage (the first damaged row; in a row, its checksum before its id), and holds
    /// the text the typed events render to. Rows written without a checksum (schema 1) are read.
    #[test]
    fn event_texts_are_checked_as_typed_events_are() {
        let cases = [
            "",
            "UPDATE events SET type = 'PassStateEnterec' WHERE id = 4",
            "DELETE FROM events WHERE id = 5",
            "UPDATE events SET type = 'X' WHERE id = 3; DELETE FROM events WHERE id = 2",
            "UPDATE events SET type = 'X' WHERE id = 6; DELETE FROM events WHERE id = 2",
            "UPDATE events SET crc = NULL",
            "UPDATE events SET crc = NULL, previous_event_id = -1 WHERE id = 7",
            "UPDATE events SET crc = NULL, seq = -1 WHERE id = 8",
            "UPDATE events SET crc = NULL, details = 'altered' WHERE id = 2",
        ];
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        for damage in cases {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("t.db");
            populate(&path, 1, 9);
            Connection::open(&path)
                .and_then(|c| c.execute_batch(damage))
                .expect("damage");
            let store = SqliteStore::open(&path).expect("opens");
            for (after, limit) in [(0, 100), (0, 3), (3, 2), (6, 100), (9, 100), (0, 0)] {
                let typed = rt.block_on(store.load_events_page("exec-0", after, limit));
                let texts = rt.block_on(store.load_event_texts_page("exec-0", after, limit));
                let (typed, texts) = match (typed, texts) {
                    (Err(typed), Err(texts)) => {
                        assert_eq!(texts.to_string(), typed.to_string(), "{damage}");
                        continue;
                    }
                    // Only the typed reader reads the details' JSON.
                    (Err(typed), Ok(_)) if damage.contains("'altered'") => {
                        assert!(typed.to_string().contains("details"), "{typed}");
                        continue;
                    }
                    (Ok(typed), Ok(texts)) => (typed, texts),
                    (typed, texts) => panic!("{damage}, {after}+{limit}: {typed:?} / {texts:?}"),
                };
                assert_eq!(texts.len(), typed.len(), "{damage}");
                assert_eq!(texts.is_empty(), typed.is_empty());
                assert_eq!(texts.last().map(|e| e.id), typed.last().map(|e| e.id));
                for (i, (text, ev)) in texts.iter().zip(&typed).enumerate() {
                    assert_eq!(texts.get(i), Some(text));
                    assert_eq!(
                        (
                            text.id,
                            text.previous_event_id,
                            text.timestamp,
                            text.event_type
                        ),
                        (ev.id, ev.previous_event_id, &*ev.timestamp, ev.event_type())
                    );
                    let mut details = String::new();
                    ev.kind.write_details(&mut details);
                    let expected = ev.kind.details_key().map(|k| (k, details.as_str()));
                    assert_eq!(text.details, expected, "{damage}");
                }
                assert_eq!(texts.get(texts.len()), None);
            }
        }
    }

    fn child(index: u64, outcome: MapChildOutcome) -> MapChild {
        MapChild {
            index,
            input_hash: 0x1234_5678_9abc_def0 ^ index,
            start_date: "2024-01-01T00:00:00.000Z".into(),
            stop_date: "2024-01-01T00:00:01.000Z".into(),
            outcome,
        }
    }

    /// Issue 10: the finished children of a Map Run are kept by index, read back a page at a
    /// time, replaced when recorded again, refused once the execution is closed; a damaged row
    /// is `Corrupt` where it is read and named by `check`.
    #[test]
    fn map_run_progress_is_kept_checked_and_damage_is_an_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("progress.db");
        populate(&path, 2, 2);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let ok = |i: u64| child(i, MapChildOutcome::Succeeded(format!("{{\"i\":{i}}}")));
        let failed = |i: u64| {
            child(
                i,
                MapChildOutcome::Failed {
                    error: Some("Bad".into()),
                    cause: None,
                },
            )
        };
        {
            let store = SqliteStore::open(&path).expect("open");
            assert!(store.keeps_map_progress());
            rt.block_on(async {
                let counted = MapRunState {
                    failed_items: 1,
                    failure: None,
                };
                store
                    .record_map_children(
                        "exec-0",
                        "#3:run",
                        vec![ok(0), failed(2), ok(5)],
                        Some(counted.clone()),
                    )
                    .await
                    .expect("recorded");
                assert_eq!(
                    store.load_map_run("exec-0", "#3:run").await.expect("state"),
                    Some(counted)
                );
                // No state: the one recorded before stays.
                store
                    .record_map_children("exec-0", "#3:run", vec![ok(2), ok(7)], None)
                    .await
                    .expect("recorded again");
                // Another Map Run, and another execution, with the same key: apart.
                store
                    .record_map_children("exec-0", "#9:other", vec![ok(0)], None)
                    .await
                    .expect("another run");
                let ended = MapRunState {
                    failed_items: 3,
                    failure: Some(MapRunFailure {
                        error: Some("Bad".into()),
                        cause: None,
                    }),
                };
                store
                    .record_map_children("exec-1", "#3:run", vec![failed(1)], Some(ended.clone()))
                    .await
                    .expect("another execution");
                assert_eq!(
                    store.load_map_run("exec-1", "#3:run").await.expect("state"),
                    Some(ended)
                );
                assert_eq!(
                    store
                        .load_map_run("exec-0", "#9:other")
                        .await
                        .expect("none"),
                    None
                );
                assert_eq!(
                    store
                        .load_map_run("exec-0", "#nothing")
                        .await
                        .expect("none"),
                    None
                );
                let all = store
                    .load_map_children("exec-0", "#3:run", 0, 100)
                    .await
                    .expect("load");
                assert_eq!(all, vec![ok(0), ok(2), ok(5), ok(7)]);
                let page = store
                    .load_map_children("exec-0", "#3:run", 1, 2)
                    .await
                    .expect("a page");
                assert_eq!(page, vec![ok(2), ok(5)]);
                let other = store
                    .load_map_children("exec-1", "#3:run", 0, 100)
                    .await
                    .expect("load");
                assert_eq!(other, vec![failed(1)]);
                assert_eq!(
                    store
                        .load_map_children("exec-1", "#nothing", 0, 100)
                        .await
                        .expect("none"),
                    vec![]
                );
                assert!(matches!(
                    store.load_map_children("nobody", "#3:run", 0, 100).await,
                    Err(StoreError::NotFound(_))
                ));
                // Closed: nothing more is recorded.
                let aborted = HistoryEvent {
                    id: 3,
                    previous_event_id: 2,
                    timestamp: "2024-01-01T00:00:02.000Z".into(),
                    kind: EventKind::ExecutionAborted(crate::history::ErrorDetails {
                        error: None,
                        cause: None,
                    }),
                    scope: String::new(),
                    seq: 3,
                };
                store
                    .append_events("exec-1", &[aborted])
                    .await
                    .expect("closed");
                assert!(matches!(
                    store
                        .record_map_children("exec-1", "#3:run", vec![ok(4)], None)
                        .await,
                    Err(StoreError::Closed { .. })
                ));
            });
            let report = store.check().expect("check");
            assert!(report.problems.is_empty(), "{:?}", report.problems);
        }
        // One recorded output changes, as a flipped bit on the disk would.
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch("UPDATE map_children SET output = '{\"i\":6}' WHERE idx = 5")
            })
            .expect("damage");
        let store = SqliteStore::open(&path).expect("opens");
        let loaded = rt.block_on(store.load_map_children("exec-0", "#3:run", 0, 100));
        assert!(
            matches!(&loaded, Err(StoreError::Corrupt { detail, .. })
                if detail.contains("child 5 of Map Run `#3:run`") && detail.contains("checksum")),
            "{loaded:?}"
        );
        // The records before the damage read normally.
        let before = rt
            .block_on(store.load_map_children("exec-0", "#3:run", 0, 2))
            .expect("intact");
        assert_eq!(before, vec![ok(0), ok(2)]);
        let report = store.check().expect("check runs");
        assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
        assert!(
            report.problems[0].contains("execution `exec-0`: child 5 of Map Run `#3:run`"),
            "{:?}",
            report.problems
        );
        drop(store);
        // A Map Run's state changes: its failed items, then whether it failed.
        for damage in [
            "UPDATE map_runs SET failed_items = 0 WHERE failed_items = 3",
            "UPDATE map_runs SET failed_items = 3, failure = 0 WHERE failure = 1",
        ] {
            Connection::open(&path)
                .and_then(|c| c.execute_batch(damage))
                .expect("damage");
            let store = SqliteStore::open(&path).expect("opens");
            let loaded = rt.block_on(store.load_map_run("exec-1", "#3:run"));
            assert!(
                matches!(&loaded, Err(StoreError::Corrupt { detail, .. })
                    if detail.contains("state of Map Run `#3:run`") && detail.contains("checksum")),
                "{damage}: {loaded:?}"
            );
            let report = store.check().expect("check runs");
            assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.contains("execution `exec-1`: the state of Map Run `#3:run`")),
                "{:?}",
                report.problems
            );
        }
    }

    /// Issue 10: a version 4 store gains the Map Run states when opened for writing; a Map Run
    /// recorded before has none (a resumed run then counts its recorded failures itself).
    #[test]
    fn version_4_stores_gain_map_run_states_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v4.db");
        populate(&path, 1, 2);
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch(&format!(
                    "DROP TABLE map_children; DROP TABLE map_runs; {UPGRADE_TO_4}
                     INSERT INTO map_runs (id, execution, run)
                         SELECT 1, id, '#1:old' FROM executions WHERE name = 'exec-0';"
                ))
            })
            .expect("a version 4 store");
        let store = SqliteStore::open(&path).expect("upgraded");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        assert_eq!(
            rt.block_on(store.load_map_run("exec-0", "#1:old"))
                .expect("no state"),
            None
        );
        let state = MapRunState {
            failed_items: 2,
            failure: None,
        };
        let c = child(0, MapChildOutcome::Succeeded("1".into()));
        rt.block_on(store.record_map_children("exec-0", "#1:old", vec![c], Some(state.clone())))
            .expect("recorded after the upgrade");
        assert_eq!(
            rt.block_on(store.load_map_run("exec-0", "#1:old"))
                .expect("state"),
            Some(state)
        );
        assert!(store.check().expect("check").problems.is_empty());
        drop(store);
        let version: i64 = Connection::open(&path)
            .and_then(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
    }

    /// Issue 10: a version 3 store gains the Map Run progress tables when opened for writing.
    #[test]
    fn version_3_stores_gain_map_run_progress_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v3.db");
        populate(&path, 1, 2);
        Connection::open(&path)
            .and_then(|c| {
                c.execute_batch(
                    "DROP TABLE map_children; DROP TABLE map_runs; PRAGMA user_version = 3;",
                )
            })
            .expect("a version 3 store");
        let read_only = SqliteOptions {
            read_only: true,
            ..SqliteOptions::default()
        };
        let err = SqliteStore::open_with(&path, read_only).expect_err("not upgraded read-only");
        assert!(err.to_string().contains("must be upgraded"), "{err}");
        let store = SqliteStore::open(&path).expect("upgraded");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let c = child(0, MapChildOutcome::Succeeded("1".into()));
        rt.block_on(store.record_map_children("exec-0", "#1:r", vec![c.clone()], None))
            .expect("recorded after the upgrade");
        assert_eq!(
            rt.block_on(store.load_map_children("exec-0", "#1:r", 0, 10))
                .expect("load"),
            vec![c]
        );
        drop(store);
        let version: i64 = Connection::open(&path)
            .and_then(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
            .expect("version");
        assert_eq!(version, SCHEMA_VERSION);
    }

    /// Issue 12: execution rows are checked too: an altered output, input or status is an error
    /// wherever the row is read (describe, list, page, resume), never shown, and `check` names it.
    #[test]
    fn an_altered_execution_is_an_error_and_check_reports_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("rows.db");
        populate(&path, 3, 2);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        // A closed execution: its closing rewrote both checksums.
        {
            let store = SqliteStore::open(&path).expect("open");
            let closing = crate::history::HistoryEvent {
                kind: crate::history::EventKind::from_aws(
                    "ExecutionSucceeded",
                    Some((
                        "executionSucceededEventDetails".into(),
                        json!({"output": "{\"ok\":1}"}),
                    )),
                ),
                ..ev(3, "ExecutionSucceeded", "", 3)
            };
            rt.block_on(store.append_events("exec-2", &[closing]))
                .expect("close");
            let record = rt
                .block_on(store.describe_execution("exec-2"))
                .expect("intact");
            assert_eq!(record.output, Some(json!({"ok": 1})));
            let report = store.check().expect("check");
            assert_eq!(report.problems, Vec::<String>::new());
        }
        for (sql, name, listed) in [
            (
                "UPDATE executions SET output = '{\"ok\":2}' WHERE name = 'exec-2'",
                "exec-2",
                false,
            ),
            (
                "UPDATE executions SET input = '{\"i\":9}' WHERE name = 'exec-1'",
                "exec-1",
                false,
            ),
            (
                "UPDATE executions SET status = 'FAILED' WHERE name = 'exec-0'",
                "exec-0",
                true,
            ),
        ] {
            Connection::open(&path)
                .and_then(|c| c.execute_batch(sql))
                .expect("damage");
            let store = SqliteStore::open(&path).expect("opens");
            let described = rt.block_on(store.describe_execution(name));
            assert!(
                matches!(&described, Err(StoreError::Corrupt { detail, .. }) if detail.contains(name) && detail.contains("checksum")),
                "{sql}: {described:?}"
            );
            let listed_result = rt.block_on(store.list_executions(ListFilter::default()));
            assert_eq!(listed_result.is_err(), listed, "{sql}: {listed_result:?}");
            let page = rt.block_on(store.list_page(PageQuery {
                limit: 10,
                ..PageQuery::default()
            }));
            assert_eq!(page.is_err(), listed, "{sql}");
            let report = store.check().expect("check runs");
            assert!(
                report
                    .problems
                    .iter()
                    .any(|p| p.contains(&format!("`{name}`"))),
                "{sql}: {:?}",
                report.problems
            );
        }
    }

    /// Issue 12: a FIFO as the store hung forever.
    #[cfg(unix)]
    #[test]
    fn anything_but_a_regular_file_is_refused_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo.db");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipped: mkfifo is not available");
            return;
        }
        for read_only in [false, true] {
            let options = SqliteOptions {
                read_only,
                ..SqliteOptions::default()
            };
            let err = SqliteStore::open_with(&fifo, options).expect_err("a FIFO");
            assert!(err.to_string().contains("is a FIFO"), "{err}");
        }
        let err = SqliteStore::open(dir.path()).expect_err("a directory");
        assert!(err.to_string().contains("is a directory"), "{err}");
    }

    /// Issue 12: a read-only store could not be listed.
    #[test]
    fn a_store_opened_read_only_is_readable_and_never_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ro.db");
        populate(&path, 2, 3);
        let before = std::fs::read(&path).expect("read");
        let options = SqliteOptions {
            read_only: true,
            ..SqliteOptions::default()
        };
        let store = SqliteStore::open_with(&path, options.clone()).expect("read-only open");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let list = rt
            .block_on(store.list_executions(ListFilter::all()))
            .expect("list");
        assert_eq!(list.len(), 2);
        assert_eq!(
            rt.block_on(store.load_events("exec-1"))
                .expect("load")
                .len(),
            3
        );
        let refused = rt.block_on(store.append_events("exec-1", &[ev(4, "T", "", 3)]));
        assert!(
            matches!(&refused, Err(StoreError::Storage { detail, .. }) if detail.contains("read-only")),
            "{refused:?}"
        );
        drop(store);
        assert!(std::fs::read(&path).expect("read") == before, "unchanged");
        // A missing file is not created.
        let missing = dir.path().join("missing.db");
        assert!(SqliteStore::open_with(&missing, options).is_err());
        assert!(!missing.exists());
    }

    /// A store written by schema version 1 is upgraded on open: its events keep no checksum
    /// (they are counted as unchecked), new events get one.
    #[test]
    fn version_1_stores_are_upgraded_in_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("v1.db");
        let conn = Connection::open(&path).expect("create");
        conn.execute_batch(&format!(
            "PRAGMA journal_mode=WAL; PRAGMA application_id={APPLICATION_ID}; {SCHEMA}
             PRAGMA user_version=1;
             INSERT INTO definitions VALUES (1, 0, '{{\"StartAt\":\"P\",\"States\":{{\"P\":{{\"Type\":\"Pass\",\"End\":true}}}}}}');
             INSERT INTO executions (id, name, definition, input, metadata, status, start_date)
                 VALUES (1, 'old', 1, '{{}}', '{{}}', 'RUNNING', '2024-01-01T00:00:00.000Z');
             INSERT INTO events VALUES (1, 1, 0, '2024-01-01T00:00:00.000Z', 'ExecutionStarted', NULL, NULL, '', 0);"
        ))
        .expect("a version 1 store");
        drop(conn);
        let read_only = SqliteOptions {
            read_only: true,
            ..SqliteOptions::default()
        };
        let err = SqliteStore::open_with(&path, read_only).expect_err("not upgraded read-only");
        assert!(err.to_string().contains("must be upgraded"), "{err}");
        let store = SqliteStore::open(&path).expect("upgraded");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let record = rt
            .block_on(store.describe_execution("old"))
            .expect("describe");
        assert_eq!(
            (record.history_format, record.engine_version.as_str()),
            (1, "")
        );
        rt.block_on(store.append_events("old", &[ev(2, "PassStateEntered", "", 1)]))
            .expect("append after the upgrade");
        assert_eq!(
            rt.block_on(store.load_events("old")).expect("load").len(),
            2
        );
        let report = store.check().expect("check");
        assert_eq!((report.events, report.unchecked), (1, 1));
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    /// Issue 12: two processes could run one execution at once. A second handle (standing for
    /// another process) is refused while the owner lives, and takes over when its lease has
    /// expired or its process is gone.
    #[tokio::test]
    async fn one_owner_at_a_time() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("own.db");
        let a = SqliteStore::open(&path).expect("open a");
        let b = SqliteStore::open(&path).expect("open b");
        a.start_execution(new_exec("e", json!(1)))
            .await
            .expect("start");
        let _claim = a.claim_execution("e").await.expect("a claims");
        a.claim_execution("e")
            .await
            .expect("claiming again is fine");
        let refused = b.claim_execution("e").await.expect_err("owned by a");
        assert!(
            matches!(&refused, StoreError::Owned { owner, .. } if owner.contains(&format!("process {}", std::process::id()))),
            "{refused}"
        );
        assert!(
            refused.to_string().contains("is owned by process"),
            "{refused}"
        );
        // Released: b may claim.
        a.release_execution("e").await.expect("release");
        let _b_claim = b
            .claim_execution("e")
            .await
            .expect("b claims after release");
        assert!(a.claim_execution("e").await.is_err(), "now b owns it");
        // b's lease expires (b hangs): a takes over.
        let conn = Connection::open(&path).expect("open");
        conn.execute("UPDATE owners SET expires = 0", [])
            .expect("expire");
        a.claim_execution("e")
            .await
            .expect("a takes over an expired lease");
        // a's process "dies" (its start time no longer matches): b takes over at once.
        conn.execute(
            "UPDATE owners SET started = started + 1, expires = 9e15",
            [],
        )
        .expect("a dead owner");
        b.claim_execution("e")
            .await
            .expect("b takes over from a dead process");
        // A closed execution cannot be claimed.
        stop_execution_for_test(&b, "e").await;
        assert!(matches!(
            b.claim_execution("e").await,
            Err(StoreError::Closed { .. })
        ));
    }

    async fn stop_execution_for_test(store: &SqliteStore, name: &str) {
        crate::store::stop_execution(store, name, None, None)
            .await
            .expect("stop");
    }

    /// Issue 12: `workflow stop` did not reach a live run. The owner's claim is reported lost
    /// within a second of another process closing the execution.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_claim_is_reported_lost_when_another_process_stops_the_execution() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lost.db");
        let a = SqliteStore::open(&path).expect("open a");
        let b = SqliteStore::open(&path).expect("open b");
        a.start_execution(new_exec("e", json!(1)))
            .await
            .expect("start");
        let mut claim = a.claim_execution("e").await.expect("claim");
        let quiet = tokio::time::timeout(Duration::from_millis(600), claim.lost()).await;
        assert!(quiet.is_err(), "not lost while nobody touches it");
        stop_execution_for_test(&b, "e").await;
        tokio::time::timeout(Duration::from_secs(1), claim.lost())
            .await
            .expect("reported lost within a second");
    }

    /// An execution recorded by an engine whose history format this one cannot replay is
    /// refused with a message, not replayed wrongly.
    #[tokio::test]
    async fn a_newer_history_format_is_refused_on_resume() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("fmt.db");
        let store = Arc::new(SqliteStore::open(&path).expect("open"));
        let mut new = new_exec("e", json!(1));
        new.definition =
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#.into();
        store.start_execution(new).await.expect("start");
        let record = store.describe_execution("e").await.expect("describe");
        assert_eq!(record.history_format, crate::store::HISTORY_FORMAT);
        assert_eq!(record.engine_version, crate::store::ENGINE_VERSION);
        Connection::open(&path)
            .and_then(|c| {
                // As a newer engine would write it (its checksum is not this engine's to check
                // here: the row is left unchecked).
                c.execute_batch(
                    "UPDATE executions SET format = 99, engine = 'workflow-runtime 9.0.0', \
                     crc = NULL",
                )
            })
            .expect("a newer format");
        let durable = crate::Runtime::builder().durable(store.clone());
        let err = durable.resume_execution("e").await.expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("history format 99") && text.contains("workflow-runtime 9.0.0"),
            "{text}"
        );
        assert!(matches!(
            err,
            crate::store::DurableError::Version { format: 99, .. }
        ));
    }

    #[tokio::test]
    async fn events_are_read_in_pages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("pages.db");
        let store = SqliteStore::open(&path).expect("open");
        store
            .start_execution(new_exec("e", json!(1)))
            .await
            .expect("start");
        let events: Vec<_> = (1..=25).map(|id| ev(id, "T", "", id)).collect();
        store.append_events("e", &events).await.expect("append");
        let mut after = 0;
        let mut seen = Vec::new();
        loop {
            let page = store.load_events_page("e", after, 10).await.expect("page");
            let Some(last) = page.last() else { break };
            after = last.id;
            seen.push(page.len());
        }
        assert_eq!(seen, [10, 10, 5]);
    }

    #[test]
    fn fnv1a_is_stable() {
        // Reference values of 64-bit FNV-1a.
        assert_eq!(fnv1a(""), 0xcbf2_9ce4_8422_2325_u64 as i64);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c_u64 as i64);
    }
}
