//! Field rules of single states: `Next`/`End`, Retry and Catch, and the fields of Task, Wait, Fail
//! and Map, with AWS's number limits.

use serde_json::{Number, Value};

use super::{choice, is_control, language, paths, resource, Cx};
use crate::diag::{push_pointer, Code};
use crate::model::{
    Catcher, ErrorHandling, Fail, MapState, QueryLanguage, Retrier, State, StateKind, Task, Wait,
};
use crate::parse::describe;

/// The largest value AWS accepts for `TimeoutSeconds`, `HeartbeatSeconds`, `Seconds`,
/// `IntervalSeconds` and `MaxAttempts`.
pub const MAX_SECONDS: u64 = 99_999_999;
/// The largest `MaxDelaySeconds` (one year and a day, in seconds).
pub const MAX_DELAY_SECONDS: u64 = 31_622_400;
/// The maximum length of a Map `Label`, in characters.
pub const MAX_LABEL_CHARS: usize = 40;
/// The largest `MaxInputBytesPerBatch` (256 KiB).
pub const MAX_INPUT_BYTES_PER_BATCH: u64 = 262_144;

/// Fields of the machine itself: `TimeoutSeconds` is a positive integer.
pub(super) fn check_machine(cx: &mut Cx<'_>, machine: &crate::model::StateMachine) {
    if let Some(n) = &machine.timeout_seconds {
        check_integer(cx, "", "TimeoutSeconds", n, 1, MAX_SECONDS);
    }
}

/// Checks every field rule of one state.
pub(super) fn check_state(cx: &mut Cx<'_>, state: &State, ptr: &str, lang: QueryLanguage) {
    check_transition(cx, state, ptr);
    if let Some(e) = state.error_handling() {
        check_error_handling(cx, e, ptr, lang);
    }
    match &state.kind {
        StateKind::Task(t) => check_task(cx, t, ptr, lang),
        StateKind::Pass(p) => {
            if let Some(v) = &p.parameters {
                paths::check_template(cx, v, &push_pointer(ptr, "Parameters"), lang);
            }
        }
        StateKind::Choice(c) => choice::check_choice(cx, c, ptr, lang),
        StateKind::Wait(w) => check_wait(cx, w, ptr, lang),
        StateKind::Succeed => {}
        StateKind::Fail(f) => check_fail(cx, f, ptr),
        StateKind::Parallel(p) => {
            check_result_templates(cx, &p.result, ptr, lang);
            let base = push_pointer(ptr, "Branches");
            // AWS rejects a Parallel state without branches (issue 9, found on real definitions;
            // the ASL specification makes `Branches` the array of the branches to run).
            if p.branches.is_empty()
                && (!cx.raw.known()
                    || matches!(cx.raw.at(&base), Some(Value::Array(a)) if a.is_empty()))
            {
                cx.schema(
                    base.clone(),
                    "`Branches` must contain at least one branch; a Parallel state with no branches is rejected",
                );
            }
            for (i, b) in p.branches.iter().enumerate() {
                if b.processor_config.is_some() {
                    let j = cx.raw.object_index(&base, i);
                    cx.schema(
                        push_pointer(&push_pointer(&base, &j.to_string()), "ProcessorConfig"),
                        "`ProcessorConfig` is only allowed in a Map state's `ItemProcessor`, not in a Parallel branch",
                    );
                }
            }
        }
        StateKind::Map(m) => check_map(cx, m, ptr, lang),
    }
    check_path_fields(cx, state, ptr, lang);
    if let Some(v) = &state.common.assign {
        paths::check_assign(cx, v, &push_pointer(ptr, "Assign"), lang);
    }
}

/// `Next` and `End` are exclusive, and one of them is required, for Task, Pass, Wait, Parallel
/// and Map states.
fn check_transition(cx: &mut Cx<'_>, state: &State, ptr: &str) {
    let Some(t) = state.transition() else {
        return;
    };
    let has_next = t.next.is_some();
    match (has_next, t.end) {
        (true, Some(true)) => cx.schema(
            push_pointer(ptr, "End"),
            format!(
                "a {} state may have only one of `Next` and `\"End\": true`; remove `End` to continue with \"{}\", or remove `Next` to end here",
                state.kind.type_name(),
                t.next.as_deref().unwrap_or_default()
            ),
        ),
        (false, Some(false)) => cx.schema(
            push_pointer(ptr, "End"),
            format!(
                "`End` must be `true` when present; a {} state must either have `Next` or `\"End\": true`",
                state.kind.type_name()
            ),
        ),
        (false, None) => {
            // The parser already reported a `Next` or `End` of the wrong type.
            let raw_has = cx.raw.at(&push_pointer(ptr, "Next")).is_some()
                || cx.raw.at(&push_pointer(ptr, "End")).is_some();
            if !raw_has {
                cx.schema(
                    ptr.to_owned(),
                    format!(
                        "a {} state must have either `Next` (the name of the following state) or `\"End\": true`",
                        state.kind.type_name()
                    ),
                );
            }
        }
        _ => {}
    }
}

fn check_error_handling(cx: &mut Cx<'_>, e: &ErrorHandling, ptr: &str, lang: QueryLanguage) {
    let base = push_pointer(ptr, "Retry");
    let n = e.retry.len();
    for (i, r) in e.retry.iter().enumerate() {
        let j = cx.raw.object_index(&base, i);
        let rptr = push_pointer(&base, &j.to_string());
        check_error_equals(cx, &r.error_equals, &rptr, i + 1 == n, "retrier");
        check_retrier(cx, r, &rptr);
    }
    let base = push_pointer(ptr, "Catch");
    let n = e.catch.len();
    for (i, c) in e.catch.iter().enumerate() {
        let j = cx.raw.object_index(&base, i);
        let cptr = push_pointer(&base, &j.to_string());
        check_error_equals(cx, &c.error_equals, &cptr, i + 1 == n, "catcher");
        check_catcher(cx, c, &cptr, lang);
    }
}

/// `ErrorEquals` is non-empty, and `States.ALL` appears alone and only in the last element.
fn check_error_equals(cx: &mut Cx<'_>, names: &[String], ptr: &str, last: bool, what: &str) {
    let eptr = push_pointer(ptr, "ErrorEquals");
    if names.is_empty() {
        if matches!(cx.raw.at(&eptr), Some(Value::Array(_))) || !cx.raw.known() {
            cx.schema(
                eptr,
                format!(
                    "`ErrorEquals` of a {what} must list at least one error name, such as \"States.ALL\" or \"States.TaskFailed\""
                ),
            );
        }
        return;
    }
    for (k, name) in names.iter().enumerate() {
        if name.is_empty() {
            cx.schema(
                push_pointer(&eptr, &k.to_string()),
                "an error name must not be empty",
            );
        }
    }
    if names.iter().any(|n| n == crate::error::names::ALL) {
        if names.len() > 1 {
            cx.schema(
                eptr.clone(),
                format!(
                    "\"States.ALL\" must be the only error name in its `ErrorEquals`; move the other names to an earlier {what}"
                ),
            );
        }
        if !last {
            cx.schema(
                eptr,
                format!(
                    "a {what} whose `ErrorEquals` contains \"States.ALL\" must be the last {what}; move it to the end"
                ),
            );
        }
    }
}

fn check_retrier(cx: &mut Cx<'_>, r: &Retrier, ptr: &str) {
    if let Some(n) = &r.interval_seconds {
        check_integer(cx, ptr, "IntervalSeconds", n, 1, MAX_SECONDS);
    }
    if let Some(n) = &r.max_attempts {
        check_integer(cx, ptr, "MaxAttempts", n, 0, MAX_SECONDS);
    }
    if let Some(n) = &r.backoff_rate {
        let v = n.as_f64().unwrap_or(0.0);
        if v < 1.0 {
            cx.schema(
                push_pointer(ptr, "BackoffRate"),
                format!("`BackoffRate` is {n}; it must be a number greater than or equal to 1.0"),
            );
        }
    }
    if let Some(n) = &r.max_delay_seconds {
        check_integer(cx, ptr, "MaxDelaySeconds", n, 1, MAX_DELAY_SECONDS);
    }
    if let Some(j) = &r.jitter_strategy {
        if j != "FULL" && j != "NONE" {
            cx.schema(
                push_pointer(ptr, "JitterStrategy"),
                format!("`JitterStrategy` is \"{j}\"; it must be \"FULL\" or \"NONE\""),
            );
        }
    }
}

fn check_catcher(cx: &mut Cx<'_>, c: &Catcher, ptr: &str, lang: QueryLanguage) {
    if let Some(p) = &c.result_path {
        paths::check_result_path(cx, p, &push_pointer(ptr, "ResultPath"), lang);
    }
    if let Some(v) = &c.assign {
        paths::check_assign(cx, v, &push_pointer(ptr, "Assign"), lang);
    }
}

fn check_task(cx: &mut Cx<'_>, t: &Task, ptr: &str, lang: QueryLanguage) {
    let rptr = push_pointer(ptr, "Resource");
    if !cx.raw.lacks_string(&rptr) {
        resource::check_task_resource(cx, &t.resource, &rptr);
    }
    exclusive(
        cx,
        ptr,
        "TimeoutSeconds",
        t.timeout_seconds.is_some(),
        "TimeoutSecondsPath",
        t.timeout_seconds_path.is_some(),
    );
    exclusive(
        cx,
        ptr,
        "HeartbeatSeconds",
        t.heartbeat_seconds.is_some(),
        "HeartbeatSecondsPath",
        t.heartbeat_seconds_path.is_some(),
    );
    let timeout = t.timeout_seconds.as_ref().and_then(|v| {
        check_number_or_jsonata(
            cx,
            ptr,
            "TimeoutSeconds",
            v,
            lang,
            Limits::int(1, MAX_SECONDS),
        )
    });
    let heartbeat = t.heartbeat_seconds.as_ref().and_then(|v| {
        check_number_or_jsonata(
            cx,
            ptr,
            "HeartbeatSeconds",
            v,
            lang,
            Limits::int(1, MAX_SECONDS),
        )
    });
    if let (Some(h), Some(to)) = (heartbeat, timeout) {
        if h >= to {
            cx.schema(
                push_pointer(ptr, "HeartbeatSeconds"),
                format!("`HeartbeatSeconds` ({h}) must be smaller than `TimeoutSeconds` ({to})"),
            );
        }
    }
    check_result_templates(cx, &t.result, ptr, lang);
    if let Some(c) = &t.credentials {
        check_credentials(cx, c, &push_pointer(ptr, "Credentials"), lang);
    }
}

/// `Credentials` is an object naming the role to assume in `RoleArn`.
fn check_credentials(cx: &mut Cx<'_>, v: &Value, ptr: &str, lang: QueryLanguage) {
    let Value::Object(map) = v else {
        cx.schema(
            ptr.to_owned(),
            format!(
                "`Credentials` must be an object with a `RoleArn` field, found {}",
                describe(v)
            ),
        );
        return;
    };
    let has_role = map.contains_key("RoleArn")
        || (lang == QueryLanguage::JsonPath && map.contains_key("RoleArn.$"));
    if !has_role {
        let alt = if lang == QueryLanguage::JsonPath {
            " (or `RoleArn.$` holding a path)"
        } else {
            ""
        };
        cx.schema(
            ptr.to_owned(),
            format!("the field `RoleArn`{alt} is required in `Credentials` but is missing"),
        );
    }
    if let Some(r) = map.get("RoleArn") {
        if !r.is_string() {
            cx.schema(
                push_pointer(ptr, "RoleArn"),
                format!(
                    "`RoleArn` must be a string (an IAM role ARN), found {}",
                    describe(r)
                ),
            );
        }
    }
    paths::check_template(cx, v, ptr, lang);
}

fn check_wait(cx: &mut Cx<'_>, w: &Wait, ptr: &str, lang: QueryLanguage) {
    let present: Vec<&str> = [
        ("Seconds", w.seconds.is_some()),
        ("Timestamp", w.timestamp.is_some()),
        ("SecondsPath", w.seconds_path.is_some()),
        ("TimestampPath", w.timestamp_path.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, p)| p.then_some(k))
    .collect();
    match present.len() {
        0 => {
            let raw_has = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
                .iter()
                .any(|k| cx.raw.at(&push_pointer(ptr, k)).is_some());
            if !raw_has {
                cx.schema(
                    ptr.to_owned(),
                    "a Wait state must have exactly one of `Seconds`, `Timestamp`, `SecondsPath` or `TimestampPath`",
                );
            }
        }
        1 => {}
        _ => cx.schema(
            push_pointer(ptr, present[1]),
            format!(
                "a Wait state must have exactly one of `Seconds`, `Timestamp`, `SecondsPath` or `TimestampPath`, but has {}",
                present
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        ),
    }
    if let Some(v) = &w.seconds {
        check_number_or_jsonata(cx, ptr, "Seconds", v, lang, Limits::int(0, MAX_SECONDS));
    }
    if let Some(t) = &w.timestamp {
        let is_expr = lang == QueryLanguage::Jsonata && language::is_jsonata_expression(t);
        if !is_expr && !crate::timestamp::is_timestamp(t) {
            let also = if lang == QueryLanguage::Jsonata {
                " (or a JSONata expression `{% … %}`)"
            } else {
                ""
            };
            cx.schema(
                push_pointer(ptr, "Timestamp"),
                format!(
                    "`Timestamp` is \"{t}\"; it must be an RFC 3339 timestamp such as \"2016-03-14T01:59:00Z\"{also}"
                ),
            );
        }
    }
}

fn check_fail(cx: &mut Cx<'_>, f: &Fail, ptr: &str) {
    exclusive(
        cx,
        ptr,
        "Error",
        f.error.is_some(),
        "ErrorPath",
        f.error_path.is_some(),
    );
    exclusive(
        cx,
        ptr,
        "Cause",
        f.cause.is_some(),
        "CausePath",
        f.cause_path.is_some(),
    );
}

fn check_map(cx: &mut Cx<'_>, m: &MapState, ptr: &str, lang: QueryLanguage) {
    exclusive(
        cx,
        ptr,
        "MaxConcurrency",
        m.max_concurrency.is_some(),
        "MaxConcurrencyPath",
        m.max_concurrency_path.is_some(),
    );
    exclusive(
        cx,
        ptr,
        "ToleratedFailurePercentage",
        m.tolerated_failure_percentage.is_some(),
        "ToleratedFailurePercentagePath",
        m.tolerated_failure_percentage_path.is_some(),
    );
    exclusive(
        cx,
        ptr,
        "ToleratedFailureCount",
        m.tolerated_failure_count.is_some(),
        "ToleratedFailureCountPath",
        m.tolerated_failure_count_path.is_some(),
    );
    if m.item_selector.is_some() && m.result.parameters.is_some() {
        cx.schema(
            push_pointer(ptr, "Parameters"),
            "a Map state may have only one of `ItemSelector` and the legacy `Parameters`; use `ItemSelector`",
        );
    }
    if let (Some(items), QueryLanguage::Jsonata) = (&m.items, lang) {
        let ok = items.is_array() || items.as_str().is_some_and(language::is_jsonata_expression);
        if !ok {
            cx.schema(
                push_pointer(ptr, "Items"),
                format!(
                    "`Items` must be an array or a JSONata expression `{{% … %}}` that gives one, found {}",
                    describe(items)
                ),
            );
        }
    }
    if let Some(v) = &m.max_concurrency {
        check_number_or_jsonata(cx, ptr, "MaxConcurrency", v, lang, Limits::int(0, u64::MAX));
    }
    if let Some(v) = &m.tolerated_failure_percentage {
        check_number_or_jsonata(
            cx,
            ptr,
            "ToleratedFailurePercentage",
            v,
            lang,
            Limits::real(0.0, 100.0),
        );
    }
    if let Some(v) = &m.tolerated_failure_count {
        check_number_or_jsonata(
            cx,
            ptr,
            "ToleratedFailureCount",
            v,
            lang,
            Limits::int(0, u64::MAX),
        );
    }
    if let Some(label) = &m.label {
        check_label(cx, label, &push_pointer(ptr, "Label"));
    }
    check_result_templates(cx, &m.result, ptr, lang);
    if let Some(v) = &m.item_selector {
        paths::check_template(cx, v, &push_pointer(ptr, "ItemSelector"), lang);
    }
    if let Some(p) = &m.processor {
        let key = match m.processor_key {
            crate::model::ProcessorKey::ItemProcessor => "ItemProcessor",
            crate::model::ProcessorKey::Iterator => "Iterator",
        };
        if let Some(c) = &p.processor_config {
            check_processor_config(
                cx,
                c,
                &push_pointer(&push_pointer(ptr, key), "ProcessorConfig"),
            );
        }
    }
    if let Some(v) = &m.item_reader {
        check_item_reader(cx, v, &push_pointer(ptr, "ItemReader"), lang);
    }
    if let Some(v) = &m.item_batcher {
        check_item_batcher(cx, v, &push_pointer(ptr, "ItemBatcher"), lang);
    }
    if let Some(v) = &m.result_writer {
        check_result_writer(cx, v, &push_pointer(ptr, "ResultWriter"), lang);
    }
}

/// A Map `Label`: 1 to 40 characters, none of them whitespace, brackets, wildcards, the special
/// characters `" # % \ ^ | ~ ` $ & , ; : /` or control characters.
fn check_label(cx: &mut Cx<'_>, label: &str, ptr: &str) {
    let chars = label.chars().count();
    if chars == 0 {
        cx.push(
            Code::InvalidLabelName,
            ptr,
            "a Map `Label` must not be empty; use 1 to 40 characters",
        );
        return;
    }
    if chars > MAX_LABEL_CHARS {
        cx.push(
            Code::InvalidLabelName,
            ptr,
            format!("the Map `Label` is {chars} characters long; labels may have at most {MAX_LABEL_CHARS} characters"),
        );
    }
    if let Some(c) = label.chars().find(|c| invalid_label_char(*c)) {
        let shown = if is_control(c) || c.is_whitespace() {
            format!("U+{:04X}", u32::from(c))
        } else {
            format!("'{c}'")
        };
        cx.push(
            Code::InvalidLabelName,
            ptr,
            format!(
                "the Map `Label` contains the character {shown}; labels must not contain whitespace, brackets < > {{ }} [ ], wildcards ? *, the characters \" # % \\ ^ | ~ ` $ & , ; : / or control characters"
            ),
        );
    }
}

fn invalid_label_char(c: char) -> bool {
    c.is_whitespace()
        || is_control(c)
        || matches!(
            c,
            '<' | '>'
                | '{'
                | '}'
                | '['
                | ']'
                | '?'
                | '*'
                | '"'
                | '#'
                | '%'
                | '\\'
                | '^'
                | '|'
                | '~'
                | '`'
                | '$'
                | '&'
                | ','
                | ';'
                | ':'
                | '/'
        )
}

fn check_processor_config(cx: &mut Cx<'_>, v: &Value, ptr: &str) {
    let Value::Object(map) = v else {
        return;
    };
    let mode = map.get("Mode");
    match mode {
        None => {}
        Some(Value::String(s)) if s == "INLINE" || s == "DISTRIBUTED" => {}
        Some(other) => cx.schema(
            push_pointer(ptr, "Mode"),
            format!(
                "`Mode` must be \"INLINE\" or \"DISTRIBUTED\", found {}",
                describe(other)
            ),
        ),
    }
    let distributed = mode.and_then(Value::as_str) == Some("DISTRIBUTED");
    match map.get("ExecutionType") {
        None if distributed => cx.schema(
            ptr.to_owned(),
            "a `ProcessorConfig` with `\"Mode\": \"DISTRIBUTED\"` must have `ExecutionType` (\"STANDARD\" or \"EXPRESS\")",
        ),
        None => {}
        Some(Value::String(s)) if (s == "STANDARD" || s == "EXPRESS") && !distributed => cx.schema(
            push_pointer(ptr, "ExecutionType"),
            "`ExecutionType` is only allowed with `\"Mode\": \"DISTRIBUTED\"`",
        ),
        Some(Value::String(s)) if s == "STANDARD" || s == "EXPRESS" => {}
        Some(other) => cx.schema(
            push_pointer(ptr, "ExecutionType"),
            format!("`ExecutionType` must be \"STANDARD\" or \"EXPRESS\", found {}", describe(other)),
        ),
    }
    for key in map.keys() {
        if key != "Mode" && key != "ExecutionType" {
            cx.schema(
                push_pointer(ptr, key),
                format!("unknown field `{key}` in `ProcessorConfig`; the fields are `Mode` and `ExecutionType`"),
            );
        }
    }
}

fn check_item_reader(cx: &mut Cx<'_>, v: &Value, ptr: &str, lang: QueryLanguage) {
    let Value::Object(map) = v else {
        return;
    };
    match map.get("Resource") {
        Some(Value::String(r)) => resource::check_task_resource(cx, r, &push_pointer(ptr, "Resource")),
        Some(other) => cx.schema(
            push_pointer(ptr, "Resource"),
            format!("`Resource` must be a string (an ARN such as \"arn:aws:states:::s3:getObject\"), found {}", describe(other)),
        ),
        None => cx.schema(
            ptr.to_owned(),
            "an `ItemReader` must have a `Resource` (such as \"arn:aws:states:::s3:getObject\" or \"arn:aws:states:::s3:listObjectsV2\")",
        ),
    }
    for (key, value) in map {
        let kptr = push_pointer(ptr, key);
        match key.as_str() {
            "Resource" => {}
            "Parameters" => {
                language::require_lang(cx, &kptr, key, lang, QueryLanguage::JsonPath);
                paths::check_template(cx, value, &kptr, lang);
            }
            "Arguments" => language::require_lang(cx, &kptr, key, lang, QueryLanguage::Jsonata),
            "ReaderConfig" => check_reader_config(cx, value, &kptr, lang),
            _ => cx.schema(
                kptr,
                format!("unknown field `{key}` in `ItemReader`; the fields are `Resource`, `ReaderConfig` and `Parameters` (JSONPath) or `Arguments` (JSONata)"),
            ),
        }
    }
}

fn check_reader_config(cx: &mut Cx<'_>, v: &Value, ptr: &str, lang: QueryLanguage) {
    let Value::Object(map) = v else {
        cx.schema(
            ptr.to_owned(),
            format!("`ReaderConfig` must be an object, found {}", describe(v)),
        );
        return;
    };
    exclusive(
        cx,
        ptr,
        "MaxItems",
        map.contains_key("MaxItems"),
        "MaxItemsPath",
        map.contains_key("MaxItemsPath"),
    );
    if let Some(n) = map.get("MaxItems") {
        check_number_or_jsonata(cx, ptr, "MaxItems", n, lang, Limits::int(0, 100_000_000));
    }
    if let Some(p) = map.get("MaxItemsPath") {
        let kptr = push_pointer(ptr, "MaxItemsPath");
        language::require_lang(cx, &kptr, "MaxItemsPath", lang, QueryLanguage::JsonPath);
        if let Value::String(s) = p {
            paths::check_reference_path(cx, s, &kptr, "MaxItemsPath");
        }
    }
    enum_field(
        cx,
        map,
        ptr,
        "InputType",
        &["CSV", "JSON", "JSONL", "MANIFEST", "PARQUET"],
    );
    enum_field(cx, map, ptr, "CSVHeaderLocation", &["FIRST_ROW", "GIVEN"]);
    enum_field(
        cx,
        map,
        ptr,
        "CSVDelimiter",
        &["COMMA", "PIPE", "SEMICOLON", "SPACE", "TAB"],
    );
    if map.get("CSVHeaderLocation").and_then(Value::as_str) == Some("GIVEN")
        && !map.contains_key("CSVHeaders")
    {
        cx.schema(
            ptr.to_owned(),
            "`\"CSVHeaderLocation\": \"GIVEN\"` requires `CSVHeaders`, an array of column names",
        );
    }
}

fn check_item_batcher(cx: &mut Cx<'_>, v: &Value, ptr: &str, lang: QueryLanguage) {
    let Value::Object(map) = v else {
        return;
    };
    let pairs = [
        ("MaxItemsPerBatch", "MaxItemsPerBatchPath", u64::MAX),
        (
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            MAX_INPUT_BYTES_PER_BATCH,
        ),
    ];
    for (lit, path, max) in pairs {
        exclusive(
            cx,
            ptr,
            lit,
            map.contains_key(lit),
            path,
            map.contains_key(path),
        );
        if let Some(n) = map.get(lit) {
            check_number_or_jsonata(cx, ptr, lit, n, lang, Limits::int(1, max));
        }
        if let Some(p) = map.get(path) {
            let kptr = push_pointer(ptr, path);
            language::require_lang(cx, &kptr, path, lang, QueryLanguage::JsonPath);
            if let Value::String(s) = p {
                paths::check_reference_path(cx, s, &kptr, path);
            }
        }
    }
    if !pairs
        .iter()
        .any(|(a, b, _)| map.contains_key(*a) || map.contains_key(*b))
    {
        cx.schema(
            ptr.to_owned(),
            "an `ItemBatcher` must set `MaxItemsPerBatch` or `MaxInputBytesPerBatch` (or their `…Path` forms)",
        );
    }
    for (key, value) in map {
        match key.as_str() {
            "MaxItemsPerBatch" | "MaxItemsPerBatchPath" | "MaxInputBytesPerBatch" | "MaxInputBytesPerBatchPath" => {}
            "BatchInput" => paths::check_template(cx, value, &push_pointer(ptr, key), lang),
            _ => cx.schema(
                push_pointer(ptr, key),
                format!("unknown field `{key}` in `ItemBatcher`; the fields are `MaxItemsPerBatch`, `MaxInputBytesPerBatch` (or their `…Path` forms) and `BatchInput`"),
            ),
        }
    }
}

fn check_result_writer(cx: &mut Cx<'_>, v: &Value, ptr: &str, lang: QueryLanguage) {
    let Value::Object(map) = v else {
        return;
    };
    for (key, value) in map {
        let kptr = push_pointer(ptr, key);
        match key.as_str() {
            "Resource" => match value {
                Value::String(r) => resource::check_task_resource(cx, r, &kptr),
                other => cx.schema(kptr, format!("`Resource` must be a string (such as \"arn:aws:states:::s3:putObject\"), found {}", describe(other))),
            },
            "Parameters" => {
                language::require_lang(cx, &kptr, key, lang, QueryLanguage::JsonPath);
                paths::check_template(cx, value, &kptr, lang);
            }
            "Arguments" => language::require_lang(cx, &kptr, key, lang, QueryLanguage::Jsonata),
            "WriterConfig" => {}
            _ => cx.schema(
                kptr,
                format!("unknown field `{key}` in `ResultWriter`; the fields are `Resource`, `WriterConfig` and `Parameters` (JSONPath) or `Arguments` (JSONata)"),
            ),
        }
    }
    if !map.contains_key("Resource") && !map.contains_key("WriterConfig") {
        cx.schema(
            ptr.to_owned(),
            "a `ResultWriter` must have a `Resource` (\"arn:aws:states:::s3:putObject\") or a `WriterConfig`",
        );
    }
}

/// `Parameters` and `ResultSelector` of Task, Parallel and Map.
fn check_result_templates(
    cx: &mut Cx<'_>,
    r: &crate::model::ResultFields,
    ptr: &str,
    lang: QueryLanguage,
) {
    if let Some(v) = &r.parameters {
        paths::check_template(cx, v, &push_pointer(ptr, "Parameters"), lang);
    }
    if let Some(v) = &r.result_selector {
        paths::check_template(cx, v, &push_pointer(ptr, "ResultSelector"), lang);
    }
}

/// Every path-valued field of a state, by whether the specification requires a path or a
/// reference path there.
fn check_path_fields(cx: &mut Cx<'_>, state: &State, ptr: &str, lang: QueryLanguage) {
    if lang != QueryLanguage::JsonPath {
        // The language rules report these fields as JSONPath-only.
        return;
    }
    let c = &state.common;
    if let Some(crate::model::PathField::Path(p)) = &c.input_path {
        paths::check_path(cx, p, &push_pointer(ptr, "InputPath"), "InputPath");
    }
    if let Some(crate::model::PathField::Path(p)) = &c.output_path {
        paths::check_path(cx, p, &push_pointer(ptr, "OutputPath"), "OutputPath");
    }
    let result_path = match &state.kind {
        StateKind::Task(t) => t.result.result_path.as_ref(),
        StateKind::Parallel(p) => p.result.result_path.as_ref(),
        StateKind::Map(m) => m.result.result_path.as_ref(),
        StateKind::Pass(p) => p.result_path.as_ref(),
        _ => None,
    };
    if let Some(rp) = result_path {
        paths::check_result_path(cx, rp, &push_pointer(ptr, "ResultPath"), lang);
    }
    let mut refs: Vec<(&str, &str)> = Vec::new();
    match &state.kind {
        StateKind::Task(t) => {
            refs.extend(
                t.timeout_seconds_path
                    .as_deref()
                    .map(|p| ("TimeoutSecondsPath", p)),
            );
            refs.extend(
                t.heartbeat_seconds_path
                    .as_deref()
                    .map(|p| ("HeartbeatSecondsPath", p)),
            );
        }
        StateKind::Wait(w) => {
            refs.extend(w.seconds_path.as_deref().map(|p| ("SecondsPath", p)));
            refs.extend(w.timestamp_path.as_deref().map(|p| ("TimestampPath", p)));
        }
        StateKind::Map(m) => {
            refs.extend(m.items_path.as_deref().map(|p| ("ItemsPath", p)));
            refs.extend(
                m.max_concurrency_path
                    .as_deref()
                    .map(|p| ("MaxConcurrencyPath", p)),
            );
            refs.extend(
                m.tolerated_failure_percentage_path
                    .as_deref()
                    .map(|p| ("ToleratedFailurePercentagePath", p)),
            );
            refs.extend(
                m.tolerated_failure_count_path
                    .as_deref()
                    .map(|p| ("ToleratedFailureCountPath", p)),
            );
        }
        StateKind::Fail(f) => {
            if let Some(p) = &f.error_path {
                paths::check_reference_path_or_intrinsic(
                    cx,
                    p,
                    &push_pointer(ptr, "ErrorPath"),
                    "ErrorPath",
                );
            }
            if let Some(p) = &f.cause_path {
                paths::check_reference_path_or_intrinsic(
                    cx,
                    p,
                    &push_pointer(ptr, "CausePath"),
                    "CausePath",
                );
            }
        }
        _ => {}
    }
    for (field, p) in refs {
        paths::check_reference_path(cx, p, &push_pointer(ptr, field), field);
    }
}

/// Reports two fields that may not be used together.
pub(super) fn exclusive(cx: &mut Cx<'_>, ptr: &str, a: &str, has_a: bool, b: &str, has_b: bool) {
    if has_a && has_b {
        cx.schema(
            push_pointer(ptr, b),
            format!("only one of `{a}` and `{b}` may be set; `{a}` gives a fixed value and `{b}` reads it from the input"),
        );
    }
}

fn enum_field(
    cx: &mut Cx<'_>,
    map: &serde_json::Map<String, Value>,
    ptr: &str,
    key: &str,
    allowed: &[&str],
) {
    if let Some(v) = map.get(key) {
        if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
            let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
            cx.schema(
                push_pointer(ptr, key),
                format!(
                    "`{key}` must be one of {}, found {}",
                    list.join(", "),
                    describe(v)
                ),
            );
        }
    }
}

/// The range a number field must be in.
#[derive(Clone, Copy)]
pub(super) struct Limits {
    min: f64,
    max: f64,
    integer: bool,
}

impl Limits {
    /// An integer in `min..=max`.
    pub(super) fn int(min: u64, max: u64) -> Self {
        Limits {
            min: min as f64,
            max: max as f64,
            integer: true,
        }
    }
    /// Any number in `min..=max`.
    pub(super) fn real(min: f64, max: f64) -> Self {
        Limits {
            min,
            max,
            integer: false,
        }
    }

    fn describe(&self) -> String {
        let what = if self.integer {
            "an integer"
        } else {
            "a number"
        };
        if self.max >= u64::MAX as f64 {
            format!("{what} greater than or equal to {}", self.min)
        } else {
            format!("{what} from {} to {}", self.min, self.max)
        }
    }
}

/// A number field that a JSONata state may also give as a `{% … %}` expression. Returns the
/// number when it is a literal within range.
pub(super) fn check_number_or_jsonata(
    cx: &mut Cx<'_>,
    ptr: &str,
    field: &str,
    v: &Value,
    lang: QueryLanguage,
    limits: Limits,
) -> Option<f64> {
    let fptr = push_pointer(ptr, field);
    match v {
        Value::Number(n) => check_number(cx, &fptr, field, n, limits),
        Value::String(s) if lang == QueryLanguage::Jsonata => {
            if !language::is_jsonata_expression(s) {
                cx.schema(
                    fptr,
                    format!(
                        "`{field}` must be {} or a JSONata expression `{{% … %}}`, found the string \"{s}\"",
                        limits.describe()
                    ),
                );
            }
            None
        }
        Value::String(s) => {
            let code = if language::is_jsonata_expression(s) {
                Code::QueryLanguageMismatch
            } else {
                Code::SchemaValidationFailed
            };
            cx.push(
                code,
                fptr,
                format!(
                    "`{field}` must be {} in a JSONPath state, found the string \"{s}\"; use `{field}Path` to read it from the input, or `\"QueryLanguage\": \"JSONata\"` for an expression",
                    limits.describe()
                ),
            );
            None
        }
        other => {
            cx.schema(
                fptr,
                format!(
                    "`{field}` must be {}, found {}",
                    limits.describe(),
                    describe(other)
                ),
            );
            None
        }
    }
}

/// An integer field of a literal `Number`.
fn check_integer(cx: &mut Cx<'_>, ptr: &str, field: &str, n: &Number, min: u64, max: u64) {
    check_number(
        cx,
        &push_pointer(ptr, field),
        field,
        n,
        Limits::int(min, max),
    );
}

fn check_number(
    cx: &mut Cx<'_>,
    fptr: &str,
    field: &str,
    n: &Number,
    limits: Limits,
) -> Option<f64> {
    let v = n.as_f64().unwrap_or(f64::NAN);
    let integral = n.is_u64() || n.is_i64();
    if limits.integer && !integral {
        cx.schema(
            fptr.to_owned(),
            format!("`{field}` is {n}; it must be {}", limits.describe()),
        );
        return None;
    }
    if !(v >= limits.min && v <= limits.max) {
        cx.schema(
            fptr.to_owned(),
            format!("`{field}` is {n}; it must be {}", limits.describe()),
        );
        return None;
    }
    Some(v)
}
