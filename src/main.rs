//! `tenable-rotate`: parse the command line, run, map the result to an exit status.
//! Everything else lives in the library; see `src/lib.rs`.

use std::io::Write;
use std::process::ExitCode;

use tenable_rotate::cli;
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
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    let json = cli.wants_json();
    match std::panic::catch_unwind(|| {
        test_only_panic();
        cli::run(cli)
    }) {
        Ok(status) => status.into(),
        Err(_) => {
            if json {
                // The one JSON object a caller parses, from text we wrote: nothing of the run.
                let _ = writeln!(
                    std::io::stdout(),
                    "{}",
                    serde_json::json!({
                        "outcome": ExitStatus::Internal.name(),
                        "exit_code": ExitStatus::Internal.code(),
                        "password_state": "unknown",
                        "error": "internal error (a bug; please report it); the Tenable password state is not known: check it in Tenable before re-running",
                    })
                );
            }
            ExitStatus::Internal.into()
        }
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

/// Help and version print as clap renders them, exit 0. A usage error keeps clap's whole
/// message (what is missing or wrong, a similar subcommand or flag, the subcommand's usage
/// line), styled only on a terminal; exit 2. No secret can be in it: none comes from argv.
fn clap_error(e: clap::Error) -> ExitCode {
    // A closed stdout or stderr is not a failure of its own.
    let _ = e.print();
    if e.use_stderr() {
        ExitStatus::BadInput.into()
    } else {
        ExitStatus::Success.into()
    }
}
