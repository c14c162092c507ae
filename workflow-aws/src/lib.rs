//! Run the task handlers of `workflow` workflows on AWS, unchanged.
//!
//! The same `async fn(I) -> Result<O, TaskError>` that a local run calls becomes, with this crate:
//!
//! - a **Lambda function** ([`lambda`]): one `bootstrap` binary serves every handler of a
//!   workflow and picks the one to run by the `WORKFLOW_HANDLER` environment variable (set per
//!   function by `workflow export --format cfn|sam`), else by the function's name. A handler's
//!   [`TaskError`] becomes Lambda's `errorType`/`errorMessage`, which Step Functions reports as the
//!   task's error and cause, so a `Catch` on the error name works on AWS as it does locally;
//! - a **Step Functions Activity worker** (module `activity`, cargo feature `activity`): it
//!   long-polls `GetActivityTask`, runs the handler, answers with `SendTaskSuccess` or
//!   `SendTaskFailure`, heartbeats while the handler runs, runs N tasks at once and stops
//!   gracefully on SIGTERM.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use workflow_aws::TaskHandlers;
//! use workflow_runtime::TaskError;
//!
//! #[derive(Serialize, Deserialize)]
//! struct Order { id: String, quantity: u32 }
//!
//! async fn validate(order: Order) -> Result<Order, TaskError> {
//!     if order.quantity == 0 {
//!         return Err(TaskError::new("InvalidOrder", "the quantity is zero"));
//!     }
//!     Ok(order)
//! }
//!
//! let handlers = TaskHandlers::new().handler("validate", validate);
//! assert_eq!(handlers.names().collect::<Vec<_>>(), ["validate"]);
//! // In a `bootstrap`: `workflow_aws::lambda::serve(handlers).await`.
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "activity")]
pub mod activity;
mod handlers;
pub mod lambda;

pub use handlers::{HandlerFuture, TaskHandler, TaskHandlers};
pub use workflow_runtime::TaskError;
