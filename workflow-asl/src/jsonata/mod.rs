//! JSONata: parsing, AWS's checks and evaluation, behind one small API.
//!
//! This module is the only place that names the JSONata engine (the `jsonata-core` crate, pinned
//! exactly in the workspace), so that the engine can be replaced without touching its callers. The
//! engine's values are reference-counted (`Rc`, not `Send`); they are converted to and from
//! `serde_json::Value` at this boundary and never leave it: every public type here is plain data
//! except [`Scope`], which holds converted bindings for one state and is meant to live only inside
//! one synchronous step (never across an `.await`).
//!
//! The language is JSONata 2.0.6, as Step Functions implements it
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html>):
//! - the JSONata 2.1 operators `??` and `?:` are refused when parsing;
//! - `$eval` is unavailable (AWS fails with `T1006`, measured in floci-io/floci#2737);
//! - AWS's own functions `$partition`, `$range`, `$hash`, `$random`, `$uuid` and `$parse` exist
//!   (see [`aws`]);
//! - one evaluation may run for at most [`TIME_LIMIT_MS`] milliseconds and build sequences of at
//!   most [`MAX_SEQUENCE`] items, so that no expression hangs or exhausts memory.
//!
//! ```
//! use serde_json::json;
//! use workflow_asl::jsonata::{Expression, Scope};
//!
//! let expr = Expression::parse("$sum($states.input.prices) * $rate").unwrap();
//! let mut scope = Scope::new();
//! scope.bind("states", &json!({"input": {"prices": [1, 2, 3]}}));
//! scope.bind("rate", &json!(2));
//! assert_eq!(expr.evaluate(None, &scope).unwrap(), Some(json!(12)));
//! ```

pub mod aws;
mod check;
mod convert;

use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use jsonata_core::ast::{AstNode, BinaryOp};
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::value::JValue;
use serde_json::Value;

pub use check::TopLevel;

/// The longest one evaluation may run, in milliseconds (AWS: "each JSONata expression must
/// complete within 1 second"; the engine raises `D1012` when it is exceeded).
pub const TIME_LIMIT_MS: u64 = 1000;

/// The most items a sequence built by an evaluation may hold (the engine raises `D2015`).
/// Ranges are limited to 10,000,000 items by JSONata itself (`D2014`); this bound is lower so that
/// a hostile expression cannot allocate gigabytes before its time runs out.
pub const MAX_SEQUENCE: usize = 10_000_000;

/// The deepest evaluation stack allowed (the engine raises `D1011`/`U1001` beyond it).
pub const MAX_STACK_DEPTH: usize = 10_000;

/// A JSONata error: its code as JSONata names it (`T2001`, `S0202`, `D3030`, …; `""` when the
/// engine gave none) and its message without the code.
///
/// ```
/// use workflow_asl::jsonata::{Expression, Scope};
///
/// let err = Expression::parse("'a' + 1").unwrap().evaluate(None, &Scope::new()).unwrap_err();
/// assert_eq!(err.code, "T2001");
/// assert!(err.to_string().starts_with("T2001: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The JSONata error code, such as `T2001`.
    pub code: String,
    /// What went wrong, without the code prefix.
    pub message: String,
}

impl Error {
    fn new(code: &str, message: impl Into<String>) -> Self {
        Error {
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// Splits an engine message `"T2001: The left side …"` into code and text. The code may
    /// follow a prefix of the engine's own (`"Invalid syntax: S0213: …"`), which is dropped.
    fn from_message(msg: &str, default_code: &str) -> Self {
        let b = msg.as_bytes();
        let is_code = |i: usize| {
            b.len() >= i + 6
                && b[i].is_ascii_uppercase()
                && b[i + 1..i + 5].iter().all(u8::is_ascii_digit)
                && b[i + 5] == b':'
                && (i == 0 || b[i - 1] == b' ')
        };
        match (0..b.len()).find(|&i| is_code(i)) {
            Some(i) => Error::new(&msg[i..i + 5], msg[i + 6..].trim_start()),
            None if msg == "Unclosed comment" => Error::new("S0106", "Comment has no closing tag"),
            None => Error::new(default_code, msg),
        }
    }

    fn from_eval(e: &EvaluatorError) -> Self {
        Error::from_message(e.message(), "D0000")
    }
}

impl Error {
    /// The code of [`Expression::evaluate_aws`]'s error when the result is a function, which JSON
    /// cannot hold (AWS: "returned an unsupported result type").
    pub const UNSUPPORTED_RESULT: &'static str = "UNSUPPORTED_RESULT";

    /// Whether the result was a function (see [`Error::UNSUPPORTED_RESULT`]).
    ///
    /// ```
    /// use workflow_asl::jsonata::{Expression, Scope};
    ///
    /// let err = Expression::parse("$sum").unwrap().evaluate_aws(None, &Scope::new()).unwrap_err();
    /// assert!(err.is_unsupported_result());
    /// ```
    pub fn is_unsupported_result(&self) -> bool {
        self.code == Error::UNSUPPORTED_RESULT
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.code.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// A parsed JSONata expression. Parse once, evaluate many times; it is `Send` and `Sync`.
///
/// ```
/// use serde_json::json;
/// use workflow_asl::jsonata::{Expression, Scope};
///
/// let expr = Expression::parse("$states.input.items[price > 10].name").unwrap();
/// let mut scope = Scope::new();
/// scope.bind("states", &json!({"input": {"items": [{"name": "a", "price": 5}, {"name": "b", "price": 20}]}}));
/// assert_eq!(expr.evaluate(None, &scope).unwrap(), Some(json!("b")));
/// assert_eq!(expr.source(), "$states.input.items[price > 10].name");
/// ```
#[derive(Debug)]
pub struct Expression {
    source: String,
    ast: AstNode,
    /// Whether the text names one of AWS's functions or the built-ins AWS replaces (see
    /// [`aws::NAMES`]): only then does an evaluation register them.
    calls_aws: bool,
    /// The expression when it is only a variable followed by plain field names
    /// (`$states.input.order.id`): evaluated by looking the fields up, without the engine's
    /// evaluator (see [`VarPath::lookup`]).
    var_path: Option<VarPath>,
}

impl Clone for Expression {
    fn clone(&self) -> Self {
        Expression {
            source: self.source.clone(),
            ast: self.ast.clone(),
            calls_aws: self.calls_aws,
            var_path: self.var_path.clone(),
        }
    }
}

/// `$var.name1.name2…`: a variable and plain field names, without predicates, `[]`, focus or
/// index bindings, parent references or any other step (the shape of most Step Functions
/// expressions: `$states.input.x`, `$myVar`).
#[derive(Debug, Clone)]
struct VarPath {
    var: String,
    names: Vec<String>,
}

impl VarPath {
    /// [`VarPath::lookup`] on an object bound with [`Scope::bind_object`], still JSON: the value
    /// as the engine would return it (numbers as the engine prints them), or `None` to leave the
    /// expression to the engine, under the same rules.
    fn lookup_json(
        &self,
        scope: &Scope<'_>,
        non_finite: convert::NonFinite,
    ) -> Option<Option<Value>> {
        let (_, entries) = scope.objects.iter().find(|(n, _)| *n == self.var)?;
        let Some((first, rest)) = self.names.split_first() else {
            let mut out = serde_json::Map::with_capacity(entries.len());
            for (k, v) in entries {
                out.insert((*k).to_owned(), convert::through_engine(v, non_finite));
            }
            return Some(Some(Value::Object(out)));
        };
        let Some(&(_, mut v)) = entries.iter().find(|(k, _)| *k == first.as_str()) else {
            return Some(None);
        };
        for name in rest {
            let Value::Object(map) = v else {
                return None;
            };
            match map.get(name.as_str()) {
                Some(next) => v = next,
                None => return Some(None),
            }
        }
        match v {
            Value::Array(_) => None,
            _ => Some(Some(convert::through_engine(v, non_finite))),
        }
    }

    /// Recognizes the shape in a parsed expression.
    fn of(ast: &AstNode) -> Option<VarPath> {
        let (var, steps) = match ast {
            AstNode::Variable(v) => (v, &[][..]),
            AstNode::Path { steps } => {
                let plain = |s: &jsonata_core::ast::PathStep| {
                    s.stages.is_empty()
                        && s.focus.is_none()
                        && s.index_var.is_none()
                        && s.ancestor_label.is_none()
                        && !s.is_tuple
                        && !s.inner_tuple
                };
                if !steps.iter().all(plain) {
                    return None;
                }
                let (first, rest) = steps.split_first()?;
                let AstNode::Variable(v) = &first.node else {
                    return None;
                };
                (v, rest)
            }
            _ => return None,
        };
        if var.is_empty() {
            // `$`, the context item.
            return None;
        }
        let names = steps
            .iter()
            .map(|s| match &s.node {
                AstNode::Name(n) => Some(n.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(VarPath {
            var: var.clone(),
            names,
        })
    }

    /// The value, when the lookup meets only what JSONata's path evaluation would return
    /// unchanged: the variable is bound in `scope`, every value the names are looked up in is an
    /// object, and the result is not an array (arrays map, flatten and unwrap singletons, which
    /// the engine decides). `None` leaves the expression to the engine; `Some(None)` is undefined
    /// (a missing field).
    fn lookup<'s>(&self, scope: &'s Scope<'_>) -> Option<Option<&'s JValue>> {
        let mut v: &JValue = &scope.vars.iter().find(|(n, _)| *n == self.var)?.1;
        for name in &self.names {
            let JValue::Object(map) = v else {
                return None;
            };
            match map.get(name.as_str()) {
                Some(next) => v = next,
                None => return Some(None),
            }
        }
        match v {
            JValue::Null
            | JValue::Bool(_)
            | JValue::Number(_)
            | JValue::String(_)
            | JValue::Object(_) => Some(Some(v)),
            _ => None,
        }
    }
}

impl Expression {
    /// Parses an expression (the text between `{%` and `%}`). Syntax errors carry JSONata's codes
    /// (`S0202`, `S0207`, …). The JSONata 2.1 operators `??` and `?:`, which Step Functions does not
    /// implement, are refused as syntax errors (`S0201`).
    ///
    /// ```
    /// use workflow_asl::jsonata::Expression;
    ///
    /// assert!(Expression::parse("$x + 1").is_ok());
    /// let err = Expression::parse("$x +").unwrap_err();
    /// assert!(err.code.starts_with('S'), "{err}");
    /// // JSONata 2.1's `??` is not Step Functions' JSONata.
    /// assert_eq!(Expression::parse("$a ?? 1").unwrap_err().code, "S0201");
    /// ```
    pub fn parse(source: &str) -> Result<Expression, Error> {
        let parsed = guard(|| jsonata_core::parser::parse(source))?;
        let ast = parsed.map_err(|e| Error::from_message(&e.to_string(), "S0201"))?;
        if let Some(op) = check::newer_operator(&ast) {
            return Err(Error::new(
                "S0201",
                format!(
                    "Syntax error: `{op}` is a JSONata 2.1 operator; Step Functions implements JSONata 2.0.6, which does not have it"
                ),
            ));
        }
        // A function is named only as `$name` (also when passed or aliased), so an
        // expression whose text names none of them cannot call them.
        let calls_aws = aws::NAMES
            .iter()
            .any(|name| source.contains(&format!("${name}")));
        Ok(Expression {
            source: source.to_owned(),
            var_path: if calls_aws { None } else { VarPath::of(&ast) },
            ast,
            calls_aws,
        })
    }

    /// The expression's text, as given to [`Expression::parse`].
    ///
    /// ```
    /// assert_eq!(workflow_asl::jsonata::Expression::parse(" $a ").unwrap().source(), " $a ");
    /// ```
    pub fn source(&self) -> &str {
        &self.source
    }

    /// What AWS refuses in a Step Functions expression, which has no context item: a path that
    /// starts with a bare field name (`Reference to 'phone' at the top level is not supported.`),
    /// or `$` / `$$` outside any path. `None` when the expression reads only variables.
    ///
    /// ```
    /// use workflow_asl::jsonata::{Expression, TopLevel};
    ///
    /// let bare = Expression::parse("phone.number").unwrap();
    /// assert_eq!(bare.top_level_reference(), Some(TopLevel::Field("phone".into())));
    /// assert_eq!(Expression::parse("$states.input.phone").unwrap().top_level_reference(), None);
    /// ```
    pub fn top_level_reference(&self) -> Option<TopLevel> {
        check::top_level(&self.ast)
    }

    /// Evaluates the expression. `input` is the context item `$` (`None`: undefined, as in Step
    /// Functions); `scope` holds the variables. Returns `Ok(None)` when the result is undefined.
    ///
    /// Functions and regular expressions in the result are converted as JSONata's `$string` would
    /// serialize them (functions become `""`); non-finite numbers become `null` (JSON cannot hold
    /// them; see [`Expression::evaluate_aws`] for Step Functions' own rule).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::jsonata::{Expression, Scope};
    ///
    /// let scope = Scope::new();
    /// assert_eq!(Expression::parse("1 + 2").unwrap().evaluate(None, &scope).unwrap(), Some(json!(3)));
    /// // Undefined is `None`.
    /// assert_eq!(Expression::parse("$nothing").unwrap().evaluate(None, &scope).unwrap(), None);
    /// ```
    pub fn evaluate(
        &self,
        input: Option<&Value>,
        scope: &Scope<'_>,
    ) -> Result<Option<Value>, Error> {
        self.run(input, scope, convert::NonFinite::Null)
    }

    /// Like [`Expression::evaluate`], with Step Functions' rules: `1/0` gives the string
    /// `"Infinity"` (measured by floci-io/floci#2737), `-1/0` `"-Infinity"`, and a function as the
    /// result is an error ([`Error::UNSUPPORTED_RESULT`]).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::jsonata::{Expression, Scope};
    ///
    /// let scope = Scope::new();
    /// let inf = Expression::parse("1/0").unwrap();
    /// assert_eq!(inf.evaluate_aws(None, &scope).unwrap(), Some(json!("Infinity")));
    /// assert_eq!(inf.evaluate(None, &scope).unwrap(), Some(json!(null)));
    /// let f = Expression::parse("function($x) { $x }").unwrap();
    /// assert!(f.evaluate_aws(None, &scope).unwrap_err().is_unsupported_result());
    /// ```
    pub fn evaluate_aws(
        &self,
        input: Option<&Value>,
        scope: &Scope<'_>,
    ) -> Result<Option<Value>, Error> {
        self.run(input, scope, convert::NonFinite::JavaString)
    }

    fn run(
        &self,
        input: Option<&Value>,
        scope: &Scope<'_>,
        non_finite: convert::NonFinite,
    ) -> Result<Option<Value>, Error> {
        // `$var.a.b` on objects: the fields, looked up without the engine's evaluator.
        if let Some(path) = &self.var_path {
            if let Some(found) = path.lookup_json(scope, non_finite) {
                return Ok(found);
            }
            if let Some(found) = path.lookup(scope) {
                return match found {
                    None => Ok(None),
                    Some(v) => convert::from_engine(v, non_finite).map(Some),
                };
            }
        }
        guard(|| self.run_unguarded(input, scope, non_finite)).unwrap_or_else(|e| {
            // A panic may have left the evaluator half-way through an evaluation.
            if let Ok(mut slot) = scope.evaluator.try_borrow_mut() {
                *slot = None;
            }
            Err(e)
        })
    }

    fn run_unguarded(
        &self,
        input: Option<&Value>,
        scope: &Scope<'_>,
        non_finite: convert::NonFinite,
    ) -> Result<Option<Value>, Error> {
        // One evaluator per scope, built on its first evaluation with the variables bound and
        // AWS's functions registered: a state's expressions share it. The engine undoes every
        // binding an evaluation makes; after an error the evaluator is dropped all the same, so
        // that no state of a failed evaluation can reach the next one.
        let mut slot = scope.evaluator.borrow_mut();
        let evaluator = match &mut *slot {
            Some(ev) => ev,
            None => {
                scope.aws_registered.set(false);
                slot.insert(scope.build_evaluator()?)
            }
        };
        // AWS's functions, registered on the first expression of the scope that names one.
        if self.calls_aws && !scope.aws_registered.get() {
            aws::register(evaluator, &scope.entropy)?;
            scope.aws_registered.set(true);
        }
        let data = match input {
            Some(v) => convert::to_engine(v),
            None => JValue::Undefined,
        };
        let out = match evaluator.evaluate(&self.ast, &data) {
            Ok(out) => out,
            Err(e) => {
                *slot = None;
                return Err(Error::from_eval(&e));
            }
        };
        drop(slot);
        if matches!(out, JValue::Undefined) {
            return Ok(None);
        }
        if non_finite == convert::NonFinite::JavaString && out.is_function() {
            return Err(Error::new(
                Error::UNSUPPORTED_RESULT,
                "the expression returned a function, which JSON cannot hold",
            ));
        }
        convert::from_engine(&out, non_finite).map(Some)
    }
}

/// The variables an expression sees, converted once to the engine's form, so that binding
/// `$states` costs at most one conversion per state rather than one per expression. An object
/// bound with [`Scope::bind_object`] (`$states`) stays borrowed JSON until an expression needs
/// the engine's evaluator; a plain path into it (`$states.input.a`) is answered from the JSON.
///
/// A `Scope` holds reference-counted engine values: it is neither `Send` nor `Sync`, so build it,
/// use it and drop it within one synchronous step.
///
/// ```
/// use serde_json::json;
/// use workflow_asl::jsonata::{Expression, Scope};
///
/// let input = json!({"n": 2});
/// let mut scope = Scope::with_seed(1);
/// scope.bind_object("states", &[("input", &input)]);
/// scope.bind("factor", &json!(10));
/// assert!(scope.contains("factor"));
/// let expr = Expression::parse("$states.input.n * $factor").unwrap();
/// assert_eq!(expr.evaluate(None, &scope).unwrap(), Some(json!(20)));
/// ```
pub struct Scope<'a> {
    vars: Vec<(String, JValue)>,
    /// Objects bound by [`Scope::bind_object`], converted when the evaluator is built.
    objects: Vec<(String, Vec<(&'a str, &'a Value)>)>,
    entropy: Rc<aws::EntropyCell>,
    time_limit_ms: u64,
    /// The engine's evaluator for this scope's variables, built on first use.
    evaluator: RefCell<Option<Evaluator>>,
    /// Whether AWS's functions are registered in `evaluator`.
    aws_registered: std::cell::Cell<bool>,
}

impl Default for Scope<'_> {
    fn default() -> Self {
        Scope::new()
    }
}

impl fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field(
                "vars",
                &self
                    .vars
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .chain(self.objects.iter().map(|(n, _)| n.as_str()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<'a> Scope<'a> {
    /// No variables; `$random()` and `$uuid()` draw from the operating system's entropy (seeded
    /// on their first use, so that a scope that never calls them costs nothing).
    ///
    /// ```
    /// let scope = workflow_asl::jsonata::Scope::new();
    /// assert!(!scope.contains("states"));
    /// ```
    pub fn new() -> Self {
        Scope {
            vars: Vec::new(),
            objects: Vec::new(),
            entropy: Rc::new(aws::EntropyCell::from_os()),
            time_limit_ms: TIME_LIMIT_MS,
            evaluator: RefCell::new(None),
            aws_registered: std::cell::Cell::new(false),
        }
    }

    /// No variables; `$random()` (without a seed) and `$uuid()` are the deterministic sequence of
    /// `seed`, for tests and replays.
    ///
    /// ```
    /// use workflow_asl::jsonata::{Expression, Scope};
    ///
    /// let uuid = Expression::parse("$uuid()").unwrap();
    /// let a = uuid.evaluate(None, &Scope::with_seed(5)).unwrap();
    /// let b = uuid.evaluate(None, &Scope::with_seed(5)).unwrap();
    /// assert_eq!(a, b); // the same seed, the same UUID
    /// ```
    pub fn with_seed(seed: u64) -> Self {
        Scope {
            vars: Vec::new(),
            objects: Vec::new(),
            entropy: Rc::new(aws::EntropyCell::seeded(seed)),
            time_limit_ms: TIME_LIMIT_MS,
            evaluator: RefCell::new(None),
            aws_registered: std::cell::Cell::new(false),
        }
    }

    /// Changes how long one evaluation may run (default [`TIME_LIMIT_MS`], Step Functions' limit).
    /// A tool that evaluates expressions outside Step Functions, such as `workflow eval`, may allow
    /// longer; the limit is what keeps a runaway expression from hanging.
    ///
    /// ```
    /// let mut scope = workflow_asl::jsonata::Scope::new();
    /// scope.set_time_limit_ms(5_000); // a tool may allow longer than Step Functions' second
    /// ```
    pub fn set_time_limit_ms(&mut self, ms: u64) {
        self.time_limit_ms = ms.max(1);
        *self.evaluator.get_mut() = None;
    }

    /// Binds `$name` (give the name without `$`) to a JSON value, replacing an earlier binding.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::jsonata::{Expression, Scope};
    ///
    /// let mut scope = Scope::new();
    /// scope.bind("xs", &json!([3, 1, 2]));
    /// assert_eq!(Expression::parse("$sort($xs)").unwrap().evaluate(None, &scope).unwrap(), Some(json!([1, 2, 3])));
    /// ```
    pub fn bind(&mut self, name: &str, value: &Value) {
        self.set(name, convert::to_engine(value));
    }

    fn set(&mut self, name: &str, v: JValue) {
        *self.evaluator.get_mut() = None;
        self.objects.retain(|(n, _)| n != name);
        match self.vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.vars.push((name.to_owned(), v)),
        }
    }

    /// Binds `$name` to an object of the given entries, in order: the same as binding
    /// `{"k1": v1, …}`, without building that object as JSON first.
    /// The entries are borrowed, and converted only if an expression needs the engine's
    /// evaluator (see [`Scope`]).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::jsonata::{Expression, Scope};
    ///
    /// let (input, context) = (json!({"a": 1}), json!({"Execution": {"Name": "e"}}));
    /// let mut scope = Scope::new();
    /// scope.bind_object("states", &[("input", &input), ("context", &context)]);
    /// let expr = Expression::parse("$states.context.Execution.Name & '-' & $string($states.input.a)").unwrap();
    /// assert_eq!(expr.evaluate(None, &scope).unwrap(), Some(json!("e-1")));
    /// ```
    pub fn bind_object(&mut self, name: &str, entries: &[(&'a str, &'a Value)]) {
        *self.evaluator.get_mut() = None;
        self.vars.retain(|(n, _)| n != name);
        match self.objects.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = entries.to_vec(),
            None => self.objects.push((name.to_owned(), entries.to_vec())),
        }
    }

    /// Binds every entry of a JSON object as a variable (`{"a": 1}` binds `$a`).
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::jsonata::Scope;
    ///
    /// let mut scope = Scope::new();
    /// scope.bind_all(json!({"a": 1, "b": 2}).as_object().unwrap());
    /// assert!(scope.contains("a") && scope.contains("b"));
    /// ```
    pub fn bind_all(&mut self, vars: &serde_json::Map<String, Value>) {
        for (k, v) in vars {
            self.bind(k, v);
        }
    }

    /// An evaluator with this scope's variables bound (AWS's functions are registered when an
    /// expression names one, see `Expression::run_unguarded`).
    fn build_evaluator(&self) -> Result<Evaluator, Error> {
        let mut context = Context::new();
        for (name, value) in &self.vars {
            context.bind(name.clone(), value.clone());
        }
        for (name, entries) in &self.objects {
            let map: indexmap::IndexMap<String, JValue> = entries
                .iter()
                .map(|(k, v)| ((*k).to_owned(), convert::to_engine(v)))
                .collect();
            context.bind(name.clone(), JValue::object(map));
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(self.time_limit_ms),
            max_stack_depth: Some(MAX_STACK_DEPTH),
            max_sequence_length: Some(MAX_SEQUENCE),
            ..EvaluatorOptions::default()
        };
        Ok(Evaluator::with_options(context, options))
    }

    /// Whether `$name` is bound.
    ///
    /// ```
    /// let mut scope = workflow_asl::jsonata::Scope::new();
    /// scope.bind("x", &serde_json::json!(1));
    /// assert!(scope.contains("x"));
    /// assert!(!scope.contains("y"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.vars.iter().any(|(n, _)| n == name) || self.objects.iter().any(|(n, _)| n == name)
    }
}

/// Parses and evaluates one expression with an input and variables: a convenience for one-off
/// evaluations such as `workflow eval`.
///
/// ```
/// use serde_json::json;
///
/// let vars = json!({"rate": 3}).as_object().cloned().unwrap();
/// let out = workflow_asl::jsonata::evaluate("$rate * 2", None, &vars).unwrap();
/// assert_eq!(out, Some(json!(6)));
/// ```
pub fn evaluate(
    source: &str,
    input: Option<&Value>,
    bindings: &serde_json::Map<String, Value>,
) -> Result<Option<Value>, Error> {
    let expr = Expression::parse(source)?;
    let mut scope = Scope::new();
    scope.bind_all(bindings);
    expr.evaluate(input, &scope)
}

/// Runs `f`, turning a panic inside the engine into an error: a defect of the engine must fail
/// the one expression, never the process.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Error::new(
            "D0000",
            format!("the JSONata engine failed on this expression (internal error: {what})"),
        )
    })
}

/// The names of the binary operators [`check`] reports.
fn op_text(op: BinaryOp) -> Option<&'static str> {
    match op {
        BinaryOp::Coalesce => Some("??"),
        BinaryOp::Default => Some("?:"),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
