//! Tenable's two platforms, one narrow client each, over the shared transport.
//!
//! [`VmClient`] speaks to Tenable Vulnerability Management (cloud, formerly Tenable.io);
//! [`ScClient`] to Tenable Security Center (on premises, formerly Tenable.sc). Each offers
//! only what a rotation needs: find a user or credential, change its password, and check
//! whether a password logs in. Status handling lives in `error::classify`, once for both.
//! Wire shapes follow shared/reference/tenable-api.md and pyTenable's recorded cassettes.

mod credential;
mod error;
mod sc;
mod vm;
mod wire;

use std::fmt;

pub use credential::{Credential, CredentialMatch, password_key_for};
pub use error::{
    Asked, IdShape, SC_ERROR_CODES, ScMeaning, TenableError, classify, error_message, path_id,
    sc_error_code,
};
pub use sc::{ScClient, ScUser};
pub use vm::{CredentialStubs, VmClient, VmUser, user_from_list};

use crate::secret::Secret;
use crate::transport::ApiKeyHeader;

/// Which Tenable product a rotation talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Tenable Vulnerability Management (cloud).
    Vm,
    /// Tenable Security Center (on premises).
    Sc,
}

impl Platform {
    /// Short stable name for JSON output and flags: `vm` or `sc`.
    pub fn id(self) -> &'static str {
        match self {
            Platform::Vm => "vm",
            Platform::Sc => "sc",
        }
    }

    /// The API-key header this platform expects.
    pub fn key_header(self, keys: &ApiKeys) -> ApiKeyHeader {
        let (name, access_label, secret_label) = match self {
            // developer.tenable.com/docs/authorization
            Platform::Vm => ("X-ApiKeys", "accessKey", "secretKey"),
            // docs.tenable.com/security-center/api_best_practices/Content/APIKeyAuthorization.htm
            Platform::Sc => ("x-apikey", "accesskey", "secretkey"),
        };
        ApiKeyHeader {
            name,
            access_label,
            secret_label,
            access_key: keys.access_key.clone(),
            secret_key: keys.secret_key.clone(),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Platform::Vm => "Tenable Vulnerability Management",
            Platform::Sc => "Tenable Security Center",
        })
    }
}

/// A Tenable API key pair.
#[derive(Debug, Clone)]
pub struct ApiKeys {
    /// The access key.
    pub access_key: Secret,
    /// The secret key.
    pub secret_key: Secret,
}

/// One user as `discover` lists it: what an administrator needs to decide whether Keeper can
/// rotate it. Every field but `id` and `username` is what Tenable said, if it said it; a
/// role below Administrator sees only id, username and email (tenable-api.md §1.b).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedUser {
    /// Tenable's id (digits on both platforms).
    pub id: String,
    /// The username.
    pub username: String,
    /// Display name (TVM `name`; SC `firstname lastname`).
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Role name (TVM from `permissions`; SC `role.name`).
    pub role: Option<String>,
    /// TVM's `permissions` number (16 Basic … 64 Administrator).
    pub permissions: Option<u64>,
    /// Whether the account is enabled.
    pub enabled: Option<bool>,
    /// Whether the account is locked out (TVM `lockout`, or more than 5 failed logins; SC
    /// `locked`).
    pub locked: Option<bool>,
    /// The platform's own word for how the user signs in (TVM `type`, SC `authType`).
    pub auth_type: Option<String>,
    /// TVM only, when read (`GET /users/{id}/authorizations`): which sign-ins are permitted.
    pub authorizations: Option<Authorizations>,
    /// Last login, seconds since the epoch (TVM `lastlogin` is in ms; SC `lastLogin` in s;
    /// 0 means never).
    pub last_login: Option<i64>,
}

/// A TVM user's permitted sign-ins (`GET /users/{id}/authorizations`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Authorizations {
    /// Username and password.
    pub password: bool,
    /// SAML single sign-on.
    pub saml: bool,
    /// API keys.
    pub api: bool,
}

/// One managed credential as `discover` lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedCredential {
    /// UUID (TVM) or numeric id (SC).
    pub id: String,
    /// Name.
    pub name: String,
    /// Type (`Windows`, `SSH`, … on TVM; `windows`, `ssh`, … on SC).
    pub kind: String,
    /// Category (TVM only: `Host`, `Database`, …).
    pub category: Option<String>,
    /// The account in its settings (`DOMAIN\user` when a separate domain is set).
    pub account: Option<String>,
    /// The setting that holds the password, or `None` when the type or its authentication
    /// method has none.
    pub password_key: Option<&'static str>,
    /// The authentication method setting, if any (`auth_method`, `authtype`, `authType`).
    pub auth_method: Option<String>,
    /// Whether these API keys may edit it (TVM: Can Edit, `user_permissions` 64; SC: listed
    /// as manageable); `None` when Tenable did not say.
    pub can_edit: Option<bool>,
    /// Why its details could not be read, when they could not (the row is still listed).
    pub unreadable: Option<String>,
}

/// TVM's role names by `permissions` (developer.tenable.com/docs/roles).
pub fn vm_role_name(permissions: u64) -> Option<&'static str> {
    Some(match permissions {
        0 => "No Access or custom",
        16 => "Basic",
        24 => "Scan Operator",
        32 => "Standard",
        40 => "Scan Manager",
        64 => "Administrator",
        _ => return None,
    })
}

/// Lenient readers for listing fields, which Tenable sends as strings on SC and as numbers or
/// booleans on TVM.
pub(crate) mod lenient {
    use serde_json::Value;

    /// Text from a string or a number; empty text is `None`.
    pub fn text(v: Option<&Value>) -> Option<String> {
        match v? {
            Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A boolean from `true`/`false`, `"true"`/`"false"`, or 0/1.
    pub fn flag(v: Option<&Value>) -> Option<bool> {
        match v? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            Value::Number(n) => n.as_i64().map(|n| n != 0),
            _ => None,
        }
    }

    /// A whole number from a number or a numeric string.
    pub fn number(v: Option<&Value>) -> Option<i64> {
        match v? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}
