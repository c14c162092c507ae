//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`, …): JSON whose fields named
//! `name.$` take their value from a path or an intrinsic function call.
//!
//! [`Template::compile`] parses every path and call once; [`Template::evaluate`] then builds the
//! payload without reparsing. Rules (as AWS applies them):
//!
//! * a key ending in `.$` must have a string value that is a path (`$…`, `$$…`, `$var…`) or an
//!   intrinsic call (`States.…`); the output key drops the `.$`;
//! * objects are processed at every depth, including objects inside arrays;
//! * every other value is copied as written (a `.$`-free subtree is kept as one constant);
//! * an indefinite path gives the array of its matches; a definite path that selects nothing
//!   fails the state.
//!
//! # Failures
//!
//! Both are `States.Runtime`; the executor prefixes the cause with `An error occurred while
//! executing the state '<name>' (entered at the event id #<n>). `:
//!
//! * a path field that selects nothing:
//!   `The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in
//!   the input '{"int-literal":0}'` (the input is the state's effective input as compact JSON,
//!   also for `$$.` paths; recorded against AWS in
//!   `scenarios/test_base_scenarios__test_invalid_jsonpath_INVALID_JSONPATH_IN_STRING_EXPR_*`);
//! * an intrinsic call that fails: see [`crate::intrinsic`].

use std::fmt;

use serde_json::{Map, Value};

use crate::diag::push_pointer;
use crate::error::Failure;
use crate::eval::{java_json, Entropy, Env};
use crate::intrinsic::{is_intrinsic, Call};
use crate::path::Path;

/// A payload template compiled once (paths and intrinsics parsed ahead), evaluated many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree without `.$` fields, copied as is.
    Const(Value),
    /// An object with at least one dynamic field somewhere below; keys are output keys.
    Object(Vec<(String, Node)>),
    /// An array with at least one dynamic element somewhere below.
    Array(Vec<Node>),
    /// `"key.$": "$.path"`; `field` is the key as written (with `.$`), for causes.
    Path { field: String, path: Path },
    /// `"key.$": "States.Fn(...)"`.
    Call(Box<Call>),
}

/// A field whose `.$` value is not a valid path or intrinsic call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// RFC 6901 pointer to the field, relative to the template root (`/a/b.$`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", self.message)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// Compiles a template, reporting every malformed `.$` field.
    pub fn compile(template: &Value) -> Result<Template, Vec<TemplateError>> {
        let mut errors = Vec::new();
        let node = compile(template, "", &mut errors);
        if errors.is_empty() {
            Ok(Template { node })
        } else {
            Err(errors)
        }
    }

    /// True when the template has no `.$` field (its value never changes).
    pub fn is_constant(&self) -> bool {
        matches!(self.node, Node::Const(_))
    }

    /// Builds the payload. Fails with `States.Runtime` and AWS's cause (see the module docs).
    pub fn evaluate(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Failure> {
        eval(&self.node, env, rng)
    }
}

fn compile(value: &Value, pointer: &str, errors: &mut Vec<TemplateError>) -> Node {
    match value {
        Value::Object(map) => {
            let mut fields = Vec::with_capacity(map.len());
            let mut dynamic = false;
            for (key, v) in map {
                let here = push_pointer(pointer, key);
                match key.strip_suffix(".$") {
                    Some(out) => {
                        dynamic = true;
                        match compile_dynamic(key, v) {
                            Ok(node) => fields.push((out.to_string(), node)),
                            Err(message) => errors.push(TemplateError {
                                pointer: here,
                                message,
                            }),
                        }
                    }
                    None => {
                        let node = compile(v, &here, errors);
                        dynamic |= !matches!(node, Node::Const(_));
                        fields.push((key.clone(), node));
                    }
                }
            }
            if dynamic {
                Node::Object(fields)
            } else {
                Node::Const(value.clone())
            }
        }
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, v)| compile(v, &push_pointer(pointer, &i.to_string()), errors))
                .collect();
            if nodes.iter().all(|n| matches!(n, Node::Const(_))) {
                Node::Const(value.clone())
            } else {
                Node::Array(nodes)
            }
        }
        other => Node::Const(other.clone()),
    }
}

fn compile_dynamic(key: &str, value: &Value) -> Result<Node, String> {
    let prefix =
        format!("The value for the field '{key}' must be a valid JSONPath or a valid intrinsic function call");
    let Value::String(text) = value else {
        return Err(format!("{prefix}, not a JSON {}", kind(value)));
    };
    if is_intrinsic(text) {
        Call::parse(text)
            .map(|c| Node::Call(Box::new(c)))
            .map_err(|e| format!("{prefix}: {e}"))
    } else if text.trim_start().starts_with('$') {
        Path::parse(text)
            .map(|path| Node::Path {
                field: key.to_string(),
                path,
            })
            .map_err(|e| format!("{prefix}: {e}"))
    } else {
        Err(prefix)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn eval(node: &Node, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Failure> {
    match node {
        Node::Const(v) => Ok(v.clone()),
        Node::Object(fields) => {
            let mut map = Map::with_capacity(fields.len());
            for (key, child) in fields {
                map.insert(key.clone(), eval(child, env, rng)?);
            }
            Ok(Value::Object(map))
        }
        Node::Array(items) => items
            .iter()
            .map(|n| eval(n, env, rng))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Node::Path { field, path } => match path.evaluate(env) {
            Ok(selected) => Ok(selected.into_value()),
            Err(_) => Err(Failure::runtime(format!(
                "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                path.as_str(),
                field,
                java_json(env.input)
            ))),
        },
        Node::Call(call) => call.evaluate(env, rng),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::names;
    use crate::eval::SplitMix64;
    use serde_json::json;

    fn run(template: Value, input: Value) -> Result<Value, Failure> {
        let ctx = json!({"Execution": {"Id": "arn:e", "Input": {"k": "v"}}});
        let mut vars = Map::new();
        vars.insert("greeting".into(), json!("hi"));
        let env = Env::new(&input, &ctx, &vars);
        let t = Template::compile(&template).unwrap_or_else(|e| panic!("{e:?}"));
        t.evaluate(&env, &mut SplitMix64::new(9))
    }

    #[test]
    fn builds_payloads() {
        let input = json!({"a": {"b": 1}, "list": [1, 2, 3], "s": "x"});
        let cases: Vec<(Value, Value)> = vec![
            (json!({"flagged": true}), json!({"flagged": true})),
            (json!({"v.$": "$.a.b"}), json!({"v": 1})),
            (json!({"v.$": "$"}), json!({"v": input.clone()})),
            (json!({"v.$": "$.list[1:]"}), json!({"v": [2, 3]})),
            (json!({"v.$": "$.missing[*]"}), json!({"v": []})),
            (json!({"v.$": "$.list[7]"}), json!({"v": null})),
            (json!({"v.$": "$$.Execution.Input.k"}), json!({"v": "v"})),
            (json!({"v.$": "$greeting"}), json!({"v": "hi"})),
            (
                json!({"v.$": "States.Format('{}-{}', $.s, $greeting)"}),
                json!({"v": "x-hi"}),
            ),
            (
                json!({"outer": {"inner.$": "$.s", "lit": [1, {"deep.$": "$.a"}]}, "n": 1}),
                json!({"outer": {"inner": "x", "lit": [1, {"deep": {"b": 1}}]}, "n": 1}),
            ),
            (json!([{"x.$": "$.s"}, 2]), json!([{"x": "x"}, 2])),
            (json!("plain"), json!("plain")),
            (json!({"plain.$$": "$.s"}), json!({"plain.$$": "$.s"})),
        ];
        for (template, want) in cases {
            assert_eq!(run(template.clone(), input.clone()), Ok(want), "{template}");
        }
    }

    #[test]
    fn keeps_key_order() {
        let out = run(json!({"z": 1, "a.$": "$.s", "m": 2}), json!({"s": "x"})).unwrap();
        assert_eq!(out.to_string(), r#"{"z":1,"a":"x","m":2}"#);
    }

    #[test]
    fn constant_templates_are_folded() {
        let t = Template::compile(&json!({"a": [1, {"b": 2}]})).unwrap();
        assert!(t.is_constant());
        let t = Template::compile(&json!({"a": [1, {"b.$": "$"}]})).unwrap();
        assert!(!t.is_constant());
    }

    #[test]
    fn missing_path_fails_like_aws() {
        let f = run(
            json!({"value.$": "$.no_such_jsonpath"}),
            json!({"int-literal": 0}),
        )
        .unwrap_err();
        assert_eq!(f.error, names::RUNTIME);
        assert_eq!(
            f.cause,
            "The JSONPath '$.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
        );
        let f = run(
            json!({"value.$": "$$.Execution.Input.no_such_jsonpath"}),
            json!({"int-literal": 0}),
        )
        .unwrap_err();
        assert_eq!(
            f.cause,
            "The JSONPath '$$.Execution.Input.no_such_jsonpath' specified for the field 'value.$' could not be found in the input '{\"int-literal\":0}'"
        );
        let f = run(json!({"a": {"deep.$": "$.x.y"}}), json!({})).unwrap_err();
        assert_eq!(
            f.cause,
            "The JSONPath '$.x.y' specified for the field 'deep.$' could not be found in the input '{}'"
        );
        let f = run(json!({"v.$": "States.ArrayLength($.nope)"}), json!({})).unwrap_err();
        assert_eq!(f.error, names::RUNTIME);
        assert!(f
            .cause
            .starts_with("The function 'States.ArrayLength($.nope)' had the following error"));
    }

    #[test]
    fn reports_every_bad_field() {
        let errors = Template::compile(&json!({
            "ok.$": "$.a",
            "num.$": 1,
            "nested": {"bad.$": "not a path", "list": [{"call.$": "States.Nope()"}]},
            "path.$": "$.a[",
            "a/b.$": "$$"
        }))
        .unwrap_err();
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/num.$",
                "/nested/bad.$",
                "/nested/list/0/call.$",
                "/path.$"
            ]
        );
        assert_eq!(
            errors[0].message,
            "The value for the field 'num.$' must be a valid JSONPath or a valid intrinsic function call, not a JSON number"
        );
        assert_eq!(
            errors[1].message,
            "The value for the field 'bad.$' must be a valid JSONPath or a valid intrinsic function call"
        );
        assert!(errors[2]
            .message
            .contains("unknown intrinsic function 'States.Nope'"));
        assert!(errors[3].message.contains("invalid JSONPath '$.a['"));
        assert_eq!(
            errors[1].to_string(),
            format!("/nested/bad.$: {}", errors[1].message)
        );
    }
}

/// Runs every recorded AWS execution whose definition is made only of JSONPath `Pass` states through
/// this crate's paths, templates and intrinsics (InputPath → Parameters/Result → ResultPath →
/// OutputPath), comparing outputs and failure causes with what AWS recorded.
#[cfg(test)]
mod conformance {
    use super::*;
    use crate::eval::SplitMix64;
    use crate::model::PathField;
    use crate::path::apply_result_path;
    use std::path::PathBuf;

    const FIELDS: &[&str] = &[
        "Type",
        "End",
        "Comment",
        "Parameters",
        "InputPath",
        "ResultPath",
        "OutputPath",
        "Result",
    ];

    /// `$WORKFLOW_CONFORMANCE_DIR` (the `conformance` folder), else `../shared/conformance`
    /// beside the workspace.
    fn executions_dir() -> PathBuf {
        std::env::var_os("WORKFLOW_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance")
            })
            .join("localstack/executions")
    }

    fn files(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }

    /// The states of a JSONPath definition made only of `Pass` states, in execution order
    /// (following `StartAt` and `Next`).
    fn pass_chain(case: &Value) -> Option<Vec<(&str, &Map<String, Value>)>> {
        let def = case.get("definition")?.as_object()?;
        if def.contains_key("QueryLanguage") {
            return None;
        }
        let states = def.get("States")?.as_object()?;
        let mut chain = Vec::new();
        let mut next = def.get("StartAt")?.as_str()?;
        loop {
            let (name, state) = states.get_key_value(next)?;
            let state = state.as_object()?;
            if state.get("Type")? != "Pass"
                || !state
                    .keys()
                    .all(|k| FIELDS.contains(&k.as_str()) || k == "Next")
                || chain.len() > states.len()
            {
                return None;
            }
            chain.push((name.as_str(), state));
            match state.get("Next").and_then(Value::as_str) {
                Some(n) => next = n,
                None => return Some(chain),
            }
        }
    }

    fn path_field(v: Option<&Value>) -> Option<PathField> {
        match v? {
            Value::Null => Some(PathField::Null),
            Value::String(s) => Some(PathField::Path(s.clone())),
            _ => None,
        }
    }

    /// Runs the state; `Err((error, cause))` on failure.
    fn run_pass(
        name: &str,
        state: &Map<String, Value>,
        input: &Value,
        execution_input: &Value,
        express: bool,
    ) -> Result<Value, (String, String)> {
        // The context object AWS gives a Pass state (no `RetryCount`).
        let context = serde_json::json!({
            "Execution": {
                "Id": "arn:aws:states:us-east-1:111111111111:execution:machine-name:exec-name",
                "Input": execution_input,
                "StartTime": "2024-01-01T00:00:00.000Z",
                "Name": "exec-name",
                "RoleArn": "arn:aws:iam::111111111111:role/role",
                "RedriveCount": 0
            },
            "StateMachine": {
                "Id": "arn:aws:states:us-east-1:111111111111:stateMachine:machine-name",
                "Name": "machine-name"
            },
            "State": {"Name": name, "EnteredTime": "2024-01-01T00:00:00.000Z"}
        });
        let mut context = context;
        if express {
            // Express executions cannot be redriven: their context has no RedriveCount.
            if let Some(Value::Object(e)) = context.get_mut("Execution") {
                e.remove("RedriveCount");
                e.insert(
                    "Id".into(),
                    "arn:aws:states:us-east-1:111111111111:express:machine-name:exec-name:0000"
                        .into(),
                );
            }
        }
        let vars = Map::new();
        let fail = |f: Failure| (f.error, f.cause);
        let select = |text: &str, value: &Value| -> Result<Value, (String, String)> {
            let path = Path::parse(text).map_err(|e| ("Parse".to_string(), e.to_string()))?;
            let env = Env::new(value, &context, &vars);
            path.evaluate(&env)
                .map(|s| s.into_value())
                .map_err(|m| ("States.Runtime".to_string(), m.invalid_path_cause(&path)))
        };
        let effective = match path_field(state.get("InputPath")) {
            None => input.clone(),
            Some(PathField::Null) => Value::Object(Map::new()),
            Some(PathField::Path(p)) => select(&p, input)?,
        };
        let result = match (state.get("Parameters"), state.get("Result")) {
            (Some(params), _) => {
                let template = Template::compile(params)
                    .map_err(|e| ("Compile".to_string(), format!("{e:?}")))?;
                let env = Env::new(&effective, &context, &vars);
                template
                    .evaluate(&env, &mut SplitMix64::new(7))
                    .map_err(fail)?
            }
            (None, Some(result)) => result.clone(),
            (None, None) => effective.clone(),
        };
        let merged = apply_result_path(
            input.clone(),
            path_field(state.get("ResultPath")).as_ref(),
            result,
        )
        .map_err(fail)?;
        match path_field(state.get("OutputPath")) {
            None => Ok(merged),
            Some(PathField::Null) => Ok(Value::Object(Map::new())),
            Some(PathField::Path(p)) => select(&p, &merged),
        }
    }

    /// Compares modulo the placeholders LocalStack's snapshot transformers left in expected
    /// values (`<ArnPart_0idx>`, `RandomNumberGenerated`).
    fn matches(expected: &Value, actual: &Value) -> bool {
        match (expected, actual) {
            (Value::String(e), _) if e == "RandomNumberGenerated" => actual.is_number(),
            (Value::String(e), Value::String(_))
                if [
                    "date",
                    "start-time",
                    "entered-time",
                    "snf_role_arn",
                    "sfn_role_arn",
                ]
                .contains(&e.as_str()) =>
            {
                true
            }
            (Value::String(e), Value::String(a)) if e.contains('<') && e.contains('>') => {
                let mut pattern = String::from("^");
                let mut rest = e.as_str();
                while let Some(open) = rest.find('<') {
                    let Some(close) = rest[open..].find('>') else {
                        break;
                    };
                    pattern.push_str(&regex::escape(&rest[..open]));
                    pattern.push_str(".*?");
                    rest = &rest[open + close + 1..];
                }
                pattern.push_str(&regex::escape(rest));
                pattern.push('$');
                regex::Regex::new(&pattern).is_ok_and(|r| r.is_match(a))
            }
            (Value::Array(e), Value::Array(a)) => {
                e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
            }
            (Value::Object(e), Value::Object(a)) => {
                e.len() == a.len()
                    && e.iter()
                        .all(|(k, v)| a.get(k).is_some_and(|w| matches(v, w)))
            }
            _ => expected == actual,
        }
    }

    /// Where `actual` first differs from `expected` (for failure messages).
    fn first_mismatch(expected: &Value, actual: &Value, at: &str) -> Option<String> {
        match (expected, actual) {
            (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
                .iter()
                .zip(a)
                .enumerate()
                .find_map(|(i, (x, y))| first_mismatch(x, y, &format!("{at}/{i}"))),
            (Value::Object(e), Value::Object(a)) if e.len() == a.len() => {
                e.iter().find_map(|(k, v)| match a.get(k) {
                    Some(w) => first_mismatch(v, w, &format!("{at}/{k}")),
                    None => Some(format!("{at}/{k}: missing")),
                })
            }
            _ if matches(expected, actual) => None,
            _ => Some(format!("{at}: expected {expected}, got {actual}")),
        }
    }

    #[test]
    fn recorded_pass_state_executions() {
        let root = executions_dir();
        if !root.is_dir() {
            println!(
                "skipping the conformance run: {} is not present",
                root.display()
            );
            return;
        }
        let mut all = Vec::new();
        files(&root, &mut all);
        let mut ran = 0;
        let mut intrinsic_cases = 0;
        let mut failures = Vec::new();
        for file in &all {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            let Ok(case) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            let Some(chain) = pass_chain(&case) else {
                continue;
            };
            let (Some(input), Some(expected)) = (case.get("input"), case.get("expected")) else {
                continue;
            };
            // Payload size limits are the executor's business.
            if expected.get("error").and_then(Value::as_str) == Some("States.DataLimitExceeded") {
                continue;
            }
            ran += 1;
            if file.to_string_lossy().contains("intrinsic_functions") {
                intrinsic_cases += 1;
            }
            let express = case.get("state_machine_type").and_then(Value::as_str) == Some("EXPRESS");
            // Each Pass state records an Entered and an Exited event after ExecutionStarted.
            let mut got = Ok(input.clone());
            let mut at = ("", 2);
            for (k, (name, state)) in chain.iter().enumerate() {
                let Ok(current) = &got else { break };
                at = (name, 2 + 2 * k);
                got = run_pass(name, state, current, input, express);
            }
            let (name, entered) = at;
            let status = expected.get("status").and_then(Value::as_str).unwrap_or("");
            let ok = match (&got, status) {
                (Ok(out), "SUCCEEDED") => expected.get("output").is_some_and(|e| matches(e, out)),
                (Err((error, cause)), "FAILED") => {
                    let prefix = format!(
                        "An error occurred while executing the state '{name}' (entered at the event id #{entered}). "
                    );
                    let want_cause = expected
                        .get("cause")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .replace("<json-input:1>", &java_json(input));
                    expected.get("error").and_then(Value::as_str) == Some(error.as_str())
                        && want_cause == format!("{prefix}{cause}")
                }
                _ => false,
            };
            if !ok {
                let expected_value = expected.get("output").cloned();
                let got_value = got.clone();
                let mut got = format!("{got:?}");
                got.truncate(500);
                let mut expected = expected.to_string();
                expected.truncate(500);
                let mut first = match (&expected_value, &got_value) {
                    (Some(e), Ok(a)) => first_mismatch(e, a, "").unwrap_or_default(),
                    _ => String::new(),
                };
                first.truncate(300);
                failures.push(format!(
                    "{}\n  expected: {expected}\n  got:      {got}\n  first difference: {first}",
                    file.display()
                ));
            }
        }
        println!(
            "ran {ran} recorded Pass-only executions ({intrinsic_cases} intrinsic_functions cases)"
        );
        assert!(
            failures.is_empty(),
            "{} failed:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(
            intrinsic_cases >= 100,
            "only {intrinsic_cases} intrinsic cases found"
        );
    }
}
