//! Retry a failing task: the handler fails twice with `Flaky.Error`, then succeeds. The retrier
//! waits 2 s, then 4 s (backoff rate 2) — on virtual time, so the run takes no wall time.
//!
//! `cargo run --example retry` / `cargo run --example retry -- --export [PATH]`.
#[path = "common/mod.rs"]
mod common;

use serde_json::{json, Value};
use workflow::{workflow, TaskContext, TaskError};

async fn flaky(input: Value, cx: TaskContext) -> Result<Value, TaskError> {
    if cx.retry_count() < 2 {
        return Err(TaskError::new(
            "Flaky.Error",
            format!("attempt {} failed", cx.retry_count() + 1),
        ));
    }
    Ok(json!({ "ok": true, "attempts": cx.retry_count() + 1, "input": input }))
}

workflow! {
    /// Calls a flaky service until it answers.
    pub Retry {
        start Call;
        Call = task(flaky, resource = "${FlakyFn}")
            .retry([Flaky.Error], interval_seconds = 2, max_attempts = 3, backoff_rate = 2.0)
            .catch([States.ALL] => GaveUp)
            -> end;
        GaveUp = fail(error = "GaveUp", cause = "the service never answered");
    }
}

/// The ARNs substituted on export.
pub const SUBSTITUTIONS: &[(&str, &str)] = &[(
    "FlakyFn",
    "arn:aws:lambda:us-east-1:123456789012:function:flaky",
)];

/// The input of the local run.
pub fn input() -> Value {
    json!({ "request": 1 })
}

#[allow(dead_code)]
fn main() {
    common::main::<Retry>(SUBSTITUTIONS, input(), |b| b);
}
