use workflow::workflow;

workflow! {
    Flow {
        start Check;
        Check = pass -> Chek;
        Route = choice {
            $.ok == true => Done,
            _ => Dne,
        };
        Work = task(resource = "arn:aws:states:::lambda:invoke")
            .catch([States.ALL] => Handlr)
            -> Done;
        Handler = fail(error = "Failed");
        Done = succeed;
    }
}

fn main() {}
