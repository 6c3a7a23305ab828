//! The one place that wires the phases together for each command.

use crate::cli::{Cli, Command};
use crate::error::ExitCode;

/// Run one command and return its exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(a) => match crate::config::load(&a.config) {
            Ok(_) => { println!("ok"); ExitCode::Success }
            Err(e) => { eprintln!("{e}"); ExitCode::Usage }
        },
        _ => ExitCode::Success,
    }
}
