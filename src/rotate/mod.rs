//! One rotation: plan, apply, prove. This is where the Keeper side and the Tenable side meet.
//!
//! [`run`] connects to the platform, finds what to change, and (unless it is only a check)
//! changes it. Every run ends in one [`PasswordState`], and only a proven one (issue 10):
//! - A 2xx answer to the change proves "changed". A refusal Tenable chose to send (a 4xx
//!   other than 408/429, an SC error code) proves "not changed".
//! - Anything else after the change was sent (a lost answer, a TLS break, 408, 429, 5xx) is
//!   unclear. For a user, one login with the new password proves "changed"; failing that,
//!   one login with the old password proves "not changed"; failing both, the state is
//!   "unknown" (exit 7). A failed login proves nothing: SSO, MFA or a lockout refuse both.
//! - A change is sent at most once per object. The one exception: after a 429 or 503 whose
//!   change a login with the old password proved did not land, it is sent once more.
//! - Keeper may run us again after a failure ("Re-run On Post Rotation Fail"). If Tenable
//!   rejects the change, one login with the new password tells whether a previous run already
//!   set it; then the outcome is "already in sync" and the exit status 0.
//! - Credentials cannot be read back (Tenable masks them), so an unclear answer on one is
//!   "unknown"; setting one again is harmless, so re-running is safe.
//! - With no target set, a name that is also a managed credential is refused, not guessed.
//!
//! What it does not do: roll back. Keeper owns the vault side; a failure here leaves the
//! Tenable password as the message says, and Keeper's rollback settings decide the rest.

mod error;

use std::time::{Duration, Instant};

pub use error::{Partial, PasswordState, Restore, RotateError};

use crate::config::{Settings, Target};
use crate::secret::{Redactor, Secret};
use crate::tenable::{
    Credential, CredentialMatch, Platform, ScClient, ScUser, TenableError, VmClient, VmUser,
};
use crate::untrusted;

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
    /// The change's answer was unclear, and a login with the new password proved it landed.
    ChangedProvedByLogin,
    /// The password was changed.
    Changed,
    /// The password already was the new one (a re-run).
    AlreadyInSync,
    /// `check`: would be changed.
    WouldChange,
    /// Selected by account, but its type holds no password (public key, SNMP): left alone.
    SkippedNoPassword,
    /// A later credential failed, and this one was set back to the old password.
    SetBack,
    /// A later credential failed; setting this one back was refused (it holds the new one).
    SetBackRefused,
    /// A later credential failed; setting this one back got an unclear answer.
    SetBackUnknown,
    /// A later credential failed and `keep` was chosen (or no old password): it holds the new.
    KeptChanged,
    /// This one's change was refused (not changed).
    FailedNotChanged,
    /// This one's change got an unclear answer (unknown).
    FailedUnknown,
    /// Not reached: an earlier credential failed.
    NotReached,
}

impl ItemResult {
    /// Stable name for JSON output.
    pub fn id(self) -> &'static str {
        match self {
            ItemResult::Changed => "changed",
            ItemResult::ChangedProvedByLogin => "changed-proved-by-login",
            ItemResult::AlreadyInSync => "already-in-sync",
            ItemResult::WouldChange => "would-change",
            ItemResult::SkippedNoPassword => "skipped-no-password-field",
            ItemResult::SetBack => "set-back",
            ItemResult::SetBackRefused => "set-back-refused",
            ItemResult::SetBackUnknown => "set-back-unknown",
            ItemResult::KeptChanged => "kept-changed",
            ItemResult::FailedNotChanged => "failed-not-changed",
            ItemResult::FailedUnknown => "failed-unknown",
            ItemResult::NotReached => "not-reached",
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
    /// Where the password stands.
    pub state: PasswordState,
    /// Wall time.
    pub duration: Duration,
}

impl Report {
    /// The one-line summary printed on success.
    pub fn summary(&self) -> String {
        let what = |i: &Item| match i.kind {
            "user" => format!(
                "user '{}' (id {})",
                untrusted::field(&i.name),
                untrusted::field(&i.id)
            ),
            _ => format!(
                "credential '{}' ({}, {})",
                untrusted::field(&i.name),
                untrusted::field(i.credential_type.as_deref().unwrap_or("?")),
                untrusted::field(&i.id)
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
            (
                ItemResult::ChangedProvedByLogin,
                "changed the password (Tenable's answer was unclear; a login with the new password proved it) of",
            ),
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
        state: PasswordState::NotChanged,
        duration: Duration::ZERO,
    };
    if let (Target::User(name), false) = (&settings.target, settings.target_explicit) {
        let is_credential = match &client {
            Client::Vm(vm) => vm.has_credential_named(name),
            Client::Sc(sc) => sc.has_credential_named(name),
        };
        if is_credential {
            return Err(RotateError::TargetUnclear {
                name: untrusted::field(name),
                what: "the name of a managed credential",
                platform: settings.platform,
            });
        }
    }
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
            let restore = settings.restore_on_partial_failure;
            rotate_credentials(&client, selection, passwords, restore, mode, &mut report)?
        }
    }
    report.state = if mode == Mode::Check {
        PasswordState::NotChanged
    } else if report.items.iter().all(|i| {
        matches!(
            i.result,
            ItemResult::AlreadyInSync | ItemResult::SkippedNoPassword
        )
    }) {
        PasswordState::InSync
    } else {
        PasswordState::Changed
    };
    report.duration = started.elapsed();
    Ok(report)
}

/// What the logins after an unclear answer proved.
enum Proof {
    /// The new password logs in: the change landed.
    NewLogsIn,
    /// The new one does not, the old one does: the change did not land.
    OldLogsIn,
    /// Neither logged in (or a login failed): nothing is proven.
    Nothing,
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
    item.result = change_user(&found, passwords, verify, &found_name, report)?;
    report.items.push(item);
    Ok(())
}

/// Sends the change (at most twice, the second only after a proven non-landing of a 429 or
/// 503) and proves the outcome, as the module doc says.
fn change_user(
    found: &FoundUser<'_>,
    passwords: &Passwords,
    verify: bool,
    name: &str,
    report: &mut Report,
) -> Result<ItemResult, RotateError> {
    let mut sends = 0;
    loop {
        sends += 1;
        match found.change(passwords) {
            Ok(request_id) => {
                report.request_ids.extend(request_id);
                if verify {
                    let login_error = match found.logs_in(&passwords.new) {
                        Ok(true) => return Ok(ItemResult::Changed),
                        Ok(false) => None,
                        Err(e) => Some(Box::new(e)),
                    };
                    return Err(RotateError::VerifyFailed {
                        target: format!("user '{}'", untrusted::field(name)),
                        login_error,
                    });
                }
                return Ok(ItemResult::Changed);
            }
            // Rejected: perhaps an earlier run already set it (wrong current password, or
            // "cannot reuse"). One login with the new password tells.
            Err(rejected @ TenableError::Rejected { .. }) => {
                return match found.logs_in(&passwords.new) {
                    Ok(true) => Ok(ItemResult::AlreadyInSync),
                    _ => Err(RotateError::Tenable {
                        source: rejected,
                        state: PasswordState::NotChanged,
                    }),
                };
            }
            Err(refused) if refused.proves_not_applied() => {
                return Err(RotateError::Tenable {
                    source: refused,
                    state: PasswordState::NotChanged,
                });
            }
            // Unclear: the change may have landed. Never resend blindly; prove instead.
            Err(unclear) => match prove(found, passwords) {
                Proof::NewLogsIn => return Ok(ItemResult::ChangedProvedByLogin),
                Proof::OldLogsIn if unclear.is_not_now() && sends == 1 => continue,
                Proof::OldLogsIn => return Err(RotateError::NotApplied { source: unclear }),
                Proof::Nothing => {
                    return Err(RotateError::Tenable {
                        source: unclear,
                        state: PasswordState::Unknown,
                    });
                }
            },
        }
    }
}

/// After an unclear answer: one login with the new password, then (if there is an old one
/// that differs) one with the old. At most two failed logins count towards Tenable's lockout
/// of five, and only on this unusual path.
fn prove(found: &FoundUser<'_>, passwords: &Passwords) -> Proof {
    if let Ok(true) = found.logs_in(&passwords.new) {
        return Proof::NewLogsIn;
    }
    if !passwords.old.is_empty() && passwords.old.expose() != passwords.new.expose() {
        if let Ok(true) = found.logs_in(&passwords.old) {
            return Proof::OldLogsIn;
        }
    }
    Proof::Nothing
}

/// Sets one credential's password.
fn set_credential(
    client: &Client,
    credential: &Credential,
    password: &Secret,
) -> Result<Option<String>, TenableError> {
    match client {
        Client::Vm(vm) => vm.change_credential_password(credential, password),
        Client::Sc(sc) => sc.change_credential_password(credential, password),
    }
}

/// When a credential fails after others were changed: with `restore` on and an old password
/// known, each changed one is set back to the old password (all or nothing).
fn restore_changed(
    client: &Client,
    changed: &[&Credential],
    passwords: &Passwords,
    restore: bool,
) -> (Restore, Vec<ItemResult>) {
    let kept = |why| {
        (
            Restore::Kept { why },
            vec![ItemResult::KeptChanged; changed.len()],
        )
    };
    if !restore {
        return kept("tenable_on_partial_failure = keep");
    }
    if passwords.old.is_empty() {
        return kept("there is no old password to set back");
    }
    let mut failed = Vec::new();
    let mut unknown = false;
    let mut results = Vec::new();
    for credential in changed {
        match set_credential(client, credential, &passwords.old) {
            Ok(_) => results.push(ItemResult::SetBack),
            Err(e) => {
                let refused = e.proves_not_applied();
                unknown |= !refused;
                results.push(if refused {
                    ItemResult::SetBackRefused
                } else {
                    ItemResult::SetBackUnknown
                });
                failed.push(format!(
                    "'{}' ({})",
                    untrusted::field(&credential.name),
                    untrusted::field(&credential.id)
                ));
            }
        }
    }
    let restore = if failed.is_empty() {
        Restore::AllRestored
    } else {
        Restore::Failed {
            failed: untrusted::list(failed, 5),
            unknown,
        }
    };
    (restore, results)
}

fn rotate_credentials(
    client: &Client,
    selection: &CredentialMatch,
    passwords: &Passwords,
    restore: bool,
    mode: Mode,
    report: &mut Report,
) -> Result<(), RotateError> {
    let new = &passwords.new;
    let (platform, found) = match client {
        Client::Vm(vm) => (Platform::Vm, vm.find_credentials(selection)),
        Client::Sc(sc) => (Platform::Sc, sc.find_credentials(selection)),
    };
    let found = found.map_err(RotateError::before_change)?;
    let label = |c: &Credential| {
        format!(
            "'{}' ({})",
            untrusted::field(&c.name),
            untrusted::field(&c.id)
        )
    };
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
                name: untrusted::field(name),
                hint,
            }));
        }
        (CredentialMatch::Name(name), many @ [_, _, ..]) => {
            return Err(RotateError::before_change(TenableError::Ambiguous {
                platform,
                kind: "credential",
                name: untrusted::field(name),
                found: untrusted::list(many.iter().map(label), 5),
                hint: "rename them in Tenable so that the name is unique",
            }));
        }
        _ => {}
    }
    if found.iter().all(|c| c.password_key.is_none()) {
        return Err(RotateError::before_change(
            found[0].no_password_field(platform),
        ));
    }
    let mut done: Vec<String> = Vec::new();
    let mut changed: Vec<&Credential> = Vec::new();
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
            match set_credential(client, credential, new) {
                Ok(request_id) => {
                    report.request_ids.extend(request_id);
                    item.result = ItemResult::Changed;
                    done.push(label(credential));
                    changed.push(credential);
                }
                Err(source) => {
                    // A credential cannot be read back, so an unclear answer stays unknown.
                    let state = if source.proves_not_applied() {
                        PasswordState::NotChanged
                    } else {
                        PasswordState::Unknown
                    };
                    if done.is_empty() {
                        return Err(RotateError::Tenable { source, state });
                    }
                    let (outcome, set_back) = restore_changed(client, &changed, passwords, restore);
                    // Every credential of the run, with its own result, for --output json.
                    let mut items: Vec<Item> = report
                        .items
                        .drain(..)
                        .map(|mut i| {
                            if i.result == ItemResult::Changed {
                                i.result = ItemResult::KeptChanged;
                            }
                            i
                        })
                        .collect();
                    let mut set_back = set_back.into_iter();
                    for i in items.iter_mut() {
                        if i.result == ItemResult::KeptChanged {
                            i.result = set_back.next().unwrap_or(ItemResult::KeptChanged);
                        }
                    }
                    item.result = if state == PasswordState::Unknown {
                        ItemResult::FailedUnknown
                    } else {
                        ItemResult::FailedNotChanged
                    };
                    items.push(item);
                    let reached = items.len();
                    items.extend(found[reached..].iter().map(|c| Item {
                        kind: "credential",
                        name: c.name.clone(),
                        id: c.id.clone(),
                        credential_type: Some(c.kind.clone()),
                        result: ItemResult::NotReached,
                    }));
                    return Err(RotateError::Partial {
                        done: untrusted::list(done, 5),
                        source,
                        state,
                        restore: Box::new(Partial { outcome, items }),
                    });
                }
            }
        }
        report.items.push(item);
    }
    Ok(())
}
