//! The interpreter: runs a compiled [`Program`](crate::program::Program) on one tokio task.
//!
//! An execution is a single future. The top level, each Parallel branch and each Map iteration is
//! a loop over compiled states ([`Exec::run_block`]); branches and iterations are futures polled
//! together on the execution's task (`FuturesUnordered`), never spawned, and a Map keeps at most
//! its concurrency limit of iterations in flight, so memory is bounded by `MaxConcurrency`, not by
//! the item count. Pure states (Pass, Choice, Succeed, Fail) never await; only Task, Wait, retry
//! backoff, and the joins of Parallel and Map do.
//!
//! Every effect goes through the [`Recorder`]: task results and failures are recorded before the
//! state acts on them, Wait deadlines are absolute (the `WaitStateEntered` time plus the wait),
//! retry delays are measured from the recorded failure, and random numbers come from the scope's
//! seeded generator. Re-running a program over its own history (see [`crate::recorder`])
//! therefore reproduces its position and data.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::{Map, Value};
use workflow_asl::error::{names, Failure};
use workflow_asl::eval::{java_json, json_string_len, number_len, Env};
use workflow_asl::path::{Path, Selected};
use workflow_asl::retry::{decide, find_catcher, RetryDecision, RetryState};

use crate::cancel::Cancel;
use crate::clock::format_ms;
use crate::handler::{call_guarded, Handlers, Heartbeat, LazyContext, TaskContext, TaskError};
use crate::history::{EventType, HistoryEvent};
use crate::mock::{MockResponse, MockTestCase};
use crate::program::{
    Block, CState, ErrorsK, IoPath, Kind, MapK, NumberSource, ParallelK, ResourceKind,
    ResultPathOpt, StrSource, TaskK, WaitK,
};
use crate::recorder::{Cursor, Detail, Recorder, Stamp};

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// A typed handler call that replaces the registry lookup of one Task state (see
/// [`crate::driver`]): it receives the task's effective input and context, returns the result.
pub(crate) type TaskCall<'c> = dyn FnMut(Value, TaskContext) -> CallFuture<'c> + Send + 'c;

/// The future of a [`TaskCall`] (a panic while it is polled fails the call).
pub(crate) type CallFuture<'c> = crate::driver::Guarded<'c>;

/// What a state hands the next one besides its output: the output's text, when it was rendered
/// for the history (the next `…Entered` input), and an upper bound of its size as JSON text.
#[derive(Debug, Default)]
pub(crate) struct Flow {
    pub(crate) rendered: Option<Arc<str>>,
    pub(crate) in_size: Option<usize>,
}

/// Variables set by `Assign`, visible in a scope.
pub(crate) type Vars = Map<String, Value>;

/// The longest wait AWS accepts: the Wait state's "delay is too long" limit (2^31 - 1 seconds is
/// the boundary recorded against AWS, 24,855 days).
const MAX_WAIT_MS: i64 = 2_147_483_647_000;

/// The concurrency limit of an inline Map (AWS: "up to 40 concurrent iterations").
const INLINE_MAP_CONCURRENCY: usize = 40;

/// The concurrency limit of a distributed Map without `MaxConcurrency`.
const DISTRIBUTED_MAP_CONCURRENCY: usize = 1000;

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

    fn name(&self) -> &str {
        self.error.as_deref().unwrap_or("")
    }

    /// The error output a catcher passes on: `{"Error": …, "Cause": …}`.
    fn output(&self) -> Value {
        let mut o = Map::new();
        if let Some(e) = &self.error {
            o.insert("Error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &self.cause {
            o.insert("Cause".into(), Value::String(c.clone()));
        }
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
    /// without walking the output (see [`Exec::run_block`]).
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
    pub(crate) state_machine_arn: String,
    pub(crate) state_machine_name: String,
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
    pub(crate) mocks: Option<Arc<MockTestCase>>,
    pub(crate) payload_limit: usize,
    pub(crate) seed: u64,
    pub(crate) info: Arc<ExecInfo>,
    /// Flush the recorder after every state's exit (`StartOptions::flush_every_state`), so a
    /// state's events are committed before the next state starts.
    pub(crate) flush_every_state: bool,
}

/// The state's `…Entered` event, which error causes refer to.
#[derive(Clone, Copy)]
struct Entered {
    id: u64,
    stamp: Stamp,
}

/// The effective input: the raw input itself, or a value selected from it.
enum Eff {
    Same,
    Owned(Value),
}

impl Eff {
    fn get<'a>(&'a self, input: &'a Value) -> &'a Value {
        match self {
            Eff::Same => input,
            Eff::Owned(v) => v,
        }
    }
}

/// `v` as AWS's compact JSON text, for the history. The text is written into a reused buffer
/// and copied once into its `Arc` (instead of growing a fresh `String` and copying that).
fn render(v: &Value) -> Arc<str> {
    thread_local! {
        static BUF: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUF.with(|buf| match buf.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            workflow_asl::eval::write_java_json(v, &mut buf);
            let text = Arc::from(buf.as_str());
            // Do not keep a huge buffer alive after a huge payload.
            if buf.capacity() > 1 << 20 {
                *buf = String::new();
            }
            text
        }
        Err(_) => Arc::from(java_json(v)),
    })
}

/// The size of `v` as compact JSON text, counting only up to about `limit`.
pub(crate) fn json_size(v: &Value, limit: usize) -> usize {
    let mut total = 0usize;
    size_into(v, limit, 0, &mut total);
    total
}

/// Adds the size of `v` to `total`; recursion is bounded (deep values continue on a heap stack).
fn size_into(v: &Value, limit: usize, depth: usize, total: &mut usize) {
    if depth > 64 {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            *total += scalar_or_frame_size(v);
            match v {
                Value::Array(a) => stack.extend(a.iter()),
                Value::Object(o) => stack.extend(o.values()),
                _ => {}
            }
            if *total > limit {
                return;
            }
        }
        return;
    }
    // One pass over containers (keys and values together); scalars are sized inline.
    match v {
        Value::Array(a) => {
            *total += 2 + a.len().saturating_sub(1);
            for x in a {
                size_into(x, limit, depth + 1, total);
                if *total > limit {
                    return;
                }
            }
        }
        Value::Object(o) => {
            // Braces, commas and a colon per entry.
            *total += 2 + o.len().saturating_sub(1) + o.len();
            for (k, x) in o {
                *total += json_string_len(k);
                size_into(x, limit, depth + 1, total);
                if *total > limit {
                    return;
                }
            }
        }
        scalar => *total += scalar_or_frame_size(scalar),
    }
}

/// The size of a scalar, or of an array's or object's own punctuation and keys.
fn scalar_or_frame_size(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_len(n),
        Value::String(s) => json_string_len(s),
        Value::Array(a) => 2 + a.len().saturating_sub(1),
        Value::Object(o) => {
            let keys: usize = o.keys().map(|k| json_string_len(k) + 1).sum();
            2 + keys + o.len().saturating_sub(1)
        }
    }
}

/// A task timeout (`States.Timeout`, `States.HeartbeatTimeout`). AWS gives it an empty cause: a
/// catcher's error output is `{"Error": "States.Timeout", "Cause": ""}` (recorded:
/// `test_task_service_lambda::test_invoke_timeout`), while `ExecutionFailed` shows no cause.
fn timed_out(error: &str) -> StateError {
    StateError {
        error: Some(error.into()),
        cause: Some(String::new()),
        terminal: false,
    }
}

/// The context object of states that do not read it.
static NULL: Value = Value::Null;

/// Whether a state has identity `InputPath`/`OutputPath`, no `Assign` and does not read `$$`.
fn is_plain(st: &CState) -> bool {
    st.assign.is_none()
        && !st.needs_context
        && matches!(st.input_path, IoPath::Identity)
        && matches!(st.output_path, IoPath::Identity)
}

/// Whether a state never awaits (it runs without an async call).
pub(crate) fn is_pure(st: &CState) -> bool {
    matches!(
        st.kind,
        Kind::Pass { .. }
            | Kind::Choice { .. }
            | Kind::Succeed
            | Kind::Fail { .. }
            | Kind::Unsupported(_)
    )
}

/// Whether a state's output is always its input (so its size is the input's).
fn passes_input_on(st: &CState) -> bool {
    matches!(st.kind, Kind::Choice { .. } | Kind::Succeed | Kind::Wait(_))
        && matches!(st.input_path, IoPath::Identity)
        && matches!(st.output_path, IoPath::Identity)
}

/// The input `ResultPath` needs: none when the result replaces it (so that a state's input is
/// not copied just to be dropped).
fn for_result_path(rp: &ResultPathOpt, input: &Value) -> Value {
    match rp {
        ResultPathOpt::Replace => Value::Null,
        ResultPathOpt::Discard | ResultPathOpt::Path(_) => input.clone(),
    }
}

fn data_limit(what: &str) -> StateError {
    StateError::new(
        names::DATA_LIMIT_EXCEEDED,
        format!(
            "The state/task '{what}' returned a result with a size exceeding the maximum number of bytes service limit."
        ),
    )
}

/// Reads an integer AWS accepts from a value selected by a `…Path` field: an integer, or a
/// string holding one.
fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if !n.is_f64() => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    }
}

/// Reads a number AWS accepts as a float: a number, or a string holding one.
fn as_float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        _ => None,
    }
}

/// Reads an integer AWS accepts as a `long` from a value selected by a `…Path` field.
fn as_long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                .map(|f| f as i64)
        }),
        _ => None,
    }
}

/// The context object (`$$`) of a state: the execution, the machine, the state (entered at
/// `entered_ms`, with `RetryCount` when it can retry), the task token and the Map item.
pub(crate) fn build_context(
    info: &ExecInfo,
    state_name: &str,
    entered_ms: i64,
    retry: Option<u32>,
    item: Option<(usize, &Value)>,
    token: Option<&str>,
) -> Value {
    let mut execution = Map::new();
    execution.insert("Id".into(), info.execution_arn.clone().into());
    execution.insert("Input".into(), info.input.clone());
    if info.express {
        // AWS's order for EXPRESS executions, which cannot be redriven.
        execution.insert("Name".into(), info.name.clone().into());
        execution.insert("RoleArn".into(), info.role_arn.to_string().into());
        execution.insert("StartTime".into(), info.start_time.clone().into());
    } else {
        execution.insert("StartTime".into(), info.start_time.clone().into());
        execution.insert("Name".into(), info.name.clone().into());
        execution.insert("RoleArn".into(), info.role_arn.to_string().into());
        execution.insert("RedriveCount".into(), 0.into());
    }
    let mut machine = Map::new();
    machine.insert("Id".into(), info.state_machine_arn.clone().into());
    machine.insert("Name".into(), info.state_machine_name.clone().into());
    let mut state = Map::new();
    state.insert("Name".into(), state_name.into());
    state.insert("EnteredTime".into(), format_ms(entered_ms).into());
    if let Some(retry_count) = retry {
        state.insert("RetryCount".into(), retry_count.into());
    }
    let mut ctx = Map::new();
    ctx.insert("Execution".into(), Value::Object(execution));
    ctx.insert("StateMachine".into(), Value::Object(machine));
    ctx.insert("State".into(), Value::Object(state));
    if let Some(token) = token {
        let mut task = Map::new();
        task.insert("Token".into(), token.into());
        ctx.insert("Task".into(), Value::Object(task));
    }
    if let Some((index, value)) = item {
        let mut it = Map::new();
        it.insert("Index".into(), index.into());
        it.insert("Value".into(), value.clone());
        let mut map = Map::new();
        map.insert("Item".into(), Value::Object(it));
        ctx.insert("Map".into(), Value::Object(map));
    }
    Value::Object(ctx)
}

impl Exec {
    // ===== helpers =====

    fn runtime(&self, st: &CState, entered: Entered, cause: &str) -> StateError {
        StateError::new(
            names::RUNTIME,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                st.name, entered.id, cause
            ),
        )
    }

    /// A failure from the pure semantics, with the state prefix AWS puts on runtime errors.
    fn wrap(&self, st: &CState, entered: Entered, f: Failure) -> StateError {
        if f.error == names::RUNTIME {
            self.runtime(st, entered, &f.cause)
        } else {
            StateError::new(f.error, f.cause)
        }
    }

    /// The context object for a state.
    fn context(
        &self,
        st: &CState,
        entered: Entered,
        retry_count: u32,
        item: Option<(usize, &Value)>,
        token: Option<&str>,
    ) -> Value {
        // Only the states that can retry show `RetryCount`.
        let retry = matches!(st.kind, Kind::Task(_) | Kind::Parallel(_) | Kind::Map(_))
            .then_some(retry_count);
        build_context(
            &self.info,
            &st.name,
            self.rec.time_of(entered.stamp),
            retry,
            item,
            token,
        )
    }

    #[inline]
    fn context_if_needed(&self, st: &CState, entered: Entered, retry: u32) -> Value {
        if st.needs_context {
            self.context(st, entered, retry, None, None)
        } else {
            Value::Null
        }
    }

    #[inline]
    fn input_path(
        &self,
        st: &CState,
        entered: Entered,
        input: &Value,
        ctx: &Value,
        vars: &Vars,
    ) -> Result<Eff, StateError> {
        match &st.input_path {
            IoPath::Identity => Ok(Eff::Same),
            IoPath::Null => Ok(Eff::Owned(Value::Object(Map::new()))),
            IoPath::Path(p) => {
                let env = Env::new(input, ctx, vars);
                p.evaluate(&env)
                    .map(|s| Eff::Owned(s.into_value()))
                    .map_err(|m| self.runtime(st, entered, &m.invalid_path_cause(p)))
            }
        }
    }

    #[inline]
    fn output_path(
        &self,
        st: &CState,
        entered: Entered,
        output: Value,
        ctx: &Value,
        vars: &Vars,
    ) -> Result<Value, StateError> {
        match &st.output_path {
            IoPath::Identity => Ok(output),
            IoPath::Null => Ok(Value::Object(Map::new())),
            IoPath::Path(p) => {
                let env = Env::new(&output, ctx, vars);
                p.evaluate(&env)
                    .map(|s| s.into_value())
                    .map_err(|m| self.runtime(st, entered, &m.invalid_path_cause(p)))
            }
        }
    }

    #[inline]
    fn result_path(
        &self,
        st: &CState,
        entered: Entered,
        rp: &ResultPathOpt,
        input: Value,
        result: Value,
    ) -> Result<Value, StateError> {
        match rp {
            ResultPathOpt::Replace => Ok(result),
            ResultPathOpt::Discard => Ok(input),
            ResultPathOpt::Path(p) => p
                .apply_result(input, result)
                .map_err(|f| self.wrap(st, entered, f)),
        }
    }

    /// Evaluates `Assign` (all values first, against the variables before the assignment).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn assign(
        &self,
        st: &CState,
        entered: Entered,
        tpl: Option<&crate::sem::Template>,
        value: &Value,
        ctx: &Value,
        vars: &mut Vars,
        cur: &mut Cursor,
    ) -> Result<(), StateError> {
        let Some(tpl) = tpl else { return Ok(()) };
        let env = Env::new(value, ctx, vars);
        let assigned = tpl
            .evaluate(&env, cur)
            .map_err(|f| self.wrap(st, entered, f))?;
        if let Value::Object(o) = assigned {
            for (k, v) in o {
                vars.insert(k, v);
            }
        }
        Ok(())
    }

    /// A number field given literally or through a `…Path`.
    fn number(
        &self,
        st: &CState,
        entered: Entered,
        src: &NumberSource,
        input: &Value,
        ctx: &Value,
        vars: &Vars,
    ) -> Result<Value, StateError> {
        match src {
            NumberSource::Literal(v) => Ok(v.clone()),
            NumberSource::Path(p, field) => {
                let env = Env::new(input, ctx, vars);
                p.evaluate(&env).map(|s| s.into_value()).map_err(|_| {
                    self.runtime(
                        st,
                        entered,
                        &format!(
                            "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                            p.as_str(),
                            field,
                            java_json(input)
                        ),
                    )
                })
            }
        }
    }

    async fn flush(&self) -> Result<(), Fault> {
        self.rec.flush().await.map_err(|e| {
            Fault::Error(StateError {
                error: Some(names::RUNTIME.into()),
                cause: Some(e.to_string()),
                terminal: true,
            })
        })
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

    // ===== the state loop =====

    /// Runs a scope from its start state with `input`.
    pub(crate) fn run_block<'a>(
        &'a self,
        block: &'a Block,
        cur: &'a mut Cursor,
        input: Value,
        vars: &'a mut Vars,
        cancel: &'a Arc<Cancel>,
    ) -> BoxFuture<'a, Result<Value, Fault>> {
        if let Some(bound) = &block.driver {
            return crate::driver::run(self, block, bound, cur, input, vars, cancel);
        }
        Box::pin(async move {
            let mut idx = block.start;
            let mut input = input;
            let mut flow = Flow::default();
            loop {
                let Some(st) = block.states.get(idx) else {
                    return Err(Fault::Error(StateError::new(
                        names::RUNTIME,
                        "internal error: a transition names no state",
                    )));
                };
                let (output, next) = if is_pure(st) && !self.flush_every_state {
                    // No await: run it here, without an async call.
                    self.run_pure_state(st, cur, input, &mut flow, vars)?
                } else {
                    // Boxed, so that every scope's future does not carry the largest state's.
                    Box::pin(self.run_state(st, cur, input, &mut flow, vars, cancel, None)).await?
                };
                match next {
                    Some(next) => {
                        idx = next;
                        input = output;
                    }
                    None => return Ok(output),
                }
            }
        })
    }

    /// Runs one state of a scope on `input`: records its entry, runs it, checks the size of its
    /// output and records its exit. Returns the output and the next state (`None`: the scope ends
    /// with this output). `flow` carries what the previous state handed this one and receives
    /// what this one hands the next; `call` replaces the registry lookup of a Task's handler.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_state(
        &self,
        st: &CState,
        cur: &mut Cursor,
        input: Value,
        flow: &mut Flow,
        vars: &mut Vars,
        cancel: &Arc<Cancel>,
        call: Option<&mut TaskCall<'_>>,
    ) -> Result<(Value, Option<usize>), Fault> {
        let (entered, in_size) = self.enter_state(st, cur, &input, flow);
        let result = match &st.kind {
            Kind::Wait(w) => self.wait(st, entered, input, w, vars, cur, cancel).await,
            Kind::Task(t) => {
                self.task(st, entered, input, t, vars, cur, cancel, call)
                    .await
            }
            Kind::Parallel(p) => {
                self.parallel(st, entered, input, p, vars, cur, cancel)
                    .await
            }
            Kind::Map(m) => self.map(st, entered, input, m, vars, cur, cancel).await,
            _ => self.pure_body(st, entered, input, vars, cur, in_size),
        };
        let done = self.exit_state(st, cur, result, in_size, flow);
        if self.flush_every_state && done.is_ok() {
            self.flush().await?;
        }
        done
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
            Detail::StateEntered {
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
                    self.rec.record(cur, aborted, || Detail::StateAborted {
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
            let mut e = data_limit(&st.name);
            e.terminal = true;
            return Err(e.into());
        }
        if let Some(exited) = st.events.exited {
            self.rec.record(cur, exited, || Detail::StateExited {
                name: Arc::clone(&st.name),
                output: text.clone().unwrap_or_else(|| render(&step.output)),
            });
        }
        if let Some(f) = self.rec.fault_if_possible() {
            return Err(Fault::Error(StateError {
                error: Some(names::RUNTIME.into()),
                cause: Some(f),
                terminal: true,
            }));
        }
        flow.rendered = text;
        flow.in_size = Some(size);
        Ok((step.output, step.next))
    }

    /// [`Exec::run_state`] for the states that never await (Pass, Choice, Succeed, Fail).
    #[inline]
    pub(crate) fn run_pure_state(
        &self,
        st: &CState,
        cur: &mut Cursor,
        input: Value,
        flow: &mut Flow,
        vars: &mut Vars,
    ) -> Result<(Value, Option<usize>), Fault> {
        let (entered, in_size) = self.enter_state(st, cur, &input, flow);
        let result = self.pure_body(st, entered, input, vars, cur, in_size);
        self.exit_state(st, cur, result, in_size, flow)
    }

    /// The body of a state that never awaits (Pass, Choice, Succeed, Fail, or a state the
    /// runtime does not support); shared by [`Exec::run_state`] and [`Exec::run_pure_state`].
    #[inline]
    fn pure_body(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        vars: &mut Vars,
        cur: &mut Cursor,
        in_size: Option<usize>,
    ) -> Result<Step, Fault> {
        match &st.kind {
            Kind::Pass {
                result,
                parameters,
                result_path,
            } => self.pass(
                st,
                entered,
                input,
                result,
                parameters,
                result_path,
                vars,
                cur,
                in_size,
            ),
            Kind::Choice {
                choices,
                targets,
                default,
            } => self.choice(st, entered, input, choices, targets, *default, vars, cur),
            Kind::Succeed => self.succeed(st, entered, input, vars),
            Kind::Fail { error, cause } => self.fail(
                st,
                entered,
                &input,
                error.as_ref(),
                cause.as_ref(),
                vars,
                cur,
            ),
            Kind::Unsupported(cause) => Err(Fault::Error(StateError {
                error: Some(names::RUNTIME.into()),
                cause: Some(cause.clone()),
                terminal: true,
            })),
            Kind::Wait(_) | Kind::Task(_) | Kind::Parallel(_) | Kind::Map(_) => {
                Err(Fault::Error(StateError {
                    error: Some(names::RUNTIME.into()),
                    cause: Some("internal error: an awaiting state run as a pure one".into()),
                    terminal: true,
                }))
            }
        }
    }

    // ===== Pass, Choice, Succeed, Fail =====

    #[allow(clippy::too_many_arguments)]
    fn pass(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        result: &Option<Value>,
        parameters: &Option<crate::sem::Template>,
        result_path: &ResultPathOpt,
        vars: &mut Vars,
        cur: &mut Cursor,
        in_size: Option<usize>,
    ) -> Result<Step, Fault> {
        if let (None, Some(tpl), true) = (result, parameters, is_plain(st)) {
            // The common shape (Parameters, no InputPath/OutputPath/Assign/`$$`): build the
            // result from the input and place it. The template bounds the result's size (for
            // the output's bound, see `result_size_hint`).
            let (output, size_hint) = match result_path {
                // The result replaces the input: it may be built in the input's place.
                ResultPathOpt::Replace => {
                    let (output, size) = tpl
                        .evaluate_replacing(input, &NULL, vars, cur, in_size, self.payload_limit)
                        .map_err(|f| self.wrap(st, entered, f))?;
                    (output, Some(size))
                }
                // Built and placed at once (in place when the old value has its shape).
                ResultPathOpt::Path(p) => {
                    let (output, size) = tpl
                        .evaluate_at(input, p, &NULL, vars, cur, in_size, self.payload_limit)
                        .map_err(|f| self.wrap(st, entered, f))?;
                    (output, in_size.map(|n| n + size + 4 * p.as_str().len() + 8))
                }
                ResultPathOpt::Discard => {
                    let env = Env::new(&input, &NULL, vars);
                    tpl.evaluate(&env, cur)
                        .map_err(|f| self.wrap(st, entered, f))?;
                    (input, in_size)
                }
            };
            return Ok(Step {
                output,
                next: st.next,
                size_hint,
            });
        }
        let ctx = self.context_if_needed(st, entered, 0);
        let eff = self.input_path(st, entered, &input, &ctx, vars)?;
        let value: Value = if let Some(r) = result {
            r.clone()
        } else if let Some(tpl) = parameters {
            let env = Env::new(eff.get(&input), &ctx, vars);
            tpl.evaluate(&env, cur)
                .map_err(|f| self.wrap(st, entered, f))?
        } else {
            match (&eff, result_path) {
                // The effective input is the result and replaces the input: no copy.
                (Eff::Same, ResultPathOpt::Replace) => {
                    self.assign(st, entered, st.assign.as_ref(), &input, &ctx, vars, cur)?;
                    let output = self.output_path(st, entered, input, &ctx, vars)?;
                    return Ok(Step::to(output, st.next));
                }
                _ => eff.get(&input).clone(),
            }
        };
        drop(eff);
        self.assign(st, entered, st.assign.as_ref(), &value, &ctx, vars, cur)?;
        let hint = match (&st.output_path, in_size) {
            (IoPath::Identity, Some(size)) => self.result_size_hint(result_path, &value, size),
            _ => None,
        };
        let output = self.result_path(st, entered, result_path, input, value)?;
        let output = self.output_path(st, entered, output, &ctx, vars)?;
        Ok(Step {
            output,
            next: st.next,
            size_hint: hint,
        })
    }

    /// An upper bound of the size of `ResultPath` applied to an input of `in_size` bytes, from
    /// the size of the result (without walking the input).
    fn result_size_hint(
        &self,
        rp: &ResultPathOpt,
        result: &Value,
        in_size: usize,
    ) -> Option<usize> {
        match rp {
            ResultPathOpt::Replace => None,
            ResultPathOpt::Discard => Some(in_size),
            ResultPathOpt::Path(p) => {
                // The input plus the result, plus a new field and the objects on its way (at
                // most a few bytes per path byte): an upper bound that ignores the value the
                // result replaces, so that the input is not walked. When the bound passes the
                // limit, the output's exact size is measured instead (and the bound restarts).
                let added = json_size(result, self.payload_limit);
                Some(in_size + added + 4 * p.as_str().len() + 8)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn choice(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        choices: &crate::sem::Choices,
        targets: &[usize],
        default: Option<usize>,
        vars: &mut Vars,
        cur: &mut Cursor,
    ) -> Result<Step, Fault> {
        if is_plain(st) {
            // No InputPath/OutputPath/state Assign/`$$`: choose, and pass the input on.
            let chosen = {
                let env = Env::new(&input, &NULL, vars);
                choices
                    .evaluate(&env)
                    .map_err(|f| self.wrap(st, entered, f))?
            };
            let next = match chosen {
                Some(i) => {
                    self.assign(st, entered, choices.assign(i), &input, &NULL, vars, cur)?;
                    targets.get(i).copied()
                }
                None => default,
            };
            let Some(next) = next else {
                return Err(self
                    .wrap(st, entered, workflow_asl::choice::no_choice_matched())
                    .into());
            };
            return Ok(Step::to(input, Some(next)));
        }
        let ctx = self.context_if_needed(st, entered, 0);
        let eff = self.input_path(st, entered, &input, &ctx, vars)?;
        let chosen = {
            let env = Env::new(eff.get(&input), &ctx, vars);
            choices
                .evaluate(&env)
                .map_err(|f| self.wrap(st, entered, f))?
        };
        let next = match chosen {
            Some(i) => {
                let assign = choices.assign(i);
                self.assign(st, entered, assign, eff.get(&input), &ctx, vars, cur)?;
                targets.get(i).copied()
            }
            None => default,
        };
        let Some(next) = next else {
            return Err(self
                .wrap(st, entered, workflow_asl::choice::no_choice_matched())
                .into());
        };
        self.assign(
            st,
            entered,
            st.assign.as_ref(),
            eff.get(&input),
            &ctx,
            vars,
            cur,
        )?;
        let eff = match eff {
            Eff::Same => input,
            Eff::Owned(v) => v,
        };
        let output = self.output_path(st, entered, eff, &ctx, vars)?;
        Ok(Step::to(output, Some(next)))
    }

    fn succeed(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        vars: &mut Vars,
    ) -> Result<Step, Fault> {
        let ctx = self.context_if_needed(st, entered, 0);
        let eff = self.input_path(st, entered, &input, &ctx, vars)?;
        let eff = match eff {
            Eff::Same => input,
            Eff::Owned(v) => v,
        };
        let output = self.output_path(st, entered, eff, &ctx, vars)?;
        Ok(Step::to(output, None))
    }

    #[allow(clippy::too_many_arguments)]
    fn fail(
        &self,
        st: &CState,
        entered: Entered,
        input: &Value,
        error: Option<&StrSource>,
        cause: Option<&StrSource>,
        vars: &Vars,
        cur: &mut Cursor,
    ) -> Result<Step, Fault> {
        let ctx = self.context_if_needed(st, entered, 0);
        let mut read = |src: Option<&StrSource>| -> Result<Option<String>, StateError> {
            match src {
                None => Ok(None),
                Some(StrSource::Literal(s)) => Ok(Some(s.clone())),
                Some(StrSource::Call(tpl)) => {
                    let env = Env::new(input, &ctx, vars);
                    let v = tpl
                        .evaluate(&env, cur)
                        .map_err(|f| self.wrap(st, entered, f))?;
                    Ok(Some(match v.get("v") {
                        Some(Value::String(s)) => s.clone(),
                        Some(other) => java_json(other),
                        None => String::new(),
                    }))
                }
                Some(StrSource::Path(p, field)) => {
                    let env = Env::new(input, &ctx, vars);
                    match p.evaluate(&env) {
                        Ok(sel) => Ok(Some(match sel.into_value() {
                            Value::String(s) => s,
                            other => java_json(&other),
                        })),
                        Err(_) => Err(self.runtime(
                            st,
                            entered,
                            &format!(
                                "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                                p.as_str(),
                                field,
                                java_json(input)
                            ),
                        )),
                    }
                }
            }
        };
        let error = read(error)?;
        let cause = read(cause)?;
        Err(Fault::Error(StateError {
            error,
            cause,
            terminal: false,
        }))
    }

    // ===== Wait =====

    #[allow(clippy::too_many_arguments)]
    async fn wait(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        w: &WaitK,
        vars: &mut Vars,
        cur: &mut Cursor,
        cancel: &Arc<Cancel>,
    ) -> Result<Step, Fault> {
        let ctx = self.context_if_needed(st, entered, 0);
        let eff = self.input_path(st, entered, &input, &ctx, vars)?;
        let start = self.rec.time_of(entered.stamp);
        let deadline = {
            let value = eff.get(&input);
            let env = Env::new(value, &ctx, vars);
            let select = |p: &Path, field: &str| -> Result<Value, StateError> {
                p.evaluate(&env).map(|s| s.into_value()).map_err(|_| {
                    self.runtime(
                        st,
                        entered,
                        &format!(
                            "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                            p.as_str(),
                            field,
                            java_json(value)
                        ),
                    )
                })
            };
            match w {
                WaitK::Seconds(v) => {
                    let secs = v.as_f64().unwrap_or(0.0);
                    start.saturating_add((secs * 1000.0) as i64)
                }
                WaitK::SecondsPath(p) => {
                    let v = select(p, "SecondsPath")?;
                    let text = java_json(&v);
                    let n = match &v {
                        Value::Number(n) if n.is_i64() || n.is_u64() => n.as_i64(),
                        _ => None,
                    };
                    let Some(n) = n else {
                        return Err(self
                            .runtime(
                                st,
                                entered,
                                &format!(
                                    "The SecondsPath parameter cannot be parsed as a long value: {} == {}",
                                    p.as_str(),
                                    text
                                ),
                            )
                            .into());
                    };
                    if n < 0 {
                        return Err(self
                            .runtime(
                                st,
                                entered,
                                &format!(
                                    "The SecondsPath parameter references a negative value: {} == {}",
                                    p.as_str(),
                                    text
                                ),
                            )
                            .into());
                    }
                    start.saturating_add(n.saturating_mul(1000))
                }
                WaitK::Timestamp(t) => match workflow_asl::timestamp::Timestamp::parse(t) {
                    Some(ts) => ts.to_utc().timestamp_millis(),
                    None => {
                        return Err(self
                            .runtime(
                                st,
                                entered,
                                &format!(
                                    "The Timestamp parameter does not reference a valid ISO-8601 extended offset date-time format string: {t}"
                                ),
                            )
                            .into())
                    }
                },
                WaitK::TimestampPath(p) => {
                    let v = select(p, "TimestampPath")?;
                    let parsed = v
                        .as_str()
                        .and_then(workflow_asl::timestamp::Timestamp::parse);
                    match parsed {
                        Some(ts) => ts.to_utc().timestamp_millis(),
                        None => {
                            let shown = match &v {
                                Value::String(s) => s.clone(),
                                other => java_json(other),
                            };
                            return Err(self
                                .runtime(
                                    st,
                                    entered,
                                    &format!(
                                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {} == {}",
                                        p.as_str(),
                                        shown
                                    ),
                                )
                                .into());
                        }
                    }
                }
            }
        };
        if deadline.saturating_sub(start) > MAX_WAIT_MS {
            return Err(self
                .runtime(st, entered, "Wait state delay is too long.")
                .into());
        }
        self.sleep_until(deadline, cancel).await?;
        self.assign(
            st,
            entered,
            st.assign.as_ref(),
            eff.get(&input),
            &ctx,
            vars,
            cur,
        )?;
        let eff = match eff {
            Eff::Same => input,
            Eff::Owned(v) => v,
        };
        let output = self.output_path(st, entered, eff, &ctx, vars)?;
        Ok(Step::to(output, st.next))
    }

    // ===== error handling shared by Task, Parallel and Map =====

    /// After a failed attempt: `Ok(Some(delay_ms))` to retry, `Ok(None)` to give up.
    fn retry_delay(
        &self,
        errors: &ErrorsK,
        retry: &mut RetryState,
        e: &StateError,
        cur: &mut Cursor,
    ) -> Option<i64> {
        if e.terminal {
            return None;
        }
        match decide(&errors.retriers, retry, e.name(), || cur.next_unit()) {
            RetryDecision::Retry { delay, .. } => {
                Some(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
            }
            RetryDecision::GiveUp => None,
        }
    }

    /// Applies the first matching catcher, or returns the error.
    #[allow(clippy::too_many_arguments)]
    fn catch(
        &self,
        st: &CState,
        entered: Entered,
        errors: &ErrorsK,
        e: StateError,
        input: Value,
        vars: &mut Vars,
        cur: &mut Cursor,
    ) -> Result<Step, Fault> {
        if e.terminal {
            return Err(e.into());
        }
        let Some(i) = find_catcher(&errors.catchers, e.name()) else {
            return Err(e.into());
        };
        let error_output = e.output();
        let ctx = self.context_if_needed(st, entered, 0);
        let assign = errors.catch_assign.get(i).and_then(Option::as_ref);
        self.assign(st, entered, assign, &error_output, &ctx, vars, cur)?;
        let rp = errors
            .catch_result_paths
            .get(i)
            .unwrap_or(&ResultPathOpt::Replace);
        let output = self.result_path(st, entered, rp, input, error_output)?;
        Ok(Step::to(output, errors.catch_targets.get(i).copied()))
    }

    /// Shapes a successful result: ResultSelector, Assign, ResultPath, OutputPath.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        result: Value,
        selector: Option<&crate::sem::Template>,
        rp: &ResultPathOpt,
        ctx: &Value,
        vars: &mut Vars,
        cur: &mut Cursor,
    ) -> Result<Value, StateError> {
        let result = match selector {
            Some(tpl) => {
                let env = Env::new(&result, ctx, vars);
                tpl.evaluate(&env, cur)
                    .map_err(|f| self.wrap(st, entered, f))?
            }
            None => result,
        };
        self.assign(st, entered, st.assign.as_ref(), &result, ctx, vars, cur)?;
        let output = self.result_path(st, entered, rp, input, result)?;
        self.output_path(st, entered, output, ctx, vars)
    }

    // ===== Task =====

    #[allow(clippy::too_many_arguments)]
    async fn task(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        t: &TaskK,
        vars: &mut Vars,
        cur: &mut Cursor,
        cancel: &Arc<Cancel>,
        mut call: Option<&mut TaskCall<'_>>,
    ) -> Result<Step, Fault> {
        let mut retry = RetryState::new();
        let lambda = t.resource_kind == ResourceKind::LambdaFunction;
        loop {
            let retry_count = retry.total();
            let token = if t.wait_for_token {
                Some(format!("{}-{}-{}", self.info.name, cur.scope, cur.seq))
            } else {
                None
            };
            let ctx = if st.needs_context {
                self.context(st, entered, retry_count, None, token.as_deref())
            } else {
                Value::Null
            };
            let Prepared {
                params,
                timeout,
                heartbeat,
            } = self.prepare_task(st, entered, &input, t, &ctx, vars, cur)?;
            if lambda {
                self.rec
                    .record(cur, EventType::LambdaFunctionScheduled, || {
                        Detail::LambdaScheduled {
                            resource: Arc::clone(&t.resource),
                            input: render(&params),
                            timeout,
                        }
                    });
                self.rec
                    .record(cur, EventType::LambdaFunctionStarted, || Detail::None);
            } else {
                self.rec
                    .record(cur, EventType::TaskScheduled, || Detail::TaskScheduled {
                        res: Arc::clone(&t.task_resource),
                        parameters: render(&params),
                        timeout,
                        heartbeat,
                    });
                self.rec
                    .record(cur, EventType::TaskStarted, || Detail::TaskStarted {
                        res: Arc::clone(&t.task_resource),
                    });
            }
            let outcome = match self.replayed_task_result(cur) {
                Some(r) => r,
                None => {
                    self.flush().await?;
                    let context = if st.needs_context {
                        LazyContext::ready(ctx.clone())
                    } else {
                        let info = Arc::clone(&self.info);
                        let name = Arc::clone(&st.name);
                        let entered_ms = self.rec.time_of(entered.stamp);
                        let token = token.clone();
                        LazyContext::deferred(move || {
                            build_context(
                                &info,
                                &name,
                                entered_ms,
                                Some(retry_count),
                                None,
                                token.as_deref(),
                            )
                        })
                    };
                    let cx = TaskContext {
                        resource: Arc::clone(&t.resource),
                        state_name: Arc::clone(&st.name),
                        context: Arc::new(context),
                        task_token: token.clone(),
                        retry_count,
                        heartbeat: Arc::new(Heartbeat::default()),
                    };
                    self.invoke(
                        st,
                        t,
                        params,
                        cx,
                        timeout,
                        heartbeat,
                        cancel,
                        call.as_deref_mut(),
                    )
                    .await?
                }
            };
            let outcome = match outcome {
                TaskOutcome::Succeeded(v) => {
                    // The result's text is only needed for the history.
                    let text = (self.rec.enabled() && !cur.silent).then(|| render(&v));
                    let size = match &text {
                        Some(text) => text.len(),
                        None => json_size(&v, self.payload_limit),
                    };
                    if size > self.payload_limit {
                        // AWS names a Lambda function by its ARN, a service integration by
                        // its service (`'lambda'` for `arn:aws:states:::lambda:invoke`).
                        TaskOutcome::Failed(data_limit(match t.resource_kind {
                            ResourceKind::LambdaFunction => &t.resource,
                            ResourceKind::Service => &t.task_resource.resource_type,
                        }))
                    } else {
                        TaskOutcome::Succeeded(v).with_text(text.unwrap_or_else(|| Arc::from("")))
                    }
                }
                other => other,
            };
            let failure = match outcome {
                TaskOutcome::SucceededText(v, text) => {
                    if lambda {
                        self.rec
                            .record(cur, EventType::LambdaFunctionSucceeded, || {
                                Detail::LambdaSucceeded { output: text }
                            });
                    } else {
                        self.rec
                            .record(cur, EventType::TaskSucceeded, || Detail::TaskSucceeded {
                                res: Arc::clone(&t.task_resource),
                                output: text,
                            });
                    }
                    match self.finish(
                        st,
                        entered,
                        for_result_path(&t.result_path, &input),
                        v,
                        t.result_selector.as_ref(),
                        &t.result_path,
                        &ctx,
                        vars,
                        cur,
                    ) {
                        Ok(output) => return Ok(Step::to(output, st.next)),
                        Err(e) => e,
                    }
                }
                TaskOutcome::Succeeded(_) => {
                    return Err(Fault::Error(StateError::new(
                        names::RUNTIME,
                        "internal error: unrendered task result",
                    )))
                }
                TaskOutcome::Failed(e) => {
                    let ty = if lambda {
                        EventType::LambdaFunctionFailed
                    } else {
                        EventType::TaskFailed
                    };
                    self.record_task_failure(cur, t, ty, &e);
                    e
                }
                TaskOutcome::TimedOut(e) => {
                    let ty = if lambda {
                        EventType::LambdaFunctionTimedOut
                    } else {
                        EventType::TaskTimedOut
                    };
                    self.record_task_failure(cur, t, ty, &e);
                    e
                }
            };
            if cancel.is_cancelled() {
                return Err(Fault::Cancelled);
            }
            let failed_at = self.failed_at(cur.last_id);
            if let Some(delay) = self.retry_delay(&t.errors, &mut retry, &failure, cur) {
                self.sleep_until(failed_at.saturating_add(delay), cancel)
                    .await?;
                continue;
            }
            return self.catch(st, entered, &t.errors, failure, input, vars, cur);
        }
    }

    /// The task's effective parameters and its timeouts.
    #[allow(clippy::too_many_arguments)]
    fn prepare_task(
        &self,
        st: &CState,
        entered: Entered,
        input: &Value,
        t: &TaskK,
        ctx: &Value,
        vars: &Vars,
        cur: &mut Cursor,
    ) -> Result<Prepared, StateError> {
        let eff = self.input_path(st, entered, input, ctx, vars)?;
        let value = eff.get(input);
        let params = match &t.parameters {
            Some(tpl) => {
                let env = Env::new(value, ctx, vars);
                tpl.evaluate(&env, cur)
                    .map_err(|f| self.wrap(st, entered, f))?
            }
            None => value.clone(),
        };
        let seconds = |src: &Option<NumberSource>| -> Result<Option<u64>, StateError> {
            let Some(src) = src else { return Ok(None) };
            let v = self.number(st, entered, src, value, ctx, vars)?;
            match as_long(&v) {
                Some(n) if n > 0 => Ok(Some(n as u64)),
                _ => Err(self.runtime(
                    st,
                    entered,
                    &format!(
                        "The value of the field '{}' must be a positive integer, but was {}",
                        match src {
                            NumberSource::Path(_, f) => f,
                            NumberSource::Literal(_) => "TimeoutSeconds",
                        },
                        java_json(&v)
                    ),
                )),
            }
        };
        Ok(Prepared {
            params,
            timeout: seconds(&t.timeout)?,
            heartbeat: seconds(&t.heartbeat)?,
        })
    }

    fn record_task_failure(&self, cur: &mut Cursor, t: &TaskK, ty: EventType, e: &StateError) {
        // The error and cause are copied only when the event is recorded.
        if t.resource_kind == ResourceKind::LambdaFunction {
            self.rec.record(cur, ty, || Detail::Error {
                error: e.error.clone(),
                cause: e.cause.clone(),
            });
        } else {
            self.rec.record(cur, ty, || Detail::TaskFailed {
                res: Arc::clone(&t.task_resource),
                error: e.error.clone(),
                cause: e.cause.clone(),
            });
        }
    }

    /// The recorded result of the task at the cursor, when replaying.
    fn replayed_task_result(&self, cur: &Cursor) -> Option<TaskOutcome> {
        let ev: &HistoryEvent = self.rec.prior_next(cur)?;
        let details = ev.details.as_ref().map(|(_, v)| v);
        let field = |k: &str| {
            details
                .and_then(|d| d.get(k))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        match EventType::from_name(&ev.event_type)? {
            EventType::TaskSucceeded | EventType::LambdaFunctionSucceeded => {
                let text = field("output").unwrap_or_else(|| "null".into());
                let v = serde_json::from_str(&text).unwrap_or(Value::Null);
                Some(TaskOutcome::SucceededText(v, Arc::from(text)))
            }
            EventType::TaskFailed | EventType::LambdaFunctionFailed => {
                Some(TaskOutcome::Failed(StateError {
                    error: field("error"),
                    cause: field("cause"),
                    terminal: false,
                }))
            }
            EventType::TaskTimedOut | EventType::LambdaFunctionTimedOut => {
                Some(TaskOutcome::TimedOut(StateError {
                    error: field("error"),
                    cause: field("cause"),
                    terminal: false,
                }))
            }
            _ => None,
        }
    }

    /// Runs the task: a mocked response, or the registered handler under the task's timeout,
    /// heartbeat and cancellation.
    #[allow(clippy::too_many_arguments)]
    async fn invoke(
        &self,
        st: &CState,
        t: &TaskK,
        params: Value,
        cx: TaskContext,
        timeout: Option<u64>,
        heartbeat: Option<u64>,
        cancel: &Arc<Cancel>,
        typed: Option<&mut TaskCall<'_>>,
    ) -> Result<TaskOutcome, Fault> {
        if let Some(mocks) = &self.mocks {
            if let Some(r) = mocks.response(&st.name, u64::from(cx.retry_count)) {
                return Ok(match r {
                    Ok(MockResponse::Return(v)) => TaskOutcome::Succeeded(v.clone()),
                    Ok(MockResponse::Throw { error, cause }) => TaskOutcome::Failed(StateError {
                        error: Some(error.clone()),
                        cause: cause.clone(),
                        terminal: false,
                    }),
                    Err(e) => TaskOutcome::Failed(StateError::new(names::TASK_FAILED, e.0)),
                });
            }
        }
        let hb = Arc::clone(&cx.heartbeat);
        let call = match typed {
            Some(typed) => futures::future::Either::Left(typed(params, cx)),
            None => {
                let Some(handler) = self.handlers.lookup(&t.resource) else {
                    return Ok(TaskOutcome::Failed(StateError::new(
                        names::TASK_FAILED,
                        format!(
                            "No handler is registered for the resource '{}' (state '{}'). Register one with Runtime::builder().handler(...) or mock the state.",
                            t.resource, st.name
                        ),
                    )));
                };
                futures::future::Either::Right(call_guarded(handler, params, cx))
            }
        };
        tokio::pin!(call);
        if timeout.is_none() && heartbeat.is_none() {
            // No timers to watch: only completion and cancellation.
            return tokio::select! {
                biased;
                r = &mut call => Ok(match r {
                    Ok(v) => TaskOutcome::Succeeded(v),
                    Err(e) => TaskOutcome::Failed(e.into()),
                }),
                _ = cancel.cancelled() => Err(Fault::Cancelled),
            };
        }
        let clock = self.rec.clock;
        let started = clock.now_ms();
        let timeout_at = timeout
            .map(|s| clock.instant_at(started.saturating_add(s.saturating_mul(1000) as i64)));
        let mut heartbeat_at = heartbeat
            .map(|s| clock.instant_at(started.saturating_add(s.saturating_mul(1000) as i64)));
        let far = || tokio::time::Instant::now() + Duration::from_secs(86_400 * 365 * 30);
        loop {
            let t_at = timeout_at.unwrap_or_else(far);
            let h_at = heartbeat_at.unwrap_or_else(far);
            // Completion and timeouts win over cancellation in the same instant, as on AWS (a
            // task that timed out while its Map was failing records `TaskTimedOut`, then aborts).
            tokio::select! {
                biased;
                r = &mut call => {
                    return Ok(match r {
                        Ok(v) => TaskOutcome::Succeeded(v),
                        Err(e) => TaskOutcome::Failed(e.into()),
                    });
                }
                _ = tokio::time::sleep_until(t_at), if timeout_at.is_some() => {
                    return Ok(TaskOutcome::TimedOut(timed_out(names::TIMEOUT)));
                }
                _ = tokio::time::sleep_until(h_at), if heartbeat_at.is_some() => {
                    return Ok(TaskOutcome::TimedOut(timed_out(names::HEARTBEAT_TIMEOUT)));
                }
                _ = hb.notify.notified() => {
                    if let Some(s) = heartbeat {
                        heartbeat_at = Some(tokio::time::Instant::now() + Duration::from_secs(s));
                    }
                }
                _ = cancel.cancelled() => return Err(Fault::Cancelled),
            }
        }
    }

    // ===== Parallel =====

    #[allow(clippy::too_many_arguments)]
    async fn parallel(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        p: &ParallelK,
        vars: &mut Vars,
        cur: &mut Cursor,
        cancel: &Arc<Cancel>,
    ) -> Result<Step, Fault> {
        let mut retry = RetryState::new();
        loop {
            let ctx = self.context_if_needed(st, entered, retry.total());
            let branch_input = {
                let eff = self.input_path(st, entered, &input, &ctx, vars)?;
                match &p.parameters {
                    Some(tpl) => {
                        let env = Env::new(eff.get(&input), &ctx, vars);
                        tpl.evaluate(&env, cur)
                            .map_err(|f| self.wrap(st, entered, f))?
                    }
                    None => eff.get(&input).clone(),
                }
            };
            self.rec
                .record(cur, EventType::ParallelStateStarted, || Detail::None);
            let started_seq = cur.seq.saturating_sub(1);
            let child_cancel = cancel.child();
            let n = p.branches.len();
            let mut running = FuturesUnordered::new();
            for (i, block) in p.branches.iter().enumerate() {
                let mut bc = cur.child(started_seq, i, self.seed);
                let mut bvars = vars.clone();
                let binput = branch_input.clone();
                let cc = &child_cancel;
                running.push(async move {
                    let r = self.run_block(block, &mut bc, binput, &mut bvars, cc).await;
                    (i, r, bc.last_id)
                });
            }
            let mut results: Vec<Value> = vec![Value::Null; n];
            let mut failure: Option<StateError> = None;
            // The newest branch event up to the first failure (or the last branch's end).
            let mut ended_id = 0u64;
            while let Some((i, r, last)) = running.next().await {
                if failure.is_none() {
                    ended_id = ended_id.max(last);
                }
                match r {
                    Ok(v) => {
                        if let Some(slot) = results.get_mut(i) {
                            *slot = v;
                        }
                    }
                    Err(Fault::Error(e)) => {
                        if failure.is_none() {
                            failure = Some(e);
                            child_cancel.cancel();
                        }
                    }
                    Err(Fault::Cancelled) => {}
                }
            }
            drop(running);
            cur.last_id = self.rec.last_id();
            if cancel.is_cancelled() {
                return Err(Fault::Cancelled);
            }
            let failure = match failure {
                None => {
                    match self.finish(
                        st,
                        entered,
                        for_result_path(&p.result_path, &input),
                        Value::Array(results),
                        p.result_selector.as_ref(),
                        &p.result_path,
                        &ctx,
                        vars,
                        cur,
                    ) {
                        Ok(output) => return Ok(Step::to(output, st.next)),
                        Err(e) => e,
                    }
                }
                Some(e) => e,
            };
            let failed_at = self.failed_at(ended_id);
            if let Some(delay) = self.retry_delay(&p.errors, &mut retry, &failure, cur) {
                self.sleep_until(failed_at.saturating_add(delay), cancel)
                    .await?;
                continue;
            }
            self.rec
                .record(cur, EventType::ParallelStateFailed, || Detail::None);
            return self.catch(st, entered, &p.errors, failure, input, vars, cur);
        }
    }

    // ===== Map =====

    #[allow(clippy::too_many_arguments)]
    async fn map(
        &self,
        st: &CState,
        entered: Entered,
        input: Value,
        m: &MapK,
        vars: &mut Vars,
        cur: &mut Cursor,
        cancel: &Arc<Cancel>,
    ) -> Result<Step, Fault> {
        let mut retry = RetryState::new();
        loop {
            let ctx = self.context_if_needed(st, entered, retry.total());
            let eff = self.input_path(st, entered, &input, &ctx, vars)?;
            let value = eff.get(&input);
            let items: Cow<'_, Value> = match &m.items_path {
                None => Cow::Borrowed(value),
                Some(p) => {
                    let env = Env::new(value, &ctx, vars);
                    match p.evaluate(&env) {
                        // Iterate over the selected array in place (no copy of the items).
                        Ok(Selected::One(items)) => items,
                        Ok(many) => Cow::Owned(many.into_value()),
                        Err(miss) => {
                            return Err(self
                                .runtime(st, entered, &miss.invalid_path_cause(p))
                                .into())
                        }
                    }
                }
            };
            let Value::Array(items) = items.as_ref() else {
                return Err(self
                    .runtime(
                        st,
                        entered,
                        &format!(
                            "Items of the Map state must be a JSON array, but the ItemsPath selected: {}",
                            java_json(&items)
                        ),
                    )
                    .into());
            };
            let limit = match &m.max_concurrency {
                None => 0,
                Some(src) => {
                    let v = self.number(st, entered, src, value, &ctx, vars)?;
                    match as_integer(&v) {
                        Some(n) if n >= 0 => n as usize,
                        _ => {
                            return Err(self
                                .runtime(
                                    st,
                                    entered,
                                    &format!(
                                        "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {}",
                                        display(&v),
                                        number_path(src)
                                    ),
                                )
                                .into())
                        }
                    }
                }
            };
            let limit = if m.distributed {
                if limit == 0 {
                    DISTRIBUTED_MAP_CONCURRENCY
                } else {
                    limit.min(DISTRIBUTED_MAP_CONCURRENCY)
                }
            } else if limit == 0 {
                INLINE_MAP_CONCURRENCY
            } else {
                limit.min(INLINE_MAP_CONCURRENCY)
            };
            let n = items.len();
            self.rec
                .record(cur, EventType::MapStateStarted, || Detail::MapStarted {
                    length: n,
                });
            let started_seq = cur.seq.saturating_sub(1);
            let tolerated = self.tolerance(st, entered, m, value, &ctx, vars)?;
            if m.distributed {
                let arn = format!(
                    "{}/{}:{}",
                    self.info
                        .state_machine_arn
                        .replacen(":stateMachine:", ":mapRun:", 1),
                    st.name,
                    cur.seq
                );
                self.rec
                    .record(cur, EventType::MapRunStarted, || Detail::MapRunStarted {
                        arn,
                    });
            }
            let child_cancel = cancel.child();
            let mut results: Vec<Value> = Vec::with_capacity(n);
            results.resize(n, Value::Null);
            let mut failures = 0usize;
            let mut failed_items: Vec<usize> = Vec::new();
            let mut failure: Option<StateError> = None;
            // The newest iteration event up to the first failure.
            let mut ended_id = 0u64;
            {
                let mut running = FuturesUnordered::new();
                let mut next = 0usize;
                let ctx_ref = &ctx;
                let vars_ref = &*vars;
                let parent: &Cursor = cur;
                loop {
                    while failure.is_none() && running.len() < limit && next < n {
                        let index = next;
                        next += 1;
                        let item = &items[index];
                        let mut ic = parent.child(started_seq, index, self.seed);
                        ic.silent = parent.silent || m.distributed;
                        let cc = &child_cancel;
                        running.push(async move {
                            let r = self
                                .iteration(
                                    st, entered, m, index, item, value, ctx_ref, vars_ref, &mut ic,
                                    cc,
                                )
                                .await;
                            (index, r, ic.last_id)
                        });
                    }
                    let Some((index, r, last)) = running.next().await else {
                        break;
                    };
                    if failure.is_none() {
                        ended_id = ended_id.max(last);
                    }
                    match r {
                        Ok(v) => {
                            if let Some(slot) = results.get_mut(index) {
                                *slot = v;
                            }
                        }
                        Err(Fault::Error(e)) => {
                            failures += 1;
                            let fatal = e.terminal || e.error.as_deref() == Some(names::RUNTIME);
                            if failure.is_none() && (fatal || !tolerated.allows(failures, n)) {
                                failure = Some(if tolerated.configured && !fatal {
                                    StateError::new(
                                        names::EXCEED_TOLERATED_FAILURE_THRESHOLD,
                                        "The specified tolerated failure threshold was exceeded",
                                    )
                                } else {
                                    e
                                });
                                child_cancel.cancel();
                            } else if tolerated.configured {
                                failed_items.push(index);
                            }
                        }
                        Err(Fault::Cancelled) => {}
                    }
                }
            }
            cur.last_id = self.rec.last_id();
            if cancel.is_cancelled() {
                return Err(Fault::Cancelled);
            }
            // An inline iteration's failure ends with the iteration's events; any other ends
            // with an event of this state (`MapRunFailed`, `MapStateSucceeded`).
            let items_failed = failure.is_some() && !m.distributed;
            let failure = match failure {
                None => {
                    if m.distributed {
                        self.rec
                            .record(cur, EventType::MapRunSucceeded, || Detail::None);
                    }
                    self.rec
                        .record(cur, EventType::MapStateSucceeded, || Detail::None);
                    // A tolerated failure contributes no result.
                    if !failed_items.is_empty() {
                        failed_items.sort_unstable();
                        let mut k = 0usize;
                        let mut i = 0usize;
                        results.retain(|_| {
                            let keep = failed_items.get(k) != Some(&i);
                            if !keep {
                                k += 1;
                            }
                            i += 1;
                            keep
                        });
                    }
                    match self.finish(
                        st,
                        entered,
                        for_result_path(&m.result_path, &input),
                        Value::Array(results),
                        m.result_selector.as_ref(),
                        &m.result_path,
                        &ctx,
                        vars,
                        cur,
                    ) {
                        Ok(output) => return Ok(Step::to(output, st.next)),
                        Err(e) => e,
                    }
                }
                Some(e) => {
                    if m.distributed {
                        let (error, cause) = (e.error.clone(), e.cause.clone());
                        self.rec
                            .record(cur, EventType::MapRunFailed, || Detail::Error {
                                error,
                                cause,
                            });
                    }
                    e
                }
            };
            drop(eff);
            let failed_at = self.failed_at(if items_failed { ended_id } else { cur.last_id });
            if let Some(delay) = self.retry_delay(&m.errors, &mut retry, &failure, cur) {
                self.sleep_until(failed_at.saturating_add(delay), cancel)
                    .await?;
                continue;
            }
            self.rec
                .record(cur, EventType::MapStateFailed, || Detail::None);
            return self.catch(st, entered, &m.errors, failure, input, vars, cur);
        }
    }

    /// One Map iteration: ItemSelector, then the item processor, with its iteration events.
    #[allow(clippy::too_many_arguments)]
    async fn iteration(
        &self,
        st: &CState,
        entered: Entered,
        m: &MapK,
        index: usize,
        item: &Value,
        map_input: &Value,
        ctx: &Value,
        vars: &Vars,
        ic: &mut Cursor,
        cancel: &Arc<Cancel>,
    ) -> Result<Value, Fault> {
        let name = &st.name;
        let detail = || Detail::MapIteration {
            name: Arc::clone(name),
            index,
        };
        self.rec.record(ic, EventType::MapIterationStarted, detail);
        let item_input = match &m.item_selector {
            None => Ok(item.clone()),
            Some(tpl) => {
                let ictx = self.context(st, entered, 0, Some((index, item)), None);
                let _ = ctx;
                let env = Env::new(map_input, &ictx, vars);
                tpl.evaluate(&env, ic)
                    .map_err(|f| self.wrap(st, entered, f))
            }
        };
        let r = match item_input {
            Ok(v) => {
                let mut ivars = vars.clone();
                self.run_block(&m.processor, ic, v, &mut ivars, cancel)
                    .await
            }
            Err(e) => Err(e.into()),
        };
        match &r {
            Ok(_) => {
                self.rec
                    .record(ic, EventType::MapIterationSucceeded, detail);
            }
            Err(Fault::Error(_)) => {
                self.rec.record(ic, EventType::MapIterationFailed, detail);
            }
            Err(Fault::Cancelled) => {
                self.rec.record(ic, EventType::MapIterationAborted, detail);
            }
        }
        r
    }

    fn tolerance(
        &self,
        st: &CState,
        entered: Entered,
        m: &MapK,
        value: &Value,
        ctx: &Value,
        vars: &Vars,
    ) -> Result<Tolerance, StateError> {
        let mut t = Tolerance {
            configured: m.tolerated_count.is_some() || m.tolerated_percentage.is_some(),
            count: None,
            percentage: None,
        };
        if let Some(src) = &m.tolerated_count {
            let v = self.number(st, entered, src, value, ctx, vars)?;
            let n = match as_integer(&v) {
                Some(k) => k,
                None => {
                    return Err(self.runtime(
                        st,
                        entered,
                        &format!(
                            "The ToleratedFailureCountPath field refers to value \"{}\" which is not a valid integer: {}",
                            display(&v),
                            number_path(src)
                        ),
                    ))
                }
            };
            if n < 0 {
                return Err(self.runtime(st, entered, "ToleratedFailureCount cannot be negative."));
            }
            t.count = Some(n as u64);
        }
        if let Some(src) = &m.tolerated_percentage {
            let v = self.number(st, entered, src, value, ctx, vars)?;
            let Some(p) = as_float(&v) else {
                return Err(self.runtime(
                    st,
                    entered,
                    &format!(
                        "The ToleratedFailurePercentagePath field refers to value \"{}\" which is not a valid float: {}",
                        display(&v),
                        number_path(src)
                    ),
                ));
            };
            if !(0.0..=100.0).contains(&p) {
                return Err(self.runtime(
                    st,
                    entered,
                    "ToleratedFailurePercentage must be between 0 and 100.",
                ));
            }
            t.percentage = Some(p);
        }
        Ok(t)
    }
}

/// The tolerated failures of a Map state.
struct Tolerance {
    configured: bool,
    count: Option<u64>,
    percentage: Option<f64>,
}

impl Tolerance {
    /// Whether `failures` failed iterations out of `total` are still tolerated.
    fn allows(&self, failures: usize, total: usize) -> bool {
        if !self.configured {
            return false;
        }
        let by_count = self.count.is_some_and(|c| failures as u64 <= c);
        let by_pct = self
            .percentage
            .is_some_and(|p| total > 0 && (failures as f64) * 100.0 / (total as f64) <= p);
        by_count || by_pct
    }
}

/// The value as AWS shows it in the `…Path field refers to value "…"` causes.
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => java_json(other),
    }
}

fn number_path(src: &NumberSource) -> String {
    match src {
        NumberSource::Path(p, _) => p.as_str().to_string(),
        NumberSource::Literal(v) => java_json(v),
    }
}

/// A task's input and limits, ready to invoke.
struct Prepared {
    params: Value,
    timeout: Option<u64>,
    heartbeat: Option<u64>,
}

/// What running a task produced.
enum TaskOutcome {
    Succeeded(Value),
    SucceededText(Value, Arc<str>),
    Failed(StateError),
    TimedOut(StateError),
}

impl TaskOutcome {
    fn with_text(self, text: Arc<str>) -> TaskOutcome {
        match self {
            TaskOutcome::Succeeded(v) => TaskOutcome::SucceededText(v, text),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_size_is_the_length_of_the_compact_text() {
        for v in [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(9),
            json!(10),
            json!(99),
            json!(100),
            json!(999),
            json!(1000),
            json!(9999),
            json!(10000),
            json!(99999),
            json!(100000),
            json!(-1234567),
            json!(u64::MAX),
            json!(1.5),
            json!(1e20),
            json!("plain"),
            json!("q\"b\\n\n\u{1}\t"),
            json!([]),
            json!({}),
            json!({"a": [1, 2, {"b\"": "é"}], "c": {"d": null}}),
        ] {
            assert_eq!(json_size(&v, usize::MAX), java_json(&v).len(), "{v}");
        }
        let mut deep = json!(1);
        for _ in 0..500 {
            deep = json!([deep]);
        }
        assert_eq!(json_size(&deep, usize::MAX), java_json(&deep).len());
    }
}
