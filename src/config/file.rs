//! The optional settings file (`--config FILE`, or `TENABLE_ROTATE_CONFIG`), for gateways
//! where the key record cannot carry every setting. It ranks below the record and the
//! environment and above the defaults.
//!
//! The file is TOML with one flat table. Its keys are the record fields without the
//! `tenable_` prefix, plus three settings that otherwise come only from the environment:
//!
//! ```toml
//! url = "https://fedcloud.tenable.com"
//! target = "credential"
//! credential_match = "username"
//! timeout = 90
//! ```
//!
//! The file may hold the API keys, so nothing in an error quotes it: toml's own messages show
//! the offending source line, which could be a key, so we report the line number and the key
//! name instead. A file that holds keys and that other users can read is refused.

use std::path::{Path, PathBuf};

use toml::{Table, Value};

use super::ConfigError;
use crate::secret::Secret;

/// Every key the file may have.
pub const KEYS: [&str; 13] = [
    "access_key",
    "secret_key",
    "url",
    "sc_host",
    "target",
    "credential_name",
    "credential_match",
    "verify",
    "on_partial_failure",
    "record_title",
    "ca_file",
    "timeout",
    "audit_log",
];

/// Largest file we read: a settings file is a few hundred bytes.
const MAX_FILE_BYTES: u64 = 64 * 1024;

/// The settings file, read and checked; every value optional.
#[derive(Debug, Default, Clone)]
pub struct ConfigFile {
    /// Where it was read from, for messages.
    pub path: PathBuf,
    /// `access_key`.
    pub access_key: Option<Secret>,
    /// `secret_key`.
    pub secret_key: Option<Secret>,
    /// `url` (Vulnerability Management base URL).
    pub url: Option<String>,
    /// `sc_host` (selects Security Center).
    pub sc_host: Option<String>,
    /// `target`.
    pub target: Option<String>,
    /// `credential_name`.
    pub credential_name: Option<String>,
    /// `credential_match`.
    pub credential_match: Option<String>,
    /// `verify`.
    pub verify: Option<String>,
    /// `on_partial_failure`.
    pub on_partial_failure: Option<String>,
    /// `record_title`: the key record's title.
    pub record_title: Option<String>,
    /// `ca_file`: extra CA certificates (PEM).
    pub ca_file: Option<String>,
    /// `timeout`: the overall deadline in seconds (a number or a string).
    pub timeout: Option<String>,
    /// `audit_log`: the file each run appends its audit line to.
    pub audit_log: Option<String>,
}

impl ConfigFile {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        use std::io::Read;
        let unreadable = |e: std::io::Error| ConfigError::FileUnreadable {
            path: path.display().to_string(),
            reason: e.kind(),
        };
        let file = std::fs::File::open(path).map_err(unreadable)?;
        let mode = permission_bits(&file);
        let mut text = zeroize::Zeroizing::new(String::new());
        file.take(MAX_FILE_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(unreadable)?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(ConfigError::FileSyntax {
                path: path.display().to_string(),
                detail: format!("it is larger than {MAX_FILE_BYTES} bytes"),
            });
        }
        let parsed = ConfigFile::parse(path, &text)?;
        if let Some(mode) = mode
            && (parsed.access_key.is_some() || parsed.secret_key.is_some())
            && mode & 0o077 != 0
        {
            return Err(ConfigError::FileExposed {
                path: path.display().to_string(),
                mode,
            });
        }
        Ok(parsed)
    }

    /// Parses the file's text; `path` is only for messages.
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        let shown = path.display().to_string();
        let mut table: Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            ConfigError::FileSyntax {
                path: shown.clone(),
                detail: match line {
                    Some(n) => format!("it is not valid TOML (line {n})"),
                    None => "it is not valid TOML".to_owned(),
                },
            }
        })?;
        if let Some(key) = table.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(ConfigError::FileUnknownKey {
                path: shown,
                key: key.clone(),
                known: KEYS.join(", "),
            });
        }
        let mut take = |key: &'static str, numbers: bool| -> Result<Option<String>, ConfigError> {
            match table.remove(key) {
                None => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(Value::Integer(n)) if numbers => Ok(Some(n.to_string())),
                Some(other) => Err(ConfigError::FileNotText {
                    path: shown.clone(),
                    key,
                    found: other.type_str(),
                }),
            }
        };
        Ok(ConfigFile {
            access_key: take("access_key", false)?.map(Secret::new),
            secret_key: take("secret_key", false)?.map(Secret::new),
            url: take("url", false)?,
            sc_host: take("sc_host", false)?,
            target: take("target", false)?,
            credential_name: take("credential_name", false)?,
            credential_match: take("credential_match", false)?,
            verify: take("verify", false)?,
            on_partial_failure: take("on_partial_failure", false)?,
            record_title: take("record_title", false)?,
            ca_file: take("ca_file", false)?,
            timeout: take("timeout", true)?,
            audit_log: take("audit_log", false)?,
            path: path.to_owned(),
        })
    }
}

#[cfg(unix)]
fn permission_bits(file: &std::fs::File) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    file.metadata().ok().map(|m| m.permissions().mode() & 0o777)
}

/// Not checked on Windows: a file has no mode bits there, and its ACL can be read only
/// through Windows API calls that this crate cannot make without `unsafe` (forbidden here)
/// and for which no well-kept safe crate exists. So a file with keys is read whatever its ACL;
/// README.md and docs/keeper-setup.md ("Windows gateways") say so and show `icacls`.
#[cfg(not(unix))]
fn permission_bits(_: &std::fs::File) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(Path::new("/etc/tenable-rotate.toml"), text)
    }

    #[test]
    fn reads_every_key() {
        let f = parse(
            "access_key = \"ak\"\nsecret_key = \"sk\"\nurl = \"https://x\"\ntarget = \"credential\"\ncredential_match = \"username\"\ncredential_name = \"n\"\nverify = \"login\"\nrecord_title = \"T\"\nca_file = \"/ca.pem\"\ntimeout = 90\n",
        )
        .unwrap();
        assert_eq!(f.access_key.unwrap().expose(), "ak");
        assert_eq!(f.secret_key.unwrap().expose(), "sk");
        assert_eq!(f.url.as_deref(), Some("https://x"));
        assert_eq!(f.target.as_deref(), Some("credential"));
        assert_eq!(f.credential_match.as_deref(), Some("username"));
        assert_eq!(f.credential_name.as_deref(), Some("n"));
        assert_eq!(f.verify.as_deref(), Some("login"));
        assert_eq!(f.record_title.as_deref(), Some("T"));
        assert_eq!(f.ca_file.as_deref(), Some("/ca.pem"));
        assert_eq!(f.timeout.as_deref(), Some("90"));
        assert!(f.sc_host.is_none());
    }

    #[test]
    fn errors_name_the_line_and_key_never_the_text() {
        let e = parse("url = \"https://x\"\nsecret_key = \"s3cr3t-value\n").unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("line 2"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");

        let e = parse("secret_key = 12345678\n").unwrap_err().to_string();
        assert!(e.contains("`secret_key`") && e.contains("integer"), "{e}");
        assert!(!e.contains("12345678"), "{e}");

        let e = parse("tenable_url = \"https://x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown key `tenable_url`"), "{e}");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_with_keys_that_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tr-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keys.toml");
        std::fs::write(&path, "access_key = \"ak\"\nsecret_key = \"sk\"\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600"), "{e}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(ConfigFile::load(&path).is_ok());

        let open = dir.join("no-keys.toml");
        std::fs::write(&open, "url = \"https://x\"\n").unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(ConfigFile::load(&open).is_ok(), "no keys, no secret");
        let _ = std::fs::remove_dir_all(dir);
    }
}
