//! The audit trail: `--audit-log FILE` (or `TENABLE_ROTATE_AUDIT_LOG`, or the config file's
//! `audit_log`) appends one JSON line per run of a subcommand that talks to Tenable.
//!
//! - The file is opened before anything is sent, in append mode, created with mode 600. If it
//!   cannot be opened the run stops there: exit 2, nothing sent, the password not changed.
//! - Each run writes its line with one `write` of the whole line (`O_APPEND`), so lines of
//!   concurrent runs never interleave.
//! - The line is the run's `--output json` object plus the time, version, subcommand, key
//!   source, the payload's record UIDs and the duration. It goes through the run's redactor,
//!   as everything printed does: it never holds a password, a key or the payload.
//! - A line that cannot be written is reported on stderr; the exit status stays the run's,
//!   because by then the password state is what the status says.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::app::RunContext;
use crate::config::{self, ConfigFile, Environment};
use crate::error::Error;

/// An open audit log.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    file: File,
}

/// The path named by `flag`, else `TENABLE_ROTATE_AUDIT_LOG`, else the config file's
/// `audit_log`.
pub fn path(flag: Option<&Path>, env: &Environment, file: Option<&ConfigFile>) -> Option<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| env.get(config::env::AUDIT_LOG).map(PathBuf::from))
        .or_else(|| file.and_then(|f| f.audit_log.as_deref()).map(PathBuf::from))
}

/// Opens the audit log, if one is configured. A failure is exit 2 before anything is sent.
pub fn open(
    flag: Option<&Path>,
    env: &Environment,
    file: Option<&ConfigFile>,
) -> Result<Option<AuditLog>, Error> {
    let Some(path) = path(flag, env, file) else {
        return Ok(None);
    };
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(&path) {
        Ok(file) => Ok(Some(AuditLog { path, file })),
        Err(e) => Err(Error::Usage(format!(
            "cannot open the audit log '{}' ({}); give --audit-log, TENABLE_ROTATE_AUDIT_LOG or the config file's audit_log a file this user can append to; nothing was sent to Tenable, the Tenable password was not changed",
            path.display(),
            e.kind()
        ))),
    }
}

impl AuditLog {
    /// The path, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the line for one run: `report` is the run's JSON object (as `--output json`
    /// prints it), `subcommand` its name. Returns the error line to print if the write failed.
    pub fn record(&mut self, ctx: &RunContext, subcommand: &str, report: &Value) -> Option<String> {
        let line = audit_line(ctx, subcommand, report);
        let mut bytes = line.into_bytes();
        bytes.push(b'\n');
        // One write of the whole line: with O_APPEND the kernel places it at the end as one
        // piece. `write_all` only loops on a short write, which a regular file does not do
        // short of a full disk.
        match self.file.write_all(&bytes) {
            Ok(()) => None,
            Err(e) => Some(format!(
                "could not append to the audit log '{}' ({}); the run's result above stands",
                self.path.display(),
                e.kind()
            )),
        }
    }
}

/// The audit line for a run: the report plus when, what and from where; redacted whole.
pub fn audit_line(ctx: &RunContext, subcommand: &str, report: &Value) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let mut line = json!({
        "time": crate::discover::utc_timestamp(now),
        "version": crate::BUILD,
        "subcommand": subcommand,
        "record_uids": ctx.record_uids.iter().map(|(k, v)| ((*k).to_owned(), Value::from(crate::untrusted::field(v)))).collect::<serde_json::Map<_, _>>(),
    });
    if let (Some(map), Some(report)) = (line.as_object_mut(), report.as_object()) {
        for (k, v) in report {
            map.entry(k.clone()).or_insert_with(|| v.clone());
        }
        if map.get("key_source").is_none_or(Value::is_null) {
            map.insert(
                "key_source".into(),
                ctx.key_source.as_deref().map_or(Value::Null, Value::from),
            );
        }
        if map.get("duration_ms").is_none_or(Value::is_null) {
            let started = crate::clock::mark_start();
            map.insert(
                "duration_ms".into(),
                Value::from(started.elapsed().as_millis() as u64),
            );
        }
    }
    // Screened string by string, so that the line stays JSON and keeps every member: a string
    // that still quotes a secret once redacted is withheld alone.
    ctx.redactor.screen_json(line)
}
