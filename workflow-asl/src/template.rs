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
//! # For the executor's hot path
//!
//! * [`Template::evaluate_sized`] also returns an upper bound of the payload's JSON text length
//!   (constant parts and keys are measured at compile time), so that the payload limit can be
//!   checked without walking the payload again;
//! * [`Template::evaluate_replacing`] (`ResultPath` `$`) and [`Template::evaluate_at`] (a
//!   reference `ResultPath`) take the input by value and, when the value being replaced is an
//!   object with the template's keys in the same order (a loop's state from one iteration to
//!   the next), write the new values into it instead of building a new object. The result is
//!   always the same as `evaluate` followed by [`crate::path::apply_result_path`].
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
use crate::eval::{frame_len, java_json, java_json_len, json_string_len, Entropy, Env};
use crate::intrinsic::{is_intrinsic, Call};
use crate::path::{Path, PathRoot};

/// A payload template compiled once (paths and intrinsics parsed ahead), evaluated many times.
///
/// ```
/// use serde_json::{json, Map};
/// use workflow_asl::eval::{Env, SplitMix64};
/// use workflow_asl::template::Template;
///
/// let template = Template::compile(&json!({
///     "id.$": "$.order.id",
///     "greeting.$": "States.Format('Hi {}', $.name)",
///     "fixed": "text",
/// })).unwrap();
/// let input = json!({"order": {"id": 7}, "name": "Ada"});
/// let (context, variables) = (json!({}), Map::new());
/// let payload = template.evaluate(&Env::new(&input, &context, &variables), &mut SplitMix64::new(1)).unwrap();
/// assert_eq!(payload, json!({"id": 7, "greeting": "Hi Ada", "fixed": "text"}));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A subtree without `.$` fields, copied as is, with the length of its JSON text.
    Const(Value, usize),
    /// An object with at least one dynamic field somewhere below; keys are output keys. The
    /// number is the length of the object's own text: braces, commas, keys and colons.
    Object(Vec<(String, Node)>, usize),
    /// An array with at least one dynamic element somewhere below, with the length of its
    /// brackets and commas.
    Array(Vec<Node>, usize),
    /// `"key.$": "$.path"`; `field` is the key as written (with `.$`), for causes;
    /// `from_input`: the path is definite and starts at `$` (what it selects is part of the
    /// input, so no longer than the input's text).
    Path {
        field: String,
        path: Path,
        from_input: bool,
    },
    /// `"key.$": "States.Fn(...)"`.
    Call(Box<Call>),
}

/// A field whose `.$` value is not a valid path or intrinsic call.
///
/// ```
/// let errors = workflow_asl::template::Template::compile(&serde_json::json!({"x.$": "States.Nope()"})).unwrap_err();
/// assert!(errors[0].to_string().starts_with("/x.$: "));
/// ```
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
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::template::Template;
    ///
    /// let errors = Template::compile(&json!({"a": {"b.$": "not a path"}})).unwrap_err();
    /// assert_eq!(errors[0].pointer, "/a/b.$");
    /// ```
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
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::template::Template;
    ///
    /// assert!(Template::compile(&json!({"a": 1})).unwrap().is_constant());
    /// assert!(!Template::compile(&json!({"a.$": "$"})).unwrap().is_constant());
    /// ```
    pub fn is_constant(&self) -> bool {
        matches!(self.node, Node::Const(..))
    }

    /// Builds the payload. Fails with `States.Runtime` and AWS's cause (see the module docs).
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use workflow_asl::eval::{Env, SplitMix64};
    /// use workflow_asl::template::Template;
    ///
    /// let t = Template::compile(&json!({"v.$": "$.missing"})).unwrap();
    /// let (input, context, variables) = (json!({}), json!({}), Map::new());
    /// let err = t.evaluate(&Env::new(&input, &context, &variables), &mut SplitMix64::new(1)).unwrap_err();
    /// assert_eq!(err.error, "States.Runtime");
    /// ```
    pub fn evaluate(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Failure> {
        eval(&self.node, env, rng, None)
    }

    /// [`Template::evaluate`], also returning an upper bound of the length of the payload's
    /// compact JSON text ([`crate::eval::java_json`]), or a number above `limit`, so that a
    /// payload can be checked against a size limit without walking it afterwards.
    ///
    /// The constant parts and keys are sized when the template is compiled; a selected or
    /// computed scalar is sized exactly; a selected array or object counts as `input_len` when
    /// it was selected by a definite path from `$` and `input_len` (an upper bound of the input's
    /// text length) is known, and is measured otherwise (up to `limit`).
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use workflow_asl::eval::{java_json, Env, SplitMix64};
    /// use workflow_asl::template::Template;
    ///
    /// let t = Template::compile(&json!({"n.$": "$.n", "tag": "x"})).unwrap();
    /// let (input, context, variables) = (json!({"n": 12}), json!({}), Map::new());
    /// let (payload, size) = t.evaluate_sized(&Env::new(&input, &context, &variables), &mut SplitMix64::new(1), None, 1 << 20).unwrap();
    /// assert_eq!(payload, json!({"n": 12, "tag": "x"}));
    /// assert!(size >= java_json(&payload).len()); // an upper bound, for the payload limit
    /// ```
    pub fn evaluate_sized(
        &self,
        env: &Env,
        rng: &mut dyn Entropy,
        input_len: Option<usize>,
        limit: usize,
    ) -> Result<(Value, usize), Failure> {
        let mut size = Size {
            input_len,
            limit,
            total: 0,
        };
        let value = eval(&self.node, env, rng, Some(&mut size))?;
        Ok((value, size.total))
    }
}

impl Template {
    /// [`Template::evaluate_sized`] for a payload that replaces the input it is built from (a
    /// `ResultPath` of `$`): the input is given up, and when it is an object with the same keys
    /// as the template's in the same order (the shape a loop hands from one iteration to the
    /// next), the payload is written into it in place, reusing its storage and keys instead of
    /// building a new object. The result is the same as `evaluate_sized` on
    /// `Env::new(&input, context, variables)`; when evaluation fails, the input is dropped.
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use workflow_asl::eval::SplitMix64;
    /// use workflow_asl::template::Template;
    ///
    /// // A loop's Pass state: `{"i.$": "States.MathAdd($.i, 1)"}` with ResultPath `$`.
    /// let t = Template::compile(&json!({"i.$": "States.MathAdd($.i, 1)"})).unwrap();
    /// let (context, variables) = (json!({}), Map::new());
    /// let (next, _) = t.evaluate_replacing(json!({"i": 1}), &context, &variables, &mut SplitMix64::new(1), None, 1 << 20).unwrap();
    /// assert_eq!(next, json!({"i": 2}));
    /// ```
    pub fn evaluate_replacing(
        &self,
        mut input: Value,
        context: &Value,
        variables: &Map<String, Value>,
        rng: &mut dyn Entropy,
        input_len: Option<usize>,
        limit: usize,
    ) -> Result<(Value, usize), Failure> {
        let Some((fields, frame)) = self.shaped_like(&input) else {
            let env = Env::new(&input, context, variables);
            return self.evaluate_sized(&env, rng, input_len, limit);
        };
        let env = Env::new(&input, context, variables);
        let mut values: [Value; IN_PLACE_FIELDS] = Default::default();
        let size = eval_fields(fields, frame, &env, rng, input_len, limit, &mut values)?;
        if let Value::Object(map) = &mut input {
            write_values(map, &mut values);
        }
        Ok((input, size))
    }

    /// Builds the payload and writes it into `input` at the reference path `result_path`
    /// ([`Path::apply_result`]), returning the output and an upper bound of the payload's text
    /// length (as [`Template::evaluate_sized`]). When the value already at that place is an
    /// object with the template's keys in the same order, the payload is written into it in
    /// place. Fails as `evaluate_sized` (on the untouched input) or as `apply_result`.
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use workflow_asl::eval::SplitMix64;
    /// use workflow_asl::path::Path;
    /// use workflow_asl::template::Template;
    ///
    /// let t = Template::compile(&json!({"total.$": "States.MathAdd($.a, $.b)"})).unwrap();
    /// let at = Path::parse("$.sum").unwrap();
    /// let (context, variables) = (json!({}), Map::new());
    /// let (out, _) = t.evaluate_at(json!({"a": 1, "b": 2}), &at, &context, &variables, &mut SplitMix64::new(1), None, 1 << 20).unwrap();
    /// assert_eq!(out, json!({"a": 1, "b": 2, "sum": {"total": 3}}));
    /// ```
    #[allow(clippy::too_many_arguments)]
    pub fn evaluate_at(
        &self,
        mut input: Value,
        result_path: &Path,
        context: &Value,
        variables: &Map<String, Value>,
        rng: &mut dyn Entropy,
        input_len: Option<usize>,
        limit: usize,
    ) -> Result<(Value, usize), Failure> {
        let target = result_path
            .find_mut(&mut input)
            .and_then(|slot| self.shaped_like(slot));
        let Some((fields, frame)) = target else {
            let env = Env::new(&input, context, variables);
            let (value, size) = self.evaluate_sized(&env, rng, input_len, limit)?;
            return Ok((result_path.apply_result(input, value)?, size));
        };
        let env = Env::new(&input, context, variables);
        let mut values: [Value; IN_PLACE_FIELDS] = Default::default();
        let size = eval_fields(fields, frame, &env, rng, input_len, limit, &mut values)?;
        if let Some(Value::Object(map)) = result_path.find_mut(&mut input) {
            write_values(map, &mut values);
        }
        Ok((input, size))
    }

    /// The fields of an object template (and its frame length) when `value` is an object with
    /// the same keys in the same order, and there are few enough of them to evaluate on the
    /// stack.
    fn shaped_like(&self, value: &Value) -> Option<(&[(String, Node)], usize)> {
        match (&self.node, value) {
            (Node::Object(fields, frame), Value::Object(map))
                if fields.len() <= IN_PLACE_FIELDS
                    && map.len() == fields.len()
                    && map.keys().zip(fields).all(|(k, (f, _))| k == f) =>
            {
                Some((fields, *frame))
            }
            _ => None,
        }
    }
}

/// The most top-level fields a payload written in place may have (they are evaluated on the
/// stack).
const IN_PLACE_FIELDS: usize = 8;

/// Evaluates the top-level fields of an object template into `values` (all of them before
/// anything is written: a field may read what another one replaces, and a failure's cause shows
/// the input); returns the payload's size bound.
#[inline(always)]
fn eval_fields(
    fields: &[(String, Node)],
    frame: usize,
    env: &Env,
    rng: &mut dyn Entropy,
    input_len: Option<usize>,
    limit: usize,
    values: &mut [Value],
) -> Result<usize, Failure> {
    let mut size = Size {
        input_len,
        limit,
        total: frame,
    };
    for (slot, (_, child)) in values.iter_mut().zip(fields) {
        *slot = eval_inline(child, env, rng, Some(&mut size))?;
    }
    Ok(size.total)
}

/// Overwrites the values of `map` (which has the template's keys) with `values`, in order.
#[inline(always)]
fn write_values(map: &mut Map<String, Value>, values: &mut [Value]) {
    for (old, new) in map.values_mut().zip(values.iter_mut()) {
        *old = std::mem::take(new);
    }
}

/// The running size bound of [`Template::evaluate_sized`].
struct Size {
    input_len: Option<usize>,
    limit: usize,
    total: usize,
}

impl Size {
    /// Adds a value that a path selected (`from_input`: a definite path from `$`) or a call
    /// computed.
    #[inline]
    fn add(&mut self, v: &Value, from_input: bool) {
        self.total += match (v, self.input_len) {
            (Value::Array(_) | Value::Object(_), Some(n)) if from_input => n,
            (Value::Array(_) | Value::Object(_), _) => java_json_len(v, self.limit),
            (scalar, _) => frame_len(scalar),
        };
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
                        dynamic |= !matches!(node, Node::Const(..));
                        fields.push((key.clone(), node));
                    }
                }
            }
            if dynamic {
                let frame = 2
                    + fields.len().saturating_sub(1)
                    + fields
                        .iter()
                        .map(|(k, _)| json_string_len(k) + 1)
                        .sum::<usize>();
                Node::Object(fields, frame)
            } else {
                Node::Const(value.clone(), java_json_len(value, usize::MAX))
            }
        }
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, v)| compile(v, &push_pointer(pointer, &i.to_string()), errors))
                .collect();
            if nodes.iter().all(|n| matches!(n, Node::Const(..))) {
                Node::Const(value.clone(), java_json_len(value, usize::MAX))
            } else {
                let frame = 2 + nodes.len().saturating_sub(1);
                Node::Array(nodes, frame)
            }
        }
        other => Node::Const(other.clone(), java_json_len(other, usize::MAX)),
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
                from_input: path.root() == PathRoot::Input && path.is_definite(),
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

/// Builds the value of `node`; with `size`, also adds an upper bound of its text's length.
fn eval(
    node: &Node,
    env: &Env,
    rng: &mut dyn Entropy,
    mut size: Option<&mut Size>,
) -> Result<Value, Failure> {
    match node {
        Node::Object(fields, frame) => {
            if let Some(size) = size.as_deref_mut() {
                size.total += frame;
            }
            let mut map = Map::with_capacity(fields.len());
            for (key, child) in fields {
                let value = eval_inline(child, env, rng, size.as_deref_mut())?;
                map.insert(key.clone(), value);
            }
            Ok(Value::Object(map))
        }
        Node::Array(items, frame) => {
            if let Some(size) = size.as_deref_mut() {
                size.total += frame;
            }
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(eval_inline(item, env, rng, size.as_deref_mut())?);
            }
            Ok(Value::Array(out))
        }
        leaf => eval_inline(leaf, env, rng, size),
    }
}

/// [`eval`], with constants and paths (the usual fields of an object) handled in the caller.
#[inline(always)]
fn eval_inline(
    node: &Node,
    env: &Env,
    rng: &mut dyn Entropy,
    size: Option<&mut Size>,
) -> Result<Value, Failure> {
    match node {
        Node::Const(v, n) => {
            if let Some(size) = size {
                size.total += n;
            }
            Ok(v.clone())
        }
        Node::Path {
            field,
            path,
            from_input,
        } => {
            let value = match path.find(env) {
                Some(v) => v.clone(),
                None => select(field, path, env)?,
            };
            if let Some(size) = size {
                size.add(&value, *from_input);
            }
            Ok(value)
        }
        Node::Call(call) => {
            let value = call.evaluate(env, rng)?;
            if let Some(size) = size {
                size.add(&value, false);
            }
            Ok(value)
        }
        Node::Object(..) | Node::Array(..) => eval(node, env, rng, size),
    }
}

/// A path field that [`Path::find`] did not resolve: the full evaluation, or AWS's cause.
fn select(field: &str, path: &Path, env: &Env) -> Result<Value, Failure> {
    match path.evaluate(env) {
        Ok(selected) => Ok(selected.into_value()),
        Err(too_much @ crate::path::Miss::TooMuchWork) => Err(Failure::runtime(format!(
            "The JSONPath '{}' specified for the field '{}': {too_much}",
            path.as_str(),
            field
        ))),
        Err(_) => Err(Failure::runtime(format!(
            "The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
            path.as_str(),
            field,
            java_json(env.input)
        ))),
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
    fn sized_evaluation_bounds_the_text_length() {
        let input = json!({"a": {"b": [1, "x\"y"]}, "n": -12, "s": "text", "list": [1, 2]});
        let input_len = java_json(&input).len();
        // (template, the bound is exact when the input's length is not given)
        let cases: Vec<(Value, bool)> = vec![
            (json!({"k": 1}), true),
            (json!({"v.$": "$.n", "w.$": "$.s", "c": [true, null]}), true),
            (json!({"v.$": "$.a"}), true),
            (json!({"v.$": "$"}), true),
            (json!({"v.$": "$.list[*]"}), true),
            (json!({"v.$": "$.list[9]"}), true),
            (json!({"v.$": "$$.Execution.Input"}), true),
            (json!({"v.$": "$greeting"}), true),
            (json!({"v.$": "States.Format('{}-{}', $.s, $.n)"}), true),
            (json!({"v.$": "States.Array($.a, $.a)"}), true),
            (
                json!({"outer": {"in.$": "$.a.b", "lit": [1, {"d.$": "$.s"}]}, "é\n": 1}),
                true,
            ),
            (json!([{"x.$": "$.s"}, 2, []]), true),
            // A repeated key is written once but counted twice.
            (json!({"a": 1, "a.$": "$.s"}), false),
        ];
        let ctx = json!({"Execution": {"Input": {"k": "v"}}});
        let mut vars = Map::new();
        vars.insert("greeting".into(), json!("hi"));
        let env = Env::new(&input, &ctx, &vars);
        for (template, exact) in cases {
            let t = Template::compile(&template).unwrap_or_else(|e| panic!("{e:?}"));
            let plain = t.evaluate(&env, &mut SplitMix64::new(1)).unwrap();
            let len = java_json(&plain).len();
            for given in [None, Some(input_len)] {
                let (v, bound) = t
                    .evaluate_sized(&env, &mut SplitMix64::new(1), given, usize::MAX)
                    .unwrap();
                assert_eq!(v, plain, "{template}");
                assert!(bound >= len, "{template}: {bound} < {len}");
                if exact && given.is_none() {
                    assert_eq!(bound, len, "{template}");
                }
            }
        }
        // With a small limit, counting stops above it.
        let t = Template::compile(&json!({"v.$": "$"})).unwrap();
        let (_, bound) = t
            .evaluate_sized(&env, &mut SplitMix64::new(1), None, 3)
            .unwrap();
        assert!(bound > 3);
        // A failure is the same as without sizing.
        let t = Template::compile(&json!({"v.$": "$.missing"})).unwrap();
        assert_eq!(
            t.evaluate_sized(&env, &mut SplitMix64::new(1), None, usize::MAX)
                .unwrap_err(),
            t.evaluate(&env, &mut SplitMix64::new(1)).unwrap_err()
        );
    }

    #[test]
    fn replacing_evaluation_equals_plain_evaluation() {
        let ctx = json!({"Execution": {"Input": {"k": "v"}}});
        let vars = Map::new();
        // (template, input): same keys in the same order (reused in place), other orders,
        // other keys, non-objects, a field that reads what another replaces, nested objects.
        let cases: Vec<(Value, Value)> = vec![
            (
                json!({"counter.$": "States.MathAdd($.counter, 1)"}),
                json!({"counter": 41}),
            ),
            (
                json!({"a.$": "$.b", "b.$": "$.a", "c": 3}),
                json!({"a": 1, "b": [2], "c": "x"}),
            ),
            (
                json!({"a.$": "$.b", "b.$": "$.a", "c": 3}),
                json!({"b": 1, "a": 2, "c": "x"}),
            ),
            (json!({"a.$": "$.a"}), json!({"a": 1, "b": 2})),
            (json!({"a.$": "$.a", "b": 1}), json!({"a": 1})),
            (json!({"a.$": "$"}), json!({"a": {"deep": [1]}})),
            (json!({"a.$": "$$.Execution.Input"}), json!({"a": null})),
            (json!({"o": {"x.$": "$.o"}}), json!({"o": 5})),
            (json!([{"x.$": "$.x"}]), json!({"x": 1})),
            (json!({"x.$": "$.x"}), json!([1])),
            (json!({"x.$": "$.x"}), json!({"x": [1, 2]})),
            (json!({"x.$": "$[0]"}), json!([7])),
            (
                json!({"a.$": "$.a", "b.$": "$.a", "c.$": "$.a", "d.$": "$.a", "e.$": "$.a",
                       "f.$": "$.a", "g.$": "$.a", "h.$": "$.a", "i.$": "$.a"}),
                json!({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1, "i": 1}),
            ),
        ];
        for (template, input) in cases {
            let t = Template::compile(&template).unwrap_or_else(|e| panic!("{e:?}"));
            let env = Env::new(&input, &ctx, &vars);
            let want = t.evaluate_sized(&env, &mut SplitMix64::new(3), Some(50), usize::MAX);
            let got = t.evaluate_replacing(
                input.clone(),
                &ctx,
                &vars,
                &mut SplitMix64::new(3),
                Some(50),
                usize::MAX,
            );
            assert_eq!(got, want, "{template} on {input}");
            if let (Ok(got), Ok(want)) = (got, want) {
                assert_eq!(got.0.to_string(), want.0.to_string(), "key order");
            }
        }
        // A failure names the untouched input.
        let t = Template::compile(&json!({"a.$": "$.a", "b.$": "$.missing"})).unwrap();
        let input = json!({"a": 1, "b": 2});
        let f = t
            .evaluate_replacing(
                input,
                &ctx,
                &vars,
                &mut SplitMix64::new(3),
                None,
                usize::MAX,
            )
            .unwrap_err();
        assert!(
            f.cause.ends_with(r#"in the input '{"a":1,"b":2}'"#),
            "{}",
            f.cause
        );
    }

    #[test]
    fn evaluation_at_a_result_path_equals_evaluation_then_apply_result() {
        let ctx = json!({});
        let vars = Map::new();
        let chain = json!({"i": 2, "prev.$": "$.last.i", "name.$": "$.name"});
        // (template, ResultPath, input)
        let cases: Vec<(Value, &str, Value)> = vec![
            (
                chain.clone(),
                "$.last",
                json!({"name": "n", "last": {"i": 1, "prev": 0, "name": "n"}}),
            ),
            (
                chain.clone(),
                "$.last",
                json!({"name": "n", "last": {"i": 1}}),
            ),
            (
                chain.clone(),
                "$.last",
                json!({"name": "n", "last": {"prev": 0, "i": 1, "name": "n"}}),
            ),
            (
                chain.clone(),
                "$.other",
                json!({"name": "n", "last": {"i": 1}}),
            ),
            (
                chain.clone(),
                "$.a.b",
                json!({"name": "n", "last": {"i": 1}}),
            ),
            (chain.clone(), "$.last", json!({"name": "n", "last": 5})),
            (chain.clone(), "$.last.i", json!({"name": "n", "last": 5})),
            (
                chain.clone(),
                "$",
                json!({"i": 1, "prev": 0, "name": "n", "last": {"i": 1}}),
            ),
            (
                json!({"x.$": "$.x"}),
                "$.list[1]",
                json!({"x": 3, "list": [{"x": 1}, {"x": 2}]}),
            ),
            (
                json!({"x.$": "$.x"}),
                "$.list[-1]",
                json!({"x": 3, "list": [{"x": 1}]}),
            ),
            (
                json!({"x.$": "$.x"}),
                "$.list[5]",
                json!({"x": 3, "list": [{"x": 1}]}),
            ),
            (json!({"x.$": "$.missing"}), "$.a", json!({"a": {"x": 1}})),
            (json!({"a.$": "$.a"}), "$$.a", json!({"a": {"a": 1}})),
            (json!({"a.$": "$.a"}), "$.a[*]", json!({"a": [{"a": 1}]})),
            (json!({"a": 1}), "$.a", json!({"a": {"a": 2}})),
        ];
        for (template, rp, input) in cases {
            let t = Template::compile(&template).unwrap_or_else(|e| panic!("{e:?}"));
            let path = Path::parse(rp).unwrap();
            let env = Env::new(&input, &ctx, &vars);
            let want = t
                .evaluate_sized(&env, &mut SplitMix64::new(3), None, usize::MAX)
                .and_then(|(v, n)| Ok((path.apply_result(input.clone(), v)?, n)));
            let got = t.evaluate_at(
                input.clone(),
                &path,
                &ctx,
                &vars,
                &mut SplitMix64::new(3),
                None,
                usize::MAX,
            );
            assert_eq!(got, want, "{template} at {rp} on {input}");
            if let (Ok(got), Ok(want)) = (got, want) {
                assert_eq!(got.0.to_string(), want.0.to_string(), "key order");
            }
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
