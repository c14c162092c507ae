//! A registry of task handlers by name, shared by the Lambda adapter and the Activity worker.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures::FutureExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use workflow_runtime::TaskError;

/// The future a handler returns.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_aws::HandlerFuture;
///
/// let f: HandlerFuture = Box::pin(async { Ok(serde_json::json!("done")) });
/// assert_eq!(f.await?, "done");
/// # Ok(())
/// # }
/// ```
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A type-erased handler: the task's input JSON in, its result JSON (or a [`TaskError`]) out.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_aws::{TaskHandler, TaskHandlers};
///
/// let handlers = TaskHandlers::new().raw("echo", |v| async move { Ok(v) });
/// let echo: &TaskHandler = handlers.get("echo").unwrap();
/// assert_eq!(echo(serde_json::json!([1])).await?, serde_json::json!([1]));
/// # Ok(())
/// # }
/// ```
pub type TaskHandler = Arc<dyn Fn(Value) -> HandlerFuture + Send + Sync>;

/// Task handlers by name (`validate`, `price`, …), as a workflow's Rust code names them.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use serde_json::json;
/// use workflow_aws::{TaskError, TaskHandlers};
///
/// async fn double(n: i64) -> Result<i64, TaskError> {
///     Ok(n * 2)
/// }
///
/// let handlers = TaskHandlers::new()
///     .handler("double", double)
///     .raw("echo", |v| async move { Ok(v) });
/// assert_eq!(handlers.names().collect::<Vec<_>>(), ["double", "echo"]);
/// let double = handlers.get("double").expect("registered");
/// assert_eq!(double(json!(21)).await?, json!(42));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct TaskHandlers {
    by_name: BTreeMap<String, TaskHandler>,
}

impl std::fmt::Debug for TaskHandlers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.by_name.keys()).finish()
    }
}

impl TaskHandlers {
    /// An empty registry.
    ///
    /// ```
    /// assert!(workflow_aws::TaskHandlers::new().is_empty());
    /// ```
    pub fn new() -> TaskHandlers {
        TaskHandlers::default()
    }

    /// Adds a typed handler, an `async fn(I) -> Result<O, E>` (the signature `workflow!` tasks
    /// have). Its input is read from the task's JSON; an input that does not fit `I` fails the
    /// task with `States.TaskFailed` and a cause naming the handler and serde's reason. A
    /// handler that panics fails its task with `States.TaskFailed` too.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::json;
    /// use workflow_aws::{TaskError, TaskHandlers};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Order {
    ///     quantity: u32,
    /// }
    /// let handlers = TaskHandlers::new().handler("check", |o: Order| async move {
    ///     if o.quantity == 0 {
    ///         return Err(TaskError::new("InvalidOrder", "the quantity is zero"));
    ///     }
    ///     Ok(o.quantity)
    /// });
    /// let check = handlers.get("check").unwrap();
    /// assert_eq!(check(json!({"quantity": 3})).await?, json!(3));
    /// assert_eq!(check(json!({"quantity": 0})).await.unwrap_err().error, "InvalidOrder");
    /// // An input that does not fit `Order`.
    /// assert_eq!(check(json!("three")).await.unwrap_err().error, "States.TaskFailed");
    /// # Ok(())
    /// # }
    /// ```
    pub fn handler<I, O, E, F, Fut>(self, name: &str, f: F) -> TaskHandlers
    where
        I: DeserializeOwned + Send + 'static,
        O: Serialize + 'static,
        E: Into<TaskError> + 'static,
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, E>> + Send + 'static,
    {
        let f = Arc::new(f);
        let owned = name.to_string();
        self.raw(name, move |input: Value| {
            let f = Arc::clone(&f);
            let name = owned.clone();
            async move {
                let input: I = serde_json::from_value(input).map_err(|e| {
                    TaskError::task_failed(format!(
                        "the handler `{name}` could not read its input: {e}"
                    ))
                })?;
                let output = f(input).await.map_err(Into::into)?;
                serde_json::to_value(output).map_err(|e| {
                    TaskError::task_failed(format!(
                        "the handler `{name}` produced an output that is not JSON: {e}"
                    ))
                })
            }
        })
    }

    /// Adds a handler of raw JSON values (replacing an earlier one of the same name).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use serde_json::{json, Value};
    /// use workflow_aws::TaskHandlers;
    ///
    /// let handlers = TaskHandlers::new().raw("keys", |v: Value| async move {
    ///     Ok(json!(v.as_object().map_or(0, |o| o.len())))
    /// });
    /// assert_eq!(handlers.get("keys").unwrap()(json!({"a": 1, "b": 2})).await?, json!(2));
    /// # Ok(())
    /// # }
    /// ```
    pub fn raw<F, Fut>(mut self, name: &str, f: F) -> TaskHandlers
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, TaskError>> + Send + 'static,
    {
        let handler: TaskHandler = Arc::new(move |input| Box::pin(f(input)) as HandlerFuture);
        self.by_name.insert(name.to_string(), handler);
        self
    }

    /// The handler of this name.
    ///
    /// ```
    /// let handlers = workflow_aws::TaskHandlers::new().raw("a", |v| async move { Ok(v) });
    /// assert!(handlers.get("a").is_some());
    /// assert!(handlers.get("b").is_none());
    /// ```
    pub fn get(&self, name: &str) -> Option<&TaskHandler> {
        self.by_name.get(name)
    }

    /// The names of the handlers, in order.
    ///
    /// ```
    /// let handlers = workflow_aws::TaskHandlers::new().raw("b", |v| async move { Ok(v) }).raw("a", |v| async move { Ok(v) });
    /// assert_eq!(handlers.names().collect::<Vec<_>>(), ["a", "b"]); // sorted
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Whether no handler is registered.
    ///
    /// ```
    /// use workflow_aws::TaskHandlers;
    /// assert!(TaskHandlers::new().is_empty());
    /// assert!(!TaskHandlers::new().raw("a", |v| async move { Ok(v) }).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// Runs a handler, turning a panic into a `States.TaskFailed` error (as the local runtime does).
pub(crate) async fn call(
    handler: &TaskHandler,
    name: &str,
    input: Value,
) -> Result<Value, TaskError> {
    match AssertUnwindSafe(handler(input)).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            Err(TaskError::task_failed(format!(
                "the handler `{name}` panicked: {why}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn double(n: u32) -> Result<u32, TaskError> {
        if n > 100 {
            return Err(TaskError::new("TooBig", format!("{n} is over 100")));
        }
        Ok(n * 2)
    }

    #[tokio::test]
    async fn typed_handlers_read_and_write_json() {
        let handlers = TaskHandlers::new().handler("double", double);
        let h = handlers.get("double").expect("registered");
        assert_eq!(call(h, "double", json!(21)).await, Ok(json!(42)));
        assert_eq!(
            call(h, "double", json!(101)).await,
            Err(TaskError::new("TooBig", "101 is over 100"))
        );
        let wrong = call(h, "double", json!("x"))
            .await
            .expect_err("not a number");
        assert_eq!(wrong.error, "States.TaskFailed");
        assert!(
            wrong
                .cause
                .as_deref()
                .is_some_and(|c| c.contains("`double` could not read its input")),
            "{wrong}"
        );
    }

    #[tokio::test]
    async fn a_panic_is_a_task_failure() {
        let handlers = TaskHandlers::new().raw("boom", |_| async { panic!("kaboom") });
        let h = handlers.get("boom").expect("registered");
        let e = call(h, "boom", json!({})).await.expect_err("panics");
        assert_eq!(e.error, "States.TaskFailed");
        assert_eq!(
            e.cause.as_deref(),
            Some("the handler `boom` panicked: kaboom")
        );
    }
}
