//! `workflow run --handler STATE=COMMAND` and `--serve ADDR`: commands as task handlers (JSON in
//! and out, errors from stderr, non-JSON output, a hanging command killed at TimeoutSeconds),
//! `.waitForTaskToken` tasks answered through the Step Functions callback API on loopback, and
//! bad input (unknown states, unknown tokens, malformed requests).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_workflow");

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("workflow-tasks-{}-{tag}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        TempDir(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).expect("written");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("run")
        .args(args)
        .output()
        .expect("run the workflow binary")
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

const ORDER: &str = r#"{
  "StartAt": "Validate",
  "States": {
    "Validate": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:validate",
                 "Catch": [{"ErrorEquals": ["InvalidOrder"], "ResultPath": "$.error", "Next": "Rejected"}],
                 "Next": "Price"},
    "Price": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:price",
              "TimeoutSeconds": 2, "End": true},
    "Rejected": {"Type": "Pass", "End": true}
  }
}"#;

#[test]
fn commands_run_tasks() {
    let dir = TempDir::new("commands");
    let def = dir.file("order.asl.json", ORDER);
    let def = def.to_str().expect("UTF-8");
    // Input on stdin, result on stdout, a shell pipeline as the command.
    let o = run(&[
        def,
        "--format",
        "json",
        "--input",
        r#"{"quantity": 3, "unit": 2.5}"#,
        "--handler",
        "Validate=cat",
        "--handler",
        r#"Price=python3 -c 'import json,sys; o=json.load(sys.stdin); print(json.dumps({"total": o["quantity"]*o["unit"]}))'"#,
    ]);
    assert_eq!(
        json_out(&o),
        json!({"status": "SUCCEEDED", "output": {"total": 7.5}})
    );

    // A non-zero exit: the error is named by the last `Error: NAME` line, the cause is stderr.
    let o = run(&[
        def,
        "--format",
        "json",
        "--handler",
        "Validate=echo 'checking' >&2; echo 'Error: InvalidOrder' >&2; exit 3",
        "--handler",
        "Price=echo 1",
    ]);
    // The state's `Resource` is a Lambda function's ARN, so the cause is Lambda's error document
    // with stderr as its message, as AWS reports a function's error.
    let error = &json_out(&o)["output"]["error"];
    assert_eq!(error["Error"], "InvalidOrder");
    let doc: Value = serde_json::from_str(error["Cause"].as_str().expect("a cause")).expect("JSON");
    assert_eq!(doc["errorMessage"], "checking\nError: InvalidOrder");
    assert_eq!(doc["errorType"], "InvalidOrder");
    // Without a name: States.TaskFailed.
    let o = run(&[def, "--format", "json", "--handler", "Validate=exit 1"]);
    let out = json_out(&o);
    assert_eq!(out["status"], "FAILED");
    assert_eq!(out["error"], "States.TaskFailed");
    assert!(
        out["cause"]
            .as_str()
            .is_some_and(|c| c.contains("exited with status 1")),
        "{out}"
    );

    // Output that is not JSON fails the task and says so.
    let o = run(&[
        def,
        "--format",
        "json",
        "--handler",
        "Validate=echo not json",
    ]);
    let out = json_out(&o);
    assert_eq!(out["error"], "States.TaskFailed");
    assert!(
        out["cause"].as_str().is_some_and(|c| c
            .contains("the command of the state 'Validate' printed output that is not JSON")
            && c.contains("\"not json\"")),
        "{out}"
    );
}

#[test]
fn a_hanging_command_is_killed_at_its_timeout() {
    let dir = TempDir::new("hang");
    let def = dir.file("order.asl.json", ORDER);
    let pidfile = dir.0.join("pid");
    let hang = format!("Price=echo $$ > {}; exec sleep 60", pidfile.display());
    let started = Instant::now();
    let o = run(&[
        def.to_str().expect("UTF-8"),
        "--format",
        "json",
        "--handler",
        "Validate=cat",
        "--handler",
        &hang,
    ]);
    let out = json_out(&o);
    assert_eq!(out["error"], "States.Timeout", "{out}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded by TimeoutSeconds"
    );
    let pid = std::fs::read_to_string(&pidfile).expect("the command started");
    // The process is gone (or a zombie left for init to reap): it was killed, not left running.
    // SIGKILL is sent as the run times out, but a loaded machine may not have scheduled the
    // process to die yet when the CLI has exited: allow it 10 s (the command sleeps 60 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        if matches!(state, None | Some("Z" | "X")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "process {} still runs: {stat}",
            pid.trim()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bad_handler_arguments_are_clear_errors() {
    let dir = TempDir::new("bad");
    let def = dir.file("order.asl.json", ORDER);
    let def = def.to_str().expect("UTF-8");
    let o = run(&[def, "--handler", "Validat=cat"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("--handler Validat=cat: no state is named `Validat`; did you mean `Validate`?"));
    let o = run(&[def, "--handler", "Rejected=cat"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("`Rejected` is a Pass state, not a Task"));
}

const APPROVAL: &str = r#"{
  "StartAt": "Approve",
  "States": {
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "q", "MessageBody": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
      "TimeoutSeconds": 120,
      "End": true
    }
  }
}"#;

/// POSTs an AWS JSON 1.0 request; returns the status code and the body.
fn post(addr: &str, target: &str, body: &str) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSStepFunctions.{target}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).expect("sent");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("an answer");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[test]
fn callbacks_complete_a_waiting_task_over_the_aws_protocol() {
    let dir = TempDir::new("serve");
    let def = dir.file("approval.asl.json", APPROVAL);
    let message = dir.0.join("message.json");
    let mut child = Command::new(BIN)
        .args([
            "run",
            def.to_str().expect("UTF-8"),
            "--format",
            "json",
            "--input",
            r#"{"order": 42}"#,
            "--serve",
            "127.0.0.1:0",
            "--handler",
            &format!("Approve=cat > {}", message.display()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("started");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("a line");
    let addr = line
        .rsplit("http://")
        .next()
        .map(str::trim)
        .expect("the address")
        .to_string();
    // The message (with its token) is delivered by the command.
    let deadline = Instant::now() + Duration::from_secs(30);
    let token = loop {
        if let Ok(text) = std::fs::read_to_string(&message) {
            if let Ok(m) = serde_json::from_str::<Value>(&text) {
                break m["MessageBody"]["token"]
                    .as_str()
                    .expect("a token")
                    .to_string();
            }
        }
        assert!(Instant::now() < deadline, "the message was never delivered");
        std::thread::sleep(Duration::from_millis(20));
    };
    // Bad requests are AWS errors, and leave the task waiting.
    let (status, body) = post(
        &addr,
        "SendTaskSuccess",
        r#"{"taskToken": "nope", "output": "{}"}"#,
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("TaskDoesNotExist"))
    );
    let (status, body) = post(&addr, "SendTaskSuccess", "{not json");
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let (status, body) = post(
        &addr,
        "SendTaskSuccess",
        &json!({"taskToken": token}).to_string(),
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("ValidationException"))
    );
    let (status, body) = post(
        &addr,
        "SendTaskSuccess",
        &json!({"taskToken": token, "output": "{oops"}).to_string(),
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidOutput"))
    );
    let (status, body) = post(
        &addr,
        "SendTaskHeartbeat",
        &json!({"taskToken": ""}).to_string(),
    );
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("InvalidToken"))
    );
    let (status, body) = post(&addr, "StartExecution", "{}");
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (status, _) = post(
        &addr,
        "SendTaskHeartbeat",
        &json!({"taskToken": token}).to_string(),
    );
    assert_eq!(status, 200);
    let (status, body) = post(
        &addr,
        "SendTaskSuccess",
        &json!({"taskToken": token, "output": r#"{"approved": true}"#}).to_string(),
    );
    assert_eq!((status, body), (200, json!({})));
    let out = child.wait_with_output().expect("ended");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON"),
        json!({"status": "SUCCEEDED", "output": {"approved": true}})
    );
}

#[test]
fn a_callback_task_without_serve_names_the_flag() {
    let dir = TempDir::new("noserve");
    let def = dir.file("approval.asl.json", APPROVAL);
    let o = run(&[
        def.to_str().expect("UTF-8"),
        "--format",
        "json",
        "--input",
        r#"{"order": 1}"#,
        "--handler",
        "Approve=true",
    ]);
    let out = json_out(&o);
    assert_eq!(out["error"], "States.TaskFailed");
    assert!(
        out["cause"].as_str().is_some_and(|c| c.contains("--serve")),
        "{out}"
    );
}

#[test]
fn commands_combine_with_a_store() {
    let dir = TempDir::new("store");
    let def = dir.file("order.asl.json", ORDER);
    let store = dir.0.join("runs.db");
    let o = run(&[
        def.to_str().expect("UTF-8"),
        "--format",
        "json",
        "--store",
        store.to_str().expect("UTF-8"),
        "--name",
        "first",
        "--input",
        r#"{"n": 1}"#,
        "--handler",
        "Validate=cat",
        "--handler",
        "Price=echo '{\"priced\": true}'",
    ]);
    assert_eq!(
        json_out(&o),
        json!({"status": "SUCCEEDED", "output": {"priced": true}})
    );
    assert!(Path::new(&store).exists());
}

/// Starts `workflow ARGS` and returns the child and the callback server's address (read from the
/// first stderr line).
fn serving(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("started");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("a line");
    let addr = line
        .rsplit("http://")
        .next()
        .map(str::trim)
        .expect("the address")
        .to_string();
    (child, addr)
}

fn wait_for_token(message: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(message) {
            if let Ok(m) = serde_json::from_str::<Value>(&text) {
                return m["MessageBody"]["token"]
                    .as_str()
                    .expect("a token")
                    .to_string();
            }
        }
        assert!(Instant::now() < deadline, "the message was never delivered");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_waiting_execution_survives_a_restart_and_its_token_still_works() {
    let dir = TempDir::new("durable");
    let def = dir.file("approval.asl.json", APPROVAL);
    let store = dir.0.join("runs.db");
    let message = dir.0.join("message.json");
    let deliver = format!("Approve=cat > {}", message.display());
    let (mut first, _) = serving(&[
        "run",
        def.to_str().expect("UTF-8"),
        "--input",
        r#"{"order": 5}"#,
        "--store",
        store.to_str().expect("UTF-8"),
        "--name",
        "approval-5",
        "--serve",
        "127.0.0.1:0",
        "--handler",
        &deliver,
    ]);
    let token = wait_for_token(&message);
    // The process dies while the task waits.
    first.kill().expect("killed");
    let _ = first.wait();
    std::fs::remove_file(&message).expect("removed");
    let (second, addr) = serving(&[
        "resume",
        "--store",
        store.to_str().expect("UTF-8"),
        "--serve",
        "127.0.0.1:0",
        "--handler",
        &deliver,
    ]);
    // The resumed task delivers its message again, with the same token.
    assert_eq!(wait_for_token(&message), token);
    let (status, _) = post(
        &addr,
        "SendTaskSuccess",
        &json!({"taskToken": token, "output": r#"{"approved": "after a restart"}"#}).to_string(),
    );
    assert_eq!(status, 200);
    let out = second.wait_with_output().expect("ended");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let described = Command::new(BIN)
        .args([
            "describe",
            "--store",
            store.to_str().expect("UTF-8"),
            "approval-5",
        ])
        .output()
        .expect("described");
    let text = String::from_utf8_lossy(&described.stdout);
    assert!(
        text.contains("SUCCEEDED") && text.contains("after a restart"),
        "{text}"
    );
}
