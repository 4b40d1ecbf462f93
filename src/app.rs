//! The subcommands' work, shared by `main` and `demo`: read input, build settings, rotate,
//! and render the result as one line of text or one JSON object.

use std::io::{BufRead, Read};

use serde_json::{Value, json};

use crate::config::{
    self, ConfigFile, DEFAULT_KEY_RECORD_TITLE, Environment, Overrides, Sources, field,
};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::keeper;
use crate::rotate::{self, Mode, Passwords, Report};
use crate::secret::Secret;

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
    input: impl Read,
    env: &Environment,
    file: Option<&ConfigFile>,
    flags: &Overrides,
    mode: Mode,
    ctx: &mut RunContext,
) -> Result<Report, Error> {
    ctx.mode = Some(mode);
    let payload = keeper::read_payload(input)?;
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
    let (new, old) = match (
        env.secret(config::env::NEW_PASSWORD),
        env.secret(config::env::OLD_PASSWORD),
    ) {
        (Some(new), old) => (
            new.clone(),
            old.cloned().unwrap_or_else(|| Secret::from("")),
        ),
        (None, _) if mode == Mode::Check => (Secret::from("unused-in-check"), Secret::from("")),
        (None, _) => read_password_lines(input)?,
    };
    if new.is_empty() {
        return Err(Error::Usage("the new password is empty; give it as the first line of standard input or in TENABLE_NEW_PASSWORD; the Tenable password was not changed".into()));
    }
    Ok(rotate::run(&settings, &Passwords { new, old }, mode)?)
}

fn note_settings(ctx: &mut RunContext, settings: &config::Settings) {
    ctx.platform = Some(settings.platform.id());
    ctx.base_url = Some(settings.base_url.as_str().to_owned());
    ctx.target = Some(match settings.target {
        config::Target::User(_) => "user",
        config::Target::Credentials(_) => "credential",
    });
}

/// Reads up to two lines from stdin: the new password, then the old one (optional).
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

/// The JSON object for a finished run.
pub fn json_report(ctx: &RunContext, result: &Result<Report, Error>) -> Value {
    let mode = |m: Option<Mode>| match m {
        Some(Mode::Check) => "check",
        _ => "rotate",
    };
    match result {
        Ok(r) => json!({
            "outcome": ExitStatus::Success.name(),
            "exit_code": 0,
            "mode": mode(Some(r.mode)),
            "platform": r.platform.id(),
            "base_url": r.base_url,
            "key_source": r.key_source,
            "target": r.target,
            "items": r.items.iter().map(|i| json!({
                "kind": i.kind, "name": i.name, "id": i.id, "type": i.credential_type, "result": i.result.id(),
            })).collect::<Vec<_>>(),
            "request_ids": r.request_ids,
            "duration_ms": r.duration.as_millis() as u64,
            "error": Value::Null,
        }),
        Err(e) => {
            let status = e.exit_status();
            json!({
                "outcome": status.name(),
                "exit_code": status.code(),
                "mode": mode(ctx.mode),
                "platform": ctx.platform,
                "base_url": ctx.base_url,
                "target": ctx.target,
                "items": [],
                "request_ids": [],
                "error": e.to_string(),
            })
        }
    }
}
