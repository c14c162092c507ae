//! Task `Resource` ARNs.
//!
//! AWS rejects a definition whose Task `Resource` is not an ARN ("Value is not a valid resource
//! ARN"): placeholders such as `${LambdaArn}` or `foo:bar` must be substituted before deploying.
//! For Lambda function ARNs the function name and qualifier are checked too. An `EXPRESS` machine
//! cannot use the `.sync` or `.waitForTaskToken` integration patterns.

use super::{Cx, MachineType, Placeholders};
use crate::diag::Code;

/// Checks a Task (or ItemReader/ResultWriter) `Resource`.
pub(super) fn check_task_resource(cx: &mut Cx<'_>, resource: &str, ptr: &str) {
    let stand_in;
    let resource = if cx.options.placeholders == Placeholders::Accept
        && crate::substitute::has_placeholder(resource)
    {
        match super::placeholders::stand_in_resource(resource) {
            // The whole resource is one placeholder: any ARN may be substituted.
            None => return,
            Some(s) => {
                stand_in = s;
                stand_in.as_str()
            }
        }
    } else {
        resource
    };
    if let Err(why) = check_arn(resource) {
        cx.push(
            Code::InvalidResource,
            ptr,
            format!("\"{resource}\" is not a valid resource ARN: {why}"),
        );
        return;
    }
    if cx.options.machine_type == MachineType::Express {
        let pattern = if resource.ends_with(".sync") || resource.contains(".sync:") {
            Some(".sync")
        } else if resource.ends_with(".waitForTaskToken") {
            Some(".waitForTaskToken")
        } else {
            None
        };
        if let Some(p) = pattern {
            cx.schema(
                ptr,
                format!("an EXPRESS state machine does not support the '{p}' service integration pattern; use a STANDARD state machine or the request-response form of the integration"),
            );
        }
    }
}

/// Why `s` is not an ARN, if it is not one.
pub(crate) fn check_arn(s: &str) -> Result<(), String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.first() != Some(&"arn") || parts.len() < 6 {
        return Err(
            "an ARN has the form arn:<partition>:<service>:<region>:<account>:<resource>, such as \"arn:aws:states:::lambda:invoke\" or \"arn:aws:lambda:us-east-1:123456789012:function:my-function\""
                .to_owned(),
        );
    }
    let partition = parts[1];
    if partition.is_empty()
        || !partition
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "the partition \"{partition}\" must be a partition name such as \"aws\", \"aws-cn\" or \"aws-us-gov\""
        ));
    }
    let service = parts[2];
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "the service \"{service}\" must be a service name such as \"states\" or \"lambda\""
        ));
    }
    let region = parts[3];
    if !region
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err(format!(
            "the region \"{region}\" must be empty or a region name such as \"us-east-1\""
        ));
    }
    let account = parts[4];
    if !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "the account \"{account}\" must be empty or an account number"
        ));
    }
    let rest = &parts[5..];
    if rest.iter().all(|p| p.is_empty()) {
        return Err("the resource part after the account is empty".to_owned());
    }
    if service == "lambda" && rest.first() == Some(&"function") {
        return check_lambda_function(&rest[1..]);
    }
    Ok(())
}

/// `function:<name>[:<qualifier>]` of a Lambda ARN.
fn check_lambda_function(rest: &[&str]) -> Result<(), String> {
    let valid_name = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    match rest {
        [name] if valid_name(name) => Ok(()),
        [name, qualifier] if valid_name(name) => {
            let ok = *qualifier == "$LATEST"
                || (!qualifier.is_empty()
                    && qualifier.len() <= 128
                    && qualifier
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "the Lambda qualifier \"{qualifier}\" must be $LATEST, a version number or an alias of letters, digits, '-' and '_'"
                ))
            }
        }
        [name, ..] if !valid_name(name) => Err(format!(
            "the Lambda function name \"{name}\" must be 1 to 64 letters, digits, '-' or '_'"
        )),
        [] => Err("the Lambda function name is missing after \"function:\"".to_owned()),
        _ => Err(
            "a Lambda function ARN ends with function:<name> or function:<name>:<version or alias>"
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::check_arn;

    #[test]
    fn arns() {
        for ok in [
            "arn:aws:states:::lambda:invoke",
            "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "arn:aws:states:::aws-sdk:s3:listObjectsV2",
            "arn:aws:lambda:us-east-1:123456789012:function:HelloWorld",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:$LATEST",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:AZaz12-_",
            "arn:aws:lambda:::function:publish-to-slack-lambda",
            "arn:aws:states:us-west-2:42:activity:a-task",
            "arn:aws-us-gov:states:::sqs:sendMessage",
            "arn:aws:swf:us-east-1:123456789012:task:X",
        ] {
            assert_eq!(check_arn(ok), Ok(()), "{ok}");
        }
        for bad in [
            "foo:bar",
            "${lambdaArn}",
            "${lambdaArn",
            "arn:aws:lambda",
            "arn::states:::lambda:invoke",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:",
            "arn:aws:lambda:region-1:1234567890:function:FUNCTION_NAME:$*#$7485",
            "arn:aws:lambda:us-east-1:ACCOUNT:function:x",
            "arn:aws:states:::",
            "",
        ] {
            assert!(check_arn(bad).is_err(), "{bad}");
        }
    }
}
