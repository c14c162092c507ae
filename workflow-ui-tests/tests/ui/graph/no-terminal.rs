use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = pass -> B;
        B = wait(seconds = 1) -> A;
    }
}

fn main() {}
