//! Phase 2b: the checks. Each lowered workflow is read by [`workflow_asl::parse`] and judged by
//! [`workflow_asl::validate`] — the same code that judges ASL files at run time — and every
//! diagnostic is reported at the DSL tokens its JSON pointer came from. A few rules that belong to
//! the notation itself are checked here too, one function each.

use std::collections::{HashMap, HashSet};

use quote::ToTokens;
use workflow_asl::validate::{Options, Placeholders};
use workflow_asl::{Code, Diagnostic, StateMachine};

use crate::ctxt::{Ctxt, Range};
use crate::lower::Lowered;

/// Runs every check on one lowered workflow; returns the model when the ASL could be read.
pub fn check(cx: &Ctxt, l: &Lowered) -> Option<StateMachine> {
    check_resources(cx, l);
    // `${Name}` resources are filled in at export (CloudFormation's `DefinitionSubstitutions`):
    // judge them as the values they stand for. The emitted ASL keeps the placeholders.
    let options = Options {
        placeholders: Placeholders::Accept,
        ..Options::default()
    };
    let report = workflow_asl::check_value_with(&l.value, &options);
    report_all(cx, l, &report.diagnostics);
    report.machine
}

/// One resource is bound to one handler: the runtime finds a Task's handler by its `Resource`,
/// so two different handlers under one resource would make one of them unreachable.
fn check_resources(cx: &Ctxt, l: &Lowered) {
    let mut seen: HashMap<&str, String> = HashMap::new();
    for t in &l.tasks {
        let h = t.handler.to_token_stream().to_string();
        match seen.get(t.resource.as_str()) {
            Some(prev) if *prev != h => cx.error(
                Range::of(&t.handler),
                format!(
                    "resource `{}` is already bound to the handler `{prev}`; give this task its own `resource = \"…\"`",
                    t.resource
                ),
            ),
            Some(_) => {}
            None => {
                seen.insert(&t.resource, h);
            }
        }
    }
}

/// Whether `ptr` is `base` or inside it.
fn within(ptr: &str, base: &str) -> bool {
    ptr == base || ptr.starts_with(base) && ptr[base.len()..].starts_with('/')
}

/// Reports the validator's diagnostics at their DSL tokens.
///
/// When a transition target is unknown, unreachable states are not reported: they are usually
/// the consequence of the typo.
///
/// Diagnostics inside a state that did not parse are dropped (the parse error is the report), as
/// are those inside a branch inlined from another workflow of the invocation (that workflow's own
/// check reports them), except duplicate state names and variables an enclosing scope also
/// assigns, which only the whole machine shows.
fn report_all(cx: &Ctxt, l: &Lowered, diags: &[Diagnostic]) {
    let mut done: HashSet<(String, String)> = HashSet::new();
    // A mistyped target usually leaves the states after it unreachable: report the typo only.
    let typo = diags.iter().any(|d| {
        d.code == Code::MissingTransitionTarget && !workflow_asl::validate::is_unreachable_state(d)
    });
    for d in diags {
        // Warnings do not stop a build, and a proc-macro cannot emit them on stable Rust.
        if !d.is_error() {
            continue;
        }
        if typo && workflow_asl::validate::is_unreachable_state(d) {
            continue;
        }
        // Already reported in the DSL's own words (a state without `->`).
        if l.silenced.contains(&d.pointer) && d.message.contains("`Next`") {
            continue;
        }
        if l.broken.iter().any(|b| within(&d.pointer, b)) {
            continue;
        }
        let whole_machine = matches!(
            d.code,
            Code::DuplicateStateName | Code::VariableAssignedInOuterScope
        );
        if !whole_machine && l.inlined.iter().any(|b| within(&d.pointer, b)) {
            continue;
        }
        if !done.insert((d.pointer.clone(), d.message.clone())) {
            continue;
        }
        let range = match l.spans.lookup(&d.pointer) {
            Some((matched, e)) => {
                let about_key = matched != d.pointer
                    || d.code == Code::QueryLanguageMismatch
                    || d.message.starts_with("the field `")
                    || d.message.starts_with("unknown field `");
                if about_key {
                    e.key
                } else {
                    e.value
                }
            }
            None => Range::one(proc_macro2::Span::call_site()),
        };
        match &l.file {
            Some((path, _)) => {
                let at = if d.pointer.is_empty() {
                    "/"
                } else {
                    &d.pointer
                };
                cx.error(range, format!("in `{path}` at {at}: {}", d.message));
            }
            None => cx.error(range, &d.message),
        }
    }
}
