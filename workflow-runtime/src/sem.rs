//! Thin adapters over the pure semantics of `workflow-asl` (payload templates and Choice rules),
//! shaped for the compiled program: compile errors become messages, and a Choice state keeps each
//! rule's `Assign` beside the compiled rules.

use serde_json::Value;
use workflow_asl::choice::CompiledChoice;
use workflow_asl::error::Failure;
use workflow_asl::eval::{Entropy, Env};
use workflow_asl::model::ChoiceRule;

/// A compiled payload template (`Parameters`, `ResultSelector`, `ItemSelector`, `Assign`).
#[derive(Debug)]
pub(crate) struct Template(workflow_asl::template::Template);

impl Template {
    /// Compiles a template, reporting its first malformed field.
    pub(crate) fn compile(v: &Value) -> Result<Template, String> {
        workflow_asl::template::Template::compile(v)
            .map(Template)
            .map_err(|errors| {
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            })
    }

    /// Builds the payload.
    pub(crate) fn evaluate(&self, env: &Env, rng: &mut dyn Entropy) -> Result<Value, Failure> {
        self.0.evaluate(env, rng)
    }

    /// Builds the payload that replaces `input` (`ResultPath` `$`), reusing the input's
    /// storage when it has the payload's shape; returns it and an upper bound of its size as
    /// JSON text, or a number above `limit` (see
    /// [`workflow_asl::template::Template::evaluate_replacing`]).
    pub(crate) fn evaluate_replacing(
        &self,
        input: Value,
        context: &Value,
        variables: &serde_json::Map<String, Value>,
        rng: &mut dyn Entropy,
        size: SizeBound,
    ) -> Result<(Value, usize), Failure> {
        self.0
            .evaluate_replacing(input, context, variables, rng, size.input, size.limit)
    }

    /// Builds the payload and writes it into `input` at `result_path` (see
    /// [`workflow_asl::template::Template::evaluate_at`]); returns the output and an upper
    /// bound of the payload's size.
    pub(crate) fn evaluate_at(
        &self,
        input: Value,
        result_path: &workflow_asl::path::Path,
        context: &Value,
        variables: &serde_json::Map<String, Value>,
        rng: &mut dyn Entropy,
        size: SizeBound,
    ) -> Result<(Value, usize), Failure> {
        self.0.evaluate_at(
            input,
            result_path,
            context,
            variables,
            rng,
            size.input,
            size.limit,
        )
    }
}

/// What a template's size bound starts from: the input's known size (an upper bound of its
/// JSON text, when known) and the payload limit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SizeBound {
    pub(crate) input: Option<usize>,
    pub(crate) limit: usize,
}

/// A Choice state's compiled rules, with each top-level rule's `Assign`.
#[derive(Debug)]
pub(crate) struct Choices {
    rules: CompiledChoice,
    assigns: Vec<Option<Template>>,
}

impl Choices {
    /// Compiles the `Choices` array.
    pub(crate) fn compile(rules: &[ChoiceRule]) -> Result<Choices, String> {
        let compiled = CompiledChoice::compile_rules(rules).map_err(|errors| {
            errors
                .iter()
                .map(|(pointer, message)| format!("{pointer}: {message}"))
                .collect::<Vec<_>>()
                .join("; ")
        })?;
        let assigns = rules
            .iter()
            .map(|r| r.assign.as_ref().map(Template::compile).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Choices {
            rules: compiled,
            assigns,
        })
    }

    /// The first rule that holds.
    pub(crate) fn evaluate(&self, env: &Env) -> Result<Option<usize>, Failure> {
        self.rules.evaluate(env)
    }

    /// The `Assign` of rule `i`.
    pub(crate) fn assign(&self, i: usize) -> Option<&Template> {
        self.assigns.get(i).and_then(Option::as_ref)
    }
}
