//! Where each setting comes from, and the checks that stop a misconfiguration from passing
//! silently.
//!
//! A rotation's settings come from, highest first: command-line flags (standalone `rotate`),
//! the environment, the Tenable key record attached to the PAM script, then defaults. The
//! key record is the one Keeper's Python samples use (`Tenable Authentication Record` with
//! `tenable_access_key`, `tenable_secret_key`, and `tenable_sc_host` for Security Center), so
//! a record set up for them works unchanged. Any other `tenable_*` field on it must be one we
//! know: a typo such as `tenable_targt` is an error, not a silently ignored setting.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::keeper::{FieldValue, Record};
use crate::secret::Secret;
use crate::tenable::{ApiKeys, CredentialMatch, Platform};
use crate::transport::{BaseUrl, TransportConfig, TransportError};

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
    /// Every field we read.
    pub const ALL: [&str; 8] = [
        ACCESS_KEY,
        SECRET_KEY,
        URL,
        SC_HOST,
        TARGET,
        CREDENTIAL_NAME,
        CREDENTIAL_MATCH,
        VERIFY,
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
    /// Every variable we read.
    pub const ALL: [&str; 8] = [
        URL,
        CA_FILE,
        RECORD_TITLE,
        TIMEOUT,
        ACCESS_KEY,
        SECRET_KEY,
        NEW_PASSWORD,
        OLD_PASSWORD,
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
    #[error("the record '{title}' field `{field}` is a {found}, expected text")]
    NotText {
        /// Record title.
        title: String,
        /// Field name.
        field: String,
        /// The JSON kind found.
        found: &'static str,
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
    /// Log in with the new password after changing a user's.
    pub verify_login: bool,
    /// Timeouts, trust and retries.
    pub transport: TransportConfig,
}

/// Values that may come from a record or from flags; `None` means "not given".
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
}

/// Builds settings for the Keeper path: keys and options from `record`, under `env` and `flags`.
pub fn from_record(
    record: &Record,
    user: &str,
    env: &Environment,
    flags: &Overrides,
) -> Result<Settings, ConfigError> {
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
    let text = |f: &'static str| -> Result<Option<&Secret>, ConfigError> {
        match record.field(f) {
            None | Some(FieldValue::Null) => Ok(None),
            Some(FieldValue::Text(s)) if s.is_blank() => Ok(None),
            Some(FieldValue::Text(s)) => Ok(Some(s)),
            Some(other) => Err(ConfigError::NotText {
                title: title.clone(),
                field: f.to_owned(),
                found: other.kind(),
            }),
        }
    };
    let key = |f: &'static str| -> Result<Secret, ConfigError> {
        match record.field(f) {
            None => Err(ConfigError::MissingField {
                title: title.clone(),
                field: f,
            }),
            Some(_) => text(f)?.cloned().ok_or(ConfigError::EmptyField {
                title: title.clone(),
                field: f,
            }),
        }
    };
    let plain = |f: &'static str| -> Result<Option<String>, ConfigError> {
        Ok(text(f)?.map(|s| s.expose().trim().to_owned()))
    };

    let keys = ApiKeys {
        access_key: key(field::ACCESS_KEY)?,
        secret_key: key(field::SECRET_KEY)?,
    };
    let record_url = plain(field::URL)?;
    let sc_host = plain(field::SC_HOST)?;
    if record_url.is_some() && sc_host.is_some() {
        return Err(ConfigError::Conflict(
            "the key record has both `tenable_url` (Vulnerability Management) and `tenable_sc_host` (Security Center); keep the one for your platform",
        ));
    }
    let record_platform = if sc_host.is_some() {
        Platform::Sc
    } else {
        Platform::Vm
    };
    let merged = Overrides {
        platform: flags.platform.or(Some(record_platform)),
        url: flags
            .url
            .clone()
            .or_else(|| env.get(env::URL).map(str::to_owned))
            .or(sc_host)
            .or(record_url),
        target: flags.target.clone().or(plain(field::TARGET)?),
        credential_name: flags
            .credential_name
            .clone()
            .or(plain(field::CREDENTIAL_NAME)?),
        credential_match: flags
            .credential_match
            .clone()
            .or(plain(field::CREDENTIAL_MATCH)?),
        verify: flags.verify.clone().or(plain(field::VERIFY)?),
    };
    let source = |f: &str| format!("the record '{}' field `{f}`", record.title());
    build(
        keys,
        format!("record '{title}'"),
        user,
        env,
        &merged,
        &source,
    )
}

/// Builds settings for standalone `rotate`: keys from the environment, the rest from flags.
pub fn from_flags(
    user: &str,
    env: &Environment,
    flags: &Overrides,
) -> Result<Settings, ConfigError> {
    let key = |name: &'static str| {
        env.secret(name).cloned().ok_or(ConfigError::Missing {
            name,
            hint: "export the Tenable API keys as TENABLE_ACCESS_KEY and TENABLE_SECRET_KEY",
        })
    };
    let keys = ApiKeys {
        access_key: key(env::ACCESS_KEY)?,
        secret_key: key(env::SECRET_KEY)?,
    };
    let mut merged = flags.clone();
    merged.url = merged.url.or_else(|| env.get(env::URL).map(str::to_owned));
    if merged.platform == Some(Platform::Sc) && merged.url.is_none() {
        return Err(ConfigError::Missing {
            name: "--url",
            hint: "Security Center has no default address; pass --url https://sc.example.com",
        });
    }
    build(
        keys,
        "environment".to_owned(),
        user,
        env,
        &merged,
        &|f: &str| format!("--{}", f.trim_start_matches("tenable_").replace('_', "-")),
    )
}

fn build(
    keys: ApiKeys,
    key_source: String,
    user: &str,
    env: &Environment,
    o: &Overrides,
    source: &dyn Fn(&str) -> String,
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
    let platform = o.platform.unwrap_or(Platform::Vm);
    let base_url = BaseUrl::parse(o.url.as_deref().unwrap_or(DEFAULT_VM_URL))?;
    let choice = |value: &Option<String>,
                  f: &'static str,
                  allowed: &[&'static str],
                  expected: &'static str|
     -> Result<Option<&'static str>, ConfigError> {
        let Some(v) = value else { return Ok(None) };
        allowed
            .iter()
            .find(|a| a.eq_ignore_ascii_case(v.trim()))
            .map(|a| Some(*a))
            .ok_or_else(|| ConfigError::BadValue {
                source_name: source(f),
                value: v.clone(),
                expected,
            })
    };
    let target = match choice(
        &o.target,
        field::TARGET,
        &["user", "credential", "credentials"],
        "`user` or `credential`",
    )? {
        None | Some("user") => Target::User(user.to_owned()),
        Some(_) => match choice(
            &o.credential_match,
            field::CREDENTIAL_MATCH,
            &["name", "username"],
            "`name` or `username`",
        )? {
            Some("username") => Target::Credentials(CredentialMatch::Username(user.to_owned())),
            _ => Target::Credentials(CredentialMatch::Name(
                o.credential_name.clone().unwrap_or_else(|| user.to_owned()),
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
    let verify_login = choice(
        &o.verify,
        field::VERIFY,
        &["none", "login"],
        "`none` or `login`",
    )? == Some("login");
    let mut transport = TransportConfig {
        ca_file: env.get(env::CA_FILE).map(PathBuf::from),
        ..TransportConfig::default()
    };
    if let Some(t) = env.get(env::TIMEOUT) {
        let secs: u64 = t
            .parse()
            .ok()
            .filter(|s| (1..=3600).contains(s))
            .ok_or_else(|| ConfigError::BadValue {
                source_name: env::TIMEOUT.to_owned(),
                value: t.to_owned(),
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
        verify_login,
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
