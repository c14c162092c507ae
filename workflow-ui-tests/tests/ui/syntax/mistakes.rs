// Several syntax mistakes in one workflow: each is reported, and the rest of the workflow is
// still checked. The workflow type still exists, so code that names it compiles.
use workflow::{workflow, Workflow};

workflow! {
    Flow {
        start A;
        A = pass -> B;
        B = taks(handler) -> C;
        C = pass(result_pth = $.x) -> D;
        D = wait(seconds = 1).retyr([States.ALL]) -> E;
        E = choice {
            $.a == $.b => A,
            _ => A,
            $.c > 1 => A,
        };
    }
}

fn main() {
    let _ = Flow::ASL;
}
