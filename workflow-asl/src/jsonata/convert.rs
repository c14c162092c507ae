//! Conversions between `serde_json::Value` and the engine's values.
//!
//! Both directions recurse through `with_stack`, the engine's own guard that moves deep recursion
//! onto heap-allocated stack segments, so that a deeply nested document cannot overflow the
//! thread's stack.

use indexmap::IndexMap;
use jsonata_core::value::{with_stack, JValue};
use serde_json::{Map, Number, Value};

use super::Error;

/// What a non-finite number (JSON cannot hold one) becomes in the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NonFinite {
    /// `null`, as `JSON.stringify` writes it (jsonata-js).
    Null,
    /// The string Java prints (`"Infinity"`, `"-Infinity"`, `"NaN"`), as Step Functions does.
    JavaString,
}

/// A JSON value as the engine's value.
pub(super) fn to_engine(v: &Value) -> JValue {
    match v {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => with_stack(|| JValue::array(items.iter().map(to_engine).collect())),
        Value::Object(map) => with_stack(|| {
            let m: IndexMap<String, JValue> =
                map.iter().map(|(k, v)| (k.clone(), to_engine(v))).collect();
            JValue::object(m)
        }),
    }
}

/// A JSON value as the engine would give it back: `from_engine(&to_engine(v))` without building
/// the engine's value (numbers go through `f64`, integral ones print without `.0`).
pub(super) fn through_engine(v: &Value, non_finite: NonFinite) -> Value {
    match v {
        Value::Number(n) => number(n.as_f64().unwrap_or(0.0), non_finite),
        Value::Array(items) => with_stack(|| {
            Value::Array(
                items
                    .iter()
                    .map(|i| through_engine(i, non_finite))
                    .collect(),
            )
        }),
        Value::Object(map) => with_stack(|| {
            let mut out = Map::with_capacity(map.len());
            for (k, item) in map {
                out.insert(k.clone(), through_engine(item, non_finite));
            }
            Value::Object(out)
        }),
        other => other.clone(),
    }
}

/// An engine value as JSON. An undefined value inside an array is left out and one inside an
/// object drops its key, as `JSON.stringify` does; functions become `""` (JSONata's `$string`).
pub(super) fn from_engine(v: &JValue, non_finite: NonFinite) -> Result<Value, Error> {
    Ok(match v {
        JValue::Null | JValue::Undefined => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n, non_finite),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => with_stack(|| {
            let mut out = Vec::with_capacity(items.len());
            for item in items.iter() {
                if !matches!(item, JValue::Undefined) {
                    out.push(from_engine(item, non_finite)?);
                }
            }
            Ok::<_, Error>(Value::Array(out))
        })?,
        JValue::Object(map) => with_stack(|| {
            let mut out = Map::with_capacity(map.len());
            for (k, item) in map.iter() {
                if !matches!(item, JValue::Undefined) {
                    out.insert(k.clone(), from_engine(item, non_finite)?);
                }
            }
            Ok::<_, Error>(Value::Object(out))
        })?,
        _ => Value::String(String::new()),
    })
}

/// A number as JSON: an integral double prints without `.0` (`3`, not `3.0`), as JavaScript and
/// Step Functions print it.
pub(super) fn number(n: f64, non_finite: NonFinite) -> Value {
    if !n.is_finite() {
        return match non_finite {
            NonFinite::Null => Value::Null,
            NonFinite::JavaString => Value::String(
                if n.is_nan() {
                    "NaN"
                } else if n > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                }
                .to_owned(),
            ),
        };
    }
    // 2^63: every integral double below it in magnitude fits an i64 exactly.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && n.abs() < LIMIT {
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}
