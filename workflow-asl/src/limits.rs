//! Every bound on the work and memory an execution's data can demand, in one place.
//!
//! Each limit takes AWS's value where AWS has one (the quotas page of the Step Functions
//! developer guide, "Quotas related to state machine executions" and "Avoid reaching the history
//! quota"). Past a limit an execution fails with a `States.*` error at the state that crossed it;
//! the process never crashes, hangs or runs out of memory because of what a user wrote.
//!
//! | limit | value | past it |
//! |---|---|---|
//! | [`MAX_PAYLOAD_BYTES`] | 256 KiB (AWS) | `States.DataLimitExceeded` |
//! | [`MAX_NESTING_DEPTH`] | 127 levels | `States.Runtime` at the state; input refused |
//! | [`MAX_PATH_WORK`] | 1,000,000 steps per JSONPath evaluation | `States.Runtime` |
//! | [`MAX_HISTORY_EVENTS`] | 25,000 events (AWS) | `ExecutionFailed`, `States.Runtime`, [`history_limit_cause`] |
//! | numbers ([`check_numbers`]) | integers within 64 bits, floats within `f64` | input refused |
//!
//! Why 127 levels of nesting: it is the deepest `serde_json` reads back (its recursion limit of
//! 128), so every value an execution records can be read again on resume; and it bounds every
//! recursive walk over user data (cloning, comparing, dropping, printing a `Value`) to a few
//! kilobytes of stack. AWS's parser (Jackson) accepts deeper documents; a definition or input
//! deeper than this is refused when it is read, and a state whose output would be deeper fails.

use std::fmt;

use serde_json::Value;

/// The largest state input, output or task result, in bytes of JSON text (AWS: 256 KiB).
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// The deepest nesting of arrays and objects a value may have (a scalar is depth 0, `[1]` is 1).
pub const MAX_NESTING_DEPTH: usize = 127;

/// The most steps one JSONPath evaluation may take (nodes visited plus matches collected).
///
/// A path such as `$..*..*..*` selects a number of matches that grows as a power of the input's
/// size; without a bound, a 1 KB input exhausts memory. A million steps is far above what a path
/// over a 256 KiB payload needs to select every node once (at most about 130,000 nodes), and
/// takes well under a second.
pub const MAX_PATH_WORK: usize = 1_000_000;

/// The most events an execution's history may hold (AWS: 25,000). The event that would pass it
/// is replaced by `ExecutionFailed` with error `States.Runtime` and [`history_limit_cause`].
pub const MAX_HISTORY_EVENTS: u64 = 25_000;

/// AWS's cause when an execution reaches the history quota:
/// `The execution reached the maximum number of history events (25000).`
///
/// ```
/// assert_eq!(
///     workflow_asl::limits::history_limit_cause(25000),
///     "The execution reached the maximum number of history events (25000)."
/// );
/// ```
pub fn history_limit_cause(limit: u64) -> String {
    format!("The execution reached the maximum number of history events ({limit}).")
}

/// The nesting depth of `value` (a scalar is 0, `{"a": [1]}` is 2), counted without recursion.
/// Counting stops as soon as the depth passes `limit` (the result is then `limit + 1`).
///
/// ```
/// use serde_json::json;
/// use workflow_asl::limits::nesting_depth;
///
/// assert_eq!(nesting_depth(&json!(1), 100), 0);
/// assert_eq!(nesting_depth(&json!({"a": [1]}), 100), 2);
/// assert_eq!(nesting_depth(&json!([[[[]]]]), 2), 3); // stops past the limit
/// ```
pub fn nesting_depth(value: &Value, limit: usize) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 0)];
    while let Some((v, depth)) = stack.pop() {
        let children: &mut dyn Iterator<Item = &Value> = match v {
            Value::Array(a) => &mut a.iter(),
            Value::Object(o) => &mut o.values(),
            _ => continue,
        };
        let depth = depth + 1;
        deepest = deepest.max(depth);
        if deepest > limit {
            return limit + 1;
        }
        stack.extend(children.map(|c| (c, depth)));
    }
    deepest
}

/// Drops `value` without recursion (`serde_json`'s drop recurses once per level, so a value
/// nested tens of thousands of levels deep, as a task handler may build, would overflow the
/// stack).
///
/// ```
/// let mut deep = serde_json::json!(0);
/// for _ in 0..100_000 {
///     deep = serde_json::Value::Array(vec![deep]);
/// }
/// workflow_asl::limits::drop_deep(deep); // no stack overflow
/// ```
pub fn drop_deep(value: Value) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => stack.extend(members.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// The `States.Runtime` cause of a value nested deeper than [`MAX_NESTING_DEPTH`] (our wording).
///
/// ```
/// let cause = workflow_asl::limits::nesting_cause("the task result");
/// assert!(cause.contains("the task result"));
/// ```
pub fn nesting_cause(what: &str) -> String {
    format!(
        "The {what} is nested more than {MAX_NESTING_DEPTH} levels deep (arrays and objects \
         inside each other), more than this engine records."
    )
}

/// A number in JSON text that `serde_json` would silently change (round an integer beyond 64
/// bits to a double; turn `1e-400` into `0`) or cannot represent (`1e400`).
///
/// ```
/// let err = workflow_asl::limits::check_numbers("{\"n\": 1e400}").unwrap_err();
/// assert_eq!((err.text.as_str(), err.line, err.column), ("1e400", 1, 7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberError {
    /// The number as written.
    pub text: String,
    /// 1-based line and column of its first character.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the number {} at line {} column {} {}; write it as a string to keep it exactly",
            self.text, self.line, self.column, self.reason
        )
    }
}

impl std::error::Error for NumberError {}

/// Checks every number in a JSON text: an integer must fit in 64 bits (signed or unsigned), and
/// a number with a fraction or exponent must be a finite double that is not zero unless written
/// as zero. Numbers that pass are read by `serde_json` to the value they denote (integers
/// exactly, decimals as the nearest double, as AWS's Java runtime reads them). Text that is not
/// JSON is not judged here (the parser reports it).
///
/// ```
/// use workflow_asl::limits::check_numbers;
///
/// assert!(check_numbers("[1, 2.5, -3e10]").is_ok());
/// assert!(check_numbers("[123456789012345678901234567890]").is_err()); // beyond 64 bits
/// ```
pub fn check_numbers(text: &str) -> Result<(), NumberError> {
    let bytes = text.as_bytes();
    let (mut i, mut line, mut line_start) = (0usize, 1usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                // Skip the string, escapes included.
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'\n' => {
                line += 1;
                i += 1;
                line_start = i;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let number = &text[start..i];
                if let Some(reason) = number_problem(number) {
                    return Err(NumberError {
                        text: number.to_string(),
                        line,
                        column: text[line_start..start].chars().count() + 1,
                        reason,
                    });
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// Why a JSON number would not be read exactly, or `None`.
fn number_problem(number: &str) -> Option<&'static str> {
    let is_integer = !number.contains(['.', 'e', 'E']);
    if is_integer {
        if number.parse::<i64>().is_ok() || number.parse::<u64>().is_ok() {
            return None;
        }
        // Not a valid JSON number at all: the parser reports it.
        if number.trim_start_matches('-').is_empty() {
            return None;
        }
        return Some("is an integer beyond 64 bits, which would be rounded");
    }
    let Ok(value) = number.parse::<f64>() else {
        return None;
    };
    if value.is_infinite() {
        return Some("is beyond the range of a double");
    }
    let mantissa = number.split(['e', 'E']).next().unwrap_or(number);
    let written_zero = mantissa.bytes().all(|b| matches!(b, b'0' | b'.' | b'-'));
    if value == 0.0 && !written_zero {
        return Some("is too small for a double and would become 0");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn depth_is_counted_without_recursion_and_stops_at_the_limit() {
        assert_eq!(nesting_depth(&json!(1), 10), 0);
        assert_eq!(nesting_depth(&json!({"a": [1, {"b": []}]}), 10), 4);
        let mut deep = json!(0);
        for _ in 0..100_000 {
            deep = Value::Array(vec![deep]);
        }
        assert_eq!(
            nesting_depth(&deep, MAX_NESTING_DEPTH),
            MAX_NESTING_DEPTH + 1
        );
        // Dropping a value this deep recurses: take it apart level by level instead.
        while let Value::Array(mut a) = deep {
            deep = a.pop().unwrap_or(Value::Null);
        }
    }

    #[test]
    fn serde_json_reads_back_what_the_depth_limit_admits() {
        let text = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        let ok: Value = serde_json::from_str(&text(MAX_NESTING_DEPTH)).expect("reads back");
        assert_eq!(nesting_depth(&ok, MAX_NESTING_DEPTH), MAX_NESTING_DEPTH);
        assert!(serde_json::from_str::<Value>(&text(MAX_NESTING_DEPTH + 1)).is_err());
    }

    #[test]
    fn numbers_that_would_change_are_refused_with_their_place() {
        for ok in [
            "0",
            "-0",
            "0.0",
            "-0.0e10",
            "9223372036854775807",
            "-9223372036854775808",
            "18446744073709551615",
            "1.5e300",
            "1e-300",
            "2.2250738585072014e-308",
            r#"{"s": "123456789012345678901234567890", "e": "1e-400"}"#,
            r#"["\"", 1]"#,
        ] {
            assert_eq!(check_numbers(ok), Ok(()), "{ok}");
        }
        for (text, at, why) in [
            ("18446744073709551616", (1, 1), "beyond 64 bits"),
            ("-9223372036854775809", (1, 1), "beyond 64 bits"),
            (
                "{\n  \"a\": [1, 123456789012345678901234]}",
                (2, 12),
                "beyond 64 bits",
            ),
            ("1e-400", (1, 1), "would become 0"),
            ("[0.0, -1.0e-999]", (1, 7), "would become 0"),
            ("1e400", (1, 1), "beyond the range"),
            (r#"{"é": 1E+309}"#, (1, 7), "beyond the range"),
        ] {
            let err = check_numbers(text).expect_err(text);
            assert_eq!((err.line, err.column), at, "{text}: {err}");
            assert!(err.to_string().contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn the_history_cause_is_aws_wording() {
        assert_eq!(
            history_limit_cause(MAX_HISTORY_EVENTS),
            "The execution reached the maximum number of history events (25000)."
        );
    }
}
