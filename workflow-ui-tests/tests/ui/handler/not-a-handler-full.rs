// A handler that is not one, in a workflow with no other mistake: reported once, at the handler,
// although the registration and the generated state machine both use it.
use workflow::{workflow, TaskError};

fn sync_handler(v: u32) -> Result<u32, TaskError> {
    Ok(v)
}

async fn fine(v: u32) -> Result<u32, TaskError> {
    Ok(v)
}

workflow! {
    Flow: u32 -> u32 {
        start A;
        A = task(sync_handler) -> B;
        B = task(fine) -> end;
    }
}

fn main() {}
