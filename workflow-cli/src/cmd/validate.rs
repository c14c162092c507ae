//! `workflow validate FILE...`: every problem in every file, as text or JSON.

use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use serde_json::{json, Value};
use workflow_asl::validate::{MachineType, Options, Placeholders};
use workflow_asl::{check_str_with, Diagnostic};

use super::substitute::SubstituteArgs;
use super::{read_text, INVALID, OK, UNREADABLE};

/// Arguments of `workflow validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Definition files (Amazon States Language JSON).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The state machine type: some integrations (`.sync`, `.waitForTaskToken`) are STANDARD-only.
    #[arg(long = "type", value_enum, default_value_t = Type::Standard)]
    pub machine_type: Type,
    /// `--substitute NAME=VALUE`, `--substitutions FILE.json`: fill in `${NAME}` placeholders
    /// (CloudFormation's `DefinitionSubstitutions`). Placeholders left are judged as the values
    /// they stand for and reported as warnings.
    #[command(flatten)]
    pub substitutions: SubstituteArgs,
}

/// How `validate` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `FILE: CODE at POINTER: message`, one problem per line (`FILE: warning: …` for a
    /// warning), or `FILE: valid`.
    Human,
    /// One JSON document: an array with an object per file.
    Json,
}

/// The state machine type to validate against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Type {
    /// A STANDARD state machine.
    Standard,
    /// An EXPRESS state machine.
    Express,
}

/// What became of one file.
enum Outcome {
    /// The file could not be read, or is not JSON.
    Unreadable(String),
    /// The file was judged: its errors and warnings.
    Checked(Vec<Diagnostic>),
}

/// Runs `workflow validate`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let options = Options {
        machine_type: match args.machine_type {
            Type::Standard => MachineType::Standard,
            Type::Express => MachineType::Express,
        },
        placeholders: Placeholders::Accept,
    };
    let mut status = OK;
    let mut json_files = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let outcome = match read_text(path).and_then(|t| args.substitutions.apply(t)) {
            Err(why) => Outcome::Unreadable(why),
            Ok(text) => {
                let report = check_str_with(&text, &options);
                if report.is_not_json() {
                    Outcome::Unreadable(
                        report
                            .diagnostics
                            .first()
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "not JSON".to_owned()),
                    )
                } else {
                    Outcome::Checked(report.diagnostics)
                }
            }
        };
        match &outcome {
            Outcome::Unreadable(_) => status = UNREADABLE,
            Outcome::Checked(d) if d.iter().any(Diagnostic::is_error) && status == OK => {
                status = INVALID
            }
            Outcome::Checked(_) => {}
        }
        match args.format {
            Format::Human => match &outcome {
                Outcome::Unreadable(why) => {
                    let _ = writeln!(err, "{name}: {why}");
                }
                Outcome::Checked(diags) => {
                    for d in diags {
                        if d.is_error() {
                            let _ = writeln!(out, "{name}: {d}");
                        } else {
                            let _ = writeln!(out, "{name}: warning: {d}");
                        }
                    }
                    if !diags.iter().any(Diagnostic::is_error) {
                        let _ = writeln!(out, "{name}: valid");
                    }
                }
            },
            Format::Json => json_files.push(match &outcome {
                Outcome::Unreadable(why) => json!({
                    "file": name,
                    "valid": false,
                    "error": why,
                    "diagnostics": [],
                }),
                Outcome::Checked(diags) => json!({
                    "file": name,
                    "valid": !diags.iter().any(Diagnostic::is_error),
                    "error": Value::Null,
                    "diagnostics": diags.iter().map(diagnostic_json).collect::<Vec<_>>(),
                }),
            }),
        }
    }
    if args.format == Format::Json {
        let text = serde_json::to_string_pretty(&Value::Array(json_files)).unwrap_or_default();
        let _ = writeln!(out, "{text}");
    }
    status
}

/// A diagnostic as JSON: `{"code": …, "severity": "ERROR"|"WARNING", "pointer": …, "message": …}`
/// (AWS's `ValidateStateMachineDefinition` severities).
pub fn diagnostic_json(d: &Diagnostic) -> Value {
    json!({
        "code": d.code.as_str(),
        "severity": d.severity.as_str(),
        "pointer": d.pointer,
        "message": d.message,
    })
}
