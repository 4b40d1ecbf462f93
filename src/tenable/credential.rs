//! Managed scan credentials on both platforms: which ones a rotation selects, and which
//! setting holds their password.
//!
//! A credential stores the password of some account (an AD or Linux service account) that
//! Tenable scans with. When Keeper rotates that account, the credential must follow or scans
//! start failing. Which setting holds the password depends on the credential type and its
//! authentication method (tenable-api.md §1.e, from `GET /credentials/types`); a type with
//! none (SNMP, public-key SSH) is never written to.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::Platform;
use super::error::TenableError;
use super::wire;
use crate::secret::Secret;

/// How credentials are selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialMatch {
    /// The one credential with exactly this name.
    Name(String),
    /// Every credential whose settings username is this account (case-insensitive, with
    /// `DOMAIN\user` and `user@domain` forms matched).
    Username(String),
}

impl CredentialMatch {
    /// Whether `credential` is selected.
    pub fn accepts(&self, credential: &Credential) -> bool {
        match self {
            CredentialMatch::Name(name) => credential.name == *name,
            CredentialMatch::Username(user) => credential
                .username
                .as_deref()
                .is_some_and(|u| same_account(u, credential.domain.as_deref(), user)),
        }
    }
}

/// A credential as read from Tenable, with what a rotation needs.
#[derive(Debug, Clone)]
pub struct Credential {
    /// UUID (TVM) or numeric id (SC).
    pub id: String,
    /// Name shown in Tenable.
    pub name: String,
    /// Type id, e.g. `Windows`, `SSH`, `Database` (TVM) or `windows`, `ssh` (SC).
    pub kind: String,
    /// The account in its settings, if any.
    pub username: Option<String>,
    /// The settings' separate domain, if any (Windows).
    pub domain: Option<String>,
    /// The setting that holds the password, or `None` when the type has none.
    pub password_key: Option<&'static str>,
    /// TVM only: the details as read, sent back on update.
    details: Map<String, Value>,
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl Credential {
    /// From a TVM `GET /credentials/{uuid}` body (which has no uuid of its own).
    pub fn from_vm(uuid: String, details: Map<String, Value>) -> Result<Credential, TenableError> {
        let empty = Map::new();
        let settings = details
            .get("settings")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let kind = details
            .get("type")
            .and_then(|t| t.get("id").or(Some(t)))
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_owned();
        Ok(Credential {
            id: uuid,
            name: text(&details, "name").unwrap_or_default().to_owned(),
            username: text(settings, "username").map(str::to_owned),
            domain: text(settings, "domain").map(str::to_owned),
            password_key: password_key_for(&kind, settings),
            kind,
            details,
        })
    }

    /// From an SC `GET /rest/credential/{id}` envelope's `response`.
    pub fn from_sc(response: &Map<String, Value>) -> Credential {
        let empty = Map::new();
        let fields = response
            .get("typeFields")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let kind = text(response, "type").unwrap_or("unknown").to_owned();
        Credential {
            id: match response.get("id") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) => s.clone(),
                _ => String::new(),
            },
            name: text(response, "name").unwrap_or_default().to_owned(),
            username: text(fields, "username")
                .or_else(|| text(fields, "login"))
                .map(str::to_owned),
            domain: text(fields, "domain").map(str::to_owned),
            password_key: password_key_for(&kind, fields),
            kind,
            details: Map::new(),
        }
    }

    /// The account it holds as one name: `DOMAIN\user` when the domain is a separate setting,
    /// else the username as stored.
    pub fn account(&self) -> Option<String> {
        self.username.as_ref().map(|u| match &self.domain {
            Some(d) if !u.contains('\\') && !u.contains('@') => format!("{d}\\{u}"),
            _ => u.clone(),
        })
    }

    /// The error for a credential whose type has no password setting.
    pub fn no_password_field(&self, platform: Platform) -> TenableError {
        TenableError::NoPasswordField {
            platform,
            name: self.name.clone(),
            kind: self.kind.clone(),
        }
    }
}

/// Which setting holds the password for a credential of `kind` with `settings`, or `None`.
/// Windows and SSH hold a password only with password or Kerberos authentication (a hash or a
/// key is not a password); SNMP holds a community string, which is not one either.
pub fn password_key_for(kind: &str, settings: &Map<String, Value>) -> Option<&'static str> {
    let auth = ["auth_method", "authtype", "authType"]
        .iter()
        .find_map(|k| text(settings, k))
        .map(str::to_ascii_lowercase);
    let password_auth = match auth.as_deref() {
        None | Some("password") => true,
        Some("kerberos") => {
            kind.eq_ignore_ascii_case("windows") || kind.eq_ignore_ascii_case("ssh")
        }
        Some(_) => false,
    };
    let lower = kind.to_ascii_lowercase();
    if lower.starts_with("snmp") || !password_auth {
        return None;
    }
    settings.contains_key("password").then_some("password")
}

/// Whether the account `stored` (with an optional separate `stored_domain`) is `rotated`.
fn same_account(stored: &str, stored_domain: Option<&str>, rotated: &str) -> bool {
    let (a_user, a_dom) = split_account(stored);
    let (b_user, b_dom) = split_account(rotated);
    let a_dom = a_dom.or(stored_domain);
    a_user.eq_ignore_ascii_case(b_user)
        && match (a_dom, b_dom) {
            (Some(a), Some(b)) => same_domain(a, b),
            _ => true,
        }
}

/// `DOM\user` → (user, DOM); `user@dom` → (user, dom); `user` → (user, None).
fn split_account(account: &str) -> (&str, Option<&str>) {
    let account = account.trim();
    if let Some((dom, user)) = account.split_once('\\') {
        (user, Some(dom))
    } else if let Some((user, dom)) = account.rsplit_once('@') {
        (user, Some(dom))
    } else {
        (account, None)
    }
}

/// `CORP` and `corp.example.com` name the same domain (NetBIOS name = first DNS label).
fn same_domain(a: &str, b: &str) -> bool {
    let first = |d: &str| d.split('.').next().unwrap_or(d).to_ascii_lowercase();
    a.eq_ignore_ascii_case(b) || first(a) == first(b)
}

/// The TVM `PUT /credentials/{uuid}` body: the credential as read, with only the password
/// setting replaced.
pub(crate) fn vm_update_body(credential: &Credential, new: &Secret) -> Zeroizing<Vec<u8>> {
    #[derive(Serialize)]
    struct Update<'a> {
        name: &'a Value,
        description: &'a Value,
        ad_hoc: bool,
        settings: SettingsWithPassword<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        permissions: Option<&'a Value>,
    }
    let empty = Map::new();
    let d = &credential.details;
    wire::to_wiped_json(&Update {
        name: d.get("name").unwrap_or(&Value::Null),
        description: d.get("description").unwrap_or(&Value::Null),
        // `ad_hoc` may only go from true to false; a managed credential is false.
        ad_hoc: false,
        settings: SettingsWithPassword {
            settings: d
                .get("settings")
                .and_then(Value::as_object)
                .unwrap_or(&empty),
            key: credential.password_key.unwrap_or("password"),
            password: new,
        },
        permissions: d.get("permissions"),
    })
}

/// A settings object serialized with one key's value replaced by a secret, so the password
/// goes from the `Secret` straight into the wiped request buffer.
struct SettingsWithPassword<'a> {
    settings: &'a Map<String, Value>,
    key: &'a str,
    password: &'a Secret,
}

impl Serialize for SettingsWithPassword<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (k, v) in self.settings {
            if k == self.key {
                map.serialize_entry(k, self.password.expose())?;
            } else {
                map.serialize_entry(k, v)?;
            }
        }
        if !self.settings.contains_key(self.key) {
            map.serialize_entry(self.key, self.password.expose())?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn settings(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn password_keys_by_type_and_auth_method() {
        let win = settings(
            json!({"domain":"","username":"administrator","auth_method":"Password","password":"********"}),
        );
        assert_eq!(password_key_for("Windows", &win), Some("password"));
        let ntlm =
            settings(json!({"username":"a","auth_method":"NTLM Hash","password":"********"}));
        assert_eq!(password_key_for("Windows", &ntlm), None);
        let ssh =
            settings(json!({"username":"root","auth_method":"password","password":"********"}));
        assert_eq!(password_key_for("SSH", &ssh), Some("password"));
        let key = settings(json!({"username":"root","auth_method":"public key","private_key":"x"}));
        assert_eq!(password_key_for("SSH", &key), None);
        let db = settings(
            json!({"type":"PostgreSQL","authtype":"Password","username":"u","password":"********"}),
        );
        assert_eq!(password_key_for("Database", &db), Some("password"));
        let snmp = settings(json!({"community":"********"}));
        assert_eq!(password_key_for("SNMPv1/v2c", &snmp), None);
        let sc_ssh = settings(json!({"authType":"password","username":"root","password":"SET"}));
        assert_eq!(password_key_for("ssh", &sc_ssh), Some("password"));
    }

    #[test]
    fn accounts_match_across_domain_forms() {
        assert!(same_account(
            "CORP\\svc-scan",
            None,
            "svc-scan@corp.example.com"
        ));
        assert!(same_account("svc-scan", Some("CORP"), "CORP\\SVC-SCAN"));
        assert!(same_account("root", None, "root"));
        assert!(!same_account("OTHER\\svc-scan", None, "CORP\\svc-scan"));
        assert!(!same_account("svc-scan2", None, "svc-scan"));
    }

    #[test]
    fn update_body_replaces_only_the_password() {
        let details = settings(
            json!({"name":"c","description":"d","ad_hoc":false,"type":{"id":"SSH"},
            "settings":{"username":"root","auth_method":"password","password":"********","escalation_password":"********"},
            "permissions":[{"type":"user","permissions":64}]}),
        );
        let cred = Credential::from_vm("u-1".into(), details).unwrap();
        let body = vm_update_body(&cred, &Secret::from("N3w-Passw0rd!"));
        let sent: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(sent["settings"]["password"], "N3w-Passw0rd!");
        assert_eq!(sent["settings"]["escalation_password"], "********");
        assert_eq!(sent["settings"]["username"], "root");
        assert_eq!(sent["permissions"][0]["permissions"], 64);
        assert_eq!(sent["ad_hoc"], false);
    }
}
