//! `.waitForTaskToken`: the task waits for `SendTaskSuccess`/`SendTaskFailure`/`SendTaskHeartbeat`
//! on its token, or for `HeartbeatSeconds`/`TimeoutSeconds` (on tokio's paused clock, so virtual
//! time applies); used, unknown, timed-out and malformed tokens are refused with AWS's errors;
//! a waiting execution resumed from its history mints the same token, which still works.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::mpsc;
use workflow_runtime::history::{EventSink, HistoryEvent, SinkFuture};
use workflow_runtime::{
    ExecutionStatus, Runtime, RuntimeBuilder, StartOptions, TaskContext, TaskError,
};

const QUEUE: &str = "arn:aws:states:::sqs:sendMessage.waitForTaskToken";

fn definition(extra: &str) -> String {
    format!(
        r#"{{
  "StartAt": "Approve",
  "States": {{
    "Approve": {{
      "Type": "Task",
      "Resource": "{QUEUE}",
      "Parameters": {{"QueueUrl": "q", "MessageBody": {{"token.$": "$$.Task.Token", "order.$": "$.order"}}}}
      {extra},
      "ResultPath": "$.approval",
      "Catch": [{{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Rejected"}}],
      "End": true
    }},
    "Rejected": {{"Type": "Pass", "End": true}}
  }}
}}"#
    )
}

/// A runtime whose queue handler forwards each message (with its token) to the test.
fn runtime(messages: mpsc::UnboundedSender<Value>) -> RuntimeBuilder {
    Runtime::builder()
        .seed(1)
        .handler_with_context(QUEUE, move |params: Value, cx: TaskContext| {
            let messages = messages.clone();
            async move {
                assert_eq!(
                    params["MessageBody"]["token"].as_str(),
                    cx.task_token(),
                    "$$.Task.Token is the handler's token"
                );
                let _ = messages.send(params["MessageBody"].clone());
                // The output of the delivering call is not the task's result.
                Ok::<_, TaskError>(json!({"MessageId": "m-1"}))
            }
        })
}

async fn token(messages: &mut mpsc::UnboundedReceiver<Value>) -> String {
    let m = tokio::time::timeout(Duration::from_secs(3600), messages.recv())
        .await
        .expect("a message")
        .expect("the handler ran");
    m["token"].as_str().expect("a token").to_string()
}

#[tokio::test(start_paused = true)]
async fn success_failure_and_used_tokens() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = runtime(tx).build();
    let machine = workflow_asl::load(&definition("")).expect("valid");
    let program = rt.program(&machine).expect("compiles");

    let exec = rt
        .start(
            &program,
            json!({"order": 7}),
            StartOptions::new().name("ok"),
        )
        .expect("started");
    let t = token(&mut rx).await;
    assert_eq!(exec.waiting_task_tokens(), std::slice::from_ref(&t));
    exec.send_task_heartbeat(&t).expect("waiting");
    exec.send_task_success(&t, json!({"approved": true}))
        .expect("waiting");
    let again = exec.send_task_success(&t, json!(1)).expect_err("used");
    assert_eq!(again.aws_name(), "TaskDoesNotExist");
    let outcome = exec.await;
    assert_eq!(outcome.status, ExecutionStatus::Succeeded);
    assert_eq!(
        outcome.output,
        Some(json!({"order": 7, "approval": {"approved": true}}))
    );
    assert!(outcome.event_types().contains(&"TaskSucceeded"));

    // A failure is the task's error and cause: Catch sees them.
    let exec = rt
        .start(
            &program,
            json!({"order": 8}),
            StartOptions::new().name("no"),
        )
        .expect("started");
    let t = token(&mut rx).await;
    exec.send_task_failure(&t, Some("Rejected".into()), Some("too dear".into()))
        .expect("waiting");
    let outcome = exec.await;
    assert_eq!(
        outcome.output,
        Some(json!({"order": 8, "rejection": {"Error": "Rejected", "Cause": "too dear"}}))
    );

    // Unknown and malformed tokens.
    let e = rt.callbacks().send_heartbeat("nope").expect_err("unknown");
    assert_eq!(e.aws_name(), "TaskDoesNotExist");
    let e = rt.callbacks().send_heartbeat("").expect_err("empty");
    assert_eq!(e.aws_name(), "InvalidToken");
}

#[tokio::test(start_paused = true)]
async fn heartbeat_and_timeout_fire_on_virtual_time() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let rt = runtime(tx).build();
    let machine = workflow_asl::load(&definition(
        r#", "HeartbeatSeconds": 60, "TimeoutSeconds": 3600"#,
    ))
    .expect("valid");
    let program = rt.program(&machine).expect("compiles");

    // No heartbeat within 60 s: States.HeartbeatTimeout; the token then says TaskTimedOut.
    let exec = rt
        .start(
            &program,
            json!({"order": 1}),
            StartOptions::new().name("silent"),
        )
        .expect("started");
    let t = token(&mut rx).await;
    let outcome = exec.await;
    assert_eq!(outcome.status, ExecutionStatus::Failed);
    assert_eq!(outcome.error.as_deref(), Some("States.HeartbeatTimeout"));
    let e = rt
        .callbacks()
        .send_success(&t, json!(1))
        .expect_err("timed out");
    assert_eq!(e.aws_name(), "TaskTimedOut");

    // Heartbeats every 50 s keep it alive until TimeoutSeconds (3600 s of virtual time).
    let exec = rt
        .start(
            &program,
            json!({"order": 2}),
            StartOptions::new().name("beating"),
        )
        .expect("started");
    let t = token(&mut rx).await;
    let beats = {
        let cb = Arc::clone(rt.callbacks());
        let t = t.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while cb.send_heartbeat(&t).is_ok() {
                n += 1;
                tokio::time::sleep(Duration::from_secs(50)).await;
            }
            n
        })
    };
    let started = tokio::time::Instant::now();
    let outcome = exec.await;
    assert_eq!(outcome.error.as_deref(), Some("States.Timeout"));
    assert_eq!(started.elapsed().as_secs(), 3600);
    assert!(beats.await.expect("joined") >= 70);
}

#[tokio::test(start_paused = true)]
async fn a_failing_delivery_fails_the_task() {
    let rt = Runtime::builder()
        .raw_handler(QUEUE, |_v: Value, _cx: TaskContext| async {
            Err(TaskError::new("SQS.QueueDoesNotExist", "no queue q"))
        })
        .build();
    let machine = workflow_asl::load(&definition("")).expect("valid");
    let outcome = rt
        .run_machine(&machine, json!({"order": 1}))
        .await
        .expect("ran");
    assert_eq!(outcome.error.as_deref(), Some("SQS.QueueDoesNotExist"));
    assert!(rt.callbacks().waiting().is_empty());
}

/// Collects the events an execution writes ahead.
#[derive(Default)]
struct Collect(Mutex<Vec<HistoryEvent>>);

impl EventSink for Collect {
    fn append<'a>(&'a self, events: &'a [HistoryEvent]) -> SinkFuture<'a> {
        Box::pin(async move {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(events);
            Ok(())
        })
    }
}

#[test]
fn a_resumed_execution_keeps_its_token() {
    let machine = workflow_asl::load(&definition("")).expect("valid");
    let sink = Arc::new(Collect::default());
    // The first process: the task waits; then the process dies (its tokio runtime is dropped).
    let first = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio");
    let token_before = first.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let rt = runtime(tx).build();
        let program = rt.program(&machine).expect("compiles");
        let exec = rt
            .start(
                &program,
                json!({"order": 3}),
                StartOptions::new().name("durable").sink(sink.clone()),
            )
            .expect("started");
        let t = token(&mut rx).await;
        drop(exec);
        t
    });
    drop(first);
    let events = sink.0.lock().expect("not poisoned").clone();
    assert!(events.iter().any(|e| e.event_type() == "TaskStarted"));

    // The second process resumes from the history: the same token completes the task.
    let second = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio");
    second.block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let rt = runtime(tx).build();
        let program = rt.program(&machine).expect("compiles");
        let exec = rt
            .start(
                &program,
                json!({"order": 3}),
                StartOptions::new().name("durable").resume_from(events),
            )
            .expect("resumed");
        let token_after = token(&mut rx).await;
        assert_eq!(token_after, token_before);
        exec.send_task_success(&token_before, json!("yes"))
            .expect("the old token works");
        let outcome = exec.await;
        assert_eq!(outcome.output, Some(json!({"order": 3, "approval": "yes"})));
    });
}
