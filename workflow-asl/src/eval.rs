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
    pub fn new(input: &'a Value, context: &'a Value, variables: &'a Map<String, Value>) -> Self {
        Env {
            input,
            context,
            variables,
        }
    }

    /// The same context object and variables over another input (for example a Map item).
    pub fn with_input(&self, input: &'a Value) -> Self {
        Env { input, ..*self }
    }
}

/// Randomness for `States.MathRandom` (without a seed) and `States.UUID`; the executor passes a
/// seeded generator so that runs are reproducible.
pub trait Entropy {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;
}

/// A small deterministic generator (SplitMix64), handy for tests and as a default seeded source.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
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
pub fn java_double(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
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
    let mut out = String::with_capacity(digits.len() + 8);
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
    out
}

/// A JSON number as Java prints it: integers as they are, doubles with [`java_double`].
pub fn java_number(n: &Number) -> String {
    if n.is_f64() {
        java_double(n.as_f64().unwrap_or(0.0))
    } else {
        n.to_string()
    }
}

/// Compact JSON text as Jackson writes it (what AWS shows in causes and what
/// `States.JsonToString` returns).
pub fn java_json(value: &Value) -> String {
    let mut out = String::new();
    write_java_json(value, &mut out);
    out
}

/// Appends [`java_json`] of `value` to `out`.
pub fn write_java_json(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&java_number(n)),
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
pub fn java_display(value: &Value) -> String {
    let mut out = String::new();
    write_java_display(value, &mut out);
    out
}

fn write_java_display(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&java_number(n)),
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
