//! `workflow eval EXPR [--input JSON|@FILE] [--bindings JSON|@FILE] [--states JSON|@FILE]
//! [--format json]`: evaluate one JSONata expression as JSONata 2.0.6 defines it, with Step
//! Functions' own functions (`$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`) and
//! without `$eval`.
//!
//! The input is the context item `$` (undefined when `--input` is absent); each key of
//! `--bindings` is bound as `$key`; `--states` is bound as `$states`, as Step Functions binds it.
//!
//! Output: the result as JSON (`text`, the default), or with `--format json` exactly one object:
//! `{"result": V}` (exit 0), `{"undefined": true}` (exit 0) or
//! `{"error": {"code": "T2001", "message": "…"}}` (exit 1). Arguments that cannot be used (a file
//! that cannot be read, text that is not JSON, bindings that are not an object) exit 2 with the
//! reason on stderr.

use std::io::Write;
use std::path::Path;

use clap::{Parser, ValueEnum};
use serde_json::{json, Value};
use workflow_asl::jsonata::{Expression, Scope};

use super::{read_text, INVALID, OK, UNREADABLE};

/// How long one evaluation may run: longer than Step Functions' one second, because `eval`
/// evaluates JSONata as the language defines it (which has no limit), yet bounded, so that a
/// runaway expression ends with `D1012` rather than hanging the terminal.
const TIME_LIMIT_MS: u64 = 10_000;

/// Arguments of `workflow eval`.
#[derive(Debug, Parser)]
pub struct Args {
    /// The JSONata expression (without `{%` `%}`).
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub expr: String,
    /// The input (the context item `$`): JSON text, or `@FILE` to read it from a file.
    #[arg(long, value_name = "JSON|@FILE")]
    pub input: Option<String>,
    /// Variables: a JSON object whose keys are bound as `$key`, or `@FILE`.
    #[arg(long, value_name = "JSON|@FILE")]
    pub bindings: Option<String>,
    /// The value of `$states` (as Step Functions binds it: `input`, `result`, `context`, …), or
    /// `@FILE`.
    #[arg(long, value_name = "JSON|@FILE")]
    pub states: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// How `eval` prints its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The result as indented JSON (or `undefined`); an error on stderr.
    Text,
    /// One JSON object: `{"result": …}`, `{"undefined": true}` or `{"error": {…}}`.
    Json,
}

/// Reads a `JSON|@FILE` argument (shared with `test-state`).
pub(crate) fn json_arg(flag: &str, arg: &str) -> Result<Value, String> {
    let (source, text) = match arg.strip_prefix('@') {
        Some(path) => (
            path.to_owned(),
            read_text(Path::new(path)).map_err(|why| format!("{path}: {why}"))?,
        ),
        None => (flag.to_owned(), arg.to_owned()),
    };
    workflow_asl::json::parse(&text)
        .map(|p| p.value)
        .map_err(|d| format!("{source}: not valid JSON: {}", d.message))
}

/// Runs `workflow eval`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let prepared = (|| -> Result<(Option<Value>, Scope), String> {
        let input = args
            .input
            .as_deref()
            .map(|a| json_arg("--input", a))
            .transpose()?;
        let mut scope = Scope::new();
        scope.set_time_limit_ms(TIME_LIMIT_MS);
        if let Some(b) = &args.bindings {
            match json_arg("--bindings", b)? {
                Value::Object(map) => scope.bind_all(&map),
                other => {
                    return Err(format!(
                        "--bindings: expected a JSON object (each key is bound as $key), got {}",
                        kind(&other)
                    ))
                }
            }
        }
        if let Some(s) = &args.states {
            scope.bind("states", &json_arg("--states", s)?);
        }
        Ok((input, scope))
    })();
    let (input, scope) = match prepared {
        Ok(p) => p,
        Err(why) => {
            let _ = writeln!(err, "workflow eval: {why}");
            return UNREADABLE;
        }
    };
    let outcome =
        Expression::parse(&args.expr).and_then(|expr| expr.evaluate(input.as_ref(), &scope));
    match (args.format, outcome) {
        (Format::Json, Ok(Some(v))) => {
            let _ = writeln!(out, "{}", json!({ "result": v }));
            OK
        }
        (Format::Json, Ok(None)) => {
            let _ = writeln!(out, "{}", json!({ "undefined": true }));
            OK
        }
        (Format::Json, Err(e)) => {
            let _ = writeln!(
                out,
                "{}",
                json!({ "error": { "code": e.code, "message": e.message } })
            );
            INVALID
        }
        (Format::Text, Ok(Some(v))) => {
            let text = serde_json::to_string_pretty(&v).unwrap_or_else(|_| v.to_string());
            let _ = writeln!(out, "{text}");
            OK
        }
        (Format::Text, Ok(None)) => {
            let _ = writeln!(out, "undefined");
            OK
        }
        (Format::Text, Err(e)) => {
            let _ = writeln!(err, "error {e}");
            INVALID
        }
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_with(argv: &[&str]) -> (u8, String, String) {
        let mut full = vec!["eval"];
        full.extend_from_slice(argv);
        let args = Args::parse_from(full);
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = run(&args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(err).expect("utf-8"),
        )
    }

    #[test]
    fn json_format_shapes() {
        let (c, o, _) = run_with(&[
            "a + $x",
            "--input",
            r#"{"a": 1}"#,
            "--bindings",
            r#"{"x": 2}"#,
            "--format",
            "json",
        ]);
        assert_eq!((c, o.trim()), (0, r#"{"result":3}"#));
        let (c, o, _) = run_with(&["nothing", "--format", "json"]);
        assert_eq!((c, o.trim()), (0, r#"{"undefined":true}"#));
        let (c, o, _) = run_with(&["'a' + 1", "--format", "json"]);
        assert_eq!(c, 1);
        let v: Value = serde_json::from_str(o.trim()).expect("json");
        assert_eq!(v["error"]["code"], "T2001");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }

    #[test]
    fn states_binding_and_text_format() {
        let (c, o, _) = run_with(&["$states.input.n * 2", "--states", r#"{"input": {"n": 21}}"#]);
        assert_eq!((c, o.trim()), (0, "42"));
        let (c, _, e) = run_with(&["1 +"]);
        assert_eq!(c, 1);
        assert!(e.contains("S0207"), "{e}");
    }

    #[test]
    fn unusable_arguments_exit_2() {
        let (c, _, e) = run_with(&["1", "--input", "{nope"]);
        assert_eq!(c, 2);
        assert!(e.contains("--input"), "{e}");
        let (c, _, e) = run_with(&["1", "--bindings", "[1]"]);
        assert_eq!(c, 2);
        assert!(e.contains("object"), "{e}");
        let (c, _, _) = run_with(&["1", "--input", "@/no/such/file.json"]);
        assert_eq!(c, 2);
    }
}
