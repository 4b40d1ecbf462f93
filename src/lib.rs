//! tenable-rotate: keeps Tenable passwords in step with Keeper PAM password rotation.
//!
//! Keeper PAM rotates a password, then runs the PAM scripts attached to the record on the
//! Keeper Gateway, piping one base64 line to each. This crate is such a script: it reads that
//! line, finds the Tenable API keys in the attached records, and changes the matching
//! password in Tenable Vulnerability Management or Tenable Security Center, for a user or for
//! managed scan credentials. Only the exit status counts; nothing it prints carries a secret.
//!
//! Layers, each knowing nothing of the ones above it:
//! - [`keeper`]: the gateway's stdin contract and record lookup (no HTTP).
//! - [`transport`]: one HTTP client: URL rules, trust, timeouts, retries, deadline.
//! - [`tenable`]: one narrow client per platform over the transport.
//! - [`config`]: where settings come from (flags, environment, record, defaults).
//! - [`rotate`]: one rotation, joining the two sides; never applies a change twice.
//! - [`app`], [`cli`]: subcommands and output; [`exit`] is the exit-code table.
//! - [`emulator`]: an in-process Tenable stand-in on loopback for `demo`, tests and benchmarks.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod app;
pub mod audit;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod discover;
pub mod emulator;
pub mod error;
pub mod exit;
pub mod harden;
pub mod keeper;
pub mod machine;
pub mod rotate;
pub mod secret;
pub mod tenable;
pub mod transport;
pub mod untrusted;

/// The build id in the User-Agent: `VERSION+COMMIT`.
pub const BUILD: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    "+",
    env!("TENABLE_ROTATE_COMMIT")
);

/// What `--version` prints after the name: version, git commit and target.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("TENABLE_ROTATE_COMMIT"),
    ", ",
    env!("TENABLE_ROTATE_TARGET"),
    ")"
);
