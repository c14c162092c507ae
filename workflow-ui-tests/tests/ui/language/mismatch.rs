use workflow::workflow;

workflow! {
    // A JSONPath field in a JSONata workflow.
    #[workflow(query_language = "JSONata")]
    Jsonata {
        start A;
        A = pass(input_path = $.a, output = "{% $states.input %}") -> end;
    }

    // JSONata fields in a JSONPath workflow.
    Jsonpath {
        start A;
        A = task(resource = "arn:aws:states:::lambda:invoke", arguments = { "a": 1 }) -> end;
    }
}

fn main() {}
