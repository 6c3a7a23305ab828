//! `guardsync report --html OUT`: read a JSON report or the last run record
//! in the bucket, render it with [`crate::report::html`], write the page.
//! Does I/O.

use crate::cli::ReportArgs;
use crate::error::{Error, ExitCode};

/// Run `guardsync report`.
pub async fn command(args: &ReportArgs) -> Result<ExitCode, Error> {
    let _ = args;
    Ok(ExitCode::Usage)
}
