//! Issue 12 through the command line: honest exit statuses, one owner per execution, `stop`
//! reaching a live run, refusal of unusable stores, `check`, and a full disk.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_workflow");

fn workflow(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the workflow binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn write(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("write");
    path.display().to_string()
}

/// A definition whose one task sleeps `ms` milliseconds (built-in `sleep`).
fn sleeper(dir: &Path, ms: u64, timeout: Option<u64>) -> String {
    let mut def = json!({"StartAt": "Nap", "States": {"Nap": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:123456789012:function:sleep",
        "Parameters": {"ms": ms}, "End": true}}});
    if let Some(t) = timeout {
        def["TimeoutSeconds"] = json!(t);
    }
    write(
        dir,
        &format!("sleep-{ms}-{timeout:?}.json"),
        &def.to_string(),
    )
}

#[test]
fn exit_statuses_say_how_the_execution_ended() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.db").display().to_string();
    let pass = write(
        dir.path(),
        "pass.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let fail = write(
        dir.path(),
        "fail.json",
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "E"}}}"#,
    );
    let slow = sleeper(dir.path(), 5000, Some(1));
    for (args, want) in [
        (vec!["run", &pass], 0),
        (vec!["run", &fail], 1),
        (vec!["run", &pass, "--input", "{oops"], 2),
        (vec!["run", &slow, "--handlers", "builtin"], 3),
        (vec!["run", &pass, "--store", &store, "--name", "a"], 0),
        (vec!["run", &fail, "--store", &store, "--name", "b"], 1),
        (
            vec![
                "run",
                &slow,
                "--store",
                &store,
                "--name",
                "c",
                "--handlers",
                "builtin",
            ],
            3,
        ),
        // A finished name cannot be started again.
        (vec!["run", &pass, "--store", &store, "--name", "a"], 2),
    ] {
        let out = workflow(&args);
        assert_eq!(code(&out), want, "{args:?}: {}", text(&out.stderr));
    }
}

/// Issue 12: `run --name x` while another process ran x ran its tasks twice; `workflow stop`
/// made the live run finish its task and print FAILED.
#[test]
fn one_owner_and_stop_reaches_the_live_run_within_a_second() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.db").display().to_string();
    let slow = sleeper(dir.path(), 60_000, None);
    let owner = Command::new(BIN)
        .args([
            "run",
            &slow,
            "--store",
            &store,
            "--name",
            "x",
            "--handlers",
            "builtin",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the task runs (its start is recorded).
    let started = Instant::now();
    loop {
        let history = workflow(&["history", "--store", &store, "x"]);
        if text(&history.stdout).contains("LambdaFunctionStarted") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the task never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for args in [
        vec!["resume", "--store", &store, "x"],
        vec![
            "run",
            &slow,
            "--store",
            &store,
            "--name",
            "x",
            "--handlers",
            "builtin",
        ],
    ] {
        let out = workflow(&args);
        assert_eq!(code(&out), 6, "{args:?}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("is owned by process"),
            "{}",
            text(&out.stderr)
        );
    }
    let stop = workflow(&["stop", "--store", &store, "x"]);
    assert_eq!(code(&stop), 0, "{}", text(&stop.stderr));
    let stopped = Instant::now();
    let out = owner.wait_with_output().expect("the owner ends");
    assert!(
        stopped.elapsed() < Duration::from_secs(2),
        "the live run noticed the stop after {:?}",
        stopped.elapsed()
    );
    assert_eq!(code(&out), 4, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("ABORTED"),
        "{}",
        text(&out.stdout)
    );
    // The in-flight task was cancelled, not finished: no result is recorded after the stop.
    let history = text(&workflow(&["history", "--store", &store, "x"]).stdout);
    assert!(!history.contains("LambdaFunctionSucceeded"), "{history}");
    assert!(history
        .trim_end()
        .lines()
        .last()
        .is_some_and(|l| l.contains("ExecutionAborted")));
}

/// Issue 12: a FIFO as `--store` hung forever.
#[test]
fn unusable_stores_are_refused_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("fifo.db");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let fifo = fifo.display().to_string();
    let pass = write(
        dir.path(),
        "pass.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    for args in [
        vec!["run", &pass, "--store", &fifo],
        vec!["list", "--store", &fifo],
        vec!["resume", "--store", &fifo],
        vec!["check", "--store", &fifo],
    ] {
        let out = workflow(&args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(
            text(&out.stderr).contains("is a FIFO"),
            "{}",
            text(&out.stderr)
        );
    }
}

/// Issue 12: integers beyond 64 bits and `1e-400` were silently rounded.
#[test]
fn numbers_that_would_change_are_refused_at_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pass = write(
        dir.path(),
        "pass.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    for input in [
        r#"{"n": 123456789012345678901234567890}"#,
        "[1e-400]",
        "1e400",
    ] {
        let out = workflow(&["run", &pass, "--input", input]);
        assert_eq!(code(&out), 2, "{input}");
        assert!(
            text(&out.stderr).contains("the number"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = workflow(&[
        "run",
        &pass,
        "--input",
        "[18446744073709551615, 1e-300]",
        "--format",
        "json",
    ]);
    assert_eq!(code(&out), 0);
    let doc: Value = serde_json::from_str(text(&out.stdout).trim()).expect("JSON");
    assert_eq!(doc["output"][0], json!(18446744073709551615u64));
}

/// `check` finds damage that reads would otherwise show; `history` refuses to show it.
#[test]
fn check_and_history_refuse_damaged_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("s.db");
    let shown = store.display().to_string();
    let pass = write(
        dir.path(),
        "pass.json",
        r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Next": "Q"}, "Q": {"Type": "Pass", "End": true}}}"#,
    );
    let out = workflow(&[
        "run",
        &pass,
        "--store",
        &shown,
        "--name",
        "a",
        "--input",
        r#"{"k": "secret"}"#,
    ]);
    assert_eq!(code(&out), 0);
    let out = workflow(&["check", "--store", &shown]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok: 1 executions, 6 events verified"));
    let history = workflow(&["history", "--store", &shown, "a", "--format", "json"]);
    let whole: Value = serde_json::from_str(&text(&history.stdout)).expect("one JSON document");
    assert_eq!(whole["events"].as_array().map(Vec::len), Some(6));
    // The paged writer prints exactly what pretty-printing the document prints.
    assert_eq!(
        text(&history.stdout),
        format!(
            "{}\n",
            serde_json::to_string_pretty(&whole).expect("pretty")
        )
    );
    // Alter one stored byte of one event, as a damaged disk would.
    assert!(flip_secret(&store), "the damage was applied");
    let out = workflow(&["check", "--store", &shown]);
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("does not match its checksum"),
        "{}",
        text(&out.stderr)
    );
    let history = workflow(&["history", "--store", &shown, "a"]);
    assert_ne!(code(&history), 0);
    assert!(
        !text(&history.stdout).contains("secreT"),
        "damaged data is never shown"
    );
    assert!(
        text(&history.stderr).contains("checksum"),
        "{}",
        text(&history.stderr)
    );
}

/// Changes `secret` to `secreT` in the store's bytes (database file and write-ahead log), as a
/// damaged disk would, bypassing every check of the store.
fn flip_secret(store: &Path) -> bool {
    let mut changed = false;
    let mut candidates: Vec<PathBuf> = vec![store.to_path_buf()];
    let mut wal = store.as_os_str().to_owned();
    wal.push("-wal");
    candidates.push(PathBuf::from(wal));
    for path in candidates {
        let Ok(mut bytes) = std::fs::read(&path) else {
            continue;
        };
        let needle = b"secret";
        let mut i = 0;
        while i + needle.len() <= bytes.len() {
            if &bytes[i..i + needle.len()] == needle {
                bytes[i + 5] = b'T';
                changed = true;
            }
            i += 1;
        }
        if changed {
            std::fs::write(&path, &bytes).expect("write");
        }
    }
    changed
}

/// A full disk: the run stops with exit status 5, the execution stays RUNNING and says how to
/// resume it, and once there is room `resume` finishes it with every task result once. Needs
/// root (to mount a small tmpfs); skipped elsewhere.
#[test]
fn a_full_disk_leaves_a_resumable_execution() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).expect("mkdir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=400k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status();
    if !mounted.is_ok_and(|s| s.success()) {
        eprintln!("skipped: cannot mount a tmpfs here (not root, or no mount permission)");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mnt.clone());
    let store = mnt.join("s.db").display().to_string();
    let log = dir.path().join("tasks.jsonl").display().to_string();
    let def = write(
        dir.path(),
        "map.json",
        &json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "ItemsPath": "$.items",
            "MaxConcurrency": 1,
            "ItemProcessor": {"StartAt": "Echo", "States": {"Echo": {"Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:123456789012:function:echo", "End": true}}},
            "End": true}}})
        .to_string(),
    );
    let items: Vec<Value> = (0..400)
        .map(|i| json!({"i": i, "pad": "p".repeat(300)}))
        .collect();
    let input = write(
        dir.path(),
        "input.json",
        &json!({"items": items}).to_string(),
    );
    let out = workflow(&[
        "run",
        &def,
        "--input",
        &format!("@{input}"),
        "--store",
        &store,
        "--name",
        "big",
        "--handlers",
        "builtin",
        "--task-log",
        &log,
        "--history-limit",
        "0",
    ]);
    assert_eq!(code(&out), 5, "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("still RUNNING") && err.contains("workflow resume"),
        "{err}"
    );
    // Room again.
    let grown = Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(&mnt)
        .status()
        .expect("remount");
    assert!(grown.success());
    let out = workflow(&["resume", "--store", &store, "big"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let line: Value = serde_json::from_str(text(&out.stdout).trim()).expect("a result line");
    assert_eq!(line["status"], "SUCCEEDED");
    assert_eq!(line["output"].as_array().map(Vec::len), Some(400));
    // Every item's task ran, none of them twice after its result was recorded: at most one
    // invocation (the one in flight when the disk filled) ran again.
    let runs = std::fs::read_to_string(&log).expect("task log");
    let count = runs.lines().count();
    assert!(
        (400..=401).contains(&count),
        "{count} task runs for 400 items"
    );
    let out = workflow(&["check", "--store", &store]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}

/// `loop.json` in `dir`: a Choice and a Pass counting `$.n` up to `limit` (four events a step).
fn counting_loop(dir: &Path, limit: u64) -> String {
    write(
        dir,
        "loop.json",
        &json!({"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThanEquals": limit, "Next": "Done"}],
                "Default": "Inc"},
            "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                    "Next": "Check"},
            "Done": {"Type": "Succeed"}}})
        .to_string(),
    )
}

/// A stored run keeps no history in memory: `run --store --history` reads the events back from
/// the store, a page at a time, and prints the same events as `workflow history` and as a run
/// in memory (13,000 events: more than one page; ids without gaps, the closing event last).
#[test]
fn a_stored_run_prints_its_history_from_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let def = counting_loop(dir.path(), 3250);
    let store = dir.path().join("s.db").display().to_string();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            &def,
            "--input",
            r#"{"n":0}"#,
            "--format",
            "json",
            "--history",
        ];
        args.extend_from_slice(extra);
        let out = workflow(&args);
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).expect("one JSON document")
    };
    let stored = run(&["--store", &store, "--name", "loop"]);
    let memory = run(&[]);
    assert_eq!(stored["status"], "SUCCEEDED");
    assert_eq!(stored["output"], json!({"n": 3250}));
    let events = stored["events"].as_array().expect("events");
    assert_eq!(events.len(), 13_006);
    assert!(events
        .iter()
        .enumerate()
        .all(|(i, e)| e["id"] == json!(i + 1)));
    assert_eq!(events.last().expect("events")["type"], "ExecutionSucceeded");
    // The same events as the run in memory (timestamps aside) and as `workflow history`.
    let shape = |e: &Value| {
        let mut e = e.clone();
        e.as_object_mut().expect("an event").remove("timestamp");
        e
    };
    let in_memory = memory["events"].as_array().expect("events");
    assert!(events.iter().map(shape).eq(in_memory.iter().map(shape)));
    let history = workflow(&["history", "--store", &store, "loop", "--format", "json"]);
    assert_eq!(code(&history), 0, "{}", text(&history.stderr));
    let history: Value = serde_json::from_slice(&history.stdout).expect("JSON");
    assert_eq!(
        history["events"].as_array().map(Vec::len),
        Some(events.len())
    );
    assert_eq!(
        history["events"].as_array().expect("events")[..],
        events[..]
    );
}

/// A reader that stops early (`workflow history … | head`) closes the pipe: `history` (both
/// formats) and `run --history` end quietly, with the exit status of a complete print, and a
/// closed stdout is never reported as a damaged store. The child is blocked on a full pipe (its
/// 2.5 MB of output against the pipe's 64 KiB) when the reader closes it.
#[test]
fn a_reader_that_stops_early_ends_the_print_quietly() {
    use std::io::Read;
    let dir = tempfile::tempdir().expect("tempdir");
    let def = counting_loop(dir.path(), 2000);
    let store = dir.path().join("s.db").display().to_string();
    let out = workflow(&[
        "run",
        &def,
        "--input",
        r#"{"n":0}"#,
        "--store",
        &store,
        "--name",
        "loop",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let history_json = ["history", "--store", &store, "loop", "--format", "json"];
    let history_table = ["history", "--store", &store, "loop"];
    let run = [
        "run",
        &def,
        "--input",
        r#"{"n":0}"#,
        "--history",
        "--format",
        "json",
    ];
    for args in [&history_json[..], &history_table[..], &run[..]] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("started");
        let mut stdout = child.stdout.take().expect("stdout");
        let mut start = [0u8; 100];
        stdout
            .read_exact(&mut start)
            .expect("the start of the output");
        drop(stdout);
        let out = child.wait_with_output().expect("ended");
        assert_eq!(code(&out), 0, "{args:?}: {}", text(&out.stderr));
        assert_eq!(text(&out.stderr), "", "{args:?}");
    }
    // The store is intact, and a complete print still ends with the closing event.
    let check = workflow(&["check", "--store", &store]);
    assert_eq!(code(&check), 0, "{}", text(&check.stderr));
    let whole = workflow(&history_json);
    let whole: Value = serde_json::from_slice(&whole.stdout).expect("JSON");
    let events = whole["events"].as_array().expect("events");
    assert_eq!(events.len(), 8_006);
    assert_eq!(events[8_005]["type"], "ExecutionSucceeded");
}

/// Issue 12 (streamed history): a stored run's memory does not grow with its history. A loop of
/// 10,002 and one of 100,002 transitions each end in a `.waitForTaskToken` task; while it waits
/// (nothing races: it waits until answered), the process's peak resident memory (`VmHWM`) is
/// read, then the task is answered. Keeping the history in memory, as runs did before, made the
/// longer run's peak 32 MB higher (debug build: 25.9 MB → 57.9 MB; now 23.0 MB → 23.0 MB).
#[cfg(target_os = "linux")]
#[test]
fn a_stored_runs_memory_does_not_grow_with_its_history() {
    use std::io::{BufRead, Read, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let peak = |n: u64| -> u64 {
        let def = write(
            dir.path(),
            &format!("loop-{n}.json"),
            &json!({"StartAt": "Check", "States": {
                "Check": {"Type": "Choice", "Choices": [
                    {"Variable": "$.n", "NumericGreaterThanEquals": n, "Next": "Approve"}],
                    "Default": "Inc"},
                "Inc": {"Type": "Pass", "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                        "Next": "Check"},
                "Approve": {"Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token"}},
                    "ResultPath": null, "End": true}}})
            .to_string(),
        );
        let messages = dir.path().join(format!("messages-{n}.json"));
        let store = dir.path().join(format!("s-{n}.db")).display().to_string();
        let handler = format!("Approve=cat > '{}'", messages.display());
        let mut child = Command::new(BIN)
            .args([
                "run",
                &def,
                "--input",
                r#"{"n":0}"#,
                "--store",
                &store,
                "--history-limit",
                "0",
                "--serve",
                "127.0.0.1:0",
                "--handler",
                &handler,
                "--format",
                "json",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("started");
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("stderr"));
        let mut line = String::new();
        stderr.read_line(&mut line).expect("the serving line");
        let addr = line
            .rsplit("http://")
            .next()
            .map(str::trim)
            .unwrap_or_default()
            .to_string();
        std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));
        // The task waits for its answer once its message is delivered (a liveness bound only).
        let deadline = Instant::now() + Duration::from_secs(300);
        let token = loop {
            let message = std::fs::read_to_string(&messages).unwrap_or_default();
            if let Ok(m) = serde_json::from_str::<Value>(&message) {
                break m["MessageBody"]["token"]
                    .as_str()
                    .expect("a token")
                    .to_string();
            }
            assert!(Instant::now() < deadline, "the message was never delivered");
            std::thread::sleep(Duration::from_millis(20));
        };
        let status = std::fs::read_to_string(format!("/proc/{}/status", child.id()))
            .expect("the process's status");
        let peak_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        let body = json!({"taskToken": token, "output": "{}"}).to_string();
        let mut s = std::net::TcpStream::connect(&addr).expect("connect");
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.SendTaskSuccess\r\n\
             Content-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("sent");
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let out = child.wait_with_output().expect("ended");
        assert_eq!(out.status.code(), Some(0));
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(doc["output"], json!({"n": n}));
        peak_kb
    };
    let short = peak(5_000);
    let long = peak(50_000);
    eprintln!("peak resident memory: {short} kB at 10,002 transitions, {long} kB at 100,002");
    assert!(
        long < short + 16 * 1024,
        "peak memory grew with the history: {short} kB → {long} kB"
    );
}
