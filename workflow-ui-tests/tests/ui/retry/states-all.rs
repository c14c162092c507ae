use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = task(resource = "arn:aws:states:::lambda:invoke")
            // Not alone.
            .retry([States.ALL, MyError])
            // Not last.
            .catch([States.ALL] => Done)
            .catch([MyError] => Done)
            -> Done;
        Done = succeed;
    }
}

fn main() {}
