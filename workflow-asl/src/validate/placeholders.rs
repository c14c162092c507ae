//! `${NAME}` placeholders judged as the values CloudFormation would put there
//! ([`super::Placeholders::Accept`]).
//!
//! AWS never sees a placeholder: CloudFormation substitutes `DefinitionSubstitutions` first (see
//! [`crate::substitute`]). So a definition that is only ever deployed with its substitutions is
//! judged as if each placeholder held a valid value — in a Task `Resource`, a valid ARN part for
//! its position — and every placeholder left is reported as a warning, so nothing is hidden.

use serde_json::Value;

use super::Cx;
use crate::diag::{Code, Diagnostic};
use crate::substitute;

/// The resource to judge in place of `resource`, which holds placeholders: `None` when the whole
/// resource is one placeholder (any ARN could be substituted), else `resource` with each
/// placeholder replaced by a valid value for the ARN part it is in (`AWS::Partition` → `aws`,
/// `AWS::Region` → `us-east-1`, `AWS::AccountId` → `123456789012`, `AWS::URLSuffix` →
/// `amazonaws.com`; another name by its position: partition, service, region, account or
/// resource part).
pub(crate) fn stand_in_resource(resource: &str) -> Option<String> {
    let found = substitute::find(resource);
    if let [only] = found.as_slice() {
        if only.start == 0 && only.end == resource.len() {
            return None;
        }
    }
    let mut out = String::with_capacity(resource.len() + 16);
    let mut last = 0;
    for p in found {
        out.push_str(&resource[last..p.start]);
        let part = out.matches(':').count();
        out.push_str(match p.name {
            "AWS::Partition" => "aws",
            "AWS::Region" => "us-east-1",
            "AWS::AccountId" => "123456789012",
            "AWS::URLSuffix" => "amazonaws.com",
            _ => match part {
                0 => "arn",
                1 => "aws",
                2 => "states",
                3 => "us-east-1",
                4 => "123456789012",
                _ => "placeholder",
            },
        });
        last = p.end;
    }
    out.push_str(&resource[last..]);
    Some(out)
}

/// One warning for each placeholder left in the definition, at the string that holds it.
pub(super) fn warn_remaining(cx: &mut Cx<'_>, source: &Value) {
    for (pointer, text) in substitute::occurrences(source) {
        for p in substitute::find(&text) {
            cx.out.push(Diagnostic::warning(
                Code::Placeholder,
                pointer.clone(),
                format!(
                    "`${{{}}}` is a placeholder, judged as the value it stands for; AWS only receives the definition after CloudFormation substitutes it (DefinitionSubstitutions). Give it a value to run or deploy this definition (`--substitute {}=VALUE`)",
                    p.name, p.name
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::stand_in_resource;
    use crate::validate::resource::check_arn;

    #[test]
    fn stand_ins_are_valid_arn_parts() {
        assert_eq!(stand_in_resource("${LambdaArn}"), None);
        for (resource, want) in [
            (
                "arn:${AWS::Partition}:states:::sqs:sendMessage",
                "arn:aws:states:::sqs:sendMessage",
            ),
            (
                "arn:aws:lambda:${AWS::Region}:${AWS::AccountId}:function:${FunctionName}",
                "arn:aws:lambda:us-east-1:123456789012:function:placeholder",
            ),
            (
                "arn:aws:lambda:${Region}:${Account}:function:${Name}:${Alias}",
                "arn:aws:lambda:us-east-1:123456789012:function:placeholder:placeholder",
            ),
            ("${Fn}.waitForTaskToken", "arn.waitForTaskToken"),
        ] {
            let got = stand_in_resource(resource).expect("a stand-in");
            assert_eq!(got, want, "{resource}");
        }
        assert!(check_arn(
            &stand_in_resource(
                "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${F}"
            )
            .unwrap()
        )
        .is_ok());
        // A placeholder does not hide what is wrong around it.
        assert!(
            check_arn(&stand_in_resource("arn:aws:lambda:${R}:ACCOUNT:function:f").unwrap())
                .is_err()
        );
    }
}
