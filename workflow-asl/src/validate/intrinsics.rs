//! Intrinsic function calls in `.$` fields, `ErrorPath` and `CausePath`.
//!
//! Syntax, function names and argument counts are checked by [`crate::intrinsic::Call::parse`].
//! On top of that, a call that parsed is checked for *literal* arguments of the wrong type
//! (`States.MathAdd(1, '-1')`: a string where a number is required). Path and nested-call
//! arguments are only known when the call runs, so they are not judged here.

/// Whether the text is written as an intrinsic function call (`States.Name(…)`).
pub(super) fn looks_like_call(text: &str) -> bool {
    crate::intrinsic::is_intrinsic(text)
}

/// Checks a call: its syntax, function names, argument counts and literal argument types.
pub(super) fn check_call(text: &str) -> Result<(), String> {
    if text.starts_with(char::is_whitespace) {
        return Err(
            "an intrinsic function call must start with `States.`, without leading blanks"
                .to_owned(),
        );
    }
    crate::intrinsic::Call::parse(text).map_err(|e| e.to_string())?;
    check_literal_types(text)
}

/// The type a parameter of an intrinsic function requires.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Want {
    /// A string.
    Str,
    /// A number.
    Num,
    /// A boolean.
    Bool,
    /// An array or object: no literal has that type.
    Container,
    /// Anything.
    Any,
}

/// The parameter types of each function (the last one repeats for variadic functions).
fn signature(name: &str) -> Option<&'static [Want]> {
    use Want::*;
    Some(match name {
        "States.Format" => &[Str, Any],
        "States.StringToJson" => &[Str],
        "States.JsonToString" => &[Any],
        "States.Array" => &[Any],
        "States.ArrayPartition" => &[Container, Num],
        "States.ArrayContains" => &[Container, Any],
        "States.ArrayRange" => &[Num, Num, Num],
        "States.ArrayGetItem" => &[Container, Num],
        "States.ArrayLength" | "States.ArrayUnique" => &[Container],
        "States.Base64Encode" | "States.Base64Decode" => &[Str],
        "States.Hash" => &[Any, Str],
        "States.JsonMerge" => &[Container, Container, Bool],
        "States.MathRandom" | "States.MathAdd" => &[Num, Num, Num],
        "States.StringSplit" => &[Str, Str],
        "States.UUID" => &[],
        _ => return None,
    })
}

/// Walks the (already well-formed) call and its nested calls, comparing literal arguments with
/// each function's parameter types.
fn check_literal_types(text: &str) -> Result<(), String> {
    let mut pending = vec![text.trim()];
    while let Some(call) = pending.pop() {
        let Some(open) = call.find('(') else {
            continue;
        };
        let name = call[..open].trim();
        let Some(inner) = call[open + 1..].trim_end().strip_suffix(')') else {
            continue;
        };
        let Some(sig) = signature(name) else {
            continue;
        };
        for (i, arg) in split_args(inner).into_iter().enumerate() {
            let arg = arg.trim();
            if arg.starts_with("States.") {
                pending.push(arg);
                continue;
            }
            let want = sig.get(i).or(sig.last()).copied().unwrap_or(Want::Any);
            let found = if arg.starts_with('\'') {
                Some(("a string", Want::Str))
            } else if arg == "true" || arg == "false" {
                Some(("a boolean", Want::Bool))
            } else if arg == "null" {
                Some(("null", Want::Any))
            } else if arg.starts_with('$') || arg.is_empty() {
                None
            } else {
                Some(("a number", Want::Num))
            };
            let Some((what, kind)) = found else {
                continue;
            };
            let ok = match want {
                Want::Any => true,
                Want::Container => false,
                w => w == kind,
            };
            if !ok {
                let need = match want {
                    Want::Str => "a string",
                    Want::Num => "a number",
                    Want::Bool => "true or false",
                    _ => "an array or object (given as a path)",
                };
                return Err(format!(
                    "argument {} of {name} must be {need} (or a path), but is {what} literal `{arg}`",
                    i + 1
                ));
            }
        }
    }
    Ok(())
}

/// Splits an argument list at the commas that are not inside quotes or nested parentheses.
fn split_args(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    if inner.trim().is_empty() {
        return out;
    }
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '\'' {
                in_str = false;
            }
            continue;
        }
        match c {
            '\'' => in_str = true,
            '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::check_call;

    #[test]
    fn literal_argument_types() {
        for ok in [
            "States.MathAdd(States.ArrayLength($$.Execution.Input.machines),-1)",
            "States.MathAdd($.a, 1)",
            "States.Format('{} and {}', 1, 'two')",
            "States.ArrayRange(1, 9, 2)",
            "States.JsonMerge($.a, $.b, false)",
            "States.Hash($.Data, 'SHA-256')",
            "States.StringSplit('a,b', ',')",
            "States.Array('Foo', 2020, $.someJson, null)",
        ] {
            assert_eq!(check_call(ok), Ok(()), "{ok}");
        }
        for (bad, fragment) in [
            (
                "States.MathAdd(1,'-1')",
                "argument 2 of States.MathAdd must be a number",
            ),
            ("States.ArrayLength('abc')", "array or object"),
            ("States.JsonMerge($.a, $.b, 'no')", "true or false"),
            (
                "States.Format('{}', States.MathAdd('a', 1))",
                "argument 1 of States.MathAdd",
            ),
            (" States.Array('Foo')", "leading blanks"),
            ("States.Nope(1)", "unknown intrinsic"),
            ("States.MathAdd(1)", "takes"),
        ] {
            let err = check_call(bad).expect_err(bad);
            assert!(err.contains(fragment), "{bad}: {err}");
        }
    }
}
