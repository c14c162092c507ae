//! Distributed Map over an object store, end to end on the runtime: reader formats through the
//! engine, ItemBatcher, ResultWriter, tolerated failures, and bad input (missing object,
//! malformed lines, oversized items, no store) failing with AWS's error names at the Map state
//! while keeping the results already written.

use std::sync::Arc;

use serde_json::{json, Value};
use workflow_runtime::objects::MemoryObjects;
use workflow_runtime::{ExecutionOutcome, Runtime};

/// A machine with one distributed Map `M` over `extra` fields; items whose `fail` is true fail
/// their child with `Boom`.
fn machine(extra: Value) -> workflow_asl::StateMachine {
    let mut map = json!({
        "Type": "Map", "End": true, "MaxConcurrency": 1,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [
                    {"Variable": "$.fail", "IsPresent": true, "Next": "F"},
                    {"Variable": "$.Items[0].fail", "IsPresent": true, "Next": "F"}
                ], "Default": "P"},
                "F": {"Type": "Fail", "Error": "Boom", "Cause": "item failed"},
                "P": {"Type": "Pass", "End": true}
            }
        }
    });
    for (k, v) in extra.as_object().expect("an object") {
        map[k] = v.clone();
    }
    let def = json!({"StartAt": "M", "States": {"M": map}});
    workflow_asl::load(&def.to_string()).expect("a valid definition")
}

fn reader(input_type: &str, key: &str) -> Value {
    json!({"Resource": "arn:aws:states:::s3:getObject",
           "ReaderConfig": {"InputType": input_type},
           "Parameters": {"Bucket": "in", "Key": key}})
}

fn writer() -> Value {
    json!({"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "out", "Prefix": "res"}})
}

async fn run(store: &MemoryObjects, extra: Value) -> ExecutionOutcome {
    let rt = Runtime::builder().objects(Arc::new(store.clone())).build();
    rt.run_machine(&machine(extra), json!({}))
        .await
        .expect("starts")
}

fn manifest(store: &MemoryObjects) -> Value {
    let (_, key) = store
        .keys()
        .into_iter()
        .find(|(b, k)| b == "out" && k.ends_with("manifest.json"))
        .expect("a manifest");
    serde_json::from_slice(&store.object("out", &key).expect("manifest")).expect("JSON")
}

fn file(store: &MemoryObjects, key: &str) -> Value {
    serde_json::from_slice(&store.object("out", key).expect(key)).expect("JSON")
}

#[tokio::test]
async fn jsonl_items_with_item_selector_and_result_writer() {
    let store = MemoryObjects::new()
        .with_object("in", "items.jsonl", "{\"v\":1}\n{\"v\":2}\n\n{\"v\":3}\n")
        .with_bucket("out");
    let out = run(
        &store,
        json!({"ItemReader": reader("JSONL", "items.jsonl"),
               "ItemSelector": {"value.$": "$$.Map.Item.Value.v", "index.$": "$$.Map.Item.Index"},
               "ResultWriter": writer()}),
    )
    .await;
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    let output = out.output.expect("output");
    let key = output["ResultWriterDetails"]["Key"].as_str().expect("key");
    assert!(output["MapRunArn"]
        .as_str()
        .expect("arn")
        .contains(":mapRun:"));
    let m = manifest(&store);
    assert_eq!(
        m["ResultFiles"]["SUCCEEDED"][0]["Key"],
        key.replace("manifest.json", "SUCCEEDED_0.json")
    );
    let results = file(&store, &key.replace("manifest.json", "SUCCEEDED_0.json"));
    let mut outputs: Vec<Value> = results
        .as_array()
        .expect("array")
        .iter()
        .map(|r| serde_json::from_str(r["Output"].as_str().expect("text")).expect("JSON"))
        .collect();
    outputs.sort_by_key(|v| v["index"].as_u64());
    assert_eq!(
        outputs,
        [
            json!({"value": 1, "index": 0}),
            json!({"value": 2, "index": 1}),
            json!({"value": 3, "index": 2})
        ]
    );
}

#[tokio::test]
async fn item_batcher_limits_and_batch_input() {
    let items: Vec<Value> = (0..5).map(|i| json!({"i": i})).collect();
    let store =
        MemoryObjects::new().with_object("in", "a.json", serde_json::to_vec(&items).unwrap());
    let out = run(
        &store,
        json!({"ItemReader": reader("JSON", "a.json"),
               "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run": "r1"}}}),
    )
    .await;
    assert_eq!(
        out.output.expect("output"),
        json!([
            {"Items": [{"i": 0}, {"i": 1}], "BatchInput": {"run": "r1"}},
            {"Items": [{"i": 2}, {"i": 3}], "BatchInput": {"run": "r1"}},
            {"Items": [{"i": 4}], "BatchInput": {"run": "r1"}}
        ])
    );
    // {"Items":[{"i":0},{"i":1}]} is 27 bytes; a third item would take it to 35.
    let out = run(
        &store,
        json!({"ItemReader": reader("JSON", "a.json"), "ItemBatcher": {"MaxInputBytesPerBatch": 30}}),
    )
    .await;
    let batches = out.output.expect("output");
    assert_eq!(batches.as_array().map(Vec::len), Some(3));
    for b in batches.as_array().expect("array") {
        assert!(serde_json::to_string(b).expect("text").len() <= 30);
    }
}

#[tokio::test]
async fn writer_config_alone_formats_the_state_output() {
    let store = MemoryObjects::new().with_object("in", "a.json", "[[1, 2], [3]]");
    let out = run(
        &store,
        json!({"ItemReader": reader("JSON", "a.json"),
               "ResultWriter": {"WriterConfig": {"Transformation": "FLATTEN", "OutputType": "JSON"}}}),
    )
    .await;
    assert_eq!(out.output.expect("output"), json!([1, 2, 3]));
}

fn failing_items(n: usize, failing: &[usize]) -> Vec<u8> {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            if failing.contains(&i) {
                json!({"i": i, "fail": true})
            } else {
                json!({"i": i})
            }
        })
        .collect();
    serde_json::to_vec(&items).expect("JSON")
}

#[tokio::test]
async fn tolerated_failures_by_count_and_percentage() {
    let store = MemoryObjects::new()
        .with_object("in", "a.json", failing_items(10, &[2, 5]))
        .with_bucket("out");
    // Two failures out of ten: within a count of 2 and 20%.
    for tol in [
        json!({"ToleratedFailureCount": 2}),
        json!({"ToleratedFailurePercentage": 20}),
    ] {
        let mut extra = json!({"ItemReader": reader("JSON", "a.json"), "ResultWriter": writer()});
        for (k, v) in tol.as_object().unwrap() {
            extra[k] = v.clone();
        }
        let out = run(&store, extra).await;
        assert!(out.succeeded(), "{tol}: {:?} {:?}", out.error, out.cause);
        let m = manifest(&store);
        let failed_key = m["ResultFiles"]["FAILED"][0]["Key"]
            .as_str()
            .expect("a FAILED file");
        let failed = file(&store, failed_key);
        assert_eq!(failed.as_array().map(Vec::len), Some(2));
        assert_eq!(failed[0]["Error"], "Boom");
        assert_eq!(failed[0]["Status"], "FAILED");
    }
    // One over.
    for tol in [
        json!({"ToleratedFailureCount": 1}),
        json!({"ToleratedFailurePercentage": 10}),
    ] {
        let mut extra = json!({"ItemReader": reader("JSON", "a.json")});
        for (k, v) in tol.as_object().unwrap() {
            extra[k] = v.clone();
        }
        let out = run(&store, extra).await;
        assert_eq!(
            out.error.as_deref(),
            Some("States.ExceedToleratedFailureThreshold"),
            "{tol}"
        );
    }
    // Without a threshold, the child's error fails the Map.
    let out = run(&store, json!({"ItemReader": reader("JSON", "a.json")})).await;
    assert_eq!(out.error.as_deref(), Some("Boom"));
}

#[tokio::test]
async fn a_failed_batch_counts_each_of_its_items() {
    // Batches of 3: item 0 fails its batch, so 3 of 6 items failed (50%).
    let store = MemoryObjects::new().with_object("in", "a.json", failing_items(6, &[0]));
    let base =
        json!({"ItemReader": reader("JSON", "a.json"), "ItemBatcher": {"MaxItemsPerBatch": 3}});
    let mut ok = base.clone();
    ok["ToleratedFailurePercentage"] = json!(50);
    let out = run(&store, ok).await;
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    let mut over = base.clone();
    over["ToleratedFailureCount"] = json!(2);
    let out = run(&store, over).await;
    assert_eq!(
        out.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
}

#[tokio::test]
async fn a_missing_object_is_an_item_reader_failure() {
    let store = MemoryObjects::new().with_bucket("in");
    let out = run(&store, json!({"ItemReader": reader("JSON", "nope.json")})).await;
    assert_eq!(out.error.as_deref(), Some("States.ItemReaderFailed"));
    let cause = out.cause.clone().unwrap_or_default();
    assert!(
        cause.contains("NoSuchKey") && cause.contains("nope.json"),
        "{cause}"
    );
    let names = out.event_types();
    assert!(names.contains(&"MapStateFailed"), "{names:?}");
}

#[tokio::test]
async fn a_malformed_line_fails_the_map_and_keeps_the_results_written() {
    for (ty, body) in [
        ("JSONL", "{\"i\":0}\n{\"i\":1}\n{oops\n{\"i\":3}\n"),
        ("CSV", "i\n0\n1\n\"unclosed\n"),
    ] {
        let store = MemoryObjects::new()
            .with_object("in", "a", body)
            .with_bucket("out");
        let out = run(
            &store,
            json!({"ItemReader": reader(ty, "a"), "ResultWriter": writer()}),
        )
        .await;
        assert_eq!(
            out.error.as_deref(),
            Some("States.ItemReaderFailed"),
            "{ty}"
        );
        let cause = out.cause.clone().unwrap_or_default();
        assert!(cause.contains("s3://in/a"), "{ty}: {cause}");
        // The two items read before the bad line ran, and their results were written.
        let m = manifest(&store);
        let key = m["ResultFiles"]["SUCCEEDED"][0]["Key"]
            .as_str()
            .expect("a SUCCEEDED file");
        assert_eq!(file(&store, key).as_array().map(Vec::len), Some(2), "{ty}");
    }
}

#[tokio::test]
async fn an_item_over_256_kib_is_an_item_reader_failure() {
    let big = format!("{{\"i\":0}}\n{{\"blob\":\"{}\"}}\n", "x".repeat(256 * 1024));
    let store = MemoryObjects::new().with_object("in", "a.jsonl", big);
    let out = run(&store, json!({"ItemReader": reader("JSONL", "a.jsonl")})).await;
    assert_eq!(out.error.as_deref(), Some("States.ItemReaderFailed"));
    assert!(out.cause.unwrap_or_default().contains("256 KiB"));
}

#[tokio::test]
async fn csv_header_count_mismatch_is_read_as_aws_reads_it() {
    let store = MemoryObjects::new().with_object("in", "a.csv", "a,b\n1\n1,2,3\n");
    let out = run(
        &store,
        json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
        "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
        "Parameters": {"Bucket": "in", "Key": "a.csv"}}}),
    )
    .await;
    assert_eq!(
        out.output.expect("output"),
        json!([{"a": "1", "b": ""}, {"a": "1", "b": "2"}])
    );
}

#[tokio::test]
async fn without_an_object_store_the_error_says_how_to_give_one() {
    let rt = Runtime::builder().build();
    let out = rt
        .run_machine(
            &machine(json!({"ItemReader": reader("JSON", "a.json")})),
            json!({}),
        )
        .await
        .expect("starts");
    assert_eq!(out.error.as_deref(), Some("States.ItemReaderFailed"));
    let cause = out.cause.clone().unwrap_or_default();
    assert!(
        cause.contains("--s3-root") && cause.contains("RuntimeBuilder::objects"),
        "{cause}"
    );
}

/// A JSONata machine with one distributed Map `M` over `extra` fields; children fail with `Boom`
/// when their item (or the batch's first item) has `fail`.
fn jsonata_machine(extra: Value) -> workflow_asl::StateMachine {
    let mut map = json!({
        "Type": "Map", "End": true,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "C",
            "States": {
                "C": {"Type": "Choice", "Choices": [
                    {"Condition": "{% $exists($states.input.fail) or $exists($states.input.Items[0].fail) %}", "Next": "F"}
                ], "Default": "P"},
                "F": {"Type": "Fail", "Error": "Boom", "Cause": "item failed"},
                "P": {"Type": "Pass", "End": true}
            }
        }
    });
    for (k, v) in extra.as_object().expect("an object") {
        map[k] = v.clone();
    }
    let def = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": map}});
    workflow_asl::load(&def.to_string()).expect("a valid definition")
}

async fn run_jsonata(store: &MemoryObjects, extra: Value, input: Value) -> ExecutionOutcome {
    let rt = Runtime::builder().objects(Arc::new(store.clone())).build();
    rt.run_machine(&jsonata_machine(extra), input)
        .await
        .expect("starts")
}

/// JSONata `Arguments`, `ReaderConfig.MaxItems`, `ItemSelector` (with `$states.context.Map.Item`)
/// and `Output` over `$states.result` (AWS: "ItemReader (Map)" and "ItemSelector (Map)", JSONata
/// forms; the recorded case test_map_item_reader_base_json_max_items_jsonata).
#[tokio::test]
async fn jsonata_reader_arguments_max_items_item_selector_and_output() {
    let store = MemoryObjects::new().with_object(
        "in",
        "items.jsonl",
        "{\"v\":1}\n{\"v\":2}\n{\"v\":3}\n{\"v\":4}\n",
    );
    let out = run_jsonata(
        &store,
        json!({
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL", "MaxItems": "{% $states.input.max %}"},
                "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "{% 'items' & '.jsonl' %}"}},
            "ItemSelector": {"value": "{% $states.context.Map.Item.Value.v * 10 %}",
                             "index": "{% $states.context.Map.Item.Index %}",
                             "tag": "{% $states.input.tag %}"},
            "Output": {"sum": "{% $sum($states.result.value) %}", "n": "{% $count($states.result) %}"}
        }),
        json!({"bucket": "in", "max": 3, "tag": "t"}),
    )
    .await;
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    assert_eq!(out.output, Some(json!({"sum": 60, "n": 3})));
    assert_eq!(
        out.event_types(),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted",
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
}

/// JSONata `ItemBatcher` limits and `BatchInput`, and a `ResultWriter` whose `Arguments` are
/// expressions (recorded case test_map_item_batching_base_json_max_per_batch_jsonata).
#[tokio::test]
async fn jsonata_item_batcher_and_result_writer_arguments() {
    let store = MemoryObjects::new()
        .with_object("in", "items.json", "[1,2,3,4,5]")
        .with_bucket("out");
    let out = run_jsonata(
        &store,
        json!({
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Arguments": {"Bucket": "in", "Key": "items.json"}},
            "ItemBatcher": {"MaxItemsPerBatch": "{% $states.input.per %}",
                            "MaxInputBytesPerBatch": "{% 1000 %}",
                            "BatchInput": {"run": "{% $states.input.run %}"}},
            "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                "Arguments": {"Bucket": "{% 'out' %}", "Prefix": "{% 'runs/' & $states.input.run %}"}}
        }),
        json!({"per": 2, "run": "r1"}),
    )
    .await;
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    let output = out.output.expect("output");
    assert_eq!(output["ResultWriterDetails"]["Bucket"], "out");
    let key = output["ResultWriterDetails"]["Key"]
        .as_str()
        .expect("a key");
    assert!(key.starts_with("runs/r1/"), "{key}");
    let m = manifest(&store);
    let files = m["ResultFiles"]["SUCCEEDED"].as_array().expect("files");
    let succeeded = file(&store, files[0]["Key"].as_str().expect("a key"));
    let inputs: Vec<Value> = succeeded
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| serde_json::from_str(e["Input"].as_str().expect("text")).expect("JSON"))
        .collect();
    assert_eq!(
        inputs,
        [
            json!({"Items": [1, 2], "BatchInput": {"run": "r1"}}),
            json!({"Items": [3, 4], "BatchInput": {"run": "r1"}}),
            json!({"Items": [5], "BatchInput": {"run": "r1"}})
        ]
    );
}

/// JSONata `ToleratedFailureCount`: within it the Map succeeds, past it the Map Run fails with
/// `States.ExceedToleratedFailureThreshold`.
#[tokio::test]
async fn jsonata_tolerated_failure_count() {
    let items = r#"[{"a":1},{"fail":true},{"a":3},{"fail":true}]"#;
    let store = MemoryObjects::new().with_object("in", "items.json", items);
    let extra = |n: &str| {
        json!({
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Arguments": {"Bucket": "in", "Key": "items.json"}},
            "MaxConcurrency": "{% 1 %}",
            "ToleratedFailureCount": n
        })
    };
    let ok = run_jsonata(&store, extra("{% $states.input.t %}"), json!({"t": 2})).await;
    assert!(ok.succeeded(), "{:?} {:?}", ok.error, ok.cause);
    assert_eq!(ok.output, Some(json!([{"a": 1}, {"a": 3}])));
    let bad = run_jsonata(&store, extra("{% $states.input.t %}"), json!({"t": 1})).await;
    assert_eq!(
        bad.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
    assert!(bad.event_types().contains(&"MapRunFailed"));
    // The Map Run's events as AWS renders them: the ARN when it starts, error and cause when it
    // fails (API_MapRunStartedEventDetails, API_MapRunFailedEventDetails).
    let events: Vec<Value> = bad
        .history
        .events()
        .iter()
        .map(|e| e.to_aws_json())
        .collect();
    let started = events
        .iter()
        .find(|e| e["type"] == "MapRunStarted")
        .expect("MapRunStarted");
    let arn = started["mapRunStartedEventDetails"]["mapRunArn"]
        .as_str()
        .expect("an ARN");
    assert!(arn.contains(":mapRun:") && arn.contains("/M:"), "{arn}");
    let failed = events
        .iter()
        .find(|e| e["type"] == "MapRunFailed")
        .expect("MapRunFailed");
    assert_eq!(
        failed["mapRunFailedEventDetails"]["error"],
        "States.ExceedToleratedFailureThreshold"
    );
    assert!(failed["mapRunFailedEventDetails"]["cause"].is_string());
}

/// A JSONata field of the reader that fails is `States.QueryEvaluationError` at the Map state,
/// naming the field and the expression; a `MaxItems` that is not an integer is one too.
#[tokio::test]
async fn jsonata_errors_in_distributed_fields_name_the_field() {
    let store = MemoryObjects::new().with_object("in", "items.json", "[1]");
    let out = run_jsonata(
        &store,
        json!({
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Arguments": {"Bucket": "in", "Key": "{% $states.input.missing %}"}}
        }),
        json!({}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    let cause = out.cause.clone().unwrap_or_default();
    assert!(cause.contains("'M'"), "{cause}");
    assert!(cause.contains("ItemReader/Arguments/Key"), "{cause}");
    assert!(cause.contains("$states.input.missing"), "{cause}");
    assert!(out.event_types().contains(&"EvaluationFailed"));
    assert!(!out.event_types().contains(&"MapRunStarted"));

    let out = run_jsonata(
        &store,
        json!({
            "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% 'many' %}"},
                "Arguments": {"Bucket": "in", "Key": "items.json"}}
        }),
        json!({}),
    )
    .await;
    assert_eq!(out.error.as_deref(), Some("States.QueryEvaluationError"));
    assert!(
        out.cause
            .as_deref()
            .unwrap_or_default()
            .contains("MaxItems"),
        "{:?}",
        out.cause
    );
}

/// A JSONata distributed Map without a reader maps over `Items`.
#[tokio::test]
async fn jsonata_items_without_a_reader() {
    let store = MemoryObjects::new();
    let out = run_jsonata(
        &store,
        json!({"Items": "{% $states.input.xs %}", "ItemBatcher": {"MaxItemsPerBatch": 2}}),
        json!({"xs": [1, 2, 3]}),
    )
    .await;
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    assert_eq!(out.output, Some(json!([{"Items": [1, 2]}, {"Items": [3]}])));
}

/// Each child runs as an execution of its own: `$$.Execution.Id` is
/// `arn:…:execution:<machine>/<Label>:<uuid>`, `$$.Execution.Name` the UUID, `$$.Execution.Input`
/// the child's input and `$$.StateMachine.Id` `arn:…:stateMachine:<machine>/<Label>`; the result
/// files name the same execution (AWS: "ResultWriter (Map)", the example result file).
#[tokio::test]
async fn children_run_as_executions_of_their_own() {
    let store = MemoryObjects::new()
        .with_object("in", "items.json", r#"[{"k":1},{"k":2}]"#)
        .with_bucket("out");
    let def = json!({"StartAt": "M", "States": {"M": {
        "Type": "Map", "End": true, "Label": "lbl",
        "ItemReader": reader("JSON", "items.json"),
        "ResultWriter": writer(),
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P",
            "States": {"P": {"Type": "Pass", "End": true, "Parameters": {
                "id.$": "$$.Execution.Id", "name.$": "$$.Execution.Name",
                "input.$": "$$.Execution.Input", "sm.$": "$$.StateMachine.Id"}}}
        }
    }}});
    let machine = workflow_asl::load(&def.to_string()).expect("valid");
    let rt = Runtime::builder().objects(Arc::new(store.clone())).build();
    let out = rt.run_machine(&machine, json!({})).await.expect("starts");
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    let m = manifest(&store);
    let key = m["ResultFiles"]["SUCCEEDED"][0]["Key"]
        .as_str()
        .expect("a file");
    let entries = file(&store, key);
    let entries = entries.as_array().expect("entries");
    assert_eq!(entries.len(), 2);
    let mut ids = Vec::new();
    for e in entries {
        let seen: Value = serde_json::from_str(e["Output"].as_str().expect("text")).expect("JSON");
        let input: Value = serde_json::from_str(e["Input"].as_str().expect("text")).expect("JSON");
        assert_eq!(seen["id"], e["ExecutionArn"]);
        assert_eq!(seen["name"], e["Name"]);
        assert_eq!(seen["sm"], e["StateMachineArn"]);
        assert_eq!(seen["input"], input);
        let id = seen["id"].as_str().expect("an ARN");
        let name = seen["name"].as_str().expect("a name");
        assert!(
            id.contains(":execution:") && id.ends_with(&format!("/lbl:{name}")),
            "{id}"
        );
        assert!(uuid::Uuid::parse_str(name).is_ok(), "{name}");
        assert!(seen["sm"]
            .as_str()
            .expect("an ARN")
            .contains(":stateMachine:"));
        assert!(seen["sm"].as_str().expect("an ARN").ends_with("/lbl"));
        ids.push(id.to_string());
    }
    assert_ne!(ids[0], ids[1]);
}

/// Children whose processor never awaits run in rounds on all cores; the outputs, the written
/// results and the tolerated failures are those of one child at a time (a round with a failed
/// child runs again as futures).
#[test]
fn children_on_all_cores_match_one_at_a_time() {
    let items: Vec<Value> = (0..3000)
        .map(|i| {
            if i == 1234 {
                json!({"i": i, "fail": true})
            } else {
                json!({"i": i})
            }
        })
        .collect();
    let store = MemoryObjects::new()
        .with_object(
            "in",
            "items.json",
            serde_json::to_vec(&items).expect("JSON"),
        )
        .with_bucket("out");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let run_with = |concurrency: u64, tolerated: u64| {
        rt.block_on(run(
            &store,
            json!({"ItemReader": reader("JSON", "items.json"),
                   "MaxConcurrency": concurrency,
                   "ToleratedFailureCount": tolerated}),
        ))
    };
    let one = run_with(1, 1);
    let all = run_with(1000, 1);
    assert!(one.succeeded(), "{:?} {:?}", one.error, one.cause);
    assert!(all.succeeded(), "{:?} {:?}", all.error, all.cause);
    assert_eq!(one.output, all.output);
    assert_eq!(
        all.output.as_ref().and_then(Value::as_array).map(Vec::len),
        Some(2999)
    );
    let failed = run_with(1000, 0);
    assert_eq!(
        failed.error.as_deref(),
        Some("States.ExceedToleratedFailureThreshold")
    );
}

/// Results rendered on all cores are written in child order, as one child at a time writes them.
#[test]
fn results_rendered_on_all_cores_are_written_in_order() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let outputs = |concurrency: u64| {
        let store = MemoryObjects::new()
            .with_object("in", "items.json", failing_items(5000, &[]))
            .with_bucket("out");
        let out = rt.block_on(run(
            &store,
            json!({"ItemReader": reader("JSON", "items.json"),
                   "MaxConcurrency": concurrency, "ResultWriter": writer()}),
        ));
        assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
        let m = manifest(&store);
        let mut got = Vec::new();
        for f in m["ResultFiles"]["SUCCEEDED"].as_array().expect("files") {
            for e in file(&store, f["Key"].as_str().expect("a key"))
                .as_array()
                .expect("entries")
            {
                got.push(e["Output"].clone());
            }
        }
        got
    };
    let one = outputs(1);
    assert_eq!(one.len(), 5000);
    assert_eq!(one, outputs(1000));
}

/// A round on all cores with a failed child runs again as futures: the result files hold the
/// same entries, inputs included, as one child at a time writes.
#[test]
fn a_failed_child_in_a_written_round_writes_what_one_at_a_time_writes() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let entries = |concurrency: u64| {
        let store = MemoryObjects::new()
            .with_object("in", "items.json", failing_items(5000, &[100, 4500]))
            .with_bucket("out");
        let out = rt.block_on(run(
            &store,
            json!({"ItemReader": reader("JSON", "items.json"),
                   "MaxConcurrency": concurrency, "ToleratedFailureCount": 2,
                   "ResultWriter": writer()}),
        ));
        assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
        let m = manifest(&store);
        let mut got = Vec::new();
        for status in ["SUCCEEDED", "FAILED"] {
            for f in m["ResultFiles"][status].as_array().expect("files") {
                for e in file(&store, f["Key"].as_str().expect("a key"))
                    .as_array()
                    .expect("entries")
                {
                    let keep = ["Input", "Output", "Status", "Error", "Cause"];
                    got.push(json!(keep.map(|k| e[k].clone())));
                }
            }
        }
        got
    };
    let one = entries(1);
    assert_eq!(one.len(), 5000);
    assert_eq!(one[0][0], json!("{\"i\":0}"));
    let mut all = entries(1000);
    // Children finish in another order on all cores: compare them sorted.
    let mut one_sorted = one;
    one_sorted.sort_by_key(Value::to_string);
    all.sort_by_key(Value::to_string);
    assert_eq!(one_sorted, all);
}

/// A malformed line read while an earlier round runs on all cores fails the Map with
/// `States.ItemReaderFailed`, and the results of every item before it are written.
#[test]
fn a_malformed_line_in_a_later_round_keeps_the_earlier_rounds() {
    let mut body = String::new();
    for i in 0..10_000 {
        if i == 9000 {
            body.push_str("{not json\n");
        } else {
            body.push_str(&format!("{{\"i\":{i}}}\n"));
        }
    }
    let store = MemoryObjects::new()
        .with_object("in", "items.jsonl", body)
        .with_bucket("out");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let out = rt.block_on(run(
        &store,
        json!({"ItemReader": reader("JSONL", "items.jsonl"),
               "MaxConcurrency": 1000, "ResultWriter": writer()}),
    ));
    assert_eq!(out.error.as_deref(), Some("States.ItemReaderFailed"));
    assert!(
        out.cause.as_deref().unwrap_or_default().contains("9001"),
        "{:?}",
        out.cause
    );
    let m = manifest(&store);
    let mut written = 0;
    for f in m["ResultFiles"]["SUCCEEDED"].as_array().expect("files") {
        written += file(&store, f["Key"].as_str().expect("a key"))
            .as_array()
            .expect("entries")
            .len();
    }
    // Every item read before the malformed line ran and was written.
    assert_eq!(written, 9000);
}

/// A distributed Map inside each child of another gets a Map Run of its own in every child: its
/// own id, so its results go to their own folder (they overwrote each other's when the id came
/// from the Map state's position alone).
#[tokio::test]
async fn nested_map_runs_have_their_own_ids_and_result_folders() {
    let store = MemoryObjects::new().with_bucket("out");
    let inner = json!({
        "Type": "Map", "End": true, "ItemsPath": "$.items",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}},
        "ResultWriter": writer()});
    let def = json!({"StartAt": "Outer", "States": {"Outer": {
        "Type": "Map", "End": true, "ItemsPath": "$.groups",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Inner", "States": {"Inner": inner}}}}});
    let machine = workflow_asl::load(&def.to_string()).expect("a valid definition");
    let rt = Runtime::builder().objects(Arc::new(store.clone())).build();
    let groups: Vec<Value> = (0..3).map(|g| json!({"items": [g, g + 10]})).collect();
    let out = rt
        .run_machine(&machine, json!({"groups": groups}))
        .await
        .expect("starts");
    assert!(out.succeeded(), "{:?} {:?}", out.error, out.cause);
    let outputs = out.output.expect("output");
    let outputs = outputs.as_array().expect("one output per group");
    let mut arns: Vec<&str> = outputs
        .iter()
        .map(|o| o["MapRunArn"].as_str().expect("a Map Run ARN"))
        .collect();
    arns.sort_unstable();
    arns.dedup();
    assert_eq!(arns.len(), 3, "{outputs:?}");
    // Each group's results are its own items.
    for (g, o) in outputs.iter().enumerate() {
        let key = o["ResultWriterDetails"]["Key"].as_str().expect("key");
        let results = file(&store, &key.replace("manifest.json", "SUCCEEDED_0.json"));
        let mut got: Vec<Value> = results
            .as_array()
            .expect("array")
            .iter()
            .map(|r| serde_json::from_str(r["Output"].as_str().expect("text")).expect("JSON"))
            .collect();
        got.sort_by_key(|v| v.as_u64());
        assert_eq!(got, [json!(g), json!(g + 10)], "group {g}");
    }
}
