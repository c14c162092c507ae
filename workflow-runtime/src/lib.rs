//! The local Step Functions runtime for `workflow`: an in-process executor with Step Functions'
//! semantics on tokio, task handlers written in Rust, mocks in AWS Step Functions Local's
//! `MockConfigFile` format, virtual time, and an AWS-shaped, event-sourced history.
//!
//! ```
//! use serde::Deserialize;
//! use serde_json::json;
//! use workflow_runtime::{ExecutionStatus, Runtime, TaskError};
//!
//! #[derive(Deserialize)]
//! struct Person {
//!     name: String,
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let text = r#"{
//!   "StartAt": "Greet",
//!   "States": {
//!     "Greet": {
//!       "Type": "Task",
//!       "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Greet",
//!       "ResultPath": "$.greeting",
//!       "Next": "Nap"
//!     },
//!     "Nap": {"Type": "Wait", "Seconds": 3600, "End": true}
//!   }
//! }"#;
//! let machine = workflow_asl::load(text).expect("a valid definition");
//!
//! let runtime = Runtime::builder()
//!     .seed(7)
//!     .handler("arn:aws:lambda:*:*:function:Greet", |p: Person| async move {
//!         Ok::<_, TaskError>(format!("hello, {}", p.name))
//!     })
//!     .build();
//! let program = runtime.program(&machine)?;
//!
//! // On tokio's paused clock the one-hour Wait takes no real time.
//! let outcome = runtime.run(&program, json!({"name": "Ada"})).await?;
//! assert_eq!(outcome.status, ExecutionStatus::Succeeded);
//! assert_eq!(outcome.output, Some(json!({"name": "Ada", "greeting": "hello, Ada"})));
//! assert_eq!(
//!     outcome.event_types(),
//!     [
//!         "ExecutionStarted",
//!         "TaskStateEntered",
//!         "LambdaFunctionScheduled",
//!         "LambdaFunctionStarted",
//!         "LambdaFunctionSucceeded",
//!         "TaskStateExited",
//!         "WaitStateEntered",
//!         "WaitStateExited",
//!         "ExecutionSucceeded",
//!     ]
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # Architecture
//!
//! - [`Program::compile`] turns the ASL model into an indexed program once (states by index,
//!   compiled paths, templates and Choice rules); [`Runtime::program`] caches programs per
//!   definition.
//! - [`Runtime::start`] spawns one tokio task per execution. Parallel branches and Map iterations
//!   are futures joined on that task, not tasks of their own; a Map keeps at most its concurrency
//!   limit of iterations in flight (inline Maps at most 40, as AWS).
//! - Every effect is recorded before the executor acts on it ([`history::EventSink`]), and task
//!   results, timer deadlines and random numbers are derived from recorded events, so an execution
//!   can be resumed from its history ([`StartOptions::resume_from`]).
//! - Time comes from tokio's clock ([`clock`]): on a paused clock, Waits, retry backoff and task
//!   timeouts take no wall time; [`RuntimeBuilder::seed`] makes jitter, `States.UUID` and
//!   `States.MathRandom` deterministic.
//!
//! # Not supported yet
//!
//! A distributed Map (`ItemReader`) using the JSONata query language fails with `States.Runtime`
//! and a cause saying so; every other state evaluates JSONata.
//!
//! # Callbacks
//!
//! A `.waitForTaskToken` task calls its handler to deliver the token
//! ([`TaskContext::task_token`], `$$.Task.Token`), ignores the handler's output, and waits for
//! [`Execution::send_task_success`] / [`Execution::send_task_failure`] /
//! [`Execution::send_task_heartbeat`] (or [`Runtime::callbacks`]) under its `HeartbeatSeconds`
//! and `TimeoutSeconds`; see [`callbacks`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod callbacks;
mod cancel;
pub mod clock;
pub mod distributed;
pub mod driver;
mod engine;
mod fnv;
pub mod handler;
pub mod history;
pub mod json_text;
mod jtemplate;
pub mod mock;
pub mod objects;
pub mod program;
mod recorder;
mod runtime;
mod sem;
pub mod store;
/// TestState, locally: run one state as AWS's `TestState` API does ([`Runtime::test_state`]).
pub use engine::test_state;

pub use callbacks::{CallbackError, Callbacks, WaitingTask};
pub use handler::{Handlers, TaskContext, TaskError};
pub use history::{
    EventKind, EventSink, EventType, History, HistoryEvent, HistoryLevel, SinkError,
};
pub use mock::{MockConfig, MockError, MockTestCase};
pub use program::{CompileError, Program};
pub use runtime::{
    Execution, ExecutionOutcome, ExecutionStatus, Runtime, RuntimeBuilder, StartError,
    StartOptions, StopHandle, DEFAULT_PAYLOAD_LIMIT,
};
