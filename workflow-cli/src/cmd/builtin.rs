//! The built-in task handlers (`--handlers builtin`): small, deterministic Lambda stand-ins for
//! trying definitions out, demos and tests, with an optional log of every invocation.
//!
//! Each is registered for the Lambda function ARN of its name in any region and account
//! (`arn:aws:lambda:*:*:function:NAME`, with or without a version or alias qualifier):
//!
//! | function | does |
//! |---|---|
//! | `echo` | returns its input |
//! | `sleep` | waits `ms` milliseconds (a number field of the input object), then returns its input |
//! | `fail` | fails with the input's `error` (default `Builtin.Failed`) and `cause` |
//! | `flaky` | fails with `Builtin.Flaky` while `$$.State.RetryCount` is below the input's `failures` (default 1), then returns its input |
//! | `add` | returns the sum of the numbers in its input (an array, or an object's values) |
//!
//! With a task log (`--task-log FILE`), every invocation that returns appends one JSON line to
//! the file — `{"execution", "state", "function", "retryCount", "input", "output"}` or
//! `{…, "error", "cause"}` — so a run's side effects can be inspected (and, after a crash and
//! `workflow resume`, counted: a task whose result was recorded is never invoked again, a task
//! that was running at the crash is invoked again).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use workflow_runtime::handler::{Handlers, TaskContext, TaskError};

/// The names of the built-in functions.
pub const FUNCTIONS: [&str; 5] = ["echo", "sleep", "fail", "flaky", "add"];

/// The built-in handlers, logging to `task_log` when given.
pub fn handlers(task_log: Option<PathBuf>) -> Handlers {
    let log: Option<Arc<Path>> = task_log.map(Arc::from);
    let mut handlers = Handlers::new();
    for function in FUNCTIONS {
        let log = log.clone();
        let handler = move |input: Value, cx: TaskContext| {
            let log = log.clone();
            async move {
                let result = call(function, &input, &cx).await;
                if let Some(path) = &log {
                    record(path, function, &input, &cx, &result)?;
                }
                result
            }
        };
        for pattern in [
            format!("arn:aws:lambda:*:*:function:{function}"),
            format!("arn:aws:lambda:*:*:function:{function}:*"),
        ] {
            handlers.insert_raw(&pattern, handler.clone());
        }
    }
    handlers
}

async fn call(function: &str, input: &Value, cx: &TaskContext) -> Result<Value, TaskError> {
    match function {
        "echo" => Ok(input.clone()),
        "sleep" => {
            let ms = input.get("ms").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(input.clone())
        }
        "fail" => {
            let text = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
            Err(TaskError {
                error: text("error").unwrap_or_else(|| "Builtin.Failed".into()),
                cause: text("cause"),
            })
        }
        "flaky" => {
            let failures = input.get("failures").and_then(Value::as_u64).unwrap_or(1);
            if u64::from(cx.retry_count()) < failures {
                Err(TaskError::new(
                    "Builtin.Flaky",
                    format!(
                        "attempt {} of a task that fails {failures} times",
                        cx.retry_count() + 1
                    ),
                ))
            } else {
                Ok(input.clone())
            }
        }
        "add" => {
            let numbers: Vec<&Value> = match input {
                Value::Array(items) => items.iter().collect(),
                Value::Object(fields) => fields.values().collect(),
                other => vec![other],
            };
            let mut int_sum: i64 = 0;
            let mut float_sum = 0.0;
            let mut all_ints = true;
            for n in numbers {
                match (n.as_i64(), n.as_f64()) {
                    (Some(i), _) if all_ints => match int_sum.checked_add(i) {
                        Some(s) => int_sum = s,
                        None => {
                            all_ints = false;
                            float_sum = int_sum as f64 + i as f64;
                        }
                    },
                    (_, Some(f)) => {
                        if all_ints {
                            all_ints = false;
                            float_sum = int_sum as f64;
                        }
                        float_sum += f;
                    }
                    _ => {
                        return Err(TaskError::new(
                            "Builtin.NotANumber",
                            format!("`add` sums numbers; got {n}"),
                        ))
                    }
                }
            }
            Ok(if all_ints {
                json!(int_sum)
            } else {
                json!(float_sum)
            })
        }
        other => Err(TaskError::task_failed(format!(
            "no built-in function named `{other}`"
        ))),
    }
}

/// Appends one line describing a finished invocation to the task log.
fn record(
    path: &Path,
    function: &str,
    input: &Value,
    cx: &TaskContext,
    result: &Result<Value, TaskError>,
) -> Result<(), TaskError> {
    let mut line = json!({
        "execution": cx.context().pointer("/Execution/Name").cloned().unwrap_or(Value::Null),
        "state": cx.state_name(),
        "function": function,
        "retryCount": cx.retry_count(),
        "input": input,
    });
    match result {
        Ok(output) => line["output"] = output.clone(),
        Err(e) => {
            line["error"] = e.error.clone().into();
            line["cause"] = e.cause.clone().into();
        }
    }
    let mut text = line.to_string();
    text.push('\n');
    // One write of the whole line in append mode: concurrent invocations never interleave.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| {
            TaskError::task_failed(format!("cannot write the task log {}: {e}", path.display()))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn invoke(function: &str, input: Value) -> Result<Value, TaskError> {
        let resource = format!("arn:aws:lambda:us-east-1:123456789012:function:{function}");
        let handlers = handlers(None);
        let f = handlers.lookup(&resource).expect("registered");
        f(input, TaskContext::detached(&resource, "S")).await
    }

    #[tokio::test]
    async fn the_functions_do_what_the_table_says() {
        let cases: Vec<(&str, Value, Result<Value, &str>)> = vec![
            ("echo", json!({"a": [1]}), Ok(json!({"a": [1]}))),
            (
                "sleep",
                json!({"ms": 1, "x": 2}),
                Ok(json!({"ms": 1, "x": 2})),
            ),
            ("fail", json!({"error": "E", "cause": "c"}), Err("E")),
            ("fail", json!({}), Err("Builtin.Failed")),
            ("flaky", json!({"failures": 1}), Err("Builtin.Flaky")),
            ("flaky", json!({"failures": 0}), Ok(json!({"failures": 0}))),
            ("add", json!([1, 2, 3]), Ok(json!(6))),
            ("add", json!({"a": 1, "b": 0.5}), Ok(json!(1.5))),
            (
                "add",
                json!([i64::MAX, 1]),
                Ok(json!(i64::MAX as f64 + 1.0)),
            ),
            ("add", json!(["x"]), Err("Builtin.NotANumber")),
        ];
        for (function, input, want) in cases {
            let got = invoke(function, input.clone()).await;
            match want {
                Ok(v) => assert_eq!(got, Ok(v), "{function} {input}"),
                Err(name) => {
                    assert_eq!(
                        got.map_err(|e| e.error),
                        Err(name.to_string()),
                        "{function}"
                    )
                }
            }
        }
    }

    #[tokio::test]
    async fn qualified_arns_match_and_others_do_not() {
        let handlers = handlers(None);
        assert!(handlers
            .lookup("arn:aws:lambda:eu-west-1:000000000000:function:echo:live")
            .is_some());
        assert!(handlers
            .lookup("arn:aws:lambda:eu-west-1:000000000000:function:echoes")
            .is_none());
    }

    #[tokio::test]
    async fn the_task_log_gets_one_line_per_invocation() {
        let dir = std::env::temp_dir().join(format!("workflow-builtin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let log = dir.join("tasks.jsonl");
        let _ = std::fs::remove_file(&log);
        let handlers = handlers(Some(log.clone()));
        let resource = "arn:aws:lambda:us-east-1:123456789012:function:fail";
        let f = handlers.lookup(resource).expect("registered");
        for _ in 0..2 {
            let _ = f(
                json!({"cause": "why"}),
                TaskContext::detached(resource, "Boom"),
            )
            .await;
        }
        let text = std::fs::read_to_string(&log).expect("log");
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["state"], "Boom");
        assert_eq!(lines[0]["function"], "fail");
        assert_eq!(lines[0]["error"], "Builtin.Failed");
        assert_eq!(lines[0]["cause"], "why");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
