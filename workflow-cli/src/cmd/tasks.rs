//! `--handler STATE=COMMAND` and `--serve ADDR` for `workflow run`: real task handlers from the
//! command line, and the callbacks of `.waitForTaskToken` tasks.
//!
//! A command runs as `sh -c COMMAND` with the task's effective input (after `InputPath` and
//! `Parameters`) as JSON on its standard input, and `WORKFLOW_STATE` (and, for a
//! `.waitForTaskToken` task, `WORKFLOW_TASK_TOKEN`) in its environment. Its standard output,
//! read as JSON, is the task's result. A non-zero exit fails the task: the error is NAME from
//! the last line `Error: NAME` of its standard error, else `States.TaskFailed`; the cause is its
//! standard error. For a `.waitForTaskToken` task the command only delivers the message (its
//! output is ignored) and the task waits for a callback on `--serve`. A command still running
//! when the task's `TimeoutSeconds` (or `HeartbeatSeconds`) fires is killed.

use std::collections::{BTreeMap, HashMap};
use std::process::Stdio;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use workflow_runtime::handler::HandlerFn;
use workflow_runtime::{Handlers, TaskContext, TaskError};

/// Options of `workflow run` that choose real task handlers.
#[derive(Debug, Default, clap::Args)]
pub struct TaskArgs {
    /// Run the Task state STATE with `sh -c COMMAND`: its input as JSON on stdin, its stdout
    /// (JSON) the result, a non-zero exit a failure (`Error: NAME` on stderr names the error).
    /// Repeatable.
    #[arg(long = "handler", value_name = "STATE=COMMAND")]
    pub handler: Vec<String>,
    /// Serve the Step Functions callback API (SendTaskSuccess, SendTaskFailure,
    /// SendTaskHeartbeat; AWS JSON 1.0) on ADDR while the execution runs, for its
    /// `.waitForTaskToken` tasks.
    #[arg(long, value_name = "ADDR")]
    pub serve: Option<String>,
    /// Send the Lambda tasks that have no `--handler` (a Lambda function ARN as `Resource`, or
    /// `arn:aws:states:::lambda:invoke`) to a local Lambda Invoke API at URL (such as
    /// `cargo lambda watch`'s, `http://127.0.0.1:9000`).
    #[arg(long, value_name = "URL")]
    pub lambda_endpoint: Option<String>,
    /// Don't print the token of a `.waitForTaskToken` task that has no handler (the console
    /// lists the waiting tasks instead, and holds the standard error).
    #[arg(skip)]
    pub quiet_tokens: bool,
}

/// One Task state of a definition.
#[derive(Debug, Clone)]
struct TaskState {
    resource: String,
    wait_for_token: bool,
}

/// The Task states of a definition by name (nested scopes included), and every state's name.
fn tasks(definition: &Value) -> (BTreeMap<String, TaskState>, Vec<(String, String)>) {
    let mut tasks = BTreeMap::new();
    let mut all = Vec::new();
    let mut scopes = vec![definition];
    while let Some(scope) = scopes.pop() {
        let Some(states) = scope.get("States").and_then(Value::as_object) else {
            continue;
        };
        for (name, state) in states {
            let ty = state.get("Type").and_then(Value::as_str).unwrap_or("");
            all.push((name.clone(), ty.to_string()));
            if ty == "Task" {
                if let Some(r) = state.get("Resource").and_then(Value::as_str) {
                    tasks.insert(
                        name.clone(),
                        TaskState {
                            resource: r.to_string(),
                            wait_for_token: r.ends_with(".waitForTaskToken"),
                        },
                    );
                }
            }
            for branch in state
                .get("Branches")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                scopes.push(branch);
            }
            for key in ["ItemProcessor", "Iterator"] {
                if let Some(p) = state.get(key) {
                    scopes.push(p);
                }
            }
        }
    }
    (tasks, all)
}

/// What a state's handler does.
#[derive(Debug, Clone)]
enum Action {
    /// Run a command.
    Command(String),
    /// Print the task token (a `.waitForTaskToken` task with `--serve` and no handler).
    AnnounceToken,
    /// Invoke the function on `--lambda-endpoint`.
    Lambda(String, super::lambda_endpoint::Shape),
}

/// `base` with the handlers that `args` asks for, for `definition`. Errors: a malformed
/// `STATE=COMMAND`, a state that is not in the definition or not a Task, a state named twice.
pub fn handlers(base: Handlers, definition: &Value, args: &TaskArgs) -> Result<Handlers, String> {
    let (tasks, all) = tasks(definition);
    let mut actions: HashMap<String, Action> = HashMap::new();
    for spec in &args.handler {
        let Some((state, command)) = spec.split_once('=') else {
            return Err(format!(
                "--handler `{spec}` is not STATE=COMMAND (for example --handler 'Validate=./validate.sh')"
            ));
        };
        if !tasks.contains_key(state) {
            let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
            let why = match all.iter().find(|(n, _)| n == state) {
                Some((_, ty)) => format!("`{state}` is a {ty} state, not a Task"),
                None => match closest(state, &names) {
                    Some(near) => format!("no state is named `{state}`; did you mean `{near}`?"),
                    None => format!("no state is named `{state}`"),
                },
            };
            return Err(format!("--handler {spec}: {why}"));
        }
        if command.trim().is_empty() {
            return Err(format!("--handler {spec}: the command is empty"));
        }
        if actions
            .insert(state.to_string(), Action::Command(command.to_string()))
            .is_some()
        {
            return Err(format!("--handler names the state `{state}` twice"));
        }
    }
    if let Some(endpoint) = &args.lambda_endpoint {
        use super::lambda_endpoint::Shape;
        for (name, t) in &tasks {
            let shape =
                if t.resource.starts_with("arn:aws:lambda:") && t.resource.contains(":function:") {
                    Some(Shape::Function)
                } else if t.resource.starts_with("arn:aws:states:::lambda:invoke") {
                    Some(Shape::Integration)
                } else {
                    None
                };
            if let (Some(shape), false) = (shape, actions.contains_key(name)) {
                actions.insert(name.clone(), Action::Lambda(endpoint.clone(), shape));
            }
        }
    }
    if args.serve.is_some() {
        for (name, t) in &tasks {
            if t.wait_for_token && !actions.contains_key(name) && base.lookup(&t.resource).is_none()
            {
                actions.insert(name.clone(), Action::AnnounceToken);
            }
        }
    }
    // One dispatcher per resource: by state name, else what `base` had for it.
    let mut by_resource: BTreeMap<&str, HashMap<String, (Action, bool)>> = BTreeMap::new();
    for (state, action) in actions {
        let t = &tasks[&state];
        by_resource
            .entry(t.resource.as_str())
            .or_default()
            .insert(state, (action, t.wait_for_token));
    }
    let serving = args.serve.is_some();
    let quiet = args.quiet_tokens;
    let mut out = base.clone();
    for (resource, states) in by_resource {
        let fallback: Option<HandlerFn> = base.lookup(resource).cloned();
        let states = Arc::new(states);
        out.insert_raw(resource, move |input: Value, cx: TaskContext| {
            let states = Arc::clone(&states);
            let fallback = fallback.clone();
            async move {
                match states.get(cx.state_name()) {
                    Some((Action::Command(cmd), wait)) => {
                        if *wait && !serving {
                            return Err(TaskError::task_failed(format!(
                                "the state '{}' waits for a task token: run with --serve ADDR so that SendTaskSuccess/SendTaskFailure can answer it",
                                cx.state_name()
                            )));
                        }
                        run_command(cmd, input, &cx, *wait).await
                    }
                    Some((Action::Lambda(endpoint, shape), wait)) => {
                        if *wait && !serving {
                            return Err(TaskError::task_failed(format!(
                                "the state '{}' waits for a task token: run with --serve ADDR so that SendTaskSuccess/SendTaskFailure can answer it",
                                cx.state_name()
                            )));
                        }
                        let out = super::lambda_endpoint::invoke(endpoint, cx.resource(), *shape, input).await?;
                        Ok(if *wait { Value::Null } else { out })
                    }
                    Some((Action::AnnounceToken, _)) => {
                        if quiet {
                            return Ok(Value::Null);
                        }
                        eprintln!(
                            "workflow: the state '{}' waits for a callback on task token {}",
                            cx.state_name(),
                            cx.task_token().unwrap_or("")
                        );
                        Ok(Value::Null)
                    }
                    None => match fallback {
                        Some(f) => f(input, cx).await,
                        None => Err(TaskError::task_failed(format!(
                            "No handler is registered for the resource '{}' (state '{}'). Give one with --handler STATE=COMMAND, --handlers builtin, or mock the state.",
                            cx.resource(),
                            cx.state_name()
                        ))),
                    },
                }
            }
        });
    }
    Ok(out)
}

/// The closest name by edit distance, if close enough to be a typo.
fn closest<'a>(name: &str, names: &[&'a str]) -> Option<&'a str> {
    names
        .iter()
        .map(|n| (distance(name, n), *n))
        .filter(|(d, n)| *d <= 2.max(n.len() / 3))
        .min()
        .map(|(_, n)| n)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// Runs one command for a task (see the module's documentation).
async fn run_command(
    command: &str,
    input: Value,
    cx: &TaskContext,
    wait_for_token: bool,
) -> Result<Value, TaskError> {
    let state = cx.state_name().to_string();
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .env("WORKFLOW_STATE", &state)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A task that times out drops this future: the process must not outlive it.
        .kill_on_drop(true);
    if let Some(token) = cx.task_token() {
        cmd.env("WORKFLOW_TASK_TOKEN", token);
    }
    let mut child = cmd.spawn().map_err(|e| {
        TaskError::task_failed(format!(
            "the command of the state '{state}' could not start: {e}"
        ))
    })?;
    if let Some(mut stdin) = child.stdin.take() {
        let text = input.to_string();
        // Written concurrently: a command that does not read its input must not block us.
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
            let _ = stdin.shutdown().await;
        });
    }
    let output = child.wait_with_output().await.map_err(|e| {
        TaskError::task_failed(format!(
            "the command of the state '{state}' could not be waited for: {e}"
        ))
    })?;
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    if !output.status.success() {
        let error = stderr
            .lines()
            .rev()
            .find_map(|l| l.trim().strip_prefix("Error: "))
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(workflow_asl::error::names::TASK_FAILED)
            .to_string();
        let cause = if stderr.is_empty() {
            match output.status.code() {
                Some(code) => {
                    format!("the command of the state '{state}' exited with status {code}")
                }
                None => format!("the command of the state '{state}' was killed by a signal"),
            }
        } else {
            stderr
        };
        return Err(TaskError::new(error, cause));
    }
    if wait_for_token {
        return Ok(Value::Null);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).map_err(|e| {
        let shown: String = stdout.trim().chars().take(200).collect();
        TaskError::task_failed(format!(
            "the command of the state '{state}' printed output that is not JSON ({e}): {shown:?}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> Value {
        json!({"StartAt": "Validate", "States": {
            "Validate": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:v", "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }})
    }

    fn args(specs: &[&str]) -> TaskArgs {
        TaskArgs {
            handler: specs.iter().map(|s| s.to_string()).collect(),
            serve: None,
            lambda_endpoint: None,
            quiet_tokens: false,
        }
    }

    #[test]
    fn bad_specs_are_clear_errors() {
        let e = handlers(Handlers::new(), &def(), &args(&["Validat=true"])).expect_err("typo");
        assert_eq!(
            e,
            "--handler Validat=true: no state is named `Validat`; did you mean `Validate`?"
        );
        let e = handlers(Handlers::new(), &def(), &args(&["Done=true"])).expect_err("not a task");
        assert_eq!(
            e,
            "--handler Done=true: `Done` is a Succeed state, not a Task"
        );
        let e = handlers(Handlers::new(), &def(), &args(&["Validate"])).expect_err("no =");
        assert!(e.contains("is not STATE=COMMAND"), "{e}");
        let e = handlers(
            Handlers::new(),
            &def(),
            &args(&["Validate=a", "Validate=b"]),
        )
        .expect_err("twice");
        assert_eq!(e, "--handler names the state `Validate` twice");
    }
}
