//! Recording history: compact in-memory events, rendered to [`HistoryEvent`]s on demand, with
//! write-ahead delivery to an [`EventSink`] and lookup of a prior history for replay.
//!
//! Every logical thread of an execution (the top level, each Parallel branch, each Map iteration)
//! records through its own [`Cursor`], which names its scope and counts its events (`seq`). The
//! executor's control flow is a function of its input, its task results, its timer firings and its
//! random numbers, and all of these are recorded or derived from recorded data, so re-running an
//! execution against its own history visits the same `(scope, seq)` keys in the same order within
//! each scope. When a prior history is supplied, an event whose key already exists is not appended
//! again: the recorder returns the recorded event (its id and timestamp), and the executor reads
//! recorded task results from it instead of calling handlers.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

use crate::clock::{parse_ms, Clock};
use crate::history::{
    EventKind, EventSink, EventType, History, HistoryEvent, HistoryLevel, Rec, SinkError,
    SinkFuture,
};

/// The most states whose events may wait, unstored, while the execution goes on (see
/// [`Recorder::flush_state`]): at most what a crash makes a resumed run do again.
pub(crate) const MAX_QUEUED_STATES: usize = 64;

/// How many dropped events' times are kept for [`Recorder::time_of_event`] when the history is
/// not kept in memory.
const RECENT_TIMES: usize = 64;

/// The position of one logical thread (top level, Parallel branch, Map iteration) in the history,
/// and its source of randomness.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub(crate) scope: Arc<str>,
    pub(crate) seq: u64,
    pub(crate) last_id: u64,
    /// Events of a silent cursor are not recorded (child executions of a distributed Map).
    pub(crate) silent: bool,
    /// Set while the scope runs on another thread (a Map iteration, see `engine/map.rs`): its
    /// events go here, numbered from [`LOCAL_BASE`], until [`Recorder::merge`] appends them.
    pub(crate) local: Option<Local>,
    /// The execution this cursor's states run in, when it is not the recorder's own: a child
    /// execution of a distributed Map (its `$$.Execution`), inherited by nested cursors.
    pub(crate) exec: Option<Arc<crate::engine::ExecInfo>>,
    rng_seed: u64,
    rng: Option<SmallRng>,
}

/// The first provisional id of an event recorded into a [`Local`] log.
pub(crate) const LOCAL_BASE: u64 = 1 << 62;

/// The events scopes recorded on another thread (a chunk of consecutive scopes, one after the
/// other), with provisional ids `LOCAL_BASE + k`.
#[derive(Debug, Default)]
pub(crate) struct Local {
    recs: Vec<Rec>,
    /// How many ids the scope took (also counted when history is off).
    count: u64,
    /// The time of the scope's events: one clock reading per batch of scopes (see
    /// [`Local::with_time`]), instead of one per event.
    time_ms: i64,
}

impl Local {
    /// An empty log whose events are stamped `time_ms`, with room for `events` events (what
    /// the previous chunk of a thread recorded: the log is not grown event by event).
    pub(crate) fn with_time(time_ms: i64, events: usize) -> Local {
        Local {
            recs: Vec::with_capacity(events),
            count: 0,
            time_ms,
        }
    }

    /// How many events the log holds (none when history is off).
    pub(crate) fn recorded(&self) -> usize {
        self.recs.len()
    }
}

impl Cursor {
    /// The top-level cursor.
    pub(crate) fn root(seed: u64) -> Cursor {
        Cursor::new(Arc::from(""), 0, seed)
    }

    fn new(scope: Arc<str>, last_id: u64, seed: u64) -> Cursor {
        Cursor {
            rng_seed: seed ^ crate::fnv::fnv1a(scope.as_bytes()),
            scope,
            seq: 0,
            last_id,
            silent: false,
            local: None,
            exec: None,
            rng: None,
        }
    }

    /// The cursor of child `index` (a branch or an iteration) of the Parallel or Map state whose
    /// `…Started` event was this cursor's event `started_seq`.
    pub(crate) fn child(&self, started_seq: u64, index: usize, base_seed: u64) -> Cursor {
        // `<parent>/<started_seq>.<index>`, written without `format!` (one per Map item).
        let mut scope = String::with_capacity(self.scope.len() + 24);
        if !self.scope.is_empty() {
            scope.push_str(&self.scope);
            scope.push('/');
        }
        push_decimal(&mut scope, started_seq);
        scope.push('.');
        push_decimal(&mut scope, index as u64);
        let scope: Arc<str> = scope.into();
        let mut c = Cursor::new(scope, self.last_id, base_seed);
        c.silent = self.silent;
        c.exec.clone_from(&self.exec);
        c
    }

    /// The next 64 random bits of this scope's deterministic sequence.
    pub(crate) fn next_u64(&mut self) -> u64 {
        let seed = self.rng_seed;
        self.rng
            .get_or_insert_with(|| SmallRng::seed_from_u64(seed))
            .next_u64()
    }

    /// A uniformly distributed number in `[0, 1)`.
    pub(crate) fn next_unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl workflow_asl::eval::Entropy for Cursor {
    fn next_u64(&mut self) -> u64 {
        Cursor::next_u64(self)
    }
}

/// Appends the decimal digits of `n`.
fn push_decimal(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Whether an event type closes the execution (the one event recorded past the history limit).
fn closes(ty: EventType) -> bool {
    matches!(
        ty,
        EventType::ExecutionSucceeded
            | EventType::ExecutionFailed
            | EventType::ExecutionTimedOut
            | EventType::ExecutionAborted
    )
}

/// What [`Recorder::record`] reports about the event it recorded (or found recorded).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Stamp {
    /// The event's id.
    pub(crate) id: u64,
    /// The event's timestamp (milliseconds since the epoch), `i64::MIN` when history is off
    /// (see [`Recorder::time_of`]).
    pub(crate) time_ms: i64,
}

#[derive(Debug, Default)]
struct Log {
    recs: Vec<Rec>,
    flushed: usize,
    /// Events delivered to the sink and dropped from `recs` (the history is not kept).
    dropped: usize,
    /// The ids and times of the last events dropped, newest last.
    recent: VecDeque<(u64, i64)>,
    /// States whose events wait for the next queued append (see [`Recorder::flush_state`]).
    held: usize,
    diverged: Option<String>,
    sink_failed: Option<SinkError>,
}

/// The recorder of one execution.
pub(crate) struct Recorder {
    level: HistoryLevel,
    pub(crate) clock: Clock,
    log: Mutex<Log>,
    /// The next event id. Counted even when history is off, for the "entered at the event id"
    /// part of error causes; taken under the log lock when events are recorded, so ids follow
    /// append order.
    next_id: AtomicU64,
    sink: Option<Arc<dyn EventSink>>,
    /// Whether the sink takes queued appends ([`EventSink::queues`]).
    queues: bool,
    /// Queued appends not yet known to be stored, oldest first.
    pending: Mutex<VecDeque<SinkFuture<'static>>>,
    /// Whether delivered events stay in memory for [`Recorder::into_history`] (default).
    keep: bool,
    flush_lock: tokio::sync::Mutex<()>,
    prior: Vec<HistoryEvent>,
    prior_index: HashMap<(String, u64), usize>,
    /// The most events the history may hold (0: no limit); see [`Recorder::history_full`].
    limit: u64,
    /// Set once an event was refused because the history reached `limit`.
    full: std::sync::atomic::AtomicBool,
    full_notify: tokio::sync::Notify,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("level", &self.level)
            .field("prior", &self.prior.len())
            .finish()
    }
}

impl Recorder {
    pub(crate) fn new(
        level: HistoryLevel,
        clock: Clock,
        sink: Option<Arc<dyn EventSink>>,
        prior: Vec<HistoryEvent>,
    ) -> Recorder {
        let prior_index = prior
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.scope.clone(), e.seq), i))
            .collect();
        let next_id = prior.iter().map(|e| e.id).max().unwrap_or(0) + 1;
        Recorder {
            level,
            clock,
            log: Mutex::new(Log::default()),
            next_id: AtomicU64::new(next_id),
            queues: sink.as_ref().is_some_and(|s| s.queues()),
            pending: Mutex::new(VecDeque::new()),
            keep: true,
            sink,
            flush_lock: tokio::sync::Mutex::new(()),
            prior,
            prior_index,
            limit: 0,
            full: std::sync::atomic::AtomicBool::new(false),
            full_notify: tokio::sync::Notify::new(),
        }
    }

    /// Limits the history to `limit` events (0: no limit), as AWS's quota of 25,000: once the
    /// next event would be the `limit`-th and is not the execution's closing event, it is not
    /// recorded, the execution faults (see [`Recorder::fault`]) and [`Recorder::history_full`]
    /// completes; the closing `ExecutionFailed` then takes id `limit`. Only with history on.
    pub(crate) fn with_history_limit(mut self, limit: u64) -> Recorder {
        self.limit = limit;
        self
    }

    /// Whether events delivered to the sink stay in memory (default `true`). With `false` (only
    /// with a sink), each event is dropped once it has been handed to the sink, so memory does
    /// not grow with the history; [`Recorder::into_history`] is then empty and readers read the
    /// sink's store.
    pub(crate) fn keep_history(mut self, keep: bool) -> Recorder {
        self.keep = keep || self.sink.is_none();
        self
    }

    /// Completes once the history reached its limit.
    pub(crate) async fn history_full(&self) {
        if !self.limited() {
            return std::future::pending().await;
        }
        loop {
            let notified = self.full_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.full.load(Ordering::SeqCst) {
                return;
            }
            notified.await;
        }
    }

    /// Whether the history's limit applies: there is one, and events are recorded or counted.
    #[inline]
    fn limited(&self) -> bool {
        self.limit > 0 && self.level != HistoryLevel::Off
    }

    /// Whether an event of type `ty` would pass the history's limit: the next id reached it and
    /// the event is not the execution's closing one.
    #[inline]
    fn refuses(&self, ty: EventType) -> bool {
        self.limited() && self.next_id.load(Ordering::Relaxed) >= self.limit && !closes(ty)
    }

    /// Marks the history full and wakes [`Recorder::history_full`].
    fn reach_limit(&self) {
        if !self.full.swap(true, Ordering::SeqCst) {
            self.full_notify.notify_waiters();
        }
    }

    /// Whether the history reached its limit.
    pub(crate) fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// The limit's cause (AWS's wording).
    pub(crate) fn limit_cause(&self) -> String {
        workflow_asl::limits::history_limit_cause(self.limit)
    }

    fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while the lock is held cannot leave the log inconsistent (every update is a
        // single push or counter change), so a poisoned lock is still usable.
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether events are recorded at all.
    #[inline]
    pub(crate) fn enabled(&self) -> bool {
        self.level == HistoryLevel::Full
    }

    /// Makes room for `events` more events (a hint from earlier executions of the program), so
    /// that a long history is not copied each time its log grows.
    pub(crate) fn reserve(&self, events: usize) {
        if self.enabled() && self.keep && events > 0 {
            self.log().recs.reserve(events);
        }
    }

    /// How many events this run recorded.
    pub(crate) fn recorded(&self) -> usize {
        if self.enabled() {
            let log = self.log();
            log.recs.len() + log.dropped
        } else {
            0
        }
    }

    /// The prior event at the cursor's next position, if replaying and it exists.
    pub(crate) fn prior_next(&self, cur: &Cursor) -> Option<&HistoryEvent> {
        if self.prior.is_empty() {
            return None;
        }
        self.prior_index
            .get(&(cur.scope.to_string(), cur.seq))
            .and_then(|&i| self.prior.get(i))
    }

    /// Records an event at the cursor's next position (the details are built only if needed).
    #[inline]
    pub(crate) fn record(
        &self,
        cur: &mut Cursor,
        ty: EventType,
        kind: impl FnOnce() -> EventKind,
    ) -> Stamp {
        self.record_at(cur, ty, None, kind)
    }

    /// [`Recorder::record`] with the event's time when the caller already read the clock (the
    /// exit of a state that never awaits takes its entry's time: one clock reading per state).
    #[inline]
    pub(crate) fn record_at(
        &self,
        cur: &mut Cursor,
        ty: EventType,
        at: Option<i64>,
        kind: impl FnOnce() -> EventKind,
    ) -> Stamp {
        if cur.silent {
            // Not recorded, but the position still advances: a state's place in a child
            // execution keys what is kept of a Map Run in it (`engine/distributed_map.rs`).
            cur.seq += 1;
            return Stamp {
                id: 0,
                time_ms: i64::MIN,
            };
        }
        if cur.local.is_some() {
            return self.record_local(cur, kind);
        }
        if !self.enabled() {
            // All of an execution's futures are polled by its one task, never concurrently, so a
            // plain load and store (no locked read-modify-write) counts ids exactly.
            if self.refuses(ty) {
                // As `record_slow` when the history is full (`HistoryLevel::Count`).
                self.reach_limit();
                return Stamp {
                    id: cur.last_id,
                    time_ms: i64::MIN,
                };
            }
            let id = self.next_id.load(Ordering::Relaxed);
            self.next_id.store(id + 1, Ordering::Relaxed);
            return Stamp {
                id,
                time_ms: i64::MIN,
            };
        }
        self.record_slow(cur, ty, at, kind)
    }

    /// [`Recorder::record`] into the cursor's [`Local`] log.
    #[inline(never)]
    fn record_local(&self, cur: &mut Cursor, kind: impl FnOnce() -> EventKind) -> Stamp {
        let enabled = self.enabled();
        let Some(local) = cur.local.as_mut() else {
            return Stamp {
                id: 0,
                time_ms: i64::MIN,
            };
        };
        let id = LOCAL_BASE + local.count;
        local.count += 1;
        if !enabled {
            return Stamp {
                id,
                time_ms: i64::MIN,
            };
        }
        let time_ms = local.time_ms;
        local.recs.push(Rec {
            id,
            prev: cur.last_id,
            time_ms,
            scope: (!cur.scope.is_empty()).then(|| Arc::clone(&cur.scope)),
            seq: cur.seq,
            kind: kind().into(),
        });
        cur.last_id = id;
        cur.seq += 1;
        Stamp { id, time_ms }
    }

    /// Whether scopes may record into [`Local`] logs and be merged afterwards: nothing is
    /// replayed and no sink waits for events.
    pub(crate) fn allows_local(&self) -> bool {
        self.prior.is_empty() && self.sink.is_none()
    }

    /// Whether [`Local`] logs of `events` events in all fit in the history's limit (if they do
    /// not, the scopes run again recording here, and the limit stops them where it falls).
    pub(crate) fn fits(&self, events: u64) -> bool {
        !self.limited() || self.next_id.load(Ordering::Relaxed).saturating_add(events) <= self.limit
    }

    /// The history's position now, for [`Recorder::rollback`].
    pub(crate) fn mark(&self) -> (usize, u64) {
        let log = self.log();
        (log.recs.len(), self.next_id.load(Ordering::Relaxed))
    }

    /// Takes back every event recorded since `mark` (scopes run on threads that failed, and run
    /// again; nothing else records meanwhile, since the execution's task waits for them).
    pub(crate) fn rollback(&self, mark: (usize, u64)) {
        let mut log = self.log();
        log.recs.truncate(mark.0);
        self.next_id.store(mark.1, Ordering::Relaxed);
    }

    /// The sink, when it keeps the progress of distributed Map Runs and this execution records
    /// its history ([`EventSink::keeps_map_progress`]).
    pub(crate) fn progress_sink(&self) -> Option<&Arc<dyn EventSink>> {
        self.sink
            .as_ref()
            .filter(|s| self.enabled() && s.keeps_map_progress())
    }

    /// Whether this run replays a recorded history (a resumed execution).
    pub(crate) fn replaying(&self) -> bool {
        !self.prior.is_empty()
    }

    /// Marks the sink failed (a write of Map Run progress failed): as after a failed append,
    /// nothing more is appended and the execution stops (see [`Recorder::fault`]).
    pub(crate) fn sink_failed(&self, e: SinkError) {
        let mut log = self.log();
        if log.sink_failed.is_none() {
            log.sink_failed = Some(e);
        }
    }

    /// How many ids a [`Local`] log took.
    pub(crate) fn local_count(local: &Local) -> u64 {
        local.count
    }

    /// Appends the events of a scope that recorded into a [`Local`] log, as if it had recorded
    /// them now: its ids follow the newest event (a provisional id or `previousEventId` of the
    /// log is renumbered; a `previousEventId` before the log stays).
    pub(crate) fn merge(&self, local: Local) {
        let mut log = self.log();
        let base = self.next_id.load(Ordering::Relaxed);
        self.next_id.store(base + local.count, Ordering::Relaxed);
        let renumber = |id: u64| {
            if id >= LOCAL_BASE {
                base + (id - LOCAL_BASE)
            } else {
                id
            }
        };
        log.recs.extend(local.recs.into_iter().map(|mut r| {
            r.id = renumber(r.id);
            r.prev = renumber(r.prev);
            r
        }));
    }

    fn record_slow(
        &self,
        cur: &mut Cursor,
        ty: EventType,
        at: Option<i64>,
        kind: impl FnOnce() -> EventKind,
    ) -> Stamp {
        if let Some(prior) = self.prior_next(cur) {
            let stamp = Stamp {
                id: prior.id,
                time_ms: parse_ms(&prior.timestamp).unwrap_or_else(|| self.clock.now_ms()),
            };
            if prior.kind.type_name() != ty.as_str() {
                // Name the state that diverged: the one running now, or the recorded one.
                let now = kind();
                let state = now
                    .state_name()
                    .or_else(|| prior.kind.state_name())
                    .map(|n| format!(" in state `{n}`"))
                    .unwrap_or_default();
                let mut log = self.log();
                if log.diverged.is_none() {
                    log.diverged = Some(format!(
                        "replay diverged from the recorded history at scope `{}` event {}{}: recorded `{}`, now `{}`",
                        cur.scope,
                        cur.seq,
                        state,
                        prior.kind.type_name(),
                        ty.as_str()
                    ));
                }
            }
            cur.last_id = prior.id;
            cur.seq += 1;
            return stamp;
        }
        let time_ms = at.unwrap_or_else(|| self.clock.now_ms());
        if self.refuses(ty) {
            // The history is full: the event is not recorded (memory stays bounded) and the
            // execution fails as soon as it checks (see `fault`) or yields (`history_full`).
            self.reach_limit();
            return Stamp {
                id: cur.last_id,
                time_ms,
            };
        }
        let kind = kind();
        debug_assert_eq!(kind.type_name(), ty.as_str());
        let mut log = self.log();
        // Every change of `next_id` while history is on happens under the log lock: a plain
        // load and store (no locked read-modify-write) counts exactly.
        let id = self.next_id.load(Ordering::Relaxed);
        self.next_id.store(id + 1, Ordering::Relaxed);
        log.recs.push(Rec {
            id,
            prev: cur.last_id,
            time_ms,
            scope: (!cur.scope.is_empty()).then(|| Arc::clone(&cur.scope)),
            seq: cur.seq,
            kind: kind.into(),
        });
        drop(log);
        cur.last_id = id;
        cur.seq += 1;
        Stamp { id, time_ms }
    }

    /// The timestamp of a stamp, reading the clock when history is off.
    pub(crate) fn time_of(&self, stamp: Stamp) -> i64 {
        if stamp.time_ms == i64::MIN {
            self.clock.now_ms()
        } else {
            stamp.time_ms
        }
    }

    /// The recorded time of event `id` (a prior event's or one recorded by this run), `None`
    /// when history is off or there is no such event. Prior events are in id order.
    pub(crate) fn time_of_event(&self, id: u64) -> Option<i64> {
        if !self.enabled() || id == 0 {
            return None;
        }
        if let Ok(i) = self.prior.binary_search_by_key(&id, |e| e.id) {
            return self.prior.get(i).and_then(|e| parse_ms(&e.timestamp));
        }
        let log = self.log();
        if let Ok(i) = log.recs.binary_search_by_key(&id, |r| r.id) {
            return log.recs.get(i).map(|r| r.time_ms);
        }
        log.recent
            .iter()
            .rev()
            .find(|(recent, _)| *recent == id)
            .map(|&(_, time)| time)
    }

    /// The id of the newest event (for chaining `previousEventId` after a join).
    pub(crate) fn last_id(&self) -> u64 {
        self.next_id.load(Ordering::Relaxed).saturating_sub(1)
    }

    /// [`Recorder::fault`], checked only when a fault is possible (replaying, or with a sink).
    #[inline]
    pub(crate) fn fault_if_possible(&self) -> Option<String> {
        if self.prior.is_empty() && self.sink.is_none() && !self.is_full() {
            None
        } else {
            self.fault()
        }
    }

    /// Why replay cannot continue, if it diverged, or the sink failed.
    pub(crate) fn fault(&self) -> Option<String> {
        let log = self.log();
        log.diverged
            .clone()
            .or_else(|| log.sink_failed.as_ref().map(ToString::to_string))
            .or_else(|| self.is_full().then(|| self.limit_cause()))
    }

    /// Sends every event recorded since the last flush to the sink and waits for it to store them
    /// (and every append queued before them).
    pub(crate) async fn flush(&self) -> Result<(), SinkError> {
        self.flush_leaving(0).await
    }

    /// The flush at the end of a state. With a sink that queues appends, one append is in
    /// flight at a time: while it is, the states that end are held and go together in the next
    /// one (one write for all of them, each state whole), so the store commits as fast as it can
    /// while the execution goes on; an execution waits only when [`MAX_QUEUED_STATES`] states
    /// are held. Every effect still waits for everything ([`Recorder::flush`]). With any other
    /// sink, the same as [`Recorder::flush`].
    pub(crate) async fn flush_state(&self) -> Result<(), SinkError> {
        let behind = if self.queues { MAX_QUEUED_STATES } else { 0 };
        self.flush_leaving(behind).await
    }

    /// Delivers the events recorded since the last flush and waits until they are stored (after
    /// every queued append); or, with `behind > 0` and a queuing sink, queues them — or holds
    /// them while an append is in flight and fewer than `behind` states are held.
    async fn flush_leaving(&self, behind: usize) -> Result<(), SinkError> {
        let Some(sink) = &self.sink else {
            return Ok(());
        };
        let _turn = self.flush_lock.lock().await;
        if !self.queues || behind == 0 {
            // Before an effect: everything queued first, then the rest appended directly (a
            // store that is idle commits it on this thread, without a thread switch).
            self.settle(true).await?;
            let batch = self.take_batch()?;
            if batch.is_empty() {
                return Ok(());
            }
            let result = sink.append(&batch).await;
            if let Err(e) = &result {
                self.log().sink_failed = Some(e.clone());
            }
            return result;
        }
        self.settle(false).await?;
        if !self.pending_appends().is_empty() {
            let held = {
                let mut log = self.log();
                log.held += 1;
                log.held
            };
            if held < behind {
                return Ok(());
            }
            self.settle(true).await?;
        }
        let batch = self.take_batch()?;
        if !batch.is_empty() {
            let queued = sink.append_queued(batch);
            self.pending_appends().push_back(queued);
        }
        Ok(())
    }

    /// Takes the acknowledged queued appends off the queue (all of them, waiting, with `wait`),
    /// failing at the first refused one.
    async fn settle(&self, wait: bool) -> Result<(), SinkError> {
        loop {
            let next = self.pending_appends().pop_front();
            let Some(mut next) = next else {
                return Ok(());
            };
            let result = if wait {
                next.as_mut().await
            } else {
                // Acknowledged already? (A store answers without being polled.)
                match next.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                    Poll::Ready(result) => result,
                    Poll::Pending => {
                        self.pending_appends().push_front(next);
                        return Ok(());
                    }
                }
            };
            if let Err(e) = result {
                // Every later append continues this one, so the store refuses them too.
                self.pending_appends().clear();
                self.log().sink_failed = Some(e.clone());
                return Err(e);
            }
        }
    }

    fn pending_appends(&self) -> MutexGuard<'_, VecDeque<SinkFuture<'static>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The events recorded since the last flush, rendered; dropped from memory when the history
    /// is not kept.
    fn take_batch(&self) -> Result<Vec<HistoryEvent>, SinkError> {
        let mut log = self.log();
        if let Some(e) = &log.sink_failed {
            return Err(e.clone());
        }
        let start = log.flushed;
        log.held = 0;
        let batch: Vec<HistoryEvent> = log.recs[start..].iter().map(Rec::render).collect();
        if self.keep {
            log.flushed = log.recs.len();
        } else {
            let n = log.recs.len();
            let times: Vec<(u64, i64)> = log.recs[n.saturating_sub(RECENT_TIMES)..]
                .iter()
                .map(|r| (r.id, r.time_ms))
                .collect();
            log.recent.extend(times);
            let excess = log.recent.len().saturating_sub(RECENT_TIMES);
            log.recent.drain(..excess);
            log.recs.clear();
            log.dropped += n;
            log.flushed = 0;
        }
        Ok(batch)
    }

    /// The whole history (the prior events, then this run's), rendered when first read.
    pub(crate) fn into_history(self) -> History {
        let log = self.log.into_inner().unwrap_or_else(|p| p.into_inner());
        if !self.keep {
            return History::new(Vec::new(), Vec::new());
        }
        History::new(self.prior, log.recs)
    }

    /// The whole history: the prior events, then this run's, rendered.
    #[cfg(test)]
    pub(crate) fn history(&self) -> Vec<HistoryEvent> {
        let log = self.log();
        let mut out = Vec::with_capacity(self.prior.len() + log.recs.len());
        out.extend(self.prior.iter().cloned());
        out.extend(log.recs.iter().map(Rec::render));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;

    struct Collect(StdMutex<Vec<HistoryEvent>>);

    impl EventSink for Collect {
        fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> crate::history::SinkFuture<'a> {
            Box::pin(async move {
                self.0.lock().unwrap().extend_from_slice(events);
                Ok(())
            })
        }
    }

    fn entered(name: &str) -> impl FnOnce() -> EventKind + '_ {
        entered_as(crate::history::StateType::Pass, name)
    }

    fn entered_as(
        state_type: crate::history::StateType,
        name: &str,
    ) -> impl FnOnce() -> EventKind + '_ {
        move || EventKind::StateEntered {
            state_type,
            name: name.into(),
            input: "{}".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn records_renders_and_flushes_in_order() {
        let sink = Arc::new(Collect(StdMutex::new(Vec::new())));
        let rec = Recorder::new(
            HistoryLevel::Full,
            Clock::starting_at(0),
            Some(sink.clone()),
            Vec::new(),
        );
        let mut root = Cursor::root(1);
        rec.record(&mut root, EventType::PassStateEntered, entered("A"));
        let mut child = root.child(1, 2, 1);
        assert_eq!(&*child.scope, "1.2");
        rec.record(&mut child, EventType::PassStateEntered, entered("B"));
        rec.flush().await.unwrap();
        let h = rec.history();
        assert_eq!(h.len(), 2);
        assert_eq!((h[1].id, h[1].previous_event_id, h[1].seq), (2, 1, 0));
        assert_eq!(h[1].scope, "1.2");
        assert_eq!(h[0].to_aws_json()["stateEnteredEventDetails"]["name"], "A");
        assert_eq!(sink.0.lock().unwrap().len(), 2);
    }

    #[test]
    fn replay_reuses_prior_events_and_detects_divergence() {
        let first = Recorder::new(HistoryLevel::Full, Clock::starting_at(5), None, Vec::new());
        let mut cur = Cursor::root(1);
        first.record(&mut cur, EventType::PassStateEntered, entered("A"));
        let prior = first.history();

        let second = Recorder::new(HistoryLevel::Full, Clock::starting_at(99), None, prior);
        let mut cur = Cursor::root(1);
        assert!(second.prior_next(&cur).is_some());
        let stamp = second.record(&mut cur, EventType::PassStateEntered, entered("A"));
        assert_eq!(stamp.time_ms, 5);
        second.record(&mut cur, EventType::PassStateExited, || {
            EventKind::StateExited {
                state_type: crate::history::StateType::Pass,
                name: "A".into(),
                output: "{}".into(),
            }
        });
        let h = second.history();
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].id, 2);
        assert!(second.fault().is_none());

        let third = Recorder::new(HistoryLevel::Full, Clock::starting_at(99), None, h);
        let mut cur = Cursor::root(1);
        third.record(
            &mut cur,
            EventType::TaskStateEntered,
            entered_as(crate::history::StateType::Task, "A"),
        );
        let fault = third.fault().unwrap();
        assert!(fault.contains("diverged"), "{fault}");
        assert!(fault.contains("in state `A`"), "{fault}");
        assert!(
            fault.contains("recorded `PassStateEntered`, now `TaskStateEntered`"),
            "{fault}"
        );
    }

    /// The ids of a queued append, and what completes it.
    type Queued = (Vec<u64>, Option<tokio::sync::oneshot::Sender<()>>);

    /// A queuing sink whose queued appends complete only when the test says so.
    #[derive(Default)]
    struct Gated {
        queued: StdMutex<Vec<Queued>>,
        direct: StdMutex<Vec<Vec<u64>>>,
    }

    impl EventSink for Gated {
        fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> crate::history::SinkFuture<'a> {
            self.direct
                .lock()
                .unwrap()
                .push(events.iter().map(|e| e.id).collect());
            Box::pin(async { Ok(()) })
        }

        fn queues(&self) -> bool {
            true
        }

        fn append_queued(&self, events: Vec<HistoryEvent>) -> crate::history::SinkFuture<'static> {
            let (tx, rx) = tokio::sync::oneshot::channel();
            self.queued
                .lock()
                .unwrap()
                .push((events.iter().map(|e| e.id).collect(), Some(tx)));
            Box::pin(async move { rx.await.map_err(|_| SinkError("dropped".into())) })
        }
    }

    impl Gated {
        fn release(&self, k: usize) {
            if let Some(tx) = self.queued.lock().unwrap()[k].1.take() {
                let _ = tx.send(());
            }
        }

        fn queued_ids(&self) -> Vec<Vec<u64>> {
            self.queued
                .lock()
                .unwrap()
                .iter()
                .map(|(ids, _)| ids.clone())
                .collect()
        }
    }

    /// With a queuing sink, one append is in flight at a time; the states that end meanwhile are
    /// held (whole) for the next one, up to `MAX_QUEUED_STATES`, where the execution waits; an
    /// effect's flush waits for every queued append, then appends the rest directly.
    #[tokio::test(start_paused = true)]
    async fn queued_appends_hold_whole_states_and_bound_the_lag() {
        let sink = Arc::new(Gated::default());
        let rec = Recorder::new(
            HistoryLevel::Full,
            Clock::starting_at(0),
            Some(sink.clone()),
            Vec::new(),
        );
        let mut cur = Cursor::root(1);
        // A state: two events, then the end-of-state flush.
        let state = |rec: &Recorder, cur: &mut Cursor| {
            rec.record(cur, EventType::PassStateEntered, entered("A"));
            rec.record(cur, EventType::PassStateExited, || EventKind::StateExited {
                state_type: crate::history::StateType::Pass,
                name: "A".into(),
                output: "{}".into(),
            });
        };
        state(&rec, &mut cur);
        rec.flush_state().await.expect("queued");
        assert_eq!(sink.queued_ids(), [vec![1, 2]]);
        // While it is in flight, states are held, without waiting, until the bound.
        for _ in 1..MAX_QUEUED_STATES {
            state(&rec, &mut cur);
            rec.flush_state().await.expect("held");
        }
        assert_eq!(sink.queued_ids().len(), 1);
        state(&rec, &mut cur);
        {
            let at_bound = rec.flush_state();
            tokio::pin!(at_bound);
            assert!(
                futures::poll!(at_bound.as_mut()).is_pending(),
                "the execution waits at the bound"
            );
            sink.release(0);
            at_bound.await.expect("released");
        }
        let queued = sink.queued_ids();
        assert_eq!(queued.len(), 2);
        let held = 2 * MAX_QUEUED_STATES as u64;
        assert_eq!(
            queued[1],
            (3..=held + 2).collect::<Vec<_>>(),
            "whole states, in order"
        );
        // An effect: waits for the queued append, then appends the rest directly.
        state(&rec, &mut cur);
        {
            let effect = rec.flush();
            tokio::pin!(effect);
            assert!(futures::poll!(effect.as_mut()).is_pending());
            sink.release(1);
            effect.await.expect("flushed");
        }
        assert_eq!(
            *sink.direct.lock().unwrap(),
            [vec![held + 3, held + 4]],
            "appended after everything queued before it"
        );
        assert_eq!(rec.history().len() as u64, held + 4);
    }

    /// The history's JSON text, written from the compact records with each payload escaped
    /// once and copied for the next event that shares it, is byte for byte every event's own
    /// rendering, across the 64 KiB pages it is written in.
    #[test]
    fn history_text_is_each_events_rendering_with_shared_payloads_across_pages() {
        use crate::history::StateType;
        let rec = Recorder::new(HistoryLevel::Full, Clock::starting_at(0), None, Vec::new());
        let mut cur = Cursor::root(1);
        let mut text: Arc<str> = Arc::from(r#"{"n":0}"#);
        for i in 0..3000 {
            // An `…Exited` output is the next `…Entered` input, one `Arc`.
            rec.record(&mut cur, EventType::PassStateEntered, || {
                EventKind::StateEntered {
                    state_type: StateType::Pass,
                    name: "A \"quoted\"".into(),
                    input: Arc::clone(&text),
                }
            });
            let out: Arc<str> = Arc::from(format!(
                "{{\"n\":{i},\"s\":\"tab\there \\\"q\\\" \\\\ \u{1} é 🎉 {}\"}}",
                "x".repeat(i % 40)
            ));
            rec.record(&mut cur, EventType::PassStateExited, || {
                EventKind::StateExited {
                    state_type: StateType::Pass,
                    name: "A \"quoted\"".into(),
                    output: Arc::clone(&out),
                }
            });
            text = out;
        }
        let history = rec.into_history();
        let mut written = Vec::new();
        history.write_aws_json(&mut written).expect("written");
        assert!(written.len() > 4 * 64 * 1024, "{}", written.len());
        let mut each = String::from("[");
        for (k, e) in history.events().iter().enumerate() {
            if k > 0 {
                each.push(',');
            }
            e.write_aws_json(&mut each);
        }
        each.push(']');
        assert_eq!(String::from_utf8(written).expect("UTF-8"), each);
    }

    #[test]
    fn cursors_have_independent_deterministic_randomness() {
        let root = Cursor::root(42);
        let mut a = root.child(3, 0, 42);
        let mut b = root.child(3, 0, 42);
        let mut c = root.child(3, 1, 42);
        let x = a.next_u64();
        assert_eq!(x, b.next_u64());
        assert_ne!(x, c.next_u64());
        let u = a.next_unit();
        assert!((0.0..1.0).contains(&u));
    }

    #[test]
    fn child_scopes_name_their_path() {
        let root = Cursor::root(1);
        let child = root.child(1, 2, 1);
        assert_eq!(&*child.scope, "1.2");
        assert_eq!(&*child.child(10, 345, 1).scope, "1.2/10.345");
        assert_eq!(
            &*root.child(u64::MAX, 0, 1).scope,
            format!("{}.0", u64::MAX)
        );
    }
}
