//! TestState, locally: test ONE state of a workflow as AWS's TestState API does, with its real
//! handler or a mock, and see the data after each step of its data path.
//!
//! `cargo run --example test_state`.

use serde_json::{json, Value};
use workflow::runtime::test_state::TestStatus;
use workflow::{workflow, TaskError, Workflow};

async fn book(item: Value) -> Result<Value, TaskError> {
    Ok(json!({ "shelf": "books", "title": item["title"] }))
}

async fn media(item: Value) -> Result<Value, TaskError> {
    Ok(json!({ "shelf": "media", "file": item["file"] }))
}

workflow! {
    /// Files an item on the right shelf.
    pub Shelve {
        start Kind;
        Kind = choice {
            $.kind == "book" => Book,
            $.kind == "media" => Media,
            _ => Unknown,
        };
        Book = task(book, resource = "${BookFn}", result_path = $.placed)
            .catch([States.ALL] => Unknown, result_path = $.error)
            -> end;
        Media = task(media, resource = "${MediaFn}") -> end;
        Unknown = fail(error = "UnknownKind", cause = "no shelf for this item");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A Choice: which state comes next.
    let kind = Shelve::test_state("Kind", json!({"kind": "book", "title": "Dune"})).await?;
    assert_eq!(kind.next_state, Some(ShelveState::Book));
    println!("Kind -> {:?}", kind.next_state);

    // A Task with its real (typed) handler, and the data after each step.
    let placed = Shelve::test_state("Book", json!({"kind": "book", "title": "Dune"})).await?;
    assert_eq!(placed.status, TestStatus::Succeeded);
    println!("Book output: {}", placed.output.clone().unwrap_or_default());
    if let Some(steps) = &placed.inspection_data {
        let show = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
        println!("  afterParameters: {}", show(&steps.after_parameters));
        println!("  result:          {}", show(&steps.result));
        println!("  afterResultPath: {}", show(&steps.after_result_path));
    }

    // The same Task with a mocked error: its Catch takes it.
    let caught = Shelve::test_state("Book", json!({"title": "Dune"}))
        .mock_error("ShelfFull", "no room left")
        .await?;
    assert_eq!(caught.status, TestStatus::CaughtError);
    assert_eq!(caught.next_state, Some(ShelveState::Unknown));
    println!(
        "Book with a mocked error: {} -> {:?}, output {}",
        caught.status.as_str(),
        caught.next_state,
        caught.output.unwrap_or_default()
    );
    Ok(())
}
