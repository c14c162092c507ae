//! Phase 2: the syntax tree lowered to ASL JSON, remembering where every JSON pointer came from.
//!
//! The DSL is a notation for ASL, so its internal model *is* the ASL model: each workflow becomes a
//! `serde_json::Value` that [`workflow_asl::parse`] reads and [`workflow_asl::validate`] judges,
//! exactly as for a file. [`Spans`] maps every JSON pointer written here back to the DSL tokens
//! that produced it, so each diagnostic of the shared validator lands on the right token.
//!
//! Rules that only make sense for the notation (a field named twice, `->` on a Choice, a `_` arm
//! that is not last, …) are reported here, each where it is detected.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};
use syn::Ident;
use workflow_asl::diag::{did_you_mean, push_pointer};

use crate::ctxt::{Ctxt, Range};
use crate::parse::choice::{Op, Operand, Rule};
use crate::parse::json::{JKind, J};
use crate::parse::{Arg, Body, CatchSyn, KindSyn, Name, NextSyn, RetrySyn, StateSyn, WorkflowSyn};

/// Where the key and the value of a JSON pointer were written.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The key (a field name, a state name).
    pub key: Range,
    /// The value.
    pub value: Range,
}

/// JSON pointer → source range.
#[derive(Default)]
pub struct Spans {
    map: HashMap<String, Entry>,
}

impl Spans {
    /// Records where `ptr` was written.
    pub fn put(&mut self, ptr: &str, key: Range, value: Range) {
        self.map.insert(ptr.to_string(), Entry { key, value });
    }

    /// The entry of `ptr`, or of its nearest ancestor that has one.
    pub fn lookup(&self, ptr: &str) -> Option<(&str, Entry)> {
        let mut p = ptr;
        loop {
            if let Some((k, e)) = self.map.get_key_value(p) {
                return Some((k.as_str(), *e));
            }
            let cut = p.rfind('/')?;
            p = &p[..cut];
        }
    }
}

/// A branch or item processor that names a workflow type outside this invocation: the ASL holds a
/// placeholder that expansion replaces with the type's `__BRANCH_HEAD` / `__BRANCH_TAIL` consts.
#[derive(Clone)]
pub struct External {
    /// The placeholder state name (unique in the invocation).
    pub marker: String,
    /// The workflow type.
    pub path: syn::Path,
    /// The Map `ProcessorConfig` written in the placeholder, if any.
    pub config: Option<Value>,
}

impl External {
    /// The placeholder branch object.
    pub fn placeholder(&self) -> Value {
        let mut o = Map::new();
        if let Some(c) = &self.config {
            o.insert("ProcessorConfig".into(), c.clone());
        }
        o.insert("StartAt".into(), self.marker.clone().into());
        let mut succeed = Map::new();
        succeed.insert("Type".into(), "Succeed".into());
        let mut states = Map::new();
        states.insert(self.marker.clone(), Value::Object(succeed));
        o.insert("States".into(), Value::Object(states));
        Value::Object(o)
    }
}

/// A Task state bound to a Rust handler.
pub struct TaskBinding {
    /// The state name.
    pub state: String,
    /// The handler path as written.
    pub handler: syn::Path,
    /// The `Resource` the handler is registered under.
    pub resource: String,
}

/// One workflow lowered to ASL.
#[derive(Default)]
pub struct Lowered {
    /// The ASL, with placeholders for external branches.
    pub value: Value,
    /// Where each pointer came from.
    pub spans: Spans,
    /// Typed task handlers, in state order.
    pub tasks: Vec<TaskBinding>,
    /// External branch placeholders (including those inherited from inlined workflows).
    pub externals: Vec<External>,
    /// Every workflow type used as a branch or item processor, in order.
    pub subs: Vec<syn::Path>,
    /// The Parallel and Map states of the workflow (not of its branches): each state's name and
    /// the workflow types of its branches, or of its item processor.
    pub nested: Vec<(String, Vec<syn::Path>)>,
    /// The Parallel and Map states of `nested` whose branches (or item processor) are all
    /// workflows of this invocation declared with types (`: I -> O`): their output type is known
    /// (the tuple of the branch outputs, or a `Vec` of the item output).
    pub typed_nested: Vec<String>,
    /// Whether the workflow is declared with types (`: I -> O`).
    pub typed: bool,
    /// Pointers of branches inlined from workflows of this invocation.
    pub inlined: Vec<String>,
    /// States whose definition did not parse.
    pub broken: Vec<String>,
    /// Names of the states, in order, with where they were written.
    pub states: Vec<Name>,
    /// `#[workflow(crate = "…")]`.
    pub crate_path: Option<syn::Path>,
    /// State pointers whose missing transition was already reported.
    pub silenced: Vec<String>,
    /// For a workflow read from a file: the path as written, and as read (for `include_str!`).
    pub file: Option<(String, String)>,
}

const COMMON: &[&str] = &[
    "query",
    "query_language",
    "input_path",
    "output_path",
    "output",
    "assign",
    "raw",
];
const TASK: &[&str] = &[
    "resource",
    "parameters",
    "arguments",
    "result_selector",
    "result_path",
    "timeout_seconds",
    "timeout_seconds_path",
    "heartbeat_seconds",
    "heartbeat_seconds_path",
    "credentials",
];
const PASS: &[&str] = &["result", "parameters", "result_path"];
const WAIT: &[&str] = &["seconds", "timestamp", "seconds_path", "timestamp_path"];
const FAIL: &[&str] = &[
    "query",
    "query_language",
    "raw",
    "error",
    "error_path",
    "cause",
    "cause_path",
];
const PARALLEL: &[&str] = &["parameters", "arguments", "result_selector", "result_path"];
const MAP: &[&str] = &[
    "items_path",
    "items",
    "item_selector",
    "item_reader",
    "item_batcher",
    "result_writer",
    "max_concurrency",
    "max_concurrency_path",
    "tolerated_failure_percentage",
    "tolerated_failure_percentage_path",
    "tolerated_failure_count",
    "tolerated_failure_count_path",
    "label",
    "processor_config",
];
const RETRY: &[&str] = &[
    "interval_seconds",
    "max_attempts",
    "backoff_rate",
    "max_delay_seconds",
    "jitter_strategy",
    "comment",
    "raw",
];
const CATCH: &[&str] = &["result_path", "output", "assign", "comment", "raw"];
const ARM: &[&str] = &["assign", "output", "comment", "raw"];
const WORKFLOW: &[&str] = &[
    "query",
    "version",
    "timeout_seconds",
    "query_language",
    "comment",
    "raw",
    "crate",
];

/// The DSL fields of a state kind.
fn fields_of(kind: &KindSyn) -> Vec<&'static str> {
    let parts: &[&[&str]] = match kind {
        KindSyn::Task { .. } => &[COMMON, TASK],
        KindSyn::Pass => &[COMMON, PASS],
        KindSyn::Choice { .. } | KindSyn::Succeed => &[COMMON],
        KindSyn::Wait => &[COMMON, WAIT],
        KindSyn::Fail => &[FAIL],
        KindSyn::Parallel { .. } => &[COMMON, PARALLEL],
        KindSyn::Map { .. } => &[COMMON, PARALLEL, MAP],
    };
    parts.concat()
}

/// `input_path` → `InputPath`.
pub fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The state `Type` of a kind.
fn type_name(kind: &KindSyn) -> &'static str {
    match kind {
        KindSyn::Task { .. } => "Task",
        KindSyn::Pass => "Pass",
        KindSyn::Choice { .. } => "Choice",
        KindSyn::Wait => "Wait",
        KindSyn::Succeed => "Succeed",
        KindSyn::Fail => "Fail",
        KindSyn::Parallel { .. } => "Parallel",
        KindSyn::Map { .. } => "Map",
    }
}

/// Lowers every workflow of an invocation, inlining branches that name workflows of the same
/// invocation (so their graph is checked together with the parent's) and leaving placeholders
/// for the others.
pub fn lower_all(cx: &Ctxt, workflows: &[WorkflowSyn], bodies: &[Body]) -> Vec<Lowered> {
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, w) in workflows.iter().enumerate() {
        if index.insert(w.name.to_string(), i).is_some() {
            cx.error_spanned_by(
                &w.name,
                format!("duplicate workflow `{}` in this `workflow!`", w.name),
            );
        }
    }
    // Dependency order: a workflow is lowered after the workflows it inlines.
    let deps: Vec<Vec<usize>> = bodies
        .iter()
        .map(|b| {
            b.states
                .iter()
                .flat_map(|s| sub_paths(&s.kind))
                .filter_map(|p| {
                    p.get_ident()
                        .and_then(|id| index.get(&id.to_string()))
                        .copied()
                })
                .collect()
        })
        .collect();
    let mut order = Vec::new();
    let mut mark = vec![0u8; workflows.len()];
    fn visit(i: usize, deps: &[Vec<usize>], mark: &mut [u8], order: &mut Vec<usize>) {
        if mark[i] != 0 {
            return;
        }
        mark[i] = 1;
        for &d in &deps[i] {
            visit(d, deps, mark, order);
        }
        mark[i] = 2;
        order.push(i);
    }
    for i in 0..workflows.len() {
        visit(i, &deps, &mut mark, &mut order);
    }
    let mut done: Vec<Option<Lowered>> = (0..workflows.len()).map(|_| None).collect();
    let mut counter = 0usize;
    for i in order {
        let l = {
            let mut lw = LowerWorkflow {
                cx,
                index: &index,
                done: &done,
                counter: &mut counter,
                out: Lowered {
                    typed: workflows[i].io.is_some() && workflows[i].file.is_none(),
                    ..Lowered::default()
                },
                self_index: i,
            };
            match &workflows[i].file {
                Some(f) => lw.file(&workflows[i], f),
                None => lw.workflow(&workflows[i], &bodies[i]),
            }
            lw.out
        };
        done[i] = Some(l);
    }
    done.into_iter()
        .map(|l| l.expect("every workflow is lowered once, in dependency order"))
        .collect()
}

fn sub_paths(kind: &KindSyn) -> Vec<&syn::Path> {
    match kind {
        KindSyn::Parallel { branches } => branches.iter().collect(),
        KindSyn::Map { processor } => vec![processor],
        _ => Vec::new(),
    }
}

struct LowerWorkflow<'a> {
    cx: &'a Ctxt,
    index: &'a HashMap<String, usize>,
    done: &'a [Option<Lowered>],
    counter: &'a mut usize,
    out: Lowered,
    self_index: usize,
}

impl LowerWorkflow<'_> {
    fn workflow(&mut self, w: &WorkflowSyn, body: &Body) {
        let mut root = Map::new();
        let name = Range::one(w.name.span());
        self.out.spans.put("", name, name);
        // Doc comments and `#[workflow(…)]`.
        let mut docs = Vec::new();
        for attr in &w.attrs {
            if attr.path().is_ident("doc") {
                docs.push(attr.clone());
            } else if attr.path().is_ident("workflow") {
                match attr.parse_args_with(crate::parse::parse_args) {
                    Ok(args) => self.workflow_args(&mut root, &args),
                    Err(e) => self.cx.syn_error(e),
                }
            } else {
                self.cx.error_spanned_by(
                    attr,
                    "only doc comments and `#[workflow(…)]` are allowed on a workflow",
                );
            }
        }
        match crate::parse::doc_of(&docs) {
            Ok(Some(doc)) if !root.contains_key("Comment") => {
                root.insert("Comment".into(), doc.into());
            }
            Ok(_) => {}
            Err(e) => self.cx.syn_error(e),
        }
        // `start`.
        match body.starts.as_slice() {
            [] => self.cx.error_spanned_by(
                &w.name,
                format!(
                    "workflow `{}` has no `start <State>;` statement naming its first state",
                    w.name
                ),
            ),
            [first, rest @ ..] => {
                root.insert("StartAt".into(), first.text.clone().into());
                self.out.spans.put("/StartAt", first.range, first.range);
                for s in rest {
                    self.cx.error(
                        s.range,
                        "`start` is written twice; a workflow has one first state",
                    );
                }
            }
        }
        if !root.contains_key("StartAt") {
            // Keep the model readable; the missing `start` is already reported.
            let first = body
                .states
                .first()
                .map(|s| s.name.text.clone())
                .unwrap_or_default();
            root.insert("StartAt".into(), first.into());
        }
        // States.
        let mut states = Map::new();
        let mut seen: HashSet<String> = HashSet::new();
        for s in &body.states {
            if !seen.insert(s.name.text.clone()) {
                self.cx.error(
                    s.name.range,
                    format!(
                        "duplicate state `{}`; state names are unique in a workflow",
                        s.name.text
                    ),
                );
                continue;
            }
            let ptr = push_pointer("/States", &s.name.text);
            self.out.spans.put(&ptr, s.name.range, s.name.range);
            self.out.states.push(s.name.clone());
            let v = self.state(s, &ptr);
            states.insert(s.name.text.clone(), v);
        }
        for b in &body.broken {
            if seen.insert(b.text.clone()) {
                let ptr = push_pointer("/States", &b.text);
                self.out.spans.put(&ptr, b.range, b.range);
                // Not a state object: the validator treats it as a name that exists but could not
                // be read, so transitions to it are not reported again.
                states.insert(b.text.clone(), Value::Null);
                self.out.broken.push(ptr);
            }
        }
        root.insert("States".into(), Value::Object(states));
        self.out.value = Value::Object(root);
        if body.states.is_empty() && body.broken.is_empty() {
            self.cx.error(
                Range::one(w.brace),
                format!("workflow `{}` has no states", w.name),
            );
        }
    }

    /// A workflow read from an ASL file: the file is the ASL (validated like any other), its
    /// top-level states are the state enum, and the bindings register Rust handlers for its
    /// Task resources. Every diagnostic is reported at the path literal, with its JSON pointer.
    fn file(&mut self, w: &WorkflowSyn, f: &crate::parse::FileSyn) {
        let at = Range::one(f.path.span());
        self.out.spans.put("", at, at);
        for attr in &w.attrs {
            if attr.path().is_ident("doc") {
                continue;
            }
            if !attr.path().is_ident("workflow") {
                self.cx.error_spanned_by(
                    attr,
                    "only doc comments and `#[workflow(crate = \"…\")]` are allowed on a workflow read from a file",
                );
                continue;
            }
            match attr.parse_args_with(crate::parse::parse_args) {
                Ok(args) => {
                    for a in args {
                        match (&a.key, &a.value.kind) {
                            (k, JKind::Str(s)) if k == "crate" => match syn::parse_str(s) {
                                Ok(p) => self.out.crate_path = Some(p),
                                Err(_) => self.cx.error(a.value.range, format!("`{s}` is not a path")),
                            },
                            (k, _) => self.cx.error(
                                Range::one(k.span()),
                                format!("a workflow read from a file takes only `crate = \"…\"`; set `{k}` in the file"),
                            ),
                        }
                    }
                }
                Err(e) => self.cx.syn_error(e),
            }
        }
        let written = f.path.value();
        let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
        let full = std::path::Path::new(&dir).join(&written);
        let full_text = full.to_string_lossy().into_owned();
        // Until the file is read, everything else about it would be noise.
        self.out.broken.push(String::new());
        let text = match std::fs::read_to_string(&full) {
            Ok(t) => t,
            Err(e) => {
                self.cx.error(at, format!("cannot read `{full_text}`: {e}"));
                return;
            }
        };
        let parsed = match workflow_asl::json::parse(&text) {
            Ok(p) => p,
            Err(d) => {
                self.cx
                    .error(at, format!("`{written}` is not JSON: {}", d.message));
                return;
            }
        };
        self.out.broken.clear();
        self.out.file = Some((written.clone(), full_text));
        for d in &parsed.duplicates {
            self.cx.error(
                at,
                format!("in `{written}` at {}: {}", d.pointer, d.message),
            );
        }
        self.out.value = parsed.value;
        if let Some(Value::Object(states)) = self.out.value.get("States") {
            for name in states.keys() {
                let ident = syn::parse_str::<Ident>(name)
                    .ok()
                    .map(|_| Ident::new(name, f.path.span()));
                self.out.states.push(Name {
                    text: name.clone(),
                    range: at,
                    ident,
                });
            }
        }
        // Every Task resource in the file, with the name of its state when it is top-level.
        let mut tasks: Vec<(String, String)> = Vec::new();
        let mut stack = vec![(&self.out.value, true)];
        while let Some((v, top)) = stack.pop() {
            let Some(Value::Object(states)) = v.get("States") else {
                continue;
            };
            for (name, st) in states {
                if st.get("Type").and_then(Value::as_str) == Some("Task") {
                    if let Some(r) = st.get("Resource").and_then(Value::as_str) {
                        tasks.push((
                            if top { name.clone() } else { String::new() },
                            r.to_string(),
                        ));
                    }
                }
                if let Some(Value::Array(branches)) = st.get("Branches") {
                    stack.extend(branches.iter().map(|b| (b, false)));
                }
                for key in ["ItemProcessor", "Iterator"] {
                    if let Some(p) = st.get(key) {
                        stack.push((p, false));
                    }
                }
            }
        }
        for (resource, handler) in &f.bindings {
            let r = resource.value();
            let matching: Vec<&(String, String)> = tasks.iter().filter(|(_, t)| *t == r).collect();
            if matching.is_empty() {
                let hint = did_you_mean(&r, tasks.iter().map(|(_, t)| t.as_str()))
                    .map(|s| format!("; did you mean \"{s}\"?"))
                    .unwrap_or_default();
                self.cx.error(
                    Range::one(resource.span()),
                    format!("no Task state of `{written}` has the resource \"{r}\"{hint}"),
                );
                continue;
            }
            let mut bound = false;
            for (state, _) in matching {
                if !state.is_empty() {
                    bound = true;
                    self.out.tasks.push(TaskBinding {
                        state: state.clone(),
                        handler: handler.clone(),
                        resource: r.clone(),
                    });
                }
            }
            if !bound {
                // Only inside branches: registered, but no typed edge of this workflow.
                self.out.tasks.push(TaskBinding {
                    state: String::new(),
                    handler: handler.clone(),
                    resource: r,
                });
            }
        }
    }

    fn workflow_args(&mut self, root: &mut Map<String, Value>, args: &[Arg]) {
        let mut raw = None;
        for a in args {
            let key = a.key.to_string();
            if !self.known(&a.key, WORKFLOW, "`#[workflow(…)]`") {
                continue;
            }
            match key.as_str() {
                "raw" => raw = Some(a),
                "query" => self.query(root, a, ""),
                "crate" => match &a.value.kind {
                    JKind::Str(s) => match syn::parse_str::<syn::Path>(s) {
                        Ok(p) => self.out.crate_path = Some(p),
                        Err(_) => self.cx.error(a.value.range, format!("`{s}` is not a path")),
                    },
                    _ => self.cx.error(
                        a.value.range,
                        "`crate` takes a string: `crate = \"my_workflow\"`",
                    ),
                },
                _ => {
                    let asl = pascal(&key);
                    let ptr = push_pointer("", &asl);
                    let v = self.json(&a.value, &ptr, true);
                    self.set(root, &a.key, asl, v, &ptr, a);
                }
            }
        }
        if let Some(a) = raw {
            self.raw(root, a, "");
        }
    }

    /// Whether `key` is one of `allowed`; reports it otherwise.
    fn known(&self, key: &Ident, allowed: &[&str], what: &str) -> bool {
        let k = key.to_string();
        if allowed.contains(&k.as_str()) {
            return true;
        }
        let hint = did_you_mean(&k, allowed.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        self.cx.error(
            Range::one(key.span()),
            format!(
                "unknown field `{k}` for {what}{hint} (expected one of: `{}`; `raw = {{ … }}` adds any ASL field)",
                allowed.join("`, `")
            ),
        );
        false
    }

    fn set(
        &mut self,
        o: &mut Map<String, Value>,
        key: &Ident,
        asl: String,
        v: Value,
        ptr: &str,
        a: &Arg,
    ) {
        if o.contains_key(&asl) {
            self.cx
                .error(Range::one(key.span()), format!("`{key}` is set twice"));
            return;
        }
        self.out
            .spans
            .put(ptr, Range::one(key.span()), a.value.range);
        o.insert(asl, v);
    }

    /// `query = jsonata` / `query = jsonpath`: the `QueryLanguage` field.
    fn query(&mut self, o: &mut Map<String, Value>, a: &Arg, base: &str) {
        let lang = match &a.value.kind {
            JKind::Str(s) if s.eq_ignore_ascii_case("jsonata") => "JSONata",
            JKind::Str(s) if s.eq_ignore_ascii_case("jsonpath") => "JSONPath",
            _ => {
                self.cx.error(
                    a.value.range,
                    "`query` is `jsonata` or `jsonpath` (the `QueryLanguage` field)",
                );
                return;
            }
        };
        let ptr = push_pointer(base, "QueryLanguage");
        self.set(o, &a.key, "QueryLanguage".into(), lang.into(), &ptr, a);
    }

    /// Merges `raw = { … }` into `o`.
    fn raw(&mut self, o: &mut Map<String, Value>, a: &Arg, base: &str) {
        let JKind::Obj(entries) = &a.value.kind else {
            self.cx.error(
                a.value.range,
                "`raw` takes a JSON object of ASL fields: `raw = { \"Field\": … }`",
            );
            return;
        };
        for (k, v) in entries {
            let ptr = push_pointer(base, &k.text);
            if o.contains_key(&k.text) {
                self.cx.error(
                    k.range,
                    format!("`raw` sets `{}`, which is already set", k.text),
                );
                continue;
            }
            let value = self.json(v, &ptr, true);
            self.out.spans.put(&ptr, k.range, v.range);
            o.insert(k.text.clone(), value);
        }
    }

    /// Lowers the `key = value` fields of `allowed` into `o` (ASL names), with `raw` merged last.
    fn args<'s>(
        &mut self,
        o: &mut Map<String, Value>,
        args: impl IntoIterator<Item = &'s Arg>,
        allowed: &[&str],
        what: &str,
        base: &str,
    ) {
        let mut raw = None;
        for a in args {
            if !self.known(&a.key, allowed, what) {
                continue;
            }
            if a.key == "raw" {
                raw = Some(a);
                continue;
            }
            if a.key == "query" {
                self.query(o, a, base);
                continue;
            }
            let asl = pascal(&a.key.to_string());
            let ptr = push_pointer(base, &asl);
            let v = self.json(&a.value, &ptr, true);
            self.set(o, &a.key, asl, v, &ptr, a);
        }
        if let Some(a) = raw {
            self.raw(o, a, base);
        }
    }

    /// Lowers a JSON literal. `top`: the whole value of a field, where a path is a plain string.
    fn json(&mut self, j: &J, ptr: &str, top: bool) -> Value {
        match &j.kind {
            JKind::Null => Value::Null,
            JKind::Bool(b) => Value::Bool(*b),
            JKind::Num(n) => Value::Number(n.clone()),
            JKind::Str(s) => Value::String(s.clone()),
            JKind::Path(p) | JKind::Intrinsic(p) => {
                if !top {
                    self.cx.error(
                        j.range,
                        "ASL does not evaluate a path or intrinsic call inside an array; use `States.Array(…)` as the value of a field instead",
                    );
                }
                Value::String(p.clone())
            }
            JKind::Arr(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let p = push_pointer(ptr, &i.to_string());
                        self.out.spans.put(&p, item.range, item.range);
                        self.json(item, &p, false)
                    })
                    .collect(),
            ),
            JKind::Obj(entries) => {
                let mut o = Map::new();
                for (k, v) in entries {
                    let (key, value) = match &v.kind {
                        JKind::Path(p) | JKind::Intrinsic(p) => {
                            let key = if k.text.ends_with(".$") {
                                k.text.clone()
                            } else {
                                format!("{}.$", k.text)
                            };
                            (key, Value::String(p.clone()))
                        }
                        _ => {
                            let p = push_pointer(ptr, &k.text);
                            (k.text.clone(), self.json(v, &p, false))
                        }
                    };
                    if o.contains_key(&key) {
                        self.cx.error(k.range, format!("duplicate key `{key}`"));
                        continue;
                    }
                    self.out
                        .spans
                        .put(&push_pointer(ptr, &key), k.range, v.range);
                    o.insert(key, value);
                }
                Value::Object(o)
            }
        }
    }

    fn state(&mut self, s: &StateSyn, ptr: &str) -> Value {
        let mut o = Map::new();
        o.insert("Type".into(), type_name(&s.kind).into());
        if let Some(doc) = &s.doc {
            o.insert("Comment".into(), doc.clone().into());
        }
        let allowed = fields_of(&s.kind);
        let what = format!("a `{}` state", s.kw);
        // Map's `processor_config` belongs to the item processor, not the state.
        let mut config = None;
        let args: Vec<&Arg> = s
            .args
            .iter()
            .filter(|a| {
                if matches!(s.kind, KindSyn::Map { .. }) && a.key == "processor_config" {
                    config = Some(*a);
                    false
                } else {
                    true
                }
            })
            .collect();
        self.args(&mut o, args, &allowed, &what, ptr);
        match &s.kind {
            KindSyn::Task { handler } => {
                if let Some(h) = handler {
                    let resource = match o.get("Resource") {
                        Some(Value::String(r)) => r.clone(),
                        _ => {
                            let last = h
                                .segments
                                .last()
                                .map(|seg| seg.ident.to_string())
                                .unwrap_or_default();
                            let r = format!("${{{last}}}");
                            o.insert("Resource".into(), r.clone().into());
                            self.out.spans.put(
                                &push_pointer(ptr, "Resource"),
                                Range::of(h),
                                Range::of(h),
                            );
                            r
                        }
                    };
                    self.out.tasks.push(TaskBinding {
                        state: s.name.text.clone(),
                        handler: h.clone(),
                        resource,
                    });
                }
            }
            KindSyn::Choice { arms } => self.choice(&mut o, arms, ptr),
            KindSyn::Parallel { branches } => {
                let mut list = Vec::new();
                for (i, b) in branches.iter().enumerate() {
                    let p = push_pointer(&push_pointer(ptr, "Branches"), &i.to_string());
                    list.push(self.branch(b, &p, None));
                }
                o.insert("Branches".into(), Value::Array(list));
                if !branches.is_empty() && branches.iter().all(|b| self.typed_local(b)) {
                    self.out.typed_nested.push(s.name.text.clone());
                }
                self.out
                    .nested
                    .push((s.name.text.clone(), branches.clone()));
            }
            KindSyn::Map { processor } => {
                let cfg = config.map(|a| {
                    let p = push_pointer(&push_pointer(ptr, "ItemProcessor"), "ProcessorConfig");
                    self.out
                        .spans
                        .put(&p, Range::one(a.key.span()), a.value.range);
                    self.json(&a.value, &p, true)
                });
                let p = push_pointer(ptr, "ItemProcessor");
                let v = self.branch(processor, &p, cfg);
                o.insert("ItemProcessor".into(), v);
                if self.typed_local(processor) {
                    self.out.typed_nested.push(s.name.text.clone());
                }
                self.out
                    .nested
                    .push((s.name.text.clone(), vec![processor.clone()]));
            }
            KindSyn::Pass | KindSyn::Wait | KindSyn::Succeed | KindSyn::Fail => {}
        }
        if !s.retries.is_empty() {
            let list: Vec<Value> = s
                .retries
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    self.retry(
                        r,
                        &push_pointer(&push_pointer(ptr, "Retry"), &i.to_string()),
                    )
                })
                .collect();
            o.insert("Retry".into(), Value::Array(list));
        }
        if !s.catches.is_empty() {
            let list: Vec<Value> = s
                .catches
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    self.catch(
                        c,
                        &push_pointer(&push_pointer(ptr, "Catch"), &i.to_string()),
                    )
                })
                .collect();
            o.insert("Catch".into(), Value::Array(list));
        }
        if !matches!(
            s.kind,
            KindSyn::Task { .. } | KindSyn::Parallel { .. } | KindSyn::Map { .. }
        ) {
            for r in &s.retries {
                self.cx.error(
                    r.errors.range,
                    format!(
                        "a `{}` state cannot retry; only `task`, `parallel` and `map` can",
                        s.kw
                    ),
                );
            }
            for c in &s.catches {
                self.cx.error(
                    c.errors.range,
                    format!(
                        "a `{}` state cannot catch; only `task`, `parallel` and `map` can",
                        s.kw
                    ),
                );
            }
        }
        // Transition.
        let terminal = matches!(
            s.kind,
            KindSyn::Choice { .. } | KindSyn::Succeed | KindSyn::Fail
        );
        match (&s.next, terminal) {
            (Some(_), true) => {
                let why = match s.kind {
                    KindSyn::Choice { .. } => "its arms name the next states",
                    KindSyn::Succeed => "it ends the workflow",
                    _ => "it ends the workflow with an error",
                };
                self.cx.error(
                    s.arrow.unwrap_or(s.name.range),
                    format!("a `{}` state has no `->`: {why}", s.kw),
                );
            }
            (None, false) => {
                self.out.silenced.push(ptr.to_string());
                self.cx.error(
                    s.name.range,
                    format!(
                        "state `{}` needs a transition: `-> NextState` or `-> end`",
                        s.name.text
                    ),
                );
            }
            (Some(NextSyn::Next(n)), false) => {
                o.insert("Next".into(), n.text.clone().into());
                self.out
                    .spans
                    .put(&push_pointer(ptr, "Next"), n.range, n.range);
            }
            (Some(NextSyn::End(r)), false) => {
                o.insert("End".into(), true.into());
                self.out.spans.put(&push_pointer(ptr, "End"), *r, *r);
            }
            (None, true) => {}
        }
        Value::Object(o)
    }

    /// Whether `path` names a workflow of this invocation declared with types.
    fn typed_local(&self, path: &syn::Path) -> bool {
        path.get_ident()
            .and_then(|id| self.index.get(&id.to_string()))
            .and_then(|&i| self.done[i].as_ref())
            .is_some_and(|l| l.typed)
    }

    /// A Parallel branch or Map item processor: inlined when it names a workflow of this
    /// invocation, else a placeholder for the type's consts.
    fn branch(&mut self, path: &syn::Path, ptr: &str, mut config: Option<Value>) -> Value {
        self.out.subs.push(path.clone());
        self.out.spans.put(ptr, Range::of(path), Range::of(path));
        let local = path
            .get_ident()
            .and_then(|id| self.index.get(&id.to_string()).copied());
        if let Some(i) = local {
            match &self.done[i] {
                Some(sub) if i != self.self_index => {
                    let mut o = Map::new();
                    let Value::Object(src) = &sub.value else {
                        return Value::Null;
                    };
                    for (k, v) in src {
                        if k == "Version" || k == "TimeoutSeconds" {
                            self.cx.error_spanned_by(
                                path,
                                format!(
                                    "workflow `{}` sets `{}`, which a Parallel branch or Map item processor cannot have",
                                    quote::ToTokens::to_token_stream(path),
                                    crate::lower::snake(k)
                                ),
                            );
                            continue;
                        }
                        if k == "StartAt" {
                            if let Some(c) = config.take() {
                                o.insert("ProcessorConfig".into(), c);
                            }
                        }
                        o.insert(k.clone(), v.clone());
                    }
                    self.out.inlined.push(ptr.to_string());
                    self.out.externals.extend(sub.externals.iter().cloned());
                    return Value::Object(o);
                }
                _ => {
                    self.cx.error_spanned_by(
                        path,
                        format!(
                            "workflow `{}` contains itself (through its branches or item processors)",
                            quote::ToTokens::to_token_stream(path)
                        ),
                    );
                }
            }
        }
        *self.counter += 1;
        let ext = External {
            marker: format!("__workflow_branch_{}", *self.counter),
            path: path.clone(),
            config,
        };
        let v = ext.placeholder();
        self.out.externals.push(ext);
        v
    }

    fn errors(&mut self, o: &mut Map<String, Value>, list: &crate::parse::ErrorList, ptr: &str) {
        let p = push_pointer(ptr, "ErrorEquals");
        self.out.spans.put(&p, list.range, list.range);
        let mut names = Vec::new();
        for (i, (n, r)) in list.names.iter().enumerate() {
            self.out
                .spans
                .put(&push_pointer(&p, &i.to_string()), *r, *r);
            names.push(Value::String(n.clone()));
        }
        o.insert("ErrorEquals".into(), Value::Array(names));
    }

    fn retry(&mut self, r: &RetrySyn, ptr: &str) -> Value {
        let mut o = Map::new();
        self.out.spans.put(ptr, r.errors.range, r.errors.range);
        self.errors(&mut o, &r.errors, ptr);
        self.args(&mut o, &r.args, RETRY, "`.retry(…)`", ptr);
        Value::Object(o)
    }

    fn catch(&mut self, c: &CatchSyn, ptr: &str) -> Value {
        let mut o = Map::new();
        self.out.spans.put(ptr, c.errors.range, c.errors.range);
        self.errors(&mut o, &c.errors, ptr);
        o.insert("Next".into(), c.target.text.clone().into());
        self.out
            .spans
            .put(&push_pointer(ptr, "Next"), c.target.range, c.target.range);
        self.args(&mut o, &c.args, CATCH, "`.catch(…)`", ptr);
        Value::Object(o)
    }

    fn choice(&mut self, o: &mut Map<String, Value>, arms: &[crate::parse::ArmSyn], ptr: &str) {
        let mut rules = Vec::new();
        let mut default: Option<&Name> = None;
        let choices_ptr = push_pointer(ptr, "Choices");
        for (i, arm) in arms.iter().enumerate() {
            let Some(rule) = &arm.rule else {
                if default.is_some() {
                    self.cx.error(arm.rule_range, "`_ => …` is written twice");
                } else if i + 1 != arms.len() {
                    self.cx.error(
                        arm.rule_range,
                        "`_ => …` (the default) must be the last arm",
                    );
                }
                for a in &arm.args {
                    self.cx.error(
                        Range::one(a.key.span()),
                        "the default arm (`_ => …`) takes no fields",
                    );
                }
                default.get_or_insert(&arm.target);
                continue;
            };
            let p = push_pointer(&choices_ptr, &rules.len().to_string());
            self.out.spans.put(&p, arm.rule_range, arm.rule_range);
            let mut r = self.rule(rule, &p);
            if let Some(doc) = &arm.doc {
                r.insert("Comment".into(), doc.clone().into());
            }
            r.insert("Next".into(), arm.target.text.clone().into());
            self.out.spans.put(
                &push_pointer(&p, "Next"),
                arm.target.range,
                arm.target.range,
            );
            self.args(&mut r, &arm.args, ARM, "a Choice arm", &p);
            rules.push(Value::Object(r));
        }
        o.insert("Choices".into(), Value::Array(rules));
        if let Some(d) = default {
            o.insert("Default".into(), d.text.clone().into());
            self.out
                .spans
                .put(&push_pointer(ptr, "Default"), d.range, d.range);
        }
    }

    fn rule(&mut self, rule: &Rule, ptr: &str) -> Map<String, Value> {
        let mut o = Map::new();
        match rule {
            Rule::And(items) | Rule::Or(items) => {
                let key = if matches!(rule, Rule::And(_)) {
                    "And"
                } else {
                    "Or"
                };
                let base = push_pointer(ptr, key);
                let list = items
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Value::Object(self.rule(r, &push_pointer(&base, &i.to_string()))))
                    .collect();
                o.insert(key.into(), Value::Array(list));
            }
            Rule::Not(inner) => {
                let v = self.rule(inner, &push_pointer(ptr, "Not"));
                o.insert("Not".into(), Value::Object(v));
            }
            Rule::Test { operator, variable } => {
                o.insert("Variable".into(), variable.0.clone().into());
                self.out
                    .spans
                    .put(&push_pointer(ptr, "Variable"), variable.1, variable.1);
                o.insert((*operator).into(), true.into());
                self.out
                    .spans
                    .put(&push_pointer(ptr, operator), variable.1, variable.1);
            }
            Rule::Matches { variable, pattern } => {
                o.insert("Variable".into(), variable.0.clone().into());
                self.out
                    .spans
                    .put(&push_pointer(ptr, "Variable"), variable.1, variable.1);
                o.insert("StringMatches".into(), pattern.clone().into());
                self.out
                    .spans
                    .put(&push_pointer(ptr, "StringMatches"), variable.1, variable.1);
            }
            Rule::Condition(j) => {
                let p = push_pointer(ptr, "Condition");
                let v = self.json(j, &p, true);
                self.out.spans.put(&p, j.range, j.range);
                o.insert("Condition".into(), v);
            }
            Rule::Compare {
                variable,
                op,
                operand,
            } => {
                let (oper, orange) = operand;
                let (opv, oprange) = op;
                let whole = variable.1.to(*orange);
                // `!=` is `Not` around `==`.
                let (target_ptr, negate) = if *opv == Op::Ne {
                    (push_pointer(ptr, "Not"), true)
                } else {
                    (ptr.to_string(), false)
                };
                let mut inner = Map::new();
                inner.insert("Variable".into(), variable.0.clone().into());
                self.out.spans.put(
                    &push_pointer(&target_ptr, "Variable"),
                    variable.1,
                    variable.1,
                );
                let suffix = match opv {
                    Op::Eq | Op::Ne => "Equals",
                    Op::Lt => "LessThan",
                    Op::Le => "LessThanEquals",
                    Op::Gt => "GreaterThan",
                    Op::Ge => "GreaterThanEquals",
                };
                let ordered = !matches!(opv, Op::Eq | Op::Ne);
                let (name, value) = match oper {
                    Operand::Null => {
                        if ordered {
                            self.cx
                                .error(*oprange, "`null` can only be compared with `==` or `!=`");
                        }
                        // `== null` is IsNull; `!= null` is Not(IsNull).
                        ("IsNull".to_string(), Value::Bool(true))
                    }
                    Operand::Bool(b) => {
                        if ordered {
                            self.cx
                                .error(*oprange, "booleans can only be compared with `==` or `!=`");
                        }
                        ("BooleanEquals".to_string(), Value::Bool(*b))
                    }
                    Operand::Str(s) => (format!("String{suffix}"), Value::String(s.clone())),
                    Operand::Num(n) => (format!("Numeric{suffix}"), Value::Number(n.clone())),
                    Operand::Timestamp(s) => {
                        (format!("Timestamp{suffix}"), Value::String(s.clone()))
                    }
                    Operand::Path(prefix, p) => {
                        if *prefix == "Boolean" && ordered {
                            self.cx
                                .error(*oprange, "booleans can only be compared with `==` or `!=`");
                        }
                        let suffix = if *prefix == "Boolean" {
                            "Equals"
                        } else {
                            suffix
                        };
                        (format!("{prefix}{suffix}Path"), Value::String(p.clone()))
                    }
                    Operand::BarePath(p) => {
                        self.cx.error(
                            *orange,
                            format!(
                                "comparing two paths needs their type: write `string({p})`, `number({p})`, `boolean({p})` or `timestamp({p})`"
                            ),
                        );
                        (format!("String{suffix}Path"), Value::String(p.clone()))
                    }
                };
                self.out
                    .spans
                    .put(&push_pointer(&target_ptr, &name), *orange, *orange);
                inner.insert(name, value);
                if negate {
                    self.out.spans.put(&target_ptr, whole, whole);
                    o.insert("Not".into(), Value::Object(inner));
                } else {
                    o = inner;
                }
            }
        }
        o
    }
}

/// `InputPath` → `input_path`.
pub fn snake(pascal: &str) -> String {
    let mut out = String::new();
    for (i, c) in pascal.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        for (s, p) in [
            ("input_path", "InputPath"),
            (
                "tolerated_failure_percentage_path",
                "ToleratedFailurePercentagePath",
            ),
            ("timeout_seconds", "TimeoutSeconds"),
        ] {
            assert_eq!(pascal(s), p);
            assert_eq!(snake(p), s);
        }
    }
}
