//! `workflow test-state DEF --input JSON|@FILE [--state NAME] [--inspection-level INFO|DEBUG|TRACE]
//! [--mock JSON|@FILE] [--variables JSON|@FILE] [--context JSON|@FILE] --format json`: run ONE state
//! as AWS Step Functions' `TestState` API does, and print its response.
//!
//! DEF is a file holding one state's definition, or a whole state machine (then `--state` names
//! the state to test). `--mock` is TestState's mock: `{"result": "<JSON text>"}` or
//! `{"errorOutput": {"error": "…", "cause": "…"}}`. A Task without a mock has no handler here and
//! fails, as an unconfigured function would; mock it.
//!
//! Output: AWS's response shape as JSON: `status` (`SUCCEEDED`, `FAILED`, `RETRIABLE`,
//! `CAUGHT_ERROR`), `output`, `error`, `cause`, `nextState`, and at `DEBUG`/`TRACE`
//! `inspectionData` (the data after each step of the state's data path). As in AWS's API,
//! `output` and the inspection values are JSON text.
//!
//! Exit status: 0 when the response is printed (whatever the tested state's status: it is in the
//! response), 2 when the arguments cannot be used (a file that cannot be read, text that is not
//! JSON, an invalid state definition, an unknown `--state`, a malformed mock), with the reason
//! on stderr.

use std::io::Write;
use std::path::Path;

use clap::{Parser, ValueEnum};
use serde_json::Value;
use workflow_runtime::test_state::{InspectionLevel, Mock, TestStateRequest};
use workflow_runtime::Runtime;

use super::eval::json_arg;
use super::{read_text, OK, UNREADABLE};

/// Arguments of `workflow test-state`.
#[derive(Debug, Parser)]
pub struct Args {
    /// The definition file: one state, or a whole state machine (with `--state`).
    #[arg(value_name = "DEF")]
    pub definition: std::path::PathBuf,
    /// The state's input: JSON text, or `@FILE` to read it from a file.
    #[arg(long, value_name = "JSON|@FILE")]
    pub input: String,
    /// The state to test, when DEF is a whole state machine.
    #[arg(long, value_name = "NAME")]
    pub state: Option<String>,
    /// How much to report: INFO (the outcome), DEBUG (also the data after each step), TRACE.
    #[arg(long, value_enum, default_value_t = Level::Info)]
    pub inspection_level: Level,
    /// TestState's mock: `{"result": "<JSON text>"}` or `{"errorOutput": {"error", "cause"}}`,
    /// or `@FILE`.
    #[arg(long, value_name = "JSON|@FILE")]
    pub mock: Option<String>,
    /// The workflow variables the state sees: a JSON object, or `@FILE`.
    #[arg(long, value_name = "JSON|@FILE")]
    pub variables: Option<String>,
    /// The context object (`$$`, `$states.context`): a JSON object, or `@FILE`.
    #[arg(long, value_name = "JSON|@FILE")]
    pub context: Option<String>,
    /// Output format (AWS's TestState response as JSON).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// `--inspection-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "UPPER")]
pub enum Level {
    /// The status, output, error, cause and next state.
    Info,
    /// Also the data after each step of the data path.
    Debug,
    /// Also the HTTP request and response of an HTTP Task (which is not called locally).
    Trace,
}

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// AWS's TestState response shape.
    Json,
}

/// Builds the request from the arguments; the error names the argument and what is wrong.
fn request(args: &Args) -> Result<TestStateRequest, String> {
    let path = &args.definition;
    let name = path.display();
    let text = read_text(Path::new(path)).map_err(|why| format!("{name}: {why}"))?;
    let definition = workflow_asl::json::parse(&text)
        .map(|p| p.value)
        .map_err(|d| format!("{name}: not valid JSON: {}", d.message))?;
    let input = json_arg("--input", &args.input)?;
    let mut req =
        TestStateRequest::new(definition, input).inspection_level(match args.inspection_level {
            Level::Info => InspectionLevel::Info,
            Level::Debug => InspectionLevel::Debug,
            Level::Trace => InspectionLevel::Trace,
        });
    if let Some(s) = &args.state {
        req = req.state(s.clone());
    }
    if let Some(m) = &args.mock {
        let v = json_arg("--mock", m)?;
        req = req.mock(Mock::from_json(&v).map_err(|e| format!("--mock: {e}"))?);
    }
    if let Some(v) = &args.variables {
        match json_arg("--variables", v)? {
            Value::Object(vars) => req = req.variables(vars),
            other => {
                return Err(format!(
                    "--variables: expected a JSON object (variable name -> value), got {}",
                    type_name(&other)
                ))
            }
        }
    }
    if let Some(c) = &args.context {
        match json_arg("--context", c)? {
            v @ Value::Object(_) => req = req.context(v),
            other => {
                return Err(format!(
                    "--context: expected a JSON object (the context object), got {}",
                    type_name(&other)
                ))
            }
        }
    }
    Ok(req)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Runs `workflow test-state`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let req = match request(args) {
        Ok(r) => r,
        Err(why) => {
            let _ = writeln!(err, "workflow test-state: {why}");
            return UNREADABLE;
        }
    };
    let tokio = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(
                err,
                "workflow test-state: cannot start the async runtime: {e}"
            );
            return UNREADABLE;
        }
    };
    let runtime = Runtime::builder().build();
    match tokio.block_on(runtime.test_state(&req)) {
        Ok(response) => {
            let Format::Json = args.format;
            let text = serde_json::to_string_pretty(&response.to_aws_json())
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            if let Err(e) = writeln!(out, "{text}") {
                let _ = writeln!(err, "workflow test-state: cannot write the output: {e}");
            }
            OK
        }
        Err(e) => {
            let what = match e.part.as_str() {
                "definition" | "state" => args.definition.display().to_string(),
                other => format!("--{other}"),
            };
            let at = if e.pointer.is_empty() {
                String::new()
            } else {
                format!(" at {}", e.pointer)
            };
            let _ = writeln!(err, "workflow test-state: {what}{at}: {}", e.message);
            UNREADABLE
        }
    }
}
