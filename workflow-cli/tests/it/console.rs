//! `workflow console` over HTTP, and `workflow graph --format svg`: the JSON API, the pages, the
//! SVG, the actions, and bad input (unknown executions, a damaged store).

use crate::support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::{get, post, request_prefix, seed_demo, workflow, Console, TempDir};

/// Every state name in a definition, nested ones included.
fn state_names(def: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let mut work = vec![def];
    while let Some(d) = work.pop() {
        let Some(states) = d.get("States").and_then(Value::as_object) else {
            continue;
        };
        for (name, s) in states {
            names.push(name.clone());
            if let Some(bs) = s.get("Branches").and_then(Value::as_array) {
                work.extend(bs);
            }
            for key in ["ItemProcessor", "Iterator"] {
                if let Some(p) = s.get(key) {
                    work.push(p);
                }
            }
        }
    }
    names
}

fn demo_def() -> Value {
    serde_json::from_str(&fs::read_to_string(support::demo_definition()).expect("read"))
        .expect("JSON")
}

/// `data-status` of each `data-state` in an SVG.
fn statuses(svg: &str) -> Vec<(String, String)> {
    svg.split("data-state=\"")
        .skip(1)
        .map(|rest| {
            let name = rest.split('"').next().unwrap_or_default().to_string();
            let status = rest
                .split("data-status=\"")
                .nth(1)
                .and_then(|s| s.split('"').next())
                .unwrap_or_default()
                .to_string();
            (name, status)
        })
        .collect()
}

fn status_of<'a>(all: &'a [(String, String)], name: &str) -> &'a str {
    all.iter()
        .find(|(n, _)| n == name)
        .map(|(_, s)| s.as_str())
        .unwrap_or_else(|| panic!("no state {name}"))
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

/// `workflow run DEF --store DB --name NAME` in another process, once its execution has
/// started (recorded two events) as seen through the console at `addr`.
fn run_waiting(addr: &str, def: &Path, db: &Path, name: &str) -> std::process::Child {
    let run = std::process::Command::new(support::BIN)
        .args(["run", def.to_str().expect("path"), "--store"])
        .arg(db)
        .args(["--name", name])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run");
    wait_for(&format!("{name} to wait"), || {
        get(addr, &format!("/api/executions/{name}")).json()["eventCount"].as_u64() >= Some(2)
    });
    run
}

#[test]
fn graph_svg_on_the_command_line_matches_its_snapshot() {
    let def = support::demo_definition();
    let (code, svg, err) = workflow(&["graph", def.to_str().expect("path"), "--format", "svg"]);
    assert_eq!(code, 0, "{err}");
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/orders.svg");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(&snapshot, &svg).expect("write the snapshot");
    }
    let want =
        fs::read_to_string(&snapshot).expect("read the snapshot (UPDATE_SNAPSHOTS=1 writes it)");
    assert_eq!(
        svg, want,
        "the SVG changed; UPDATE_SNAPSHOTS=1 rewrites the snapshot"
    );
    let all = statuses(&svg);
    let mut names: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
    let mut want_names = state_names(&demo_def());
    names.sort();
    want_names.sort();
    assert_eq!(names, want_names, "exactly one data-state per state");
    assert!(all.iter().all(|(_, s)| s == "not-run"), "{all:?}");
}

#[test]
fn the_api_lists_describes_and_draws_executions() {
    let dir = TempDir::new("api");
    let db = dir.path("runs.db");
    seed_demo(&db);
    let console = Console::start(&db);
    let a = &console.addr;

    let list = get(a, "/api/executions");
    assert_eq!(list.status, 200);
    assert_eq!(list.header("x-total-count"), Some("2"));
    let rows = list.json();
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows[0]["name"], "order-2", "newest first");
    assert_eq!(rows[0]["status"], "FAILED");
    assert_eq!(rows[1]["status"], "SUCCEEDED");
    for r in rows {
        assert!(
            r["startDate"].is_string() && r["stopDate"].is_string(),
            "{r}"
        );
    }
    let failed = get(a, "/api/executions?status=FAILED").json();
    assert_eq!(failed.as_array().map(Vec::len), Some(1));
    let by_name = get(a, "/api/executions?name=der-1").json();
    assert_eq!(by_name[0]["name"], "order-1");
    assert_eq!(get(a, "/api/executions?status=nope").status, 400);

    let one = get(a, "/api/executions/order-2").json();
    assert_eq!(one["status"], "FAILED");
    assert_eq!(one["error"], "Order.Cancelled");
    assert_eq!(one["cause"], "the payment was declined");
    assert_eq!(one["definition"], demo_def());
    assert_eq!(one["input"]["order"]["id"], 2);
    let ok = get(a, "/api/executions/order-1").json();
    assert_eq!(ok["output"]["order"]["id"], 1);

    // The history is what `workflow history --format json` prints.
    let history = get(a, "/api/executions/order-1/history");
    assert_eq!(history.status, 200);
    let (_, cli, _) = workflow(&[
        "history",
        "--store",
        db.to_str().expect("path"),
        "order-1",
        "--format",
        "json",
    ]);
    let cli: Value = serde_json::from_str(&cli).expect("CLI JSON");
    assert_eq!(history.json(), cli);

    // The graph: one element per state, coloured by what ran.
    let svg = get(a, "/api/executions/order-2/graph.svg");
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    let all = statuses(&svg.body);
    assert_eq!(all.len(), state_names(&demo_def()).len());
    for (state, want) in [
        ("Validate", "succeeded"),
        ("In stock?", "succeeded"),
        ("Restock", "not-run"),
        ("Fulfil", "caught"),
        ("Decline", "failed"),
        ("Charged", "not-run"),
        ("Refund", "succeeded"),
        ("Cancelled", "failed"),
        ("Done", "not-run"),
    ] {
        assert_eq!(status_of(&all, state), want, "{state}");
    }
    let all = statuses(&get(a, "/api/executions/order-1/graph.svg").body);
    for (state, want) in [
        ("Restock", "succeeded"),
        ("Pack", "succeeded"),
        ("Done", "succeeded"),
    ] {
        assert_eq!(status_of(&all, state), want, "{state}");
    }

    // States: retries, durations, the branches and iterations, the path pipeline.
    let states = get(a, "/api/executions/order-1/states").json();
    let validate = &states["states"][0];
    assert_eq!(validate["name"], "Validate");
    assert_eq!(validate["retries"], 1);
    assert!(validate["durationMs"].as_i64().is_some_and(|ms| ms >= 0));
    let labels: Vec<&str> = states["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .filter_map(|s| s["label"].as_str())
        .collect();
    assert!(
        labels.iter().any(|l| l.contains("Fulfil › branch 1")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.ends_with("Pack lines › item 1")),
        "{labels:?}"
    );
    let entry = get(a, "/api/executions/order-1/states/0").json();
    let steps: Vec<&str> = entry["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["step"].as_str())
        .collect();
    assert_eq!(
        steps,
        [
            "Input",
            "InputPath",
            "Parameters",
            "Result",
            "ResultSelector",
            "ResultPath",
            "OutputPath"
        ]
    );
    assert_eq!(entry["steps"][5]["value"], entry["output"]);
    let item = states["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .find(|s| s["label"].as_str().is_some_and(|l| l.ends_with("item 0")))
        .expect("item 0")["scope"]
        .as_str()
        .expect("scope")
        .to_string();
    let picked = get(
        a,
        &format!("/api/executions/order-1/graph.svg?scope={item}"),
    );
    assert_eq!(status_of(&statuses(&picked.body), "Pack"), "succeeded");

    // Pages: the list links every execution; an execution page draws its graph inline.
    let page = get(a, "/");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("href=\"/executions/order-1\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/executions/order-2\""));
    let exec = get(a, "/executions/order-2");
    assert_eq!(exec.status, 200);
    assert!(exec
        .body
        .contains("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert!(exec
        .body
        .contains("data-state=\"Decline\" data-status=\"failed\""));
    assert!(exec.body.contains("Order.Cancelled"));

    // Live updates: the stream says `change` at once.
    let sse = request_prefix(a, "/api/stream", 4096);
    assert!(sse.contains("text/event-stream"), "{sse}");
    assert!(sse.contains("event: change"), "{sse}");
}

#[test]
fn unknown_executions_and_routes_are_404_json() {
    let dir = TempDir::new("404");
    let db = dir.path("runs.db");
    seed_demo(&db);
    let console = Console::start(&db);
    for path in [
        "/api/executions/nope",
        "/api/executions/nope/history",
        "/api/executions/nope/graph.svg",
        "/api/executions/nope/states",
        "/api/executions/order-1/states/99999",
        "/api/nothing",
    ] {
        let r = get(&console.addr, path);
        assert_eq!(r.status, 404, "{path}");
        assert!(r.json()["error"].is_string(), "{path}: {}", r.body);
    }
    let page = get(&console.addr, "/executions/nope");
    assert_eq!(page.status, 404);
    assert!(page.body.contains("does not exist"), "{}", page.body);
    let bad = post(&console.addr, "/api/executions/nope/stop", "{}");
    assert_eq!(bad.status, 404);
    let closed = post(&console.addr, "/api/executions/order-1/stop", "{}");
    assert_eq!(closed.status, 409, "{}", closed.body);
}

#[test]
fn a_damaged_store_gives_an_error_page_and_the_console_keeps_serving() {
    let dir = TempDir::new("damaged");
    let db = dir.path("runs.db");
    fs::write(
        &db,
        "this is not an SQLite database, just some text that is long enough to have a header "
            .repeat(4),
    )
    .expect("write");
    let mut console = Console::start(&db);
    let page = get(&console.addr, "/");
    assert_eq!(page.status, 503, "{}", page.body);
    assert!(page.body.contains("<html"), "an HTML page");
    assert!(
        page.body.contains("corrupted or not a workflow store"),
        "{}",
        page.body
    );
    let api = get(&console.addr, "/api/executions");
    assert_eq!(api.status, 503);
    assert_eq!(api.json()["error"], "StoreUnreadable");
    let sse = request_prefix(&console.addr, "/api/stream", 2048);
    assert!(sse.contains("event: error"), "{sse}");
    assert!(console.alive(), "no panic, still serving");
    // Repaired (replaced by a good store), it is read again.
    fs::remove_file(&db).expect("remove");
    seed_demo(&db);
    assert_eq!(get(&console.addr, "/").status, 200);
}

#[test]
fn reading_never_writes_and_the_actions_start_stop_and_resume() {
    let dir = TempDir::new("actions");
    let db = dir.path("runs.db");
    seed_demo(&db);
    let console = Console::start(&db);
    let a = &console.addr;
    let before = get(a, "/api/executions").json();
    for path in [
        "/",
        "/executions/order-1",
        "/api/executions/order-1/graph.svg",
        "/api/executions/order-1/states/3",
    ] {
        assert_eq!(get(a, path).status, 200, "{path}");
    }
    assert_eq!(
        get(a, "/api/executions").json(),
        before,
        "reading changed nothing"
    );

    // Start: a definition that waits an hour, so it stays RUNNING.
    let waits = json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let started = post(
        a,
        "/api/executions",
        &json!({"name": "napper", "definition": waits, "input": {"x": 1}}).to_string(),
    );
    assert_eq!(started.status, 201, "{}", started.body);
    wait_for("napper to wait", || {
        get(a, "/api/executions/napper").json()["eventCount"].as_u64() >= Some(2)
    });
    let running = get(a, "/api/executions?status=RUNNING").json();
    assert_eq!(running[0]["name"], "napper");
    assert!(
        running[0].get("stopDate").is_none_or(Value::is_null),
        "{running}"
    );
    let svg = get(a, "/api/executions/napper/graph.svg").body;
    assert_eq!(status_of(&statuses(&svg), "Nap"), "running");
    assert_eq!(
        post(a, "/api/executions/napper/resume", "{}").status,
        409,
        "runs here already"
    );

    // Stop.
    let stopped = post(a, "/api/executions/napper/stop", r#"{"error":"Bored"}"#);
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    let record = get(a, "/api/executions/napper").json();
    assert_eq!(record["status"], "ABORTED");
    assert_eq!(record["error"], "Bored");

    // Start again from an existing execution, with another input.
    let again = post(
        a,
        "/api/executions",
        &json!({"from": "order-1", "name": "order-3", "input": {"order": {"id": 3, "restock": 0, "charge": 1, "lines": []}}}).to_string(),
    );
    assert_eq!(again.status, 201, "{}", again.body);
    wait_for("order-3 to succeed", || {
        get(a, "/api/executions/order-3").json()["status"] == "SUCCEEDED"
    });
    assert_eq!(post(a, "/api/executions", r#"{"input": {}}"#).status, 400);
    assert_eq!(
        post(a, "/api/executions", r#"{"name": "bad name", "definition": {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}}"#).status,
        400
    );

    // Resume: an execution whose process died (killed while it waited).
    let def = dir.path("nap.json");
    fs::write(&def, waits.to_string()).expect("write");
    let mut run = run_waiting(a, &def, &db, "crashed");
    run.kill().expect("kill");
    let _ = run.wait();
    let resumed = post(a, "/api/executions/crashed/resume", "{}");
    assert_eq!(resumed.status, 202, "{}", resumed.body);
    assert_eq!(
        get(a, "/api/executions/crashed").json()["runningHere"],
        true
    );
    assert_eq!(post(a, "/api/executions/crashed/stop", "{}").status, 200);
}

#[test]
fn the_console_answers_the_callbacks_of_the_executions_it_runs() {
    let dir = TempDir::new("callbacks");
    let db = dir.path("runs.db");
    seed_demo(&db);
    let console = Console::start(&db);
    let a = &console.addr;
    // Two tasks wait for a token each, one after the other.
    let def = json!({"StartAt": "Approve", "States": {
        "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
            "ResultPath": "$.approval", "Next": "Ship"},
        "Ship": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
            "Catch": [{"ErrorEquals": ["Lost"], "ResultPath": "$.lost", "Next": "Done"}],
            "End": true},
        "Done": {"Type": "Succeed"}}});
    let started = post(
        a,
        "/api/executions",
        &json!({"name": "approval", "definition": def, "input": {"id": 7}}).to_string(),
    );
    assert_eq!(started.status, 201, "{}", started.body);
    let tasks = || get(a, "/api/executions/approval/tasks").json();
    wait_for("Approve to wait", || {
        tasks().as_array().is_some_and(|t| t.len() == 1)
    });
    let waiting = tasks();
    assert_eq!(waiting[0]["state"], "Approve", "{waiting}");
    let token = waiting[0]["taskToken"]
        .as_str()
        .expect("a token")
        .to_string();

    // Bad answers are refused as Step Functions refuses them, and change nothing.
    let unknown = post(
        a,
        "/api/executions/approval/task-success",
        r#"{"taskToken": "nope", "output": 1}"#,
    );
    assert_eq!(unknown.status, 400);
    assert_eq!(unknown.json()["error"], "TaskDoesNotExist");
    let empty = post(
        a,
        "/api/executions/approval/task-success",
        r#"{"taskToken": ""}"#,
    );
    assert_eq!(empty.json()["error"], "InvalidToken");
    assert_eq!(
        post(a, "/api/executions/nobody/task-success", "{}").status,
        404
    );
    // A finished execution run elsewhere: nothing waits.
    let done = post(a, "/api/executions/order-1/task-success", "{}");
    assert_eq!(done.status, 400, "{}", done.body);

    // Success, by token.
    let ok = post(
        a,
        "/api/executions/approval/task-success",
        &json!({"taskToken": token, "output": {"by": "ana"}}).to_string(),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
    let again = post(
        a,
        "/api/executions/approval/task-success",
        &json!({"taskToken": token, "output": 2}).to_string(),
    );
    assert_eq!(again.json()["error"], "TaskDoesNotExist", "answered once");

    // Failure, without a token (the only one waiting), caught by the state.
    wait_for("Ship to wait", || {
        tasks()
            .as_array()
            .is_some_and(|t| t.len() == 1 && t[0]["state"] == "Ship")
    });
    let failed = post(
        a,
        "/api/executions/approval/task-failure",
        r#"{"error": "Lost", "cause": "the parcel fell off"}"#,
    );
    assert_eq!(failed.status, 200, "{}", failed.body);
    wait_for("approval to succeed", || {
        get(a, "/api/executions/approval").json()["status"] == "SUCCEEDED"
    });
    let record = get(a, "/api/executions/approval").json();
    assert_eq!(
        record["output"]["approval"],
        json!({"by": "ana"}),
        "{record}"
    );
    assert_eq!(record["output"]["lost"]["Error"], "Lost", "{record}");
    assert_eq!(record["output"]["lost"]["Cause"], "the parcel fell off");
    assert_eq!(tasks(), json!([]));
}

#[test]
fn callbacks_for_an_execution_another_process_runs_are_refused_with_a_reason() {
    let dir = TempDir::new("elsewhere");
    let db = dir.path("runs.db");
    seed_demo(&db);
    let console = Console::start(&db);
    let a = &console.addr;
    let def = dir.path("nap.json");
    fs::write(
        &def,
        json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Wait", "Seconds": 3600, "End": true}}})
            .to_string(),
    )
    .expect("write");
    let mut run = run_waiting(a, &def, &db, "elsewhere");
    let refused = post(a, "/api/executions/elsewhere/task-success", "{}");
    run.kill().expect("kill");
    let _ = run.wait();
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.json()["error"], "NotRunHere");
    assert!(
        refused.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("--serve")),
        "{}",
        refused.body
    );
}
