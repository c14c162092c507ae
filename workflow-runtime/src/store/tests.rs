//! The rules every store must keep, run against each implementation, and the SQLite store's
//! own behaviour (files, reopening, damage).

use serde_json::{json, Value};

use super::*;
use crate::history::HistoryEvent;

const DEF: &str = r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#;

pub(crate) fn new_exec(name: &str, input: Value) -> NewExecution {
    NewExecution {
        name: name.into(),
        definition: DEF.into(),
        input,
        metadata: json!({"handlers": "none"}),
    }
}

/// An event at `(scope, seq)` with the given id (its predecessor is `id - 1`).
pub(crate) fn ev(id: u64, event_type: &str, scope: &str, seq: u64) -> HistoryEvent {
    HistoryEvent {
        scope: scope.into(),
        seq,
        ..HistoryEvent::from_aws(
            id,
            id - 1,
            "2024-01-01T00:00:00.000Z".into(),
            event_type,
            Some(("passStateEnteredEventDetails".into(), json!({"name": "A"}))),
        )
    }
}

fn terminal(id: u64, event_type: &str, key: &str, details: Value) -> HistoryEvent {
    HistoryEvent {
        kind: crate::history::EventKind::from_aws(event_type, Some((key.into(), details))),
        timestamp: "2024-01-01T00:00:09.000Z".into(),
        ..ev(id, event_type, "", 1000)
    }
}

/// Events `from..=to` of a top-level sequence, with seq = id.
fn run_of(from: u64, to: u64) -> Vec<HistoryEvent> {
    (from..=to)
        .map(|i| ev(i, "PassStateEntered", "", i))
        .collect()
}

// ===== the shared suite =====

async fn start_is_idempotent(store: &dyn Store) {
    let first = store
        .start_execution(new_exec("order-1", json!({"a": 1, "b": 2})))
        .await
        .expect("a new name starts");
    assert!(first.created);
    assert_eq!(first.record.status, ExecutionStatus::Running);
    assert_eq!(first.record.event_count, 0);

    // Same input (other key order), same definition (other formatting): the existing execution.
    let mut again = new_exec("order-1", json!({"b": 2, "a": 1}));
    again.definition = format!("\n{DEF}\n");
    let second = store.start_execution(again).await.expect("idempotent");
    assert!(!second.created);
    assert_eq!(second.record, first.record);

    let cases = [
        (new_exec("order-1", json!({"a": 2})), "different input"),
        (
            NewExecution {
                definition: DEF.replace("Pass", "Succeed").replace(",\"End\":true", ""),
                ..new_exec("order-1", json!({"a": 1, "b": 2}))
            },
            "different state machine definition",
        ),
    ];
    for (new, why) in cases {
        match store.start_execution(new).await {
            Err(StoreError::AlreadyExists { name, reason }) => {
                assert_eq!(name, "order-1");
                assert!(reason.contains(why), "{reason}");
            }
            other => panic!("expected AlreadyExists ({why}), got {other:?}"),
        }
    }

    // Once closed, the name cannot be reused, even with the same input (as AWS).
    store
        .append_events(
            "order-1",
            &[terminal(
                1,
                "ExecutionSucceeded",
                "executionSucceededEventDetails",
                json!({"output": "{}"}),
            )],
        )
        .await
        .expect("append");
    let closed = store
        .start_execution(new_exec("order-1", json!({"a": 1, "b": 2})))
        .await;
    assert!(
        matches!(&closed, Err(StoreError::AlreadyExists { reason, .. }) if reason.contains("closed")),
        "{closed:?}"
    );
    assert_eq!(store.count_executions(None).await.expect("count"), 1);
}

async fn names_are_checked(store: &dyn Store) {
    let long = "x".repeat(81);
    for bad in [
        "",
        "a b",
        "a/b",
        "a:b",
        "x{",
        "q?",
        "t\u{7}",
        "\u{85}",
        long.as_str(),
    ] {
        let result = store.start_execution(new_exec(bad, json!({}))).await;
        assert!(
            matches!(result, Err(StoreError::InvalidName { .. })),
            "{bad:?}: {result:?}"
        );
    }
    for good in ["a", "order-1_2.3", "ünïcode", &"y".repeat(80)] {
        store
            .start_execution(new_exec(good, json!({})))
            .await
            .unwrap_or_else(|e| panic!("{good:?}: {e}"));
    }
}

async fn append_and_load_in_order(store: &dyn Store) {
    store
        .start_execution(new_exec("e", json!(null)))
        .await
        .expect("start");
    let mut all = Vec::new();
    for (from, to) in [(1, 1), (2, 4), (5, 5), (6, 10)] {
        let batch = run_of(from, to);
        store.append_events("e", &batch).await.expect("append");
        all.extend(batch);
    }
    store.append_events("e", &[]).await.expect("empty batch");
    // Events of several scopes with the same seq numbers are distinct positions.
    let branches = vec![
        ev(11, "ParallelStateEntered", "b0", 1),
        ev(12, "ParallelStateEntered", "b1", 1),
        ev(13, "PassStateEntered", "b1/i0", 1),
    ];
    store.append_events("e", &branches).await.expect("scopes");
    all.extend(branches);
    let mut no_details = ev(14, "ExecutionStarted", "x", 0);
    no_details.kind = crate::history::EventKind::from_aws("ExecutionStarted", None);
    store
        .append_events("e", std::slice::from_ref(&no_details))
        .await
        .expect("no details");
    all.push(no_details);

    assert_eq!(store.load_events("e").await.expect("load"), all);
    let record = store.describe_execution("e").await.expect("describe");
    assert_eq!(record.event_count, 14);
    assert_eq!(record.status, ExecutionStatus::Running);
}

async fn bad_appends_are_rejected_whole(store: &dyn Store) {
    store
        .start_execution(new_exec("e", json!({})))
        .await
        .expect("start");
    store
        .append_events("e", &run_of(1, 3))
        .await
        .expect("append");
    let mut backwards = ev(4, "PassStateEntered", "", 4);
    backwards.previous_event_id = 4;
    let cases: Vec<(&str, Vec<HistoryEvent>)> = vec![
        ("gap", run_of(5, 6)),
        ("repeated id", run_of(3, 4)),
        ("not contiguous", vec![ev(4, "T", "", 4), ev(6, "T", "", 6)]),
        ("repeated position", vec![ev(4, "T", "", 2)]),
        (
            "repeated position in batch",
            vec![ev(4, "T", "s", 1), ev(5, "T", "s", 1)],
        ),
        ("previousEventId", vec![backwards]),
        (
            "after terminal",
            vec![
                terminal(
                    4,
                    "ExecutionFailed",
                    "executionFailedEventDetails",
                    json!({}),
                ),
                ev(5, "T", "", 5),
            ],
        ),
    ];
    for (why, batch) in cases {
        let result = store.append_events("e", &batch).await;
        assert!(
            matches!(&result, Err(StoreError::Conflict { name, .. }) if name == "e"),
            "{why}: {result:?}"
        );
        assert_eq!(
            store.load_events("e").await.expect("load"),
            run_of(1, 3),
            "{why}: nothing of a rejected batch is written"
        );
        let record = store.describe_execution("e").await.expect("describe");
        assert_eq!(record.event_count, 3, "{why}");
        assert_eq!(record.status, ExecutionStatus::Running, "{why}");
    }
    // A partially new batch (first event new, second a recorded position) is rejected whole.
    let half = vec![ev(4, "T", "", 4), ev(5, "T", "", 1)];
    assert!(store.append_events("e", &half).await.is_err());
    assert_eq!(store.load_events("e").await.expect("load").len(), 3);
    // The history is still appendable after rejections.
    store
        .append_events("e", &run_of(4, 5))
        .await
        .expect("append");
}

async fn terminal_events_close(store: &dyn Store) {
    let cases = [
        (
            "ExecutionSucceeded",
            "executionSucceededEventDetails",
            json!({"output": "{\"x\":[1,2]}", "outputDetails": {"truncated": false}}),
            ExecutionStatus::Succeeded,
            Some(json!({"x": [1, 2]})),
            None,
            None,
        ),
        (
            "ExecutionFailed",
            "executionFailedEventDetails",
            json!({"error": "States.TaskFailed", "cause": "boom"}),
            ExecutionStatus::Failed,
            None,
            Some("States.TaskFailed"),
            Some("boom"),
        ),
        (
            "ExecutionTimedOut",
            "executionTimedOutEventDetails",
            json!({"error": "States.Timeout"}),
            ExecutionStatus::TimedOut,
            None,
            Some("States.Timeout"),
            None,
        ),
        (
            "ExecutionAborted",
            "executionAbortedEventDetails",
            json!({}),
            ExecutionStatus::Aborted,
            None,
            None,
            None,
        ),
    ];
    for (i, (ty, key, details, status, output, error, cause)) in cases.into_iter().enumerate() {
        let name = format!("t{i}");
        store
            .start_execution(new_exec(&name, json!({})))
            .await
            .expect("start");
        let mut batch = run_of(1, 2);
        batch.push(terminal(3, ty, key, details));
        store.append_events(&name, &batch).await.expect("append");
        let r = store.describe_execution(&name).await.expect("describe");
        assert_eq!(r.status, status, "{ty}");
        assert_eq!(r.output, output, "{ty}");
        assert_eq!(r.error.as_deref(), error, "{ty}");
        assert_eq!(r.cause.as_deref(), cause, "{ty}");
        assert_eq!(r.stop_date.as_deref(), Some("2024-01-01T00:00:09.000Z"));
        assert_eq!(r.event_count, 3);
        for late in [vec![ev(4, "T", "", 4)], vec![]] {
            let result = store.append_events(&name, &late).await;
            assert_eq!(
                result,
                Err(StoreError::Closed {
                    name: name.clone(),
                    status
                }),
                "{ty}"
            );
        }
        assert_eq!(store.load_events(&name).await.expect("load"), batch);
    }
}

async fn list_and_count(store: &dyn Store) {
    for i in 0..6 {
        let name = format!("x{i}");
        store
            .start_execution(new_exec(&name, json!(i)))
            .await
            .expect("start");
        if i % 2 == 1 {
            store
                .append_events(
                    &name,
                    &[terminal(
                        1,
                        "ExecutionSucceeded",
                        "executionSucceededEventDetails",
                        json!({"output": "1"}),
                    )],
                )
                .await
                .expect("close");
        }
    }
    let names = |list: Vec<ExecutionSummary>| list.into_iter().map(|s| s.name).collect::<Vec<_>>();
    let cases = [
        (ListFilter::all(), vec!["x0", "x1", "x2", "x3", "x4", "x5"]),
        (
            ListFilter::with_status(ExecutionStatus::Running),
            vec!["x0", "x2", "x4"],
        ),
        (
            ListFilter::with_status(ExecutionStatus::Succeeded),
            vec!["x1", "x3", "x5"],
        ),
        (ListFilter::with_status(ExecutionStatus::Failed), vec![]),
        (
            ListFilter {
                status: None,
                limit: Some(2),
            },
            vec!["x0", "x1"],
        ),
        (
            ListFilter {
                status: Some(ExecutionStatus::Succeeded),
                limit: Some(0),
            },
            vec![],
        ),
    ];
    for (filter, want) in cases {
        let got = names(store.list_executions(filter.clone()).await.expect("list"));
        assert_eq!(got, want, "{filter:?}");
    }
    let summary = &store
        .list_executions(ListFilter::all())
        .await
        .expect("list")[1];
    assert_eq!(summary.status, ExecutionStatus::Succeeded);
    assert_eq!(summary.event_count, 1);
    assert_eq!(
        summary.stop_date.as_deref(),
        Some("2024-01-01T00:00:09.000Z")
    );
    for (status, n) in [
        (None, 6),
        (Some(ExecutionStatus::Running), 3),
        (Some(ExecutionStatus::Succeeded), 3),
        (Some(ExecutionStatus::Aborted), 0),
    ] {
        assert_eq!(store.count_executions(status).await.expect("count"), n);
    }
    let page = |status, name: &str, offset, limit| PageQuery {
        status,
        name_contains: name.into(),
        offset,
        limit,
    };
    for (query, want, total) in [
        (page(None, "", 0, 4), vec!["x5", "x4", "x3", "x2"], 6),
        (page(None, "", 4, 4), vec!["x1", "x0"], 6),
        (page(None, "", 9, 4), vec![], 6),
        (
            page(Some(ExecutionStatus::Running), "", 1, 10),
            vec!["x2", "x0"],
            3,
        ),
        (page(None, "x3", 0, 10), vec!["x3"], 1),
        (page(Some(ExecutionStatus::Running), "x3", 0, 10), vec![], 0),
        (page(None, "nothing", 0, 10), vec![], 0),
    ] {
        let got = store.list_page(query.clone()).await.expect("page");
        assert_eq!(names(got.executions), want, "{query:?}");
        assert_eq!(got.total, total, "{query:?}");
    }
}

async fn unknown_names_are_not_found(store: &dyn Store) {
    let nf = Err::<(), _>(StoreError::NotFound("nope".into()));
    assert_eq!(store.describe_execution("nope").await.map(drop), nf);
    assert_eq!(store.load_events("nope").await.map(drop), nf);
    assert_eq!(store.append_events("nope", &run_of(1, 1)).await, nf);
}

async fn keeps_the_record(store: &dyn Store) {
    let new = NewExecution {
        name: "r".into(),
        definition: DEF.into(),
        input: json!({"deep": {"list": [1, "two", null, true, 2.5]}}),
        metadata: json!({"handlers": "builtin", "side": "/tmp/x"}),
    };
    store.start_execution(new.clone()).await.expect("start");
    let r = store.describe_execution("r").await.expect("describe");
    assert_eq!(r.name, new.name);
    assert_eq!(r.definition, new.definition);
    assert_eq!(r.input, new.input);
    assert_eq!(r.metadata, new.metadata);
    assert_eq!(r.stop_date, None);
    assert!(
        chrono::DateTime::parse_from_rfc3339(&r.start_date).is_ok(),
        "{}",
        r.start_date
    );
}

macro_rules! for_each_store {
    ($($case:ident),* $(,)?) => {
        mod memory_store {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(&crate::store::MemoryStore::new()).await;
                }
            )*
        }
        #[cfg(feature = "sqlite")]
        mod sqlite_store {
            use crate::store::Store;
            $(
                #[tokio::test]
                async fn $case() {
                    let dir = tempfile::tempdir().expect("a temporary directory");
                    let store = crate::store::SqliteStore::open(dir.path().join("store.db"))
                        .expect("a new store opens");
                    super::$case(&store).await;
                    // And everything is still there after closing and reopening.
                    let before = store.list_executions(super::ListFilter::all()).await;
                    drop(store);
                    let store = crate::store::SqliteStore::open(dir.path().join("store.db"))
                        .expect("the store reopens");
                    assert_eq!(store.list_executions(super::ListFilter::all()).await, before);
                }
            )*
        }
    };
}

for_each_store!(
    start_is_idempotent,
    names_are_checked,
    append_and_load_in_order,
    bad_appends_are_rejected_whole,
    terminal_events_close,
    list_and_count,
    unknown_names_are_not_found,
    keeps_the_record,
);

// ===== helpers that need no store =====

#[test]
fn status_spellings_round_trip() {
    for status in ExecutionStatus::ALL {
        assert_eq!(status.as_str().parse::<ExecutionStatus>(), Ok(status));
        assert_eq!(
            status.as_str().to_lowercase().parse::<ExecutionStatus>(),
            Ok(status)
        );
        assert_eq!(
            serde_json::to_value(status).expect("serialise"),
            json!(status.as_str())
        );
        assert_eq!(status.is_closed(), status != ExecutionStatus::Running);
        // The store's status and the executor's are one type.
        let outcome: crate::ExecutionStatus = status;
        assert_eq!(outcome.to_string(), status.as_str());
    }
    assert!("DONE".parse::<ExecutionStatus>().is_err());
}

#[test]
fn output_that_is_not_json_is_kept_as_text() {
    assert_eq!(output_value("[1]"), json!([1]));
    assert_eq!(output_value("not json"), json!("not json"));
}
