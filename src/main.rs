//! The `guardsync` binary: CLI parsing, logging setup and exit codes; nothing else.

use std::process::ExitCode;

use clap::Parser;
use guardsync::cli::{Cli, Command, ListCommand};
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `list merge` logs nothing (its warnings go straight to stderr) and
    // needs no async runtime: it runs before either is set up.
    if let Command::List(ListCommand::Merge(args)) = &cli.command {
        return ExitCode::from(guardsync::app::run_list_merge(args).code());
    }
    init_logging(cli.verbose, cli.quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(guardsync::error::ExitCode::Aborted.code());
        }
    };
    let code = runtime.block_on(guardsync::app::run(cli));
    ExitCode::from(code.code())
}

/// Logs go to stderr; stdout is reserved for results.
fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "error",
        // guardsync's own detail first; the AWS SDK's chatter only with -vv.
        // aws_config warns once per provider of the chain it tries (IMDS
        // included) with debug dumps: guardsync says it once, in a sentence.
        (false, 0) => "warn,aws_config=error,guardsync=info",
        (false, 1) => "warn,aws_config=error,guardsync=debug",
        // The SDK's debug lines name access key ids (never secrets): keep
        // those two sources at info even here.
        (false, _) => {
            "debug,guardsync=trace,aws_config::sts::assume_role=info,\
             aws_smithy_runtime::client::orchestrator::endpoints=info"
        }
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    guardsync::logs::init(filter, std::io::stderr, terminal);
}
