//! The offline validator: every rule AWS enforces when a state machine is created that can be
//! checked without calling AWS.
//!
//! [`crate::parse`] reports schema problems (missing, unknown and wrongly typed fields); this module
//! judges the model that parsing produced:
//!
//! - **graph** (this file): `StartAt` and every `Next`/`Default`/Catch target name a state of the
//!   same scope (the machine, each Parallel branch and each Map item processor are scopes), every
//!   state is reachable, every scope has a terminal state, state names are unique across the whole
//!   machine and 1 to 80 characters long, Map labels are unique;
//! - **fields** (`fields.rs`): `Next`/`End`, Retry/Catch, Task, Wait, Fail, Map and their number
//!   limits, Task resources;
//! - **choice** (`choice.rs`): Choice rules;
//! - **language** (`language.rs`, parsing with [`crate::jsonata`]): fields of one query language
//!   used in a state of the other, and JSONata `{% … %}` strings;
//! - **resources** (`resource.rs`): Task `Resource` ARNs and EXPRESS-only restrictions;
//! - **paths** (`paths.rs`, `intrinsics.rs`): paths, reference paths, `.$` payload template fields and intrinsic calls;
//! - **variables** (`variables.rs`): a Parallel branch or Map item processor assigns no variable
//!   an enclosing scope assigns (variable names themselves are checked with `Assign` in `paths.rs`).
//!
//! Every problem is reported at once, each with a stable [`Code`], a JSON pointer and a message
//! saying what is wrong and what would be valid. Walks over states and scopes are iterative, and
//! walks over nested JSON values use explicit stacks; the JSONata parser runs deep recursion on
//! heap-allocated stack segments. No input can overflow the stack.

mod choice;
mod fields;
mod intrinsics;
mod language;
mod paths;
pub(crate) mod placeholders;
mod resource;
mod variables;
mod warnings;

use std::collections::{HashMap, VecDeque};

use indexmap::IndexMap;
use serde_json::Value;

use crate::diag::{did_you_mean, push_pointer, Code, Diagnostic};
use crate::model::{Branch, ProcessorKey, QueryLanguage, State, StateKind, StateMachine};

/// The maximum length of a state name, in characters.
pub const MAX_STATE_NAME_CHARS: usize = 80;

/// The type of state machine being validated; a few rules depend on it.
///
/// ```
/// use workflow_asl::validate::{MachineType, Options};
///
/// // An EXPRESS machine cannot wait for a task token.
/// let text = r#"{"StartAt": "T", "States": {"T": {"Type": "Task",
///   "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
///   "Parameters": {"QueueUrl": "q", "MessageBody": {"t.$": "$$.Task.Token"}}, "End": true}}}"#;
/// assert!(workflow_asl::check_str(text).is_valid());
/// let express = Options { machine_type: MachineType::Express, ..Options::default() };
/// assert!(!workflow_asl::check_str_with(text, &express).is_valid());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MachineType {
    /// A `STANDARD` state machine (the default).
    #[default]
    Standard,
    /// An `EXPRESS` state machine: `.sync` and `.waitForTaskToken` integrations are not allowed.
    Express,
}

/// How `${NAME}` placeholders (CloudFormation `DefinitionSubstitutions`) are judged.
///
/// ```
/// use workflow_asl::validate::{Options, Placeholders};
/// use workflow_asl::Code;
///
/// let text = r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${Fn}", "End": true}}}"#;
/// assert!(!workflow_asl::check_str(text).is_valid()); // `${Fn}` is not an ARN as written
/// let accept = Options { placeholders: Placeholders::Accept, ..Options::default() };
/// let report = workflow_asl::check_str_with(text, &accept);
/// assert!(report.is_valid());
/// assert!(report.warnings().any(|d| d.code == Code::Placeholder));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Placeholders {
    /// As AWS receives the text: a placeholder is ordinary text (so `"Resource": "${Fn}"` is not
    /// an ARN). The default.
    #[default]
    AsWritten,
    /// As the value CloudFormation would substitute: a placeholder in a Task `Resource` is judged
    /// as a valid part of the ARN, and each placeholder left is reported as a warning
    /// ([`Code::Placeholder`]). For definitions deployed with substitutions.
    Accept,
}

/// What the validator should assume about the machine.
///
/// ```
/// use workflow_asl::validate::{MachineType, Options, Placeholders};
///
/// let options = Options::default();
/// assert_eq!((options.machine_type, options.placeholders), (MachineType::Standard, Placeholders::AsWritten));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `STANDARD` or `EXPRESS`.
    pub machine_type: MachineType,
    /// How `${NAME}` placeholders are judged.
    pub placeholders: Placeholders,
}

/// Whether a diagnostic reports an unreachable state. AWS reports those with the code of a
/// missing transition target (`MISSING_TRANSITION_TARGET: State "X" is not reachable.`); this
/// tells the two apart.
///
/// ```
/// use workflow_asl::validate::is_unreachable_state;
///
/// let report = workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}, "Orphan": {"Type": "Succeed"}}}"#);
/// assert!(report.diagnostics.iter().any(is_unreachable_state));
/// ```
pub fn is_unreachable_state(d: &Diagnostic) -> bool {
    d.code == Code::MissingTransitionTarget
        && d.message.starts_with("State \"")
        && d.message.contains("\" is not reachable.")
}

/// Validates a model with default [`Options`] (a `STANDARD` machine).
///
/// ```
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}"#).unwrap();
/// let found = workflow_asl::validate::validate_machine(parsed.machine.as_ref().unwrap());
/// assert!(found.iter().any(|d| d.pointer == "/States/A/Next"));
/// ```
pub fn validate_machine(machine: &StateMachine) -> Vec<Diagnostic> {
    validate_with(machine, None, &Options::default())
}

/// Validates a model.
///
/// `source` is the JSON value the model was parsed from, when there is one. With it, pointers into
/// arrays that held elements the parser had to drop stay exact, states that could not be read do
/// not cause follow-on errors (a `Next` naming a state whose `Type` is misspelt is not also
/// reported as a missing target), and problems the parser already reported are not repeated.
///
/// ```
/// use workflow_asl::validate::{validate_with, Options};
///
/// let value = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}});
/// let (machine, _) = workflow_asl::parse::parse_machine(&value);
/// assert!(validate_with(&machine.unwrap(), Some(&value), &Options::default()).is_empty());
/// ```
pub fn validate_with(
    machine: &StateMachine,
    source: Option<&Value>,
    options: &Options,
) -> Vec<Diagnostic> {
    let top_lang = machine.query_language.unwrap_or(QueryLanguage::JsonPath);
    let mut cx = Cx {
        out: Vec::new(),
        options,
        raw: Raw::new(source),
        top_lang,
    };
    let scopes = collect_scopes(machine, cx.raw);
    check_names(&mut cx, &scopes);
    check_labels(&mut cx, &scopes);
    variables::check_scopes(&mut cx, &scopes);
    fields::check_machine(&mut cx, machine);
    let mut global = Global::new(&scopes);
    for scope in &scopes {
        language::check_branch_language(&mut cx, scope.states, &scope.ptr);
        check_scope_graph(&mut cx, scope, &mut global);
        for (name, state) in scope.states {
            let ptr = state_pointer(&scope.ptr, name);
            let lang = state.common.query_language.unwrap_or(scope.lang);
            language::check_state_language(&mut cx, state, &ptr, lang);
            fields::check_state(&mut cx, state, &ptr, lang);
            warnings::check_state(&mut cx, state, &ptr, lang);
        }
    }
    if options.placeholders == Placeholders::Accept {
        match source {
            Some(v) => placeholders::warn_remaining(&mut cx, v),
            None => placeholders::warn_remaining(&mut cx, &crate::emit::machine_to_value(machine)),
        }
    }
    cx.out
}

/// The validator's working state, shared by the rule modules.
pub(crate) struct Cx<'a> {
    /// Problems found so far.
    pub(crate) out: Vec<Diagnostic>,
    /// The options in force.
    pub(crate) options: &'a Options,
    /// The source JSON, when known.
    pub(crate) raw: Raw<'a>,
    /// The machine's own query language.
    pub(crate) top_lang: QueryLanguage,
}

impl Cx<'_> {
    /// Records a problem.
    pub(crate) fn push(
        &mut self,
        code: Code,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.out.push(Diagnostic::new(code, pointer, message));
    }

    /// Records a `SCHEMA_VALIDATION_FAILED` problem.
    pub(crate) fn schema(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Code::SchemaValidationFailed, pointer, message);
    }
}

/// The source JSON of the definition, if the model was parsed from one.
#[derive(Clone, Copy)]
pub(crate) struct Raw<'a> {
    value: Option<&'a Value>,
    /// Whether some array the parser reads element by element holds a non-object (so model and
    /// JSON indices may differ). Usually false, which spares a lookup per array.
    shifted: bool,
}

impl<'a> Raw<'a> {
    fn new(value: Option<&'a Value>) -> Self {
        Raw {
            value,
            shifted: value.is_some_and(has_dropped_elements),
        }
    }

    /// The source value at a pointer (`None` when there is no source or nothing is there).
    pub(crate) fn at(&self, pointer: &str) -> Option<&'a Value> {
        self.value.and_then(|v| v.pointer(pointer))
    }

    /// Whether a source is known.
    pub(crate) fn known(&self) -> bool {
        self.value.is_some()
    }

    /// Whether the source is known and has no string at `pointer` (the parser has then already
    /// reported the field as missing or of the wrong type).
    pub(crate) fn lacks_string(&self, pointer: &str) -> bool {
        self.known() && !matches!(self.at(pointer), Some(Value::String(_)))
    }

    /// The JSON index of the `i`-th element of the model's array at `pointer`: the parser skips
    /// elements that are not objects, so model indices and JSON indices can differ.
    pub(crate) fn object_index(&self, pointer: &str, i: usize) -> usize {
        if !self.shifted {
            return i;
        }
        match self.at(pointer) {
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_object())
                .nth(i)
                .map_or(i, |(j, _)| j),
            _ => i,
        }
    }
}

/// Whether an array the parser reads as a list of objects (`Branches`, `Retry`, `Catch`,
/// `Choices`, `And`, `Or`) holds something else somewhere in the document.
fn has_dropped_elements(root: &Value) -> bool {
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                for (k, item) in map {
                    if let Value::Array(items) = item {
                        if matches!(
                            k.as_str(),
                            "Branches" | "Retry" | "Catch" | "Choices" | "And" | "Or"
                        ) && items.iter().any(|x| !x.is_object())
                        {
                            return true;
                        }
                    }
                    if matches!(item, Value::Object(_) | Value::Array(_)) {
                        stack.push(item);
                    }
                }
            }
            Value::Array(items) => {
                stack.extend(items.iter().filter(|x| x.is_object() || x.is_array()))
            }
            _ => {}
        }
    }
    false
}

/// The pointer of a state: `<scope>/States/<name>`.
pub(crate) fn state_pointer(scope_ptr: &str, name: &str) -> String {
    push_pointer(&push_pointer(scope_ptr, "States"), name)
}

/// One scope of states: the machine, a Parallel branch or a Map item processor.
pub(crate) struct Scope<'a> {
    /// The pointer of the object holding `StartAt` and `States` (empty for the machine).
    pub(crate) ptr: String,
    /// `StartAt`.
    pub(crate) start_at: &'a str,
    /// `States`.
    pub(crate) states: &'a IndexMap<String, State>,
    /// The query language states of this scope use unless they say otherwise.
    pub(crate) lang: QueryLanguage,
    /// How to name the scope in messages.
    pub(crate) what: String,
    /// The index (in [`collect_scopes`]'s order) of the scope holding the Parallel or Map state
    /// this scope belongs to; `None` for the machine.
    pub(crate) parent: Option<usize>,
}

/// Every scope of the machine, outermost first, found with an explicit stack.
fn collect_scopes<'a>(machine: &'a StateMachine, raw: Raw<'_>) -> Vec<Scope<'a>> {
    let top_lang = machine.query_language.unwrap_or(QueryLanguage::JsonPath);
    let mut out = Vec::new();
    let mut stack = vec![Scope {
        ptr: String::new(),
        start_at: &machine.start_at,
        states: &machine.states,
        lang: top_lang,
        what: "the state machine".to_owned(),
        parent: None,
    }];
    while let Some(scope) = stack.pop() {
        // This scope's index in `out`: it is pushed there once its nested scopes are stacked.
        let index = out.len();
        let mut nested = Vec::new();
        for (name, state) in scope.states {
            let sptr = state_pointer(&scope.ptr, name);
            match &state.kind {
                StateKind::Parallel(p) => {
                    let base = push_pointer(&sptr, "Branches");
                    for (i, b) in p.branches.iter().enumerate() {
                        let j = raw.object_index(&base, i);
                        nested.push((
                            b,
                            push_pointer(&base, &j.to_string()),
                            format!("branch {j} of Parallel state `{name}`"),
                        ));
                    }
                }
                StateKind::Map(m) => {
                    if let Some(b) = &m.processor {
                        let key = match m.processor_key {
                            ProcessorKey::ItemProcessor => "ItemProcessor",
                            ProcessorKey::Iterator => "Iterator",
                        };
                        nested.push((
                            b,
                            push_pointer(&sptr, key),
                            format!("the item processor of Map state `{name}`"),
                        ));
                    }
                }
                _ => {}
            }
        }
        // Push in reverse so that scopes come out in document order.
        for (b, ptr, what) in nested.into_iter().rev() {
            // The states of a branch or item processor take the machine's language, whatever the
            // Parallel or Map state declares (floci-io/floci#2968, rule 1).
            stack.push(branch_scope(b, ptr, top_lang, what, index));
        }
        out.push(scope);
    }
    out
}

fn branch_scope(
    b: &Branch,
    ptr: String,
    lang: QueryLanguage,
    what: String,
    parent: usize,
) -> Scope<'_> {
    Scope {
        ptr,
        start_at: &b.start_at,
        states: &b.states,
        // A `QueryLanguage` on the branch itself is refused (see `check_branch_language`).
        lang,
        what,
        parent: Some(parent),
    }
}

/// Where each state name first occurs in the machine, computed only when a message needs it.
struct Global<'a> {
    scopes: &'a [Scope<'a>],
    map: Option<HashMap<&'a str, String>>,
}

impl<'a> Global<'a> {
    fn new(scopes: &'a [Scope<'a>]) -> Self {
        Global { scopes, map: None }
    }

    /// The pointer of the first state called `name` anywhere in the machine.
    fn get(&mut self, name: &str) -> Option<&String> {
        let scopes = self.scopes;
        self.map
            .get_or_insert_with(|| {
                let mut out = HashMap::new();
                for scope in scopes {
                    for n in scope.states.keys() {
                        out.entry(n.as_str())
                            .or_insert_with(|| state_pointer(&scope.ptr, n));
                    }
                }
                out
            })
            .get(name)
    }
}

/// State names: 1 to 80 characters, no control characters, unique across the whole machine.
fn check_names(cx: &mut Cx<'_>, scopes: &[Scope<'_>]) {
    // The scope pointer of each name's first occurrence; pointers are built only for problems.
    let mut seen: HashMap<&str, &str> =
        HashMap::with_capacity(scopes.iter().map(|s| s.states.len()).sum());
    for scope in scopes {
        let sptr = scope.ptr.as_str();
        for name in scope.states.keys() {
            let chars = name.chars().count();
            if chars == 0 {
                cx.push(
                    Code::InvalidStateName,
                    state_pointer(sptr, name),
                    "a state name must not be empty; use 1 to 80 characters",
                );
            } else if chars > MAX_STATE_NAME_CHARS {
                cx.push(
                    Code::InvalidStateName,
                    state_pointer(sptr, name),
                    format!(
                        "the state name is {chars} characters long; state names may have at most {MAX_STATE_NAME_CHARS} characters"
                    ),
                );
            }
            if let Some(c) = name.chars().find(|c| is_control(*c)) {
                cx.push(
                    Code::InvalidStateName,
                    state_pointer(sptr, name),
                    format!(
                        "the state name contains the control character U+{:04X}; state names must not contain control characters (U+0000-001F, U+007F-009F)",
                        u32::from(c)
                    ),
                );
            }
            match seen.get(name.as_str()) {
                Some(first_scope) => {
                    let first = state_pointer(first_scope, name);
                    cx.push(
                        Code::DuplicateStateName,
                        state_pointer(sptr, name),
                        format!(
                            "the state name `{name}` is already used at {first}; state names must be unique across the whole state machine, including Parallel branches and Map processors"
                        ),
                    );
                }
                None => {
                    seen.insert(name, sptr);
                }
            }
        }
    }
}

/// Whether a character is a control character as AWS defines them (U+0000-001F, U+007F-009F).
pub(crate) fn is_control(c: char) -> bool {
    matches!(u32::from(c), 0x00..=0x1F | 0x7F..=0x9F)
}

/// Map `Label`s are unique across the machine (their format is checked with the Map's fields).
fn check_labels(cx: &mut Cx<'_>, scopes: &[Scope<'_>]) {
    let mut seen: HashMap<&str, String> = HashMap::new();
    for scope in scopes {
        let sptr = &scope.ptr;
        for (name, state) in scope.states {
            let StateKind::Map(m) = &state.kind else {
                continue;
            };
            let Some(label) = m.label.as_deref() else {
                continue;
            };
            let ptr = push_pointer(&state_pointer(sptr, name), "Label");
            match seen.get(label) {
                Some(first) => {
                    let first = first.clone();
                    cx.push(
                        Code::DuplicateLabelName,
                        ptr,
                        format!(
                            "the Map label `{label}` is already used at {first}; labels must be unique within a state machine"
                        ),
                    );
                }
                None => {
                    seen.insert(label, ptr);
                }
            }
        }
    }
}

/// `StartAt`, transition targets, reachability and the terminal-state rule of one scope.
fn check_scope_graph(cx: &mut Cx<'_>, scope: &Scope<'_>, global: &mut Global<'_>) {
    let sptr = &scope.ptr;
    // States the parser could not read (bad `Type`, not an object) are still names in the scope.
    let dropped: Vec<String> = match cx.raw.at(&push_pointer(sptr, "States")) {
        Some(Value::Object(map)) => map
            .keys()
            .filter(|k| !scope.states.contains_key(k.as_str()))
            .cloned()
            .collect(),
        _ => Vec::new(),
    };
    let known = |n: &str| scope.states.contains_key(n) || dropped.iter().any(|d| d == n);
    let candidates = || {
        scope
            .states
            .keys()
            .map(String::as_str)
            .chain(dropped.iter().map(String::as_str))
    };

    // StartAt.
    let start_ptr = push_pointer(sptr, "StartAt");
    let start_ok = known(scope.start_at);
    if !start_ok && !cx.raw.lacks_string(&start_ptr) {
        let msg = target_message(
            "`StartAt`",
            scope.start_at,
            candidates(),
            global,
            &scope.what,
        );
        cx.push(Code::MissingTransitionTarget, start_ptr, msg);
    }

    // Transition targets.
    for (name, state) in scope.states {
        let ptr = state_pointer(sptr, name);
        for (target, tptr, what) in targets(cx, state, &ptr) {
            if known(target) || cx.raw.lacks_string(&tptr) {
                continue;
            }
            let msg = target_message(&what, target, candidates(), global, &scope.what);
            cx.push(Code::MissingTransitionTarget, tptr, msg);
        }
    }

    // Reachability and terminal states are judged only when every state could be read.
    if !dropped.is_empty() {
        return;
    }
    if let (true, Some(start)) = (start_ok, scope.states.get_index_of(scope.start_at)) {
        let mut reached = vec![false; scope.states.len()];
        let mut queue = VecDeque::from([start]);
        reached[start] = true;
        while let Some(i) = queue.pop_front() {
            let Some((_, state)) = scope.states.get_index(i) else {
                continue;
            };
            for s in state.successors() {
                if let Some(j) = scope.states.get_index_of(s) {
                    if !reached[j] {
                        reached[j] = true;
                        queue.push_back(j);
                    }
                }
            }
        }
        for (name, _) in scope
            .states
            .iter()
            .zip(&reached)
            .filter(|(_, r)| !**r)
            .map(|(kv, _)| kv)
        {
            // AWS: `MISSING_TRANSITION_TARGET: State "pass2" is not reachable. at
            // /States/pass2` (CreateStateMachine's answer, quoted in localstack/localstack pull
            // request #12487).
            cx.push(
                Code::MissingTransitionTarget,
                state_pointer(sptr, name),
                format!(
                    "State \"{name}\" is not reachable. No transition leads to it from `StartAt` (\"{}\") in {}; remove it, or name it in a Next, Default, Choice rule or Catch",
                    scope.start_at, scope.what
                ),
            );
        }
    }
    let has_terminal = scope.states.values().any(|s| match &s.kind {
        StateKind::Succeed | StateKind::Fail(_) => true,
        _ => s.transition().is_some_and(|t| t.end == Some(true)),
    });
    if !has_terminal && !scope.states.is_empty() {
        cx.push(
            Code::MissingEndState,
            sptr,
            format!(
                "{} has no terminal state; at least one state must be a Succeed or Fail state or have `\"End\": true`",
                capitalise(&scope.what)
            ),
        );
    }
}

/// Every transition target of a state, with its pointer and how to name the field.
fn targets<'s>(cx: &Cx<'_>, state: &'s State, ptr: &str) -> Vec<(&'s str, String, String)> {
    let mut out = Vec::new();
    if let Some(t) = state.transition().and_then(|t| t.next.as_deref()) {
        out.push((t, push_pointer(ptr, "Next"), "`Next`".to_owned()));
    }
    if let StateKind::Choice(c) = &state.kind {
        let base = push_pointer(ptr, "Choices");
        for (i, rule) in c.choices.iter().enumerate() {
            if let Some(t) = rule.next.as_deref() {
                let j = cx.raw.object_index(&base, i);
                let p = push_pointer(&push_pointer(&base, &j.to_string()), "Next");
                out.push((t, p, format!("the `Next` of choice rule {j}")));
            }
        }
        if let Some(t) = c.default.as_deref() {
            out.push((t, push_pointer(ptr, "Default"), "`Default`".to_owned()));
        }
    }
    if let Some(e) = state.error_handling() {
        let base = push_pointer(ptr, "Catch");
        for (i, c) in e.catch.iter().enumerate() {
            if let Some(t) = c.next.as_deref() {
                let j = cx.raw.object_index(&base, i);
                let p = push_pointer(&push_pointer(&base, &j.to_string()), "Next");
                out.push((t, p, format!("the `Next` of catcher {j}")));
            }
        }
    }
    out
}

/// "`Next` names `Chek`, which is not a state in the state machine; did you mean `Check`?"
fn target_message<'a>(
    field: &str,
    target: &str,
    candidates: impl Iterator<Item = &'a str>,
    global: &mut Global<'_>,
    scope_what: &str,
) -> String {
    let mut msg = format!("{field} names \"{target}\", which is not a state in {scope_what}");
    let names: Vec<&str> = candidates.collect();
    if let Some(elsewhere) = global.get(target) {
        msg.push_str(&format!(
            "; a state of that name exists at {elsewhere}, but transitions cannot cross into or out of a Parallel branch or Map item processor"
        ));
    } else if let Some(s) = did_you_mean(target, names.iter().copied()) {
        msg.push_str(&format!("; did you mean \"{s}\"?"));
    } else if names.is_empty() {
        msg.push_str("; the scope has no states");
    } else {
        let mut sorted = names.clone();
        sorted.sort_unstable();
        let shown: Vec<String> = sorted.iter().take(8).map(|n| format!("\"{n}\"")).collect();
        msg.push_str(&format!(
            "; the states here are {}{}",
            shown.join(", "),
            if sorted.len() > 8 { ", …" } else { "" }
        ));
    }
    msg
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every (code, pointer) the full check reports for a definition.
    fn problems(def: &Value) -> Vec<(Code, String)> {
        crate::check_str(&def.to_string())
            .diagnostics
            .into_iter()
            .map(|d| (d.code, d.pointer))
            .collect()
    }

    fn machine(states: Value) -> Value {
        json!({"StartAt": "A", "States": states})
    }

    fn task(extra: Value) -> Value {
        let mut t =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        if let (Some(o), Value::Object(e)) = (t.as_object_mut(), extra) {
            o.extend(e);
        }
        t
    }

    /// (what, definition, the problems it must have: code and pointer).
    type Case = (&'static str, Value, Vec<(Code, &'static str)>);

    fn cases() -> Vec<Case> {
        use Code::*;
        vec![
            (
                "valid minimal machine",
                machine(json!({"A": {"Type": "Pass", "End": true}})),
                vec![],
            ),
            (
                "StartAt names no state, with a suggestion",
                json!({"StartAt": "Chek", "States": {"Check": {"Type": "Succeed"}}}),
                // Reachability is not judged from a StartAt that names no state.
                vec![(MissingTransitionTarget, "/StartAt")],
            ),
            (
                "Next names no state",
                machine(json!({"A": {"Type": "Pass", "Next": "B"}, "C": {"Type": "Succeed"}})),
                vec![
                    (MissingTransitionTarget, "/States/A/Next"),
                    (MissingTransitionTarget, "/States/C"),
                ],
            ),
            (
                "Next crosses into a Parallel branch",
                machine(json!({
                    "A": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}], "Next": "B"}
                })),
                vec![
                    (MissingTransitionTarget, "/States/A/Next"),
                    (MissingEndState, ""),
                ],
            ),
            (
                "Catch and Default targets",
                machine(json!({
                    "A": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "C",
                          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Nope"}]},
                    "C": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": true, "Next": "D"}], "Default": "Gone"},
                    "D": {"Type": "Succeed"}
                })),
                vec![
                    (MissingTransitionTarget, "/States/A/Catch/0/Next"),
                    (MissingTransitionTarget, "/States/C/Default"),
                ],
            ),
            (
                "no terminal state",
                machine(
                    json!({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}),
                ),
                vec![(MissingEndState, "")],
            ),
            (
                "no terminal state in a Map processor",
                machine(
                    json!({"A": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "X", "States": {
                    "X": {"Type": "Pass", "Next": "X"}}}}}),
                ),
                vec![(MissingEndState, "/States/A/ItemProcessor")],
            ),
            (
                "duplicate names across scopes",
                machine(json!({"A": {"Type": "Parallel", "End": true, "Branches": [
                    {"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}]}})),
                vec![(DuplicateStateName, "/States/A/Branches/0/States/A")],
            ),
            (
                "state name too long",
                json!({"StartAt": "x".repeat(81), "States": {"x".repeat(81): {"Type": "Succeed"}}}),
                vec![(InvalidStateName, "")],
            ),
            (
                "Next and End together, and neither",
                machine(
                    json!({"A": {"Type": "Pass", "Next": "B", "End": true}, "B": {"Type": "Pass"}}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/End"),
                    (SchemaValidationFailed, "/States/B"),
                ],
            ),
            (
                "Choice rules: nested Next, missing top-level Next, empty And, operand types",
                machine(json!({
                    "A": {"Type": "Choice", "Default": "B", "Choices": [
                        {"And": [{"Variable": "$.a", "StringEquals": "x", "Next": "B"}], "Next": "B"},
                        {"Or": [], "Next": "B"},
                        {"Variable": "$.n", "NumericEquals": "1"},
                        {"Variable": "$.t", "TimestampEquals": "yesterday", "Next": "B"},
                        {"Variable": "$.p", "StringEqualsPath": "$.a[*]", "Next": "B"},
                        {"Variable": "$.b", "IsNull": "yes", "Next": "B"}
                    ]},
                    "B": {"Type": "Succeed"}
                })),
                vec![
                    (SchemaValidationFailed, "/States/A/Choices/0/And/0/Next"),
                    (SchemaValidationFailed, "/States/A/Choices/1/Or"),
                    (SchemaValidationFailed, "/States/A/Choices/2"),
                    (SchemaValidationFailed, "/States/A/Choices/2/NumericEquals"),
                    (
                        SchemaValidationFailed,
                        "/States/A/Choices/3/TimestampEquals",
                    ),
                    (InvalidJsonPath, "/States/A/Choices/4/StringEqualsPath"),
                    (SchemaValidationFailed, "/States/A/Choices/5/IsNull"),
                ],
            ),
            (
                "empty Choices",
                machine(
                    json!({"A": {"Type": "Choice", "Choices": [], "Default": "B"}, "B": {"Type": "Succeed"}}),
                ),
                vec![(SchemaValidationFailed, "/States/A/Choices")],
            ),
            (
                "Retry ranges and States.ALL",
                machine(json!({"A": task(json!({"Retry": [
                    {"ErrorEquals": ["States.ALL", "X"], "IntervalSeconds": 0, "MaxAttempts": -1, "BackoffRate": 0.5,
                     "MaxDelaySeconds": 0, "JitterStrategy": "HALF"},
                    {"ErrorEquals": [], "IntervalSeconds": 1.5}
                ]}))})),
                vec![
                    (SchemaValidationFailed, "/States/A/Retry/0/ErrorEquals"),
                    (SchemaValidationFailed, "/States/A/Retry/0/ErrorEquals"),
                    (SchemaValidationFailed, "/States/A/Retry/0/IntervalSeconds"),
                    (SchemaValidationFailed, "/States/A/Retry/0/MaxAttempts"),
                    (SchemaValidationFailed, "/States/A/Retry/0/BackoffRate"),
                    (SchemaValidationFailed, "/States/A/Retry/0/MaxDelaySeconds"),
                    (SchemaValidationFailed, "/States/A/Retry/0/JitterStrategy"),
                    (SchemaValidationFailed, "/States/A/Retry/1/ErrorEquals"),
                    (SchemaValidationFailed, "/States/A/Retry/1/IntervalSeconds"),
                ],
            ),
            (
                "Task timeouts",
                machine(json!({"A": task(json!({"TimeoutSeconds": 10, "HeartbeatSeconds": 10}))})),
                vec![(SchemaValidationFailed, "/States/A/HeartbeatSeconds")],
            ),
            (
                "Task timeout and its path",
                machine(
                    json!({"A": task(json!({"TimeoutSeconds": 0, "TimeoutSecondsPath": "$.t"}))}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/TimeoutSecondsPath"),
                    (SchemaValidationFailed, "/States/A/TimeoutSeconds"),
                ],
            ),
            (
                "resource not an ARN",
                machine(json!({"A": {"Type": "Task", "Resource": "my-function", "End": true}})),
                vec![(InvalidResource, "/States/A/Resource")],
            ),
            (
                "Credentials without RoleArn",
                machine(json!({"A": task(json!({"Credentials": {}}))})),
                vec![(SchemaValidationFailed, "/States/A/Credentials")],
            ),
            (
                "Wait with two fields, and with none",
                machine(
                    json!({"A": {"Type": "Wait", "Seconds": 1, "Timestamp": "2016-03-14T01:59:00Z", "Next": "B"},
                               "B": {"Type": "Wait", "End": true}}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/Timestamp"),
                    (SchemaValidationFailed, "/States/B"),
                ],
            ),
            (
                "Wait with a bad timestamp and negative seconds",
                machine(
                    json!({"A": {"Type": "Wait", "Timestamp": "tomorrow", "Next": "B"},
                               "B": {"Type": "Wait", "Seconds": -1, "End": true}}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/Timestamp"),
                    (SchemaValidationFailed, "/States/B/Seconds"),
                ],
            ),
            (
                "Fail with Error and ErrorPath",
                machine(
                    json!({"A": {"Type": "Fail", "Error": "E", "ErrorPath": "$.e", "Cause": "C", "CausePath": "$.c"}}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/ErrorPath"),
                    (SchemaValidationFailed, "/States/A/CausePath"),
                ],
            ),
            (
                "paths and reference paths",
                machine(
                    json!({"A": {"Type": "Pass", "InputPath": "$.a[*]", "ResultPath": "$.b[*]", "OutputPath": "States.UUID()", "Next": "B"},
                               "B": {"Type": "Pass", "ResultPath": "$$.x", "End": true}}),
                ),
                vec![
                    (InvalidJsonPath, "/States/A/OutputPath"),
                    (InvalidJsonPath, "/States/A/ResultPath"),
                    (InvalidJsonPath, "/States/B/ResultPath"),
                ],
            ),
            (
                "payload templates",
                machine(json!({"A": {"Type": "Pass", "End": true, "Parameters": {
                    "ok.$": "$.a", "ctx.$": "$$.Execution.Id", "f.$": "States.Format('{}', $.a)",
                    "bad.$": "a", "num.$": 1, "x": 1, "x.$": "$.x",
                    "nested": [{"u.$": "States.Unknown()"}, {"n.$": "States.MathAdd(1)"}]
                }}})),
                vec![
                    (InvalidJsonPath, "/States/A/Parameters/bad.$"),
                    (InvalidJsonPath, "/States/A/Parameters/num.$"),
                    (SchemaValidationFailed, "/States/A/Parameters/x.$"),
                    (InvalidIntrinsic, "/States/A/Parameters/nested/0/u.$"),
                    (InvalidIntrinsic, "/States/A/Parameters/nested/1/n.$"),
                ],
            ),
            (
                "JSONPath fields in a JSONata state and the reverse",
                json!({"StartAt": "A", "QueryLanguage": "JSONata", "States": {
                    "A": {"Type": "Pass", "InputPath": "$.a", "Parameters": {}, "Next": "B"},
                    "B": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}),
                vec![
                    (QueryLanguageMismatch, "/States/A/InputPath"),
                    (QueryLanguageMismatch, "/States/A/Parameters"),
                    // floci-io/floci#2968, rule 2: at the state's own path.
                    (QueryLanguageMismatch, "/States/B"),
                ],
            ),
            (
                "a branch or item processor cannot declare QueryLanguage (floci-io/floci#2968)",
                json!({"StartAt": "M", "States": {"M": {"Type": "Map", "QueryLanguage": "JSONata", "End": true,
                    "ItemProcessor": {"QueryLanguage": "JSONata", "StartAt": "P",
                        "States": {"P": {"Type": "Pass", "Output": {}, "End": true}}}}}}),
                vec![
                    (QueryLanguageMismatch, "/States/M/ItemProcessor"),
                    // The inner state takes the machine's language (JSONPath), not the Map's.
                    (
                        QueryLanguageMismatch,
                        "/States/M/ItemProcessor/States/P/Output",
                    ),
                ],
            ),
            (
                "JSONata expressions AWS refuses (floci-io/floci#2670, #2745)",
                json!({"StartAt": "E", "QueryLanguage": "JSONata", "States": {"E": {"Type": "Pass", "End": true,
                    "Output": {"v": "{% phone %}", "w": "{% $states.input.phone %}", "x": "{% $ %}",
                        "y": "{% $$.a %}", "z": "{% $x ?? 1 %}", "e": "{% 1 + %}"}}}}),
                vec![
                    (UnsupportedJsonata, "/States/E/Output/v"),
                    (UnsupportedJsonata, "/States/E/Output/x"),
                    (UnsupportedJsonata, "/States/E/Output/y"),
                    (InvalidJsonata, "/States/E/Output/z"),
                    (InvalidJsonata, "/States/E/Output/e"),
                ],
            ),
            (
                "JSONata fields in a JSONPath state",
                machine(json!({"A": {"Type": "Pass", "Output": {}, "Next": "B"},
                               "B": {"Type": "Choice", "Choices": [{"Condition": true, "Next": "C"}], "Default": "C"},
                               "C": task(json!({"Arguments": {}}))})),
                vec![
                    (QueryLanguageMismatch, "/States/A/Output"),
                    (QueryLanguageMismatch, "/States/B/Choices/0/Condition"),
                    (QueryLanguageMismatch, "/States/C/Arguments"),
                ],
            ),
            (
                "JSONata strings",
                json!({"StartAt": "A", "QueryLanguage": "JSONata", "States": {"A": {"Type": "Pass", "End": true, "Output": {
                    "ok": "{% $states.input %}", "open": "{% 1 + 2", "close": "1 %}", "bad": "{% 10 + * 2 %}",
                    "literal": "a {% b %} c"}}}}),
                vec![
                    (InvalidJsonata, "/States/A/Output/open"),
                    (InvalidJsonata, "/States/A/Output/close"),
                    (InvalidJsonata, "/States/A/Output/bad"),
                ],
            ),
            (
                "Map limits and label",
                machine(
                    json!({"A": {"Type": "Map", "End": true, "MaxConcurrency": -1, "ToleratedFailurePercentage": 101,
                    "ToleratedFailureCount": 1.5, "Label": "bad label",
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED"}, "StartAt": "X", "States": {"X": {"Type": "Succeed"}}}}}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/MaxConcurrency"),
                    (
                        SchemaValidationFailed,
                        "/States/A/ToleratedFailurePercentage",
                    ),
                    (SchemaValidationFailed, "/States/A/ToleratedFailureCount"),
                    (InvalidLabelName, "/States/A/Label"),
                    (
                        SchemaValidationFailed,
                        "/States/A/ItemProcessor/ProcessorConfig",
                    ),
                ],
            ),
            (
                "duplicate Map labels",
                machine(json!({
                    "A": {"Type": "Map", "Next": "B", "Label": "L", "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}},
                    "B": {"Type": "Map", "End": true, "Label": "L", "ItemProcessor": {"StartAt": "Y", "States": {"Y": {"Type": "Succeed"}}}}})),
                vec![(DuplicateLabelName, "/States/B/Label")],
            ),
            (
                "ItemBatcher and ItemReader shapes",
                machine(json!({"A": {"Type": "Map", "End": true,
                    "ItemReader": {"ReaderConfig": {"InputType": "XML", "MaxItems": 1, "MaxItemsPath": "$.m"}},
                    "ItemBatcher": {"BatchInput": {}},
                    "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "X", "States": {"X": {"Type": "Succeed"}}}}})),
                vec![
                    (SchemaValidationFailed, "/States/A/ItemReader"),
                    (
                        SchemaValidationFailed,
                        "/States/A/ItemReader/ReaderConfig/MaxItemsPath",
                    ),
                    (
                        SchemaValidationFailed,
                        "/States/A/ItemReader/ReaderConfig/InputType",
                    ),
                    (SchemaValidationFailed, "/States/A/ItemBatcher"),
                ],
            ),
            (
                "Assign variable names",
                machine(
                    json!({"A": {"Type": "Pass", "End": true, "Assign": {"ok": 1, "ok2.$": "$.a", "not-ok": 2, "1st": 3, "states": 4}}}),
                ),
                vec![
                    (SchemaValidationFailed, "/States/A/Assign/not-ok"),
                    (SchemaValidationFailed, "/States/A/Assign/1st"),
                    (SchemaValidationFailed, "/States/A/Assign/states"),
                ],
            ),
            (
                "machine TimeoutSeconds and JSONata Items",
                json!({"StartAt": "A", "TimeoutSeconds": 0, "QueryLanguage": "JSONata", "States": {
                    "A": {"Type": "Map", "Items": {"a": 1}, "End": true,
                          "ItemProcessor": {"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}}}}),
                vec![
                    (SchemaValidationFailed, "/TimeoutSeconds"),
                    (SchemaValidationFailed, "/States/A/Items"),
                ],
            ),
            (
                "a misspelt Type does not cascade into a missing target",
                machine(json!({"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Sucseed"}})),
                vec![(SchemaValidationFailed, "/States/B/Type")],
            ),
        ]
    }

    #[test]
    fn rules() {
        for (what, def, want) in cases() {
            let got = problems(&def);
            let mut want: Vec<(Code, String)> =
                want.into_iter().map(|(c, p)| (c, p.to_owned())).collect();
            // State-name and start cases use long names; compare by code only when pointer is "".
            let mut got_sorted = got.clone();
            got_sorted.sort();
            want.sort();
            let matches = got_sorted.len() == want.len()
                && got_sorted
                    .iter()
                    .zip(&want)
                    .all(|(g, w)| g.0 == w.0 && (w.1.is_empty() || g.1 == w.1));
            assert!(matches, "{what}:\n  got  {got_sorted:?}\n  want {want:?}");
        }
    }

    #[test]
    fn suggestion_in_message() {
        let r =
            crate::check_str(r#"{"StartAt": "Chek", "States": {"Check": {"Type": "Succeed"}}}"#);
        assert!(
            r.diagnostics[0].message.contains("did you mean \"Check\"?"),
            "{}",
            r.diagnostics[0]
        );
        let r = crate::check_str(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Parallel", "Next": "B", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}]}}}"#,
        );
        assert!(
            r.diagnostics[0].message.contains("cannot cross"),
            "{}",
            r.diagnostics[0]
        );
    }

    #[test]
    fn express_machines_reject_callbacks() {
        let def = machine(
            json!({"A": {"Type": "Task", "Resource": "arn:aws:states:::sns:publish.waitForTaskToken", "End": true}}),
        );
        let text = def.to_string();
        assert!(crate::check_str(&text).is_valid());
        let express = Options {
            machine_type: MachineType::Express,
            ..Options::default()
        };
        let r = crate::check_str_with(&text, &express);
        assert_eq!(r.diagnostics.len(), 1, "{:?}", r.diagnostics);
        assert_eq!(r.diagnostics[0].pointer, "/States/A/Resource");
    }

    #[test]
    fn pointers_skip_dropped_array_elements() {
        // The first branch is not an object: the parser drops it, the pointer must still say 1.
        let def = machine(json!({"A": {"Type": "Parallel", "End": true, "Branches": [
            5, {"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}]}}));
        let got = problems(&def);
        assert!(
            got.contains(&(
                Code::MissingTransitionTarget,
                "/States/A/Branches/1/States/X/Next".to_owned()
            )),
            "{got:?}"
        );
    }

    #[test]
    fn ten_thousand_states_in_a_chain() {
        let n = 10_000;
        let mut states = serde_json::Map::new();
        for i in 0..n {
            let s = if i + 1 == n {
                json!({"Type": "Succeed"})
            } else {
                json!({"Type": "Pass", "Next": format!("S{}", i + 1)})
            };
            states.insert(format!("S{i}"), s);
        }
        let def = json!({"StartAt": "S0", "States": states});
        assert!(crate::check_str(&def.to_string()).is_valid());
    }

    /// Replaces every value of a rich definition, one at a time, with values of other types and
    /// odd strings: the checks must answer, never panic.
    #[test]
    fn no_panic_on_mutations() {
        let base = json!({"StartAt": "T", "TimeoutSeconds": 5, "States": {
            "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Next": "C",
                  "Parameters": {"a.$": "$.a", "f.$": "States.Format('{}', $.b)"}, "ResultSelector": {"x.$": "$.x"},
                  "ResultPath": "$.r", "TimeoutSeconds": 5, "HeartbeatSeconds": 1, "Credentials": {"RoleArn": "arn:aws:iam::1:role/r"},
                  "Retry": [{"ErrorEquals": ["E"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.5, "MaxDelaySeconds": 3, "JitterStrategy": "FULL"}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F", "ResultPath": "$.e"}]},
            "C": {"Type": "Choice", "Default": "W", "Choices": [
                {"And": [{"Variable": "$.n", "NumericEquals": 1}, {"Not": {"Variable": "$.s", "StringMatches": "a*"}}], "Next": "P"},
                {"Variable": "$.t", "TimestampEqualsPath": "$.u", "Next": "M"}]},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}]},
            "M": {"Type": "Map", "Next": "W", "ItemsPath": "$.items", "MaxConcurrency": 2, "Label": "L",
                  "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "ItemBatcher": {"MaxItemsPerBatch": 2},
                  "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}},
                  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "I", "States": {"I": {"Type": "Succeed"}}}},
            "W": {"Type": "Wait", "Seconds": 1, "Next": "J"},
            "J": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"o": "{% $states.input %}"}, "Assign": {"v": "{% 1 %}"}, "Next": "S"},
            "S": {"Type": "Succeed"},
            "F": {"Type": "Fail", "Error": "E", "Cause": "C"}}});
        assert!(
            crate::check_str(&base.to_string()).is_valid(),
            "{:?}",
            crate::check_str(&base.to_string()).diagnostics
        );
        // Every pointer in the document.
        let mut pointers = Vec::new();
        let mut stack = vec![(String::new(), &base)];
        while let Some((p, v)) = stack.pop() {
            match v {
                Value::Object(m) => {
                    stack.extend(m.iter().map(|(k, v)| (crate::diag::push_pointer(&p, k), v)))
                }
                Value::Array(a) => stack.extend(
                    a.iter()
                        .enumerate()
                        .map(|(i, v)| (crate::diag::push_pointer(&p, &i.to_string()), v)),
                ),
                _ => {}
            }
            pointers.push(p);
        }
        let replacements = [
            json!(null),
            json!(true),
            json!(-1),
            json!(1.5),
            json!(""),
            json!("x"),
            json!("{%"),
            json!("{% %}"),
            json!("$$..["),
            json!("States.Format("),
            json!("States.MathAdd('a', 1)"),
            json!([]),
            json!([1, "a"]),
            json!({}),
            json!({"Type": "Pass"}),
            json!("\u{0}\u{85}"),
        ];
        for p in &pointers {
            for r in &replacements {
                let mut def = base.clone();
                if let Some(slot) = def.pointer_mut(p) {
                    *slot = r.clone();
                }
                let report = crate::check_str(&def.to_string());
                // An answer, not a panic; and every pointer it gives is a pointer into JSON.
                for d in &report.diagnostics {
                    assert!(d.pointer.is_empty() || d.pointer.starts_with('/'), "{d}");
                }
            }
        }
    }

    #[test]
    fn validating_a_model_without_source() {
        let m =
            crate::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Z"}}}"#)
                .expect("JSON")
                .machine
                .expect("object");
        let d = crate::validate(&m);
        assert_eq!(d.len(), 2, "{d:?}");
        assert_eq!(d[0].code, Code::MissingTransitionTarget);
        assert_eq!(d[1].code, Code::MissingEndState);
    }
}
