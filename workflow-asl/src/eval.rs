//! What JSONPath expressions read, and the number and JSON text formatting AWS uses.
//!
//! Every path, intrinsic function and payload template evaluates against an [`Env`]: the state's
//! input (`$`), the context object (`$$`) and the variables set by `Assign` (`$name`).
//! Randomness (`States.UUID`, unseeded `States.MathRandom`) comes from an [`Entropy`] the caller
//! supplies, so that executions can be replayed with a seeded generator.
//!
//! Step Functions runs on the JVM and renders values the way Java does. The helpers here
//! reproduce that text: [`java_json`] is compact JSON as Jackson writes it (doubles as
//! `1.0E20`, control characters as `\u001F`), [`java_double`] is `Double.toString`, and
//! [`java_display`] is `String.valueOf` on the Java value a JSON value becomes (`{a=1, b=[x]}`),
//! which is what `States.Format` interpolates.

use serde_json::{Map, Number, Value};

/// What expressions can read.
///
/// ```
/// use serde_json::{json, Map};
/// use workflow_asl::eval::Env;
/// use workflow_asl::path::Path;
///
/// let (input, context) = (json!({"a": 1}), json!({"Execution": {"Name": "e"}}));
/// let mut variables = Map::new();
/// variables.insert("v".into(), json!(true));
/// let env = Env::new(&input, &context, &variables);
/// assert_eq!(Path::parse("$$.Execution.Name").unwrap().select(&env), Some(json!("e")));
/// // The same context and variables over a Map item.
/// let item = json!({"a": 2});
/// assert_eq!(Path::parse("$.a").unwrap().select(&env.with_input(&item)), Some(json!(2)));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    /// `$`: the state's (effective) input.
    pub input: &'a Value,
    /// `$$`: the context object.
    pub context: &'a Value,
    /// `$name`: the variables set by `Assign`, visible in this scope.
    pub variables: &'a Map<String, Value>,
}

impl<'a> Env<'a> {
    /// An environment over an input, a context object and variables.
    ///
    /// ```
    /// let (input, context, variables) = (serde_json::json!(1), serde_json::json!({}), serde_json::Map::new());
    /// let env = workflow_asl::eval::Env::new(&input, &context, &variables);
    /// assert_eq!(env.input, &serde_json::json!(1));
    /// ```
    pub fn new(input: &'a Value, context: &'a Value, variables: &'a Map<String, Value>) -> Self {
        Env {
            input,
            context,
            variables,
        }
    }

    /// The same context object and variables over another input (for example a Map item).
    ///
    /// ```
    /// let (input, context, variables) = (serde_json::json!(1), serde_json::json!({}), serde_json::Map::new());
    /// let item = serde_json::json!(2);
    /// let env = workflow_asl::eval::Env::new(&input, &context, &variables).with_input(&item);
    /// assert_eq!(env.input, &serde_json::json!(2));
    /// ```
    pub fn with_input(&self, input: &'a Value) -> Self {
        Env { input, ..*self }
    }
}

/// Randomness for `States.MathRandom` (without a seed) and `States.UUID`; the executor passes a
/// seeded generator so that runs are reproducible.
///
/// ```
/// use workflow_asl::eval::{Entropy, SplitMix64};
///
/// /// Always the same number (a test double).
/// struct Fixed(u64);
/// impl Entropy for Fixed {
///     fn next_u64(&mut self) -> u64 {
///         self.0
///     }
/// }
/// assert_eq!(Fixed(4).next_u64(), 4);
/// assert_ne!(SplitMix64::new(1).next_u64(), SplitMix64::new(2).next_u64());
/// ```
pub trait Entropy {
    /// The next 64 random bits.
    ///
    /// ```
    /// use workflow_asl::eval::{Entropy, SplitMix64};
    /// let mut rng = SplitMix64::new(9);
    /// assert_ne!(rng.next_u64(), rng.next_u64());
    /// ```
    fn next_u64(&mut self) -> u64;
}

/// A small deterministic generator (SplitMix64), handy for tests and as a default seeded source.
///
/// ```
/// use workflow_asl::eval::{Entropy, SplitMix64};
///
/// let (mut a, mut b) = (SplitMix64::new(42), SplitMix64::new(42));
/// assert_eq!(a.next_u64(), b.next_u64()); // the seed fixes the sequence
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    ///
    /// ```
    /// use workflow_asl::eval::{Entropy, SplitMix64};
    /// assert_eq!(SplitMix64::new(0).next_u64(), SplitMix64::new(0).next_u64());
    /// ```
    pub fn new(seed: u64) -> Self {
        SplitMix64 { state: seed }
    }
}

impl Entropy for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Java's `Double.toString(d)`: the shortest decimal that reads back as `d`, written plainly for
/// `1e-3 <= |d| < 1e7` (`12.5`, `3.0`) and in computerized scientific notation otherwise
/// (`1.0E20`, `1.5E-4`).
///
/// ```
/// use workflow_asl::eval::java_double;
///
/// assert_eq!(java_double(3.0), "3.0");
/// assert_eq!(java_double(12.5), "12.5");
/// assert_eq!(java_double(1e20), "1.0E20");
/// assert_eq!(java_double(0.00015), "1.5E-4");
/// ```
pub fn java_double(d: f64) -> String {
    let mut out = String::new();
    write_java_double(d, &mut out);
    out
}

/// Appends [`java_double`] of `d` to `out`.
fn write_java_double(d: f64, out: &mut String) {
    if d.is_nan() {
        out.push_str("NaN");
        return;
    }
    if d.is_infinite() {
        out.push_str(if d > 0.0 { "Infinity" } else { "-Infinity" });
        return;
    }
    if d == 0.0 {
        out.push_str(if d.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e-5", "-3e7".
    let sci = format!("{:e}", d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    out.reserve(digits.len() + 8);
    if negative {
        out.push('-');
    }
    let abs = d.abs();
    if (1e-3..1e7).contains(&abs) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exp.to_string());
    }
}

/// A JSON number as Java prints it: integers as they are, doubles with [`java_double`].
///
/// ```
/// use workflow_asl::eval::java_number;
///
/// assert_eq!(java_number(&serde_json::Number::from(7)), "7");
/// assert_eq!(java_number(&serde_json::Number::from_f64(2.0).unwrap()), "2.0");
/// ```
pub fn java_number(n: &Number) -> String {
    let mut out = String::new();
    write_java_number(n, &mut out);
    out
}

/// Appends [`java_number`] of `n` to `out`.
#[inline]
fn write_java_number(n: &Number, out: &mut String) {
    if let Some(u) = n.as_u64() {
        write_u64(u, out);
    } else if let Some(i) = n.as_i64() {
        out.push('-');
        write_u64(i.unsigned_abs(), out);
    } else {
        write_java_double(n.as_f64().unwrap_or(0.0), out);
    }
}

/// Appends the decimal digits of `u` (without going through `fmt`).
#[inline]
fn write_u64(u: u64, out: &mut String) {
    if u < 10 {
        out.push(char::from(b'0' + u as u8));
    } else {
        out.push_str(itoa::Buffer::new().format(u));
    }
}

/// Compact JSON text as Jackson writes it (what AWS shows in causes and what
/// `States.JsonToString` returns).
///
/// ```
/// use serde_json::json;
/// use workflow_asl::eval::java_json;
///
/// assert_eq!(java_json(&json!({"a": [1, 2.5, "x"], "b": null})), r#"{"a":[1,2.5,"x"],"b":null}"#);
/// ```
pub fn java_json(value: &Value) -> String {
    let mut out = String::new();
    write_java_json(value, &mut out);
    out
}

/// The length in bytes of [`java_json`]'s text for `value`, without writing it. Counting stops
/// soon after the total passes `limit` (the result is then some number above `limit`), so that
/// checking a value against a size limit does not walk all of a huge value.
///
/// ```
/// use serde_json::json;
/// use workflow_asl::eval::{java_json, java_json_len};
///
/// let v = json!({"a": [1, 2]});
/// assert_eq!(java_json_len(&v, usize::MAX), java_json(&v).len());
/// assert!(java_json_len(&json!("a long string"), 3) > 3); // stops early past the limit
/// ```
pub fn java_json_len(value: &Value, limit: usize) -> usize {
    let mut total = 0usize;
    json_len_into(value, limit, 0, &mut total);
    total
}

/// The length of a scalar's text, or of an array's or object's own brackets, commas, keys and
/// colons.
#[inline]
pub(crate) fn frame_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(b) => {
            if *b {
                4
            } else {
                5
            }
        }
        Value::Number(n) => number_len(n),
        Value::String(s) => json_string_len(s),
        Value::Array(a) => 2 + a.len().saturating_sub(1),
        Value::Object(o) => {
            let keys: usize = o.keys().map(|k| json_string_len(k) + 1).sum();
            2 + keys + o.len().saturating_sub(1)
        }
    }
}

/// Adds the length of `v`'s text to `total`. Recursion is bounded: below 64 levels the walk
/// continues on a heap stack.
fn json_len_into(v: &Value, limit: usize, depth: usize, total: &mut usize) {
    match v {
        Value::Array(a) if depth < 64 => {
            *total += 2 + a.len().saturating_sub(1);
            for x in a {
                json_len_into(x, limit, depth + 1, total);
                if *total > limit {
                    return;
                }
            }
        }
        Value::Object(o) if depth < 64 => {
            // Braces, commas and a colon per entry.
            *total += 2 + o.len().saturating_sub(1) + o.len();
            for (k, x) in o {
                *total += json_string_len(k);
                json_len_into(x, limit, depth + 1, total);
                if *total > limit {
                    return;
                }
            }
        }
        Value::Array(_) | Value::Object(_) => {
            let mut stack = vec![v];
            while let Some(v) = stack.pop() {
                *total += frame_len(v);
                match v {
                    Value::Array(a) => stack.extend(a.iter()),
                    Value::Object(o) => stack.extend(o.values()),
                    _ => {}
                }
                if *total > limit {
                    return;
                }
            }
        }
        scalar => *total += frame_len(scalar),
    }
}

/// The length of [`java_number`]'s text.
#[inline]
/// The length of a number's JSON text as [`java_json`] writes it.
///
/// ```
/// assert_eq!(workflow_asl::eval::number_len(&serde_json::Number::from(-120)), 4);
/// ```
pub fn number_len(n: &Number) -> usize {
    if let Some(u) = n.as_u64() {
        decimal_digits(u)
    } else if let Some(i) = n.as_i64() {
        1 + decimal_digits(i.unsigned_abs())
    } else {
        java_number(n).len()
    }
}

fn decimal_digits(u: u64) -> usize {
    // Most numbers in payloads are small: compare before dividing.
    match u {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1_000..=9_999 => 4,
        _ => {
            let (mut u, mut n) = (u / 10_000, 4);
            while u > 0 {
                u /= 10;
                n += 1;
            }
            n
        }
    }
}

/// The length of a string's JSON text as [`write_json_string`] writes it (quotes included).
///
/// ```
/// assert_eq!(workflow_asl::eval::json_string_len("a\"b"), 6); // "a\"b" with its quotes
/// ```
pub fn json_string_len(s: &str) -> usize {
    let bytes = s.as_bytes();
    // The common case: nothing to escape.
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        return bytes.len() + 2;
    }
    let mut n = bytes.len() + 2;
    for &b in bytes {
        match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => n += 1,
            0..=0x1f => n += 5,
            _ => {}
        }
    }
    n
}

/// Appends [`java_json`] of `value` to `out`.
///
/// ```
/// let mut out = String::from("output: ");
/// workflow_asl::eval::write_java_json(&serde_json::json!([true]), &mut out);
/// assert_eq!(out, "output: [true]");
/// ```
pub fn write_java_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_java_number(n, out),
        Value::String(s) => write_json_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_java_json(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(k, out);
                out.push(':');
                write_java_json(v, out);
            }
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('"');
    // The common case: nothing to escape.
    if !s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xF] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `String.valueOf` of the Java value a JSON value becomes: strings as they are, `null`, numbers
/// as Java prints them, objects as `{a=1, b=[x, y]}` and arrays as `[1, 2]`.
///
/// ```
/// use serde_json::json;
/// use workflow_asl::eval::java_display;
///
/// assert_eq!(java_display(&json!({"a": 1, "b": ["x", "y"]})), "{a=1, b=[x, y]}");
/// assert_eq!(java_display(&json!("text")), "text");
/// ```
pub fn java_display(value: &Value) -> String {
    let mut out = String::new();
    write_java_display(value, &mut out);
    out
}

fn write_java_display(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_java_number(n, out),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_java_display(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                write_java_display(v, out);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn doubles_print_like_java() {
        let cases: &[(f64, &str)] = &[
            (1.1, "1.1"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (12345678.9, "1.23456789E7"),
            (1e20, "1.0E20"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1.5e-5, "1.5E-5"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (0.125, "0.125"),
            (44.51, "44.51"),
        ];
        for (d, want) in cases {
            assert_eq!(java_double(*d), *want, "{d}");
        }
    }

    #[test]
    fn json_text_like_jackson() {
        let v = json!({"a": [1, 2.0, "x\"y", null, true], "b": {"c": 1e20}, "d": "\u{1f}\n"});
        assert_eq!(
            java_json(&v),
            r#"{"a":[1,2.0,"x\"y",null,true],"b":{"c":1.0E20},"d":"\u001F\n"}"#
        );
    }

    #[test]
    fn integers_print_as_written() {
        for (v, want) in [
            (json!(0), "0"),
            (json!(7), "7"),
            (json!(10), "10"),
            (json!(1234567890), "1234567890"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(-1), "-1"),
            (json!(-90), "-90"),
            (json!(i64::MIN), "-9223372036854775808"),
        ] {
            assert_eq!(java_json(&v), want);
            assert_eq!(java_display(&v), want);
        }
    }

    #[test]
    fn json_len_is_the_length_of_the_text() {
        let mut deep = json!(1);
        for i in 0..100 {
            deep = if i % 2 == 0 {
                json!([deep, "x"])
            } else {
                json!({ "k\"": deep })
            };
        }
        let cases = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(9),
            json!(10),
            json!(12345),
            json!(-7),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1.5),
            json!(1e20),
            json!(""),
            json!("a\"b\\c\n\u{1}é😀"),
            json!([]),
            json!({}),
            json!([1, [2, {"a": null}], "x"]),
            json!({"a": {"b\t": [true, false]}, "c": 2.0}),
            deep,
        ];
        for v in cases {
            assert_eq!(java_json_len(&v, usize::MAX), java_json(&v).len(), "{v}");
        }
        let big = json!({"list": vec!["0123456789"; 1000]});
        // Counting stops soon after the limit: not every element is counted.
        let n = java_json_len(&big, 100);
        assert!(n > 100 && n < java_json(&big).len(), "{n}");
    }

    #[test]
    fn display_like_java_collections() {
        let v = json!({"Arg1": 1, "Arg2": [], "c": {"d": "x", "e": [null, 1.5]}});
        assert_eq!(
            java_display(&v),
            "{Arg1=1, Arg2=[], c={d=x, e=[null, 1.5]}}"
        );
        assert_eq!(java_display(&json!("plain")), "plain");
        assert_eq!(java_display(&json!(null)), "null");
    }

    #[test]
    fn splitmix_is_deterministic() {
        let mut a = SplitMix64::new(7);
        let mut b = SplitMix64::new(7);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(a.next_u64(), SplitMix64::new(8).next_u64());
    }
}
