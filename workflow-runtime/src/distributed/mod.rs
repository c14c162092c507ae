//! Distributed Map over objects, as AWS lays it out: items read from an object store
//! ([`reader`]), grouped into child inputs ([`batcher`]), and the child executions' results
//! written back ([`writer`]). Each part streams: the reader yields items one at a time from the
//! object (JSON arrays excepted, which are parsed whole), the batcher holds one batch, and the
//! writer appends each result to its current result file as it arrives.
//!
//! Errors carry the AWS error name the Map state fails with (`States.ItemReaderFailed`,
//! `States.ResultWriterFailed`) and a cause naming the object and the place in it.

pub mod batcher;
pub mod reader;
pub mod writer;

/// The largest child-execution input AWS accepts (256 KiB), which bounds an item and a batch.
pub const MAX_ITEM_BYTES: usize = 256 * 1024;

/// A failure of a distributed-Map part: the AWS error name and its cause.
///
/// ```
/// use workflow_runtime::distributed::DistError;
///
/// let e = DistError::reader("the object s3://in/items.json is not a JSON array");
/// assert_eq!(e.to_string(), "States.ItemReaderFailed: the object s3://in/items.json is not a JSON array");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct DistError {
    /// The error name (`States.ItemReaderFailed`, `States.ResultWriterFailed`, `States.Runtime`).
    pub error: String,
    /// What went wrong, naming the object and the place in it.
    pub cause: String,
}

impl DistError {
    /// A `States.ItemReaderFailed` error.
    ///
    /// ```
    /// assert_eq!(workflow_runtime::distributed::DistError::reader("x").error, "States.ItemReaderFailed");
    /// ```
    pub fn reader(cause: impl Into<String>) -> DistError {
        DistError {
            error: workflow_asl::error::names::ITEM_READER_FAILED.to_string(),
            cause: cause.into(),
        }
    }

    /// A `States.ResultWriterFailed` error.
    ///
    /// ```
    /// assert_eq!(workflow_runtime::distributed::DistError::writer("x").error, "States.ResultWriterFailed");
    /// ```
    pub fn writer(cause: impl Into<String>) -> DistError {
        DistError {
            error: workflow_asl::error::names::RESULT_WRITER_FAILED.to_string(),
            cause: cause.into(),
        }
    }
}
