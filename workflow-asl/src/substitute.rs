//! `${NAME}` placeholders, as CloudFormation's `DefinitionSubstitutions` fills them in.
//!
//! Definitions kept beside CloudFormation, SAM and CDK templates hold placeholders such as
//! `"Resource": "${ProcessFunctionArn}"` or `"arn:${AWS::Partition}:states:::sqs:sendMessage"`;
//! CloudFormation replaces each `${NAME}` with the value given for `NAME` in the state machine's
//! `DefinitionSubstitutions` map before Step Functions sees the definition
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-stepfunctions-statemachine.html>).
//! The replacement is textual, so it happens here on the definition text; placeholders without
//! a value are left as written.
//!
//! A placeholder is `${` + a name of letters, digits and `_ : . -` + `}`; anything else
//! (`${}`, `${ x }`) is ordinary text.

use std::collections::HashMap;

use serde_json::Value;

use crate::diag::push_pointer;

/// One placeholder in a string: where it starts and ends (byte offsets of `$` and after `}`)
/// and its name.
///
/// ```
/// use workflow_asl::substitute::{find, Placeholder};
///
/// assert_eq!(find("arn:${Fn}"), [Placeholder { start: 4, end: 9, name: "Fn" }]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// The offset of its `$`.
    pub start: usize,
    /// The offset just after its `}`.
    pub end: usize,
    /// The name between the braces.
    pub name: &'a str,
}

/// Whether `c` may appear in a placeholder name.
fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '.' | '-')
}

/// The placeholders in `s`, in order.
///
/// ```
/// let names: Vec<_> = workflow_asl::substitute::find("${A}-${B}").iter().map(|p| p.name).collect();
/// assert_eq!(names, ["A", "B"]);
/// ```
pub fn find(s: &str) -> Vec<Placeholder<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = s[from..].find("${") {
        let start = from + at;
        let body = &s[start + 2..];
        let len = body.find(|c: char| !name_char(c)).unwrap_or(body.len());
        if len > 0 && body[len..].starts_with('}') {
            out.push(Placeholder {
                start,
                end: start + 2 + len + 1,
                name: &body[..len],
            });
            from = start + 2 + len + 1;
        } else {
            from = start + 2;
        }
    }
    out
}

/// Whether `s` holds a placeholder.
///
/// ```
/// use workflow_asl::substitute::has_placeholder;
/// assert!(has_placeholder("arn:${Fn}"));
/// assert!(!has_placeholder("${not closed"));
/// ```
pub fn has_placeholder(s: &str) -> bool {
    s.contains("${") && !find(s).is_empty()
}

/// `text` with every placeholder that `value_of` knows replaced by its value (the others are
/// kept as written).
///
/// ```
/// use workflow_asl::substitute::substitute_str;
///
/// let out = substitute_str("${A}/${B}", |name| (name == "A").then_some("a"));
/// assert_eq!(out, "a/${B}");
/// ```
pub fn substitute_str<'v>(text: &str, value_of: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for p in find(text) {
        if let Some(v) = value_of(p.name) {
            out.push_str(&text[last..p.start]);
            out.push_str(v);
            last = p.end;
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Definition text with its placeholders substituted, as CloudFormation does with
/// `DefinitionSubstitutions`: textually, so a value is inserted as it is (a value that holds a
/// `"` can make the text stop being JSON, as on AWS).
///
/// ```
/// use std::collections::HashMap;
/// use workflow_asl::substitute::substitute_text;
///
/// let subs = HashMap::from([("Fn".to_string(), "arn:aws:lambda:us-east-1:1:function:f".to_string())]);
/// let text = substitute_text(r#"{"Resource": "${Fn}"}"#, &subs);
/// assert_eq!(text, r#"{"Resource": "arn:aws:lambda:us-east-1:1:function:f"}"#);
/// ```
pub fn substitute_text(text: &str, substitutions: &HashMap<String, String>) -> String {
    substitute_str(text, |name| substitutions.get(name).map(String::as_str))
}

/// Substitutes the placeholders in every string value (and key) of `v`.
///
/// ```
/// use serde_json::json;
///
/// let mut v = json!({"${Key}": ["${Value}"]});
/// workflow_asl::substitute::substitute_value(&mut v, &[("Key", "k"), ("Value", "v")]);
/// assert_eq!(v, json!({"k": ["v"]}));
/// ```
pub fn substitute_value(v: &mut Value, substitutions: &[(&str, &str)]) {
    let value_of = |name: &str| {
        substitutions
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    };
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if has_placeholder(s) => *s = substitute_str(s, value_of),
            Value::Array(a) => stack.extend(a.iter_mut()),
            Value::Object(o) => {
                if o.keys().any(|k| has_placeholder(k)) {
                    let old = std::mem::take(o);
                    for (k, x) in old {
                        o.insert(substitute_str(&k, value_of), x);
                    }
                }
                stack.extend(o.values_mut());
            }
            _ => {}
        }
    }
}

/// The names of the placeholders in the string values and keys of `v`, each once, in document
/// order.
///
/// ```
/// use serde_json::json;
/// assert_eq!(workflow_asl::substitute::names(&json!({"a": "${X}", "b": ["${Y}", "${X}"]})), ["X", "Y"]);
/// ```
pub fn names(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, s) in occurrences(v) {
        for p in find(&s) {
            if !out.iter().any(|n| n == p.name) {
                out.push(p.name.to_string());
            }
        }
    }
    out
}

/// Every string (value or key) of `v` that holds a placeholder, with its JSON pointer (a key's
/// pointer names its member), in document order.
///
/// ```
/// use serde_json::json;
///
/// let found = workflow_asl::substitute::occurrences(&json!({"States": {"T": {"Resource": "${Fn}"}}}));
/// assert_eq!(found, [("/States/T/Resource".to_string(), "${Fn}".to_string())]);
/// ```
pub fn occurrences(v: &Value) -> Vec<(String, String)> {
    enum Item<'a> {
        Value(&'a Value, String),
        Key(&'a str, String),
    }
    let mut out = Vec::new();
    let mut stack: Vec<Item<'_>> = vec![Item::Value(v, String::new())];
    while let Some(item) = stack.pop() {
        let (v, ptr) = match item {
            Item::Key(k, ptr) => {
                out.push((ptr, k.to_string()));
                continue;
            }
            Item::Value(v, ptr) => (v, ptr),
        };
        match v {
            Value::String(s) if has_placeholder(s) => out.push((ptr, s.clone())),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate().rev() {
                    stack.push(Item::Value(x, push_pointer(&ptr, &i.to_string())));
                }
            }
            Value::Object(o) => {
                for (k, x) in o.iter().rev() {
                    let at = push_pointer(&ptr, k);
                    stack.push(Item::Value(x, at.clone()));
                    if has_placeholder(k) {
                        stack.push(Item::Key(k, at));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_placeholders_like_cloudformation() {
        fn names(s: &str) -> Vec<&str> {
            find(s).iter().map(|p| p.name).collect()
        }
        assert_eq!(names("${A}"), ["A"]);
        assert_eq!(
            names("arn:${AWS::Partition}:lambda:${AWS::Region}:1:function:${Fn.Name}"),
            ["AWS::Partition", "AWS::Region", "Fn.Name"]
        );
        assert!(names("${}").is_empty());
        assert!(names("${ A }").is_empty());
        assert!(names("$.a ${unclosed").is_empty());
        assert_eq!(names("${${A}}"), ["A"]);
    }

    #[test]
    fn substitutes_known_names_only() {
        let subs: HashMap<String, String> = [
            ("A".to_string(), "x".to_string()),
            ("AWS::Region".to_string(), "eu-west-1".to_string()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            substitute_text(r#"{"R": "${A}:${B}:${AWS::Region}"}"#, &subs),
            r#"{"R": "x:${B}:eu-west-1"}"#
        );
        let mut v = json!({"${A}": ["${A}", {"k": "p-${A}-${B}"}], "n": 1});
        substitute_value(&mut v, &[("A", "x")]);
        assert_eq!(v, json!({"x": ["x", {"k": "p-x-${B}"}], "n": 1}));
    }

    #[test]
    fn lists_names_and_where_they_are() {
        let v =
            json!({"States": {"T": {"Resource": "${Fn}", "Parameters": {"${K}": "${Fn}-${Q}"}}}});
        assert_eq!(names(&v), ["Fn", "K", "Q"]);
        assert_eq!(
            occurrences(&v),
            [
                ("/States/T/Resource".to_string(), "${Fn}".to_string()),
                ("/States/T/Parameters/${K}".to_string(), "${K}".to_string()),
                (
                    "/States/T/Parameters/${K}".to_string(),
                    "${Fn}-${Q}".to_string()
                ),
            ]
        );
    }
}
