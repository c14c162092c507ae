//! JSONPath Choice rules: compiled once (paths parsed, operands checked), then evaluated against a
//! state's input, context object and variables.
//!
//! Semantics, as recorded against AWS (LocalStack's `choice_operators` snapshots) or documented:
//!
//! * A comparison whose `Variable` value has the wrong JSON type is simply false (`NumericEquals`
//!   on a string, `StringEquals` on a number, `TimestampEquals` on a non-timestamp string, …);
//!   so is a `…Path` comparison whose operand value has the wrong type.
//! * A `Variable` (or a `…Path` operand) that selects nothing is a `States.Runtime` error —
//!   "Invalid path '$.x': The choice state's condition path references an invalid value." —
//!   except under `IsPresent`, which tests exactly that. `null` is present.
//! * `IsNull`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp` with `false` are true for every
//!   value of another type (AWS-recorded).
//! * Numbers compare by value: `1` equals `1.0`, `-0` equals `0`. Both sides are compared as
//!   IEEE doubles (the specification warns that integers beyond ±(2^53 − 1) may compare
//!   unexpectedly).
//! * Strings compare "character-by-character with no special treatments" (specification), and
//!   Step Functions runs on the JVM, so characters are UTF-16 code units as in Java's
//!   `String.compareTo` (this differs from code-point order only for characters above U+FFFF
//!   against U+E000–U+FFFF).
//! * `Variable` and `…Path` operands may be any path (the specification says "a Path"; AWS's
//!   guide says "Reference Paths"); an indefinite path yields the array of its matches.
//! * Timestamps compare as instants (see [`crate::timestamp`]).
//! * `StringMatches` (specification): `*` matches any run of characters (including none), `\*`
//!   is a literal `*` and `\\` a literal `\`; no other character is special. A backslash before
//!   anything else, or at the end, is an "open escape": the specification says the interpreter
//!   throws a runtime error, so evaluating such a rule against a string fails with
//!   `States.Runtime` ([`open_escape_cause`]; the wording is ours, AWS's is not recorded).
//! * `And` and `Or` stop at the first rule that decides the result.
//! * No rule matched and no `Default`: AWS reports `States.Runtime` "Failed to transition out of
//!   the state. The state does not point to a next state." (the specification names
//!   `States.NoChoiceMatched`); see [`no_choice_matched`].
//!
//! JSONata rules (`Condition`) are evaluated by the JSONata evaluator, not here:
//! [`CompiledChoice::compile`] rejects them.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use crate::error::Failure;
use crate::eval::Env;
use crate::model::{self, ChoiceRule, Condition, OperandKind, Operator};
use crate::path::{Path, Selected};
use crate::timestamp::Timestamp;

/// A compile error: a JSON pointer relative to the `Choices` array (`/0/And/1/Variable`) and a
/// message.
///
/// ```
/// use workflow_asl::choice::{CompileError, CompiledChoice};
/// use workflow_asl::model::StateKind;
///
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "C", "States": {"C": {"Type": "Choice",
///   "Choices": [{"And": [], "Next": "C"}]}}}"#).unwrap();
/// let machine = parsed.machine.unwrap();
/// let StateKind::Choice(choice) = &machine.states["C"].kind else { unreachable!() };
/// let errors: Vec<CompileError> = CompiledChoice::compile(choice).unwrap_err();
/// let (pointer, message) = &errors[0];
/// assert_eq!(pointer, "/0/And");
/// assert!(!message.is_empty());
/// ```
pub type CompileError = (String, String);

/// A Choice state's rules, ready to evaluate.
///
/// ```
/// use serde_json::{json, Map};
/// use workflow_asl::choice::CompiledChoice;
/// use workflow_asl::eval::Env;
/// use workflow_asl::model::StateKind;
///
/// let machine = workflow_asl::load(r#"{"StartAt": "Route", "States": {
///   "Route": {"Type": "Choice", "Default": "Small", "Choices": [
///     {"Variable": "$.total", "NumericGreaterThanEquals": 1000, "Next": "Big"},
///     {"And": [{"Variable": "$.vip", "IsPresent": true}, {"Variable": "$.vip", "BooleanEquals": true}], "Next": "Big"}]},
///   "Big": {"Type": "Succeed"}, "Small": {"Type": "Succeed"}}}"#).expect("valid");
/// let StateKind::Choice(choice) = &machine.states["Route"].kind else { unreachable!() };
/// let rules = CompiledChoice::compile(choice).expect("compiles");
/// assert_eq!(rules.len(), 2);
/// let route = |input: serde_json::Value| {
///     let (context, variables) = (json!({}), Map::new());
///     rules.evaluate(&Env::new(&input, &context, &variables))
/// };
/// assert_eq!(route(json!({"total": 1500})), Ok(Some(0)));
/// assert_eq!(route(json!({"total": 10, "vip": true})), Ok(Some(1)));
/// assert_eq!(route(json!({"total": 10})), Ok(None)); // take Default
/// // A path that selects nothing is a runtime failure.
/// assert_eq!(route(json!({})).unwrap_err().error, "States.Runtime");
/// ```
#[derive(Debug, Clone)]
pub struct CompiledChoice {
    rules: Vec<Rule>,
}

/// One compiled rule.
#[derive(Debug, Clone)]
enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare { variable: Path, test: Test },
}

/// The comparison of a compiled rule.
#[derive(Debug, Clone)]
enum Test {
    String(Cmp, Operand<String>),
    Matches(Result<Pattern, String>),
    Numeric(Cmp, Operand<f64>),
    Boolean(Operand<bool>),
    Timestamp(Cmp, Operand<Timestamp>),
    Is(TypeTest, bool),
}

/// A literal operand, or a path to read it from.
#[derive(Debug, Clone)]
enum Operand<T> {
    Literal(T),
    Path(Path),
}

/// The relation a comparison checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Cmp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

/// The type tests (`IsNull`, …, `IsPresent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TypeTest {
    Present,
    Null,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

/// The family of an operator: what its operand and variable must be.
enum Family {
    String(Cmp),
    Matches,
    Numeric(Cmp),
    Boolean,
    Timestamp(Cmp),
    Is(TypeTest),
}

fn family(op: Operator) -> (Family, bool) {
    use Operator::*;
    match op {
        StringEquals => (Family::String(Cmp::Eq), false),
        StringEqualsPath => (Family::String(Cmp::Eq), true),
        StringLessThan => (Family::String(Cmp::Lt), false),
        StringLessThanPath => (Family::String(Cmp::Lt), true),
        StringGreaterThan => (Family::String(Cmp::Gt), false),
        StringGreaterThanPath => (Family::String(Cmp::Gt), true),
        StringLessThanEquals => (Family::String(Cmp::Le), false),
        StringLessThanEqualsPath => (Family::String(Cmp::Le), true),
        StringGreaterThanEquals => (Family::String(Cmp::Ge), false),
        StringGreaterThanEqualsPath => (Family::String(Cmp::Ge), true),
        StringMatches => (Family::Matches, false),
        NumericEquals => (Family::Numeric(Cmp::Eq), false),
        NumericEqualsPath => (Family::Numeric(Cmp::Eq), true),
        NumericLessThan => (Family::Numeric(Cmp::Lt), false),
        NumericLessThanPath => (Family::Numeric(Cmp::Lt), true),
        NumericGreaterThan => (Family::Numeric(Cmp::Gt), false),
        NumericGreaterThanPath => (Family::Numeric(Cmp::Gt), true),
        NumericLessThanEquals => (Family::Numeric(Cmp::Le), false),
        NumericLessThanEqualsPath => (Family::Numeric(Cmp::Le), true),
        NumericGreaterThanEquals => (Family::Numeric(Cmp::Ge), false),
        NumericGreaterThanEqualsPath => (Family::Numeric(Cmp::Ge), true),
        BooleanEquals => (Family::Boolean, false),
        BooleanEqualsPath => (Family::Boolean, true),
        TimestampEquals => (Family::Timestamp(Cmp::Eq), false),
        TimestampEqualsPath => (Family::Timestamp(Cmp::Eq), true),
        TimestampLessThan => (Family::Timestamp(Cmp::Lt), false),
        TimestampLessThanPath => (Family::Timestamp(Cmp::Lt), true),
        TimestampGreaterThan => (Family::Timestamp(Cmp::Gt), false),
        TimestampGreaterThanPath => (Family::Timestamp(Cmp::Gt), true),
        TimestampLessThanEquals => (Family::Timestamp(Cmp::Le), false),
        TimestampLessThanEqualsPath => (Family::Timestamp(Cmp::Le), true),
        TimestampGreaterThanEquals => (Family::Timestamp(Cmp::Ge), false),
        TimestampGreaterThanEqualsPath => (Family::Timestamp(Cmp::Ge), true),
        IsNull => (Family::Is(TypeTest::Null), false),
        IsPresent => (Family::Is(TypeTest::Present), false),
        IsNumeric => (Family::Is(TypeTest::Numeric), false),
        IsString => (Family::Is(TypeTest::String), false),
        IsBoolean => (Family::Is(TypeTest::Boolean), false),
        IsTimestamp => (Family::Is(TypeTest::Timestamp), false),
    }
}

/// The `States.Runtime` cause for a Choice path that selects nothing.
///
/// ```
/// assert_eq!(
///     workflow_asl::choice::invalid_path_cause("$.x"),
///     "Invalid path '$.x': The choice state's condition path references an invalid value."
/// );
/// ```
pub fn invalid_path_cause(path: &str) -> String {
    format!("Invalid path '{path}': The choice state's condition path references an invalid value.")
}

/// The failure when no rule matched and the state has no `Default`.
///
/// The ASL specification names this error `States.NoChoiceMatched`, but Step Functions reports
/// `States.Runtime` with this cause (the executor prefixes "An error occurred while executing
/// the state '…' (entered at the event id #…). " as for every runtime error).
///
/// ```
/// let f = workflow_asl::choice::no_choice_matched();
/// assert_eq!(f.error, "States.Runtime");
/// ```
pub fn no_choice_matched() -> Failure {
    Failure::runtime(
        "Failed to transition out of the state. The state does not point to a next state.",
    )
}

impl CompiledChoice {
    /// Compiles a JSONPath Choice state's rules, or reports every malformed part: unparsable
    /// paths, operands of the wrong type, invalid timestamp literals, empty `And`/`Or`, rules with
    /// no test, and JSONata `Condition` rules.
    ///
    /// ```
    /// use workflow_asl::choice::CompiledChoice;
    /// use workflow_asl::model::StateKind;
    ///
    /// let machine = workflow_asl::load(r#"{"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D",
    ///   "Choices": [{"Variable": "$.s", "StringMatches": "*.log", "Next": "D"}]}, "D": {"Type": "Succeed"}}}"#).unwrap();
    /// let StateKind::Choice(choice) = &machine.states["C"].kind else { unreachable!() };
    /// assert!(!CompiledChoice::compile(choice).unwrap().is_empty());
    /// ```
    pub fn compile(choice: &model::Choice) -> Result<Self, Vec<CompileError>> {
        Self::compile_rules(&choice.choices)
    }

    /// Compiles a list of top-level rules (the `Choices` array).
    ///
    /// ```
    /// use workflow_asl::choice::CompiledChoice;
    /// use workflow_asl::model::StateKind;
    ///
    /// let parsed = workflow_asl::parse_str(r#"{"StartAt": "C", "States": {"C": {"Type": "Choice",
    ///   "Choices": [{"Variable": "not a path", "StringEquals": "x", "Next": "C"}]}}}"#).unwrap();
    /// let machine = parsed.machine.unwrap();
    /// let StateKind::Choice(choice) = &machine.states["C"].kind else { unreachable!() };
    /// let errors = CompiledChoice::compile_rules(&choice.choices).unwrap_err();
    /// assert_eq!(errors[0].0, "/0/Variable");
    /// ```
    pub fn compile_rules(rules: &[ChoiceRule]) -> Result<Self, Vec<CompileError>> {
        let mut errors = Vec::new();
        let compiled: Vec<Option<Rule>> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| compile_rule(r, &format!("/{i}"), &mut errors))
            .collect();
        if errors.is_empty() {
            Ok(CompiledChoice {
                rules: compiled.into_iter().flatten().collect(),
            })
        } else {
            Err(errors)
        }
    }

    /// How many top-level rules there are.
    ///
    /// ```
    /// use workflow_asl::choice::CompiledChoice;
    /// assert_eq!(CompiledChoice::compile_rules(&[]).unwrap().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are no rules.
    ///
    /// ```
    /// use workflow_asl::choice::CompiledChoice;
    /// assert!(CompiledChoice::compile_rules(&[]).unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The index of the first top-level rule that holds, `None` when none does (take `Default`,
    /// or fail with [`no_choice_matched`]), or a `States.Runtime` failure when a path selects
    /// nothing.
    ///
    /// ```
    /// use serde_json::{json, Map};
    /// use workflow_asl::choice::CompiledChoice;
    /// use workflow_asl::eval::Env;
    /// use workflow_asl::model::StateKind;
    ///
    /// let machine = workflow_asl::load(r#"{"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D",
    ///   "Choices": [{"Variable": "$.t", "TimestampLessThan": "2024-01-01T00:00:00Z", "Next": "D"}]}, "D": {"Type": "Succeed"}}}"#).unwrap();
    /// let StateKind::Choice(choice) = &machine.states["C"].kind else { unreachable!() };
    /// let rules = CompiledChoice::compile(choice).unwrap();
    /// let input = json!({"t": "2023-06-01T12:00:00Z"});
    /// let (context, variables) = (json!({}), Map::new());
    /// assert_eq!(rules.evaluate(&Env::new(&input, &context, &variables)), Ok(Some(0)));
    /// ```
    pub fn evaluate(&self, env: &Env) -> Result<Option<usize>, Failure> {
        for (i, rule) in self.rules.iter().enumerate() {
            if rule.holds(env)? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }
}

fn compile_rule(rule: &ChoiceRule, ptr: &str, errors: &mut Vec<CompileError>) -> Option<Rule> {
    match &rule.condition {
        Condition::And(list) | Condition::Or(list) => {
            let key = if matches!(rule.condition, Condition::And(_)) {
                "And"
            } else {
                "Or"
            };
            let base = format!("{ptr}/{key}");
            if list.is_empty() {
                errors.push((
                    base.clone(),
                    format!("`{key}` must be a non-empty array of choice rules"),
                ));
            }
            let parts: Vec<Option<Rule>> = list
                .iter()
                .enumerate()
                .map(|(i, r)| compile_rule(r, &format!("{base}/{i}"), errors))
                .collect();
            let parts: Option<Vec<Rule>> = parts.into_iter().collect();
            let parts = parts?;
            Some(if key == "And" {
                Rule::And(parts)
            } else {
                Rule::Or(parts)
            })
        }
        Condition::Not(inner) => {
            compile_rule(inner, &format!("{ptr}/Not"), errors).map(|r| Rule::Not(Box::new(r)))
        }
        Condition::Compare {
            variable,
            op,
            operand,
        } => {
            let var = compile_path(variable, &format!("{ptr}/Variable"), errors);
            let test = compile_test(*op, operand, &format!("{ptr}/{}", op.as_str()), errors);
            Some(Rule::Compare {
                variable: var?,
                test: test?,
            })
        }
        Condition::Jsonata(_) => {
            errors.push((
                format!("{ptr}/Condition"),
                "`Condition` is a JSONata field; a JSONPath choice rule needs `Variable` and a comparison operator".to_owned(),
            ));
            None
        }
        Condition::Missing { .. } => {
            errors.push((
                ptr.to_owned(),
                "the choice rule has no test: it needs a comparison operator with `Variable`, `And`, `Or` or `Not`".to_owned(),
            ));
            None
        }
    }
}

fn compile_path(text: &str, ptr: &str, errors: &mut Vec<CompileError>) -> Option<Path> {
    match Path::parse(text) {
        Ok(p) => Some(p),
        Err(e) => {
            errors.push((ptr.to_owned(), format!("`{text}` is not a valid path: {e}")));
            None
        }
    }
}

/// A short description of a JSON value for messages.
fn describe(v: &Value) -> String {
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    let text = v.to_string();
    if text.len() <= 40 && !matches!(v, Value::Null) {
        format!("{kind} {text}")
    } else {
        kind.to_owned()
    }
}

fn wrong_operand(name: &str, expected: &str, operand: &Value, ptr: &str) -> CompileError {
    (
        ptr.to_owned(),
        format!("`{name}` must be {expected}, found {}", describe(operand)),
    )
}

fn compile_test(
    op: Operator,
    operand: &Value,
    ptr: &str,
    errors: &mut Vec<CompileError>,
) -> Option<Test> {
    let name = op.as_str();
    let (family, is_path) = family(op);
    let expected = if is_path {
        debug_assert_eq!(op.operand(), OperandKind::Path);
        let Value::String(text) = operand else {
            errors.push(wrong_operand(name, "a path string", operand, ptr));
            return None;
        };
        let path = compile_path(text, ptr, errors)?;
        return match family {
            Family::String(c) => Some(Test::String(c, Operand::Path(path))),
            Family::Numeric(c) => Some(Test::Numeric(c, Operand::Path(path))),
            Family::Boolean => Some(Test::Boolean(Operand::Path(path))),
            Family::Timestamp(c) => Some(Test::Timestamp(c, Operand::Path(path))),
            Family::Matches | Family::Is(_) => {
                unreachable!("the operator table gives only String, Numeric, Boolean and Timestamp operators a Path form")
            }
        };
    } else {
        match (&family, operand) {
            (Family::String(c), Value::String(s)) => {
                return Some(Test::String(*c, Operand::Literal(s.clone())))
            }
            (Family::Matches, Value::String(s)) => {
                return Some(Test::Matches(Pattern::parse(s).ok_or_else(|| s.clone())))
            }
            (Family::Numeric(c), Value::Number(n)) => {
                if let Some(n) = n.as_f64() {
                    return Some(Test::Numeric(*c, Operand::Literal(n)));
                }
                "a number"
            }
            (Family::Boolean, Value::Bool(b)) => return Some(Test::Boolean(Operand::Literal(*b))),
            (Family::Timestamp(c), Value::String(s)) => match Timestamp::parse(s) {
                Some(t) => return Some(Test::Timestamp(*c, Operand::Literal(t))),
                None => {
                    "an ISO-8601 timestamp with a UTC offset (such as \"2016-03-14T01:59:00Z\")"
                }
            },
            (Family::Is(t), Value::Bool(b)) => return Some(Test::Is(*t, *b)),
            (Family::String(_) | Family::Matches, _) => "a string",
            (Family::Numeric(_), _) => "a number",
            (Family::Boolean | Family::Is(_), _) => "a boolean",
            (Family::Timestamp(_), _) => "a timestamp string",
        }
    };
    errors.push(wrong_operand(name, expected, operand, ptr));
    None
}

impl Rule {
    fn holds(&self, env: &Env) -> Result<bool, Failure> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.holds(env)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.holds(env)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.holds(env)?),
            Rule::Compare { variable, test } => {
                // The common case: the variable is found directly (no copy, no `Cow`).
                if let Some(value) = variable.find(env) {
                    return match test {
                        Test::Is(TypeTest::Present, expected) => Ok(*expected),
                        _ => test.holds(value, env),
                    };
                }
                let value = select(variable, env);
                if let Test::Is(TypeTest::Present, expected) = test {
                    return Ok(value.is_some() == *expected);
                }
                let Some(value) = value else {
                    return Err(Failure::runtime(invalid_path_cause(variable.as_str())));
                };
                test.holds(&value, env)
            }
        }
    }
}

/// What `path` selects, borrowed from `env` when it is one value (an indefinite path's matches
/// are gathered into an array); `None` when it selects nothing.
#[inline]
fn select<'v>(path: &Path, env: &Env<'v>) -> Option<Cow<'v, Value>> {
    if let Some(v) = path.find(env) {
        return Some(Cow::Borrowed(v));
    }
    match path.evaluate(env) {
        Ok(Selected::One(v)) => Some(v),
        Ok(many) => Some(Cow::Owned(many.into_value())),
        Err(_) => None,
    }
}

/// Reads a `…Path` operand; a path that selects nothing is a runtime error.
fn read<'v>(path: &Path, env: &Env<'v>) -> Result<Cow<'v, Value>, Failure> {
    select(path, env).ok_or_else(|| Failure::runtime(invalid_path_cause(path.as_str())))
}

/// Compares strings by UTF-16 code units, like Java's `String.compareTo`.
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn timestamp_of(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(Timestamp::parse)
}

impl Test {
    #[inline]
    fn holds(&self, value: &Value, env: &Env) -> Result<bool, Failure> {
        Ok(match self {
            Test::String(cmp, operand) => {
                let read_value;
                let rhs = match operand {
                    Operand::Literal(s) => Some(s.as_str()),
                    Operand::Path(p) => {
                        read_value = read(p, env)?;
                        read_value.as_str()
                    }
                };
                match (value.as_str(), rhs) {
                    (Some(a), Some(b)) => cmp.holds(utf16_cmp(a, b)),
                    _ => false,
                }
            }
            Test::Matches(pattern) => match (value.as_str(), pattern) {
                (Some(s), Ok(p)) => p.matches(s),
                (Some(_), Err(text)) => return Err(Failure::runtime(open_escape_cause(text))),
                (None, _) => false,
            },
            Test::Numeric(cmp, operand) => {
                let rhs = match operand {
                    Operand::Literal(n) => Some(*n),
                    Operand::Path(p) => {
                        let v = read(p, env)?;
                        if v.is_number() {
                            v.as_f64()
                        } else {
                            None
                        }
                    }
                };
                let lhs = if value.is_number() {
                    value.as_f64()
                } else {
                    None
                };
                match (lhs, rhs) {
                    (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| cmp.holds(o)),
                    _ => false,
                }
            }
            Test::Boolean(operand) => {
                let rhs = match operand {
                    Operand::Literal(b) => Some(*b),
                    Operand::Path(p) => read(p, env)?.as_bool(),
                };
                match (value.as_bool(), rhs) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                }
            }
            Test::Timestamp(cmp, operand) => {
                let rhs = match operand {
                    Operand::Literal(t) => Some(*t),
                    Operand::Path(p) => timestamp_of(&*read(p, env)?),
                };
                match (timestamp_of(value), rhs) {
                    (Some(a), Some(b)) => cmp.holds(a.cmp(&b)),
                    _ => false,
                }
            }
            Test::Is(test, expected) => {
                let is = match test {
                    TypeTest::Present => true,
                    TypeTest::Null => value.is_null(),
                    TypeTest::Numeric => value.is_number(),
                    TypeTest::String => value.is_string(),
                    TypeTest::Boolean => value.is_boolean(),
                    TypeTest::Timestamp => timestamp_of(value).is_some(),
                };
                is == *expected
            }
        })
    }
}

/// A compiled `StringMatches` pattern: the literal runs between its stars.
///
/// ```
/// use workflow_asl::choice::Pattern;
///
/// let logs = Pattern::parse("*.log").unwrap();
/// assert!(logs.matches("app.log"));
/// assert!(!logs.matches("app.txt"));
/// assert!(Pattern::parse(r"literal\*star").unwrap().matches("literal*star"));
/// assert!(Pattern::parse(r"open\").is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// The literal text before the first star, between stars, and after the last one; a pattern
    /// without a star is one run.
    runs: Vec<String>,
}

impl Pattern {
    /// Compiles a `StringMatches` pattern: `*` is a wildcard, `\*` a literal `*`, `\\` a literal
    /// `\`. `None` when a backslash escapes anything else or ends the pattern (an open escape).
    ///
    /// ```
    /// use workflow_asl::choice::Pattern;
    /// assert!(Pattern::parse("a*b*c").is_some());
    /// assert!(Pattern::parse(r"\x").is_none()); // `\` escapes only `*` and `\`
    /// ```
    pub fn parse(pattern: &str) -> Option<Self> {
        let mut runs = vec![String::new()];
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let literal = match c {
                '\\' => match chars.next() {
                    Some(next @ ('*' | '\\')) => next,
                    _ => return None,
                },
                '*' => {
                    runs.push(String::new());
                    continue;
                }
                c => c,
            };
            if let Some(run) = runs.last_mut() {
                run.push(literal);
            }
        }
        Some(Pattern { runs })
    }

    /// Whether the whole of `text` matches the pattern.
    ///
    /// Linear in the lengths of the pattern and the text: the runs are matched in order, the
    /// first against the start of the text, the last against its end, and each middle run at its
    /// leftmost occurrence after the previous one (the leftmost occurrence never loses a match:
    /// a star absorbs whatever is skipped). Each search is `str::find` (Two-Way, linear), so no
    /// input makes a match quadratic (the former backtracking took 24 s on one input).
    ///
    /// ```
    /// let p = workflow_asl::choice::Pattern::parse("log-*-2024*").unwrap();
    /// assert!(p.matches("log-app-2024-01.txt"));
    /// assert!(!p.matches("log-app-2023"));
    /// ```
    pub fn matches(&self, text: &str) -> bool {
        let (first, rest) = match self.runs.split_first() {
            Some(split) => split,
            None => return text.is_empty(),
        };
        let Some((last, middle)) = rest.split_last() else {
            return first == text;
        };
        if text.len() < first.len() + last.len()
            || !text.starts_with(first.as_str())
            || !text.ends_with(last.as_str())
        {
            return false;
        }
        // The middle runs fit between the prefix and the suffix, not overlapping them.
        let mut hay = &text[first.len()..text.len() - last.len()];
        for run in middle {
            match hay.find(run.as_str()) {
                Some(at) => hay = &hay[at + run.len()..],
                None => return false,
            }
        }
        true
    }
}

/// Whether `text` matches a `StringMatches` pattern; `None` when the pattern has an open escape.
///
/// ```
/// use workflow_asl::choice::string_matches;
/// assert_eq!(string_matches("*.csv", "data.csv"), Some(true));
/// assert_eq!(string_matches(r"bad\", "x"), None);
/// ```
pub fn string_matches(pattern: &str, text: &str) -> Option<bool> {
    Pattern::parse(pattern).map(|p| p.matches(text))
}

/// The `States.Runtime` cause for a `StringMatches` pattern with an open escape (our wording).
///
/// ```
/// let cause = workflow_asl::choice::open_escape_cause(r"bad\");
/// assert!(cause.contains(r"bad\"));
/// ```
pub fn open_escape_cause(pattern: &str) -> String {
    format!(
        "The StringMatches value '{pattern}' contains an open escape: a backslash must be followed by '*' or '\\'."
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Map};

    /// Builds a model rule from its JSON form (a test stand-in for the parser).
    fn rule(v: &Value) -> ChoiceRule {
        let o = v.as_object().expect("a rule object");
        let list = |v: &Value| -> Vec<ChoiceRule> {
            v.as_array().expect("an array").iter().map(rule).collect()
        };
        let condition = if let Some(v) = o.get("And") {
            Condition::And(list(v))
        } else if let Some(v) = o.get("Or") {
            Condition::Or(list(v))
        } else if let Some(v) = o.get("Not") {
            Condition::Not(Box::new(rule(v)))
        } else if let Some(v) = o.get("Condition") {
            Condition::Jsonata(v.clone())
        } else {
            let variable = o.get("Variable").and_then(Value::as_str).map(str::to_owned);
            match o
                .iter()
                .find_map(|(k, v)| Operator::from_name(k).map(|op| (op, v)))
            {
                Some((op, operand)) => Condition::Compare {
                    variable: variable.expect("a Variable"),
                    op,
                    operand: operand.clone(),
                },
                None => Condition::Missing { variable },
            }
        };
        ChoiceRule {
            condition,
            next: o.get("Next").and_then(Value::as_str).map(str::to_owned),
            comment: None,
            assign: None,
            output: None,
            extra: Map::new(),
        }
    }

    fn compile(rules: &Value) -> CompiledChoice {
        let rules: Vec<ChoiceRule> = rules.as_array().expect("rules").iter().map(rule).collect();
        CompiledChoice::compile_rules(&rules).expect("rules compile")
    }

    fn compile_errors(rules: &Value) -> Vec<CompileError> {
        let rules: Vec<ChoiceRule> = rules.as_array().expect("rules").iter().map(rule).collect();
        match CompiledChoice::compile_rules(&rules) {
            Ok(_) => Vec::new(),
            Err(e) => e,
        }
    }

    fn run_with(
        rules: &Value,
        input: &Value,
        context: &Value,
        vars: &Value,
    ) -> Result<Option<usize>, Failure> {
        let vars = vars.as_object().cloned().unwrap_or_default();
        let env = Env {
            input,
            context,
            variables: &vars,
        };
        compile(rules).evaluate(&env)
    }

    fn run(rules: &Value, input: &Value) -> Result<Option<usize>, Failure> {
        run_with(rules, input, &json!({}), &json!({}))
    }

    /// Evaluates `{"Variable": "$.v", op: operand}` against `{"v": value}`.
    fn literal(op: &str, operand: &Value, value: &Value) -> bool {
        let mut r = Map::new();
        r.insert("Variable".into(), json!("$.v"));
        r.insert(op.into(), operand.clone());
        let rules = json!([Value::Object(r)]);
        run(&rules, &json!({ "v": value }))
            .unwrap_or_else(|f| panic!("{op} {operand} on {value}: {f}"))
            .is_some()
    }

    /// Evaluates `{"Variable": "$.v", op+"Path": "$.o"}` against `{"v": value, "o": other}`.
    fn via_path(op: &str, value: &Value, other: &Value) -> bool {
        let mut r = Map::new();
        r.insert("Variable".into(), json!("$.v"));
        r.insert(format!("{op}Path"), json!("$.o"));
        let rules = json!([Value::Object(r)]);
        run(&rules, &json!({ "v": value, "o": other }))
            .unwrap_or_else(|f| panic!("{op}Path {other} on {value}: {f}"))
            .is_some()
    }

    const T0: &str = "2012-10-09T19:00:55Z";
    const T1: &str = "2012-10-09T19:00:56Z";

    #[test]
    fn every_operator_literal_and_path() {
        // (operator, operand, value, expected); each row is checked with the literal operand and
        // again with the operand read through `…Path` (except StringMatches and Is*).
        let rows: &[(&str, Value, Value, bool)] = &[
            ("StringEquals", json!("Hello"), json!("Hello"), true),
            ("StringEquals", json!("Hello"), json!("hello"), false),
            ("StringEquals", json!(" "), json!("     "), false),
            ("StringEquals", json!("\t\r\n"), json!("\t\n"), false),
            ("StringEquals", json!("1"), json!(1), false),
            ("StringEquals", json!("true"), json!(true), false),
            ("StringEquals", json!(""), json!(null), false),
            ("StringEquals", json!(""), json!([""]), false),
            ("StringLessThan", json!("AB"), json!("A"), true),
            ("StringLessThan", json!("A"), json!("AB"), false),
            ("StringLessThan", json!(""), json!(""), false),
            ("StringLessThan", json!("b"), json!("B"), true),
            ("StringLessThan", json!("1"), json!(0), false),
            ("StringGreaterThan", json!("A "), json!("A"), false),
            ("StringGreaterThan", json!("A\t\n\r"), json!("A"), false),
            ("StringGreaterThan", json!("AB"), json!("ABC"), true),
            ("StringGreaterThan", json!(""), json!(""), false),
            ("StringGreaterThan", json!(""), json!(1), false),
            ("StringLessThanEquals", json!(""), json!(""), true),
            ("StringLessThanEquals", json!("AB"), json!("A"), true),
            ("StringLessThanEquals", json!("A"), json!("AB"), false),
            ("StringLessThanEquals", json!("A"), json!(null), false),
            ("StringGreaterThanEquals", json!(""), json!(""), true),
            ("StringGreaterThanEquals", json!("AB"), json!("A"), false),
            ("StringGreaterThanEquals", json!("A"), json!("AB"), true),
            ("StringGreaterThanEquals", json!("A"), json!({}), false),
            ("NumericEquals", json!(0), json!(0), true),
            ("NumericEquals", json!(0.0), json!(0), true),
            ("NumericEquals", json!(0), json!(0.0), true),
            ("NumericEquals", json!(1.0), json!(1), true),
            ("NumericEquals", json!(0), json!(-0.0), true),
            ("NumericEquals", json!(2.22), json!(2.22), true),
            ("NumericEquals", json!(1), json!(1.1), false),
            ("NumericEquals", json!(1), json!("1"), false),
            ("NumericEquals", json!(0), json!(""), false),
            ("NumericEquals", json!(0), json!(false), false),
            ("NumericEquals", json!(1), json!(true), false),
            ("NumericEquals", json!(0), json!(null), false),
            ("NumericEquals", json!(0), json!([]), false),
            ("NumericEquals", json!(0), json!({"A": 0}), false),
            ("NumericEquals", json!(-7), json!(-7), true),
            ("NumericEquals", json!(u64::MAX), json!(u64::MAX), true),
            ("NumericLessThan", json!(0), json!(-0), false),
            ("NumericLessThan", json!(1), json!(0), true),
            ("NumericLessThan", json!(1), json!(1), false),
            ("NumericLessThan", json!(0), json!(1), false),
            ("NumericLessThan", json!(30), json!(22), true),
            ("NumericLessThan", json!(1), json!("0"), false),
            ("NumericGreaterThan", json!(0), json!(0.0), false),
            ("NumericGreaterThan", json!(0), json!(1), true),
            ("NumericGreaterThan", json!(1), json!(0), false),
            ("NumericGreaterThan", json!(-1.5), json!(-1), true),
            ("NumericGreaterThan", json!(0), json!(true), false),
            ("NumericLessThanEquals", json!(0), json!(0), true),
            ("NumericLessThanEquals", json!(0), json!(1), false),
            ("NumericLessThanEquals", json!(1), json!(0), true),
            ("NumericLessThanEquals", json!(0), json!(null), false),
            ("NumericGreaterThanEquals", json!(0), json!(0.0), true),
            ("NumericGreaterThanEquals", json!(20), json!(22), true),
            ("NumericGreaterThanEquals", json!(1), json!(0), false),
            ("NumericGreaterThanEquals", json!(0), json!("5"), false),
            ("BooleanEquals", json!(true), json!(true), true),
            ("BooleanEquals", json!(false), json!(false), true),
            ("BooleanEquals", json!(true), json!(false), false),
            ("BooleanEquals", json!(true), json!("true"), false),
            ("BooleanEquals", json!(false), json!(0), false),
            ("BooleanEquals", json!(false), json!(null), false),
            ("TimestampEquals", json!(T0), json!(T0), true),
            ("TimestampEquals", json!(T0), json!(T1), false),
            (
                "TimestampEquals",
                json!(T0),
                json!("2012-10-09T20:00:55+01:00"),
                true,
            ),
            (
                "TimestampEquals",
                json!(T0),
                json!("2012-10-09T19:00:55"),
                false,
            ),
            (
                "TimestampEquals",
                json!(T0),
                json!("2023-02-24 12:15:56.832957"),
                false,
            ),
            ("TimestampEquals", json!(T0), json!(""), false),
            ("TimestampEquals", json!(T0), json!(0), false),
            ("TimestampEquals", json!(T0), json!(null), false),
            ("TimestampEquals", json!(T0), json!([T0]), false),
            ("TimestampEquals", json!(T0), json!(true), false),
            ("TimestampLessThan", json!(T0), json!(T0), false),
            ("TimestampLessThan", json!(T1), json!(T0), true),
            ("TimestampLessThan", json!(T0), json!(T1), false),
            (
                "TimestampLessThan",
                json!("2025-01-01T12:00:00.000Z"),
                json!("2025-01-01T07:00:00.000-05:00"),
                false,
            ),
            (
                "TimestampLessThan",
                json!(T1),
                json!("not-a-timestamp"),
                false,
            ),
            ("TimestampGreaterThan", json!(T0), json!(T0), false),
            ("TimestampGreaterThan", json!(T1), json!(T0), false),
            ("TimestampGreaterThan", json!(T0), json!(T1), true),
            ("TimestampLessThanEquals", json!(T0), json!(T0), true),
            ("TimestampLessThanEquals", json!(T1), json!(T0), true),
            ("TimestampLessThanEquals", json!(T0), json!(T1), false),
            ("TimestampGreaterThanEquals", json!(T0), json!(T0), true),
            ("TimestampGreaterThanEquals", json!(T1), json!(T0), false),
            ("TimestampGreaterThanEquals", json!(T0), json!(T1), true),
        ];
        for (op, operand, value, expected) in rows {
            assert_eq!(
                literal(op, operand, value),
                *expected,
                "{op} {operand} on {value}"
            );
            assert_eq!(
                via_path(op, value, operand),
                *expected,
                "{op}Path {operand} on {value}"
            );
        }
    }

    #[test]
    fn path_operand_of_the_wrong_type_is_false() {
        let rows: &[(&str, Value, Value)] = &[
            ("StringEquals", json!("1"), json!(1)),
            ("StringLessThan", json!("a"), json!(null)),
            ("NumericEquals", json!(1), json!("1")),
            ("NumericGreaterThanEquals", json!(1), json!(true)),
            ("BooleanEquals", json!(true), json!("true")),
            ("TimestampEquals", json!(T0), json!("2012-10-09T19:00:55")),
            ("TimestampLessThan", json!(T0), json!(5)),
        ];
        for (op, value, other) in rows {
            assert!(!via_path(op, value, other), "{op}Path {other} on {value}");
        }
    }

    /// AWS-recorded type tests (LocalStack `test_is_operators.snapshot.json`): the variable values
    /// and, for each operator, which values it is true for when the operand is `true` (with
    /// `false` every answer flips).
    #[test]
    fn type_tests_match_aws() {
        let values = [
            json!(null),
            json!(0),
            json!(0.0),
            json!(1),
            json!(1.1),
            json!(""),
            json!(" "),
            json!("HelloWorld"),
            json!("2012-10-09T19:00:55"),
            json!("2012-10-09T19:00:55Z"),
            json!("2012-10-09T19:00:55+01:00"),
            json!("2023-02-24"),
            json!([]),
            json!([""]),
            json!({}),
            json!({"A": 0}),
            json!(true),
            json!(false),
        ];
        type Truth = fn(&Value) -> bool;
        let truth: &[(&str, Truth)] = &[
            ("IsNull", |v| v.is_null()),
            ("IsPresent", |_| true),
            ("IsNumeric", |v| v.is_number()),
            ("IsString", |v| v.is_string()),
            ("IsBoolean", |v| v.is_boolean()),
            ("IsTimestamp", |v| {
                v == "2012-10-09T19:00:55Z" || v == "2012-10-09T19:00:55+01:00"
            }),
        ];
        for (op, is) in truth {
            for value in &values {
                assert_eq!(
                    literal(op, &json!(true), value),
                    is(value),
                    "{op}: true on {value}"
                );
                assert_eq!(
                    literal(op, &json!(false), value),
                    !is(value),
                    "{op}: false on {value}"
                );
            }
        }
    }

    #[test]
    fn missing_variable_is_a_runtime_error_except_for_is_present() {
        let input = json!({"a": {"b": 1}, "n": null});
        let err = run(
            &json!([{"Variable": "$.missing.deep", "NumericEquals": 1}]),
            &input,
        )
        .expect_err("missing path");
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause,
            "Invalid path '$.missing.deep': The choice state's condition path references an invalid value."
        );
        for op in [
            "IsNull",
            "IsString",
            "IsNumeric",
            "IsBoolean",
            "IsTimestamp",
        ] {
            let mut r = Map::new();
            r.insert("Variable".into(), json!("$.nope"));
            r.insert(op.into(), json!(false));
            assert!(run(&json!([Value::Object(r)]), &input).is_err(), "{op}");
        }
        let present = |path: &str, expected: bool| {
            run(&json!([{"Variable": path, "IsPresent": expected}]), &input).expect("no error")
        };
        assert_eq!(present("$.nope", false), Some(0));
        assert_eq!(present("$.nope", true), None);
        assert_eq!(present("$.a.b", true), Some(0));
        assert_eq!(present("$.n", true), Some(0));
        assert_eq!(present("$", true), Some(0));
    }

    #[test]
    fn missing_path_operand_is_a_runtime_error() {
        let err = run(
            &json!([{"Variable": "$.left", "TimestampLessThanPath": "$.right"}]),
            &json!({"left": T0}),
        )
        .expect_err("missing operand path");
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(
            err.cause,
            "Invalid path '$.right': The choice state's condition path references an invalid value."
        );
    }

    #[test]
    fn aws_docs_scenario_picks_the_first_matching_rule() {
        let rules = json!([
            {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
            {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
            {"And": [
                {"Variable": "$.value", "NumericGreaterThanEquals": 20},
                {"Variable": "$.value", "NumericLessThan": 30}
            ], "Next": "ValueInTwenties"}
        ]);
        let cases = [
            (json!({"type": "Private", "value": 22}), Some(2)),
            (json!({"type": "Public", "value": 22}), Some(0)),
            (json!({"type": "Private", "value": 0}), Some(1)),
            (json!({"type": "Private", "value": 30}), None),
        ];
        for (input, expected) in cases {
            assert_eq!(run(&rules, &input).expect("no error"), expected, "{input}");
        }
    }

    #[test]
    fn and_or_not_short_circuit() {
        // The second operand would fail (missing path) if it were evaluated.
        let input = json!({"x": 1});
        let and = json!([{"And": [
            {"Variable": "$.x", "NumericEquals": 2},
            {"Variable": "$.missing", "NumericEquals": 1}
        ]}]);
        assert_eq!(run(&and, &input).expect("short-circuits"), None);
        let or = json!([{"Or": [
            {"Variable": "$.x", "NumericEquals": 1},
            {"Variable": "$.missing", "NumericEquals": 1}
        ]}]);
        assert_eq!(run(&or, &input).expect("short-circuits"), Some(0));
        let or_fail = json!([{"Or": [
            {"Variable": "$.x", "NumericEquals": 2},
            {"Variable": "$.missing", "NumericEquals": 1}
        ]}]);
        assert!(run(&or_fail, &input).is_err());
        let nested = json!([
            {"Not": {"Or": [{"Variable": "$.x", "IsNull": true}, {"Variable": "$.x", "IsString": true}]}}
        ]);
        assert_eq!(run(&nested, &input).expect("no error"), Some(0));
        let singleton = json!([{"And": [{"Variable": "$.x", "NumericEquals": 1}]}]);
        assert_eq!(run(&singleton, &input).expect("no error"), Some(0));
        // The Map break condition recorded against AWS: And[IsPresent, And[IsNumeric, NumericEquals 3]].
        let brk = json!([{"And": [
            {"IsPresent": true, "Variable": "$"},
            {"And": [{"IsNumeric": true, "Variable": "$"}, {"NumericEquals": 3, "Variable": "$"}]}
        ]}]);
        let items = [json!(1), json!("Hello"), json!({}), json!(3.3), json!(3)];
        let hits: Vec<bool> = items
            .iter()
            .map(|i| run(&brk, i).expect("no error").is_some())
            .collect();
        assert_eq!(hits, [false, false, false, false, true]);
    }

    #[test]
    fn context_object_and_variables() {
        let context = json!({"Execution": {"Input": {"input-value": 0}}});
        let rules =
            json!([{"Variable": "$$.Execution.Input.input-value", "NumericLessThanEquals": 0}]);
        assert_eq!(
            run_with(&rules, &json!({}), &context, &json!({})).expect("no error"),
            Some(0)
        );
        let rules = json!([{"Variable": "$guess", "StringEqualsPath": "$answer"}]);
        let same = json!({"guess": "the_answer", "answer": "the_answer"});
        let differ = json!({"guess": "the_guess", "answer": "the_answer"});
        assert_eq!(
            run_with(&rules, &json!({}), &json!({}), &same).expect("ok"),
            Some(0)
        );
        assert_eq!(
            run_with(&rules, &json!({}), &json!({}), &differ).expect("ok"),
            None
        );
        let undefined = json!([{"Variable": "$undefinedVariable", "IsPresent": false}]);
        assert_eq!(run(&undefined, &json!({})).expect("ok"), Some(0));
        let err = run(
            &json!([{"Variable": "$undefinedVariable", "StringEquals": "x"}]),
            &json!({}),
        )
        .expect_err("undefined variable");
        assert!(
            err.cause.starts_with("Invalid path '$undefinedVariable':"),
            "{}",
            err.cause
        );
    }

    #[test]
    fn string_order_is_utf16() {
        // U+FFFF sorts after U+10000 in UTF-16 (0xFFFF > 0xD800) though not in code-point order.
        assert!(literal(
            "StringGreaterThan",
            &json!("\u{10000}"),
            &json!("\u{FFFF}")
        ));
        assert!(literal(
            "StringLessThan",
            &json!("\u{FFFF}"),
            &json!("\u{10000}")
        ));
        assert!(literal("StringLessThan", &json!("é"), &json!("z")));
        assert!(literal("StringLessThan", &json!("a"), &json!("Z")));
    }

    #[test]
    fn string_matches_wildcards_and_escapes() {
        // (pattern as the JSON string holds it, text, expected)
        let rows: &[(&str, &str, bool)] = &[
            ("log-*.txt", "log-2024.txt", true),
            ("log-*.txt", "log-.txt", true),
            ("log-*.txt", "log-2024.txt.bak", false),
            ("*.txt", "a.txt", true),
            ("*.txt", ".txt", true),
            ("*.txt", "a.csv", false),
            ("foo*", "foobar", true),
            ("foo*", "fo", false),
            ("*", "", true),
            ("*", "anything", true),
            ("**", "x", true),
            ("", "", true),
            ("", "a", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "aXbY", false),
            ("a*b*c", "acb", false),
            ("*ab", "aab", true),
            ("*aab", "aaab", true),
            ("a*a*a", "aa", false),
            ("exact", "exact", true),
            ("exact", "Exact", false),
            ("?", "?", true),
            ("?", "a", false),
            ("[ab]", "a", false),
            ("[ab]", "[ab]", true),
            ("a.c", "abc", false),
            (r"\*", "*", true),
            (r"\*", "x", false),
            (r"a\*b", "a*b", true),
            (r"a\*b", "axb", false),
            (r"a\**", "a*xyz", true),
            (r"a\**", "abc", false),
            (r"\\", r"\", true),
            (r"\\*", r"\anything", true),
            (r"\\\*", r"\*", true),
            (r"\\\*", r"\x", false),
            ("日本*", "日本語", true),
            ("*語", "日本語", true),
            ("é*", "e\u{301}", false),
        ];
        for (pattern, text, expected) in rows {
            assert_eq!(
                string_matches(pattern, text),
                Some(*expected),
                "{pattern:?} vs {text:?}"
            );
            assert_eq!(
                literal("StringMatches", &json!(pattern), &json!(text)),
                *expected,
                "rule {pattern:?} vs {text:?}"
            );
        }
        assert!(!literal("StringMatches", &json!("*"), &json!(1)));
        assert!(!literal("StringMatches", &json!("*"), &json!(null)));
    }

    /// The reference semantics: a dynamic program over (pattern position, text position).
    fn reference_matches(pattern: &[Option<char>], text: &[char]) -> bool {
        let mut row = vec![false; text.len() + 1];
        row[0] = true;
        for p in pattern {
            let mut next = vec![false; text.len() + 1];
            for t in 0..=text.len() {
                next[t] = match p {
                    None => row[t] || (t > 0 && next[t - 1]),
                    Some(c) => t > 0 && row[t - 1] && text[t - 1] == *c,
                };
            }
            row = next;
        }
        row[text.len()]
    }

    #[test]
    fn string_matches_agrees_with_the_reference_on_every_small_case() {
        // Every pattern over {a, b, *} up to 5 symbols against every text over {a, b} up to 6.
        let mut patterns: Vec<Vec<Option<char>>> = vec![vec![]];
        for _ in 0..5 {
            let longer: Vec<_> = patterns
                .iter()
                .filter(|p| p.len() == patterns.last().map_or(0, Vec::len))
                .flat_map(|p| {
                    [Some('a'), Some('b'), None].map(|s| {
                        let mut q = p.clone();
                        q.push(s);
                        q
                    })
                })
                .collect();
            patterns.extend(longer);
        }
        let mut texts: Vec<Vec<char>> = vec![vec![]];
        for len in 1..=6 {
            for bits in 0..(1u32 << len) {
                texts.push(
                    (0..len)
                        .map(|i| if bits >> i & 1 == 1 { 'a' } else { 'b' })
                        .collect(),
                );
            }
        }
        for p in &patterns {
            let source: String = p.iter().map(|s| s.unwrap_or('*')).collect();
            let compiled = Pattern::parse(&source).expect("no escapes");
            for t in &texts {
                let text: String = t.iter().collect();
                assert_eq!(
                    compiled.matches(&text),
                    reference_matches(p, t),
                    "{source:?} vs {text:?}"
                );
            }
        }
    }

    /// The input that took 24 s with the backtracking matcher (issue 12): many stars, each
    /// followed by a run that almost matches everywhere. Linear now, so this is instant.
    #[test]
    fn string_matches_is_linear_on_adversarial_input() {
        let pattern = format!("{}b", "*a".repeat(2_000));
        let text = "a".repeat(200_000);
        assert_eq!(string_matches(&pattern, &text), Some(false));
        let text = format!("{}b", "a".repeat(200_000));
        assert_eq!(string_matches(&pattern, &text), Some(true));
        let pattern = format!("*{}*", "a".repeat(5_000) + "b");
        assert_eq!(string_matches(&pattern, &"a".repeat(300_000)), Some(false));
    }

    #[test]
    fn string_matches_open_escape_is_a_runtime_error() {
        for pattern in [r"a\b", r"a\", r"\", r"\x*", r"\\\"] {
            assert_eq!(string_matches(pattern, "anything"), None, "{pattern:?}");
            let rules = json!([{"Variable": "$.v", "StringMatches": pattern}]);
            // Compiles (AWS accepts the definition) …
            let compiled = compile(&rules);
            let vars = Map::new();
            let input = json!({"v": "a\\b", "n": 1});
            let env = Env {
                input: &input,
                context: &input,
                variables: &vars,
            };
            // … and fails when evaluated against a string.
            let err = compiled.evaluate(&env).expect_err("open escape");
            assert_eq!(err.error, "States.Runtime");
            assert_eq!(err.cause, open_escape_cause(pattern));
            let on_number = json!([{"Variable": "$.n", "StringMatches": pattern}]);
            assert_eq!(
                compile(&on_number).evaluate(&env).expect("type mismatch"),
                None
            );
        }
    }

    #[test]
    fn compile_reports_precise_errors() {
        let rules = json!([
            {"Variable": "$.x", "NumericEquals": "1", "Next": "A"},
            {"And": [
                {"Variable": "$.x", "IsNull": true},
                {"Variable": "x", "StringEquals": "a"}
            ], "Next": "B"},
            {"Not": {"Variable": "$.t", "TimestampEquals": "2016-03-14T01:59:00"}, "Next": "C"},
            {"Or": [], "Next": "D"},
            {"Variable": "$.x", "StringEqualsPath": 3, "Next": "E"},
            {"Variable": "$.x", "BooleanEqualsPath": "not a path", "Next": "F"},
            {"Condition": "{% true %}", "Next": "G"},
            {"Next": "H"},
            {"Variable": "$.x", "IsPresent": "yes", "Next": "I"},
            {"Variable": "$.x", "StringMatches": 5, "Next": "J"},
            {"Variable": "$.x", "BooleanEquals": 1, "Next": "K"},
            {"Variable": "$.x", "StringLessThan": null, "Next": "L"},
            {"Variable": "$.x", "TimestampLessThan": 5, "Next": "M"}
        ]);
        let errors = compile_errors(&rules);
        let pointers: Vec<&str> = errors.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/0/NumericEquals",
                "/1/And/1/Variable",
                "/2/Not/TimestampEquals",
                "/3/Or",
                "/4/StringEqualsPath",
                "/5/BooleanEqualsPath",
                "/6/Condition",
                "/7",
                "/8/IsPresent",
                "/9/StringMatches",
                "/10/BooleanEquals",
                "/11/StringLessThan",
                "/12/TimestampLessThan",
            ]
        );
        let message = |i: usize| errors[i].1.as_str();
        assert_eq!(
            message(0),
            "`NumericEquals` must be a number, found a string \"1\""
        );
        assert!(
            message(1).starts_with("`x` is not a valid path"),
            "{}",
            message(1)
        );
        assert_eq!(
            message(2),
            "`TimestampEquals` must be an ISO-8601 timestamp with a UTC offset (such as \"2016-03-14T01:59:00Z\"), found a string \"2016-03-14T01:59:00\""
        );
        assert_eq!(message(3), "`Or` must be a non-empty array of choice rules");
        assert_eq!(
            message(4),
            "`StringEqualsPath` must be a path string, found a number 3"
        );
        assert_eq!(
            message(8),
            "`IsPresent` must be a boolean, found a string \"yes\""
        );
        assert_eq!(message(11), "`StringLessThan` must be a string, found null");
        assert_eq!(
            message(12),
            "`TimestampLessThan` must be a timestamp string, found a number 5"
        );
    }

    #[test]
    fn compiles_a_model_choice() {
        let choice = model::Choice {
            choices: vec![rule(
                &json!({"Variable": "$.x", "IsPresent": true, "Next": "A"}),
            )],
            default: Some("B".into()),
        };
        let compiled = CompiledChoice::compile(&choice).expect("compiles");
        assert_eq!(compiled.len(), 1);
        assert!(!compiled.is_empty());
        assert_eq!(run(&json!([]), &json!({})).expect("no rules"), None);
    }

    #[test]
    fn no_choice_matched_is_the_aws_runtime_failure() {
        let f = no_choice_matched();
        assert_eq!(f.error, "States.Runtime");
        assert_eq!(
            f.cause,
            "Failed to transition out of the state. The state does not point to a next state."
        );
    }
}
