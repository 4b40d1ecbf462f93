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
pub use vm::{VmClient, VmUser, user_from_list};

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
