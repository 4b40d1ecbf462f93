//! `tenable-rotate`: parse the command line, run, map the result to an exit status.
//! Everything else lives in the library; see `src/lib.rs`.

use std::process::ExitCode;

use clap::Parser;
use tenable_rotate::cli::{self, Cli};
use tenable_rotate::exit::ExitStatus;

fn main() -> ExitCode {
    // A panic must not print its message: it could quote a value from the payload.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "tenable-rotate: internal error{at} (a bug; please report it); whether the Tenable password changed is unknown"
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match std::panic::catch_unwind(|| cli::run(cli)) {
        Ok(status) => status.into(),
        Err(_) => ExitStatus::Internal.into(),
    }
}

/// Help and version print as clap renders them; a usage error becomes one line, exit 2.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let rendered = e.render().to_string();
    let first = rendered
        .lines()
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ");
    eprintln!("tenable-rotate: {first}; see tenable-rotate --help");
    ExitStatus::BadInput.into()
}
