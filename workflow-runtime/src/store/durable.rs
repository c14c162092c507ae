//! Durable executions: runs whose history is written ahead to a [`Store`], resumed after a crash
//! by replaying that history.
//!
//! [`DurableRuntime`] pairs a [`RuntimeBuilder`] (handlers, mocks, settings) with a store.
//! [`DurableRuntime::start`] records a named execution and runs it with a [`StoreSink`], so every
//! event is committed before the executor acts on it, and every state's events are handed to the
//! store as the state ends ([`DurableRuntime::flush_every_state`]; a store that queues appends
//! commits the states that ended while it was busy together, each whole, at most 64 states
//! behind the run). [`DurableRuntime::resume`] finds every
//! execution still `RUNNING` in the store (its process died) and runs each again against its
//! recorded history: recorded task results are replayed instead of calling handlers, recorded
//! Wait deadlines stay where they were, Parallel branches and Map iterations that finished stay
//! finished, the child executions of a distributed Map Run that finished are not run again (in
//! a store that keeps their progress, [`Store::record_map_children`]), and retries continue
//! from the recorded attempt count. A task that was running when the process died has no
//! recorded result and runs again (at-least-once).
//!
//! Each execution keeps the random seed it started with (in the store's metadata under
//! `"seed"`), so a resumed run draws the same retry jitter, `States.UUID` and
//! `States.MathRandom` values as the interrupted one ([`StartOptions::seed`]). A retry interval
//! counts from the recorded failure, so it does not start over after a restart; a Wait's
//! deadline is absolute for the same reason.
//!
//! [`Runtime::resume`] (`runtime.resume(store)`) and [`Runtime::durable`] reach the same API
//! from an already built [`Runtime`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Map, Value};

use super::{
    Claim, ExecutionRecord, ExecutionStatus, MapChild, MapRunState, NewExecution, Store,
    StoreError, HISTORY_FORMAT,
};
use crate::history::{
    ChildrenFuture, ErrorDetails, EventKind, EventSink, HistoryEvent, MapRunFuture, SinkError,
    SinkFuture,
};
use crate::program::Program;
use crate::runtime::{
    Execution, ExecutionOutcome, Runtime, RuntimeBuilder, StartError, StartOptions,
};

/// The metadata key under which a durable execution keeps its random seed.
pub const SEED_KEY: &str = "seed";

/// An [`EventSink`] that appends an execution's events to a [`Store`].
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
/// use workflow_runtime::store::StoreSink;
/// use workflow_runtime::StartOptions;
///
/// // The plumbing under DurableRuntime: record the execution, then stream its events to the store.
/// store.start_execution(new("manual")).await?;
/// let runtime = Runtime::default();
/// let machine = workflow_asl::load(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#).expect("valid");
/// let sink = Arc::new(StoreSink::new(store.clone(), "manual"));
/// let options = StartOptions::new().name("manual").sink(sink);
/// runtime.start(&runtime.program(&machine)?, json!({"id": 1}), options)?.await;
/// assert_eq!(store.describe_execution("manual").await?.status, workflow_runtime::ExecutionStatus::Succeeded);
/// # Ok(())
/// # }
/// ```
pub struct StoreSink {
    store: Arc<dyn Store>,
    name: String,
}

impl StoreSink {
    /// A sink for the execution `name` in `store`.
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
    /// use workflow_runtime::store::StoreSink;
    /// use workflow_runtime::history::EventSink;
    ///
    /// store.start_execution(new("manual")).await?;
    /// let sink = StoreSink::new(store.clone(), "manual");
    /// let events = store.load_events("order-1").await?;
    /// sink.append(&events[..1]).await?; // an ExecutionStarted for "manual"
    /// assert_eq!(store.describe_execution("manual").await?.event_count, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(store: Arc<dyn Store>, name: impl Into<String>) -> StoreSink {
        StoreSink {
            store,
            name: name.into(),
        }
    }
}

impl std::fmt::Debug for StoreSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSink")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl EventSink for StoreSink {
    fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
        Box::pin(async move {
            self.store
                .append_events(&self.name, events)
                .await
                .map_err(|e| SinkError(e.to_string()))
        })
    }

    fn queues(&self) -> bool {
        self.store.queues_appends()
    }

    fn append_queued(&self, events: Vec<HistoryEvent>) -> SinkFuture<'static> {
        let queued = self.store.queue_events(&self.name, events);
        Box::pin(async move { queued.await.map_err(|e| SinkError(e.to_string())) })
    }

    fn keeps_map_progress(&self) -> bool {
        self.store.keeps_map_progress()
    }

    fn record_map_children(
        &self,
        run: &str,
        children: Vec<MapChild>,
        state: Option<MapRunState>,
    ) -> SinkFuture<'static> {
        let written = self
            .store
            .record_map_children(&self.name, run, children, state);
        Box::pin(async move { written.await.map_err(|e| SinkError(e.to_string())) })
    }

    fn load_map_run<'a>(&'a self, run: &'a str) -> MapRunFuture<'a> {
        Box::pin(async move {
            self.store
                .load_map_run(&self.name, run)
                .await
                .map_err(|e| SinkError(e.to_string()))
        })
    }

    fn load_map_children<'a>(
        &'a self,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> ChildrenFuture<'a> {
        Box::pin(async move {
            self.store
                .load_map_children(&self.name, run, from, limit)
                .await
                .map_err(|e| SinkError(e.to_string()))
        })
    }
}

/// Why a durable execution could not be started, resumed or stopped.
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
/// use workflow_runtime::store::{DurableError, StoreError};
///
/// let durable = Runtime::builder().durable(store.clone());
/// let mut broken = new("broken");
/// broken.definition = r#"{"StartAt": "Nowhere", "States": {}}"#.into();
/// assert!(matches!(durable.start(broken).await, Err(DurableError::Definition { .. })));
/// assert!(matches!(durable.resume_execution("nope").await, Err(DurableError::Store(StoreError::NotFound(_)))));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The stored definition cannot be run.
    #[error("execution `{name}`: the definition cannot be run: {detail}")]
    Definition {
        /// The execution.
        name: String,
        /// What is wrong with it.
        detail: String,
    },
    /// The execution was recorded in a history format this engine cannot replay.
    #[error(
        "execution `{name}` was recorded by {engine} in history format {format}; this engine \
         replays formats up to {HISTORY_FORMAT}, so it cannot resume it (resume it with that \
         version of workflow or a newer one)"
    )]
    Version {
        /// The execution.
        name: String,
        /// The engine that recorded it.
        engine: String,
        /// Its history format.
        format: u32,
    },
    /// The executor refused to start.
    #[error("execution `{name}`: {source}")]
    Start {
        /// The execution.
        name: String,
        /// Why.
        source: StartError,
    },
}

/// A durable execution that is running (started or resumed).
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
/// let execution = Runtime::builder().durable(store.clone()).start(new("a")).await?;
/// assert_eq!((execution.record.name.as_str(), execution.created, execution.replayed), ("a", true, 0));
/// let outcome = execution.wait().await;
/// assert!(outcome.succeeded());
/// # Ok(())
/// # }
/// ```
pub struct DurableExecution {
    /// The execution as recorded in the store when it was (re)started.
    pub record: ExecutionRecord,
    /// `true` when this call recorded a new execution; `false` when it continues one.
    pub created: bool,
    /// How many recorded events the run replays (0 for a new execution).
    pub replayed: usize,
    /// The running execution; await it for the outcome (or [`DurableExecution::wait`], which
    /// also gives up this process's ownership of it when it ends).
    pub execution: Execution,
    /// Ends the task that stops the execution when its claim is lost.
    watching: Option<tokio::sync::oneshot::Sender<()>>,
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for DurableExecution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableExecution")
            .field("record", &self.record)
            .field("created", &self.created)
            .field("replayed", &self.replayed)
            .field("execution", &self.execution)
            .finish_non_exhaustive()
    }
}

impl DurableExecution {
    /// The execution's name.
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
    /// let execution = Runtime::builder().durable(store.clone()).start(new("named")).await?;
    /// assert_eq!(execution.name(), "named");
    /// # execution.wait().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn name(&self) -> &str {
        &self.record.name
    }

    /// Waits for the outcome, then gives up this process's claim on the execution.
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
    /// let execution = Runtime::builder().durable(store.clone()).start(new("a")).await?;
    /// assert_eq!(execution.wait().await.output, Some(json!({"id": 1})));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn wait(mut self) -> ExecutionOutcome {
        let outcome = self.execution.wait().await;
        drop(self.watching.take());
        // Failing to release only delays another owner until the lease expires.
        let _ = self.store.release_execution(&self.record.name).await;
        outcome
    }
}

/// Runs executions durably in a [`Store`]. See the module docs.
///
/// Made from a [`Runtime`] ([`Runtime::durable`], [`RuntimeBuilder::durable`]) and a store: the
/// runtime brings the handlers, mocks and settings; the store, the executions. This type (not
/// [`Runtime`]) is the durable API because every durable operation needs both, and because it
/// keeps what is per store: the compiled programs of the stored definitions. [`Runtime::resume`]
/// is a shortcut for `runtime.durable(store).resume()`.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::{json, Value};
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// const WORK: &str = "arn:aws:lambda:us-east-1:123456789012:function:Work";
/// let store = Arc::new(MemoryStore::new());
/// let new = NewExecution {
///     name: "job-1".into(),
///     definition: format!(r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{WORK}", "End": true}}}}}}"#),
///     input: json!({}),
///     metadata: json!({}),
/// };
/// // A first process starts the execution and dies while its task runs.
/// let first = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// first.block_on(async {
///     let hang = |_: Value| std::future::pending::<Result<Value, TaskError>>();
///     let _running = Runtime::builder().handler(WORK, hang).durable(store.clone()).start(new).await?;
///     while store.describe_execution("job-1").await?.event_count < 3 {
///         tokio::task::yield_now().await;
///     }
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })?;
/// drop(first);
/// assert_eq!(tokio::runtime::Builder::new_current_thread().build()?.block_on(store.describe_execution("job-1"))?.status, ExecutionStatus::Running);
/// let second = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// let done = |_: Value| async { Ok::<_, TaskError>(json!("done")) };
/// // The next process resumes it from its history, with a handler that works.
/// second.block_on(async {
///     let durable = Runtime::builder().handler(WORK, done).durable(store.clone());
///     for resumed in durable.resume().await? {
///         let outcome = resumed?.wait().await;
///         assert_eq!(outcome.output, Some(json!("done")));
///     }
///     assert_eq!(store.describe_execution("job-1").await?.status, ExecutionStatus::Succeeded);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct DurableRuntime {
    /// Runs (and compiles) the executions; each gets its recorded seed through
    /// [`StartOptions::seed`].
    runtime: Runtime,
    /// Validated, compiled programs by definition text.
    programs: Arc<Mutex<HashMap<String, Arc<Program>>>>,
    store: Arc<dyn Store>,
    flush_every_state: bool,
    keep_history: bool,
}

impl std::fmt::Debug for DurableRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DurableRuntime")
            .field("runtime", &self.runtime)
            .field("flush_every_state", &self.flush_every_state)
            .finish_non_exhaustive()
    }
}

impl DurableRuntime {
    /// Executions run with `builder`'s handlers, mocks and settings, recorded in `store`.
    ///
    /// The builder's seed, if it has one, is ignored: every execution gets its own seed,
    /// recorded with it (pass one in [`NewExecution::metadata`] under [`SEED_KEY`] to choose it).
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
    /// use workflow_runtime::store::DurableRuntime;
    ///
    /// let durable = DurableRuntime::new(Runtime::builder(), store.clone());
    /// assert!(durable.start(new("a")).await?.wait().await.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(builder: RuntimeBuilder, store: Arc<dyn Store>) -> DurableRuntime {
        DurableRuntime::with_runtime(builder.build(), store)
    }

    /// Executions run on `runtime` (its handlers, mocks and settings; its seed is ignored, as in
    /// [`DurableRuntime::new`]), recorded in `store`.
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
    /// use workflow_runtime::store::DurableRuntime;
    ///
    /// let runtime = Runtime::default();
    /// let durable = DurableRuntime::with_runtime(runtime.clone(), store.clone());
    /// assert!(durable.start(new("a")).await?.wait().await.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_runtime(runtime: Runtime, store: Arc<dyn Store>) -> DurableRuntime {
        DurableRuntime {
            runtime,
            programs: Arc::default(),
            store,
            flush_every_state: true,
            keep_history: true,
        }
    }

    /// Whether a run keeps its events in memory for [`ExecutionOutcome::history`] (default
    /// `true`; see [`StartOptions::keep_history`]). With `false`, every event is dropped from
    /// memory once it is handed to the store, so a run's memory does not grow with its history
    /// (apart from the recorded history a resumed run replays); read the history from the store
    /// ([`Store::load_events_page`]).
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
    /// let durable = Runtime::builder().durable(store.clone()).keep_history(false);
    /// let outcome = durable.start(new("a")).await?.wait().await;
    /// assert!(outcome.history.is_empty()); // read it from the store
    /// assert_eq!(store.load_events("a").await?.len(), 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn keep_history(mut self, keep: bool) -> DurableRuntime {
        self.keep_history = keep;
        self
    }

    /// Whether every state's events are handed to the store as the state ends (default `true`;
    /// see [`StartOptions::flush_every_state`]): committed before the next state starts, or,
    /// with a store that queues appends ([`Store::queues_appends`]), in the next commit, at
    /// most 64 states behind. With `false`, events are still written
    /// ahead of every effect (task invocations, sleeps, the outcome), so nothing that happened
    /// outside the executor is lost, but after a crash the states since the last effect run
    /// again (they are deterministic), and the store's history lags behind the execution.
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
    /// let durable = Runtime::builder().durable(store.clone()).flush_every_state(false);
    /// assert!(durable.start(new("a")).await?.wait().await.succeeded());
    /// assert_eq!(store.load_events("a").await?.len(), 4);
    /// # Ok(())
    /// # }
    /// ```
    pub fn flush_every_state(mut self, on: bool) -> DurableRuntime {
        self.flush_every_state = on;
        self
    }

    /// The store.
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
    /// let durable = Runtime::builder().durable(store.clone());
    /// durable.start(new("a")).await?.wait().await;
    /// assert_eq!(durable.store().count_executions(None).await?, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Starts the named execution, as AWS's `StartExecution`: a new name records and runs a new
    /// execution; the name of a `RUNNING` execution with the same definition and input continues
    /// that execution from its history (in this process); a closed name, or a running one with a
    /// different input or definition, is [`StoreError::AlreadyExists`].
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
    /// let durable = Runtime::builder().durable(store.clone());
    /// let execution = durable.start(new("order-1")).await?;
    /// assert!(execution.created);
    /// assert_eq!(execution.name(), "order-1");
    /// assert_eq!(execution.wait().await.output, Some(json!({"id": 1})));
    /// // The name of a closed execution is taken.
    /// assert!(durable.start(new("order-1")).await.is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn start(&self, new: NewExecution) -> Result<DurableExecution, DurableError> {
        let program = self.compile(&new.name, &new.definition)?;
        let mut new = new;
        if new.metadata.get(SEED_KEY).and_then(Value::as_u64).is_none() {
            let mut meta = match new.metadata {
                Value::Object(m) => m,
                Value::Null => Map::new(),
                other => {
                    let mut m = Map::new();
                    m.insert("value".into(), other);
                    m
                }
            };
            meta.insert(SEED_KEY.into(), rand::random::<u64>().into());
            new.metadata = Value::Object(meta);
        }
        let started = self.store.start_execution(new).await?;
        if !started.created {
            check_format(&started.record)?;
        }
        // Own it before reading its history: no other process appends from here on.
        let claim = self.store.claim_execution(&started.record.name).await?;
        let prior = if started.created {
            Vec::new()
        } else {
            self.store.load_events(&started.record.name).await?
        };
        self.run(started.record, started.created, program, prior, claim)
    }

    /// Resumes every execution that is `RUNNING` in the store, each from its history. One
    /// execution that cannot be resumed (its definition no longer compiles, …) does not stop the
    /// others: each gets its own result, in the store's order.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # const WORK: &str = "arn:aws:lambda:us-east-1:123456789012:function:Work";
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = NewExecution {
    /// #     name: "job-1".into(),
    /// #     definition: format!(r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{WORK}", "End": true}}}}}}"#),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// # // A first process starts the execution and dies while its task runs.
    /// # let first = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # first.block_on(async {
    /// #     let hang = |_: Value| std::future::pending::<Result<Value, TaskError>>();
    /// #     let _running = Runtime::builder().handler(WORK, hang).durable(store.clone()).start(new).await?;
    /// #     while store.describe_execution("job-1").await?.event_count < 3 {
    /// #         tokio::task::yield_now().await;
    /// #     }
    /// #     Ok::<_, Box<dyn std::error::Error>>(())
    /// # })?;
    /// # drop(first);
    /// # assert_eq!(tokio::runtime::Builder::new_current_thread().build()?.block_on(store.describe_execution("job-1"))?.status, ExecutionStatus::Running);
    /// # let second = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # let done = |_: Value| async { Ok::<_, TaskError>(json!("done")) };
    /// second.block_on(async {
    ///     let resumed = Runtime::builder().handler(WORK, done).durable(store.clone()).resume().await?;
    ///     assert_eq!(resumed.len(), 1);
    ///     for execution in resumed {
    ///         let execution = execution?;
    ///         assert_eq!((execution.name(), execution.created), ("job-1", false));
    ///         assert!(execution.replayed > 0); // the recorded events
    ///         assert!(execution.wait().await.succeeded());
    ///     }
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume(
        &self,
    ) -> Result<Vec<Result<DurableExecution, DurableError>>, DurableError> {
        let running = self
            .store
            .list_executions(super::ListFilter::with_status(ExecutionStatus::Running))
            .await?;
        let mut resumed = Vec::with_capacity(running.len());
        for summary in running {
            resumed.push(self.resume_execution(&summary.name).await);
        }
        Ok(resumed)
    }

    /// Resumes the named execution from its history. A closed execution is
    /// [`StoreError::Closed`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # const WORK: &str = "arn:aws:lambda:us-east-1:123456789012:function:Work";
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = NewExecution {
    /// #     name: "job-1".into(),
    /// #     definition: format!(r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{WORK}", "End": true}}}}}}"#),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// # // A first process starts the execution and dies while its task runs.
    /// # let first = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # first.block_on(async {
    /// #     let hang = |_: Value| std::future::pending::<Result<Value, TaskError>>();
    /// #     let _running = Runtime::builder().handler(WORK, hang).durable(store.clone()).start(new).await?;
    /// #     while store.describe_execution("job-1").await?.event_count < 3 {
    /// #         tokio::task::yield_now().await;
    /// #     }
    /// #     Ok::<_, Box<dyn std::error::Error>>(())
    /// # })?;
    /// # drop(first);
    /// # assert_eq!(tokio::runtime::Builder::new_current_thread().build()?.block_on(store.describe_execution("job-1"))?.status, ExecutionStatus::Running);
    /// # let second = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # let done = |_: Value| async { Ok::<_, TaskError>(json!("done")) };
    /// second.block_on(async {
    ///     let durable = Runtime::builder().handler(WORK, done).durable(store.clone());
    ///     let outcome = durable.resume_execution("job-1").await?.wait().await;
    ///     assert_eq!(outcome.output, Some(json!("done")));
    ///     // A closed execution cannot be resumed.
    ///     assert!(durable.resume_execution("job-1").await.is_err());
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume_execution(&self, name: &str) -> Result<DurableExecution, DurableError> {
        let record = self.store.describe_execution(name).await?;
        if record.status.is_closed() {
            return Err(StoreError::Closed {
                name: name.to_string(),
                status: record.status,
            }
            .into());
        }
        check_format(&record)?;
        let program = self.compile(name, &record.definition)?;
        let claim = self.store.claim_execution(name).await?;
        let prior = match self.store.load_events(name).await {
            Ok(prior) => prior,
            Err(e) => {
                let _ = self.store.release_execution(name).await;
                return Err(e.into());
            }
        };
        self.run(record, false, program, prior, claim)
    }

    /// Stops an execution that is not running in this process (it crashed, or runs in another
    /// process): records `ExecutionAborted` with `error` and `cause`. A process still running it
    /// fails its next append ([`StoreError::Closed`]) and stops. To stop an execution running
    /// here, call [`Execution::stop`] on it instead.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # const WORK: &str = "arn:aws:lambda:us-east-1:123456789012:function:Work";
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = NewExecution {
    /// #     name: "job-1".into(),
    /// #     definition: format!(r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{WORK}", "End": true}}}}}}"#),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// # // A first process starts the execution and dies while its task runs.
    /// # let first = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # first.block_on(async {
    /// #     let hang = |_: Value| std::future::pending::<Result<Value, TaskError>>();
    /// #     let _running = Runtime::builder().handler(WORK, hang).durable(store.clone()).start(new).await?;
    /// #     while store.describe_execution("job-1").await?.event_count < 3 {
    /// #         tokio::task::yield_now().await;
    /// #     }
    /// #     Ok::<_, Box<dyn std::error::Error>>(())
    /// # })?;
    /// # drop(first);
    /// # assert_eq!(tokio::runtime::Builder::new_current_thread().build()?.block_on(store.describe_execution("job-1"))?.status, ExecutionStatus::Running);
    /// # let second = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # let done = |_: Value| async { Ok::<_, TaskError>(json!("done")) };
    /// second.block_on(async {
    ///     // Give up on it instead: record `ExecutionAborted`.
    ///     let durable = Runtime::builder().durable(store.clone());
    ///     let record = durable.stop("job-1", Some("Abandoned".into()), None).await?;
    ///     assert_eq!(record.status, ExecutionStatus::Aborted);
    ///     assert_eq!(record.error.as_deref(), Some("Abandoned"));
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stop(
        &self,
        name: &str,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<ExecutionRecord, DurableError> {
        Ok(stop_execution(self.store.as_ref(), name, error, cause).await?)
    }

    /// Validates (as AWS does when a state machine is created) and compiles a definition, once
    /// per distinct definition text.
    fn compile(&self, name: &str, definition: &str) -> Result<Arc<Program>, DurableError> {
        let cached = self
            .programs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(definition)
            .cloned();
        if let Some(program) = cached {
            return Ok(program);
        }
        let bad = |detail: String| DurableError::Definition {
            name: name.to_string(),
            detail,
        };
        let report = workflow_asl::check_str(definition);
        let errors: Vec<_> = report.errors().collect();
        if let Some(first) = errors.first() {
            let more = errors.len() - 1;
            return Err(bad(if more == 0 {
                first.to_string()
            } else {
                format!("{first} (and {more} more problems)")
            }));
        }
        let machine = report
            .machine
            .ok_or_else(|| bad("the definition is not a JSON object".into()))?;
        let program = self
            .runtime
            .program(&machine)
            .map_err(|e| bad(e.to_string()))?;
        self.programs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(definition.to_string(), Arc::clone(&program));
        Ok(program)
    }

    fn run(
        &self,
        record: ExecutionRecord,
        created: bool,
        program: Arc<Program>,
        prior: Vec<HistoryEvent>,
        mut claim: Claim,
    ) -> Result<DurableExecution, DurableError> {
        let seed = record
            .metadata
            .get(SEED_KEY)
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let replayed = prior.len();
        let sink = Arc::new(StoreSink::new(Arc::clone(&self.store), record.name.clone()));
        let options = StartOptions::new()
            .name(record.name.clone())
            .seed(seed)
            .flush_every_state(self.flush_every_state)
            .keep_history(self.keep_history)
            .sink(sink)
            .resume_from(prior);
        let execution = self
            .runtime
            .start(&program, record.input.clone(), options)
            .map_err(|source| DurableError::Start {
                name: record.name.clone(),
                source,
            })?;
        // Stop the run as soon as the claim is lost: `workflow stop` closed the execution, or
        // another process took it over after this one stopped renewing its lease. The
        // in-flight task is cancelled; the closing event of this run is then refused by the
        // store, which keeps what the other process recorded.
        let stop = execution.stop_handle();
        let (watching, done) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            tokio::select! {
                () = claim.lost() => stop.stop_with(
                    Some("States.Aborted".into()),
                    Some("the execution was stopped or taken over by another process".into()),
                ),
                _ = done => {}
            }
        });
        Ok(DurableExecution {
            record,
            created,
            replayed,
            execution,
            watching: Some(watching),
            store: Arc::clone(&self.store),
        })
    }
}

/// Refuses an execution recorded in a history format newer than this engine replays.
fn check_format(record: &ExecutionRecord) -> Result<(), DurableError> {
    if record.history_format > HISTORY_FORMAT {
        return Err(DurableError::Version {
            name: record.name.clone(),
            engine: if record.engine_version.is_empty() {
                "an unknown engine".into()
            } else {
                record.engine_version.clone()
            },
            format: record.history_format,
        });
    }
    Ok(())
}

impl RuntimeBuilder {
    /// A [`DurableRuntime`] running executions with this builder's handlers and settings,
    /// recorded in `store`: `Runtime::builder().handler(…).durable(store).resume().await`.
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
    /// let durable = Runtime::builder().seed(1).durable(store.clone());
    /// assert!(durable.start(new("a")).await?.wait().await.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn durable(self, store: Arc<dyn Store>) -> DurableRuntime {
        DurableRuntime::new(self, store)
    }
}

impl Runtime {
    /// A [`DurableRuntime`] running executions on this runtime (its handlers, mocks and
    /// settings), recorded in `store`.
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
    /// let runtime = Runtime::default();
    /// assert!(runtime.durable(store.clone()).start(new("a")).await?.wait().await.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn durable(&self, store: Arc<dyn Store>) -> DurableRuntime {
        DurableRuntime::with_runtime(self.clone(), store)
    }

    /// Resumes every execution that is `RUNNING` in `store` (its process died), each from its
    /// recorded history and with its recorded seed, on this runtime's handlers and settings:
    /// `runtime.durable(store).resume()` (see [`DurableRuntime::resume`]). Await each
    /// [`DurableExecution`] for its outcome.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
    /// # use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # const WORK: &str = "arn:aws:lambda:us-east-1:123456789012:function:Work";
    /// # let store = Arc::new(MemoryStore::new());
    /// # let new = NewExecution {
    /// #     name: "job-1".into(),
    /// #     definition: format!(r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{WORK}", "End": true}}}}}}"#),
    /// #     input: json!({}),
    /// #     metadata: json!({}),
    /// # };
    /// # // A first process starts the execution and dies while its task runs.
    /// # let first = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # first.block_on(async {
    /// #     let hang = |_: Value| std::future::pending::<Result<Value, TaskError>>();
    /// #     let _running = Runtime::builder().handler(WORK, hang).durable(store.clone()).start(new).await?;
    /// #     while store.describe_execution("job-1").await?.event_count < 3 {
    /// #         tokio::task::yield_now().await;
    /// #     }
    /// #     Ok::<_, Box<dyn std::error::Error>>(())
    /// # })?;
    /// # drop(first);
    /// # assert_eq!(tokio::runtime::Builder::new_current_thread().build()?.block_on(store.describe_execution("job-1"))?.status, ExecutionStatus::Running);
    /// # let second = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    /// # let done = |_: Value| async { Ok::<_, TaskError>(json!("done")) };
    /// second.block_on(async {
    ///     let runtime = Runtime::builder().handler(WORK, done).build();
    ///     for resumed in runtime.resume(store.clone()).await? {
    ///         assert!(resumed?.wait().await.succeeded());
    ///     }
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resume(
        &self,
        store: Arc<dyn Store>,
    ) -> Result<Vec<Result<DurableExecution, DurableError>>, DurableError> {
        self.durable(store).resume().await
    }
}

/// Records `ExecutionAborted` (with `error` and `cause`) at the end of a `RUNNING` execution's
/// history, closing it. A closed execution is [`StoreError::Closed`]; if another process appends
/// at the same moment one of the two appends is rejected ([`StoreError::Conflict`]) and this
/// function tries again with the longer history.
///
/// ```
/// # use std::sync::Arc;
/// # use serde_json::{json, Value};
/// # use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// # use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # const WORK: &str = "arn:aws:lambda:us-east-1:123456789012:function:Work";
/// # let store = Arc::new(MemoryStore::new());
/// # let new = NewExecution {
/// #     name: "job-1".into(),
/// #     definition: format!(r#"{{"StartAt": "Work", "States": {{"Work": {{"Type": "Task", "Resource": "{WORK}", "End": true}}}}}}"#),
/// #     input: json!({}),
/// #     metadata: json!({}),
/// # };
/// # // A first process starts the execution and dies while its task runs.
/// # let first = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # first.block_on(async {
/// #     let hang = |_: Value| std::future::pending::<Result<Value, TaskError>>();
/// #     let _running = Runtime::builder().handler(WORK, hang).durable(store.clone()).start(new).await?;
/// #     while store.describe_execution("job-1").await?.event_count < 3 {
/// #         tokio::task::yield_now().await;
/// #     }
/// #     Ok::<_, Box<dyn std::error::Error>>(())
/// # })?;
/// # drop(first);
/// # assert_eq!(tokio::runtime::Builder::new_current_thread().build()?.block_on(store.describe_execution("job-1"))?.status, ExecutionStatus::Running);
/// # let second = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
/// # let done = |_: Value| async { Ok::<_, TaskError>(json!("done")) };
/// use workflow_runtime::store::stop_execution;
///
/// second.block_on(async {
///     let record = stop_execution(store.as_ref(), "job-1", None, Some("operator".into())).await?;
///     assert_eq!(record.status, ExecutionStatus::Aborted);
///     assert_eq!(store.load_events("job-1").await?.last().map(|e| e.event_type()), Some("ExecutionAborted"));
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })?;
/// # Ok(())
/// # }
/// ```
pub async fn stop_execution(
    store: &dyn Store,
    name: &str,
    error: Option<String>,
    cause: Option<String>,
) -> Result<ExecutionRecord, StoreError> {
    let mut attempts = 0;
    loop {
        let record = store.describe_execution(name).await?;
        if record.status.is_closed() {
            return Err(StoreError::Closed {
                name: name.to_string(),
                status: record.status,
            });
        }
        let events = store.load_events(name).await?;
        let last = events.last().map_or(0, |e| e.id);
        let seq = events.iter().filter(|e| e.scope.is_empty()).count() as u64;
        let aborted = HistoryEvent {
            id: last + 1,
            previous_event_id: last,
            timestamp: super::now_rfc3339(),
            kind: EventKind::ExecutionAborted(ErrorDetails {
                error: error.clone(),
                cause: cause.clone(),
            }),
            scope: String::new(),
            seq,
        };
        match store.append_events(name, &[aborted]).await {
            Ok(()) => return store.describe_execution(name).await,
            Err(StoreError::Conflict { .. }) if attempts < 10 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}
