//! `workflow export --format cfn|sam`: the template's shape for the order example and for a
//! definition with every kind of task, its bad input, and `cfn-lint` on every template (when
//! `cfn-lint` is installed; under `CI=true` it must be).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_workflow");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_path_buf()
}

fn export(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("export")
        .args(args)
        .output()
        .expect("run the workflow binary")
}

fn template(args: &[&str]) -> Value {
    let o = export(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("the template is JSON")
}

/// Runs cfn-lint once on named templates (one Python process: its start is most of a run);
/// skipped (with a note) when cfn-lint is not installed, except under CI=true where it must be.
fn lint(templates: &[(&str, &Value)]) {
    let dir = std::env::temp_dir().join(format!("workflow-export-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temp dir");
    let paths: Vec<_> = templates
        .iter()
        .map(|(name, template)| {
            let path = dir.join(format!("{name}.json"));
            fs::write(&path, serde_json::to_string_pretty(template).expect("JSON"))
                .expect("written");
            path
        })
        .collect();
    let names: Vec<&str> = templates.iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    match Command::new("cfn-lint").args(&paths).output() {
        Ok(o) => {
            // cfn-lint exits 0 when clean, 4 for warnings only, 2 (and others) for errors.
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(
                matches!(o.status.code(), Some(0 | 4 | 8 | 12)),
                "cfn-lint reports errors on {names}:\n{text}{}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(!text.contains("\nE"), "cfn-lint errors on {names}:\n{text}");
        }
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "cfn-lint is required under CI=true (.ci/run installs it): {e}"
            );
            println!("skipped cfn-lint on {names}: cfn-lint is not installed ({e})");
        }
    }
    for path in paths {
        let _ = fs::remove_file(&path);
    }
}

#[test]
fn the_order_example_exports_to_cfn_and_sam() {
    let def = root().join("examples/sequence.asl.json");
    let def = def.to_str().expect("UTF-8 path");
    let cfn = template(&[def, "--format", "cfn", "--name", "Orders"]);
    let machine = &cfn["Resources"]["StateMachine"];
    assert_eq!(machine["Type"], "AWS::StepFunctions::StateMachine");
    assert_eq!(machine["Properties"]["StateMachineName"], "Orders");
    // The definition is inline and unchanged.
    let original: Value =
        serde_json::from_str(&fs::read_to_string(def).expect("readable")).expect("JSON");
    assert_eq!(machine["Properties"]["Definition"], original);
    assert_eq!(
        machine["Properties"]["DefinitionSubstitutions"],
        json!({
            "ValidateFn": {"Fn::GetAtt": ["ValidateFn", "Arn"]},
            "PriceFn": {"Fn::GetAtt": ["PriceFn", "Arn"]},
            "ReceiptFn": {"Fn::GetAtt": ["ReceiptFn", "Arn"]},
        })
    );
    let f = &cfn["Resources"]["ValidateFn"];
    assert_eq!(f["Type"], "AWS::Lambda::Function");
    assert_eq!(f["Properties"]["Runtime"], "provided.al2023");
    assert_eq!(f["Properties"]["Handler"], "bootstrap");
    assert_eq!(
        f["Properties"]["Environment"]["Variables"]["WORKFLOW_HANDLER"],
        "validate"
    );
    assert_eq!(
        cfn["Resources"]["ReceiptFn"]["Properties"]["Environment"]["Variables"]["WORKFLOW_HANDLER"],
        "receipt"
    );
    // The role grants exactly lambda:InvokeFunction on the three functions.
    let statements = &cfn["Resources"]["StateMachineRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"];
    assert_eq!(statements.as_array().map(Vec::len), Some(1), "{statements}");
    assert_eq!(statements[0]["Action"], json!(["lambda:InvokeFunction"]));
    assert_eq!(
        statements[0]["Resource"][0],
        json!({"Fn::GetAtt": ["ValidateFn", "Arn"]})
    );
    assert_eq!(
        machine["Properties"]["RoleArn"],
        json!({"Fn::GetAtt": ["StateMachineRole", "Arn"]})
    );

    let sam = template(&[
        def,
        "--format",
        "sam",
        "--name",
        "Orders",
        "--code-uri",
        "target/lambda/lambda_orders/",
    ]);
    assert_eq!(sam["Transform"], "AWS::Serverless-2016-10-31");
    let machine = &sam["Resources"]["StateMachine"];
    assert_eq!(machine["Type"], "AWS::Serverless::StateMachine");
    assert_eq!(machine["Properties"]["Name"], "Orders");
    assert_eq!(
        machine["Properties"]["Role"],
        json!({"Fn::GetAtt": ["StateMachineRole", "Arn"]})
    );
    let f = &sam["Resources"]["PriceFn"];
    assert_eq!(f["Type"], "AWS::Serverless::Function");
    assert_eq!(f["Properties"]["CodeUri"], "target/lambda/lambda_orders/");
    assert_eq!(
        f["Properties"]["Environment"]["Variables"]["WORKFLOW_HANDLER"],
        "price"
    );
    lint(&[("orders-cfn", &cfn), ("orders-sam", &sam)]);
}

const EVERYTHING: &str = r#"{
  "Comment": "Every kind of task",
  "StartAt": "Invoke",
  "States": {
    "Invoke": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke",
      "Parameters": {"FunctionName": "${ChargeCardFn}", "Payload.$": "$"},
      "Next": "Approve"
    },
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {"QueueUrl": "${ApprovalQueueUrl}", "MessageBody": {"token.$": "$$.Task.Token"}},
      "HeartbeatSeconds": 600,
      "Next": "Both"
    },
    "Both": {
      "Type": "Parallel",
      "Branches": [
        {"StartAt": "Ship", "States": {"Ship": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:ship", "End": true}}},
        {"StartAt": "Child", "States": {"Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2", "Parameters": {"StateMachineArn": "${ChildArn}"}, "End": true}}}
      ],
      "Next": "Each"
    },
    "Each": {
      "Type": "Map",
      "ItemsPath": "$.items",
      "ItemProcessor": {
        "StartAt": "Put",
        "States": {"Put": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem", "Parameters": {"TableName": "${Table}", "Item": {}}, "End": true}}
      },
      "Next": "Notify"
    },
    "Notify": {
      "Type": "Task",
      "Resource": "arn:aws:lambda:us-east-1:123456789012:function:notify",
      "Next": "Pack"
    },
    "Pack": {"Type": "Task", "Resource": "${PackActivity}", "End": true}
  }
}"#;

#[test]
fn every_kind_of_task_gets_its_resource_and_permission() {
    let dir = std::env::temp_dir().join(format!("workflow-export-all-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temp dir");
    let def = dir.join("everything.asl.json");
    fs::write(&def, EVERYTHING).expect("written");
    let def = def.to_str().expect("UTF-8");
    let mut templates = Vec::new();
    for format in ["cfn", "sam"] {
        let t = template(&[def, "--format", format, "--substitute", "Table=orders"]);
        let props = &t["Resources"]["StateMachine"]["Properties"];
        assert_eq!(
            props["DefinitionSubstitutions"],
            json!({
                "ChargeCardFn": {"Fn::GetAtt": ["ChargeCardFn", "Arn"]},
                "PackActivity": {"Ref": "PackActivity"},
                "ApprovalQueueUrl": {"Ref": "ApprovalQueueUrl"},
                "ChildArn": {"Ref": "ChildArn"},
                "Table": "orders",
            }),
            "{format}"
        );
        assert_eq!(
            t["Resources"]["ChargeCardFn"]["Properties"]["Environment"]["Variables"]
                ["WORKFLOW_HANDLER"],
            "charge_card"
        );
        assert_eq!(
            t["Resources"]["shipActivity"]["Type"],
            "AWS::StepFunctions::Activity"
        );
        assert_eq!(t["Resources"]["shipActivity"]["Properties"]["Name"], "ship");
        assert_eq!(
            t["Resources"]["PackActivity"]["Properties"]["Name"],
            "PackActivity"
        );
        assert_eq!(t["Parameters"]["ApprovalQueueUrl"]["Type"], "String");
        assert!(t["Parameters"].get("Table").is_none(), "substituted");
        let statements = &t["Resources"]["StateMachineRole"]["Properties"]["Policies"][0]
            ["PolicyDocument"]["Statement"];
        assert_eq!(
            statements[0]["Resource"],
            json!([
                "arn:aws:lambda:us-east-1:123456789012:function:notify",
                {"Fn::GetAtt": ["ChargeCardFn", "Arn"]},
                {"Fn::Sub": "${ChargeCardFn.Arn}:*"},
            ])
        );
        assert_eq!(
            statements[1]["Action"],
            json!([
                "dynamodb:PutItem",
                "events:DescribeRule",
                "events:PutRule",
                "events:PutTargets",
                "sqs:SendMessage",
                "states:DescribeExecution",
                "states:StartExecution",
                "states:StopExecution",
            ])
        );
        templates.push((format!("everything-{format}"), t));
    }
    let named: Vec<(&str, &Value)> = templates.iter().map(|(n, t)| (n.as_str(), t)).collect();
    lint(&named);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_is_a_clear_error() {
    let def = root().join("examples/sequence.asl.json");
    let def = def.to_str().expect("UTF-8 path");
    let o = export(&[def, "--format", "cfn", "--substitute", "ValidateFnn=x"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("--substitute names `ValidateFnn`, which the definition does not use; its placeholders are: ValidateFn, PriceFn, ReceiptFn"),
        "{err}"
    );
    let o = export(&[def, "--format", "cfn", "--substitute", "ValidateFn"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not NAME=VALUE"));

    let dir = std::env::temp_dir().join(format!("workflow-export-bad-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temp dir");
    let bad = dir.join("bad.asl.json");
    fs::write(&bad, r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "${AFn}", "Next": "Nope"}}}"#)
        .expect("written");
    let o = export(&[bad.to_str().expect("UTF-8"), "--format", "sam"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("MISSING_TRANSITION_TARGET at /States/A/Next"),
        "{err}"
    );
    assert!(err.contains("not exported"), "{err}");
    assert!(o.stdout.is_empty());
    fs::write(&bad, "{not json").expect("written");
    let o = export(&[bad.to_str().expect("UTF-8"), "--format", "sam"]);
    assert_eq!(o.status.code(), Some(2));
    let _ = fs::remove_dir_all(&dir);
}
