use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = pass -> Done;
        Orphan = pass -> Done;
        Done = succeed;
    }
}

fn main() {}
