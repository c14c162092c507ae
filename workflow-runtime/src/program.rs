//! The compiled form of a state machine that the executor runs.
//!
//! [`Program::compile`] turns the ASL model into an indexed program once: states are numbered
//! within their scope and transitions are indices, paths, payload templates and Choice rules are
//! compiled, and every per-state decision that does not depend on data (event types, whether the
//! state reads the context object, its error handling) is made here. Running a transition is then
//! a `match` on the compiled state and the JSON work itself. A program is immutable and shared
//! (`Arc<Program>`) by every execution of the definition.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;
use workflow_asl::model::{
    Branch, Catcher, ChoiceRule, Condition, MapState, PathField, QueryLanguage, Retrier, State,
    StateKind, StateMachine,
};

use crate::history::{EventType, StateType};
use workflow_asl::path::Path;

use crate::sem::{Choices, Template};

/// Why a definition cannot be compiled (it should have been rejected by the validator).
///
/// ```
/// use workflow_runtime::Program;
///
/// // Read without validation, a `Next` to a missing state reaches the compiler.
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#).unwrap();
/// let err = Program::compile(parsed.machine.as_ref().unwrap()).unwrap_err();
/// assert_eq!(err.pointer, "/States/A/Next");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid definition at {pointer}: {message}")]
pub struct CompileError {
    /// A JSON pointer to the offending field.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// A compiled state machine, ready to run.
///
/// ```
/// # use serde_json::json;
/// # use workflow_runtime::Runtime;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use workflow_runtime::Program;
///
/// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "End": true}}}"#).expect("valid");
/// let program = Program::compile(&machine)?;
/// assert_eq!(program.machine().start_at, "P");
/// let outcome = Runtime::default().run(&program, json!({})).await?;
/// assert_eq!(outcome.output, Some(json!(1)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Program {
    pub(crate) root: Block,
    pub(crate) timeout_seconds: Option<u64>,
    /// The model the program was compiled from.
    pub(crate) machine: Arc<StateMachine>,
    /// Whether some state may build a context object (`$$`, which shows the execution's input):
    /// when not, an execution does not keep a copy of its input for it.
    pub(crate) reads_context: bool,
    /// The most events an execution of this program has recorded (capped): the next one
    /// reserves room for as many up front.
    pub(crate) history_hint: std::sync::atomic::AtomicUsize,
}

impl Program {
    /// Compiles a model. Fails on what the validator would reject and the executor cannot run
    /// (unknown state names, malformed paths or templates).
    ///
    /// ```
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// let program = workflow_runtime::Program::compile(&machine).expect("a validated model compiles");
    /// assert_eq!(program.machine(), &machine);
    /// ```
    pub fn compile(machine: &StateMachine) -> Result<Arc<Program>, CompileError> {
        let lang = machine.query_language.unwrap_or(QueryLanguage::JsonPath);
        let root = compile_block(&machine.start_at, &machine.states, lang, "")?;
        let timeout_seconds = machine
            .timeout_seconds
            .as_ref()
            .and_then(serde_json::Number::as_u64);
        Ok(Arc::new(Program {
            reads_context: block_reads_context(&root),
            history_hint: std::sync::atomic::AtomicUsize::new(0),
            root,
            timeout_seconds,
            machine: Arc::new(machine.clone()),
        }))
    }

    /// The model this program was compiled from.
    ///
    /// ```
    /// let machine = workflow_asl::load(r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#).expect("valid");
    /// let program = workflow_runtime::Program::compile(&machine).expect("compiles");
    /// assert_eq!(program.machine().states.len(), 1);
    /// ```
    pub fn machine(&self) -> &StateMachine {
        &self.machine
    }
}

/// Whether a state of the scope (or of a scope nested in it) may build a context object: one
/// that reads `$$`, a Task (its handler may ask for its context) or a Map with an
/// `ItemSelector` (which sees `$$.Map.Item`).
fn block_reads_context(block: &Block) -> bool {
    block.states.iter().any(|st| {
        st.needs_context
            || match &st.kind {
                Kind::Task(_) => true,
                Kind::Map(m) => m.item_selector.is_some() || block_reads_context(&m.processor),
                Kind::Parallel(p) => p.branches.iter().any(block_reads_context),
                _ => false,
            }
    })
}

/// Something the executor attaches to a compiled scope (the generated driver of a `workflow!`
/// workflow). The program only carries it: it is the executor's, and the program names nothing
/// of the executor, so that the dependency runs one way (executor -> program).
pub(crate) type Attachment = Box<dyn std::any::Any + Send + Sync>;

/// A scope: the machine, a Parallel branch or a Map item processor.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) start: usize,
    pub(crate) states: Vec<CState>,
    /// The generated code that runs this scope instead of the interpreter's loop, if any
    /// (attached by `Program::compile_driven`, see [`crate::driver`]).
    pub(crate) driver: Option<Attachment>,
}

/// `InputPath`/`OutputPath`.
#[derive(Debug)]
pub(crate) enum IoPath {
    /// Absent or `$`: the value itself.
    Identity,
    /// `null`: `{}`.
    Null,
    /// A path.
    Path(Path),
}

/// `ResultPath`.
#[derive(Debug)]
pub(crate) enum ResultPathOpt {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded.
    Discard,
    /// A reference path into the input.
    Path(Path),
}

/// The event types of a state.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Events {
    pub(crate) state_type: StateType,
    pub(crate) entered: EventType,
    pub(crate) exited: Option<EventType>,
    pub(crate) aborted: Option<EventType>,
}

/// One compiled state.
#[derive(Debug)]
pub(crate) struct CState {
    pub(crate) name: Arc<str>,
    pub(crate) events: Events,
    pub(crate) input_path: IoPath,
    pub(crate) output_path: IoPath,
    /// The next state, or `None` at the end of the scope.
    pub(crate) next: Option<usize>,
    /// Whether templates or paths of this state read `$$`.
    pub(crate) needs_context: bool,
    /// Whether they may read `$$.Execution.Input` (or a part of `$$` holding it): only then does
    /// the state's context object carry a copy of the execution's input.
    pub(crate) context_input: bool,
    /// `Assign` (JSONPath payload template).
    pub(crate) assign: Option<Template>,
    /// The JSONata fields, when the state's query language is JSONata (its JSONPath fields are
    /// then absent, and `kind` carries only the structure: targets, branches, the processor).
    pub(crate) jsonata: Option<Box<crate::jtemplate::JState>>,
    pub(crate) kind: Kind,
}

/// A number given literally or read from the input.
#[derive(Debug)]
pub(crate) enum NumberSource {
    Literal(Value),
    Path(Path, &'static str),
}

#[derive(Debug)]
pub(crate) enum Kind {
    Pass {
        result: Option<Value>,
        parameters: Option<Template>,
        result_path: ResultPathOpt,
    },
    Task(Box<TaskK>),
    Choice {
        choices: Choices,
        targets: Vec<usize>,
        default: Option<usize>,
    },
    Wait(WaitK),
    Succeed,
    Fail {
        error: Option<StrSource>,
        cause: Option<StrSource>,
    },
    Parallel(Box<ParallelK>),
    Map(Box<MapK>),
}

/// Fail `Error`/`Cause`: literal or `…Path`.
#[derive(Debug)]
pub(crate) enum StrSource {
    Literal(String),
    Path(Path, &'static str),
    /// An intrinsic function call (`States.Format(…)`), compiled as a one-field template.
    Call(Template),
}

#[derive(Debug)]
pub(crate) enum WaitK {
    Seconds(Value),
    SecondsPath(Path),
    Timestamp(String),
    TimestampPath(Path),
}

/// Retry and Catch, with catch targets resolved.
#[derive(Debug, Default)]
pub(crate) struct ErrorsK {
    pub(crate) retriers: Vec<Retrier>,
    pub(crate) catchers: Vec<Catcher>,
    pub(crate) catch_targets: Vec<usize>,
    pub(crate) catch_result_paths: Vec<ResultPathOpt>,
    pub(crate) catch_assign: Vec<Option<Template>>,
}

/// What kind of resource a Task calls, which decides its history events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    /// `arn:aws:lambda:…:function:…`: `LambdaFunction*` events.
    LambdaFunction,
    /// Anything else: `Task*` events.
    Service,
}

#[derive(Debug)]
pub(crate) struct TaskK {
    pub(crate) resource: Arc<str>,
    pub(crate) resource_kind: ResourceKind,
    pub(crate) task_resource: Arc<crate::history::TaskResource>,
    pub(crate) wait_for_token: bool,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: ResultPathOpt,
    pub(crate) timeout: Option<NumberSource>,
    pub(crate) heartbeat: Option<NumberSource>,
    pub(crate) errors: ErrorsK,
}

#[derive(Debug)]
pub(crate) struct ParallelK {
    pub(crate) branches: Vec<Block>,
    pub(crate) parameters: Option<Template>,
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: ResultPathOpt,
    pub(crate) errors: ErrorsK,
}

#[derive(Debug)]
pub(crate) struct MapK {
    pub(crate) processor: Block,
    pub(crate) distributed: bool,
    pub(crate) items_path: Option<Path>,
    pub(crate) item_selector: Option<Template>,
    /// Whether every `$$` the `ItemSelector` reads is under `$$.Map.` (its context object then
    /// holds only `Map.Item`, built per item without the execution and state parts).
    pub(crate) item_context_map_only: bool,
    pub(crate) result_selector: Option<Template>,
    pub(crate) result_path: ResultPathOpt,
    pub(crate) max_concurrency: Option<NumberSource>,
    pub(crate) tolerated_count: Option<NumberSource>,
    pub(crate) tolerated_percentage: Option<NumberSource>,
    pub(crate) errors: ErrorsK,
    /// `ItemReader`, `ItemBatcher`, `ResultWriter` (run by `engine/distributed_map.rs`).
    pub(crate) dist: Option<Box<DistK>>,
}

/// The object-store parts of a distributed Map.
#[derive(Debug)]
pub(crate) struct DistK {
    /// `Label`, else the state name, in the Map Run ARN.
    pub(crate) label: Option<String>,
    /// `ProcessorConfig.ExecutionType` is `EXPRESS` (the children's context objects have no
    /// `RedriveCount`).
    pub(crate) express: bool,
    pub(crate) reader: Option<ReaderK>,
    pub(crate) batcher: Option<BatcherK>,
    pub(crate) writer: Option<WriterK>,
}

/// `ItemReader`: the object verbatim, its `Parameters` and `MaxItems`/`MaxItemsPath`.
#[derive(Debug)]
pub(crate) struct ReaderK {
    pub(crate) raw: Value,
    pub(crate) parameters: Option<Template>,
    pub(crate) max_items: Option<NumberSource>,
}

/// `ItemBatcher`.
#[derive(Debug)]
pub(crate) struct BatcherK {
    pub(crate) max_items: Option<NumberSource>,
    pub(crate) max_bytes: Option<NumberSource>,
    pub(crate) batch_input: Option<Template>,
}

/// `ResultWriter`: the object verbatim and its `Parameters`.
#[derive(Debug)]
pub(crate) struct WriterK {
    pub(crate) raw: Value,
    pub(crate) parameters: Option<Template>,
}

fn compile_dist<'a>(
    m: &'a MapState,
    ptr: &str,
    ctx_probe: &mut Vec<&'a Value>,
    ctx_strings: &mut Vec<&'a str>,
) -> Result<Option<Box<DistK>>, CompileError> {
    if m.item_reader.is_none() && m.item_batcher.is_none() && m.result_writer.is_none() {
        return Ok(None);
    }
    let sub = |v: &'a Value, name: &str| v.get(name);
    let str_field =
        |v: &'a Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_string);
    let reader = match &m.item_reader {
        None => None,
        Some(r) => {
            let rptr = format!("{ptr}/ItemReader");
            let params = sub(r, "Parameters").cloned();
            if let Some(p) = sub(r, "Parameters") {
                ctx_probe.push(p);
            }
            let cfg = sub(r, "ReaderConfig");
            let cfg_ptr = format!("{rptr}/ReaderConfig");
            let max_path = cfg.and_then(|c| str_field(c, "MaxItemsPath"));
            if let Some(p) = cfg
                .and_then(|c| c.get("MaxItemsPath"))
                .and_then(Value::as_str)
            {
                ctx_strings.push(p);
            }
            Some(ReaderK {
                raw: r.clone(),
                parameters: template(&params, &format!("{rptr}/Parameters"))?,
                max_items: number(
                    &cfg.and_then(|c| c.get("MaxItems")).cloned(),
                    &max_path,
                    "MaxItemsPath",
                    &cfg_ptr,
                )?,
            })
        }
    };
    let batcher = match &m.item_batcher {
        None => None,
        Some(b) => {
            let bptr = format!("{ptr}/ItemBatcher");
            if let Some(bi) = sub(b, "BatchInput") {
                ctx_probe.push(bi);
            }
            for f in ["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"] {
                if let Some(p) = b.get(f).and_then(Value::as_str) {
                    ctx_strings.push(p);
                }
            }
            Some(BatcherK {
                max_items: number(
                    &b.get("MaxItemsPerBatch").cloned(),
                    &str_field(b, "MaxItemsPerBatchPath"),
                    "MaxItemsPerBatchPath",
                    &bptr,
                )?,
                max_bytes: number(
                    &b.get("MaxInputBytesPerBatch").cloned(),
                    &str_field(b, "MaxInputBytesPerBatchPath"),
                    "MaxInputBytesPerBatchPath",
                    &bptr,
                )?,
                batch_input: template(
                    &b.get("BatchInput").cloned(),
                    &format!("{bptr}/BatchInput"),
                )?,
            })
        }
    };
    let writer = match &m.result_writer {
        None => None,
        Some(w) => {
            if let Some(p) = sub(w, "Parameters") {
                ctx_probe.push(p);
            }
            Some(WriterK {
                raw: w.clone(),
                parameters: template(
                    &w.get("Parameters").cloned(),
                    &format!("{ptr}/ResultWriter/Parameters"),
                )?,
            })
        }
    };
    let express = m
        .processor
        .as_ref()
        .and_then(|p| p.processor_config.as_ref())
        .and_then(|c| c.get("ExecutionType"))
        .and_then(Value::as_str)
        == Some("EXPRESS");
    Ok(Some(Box::new(DistK {
        label: m.label.clone(),
        express,
        reader,
        batcher,
        writer,
    })))
}

fn err(pointer: &str, message: impl Into<String>) -> CompileError {
    CompileError {
        pointer: pointer.to_string(),
        message: message.into(),
    }
}

/// Whether a JSON value mentions the context object anywhere (`$$` in a string).
fn mentions_context(v: &Value) -> bool {
    mentions(v, |s| s.contains("$$"))
}

/// Whether a path or intrinsic may read the execution's input through `$$`: some `$$` in it is
/// not followed by a part of the context object that does not hold the input.
fn reads_execution_input(s: &str) -> bool {
    const WITHOUT_INPUT: [&str; 9] = [
        ".Map.",
        ".State.",
        ".Task.",
        ".StateMachine.",
        ".Execution.Id",
        ".Execution.Name",
        ".Execution.StartTime",
        ".Execution.RoleArn",
        ".Execution.RedriveCount",
    ];
    s.match_indices("$$").any(|(i, _)| {
        let rest = &s[i + 2..];
        !WITHOUT_INPUT.iter().any(|p| rest.starts_with(p))
    })
}

/// Whether a string in a `….$` field of a JSON value satisfies `hit`.
fn mentions(v: &Value, hit: impl Fn(&str) -> bool) -> bool {
    // (value, whether it is the value of a `….$` field: a path or intrinsic, not a literal)
    let mut stack = vec![(v, true)];
    while let Some((v, dynamic)) = stack.pop() {
        match v {
            Value::String(s) if dynamic && hit(s) => return true,
            Value::Array(a) => stack.extend(a.iter().map(|x| (x, false))),
            Value::Object(o) => stack.extend(o.iter().map(|(k, v)| (v, k.ends_with(".$")))),
            _ => {}
        }
    }
    false
}

fn compile_block(
    start_at: &str,
    states: &IndexMap<String, State>,
    lang: QueryLanguage,
    pointer: &str,
) -> Result<Block, CompileError> {
    let index: HashMap<&str, usize> = states
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let start = *index.get(start_at).ok_or_else(|| {
        err(
            &format!("{pointer}/StartAt"),
            format!("no state named `{start_at}`"),
        )
    })?;
    let mut out = Vec::with_capacity(states.len());
    for (name, state) in states {
        let ptr = format!(
            "{pointer}/States/{}",
            name.replace('~', "~0").replace('/', "~1")
        );
        out.push(compile_state(name, state, lang, &index, &ptr)?);
    }
    Ok(Block {
        start,
        states: out,
        driver: None,
    })
}

fn parse_path(text: &str, ptr: &str) -> Result<Path, CompileError> {
    Path::parse(text).map_err(|e| err(ptr, e.to_string()))
}

fn target(index: &HashMap<&str, usize>, name: &str, ptr: &str) -> Result<usize, CompileError> {
    index
        .get(name)
        .copied()
        .ok_or_else(|| err(ptr, format!("no state named `{name}` in this scope")))
}

fn io_path(field: &Option<PathField>, ptr: &str) -> Result<IoPath, CompileError> {
    Ok(match field {
        None => IoPath::Identity,
        Some(PathField::Null) => IoPath::Null,
        Some(PathField::Path(p)) if p == "$" => IoPath::Identity,
        Some(PathField::Path(p)) => IoPath::Path(parse_path(p, ptr)?),
    })
}

fn result_path(field: &Option<PathField>, ptr: &str) -> Result<ResultPathOpt, CompileError> {
    Ok(match field {
        None => ResultPathOpt::Replace,
        Some(PathField::Null) => ResultPathOpt::Discard,
        Some(PathField::Path(p)) if p == "$" => ResultPathOpt::Replace,
        Some(PathField::Path(p)) => ResultPathOpt::Path(parse_path(p, ptr)?),
    })
}

fn template(v: &Option<Value>, ptr: &str) -> Result<Option<Template>, CompileError> {
    v.as_ref()
        .map(|v| Template::compile(v).map_err(|m| err(ptr, m)))
        .transpose()
}

fn path(p: &Option<String>, ptr: &str) -> Result<Option<Path>, CompileError> {
    p.as_deref().map(|p| parse_path(p, ptr)).transpose()
}

fn number(
    literal: &Option<Value>,
    path_field: &Option<String>,
    field: &'static str,
    ptr: &str,
) -> Result<Option<NumberSource>, CompileError> {
    if let Some(p) = path_field {
        let p = parse_path(p, &format!("{ptr}/{field}"))?;
        return Ok(Some(NumberSource::Path(p, field)));
    }
    Ok(literal.clone().map(NumberSource::Literal))
}

fn errors(
    retry: &[Retrier],
    catch: &[Catcher],
    index: &HashMap<&str, usize>,
    ptr: &str,
) -> Result<ErrorsK, CompileError> {
    let mut out = ErrorsK {
        retriers: retry.to_vec(),
        catchers: catch.to_vec(),
        ..ErrorsK::default()
    };
    for (i, c) in catch.iter().enumerate() {
        let cptr = format!("{ptr}/Catch/{i}");
        let next = c
            .next
            .as_deref()
            .ok_or_else(|| err(&cptr, "a catcher needs `Next`"))?;
        out.catch_targets
            .push(target(index, next, &format!("{cptr}/Next"))?);
        out.catch_result_paths
            .push(result_path(&c.result_path, &format!("{cptr}/ResultPath"))?);
        out.catch_assign
            .push(template(&c.assign, &format!("{cptr}/Assign"))?);
    }
    Ok(out)
}

fn resource_kind(resource: &str) -> (ResourceKind, crate::history::TaskResource, bool) {
    let wait_for_token = resource.ends_with(".waitForTaskToken");
    let parts: Vec<&str> = resource.split(':').collect();
    let region = parts.get(3).copied().unwrap_or_default();
    let region = if region.is_empty() {
        "us-east-1"
    } else {
        region
    };
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
        return (
            ResourceKind::LambdaFunction,
            crate::history::TaskResource {
                resource_type: "lambda".into(),
                resource: resource.into(),
                region: region.into(),
            },
            wait_for_token,
        );
    }
    // arn:aws:states:::service:action[.pattern] and arn:aws:states:::aws-sdk:service:action
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "states" && parts[5] != "activity" {
        let service = if parts[5] == "aws-sdk" && parts.len() >= 8 {
            format!("aws-sdk:{}", parts[6])
        } else {
            parts[5].to_string()
        };
        let action = parts.last().copied().unwrap_or_default();
        return (
            ResourceKind::Service,
            crate::history::TaskResource {
                resource_type: service,
                resource: action.into(),
                region: region.into(),
            },
            wait_for_token,
        );
    }
    (
        ResourceKind::Service,
        crate::history::TaskResource {
            resource_type: "local".into(),
            resource: resource.into(),
            region: region.into(),
        },
        wait_for_token,
    )
}

fn events(kind: &StateKind) -> Events {
    let state_type = match kind {
        StateKind::Task(_) => StateType::Task,
        StateKind::Pass(_) => StateType::Pass,
        StateKind::Choice(_) => StateType::Choice,
        StateKind::Wait(_) => StateType::Wait,
        StateKind::Succeed => StateType::Succeed,
        StateKind::Fail(_) => StateType::Fail,
        StateKind::Parallel(_) => StateType::Parallel,
        StateKind::Map(_) => StateType::Map,
    };
    Events {
        state_type,
        entered: state_type.entered(),
        exited: state_type.exited(),
        aborted: state_type.aborted(),
    }
}

fn compile_state(
    name: &str,
    state: &State,
    lang: QueryLanguage,
    index: &HashMap<&str, usize>,
    ptr: &str,
) -> Result<CState, CompileError> {
    let lang = state.common.query_language.unwrap_or(lang);
    let next = match state.transition() {
        Some(t) => match t.next.as_deref() {
            Some(n) => Some(target(index, n, &format!("{ptr}/Next"))?),
            None => None,
        },
        None => None,
    };
    let mut cs = CState {
        name: Arc::from(name),
        events: events(&state.kind),
        input_path: IoPath::Identity,
        output_path: IoPath::Identity,
        next,
        needs_context: false,
        context_input: false,
        assign: None,
        jsonata: None,
        kind: Kind::Succeed,
    };
    if lang == QueryLanguage::Jsonata {
        return compile_jsonata_state(cs, state, index, ptr);
    }
    cs.input_path = io_path(&state.common.input_path, &format!("{ptr}/InputPath"))?;
    cs.output_path = io_path(&state.common.output_path, &format!("{ptr}/OutputPath"))?;
    cs.assign = template(&state.common.assign, &format!("{ptr}/Assign"))?;
    let mut ctx_probe: Vec<&Value> = Vec::new();
    if let Some(a) = &state.common.assign {
        ctx_probe.push(a);
    }
    let mut ctx_strings: Vec<&str> = Vec::new();
    cs.kind = match &state.kind {
        StateKind::Pass(p) => {
            if let Some(v) = &p.parameters {
                ctx_probe.push(v);
            }
            Kind::Pass {
                result: p.result.clone(),
                parameters: template(&p.parameters, &format!("{ptr}/Parameters"))?,
                result_path: result_path(&p.result_path, &format!("{ptr}/ResultPath"))?,
            }
        }
        StateKind::Succeed => Kind::Succeed,
        StateKind::Fail(f) => {
            let src = |lit: &Option<String>, p: &Option<String>, field: &'static str| {
                if let Some(p) = p {
                    if p.starts_with("States.") {
                        let mut o = serde_json::Map::new();
                        o.insert("v.$".into(), Value::String(p.clone()));
                        return Template::compile(&Value::Object(o))
                            .map(|t| Some(StrSource::Call(t)))
                            .map_err(|m| err(&format!("{ptr}/{field}"), m));
                    }
                    parse_path(p, &format!("{ptr}/{field}"))
                        .map(|c| Some(StrSource::Path(c, field)))
                } else {
                    Ok(lit.clone().map(StrSource::Literal))
                }
            };
            ctx_strings.extend(f.error_path.as_deref());
            ctx_strings.extend(f.cause_path.as_deref());
            Kind::Fail {
                error: src(&f.error, &f.error_path, "ErrorPath")?,
                cause: src(&f.cause, &f.cause_path, "CausePath")?,
            }
        }
        StateKind::Wait(w) => {
            ctx_strings.extend(w.seconds_path.as_deref());
            ctx_strings.extend(w.timestamp_path.as_deref());
            Kind::Wait(if let Some(p) = &w.seconds_path {
                WaitK::SecondsPath(parse_path(p, &format!("{ptr}/SecondsPath"))?)
            } else if let Some(p) = &w.timestamp_path {
                WaitK::TimestampPath(parse_path(p, &format!("{ptr}/TimestampPath"))?)
            } else if let Some(t) = &w.timestamp {
                WaitK::Timestamp(t.clone())
            } else if let Some(s) = &w.seconds {
                WaitK::Seconds(s.clone())
            } else {
                return Err(err(
                    ptr,
                    "a Wait state needs Seconds, SecondsPath, Timestamp or TimestampPath",
                ));
            })
        }
        StateKind::Choice(c) => {
            let mut targets = Vec::with_capacity(c.choices.len());
            for (i, rule) in c.choices.iter().enumerate() {
                let n = rule.next.as_deref().ok_or_else(|| {
                    err(&format!("{ptr}/Choices/{i}"), "a choice rule needs `Next`")
                })?;
                targets.push(target(index, n, &format!("{ptr}/Choices/{i}/Next"))?);
                collect_rule_strings(rule, &mut ctx_strings);
                if let Some(a) = &rule.assign {
                    ctx_probe.push(a);
                }
            }
            let default = match &c.default {
                Some(d) => Some(target(index, d, &format!("{ptr}/Default"))?),
                None => None,
            };
            Kind::Choice {
                choices: Choices::compile(&c.choices)
                    .map_err(|m| err(&format!("{ptr}/Choices"), m))?,
                targets,
                default,
            }
        }
        StateKind::Task(t) => {
            if let Some(v) = &t.result.parameters {
                ctx_probe.push(v);
            }
            ctx_strings.extend(t.timeout_seconds_path.as_deref());
            ctx_strings.extend(t.heartbeat_seconds_path.as_deref());
            ctx_probe.extend(t.errors.catch.iter().filter_map(|c| c.assign.as_ref()));
            if let Some(v) = &t.result.result_selector {
                ctx_probe.push(v);
            }
            let (resource_kind, task_resource, wait_for_token) = resource_kind(&t.resource);
            Kind::Task(Box::new(TaskK {
                resource: Arc::from(t.resource.as_str()),
                resource_kind,
                task_resource: Arc::new(task_resource),
                wait_for_token,
                parameters: template(&t.result.parameters, &format!("{ptr}/Parameters"))?,
                result_selector: template(
                    &t.result.result_selector,
                    &format!("{ptr}/ResultSelector"),
                )?,
                result_path: result_path(&t.result.result_path, &format!("{ptr}/ResultPath"))?,
                timeout: number(
                    &t.timeout_seconds,
                    &t.timeout_seconds_path,
                    "TimeoutSecondsPath",
                    ptr,
                )?,
                heartbeat: number(
                    &t.heartbeat_seconds,
                    &t.heartbeat_seconds_path,
                    "HeartbeatSecondsPath",
                    ptr,
                )?,
                errors: errors(&t.errors.retry, &t.errors.catch, index, ptr)?,
            }))
        }
        StateKind::Parallel(p) => {
            if let Some(v) = &p.result.parameters {
                ctx_probe.push(v);
            }
            ctx_probe.extend(p.errors.catch.iter().filter_map(|c| c.assign.as_ref()));
            if let Some(v) = &p.result.result_selector {
                ctx_probe.push(v);
            }
            let mut branches = Vec::with_capacity(p.branches.len());
            for (i, b) in p.branches.iter().enumerate() {
                branches.push(compile_branch(b, lang, &format!("{ptr}/Branches/{i}"))?);
            }
            Kind::Parallel(Box::new(ParallelK {
                branches,
                parameters: template(&p.result.parameters, &format!("{ptr}/Parameters"))?,
                result_selector: template(
                    &p.result.result_selector,
                    &format!("{ptr}/ResultSelector"),
                )?,
                result_path: result_path(&p.result.result_path, &format!("{ptr}/ResultPath"))?,
                errors: errors(&p.errors.retry, &p.errors.catch, index, ptr)?,
            }))
        }
        StateKind::Map(m) => {
            ctx_probe.extend(m.errors.catch.iter().filter_map(|c| c.assign.as_ref()));
            ctx_strings.extend(m.max_concurrency_path.as_deref());
            ctx_strings.extend(m.tolerated_failure_count_path.as_deref());
            ctx_strings.extend(m.tolerated_failure_percentage_path.as_deref());
            ctx_strings.extend(m.items_path.as_deref());
            compile_map(m, lang, index, ptr, &mut ctx_probe, &mut ctx_strings)?
        }
    };
    cs.needs_context = ctx_probe.iter().any(|v| mentions_context(v))
        || ctx_strings.iter().any(|s| s.starts_with("$$"))
        || matches!(&cs.input_path, IoPath::Path(p) if p.as_str().starts_with("$$"))
        || matches!(&cs.output_path, IoPath::Path(p) if p.as_str().starts_with("$$"));
    let io_reads_input =
        |p: &IoPath| matches!(p, IoPath::Path(p) if reads_execution_input(p.as_str()));
    cs.context_input = cs.needs_context
        && (ctx_probe.iter().any(|v| mentions(v, reads_execution_input))
            || ctx_strings.iter().any(|s| reads_execution_input(s))
            || io_reads_input(&cs.input_path)
            || io_reads_input(&cs.output_path));
    Ok(cs)
}

/// A state whose query language is JSONata: its JSONata fields, compiled once, and the structure
/// the executor shares with JSONPath states (transitions, branches, the item processor, Retry
/// and Catch).
fn compile_jsonata_state(
    mut cs: CState,
    state: &State,
    index: &HashMap<&str, usize>,
    ptr: &str,
) -> Result<CState, CompileError> {
    let j = crate::jtemplate::JState::compile(state).map_err(|m| err(ptr, m))?;
    cs.needs_context = j.may_read_context();
    // `$states.context` may read the execution's input anywhere.
    cs.context_input = cs.needs_context;
    cs.kind = match &state.kind {
        StateKind::Pass(_) => Kind::Pass {
            result: None,
            parameters: None,
            result_path: ResultPathOpt::Replace,
        },
        StateKind::Succeed => Kind::Succeed,
        StateKind::Fail(_) => Kind::Fail {
            error: None,
            cause: None,
        },
        StateKind::Wait(_) => Kind::Wait(WaitK::Seconds(Value::from(0))),
        StateKind::Choice(c) => {
            let mut targets = Vec::with_capacity(c.choices.len());
            for (i, rule) in c.choices.iter().enumerate() {
                let n = rule.next.as_deref().ok_or_else(|| {
                    err(&format!("{ptr}/Choices/{i}"), "a choice rule needs `Next`")
                })?;
                targets.push(target(index, n, &format!("{ptr}/Choices/{i}/Next"))?);
            }
            let default = match &c.default {
                Some(d) => Some(target(index, d, &format!("{ptr}/Default"))?),
                None => None,
            };
            Kind::Choice {
                choices: Choices::compile(&[]).map_err(|m| err(&format!("{ptr}/Choices"), m))?,
                targets,
                default,
            }
        }
        StateKind::Map(m) => {
            let mut probe = Vec::new();
            let mut strings = Vec::new();
            let mut plain = m.clone();
            // The JSONata fields are evaluated from `cs.jsonata`; the JSONPath compiler sees none.
            // `ItemReader`, `ItemBatcher` and `ResultWriter` stay, so that the Map is compiled as a
            // distributed one, but their JSONPath parts are not read (see `JState::item_reader`).
            plain.item_selector = None;
            plain.max_concurrency = None;
            plain.tolerated_failure_count = None;
            plain.tolerated_failure_percentage = None;
            compile_map(
                &plain,
                QueryLanguage::Jsonata,
                index,
                ptr,
                &mut probe,
                &mut strings,
            )?
        }
        StateKind::Task(t) => {
            let (resource_kind, task_resource, wait_for_token) = resource_kind(&t.resource);
            // A literal number stays a literal; an expression is evaluated from `cs.jsonata`.
            let literal = |v: &Option<Value>| {
                v.clone()
                    .filter(Value::is_number)
                    .map(NumberSource::Literal)
            };
            Kind::Task(Box::new(TaskK {
                resource: Arc::from(t.resource.as_str()),
                resource_kind,
                task_resource: Arc::new(task_resource),
                wait_for_token,
                parameters: None,
                result_selector: None,
                result_path: ResultPathOpt::Replace,
                timeout: literal(&t.timeout_seconds),
                heartbeat: literal(&t.heartbeat_seconds),
                errors: errors(&t.errors.retry, &t.errors.catch, index, ptr)?,
            }))
        }
        StateKind::Parallel(p) => {
            let mut branches = Vec::with_capacity(p.branches.len());
            for (i, b) in p.branches.iter().enumerate() {
                branches.push(compile_branch(
                    b,
                    QueryLanguage::Jsonata,
                    &format!("{ptr}/Branches/{i}"),
                )?);
            }
            Kind::Parallel(Box::new(ParallelK {
                branches,
                parameters: None,
                result_selector: None,
                result_path: ResultPathOpt::Replace,
                errors: errors(&p.errors.retry, &p.errors.catch, index, ptr)?,
            }))
        }
    };
    cs.jsonata = Some(Box::new(j));
    Ok(cs)
}

fn collect_rule_strings<'a>(rule: &'a ChoiceRule, out: &mut Vec<&'a str>) {
    let mut stack = vec![rule];
    while let Some(r) = stack.pop() {
        match &r.condition {
            Condition::And(rs) | Condition::Or(rs) => stack.extend(rs.iter()),
            Condition::Not(r) => stack.push(r),
            Condition::Compare {
                variable, operand, ..
            } => {
                out.push(variable);
                if let Some(s) = operand.as_str() {
                    out.push(s);
                }
            }
            Condition::Jsonata(_) | Condition::Missing { .. } => {}
        }
    }
}

fn compile_branch(b: &Branch, lang: QueryLanguage, ptr: &str) -> Result<Block, CompileError> {
    compile_block(
        &b.start_at,
        &b.states,
        b.query_language.unwrap_or(lang),
        ptr,
    )
}

/// Whether a path or intrinsic reads no `$$` but `$$.Map.…` (a path that starts with it and has
/// no other `$$`).
fn reads_only_map(s: &str) -> bool {
    !s.contains("$$") || (s.starts_with("$$.Map.") && s.matches("$$").count() == 1)
}

fn compile_map<'a>(
    m: &'a MapState,
    lang: QueryLanguage,
    index: &HashMap<&str, usize>,
    ptr: &str,
    ctx_probe: &mut Vec<&'a Value>,
    ctx_strings: &mut Vec<&'a str>,
) -> Result<Kind, CompileError> {
    let processor = m
        .processor
        .as_ref()
        .ok_or_else(|| err(ptr, "a Map state needs `ItemProcessor` (or `Iterator`)"))?;
    let dist = compile_dist(m, ptr, ctx_probe, ctx_strings)?;
    let selector = m.item_selector.as_ref().or(m.result.parameters.as_ref());
    if let Some(v) = selector {
        ctx_probe.push(v);
    }
    if let Some(v) = &m.result.result_selector {
        ctx_probe.push(v);
    }
    let field = |name: &str| format!("{ptr}/{name}");
    Ok(Kind::Map(Box::new(MapK {
        processor: compile_branch(processor, lang, &field("ItemProcessor"))?,
        distributed: m.mode() == "DISTRIBUTED",
        items_path: path(&m.items_path, &field("ItemsPath"))?,
        item_selector: template(&selector.cloned(), &field("ItemSelector"))?,
        item_context_map_only: selector.is_some_and(|v| !mentions(v, |s| !reads_only_map(s))),
        result_selector: template(&m.result.result_selector, &field("ResultSelector"))?,
        result_path: result_path(&m.result.result_path, &field("ResultPath"))?,
        max_concurrency: number(
            &m.max_concurrency,
            &m.max_concurrency_path,
            "MaxConcurrencyPath",
            ptr,
        )?,
        tolerated_count: number(
            &m.tolerated_failure_count,
            &m.tolerated_failure_count_path,
            "ToleratedFailureCountPath",
            ptr,
        )?,
        tolerated_percentage: number(
            &m.tolerated_failure_percentage,
            &m.tolerated_failure_percentage_path,
            "ToleratedFailurePercentagePath",
            ptr,
        )?,
        errors: errors(&m.errors.retry, &m.errors.catch, index, ptr)?,
        dist,
    })))
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use crate::{Runtime, TaskContext, TaskError};

    fn machine(def: Value) -> workflow_asl::StateMachine {
        workflow_asl::parse_str(&def.to_string())
            .expect("JSON")
            .machine
            .expect("an object")
    }

    fn pass(parameters: Value) -> Value {
        json!({"Type": "Pass", "Parameters": parameters, "End": true})
    }

    /// `(state, whether the program may build a context object, the output on {"k": 1})`.
    fn cases() -> Vec<(Value, bool, Value)> {
        let inner = json!({"StartAt": "P", "States": {"P": pass(json!({"v.$": "$"}))}});
        vec![
            (pass(json!({"v.$": "$.k"})), false, json!({"v": 1})),
            (
                pass(json!({"v.$": "$$.Execution.Input"})),
                true,
                json!({"v": {"k": 1}}),
            ),
            (
                pass(json!({"a": {"v.$": "$$.Execution.Input.k"}})),
                true,
                json!({"a": {"v": 1}}),
            ),
            (
                json!({"Type": "Task", "Resource": "echo_context", "End": true}),
                true,
                json!({"k": 1}),
            ),
            (
                json!({"Type": "Parallel", "Branches": [inner.clone()], "End": true}),
                false,
                json!([{"v": {"k": 1}}]),
            ),
            (
                json!({"Type": "Parallel", "End": true, "Branches": [{"StartAt": "P", "States":
                    {"P": pass(json!({"v.$": "$$.Execution.Input.k"}))}}]}),
                true,
                json!([{"v": 1}]),
            ),
            (
                json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": inner.clone(),
                    "End": true}),
                false,
                json!([{"v": 1}]),
            ),
            (
                json!({"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": inner,
                    "ItemSelector": {"i.$": "$$.Map.Item.Value", "x.$": "$$.Execution.Input.k"},
                    "End": true}),
                true,
                json!([{"v": {"i": 1, "x": 1}}]),
            ),
        ]
    }

    #[tokio::test(start_paused = true)]
    async fn only_programs_that_build_a_context_keep_the_input() {
        let rt = Runtime::builder()
            .seed(1)
            .raw_handler("echo_context", |_: Value, cx: TaskContext| async move {
                Ok::<_, TaskError>(cx.context()["Execution"]["Input"].clone())
            })
            .build();
        for (state, reads, want) in cases() {
            let program = rt
                .program(&machine(json!({"StartAt": "S", "States": {"S": state}})))
                .expect("compiles");
            assert_eq!(program.reads_context, reads, "{state}");
            let input = if state["Type"] == "Map" {
                json!({"items": [1], "k": 1})
            } else {
                json!({"k": 1})
            };
            let outcome = rt.run(&program, input).await.expect("starts");
            assert_eq!(outcome.output, Some(want), "{state}: {:?}", outcome.cause);
        }
    }

    #[test]
    fn only_paths_that_can_reach_the_execution_input_copy_it() {
        for (s, reads) in [
            ("$$.Map.Item.Index", false),
            ("$$.Execution.Id", false),
            (
                "States.Format('{}-{}', $$.Execution.Name, $$.State.EnteredTime)",
                false,
            ),
            ("$$.Execution.Input.order", true),
            ("$$.Execution", true),
            ("$$", true),
            ("States.Array($$.Map.Item.Value, $$.Execution.Input)", true),
            ("$.plain", false),
        ] {
            assert_eq!(crate::program::reads_execution_input(s), reads, "{s}");
        }
    }
}
