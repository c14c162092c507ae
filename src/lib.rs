//! Write AWS Step Functions workflows as type-checked Rust, export their Amazon States Language
//! (ASL), and run them locally with Step Functions semantics.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use workflow::{workflow, TaskError, Workflow};
//!
//! #[derive(Serialize, Deserialize)]
//! pub struct Order { pub id: String, pub total: f64 }
//!
//! async fn validate(order: Order) -> Result<Order, TaskError> {
//!     Ok(order)
//! }
//!
//! workflow! {
//!     /// Order processing.
//!     pub OrderFlow: Order -> Order {
//!         start Validate;
//!         Validate = task(validate, resource = "${ValidateFn}")
//!             .retry([States.TaskFailed], interval_seconds = 2, max_attempts = 3)
//!             .catch([States.ALL] => Rejected, result_path = $.error)
//!             -> Route;
//!         Route = choice {
//!             $.total >= 1000 => Review,
//!             _ => Done,
//!         };
//!         Review = wait(seconds = 3600) -> Done;
//!         Rejected = fail(error = "Rejected", cause = "the order is invalid");
//!         Done = succeed;
//!     }
//! }
//!
//! // The ASL is a compile-time constant; export it with placeholders substituted.
//! assert!(OrderFlow::ASL.starts_with(r#"{"Comment":"Order processing.","StartAt":"Validate""#));
//! let deployable = OrderFlow::asl_with(&[("ValidateFn", "arn:aws:lambda:us-east-1:123456789012:function:validate")]);
//! assert!(deployable.contains("function:validate"));
//! ```
//!
//! # The `workflow!` DSL
//!
//! One `workflow!` declares one or more workflows. Each becomes a unit struct implementing
//! [`Workflow`] (its ASL, model and handlers), an enum `<Name>State` of its states, and the
//! async state machine over that enum that runs it ([below](#the-generated-state-machine)).
//!
//! ```text
//! workflow! {
//!     /// Doc comments become the ASL `Comment` (of the machine, a state or a Choice arm).
//!     #[workflow(timeout_seconds = 300, version = "1.0", query_language = "JSONata",
//!                comment = "…", raw = { "AnyField": … }, crate = "my_workflow")]   // all optional
//!     pub Name: InputType -> OutputType {      // `: In -> Out` is optional (default: JSON values)
//!         start FirstState;
//!         StateName = <kind> <.retry(…)/.catch(…)>* <-> Next | -> end>? ;
//!         …
//!     }
//! }
//! ```
//!
//! An existing definition becomes a workflow type too, read and validated at compile time (the
//! path is relative to the crate's `Cargo.toml`; a problem in the file is a compile error naming
//! its JSON pointer), with Rust handlers bound to its Task resources:
//!
//! ```text
//! pub Greeter = file("definitions/greeter.asl.json") {
//!     "arn:aws:lambda:us-east-1:123456789012:function:greet" => greet,
//! };
//! ```
//!
//! State names are identifiers (or string literals for names that are not). The kinds:
//!
//! | DSL | ASL |
//! |---|---|
//! | `task(handler, resource = "arn:…", …)` | `Task`; `handler` is an `async fn(I) -> Result<O, E>` (or `async fn(I, TaskContext)`); without `resource` the Resource is `"${handler}"`; `task(resource = "…")` has no Rust handler (mock it, or register one at run time) |
//! | `pass(result = {…}, parameters = {…}, …)` | `Pass` |
//! | `choice(…) { rule => Next, …, _ => Default }` | `Choice` |
//! | `wait(seconds = 5)` / `wait(timestamp = "…")` / `wait(seconds_path = $.s)` / `wait(timestamp_path = $.t)` | `Wait` |
//! | `succeed` | `Succeed` |
//! | `fail(error = "E", cause = "C")` (or `error_path`/`cause_path`) | `Fail` |
//! | `parallel([BranchA, BranchB], …)` | `Parallel`; each branch is a workflow type |
//! | `parallel(…) { Left { start …; … } Right: I -> O { … } }` | `Parallel` with its branches written inline (each becomes the workflow type `<Workflow><State><Label>`; same ASL as the named form) |
//! | `map(ItemWorkflow, items_path = $.items, max_concurrency = 2, processor_config = {…}, …)` | `Map`; the item processor is a workflow type |
//! | `map(items_path = $.items, …): I -> O { //! doc … start …; … }` | `Map` with its item processor written inline (the type `<Workflow><State>Item`) |
//!
//! **Typed Parallel and Map.** When every branch (the item processor) is declared in the same
//! `workflow!` with types, a Parallel's output type is the tuple of the branch outputs and a Map's
//! the `Vec` of the item output; they are checked on the edges like a task's output.
//!
//! **Typed paths.** With [`derive@WorkflowData`] on the data types, every JSONPath (and every
//! `$states.input.…` / `$states.result.…` reference of a JSONata expression) that reads data of a
//! known type — the workflow's input, a typed handler's output — is checked against the type at
//! compile time, with serde's names: "no field `kidn` in `Order`; did you mean `kind`?" on the
//! path. See [`data`].
//!
//! **JSONata.** `#[workflow(query = jsonata)]` (or `query = jsonata` on a state) sets
//! `QueryLanguage`; `output`, `arguments`, `assign`, `items`, Choice conditions, … are then
//! `"{% … %}"` expressions, each parsed at compile time (a malformed expression, or one AWS rejects
//! at creation, is an error on it).
//!
//! **Fields.** Every ASL field `FieldName` is written `field_name = value` in the kind's
//! parentheses: `input_path`, `output_path`, `parameters`, `result_selector`, `result_path`,
//! `result`, `arguments`, `output`, `assign`, `timeout_seconds`, `timeout_seconds_path`,
//! `heartbeat_seconds`, `heartbeat_seconds_path`, `credentials`, `items_path`, `items`,
//! `item_selector`, `item_reader`, `item_batcher`, `result_writer`, `max_concurrency(_path)`,
//! `tolerated_failure_count(_path)`, `tolerated_failure_percentage(_path)`, `label`,
//! `query_language`, … An unknown field is an error with a "did you mean". `raw = { "Field": … }`
//! adds any field verbatim (the escape hatch).
//!
//! **Values** are JSON literals (`"text"`, `1.5`, `true`, `null`, `[…]`, `{ "key": … }`), plus:
//! a path `$.a.b[0]` / `$$.Execution.Id` (or a string literal for paths that are not tokens,
//! `"$.a[?(@.x > 1)]"`); an intrinsic call `States.Format("Hi {}", $.name)`; a bare identifier
//! as a whole field value is a string (`jitter_strategy = FULL`). Inside an object,
//! `"key": $.path` and `"key": States.Fn(…)` mean `"key.$": "…"`; `"key.$": "…"` also works.
//!
//! **Retry and Catch** chain after the kind:
//! `.retry([States.TaskFailed, "My.Error"], interval_seconds = 2, max_attempts = 3,
//! backoff_rate = 2.0, max_delay_seconds = 60, jitter_strategy = FULL)` and
//! `.catch([States.ALL] => Handler, result_path = $.error)`.
//!
//! **Choice rules** are expressions: `$.x == "s"`, `$.n < 10`, `$.b == true`, `$.v == null`,
//! `$.t > timestamp("2024-01-01T00:00:00Z")`, path-to-path with the type said:
//! `$.a <= number($.b)` / `string(…)` / `boolean(…)` / `timestamp(…)`, `is_present($.x)`,
//! `is_null`, `is_numeric`, `is_string`, `is_boolean`, `is_timestamp`, `matches($.f, "*.log")`,
//! combined with `&&`, `||`, `!` and parentheses (`a != b` is `Not(a == b)`). A JSONata
//! condition is a string: `"{% $states.input.n > 1 %}" => Next`. An arm may add fields:
//! `rule => Next(assign = {…}, output = …)`. `_ => State` is the `Default`.
//!
//! # Compile-time checks
//!
//! The emitted ASL is judged by the same validator as files ([`asl::validate()`]); each problem is
//! reported at the DSL token it came from: unknown targets (with a suggestion), duplicate and
//! unreachable states, no terminal state, missing or unknown `start`, `States.ALL` not alone or
//! not last, out-of-range retry fields, malformed paths, unknown intrinsics and wrong arity,
//! fields of the other query language, … Rust checks the rest, at the handler or edge token:
//! a handler that is not an async fn of serde types, and a *typed edge* whose types differ: a
//! task's output that reaches the next task's handler, or the workflow's output, unchanged (no
//! `input_path`, `parameters`, `result_selector`, `result_path` or `output_path` on the way;
//! Choice, Wait and plain Pass states pass data through), and likewise the workflow's input.
//! `Resource`s written as `${Placeholder}` are validated as if substituted.
//!
//! # The generated state machine
//!
//! [`Workflow::execute`] (and [`Workflow::run`], [`Workflow::start`]) runs a workflow with the
//! code `workflow!` generates for it: an async driver over the enum of its states whose
//! transitions are `match` arms. Each arm runs its state with the runtime's own code for one
//! state ([`runtime::driver::Driver`]: `…Entered`, paths and templates, retries, catches, waits,
//! branches, `…Exited`), so the outcome and the history are the interpreter's, event for event
//! ([`Workflow::interpret`] runs the same definition with the interpreter;
//! `tests/it/macro_equivalence.rs` compares the two on every workflow of the tests and examples).
//! What is compiled is the control flow and the calls:
//!
//! - a Task bound to a Rust handler calls it directly, not through the runtime's handler registry
//!   (a mock of the state still wins). The handler's input is read from the state's effective
//!   input, except on a *typed edge*: when the previous typed handler's output reached this
//!   handler unchanged, it receives that Rust value and no JSON is read (which assumes, as any
//!   serde round trip does, that the type's `Deserialize` inverts its `Serialize`). Its output is
//!   still written as JSON, for the history and the data flow;
//! - the branches of a Parallel state and the item processor of a Map state are workflow types,
//!   run by their own generated drivers;
//! - Pass, Choice, Succeed and Fail states run without an `await`; one `step` call serves every
//!   state that may wait, so the code (and the compile time) grows little with the states.
//!
//! Tasks without a Rust handler, and the branches of a definition read with `file(…)`, use the
//! handlers registered in the runtime, as the interpreter does (build it with
//! [`Workflow::runtime`]). The history being the interpreter's, a driven execution can be
//! streamed to a store and resumed from its history ([`Workflow::start`] with
//! [`StartOptions::resume_from`]) like any other.
//!
//! For this workflow:
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! # use workflow::{workflow, TaskError};
//! # #[derive(Debug, Serialize, Deserialize)]
//! # pub struct Order { pub total: f64 }
//! # #[derive(Debug, Serialize, Deserialize)]
//! # pub struct Receipt { pub paid: f64 }
//! # async fn validate(order: Order) -> Result<Order, TaskError> { Ok(order) }
//! # async fn charge(order: Order) -> Result<Receipt, TaskError> { Ok(Receipt { paid: order.total }) }
//! workflow! {
//!     pub Checkout: Order -> Receipt {
//!         start Validate;
//!         Validate = task(validate, resource = "${ValidateFn}")
//!             .catch([States.ALL] => Rejected, result_path = $.error)
//!             -> Big;
//!         Big = choice { $.total >= 1000 => Review, _ => Charge };
//!         Review = wait(seconds = 3600) -> Charge;
//!         Charge = task(charge, resource = "${ChargeFn}") -> end;
//!         Rejected = fail(error = "Rejected");
//!     }
//! }
//! ```
//!
//! the macro generates the equivalent of this hand-written code (the numbers are the states'
//! positions in the enum, the driver's names for them), which runs like `Checkout::execute`:
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! # use serde_json::{json, Value};
//! # use workflow::{workflow, Program, Runtime, TaskError, Workflow};
//! # #[derive(Debug, Serialize, Deserialize)]
//! # pub struct Order { pub total: f64 }
//! # #[derive(Debug, Serialize, Deserialize)]
//! # pub struct Receipt { pub paid: f64 }
//! # async fn validate(order: Order) -> Result<Order, TaskError> { Ok(order) }
//! # async fn charge(order: Order) -> Result<Receipt, TaskError> { Ok(Receipt { paid: order.total }) }
//! # mod generated {
//! # use super::*;
//! # workflow! {
//! #     pub Checkout: Order -> Receipt {
//! #         start Validate;
//! #         Validate = task(validate, resource = "${ValidateFn}")
//! #             .catch([States.ALL] => Rejected, result_path = $.error)
//! #             -> Big;
//! #         Big = choice { $.total >= 1000 => Review, _ => Charge };
//! #         Review = wait(seconds = 3600) -> Charge;
//! #         Charge = task(charge, resource = "${ChargeFn}") -> end;
//! #         Rejected = fail(error = "Rejected");
//! #     }
//! # }
//! # }
//! # use generated::Checkout;
//! use workflow::runtime::driver::{DriveFuture, Driver, ScopeDriver, TypedHandler};
//!
//! /// The states of `Checkout`, in the order they are declared.
//! #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
//! pub enum CheckoutState { Validate, Big, Review, Charge, Rejected }
//!
//! fn drive(mut d: Driver<'_>) -> DriveFuture<'_> {
//!     DriveFuture::new(async move {
//!         // The Rust handlers (the generated code makes them once per process).
//!         let validate = TypedHandler::new(|order, _cx| validate(order));
//!         let charge = TypedHandler::new(|order, _cx| charge(order));
//!         let mut state = CheckoutState::Validate;
//!         loop {
//!             // Run the state.
//!             let next = match state {
//!                 // The handlers are called directly. `validate`'s `Order` is kept as the Rust
//!                 // value: `charge` receives it as is (no JSON read) when the data has not
//!                 // changed on the way (the runtime checks).
//!                 CheckoutState::Validate => d.step_task(0, &validate).await?,
//!                 CheckoutState::Charge => d.step_task(3, &charge).await?,
//!                 // No `await` for the states that never wait.
//!                 CheckoutState::Big | CheckoutState::Rejected => d.step_now(state as usize)?,
//!                 CheckoutState::Review => d.step(state as usize).await?,
//!             };
//!             // Take the transition.
//!             state = match (state, next) {
//!                 (CheckoutState::Validate, Some(1)) => CheckoutState::Big,
//!                 (CheckoutState::Validate, Some(4)) => CheckoutState::Rejected, // Catch
//!                 (CheckoutState::Big, Some(2)) => CheckoutState::Review,
//!                 (CheckoutState::Big, Some(3)) => CheckoutState::Charge,
//!                 (CheckoutState::Review, Some(3)) => CheckoutState::Charge,
//!                 (CheckoutState::Charge, None) => return Ok(d.into_output()), // End
//!                 (from, to) => return Err(d.no_transition(from as usize, to)),
//!             };
//!         }
//!     })
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! // What `Checkout::driven_program()` builds: the definition, with the driver attached.
//! let states = &["Validate", "Big", "Review", "Charge", "Rejected"];
//! let program = Program::compile_driven(Checkout::model(), &ScopeDriver::new(drive, states))
//!     .expect("the driver fits the definition");
//! let runtime = Checkout::runtime().seed(1).build();
//! let by_hand = runtime.run(&program, json!({ "total": 1500.0 })).await.expect("starts");
//! let generated = Checkout::execute(&runtime, Order { total: 1500.0 }).await.expect("starts");
//! assert_eq!(by_hand.output, Some(json!({ "paid": 1500.0 })));
//! assert_eq!(by_hand.output, generated.output);
//! assert_eq!(by_hand.event_types(), generated.event_types());
//! # }
//! ```
//!
//! (The generated code spells every path in full, keeps the handlers in a `static`, and runs all
//! the tasks of one handler in one `step_task` arm.)
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use workflow_asl as asl;
pub use workflow_asl::{Diagnostic, Failure, StateMachine};
pub use workflow_runtime as runtime;
pub use workflow_runtime::{
    CompileError, EventKind, Execution, ExecutionOutcome, ExecutionStatus, Handlers, HistoryEvent,
    HistoryLevel, MockConfig, MockTestCase, Program, Runtime, RuntimeBuilder, StartError,
    StartOptions, TaskContext, TaskError,
};

/// Declares one or more workflows; see the crate documentation for the DSL.
///
/// ```
/// use serde_json::json;
/// use workflow::{workflow, Workflow};
///
/// workflow! {
///     /// Says hello.
///     pub Hello {
///         start Greet;
///         Greet = pass(result = { "greeting": "hello" }, result_path = $.out) -> end;
///     }
/// }
///
/// # use workflow::WorkflowState;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// assert_eq!(
///     Hello::ASL,
///     r#"{"Comment":"Says hello.","StartAt":"Greet","States":{"Greet":{"Type":"Pass","Result":{"greeting":"hello"},"ResultPath":"$.out","End":true}}}"#
/// );
/// assert_eq!(HelloState::Greet.name(), "Greet");
/// let out = Hello::run(&Hello::runtime().build(), json!({"id": 1})).await?;
/// assert_eq!(out, json!({"id": 1, "out": {"greeting": "hello"}}));
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
#[doc(inline)]
pub use workflow_macros::workflow;

pub mod data;
pub use data::WorkflowData;

/// Derives [`WorkflowData`] (the JSON shape of a serde type) so that `workflow!` checks the
/// paths into it at compile time; see [`data`].
///
/// ```
/// use workflow::WorkflowData;
///
/// #[derive(serde::Serialize, WorkflowData)]
/// struct Order {
///     #[serde(rename = "orderId")]
///     id: String,
/// }
///
/// let workflow::data::Shape::Struct { fields, .. } = Order::SHAPE else { unreachable!() };
/// assert_eq!(fields[0].name, "orderId");
/// ```
#[cfg(feature = "macros")]
#[cfg_attr(docsrs, doc(cfg(feature = "macros")))]
pub use workflow_macros::WorkflowData;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub mod test_state;
pub use test_state::{StateTest, StateTestResult};

/// The README's Rust examples, compiled and run as doc tests so that they keep working as pasted
/// (its shell examples are run by `workflow-cli/tests/it/cli.rs`).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// A workflow declared with [`workflow!`]: its ASL, its model, its handlers and its typed driver.
///
/// ```
/// use workflow::{workflow, TaskError, Workflow};
///
/// async fn double(n: i64) -> Result<i64, TaskError> {
///     Ok(n * 2)
/// }
///
/// workflow! {
///     /// Doubles a number.
///     pub Double: i64 -> i64 {
///         start Twice;
///         Twice = task(double) -> end;
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// assert_eq!(Double::NAME, "Double");
/// assert!(Double::ASL.contains(r#""Resource":"${double}""#));
/// assert!(Double::diagnostics().is_empty());
/// // A runtime holding the workflow's handlers runs it, typed in and out.
/// let runtime = Double::runtime().build();
/// assert_eq!(Double::run(&runtime, 21).await?, 42);
/// # Ok(())
/// # }
/// ```
pub trait Workflow: Sized + 'static {
    /// The input type (`serde_json::Value` when the declaration names none).
    type Input: Serialize + Send + 'static;
    /// The output type (`serde_json::Value` when the declaration names none).
    type Output: DeserializeOwned + Send + 'static;
    /// The enum of the workflow's states.
    type State: WorkflowState;
    /// The type name.
    const NAME: &'static str;
    /// The canonical ASL JSON text (compact), known at compile time.
    const ASL: &'static str;
    /// The ASL as a Parallel branch / Map item processor, up to `StartAt` (for composition).
    #[doc(hidden)]
    const __BRANCH_HEAD: &'static str;
    /// The rest of the branch form.
    #[doc(hidden)]
    const __BRANCH_TAIL: &'static str;

    /// The parsed model of [`Self::ASL`] (parsed once, on first use).
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// let model = Double::model();
    /// assert_eq!(model.start_at, "Twice");
    /// assert_eq!(model.states.len(), 1);
    /// ```
    fn model() -> &'static StateMachine;

    /// The model compiled for the interpreter (compiled once, on first use): what
    /// [`Workflow::interpret`] runs, and what `runtime.run(&W::program()?, input)` runs.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let program = Double::program()?;
    /// let runtime = Double::runtime().build();
    /// let outcome = runtime.run(&program, serde_json::json!(4)).await?;
    /// assert_eq!(outcome.output, Some(serde_json::json!(8)));
    /// # Ok(())
    /// # }
    /// ```
    fn program() -> Result<Arc<Program>, CompileError>;

    /// The model compiled with the generated state machine attached (compiled once, on first
    /// use): what [`Workflow::execute`] runs. Its scopes (the workflow's and those of the
    /// workflows it uses as branches) are run by the generated drivers, which call the typed
    /// handlers directly; see [the crate documentation](crate#the-generated-state-machine).
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    ///
    /// let runtime = Double::runtime().build();
    /// let driven = runtime.run(&Double::driven_program()?, json!(4)).await?;
    /// let interpreted = runtime.run(&Double::program()?, json!(4)).await?;
    /// assert_eq!(driven.output, Some(json!(8)));
    /// assert_eq!(driven.event_types(), interpreted.event_types());
    /// # Ok(())
    /// # }
    /// ```
    fn driven_program() -> Result<Arc<Program>, CompileError>;

    /// The generated drivers of this workflow's scope and of the scopes nested in it.
    #[doc(hidden)]
    fn __driver() -> runtime::driver::ScopeDriver;

    /// Registers every typed handler of this workflow and of the workflows it uses as branches,
    /// each under its task's `Resource`.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// use workflow::Handlers;
    ///
    /// let mut handlers = Handlers::new();
    /// Double::register(&mut handlers);
    /// // The handler is registered under the task's Resource.
    /// assert!(handlers.lookup("${double}").is_some());
    /// ```
    fn register(handlers: &mut Handlers);

    /// A registry holding this workflow's handlers (see [`Workflow::register`]).
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::Runtime;
    ///
    /// let runtime = Runtime::builder().handlers(Double::handlers()).build();
    /// assert_eq!(Double::run(&runtime, 5).await?, 10);
    /// # Ok(())
    /// # }
    /// ```
    fn handlers() -> Handlers {
        let mut h = Handlers::new();
        Self::register(&mut h);
        h
    }

    /// A runtime builder with this workflow's handlers registered; add mocks, a seed or a start
    /// time, then `build()`.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::MockConfig;
    ///
    /// // With the real handler.
    /// let runtime = Double::runtime().seed(7).build();
    /// assert_eq!(Double::run(&runtime, 5).await?, 10);
    /// // With the task mocked (a mock of a state wins over its handler).
    /// let config: MockConfig = r#"{
    ///   "StateMachines": {"Double": {"TestCases": {"Mocked": {"Twice": "NinetyNine"}}}},
    ///   "MockedResponses": {"NinetyNine": {"0": {"Return": 99}}}
    /// }"#.parse()?;
    /// let mocked = Double::runtime().mocks(config.test_case("Double", "Mocked")?).build();
    /// assert_eq!(Double::run(&mocked, 5).await?, 99);
    /// # Ok(())
    /// # }
    /// ```
    fn runtime() -> RuntimeBuilder {
        Runtime::builder().handlers(Self::handlers())
    }

    /// Starts one execution on `runtime` (which must be called within a tokio runtime), run by
    /// the generated state machine ([`Workflow::driven_program`]) with `options` (a name, an
    /// event sink, a history to resume from, …). Await the [`Execution`] for its outcome.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::{ExecutionStatus, StartOptions};
    ///
    /// let runtime = Double::runtime().build();
    /// let execution = Double::start(&runtime, 3, StartOptions::new().name("first"))?;
    /// assert_eq!(execution.name(), "first");
    /// let outcome = execution.await;
    /// assert_eq!(outcome.status, ExecutionStatus::Succeeded);
    /// assert_eq!(outcome.output, Some(serde_json::json!(6)));
    /// # Ok(())
    /// # }
    /// ```
    fn start(
        runtime: &Runtime,
        input: Self::Input,
        options: StartOptions,
    ) -> Result<Execution, RunError> {
        let input = input_json(input)?;
        let program = Self::driven_program().map_err(|e| RunError::Start(e.into()))?;
        runtime
            .start(&program, input, options)
            .map_err(RunError::Start)
    }

    /// Runs one execution on `runtime` with the generated state machine and returns its outcome
    /// (output or error, and history).
    ///
    /// Each Task bound to a Rust handler calls that handler directly (a mock of its state still
    /// wins); other tasks use the handlers registered in `runtime`. Build the runtime with
    /// [`Workflow::runtime`], so that everything the state machine does not call itself (tasks
    /// without a Rust handler, branches of an imported definition) finds its handler.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let outcome = Double::execute(&Double::runtime().build(), 3).await?;
    /// assert!(outcome.succeeded());
    /// assert_eq!(outcome.output, Some(serde_json::json!(6)));
    /// assert_eq!(
    ///     outcome.event_types(),
    ///     [
    ///         "ExecutionStarted",
    ///         "TaskStateEntered",
    ///         "TaskScheduled",
    ///         "TaskStarted",
    ///         "TaskSucceeded",
    ///         "TaskStateExited",
    ///         "ExecutionSucceeded",
    ///     ]
    /// );
    /// # Ok(())
    /// # }
    /// ```
    fn execute(
        runtime: &Runtime,
        input: Self::Input,
    ) -> impl Future<Output = Result<ExecutionOutcome, RunError>> + Send {
        let runtime = runtime.clone();
        async move { Ok(Self::start(&runtime, input, StartOptions::new())?.await) }
    }

    /// Runs one execution on `runtime` with the interpreter: [`Workflow::program`], its tasks
    /// calling the handlers registered in `runtime`. Gives the same outcome and history as
    /// [`Workflow::execute`] when `runtime` holds this workflow's handlers.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = Double::runtime().seed(1).build();
    /// let interpreted = Double::interpret(&runtime, 3).await?;
    /// let driven = Double::execute(&runtime, 3).await?;
    /// assert_eq!(interpreted.output, driven.output);
    /// assert_eq!(interpreted.event_types(), driven.event_types());
    /// # Ok(())
    /// # }
    /// ```
    fn interpret(
        runtime: &Runtime,
        input: Self::Input,
    ) -> impl Future<Output = Result<ExecutionOutcome, RunError>> + Send {
        let runtime = runtime.clone();
        async move {
            let input = input_json(input)?;
            let program = Self::program().map_err(|e| RunError::Start(e.into()))?;
            runtime.run(&program, input).await.map_err(RunError::Start)
        }
    }

    /// Runs one execution on `runtime` and returns its typed output, or the failure.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use workflow::{workflow, RunError, TaskError, Workflow};
    ///
    /// async fn halve(n: i64) -> Result<i64, TaskError> {
    ///     if n % 2 == 1 {
    ///         return Err(TaskError::new("Odd", format!("{n} is odd")));
    ///     }
    ///     Ok(n / 2)
    /// }
    ///
    /// workflow! {
    ///     pub Halve: i64 -> i64 {
    ///         start Half;
    ///         Half = task(halve) -> end;
    ///     }
    /// }
    ///
    /// let runtime = Halve::runtime().build();
    /// assert_eq!(Halve::run(&runtime, 8).await.ok(), Some(4));
    /// match Halve::run(&runtime, 7).await {
    ///     Err(RunError::Failed(outcome)) => {
    ///         assert_eq!(outcome.error.as_deref(), Some("Odd"));
    ///         assert_eq!(outcome.cause.as_deref(), Some("7 is odd"));
    ///     }
    ///     other => panic!("expected a failure, got {other:?}"),
    /// }
    /// # }
    /// ```
    fn run(
        runtime: &Runtime,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, RunError>> + Send {
        let exec = Self::execute(runtime, input);
        async move {
            let outcome = exec.await?;
            match (&outcome.status, &outcome.output) {
                (ExecutionStatus::Succeeded, Some(v)) => {
                    serde_json::from_value(v.clone()).map_err(RunError::Output)
                }
                _ => Err(RunError::Failed(Box::new(outcome))),
            }
        }
    }

    /// Everything the validator finds in the composed ASL. Always empty when every branch is
    /// declared in the same `workflow!` (the macro checked the whole machine); branches declared
    /// elsewhere are composed only here, so a state name used both in the parent and in such a
    /// branch shows up here (test it with `assert!(W::diagnostics().is_empty())`).
    ///
    /// `${Name}` placeholders are judged as the values they stand for, as the macro does
    /// ([`workflow_asl::validate::Placeholders::Accept`]). Only errors are returned: warnings
    /// (such as the placeholders left) do not make the ASL invalid.
    ///
    /// ```
    /// use workflow::{workflow, Workflow};
    ///
    /// workflow! {
    ///     pub Branch { start Work; Work = pass -> end; }
    /// }
    /// workflow! {
    ///     pub Twice {
    ///         start Both;
    ///         Both = parallel([Branch, Branch]) -> end;
    ///     }
    /// }
    ///
    /// // `Branch` was declared on its own: only composing it into `Twice` shows that its state
    /// // names are used twice (state names are unique in a whole machine).
    /// let found = Twice::diagnostics();
    /// assert!(!found.is_empty());
    /// assert_eq!(found[0].code, workflow::asl::Code::DuplicateStateName);
    /// ```
    fn diagnostics() -> Vec<Diagnostic> {
        let v = workflow_asl::emit::machine_to_value(Self::model());
        let options = workflow_asl::validate::Options {
            placeholders: workflow_asl::validate::Placeholders::Accept,
            ..Default::default()
        };
        workflow_asl::check_value_with(&v, &options)
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect()
    }

    /// Tests ONE state of this workflow as AWS's `TestState` API does: `Route::test_state("Kind",
    /// input).await` gives the status, output, error, cause, next state and the data after each
    /// step of the state's data path. Add `.mock_result(…)` / `.mock_error(…)`, `.variables(…)`,
    /// `.context(…)`, `.inspection_level(…)` or `.runtime(…)` before awaiting; see [`StateTest`].
    /// An unmocked Task calls this workflow's handler.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::runtime::test_state::TestStatus;
    ///
    /// let result = Double::test_state("Twice", 5).await?;
    /// assert_eq!(result.status, TestStatus::Succeeded);
    /// assert_eq!(result.output, Some(serde_json::json!(10)));
    /// assert_eq!(result.next_state, None); // `Twice` ends the execution
    /// # Ok(())
    /// # }
    /// ```
    fn test_state(state: &str, input: impl Serialize) -> StateTest<Self> {
        StateTest::new(state, serde_json::to_value(input))
    }

    /// The ASL, pretty-printed.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// let pretty = Double::asl_pretty();
    /// assert!(pretty.starts_with("{\n  \"StartAt\": \"Twice\",\n"));
    /// // The same document as the compact constant.
    /// let a: serde_json::Value = serde_json::from_str(&pretty).unwrap();
    /// let b: serde_json::Value = serde_json::from_str(Double::ASL).unwrap();
    /// assert_eq!(a, b);
    /// ```
    fn asl_pretty() -> String {
        workflow_asl::emit::machine_to_string_pretty(Self::model())
    }

    /// The ASL, pretty-printed, with every `${Name}` placeholder in its string values replaced
    /// by the value given for `Name` (as CloudFormation's `DefinitionSubstitutions` does).
    /// Placeholders without a value are left as written; see [`placeholders`].
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// let arn = "arn:aws:lambda:us-east-1:123456789012:function:double";
    /// let deployable = Double::asl_with(&[("double", arn)]);
    /// assert!(deployable.contains(&format!(r#""Resource": "{arn}""#)));
    /// assert!(!deployable.contains("${double}"));
    /// ```
    fn asl_with(substitutions: &[(&str, &str)]) -> String {
        let mut v = workflow_asl::emit::machine_to_value(Self::model());
        substitute(&mut v, substitutions);
        serde_json::to_string_pretty(&v).unwrap_or_default()
    }
}

/// A workflow's input as JSON: moved when it is already a `serde_json::Value`, written otherwise.
fn input_json<T: Serialize + 'static>(input: T) -> Result<serde_json::Value, RunError> {
    let mut slot = Some(input);
    if let Some(v) = (&mut slot as &mut dyn std::any::Any)
        .downcast_mut::<Option<serde_json::Value>>()
        .and_then(Option::take)
    {
        return Ok(v);
    }
    // `Some(input)` is written as `input`.
    serde_json::to_value(slot).map_err(RunError::Input)
}

/// Running declared workflows from a [`Runtime`]: `runtime.run_workflow::<OrderFlow>(order)`.
/// The runtime must hold the workflow's handlers (build it with [`Workflow::runtime`], or
/// register [`Workflow::handlers`]).
///
/// ```
/// # use workflow::{workflow, TaskError, Workflow};
/// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
/// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow::RuntimeExt;
///
/// let runtime = Double::runtime().build();
/// assert_eq!(runtime.run_workflow::<Double>(4).await?, 8);
/// let outcome = runtime.execute_workflow::<Double>(4).await?;
/// assert_eq!(outcome.output, Some(serde_json::json!(8)));
/// # Ok(())
/// # }
/// ```
pub trait RuntimeExt {
    /// [`Workflow::run`] on this runtime.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::RuntimeExt;
    ///
    /// assert_eq!(Double::runtime().build().run_workflow::<Double>(4).await?, 8);
    /// # Ok(())
    /// # }
    /// ```
    fn run_workflow<W: Workflow>(
        &self,
        input: W::Input,
    ) -> impl Future<Output = Result<W::Output, RunError>> + Send;

    /// [`Workflow::execute`] on this runtime.
    ///
    /// ```
    /// # use workflow::{workflow, TaskError, Workflow};
    /// # async fn double(n: i64) -> Result<i64, TaskError> { Ok(n * 2) }
    /// # workflow! { pub Double: i64 -> i64 { start Twice; Twice = task(double) -> end; } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use workflow::RuntimeExt;
    ///
    /// let outcome = Double::runtime().build().execute_workflow::<Double>(4).await?;
    /// assert_eq!(outcome.output, Some(serde_json::json!(8)));
    /// assert_eq!(outcome.history.len(), 7);
    /// # Ok(())
    /// # }
    /// ```
    fn execute_workflow<W: Workflow>(
        &self,
        input: W::Input,
    ) -> impl Future<Output = Result<ExecutionOutcome, RunError>> + Send;
}

impl RuntimeExt for Runtime {
    fn run_workflow<W: Workflow>(
        &self,
        input: W::Input,
    ) -> impl Future<Output = Result<W::Output, RunError>> + Send {
        W::run(self, input)
    }

    fn execute_workflow<W: Workflow>(
        &self,
        input: W::Input,
    ) -> impl Future<Output = Result<ExecutionOutcome, RunError>> + Send {
        W::execute(self, input)
    }
}

/// Why [`Workflow::run`] returned no output.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use serde_json::{json, Value};
/// use workflow::{workflow, RunError, Workflow};
///
/// workflow! {
///     pub Refuse: Value -> String {
///         start No;
///         No = fail(error = "Refused", cause = "not today");
///     }
/// }
///
/// let err = Refuse::run(&Refuse::runtime().build(), json!({})).await.unwrap_err();
/// assert!(matches!(&err, RunError::Failed(outcome) if outcome.error.as_deref() == Some("Refused")));
/// assert_eq!(err.to_string(), "the execution ended FAILED: Refused: not today");
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The input could not be written as JSON.
    Input(serde_json::Error),
    /// The execution could not start.
    Start(StartError),
    /// The execution failed, timed out or was aborted; the outcome has the error, cause and history.
    Failed(Box<ExecutionOutcome>),
    /// The output does not fit the workflow's output type.
    Output(serde_json::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Input(e) => write!(f, "the input is not JSON: {e}"),
            RunError::Start(e) => write!(f, "the execution could not start: {e}"),
            RunError::Failed(o) => write!(
                f,
                "the execution ended {}: {}: {}",
                o.status.as_str(),
                o.error.as_deref().unwrap_or("(no error)"),
                o.cause.as_deref().unwrap_or("(no cause)")
            ),
            RunError::Output(e) => write!(f, "the output does not fit the output type: {e}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Input(e) | RunError::Output(e) => Some(e),
            RunError::Start(e) => Some(e),
            RunError::Failed(_) => None,
        }
    }
}

/// The states of a workflow, as a Rust enum.
///
/// ```
/// use workflow::{workflow, WorkflowState};
///
/// workflow! {
///     pub Sign {
///         start Check;
///         Check = choice { $.n >= 0 => Positive, _ => Negative };
///         Positive = succeed;
///         Negative = succeed;
///     }
/// }
///
/// assert_eq!(SignState::ALL, [SignState::Check, SignState::Positive, SignState::Negative]);
/// assert_eq!(SignState::start(), Some(SignState::Check));
/// assert_eq!(SignState::Check.name(), "Check");
/// assert_eq!(SignState::Check.successors(), [SignState::Positive, SignState::Negative]);
/// assert_eq!(SignState::from_name("Negative"), Some(SignState::Negative));
/// ```
pub trait WorkflowState:
    Copy + Eq + std::hash::Hash + std::fmt::Debug + Send + Sync + 'static
{
    /// Every state, in declaration order.
    const ALL: &'static [Self];
    /// The ASL state name.
    ///
    /// ```
    /// # use workflow::{workflow, WorkflowState};
    /// # workflow! { pub Sign { start Check; Check = choice { $.n >= 0 => Positive, _ => Negative }; Positive = succeed; Negative = succeed; } }
    /// assert_eq!(SignState::Negative.name(), "Negative");
    /// ```
    fn name(self) -> &'static str;
    /// The first state (`StartAt`).
    ///
    /// ```
    /// # use workflow::{workflow, WorkflowState};
    /// # workflow! { pub Sign { start Check; Check = choice { $.n >= 0 => Positive, _ => Negative }; Positive = succeed; Negative = succeed; } }
    /// assert_eq!(SignState::start(), Some(SignState::Check));
    /// ```
    fn start() -> Option<Self>;
    /// The states this state may transition to: `Next`, the Choice targets and `Default`, the
    /// Catch targets, in the order written.
    ///
    /// ```
    /// # use workflow::{workflow, WorkflowState};
    /// # workflow! { pub Sign { start Check; Check = choice { $.n >= 0 => Positive, _ => Negative }; Positive = succeed; Negative = succeed; } }
    /// assert_eq!(SignState::Check.successors(), [SignState::Positive, SignState::Negative]);
    /// assert!(SignState::Positive.successors().is_empty());
    /// ```
    fn successors(self) -> &'static [Self];
    /// The state with this ASL name.
    ///
    /// ```
    /// # use workflow::{workflow, WorkflowState};
    /// # workflow! { pub Sign { start Check; Check = choice { $.n >= 0 => Positive, _ => Negative }; Positive = succeed; Negative = succeed; } }
    /// assert_eq!(SignState::from_name("Positive"), Some(SignState::Positive));
    /// assert_eq!(SignState::from_name("Nowhere"), None);
    /// ```
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.name() == name)
    }
}

/// An async task handler: `async fn(I) -> Result<O, E>` or `async fn(I, TaskContext) -> Result<O, E>`,
/// with `I: Deserialize`, `O: Serialize` and `E: Into<TaskError>`. `M` tells the two forms apart
/// and is inferred.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), workflow::TaskError> {
/// use workflow::{TaskContext, TaskError, TaskHandler};
///
/// async fn greet(name: String) -> Result<String, TaskError> {
///     Ok(format!("hello, {name}"))
/// }
///
/// async fn which_state(_: serde_json::Value, cx: TaskContext) -> Result<String, TaskError> {
///     Ok(cx.state_name().to_string())
/// }
///
/// // Both forms are handlers; `workflow!`'s `task(…)` accepts either.
/// fn handler<M, H: TaskHandler<M>>(h: H) -> H {
///     h
/// }
/// let cx = || TaskContext::detached("arn:aws:lambda:us-east-1:123456789012:function:f", "Greet");
/// assert_eq!(handler(greet).call("Ada".into(), cx()).await?, "hello, Ada");
/// assert_eq!(handler(which_state).call(serde_json::Value::Null, cx()).await?, "Greet");
/// # Ok(())
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a task handler",
    label = "expected an `async fn(I) -> Result<O, E>` with `I: Deserialize`, `O: Serialize`, `E: Into<TaskError>`",
    note = "a handler may also take the `TaskContext` as a second argument"
)]
pub trait TaskHandler<M>: Clone + Send + Sync + 'static {
    /// The input type.
    type Input: DeserializeOwned + Send + 'static;
    /// The output type.
    type Output: Serialize + Send + 'static;
    /// The error type.
    type Error: Into<TaskError> + 'static;
    /// The future the handler returns.
    type Future: Future<Output = Result<Self::Output, Self::Error>> + Send + 'static;
    /// Calls the handler.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), workflow::TaskError> {
    /// use workflow::{TaskContext, TaskError, TaskHandler};
    ///
    /// async fn len(text: String) -> Result<usize, TaskError> {
    ///     Ok(text.len())
    /// }
    /// let cx = TaskContext::detached("${len}", "Len");
    /// assert_eq!(TaskHandler::call(&len, "four".to_string(), cx).await?, 4);
    /// # Ok(())
    /// # }
    /// ```
    fn call(&self, input: Self::Input, cx: TaskContext) -> Self::Future;
}

impl<F, Fut, I, O, E> TaskHandler<(I,)> for F
where
    F: Fn(I) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    E: Into<TaskError> + 'static,
{
    type Input = I;
    type Output = O;
    type Error = E;
    type Future = Fut;
    fn call(&self, input: I, _cx: TaskContext) -> Fut {
        self(input)
    }
}

impl<F, Fut, I, O, E> TaskHandler<(I, TaskContext)> for F
where
    F: Fn(I, TaskContext) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<O, E>> + Send + 'static,
    I: DeserializeOwned + Send + 'static,
    O: Serialize + Send + 'static,
    E: Into<TaskError> + 'static,
{
    type Input = I;
    type Output = O;
    type Error = E;
    type Future = Fut;
    fn call(&self, input: I, cx: TaskContext) -> Fut {
        self(input, cx)
    }
}

/// The `${Name}` placeholders in the string values (and keys) of a definition, in order of
/// first use (see [`workflow_asl::substitute`]).
///
/// ```
/// let asl = serde_json::json!({
///     "StartAt": "A",
///     "States": {"A": {"Type": "Task", "Resource": "${Fn}", "Parameters": {"Table": "${Table}"}, "End": true}}
/// });
/// assert_eq!(workflow::placeholders(&asl), ["Fn", "Table"]);
/// ```
pub fn placeholders(asl: &serde_json::Value) -> Vec<String> {
    workflow_asl::substitute::names(asl)
}

/// Replaces `${Name}` in every string value (and key) of `v` (see [`Workflow::asl_with`]), in
/// one pass: substituted text is not searched again. Placeholders without a value are left as
/// written.
///
/// ```
/// let mut asl = serde_json::json!({"Resource": "${Fn}", "Parameters": {"Table": "${Table}"}});
/// workflow::substitute(&mut asl, &[("Fn", "arn:aws:lambda:us-east-1:123456789012:function:f")]);
/// assert_eq!(
///     asl,
///     serde_json::json!({
///         "Resource": "arn:aws:lambda:us-east-1:123456789012:function:f",
///         "Parameters": {"Table": "${Table}"}
///     })
/// );
/// ```
pub fn substitute(v: &mut serde_json::Value, substitutions: &[(&str, &str)]) {
    workflow_asl::substitute::substitute_value(v, substitutions);
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn inputs_become_json() {
        #[derive(serde::Serialize)]
        struct Order {
            id: &'static str,
        }
        let cases = [
            (super::input_json(json!({"a": [1]})).ok(), json!({"a": [1]})),
            (
                super::input_json(Order { id: "o" }).ok(),
                json!({"id": "o"}),
            ),
            (super::input_json(Some(3)).ok(), json!(3)),
            (super::input_json(()).ok(), json!(null)),
        ];
        for (got, want) in cases {
            assert_eq!(got, Some(want));
        }
    }

    #[test]
    fn substitutions() {
        let cases = [
            (json!("${A}"), json!("arn:a")),
            (json!("x-${A}-${B}-${C}"), json!("x-arn:a-${A}-${C}")),
            (json!("${unclosed"), json!("${unclosed")),
            (json!({"k": ["${A}", 1]}), json!({"k": ["arn:a", 1]})),
        ];
        for (mut v, want) in cases {
            super::substitute(&mut v, &[("A", "arn:a"), ("B", "${A}")]);
            assert_eq!(v, want);
        }
        assert_eq!(
            super::placeholders(&json!({"a": "${X}", "b": ["${Y} ${X}"]})),
            ["X", "Y"]
        );
    }
}
