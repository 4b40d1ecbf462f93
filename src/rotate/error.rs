//! Rotation failures, each saying where the Tenable password stands and whether a re-run is
//! safe (style rule 6: what happened; what to do; the password's state).

use std::fmt;

use crate::tenable::TenableError;

/// Where the Tenable password stands after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// Nothing was changed; re-running is safe.
    NotChanged,
    /// A change may or may not have landed.
    Unknown,
    /// Some credentials were changed and others not.
    Partial,
}

impl fmt::Display for PasswordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PasswordState::NotChanged => "the Tenable password was not changed; re-running is safe",
            PasswordState::Unknown => "whether the Tenable password changed is unknown; check it in Tenable before re-running",
            PasswordState::Partial => "re-running is safe: credentials already changed are set to the same password again",
        })
    }
}

/// A rotation that did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RotateError {
    /// Tenable failed or refused; `state` says what that left behind.
    #[error("{source}; {state}")]
    Tenable {
        /// What Tenable said, or the network failure.
        source: TenableError,
        /// Where the password stands.
        state: PasswordState,
    },
    /// The change was sent, the answer was lost, and the new password does not log in.
    #[error(
        "{source}; the new password does not log in, so the change did not land; the Tenable password was not changed; re-running is safe"
    )]
    NotApplied {
        /// The lost answer.
        source: TenableError,
    },
    /// The change was acknowledged but the new password does not log in.
    #[error(
        "Tenable accepted the new password for {target} but it does not log in (tenable_verify = login); check the account in Tenable (locked, disabled, or single sign-on only)"
    )]
    VerifyFailed {
        /// What was changed.
        target: String,
    },
    /// Some credentials changed before one failed.
    #[error("changed {done} before {source}; {}", PasswordState::Partial)]
    Partial {
        /// The credentials already changed, quoted.
        done: String,
        /// The failure.
        source: TenableError,
    },
}

impl RotateError {
    /// A failure before anything was sent that changes a password.
    pub fn before_change(source: TenableError) -> RotateError {
        RotateError::Tenable {
            source,
            state: PasswordState::NotChanged,
        }
    }
}
