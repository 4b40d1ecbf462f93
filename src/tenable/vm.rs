//! Tenable Vulnerability Management: users (`/users`, `/users/{id}/chpasswd`), logins
//! (`/session`) and managed scan credentials (`/credentials`).

use std::borrow::Cow;
use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use ureq::http::Method;

use super::credential::{self, Credential, CredentialMatch};
use super::error::{Asked, IdShape, TenableError, classify, path_id};
use super::lenient::Scalar;
use super::plain;
use super::wire::{self, Login, WireId};
use super::{
    ApiKeys, Authorizations, ListedCredential, ListedUser, ListedUsers, PackedUser, Platform,
    UserSink, lenient,
};
use crate::secret::{Redactor, Secret};
use crate::transport::{BaseUrl, BodyLimits, Call, RequestKind, Transport, TransportConfig, items};
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
        let mut matches = Matches::default();
        let screen = UsernameScreen::new(username);
        let (reply, parsed) = self.transport.send_list(
            &Call::get("/users").limits(BodyLimits::LIST),
            "users",
            Some(&|text| screen.first_mention(text)),
            None,
            &mut |text| {
                matches.consider(serde_json::from_slice(text)?, username);
                Ok(())
            },
        )?;
        match parsed {
            Some(Ok(_)) => {}
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
        }
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
                let list = self.credentials_named(name)?;
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
        self.credentials_named(name)
            .is_ok_and(|list| list.iter().any(|c| c.name == name))
    }

    /// The credentials Tenable's own filter finds for `name` (`f=name:eq:NAME`); its case
    /// rules are not documented, so callers still compare the names exactly.
    fn credentials_named(&self, name: &str) -> Result<Vec<CredentialSummary>, TenableError> {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("f", &format!("name:eq:{name}"))
            .append_pair("limit", "200")
            .append_pair("offset", "0")
            .finish();
        self.list_credentials(&format!("/credentials?{query}"))
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

/// A credential list page's item, as `discover` reads it.
#[derive(Deserialize)]
struct ListedSummary {
    uuid: String,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: Option<Value>,
    #[serde(default)]
    category: Option<Value>,
}

/// `{"id": …, "name": …}` or a bare string: TVM's `type` and `category`.
fn id_or_text(v: Option<&Value>) -> Option<String> {
    let v = v?;
    lenient::text(v.get("id").or(v.get("name")).or(Some(v)))
}

/// One page of managed credentials for `discover`: stubs to read one by one, and the total.
#[derive(Debug, Clone)]
pub struct CredentialStubs {
    /// (uuid, name, type, category) of each credential on the page.
    pub items: Vec<ListedCredential>,
    /// `pagination.total`.
    pub total: usize,
}

/// Listing for `discover`: read-only requests only (GET).
impl VmClient {
    /// The user that owns the API keys (`GET /session`), with its role.
    pub fn session_user(&self) -> Result<ListedUser<'static>, TenableError> {
        let reply = self
            .transport
            .send(&Call::get("/session").limits(BodyLimits::DOCUMENT))?;
        if !(200..300).contains(&reply.status) {
            return Err(classify(
                PLATFORM,
                "read the API keys' user",
                &reply,
                &self.redactor,
                Asked::Read { object: None },
            ));
        }
        let user: WireListedUser = serde_json::from_slice(&reply.body).map_err(|_| {
            TenableError::unreadable(PLATFORM, "reading the API keys' user", &reply)
        })?;
        Ok(listed_user(user).into_owned())
    }

    /// Every user (`GET /users`), parsed as a stream: `each` gets one user at a time and the
    /// list is never held whole. Returns how many there were.
    pub fn each_user(&self, each: &mut dyn FnMut(ListedUser<'_>)) -> Result<u64, TenableError> {
        self.each_user_into(&mut { each })
    }

    /// [`VmClient::each_user`], each user given to `sink`: a plain one read straight into its
    /// batch when it has one ([`UserSink`]).
    pub fn each_user_into(&self, sink: &mut dyn UserSink) -> Result<u64, TenableError> {
        let operation = "listing users (GET /users)";
        let sink = std::cell::RefCell::new(sink);
        let (reply, parsed) = self.transport.send_list(
            &Call::get("/users").limits(BodyLimits::LIST),
            "users",
            None,
            // A plain user is read straight from the list, before it is cut (issue 13).
            Some(&mut |held| {
                let text = utf8_prefix(held);
                let mut sink = sink.borrow_mut();
                if let Some(batch) = sink.batch() {
                    let len = pack_prefix(batch, text)?;
                    sink.packed();
                    return Some(len);
                }
                let (user, len) = WireListedUser::read_prefix(text)?;
                sink.user(listed_user(user));
                Some(len)
            }),
            &mut |text| {
                // UTF-8 checked once for the whole item, not again for each string in it.
                let text = simdutf8::basic::from_utf8(text)
                    .map_err(|_| <serde_json::Error as serde::de::Error>::custom("not UTF-8"))?;
                let user = match WireListedUser::read_plainly(text) {
                    Some(user) => user,
                    None => serde_json::from_str(text)?,
                };
                sink.borrow_mut().user(listed_user(user));
                Ok(())
            },
        )?;
        match parsed {
            Some(Ok(count)) => Ok(count),
            Some(Err(_)) => Err(TenableError::unreadable(PLATFORM, operation, &reply)),
            None => Err(classify(
                PLATFORM,
                "list users",
                &reply,
                &self.redactor,
                Asked::Read { object: None },
            )),
        }
    }

    /// Which sign-ins a user may use (`GET /users/{id}/authorizations`).
    pub fn user_authorizations(
        &self,
        user: &ListedUser<'_>,
    ) -> Result<Authorizations, TenableError> {
        let id = path_id(PLATFORM, "user", IdShape::Number, &user.id)?;
        let reply = self.transport.send(
            &Call::get(&format!("/users/{id}/authorizations")).limits(BodyLimits::DOCUMENT),
        )?;
        if !(200..300).contains(&reply.status) {
            return Err(classify(
                PLATFORM,
                "read a user's sign-in methods",
                &reply,
                &self.redactor,
                Asked::Read {
                    object: Some(("user", &user.username)),
                },
            ));
        }
        let map: Map<String, Value> = serde_json::from_slice(&reply.body).map_err(|_| {
            TenableError::unreadable(PLATFORM, "reading a user's sign-in methods", &reply)
        })?;
        let get = |k: &str| lenient::flag(map.get(k)).unwrap_or(false);
        Ok(Authorizations {
            password: get("password_permitted"),
            saml: get("saml_permitted"),
            api: get("api_permitted"),
        })
    }

    /// One page of managed credentials (`GET /credentials?limit=200&offset=N`).
    pub fn credential_stubs(&self, offset: usize) -> Result<CredentialStubs, TenableError> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            credentials: Vec<ListedSummary>,
            pagination: Option<Pagination>,
        }
        let path = format!("/credentials?limit=200&offset={offset}");
        let reply = self
            .transport
            .send(&Call::get(&path).limits(BodyLimits::WHOLE_LIST))?;
        if !(200..300).contains(&reply.status) {
            return Err(classify(
                PLATFORM,
                "list managed credentials",
                &reply,
                &self.redactor,
                Asked::Read { object: None },
            ));
        }
        let page: Page = serde_json::from_slice(&reply.body).map_err(|_| {
            TenableError::unreadable(PLATFORM, "listing managed credentials", &reply)
        })?;
        Ok(CredentialStubs {
            total: page.pagination.map_or(0, |p| p.total),
            items: page
                .credentials
                .into_iter()
                .map(|s| ListedCredential {
                    id: s.uuid,
                    name: s.name,
                    kind: id_or_text(s.kind.as_ref()).unwrap_or_default(),
                    category: id_or_text(s.category.as_ref()),
                    ..ListedCredential::default()
                })
                .collect(),
        })
    }

    /// A listed credential completed from its details (`GET /credentials/{uuid}`): account,
    /// password setting, authentication method, and whether these keys may edit it. A 403 or
    /// 404 on this one credential is kept in `unreadable`, not raised: the others still count.
    pub fn complete_credential(
        &self,
        mut stub: ListedCredential,
    ) -> Result<ListedCredential, TenableError> {
        let id = path_id(PLATFORM, "credential", IdShape::Uuid, &stub.id)?;
        let reply = self
            .transport
            .send(&Call::get(&format!("/credentials/{id}")))?;
        if matches!(reply.status, 403 | 404) {
            stub.unreadable = Some(format!("Tenable answered {} to reading it", reply.status));
            return Ok(stub);
        }
        if !(200..300).contains(&reply.status) {
            return Err(classify(
                PLATFORM,
                "read a managed credential",
                &reply,
                &self.redactor,
                Asked::Read {
                    object: Some(("credential", &stub.name)),
                },
            ));
        }
        let details: Map<String, Value> = serde_json::from_slice(&reply.body).map_err(|_| {
            TenableError::unreadable(PLATFORM, "reading a managed credential", &reply)
        })?;
        let can_edit = lenient::number(details.get("user_permissions")).map(|p| p >= 64);
        let settings = details.get("settings").and_then(Value::as_object).cloned();
        let credential = Credential::from_vm(stub.id.clone(), details)?;
        stub.auth_method = settings.as_ref().and_then(|s| {
            ["auth_method", "authtype"]
                .iter()
                .find_map(|k| lenient::text(s.get(*k)))
        });
        stub.account = credential.account();
        stub.password_key = credential.password_key;
        if stub.kind.is_empty() {
            stub.kind = credential.kind;
        }
        stub.can_edit = can_edit;
        Ok(stub)
    }
}

/// The fields of a TVM user object that `discover` shows, strings borrowed from the answer;
/// the rest are skipped unparsed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct WireListedUser<'a> {
    #[serde(borrow)]
    id: Option<Scalar<'a>>,
    #[serde(borrow)]
    username: Option<Scalar<'a>>,
    #[serde(borrow)]
    name: Option<Scalar<'a>>,
    #[serde(borrow)]
    email: Option<Scalar<'a>>,
    #[serde(borrow)]
    permissions: Option<Scalar<'a>>,
    #[serde(borrow)]
    enabled: Option<Scalar<'a>>,
    #[serde(borrow)]
    lockout: Option<Scalar<'a>>,
    #[serde(borrow)]
    login_fail_count: Option<Scalar<'a>>,
    #[serde(borrow, rename = "type")]
    kind: Option<Scalar<'a>>,
    #[serde(borrow)]
    lastlogin: Option<Scalar<'a>>,
}

impl<'a> WireListedUser<'a> {
    /// Reads a plain user object (every TVM user is one) without serde, as serde_json would
    /// read it; `None` leaves `text` to serde_json. See [`plain`].
    fn read_plainly(text: &'a str) -> Option<WireListedUser<'a>> {
        let mut user = WireListedUser::default();
        let read = plain::for_each_member(text, &mut user.member_reader(text));
        read.then_some(user)
    }

    /// A plain user object at the start of `text`, which runs on past it (a list answer), and
    /// its length: [`plain::read_object_prefix`].
    fn read_prefix(text: &'a str) -> Option<(WireListedUser<'a>, usize)> {
        let mut user = WireListedUser::default();
        let len = plain::read_object_prefix(text, &mut user.member_reader(text))?;
        Some((user, len))
    }

    /// What reads each member of a plain user object in `text` into `self`.
    fn member_reader<'u>(
        &'u mut self,
        text: &'a str,
    ) -> impl FnMut(&'a [u8], plain::Value<'a>) -> bool + 'u {
        let user = self;
        let mut seen = 0u16;
        move |key, value| {
            let (bit, field) = match key {
                b"id" => (0, &mut user.id),
                b"username" => (1, &mut user.username),
                b"name" => (2, &mut user.name),
                b"email" => (3, &mut user.email),
                b"permissions" => (4, &mut user.permissions),
                b"enabled" => (5, &mut user.enabled),
                b"lockout" => (6, &mut user.lockout),
                b"login_fail_count" => (7, &mut user.login_fail_count),
                b"type" => (8, &mut user.kind),
                b"lastlogin" => (9, &mut user.lastlogin),
                _ => return true,
            };
            // serde_json refuses a field named twice (even when the first was null).
            if seen & (1 << bit) != 0 {
                return false;
            }
            seen |= 1 << bit;
            *field = match value.scalar() {
                Some(Scalar::Num(n)) if bit == 0 => Some(id_digits(text, key, n)),
                value => value,
            };
            true
        }
    }
}

/// The longest start of `bytes` that is whole UTF-8 (a window on a list answer may end
/// inside a character).
fn utf8_prefix(bytes: &[u8]) -> &str {
    // The faster check first: a window is most often whole UTF-8 (ASCII, as TVM sends).
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return text;
    }
    match simdutf8::compat::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => simdutf8::basic::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
    }
}

/// A numeric id read plainly, as the text of its digits borrowed from `text` when they follow
/// `key` at once (`"id":1234`, compact JSON, as TVM sends), not formatted again into a new
/// string for each of 200 000 users (issue 13). A plain number is written as it prints (no
/// sign, fraction, exponent or leading zero), so the digits are its text; anything else is
/// formatted.
fn id_digits<'a>(text: &'a str, key: &'a [u8], n: serde_json::Number) -> Scalar<'a> {
    // `key` is a slice of `text`: its closing quote and the colon follow it.
    let start = (key.as_ptr() as usize).checked_sub(text.as_ptr() as usize);
    let digits = start.and_then(|start| {
        let value = start + key.len() + 2;
        let rest = text.get(value..)?;
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let digits = &rest[..len];
        // The digits are the number read (at most 18, as the plain reader reads).
        let read = digits.bytes().fold(0u64, |v, d| {
            v.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        });
        // No digits there (`"id": 0`, a space first) reads as 0 too, but is not its text.
        (text.as_bytes().get(value - 2..value) == Some(b"\":")
            && (1..=18).contains(&len)
            && n.as_u64() == Some(read))
        .then_some(digits)
    });
    Scalar::Str(match digits {
        Some(digits) => Cow::Borrowed(digits),
        None => Cow::Owned(n.to_string()),
    })
}

/// A listed TVM user read from one item of `GET /users` the fast way, when the item is a
/// plain object; for the tests and the fuzz target that hold it equal to
/// [`listed_user_read_by_serde`].
pub fn listed_user_read_plainly(text: &str) -> Option<ListedUser<'_>> {
    WireListedUser::read_plainly(text).map(listed_user)
}

/// A plain user object at the start of `text` (the rest of a list answer) read straight into
/// `users`: the user [`listed_user`] makes of [`WireListedUser::read_prefix`], packed as
/// [`ListedUsers::push`] packs it, with neither made in between (issue 13: making, moving and
/// copying them was a twelfth of reading 200 000 users). Its length; `None` leaves `users`
/// as it was.
fn pack_prefix(users: &mut ListedUsers, text: &str) -> Option<usize> {
    let mark = users.text.len();
    let mut user = PackedUser::default();
    let (mut permissions, mut lockout, mut fails) = (None, None, None);
    let mut seen = 0u16;
    // Whether a member is the first of its name: serde_json refuses a field named twice
    // (even when the first was null).
    let mut first = |bit: u16| {
        let first = seen & bit == 0;
        seen |= bit;
        first
    };
    let len = plain::read_object_prefix(text, &mut |key, value| {
        // As `WireListedUser::member_reader` reads them, and `listed_user` then makes them:
        // one dispatch on the name. A second, on a field number, followed it: in cachegrind's
        // branch simulation the two made 19 mispredicted indirect jumps a user, the one 11.
        match key {
            b"id" if first(1) => user.id = pack_text(users, value.scalar()).unwrap_or_default(),
            b"username" if first(1 << 1) => {
                user.username = pack_text(users, value.scalar()).unwrap_or_default();
            }
            b"name" if first(1 << 2) => user.name = pack_text(users, value.scalar()),
            b"email" if first(1 << 3) => user.email = pack_text(users, value.scalar()),
            b"permissions" if first(1 << 4) => {
                permissions = lenient::number_of(value.scalar().as_ref());
            }
            b"enabled" if first(1 << 5) => user.enabled = lenient::flag_of(value.scalar().as_ref()),
            b"lockout" if first(1 << 6) => lockout = lenient::flag_of(value.scalar().as_ref()),
            b"login_fail_count" if first(1 << 7) => {
                fails = lenient::number_of(value.scalar().as_ref());
            }
            b"type" if first(1 << 8) => user.auth_type = pack_text(users, value.scalar()),
            b"lastlogin" if first(1 << 9) => {
                user.last_login = lenient::number_of(value.scalar().as_ref()).map(|ms| ms / 1000);
            }
            b"id" | b"username" | b"name" | b"email" | b"permissions" | b"enabled" | b"lockout"
            | b"login_fail_count" | b"type" | b"lastlogin" => return false,
            _ => {}
        }
        true
    });
    let Some(len) = len else {
        users.text.truncate(mark);
        return None;
    };
    user.permissions = permissions.and_then(|p| u64::try_from(p).ok());
    user.role = user.permissions.map(|p| users.word_or_copy(role_text(p)));
    user.locked = locked(lockout, fails);
    users.users.push(user);
    Some(len)
}

/// [`lenient::text_cow`] of `v`, copied into `users`. A string that starts with printable
/// ASCII other than a space is copied as it is, and a whole number written as its digits,
/// with no text made in between.
fn pack_text(users: &mut ListedUsers, v: Option<Scalar<'_>>) -> Option<std::ops::Range<usize>> {
    match v.as_ref()? {
        Scalar::Str(s) if matches!(s.as_bytes().first(), Some(b'!'..=b'~')) => {
            return Some(users.copy(s));
        }
        Scalar::Num(n) => {
            if let Some(n) = n.as_u64() {
                return Some(users.copy_digits(n));
            }
        }
        _ => {}
    }
    lenient::text_cow(v).map(|t| users.copy(&t))
}

/// Whether a TVM user is locked out: its `lockout`, or else more than 5 failed logins.
fn locked(lockout: Option<bool>, fails: Option<i64>) -> Option<bool> {
    match (lockout, fails) {
        (Some(l), _) => Some(l),
        (None, Some(n)) => Some(n > 5),
        (None, None) => None,
    }
}

/// A listed TVM user read from the start of the text of a list straight into a batch of its
/// own, as `discover` reads one into the batch it hands over ([`UserSink::batch`]): the user,
/// its text its own, and its length; for the tests and the fuzz target that hold it equal to
/// [`listed_user_read_from_list`].
pub fn listed_user_packed_from_list(text: &str) -> Option<(ListedUser<'static>, usize)> {
    let mut users = ListedUsers::default();
    let len = pack_prefix(&mut users, text)?;
    let user = users.iter().next()?.into_owned();
    Some((user, len))
}

/// A listed TVM user read the fast way from the start of the text of a list, which runs on
/// past it, and its length (as `discover` reads one before it is cut); for the tests and the
/// fuzz target that hold it equal to [`listed_user_read_plainly`] of the user's own text.
pub fn listed_user_read_from_list(text: &str) -> Option<(ListedUser<'_>, usize)> {
    WireListedUser::read_prefix(text).map(|(user, len)| (listed_user(user), len))
}

/// A listed TVM user read from one item of `GET /users` by serde_json.
pub fn listed_user_read_by_serde(text: &str) -> Result<ListedUser<'_>, serde_json::Error> {
    serde_json::from_str(text).map(listed_user)
}

/// TVM's named roles, by `permissions` (developer.tenable.com/docs/roles), as `discover`
/// shows them: this program's own words, so a batch does not copy them and the printer knows
/// them (issue 13).
pub(crate) const ROLE_WORDS: [(u64, &str); 6] = [
    (0, "No Access or custom [0]"),
    (16, "Basic [16]"),
    (24, "Scan Operator [24]"),
    (32, "Standard [32]"),
    (40, "Scan Manager [40]"),
    (64, "Administrator [64]"),
];

/// Where the word for `permissions` is in [`ROLE_WORDS`], when Tenable names that role.
pub(crate) fn role_word(permissions: u64) -> Option<usize> {
    ROLE_WORDS.iter().position(|&(p, _)| p == permissions)
}

/// A TVM role as `discover` shows it, by `permissions`: `Standard [32]`, or `custom [N]` for
/// a number Tenable does not name. Built only for a number without a name: `format!` was 8%
/// of reading 200 000 users (issue 13).
fn role_text(permissions: u64) -> Cow<'static, str> {
    match role_word(permissions) {
        Some(i) => Cow::Borrowed(ROLE_WORDS[i].1),
        None => Cow::Owned(format!("custom [{permissions}]")),
    }
}

/// A TVM user object (from `GET /users` or `GET /session`) as `discover` shows it.
fn listed_user(m: WireListedUser<'_>) -> ListedUser<'_> {
    let permissions =
        lenient::number_of(m.permissions.as_ref()).and_then(|p| u64::try_from(p).ok());
    let locked = locked(
        lenient::flag_of(m.lockout.as_ref()),
        lenient::number_of(m.login_fail_count.as_ref()),
    );
    ListedUser {
        id: lenient::text_cow(m.id).unwrap_or_default(),
        username: lenient::text_cow(m.username).unwrap_or_default(),
        name: lenient::text_cow(m.name),
        email: lenient::text_cow(m.email),
        role: permissions.map(role_text),
        permissions,
        enabled: lenient::flag_of(m.enabled.as_ref()),
        locked,
        auth_type: lenient::text_cow(m.kind),
        authorizations: None,
        // TVM sends milliseconds.
        last_login: lenient::number_of(m.lastlogin.as_ref()).map(|ms| ms / 1000),
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

impl Matches {
    /// Keeps `user` if its username matches `username`.
    fn consider(&mut self, user: UserSummary, username: &str) {
        let (kept, count) = if user.username == username {
            (&mut self.exact, &mut self.exact_count)
        } else if user.username.eq_ignore_ascii_case(username) {
            (&mut self.folded, &mut self.folded_count)
        } else {
            return;
        };
        *count += 1;
        if kept.len() < KEPT_MATCHES {
            kept.push(VmUser {
                id: user.id.0,
                username: user.username,
            });
        }
    }
}

/// Parses a `GET /users` body as a stream (within [`BodyLimits::LIST`]) and picks the user
/// named `username` (exact, else the only case-insensitive match). Public for the fuzz
/// target over Tenable's answers.
pub fn user_from_list(
    reader: impl Read,
    username: &str,
) -> Result<Result<VmUser, TenableError>, serde_json::Error> {
    Ok(pick_user(find_in_user_list(reader, username)?, username))
}

/// Streams `{"users": [...]}` keeping only users whose username matches.
fn find_in_user_list(reader: impl Read, username: &str) -> Result<Matches, serde_json::Error> {
    let mut matches = Matches::default();
    let screen = UsernameScreen::new(username);
    items::for_each_wanted_item(
        reader,
        "users",
        BodyLimits::LIST,
        Some(&|text| screen.first_mention(text)),
        &mut |user| matches.consider(user, username),
    )?;
    Ok(matches)
}

/// Whether a listed user's text could be the user named `username`, for the lookup to parse
/// only those (issue 13). Sound: a user whose username equals `username`, ASCII case ignored
/// as the match ignores it, has those bytes in its text unless an escape spells some of them,
/// and a text with an escape is parsed without asking ([`items::for_each_wanted_item`]).
///
/// The search lowers the text's ASCII letters into a scratch buffer and looks for the lowered
/// username with `memchr::memmem` (SIMD). A case-ignoring automaton was half of `check`'s time
/// at 200 000 users: every user holds the tenant's mail domain three times, so the bytes it
/// picked as rare were not.
struct UsernameScreen {
    lowered: memchr::memmem::Finder<'static>,
    scratch: std::cell::RefCell<Vec<u8>>,
}

impl UsernameScreen {
    fn new(username: &str) -> UsernameScreen {
        UsernameScreen {
            lowered: memchr::memmem::Finder::new(&username.to_ascii_lowercase()).into_owned(),
            scratch: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The first place in `text` that may name the user: the username, ASCII case ignored.
    fn first_mention(&self, text: &[u8]) -> Option<std::ops::Range<usize>> {
        let mut lowered = self.scratch.borrow_mut();
        lowered.clear();
        lowered.extend(text.iter().map(u8::to_ascii_lowercase));
        let at = self.lowered.find(&lowered)?;
        Some(at..at + self.lowered.needle().len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(json: &str, name: &str) -> Result<VmUser, TenableError> {
        pick_user(find_in_user_list(&mut json.as_bytes(), name).unwrap(), name)
    }

    #[test]
    fn a_window_is_its_longest_start_that_is_whole_utf8() {
        let text = "{\"name\":\"Ünïcødé 日本 \u{1f512}\"}";
        for end in 0..=text.len() {
            let whole = (0..=end).rev().find(|&e| text.is_char_boundary(e)).unwrap();
            assert_eq!(
                utf8_prefix(&text.as_bytes()[..end]),
                &text[..whole],
                "{end}"
            );
        }
        // Not UTF-8 inside: the text before it.
        assert_eq!(utf8_prefix(b"{\"a\":\"\xff\"}"), "{\"a\":\"");
    }

    #[test]
    fn a_listed_user_read_plainly_is_the_one_serde_json_reads() {
        let plain = r#"{"id":100001,"uuid":"000005e4-0000-4000-8186-0000000186a1","username":"user1@example.com","user_name":"user1@example.com","email":"user1@example.com","name":"User One","type":"local","permissions":32,"enabled":true,"lockout":false,"login_fail_count":0,"login_fail_total":0,"lastlogin":1700000000000,"container_uuid":"c"}"#;
        let user = listed_user_read_plainly(plain).expect("a plain user");
        assert_eq!(
            Ok(&user),
            listed_user_read_by_serde(plain).as_ref().map_err(|_| ())
        );
        assert_eq!(user.role.as_deref(), Some("Standard [32]"));
        assert_eq!(user.last_login, Some(1_700_000_000));
        // A field named twice is refused by serde_json, so not read plainly either, even
        // when the first was null or the field is one `discover` does not show.
        for twice in [
            r#"{"id":1,"id":2}"#,
            r#"{"id":null,"id":2}"#,
            r#"{"type":"local","type":"saml"}"#,
        ] {
            assert_eq!(listed_user_read_plainly(twice), None, "{twice}");
            assert!(listed_user_read_by_serde(twice).is_err(), "{twice}");
        }
        let unshown_twice = r#"{"id":1,"uuid":"a","uuid":"b"}"#;
        assert_eq!(
            listed_user_read_plainly(unshown_twice).as_ref(),
            listed_user_read_by_serde(unshown_twice).as_ref().ok()
        );
    }

    #[test]
    fn a_compact_numeric_id_is_its_digits_borrowed_and_any_other_the_same_text() {
        let user = listed_user_read_plainly(r#"{"id":100001,"username":"u"}"#).unwrap();
        assert!(matches!(user.id, Cow::Borrowed("100001")), "{:?}", user.id);
        for (text, id) in [
            (r#"{"id" : 100001}"#, "100001"),
            (r#"{"id": 7,"x":1}"#, "7"),
            (r#"{"username":"u","id":0}"#, "0"),
            // Found by the `answers` fuzz target: no digits right after the colon read as 0.
            (r#"{"id": 0}"#, "0"),
            (r#"{"id" :0}"#, "0"),
            ("{\"id\":\t0,\"username\":\"u\"}", "0"),
            (r#"{"id":"0042"}"#, "0042"),
        ] {
            let user = listed_user_read_plainly(text).unwrap();
            assert_eq!(user.id, id, "{text}");
            assert_eq!(
                Some(&user),
                listed_user_read_by_serde(text).as_ref().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn a_number_packed_is_written_as_to_string_writes_it() {
        let mut users = ListedUsers::default();
        for n in [0, 7, 10, 99, 100, 100_001, 1_700_000_000_000, u64::MAX] {
            let digits = users.copy_digits(n);
            assert_eq!(users.text[digits].to_string(), n.to_string());
        }
    }

    #[test]
    fn random_user_objects_read_plainly_match_serde_json_or_are_left_to_it() {
        let keys = [
            "id",
            "username",
            "name",
            "email",
            "permissions",
            "enabled",
            "lockout",
            "login_fail_count",
            "type",
            "lastlogin",
            "uuid",
            "user_name",
            "Id",
        ];
        let values = [
            "1",
            "0",
            "64",
            "32",
            "\"32\"",
            "\"\"",
            "\" \"",
            "\"alice@example.com\"",
            "true",
            "false",
            "\"true\"",
            "\"0\"",
            "null",
            "-1",
            "1.5",
            "1e3",
            "99999999999999999999",
            "\"local\"",
            "\"SAML\"",
            "[]",
            "{\"a\":1}",
            "\"a\\\"b\"",
            "\"\\u00e9\"",
            "\"é\"",
            "1700000000000",
            "\"1700000000000\"",
            "007",
        ];
        let mut rng = fastrand::Rng::with_seed(13_13);
        let (mut read, mut left, mut from_list) = (0, 0, 0);
        let mut batch = ListedUsers::default();
        for _ in 0..20_000 {
            let members: Vec<String> = (0..rng.usize(0..8))
                .map(|_| {
                    let key = rng.choice(&keys).unwrap();
                    let value = rng.choice(&values).unwrap();
                    let space = if rng.u8(..) < 20 { " " } else { "" };
                    format!("\"{key}\"{space}:{space}{value}")
                })
                .collect();
            let text = format!("{{{}}}", members.join(","));
            let by_serde = listed_user_read_by_serde(&text);
            // Read from the start of a list: as the user's own text is read.
            let listed = format!("{text},{text}]");
            // Read straight into a batch: the same user, or none when none is read.
            assert_eq!(
                listed_user_packed_from_list(&listed),
                listed_user_read_from_list(&listed).map(|(u, len)| (u.into_owned(), len)),
                "{listed}"
            );
            // And into one batch that keeps every user read so far; a user not read leaves
            // it as it was.
            let before = (batch.len(), batch.text.len());
            match pack_prefix(&mut batch, &listed) {
                Some(len) => {
                    let (user, read_len) = listed_user_read_from_list(&listed).unwrap();
                    assert_eq!((batch.iter().last(), len), (Some(user), read_len));
                }
                None => assert_eq!((batch.len(), batch.text.len()), before, "{listed}"),
            }
            if let Some((user, len)) = listed_user_read_from_list(&listed) {
                assert_eq!(
                    Some(user),
                    listed_user_read_plainly(&listed[..len]),
                    "{listed}"
                );
                assert_eq!(len, text.len(), "{listed}");
                from_list += 1;
            }
            match listed_user_read_plainly(&text) {
                Some(user) => {
                    read += 1;
                    assert_eq!(Some(&user), by_serde.as_ref().ok(), "{text}");
                }
                None => left += 1,
            }
        }
        assert!(
            read > 2_000 && left > 2_000,
            "{read} read plainly, {left} left"
        );
        // Every user read plainly alone is read from a list too, and into the batch.
        assert_eq!(from_list, read);
        assert_eq!(batch.len(), read);
    }

    #[test]
    fn roles_read_as_name_and_number() {
        assert_eq!(role_text(32), "Standard [32]");
        assert_eq!(role_text(0), "No Access or custom [0]");
        assert_eq!(role_text(33), "custom [33]");
        assert_eq!(role_text(u64::MAX), format!("custom [{}]", u64::MAX));
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
