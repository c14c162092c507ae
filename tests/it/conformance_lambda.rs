//! Runs the recorded AWS executions in `localstack/needs_lambda_stub/` (machines whose only Tasks
//! invoke Lambda) with Rust stand-ins for the LocalStack test functions, and compares status,
//! output, error, cause and event types with what AWS recorded (see `tests/it/common/conformance.rs`).
//!
//! Each case's `notes` name the functions its test created and the LocalStack handler file of
//! each (`{"lambda_func_1a2b": "id_function.py"}`); [`Function`] does what that file does. Lambda
//! is reached two ways, as on AWS, and both go through the executor's own Lambda support:
//! - a Lambda ARN as the `Resource`: the function's JSON result is the task result, and a raised
//!   exception fails the task with the exception's type as the error and the Python runtime's
//!   error document (`json.dumps`, so `", "` and `": "` separators) as the cause;
//! - `arn:aws:states:::lambda:invoke` with `Parameters.FunctionName` (a name or an ARN) and
//!   `Payload`: the executor calls the handler registered for the function's ARN with the
//!   payload and builds the Invoke response (`{"ExecutedVersion", "Payload", "SdkHttpMetadata",
//!   "SdkResponseMetadata", "StatusCode"}`) and the compact error cause itself; an unknown function
//!   fails with `Lambda.ResourceNotFoundException` (raised by the stand-in, as Lambda would).

use crate::common::conformance;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use conformance::{python_json, python_number, run_group, Case, KnownFailures, ACCOUNT, REGION};
use serde_json::{json, Value};
use workflow::runtime::{Runtime, RuntimeBuilder, TaskContext, TaskError};

/// The LocalStack test functions the corpus uses, by handler file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    /// `id_function.py`: `return event`.
    Id,
    /// `echo_function.py`: `return {"Return": "HelloWorld"}`.
    Echo,
    /// `raise_exception.py`: `raise Exception("Some exception was raised.")` (line 2).
    RaiseException,
    /// `raise_custom_exception.py`: `raise CustomException()` (line 9; its message is empty).
    RaiseCustomException,
    /// `return_bytes_str.py`: `return b'"HelloWorld!"'` (raw bytes, sent as they are).
    ReturnBytesStr,
    /// `large_output_string.py`: returns 257 KiB of `a` as raw bytes.
    LargeOutputString,
    /// `return_decorated_input.py`: `return f"input-event-{event}"`.
    ReturnDecoratedInput,
    /// `wait_60_seconds.py`: sleeps 60 seconds, then returns its event.
    Wait60Seconds,
}

impl Function {
    fn from_file(file: &str) -> Option<Function> {
        Some(match file {
            "id_function.py" => Function::Id,
            "echo_function.py" => Function::Echo,
            "raise_exception.py" => Function::RaiseException,
            "raise_custom_exception.py" => Function::RaiseCustomException,
            "return_bytes_str.py" => Function::ReturnBytesStr,
            "large_output_string.py" => Function::LargeOutputString,
            "return_decorated_input.py" => Function::ReturnDecoratedInput,
            "wait_60_seconds.py" => Function::Wait60Seconds,
            _ => return None,
        })
    }

    /// Runs the function on an event: the response payload (bytes, as text) or an error document.
    async fn invoke(self, event: Value, request_id: &str) -> Result<String, Value> {
        let raise = |ty: &str, message: &str, line: u32, code: &str| -> Result<String, Value> {
            Err(json!({
                "errorMessage": message,
                "errorType": ty,
                "requestId": request_id,
                "stackTrace": [format!(
                    "  File \"/var/task/handler.py\", line {line}, in handler\n    {code}\n"
                )],
            }))
        };
        match self {
            Function::Id => Ok(python_json(&event)),
            Function::Echo => Ok(python_json(&json!({"Return": "HelloWorld"}))),
            Function::RaiseException => raise(
                "Exception",
                "Some exception was raised.",
                2,
                "raise Exception(\"Some exception was raised.\")",
            ),
            Function::RaiseCustomException => {
                raise("CustomException", "", 9, "raise CustomException()")
            }
            Function::ReturnBytesStr => Ok("\"HelloWorld!\"".to_string()),
            Function::LargeOutputString => Ok("a".repeat(257 * 1024)),
            Function::ReturnDecoratedInput => Ok(python_json(&Value::String(format!(
                "input-event-{}",
                python_str(&event)
            )))),
            Function::Wait60Seconds => {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(python_json(&event))
            }
        }
    }
}

/// The functions a case's test created: name → behaviour, from the case's notes.
fn functions(case: &Case) -> HashMap<String, Function> {
    const MARK: &str = "(name -> LocalStack handler file): ";
    let Some(at) = case.notes.find(MARK) else {
        return HashMap::new();
    };
    let text = &case.notes[at + MARK.len()..];
    let map = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or(Value::Null);
    let mut out = HashMap::new();
    for (name, file) in map.as_object().into_iter().flatten() {
        let file = file.as_str().unwrap_or_default();
        let f = Function::from_file(file)
            .unwrap_or_else(|| panic!("{}: no stand-in for the handler file {file}", case.rel));
        out.insert(name.clone(), f);
    }
    out
}

/// The function name in a `FunctionName` or a Lambda ARN (`arn:aws:lambda:r:a:function:NAME[:qualifier]`).
fn function_name(name_or_arn: &str) -> &str {
    match name_or_arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => name_or_arn,
    }
}

/// A fresh request id for each invocation (LocalStack records them as `<uuid:N>`).
fn request_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{:08x}-0000-4000-8000-{n:012x}", n)
}

/// The Step Functions view of a response payload: JSON when it parses, else the text.
fn payload_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

fn not_found(name: &str, request_id: &str) -> TaskError {
    TaskError::new(
        "Lambda.ResourceNotFoundException",
        format!(
            "Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}:$LATEST \
             (Service: AWSLambda; Status Code: 404; Error Code: ResourceNotFoundException; \
             Request ID: {request_id}; Proxy: null)"
        ),
    )
}

/// The error document's type, for the task's error name.
fn error_type(doc: &Value) -> String {
    doc.get("errorType")
        .and_then(Value::as_str)
        .unwrap_or("Exception")
        .to_string()
}

/// A function, called by its ARN (the `Resource`, or `lambda:invoke`'s `FunctionName`).
async fn invoke_arn(
    functions: Arc<HashMap<String, Function>>,
    event: Value,
    cx: TaskContext,
) -> Result<Value, TaskError> {
    let name = function_name(cx.resource()).to_string();
    let rid = request_id();
    let Some(f) = functions.get(&name) else {
        return Err(not_found(&name, &rid));
    };
    match f.invoke(event, &rid).await {
        Ok(text) => Ok(payload_value(&text)),
        Err(doc) => Err(TaskError::new(error_type(&doc), python_json(&doc))),
    }
}

/// The runtime for a case: its functions behind both ways of calling Lambda.
fn setup(case: &Case) -> RuntimeBuilder {
    let functions = Arc::new(functions(case));
    // One handler per function ARN; `lambda:invoke` reaches it through the executor.
    Runtime::builder().raw_handler("arn:aws:lambda:*", move |event, cx| {
        invoke_arn(Arc::clone(&functions), event, cx)
    })
}

#[test]
fn lambda_executions_match_aws() {
    let known = KnownFailures::load().unwrap_or_else(|e| panic!("{e}"));
    let Some(run) = run_group("needs_lambda_stub", &setup) else {
        return;
    };
    run.report_and_check(&known);
}

// ===== Python's view of JSON values =====

/// `str(v)` of the Python object a JSON value decodes to (`{'a': 1}`, `True`, `None`).
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

fn python_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => python_number(n),
        Value::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, x)| format!(
                    "{}: {}",
                    python_repr(&Value::String(k.clone())),
                    python_repr(x)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[test]
fn python_views_of_json() {
    for (v, dumps, str_) in [
        (
            json!({"foo": "foo-1"}),
            r#"{"foo": "foo-1"}"#,
            "{'foo': 'foo-1'}",
        ),
        (
            json!([1, 0.5, null, true]),
            "[1, 0.5, null, true]",
            "[1, 0.5, None, True]",
        ),
        (json!(0.0), "0.0", "0.0"),
        (json!("é\n"), r#""\u00e9\n""#, "é\n"),
        (json!(1e16), "1e+16", "1e+16"),
    ] {
        assert_eq!(python_json(&v), dumps, "{v}");
        assert_eq!(python_str(&v), str_, "{v}");
    }
    assert_eq!(
        function_name("arn:aws:lambda:us-east-1:1:function:f:$LATEST"),
        "f"
    );
    assert_eq!(function_name("f"), "f");
}
