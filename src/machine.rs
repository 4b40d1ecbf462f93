//! The machine interface: one JSON request on stdin, one JSON result on stdout.
//!
//! For programs that drive tenable-rotate, such as Keeper's SaaS rotation plugin
//! (`plugin/`): every setting and every secret arrives in one JSON object through a pipe,
//! never in argv (which every local user can list) or the environment (which child
//! processes inherit). The result is the same object `--output json` prints, with
//! `operation` added, and the exit status is the same table as everywhere else.
//!
//! Operations:
//! - `rotate`: set `new_password` (`old_password` is the current one, sent where Tenable wants
//!   it and used to prove an unclear answer);
//! - `check`: find the user or credentials and change nothing;
//! - `rollback`: set `old_password` back (the prior one), with `new_password` as the current
//!   one, and prove it: a user's prior password must log in afterwards. For several
//!   credentials the run is all or nothing, as a rotation is.
//!
//! A request that cannot be read is exit 2 with a message that names a position, never a
//! value: serde's own messages quote values, and here a value may be a password.

use std::io::Read;

use serde::Deserialize;
use serde_json::Value;

use crate::app::RunContext;
use crate::config::{self, Environment, Overrides, Sources};
use crate::error::Error;
use crate::rotate::{self, Mode, Passwords, Report};
use crate::secret::Secret;

/// Largest request accepted; a real one is well under a kilobyte plus a CA certificate.
pub const MAX_REQUEST_BYTES: u64 = 256 * 1024;

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Set the new password.
    Rotate,
    /// Look, change nothing.
    Check,
    /// Set the prior password back and prove it.
    Rollback,
}

impl Operation {
    /// The name used in the result.
    pub fn id(self) -> &'static str {
        match self {
            Operation::Rotate => "rotate",
            Operation::Check => "check",
            Operation::Rollback => "rollback",
        }
    }
}

/// One request. Unknown fields are refused: a misspelt setting must not pass silently.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    operation: Operation,
    /// The Tenable username, or the account whose credentials to update.
    user: String,
    access_key: Secret,
    secret_key: Secret,
    #[serde(default)]
    new_password: Option<Secret>,
    #[serde(default)]
    old_password: Option<Secret>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    sc_host: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    credential_name: Option<String>,
    #[serde(default)]
    credential_match: Option<String>,
    #[serde(default)]
    verify: Option<String>,
    #[serde(default)]
    on_partial_failure: Option<String>,
    #[serde(default)]
    ca_pem: Option<String>,
    #[serde(default)]
    timeout: Option<u64>,
}

/// Reads one request from `input` and runs it. Returns the operation (when it could be read)
/// and the result; `ctx` learns every secret, for the printing.
pub fn run(input: impl Read, ctx: &mut RunContext) -> (Option<Operation>, Result<Report, Error>) {
    let mut raw = zeroize::Zeroizing::new(Vec::new());
    if let Err(e) = input.take(MAX_REQUEST_BYTES + 1).read_to_end(&mut raw) {
        return (
            None,
            Err(usage(format!("could not read the request ({})", e.kind()))),
        );
    }
    if raw.len() as u64 > MAX_REQUEST_BYTES {
        return (
            None,
            Err(usage(format!(
                "the request is larger than {MAX_REQUEST_BYTES} bytes"
            ))),
        );
    }
    let request: Request = match serde_json::from_slice(&raw) {
        Ok(r) => r,
        Err(e) => {
            let what = match e.classify() {
                serde_json::error::Category::Data => {
                    "has a field of the wrong type, an unknown field, or lacks a required one (operation, user, access_key, secret_key)"
                }
                _ => "is not valid JSON",
            };
            return (
                None,
                Err(usage(format!(
                    "the request {what} (line {}, column {})",
                    e.line(),
                    e.column()
                ))),
            );
        }
    };
    drop(raw);
    let operation = request.operation;
    (Some(operation), execute(request, ctx))
}

fn usage(text: String) -> Error {
    Error::Usage(format!(
        "{text}; send one JSON object on standard input (see README: machine interface); the Tenable password was not changed"
    ))
}

fn execute(request: Request, ctx: &mut RunContext) -> Result<Report, Error> {
    for secret in [&request.access_key, &request.secret_key]
        .into_iter()
        .chain(request.new_password.iter())
        .chain(request.old_password.iter())
    {
        ctx.redactor.add(secret);
    }
    let mode = match request.operation {
        Operation::Check => Mode::Check,
        _ => Mode::Apply,
    };
    ctx.mode = Some(mode);
    let empty = Secret::from("");
    let new = request
        .new_password
        .clone()
        .unwrap_or_else(|| empty.clone());
    let old = request
        .old_password
        .clone()
        .unwrap_or_else(|| empty.clone());
    // A rollback sets the prior password back: the roles swap.
    let passwords = match request.operation {
        Operation::Rollback => Passwords { new: old, old: new },
        _ => Passwords { new, old },
    };
    if mode == Mode::Apply && passwords.new.is_empty() {
        let field = match request.operation {
            Operation::Rollback => "old_password (the prior password to set back)",
            _ => "new_password",
        };
        return Err(usage(format!("the request has no {field}")));
    }
    // The settings go through the same checks as the environment's, from a private
    // snapshot: nothing is put in the process environment.
    let mut env = Environment::default();
    let pairs: [(&'static str, Option<String>); 9] = [
        (config::env::URL, request.url.clone()),
        (config::env::SC_HOST, request.sc_host.clone()),
        (config::env::TARGET, request.target.clone()),
        (
            config::env::CREDENTIAL_NAME,
            request.credential_name.clone(),
        ),
        (
            config::env::CREDENTIAL_MATCH,
            request.credential_match.clone(),
        ),
        (config::env::VERIFY, request.verify.clone()),
        (
            config::env::ON_PARTIAL_FAILURE,
            request.on_partial_failure.clone(),
        ),
        (config::env::TIMEOUT, request.timeout.map(|t| t.to_string())),
        (
            config::env::ACCESS_KEY,
            Some(request.access_key.expose().to_owned()),
        ),
    ];
    for (name, value) in pairs {
        if let Some(v) = value {
            env = env.with(name, &v);
        }
    }
    env = env.with(config::env::SECRET_KEY, request.secret_key.expose());
    let mut settings = config::resolve(&Sources {
        user: &request.user,
        record: None,
        env: &env,
        file: None,
        flags: &Overrides::default(),
    })?;
    settings.key_source = "the request".to_owned();
    settings.transport.ca_pem = request.ca_pem.clone();
    if request.operation == Operation::Rollback {
        // Proven, not assumed: the prior password must log in afterwards.
        settings.verify_login = true;
    }
    crate::app::note_settings(ctx, &settings);
    Ok(rotate::run(&settings, &passwords, mode)?)
}

/// The result object: `--output json`'s, with `operation` added.
pub fn result_json(
    ctx: &RunContext,
    operation: Option<Operation>,
    result: &Result<Report, Error>,
) -> Value {
    let mut json = crate::app::json_report(ctx, result);
    if let Some(map) = json.as_object_mut() {
        map.insert(
            "operation".into(),
            operation.map_or(Value::Null, |o| Value::from(o.id())),
        );
        if operation == Some(Operation::Rollback) {
            map.insert("mode".into(), Value::from("rollback"));
        }
    }
    json
}
