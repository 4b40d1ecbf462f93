//! The subcommands' work, shared by `main` and `demo`: read input, build settings, rotate,
//! and render the result as one line of text or one JSON object.

use std::io::{BufRead, Read};
use std::time::Duration;

use serde_json::{Value, json};

use crate::config::{
    self, ConfigFile, DEFAULT_KEY_RECORD_TITLE, Environment, Overrides, Sources, field,
};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::keeper;
use crate::rotate::{self, Mode, PasswordState, Passwords, Report};
use crate::secret::{Redactor, Secret};
use crate::untrusted;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One line: the summary on stdout, or the error on stderr.
    Text,
    /// One JSON object on stdout (and the error line on stderr too).
    Json,
}

/// What is known about a run so far, for the failure report.
#[derive(Debug, Default)]
pub struct RunContext {
    /// `rotate` or `check`.
    pub mode: Option<Mode>,
    /// Platform id once known.
    pub platform: Option<&'static str>,
    /// Base URL once known.
    pub base_url: Option<String>,
    /// `user` or `credential` once known.
    pub target: Option<&'static str>,
    /// Every secret seen so far (passwords, keys, the whole gateway line), for the last
    /// check of everything printed.
    pub redactor: Redactor,
    /// The payload's record UIDs (`user`, `provider`, `resource`), for the audit line.
    pub record_uids: Vec<(&'static str, String)>,
    /// Where the keys came from, once known (for the audit line).
    pub key_source: Option<String>,
}

impl RunContext {
    /// A context that already knows the secrets in the environment.
    pub fn with_env(env: &Environment) -> RunContext {
        let mut ctx = RunContext::default();
        for name in [
            config::env::ACCESS_KEY,
            config::env::SECRET_KEY,
            config::env::NEW_PASSWORD,
            config::env::OLD_PASSWORD,
        ] {
            if let Some(secret) = env.secret(name) {
                ctx.redactor.add(secret);
            }
        }
        ctx
    }

    /// `text` made safe to print as one line (see [`untrusted::line`]); `fallback` is what
    /// is printed if it still quotes a secret.
    pub fn line(&self, text: &str, fallback: &str) -> String {
        untrusted::line(text, &self.redactor, fallback)
    }
}

impl RunContext {
    /// The JSON report as one line. serde escapes control characters and every string from
    /// outside was escaped and capped when the object was built, so this only screens it,
    /// string by string ([`Redactor::screen_json`]): every member stays, so `exit_code` and
    /// `password_state` are always there to read, and a string that still quotes a secret
    /// once redacted is withheld alone.
    pub fn json_line(&self, json: &Value) -> String {
        self.redactor.screen_json(json.clone())
    }
}

/// The deadline for a run, as the environment or the settings file set it (the default
/// otherwise); reading stdin is bounded by it too, before the rest of the settings exist.
pub fn deadline_budget(env: &Environment, file: Option<&ConfigFile>) -> Duration {
    env.get(config::env::TIMEOUT)
        .map(str::to_owned)
        .or_else(|| file.and_then(|f| f.timeout.clone()))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| (1..=3600).contains(s))
        .map_or(
            crate::transport::TransportConfig::default().deadline,
            Duration::from_secs,
        )
}

/// Reads the gateway's line from `input` on a thread of its own, waiting at most until the
/// run's deadline (issue 10, row 10: a pipe held open with no line break must not keep the
/// run alive). The reading thread is left behind on a timeout; the process ends anyway.
pub fn read_gateway_line(
    input: impl Read + Send + 'static,
    budget: Duration,
) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(keeper::read_line(input));
    });
    match rx.recv_timeout(crate::clock::remaining(budget)) {
        Ok(line) => Ok(line?),
        Err(_) => Err(keeper::KeeperError::StdinTimeout {
            seconds: budget.as_secs(),
        }
        .into()),
    }
}

/// Reads the settings file named by `--config`, else by `TENABLE_ROTATE_CONFIG`, if either.
pub fn load_config_file(
    flag: Option<&std::path::Path>,
    env: &Environment,
) -> Result<Option<ConfigFile>, Error> {
    let path = flag
        .map(std::path::Path::to_path_buf)
        .or_else(|| env.get(config::env::CONFIG).map(std::path::PathBuf::from));
    Ok(path.map(|p| ConfigFile::load(&p)).transpose()?)
}

/// The Keeper path: the gateway's stdin payload, then a rotation (or a check).
///
/// The key record is required unless the environment or the settings file gives the keys.
pub fn keeper(
    input: impl Read + Send + 'static,
    env: &Environment,
    file: Option<&ConfigFile>,
    flags: &Overrides,
    mode: Mode,
    ctx: &mut RunContext,
) -> Result<Report, Error> {
    ctx.mode = Some(mode);
    let line = read_gateway_line(input, deadline_budget(env, file))?;
    let payload = keeper::parse_payload(&line)?;
    // The whole line is a secret too, once it is known to be a payload: a line that is not one
    // may be plain words, whose fragments would then blank out words of our own messages (and
    // the payload errors name positions, never text).
    if let Ok(text) = std::str::from_utf8(&line) {
        ctx.redactor.add_text(text);
    }
    drop(line);
    for (name, uid) in [
        ("user", &payload.user_record_uid),
        ("provider", &payload.provider_record_uid),
        ("resource", &payload.resource_record_uid),
    ] {
        if let Some(uid) = uid {
            ctx.record_uids.push((name, uid.clone()));
        }
    }
    ctx.redactor.add(&payload.new_password);
    ctx.redactor.add(&payload.old_password);
    for record in &payload.records {
        for secret in record.secret_values() {
            ctx.redactor.add(secret);
        }
    }
    let title = env
        .get(config::env::RECORD_TITLE)
        .or(file.and_then(|f| f.record_title.as_deref()))
        .unwrap_or(DEFAULT_KEY_RECORD_TITLE);
    // Either key counts, so that half a pair is reported as such, not as a missing record.
    let keys_elsewhere = [config::env::ACCESS_KEY, config::env::SECRET_KEY]
        .iter()
        .any(|k| env.secret(k).is_some())
        || file.is_some_and(|f| f.access_key.is_some() || f.secret_key.is_some());
    let record = match keeper::find_record(&payload.records, title, field::ACCESS_KEY) {
        Ok(record) => Some(record),
        Err(keeper::KeeperError::NoRecord { .. }) if keys_elsewhere => None,
        Err(e) => return Err(e.into()),
    };
    let settings = config::resolve(&Sources {
        user: &payload.user,
        record,
        env,
        file,
        flags,
    })?;
    note_settings(ctx, &settings);
    let passwords = Passwords {
        new: payload.new_password,
        old: payload.old_password,
    };
    Ok(rotate::run(&settings, &passwords, mode)?)
}

/// The standalone path: keys from the environment, passwords from the environment or from
/// stdin lines (first the new, then the old), everything else from flags. Never from argv.
pub fn standalone(
    input: impl Read,
    user: &str,
    env: &Environment,
    file: Option<&ConfigFile>,
    flags: &Overrides,
    mode: Mode,
    ctx: &mut RunContext,
) -> Result<Report, Error> {
    ctx.mode = Some(mode);
    let settings = config::resolve(&Sources {
        user,
        record: None,
        env,
        file,
        flags,
    })?;
    note_settings(ctx, &settings);
    let (new, old) = match passwords_from_env(env) {
        Some(both) => both,
        None if mode == Mode::Check => (Secret::from("unused-in-check"), Secret::from("")),
        None => read_password_lines(input)?,
    };
    ctx.redactor.add(&new);
    ctx.redactor.add(&old);
    if new.is_empty() {
        return Err(Error::Usage("the new password is empty; give it as the first line of standard input or in TENABLE_NEW_PASSWORD; the Tenable password was not changed".into()));
    }
    Ok(rotate::run(&settings, &Passwords { new, old }, mode)?)
}

/// Records where a run connects, for the report and the audit line, and adds the keys to the
/// run's redactor.
pub(crate) fn note_connection(ctx: &mut RunContext, settings: &config::Settings) {
    ctx.redactor.add(&settings.keys.access_key);
    ctx.redactor.add(&settings.keys.secret_key);
    ctx.platform = Some(settings.platform.id());
    ctx.base_url = Some(settings.base_url.as_str().to_owned());
    ctx.key_source = Some(settings.key_source.clone());
}

/// [`note_connection`], and what the run changes.
pub(crate) fn note_settings(ctx: &mut RunContext, settings: &config::Settings) {
    note_connection(ctx, settings);
    ctx.target = Some(match settings.target {
        config::Target::User(_) => "user",
        config::Target::Credentials(_) => "credential",
    });
}

/// Reads up to two lines from stdin: the new password, then the old one (optional).
/// The passwords from the environment (`TENABLE_NEW_PASSWORD`, `TENABLE_OLD_PASSWORD`; the
/// old one may be absent, which is empty), or `None` without a new one.
pub(crate) fn passwords_from_env(env: &Environment) -> Option<(Secret, Secret)> {
    let new = env.secret(config::env::NEW_PASSWORD)?.clone();
    let old = env
        .secret(config::env::OLD_PASSWORD)
        .cloned()
        .unwrap_or_else(|| Secret::from(""));
    Some((new, old))
}

fn read_password_lines(input: impl Read) -> Result<(Secret, Secret), Error> {
    let mut reader = std::io::BufReader::new(input.take(64 * 1024));
    let mut line = |what| -> Result<Secret, Error> {
        let mut buf = zeroize::Zeroizing::new(String::new());
        reader
            .read_line(&mut buf)
            .map_err(|e| Error::Usage(format!("could not read the {what} password from standard input ({}); the Tenable password was not changed", e.kind())))?;
        Ok(Secret::from(buf.trim_end_matches(['\r', '\n'])))
    };
    let new = line("new")?;
    let old = line("old")?;
    Ok((new, old))
}

/// The JSON object for a finished run. Every string from outside is escaped and capped;
/// the caller passes the whole object through the run's redactor as it prints it.
pub fn json_report(ctx: &RunContext, result: &Result<Report, Error>) -> Value {
    let mode = |m: Option<Mode>| match m {
        Some(Mode::Check) => "check",
        _ => "rotate",
    };
    let item_json = |i: &rotate::Item| {
        json!({
            "kind": i.kind,
            "name": untrusted::field(&i.name),
            "id": untrusted::field(&i.id),
            "type": i.credential_type.as_deref().map(untrusted::field),
            "result": i.result.id(),
        })
    };
    match result {
        Ok(r) => json!({
            "outcome": ExitStatus::Success.name(),
            "exit_code": 0,
            "password_state": r.state.id(),
            "mode": mode(Some(r.mode)),
            "platform": r.platform.id(),
            "base_url": r.base_url,
            "key_source": untrusted::field(&r.key_source),
            "target": r.target,
            "items": r.items.iter().map(item_json).collect::<Vec<_>>(),
            "request_ids": r.request_ids,
            "duration_ms": r.duration.as_millis() as u64,
            "error": Value::Null,
        }),
        Err(e) => {
            let status = e.exit_status();
            let state = match status {
                ExitStatus::Unknown | ExitStatus::Internal => PasswordState::Unknown,
                _ => e.password_state(),
            };
            json!({
                "outcome": status.name(),
                "exit_code": status.code(),
                "password_state": state.id(),
                "mode": mode(ctx.mode),
                "platform": ctx.platform,
                "base_url": ctx.base_url,
                "target": ctx.target,
                // A run that failed part way states each credential's result.
                "items": match e {
                    Error::Rotate(r) => match r.as_ref() {
                        rotate::RotateError::Partial { restore, .. } => {
                            restore.items.iter().map(item_json).collect::<Vec<_>>()
                        }
                        _ => Vec::new(),
                    },
                    _ => Vec::new(),
                },
                "request_ids": [],
                "error": ctx.line(&e.to_string(), &fallback(status)),
            })
        }
    }
}

/// What is printed instead of an error line that still quotes a secret: the meaning of its
/// exit status, which is all a gateway admin needs to act.
pub fn fallback(status: ExitStatus) -> String {
    let state = match status {
        // Exit 0 is never "failed" or "not changed" (a check's exit 0 changed nothing).
        ExitStatus::Success => {
            return "the run succeeded (success, exit 0): the Tenable password now equals the new password, or for a check, everything was found and nothing changed".to_owned();
        }
        ExitStatus::Unknown | ExitStatus::Internal => PasswordState::Unknown,
        ExitStatus::Partial => PasswordState::Partial,
        _ => PasswordState::NotChanged,
    };
    format!(
        "the run failed ({}, exit {}); {state}",
        status.name(),
        status.code()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fallback_says_the_state_its_exit_code_proves() {
        for status in ExitStatus::ALL {
            let text = fallback(status);
            let code = format!("exit {}", status.code());
            assert!(text.contains(&code), "{text}");
            let says = match status {
                ExitStatus::Success => "the run succeeded",
                ExitStatus::Unknown | ExitStatus::Internal => "UNKNOWN",
                ExitStatus::Partial => "some credentials hold the new password and others the old",
                _ => "the Tenable password was not changed",
            };
            assert!(text.contains(says), "{text}");
            // Exit 0 is never a failure, nor "not changed".
            if status == ExitStatus::Success {
                assert!(
                    !text.contains("failed") && !text.contains("not changed"),
                    "{text}"
                );
            }
        }
    }
}
