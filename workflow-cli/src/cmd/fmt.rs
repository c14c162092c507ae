//! `workflow fmt FILE`: the canonical re-emission of a definition.
//!
//! Formatting is lossless (unknown fields are kept), so it also works on definitions with schema
//! problems. It refuses a file with duplicate keys, whose repeated values JSON cannot keep.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use workflow_asl::{emit, Code};

use super::substitute::SubstituteArgs;
use super::{read_report_with, INVALID, OK, UNREADABLE};

/// Arguments of `workflow fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The definition file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Rewrite the file in place instead of printing it (not with substitutions, which would
    /// replace the file's placeholders).
    #[arg(long, short = 'w', conflicts_with_all = ["check", "substitute", "substitutions"])]
    pub write: bool,
    /// Print nothing; exit with status 1 when the file is not in canonical form.
    #[arg(long)]
    pub check: bool,
    /// `--substitute NAME=VALUE`, `--substitutions FILE.json`: fill in `${NAME}` placeholders.
    #[command(flatten)]
    pub substitutions: SubstituteArgs,
}

/// Runs `workflow fmt`; returns the exit status.
pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (name, text, report) = match read_report_with(&args.file, &args.substitutions, err) {
        Ok(read) => read,
        Err(status) => return status,
    };
    let Some(machine) = &report.machine else {
        return INVALID;
    };
    let duplicates: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| {
            matches!(d.code, Code::DuplicateKey | Code::DuplicateStateName)
                && d.message.contains("more than once")
        })
        .collect();
    if !duplicates.is_empty() {
        for d in duplicates {
            let _ = writeln!(err, "{name}: {d}");
        }
        let _ = writeln!(
            err,
            "{name}: not formatted: the duplicate keys would lose all but their last value"
        );
        return INVALID;
    }
    let mut formatted = emit::machine_to_string_pretty(machine);
    formatted.push('\n');
    if args.check {
        return if formatted == text { OK } else { INVALID };
    }
    if args.write {
        if formatted == text {
            return OK;
        }
        return match write_atomically(&args.file, &formatted) {
            Ok(()) => OK,
            Err(e) => {
                let _ = writeln!(err, "{name}: cannot write the file: {e}");
                UNREADABLE
            }
        };
    }
    let _ = out.write_all(formatted.as_bytes());
    OK
}

/// Writes `text` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.workflow-fmt.tmp"));
    fs::write(&tmp, text)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}
