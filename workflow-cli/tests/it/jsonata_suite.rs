//! The official JSONata test suite (v2.0.6, in `../shared/conformance/jsonata-suite`), run as
//! the `workflow eval` command line runs it: every case is evaluated in this process through the
//! same `Expression::parse`, `Scope` and `evaluate` calls and printed in the same
//! `--format json` shape, and every eighth case also through a `workflow eval` process, whose exit
//! status and output must be the same as the in-process ones (a process per case took 14 s of
//! the test suite's time).
//!
//! Issue 9 asks for at least 99% of the scored cases (every group but `function-eval`, which
//! Step Functions disables). Scoring follows the suite's README: results compared as JSON with
//! numbers within a relative 1e-9, `undefinedResult` as `{"undefined": true}`, an expected `code`
//! as the error's code (a case whose code is the jsonata-js harness's own `U1001`/`U1002`, raised by
//! its time and depth boxes, passes on any error; such a case is evaluated within its own
//! `timelimit`, as the harness boxes it, not `eval`'s ten seconds, and is not among the cases sent
//! through a process). Files that JSON cannot read (lone UTF-16 surrogates) are counted as skipped.
//!
//! A second test mutates every suite expression and evaluates the mutants as `workflow eval` does
//! (every eighth through a `workflow eval` process, the others in this process): none may crash
//! (a panic exits 101 or is caught here; an abort is a signal, or ends this test binary).
//!
//! The corpus is found through `$WORKFLOW_CONFORMANCE_DIR`, else `../shared/conformance` beside the
//! project. When it is missing the tests print "skipped" and pass, except under `CI=true`, where
//! they fail.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde_json::Value;

/// The `jsonata-suite` folder, or `None` (after failing under CI) when it is absent.
fn suite_dir() -> Option<PathBuf> {
    let conformance = std::env::var_os("WORKFLOW_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance"));
    let dir = conformance.join("jsonata-suite");
    if dir.join("groups").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the JSONata suite is missing at {} (set WORKFLOW_CONFORMANCE_DIR)",
        dir.display()
    );
    println!("skipped: no JSONata suite at {}", dir.display());
    None
}

/// One case of the suite.
struct Case {
    name: String,
    expr: String,
    /// `--input` argument (`@FILE`), if the case has an input.
    input: Option<String>,
    /// `--bindings` argument, if any.
    bindings: Option<String>,
    /// The suite harness's time box for this case (`timelimit`, in ms), when shorter than
    /// `workflow eval`'s own.
    time_limit_ms: Option<u64>,
    expected: Expected,
}

enum Expected {
    Result(Value),
    Undefined,
    Code(String),
    AnyError,
}

/// Reads every case (but `function-eval`); returns the cases and the number of unreadable files.
fn load(dir: &Path, tmp: &Path) -> (Vec<Case>, usize) {
    let mut cases = Vec::new();
    let mut skipped = 0;
    let mut groups: Vec<PathBuf> = std::fs::read_dir(dir.join("groups"))
        .expect("groups")
        .map(|e| e.expect("entry").path())
        .collect();
    groups.sort();
    for group in groups {
        let gname = group.file_name().unwrap().to_string_lossy().to_string();
        if gname == "function-eval" {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&group)
            .expect("group")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read case");
            let Ok(value) = serde_json::from_str::<Value>(&text) else {
                skipped += 1;
                continue;
            };
            let list = match value {
                Value::Array(a) => a,
                v => vec![v],
            };
            let stem = file.file_stem().unwrap().to_string_lossy().to_string();
            for (i, c) in list.into_iter().enumerate() {
                let name = format!("{gname}/{stem}[{i}]");
                let expr = match (&c["expr"], &c["expr-file"]) {
                    (Value::String(e), _) => e.clone(),
                    (_, Value::String(f)) => {
                        std::fs::read_to_string(group.join(f)).expect("expr-file")
                    }
                    _ => panic!("{name}: no expression"),
                };
                let input = if let Some(data) = c.get("data") {
                    let path = tmp.join(format!("in-{}.json", cases.len()));
                    std::fs::write(&path, data.to_string()).expect("write input");
                    Some(format!("@{}", path.display()))
                } else {
                    match &c["dataset"] {
                        Value::String(ds) => Some(format!(
                            "@{}",
                            dir.join("datasets").join(format!("{ds}.json")).display()
                        )),
                        _ => None,
                    }
                };
                let bindings = match c.get("bindings") {
                    Some(b @ Value::Object(m)) if !m.is_empty() => {
                        let path = tmp.join(format!("b-{}.json", cases.len()));
                        std::fs::write(&path, b.to_string()).expect("write bindings");
                        Some(format!("@{}", path.display()))
                    }
                    _ => None,
                };
                let code = c
                    .get("code")
                    .and_then(Value::as_str)
                    .or_else(|| c.get("error").and_then(|e| e["code"].as_str()))
                    .map(str::to_owned);
                let expected = if let Some(code) = code {
                    if (code == "U1001" || code == "U1002") && c.get("timelimit").is_some() {
                        Expected::AnyError
                    } else {
                        Expected::Code(code)
                    }
                } else if c.get("undefinedResult") == Some(&Value::Bool(true)) {
                    Expected::Undefined
                } else if let Some(r) = c.get("result") {
                    Expected::Result(r.clone())
                } else {
                    Expected::Undefined
                };
                let time_limit_ms = c
                    .get("timelimit")
                    .and_then(Value::as_u64)
                    .filter(|&ms| ms < EVAL_TIME_LIMIT_MS);
                cases.push(Case {
                    name,
                    expr,
                    input,
                    bindings,
                    time_limit_ms,
                    expected,
                });
            }
        }
    }
    (cases, skipped)
}

/// Runs `workflow eval … --format json`; returns the exit status (`None`: killed by a signal)
/// and stdout.
fn eval(expr: &str, input: Option<&str>, bindings: Option<&str>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workflow"));
    cmd.arg("eval").arg(expr);
    if let Some(i) = input {
        cmd.arg("--input").arg(i);
    }
    if let Some(b) = bindings {
        cmd.arg("--bindings").arg(b);
    }
    cmd.arg("--format").arg("json");
    let out = cmd.output().expect("spawn workflow");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Every how manyth suite case also goes through a `workflow eval` process (but a case with a
/// shorter time box of its own, which `workflow eval` cannot be given).
const CASE_PROCESS_EVERY: usize = 8;

/// `workflow eval`'s time limit (`TIME_LIMIT_MS` in `workflow-cli/src/cmd/eval.rs`).
const EVAL_TIME_LIMIT_MS: u64 = 10_000;

/// What `workflow eval EXPR [--input @FILE] [--bindings @FILE] --format json` prints and exits
/// with, computed in this process with the calls `eval` makes (see `workflow-cli/src/cmd/eval.rs`),
/// within `time_limit_ms` (the suite harness's box for a case that has one: an endless recursion
/// expected to hit the harness's one-second `U1001` need not run for `eval`'s ten seconds).
fn eval_json_in_process(
    expr: &str,
    input: Option<&str>,
    bindings: Option<&str>,
    time_limit_ms: u64,
) -> (Option<i32>, String) {
    use workflow_asl::jsonata::{Expression, Scope};
    let read = |arg: &str| -> Value {
        let path = arg
            .strip_prefix('@')
            .expect("the suite's arguments are files");
        let text = std::fs::read_to_string(path).expect("the suite's files are readable");
        workflow_asl::json::parse(&text)
            .map(|p| p.value)
            .expect("the suite's data is JSON")
    };
    let input = input.map(read);
    let mut scope = Scope::new();
    scope.set_time_limit_ms(time_limit_ms);
    if let Some(b) = bindings {
        match read(b) {
            Value::Object(map) => scope.bind_all(&map),
            other => panic!("bindings are an object, not {other}"),
        }
    }
    match Expression::parse(expr).and_then(|e| e.evaluate(input.as_ref(), &scope)) {
        Ok(Some(v)) => (Some(0), serde_json::json!({ "result": v }).to_string()),
        Ok(None) => (
            Some(0),
            serde_json::json!({ "undefined": true }).to_string(),
        ),
        Err(e) => (
            Some(1),
            serde_json::json!({ "error": { "code": e.code, "message": e.message } }).to_string(),
        ),
    }
}

/// JSON equality with numbers compared within a relative 1e-9.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn judge(case: &Case, status: Option<i32>, stdout: &str) -> Result<(), String> {
    let got: Value = serde_json::from_str(stdout.trim())
        .map_err(|e| format!("exit {status:?}, output not one JSON object ({e}): {stdout}"))?;
    let ok = match &case.expected {
        Expected::Result(want) => {
            status == Some(0) && got.get("result").is_some_and(|r| same(r, want))
        }
        Expected::Undefined => {
            status == Some(0) && got.get("undefined") == Some(&Value::Bool(true))
        }
        Expected::Code(code) => {
            status == Some(1) && got["error"]["code"] == Value::String(code.clone())
        }
        Expected::AnyError => status == Some(1) && got.get("error").is_some(),
    };
    if ok {
        Ok(())
    } else {
        let want = match &case.expected {
            Expected::Result(v) => format!("result {v}"),
            Expected::Undefined => "undefined".into(),
            Expected::Code(c) => format!("error {c}"),
            Expected::AnyError => "an error".into(),
        };
        Err(format!("want {want}, got {}", stdout.trim()))
    }
}

/// Runs `f` over `0..n` on a few threads, each with the stack of a process's main thread
/// (8 MiB), so that a deep expression evaluated in this process meets the limits it meets in
/// `workflow eval`.
fn parallel(n: usize, f: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map_or(2, |p| p.get())
        .clamp(2, 8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn_scoped(s, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    f(i);
                })
                .expect("a thread starts");
        }
    });
}

#[test]
fn official_suite_passes_as_workflow_eval_runs_it() {
    let Some(dir) = suite_dir() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cases, skipped) = load(&dir, tmp.path());
    assert!(cases.len() > 1500, "only {} cases read", cases.len());
    assert!(skipped <= 2, "{skipped} case files could not be read");
    let failures = Mutex::new(Vec::new());
    let differences = Mutex::new(Vec::new());
    parallel(cases.len(), |i| {
        let c = &cases[i];
        let (status, stdout) = eval_json_in_process(
            &c.expr,
            c.input.as_deref(),
            c.bindings.as_deref(),
            c.time_limit_ms.unwrap_or(EVAL_TIME_LIMIT_MS),
        );
        if i % CASE_PROCESS_EVERY == 0 && c.time_limit_ms.is_none() {
            let (p_status, p_stdout) = eval(&c.expr, c.input.as_deref(), c.bindings.as_deref());
            if (p_status, p_stdout.trim()) != (status, stdout.trim()) {
                differences.lock().unwrap().push(format!(
                    "{}: `{}`: `workflow eval` exit {p_status:?} {}, in process exit {status:?} {}",
                    c.name,
                    c.expr,
                    p_stdout.trim(),
                    stdout.trim()
                ));
            }
        }
        if let Err(why) = judge(c, status, &stdout) {
            failures
                .lock()
                .unwrap()
                .push(format!("{}: `{}`: {why}", c.name, c.expr));
        }
    });
    let differences = differences.into_inner().unwrap();
    assert!(
        differences.is_empty(),
        "`workflow eval` and the in-process evaluation differ:\n{}",
        differences.join("\n")
    );
    let mut failures = failures.into_inner().unwrap();
    failures.sort();
    let passed = cases.len() - failures.len();
    let rate = passed as f64 / cases.len() as f64;
    println!(
        "JSONata suite v2.0.6 as `workflow eval` runs it: {passed}/{} passed ({:.2}%), {skipped} \
         files skipped ({} cases also through `workflow eval` processes, all alike)",
        cases.len(),
        rate * 100.0,
        (0..cases.len())
            .filter(|&i| i % CASE_PROCESS_EVERY == 0 && cases[i].time_limit_ms.is_none())
            .count()
    );
    for f in &failures {
        println!("  FAIL {f}");
    }
    assert!(rate >= 0.99, "pass rate {:.2}% is below 99%", rate * 100.0);
}

/// A small deterministic generator for the mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of an expression: a character deleted, inserted, doubled, or a span repeated or
/// cut off.
fn mutate(expr: &str, rng: &mut Rng) -> String {
    const ALPHABET: &[char] = &[
        '(', ')', '[', ']', '{', '}', '.', ',', ';', ':', '$', '"', '\'', '`', '%', '#', '@', '^',
        '*', '/', '~', '>', '<', '=', '!', '?', '&', '|', '-', '+', '0', '9', 'a', ' ', '\\', 'λ',
    ];
    let chars: Vec<char> = expr.chars().collect();
    let n = chars.len();
    let at = rng.below(n + 1);
    let mut out: Vec<char> = chars.clone();
    match rng.below(5) {
        0 if n > 0 => {
            out.remove(at.min(n - 1));
        }
        1 => out.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
        2 if n > 0 => {
            let c = chars[at.min(n - 1)];
            out.insert(at.min(n - 1), c);
        }
        3 => {
            let end = (at + 1 + rng.below(12)).min(n);
            let span: Vec<char> = chars[at.min(n)..end].to_vec();
            for _ in 0..1 + rng.below(4) {
                out.splice(end..end, span.iter().copied());
            }
        }
        _ => out.truncate(at),
    }
    out.into_iter().collect()
}

/// Every how manyth mutant also goes through a `workflow eval` process (the rest are evaluated
/// in this process, through the same `Expression::parse` and `evaluate` that `eval` calls: a
/// process per mutant doubled the suite's time).
const MUTANT_PROCESS_EVERY: usize = 8;

/// What `workflow eval` does with an expression, in this process: parse, then evaluate against
/// `input` with `eval`'s time limit. A panic is reported as a crash.
fn eval_in_process(expr: &str, input: Option<&str>) -> Result<(), String> {
    use workflow_asl::jsonata::{Expression, Scope};
    let input: Option<Value> = match input.map(serde_json::from_str).transpose() {
        Ok(v) => v,
        // Inputs are the suite's own and read by `load`: not a mutant's fault.
        Err(_) => return Ok(()),
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut scope = Scope::new();
        scope.set_time_limit_ms(EVAL_TIME_LIMIT_MS);
        let _ = Expression::parse(expr).and_then(|e| e.evaluate(input.as_ref(), &scope));
    }))
    .map_err(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        format!("panicked: {what}")
    })
}

#[test]
fn mutated_suite_expressions_never_crash_eval() {
    let Some(dir) = suite_dir() else { return };
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cases, _) = load(&dir, tmp.path());
    let mut rng = Rng(0x5EED);
    let mutants: Vec<(String, Option<String>)> = cases
        .iter()
        .map(|c| (mutate(&c.expr, &mut rng), c.input.clone()))
        .collect();
    let crashes = Mutex::new(Vec::new());
    // The in-process evaluations run on threads with the stack of a process's main thread (8 MiB),
    // so that a deep expression meets the same limits as in `workflow eval`.
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            std::thread::Builder::new()
                .stack_size(8 << 20)
                .spawn_scoped(s, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((expr, input)) = mutants.get(i) else {
                        break;
                    };
                    let verdict = if i % MUTANT_PROCESS_EVERY == 0 {
                        let (status, stdout) = eval(expr, input.as_deref(), None);
                        let one_object = serde_json::from_str::<Value>(stdout.trim())
                            .is_ok_and(|v| v.is_object());
                        if matches!(status, Some(0) | Some(1)) && one_object {
                            Ok(())
                        } else {
                            Err(format!("exit {status:?}, stdout {stdout}"))
                        }
                    } else {
                        eval_in_process(expr, input.as_deref())
                    };
                    if let Err(why) = verdict {
                        crashes.lock().unwrap().push(format!("`{expr}`: {why}"));
                    }
                })
                .expect("a thread starts");
        }
    });
    let crashes = crashes.into_inner().unwrap();
    println!(
        "{} mutated expressions evaluated ({} through `workflow eval` processes), {} crashes",
        mutants.len(),
        mutants.len().div_ceil(MUTANT_PROCESS_EVERY),
        crashes.len()
    );
    assert!(crashes.is_empty(), "crashes:\n{}", crashes.join("\n"));
}
