//! Reading definition text into `serde_json::Value` while finding what serde_json would hide:
//! duplicate object keys (serde_json keeps the last one silently).
//!
//! Nesting deeper than serde_json's recursion limit (128) is an error, never a stack overflow.

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::fmt;

use crate::diag::{push_pointer, Code, Diagnostic};

/// A JSON document read from text, with the duplicate keys that were found in it.
///
/// ```
/// let parsed = workflow_asl::json::parse(r#"{"a": 1, "a": 2}"#).unwrap();
/// assert_eq!(parsed.value, serde_json::json!({"a": 2}));
/// assert_eq!(parsed.duplicates[0].pointer, "/a");
/// ```
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The value (for a duplicated key, the last occurrence wins, as in serde_json).
    pub value: Value,
    /// One `DUPLICATE_KEY` diagnostic per repeated key, pointing at the repeated key.
    pub duplicates: Vec<Diagnostic>,
}

/// Parses JSON text. Syntax errors come back as an `INVALID_JSON_DESCRIPTION` diagnostic naming
/// the line and column.
///
/// ```
/// let err = workflow_asl::json::parse("{\n  \"a\": }").unwrap_err();
/// assert_eq!(err.code, workflow_asl::Code::InvalidJsonDescription);
/// assert!(err.message.contains("line 2"), "{}", err.message);
/// ```
pub fn parse(text: &str) -> Result<Parsed, Diagnostic> {
    let cx = Cx::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed { cx: &cx }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| {
            Diagnostic::new(
                Code::InvalidJsonDescription,
                "",
                format!("the definition is not valid JSON: {e}"),
            )
        })?;
    Ok(Parsed {
        value,
        duplicates: cx.dups.into_inner(),
    })
}

/// The path from the root to the value being read (keys and indices), kept as a stack so a JSON
/// pointer is only rendered when a duplicate key is found.
#[derive(Default)]
struct Cx {
    path: RefCell<Vec<String>>,
    dups: RefCell<Vec<Diagnostic>>,
}

impl Cx {
    fn pointer_to(&self, key: &str) -> String {
        let path = self.path.borrow();
        let mut out = String::new();
        for token in path.iter() {
            out = push_pointer(&out, token);
        }
        push_pointer(&out, key)
    }
}

struct Seed<'a> {
    cx: &'a Cx,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            self.cx.path.borrow_mut().push(out.len().to_string());
            let next = seq.next_element_seed(Seed { cx: self.cx });
            self.cx.path.borrow_mut().pop();
            match next? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.cx.path.borrow_mut().push(key);
            let value = map.next_value_seed(Seed { cx: self.cx });
            let key = self.cx.path.borrow_mut().pop().unwrap_or_default();
            let value = value?;
            if out.contains_key(&key) {
                let pointer = self.cx.pointer_to(&key);
                self.cx.dups.borrow_mut().push(Diagnostic::new(
                    Code::DuplicateKey,
                    pointer,
                    format!("the key `{key}` appears more than once in this object; JSON keys must be unique"),
                ));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_duplicates_with_pointers() {
        let p = parse(r#"{"a": {"b": 1, "b": 2}, "c": [{"d": 1, "d": 1}]}"#).unwrap();
        let ptrs: Vec<_> = p.duplicates.iter().map(|d| d.pointer.as_str()).collect();
        assert_eq!(ptrs, ["/a/b", "/c/0/d"]);
        assert_eq!(p.value["a"]["b"], 2);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        let err = parse(&text).unwrap_err();
        assert_eq!(err.code, Code::InvalidJsonDescription);
        assert!(err.message.contains("recursion limit"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let err = parse("{\"a\": }").unwrap_err();
        assert!(err.message.contains("line 1"), "{}", err.message);
    }
}
