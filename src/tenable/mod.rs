//! Tenable's two platforms, one narrow client each, over the shared transport.
//!
//! [`VmClient`] speaks to Tenable Vulnerability Management (cloud, formerly Tenable.io);
//! [`ScClient`] to Tenable Security Center (on premises, formerly Tenable.sc). Each offers
//! only what a rotation needs: find a user or credential, change its password, and check
//! whether a password logs in. Status handling lives in `error::classify`, once for both.
//! Wire shapes follow shared/reference/tenable-api.md and pyTenable's recorded cassettes.

mod credential;
mod error;
mod plain;
mod sc;
mod vm;
mod wire;

use std::borrow::Cow;
use std::fmt;

pub use credential::{Credential, CredentialMatch, password_key_for};
pub use error::{
    Asked, IdShape, SC_ERROR_CODES, ScMeaning, TenableError, classify, error_message, path_id,
    sc_error_code,
};
pub use sc::{ScClient, ScUser};
pub use vm::{
    CredentialStubs, VmClient, VmUser, listed_user_packed_from_list, listed_user_read_by_serde,
    listed_user_read_from_list, listed_user_read_plainly, user_from_list,
};
// What `discover` knows of a TVM role's text.
pub(crate) use vm::{ROLE_WORDS, role_word};

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
/// role below Administrator sees only id, username and email (tenable-api.md §1.b). Its
/// text may be borrowed from the answer it was read from (issue 13: 200 000 users).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedUser<'a> {
    /// Tenable's id (digits on both platforms).
    pub id: Cow<'a, str>,
    /// The username.
    pub username: Cow<'a, str>,
    /// Display name (TVM `name`; SC `firstname lastname`).
    pub name: Option<Cow<'a, str>>,
    /// Email address.
    pub email: Option<Cow<'a, str>>,
    /// Role name (TVM from `permissions`; SC `role.name`).
    pub role: Option<Cow<'a, str>>,
    /// TVM's `permissions` number (16 Basic … 64 Administrator).
    pub permissions: Option<u64>,
    /// Whether the account is enabled.
    pub enabled: Option<bool>,
    /// Whether the account is locked out (TVM `lockout`, or more than 5 failed logins; SC
    /// `locked`).
    pub locked: Option<bool>,
    /// The platform's own word for how the user signs in (TVM `type`, SC `authType`).
    pub auth_type: Option<Cow<'a, str>>,
    /// TVM only, when read (`GET /users/{id}/authorizations`): which sign-ins are permitted.
    pub authorizations: Option<Authorizations>,
    /// Last login, seconds since the epoch (TVM `lastlogin` is in ms; SC `lastLogin` in s;
    /// 0 means never).
    pub last_login: Option<i64>,
}

impl ListedUser<'_> {
    /// The same user, its text its own.
    pub fn into_owned(self) -> ListedUser<'static> {
        let own = |t: Option<Cow<'_, str>>| t.map(|t| Cow::Owned(t.into_owned()));
        ListedUser {
            id: Cow::Owned(self.id.into_owned()),
            username: Cow::Owned(self.username.into_owned()),
            name: own(self.name),
            email: own(self.email),
            role: own(self.role),
            permissions: self.permissions,
            enabled: self.enabled,
            locked: self.locked,
            auth_type: own(self.auth_type),
            authorizations: self.authorizations,
            last_login: self.last_login,
        }
    }
}

/// Listed users packed into one buffer, to be handed from the thread that reads the list to
/// the one that prints it without an allocation per user (issue 13).
#[derive(Debug, Default)]
pub struct ListedUsers {
    text: String,
    users: Vec<PackedUser>,
}

/// Where a packed text is.
#[derive(Debug, Clone)]
enum Packed {
    /// A range of [`ListedUsers::text`].
    At(std::ops::Range<usize>),
    /// One of this program's own words (a TVM role named by its number): not copied.
    Word(&'static str),
}

/// A [`ListedUser`] whose text is a range of [`ListedUsers::text`] (its role may be a word).
#[derive(Debug, Default)]
struct PackedUser {
    id: std::ops::Range<usize>,
    username: std::ops::Range<usize>,
    name: Option<std::ops::Range<usize>>,
    email: Option<std::ops::Range<usize>>,
    role: Option<Packed>,
    auth_type: Option<std::ops::Range<usize>>,
    permissions: Option<u64>,
    enabled: Option<bool>,
    locked: Option<bool>,
    authorizations: Option<Authorizations>,
    last_login: Option<i64>,
}

impl ListedUsers {
    /// Users a batch holds before it is handed over.
    pub const FULL_USERS: usize = 1024;

    /// Text a batch holds before it is handed over, whatever the count: a hostile answer of
    /// users with long fields keeps each batch, and so memory, bounded (issue 13).
    pub const FULL_BYTES: usize = 1 << 18;

    /// Whether it should be handed over: [`ListedUsers::FULL_USERS`] users, or
    /// [`ListedUsers::FULL_BYTES`] of text.
    pub fn is_full(&self) -> bool {
        self.users.len() >= Self::FULL_USERS || self.text.len() >= Self::FULL_BYTES
    }

    /// Room for `users` users of about 128 bytes of text each.
    pub fn with_capacity(users: usize) -> ListedUsers {
        ListedUsers {
            text: String::with_capacity(users * 128),
            users: Vec::with_capacity(users),
        }
    }

    /// How many users it holds.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// Empties it, keeping its room for the next users.
    pub fn clear(&mut self) {
        self.text.clear();
        self.users.clear();
    }

    /// A word of this program's as it is, any other text copied ([`ListedUsers::copy`]).
    fn word_or_copy(&mut self, text: Cow<'static, str>) -> Packed {
        match text {
            Cow::Borrowed(word) => Packed::Word(word),
            Cow::Owned(text) => Packed::At(self.copy(&text)),
        }
    }

    /// A copy of `text` at the end of [`ListedUsers::text`], and where it is.
    fn copy(&mut self, text: &str) -> std::ops::Range<usize> {
        let start = self.text.len();
        self.text.push_str(text);
        start..self.text.len()
    }

    /// The decimal digits of `n` at the end of [`ListedUsers::text`] (as `n.to_string()`
    /// writes them), and where they are.
    fn copy_digits(&mut self, n: u64) -> std::ops::Range<usize> {
        self.copy(itoa::Buffer::new().format(n))
    }

    /// Adds a copy of `user`.
    pub fn push(&mut self, user: &ListedUser<'_>) {
        let packed = PackedUser {
            id: self.copy(&user.id),
            username: self.copy(&user.username),
            name: user.name.as_deref().map(|t| self.copy(t)),
            email: user.email.as_deref().map(|t| self.copy(t)),
            role: user.role.as_deref().map(|t| Packed::At(self.copy(t))),
            auth_type: user.auth_type.as_deref().map(|t| self.copy(t)),
            permissions: user.permissions,
            enabled: user.enabled,
            locked: user.locked,
            authorizations: user.authorizations,
            last_login: user.last_login,
        };
        self.users.push(packed);
    }

    /// The users, in the order they were added, their text borrowed from here.
    pub fn iter(&self) -> impl Iterator<Item = ListedUser<'_>> {
        let text = |r: &std::ops::Range<usize>| Cow::Borrowed(&self.text[r.clone()]);
        self.users.iter().map(move |p| ListedUser {
            id: text(&p.id),
            username: text(&p.username),
            name: p.name.as_ref().map(text),
            email: p.email.as_ref().map(text),
            role: p.role.as_ref().map(|role| match role {
                Packed::At(at) => text(at),
                Packed::Word(word) => Cow::Borrowed(*word),
            }),
            auth_type: p.auth_type.as_ref().map(text),
            permissions: p.permissions,
            enabled: p.enabled,
            locked: p.locked,
            authorizations: p.authorizations,
            last_login: p.last_login,
        })
    }
}

/// Where a list's users go as they are read: each one made whole ([`UserSink::user`]) or,
/// when the sink packs users into a batch ([`UserSink::batch`]), a plain TVM user read straight
/// into it and then announced ([`UserSink::packed`]): no [`ListedUser`] is made in between
/// (issue 13). A closure that takes listed users is a sink without a batch.
pub trait UserSink {
    /// Takes one user.
    fn user(&mut self, user: ListedUser<'_>);
    /// The batch a user may be read straight into, if any.
    fn batch(&mut self) -> Option<&mut ListedUsers>;
    /// One user more was read into [`UserSink::batch`].
    fn packed(&mut self);
}

impl<F: FnMut(ListedUser<'_>)> UserSink for F {
    fn user(&mut self, user: ListedUser<'_>) {
        self(user)
    }
    fn batch(&mut self) -> Option<&mut ListedUsers> {
        None
    }
    fn packed(&mut self) {}
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

/// Lenient readers for listing fields, which Tenable sends as strings on SC and as numbers or
/// booleans on TVM.
pub(crate) mod lenient {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde_json::{Number, Value};

    /// One field's value as the readers below see it, parsed without building a
    /// [`Value`]: a string borrowed from the answer when it has no escape (issue 13: 200 000
    /// users), a number, a boolean, or anything else (null, an array or an object, which
    /// every reader takes as absent).
    #[derive(Debug, Clone, PartialEq)]
    pub enum Scalar<'a> {
        /// A string.
        Str(Cow<'a, str>),
        /// A number.
        Num(Number),
        /// `true` or `false`.
        Bool(bool),
        /// Null, an array or an object.
        Other,
    }

    impl Scalar<'_> {
        /// The scalar of a parsed [`Value`], borrowing its string.
        pub fn of(v: &Value) -> Scalar<'_> {
            match v {
                Value::String(s) => Scalar::Str(Cow::Borrowed(s)),
                Value::Number(n) => Scalar::Num(n.clone()),
                Value::Bool(b) => Scalar::Bool(*b),
                _ => Scalar::Other,
            }
        }
    }

    impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(ScalarVisitor)
        }
    }

    struct ScalarVisitor;

    impl<'de> Visitor<'de> for ScalarVisitor {
        type Value = Scalar<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Scalar::Str(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Scalar::Str(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Scalar::Str(Cow::Owned(v)))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Scalar::Num(v.into()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Scalar::Num(v.into()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Number::from_f64(v).map_or(Scalar::Other, Scalar::Num))
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Scalar::Bool(v))
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Scalar::Other)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(Scalar::Other)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Scalar::Other)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Scalar::Other)
        }
    }

    /// Text from a string or a number; empty text is `None`.
    pub fn text(v: Option<&Value>) -> Option<String> {
        text_of(v.map(Scalar::of).as_ref())
    }

    /// [`text`] of a [`Scalar`], its string kept as it is (borrowed when it was).
    pub fn text_cow(v: Option<Scalar<'_>>) -> Option<Cow<'_, str>> {
        // A first byte that is printable ASCII and not a space: not blank, no trim needed.
        let blank = |s: &str| match s.as_bytes().first() {
            Some(b'!'..=b'~') => false,
            _ => s.trim().is_empty(),
        };
        match v? {
            Scalar::Str(s) if !blank(&s) => Some(s),
            Scalar::Num(n) => Some(Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// [`text`] of a [`Scalar`].
    pub fn text_of(v: Option<&Scalar<'_>>) -> Option<String> {
        text_cow(v.cloned()).map(Cow::into_owned)
    }

    /// A boolean from `true`/`false`, `"true"`/`"false"`, or 0/1.
    pub fn flag(v: Option<&Value>) -> Option<bool> {
        flag_of(v.map(Scalar::of).as_ref())
    }

    /// [`flag`] of a [`Scalar`].
    pub fn flag_of(v: Option<&Scalar<'_>>) -> Option<bool> {
        match v? {
            Scalar::Bool(b) => Some(*b),
            Scalar::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Some(true),
                "false" | "0" | "no" => Some(false),
                _ => None,
            },
            Scalar::Num(n) => n.as_i64().map(|n| n != 0),
            Scalar::Other => None,
        }
    }

    /// A whole number from a number or a numeric string.
    pub fn number(v: Option<&Value>) -> Option<i64> {
        number_of(v.map(Scalar::of).as_ref())
    }

    /// [`number`] of a [`Scalar`].
    pub fn number_of(v: Option<&Scalar<'_>>) -> Option<i64> {
        match v? {
            Scalar::Num(n) => n.as_i64(),
            Scalar::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn a_scalar_parsed_straight_from_text_reads_as_the_value_does() {
            let values = [
                r#""alice""#,
                r#""  ""#,
                r#""""#,
                r#"" 42 ""#,
                r#""x ""#,
                r#""\u00a0""#,
                "\"\u{2003}\"",
                r#""true""#,
                r#"" No ""#,
                r#""1""#,
                r#""a\"b\u00e9""#,
                r#""\u0031""#,
                "0",
                "1",
                "-7",
                "18446744073709551615",
                "1.5",
                "2e3",
                "1e400",
                "true",
                "false",
                "null",
                "[]",
                r#"[1,"a",{"b":[null]}]"#,
                r#"{"a":{"b":"c"},"d":[1]}"#,
            ];
            for json in values {
                let Ok(scalar) = serde_json::from_str::<Scalar<'_>>(json) else {
                    // Out of f64's range: serde_json refuses it either way.
                    assert!(serde_json::from_str::<Value>(json).is_err(), "{json}");
                    continue;
                };
                let value: Value = serde_json::from_str(json).unwrap();
                assert_eq!(text_of(Some(&scalar)), text(Some(&value)), "{json}");
                // `text_of` goes through `text_cow`: both against the rule spelled out.
                let blank_is_none = match &scalar {
                    Scalar::Str(s) => (!s.trim().is_empty()).then(|| s.to_string()),
                    Scalar::Num(n) => Some(n.to_string()),
                    _ => None,
                };
                assert_eq!(text_of(Some(&scalar)), blank_is_none, "{json}");
                assert_eq!(flag_of(Some(&scalar)), flag(Some(&value)), "{json}");
                assert_eq!(number_of(Some(&scalar)), number(Some(&value)), "{json}");
            }
            // Unescaped strings are borrowed from the answer, escaped ones owned.
            let borrowed: Scalar<'_> = serde_json::from_str(r#""bob""#).unwrap();
            assert!(matches!(
                borrowed,
                Scalar::Str(std::borrow::Cow::Borrowed("bob"))
            ));
            let owned: Scalar<'_> = serde_json::from_str(r#""b\u006fb""#).unwrap();
            assert!(matches!(owned, Scalar::Str(std::borrow::Cow::Owned(ref s)) if s == "bob"));
            assert_eq!(text_of(None), None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_users_read_back_as_they_went_in() {
        let users = [
            ListedUser {
                id: "7".into(),
                username: "b\u{e9}b@example.com".into(),
                name: Some("Bob \"B\"".into()),
                email: None,
                role: Some("Standard [32]".into()),
                permissions: Some(32),
                enabled: Some(true),
                locked: Some(false),
                auth_type: Some("local".into()),
                authorizations: Some(Authorizations {
                    password: true,
                    saml: false,
                    api: true,
                }),
                last_login: Some(1_700_000_000),
            },
            ListedUser::default(),
            ListedUser {
                id: "8".into(),
                username: "".into(),
                email: Some("".into()),
                last_login: Some(-1),
                ..ListedUser::default()
            },
        ];
        let mut packed = ListedUsers::with_capacity(1);
        assert!(packed.is_empty());
        for u in &users {
            packed.push(u);
        }
        assert_eq!(packed.len(), 3);
        let back: Vec<ListedUser<'_>> = packed.iter().collect();
        assert_eq!(back, users);
        assert!(back.iter().all(|u| matches!(u.id, Cow::Borrowed(_))));
        assert_eq!(back[0].clone().into_owned(), users[0]);
        drop(back);
        packed.clear();
        assert!(packed.is_empty());
        packed.push(&users[2]);
        assert_eq!(packed.iter().collect::<Vec<_>>(), [users[2].clone()]);
    }

    #[test]
    fn a_batch_is_full_at_its_user_count_or_its_text_size() {
        let short = ListedUser {
            id: "1".into(),
            ..ListedUser::default()
        };
        let mut batch = ListedUsers::default();
        for _ in 1..ListedUsers::FULL_USERS {
            batch.push(&short);
        }
        assert!(!batch.is_full());
        batch.push(&short);
        assert!(batch.is_full());
        // Four users with names of a quarter of the text size fill it long before the count.
        let long = ListedUser {
            name: Some("n".repeat(ListedUsers::FULL_BYTES / 4 + 1).into()),
            ..short
        };
        let mut batch = ListedUsers::default();
        for _ in 0..3 {
            batch.push(&long);
            assert!(!batch.is_full());
        }
        batch.push(&long);
        assert!(batch.is_full());
    }
}
