// A state without a transition, and `->` on states that cannot have one.
use workflow::workflow;

workflow! {
    Flow {
        start A;
        A = pass;
        B = succeed -> A;
        C = choice { _ => A } -> A;
    }
}

fn main() {}
