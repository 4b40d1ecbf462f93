//! The exit-code table: the only place an exit code is chosen.
//!
//! Keeper's gateway judges a post-rotation program by its exit status alone, so each code
//! means one thing an administrator can act on. README.md and `docs/keeper-setup.md` mirror
//! this table, and a test keeps them in step.

/// One exit status of the program, with the meaning documented for gateway administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the Tenable password now equals the new password (changed, or already in sync).
    Success,
    /// 1: an internal error (a bug); the Tenable password state is not known.
    Internal,
    /// 2: bad input or configuration (payload, record fields, flags, environment).
    BadInput,
    /// 3: Tenable refused the API keys, or their user lacks the rights needed.
    AuthRefused,
    /// 4: the user or credential to change was not found, or more than one matched.
    NotFound,
    /// 5: Tenable rejected the change (wrong current password, password policy).
    Rejected,
    /// 6: network failure, TLS failure, timeout, Tenable unavailable, or an answer that is
    /// not usable; the Tenable password was not changed (proven).
    Unavailable,
    /// 7: a change was sent and nothing proved whether it landed; the Tenable password state
    /// is unknown.
    Unknown,
    /// 8: several credentials matched one account and a later one failed after earlier ones
    /// were changed: some hold the new password and some the old, each proven and named.
    Partial,
}

impl ExitStatus {
    /// The numeric status handed to the operating system.
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Internal => 1,
            ExitStatus::BadInput => 2,
            ExitStatus::AuthRefused => 3,
            ExitStatus::NotFound => 4,
            ExitStatus::Rejected => 5,
            ExitStatus::Unavailable => 6,
            ExitStatus::Unknown => 7,
            ExitStatus::Partial => 8,
        }
    }

    /// Every status, in code order; used to render and check the documented table.
    pub const ALL: [ExitStatus; 9] = [
        ExitStatus::Success,
        ExitStatus::Internal,
        ExitStatus::BadInput,
        ExitStatus::AuthRefused,
        ExitStatus::NotFound,
        ExitStatus::Rejected,
        ExitStatus::Unavailable,
        ExitStatus::Unknown,
        ExitStatus::Partial,
    ];

    /// A stable short name, used as `outcome` in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::Internal => "internal-error",
            ExitStatus::BadInput => "bad-input",
            ExitStatus::AuthRefused => "auth-refused",
            ExitStatus::NotFound => "not-found",
            ExitStatus::Rejected => "rejected",
            ExitStatus::Unavailable => "unavailable",
            ExitStatus::Unknown => "unknown",
            ExitStatus::Partial => "partial",
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code())
    }
}
