use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = pass(parameters = {
            "unknown": States.Formatt("x {}", $.a),
            "arity": States.ArrayLength($.a, 2),
            "ok": States.Format("hello {}", States.ArrayLength($.a)),
        }) -> end;
    }
}

fn main() {}
