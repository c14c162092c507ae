// A `map` or `parallel` without its item processor or branches says so, on the keyword.
use workflow::workflow;

workflow! {
    Flow {
        start Lines;
        Lines = map(items_path = $.lines, max_concurrency = 2) -> Both;
        Both = parallel(result_path = $.both) -> end;
    }

    Inline {
        start Both;
        Both = parallel {
            Left { A = succeed; }
            Right { start B; B = pass -> Nowhere; }
        } -> end;
    }
}

fn main() {}
