//! Behaviour of the executor, state by state and feature by feature, on tokio's paused clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use workflow_runtime::{
    EventSink, ExecutionOutcome, ExecutionStatus, HistoryEvent, HistoryLevel, MockConfig, Runtime,
    RuntimeBuilder, StartOptions, TaskContext, TaskError,
};

fn machine(def: Value) -> workflow_asl::StateMachine {
    workflow_asl::parse_str(&def.to_string())
        .expect("JSON")
        .machine
        .expect("an object")
}

fn builder() -> RuntimeBuilder {
    Runtime::builder()
        .seed(1)
        .start_time(chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("valid time"))
}

async fn run_with(rt: &Runtime, def: Value, input: Value) -> ExecutionOutcome {
    let program = rt.program(&machine(def)).expect("compiles");
    rt.run(&program, input).await.expect("starts")
}

async fn run(def: Value, input: Value) -> ExecutionOutcome {
    run_with(&builder().build(), def, input).await
}

fn one(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

/// `(definition, input, expected output or (error, cause fragment))`, one line per case.
enum Want {
    Out(Value),
    Err(&'static str, &'static str),
}

async fn table(cases: Vec<(Value, Value, Want)>) {
    for (i, (def, input, want)) in cases.into_iter().enumerate() {
        let out = run(def.clone(), input).await;
        match want {
            Want::Out(v) => assert_eq!(
                (out.status, out.output.as_ref()),
                (ExecutionStatus::Succeeded, Some(&v)),
                "case {i}: {def}\n{:?}",
                out.to_json()
            ),
            Want::Err(error, cause) => {
                assert_eq!(out.status, ExecutionStatus::Failed, "case {i}: {def}");
                assert_eq!(out.error.as_deref(), Some(error), "case {i}: {def}");
                let got = out.cause.clone().unwrap_or_default();
                assert!(
                    got.contains(cause),
                    "case {i}: cause {got:?} lacks {cause:?}"
                );
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn pass_states() {
    table(vec![
        (one(json!({"Type": "Pass", "End": true})), json!({"a": 1}), Want::Out(json!({"a": 1}))),
        (
            one(json!({"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "End": true})),
            json!({"a": 1}),
            Want::Out(json!({"a": 1, "r": {"x": 1}})),
        ),
        (
            one(json!({"Type": "Pass", "InputPath": "$.a", "Parameters": {"v.$": "$.b", "k": 2}, "End": true})),
            json!({"a": {"b": 3}}),
            Want::Out(json!({"v": 3, "k": 2})),
        ),
        (
            one(json!({"Type": "Pass", "ResultPath": null, "Result": 5, "OutputPath": "$.a", "End": true})),
            json!({"a": [1]}),
            Want::Out(json!([1])),
        ),
        (
            one(json!({"Type": "Pass", "InputPath": null, "End": true})),
            json!({"a": 1}),
            Want::Out(json!({})),
        ),
        (
            one(json!({"Type": "Pass", "Parameters": {"s.$": "States.Format('n={}', $.n)"}, "End": true})),
            json!({"n": 4}),
            Want::Out(json!({"s": "n=4"})),
        ),
        (
            one(json!({"Type": "Pass", "InputPath": "$.missing", "End": true})),
            json!({}),
            Want::Err(
                "States.Runtime",
                "An error occurred while executing the state 'S' (entered at the event id #2). Invalid path '$.missing'",
            ),
        ),
        (
            one(json!({"Type": "Pass", "Parameters": {"v.$": "$.nope"}, "End": true})),
            json!({"a": 1}),
            Want::Err("States.Runtime", "specified for the field 'v.$' could not be found"),
        ),
        (
            one(json!({"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true})),
            json!({"a": 1}),
            Want::Err("States.ResultPathMatchFailure", "Unable to apply ReferencePath $.a.b"),
        ),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn choice_succeed_fail() {
    let choice = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [
            {"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"},
            {"And": [{"Variable": "$.s", "IsPresent": true}, {"Variable": "$.s", "StringMatches": "a*"}], "Next": "A"}
        ], "Default": "Other"},
        "Big": {"Type": "Pass", "Result": "big", "End": true},
        "A": {"Type": "Succeed", "OutputPath": "$.s"},
        "Other": {"Type": "Fail", "Error": "NoMatch", "Cause": "nothing matched"}
    }});
    let no_default = json!({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "D"}]},
        "D": {"Type": "Succeed"}
    }});
    table(vec![
        (choice.clone(), json!({"n": 11}), Want::Out(json!("big"))),
        (
            choice.clone(),
            json!({"n": 1, "s": "abc"}),
            Want::Out(json!("abc")),
        ),
        (
            choice.clone(),
            json!({"n": 1}),
            Want::Err("NoMatch", "nothing matched"),
        ),
        (
            no_default,
            json!({"n": 2}),
            Want::Err("States.Runtime", "Failed to transition out of the state"),
        ),
        (
            one(json!({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"})),
            json!({"e": "E1", "c": "C1"}),
            Want::Err("E1", "C1"),
        ),
        (
            one(json!({"Type": "Fail", "ErrorPath": "States.Format('{}!', $.e)"})),
            json!({"e": "E2"}),
            Want::Err("E2!", ""),
        ),
    ])
    .await;
    let out = run(one(json!({"Type": "Fail"})), json!({})).await;
    assert_eq!((out.error, out.cause), (None, None));
}

#[tokio::test(start_paused = true)]
async fn wait_takes_virtual_time_and_records_timestamps() {
    let def = json!({"StartAt": "W1", "States": {
        "W1": {"Type": "Wait", "Seconds": 3600, "Next": "W2"},
        "W2": {"Type": "Wait", "SecondsPath": "$.s", "Next": "W3"},
        "W3": {"Type": "Wait", "TimestampPath": "$.t", "End": true}
    }});
    let real = std::time::Instant::now();
    let out = run(def, json!({"s": 60, "t": "2023-11-14T23:15:00Z"})).await;
    assert!(out.succeeded(), "{:?}", out.to_json());
    assert!(real.elapsed() < Duration::from_secs(5));
    let times: Vec<&str> = out.history.iter().map(|e| e.timestamp.as_str()).collect();
    // Start 2023-11-14T22:13:20Z; +1 h; +60 s; until 23:15:00.
    assert_eq!(times[0], "2023-11-14T22:13:20.000Z");
    assert_eq!(times[2], "2023-11-14T23:13:20.000Z");
    assert_eq!(times[4], "2023-11-14T23:14:20.000Z");
    assert_eq!(times[6], "2023-11-14T23:15:00.000Z");

    table(vec![
        (
            one(json!({"Type": "Wait", "SecondsPath": "$.s", "End": true})),
            json!({"s": -1}),
            Want::Err(
                "States.Runtime",
                "The SecondsPath parameter references a negative value: $.s == -1",
            ),
        ),
        (
            one(json!({"Type": "Wait", "TimestampPath": "$.t", "End": true})),
            json!({"t": "2016-12-05 21:29:29Z"}),
            Want::Err(
                "States.Runtime",
                "does not reference a valid ISO-8601 extended offset date-time",
            ),
        ),
    ])
    .await;
}

#[tokio::test(start_paused = true)]
async fn tasks_call_handlers_and_retry_with_backoff() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = Arc::clone(&calls);
    let rt = builder()
        .raw_handler("flaky", move |v: Value, cx: TaskContext| {
            let c = Arc::clone(&c);
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if cx.retry_count() < 2 {
                    Err(TaskError::new(
                        "Flaky.Error",
                        format!("attempt {}", cx.retry_count()),
                    ))
                } else {
                    Ok(json!({"got": v, "retries": cx.retry_count()}))
                }
            }
        })
        .build();
    let def = one(json!({"Type": "Task", "Resource": "flaky",
        "Retry": [{"ErrorEquals": ["Flaky.Error"], "IntervalSeconds": 2, "BackoffRate": 3.0}],
        "ResultPath": "$.r", "End": true}));
    let out = run_with(&rt, def, json!({"x": 1})).await;
    assert_eq!(
        out.output,
        Some(json!({"x": 1, "r": {"got": {"x": 1}, "retries": 2}}))
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    let scheduled: Vec<&str> = out
        .history
        .iter()
        .filter(|e| e.event_type() == "TaskScheduled")
        .map(|e| e.timestamp.as_str())
        .collect();
    // Backoff 2 s, then 6 s.
    assert_eq!(
        scheduled,
        [
            "2023-11-14T22:13:20.000Z",
            "2023-11-14T22:13:22.000Z",
            "2023-11-14T22:13:28.000Z"
        ]
    );
    assert_eq!(
        out.event_types(),
        [
            "ExecutionStarted",
            "TaskStateEntered",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskFailed",
            "TaskScheduled",
            "TaskStarted",
            "TaskSucceeded",
            "TaskStateExited",
            "ExecutionSucceeded"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn catch_panics_missing_handlers_and_error_matching() {
    let rt = builder()
        .raw_handler("boom", |_, _| async { panic!("kaboom") })
        .raw_handler("fail", |_, _| async {
            Err(TaskError::new("Custom", "bad"))
        })
        .build();
    let caught = |resource: &str, errors: Value| {
        json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": resource,
                  "Catch": [{"ErrorEquals": errors, "ResultPath": "$.err", "Next": "Done"}], "End": true},
            "Done": {"Type": "Pass", "End": true}
        }})
    };
    for (resource, errors, want_error) in [
        (
            "boom",
            json!(["States.TaskFailed"]),
            Some("States.TaskFailed"),
        ),
        ("fail", json!(["States.ALL"]), Some("Custom")),
        ("fail", json!(["States.TaskFailed"]), Some("Custom")),
        ("fail", json!(["Other"]), None),
        (
            "unregistered",
            json!(["States.ALL"]),
            Some("States.TaskFailed"),
        ),
    ] {
        let out = run_with(&rt, caught(resource, errors.clone()), json!({})).await;
        match want_error {
            Some(e) => {
                assert!(out.succeeded(), "{resource} {errors}: {:?}", out.to_json());
                let output = out.output.expect("output");
                assert_eq!(output["err"]["Error"], e, "{resource}");
            }
            None => assert_eq!(out.error.as_deref(), Some("Custom")),
        }
    }
    let out = run_with(&rt, caught("boom", json!(["X"])), json!({})).await;
    assert!(out.cause.expect("cause").contains("panicked: kaboom"));
}

#[tokio::test(start_paused = true)]
async fn task_timeouts_and_heartbeats() {
    let rt = builder()
        .raw_handler("slow", |v, _| async move {
            tokio::time::sleep(Duration::from_secs(100)).await;
            Ok(v)
        })
        .raw_handler("beating", |v, cx: TaskContext| async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_secs(4)).await;
                cx.heartbeat();
            }
            Ok(v)
        })
        .build();
    let task = |resource: &str, extra: Value| {
        let mut t = json!({"Type": "Task", "Resource": resource, "End": true});
        for (k, v) in extra.as_object().expect("object") {
            t[k] = v.clone();
        }
        one(t)
    };
    for (def, input, want) in [
        (
            task("slow", json!({"TimeoutSeconds": 10})),
            json!({}),
            Some("States.Timeout"),
        ),
        (
            task("slow", json!({"TimeoutSecondsPath": "$.t"})),
            json!({"t": 5}),
            Some("States.Timeout"),
        ),
        (
            task("slow", json!({"TimeoutSeconds": 200})),
            json!({}),
            None,
        ),
        (
            task("slow", json!({"HeartbeatSeconds": 10})),
            json!({}),
            Some("States.HeartbeatTimeout"),
        ),
        (
            task("beating", json!({"HeartbeatSeconds": 5})),
            json!({}),
            None,
        ),
        (
            task(
                "beating",
                json!({"HeartbeatSeconds": 5, "TimeoutSeconds": 20}),
            ),
            json!({}),
            Some("States.Timeout"),
        ),
    ] {
        let out = run_with(&rt, def.clone(), input).await;
        assert_eq!(out.error.as_deref(), want, "{def}");
        if want.is_some() {
            assert!(out.event_types().contains(&"TaskTimedOut"), "{def}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn parallel_results_in_branch_order_and_failures_cancel_siblings() {
    let rt = builder()
        .raw_handler("sleep", |v: Value, _| async move {
            let s = v["s"].as_u64().unwrap_or(0);
            tokio::time::sleep(Duration::from_secs(s)).await;
            Ok(v)
        })
        .build();
    let branch = |name: &str, s: u64| {
        json!({"StartAt": name, "States": {name: {"Type": "Task", "Resource": "sleep",
            "Parameters": {"s": s}, "OutputPath": "$.s", "End": true}}})
    };
    let def = one(json!({"Type": "Parallel", "End": true,
        "Branches": [branch("A", 30), branch("B", 10), branch("C", 20)]}));
    let out = run_with(&rt, def, json!({})).await;
    assert_eq!(out.output, Some(json!([30, 10, 20])));

    let failing = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Broke"}}});
    let def =
        one(json!({"Type": "Parallel", "End": true, "Branches": [branch("Slow", 1000), failing]}));
    let started = tokio::time::Instant::now();
    let out = run_with(&rt, def, json!({})).await;
    assert_eq!(out.error.as_deref(), Some("Broke"));
    assert!(
        started.elapsed() < Duration::from_secs(1000),
        "the slow branch was cancelled"
    );
    let types = out.event_types();
    assert!(types.contains(&"TaskStateAborted"), "{types:?}");
    assert_eq!(
        types[types.len() - 2..],
        ["ParallelStateFailed", "ExecutionFailed"]
    );
}

#[tokio::test(start_paused = true)]
async fn map_concurrency_is_bounded_and_results_keep_item_order() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (f, p) = (Arc::clone(&in_flight), Arc::clone(&peak));
    let rt = builder()
        .raw_handler("work", move |v: Value, _| {
            let (f, p) = (Arc::clone(&f), Arc::clone(&p));
            async move {
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                // Later items finish first.
                tokio::time::sleep(Duration::from_secs(100 - v.as_u64().unwrap_or(0))).await;
                f.fetch_sub(1, Ordering::SeqCst);
                Ok(json!(v.as_u64().unwrap_or(0) * 10))
            }
        })
        .build();
    let map = |mc: u64| {
        one(json!({"Type": "Map", "MaxConcurrency": mc, "End": true,
            "ItemProcessor": {"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": "work", "End": true}}}}))
    };
    let items: Vec<u64> = (0..60).collect();
    for (mc, want_peak) in [(3, 3), (0, 40), (100, 40)] {
        peak.store(0, Ordering::SeqCst);
        let out = run_with(&rt, map(mc), json!(items)).await;
        let want: Vec<u64> = items.iter().map(|i| i * 10).collect();
        assert_eq!(out.output, Some(json!(want)), "MaxConcurrency {mc}");
        assert_eq!(
            peak.load(Ordering::SeqCst),
            want_peak,
            "MaxConcurrency {mc}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn map_item_selector_context_and_tolerated_failures() {
    let def = one(json!({"Type": "Map", "ItemsPath": "$.xs", "End": true,
        "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}));
    let out = run(def, json!({"xs": ["a", "b"], "k": 1})).await;
    assert_eq!(
        out.output,
        Some(json!([{"i": 0, "v": "a", "k": 1}, {"i": 1, "v": "b", "k": 1}]))
    );

    let tolerant = |count: u64| {
        one(
            json!({"Type": "Map", "ToleratedFailureCount": count, "End": true,
            "ItemProcessor": {"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericGreaterThan": 2, "Next": "F"}], "Default": "P"},
                "F": {"Type": "Fail", "Error": "TooBig"},
                "P": {"Type": "Pass", "End": true}}}}),
        )
    };
    let out = run(tolerant(2), json!([1, 2, 3, 4])).await;
    assert!(out.succeeded(), "{:?}", out.to_json());
    let out = run(tolerant(1), json!([1, 2, 3, 4])).await;
    assert_eq!(
        out.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    let out = run(
        one(json!({"Type": "Map", "ItemsPath": "$.x", "End": true,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}})),
        json!({"x": 5}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
}

/// A Map whose item processor never awaits runs its iterations on all cores; its output and
/// history are those of running them one at a time (`MaxConcurrency: 1`), and the history's
/// JSON text is each event's rendering.
#[tokio::test(start_paused = true)]
async fn a_map_on_threads_records_the_history_of_one_at_a_time() {
    let map = |mc: u64, fail_at: i64| {
        one(
            json!({"Type": "Map", "MaxConcurrency": mc, "ItemsPath": "$.xs", "End": true,
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
            "ItemProcessor": {"StartAt": "C", "States": {
                "C": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericEquals": fail_at, "Next": "F"}], "Default": "P"},
                "F": {"Type": "Fail", "Error": "Item.Failed", "Cause": "that one"},
                "P": {"Type": "Pass", "Parameters": {"i.$": "$.i", "u.$": "States.UUID()", "r.$": "States.MathRandom(0, 1000)"}, "ResultPath": "$.p", "Next": "S"},
                "S": {"Type": "Succeed"}}}}),
        )
    };
    let input = json!({"xs": (0..500).collect::<Vec<u32>>(), "k": "x"});
    let rt = builder().build();
    let render = |out: &ExecutionOutcome| {
        let mut text = Vec::new();
        out.history.write_aws_json(&mut text).expect("written");
        String::from_utf8(text).expect("UTF-8")
    };
    // Flushing after every state runs every scope as a future on the execution's task.
    let on_the_task = |def: Value| {
        let (rt, input) = (&rt, &input);
        async move {
            let program = rt.program(&machine(def)).expect("compiles");
            rt.start(
                &program,
                input.clone(),
                StartOptions::new().flush_every_state(true),
            )
            .expect("starts")
            .await
        }
    };
    let threaded = run_with(&rt, map(0, -1), input.clone()).await;
    let one_at_a_time = run_with(&rt, map(1, -1), input.clone()).await;
    assert!(threaded.succeeded(), "{:?}", threaded.to_json());
    assert_eq!(threaded.output, one_at_a_time.output);
    assert_eq!(threaded.history.len(), 3 + 500 * 8 + 3);
    let text = render(&threaded);
    assert_eq!(text, render(&one_at_a_time));
    assert_eq!(text, render(&on_the_task(map(0, -1)).await));
    let parsed: Value = serde_json::from_str(&text).expect("JSON");
    let each: Vec<Value> = threaded
        .history
        .iter()
        .map(HistoryEvent::to_aws_json)
        .collect();
    assert_eq!(parsed, Value::Array(each));

    // A failed iteration: the iterations run again as futures, as before.
    let threaded = run_with(&rt, map(0, 321), input.clone()).await;
    assert_eq!(threaded.error.as_deref(), Some("Item.Failed"));
    let types = threaded.event_types();
    assert_eq!(
        types.iter().filter(|t| **t == "MapIterationFailed").count(),
        1
    );

    // Parallel branches that never await run on threads too, with the same history.
    let branch = |b: usize| {
        let states: serde_json::Map<String, Value> = (0..256)
            .map(|j| {
                let mut st = json!({"Type": "Pass",
                    "Parameters": {"b": b, "j": j, "u.$": "States.UUID()", "k.$": "$.k"}});
                if j < 255 {
                    st["Next"] = json!(format!("P{}", j + 1));
                } else {
                    st["End"] = json!(true);
                }
                (format!("P{j}"), st)
            })
            .collect();
        json!({"StartAt": "P0", "States": states})
    };
    let parallel = one(json!({"Type": "Parallel", "End": true,
        "Branches": (0..4).map(branch).collect::<Vec<_>>()}));
    let threaded = run_with(&rt, parallel.clone(), input.clone()).await;
    assert!(threaded.succeeded(), "{:?}", threaded.to_json());
    let reference = on_the_task(parallel).await;
    assert_eq!(threaded.output, reference.output);
    assert_eq!(render(&threaded), render(&reference));

    // Past the history's limit: the run fails where the limit falls, as before.
    let limited = builder().history_limit(1000).build();
    let out = run_with(&limited, map(0, -1), input.clone()).await;
    assert_eq!(out.error.as_deref(), Some("States.Runtime"));
    assert_eq!(out.history.len(), 1000);
}

#[tokio::test(start_paused = true)]
async fn a_large_map_keeps_memory_bounded() {
    // 1,000,000 items with no history: runs through the bounded window (40 iterations in
    // flight) without building a future per item up front.
    let rt = builder()
        .history(HistoryLevel::Off)
        .payload_limit(64 << 20)
        .build();
    let def = one(
        json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "P",
        "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}}}),
    );
    let items: Vec<u32> = (0..1_000_000).collect();
    let out = run_with(&rt, def, json!(items)).await;
    assert_eq!(
        out.output.as_ref().and_then(Value::as_array).map(Vec::len),
        Some(1_000_000)
    );
}

#[tokio::test(start_paused = true)]
async fn payload_limit_and_machine_timeout() {
    let rt = builder().payload_limit(100).build();
    let big = "x".repeat(200);
    let out = run_with(
        &rt,
        one(json!({"Type": "Pass", "Result": big, "End": true})),
        json!({}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.DataLimitExceeded"));
    assert_eq!(
        out.cause.as_deref(),
        Some("The state/task 'S' returned a result with a size exceeding the maximum number of bytes service limit.")
    );
    let program = rt
        .program(&machine(one(json!({"Type": "Pass", "End": true}))))
        .expect("compiles");
    assert!(rt
        .start(&program, json!({"x": "y".repeat(200)}), StartOptions::new())
        .is_err());

    let def = json!({"TimeoutSeconds": 5, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 10, "End": true}}});
    let out = run(def, json!({})).await;
    assert_eq!(out.status, ExecutionStatus::TimedOut);
    assert_eq!(out.error.as_deref(), Some("States.Timeout"));
    assert_eq!(out.event_types().last(), Some(&"ExecutionTimedOut"));
}

#[tokio::test(start_paused = true)]
async fn stop_aborts_in_flight_work() {
    let rt = builder().build();
    let program = rt
        .program(&machine(one(
            json!({"Type": "Wait", "Seconds": 60, "End": true}),
        )))
        .expect("compiles");
    let exec = rt
        .start(&program, json!({}), StartOptions::new())
        .expect("starts");
    tokio::time::sleep(Duration::from_secs(1)).await;
    exec.stop();
    let out = exec.await;
    assert_eq!(out.status, ExecutionStatus::Aborted);
    assert_eq!(
        out.event_types(),
        ["ExecutionStarted", "WaitStateEntered", "ExecutionAborted"]
    );
}

#[tokio::test(start_paused = true)]
async fn mocks_replace_handlers() {
    let config: MockConfig = r#"{
        "StateMachines": {"M": {"TestCases": {"T": {"Charge": "Flaky"}}}},
        "MockedResponses": {"Flaky": {
            "0": {"Throw": {"Error": "Busy", "Cause": "try later"}},
            "1": {"Return": {"charged": true}}}}}"#
        .parse()
        .expect("valid mock file");
    let rt = builder()
        .mocks(config.test_case("M", "T").expect("test case"))
        .raw_handler("*", |_, _| async { Err(TaskError::named("NotMocked")) })
        .build();
    let def = one(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Retry": [{"ErrorEquals": ["Busy"]}], "End": true}),
    );
    let out = run_with(
        &rt,
        json!({"StartAt": "Charge", "States": {"Charge": def["States"]["S"]}}),
        json!({}),
    )
    .await;
    assert_eq!(out.output, Some(json!({"charged": true})));
}

/// Step Functions Local numbers a state's mocked responses by its invocations in the whole
/// execution, not by its retry count: a polling loop that comes back to the state moves on to
/// `"1"`, `"2"`, … (issue 9, measured on Step Functions Local; AWS's MockConfigFile description
/// <https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html>).
#[tokio::test(start_paused = true)]
async fn mocked_responses_count_every_invocation_of_a_state() {
    let config: MockConfig = r#"{
        "StateMachines": {"M": {"TestCases": {"T": {"Poll": "Job", "Each": "Items"}}}},
        "MockedResponses": {
          "Job": {
            "0-1": {"Return": {"status": "RUNNING"}},
            "2": {"Throw": {"Error": "Busy", "Cause": "retry me"}},
            "3": {"Return": {"status": "DONE"}}},
          "Items": {"0": {"Return": "a"}, "1-2": {"Return": "b"}}}}"#
        .parse()
        .expect("valid mock file");
    let rt = builder()
        .mocks(config.test_case("M", "T").expect("test case"))
        .build();
    // Poll until DONE: invocations 0 and 1 (two visits), 2 (first try of the third visit, retried)
    // and 3 (its retry).
    let def = json!({"StartAt": "Poll", "States": {
        "Poll": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1}], "Next": "Done?"},
        "Done?": {"Type": "Choice", "Choices": [
            {"Variable": "$.status", "StringEquals": "DONE", "Next": "Done"}], "Default": "Later"},
        "Later": {"Type": "Wait", "Seconds": 5, "Next": "Poll"},
        "Done": {"Type": "Succeed"}
    }});
    let program = rt.program(&machine(def)).expect("compiles");
    let out = rt.run(&program, json!({})).await.expect("starts");
    assert_eq!(
        out.output,
        Some(json!({"status": "DONE"})),
        "{:?}",
        out.to_json()
    );
    let count = |ty: &str| out.event_types().iter().filter(|t| **t == ty).count();
    assert_eq!(count("TaskStateEntered"), 3, "{:?}", out.event_types());
    assert_eq!(count("TaskFailed"), 1, "{:?}", out.event_types());
    assert_eq!(count("TaskSucceeded"), 3, "{:?}", out.event_types());

    // Each Map iteration is one more invocation of `Each`.
    let def = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Map", "MaxConcurrency": 1,
                "ItemProcessor": {"StartAt": "Each", "States": {
                    "Each": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
                "End": true}
    }});
    let program = rt.program(&machine(def)).expect("compiles");
    let out = rt.run(&program, json!([1, 2, 3])).await.expect("starts");
    assert_eq!(out.output, Some(json!(["a", "b", "b"])));
    // A fourth invocation has no response: the task fails and says which invocation.
    let out = rt.run(&program, json!([1, 2, 3, 4])).await.expect("starts");
    assert_eq!(out.error.as_deref(), Some("States.TaskFailed"));
    assert!(
        out.cause
            .as_deref()
            .unwrap_or_default()
            .contains("no entry for invocation 3"),
        "{:?}",
        out.cause
    );
}

#[tokio::test(start_paused = true)]
async fn seeded_runs_are_deterministic() {
    let def = json!({"StartAt": "R", "States": {
        "R": {"Type": "Pass", "Parameters": {"u.$": "States.UUID()", "r.$": "States.MathRandom(0, 1000)"}, "Next": "T"},
        "T": {"Type": "Task", "Resource": "flaky", "ResultPath": null,
              "Retry": [{"ErrorEquals": ["States.ALL"], "JitterStrategy": "FULL", "IntervalSeconds": 100}], "End": true}
    }});
    let outcome = || async {
        let rt = builder()
            .raw_handler("flaky", |_, cx: TaskContext| async move {
                if cx.retry_count() == 0 {
                    Err(TaskError::named("E"))
                } else {
                    Ok(Value::Null)
                }
            })
            .build();
        run_with(&rt, def.clone(), json!({})).await
    };
    let (a, b) = (outcome().await, outcome().await);
    assert_eq!(a.output, b.output);
    assert_eq!(a.history, b.history);
}

struct Collect(Mutex<Vec<HistoryEvent>>);

impl EventSink for Collect {
    fn append<'a>(
        &'a self,
        events: &'a [HistoryEvent],
    ) -> workflow_runtime::history::SinkFuture<'a> {
        Box::pin(async move {
            self.0.lock().expect("lock").extend_from_slice(events);
            Ok(())
        })
    }
}

#[tokio::test(start_paused = true)]
async fn sinks_get_events_before_effects_and_replay_skips_recorded_tasks() {
    let calls = Arc::new(AtomicUsize::new(0));
    let sink = Arc::new(Collect(Mutex::new(Vec::new())));
    let (c, s) = (Arc::clone(&calls), Arc::clone(&sink));
    let rt = builder()
        .raw_handler("count", move |v: Value, _| {
            let (c, s) = (Arc::clone(&c), Arc::clone(&s));
            async move {
                // Write-ahead: the task's TaskScheduled/TaskStarted are stored before it runs.
                let stored =
                    s.0.lock()
                        .expect("lock")
                        .last()
                        .map(|e| e.event_type().to_string());
                assert_eq!(stored.as_deref(), Some("TaskStarted"));
                c.fetch_add(1, Ordering::SeqCst);
                Ok(json!(v.as_u64().unwrap_or(0) + 1))
            }
        })
        .build();
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Task", "Resource": "count", "Next": "B"},
        "B": {"Type": "Task", "Resource": "count", "End": true}
    }});
    let program = rt.program(&machine(def)).expect("compiles");
    let sink_dyn: Arc<dyn EventSink> = sink.clone();
    let out = rt
        .start(
            &program,
            json!(1),
            StartOptions::new().name("e1").sink(sink_dyn),
        )
        .expect("starts")
        .await;
    assert_eq!(out.output, Some(json!(3)));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let stored = sink.0.lock().expect("lock").clone();
    assert_eq!(stored, out.history);

    // Resume from the history up to A's result: A is not called again, B is.
    let cut = stored
        .iter()
        .position(|e| e.event_type() == "TaskStateExited")
        .expect("A exited");
    let prior: Vec<HistoryEvent> = stored[..=cut].to_vec();
    let rt2 = builder()
        .raw_handler("count", |v: Value, _| async move {
            Ok(json!(v.as_u64().unwrap_or(0) + 1))
        })
        .build();
    let resumed = rt2
        .start(
            &program,
            json!(1),
            StartOptions::new().name("e1").resume_from(prior.clone()),
        )
        .expect("starts")
        .await;
    assert_eq!(resumed.output, Some(json!(3)));
    assert_eq!(resumed.history[..prior.len()], prior[..]);
    assert_eq!(resumed.event_types(), out.event_types());
    let ids: Vec<u64> = resumed.history.iter().map(|e| e.id).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>());
}

/// JSONata states (AWS, "Transforming data with JSONata in Step Functions"): `$states.input`,
/// variables shared between states, `Assign` evaluated against the variables from before the
/// state, Choice `Condition`, Map `Items`/`ItemSelector` with `$states.context.Map.Item`, and
/// `$states.result` in a Map's `Output`.
#[tokio::test(start_paused = true)]
async fn jsonata_states_evaluate() {
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"x": "{% $states.input.n %}"},
              "Output": {"n": "{% $states.input.n + 1 %}", "lit": [1, "{% 'two' %}"]}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $x > 5 %}", "Next": "Big"}], "Default": "M"},
        "Big": {"Type": "Fail", "Error": "Big", "Cause": "{% 'x was ' & $string($x) %}"},
        "M": {"Type": "Map", "Items": "{% [1, 2, 3] %}",
              "ItemSelector": {"v": "{% $states.context.Map.Item.Value * $x %}"},
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
              "Output": "{% $sum($states.result.v) %}", "End": true}}});
    let out = run(def.clone(), json!({"n": 2})).await;
    assert_eq!(out.error, None, "{:?}", out.cause);
    assert_eq!(out.output, Some(json!(12)));
    let out = run(def, json!({"n": 9})).await;
    assert_eq!(out.error.as_deref(), Some("Big"));
    assert_eq!(out.cause.as_deref(), Some("x was 9"));
}

/// A JSONata expression that returns nothing fails the state with `States.QueryEvaluationError`,
/// naming the field and the expression (wording recorded against AWS in the conformance corpus,
/// `test_undefined_reference_BASE_UNDEFINED_OUTPUT_FIELD`); a Catch on it fires.
#[tokio::test(start_paused = true)]
async fn jsonata_evaluation_errors() {
    let def = one(json!({"QueryLanguage": "JSONata", "Type": "Pass",
        "Output": {"r": "{% $states.input.missing %}"}, "End": true}));
    let out = run(def, json!({})).await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    assert_eq!(
        out.cause.as_deref(),
        Some("An error occurred while executing the state 'S' (entered at the event id #2). The JSONata expression '$states.input.missing' specified for the field 'Output/r' returned nothing (undefined).")
    );
    let def = one(json!({"QueryLanguage": "JSONata", "Type": "Pass",
        "Output": "{% 'a' + 1 %}", "End": true}));
    let out = run(def, json!({})).await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(
        out.cause
            .as_deref()
            .is_some_and(|c| c.contains("threw an error during evaluation. T2001")),
        "{:?}",
        out.cause
    );
    // Caught by a Map's Catch, with `$states.errorOutput` in the catcher's Output.
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "Items": "{% 'not an array' %}",
              "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
              "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"],
                         "Output": {"e": "{% $states.errorOutput.Error %}"}, "Next": "D"}], "End": true},
        "D": {"Type": "Succeed"}}});
    let out = run(def, json!({})).await;
    assert_eq!(
        out.output,
        Some(json!({"e": "States.QueryEvaluationError"}))
    );
}

/// JSONata Task and Parallel states: `Arguments` is the task's (or every branch's) input,
/// `TimeoutSeconds` may be an expression, and `Output` sees `$states.result` (AWS, "Transforming
/// data with JSONata in Step Functions").
#[tokio::test(start_paused = true)]
async fn jsonata_task_and_parallel() {
    let rt =
        builder()
            .handler(
                "arn:aws:lambda:*:*:function:Double",
                |v: Value| async move {
                    Ok::<_, TaskError>(json!({"d": v["n"].as_i64().unwrap_or(0) * 2}))
                },
            )
            .build();
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:Double",
              "Arguments": {"n": "{% $states.input.x %}"}, "TimeoutSeconds": "{% 10 %}",
              "Assign": {"got": "{% $states.result.d %}"}, "Output": "{% $states.result.d + 1 %}", "Next": "P"},
        "P": {"Type": "Parallel", "Arguments": {"v": "{% $states.input %}"},
              "Branches": [
                  {"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": "{% $states.input.v * 10 %}", "End": true}}},
                  {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% $got %}", "End": true}}}],
              "Output": "{% $states.result %}", "End": true}}});
    let out = run_with(&rt, def, json!({"x": 4})).await;
    assert_eq!(out.error, None, "{:?}", out.cause);
    assert_eq!(out.output, Some(json!([90, 8])));
}

#[tokio::test(start_paused = true)]
async fn typed_handlers_and_lambda_events() {
    #[derive(serde::Deserialize)]
    struct Order {
        qty: u32,
        price: u32,
    }
    let rt = builder()
        .handler(
            "arn:aws:lambda:*:*:function:Total*",
            |o: Order| async move { Ok::<_, TaskError>(o.qty * o.price) },
        )
        .build();
    let def = one(
        json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:1:function:TotalV2",
        "ResultSelector": {"total.$": "$"}, "End": true}),
    );
    let out = run_with(&rt, def.clone(), json!({"qty": 3, "price": 5})).await;
    assert_eq!(out.output, Some(json!({"total": 15})));
    let scheduled = out
        .history
        .iter()
        .find(|e| e.event_type() == "LambdaFunctionScheduled")
        .expect("scheduled")
        .to_aws_json();
    assert_eq!(
        scheduled["lambdaFunctionScheduledEventDetails"]["input"],
        r#"{"qty":3,"price":5}"#
    );
    let out = run_with(&rt, def, json!({"qty": "x"})).await;
    assert_eq!(out.error.as_deref(), Some("States.TaskFailed"));
}
