//! The Lambda adapter: serve a workflow's task handlers as a Lambda `bootstrap`.
//!
//! One binary holds every handler; each Lambda function runs the one named by the
//! `WORKFLOW_HANDLER` environment variable, else the one named like the function
//! (`AWS_LAMBDA_FUNCTION_NAME`). The event is the task's input, the response the handler's
//! output. A [`TaskError`] is reported to the Runtime API's `/invocation/{id}/error` with
//! `errorType` = its error name and `errorMessage` = its cause; Step Functions makes `errorType`
//! the task's error and that error document its cause (as the local runtime does), so
//! `Retry`/`Catch` on the error name behave on AWS as they do locally (<https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>).
//!
//! ```no_run
//! # async fn validate(v: serde_json::Value) -> Result<serde_json::Value, workflow_aws::TaskError> { Ok(v) }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let handlers = workflow_aws::TaskHandlers::new().handler("validate", validate);
//!     match workflow_aws::lambda::serve(handlers).await {
//!         Ok(()) => std::process::ExitCode::SUCCESS,
//!         Err(e) => {
//!             eprintln!("{e}");
//!             std::process::ExitCode::FAILURE
//!         }
//!     }
//! }
//! ```

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;

use crate::handlers::{call, TaskHandler, TaskHandlers};
use crate::TaskError;

/// The environment variable naming the handler a function runs.
pub const HANDLER_ENV: &str = "WORKFLOW_HANDLER";

/// The environment variables the Lambda runtime needs (Lambda sets them; `cargo lambda watch`
/// too). Checked before starting so that a missing one is an error, not a panic.
pub const RUNTIME_ENV: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// Why the bootstrap could not serve.
///
/// ```
/// use workflow_aws::lambda::{select, ServeError};
/// use workflow_aws::TaskHandlers;
///
/// // Nothing names a handler: an error listing the handlers there are.
/// let err = select(&TaskHandlers::new().raw("a", |v| async move { Ok(v) }), |_: &str| None).err().unwrap();
/// assert!(matches!(err, ServeError::NoHandler { from: None, .. }));
/// assert!(err.to_string().ends_with("the handlers are: a"));
/// ```
#[derive(Debug)]
pub enum ServeError {
    /// Neither `WORKFLOW_HANDLER` nor the function name names a handler.
    NoHandler {
        /// Where the name came from (`WORKFLOW_HANDLER` or `AWS_LAMBDA_FUNCTION_NAME`), if any.
        from: Option<&'static str>,
        /// The name looked up.
        name: Option<String>,
        /// The handlers there are.
        known: Vec<String>,
    },
    /// A variable of the Lambda environment is missing or malformed.
    Environment {
        /// The variable.
        variable: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The Lambda runtime stopped with an error.
    Runtime(lambda_runtime::Error),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::NoHandler { from, name, known } => {
                match (from, name) {
                    (Some(from), Some(name)) => write!(f, "no handler is named `{name}` ({from})")?,
                    _ => write!(
                        f,
                        "no handler is chosen: set {HANDLER_ENV} (or AWS_LAMBDA_FUNCTION_NAME) to a handler's name"
                    )?,
                }
                write!(f, "; the handlers are: {}", known.join(", "))
            }
            ServeError::Environment { variable, problem } => {
                write!(f, "the Lambda environment variable {variable} {problem}")
            }
            ServeError::Runtime(e) => write!(f, "the Lambda runtime stopped: {e}"),
        }
    }
}

impl std::error::Error for ServeError {}

/// Picks the handler to serve: the one named by `WORKFLOW_HANDLER`, else the one named like the
/// function (`AWS_LAMBDA_FUNCTION_NAME`). `env` reads a variable (`std::env::var(..).ok()` in
/// [`serve`]). Returns the handler's name and the handler.
///
/// ```
/// use workflow_aws::lambda::{select, ServeError};
/// use workflow_aws::TaskHandlers;
///
/// let handlers = TaskHandlers::new().raw("validate", |v| async move { Ok(v) }).raw("price", |v| async move { Ok(v) });
/// // `WORKFLOW_HANDLER` wins over the function's name.
/// let env = |var: &str| match var {
///     "WORKFLOW_HANDLER" => Some("price".to_string()),
///     "AWS_LAMBDA_FUNCTION_NAME" => Some("orders-validate".to_string()),
///     _ => None,
/// };
/// assert_eq!(select(&handlers, env).map(|(name, _)| name).ok().as_deref(), Some("price"));
/// let err = select(&handlers, |_: &str| Some("ship".to_string())).err().unwrap();
/// assert!(matches!(err, ServeError::NoHandler { .. }));
/// assert_eq!(err.to_string(), "no handler is named `ship` (WORKFLOW_HANDLER); the handlers are: price, validate");
/// ```
pub fn select(
    handlers: &TaskHandlers,
    env: impl Fn(&str) -> Option<String>,
) -> Result<(String, TaskHandler), ServeError> {
    let chosen = [HANDLER_ENV, "AWS_LAMBDA_FUNCTION_NAME"]
        .into_iter()
        .find_map(|var| env(var).filter(|v| !v.is_empty()).map(|v| (var, v)));
    let known = || handlers.names().map(str::to_string).collect();
    match chosen {
        Some((from, name)) => match handlers.get(&name) {
            Some(h) => Ok((name, h.clone())),
            None => Err(ServeError::NoHandler {
                from: Some(from),
                name: Some(name),
                known: known(),
            }),
        },
        None => Err(ServeError::NoHandler {
            from: None,
            name: None,
            known: known(),
        }),
    }
}

/// Lambda's error report for a task error: `errorType` = the error name, `errorMessage` = the
/// cause (empty when there is none).
///
/// ```
/// use workflow_aws::TaskError;
///
/// let d = workflow_aws::lambda::diagnostic(&TaskError::new("InvalidOrder", "the quantity is zero"));
/// assert_eq!((d.error_type.as_str(), d.error_message.as_str()), ("InvalidOrder", "the quantity is zero"));
/// ```
pub fn diagnostic(e: &TaskError) -> Diagnostic {
    Diagnostic {
        error_type: e.error.clone(),
        error_message: e.cause.clone().unwrap_or_default(),
    }
}

/// A task error on its way to the Runtime API.
#[derive(Debug)]
struct LambdaTaskError(TaskError);

impl From<LambdaTaskError> for Diagnostic {
    fn from(e: LambdaTaskError) -> Diagnostic {
        diagnostic(&e.0)
    }
}

fn check_environment(env: &impl Fn(&str) -> Option<String>) -> Result<(), ServeError> {
    for variable in RUNTIME_ENV {
        let Some(value) = env(variable) else {
            return Err(ServeError::Environment {
                variable,
                problem: "is not set (this binary is a Lambda bootstrap: run it on Lambda or under `cargo lambda watch`)".into(),
            });
        };
        if variable == "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" && value.parse::<i32>().is_err() {
            return Err(ServeError::Environment {
                variable,
                problem: format!("is `{value}`, not a number of megabytes"),
            });
        }
    }
    Ok(())
}

/// Serves the handler chosen by the environment ([`select`]) on the Lambda Runtime API named by
/// `AWS_LAMBDA_RUNTIME_API`, until the runtime stops. Each invocation's event is the task input.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use workflow_aws::lambda::{serve, ServeError, HANDLER_ENV};
/// use workflow_aws::TaskHandlers;
///
/// // Outside Lambda (no handler chosen, no Runtime API) it returns an error at once.
/// if std::env::var(HANDLER_ENV).is_err() && std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_err() {
///     let err = serve(TaskHandlers::new().raw("a", |v| async move { Ok(v) })).await.unwrap_err();
///     assert!(matches!(err, ServeError::NoHandler { .. }));
/// }
/// # }
/// ```
pub async fn serve(handlers: TaskHandlers) -> Result<(), ServeError> {
    let env = |var: &str| std::env::var(var).ok();
    let (name, handler) = select(&handlers, env)?;
    check_environment(&env)?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let handler = handler.clone();
        let name = name.clone();
        async move {
            call(&handler, &name, event.payload)
                .await
                .map_err(LambdaTaskError)
        }
    }))
    .await
    .map_err(ServeError::Runtime)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn handlers() -> TaskHandlers {
        TaskHandlers::new()
            .raw("validate", |v| async move { Ok(v) })
            .raw("price", |v| async move { Ok(v) })
    }

    #[test]
    fn the_handler_variable_wins_over_the_function_name() {
        let (name, _) = select(
            &handlers(),
            env(&[
                ("WORKFLOW_HANDLER", "price"),
                ("AWS_LAMBDA_FUNCTION_NAME", "validate"),
            ]),
        )
        .expect("found");
        assert_eq!(name, "price");
        let (name, _) = select(
            &handlers(),
            env(&[("AWS_LAMBDA_FUNCTION_NAME", "validate")]),
        )
        .expect("found");
        assert_eq!(name, "validate");
    }

    #[test]
    fn an_unknown_handler_names_the_variable_and_the_known_names() {
        let e = select(&handlers(), env(&[("WORKFLOW_HANDLER", "ship")]))
            .map(|(name, _)| name)
            .expect_err("unknown");
        assert_eq!(
            e.to_string(),
            "no handler is named `ship` (WORKFLOW_HANDLER); the handlers are: price, validate"
        );
        let e = select(&handlers(), env(&[]))
            .map(|(name, _)| name)
            .expect_err("none chosen");
        assert!(
            e.to_string()
                .starts_with("no handler is chosen: set WORKFLOW_HANDLER"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_runtime_variable_is_an_error_not_a_panic() {
        let e = check_environment(&env(&[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")]))
            .expect_err("incomplete");
        assert!(
            e.to_string()
                .contains("AWS_LAMBDA_FUNCTION_NAME is not set"),
            "{e}"
        );
        let e = check_environment(&env(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "f"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ]))
        .expect_err("bad memory");
        assert!(e.to_string().contains("is `lots`, not a number"), "{e}");
    }

    #[test]
    fn task_errors_become_error_type_and_message() {
        let d = diagnostic(&TaskError::new("InvalidOrder", "the quantity is zero"));
        assert_eq!(d.error_type, "InvalidOrder");
        assert_eq!(d.error_message, "the quantity is zero");
        assert_eq!(diagnostic(&TaskError::named("E")).error_message, "");
    }
}
