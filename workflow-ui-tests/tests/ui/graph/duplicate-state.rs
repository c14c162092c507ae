use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = pass -> B;
        B = pass -> end;
        A = succeed;
    }
}

fn main() {}
