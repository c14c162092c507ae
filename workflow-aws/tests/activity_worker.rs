//! The Activity worker against a loopback Step Functions endpoint (AWS JSON 1.0 on 127.0.0.1):
//! tasks answered with SendTaskSuccess/SendTaskFailure, heartbeats while a handler runs, a task
//! given up on `TaskTimedOut`, N tasks at once, graceful shutdown, and bad input.
#[path = "../../examples/sequence.rs"]
#[allow(dead_code)]
mod sequence;

mod common {
    pub mod fake_sfn;
}

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::fake_sfn::{self, Answer, ACTIVITY_ARN};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use workflow_aws::activity::{ActivityWorker, WorkerError};
use workflow_aws::{TaskError, TaskHandlers};

fn handlers() -> TaskHandlers {
    TaskHandlers::new()
        .handler("validate", sequence::validate)
        .raw("slow", |v: Value| async move {
            let ms = v["ms"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<_, TaskError>(v)
        })
}

async fn next(answers: &mut mpsc::UnboundedReceiver<Answer>) -> Answer {
    tokio::time::timeout(Duration::from_secs(30), answers.recv())
        .await
        .expect("an answer within 30 s")
        .expect("the endpoint runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_are_answered_with_success_or_failure() {
    let (url, sfn, mut answers, server) = fake_sfn::start(Duration::from_millis(100)).await;
    let worker = ActivityWorker::new(
        fake_sfn::client(&url),
        ACTIVITY_ARN,
        &handlers(),
        "validate",
    )
    .expect("a handler")
    .concurrency(2);
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    sfn.push("t-ok", r#"{"id":"o-1","quantity":3,"unit_price":2.5}"#);
    sfn.push("t-zero", r#"{"id":"o-2","quantity":0,"unit_price":2.5}"#);
    sfn.push("t-notjson", "{oops");
    let mut got = [
        next(&mut answers).await,
        next(&mut answers).await,
        next(&mut answers).await,
    ];
    got.sort_by_key(|a| format!("{a:?}"));
    assert_eq!(
        got[0],
        Answer::Failure(
            "t-notjson".into(),
            "States.TaskFailed".into(),
            "the activity task's input is not JSON: key must be a string at line 1 column 2".into()
        )
    );
    assert_eq!(
        got[1],
        Answer::Failure(
            "t-zero".into(),
            "InvalidOrder".into(),
            "the quantity is zero".into()
        )
    );
    assert_eq!(
        got[2],
        Answer::Success(
            "t-ok".into(),
            json!({"id": "o-1", "quantity": 3, "unit_price": 2.5})
        )
    );
    let _ = stop.send(());
    let stats = running.await.expect("joined").expect("a clean stop");
    assert_eq!((stats.succeeded, stats.failed, stats.abandoned), (1, 2, 0));
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_sent_while_a_handler_runs_and_a_timed_out_task_is_dropped() {
    let (url, sfn, mut answers, server) = fake_sfn::start(Duration::from_millis(100)).await;
    let worker = ActivityWorker::new(fake_sfn::client(&url), ACTIVITY_ARN, &handlers(), "slow")
        .expect("a handler")
        .heartbeat_interval(Duration::from_millis(20));
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    sfn.timed_out
        .lock()
        .expect("not poisoned")
        .insert("t-late".into());
    sfn.push("t-late", r#"{"ms": 10000}"#);
    sfn.push("t-slow", r#"{"ms": 200}"#);
    // The timed-out task is never answered; the next one is.
    assert_eq!(
        next(&mut answers).await,
        Answer::Success("t-slow".into(), json!({"ms": 200}))
    );
    assert!(
        sfn.heartbeats.load(Ordering::Relaxed) >= 3,
        "heartbeats were sent"
    );
    let _ = stop.send(());
    let stats = running.await.expect("joined").expect("a clean stop");
    assert_eq!((stats.succeeded, stats.abandoned), (1, 1));
    assert!(stats.heartbeats >= 3, "{stats:?}");
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_started_tasks_finish() {
    let (url, sfn, mut answers, server) = fake_sfn::start(Duration::from_millis(100)).await;
    let worker = ActivityWorker::new(fake_sfn::client(&url), ACTIVITY_ARN, &handlers(), "slow")
        .expect("a handler");
    let (stop, stopped) = oneshot::channel::<()>();
    let running = tokio::spawn(worker.run_until(async {
        let _ = stopped.await;
    }));
    sfn.push("t-running", r#"{"ms": 300}"#);
    // Wait until the task was handed out, then ask the worker to stop.
    for _ in 0..300 {
        if sfn.tasks_left() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(());
    let stats = running.await.expect("joined").expect("a clean stop");
    assert_eq!(stats.succeeded, 1, "the started task finished: {stats:?}");
    assert_eq!(
        next(&mut answers).await,
        Answer::Success("t-running".into(), json!({"ms": 300}))
    );
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_activities_and_handlers_are_errors() {
    let (url, _sfn, _answers, server) = fake_sfn::start(Duration::from_millis(100)).await;
    let e = ActivityWorker::new(fake_sfn::client(&url), ACTIVITY_ARN, &handlers(), "ship")
        .expect_err("no such handler");
    assert_eq!(
        e.to_string(),
        "no handler is named `ship`; the handlers are: slow, validate"
    );
    let worker = ActivityWorker::new(
        fake_sfn::client(&url),
        "arn:aws:states:us-east-1:123456789012:activity:nope",
        &handlers(),
        "validate",
    )
    .expect("a handler");
    let e = tokio::time::timeout(
        Duration::from_secs(30),
        worker.run_until(std::future::pending()),
    )
    .await
    .expect("stops by itself")
    .expect_err("no such activity");
    assert!(matches!(e, WorkerError::ActivityDoesNotExist { .. }), "{e}");
    assert!(
        e.to_string().contains("activity:nope does not exist"),
        "{e}"
    );
    server.abort();
}
