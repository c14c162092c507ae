//! Query-language rules: JSONPath-only fields are rejected in JSONata states and JSONata-only
//! fields in JSONPath states, a machine whose top level is JSONata cannot switch a state back to
//! JSONPath, and every JSONata `{% … %}` string parses and reads only variables.
//!
//! The codes and wording are AWS's own, as `ValidateStateMachineDefinition` was measured to answer
//! (floci-io/floci#2968 for the language rules, #2745 for parse errors, #2670 for top-level
//! references): a field of the other language is `SCHEMA_VALIDATION_FAILED` ("The QueryLanguage is
//! set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage"), an
//! expression that does not parse is `INVALID_JSONATA_EXPRESSION` with the parser's message, and a
//! path from the (absent) context item is `UNSUPPORTED_JSONATA_EXPRESSION: Reference to 'phone'
//! at the top level is not supported.`

use serde_json::Value;

use super::Cx;
use crate::diag::{push_pointer, Code};
use crate::jsonata::Expression;
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

/// A branch or item processor cannot declare `QueryLanguage` at all: AWS says
/// `Field 'QueryLanguage' is not supported` at `/States/M/ItemProcessor` (or `…/Iterator`,
/// `…/Branches/0`) (floci-io/floci#2968, rule 3).
pub(super) fn check_branch_language(
    cx: &mut Cx<'_>,
    states: &indexmap::IndexMap<String, State>,
    scope_ptr: &str,
) {
    for (name, state) in states {
        let sptr = push_pointer(&push_pointer(scope_ptr, "States"), name);
        let branches: Vec<(String, &crate::model::Branch)> = match &state.kind {
            StateKind::Parallel(p) => {
                let base = push_pointer(&sptr, "Branches");
                p.branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        (
                            push_pointer(&base, &cx.raw.object_index(&base, i).to_string()),
                            b,
                        )
                    })
                    .collect()
            }
            StateKind::Map(m) => match &m.processor {
                Some(b) => {
                    let key = match m.processor_key {
                        crate::model::ProcessorKey::ItemProcessor => "ItemProcessor",
                        crate::model::ProcessorKey::Iterator => "Iterator",
                    };
                    vec![(push_pointer(&sptr, key), b)]
                }
                None => Vec::new(),
            },
            _ => Vec::new(),
        };
        for (ptr, b) in branches {
            if b.query_language.is_some() {
                cx.push(
                    Code::QueryLanguageMismatch,
                    ptr,
                    "Field 'QueryLanguage' is not supported",
                );
            }
        }
    }
}

/// The language rules of one state.
pub(super) fn check_state_language(cx: &mut Cx<'_>, state: &State, ptr: &str, lang: QueryLanguage) {
    if cx.top_lang == QueryLanguage::Jsonata
        && state.common.query_language == Some(QueryLanguage::JsonPath)
    {
        // floci-io/floci#2968, rule 2: reported at the state's own path.
        cx.push(
            Code::QueryLanguageMismatch,
            ptr,
            "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
        );
    }
    let present = present_fields(state);
    match lang {
        QueryLanguage::Jsonata => {
            for field in present.iter().filter(|f| JSONPATH_ONLY.contains(f)) {
                cx.push(
                    Code::QueryLanguageMismatch,
                    push_pointer(ptr, field),
                    mismatch(field, lang),
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
                    mismatch(field, lang),
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
        cx.push(Code::QueryLanguageMismatch, ptr, mismatch(field, lang));
    }
}

/// AWS's message for a field of the other query language (floci-io/floci#2968, rule 1), where
/// `lang` is the state's language.
pub(super) fn mismatch(field: &str, lang: QueryLanguage) -> String {
    let other = match lang {
        QueryLanguage::JsonPath => QueryLanguage::Jsonata,
        QueryLanguage::Jsonata => QueryLanguage::JsonPath,
    };
    format!(
        "The QueryLanguage is set to '{}', but field '{field}' is only supported for the '{}' QueryLanguage",
        lang.as_str(),
        other.as_str()
    )
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
    match Expression::parse(inner) {
        // AWS gives the parser's message without its code (floci-io/floci#2745).
        Err(e) => cx.push(Code::InvalidJsonata, ptr, e.message),
        Ok(expr) => {
            if let Some(top) = expr.top_level_reference() {
                cx.push(Code::UnsupportedJsonata, ptr, top.message());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check_str;

    fn messages(def: &str) -> Vec<String> {
        check_str(def)
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn aws_wording_of_the_language_rules() {
        // Verbatim from `aws stepfunctions validate-state-machine-definition`, quoted in
        // floci-io/floci#2968 and #2670.
        let m = messages(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Output": {}, "End": true}}}"#,
        );
        assert_eq!(m, vec!["SCHEMA_VALIDATION_FAILED at /States/A/Output: The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage"]);
        let m = messages(
            r#"{"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}"#,
        );
        assert_eq!(m, vec!["SCHEMA_VALIDATION_FAILED at /States/A: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"]);
        let m = messages(
            r#"{"StartAt": "E", "QueryLanguage": "JSONata", "States": {"E": {"Type": "Pass", "Output": {"v": "{% phone %}"}, "End": true}}}"#,
        );
        assert_eq!(m, vec!["UNSUPPORTED_JSONATA_EXPRESSION at /States/E/Output/v: Reference to 'phone' at the top level is not supported."]);
        // floci-io/floci#2745: the parser's message, without its code.
        let m = messages(
            r#"{"StartAt": "M", "QueryLanguage": "JSONata", "States": {"M": {"Type": "Pass", "Output": "{% 1 + %}", "End": true}}}"#,
        );
        assert_eq!(
            m,
            vec!["INVALID_JSONATA_EXPRESSION at /States/M/Output: Unexpected end of expression"]
        );
    }
}
