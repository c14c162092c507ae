//! Reading a definition (`serde_json::Value`) into the [`crate::model`], collecting every schema
//! problem (missing field, wrong type, unknown field, field not allowed in this state type) as a
//! [`Diagnostic`] with its JSON pointer instead of stopping at the first.
//!
//! A field that is unknown or has the wrong type is kept in the `extra` map of its object, so that
//! emitting the model gives back what was read.

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

use crate::diag::{did_you_mean, push_pointer, Code, Diagnostic};
use crate::model::*;

/// Every field name the States Language defines, for telling "not allowed here" from "unknown".
const KNOWN_STATE_FIELDS: &[&str] = &[
    "Type",
    "Comment",
    "QueryLanguage",
    "InputPath",
    "OutputPath",
    "Output",
    "Assign",
    "Next",
    "End",
    "Resource",
    "Parameters",
    "Arguments",
    "ResultSelector",
    "ResultPath",
    "Retry",
    "Catch",
    "TimeoutSeconds",
    "TimeoutSecondsPath",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "Credentials",
    "Result",
    "Choices",
    "Default",
    "Seconds",
    "Timestamp",
    "SecondsPath",
    "TimestampPath",
    "Error",
    "ErrorPath",
    "Cause",
    "CausePath",
    "Branches",
    "ItemProcessor",
    "Iterator",
    "ItemsPath",
    "Items",
    "ItemSelector",
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "MaxConcurrency",
    "MaxConcurrencyPath",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "Label",
];

/// Parses a whole definition. Returns the model (as complete as the input allows) and every
/// schema problem found. `None` only when the root is not a JSON object.
///
/// ```
/// let value = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Extra": 1}}});
/// let (machine, problems) = workflow_asl::parse::parse_machine(&value);
/// assert!(machine.is_some());
/// assert_eq!(problems[0].pointer, "/States/A/Extra");
/// ```
pub fn parse_machine(value: &Value) -> (Option<StateMachine>, Vec<Diagnostic>) {
    parse_machine_owned(value.clone())
}

/// [`parse_machine`] taking the value by ownership, which avoids copying it.
///
/// ```
/// let (machine, problems) = workflow_asl::parse::parse_machine_owned(serde_json::json!([]));
/// assert!(machine.is_none() && !problems.is_empty());
/// ```
pub fn parse_machine_owned(value: Value) -> (Option<StateMachine>, Vec<Diagnostic>) {
    let mut cx = Vec::new();
    let map = match value {
        Value::Object(map) => map,
        value => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                "",
                format!(
                    "a state machine definition must be a JSON object, found {}",
                    kind(&value)
                ),
            ));
            return (None, cx);
        }
    };
    let mut o = Obj::new(map, String::new(), &mut cx, "the state machine");
    let comment = o.opt_string("Comment");
    let version = o.opt_string("Version");
    let timeout_seconds = o.opt_number("TimeoutSeconds");
    let query_language = o.opt_query_language("QueryLanguage");
    let start_at = o.req_string("StartAt");
    let states = o.take_states();
    let extra = o.finish(&[]);
    let machine = StateMachine {
        comment,
        start_at,
        states,
        version,
        timeout_seconds,
        query_language,
        extra,
    };
    (Some(machine), cx)
}

/// Reads one JSON object field by field; whatever is left at the end is "extra".
struct Obj<'a> {
    map: Map<String, Value>,
    ptr: String,
    cx: &'a mut Vec<Diagnostic>,
    what: &'static str,
    extra: Map<String, Value>,
}

impl<'a> Obj<'a> {
    fn new(
        map: Map<String, Value>,
        ptr: String,
        cx: &'a mut Vec<Diagnostic>,
        what: &'static str,
    ) -> Self {
        Obj {
            map,
            ptr,
            cx,
            what,
            extra: Map::new(),
        }
    }

    fn at(&self, key: &str) -> String {
        push_pointer(&self.ptr, key)
    }

    fn schema(&mut self, ptr: String, msg: String) {
        self.cx
            .push(Diagnostic::new(Code::SchemaValidationFailed, ptr, msg));
    }

    /// Reports a field of the wrong type and keeps it as extra.
    fn wrong(&mut self, key: &str, value: Value, expected: &str) {
        let msg = format!("`{key}` must be {expected}, found {}", describe(&value));
        self.schema(self.at(key), msg);
        self.extra.insert(key.to_owned(), value);
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.shift_remove(key)
    }

    fn opt_string(&mut self, key: &str) -> Option<String> {
        match self.take(key)? {
            Value::String(s) => Some(s),
            v => {
                self.wrong(key, v, "a string");
                None
            }
        }
    }

    fn req_string(&mut self, key: &str) -> String {
        if !self.map.contains_key(key) {
            let msg = format!("{} is missing the required field `{key}`", self.what);
            self.schema(self.ptr.clone(), msg);
            return String::new();
        }
        self.opt_string(key).unwrap_or_default()
    }

    fn opt_bool(&mut self, key: &str) -> Option<bool> {
        match self.take(key)? {
            Value::Bool(b) => Some(b),
            v => {
                self.wrong(key, v, "a boolean");
                None
            }
        }
    }

    fn opt_number(&mut self, key: &str) -> Option<Number> {
        match self.take(key)? {
            Value::Number(n) => Some(n),
            v => {
                self.wrong(key, v, "a number");
                None
            }
        }
    }

    /// A number, or (for JSONata states) a string expression; kept as written.
    fn opt_number_or_string(&mut self, key: &str) -> Option<Value> {
        match self.take(key)? {
            v @ (Value::Number(_) | Value::String(_)) => Some(v),
            v => {
                self.wrong(key, v, "a number (or a JSONata expression string)");
                None
            }
        }
    }

    fn opt_any(&mut self, key: &str) -> Option<Value> {
        self.take(key)
    }

    fn opt_object(&mut self, key: &str) -> Option<Value> {
        match self.take(key)? {
            v @ Value::Object(_) => Some(v),
            v => {
                self.wrong(key, v, "an object");
                None
            }
        }
    }

    fn opt_path_field(&mut self, key: &str) -> Option<PathField> {
        match self.take(key)? {
            Value::Null => Some(PathField::Null),
            Value::String(s) => Some(PathField::Path(s)),
            v => {
                self.wrong(key, v, "a path string or null");
                None
            }
        }
    }

    fn opt_query_language(&mut self, key: &str) -> Option<QueryLanguage> {
        match self.take(key)? {
            Value::String(s) if s == "JSONPath" => Some(QueryLanguage::JsonPath),
            Value::String(s) if s == "JSONata" => Some(QueryLanguage::Jsonata),
            v => {
                self.wrong(key, v, "\"JSONPath\" or \"JSONata\"");
                None
            }
        }
    }

    fn opt_strings(&mut self, key: &str) -> Option<Vec<String>> {
        match self.take(key)? {
            Value::Array(items) if items.iter().all(Value::is_string) => Some(
                items
                    .into_iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
            ),
            v => {
                self.wrong(key, v, "an array of strings");
                None
            }
        }
    }

    fn transition(&mut self) -> Transition {
        Transition {
            next: self.opt_string("Next"),
            end: self.opt_bool("End"),
        }
    }

    fn take_states(&mut self) -> IndexMap<String, State> {
        let mut states = IndexMap::new();
        let ptr = self.at("States");
        match self.take("States") {
            None => {
                let msg = format!("{} is missing the required field `States`", self.what);
                self.schema(self.ptr.clone(), msg);
            }
            Some(Value::Object(map)) => {
                for (name, v) in map {
                    let sptr = push_pointer(&ptr, &name);
                    if let Some(state) = parse_state(v, sptr, self.cx) {
                        states.insert(name, state);
                    }
                }
            }
            Some(v) => self.wrong("States", v, "an object of named states"),
        }
        states
    }

    fn error_handling(&mut self) -> ErrorHandling {
        let mut out = ErrorHandling::default();
        if let Some(v) = self.take("Retry") {
            out.has_retry = true;
            match v {
                Value::Array(items) => {
                    let base = self.at("Retry");
                    for (i, item) in items.into_iter().enumerate() {
                        let p = push_pointer(&base, &i.to_string());
                        if let Some(r) = parse_retrier(item, p, self.cx) {
                            out.retry.push(r);
                        }
                    }
                }
                v => self.wrong("Retry", v, "an array of retriers"),
            }
        }
        if let Some(v) = self.take("Catch") {
            out.has_catch = true;
            match v {
                Value::Array(items) => {
                    let base = self.at("Catch");
                    for (i, item) in items.into_iter().enumerate() {
                        let p = push_pointer(&base, &i.to_string());
                        if let Some(c) = parse_catcher(item, p, self.cx) {
                            out.catch.push(c);
                        }
                    }
                }
                v => self.wrong("Catch", v, "an array of catchers"),
            }
        }
        out
    }

    fn result_fields(&mut self) -> ResultFields {
        ResultFields {
            parameters: self.opt_any("Parameters"),
            arguments: self.opt_any("Arguments"),
            result_selector: self.opt_any("ResultSelector"),
            result_path: self.opt_path_field("ResultPath"),
        }
    }

    fn branch(&mut self, key: &str, ptr: String) -> Option<Branch> {
        match self.take(key)? {
            Value::Object(map) => Some(parse_branch(map, ptr, self.cx)),
            v => {
                self.wrong(key, v, "an object with `StartAt` and `States`");
                None
            }
        }
    }

    /// Ends the object: every field not taken is reported (as not allowed for this `Type`, or as
    /// unknown, with a suggestion) and kept verbatim.
    fn finish(mut self, known_elsewhere: &[&str]) -> Extra {
        let rest = std::mem::take(&mut self.map);
        for (key, value) in rest {
            let ptr = self.at(&key);
            let msg = if known_elsewhere.contains(&key.as_str()) {
                format!("the field `{key}` is not allowed in {}", self.what)
            } else {
                let mut m = format!("unknown field `{key}` in {}", self.what);
                if let Some(s) = did_you_mean(&key, known_elsewhere.iter().copied()) {
                    m.push_str(&format!("; did you mean `{s}`?"));
                }
                m
            };
            self.schema(ptr, msg);
            self.extra.insert(key, value);
        }
        self.extra
    }
}

fn parse_branch(map: Map<String, Value>, ptr: String, cx: &mut Vec<Diagnostic>) -> Branch {
    let mut o = Obj::new(map, ptr, cx, "a branch or item processor");
    let comment = o.opt_string("Comment");
    let processor_config = o.opt_object("ProcessorConfig");
    let query_language = o.opt_query_language("QueryLanguage");
    let start_at = o.req_string("StartAt");
    let states = o.take_states();
    let extra = o.finish(&["StartAt", "States", "Comment", "ProcessorConfig"]);
    Branch {
        comment,
        start_at,
        states,
        processor_config,
        query_language,
        extra,
    }
}

fn parse_retrier(v: Value, ptr: String, cx: &mut Vec<Diagnostic>) -> Option<Retrier> {
    let map = match v {
        Value::Object(m) => m,
        other => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                ptr,
                format!("a retrier must be an object, found {}", describe(&other)),
            ));
            return None;
        }
    };
    let mut o = Obj::new(map, ptr, cx, "a retrier");
    let error_equals = required_error_equals(&mut o);
    let r = Retrier {
        error_equals,
        interval_seconds: o.opt_number("IntervalSeconds"),
        max_attempts: o.opt_number("MaxAttempts"),
        backoff_rate: o.opt_number("BackoffRate"),
        max_delay_seconds: o.opt_number("MaxDelaySeconds"),
        jitter_strategy: o.opt_string("JitterStrategy"),
        comment: o.opt_string("Comment"),
        extra: Extra::new(),
    };
    let extra = o.finish(&[
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    ]);
    Some(Retrier { extra, ..r })
}

fn required_error_equals(o: &mut Obj<'_>) -> Vec<String> {
    if !o.map.contains_key("ErrorEquals") {
        let msg = format!("{} is missing the required field `ErrorEquals`", o.what);
        o.schema(o.ptr.clone(), msg);
        return Vec::new();
    }
    o.opt_strings("ErrorEquals").unwrap_or_default()
}

fn parse_catcher(v: Value, ptr: String, cx: &mut Vec<Diagnostic>) -> Option<Catcher> {
    let map = match v {
        Value::Object(m) => m,
        other => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                ptr,
                format!("a catcher must be an object, found {}", describe(&other)),
            ));
            return None;
        }
    };
    let mut o = Obj::new(map, ptr, cx, "a catcher");
    let error_equals = required_error_equals(&mut o);
    let c = Catcher {
        error_equals,
        next: Some(o.req_string("Next")),
        result_path: o.opt_path_field("ResultPath"),
        output: o.opt_any("Output"),
        assign: o.opt_any("Assign"),
        comment: o.opt_string("Comment"),
        extra: Extra::new(),
    };
    let extra = o.finish(&[
        "ErrorEquals",
        "Next",
        "ResultPath",
        "Output",
        "Assign",
        "Comment",
    ]);
    Some(Catcher { extra, ..c })
}

/// The fields each state type accepts, beyond `Type`.
fn allowed_fields(ty: &str) -> &'static [&'static str] {
    const IO: [&str; 6] = [
        "Comment",
        "QueryLanguage",
        "InputPath",
        "OutputPath",
        "Output",
        "Assign",
    ];
    match ty {
        "Task" => &[
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Next",
            "End",
            "Resource",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
            "TimeoutSeconds",
            "TimeoutSecondsPath",
            "HeartbeatSeconds",
            "HeartbeatSecondsPath",
            "Credentials",
        ],
        "Pass" => &[
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Next",
            "End",
            "Result",
            "Parameters",
            "ResultPath",
        ],
        "Choice" => &[
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Choices",
            "Default",
        ],
        "Wait" => &[
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Next",
            "End",
            "Seconds",
            "Timestamp",
            "SecondsPath",
            "TimestampPath",
        ],
        "Succeed" => &IO,
        "Fail" => &[
            "Comment",
            "QueryLanguage",
            "Error",
            "ErrorPath",
            "Cause",
            "CausePath",
        ],
        "Parallel" => &[
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Next",
            "End",
            "Branches",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        "Map" => &[
            "Comment",
            "QueryLanguage",
            "InputPath",
            "OutputPath",
            "Output",
            "Assign",
            "Next",
            "End",
            "ItemProcessor",
            "Iterator",
            "ItemsPath",
            "Items",
            "ItemSelector",
            "ItemReader",
            "ItemBatcher",
            "ResultWriter",
            "MaxConcurrency",
            "MaxConcurrencyPath",
            "ToleratedFailurePercentage",
            "ToleratedFailurePercentagePath",
            "ToleratedFailureCount",
            "ToleratedFailureCountPath",
            "Label",
            "Parameters",
            "Arguments",
            "ResultSelector",
            "ResultPath",
            "Retry",
            "Catch",
        ],
        _ => &[],
    }
}

const STATE_TYPES: &[&str] = &[
    "Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map",
];

fn parse_state(v: Value, ptr: String, cx: &mut Vec<Diagnostic>) -> Option<State> {
    let mut map = match v {
        Value::Object(map) => map,
        v => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                ptr,
                format!("a state must be a JSON object, found {}", describe(&v)),
            ));
            return None;
        }
    };
    let ty = match map.get("Type") {
        Some(Value::String(t)) if STATE_TYPES.contains(&t.as_str()) => t.clone(),
        Some(Value::String(t)) => {
            let mut msg = format!(
                "unknown state `Type` \"{t}\"; expected one of: {}",
                STATE_TYPES.join(", ")
            );
            if let Some(s) = did_you_mean(t, STATE_TYPES.iter().copied()) {
                msg.push_str(&format!("; did you mean \"{s}\"?"));
            }
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                push_pointer(&ptr, "Type"),
                msg,
            ));
            return None;
        }
        Some(other) => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                push_pointer(&ptr, "Type"),
                format!("`Type` must be a string, found {}", describe(other)),
            ));
            return None;
        }
        None => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                ptr,
                "a state is missing the required field `Type`",
            ));
            return None;
        }
    };
    map.shift_remove("Type");
    let what: &'static str = match ty.as_str() {
        "Task" => "a Task state",
        "Pass" => "a Pass state",
        "Choice" => "a Choice state",
        "Wait" => "a Wait state",
        "Succeed" => "a Succeed state",
        "Fail" => "a Fail state",
        "Parallel" => "a Parallel state",
        _ => "a Map state",
    };
    let allowed = allowed_fields(&ty);
    // Fields valid for other types are reported by `finish` as "not allowed"; remove them from the
    // map before reading so a Pass state's `Resource` is not read as a Task field.
    let mut o = Obj::new(map, ptr.clone(), cx, what);
    let common = Common {
        comment: o.opt_string("Comment"),
        query_language: o.opt_query_language("QueryLanguage"),
        input_path: if allowed.contains(&"InputPath") {
            o.opt_path_field("InputPath")
        } else {
            None
        },
        output_path: if allowed.contains(&"OutputPath") {
            o.opt_path_field("OutputPath")
        } else {
            None
        },
        output: if allowed.contains(&"Output") {
            o.opt_any("Output")
        } else {
            None
        },
        assign: if allowed.contains(&"Assign") {
            o.opt_any("Assign")
        } else {
            None
        },
        extra: Extra::new(),
    };
    let kind = match ty.as_str() {
        "Task" => StateKind::Task(Box::new(Task {
            resource: o.req_string("Resource"),
            transition: o.transition(),
            result: o.result_fields(),
            errors: o.error_handling(),
            timeout_seconds: o.opt_number_or_string("TimeoutSeconds"),
            timeout_seconds_path: o.opt_string("TimeoutSecondsPath"),
            heartbeat_seconds: o.opt_number_or_string("HeartbeatSeconds"),
            heartbeat_seconds_path: o.opt_string("HeartbeatSecondsPath"),
            credentials: o.opt_any("Credentials"),
        })),
        "Pass" => StateKind::Pass(Pass {
            transition: o.transition(),
            result: o.opt_any("Result"),
            parameters: o.opt_any("Parameters"),
            result_path: o.opt_path_field("ResultPath"),
        }),
        "Choice" => {
            let choices = match o.take("Choices") {
                Some(Value::Array(items)) => {
                    let base = o.at("Choices");
                    items
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, item)| {
                            parse_rule(item, push_pointer(&base, &i.to_string()), o.cx, true)
                        })
                        .collect()
                }
                Some(v) => {
                    o.wrong("Choices", v, "a non-empty array of choice rules");
                    Vec::new()
                }
                None => {
                    let msg = "a Choice state is missing the required field `Choices`".to_owned();
                    o.schema(o.ptr.clone(), msg);
                    Vec::new()
                }
            };
            StateKind::Choice(Choice {
                choices,
                default: o.opt_string("Default"),
            })
        }
        "Wait" => StateKind::Wait(Wait {
            transition: o.transition(),
            seconds: o.opt_number_or_string("Seconds"),
            timestamp: o.opt_string("Timestamp"),
            seconds_path: o.opt_string("SecondsPath"),
            timestamp_path: o.opt_string("TimestampPath"),
        }),
        "Succeed" => StateKind::Succeed,
        "Fail" => StateKind::Fail(Fail {
            error: o.opt_string("Error"),
            error_path: o.opt_string("ErrorPath"),
            cause: o.opt_string("Cause"),
            cause_path: o.opt_string("CausePath"),
        }),
        "Parallel" => {
            let branches = match o.take("Branches") {
                Some(Value::Array(items)) => {
                    let base = o.at("Branches");
                    let mut out = Vec::new();
                    for (i, item) in items.into_iter().enumerate() {
                        let p = push_pointer(&base, &i.to_string());
                        match item {
                            Value::Object(m) => out.push(parse_branch(m, p, o.cx)),
                            other => o.schema(
                                p,
                                format!("a branch must be an object, found {}", describe(&other)),
                            ),
                        }
                    }
                    out
                }
                Some(v) => {
                    o.wrong("Branches", v, "an array of branches");
                    Vec::new()
                }
                None => {
                    let msg =
                        "a Parallel state is missing the required field `Branches`".to_owned();
                    o.schema(o.ptr.clone(), msg);
                    Vec::new()
                }
            };
            StateKind::Parallel(Box::new(Parallel {
                branches,
                transition: o.transition(),
                result: o.result_fields(),
                errors: o.error_handling(),
            }))
        }
        _ => {
            let (processor, processor_key) = if o.map.contains_key("ItemProcessor") {
                let p = o.at("ItemProcessor");
                (o.branch("ItemProcessor", p), ProcessorKey::ItemProcessor)
            } else if o.map.contains_key("Iterator") {
                let p = o.at("Iterator");
                (o.branch("Iterator", p), ProcessorKey::Iterator)
            } else {
                let msg =
                    "a Map state is missing the required field `ItemProcessor` (or the legacy `Iterator`)"
                        .to_owned();
                o.schema(o.ptr.clone(), msg);
                (None, ProcessorKey::ItemProcessor)
            };
            StateKind::Map(Box::new(MapState {
                processor,
                processor_key,
                transition: o.transition(),
                result: o.result_fields(),
                errors: o.error_handling(),
                items_path: o.opt_string("ItemsPath"),
                items: o.opt_any("Items"),
                item_selector: o.opt_any("ItemSelector"),
                item_reader: o.opt_object("ItemReader"),
                item_batcher: o.opt_object("ItemBatcher"),
                result_writer: o.opt_object("ResultWriter"),
                max_concurrency: o.opt_number_or_string("MaxConcurrency"),
                max_concurrency_path: o.opt_string("MaxConcurrencyPath"),
                tolerated_failure_percentage: o.opt_number_or_string("ToleratedFailurePercentage"),
                tolerated_failure_percentage_path: o.opt_string("ToleratedFailurePercentagePath"),
                tolerated_failure_count: o.opt_number_or_string("ToleratedFailureCount"),
                tolerated_failure_count_path: o.opt_string("ToleratedFailureCountPath"),
                label: o.opt_string("Label"),
            }))
        }
    };
    let extra = o.finish(KNOWN_STATE_FIELDS);
    Some(State {
        common: Common { extra, ..common },
        kind,
    })
}

const RULE_FIELDS: &[&str] = &[
    "Variable",
    "Next",
    "Comment",
    "Assign",
    "Output",
    "Condition",
    "And",
    "Or",
    "Not",
];

fn parse_rule(v: Value, ptr: String, cx: &mut Vec<Diagnostic>, top: bool) -> Option<ChoiceRule> {
    let map = match v {
        Value::Object(m) => m,
        other => {
            cx.push(Diagnostic::new(
                Code::SchemaValidationFailed,
                ptr,
                format!(
                    "a choice rule must be an object, found {}",
                    describe(&other)
                ),
            ));
            return None;
        }
    };
    let what = if top {
        "a choice rule"
    } else {
        "a nested choice rule"
    };
    let mut o = Obj::new(map, ptr, cx, what);
    let next = o.opt_string("Next");
    let comment = o.opt_string("Comment");
    let assign = o.opt_any("Assign");
    let output = o.opt_any("Output");
    let variable = o.opt_string("Variable");

    let mut conditions: Vec<(String, Condition)> = Vec::new();
    if let Some(c) = o.take("Condition") {
        conditions.push(("Condition".into(), Condition::Jsonata(c)));
    }
    for key in ["And", "Or"] {
        if let Some(v) = o.take(key) {
            match v {
                Value::Array(items) => {
                    let base = o.at(key);
                    let rules: Vec<ChoiceRule> = items
                        .into_iter()
                        .enumerate()
                        .filter_map(|(i, item)| {
                            parse_rule(item, push_pointer(&base, &i.to_string()), o.cx, false)
                        })
                        .collect();
                    let c = if key == "And" {
                        Condition::And(rules)
                    } else {
                        Condition::Or(rules)
                    };
                    conditions.push((key.into(), c));
                }
                v => o.wrong(key, v, "an array of choice rules"),
            }
        }
    }
    if let Some(v) = o.take("Not") {
        let p = o.at("Not");
        if let Some(rule) = parse_rule(v, p, o.cx, false) {
            conditions.push(("Not".into(), Condition::Not(Box::new(rule))));
        }
    }
    // Comparison operators: every remaining key that names one.
    let op_keys: Vec<String> = o
        .map
        .keys()
        .filter(|k| Operator::from_name(k).is_some())
        .cloned()
        .collect();
    for key in op_keys {
        let operand = o.take(&key).unwrap_or(Value::Null);
        let op = Operator::from_name(&key).unwrap_or(Operator::IsPresent);
        match &variable {
            Some(var) => conditions.push((
                key,
                Condition::Compare {
                    variable: var.clone(),
                    op,
                    operand,
                },
            )),
            None => {
                let msg = format!(
                    "the comparison `{key}` needs a `Variable` field naming the path to test"
                );
                o.schema(o.at(&key), msg);
                o.extra.insert(key, operand);
            }
        }
    }
    let condition = match conditions.len() {
        0 => {
            let msg = format!(
                "{what} must have exactly one test: a comparison operator with `Variable`, `And`, `Or`, `Not` or (JSONata) `Condition`"
            );
            o.schema(o.ptr.clone(), msg);
            Condition::Missing {
                variable: variable.clone(),
            }
        }
        _ => {
            let mut it = conditions.into_iter();
            let (first_key, first) = it.next().expect("conditions has at least one element");
            for (key, c) in it {
                let msg = format!(
                    "{what} may have only one test, but has both `{first_key}` and `{key}`"
                );
                o.schema(o.at(&key), msg);
                let emitted = crate::emit::condition_fields(&c);
                for (k, v) in emitted {
                    if k != "Variable" {
                        o.extra.insert(k, v);
                    }
                }
            }
            if let (Some(var), false) = (&variable, matches!(first, Condition::Compare { .. })) {
                let msg = "`Variable` is only allowed with a comparison operator".to_owned();
                o.schema(o.at("Variable"), msg);
                o.extra
                    .insert("Variable".into(), Value::String(var.clone()));
            }
            first
        }
    };
    let extra = o.finish(RULE_FIELDS);
    Some(ChoiceRule {
        condition,
        next,
        comment,
        assign,
        output,
        extra,
    })
}

/// A short description of a JSON value for messages: its type and, when short, the value.
pub(crate) fn describe(v: &Value) -> String {
    let text = v.to_string();
    if text.len() <= 40 {
        format!("{} {text}", kind(v))
    } else {
        kind(v).to_owned()
    }
}

/// The JSON type name of a value.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
