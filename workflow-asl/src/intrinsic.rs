//! The eighteen intrinsic functions of JSONPath states (`States.Format('{}', $.a)`), parsed once
//! with [`Call::parse`] and evaluated with [`Call::evaluate`].
//!
//! Syntax: `States.<Name>(<arg>, ...)` where an argument is a string literal in single quotes
//! (`\'`, `\{`, `\}` and `\\` are its only escapes), a number, `true`, `false`, `null`, a path
//! (`$.a`, `$$.Execution.Id`, `$var`) or another call. At most ten calls may appear in one field.
//! Names and argument counts are checked at parse time ([`FUNCTIONS`]).
//!
//! # Failures
//!
//! AWS reports every intrinsic failure as `States.Runtime` (the predefined
//! `States.IntrinsicFailure` name is not used at run time) with the cause
//! `The function '<whole expression>' had the following error: <detail>`. The expression is echoed
//! as written, and nested calls report the outermost expression. For a path argument that selects
//! nothing the detail is `The JsonPath argument for the field '$.a' could not be found in the
//! input '{"b":1}'` (the state input as compact JSON; for a `$$.` argument the path is shown with
//! one `$`, as AWS does). The executor adds the usual prefix:
//!
//! ```text
//! An error occurred while executing the state 'Pick' (entered at the event id #2). The function
//! 'States.Format('{}', $.nope)' had the following error: The JsonPath argument for the field
//! '$.nope' could not be found in the input '{"other":1}'
//! ```
//!
//! The details of type and range errors (a non-array to `States.ArrayLength`, an index out of
//! bounds, …) are this crate's wording: AWS's exact text for them has not been recorded.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use serde_json::{Map, Number, Value};
use sha1::Digest as _;

use crate::error::Failure;
use crate::eval::{java_display, java_json, Entropy, Env};
use crate::path::{Path, PathError, PathRoot, Selected};

/// Every intrinsic function with its minimum and maximum number of arguments (`usize::MAX`: no
/// limit).
pub const FUNCTIONS: &[(&str, usize, usize)] = &[
    ("States.Format", 1, usize::MAX),
    ("States.StringToJson", 1, 1),
    ("States.JsonToString", 1, 1),
    ("States.Array", 0, usize::MAX),
    ("States.ArrayPartition", 2, 2),
    ("States.ArrayContains", 2, 2),
    ("States.ArrayRange", 3, 3),
    ("States.ArrayGetItem", 2, 2),
    ("States.ArrayLength", 1, 1),
    ("States.ArrayUnique", 1, 1),
    ("States.Base64Encode", 1, 1),
    ("States.Base64Decode", 1, 1),
    ("States.Hash", 2, 2),
    ("States.JsonMerge", 3, 3),
    ("States.MathRandom", 2, 3),
    ("States.MathAdd", 2, 2),
    ("States.StringSplit", 2, 2),
    ("States.UUID", 0, 0),
];

/// The most intrinsic calls one field may contain.
pub const MAX_CALLS: usize = 10;

/// The longest string `States.Base64Encode`, `States.Base64Decode` and `States.Hash` accept.
pub const MAX_INPUT_CHARS: usize = 10_000;

/// The most elements `States.ArrayRange` may produce.
pub const MAX_RANGE_ITEMS: usize = 1000;

/// True when a `.$` string value is an intrinsic call rather than a path.
///
/// ```
/// use workflow_asl::intrinsic::is_intrinsic;
///
/// assert!(is_intrinsic("States.UUID()"));
/// assert!(!is_intrinsic("$.a"));
/// ```
pub fn is_intrinsic(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

const FUNCS: [Func; 18] = [
    Func::Format,
    Func::StringToJson,
    Func::JsonToString,
    Func::Array,
    Func::ArrayPartition,
    Func::ArrayContains,
    Func::ArrayRange,
    Func::ArrayGetItem,
    Func::ArrayLength,
    Func::ArrayUnique,
    Func::Base64Encode,
    Func::Base64Decode,
    Func::Hash,
    Func::JsonMerge,
    Func::MathRandom,
    Func::MathAdd,
    Func::StringSplit,
    Func::Uuid,
];

impl Func {
    fn index(self) -> usize {
        FUNCS.iter().position(|f| *f == self).unwrap_or(0)
    }

    fn name(self) -> &'static str {
        FUNCTIONS[self.index()].0
    }

    fn lookup(name: &str) -> Option<Func> {
        FUNCTIONS
            .iter()
            .position(|(n, _, _)| *n == name)
            .map(|i| FUNCS[i])
    }
}

/// A parsed intrinsic call: `States.Format('x {}', $.a, States.UUID())`.
///
/// ```
/// use serde_json::{json, Map};
/// use workflow_asl::eval::{Env, SplitMix64};
/// use workflow_asl::intrinsic::Call;
///
/// let input = json!({"name": "Ada", "items": [1, 2, 3]});
/// let (context, variables) = (json!({}), Map::new());
/// let env = Env::new(&input, &context, &variables);
/// let mut rng = SplitMix64::new(7);
///
/// let call = Call::parse("States.Format('Hello, {}! {} items.', $.name, States.ArrayLength($.items))").unwrap();
/// assert_eq!(call.function(), "States.Format");
/// assert_eq!(call.evaluate(&env, &mut rng).unwrap(), json!("Hello, Ada! 3 items."));
/// assert_eq!(Call::parse("States.MathAdd(1, 2)").unwrap().evaluate(&env, &mut rng).unwrap(), json!(3));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    text: String,
    node: Node,
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    func: Func,
    args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// A number, `true`, `false` or `null`.
    Value(Value),
    /// A string literal: its value and the text between the quotes (escapes kept), which
    /// `States.Format` needs to tell `\{}` from `{}`.
    Str {
        value: String,
        raw: String,
    },
    Path(Path),
    Call(Node),
}

/// What is wrong with an intrinsic call's text.
///
/// ```
/// use workflow_asl::intrinsic::{Call, IntrinsicParseError};
///
/// let err = Call::parse("States.Format('x'").unwrap_err();
/// assert!(matches!(err, IntrinsicParseError::Syntax { .. }), "{err:?}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntrinsicParseError {
    /// The text is not a well-formed call at `position` (a byte offset).
    Syntax {
        /// The call as written.
        text: String,
        /// Byte offset of the problem.
        position: usize,
        /// What is wrong there.
        message: String,
    },
    /// `States.<name>` is not one of the eighteen functions.
    UnknownFunction {
        /// The name as written (`States.format`).
        name: String,
        /// The closest known name, when there is one.
        suggestion: Option<&'static str>,
    },
    /// A function got a number of arguments it does not take.
    Arity {
        /// The function.
        name: &'static str,
        /// The least it takes.
        min: usize,
        /// The most it takes (`usize::MAX`: no limit).
        max: usize,
        /// How many it got.
        found: usize,
    },
    /// A path argument is malformed.
    Path {
        /// Byte offset of the argument.
        position: usize,
        /// What is wrong with it.
        error: PathError,
    },
    /// More than [`MAX_CALLS`] calls in one expression.
    TooManyCalls {
        /// How many were read before parsing stopped ([`MAX_CALLS`] + 1).
        count: usize,
    },
}

impl fmt::Display for IntrinsicParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntrinsicParseError::Syntax {
                text,
                position,
                message,
            } => write!(
                f,
                "invalid intrinsic function call '{text}' at position {position}: {message}"
            ),
            IntrinsicParseError::UnknownFunction { name, suggestion } => {
                write!(f, "unknown intrinsic function '{name}'")?;
                if let Some(s) = suggestion {
                    write!(f, "; did you mean '{s}'?")?;
                }
                Ok(())
            }
            IntrinsicParseError::Arity {
                name,
                min,
                max,
                found,
            } => {
                let takes = if min == max {
                    format!("exactly {min}")
                } else if *max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                };
                let shown = if min == max || *max == usize::MAX {
                    *min
                } else {
                    *max
                };
                let plural = if shown == 1 { "" } else { "s" };
                write!(
                    f,
                    "{name} takes {takes} argument{plural}, but {found} {were} given",
                    were = if *found == 1 { "was" } else { "were" }
                )
            }
            IntrinsicParseError::Path { position, error } => {
                write!(f, "argument at position {position}: {error}")
            }
            IntrinsicParseError::TooManyCalls { count } => write!(
                f,
                "a field may contain at most {MAX_CALLS} intrinsic function calls; \
                 parsing stopped at call number {count}"
            ),
        }
    }
}

impl std::error::Error for IntrinsicParseError {}

impl Call {
    /// Parses a call, checking its syntax, its function names and their argument counts.
    ///
    /// ```
    /// use workflow_asl::intrinsic::Call;
    ///
    /// assert!(Call::parse("States.Array(1, 'two', $.three)").is_ok());
    /// // Unknown functions and wrong argument counts are caught here.
    /// assert!(Call::parse("States.Nope(1)").is_err());
    /// assert!(Call::parse("States.UUID(1)").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Call, IntrinsicParseError> {
        let mut p = CallParser {
            s: text,
            pos: 0,
            calls: 0,
        };
        p.blanks();
        let node = p.call()?;
        p.blanks();
        if p.pos < text.len() {
            return Err(p.err(p.pos, "unexpected text after the closing ')'"));
        }
        Ok(Call {
            text: text.to_string(),
            node,
        })
    }

    /// The call as written.
    ///
    /// ```
    /// let call = workflow_asl::intrinsic::Call::parse("States.UUID()").unwrap();
    /// assert_eq!(call.as_str(), "States.UUID()");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The name of the outermost function (`States.Format`).
    ///
    /// ```
    /// let call = workflow_asl::intrinsic::Call::parse("States.JsonToString(States.StringToJson('{}'))").unwrap();
    /// assert_eq!(call.function(), "States.JsonToString");
    /// ```
    pub fn function(&self) -> &'static str {
        self.node.func.name()
    }

    /// Evaluates the call. Failures are `States.Runtime` with AWS's cause (see the module docs).
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use workflow_asl::eval::{Env, SplitMix64};
    /// use workflow_asl::intrinsic::Call;
    ///
    /// let input = json!({"n": "abc"});
    /// let (context, variables) = (json!({}), Map::new());
    /// let env = Env::new(&input, &context, &variables);
    /// // A failure is `States.Runtime` with AWS's cause.
    /// let err = Call::parse("States.MathAdd($.n, 1)").unwrap().evaluate(&env, &mut SplitMix64::new(1)).unwrap_err();
    /// assert_eq!(err.error, "States.Runtime");
    /// assert!(err.cause.starts_with("The function 'States.MathAdd($.n, 1)' had the following error: "));
    /// ```
    pub fn evaluate(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Failure> {
        self.node.eval(env, rng).map_err(|detail| {
            Failure::runtime(format!(
                "The function '{}' had the following error: {}",
                self.text, detail
            ))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

struct CallParser<'a> {
    s: &'a str,
    pos: usize,
    calls: usize,
}

impl CallParser<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> IntrinsicParseError {
        IntrinsicParseError::Syntax {
            text: self.s.to_string(),
            position: at,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn blanks(&mut self) {
        let t = self.rest().trim_start();
        self.pos = self.s.len() - t.len();
    }

    fn call(&mut self) -> Result<Node, IntrinsicParseError> {
        let start = self.pos;
        if !self.rest().starts_with("States.") {
            return Err(self.err(
                start,
                "expected an intrinsic function such as States.Format(...)",
            ));
        }
        let len = self
            .rest()
            .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(self.rest().len());
        let s = self.s;
        let name = &s[start..start + len];
        let func = Func::lookup(name).ok_or_else(|| IntrinsicParseError::UnknownFunction {
            name: name.to_string(),
            suggestion: crate::diag::did_you_mean(name, FUNCTIONS.iter().map(|f| f.0)),
        })?;
        self.pos += len;
        self.calls += 1;
        // Checked as calls are read, so that absurd nesting stops the recursion early.
        if self.calls > MAX_CALLS {
            return Err(IntrinsicParseError::TooManyCalls { count: self.calls });
        }
        self.blanks();
        if self.peek() != Some('(') {
            return Err(self.err(self.pos, format!("expected '(' after {name}")));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.blanks();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.blanks();
                args.push(self.arg()?);
                self.blanks();
                match self.peek() {
                    Some(',') => self.pos += 1,
                    Some(')') => {
                        self.pos += 1;
                        break;
                    }
                    Some(c) => {
                        return Err(
                            self.err(self.pos, format!("unexpected '{c}'; expected ',' or ')'"))
                        )
                    }
                    None => return Err(self.err(self.pos, format!("{name}( is not closed"))),
                }
            }
        }
        let (_, min, max) = FUNCTIONS[func.index()];
        if args.len() < min || args.len() > max {
            return Err(IntrinsicParseError::Arity {
                name: func.name(),
                min,
                max,
                found: args.len(),
            });
        }
        Ok(Node { func, args })
    }

    fn arg(&mut self) -> Result<Arg, IntrinsicParseError> {
        let start = self.pos;
        match self.peek() {
            None => Err(self.err(start, "expected an argument")),
            Some('\'') => self.string(),
            Some('$') => {
                let end = path_end(self.s, start);
                let text = self.s[start..end].trim_end();
                self.pos = end;
                Path::parse(text)
                    .map(Arg::Path)
                    .map_err(|error| IntrinsicParseError::Path {
                        position: start,
                        error,
                    })
            }
            Some('S') if self.rest().starts_with("States.") => self.call().map(Arg::Call),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let len = self
                    .rest()
                    .find(|c: char| {
                        !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                    })
                    .unwrap_or(self.rest().len());
                let text = &self.rest()[..len];
                let n: Number = serde_json::from_str(text)
                    .map_err(|_| self.err(start, format!("'{text}' is not a number")))?;
                self.pos += len;
                Ok(Arg::Value(Value::Number(n)))
            }
            Some(_) => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if let Some(after) = self.rest().strip_prefix(word) {
                        if after
                            .chars()
                            .next()
                            .is_none_or(|c| c == ',' || c == ')' || c.is_whitespace())
                        {
                            self.pos += word.len();
                            return Ok(Arg::Value(v));
                        }
                    }
                }
                Err(self.err(
                    start,
                    "expected an argument: a 'string', a number, true, false, null, a path or a call",
                ))
            }
        }
    }

    fn string(&mut self) -> Result<Arg, IntrinsicParseError> {
        let start = self.pos;
        self.pos += 1;
        let body_start = self.pos;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err(start, "the string literal is not closed")),
                Some('\\') => {
                    let at = self.pos;
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ ('\'' | '{' | '}' | '\\')) => {
                            value.push(c);
                            self.pos += 1;
                        }
                        Some(c) => {
                            let message = format!(
                                "invalid escape '\\{c}'; only \\', \\{{, \\}} and \\\\ are allowed"
                            );
                            return Err(self.err(at, message));
                        }
                        None => return Err(self.err(at, "the string literal is not closed")),
                    }
                }
                Some('\'') => {
                    let raw = self.s[body_start..self.pos].to_string();
                    self.pos += 1;
                    return Ok(Arg::Str { value, raw });
                }
                Some(c) => {
                    value.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }
}

/// Where a path argument starting at `start` ends: at a `,` or `)` outside brackets, filters and
/// quoted names.
fn path_end(s: &str, start: usize) -> usize {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'[' | b'(' => depth += 1,
            b']' | b')' if depth > 0 => depth -= 1,
            b',' | b')' if depth == 0 => return i,
            q @ (b'\'' | b'"') if depth > 0 => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len().max(start)
}

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

type Detail = String;

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn ordinal(i: usize) -> &'static str {
    ["first", "second", "third"]
        .get(i)
        .copied()
        .unwrap_or("last")
}

impl Node {
    fn eval(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Detail> {
        // `States.MathAdd` (a counter's step) without entering the large function below.
        if self.func == Func::MathAdd {
            return self.math_add(env, rng);
        }
        self.eval_any(env, rng)
    }

    /// `States.MathAdd`: the sum of two numbers rounded to integers.
    #[inline]
    fn math_add(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Detail> {
        let a = self.rounded_arg(0, env, rng)?;
        let b = self.rounded_arg(1, env, rng)?;
        a.checked_add(b)
            .map(|s| Value::Number(s.into()))
            .ok_or_else(|| format!("The sum of {a} and {b} is out of range"))
    }

    #[inline(never)]
    fn eval_any(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Detail> {
        let name = self.func.name();
        match self.func {
            Func::Format => self.format(env, rng),
            Func::StringToJson => {
                let s = self.string_arg(0, env, rng)?;
                if s.trim().is_empty() {
                    return Ok(Value::Null);
                }
                serde_json::from_str(&integer_negative_zero(&s))
                    .map_err(|e| format!("Invalid JSON string for {name}: {e}"))
            }
            Func::JsonToString => {
                let v = self.arg(0, env, rng)?;
                Ok(Value::String(java_json(&v)))
            }
            Func::Array => {
                let mut out = Vec::with_capacity(self.args.len());
                for i in 0..self.args.len() {
                    out.push(self.arg(i, env, rng)?.into_owned());
                }
                Ok(Value::Array(out))
            }
            Func::ArrayPartition => {
                let items = self.array_arg(0, env, rng)?;
                let size = self.int_arg(1, env, rng)?;
                if size <= 0 {
                    return Err(format!(
                        "The chunk size for {name} must be a positive integer, but was {size}"
                    ));
                }
                let size = usize::try_from(size).unwrap_or(usize::MAX);
                Ok(Value::Array(
                    items
                        .chunks(size)
                        .map(|c| Value::Array(c.to_vec()))
                        .collect(),
                ))
            }
            Func::ArrayContains => {
                let items = self.array_arg(0, env, rng)?;
                let needle = self.arg(1, env, rng)?;
                Ok(Value::Bool(items.contains(&*needle)))
            }
            Func::ArrayRange => {
                let start = self.int_arg(0, env, rng)?;
                let end = self.int_arg(1, env, rng)?;
                let step = self.int_arg(2, env, rng)?;
                if step == 0 {
                    return Err(format!("The step for {name} must not be zero"));
                }
                let (start, end, step) = (i128::from(start), i128::from(end), i128::from(step));
                let count = if (step > 0 && start <= end) || (step < 0 && start >= end) {
                    (end - start) / step + 1
                } else {
                    0
                };
                if count > MAX_RANGE_ITEMS as i128 {
                    return Err(format!(
                        "{name} can create at most {MAX_RANGE_ITEMS} items, but this range has {count}"
                    ));
                }
                let items = (0..count)
                    .map(|k| {
                        let v = i64::try_from(start + k * step).unwrap_or(0);
                        Value::Number(v.into())
                    })
                    .collect();
                Ok(Value::Array(items))
            }
            Func::ArrayGetItem => {
                let items = self.array_arg(0, env, rng)?;
                let index = self.int_arg(1, env, rng)?;
                usize::try_from(index)
                    .ok()
                    .and_then(|i| items.get(i))
                    .cloned()
                    .ok_or_else(|| {
                        format!(
                            "The index {index} is out of bounds for an array of length {}",
                            items.len()
                        )
                    })
            }
            Func::ArrayLength => {
                let items = self.array_arg(0, env, rng)?;
                Ok(Value::Number(items.len().into()))
            }
            Func::ArrayUnique => {
                let items = self.array_arg(0, env, rng)?;
                let mut seen = HashSet::with_capacity(items.len());
                let mut out = Vec::new();
                for item in items.iter() {
                    let mut key = String::new();
                    canonical(item, &mut key);
                    if seen.insert(key) {
                        out.push(item.clone());
                    }
                }
                Ok(Value::Array(out))
            }
            Func::Base64Encode => {
                let s = self.string_arg(0, env, rng)?;
                check_length(name, &s)?;
                Ok(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(s.as_bytes()),
                ))
            }
            Func::Base64Decode => {
                let s = self.string_arg(0, env, rng)?;
                check_length(name, &s)?;
                let engine = base64::engine::GeneralPurpose::new(
                    &base64::alphabet::STANDARD,
                    base64::engine::GeneralPurposeConfig::new()
                        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
                );
                let bytes = engine
                    .decode(s.as_bytes())
                    .map_err(|e| format!("The argument for {name} is not valid Base64: {e}"))?;
                Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
            Func::Hash => {
                let data = self.string_arg(0, env, rng)?;
                check_length(name, &data)?;
                let algorithm = self.string_arg(1, env, rng)?;
                let digest = match &*algorithm {
                    "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
                    "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
                    "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
                    "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
                    "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
                    other => {
                        return Err(format!(
                            "The hashing algorithm '{other}' is not supported; use one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"
                        ))
                    }
                };
                Ok(Value::String(digest))
            }
            Func::JsonMerge => {
                let deep = self.arg(2, env, rng)?;
                match &*deep {
                    Value::Bool(false) => {}
                    Value::Bool(true) => {
                        return Err("Currently, Step Functions only supports the shallow merging mode; therefore, you must specify the boolean value as false.".to_string())
                    }
                    other => {
                        return Err(format!(
                            "The third argument of {name} must be a boolean, but was {}",
                            type_name(other)
                        ))
                    }
                }
                let first = self.object_arg(0, env, rng)?;
                let second = self.object_arg(1, env, rng)?;
                let mut merged: Map<String, Value> = first.into_owned();
                for (k, v) in second.iter() {
                    merged.insert(k.clone(), v.clone());
                }
                Ok(Value::Object(merged))
            }
            Func::MathRandom => {
                let start = self.rounded_arg(0, env, rng)?;
                let end = self.rounded_arg(1, env, rng)?;
                if start >= end {
                    return Err(format!(
                        "The start number ({start}) of {name} must be less than the end number ({end})"
                    ));
                }
                let bound = end - start;
                let offset = if self.args.len() == 3 {
                    let seed = self.rounded_arg(2, env, rng)?;
                    let mut jr = JavaRandom::new(seed);
                    match i32::try_from(bound) {
                        Ok(b) => i64::from(jr.next_int(b)),
                        Err(_) => {
                            i64::try_from(jr.next_long().rem_euclid(i128::from(bound))).unwrap_or(0)
                        }
                    }
                } else {
                    let r = u128::from(rng.next_u64());
                    let b = u128::try_from(bound).unwrap_or(0);
                    i64::try_from((r * b) >> 64).unwrap_or(0)
                };
                Ok(Value::Number((start + offset).into()))
            }
            Func::MathAdd => self.math_add(env, rng),
            Func::StringSplit => {
                let s = self.string_arg(0, env, rng)?;
                let delimiters = self.string_arg(1, env, rng)?;
                let parts = s
                    .split(|c: char| delimiters.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_string()))
                    .collect();
                Ok(Value::Array(parts))
            }
            Func::Uuid => Ok(Value::String(uuid_v4(rng))),
        }
    }

    fn format(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Detail> {
        // A literal template keeps its escapes, so that `\{}` is text and not a placeholder.
        let (template, escapes) = match &self.args[0] {
            Arg::Str { raw, .. } => (Cow::Borrowed(raw.as_str()), true),
            _ => match self.arg(0, env, rng)?.into_owned() {
                Value::String(s) => (Cow::Owned(s), false),
                other => {
                    return Err(format!(
                        "The format string of States.Format must be a string, but was {}",
                        type_name(&other)
                    ))
                }
            },
        };
        let placeholders = count_placeholders(&template, escapes);
        let given = self.args.len() - 1;
        if placeholders != given {
            return Err(format!(
                "The format string of States.Format has {placeholders} placeholder{} but {given} argument{} {} given",
                if placeholders == 1 { "" } else { "s" },
                if given == 1 { "" } else { "s" },
                if given == 1 { "was" } else { "were" },
            ));
        }
        let mut out = String::with_capacity(template.len() + 16);
        let mut next = 1;
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if escapes => {
                    if let Some(e) = chars.next() {
                        out.push(e);
                    }
                }
                '{' if chars.peek() == Some(&'}') => {
                    chars.next();
                    let v = self.arg(next, env, rng)?;
                    next += 1;
                    out.push_str(&java_display(&v));
                }
                c => out.push(c),
            }
        }
        Ok(Value::String(out))
    }

    /// Evaluates argument `i`, borrowing path results from the input where possible.
    #[inline]
    fn arg<'v>(
        &'v self,
        i: usize,
        env: &Env<'v>,
        rng: &mut dyn Entropy,
    ) -> Result<Cow<'v, Value>, Detail> {
        // The common arguments (a literal, a path that `find` resolves) without a call.
        match self.args.get(i) {
            Some(Arg::Value(v)) => Ok(Cow::Borrowed(v)),
            Some(Arg::Path(path)) => match path.find(env) {
                Some(v) => Ok(Cow::Borrowed(v)),
                None => self.path_arg(path, env),
            },
            _ => self.other_arg(i, env, rng),
        }
    }

    /// [`Node::arg`] for a string literal, a nested call or a missing argument.
    fn other_arg<'v>(
        &'v self,
        i: usize,
        env: &Env<'v>,
        rng: &mut dyn Entropy,
    ) -> Result<Cow<'v, Value>, Detail> {
        match self.args.get(i) {
            None => Err(format!(
                "{} is missing its {} argument",
                self.func.name(),
                ordinal(i)
            )),
            Some(Arg::Value(v)) => Ok(Cow::Borrowed(v)),
            Some(Arg::Str { value, .. }) => Ok(Cow::Owned(Value::String(value.clone()))),
            Some(Arg::Call(node)) => node.eval(env, rng).map(Cow::Owned),
            Some(Arg::Path(path)) => match path.find(env) {
                Some(v) => Ok(Cow::Borrowed(v)),
                None => self.path_arg(path, env),
            },
        }
    }

    /// A path argument that [`Path::find`] did not resolve: the full evaluation, or the cause.
    fn path_arg<'v>(&self, path: &Path, env: &Env<'v>) -> Result<Cow<'v, Value>, Detail> {
        match path.evaluate_strict(env) {
            Ok(Selected::One(v)) => Ok(v),
            Ok(many @ Selected::Many(_)) => Ok(Cow::Owned(many.into_value())),
            Err(miss) if miss.is_not_found() => {
                let shown = match path.root() {
                    PathRoot::Context => {
                        &path.as_str()[path.as_str().find('$').map_or(0, |p| p + 1)..]
                    }
                    _ => path.as_str(),
                };
                Err(format!(
                    "The JsonPath argument for the field '{}' could not be found in the input '{}'",
                    shown.trim(),
                    java_json(env.input)
                ))
            }
            Err(miss) => Err(miss.to_string()),
        }
    }

    fn string_arg<'v>(
        &'v self,
        i: usize,
        env: &Env<'v>,
        rng: &mut dyn Entropy,
    ) -> Result<Cow<'v, str>, Detail> {
        match self.arg(i, env, rng)? {
            Cow::Borrowed(Value::String(s)) => Ok(Cow::Borrowed(s)),
            Cow::Owned(Value::String(s)) => Ok(Cow::Owned(s)),
            other => Err(self.wrong_type(i, "a string", &other)),
        }
    }

    fn array_arg<'v>(
        &'v self,
        i: usize,
        env: &Env<'v>,
        rng: &mut dyn Entropy,
    ) -> Result<Cow<'v, [Value]>, Detail> {
        match self.arg(i, env, rng)? {
            Cow::Borrowed(Value::Array(a)) => Ok(Cow::Borrowed(a.as_slice())),
            Cow::Owned(Value::Array(a)) => Ok(Cow::Owned(a)),
            other => Err(self.wrong_type(i, "an array", &other)),
        }
    }

    fn object_arg<'v>(
        &'v self,
        i: usize,
        env: &Env<'v>,
        rng: &mut dyn Entropy,
    ) -> Result<Cow<'v, Map<String, Value>>, Detail> {
        match self.arg(i, env, rng)? {
            Cow::Borrowed(Value::Object(m)) => Ok(Cow::Borrowed(m)),
            Cow::Owned(Value::Object(m)) => Ok(Cow::Owned(m)),
            other => Err(self.wrong_type(i, "a JSON object", &other)),
        }
    }

    /// An integer argument (a number without a fractional part).
    fn int_arg(&self, i: usize, env: &Env, rng: &mut dyn Entropy) -> Result<i64, Detail> {
        let v = self.arg(i, env, rng)?;
        match &*v {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| self.wrong_type(i, "an integer", &v)),
            _ => Err(self.wrong_type(i, "an integer", &v)),
        }
    }

    /// A number argument rounded to the nearest integer as Java's `Math.round` does (halves
    /// towards positive infinity), as AWS does for `States.MathAdd` and `States.MathRandom`.
    #[inline]
    fn rounded_arg(&self, i: usize, env: &Env, rng: &mut dyn Entropy) -> Result<i64, Detail> {
        let v = self.arg(i, env, rng)?;
        let Value::Number(n) = &*v else {
            return Err(self.wrong_type(i, "a number", &v));
        };
        if let Some(i) = n.as_i64() {
            return Ok(i);
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        let r = java_round(f);
        if !r.is_finite() || r < i64::MIN as f64 || r >= i64::MAX as f64 {
            return Err(format!(
                "The {} argument of {} is out of range: {}",
                ordinal(i),
                self.func.name(),
                java_display(&v)
            ));
        }
        Ok(r as i64)
    }

    fn wrong_type(&self, i: usize, want: &str, got: &Value) -> Detail {
        format!(
            "The {} argument of {} must be {want}, but was {} {}",
            ordinal(i),
            self.func.name(),
            type_name(got),
            java_json(got)
        )
    }
}

/// Java's `Math.round`: to the nearest integer, halves towards positive infinity.
fn java_round(f: f64) -> f64 {
    if f < 0.0 && f.fract() == -0.5 {
        f.ceil()
    } else {
        f.round()
    }
}

fn count_placeholders(template: &str, escapes: bool) -> usize {
    let mut n = 0;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if escapes => {
                chars.next();
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                n += 1;
            }
            _ => {}
        }
    }
    n
}

/// Rewrites the number `-0` (not `-0.0`) as `0`: Jackson reads it as the integer 0, while
/// serde_json reads it as the float -0.0.
fn integer_negative_zero(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut in_string = false;
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'-' if !in_string
                && bytes.get(i + 1) == Some(&b'0')
                && !bytes
                    .get(i + 2)
                    .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E')) =>
            {
                let o = out.get_or_insert_with(String::new);
                o.push_str(&text[copied..i]);
                copied = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    match out {
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
        None => Cow::Borrowed(text),
    }
}

fn check_length(name: &str, s: &str) -> Result<(), Detail> {
    let len = s.encode_utf16().count();
    if len > MAX_INPUT_CHARS {
        return Err(format!(
            "The input to {name} must be at most {MAX_INPUT_CHARS} characters long, but was {len}"
        ));
    }
    Ok(())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 0xF)] as char);
    }
    out
}

/// A key equal for equal JSON values (object keys sorted; `1` and `1.0` differ, as in Jackson).
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for k in keys {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    canonical(v, out);
                }
                out.push(',');
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for i in items {
                canonical(i, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Number(n) if n.is_f64() => {
            out.push('f');
            out.push_str(&n.to_string());
        }
        other => out.push_str(&other.to_string()),
    }
}

pub(crate) fn uuid_v4(rng: &mut dyn Entropy) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `java.util.Random`, so that a seeded `States.MathRandom` gives the same number for the same
/// seed, as a JVM would.
pub(crate) struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    pub(crate) fn new(seed: i64) -> JavaRandom {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    fn next(&mut self, bits: u32) -> i32 {
        self.seed = (self.seed.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB)) & Self::MASK;
        (self.seed >> (48 - bits)) as i64 as i32
    }

    fn next_int(&mut self, bound: i32) -> i32 {
        let mut r = self.next(31);
        let m = bound.wrapping_sub(1);
        if bound & m == 0 {
            return ((i64::from(bound) * i64::from(r)) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// `nextDouble()`: 53 random bits as a double in [0, 1).
    pub(crate) fn next_double(&mut self) -> f64 {
        let hi = i64::from(self.next(26)) << 27;
        let lo = i64::from(self.next(27));
        (hi + lo) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    fn next_long(&mut self) -> i128 {
        let hi = i64::from(self.next(32)) << 32;
        i128::from(hi.wrapping_add(i64::from(self.next(32))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::names;
    use crate::eval::SplitMix64;
    use serde_json::json;

    fn input() -> Value {
        json!({
            "a": 1, "s": "hello", "arr": [1, 2, 3, 4, 5, 6, 7, 8, 9], "obj": {"x": 1},
            "nul": null, "items": [1, 2], "f": 1.5, "tpl": "n={}", "other": 1
        })
    }

    fn run(expr: &str) -> Result<Value, Failure> {
        let input = input();
        let ctx = json!({"Execution": {"Name": "exec-1"}});
        let mut vars = Map::new();
        vars.insert("v".into(), json!(41));
        let env = Env::new(&input, &ctx, &vars);
        let call = Call::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        call.evaluate(&env, &mut SplitMix64::new(1))
    }

    #[test]
    fn functions_compute_like_aws() {
        let cases: Vec<(&str, Value)> = vec![
            ("States.Format('Hello, my name is {}.', $.s)", json!("Hello, my name is hello.")),
            ("States.Format('{} {}', $.obj, $.items)", json!("{x=1} [1, 2]")),
            ("States.Format('\\{} {}', $.a)", json!("{} 1")),
            ("States.Format('it\\'s {} \\\\', 'x')", json!("it's x \\")),
            ("States.Format($.tpl, 1)", json!("n=1")),
            ("States.Format('{}', $.nul)", json!("null")),
            ("States.Format('{}|{}|{}', $.f, true, 2.50)", json!("1.5|true|2.5")),
            ("States.Format('no placeholders')", json!("no placeholders")),
            ("States.Format('{}', $$.Execution.Name)", json!("exec-1")),
            ("States.StringToJson('{\"a\": [1, \"b\"]}')", json!({"a": [1, "b"]})),
            ("States.StringToJson('  ')", json!(null)),
            ("States.StringToJson('1.1')", json!(1.1)),
            ("States.StringToJson('-0')", json!(0)),
            ("States.StringToJson('[-0, -0.0, \"-0\", -0e1, 10]')", json!([0, -0.0, "-0", -0.0, 10])),
            ("States.JsonToString($.obj)", json!("{\"x\":1}")),
            ("States.JsonToString($.s)", json!("\"hello\"")),
            ("States.Array()", json!([])),
            ("States.Array(1, 'a', true, false, null, $.a, -2.5)", json!([1, "a", true, false, null, 1, -2.5])),
            ("States.ArrayPartition($.arr, 4)", json!([[1, 2, 3, 4], [5, 6, 7, 8], [9]])),
            ("States.ArrayPartition(States.Array(), 4)", json!([])),
            ("States.ArrayContains($.arr, 5)", json!(true)),
            ("States.ArrayContains($.arr, 5.0)", json!(false)),
            ("States.ArrayContains(States.Array($.obj), $.obj)", json!(true)),
            ("States.ArrayRange(1, 9, 2)", json!([1, 3, 5, 7, 9])),
            ("States.ArrayRange(0, 10, 3)", json!([0, 3, 6, 9])),
            ("States.ArrayRange(10, 1, -3)", json!([10, 7, 4, 1])),
            ("States.ArrayRange(1, 9, -1)", json!([])),
            ("States.ArrayRange(5, 5, 1)", json!([5])),
            ("States.ArrayGetItem($.arr, 5)", json!(6)),
            ("States.ArrayLength($.arr)", json!(9)),
            ("States.ArrayLength($.items[*].nope)", json!(0)),
            ("States.ArrayUnique(States.StringToJson('[1,2,3,3,3,3,3,3,4]'))", json!([1, 2, 3, 4])),
            (
                "States.ArrayUnique(States.StringToJson('[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1},1,1.0,\"1\",null,null]'))",
                json!([{"a": 1, "b": 2}, 1, 1.0, "1", null]),
            ),
            ("States.Base64Encode('Data to encode')", json!("RGF0YSB0byBlbmNvZGU=")),
            ("States.Base64Decode('RGF0YSB0byBlbmNvZGU=')", json!("Data to encode")),
            ("States.Base64Decode('YQ')", json!("a")),
            ("States.Base64Encode('')", json!("")),
            ("States.Hash('input data', 'MD5')", json!("812f45842bc6d66ee14572ce20db8e86")),
            ("States.Hash('input data', 'SHA-1')", json!("aaff4a450a104cd177d28d18d74485e8cae074b7")),
            (
                "States.Hash('input data', 'SHA-256')",
                json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
            ),
            (
                "States.JsonMerge(States.StringToJson('{\"a\":1,\"b\":{\"c\":1}}'), States.StringToJson('{\"b\":{\"d\":2},\"e\":3}'), false)",
                json!({"a": 1, "b": {"d": 2}, "e": 3}),
            ),
            ("States.MathRandom(1, 2)", json!(1)),
            ("States.MathRandom(0, 999, 3)", json!(239)),
            ("States.MathRandom(0, 10, 42)", json!(0)),
            ("States.MathAdd(1.5, 1.51)", json!(4)),
            ("States.MathAdd(-1.49, -1.5)", json!(-2)),
            ("States.MathAdd(-2.5, 0)", json!(-2)),
            ("States.MathAdd($.a, -1)", json!(0)),
            ("States.MathAdd($v, 1)", json!(42)),
            ("States.StringSplit('a,b,,c,', ',')", json!(["a", "b", "c"])),
            ("States.StringSplit('This.is+a,test=string', '.+,=')", json!(["This", "is", "a", "test", "string"])),
            ("States.StringSplit('abc', '')", json!(["abc"])),
            ("States.StringSplit('', ',')", json!([])),
            (
                "States.ArrayGetItem(States.StringSplit('a-b-c', '-'), States.MathAdd(States.ArrayLength(States.StringSplit('a-b-c', '-')), -1))",
                json!("c"),
            ),
            ("  States.ArrayLength( $.arr )  ", json!(9)),
            ("States.ArrayLength($['arr'])", json!(9)),
            ("States.Array($.obj['x','y'], $.arr[?(@ > 7)])", json!([{"x": 1}, [8, 9]])),
        ];
        for (expr, want) in cases {
            assert_eq!(run(expr), Ok(want), "{expr}");
        }
    }

    #[test]
    fn uuid_is_version_4() {
        let v = run("States.UUID()").unwrap();
        let s = v.as_str().unwrap();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!("89ab".contains(&s[19..20]));
        assert_eq!(s.matches('-').count(), 4);
        assert_ne!(
            run("States.UUID()"),
            run("States.Format('{}', States.UUID())").map(|_| json!(0))
        );
    }

    #[test]
    fn failures_have_aws_causes() {
        let input_json = java_json(&input());
        let missing = |expr: &str, field: &str| {
            format!(
                "The function '{expr}' had the following error: The JsonPath argument for the field '{field}' could not be found in the input '{input_json}'"
            )
        };
        let cases: Vec<(&str, String)> = vec![
            ("States.Format('{}', $.nope)", missing("States.Format('{}', $.nope)", "$.nope")),
            ("States.Format('{}',$.nope)", missing("States.Format('{}',$.nope)", "$.nope")),
            ("States.Format('{} {}', $.other, $.a.b)", missing("States.Format('{} {}', $.other, $.a.b)", "$.a.b")),
            ("States.Format($.nope, 1)", missing("States.Format($.nope, 1)", "$.nope")),
            (
                "States.Format('{}', States.Format('{}', $.nope))",
                missing("States.Format('{}', States.Format('{}', $.nope))", "$.nope"),
            ),
            ("States.Format('{}', $.items[5])", missing("States.Format('{}', $.items[5])", "$.items[5]")),
            ("States.Format('{}', $.items[5].x)", missing("States.Format('{}', $.items[5].x)", "$.items[5].x")),
            ("States.Format('{}', $$.Nope.Deep)", missing("States.Format('{}', $$.Nope.Deep)", "$.Nope.Deep")),
            ("States.ArrayLength($.nope)", missing("States.ArrayLength($.nope)", "$.nope")),
            ("States.JsonMerge($.nope, $.other, false)", missing("States.JsonMerge($.nope, $.other, false)", "$.nope")),
            (
                "States.Format('{}', $.other[0])",
                "The function 'States.Format('{}', $.other[0])' had the following error: Filter: [0] can only be applied to arrays. Current context is: 1".to_string(),
            ),
        ];
        for (expr, cause) in cases {
            let f = run(expr).expect_err(expr);
            assert_eq!(f.error, names::RUNTIME, "{expr}");
            assert_eq!(f.cause, cause, "{expr}");
        }
    }

    #[test]
    fn value_errors_name_the_problem() {
        let cases: &[(&str, &str)] = &[
            ("States.Format('{} {}', 1)", "has 2 placeholders but 1 argument was given"),
            ("States.Format($.a)", "The format string of States.Format must be a string, but was number"),
            ("States.StringToJson($.a)", "The first argument of States.StringToJson must be a string, but was number 1"),
            ("States.StringToJson('{')", "Invalid JSON string for States.StringToJson"),
            ("States.ArrayPartition($.arr, 0)", "must be a positive integer, but was 0"),
            ("States.ArrayPartition($.arr, 1.5)", "The second argument of States.ArrayPartition must be an integer, but was number 1.5"),
            ("States.ArrayPartition($.s, 2)", "The first argument of States.ArrayPartition must be an array, but was string \"hello\""),
            ("States.ArrayRange(0, 1000, 1)", "can create at most 1000 items, but this range has 1001"),
            ("States.ArrayRange(0, 10, 0)", "must not be zero"),
            ("States.ArrayGetItem($.arr, 9)", "The index 9 is out of bounds for an array of length 9"),
            ("States.ArrayGetItem($.arr, -1)", "The index -1 is out of bounds"),
            ("States.Base64Decode('not base64!!!')", "is not valid Base64"),
            ("States.Hash('x', 'SHA256')", "The hashing algorithm 'SHA256' is not supported"),
            ("States.Hash($.a, 'MD5')", "must be a string"),
            ("States.JsonMerge($.obj, $.obj, true)", "only supports the shallow merging mode"),
            ("States.JsonMerge($.obj, $.arr, false)", "The second argument of States.JsonMerge must be a JSON object"),
            ("States.JsonMerge($.obj, $.obj, 'false')", "must be a boolean"),
            ("States.MathRandom(5, 5)", "must be less than the end number"),
            ("States.MathAdd('1', 1)", "The first argument of States.MathAdd must be a number"),
            ("States.StringSplit($.a, ',')", "must be a string"),
        ];
        for (expr, fragment) in cases {
            let f = run(expr).expect_err(expr);
            assert_eq!(f.error, names::RUNTIME, "{expr}");
            assert!(
                f.cause
                    .starts_with(&format!("The function '{expr}' had the following error: ")),
                "{expr}: {}",
                f.cause
            );
            assert!(f.cause.contains(fragment), "{expr}: {}", f.cause);
        }
        let long = "a".repeat(MAX_INPUT_CHARS + 1);
        let input = json!({ "long": long, "ok": "a".repeat(MAX_INPUT_CHARS) });
        let ctx = json!({});
        let vars = Map::new();
        let env = Env::new(&input, &ctx, &vars);
        let mut rng = SplitMix64::new(0);
        for f in ["States.Base64Encode", "States.Base64Decode"] {
            let call = Call::parse(&format!("{f}($.long)")).unwrap();
            assert!(call
                .evaluate(&env, &mut rng)
                .unwrap_err()
                .cause
                .contains("at most 10000"));
        }
        let call = Call::parse("States.Hash($.long, 'MD5')").unwrap();
        assert!(call.evaluate(&env, &mut rng).is_err());
        let call = Call::parse("States.Base64Encode($.ok)").unwrap();
        assert!(call.evaluate(&env, &mut rng).is_ok());
    }

    #[test]
    fn arity_and_names_are_checked() {
        for (name, min, max) in FUNCTIONS {
            for n in 0..5usize {
                let args = vec!["1"; n].join(", ");
                let r = Call::parse(&format!("{name}({args})"));
                let ok = n >= *min && n <= *max;
                match r {
                    Ok(_) => assert!(ok, "{name} with {n}"),
                    Err(IntrinsicParseError::Arity { found, .. }) => {
                        assert!(!ok, "{name} with {n}");
                        assert_eq!(found, n);
                    }
                    Err(e) => panic!("{name} with {n}: {e}"),
                }
            }
        }
        assert_eq!(FUNCTIONS.len(), 18);
    }

    #[test]
    fn parse_errors_are_precise() {
        let cases: &[(&str, &str)] = &[
            ("States.Foo()", "unknown intrinsic function 'States.Foo'"),
            ("States.format('x')", "unknown intrinsic function 'States.format'; did you mean 'States.Format'?"),
            ("States.UUID(1)", "States.UUID takes exactly 0 arguments, but 1 was given"),
            ("States.Format()", "States.Format takes at least 1 argument, but 0 were given"),
            ("States.MathRandom(1)", "States.MathRandom takes 2 to 3 arguments, but 1 was given"),
            ("States.ArrayLength(1, 2)", "States.ArrayLength takes exactly 1 argument, but 2 were given"),
            ("States.Format('x'", "position 17: States.Format( is not closed"),
            ("States.Format('x) ", "position 14: the string literal is not closed"),
            ("States.Format('x') extra", "position 19: unexpected text after the closing ')'"),
            ("States.Format('\\n')", "position 15: invalid escape '\\n'"),
            ("States.Array(1 2)", "position 15: unexpected '2'; expected ',' or ')'"),
            ("States.Array($.a[)", "argument at position 13: invalid JSONPath '$.a[)' at position 3: '[' is not closed"),
            ("States.Array(foo)", "position 13: expected an argument"),
            ("States.Array(1,)", "position 15: expected an argument"),
            ("States.Array(truex)", "position 13: expected an argument"),
            ("$.a", "position 0: expected an intrinsic function"),
            ("States.Array", "position 12: expected '(' after States.Array"),
        ];
        for (text, want) in cases {
            let e = Call::parse(text).expect_err(text);
            assert!(e.to_string().contains(want), "{text}: {e}");
        }
        let ten = (0..9).fold("States.Array()".to_string(), |acc, _| {
            format!("States.Array({acc})")
        });
        assert!(Call::parse(&ten).is_ok());
        let eleven = format!("States.Array({ten})");
        assert_eq!(
            Call::parse(&eleven).unwrap_err(),
            IntrinsicParseError::TooManyCalls { count: 11 }
        );
    }

    #[test]
    fn absurd_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            "{}1{}",
            "States.Array(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(matches!(
            Call::parse(&deep),
            Err(IntrinsicParseError::TooManyCalls { count: 11 })
        ));
    }

    #[test]
    fn recognizes_intrinsics() {
        assert!(is_intrinsic("States.Format('x')"));
        assert!(is_intrinsic(" States.UUID()"));
        assert!(!is_intrinsic("$.a"));
        assert!(!is_intrinsic("States"));
        let c = Call::parse("States.Format('{}', $.a)").unwrap();
        assert_eq!(c.as_str(), "States.Format('{}', $.a)");
        assert_eq!(c.function(), "States.Format");
    }

    #[test]
    fn java_random_matches_the_jvm() {
        // `new Random(42).nextInt()` is -1170105035 on every JVM.
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next(32), -1_170_105_035);
        assert_eq!(JavaRandom::new(42).next_int(10), 0);
        assert_eq!(
            JavaRandom::new(0).next_int(16),
            JavaRandom::new(0).next_int(16)
        );
    }
}
