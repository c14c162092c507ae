//! A distributed Map over an object store: `ItemReader`, `ItemBatcher`, `ResultWriter`.
//!
//! The items stream from the reader (or from the input, when the state has no reader) through
//! `ItemSelector` and the batcher into child executions, at most `MaxConcurrency` at a time;
//! each child's result goes to the result writer as it completes (or into the state output when
//! nothing is exported). Memory is thus bounded by the concurrency and the batch size, not by the
//! item count, except for the state output itself when results are not exported.
//!
//! Failures follow AWS: a failed batch counts each of its items against
//! `ToleratedFailureCount`/`ToleratedFailurePercentage`; exceeding them fails the state with
//! `States.ExceedToleratedFailureThreshold`; a reader error with `States.ItemReaderFailed`, a
//! writer error with `States.ResultWriterFailed`. Results already written stay written: the
//! writer writes its files and manifest before the state fails.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};
use workflow_asl::error::names;
use workflow_asl::eval::{java_json, Env};

use super::context::build_context;
use super::errors::{Recovery, Retrier};
use super::io::{as_float, as_integer, display, number_path};
use super::map::{tolerance, Tolerance, DISTRIBUTED_MAP_CONCURRENCY};
use super::{wrap_failure, Entered, Exec, ExecInfo, Fault, StateCx, StateError, Step, Vars};
use crate::distributed::batcher::{BatchLimits, Batcher};
use crate::distributed::reader::{self, ReaderPlan};
use crate::distributed::writer::{
    transform, ChildRecord, ChildStatus, RenderedBatch, Renderer, ResultWriter, SucceededChild,
    Transformation, WriterPlan,
};
use crate::distributed::DistError;
use crate::history::{ErrorDetails, EventKind, EventSink, EventType, SinkError, SinkFuture};
use crate::jtemplate::JState;
use crate::program::{CState, DistK, MapK, NumberSource};
use crate::recorder::Cursor;
use crate::store::{MapChild, MapChildOutcome, MapRunFailure, MapRunState};

/// The settings of one Map Run, evaluated from the JSONPath or the JSONata fields.
struct Settings {
    limit: usize,
    tolerated: Tolerance,
    /// The parts of the run.
    reader: Option<ReaderSettings>,
    items: Option<Value>,
    batcher: Option<(BatchLimits, Option<Value>)>,
    writer: Option<(Value, Option<Value>)>,
}

/// `ItemReader` (its `ReaderConfig` evaluated), its `Parameters`/`Arguments`, and `MaxItems`
/// (0: all; negative is refused when the Map Run starts, as AWS does).
type ReaderSettings = (Value, Value, i64);

/// What the children of a Map Run are made from and written to.
struct RunParts {
    /// The children are EXPRESS executions.
    express: bool,
    reader: Option<ReaderSettings>,
    items: Option<Value>,
    batcher: Option<(BatchLimits, Option<Value>)>,
    writer: Option<(Value, Option<Value>)>,
}

/// One Map Run of [`Exec::run_children`]: where its events go, its limits, its parts and its
/// names.
struct MapRun<'r> {
    /// The Map's `MapStateStarted` event (the parent of the children's scopes).
    started_seq: u64,
    /// The most children running at once.
    limit: usize,
    tolerated: Tolerance,
    parts: RunParts,
    /// The Map Run's ARN and id, and its label (`Label`, else the state's name).
    arn: &'r str,
    id: &'r str,
    label: &'r str,
    /// For a Map Run nested in a child, the hash of its settings ([`settings_hash`]), part of
    /// the key its progress is kept under.
    nested: Option<u64>,
}

/// 64-bit FNV-1a over a Map Run's evaluated settings (concurrency, tolerated failures, reader,
/// items, batcher, writer). A Map Run nested in a child is keyed by it too: the child's states
/// before the Map are not recorded, so a child run again (its task results drawn again) may
/// give its Map other items or settings, and must not then take the progress recorded under
/// the former ones (a recorded child is still used only for the same input).
fn settings_hash(s: &Settings) -> u64 {
    let max_items = s.reader.as_ref().map(|r| Value::from(r.2));
    let limits = s
        .batcher
        .as_ref()
        .map(|(l, _)| json!([l.max_items, l.max_bytes]));
    let mut values = Vec::with_capacity(8);
    if let Some((raw, args, _)) = &s.reader {
        values.extend([Some(raw), Some(args), max_items.as_ref()]);
    }
    values.push(s.items.as_ref());
    if let Some((_, batch_input)) = &s.batcher {
        values.extend([limits.as_ref(), batch_input.as_ref()]);
    }
    if let Some((raw, args)) = &s.writer {
        values.extend([Some(raw), args.as_ref()]);
    }
    hash_settings(s.limit, &s.tolerated, values)
}

/// [`settings_hash`] from its parts: the concurrency limit, the tolerated failures, then each
/// present part (`None`: written as `null`). `engine/map.rs` keys a distributed Map over its
/// input alone by its limit, tolerance and items.
pub(super) fn hash_settings<'v>(
    limit: usize,
    t: &Tolerance,
    values: impl IntoIterator<Item = Option<&'v Value>>,
) -> u64 {
    use std::io::Write;
    let mut h = crate::fnv::Fnv::new();
    // Writing into a hash cannot fail, nor can serialising a `Value`.
    let _ = write!(
        h,
        "{}|{}|{:?}|{:?}|",
        limit, t.configured, t.count, t.percentage
    );
    for v in values {
        let _ = serde_json::to_writer(&mut h, &v);
        h.bytes(b"|");
    }
    h.finish()
}

/// What selecting a child's input reads ([`Exec::next_child`]): the Map state, its
/// `…Entered` event, its compiled form, its effective input and the variables.
struct Selection<'s> {
    st: &'s CState,
    entered: Entered,
    m: &'s MapK,
    value: &'s Value,
    vars: &'s Vars,
}

/// A finished child's record for the writer, from its execution's facts (not copied when
/// nothing else holds them).
fn record(info: Arc<ExecInfo>, status: ChildStatus, stop_date: String) -> ChildRecord {
    let info = Arc::try_unwrap(info).unwrap_or_else(|shared| (*shared).clone());
    ChildRecord {
        execution_arn: info.execution_arn,
        name: info.name,
        state_machine_arn: info.state_machine_arn.to_string(),
        input: info.input,
        status,
        start_date: info.start_time,
        stop_date,
    }
}

/// About how many bytes a child's entry takes in a result file (a first guess for the buffers
/// of [`RoundOut`]; they grow past it).
const ENTRY_BYTES: usize = 768;

/// The entries of one chunk of a round's children (see [`THREADED_CHUNK`]), rendered by the
/// thread that ran them, right after each ran.
struct ChunkOut {
    batch: RenderedBatch,
    /// The round position of the chunk's next child: the chunk is rendered in child order
    /// (else `disordered`, and the round runs again as futures).
    next: usize,
    disordered: bool,
    /// The last stop date written, and the clock reading it is of (one formatting per
    /// millisecond, not per child).
    stop_ms: i64,
    stop: String,
}

/// A round's rendered entries, a [`ChunkOut`] per chunk, in child order.
struct RoundOut {
    renderer: Renderer,
    chunks: Vec<std::sync::Mutex<ChunkOut>>,
}

impl RoundOut {
    fn new(renderer: Renderer, children: usize) -> RoundOut {
        let chunks = (0..children.div_ceil(THREADED_CHUNK))
            .map(|k| {
                std::sync::Mutex::new(ChunkOut {
                    batch: RenderedBatch::default(),
                    next: k * THREADED_CHUNK,
                    disordered: false,
                    stop_ms: i64::MIN,
                    stop: String::new(),
                })
            })
            .collect();
        RoundOut { renderer, chunks }
    }

    /// Renders the succeeded child at round position `i`, stopped at `now_ms`.
    fn render(
        &self,
        i: usize,
        info: &ExecInfo,
        output: &Value,
        now_ms: i64,
    ) -> Result<(), DistError> {
        let Some(chunk) = self.chunks.get(i / THREADED_CHUNK) else {
            return Err(DistError::writer("a child outside its round"));
        };
        let mut c = chunk.lock().unwrap_or_else(|p| p.into_inner());
        let c = &mut *c;
        if i != c.next {
            c.disordered = true;
        }
        c.next = i + 1;
        if c.batch.is_empty() {
            c.batch = RenderedBatch::with_capacity(THREADED_CHUNK, ENTRY_BYTES);
        }
        if c.stop_ms != now_ms {
            c.stop_ms = now_ms;
            c.stop = crate::clock::format_ms(now_ms);
        }
        let child = SucceededChild {
            execution_arn: &info.execution_arn,
            name: &info.name,
            state_machine_arn: &info.state_machine_arn,
            input: &info.input,
            output,
            start_date: &info.start_time,
            stop_date: &c.stop,
        };
        self.renderer.render_succeeded(child, &mut c.batch)
    }

    /// The batches in child order, if every child of the round was rendered in order.
    fn batches(self, children: usize) -> Option<Vec<RenderedBatch>> {
        let mut out = Vec::with_capacity(self.chunks.len());
        let mut total = 0;
        for chunk in self.chunks {
            let c = chunk.into_inner().unwrap_or_else(|p| p.into_inner());
            if c.disordered {
                return None;
            }
            total += c.batch.len();
            out.push(c.batch);
        }
        (total == children).then_some(out)
    }
}

/// A round whose entries are rendered and not yet appended to the result files: they are
/// appended while the next round runs, and the round's executions freed.
type Unpushed = (Vec<RenderedBatch>, Vec<(usize, usize, Arc<ExecInfo>)>);

/// Appends a rendered round's entries, in child order, and frees its children.
fn push_round(writer: &mut ResultWriter, (batches, round): Unpushed) -> Result<(), DistError> {
    let r = batches.iter().try_for_each(|b| writer.push_batch(b));
    drop(round);
    r
}

/// A round of children (index, items held, execution) and the reader's error that ended it.
type Round = (Vec<(usize, usize, Arc<ExecInfo>)>, Option<StateError>);

/// A finished child: its index, how many items it held, its execution, its result, and its
/// stop date when it was recorded by an earlier run ([`Progress`]).
type Completed = (
    usize,
    usize,
    Arc<ExecInfo>,
    Result<Value, Fault>,
    Option<String>,
);

/// How many children a round on all cores takes from the reader at once (their inputs and
/// outputs are held until the round ends).
const THREADED_ROUND: usize = 4096;

/// How many children one thread takes at a time in a round.
const THREADED_CHUNK: usize = 64;

type ItemSource<'a> = Box<dyn Iterator<Item = Result<Value, DistError>> + Send + 'a>;

/// How many recorded children a resumed Map Run reads from the store at a time.
const PROGRESS_PAGE: usize = 4096;

/// How many finished children are handed to the store together while children keep finishing
/// without a wait (each write is a commit, a few tens of µs; a child that never awaits, a µs).
const PROGRESS_BATCH: usize = 256;

/// How many finished children may wait for the write in flight before the Map Run waits for it.
const PROGRESS_HELD: usize = 65_536;

/// 64-bit FNV-1a over a value's compact JSON text ([`MapChild::input_hash`]).
pub(super) fn input_hash(v: &Value) -> u64 {
    let mut h = crate::fnv::Fnv::new();
    // Writing into a hash cannot fail, nor can serialising a `Value`.
    let _ = serde_json::to_writer(&mut h, v);
    h.finish()
}

/// The durable progress of one Map Run, in a sink that keeps it
/// ([`EventSink::keeps_map_progress`]): the children an earlier run of this execution finished
/// (read a page at a time, in index order, as the children come up), and the children this run
/// finishes. Those are handed to the sink whenever the Map Run is about to wait for a child
/// (so a child that took its time is stored at once), and otherwise, while children finish
/// back to back, [`PROGRESS_BATCH`] at a time with one write in flight (the children that
/// finish while it is go together in the next): the store commits in batches while the
/// children go on. Also kept by a distributed Map over its input alone (`engine/map.rs`).
pub(super) struct Progress {
    sink: Arc<dyn EventSink>,
    /// The Map Run's key: the scope and position of its `MapStateStarted` event and its id.
    run: String,
    /// Recorded children not yet reached, in index order.
    page: VecDeque<MapChild>,
    /// The index the next page starts at.
    next_from: u64,
    /// No more recorded children in the store (at once when nothing is replayed).
    exhausted: bool,
    /// Finished children not yet handed to the sink.
    buffer: Vec<MapChild>,
    /// Writes handed to the sink and not yet known to be stored, oldest first.
    in_flight: VecDeque<SinkFuture<'static>>,
    /// Where the Map Run stands, written with each batch: the failed items counted and the
    /// failure a child decided. A resumed run starts from the recorded one.
    state: MapRunState,
    /// Whether `state` holds the recorded failures: `false` for a Map Run an earlier version
    /// recorded without a state, whose recorded failures are then counted (and judged) as the
    /// children come up, as that version did, and whose state is not written.
    tallied: bool,
}

/// A child's outcome as the store keeps it: its output, or a failure that is not the whole
/// execution's (a limit, the store); `None` for a child that was cancelled or failed so.
pub(super) fn kept_outcome(r: &Result<Value, Fault>) -> Option<MapChildOutcome> {
    match r {
        Ok(v) => Some(MapChildOutcome::Succeeded(
            serde_json::to_string(v).unwrap_or_default(),
        )),
        Err(Fault::Error(e)) if !e.terminal => Some(MapChildOutcome::Failed {
            error: e.error.clone(),
            cause: e.cause.clone(),
        }),
        Err(_) => None,
    }
}

impl Progress {
    /// The progress of the Map Run `id` whose `MapStateStarted` is at `started_seq` in `cur`'s
    /// scope (and, for one nested in a child, whose settings hash to `nested`), with what an
    /// earlier run recorded of it when this run is a replay; `None` when the sink keeps none
    /// or the scope runs on another thread. Everything before the Map Run (its input among it)
    /// is stored first, so a record always belongs to the Map Run its history leads to.
    pub(super) async fn open(
        ex: &Exec,
        cur: &Cursor,
        started_seq: u64,
        id: &str,
        nested: Option<u64>,
    ) -> Result<Option<Progress>, Fault> {
        let Some(sink) = ex.rec.progress_sink().filter(|_| cur.local.is_none()) else {
            return Ok(None);
        };
        let sink = Arc::clone(sink);
        ex.flush().await?;
        let mut run = format!("{}#{started_seq}:{id}", cur.scope);
        if let Some(h) = nested {
            run.push_str(&format!(":{h:016x}"));
        }
        let mut p = Progress {
            sink,
            run,
            page: VecDeque::new(),
            next_from: 0,
            exhausted: !ex.rec.replaying(),
            buffer: Vec::new(),
            in_flight: VecDeque::new(),
            state: MapRunState::default(),
            tallied: true,
        };
        if ex.rec.replaying() {
            if let Err(e) = p.resume().await {
                return Err(ex.progress_failed(e).into());
            }
        }
        Ok(Some(p))
    }

    /// The failed items counted and the failure that ended the Map Run, where a resumed Map
    /// Run starts from (none for a fresh one, or one recorded without a state).
    pub(super) fn start(&self) -> (usize, Option<StateError>) {
        if !self.tallied {
            return (0, None);
        }
        let failure = self.state.failure.as_ref().map(|f| StateError {
            error: f.error.clone(),
            cause: f.cause.clone(),
            terminal: false,
        });
        let failed = usize::try_from(self.state.failed_items).unwrap_or(usize::MAX);
        (failed, failure)
    }

    /// Whether the recorded failures are counted already ([`Progress::start`]); else each is
    /// counted and judged when met, as a store without states had it.
    pub(super) fn tallied(&self) -> bool {
        self.tallied
    }

    /// The outcome, start and stop dates an earlier run recorded for child `index` if it
    /// finished with an input of the same hash (`hash`, computed only when there is a record:
    /// a child whose input changed runs again). `name` names the Map Run in the error for an
    /// output that is not JSON.
    pub(super) async fn recorded_outcome(
        &mut self,
        index: usize,
        hash: impl FnOnce() -> u64,
        name: &str,
    ) -> Result<Option<(Result<Value, Fault>, String, String)>, SinkError> {
        let recorded = self.recorded(index).await?;
        let Some(c) = recorded.filter(|c| c.input_hash == hash()) else {
            return Ok(None);
        };
        let result = match c.outcome {
            MapChildOutcome::Succeeded(text) => {
                let v = serde_json::from_str::<Value>(&text).map_err(|e| {
                    SinkError(format!(
                        "the recorded output of child {index} of the Map Run {name} is not JSON: {e}"
                    ))
                })?;
                Ok(v)
            }
            MapChildOutcome::Failed { error, cause } => Err(Fault::Error(StateError {
                error,
                cause,
                terminal: false,
            })),
        };
        Ok(Some((result, c.start_date, c.stop_date)))
    }

    /// A child this run finished with `outcome` ([`kept_outcome`]) from an input of hash
    /// `hash`: it is handed to the sink with the next batch, with the Map Run's state after it
    /// (the failed items counted, and `ended`, the failure this child's outcome decided, if it
    /// did).
    pub(super) async fn child_done(
        &mut self,
        (index, hash): (usize, u64),
        (start_date, stop_date): (String, String),
        outcome: MapChildOutcome,
        failed_items: usize,
        ended: Option<&StateError>,
    ) -> Result<(), SinkError> {
        self.state.failed_items = failed_items as u64;
        if let Some(f) = ended {
            self.state.failure = Some(MapRunFailure {
                error: f.error.clone(),
                cause: f.cause.clone(),
            });
        }
        self.finished(MapChild {
            index: index as u64,
            input_hash: hash,
            start_date,
            stop_date,
            outcome,
        })
        .await
    }

    /// Reads what an earlier run recorded of this Map Run: its state, else whether it has
    /// recorded children (then it was recorded without a state).
    async fn resume(&mut self) -> Result<(), SinkError> {
        if let Some(state) = self.sink.load_map_run(&self.run).await? {
            self.state = state;
            return Ok(());
        }
        let got = self
            .sink
            .load_map_children(&self.run, 0, PROGRESS_PAGE)
            .await?;
        self.exhausted = got.len() < PROGRESS_PAGE;
        self.next_from = got.last().map_or(0, |c| c.index.saturating_add(1));
        self.tallied = got.is_empty();
        self.page.extend(got);
        Ok(())
    }

    /// Whether recorded children may remain to be met.
    fn more(&self) -> bool {
        !self.page.is_empty() || !self.exhausted
    }

    /// No recorded child is looked up any more (the items ended early: the reader failed).
    fn forget(&mut self) {
        self.page.clear();
        self.exhausted = true;
    }

    /// The record of child `index`, if an earlier run finished it.
    async fn recorded(&mut self, index: usize) -> Result<Option<MapChild>, SinkError> {
        let index = index as u64;
        loop {
            while self.page.front().is_some_and(|c| c.index < index) {
                self.page.pop_front();
            }
            match self.page.front() {
                Some(c) if c.index == index => return Ok(self.page.pop_front()),
                Some(_) => return Ok(None),
                None if self.exhausted => return Ok(None),
                None => {}
            }
            let from = self.next_from.max(index);
            let got = self
                .sink
                .load_map_children(&self.run, from, PROGRESS_PAGE)
                .await?;
            self.exhausted = got.len() < PROGRESS_PAGE;
            self.next_from = got.last().map_or(from, |c| c.index.saturating_add(1));
            self.page.extend(got);
        }
    }

    /// Takes the writes the sink has acknowledged off the queue (without waiting), failing at
    /// the first refused one.
    fn acknowledged(&mut self) -> Result<(), SinkError> {
        while let Some(f) = self.in_flight.front_mut() {
            match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(r) => {
                    self.in_flight.pop_front();
                    r?;
                }
                Poll::Pending => break,
            }
        }
        Ok(())
    }

    /// Hands the buffered children to the sink.
    fn write(&mut self) {
        if !self.buffer.is_empty() {
            let children = std::mem::take(&mut self.buffer);
            let state = self.tallied.then(|| self.state.clone());
            let written = self.sink.record_map_children(&self.run, children, state);
            self.in_flight.push_back(written);
        }
    }

    /// A child finished: it is handed to the sink with the next batch.
    async fn finished(&mut self, child: MapChild) -> Result<(), SinkError> {
        self.buffer.push(child);
        self.acknowledged()?;
        if self.buffer.len() >= PROGRESS_HELD {
            // The store is far behind: wait for it rather than hold more.
            while let Some(f) = self.in_flight.pop_front() {
                f.await?;
            }
        }
        if self.in_flight.is_empty() && self.buffer.len() >= PROGRESS_BATCH {
            self.write();
        }
        Ok(())
    }

    /// The Map Run is about to wait for a child: every finished child goes to the sink now.
    pub(super) fn waiting(&mut self) -> Result<(), SinkError> {
        self.acknowledged()?;
        self.write();
        Ok(())
    }

    /// Waits until every finished child is stored.
    pub(super) async fn settle(&mut self) -> Result<(), SinkError> {
        self.write();
        while let Some(f) = self.in_flight.pop_front() {
            f.await?;
        }
        Ok(())
    }
}

/// The child executions of one Map Run: each runs as an execution of its own, as on AWS, whose
/// ARN is `arn:…:execution:<machine>/<Label>:<uuid>` and whose state machine is
/// `arn:…:stateMachine:<machine>/<Label>` (AWS's ResultWriter example in "ResultWriter (Map)"
/// shows `execution:orderProcessing/getOrders:da4e9fc7-…` for the Map labelled `getOrders`). The
/// UUIDs are drawn from the Map Run's id, so a replay names the children alike.
struct Children {
    exec_prefix: String,
    state_machine_arn: Arc<str>,
    state_machine_name: Arc<str>,
    role_arn: Arc<str>,
    express: bool,
    rng: rand::rngs::SmallRng,
    clock: crate::clock::Clock,
}

impl Children {
    fn new(ex: &Exec, label: &str, map_run_id: &str, express: bool) -> Children {
        let sm_arn = &ex.info.state_machine_arn;
        // FNV-1a of the Map Run's id: the children's names follow from it.
        let seed = crate::fnv::fnv1a(map_run_id.as_bytes());
        Children {
            exec_prefix: format!(
                "{}/{label}:",
                sm_arn.replacen(":stateMachine:", ":execution:", 1)
            ),
            state_machine_arn: format!("{sm_arn}/{label}").into(),
            state_machine_name: format!("{}/{label}", ex.info.state_machine_name).into(),
            role_arn: Arc::clone(&ex.info.role_arn),
            express,
            rng: rand::rngs::SmallRng::seed_from_u64(ex.seed ^ seed),
            clock: ex.rec.clock,
        }
    }

    /// The next child execution, started now with `input`.
    fn next(&mut self, input: Value) -> Arc<ExecInfo> {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        let name = uuid::Builder::from_random_bytes(bytes)
            .into_uuid()
            .to_string();
        let mut execution_arn = String::with_capacity(self.exec_prefix.len() + name.len());
        execution_arn.push_str(&self.exec_prefix);
        execution_arn.push_str(&name);
        Arc::new(ExecInfo {
            execution_arn,
            express: self.express,
            name,
            state_machine_arn: Arc::clone(&self.state_machine_arn),
            state_machine_name: Arc::clone(&self.state_machine_name),
            role_arn: Arc::clone(&self.role_arn),
            start_time: crate::clock::format_ms(self.clock.now_ms()),
            input,
        })
    }
}

/// Turns items into child inputs: `ItemSelector`, then the batcher.
struct Feeder<'a> {
    source: ItemSource<'a>,
    batcher: Option<Batcher>,
    ready: VecDeque<(Value, usize)>,
    next_index: usize,
    /// Items read so far.
    items: usize,
    done: bool,
}

fn dist_error(e: DistError) -> StateError {
    StateError::new(e.error, e.cause)
}

/// An integer from a `…` / `…Path` field (`None` when absent).
fn dist_number(
    cx: &StateCx<'_>,
    src: Option<&NumberSource>,
    value: &Value,
    ctx: &Value,
    field: &str,
) -> Result<Option<i64>, StateError> {
    let Some(src) = src else { return Ok(None) };
    let v = cx.number(src, value, ctx)?;
    match as_integer(&v) {
        Some(n) => Ok(Some(n)),
        None => Err(cx.runtime(&format!(
            "The {field} field refers to value \"{}\" which is not a valid integer: {}",
            display(&v),
            number_path(src)
        ))),
    }
}

impl Exec {
    /// Runs a Map state with an `ItemReader`, `ItemBatcher` or `ResultWriter`, with retries
    /// and catchers as any Map.
    pub(super) async fn distributed_map(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        m: &MapK,
        d: &DistK,
    ) -> Result<Step, Fault> {
        let st = cx.st;
        let mut input = input;
        let mut retrier = Retrier::new(
            &m.errors,
            Some((EventType::MapStateFailed, EventKind::MapStateFailed)),
        );
        loop {
            let ctx = self.context_if_needed(cx, retrier.count());
            let eff = cx.input_path(&input, &ctx)?;
            let value = eff.get(&input);
            let run = match self.start_map(cx, m, d, value, &ctx, retrier.count()) {
                Ok((settings, started_seq)) => {
                    self.map_run(cx, m, d, value, settings, started_seq).await
                }
                // A `States.Runtime` error of the settings fails the state at once, without
                // `MapStateFailed` (as AWS recorded); any other goes to the retriers and catchers.
                Err(e) if e.error.as_deref() == Some(names::RUNTIME) => return Err(e.into()),
                Err(e) => Err(e.into()),
            };
            let failure = match run {
                Ok(result) => {
                    // JSONata: `Output` and `Assign` see the results as `$states.result`.
                    let jctx = st
                        .jsonata
                        .as_ref()
                        .map(|_| self.j_context(cx, retrier.count()));
                    let finished = cx.finish_result(
                        st.jsonata
                            .as_deref()
                            .zip(jctx.as_ref())
                            .map(|(j, c)| (j, value, c)),
                        &input,
                        result,
                        (m.result_selector.as_ref(), &m.result_path),
                        &ctx,
                    );
                    match finished {
                        Ok(output) => return Ok(Step::to(output, st.next)),
                        Err(e) => e,
                    }
                }
                Err(Fault::Cancelled) => return Err(Fault::Cancelled),
                Err(Fault::Error(e)) => e,
            };
            drop(eff);
            let failed_at = self.failed_at(cx.cur.last_id);
            match retrier
                .recover(self, cx, failure, failed_at, &mut input)
                .await?
            {
                Recovery::Retry => continue,
                Recovery::Caught(step) => return Ok(step),
            }
        }
    }

    /// The Map Run's settings from the state's JSONPath fields: the concurrency limit, the
    /// tolerated failures and the evaluated reader, batcher and writer.
    fn settings(
        &self,
        cx: &mut StateCx<'_>,
        m: &MapK,
        d: &DistK,
        value: &Value,
        ctx: &Value,
    ) -> Result<Settings, StateError> {
        let (st, entered) = (cx.st, cx.entered);
        let limit = match dist_number(
            cx,
            m.max_concurrency.as_ref(),
            value,
            ctx,
            "MaxConcurrencyPath",
        )? {
            None | Some(0) => DISTRIBUTED_MAP_CONCURRENCY,
            Some(n) if n < 0 => return Err(cx.runtime("MaxConcurrency cannot be negative.")),
            Some(n) => (n as usize).min(DISTRIBUTED_MAP_CONCURRENCY),
        };
        let tolerated = tolerance(cx, m, value, ctx)?;
        let vars: &Vars = cx.vars;
        let cur: &mut Cursor = cx.cur;
        let env = Env::new(value, ctx, vars);
        let mut out = Settings {
            limit,
            tolerated,
            reader: None,
            items: None,
            batcher: None,
            writer: None,
        };
        match &d.reader {
            Some(r) => {
                let args = match &r.parameters {
                    Some(t) => t
                        .evaluate(&env, cur)
                        .map_err(|f| wrap_failure(st, entered, f))?,
                    None => json!({}),
                };
                let max_items = number_at(
                    st,
                    entered,
                    r.max_items.as_ref(),
                    value,
                    ctx,
                    vars,
                    "MaxItemsPath",
                )?;
                out.reader = Some((r.raw.clone(), args, max_items.unwrap_or(0)));
            }
            None => {
                let items = match &m.items_path {
                    None => value.clone(),
                    Some(p) => match p.evaluate(&env) {
                        Ok(sel) => sel.into_value(),
                        Err(miss) => {
                            return Err(super::runtime_error(
                                st,
                                entered,
                                &miss.invalid_path_cause(p),
                            ))
                        }
                    },
                };
                if !items.is_array() {
                    return Err(super::runtime_error(
                        st,
                        entered,
                        &format!(
                            "Items of the Map state must be a JSON array, but the ItemsPath selected: {}",
                            workflow_asl::eval::java_json(&items)
                        ),
                    ));
                }
                out.items = Some(items);
            }
        }
        if let Some(b) = &d.batcher {
            let max_items = number_at(
                st,
                entered,
                b.max_items.as_ref(),
                value,
                ctx,
                vars,
                "MaxItemsPerBatchPath",
            )?;
            let max_bytes = number_at(
                st,
                entered,
                b.max_bytes.as_ref(),
                value,
                ctx,
                vars,
                "MaxInputBytesPerBatchPath",
            )?;
            let batch_input = match &b.batch_input {
                Some(t) => Some(
                    t.evaluate(&env, cur)
                        .map_err(|f| wrap_failure(st, entered, f))?,
                ),
                None => None,
            };
            out.batcher = Some((
                BatchLimits {
                    max_items: max_items.unwrap_or(0).max(0) as u64,
                    max_bytes: max_bytes.unwrap_or(0).max(0) as u64,
                },
                batch_input,
            ));
        }
        if let Some(w) = &d.writer {
            let args = match &w.parameters {
                Some(t) => Some(
                    t.evaluate(&env, cur)
                        .map_err(|f| wrap_failure(st, entered, f))?,
                ),
                None => None,
            };
            out.writer = Some((w.raw.clone(), args));
        }
        Ok(out)
    }

    /// The Map Run's settings from the state's JSONata fields, all evaluated with one scope
    /// (`$states.input` is the state's input): `Items` (without a reader), `MaxConcurrency`, the
    /// tolerated failures, and `ItemReader`, `ItemBatcher`, `ResultWriter` with their
    /// `Arguments`, `ReaderConfig` and limits.
    fn j_settings(
        &self,
        cx: &StateCx<'_>,
        j: &JState,
        d: &DistK,
        value: &Value,
        retry_count: u32,
    ) -> Result<Settings, StateError> {
        let jctx = self.j_context(cx, retry_count);
        let scope = super::jsonata::scope(cx.vars, value, &jctx, None, None);
        let int = |v: &Value| {
            as_integer(v).or_else(|| {
                v.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                    .map(|f| f as i64)
            })
        };
        let limit = match &j.max_concurrency {
            None => DISTRIBUTED_MAP_CONCURRENCY,
            Some(t) => {
                let v = cx.j_number(t, &scope, "MaxConcurrency")?;
                match int(&v) {
                    Some(0) => DISTRIBUTED_MAP_CONCURRENCY,
                    Some(n) if n > 0 => (n as usize).min(DISTRIBUTED_MAP_CONCURRENCY),
                    _ => {
                        return Err(cx.query_error(&format!(
                            "The MaxConcurrency field must be a non-negative integer, but was: {}",
                            java_json(&v)
                        )))
                    }
                }
            }
        };
        let mut tolerated = Tolerance {
            configured: j.tolerated_count.is_some() || j.tolerated_percentage.is_some(),
            count: None,
            percentage: None,
        };
        if let Some(t) = &j.tolerated_count {
            let v = cx.j_number(t, &scope, "ToleratedFailureCount")?;
            let Some(n) = int(&v).filter(|n| *n >= 0) else {
                let shown = java_json(&v);
                return Err(cx.query_error(&format!(
                    "The ToleratedFailureCount field must be a non-negative integer, but was: {shown}"
                )));
            };
            tolerated.count = Some(n as u64);
        }
        if let Some(t) = &j.tolerated_percentage {
            let v = cx.j_number(t, &scope, "ToleratedFailurePercentage")?;
            match as_float(&v) {
                Some(p) if (0.0..=100.0).contains(&p) => tolerated.percentage = Some(p),
                _ => {
                    return Err(cx.query_error(&format!(
                        "The ToleratedFailurePercentage field must be a number between 0 and 100, but was: {}",
                        java_json(&v)
                    )))
                }
            }
        }
        let mut out = Settings {
            limit,
            tolerated,
            reader: None,
            items: None,
            batcher: None,
            writer: None,
        };
        // A limit in a reader, batcher or writer: an integer, else the state fails naming it.
        let limit_field =
            |obj: &Value, section: &str, field: &str| -> Result<Option<i64>, StateError> {
                match obj.get(field) {
                    None | Some(Value::Null) => Ok(None),
                    Some(v) => int(v).map(Some).ok_or_else(|| {
                        cx.query_error(&format!(
                            "The {section} field '{field}' must be an integer, but was: {}",
                            java_json(v)
                        ))
                    }),
                }
            };
        match (&j.item_reader, d.reader.is_some()) {
            (Some(t), true) => {
                let r = cx.j_value(t, &scope, "ItemReader")?;
                let args = r.get("Arguments").cloned().unwrap_or_else(|| json!({}));
                let max_items = match r.get("ReaderConfig") {
                    Some(cfg) => limit_field(cfg, "ItemReader.ReaderConfig", "MaxItems")?,
                    None => None,
                };
                out.reader = Some((r, args, max_items.unwrap_or(0)));
            }
            _ => {
                let items = match &j.items {
                    Some(t) => cx.j_value(t, &scope, "Items")?,
                    None => value.clone(),
                };
                if !items.is_array() {
                    return Err(super::jsonata::items_error(cx, j, &items));
                }
                out.items = Some(items);
            }
        }
        if let (Some(t), true) = (&j.item_batcher, d.batcher.is_some()) {
            let b = cx.j_value(t, &scope, "ItemBatcher")?;
            let max_items = limit_field(&b, "ItemBatcher", "MaxItemsPerBatch")?;
            let max_bytes = limit_field(&b, "ItemBatcher", "MaxInputBytesPerBatch")?;
            out.batcher = Some((
                BatchLimits {
                    max_items: max_items.unwrap_or(0).max(0) as u64,
                    max_bytes: max_bytes.unwrap_or(0).max(0) as u64,
                },
                b.get("BatchInput").cloned(),
            ));
        }
        if let (Some(t), true) = (&j.result_writer, d.writer.is_some()) {
            let w = cx.j_value(t, &scope, "ResultWriter")?;
            let args = w.get("Arguments").cloned();
            out.writer = Some((w, args));
        }
        Ok(out)
    }

    /// Records `MapStateStarted` and evaluates the Map Run's settings. AWS records
    /// `MapStateStarted` before it reads them: a `MaxItemsPath` that is not an integer fails the
    /// state after it, with no Map Run (test_map_item_reader_csv_max_items_paths[1.5] in the
    /// corpus).
    fn start_map(
        &self,
        cx: &mut StateCx<'_>,
        m: &MapK,
        d: &DistK,
        value: &Value,
        ctx: &Value,
        retry_count: u32,
    ) -> Result<(Settings, u64), StateError> {
        self.rec.record(cx.cur, EventType::MapStateStarted, || {
            EventKind::MapStateStarted { length: 0 }
        });
        let started_seq = cx.cur.seq.saturating_sub(1);
        let settings = match &cx.st.jsonata {
            Some(j) => {
                let r = self.j_settings(cx, j, d, value, retry_count);
                if let Err(e) = &r {
                    let _ = self.evaluation_failed(cx, Err::<(), _>(Fault::Error(e.clone())));
                }
                r?
            }
            None => self.settings(cx, m, d, value, ctx)?,
        };
        Ok((settings, started_seq))
    }

    /// The Map Run: read, batch, run the children, write or collect the results.
    async fn map_run(
        &self,
        cx: &mut StateCx<'_>,
        m: &MapK,
        d: &DistK,
        value: &Value,
        settings: Settings,
        started_seq: u64,
    ) -> Result<Value, Fault> {
        let st = cx.st;
        // A Map Run in a child (whose states are not recorded) keeps its progress keyed by its
        // settings too.
        let nested =
            (cx.cur.silent && self.rec.progress_sink().is_some()).then(|| settings_hash(&settings));
        let Settings {
            limit,
            tolerated,
            reader: reader_settings,
            items,
            batcher: batcher_settings,
            writer: writer_settings,
        } = settings;

        // The Map Run's identity: from the execution's seed and the Map state's place — its
        // position in its scope and, inside a child execution or an iteration, that scope (so the
        // same Map state run by two children gets two Map Runs, with their own result folders).
        let scope_seed = if cx.cur.scope.is_empty() {
            0
        } else {
            crate::fnv::fnv1a(cx.cur.scope.as_bytes())
        };
        let mut seed_rng = rand::rngs::SmallRng::seed_from_u64(
            self.seed ^ scope_seed ^ cx.cur.seq.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let mut id_bytes = [0u8; 16];
        seed_rng.fill_bytes(&mut id_bytes);
        let map_run_id = uuid::Builder::from_random_bytes(id_bytes)
            .into_uuid()
            .to_string();
        let label = d.label.as_deref().unwrap_or(&st.name);
        let sm_arn = &self.info.state_machine_arn;
        let map_run_arn = format!(
            "{}/{label}:{map_run_id}",
            sm_arn.replacen(":stateMachine:", ":mapRun:", 1)
        );
        let arn_for_event = map_run_arn.clone();
        self.rec.record(cx.cur, EventType::MapRunStarted, || {
            EventKind::MapRunStarted {
                map_run_arn: arn_for_event,
            }
        });
        match self
            .run_children(
                cx,
                m,
                value,
                MapRun {
                    started_seq,
                    limit,
                    tolerated,
                    parts: RunParts {
                        express: d.express,
                        reader: reader_settings,
                        items,
                        batcher: batcher_settings,
                        writer: writer_settings,
                    },
                    arn: &map_run_arn,
                    id: &map_run_id,
                    label,
                    nested,
                },
            )
            .await
        {
            Ok(output) => {
                self.rec.record(cx.cur, EventType::MapRunSucceeded, || {
                    EventKind::MapRunSucceeded
                });
                self.rec.record(cx.cur, EventType::MapStateSucceeded, || {
                    EventKind::MapStateSucceeded
                });
                Ok(output)
            }
            Err(Fault::Cancelled) => Err(Fault::Cancelled),
            Err(Fault::Error(e)) => {
                let (error, cause) = (e.error.clone(), e.cause.clone());
                self.rec.record(cx.cur, EventType::MapRunFailed, || {
                    EventKind::MapRunFailed(ErrorDetails { error, cause })
                });
                Err(e.into())
            }
        }
    }

    /// The children of a Map Run, from the reader (or the items) to the writer (or the output).
    async fn run_children(
        &self,
        cx: &mut StateCx<'_>,
        m: &MapK,
        value: &Value,
        run: MapRun<'_>,
    ) -> Result<Value, Fault> {
        let MapRun {
            started_seq,
            limit,
            tolerated,
            parts,
            arn: map_run_arn,
            id: map_run_id,
            label,
            nested,
        } = run;
        let st = cx.st;
        let entered = cx.entered;
        let source: ItemSource<'_> = match (parts.reader, parts.items) {
            (Some((raw, args, max_items)), _) => {
                // AWS's cause, as recorded (test_map_item_reader_csv_max_items_paths[-1]).
                if max_items < 0 {
                    return Err(StateError::new(
                        names::ITEM_READER_FAILED,
                        "field MaxItems must be positive",
                    )
                    .into());
                }
                let plan = ReaderPlan::new(&raw, &args, max_items as u64).map_err(dist_error)?;
                let Some(store) = self.objects.as_ref() else {
                    return Err(StateError::new(
                        names::ITEM_READER_FAILED,
                        format!(
                            "The state '{}' reads s3://{}/{} but no object store is configured: run with `workflow run … --s3-root DIR` (s3://BUCKET/KEY is the file DIR/BUCKET/KEY) or give the runtime one with RuntimeBuilder::objects.",
                            st.name, plan.bucket, plan.key
                        ),
                    )
                    .into());
                };
                Box::new(reader::open(store, &plan).map_err(dist_error)?)
            }
            (None, Some(Value::Array(items))) => Box::new(items.into_iter().map(Ok)),
            (None, _) => Box::new(std::iter::empty()),
        };
        let batcher = parts
            .batcher
            .map(|(limits, batch_input)| Batcher::new(limits, batch_input));
        let writer_plan = match &parts.writer {
            None => None,
            Some((raw, args)) => Some(WriterPlan::new(raw, args.as_ref()).map_err(dist_error)?),
        };
        let mut children = Children::new(self, label, map_run_id, parts.express);
        let mut writer = match &writer_plan {
            Some(p) if p.bucket.is_some() => {
                let Some(store) = self.objects.as_ref() else {
                    return Err(StateError::new(
                        names::RESULT_WRITER_FAILED,
                        format!(
                            "The state '{}' writes results to s3://{}/{} but no object store is configured: run with `workflow run … --s3-root DIR` or give the runtime one with RuntimeBuilder::objects.",
                            st.name,
                            p.bucket.as_deref().unwrap_or(""),
                            p.prefix
                        ),
                    )
                    .into());
                };
                Some(
                    ResultWriter::new(Arc::clone(store), p.clone(), map_run_arn, map_run_id)
                        .map_err(dist_error)?,
                )
            }
            _ => None,
        };
        let keep_records = writer.is_none()
            && writer_plan
                .as_ref()
                .is_some_and(|p| p.transformation != Transformation::Compact);

        let vars: &Vars = cx.vars;
        let cur: &mut Cursor = cx.cur;
        let cancel = cx.cancel;
        let mut feeder = Feeder {
            source,
            batcher,
            ready: VecDeque::new(),
            next_index: 0,
            items: 0,
            done: false,
        };
        let mut sel_cur = cur.child(started_seq, usize::MAX, self.seed);
        sel_cur.silent = true;
        let child_cancel = cancel.child();
        // Durable progress, for a Map Run the history records and for one nested in a child
        // (keyed by its settings too: the child's states before it are not recorded).
        let mut progress = Progress::open(self, cur, started_seq, map_run_id, nested).await?;
        // Results in child order (when not exported).
        let mut results: Vec<Option<Value>> = Vec::new();
        let mut records: Vec<Option<ChildRecord>> = Vec::new();
        let mut failed_items = 0usize;
        let mut failure: Option<StateError> = None;
        let mut write_error: Option<StateError> = None;
        // A resumed Map Run goes on from where it stood: its recorded failures counted, and
        // ended if a child's outcome had ended it (then only its recorded children are met
        // again, for the result files). Recorded failures are not judged again: the children
        // come up in index order, not in the order they finished.
        let tallied = progress.as_ref().is_some_and(Progress::tallied);
        if let Some(p) = &progress {
            (failed_items, failure) = p.start();
            if failure.is_some() {
                child_cancel.cancel();
            }
        }
        {
            let mut running = FuturesUnordered::new();
            let vars_ref = vars;
            let parent: &Cursor = cur;
            let mut next_child = 0usize;
            let selection = Selection {
                st,
                entered,
                m,
                value,
                vars: vars_ref,
            };
            // Children whose processor never awaits run in rounds on all cores (see
            // `Exec::on_threads`); a round that cannot (a child failed, one core, a replay) runs
            // as futures from `pending`, as any other children do.
            let threaded = super::never_awaits(&m.processor) && limit > 1;
            let mut pending: VecDeque<(usize, usize, Arc<ExecInfo>)> = VecDeque::new();
            let mut done: VecDeque<Completed> = VecDeque::new();
            // A round read while the previous one ran, and the reader's error after it.
            let mut next_round: Option<Round> = None;
            // A round rendered and not yet appended to the result files.
            let mut unpushed: Option<Unpushed> = None;
            let processor = &m.processor;
            loop {
                if threaded
                    && running.is_empty()
                    && pending.is_empty()
                    && done.is_empty()
                    && failure.is_none()
                    && (!feeder.done || next_round.is_some())
                {
                    let (round, read_error) = match next_round.take() {
                        Some(r) => r,
                        None => self.read_round(
                            &selection,
                            &mut feeder,
                            &mut sel_cur,
                            (&mut children, &mut next_child),
                            Vec::new(),
                        ),
                    };
                    if let Some(e) = read_error {
                        failure = Some(e);
                        child_cancel.cancel();
                    }
                    // The next round is read on a thread of its own while this one runs (the
                    // previous round's children freed there), and the previous round's entries
                    // are appended to the result files on another.
                    let read_more = failure.is_none() && !feeder.done;
                    let handle = tokio::runtime::Handle::try_current().ok();
                    let cc = &child_cancel;
                    // Exported: each child's entries are rendered by the thread that ran it.
                    let round_out = match writer.as_ref() {
                        Some(w) if write_error.is_none() => {
                            Some(RoundOut::new(w.renderer(), round.len()))
                        }
                        _ => None,
                    };
                    // The previous round's children are freed by the thread that reads the next.
                    let (previous, mut old) = match unpushed.take() {
                        Some((batches, old)) => (Some(batches), old),
                        None => (None, Vec::new()),
                    };
                    let previous = previous.filter(|_| write_error.is_none());
                    let (outs, read, pushed) = std::thread::scope(|s| {
                        let reading = read_more.then(|| {
                            let (sel, feeder, sel_cur) = (&selection, &mut feeder, &mut sel_cur);
                            let (children, next_child) = (&mut children, &mut next_child);
                            let handle = handle.as_ref();
                            let old = std::mem::take(&mut old);
                            s.spawn(move || {
                                // The clock of the execution's runtime (virtual when paused).
                                let _runtime = handle.map(tokio::runtime::Handle::enter);
                                self.read_round(sel, feeder, sel_cur, (children, next_child), old)
                            })
                        });
                        let pushing =
                            match (previous, writer.as_mut()) {
                                (Some(batches), Some(w)) => Some(s.spawn(move || {
                                    batches.iter().try_for_each(|b| w.push_batch(b))
                                })),
                                _ => None,
                            };
                        let outs = if round.is_empty() {
                            Some(Vec::new())
                        } else {
                            let round_out = round_out.as_ref();
                            self.on_threads(round.len(), limit, THREADED_CHUNK, &|i, local| {
                                let (index, _, info) = round.get(i)?;
                                let mut ic = parent.child(started_seq, *index, self.seed);
                                ic.silent = true;
                                ic.exec = Some(Arc::clone(info));
                                ic.local = Some(local);
                                let mut ivars = vars_ref.clone();
                                let r = self
                                    .run_block(
                                        processor,
                                        &mut ic,
                                        info.input.clone(),
                                        &mut ivars,
                                        cc,
                                    )
                                    .now_or_never();
                                let local = ic.local.take().unwrap_or_default();
                                match (r, round_out) {
                                    (Some(Ok(v)), None) => Some((v, local)),
                                    (Some(Ok(v)), Some(out)) => {
                                        let now = self.rec.clock.now_ms();
                                        // A failure to render: the round runs again as
                                        // futures, where the writer reports it.
                                        out.render(i, info, &v, now).ok()?;
                                        Some((Value::Null, local))
                                    }
                                    (Some(Err(_)) | None, _) => None,
                                }
                            })
                        };
                        let pushed = pushing.map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(DistError::writer(
                                    "writing the results failed (a thread panicked)",
                                ))
                            })
                        });
                        (
                            outs,
                            reading.map(std::thread::ScopedJoinHandle::join),
                            pushed,
                        )
                    });
                    if let Some(Err(e)) = pushed {
                        if write_error.is_none() {
                            write_error = Some(dist_error(e));
                            child_cancel.cancel();
                        }
                    }
                    match read {
                        Some(Ok(r)) => next_round = Some(r),
                        Some(Err(_)) => {
                            failure = Some(StateError::new(
                                names::ITEM_READER_FAILED,
                                "Reading the items failed: the reader panicked",
                            ));
                            child_cancel.cancel();
                        }
                        None => {}
                    }
                    // With `round_out`, the outputs were rendered and are not kept.
                    let rendered = round_out.map(|out| out.batches(round.len()));
                    match (outs, rendered) {
                        (None, _) => pending.extend(round),
                        (Some(outs), None) => {
                            for ((index, count, info), v) in round.into_iter().zip(outs) {
                                done.push_back((index, count, info, Ok(v), None));
                            }
                        }
                        // Rendered: appended while the next round runs.
                        (Some(_), Some(Some(batches))) => unpushed = Some((batches, round)),
                        // Rendered out of order (not expected): run again, as a failed round.
                        (Some(_), Some(None)) => pending.extend(round),
                    }
                    // Unless the next round follows at once, the entries are appended now,
                    // before any other child's.
                    let more_rounds = failure.is_none()
                        && write_error.is_none()
                        && pending.is_empty()
                        && (!feeder.done || next_round.is_some());
                    if !more_rounds {
                        if let (Some(prev), Some(w)) = (unpushed.take(), writer.as_mut()) {
                            if write_error.is_none() {
                                if let Err(e) = push_round(w, prev) {
                                    write_error = Some(dist_error(e));
                                    child_cancel.cancel();
                                }
                            }
                        }
                    }
                }
                // Once the Map Run has failed, no child starts, but the children an earlier run
                // recorded are still met (their results go to the files, as they did in the
                // uninterrupted run, whatever their index).
                if failure.is_some() {
                    if let Some((round, _)) = next_round.take() {
                        pending.extend(round);
                    }
                }
                while (failure.is_none() || progress.as_ref().is_some_and(Progress::more))
                    && running.len() < limit
                    && done.len() < limit
                    && (!pending.is_empty() || ((!threaded || failure.is_some()) && !feeder.done))
                {
                    let (index, count, mut info) = match pending.pop_front() {
                        Some(p) => p,
                        None => match self.next_child(&selection, &mut feeder, &mut sel_cur) {
                            Ok(Some((input, count))) => {
                                next_child += 1;
                                (next_child - 1, count, children.next(input))
                            }
                            Ok(None) => {
                                feeder.done = true;
                                break;
                            }
                            Err(e) => {
                                if failure.is_none() {
                                    failure = Some(e);
                                    child_cancel.cancel();
                                }
                                // No recorded child lies past the items' end.
                                if let Some(p) = progress.as_mut() {
                                    p.forget();
                                }
                                break;
                            }
                        },
                    };
                    if let Some(p) = progress.as_mut() {
                        // A child an earlier run finished with this input is not run again:
                        // its recorded outcome stands in for it.
                        match p
                            .recorded_outcome(index, || input_hash(&info.input), map_run_arn)
                            .await
                        {
                            Ok(None) => {}
                            Ok(Some((result, start_date, stop_date))) => {
                                Arc::make_mut(&mut info).start_time = start_date;
                                done.push_back((index, count, info, result, Some(stop_date)));
                                continue;
                            }
                            Err(e) => {
                                failure = Some(self.progress_failed(e));
                                child_cancel.cancel();
                                progress = None;
                                break;
                            }
                        }
                    }
                    if failure.is_some() {
                        // Not recorded: the Map Run ended before this child finished.
                        continue;
                    }
                    let mut ic = parent.child(started_seq, index, self.seed);
                    ic.silent = true;
                    ic.exec = Some(Arc::clone(&info));
                    let cc = &child_cancel;
                    running.push(async move {
                        let mut ivars = vars_ref.clone();
                        let r = self
                            .run_block(processor, &mut ic, info.input.clone(), &mut ivars, cc)
                            .await;
                        drop(ic);
                        (index, count, info, r, None)
                    });
                }
                let (index, count, info, r, recorded_stop) = match done.pop_front() {
                    Some(d) => d,
                    None => {
                        let next = self
                            .next_finished(&mut running, &mut progress, &mut failure, &child_cancel)
                            .await;
                        match next {
                            Some(d) => d,
                            None if threaded
                                && failure.is_none()
                                && (!feeder.done || next_round.is_some()) =>
                            {
                                continue
                            }
                            None => break,
                        }
                    }
                };
                let stop_date = recorded_stop
                    .clone()
                    .unwrap_or_else(|| crate::clock::format_ms(self.rec.clock.now_ms()));
                // What the store keeps of the child (unless it was recorded already): its
                // output, or a failure that is not the whole execution's (a limit, the store).
                let keep = progress.is_some() && recorded_stop.is_none();
                let outcome = if keep { kept_outcome(&r) } else { None };
                // Whether this child's outcome ends the Map Run (recorded with it).
                let mut ends_run = false;
                let status = match r {
                    Ok(v) => ChildStatus::Succeeded(v),
                    Err(Fault::Cancelled) => continue,
                    // A recorded failure was counted, and judged, when the child finished.
                    Err(Fault::Error(e)) if tallied && recorded_stop.is_some() => {
                        ChildStatus::Failed {
                            error: e.error.unwrap_or_default(),
                            cause: e.cause.unwrap_or_default(),
                        }
                    }
                    Err(Fault::Error(e)) => {
                        failed_items += count;
                        let fatal = e.terminal || e.error.as_deref() == Some(names::RUNTIME);
                        let total = if feeder.done {
                            feeder.items
                        } else {
                            usize::MAX
                        };
                        let exceeded = !tolerated.allows(failed_items, total)
                            && (feeder.done || tolerated.percentage.is_none());
                        if failure.is_none() && (fatal || !tolerated.configured || exceeded) {
                            failure = Some(if tolerated.configured && !fatal {
                                StateError::new(
                                    names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                    "The specified tolerated failure threshold was exceeded",
                                )
                            } else {
                                e.clone()
                            });
                            child_cancel.cancel();
                            ends_run = true;
                        }
                        ChildStatus::Failed {
                            error: e.error.unwrap_or_default(),
                            cause: e.cause.unwrap_or_default(),
                        }
                    }
                };
                if let (Some(p), Some(outcome)) = (progress.as_mut(), outcome) {
                    let child = (index, input_hash(&info.input));
                    let dates = (info.start_time.clone(), stop_date.clone());
                    let ended = failure.as_ref().filter(|_| ends_run);
                    if let Err(e) = p
                        .child_done(child, dates, outcome, failed_items, ended)
                        .await
                    {
                        failure = Some(self.progress_failed(e));
                        child_cancel.cancel();
                        progress = None;
                    }
                }
                let rec = record(info, status, stop_date);
                if let Some(w) = writer.as_mut() {
                    if write_error.is_none() {
                        if let Err(e) = w.push(rec) {
                            write_error = Some(dist_error(e));
                            child_cancel.cancel();
                        }
                    }
                } else if keep_records {
                    if records.len() <= index {
                        records.resize_with(index + 1, || None);
                    }
                    records[index] = Some(rec);
                } else if let ChildStatus::Succeeded(v) = rec.status {
                    if results.len() <= index {
                        results.resize(index + 1, None);
                    }
                    results[index] = Some(v);
                }
            }
            // Appended after each round that is not followed by another, so only a safeguard.
            if let (Some(prev), Some(w)) = (unpushed.take(), writer.as_mut()) {
                if write_error.is_none() {
                    if let Err(e) = push_round(w, prev) {
                        write_error = Some(dist_error(e));
                    }
                }
            }
        }
        cur.last_id = self.rec.last_id();
        if cancel.is_cancelled() {
            return Err(Fault::Cancelled);
        }
        // Every finished child is stored before anything that depends on it: the result files
        // and manifest, and the events that end the Map state.
        if let Some(p) = progress.as_mut() {
            if let Err(e) = p.settle().await {
                failure = Some(self.progress_failed(e));
            }
        }
        if failure.is_none()
            && tolerated.configured
            && failed_items > 0
            && !tolerated.allows(failed_items, feeder.items)
        {
            failure = Some(StateError::new(
                names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            ));
        }
        // Whatever happened, what was written stays written: files and manifest.
        let written = match writer {
            Some(w) => match w.finish() {
                Ok(out) => Some(out),
                Err(e) => {
                    write_error.get_or_insert(dist_error(e));
                    None
                }
            },
            None => None,
        };
        if let Some(e) = failure.or(write_error) {
            return Err(e.into());
        }
        let output = match written {
            Some(out) => out,
            None if keep_records => {
                let t = writer_plan
                    .as_ref()
                    .map_or(Transformation::Compact, |p| p.transformation);
                let mut out = Vec::new();
                for rec in records.into_iter().flatten() {
                    if matches!(rec.status, ChildStatus::Failed { .. }) {
                        continue;
                    }
                    transform(t, rec, &mut out);
                }
                Value::Array(out)
            }
            None => Value::Array(results.into_iter().flatten().collect()),
        };
        Ok(output)
    }

    /// The error that ends a Map Run whose progress could not be read or stored: the store
    /// failed, so, as after a failed append, nothing more is appended and the execution stops
    /// (it stays `RUNNING` in the store, to be resumed).
    pub(super) fn progress_failed(&self, e: SinkError) -> StateError {
        let cause = e.to_string();
        self.rec.sink_failed(e);
        StateError::terminal_runtime(cause)
    }

    /// The next child of `running` to finish. With progress, when none has finished yet, the
    /// finished ones go to the store before waiting for one; a failed write sets `failure`,
    /// cancels the children and drops the progress.
    pub(super) async fn next_finished<S: futures::Stream + Unpin>(
        &self,
        running: &mut S,
        progress: &mut Option<Progress>,
        failure: &mut Option<StateError>,
        cancel: &crate::cancel::Cancel,
    ) -> Option<S::Item> {
        if let Some(p) = progress.as_mut() {
            if let Some(next) = running.next().now_or_never() {
                return next;
            }
            if let Err(e) = p.waiting() {
                *failure = Some(self.progress_failed(e));
                cancel.cancel();
                *progress = None;
            }
        }
        running.next().await
    }

    /// Reads up to a round of children (fewer when the items end or the reader fails).
    ///
    /// The children of an earlier round in `old` are freed one per child read, so that their
    /// memory goes back to this thread's allocator as it allocates the same sizes (freed
    /// elsewhere all at once, a round's memory made glibc consolidate and trim its heap, then
    /// fault it in again).
    fn read_round(
        &self,
        sel: &Selection<'_>,
        feeder: &mut Feeder<'_>,
        sel_cur: &mut Cursor,
        (children, next_child): (&mut Children, &mut usize),
        mut old: Vec<(usize, usize, Arc<ExecInfo>)>,
    ) -> Round {
        let mut round = Vec::new();
        while round.len() < THREADED_ROUND {
            drop(old.pop());
            match self.next_child(sel, feeder, sel_cur) {
                Ok(Some((input, count))) => {
                    round.push((*next_child, count, children.next(input)));
                    *next_child += 1;
                }
                Ok(None) => {
                    feeder.done = true;
                    break;
                }
                Err(e) => return (round, Some(e)),
            }
        }
        (round, None)
    }

    /// The next child input and how many items it holds, or `None` when the items are done.
    fn next_child(
        &self,
        sel: &Selection<'_>,
        f: &mut Feeder<'_>,
        sel_cur: &mut Cursor,
    ) -> Result<Option<(Value, usize)>, StateError> {
        let Selection {
            st,
            entered,
            m,
            value,
            vars,
        } = *sel;
        loop {
            if let Some(c) = f.ready.pop_front() {
                return Ok(Some(c));
            }
            let item = match f.source.next() {
                Some(Ok(item)) => item,
                Some(Err(e)) => return Err(dist_error(e)),
                None => {
                    let last = f.batcher.as_mut().and_then(Batcher::finish);
                    return Ok(last.map(|b| {
                        let n = b["Items"].as_array().map_or(0, Vec::len);
                        (b, n)
                    }));
                }
            };
            let index = f.next_index;
            f.next_index += 1;
            f.items += 1;
            let j_selector = st.jsonata.as_ref().and_then(|j| j.item_selector.as_ref());
            let selected = match &m.item_selector {
                _ if j_selector.is_some() => {
                    let ictx = build_context(
                        &self.info,
                        &st.name,
                        self.rec.time_of(entered.stamp),
                        Some(0),
                        Some((index, &item)),
                        None,
                        st.context_input,
                    );
                    let scope = super::jsonata::scope(vars, value, &ictx, None, None);
                    j_selector
                        .map_or(Ok(Value::Null), |t| t.evaluate(&scope, "ItemSelector"))
                        .map_err(|f| {
                            StateError::new(
                                crate::jtemplate::QUERY_EVALUATION_ERROR,
                                format!(
                                    "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                                    st.name, entered.id, f.cause
                                ),
                            )
                        })?
                }
                None => item,
                Some(tpl) => {
                    let ictx = build_context(
                        &self.info,
                        &st.name,
                        self.rec.time_of(entered.stamp),
                        Some(0),
                        Some((index, &item)),
                        None,
                        st.context_input,
                    );
                    let env = Env::new(value, &ictx, vars);
                    tpl.evaluate(&env, sel_cur)
                        .map_err(|e| wrap_failure(st, entered, e))?
                }
            };
            match f.batcher.as_mut() {
                None => return Ok(Some((selected, 1))),
                Some(b) => {
                    for batch in b.push(selected).map_err(dist_error)? {
                        let n = batch["Items"].as_array().map_or(0, Vec::len);
                        f.ready.push_back((batch, n));
                    }
                }
            }
        }
    }
}

/// [`dist_number`] where the state context is borrowed apart (state, entered, variables).
fn number_at(
    st: &CState,
    entered: Entered,
    src: Option<&NumberSource>,
    value: &Value,
    ctx: &Value,
    vars: &Vars,
    field: &str,
) -> Result<Option<i64>, StateError> {
    let Some(src) = src else { return Ok(None) };
    let v = match src {
        NumberSource::Literal(v) => v.clone(),
        NumberSource::Path(p, f) => {
            let env = Env::new(value, ctx, vars);
            p.evaluate(&env).map(|s| s.into_value()).map_err(|_| {
                super::runtime_error(
                    st,
                    entered,
                    &super::io::path_not_found(p.as_str(), f, value),
                )
            })?
        }
    };
    match as_integer(&v) {
        Some(n) => Ok(Some(n)),
        None => Err(super::runtime_error(
            st,
            entered,
            &format!(
                "The {field} field refers to value \"{}\" which is not a valid integer: {}",
                display(&v),
                number_path(src)
            ),
        )),
    }
}
