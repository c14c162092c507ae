//! JSONata fields, compiled once per definition: a JSON value whose `{% … %}` strings are parsed
//! expressions ([`JTemplate`]), and the JSONata fields of one state ([`JState`]).
//!
//! Evaluation follows Step Functions (<https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>):
//! a string that starts with `{%` and ends with `%}` is an expression, evaluated with `$states`
//! and the workflow variables bound and no context item; any other value is taken literally,
//! at any depth of objects and arrays. An expression that fails, or returns nothing, fails the
//! state with `States.QueryEvaluationError`, its cause naming the state, the field (`Output/a/b`,
//! `Items`) and the expression, as AWS words it (recorded in the conformance corpus; floci-io/floci
//! #2665 and #2736 for the evaluation-error sentence).

use serde_json::{Map, Value};
use workflow_asl::jsonata::{Expression, Scope};
use workflow_asl::model::{Catcher, ChoiceRule, Condition, State, StateKind};

/// The error AWS raises when a JSONata expression fails or returns nothing.
pub(crate) const QUERY_EVALUATION_ERROR: &str = "States.QueryEvaluationError";

/// A JSON value with JSONata expressions at its leaves.
#[derive(Debug)]
pub(crate) enum JTemplate {
    /// A value without expressions.
    Const(Value),
    /// `{% expr %}`.
    Expr(Box<Expression>),
    Object(Vec<(String, JTemplate)>),
    Array(Vec<JTemplate>),
}

/// A failed evaluation, before the state's prefix is put on its cause.
#[derive(Debug)]
pub(crate) struct JFailure {
    pub(crate) cause: String,
}

/// Whether `s` is a JSONata expression string.
fn is_expr(s: &str) -> bool {
    s.len() >= 4 && s.starts_with("{%") && s.ends_with("%}")
}

impl JTemplate {
    /// Compiles a field's value; the error is the parser's, for the compile error.
    pub(crate) fn compile(v: &Value) -> Result<JTemplate, String> {
        Ok(match v {
            Value::String(s) if is_expr(s) => {
                // AWS names the expression trimmed (`{% $x %}` is '$x' in causes).
                let src = s[2..s.len() - 2].trim();
                JTemplate::Expr(Box::new(
                    Expression::parse(src).map_err(|e| format!("{e} in `{s}`"))?,
                ))
            }
            Value::Object(map) if contains_expr(v) => JTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), JTemplate::compile(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Value::Array(items) if contains_expr(v) => JTemplate::Array(
                items
                    .iter()
                    .map(JTemplate::compile)
                    .collect::<Result<_, String>>()?,
            ),
            other => JTemplate::Const(other.clone()),
        })
    }

    /// Compiles an optional field.
    pub(crate) fn opt(v: &Option<Value>) -> Result<Option<JTemplate>, String> {
        v.as_ref().map(JTemplate::compile).transpose()
    }

    /// The expression, when the whole field is one.
    pub(crate) fn as_expr(&self) -> Option<&Expression> {
        match self {
            JTemplate::Expr(e) => Some(e),
            _ => None,
        }
    }

    /// Evaluates the template; `field` names it in causes (`Output`, `Assign`).
    pub(crate) fn evaluate(&self, scope: &Scope<'_>, field: &str) -> Result<Value, JFailure> {
        self.evaluate_at(scope, &Field::Root(field))
    }

    /// [`JTemplate::evaluate`] at `field`, whose text is written only for an error's cause.
    fn evaluate_at(&self, scope: &Scope<'_>, field: &Field<'_>) -> Result<Value, JFailure> {
        match self {
            JTemplate::Const(v) => Ok(v.clone()),
            JTemplate::Expr(e) => eval_expr(e, scope, field),
            JTemplate::Object(entries) => {
                let mut out = Map::with_capacity(entries.len());
                for (k, t) in entries {
                    let v = t.evaluate_at(scope, &Field::Key(field, k))?;
                    out.insert(k.clone(), v);
                }
                Ok(Value::Object(out))
            }
            JTemplate::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    out.push(t.evaluate_at(scope, &Field::Index(field, i))?);
                }
                Ok(Value::Array(out))
            }
        }
    }
}

/// Where in a field a template's leaf is (`Output/a/b`, `Arguments[2]`), written only when a
/// cause names it.
enum Field<'f> {
    Root(&'f str),
    Key(&'f Field<'f>, &'f str),
    Index(&'f Field<'f>, usize),
}

impl std::fmt::Display for Field<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Root(name) => f.write_str(name),
            Field::Key(parent, k) => write!(f, "{parent}/{k}"),
            Field::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// Evaluates one expression of `field`: nothing, or an error, is a failure with AWS's sentence.
pub(crate) fn eval_expr(
    e: &Expression,
    scope: &Scope<'_>,
    field: &dyn std::fmt::Display,
) -> Result<Value, JFailure> {
    match e.evaluate_aws(None, scope) {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(JFailure {
            cause: format!(
                "The JSONata expression '{}' specified for the field '{field}' returned nothing (undefined).",
                e.source()
            ),
        }),
        Err(err) if err.is_unsupported_result() => Err(JFailure {
            cause: format!(
                "The JSONata expression '{}' specified for the field '{field}' returned an unsupported result type.",
                e.source()
            ),
        }),
        Err(err) => Err(JFailure {
            cause: format!(
                "The JSONata expression '{}' specified for the field '{field}' threw an error during evaluation. {err}",
                e.source()
            ),
        }),
    }
}

/// Whether an expression may read `$states.context`, judged from its text: unless every `$states`
/// in it is followed by `.input`, `.result` or `.errorOutput` (then a character that cannot
/// continue a name), it may. A false "may" only costs building the context object; the states
/// whose expressions cannot read it skip that work.
fn may_read_context(src: &str) -> bool {
    const STATES: &str = "$states";
    // JSONata's names end at whitespace or an operator character.
    let ends_name = |c: Option<char>| {
        c.is_none_or(|c| c.is_whitespace() || "`.[]{}(),@#;:?+-*/%|=<>^&!~'\"".contains(c))
    };
    let mut rest = src;
    while let Some(i) = rest.find(STATES) {
        rest = &rest[i + STATES.len()..];
        let allowed = [".input", ".result", ".errorOutput"].iter().any(|field| {
            rest.strip_prefix(field)
                .is_some_and(|after| ends_name(after.chars().next()))
        });
        if !allowed {
            return true;
        }
    }
    false
}

impl JTemplate {
    /// Whether any expression of the template may read `$states.context`.
    fn may_read_context(&self) -> bool {
        match self {
            JTemplate::Const(_) => false,
            JTemplate::Expr(e) => may_read_context(e.source()),
            JTemplate::Object(entries) => entries.iter().any(|(_, t)| t.may_read_context()),
            JTemplate::Array(items) => items.iter().any(JTemplate::may_read_context),
        }
    }
}

/// Whether a JSON value holds an expression string anywhere.
fn contains_expr(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if is_expr(s) => return true,
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    false
}

/// One Choice rule of a JSONata state.
#[derive(Debug)]
pub(crate) struct JRule {
    pub(crate) condition: JTemplate,
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<JTemplate>,
}

/// One catcher's JSONata fields.
#[derive(Debug, Default)]
pub(crate) struct JCatch {
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<JTemplate>,
}

/// The JSONata fields of one state.
#[derive(Debug, Default)]
pub(crate) struct JState {
    pub(crate) output: Option<JTemplate>,
    pub(crate) assign: Option<JTemplate>,
    pub(crate) arguments: Option<JTemplate>,
    /// Choice rules, in order.
    pub(crate) rules: Vec<JRule>,
    /// Wait.
    pub(crate) seconds: Option<JTemplate>,
    pub(crate) timestamp: Option<JTemplate>,
    /// Fail.
    pub(crate) error: Option<JTemplate>,
    pub(crate) cause: Option<JTemplate>,
    /// Map.
    pub(crate) items: Option<JTemplate>,
    pub(crate) item_selector: Option<JTemplate>,
    pub(crate) max_concurrency: Option<JTemplate>,
    pub(crate) tolerated_count: Option<JTemplate>,
    pub(crate) tolerated_percentage: Option<JTemplate>,
    /// Distributed Map: `ItemReader`, `ItemBatcher` and `ResultWriter`, each compiled whole (their
    /// `Arguments`, `ReaderConfig`, limits and `BatchInput` may hold expressions at any depth).
    pub(crate) item_reader: Option<JTemplate>,
    pub(crate) item_batcher: Option<JTemplate>,
    pub(crate) result_writer: Option<JTemplate>,
    /// Task.
    pub(crate) timeout: Option<JTemplate>,
    pub(crate) heartbeat: Option<JTemplate>,
    /// Catchers, in order.
    pub(crate) catch: Vec<JCatch>,
}

fn string_field(s: &Option<String>) -> Result<Option<JTemplate>, String> {
    s.as_ref()
        .map(|s| JTemplate::compile(&Value::String(s.clone())))
        .transpose()
}

fn catchers(c: &[Catcher]) -> Result<Vec<JCatch>, String> {
    c.iter()
        .map(|c| {
            Ok(JCatch {
                output: JTemplate::opt(&c.output)?,
                assign: JTemplate::opt(&c.assign)?,
            })
        })
        .collect()
}

impl JState {
    /// Compiles the JSONata fields of a state whose language is JSONata.
    pub(crate) fn compile(state: &State) -> Result<JState, String> {
        let c = &state.common;
        let mut j = JState {
            output: JTemplate::opt(&c.output)?,
            assign: JTemplate::opt(&c.assign)?,
            ..JState::default()
        };
        match &state.kind {
            StateKind::Choice(ch) => {
                j.rules = ch
                    .choices
                    .iter()
                    .map(|r: &ChoiceRule| {
                        let condition = match &r.condition {
                            Condition::Jsonata(v) => JTemplate::compile(v)?,
                            _ => return Err("a JSONata Choice rule needs `Condition`".to_owned()),
                        };
                        Ok(JRule {
                            condition,
                            output: JTemplate::opt(&r.output)?,
                            assign: JTemplate::opt(&r.assign)?,
                        })
                    })
                    .collect::<Result<_, String>>()?;
            }
            StateKind::Wait(w) => {
                j.seconds = JTemplate::opt(&w.seconds)?;
                j.timestamp = string_field(&w.timestamp)?;
            }
            StateKind::Fail(f) => {
                j.error = string_field(&f.error)?;
                j.cause = string_field(&f.cause)?;
            }
            StateKind::Map(m) => {
                j.arguments = JTemplate::opt(&m.result.arguments)?;
                j.items = JTemplate::opt(&m.items)?;
                j.item_selector = JTemplate::opt(&m.item_selector)?;
                j.max_concurrency = JTemplate::opt(&m.max_concurrency)?;
                j.tolerated_count = JTemplate::opt(&m.tolerated_failure_count)?;
                j.tolerated_percentage = JTemplate::opt(&m.tolerated_failure_percentage)?;
                j.item_reader = JTemplate::opt(&m.item_reader)?;
                j.item_batcher = JTemplate::opt(&m.item_batcher)?;
                j.result_writer = JTemplate::opt(&m.result_writer)?;
                j.catch = catchers(&m.errors.catch)?;
            }
            StateKind::Task(t) => {
                j.arguments = JTemplate::opt(&t.result.arguments)?;
                j.timeout = JTemplate::opt(&t.timeout_seconds)?;
                j.heartbeat = JTemplate::opt(&t.heartbeat_seconds)?;
                j.catch = catchers(&t.errors.catch)?;
            }
            StateKind::Parallel(p) => {
                j.arguments = JTemplate::opt(&p.result.arguments)?;
                j.catch = catchers(&p.errors.catch)?;
            }
            StateKind::Pass(_) | StateKind::Succeed => {}
        }
        Ok(j)
    }
}

impl JState {
    /// Whether any of the state's expressions may read `$states.context`, so that the context
    /// object must be built for it.
    pub(crate) fn may_read_context(&self) -> bool {
        let t = |t: &Option<JTemplate>| t.as_ref().is_some_and(JTemplate::may_read_context);
        [
            &self.output,
            &self.assign,
            &self.arguments,
            &self.seconds,
            &self.timestamp,
            &self.error,
            &self.cause,
            &self.items,
            &self.item_selector,
            &self.max_concurrency,
            &self.tolerated_count,
            &self.tolerated_percentage,
            &self.item_reader,
            &self.item_batcher,
            &self.result_writer,
            &self.timeout,
            &self.heartbeat,
        ]
        .into_iter()
        .any(t)
            || self
                .rules
                .iter()
                .any(|r| r.condition.may_read_context() || t(&r.output) || t(&r.assign))
            || self.catch.iter().any(|c| t(&c.output) || t(&c.assign))
    }
}

/// The JSON type name AWS uses in its causes.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::may_read_context;

    #[test]
    fn context_reads_are_found_from_the_text() {
        for src in [
            "$states.context.Execution.Id",
            "$states",
            "$keys($states)",
            "$states . context",
            "$states.`context`",
            "$states.inputs",
            "$states.input_x",
            "$lookup($states, 'context')",
            "$s := $states; $s.context",
            "$states.input & $states.context",
        ] {
            assert!(may_read_context(src), "{src}");
        }
        for src in [
            "$states.input.name",
            "$states.input",
            "$states.result.x + $states.errorOutput.Error",
            "$x + 1",
            "$states.input[0]",
            "$count($states.input)",
        ] {
            assert!(!may_read_context(src), "{src}");
        }
    }
}
