//! The one type that holds a secret, and the redaction of secrets from text we did not write.
//!
//! Every password and API key the program touches lives in a [`Secret`]. It has no `Display`
//! and no `Serialize`, its `Debug` prints `Secret([REDACTED])`, and its memory is wiped on drop
//! (through `secrecy`, which zeroizes). `expose` is the only way to read the value, so every
//! place a secret leaves the process can be found with `grep expose`.
//!
//! [`Redactor`] exists for the one place where text we did not write reaches the job log:
//! Tenable's error messages. Tenable could echo a submitted value back, so anything equal to a
//! secret from the payload is replaced before such text is shown.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// A secret value: a password or an API key. Cannot be printed; wiped on drop.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Takes ownership of `value`; the `String`'s buffer is the one that is later wiped.
    pub fn new(value: String) -> Self {
        Secret(SecretString::from(value))
    }

    /// The value, for building a request body or header. Keep the result short-lived.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// True when the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// True when the value is empty or only white space (a field left blank in the vault).
    pub fn is_blank(&self) -> bool {
        self.expose().trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        SecretString::deserialize(d).map(Secret)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value.to_owned())
    }
}

/// Replaces known secrets in text that came from outside (Tenable error bodies).
#[derive(Default, Clone)]
pub struct Redactor {
    secrets: Vec<Secret>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

impl Redactor {
    /// Adds a secret to redact. Values shorter than 4 characters are skipped: redacting
    /// every `a` in a message would destroy it and protect nothing.
    pub fn add(&mut self, secret: &Secret) {
        if secret.expose().chars().count() >= 4 {
            self.secrets.push(secret.clone());
        }
    }

    /// Returns `text` with every occurrence of a known secret replaced by `[REDACTED]`.
    /// Longer secrets go first so that a secret containing another is removed whole.
    pub fn redact(&self, text: &str) -> String {
        let mut sorted: Vec<&Secret> = self.secrets.iter().collect();
        sorted.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        let mut out = text.to_owned();
        for secret in sorted {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::from("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
    }

    #[test]
    fn redactor_replaces_every_occurrence_longest_first() {
        let mut r = Redactor::default();
        r.add(&Secret::from("abcd"));
        r.add(&Secret::from("abcdefgh"));
        r.add(&Secret::from("xy"));
        assert_eq!(
            r.redact("bad abcdefgh and abcd, xy stays"),
            "bad [REDACTED] and [REDACTED], xy stays"
        );
    }
}
