//! One module per subcommand, plus what they share: reading a definition file.

pub mod builtin;
pub mod check;
pub mod describe;
pub mod durable;
pub mod eval;
pub mod export;
pub mod fmt;
pub mod graph;
pub mod history;
pub mod lambda_endpoint;
pub mod list;
pub mod resume;
pub mod run;
pub mod serve;
pub mod stop;
pub mod substitute;
pub mod tasks;
pub mod test_state;
pub mod validate;

use std::fs;
use std::io::Write;
use std::path::Path;

use workflow_asl::validate::{Options, Placeholders};
use workflow_asl::{check_str_with, Report};

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

/// Reads and checks a definition file for a command that needs its model (`fmt`, `graph`).
///
/// Returns the file's display name, its text and the report. When the file cannot be read, is not JSON or
/// has no model, the problems are written to `err` (`NAME: problem`) and the exit status is
/// returned instead (`UNREADABLE`, or `INVALID` when it is JSON but not a state machine object);
/// otherwise the report's `machine` is present.
///
/// The definition's `${NAME}` placeholders are substituted first (the text returned is the
/// substituted text); placeholders left are judged as the values they stand for.
pub fn read_report_with(
    path: &Path,
    substitutions: &substitute::SubstituteArgs,
    err: &mut dyn Write,
) -> Result<(String, String, Report), u8> {
    let name = path.display().to_string();
    let text = match read_text(path).and_then(|t| substitutions.apply(t)) {
        Ok(t) => t,
        Err(why) => {
            let _ = writeln!(err, "{name}: {why}");
            return Err(UNREADABLE);
        }
    };
    let report = check_str_with(&text, &placeholder_options());
    if report.is_not_json() || report.machine.is_none() {
        for d in &report.diagnostics {
            let _ = writeln!(err, "{name}: {d}");
        }
        return Err(if report.is_not_json() {
            UNREADABLE
        } else {
            INVALID
        });
    }
    Ok((name, text, report))
}

/// Validation options for definitions read by the commands: `${NAME}` placeholders left after
/// substitution are judged as the values they stand for (and reported as warnings by `validate`).
pub fn placeholder_options() -> Options {
    Options {
        placeholders: Placeholders::Accept,
        ..Options::default()
    }
}
