//! Choice state rules: `Choices` is non-empty, top-level rules have `Next` and nested rules do not,
//! `And`/`Or` are non-empty, comparisons have operands of the operator's type, and `Variable`,
//! `…Path` operands and `Condition` belong to the right query language.

use serde_json::Value;

use super::{language, paths, Cx};
use crate::diag::{push_pointer, Code};
use crate::model::{Choice, ChoiceRule, Condition, OperandKind, Operator, QueryLanguage};
use crate::parse::describe;

/// Checks a Choice state's rules.
pub(super) fn check_choice(cx: &mut Cx<'_>, c: &Choice, ptr: &str, lang: QueryLanguage) {
    let base = push_pointer(ptr, "Choices");
    if c.choices.is_empty()
        && (!cx.raw.known() || matches!(cx.raw.at(&base), Some(Value::Array(_))))
    {
        cx.schema(
            base.clone(),
            "`Choices` must contain at least one choice rule",
        );
    }
    // An explicit stack: (rule, pointer, top-level?).
    let mut stack: Vec<(&ChoiceRule, String, bool)> = Vec::new();
    for (i, rule) in c.choices.iter().enumerate().rev() {
        let j = cx.raw.object_index(&base, i);
        stack.push((rule, push_pointer(&base, &j.to_string()), true));
    }
    while let Some((rule, rptr, top)) = stack.pop() {
        check_rule_fields(cx, rule, &rptr, top, lang);
        match &rule.condition {
            Condition::And(rules) | Condition::Or(rules) => {
                let key = if matches!(rule.condition, Condition::And(_)) {
                    "And"
                } else {
                    "Or"
                };
                let kptr = push_pointer(&rptr, key);
                if rules.is_empty()
                    && (!cx.raw.known() || matches!(cx.raw.at(&kptr), Some(Value::Array(_))))
                {
                    cx.schema(
                        kptr.clone(),
                        format!("`{key}` must contain at least one nested choice rule"),
                    );
                }
                for (i, r) in rules.iter().enumerate().rev() {
                    let j = cx.raw.object_index(&kptr, i);
                    stack.push((r, push_pointer(&kptr, &j.to_string()), false));
                }
            }
            Condition::Not(r) => stack.push((r, push_pointer(&rptr, "Not"), false)),
            Condition::Compare {
                variable,
                op,
                operand,
            } => check_comparison(cx, variable, *op, operand, &rptr, lang),
            Condition::Jsonata(v) => {
                check_condition(cx, v, &push_pointer(&rptr, "Condition"), lang)
            }
            Condition::Missing { .. } => {}
        }
    }
}

/// `Next`, `Assign` and `Output` of a rule, which depend on whether it is top-level.
fn check_rule_fields(
    cx: &mut Cx<'_>,
    rule: &ChoiceRule,
    ptr: &str,
    top: bool,
    lang: QueryLanguage,
) {
    if top {
        let nptr = push_pointer(ptr, "Next");
        if rule.next.is_none() && cx.raw.at(&nptr).is_none() {
            cx.schema(
                ptr.to_owned(),
                "a top-level choice rule must have `Next`, the state to go to when the rule matches",
            );
        }
    } else {
        for (key, present) in [
            ("Next", rule.next.is_some()),
            ("Assign", rule.assign.is_some()),
            ("Output", rule.output.is_some()),
        ] {
            if present {
                cx.schema(
                    push_pointer(ptr, key),
                    format!("`{key}` is only allowed in a top-level choice rule, not in a rule nested inside `And`, `Or` or `Not`"),
                );
            }
        }
    }
    if let Some(v) = &rule.assign {
        paths::check_assign(cx, v, &push_pointer(ptr, "Assign"), lang);
    }
    if rule.output.is_some() {
        language::require_lang(
            cx,
            &push_pointer(ptr, "Output"),
            "Output",
            lang,
            QueryLanguage::Jsonata,
        );
    }
}

/// `Variable` with a comparison operator (JSONPath only).
fn check_comparison(
    cx: &mut Cx<'_>,
    variable: &str,
    op: Operator,
    operand: &Value,
    ptr: &str,
    lang: QueryLanguage,
) {
    let vptr = push_pointer(ptr, "Variable");
    if lang == QueryLanguage::Jsonata {
        cx.push(
            Code::QueryLanguageMismatch,
            vptr,
            language::mismatch("Variable", lang),
        );
        return;
    }
    paths::check_reference_path(cx, variable, &vptr, "Variable");
    let optr = push_pointer(ptr, op.as_str());
    let name = op.as_str();
    match op.operand() {
        OperandKind::String => {
            if !operand.is_string() {
                cx.schema(optr, format!("`{name}` must be a string, found {}", describe(operand)));
            }
        }
        OperandKind::Number => {
            if !operand.is_number() {
                cx.schema(optr, format!("`{name}` must be a number, found {}", describe(operand)));
            }
        }
        OperandKind::Boolean => {
            if !operand.is_boolean() {
                cx.schema(optr, format!("`{name}` must be true or false, found {}", describe(operand)));
            }
        }
        OperandKind::Timestamp => match operand.as_str() {
            Some(s) if crate::timestamp::is_timestamp(s) => {}
            _ => cx.schema(
                optr,
                format!(
                    "`{name}` must be an RFC 3339 timestamp string such as \"2016-03-14T01:59:00Z\", found {}",
                    describe(operand)
                ),
            ),
        },
        OperandKind::Path => match operand.as_str() {
            Some(s) => paths::check_reference_path(cx, s, &optr, name),
            None => cx.schema(
                optr,
                format!("`{name}` must be a reference path string such as \"$.limit\", found {}", describe(operand)),
            ),
        },
    }
}

/// `Condition` (JSONata only): a boolean or a `{% … %}` expression.
fn check_condition(cx: &mut Cx<'_>, v: &Value, ptr: &str, lang: QueryLanguage) {
    if lang != QueryLanguage::Jsonata {
        cx.push(
            Code::QueryLanguageMismatch,
            ptr,
            language::mismatch("Condition", lang),
        );
        return;
    }
    match v {
        Value::Bool(_) => {}
        Value::String(s) if language::is_jsonata_expression(s) => {}
        other => cx.schema(
            ptr.to_owned(),
            format!(
                "`Condition` must be true, false or a JSONata expression `{{% … %}}`, found {}",
                describe(other)
            ),
        ),
    }
}
