//! Tenable Security Center: users (`/rest/user`), the API user (`/rest/currentUser`), logins
//! (`/rest/token`) and credentials (`/rest/credential`).
//!
//! Every SC answer is an envelope `{"type","response","error_code","error_msg",…}`; ids are
//! strings. A 2xx with a non-zero `error_code` is an error, as pyTenable treats it.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ureq::http::Method;

use super::credential::{Credential, CredentialMatch};
use super::error::{Asked, IdShape, TenableError, classify, path_id};
use super::wire::{self, Login, WireId};
use super::{ApiKeys, ListedCredential, ListedUser, Platform, lenient};
use crate::secret::{Redactor, Secret};
use crate::transport::{BaseUrl, BodyLimits, Call, Reply, RequestKind, Transport, TransportConfig};
use crate::untrusted;

const PLATFORM: Platform = Platform::Sc;

/// An SC user, as far as a rotation needs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScUser {
    /// Id (SC sends it as a string).
    pub id: String,
    /// Username.
    pub username: String,
}

/// The SC client.
#[derive(Debug)]
pub struct ScClient {
    transport: Transport,
    redactor: Redactor,
}

#[derive(Deserialize)]
struct Envelope<T> {
    response: Option<T>,
    #[serde(default)]
    error_code: Value,
}

#[derive(Deserialize)]
struct WireUser {
    id: WireId,
    #[serde(default)]
    username: String,
}

/// `GET /rest/user` answers with an array (the docs) or `{"users": [...]}` (pyTenable's
/// cassette); both are accepted (tenable-api.md §2.b).
#[derive(Deserialize)]
#[serde(untagged)]
enum UserList<T> {
    Array(Vec<T>),
    Wrapped { users: Vec<T> },
}

impl<T> UserList<T> {
    /// The users, whichever shape.
    fn rows(self) -> Vec<T> {
        match self {
            UserList::Array(u) | UserList::Wrapped { users: u } => u,
        }
    }
}

/// `GET /rest/credential` answers with one array in some SC versions and split into `usable`
/// and `manageable` in others; every reader takes either.
#[derive(Deserialize)]
#[serde(untagged)]
enum CredentialList<T> {
    Array(Vec<T>),
    Split {
        #[serde(default = "Vec::new")]
        usable: Vec<T>,
        #[serde(default = "Vec::new")]
        manageable: Vec<T>,
    },
}

impl<T> CredentialList<T> {
    /// Every row, the usable ones first (a row may be in both lists).
    fn rows(self) -> Vec<T> {
        match self {
            CredentialList::Array(rows) => rows,
            CredentialList::Split {
                mut usable,
                manageable,
            } => {
                usable.extend(manageable);
                usable
            }
        }
    }
}

#[derive(Serialize)]
struct ChangePassword<'a> {
    #[serde(serialize_with = "wire::expose")]
    password: &'a Secret,
    #[serde(
        rename = "currentPassword",
        serialize_with = "wire::expose_opt",
        skip_serializing_if = "Option::is_none"
    )]
    current_password: Option<&'a Secret>,
}

impl ScClient {
    /// A client for `base` with `keys`.
    pub fn new(
        base: BaseUrl,
        keys: &ApiKeys,
        config: &TransportConfig,
        redactor: Redactor,
    ) -> Result<ScClient, TenableError> {
        let transport = Transport::new(base, PLATFORM.key_header(keys), config, false)?;
        Ok(ScClient {
            transport,
            redactor,
        })
    }

    /// The base URL.
    pub fn base(&self) -> &BaseUrl {
        self.transport.base()
    }

    /// Reads an envelope's `response` from a 2xx reply with `error_code` 0.
    fn read<T: DeserializeOwned>(
        &self,
        reply: &Reply,
        operation: &'static str,
        asked: Asked<'_>,
    ) -> Result<T, TenableError> {
        if !(200..300).contains(&reply.status) {
            return Err(classify(PLATFORM, operation, reply, &self.redactor, asked));
        }
        let envelope: Envelope<T> = serde_json::from_slice(&reply.body)
            .map_err(|_| TenableError::unreadable(PLATFORM, operation, reply))?;
        let code = envelope
            .error_code
            .as_i64()
            .or_else(|| envelope.error_code.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(0);
        if code != 0 {
            // pyTenable raises on a 2xx with an error code; so do we, reading the code.
            return Err(classify(PLATFORM, operation, reply, &self.redactor, asked));
        }
        envelope
            .response
            .ok_or_else(|| TenableError::unreadable(PLATFORM, operation, reply))
    }

    /// Reading the keys' own user: SC refuses bad keys with 400, 401 or 403 depending on
    /// version (tenable-api.md §2.a), and all of them mean exit 3.
    fn keys_accepted(&self, reply: &Reply) -> Result<(), TenableError> {
        if matches!(reply.status, 400 | 401 | 403) {
            return Err(TenableError::KeysRefused {
                platform: PLATFORM,
                status: reply.status,
                message: super::error::error_message(PLATFORM, &reply.body, &self.redactor),
                request_id: reply.request_id.clone(),
            });
        }
        Ok(())
    }

    /// The user that owns the API keys (`GET /rest/currentUser`). Every valid key may read
    /// itself, so this is also the check that the keys work: SC refuses bad keys with 400, 401
    /// or 403 depending on version (tenable-api.md §2.a), and all of them mean exit 3 here.
    pub fn api_user(&self) -> Result<ScUser, TenableError> {
        let reply = self
            .transport
            .send(&Call::get("/rest/currentUser?fields=id,username"))?;
        self.keys_accepted(&reply)?;
        let user: WireUser = self.read(
            &reply,
            "the API user's details",
            Asked::Read { object: None },
        )?;
        Ok(ScUser {
            id: user.id.0,
            username: user.username,
        })
    }

    /// Finds the user named `username`: exact, else the only case-insensitive match.
    pub fn find_user(&self, username: &str) -> Result<ScUser, TenableError> {
        let reply = self
            .transport
            .send(&Call::get("/rest/user?fields=id,username").limits(BodyLimits::WHOLE_LIST))?;
        let users = self
            .read::<UserList<WireUser>>(&reply, "the user list", Asked::Read { object: None })?
            .rows();
        let exact: Vec<&WireUser> = users.iter().filter(|u| u.username == username).collect();
        let candidates = if exact.is_empty() {
            users
                .iter()
                .filter(|u| u.username.eq_ignore_ascii_case(username))
                .collect()
        } else {
            exact
        };
        match candidates.as_slice() {
            [one] => Ok(ScUser {
                id: one.id.0.clone(),
                username: one.username.clone(),
            }),
            [] => Err(TenableError::NotFound {
                platform: PLATFORM,
                kind: "user",
                name: untrusted::field(username),
                hint: "; the PAM User's login must equal the Security Center username, and the API user must be able to manage that user",
            }),
            many => Err(TenableError::Ambiguous {
                platform: PLATFORM,
                kind: "user",
                name: untrusted::field(username),
                found: untrusted::list(
                    many.iter().map(|u| {
                        format!(
                            "'{}' (id {})",
                            untrusted::field(&u.username),
                            untrusted::field(&u.id.0)
                        )
                    }),
                    5,
                ),
                hint: "set the PAM User's login to the exact Security Center username",
            }),
        }
    }

    /// `PATCH /rest/user/{id}` with `password`, and `currentPassword` when `current` is given
    /// (SC asks for it when a user changes its own password: pyTenable PR #670).
    pub fn change_password(
        &self,
        user: &ScUser,
        new: &Secret,
        current: Option<&Secret>,
    ) -> Result<Option<String>, TenableError> {
        let body = wire::to_wiped_json(&ChangePassword {
            password: new,
            current_password: current,
        });
        let id = path_id(PLATFORM, "user", IdShape::Number, &user.id)?;
        let path = format!("/rest/user/{id}");
        let reply = self.transport.send(&Call::with_body(
            Method::PATCH,
            &path,
            &body,
            RequestKind::Change,
        ))?;
        let _: Value = self.read(
            &reply,
            "the password change",
            Asked::Change {
                kind: "user",
                name: &user.username,
            },
        )?;
        Ok(reply.request_id)
    }

    /// Whether `password` logs in as `username` (`POST /rest/token`); a session that opens is
    /// closed at once with `DELETE /rest/token`.
    pub fn password_logs_in(
        &self,
        username: &str,
        password: &Secret,
    ) -> Result<bool, TenableError> {
        #[derive(Deserialize)]
        struct Token {
            token: WireId,
        }
        let body = wire::to_wiped_json(&Login {
            username,
            password,
            release_session: Some(false),
        });
        let mut call = Call::with_body(Method::POST, "/rest/token", &body, RequestKind::Login);
        call.authenticated = false;
        let reply = self.transport.send(&call)?;
        if matches!(reply.status, 400 | 401 | 403) {
            return Ok(false);
        }
        let token: Token = match self.read(&reply, "a login", Asked::Read { object: None }) {
            Ok(t) => t,
            Err(TenableError::Rejected { .. } | TenableError::Forbidden { .. }) => {
                return Ok(false);
            }
            Err(e) => return Err(e),
        };
        let mut logout = Call::get("/rest/token");
        logout.method = Method::DELETE;
        logout.authenticated = false;
        logout
            .headers
            .push(("x-securitycenter", Secret::new(token.token.0)));
        if let Some(cookie) = reply
            .set_cookie
            .as_deref()
            .and_then(|c| c.split(';').next())
        {
            logout
                .headers
                .push(("cookie", Secret::new(cookie.to_owned())));
        }
        let _ = self.transport.send(&logout);
        Ok(true)
    }

    /// Credentials selected by name or by account. SC lists `usable` and `manageable`
    /// credentials separately in some versions and as one array in others; both are read.
    pub fn find_credentials(
        &self,
        selection: &CredentialMatch,
    ) -> Result<Vec<Credential>, TenableError> {
        let reply = self.transport.send(
            &Call::get("/rest/credential?fields=id,name,type").limits(BodyLimits::WHOLE_LIST),
        )?;
        let mut items = self
            .read::<CredentialList<Map<String, Value>>>(
                &reply,
                "the credential list",
                Asked::Read { object: None },
            )?
            .rows();
        let id_of = |m: &Map<String, Value>| {
            m.get("id")
                .map(|v| v.to_string().trim_matches('"').to_owned())
                .unwrap_or_default()
        };
        items.sort_by_key(id_of);
        items.dedup_by_key(|m| id_of(m));
        let mut found = Vec::new();
        for item in items {
            if let CredentialMatch::Name(name) = selection {
                if item.get("name").and_then(Value::as_str) != Some(name.as_str()) {
                    continue;
                }
            }
            let name = item
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let id = path_id(PLATFORM, "credential", IdShape::Number, &id_of(&item))?;
            // SC returns only the fields asked for (recorded:
            // test_credentials_details_success_for_fields), so ask for what is judged.
            let reply = self.transport.send(&Call::get(&format!(
                "/rest/credential/{id}?fields=id,name,type,typeFields"
            )))?;
            let details: Map<String, Value> = self.read(
                &reply,
                "the credential details",
                Asked::Read {
                    object: Some(("credential", &name)),
                },
            )?;
            if !details.get("typeFields").is_some_and(Value::is_object) {
                // Never judge "no password setting" from an absent key (issue 11, item 3).
                return Err(TenableError::Unreadable {
                    platform: PLATFORM,
                    operation: "the credential details",
                    status: reply.status,
                    detail: Some("it has no typeFields"),
                    request_id: reply.request_id,
                });
            }
            let credential = Credential::from_sc(&details);
            if selection.accepts(&credential) {
                found.push(credential);
            }
        }
        Ok(found)
    }

    /// `PATCH /rest/credential/{id}` with the flat body `{"password": …}` (pyTenable's
    /// `credentials.edit`, recorded in test_credentials_edit_success.yaml).
    pub fn change_credential_password(
        &self,
        credential: &Credential,
        new: &Secret,
    ) -> Result<Option<String>, TenableError> {
        #[derive(Serialize)]
        struct Patch<'a> {
            #[serde(serialize_with = "wire::expose")]
            password: &'a Secret,
        }
        let body = wire::to_wiped_json(&Patch { password: new });
        let id = path_id(PLATFORM, "credential", IdShape::Number, &credential.id)?;
        let path = format!("/rest/credential/{id}");
        let reply = self.transport.send(&Call::with_body(
            Method::PATCH,
            &path,
            &body,
            RequestKind::Change,
        ))?;
        let _: Value = self.read(
            &reply,
            "the credential update",
            Asked::Change {
                kind: "credential",
                name: &credential.name,
            },
        )?;
        Ok(reply.request_id)
    }

    /// Whether a credential is named exactly `name`. A refusal is "no": the caller only uses
    /// this to refuse a guess, never to decide a change.
    pub fn has_credential_named(&self, name: &str) -> bool {
        #[derive(Deserialize)]
        struct Row {
            #[serde(default)]
            name: String,
        }
        let Ok(reply) = self
            .transport
            .send(&Call::get("/rest/credential?fields=id,name").limits(BodyLimits::WHOLE_LIST))
        else {
            return false;
        };
        self.read::<CredentialList<Row>>(
            &reply,
            "the credential list",
            Asked::Read { object: None },
        )
        .is_ok_and(|list| list.rows().iter().any(|r| r.name == name))
    }
}

/// The user fields `discover` asks Security Center for (tenable-api.md §2.b).
const LISTED_USER_FIELDS: &str =
    "id,username,firstname,lastname,email,role,status,locked,authType,lastLogin";

/// An SC user object as `discover` shows it. `status` "0" is enabled (SC's value for an
/// active account); `lastLogin` is seconds, "0" for never.
fn listed_user(m: &Map<String, Value>) -> ListedUser<'static> {
    let name = [m.get("firstname"), m.get("lastname")]
        .into_iter()
        .filter_map(lenient::text)
        .collect::<Vec<_>>()
        .join(" ");
    ListedUser {
        id: lenient::text(m.get("id")).unwrap_or_default().into(),
        username: lenient::text(m.get("username")).unwrap_or_default().into(),
        name: (!name.is_empty()).then_some(name.into()),
        email: lenient::text(m.get("email")).map(Cow::Owned),
        role: m
            .get("role")
            .and_then(|r| lenient::text(r.get("name")).or_else(|| lenient::text(Some(r))))
            .map(Cow::Owned),
        permissions: None,
        enabled: lenient::number(m.get("status")).map(|s| s == 0),
        locked: lenient::flag(m.get("locked")),
        auth_type: lenient::text(m.get("authType")).map(Cow::Owned),
        authorizations: None,
        last_login: lenient::number(m.get("lastLogin")),
    }
}

/// Listing for `discover`: read-only requests only (GET).
impl ScClient {
    /// The user that owns the API keys, with its role (`GET /rest/currentUser`). Bad keys are
    /// exit 3, as in [`ScClient::api_user`].
    pub fn api_user_listed(&self) -> Result<ListedUser<'static>, TenableError> {
        let reply = self.transport.send(&Call::get(&format!(
            "/rest/currentUser?fields={LISTED_USER_FIELDS}"
        )))?;
        self.keys_accepted(&reply)?;
        let map: Map<String, Value> =
            self.read(&reply, "reading the API user", Asked::Read { object: None })?;
        Ok(listed_user(&map))
    }

    /// Every user these keys may see (`GET /rest/user`), one at a time. SC answers with one
    /// envelope, read whole within [`BodyLimits::WHOLE_LIST`].
    pub fn each_user(&self, each: &mut dyn FnMut(ListedUser<'_>)) -> Result<u64, TenableError> {
        let reply = self.transport.send(
            &Call::get(&format!("/rest/user?fields={LISTED_USER_FIELDS}"))
                .limits(BodyLimits::WHOLE_LIST),
        )?;
        let users = self
            .read::<UserList<Map<String, Value>>>(
                &reply,
                "the user list",
                Asked::Read { object: None },
            )?
            .rows();
        let count = users.len() as u64;
        for user in users {
            each(listed_user(&user));
        }
        Ok(count)
    }

    /// Every credential listed (`GET /rest/credential`), as stubs to complete one by one,
    /// sorted by id, each once. `can_edit` says whether it is in the `manageable` list, when
    /// SC splits the list into `usable` and `manageable`.
    pub fn credential_stubs(&self) -> Result<Vec<ListedCredential>, TenableError> {
        #[derive(Deserialize)]
        struct Row {
            id: WireId,
            #[serde(default)]
            name: String,
            #[serde(default, rename = "type")]
            kind: String,
        }
        let reply = self.transport.send(
            &Call::get("/rest/credential?fields=id,name,type").limits(BodyLimits::WHOLE_LIST),
        )?;
        let list: CredentialList<Row> =
            self.read(&reply, "the credential list", Asked::Read { object: None })?;
        let stub = |r: Row, can_edit: Option<bool>| ListedCredential {
            id: r.id.0,
            name: r.name,
            kind: r.kind,
            can_edit,
            ..ListedCredential::default()
        };
        let mut stubs: Vec<ListedCredential> = match list {
            CredentialList::Array(rows) => rows.into_iter().map(|r| stub(r, None)).collect(),
            CredentialList::Split { usable, manageable } => {
                let editable: std::collections::HashSet<String> =
                    manageable.iter().map(|r| r.id.0.clone()).collect();
                manageable
                    .into_iter()
                    .map(|r| stub(r, Some(true)))
                    .chain(usable.into_iter().filter_map(|r| {
                        (!editable.contains(&r.id.0)).then(|| stub(r, Some(false)))
                    }))
                    .collect()
            }
        };
        stubs.sort_by(|a, b| (a.id.len(), a.id.as_str()).cmp(&(b.id.len(), b.id.as_str())));
        stubs.dedup_by(|a, b| a.id == b.id);
        Ok(stubs)
    }

    /// A listed credential completed from its details (`GET /rest/credential/{id}`). A "does
    /// not exist" (147) or a refusal on this one credential is kept in `unreadable`.
    pub fn complete_credential(
        &self,
        mut stub: ListedCredential,
    ) -> Result<ListedCredential, TenableError> {
        let id = path_id(PLATFORM, "credential", IdShape::Number, &stub.id)?;
        let reply = self.transport.send(&Call::get(&format!(
            "/rest/credential/{id}?fields=id,name,type,typeFields"
        )))?;
        let details: Map<String, Value> = match self.read(
            &reply,
            "read a credential",
            Asked::Read {
                object: Some(("credential", &stub.name)),
            },
        ) {
            Ok(d) => d,
            Err(TenableError::NotFound { .. } | TenableError::Forbidden { .. }) => {
                stub.unreadable = Some(format!(
                    "Security Center refused to show it (HTTP {})",
                    reply.status
                ));
                return Ok(stub);
            }
            Err(e) => return Err(e),
        };
        let Some(fields) = details.get("typeFields").and_then(Value::as_object) else {
            // Never judge "no password setting" from an absent key (issue 11, item 3).
            stub.unreadable = Some("its details have no typeFields".to_owned());
            return Ok(stub);
        };
        stub.auth_method = ["authType", "authtype", "auth_method"]
            .iter()
            .find_map(|k| lenient::text(fields.get(*k)));
        let credential = Credential::from_sc(&details);
        stub.account = credential.account();
        stub.password_key = credential.password_key;
        if stub.kind.is_empty() {
            stub.kind = credential.kind;
        }
        Ok(stub)
    }
}
