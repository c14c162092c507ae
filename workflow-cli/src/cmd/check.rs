//! `workflow check --store PATH`: checks a store file for damage: SQLite's `integrity_check`
//! of every page and index, the rules of every history (ids without gaps, no position twice, no
//! event without its execution) and the checksum of every event.
//!
//! Exit status: 0 when the store is intact, 1 when it is damaged (every problem is listed), 2
//! when it cannot be checked (no such file, not a regular file, not readable).

use std::io::Write;

use workflow_runtime::store::StoreError;

use super::durable::{open_store_read, StoreArg};
use super::{INVALID, OK, UNREADABLE};

/// Arguments of `workflow check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    store: StoreArg,
}

/// Runs `workflow check`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let path = args.store.store.display();
    let mut opened = Vec::new();
    let store = match open_store_read(&args.store.store, &mut opened) {
        Ok(store) => store,
        Err(code) => {
            let _ = err.write_all(&opened);
            // A file that opens as no workflow store (or only half of one) is damage.
            let text = String::from_utf8_lossy(&opened);
            return if code == UNREADABLE && text.contains("corrupted") {
                INVALID
            } else {
                code
            };
        }
    };
    let report = match store.check() {
        Ok(report) => report,
        Err(e @ StoreError::Corrupt { .. }) => {
            let _ = writeln!(err, "{path}: damaged: {e}");
            return INVALID;
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return UNREADABLE;
        }
    };
    if report.problems.is_empty() {
        let unchecked = if report.unchecked > 0 {
            format!(
                " ({} older events have no checksum and were checked only for order)",
                report.unchecked
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{path}: ok: {} executions, {} events verified{unchecked}",
            report.executions, report.events
        );
        return OK;
    }
    for problem in &report.problems {
        let _ = writeln!(err, "{path}: damaged: {problem}");
    }
    let _ = writeln!(
        out,
        "{path}: DAMAGED: {} problems found (see above); the damaged records are never shown \
         by `list`, `describe` or `history`, which report an error instead",
        report.problems.len()
    );
    INVALID
}
