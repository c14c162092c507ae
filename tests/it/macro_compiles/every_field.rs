// Every state type and every field has a spelling in the DSL; the emitted ASL passes the
// validator and holds each field as written.
use serde_json::{json, Value};
use workflow::{workflow, TaskContext, TaskError, Workflow};

async fn work(v: Value, cx: TaskContext) -> Result<Value, TaskError> {
    cx.heartbeat();
    Ok(v)
}

workflow! {
    /// One item.
    Item {
        start Double;
        Double = pass(parameters = { "n.$": "States.MathAdd($.n, $.n)" }) -> end;
    }

    /// Every state and field.
    #[workflow(version = "1.0", timeout_seconds = 3600, comment = "overrides the doc comment")]
    pub Everything {
        start Prepare;
        /// A Pass state with every field.
        Prepare = pass(
            input_path = $.input,
            parameters = {
                "literal": "text",
                "number": 1.5,
                "nested": { "list": [1, "two", null, true] },
                "path": $.a.b[0],
                "context": $$.Execution.Id,
                "format": States.Format("Hello, {}!", $.name),
                "explicit.$": "$.x",
            },
            result_path = $.prepared,
            output_path = $,
        ) -> Work;
        Work = task(
            work,
            resource = "arn:aws:lambda:us-east-1:123456789012:function:work",
            parameters = { "payload.$": "$" },
            result_selector = { "value.$": "$.prepared" },
            result_path = $.work,
            timeout_seconds_path = $.timeout,
            heartbeat_seconds = 10,
            credentials = { "RoleArn": "arn:aws:iam::123456789012:role/r" },
            assign = { "attempted": true },
        )
            .retry([States.Timeout], interval_seconds = 1, max_attempts = 2, backoff_rate = 1.5,
                   max_delay_seconds = 5, jitter_strategy = FULL, comment = "timeouts")
            .retry([States.ALL])
            .catch([Custom.Error, "Other"] => Recover, result_path = $.error, comment = "custom")
            .catch([States.ALL] => Recover)
            -> Route;
        Recover = pass(result = { "recovered": true }, result_path = null) -> Route;
        Route = choice(input_path = $, output_path = $) {
            /// Every comparison.
            $.s == "a" && $.s != "b" && $.s < "c" && $.s <= "c" && $.s > "0" && $.s >= "0" => WaitSeconds,
            $.n == 1 || $.n < 2 || $.n <= 2 || $.n > 0 || $.n >= 0 || $.n != 3 => WaitTimestamp,
            $.b == true || $.b != false => WaitSecondsPath,
            $.t == timestamp("2024-01-01T00:00:00Z") || $.t < timestamp($.u) => WaitTimestampPath,
            $.x == string($.y) || $.x < number($.y) || $.x == boolean($.y) => Branches,
            is_present($.p) && !is_null($.p) && is_numeric($.p) || is_string($.p) || is_boolean($.p) || is_timestamp($.p) => Items,
            matches($.file, "*.log") => Items,
            $.maybe == null => Done,
            "$['odd key']" == 1 => "Odd name",
            _ => Failed,
        };
        WaitSeconds = wait(seconds = 5) -> Done;
        WaitTimestamp = wait(timestamp = "2024-01-01T00:00:00Z") -> Done;
        WaitSecondsPath = wait(seconds_path = $.delay) -> Done;
        WaitTimestampPath = wait(timestamp_path = $.at) -> Done;
        Branches = parallel([Item, Item2], result_selector = { "first.$": "$[0]" }, result_path = $.branches)
            .retry([States.ALL], max_attempts = 1)
            .catch([States.ALL] => Failed)
            -> Items;
        Items = map(
            Item3,
            items_path = $.items,
            item_selector = { "n.$": "$$.Map.Item.Value" },
            max_concurrency = 2,
            tolerated_failure_percentage = 10,
            label = "items",
            processor_config = { "Mode": "INLINE" },
        ) -> Done;
        "Odd name" = pass -> Done;
        Failed = fail(error = "Failed", cause = "something failed");
        Done = succeed(output_path = $.done);
    }

    Item3 {
        start Triple;
        Triple = pass -> end;
    }

    Item2 {
        start Only;
        Only = pass(raw = { "Result": { "raw": 1 } }) -> end;
    }

    /// A JSONata workflow.
    #[workflow(query_language = "JSONata")]
    Jsonata {
        start Compute;
        Compute = task(
            resource = "arn:aws:states:::lambda:invoke",
            arguments = { "FunctionName": "f", "Payload": "{% $states.input %}" },
            output = "{% $states.result.Payload %}",
            assign = { "count": "{% $count + 1 %}" },
            timeout_seconds = "{% 30 %}",
        ) -> Decide;
        Decide = choice {
            "{% $states.input.n > 1 %}" => Done(output = { "big": true }),
            _ => Done,
        };
        Done = succeed;
    }
}

#[test]
fn compiles_and_runs() {
    let v: Value = serde_json::from_str(Everything::ASL).unwrap();
    assert_eq!(v["Comment"], "overrides the doc comment");
    assert_eq!(v["Version"], "1.0");
    assert_eq!(v["States"]["Prepare"]["Parameters"]["path.$"], "$.a.b[0]");
    assert_eq!(
        v["States"]["Prepare"]["Parameters"]["format.$"],
        "States.Format('Hello, {}!', $.name)"
    );
    assert_eq!(v["States"]["Work"]["Retry"][0]["JitterStrategy"], "FULL");
    assert_eq!(
        v["States"]["Work"]["Catch"][0]["ErrorEquals"],
        json!(["Custom.Error", "Other"])
    );
    assert_eq!(v["States"]["Recover"]["ResultPath"], Value::Null);
    assert_eq!(
        v["States"]["Route"]["Choices"][0]["Comment"],
        "Every comparison."
    );
    assert_eq!(
        v["States"]["Route"]["Choices"][7],
        json!({"Variable": "$.maybe", "IsNull": true, "Next": "Done"})
    );
    assert_eq!(
        v["States"]["Items"]["ItemProcessor"]["ProcessorConfig"],
        json!({"Mode": "INLINE"})
    );
    assert_eq!(
        v["States"]["Branches"]["Branches"][1]["States"]["Only"]["Result"],
        json!({"raw": 1})
    );
    assert!(v["States"]["Odd name"].is_object());
    assert!(
        Everything::diagnostics().is_empty(),
        "{:?}",
        Everything::diagnostics()
    );
    assert!(
        Jsonata::diagnostics().is_empty(),
        "{:?}",
        Jsonata::diagnostics()
    );
    let j: Value = serde_json::from_str(Jsonata::ASL).unwrap();
    assert_eq!(
        j["States"]["Decide"]["Choices"][0]["Output"],
        json!({"big": true})
    );
}
