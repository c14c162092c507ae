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
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, TaskError>> + Send>>;

/// A type-erased handler: the task's input JSON in, its result JSON (or a [`TaskError`]) out.
pub type TaskHandler = Arc<dyn Fn(Value) -> HandlerFuture + Send + Sync>;

/// Task handlers by name (`validate`, `price`, …), as a workflow's Rust code names them.
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
    pub fn new() -> TaskHandlers {
        TaskHandlers::default()
    }

    /// Adds a typed handler, an `async fn(I) -> Result<O, E>` (the signature `workflow!` tasks
    /// have). Its input is read from the task's JSON; an input that does not fit `I` fails the
    /// task with `States.TaskFailed` and a cause naming the handler and serde's reason. A
    /// handler that panics fails its task with `States.TaskFailed` too.
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
    pub fn get(&self, name: &str) -> Option<&TaskHandler> {
        self.by_name.get(name)
    }

    /// The names of the handlers, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Whether no handler is registered.
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
