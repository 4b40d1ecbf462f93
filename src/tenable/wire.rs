//! Request and response bodies. Deserialize only what is used; unknown fields are ignored.
//! Request bodies that carry a password serialize straight from a borrowed [`Secret`] into a
//! wiped buffer, so no intermediate `String` copy of the password exists.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// Serializes `value` as JSON into a buffer that is wiped on drop.
pub(crate) fn to_wiped_json(value: &impl Serialize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(512));
    // Serializing our own structs into a Vec cannot fail.
    serde_json::to_writer(&mut *out, value).expect("JSON serialization into memory");
    out
}

/// Serializes a secret as a JSON string.
pub(crate) fn expose<S: Serializer>(secret: &Secret, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose())
}

/// Serializes an optional secret as a JSON string (skip it when `None`).
pub(crate) fn expose_opt<S: Serializer>(secret: &Option<&Secret>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(v) => s.serialize_str(v.expose()),
        None => s.serialize_none(),
    }
}

/// A username and password, for TVM `POST /session` and SC `POST /rest/token`.
#[derive(Serialize)]
pub(crate) struct Login<'a> {
    pub username: &'a str,
    #[serde(serialize_with = "expose")]
    pub password: &'a Secret,
    /// SC only: do not end the user's other sessions.
    #[serde(rename = "releaseSession", skip_serializing_if = "Option::is_none")]
    pub release_session: Option<bool>,
}

/// An id that Tenable sends as a number (TVM) or a string (SC).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireId(pub String);

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Num(i64),
            Str(String),
        }
        Ok(WireId(match Either::deserialize(d)? {
            Either::Num(n) => n.to_string(),
            Either::Str(s) => s,
        }))
    }
}

impl std::fmt::Display for WireId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
