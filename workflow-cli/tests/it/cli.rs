//! Runs the built `workflow` binary on temporary files: exit statuses, output formats, and bad
//! input (not JSON, wrong JSON types, a 50 MB file, deep nesting, 10,000 states) that must give a
//! clear answer and never a panic.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

use crate::support;

use support::{TempDir, BIN};

fn run(args: &[&str], files: &[&Path]) -> Output {
    Command::new(BIN)
        .args(args)
        .args(files)
        .output()
        .expect("run the workflow binary")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The process ended with this status, not with a panic (101) or a signal.
fn assert_status(o: &Output, want: i32) {
    assert_eq!(
        o.status.code(),
        Some(want),
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

const VALID: &str =
    r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}}"#;
const INVALID: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Don"}, "Done": {"Type": "Succeed"}}}"#;

#[test]
fn validate_exit_statuses() {
    let t = TempDir::new("status");
    let valid = t.file("valid.json", VALID);
    let invalid = t.file("invalid.json", INVALID);
    let not_json = t.file("not.json", "{\"StartAt\": ");
    let missing = t.0.join("missing.json");

    let o = run(&["validate"], &[&valid]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o), format!("{}: valid\n", valid.display()));

    let o = run(&["validate"], &[&valid, &invalid]);
    assert_status(&o, 1);
    let out = stdout(&o);
    let want = format!(
        "{}: MISSING_TRANSITION_TARGET at /States/A/Next: `Next` names \"Don\", which is not a state in the state machine; did you mean \"Done\"?",
        invalid.display()
    );
    assert!(out.lines().any(|l| l == want), "{out}");
    // AWS's wording: `MISSING_TRANSITION_TARGET: State "pass2" is not reachable.` (quoted in
    // localstack/localstack pull request #12487).
    assert!(
        out.contains(&format!(
            "{}: MISSING_TRANSITION_TARGET at /States/Done: State \"Done\" is not reachable.",
            invalid.display()
        )),
        "{out}"
    );

    let o = run(&["validate"], &[&invalid, &not_json]);
    assert_status(&o, 2);
    assert!(
        stderr(&o).contains("INVALID_JSON_DESCRIPTION"),
        "{}",
        stderr(&o)
    );

    let o = run(&["validate"], &[&valid, &missing]);
    assert_status(&o, 2);
    assert!(
        stderr(&o).contains("cannot read the file"),
        "{}",
        stderr(&o)
    );

    // No file at all is a usage error.
    let o = run(&["validate"], &[]);
    assert_status(&o, 2);
}

#[test]
fn validate_json_format() {
    let t = TempDir::new("json");
    let valid = t.file("valid.json", VALID);
    let invalid = t.file("invalid.json", INVALID);
    let o = run(&["validate", "--format", "json"], &[&valid, &invalid]);
    assert_status(&o, 1);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON output");
    let files = v.as_array().expect("an array");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["valid"], true);
    assert_eq!(files[0]["diagnostics"], json!([]));
    assert_eq!(files[1]["valid"], false);
    let d = &files[1]["diagnostics"][0];
    assert_eq!(d["code"], "MISSING_TRANSITION_TARGET");
    assert_eq!(d["pointer"], "/States/A/Next");
    assert!(d["message"]
        .as_str()
        .is_some_and(|m| m.contains("did you mean")));
}

#[test]
fn validate_express_type() {
    let t = TempDir::new("express");
    let f = t.file(
        "cb.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "End": true}}}"#,
    );
    assert_status(&run(&["validate"], &[&f]), 0);
    let o = run(&["validate", "--type", "express"], &[&f]);
    assert_status(&o, 1);
    assert!(stdout(&o).contains("/States/A/Resource"), "{}", stdout(&o));
}

#[test]
fn fmt_prints_writes_and_checks() {
    let t = TempDir::new("fmt");
    let f = t.file(
        "m.json",
        r#"{"States": {"A": {"End": true, "Type": "Pass", "X-Unknown": [1, 1.0]}}, "StartAt": "A"}"#,
    );
    let o = run(&["fmt"], &[&f]);
    assert_status(&o, 0);
    let canonical = stdout(&o);
    assert!(
        canonical.starts_with("{\n  \"StartAt\": \"A\""),
        "{canonical}"
    );
    assert!(canonical.ends_with("}\n"), "{canonical}");
    // Lossless: the same JSON value, unknown field and `1.0` included.
    let a: Value = serde_json::from_str(&canonical).expect("JSON");
    let b: Value = serde_json::from_str(&fs::read_to_string(&f).expect("read")).expect("JSON");
    assert_eq!(a, b);
    assert!(canonical.contains("1.0"), "{canonical}");

    assert_status(&run(&["fmt", "--check"], &[&f]), 1);
    assert_status(&run(&["fmt", "--write"], &[&f]), 0);
    assert_eq!(fs::read_to_string(&f).expect("read"), canonical);
    assert_status(&run(&["fmt", "--check"], &[&f]), 0);

    let dup = t.file(
        "dup.json",
        r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "A": {"Type": "Fail"}}}"#,
    );
    let o = run(&["fmt"], &[&dup]);
    assert_status(&o, 1);
    assert!(
        stderr(&o).contains("DUPLICATE_STATE_NAME"),
        "{}",
        stderr(&o)
    );

    let not_json = t.file("n.json", "nope");
    assert_status(&run(&["fmt"], &[&not_json]), 2);
}

#[test]
fn graph_formats() {
    let t = TempDir::new("graph");
    let f = t.file(
        "g.json",
        r#"{"StartAt": "Check", "States": {
            "Check": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "Items"}], "Default": "Done"},
            "Items": {"Type": "Map", "Next": "Done", "ItemProcessor": {"StartAt": "One", "States": {"One": {"Type": "Pass", "End": true}}},
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}]},
            "Failed": {"Type": "Fail"},
            "Done": {"Type": "Succeed"}}}"#,
    );
    let o = run(&["graph"], &[&f]);
    assert_status(&o, 0);
    let m = stdout(&o);
    assert!(m.starts_with("flowchart TD\n"), "{m}");
    assert!(m.contains("subgraph"), "{m}");
    assert!(m.contains("|\"Default\"|"), "{m}");
    assert!(m.contains("|\"Catch States.ALL\"|"), "{m}");
    assert!(m.contains("|\"$.n NumericEquals 1\"|"), "{m}");

    let o = run(&["graph", "--format", "dot"], &[&f]);
    assert_status(&o, 0);
    let d = stdout(&o);
    assert!(d.starts_with("digraph workflow {"), "{d}");
    assert!(d.contains("subgraph cluster_1 {"), "{d}");
    assert!(d.contains("[label=\"Default\"]"), "{d}");

    let o = run(&["graph", "--format", "svg"], &[&f]);
    assert_status(&o, 0);
    let svg = stdout(&o);
    assert!(svg.starts_with("<svg "), "{svg}");
    assert_eq!(svg.matches("data-state=").count(), 5, "{svg}");
    assert_eq!(svg.matches("data-status=\"not-run\"").count(), 5, "{svg}");

    let o = run(&["graph", "--format", "png"], &[&f]);
    assert_status(&o, 2);
}

#[test]
fn wrong_json_types_are_clear_errors() {
    let t = TempDir::new("types");
    for (name, text, code) in [
        ("array.json", "[1, 2]", "SCHEMA_VALIDATION_FAILED"),
        ("string.json", "\"StartAt\"", "SCHEMA_VALIDATION_FAILED"),
        (
            "states.json",
            r#"{"StartAt": 5, "States": 5}"#,
            "SCHEMA_VALIDATION_FAILED",
        ),
        (
            "state.json",
            r#"{"StartAt": "A", "States": {"A": []}}"#,
            "SCHEMA_VALIDATION_FAILED",
        ),
        ("empty.json", "", "INVALID_JSON_DESCRIPTION"),
        ("binary.json", "\u{0}\u{1}\u{2}", "INVALID_JSON_DESCRIPTION"),
    ] {
        let f = t.file(name, text);
        let o = run(&["validate"], &[&f]);
        assert!(
            matches!(o.status.code(), Some(1 | 2)),
            "{name}: {:?} {}",
            o.status,
            stderr(&o)
        );
        let all = stdout(&o) + &stderr(&o);
        assert!(all.contains(code), "{name}: {all}");
    }
    let t2 = TempDir::new("bytes");
    let p = t2.0.join("latin1.json");
    fs::write(&p, [b'{', 0xE9, b'}']).expect("write");
    let o = run(&["validate"], &[&p]);
    assert_status(&o, 2);
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let t = TempDir::new("deep");
    let text = "[".repeat(100_000) + &"]".repeat(100_000);
    let f = t.file("deep.json", &text);
    for cmd in ["validate", "fmt", "graph"] {
        let o = run(&[cmd], &[&f]);
        assert_status(&o, 2);
        assert!(
            stderr(&o).contains("recursion limit"),
            "{cmd}: {}",
            stderr(&o)
        );
    }
    // Deep but within the JSON limit, inside a payload template.
    let mut payload = String::from("1");
    for _ in 0..100 {
        payload = format!("{{\"a\": {payload}}}");
    }
    let def = format!(
        r#"{{"StartAt": "A", "States": {{"A": {{"Type": "Pass", "Result": {payload}, "End": true}}}}}}"#
    );
    let f = t.file("nested.json", &def);
    assert_status(&run(&["validate"], &[&f]), 0);
}

#[test]
fn fifty_megabyte_file() {
    let t = TempDir::new("big");
    let big = "x".repeat(50 * 1024 * 1024);
    let def = format!(
        r#"{{"StartAt": "A", "States": {{"A": {{"Type": "Pass", "Result": "{big}", "End": true}}}}}}"#
    );
    let f = t.file("big.json", &def);
    let o = run(&["validate"], &[&f]);
    assert_status(&o, 0);
    // Invalid and big: the answer names the problem.
    let def = def.replace("\"End\": true", "\"Next\": \"Nowhere\"");
    let f = t.file("big-invalid.json", &def);
    let o = run(&["validate"], &[&f]);
    assert_status(&o, 1);
    assert!(
        stdout(&o).contains("MISSING_TRANSITION_TARGET at /States/A/Next"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn ten_thousand_states() {
    let t = TempDir::new("many");
    let n = 10_000;
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let s = if i + 1 == n {
            json!({"Type": "Succeed"})
        } else {
            json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
        };
        states.insert(format!("S{i}"), s);
    }
    let def = json!({"StartAt": "S0", "States": states});
    let f = t.file("many.json", &def.to_string());
    assert_status(&run(&["validate"], &[&f]), 0);
    let o = run(&["graph"], &[&f]);
    assert_status(&o, 0);
    assert_eq!(stdout(&o).matches("-->").count(), n + 1);
    assert_status(&run(&["fmt"], &[&f]), 0);

    // The same chain with one broken link: one missing target, the rest unreachable.
    let mut broken = def.clone();
    broken["States"]["S4999"]["Next"] = json!("S5000x");
    let f = t.file("broken.json", &broken.to_string());
    let o = run(&["validate", "--format", "json"], &[&f]);
    assert_status(&o, 1);
    let v: Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    let diags = v[0]["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diags[0]["code"], "MISSING_TRANSITION_TARGET");
    assert!(diags[0]["message"]
        .as_str()
        .is_some_and(|m| m.contains("did you mean \"S5000\"")));
    assert_eq!(
        diags
            .iter()
            .filter(|d| d["code"] == "MISSING_TRANSITION_TARGET"
                && d["severity"] == "ERROR"
                && d["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("is not reachable.")))
            .count(),
        5000
    );
}

/// Every `cargo run -p workflow-cli -- …` and `workflow eval …` line in the README's shell
/// examples, run as pasted (with the built binary in place of `cargo run`) from the workspace
/// root: each must exit 0 (or the N of a `# exits N` comment), and a `# …` line right after one is its exact output. Issue 9 asks
/// that every README snippet runs as pasted. The blocks that need a shell session, AWS or an
/// 11-second real wait (durable runs, `--handler` with jq, callbacks, deploying, the Activity
/// worker) are exercised by their own tests (durability.rs, tasks.rs, export.rs, workflow-aws).
#[test]
fn readme_commands_run_as_pasted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = fs::read_to_string(root.join("README.md")).expect("read README.md");
    let mut lines: Vec<String> = Vec::new();
    let mut in_sh = false;
    for line in readme.lines() {
        match line.trim_end() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            // A line ending in `\` goes on in the next one, as in the shell.
            l if in_sh => match lines.last_mut() {
                Some(last) if last.ends_with('\\') => {
                    last.pop();
                    last.push_str(l.trim_start());
                }
                _ => lines.push(l.to_string()),
            },
            _ => {}
        }
    }
    let mut ran = 0;
    for (i, line) in lines.iter().enumerate() {
        let command = line.split("  #").next().unwrap_or(line).trim_end();
        let rest = if let Some(rest) = command.strip_prefix("cargo run -p workflow-cli -- ") {
            rest
        } else if command.starts_with("workflow eval ") {
            // Pasted after `cargo install --path workflow-cli`: the same binary.
            &command["workflow ".len()..]
        } else {
            continue;
        };
        if rest.contains(" > ") {
            // It writes a file into the checkout (the deploy walk-through); export.rs tests it.
            continue;
        }
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("'{BIN}' {rest}"))
            .current_dir(&root)
            .output()
            .expect("run sh");
        // A line whose comment says `# exits N` must exit N.
        let want = line
            .split("# exits ")
            .nth(1)
            .and_then(|c| c.split(':').next())
            .map_or(0, |n| n.parse::<i32>().expect("README `# exits N`"));
        assert!(
            out.status.code() == Some(want),
            "README line `{line}` exited {:?}, not {want}: {}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        if let Some(expected) = lines.get(i + 1).and_then(|l| l.strip_prefix("# {")) {
            assert_eq!(
                stdout(&out).trim(),
                format!("{{{expected}"),
                "output of README line `{line}`"
            );
        }
        ran += 1;
    }
    assert!(ran >= 9, "found only {ran} README commands to run");
}
