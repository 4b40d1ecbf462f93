//! Tenable Vulnerability Management: users (`/users`, `/users/{id}/chpasswd`), logins
//! (`/session`) and managed scan credentials (`/credentials`).

use std::fmt;
use std::io::Read;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::credential::{self, Credential, CredentialMatch};
use super::error::{Asked, IdShape, TenableError, classify, path_id};
use super::wire::{self, Login, WireId};
use super::{ApiKeys, Platform};
use crate::secret::{Redactor, Secret};
use crate::transport::{BaseUrl, BodyLimits, Call, RequestKind, Transport, TransportConfig};
use crate::untrusted;

const PLATFORM: Platform = Platform::Vm;

/// A TVM user, as far as a rotation needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmUser {
    /// Numeric id (pyTenable uses it in paths).
    pub id: String,
    /// Username (usually an email address).
    pub username: String,
}

/// The TVM client.
#[derive(Debug)]
pub struct VmClient {
    transport: Transport,
    redactor: Redactor,
}

#[derive(Deserialize)]
struct UserSummary {
    id: WireId,
    username: String,
}

#[derive(Serialize)]
struct ChangePassword<'a> {
    #[serde(serialize_with = "wire::expose")]
    password: &'a Secret,
    #[serde(
        serialize_with = "wire::expose_opt",
        skip_serializing_if = "Option::is_none"
    )]
    current_password: Option<&'a Secret>,
}

impl VmClient {
    /// A client for `base` with `keys`. `redactor` cleans Tenable's error text.
    pub fn new(
        base: BaseUrl,
        keys: &ApiKeys,
        config: &TransportConfig,
        redactor: Redactor,
    ) -> Result<VmClient, TenableError> {
        let transport = Transport::new(base, PLATFORM.key_header(keys), config, true)?;
        Ok(VmClient {
            transport,
            redactor,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &BaseUrl {
        self.transport.base()
    }

    /// Finds the user named `username`: an exact match, else the only case-insensitive one.
    /// `GET /users` returns every user in one answer (pyTenable sends no paging), so the body
    /// is parsed as a stream and only matches are kept.
    pub fn find_user(&self, username: &str) -> Result<VmUser, TenableError> {
        let operation = "the user list (GET /users)";
        let (reply, parsed) = self
            .transport
            .send_streamed(&Call::get("/users").limits(BodyLimits::LIST), |reader| {
                find_in_user_list(reader, username)
            })?;
        let matches = match parsed {
            Some(Ok(m)) => m,
            Some(Err(_)) => return Err(TenableError::unreadable(PLATFORM, operation, &reply)),
            None => {
                return Err(classify(
                    PLATFORM,
                    "the user list (GET /users)",
                    &reply,
                    &self.redactor,
                    Asked::Read { object: None },
                ));
            }
        };
        pick_user(matches, username)
    }

    /// `PUT /users/{id}/chpasswd`. Sends `current_password` when `current` is not empty, as
    /// pyTenable does; an administrator's change does not need it (tenable-api.md §1.d).
    pub fn change_password(
        &self,
        user: &VmUser,
        new: &Secret,
        current: &Secret,
    ) -> Result<Option<String>, TenableError> {
        let body = wire::to_wiped_json(&ChangePassword {
            password: new,
            current_password: (!current.is_empty()).then_some(current),
        });
        let id = path_id(PLATFORM, "user", IdShape::Number, &user.id)?;
        let path = format!("/users/{id}/chpasswd");
        let reply = self.transport.send(&Call::with_body(
            Method::PUT,
            &path,
            &body,
            RequestKind::Change,
        ))?;
        match reply.status {
            200..=299 => Ok(reply.request_id),
            _ => Err(classify(
                PLATFORM,
                "the password change",
                &reply,
                &self.redactor,
                Asked::Change {
                    kind: "user",
                    name: &user.username,
                },
            )),
        }
    }

    /// Whether `password` logs in as `username` (`POST /session`); a session that opens is
    /// closed at once. Each failed try counts towards Tenable's lockout (5), so callers try once.
    pub fn password_logs_in(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<bool, TenableError> {
        #[derive(Deserialize)]
        struct Token {
            token: Secret,
        }
        let body = wire::to_wiped_json(&Login {
            username,
            password,
            release_session: None,
        });
        let mut call = Call::with_body(Method::POST, "/session", &body, RequestKind::Login);
        call.authenticated = false;
        let reply = self.transport.send(&call)?;
        match reply.status {
            200..=299 => {
                let token: Token = serde_json::from_slice(&reply.body)
                    .map_err(|_| TenableError::unreadable(PLATFORM, "a login", &reply))?;
                let header = Secret::new(format!("token={}", token.token.expose()));
                let mut logout = Call::get("/session");
                logout.method = Method::DELETE;
                logout.authenticated = false;
                logout.headers.push(("x-cookie", header));
                // Closing the session is good manners; failing to is not a rotation failure.
                let _ = self.transport.send(&logout);
                Ok(true)
            }
            400 | 401 | 403 => Ok(false),
            _ => Err(classify(
                PLATFORM,
                "a login",
                &reply,
                &self.redactor,
                Asked::Read { object: None },
            )),
        }
    }

    /// Managed credentials selected by name (`GET /credentials?f=name:eq:NAME`) or by the
    /// account in their settings (every credential's details are read).
    pub fn find_credentials(
        &self,
        selection: &CredentialMatch,
    ) -> Result<Vec<Credential>, TenableError> {
        let summaries = match selection {
            CredentialMatch::Name(name) => {
                let filter = format!("name:eq:{name}");
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("f", &filter)
                    .append_pair("limit", "200")
                    .append_pair("offset", "0")
                    .finish();
                let list = self.list_credentials(&format!("/credentials?{query}"))?;
                // The server filter's case rules are not documented; insist on the exact name.
                list.into_iter().filter(|c| c.name == *name).collect()
            }
            CredentialMatch::Username(_) => {
                let mut all = Vec::new();
                let mut offset = 0usize;
                loop {
                    let page =
                        self.list_page(&format!("/credentials?limit=200&offset={offset}"))?;
                    let got = page.credentials.len();
                    all.extend(page.credentials);
                    offset += got;
                    if got == 0 || offset >= page.pagination.map(|p| p.total).unwrap_or(0) {
                        break;
                    }
                }
                all
            }
        };
        let mut found = Vec::new();
        for summary in summaries {
            let credential = self.credential(&summary.uuid, &summary.name)?;
            if selection.accepts(&credential) {
                found.push(credential);
            }
        }
        Ok(found)
    }

    /// Whether a managed credential is named exactly `name` (one filtered list request). A
    /// refusal (no right to list credentials) is "no": the caller only uses this to refuse a
    /// guess, never to decide a change.
    pub fn has_credential_named(&self, name: &str) -> bool {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("f", &format!("name:eq:{name}"))
            .append_pair("limit", "200")
            .append_pair("offset", "0")
            .finish();
        self.list_credentials(&format!("/credentials?{query}"))
            .is_ok_and(|list| list.iter().any(|c| c.name == name))
    }

    fn list_credentials(&self, path: &str) -> Result<Vec<CredentialSummary>, TenableError> {
        Ok(self.list_page(path)?.credentials)
    }

    fn list_page(&self, path: &str) -> Result<CredentialPage, TenableError> {
        let reply = self
            .transport
            .send(&Call::get(path).limits(BodyLimits::WHOLE_LIST))?;
        if !(200..300).contains(&reply.status) {
            return Err(classify(
                PLATFORM,
                "the credential list",
                &reply,
                &self.redactor,
                Asked::Read { object: None },
            ));
        }
        serde_json::from_slice(&reply.body)
            .map_err(|_| TenableError::unreadable(PLATFORM, "listing managed credentials", &reply))
    }

    /// One managed credential by uuid (`GET /credentials/{uuid}`); its secrets come masked.
    /// `name` (from the list) names it in a "not found".
    pub fn credential(&self, uuid: &str, name: &str) -> Result<Credential, TenableError> {
        let id = path_id(PLATFORM, "credential", IdShape::Uuid, uuid)?;
        let reply = self
            .transport
            .send(&Call::get(&format!("/credentials/{id}")))?;
        if !(200..300).contains(&reply.status) {
            return Err(classify(
                PLATFORM,
                "the credential details",
                &reply,
                &self.redactor,
                Asked::Read {
                    object: Some(("credential", name)),
                },
            ));
        }
        let details = serde_json::from_slice(&reply.body)
            .map_err(|_| TenableError::unreadable(PLATFORM, "the credential details", &reply))?;
        Credential::from_vm(uuid.to_owned(), details)
    }

    /// `PUT /credentials/{uuid}` with the credential as read, only its password setting
    /// replaced. Other secrets go back as Tenable's mask `********`, which it keeps as stored
    /// (recorded in test_credentials_edit_with_permissions.yaml).
    pub fn change_credential_password(
        &self,
        credential: &Credential,
        new: &Secret,
    ) -> Result<Option<String>, TenableError> {
        let body = credential::vm_update_body(credential, new);
        let id = path_id(PLATFORM, "credential", IdShape::Uuid, &credential.id)?;
        let path = format!("/credentials/{id}");
        let reply = self.transport.send(&Call::with_body(
            Method::PUT,
            &path,
            &body,
            RequestKind::Change,
        ))?;
        match reply.status {
            200..=299 => Ok(reply.request_id),
            _ => Err(classify(
                PLATFORM,
                "the credential update",
                &reply,
                &self.redactor,
                Asked::Change {
                    kind: "credential",
                    name: &credential.name,
                },
            )),
        }
    }
}

#[derive(Deserialize)]
struct CredentialPage {
    #[serde(default)]
    credentials: Vec<CredentialSummary>,
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
struct Pagination {
    total: usize,
}

#[derive(Deserialize)]
struct CredentialSummary {
    uuid: String,
    name: String,
}

fn not_found_user(username: &str) -> TenableError {
    TenableError::NotFound {
        platform: PLATFORM,
        kind: "user",
        name: untrusted::field(username),
        hint: "; the PAM User's login must equal the Tenable username (usually an email address)",
    }
}

/// How many matching users are kept to name in a message; the rest are only counted, so a
/// list of thousands of matches cannot grow memory (issue 10, row 2).
const KEPT_MATCHES: usize = 5;

/// Users matching `username`: exact matches first in the list, then case-insensitive ones.
#[derive(Default)]
struct Matches {
    exact: Vec<VmUser>,
    exact_count: usize,
    folded: Vec<VmUser>,
    folded_count: usize,
}

fn pick_user(m: Matches, username: &str) -> Result<VmUser, TenableError> {
    let (mut candidates, count) = if m.exact_count == 0 {
        (m.folded, m.folded_count)
    } else {
        (m.exact, m.exact_count)
    };
    match count {
        1 => Ok(candidates.remove(0)),
        0 => Err(not_found_user(username)),
        _ => Err(TenableError::Ambiguous {
            platform: PLATFORM,
            kind: "user",
            name: untrusted::field(username),
            found: untrusted::list(
                candidates.iter().map(|u| {
                    format!(
                        "'{}' (id {})",
                        untrusted::field(&u.username),
                        untrusted::field(&u.id)
                    )
                }),
                KEPT_MATCHES,
            ) + &match count.saturating_sub(candidates.len()) {
                0 => String::new(),
                more => format!(" and {more} more"),
            },
            hint: "set the PAM User's login to the exact Tenable username",
        }),
    }
}

/// Parses a `GET /users` body as a stream and picks the user named `username` (exact, else
/// the only case-insensitive match). Public for the fuzz target over Tenable's answers.
pub fn user_from_list(
    reader: impl Read,
    username: &str,
) -> Result<Result<VmUser, TenableError>, serde_json::Error> {
    Ok(pick_user(find_in_user_list(reader, username)?, username))
}

/// Streams `{"users": [...]}` keeping only users whose username matches.
fn find_in_user_list(reader: impl Read, username: &str) -> Result<Matches, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let matches = (&mut de).deserialize_map(UserListVisitor { username })?;
    de.end()?;
    Ok(matches)
}

struct UserListVisitor<'a> {
    username: &'a str,
}

impl<'de> Visitor<'de> for UserListVisitor<'_> {
    type Value = Matches;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object with a users array")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Matches, A::Error> {
        let mut matches = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "users" {
                matches = Some(map.next_value_seed(UserSeq {
                    username: self.username,
                })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        matches.ok_or_else(|| serde::de::Error::missing_field("users"))
    }
}

struct UserSeq<'a> {
    username: &'a str,
}

impl<'de> DeserializeSeed<'de> for UserSeq<'_> {
    type Value = Matches;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Matches, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for UserSeq<'_> {
    type Value = Matches;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of users")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Matches, A::Error> {
        let mut m = Matches::default();
        while let Some(user) = seq.next_element::<UserSummary>()? {
            let found = || VmUser {
                id: user.id.0.clone(),
                username: user.username.clone(),
            };
            if user.username == self.username {
                m.exact_count += 1;
                if m.exact.len() < KEPT_MATCHES {
                    m.exact.push(found());
                }
            } else if user.username.eq_ignore_ascii_case(self.username) {
                m.folded_count += 1;
                if m.folded.len() < KEPT_MATCHES {
                    m.folded.push(found());
                }
            }
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(json: &str, name: &str) -> Result<VmUser, TenableError> {
        pick_user(find_in_user_list(&mut json.as_bytes(), name).unwrap(), name)
    }

    #[test]
    fn exact_match_beats_case_insensitive() {
        let json = r#"{"users":[{"id":1,"username":"Alice@x.io","email":"e"},{"id":2,"username":"alice@x.io","permissions":32}],"extra":{"a":[1]}}"#;
        assert_eq!(matches(json, "alice@x.io").unwrap().id, "2");
        assert_eq!(matches(json, "Alice@x.io").unwrap().id, "1");
        assert!(matches!(
            matches(json, "ALICE@x.io"),
            Err(TenableError::Ambiguous { .. })
        ));
        assert!(matches!(
            matches(json, "bob@x.io"),
            Err(TenableError::NotFound { .. })
        ));
    }

    #[test]
    fn a_body_without_users_is_an_error() {
        assert!(find_in_user_list(&mut &b"{\"nope\":[]}"[..], "a").is_err());
        assert!(find_in_user_list(&mut &b"[]"[..], "a").is_err());
    }
}
