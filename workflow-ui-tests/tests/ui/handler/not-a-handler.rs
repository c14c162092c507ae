use workflow::{workflow, TaskError};

struct NotSerde;

// Not async.
fn sync_handler(v: u32) -> Result<u32, TaskError> {
    Ok(v)
}

// The input is not a serde type.
async fn bad_input(_: NotSerde) -> Result<u32, TaskError> {
    Ok(1)
}

// Not a function at all.
const NOT_A_FN: u32 = 3;

workflow! {
    Flow {
        start A;
        A = task(sync_handler, resource = "a") -> B;
        B = task(bad_input, resource = "b") -> C;
        C = task(NOT_A_FN, resource = "c") -> end;
    }
}

fn main() {}
