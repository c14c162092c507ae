//! Driven scopes: the runtime side of the typed state machines that `workflow!` generates.
//!
//! The interpreter runs a scope (the machine, a Parallel branch, a Map item processor) with a loop
//! over its compiled states. A *driven* scope is run by a function instead: a [`DriveFn`], which
//! `workflow!` generates as a `match` on an enum of the workflow's states, each arm running its
//! state with [`Driver::step`] (or [`Driver::step_task`] for a Task bound to a Rust handler) and
//! choosing the next arm from the step's result. One step is exactly one turn of the interpreter's
//! loop (`…Entered`, input and output processing, retries, catches, waits, branches, `…Exited`),
//! run by the same code, so a driven execution records the history the interpreter records, and
//! mocks, stops, timeouts and resuming from a history work unchanged.
//!
//! What a driver adds is the typed handler call: [`Driver::step_task`] calls a [`TypedHandler`]
//! (an async Rust function of serde types) directly, not through the
//! [`Handlers`](crate::Handlers) registry. The handler reads its input from the task's effective
//! input, except when that input is the unchanged output of the previous typed handler: then it
//! receives that Rust value itself, and nothing is deserialised. Its result is still written as
//! JSON, for the history and the data flow.
//!
//! [`Program::compile_driven`] attaches a tree of drivers ([`ScopeDriver`]: a scope's driver and
//! those of the branches nested in it) to a compiled program, which
//! [`Runtime::start`](crate::Runtime::start) then runs like any other.
//!
//! ```
//! use serde_json::{json, Value};
//! use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
//! use workflow_runtime::{Program, Runtime, TaskError};
//!
//! async fn double(n: i64) -> Result<i64, TaskError> {
//!     Ok(n * 2)
//! }
//!
//! // The states, numbered in the driver's order: `Double` calls a typed handler, `Done` ends.
//! const STATES: &[&str] = &["Double", "Done"];
//!
//! fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
//!     DriveFuture::new(async move {
//!         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
//!         let mut state = 0;
//!         loop {
//!             let next = match state {
//!                 0 => d.step_task(0, &doubler).await?,
//!                 _ => d.step(state).await?,
//!             };
//!             match next {
//!                 Some(n) => state = n,
//!                 None => return Ok(d.into_output()),
//!             }
//!         }
//!     })
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let machine = workflow_asl::load(
//!     r#"{"StartAt": "Double", "States": {
//!         "Double": {"Type": "Task", "Next": "Done",
//!                    "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
//!         "Done": {"Type": "Succeed"}}}"#,
//! )
//! .expect("a valid definition");
//! let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))
//!     .expect("the driver fits the definition");
//! // No handler is registered: the driver calls `double` itself.
//! let outcome = Runtime::default().run(&program, json!(21)).await.expect("starts");
//! assert_eq!(outcome.output, Some(json!(42)));
//! # }
//! ```

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use workflow_asl::diag::push_pointer;
use workflow_asl::error::names;
use workflow_asl::model::StateMachine;

use crate::engine::{is_pure, Exec, Fault, Scope, ScopeRunner, StateError};
use crate::handler::{panicked, Guarded, TaskContext, TaskError};
use crate::program::{Block, CState, CompileError, IoPath, Kind, Program, ResultPathOpt};

/// A boxed future that is `Send`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use workflow_runtime::driver::BoxFuture;
///
/// let f: BoxFuture<'static, u8> = Box::pin(async { 7 });
/// assert_eq!(f.await, 7);
/// # }
/// ```
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Where a typed handler leaves its output as the Rust value.
type Slot = Mutex<Option<Box<dyn Any + Send>>>;

/// A typed handler's call, its types erased: the task's effective input as JSON, the Rust value
/// to use instead when there is one, the context, and where to leave the output as the Rust value
/// (if anywhere).
type TypedFn = dyn for<'s> Fn(
        Value,
        Option<Box<dyn Any + Send>>,
        TaskContext,
        Option<&'s Slot>,
    ) -> BoxFuture<'s, Result<Value, TaskError>>
    + Send
    + Sync;

/// Erases `call`'s type (and gives the closure its higher-ranked signature).
fn erase<C>(call: C) -> Arc<TypedFn>
where
    C: for<'s> Fn(
            Value,
            Option<Box<dyn Any + Send>>,
            TaskContext,
            Option<&'s Slot>,
        ) -> BoxFuture<'s, Result<Value, TaskError>>
        + Send
        + Sync
        + 'static,
{
    Arc::new(call)
}

/// A call that failed before it started.
fn failed<'s>(e: TaskError) -> BoxFuture<'s, Result<Value, TaskError>> {
    Box::pin(std::future::ready(Err(e)))
}

/// Leaves a typed handler's output in `slot`.
fn keep(slot: &Slot, output: Box<dyn Any + Send>) {
    *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(output);
}

/// A typed async handler, `Fn(I, TaskContext) -> Future<Output = Result<O, E>>`, as
/// [`Driver::step_task`] calls it, or registered for the interpreter
/// ([`TypedHandler::register`]). Its types are erased once, here: the steps of a driver, and the
/// registration, are compiled once for all handlers.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
/// # use workflow_runtime::{Program, Runtime, TaskError};
/// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
/// # const STATES: &[&str] = &["Double", "Done"];
/// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
/// #     DriveFuture::new(async move {
/// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
/// #         let mut state = 0;
/// #         loop {
/// #             let next = match state {
/// #                 0 => d.step_task(0, &doubler).await?,
/// #                 _ => d.step(state).await?,
/// #             };
/// #             match next {
/// #                 Some(n) => state = n,
/// #                 None => return Ok(d.into_output()),
/// #             }
/// #         }
/// #     })
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
/// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
/// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
/// let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
/// assert_eq!(Runtime::default().run(&program, json!(4)).await?.output, Some(json!(8)));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TypedHandler {
    call: Arc<TypedFn>,
}

impl std::fmt::Debug for TypedHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedHandler").finish_non_exhaustive()
    }
}

impl TypedHandler {
    /// The handler `f`. Its input is the task's effective input read as an `I`, or the previous
    /// typed handler's output when that is an `I` that reached the task unchanged; its output is
    /// written as JSON (and kept as the Rust value by a driver). As for
    /// [`Handlers::insert_typed`](crate::Handlers::insert_typed), an input that does not fit `I`
    /// and an output that is not JSON fail the attempt with `States.TaskFailed`, and an error `E`
    /// is converted into a [`TaskError`].
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # const STATES: &[&str] = &["Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_task(0, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             match next {
    /// #                 Some(n) => state = n,
    /// #                 None => return Ok(d.into_output()),
    /// #             }
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
    /// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// // `drive` above makes one with `TypedHandler::new(|n: i64, _cx| double(n))`.
    /// let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // An input that is not an `i64` fails the task.
    /// let outcome = Runtime::default().run(&program, json!("four")).await?;
    /// assert_eq!(outcome.error.as_deref(), Some("States.TaskFailed"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn new<I, O, E, F, Fut>(f: F) -> TypedHandler
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + Send + 'static,
        E: Into<TaskError> + 'static,
        F: Fn(I, TaskContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        // Only this closure and its future are compiled for each handler.
        let call = erase(move |params, carried, cx, slot| {
            let name = Arc::clone(&cx.resource);
            let input = match carried.and_then(|v| v.downcast::<I>().ok()) {
                Some(v) => *v,
                None => match serde_json::from_value(params) {
                    Ok(v) => v,
                    Err(e) => return failed(unreadable(&name, &e)),
                },
            };
            let run = f(input, cx);
            Box::pin(async move {
                let output = run.await.map_err(Into::into)?;
                let json = serde_json::to_value(&output).map_err(|e| not_json(&name, &e))?;
                if let Some(slot) = slot {
                    keep(slot, Box::new(output));
                }
                Ok(json)
            })
        });
        TypedHandler { call }
    }

    /// Registers the handler in `handlers` under `resource` (an exact resource or a `*`
    /// pattern), for the interpreter: as [`Handlers::insert_typed`](crate::Handlers::insert_typed)
    /// does, without compiling the registration again for each handler.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # const STATES: &[&str] = &["Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_task(0, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             match next {
    /// #                 Some(n) => state = n,
    /// #                 None => return Ok(d.into_output()),
    /// #             }
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
    /// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// use workflow_runtime::Handlers;
    ///
    /// // The same handler, registered for the interpreter.
    /// let mut handlers = Handlers::new();
    /// TypedHandler::new(|n: i64, _cx| double(n)).register(&mut handlers, "arn:aws:lambda:*:*:function:double");
    /// let runtime = Runtime::builder().handlers(handlers).build();
    /// assert_eq!(runtime.run_machine(&machine, json!(5)).await?.output, Some(json!(10)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn register(&self, handlers: &mut crate::Handlers, resource: &str) {
        let call = Arc::clone(&self.call);
        handlers.insert_raw(resource, move |params: Value, cx: TaskContext| {
            call(params, None, cx, None)
        });
    }
}

/// A function that runs one scope state by state: it receives the scope's [`Driver`] (holding the
/// scope's input) and returns the scope's output ([`Driver::into_output`] after the last step),
/// or the fault of a step, propagated unchanged.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
/// # use workflow_runtime::{Program, Runtime, TaskError};
/// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
/// # const STATES: &[&str] = &["Double", "Done"];
/// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
/// #     DriveFuture::new(async move {
/// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
/// #         let mut state = 0;
/// #         loop {
/// #             let next = match state {
/// #                 0 => d.step_task(0, &doubler).await?,
/// #                 _ => d.step(state).await?,
/// #             };
/// #             match next {
/// #                 Some(n) => state = n,
/// #                 None => return Ok(d.into_output()),
/// #             }
/// #         }
/// #     })
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
/// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
/// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
/// use workflow_runtime::driver::DriveFn;
///
/// let f: DriveFn = drive;
/// assert!(Program::compile_driven(&machine, &ScopeDriver::new(f, STATES)).is_ok());
/// # Ok(())
/// # }
/// ```
pub type DriveFn = for<'a> fn(Driver<'a>) -> DriveFuture<'a>;

/// The future a [`DriveFn`] returns: [`DriveFuture::new`] of the driver's `async` block.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
/// # use workflow_runtime::{Program, Runtime, TaskError};
/// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
/// # const STATES: &[&str] = &["Double", "Done"];
/// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
/// #     DriveFuture::new(async move {
/// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
/// #         let mut state = 0;
/// #         loop {
/// #             let next = match state {
/// #                 0 => d.step_task(0, &doubler).await?,
/// #                 _ => d.step(state).await?,
/// #             };
/// #             match next {
/// #                 Some(n) => state = n,
/// #                 None => return Ok(d.into_output()),
/// #             }
/// #         }
/// #     })
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
/// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
/// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
/// // `drive` wraps its async block in `DriveFuture::new`.
/// let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
/// assert!(Runtime::default().run(&program, json!(0)).await?.succeeded());
/// # Ok(())
/// # }
/// ```
pub struct DriveFuture<'a>(BoxFuture<'a, Result<Value, Fault>>);

impl<'a> DriveFuture<'a> {
    /// The driver's future (boxed once).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # const STATES: &[&str] = &["Pick", "Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_now(0)?, // a Pass never waits
    /// #                 1 => d.step_task(1, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             state = match (state, next) {
    /// #                 (0, Some(1)) => 1,
    /// #                 (1, Some(2)) => 2,
    /// #                 (2, None) => return Ok(d.into_output()),
    /// #                 (from, to) => return Err(d.no_transition(from, to)),
    /// #             };
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
    /// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
    /// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // The driver wraps its `async` block in `DriveFuture::new`.
    /// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(run: impl Future<Output = Result<Value, DriveFault>> + Send + 'a) -> Self {
        DriveFuture(Box::pin(async move { run.await.map_err(|f| *f.0) }))
    }
}

impl std::fmt::Debug for DriveFuture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriveFuture").finish_non_exhaustive()
    }
}

/// Why a step did not complete: the state failed (and was not caught), or the execution was
/// stopped. Opaque: a driver propagates it with `?`, and the execution ends as the interpreter's
/// would.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
/// # use workflow_runtime::{Program, Runtime, TaskError};
/// # const STATES: &[&str] = &["Pick", "Double", "Done"];
/// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
/// #     DriveFuture::new(async move {
/// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
/// #         let mut state = 0;
/// #         loop {
/// #             let next = match state {
/// #                 0 => d.step_now(0)?, // a Pass never waits
/// #                 1 => d.step_task(1, &doubler).await?,
/// #                 _ => d.step(state).await?,
/// #             };
/// #             state = match (state, next) {
/// #                 (0, Some(1)) => 1,
/// #                 (1, Some(2)) => 2,
/// #                 (2, None) => return Ok(d.into_output()),
/// #                 (from, to) => return Err(d.no_transition(from, to)),
/// #             };
/// #         }
/// #     })
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
/// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
/// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
/// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
/// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
/// // Each step's `?` propagates a `DriveFault`; the execution then ends as the interpreter's would.
/// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
/// assert_eq!(outcome.output, Some(json!(42)));
/// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
/// # Ok(())
/// # }
/// ```
pub struct DriveFault(Box<Fault>);

impl DriveFault {
    fn new(fault: Fault) -> DriveFault {
        DriveFault(Box::new(fault))
    }
}

impl std::fmt::Debug for DriveFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The driver of a scope: its [`DriveFn`], the names of its states in the order the driver
/// numbers them, and the drivers of the scopes nested in its Parallel and Map states.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
/// # use workflow_runtime::{Program, Runtime, TaskError};
/// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
/// # const STATES: &[&str] = &["Double", "Done"];
/// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
/// #     DriveFuture::new(async move {
/// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
/// #         let mut state = 0;
/// #         loop {
/// #             let next = match state {
/// #                 0 => d.step_task(0, &doubler).await?,
/// #                 _ => d.step(state).await?,
/// #             };
/// #             match next {
/// #                 Some(n) => state = n,
/// #                 None => return Ok(d.into_output()),
/// #             }
/// #         }
/// #     })
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
/// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
/// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
/// let driver = ScopeDriver::new(drive, STATES);
/// assert!(Program::compile_driven(&machine, &driver).is_ok());
/// // A driver whose states are not the scope's does not fit.
/// assert!(Program::compile_driven(&machine, &ScopeDriver::new(drive, &["Double"])).is_err());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct ScopeDriver {
    drive: DriveFn,
    states: &'static [&'static str],
    nested: Vec<(usize, Vec<ScopeDriver>)>,
}

impl std::fmt::Debug for ScopeDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopeDriver")
            .field("states", &self.states)
            .field("nested", &self.nested)
            .finish_non_exhaustive()
    }
}

impl ScopeDriver {
    /// The driver `drive` for a scope whose states are `states`: every state of the scope, each
    /// once; state `k` of the driver ([`Driver::step`]`(k)`) is the state named `states[k]`.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # const STATES: &[&str] = &["Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_task(0, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             match next {
    /// #                 Some(n) => state = n,
    /// #                 None => return Ok(d.into_output()),
    /// #             }
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
    /// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// assert!(Runtime::default().run(&program, json!(1)).await?.succeeded());
    /// # Ok(())
    /// # }
    /// ```
    pub fn new(drive: DriveFn, states: &'static [&'static str]) -> ScopeDriver {
        ScopeDriver {
            drive,
            states,
            nested: Vec::new(),
        }
    }

    /// Drives the scopes nested in state `state` too: the branches of a Parallel state (one
    /// driver per branch, in order) or the item processor of a Map state (one driver). Nested
    /// scopes without a driver are interpreted.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver};
    /// use workflow_runtime::{Program, Runtime};
    ///
    /// // One driver for the machine (a Parallel), one for its branch (a Pass).
    /// fn top(mut d: Driver<'_>) -> DriveFuture<'_> {
    ///     DriveFuture::new(async move {
    ///         d.step(0).await?;
    ///         Ok(d.into_output())
    ///     })
    /// }
    /// fn branch(mut d: Driver<'_>) -> DriveFuture<'_> {
    ///     DriveFuture::new(async move {
    ///         d.step_now(0)?;
    ///         Ok(d.into_output())
    ///     })
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "Both", "States": {"Both": {"Type": "Parallel", "End": true,
    ///   "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "from the branch", "End": true}}}]}}}"#).expect("valid");
    /// let driver = ScopeDriver::new(top, &["Both"]).nest(0, vec![ScopeDriver::new(branch, &["B"])]);
    /// let program = Program::compile_driven(&machine, &driver)?;
    /// assert_eq!(Runtime::default().run(&program, json!({})).await?.output, Some(json!(["from the branch"])));
    /// // Nested drivers must match the branches: one per branch.
    /// let wrong = ScopeDriver::new(top, &["Both"]).nest(0, vec![ScopeDriver::new(branch, &["B"]), ScopeDriver::new(branch, &["B"])]);
    /// assert!(Program::compile_driven(&machine, &wrong).is_err()); // two drivers, one branch
    /// # Ok(())
    /// # }
    /// ```
    pub fn nest(mut self, state: usize, drivers: Vec<ScopeDriver>) -> ScopeDriver {
        self.nested.push((state, drivers));
        self
    }
}

/// A driver attached to a compiled scope: its function and the mapping between its state numbers
/// and the scope's state indices.
pub(crate) struct Bound {
    drive: DriveFn,
    /// Driver state number → index in the block.
    to_block: Vec<usize>,
    /// Index in the block → driver state number.
    from_block: Vec<usize>,
    /// Whether the driver numbers the states as the block does (as `workflow!` does).
    identity: bool,
    /// By index in the block: whether the state is a Task whose result may reach another Task's
    /// handler unchanged (so that a typed handler's output is worth keeping as the Rust value).
    feeds_task: Vec<bool>,
}

impl std::fmt::Debug for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bound")
            .field("to_block", &self.to_block)
            .finish_non_exhaustive()
    }
}

impl Program {
    /// Compiles a model, as [`Program::compile`], and attaches `driver` to its top-level scope
    /// (and the drivers nested in it to the branches they name). Fails when a driver does not
    /// fit its scope: its state names are not exactly the scope's, or a nested driver names a
    /// state that is not a Parallel with that many branches or a Map.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # const STATES: &[&str] = &["Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_task(0, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             match next {
    /// #                 Some(n) => state = n,
    /// #                 None => return Ok(d.into_output()),
    /// #             }
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
    /// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// let driven = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// let runtime = Runtime::default(); // no handler: the driver calls `double` itself
    /// let outcome = runtime.run(&driven, json!(21)).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[2], "LambdaFunctionScheduled"); // the interpreter's history
    /// # Ok(())
    /// # }
    /// ```
    pub fn compile_driven(
        machine: &StateMachine,
        driver: &ScopeDriver,
    ) -> Result<Arc<Program>, CompileError> {
        let mut program = Program::compile(machine)?;
        let p = Arc::get_mut(&mut program)
            .expect("a program that was just compiled has a single owner");
        attach(&mut p.root, driver, "")?;
        Ok(program)
    }
}

fn attach(block: &mut Block, d: &ScopeDriver, pointer: &str) -> Result<(), CompileError> {
    let misfit = |message: String| CompileError {
        pointer: pointer.to_string(),
        message: format!("the driver does not fit the definition: {message}"),
    };
    let n = block.states.len();
    if d.states.len() != n {
        return Err(misfit(format!(
            "it drives {} states, the scope has {n}",
            d.states.len()
        )));
    }
    let mut to_block = Vec::with_capacity(n);
    let mut from_block = vec![usize::MAX; n];
    for (k, name) in d.states.iter().enumerate() {
        let i = block
            .states
            .iter()
            .position(|s| &*s.name == *name)
            .ok_or_else(|| misfit(format!("the scope has no state `{name}`")))?;
        if from_block[i] != usize::MAX {
            return Err(misfit(format!("it names the state `{name}` twice")));
        }
        from_block[i] = k;
        to_block.push(i);
    }
    for (k, drivers) in &d.nested {
        let st = to_block
            .get(*k)
            .and_then(|&i| block.states.get_mut(i))
            .ok_or_else(|| misfit(format!("it nests drivers in its state {k}, which it lacks")))?;
        let ptr = push_pointer(&push_pointer(pointer, "States"), &st.name);
        match &mut st.kind {
            Kind::Parallel(p) if p.branches.len() == drivers.len() => {
                for (j, (b, bd)) in p.branches.iter_mut().zip(drivers).enumerate() {
                    let at = push_pointer(&push_pointer(&ptr, "Branches"), &j.to_string());
                    attach(b, bd, &at)?;
                }
            }
            Kind::Map(m) if drivers.len() == 1 => {
                attach(&mut m.processor, &drivers[0], &push_pointer(&ptr, "ItemProcessor"))?;
            }
            _ => {
                return Err(misfit(format!(
                    "it nests {} driver(s) in `{}`, which is not a Parallel state with that many branches or a Map state",
                    drivers.len(),
                    st.name
                )))
            }
        }
    }
    let feeds_task = feeds_task(block);
    let identity = to_block.iter().enumerate().all(|(k, &i)| k == i);
    let runner: Box<dyn ScopeRunner> = Box::new(Bound {
        drive: d.drive,
        to_block,
        from_block,
        identity,
        feeds_task,
    });
    block.driver = Some(Box::new(runner));
    Ok(())
}

impl ScopeRunner for Bound {
    fn run<'a>(
        &'a self,
        exec: &'a Exec,
        block: &'a Block,
        scope: Scope<'a>,
        input: Value,
    ) -> BoxFuture<'a, Result<Value, Fault>> {
        let driver = Driver {
            exec,
            block,
            bound: self,
            scope,
            data: input,
            carried: None,
        };
        (self.drive)(driver).0
    }
}

/// Whether a Task state passes its input to its handler unchanged (no `InputPath`, no
/// `Parameters`).
fn takes_data(st: &CState) -> bool {
    match &st.kind {
        Kind::Task(t) => matches!(st.input_path, IoPath::Identity) && t.parameters.is_none(),
        _ => false,
    }
}

/// For each state of `block`: whether it is a Task whose result can reach a Task's handler
/// unchanged, from its `Next` through states that pass their input on.
fn feeds_task(block: &Block) -> Vec<bool> {
    let n = block.states.len();
    block
        .states
        .iter()
        .map(|st| {
            if !matches!(st.kind, Kind::Task(_)) {
                return false;
            }
            let mut seen = vec![false; n];
            let mut todo: Vec<usize> = st.next.into_iter().collect();
            while let Some(i) = todo.pop() {
                let Some(s) = block.states.get(i) else {
                    continue;
                };
                if std::mem::replace(&mut seen[i], true) {
                    continue;
                }
                if takes_data(s) {
                    return true;
                }
                if transparent(s) {
                    match &s.kind {
                        Kind::Choice {
                            targets, default, ..
                        } => todo.extend(targets.iter().copied().chain(*default)),
                        _ => todo.extend(s.next),
                    }
                }
            }
            false
        })
        .collect()
}

/// The runtime's side of a [`DriveFn`]: it holds the scope's current data (the next state's
/// input) and runs one state per step.
///
/// ```
/// # use serde_json::{json, Value};
/// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
/// # use workflow_runtime::{Program, Runtime, TaskError};
/// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
/// # const STATES: &[&str] = &["Double", "Done"];
/// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
/// #     DriveFuture::new(async move {
/// #         let doubler = TypedHandler::new(|n: i64, _cx| double(n));
/// #         let mut state = 0;
/// #         loop {
/// #             let next = match state {
/// #                 0 => d.step_task(0, &doubler).await?,
/// #                 _ => d.step(state).await?,
/// #             };
/// #             match next {
/// #                 Some(n) => state = n,
/// #                 None => return Ok(d.into_output()),
/// #             }
/// #         }
/// #     })
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let machine = workflow_asl::load(r#"{"StartAt": "Double", "States": {
/// #     "Double": {"Type": "Task", "Next": "Done", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double"},
/// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
/// let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
/// assert_eq!(Runtime::default().run(&program, json!(3)).await?.output, Some(json!(6)));
/// # Ok(())
/// # }
/// ```
pub struct Driver<'a> {
    exec: &'a Exec,
    block: &'a Block,
    bound: &'a Bound,
    /// The scope's cursor, variables, cancellation and flow between states.
    scope: Scope<'a>,
    data: Value,
    /// The output of the last typed handler, as the Rust value, while it is the data (a step
    /// that changes the data drops it): the next typed handler receives it instead of reading
    /// the data.
    carried: Option<Box<dyn Any + Send>>,
}

impl std::fmt::Debug for Driver<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("data", &self.data)
            .field("carried", &self.carried.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether a state passes its input on unchanged (a Choice or Wait, a Pass with no result, all
/// without `InputPath` and `OutputPath`): a typed handler's output stays the data across it.
fn transparent(st: &CState) -> bool {
    let io =
        matches!(st.input_path, IoPath::Identity) && matches!(st.output_path, IoPath::Identity);
    io && match &st.kind {
        Kind::Choice { .. } | Kind::Wait(_) => true,
        Kind::Pass {
            result: None,
            parameters: None,
            result_path,
        } => !matches!(result_path, ResultPathOpt::Path(_)),
        _ => false,
    }
}

fn lost(what: String) -> DriveFault {
    DriveFault::new(Fault::Error(StateError::new(
        names::RUNTIME,
        format!("internal error: {what}"),
    )))
}

impl<'a> Driver<'a> {
    /// The scope's current data: its input before the first step, then the last step's output.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver};
    /// use workflow_runtime::{Program, Runtime};
    ///
    /// // A driver that reports the data before and after its one state.
    /// fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    ///     DriveFuture::new(async move {
    ///         let before = d.data().clone();
    ///         d.step_now(0)?;
    ///         Ok(json!({"before": before, "after": d.data().clone()}))
    ///     })
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 2, "End": true}}}"#).expect("valid");
    /// let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, &["P"]))?;
    /// let outcome = Runtime::default().run(&program, json!(1)).await?;
    /// assert_eq!(outcome.output, Some(json!({"before": 1, "after": 2})));
    /// # Ok(())
    /// # }
    /// ```
    pub fn data(&self) -> &Value {
        &self.data
    }

    /// The scope's output, after the step that ended it.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # const STATES: &[&str] = &["Pick", "Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_now(0)?, // a Pass never waits
    /// #                 1 => d.step_task(1, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             state = match (state, next) {
    /// #                 (0, Some(1)) => 1,
    /// #                 (1, Some(2)) => 2,
    /// #                 (2, None) => return Ok(d.into_output()),
    /// #                 (from, to) => return Err(d.no_transition(from, to)),
    /// #             };
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
    /// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
    /// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // The driver's last step is `Done`; it returns `d.into_output()`, the scope's output.
    /// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn into_output(self) -> Value {
        self.data
    }

    /// The fault a driver returns when a step of state `from` reports a next state (`None`: the
    /// end of the scope) it has no transition to, which a driver generated from the same
    /// definition never does.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # const STATES: &[&str] = &["Pick", "Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_now(0)?, // a Pass never waits
    /// #                 1 => d.step_task(1, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             state = match (state, next) {
    /// #                 (0, Some(1)) => 1,
    /// #                 (1, Some(2)) => 2,
    /// #                 (2, None) => return Ok(d.into_output()),
    /// #                 (from, to) => return Err(d.no_transition(from, to)),
    /// #             };
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
    /// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
    /// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // The driver matches (state, next state); any other pair is `Err(d.no_transition(from, to))`.
    /// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn no_transition(&self, from: usize, to: Option<usize>) -> DriveFault {
        let name = |k: usize| {
            self.bound
                .to_block
                .get(k)
                .and_then(|&i| self.block.states.get(i))
                .map_or_else(|| format!("#{k}"), |s| s.name.to_string())
        };
        lost(match to {
            Some(to) => format!(
                "the driver has no transition from `{}` to `{}`",
                name(from),
                name(to)
            ),
            None => format!("the driver does not end the scope at `{}`", name(from)),
        })
    }

    /// Runs state `state` (a driver state number) on the current data, exactly as the
    /// interpreter runs it, and returns the next state (`None` when the scope ends with it).
    /// A Task calls the handler registered in the runtime for its resource (or its mock).
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # const STATES: &[&str] = &["Pick", "Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_now(0)?, // a Pass never waits
    /// #                 1 => d.step_task(1, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             state = match (state, next) {
    /// #                 (0, Some(1)) => 1,
    /// #                 (1, Some(2)) => 2,
    /// #                 (2, None) => return Ok(d.into_output()),
    /// #                 (from, to) => return Err(d.no_transition(from, to)),
    /// #             };
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
    /// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
    /// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // `Done` (a Succeed state) runs with `d.step(2).await?`, as any state may.
    /// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn step(&mut self, state: usize) -> BoxFuture<'_, Result<Option<usize>, DriveFault>> {
        Box::pin(async move {
            let st = self.state_at(state)?;
            let input = std::mem::take(&mut self.data);
            let done = if is_pure(st) {
                self.exec.run_pure_state(st, &mut self.scope, input)
            } else {
                self.exec.run_state(st, &mut self.scope, input, None).await
            };
            self.finish(st, done)
        })
    }

    /// [`Driver::step`] for a state that never waits (Pass, Choice, Succeed, Fail), without an
    /// `await`. Any other state is an error: run it with [`Driver::step`].
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # const STATES: &[&str] = &["Pick", "Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_now(0)?, // a Pass never waits
    /// #                 1 => d.step_task(1, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             state = match (state, next) {
    /// #                 (0, Some(1)) => 1,
    /// #                 (1, Some(2)) => 2,
    /// #                 (2, None) => return Ok(d.into_output()),
    /// #                 (from, to) => return Err(d.no_transition(from, to)),
    /// #             };
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
    /// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
    /// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // `Pick` (a Pass, which never waits) runs with `d.step_now(0)?`: no `await`.
    /// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
    /// # Ok(())
    /// # }
    /// ```
    #[inline]
    pub fn step_now(&mut self, state: usize) -> Result<Option<usize>, DriveFault> {
        let st = self.state_at(state)?;
        if !is_pure(st) {
            return Err(lost(format!(
                "the state `{}` waits; the driver must run it with `step`",
                st.name
            )));
        }
        let input = std::mem::take(&mut self.data);
        let done = self.exec.run_pure_state(st, &mut self.scope, input);
        self.finish(st, done)
    }

    /// Runs the Task state `state` as [`Driver::step`] does, calling `handler` instead of the
    /// registered one (a mock still wins). On its first call, the handler receives the previous
    /// typed handler's output as the Rust value when that is still the data and the state passes
    /// the data on unchanged (no `InputPath`, no `Parameters`); otherwise it reads the state's
    /// effective input. Its output is the state's result (as JSON) and, when it is the state's
    /// output unchanged (no `ResultSelector`, `ResultPath` or `OutputPath`), is kept as the Rust
    /// value for the next typed handler. A panic fails the attempt with `States.TaskFailed`.
    ///
    /// Passing the Rust value assumes that reading a value's JSON gives the value back (that the
    /// type's `Deserialize` inverts its `Serialize`), as for any serde round trip.
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use workflow_runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
    /// # use workflow_runtime::{Program, Runtime, TaskError};
    /// # const STATES: &[&str] = &["Pick", "Double", "Done"];
    /// # fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
    /// #     DriveFuture::new(async move {
    /// #         let doubler = TypedHandler::new(|n: i64, _cx| async move { Ok::<_, TaskError>(n * 2) });
    /// #         let mut state = 0;
    /// #         loop {
    /// #             let next = match state {
    /// #                 0 => d.step_now(0)?, // a Pass never waits
    /// #                 1 => d.step_task(1, &doubler).await?,
    /// #                 _ => d.step(state).await?,
    /// #             };
    /// #             state = match (state, next) {
    /// #                 (0, Some(1)) => 1,
    /// #                 (1, Some(2)) => 2,
    /// #                 (2, None) => return Ok(d.into_output()),
    /// #                 (from, to) => return Err(d.no_transition(from, to)),
    /// #             };
    /// #         }
    /// #     })
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Pick", "States": {
    /// #     "Pick": {"Type": "Pass", "InputPath": "$.n", "Next": "Double"},
    /// #     "Double": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:double", "Next": "Done"},
    /// #     "Done": {"Type": "Succeed"}}}"#).expect("valid");
    /// # let program = Program::compile_driven(&machine, &ScopeDriver::new(drive, STATES))?;
    /// // `Double` runs with `d.step_task(1, &doubler).await?`: the typed handler, called directly.
    /// let outcome = Runtime::default().run(&program, json!({"n": 21})).await?;
    /// assert_eq!(outcome.output, Some(json!(42)));
    /// assert_eq!(outcome.event_types()[1..3], ["PassStateEntered", "PassStateExited"]);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn step_task(
        &mut self,
        state: usize,
        handler: &TypedHandler,
    ) -> Result<Option<usize>, DriveFault> {
        let st = self.state_at(state)?;
        let Kind::Task(t) = &st.kind else {
            return self.step(state).await;
        };
        let mut first = self.carried.take().filter(|_| takes_data(st));
        // Whether to keep the output as the Rust value: it may reach a Task's handler, it is
        // the state's output (no reshaping), and the success path is the state's own `Next`
        // (or end), unless a catcher goes there too.
        let feeds = self
            .block_index(state)
            .and_then(|i| self.bound.feeds_task.get(i))
            .copied()
            .unwrap_or(false);
        let keep = feeds
            && t.result_selector.is_none()
            && matches!(t.result_path, ResultPathOpt::Replace)
            && matches!(st.output_path, IoPath::Identity)
            && !st.next.is_some_and(|n| t.errors.catch_targets.contains(&n));
        // The output of the last successful call, as the Rust value.
        let slot: Slot = Mutex::new(None);
        let input = std::mem::take(&mut self.data);
        let (output, next) = {
            let slot = keep.then_some(&slot);
            let typed = &handler.call;
            // A panic while reading the input or creating the handler's future, or while
            // polling it, fails the attempt, as for registered handlers.
            let mut call = |params: Value, cx: TaskContext| {
                let carried = first.take();
                match std::panic::catch_unwind(AssertUnwindSafe(|| {
                    typed(params, carried, cx, slot)
                })) {
                    Ok(run) => Guarded(run),
                    Err(payload) => Guarded(failed(panicked(payload.as_ref()))),
                }
            };
            Box::pin(
                self.exec
                    .run_state(st, &mut self.scope, input, Some(&mut call)),
            )
            .await
            .map_err(DriveFault::new)?
        };
        self.set_data(output);
        if keep && next == st.next {
            self.carried = slot.into_inner().unwrap_or_else(|p| p.into_inner());
        }
        self.to_driver(next)
    }

    /// Makes `output` the data (in place of the `Null` a step's `take` left).
    #[inline]
    fn set_data(&mut self, output: Value) {
        match std::mem::replace(&mut self.data, output) {
            // A `Null` owns nothing: forgetting it skips a call to `Value`'s drop glue on every
            // step (the usual case).
            null @ Value::Null => std::mem::forget(null),
            other => drop(other),
        }
    }

    /// The block index of driver state `state`.
    #[inline]
    fn block_index(&self, state: usize) -> Option<usize> {
        if self.bound.identity {
            Some(state)
        } else {
            self.bound.to_block.get(state).copied()
        }
    }

    #[inline]
    fn state_at(&self, state: usize) -> Result<&'a CState, DriveFault> {
        let block: &'a Block = self.block;
        self.block_index(state)
            .and_then(|i| block.states.get(i))
            .ok_or_else(|| lost(format!("the driver has no state #{state}")))
    }

    #[inline]
    fn to_driver(&self, idx: Option<usize>) -> Result<Option<usize>, DriveFault> {
        match idx {
            None => Ok(None),
            Some(i) if self.bound.identity => Ok(Some(i)),
            Some(i) => match self.bound.from_block.get(i) {
                Some(&k) if k != usize::MAX => Ok(Some(k)),
                _ => Err(lost("a transition names no state".into())),
            },
        }
    }

    /// After a step: keeps its output as the current data (dropping the typed handler's output
    /// if the state changed the data), and returns the next state as a driver state number.
    #[inline]
    fn finish(
        &mut self,
        st: &CState,
        done: Result<(Value, Option<usize>), Fault>,
    ) -> Result<Option<usize>, DriveFault> {
        let (output, next) = done.map_err(DriveFault::new)?;
        self.set_data(output);
        if self.carried.is_some() && !transparent(st) {
            self.carried = None;
        }
        self.to_driver(next)
    }
}

/// The failure of a typed handler whose input does not fit its type (as for registered handlers,
/// [`Handlers::insert_typed`](crate::Handlers::insert_typed)).
fn unreadable(resource: &str, e: &serde_json::Error) -> TaskError {
    TaskError::task_failed(format!(
        "the handler for `{resource}` could not read its input: {e}"
    ))
}

/// The failure of a typed handler whose output is not JSON.
fn not_json(resource: &str, e: &serde_json::Error) -> TaskError {
    TaskError::task_failed(format!(
        "the handler for `{resource}` returned a value that is not JSON: {e}"
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::{ExecutionOutcome, Runtime};

    const ONE_TASK: &str = r#"{"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:t",
              "End": true}}}"#;

    /// A typed handler for [`drive_one`].
    trait Case: 'static {
        type I: DeserializeOwned + Send + 'static;
        type O: Serialize + Send + 'static;
        fn call(input: Self::I) -> Result<Self::O, TaskError>;
    }

    /// Drives `ONE_TASK` with `C`'s handler.
    fn drive_one<C: Case>(mut d: Driver<'_>) -> DriveFuture<'_> {
        DriveFuture::new(async move {
            let handler = TypedHandler::new(|i, _cx| async move { C::call(i) });
            let next = d.step_task(0, &handler).await?;
            match next {
                None => Ok(d.into_output()),
                n => Err(d.no_transition(0, n)),
            }
        })
    }

    /// The driven and the interpreted run of `ONE_TASK` with `C`'s handler.
    async fn both<C: Case>(input: Value) -> (ExecutionOutcome, ExecutionOutcome) {
        let machine = workflow_asl::load(ONE_TASK).expect("valid");
        let driven = Program::compile_driven(&machine, &ScopeDriver::new(drive_one::<C>, &["T"]))
            .expect("fits");
        let plain = Program::compile(&machine).expect("compiles");
        let start = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a valid time");
        let rt = Runtime::builder()
            .seed(3)
            .start_time(start)
            .handler(
                "arn:aws:lambda:us-east-1:123456789012:function:t",
                |i: C::I| async move { C::call(i) },
            )
            .build();
        let a = rt.run(&driven, input.clone()).await.expect("starts");
        let b = rt.run(&plain, input).await.expect("starts");
        (a, b)
    }

    struct Double;
    impl Case for Double {
        type I = i64;
        type O = i64;
        fn call(n: i64) -> Result<i64, TaskError> {
            Ok(n * 2)
        }
    }

    struct NotJson;
    impl Case for NotJson {
        type I = Value;
        type O = BTreeMap<(i32, i32), i32>;
        fn call(_: Value) -> Result<Self::O, TaskError> {
            Ok(BTreeMap::from([((1, 2), 3)]))
        }
    }

    struct Panics;
    impl Case for Panics {
        type I = Value;
        type O = Value;
        fn call(_: Value) -> Result<Value, TaskError> {
            panic!("boom")
        }
    }

    #[tokio::test(start_paused = true)]
    async fn typed_calls_succeed_and_fail_as_registered_handlers_do() {
        let cases = [
            (both::<Double>(json!(21)).await, Some(json!(42)), None),
            (
                both::<Double>(json!("x")).await,
                None,
                Some("could not read its input"),
            ),
            (
                both::<NotJson>(json!(1)).await,
                None,
                Some("returned a value that is not JSON"),
            ),
            (
                both::<Panics>(json!(1)).await,
                None,
                Some("the task handler panicked: boom"),
            ),
        ];
        for ((driven, interpreted), output, cause) in cases {
            assert_eq!(driven.output, output);
            assert_eq!(driven.output, interpreted.output);
            assert_eq!(driven.error, interpreted.error);
            assert_eq!(driven.cause, interpreted.cause);
            assert_eq!(driven.history.events(), interpreted.history.events());
            if let Some(cause) = cause {
                assert_eq!(driven.error.as_deref(), Some("States.TaskFailed"));
                let got = driven.cause.unwrap_or_default();
                assert!(got.contains(cause), "{got}");
            }
        }
    }

    fn noop(d: Driver<'_>) -> DriveFuture<'_> {
        DriveFuture::new(async move { Ok(d.into_output()) })
    }

    #[test]
    fn drivers_that_do_not_fit_are_rejected() {
        let machine = workflow_asl::load(
            r#"{"StartAt": "P", "States": {
                "P": {"Type": "Parallel", "Next": "M", "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]},
                "M": {"Type": "Map", "End": true, "ItemProcessor": {
                    "StartAt": "B", "States": {"B": {"Type": "Succeed"}}}}}}"#,
        )
        .expect("valid");
        let a = || ScopeDriver::new(noop, &["A"]);
        let b = || ScopeDriver::new(noop, &["B"]);
        let root = || ScopeDriver::new(noop, &["P", "M"]);
        let cases: Vec<(ScopeDriver, Option<(&str, &str)>)> = vec![
            (root().nest(0, vec![a()]).nest(1, vec![b()]), None),
            (root(), None),
            (
                ScopeDriver::new(noop, &["P"]),
                Some(("", "it drives 1 states")),
            ),
            (
                ScopeDriver::new(noop, &["P", "X"]),
                Some(("", "no state `X`")),
            ),
            (ScopeDriver::new(noop, &["P", "P"]), Some(("", "`P` twice"))),
            (root().nest(1, vec![a(), b()]), Some(("", "not a Parallel"))),
            (
                root().nest(0, vec![b()]),
                Some(("/States/P/Branches/0", "no state `B`")),
            ),
            (
                root().nest(1, vec![a()]),
                Some(("/States/M/ItemProcessor", "no state `A`")),
            ),
            (root().nest(5, vec![a()]), Some(("", "lacks"))),
        ];
        for (driver, want) in cases {
            let got = Program::compile_driven(&machine, &driver).err();
            match (got, want) {
                (None, None) => {}
                (Some(e), Some((pointer, message))) => {
                    assert_eq!(e.pointer, pointer, "{e}");
                    assert!(e.message.contains(message), "{e}");
                }
                (got, want) => panic!("{driver:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
