//! The Amazon States Language (ASL) for the `workflow` project: the data model, a strict offline
//! validator and the pure semantics (paths, intrinsic functions, payload templates, Choice rules,
//! Retry and Catch) shared by the `workflow!` macro at compile time and the runtime.
//!
//! This crate has no async code and no I/O: every function is a synchronous function over
//! `serde_json::Value`, so the proc-macro can use it without compiling tokio.
//!
//! ```
//! let text = r#"{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "End": true}}}"#;
//! let parsed = workflow_asl::parse_str(text).expect("valid JSON");
//! assert!(parsed.diagnostics.is_empty());
//! let machine = parsed.machine.expect("an object");
//! assert_eq!(machine.start_at, "Hello");
//! // Re-emitting is lossless.
//! let back = workflow_asl::emit::machine_to_value(&machine);
//! assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod choice;
pub mod diag;
pub mod emit;
pub mod error;
pub mod eval;
pub mod intrinsic;
pub mod json;
pub mod jsonata;
pub mod limits;
pub mod model;
pub mod parse;
pub mod path;
pub mod retry;
pub mod substitute;
pub mod template;
pub mod timestamp;

pub use diag::{Code, Diagnostic, Severity};
pub use error::Failure;
pub use model::StateMachine;

/// The result of reading a definition: the model (when the text is a JSON object) and every
/// problem found while reading it.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The model, as complete as the input allows.
    pub machine: Option<StateMachine>,
    /// Duplicate keys, missing fields, wrong types and unknown fields, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads definition text into the model, reporting schema problems (not graph rules; see the
/// validator for those). Fails only when the text is not JSON.
pub fn parse_str(text: &str) -> Result<Parsed, Diagnostic> {
    let json::Parsed { value, duplicates } = json::parse(text)?;
    let (machine, mut diagnostics) = parse::parse_machine_owned(value);
    let mut all = duplicates;
    for d in &mut all {
        if is_states_key(&d.pointer) {
            d.code = Code::DuplicateStateName;
        }
    }
    all.append(&mut diagnostics);
    Ok(Parsed {
        machine,
        diagnostics: all,
    })
}

/// Whether a pointer names a key directly inside a `States` object (`…/States/<name>`).
fn is_states_key(pointer: &str) -> bool {
    let mut parts = pointer.rsplitn(3, '/');
    let _name = parts.next();
    parts.next() == Some("States")
}

pub mod validate;

/// A definition read and judged: the model (when the text is a JSON object) and every problem
/// found, by the parser (schema) and by the validator (graph and semantic rules), in that order.
#[derive(Debug, Clone)]
pub struct Report {
    /// The model, as complete as the input allows (`None` when the text is not a JSON object).
    pub machine: Option<StateMachine>,
    /// Every problem found: errors, and warnings (see [`Diagnostic::severity`]), which do not
    /// make the definition invalid.
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether the definition is valid (no error was found; there may be warnings).
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors: what makes the definition invalid.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warnings: findings that do not make the definition invalid.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// Whether the text could not be read as JSON at all.
    pub fn is_not_json(&self) -> bool {
        self.machine.is_none()
            && self
                .diagnostics
                .iter()
                .any(|d| d.code == Code::InvalidJsonDescription)
    }
}

/// Validates a model (as a `STANDARD` state machine) and returns every problem found by the
/// graph and semantic rules. Schema problems are found while parsing: use [`check_str`] to get
/// both for definition text.
pub fn validate(machine: &StateMachine) -> Vec<Diagnostic> {
    validate::validate_machine(machine)
}

/// Reads and validates definition text (as a `STANDARD` state machine): duplicate keys, schema
/// problems and every validator rule, all at once.
///
/// ```
/// let report = workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#);
/// assert!(!report.is_valid());
/// assert_eq!(report.diagnostics[0].code, workflow_asl::Code::MissingTransitionTarget);
/// assert_eq!(report.diagnostics[0].pointer, "/States/A/Next");
/// ```
pub fn check_str(text: &str) -> Report {
    check_str_with(text, &validate::Options::default())
}

/// [`check_str`] with explicit [`validate::Options`] (for example an `EXPRESS` machine).
pub fn check_str_with(text: &str, options: &validate::Options) -> Report {
    let json::Parsed { value, duplicates } = match json::parse(text) {
        Ok(p) => p,
        Err(d) => {
            return Report {
                machine: None,
                diagnostics: vec![d],
            }
        }
    };
    let mut diagnostics = duplicates;
    for d in &mut diagnostics {
        if is_states_key(&d.pointer) {
            d.code = Code::DuplicateStateName;
        }
    }
    let mut report = check_value_with(&value, options);
    diagnostics.append(&mut report.diagnostics);
    report.diagnostics = diagnostics;
    report
}

/// Parses and validates a definition that is already a JSON value (duplicate keys cannot be
/// detected any more at this point).
pub fn check_value_with(value: &serde_json::Value, options: &validate::Options) -> Report {
    let (machine, mut diagnostics) = parse::parse_machine(value);
    if let Some(m) = &machine {
        diagnostics.extend(validate::validate_with(m, Some(value), options));
    }
    Report {
        machine,
        diagnostics,
    }
}

/// Reads definition text into a model that passed every check, or returns every error
/// (warnings do not stop it).
pub fn load(text: &str) -> Result<StateMachine, Vec<Diagnostic>> {
    load_with(text, &validate::Options::default())
}

/// [`load`] with explicit [`validate::Options`].
pub fn load_with(text: &str, options: &validate::Options) -> Result<StateMachine, Vec<Diagnostic>> {
    let report = check_str_with(text, options);
    match report.machine {
        Some(m) if report.is_valid() => Ok(m),
        _ => Err(report
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect()),
    }
}
