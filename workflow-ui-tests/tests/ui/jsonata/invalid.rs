// JSONata expressions are parsed at compile time: a malformed one, or one AWS rejects when the
// state machine is created, is an error on the expression; `query` takes `jsonata` or `jsonpath`.
use workflow::workflow;

workflow! {
    #[workflow(query = jsonata)]
    Flow {
        start Done;
        Done = pass(output = "{% $states.input.id + %}") -> end;
    }

    Other {
        start A;
        A = pass(query = jsonatta) -> end;
    }
}

fn main() {}
