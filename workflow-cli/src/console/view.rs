//! What the console shows of an execution, derived from its history in one pass: each time a
//! state was entered (its scope, times, retries, input, output, status), the Parallel branches
//! and Map iterations (for the picker), each state's status for the graph, and the steps of a
//! state's path pipeline.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};
use workflow_asl::eval::{Env, SplitMix64};
use workflow_asl::model::{PathField, ResultFields, State, StateKind};
use workflow_asl::path::{apply_result_path, Path};
use workflow_asl::template::Template;
use workflow_asl::StateMachine;
use workflow_runtime::history::HistoryEvent;

use crate::svg::{Status, Statuses};

/// One entry into a state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Occurrence {
    /// The state's name.
    pub name: String,
    /// The state's type, from its events (`Task`, `Pass`, …).
    #[serde(rename = "type")]
    pub state_type: String,
    /// The scope it ran in (`""` for the top level; see `workflow_runtime::history`).
    pub scope: String,
    /// The id of its `…StateEntered` event.
    pub entered_event_id: u64,
    /// When it was entered.
    pub entered: String,
    /// When it was exited, if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exited: Option<String>,
    /// Milliseconds from entered to exited (or to the last event while it runs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// Task attempts after the first.
    pub retries: u32,
    /// `succeeded`, `failed`, `caught`, `running`, or `not-run` (cut short by a failure
    /// elsewhere).
    pub status: &'static str,
    /// The state's input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    /// The state's output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// What the last attempt sent to the task (after InputPath and Parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// What the task returned (before ResultSelector).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
    /// The last error recorded in this state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    #[serde(skip)]
    status_value: Status,
    #[serde(skip)]
    last_failed: bool,
    #[serde(skip)]
    attempts: u32,
}

/// A Parallel branch or Map iteration, for the picker.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeInfo {
    /// The scope key.
    pub scope: String,
    /// A label such as `Fan › branch 1` or `Each › item 3`.
    pub label: String,
}

/// The analysis of one history.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExecutionView {
    /// Every entry into a state, in order.
    pub states: Vec<Occurrence>,
    /// Every branch and iteration, in order of appearance.
    pub scopes: Vec<ScopeInfo>,
}

/// Reads a JSON document recorded as text in an event; text that is not JSON stays a string.
fn doc(v: Option<&Value>) -> Option<Value> {
    match v? {
        Value::String(s) => {
            Some(serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())))
        }
        other => Some(other.clone()),
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Milliseconds between two RFC 3339 timestamps.
fn millis(from: &str, to: &str) -> Option<i64> {
    let a = chrono::DateTime::parse_from_rfc3339(from).ok()?;
    let b = chrono::DateTime::parse_from_rfc3339(to).ok()?;
    Some((b - a).num_milliseconds())
}

/// Event-type prefixes whose `…Failed`/`…TimedOut` are a state's failure, and whose
/// `…Scheduled`/`…Succeeded` are a task attempt and its result.
const WORK: [&str; 5] = [
    "Task",
    "LambdaFunction",
    "Activity",
    "MapState",
    "ParallelState",
];

impl ExecutionView {
    /// Analyses `events`; `running` says whether the execution is still running (states not
    /// exited are then `running`, else `failed`).
    pub fn build(events: &[HistoryEvent], running: bool) -> ExecutionView {
        let mut view = ExecutionView::default();
        // The state running in each scope.
        let mut current: HashMap<&str, usize> = HashMap::new();
        // (scope, seq) of a ParallelStateStarted/MapStateStarted → label of the container.
        let mut containers: HashMap<(&str, u64), (String, bool)> = HashMap::new();
        let mut scope_seen: HashMap<&str, ()> = HashMap::new();
        let last_time = events.last().map(|e| e.timestamp.as_str()).unwrap_or("");
        for ev in events {
            let owned = ev.details();
            let details = owned.as_ref().map(|(_, d)| d);
            let get = |k: &str| details.and_then(|d| d.get(k));
            let ty = ev.event_type();
            if !ev.scope.is_empty() && !scope_seen.contains_key(ev.scope.as_str()) {
                scope_seen.insert(ev.scope.as_str(), ());
                view.scopes.push(ScopeInfo {
                    scope: ev.scope.clone(),
                    label: scope_label(&ev.scope, &containers),
                });
            }
            if let Some(kind) = ty.strip_suffix("StateEntered") {
                let idx = view.states.len();
                view.states.push(Occurrence {
                    name: text(get("name")).unwrap_or_default(),
                    state_type: kind.to_owned(),
                    scope: ev.scope.clone(),
                    entered_event_id: ev.id,
                    entered: ev.timestamp.clone(),
                    exited: None,
                    duration_ms: None,
                    retries: 0,
                    status: "running",
                    input: doc(get("input")),
                    output: None,
                    parameters: None,
                    result: None,
                    error: None,
                    cause: None,
                    status_value: Status::Running,
                    last_failed: false,
                    attempts: 0,
                });
                current.insert(ev.scope.as_str(), idx);
                continue;
            }
            let Some(&idx) = current.get(ev.scope.as_str()) else {
                continue;
            };
            let occ = &mut view.states[idx];
            if ty.ends_with("StateExited") {
                occ.exited = Some(ev.timestamp.clone());
                occ.output = doc(get("output"));
                occ.status_value = if occ.last_failed {
                    Status::Caught
                } else {
                    Status::Succeeded
                };
                current.remove(ev.scope.as_str());
                continue;
            }
            if ty == "ParallelStateStarted" || ty == "MapStateStarted" {
                containers.insert(
                    (ev.scope.as_str(), ev.seq),
                    (occ.name.clone(), ty == "MapStateStarted"),
                );
                continue;
            }
            let Some(prefix) = WORK.iter().find(|p| ty.starts_with(**p)) else {
                continue;
            };
            match &ty[prefix.len()..] {
                "Scheduled" => {
                    occ.attempts += 1;
                    occ.parameters = doc(get("parameters").or_else(|| get("input")));
                }
                "Succeeded" => {
                    occ.last_failed = false;
                    if get("output").is_some() {
                        occ.result = doc(get("output"));
                    }
                }
                "Failed" | "TimedOut" | "StartFailed" | "SubmitFailed" | "ScheduleFailed" => {
                    occ.last_failed = true;
                    occ.error = text(get("error"));
                    occ.cause = text(get("cause"));
                }
                _ => {}
            }
        }
        // A closed execution's states that never exited: the ones with a failure, and Fail
        // states, are where it failed; if there are none (a Pass or Choice error, a stop, a
        // timeout), all of them are; the others were cut short by a failure elsewhere (another
        // branch) and count as not run.
        let failing = |o: &Occurrence| o.last_failed || o.state_type == "Fail";
        let any_failure = view.states.iter().any(|o| o.exited.is_none() && failing(o));
        for occ in &mut view.states {
            occ.retries = occ.attempts.saturating_sub(1);
            if occ.exited.is_none() {
                occ.status_value = if running {
                    Status::Running
                } else if failing(occ) || !any_failure {
                    Status::Failed
                } else {
                    Status::NotRun
                };
            }
            occ.status = occ.status_value.as_str();
            let until = occ.exited.as_deref().unwrap_or(last_time);
            occ.duration_ms = millis(&occ.entered, until);
        }
        view
    }

    /// Each state's status for the graph. With `scope`, the states that ran in that branch or
    /// iteration (or below it) take their status there; the others their status overall. A
    /// state that ran several times takes its latest status in each scope, and the most severe
    /// over scopes (failed, running, caught, succeeded).
    pub fn statuses(&self, scope: Option<&str>) -> Statuses {
        let inside = |s: &str| match scope {
            None => true,
            Some(p) => s == p || s.strip_prefix(p).is_some_and(|r| r.starts_with('/')),
        };
        let mut latest: BTreeMap<(&str, &str), Status> = BTreeMap::new();
        for occ in &self.states {
            latest.insert((occ.name.as_str(), occ.scope.as_str()), occ.status_value);
        }
        let mut picked: HashMap<&str, bool> = HashMap::new();
        if scope.is_some() {
            for occ in &self.states {
                if inside(&occ.scope) {
                    picked.insert(occ.name.as_str(), true);
                }
            }
        }
        let mut out = Statuses::new();
        for ((name, sc), status) in latest {
            if picked.contains_key(name) && !inside(sc) {
                continue;
            }
            let slot = out.entry(name.to_owned()).or_insert(Status::NotRun);
            *slot = (*slot).max(status);
        }
        out
    }
}

/// A label for a scope key such as `3.1` or `3.1/5.7`.
fn scope_label(scope: &str, containers: &HashMap<(&str, u64), (String, bool)>) -> String {
    let mut parts = Vec::new();
    let mut parent_end: usize = 0;
    for (i, part) in scope.split('/').enumerate() {
        let parent = &scope[..parent_end.saturating_sub(1).min(scope.len())];
        let parent = if i == 0 { "" } else { parent };
        parent_end += part.len() + 1;
        let (seq, index) = part.split_once('.').unwrap_or((part, ""));
        let seq = seq.parse::<u64>().unwrap_or(u64::MAX);
        match containers.get(&(parent, seq)) {
            Some((name, true)) => parts.push(format!("{name} › item {index}")),
            Some((name, false)) => parts.push(format!("{name} › branch {index}")),
            None => parts.push(part.to_owned()),
        }
    }
    parts.join(" › ")
}

/// One step of a state's path pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// `Input`, `InputPath`, `Parameters`, `Result`, `ResultSelector`, `ResultPath`,
    /// `OutputPath` (= the output).
    pub step: &'static str,
    /// The field's text in the definition, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<Value>,
    /// The value after this step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Why the value is not shown (not recorded, could not be recomputed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Finds a state by name anywhere in the machine (names are unique across nested scopes).
pub fn find_state<'m>(machine: &'m StateMachine, name: &str) -> Option<&'m State> {
    let mut work = vec![&machine.states];
    while let Some(states) = work.pop() {
        if let Some(s) = states.get(name) {
            return Some(s);
        }
        for s in states.values() {
            match &s.kind {
                StateKind::Parallel(p) => work.extend(p.branches.iter().map(|b| &b.states)),
                StateKind::Map(m) => work.extend(m.processor.iter().map(|b| &b.states)),
                _ => {}
            }
        }
    }
    None
}

fn path_field(p: &PathField) -> Value {
    match p {
        PathField::Null => Value::Null,
        PathField::Path(t) => Value::String(t.clone()),
    }
}

/// Applies an InputPath/OutputPath to `value` (`null` gives `{}`).
fn select(p: Option<&PathField>, value: &Value) -> Result<Value, String> {
    match p {
        None => Ok(value.clone()),
        Some(PathField::Null) => Ok(Value::Object(Map::new())),
        Some(PathField::Path(t)) => {
            let path = Path::parse(t).map_err(|e| e.to_string())?;
            let ctx = Value::Object(Map::new());
            let vars = Map::new();
            path.select(&Env::new(value, &ctx, &vars))
                .ok_or_else(|| format!("the path {t} matches nothing in the input"))
        }
    }
}

fn template(t: &Value, input: &Value) -> Result<Value, String> {
    let compiled = Template::compile(t).map_err(|errs| {
        errs.iter()
            .map(|e| format!("{e:?}"))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let ctx = Value::Object(Map::new());
    let vars = Map::new();
    compiled
        .evaluate(&Env::new(input, &ctx, &vars), &mut SplitMix64::new(0))
        .map_err(|f| format!("{}: {}", f.error, f.cause))
}

/// The path pipeline of one occurrence of `state`: the recorded input, parameters, result and
/// output, and the steps between them recomputed from the definition (without the context
/// object and variables: a step that needs them says it could not be recomputed).
pub fn pipeline(state: &State, occ: &Occurrence) -> Vec<Step> {
    let mut steps = Vec::new();
    let step = |step, field: Option<Value>, r: Result<Value, String>| Step {
        step,
        field,
        value: r.as_ref().ok().cloned(),
        note: r.err(),
    };
    let Some(input) = occ.input.clone() else {
        return steps;
    };
    steps.push(step("Input", None, Ok(input.clone())));
    let ip = state.common.input_path.as_ref();
    let effective = select(ip, &input);
    steps.push(step("InputPath", ip.map(path_field), effective.clone()));
    let fields: Option<&ResultFields> = match &state.kind {
        StateKind::Task(t) => Some(&t.result),
        StateKind::Parallel(p) => Some(&p.result),
        StateKind::Map(m) => Some(&m.result),
        StateKind::Pass(p) => {
            let params = p.parameters.as_ref();
            let after = match (params, &effective) {
                (Some(t), Ok(v)) => template(t, v),
                (None, r) => r.clone(),
                (_, Err(e)) => Err(e.clone()),
            };
            steps.push(step("Parameters", params.cloned(), after.clone()));
            let result = match &p.result {
                Some(r) => Ok(r.clone()),
                None => after,
            };
            steps.push(step("Result", p.result.clone(), result.clone()));
            let rp = p.result_path.as_ref();
            let merged = match (&effective, result) {
                (Ok(_), Ok(r)) => {
                    apply_result_path(input.clone(), rp, r).map_err(|f| f.cause.to_string())
                }
                (Err(e), _) => Err(e.clone()),
                (_, Err(e)) => Err(e),
            };
            steps.push(step("ResultPath", rp.map(path_field), merged));
            None
        }
        _ => None,
    };
    if let Some(f) = fields {
        let params = match (&occ.parameters, &f.parameters, &effective) {
            (Some(recorded), _, _) => Ok(recorded.clone()),
            (None, Some(t), Ok(v)) => template(t, v),
            (None, None, r) => r.clone(),
            (None, Some(_), Err(e)) => Err(e.clone()),
        };
        steps.push(step("Parameters", f.parameters.clone(), params));
        let result = occ
            .result
            .clone()
            .ok_or_else(|| "no result was recorded".to_owned());
        steps.push(step("Result", None, result.clone()));
        let selected = match (&f.result_selector, &result) {
            (Some(t), Ok(r)) => template(t, r),
            (_, r) => r.clone(),
        };
        steps.push(step(
            "ResultSelector",
            f.result_selector.clone(),
            selected.clone(),
        ));
        let rp = f.result_path.as_ref();
        let merged = match selected {
            Ok(r) => apply_result_path(input.clone(), rp, r).map_err(|f| f.cause.to_string()),
            Err(e) => Err(e),
        };
        steps.push(step("ResultPath", rp.map(path_field), merged));
    }
    let op = state.common.output_path.as_ref();
    let output = occ
        .output
        .clone()
        .ok_or_else(|| "the state has not exited".to_owned());
    steps.push(step("OutputPath", op.map(path_field), output));
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(id: u64, ty: &str, scope: &str, seq: u64, details: Value) -> HistoryEvent {
        let key = if ty.ends_with("StateEntered") {
            "stateEnteredEventDetails".to_owned()
        } else if ty.ends_with("StateExited") {
            "stateExitedEventDetails".to_owned()
        } else {
            let mut k = ty.to_owned();
            if let Some(c) = k.get_mut(0..1) {
                c.make_ascii_lowercase();
            }
            format!("{k}EventDetails")
        };
        let mut e = HistoryEvent::from_aws(
            id,
            id.saturating_sub(1),
            format!("2024-01-01T00:00:0{}.000Z", id.min(9)),
            ty,
            Some((key, details)),
        );
        e.scope = scope.into();
        e.seq = seq;
        e
    }

    #[test]
    fn retries_catches_and_failures_are_read_from_the_history() {
        let events = [
            ev(1, "ExecutionStarted", "", 0, json!({"input": "{}"})),
            ev(
                2,
                "TaskStateEntered",
                "",
                1,
                json!({"name": "T", "input": "{\"a\":1}"}),
            ),
            ev(
                3,
                "LambdaFunctionScheduled",
                "",
                2,
                json!({"input": "{\"a\":1}"}),
            ),
            ev(
                4,
                "LambdaFunctionFailed",
                "",
                3,
                json!({"error": "E", "cause": "c"}),
            ),
            ev(
                5,
                "LambdaFunctionScheduled",
                "",
                4,
                json!({"input": "{\"a\":1}"}),
            ),
            ev(6, "LambdaFunctionFailed", "", 5, json!({"error": "E"})),
            ev(
                7,
                "TaskStateExited",
                "",
                6,
                json!({"name": "T", "output": "{\"Error\":\"E\"}"}),
            ),
            ev(
                8,
                "ParallelStateEntered",
                "",
                7,
                json!({"name": "P", "input": "{}"}),
            ),
            ev(9, "ParallelStateStarted", "", 8, json!({})),
            ev(
                10,
                "PassStateEntered",
                "8.1",
                0,
                json!({"name": "B", "input": "{}"}),
            ),
        ];
        let view = ExecutionView::build(&events, false);
        let t = &view.states[0];
        assert_eq!((t.name.as_str(), t.retries, t.status), ("T", 1, "caught"));
        assert_eq!(t.duration_ms, Some(5000));
        assert_eq!(t.input, Some(json!({"a": 1})));
        assert_eq!(t.error.as_deref(), Some("E"));
        assert_eq!(view.states[1].status, "failed");
        assert_eq!(view.states[2].scope, "8.1");
        assert_eq!(view.scopes.len(), 1);
        assert_eq!(view.scopes[0].label, "P › branch 1");
        let st = view.statuses(None);
        assert_eq!(st["T"], Status::Caught);
        assert_eq!(st["B"], Status::Failed);
        let running = ExecutionView::build(&events, true);
        assert_eq!(running.statuses(None)["B"], Status::Running);
    }

    #[test]
    fn a_picked_iteration_colours_its_own_states() {
        let events = [
            ev(
                1,
                "MapStateEntered",
                "",
                0,
                json!({"name": "M", "input": "[1,2]"}),
            ),
            ev(2, "MapStateStarted", "", 1, json!({"length": 2})),
            ev(
                3,
                "PassStateEntered",
                "1.0",
                0,
                json!({"name": "X", "input": "1"}),
            ),
            ev(
                4,
                "PassStateExited",
                "1.0",
                1,
                json!({"name": "X", "output": "1"}),
            ),
            ev(
                5,
                "PassStateEntered",
                "1.1",
                0,
                json!({"name": "X", "input": "2"}),
            ),
        ];
        let view = ExecutionView::build(&events, true);
        assert_eq!(view.statuses(None)["X"], Status::Running);
        assert_eq!(view.statuses(Some("1.0"))["X"], Status::Succeeded);
        assert_eq!(view.statuses(Some("1.0"))["M"], Status::Running);
        assert_eq!(view.scopes[0].label, "M › item 0");
    }

    #[test]
    fn the_pipeline_of_a_task_recomputes_the_steps_between_records() {
        let def = r#"{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:1:function:echo",
            "InputPath":"$.order","Parameters":{"id.$":"$.id"},"ResultSelector":{"ok.$":"$.ok"},"ResultPath":"$.res","End":true}}}"#;
        let m = workflow_asl::check_str(def).machine.expect("machine");
        let state = find_state(&m, "T").expect("state");
        let events = [
            ev(
                1,
                "TaskStateEntered",
                "",
                0,
                json!({"name": "T", "input": "{\"order\":{\"id\":7}}"}),
            ),
            ev(
                2,
                "TaskScheduled",
                "",
                1,
                json!({"parameters": "{\"id\":7}"}),
            ),
            ev(
                3,
                "TaskSucceeded",
                "",
                2,
                json!({"output": "{\"ok\":true,\"x\":1}"}),
            ),
            ev(
                4,
                "TaskStateExited",
                "",
                3,
                json!({"name": "T", "output": "{\"order\":{\"id\":7},\"res\":{\"ok\":true}}"}),
            ),
        ];
        let view = ExecutionView::build(&events, false);
        let steps = pipeline(state, &view.states[0]);
        let names: Vec<&str> = steps.iter().map(|s| s.step).collect();
        assert_eq!(
            names,
            [
                "Input",
                "InputPath",
                "Parameters",
                "Result",
                "ResultSelector",
                "ResultPath",
                "OutputPath"
            ]
        );
        assert_eq!(steps[1].value, Some(json!({"id": 7})));
        assert_eq!(steps[4].value, Some(json!({"ok": true})));
        assert_eq!(
            steps[5].value,
            Some(json!({"order": {"id": 7}, "res": {"ok": true}}))
        );
        assert_eq!(steps[5].value, steps[6].value);
    }
}
