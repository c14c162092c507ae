use workflow::workflow;

workflow! {
    // No `start`.
    Missing {
        A = succeed;
    }

    // `start` names no state.
    Unknown {
        start Strat;
        Start = succeed;
    }
}

fn main() {}
