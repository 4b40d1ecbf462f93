//! The records attached to a PAM script, and finding the one that holds a given setting.
//!
//! Keeper's own Tenable samples find the key record by its exact title, `Tenable
//! Authentication Record`, and fail if it is renamed. We keep that rule first (so a record set
//! up for the samples works unchanged) and add a fallback: the only record that carries the
//! key field. Two candidates is an error, never a guess.

use super::error::{KeeperError, list_titles};
use super::payload::FieldValue;

/// One flattened vault record: `uid`, `title`, and its fields by label (or type).
#[derive(Debug)]
pub struct Record {
    uid: Option<String>,
    title: String,
    fields: Vec<(String, FieldValue)>,
}

impl Record {
    pub(super) fn from_fields(mut fields: Vec<(String, FieldValue)>) -> Record {
        let mut take_plain = |key: &str| {
            let at = fields.iter().position(|(k, _)| k == key)?;
            match fields.remove(at).1 {
                FieldValue::Text(s) => Some(s.expose().to_owned()),
                _ => None,
            }
        };
        let uid = take_plain("uid");
        let title = take_plain("title").unwrap_or_default();
        Record { uid, title, fields }
    }

    /// The record's UID, when sent.
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The record's title (empty when the record had none).
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The value of field `name`: an exact key match, else the only ASCII-case-insensitive
    /// match (a label typed `Tenable_Access_Key` still counts).
    pub fn field(&self, name: &str) -> Option<&FieldValue> {
        if let Some((_, v)) = self.fields.iter().find(|(k, _)| k == name) {
            return Some(v);
        }
        let mut folded = self
            .fields
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name));
        match (folded.next(), folded.next()) {
            (Some((_, v)), None) => Some(v),
            _ => None,
        }
    }

    /// The values of fields whose name says they hold a secret (`password`, `secret`, `key`,
    /// `token`, `passphrase`, in any case): these are redacted from everything printed.
    /// Other text fields are not, since they hold names that messages must show.
    pub fn secret_values(&self) -> impl Iterator<Item = &crate::secret::Secret> {
        const SECRET_WORDS: [&str; 5] = ["password", "secret", "key", "token", "passphrase"];
        self.fields.iter().filter_map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            match v {
                FieldValue::Text(s) if SECRET_WORDS.iter().any(|w| lower.contains(w)) => Some(s),
                _ => None,
            }
        })
    }

    /// The names of all fields, in the order sent.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_str())
    }
}

/// Finds the record titled `title` (trimmed, case-insensitive); failing that, the only
/// record that has a field named `field`.
pub fn find_record<'a>(
    records: &'a [Record],
    title: &str,
    field: &str,
) -> Result<&'a Record, KeeperError> {
    let wanted = title.trim();
    let titled: Vec<&Record> = records
        .iter()
        .filter(|r| r.title.trim().eq_ignore_ascii_case(wanted))
        .collect();
    let candidates = if titled.is_empty() {
        records
            .iter()
            .filter(|r| r.field(field).is_some())
            .collect()
    } else {
        titled
    };
    match candidates.as_slice() {
        [one] => Ok(one),
        [] => Err(KeeperError::NoRecord {
            title: wanted.to_owned(),
            field: field.to_owned(),
            found: list_titles(records.iter().map(|r| r.title())),
        }),
        many => Err(KeeperError::AmbiguousRecord {
            found: list_titles(many.iter().map(|r| r.title())),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn record(title: &str, fields: &[&str]) -> Record {
        let mut all = vec![("title".to_owned(), FieldValue::Text(Secret::from(title)))];
        all.extend(
            fields
                .iter()
                .map(|f| (f.to_string(), FieldValue::Text(Secret::from("v")))),
        );
        Record::from_fields(all)
    }

    #[test]
    fn title_wins_case_insensitively() {
        let records = [
            record("Other", &["tenable_access_key"]),
            record("tenable authentication record ", &[]),
        ];
        let found = find_record(
            &records,
            "Tenable Authentication Record",
            "tenable_access_key",
        )
        .unwrap();
        assert_eq!(found.title(), "tenable authentication record ");
    }

    #[test]
    fn falls_back_to_the_only_record_with_the_field() {
        let records = [
            record("PAM User", &["login"]),
            record("My Tenable keys", &["tenable_access_key"]),
        ];
        let found = find_record(
            &records,
            "Tenable Authentication Record",
            "tenable_access_key",
        )
        .unwrap();
        assert_eq!(found.title(), "My Tenable keys");
    }

    #[test]
    fn none_or_two_is_an_error_naming_titles() {
        let records = [
            record("A", &["tenable_access_key"]),
            record("B", &["tenable_access_key"]),
        ];
        let err = find_record(&records, "X", "tenable_access_key")
            .unwrap_err()
            .to_string();
        assert!(err.contains("'A', 'B'"), "{err}");
        let err = find_record(&records[..0], "X", "tenable_access_key")
            .unwrap_err()
            .to_string();
        assert!(err.contains("none attached"), "{err}");
    }

    #[test]
    fn field_lookup_folds_case_only_when_unambiguous() {
        let r = record("T", &["Tenable_Access_Key"]);
        assert!(r.field("tenable_access_key").is_some());
        let r = record("T", &["A", "a"]);
        assert!(r.field("A").is_some());
        assert!(r.field("X").is_none());
    }

    #[test]
    fn secret_values_are_the_text_fields_named_like_secrets() {
        let fields = [
            ("title", "Keys"),
            ("uid", "R1"),
            ("tenable_access_key", "ak-1"),
            ("tenable_secret_key", "sk-1"),
            ("Password", "pw-1"),
            ("api_TOKEN", "tok-1"),
            ("passphrase", "pp-1"),
            ("login", "alice"),
            ("tenable_url", "https://cloud.tenable.com"),
        ];
        let mut all: Vec<(String, FieldValue)> = fields
            .iter()
            .map(|(k, v)| (k.to_string(), FieldValue::Text(Secret::from(*v))))
            .collect();
        all.push(("secret_host".to_owned(), FieldValue::Object));
        let r = Record::from_fields(all);
        let secrets: Vec<&str> = r.secret_values().map(|s| s.expose()).collect();
        assert_eq!(secrets, ["ak-1", "sk-1", "pw-1", "tok-1", "pp-1"]);
    }

    #[test]
    fn field_names_are_every_field_but_uid_and_title_in_order() {
        let r = record("T", &["login", "tenable_access_key", "Login"]);
        let names: Vec<&str> = r.field_names().collect();
        assert_eq!(names, ["login", "tenable_access_key", "Login"]);
        assert_eq!(record("T", &[]).field_names().count(), 0);
    }
}
