//! Where each setting comes from, and the checks that stop a misconfiguration from passing
//! silently.
//!
//! A rotation's settings come from, highest first: command-line flags (standalone `rotate`),
//! the environment, the Tenable key record attached to the PAM script, the settings file
//! (`--config`, see [`mod@file`]), then defaults. The
//! key record is the one Keeper's Python samples use (`Tenable Authentication Record` with
//! `tenable_access_key`, `tenable_secret_key`, and `tenable_sc_host` for Security Center), so
//! a record set up for them works unchanged. Any other `tenable_*` field on it must be one we
//! know: a typo such as `tenable_targt` is an error, not a silently ignored setting.

pub mod file;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::keeper::{FieldValue, Record};
use crate::secret::Secret;
use crate::tenable::{ApiKeys, CredentialMatch, Platform};
use crate::transport::{BaseUrl, TransportConfig, TransportError};

pub use file::ConfigFile;

/// Title of the key record in Keeper's samples.
pub const DEFAULT_KEY_RECORD_TITLE: &str = "Tenable Authentication Record";
/// TVM's commercial cloud; FedRAMP and other tenants set `tenable_url`.
pub const DEFAULT_VM_URL: &str = "https://cloud.tenable.com";

/// Record fields, as documented in README.md (a test keeps the two in step).
pub mod field {
    /// API access key (required).
    pub const ACCESS_KEY: &str = "tenable_access_key";
    /// API secret key (required).
    pub const SECRET_KEY: &str = "tenable_secret_key";
    /// TVM base URL (optional).
    pub const URL: &str = "tenable_url";
    /// Security Center host or URL; its presence selects Security Center.
    pub const SC_HOST: &str = "tenable_sc_host";
    /// `user` (default) or `credential`.
    pub const TARGET: &str = "tenable_target";
    /// Credential name (default: the payload's `user`).
    pub const CREDENTIAL_NAME: &str = "tenable_credential_name";
    /// `name` (default) or `username`.
    pub const CREDENTIAL_MATCH: &str = "tenable_credential_match";
    /// `none` (default) or `login`: log in with the new password after changing a user's.
    pub const VERIFY: &str = "tenable_verify";
    /// `restore` (default) or `keep`: when one of several credentials fails, set the ones
    /// already changed back to the old password, or leave them changed.
    pub const ON_PARTIAL_FAILURE: &str = "tenable_on_partial_failure";
    /// Every field we read.
    pub const ALL: [&str; 9] = [
        ACCESS_KEY,
        SECRET_KEY,
        URL,
        SC_HOST,
        TARGET,
        CREDENTIAL_NAME,
        CREDENTIAL_MATCH,
        VERIFY,
        ON_PARTIAL_FAILURE,
    ];
}

/// Environment variables, as documented in README.md.
pub mod env {
    /// Overrides the Tenable base URL (either platform).
    pub const URL: &str = "TENABLE_URL";
    /// PEM file of extra CA certificates.
    pub const CA_FILE: &str = "TENABLE_CA_FILE";
    /// Title of the key record (default `Tenable Authentication Record`).
    pub const RECORD_TITLE: &str = "TENABLE_ROTATE_RECORD_TITLE";
    /// Overall deadline in seconds (default 60).
    pub const TIMEOUT: &str = "TENABLE_ROTATE_TIMEOUT";
    /// Access key for standalone `rotate`.
    pub const ACCESS_KEY: &str = "TENABLE_ACCESS_KEY";
    /// Secret key for standalone `rotate`.
    pub const SECRET_KEY: &str = "TENABLE_SECRET_KEY";
    /// New password for standalone `rotate` (else the first stdin line).
    pub const NEW_PASSWORD: &str = "TENABLE_NEW_PASSWORD";
    /// Old password for standalone `rotate` (else the second stdin line).
    pub const OLD_PASSWORD: &str = "TENABLE_OLD_PASSWORD";
    /// Security Center host or URL; selects Security Center, as the record field does.
    pub const SC_HOST: &str = "TENABLE_SC_HOST";
    /// `user` or `credential`, as the record field `tenable_target`.
    pub const TARGET: &str = "TENABLE_TARGET";
    /// As the record field `tenable_credential_name`.
    pub const CREDENTIAL_NAME: &str = "TENABLE_CREDENTIAL_NAME";
    /// As the record field `tenable_credential_match`.
    pub const CREDENTIAL_MATCH: &str = "TENABLE_CREDENTIAL_MATCH";
    /// As the record field `tenable_verify`.
    pub const VERIFY: &str = "TENABLE_VERIFY";
    /// As the record field `tenable_on_partial_failure`.
    pub const ON_PARTIAL_FAILURE: &str = "TENABLE_ON_PARTIAL_FAILURE";
    /// Path of the settings file (as `--config`).
    pub const CONFIG: &str = "TENABLE_ROTATE_CONFIG";
    /// The audit log (as `--audit-log`).
    pub const AUDIT_LOG: &str = "TENABLE_ROTATE_AUDIT_LOG";
    /// Every variable we read.
    pub const ALL: [&str; 16] = [
        URL,
        CA_FILE,
        RECORD_TITLE,
        TIMEOUT,
        ACCESS_KEY,
        SECRET_KEY,
        NEW_PASSWORD,
        OLD_PASSWORD,
        SC_HOST,
        TARGET,
        CREDENTIAL_NAME,
        CREDENTIAL_MATCH,
        VERIFY,
        ON_PARTIAL_FAILURE,
        CONFIG,
        AUDIT_LOG,
    ];
}

/// A snapshot of the environment variables we read, so tests and `demo` can supply their own.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<&'static str, Secret>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.vars.keys()).finish()
    }
}

impl Environment {
    /// Reads our variables from the process environment. Empty values count as unset.
    pub fn from_process() -> Environment {
        let mut e = Environment::default();
        for name in env::ALL {
            if let Ok(v) = std::env::var(name) {
                e = e.with(name, &v);
            }
        }
        e
    }

    /// Returns a copy with `name` set (ignored when `value` is blank).
    pub fn with(mut self, name: &'static str, value: &str) -> Environment {
        if !value.trim().is_empty() {
            self.vars.insert(name, Secret::from(value));
        }
        self
    }

    /// A non-secret variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(|s| s.expose().trim())
    }

    /// A secret variable's value.
    pub fn secret(&self, name: &str) -> Option<&Secret> {
        self.vars.get(name)
    }
}

/// A configuration mistake: exit 2, nothing sent to Tenable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required record field is missing.
    #[error("the record '{title}' has no `{field}` field; add it (see README: record fields)")]
    MissingField {
        /// Record title.
        title: String,
        /// Field name.
        field: &'static str,
    },
    /// A record field is empty.
    #[error("the record '{title}' has an empty `{field}` field; fill it in")]
    EmptyField {
        /// Record title.
        title: String,
        /// Field name.
        field: &'static str,
    },
    /// A record field is not text.
    #[error(
        "the record '{title}' field `{field}` is a {found}, expected text; make it a text (or hidden) field in the vault"
    )]
    NotText {
        /// Record title.
        title: String,
        /// Field name.
        field: String,
        /// The JSON kind found.
        found: &'static str,
    },
    /// One API key is given somewhere without the other.
    #[error("{place} gives `{present}` but not `{missing}`; give both keys in the same place")]
    HalfKeys {
        /// The environment or the settings file.
        place: String,
        /// The key that is there.
        present: &'static str,
        /// The key that is not.
        missing: &'static str,
    },
    /// The settings file could not be read.
    #[error(
        "could not read the config file '{path}' ({reason}); check --config / TENABLE_ROTATE_CONFIG"
    )]
    FileUnreadable {
        /// The path.
        path: String,
        /// Why.
        reason: std::io::ErrorKind,
    },
    /// The settings file is not what we read.
    #[error(
        "the config file '{path}' is unusable: {detail}; its text is not shown, as it may hold keys"
    )]
    FileSyntax {
        /// The path.
        path: String,
        /// The line or the limit.
        detail: String,
    },
    /// The settings file has a key we do not know: probably a typo.
    #[error("the config file '{path}' has an unknown key `{key}`; known keys are {known}")]
    FileUnknownKey {
        /// The path.
        path: String,
        /// The key.
        key: String,
        /// The known keys.
        known: String,
    },
    /// A settings file value has the wrong type.
    #[error(
        "`{key}` in the config file '{path}' is a {found}, expected a string; quote the value in the file"
    )]
    FileNotText {
        /// The path.
        path: String,
        /// The key.
        key: &'static str,
        /// The TOML type found.
        found: &'static str,
    },
    /// The settings file holds keys and other users can read it.
    #[error(
        "the config file '{path}' holds API keys but other users can read it (mode {mode:o}); run chmod 600 on it"
    )]
    FileExposed {
        /// The path.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// An API key has characters that cannot go in an HTTP header.
    #[error(
        "`{field}` contains white space, `;` or non-ASCII characters, which no Tenable key has; copy the key again"
    )]
    BadKey {
        /// Where the key came from.
        field: &'static str,
    },
    /// A `tenable_*` field we do not know: probably a typo.
    #[error("the record '{title}' has an unknown field `{field}`; known fields are {known}")]
    UnknownField {
        /// Record title.
        title: String,
        /// Field name.
        field: String,
        /// The known fields.
        known: String,
    },
    /// A setting has a value we do not accept.
    #[error("{source_name} is '{value}', expected {expected}")]
    BadValue {
        /// Where the value came from.
        source_name: String,
        /// The (non-secret) value.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// Two settings contradict each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// A required environment variable or flag is missing.
    #[error("{name} is not set; {hint}")]
    Missing {
        /// The variable or flag.
        name: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// The URL or CA file is unusable.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// What a rotation changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A Tenable user's own password.
    User(String),
    /// The password inside managed scan credentials.
    Credentials(CredentialMatch),
}

/// Everything one rotation needs except the passwords.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The platform.
    pub platform: Platform,
    /// The base URL.
    pub base_url: BaseUrl,
    /// The API keys.
    pub keys: ApiKeys,
    /// Where the keys came from: a record title, or the environment.
    pub key_source: String,
    /// What to change.
    pub target: Target,
    /// Whether the target was set (`tenable_target`, `TENABLE_TARGET`, `--target`, or the
    /// file). When it was not, a rotation refuses a name that is both a user and a managed
    /// credential, rather than guess which the admin meant (issue 11, item 4).
    pub target_explicit: bool,
    /// Log in with the new password after changing a user's.
    pub verify_login: bool,
    /// When one of several credentials fails, set those already changed back (all or
    /// nothing); `false` leaves them changed.
    pub restore_on_partial_failure: bool,
    /// Timeouts, trust and retries.
    pub transport: TransportConfig,
}

/// Values that may come from flags; `None` means "not given".
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// Platform (`--platform`).
    pub platform: Option<Platform>,
    /// Base URL (`--url`).
    pub url: Option<String>,
    /// `user` or `credential` (`--target`).
    pub target: Option<String>,
    /// Credential name (`--credential-name`).
    pub credential_name: Option<String>,
    /// `name` or `username` (`--credential-match`).
    pub credential_match: Option<String>,
    /// `none` or `login` (`--verify`).
    pub verify: Option<String>,
    /// `restore` or `keep` (`--on-partial-failure`).
    pub on_partial_failure: Option<String>,
}

/// Everything a rotation's settings may come from.
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The Tenable username (the payload's `user`, or `--user`).
    pub user: &'a str,
    /// The key record (the Keeper path), if one was found.
    pub record: Option<&'a Record>,
    /// The environment.
    pub env: &'a Environment,
    /// The settings file, if one was given.
    pub file: Option<&'a ConfigFile>,
    /// Command-line flags.
    pub flags: &'a Overrides,
}

/// A setting's value and where it came from, for messages.
#[derive(Debug, Clone)]
struct Sourced {
    value: String,
    from: String,
}

impl Sourced {
    /// Environment variable `name`, if set.
    fn from_env(env: &Environment, name: &'static str) -> Option<Sourced> {
        env.get(name).map(|v| Sourced {
            value: v.to_owned(),
            from: name.to_owned(),
        })
    }

    /// The settings file's `key`, whose value is `value`, if set.
    fn from_file(file: &ConfigFile, key: &str, value: &Option<String>) -> Option<Sourced> {
        value.as_ref().map(|v| Sourced {
            value: v.trim().to_owned(),
            from: format!("`{key}` in the config file '{}'", file.path.display()),
        })
    }
}

/// The places settings come from, below the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Environment,
    Record,
    File,
}

/// The settings one place gives, every one optional.
struct Layer {
    kind: Place,
    /// For messages: "the environment", "record 'T'", "the config file 'P'".
    place: String,
    access_key: Option<Secret>,
    secret_key: Option<Secret>,
    url: Option<Sourced>,
    sc_host: Option<Sourced>,
    target: Option<Sourced>,
    credential_name: Option<Sourced>,
    credential_match: Option<Sourced>,
    verify: Option<Sourced>,
    on_partial_failure: Option<Sourced>,
}

impl Layer {
    fn from_env(env: &Environment) -> Layer {
        let get = |name| Sourced::from_env(env, name);
        Layer {
            kind: Place::Environment,
            place: "the environment".to_owned(),
            access_key: env.secret(env::ACCESS_KEY).cloned(),
            secret_key: env.secret(env::SECRET_KEY).cloned(),
            // TENABLE_URL overrides the address for either platform; it is applied apart.
            url: None,
            sc_host: get(env::SC_HOST),
            target: get(env::TARGET),
            credential_name: get(env::CREDENTIAL_NAME),
            credential_match: get(env::CREDENTIAL_MATCH),
            verify: get(env::VERIFY),
            on_partial_failure: get(env::ON_PARTIAL_FAILURE),
        }
    }

    fn from_record(record: &Record) -> Result<Layer, ConfigError> {
        let title = record.title().to_owned();
        for name in record.field_names() {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("tenable_") && !field::ALL.contains(&lower.as_str()) {
                return Err(ConfigError::UnknownField {
                    title,
                    field: name.to_owned(),
                    known: field::ALL.join(", "),
                });
            }
        }
        let text = |f: &'static str| -> Result<Option<Secret>, ConfigError> {
            match record.field(f) {
                None | Some(FieldValue::Null) => Ok(None),
                Some(FieldValue::Text(s)) if s.is_blank() => Ok(None),
                Some(FieldValue::Text(s)) => Ok(Some(s.clone())),
                Some(other) => Err(ConfigError::NotText {
                    title: title.clone(),
                    field: f.to_owned(),
                    found: other.kind(),
                }),
            }
        };
        let plain = |f: &'static str| -> Result<Option<Sourced>, ConfigError> {
            Ok(text(f)?.map(|s| Sourced {
                value: s.expose().trim().to_owned(),
                from: format!("the record '{title}' field `{f}`"),
            }))
        };
        let layer = Layer {
            kind: Place::Record,
            place: format!("record '{title}'"),
            access_key: text(field::ACCESS_KEY)?,
            secret_key: text(field::SECRET_KEY)?,
            url: plain(field::URL)?,
            sc_host: plain(field::SC_HOST)?,
            target: plain(field::TARGET)?,
            credential_name: plain(field::CREDENTIAL_NAME)?,
            credential_match: plain(field::CREDENTIAL_MATCH)?,
            verify: plain(field::VERIFY)?,
            on_partial_failure: plain(field::ON_PARTIAL_FAILURE)?,
        };
        if layer.url.is_some() && layer.sc_host.is_some() {
            return Err(ConfigError::Conflict(
                "the key record has both `tenable_url` (Vulnerability Management) and `tenable_sc_host` (Security Center); keep the one for your platform",
            ));
        }
        Ok(layer)
    }

    fn from_file(file: &ConfigFile) -> Result<Layer, ConfigError> {
        let get = |key, value| Sourced::from_file(file, key, value);
        let layer = Layer {
            kind: Place::File,
            place: format!("the config file '{}'", file.path.display()),
            access_key: file.access_key.clone(),
            secret_key: file.secret_key.clone(),
            url: get("url", &file.url),
            sc_host: get("sc_host", &file.sc_host),
            target: get("target", &file.target),
            credential_name: get("credential_name", &file.credential_name),
            credential_match: get("credential_match", &file.credential_match),
            verify: get("verify", &file.verify),
            on_partial_failure: get("on_partial_failure", &file.on_partial_failure),
        };
        if layer.url.is_some() && layer.sc_host.is_some() {
            return Err(ConfigError::Conflict(
                "the config file has both `url` (Vulnerability Management) and `sc_host` (Security Center); keep the one for your platform",
            ));
        }
        Ok(layer)
    }
}

/// Builds settings for the Keeper path: keys and options from `record`, under `env` and `flags`.
pub fn from_record(
    record: &Record,
    user: &str,
    env: &Environment,
    flags: &Overrides,
) -> Result<Settings, ConfigError> {
    resolve(&Sources {
        user,
        record: Some(record),
        env,
        file: None,
        flags,
    })
}

/// Builds a rotation's settings from every source, flag > environment > record > file >
/// default, and checks them.
pub fn resolve(sources: &Sources<'_>) -> Result<Settings, ConfigError> {
    let Sources {
        user,
        record,
        env,
        file,
        flags,
    } = *sources;
    let layers: Vec<Layer> = [
        Some(Ok(Layer::from_env(env))),
        record.map(Layer::from_record),
        file.map(Layer::from_file),
    ]
    .into_iter()
    .flatten()
    .collect::<Result<_, _>>()?;

    let (keys, key_source) = pick_keys(&layers, record)?;

    // The platform: the flag, else the first place that names an address (`sc_host` means
    // Security Center), else Vulnerability Management.
    let addressed = layers
        .iter()
        .find(|l| l.url.is_some() || l.sc_host.is_some());
    let platform = flags.platform.unwrap_or(match addressed {
        Some(l) if l.sc_host.is_some() => Platform::Sc,
        _ => Platform::Vm,
    });
    // The address: `--url`, else TENABLE_URL (either platform), else the first place's that
    // names one for this platform (without `--platform`, the place that chose it).
    let url = flags
        .url
        .clone()
        .or_else(|| env.get(env::URL).map(str::to_owned))
        .or_else(|| {
            layers
                .iter()
                .find_map(|l| match platform {
                    Platform::Sc => l.sc_host.clone(),
                    Platform::Vm => l.url.clone(),
                })
                .map(|s| s.value)
        });
    if platform == Platform::Sc && url.is_none() {
        return Err(ConfigError::Missing {
            name: "--url",
            hint: "Security Center has no default address; pass --url https://sc.example.com (or set TENABLE_SC_HOST)",
        });
    }

    let flag = |value: &Option<String>, name: &str| {
        value.as_ref().map(|v| Sourced {
            value: v.clone(),
            from: format!("--{name}"),
        })
    };
    let first = |from_flag: Option<Sourced>, get: fn(&Layer) -> &Option<Sourced>| {
        from_flag.or_else(|| layers.iter().find_map(|l| get(l).clone()))
    };
    let chosen = Chosen {
        target: first(flag(&flags.target, "target"), |l| &l.target),
        credential_name: first(flag(&flags.credential_name, "credential-name"), |l| {
            &l.credential_name
        }),
        credential_match: first(flag(&flags.credential_match, "credential-match"), |l| {
            &l.credential_match
        }),
        verify: first(flag(&flags.verify, "verify"), |l| &l.verify),
        on_partial_failure: first(flag(&flags.on_partial_failure, "on-partial-failure"), |l| {
            &l.on_partial_failure
        }),
    };
    // Settings the record does not carry: environment, else file.
    let ca_file = Sourced::from_env(env, env::CA_FILE)
        .or_else(|| file.and_then(|f| Sourced::from_file(f, "ca_file", &f.ca_file)));
    let timeout = Sourced::from_env(env, env::TIMEOUT)
        .or_else(|| file.and_then(|f| Sourced::from_file(f, "timeout", &f.timeout)));
    build(
        keys,
        key_source,
        user,
        platform,
        url.as_deref(),
        &chosen,
        ca_file,
        timeout,
    )
}

/// The API key pair from the first place that gives either key; both must come from there.
fn pick_keys(layers: &[Layer], record: Option<&Record>) -> Result<(ApiKeys, String), ConfigError> {
    for layer in layers {
        match (&layer.access_key, &layer.secret_key) {
            (None, None) => continue,
            (Some(a), Some(s)) => {
                let keys = ApiKeys {
                    access_key: a.clone(),
                    secret_key: s.clone(),
                };
                return Ok((keys, layer.place.clone()));
            }
            (access, _) => {
                let has_access = access.is_some();
                return Err(match (layer.kind, record) {
                    (Place::Record, Some(record)) => {
                        let missing = if has_access {
                            field::SECRET_KEY
                        } else {
                            field::ACCESS_KEY
                        };
                        record_key_problem(record, missing)
                    }
                    _ => half_keys(layer, has_access),
                });
            }
        }
    }
    Err(match record {
        Some(record) => record_key_problem(record, field::ACCESS_KEY),
        None => ConfigError::Missing {
            name: env::ACCESS_KEY,
            hint: "export the Tenable API keys as TENABLE_ACCESS_KEY and TENABLE_SECRET_KEY (or put them in the config file)",
        },
    })
}

fn record_key_problem(record: &Record, missing: &'static str) -> ConfigError {
    let title = record.title().to_owned();
    match record.field(missing) {
        None => ConfigError::MissingField {
            title,
            field: missing,
        },
        Some(_) => ConfigError::EmptyField {
            title,
            field: missing,
        },
    }
}

fn half_keys(layer: &Layer, has_access: bool) -> ConfigError {
    let (access, secret) = if layer.kind == Place::Environment {
        (env::ACCESS_KEY, env::SECRET_KEY)
    } else {
        ("access_key", "secret_key")
    };
    let (present, missing) = if has_access {
        (access, secret)
    } else {
        (secret, access)
    };
    ConfigError::HalfKeys {
        place: layer.place.clone(),
        present,
        missing,
    }
}

/// The choices that come from the first place that gives them.
struct Chosen {
    target: Option<Sourced>,
    credential_name: Option<Sourced>,
    credential_match: Option<Sourced>,
    verify: Option<Sourced>,
    on_partial_failure: Option<Sourced>,
}

#[allow(clippy::too_many_arguments)]
fn build(
    keys: ApiKeys,
    key_source: String,
    user: &str,
    platform: Platform,
    url: Option<&str>,
    o: &Chosen,
    ca_file: Option<Sourced>,
    timeout: Option<Sourced>,
) -> Result<Settings, ConfigError> {
    for (name, key) in [
        (field::ACCESS_KEY, &keys.access_key),
        (field::SECRET_KEY, &keys.secret_key),
    ] {
        if !key
            .expose()
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b';')
        {
            return Err(ConfigError::BadKey { field: name });
        }
    }
    let base_url = BaseUrl::parse(url.unwrap_or(DEFAULT_VM_URL))?;
    let choice = |value: &Option<Sourced>,
                  allowed: &[&'static str],
                  expected: &'static str|
     -> Result<Option<&'static str>, ConfigError> {
        let Some(v) = value else { return Ok(None) };
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v.value.trim()))
            .map(|a| Some(*a))
            .ok_or_else(|| ConfigError::BadValue {
                source_name: v.from.clone(),
                value: v.value.clone(),
                expected,
            })
    };
    let target = match choice(
        &o.target,
        &["user", "credential", "credentials"],
        "`user` or `credential`",
    )? {
        None | Some("user") => Target::User(user.to_owned()),
        Some(_) => match choice(
            &o.credential_match,
            &["name", "username"],
            "`name` or `username`",
        )? {
            Some("username") => Target::Credentials(CredentialMatch::Username(user.to_owned())),
            _ => Target::Credentials(CredentialMatch::Name(
                o.credential_name
                    .as_ref()
                    .map_or_else(|| user.to_owned(), |n| n.value.clone()),
            )),
        },
    };
    if matches!(target, Target::User(_))
        && (o.credential_name.is_some() || o.credential_match.is_some())
    {
        return Err(ConfigError::Conflict(
            "`tenable_credential_name` / `tenable_credential_match` are set but `tenable_target` is not `credential`; set tenable_target = credential, or remove them",
        ));
    }
    let verify_login = choice(&o.verify, &["none", "login"], "`none` or `login`")? == Some("login");
    let restore_on_partial_failure = choice(
        &o.on_partial_failure,
        &["restore", "keep"],
        "`restore` or `keep`",
    )? != Some("keep");
    let mut transport = TransportConfig {
        ca_file: ca_file.map(|c| PathBuf::from(c.value)),
        ..TransportConfig::default()
    };
    if let Some(t) = timeout {
        let secs: u64 = t
            .value
            .parse()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| ConfigError::BadValue {
                source_name: t.from.clone(),
                value: t.value.clone(),
                expected: "a whole number of seconds from 1 to 3600",
            })?;
        transport.deadline = Duration::from_secs(secs);
        transport.request_timeout = transport.request_timeout.min(transport.deadline);
    }
    Ok(Settings {
        platform,
        base_url,
        keys,
        key_source,
        target,
        target_explicit: o.target.is_some(),
        verify_login,
        restore_on_partial_failure,
        transport,
    })
}

/// Parses `vm` / `sc` (and the product names people type).
pub fn parse_platform(value: &str) -> Option<Platform> {
    match value.trim().to_ascii_lowercase().as_str() {
        "vm" | "tvm" | "io" | "tenable.io" | "cloud" => Some(Platform::Vm),
        "sc" | "tsc" | "securitycenter" | "security-center" | "tenable.sc" => Some(Platform::Sc),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const FILE: &str = "/etc/tenable-rotate.toml";

    fn record(fields: Value) -> Record {
        let mut r = json!({"uid": "K", "title": "Tenable Authentication Record"});
        r.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        let line = crate::demo::gateway_payload("alice", "new", "old", &json!([r]));
        let mut payload = crate::keeper::parse_payload(line.as_bytes()).unwrap();
        payload.records.remove(0)
    }

    fn file(text: &str) -> ConfigFile {
        ConfigFile::parse(std::path::Path::new(FILE), text).unwrap()
    }

    fn resolve_with(
        flags: &Overrides,
        env: &Environment,
        record: Option<&Record>,
        file: Option<&ConfigFile>,
    ) -> Result<Settings, ConfigError> {
        resolve(&Sources {
            user: "alice",
            record,
            env,
            file,
            flags,
        })
    }

    /// Each place in turn is added above the last, and each one wins over those below it.
    #[test]
    fn flag_beats_env_beats_record_beats_file_beats_default() {
        let keys = json!({"tenable_access_key": "rak", "tenable_secret_key": "rsk"});
        let bare = record(keys.clone());
        let mut with_fields = keys.clone();
        with_fields.as_object_mut().unwrap().extend(
            json!({"tenable_url": "https://record.example", "tenable_verify": "none", "tenable_target": "user"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let full_record = record(with_fields);
        let file = file(
            "access_key = \"fak\"\nsecret_key = \"fsk\"\nurl = \"https://file.example\"\nverify = \"login\"\ntarget = \"credential\"\ntimeout = 90\n",
        );
        let env = Environment::default()
            .with(env::URL, "https://env.example")
            .with(env::VERIFY, "login")
            .with(env::TARGET, "credential")
            .with(env::ACCESS_KEY, "eak")
            .with(env::SECRET_KEY, "esk")
            .with(env::TIMEOUT, "30");
        let flags = Overrides {
            url: Some("https://flag.example".into()),
            verify: Some("none".into()),
            target: Some("user".into()),
            ..Overrides::default()
        };
        let none = Overrides::default();
        let empty = Environment::default();

        // Default: only keys, from the record.
        let s = resolve_with(&none, &empty, Some(&bare), None).unwrap();
        assert_eq!(s.base_url.as_str(), "https://cloud.tenable.com");
        assert!(!s.verify_login);
        assert_eq!(s.target, Target::User("alice".into()));
        assert_eq!(s.transport.deadline, Duration::from_secs(60));
        assert_eq!(s.key_source, "record 'Tenable Authentication Record'");

        // File over default (the record gives only keys, which rank above the file's).
        let s = resolve_with(&none, &empty, Some(&bare), Some(&file)).unwrap();
        assert_eq!(s.base_url.as_str(), "https://file.example");
        assert!(s.verify_login);
        assert!(matches!(s.target, Target::Credentials(_)));
        assert_eq!(s.transport.deadline, Duration::from_secs(90));
        assert_eq!(s.key_source, "record 'Tenable Authentication Record'");

        // Record over file.
        let s = resolve_with(&none, &empty, Some(&full_record), Some(&file)).unwrap();
        assert_eq!(s.base_url.as_str(), "https://record.example");
        assert!(!s.verify_login);
        assert_eq!(s.target, Target::User("alice".into()));

        // Environment over record.
        let s = resolve_with(&none, &env, Some(&full_record), Some(&file)).unwrap();
        assert_eq!(s.base_url.as_str(), "https://env.example");
        assert!(s.verify_login);
        assert!(matches!(s.target, Target::Credentials(_)));
        assert_eq!(s.transport.deadline, Duration::from_secs(30));
        assert_eq!(s.key_source, "the environment");
        assert_eq!(s.keys.access_key.expose(), "eak");

        // Flags over the environment.
        let s = resolve_with(&flags, &env, Some(&full_record), Some(&file)).unwrap();
        assert_eq!(s.base_url.as_str(), "https://flag.example");
        assert!(!s.verify_login);
        assert_eq!(s.target, Target::User("alice".into()));
    }

    #[test]
    fn keys_can_come_from_the_file_alone() {
        let f = file("access_key = \"fak\"\nsecret_key = \"fsk\"\n");
        let s = resolve_with(
            &Overrides::default(),
            &Environment::default(),
            None,
            Some(&f),
        )
        .unwrap();
        assert_eq!(s.keys.secret_key.expose(), "fsk");
        assert_eq!(s.key_source, format!("the config file '{FILE}'"));
    }

    #[test]
    fn both_keys_must_come_from_one_place() {
        let env = Environment::default().with(env::ACCESS_KEY, "eak");
        let r = record(json!({"tenable_access_key": "rak", "tenable_secret_key": "rsk"}));
        let e = resolve_with(&Overrides::default(), &env, Some(&r), None).unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::HalfKeys {
                    present: "TENABLE_ACCESS_KEY",
                    missing: "TENABLE_SECRET_KEY",
                    ..
                }
            ),
            "{e}"
        );
        let f = file("secret_key = \"fsk\"\n");
        let e = resolve_with(
            &Overrides::default(),
            &Environment::default(),
            None,
            Some(&f),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::HalfKeys {
                    present: "secret_key",
                    missing: "access_key",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn the_first_place_with_an_address_chooses_the_platform() {
        let keys = json!({"tenable_access_key": "rak", "tenable_secret_key": "rsk"});
        let sc_file = file("sc_host = \"sc.example.com\"\n");
        let none = Overrides::default();
        let empty = Environment::default();
        // The file's sc_host selects Security Center when the record names no address...
        let s = resolve_with(&none, &empty, Some(&record(keys.clone())), Some(&sc_file)).unwrap();
        assert_eq!(s.platform, Platform::Sc);
        assert_eq!(s.base_url.as_str(), "https://sc.example.com");
        // ...but a record that names a Vulnerability Management URL wins over it.
        let mut vm = keys.clone();
        vm["tenable_url"] = json!("https://fedcloud.tenable.com");
        let s = resolve_with(&none, &empty, Some(&record(vm)), Some(&sc_file)).unwrap();
        assert_eq!(s.platform, Platform::Vm);
        assert_eq!(s.base_url.as_str(), "https://fedcloud.tenable.com");
        // `--platform vm` takes the VM address, not a Security Center host ranked above it.
        let mut both = keys.clone();
        both["tenable_url"] = json!("https://fedcloud.tenable.com");
        let env = Environment::default().with(env::SC_HOST, "sc2.example.com");
        let vm_flag = Overrides {
            platform: Some(Platform::Vm),
            ..Overrides::default()
        };
        let s = resolve_with(&vm_flag, &env, Some(&record(both)), None).unwrap();
        assert_eq!(s.base_url.as_str(), "https://fedcloud.tenable.com");
        // TENABLE_SC_HOST ranks above the record.
        let env = Environment::default().with(env::SC_HOST, "sc2.example.com");
        let s = resolve_with(&none, &env, Some(&record(keys)), None).unwrap();
        assert_eq!(s.platform, Platform::Sc);
        assert_eq!(s.base_url.as_str(), "https://sc2.example.com");
    }

    #[test]
    fn a_bad_value_names_where_it_came_from() {
        let f = file("access_key = \"a\"\nsecret_key = \"b\"\nverify = \"always\"\n");
        let e = resolve_with(
            &Overrides::default(),
            &Environment::default(),
            None,
            Some(&f),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains(&format!("`verify` in the config file '{FILE}'")),
            "{e}"
        );
        let env = Environment::default().with(env::TARGET, "users!");
        let r = record(json!({"tenable_access_key": "rak", "tenable_secret_key": "rsk"}));
        let e = resolve_with(&Overrides::default(), &env, Some(&r), None)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("TENABLE_TARGET is 'users!'"), "{e}");
    }
}
