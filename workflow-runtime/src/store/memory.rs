//! The in-memory store: executions and histories in a map behind a mutex. Nothing survives the
//! process; it enforces exactly the same rules as the SQLite store, so tests written against it
//! hold for both.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::{
    check_batch, check_continues, now_rfc3339, output_value, start_conflict,
    validate_execution_name, ExecutionRecord, ExecutionStatus, ExecutionSummary, ListFilter,
    MapChild, MapRunState, NewExecution, StartedExecution, Store, StoreError, StoreFuture,
};
use crate::history::HistoryEvent;

/// A [`Store`] that keeps everything in memory.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use serde_json::json;
/// use workflow_runtime::store::{MemoryStore, NewExecution, Store};
/// use workflow_runtime::{ExecutionStatus, Runtime};
///
/// let store = Arc::new(MemoryStore::new());
/// let durable = Runtime::builder().durable(store.clone());
/// let new = NewExecution {
///     name: "order-1".into(),
///     definition: r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#.into(),
///     input: json!({"id": 1}),
///     metadata: json!({}),
/// };
/// let outcome = durable.start(new).await?.wait().await;
/// assert_eq!(outcome.output, Some(json!({"id": 1})));
/// let record = store.describe_execution("order-1").await?;
/// assert_eq!((record.status, record.event_count), (ExecutionStatus::Succeeded, 4));
/// assert_eq!(store.load_events("order-1").await?.len(), 4);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Executions in creation order.
    executions: Vec<Execution>,
    /// Name → index into `executions`.
    by_name: HashMap<String, usize>,
}

#[derive(Debug)]
struct Execution {
    record: ExecutionRecord,
    events: Vec<HistoryEvent>,
    /// The `(scope, seq)` of every event in `events`.
    positions: HashSet<(String, u64)>,
    /// The finished children of each Map Run, by index ([`Store::record_map_children`]).
    map_children: HashMap<String, BTreeMap<u64, MapChild>>,
    /// The state recorded with each Map Run's children.
    map_runs: HashMap<String, MapRunState>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow_runtime::store::{MemoryStore, Store};
    ///
    /// let store = MemoryStore::new();
    /// assert_eq!(store.count_executions(None).await?, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` half-updated: every mutation
        // below is checked first and then applied without anything that can panic in between.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn start_sync(&self, new: NewExecution) -> Result<StartedExecution, StoreError> {
        validate_execution_name(&new.name)?;
        let mut inner = self.lock();
        if let Some(&i) = inner.by_name.get(&new.name) {
            let existing = &inner.executions[i].record;
            return match start_conflict(existing, &new) {
                Some(reason) => Err(StoreError::AlreadyExists {
                    name: new.name,
                    reason,
                }),
                None => Ok(StartedExecution {
                    record: existing.clone(),
                    created: false,
                }),
            };
        }
        let record = ExecutionRecord {
            name: new.name.clone(),
            definition: new.definition,
            input: new.input,
            metadata: new.metadata,
            status: ExecutionStatus::Running,
            start_date: now_rfc3339(),
            stop_date: None,
            output: None,
            error: None,
            cause: None,
            event_count: 0,
            engine_version: super::ENGINE_VERSION.to_string(),
            history_format: super::HISTORY_FORMAT,
        };
        let index = inner.executions.len();
        inner.executions.push(Execution {
            record: record.clone(),
            events: Vec::new(),
            positions: HashSet::new(),
            map_children: HashMap::new(),
            map_runs: HashMap::new(),
        });
        inner.by_name.insert(new.name, index);
        Ok(StartedExecution {
            record,
            created: true,
        })
    }

    fn append_sync(&self, name: &str, events: &[HistoryEvent]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let index = *inner
            .by_name
            .get(name)
            .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        let exec = &mut inner.executions[index];
        let batch = check_batch(name, events)?;
        check_continues(name, exec.record.status, exec.record.event_count, &batch)?;
        if let Some(ev) = events
            .iter()
            .find(|ev| exec.positions.contains(&(ev.scope.clone(), ev.seq)))
        {
            return Err(StoreError::Conflict {
                name: name.to_string(),
                detail: format!(
                    "event {} repeats the position (scope `{}`, seq {}) of a recorded event",
                    ev.id, ev.scope, ev.seq
                ),
            });
        }
        for ev in events {
            exec.positions.insert((ev.scope.clone(), ev.seq));
            exec.events.push(ev.clone());
        }
        exec.record.event_count += events.len() as u64;
        if let Some(c) = batch.closing {
            exec.record.status = c.status;
            exec.record.stop_date = Some(c.stop_date);
            exec.record.output = c.output.as_deref().map(output_value);
            exec.record.error = c.error;
            exec.record.cause = c.cause;
        }
        Ok(())
    }

    fn record_children_sync(
        &self,
        name: &str,
        run: &str,
        children: Vec<MapChild>,
        state: Option<MapRunState>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let index = *inner
            .by_name
            .get(name)
            .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        let exec = &mut inner.executions[index];
        if exec.record.status.is_closed() {
            return Err(StoreError::Closed {
                name: name.to_string(),
                status: exec.record.status,
            });
        }
        let recorded = exec.map_children.entry(run.to_string()).or_default();
        for child in children {
            recorded.insert(child.index, child);
        }
        if let Some(state) = state {
            exec.map_runs.insert(run.to_string(), state);
        }
        Ok(())
    }

    fn with_execution<T>(
        &self,
        name: &str,
        f: impl FnOnce(&Execution) -> T,
    ) -> Result<T, StoreError> {
        let inner = self.lock();
        let index = inner
            .by_name
            .get(name)
            .ok_or_else(|| StoreError::NotFound(name.to_string()))?;
        Ok(f(&inner.executions[*index]))
    }

    fn list_sync(&self, filter: &ListFilter) -> Vec<ExecutionSummary> {
        let inner = self.lock();
        inner
            .executions
            .iter()
            .filter(|e| filter.status.is_none_or(|s| e.record.status == s))
            .take(filter.limit.unwrap_or(usize::MAX))
            .map(|e| e.record.summary())
            .collect()
    }
}

impl Store for MemoryStore {
    fn start_execution(&self, new: NewExecution) -> StoreFuture<'_, StartedExecution> {
        let result = self.start_sync(new);
        Box::pin(async move { result })
    }

    fn append_events<'a>(
        &'a self,
        name: &'a str,
        events: &'a [HistoryEvent],
    ) -> StoreFuture<'a, ()> {
        let result = self.append_sync(name, events);
        Box::pin(async move { result })
    }

    fn describe_execution<'a>(&'a self, name: &'a str) -> StoreFuture<'a, ExecutionRecord> {
        let result = self.with_execution(name, |e| e.record.clone());
        Box::pin(async move { result })
    }

    fn load_events<'a>(&'a self, name: &'a str) -> StoreFuture<'a, Vec<HistoryEvent>> {
        let result = self.with_execution(name, |e| e.events.clone());
        Box::pin(async move { result })
    }

    fn list_executions(&self, filter: ListFilter) -> StoreFuture<'_, Vec<ExecutionSummary>> {
        let result = self.list_sync(&filter);
        Box::pin(async move { Ok(result) })
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
        let result = self.record_children_sync(name, run, children, state);
        Box::pin(async move { result })
    }

    fn load_map_run<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
    ) -> StoreFuture<'a, Option<MapRunState>> {
        let result = self.with_execution(name, |e| e.map_runs.get(run).cloned());
        Box::pin(async move { result })
    }

    fn load_map_children<'a>(
        &'a self,
        name: &'a str,
        run: &'a str,
        from: u64,
        limit: usize,
    ) -> StoreFuture<'a, Vec<MapChild>> {
        let result = self.with_execution(name, |e| {
            e.map_children.get(run).map_or_else(Vec::new, |recorded| {
                recorded
                    .range(from..)
                    .take(limit)
                    .map(|(_, c)| c.clone())
                    .collect()
            })
        });
        Box::pin(async move { result })
    }

    fn count_executions(&self, status: Option<ExecutionStatus>) -> StoreFuture<'_, u64> {
        let inner = self.lock();
        let n = inner
            .executions
            .iter()
            .filter(|e| status.is_none_or(|s| e.record.status == s))
            .count() as u64;
        drop(inner);
        Box::pin(async move { Ok(n) })
    }
}
