//! Workflow variables across scopes.
//!
//! AWS, "Passing data between states with variables", section "Variable scope"
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html#variable-scope>):
//! "A variable exists in a scope if any state in the scope assigns a value to it. To help avoid
//! common errors, a variable assigned in an inner scope cannot have the same name as one assigned
//! in an outer scope. For example, if the top-level scope assigns a value to a variable called
//! `myVariable`, then no other scope (inside a `Map`, `Parallel`) can assign to `myVariable` as
//! well."
//!
//! So the rule is about the definition, not about the order states run in: a name assigned by any
//! state of a scope (its `Assign`, a Choice rule's `Assign`, a catcher's `Assign`) cannot be
//! assigned by any state of a scope nested in it (a Parallel branch, an inline Map's
//! `ItemProcessor`/`Iterator`, a distributed Map's `ItemProcessor`: the page names no exception
//! for the last). A catcher's `Assign` on a Parallel or Map state belongs to the scope the state
//! is in ("the `Assign` field in a `Catch` can assign values to variables in the outer scope"),
//! and sibling scopes may share names (AWS ran `BASE_SCOPE_PARALLEL`, whose three branches all
//! assign `innerX` and `value`). The page does not say how AWS reports a breach; it is reported
//! here as an error with a code of ours, [`Code::VariableAssignedInOuterScope`].

use std::collections::HashMap;

use serde_json::Value;

use super::{state_pointer, Cx, Scope};
use crate::diag::{push_pointer, Code};
use crate::model::{QueryLanguage, State, StateKind};

/// Reports every assignment, in a nested scope, of a variable an enclosing scope assigns.
pub(super) fn check_scopes(cx: &mut Cx<'_>, scopes: &[Scope<'_>]) {
    if scopes.len() < 2 {
        return;
    }
    // Per scope, every assignment in document order: (variable name, pointer of the key).
    let assigned: Vec<Vec<(&str, String)>> = scopes.iter().map(|s| assignments(cx, s)).collect();
    // Per scope, the first assignment of each name.
    let first: Vec<HashMap<&str, &str>> = assigned
        .iter()
        .map(|list| {
            let mut m = HashMap::with_capacity(list.len());
            for (name, ptr) in list {
                m.entry(*name).or_insert(ptr.as_str());
            }
            m
        })
        .collect();
    for (i, scope) in scopes.iter().enumerate() {
        for (name, ptr) in &assigned[i] {
            // The nearest enclosing scope that assigns the name.
            let mut up = scope.parent;
            while let Some(j) = up {
                if let Some(outer) = first[j].get(name) {
                    let msg = format!(
                        "the variable `{name}` is also assigned in {outer_what} (at {outer}), which encloses {inner_what}; a variable assigned in an inner scope (a Parallel branch or a Map item processor) cannot have the same name as one assigned in an outer scope (it can read the outer value as `${name}`): rename one of them",
                        outer_what = scopes[j].what,
                        inner_what = scope.what,
                    );
                    cx.push(Code::VariableAssignedInOuterScope, ptr.clone(), msg);
                    break;
                }
                up = scopes[j].parent;
            }
        }
    }
}

/// The variables the states of one scope assign, each with the pointer of its `Assign` key.
fn assignments<'a>(cx: &Cx<'_>, scope: &Scope<'a>) -> Vec<(&'a str, String)> {
    let mut out = Vec::new();
    for (name, state) in scope.states {
        let lang = state.common.query_language.unwrap_or(scope.lang);
        let ptr = state_pointer(&scope.ptr, name);
        if let Some(v) = &state.common.assign {
            names(v, &ptr, lang, &mut out);
        }
        if let StateKind::Choice(c) = &state.kind {
            // Only top-level rules may assign (a nested rule's `Assign` is refused elsewhere).
            let base = push_pointer(&ptr, "Choices");
            for (i, rule) in c.choices.iter().enumerate() {
                if let Some(v) = &rule.assign {
                    let j = cx.raw.object_index(&base, i);
                    names(v, &push_pointer(&base, &j.to_string()), lang, &mut out);
                }
            }
        }
        catcher_assignments(cx, state, &ptr, lang, &mut out);
    }
    out
}

/// The variables a state's catchers assign (in the state's own scope).
fn catcher_assignments<'a>(
    cx: &Cx<'_>,
    state: &'a State,
    ptr: &str,
    lang: QueryLanguage,
    out: &mut Vec<(&'a str, String)>,
) {
    let Some(errors) = state.error_handling() else {
        return;
    };
    let base = push_pointer(ptr, "Catch");
    for (i, c) in errors.catch.iter().enumerate() {
        if let Some(v) = &c.assign {
            let j = cx.raw.object_index(&base, i);
            names(v, &push_pointer(&base, &j.to_string()), lang, out);
        }
    }
}

/// The variable names of one `Assign` object at `owner/Assign` (a JSONPath key `x.$` assigns
/// `x`). A non-object `Assign` is reported by the field checks.
fn names<'a>(
    assign: &'a Value,
    owner: &str,
    lang: QueryLanguage,
    out: &mut Vec<(&'a str, String)>,
) {
    let Value::Object(map) = assign else {
        return;
    };
    let aptr = push_pointer(owner, "Assign");
    for key in map.keys() {
        let name = match lang {
            QueryLanguage::JsonPath => key.strip_suffix(".$").unwrap_or(key),
            QueryLanguage::Jsonata => key.as_str(),
        };
        out.push((name, push_pointer(&aptr, key)));
    }
}

#[cfg(test)]
mod tests {
    //! The rule, the shapes AWS accepts and the variable-name length: AWS, "Passing data between
    //! states with variables",
    //! <https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html> (sections
    //! "Variable scope" and "Variable name syntax"); the sibling-branch case is AWS's recorded
    //! execution `BASE_SCOPE_PARALLEL` (localstack/localstack,
    //! tests/aws/services/stepfunctions/v2/assign/test_assign_base.py).

    use serde_json::{json, Value};

    use crate::diag::{Code, Severity};

    /// The errors of a definition: (code, pointer).
    fn errors(def: &Value) -> Vec<(Code, String)> {
        crate::check_value_with(def, &Default::default())
            .diagnostics
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.code, d.pointer))
            .collect()
    }

    fn scope_errors(def: &Value) -> Vec<String> {
        errors(def)
            .into_iter()
            .filter(|(c, _)| *c == Code::VariableAssignedInOuterScope)
            .map(|(_, p)| p)
            .collect()
    }

    fn pass(assign: Value) -> Value {
        json!({"Type": "Pass", "Assign": assign, "End": true})
    }

    fn map(processor: Value) -> Value {
        json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": processor, "End": true})
    }

    #[test]
    fn an_inline_map_cannot_assign_a_name_the_machine_assigns() {
        // The JSONPath key `x.$` assigns `x`, like the outer `x`.
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
            "M": map(json!({"StartAt": "P", "States": {"P": pass(json!({"x.$": "$", "y": 2}))}}))
        }});
        assert_eq!(
            scope_errors(&def),
            ["/States/M/ItemProcessor/States/P/Assign/x.$"]
        );
        let r = crate::check_value_with(&def, &Default::default());
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.code == Code::VariableAssignedInOuterScope)
            .expect("a diagnostic");
        assert_eq!(d.severity, Severity::Error);
        assert!(!r.is_valid());
        assert!(
            d.message.contains("`x`")
                && d.message.contains("/States/A/Assign/x")
                && d.message.contains("the item processor of Map state `M`"),
            "{}",
            d.message
        );
    }

    #[test]
    fn a_parallel_branch_and_a_legacy_iterator_are_inner_scopes_too() {
        let def = json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "P"},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "B0", "States": {"B0": pass(json!({"ok": 1}))}},
                {"StartAt": "B1", "States": {"B1": pass(json!({"x": "{% $x + 1 %}"}))}}
            ]},
            "M": {"Type": "Map", "Items": [1], "End": true,
                  "Iterator": {"StartAt": "I", "States": {"I": pass(json!({"x": 2}))}}}
        }});
        assert_eq!(
            scope_errors(&def),
            [
                "/States/P/Branches/1/States/B1/Assign/x",
                "/States/M/Iterator/States/I/Assign/x"
            ]
        );
    }

    #[test]
    fn sibling_scopes_may_share_names_and_inner_scopes_may_read_outer_ones() {
        // The shape of AWS's recorded BASE_SCOPE_PARALLEL and BASE_SCOPE_MAP executions.
        let branch = |name: &str| json!({"StartAt": name, "States": {name: pass(json!({"innerX.$": "$x", "value.$": "$"}))}});
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 42, "items": [1, 2]}, "Next": "P"},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [branch("B1"), branch("B2"), branch("B3")]},
            "M": {"Type": "Map", "ItemsPath": "$items", "Next": "F", "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "I", "States": {"I": pass(json!({"innerX.$": "$x"}))}}},
            "F": {"Type": "Pass", "Assign": {"final.$": "$x"}, "End": true}
        }});
        assert_eq!(errors(&def), []);
    }

    #[test]
    fn every_enclosing_scope_counts_and_the_order_of_states_does_not() {
        // `a` is assigned by the machine after the Map ("a variable exists in a scope if any
        // state in the scope assigns a value to it"); `b` by the outer item processor.
        let inner =
            map(json!({"StartAt": "Q", "States": {"Q": pass(json!({"a": 1, "b": 2, "c": 3}))}}));
        let def = json!({"StartAt": "M", "States": {
            "M": {"Type": "Map", "Next": "Z", "ItemProcessor": {"StartAt": "P", "States": {
                "P": {"Type": "Pass", "Assign": {"b": 0}, "Next": "N"},
                "N": inner
            }}},
            "Z": pass(json!({"a": 0}))
        }});
        assert_eq!(
            scope_errors(&def),
            [
                "/States/M/ItemProcessor/States/N/ItemProcessor/States/Q/Assign/a",
                "/States/M/ItemProcessor/States/N/ItemProcessor/States/Q/Assign/b"
            ]
        );
    }

    #[test]
    fn catcher_and_choice_rule_assignments_belong_to_the_scope_of_their_state() {
        // A catcher on the Map assigns in the machine's scope ("the Assign field in a Catch can
        // assign values to variables in the outer scope"), as does a Choice rule there; the
        // Map's own top-level Assign too.
        let def = json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Default": "M", "Choices": [
                {"Variable": "$.k", "IsPresent": true, "Assign": {"fromChoice": 1}, "Next": "M"}]},
            "M": {"Type": "Map", "End": true, "Assign": {"fromMap": 1},
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"fromCatch": 1}, "Next": "F"}],
                  "ItemProcessor": {"StartAt": "T", "States": {"T": {
                      "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
                      "Parameters": {"FunctionName": "f"},
                      "Assign": {"fromMap": 2},
                      "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"fromCatch": 2}, "Next": "G"}]},
                      "G": {"Type": "Choice", "Default": "S", "Choices": [
                          {"Variable": "$.k", "IsPresent": true, "Assign": {"fromChoice": 2}, "Next": "S"}]},
                      "S": {"Type": "Succeed"}}}},
            "F": {"Type": "Succeed"}
        }});
        assert_eq!(
            scope_errors(&def),
            [
                "/States/M/ItemProcessor/States/T/Assign/fromMap",
                "/States/M/ItemProcessor/States/T/Catch/0/Assign/fromCatch",
                "/States/M/ItemProcessor/States/G/Choices/0/Assign/fromChoice"
            ]
        );
    }

    #[test]
    fn a_distributed_map_processor_is_an_inner_scope() {
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.items", "End": true, "ItemProcessor": {
                "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "P", "States": {"P": pass(json!({"x": 2}))}}}
        }});
        assert_eq!(
            scope_errors(&def),
            ["/States/M/ItemProcessor/States/P/Assign/x"]
        );
    }

    #[test]
    fn a_name_given_with_and_without_dollar_suffix_in_one_assign_is_refused() {
        // Both keys assign `x` in a JSONPath state.
        let def = json!({"StartAt": "A", "States": {"A": pass(json!({"x": 1, "x.$": "$.a"}))}});
        assert_eq!(
            errors(&def),
            [(
                Code::SchemaValidationFailed,
                "/States/A/Assign/x.$".to_owned()
            )]
        );
    }

    #[test]
    fn variable_names_have_at_most_80_characters() {
        let ok = "v".repeat(80);
        let long = "v".repeat(81);
        let def =
            json!({"StartAt": "A", "States": {"A": pass(json!({ok.clone(): 1, long.clone(): 2}))}});
        assert_eq!(
            errors(&def),
            [(
                Code::SchemaValidationFailed,
                format!("/States/A/Assign/{long}")
            )]
        );
    }
}
