//! Paths, reference paths, payload templates and intrinsic calls.
//!
//! The States Language distinguishes a *Path* (any JSONPath, which may select several nodes:
//! `InputPath`, `OutputPath`, the values of `.$` template fields) from a *Reference Path* (only
//! single names and indexes, selecting at most one node: `ResultPath`, `ItemsPath`, `Variable`,
//! the `…Path` comparison operands and the `…SecondsPath`/`…Path` fields). `ResultPath` must also
//! start at `$` (the state input): it cannot write into the context object or a variable.

use serde_json::Value;

use super::Cx;
use crate::diag::{push_pointer, Code};
use crate::model::{PathField, QueryLanguage};
use crate::parse::describe;
use crate::path::{Path, PathRoot};

/// What a field accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    /// Any path.
    Path,
    /// A reference path.
    Reference,
    /// A reference path or an intrinsic function call.
    ReferenceOrIntrinsic,
    /// A path or an intrinsic function call (payload template `.$` fields).
    PathOrIntrinsic,
}

/// `InputPath` / `OutputPath`: any path.
pub(super) fn check_path(cx: &mut Cx<'_>, text: &str, ptr: &str, field: &str) {
    check(cx, text, ptr, field, Accept::Path);
}

/// A field that requires a reference path.
pub(super) fn check_reference_path(cx: &mut Cx<'_>, text: &str, ptr: &str, field: &str) {
    check(cx, text, ptr, field, Accept::Reference);
}

/// `ErrorPath` / `CausePath`: a reference path or an intrinsic function call.
pub(super) fn check_reference_path_or_intrinsic(
    cx: &mut Cx<'_>,
    text: &str,
    ptr: &str,
    field: &str,
) {
    check(cx, text, ptr, field, Accept::ReferenceOrIntrinsic);
}

/// `ResultPath` (of a state or a catcher): `null`, or a reference path rooted at `$`.
pub(super) fn check_result_path(cx: &mut Cx<'_>, p: &PathField, ptr: &str, lang: QueryLanguage) {
    if lang != QueryLanguage::JsonPath {
        return;
    }
    let PathField::Path(text) = p else {
        return;
    };
    match Path::parse(text) {
        Ok(path) => {
            if !matches!(path.root(), PathRoot::Input) {
                cx.push(
                    Code::InvalidJsonPath,
                    ptr,
                    format!(
                        "`ResultPath` \"{text}\" must start with `$` (the state input); it cannot write into the context object (`$$`) or a variable (use `Assign` to set variables)"
                    ),
                );
            } else if !path.is_reference() {
                cx.push(
                    Code::InvalidJsonPath,
                    ptr,
                    format!(
                        "`ResultPath` \"{text}\" must be a reference path (only `.name`, `['name']` and `[index]` steps, such as \"$.result\"); wildcards, slices, filters and deep scans are not allowed"
                    ),
                );
            }
        }
        Err(e) => cx.push(
            Code::InvalidJsonPath,
            ptr,
            format!("`ResultPath` is not a valid reference path: {e}"),
        ),
    }
}

fn check(cx: &mut Cx<'_>, text: &str, ptr: &str, field: &str, accept: Accept) {
    let intrinsic_ok = matches!(
        accept,
        Accept::ReferenceOrIntrinsic | Accept::PathOrIntrinsic
    );
    if super::intrinsics::looks_like_call(text) {
        if intrinsic_ok {
            if let Err(msg) = super::intrinsics::check_call(text) {
                cx.push(Code::InvalidIntrinsic, ptr, format!("`{field}`: {msg}"));
            }
        } else {
            cx.push(
                Code::InvalidJsonPath,
                ptr,
                format!(
                    "`{field}` must be a {}, not an intrinsic function call; intrinsic functions are only allowed in payload template fields ending in `.$`",
                    if accept == Accept::Path { "path" } else { "reference path" }
                ),
            );
        }
        return;
    }
    match Path::parse(text) {
        Ok(path) => {
            if matches!(accept, Accept::Reference | Accept::ReferenceOrIntrinsic)
                && !path.is_reference()
            {
                cx.push(
                    Code::InvalidJsonPath,
                    ptr,
                    format!(
                        "`{field}` \"{text}\" must be a reference path (only `.name`, `['name']` and `[index]` steps, such as \"$.items\"); wildcards, slices, filters and deep scans are not allowed here"
                    ),
                );
            }
        }
        Err(e) => {
            let what = match accept {
                Accept::Path => "a valid path",
                Accept::Reference => "a valid reference path",
                Accept::ReferenceOrIntrinsic => "a valid reference path or intrinsic function call",
                Accept::PathOrIntrinsic => "a valid path (such as \"$.name\") or intrinsic function call (such as \"States.Format('{}', $.name)\")",
            };
            cx.push(
                Code::InvalidJsonPath,
                ptr,
                format!("`{field}` must be {what}: {e}"),
            );
        }
    }
}

/// A JSONPath payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Credentials`, …):
/// every field whose name ends in `.$` holds a path or an intrinsic call, and no field is given
/// both with and without the `.$` suffix. JSONata states have no `.$` fields (their templates are
/// checked as JSONata), so nothing is checked for them here.
pub(super) fn check_template(cx: &mut Cx<'_>, value: &Value, ptr: &str, lang: QueryLanguage) {
    if lang != QueryLanguage::JsonPath {
        return;
    }
    let mut stack: Vec<(&Value, String)> = vec![(value, ptr.to_owned())];
    while let Some((v, p)) = stack.pop() {
        match v {
            Value::Object(map) => {
                let mut children = Vec::new();
                for (k, item) in map {
                    let kptr = push_pointer(&p, k);
                    let Some(base) = k.strip_suffix(".$") else {
                        children.push((item, kptr));
                        continue;
                    };
                    if map.contains_key(base) {
                        cx.schema(
                            kptr.clone(),
                            format!(
                                "the field \"{base}\" is given twice: as \"{base}\" and as \"{k}\" (both produce \"{base}\"); keep one"
                            ),
                        );
                    }
                    match item {
                        Value::String(s) => check(cx, s, &kptr, k, Accept::PathOrIntrinsic),
                        other => cx.push(
                            Code::InvalidJsonPath,
                            kptr,
                            format!(
                                "the field \"{k}\" ends in `.$`, so its value must be a path or intrinsic function call string, found {}; remove `.$` for a literal value",
                                describe(other)
                            ),
                        ),
                    }
                }
                stack.extend(children.into_iter().rev());
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate().rev() {
                    stack.push((item, push_pointer(&p, &i.to_string())));
                }
            }
            _ => {}
        }
    }
}

/// `Assign`: an object whose keys are variable names (with `.$` in JSONPath states for values
/// computed from paths or intrinsic calls).
pub(super) fn check_assign(cx: &mut Cx<'_>, value: &Value, ptr: &str, lang: QueryLanguage) {
    let Value::Object(map) = value else {
        cx.schema(
            ptr.to_owned(),
            format!(
                "`Assign` must be an object mapping variable names to values, found {}",
                describe(value)
            ),
        );
        return;
    };
    for key in map.keys() {
        let name = match lang {
            QueryLanguage::JsonPath => key.strip_suffix(".$").unwrap_or(key),
            QueryLanguage::Jsonata => key.as_str(),
        };
        if name == "states" {
            // `$states` is reserved: Step Functions binds it in every JSONata expression (AWS,
            // "Passing data between states with variables", "Reserved variable: $states").
            cx.schema(
                push_pointer(ptr, key),
                "\"states\" is a reserved variable name ($states is bound by Step Functions in JSONata expressions); choose another name",
            );
        } else if !is_variable_name(name) {
            cx.schema(
                push_pointer(ptr, key),
                format!(
                    "\"{name}\" is not a valid variable name; a variable name starts with a letter or `_` and continues with letters, digits or `_`"
                ),
            );
        } else if name.chars().count() > MAX_VARIABLE_NAME_CHARS {
            // AWS, "Passing data between states with variables", Variable name syntax: "The
            // maximum length of a variable name is 80." (documented; AWS's diagnostic for it
            // has not been recorded).
            cx.schema(
                push_pointer(ptr, key),
                format!(
                    "the variable name is {} characters long; variable names may have at most {MAX_VARIABLE_NAME_CHARS} characters",
                    name.chars().count()
                ),
            );
        }
    }
    check_template(cx, value, ptr, lang);
}

/// The maximum length of a variable name, in characters (AWS, "Passing data between states with
/// variables", Variable name syntax).
const MAX_VARIABLE_NAME_CHARS: usize = 80;

/// Whether `name` can name a workflow variable.
fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_')
}
