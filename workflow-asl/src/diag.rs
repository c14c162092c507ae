//! Diagnostics: what is wrong with a definition, where (a JSON pointer) and why.

use std::fmt;

/// A stable diagnostic code.
///
/// Where AWS's `ValidateStateMachineDefinition` API has a code for the problem, the code has the
/// same name (`SCHEMA_VALIDATION_FAILED`, `MISSING_TRANSITION_TARGET`, …); the others are ours and
/// are listed in `docs/ARCHITECTURE.md`.
///
/// ```
/// use workflow_asl::Code;
///
/// let report = workflow_asl::check_str(r#"{"StartAt": "Nowhere", "States": {"A": {"Type": "Succeed"}}}"#);
/// assert!(report.diagnostics.iter().any(|d| d.code == Code::MissingTransitionTarget));
/// assert_eq!(Code::MissingTransitionTarget.to_string(), "MISSING_TRANSITION_TARGET");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// The text is not JSON (AWS: `INVALID_JSON_DESCRIPTION`).
    InvalidJsonDescription,
    /// A field is missing, unknown, of the wrong type or out of range (AWS: `SCHEMA_VALIDATION_FAILED`).
    SchemaValidationFailed,
    /// A `Next`, `Default`, Catch `Next` or `StartAt` names no state in its scope.
    MissingTransitionTarget,
    /// The same state name appears twice (in one object, or anywhere in the machine).
    DuplicateStateName,
    /// A state machine scope has no terminal state.
    MissingEndState,
    /// A state name is empty or longer than 80 characters.
    InvalidStateName,
    /// A Task `Resource` is not a valid resource.
    InvalidResource,
    /// A path or reference path is malformed, or a path is used where a reference path is required.
    InvalidJsonPath,
    /// An intrinsic function call is malformed, unknown or has the wrong number of arguments.
    InvalidIntrinsic,
    /// A JSONata expression (`{% … %}`) does not parse (AWS: `INVALID_JSONATA_EXPRESSION`).
    InvalidJsonata,
    /// A JSONata expression reads what Step Functions does not provide: a path from the context
    /// item, `$` or `$$` at the top level (AWS: `UNSUPPORTED_JSONATA_EXPRESSION`).
    UnsupportedJsonata,
    /// A field of one query language is used in a state that uses the other, or the languages are
    /// mixed where AWS forbids it. AWS reports it as `SCHEMA_VALIDATION_FAILED`, and so does
    /// [`Code::as_str`]; the separate variant lets tools tell it from other schema problems.
    QueryLanguageMismatch,
    /// A JSON object has the same key twice.
    DuplicateKey,
    /// A Map `Label` is empty, too long or has a forbidden character (AWS: `INVALID_LABEL_NAME`).
    InvalidLabelName,
    /// Two Map states have the same `Label` (AWS: `DUPLICATE_LABEL_NAME`).
    DuplicateLabelName,
    /// A state in a Parallel branch or a Map item processor assigns a variable that an enclosing
    /// scope also assigns. The rule is AWS's ("Passing data between states with variables",
    /// Variable scope); the code is ours, as no record of AWS's diagnostic for it was found.
    VariableAssignedInOuterScope,
    /// Warning: no `.$` on a payload template field whose value looks like a JSONPath or an
    /// intrinsic function (AWS: `NO_DOLLAR`).
    NoDollar,
    /// Warning: a field value looks like a path, but the field name does not end with `Path`
    /// (AWS: `NO_PATH`).
    NoPath,
    /// Warning: a Pass state's `Result` uses a path, which is never evaluated (AWS:
    /// `PASS_RESULT_IS_STATIC`).
    PassResultIsStatic,
    /// Warning: a `${NAME}` placeholder (CloudFormation `DefinitionSubstitutions`) was judged as
    /// the value it stands for, and has not been substituted.
    Placeholder,
}

impl Code {
    /// The code as written in JSON output and documentation (`SCHEMA_VALIDATION_FAILED`).
    ///
    /// ```
    /// assert_eq!(workflow_asl::Code::DuplicateStateName.as_str(), "DUPLICATE_STATE_NAME");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidJsonDescription => "INVALID_JSON_DESCRIPTION",
            Code::SchemaValidationFailed => "SCHEMA_VALIDATION_FAILED",
            Code::MissingTransitionTarget => "MISSING_TRANSITION_TARGET",
            Code::DuplicateStateName => "DUPLICATE_STATE_NAME",
            Code::MissingEndState => "MISSING_END_STATE",
            Code::InvalidStateName => "INVALID_STATE_NAME",
            Code::InvalidResource => "INVALID_RESOURCE",
            Code::InvalidJsonPath => "INVALID_JSON_PATH",
            Code::InvalidIntrinsic => "INVALID_INTRINSIC_FUNCTION",
            Code::InvalidJsonata => "INVALID_JSONATA_EXPRESSION",
            Code::UnsupportedJsonata => "UNSUPPORTED_JSONATA_EXPRESSION",
            Code::QueryLanguageMismatch => "SCHEMA_VALIDATION_FAILED",
            Code::DuplicateKey => "DUPLICATE_KEY",
            Code::InvalidLabelName => "INVALID_LABEL_NAME",
            Code::DuplicateLabelName => "DUPLICATE_LABEL_NAME",
            Code::VariableAssignedInOuterScope => "VARIABLE_ASSIGNED_IN_OUTER_SCOPE",
            Code::NoDollar => "NO_DOLLAR",
            Code::NoPath => "NO_PATH",
            Code::PassResultIsStatic => "PASS_RESULT_IS_STATIC",
            Code::Placeholder => "PLACEHOLDER",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a diagnostic is, as AWS's `ValidateStateMachineDefinition` grades them.
///
/// ```
/// use workflow_asl::Severity;
///
/// assert_eq!(Severity::Warning.to_string(), "WARNING");
/// assert!(Severity::Error < Severity::Warning);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Severity {
    /// The definition is invalid: AWS would reject it (`ERROR`).
    #[default]
    Error,
    /// The definition is valid, but probably not what was meant (`WARNING`).
    Warning,
}

impl Severity {
    /// The severity as AWS writes it: `ERROR` or `WARNING`.
    ///
    /// ```
    /// assert_eq!(workflow_asl::Severity::Error.as_str(), "ERROR");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "ERROR",
            Severity::Warning => "WARNING",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in a definition.
///
/// ```
/// use workflow_asl::{Code, Diagnostic, Severity};
///
/// let report = workflow_asl::check_str(r#"{"StartAt": "Start", "States": {"Start": {"Type": "Taks", "End": true}}}"#);
/// let d: &Diagnostic = &report.diagnostics[0];
/// assert_eq!(d.code, Code::SchemaValidationFailed);
/// assert_eq!(d.pointer, "/States/Start/Type");
/// assert_eq!(d.severity, Severity::Error);
/// assert!(d.message.contains("Task"), "{}", d.message); // a suggestion
/// assert!(d.to_string().starts_with("SCHEMA_VALIDATION_FAILED at /States/Start/Type: "));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem.
    pub code: Code,
    /// Where: an RFC 6901 JSON pointer into the definition (`/States/Check/Next`); empty for the root.
    pub pointer: String,
    /// What is wrong and what would be valid.
    pub message: String,
    /// An error (the definition is invalid) or a warning (it is valid).
    pub severity: Severity,
}

impl Diagnostic {
    /// An error with a code, a pointer and a message.
    ///
    /// ```
    /// use workflow_asl::{Code, Diagnostic};
    ///
    /// let d = Diagnostic::new(Code::MissingTransitionTarget, "/States/A/Next", "no state `B`");
    /// assert!(d.is_error());
    /// assert_eq!(d.to_string(), "MISSING_TRANSITION_TARGET at /States/A/Next: no state `B`");
    /// ```
    pub fn new(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            pointer: pointer.into(),
            message: message.into(),
            severity: Severity::Error,
        }
    }

    /// A warning with a code, a pointer and a message: the definition is still valid.
    ///
    /// ```
    /// use workflow_asl::{Code, Diagnostic, Severity};
    ///
    /// let d = Diagnostic::warning(Code::MissingTransitionTarget, "", "just a note");
    /// assert_eq!(d.severity, Severity::Warning);
    /// assert!(!d.is_error());
    /// ```
    pub fn warning(code: Code, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(code, pointer, message)
        }
    }

    /// Whether this is an error (the definition is invalid), not a warning.
    ///
    /// ```
    /// let report = workflow_asl::check_str(r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#);
    /// assert!(report.diagnostics.iter().any(workflow_asl::Diagnostic::is_error));
    /// ```
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "{} at {}: {}", self.code, at, self.message)
    }
}

impl std::error::Error for Diagnostic {}

/// Why [`load`](crate::load) refused a definition: every error found, in document order (at least
/// one; warnings are left out). It reads as the list of [`Diagnostic`]s it holds (it dereferences
/// to a slice and iterates over them), and is a [`std::error::Error`], so `?` carries it into a
/// `Box<dyn Error>`.
///
/// ```
/// use workflow_asl::{Code, LoadError};
///
/// let err: LoadError = workflow_asl::load(
///     r#"{"StartAt": "B", "States": {"A": {"Type": "Pass", "Next": "C"}}}"#,
/// )
/// .unwrap_err();
/// // The two names that are not states, and no state that ends the machine.
/// assert_eq!(err.len(), 3);
/// assert_eq!(err[0].code, Code::MissingTransitionTarget);
/// assert_eq!(err[1].pointer, "/States/A/Next");
/// assert!(err.iter().all(|d| d.is_error()));
/// assert!(err
///     .to_string()
///     .starts_with("3 errors in the definition: MISSING_TRANSITION_TARGET at /StartAt: "));
/// // As a boxed error.
/// let boxed: Box<dyn std::error::Error> = err.into();
/// assert!(boxed.to_string().starts_with("3 errors"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    /// The error for these diagnostics (the caller keeps only errors).
    pub(crate) fn new(diagnostics: Vec<Diagnostic>) -> LoadError {
        LoadError { diagnostics }
    }

    /// The diagnostics, in document order.
    ///
    /// ```
    /// let err = workflow_asl::load("[]").unwrap_err();
    /// assert_eq!(err.diagnostics()[0].pointer, "");
    /// ```
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The diagnostics, owned.
    ///
    /// ```
    /// let errors: Vec<workflow_asl::Diagnostic> =
    ///     workflow_asl::load("{}").unwrap_err().into_diagnostics();
    /// assert!(!errors.is_empty());
    /// ```
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.diagnostics.as_slice() {
            [] => write!(f, "the definition is not valid"),
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} errors in the definition: ", many.len())?;
                for (i, d) in many.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{d}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

impl std::ops::Deref for LoadError {
    type Target = [Diagnostic];

    fn deref(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

impl IntoIterator for LoadError {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.diagnostics.into_iter()
    }
}

impl<'a> IntoIterator for &'a LoadError {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.diagnostics.iter()
    }
}

impl From<LoadError> for Vec<Diagnostic> {
    fn from(e: LoadError) -> Vec<Diagnostic> {
        e.diagnostics
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/` as RFC 6901 requires.
///
/// ```
/// use workflow_asl::diag::push_pointer;
///
/// assert_eq!(push_pointer("/States", "a/b~c"), "/States/a~1b~0c");
/// ```
pub fn push_pointer(base: &str, token: &str) -> String {
    let mut out = String::with_capacity(base.len() + token.len() + 1);
    out.push_str(base);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// The closest candidate to `name` by edit distance, if it is close enough to be a likely typo.
///
/// ```
/// use workflow_asl::diag::did_you_mean;
///
/// assert_eq!(did_you_mean("Chek", ["Check", "Done"]), Some("Check"));
/// assert_eq!(did_you_mean("Zzzzzz", ["Check", "Done"]), None);
/// ```
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(&name.to_lowercase(), &c.to_lowercase());
        let limit = (name.chars().count().max(c.chars().count()) / 3).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters each cost one (so `Taks` is one edit from `Task`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0usize; (a.len() + 1) * width];
    for (i, row) in d.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in d.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointer_escapes() {
        assert_eq!(push_pointer("/States", "a/b~c"), "/States/a~1b~0c");
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("Chek", ["Check", "Done"]), Some("Check"));
        assert_eq!(did_you_mean("Zzzzzz", ["Check", "Done"]), None);
        assert_eq!(did_you_mean("Dnoe", ["Check", "Done"]), Some("Done"));
        assert_eq!(did_you_mean("taks", ["task", "pass"]), Some("task"));
    }
}
