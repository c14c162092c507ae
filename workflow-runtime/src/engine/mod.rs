//! The interpreter: runs a compiled [`Program`](crate::program::Program) on one tokio task.
//!
//! One file per ASL concept:
//!
//! | file | what |
//! |---|---|
//! | `mod.rs` | the scope loop ([`Exec::run_block`]), entering and exiting a state, the payload limit |
//! | `io.rs` | the data path of a state: InputPath → Parameters → ResultSelector → Assign → ResultPath → OutputPath |
//! | `errors.rs` | Retry and Catch, once, for Task, Parallel and Map ([`errors::Retrier`]) |
//! | `context.rs` | the context object (`$$`) |
//! | `pass.rs`, `choice.rs`, `succeed.rs`, `fail.rs` | the states that never await |
//! | `wait.rs`, `task.rs`, `parallel.rs`, `map.rs` | the states that await |
//!
//! An execution is a single future. The top level, each Parallel branch and each Map iteration is
//! a loop over compiled states ([`Exec::run_block`]); branches and iterations are futures polled
//! together on the execution's task (`FuturesUnordered`), never spawned, and a Map keeps at most
//! its concurrency limit of iterations in flight, so memory is bounded by `MaxConcurrency`, not by
//! the item count. Pure states (Pass, Choice, Succeed, Fail) never await; only Task, Wait, retry
//! backoff, and the joins of Parallel and Map do. Map iterations and Parallel branches made only
//! of pure states run on all cores instead ([`Exec::on_threads`]), with the same output and
//! history.
//!
//! Every effect goes through the [`Recorder`]: task results and failures are recorded before the
//! state acts on them, Wait deadlines are absolute (the `WaitStateEntered` time plus the wait),
//! retry delays are measured from the recorded failure, and random numbers come from the scope's
//! seeded generator. Re-running a program over its own history (see [`crate::recorder`])
//! therefore reproduces its position and data.
//!
//! A state runs with a [`StateCx`]: the state, its `…Entered` event, and the scope's cursor,
//! variables and cancellation, which every concept's code reads instead of loose parameters.

mod choice;
mod context;
mod distributed_map;
mod errors;
mod fail;
mod io;
mod jsonata;
mod map;
mod parallel;
mod pass;
mod succeed;
mod task;
pub mod test_state;
mod wait;

use std::sync::Arc;

use serde_json::{Map, Value};
use workflow_asl::error::{names, Failure};
use workflow_asl::limits::{nesting_cause, MAX_NESTING_DEPTH};

use crate::cancel::Cancel;
use crate::handler::{Handlers, TaskError};
use crate::history::EventKind;
use crate::mock::MockCalls;
use crate::program::{Block, CState, IoPath, Kind};
use crate::recorder::{Cursor, Local, Recorder, Stamp};

pub(crate) use io::json_size;
use io::render;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A typed handler call that replaces the registry lookup of one Task state (see
/// [`crate::driver`]): it receives the task's effective input and context, returns the result.
pub(crate) type TaskCall<'c> =
    dyn FnMut(Value, crate::handler::TaskContext) -> CallFuture<'c> + Send + 'c;

/// The future of a [`TaskCall`] (a panic while it is polled fails the call).
pub(crate) type CallFuture<'c> = crate::handler::Guarded<'c>;

/// What a state hands the next one besides its output: the output's text, when it was rendered
/// for the history (the next `…Entered` input), and an upper bound of its size as JSON text.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    pub(crate) rendered: Option<Arc<str>>,
    pub(crate) in_size: Option<usize>,
}

/// What the top level ends with ([`Exec::run_root`]): the output, and its text when the last
/// state's `…Exited` event rendered it.
pub(crate) type Finished = (Value, Option<Arc<str>>);

/// Variables set by `Assign`, visible in a scope.
pub(crate) type Vars = Map<String, Value>;

/// A failure of a state or scope: an error name and a cause, either possibly absent (a Fail state
/// with neither).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StateError {
    pub(crate) error: Option<String>,
    pub(crate) cause: Option<String>,
    /// Neither retried nor caught (a state output over the payload limit).
    pub(crate) terminal: bool,
}

impl StateError {
    pub(crate) fn new(error: impl Into<String>, cause: impl Into<String>) -> StateError {
        StateError {
            error: Some(error.into()),
            cause: Some(cause.into()),
            terminal: false,
        }
    }

    /// A `States.Runtime` error that is neither retried nor caught.
    fn terminal_runtime(cause: impl Into<String>) -> StateError {
        StateError {
            error: Some(names::RUNTIME.into()),
            cause: Some(cause.into()),
            terminal: true,
        }
    }

    fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// The error output a catcher passes on: `{"Error": …, "Cause": …}`, always with both keys
    /// (`"Cause": null` when there is none): AWS's recordings of caught errors always carry both
    /// (`"Cause": ""` for a timeout, `test_task_service_lambda::test_invoke_timeout`).
    fn output(&self) -> Value {
        let mut o = Map::new();
        if let Some(e) = &self.error {
            o.insert("Error".into(), Value::String(e.clone()));
        }
        o.insert(
            "Cause".into(),
            self.cause.clone().map_or(Value::Null, Value::String),
        );
        Value::Object(o)
    }
}

impl From<TaskError> for StateError {
    fn from(e: TaskError) -> StateError {
        StateError {
            error: Some(e.error),
            cause: e.cause,
            terminal: false,
        }
    }
}

/// Why a state or scope did not complete.
#[derive(Debug)]
pub(crate) enum Fault {
    Error(StateError),
    Cancelled,
}

impl From<StateError> for Fault {
    fn from(e: StateError) -> Fault {
        Fault::Error(e)
    }
}

/// Where a state goes after it completes.
struct Step {
    output: Value,
    /// `None`: the scope ends with this output.
    next: Option<usize>,
    /// An upper bound of the output's size as JSON text, when the state could compute one
    /// without walking the output (see [`Exec::exit_state`]).
    size_hint: Option<usize>,
}

impl Step {
    fn to(output: Value, next: Option<usize>) -> Step {
        Step {
            output,
            next,
            size_hint: None,
        }
    }
}

/// The facts about an execution that its context object (`$$`) shows.
#[derive(Debug, Clone)]
pub(crate) struct ExecInfo {
    pub(crate) execution_arn: String,
    /// An EXPRESS execution (its context object has no `RedriveCount`).
    pub(crate) express: bool,
    pub(crate) name: String,
    /// Shared (an `Arc`), as every child execution of a distributed Map has the same.
    pub(crate) state_machine_arn: Arc<str>,
    pub(crate) state_machine_name: Arc<str>,
    pub(crate) role_arn: Arc<str>,
    pub(crate) start_time: String,
    /// The execution's input (`null` when the program never builds a context object, see
    /// `Program::reads_context`).
    pub(crate) input: Value,
}

/// One execution's shared, immutable surroundings.
pub(crate) struct Exec {
    pub(crate) rec: Recorder,
    pub(crate) handlers: Arc<Handlers>,
    /// The task tokens of `.waitForTaskToken` tasks.
    pub(crate) callbacks: Arc<crate::Callbacks>,
    /// The test case's responses and this execution's count of each mocked state's invocations.
    pub(crate) mocks: Option<MockCalls>,
    pub(crate) payload_limit: usize,
    pub(crate) seed: u64,
    pub(crate) info: Arc<ExecInfo>,
    /// The object store of `ItemReader`/`ResultWriter`, if the runtime has one.
    pub(crate) objects: Option<Arc<dyn crate::objects::ObjectStore>>,
    /// Flush the recorder after every state's exit (`StartOptions::flush_every_state`), so a
    /// state's events are committed before the next state starts.
    pub(crate) flush_every_state: bool,
}

/// A running scope (the machine, a Parallel branch, a Map iteration): its cursor in the history,
/// its variables, its cancellation, and what the last state handed the next.
pub(crate) struct Scope<'a> {
    pub(crate) cur: &'a mut Cursor,
    pub(crate) vars: &'a mut Vars,
    pub(crate) cancel: &'a Arc<Cancel>,
    pub(crate) flow: Flow,
}

impl<'a> Scope<'a> {
    /// A scope starting at its first state.
    pub(crate) fn new(cur: &'a mut Cursor, vars: &'a mut Vars, cancel: &'a Arc<Cancel>) -> Self {
        Scope {
            cur,
            vars,
            cancel,
            flow: Flow::default(),
        }
    }
}

/// Generated code that runs a scope instead of the interpreter's loop (the driver of a
/// `workflow!` workflow, see [`crate::driver`]), attached to the compiled scope as a
/// `Box<dyn ScopeRunner>` inside the program's type-erased [`Attachment`](crate::program::Attachment).
pub(crate) trait ScopeRunner: Send + Sync {
    /// Runs the scope `block` from its start with `input`.
    fn run<'a>(
        &'a self,
        exec: &'a Exec,
        block: &'a Block,
        scope: Scope<'a>,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, Fault>>;
}

/// The runner attached to `block`, if any.
#[inline]
fn attached(block: &Block) -> Option<&dyn ScopeRunner> {
    block
        .driver
        .as_deref()?
        .downcast_ref::<Box<dyn ScopeRunner>>()
        .map(|runner| &**runner)
}

/// The state's `…Entered` event, which error causes refer to.
#[derive(Clone, Copy)]
struct Entered {
    id: u64,
    stamp: Stamp,
}

/// One state being run: what the code of every ASL concept reads.
struct StateCx<'s> {
    st: &'s CState,
    entered: Entered,
    cur: &'s mut Cursor,
    vars: &'s mut Vars,
    cancel: &'s Arc<Cancel>,
    /// An upper bound of the input's size as JSON text, when known.
    in_size: Option<usize>,
}

impl StateCx<'_> {
    /// A `States.Runtime` error with the state prefix AWS puts on runtime errors.
    fn runtime(&self, cause: &str) -> StateError {
        runtime_error(self.st, self.entered, cause)
    }

    /// A failure from the pure semantics, with the state prefix AWS puts on runtime errors.
    fn wrap(&self, f: Failure) -> StateError {
        wrap_failure(self.st, self.entered, f)
    }
}

/// A `States.Runtime` error of state `st`: AWS's prefix and `cause`.
fn runtime_error(st: &CState, entered: Entered, cause: &str) -> StateError {
    StateError::new(
        names::RUNTIME,
        format!(
            "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
            st.name, entered.id, cause
        ),
    )
}

/// A failure from the pure semantics; runtime errors get the state prefix.
fn wrap_failure(st: &CState, entered: Entered, f: Failure) -> StateError {
    if f.error == names::RUNTIME {
        runtime_error(st, entered, &f.cause)
    } else {
        StateError::new(f.error, f.cause)
    }
}

/// Whether a state never awaits (it runs without an async call).
pub(crate) fn is_pure(st: &CState) -> bool {
    matches!(
        st.kind,
        Kind::Pass { .. } | Kind::Choice { .. } | Kind::Succeed | Kind::Fail { .. }
    )
}

/// Whether a scope never awaits: every state is pure and no generated driver runs it.
fn never_awaits(block: &Block) -> bool {
    block.driver.is_none() && block.states.iter().all(is_pure)
}

/// One scope run by [`Exec::on_threads`]: scope `index`, recording into `local`; its output
/// and log, or `None` when it failed (or awaited).
type ThreadedScope<'s> = dyn Fn(usize, Local) -> Option<(Value, Local)> + Sync + 's;

/// Whether a state's output is always its input (so its size is the input's).
fn passes_input_on(st: &CState) -> bool {
    matches!(st.kind, Kind::Choice { .. } | Kind::Succeed | Kind::Wait(_))
        && matches!(st.input_path, IoPath::Identity)
        && matches!(st.output_path, IoPath::Identity)
}

impl Exec {
    /// Runs `n` scopes that never await (Map iterations, Parallel branches) on up to `limit`
    /// threads (at most one per core); returns their outputs in scope order. Threads take
    /// `chunk` consecutive scopes at a time, record their events into one [`Local`] log per chunk
    /// (stamped with one clock reading), and whichever thread completes the chunk that is next
    /// in order appends it, and the completed chunks after it, to the history
    /// ([`Recorder::merge`]): the output and the history are exactly those of running the scopes
    /// one at a time on the execution's task, and only the chunks completed out of order wait in
    /// memory.
    ///
    /// `None` when it does not apply (one core, a limit of 1, a replay or a sink that waits for
    /// every event, events flushed after every state), or when a scope failed, `cancel` was
    /// cancelled, or the events would pass the history's limit: then what was appended is taken back
    /// ([`Recorder::rollback`]) and the caller runs the scopes again as futures (a scope that
    /// never awaits does the same thing again), so failures keep their one code path.
    fn on_threads(
        &self,
        n: usize,
        limit: usize,
        chunk: usize,
        scope: &ThreadedScope<'_>,
    ) -> Option<Vec<Value>> {
        self.on_threads_until(n, (limit, chunk), None, scope)
    }

    /// [`Exec::on_threads`] that also stops (and returns `None`) once `cancel` is cancelled.
    fn on_threads_until(
        &self,
        n: usize,
        (limit, chunk): (usize, usize),
        cancel: Option<&Cancel>,
        scope: &ThreadedScope<'_>,
    ) -> Option<Vec<Value>> {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        use std::sync::Mutex;
        let chunk = chunk.max(1);
        let threads = std::thread::available_parallelism()
            .map_or(1, |p| p.get())
            .min(limit)
            .min(n.div_ceil(chunk));
        if threads < 2 || self.flush_every_state || !self.rec.allows_local() {
            return None;
        }
        /// The chunks completed out of order, and the outputs appended so far.
        struct Merged {
            next: usize,
            waiting: std::collections::BTreeMap<usize, (Vec<Value>, Local)>,
            outputs: Vec<Value>,
        }
        let merged = Mutex::new(Merged {
            next: 0,
            waiting: std::collections::BTreeMap::new(),
            outputs: Vec::with_capacity(n),
        });
        let mark = self.rec.mark();
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        // Other threads read the clock of the execution's tokio runtime (virtual when paused).
        let handle = tokio::runtime::Handle::try_current().ok();
        let work = || {
            // The events this thread's last chunk recorded: room for the next one's.
            let mut events = 0;
            while !failed.load(Ordering::Relaxed) {
                // Cancelled (a stop, a timeout seen by another worker of a multi-threaded
                // runtime): stop here; the scopes run again as futures, which see it.
                if cancel.is_some_and(Cancel::is_cancelled) {
                    failed.store(true, Ordering::Relaxed);
                    return;
                }
                let start = next.fetch_add(chunk, Ordering::Relaxed);
                if start >= n {
                    break;
                }
                let mut local = Local::with_time(self.rec.clock.now_ms(), events);
                let mut outputs = Vec::with_capacity(chunk);
                for index in start..(start + chunk).min(n) {
                    match scope(index, local) {
                        Some((v, l)) => {
                            outputs.push(v);
                            local = l;
                        }
                        None => {
                            failed.store(true, Ordering::Relaxed);
                            return;
                        }
                    }
                }
                events = local.recorded();
                let mut m = merged.lock().unwrap_or_else(|p| p.into_inner());
                m.waiting.insert(start / chunk, (outputs, local));
                loop {
                    let at = m.next;
                    let Some((outputs, local)) = m.waiting.remove(&at) else {
                        break;
                    };
                    if !self.rec.fits(Recorder::local_count(&local)) {
                        failed.store(true, Ordering::Relaxed);
                        return;
                    }
                    self.rec.merge(local);
                    m.outputs.extend(outputs);
                    m.next += 1;
                }
            }
        };
        std::thread::scope(|s| {
            let others: Vec<_> = (1..threads)
                .map(|_| {
                    s.spawn(|| {
                        let _runtime = handle.as_ref().map(|h| h.enter());
                        work();
                    })
                })
                .collect();
            work();
            for t in others {
                // A panic in a scope: run them again as futures, where it is handled as any
                // other scope's panic is.
                if t.join().is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
            }
        });
        let merged = merged.into_inner().unwrap_or_else(|p| p.into_inner());
        if failed.load(Ordering::Relaxed) || merged.outputs.len() != n {
            self.rec.rollback(mark);
            return None;
        }
        Some(merged.outputs)
    }

    /// Waits until the recorder has delivered every event to the sink.
    async fn flush(&self) -> Result<(), Fault> {
        self.rec
            .flush()
            .await
            .map_err(|e| Fault::Error(StateError::terminal_runtime(e.to_string())))
    }

    /// Sleeps until the clock reads `deadline_ms`, unless cancelled first.
    async fn sleep_until(&self, deadline_ms: i64, cancel: &Cancel) -> Result<(), Fault> {
        self.flush().await?;
        let at = self.rec.clock.instant_at(deadline_ms);
        tokio::select! {
            biased;
            _ = cancel.cancelled() => Err(Fault::Cancelled),
            _ = tokio::time::sleep_until(at) => Ok(()),
        }
    }

    /// When a failure whose last event is `last_id` happened: that event's recorded time, so
    /// that a retry interval does not start over when a resumed run replays the failure; now
    /// when history is off.
    fn failed_at(&self, last_id: u64) -> i64 {
        self.rec
            .time_of_event(last_id)
            .unwrap_or_else(|| self.rec.clock.now_ms())
    }

    // ===== the scope loop =====

    /// Runs a scope from its start state with `input`.
    pub(crate) fn run_block<'a>(
        &'a self,
        block: &'a Block,
        cur: &'a mut Cursor,
        input: Value,
        vars: &'a mut Vars,
        cancel: &'a Arc<Cancel>,
    ) -> BoxFuture<'a, Result<Value, Fault>> {
        let scope = Scope::new(cur, vars, cancel);
        if let Some(runner) = attached(block) {
            return runner.run(self, block, scope, input);
        }
        Box::pin(async move { self.scope_loop(block, scope, input).await.map(|(v, _)| v) })
    }

    /// [`Exec::run_block`] for the top level: its first state takes `input_text` (the
    /// execution's input as `ExecutionStarted` shows it, when recorded) as its input's text, and
    /// the last state's output text comes back with the output (for `ExecutionSucceeded`): the
    /// execution's input and output are rendered once each, not twice.
    pub(crate) fn run_root<'a>(
        &'a self,
        block: &'a Block,
        cur: &'a mut Cursor,
        (input, input_text): (Value, Option<Arc<str>>),
        vars: &'a mut Vars,
        cancel: &'a Arc<Cancel>,
    ) -> BoxFuture<'a, Result<Finished, Fault>> {
        let mut scope = Scope::new(cur, vars, cancel);
        if let Some(runner) = attached(block) {
            let run = runner.run(self, block, scope, input);
            return Box::pin(async move { run.await.map(|v| (v, None)) });
        }
        scope.flow.rendered = input_text;
        Box::pin(async move {
            self.scope_loop(block, scope, input)
                .await
                .map(|(v, flow)| (v, flow.rendered))
        })
    }

    /// The interpreter's loop over a scope's states; returns the output and what the last state
    /// handed on.
    async fn scope_loop(
        &self,
        block: &Block,
        mut scope: Scope<'_>,
        input: Value,
    ) -> Result<(Value, Flow), Fault> {
        let mut idx = block.start;
        let mut input = input;
        loop {
            let Some(st) = block.states.get(idx) else {
                return Err(Fault::Error(StateError::new(
                    names::RUNTIME,
                    "internal error: a transition names no state",
                )));
            };
            let (output, next) = if is_pure(st) && !self.flush_every_state {
                // No await: run it here, without an async call.
                self.run_pure_state(st, &mut scope, input)?
            } else {
                // Boxed, so that every scope's future does not carry the largest state's.
                Box::pin(self.run_state(st, &mut scope, input, None)).await?
            };
            match next {
                Some(next) => {
                    idx = next;
                    input = output;
                }
                None => return Ok((output, scope.flow)),
            }
        }
    }

    /// Runs one state of a scope on `input`: records its entry, runs it, checks the size of its
    /// output and records its exit. Returns the output and the next state (`None`: the scope ends
    /// with this output). The scope's flow carries what the previous state handed this one and
    /// receives what this one hands the next; `call` replaces the registry lookup of a Task's
    /// handler.
    pub(crate) async fn run_state(
        &self,
        st: &CState,
        scope: &mut Scope<'_>,
        input: Value,
        call: Option<&mut TaskCall<'_>>,
    ) -> Result<(Value, Option<usize>), Fault> {
        let (entered, in_size) = self.enter_state(st, scope.cur, &input, &mut scope.flow);
        let result = {
            let mut cx = StateCx {
                st,
                entered,
                cur: &mut *scope.cur,
                vars: &mut *scope.vars,
                cancel: scope.cancel,
                in_size,
            };
            match &st.kind {
                Kind::Wait(w) => self.wait(&mut cx, input, w).await,
                Kind::Task(t) => self.task(&mut cx, input, t, call).await,
                Kind::Parallel(p) => self.parallel(&mut cx, input, p).await,
                Kind::Map(m) => self.map(&mut cx, input, m).await,
                _ => self.pure_body(&mut cx, input),
            }
        };
        let done = self.exit_state(st, scope.cur, result, in_size, &mut scope.flow, None);
        if self.flush_every_state && done.is_ok() {
            // Queued when the sink queues appends: effects wait for it, the next state does not.
            self.rec
                .flush_state()
                .await
                .map_err(|e| Fault::Error(StateError::terminal_runtime(e.to_string())))?;
        }
        done
    }

    /// [`Exec::run_state`] for the states that never await (Pass, Choice, Succeed, Fail).
    #[inline]
    pub(crate) fn run_pure_state(
        &self,
        st: &CState,
        scope: &mut Scope<'_>,
        input: Value,
    ) -> Result<(Value, Option<usize>), Fault> {
        let (entered, in_size) = self.enter_state(st, scope.cur, &input, &mut scope.flow);
        let result = self.pure_body(
            &mut StateCx {
                st,
                entered,
                cur: &mut *scope.cur,
                vars: &mut *scope.vars,
                cancel: scope.cancel,
                in_size,
            },
            input,
        );
        // A state that never awaits exits at the time it entered (one clock reading).
        let at = Some(entered.stamp.time_ms).filter(|t| *t != i64::MIN);
        self.exit_state(st, scope.cur, result, in_size, &mut scope.flow, at)
    }

    /// The body of a state that never awaits (Pass, Choice, Succeed, Fail); shared by [`Exec::run_state`] and [`Exec::run_pure_state`].
    #[inline]
    fn pure_body(&self, cx: &mut StateCx<'_>, input: Value) -> Result<Step, Fault> {
        let st = cx.st;
        if let Some(j) = &st.jsonata {
            let r = self.jsonata_pure(cx, input, j);
            return self.evaluation_failed(cx, r);
        }
        match &st.kind {
            Kind::Pass {
                result,
                parameters,
                result_path,
            } => self.pass(cx, input, result.as_ref(), parameters.as_ref(), result_path),
            Kind::Choice {
                choices,
                targets,
                default,
            } => self.choice(cx, input, choices, targets, *default),
            Kind::Succeed => self.succeed(cx, input),
            Kind::Fail { error, cause } => self.fail(cx, &input, error.as_ref(), cause.as_ref()),
            Kind::Wait(_) | Kind::Task(_) | Kind::Parallel(_) | Kind::Map(_) => Err(Fault::Error(
                StateError::terminal_runtime("internal error: an awaiting state run as a pure one"),
            )),
        }
    }

    /// Records a state's `…Entered` event; returns it and the known size of the input.
    #[inline]
    fn enter_state(
        &self,
        st: &CState,
        cur: &mut Cursor,
        input: &Value,
        flow: &mut Flow,
    ) -> (Entered, Option<usize>) {
        // An upper bound of the input's size as JSON text, when known.
        let in_size = flow.in_size.take();
        let stamp = self.rec.record(cur, st.events.entered, || {
            let text = flow.rendered.take().unwrap_or_else(|| render(input));
            if passes_input_on(st) {
                // The output is the input: `exit_state` reuses the text.
                flow.rendered = Some(Arc::clone(&text));
            }
            EventKind::StateEntered {
                state_type: st.events.state_type,
                name: Arc::clone(&st.name),
                input: text,
            }
        });
        let entered = Entered {
            id: stamp.id,
            stamp,
        };
        (entered, in_size)
    }

    /// Finishes a state: aborted, failed, or its output checked against the payload limit and
    /// its `…Exited` event recorded.
    #[inline]
    fn exit_state(
        &self,
        st: &CState,
        cur: &mut Cursor,
        result: Result<Step, Fault>,
        in_size: Option<usize>,
        flow: &mut Flow,
        at: Option<i64>,
    ) -> Result<(Value, Option<usize>), Fault> {
        let rec_on = self.rec.enabled() && !cur.silent;
        // The input's text, when the output is the input (see `enter_state`).
        let input_text = if rec_on {
            flow.rendered.take().filter(|_| passes_input_on(st))
        } else {
            None
        };
        let step = match result {
            Ok(step) => step,
            Err(Fault::Cancelled) => {
                if let Some(aborted) = st.events.aborted {
                    self.rec.record(cur, aborted, || EventKind::StateAborted {
                        state_type: st.events.state_type,
                        name: Arc::clone(&st.name),
                    });
                }
                return Err(Fault::Cancelled);
            }
            Err(e) => return Err(e),
        };
        let text = if rec_on {
            Some(input_text.unwrap_or_else(|| render(&step.output)))
        } else {
            None
        };
        let size = match (&text, step.size_hint) {
            (Some(t), _) => t.len(),
            (None, Some(h)) if h <= self.payload_limit => h,
            // Choice, Succeed and Wait pass their input on unchanged.
            (None, _) => match in_size.filter(|_| passes_input_on(st)) {
                Some(n) => n,
                None => json_size(&step.output, self.payload_limit),
            },
        };
        if size > self.payload_limit {
            let mut e = io::data_limit(&st.name);
            e.terminal = true;
            return Err(e.into());
        }
        // Nesting (workflow_asl::limits): only a state that builds data can deepen it, and a
        // value `d` levels deep takes at least `2d` bytes, so small outputs are never walked.
        if size > 2 * MAX_NESTING_DEPTH
            && !passes_input_on(st)
            && io::nesting_depth(&step.output, MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH
        {
            return Err(Fault::Error(StateError::terminal_runtime(nesting_cause(
                &format!("output of the state '{}'", st.name),
            ))));
        }
        if let Some(exited) = st.events.exited {
            self.rec
                .record_at(cur, exited, at, || EventKind::StateExited {
                    state_type: st.events.state_type,
                    name: Arc::clone(&st.name),
                    output: text.clone().unwrap_or_else(|| render(&step.output)),
                });
        }
        if let Some(f) = self.rec.fault_if_possible() {
            return Err(Fault::Error(StateError::terminal_runtime(f)));
        }
        flow.rendered = text;
        flow.in_size = Some(size);
        Ok((step.output, step.next))
    }
}
