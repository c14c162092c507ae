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

pub use diag::{Code, Diagnostic, LoadError, Severity};
pub use error::Failure;
pub use model::StateMachine;

/// The result of reading a definition: the model (when the text is a JSON object) and every
/// problem found while reading it.
///
/// ```
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Colour": "red"}}}"#)
///     .expect("JSON");
/// assert!(parsed.machine.is_some());
/// assert_eq!(parsed.diagnostics[0].pointer, "/States/A/Colour"); // an unknown field
/// ```
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The model, as complete as the input allows.
    pub machine: Option<StateMachine>,
    /// Duplicate keys, missing fields, wrong types and unknown fields, in document order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads definition text into the model, reporting schema problems (not graph rules; see the
/// validator for those). Fails only when the text is not JSON.
///
/// ```
/// // Graph rules are not checked here: `B` does not exist, but the model is read.
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#).unwrap();
/// assert!(parsed.diagnostics.is_empty());
/// // Text that is not JSON is the one failure.
/// let err = workflow_asl::parse_str("{").unwrap_err();
/// assert_eq!(err.code, workflow_asl::Code::InvalidJsonDescription);
/// ```
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
///
/// ```
/// let report = workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "Missing"}}}"#);
/// assert!(!report.is_valid());
/// assert_eq!(report.errors().count(), 2); // no `Missing`, and no terminal state
/// assert!(report.machine.is_some()); // the model is kept, as complete as it is
/// ```
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
    ///
    /// ```
    /// assert!(workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#).is_valid());
    /// ```
    pub fn is_valid(&self) -> bool {
        !self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The errors: what makes the definition invalid.
    ///
    /// ```
    /// let report = workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#);
    /// let errors: Vec<_> = report.errors().map(|d| d.pointer.as_str()).collect();
    /// // The missing target, and (at the root) no state that ends the execution.
    /// assert_eq!(errors, ["/States/A/Next", ""]);
    /// ```
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }

    /// The warnings: findings that do not make the definition invalid.
    ///
    /// ```
    /// let report = workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#);
    /// assert_eq!(report.warnings().count(), 0);
    /// ```
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| !d.is_error())
    }

    /// Whether the text could not be read as JSON at all.
    ///
    /// ```
    /// assert!(workflow_asl::check_str("not json").is_not_json());
    /// assert!(!workflow_asl::check_str("{}").is_not_json());
    /// ```
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
///
/// ```
/// let parsed = workflow_asl::parse_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}"#).unwrap();
/// let found = workflow_asl::validate(parsed.machine.as_ref().unwrap());
/// // A loop with no way out: no terminal state.
/// assert!(!found.is_empty());
/// ```
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
///
/// ```
/// use workflow_asl::validate::{MachineType, Options};
///
/// let options = Options { machine_type: MachineType::Express, ..Options::default() };
/// let report = workflow_asl::check_str_with(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#, &options);
/// assert!(report.is_valid());
/// ```
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
///
/// ```
/// let definition = serde_json::json!({"StartAt": "A", "States": {"A": {"Type": "Wait", "End": true}}});
/// let report = workflow_asl::check_value_with(&definition, &Default::default());
/// // A Wait needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath.
/// assert!(!report.is_valid());
/// assert!(report.errors().all(|d| d.pointer.starts_with("/States/A")));
/// ```
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

/// Reads definition text into a model that passed every check, or returns every error as a
/// [`LoadError`] (warnings do not stop it).
///
/// ```
/// let machine = workflow_asl::load(r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#).expect("valid");
/// assert_eq!(machine.start_at, "A");
/// let errors = workflow_asl::load(r#"{"StartAt": "B", "States": {"A": {"Type": "Succeed"}}}"#).unwrap_err();
/// assert_eq!(errors[0].code, workflow_asl::Code::MissingTransitionTarget);
/// ```
pub fn load(text: &str) -> Result<StateMachine, LoadError> {
    load_with(text, &validate::Options::default())
}

/// [`load`] with explicit [`validate::Options`].
///
/// ```
/// use workflow_asl::validate::{Options, Placeholders};
///
/// // `${...}` placeholders (CloudFormation substitutions) judged as the values they stand for.
/// let options = Options { placeholders: Placeholders::Accept, ..Options::default() };
/// let text = r#"{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "${HandlerArn}", "End": true}}}"#;
/// assert!(workflow_asl::load_with(text, &options).is_ok());
/// ```
pub fn load_with(text: &str, options: &validate::Options) -> Result<StateMachine, LoadError> {
    let report = check_str_with(text, options);
    match report.machine {
        Some(m) if report.is_valid() => Ok(m),
        _ => Err(LoadError::new(
            report
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        )),
    }
}
