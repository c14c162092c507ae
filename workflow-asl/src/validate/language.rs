//! Query-language rules: JSONPath-only fields are rejected in JSONata states and JSONata-only
//! fields in JSONPath states, a machine whose top level is JSONata cannot switch a state back to
//! JSONPath, and every JSONata `{% … %}` string is well formed.

use serde_json::Value;

use super::{jsonata, Cx};
use crate::diag::{push_pointer, Code};
use crate::model::{QueryLanguage, State, StateKind};

/// Fields only JSONPath states may have.
const JSONPATH_ONLY: &[&str] = &[
    "InputPath",
    "OutputPath",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "ItemsPath",
    "TimeoutSecondsPath",
    "HeartbeatSecondsPath",
    "SecondsPath",
    "TimestampPath",
    "ErrorPath",
    "CausePath",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCountPath",
];

/// Whether a string is a JSONata expression: it starts with `{%` and ends with `%}`.
pub(crate) fn is_jsonata_expression(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

/// The language rules of one state.
pub(super) fn check_state_language(cx: &mut Cx<'_>, state: &State, ptr: &str, lang: QueryLanguage) {
    if cx.top_lang == QueryLanguage::Jsonata
        && state.common.query_language == Some(QueryLanguage::JsonPath)
    {
        cx.push(
            Code::QueryLanguageMismatch,
            push_pointer(ptr, "QueryLanguage"),
            "the state machine's `QueryLanguage` is \"JSONata\", so its states cannot use \"JSONPath\"; set the top-level `QueryLanguage` to \"JSONPath\" (the default) to mix languages state by state",
        );
    }
    let present = present_fields(state);
    match lang {
        QueryLanguage::Jsonata => {
            for field in present.iter().filter(|f| JSONPATH_ONLY.contains(f)) {
                cx.push(
                    Code::QueryLanguageMismatch,
                    push_pointer(ptr, field),
                    format!(
                        "`{field}` is a JSONPath field and this state uses JSONata; {}",
                        jsonata_replacement(field)
                    ),
                );
            }
            check_jsonata_fields(cx, state, ptr);
        }
        QueryLanguage::JsonPath => {
            for field in present
                .iter()
                .filter(|f| matches!(**f, "Arguments" | "Output" | "Items"))
            {
                cx.push(
                    Code::QueryLanguageMismatch,
                    push_pointer(ptr, field),
                    format!(
                        "`{field}` is a JSONata field and this state uses JSONPath; add `\"QueryLanguage\": \"JSONata\"` to the state (or the machine), or use {}",
                        jsonpath_replacement(field)
                    ),
                );
            }
        }
    }
    // Catchers have their own language fields.
    if let Some(e) = state.error_handling() {
        let base = push_pointer(ptr, "Catch");
        for (i, c) in e.catch.iter().enumerate() {
            let j = cx.raw.object_index(&base, i);
            let cptr = push_pointer(&base, &j.to_string());
            if c.result_path.is_some() {
                require_lang(
                    cx,
                    &push_pointer(&cptr, "ResultPath"),
                    "ResultPath",
                    lang,
                    QueryLanguage::JsonPath,
                );
            }
            if let Some(o) = &c.output {
                let optr = push_pointer(&cptr, "Output");
                require_lang(cx, &optr, "Output", lang, QueryLanguage::Jsonata);
                if lang == QueryLanguage::Jsonata {
                    check_jsonata_strings(cx, o, &optr);
                }
            }
            if let (Some(a), QueryLanguage::Jsonata) = (&c.assign, lang) {
                check_jsonata_strings(cx, a, &push_pointer(&cptr, "Assign"));
            }
        }
    }
}

/// Reports a field used in a state of the wrong language.
pub(super) fn require_lang(
    cx: &mut Cx<'_>,
    ptr: &str,
    field: &str,
    lang: QueryLanguage,
    required: QueryLanguage,
) {
    if lang != required {
        cx.push(
            Code::QueryLanguageMismatch,
            ptr,
            format!(
                "`{field}` is a {} field and this state uses {}",
                required.as_str(),
                lang.as_str()
            ),
        );
    }
}

fn jsonata_replacement(field: &str) -> &'static str {
    match field {
        "Parameters" => "use `Arguments` with `{% … %}` expressions",
        "InputPath" | "ResultSelector" | "OutputPath" => {
            "use `Output` (and `$states.input` / `$states.result`) instead"
        }
        "ResultPath" => "use `Output` or `Assign` instead",
        "ItemsPath" => "use `Items` with a `{% … %}` expression",
        "ErrorPath" | "CausePath" => "give `Error`/`Cause` a `{% … %}` expression instead",
        _ => "give the field without `Path` a `{% … %}` expression instead",
    }
}

fn jsonpath_replacement(field: &str) -> &'static str {
    match field {
        "Arguments" => "`Parameters`",
        "Items" => "`ItemsPath`",
        _ => "`ResultSelector`/`OutputPath`",
    }
}

/// The names of the fields a state has, for the language rules.
fn present_fields(state: &State) -> Vec<&'static str> {
    let c = &state.common;
    let mut out = Vec::new();
    let mut add = |name: &'static str, present: bool| {
        if present {
            out.push(name);
        }
    };
    add("InputPath", c.input_path.is_some());
    add("OutputPath", c.output_path.is_some());
    add("Output", c.output.is_some());
    let result_fields = match &state.kind {
        StateKind::Task(t) => Some(&t.result),
        StateKind::Parallel(p) => Some(&p.result),
        StateKind::Map(m) => Some(&m.result),
        _ => None,
    };
    if let Some(r) = result_fields {
        add("Parameters", r.parameters.is_some());
        add("Arguments", r.arguments.is_some());
        add("ResultSelector", r.result_selector.is_some());
        add("ResultPath", r.result_path.is_some());
    }
    match &state.kind {
        StateKind::Pass(p) => {
            add("Parameters", p.parameters.is_some());
            add("ResultPath", p.result_path.is_some());
        }
        StateKind::Task(t) => {
            add("TimeoutSecondsPath", t.timeout_seconds_path.is_some());
            add("HeartbeatSecondsPath", t.heartbeat_seconds_path.is_some());
        }
        StateKind::Wait(w) => {
            add("SecondsPath", w.seconds_path.is_some());
            add("TimestampPath", w.timestamp_path.is_some());
        }
        StateKind::Fail(f) => {
            add("ErrorPath", f.error_path.is_some());
            add("CausePath", f.cause_path.is_some());
        }
        StateKind::Map(m) => {
            add("ItemsPath", m.items_path.is_some());
            add("Items", m.items.is_some());
            add("MaxConcurrencyPath", m.max_concurrency_path.is_some());
            add(
                "ToleratedFailurePercentagePath",
                m.tolerated_failure_percentage_path.is_some(),
            );
            add(
                "ToleratedFailureCountPath",
                m.tolerated_failure_count_path.is_some(),
            );
        }
        _ => {}
    }
    out
}

/// Checks every `{% … %}` string in the fields a JSONata state evaluates.
fn check_jsonata_fields(cx: &mut Cx<'_>, state: &State, ptr: &str) {
    let c = &state.common;
    let mut fields: Vec<(&str, &Value)> = Vec::new();
    if let Some(v) = &c.output {
        fields.push(("Output", v));
    }
    if let Some(v) = &c.assign {
        fields.push(("Assign", v));
    }
    let mut owned: Vec<(&'static str, Value)> = Vec::new();
    match &state.kind {
        StateKind::Task(t) => {
            if let Some(v) = &t.result.arguments {
                fields.push(("Arguments", v));
            }
            if let Some(v) = &t.timeout_seconds {
                fields.push(("TimeoutSeconds", v));
            }
            if let Some(v) = &t.heartbeat_seconds {
                fields.push(("HeartbeatSeconds", v));
            }
            if let Some(v) = &t.credentials {
                fields.push(("Credentials", v));
            }
        }
        StateKind::Parallel(p) => {
            if let Some(v) = &p.result.arguments {
                fields.push(("Arguments", v));
            }
        }
        StateKind::Map(m) => {
            for (name, v) in [
                ("Arguments", &m.result.arguments),
                ("Items", &m.items),
                ("ItemSelector", &m.item_selector),
                ("ItemReader", &m.item_reader),
                ("ItemBatcher", &m.item_batcher),
                ("ResultWriter", &m.result_writer),
                ("MaxConcurrency", &m.max_concurrency),
                (
                    "ToleratedFailurePercentage",
                    &m.tolerated_failure_percentage,
                ),
                ("ToleratedFailureCount", &m.tolerated_failure_count),
            ] {
                if let Some(v) = v {
                    fields.push((name, v));
                }
            }
        }
        StateKind::Wait(w) => {
            if let Some(v) = &w.seconds {
                fields.push(("Seconds", v));
            }
            if let Some(t) = &w.timestamp {
                owned.push(("Timestamp", Value::String(t.clone())));
            }
        }
        StateKind::Fail(f) => {
            if let Some(e) = &f.error {
                owned.push(("Error", Value::String(e.clone())));
            }
            if let Some(e) = &f.cause {
                owned.push(("Cause", Value::String(e.clone())));
            }
        }
        StateKind::Choice(ch) => {
            let base = push_pointer(ptr, "Choices");
            for (i, rule) in ch.choices.iter().enumerate() {
                let j = cx.raw.object_index(&base, i);
                let rptr = push_pointer(&base, &j.to_string());
                if let Some(v) = &rule.output {
                    check_jsonata_strings(cx, v, &push_pointer(&rptr, "Output"));
                }
                if let Some(v) = &rule.assign {
                    check_jsonata_strings(cx, v, &push_pointer(&rptr, "Assign"));
                }
                if let crate::model::Condition::Jsonata(v) = &rule.condition {
                    check_jsonata_strings(cx, v, &push_pointer(&rptr, "Condition"));
                }
            }
        }
        _ => {}
    }
    for (name, v) in fields {
        check_jsonata_strings(cx, v, &push_pointer(ptr, name));
    }
    for (name, v) in &owned {
        check_jsonata_strings(cx, v, &push_pointer(ptr, name));
    }
}

/// Checks every string in a JSON value (walked with an explicit stack): a string that starts with
/// `{%` or ends with `%}` must be a whole, syntactically valid JSONata expression.
pub(super) fn check_jsonata_strings(cx: &mut Cx<'_>, value: &Value, ptr: &str) {
    let mut stack: Vec<(&Value, String)> = vec![(value, ptr.to_owned())];
    while let Some((v, p)) = stack.pop() {
        match v {
            Value::String(s) => check_jsonata_string(cx, s, &p),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, push_pointer(&p, &i.to_string())));
                }
            }
            Value::Object(map) => {
                for (k, item) in map.iter().rev() {
                    stack.push((item, push_pointer(&p, k)));
                }
            }
            _ => {}
        }
    }
}

fn check_jsonata_string(cx: &mut Cx<'_>, s: &str, ptr: &str) {
    let opens = s.starts_with("{%");
    let closes = s.ends_with("%}") && s.len() >= 4;
    if !opens && !s.ends_with("%}") {
        return;
    }
    if opens && !closes {
        cx.push(
            Code::InvalidJsonata,
            ptr,
            "the string starts with `{%` but does not end with `%}`; a JSONata expression is written \"{% expression %}\"",
        );
        return;
    }
    if !opens {
        cx.push(
            Code::InvalidJsonata,
            ptr,
            "the string ends with `%}` but does not start with `{%`; a JSONata expression is written \"{% expression %}\"",
        );
        return;
    }
    let inner = &s[2..s.len() - 2];
    if let Err(e) = jsonata::check_syntax(inner) {
        cx.push(
            Code::InvalidJsonata,
            ptr,
            format!("invalid JSONata expression: {e}"),
        );
    }
}
