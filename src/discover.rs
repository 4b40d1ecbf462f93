//! `discover`: every Tenable user and managed scan credential, each with a verdict (can Keeper
//! rotate it through this binary, and how), printed as a table, JSON or CSV; and, with
//! `--keeper-import`, a file that Keeper Commander imports as PAM User records.
//!
//! Read-only: it sends GET requests only (the end-to-end tests check the emulator's routes).
//! Lists are streamed: a user is judged and printed as it is parsed, so memory does not grow
//! with the tenant. Two exceptions, both bounded: Security Center answers a list in one
//! envelope (read whole within the transport's list bound), and `--sign-in-methods` reads each
//! TVM user's sign-ins after the list, so it keeps the list (a flag for small tenants).
//!
//! Where the settings go: this binary reads its settings from the key record attached to the
//! PAM script (README: record fields), so one key record serves every PAM User that needs the
//! same settings. Users need `tenable_target` = `user` (the default) and a PAM User whose
//! login is the Tenable username; credentials need `tenable_target` = `credential` with
//! `tenable_credential_match` = `username` and a PAM User whose login is the account the
//! credential holds, which updates every credential of that account at once. Each row says so.
//!
//! Everything from Tenable goes through [`untrusted::field`] and every line printed through
//! [`RunContext::line`] (or the redactor, for JSON), as for every other subcommand.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;
use serde_json::{Value, json};

use crate::app::RunContext;
use crate::config::{self, ConfigFile, Environment, Overrides, Sources};
use crate::error::Error;
use crate::exit::ExitStatus;
use crate::rotate::RotateError;
use crate::tenable::{
    ListedCredential, ListedUser, ListedUsers, Platform, ROLE_WORDS, ScClient, TenableError,
    UserSink, VmClient, role_word,
};
use crate::untrusted;

/// The `schema` value of the JSON document; bumped on any incompatible change.
pub const JSON_SCHEMA: &str = "tenable-rotate/discover/1";

/// How `discover` prints (`--output` after the subcommand).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiscoverFormat {
    /// Two aligned tables (users, credentials) for a terminal of 100 columns.
    Table,
    /// One JSON document (`schema` = `tenable-rotate/discover/1`; README: discover).
    Json,
    /// One CSV row per user or credential, for a spreadsheet.
    Csv,
}

/// Flags of `discover`; the format is the global `--output` (`table`, the default, `json`
/// or `csv`).
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// `vm` or `sc`; default: `sc` when TENABLE_SC_HOST or the config file's `sc_host` is set.
    #[arg(long, value_parser = parse_platform)]
    pub platform: Option<Platform>,
    /// Base URL (default for vm: cloud.tenable.com; required for sc). Env: TENABLE_URL.
    #[arg(long)]
    pub url: Option<String>,
    /// Vulnerability Management: also read each user's permitted sign-ins (password, SAML,
    /// API): one more request per user, and the list is held in memory.
    #[arg(long)]
    pub sign_in_methods: bool,
    /// How to print: aligned tables (the default), one JSON document, or CSV rows.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "table")]
    pub output: DiscoverFormat,
    /// Settings file (TOML), below the environment; env: `TENABLE_ROTATE_CONFIG`.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Append one JSON line for this run to FILE (created mode 600); env:
    /// `TENABLE_ROTATE_AUDIT_LOG`.
    #[arg(long, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Also write a Keeper Commander import file (`keeper import --format json FILE`): one PAM
    /// User record per rotatable account and the key records they attach, never a key.
    #[arg(long, value_name = "FILE")]
    pub keeper_import: Option<PathBuf>,
    /// The Keeper folder the imported records go in.
    #[arg(
        long,
        value_name = "NAME",
        requires = "keeper_import",
        default_value = "Tenable"
    )]
    pub folder: String,
}

fn parse_platform(value: &str) -> Result<Platform, String> {
    config::parse_platform(value)
        .ok_or_else(|| format!("'{value}' is not a platform; use vm or sc"))
}

/// What one row may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A Tenable user whose own password Keeper can rotate.
    User,
    /// A managed credential whose password setting Keeper can keep in step.
    Credential,
    /// Neither; the reason says why.
    No,
}

impl Verdict {
    /// The stable JSON/CSV value.
    pub fn id(self) -> &'static str {
        match self {
            Verdict::User => "rotatable-as-user",
            Verdict::Credential => "rotatable-as-credential",
            Verdict::No => "not-rotatable",
        }
    }
}

/// A row's verdict, reason, and the settings that would rotate it; borrowed from the user
/// or credential where it can be, so that judging a listed user allocates nothing (issue 13).
#[derive(Debug, Clone)]
pub struct Judgement<'a> {
    /// The verdict.
    pub verdict: Verdict,
    /// Why not, or what to know (already made safe to print).
    pub reason: Option<Cow<'static, str>>,
    /// The PAM User's login (from Tenable: not yet made safe).
    pub login: Option<Cow<'a, str>>,
    /// The key record's fields, in the order of their names (values from Tenable not yet
    /// made safe).
    pub key_record: Cow<'a, [KeySetting<'a>]>,
}

/// One field of a key record: its name and value.
pub type KeySetting<'a> = (&'static str, Cow<'a, str>);

/// The key record that rotates a Tenable user.
const USER_KEY_RECORD: &[KeySetting<'static>] = &[("tenable_target", Cow::Borrowed("user"))];

/// The keys' own user on the platform, and what it may do.
#[derive(Debug, Clone)]
struct ApiUser {
    user: ListedUser<'static>,
    /// Whether it may change other users' passwords.
    manages_users: bool,
}

/// Judges one user.
pub fn judge_user<'a>(
    platform: Platform,
    u: &'a ListedUser<'_>,
    api_user: Option<&ListedUser<'_>>,
    manages_users: bool,
) -> Judgement<'a> {
    let no = |reason: Cow<'static, str>| Judgement {
        verdict: Verdict::No,
        reason: Some(reason),
        login: None,
        key_record: Cow::Borrowed(&[]),
    };
    if u.username.is_empty() {
        return no("Tenable sent no username for it".into());
    }
    let is_api_user = api_user.is_some_and(|a| a.id == u.id);
    // Made safe only when a message says it: once per user it was 4% of a 200 000-row listing.
    let role = || {
        api_user
            .and_then(|a| a.role.as_deref())
            .map_or_else(|| "unknown".into(), untrusted::field)
    };
    let mut notes = Vec::new();
    if !manages_users {
        match platform {
            Platform::Vm => {
                return no(format!(
                    "the API keys' role is {}; changing a password needs Administrator [64]",
                    role()
                )
                .into());
            }
            Platform::Sc if !is_api_user => {
                return no(format!(
                    "the API keys' role is {}, which may change only its own password",
                    role()
                )
                .into());
            }
            Platform::Sc => {}
        }
    }
    if u.enabled == Some(false) {
        return no("disabled in Tenable".into());
    }
    if let Some(a) = u.authorizations {
        if !a.password {
            let only = match (a.saml, a.api) {
                (true, true) => "SAML and API keys only",
                (true, false) => "SAML only",
                (false, true) => "API keys only",
                (false, false) => "no sign-in permitted",
            };
            return no(format!("password sign-in is not permitted ({only})").into());
        }
    }
    // Compared without a lowercase copy: one per user was an allocation per row.
    let is = |t: &str, word: &str| t.eq_ignore_ascii_case(word);
    match (platform, u.auth_type.as_deref()) {
        (Platform::Sc, Some(t)) if is(t, "ldap") => {
            return no("signs in through LDAP: its password lives in the directory".into());
        }
        (Platform::Sc, Some(t)) if is(t, "saml") => return no("signs in by SAML only".into()),
        (Platform::Sc, Some(t)) if !is(t, "tns") => {
            return no(format!(
                "sign-in type '{}' is not a local password",
                untrusted::field(&t.to_ascii_lowercase())
            )
            .into());
        }
        (Platform::Vm, Some(t)) if !is(t, "local") => {
            return no(format!(
                "user type '{}' is not a local account",
                untrusted::field(&t.to_ascii_lowercase())
            )
            .into());
        }
        _ => {}
    }
    if is_api_user {
        notes.push(match platform {
            Platform::Sc => {
                "the API keys' own user (Keeper sends the current password, as SC asks)"
            }
            Platform::Vm => "the API keys' own user",
        });
    }
    if u.locked == Some(true) {
        notes.push(match platform {
            Platform::Vm => "locked out; a password reset by an administrator unlocks it",
            Platform::Sc => "locked; unlock it in Security Center",
        });
    }
    Judgement {
        verdict: Verdict::User,
        reason: match notes[..] {
            [] => None,
            [one] => Some(one.into()),
            _ => Some(notes.join("; ").into()),
        },
        login: Some(Cow::Borrowed(&u.username)),
        key_record: Cow::Borrowed(USER_KEY_RECORD),
    }
}

/// Judges one credential.
pub fn judge_credential(c: &ListedCredential) -> Judgement<'_> {
    let no = |reason: String| Judgement {
        verdict: Verdict::No,
        reason: Some(reason.into()),
        login: None,
        key_record: Cow::Borrowed(&[]),
    };
    if let Some(why) = &c.unreadable {
        return no(format!("its details could not be read: {why}"));
    }
    if c.password_key.is_none() {
        let kind = c.kind.to_ascii_lowercase();
        return no(if kind.starts_with("snmp") {
            "no password setting (SNMP holds a community string)".into()
        } else if let Some(m) = &c.auth_method {
            format!(
                "no password setting (it authenticates by '{}')",
                untrusted::field(m)
            )
        } else {
            format!("no password setting (type '{}')", untrusted::field(&c.kind))
        });
    }
    if c.can_edit == Some(false) {
        return no("these API keys may use it but not edit it (Can Edit is needed)".into());
    }
    match &c.account {
        Some(account) => Judgement {
            verdict: Verdict::Credential,
            reason: None,
            login: Some(Cow::Borrowed(account)),
            key_record: Cow::Borrowed(&[
                ("tenable_credential_match", Cow::Borrowed("username")),
                ("tenable_target", Cow::Borrowed("credential")),
            ]),
        },
        None => Judgement {
            verdict: Verdict::Credential,
            reason: Some(
                "its settings name no account: give it a key record of its own with this name"
                    .into(),
            ),
            login: None,
            key_record: Cow::Owned(vec![
                ("tenable_credential_name", Cow::Borrowed(c.name.as_str())),
                ("tenable_target", Cow::Borrowed("credential")),
            ]),
        },
    }
}

/// Counts for the summary, the JSON document and the audit line.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Platform id.
    pub platform: &'static str,
    /// Base URL.
    pub base_url: String,
    /// Users listed.
    pub users: u64,
    /// Credentials listed.
    pub credentials: u64,
    /// Rows rotatable as a user.
    pub rotatable_as_user: u64,
    /// Rows rotatable as a credential.
    pub rotatable_as_credential: u64,
    /// Rows not rotatable.
    pub not_rotatable: u64,
    /// Accounts held by more than one rotatable credential.
    pub shared_accounts: u64,
    /// Records written to the import file.
    pub imported_records: u64,
    /// Wall time.
    pub duration_ms: u64,
}

/// Runs `discover`: prints every row to `out` and returns the counts. `ctx` learns the keys
/// (for the redactor) and the platform; nothing that changes anything is sent.
pub fn run(
    args: &DiscoverArgs,
    format: DiscoverFormat,
    env: &Environment,
    file: Option<&ConfigFile>,
    ctx: &mut RunContext,
    out: &mut dyn Write,
) -> Result<Summary, Error> {
    let started = Instant::now();
    // Only what locates Tenable and the keys: a rotation's target settings do not apply.
    let mut only = Environment::default();
    for name in [
        config::env::ACCESS_KEY,
        config::env::SECRET_KEY,
        config::env::URL,
        config::env::SC_HOST,
        config::env::CA_FILE,
        config::env::TIMEOUT,
    ] {
        if let Some(v) = env.secret(name) {
            only = only.with(name, v.expose());
        }
    }
    let file = file.map(|f| ConfigFile {
        target: None,
        credential_name: None,
        credential_match: None,
        verify: None,
        on_partial_failure: None,
        ..f.clone()
    });
    let flags = Overrides {
        platform: args.platform,
        url: args.url.clone(),
        ..Overrides::default()
    };
    let mut settings = config::resolve(&Sources {
        user: "",
        record: None,
        env: &only,
        file: file.as_ref(),
        flags: &flags,
    })?;
    crate::app::note_connection(ctx, &settings);
    // A listing is one long answer read while every row is judged and printed: it may take
    // the run's whole deadline, not only one request's timeout.
    settings.transport.request_timeout = settings.transport.deadline;
    // Opened before anything is sent, so a path that cannot be written stops the run first.
    let mut import = match &args.keeper_import {
        Some(path) => Some(ImportFile::create(
            path,
            &args.folder,
            settings.platform,
            settings.base_url.as_str(),
        )?),
        None => None,
    };
    let before = |e: TenableError| Error::from(RotateError::before_change(e));
    let secrets = [
        settings.keys.access_key.expose(),
        settings.keys.secret_key.expose(),
    ];
    let mut sink = Sink::new(format, ctx, settings.platform, out, &secrets);
    let mut summary = Summary {
        platform: settings.platform.id(),
        base_url: settings.base_url.as_str().to_owned(),
        ..Summary::default()
    };
    let mut accounts = Accounts::new(import.is_some());
    let base = settings.base_url.clone();
    match settings.platform {
        Platform::Vm => {
            let vm = VmClient::new(base, &settings.keys, &settings.transport, ctx_redactor(ctx))
                .map_err(before)?;
            let me = vm.session_user().map_err(before)?;
            let api = ApiUser {
                manages_users: me.permissions == Some(64),
                user: me,
            };
            sink.begin(&api.user, &settings.base_url);
            let mut emit = |u: ListedUser| {
                let j = judge_user(Platform::Vm, &u, Some(&api.user), api.manages_users);
                summary.count(j.verdict);
                if let Some(import) = import.as_mut() {
                    import.user(&u, &j);
                }
                sink.user(&u, &j);
            };
            summary.users = if args.sign_in_methods {
                let mut all = Vec::new();
                vm.each_user(&mut |u| all.push(u.into_owned()))
                    .map_err(before)?;
                let n = all.len() as u64;
                for mut u in all {
                    if !u.id.is_empty() && u.enabled != Some(false) {
                        u.authorizations = Some(vm.user_authorizations(&u).map_err(before)?);
                    }
                    emit(u);
                }
                n
            } else {
                each_user_alongside(|sink| vm.each_user_into(sink), &mut emit).map_err(before)?
            };
            sink.end_users(summary.users);
            let mut offset = 0usize;
            loop {
                let page = vm.credential_stubs(offset).map_err(before)?;
                let got = page.items.len();
                for stub in page.items {
                    let c = vm.complete_credential(stub).map_err(before)?;
                    summary.credentials += 1;
                    let j = judge_credential(&c);
                    summary.count(j.verdict);
                    accounts.note(&c, &j);
                    sink.credential(&c, &j);
                }
                offset += got;
                if got == 0 || offset >= page.total {
                    break;
                }
            }
        }
        Platform::Sc => {
            let sc = ScClient::new(base, &settings.keys, &settings.transport, ctx_redactor(ctx))
                .map_err(before)?;
            let me = sc.api_user_listed().map_err(before)?;
            let role = me.role.clone().unwrap_or_default().to_ascii_lowercase();
            let api = ApiUser {
                manages_users: role.contains("security manager") || role == "administrator",
                user: me,
            };
            sink.begin(&api.user, &settings.base_url);
            summary.users =
                each_user_alongside(|sink| sc.each_user(&mut |u| sink.user(u)), &mut |u| {
                    let j = judge_user(Platform::Sc, &u, Some(&api.user), api.manages_users);
                    summary.count(j.verdict);
                    if let Some(import) = import.as_mut() {
                        import.user(&u, &j);
                    }
                    sink.user(&u, &j);
                })
                .map_err(before)?;
            sink.end_users(summary.users);
            for stub in sc.credential_stubs().map_err(before)? {
                let c = sc.complete_credential(stub).map_err(before)?;
                summary.credentials += 1;
                let j = judge_credential(&c);
                summary.count(j.verdict);
                accounts.note(&c, &j);
                sink.credential(&c, &j);
            }
        }
    }
    summary.shared_accounts = accounts.shared();
    if let Some(mut import) = import.take() {
        accounts.write_to(&mut import);
        summary.imported_records = import.finish()?;
    }
    summary.duration_ms = started.elapsed().as_millis() as u64;
    sink.finish(&summary);
    Ok(summary)
}

/// Runs `list` (a client's `each_user`) on a second thread while `each` judges and prints the
/// users it yields on this one, in order: reading and parsing the answer and printing the rows
/// each take about half of a large listing's time (issue 13). The channel holds at most a few
/// batches, so memory stays flat; if printing stops early nothing is lost, as the list is
/// only read.
fn each_user_alongside(
    list: impl FnOnce(&mut dyn UserSink) -> Result<u64, TenableError> + Send,
    each: &mut dyn FnMut(ListedUser<'_>),
) -> Result<u64, TenableError> {
    // A batch is one buffer of text, so a user costs no allocation on either side; printed
    // batches go back to be filled again, so the buffers are not allocated anew either.
    let (tx, rx) = std::sync::mpsc::sync_channel::<ListedUsers>(4);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<ListedUsers>();
    std::thread::scope(|scope| {
        // Named for profilers; it fails to start only where `scope.spawn` would panic too.
        let reader = std::thread::Builder::new().name("list-reader".into());
        let reader = reader.spawn_scoped(scope, move || {
            let mut batches = Batches {
                batch: Batches::fresh(),
                full: tx,
                emptied: back_rx,
            };
            let result = list(&mut batches);
            if !batches.batch.is_empty() {
                let _ = batches.full.send(batches.batch);
            }
            result
        });
        let reader = reader.expect("the list reader thread could not start");
        for mut batch in rx {
            batch.iter().for_each(&mut *each);
            batch.clear();
            // The reader may be done and gone: then the batch is dropped here.
            let _ = back_tx.send(batch);
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The list reader's side of [`each_user_alongside`]: users packed into a batch, handed over
/// full, and batches printed taken back to be filled again.
struct Batches {
    batch: ListedUsers,
    full: std::sync::mpsc::SyncSender<ListedUsers>,
    emptied: std::sync::mpsc::Receiver<ListedUsers>,
}

impl Batches {
    fn fresh() -> ListedUsers {
        ListedUsers::with_capacity(ListedUsers::FULL_USERS)
    }
}

impl UserSink for Batches {
    fn user(&mut self, user: ListedUser<'_>) {
        self.batch.push(&user);
        self.packed();
    }

    fn batch(&mut self) -> Option<&mut ListedUsers> {
        Some(&mut self.batch)
    }

    fn packed(&mut self) {
        if self.batch.is_full() {
            let empty = self.emptied.try_recv().unwrap_or_else(|_| Batches::fresh());
            // A closed channel means the printing side is gone; the read ends on its own.
            let _ = self.full.send(std::mem::replace(&mut self.batch, empty));
        }
    }
}

/// Prints `users` and `credentials` as a `discover` run prints them in `format`, each judged
/// as it judges them (the API user first, an administrator's keys), with `secrets` as the
/// keys the screen and the redactor know; what it printed. For the `rows` fuzz target, which
/// holds every line printed free of a secret and of unsafe characters, whatever the values.
#[doc(hidden)]
pub fn print_rows(
    format: DiscoverFormat,
    platform: Platform,
    users: &[ListedUser<'_>],
    credentials: &[ListedCredential],
    secrets: &[&str],
) -> Vec<u8> {
    let mut ctx = RunContext::default();
    for secret in secrets {
        ctx.redactor.add_text(secret);
    }
    let base = crate::transport::BaseUrl::parse("https://cloud.tenable.com").expect("a URL");
    let api = users.first().cloned().unwrap_or_default();
    let mut out = Vec::new();
    let mut sink = Sink::new(format, &ctx, platform, &mut out, secrets);
    sink.begin(&api, &base);
    for u in users {
        sink.user(u, &judge_user(platform, u, Some(&api), true));
    }
    sink.end_users(users.len() as u64);
    for c in credentials {
        sink.credential(c, &judge_credential(c));
    }
    sink.finish(&Summary {
        users: users.len() as u64,
        credentials: credentials.len() as u64,
        ..Summary::default()
    });
    drop(sink);
    out
}

/// The run's JSON object, as other subcommands' `--output json` (for the audit line): no
/// items (nothing is touched), and the counts.
pub fn result_json(ctx: &RunContext, result: &Result<Summary, Error>) -> Value {
    let status = result
        .as_ref()
        .map_or_else(Error::exit_status, |_| ExitStatus::Success);
    let mut value = json!({
        "outcome": status.name(),
        "exit_code": status.code(),
        "password_state": crate::rotate::PasswordState::NotChanged.id(),
        "mode": "discover",
        "platform": ctx.platform,
        "base_url": ctx.base_url,
        "key_source": ctx.key_source.as_deref().map(untrusted::field),
        "target": Value::Null,
        "items": [],
        "request_ids": [],
        "counts": Value::Null,
        "error": Value::Null,
    });
    match result {
        Ok(summary) => {
            value["counts"] = summary.to_json();
            value["duration_ms"] = Value::from(summary.duration_ms);
        }
        Err(e) => {
            value["error"] = Value::from(ctx.line(&e.to_string(), &crate::app::fallback(status)));
        }
    }
    value
}

/// Ends a `discover` run: the rows are already printed; a failure is one line on stderr (the
/// rows printed before it are incomplete).
pub fn report(ctx: &RunContext, result: Result<Summary, Error>) -> ExitStatus {
    match result {
        Ok(_) => ExitStatus::Success,
        Err(e) => {
            let status = e.exit_status();
            let line = ctx.line(&e.to_string(), &crate::app::fallback(status));
            let _ = writeln!(std::io::stderr(), "tenable-rotate: {line}");
            status
        }
    }
}

fn ctx_redactor(ctx: &RunContext) -> crate::secret::Redactor {
    ctx.redactor.clone()
}

impl Summary {
    fn count(&mut self, v: Verdict) {
        match v {
            Verdict::User => self.rotatable_as_user += 1,
            Verdict::Credential => self.rotatable_as_credential += 1,
            Verdict::No => self.not_rotatable += 1,
        }
    }

    /// The counts as JSON (for the document and the audit line).
    pub fn to_json(&self) -> Value {
        json!({
            "users": self.users,
            "credentials": self.credentials,
            "rotatable_as_user": self.rotatable_as_user,
            "rotatable_as_credential": self.rotatable_as_credential,
            "not_rotatable": self.not_rotatable,
            "accounts_in_several_credentials": self.shared_accounts,
            "keeper_import_records": self.imported_records,
        })
    }
}

/// Rotatable credential accounts, grouped the way `tenable_credential_match` = `username`
/// matches them (`CORP\svc` and `svc@corp.example.com` are one account), for the import file:
/// one PAM User per account, however many credentials hold it.
struct Accounts {
    /// A hash of each account's key → how many credentials hold it: all the count of shared
    /// accounts needs, at some 16 bytes an account, so 50 000 credentials stay within the
    /// memory bound (issue 13).
    counts: HashMap<u64, u32>,
    /// Only with `--keeper-import`, which writes one record per account: key → (login as first
    /// seen, credential names (the first few), count), and the order of first appearance.
    detail: Option<(HashMap<String, AccountGroup>, Vec<String>)>,
}

/// One account of the import file: its login as first seen, the first few credential names
/// that hold it, and how many do.
type AccountGroup = (String, Vec<String>, u64);

/// `DOM\user`, `user@dom.example` and `user` with the domain `DOM` all give `user@dom`.
fn account_key(account: &str) -> String {
    let a = account.trim();
    let (user, dom) = if let Some((d, u)) = a.split_once('\\') {
        (u, Some(d))
    } else if let Some((u, d)) = a.rsplit_once('@') {
        (u, Some(d))
    } else {
        (a, None)
    };
    let dom = dom.map(|d| d.split('.').next().unwrap_or(d).to_ascii_lowercase());
    format!("{}@{}", user.to_ascii_lowercase(), dom.unwrap_or_default())
}

impl Accounts {
    fn new(with_detail: bool) -> Accounts {
        Accounts {
            counts: HashMap::new(),
            detail: with_detail.then(Default::default),
        }
    }

    fn note(&mut self, c: &ListedCredential, j: &Judgement) {
        if j.verdict != Verdict::Credential {
            return;
        }
        let Some(login) = &j.login else { return };
        let key = account_key(login);
        let hash = {
            use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
            BuildHasherDefault::<DefaultHasher>::default().hash_one(&key)
        };
        let count = self.counts.entry(hash).or_insert(0);
        *count = count.saturating_add(1);
        let Some((groups, order)) = &mut self.detail else {
            return;
        };
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key);
            (login.to_string(), Vec::new(), 0)
        });
        entry.2 += 1;
        if entry.1.len() < 5 {
            entry.1.push(c.name.clone());
        }
    }

    fn shared(&self) -> u64 {
        self.counts.values().filter(|n| **n > 1).count() as u64
    }

    fn write_to(&self, import: &mut ImportFile) {
        let Some((groups, order)) = &self.detail else {
            return;
        };
        for key in order {
            if let Some((login, names, count)) = groups.get(key) {
                import.credential_account(login, names, *count);
            }
        }
    }
}

/// A fast, conservative screen for text that might quote one of `discover`'s secrets (the API
/// keys). The run's redactor compares every 8-byte window of every encoded form of a secret
/// with every position of the text, which for 64-character keys costs far more than the row
/// itself: at 200 000 rows it stretched a listing past the request timeout. The screen keeps
/// every 8-byte window of each key, of its base64 at the three alignments, and of the base64
/// of those (the redactor decodes two levels), in a hash set: a line with none of them, and
/// with no `\` or `%` (JSON escapes and percent-encoding, which the redactor also decodes),
/// cannot match the redactor, and is printed with the same escaping and cap but without the
/// redactor's pass. Any other line takes the redactor's full path, as before.
///
/// Not every window of the text is looked up (issue 13: that was a sixth of `discover`'s
/// time at 200 000 rows). Any eight bytes in a row hold the four bytes that start at the one
/// position among their first five that is a multiple of five. So a text whose 4-byte pieces
/// at positions 0, 5, 10, ... are none of the forms' pieces holds none of their windows; only
/// around a piece that may be one are the windows looked up.
struct Screen {
    /// Whether no secret holds a `"`, so that screening a JSON row's values is enough.
    values_suffice: bool,
    /// Whether no secret holds a `"` or a `,`, so that screening a CSV row's values is
    /// enough ([`write_user_csv`]).
    csv_values_suffice: bool,
    /// Whether every secret is printable ASCII without a space, so that screening a table
    /// row's cells is enough ([`Sink::print_row`]): any other 8-byte window of the line holds
    /// a space (two or more part the cells) or a byte of a cut's `…`.
    table_values_suffice: bool,
    windows: std::collections::HashSet<u64>,
    /// A 65 536-bit filter over `windows`, so that most windows looked up cost one multiply.
    filter: Vec<u64>,
    /// A 262 144-bit filter over every 4-byte piece of every form.
    pieces: Vec<u64>,
    /// [`Screen::pieces_hold`] of each of [`ROLE_WORDS`], answered once: every TVM user has
    /// one of them as its role (issue 13).
    role_words_held: [bool; ROLE_WORDS.len()],
}

/// The bit of `value` in a filter of `2^bits` bits.
fn screen_bit(value: u64, bits: u32) -> usize {
    (value.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize
}

/// Whether `bit` is set in `filter`.
fn filter_holds(filter: &[u64], bit: usize) -> bool {
    filter[bit / 64] & (1 << (bit % 64)) != 0
}

/// The bits of [`Screen::filter`] and [`Screen::pieces`].
const WINDOW_BITS: u32 = 16;
const PIECE_BITS: u32 = 18;

impl Screen {
    fn new(secrets: &[&str]) -> Screen {
        use base64::Engine;
        let b64 = |v: &[u8]| -> Vec<Vec<u8>> {
            (0..3)
                .map(|shift| {
                    let mut padded = vec![b'A'; shift];
                    padded.extend_from_slice(v);
                    base64::engine::general_purpose::STANDARD
                        .encode(padded)
                        .into_bytes()
                })
                .collect()
        };
        let mut windows = std::collections::HashSet::new();
        let mut filter = vec![0u64; 1 << (WINDOW_BITS - 6)];
        let mut pieces = vec![0u64; 1 << (PIECE_BITS - 6)];
        let set = |filter: &mut [u64], bit: usize| filter[bit / 64] |= 1 << (bit % 64);
        for secret in secrets {
            let mut forms = vec![secret.as_bytes().to_vec()];
            for once in b64(secret.as_bytes()) {
                forms.extend(b64(&once));
                forms.push(once);
            }
            for form in &forms {
                for w in form.windows(8) {
                    let window = u64::from_le_bytes(w.try_into().expect("8 bytes"));
                    windows.insert(window);
                    set(&mut filter, screen_bit(window, WINDOW_BITS));
                }
                for p in form.windows(4) {
                    let piece = u32::from_le_bytes(p.try_into().expect("4 bytes"));
                    set(&mut pieces, screen_bit(u64::from(piece), PIECE_BITS));
                }
            }
        }
        let mut screen = Screen {
            values_suffice: secrets.iter().all(|s| !s.contains('"')),
            csv_values_suffice: secrets.iter().all(|s| !s.contains(['"', ','])),
            table_values_suffice: secrets
                .iter()
                .all(|s| s.bytes().all(|b| b.is_ascii_graphic())),
            windows,
            filter,
            pieces,
            role_words_held: [false; ROLE_WORDS.len()],
        };
        screen.role_words_held = ROLE_WORDS.map(|(_, word)| screen.pieces_hold(word.as_bytes()));
        screen
    }

    /// Whether some value of `row` might quote a secret. Enough to clear the whole JSON line
    /// when [`Screen::values_suffice`]: the rest of the line is this program's own text, and
    /// a fragment across a value's edge would hold the quote that delimits it, which no
    /// secret holds then (a quote inside a value is escaped, and a value with `\` or `"`
    /// is sent to the redactor). A value equal to the one before it in [`Row::texts`] (a
    /// user's name, email and login are often one text) is not screened again.
    #[cfg(test)]
    fn maybe_row(&self, row: &Row<'_>) -> bool {
        if !self.values_suffice {
            return true;
        }
        let mut before = None;
        let text_may = row.texts().into_iter().flatten().any(|v| {
            let again = before == Some(v);
            before = Some(v);
            !again && self.maybe_marked(v, b'"')
        });
        text_may || row.settings().any(|v| self.maybe_marked(v, b'"'))
    }

    /// Whether `text` might quote a secret (then the redactor must look at it).
    fn maybe(&self, text: &str) -> bool {
        // A backslash is looked for anyway: no further mark.
        self.maybe_marked(text, b'\\')
    }

    /// [`Screen::maybe`], and true as well when `text` holds `mark`.
    fn maybe_marked(&self, text: &str, mark: u8) -> bool {
        self.maybe_bytes(text.as_bytes(), mark)
    }

    /// [`Screen::maybe_marked`] of text as bytes.
    fn maybe_bytes(&self, bytes: &[u8], mark: u8) -> bool {
        let marked = untrusted::any_byte(bytes, |w| {
            untrusted::bytes_equal(w, b'\\')
                | untrusted::bytes_equal(w, b'%')
                | untrusted::bytes_equal(w, mark)
        });
        marked || self.pieces_hold(bytes)
    }

    /// Whether some 8-byte window of `bytes` may be one of a secret's (the screen without its
    /// marks).
    fn pieces_hold(&self, bytes: &[u8]) -> bool {
        if bytes.len() < 8 {
            return false;
        }
        // Every 8-byte window [s, s + 8) holds the piece at the multiple of five `at` in
        // [s, s + 4], and `at + 4 <= s + 8 <= len`. A plain loop: as an iterator's `any`,
        // the test of each piece was a call of its own (4% of printing 200 000 rows).
        let mut at = 0;
        while let Some(piece) = bytes.get(at..at + 4) {
            let piece = u32::from_le_bytes(piece.try_into().expect("4 bytes"));
            if filter_holds(&self.pieces, screen_bit(u64::from(piece), PIECE_BITS))
                && self.windows_around(bytes, at)
            {
                return true;
            }
            at += 5;
        }
        false
    }

    /// Whether an 8-byte window of `bytes` that holds the piece at `at` is a secret's.
    #[cold]
    fn windows_around(&self, bytes: &[u8], at: usize) -> bool {
        (at.saturating_sub(4)..=at.min(bytes.len() - 8)).any(|start| {
            let window = u64::from_le_bytes(bytes[start..start + 8].try_into().expect("8 bytes"));
            filter_holds(&self.filter, screen_bit(window, WINDOW_BITS))
                && self.windows.contains(&window)
        })
    }
}

/// Where rows go, in the chosen format.
struct Sink<'a> {
    format: DiscoverFormat,
    ctx: &'a RunContext,
    platform: Platform,
    out: &'a mut dyn Write,
    screen: Screen,
    /// Table only: rows held until the widths are known (at most [`TABLE_BATCH`]).
    pending: Vec<[String; 7]>,
    widths: Option<[usize; 7]>,
    section: &'static str,
    rows: u64,
    /// Table only: the section's distinct reasons, printed under it as numbered notes.
    notes: Vec<String>,
    notes_overflow: bool,
    /// The rows written and not yet handed to the output (at most about [`ROWS_HELD`]
    /// bytes), in one buffer kept between rows: JSON rows, and table and CSV lines that need
    /// nothing done to them ([`Sink::end_line`]).
    buffer: Vec<u8>,
}

/// JSON rows held before they are handed to the output at once: one write of 64 KiB goes
/// past the output's 8 KiB buffer, where each row was copied into it (issue 13: 82 MB at
/// 200 000 users) and written 8 KiB at a time.
const ROWS_HELD: usize = 64 * 1024;

impl Drop for Sink<'_> {
    /// Rows held when a run stops early (an error after the users were listed) are still
    /// printed, as the output's own buffer prints what it holds.
    fn drop(&mut self) {
        self.flush_rows();
    }
}

/// Most distinct reasons a table section numbers; the rest share one note.
const MAX_NOTES: usize = 30;

/// Rows read before a table's widths are fixed; later rows are cut to them. Keeps memory flat
/// for any tenant while small tenants get columns fitted to their content.
const TABLE_BATCH: usize = 500;

/// Widest each table column may be, in characters; the last column is not cut.
const USER_MAX: [usize; 7] = [7, 26, 16, 8, 10, 10, 0];
const USER_HEAD: [&str; 7] = [
    "ID",
    "USERNAME",
    "ROLE",
    "STATE",
    "SIGN-IN",
    "LAST LOGIN",
    "ROTATE",
];
const CRED_MAX: [usize; 7] = [24, 12, 10, 24, 8, 0, 0];
const CRED_HEAD: [&str; 7] = [
    "NAME", "TYPE", "CATEGORY", "ACCOUNT", "PASSWORD", "ROTATE", "",
];

/// `text` cut to `width` characters, with `…` marking a cut.
#[cfg(test)]
fn fit(text: &str, width: usize) -> String {
    let mut out = Vec::new();
    write_fitted(&mut out, text, width, text.is_ascii());
    String::from_utf8(out).expect("whole characters")
}

/// [`fit`] of `text`, appended to `out`; how many characters it wrote, and whether it cut
/// `text`. `ascii` says that `text` is ASCII, each character one byte (as a table's cells
/// most often are).
fn write_fitted(out: &mut Vec<u8>, text: &str, width: usize, ascii: bool) -> (usize, bool) {
    let count = if ascii {
        text.len()
    } else {
        text.chars().count()
    };
    if width == 0 || count <= width {
        out.extend_from_slice(text.as_bytes());
        return (count, false);
    }
    let kept = width.saturating_sub(1);
    let end = if ascii {
        kept
    } else {
        text.char_indices()
            .nth(kept)
            .map_or(text.len(), |(at, _)| at)
    };
    out.extend_from_slice(&text.as_bytes()[..end]);
    out.extend_from_slice("…".as_bytes());
    (kept + 1, true)
}

/// What one look at a line's bytes, eight at a time, finds.
#[derive(Debug, PartialEq)]
struct LineLook {
    /// How many bytes are past ASCII.
    high: usize,
    /// Whether a byte is a control character (below a space, or DEL).
    control: bool,
    /// Whether a byte is one of the screen's marks (`\`, `%`).
    marked: bool,
}

impl LineLook {
    fn of(bytes: &[u8]) -> LineLook {
        // The bytes past ASCII are counted in eight lanes of a word, one per byte of each
        // word of the line (a count of bits per word takes a dozen instructions where the
        // CPU is not known to count them in one). A lane holds at most 255: a longer line's
        // are counted one by one.
        let (mut lanes, mut control, mut marked) = (0u64, 0u64, 0u64);
        let mut see = |w: u64| {
            lanes = lanes.wrapping_add((w & HIGH_BITS) >> 7);
            control |= untrusted::bytes_below(w, 0x20) | untrusted::bytes_equal(w, 0x7f);
            marked |= untrusted::bytes_equal(w, b'\\') | untrusted::bytes_equal(w, b'%');
        };
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            see(u64::from_le_bytes(word.try_into().expect("8 bytes")));
        }
        // The last bytes, padded with spaces (none of the above).
        let mut tail = [b' '; 8];
        tail[..words.remainder().len()].copy_from_slice(words.remainder());
        see(u64::from_le_bytes(tail));
        let high = if bytes.len() <= 8 * 255 {
            lanes.to_le_bytes().iter().map(|&n| usize::from(n)).sum()
        } else {
            bytes.iter().filter(|b| !b.is_ascii()).count()
        };
        LineLook {
            high,
            control: control != 0,
            marked: marked != 0,
        }
    }
}

/// Spaces to pad a table's cell with: more than its widest column (26) and the gap after.
const SPACES: [u8; 32] = [b' '; 32];

/// A UTC date and time, `YYYY-MM-DDTHH:MM:SSZ`, from seconds since the epoch.
pub fn utc_timestamp(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn last_login(u: &ListedUser) -> Option<String> {
    u.last_login.filter(|s| *s > 0).map(utc_timestamp)
}

fn sign_in<'a>(u: &'a ListedUser<'_>, platform: Platform) -> Option<Cow<'a, str>> {
    if let Some(a) = u.authorizations {
        let permitted: Vec<&str> = [(a.password, "password"), (a.saml, "saml"), (a.api, "api")]
            .iter()
            .filter_map(|(on, name)| on.then_some(*name))
            .collect();
        return Some(if permitted.is_empty() {
            "none".into()
        } else {
            permitted.join("+").into()
        });
    }
    let t = u.auth_type.as_deref()?;
    Some(match platform {
        Platform::Sc if t.eq_ignore_ascii_case("tns") => "password".into(),
        _ => untrusted::field_cow(t),
    })
}

/// Where `u`'s role is in [`ROLE_WORDS`], when it is the word for its `permissions` (every
/// TVM user whose role Tenable names): that text is known to be quiet, and how it screens is
/// known ([`Screen::role_words_held`]).
fn role_word_of(u: &ListedUser<'_>) -> Option<usize> {
    let word = role_word(u.permissions?)?;
    (u.role.as_deref() == Some(ROLE_WORDS[word].1)).then_some(word)
}

/// A role as the table shows it: its name, without the number after it (`Standard [32]`).
fn role_name(role: &str) -> &str {
    let bytes = role.as_bytes();
    // Each `[` looked for, as `split(" [")` made a searcher for every row.
    let mut at = 0;
    while let Some(found) = bytes[at..].iter().position(|&b| b == b'[') {
        let bracket = at + found;
        if bracket > 0 && bytes[bracket - 1] == b' ' {
            return &role[..bracket - 1];
        }
        at = bracket + 1;
    }
    role
}

fn state(u: &ListedUser) -> &'static str {
    match (u.enabled, u.locked) {
        (Some(false), _) => "disabled",
        (_, Some(true)) => "locked",
        (Some(true), _) => "enabled",
        (None, Some(false)) => "unlocked",
        (None, None) => "-",
    }
}

fn opt(v: Option<&str>) -> Value {
    v.map_or(Value::Null, |s| Value::from(untrusted::field(s)))
}

/// A field from Tenable, made safe (borrowed when nothing needed changing).
fn safe(v: Option<&str>) -> Option<Cow<'_, str>> {
    v.map(untrusted::field_cow)
}

/// One row of the JSON and CSV output; every string from Tenable made safe. The keys are the
/// same for every row (null where they do not apply): README documents them. Declared in
/// alphabetical order, the order the rows have always had. Serialized straight to the output
/// line, without a `serde_json::Value` per row (issue 13: 200 000 rows).
#[derive(Serialize)]
pub struct Row<'a> {
    account: Option<Cow<'a, str>>,
    can_edit: Option<bool>,
    category: Option<Cow<'a, str>>,
    display_name: Option<Cow<'a, str>>,
    email: Option<Cow<'a, str>>,
    enabled: Option<bool>,
    id: Option<Cow<'a, str>>,
    #[serde(serialize_with = "settings_as_object")]
    key_record: Option<Cow<'a, [KeySetting<'a>]>>,
    kind: &'static str,
    last_login: Option<String>,
    locked: Option<bool>,
    name: Option<Cow<'a, str>>,
    pam_user_login: Option<Cow<'a, str>>,
    password_setting: Option<bool>,
    reason: Option<&'a str>,
    role: Option<Cow<'a, str>>,
    sign_in: Option<Cow<'a, str>>,
    #[serde(rename = "type")]
    kind_name: Option<Cow<'a, str>>,
    verdict: &'static str,
}

/// The high bit of every byte of a word.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// Whether a value from Tenable is *quiet*: at most [`untrusted::FIELD_MAX_CHARS`] long,
/// printable ASCII with no quote, backslash or `%`. `untrusted::field_cow` leaves it as it
/// is, JSON and CSV write it with only quotes around it, and it holds no screen mark.
#[inline(always)]
fn quiet(v: &str) -> bool {
    v.len() <= untrusted::FIELD_MAX_CHARS
        && !untrusted::any_byte(v.as_bytes(), |w| {
            // A control character, a quote or a backslash; a `%`; DEL; past ASCII.
            untrusted::json_special(w)
                | untrusted::bytes_equal(w, b'%')
                | untrusted::bytes_equal(w, 0x7f)
                | (w & HIGH_BITS)
        })
}

/// Whether every byte of `bytes` is printable ASCII (a space to `~`).
fn printable_ascii(bytes: &[u8]) -> bool {
    !untrusted::any_byte(bytes, |w| {
        untrusted::bytes_below(w, 0x20) | (w & HIGH_BITS) | untrusted::bytes_equal(w, 0x7f)
    })
}

/// Whether `bytes` is text that `untrusted::escape` leaves as it is because it holds only
/// printable ASCII and the `…` this program writes where it cuts a table's cell.
fn shown_as_is(mut bytes: &[u8]) -> bool {
    loop {
        let Some(at) = bytes.iter().position(|b| !(b' '..=b'~').contains(b)) else {
            return true;
        };
        match bytes[at..].strip_prefix("…".as_bytes()) {
            Some(rest) => bytes = rest,
            None => return false,
        }
    }
}

/// A user and its judgement, with what its row shows that is made from them, for the rows
/// written straight from the user ([`write_user_json`], [`write_user_csv`]).
struct UserRow<'r, 'a, 'j> {
    u: &'r ListedUser<'a>,
    j: &'r Judgement<'j>,
    /// Whether its key record is a user's (`tenable_target = user`); else it has none.
    user_setting: bool,
    last_login: Option<String>,
    sign_in: Option<Cow<'r, str>>,
}

impl<'r, 'a, 'j> UserRow<'r, 'a, 'j> {
    /// `None` for a judgement whose key record is not a user's: that row is written the
    /// general way.
    fn of(platform: Platform, u: &'r ListedUser<'a>, j: &'r Judgement<'j>) -> Option<Self> {
        let user_setting = match &*j.key_record {
            [] => false,
            settings if settings == USER_KEY_RECORD => true,
            _ => return None,
        };
        Some(UserRow {
            u,
            j,
            user_setting,
            last_login: last_login(u),
            sign_in: sign_in(u, platform),
        })
    }
}

/// A user's row as JSON, appended to `out`, byte for byte as [`Row::write_json`] writes
/// `Row::new(platform, Some(u), None, j)`, and whether it might quote a secret, as it says (a
/// test holds them equal). Written straight from the user: each value is made safe, escaped
/// and screened in one look at its bytes (issue 13: building the row first looked at each
/// value twice, and was a fifth of printing 200 000 users).
fn write_user_json(out: &mut Vec<u8>, row: &UserRow<'_, '_, '_>, screen: &Screen) -> bool {
    let UserRow {
        u,
        j,
        user_setting,
        ref last_login,
        ref sign_in,
    } = *row;
    let mut w = JsonWriter::new(out, screen);
    w.opt_field(
        b"{\"account\":null,\"can_edit\":null,\"category\":null,\"display_name\":",
        u.name.as_deref(),
    );
    w.opt_field(b",\"email\":", u.email.as_deref());
    w.opt_flag(b",\"enabled\":", u.enabled);
    w.opt_field(b",\"id\":", Some(&u.id));
    if user_setting {
        w.out
            .extend_from_slice(b",\"key_record\":{\"tenable_target\":");
        w.text(&USER_KEY_RECORD[0].1, true);
        w.out.extend_from_slice(b"},\"kind\":\"user\"");
    } else {
        w.out
            .extend_from_slice(b",\"key_record\":null,\"kind\":\"user\"");
    }
    w.opt_text(b",\"last_login\":", last_login.as_deref());
    w.opt_flag(b",\"locked\":", u.locked);
    w.opt_field(b",\"name\":", Some(&u.username));
    w.opt_field(b",\"pam_user_login\":", j.login.as_deref());
    w.out.extend_from_slice(b",\"password_setting\":null");
    w.opt_text(b",\"reason\":", j.reason.as_deref());
    match role_word_of(u) {
        Some(word) => {
            w.out.extend_from_slice(b",\"role\":");
            w.role_word(word);
        }
        None => w.opt_field(b",\"role\":", u.role.as_deref()),
    }
    w.opt_text(b",\"sign_in\":", sign_in.as_deref());
    w.out.extend_from_slice(b",\"type\":null,\"verdict\":");
    w.text(j.verdict.id(), false);
    w.out.push(b'}');
    w.maybe
}

/// A user's row as CSV, appended to `out`, byte for byte as [`Row::write_csv`] writes
/// `Row::new(platform, Some(u), None, j)`, and whether it might quote a secret, its values
/// screened one by one as [`write_user_json`] screens them (issue 13: the screen looked
/// through every line whole, a fifth of printing 200 000 users as CSV). `None` (nothing
/// written) when a value needs more than quotes around it (it is not printable ASCII, or
/// holds a quote, a backslash or a `%`, or would start a formula), or when some secret holds
/// a `"` or a `,`: that row is written the general way and its line screened whole.
///
/// Screening the values is enough: an 8-byte window of the line that is not inside one value
/// holds a `"` (every value written is quoted) or is eight commas (empty cells), and no
/// secret holds either ([`Screen::csv_values_suffice`]). A value with neither quotes nor
/// anything to escape is written in CSV as in JSON, so [`JsonWriter`] writes it.
fn write_user_csv(out: &mut Vec<u8>, row: &UserRow<'_, '_, '_>, screen: &Screen) -> Option<bool> {
    let UserRow {
        u,
        j,
        user_setting,
        ref last_login,
        ref sign_in,
    } = *row;
    let role_word = role_word_of(u);
    let values = [
        Some(&*u.id),
        Some(&*u.username),
        u.name.as_deref(),
        u.email.as_deref(),
        // A role word is quiet and starts no formula.
        u.role.as_deref().filter(|_| role_word.is_none()),
        sign_in.as_deref(),
        last_login.as_deref(),
        j.reason.as_deref(),
        j.login.as_deref(),
    ];
    let plain = |v: &str| quiet(v) && !v.starts_with(['=', '+', '-', '@']);
    if !screen.csv_values_suffice || !values.into_iter().flatten().all(plain) {
        return None;
    }
    let mut w = JsonWriter::new(out, screen);
    let flag = |v: Option<bool>| match v {
        Some(true) => &b"\"true\""[..],
        Some(false) => b"\"false\"",
        None => b"",
    };
    w.out.extend_from_slice(b"\"user\",");
    w.field(&u.id);
    w.out.push(b',');
    w.field(&u.username);
    w.out.push(b',');
    if let Some(name) = u.name.as_deref() {
        w.field(name);
    }
    w.out.push(b',');
    if let Some(email) = u.email.as_deref() {
        w.field(email);
    }
    w.out.push(b',');
    match (role_word, u.role.as_deref()) {
        (Some(word), _) => w.role_word(word),
        (None, Some(role)) => w.field(role),
        (None, None) => {}
    }
    w.out.push(b',');
    w.out.extend_from_slice(flag(u.enabled));
    w.out.push(b',');
    w.out.extend_from_slice(flag(u.locked));
    w.out.push(b',');
    if let Some(sign_in) = sign_in.as_deref() {
        w.text(sign_in, true);
    }
    w.out.push(b',');
    if let Some(last_login) = last_login.as_deref() {
        w.text(last_login, true);
    }
    // type, category, account, password_setting, can_edit: a credential's.
    w.out.extend_from_slice(b",,,,,,");
    w.text(j.verdict.id(), false);
    w.out.push(b',');
    if let Some(reason) = j.reason.as_deref() {
        w.text(reason, true);
    }
    w.out.push(b',');
    if let Some(login) = j.login.as_deref() {
        w.field(login);
    }
    w.out.push(b',');
    if user_setting {
        w.text(&USER_KEY_RECORD[0].1, true);
    }
    // tenable_credential_match, tenable_credential_name: a credential's.
    w.out.extend_from_slice(b",,");
    Some(w.maybe)
}

/// Writes a row's values as JSON and screens them ([`Row::write_json`]).
struct JsonWriter<'o, 's, 'r> {
    out: &'o mut Vec<u8>,
    screen: &'s Screen,
    /// Whether some value screened so far might quote a secret.
    maybe: bool,
    /// The values of this row screened so far (the first eight): a user's email, name and
    /// login are often one text, screened once.
    screened: [&'r str; 8],
    count: usize,
    /// The values from Tenable written so far in this row (the first four), and where their
    /// JSON is in `out`: a user's email, name and login are most often one text, made safe,
    /// escaped and screened once and then copied (issue 13).
    fields: [(&'r str, std::ops::Range<usize>); 4],
    field_count: usize,
}

impl<'o, 's, 'r> JsonWriter<'o, 's, 'r> {
    /// A writer of one row into `out`, screened by `screen`.
    fn new(out: &'o mut Vec<u8>, screen: &'s Screen) -> Self {
        JsonWriter {
            out,
            screen,
            // A key with a quote could span a value's edge: then every row goes whole.
            maybe: !screen.values_suffice,
            screened: [""; 8],
            count: 0,
            fields: [("", 0..0), ("", 0..0), ("", 0..0), ("", 0..0)],
            field_count: 0,
        }
    }

    /// `v` as a JSON string; screened unless it is this program's own word.
    ///
    /// One look at its bytes finds both what JSON escapes (a quote, a backslash, a control
    /// character) and the screen's marks (a quote, a backslash, a `%`). A value with none
    /// is copied whole and only its pieces are looked up; any other (rare: `field_cow` leaves
    /// no control character in a value from Tenable) is escaped by serde_json and screened
    /// as [`Screen::maybe_marked`] screens it.
    fn text(&mut self, v: &'r str, screened: bool) {
        let bytes = v.as_bytes();
        let special = untrusted::any_byte(bytes, |w| {
            untrusted::json_special(w) | untrusted::bytes_equal(w, b'%')
        });
        if special {
            return self.escaped_text(v, screened);
        }
        self.clean_text(v, screened);
    }

    /// `v` written by serde_json (which escapes what JSON needs) and screened as
    /// [`Screen::maybe_marked`] screens it, in full: not kept to compare with.
    fn escaped_text(&mut self, v: &str, screened: bool) {
        // Writing to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *self.out, v);
        if screened && !self.maybe {
            self.maybe = self.screen.maybe_marked(v, b'"');
        }
    }

    /// The role word `ROLE_WORDS[word]`, quoted, screened by the answer the screen keeps for
    /// it: as [`JsonWriter::field`] writes and screens it, without looking at it again.
    fn role_word(&mut self, word: usize) {
        self.out.push(b'"');
        self.out.extend_from_slice(ROLE_WORDS[word].1.as_bytes());
        self.out.push(b'"');
        self.maybe |= self.screen.role_words_held[word];
    }

    /// `v`, which holds nothing JSON escapes and no screen mark, copied whole; its pieces
    /// looked up unless it is this program's own word or was looked up in this row.
    fn clean_text(&mut self, v: &'r str, screened: bool) {
        self.out.push(b'"');
        self.out.extend_from_slice(v.as_bytes());
        self.out.push(b'"');
        // Shorter than a window: nothing to look up (`Screen::pieces_hold`), nor to keep.
        if !screened || self.maybe || v.len() < 8 || self.screened[..self.count].contains(&v) {
            return;
        }
        if let Some(slot) = self.screened.get_mut(self.count) {
            *slot = v;
            self.count += 1;
        }
        self.maybe = self.screen.pieces_hold(v.as_bytes());
    }

    /// A value from Tenable, made safe as `untrusted::field_cow` makes it, then as
    /// [`JsonWriter::text`]: with one look at its bytes when it is printable ASCII, at most
    /// [`untrusted::FIELD_MAX_CHARS`] long, with no quote, backslash or `%` (then
    /// `field_cow` leaves it as it is and it is clean), as most names and ids are.
    fn field(&mut self, raw: &'r str) {
        let written = self.fields[..self.field_count]
            .iter()
            .find(|(v, _)| *v == raw)
            .map(|(_, at)| at.clone());
        if let Some(at) = written {
            // The same text: the same JSON, already screened.
            self.out.extend_from_within(at);
            return;
        }
        let start = self.out.len();
        self.made_safe(raw);
        if let Some(slot) = self.fields.get_mut(self.field_count) {
            *slot = (raw, start..self.out.len());
            self.field_count += 1;
        }
    }

    /// [`JsonWriter::field`] of a text not written before in this row.
    fn made_safe(&mut self, raw: &'r str) {
        if quiet(raw) {
            return self.clean_text(raw, true);
        }
        match untrusted::field_cow(raw) {
            Cow::Borrowed(safe) => self.text(safe, true),
            // Made here, so not kept to compare with: written by serde_json and screened in
            // full, as an escaped text is.
            Cow::Owned(safe) => self.escaped_text(&safe, true),
        }
    }

    /// [`JsonWriter::field`] of `v`, or `null`.
    #[inline(always)]
    fn opt_field(&mut self, key: &[u8], v: Option<&'r str>) {
        self.out.extend_from_slice(key);
        match v {
            Some(v) => self.field(v),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    /// A key with its separator and colon (`,"email":`) in one copy, then `v` or `null`.
    #[inline(always)]
    fn opt_text(&mut self, key: &[u8], v: Option<&'r str>) {
        self.out.extend_from_slice(key);
        match v {
            Some(v) => self.text(v, true),
            None => self.out.extend_from_slice(b"null"),
        }
    }

    #[inline(always)]
    fn opt_flag(&mut self, key: &[u8], v: Option<bool>) {
        self.out.extend_from_slice(key);
        self.out.extend_from_slice(match v {
            Some(true) => b"true",
            Some(false) => b"false",
            None => b"null",
        });
    }
}

/// A row's key record settings, in their order, as one JSON object.
fn settings_as_object<S: serde::Serializer>(
    settings: &Option<Cow<'_, [KeySetting<'_>]>>,
    to: S,
) -> Result<S::Ok, S::Error> {
    match settings {
        None => to.serialize_none(),
        Some(settings) => to.collect_map(settings.iter().map(|(k, v)| (k, v))),
    }
}

impl<'a> Row<'a> {
    /// The row of a user or a credential.
    pub fn new(
        platform: Platform,
        user: Option<&'a ListedUser<'_>>,
        credential: Option<&'a ListedCredential>,
        j: &'a Judgement<'_>,
    ) -> Row<'a> {
        // Borrowed as it is when every value is safe to print and the names are in order (a
        // user's one setting always), so that a user's row allocates nothing for it.
        let unchanged = j.key_record.is_sorted_by_key(|(k, _)| *k)
            && j.key_record
                .iter()
                .all(|(_, v)| matches!(untrusted::field_cow(v), Cow::Borrowed(_)));
        let key_record: Cow<'a, [KeySetting<'a>]> = if unchanged {
            Cow::Borrowed(&*j.key_record)
        } else {
            let mut safe: Vec<KeySetting<'a>> = j
                .key_record
                .iter()
                .map(|(k, v)| (*k, untrusted::field_cow(v)))
                .collect();
            safe.sort_by_key(|(k, _)| *k);
            Cow::Owned(safe)
        };
        let mut row = Row {
            account: None,
            can_edit: None,
            category: None,
            display_name: None,
            email: None,
            enabled: None,
            id: None,
            key_record: (!key_record.is_empty()).then_some(key_record),
            kind: if user.is_some() { "user" } else { "credential" },
            last_login: None,
            locked: None,
            name: None,
            pam_user_login: safe(j.login.as_deref()),
            password_setting: None,
            reason: j.reason.as_deref(),
            role: None,
            sign_in: None,
            kind_name: None,
            verdict: j.verdict.id(),
        };
        if let Some(u) = user {
            row.id = Some(untrusted::field_cow(&u.id));
            row.name = Some(untrusted::field_cow(&u.username));
            row.display_name = safe(u.name.as_deref());
            row.email = safe(u.email.as_deref());
            row.role = safe(u.role.as_deref());
            row.enabled = u.enabled;
            row.locked = u.locked;
            row.sign_in = sign_in(u, platform);
            row.last_login = last_login(u);
        }
        if let Some(c) = credential {
            row.id = Some(untrusted::field_cow(&c.id));
            row.name = Some(untrusted::field_cow(&c.name));
            row.kind_name = Some(untrusted::field_cow(&c.kind));
            row.category = safe(c.category.as_deref());
            row.account = safe(c.account.as_deref());
            row.password_setting = c.unreadable.is_none().then_some(c.password_key.is_some());
            row.can_edit = c.can_edit;
        }
        row
    }

    /// The row as compact JSON, appended to `out`: byte for byte what `serde_json` writes
    /// from the derived `Serialize` (a test holds them equal), written by hand because
    /// serde_json looks up every byte of every string for escapes, which was 16% of
    /// `discover`'s instructions at 200 000 rows (issue 13). A string with nothing to escape is copied
    /// whole; any other goes through serde_json.
    ///
    /// Each value is screened by `screen` as it is written, in the same look at its bytes
    /// (issue 13: a second pass over the row's values was a tenth of printing it). Returns
    /// whether some value might quote a secret, as [`Screen::maybe_row`] says (a test holds
    /// them equal): then the line goes to the redactor.
    fn write_json(&self, out: &mut Vec<u8>, screen: &Screen) -> bool {
        let mut w = JsonWriter::new(out, screen);
        w.opt_text(b"{\"account\":", self.account.as_deref());
        w.opt_flag(b",\"can_edit\":", self.can_edit);
        w.opt_text(b",\"category\":", self.category.as_deref());
        w.opt_text(b",\"display_name\":", self.display_name.as_deref());
        w.opt_text(b",\"email\":", self.email.as_deref());
        w.opt_flag(b",\"enabled\":", self.enabled);
        w.opt_text(b",\"id\":", self.id.as_deref());
        w.out.extend_from_slice(b",\"key_record\":");
        match &self.key_record {
            None => w.out.extend_from_slice(b"null"),
            Some(settings) => {
                for (i, (k, v)) in settings.iter().enumerate() {
                    w.out
                        .extend_from_slice(if i == 0 { b"{\"" } else { b",\"" });
                    w.out.extend_from_slice(k.as_bytes());
                    w.out.extend_from_slice(b"\":");
                    w.text(v, true);
                }
                w.out
                    .extend_from_slice(if settings.is_empty() { b"{}" } else { b"}" });
            }
        }
        // This program's own words: not screened.
        w.out.extend_from_slice(b",\"kind\":");
        w.text(self.kind, false);
        w.opt_text(b",\"last_login\":", self.last_login.as_deref());
        w.opt_flag(b",\"locked\":", self.locked);
        w.opt_text(b",\"name\":", self.name.as_deref());
        w.opt_text(b",\"pam_user_login\":", self.pam_user_login.as_deref());
        w.opt_flag(b",\"password_setting\":", self.password_setting);
        w.opt_text(b",\"reason\":", self.reason);
        w.opt_text(b",\"role\":", self.role.as_deref());
        w.opt_text(b",\"sign_in\":", self.sign_in.as_deref());
        w.opt_text(b",\"type\":", self.kind_name.as_deref());
        w.out.extend_from_slice(b",\"verdict\":");
        w.text(self.verdict, false);
        w.out.push(b'}');
        w.maybe
    }

    /// Every text value of the row but its key record settings (what came from Tenable, and
    /// our words); `None` where the row has none.
    #[cfg(test)]
    fn texts(&self) -> [Option<&str>; 12] {
        // Texts that are often one (a user's email, name and login; a credential's account
        // and login) side by side: [`Screen::maybe_row`] skips a text equal to the one before.
        [
            self.display_name.as_deref(),
            self.email.as_deref(),
            self.name.as_deref(),
            self.pam_user_login.as_deref(),
            self.account.as_deref(),
            self.id.as_deref(),
            self.category.as_deref(),
            self.role.as_deref(),
            self.kind_name.as_deref(),
            self.reason,
            self.last_login.as_deref(),
            self.sign_in.as_deref(),
        ]
    }

    /// The values of the row's key record settings.
    #[cfg(test)]
    fn settings(&self) -> impl Iterator<Item = &str> {
        self.key_record
            .iter()
            .flat_map(|kr| kr.iter().map(|(_, v)| &**v))
    }

    /// The row as one CSV line, in [`CSV_COLUMNS`] order, appended to `out`: each cell
    /// written where it goes, with no text made for it (issue 13: a `String` or three per
    /// cell made the CSV of 200 000 users five to eight times as slow as curl fetching them).
    fn write_csv(&self, out: &mut Vec<u8>) {
        let setting = |k: &str| {
            self.key_record
                .as_ref()
                .and_then(|kr| kr.iter().find(|(name, _)| *name == k))
                .map(|(_, v)| &**v)
        };
        let flag = |v: Option<bool>| v.map(|b| if b { "true" } else { "false" });
        let cells = [
            Some(self.kind),
            self.id.as_deref(),
            self.name.as_deref(),
            self.display_name.as_deref(),
            self.email.as_deref(),
            self.role.as_deref(),
            flag(self.enabled),
            flag(self.locked),
            self.sign_in.as_deref(),
            self.last_login.as_deref(),
            self.kind_name.as_deref(),
            self.category.as_deref(),
            self.account.as_deref(),
            flag(self.password_setting),
            flag(self.can_edit),
            Some(self.verdict),
            self.reason,
            self.pam_user_login.as_deref(),
            setting("tenable_target"),
            setting("tenable_credential_match"),
            setting("tenable_credential_name"),
        ];
        // An empty cell for a value the row does not have.
        write_csv_record(out, &cells);
    }
}

/// The CSV columns, in order: the JSON row's keys, `key_record` spread over three columns.
pub const CSV_COLUMNS: [&str; 21] = [
    "kind",
    "id",
    "name",
    "display_name",
    "email",
    "role",
    "enabled",
    "locked",
    "sign_in",
    "last_login",
    "type",
    "category",
    "account",
    "password_setting",
    "can_edit",
    "verdict",
    "reason",
    "pam_user_login",
    "tenable_target",
    "tenable_credential_match",
    "tenable_credential_name",
];

/// One CSV cell: quoted (RFC 4180, `"` doubled), and a text that a spreadsheet would run as a
/// formula (starting with `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`.
#[cfg(test)]
fn csv_cell(text: &str) -> String {
    let mut out = Vec::new();
    write_csv_cell(&mut out, text);
    String::from_utf8(out).expect("a cell of whole UTF-8 text")
}

/// The cells of a CSV record this program wrote ([`Row::write_csv`]): `None` for an empty
/// cell without quotes (a value the row does not have), a quoted cell's text with its doubled
/// quotes made one.
fn csv_record_cells(line: &str) -> Vec<Option<String>> {
    let mut cells = Vec::new();
    let mut at = 0;
    loop {
        if line[at..].starts_with('"') {
            let mut text = String::new();
            let mut from = at + 1;
            at = loop {
                let Some(quote) = line[from..].find('"') else {
                    text.push_str(&line[from..]);
                    break line.len();
                };
                text.push_str(&line[from..from + quote]);
                let after = from + quote + 1;
                if !line[after..].starts_with('"') {
                    break after;
                }
                text.push('"');
                from = after + 1;
            };
            cells.push(Some(text));
        } else {
            let end = line[at..].find(',').map_or(line.len(), |i| at + i);
            cells.push((end > at).then(|| line[at..end].to_owned()));
            at = end;
        }
        match line[at..].find(',') {
            Some(comma) => at += comma + 1,
            None => return cells,
        }
    }
}

/// Cuts the longest cells, each with a `…` where it is cut, until the record they make is at
/// most `max` bytes (or no cell is longer than 16 bytes).
fn cut_cells_to_fit(cells: &mut [Option<String>], max: usize) {
    let record_len = |cells: &[Option<String>]| {
        cells.len().saturating_sub(1)
            + cells
                .iter()
                .flatten()
                .map(|c| c.len() + c.matches('"').count() + 3)
                .sum::<usize>()
    };
    loop {
        let len = record_len(cells);
        let Some(longest) = cells.iter_mut().flatten().max_by_key(|c| c.len()) else {
            return;
        };
        if len <= max || longest.len() <= 16 {
            return;
        }
        // What is cut takes at least its length out of the record; `…` puts three bytes in.
        let mut keep = longest.len().saturating_sub(len - max + 3).max(8);
        while !longest.is_char_boundary(keep) {
            keep -= 1;
        }
        longest.truncate(keep);
        longest.push('…');
    }
}

/// A CSV record of `cells`, each quoted ([`write_csv_cell`]), an empty cell for a `None`.
fn write_csv_record<S: AsRef<str>>(out: &mut Vec<u8>, cells: &[Option<S>]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if let Some(text) = cell {
            write_csv_cell(out, text.as_ref());
        }
    }
}

/// [`csv_cell`] of `text`, appended to `out`.
fn write_csv_cell(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push(b'\'');
    }
    let quoted = untrusted::any_byte(text.as_bytes(), |w| untrusted::bytes_equal(w, b'"'));
    if quoted {
        for (i, part) in text.split('"').enumerate() {
            if i > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.as_bytes());
        }
    } else {
        out.extend_from_slice(text.as_bytes());
    }
    out.push(b'"');
}

impl<'a> Sink<'a> {
    fn new(
        format: DiscoverFormat,
        ctx: &'a RunContext,
        platform: Platform,
        out: &'a mut dyn Write,
        secrets: &[&str],
    ) -> Sink<'a> {
        Sink {
            format,
            ctx,
            platform,
            out,
            screen: Screen::new(secrets),
            pending: Vec::new(),
            widths: None,
            section: "users",
            rows: 0,
            notes: Vec::new(),
            notes_overflow: false,
            buffer: Vec::new(),
        }
    }

    /// Prints one line made safe; a closed stdout is not a failure of the run.
    fn line(&mut self, text: &str) {
        // After the rows held, in order.
        self.flush_rows();
        let shown = if self.screen.maybe(text) {
            self.ctx.line(text, "(line withheld)")
        } else {
            // Escaped and capped as the run's lines are; see [`Screen`].
            untrusted::line(text, &crate::secret::Redactor::default(), "(line withheld)")
        };
        let _ = writeln!(self.out, "{shown}");
    }

    /// Ends the line written in [`Sink::buffer`] from `start`, with its trailing whitespace
    /// trimmed when `trim`: printed as [`Sink::line`] prints it. A line [`shown_as_is`] no
    /// longer than [`untrusted::LINE_MAX_BYTES`], which the screen clears, is one that
    /// [`Sink::line`] prints as it is (nothing to escape, cap or redact): it stays in the
    /// buffer, to be written with the rows around it (issue 13: every table and CSV row was
    /// escaped into a new text, and written on its own). Any other goes through
    /// [`Sink::line`].
    fn end_line(&mut self, start: usize, trim: bool) {
        let text = &self.buffer[start..];
        let as_is = printable_ascii(text) || shown_as_is(text);
        self.end_screened_line(start, trim, as_is, false);
    }

    /// [`Sink::end_line`], told whether the line is [`shown_as_is`] and whether the screen
    /// has cleared it already (its values or cells, as [`write_user_csv`] and
    /// [`Sink::print_row`] screen them).
    fn end_screened_line(&mut self, start: usize, trim: bool, as_is: bool, cleared: bool) {
        if as_is {
            let mut end = self.buffer.len();
            if trim {
                // In printable ASCII and `…`, the space is the only whitespace.
                while end > start && self.buffer[end - 1] == b' ' {
                    end -= 1;
                }
                self.buffer.truncate(end);
            }
            let text = &self.buffer[start..];
            if text.len() <= untrusted::LINE_MAX_BYTES
                && (cleared || !self.screen.maybe_bytes(text, b'\\'))
            {
                self.buffer.push(b'\n');
                if self.buffer.len() >= ROWS_HELD {
                    self.flush_rows();
                }
                return;
            }
        }
        // Only whole UTF-8 text is written into the buffer.
        let line = String::from_utf8_lossy(&self.buffer[start..]).into_owned();
        self.buffer.truncate(start);
        match self.format {
            DiscoverFormat::Csv => self.csv_record(&line),
            _ => self.line(if trim { line.trim_end() } else { &line }),
        }
    }

    /// A CSV record not printed as it is: escaped, redacted and capped cell by cell, not as
    /// one line, so that it stays one record of the same cells whatever is taken out (the
    /// `rows` fuzz target found a redaction that took a cell's closing quote: a spreadsheet
    /// then reads the lines after it into that cell). A record that still quotes a secret is
    /// printed with its cells empty but the first, which says so.
    fn csv_record(&mut self, line: &str) {
        self.flush_rows();
        let redactor = &self.ctx.redactor;
        let mut cells: Vec<Option<String>> = csv_record_cells(line)
            .into_iter()
            .map(|cell| cell.map(|text| untrusted::line(&text, redactor, "(withheld)")))
            .collect();
        cut_cells_to_fit(&mut cells, untrusted::LINE_MAX_BYTES);
        let mut record = Vec::new();
        write_csv_record(&mut record, &cells);
        let mut shown = String::from_utf8_lossy(&record).into_owned();
        if redactor.quotes_secret(&shown) {
            let mut withheld = vec![None; cells.len()];
            withheld[0] = Some("(row withheld: it quoted a secret)".to_owned());
            record.clear();
            write_csv_record(&mut record, &withheld);
            shown = String::from_utf8_lossy(&record).into_owned();
        }
        let _ = writeln!(self.out, "{shown}");
    }

    /// One line of JSON (a row, after its separator), redacted string by string; one that
    /// still quotes a secret is replaced by `null`, after the same separator.
    fn json_text(&mut self, text: &str) {
        if !self.screen.maybe(text) {
            let _ = writeln!(self.out, "{text}");
            return;
        }
        let (comma, row) = match text.strip_prefix(',') {
            Some(row) => (",", row),
            None => ("", text),
        };
        let shown = serde_json::from_str(row)
            .ok()
            .map(|row| self.ctx.redactor.redact_json(row))
            .filter(|shown| !self.ctx.redactor.quotes_secret(shown))
            .unwrap_or_else(|| "null".to_owned());
        let _ = writeln!(self.out, "{comma}{shown}");
    }

    fn begin(&mut self, api: &ListedUser, base: &crate::transport::BaseUrl) {
        match self.format {
            DiscoverFormat::Json => {
                let mut head = json!({
                    "schema": JSON_SCHEMA,
                    "platform": self.platform.id(),
                    "base_url": base.as_str(),
                    "api_user": {"id": untrusted::field(&api.id), "username": untrusted::field(&api.username), "role": opt(api.role.as_deref())},
                });
                let mut text = self.ctx.redactor.redact_json(head.clone());
                // What still quotes a secret once redacted is left out (`null`).
                for part in ["api_user", "base_url"] {
                    if !self.ctx.redactor.quotes_secret(&text) {
                        break;
                    }
                    head[part] = Value::Null;
                    text = self.ctx.redactor.redact_json(head.clone());
                }
                // The document is streamed: its head, then one row per line, then the counts.
                let open = text.strip_suffix('}').unwrap_or(&text).to_owned();
                let _ = writeln!(self.out, "{open},\"rows\":[");
            }
            DiscoverFormat::Csv => {
                let _ = writeln!(self.out, "{}", CSV_COLUMNS.join(","));
            }
            DiscoverFormat::Table => {
                let text = format!("{} at {}", self.platform, base.as_str());
                self.line(&text);
                let text = format!(
                    "API keys of '{}' ({})",
                    untrusted::field(&api.username),
                    untrusted::field(api.role.as_deref().unwrap_or("role not shown"))
                );
                self.line(&text);
                self.line("");
                self.line("USERS");
            }
        }
    }

    fn user(&mut self, u: &ListedUser, j: &Judgement) {
        match self.format {
            DiscoverFormat::Table => {
                let rotate = self.rotate_cell(j);
                let role = u.role.as_deref().map(role_name);
                let last_login = last_login(u);
                let cells = [
                    untrusted::field_cow(&u.id),
                    untrusted::field_cow(&u.username),
                    role.map_or("-".into(), untrusted::field_cow),
                    state(u).into(),
                    sign_in(u, self.platform).unwrap_or("-".into()),
                    last_login.as_ref().map_or("-", |t| &t[..10]).into(),
                    rotate,
                ];
                self.table_row(cells, &USER_HEAD, &USER_MAX);
            }
            _ => self.row(Some(u), None, j),
        }
    }

    fn credential(&mut self, c: &ListedCredential, j: &Judgement) {
        match self.format {
            DiscoverFormat::Table => {
                let rotate = self.rotate_cell(j);
                let password = match (&c.unreadable, c.password_key) {
                    (Some(_), _) => "?",
                    (None, Some(_)) => "yes",
                    (None, None) => "no",
                };
                let cells = [
                    untrusted::field_cow(&c.name),
                    untrusted::field_cow(&c.kind),
                    c.category
                        .as_deref()
                        .map_or("-".into(), untrusted::field_cow),
                    c.account
                        .as_deref()
                        .map_or("-".into(), untrusted::field_cow),
                    password.into(),
                    rotate,
                    "".into(),
                ];
                self.table_row(cells, &CRED_HEAD, &CRED_MAX);
            }
            _ => self.row(None, Some(c), j),
        }
    }

    /// `user`, `credential` or `no`, with a note number when there is a reason.
    fn rotate_cell(&mut self, j: &Judgement) -> Cow<'static, str> {
        let word = match j.verdict {
            Verdict::User => "user",
            Verdict::Credential => "credential",
            Verdict::No => "no",
        };
        let Some(reason) = &j.reason else {
            return word.into();
        };
        let index = match self.notes.iter().position(|n| n == reason) {
            Some(i) => i + 1,
            None if self.notes.len() < MAX_NOTES => {
                self.notes.push(reason.to_string());
                self.notes.len()
            }
            None => {
                self.notes_overflow = true;
                return format!("{word} [*]").into();
            }
        };
        format!("{word} [{index}]").into()
    }

    fn row(&mut self, u: Option<&ListedUser>, c: Option<&ListedCredential>, j: &Judgement) {
        match self.format {
            DiscoverFormat::Json => {
                let mut text = std::mem::take(&mut self.buffer);
                let start = text.len();
                if self.rows > 0 {
                    text.push(b',');
                }
                let maybe = match (u, c) {
                    (Some(u), None) => UserRow::of(self.platform, u, j)
                        .map(|row| write_user_json(&mut text, &row, &self.screen)),
                    _ => None,
                };
                // Only whole UTF-8 strings and ASCII go in.
                let maybe = maybe.unwrap_or_else(|| {
                    Row::new(self.platform, u, c, j).write_json(&mut text, &self.screen)
                });
                if maybe {
                    let line = String::from_utf8_lossy(&text[start..]).into_owned();
                    text.truncate(start);
                    self.buffer = text;
                    self.flush_rows();
                    self.json_text(&line);
                } else {
                    text.push(b'\n');
                    self.buffer = text;
                    if self.buffer.len() >= ROWS_HELD {
                        self.flush_rows();
                    }
                }
            }
            _ => {
                let start = self.buffer.len();
                let written = match (u, c) {
                    (Some(u), None) => UserRow::of(self.platform, u, j)
                        .and_then(|row| write_user_csv(&mut self.buffer, &row, &self.screen)),
                    _ => None,
                };
                match written {
                    // Its values all printable ASCII, and screened.
                    Some(maybe) => self.end_screened_line(start, false, true, !maybe),
                    None => {
                        Row::new(self.platform, u, c, j).write_csv(&mut self.buffer);
                        self.end_line(start, false);
                    }
                }
            }
        }
        self.rows += 1;
    }

    /// A table row: held until the widths are known, then printed.
    fn table_row(&mut self, cells: [Cow<'_, str>; 7], head: &[&str; 7], max: &[usize; 7]) {
        if self.widths.is_none() && self.pending.len() < TABLE_BATCH {
            self.pending.push(cells.map(Cow::into_owned));
            return;
        }
        if self.widths.is_none() {
            self.flush_table(head, max);
        }
        self.print_row(&cells.each_ref().map(|c| &**c));
    }

    fn flush_table(&mut self, head: &[&str; 7], max: &[usize; 7]) {
        let mut widths = [0usize; 7];
        for (i, w) in widths.iter_mut().enumerate() {
            let longest = self
                .pending
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(head[i].len());
            *w = if max[i] == 0 { 0 } else { longest.min(max[i]) };
        }
        self.widths = Some(widths);
        self.print_row(head);
        for row in std::mem::take(&mut self.pending) {
            self.print_row(&row.each_ref().map(String::as_str));
        }
    }

    /// A row's cells, each cut to its column's width and padded to it, written where the
    /// line goes ([`Sink::end_line`]).
    fn print_row(&mut self, cells: &[&str; 7]) {
        let widths = self.widths.unwrap_or([0; 7]);
        let last = cells.iter().rposition(|c| !c.is_empty()).unwrap_or(0);
        let start = self.buffer.len();
        // Where each cell's text went, and how many were cut (a `…` after each).
        let mut shown = [(0, 0); 7];
        let mut cuts = 0;
        for (i, cell) in cells.iter().enumerate().take(last + 1) {
            let at = self.buffer.len();
            let (chars, cut) = write_fitted(&mut self.buffer, cell, widths[i], cell.is_ascii());
            cuts += usize::from(cut);
            shown[i] = (at, self.buffer.len() - if cut { "…".len() } else { 0 });
            if i == last || widths[i] == 0 {
                break;
            }
            let pad = widths[i].saturating_sub(chars) + 2;
            match SPACES.get(..pad) {
                Some(spaces) => self.buffer.extend_from_slice(spaces),
                None => self.buffer.resize(self.buffer.len() + pad, b' '),
            }
        }
        let look = LineLook::of(&self.buffer[start..]);
        // Printable ASCII but for the cuts' marks: the only bytes past ASCII, three each.
        let as_is = !look.control && look.high == 3 * cuts;
        // The screen's marks looked for in the whole line, and each cell's pieces: see
        // [`Screen::table_values_suffice`].
        let cleared = as_is
            && !look.marked
            && self.screen.table_values_suffice
            && shown
                .iter()
                .all(|&(from, to)| !self.screen.pieces_hold(&self.buffer[from..to]));
        self.end_screened_line(start, true, as_is, cleared);
    }

    fn end_section(&mut self, head: &[&str; 7], max: &[usize; 7], count: u64, what: &str) {
        if self.widths.is_none() {
            self.flush_table(head, max);
        }
        self.widths = None;
        if count == 0 {
            self.line(&format!("(no {what})"));
        }
        for (i, note) in std::mem::take(&mut self.notes).iter().enumerate() {
            self.line(&format!("  [{}] {note}", i + 1));
        }
        if std::mem::take(&mut self.notes_overflow) {
            self.line("  [*] another reason: see --output json or csv");
        }
    }

    fn end_users(&mut self, count: u64) {
        if self.format != DiscoverFormat::Table {
            return;
        }
        self.end_section(&USER_HEAD, &USER_MAX, count, "users");
        self.line(
            "  rotate a user: PAM User login = USERNAME; key record tenable_target = user (the default)",
        );
        self.line("");
        self.line("MANAGED CREDENTIALS");
        self.section = "credentials";
    }

    /// Hands the rows held to the output.
    fn flush_rows(&mut self) {
        if !self.buffer.is_empty() {
            let _ = self.out.write_all(&self.buffer);
            self.buffer.clear();
        }
    }

    fn finish(&mut self, summary: &Summary) {
        self.flush_rows();
        match self.format {
            DiscoverFormat::Json => {
                let counts = summary.to_json();
                let _ = writeln!(self.out, "],\"counts\":{counts}}}");
            }
            DiscoverFormat::Csv => {}
            DiscoverFormat::Table => {
                if self.section == "users" {
                    self.end_users(summary.users);
                }
                self.end_section(
                    &CRED_HEAD,
                    &CRED_MAX,
                    summary.credentials,
                    "managed credentials",
                );
                self.line("  rotate a credential: PAM User login = ACCOUNT; key record tenable_target = credential,");
                self.line("  tenable_credential_match = username (updates every credential that holds the account)");
                self.line("");
                let text = format!(
                    "{} users, {} credentials. Rotatable: {} as a user, {} as a credential; {} not",
                    summary.users,
                    summary.credentials,
                    summary.rotatable_as_user,
                    summary.rotatable_as_credential,
                    summary.not_rotatable
                );
                self.line(&text);
                if summary.shared_accounts > 0 {
                    self.line(&format!(
                        "Accounts held by several credentials: {}",
                        summary.shared_accounts
                    ));
                }
                if summary.imported_records > 0 {
                    self.line(&format!(
                        "Records in the Keeper import file: {}",
                        summary.imported_records
                    ));
                }
            }
        }
        let _ = self.out.flush();
    }
}

/// The Keeper Commander import file (`keeper import --format json FILE`), written as rows
/// arrive: `{"records": [...]}`, each record in the folder named by `--folder`. It holds no
/// password and no key: the key records are templates whose key fields are empty, to be
/// filled in Keeper after the import.
struct ImportFile {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    folder: String,
    platform: Platform,
    base_url: String,
    records: u64,
    users_key_record: bool,
    credentials_key_record: bool,
    error: Option<std::io::Error>,
}

/// Titles of the key-record templates the import creates.
pub const IMPORT_USERS_KEY_TITLE: &str = "Tenable keys (users)";
/// Title of the key-record template for credentials.
pub const IMPORT_CREDENTIALS_KEY_TITLE: &str = "Tenable keys (credentials)";

impl ImportFile {
    fn create(
        path: &std::path::Path,
        folder: &str,
        platform: Platform,
        base_url: &str,
    ) -> Result<ImportFile, Error> {
        let file = std::fs::File::create(path).map_err(|e| {
            Error::Usage(format!(
                "cannot write the Keeper import file '{}' ({}); nothing was sent to Tenable",
                path.display(),
                e.kind()
            ))
        })?;
        let mut out = std::io::BufWriter::new(file);
        let error = writeln!(out, "{{\"records\":[").err();
        Ok(ImportFile {
            path: path.to_owned(),
            out,
            folder: folder.to_owned(),
            platform,
            base_url: base_url.to_owned(),
            records: 0,
            users_key_record: false,
            credentials_key_record: false,
            error,
        })
    }

    fn platform_name(&self) -> &'static str {
        match self.platform {
            Platform::Vm => "Vulnerability Management",
            Platform::Sc => "Security Center",
        }
    }

    fn push(&mut self, record: Value) {
        let sep = if self.records == 0 { "" } else { "," };
        if self.error.is_none() {
            self.error = writeln!(self.out, "{sep}{record}").err();
        }
        self.records += 1;
    }

    fn folders(&self) -> Value {
        json!([{"folder": self.folder}])
    }

    /// The key record a group of PAM Users attaches: the settings, the address, and empty
    /// key fields (hidden) to fill in.
    fn key_record(&mut self, title: &str, target: &[(&str, &str)]) {
        let mut fields = serde_json::Map::new();
        fields.insert("$secret:tenable_access_key".into(), Value::from(""));
        fields.insert("$secret:tenable_secret_key".into(), Value::from(""));
        let address = match self.platform {
            Platform::Vm => "$text:tenable_url",
            Platform::Sc => "$text:tenable_sc_host",
        };
        fields.insert(address.into(), Value::from(self.base_url.clone()));
        for (k, v) in target {
            fields.insert(format!("$text:{k}"), Value::from(*v));
        }
        let notes = format!(
            "Key record for tenable-rotate ({}). Paste the API keys into tenable_access_key and tenable_secret_key, then attach this record to the PAM script of each PAM User that names it.",
            self.platform_name()
        );
        let record = json!({
            "$type": "login",
            "title": title,
            "notes": notes,
            "custom_fields": fields,
            "folders": self.folders(),
        });
        self.push(record);
    }

    fn user(&mut self, u: &ListedUser, j: &Judgement) {
        if j.verdict != Verdict::User {
            return;
        }
        if !self.users_key_record {
            self.users_key_record = true;
            self.key_record(IMPORT_USERS_KEY_TITLE, &[("tenable_target", "user")]);
        }
        let login = j.login.clone().unwrap_or_default();
        let title = format!("Tenable user {} ({})", login, self.platform_name());
        let notes = format!(
            "Tenable {} user id {}. Rotation: Run PAM scripts only; attach tenable-rotate with the key record '{}'.",
            self.platform_name(),
            u.id,
            IMPORT_USERS_KEY_TITLE
        );
        let record = json!({
            "$type": "pamUser",
            "title": title,
            "login": login,
            "notes": notes,
            "custom_fields": {"$text:NOOP": "True"},
            "folders": self.folders(),
        });
        self.push(record);
    }

    fn credential_account(&mut self, login: &str, names: &[String], count: u64) {
        if !self.credentials_key_record {
            self.credentials_key_record = true;
            self.key_record(
                IMPORT_CREDENTIALS_KEY_TITLE,
                &[
                    ("tenable_target", "credential"),
                    ("tenable_credential_match", "username"),
                ],
            );
        }
        let shown = names.join(", ");
        let more = count.saturating_sub(names.len() as u64);
        let held = if more > 0 {
            format!("{shown} and {more} more")
        } else {
            shown
        };
        let title = format!(
            "{login} (Tenable {} credentials: {held})",
            self.platform_name()
        );
        let notes = format!(
            "Account held by {count} managed scan credential(s) in Tenable {}: {held}. Keep its own rotation and attach tenable-rotate as a post-rotation script with the key record '{}'.",
            self.platform_name(),
            IMPORT_CREDENTIALS_KEY_TITLE
        );
        let record = json!({
            "$type": "pamUser",
            "title": title,
            "login": login,
            "notes": notes,
            "folders": self.folders(),
        });
        self.push(record);
    }

    fn finish(mut self) -> Result<u64, Error> {
        if self.error.is_none() {
            self.error = writeln!(self.out, "]}}").err();
        }
        if self.error.is_none() {
            self.error = self.out.flush().err();
        }
        match self.error {
            None => Ok(self.records),
            Some(e) => Err(Error::Usage(format!(
                "could not write the Keeper import file '{}' ({}); the listing above is complete, the file is not",
                self.path.display(),
                e.kind()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_quoted_and_formulas_defused() {
        assert_eq!(csv_cell("plain"), "\"plain\"");
        assert_eq!(csv_cell("a,\"b\"\nc"), "\"a,\"\"b\"\"\nc\"");
        for bad in ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx"] {
            assert!(csv_cell(bad).starts_with("\"'"), "{bad}");
        }
    }

    #[test]
    fn a_row_written_by_hand_is_what_serde_json_writes() {
        const TEXTS: [&str; 16] = [
            "alice@example.com",
            "",
            "a \"quoted\" name",
            "back\\slash",
            "line\nbreak\ttab\r",
            "bell\u{7}\u{1b}[31m",
            "\u{7f}del and \u{2028}",
            "Ünïcødé",
            "=SUM(A1)",
            "{\"json\":[1]}",
            "CORP\\svc-scan",
            "zero\u{0}byte",
            // A fragment of the screened key, and a screen mark.
            "x89abcdef01y",
            "100%",
            // What only `field` escapes: DEL alone, a bidi override alone.
            "del\u{7f}x",
            "\u{202e}rtl",
        ];
        // Texts with nothing to escape and no screen mark that a CSV cell also holds as they
        // are: printable ASCII, no formula.
        const PLAIN: [&str; 10] = [
            "alice@example.com",
            "",
            "x89abcdef01y",
            "bob",
            "Standard [32]",
            "svc-scan",
            "user0@example.com",
            "0123",
            "local",
            "12345678",
        ];
        // Texts with nothing to escape and no screen mark: a row of only these is screened by
        // its pieces alone.
        let clean: Vec<&str> = PLAIN.into_iter().chain(["Ünïcødé", "=SUM(A1)"]).collect();
        let mut rng = fastrand::Rng::with_seed(1205);
        let mut pool: &[&str];
        let text = |rng: &mut fastrand::Rng, pool: &[&str]| {
            let mut t: String = (0..rng.usize(1..4))
                .map(|_| pool[rng.usize(..pool.len())])
                .collect();
            if rng.u8(..) < 20 {
                t = t.repeat(40); // past the field cap
            }
            t
        };
        let maybe = |rng: &mut fastrand::Rng, pool: &[&str]| rng.bool().then(|| text(rng, pool));
        let flag = |rng: &mut fastrand::Rng| [None, Some(true), Some(false)][rng.usize(..3)];
        let screens = [
            Screen::new(&["0123456789abcdef0123"]),
            // A key with a quote: every row goes to the redactor.
            Screen::new(&["0123456789\"abcdef"]),
            // A key with a comma: every CSV row is screened whole.
            Screen::new(&["0123456789,abcdef0123"]),
            // A key that holds a role word's piece: rows with that role are caught by it.
            Screen::new(&["0123Administrator4567"]),
        ];
        let mut said = [[0, 0], [0, 0]];
        let mut csv_straight = [0, 0];
        let mut written_straight = 0;
        let mut repeats_straight = 0;
        // Rows written straight with a role word: [the screen's answer for it false, true].
        let mut role_words = [0, 0];
        for round in 0..2000 {
            pool = [&TEXTS[..], &clean, &PLAIN][rng.usize(..3)];
            let cow = |t: Option<String>| t.map(Cow::Owned);
            let mut user = ListedUser {
                id: text(&mut rng, pool).into(),
                username: text(&mut rng, pool).into(),
                name: cow(maybe(&mut rng, pool)),
                email: cow(maybe(&mut rng, pool)),
                role: cow(maybe(&mut rng, pool)),
                permissions: rng.bool().then(|| rng.u64(..100)),
                enabled: flag(&mut rng),
                locked: flag(&mut rng),
                auth_type: cow(maybe(&mut rng, pool)),
                authorizations: None,
                last_login: rng.bool().then(|| rng.i64(0..2_000_000_000)),
            };
            // Often a TVM role word, as the list reader hands it over or as a text of its own.
            if rng.u8(..) < 100 {
                let (permissions, word) = ROLE_WORDS[rng.usize(..ROLE_WORDS.len())];
                user.permissions = Some(permissions);
                user.role = Some(match rng.bool() {
                    true => Cow::Borrowed(word),
                    false => Cow::Owned(word.to_owned()),
                });
            }
            // Often a user's email is its username, as its name or login may be: one text,
            // written once and copied.
            let repeated = rng.u8(..) < 100;
            if repeated {
                user.email = Some(user.username.clone());
                if rng.bool() {
                    user.name = Some(user.username.clone());
                }
            }
            let credential = ListedCredential {
                id: text(&mut rng, pool),
                name: text(&mut rng, pool),
                kind: text(&mut rng, pool),
                category: maybe(&mut rng, pool),
                account: maybe(&mut rng, pool),
                password_key: rng.bool().then_some("password"),
                auth_method: maybe(&mut rng, pool),
                can_edit: flag(&mut rng),
                unreadable: rng.bool().then(|| "no".to_owned()),
            };
            // In any order: a row puts them in the order of their names.
            let settings = ["tenable_target", "tenable_credential_name", "x"];
            let judgement = Judgement {
                verdict: [Verdict::User, Verdict::Credential, Verdict::No][rng.usize(..3)],
                reason: cow(maybe(&mut rng, pool)),
                login: if repeated && rng.bool() {
                    Some(user.username.clone())
                } else {
                    cow(maybe(&mut rng, pool))
                },
                // A user's own settings, none, or any.
                key_record: match rng.u8(..3) {
                    0 => Cow::Borrowed(USER_KEY_RECORD),
                    1 => Cow::Borrowed(&[]),
                    _ => (0..rng.usize(0..3))
                        .map(|i| (settings[i], Cow::Owned(text(&mut rng, pool))))
                        .collect(),
                },
            };
            let platform = if rng.bool() {
                Platform::Vm
            } else {
                Platform::Sc
            };
            let (u, c) = if rng.bool() {
                (Some(&user), None)
            } else {
                (None, Some(&credential))
            };
            let row = Row::new(platform, u, c, &judgement);
            let mut by_hand = Vec::new();
            // The values are screened as they are written, as the screen screens a row.
            let screen = &screens[rng.usize(..screens.len())];
            let maybe = row.write_json(&mut by_hand, screen);
            assert_eq!(maybe, screen.maybe_row(&row), "round {round}");
            // A user's row written straight from the user is the same line, screened the same.
            let mut straight = Vec::new();
            if let Some(u) = u {
                let user_row = UserRow::of(platform, u, &judgement);
                if let Some(straight_maybe) = user_row
                    .as_ref()
                    .map(|user_row| write_user_json(&mut straight, user_row, screen))
                {
                    assert_eq!(straight, by_hand, "round {round}");
                    assert_eq!(straight_maybe, maybe, "round {round}");
                    written_straight += 1;
                    if let Some(word) = role_word_of(u) {
                        role_words[usize::from(screen.role_words_held[word])] += 1;
                    }
                    repeats_straight += usize::from(repeated);
                }
                // And its CSV line: the same as the general way's, its values screened as
                // the JSON row's are, and caught whenever the line screened whole is.
                let mut csv = Vec::new();
                if let Some(csv_maybe) = user_row
                    .as_ref()
                    .and_then(|user_row| write_user_csv(&mut csv, user_row, screen))
                {
                    let mut general = Vec::new();
                    row.write_csv(&mut general);
                    assert_eq!(
                        String::from_utf8(csv.clone()).unwrap(),
                        String::from_utf8(general).unwrap(),
                        "round {round}"
                    );
                    assert_eq!(csv_maybe, maybe, "round {round}");
                    assert!(
                        csv_maybe || !screen.maybe_bytes(&csv, b'\\'),
                        "round {round}"
                    );
                    assert!(screen.csv_values_suffice);
                    csv_straight[usize::from(csv_maybe)] += 1;
                }
            }
            said[usize::from(pool.len() != TEXTS.len())][usize::from(maybe)] += 1;
            assert_eq!(
                String::from_utf8(by_hand).unwrap(),
                serde_json::to_string(&row).unwrap(),
                "round {round}"
            );
        }
        // Rows of clean texts were both cleared and caught (by a fragment's pieces alone);
        // rows of any texts were caught.
        let [any, clean] = said;
        assert!(any[1] > 50 && clean[0] > 50 && clean[1] > 50, "{said:?}");
        assert!(written_straight > 500, "{written_straight}");
        assert!(
            csv_straight[0] > 5 && csv_straight[1] > 20,
            "{csv_straight:?}"
        );
        assert!(repeats_straight > 100, "{repeats_straight}");
        assert!(role_words[0] > 100 && role_words[1] > 5, "{role_words:?}");
    }

    #[test]
    fn a_csv_row_is_screened_whole_when_a_key_holds_a_comma() {
        // Empty cells in a row make a run of commas that no value holds.
        let key = ",,,,,,,,,,,,,,,,";
        let user = ListedUser {
            id: "7".into(),
            username: "bob".into(),
            ..ListedUser::default()
        };
        let judgement = judge_user(Platform::Vm, &user, None, true);
        let row = Row::new(Platform::Vm, Some(&user), None, &judgement);
        let mut line = Vec::new();
        row.write_csv(&mut line);
        let commas = Screen::new(&[key]);
        assert!(!commas.csv_values_suffice && commas.values_suffice);
        assert!(
            commas.maybe_bytes(&line, b'\\'),
            "{:?}",
            String::from_utf8(line)
        );
        let mut straight = Vec::new();
        let user_row = UserRow::of(Platform::Vm, &user, &judgement).expect("a user's key record");
        assert_eq!(write_user_csv(&mut straight, &user_row, &commas), None);
        assert!(straight.is_empty());
        // Without the comma, the row is written straight and its values cleared.
        let plain = Screen::new(&["0123456789abcdef"]);
        assert_eq!(
            write_user_csv(&mut straight, &user_row, &plain),
            Some(false)
        );
        assert_eq!(straight, line);
    }

    #[test]
    fn json_rows_held_are_printed_in_order_and_when_a_run_stops_early() {
        let key = "0123456789abcdef0123456789abcdef";
        let mut ctx = RunContext::default();
        ctx.redactor.add_text(key);
        let users: Vec<ListedUser> = (0..400)
            .map(|i| ListedUser {
                id: i.to_string().into(),
                // Every 100th user quotes the key: its row goes through the redactor.
                username: if i % 100 == 7 {
                    format!("{}@example.com", &key[2..14]).into()
                } else {
                    format!("user{i}@example.com").into()
                },
                ..ListedUser::default()
            })
            .collect();
        let mut out = Vec::new();
        {
            let mut sink = Sink::new(DiscoverFormat::Json, &ctx, Platform::Vm, &mut out, &[key]);
            for u in &users {
                sink.user(u, &judge_user(Platform::Vm, u, None, true));
            }
            // No `finish`: the run stopped (a later request failed).
        }
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), users.len(), "every row printed");
        for (i, line) in lines.iter().enumerate() {
            let line = line.strip_prefix(',').unwrap_or(line);
            let row: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            if i % 100 == 7 {
                // Withheld by the redactor, in its place.
                assert!(!line.contains(&key[2..14]), "{line}");
            } else {
                assert_eq!(row["id"], json!(i.to_string()), "{line}");
            }
        }
        assert!(text.len() > ROWS_HELD, "more than one hand-over");
    }

    #[test]
    fn timestamps_are_utc() {
        assert_eq!(utc_timestamp(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc_timestamp(1_681_205_552), "2023-04-11T09:32:32Z");
        assert_eq!(utc_timestamp(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn accounts_group_across_domain_forms() {
        assert_eq!(
            account_key("CORP\\svc-scan"),
            account_key("svc-scan@corp.example.com")
        );
        assert_ne!(account_key("OTHER\\svc"), account_key("CORP\\svc"));
    }

    #[test]
    fn the_screen_sends_anything_that_may_quote_a_key_to_the_redactor() {
        use base64::Engine;
        let key = "0123456789abcdef0123456789abcdef";
        let screen = Screen::new(&[key]);
        let b64 = base64::engine::general_purpose::STANDARD;
        assert!(!screen.maybe("\"user\",\"alice@example.com\",\"Standard [32]\""));
        assert!(screen.maybe(&format!("x{}y", &key[5..13])));
        // Only runs of bytes a form holds are looked up: a fragment between others is found
        // at the start, in the middle and at the end of a text.
        for fragment in [&key[..8], &key[5..13], &key[24..]] {
            for text in [
                fragment.to_owned(),
                format!("@{fragment}"),
                format!("{fragment}."),
                format!("a.b@{fragment}@c d"),
            ] {
                assert!(screen.maybe(&text), "{text}");
            }
        }
        assert!(!screen.maybe(&format!("{}.{}", &key[..7], &key[7..14])));
        for shift in ["", "a", "ab"] {
            let once = b64.encode(format!("{shift}{key}"));
            assert!(screen.maybe(&format!("name {once}")), "{once}");
            let twice = b64.encode(&once);
            assert!(screen.maybe(&format!("name {twice}")), "{twice}");
        }
        assert!(screen.maybe("CORP\\svc"));
        assert!(screen.maybe("%30%31"));
    }

    #[test]
    fn the_screen_finds_every_window_that_looking_at_each_would_find() {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD;
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let screen = Screen::new(&[key, "AKIA-access-key-0123"]);
        let once = b64.encode(format!("a{key}"));
        let twice = b64.encode(&once);
        let forms = [
            key.to_owned(),
            once,
            twice,
            "AKIA-access-key-0123".to_owned(),
        ];
        // What the screen stands for: any 8-byte window of the text is one of a form's.
        let brute = |text: &[u8]| {
            text.windows(8).any(|w| {
                screen
                    .windows
                    .contains(&u64::from_le_bytes(w.try_into().unwrap()))
            })
        };
        let mut rng = fastrand::Rng::with_seed(13);
        let (mut found, mut clear) = (0, 0);
        for _ in 0..20_000 {
            let mut text = Vec::new();
            for _ in 0..rng.usize(1..5) {
                match rng.u8(..3) {
                    0 => {
                        let form = forms[rng.usize(..forms.len())].as_bytes();
                        let start = rng.usize(..form.len());
                        let end = rng.usize(start..=form.len().min(start + 12));
                        text.extend_from_slice(&form[start..end]);
                    }
                    1 => text.extend((0..rng.usize(..9)).map(|_| rng.alphanumeric() as u8)),
                    _ => text.extend_from_slice(
                        [&b"@"[..], b".", b" ", b"user", b"example.com"][rng.usize(..5)],
                    ),
                }
            }
            let text = String::from_utf8(text).unwrap();
            let expected = brute(text.as_bytes());
            assert_eq!(screen.maybe_marked(&text, b'"'), expected, "{text:?}");
            if expected { found += 1 } else { clear += 1 }
        }
        // Both answers were tried many times.
        assert!(found > 1_000 && clear > 1_000, "{found} {clear}");
    }

    #[test]
    fn a_row_goes_to_the_redactor_when_any_value_may_quote_a_key() {
        let key = "0123456789abcdef0123456789abcdef";
        let screen = Screen::new(&[key]);
        fn judged<'a>(u: &'a ListedUser<'_>) -> Judgement<'a> {
            judge_user(Platform::Vm, u, None, true)
        }
        let plain = ListedUser {
            id: "7".into(),
            username: "bob@example.com".into(),
            role: Some("Standard [32]".into()),
            ..ListedUser::default()
        };
        let j = judged(&plain);
        assert!(!screen.maybe_row(&Row::new(Platform::Vm, Some(&plain), None, &j)));
        let fragment = &key[3..11];
        let quoting: [&dyn Fn(&mut ListedUser); 6] = [
            &|u| u.id = format!("7{fragment}").into(),
            &|u| u.username = format!("{fragment}@example.com").into(),
            &|u| u.email = Some(format!("a{fragment}").into()),
            &|u| u.name = Some(format!("say \"{fragment}").into()),
            &|u| u.auth_type = Some(format!("local{fragment}").into()),
            // The same text twice: screened once, still found.
            &|u| {
                u.username = format!("{fragment}@example.com").into();
                u.email = Some(u.username.clone());
            },
        ];
        for change in quoting {
            let mut u = plain.clone();
            change(&mut u);
            let j = judged(&u);
            assert!(
                screen.maybe_row(&Row::new(Platform::Vm, Some(&u), None, &j)),
                "{u:?}"
            );
        }
        let c = ListedCredential {
            id: "0000".into(),
            name: "svc".into(),
            account: Some(format!("CORP{fragment}")),
            ..ListedCredential::default()
        };
        let j = judge_credential(&c);
        assert!(screen.maybe_row(&Row::new(Platform::Vm, None, Some(&c), &j)));
        // A key that holds a quote could span a value's edge: every row then goes whole.
        let quoted = Screen::new(&["abc\"defghijklmnop"]);
        assert!(quoted.maybe_row(&Row::new(Platform::Vm, Some(&plain), None, &judged(&plain))));
    }

    #[test]
    fn a_role_is_a_word_only_when_it_is_the_word_for_its_permissions() {
        let user = |permissions: Option<u64>, role: &str| ListedUser {
            permissions,
            role: Some(Cow::Owned(role.to_owned())),
            ..ListedUser::default()
        };
        let standard = ROLE_WORDS.iter().position(|(p, _)| *p == 32).unwrap();
        assert_eq!(
            role_word_of(&user(Some(32), "Standard [32]")),
            Some(standard)
        );
        // The word as a batch hands it over: the same answer.
        let mut borrowed = user(Some(32), "");
        borrowed.role = Some(Cow::Borrowed(ROLE_WORDS[standard].1));
        assert_eq!(role_word_of(&borrowed), Some(standard));
        // Another role's word, a number Tenable does not name, no number (SC), no role.
        assert_eq!(role_word_of(&user(Some(16), "Standard [32]")), None);
        assert_eq!(role_word_of(&user(Some(33), "custom [33]")), None);
        assert_eq!(role_word_of(&user(None, "Standard [32]")), None);
        assert_eq!(role_word_of(&user(Some(32), "Standard [32] ")), None);
        assert_eq!(
            role_word_of(&ListedUser {
                permissions: Some(32),
                ..ListedUser::default()
            }),
            None
        );
        // The screen's answer for each word is the answer it gives the word's text.
        let screen = Screen::new(&["0123Administrator4567"]);
        for (i, (_, word)) in ROLE_WORDS.iter().enumerate() {
            assert_eq!(
                screen.role_words_held[i],
                screen.pieces_hold(word.as_bytes()),
                "{word}"
            );
        }
        assert_eq!(
            screen.role_words_held.iter().filter(|held| **held).count(),
            1
        );
    }

    #[test]
    fn a_line_is_looked_at_whole() {
        for len in [0usize, 1, 7, 8, 9, 63, 2040, 2041, 2048, 2049, 3001] {
            for (at, byte) in [(0, b'a'), (len / 2, 0x85), (len.saturating_sub(1), 0xe2)] {
                let mut line = vec![b'a'; len];
                if len > 0 {
                    line[at] = byte;
                }
                let high = usize::from(len > 0 && byte >= 0x80);
                let want = LineLook {
                    high,
                    control: false,
                    marked: false,
                };
                assert_eq!(LineLook::of(&line), want, "{len} {at} {byte}");
                // Every byte past ASCII counted, past what a lane holds.
                let all_high = vec![0xa6; len];
                assert_eq!(LineLook::of(&all_high).high, len);
            }
            for (byte, control, marked) in [
                (0u8, true, false),
                (0x1f, true, false),
                (0x7f, true, false),
                (b'\\', false, true),
                (b'%', false, true),
                (b' ', false, false),
            ] {
                for at in [0, len / 2, len.saturating_sub(1)] {
                    let mut line = vec![b'a'; len.max(1)];
                    let at = at.min(line.len() - 1);
                    line[at] = byte;
                    let look = LineLook::of(&line);
                    assert_eq!(
                        (look.control, look.marked),
                        (control, marked),
                        "{len} {at} {byte}"
                    );
                }
            }
        }
    }

    #[test]
    fn fit_marks_a_cut() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("abcdef", 0), "abcdef");
        assert_eq!(fit("ééééé", 3), "éé…");
        assert_eq!(fit("éé", 2), "éé");
        assert_eq!(write_fitted(&mut Vec::new(), "ééééé", 3, false), (3, true));
        assert_eq!(write_fitted(&mut Vec::new(), "abcdef", 4, true), (4, true));
        assert_eq!(write_fitted(&mut Vec::new(), "abc", 4, true), (3, false));
    }

    /// Texts a line may hold: printable ASCII, a table's `…`, what must be escaped, capped or
    /// redacted, and trailing whitespace.
    fn lines_to_print(key: &str) -> Vec<String> {
        let mut lines: Vec<String> = [
            "",
            "plain",
            "plain with spaces after   ",
            "user19999@example.c…  Standard",
            "…",
            "a…b…",
            "a…\u{2028}b",
            "tab\there",
            "new\nline",
            "\u{202e}reversed",
            "caf\u{e9} ",
            "del\u{7f}",
            "\u{85}next",
            "trailing tab\t",
            "100% sure",
            "back\\slash",
            "ideographic space\u{3000}",
        ]
        .map(String::from)
        .to_vec();
        lines.push(format!("quotes {} here", &key[3..15]));
        lines.push(format!("{}…", &key[..12]));
        for len in [
            untrusted::LINE_MAX_BYTES - 1,
            untrusted::LINE_MAX_BYTES,
            untrusted::LINE_MAX_BYTES + 1,
        ] {
            lines.push("x".repeat(len));
            lines.push(format!("{}…", "y".repeat(len - 3)));
        }
        lines
    }

    #[test]
    fn a_line_held_is_printed_as_line_prints_it_and_in_its_place() {
        let key = "0123456789abcdef0123456789abcdef";
        let mut ctx = RunContext::default();
        ctx.redactor.add_text(key);
        let lines = lines_to_print(key);
        // A table's lines (a CSV record not printed as it is goes its own way:
        // `a_csv_record_not_printed_as_it_is_keeps_its_cells`).
        for trim in [false, true] {
            let (mut held, mut printed) = (Vec::new(), Vec::new());
            {
                let mut sink =
                    Sink::new(DiscoverFormat::Table, &ctx, Platform::Vm, &mut held, &[key]);
                for line in &lines {
                    let start = sink.buffer.len();
                    sink.buffer.extend_from_slice(line.as_bytes());
                    sink.end_line(start, trim);
                }
                sink.flush_rows();
            }
            {
                let mut sink = Sink::new(
                    DiscoverFormat::Table,
                    &ctx,
                    Platform::Vm,
                    &mut printed,
                    &[key],
                );
                for line in &lines {
                    sink.line(if trim { line.trim_end() } else { line });
                }
            }
            let (held, printed) = (
                String::from_utf8(held).unwrap(),
                String::from_utf8(printed).unwrap(),
            );
            assert_eq!(held, printed, "trim {trim}");
            assert!(!held.contains(&key[3..15]), "{held}");
            assert_eq!(held.lines().count(), lines.len());
        }
        for line in &lines {
            let as_is = line.chars().all(|c| c == '…' || (' '..='~').contains(&c));
            assert_eq!(shown_as_is(line.as_bytes()), as_is, "{line:?}");
            assert_eq!(
                printable_ascii(line.as_bytes()),
                as_is && !line.contains('…'),
                "{line:?}"
            );
        }
    }

    #[test]
    fn json_output_redacted_is_still_one_json_document() {
        // The `rows` fuzz target's find: a value that holds part of a key with a backslash,
        // next to an escape of its own. Redacted as JSON text, the head and the row lost half
        // an escape; each string is redacted on its own now.
        let key = "SECRET\"mark\\er/é%+1";
        let mut ctx = RunContext::default();
        ctx.redactor.add_text(key);
        let users = [
            ListedUser {
                id: "ark\\er/\\e\"Rmark".into(),
                username: "Ymark\\er/\\x".into(),
                ..ListedUser::default()
            },
            ListedUser {
                id: "2".into(),
                username: format!("u {key} \\q").into(),
                ..ListedUser::default()
            },
        ];
        let printed = print_rows(DiscoverFormat::Json, Platform::Vm, &users, &[], &[key]);
        let text = String::from_utf8(printed).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        assert_eq!(doc["rows"].as_array().map(Vec::len), Some(2), "{text}");
        assert!(!ctx.redactor.quotes_secret(&text), "{text}");
        assert_eq!(doc["rows"][1]["name"], "u [REDACTED] \\q", "{text}");
    }

    /// How many cells a CSV line holds, read as a spreadsheet reads it; `None` when a quoted
    /// cell is not closed on the line (the lines after it would be read into it).
    fn spreadsheet_cells(line: &str) -> Option<usize> {
        let (mut cells, mut quoted, mut at_start) = (1, false, true);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', false) if at_start => quoted = true,
                ('"', true) if chars.peek() == Some(&'"') => {
                    chars.next();
                }
                ('"', true) => quoted = false,
                (',', false) => {
                    cells += 1;
                    at_start = true;
                    continue;
                }
                _ => {}
            }
            at_start = false;
        }
        (!quoted).then_some(cells)
    }

    #[test]
    fn a_csv_record_not_printed_as_it_is_keeps_its_cells() {
        // The `rows` fuzz target's find: a key with a quote, echoed in a username, was cut
        // out of the line with the cell's doubled quote, and the record's quotes no longer
        // closed. And a record longer than a line may be was cut inside a cell.
        let hostile = "SECRET\"mark\\er/é%+1";
        let hex = "0123456789abcdef0123456789abcdef";
        let mut ctx = RunContext::default();
        ctx.redactor.add_text(hostile);
        ctx.redactor.add_text(hex);
        // Five cells of 200 four-byte characters: past a line's 3 000 bytes.
        let long = "𝄞".repeat(200);
        let users = [
            ListedUser {
                id: "1".into(),
                username: hostile.into(),
                name: Some("SER\"EP\\Cmark".into()),
                ..ListedUser::default()
            },
            ListedUser {
                id: "2".into(),
                username: format!("a\"{}\"b", &hex[..12]).into(),
                email: Some("tab\there, \"quoted\"".into()),
                ..ListedUser::default()
            },
            ListedUser {
                id: "3".into(),
                username: long.clone().into(),
                name: Some(long.clone().into()),
                email: Some(long.clone().into()),
                role: Some(long.clone().into()),
                auth_type: Some(long.clone().into()),
                ..ListedUser::default()
            },
            ListedUser {
                id: "4".into(),
                username: "=1+1\"".into(),
                ..ListedUser::default()
            },
        ];
        let mut out = Vec::new();
        {
            let mut sink = Sink::new(
                DiscoverFormat::Csv,
                &ctx,
                Platform::Vm,
                &mut out,
                &[hostile, hex],
            );
            for u in &users {
                sink.user(u, &judge_user(Platform::Vm, u, None, true));
            }
            sink.flush_rows();
        }
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), users.len(), "{out}");
        for line in &lines {
            assert_eq!(spreadsheet_cells(line), Some(CSV_COLUMNS.len()), "{line}");
            assert!(!ctx.redactor.quotes_secret(line), "{line}");
            assert!(line.len() <= untrusted::LINE_MAX_BYTES, "{}", line.len());
        }
        let cells = |line: &str| csv_record_cells(line);
        assert_eq!(
            cells(lines[0])[2].as_deref(),
            Some("[REDACTED]"),
            "{}",
            lines[0]
        );
        assert_eq!(cells(lines[1])[2].as_deref(), Some("a\"[REDACTED]\"b"));
        assert_eq!(
            cells(lines[1])[4].as_deref(),
            Some("tab\\there, \"quoted\"")
        );
        // Cut in its longest cells, each where a character ends.
        let cut = cells(lines[2])
            .into_iter()
            .flatten()
            .filter(|c| c.ends_with("𝄞…"))
            .count();
        assert!(cut >= 1, "{}", lines[2]);
        assert_eq!(cells(lines[3])[2].as_deref(), Some("'=1+1\""));
        // A record of any cells reads back as them.
        let mut rng = fastrand::Rng::with_seed(21);
        let pieces = ["", "a", "\"", ",", "\"\"", "é", " ", "x,\"y"];
        for _ in 0..2000 {
            let record: Vec<Option<String>> = (0..rng.usize(1..6))
                .map(|_| {
                    rng.bool().then(|| {
                        let t: String = (0..rng.usize(0..4))
                            .map(|_| *rng.choice(&pieces).unwrap())
                            .collect();
                        format!("x{t}")
                    })
                })
                .collect();
            let mut line = Vec::new();
            write_csv_record(&mut line, &record);
            let line = String::from_utf8(line).unwrap();
            assert_eq!(csv_record_cells(&line), record, "{line}");
            assert_eq!(spreadsheet_cells(&line), Some(record.len()), "{line}");
        }
    }

    #[test]
    fn a_table_row_is_its_cells_fitted_padded_and_trimmed() {
        // Its cells screened one by one, and (a key with a space) its line whole.
        for key in [
            "0123456789abcdef0123456789abcdef",
            "0123456789ab  cdef0123456789abcdef",
        ] {
            table_rows_as_printed_before(key);
        }
    }

    fn table_rows_as_printed_before(key: &str) {
        let mut ctx = RunContext::default();
        ctx.redactor.add_text(key);
        assert_eq!(Screen::new(&[key]).table_values_suffice, !key.contains(' '));
        let texts = lines_to_print(key);
        let widths = [7, 26, 16, 8, 10, 10, 0];
        // Each text in each column, the other cells short, long or empty.
        let mut rows: Vec<[&str; 7]> = Vec::new();
        for text in &texts {
            for column in 0..7 {
                for other in [
                    "",
                    "-",
                    "a long cell of thirty characters",
                    "ééééééééééééééééééééééééééééé",
                ] {
                    let mut row = [other; 7];
                    row[column] = text;
                    rows.push(row);
                    row[6] = "";
                    rows.push(row);
                }
            }
        }
        let mut out = Vec::new();
        let mut expected = Vec::new();
        {
            let mut sink = Sink::new(DiscoverFormat::Table, &ctx, Platform::Vm, &mut out, &[key]);
            sink.widths = Some(widths);
            let mut by_hand = Sink::new(
                DiscoverFormat::Table,
                &ctx,
                Platform::Vm,
                &mut expected,
                &[key],
            );
            for row in &rows {
                sink.print_row(row);
                // As a row was printed before it was written where it goes.
                let last = row.iter().rposition(|c| !c.is_empty()).unwrap_or(0);
                let mut text = String::new();
                for (i, cell) in row.iter().enumerate().take(last + 1) {
                    let shown = fit(cell, widths[i]);
                    text.push_str(&shown);
                    if i == last || widths[i] == 0 {
                        break;
                    }
                    text.push_str(&" ".repeat(widths[i] - shown.chars().count() + 2));
                }
                by_hand.line(text.trim_end());
            }
            sink.flush_rows();
        }
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, String::from_utf8(expected).unwrap());
        assert!(!out.contains(&key[3..15]), "{out}");
    }

    #[test]
    fn verdicts_say_why() {
        let user = |f: &dyn Fn(&mut ListedUser)| {
            let mut u = ListedUser {
                id: "7".into(),
                username: "bob@example.com".into(),
                enabled: Some(true),
                auth_type: Some("local".into()),
                ..ListedUser::default()
            };
            f(&mut u);
            let j = judge_user(Platform::Vm, &u, None, true);
            (j.verdict, j.reason)
        };
        assert_eq!(user(&|_| {}).0, Verdict::User);
        let off = user(&|u| u.enabled = Some(false));
        assert_eq!(off.1.as_deref(), Some("disabled in Tenable"));
        let saml = user(&|u| {
            u.authorizations = Some(crate::tenable::Authorizations {
                password: false,
                saml: true,
                api: false,
            })
        });
        assert!(saml.1.unwrap().contains("SAML only"));
        let u = ListedUser {
            id: "7".into(),
            username: "x".into(),
            ..ListedUser::default()
        };
        assert_eq!(
            judge_user(Platform::Vm, &u, None, false).verdict,
            Verdict::No
        );
        let snmp = ListedCredential {
            kind: "SNMPv1/v2c".into(),
            ..ListedCredential::default()
        };
        assert!(judge_credential(&snmp).reason.unwrap().contains("SNMP"));
        let ssh = ListedCredential {
            kind: "SSH".into(),
            account: Some("root".into()),
            password_key: Some("password"),
            ..ListedCredential::default()
        };
        let j = judge_credential(&ssh);
        assert_eq!(
            (j.verdict, j.login.as_deref()),
            (Verdict::Credential, Some("root"))
        );
    }
}
