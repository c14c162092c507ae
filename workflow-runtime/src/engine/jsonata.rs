//! States whose query language is JSONata: `$states`, the fields AWS evaluates, and
//! `States.QueryEvaluationError`.
//!
//! `$states` is `{input, context}` for every field, plus `result` in a Map's `Output`/`Assign`
//! (and `errorOutput` in a catcher's), bound once per state together with the workflow
//! variables. `Output` and `Assign` both see the variables as they were before the state: the
//! new values are assigned after both are evaluated (AWS, "Passing data between states with
//! variables"). The engine's values are not `Send`, so a [`Scope`] is built and dropped inside
//! one synchronous step, never held across an `.await`.

use serde_json::Value;
use workflow_asl::eval::java_json;
use workflow_asl::jsonata::Scope;
use workflow_asl::timestamp::Timestamp;

use super::{Exec, Fault, StateCx, StateError, Step, Vars};
use crate::jtemplate::{eval_expr, type_name, JFailure, JState, JTemplate, QUERY_EVALUATION_ERROR};
use crate::program::Kind;

/// `$states` and the variables, bound for one state. `ctx` is `null` when the state's
/// expressions cannot read `$states.context` (see [`Exec::j_context`]); it is then left out.
pub(super) fn scope<'a>(
    vars: &Vars,
    input: &'a Value,
    ctx: &'a Value,
    result: Option<&'a Value>,
    error_output: Option<&'a Value>,
) -> Scope<'a> {
    let mut states: Vec<(&'a str, &'a Value)> = Vec::with_capacity(4);
    states.push(("input", input));
    if !ctx.is_null() {
        states.push(("context", ctx));
    }
    if let Some(r) = result {
        states.push(("result", r));
    }
    if let Some(e) = error_output {
        states.push(("errorOutput", e));
    }
    let mut scope = Scope::new();
    scope.bind_all(vars);
    scope.bind_object("states", &states);
    scope
}

impl StateCx<'_> {
    /// A `States.QueryEvaluationError` of this state, with AWS's prefix.
    pub(super) fn query_error(&self, cause: &str) -> StateError {
        StateError::new(
            QUERY_EVALUATION_ERROR,
            format!(
                "An error occurred while executing the state '{}' (entered at the event id #{}). {}",
                self.st.name, self.entered.id, cause
            ),
        )
    }

    fn jfail(&self, f: JFailure) -> StateError {
        self.query_error(&f.cause)
    }

    /// Evaluates `Output` and `Assign` against the same scope, then assigns. `None`: there is no
    /// `Output`, and the caller's default (the input, the result…) is the output; it is given
    /// after the scope, which may borrow it, is done with.
    pub(super) fn j_output_assign(
        &mut self,
        scope: &Scope<'_>,
        output: Option<&JTemplate>,
        assign: Option<&JTemplate>,
        field: &str,
    ) -> Result<Option<Value>, StateError> {
        let out = match output {
            Some(t) => Some(
                t.evaluate(scope, &format!("{field}Output"))
                    .map_err(|f| self.jfail(f))?,
            ),
            None => None,
        };
        if let Some(a) = assign {
            let assigned = a
                .evaluate(scope, &format!("{field}Assign"))
                .map_err(|f| self.jfail(f))?;
            if let Value::Object(o) = assigned {
                for (k, v) in o {
                    self.vars.insert(k, v);
                }
            }
        }
        Ok(out)
    }

    /// Evaluates a number field (`MaxConcurrency`, `ToleratedFailureCount`, …).
    pub(super) fn j_number(
        &self,
        t: &JTemplate,
        scope: &Scope<'_>,
        field: &str,
    ) -> Result<Value, StateError> {
        t.evaluate(scope, field).map_err(|f| self.jfail(f))
    }

    /// Evaluates an expression field into a value (for `Items`, `Seconds`, …).
    pub(super) fn j_value(
        &self,
        t: &JTemplate,
        scope: &Scope<'_>,
        field: &str,
    ) -> Result<Value, StateError> {
        match t.as_expr() {
            Some(e) => eval_expr(e, scope, &field).map_err(|f| self.jfail(f)),
            None => t.evaluate(scope, field).map_err(|f| self.jfail(f)),
        }
    }
}

/// A string field's value as AWS shows it (`Error`, `Cause`).
fn as_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        other => java_json(&other),
    }
}

impl Exec {
    /// Records AWS's `EvaluationFailed` event when `fault` is a failed JSONata evaluation, before
    /// the state fails with it (recorded in the conformance corpus: `PassStateEntered`,
    /// `EvaluationFailed`, `ExecutionFailed`).
    pub(super) fn evaluation_failed<T>(
        &self,
        cx: &mut StateCx<'_>,
        r: Result<T, Fault>,
    ) -> Result<T, Fault> {
        if let Err(Fault::Error(e)) = &r {
            if e.error.as_deref() == Some(QUERY_EVALUATION_ERROR) {
                let (error, cause) = (e.error.clone(), e.cause.clone());
                self.rec
                    .record(cx.cur, crate::history::EventType::EvaluationFailed, || {
                        crate::history::EventKind::EvaluationFailed(crate::history::ErrorDetails {
                            error,
                            cause,
                        })
                    });
            }
        }
        r
    }

    /// The context object of a JSONata state, or `null` when none of its expressions may read
    /// `$states.context` (`needs_context`, judged when the state is compiled).
    pub(super) fn j_context(&self, cx: &StateCx<'_>, retry_count: u32) -> Value {
        self.context_if_needed(cx, retry_count)
    }

    /// Pass, Choice, Succeed and Fail in JSONata.
    pub(super) fn jsonata_pure(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        j: &JState,
    ) -> Result<Step, Fault> {
        let st = cx.st;
        let ctx = self.j_context(cx, 0);
        let scope = scope(cx.vars, &input, &ctx, None, None);
        match &st.kind {
            Kind::Choice {
                targets, default, ..
            } => {
                for (i, rule) in j.rules.iter().enumerate() {
                    let field = format!("Choices[{i}]/Condition");
                    let v = cx.j_value(&rule.condition, &scope, &field)?;
                    let holds = match v {
                        Value::Bool(b) => b,
                        other => {
                            return Err(cx
                                .query_error(&format!(
                                    "The JSONata expression specified for the field '{field}' returned an unexpected result type. Expected 'boolean', but was '{}' for value: {}",
                                    type_name(&other),
                                    java_json(&other)
                                ))
                                .into())
                        }
                    };
                    if holds {
                        let prefix = format!("Choices[{i}]/");
                        let output = match &rule.output {
                            Some(t) => Some(t),
                            None => j.output.as_ref(),
                        };
                        let out = cx
                            .j_output_assign(
                                &scope,
                                output,
                                rule.assign.as_ref(),
                                if rule.output.is_some() { &prefix } else { "" },
                            )?
                            .unwrap_or(input);
                        return Ok(Step::to(out, targets.get(i).copied()));
                    }
                }
                let Some(next) = *default else {
                    return Err(cx.wrap(workflow_asl::choice::no_choice_matched()).into());
                };
                let out = cx
                    .j_output_assign(&scope, j.output.as_ref(), j.assign.as_ref(), "")?
                    .unwrap_or(input);
                Ok(Step::to(out, Some(next)))
            }
            Kind::Fail { .. } => {
                let error = j
                    .error
                    .as_ref()
                    .map(|t| cx.j_value(t, &scope, "Error").map(as_text))
                    .transpose()?;
                let cause = j
                    .cause
                    .as_ref()
                    .map(|t| cx.j_value(t, &scope, "Cause").map(as_text))
                    .transpose()?;
                Err(Fault::Error(StateError {
                    error,
                    cause,
                    terminal: false,
                }))
            }
            Kind::Succeed => {
                let out = cx
                    .j_output_assign(&scope, j.output.as_ref(), j.assign.as_ref(), "")?
                    .unwrap_or(input);
                Ok(Step::to(out, None))
            }
            _ => {
                let out = cx
                    .j_output_assign(&scope, j.output.as_ref(), j.assign.as_ref(), "")?
                    .unwrap_or(input);
                Ok(Step::to(out, st.next))
            }
        }
    }

    /// The deadline of a JSONata Wait (`Seconds` or `Timestamp`), for a state entered at `start`.
    pub(super) fn jsonata_deadline(
        &self,
        cx: &StateCx<'_>,
        input: &Value,
        j: &JState,
        start: i64,
    ) -> Result<i64, StateError> {
        let ctx = self.j_context(cx, 0);
        let scope = scope(cx.vars, input, &ctx, None, None);
        if let Some(t) = &j.seconds {
            let v = cx.j_value(t, &scope, "Seconds")?;
            let secs = match &v {
                Value::Number(n) => n.as_i64().or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18)
                        .map(|f| f as i64)
                }),
                _ => None,
            };
            return match secs {
                Some(s) if s >= 0 => Ok(start.saturating_add(s.saturating_mul(1000))),
                _ => Err(cx.query_error(&format!(
                    "The Seconds field must be a non-negative integer, but was: {}",
                    java_json(&v)
                ))),
            };
        }
        if let Some(t) = &j.timestamp {
            let v = cx.j_value(t, &scope, "Timestamp")?;
            return match v.as_str().and_then(Timestamp::parse) {
                Some(ts) => Ok(ts.to_utc().timestamp_millis()),
                None => Err(cx.query_error(&format!(
                    "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {}",
                    as_text(v)
                ))),
            };
        }
        Err(cx.query_error("A Wait state needs Seconds or Timestamp"))
    }

    /// The output of a JSONata Wait after its wait.
    pub(super) fn jsonata_after_wait(
        &self,
        cx: &mut StateCx<'_>,
        input: Value,
        j: &JState,
    ) -> Result<Step, Fault> {
        let ctx = self.j_context(cx, 0);
        let scope = scope(cx.vars, &input, &ctx, None, None);
        let out = cx
            .j_output_assign(&scope, j.output.as_ref(), j.assign.as_ref(), "")?
            .unwrap_or(input);
        Ok(Step::to(out, cx.st.next))
    }
}

/// The error a Map raises when its items are not an array.
pub(super) fn items_error(cx: &StateCx<'_>, j: &JState, v: &Value) -> StateError {
    match j.items.as_ref().and_then(JTemplate::as_expr) {
        Some(e) => cx.query_error(&format!(
            "The JSONata expression '{}' specified for the field 'Items' returned an unexpected result type. Expected 'array', but was '{}' for value: {}",
            e.source(),
            type_name(v),
            java_json(v)
        )),
        None => cx.query_error(&format!(
            "Map state input must be an array but was: {}",
            java_json(v)
        )),
    }
}
