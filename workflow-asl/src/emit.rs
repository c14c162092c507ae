//! Writing the [`crate::model`] back to JSON, in a canonical field order.
//!
//! Parsing then emitting is lossless: every field read (including unknown ones kept in `extra`)
//! is written back with the value it had.

use serde_json::{Map, Value};

use crate::model::*;

/// The canonical JSON of a state machine.
///
/// ```
/// use serde_json::json;
///
/// let machine = workflow_asl::load(r#"{"States": {"A": {"End": true, "Type": "Pass"}}, "StartAt": "A"}"#).unwrap();
/// // Canonical field order, whatever order the text had.
/// let v = workflow_asl::emit::machine_to_value(&machine);
/// assert_eq!(v.to_string(), r#"{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}"#);
/// assert_eq!(v, json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}));
/// ```
pub fn machine_to_value(m: &StateMachine) -> Value {
    let mut o = Map::new();
    put_str(&mut o, "Comment", &m.comment);
    put_str(&mut o, "Version", &m.version);
    if let Some(q) = m.query_language {
        o.insert("QueryLanguage".into(), q.as_str().into());
    }
    if let Some(n) = &m.timeout_seconds {
        o.insert("TimeoutSeconds".into(), Value::Number(n.clone()));
    }
    o.insert("StartAt".into(), m.start_at.clone().into());
    o.insert("States".into(), states_to_value(&m.states));
    extend(&mut o, &m.extra);
    Value::Object(o)
}

/// The canonical JSON text of a state machine, indented by two spaces.
///
/// ```
/// let machine = workflow_asl::load(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#).unwrap();
/// let text = workflow_asl::emit::machine_to_string_pretty(&machine);
/// assert_eq!(text, "{\n  \"StartAt\": \"A\",\n  \"States\": {\n    \"A\": {\n      \"Type\": \"Succeed\"\n    }\n  }\n}");
/// ```
pub fn machine_to_string_pretty(m: &StateMachine) -> String {
    // Serialising a `Value` cannot fail: all keys are strings.
    serde_json::to_string_pretty(&machine_to_value(m)).unwrap_or_default()
}

fn states_to_value(states: &indexmap::IndexMap<String, State>) -> Value {
    Value::Object(
        states
            .iter()
            .map(|(k, s)| (k.clone(), state_to_value(s)))
            .collect(),
    )
}

fn branch_to_value(b: &Branch) -> Value {
    let mut o = Map::new();
    put_str(&mut o, "Comment", &b.comment);
    if let Some(q) = b.query_language {
        o.insert("QueryLanguage".into(), q.as_str().into());
    }
    put(&mut o, "ProcessorConfig", &b.processor_config);
    o.insert("StartAt".into(), b.start_at.clone().into());
    o.insert("States".into(), states_to_value(&b.states));
    extend(&mut o, &b.extra);
    Value::Object(o)
}

/// The canonical JSON of one state.
///
/// ```
/// use serde_json::json;
///
/// let machine = workflow_asl::load(r#"{"StartAt": "W", "States": {"W": {"Seconds": 5, "Type": "Wait", "End": true}}}"#).unwrap();
/// let w = workflow_asl::emit::state_to_value(&machine.states["W"]);
/// assert_eq!(w, json!({"Type": "Wait", "Seconds": 5, "End": true}));
/// ```
pub fn state_to_value(s: &State) -> Value {
    let mut o = Map::new();
    o.insert("Type".into(), s.kind.type_name().into());
    let c = &s.common;
    put_str(&mut o, "Comment", &c.comment);
    if let Some(q) = c.query_language {
        o.insert("QueryLanguage".into(), q.as_str().into());
    }
    put_path(&mut o, "InputPath", &c.input_path);
    match &s.kind {
        StateKind::Task(t) => {
            o.insert("Resource".into(), t.resource.clone().into());
            result_fields_head(&mut o, &t.result);
            put(&mut o, "TimeoutSeconds", &t.timeout_seconds);
            put_str(&mut o, "TimeoutSecondsPath", &t.timeout_seconds_path);
            put(&mut o, "HeartbeatSeconds", &t.heartbeat_seconds);
            put_str(&mut o, "HeartbeatSecondsPath", &t.heartbeat_seconds_path);
            put(&mut o, "Credentials", &t.credentials);
            result_fields_tail(&mut o, &t.result);
            errors(&mut o, &t.errors);
        }
        StateKind::Pass(p) => {
            put(&mut o, "Parameters", &p.parameters);
            put(&mut o, "Result", &p.result);
            put_path(&mut o, "ResultPath", &p.result_path);
        }
        StateKind::Choice(ch) => {
            o.insert(
                "Choices".into(),
                Value::Array(ch.choices.iter().map(rule_to_value).collect()),
            );
            put_str(&mut o, "Default", &ch.default);
        }
        StateKind::Wait(w) => {
            put(&mut o, "Seconds", &w.seconds);
            put_str(&mut o, "Timestamp", &w.timestamp);
            put_str(&mut o, "SecondsPath", &w.seconds_path);
            put_str(&mut o, "TimestampPath", &w.timestamp_path);
        }
        StateKind::Succeed => {}
        StateKind::Fail(f) => {
            put_str(&mut o, "Error", &f.error);
            put_str(&mut o, "ErrorPath", &f.error_path);
            put_str(&mut o, "Cause", &f.cause);
            put_str(&mut o, "CausePath", &f.cause_path);
        }
        StateKind::Parallel(p) => {
            o.insert(
                "Branches".into(),
                Value::Array(p.branches.iter().map(branch_to_value).collect()),
            );
            result_fields_head(&mut o, &p.result);
            result_fields_tail(&mut o, &p.result);
            errors(&mut o, &p.errors);
        }
        StateKind::Map(m) => {
            put_str(&mut o, "ItemsPath", &m.items_path);
            put(&mut o, "Items", &m.items);
            put(&mut o, "ItemReader", &m.item_reader);
            put(&mut o, "ItemSelector", &m.item_selector);
            put(&mut o, "ItemBatcher", &m.item_batcher);
            if let Some(p) = &m.processor {
                let key = match m.processor_key {
                    ProcessorKey::ItemProcessor => "ItemProcessor",
                    ProcessorKey::Iterator => "Iterator",
                };
                o.insert(key.into(), branch_to_value(p));
            }
            put(&mut o, "MaxConcurrency", &m.max_concurrency);
            put_str(&mut o, "MaxConcurrencyPath", &m.max_concurrency_path);
            put(
                &mut o,
                "ToleratedFailurePercentage",
                &m.tolerated_failure_percentage,
            );
            put_str(
                &mut o,
                "ToleratedFailurePercentagePath",
                &m.tolerated_failure_percentage_path,
            );
            put(&mut o, "ToleratedFailureCount", &m.tolerated_failure_count);
            put_str(
                &mut o,
                "ToleratedFailureCountPath",
                &m.tolerated_failure_count_path,
            );
            put_str(&mut o, "Label", &m.label);
            put(&mut o, "ResultWriter", &m.result_writer);
            result_fields_head(&mut o, &m.result);
            result_fields_tail(&mut o, &m.result);
            errors(&mut o, &m.errors);
        }
    }
    put_path(&mut o, "OutputPath", &c.output_path);
    put(&mut o, "Output", &c.output);
    put(&mut o, "Assign", &c.assign);
    if let Some(t) = s.transition() {
        put_str(&mut o, "Next", &t.next);
        if let Some(e) = t.end {
            o.insert("End".into(), e.into());
        }
    }
    extend(&mut o, &c.extra);
    Value::Object(o)
}

fn result_fields_head(o: &mut Map<String, Value>, r: &ResultFields) {
    put(o, "Parameters", &r.parameters);
    put(o, "Arguments", &r.arguments);
}

fn result_fields_tail(o: &mut Map<String, Value>, r: &ResultFields) {
    put(o, "ResultSelector", &r.result_selector);
    put_path(o, "ResultPath", &r.result_path);
}

fn errors(o: &mut Map<String, Value>, e: &ErrorHandling) {
    if e.has_retry || !e.retry.is_empty() {
        o.insert(
            "Retry".into(),
            Value::Array(e.retry.iter().map(retrier_to_value).collect()),
        );
    }
    if e.has_catch || !e.catch.is_empty() {
        o.insert(
            "Catch".into(),
            Value::Array(e.catch.iter().map(catcher_to_value).collect()),
        );
    }
}

fn retrier_to_value(r: &Retrier) -> Value {
    let mut o = Map::new();
    o.insert("ErrorEquals".into(), strings(&r.error_equals));
    put_num(&mut o, "IntervalSeconds", &r.interval_seconds);
    put_num(&mut o, "MaxAttempts", &r.max_attempts);
    put_num(&mut o, "BackoffRate", &r.backoff_rate);
    put_num(&mut o, "MaxDelaySeconds", &r.max_delay_seconds);
    put_str(&mut o, "JitterStrategy", &r.jitter_strategy);
    put_str(&mut o, "Comment", &r.comment);
    extend(&mut o, &r.extra);
    Value::Object(o)
}

fn catcher_to_value(c: &Catcher) -> Value {
    let mut o = Map::new();
    o.insert("ErrorEquals".into(), strings(&c.error_equals));
    put_path(&mut o, "ResultPath", &c.result_path);
    put(&mut o, "Output", &c.output);
    put(&mut o, "Assign", &c.assign);
    put_str(&mut o, "Comment", &c.comment);
    put_str(&mut o, "Next", &c.next);
    extend(&mut o, &c.extra);
    Value::Object(o)
}

/// The JSON of a Choice rule.
///
/// ```
/// use serde_json::json;
/// use workflow_asl::model::StateKind;
///
/// let machine = workflow_asl::load(r#"{"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D",
///   "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Next": "D"}]}, "D": {"Type": "Succeed"}}}"#).unwrap();
/// let StateKind::Choice(c) = &machine.states["C"].kind else { unreachable!() };
/// assert_eq!(workflow_asl::emit::rule_to_value(&c.choices[0]), json!({"Variable": "$.n", "NumericEquals": 1, "Next": "D"}));
/// ```
pub fn rule_to_value(r: &ChoiceRule) -> Value {
    let mut o = Map::new();
    for (k, v) in condition_fields(&r.condition) {
        o.insert(k, v);
    }
    put_str(&mut o, "Comment", &r.comment);
    put(&mut o, "Output", &r.output);
    put(&mut o, "Assign", &r.assign);
    put_str(&mut o, "Next", &r.next);
    extend(&mut o, &r.extra);
    Value::Object(o)
}

/// The fields that express a condition (`Variable` + operator, `And`, `Condition`, …).
pub(crate) fn condition_fields(c: &Condition) -> Vec<(String, Value)> {
    match c {
        Condition::And(rules) => vec![(
            "And".into(),
            Value::Array(rules.iter().map(rule_to_value).collect()),
        )],
        Condition::Or(rules) => vec![(
            "Or".into(),
            Value::Array(rules.iter().map(rule_to_value).collect()),
        )],
        Condition::Not(rule) => vec![("Not".into(), rule_to_value(rule))],
        Condition::Compare {
            variable,
            op,
            operand,
        } => vec![
            ("Variable".into(), variable.clone().into()),
            (op.as_str().into(), operand.clone()),
        ],
        Condition::Jsonata(v) => vec![("Condition".into(), v.clone())],
        Condition::Missing { variable } => variable
            .iter()
            .map(|v| ("Variable".to_owned(), Value::String(v.clone())))
            .collect(),
    }
}

fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::String(s.clone())).collect())
}

fn put(o: &mut Map<String, Value>, key: &str, v: &Option<Value>) {
    if let Some(v) = v {
        o.insert(key.into(), v.clone());
    }
}

fn put_str(o: &mut Map<String, Value>, key: &str, v: &Option<String>) {
    if let Some(v) = v {
        o.insert(key.into(), Value::String(v.clone()));
    }
}

fn put_num(o: &mut Map<String, Value>, key: &str, v: &Option<serde_json::Number>) {
    if let Some(v) = v {
        o.insert(key.into(), Value::Number(v.clone()));
    }
}

fn put_path(o: &mut Map<String, Value>, key: &str, v: &Option<PathField>) {
    match v {
        None => {}
        Some(PathField::Null) => {
            o.insert(key.into(), Value::Null);
        }
        Some(PathField::Path(p)) => {
            o.insert(key.into(), Value::String(p.clone()));
        }
    }
}

fn extend(o: &mut Map<String, Value>, extra: &Extra) {
    for (k, v) in extra {
        o.insert(k.clone(), v.clone());
    }
}
