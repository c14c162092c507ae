//! The local Step Functions runtime for `workflow`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod history;
