//! Shared machinery of the executor conformance tests (`tests/it/conformance_executions.rs`,
//! `tests/it/conformance_lambda.rs`): reading the recorded LocalStack cases, running them on the
//! runtime on tokio's paused clock, comparing the outcome with what AWS recorded (modulo the
//! snapshot placeholders where a case says so), and holding the known-failures list to account.
//!
//! The cases are read at run time from `$WORKFLOW_CONFORMANCE_DIR/localstack` (the variable names
//! the `conformance` folder), else from `../shared/conformance/localstack` beside the project;
//! when neither exists the tests print "skipped: …" and pass, except under `CI=true`, where they fail.
//!
//! Environment knobs for working on failures (both optional):
//! - `CONFORMANCE_FILTER=text`: run only the cases whose relative path contains `text`;
//! - `CONFORMANCE_VERBOSE=1`: print every failing case with its mismatch, listed or not.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use workflow::asl::validate::MachineType;
use workflow::runtime::{ExecutionOutcome, RuntimeBuilder, StartOptions};

/// The account the recorded definitions use in their ARNs.
pub const ACCOUNT: &str = "111111111111";
/// The region the recorded definitions use in their ARNs.
pub const REGION: &str = "us-east-1";

/// The `localstack` corpus folder, or `None` when it is not on this machine.
pub fn localstack_dir() -> Option<PathBuf> {
    let conformance = std::env::var_os("WORKFLOW_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"));
    let dir = conformance.join("localstack");
    dir.is_dir().then_some(dir)
}

/// One recorded execution.
#[derive(Debug, Clone)]
pub struct Case {
    /// The path relative to the `localstack` folder (`executions/base/….json`).
    pub rel: String,
    /// The ASL definition.
    pub definition: Value,
    /// The execution input.
    pub input: Value,
    /// `{"status", "output"}` or `{"status", "error", "cause"}` as AWS recorded them.
    pub expected: Value,
    /// The recorded history's event types, when the record has a history.
    pub event_types: Option<Vec<String>>,
    /// The feature tags (`"Map"`, `"jsonata"`, …).
    pub features: Vec<String>,
    /// The extractor's notes (placeholders, the Lambda handler files used, …).
    pub notes: String,
    /// Whether the machine was an EXPRESS one.
    pub express: bool,
    /// Where the record comes from (repository, snapshot file, pytest node id, key).
    pub source: String,
}

impl Case {
    /// Whether the definition uses JSONata.
    pub fn jsonata(&self) -> bool {
        self.features.iter().any(|f| f == "jsonata")
    }

    /// Whether LocalStack's snapshot transformers replaced values in the expected result.
    pub fn placeholders(&self) -> bool {
        self.notes.contains("placeholder")
    }

    /// The expected status (`"SUCCEEDED"`, `"FAILED"`, …).
    pub fn expected_status(&self) -> &str {
        self.expected
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            json_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

/// Every case of a group (`executions`, `needs_lambda_stub`), in path order.
pub fn load_cases(root: &Path, group: &str) -> Result<Vec<Case>, String> {
    let mut files = Vec::new();
    json_files(&root.join(group), &mut files)?;
    let mut cases = Vec::with_capacity(files.len());
    for file in files {
        let rel = file
            .strip_prefix(root)
            .map_err(|e| e.to_string())?
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).map_err(|e| format!("{rel}: {e}"))?;
        let v: Value = serde_json::from_str(&text).map_err(|e| format!("{rel}: {e}"))?;
        let strings = |key: &str| -> Option<Vec<String>> {
            v.get(key)?.as_array().map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
        };
        let mut event_types = strings("expected_event_types");
        let source = v.get("source").and_then(Value::as_str).unwrap_or("");
        if source.contains("reverseOrder[True]") {
            // Recorded with `GetExecutionHistory(reverseOrder=true)`: newest event first.
            if let Some(types) = &mut event_types {
                types.reverse();
            }
        }
        cases.push(Case {
            definition: v.get("definition").cloned().unwrap_or(Value::Null),
            input: v.get("input").cloned().unwrap_or(Value::Null),
            expected: v.get("expected").cloned().unwrap_or(Value::Null),
            event_types,
            features: strings("features").unwrap_or_default(),
            notes: v
                .get("notes")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            express: v.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS"),
            source: source.to_string(),
            rel,
        });
    }
    if let Some(filter) = std::env::var_os("CONFORMANCE_FILTER") {
        let filter = filter.to_string_lossy().into_owned();
        cases.retain(|c| c.rel.contains(&filter));
    }
    Ok(cases)
}

// ===== known failures =====

/// What a line of `known_failures.txt` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selector {
    /// One case, by its relative path.
    Path(String),
    /// Relative paths matching a glob (`*` matches any run of characters, `/` included).
    Glob(String),
    /// Every case whose `features` contain this tag (`feature:jsonata`).
    Feature(String),
}

/// One line of the list.
#[derive(Debug, Clone)]
struct Rule {
    line: usize,
    selector: Selector,
    reason: String,
}

/// `tests/conformance/known_failures.txt`: the cases allowed to fail, each with a reason.
#[derive(Debug, Clone, Default)]
pub struct KnownFailures {
    rules: Vec<Rule>,
}

/// The list's location.
pub fn known_failures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance/known_failures.txt")
}

impl KnownFailures {
    /// Reads the list (see the header of the file for the format).
    pub fn load() -> Result<KnownFailures, String> {
        let path = known_failures_path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        KnownFailures::parse(&text)
    }

    /// Parses the list's text.
    pub fn parse(text: &str) -> Result<KnownFailures, String> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((sel, reason)) = line.split_once(" | ") else {
                return Err(format!(
                    "known_failures.txt:{}: expected `<case> | <reason>`",
                    i + 1
                ));
            };
            let (sel, reason) = (sel.trim(), reason.trim());
            if reason.is_empty() {
                return Err(format!("known_failures.txt:{}: empty reason", i + 1));
            }
            let selector = if let Some(f) = sel.strip_prefix("feature:") {
                Selector::Feature(f.to_string())
            } else if sel.contains('*') {
                Selector::Glob(sel.to_string())
            } else {
                Selector::Path(sel.to_string())
            };
            rules.push(Rule {
                line: i + 1,
                selector,
                reason: reason.to_string(),
            });
        }
        Ok(KnownFailures { rules })
    }

    /// The first rule that lists a case: its line number and reason.
    fn lookup(&self, case: &Case) -> Option<&Rule> {
        self.rules.iter().find(|r| match &r.selector {
            Selector::Path(p) => *p == case.rel,
            Selector::Glob(g) => glob(g, &case.rel),
            Selector::Feature(f) => case.features.iter().any(|x| x == f),
        })
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| glob(rest, &tail[i..]))
        }
    }
}

// ===== comparison modulo placeholders =====

/// Whole values LocalStack's snapshot transformers substitute, and what they stand for.
const WILDCARDS: &[(&str, Kind)] = &[
    ("date", Kind::Any),
    ("start-time", Kind::String),
    ("entered-time", Kind::String),
    ("timestamp", Kind::String),
    ("snf_role_arn", Kind::String),
    ("sfn_role_arn", Kind::String),
    ("lambda_function_name", Kind::String),
    ("RandomNumberGenerated", Kind::Number),
    ("x-amzn-RequestId", Kind::Any),
    ("X-Amzn-Trace-Id", Kind::Any),
    ("RequestId", Kind::Any),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    String,
    Number,
    Any,
}

/// A piece of an expected string: literal text, or a `<name>` placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Lit(String),
    Hole(String),
}

/// Splits an expected string into literal text and `<name>` placeholders.
fn segments(s: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')))
            .unwrap_or(after.len());
        if name_len > 0 && after[name_len..].starts_with('>') {
            lit.push_str(&rest[..open]);
            if !lit.is_empty() {
                out.push(Seg::Lit(std::mem::take(&mut lit)));
            }
            out.push(Seg::Hole(after[..name_len].to_string()));
            rest = &after[name_len + 1..];
        } else {
            lit.push_str(&rest[..=open]);
            rest = after;
        }
    }
    lit.push_str(rest);
    if !lit.is_empty() {
        out.push(Seg::Lit(lit));
    }
    out
}

/// Whether a placeholder stands for one value throughout a record (`<uuid:1>`, `<ArnPart_0idx>`):
/// LocalStack numbers those per distinct value. Unnumbered ones (`<region>`, `<timestamp>`) may
/// stand for different values.
fn numbered(name: &str) -> bool {
    name.ends_with("idx")
        || name
            .rsplit_once(':')
            .is_some_and(|(_, n)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Compares an actual value with an expected one, optionally modulo placeholders; numbered
/// placeholders must stand for the same text everywhere in one record.
#[derive(Debug, Default)]
pub struct Matcher {
    placeholders: bool,
    bindings: HashMap<String, String>,
}

impl Matcher {
    /// A matcher; with `placeholders`, `<name>` holes and the known substituted values match.
    pub fn new(placeholders: bool) -> Matcher {
        Matcher {
            placeholders,
            bindings: HashMap::new(),
        }
    }

    /// `Ok` when `actual` matches `expected`, else where and how they differ.
    pub fn value(&mut self, expected: &Value, actual: &Value, at: &str) -> Result<(), String> {
        let differ = || {
            Err(format!(
                "at {at}: expected {}, got {}",
                clip(&expected.to_string()),
                clip(&actual.to_string())
            ))
        };
        if self.placeholders {
            if let Value::String(s) = expected {
                if let Some((_, kind)) = WILDCARDS.iter().find(|(w, _)| w == s) {
                    let ok = match kind {
                        Kind::String => actual.is_string(),
                        Kind::Number => actual.is_number(),
                        Kind::Any => true,
                    };
                    return if ok { Ok(()) } else { differ() };
                }
                if let Value::String(a) = actual {
                    return if self.text(s, a) { Ok(()) } else { differ() };
                }
            }
        }
        match (expected, actual) {
            (Value::Object(e), Value::Object(a)) => {
                for (k, ev) in e {
                    match a.get(k) {
                        Some(av) => self.value(ev, av, &format!("{at}.{k}"))?,
                        None => return Err(format!("at {at}: missing key `{k}`")),
                    }
                }
                if let Some(k) = a.keys().find(|k| !e.contains_key(*k)) {
                    return Err(format!(
                        "at {at}: unexpected key `{k}` = {}",
                        clip(&a[k.as_str()].to_string())
                    ));
                }
                Ok(())
            }
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
                for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                    self.value(ev, av, &format!("{at}[{i}]"))?;
                }
                Ok(())
            }
            (e, a) if e == a => Ok(()),
            _ => differ(),
        }
    }

    /// Whether an actual string matches an expected one (literally, or with its placeholders).
    pub fn text(&mut self, expected: &str, actual: &str) -> bool {
        if !self.placeholders {
            return expected == actual;
        }
        let segs = segments(expected);
        let mut bindings = self.bindings.clone();
        if match_segs(&segs, actual, &mut bindings) {
            self.bindings = bindings;
            true
        } else {
            false
        }
    }
}

fn match_segs(segs: &[Seg], s: &str, b: &mut HashMap<String, String>) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return s.is_empty();
    };
    match first {
        Seg::Lit(l) => s
            .strip_prefix(l.as_str())
            .is_some_and(|tail| match_segs(rest, tail, b)),
        Seg::Hole(name) => {
            let bind = numbered(name);
            if bind {
                if let Some(v) = b.get(name).cloned() {
                    return s
                        .strip_prefix(v.as_str())
                        .is_some_and(|tail| match_segs(rest, tail, b));
                }
            }
            let next_lit = match rest.first() {
                Some(Seg::Lit(l)) => Some(l.as_str()),
                _ => None,
            };
            for end in 1..=s.len() {
                if !s.is_char_boundary(end) {
                    continue;
                }
                if let Some(l) = next_lit {
                    if !s[end..].starts_with(l) {
                        continue;
                    }
                }
                let mut attempt = b.clone();
                if bind {
                    attempt.insert(name.clone(), s[..end].to_string());
                }
                if match_segs(rest, &s[end..], &mut attempt) {
                    *b = attempt;
                    return true;
                }
            }
            false
        }
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 400;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

// ===== Python's view of JSON (the recordings were made by Python tests) =====

/// `json.dumps(v)` as Python writes it: `", "` and `": "` separators, non-ASCII escaped.
pub fn python_json(v: &Value) -> String {
    let mut out = String::new();
    write_python_json(v, false, &mut out);
    out
}

/// `json.dumps(v, sort_keys=True)`.
pub fn python_json_sorted(v: &Value) -> String {
    let mut out = String::new();
    write_python_json(v, true, &mut out);
    out
}

fn write_python_json(v: &Value, sort: bool, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&python_number(n)),
        Value::String(s) => write_python_string(s, out),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_json(x, sort, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            let mut entries: Vec<(&String, &Value)> = o.iter().collect();
            if sort {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (i, (k, x)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_string(k, out);
                out.push_str(": ");
                write_python_json(x, sort, out);
            }
            out.push('}');
        }
    }
}

fn write_python_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as Python's `repr`: floats keep a fraction (`0.0`) and write exponents as `1e+16`.
pub fn python_number(n: &serde_json::Number) -> String {
    if !n.is_f64() {
        return n.to_string();
    }
    let s = n.to_string();
    match s.split_once('e') {
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp.trim_start_matches('+')),
            };
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None if s.contains('.') => s,
        None => format!("{s}.0"),
    }
}

// ===== LocalStack's normalisation of Parallel histories =====

/// The LocalStack tests whose recorded history went through `SfnNoneRecursiveParallelTransformer`
/// (LocalStack `tests/aws/services/stepfunctions/conftest.py`), by pytest node id fragment.
/// That transformer makes the events of a Parallel state order-independent: it sorts the events
/// between `ParallelStateStarted` and the next Parallel end event by their JSON text, and (it
/// keeps its last sub-list and start index) re-applies that sort at every later Parallel end
/// event, which drops events in nested Parallels. The actual history is put through the same
/// steps before the event types are compared.
const PARALLEL_NORMALISED: &[&str] = &[
    "::test_base_parallel_cases[",
    "::test_parallel_state[",
    "::test_parallel_state_order ",
    "::test_parallel_state_nested ",
    "::test_parallel_state_lambda ",
    "::test_parallel_catch_error[",
];

/// Whether a case's recording was normalised by LocalStack's Parallel transformer.
fn parallel_normalised(source: &str) -> bool {
    PARALLEL_NORMALISED.iter().any(|t| source.contains(t))
}

/// The JSON text LocalStack sorts Parallel events by: the event as the snapshot holds it (keys
/// sorted, `input`/`output` JSON text parsed), with `id` `[0]` and `previousEventId` `0`.
fn parallel_sort_key(event: &Value) -> String {
    let mut e = event.clone();
    if let Value::Object(o) = &mut e {
        o.insert("id".into(), serde_json::json!([0]));
        o.insert("previousEventId".into(), 0.into());
        for (_, details) in o.iter_mut() {
            if let Value::Object(d) = details {
                for key in ["input", "output"] {
                    if let Some(Value::String(text)) = d.get(key) {
                        if let Ok(parsed) = serde_json::from_str::<Value>(text) {
                            d.insert(key.into(), parsed);
                        }
                    }
                }
            }
        }
    }
    python_json_sorted(&e)
}

/// `SfnNoneRecursiveParallelTransformer._normalise_events`, step for step (including how
/// Python's `enumerate` walks a list that the slice assignment shortens).
fn normalise_parallel_events(events: &mut Vec<Value>) {
    const ENDS: &[&str] = &[
        "ParallelStateSucceeded",
        "ParallelStateAborted",
        "ParallelStateExited",
        "ParallelStateFailed",
    ];
    let mut start: Option<usize> = None;
    let mut sublist: Vec<Value> = Vec::new();
    let mut in_sublist = false;
    let mut i = 0;
    while i < events.len() {
        let ty = events[i].get("type").and_then(Value::as_str).unwrap_or("");
        if ENDS.contains(&ty) {
            let mut sorted = sublist.clone();
            sorted.sort_by_cached_key(parallel_sort_key);
            let from = start.unwrap_or(0).min(i);
            events.splice(from..i, sorted);
            in_sublist = false;
        } else if ty == "ParallelStateStarted" {
            in_sublist = true;
            sublist.clear();
            start = Some(i + 1);
        } else if in_sublist {
            sublist.push(events[i].clone());
        }
        i += 1;
    }
}

// ===== running and judging =====

/// What the runtime did with a case.
#[derive(Debug, Clone)]
pub struct Actual {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT`, `ABORTED`, or why the case could not run.
    pub status: String,
    /// The output, when it succeeded.
    pub output: Option<Value>,
    /// The error name.
    pub error: Option<String>,
    /// The cause.
    pub cause: Option<String>,
    /// The history's event types.
    pub event_types: Vec<String>,
    /// The history, as AWS's JSON events.
    pub events: Vec<Value>,
}

impl Actual {
    fn from_outcome(o: &ExecutionOutcome) -> Actual {
        Actual {
            status: o.status.as_str().to_string(),
            output: o.output.clone(),
            error: o.error.clone(),
            cause: o.cause.clone(),
            event_types: o.event_types().into_iter().map(str::to_string).collect(),
            events: o.history.iter().map(|e| e.to_aws_json()).collect(),
        }
    }

    fn not_run(why: String) -> Actual {
        Actual {
            status: format!("NOT RUN ({why})"),
            output: None,
            error: None,
            cause: None,
            event_types: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// How a case compared.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// Status, output, error and cause.
    pub result: Result<(), String>,
    /// The event-type sequence, when the case records one.
    pub events: Option<Result<(), String>>,
}

impl Verdict {
    /// Whether everything compared equal.
    pub fn passed(&self) -> bool {
        self.result.is_ok() && !matches!(self.events, Some(Err(_)))
    }

    /// The first mismatch.
    pub fn problem(&self) -> String {
        let mut s = String::new();
        if let Err(e) = &self.result {
            s.push_str(e);
        }
        if let Some(Err(e)) = &self.events {
            if !s.is_empty() {
                s.push_str("; ");
            }
            s.push_str(e);
        }
        s
    }
}

/// Compares what the runtime did with what AWS recorded.
pub fn judge(case: &Case, actual: &Actual) -> Verdict {
    let mut m = Matcher::new(case.placeholders());
    let result = (|| -> Result<(), String> {
        let status = case.expected_status();
        if actual.status != status {
            return Err(format!(
                "status: expected {status}, got {} (error {:?}, cause {:?})",
                actual.status,
                actual.error,
                actual.cause.as_deref().map(clip)
            ));
        }
        if status == "SUCCEEDED" {
            let expected = case.expected.get("output").unwrap_or(&Value::Null);
            let got = actual.output.as_ref().unwrap_or(&Value::Null);
            m.value(expected, got, "$")
                .map_err(|e| format!("output {e}"))?;
            return Ok(());
        }
        match (case.expected.get("error"), &actual.error) {
            (None, None) => {}
            (Some(Value::String(e)), Some(a)) if m.text(e, a) => {}
            (e, a) => {
                return Err(format!(
                    "error: expected {}, got {a:?}",
                    e.map(Value::to_string).unwrap_or_else(|| "none".into())
                ))
            }
        }
        match (case.expected.get("cause"), &actual.cause) {
            (None, None) => Ok(()),
            (Some(Value::String(e)), Some(a)) if m.text(e, a) => Ok(()),
            // The snapshot stored a JSON cause parsed.
            (Some(e @ (Value::Object(_) | Value::Array(_))), Some(a)) => {
                let parsed: Value = serde_json::from_str(a).map_err(|_| {
                    format!("cause: expected JSON {}, got {a:?}", clip(&e.to_string()))
                })?;
                m.value(e, &parsed, "cause")
                    .map_err(|d| format!("cause {d}"))
            }
            (e, a) => Err(format!(
                "cause: expected {}, got {}",
                e.map(|v| clip(&v.to_string()))
                    .unwrap_or_else(|| "none".into()),
                a.as_deref()
                    .map(|c| clip(&format!("{c:?}")))
                    .unwrap_or_else(|| "none".into())
            )),
        }
    })();
    let events = case.event_types.as_ref().map(|expected| {
        let normalised: Vec<String>;
        let got: &Vec<String> = if parallel_normalised(&case.source) {
            let mut events = actual.events.clone();
            normalise_parallel_events(&mut events);
            normalised = events
                .iter()
                .map(|e| {
                    e.get("type")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            &normalised
        } else {
            &actual.event_types
        };
        if expected == got {
            return Ok(());
        }
        let at = expected
            .iter()
            .zip(got.iter())
            .position(|(e, a)| e != a)
            .unwrap_or(expected.len().min(got.len()));
        let window = |v: &[String]| -> String {
            v.iter()
                .skip(at.saturating_sub(1))
                .take(4)
                .cloned()
                .collect::<Vec<_>>()
                .join(",")
        };
        Err(format!(
            "event types differ at #{} (expected {} events, got {}): expected [{}], got [{}]",
            at + 1,
            expected.len(),
            got.len(),
            window(expected),
            window(got)
        ))
    });
    Verdict { result, events }
}

/// A fixed execution start (2024-01-01T00:00:00Z) so that runs are reproducible.
const START_MS: i64 = 1_704_067_200_000;
/// The seed of every run.
const SEED: u64 = 20_240_101;
/// Virtual time allowed per execution before it counts as hung (ten years: waits in the
/// corpus are at most minutes, or absolute timestamps a few years ahead of `START_MS`).
const HANG: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Runs one case on `builder` (already holding the case's handlers).
async fn run_case(case: &Case, builder: RuntimeBuilder) -> Actual {
    let text = case.definition.to_string();
    let machine = match workflow::asl::parse_str(&text) {
        Ok(p) => match p.machine {
            Some(m) => m,
            None => return Actual::not_run("the definition is not an object".into()),
        },
        Err(d) => return Actual::not_run(format!("unreadable definition: {}", d.message)),
    };
    let start =
        chrono::DateTime::from_timestamp_millis(START_MS).expect("a valid constant instant");
    let runtime = builder
        .seed(SEED)
        .start_time(start)
        .region_account(REGION, ACCOUNT)
        .build();
    let program = match runtime.program(&machine) {
        Ok(p) => p,
        Err(e) => return Actual::not_run(format!("did not compile: {e}")),
    };
    let machine_type = if case.express {
        MachineType::Express
    } else {
        MachineType::Standard
    };
    let options = StartOptions::new().machine_type(machine_type);
    let execution = match runtime.start(&program, case.input.clone(), options) {
        Ok(x) => x,
        Err(e) => return Actual::not_run(format!("did not start: {e}")),
    };
    if case.expected_status() == "ABORTED" {
        // The recorded test stops the execution while it waits.
        tokio::time::sleep(Duration::from_secs(1)).await;
        execution.stop();
    }
    match tokio::time::timeout(HANG, execution.wait()).await {
        Ok(outcome) => Actual::from_outcome(&outcome),
        Err(_) => Actual::not_run("still running after ten years of virtual time".into()),
    }
}

/// The results of one group.
#[derive(Debug)]
pub struct GroupRun {
    /// The group (`executions`, `needs_lambda_stub`).
    pub group: String,
    /// Each case with its verdict.
    pub results: Vec<(Case, Actual, Verdict)>,
}

/// Runs every case of `group` on tokio's paused clock; `setup` gives each case its runtime
/// builder (with handlers). `None` when the corpus is absent.
pub fn run_group(group: &str, setup: &dyn Fn(&Case) -> RuntimeBuilder) -> Option<GroupRun> {
    let Some(root) = localstack_dir() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the conformance corpus is missing under CI=true (set WORKFLOW_CONFORMANCE_DIR or place \
             it at ../shared/conformance)"
        );
        println!(
            "skipped: the conformance corpus is not on this machine (set WORKFLOW_CONFORMANCE_DIR \
             to the `conformance` folder, or place it at ../shared/conformance)"
        );
        return None;
    };
    let cases = load_cases(&root, group).unwrap_or_else(|e| panic!("reading the corpus: {e}"));
    assert!(
        !cases.is_empty() || std::env::var_os("CONFORMANCE_FILTER").is_some(),
        "no cases in {group}"
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a tokio runtime");
    let mut results = Vec::with_capacity(cases.len());
    for case in cases {
        let builder = setup(&case);
        let actual = rt.block_on(async {
            let c = case.clone();
            // A panic in the runtime becomes this case's failure, not the whole suite's.
            match tokio::spawn(async move { run_case(&c, builder).await }).await {
                Ok(a) => a,
                Err(e) => Actual::not_run(format!("panicked: {e}")),
            }
        });
        let verdict = judge(&case, &actual);
        results.push((case, actual, verdict));
    }
    Some(GroupRun {
        group: group.to_string(),
        results,
    })
}

fn rate(pass: usize, total: usize) -> String {
    if total == 0 {
        return "0/0".into();
    }
    format!(
        "{pass}/{total} ({:.1}%)",
        100.0 * pass as f64 / total as f64
    )
}

impl GroupRun {
    /// Prints the pass rates, then asserts that every failure is listed in `known` and that
    /// nothing listed passes.
    pub fn report_and_check(&self, known: &KnownFailures) {
        let verbose = std::env::var_os("CONFORMANCE_VERBOSE").is_some();
        let count = |f: &dyn Fn(&Case) -> bool| -> (usize, usize) {
            let sel: Vec<_> = self.results.iter().filter(|(c, _, _)| f(c)).collect();
            let pass = sel.iter().filter(|(_, _, v)| v.passed()).count();
            (pass, sel.len())
        };
        let (jp_pass, jp_total) = count(&|c| !c.jsonata());
        let (ja_pass, ja_total) = count(&|c| c.jsonata());
        let (all_pass, all_total) = count(&|_| true);
        let with_events: Vec<_> = self
            .results
            .iter()
            .filter(|(_, _, v)| v.events.is_some())
            .collect();
        let ev_pass = with_events
            .iter()
            .filter(|(_, _, v)| matches!(v.events, Some(Ok(()))))
            .count();
        let jp_events: Vec<_> = with_events
            .iter()
            .filter(|(c, _, _)| !c.jsonata())
            .collect();
        let jp_ev_pass = jp_events
            .iter()
            .filter(|(_, _, v)| matches!(v.events, Some(Ok(()))))
            .count();
        let result_pass = self
            .results
            .iter()
            .filter(|(c, _, v)| !c.jsonata() && v.result.is_ok())
            .count();
        println!("== conformance: {} ==", self.group);
        println!(
            "  JSONPath cases passed:         {}",
            rate(jp_pass, jp_total)
        );
        println!(
            "    (status/output/error/cause:  {})",
            rate(result_pass, jp_total)
        );
        println!(
            "  JSONata cases passed:          {}",
            rate(ja_pass, ja_total)
        );
        println!(
            "  all cases passed:              {}",
            rate(all_pass, all_total)
        );
        println!(
            "  event-type sequences matched:  {} (JSONPath: {})",
            rate(ev_pass, with_events.len()),
            rate(jp_ev_pass, jp_events.len())
        );

        let mut unexpected = Vec::new();
        let mut listed_but_pass = Vec::new();
        let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
        for (case, actual, verdict) in &self.results {
            let rule = known.lookup(case);
            match (verdict.passed(), rule) {
                (true, None) => {}
                (true, Some(r)) => listed_but_pass.push(format!(
                    "{} (known_failures.txt:{}: {})",
                    case.rel, r.line, r.reason
                )),
                (false, Some(r)) => {
                    *by_reason.entry(r.reason.as_str()).or_default() += 1;
                    if verbose {
                        println!("  known  {}: {}", case.rel, verdict.problem());
                    }
                }
                (false, None) => {
                    let mut s = format!("{}: {}", case.rel, verdict.problem());
                    if verbose {
                        let _ = write!(s, "\n      actual events: {:?}", actual.event_types);
                    }
                    unexpected.push(s);
                }
            }
        }
        // Path rules for this group must name cases that exist (unless a filter is set).
        let mut stale = Vec::new();
        if std::env::var_os("CONFORMANCE_FILTER").is_none() {
            for r in &known.rules {
                if let Selector::Path(p) = &r.selector {
                    if p.starts_with(&format!("{}/", self.group))
                        && !self.results.iter().any(|(c, _, _)| c.rel == *p)
                    {
                        stale.push(format!("known_failures.txt:{}: no case {p}", r.line));
                    }
                }
            }
        }
        println!("  known failures by reason:");
        for (reason, n) in &by_reason {
            println!("    {n:>4}  {reason}");
        }
        let mut msg = String::new();
        if !unexpected.is_empty() {
            let _ = writeln!(
                msg,
                "{} case(s) failed that are not in known_failures.txt:",
                unexpected.len()
            );
            for u in &unexpected {
                let _ = writeln!(msg, "  {u}");
            }
        }
        if !listed_but_pass.is_empty() {
            let _ = writeln!(
                msg,
                "{} case(s) listed in known_failures.txt now pass; remove them:",
                listed_but_pass.len()
            );
            for u in &listed_but_pass {
                let _ = writeln!(msg, "  {u}");
            }
        }
        for s in &stale {
            let _ = writeln!(msg, "  {s}");
        }
        assert!(msg.is_empty(), "{msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn placeholders_match_consistently() {
        let cases: &[(&str, &str, bool)] = &[
            (
                "arn:<partition>:states:<region>:1:x",
                "arn:aws:states:us-east-1:1:x",
                true,
            ),
            ("<ArnPart_0idx>/<ArnPart_0idx>", "abc/abc", true),
            ("<ArnPart_0idx>/<ArnPart_0idx>", "abc/abd", false),
            (
                "\"requestId\":<request-id>\",",
                "\"requestId\":\"1-2-3\",",
                true,
            ),
            ("a <b", "a <b", true),
            ("no holes", "no holes!", false),
            ("<uuid:1>", "", false),
        ];
        for (e, a, ok) in cases {
            assert_eq!(Matcher::new(true).text(e, a), *ok, "{e} ~ {a}");
        }
        let mut m = Matcher::new(true);
        assert!(m
            .value(
                &json!({"a": "<uuid:1>", "b": ["<uuid:1>"], "d": "date", "r": "RandomNumberGenerated"}),
                &json!({"a": "u", "b": ["u"], "d": "Mon", "r": 3}),
                "$"
            )
            .is_ok());
        assert!(Matcher::new(true)
            .value(
                &json!({"r": "RandomNumberGenerated"}),
                &json!({"r": "x"}),
                "$"
            )
            .is_err());
        assert!(Matcher::new(false)
            .value(&json!({"d": "date"}), &json!({"d": "Mon"}), "$")
            .is_err());
        assert!(Matcher::new(false)
            .value(&json!({"a": 1}), &json!({"a": 1, "b": 2}), "$")
            .is_err());
    }

    #[test]
    fn known_failure_lines() {
        let k = KnownFailures::parse(
            "# comment\n\nfeature:jsonata | JSONata\nexecutions/a/*.json | glob\nexecutions/b/c.json | one\n",
        )
        .expect("valid list");
        assert_eq!(k.rules.len(), 3);
        assert!(KnownFailures::parse("executions/x.json").is_err());
        assert!(glob("executions/a/*.json", "executions/a/x/y.json"));
        assert!(!glob("executions/a/*.json", "executions/b/x.json"));
    }
}
