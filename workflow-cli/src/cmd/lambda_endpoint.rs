//! `--lambda-endpoint URL`: Lambda tasks sent to a local Lambda Invoke API (such as
//! `cargo lambda watch`), as `POST URL/2015-03-31/functions/NAME/invocations`
//! (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>).
//!
//! A task whose `Resource` is a Lambda function ARN sends its effective input and gets the
//! function's result. `arn:aws:states:::lambda:invoke` sends `Payload` to `FunctionName` and gets
//! `{"ExecutedVersion", "Payload", "StatusCode"}`, as on AWS. A function error (the response's
//! `X-Amz-Function-Error` header) fails the task with the payload's `errorType` as the error and
//! the payload as the cause, as Step Functions reports Lambda errors.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use workflow_runtime::TaskError;

/// The name of a function from a name, an ARN or a partial ARN (`…:function:NAME[:QUALIFIER]`).
pub fn function_name(reference: &str) -> &str {
    match reference.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => reference,
    }
}

/// How a Lambda task is invoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `Resource` is the function's ARN: the input is the event, the result the output.
    Function,
    /// `arn:aws:states:::lambda:invoke`: `FunctionName` and `Payload` in, the response out.
    Integration,
}

/// Invokes a function of the endpoint for a task.
pub async fn invoke(
    endpoint: &str,
    resource: &str,
    shape: Shape,
    input: Value,
) -> Result<Value, TaskError> {
    let (name, payload) = match shape {
        Shape::Function => (function_name(resource).to_string(), input),
        Shape::Integration => {
            let Some(name) = input.get("FunctionName").and_then(Value::as_str) else {
                return Err(TaskError::task_failed(
                    "lambda:invoke needs a FunctionName string in its Parameters",
                ));
            };
            let payload = input.get("Payload").cloned().unwrap_or(json!({}));
            (function_name(name).to_string(), payload)
        }
    };
    let url = format!(
        "{}/2015-03-31/functions/{name}/invocations",
        endpoint.trim_end_matches('/')
    );
    let request = hyper::Request::post(&url)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(payload.to_string())))
        .map_err(|e| TaskError::task_failed(format!("--lambda-endpoint: bad URL {url}: {e}")))?;
    let client = Client::builder(TokioExecutor::new()).build_http();
    let response = client.request(request).await.map_err(|e| {
        TaskError::new(
            "Lambda.ServiceException",
            format!("--lambda-endpoint: cannot invoke {url}: {e}"),
        )
    })?;
    let status = response.status();
    let function_error = response.headers().contains_key("x-amz-function-error");
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| {
            TaskError::new(
                "Lambda.ServiceException",
                format!("--lambda-endpoint: the response of {url} was cut: {e}"),
            )
        })?
        .to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    if !status.is_success() {
        return Err(TaskError::new(
            "Lambda.ServiceException",
            format!("--lambda-endpoint: {url} answered HTTP {status}: {text}"),
        ));
    }
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
    if function_error {
        let error = value
            .get("errorType")
            .and_then(Value::as_str)
            .unwrap_or("Lambda.Unknown")
            .to_string();
        return Err(TaskError::new(error, text));
    }
    Ok(match shape {
        Shape::Function => value,
        Shape::Integration => json!({
            "ExecutedVersion": "$LATEST",
            "Payload": value,
            "StatusCode": 200,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::function_name;

    #[test]
    fn names_come_from_arns() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:price"),
            "price"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:price:live"),
            "price"
        );
        assert_eq!(function_name("price"), "price");
    }
}
