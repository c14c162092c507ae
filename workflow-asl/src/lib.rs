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

pub mod diag;
pub mod emit;
pub mod error;
pub mod json;
pub mod model;
pub mod parse;

pub use diag::{Code, Diagnostic};
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
    let (machine, mut diagnostics) = parse::parse_machine(&value);
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
