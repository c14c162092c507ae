//! AWS's validation *warnings*: findings that do not make a definition invalid but usually mean
//! it does not do what its author meant. `ValidateStateMachineDefinition` lists three
//! (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_ValidateStateMachineDefinitionDiagnostic.html>):
//!
//! - `NO_DOLLAR`: "No `.$` on a field that appears to be a JSONPath or Intrinsic Function" — a
//!   payload template field (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`) whose
//!   value is a path or an intrinsic call but whose name lacks `.$`, so it is passed as text;
//! - `NO_PATH`: "Field value looks like a path, but field name does not end with 'Path'" — a
//!   Choice string comparison (`StringEquals` …) or a Fail `Error`/`Cause` whose value is a path,
//!   which is compared or reported as text;
//! - `PASS_RESULT_IS_STATIC`: "Attempt to use a path in the result of a pass state" — `Result`
//!   is never evaluated, so a path or a `.$` field in it stays as written.
//!
//! Only JSONPath states are judged: JSONata states have none of these fields. Walks over nested
//! JSON values use explicit stacks.

use serde_json::Value;

use super::Cx;
use crate::diag::{push_pointer, Code, Diagnostic};
use crate::model::{ChoiceRule, Condition, OperandKind, QueryLanguage, State, StateKind};

/// Whether a string looks like a JSONPath (`$`, `$.a`, `$[0]`, `$$.Execution`, `$var`).
fn looks_like_path(s: &str) -> bool {
    let s = s.trim();
    s == "$"
        || s.starts_with("$.")
        || s.starts_with("$[")
        || s.starts_with("$$")
        || (s.starts_with('$')
            && s[1..]
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_'))
}

/// Whether a string looks like an intrinsic function call (`States.Format(…)`).
fn looks_like_intrinsic(s: &str) -> bool {
    let s = s.trim();
    s.starts_with("States.") && s.ends_with(')') && s.contains('(')
}

/// Adds the warnings for one state.
pub(super) fn check_state(cx: &mut Cx<'_>, state: &State, ptr: &str, lang: QueryLanguage) {
    if lang != QueryLanguage::JsonPath {
        return;
    }
    let mut templates: Vec<(&Value, &str)> = Vec::new();
    match &state.kind {
        StateKind::Task(t) => {
            templates.extend(t.result.parameters.as_ref().map(|v| (v, "Parameters")));
            templates.extend(
                t.result
                    .result_selector
                    .as_ref()
                    .map(|v| (v, "ResultSelector")),
            );
        }
        StateKind::Parallel(p) => {
            templates.extend(p.result.parameters.as_ref().map(|v| (v, "Parameters")));
            templates.extend(
                p.result
                    .result_selector
                    .as_ref()
                    .map(|v| (v, "ResultSelector")),
            );
        }
        StateKind::Map(m) => {
            templates.extend(m.result.parameters.as_ref().map(|v| (v, "Parameters")));
            templates.extend(
                m.result
                    .result_selector
                    .as_ref()
                    .map(|v| (v, "ResultSelector")),
            );
            templates.extend(m.item_selector.as_ref().map(|v| (v, "ItemSelector")));
        }
        StateKind::Pass(p) => {
            templates.extend(p.parameters.as_ref().map(|v| (v, "Parameters")));
            if let Some(result) = &p.result {
                pass_result(cx, result, &push_pointer(ptr, "Result"));
            }
        }
        StateKind::Choice(c) => {
            let base = push_pointer(ptr, "Choices");
            for (i, rule) in c.choices.iter().enumerate() {
                let j = cx.raw.object_index(&base, i);
                choice_rule(cx, rule, push_pointer(&base, &j.to_string()));
            }
        }
        StateKind::Fail(f) => {
            for (value, field) in [(&f.error, "Error"), (&f.cause, "Cause")] {
                if let Some(v) = value.as_deref().filter(|v| looks_like_path(v)) {
                    cx.out.push(Diagnostic::warning(
                        Code::NoPath,
                        push_pointer(ptr, field),
                        format!(
                            "Field value looks like a path, but field name does not end with 'Path': `{field}` \"{v}\" is reported as this text; write `{field}Path` to report the value at the path"
                        ),
                    ));
                }
            }
        }
        StateKind::Wait(_) | StateKind::Succeed => {}
    }
    templates.extend(state.common.assign.as_ref().map(|v| (v, "Assign")));
    for (value, field) in templates {
        no_dollar(cx, value, &push_pointer(ptr, field));
    }
}

/// `NO_DOLLAR` in one payload template.
fn no_dollar(cx: &mut Cx<'_>, template: &Value, base: &str) {
    let mut stack: Vec<(&Value, String)> = vec![(template, base.to_owned())];
    while let Some((v, ptr)) = stack.pop() {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter().rev() {
                    let at = push_pointer(&ptr, k);
                    match x {
                        Value::String(s)
                            if !k.ends_with(".$")
                                && (looks_like_path(s) || looks_like_intrinsic(s)) =>
                        {
                            cx.out.push(Diagnostic::warning(
                                Code::NoDollar,
                                at,
                                format!(
                                    "No `.$` on a field that appears to be a JSONPath or Intrinsic Function: `{k}` holds \"{s}\", which is passed on as this text; name the field `{k}.$` to evaluate it"
                                ),
                            ));
                        }
                        Value::Object(_) | Value::Array(_) => stack.push((x, at)),
                        _ => {}
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().rev() {
                    if x.is_object() || x.is_array() {
                        stack.push((x, push_pointer(&ptr, &i.to_string())));
                    }
                }
            }
            _ => {}
        }
    }
}

/// `PASS_RESULT_IS_STATIC`: a path (or a `.$` field) anywhere in a Pass state's `Result`.
fn pass_result(cx: &mut Cx<'_>, result: &Value, base: &str) {
    let warn = |what: String, at: String| {
        Diagnostic::warning(
            Code::PassResultIsStatic,
            at,
            format!(
                "Attempt to use a path in the result of a pass state: {what}; `Result` is used as written, never evaluated (use `Parameters` to build a value from the input)"
            ),
        )
    };
    let mut stack: Vec<(&Value, String)> = vec![(result, base.to_owned())];
    while let Some((v, ptr)) = stack.pop() {
        match v {
            Value::String(s) if looks_like_path(s) || looks_like_intrinsic(s) => {
                cx.out.push(warn(format!("\"{s}\" stays this text"), ptr));
            }
            Value::Object(o) => {
                for (k, x) in o.iter().rev() {
                    let at = push_pointer(&ptr, k);
                    if k.ends_with(".$") {
                        cx.out.push(warn(
                            format!(
                                "the field `{k}` keeps its name and its value is not evaluated"
                            ),
                            at,
                        ));
                    } else {
                        stack.push((x, at));
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().rev() {
                    stack.push((x, push_pointer(&ptr, &i.to_string())));
                }
            }
            _ => {}
        }
    }
}

/// `NO_PATH` in a Choice rule and its nested rules: a string comparison with a path as operand.
fn choice_rule(cx: &mut Cx<'_>, rule: &ChoiceRule, ptr: String) {
    let mut stack: Vec<(&ChoiceRule, String)> = vec![(rule, ptr)];
    while let Some((rule, ptr)) = stack.pop() {
        match &rule.condition {
            Condition::And(rules) | Condition::Or(rules) => {
                let key = if matches!(rule.condition, Condition::And(_)) {
                    "And"
                } else {
                    "Or"
                };
                let base = push_pointer(&ptr, key);
                for (i, r) in rules.iter().enumerate().rev() {
                    let j = cx.raw.object_index(&base, i);
                    stack.push((r, push_pointer(&base, &j.to_string())));
                }
            }
            Condition::Not(r) => stack.push((r, push_pointer(&ptr, "Not"))),
            Condition::Compare { op, operand, .. } => {
                let Value::String(s) = operand else { continue };
                if op.operand() == OperandKind::String && looks_like_path(s) {
                    let name = op.as_str();
                    cx.out.push(Diagnostic::warning(
                        Code::NoPath,
                        push_pointer(&ptr, name),
                        format!(
                            "Field value looks like a path, but field name does not end with 'Path': `{name}` compares with the text \"{s}\"; write `{name}Path` to compare with the value at the path"
                        ),
                    ));
                }
            }
            Condition::Jsonata(_) | Condition::Missing { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_looks_like_a_path_or_a_call() {
        for s in ["$", "$.a", "$[0]", "$$.Execution.Id", "$myVar", " $.a "] {
            assert!(looks_like_path(s), "{s}");
        }
        for s in ["", "a.$", "US$", "$5", "${LambdaArn}", "price in $"] {
            assert!(!looks_like_path(s), "{s}");
        }
        assert!(looks_like_intrinsic("States.Format('{}', $.a)"));
        assert!(!looks_like_intrinsic("States.TaskFailed"));
    }
}
