//! JSONPath as Step Functions evaluates it: `$` (state input), `$$` (context object) and `$name`
//! (a variable), compiled once with [`Path::parse`] and evaluated many times.
//!
//! Step Functions evaluates paths with the Jayway JsonPath library over Jackson trees; this
//! module reproduces its observable behaviour:
//!
//! * steps: `.name`, `['name']`, `["name"]`, `['a','b']`, `[n]` (negative counts from the end),
//!   `[a,b]`, `[start:end]` (a third `:step` part is ignored, as Jayway ignores it), `[*]`, `.*`,
//!   `..` deep scan, and filters `[?(...)]` with `@`/`$` operands, `== != === !== < <= > >= =~`
//!   (`/regex/flags`), `in nin subsetof anyof noneof contains size empty`, `&& || !` and parentheses;
//!   script expressions `[(...)]` and functions (`.length()`) are rejected;
//! * a *definite* path (only single names and single indexes) selects one value or fails; an
//!   indefinite path always succeeds with an array of its matches (`[]` when nothing matches:
//!   `$.items[*]` on `{}` is `[]`, as recorded against AWS);
//! * a missing last property selects nothing (`No results for path: $['a']`), a missing property
//!   before the end of a definite path fails (`Missing property in path $['no']`), a name on a
//!   non-object or an index on a non-array fails with Jayway's own text;
//! * an index past the end of an array selects `null` (Jackson's `ArrayNode.get` returns null), so
//!   `"v.$": "$.items[5]"` gives `null` on AWS; intrinsic arguments are stricter (see
//!   [`Path::evaluate_strict`]).
//!
//! # Failures and the causes the executor writes
//!
//! [`Miss`] carries Jayway's message. Every cause below is `States.Runtime` unless said
//! otherwise, and AWS puts `An error occurred while executing the state '<state name>' (entered
//! at the event id #<id of its …StateEntered event>). ` in front of it. The executor adds that
//! prefix; this module returns the rest:
//!
//! | where | cause after the prefix | evidence |
//! |---|---|---|
//! | `InputPath`, `OutputPath` | [`Miss::invalid_path_cause`]: `Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']`, `Invalid path '$.no.such.result.path' : Missing property in path $['no']` | `scenarios/test_base_scenarios__test_invalid_jsonpath_ST.INVALID_JSONPATH_IN_INPUTPATH…`, `needs_lambda_stub/scenarios/test_base_scenarios__test_catch_states_runtime…` |
//! | `ResultPath` (state or Catch) | [`apply_result_path`]: `States.ResultPathMatchFailure`, `Unable to apply ReferencePath $.a.b to input {"a":1}` | wording from memory of AWS consoles, not recorded in the corpus |
//! | a `…Path` field read by the executor (`ErrorPath`, `CausePath`, `SecondsPath`, …) | build `The JSONPath '$.ErrorX' specified for the field 'ErrorPath' could not be found in the input '<java_json(input)>'` (see [`crate::eval::java_json`]) | `scenarios/test_base_scenarios__test_invalid_jsonpath_ST.INVALID_JSONPATH_IN_CAUSEPATH…` |
//! | payload template field (`"x.$": "$.a"`) | see [`crate::template`] | |
//! | intrinsic argument | see [`crate::intrinsic`] | |
//!
//! Example (recorded): a Pass state `pass` with `"InputPath": "$.NoSuchInputPath"` fails with
//! `An error occurred while executing the state 'pass' (entered at the event id #2). Invalid path
//! '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']`.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use serde_json::{Map, Number, Value};

use crate::error::{names, Failure};
use crate::eval::{java_json, java_number, Env};
use crate::model::PathField;

static NULL: Value = Value::Null;

/// Where a path starts.
///
/// ```
/// use workflow_asl::path::{Path, PathRoot};
///
/// assert_eq!(Path::parse("$$.Map.Item.Index").unwrap().root(), PathRoot::Context);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathRoot<'a> {
    /// `$`: the state input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: the variable `name`.
    Variable(&'a str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Root {
    Input,
    Context,
    Variable(String),
}

/// A parsed (compiled once) path: `$...`, `$$...` (context), or `$var...` (variable).
///
/// ```
/// use serde_json::{json, Map};
/// use workflow_asl::eval::Env;
/// use workflow_asl::path::Path;
///
/// let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
/// let context = json!({"Execution": {"Name": "run-1"}});
/// let mut variables = Map::new();
/// variables.insert("limit".into(), json!(5));
/// let env = Env::new(&input, &context, &variables);
///
/// let id = Path::parse("$.order.id").unwrap();
/// assert_eq!(id.select(&env), Some(json!(7)));
/// let skus = Path::parse("$.order.items[*].sku").unwrap();
/// assert_eq!(skus.select(&env), Some(json!(["a", "b"])));
/// assert_eq!(Path::parse("$$.Execution.Name").unwrap().select(&env), Some(json!("run-1")));
/// assert_eq!(Path::parse("$limit").unwrap().select(&env), Some(json!(5)));
/// // ResultPath: write a result into the input.
/// let out = Path::parse("$.order.total").unwrap().apply_result(input.clone(), json!(3))?;
/// assert_eq!(out["order"]["total"], 3);
/// # Ok::<(), workflow_asl::Failure>(())
/// ```
#[derive(Clone, Debug)]
pub struct Path {
    text: String,
    root: Root,
    chain: Chain,
}

impl PartialEq for Path {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

/// Steps after a root, with the definiteness facts Jayway uses to decide when a miss is an error.
#[derive(Clone, Debug)]
struct Chain {
    steps: Vec<Step>,
    /// `upstream_definite[i]`: every step before `i` is definite.
    upstream_definite: Vec<bool>,
    definite: bool,
}

#[derive(Clone, Debug)]
enum Step {
    /// `.a`, `['a']`, or `['a','b']`.
    Property(Vec<String>),
    /// `[0]` or `[0,2]`.
    Index(Vec<i64>),
    /// `[from:to]`.
    Slice(Option<i64>, Option<i64>),
    /// `.*`, `[*]`.
    Wildcard,
    /// `..` (the next step is applied at every level).
    Scan,
    /// `[?(...)]`.
    Filter(Box<Filter>),
}

impl Step {
    fn is_definite(&self, is_last: bool) -> bool {
        match self {
            Step::Property(names) => names.len() == 1 || is_last,
            Step::Index(indexes) => indexes.len() == 1,
            _ => false,
        }
    }

    /// Jayway's path fragment for the step (`['a']`, `[0]`, `[1:]`, `[*]`, `..`, `[?]`).
    fn fragment(&self, out: &mut String) {
        match self {
            Step::Property(names) => {
                out.push('[');
                for (i, n) in names.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push('\'');
                    out.push_str(n);
                    out.push('\'');
                }
                out.push(']');
            }
            Step::Index(indexes) => {
                out.push('[');
                for (i, n) in indexes.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&n.to_string());
                }
                out.push(']');
            }
            Step::Slice(from, to) => {
                out.push('[');
                if let Some(f) = from {
                    out.push_str(&f.to_string());
                }
                out.push(':');
                if let Some(t) = to {
                    out.push_str(&t.to_string());
                }
                out.push(']');
            }
            Step::Wildcard => out.push_str("[*]"),
            Step::Scan => out.push_str(".."),
            Step::Filter(_) => out.push_str("[?]"),
        }
    }
}

impl Chain {
    fn new(steps: Vec<Step>) -> Chain {
        let n = steps.len();
        let mut upstream_definite = Vec::with_capacity(n);
        let mut all = true;
        for (i, s) in steps.iter().enumerate() {
            upstream_definite.push(all);
            all = all && s.is_definite(i + 1 == n);
        }
        Chain {
            steps,
            upstream_definite,
            definite: all,
        }
    }

    /// `$` followed by the fragments of steps `from..to`.
    fn render(&self, from: usize, to: usize, with_root: bool) -> String {
        let mut out = String::new();
        if with_root {
            out.push('$');
        }
        for s in &self.steps[from..to] {
            s.fragment(&mut out);
        }
        out
    }
}

/// A malformed path: what is wrong and where.
///
/// ```
/// use workflow_asl::path::Path;
///
/// let err = Path::parse("").unwrap_err();
/// assert_eq!(err.to_string(), "the path is empty; a path starts with '$'");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// The text is empty (or only blanks).
    Empty,
    /// The text does not start with `$`.
    MissingRoot {
        /// The path as written.
        text: String,
    },
    /// The text is not valid JSONPath at `position` (a byte offset into the text).
    Syntax {
        /// The path as written.
        text: String,
        /// Byte offset of the problem.
        position: usize,
        /// What is wrong there.
        message: String,
    },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathError::Empty => f.write_str("the path is empty; a path starts with '$'"),
            PathError::MissingRoot { text } => {
                write!(f, "the path '{text}' must start with '$'")
            }
            PathError::Syntax {
                text,
                position,
                message,
            } => write!(
                f,
                "invalid JSONPath '{text}' at position {position}: {message}"
            ),
        }
    }
}

impl std::error::Error for PathError {}

/// Why a path selected nothing (or could not be applied), with Jayway's wording as `Display`.
///
/// ```
/// # use serde_json::{json, Map};
/// # use workflow_asl::eval::Env;
/// # use workflow_asl::path::Path;
/// #
/// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
/// # let context = json!({"Execution": {"Name": "run-1"}});
/// # let mut variables = Map::new();
/// # variables.insert("limit".into(), json!(5));
/// # let env = Env::new(&input, &context, &variables);
/// use workflow_asl::path::Miss;
///
/// let miss = Path::parse("$.order.nope").unwrap().evaluate(&env).unwrap_err();
/// assert_eq!(miss, Miss::NoResults { path: "$['order']['nope']".into() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// A definite path matched nothing: `No results for path: $['a']`.
    NoResults {
        /// The normalized path.
        path: String,
    },
    /// A property before the end of a definite path is missing: `Missing property in path $['a']`.
    MissingProperty {
        /// The path up to and including the missing property.
        path: String,
    },
    /// A name was applied to a value that is not an object.
    NotAnObject {
        /// The step (`['b']`).
        property: String,
        /// The path of the value (`$['a']`).
        path: String,
        /// The Java class Jayway saw (`java.lang.Integer`).
        found: String,
    },
    /// An index or slice was applied to `null`: `The path $['a'] is null`.
    NullArray {
        /// The path of the null value.
        path: String,
    },
    /// An index or slice was applied to a value that is not an array.
    NotAnArray {
        /// The rest of the path from the failing step (`[0]['x']`).
        token: String,
        /// The value, as Java prints it.
        context: String,
    },
    /// A filter was applied to a primitive value.
    FilterOnPrimitive {
        /// The rest of the path from the filter step.
        token: String,
        /// The value, as Java prints it.
        context: String,
    },
    /// `$name` names no variable in scope.
    UndefinedVariable {
        /// The variable name (without `$`).
        name: String,
    },
    /// The evaluation took more than [`crate::limits::MAX_PATH_WORK`] steps (for example
    /// `$..*..*..*`, whose matches grow as a power of the input's size).
    TooMuchWork,
}

impl Miss {
    /// True for the misses AWS reports as "could not be found" (the path selected nothing), as
    /// opposed to a path that could not be applied to the value's type.
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// assert!(Path::parse("$.nope").unwrap().evaluate(&env).unwrap_err().is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Miss::NoResults { .. }
                | Miss::MissingProperty { .. }
                | Miss::NotAnObject { .. }
                | Miss::NullArray { .. }
                | Miss::UndefinedVariable { .. }
        )
    }

    /// The cause AWS gives for an `InputPath`/`OutputPath` that fails (without the state prefix):
    /// `Invalid path '$.a' : No results for path: $['a']`.
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// let path = Path::parse("$.a").unwrap();
    /// let miss = path.evaluate(&env).unwrap_err();
    /// assert_eq!(miss.invalid_path_cause(&path), "Invalid path '$.a' : No results for path: $['a']");
    /// ```
    pub fn invalid_path_cause(&self, path: &Path) -> String {
        format!("Invalid path '{}' : {}", path.as_str(), self)
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::NoResults { path } => write!(f, "No results for path: {path}"),
            Miss::MissingProperty { path } => write!(f, "Missing property in path {path}"),
            Miss::NotAnObject {
                property,
                path,
                found,
            } => write!(
                f,
                "Expected to find an object with property {property} in path {path} but found \
                 '{found}'. This is not a json object according to the JsonProvider: \
                 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'."
            ),
            Miss::NullArray { path } => write!(f, "The path {path} is null"),
            Miss::NotAnArray { token, context } => write!(
                f,
                "Filter: {token} can only be applied to arrays. Current context is: {context}"
            ),
            Miss::FilterOnPrimitive { token, context } => write!(
                f,
                "Filter: {token} can not be applied to primitives. Current context is: {context}"
            ),
            Miss::UndefinedVariable { name } => {
                write!(f, "The variable '${name}' is not defined")
            }
            Miss::TooMuchWork => write!(
                f,
                "The path selects too much: its evaluation passed the limit of {} steps",
                crate::limits::MAX_PATH_WORK
            ),
        }
    }
}

impl std::error::Error for Miss {}

/// What a path selected: one value (definite path) or the list of matches (indefinite path).
/// Values are borrowed from the input where possible.
///
/// ```
/// # use serde_json::{json, Map};
/// # use workflow_asl::eval::Env;
/// # use workflow_asl::path::Path;
/// #
/// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
/// # let context = json!({"Execution": {"Name": "run-1"}});
/// # let mut variables = Map::new();
/// # variables.insert("limit".into(), json!(5));
/// # let env = Env::new(&input, &context, &variables);
/// use workflow_asl::path::Selected;
///
/// match Path::parse("$.order.items[*].sku").unwrap().evaluate(&env).unwrap() {
///     Selected::Many(skus) => assert_eq!(skus.len(), 2),
///     Selected::One(_) => unreachable!("an indefinite path"),
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Selected<'v> {
    /// The value a definite path selected.
    One(Cow<'v, Value>),
    /// The matches of an indefinite path, in document order.
    Many(Vec<Cow<'v, Value>>),
}

impl Selected<'_> {
    /// The selection as an owned value (matches gathered into an array).
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// let many = Path::parse("$.order.items[*].qty").unwrap().evaluate(&env).unwrap();
    /// assert_eq!(many.into_value(), json!([2, 1]));
    /// ```
    pub fn into_value(self) -> Value {
        match self {
            Selected::One(v) => v.into_owned(),
            Selected::Many(vs) => Value::Array(vs.into_iter().map(Cow::into_owned).collect()),
        }
    }
}

impl Path {
    /// Parses a path. Surrounding blanks are ignored (as Jayway ignores them).
    ///
    /// ```
    /// use workflow_asl::path::{Path, PathError};
    ///
    /// assert!(Path::parse(" $.a[0] ").is_ok());
    /// assert_eq!(Path::parse("a.b").unwrap_err(), PathError::MissingRoot { text: "a.b".into() });
    /// assert!(matches!(Path::parse("$.a[").unwrap_err(), PathError::Syntax { .. }));
    /// ```
    pub fn parse(text: &str) -> Result<Path, PathError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(PathError::Empty);
        }
        if !trimmed.starts_with('$') {
            return Err(PathError::MissingRoot {
                text: text.to_string(),
            });
        }
        let offset = text.len() - text.trim_start().len();
        let mut p = Parser {
            s: trimmed,
            pos: 1,
            offset,
            original: text,
            depth: 0,
        };
        let root = match p.peek() {
            Some('$') => {
                p.pos += 1;
                Root::Context
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                let start = p.pos;
                while let Some(c) = p.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        p.bump(c);
                    } else {
                        break;
                    }
                }
                Root::Variable(p.s[start..p.pos].to_string())
            }
            _ => Root::Input,
        };
        let steps = p.steps()?;
        Ok(Path {
            text: text.to_string(),
            root,
            chain: Chain::new(steps),
        })
    }

    /// The path as written.
    ///
    /// ```
    /// assert_eq!(workflow_asl::path::Path::parse("$.a.b").unwrap().as_str(), "$.a.b");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Where the path starts.
    ///
    /// ```
    /// use workflow_asl::path::{Path, PathRoot};
    ///
    /// assert_eq!(Path::parse("$.a").unwrap().root(), PathRoot::Input);
    /// assert_eq!(Path::parse("$$.Task.Token").unwrap().root(), PathRoot::Context);
    /// assert_eq!(Path::parse("$total.n").unwrap().root(), PathRoot::Variable("total"));
    /// ```
    pub fn root(&self) -> PathRoot<'_> {
        match &self.root {
            Root::Input => PathRoot::Input,
            Root::Context => PathRoot::Context,
            Root::Variable(name) => PathRoot::Variable(name),
        }
    }

    /// True when the path is a Reference Path (only `.name`, `['name']`, `[n]` steps: selects at
    /// most one node).
    ///
    /// ```
    /// use workflow_asl::path::Path;
    ///
    /// assert!(Path::parse("$.a['b'][0]").unwrap().is_reference());
    /// assert!(!Path::parse("$.a[*]").unwrap().is_reference());
    /// ```
    pub fn is_reference(&self) -> bool {
        self.chain.steps.iter().all(|s| match s {
            Step::Property(names) => names.len() == 1,
            Step::Index(indexes) => indexes.len() == 1,
            _ => false,
        })
    }

    /// True when the path is definite (cannot select several nodes).
    ///
    /// ```
    /// use workflow_asl::path::Path;
    ///
    /// assert!(Path::parse("$.a.b").unwrap().is_definite());
    /// assert!(!Path::parse("$..b").unwrap().is_definite());
    /// ```
    pub fn is_definite(&self) -> bool {
        self.chain.definite
    }

    /// Evaluates against `env`. Definite path: `Some(value)`, or `None` when it selects nothing or
    /// cannot be applied. Indefinite path: `Some(array of matches)`, `[]` when nothing matches.
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// assert_eq!(Path::parse("$.order.items[1].qty").unwrap().select(&env), Some(json!(1)));
    /// assert_eq!(Path::parse("$.order.missing").unwrap().select(&env), None);
    /// assert_eq!(Path::parse("$.order.items[?(@.qty > 1)].sku").unwrap().select(&env), Some(json!(["a"])));
    /// ```
    pub fn select(&self, env: &Env) -> Option<Value> {
        if let Some(v) = self.find(env) {
            return Some(v.clone());
        }
        self.evaluate(env).ok().map(Selected::into_value)
    }

    /// The value a definite chain of single names and indexes selects, found without building a
    /// [`Selected`] or a [`Miss`]: the fast path for the common `$.a.b` and `$var.a[0]` paths.
    /// `None` when the path has another kind of step, or when a step finds nothing (a missing
    /// name, an index past the end, a name on a non-object…): [`Path::evaluate`] and
    /// [`Path::evaluate_strict`] then say what they select, or why nothing. When this returns
    /// `Some`, both of them select the same value.
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// assert_eq!(Path::parse("$.order.id").unwrap().find(&env), Some(&json!(7)));
    /// assert_eq!(Path::parse("$.order.items[*]").unwrap().find(&env), None); // not a plain chain
    /// ```
    #[inline]
    pub fn find<'v>(&self, env: &Env<'v>) -> Option<&'v Value> {
        let root: &'v Value = match &self.root {
            Root::Input => env.input,
            Root::Context => env.context,
            Root::Variable(name) => env.variables.get(name)?,
        };
        if !self.chain.definite {
            return None;
        }
        let mut cur = root;
        for step in &self.chain.steps {
            cur = match (step, cur) {
                (Step::Property(names), Value::Object(map)) if names.len() == 1 => {
                    map.get(&names[0])?
                }
                (Step::Index(indexes), Value::Array(items)) if indexes.len() == 1 => {
                    items.get(effective_index(indexes[0], items.len())?)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The value a reference path from `$` (single names and indexes) names in `root`, for
    /// writing: the slot [`Path::apply_result`] would overwrite. `None` when the path starts
    /// elsewhere, has another kind of step, or does not reach an existing value.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::path::Path;
    ///
    /// let mut doc = json!({"a": {"b": 1}});
    /// *Path::parse("$.a.b").unwrap().find_mut(&mut doc).unwrap() = json!(2);
    /// assert_eq!(doc, json!({"a": {"b": 2}}));
    /// ```
    pub fn find_mut<'v>(&self, root: &'v mut Value) -> Option<&'v mut Value> {
        if self.root != Root::Input {
            return None;
        }
        let mut cur = root;
        for step in &self.chain.steps {
            cur = match step {
                Step::Property(names) if names.len() == 1 => {
                    cur.as_object_mut()?.get_mut(&names[0])?
                }
                Step::Index(indexes) if indexes.len() == 1 => {
                    let items = cur.as_array_mut()?;
                    let i = effective_index(indexes[0], items.len())?;
                    items.get_mut(i)?
                }
                _ => return None,
            };
        }
        Some(cur)
    }

    /// Evaluates against `env`, borrowing from it, with the reason when nothing is selected.
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// use workflow_asl::path::Selected;
    ///
    /// let one = Path::parse("$.order.id").unwrap().evaluate(&env).unwrap();
    /// assert!(matches!(one, Selected::One(_)));
    /// let miss = Path::parse("$.order.nope").unwrap().evaluate(&env).unwrap_err();
    /// assert!(miss.is_not_found());
    /// assert_eq!(miss.to_string(), "No results for path: $['order']['nope']");
    /// ```
    pub fn evaluate<'v>(&self, env: &Env<'v>) -> Result<Selected<'v>, Miss> {
        self.evaluate_with(env, false)
    }

    /// Like [`Path::evaluate`], with the stricter rule AWS applies to intrinsic function
    /// arguments: an index past the end of an array selects nothing (instead of `null`).
    ///
    /// ```
    /// # use serde_json::{json, Map};
    /// # use workflow_asl::eval::Env;
    /// # use workflow_asl::path::Path;
    /// #
    /// # let input = json!({"order": {"id": 7, "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}]}});
    /// # let context = json!({"Execution": {"Name": "run-1"}});
    /// # let mut variables = Map::new();
    /// # variables.insert("limit".into(), json!(5));
    /// # let env = Env::new(&input, &context, &variables);
    /// // Past the end of an array: `evaluate` selects null, the strict form nothing.
    /// let past = Path::parse("$.order.items[5]").unwrap();
    /// assert_eq!(past.evaluate(&env).unwrap().into_value(), json!(null));
    /// assert!(past.evaluate_strict(&env).is_err());
    /// ```
    pub fn evaluate_strict<'v>(&self, env: &Env<'v>) -> Result<Selected<'v>, Miss> {
        self.evaluate_with(env, true)
    }

    fn evaluate_with<'v>(&self, env: &Env<'v>, strict: bool) -> Result<Selected<'v>, Miss> {
        let root: &'v Value = match &self.root {
            Root::Input => env.input,
            Root::Context => env.context,
            Root::Variable(name) => match env.variables.get(name) {
                Some(v) => v,
                None => return Err(Miss::UndefinedVariable { name: name.clone() }),
            },
        };
        self.evaluate_on(root, strict)
    }

    /// Evaluates the steps of the path against `value` (as if it were the root), ignoring which
    /// root the path names.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::path::Path;
    ///
    /// let item = json!({"sku": "a"});
    /// let sku = Path::parse("$.sku").unwrap().evaluate_value(&item).unwrap();
    /// assert_eq!(sku.into_value(), json!("a"));
    /// ```
    pub fn evaluate_value<'v>(&self, value: &'v Value) -> Result<Selected<'v>, Miss> {
        self.evaluate_on(value, false)
    }

    fn evaluate_on<'v>(&self, root: &'v Value, strict: bool) -> Result<Selected<'v>, Miss> {
        // The common case: a chain of single names and indexes, walked without allocating.
        if self.chain.definite {
            if let Some(fast) = fast_definite(&self.chain, root, strict) {
                return fast.map(|v| Selected::One(Cow::Borrowed(v)));
            }
        }
        let mut w = Walker {
            chain: &self.chain,
            root,
            strict,
            require_properties: false,
            results: Vec::new(),
        };
        WORK.with(|work| work.set(0));
        w.walk(0, root)?;
        finish(&self.chain, w.results)
    }

    /// AWS-style rendering used in error causes: `$['a']['b']`, `$['items'][0]`, `$[*]`.
    ///
    /// ```
    /// use workflow_asl::path::Path;
    ///
    /// assert_eq!(Path::parse("$.items[0].name").unwrap().normalized(), "$['items'][0]['name']");
    /// ```
    pub fn normalized(&self) -> String {
        self.chain.render(0, self.chain.steps.len(), true)
    }

    /// Writes `result` into `input` at this reference path (ResultPath semantics): `$` replaces
    /// the input, missing objects on the way are created, an existing field is overwritten in
    /// place. Fails with `States.ResultPathMatchFailure` when the path does not fit the input.
    ///
    /// ```
    /// use serde_json::json;
    /// use workflow_asl::path::Path;
    ///
    /// let p = Path::parse("$.a.b").unwrap();
    /// assert_eq!(p.apply_result(json!({}), json!(1)).unwrap(), json!({"a": {"b": 1}}));
    /// // A path through a non-object cannot be applied.
    /// let err = p.apply_result(json!({"a": 1}), json!(1)).unwrap_err();
    /// assert_eq!(err.error, "States.ResultPathMatchFailure");
    /// ```
    pub fn apply_result(&self, mut input: Value, result: Value) -> Result<Value, Failure> {
        if self.root != Root::Input || !self.is_reference() {
            return Err(result_path_failure(self, &input));
        }
        let steps = &self.chain.steps;
        if steps.is_empty() {
            return Ok(result);
        }
        if !result_path_fits(steps, &input) {
            return Err(result_path_failure(self, &input));
        }
        let mut cur = &mut input;
        let last = steps.len() - 1;
        let mut result = Some(result);
        for (k, step) in steps.iter().enumerate() {
            match (step, cur) {
                (Step::Property(names), Value::Object(map)) => {
                    let name = &names[0];
                    if k == last {
                        map.insert(name.clone(), result.take().unwrap_or(Value::Null));
                        break;
                    }
                    cur = map
                        .entry(name.clone())
                        .or_insert_with(|| Value::Object(Map::new()));
                }
                (Step::Index(indexes), Value::Array(items)) => {
                    let i = effective_index(indexes[0], items.len());
                    let Some(slot) = i.and_then(|i| items.get_mut(i)) else {
                        break;
                    };
                    if k == last {
                        *slot = result.take().unwrap_or(Value::Null);
                        break;
                    }
                    cur = slot;
                }
                // `result_path_fits` checked every step against the input.
                _ => break,
            }
        }
        Ok(input)
    }
}

/// Checks, without changing anything, that a reference path can be written into `input`.
fn result_path_fits(steps: &[Step], input: &Value) -> bool {
    let mut cur = Some(input);
    for step in steps {
        match (step, cur) {
            // Created on the way: only names can follow.
            (Step::Property(_), None) => {}
            (Step::Property(names), Some(Value::Object(map))) => cur = map.get(&names[0]),
            (Step::Index(indexes), Some(Value::Array(items))) => {
                match effective_index(indexes[0], items.len()).and_then(|i| items.get(i)) {
                    Some(v) => cur = Some(v),
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    true
}

fn result_path_failure(path: &Path, input: &Value) -> Failure {
    Failure::new(
        names::RESULT_PATH_MATCH_FAILURE,
        format!(
            "Unable to apply ReferencePath {} to input {}",
            path.as_str(),
            java_json(input)
        ),
    )
}

/// Applies ResultPath: `None` (absent) means `$` (result replaces input); `Some(PathField::Null)`
/// discards the result (input kept); a reference path writes the result into the input, creating
/// missing objects. Fails with `States.ResultPathMatchFailure` when that is impossible (the cause
/// is `Unable to apply ReferencePath $.a.b to input {"a":1}`), and with `States.Runtime` when the
/// text is not a reference path (a definition the validator rejects).
///
/// ```
/// use serde_json::json;
/// use workflow_asl::model::PathField;
/// use workflow_asl::path::apply_result_path;
///
/// let input = json!({"id": 1});
/// assert_eq!(apply_result_path(input.clone(), None, json!("r")).unwrap(), json!("r"));
/// assert_eq!(apply_result_path(input.clone(), Some(&PathField::Null), json!("r")).unwrap(), input);
/// let at = PathField::Path("$.result".into());
/// assert_eq!(apply_result_path(input, Some(&at), json!("r")).unwrap(), json!({"id": 1, "result": "r"}));
/// ```
pub fn apply_result_path(
    input: Value,
    result_path: Option<&PathField>,
    result: Value,
) -> Result<Value, Failure> {
    match result_path {
        None => Ok(result),
        Some(PathField::Null) => Ok(input),
        Some(PathField::Path(text)) => match Path::parse(text) {
            Ok(path) => path.apply_result(input, result),
            Err(e) => Err(Failure::runtime(format!(
                "Invalid ResultPath '{text}': {e}"
            ))),
        },
    }
}

fn effective_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let e = if i < 0 { len + i } else { i };
    if (0..len).contains(&e) {
        usize::try_from(e).ok()
    } else {
        None
    }
}

/// Walks a definite chain of names and indexes. `None` when the chain has a step this fast path
/// does not handle (multi-name merge) or a miss that needs the full walker for its message.
fn fast_definite<'v>(
    chain: &Chain,
    root: &'v Value,
    strict: bool,
) -> Option<Result<&'v Value, Miss>> {
    let mut cur = root;
    let n = chain.steps.len();
    for (i, step) in chain.steps.iter().enumerate() {
        match step {
            Step::Property(names) if names.len() == 1 => match cur {
                Value::Object(map) => match map.get(&names[0]) {
                    Some(v) => cur = v,
                    None if i + 1 == n => {
                        return Some(Err(Miss::NoResults {
                            path: chain.render(0, n, true),
                        }))
                    }
                    None => {
                        return Some(Err(Miss::MissingProperty {
                            path: chain.render(0, i + 1, true),
                        }))
                    }
                },
                _ => return None,
            },
            Step::Index(indexes) => match cur {
                Value::Array(items) => match effective_index(indexes[0], items.len()) {
                    Some(k) => cur = &items[k],
                    None if strict => {
                        return Some(Err(Miss::NoResults {
                            path: chain.render(0, n, true),
                        }))
                    }
                    None => cur = &NULL,
                },
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(Ok(cur))
}

fn finish<'v>(chain: &Chain, mut results: Vec<Cow<'v, Value>>) -> Result<Selected<'v>, Miss> {
    if chain.definite {
        if results.is_empty() {
            Err(Miss::NoResults {
                path: chain.render(0, chain.steps.len(), true),
            })
        } else {
            Ok(Selected::One(results.swap_remove(0)))
        }
    } else {
        Ok(Selected::Many(results))
    }
}

/// The Java class Jayway reports for a (Jackson-unwrapped) value.
fn java_class(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::String(_) => "java.lang.String",
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                if i32::try_from(i).is_ok() {
                    "java.lang.Integer"
                } else {
                    "java.lang.Long"
                }
            } else if n.is_u64() {
                "java.math.BigInteger"
            } else {
                "java.lang.Double"
            }
        }
        Value::Array(_) => "com.fasterxml.jackson.databind.node.ArrayNode",
        Value::Object(_) => "com.fasterxml.jackson.databind.node.ObjectNode",
    }
}

/// `toString()` of the Java value Jayway holds: strings bare, containers as JSON.
fn java_to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => java_number(n),
        other => java_json(other),
    }
}

thread_local! {
    /// Steps taken by the evaluation running on this thread (reset by each evaluation; shared
    /// with the walkers of its filters), bounded by [`crate::limits::MAX_PATH_WORK`].
    static WORK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts one step of the current evaluation; an error once it passes the limit.
#[inline]
fn step_taken() -> Result<(), Miss> {
    WORK.with(|work| {
        let n = work.get() + 1;
        work.set(n);
        if n > crate::limits::MAX_PATH_WORK {
            Err(Miss::TooMuchWork)
        } else {
            Ok(())
        }
    })
}

struct Walker<'c, 'v> {
    chain: &'c Chain,
    /// The document `$` refers to inside filters.
    root: &'v Value,
    /// Index past the end selects nothing (instead of null).
    strict: bool,
    /// Jayway's `REQUIRE_PROPERTIES` (used by filter existence checks).
    require_properties: bool,
    results: Vec<Cow<'v, Value>>,
}

impl<'v> Walker<'_, 'v> {
    fn is_leaf(&self, i: usize) -> bool {
        i + 1 == self.chain.steps.len()
    }

    fn hit(&mut self, i: usize, v: Cow<'v, Value>) -> Result<(), Miss> {
        match v {
            Cow::Borrowed(b) => self.walk(i, b),
            Cow::Owned(o) => {
                // Only a leaf multi-name merge produces an owned value, and it is always last.
                self.results.push(Cow::Owned(o));
                Ok(())
            }
        }
    }

    fn walk(&mut self, i: usize, node: &'v Value) -> Result<(), Miss> {
        step_taken()?;
        let Some(step) = self.chain.steps.get(i) else {
            self.results.push(Cow::Borrowed(node));
            return Ok(());
        };
        let upstream_definite = self.chain.upstream_definite[i];
        match step {
            Step::Property(names) => {
                let Value::Object(map) = node else {
                    if upstream_definite {
                        let mut property = String::new();
                        step.fragment(&mut property);
                        return Err(Miss::NotAnObject {
                            property,
                            path: self.chain.render(0, i, true),
                            found: java_class(node).to_string(),
                        });
                    }
                    return Ok(());
                };
                if names.len() > 1 && self.is_leaf(i) {
                    let mut merged = Map::new();
                    for n in names {
                        match map.get(n) {
                            Some(v) => {
                                merged.insert(n.clone(), v.clone());
                            }
                            None if self.require_properties => {
                                return Err(Miss::MissingProperty {
                                    path: self.chain.render(0, i + 1, true),
                                })
                            }
                            None => {}
                        }
                    }
                    return self.hit(i + 1, Cow::Owned(Value::Object(merged)));
                }
                for n in names {
                    match map.get(n) {
                        Some(v) => self.walk(i + 1, v)?,
                        None => {
                            if self.is_leaf(i) {
                                if self.require_properties {
                                    return Err(Miss::NoResults {
                                        path: self.chain.render(0, i + 1, true),
                                    });
                                }
                            } else if self.chain.definite || self.require_properties {
                                return Err(Miss::MissingProperty {
                                    path: self.chain.render(0, i + 1, true),
                                });
                            }
                        }
                    }
                }
                Ok(())
            }
            Step::Index(indexes) => {
                let Some(items) = self.array_model(i, node)? else {
                    return Ok(());
                };
                for &k in indexes {
                    self.index(i, items, k)?;
                }
                Ok(())
            }
            Step::Slice(from, to) => {
                let Some(items) = self.array_model(i, node)? else {
                    return Ok(());
                };
                let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                let range: Option<(i64, i64)> = match (from, to) {
                    (Some(f), None) => {
                        let f = if *f < 0 { (len + f).max(0) } else { *f };
                        (len != 0 && f < len).then_some((f, len))
                    }
                    (None, Some(t)) => {
                        let t = if *t < 0 { len + t } else { *t };
                        (len != 0).then_some((0, t.min(len)))
                    }
                    (Some(f), Some(t)) => {
                        let t = (*t).min(len);
                        (*f < t && len != 0).then_some((*f, t))
                    }
                    (None, None) => None,
                };
                if let Some((a, b)) = range {
                    for k in a..b {
                        self.index(i, items, k)?;
                    }
                }
                Ok(())
            }
            Step::Wildcard => {
                match node {
                    Value::Object(map) => {
                        for v in map.values() {
                            self.walk(i + 1, v)?;
                        }
                    }
                    Value::Array(items) => {
                        for v in items {
                            self.walk(i + 1, v)?;
                        }
                    }
                    _ => {}
                }
                Ok(())
            }
            Step::Scan => self.scan(i, node),
            Step::Filter(filter) => match node {
                Value::Object(_) => {
                    if filter.accept(node, self.root) {
                        self.walk(i + 1, node)?;
                    }
                    Ok(())
                }
                Value::Array(items) => {
                    for v in items {
                        if filter.accept(v, self.root) {
                            self.walk(i + 1, v)?;
                        }
                    }
                    Ok(())
                }
                _ => {
                    if upstream_definite {
                        return Err(Miss::FilterOnPrimitive {
                            token: self.chain.render(i, self.chain.steps.len(), false),
                            context: java_to_string(node),
                        });
                    }
                    Ok(())
                }
            },
        }
    }

    /// Jayway's `checkArrayModel`: the array to index, `None` to skip, or the error.
    fn array_model(&self, i: usize, node: &'v Value) -> Result<Option<&'v Vec<Value>>, Miss> {
        match node {
            Value::Array(items) => Ok(Some(items)),
            _ if !self.chain.upstream_definite[i] => Ok(None),
            Value::Null => Err(Miss::NullArray {
                path: self.chain.render(0, i, true),
            }),
            other => Err(Miss::NotAnArray {
                token: self.chain.render(i, self.chain.steps.len(), false),
                context: java_to_string(other),
            }),
        }
    }

    fn index(&mut self, i: usize, items: &'v [Value], k: i64) -> Result<(), Miss> {
        match effective_index(k, items.len()) {
            Some(e) => self.walk(i + 1, &items[e]),
            None if self.strict => Ok(()),
            None => self.walk(i + 1, &NULL),
        }
    }

    /// `..`: applies step `i + 1` at `node` and at every value below it (pre-order).
    fn scan(&mut self, i: usize, node: &'v Value) -> Result<(), Miss> {
        step_taken()?;
        let next = i + 1;
        let Some(step) = self.chain.steps.get(next) else {
            return Ok(());
        };
        let matches = match step {
            Step::Property(names) => match node {
                Value::Object(map) => {
                    // A multi-name iteration deals with missing names itself.
                    !step.is_definite(self.is_leaf(next))
                        || names.iter().all(|n| map.contains_key(n))
                }
                _ => false,
            },
            Step::Index(_) | Step::Slice(..) => node.is_array(),
            Step::Wildcard => true,
            Step::Filter(filter) => filter.accept(node, self.root),
            Step::Scan => false,
        };
        match node {
            Value::Object(map) => {
                if matches {
                    self.walk(next, node)?;
                }
                for v in map.values() {
                    self.scan(i, v)?;
                }
            }
            Value::Array(items) => {
                if matches {
                    if self.is_leaf(next) {
                        self.walk(next, node)?;
                    } else {
                        // Jayway applies the step after the matched one to each element.
                        for v in items {
                            self.walk(next + 1, v)?;
                        }
                    }
                }
                for v in items {
                    self.scan(i, v)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

/// How deeply filters, parentheses and literals may nest (bounds the parser's recursion).
const MAX_NESTING: usize = 32;

/// The most steps one path may have (bounds the evaluator's recursion).
pub const MAX_STEPS: usize = 1000;

struct Parser<'a> {
    /// The trimmed text.
    s: &'a str,
    pos: usize,
    /// Offset of `s` in `original` (for error positions).
    offset: usize,
    original: &'a str,
    /// Filters this parser is inside of.
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.s[self.pos..].chars().nth(n)
    }

    fn bump(&mut self, c: char) {
        self.pos += c.len_utf8();
    }

    fn err(&self, at: usize, message: impl Into<String>) -> PathError {
        PathError::Syntax {
            text: self.original.to_string(),
            position: at + self.offset,
            message: message.into(),
        }
    }

    fn skip_blanks(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.bump(c);
            } else {
                break;
            }
        }
    }

    fn steps(&mut self) -> Result<Vec<Step>, PathError> {
        let mut steps = Vec::new();
        while let Some(c) = self.peek() {
            if steps.len() >= MAX_STEPS {
                return Err(self.err(
                    self.pos,
                    format!("a path may have at most {MAX_STEPS} steps"),
                ));
            }
            match c {
                '.' => {
                    if self.peek_at(1) == Some('.') {
                        self.pos += 2;
                        steps.push(Step::Scan);
                        match self.peek() {
                            None => return Err(self.err(self.pos, "a path must not end with '..'")),
                            Some('[') => steps.push(self.bracket()?),
                            Some('*') => {
                                self.pos += 1;
                                steps.push(Step::Wildcard);
                            }
                            Some('.') => {
                                return Err(self.err(self.pos, "unexpected '.' after '..'"))
                            }
                            Some(_) => steps.push(self.dot_name()?),
                        }
                    } else {
                        self.pos += 1;
                        match self.peek() {
                            None => return Err(self.err(self.pos, "a path must not end with '.'")),
                            Some('*') => {
                                self.pos += 1;
                                steps.push(Step::Wildcard);
                            }
                            // Jayway reads the token after a single '.' as it reads any
                            // token, so `$.[0]`, `$.a.['b']` and `$.a.[*]` are `$[0]`,
                            // `$.a['b']` and `$.a[*]` (PathCompiler.readDotToken calls
                            // readNextToken, json-path/JsonPath). AWS accepts them: its sample
                            // definitions use `"OutputPath": "$.[0]"`.
                            Some('[') => steps.push(self.bracket()?),
                            Some(_) => steps.push(self.dot_name()?),
                        }
                    }
                }
                '[' => steps.push(self.bracket()?),
                c => {
                    return Err(self.err(
                        self.pos,
                        format!("unexpected character '{c}'; expected '.' or '['"),
                    ))
                }
            }
        }
        Ok(steps)
    }

    /// A name after `.`: everything up to the next `.` or `[`.
    fn dot_name(&mut self) -> Result<Step, PathError> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            match c {
                '.' | '[' => break,
                c if c.is_whitespace() => {
                    return Err(self.err(
                        self.pos,
                        "a name with blanks must be written in brackets: ['my name']",
                    ))
                }
                '(' => {
                    return Err(self.err(
                        self.pos,
                        "JSONPath functions such as length() are not supported",
                    ))
                }
                c => self.bump(c),
            }
        }
        if self.pos == start {
            return Err(self.err(start, "empty name"));
        }
        Ok(Step::Property(vec![self.s[start..self.pos].to_string()]))
    }

    fn bracket(&mut self) -> Result<Step, PathError> {
        let open = self.pos;
        self.pos += 1; // '['
        self.skip_blanks();
        match self.peek() {
            None => Err(self.err(open, "'[' is not closed")),
            Some('*') => {
                self.pos += 1;
                self.skip_blanks();
                self.expect_close(open)?;
                Ok(Step::Wildcard)
            }
            Some(q @ ('\'' | '"')) => {
                let mut names = Vec::new();
                let mut quote = q;
                loop {
                    names.push(self.quoted(quote)?);
                    self.skip_blanks();
                    match self.peek() {
                        Some(']') => {
                            self.pos += 1;
                            break;
                        }
                        Some(',') => {
                            self.pos += 1;
                            self.skip_blanks();
                            match self.peek() {
                                Some(q @ ('\'' | '"')) => quote = q,
                                _ => {
                                    return Err(
                                        self.err(self.pos, "expected a quoted name after ','")
                                    )
                                }
                            }
                        }
                        _ => {
                            return Err(self.err(
                                self.pos,
                                "names in brackets must be separated by ',' and closed by ']'",
                            ))
                        }
                    }
                }
                Ok(Step::Property(names))
            }
            Some('?') => {
                self.pos += 1;
                self.skip_blanks();
                if self.peek() != Some('(') {
                    return Err(self.err(self.pos, "a filter is written [?(<condition>)]"));
                }
                let inner_start = self.pos + 1;
                let close = matching_paren(self.s, self.pos)
                    .ok_or_else(|| self.err(self.pos, "the filter's '(' is not closed"))?;
                let inner = &self.s[inner_start..close];
                self.pos = close + 1;
                self.skip_blanks();
                self.expect_close(open)?;
                if self.depth >= MAX_NESTING {
                    return Err(self.err(open, "filters are nested too deeply"));
                }
                let filter = FilterParser {
                    s: inner,
                    pos: 0,
                    base: inner_start + self.offset,
                    original: self.original,
                    depth: self.depth + 1,
                }
                .parse()?;
                Ok(Step::Filter(Box::new(filter)))
            }
            Some('(') => Err(self.err(
                self.pos,
                "script expressions [(...)] are not supported; use an index or a filter",
            )),
            Some(_) => {
                let start = self.pos;
                let end = self.s[start..]
                    .find(']')
                    .map(|e| start + e)
                    .ok_or_else(|| self.err(open, "'[' is not closed"))?;
                let body = self.s[start..end].trim();
                self.pos = end + 1;
                if let Some(bad) = body
                    .chars()
                    .find(|c| !(c.is_ascii_digit() || matches!(c, '-' | ':' | ',' | ' ')))
                {
                    return Err(self.err(
                        start,
                        format!("unexpected '{bad}' in brackets; expected an index, a slice, '*', a quoted name or a filter"),
                    ));
                }
                if body.contains(':') {
                    let mut parts = body.split(':');
                    let from = parse_opt_int(parts.next()).map_err(|m| self.err(start, m))?;
                    let to = parse_opt_int(parts.next()).map_err(|m| self.err(start, m))?;
                    if from.is_none() && to.is_none() {
                        return Err(self.err(start, "a slice needs a start or an end: [1:], [:2]"));
                    }
                    Ok(Step::Slice(from, to))
                } else {
                    let mut indexes = Vec::new();
                    for part in body.split(',') {
                        let part = part.trim();
                        let n: i64 = part.parse().map_err(|_| {
                            self.err(start, format!("'{part}' is not an array index"))
                        })?;
                        indexes.push(n);
                    }
                    Ok(Step::Index(indexes))
                }
            }
        }
    }

    fn expect_close(&mut self, open: usize) -> Result<(), PathError> {
        if self.peek() == Some(']') {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err(open, "expected ']'"))
        }
    }

    /// A quoted name; `\` before the quote character or a backslash escapes it, any other
    /// backslash is kept as written.
    fn quoted(&mut self, quote: char) -> Result<String, PathError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err(start, "the quoted name is not closed")),
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) if c == quote || c == '\\' => {
                            out.push(c);
                            self.bump(c);
                        }
                        _ => out.push('\\'),
                    }
                }
                Some(c) if c == quote => {
                    self.bump(c);
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.bump(c);
                }
            }
        }
    }
}

fn parse_opt_int(part: Option<&str>) -> Result<Option<i64>, String> {
    match part.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => p
            .parse()
            .map(Some)
            .map_err(|_| format!("'{p}' is not a slice bound")),
    }
}

/// The index of the `)` matching the `(` at `open`, skipping quoted text and regex literals.
fn matching_paren(s: &str, open: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            q @ (b'\'' | b'"') => {
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
    None
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists { path: SubPath, should_exist: bool },
    Compare(Operand, RelOp, Operand),
}

/// A path inside a filter: relative to the current item (`@`) or to the document (`$`).
#[derive(Clone, Debug)]
struct SubPath {
    absolute: bool,
    chain: Chain,
}

#[derive(Clone, Debug)]
enum Operand {
    Path(SubPath),
    Literal(Value),
    Pattern(regex::Regex),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RelOp {
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Regex,
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Contains,
    Size,
    Empty,
}

/// An operand's value at evaluation time (Jayway's `ValueNode`).
enum Val<'v> {
    Undefined,
    Json(Cow<'v, Value>),
    Pattern(&'v regex::Regex),
}

impl SubPath {
    fn walker<'c, 'v>(&'c self, root: &'v Value, require: bool) -> Walker<'c, 'v> {
        Walker {
            chain: &self.chain,
            root,
            strict: false,
            require_properties: require,
            results: Vec::new(),
        }
    }

    fn exists(&self, item: &Value, root: &Value) -> bool {
        let doc = if self.absolute { root } else { item };
        let mut w = self.walker(root, true);
        match w.walk(0, doc) {
            Err(_) => false,
            Ok(()) => !(self.chain.definite && w.results.is_empty()),
        }
    }

    fn value<'v>(&self, item: &'v Value, root: &'v Value) -> Val<'v> {
        let doc = if self.absolute { root } else { item };
        let mut w = self.walker(root, false);
        if w.walk(0, doc).is_err() {
            return Val::Undefined;
        }
        match finish(&self.chain, w.results) {
            Ok(Selected::One(v)) => Val::Json(v),
            Ok(many @ Selected::Many(_)) => Val::Json(Cow::Owned(many.into_value())),
            Err(_) => Val::Undefined,
        }
    }
}

impl Filter {
    fn accept(&self, item: &Value, root: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.accept(item, root) || b.accept(item, root),
            Filter::And(a, b) => a.accept(item, root) && b.accept(item, root),
            Filter::Not(f) => !f.accept(item, root),
            Filter::Exists { path, should_exist } => path.exists(item, root) == *should_exist,
            Filter::Compare(left, op, right) => {
                let l = operand_value(left, item, root);
                let r = operand_value(right, item, root);
                compare(&l, *op, &r)
            }
        }
    }
}

fn operand_value<'v>(op: &'v Operand, item: &'v Value, root: &'v Value) -> Val<'v> {
    match op {
        Operand::Path(p) => p.value(item, root),
        Operand::Literal(v) => Val::Json(Cow::Borrowed(v)),
        Operand::Pattern(r) => Val::Pattern(r),
    }
}

fn compare(l: &Val, op: RelOp, r: &Val) -> bool {
    match op {
        RelOp::Eq => val_eq(l, r),
        RelOp::Ne => !val_eq(l, r),
        RelOp::StrictEq => same_kind(l, r) && val_eq(l, r),
        RelOp::StrictNe => !(same_kind(l, r) && val_eq(l, r)),
        RelOp::Lt => order(l, r) == Some(Ordering::Less),
        RelOp::Le => matches!(order(l, r), Some(Ordering::Less | Ordering::Equal)),
        RelOp::Gt => order(l, r) == Some(Ordering::Greater),
        RelOp::Ge => matches!(order(l, r), Some(Ordering::Greater | Ordering::Equal)),
        RelOp::Regex => match (l, r) {
            (Val::Pattern(p), Val::Json(v)) | (Val::Json(v), Val::Pattern(p)) => match &**v {
                Value::String(s) => p.is_match(s),
                Value::Array(items) => items
                    .iter()
                    .any(|i| matches!(i, Value::String(s) if p.is_match(s))),
                _ => false,
            },
            _ => false,
        },
        RelOp::In => match (l, r) {
            (Val::Json(v), Val::Json(list)) => match &**list {
                Value::Array(items) => items.iter().any(|i| json_node_eq(v, i)),
                _ => false,
            },
            _ => false,
        },
        RelOp::Nin => !compare(l, RelOp::In, r),
        RelOp::Contains => match (l, r) {
            (Val::Json(a), Val::Json(b)) => match (&**a, &**b) {
                (Value::String(s), Value::String(t)) => s.contains(t.as_str()),
                (Value::Array(items), _) => items.iter().any(|i| json_node_eq(b, i)),
                _ => false,
            },
            _ => false,
        },
        RelOp::SubsetOf | RelOp::AnyOf | RelOp::NoneOf => match (l, r) {
            (Val::Json(a), Val::Json(b)) => match (&**a, &**b) {
                (Value::Array(xs), Value::Array(ys)) => {
                    let inside = |x: &Value| ys.iter().any(|y| json_node_eq(x, y));
                    match op {
                        RelOp::SubsetOf => xs.iter().all(inside),
                        RelOp::AnyOf => xs.iter().any(inside),
                        _ => !xs.iter().any(inside),
                    }
                }
                _ => false,
            },
            _ => false,
        },
        RelOp::Size => match (l, r) {
            (Val::Json(a), Val::Json(b)) => {
                let len = match &**a {
                    Value::String(s) => s.encode_utf16().count(),
                    Value::Array(items) => items.len(),
                    Value::Object(map) => map.len(),
                    _ => return false,
                };
                match &**b {
                    Value::Number(n) => n.as_u64() == Some(len as u64),
                    _ => false,
                }
            }
            _ => false,
        },
        RelOp::Empty => match (l, r) {
            (Val::Json(a), Val::Json(b)) => {
                let empty = match &**a {
                    Value::String(s) => s.is_empty(),
                    Value::Array(items) => items.is_empty(),
                    Value::Object(map) => map.is_empty(),
                    _ => return false,
                };
                matches!(&**b, Value::Bool(want) if *want == empty)
            }
            _ => false,
        },
    }
}

fn same_kind(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (Val::Json(a), Val::Json(b)) => {
            std::mem::discriminant(&**a) == std::mem::discriminant(&**b)
        }
        _ => false,
    }
}

/// Jayway's `==` between two value nodes: numbers and strings compare across types (`1 == '1'`),
/// containers compare structurally, an undefined value equals nothing.
fn val_eq(l: &Val, r: &Val) -> bool {
    match (l, r) {
        (Val::Json(a), Val::Json(b)) => json_node_eq(a, b),
        (Val::Pattern(a), Val::Pattern(b)) => a.as_str() == b.as_str(),
        _ => false,
    }
}

fn json_node_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::Number(x), Value::String(s)) => {
            parse_decimal(s).is_some_and(|y| num_cmp(x, &y) == Some(Ordering::Equal))
        }
        (Value::String(s), Value::Number(y)) => *s == java_number(y),
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => a == b,
        _ => a == b,
    }
}

fn parse_decimal(s: &str) -> Option<Number> {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Some(Number::from(i));
    }
    t.parse::<f64>().ok().and_then(Number::from_f64)
}

fn num_cmp(a: &Number, b: &Number) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return Some(x.cmp(&y));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

fn order(l: &Val, r: &Val) -> Option<Ordering> {
    match (l, r) {
        (Val::Json(a), Val::Json(b)) => match (&**a, &**b) {
            (Value::Number(x), Value::Number(y)) => num_cmp(x, y),
            // Java's String.compareTo: UTF-16 code units.
            (Value::String(x), Value::String(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
            _ => None,
        },
        _ => None,
    }
}

struct FilterParser<'a> {
    /// The text between `[?(` and `)]`.
    s: &'a str,
    pos: usize,
    /// Offset of `s` in the original path text.
    base: usize,
    original: &'a str,
    /// Nesting of filters, parentheses and negations so far.
    depth: usize,
}

impl FilterParser<'_> {
    fn err(&self, at: usize, message: impl Into<String>) -> PathError {
        PathError::Syntax {
            text: self.original.to_string(),
            position: self.base + at,
            message: message.into(),
        }
    }

    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_blanks(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        self.skip_blanks();
        if self.rest().starts_with(token) {
            self.pos += token.len();
            true
        } else {
            false
        }
    }

    fn parse(mut self) -> Result<Filter, PathError> {
        let f = self.or()?;
        self.skip_blanks();
        if self.pos < self.s.len() {
            return Err(self.err(self.pos, format!("unexpected '{}' in filter", self.rest())));
        }
        Ok(f)
    }

    fn or(&mut self) -> Result<Filter, PathError> {
        let mut left = self.and()?;
        while self.eat("||") {
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, PathError> {
        let mut left = self.unary()?;
        while self.eat("&&") {
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, PathError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err(self.pos, "the filter is nested too deeply"));
        }
        self.depth += 1;
        let result = self.unary_inner();
        self.depth -= 1;
        result
    }

    fn unary_inner(&mut self) -> Result<Filter, PathError> {
        self.skip_blanks();
        if self.peek() == Some('!') {
            let save = self.pos;
            self.pos += 1;
            self.skip_blanks();
            if !matches!(self.peek(), Some('@' | '$')) {
                let inner = self.unary()?;
                return Ok(Filter::Not(Box::new(inner)));
            }
            self.pos = save;
        }
        if self.peek() == Some('(') {
            self.pos += 1;
            let inner = self.or()?;
            if !self.eat(")") {
                return Err(self.err(self.pos, "expected ')' in filter"));
            }
            return Ok(inner);
        }
        self.expression()
    }

    fn expression(&mut self) -> Result<Filter, PathError> {
        let (left, negated) = self.operand()?;
        self.skip_blanks();
        match self.relop() {
            Some(op) => {
                let (right, _) = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
            None => match left {
                Operand::Path(path) => Ok(Filter::Exists {
                    path,
                    should_exist: !negated,
                }),
                _ => Err(self.err(
                    self.pos,
                    "a filter condition must compare two values or test a path (@.name)",
                )),
            },
        }
    }

    fn relop(&mut self) -> Option<RelOp> {
        const SYMBOLS: &[(&str, RelOp)] = &[
            ("===", RelOp::StrictEq),
            ("!==", RelOp::StrictNe),
            ("==", RelOp::Eq),
            ("!=", RelOp::Ne),
            ("<=", RelOp::Le),
            (">=", RelOp::Ge),
            ("=~", RelOp::Regex),
            ("<", RelOp::Lt),
            (">", RelOp::Gt),
        ];
        for (sym, op) in SYMBOLS {
            if self.rest().starts_with(sym) {
                self.pos += sym.len();
                return Some(*op);
            }
        }
        let word: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let op = match word.to_ascii_lowercase().as_str() {
            "in" => RelOp::In,
            "nin" => RelOp::Nin,
            "subsetof" => RelOp::SubsetOf,
            "anyof" => RelOp::AnyOf,
            "noneof" => RelOp::NoneOf,
            "contains" => RelOp::Contains,
            "size" => RelOp::Size,
            "empty" => RelOp::Empty,
            _ => return None,
        };
        self.pos += word.len();
        Some(op)
    }

    /// An operand, and whether it was a path written with a leading `!`.
    fn operand(&mut self) -> Result<(Operand, bool), PathError> {
        self.skip_blanks();
        let start = self.pos;
        let mut negated = false;
        if self.peek() == Some('!') {
            negated = true;
            self.pos += 1;
            self.skip_blanks();
        }
        match self.peek() {
            Some(c @ ('@' | '$')) => {
                let path_start = self.pos;
                self.pos += 1;
                if c == '$' && self.peek() == Some('$') {
                    return Err(self.err(path_start, "'$$' cannot be used inside a filter"));
                }
                let bytes = self.s.as_bytes();
                while self.pos < bytes.len() {
                    match bytes[self.pos] {
                        b'[' => {
                            let close = matching_bracket(self.s, self.pos)
                                .ok_or_else(|| self.err(self.pos, "'[' is not closed"))?;
                            self.pos = close + 1;
                        }
                        b'<' | b'>' | b'=' | b'~' | b'!' | b' ' | b')' | b'&' | b'|' | b'\t'
                        | b'\n' | b'\r' => break,
                        _ => self.pos += 1,
                    }
                }
                let text = &self.s[path_start + 1..self.pos];
                let mut p = Parser {
                    s: text,
                    pos: 0,
                    offset: self.base + path_start + 1,
                    original: self.original,
                    depth: self.depth,
                };
                let steps = p.steps()?;
                Ok((
                    Operand::Path(SubPath {
                        absolute: c == '$',
                        chain: Chain::new(steps),
                    }),
                    negated,
                ))
            }
            _ if negated => Err(self.err(start, "'!' must be followed by a path or '('")),
            Some('/') => self.pattern().map(|p| (p, false)),
            Some(_) => {
                let mut lit = LiteralParser {
                    s: self.s,
                    pos: self.pos,
                    depth: 0,
                };
                match lit.value() {
                    Some(v) => {
                        self.pos = lit.pos;
                        Ok((Operand::Literal(v), false))
                    }
                    None => Err(self.err(self.pos, "expected a value, a path or a /regex/")),
                }
            }
            None => Err(self.err(self.pos, "expected a value or a path")),
        }
    }

    fn pattern(&mut self) -> Result<Operand, PathError> {
        let start = self.pos;
        self.pos += 1;
        let mut body = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err(start, "the /regex/ is not closed")),
                Some('\\') if self.rest()[1..].starts_with('/') => {
                    body.push('/');
                    self.pos += 2;
                }
                Some('/') => {
                    self.pos += 1;
                    break;
                }
                Some(c) => {
                    body.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
        let flags: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        self.pos += flags.len();
        let inline: String = flags.chars().filter(|c| "imsx".contains(*c)).collect();
        let full = if inline.is_empty() {
            format!("^(?:{body})$")
        } else {
            format!("(?{inline})^(?:{body})$")
        };
        regex::Regex::new(&full)
            .map(Operand::Pattern)
            .map_err(|e| self.err(start, format!("invalid regular expression: {e}")))
    }
}

/// The index of the `]` matching the `[` at `open`, skipping quoted text.
fn matching_bracket(s: &str, open: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            q @ (b'\'' | b'"') => {
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
    None
}

/// A permissive JSON literal (as Jayway's filters accept): single- or double-quoted strings,
/// numbers, `true`/`false`/`null`, arrays and objects.
struct LiteralParser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

impl LiteralParser<'_> {
    fn rest(&self) -> &str {
        &self.s[self.pos..]
    }

    fn blanks(&mut self) {
        let t = self.rest().trim_start();
        self.pos = self.s.len() - t.len();
    }

    fn value(&mut self) -> Option<Value> {
        if self.depth >= MAX_NESTING {
            return None;
        }
        self.depth += 1;
        let v = self.value_inner();
        self.depth -= 1;
        v
    }

    fn value_inner(&mut self) -> Option<Value> {
        self.blanks();
        let c = self.rest().chars().next()?;
        match c {
            '\'' | '"' => self.string(c).map(Value::String),
            '[' => {
                self.pos += 1;
                let mut items = Vec::new();
                self.blanks();
                if self.rest().starts_with(']') {
                    self.pos += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.value()?);
                    self.blanks();
                    if self.rest().starts_with(',') {
                        self.pos += 1;
                    } else if self.rest().starts_with(']') {
                        self.pos += 1;
                        return Some(Value::Array(items));
                    } else {
                        return None;
                    }
                }
            }
            '{' => {
                self.pos += 1;
                let mut map = Map::new();
                self.blanks();
                if self.rest().starts_with('}') {
                    self.pos += 1;
                    return Some(Value::Object(map));
                }
                loop {
                    self.blanks();
                    let q = self.rest().chars().next()?;
                    if q != '"' && q != '\'' {
                        return None;
                    }
                    let key = self.string(q)?;
                    self.blanks();
                    if !self.rest().starts_with(':') {
                        return None;
                    }
                    self.pos += 1;
                    let v = self.value()?;
                    map.insert(key, v);
                    self.blanks();
                    if self.rest().starts_with(',') {
                        self.pos += 1;
                    } else if self.rest().starts_with('}') {
                        self.pos += 1;
                        return Some(Value::Object(map));
                    } else {
                        return None;
                    }
                }
            }
            '-' | '0'..='9' => {
                let len = self
                    .rest()
                    .find(|c: char| {
                        !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
                    })
                    .unwrap_or(self.rest().len());
                let text = &self.rest()[..len];
                let n = if let Ok(i) = text.parse::<i64>() {
                    Number::from(i)
                } else {
                    Number::from_f64(text.parse::<f64>().ok()?)?
                };
                self.pos += len;
                Some(Value::Number(n))
            }
            _ => {
                for (word, v) in [
                    ("true", Value::Bool(true)),
                    ("false", Value::Bool(false)),
                    ("null", Value::Null),
                ] {
                    if self.rest().starts_with(word) {
                        self.pos += word.len();
                        return Some(v);
                    }
                }
                None
            }
        }
    }

    fn string(&mut self, quote: char) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let (_, e) = chars.next()?;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'b' => out.push('\u{8}'),
                        'f' => out.push('\u{c}'),
                        'u' => {
                            let hex: String =
                                (0..4).filter_map(|_| chars.next().map(|p| p.1)).collect();
                            out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                        }
                        other => out.push(other),
                    }
                }
                c if c == quote => {
                    self.pos += i + 1;
                    return Some(out);
                }
                c => out.push(c),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "store": {
                "book": [
                    {"category": "reference", "author": "Nigel Rees", "title": "Sayings", "price": 8.95},
                    {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword", "price": 12.99},
                    {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553", "price": 8.99},
                    {"category": "fiction", "author": "J. R. R. Tolkien", "title": "LOTR", "isbn": "0-395", "price": 22.99}
                ],
                "bicycle": {"color": "red", "price": 19.95}
            },
            "expensive": 10,
            "n": null,
            "s": "str",
            "arr": [1, 2, 3, 4, 5],
            "list": [{"keep": true}, {"keep": false}, {"other": 1}],
            "d": {"x": {"a": [1, 2]}},
            "Test\\\"\"Name\"": "escaped"
        })
    }

    fn context() -> Value {
        json!({"Execution": {"Id": "arn:exec", "Input": {"k": 1}}, "Map": {"Item": {"Index": 2}}})
    }

    fn vars() -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("myVar".into(), json!({"a": [10, 20]}));
        m
    }

    fn eval(path: &str) -> Result<Value, Miss> {
        let input = doc();
        let ctx = context();
        let vars = vars();
        let env = Env::new(&input, &ctx, &vars);
        Path::parse(path)
            .unwrap_or_else(|e| panic!("{path}: {e}"))
            .evaluate(&env)
            .map(Selected::into_value)
    }

    #[test]
    fn find_agrees_with_evaluate_when_it_finds() {
        let input = doc();
        let ctx = context();
        let vars = vars();
        let env = Env::new(&input, &ctx, &vars);
        // (path, whether `find` resolves it)
        let cases = [
            ("$", true),
            ("$.expensive", true),
            ("$.n", true),
            ("$.store.book[1].title", true),
            ("$.store.book[-1].isbn", true),
            ("$.arr[4]", true),
            ("$['s']", true),
            ("$$.Execution.Id", true),
            ("$myVar.a[1]", true),
            ("$.arr[9]", false),
            ("$.missing", false),
            ("$.s.x", false),
            ("$.arr.x", false),
            ("$.store.book[*].title", false),
            ("$..price", false),
            ("$['s','n']", false),
            ("$undefined", false),
        ];
        for (text, found) in cases {
            let path = Path::parse(text).unwrap();
            let got = path.find(&env);
            assert_eq!(got.is_some(), found, "{text}");
            if let Some(v) = got {
                assert_eq!(Ok(v.clone()), path.evaluate(&env).map(Selected::into_value));
                assert_eq!(
                    Ok(v.clone()),
                    path.evaluate_strict(&env).map(Selected::into_value)
                );
            }
        }
    }

    #[test]
    fn find_mut_names_the_slot_apply_result_writes() {
        for (text, found) in [
            ("$", true),
            ("$.d.x", true),
            ("$.arr[-1]", true),
            ("$.store.book[0].price", true),
            ("$.missing", false),
            ("$.arr[9]", false),
            ("$$.Execution", false),
            ("$.arr[*]", false),
        ] {
            let path = Path::parse(text).unwrap();
            let mut input = doc();
            let Some(slot) = path.find_mut(&mut input) else {
                assert!(!found, "{text}");
                continue;
            };
            assert!(found, "{text}");
            *slot = json!("new");
            assert_eq!(Ok(input), path.apply_result(doc(), json!("new")), "{text}");
        }
    }

    #[test]
    fn selects_like_jayway() {
        let cases: Vec<(&str, Value)> = vec![
            ("$.store.bicycle.color", json!("red")),
            ("$['store']['bicycle']['color']", json!("red")),
            ("$[\"expensive\"]", json!(10)),
            ("$.store.book[0].title", json!("Sayings")),
            ("$.store.book[-1].title", json!("LOTR")),
            ("$.arr[10]", json!(null)),
            ("$.arr[-10]", json!(null)),
            ("$.n", json!(null)),
            (
                "$.store.book[*].author",
                json!([
                    "Nigel Rees",
                    "Evelyn Waugh",
                    "Herman Melville",
                    "J. R. R. Tolkien"
                ]),
            ),
            ("$.store.book.*.price", json!([8.95, 12.99, 8.99, 22.99])),
            (
                "$..author",
                json!([
                    "Nigel Rees",
                    "Evelyn Waugh",
                    "Herman Melville",
                    "J. R. R. Tolkien"
                ]),
            ),
            ("$.store..price", json!([8.95, 12.99, 8.99, 22.99, 19.95])),
            (
                "$.store.book[?(@.isbn)].title",
                json!(["Moby Dick", "LOTR"]),
            ),
            (
                "$.store.book[?(!@.isbn)].title",
                json!(["Sayings", "Sword"]),
            ),
            (
                "$.store.book[?(@.price < 10)].title",
                json!(["Sayings", "Moby Dick"]),
            ),
            (
                "$.store.book[?(@.price < $.expensive)].title",
                json!(["Sayings", "Moby Dick"]),
            ),
            (
                "$.store.book[?(@.category == 'fiction' && @.price > 20)].title",
                json!(["LOTR"]),
            ),
            (
                "$.store.book[?(@.category == 'reference' || @.price > 20)].title",
                json!(["Sayings", "LOTR"]),
            ),
            (
                "$.store.book[?(!(@.category == 'fiction'))].title",
                json!(["Sayings"]),
            ),
            (
                "$.store.book[?(@.author =~ /.*melville/i)].title",
                json!(["Moby Dick"]),
            ),
            (
                "$.store.book[?(@.category in ['reference', \"x\"])].title",
                json!(["Sayings"]),
            ),
            (
                "$.store.book[?(@.category nin ['fiction'])].title",
                json!(["Sayings"]),
            ),
            ("$.store.book[?(@.title size 4)].title", json!(["LOTR"])),
            (
                "$.store.book[?(@.price == '8.95')].title",
                json!(["Sayings"]),
            ),
            ("$.store.book[?(@.price === '8.95')].title", json!([])),
            (
                "$.store.book[?(@.isbn empty false)].title",
                json!(["Moby Dick", "LOTR"]),
            ),
            ("$.arr[?(@ > 3)]", json!([4, 5])),
            ("$.arr[1:3]", json!([2, 3])),
            ("$.arr[-2:]", json!([4, 5])),
            ("$.arr[:2]", json!([1, 2])),
            ("$.arr[:-3]", json!([1, 2])),
            ("$.arr[0,2]", json!([1, 3])),
            ("$.arr[1:3:2]", json!([2, 3])),
            ("$.arr[10:]", json!([])),
            (
                "$.store['bicycle','nope']",
                json!({"bicycle": {"color": "red", "price": 19.95}}),
            ),
            ("$.missing[*]", json!([])),
            ("$.missing[1:]", json!([])),
            ("$.item.items[*].itemValue", json!([])),
            ("$.s.*", json!([])),
            // Step Functions Local, recorded by a third party.
            (
                "$.list[?(@.keep)]",
                json!([{"keep": true}, {"keep": false}]),
            ),
            ("$.list[?(@.keep == true)]", json!([{"keep": true}])),
            ("$.d..a", json!([[1, 2]])),
            ("$.d..a[*]", json!([1, 2])),
            // The escape case recorded against AWS: the backslash before `"` is part of the name.
            ("$['Test\\\"\"Name\"']", json!("escaped")),
            ("$$.Execution.Id", json!("arn:exec")),
            ("$$.Map.Item.Index", json!(2)),
            ("$$", context()),
            ("$myVar.a[1]", json!(20)),
            ("$myVar", json!({"a": [10, 20]})),
            ("  $.s  ", json!("str")),
        ];
        for (path, want) in cases {
            assert_eq!(eval(path), Ok(want), "{path}");
        }
        assert_eq!(eval("$"), Ok(doc()));
    }

    #[test]
    fn misses_carry_jayway_messages() {
        let cases: &[(&str, &str)] = &[
            ("$.nope", "No results for path: $['nope']"),
            ("$.no.such.path", "Missing property in path $['no']"),
            ("$.store.book[0].nope", "No results for path: $['store']['book'][0]['nope']"),
            (
                "$.s.x",
                "Expected to find an object with property ['x'] in path $['s'] but found 'java.lang.String'. \
                 This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JacksonJsonNodeJsonProvider'.",
            ),
            (
                "$.expensive[0].x",
                "Filter: [0]['x'] can only be applied to arrays. Current context is: 10",
            ),
            ("$.n[0]", "The path $['n'] is null"),
            (
                "$.s[?(@.a)]",
                "Filter: [?] can not be applied to primitives. Current context is: str",
            ),
            ("$undefined.x", "The variable '$undefined' is not defined"),
            ("$$.Execution.Nope", "No results for path: $['Execution']['Nope']"),
        ];
        for (path, want) in cases {
            let miss = eval(path).expect_err(path);
            assert_eq!(miss.to_string(), *want, "{path}");
        }
    }

    #[test]
    fn invalid_path_cause_matches_aws() {
        let input = json!({"int-literal": 0});
        let ctx = json!({});
        let vars = Map::new();
        let env = Env::new(&input, &ctx, &vars);
        let path = Path::parse("$.NoSuchInputPath").unwrap();
        let miss = path.evaluate(&env).unwrap_err();
        assert_eq!(
            miss.invalid_path_cause(&path),
            "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
        );
        let path = Path::parse("$.no.such.result.path").unwrap();
        let miss = path.evaluate(&env).unwrap_err();
        assert_eq!(
            miss.invalid_path_cause(&path),
            "Invalid path '$.no.such.result.path' : Missing property in path $['no']"
        );
        assert!(miss.is_not_found());
    }

    #[test]
    fn strict_evaluation_misses_past_the_end() {
        let input = json!({"items": [1, 2]});
        let ctx = json!({});
        let vars = Map::new();
        let env = Env::new(&input, &ctx, &vars);
        let p = Path::parse("$.items[5]").unwrap();
        assert_eq!(p.select(&env), Some(Value::Null));
        assert!(p.evaluate_strict(&env).is_err());
        let p = Path::parse("$.items[5].x").unwrap();
        assert!(p.evaluate_strict(&env).is_err());
    }

    /// Issue 12: `$..*..*..*` on a 1 KB input allocated until the process aborted. Each
    /// evaluation is bounded now, and the work counter does not leak into the next one.
    #[test]
    fn explosive_paths_stop_at_the_work_limit() {
        // 60 levels of objects, each with 4 numbers beside its child: about 2 KB.
        let mut input = json!({"v": 0});
        for i in 1..60 {
            input = json!({"a": i, "b": i, "c": i, "v": i, "child": input});
        }
        assert!(input.to_string().len() < 4000);
        let ctx = json!({});
        let vars = Map::new();
        let env = Env::new(&input, &ctx, &vars);
        for text in [
            "$..*..*..*..*",
            "$..*..*..*..*..*..*",
            "$..[?(@..*)]..*..*..*",
        ] {
            let path = Path::parse(text).unwrap();
            let Err(miss) = path.evaluate(&env) else {
                panic!("{text} selected its matches");
            };
            assert_eq!(miss, Miss::TooMuchWork, "{text}");
            assert!(!miss.is_not_found());
            assert!(miss.to_string().contains("1000000 steps"), "{miss}");
        }
        // A path that fits is unaffected, right after one that did not.
        let all = Path::parse("$..v").unwrap().evaluate(&env).unwrap();
        assert_eq!(all.into_value().as_array().map(Vec::len), Some(60));
        let once = Path::parse("$..*").unwrap().evaluate(&env).unwrap();
        assert!(matches!(once, Selected::Many(v) if v.len() == 5 * 59 + 1));
    }

    #[test]
    fn select_wraps_evaluate() {
        let input = json!({"a": {"b": 1}});
        let ctx = json!({});
        let vars = Map::new();
        let env = Env::new(&input, &ctx, &vars);
        assert_eq!(Path::parse("$.a.b").unwrap().select(&env), Some(json!(1)));
        assert_eq!(Path::parse("$.a.c").unwrap().select(&env), None);
        assert_eq!(Path::parse("$.a.*").unwrap().select(&env), Some(json!([1])));
        assert_eq!(Path::parse("$.x[*]").unwrap().select(&env), Some(json!([])));
    }

    #[test]
    fn definite_and_reference() {
        let cases: &[(&str, bool, bool)] = &[
            ("$", true, true),
            ("$.a.b[0]", true, true),
            ("$['a'][-1]", true, true),
            ("$$.Execution.Input", true, true),
            ("$v.x", true, true),
            ("$['a','b']", true, false),
            ("$['a','b'].c", false, false),
            ("$.a[*]", false, false),
            ("$.a[0,1]", false, false),
            ("$.a[1:]", false, false),
            ("$..a", false, false),
            ("$.a[?(@.b)]", false, false),
        ];
        for (text, definite, reference) in cases {
            let p = Path::parse(text).unwrap();
            assert_eq!(p.is_definite(), *definite, "{text} definite");
            assert_eq!(p.is_reference(), *reference, "{text} reference");
        }
    }

    #[test]
    fn roots() {
        assert_eq!(Path::parse("$.a").unwrap().root(), PathRoot::Input);
        assert_eq!(Path::parse("$$.a").unwrap().root(), PathRoot::Context);
        assert_eq!(
            Path::parse("$x_1.a").unwrap().root(),
            PathRoot::Variable("x_1")
        );
        assert_eq!(Path::parse("$[0]").unwrap().root(), PathRoot::Input);
    }

    #[test]
    fn normalized_like_jayway() {
        let cases: &[(&str, &str)] = &[
            ("$", "$"),
            ("$.a.b[0]", "$['a']['b'][0]"),
            ("$['a','b']", "$['a','b']"),
            ("$.a[*]..b[1:]", "$['a'][*]..['b'][1:]"),
            ("$.a[:-1][0,2]", "$['a'][:-1][0,2]"),
            ("$.a[?(@.x)]", "$['a'][?]"),
            ("$.*", "$[*]"),
            ("$.[0]", "$[0]"),
            ("$.a.[0].b", "$['a'][0]['b']"),
            ("$.a.['b'].[*]", "$['a']['b'][*]"),
        ];
        for (text, want) in cases {
            assert_eq!(Path::parse(text).unwrap().normalized(), *want, "{text}");
        }
        assert_eq!(Path::parse("$.a").unwrap().as_str(), "$.a");
    }

    /// Jayway reads the token after a single `.` like any token (`PathCompiler.readDotToken`
    /// calls `readNextToken`, github.com/json-path/JsonPath), so a bracket may follow a dot:
    /// `$.[0]` is `$[0]`. AWS accepts these paths (issue 9: five AWS sample definitions use
    /// `$.[0]`-style paths; asl-validator issue #47 reports `"OutputPath": "$.[0]"` running on AWS).
    #[test]
    fn a_bracket_may_follow_a_dot_as_in_jayway() {
        let cases: Vec<(&str, &str)> = vec![
            ("$.store.['bicycle'].color", "$.store['bicycle'].color"),
            ("$.store.book.[1].title", "$.store.book[1].title"),
            ("$.store.book.[-1:].price", "$.store.book[-1:].price"),
            ("$.store.book.[*].price", "$.store.book[*].price"),
            ("$.store.book.[0,2].title", "$.store.book[0,2].title"),
            (
                "$.store.book.[?(@.isbn)].title",
                "$.store.book[?(@.isbn)].title",
            ),
            ("$..book.[0].title", "$..book[0].title"),
            ("$.d.x.a.[1]", "$.d.x.a[1]"),
        ];
        let input = json!([{"first": true}, 2]);
        let ctx = Value::Null;
        let vars = Map::new();
        let env = Env::new(&input, &ctx, &vars);
        let dotted = Path::parse("$.[0]").expect("Jayway accepts $.[0]");
        assert_eq!(dotted.select(&env), Some(json!({"first": true})));
        assert!(dotted.is_definite() && dotted.is_reference());
        for (dotted, plain) in cases {
            let got = eval(dotted);
            assert!(got.is_ok(), "{dotted}: {got:?}");
            assert_eq!(got, eval(plain), "{dotted} vs {plain}");
        }
    }

    #[test]
    fn rejects_malformed_paths() {
        let cases: &[&str] = &[
            "",
            "  ",
            "a.b",
            "$.",
            "$..",
            "$.a b",
            "$[",
            "$['a'",
            "$['a' 'b']",
            "$[(@.length-1)]",
            "$.a.length()",
            "$[abc]",
            "$[:]",
            "$[1,]",
            "$.a[?(@.x ==)]",
            "$.a[?(@.x]",
            "$.a[?(@.x =~ /(/)]",
            "$.[",
            "$...a",
            "$.a.",
            "$a-b",
            "$.a]",
        ];
        for text in cases {
            let r = Path::parse(text);
            // `$.a]` is a name in Jayway; every other case is an error.
            if *text == "$.a]" {
                assert!(r.is_ok());
                continue;
            }
            let e = r.expect_err(text);
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(
            Path::parse("$.a b").unwrap_err(),
            PathError::Syntax {
                text: "$.a b".into(),
                position: 3,
                message: "a name with blanks must be written in brackets: ['my name']".into()
            }
        );
        assert_eq!(
            Path::parse("a").unwrap_err(),
            PathError::MissingRoot { text: "a".into() }
        );
    }

    #[test]
    fn absurd_nesting_is_an_error_not_a_crash() {
        let n = 100_000;
        let texts = [
            format!("$[?({}@.a{})]", "(".repeat(n), ")".repeat(n)),
            format!("$[?({}@.a)]", "!".repeat(n)),
            format!("$[?(@.a in {}1{})]", "[".repeat(n), "]".repeat(n)),
            format!("$.a{}", "[?(@.b".repeat(200) + &")]".repeat(200)),
        ];
        for text in &texts {
            assert!(Path::parse(text).is_err(), "{}", &text[..40]);
        }
        assert!(Path::parse(&format!("${}[*]", ".a".repeat(5000))).is_err());
        let ok = format!("$[?({}@.a{})]", "(".repeat(20), ")".repeat(20));
        assert!(Path::parse(&ok).is_ok());
    }

    #[test]
    fn result_path_writes_like_aws() {
        let r = json!({"r": 1});
        let path = |t: &str| PathField::Path(t.into());
        let cases: Vec<(Value, Option<PathField>, Value)> = vec![
            (json!({"x": 1}), None, r.clone()),
            (json!({"x": 1}), Some(PathField::Null), json!({"x": 1})),
            (json!({"x": 1}), Some(path("$")), r.clone()),
            (
                json!({"x": 1}),
                Some(path("$.a")),
                json!({"x": 1, "a": {"r": 1}}),
            ),
            (
                json!({}),
                Some(path("$.a.b.c")),
                json!({"a": {"b": {"c": {"r": 1}}}}),
            ),
            (
                json!({"x": 1, "y": 2}),
                Some(path("$.x")),
                json!({"x": {"r": 1}, "y": 2}),
            ),
            (
                json!({"a": {"k": 0}}),
                Some(path("$.a.b")),
                json!({"a": {"k": 0, "b": {"r": 1}}}),
            ),
            (
                json!([{"a": 1}, {"id": 7}, {"c": 3}, 4]),
                Some(path("$[1].payload")),
                json!([{"a": 1}, {"id": 7, "payload": {"r": 1}}, {"c": 3}, 4]),
            ),
            (
                json!({"l": [1, 2]}),
                Some(path("$.l[-1]")),
                json!({"l": [1, {"r": 1}]}),
            ),
        ];
        for (input, rp, want) in cases {
            let got = apply_result_path(input.clone(), rp.as_ref(), r.clone());
            assert_eq!(got, Ok(want.clone()), "{input} {rp:?}");
            if let Ok(got) = got {
                // Key order matters for output text: existing keys stay in place.
                assert_eq!(got.to_string(), want.to_string());
            }
        }
    }

    #[test]
    fn result_path_failures() {
        let r = json!(1);
        let cases: &[(Value, &str, &str, &str)] = &[
            (json!({"a": 1}), "$.a.b", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $.a.b to input {\"a\":1}"),
            (json!("just-a-string"), "$.x", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $.x to input \"just-a-string\""),
            (json!([1, 2]), "$[10].p", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $[10].p to input [1,2]"),
            (json!({}), "$.a[0]", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $.a[0] to input {}"),
            (json!({"a": null}), "$.a.b", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $.a.b to input {\"a\":null}"),
            (json!({}), "$.a[*]", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $.a[*] to input {}"),
            (json!({}), "$$.a", names::RESULT_PATH_MATCH_FAILURE, "Unable to apply ReferencePath $$.a to input {}"),
            (json!({}), "$.", names::RUNTIME, "Invalid ResultPath '$.': invalid JSONPath '$.' at position 2: a path must not end with '.'"),
        ];
        for (input, text, error, cause) in cases {
            let f = apply_result_path(
                input.clone(),
                Some(&PathField::Path((*text).into())),
                r.clone(),
            )
            .expect_err(text);
            assert_eq!(f.error, *error, "{text}");
            assert_eq!(f.cause, *cause, "{text}");
        }
    }
}
