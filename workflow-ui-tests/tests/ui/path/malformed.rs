use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = pass(
            input_path = "a.b",
            parameters = { "x.$": "$.a[", "y": $.ok },
            result_path = $.items[*],
        ) -> B;
        B = choice {
            "$.a[" == 1 => Done,
            _ => Done,
        };
        Done = succeed;
    }
}

fn main() {}
