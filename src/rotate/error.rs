//! Rotation failures, each saying where the Tenable password stands and what to do (style
//! rule 6: what happened; what to do; the password's state).
//!
//! The state is never guessed (issue 10, rule 1). "Not changed" is said only when it was
//! proven: nothing that changes a password was sent, Tenable refused the change, or a login
//! with the old password succeeded after an unclear answer. Everything else after a change
//! was sent is "unknown", with its own exit code (7), so Keeper's rollback setting can be
//! chosen knowing the difference.

use std::fmt;

use crate::tenable::TenableError;

/// Where the Tenable password stands after a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordState {
    /// Tenable holds the new password: its answer said so, or a login proved it.
    Changed,
    /// Tenable already held the new password (a re-run), proven by a login.
    InSync,
    /// Tenable holds what it held before, proven as the module doc says.
    NotChanged,
    /// A change was sent and nothing proved whether it landed.
    Unknown,
    /// Several credentials: some changed, one failed.
    Partial,
}

impl PasswordState {
    /// Stable name for JSON output (`password_state`).
    pub fn id(self) -> &'static str {
        match self {
            PasswordState::Changed => "changed",
            PasswordState::InSync => "in-sync",
            PasswordState::NotChanged => "not-changed",
            PasswordState::Unknown => "unknown",
            PasswordState::Partial => "partial",
        }
    }
}

impl fmt::Display for PasswordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PasswordState::Changed => "the Tenable password was changed",
            PasswordState::InSync => "the Tenable password already was the new one",
            PasswordState::NotChanged => {
                "the Tenable password was not changed; re-running is safe"
            }
            PasswordState::Unknown => {
                "the Tenable password state is UNKNOWN: the change was sent and nothing proved whether it landed; before Keeper rolls back, check it in Tenable (for a user, log in with the new password from the vault); re-running is safe, it proves the state before reporting"
            }
            PasswordState::Partial => {
                "some credentials hold the new password and others the old: do not let Keeper roll back the vault blindly; re-running is safe: credentials already changed are set to the same password again"
            }
        })
    }
}

/// What became of the credentials already changed when a later one failed (all or nothing,
/// unless `tenable_on_partial_failure` = `keep`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Restore {
    /// Not set back; they hold the new password.
    Kept {
        /// Why not.
        why: &'static str,
    },
    /// Each was set back to the old password, so none is left changed.
    AllRestored,
    /// Setting back failed for some.
    Failed {
        /// Those not set back, quoted.
        failed: String,
        /// Whether an answer was unclear (their state is then unknown).
        unknown: bool,
    },
}

impl fmt::Display for Restore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Restore::Kept { why } => write!(
                f,
                "they keep the new password ({why}); {}",
                PasswordState::Partial
            ),
            Restore::AllRestored => f.write_str(
                "each was set back to the old password, so no credential is left changed; re-running is safe",
            ),
            Restore::Failed { failed, unknown } => write!(
                f,
                "setting back failed for {failed}: {}; {}",
                if *unknown {
                    "each may hold either password (unknown)"
                } else {
                    "each holds the new password"
                },
                PasswordState::Partial
            ),
        }
    }
}

/// Why a verifying login did not prove the new password: refused, or not completed.
struct VerifyWhy<'a>(&'a Option<Box<TenableError>>);

impl fmt::Display for VerifyWhy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str(
                "it does not log in: the account may be locked, disabled or single sign-on only",
            ),
            Some(error) => write!(f, "the login to verify it did not complete ({error})"),
        }
    }
}

/// The state of the credential that stopped a run part way, in words about that credential
/// alone: the run's own state follows from what became of those changed before it.
struct ThatCredential<'a>(&'a PasswordState);

impl fmt::Display for ThatCredential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            PasswordState::NotChanged => f.write_str("that credential was not changed"),
            PasswordState::Unknown => f.write_str(
                "that credential's password is UNKNOWN: its change was sent and nothing proved whether it landed; before Keeper rolls back, look at its last change in Tenable",
            ),
            other => other.fmt(f),
        }
    }
}

/// What became of each credential of a run that failed part way.
#[derive(Debug, Clone)]
pub struct Partial {
    /// Whether those changed were set back.
    pub outcome: Restore,
    /// Every credential of the run, in order, with its own result.
    pub items: Vec<super::Item>,
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.outcome.fmt(f)
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
        /// Where the password stands: `NotChanged` or `Unknown`.
        state: PasswordState,
    },
    /// The change was sent, its answer proved nothing, and a login with the OLD password
    /// then succeeded: the change did not land.
    #[error(
        "{source}; a login with the old password still works, so the change did not land; {}",
        PasswordState::NotChanged
    )]
    NotApplied {
        /// The unclear answer.
        source: TenableError,
    },
    /// The change was acknowledged but the new password did not log in: Tenable refused it,
    /// or the login itself failed (then nothing was learnt about the password).
    #[error(
        "Tenable accepted the new password for {target} but {} (tenable_verify = login); the Tenable password state is UNKNOWN: Tenable said it changed it, and no login confirmed it; before Keeper rolls back, check it in Tenable (log in with the new password from the vault); re-running is safe, it proves the state before reporting",
        VerifyWhy(.login_error)
    )]
    VerifyFailed {
        /// What was changed.
        target: String,
        /// Why the login did not prove it: `None` when Tenable refused it.
        login_error: Option<Box<TenableError>>,
    },
    /// Some credentials changed before one failed; `restore` says what became of them.
    #[error(
        "{source}; {}; before it, {done} had been changed: {restore}",
        ThatCredential(.state)
    )]
    Partial {
        /// The credentials changed before the failure, quoted.
        done: String,
        /// The failure.
        source: TenableError,
        /// The failed credential's state: `NotChanged` or `Unknown`.
        state: PasswordState,
        /// Whether those were set back, and each credential's result.
        restore: Box<Partial>,
    },
    /// No target was set and the name is a managed credential too: refuse to guess.
    #[error(
        "no tenable_target is set and '{name}' is {what} in {platform}; a record set up for Keeper's credential sample rotates a credential, for its user sample a user: set tenable_target = user or tenable_target = credential (or attach the drop-in for that sample); {}",
        PasswordState::NotChanged
    )]
    TargetUnclear {
        /// The name.
        name: String,
        /// What the name is, e.g. "a user and a managed credential".
        what: &'static str,
        /// The platform.
        platform: crate::tenable::Platform,
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

    /// Where the password stands after this failure.
    pub fn state(&self) -> PasswordState {
        match self {
            RotateError::Tenable { state, .. } => *state,
            RotateError::NotApplied { .. } | RotateError::TargetUnclear { .. } => {
                PasswordState::NotChanged
            }
            RotateError::VerifyFailed { .. } => PasswordState::Unknown,
            RotateError::Partial { state, restore, .. } => match (&restore.outcome, state) {
                (_, PasswordState::Unknown) | (Restore::Failed { unknown: true, .. }, _) => {
                    PasswordState::Unknown
                }
                (Restore::AllRestored, state) => *state,
                _ => PasswordState::Partial,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use crate::tenable::Platform;

    fn rejected() -> TenableError {
        TenableError::Rejected {
            platform: Platform::Vm,
            target: "user 'bob'".to_owned(),
            status: 400,
            message: None,
            request_id: None,
        }
    }

    fn partial(outcome: Restore, state: PasswordState) -> RotateError {
        RotateError::Partial {
            done: "'alice'".to_owned(),
            source: rejected(),
            state,
            restore: Box::new(Partial {
                outcome,
                items: Vec::new(),
            }),
        }
    }

    fn exit_code(e: RotateError) -> u8 {
        Error::from(e).exit_status().code()
    }

    #[test]
    fn password_states_have_stable_json_names() {
        for (state, id) in [
            (PasswordState::Changed, "changed"),
            (PasswordState::InSync, "in-sync"),
            (PasswordState::NotChanged, "not-changed"),
            (PasswordState::Unknown, "unknown"),
            (PasswordState::Partial, "partial"),
        ] {
            assert_eq!(state.id(), id);
        }
    }

    #[test]
    fn each_state_says_where_the_password_stands_and_whether_to_rerun() {
        for (state, words) in [
            (PasswordState::Changed, "the Tenable password was changed"),
            (PasswordState::InSync, "already was the new one"),
            (
                PasswordState::NotChanged,
                "was not changed; re-running is safe",
            ),
            (
                PasswordState::Unknown,
                "state is UNKNOWN: the change was sent and nothing proved whether it landed; before Keeper rolls back, check it in Tenable",
            ),
            (PasswordState::Partial, "re-running is safe"),
        ] {
            let text = state.to_string();
            assert!(text.contains(words), "{text}");
        }
        let failed = RotateError::Tenable {
            source: rejected(),
            state: PasswordState::Unknown,
        };
        assert!(
            failed
                .to_string()
                .ends_with(&PasswordState::Unknown.to_string())
        );
    }

    #[test]
    fn a_failed_verify_says_whether_the_login_was_refused_or_did_not_complete() {
        let verify = |login_error| {
            RotateError::VerifyFailed {
                target: "user 'bob'".to_owned(),
                login_error,
            }
            .to_string()
        };
        let refused = verify(None);
        assert!(
            refused.starts_with("Tenable accepted the new password for user 'bob' but it does not log in: the account may be locked, disabled or single sign-on only (tenable_verify = login); the Tenable password state is UNKNOWN"),
            "{refused}"
        );
        // Tenable's answer said changed: the state says so, not that nothing proved it.
        assert!(
            refused.ends_with("the Tenable password state is UNKNOWN: Tenable said it changed it, and no login confirmed it; before Keeper rolls back, check it in Tenable (log in with the new password from the vault); re-running is safe, it proves the state before reporting"),
            "{refused}"
        );
        assert!(
            !refused.contains("nothing proved whether it landed"),
            "{refused}"
        );
        let lost = verify(Some(Box::new(rejected())));
        assert!(
            lost.starts_with("Tenable accepted the new password for user 'bob' but the login to verify it did not complete (Tenable Vulnerability Management rejected"),
            "{lost}"
        );
        assert!(!lost.contains("does not log in"), "{lost}");
    }

    #[test]
    fn a_partial_failure_says_what_became_of_the_credentials_already_changed() {
        for (outcome, words) in [
            (
                Restore::Kept {
                    why: "tenable_on_partial_failure = keep",
                },
                "before it, 'alice' had been changed: they keep the new password (tenable_on_partial_failure = keep); some credentials hold the new password and others the old",
            ),
            (
                Restore::AllRestored,
                "before it, 'alice' had been changed: each was set back to the old password, so no credential is left changed",
            ),
            (
                Restore::Failed {
                    failed: "'carol'".to_owned(),
                    unknown: false,
                },
                "setting back failed for 'carol': each holds the new password; some credentials hold the new password and others the old: do not let Keeper roll back the vault blindly; re-running is safe",
            ),
            (
                Restore::Failed {
                    failed: "'carol'".to_owned(),
                    unknown: true,
                },
                "setting back failed for 'carol': each may hold either password (unknown)",
            ),
        ] {
            let text = partial(outcome, PasswordState::NotChanged).to_string();
            assert!(text.contains(words), "{text}");
            // The failed credential's state is said of it alone, not of the whole run.
            assert!(
                text.contains("; that credential was not changed; before it, 'alice'"),
                "{text}"
            );
            assert!(
                !text.contains("the Tenable password was not changed"),
                "{text}"
            );
        }
        let unknown = partial(Restore::AllRestored, PasswordState::Unknown).to_string();
        assert!(
            unknown.contains(
                "; that credential's password is UNKNOWN: its change was sent and nothing proved whether it landed; before Keeper rolls back, look at its last change in Tenable; before it,"
            ),
            "{unknown}"
        );
    }

    #[test]
    fn a_partial_failure_is_unknown_whenever_any_credential_may_hold_either_password() {
        let kept = || Restore::Kept { why: "keep" };
        let failed = |unknown| Restore::Failed {
            failed: "'carol'".to_owned(),
            unknown,
        };
        use PasswordState::{NotChanged, Partial, Unknown};
        for (outcome, failed_state, state, code) in [
            // All set back: the run stands as the failed credential does.
            (Restore::AllRestored, NotChanged, NotChanged, 5),
            (Restore::AllRestored, Unknown, Unknown, 7),
            // Some keep the new password: partial (exit 8, never a code that means "not
            // changed"), unless one may hold either.
            (kept(), NotChanged, Partial, 8),
            (kept(), Unknown, Unknown, 7),
            (failed(false), NotChanged, Partial, 8),
            (failed(true), NotChanged, Unknown, 7),
            (failed(false), Unknown, Unknown, 7),
        ] {
            let what = format!("{outcome:?} with {failed_state:?}");
            let e = partial(outcome, failed_state);
            assert_eq!(e.state(), state, "{what}");
            assert_eq!(exit_code(e), code, "{what}");
        }
    }
}
