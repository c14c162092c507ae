//! `workflow export FILE --format cfn|sam [--name NAME] [--substitute NAME=VALUE]...`: a
//! CloudFormation (or SAM) template that deploys the definition.
//!
//! The template holds the state machine with its definition inline (`Definition`, unchanged) and
//! a `DefinitionSubstitutions` entry for every `${Placeholder}` in it:
//!
//! - a placeholder that is the whole `Resource` of a Task, or the whole `FunctionName` of
//!   `arn:aws:states:::lambda:invoke[.waitForTaskToken]`, stands for a **Lambda function**: the
//!   template gets a function for it (`provided.al2023`, handler `bootstrap`, the binary that
//!   `cargo lambda build` makes from a `workflow_aws::lambda::serve` main) whose environment sets
//!   `WORKFLOW_HANDLER` to the handler's name, and the substitution is the function's ARN
//!   (`Fn::GetAtt F.Arn`). The handler's name is the placeholder's, less a suffix `Fn`,
//!   `Function`, `FunctionArn` or `Arn`, in snake case: `${ValidateFn}` runs `validate`,
//!   `${ProcessOrder}` runs `process_order`. A whole-`Resource` placeholder whose name ends in
//!   `Activity` (or `ActivityArn`) stands for an **Activity** instead;
//! - every other placeholder becomes a template `Parameter` of the same name;
//! - `--substitute NAME=VALUE` gives a placeholder its value in the template instead (no function
//!   or parameter is made for it).
//!
//! Every Activity the definition names (`arn:aws:states:…:activity:NAME`, or a placeholder as
//! above) gets an `AWS::StepFunctions::Activity`. The state machine's role (`AWS::IAM::Role`,
//! assumed by `states.amazonaws.com`) grants each task's IAM action only: `lambda:InvokeFunction`
//! on the functions it calls, `service:Action` for the service integrations (on `*`: their
//! resources are arguments), with the extra actions that `.sync` integrations need
//! (<https://docs.aws.amazon.com/step-functions/latest/dg/service-integration-iam-templates.html>).
//!
//! CFN templates read the functions' code from S3 (parameters `CodeS3Bucket`, `CodeS3Key`: the
//! zip of `cargo lambda build --output-format zip`); SAM templates from `--code-uri` (default
//! `target/lambda/bootstrap/`), which `sam deploy` uploads.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use clap::ValueEnum;
use indexmap::IndexMap;
use serde_json::{json, Map, Value};
use workflow_asl::check_value_with;
use workflow_asl::validate::Options;

use super::{read_text, INVALID, OK, UNREADABLE};

/// Arguments of `workflow export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The kind of template.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// The state machine's name (`StateMachineName` in CFN, `Name` in SAM).
    #[arg(long)]
    pub name: Option<String>,
    /// Give the placeholder `${NAME}` this value in the template (repeatable).
    #[arg(long = "substitute", value_name = "NAME=VALUE")]
    pub substitute: Vec<String>,
    /// SAM only: the directory holding the functions' `bootstrap` (what `cargo lambda build`
    /// wrote).
    #[arg(long, value_name = "PATH", default_value = "target/lambda/bootstrap/")]
    pub code_uri: String,
}

/// The templates `export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// An AWS CloudFormation template.
    Cfn,
    /// An AWS SAM template (`Transform: AWS::Serverless-2016-10-31`).
    Sam,
}

/// Parses `NAME=VALUE` arguments into a map; the error names the argument and what is wrong.
///
/// Kept in one function so that the flag can share its parsing with the other commands'
/// `--substitute`.
pub fn parse_substitutions(args: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for arg in args {
        let Some((name, value)) = arg.split_once('=') else {
            return Err(format!(
                "--substitute `{arg}` is not NAME=VALUE (for example ValidateFn=arn:aws:lambda:us-east-1:123456789012:function:validate)"
            ));
        };
        let name = name.trim();
        if name.is_empty() || !name.chars().all(is_placeholder_char) {
            return Err(format!(
                "--substitute `{arg}`: `{name}` is not a placeholder name (letters, digits and `_`)"
            ));
        }
        if out.insert(name.to_string(), value.to_string()).is_some() {
            return Err(format!("--substitute names `{name}` twice"));
        }
    }
    Ok(out)
}

fn is_placeholder_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The `${Name}` placeholders in a string, in order.
fn placeholders_in(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(at) = rest.find("${") {
        let after = &rest[at + 2..];
        match after.find('}') {
            Some(end) if end > 0 && after[..end].chars().all(is_placeholder_char) => {
                out.push(&after[..end]);
                rest = &after[end + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

/// The whole-string placeholder `${Name}`, if `s` is exactly one.
fn whole_placeholder(s: &str) -> Option<&str> {
    let inner = s.strip_prefix("${")?.strip_suffix('}')?;
    (!inner.is_empty() && inner.chars().all(is_placeholder_char)).then_some(inner)
}

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Lambda,
    Activity,
    Other,
}

/// What the tasks of a definition need.
#[derive(Debug, Default)]
struct Needs {
    /// Every placeholder, in order of appearance, with its role.
    placeholders: IndexMap<String, Role>,
    /// Literal Lambda ARNs (or names) called.
    lambdas: BTreeSet<String>,
    /// Functions called through a path (`FunctionName.$`): any function of the account.
    any_lambda: bool,
    /// Activity names (from literal ARNs).
    activities: BTreeSet<String>,
    /// IAM actions on `*` (service integrations).
    actions: BTreeSet<String>,
}

impl Needs {
    fn mark(&mut self, name: &str, role: Role) {
        let entry = self.placeholders.entry(name.to_string()).or_insert(role);
        if *entry == Role::Other {
            *entry = role;
        }
    }

    /// Records every placeholder of `value` (as `Other` unless known).
    fn scan(&mut self, value: &Value) {
        match value {
            Value::String(s) => {
                for p in placeholders_in(s) {
                    self.mark(p, Role::Other);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| self.scan(v)),
            Value::Object(map) => map.values().for_each(|v| self.scan(v)),
            _ => {}
        }
    }

    /// Visits the states of a scope (`{"States": {...}}`), recursing into branches and Map
    /// processors.
    fn visit_scope(&mut self, scope: &Value) {
        let Some(states) = scope.get("States").and_then(Value::as_object) else {
            return;
        };
        for state in states.values() {
            match state.get("Type").and_then(Value::as_str) {
                Some("Task") => self.visit_task(state),
                Some("Parallel") => {
                    for branch in state
                        .get("Branches")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        self.visit_scope(branch);
                    }
                }
                Some("Map") => {
                    for key in ["ItemProcessor", "Iterator"] {
                        if let Some(p) = state.get(key) {
                            self.visit_scope(p);
                        }
                    }
                    if state.get("ItemReader").is_some() || state.get("ResultWriter").is_some() {
                        self.actions.extend(
                            ["s3:GetObject", "s3:ListBucket", "s3:PutObject"].map(String::from),
                        );
                    }
                    let distributed = state
                        .pointer("/ItemProcessor/ProcessorConfig/Mode")
                        .and_then(Value::as_str)
                        == Some("DISTRIBUTED");
                    if distributed {
                        self.actions.extend(
                            [
                                "states:StartExecution",
                                "states:DescribeExecution",
                                "states:StopExecution",
                            ]
                            .map(String::from),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    fn visit_task(&mut self, task: &Value) {
        let Some(resource) = task.get("Resource").and_then(Value::as_str) else {
            return;
        };
        if let Some(name) = whole_placeholder(resource) {
            let role = if name.ends_with("Activity") || name.ends_with("ActivityArn") {
                Role::Activity
            } else {
                Role::Lambda
            };
            self.mark(name, role);
            return;
        }
        let parts: Vec<&str> = resource.splitn(7, ':').collect();
        // arn:PARTITION:SERVICE:REGION:ACCOUNT:TYPE:NAME...
        match parts.as_slice() {
            ["arn", _, "lambda", _, _, "function", _, ..] => {
                self.lambdas.insert(resource.to_string());
            }
            ["arn", _, "states", _, _, "activity", name] => {
                self.activities.insert((*name).to_string());
            }
            ["arn", _, "states", "", "", service, rest @ ..] => {
                let api = rest.join(":");
                self.integration(service, &api, task);
            }
            _ => {}
        }
    }

    /// A service integration `arn:aws:states:::SERVICE:API[.sync|.waitForTaskToken]`.
    fn integration(&mut self, service: &str, api: &str, task: &Value) {
        let (api, suffix) = match api.rsplit_once('.') {
            Some((a, s @ ("sync" | "sync:2" | "waitForTaskToken"))) => (a, Some(s)),
            _ => (api, None),
        };
        if service == "lambda" && api == "invoke" {
            let args = task.get("Parameters").or_else(|| task.get("Arguments"));
            let name = args
                .and_then(|a| a.get("FunctionName"))
                .and_then(Value::as_str);
            match name {
                Some(n) if whole_placeholder(n).is_some() => {
                    if let Some(p) = whole_placeholder(n) {
                        self.mark(p, Role::Lambda);
                    }
                }
                Some(n) if !n.starts_with("{%") => {
                    self.lambdas.insert(n.to_string());
                }
                _ => self.any_lambda = true,
            }
            return;
        }
        if service == "http" {
            self.actions.extend(
                [
                    "states:InvokeHTTPEndpoint",
                    "events:RetrieveConnectionCredentials",
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                ]
                .map(String::from),
            );
            return;
        }
        // `aws-sdk:SERVICE:Action` names the SDK's service; others are `SERVICE:action`.
        let (iam_service, action) = match service {
            "aws-sdk" => match api.split_once(':') {
                Some((svc, action)) => (sdk_iam_prefix(svc), action),
                None => return,
            },
            other => (other, api),
        };
        let mut chars = action.chars();
        let Some(first) = chars.next() else {
            return;
        };
        let action = format!("{}{}", first.to_ascii_uppercase(), chars.as_str());
        self.actions.insert(format!("{iam_service}:{action}"));
        if matches!(suffix, Some("sync" | "sync:2")) {
            // The managed rule through which Step Functions learns that a job ended.
            self.actions.extend(
                ["events:PutTargets", "events:PutRule", "events:DescribeRule"].map(String::from),
            );
            let extra: &[&str] = match (iam_service, action.as_str()) {
                ("states", "StartExecution") => {
                    &["states:DescribeExecution", "states:StopExecution"]
                }
                ("ecs", "RunTask") => &["ecs:StopTask", "ecs:DescribeTasks"],
                ("batch", "SubmitJob") => &["batch:DescribeJobs", "batch:TerminateJob"],
                ("glue", "StartJobRun") => {
                    &["glue:GetJobRun", "glue:GetJobRuns", "glue:BatchStopJobRun"]
                }
                ("codebuild", "StartBuild") => &["codebuild:StopBuild", "codebuild:BatchGetBuilds"],
                ("athena", "StartQueryExecution") => {
                    &["athena:GetQueryExecution", "athena:StopQueryExecution"]
                }
                _ => &[],
            };
            self.actions.extend(extra.iter().map(|s| s.to_string()));
        }
    }
}

/// The IAM prefix of an AWS SDK service name where the two differ.
fn sdk_iam_prefix(service: &str) -> &str {
    match service {
        "sfn" => "states",
        "cloudwatchlogs" => "logs",
        "cloudwatch" => "cloudwatch",
        "eventbridge" => "events",
        "apigatewayv2" | "apigateway" => "apigateway",
        "elasticloadbalancingv2" => "elasticloadbalancing",
        other => other,
    }
}

/// `ValidateFn` -> `validate`, `ProcessOrder` -> `process_order`.
pub fn handler_name(placeholder: &str) -> String {
    let mut base = placeholder;
    for suffix in ["FunctionArn", "FunctionName", "Function", "Fn", "Arn"] {
        if let Some(b) = base.strip_suffix(suffix).filter(|b| !b.is_empty()) {
            base = b;
            break;
        }
    }
    let mut out = String::new();
    let mut prev_lower = false;
    for c in base.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        }
    }
    out
}

/// A CloudFormation logical ID (alphanumeric) for a name, unique among `taken`.
fn logical_id(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut id: String = name.chars().filter(char::is_ascii_alphanumeric).collect();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        id.insert(0, 'R');
    }
    let mut candidate = id.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{id}{n}");
        n += 1;
    }
    candidate
}

/// Replaces the placeholders of every string by `value(name)` (where it gives one).
fn substitute(value: &Value, with: &dyn Fn(&str) -> Option<String>) -> Value {
    match value {
        Value::String(s) => {
            let mut out = s.clone();
            for p in placeholders_in(s) {
                if let Some(v) = with(p) {
                    out = out.replace(&format!("${{{p}}}"), &v);
                }
            }
            Value::String(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, with)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute(v, with)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Builds the template for a definition.
///
/// Errors: a `--substitute` name that the definition does not use.
pub fn template(
    definition: &Value,
    format: ExportFormat,
    name: Option<&str>,
    substitutions: &BTreeMap<String, String>,
    code_uri: &str,
) -> Result<Value, String> {
    let mut needs = Needs::default();
    needs.visit_scope(definition);
    needs.scan(definition);
    for given in substitutions.keys() {
        if !needs.placeholders.contains_key(given) {
            let known: Vec<&str> = needs.placeholders.keys().map(String::as_str).collect();
            return Err(format!(
                "--substitute names `{given}`, which the definition does not use; its placeholders are: {}",
                if known.is_empty() { "(none)".to_string() } else { known.join(", ") }
            ));
        }
    }
    let sam = format == ExportFormat::Sam;
    let mut taken: BTreeSet<String> = [
        "StateMachine",
        "StateMachineRole",
        "FunctionRole",
        "CodeS3Bucket",
        "CodeS3Key",
    ]
    .map(String::from)
    .into();
    let mut parameters = Map::new();
    let mut resources = Map::new();
    let mut subs = Map::new();
    let mut invoke: Vec<Value> = needs
        .lambdas
        .iter()
        .map(|l| {
            if l.starts_with("arn:") {
                json!(l)
            } else {
                json!({"Fn::Sub": format!("arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{l}")})
            }
        })
        .collect();
    if needs.any_lambda {
        invoke.push(json!({"Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*"}));
    }
    let mut functions = 0;
    for (placeholder, role) in &needs.placeholders {
        if let Some(v) = substitutions.get(placeholder) {
            subs.insert(placeholder.clone(), json!(v));
            if *role == Role::Lambda {
                invoke.push(json!(v));
            }
            continue;
        }
        let id = logical_id(placeholder, &mut taken);
        match role {
            Role::Lambda => {
                functions += 1;
                let env = json!({"Variables": {"WORKFLOW_HANDLER": handler_name(placeholder)}});
                let function = if sam {
                    json!({
                        "Type": "AWS::Serverless::Function",
                        "Properties": {
                            "CodeUri": code_uri,
                            "Handler": "bootstrap",
                            "Runtime": "provided.al2023",
                            "Architectures": ["x86_64"],
                            "Environment": env,
                        },
                    })
                } else {
                    json!({
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Code": {"S3Bucket": {"Ref": "CodeS3Bucket"}, "S3Key": {"Ref": "CodeS3Key"}},
                            "Handler": "bootstrap",
                            "Runtime": "provided.al2023",
                            "Architectures": ["x86_64"],
                            "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]},
                            "Environment": env,
                        },
                    })
                };
                resources.insert(id.clone(), function);
                subs.insert(placeholder.clone(), json!({"Fn::GetAtt": [id, "Arn"]}));
                invoke.push(json!({"Fn::GetAtt": [id, "Arn"]}));
                invoke.push(json!({"Fn::Sub": format!("${{{id}.Arn}}:*")}));
            }
            Role::Activity => {
                let activity_name = placeholder
                    .strip_suffix("Arn")
                    .unwrap_or(placeholder)
                    .to_string();
                resources.insert(
                    id.clone(),
                    json!({"Type": "AWS::StepFunctions::Activity", "Properties": {"Name": activity_name}}),
                );
                subs.insert(placeholder.clone(), json!({"Ref": id}));
            }
            Role::Other => {
                parameters.insert(
                    id.clone(),
                    json!({"Type": "String", "Description": format!("The value of the placeholder {placeholder} in the definition.")}),
                );
                subs.insert(placeholder.clone(), json!({"Ref": id}));
            }
        }
    }
    for activity in &needs.activities {
        let id = logical_id(&format!("{activity}Activity"), &mut taken);
        resources.insert(
            id,
            json!({"Type": "AWS::StepFunctions::Activity", "Properties": {"Name": activity}}),
        );
    }
    if functions > 0 && !sam {
        parameters.insert(
            "CodeS3Bucket".into(),
            json!({"Type": "String", "Description": "The S3 bucket holding the functions' zip (cargo lambda build --output-format zip)."}),
        );
        parameters.insert(
            "CodeS3Key".into(),
            json!({"Type": "String", "Description": "The S3 key of the functions' zip."}),
        );
        resources.insert(
            "FunctionRole".into(),
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": assume("lambda.amazonaws.com"),
                    "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}],
                },
            }),
        );
    }
    let mut statements = Vec::new();
    if !invoke.is_empty() {
        statements.push(
            json!({"Effect": "Allow", "Action": ["lambda:InvokeFunction"], "Resource": invoke}),
        );
    }
    if !needs.actions.is_empty() {
        statements.push(json!({"Effect": "Allow", "Action": needs.actions, "Resource": "*"}));
    }
    let mut role = json!({
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": assume("states.amazonaws.com")},
    });
    if !statements.is_empty() {
        role["Properties"]["Policies"] = json!([{
            "PolicyName": "StateMachineTasks",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        }]);
    }
    resources.insert("StateMachineRole".into(), role);
    let mut machine = Map::new();
    machine.insert("Definition".into(), definition.clone());
    if !subs.is_empty() {
        machine.insert("DefinitionSubstitutions".into(), Value::Object(subs));
    }
    let role_ref = json!({"Fn::GetAtt": ["StateMachineRole", "Arn"]});
    if sam {
        machine.insert("Role".into(), role_ref);
        if let Some(n) = name {
            machine.insert("Name".into(), json!(n));
        }
    } else {
        machine.insert("RoleArn".into(), role_ref);
        if let Some(n) = name {
            machine.insert("StateMachineName".into(), json!(n));
        }
    }
    let machine_type = if sam {
        "AWS::Serverless::StateMachine"
    } else {
        "AWS::StepFunctions::StateMachine"
    };
    resources.insert(
        "StateMachine".into(),
        json!({"Type": machine_type, "Properties": Value::Object(machine)}),
    );
    let mut out = Map::new();
    out.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    if sam {
        out.insert("Transform".into(), json!("AWS::Serverless-2016-10-31"));
    }
    let description = definition
        .get("Comment")
        .and_then(Value::as_str)
        .unwrap_or("A state machine exported by workflow.");
    out.insert(
        "Description".into(),
        json!(description.chars().take(1024).collect::<String>()),
    );
    if !parameters.is_empty() {
        out.insert("Parameters".into(), Value::Object(parameters));
    }
    out.insert("Resources".into(), Value::Object(resources));
    let arn = if sam {
        json!({"Ref": "StateMachine"})
    } else {
        json!({"Fn::GetAtt": ["StateMachine", "Arn"]})
    };
    out.insert(
        "Outputs".into(),
        json!({"StateMachineArn": {"Description": "The state machine's ARN.", "Value": arn}}),
    );
    Ok(Value::Object(out))
}

fn assume(service: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })
}

/// Runs `workflow export`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let name = args.file.display().to_string();
    let substitutions = match parse_substitutions(&args.substitute) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            return UNREADABLE;
        }
    };
    let text = match read_text(&args.file) {
        Ok(t) => t,
        Err(why) => {
            let _ = writeln!(err, "{name}: {why}");
            return UNREADABLE;
        }
    };
    let definition: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            let _ = writeln!(err, "{name}: INVALID_JSON_DESCRIPTION: {e}");
            return UNREADABLE;
        }
    };
    // Judge the definition as AWS will see it: placeholders replaced by what the template
    // substitutes (a sample ARN of the right kind for functions and activities).
    let mut needs = Needs::default();
    needs.visit_scope(&definition);
    let sample = |p: &str| -> Option<String> {
        if let Some(v) = substitutions.get(p) {
            return Some(v.clone());
        }
        match needs.placeholders.get(p) {
            Some(Role::Lambda) => Some(format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{p}"
            )),
            Some(Role::Activity) => Some(format!(
                "arn:aws:states:us-east-1:123456789012:activity:{p}"
            )),
            _ => None,
        }
    };
    let report = check_value_with(&substitute(&definition, &sample), &Options::default());
    if !report.diagnostics.is_empty() {
        for d in &report.diagnostics {
            let _ = writeln!(err, "{name}: {d}");
        }
        let _ = writeln!(
            err,
            "{name}: not exported: fix the definition first (see `workflow validate`)"
        );
        return INVALID;
    }
    match template(
        &definition,
        args.format,
        args.name.as_deref(),
        &substitutions,
        &args.code_uri,
    ) {
        Ok(t) => {
            let text = serde_json::to_string_pretty(&t).unwrap_or_default();
            let _ = writeln!(out, "{text}");
            OK
        }
        Err(e) => {
            let _ = writeln!(err, "{name}: {e}");
            INVALID
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handler_names_follow_the_placeholder() {
        assert_eq!(handler_name("ValidateFn"), "validate");
        assert_eq!(handler_name("ProcessOrder"), "process_order");
        assert_eq!(handler_name("ChargeCardFunctionArn"), "charge_card");
        assert_eq!(handler_name("receipt"), "receipt");
        assert_eq!(handler_name("Fn"), "fn");
    }

    #[test]
    fn placeholders_are_found_inside_strings() {
        assert_eq!(placeholders_in("${A}-${B_1}/${}${x"), ["A", "B_1"]);
        assert_eq!(whole_placeholder("${A}"), Some("A"));
        assert_eq!(whole_placeholder("x${A}"), None);
    }

    #[test]
    fn substitutions_are_name_value_pairs() {
        let s = parse_substitutions(&["A=x=y".into()]).expect("valid");
        assert_eq!(s.get("A").map(String::as_str), Some("x=y"));
        let e = parse_substitutions(&["novalue".into()]).expect_err("no =");
        assert!(e.contains("is not NAME=VALUE"), "{e}");
        let e = parse_substitutions(&["A=1".into(), "A=2".into()]).expect_err("twice");
        assert_eq!(e, "--substitute names `A` twice");
        let e = parse_substitutions(&["a b=1".into()]).expect_err("bad name");
        assert!(e.contains("is not a placeholder name"), "{e}");
    }

    #[test]
    fn logical_ids_are_alphanumeric_and_unique() {
        let mut taken = BTreeSet::new();
        assert_eq!(logical_id("Queue_Url", &mut taken), "QueueUrl");
        assert_eq!(logical_id("QueueUrl", &mut taken), "QueueUrl2");
        assert_eq!(logical_id("1x", &mut taken), "R1x");
    }
}
