//! The top-level error: each layer's error, and the one exit status each maps to.

use crate::config::ConfigError;
use crate::exit::ExitStatus;
use crate::keeper::KeeperError;
use crate::rotate::{PasswordState, RotateError};
use crate::tenable::TenableError;

/// Why a run failed. `Display` is the one line printed on stderr.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The gateway payload or its records.
    #[error("{0}; the Tenable password was not changed")]
    Keeper(#[from] KeeperError),
    /// Settings from the record, environment or flags.
    #[error("{0}; the Tenable password was not changed")]
    Config(#[from] ConfigError),
    /// The rotation itself (boxed: it carries the most, and errors travel by value).
    #[error(transparent)]
    Rotate(Box<RotateError>),
    /// A command-line mistake, or a subcommand's own input (standalone passwords).
    #[error("{0}")]
    Usage(String),
    /// The emulator could not start.
    #[error("cannot start the emulator: {0}; choose another --listen port, or free the one given")]
    Emulator(std::io::Error),
}

impl From<RotateError> for Error {
    fn from(e: RotateError) -> Self {
        Error::Rotate(Box::new(e))
    }
}

impl Error {
    /// The exit status for this error (the table in `exit`).
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            Error::Keeper(_) | Error::Config(_) | Error::Usage(_) => ExitStatus::BadInput,
            Error::Emulator(_) => ExitStatus::Unavailable,
            Error::Rotate(e) if e.state() == PasswordState::Unknown => ExitStatus::Unknown,
            // Some credentials hold the new password: no code of a single failure says that
            // (2 to 6 each mean "not changed", on which rolling the vault back is right).
            Error::Rotate(e) if e.state() == PasswordState::Partial => ExitStatus::Partial,
            Error::Rotate(e) => match e.as_ref() {
                RotateError::Tenable { source, .. } | RotateError::Partial { source, .. } => {
                    tenable_status(source)
                }
                RotateError::NotApplied { .. } => ExitStatus::Unavailable,
                RotateError::TargetUnclear { .. } => ExitStatus::BadInput,
                RotateError::VerifyFailed { .. } => ExitStatus::Unknown,
            },
        }
    }

    /// Where the Tenable password stands after this error.
    pub fn password_state(&self) -> PasswordState {
        match self {
            Error::Rotate(e) => e.state(),
            _ => PasswordState::NotChanged,
        }
    }
}

/// The exit status for a Tenable failure that left the password unchanged.
fn tenable_status(error: &TenableError) -> ExitStatus {
    match error {
        TenableError::Transport(t) if t.is_configuration() => ExitStatus::BadInput,
        TenableError::KeysRefused { .. } | TenableError::Forbidden { .. } => {
            ExitStatus::AuthRefused
        }
        TenableError::NotFound { .. } | TenableError::Ambiguous { .. } => ExitStatus::NotFound,
        TenableError::Rejected { .. } => ExitStatus::Rejected,
        // The configuration points at a credential that cannot hold a password.
        TenableError::NoPasswordField { .. } => ExitStatus::BadInput,
        _ => ExitStatus::Unavailable,
    }
}
