//! The Amazon States Language data model.
//!
//! Every field of the current specification has a typed home here, in both query languages
//! (JSONPath and JSONata). Payload templates (`Parameters`, `Result`, `Arguments`, …) stay
//! `serde_json::Value`, exactly as written. Numbers keep their JSON representation
//! (`serde_json::Number`) so that `1` stays `1` and `1.0` stays `1.0` when re-emitted.
//!
//! Fields the parser does not recognise, or that have the wrong JSON type, are kept in the
//! `extra` map of the object they were found in: they are reported as diagnostics by
//! [`crate::parse`] and written back by [`crate::emit`], so nothing is ever dropped.

use indexmap::IndexMap;
use serde_json::{Map, Number, Value};

/// Fields kept verbatim because the parser did not recognise them (see the module docs).
///
/// ```
/// // Fields the parser does not know are kept verbatim (and reported).
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}, "x-owner": "team-a"}"#).unwrap();
/// let machine = parsed.machine.unwrap();
/// assert_eq!(machine.extra["x-owner"], "team-a");
/// ```
pub type Extra = Map<String, Value>;

/// The query language of a machine or state.
///
/// ```
/// use workflow_asl::model::QueryLanguage;
///
/// let machine = workflow_asl::load(r#"{"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#).unwrap();
/// assert_eq!(machine.query_language, Some(QueryLanguage::Jsonata));
/// assert_eq!(QueryLanguage::Jsonata.as_str(), "JSONata");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QueryLanguage {
    /// `"JSONPath"`, the default.
    JsonPath,
    /// `"JSONata"`.
    Jsonata,
}

impl QueryLanguage {
    /// The spelling used in ASL.
    ///
    /// ```
    /// assert_eq!(workflow_asl::model::QueryLanguage::JsonPath.as_str(), "JSONPath");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            QueryLanguage::JsonPath => "JSONPath",
            QueryLanguage::Jsonata => "JSONata",
        }
    }
}

/// A whole state machine (the top level of a definition).
///
/// ```
/// use workflow_asl::model::StateKind;
/// use workflow_asl::StateMachine;
///
/// let machine: StateMachine = workflow_asl::load(r#"{
///   "Comment": "Routes orders.",
///   "StartAt": "Check",
///   "States": {
///     "Check": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}], "Default": "Done"},
///     "Review": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Review",
///                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
///     "Done": {"Type": "Succeed"}
///   }
/// }"#).expect("a valid definition");
/// assert_eq!(machine.comment.as_deref(), Some("Routes orders."));
/// assert_eq!(machine.start_at, "Check");
/// assert_eq!(machine.states.keys().collect::<Vec<_>>(), ["Check", "Review", "Done"]);
/// assert!(matches!(machine.states["Review"].kind, StateKind::Task(_)));
/// assert_eq!(machine.states["Check"].successors(), ["Review", "Done"]);
/// // Emitting gives the definition back.
/// let text = workflow_asl::emit::machine_to_string_pretty(&machine);
/// assert_eq!(workflow_asl::load(&text).expect("still valid"), machine);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct StateMachine {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`: the name of the first state.
    pub start_at: String,
    /// `States`, in the order they were written.
    pub states: IndexMap<String, State>,
    /// `Version` (`"1.0"`).
    pub version: Option<String>,
    /// `TimeoutSeconds` for the whole execution.
    pub timeout_seconds: Option<Number>,
    /// `QueryLanguage`: the default for every state.
    pub query_language: Option<QueryLanguage>,
    /// Unrecognised fields, kept verbatim.
    pub extra: Extra,
}

/// A nested state machine: a Parallel branch or a Map item processor (`ItemProcessor` or the legacy
/// `Iterator`).
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Parallel(p) = &machine.states["Both"].kind else { unreachable!() };
/// assert_eq!(p.branches[0].start_at, "B");
/// # let StateKind::Map(m) = &machine.states["Each"].kind else { unreachable!() };
/// assert_eq!(m.processor.as_ref().unwrap().states.len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// `Comment`.
    pub comment: Option<String>,
    /// `StartAt`.
    pub start_at: String,
    /// `States`.
    pub states: IndexMap<String, State>,
    /// `ProcessorConfig` (Map processors only), verbatim.
    pub processor_config: Option<Value>,
    /// `QueryLanguage`.
    pub query_language: Option<QueryLanguage>,
    /// Unrecognised fields, kept verbatim.
    pub extra: Extra,
}

/// How a state continues: `Next` or `End`.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let t = machine.states["Each"].transition().unwrap();
/// assert_eq!((t.next.as_deref(), t.end), (None, Some(true)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// `Next`.
    pub next: Option<String>,
    /// `End`.
    pub end: Option<bool>,
}

impl Transition {
    /// The next state, or `None` when the state ends its scope.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// assert_eq!(machine.states["Pause"].transition().and_then(Transition::target), Some("Both"));
    /// ```
    pub fn target(&self) -> Option<&str> {
        self.next.as_deref()
    }
}

/// A path-valued field that may also be `null` (`InputPath`, `OutputPath`, `ResultPath`).
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// assert_eq!(machine.states["Charge"].common.input_path, Some(PathField::Path("$.order".into())));
/// # let StateKind::Pass(p) = &machine.states["Note"].kind else { unreachable!() };
/// assert_eq!(p.result_path, Some(PathField::Null)); // "ResultPath": null
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathField {
    /// `null`: for InputPath/OutputPath the value becomes `{}`; for ResultPath the result is discarded.
    Null,
    /// A path expression.
    Path(String),
}

/// Fields that every state (or most states) may carry.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let common = &machine.states["Charge"].common;
/// assert_eq!(common.input_path, Some(PathField::Path("$.order".into())));
/// assert!(common.output_path.is_none() && common.comment.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Common {
    /// `Comment`.
    pub comment: Option<String>,
    /// `QueryLanguage` of this state, overriding the machine's.
    pub query_language: Option<QueryLanguage>,
    /// `InputPath` (JSONPath).
    pub input_path: Option<PathField>,
    /// `OutputPath` (JSONPath).
    pub output_path: Option<PathField>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// `Assign`: variables to set.
    pub assign: Option<Value>,
    /// Unrecognised fields, kept verbatim.
    pub extra: Extra,
}

/// A state: its common fields and its type-specific body.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let state = &machine.states["Route"];
/// assert_eq!(state.kind.type_name(), "Choice");
/// assert_eq!(state.successors(), ["Pause", "Both"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Fields shared by the state types.
    pub common: Common,
    /// The type and its own fields.
    pub kind: StateKind,
}

/// The eight state types.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let types: Vec<_> = machine.states.values().map(|s| s.kind.type_name()).collect();
/// assert_eq!(types, ["Task", "Pass", "Choice", "Wait", "Parallel", "Map", "Fail"]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum StateKind {
    /// `"Type": "Task"`.
    Task(Box<Task>),
    /// `"Type": "Pass"`.
    Pass(Pass),
    /// `"Type": "Choice"`.
    Choice(Choice),
    /// `"Type": "Wait"`.
    Wait(Wait),
    /// `"Type": "Succeed"`.
    Succeed,
    /// `"Type": "Fail"`.
    Fail(Fail),
    /// `"Type": "Parallel"`.
    Parallel(Box<Parallel>),
    /// `"Type": "Map"`.
    Map(Box<MapState>),
}

impl StateKind {
    /// The `Type` as written in ASL.
    ///
    /// ```
    /// let machine = workflow_asl::load(r#"{
    ///   "Comment": "Routes orders.",
    ///   "StartAt": "Check",
    ///   "States": {
    ///     "Check": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}], "Default": "Done"},
    ///     "Review": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Review",
    ///                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
    ///     "Done": {"Type": "Succeed"}
    ///   }
    /// }"#).expect("valid");
    /// assert_eq!(machine.states["Check"].kind.type_name(), "Choice");
    /// ```
    pub fn type_name(&self) -> &'static str {
        match self {
            StateKind::Task(_) => "Task",
            StateKind::Pass(_) => "Pass",
            StateKind::Choice(_) => "Choice",
            StateKind::Wait(_) => "Wait",
            StateKind::Succeed => "Succeed",
            StateKind::Fail(_) => "Fail",
            StateKind::Parallel(_) => "Parallel",
            StateKind::Map(_) => "Map",
        }
    }
}

impl State {
    /// `Next`/`End` for the state types that have them.
    ///
    /// ```
    /// let machine = workflow_asl::load(r#"{
    ///   "Comment": "Routes orders.",
    ///   "StartAt": "Check",
    ///   "States": {
    ///     "Check": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}], "Default": "Done"},
    ///     "Review": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Review",
    ///                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
    ///     "Done": {"Type": "Succeed"}
    ///   }
    /// }"#).expect("valid");
    /// let next = machine.states["Review"].transition().and_then(|t| t.target());
    /// assert_eq!(next, Some("Done"));
    /// assert!(machine.states["Check"].transition().is_none()); // a Choice has no Next
    /// ```
    pub fn transition(&self) -> Option<&Transition> {
        match &self.kind {
            StateKind::Task(t) => Some(&t.transition),
            StateKind::Pass(p) => Some(&p.transition),
            StateKind::Wait(w) => Some(&w.transition),
            StateKind::Parallel(p) => Some(&p.transition),
            StateKind::Map(m) => Some(&m.transition),
            StateKind::Choice(_) | StateKind::Succeed | StateKind::Fail(_) => None,
        }
    }

    /// Retry and Catch for the state types that have them.
    ///
    /// ```
    /// let machine = workflow_asl::load(r#"{
    ///   "Comment": "Routes orders.",
    ///   "StartAt": "Check",
    ///   "States": {
    ///     "Check": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}], "Default": "Done"},
    ///     "Review": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Review",
    ///                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
    ///     "Done": {"Type": "Succeed"}
    ///   }
    /// }"#).expect("valid");
    /// let errors = machine.states["Review"].error_handling().expect("a Task");
    /// assert_eq!(errors.catch[0].error_equals, ["States.ALL"]);
    /// assert!(errors.retry.is_empty());
    /// ```
    pub fn error_handling(&self) -> Option<&ErrorHandling> {
        match &self.kind {
            StateKind::Task(t) => Some(&t.errors),
            StateKind::Parallel(p) => Some(&p.errors),
            StateKind::Map(m) => Some(&m.errors),
            _ => None,
        }
    }

    /// Every state this state may transition to, in the order written: `Next`, Choice targets and
    /// `Default`, Catch targets.
    ///
    /// ```
    /// let machine = workflow_asl::load(r#"{
    ///   "Comment": "Routes orders.",
    ///   "StartAt": "Check",
    ///   "States": {
    ///     "Check": {"Type": "Choice", "Choices": [{"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"}], "Default": "Done"},
    ///     "Review": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Review",
    ///                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Done"}], "Next": "Done"},
    ///     "Done": {"Type": "Succeed"}
    ///   }
    /// }"#).expect("valid");
    /// assert_eq!(machine.states["Review"].successors(), ["Done", "Done"]); // Next, then the Catch
    /// assert!(machine.states["Done"].successors().is_empty());
    /// ```
    pub fn successors(&self) -> Vec<&str> {
        let mut out = Vec::new();
        if let Some(t) = self.transition().and_then(Transition::target) {
            out.push(t);
        }
        if let StateKind::Choice(c) = &self.kind {
            out.extend(c.choices.iter().filter_map(|r| r.next.as_deref()));
            out.extend(c.default.as_deref());
        }
        if let Some(e) = self.error_handling() {
            out.extend(e.catch.iter().filter_map(|c| c.next.as_deref()));
        }
        out
    }
}

/// The result-shaping fields of Task, Parallel and Map.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Task(t) = &machine.states["Charge"].kind else { unreachable!() };
/// assert_eq!(t.result.result_selector, Some(serde_json::json!({"id.$": "$.Id"})));
/// assert_eq!(t.result.result_path, Some(PathField::Path("$.receipt".into())));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResultFields {
    /// `Parameters` (JSONPath payload template).
    pub parameters: Option<Value>,
    /// `Arguments` (JSONata).
    pub arguments: Option<Value>,
    /// `ResultSelector` (JSONPath payload template).
    pub result_selector: Option<Value>,
    /// `ResultPath`.
    pub result_path: Option<PathField>,
}

/// `Retry` and `Catch`.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let errors = machine.states["Charge"].error_handling().unwrap();
/// assert_eq!((errors.retry.len(), errors.catch.len()), (1, 1));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ErrorHandling {
    /// `Retry`, in order.
    pub retry: Vec<Retrier>,
    /// `Catch`, in order.
    pub catch: Vec<Catcher>,
    /// Whether `Retry` was written (an empty array is kept as written).
    pub has_retry: bool,
    /// Whether `Catch` was written.
    pub has_catch: bool,
}

/// One element of `Retry`.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let r = &machine.states["Charge"].error_handling().unwrap().retry[0];
/// assert_eq!(r.error_equals, ["Throttled"]);
/// assert_eq!((r.interval(), r.attempts(), r.backoff(), r.max_delay(), r.full_jitter()), (2.0, 3, 1.5, Some(10.0), true));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: Option<Number>,
    /// `MaxAttempts` (default 3).
    pub max_attempts: Option<Number>,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: Option<Number>,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<Number>,
    /// `JitterStrategy` (`FULL` or `NONE`).
    pub jitter_strategy: Option<String>,
    /// `Comment`.
    pub comment: Option<String>,
    /// Unrecognised fields.
    pub extra: Extra,
}

impl Retrier {
    /// `IntervalSeconds`, defaulting to 1.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// assert_eq!(machine.states["Charge"].error_handling().unwrap().retry[0].interval(), 2.0);
    /// ```
    pub fn interval(&self) -> f64 {
        self.interval_seconds
            .as_ref()
            .and_then(Number::as_f64)
            .unwrap_or(1.0)
    }
    /// `MaxAttempts`, defaulting to 3.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// assert_eq!(machine.states["Charge"].error_handling().unwrap().retry[0].attempts(), 3); // the default
    /// ```
    pub fn attempts(&self) -> u64 {
        self.max_attempts
            .as_ref()
            .and_then(Number::as_u64)
            .unwrap_or(3)
    }
    /// `BackoffRate`, defaulting to 2.0.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// assert_eq!(machine.states["Charge"].error_handling().unwrap().retry[0].backoff(), 1.5);
    /// ```
    pub fn backoff(&self) -> f64 {
        self.backoff_rate
            .as_ref()
            .and_then(Number::as_f64)
            .unwrap_or(2.0)
    }
    /// `MaxDelaySeconds`, if set.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// assert_eq!(machine.states["Charge"].error_handling().unwrap().retry[0].max_delay(), Some(10.0));
    /// ```
    pub fn max_delay(&self) -> Option<f64> {
        self.max_delay_seconds.as_ref().and_then(Number::as_f64)
    }
    /// Whether `JitterStrategy` is `FULL`.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// assert!(machine.states["Charge"].error_handling().unwrap().retry[0].full_jitter());
    /// ```
    pub fn full_jitter(&self) -> bool {
        self.jitter_strategy.as_deref() == Some("FULL")
    }
}

/// One element of `Catch`.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// let c = &machine.states["Charge"].error_handling().unwrap().catch[0];
/// assert_eq!((c.error_equals.as_slice(), c.next.as_deref()), (&["States.ALL".to_string()][..], Some("Failed")));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<String>,
    /// `Next`.
    pub next: Option<String>,
    /// `ResultPath` (JSONPath).
    pub result_path: Option<PathField>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// `Assign`.
    pub assign: Option<Value>,
    /// `Comment`.
    pub comment: Option<String>,
    /// Unrecognised fields.
    pub extra: Extra,
}

/// A Task state.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Task(t) = &machine.states["Charge"].kind else { unreachable!() };
/// assert_eq!(t.resource, "arn:aws:lambda:us-east-1:123456789012:function:Charge");
/// assert_eq!(t.timeout_seconds, Some(serde_json::json!(30)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// `Resource`.
    pub resource: String,
    /// `Next`/`End`.
    pub transition: Transition,
    /// Parameters/Arguments/ResultSelector/ResultPath.
    pub result: ResultFields,
    /// Retry/Catch.
    pub errors: ErrorHandling,
    /// `TimeoutSeconds` (a number, or a JSONata string).
    pub timeout_seconds: Option<Value>,
    /// `TimeoutSecondsPath`.
    pub timeout_seconds_path: Option<String>,
    /// `HeartbeatSeconds` (a number, or a JSONata string).
    pub heartbeat_seconds: Option<Value>,
    /// `HeartbeatSecondsPath`.
    pub heartbeat_seconds_path: Option<String>,
    /// `Credentials`, verbatim.
    pub credentials: Option<Value>,
}

/// A Pass state.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Pass(p) = &machine.states["Note"].kind else { unreachable!() };
/// assert_eq!(p.result, Some(serde_json::json!({"ok": true})));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// `Next`/`End`.
    pub transition: Transition,
    /// `Result`.
    pub result: Option<Value>,
    /// `Parameters`.
    pub parameters: Option<Value>,
    /// `ResultPath`.
    pub result_path: Option<PathField>,
}

/// A Choice state.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Choice(c) = &machine.states["Route"].kind else { unreachable!() };
/// assert_eq!((c.choices.len(), c.default.as_deref()), (1, Some("Both")));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// `Choices`, in order.
    pub choices: Vec<ChoiceRule>,
    /// `Default`.
    pub default: Option<String>,
}

/// A Choice rule: a top-level element of `Choices` (which has `Next`) or a nested rule inside
/// `And`/`Or`/`Not` (which has none).
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Choice(c) = &machine.states["Route"].kind else { unreachable!() };
/// let rule = &c.choices[0];
/// assert_eq!(rule.next.as_deref(), Some("Pause"));
/// assert!(matches!(rule.condition, Condition::Not(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRule {
    /// What the rule tests.
    pub condition: Condition,
    /// `Next` (top-level rules only).
    pub next: Option<String>,
    /// `Comment`.
    pub comment: Option<String>,
    /// `Assign`.
    pub assign: Option<Value>,
    /// `Output` (JSONata).
    pub output: Option<Value>,
    /// Unrecognised fields.
    pub extra: Extra,
}

/// The test a Choice rule performs.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Choice(c) = &machine.states["Route"].kind else { unreachable!() };
/// let Condition::Not(inner) = &c.choices[0].condition else { unreachable!() };
/// let Condition::Compare { variable, op, operand } = &inner.condition else { unreachable!() };
/// assert_eq!((variable.as_str(), *op, operand), ("$.vip", Operator::BooleanEquals, &serde_json::json!(true)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `And`: all nested rules hold.
    And(Vec<ChoiceRule>),
    /// `Or`: any nested rule holds.
    Or(Vec<ChoiceRule>),
    /// `Not`: the nested rule does not hold.
    Not(Box<ChoiceRule>),
    /// `Variable` with one comparison operator.
    Compare {
        /// `Variable`: the path to test.
        variable: String,
        /// The operator.
        op: Operator,
        /// Its operand, as written (a literal, or a path for the `…Path` operators).
        operand: Value,
    },
    /// `Condition` (JSONata): an expression string or a boolean.
    Jsonata(Value),
    /// No recognisable test (reported by the parser); `Variable` is kept if present.
    Missing {
        /// `Variable`, if written.
        variable: Option<String>,
    },
}

macro_rules! operators {
    ($($variant:ident => $name:literal, $operand:ident;)*) => {
        /// A Choice comparison operator.
        ///
        /// ```
        /// use workflow_asl::model::Operator;
        ///
        /// assert_eq!(Operator::from_name("NumericGreaterThan"), Some(Operator::NumericGreaterThan));
        /// assert_eq!(Operator::ALL.len(), 39);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operator {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Operator {
            /// Every operator, in specification order.
            pub const ALL: &'static [Operator] = &[$(Operator::$variant),*];

            /// The name as written in ASL.
            ///
            /// ```
            /// assert_eq!(workflow_asl::model::Operator::IsPresent.as_str(), "IsPresent");
            /// ```
            pub fn as_str(self) -> &'static str {
                match self { $(Operator::$variant => $name,)* }
            }

            /// The operator with this ASL name.
            ///
            /// ```
            /// use workflow_asl::model::Operator;
            /// assert_eq!(Operator::from_name("StringMatches"), Some(Operator::StringMatches));
            /// assert_eq!(Operator::from_name("Matches"), None);
            /// ```
            pub fn from_name(name: &str) -> Option<Operator> {
                match name { $($name => Some(Operator::$variant),)* _ => None }
            }

            /// What JSON type the operand must have.
            ///
            /// ```
            /// use workflow_asl::model::{OperandKind, Operator};
            /// assert_eq!(Operator::TimestampEquals.operand(), OperandKind::Timestamp);
            /// ```
            pub fn operand(self) -> OperandKind {
                match self { $(Operator::$variant => OperandKind::$operand,)* }
            }
        }
    };
}

/// The JSON type an operator's operand must have.
///
/// ```
/// use workflow_asl::model::{OperandKind, Operator};
///
/// assert_eq!(Operator::NumericLessThan.operand(), OperandKind::Number);
/// assert_eq!(Operator::StringEqualsPath.operand(), OperandKind::Path);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperandKind {
    /// A string.
    String,
    /// A number.
    Number,
    /// A boolean.
    Boolean,
    /// A string holding an RFC 3339 timestamp.
    Timestamp,
    /// A path (the `…Path` operators).
    Path,
}

operators! {
    StringEquals => "StringEquals", String;
    StringEqualsPath => "StringEqualsPath", Path;
    StringLessThan => "StringLessThan", String;
    StringLessThanPath => "StringLessThanPath", Path;
    StringGreaterThan => "StringGreaterThan", String;
    StringGreaterThanPath => "StringGreaterThanPath", Path;
    StringLessThanEquals => "StringLessThanEquals", String;
    StringLessThanEqualsPath => "StringLessThanEqualsPath", Path;
    StringGreaterThanEquals => "StringGreaterThanEquals", String;
    StringGreaterThanEqualsPath => "StringGreaterThanEqualsPath", Path;
    StringMatches => "StringMatches", String;
    NumericEquals => "NumericEquals", Number;
    NumericEqualsPath => "NumericEqualsPath", Path;
    NumericLessThan => "NumericLessThan", Number;
    NumericLessThanPath => "NumericLessThanPath", Path;
    NumericGreaterThan => "NumericGreaterThan", Number;
    NumericGreaterThanPath => "NumericGreaterThanPath", Path;
    NumericLessThanEquals => "NumericLessThanEquals", Number;
    NumericLessThanEqualsPath => "NumericLessThanEqualsPath", Path;
    NumericGreaterThanEquals => "NumericGreaterThanEquals", Number;
    NumericGreaterThanEqualsPath => "NumericGreaterThanEqualsPath", Path;
    BooleanEquals => "BooleanEquals", Boolean;
    BooleanEqualsPath => "BooleanEqualsPath", Path;
    TimestampEquals => "TimestampEquals", Timestamp;
    TimestampEqualsPath => "TimestampEqualsPath", Path;
    TimestampLessThan => "TimestampLessThan", Timestamp;
    TimestampLessThanPath => "TimestampLessThanPath", Path;
    TimestampGreaterThan => "TimestampGreaterThan", Timestamp;
    TimestampGreaterThanPath => "TimestampGreaterThanPath", Path;
    TimestampLessThanEquals => "TimestampLessThanEquals", Timestamp;
    TimestampLessThanEqualsPath => "TimestampLessThanEqualsPath", Path;
    TimestampGreaterThanEquals => "TimestampGreaterThanEquals", Timestamp;
    TimestampGreaterThanEqualsPath => "TimestampGreaterThanEqualsPath", Path;
    IsNull => "IsNull", Boolean;
    IsPresent => "IsPresent", Boolean;
    IsNumeric => "IsNumeric", Boolean;
    IsString => "IsString", Boolean;
    IsBoolean => "IsBoolean", Boolean;
    IsTimestamp => "IsTimestamp", Boolean;
}

/// A Wait state: exactly one of its four fields.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Wait(w) = &machine.states["Pause"].kind else { unreachable!() };
/// assert_eq!(w.seconds, Some(serde_json::json!(5)));
/// assert!(w.timestamp.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    /// `Next`/`End`.
    pub transition: Transition,
    /// `Seconds` (a number, or a JSONata string).
    pub seconds: Option<Value>,
    /// `Timestamp` (an RFC 3339 string, or a JSONata string).
    pub timestamp: Option<String>,
    /// `SecondsPath`.
    pub seconds_path: Option<String>,
    /// `TimestampPath`.
    pub timestamp_path: Option<String>,
}

/// A Fail state.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Fail(f) = &machine.states["Failed"].kind else { unreachable!() };
/// assert_eq!(f.error.as_deref(), Some("PaymentFailed"));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Fail {
    /// `Error`.
    pub error: Option<String>,
    /// `ErrorPath`.
    pub error_path: Option<String>,
    /// `Cause`.
    pub cause: Option<String>,
    /// `CausePath`.
    pub cause_path: Option<String>,
}

/// A Parallel state.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Parallel(p) = &machine.states["Both"].kind else { unreachable!() };
/// assert_eq!(p.branches.len(), 1);
/// assert_eq!(p.transition.target(), Some("Each"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Parallel {
    /// `Branches`.
    pub branches: Vec<Branch>,
    /// `Next`/`End`.
    pub transition: Transition,
    /// Parameters/Arguments/ResultSelector/ResultPath.
    pub result: ResultFields,
    /// Retry/Catch.
    pub errors: ErrorHandling,
}

/// Which key held a Map's item processor.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Map(m) = &machine.states["Each"].kind else { unreachable!() };
/// assert_eq!(m.processor_key, ProcessorKey::ItemProcessor);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessorKey {
    /// `ItemProcessor` (current).
    ItemProcessor,
    /// `Iterator` (legacy).
    Iterator,
}

/// A Map state.
///
/// ```
/// # use workflow_asl::model::*;
/// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
/// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
/// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
/// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
/// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
/// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
/// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
/// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
/// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
/// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
/// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
/// # let StateKind::Map(m) = &machine.states["Each"].kind else { unreachable!() };
/// assert_eq!(m.mode(), "INLINE");
/// assert_eq!(m.items_path.as_deref(), Some("$.items"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct MapState {
    /// `ItemProcessor` or `Iterator`.
    pub processor: Option<Branch>,
    /// Which key held the processor.
    pub processor_key: ProcessorKey,
    /// `Next`/`End`.
    pub transition: Transition,
    /// Parameters (legacy item selector)/Arguments/ResultSelector/ResultPath.
    pub result: ResultFields,
    /// Retry/Catch.
    pub errors: ErrorHandling,
    /// `ItemsPath`.
    pub items_path: Option<String>,
    /// `Items` (JSONata: an array or an expression).
    pub items: Option<Value>,
    /// `ItemSelector`.
    pub item_selector: Option<Value>,
    /// `ItemReader`, verbatim.
    pub item_reader: Option<Value>,
    /// `ItemBatcher`, verbatim.
    pub item_batcher: Option<Value>,
    /// `ResultWriter`, verbatim.
    pub result_writer: Option<Value>,
    /// `MaxConcurrency` (a number, or a JSONata string).
    pub max_concurrency: Option<Value>,
    /// `MaxConcurrencyPath`.
    pub max_concurrency_path: Option<String>,
    /// `ToleratedFailurePercentage`.
    pub tolerated_failure_percentage: Option<Value>,
    /// `ToleratedFailurePercentagePath`.
    pub tolerated_failure_percentage_path: Option<String>,
    /// `ToleratedFailureCount`.
    pub tolerated_failure_count: Option<Value>,
    /// `ToleratedFailureCountPath`.
    pub tolerated_failure_count_path: Option<String>,
    /// `Label`.
    pub label: Option<String>,
}

impl MapState {
    /// `ProcessorConfig.Mode`, `INLINE` when absent.
    ///
    /// ```
    /// # use workflow_asl::model::*;
    /// # let machine = workflow_asl::load(r#"{"StartAt": "Charge", "States": {
    /// #   "Charge": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Charge",
    /// #     "InputPath": "$.order", "ResultSelector": {"id.$": "$.Id"}, "ResultPath": "$.receipt", "TimeoutSeconds": 30,
    /// #     "Retry": [{"ErrorEquals": ["Throttled"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 10, "JitterStrategy": "FULL"}],
    /// #     "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Failed"}], "Next": "Note"},
    /// #   "Note": {"Type": "Pass", "Result": {"ok": true}, "ResultPath": null, "Next": "Route"},
    /// #   "Route": {"Type": "Choice", "Choices": [{"Not": {"Variable": "$.vip", "BooleanEquals": true}, "Next": "Pause"}], "Default": "Both"},
    /// #   "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Both"},
    /// #   "Both": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "Each"},
    /// #   "Each": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}, "End": true},
    /// #   "Failed": {"Type": "Fail", "Error": "PaymentFailed", "Cause": "see $.error"}}}"#).expect("valid");
    /// # let StateKind::Map(m) = &machine.states["Each"].kind else { unreachable!() };
    /// assert_eq!(m.mode(), "INLINE"); // no ProcessorConfig
    /// ```
    pub fn mode(&self) -> &str {
        self.processor
            .as_ref()
            .and_then(|p| p.processor_config.as_ref())
            .and_then(|c| c.get("Mode"))
            .and_then(Value::as_str)
            .unwrap_or("INLINE")
    }
}

impl StateMachine {
    /// The effective query language of a state in this machine.
    ///
    /// ```
    /// use workflow_asl::model::QueryLanguage;
    ///
    /// let machine = workflow_asl::load(r#"{"StartAt": "A", "States": {
    ///   "A": {"Type": "Pass", "Next": "B"},
    ///   "B": {"Type": "Pass", "QueryLanguage": "JSONata", "End": true}}}"#).expect("valid");
    /// assert_eq!(machine.language_of(&machine.states["A"]), QueryLanguage::JsonPath);
    /// assert_eq!(machine.language_of(&machine.states["B"]), QueryLanguage::Jsonata);
    /// ```
    pub fn language_of(&self, state: &State) -> QueryLanguage {
        state
            .common
            .query_language
            .or(self.query_language)
            .unwrap_or(QueryLanguage::JsonPath)
    }
}
