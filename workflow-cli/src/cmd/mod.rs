//! One module per subcommand, plus what they share: reading a definition file.

pub mod builtin;
pub mod describe;
pub mod durable;
pub mod fmt;
pub mod graph;
pub mod history;
pub mod list;
pub mod resume;
pub mod run;
pub mod stop;
pub mod validate;

use std::fs;
use std::path::Path;

/// Exit status: success.
pub const OK: u8 = 0;
/// Exit status: a definition is invalid (or cannot be handled as asked).
pub const INVALID: u8 = 1;
/// Exit status: a file cannot be read or is not JSON.
pub const UNREADABLE: u8 = 2;

/// Reads a definition file as UTF-8 text; the error says why it could not be read.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the file is not UTF-8 text (invalid byte at offset {}), so it is not JSON",
            e.utf8_error().valid_up_to()
        )
    })
}
