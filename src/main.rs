//! `tenable-rotate`: parse the command line, run, map the result to an exit status.
//! Everything else lives in the library; see `src/lib.rs`.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use tenable_rotate::cli::{self, Cli};
use tenable_rotate::exit::ExitStatus;

fn main() -> ExitCode {
    // The run's deadline counts from here, and no secret is read before core dumps are off.
    tenable_rotate::clock::mark_start();
    tenable_rotate::harden::no_core_dumps();
    // A panic must not print its message: it could quote a value from the payload. Nor may
    // the hook itself fail: a write to a closed stderr is ignored (issue 10, row 9).
    std::panic::set_hook(Box::new(|info| {
        let (file, line) = info
            .location()
            .map(|l| (l.file(), l.line()))
            .unwrap_or(("?", 0));
        let _ = writeln!(
            std::io::stderr(),
            "tenable-rotate: internal error at {file}:{line} (a bug; please report it); the Tenable password state is not known: check it in Tenable before re-running"
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match std::panic::catch_unwind(|| {
        test_only_panic();
        cli::run(cli)
    }) {
        Ok(status) => status.into(),
        Err(_) => ExitStatus::Internal.into(),
    }
}

/// A test-only way to reach the panic path from outside (issue 15, item 4): a debug build
/// panics here when `TENABLE_ROTATE_TEST_PANIC` is set, so the end-to-end suite proves that a
/// panic is exit 1 with the one safe line. Release builds compile it to nothing (the suite
/// proves that against the static release binary too).
#[cfg(debug_assertions)]
fn test_only_panic() {
    if std::env::var_os("TENABLE_ROTATE_TEST_PANIC").is_some() {
        panic!("TENABLE_ROTATE_TEST_PANIC is set (debug builds only)");
    }
}

#[cfg(not(debug_assertions))]
fn test_only_panic() {}

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
    let _ = writeln!(
        std::io::stderr(),
        "tenable-rotate: {first}; see tenable-rotate --help"
    );
    ExitStatus::BadInput.into()
}
