//! One rotation: plan, apply, confirm. This is where the Keeper side and the Tenable side meet.
//!
//! [`run`] connects to the platform, finds what to change, and (unless it is only a check)
//! changes it. What it guarantees:
//! - A user password change is sent at most once. If its answer is lost (timeout, reset, a
//!   502/504 from a proxy), the new password is tried with one login: if it logs in the
//!   rotation is done, otherwise the change did not land and re-running is safe.
//! - Keeper may run us again after a failure ("Re-run On Post Rotation Fail"). If Tenable
//!   rejects the change, one login with the new password tells whether a previous run already
//!   set it; then the outcome is "already in sync" and the exit status 0.
//! - Credentials hold no password history, so setting one again is harmless and its update
//!   is retried like a read.
//!
//! What it does not do: roll back. Keeper owns the vault side; a failure here leaves the
//! Tenable password as the message says, and Keeper's rollback settings decide the rest.

mod error;

use std::time::{Duration, Instant};

pub use error::{PasswordState, RotateError};

use crate::config::{Settings, Target};
use crate::secret::{Redactor, Secret};
use crate::tenable::{
    Credential, CredentialMatch, Platform, ScClient, ScUser, TenableError, VmClient, VmUser,
};
use crate::transport::{Delivery, TransportError};

/// Whether to change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Change the password.
    Apply,
    /// Look everything up and report what would change; change nothing.
    Check,
}

/// The new and old password.
#[derive(Debug)]
pub struct Passwords {
    /// The new password.
    pub new: Secret,
    /// The old password; may be empty.
    pub old: Secret,
}

impl Passwords {
    /// A redactor that knows both passwords and the API keys.
    pub fn redactor(&self, settings: &Settings) -> Redactor {
        let mut r = Redactor::default();
        for s in [
            &self.new,
            &self.old,
            &settings.keys.access_key,
            &settings.keys.secret_key,
        ] {
            r.add(s);
        }
        r
    }
}

/// What happened to one user or credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemResult {
    /// The password was changed.
    Changed,
    /// The password already was the new one (a re-run).
    AlreadyInSync,
    /// `check`: would be changed.
    WouldChange,
    /// Selected by account, but its type holds no password (public key, SNMP): left alone.
    SkippedNoPassword,
}

impl ItemResult {
    /// Stable name for JSON output.
    pub fn id(self) -> &'static str {
        match self {
            ItemResult::Changed => "changed",
            ItemResult::AlreadyInSync => "already-in-sync",
            ItemResult::WouldChange => "would-change",
            ItemResult::SkippedNoPassword => "skipped-no-password-field",
        }
    }
}

/// One user or credential a rotation touched or looked at.
#[derive(Debug, Clone)]
pub struct Item {
    /// `user` or `credential`.
    pub kind: &'static str,
    /// Username or credential name.
    pub name: String,
    /// Tenable's id (user id, credential uuid or id).
    pub id: String,
    /// Credential type, for credentials.
    pub credential_type: Option<String>,
    /// What happened.
    pub result: ItemResult,
}

/// The result of a rotation or check that did not fail.
#[derive(Debug, Clone)]
pub struct Report {
    /// The platform.
    pub platform: Platform,
    /// The base URL.
    pub base_url: String,
    /// Where the keys came from.
    pub key_source: String,
    /// `user` or `credential`.
    pub target: &'static str,
    /// Apply or check.
    pub mode: Mode,
    /// The items.
    pub items: Vec<Item>,
    /// Tenable request ids of the changes.
    pub request_ids: Vec<String>,
    /// Wall time.
    pub duration: Duration,
}

impl Report {
    /// The one-line summary printed on success.
    pub fn summary(&self) -> String {
        let what = |i: &Item| match i.kind {
            "user" => format!("user '{}' (id {})", i.name, i.id),
            _ => format!(
                "credential '{}' ({}, {})",
                i.name,
                i.credential_type.as_deref().unwrap_or("?"),
                i.id
            ),
        };
        let group = |r: ItemResult| {
            self.items
                .iter()
                .filter(|i| i.result == r)
                .map(what)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        for (result, verb) in [
            (ItemResult::Changed, "changed the password of"),
            (ItemResult::AlreadyInSync, "already in sync:"),
            (
                ItemResult::WouldChange,
                "check passed; would change the password of",
            ),
            (
                ItemResult::SkippedNoPassword,
                "left alone (no password setting):",
            ),
        ] {
            let names = group(result);
            if !names.is_empty() {
                parts.push(format!("{verb} {names}"));
            }
        }
        format!(
            "{}: {} at {} (keys from {})",
            self.platform,
            parts.join("; "),
            self.base_url,
            self.key_source
        )
    }
}

/// A connected client for either platform.
enum Client {
    Vm(VmClient),
    Sc(ScClient),
}

/// Runs one rotation (or check) with `settings` and `passwords`.
pub fn run(settings: &Settings, passwords: &Passwords, mode: Mode) -> Result<Report, RotateError> {
    let started = Instant::now();
    let redactor = passwords.redactor(settings);
    let base = settings.base_url.clone();
    let client = match settings.platform {
        Platform::Vm => Client::Vm(
            VmClient::new(base, &settings.keys, &settings.transport, redactor)
                .map_err(RotateError::before_change)?,
        ),
        Platform::Sc => Client::Sc(
            ScClient::new(base, &settings.keys, &settings.transport, redactor)
                .map_err(RotateError::before_change)?,
        ),
    };
    let mut report = Report {
        platform: settings.platform,
        base_url: settings.base_url.as_str().to_owned(),
        key_source: settings.key_source.clone(),
        target: match settings.target {
            Target::User(_) => "user",
            Target::Credentials(_) => "credential",
        },
        mode,
        items: Vec::new(),
        request_ids: Vec::new(),
        duration: Duration::ZERO,
    };
    match &settings.target {
        Target::User(username) => rotate_user(
            &client,
            username,
            passwords,
            settings.verify_login,
            mode,
            &mut report,
        )?,
        Target::Credentials(selection) => {
            rotate_credentials(&client, selection, &passwords.new, mode, &mut report)?
        }
    }
    report.duration = started.elapsed();
    Ok(report)
}

/// A user found on one platform, with the client that found it.
enum FoundUser<'a> {
    Vm(&'a VmClient, VmUser),
    /// The flag: the user owns the API keys, so SC wants `currentPassword`.
    Sc(&'a ScClient, ScUser, bool),
}

impl FoundUser<'_> {
    fn id_and_name(&self) -> (String, String) {
        match self {
            FoundUser::Vm(_, u) => (u.id.clone(), u.username.clone()),
            FoundUser::Sc(_, u, _) => (u.id.clone(), u.username.clone()),
        }
    }

    fn change(&self, passwords: &Passwords) -> Result<Option<String>, TenableError> {
        match self {
            FoundUser::Vm(vm, user) => vm.change_password(user, &passwords.new, &passwords.old),
            FoundUser::Sc(sc, user, is_self) => {
                let current = (*is_self && !passwords.old.is_empty()).then_some(&passwords.old);
                sc.change_password(user, &passwords.new, current)
            }
        }
    }

    fn logs_in(&self, password: &Secret) -> Result<bool, TenableError> {
        match self {
            FoundUser::Vm(vm, user) => vm.password_logs_in(&user.username, password),
            FoundUser::Sc(sc, user, _) => sc.password_logs_in(&user.username, password),
        }
    }
}

fn rotate_user(
    client: &Client,
    username: &str,
    passwords: &Passwords,
    verify: bool,
    mode: Mode,
    report: &mut Report,
) -> Result<(), RotateError> {
    let before = RotateError::before_change;
    // On SC, first ask who the keys belong to: it proves the keys work and tells whether
    // this is a self-change, which needs `currentPassword`.
    let found = match client {
        Client::Vm(vm) => FoundUser::Vm(vm, vm.find_user(username).map_err(before)?),
        Client::Sc(sc) => {
            let api_user = sc.api_user().map_err(before)?;
            let user = sc.find_user(username).map_err(before)?;
            let is_self = api_user.id == user.id;
            FoundUser::Sc(sc, user, is_self)
        }
    };
    let (id, found_name) = found.id_and_name();
    let logs_in = |password: &Secret| found.logs_in(password);
    let change = || found.change(passwords);
    let mut item = Item {
        kind: "user",
        name: found_name.clone(),
        id,
        credential_type: None,
        result: ItemResult::WouldChange,
    };
    if mode == Mode::Check {
        report.items.push(item);
        return Ok(());
    }
    item.result = match change() {
        Ok(request_id) => {
            report.request_ids.extend(request_id);
            if verify
                && !logs_in(&passwords.new).map_err(|e| RotateError::Tenable {
                    source: e,
                    state: PasswordState::Unknown,
                })?
            {
                return Err(RotateError::VerifyFailed {
                    target: format!("user '{found_name}'"),
                });
            }
            ItemResult::Changed
        }
        // Rejected: perhaps an earlier run already set it (wrong current password, or "cannot
        // reuse"). One login with the new password tells.
        Err(rejected @ TenableError::Rejected { .. }) => match logs_in(&passwords.new) {
            Ok(true) => ItemResult::AlreadyInSync,
            _ => {
                return Err(RotateError::Tenable {
                    source: rejected,
                    state: PasswordState::NotChanged,
                });
            }
        },
        // The answer was lost: the change may have landed. Never resend; look instead.
        Err(lost) if is_lost_answer(&lost) => match logs_in(&passwords.new) {
            Ok(true) => ItemResult::Changed,
            Ok(false) => return Err(RotateError::NotApplied { source: lost }),
            Err(_) => {
                return Err(RotateError::Tenable {
                    source: lost,
                    state: PasswordState::Unknown,
                });
            }
        },
        Err(other) => {
            return Err(RotateError::Tenable {
                source: other,
                state: PasswordState::NotChanged,
            });
        }
    };
    report.items.push(item);
    Ok(())
}

/// True when a password change was sent and no usable answer came back: a lost connection,
/// a timeout, or a gateway error (502/504) from something in front of Tenable.
fn is_lost_answer(error: &TenableError) -> bool {
    match error {
        TenableError::Transport(t) => {
            t.delivery() == Delivery::Unknown && !matches!(t, TransportError::Deadline { .. })
        }
        TenableError::Unexpected { status, .. } => status == "HTTP 502" || status == "HTTP 504",
        _ => false,
    }
}

fn rotate_credentials(
    client: &Client,
    selection: &CredentialMatch,
    new: &Secret,
    mode: Mode,
    report: &mut Report,
) -> Result<(), RotateError> {
    let (platform, found) = match client {
        Client::Vm(vm) => (Platform::Vm, vm.find_credentials(selection)),
        Client::Sc(sc) => (Platform::Sc, sc.find_credentials(selection)),
    };
    let found = found.map_err(RotateError::before_change)?;
    let label = |c: &Credential| format!("'{}' ({})", c.name, c.id);
    match (selection, found.as_slice()) {
        (CredentialMatch::Name(name), []) | (CredentialMatch::Username(name), []) => {
            let hint = match selection {
                CredentialMatch::Name(_) => {
                    "; set tenable_credential_name to the credential's exact name in Tenable"
                }
                CredentialMatch::Username(_) => {
                    "; no managed credential has this account as its username"
                }
            };
            return Err(RotateError::before_change(TenableError::NotFound {
                platform,
                kind: "credential",
                name: name.clone(),
                hint,
            }));
        }
        (CredentialMatch::Name(name), many @ [_, _, ..]) => {
            return Err(RotateError::before_change(TenableError::Ambiguous {
                platform,
                kind: "credential",
                name: name.clone(),
                found: many.iter().map(label).collect::<Vec<_>>().join(", "),
                hint: "rename them in Tenable so that the name is unique",
            }));
        }
        (CredentialMatch::Name(_), [one]) if one.password_key.is_none() => {
            return Err(RotateError::before_change(one.no_password_field(platform)));
        }
        _ => {}
    }
    if found.iter().all(|c| c.password_key.is_none()) {
        return Err(RotateError::before_change(
            found[0].no_password_field(platform),
        ));
    }
    let mut done: Vec<String> = Vec::new();
    for credential in &found {
        let mut item = Item {
            kind: "credential",
            name: credential.name.clone(),
            id: credential.id.clone(),
            credential_type: Some(credential.kind.clone()),
            result: ItemResult::WouldChange,
        };
        if credential.password_key.is_none() {
            item.result = ItemResult::SkippedNoPassword;
        } else if mode == Mode::Apply {
            let outcome = match client {
                Client::Vm(vm) => vm.change_credential_password(credential, new),
                Client::Sc(sc) => sc.change_credential_password(credential, new),
            };
            match outcome {
                Ok(request_id) => {
                    report.request_ids.extend(request_id);
                    item.result = ItemResult::Changed;
                    done.push(label(credential));
                }
                Err(source) if done.is_empty() => {
                    let state = if is_lost_answer(&source) {
                        PasswordState::Unknown
                    } else {
                        PasswordState::NotChanged
                    };
                    return Err(RotateError::Tenable { source, state });
                }
                Err(source) => {
                    return Err(RotateError::Partial {
                        done: done.join(", "),
                        source,
                    });
                }
            }
        }
        report.items.push(item);
    }
    Ok(())
}
