//! Errors in the gateway payload and its records. Each names a field or a record title,
//! never a value: a value may be a password.

/// What was wrong with the payload on stdin or with the records inside it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeeperError {
    /// Reading stdin failed.
    #[error(
        "could not read standard input ({0}); run this program as a Keeper PAM script, which pipes the payload to it"
    )]
    Read(std::io::ErrorKind),
    /// No complete line arrived on stdin before the deadline.
    #[error(
        "no complete line arrived on standard input within {seconds} s (TENABLE_ROTATE_TIMEOUT); the Keeper Gateway pipes one base64 line and a line break"
    )]
    StdinTimeout {
        /// The deadline in seconds.
        seconds: u64,
    },
    /// Stdin held nothing but white space.
    #[error(
        "standard input is empty; expected the one base64 line the Keeper Gateway pipes to a PAM script"
    )]
    Empty,
    /// Stdin was larger than the limit.
    #[error(
        "standard input is larger than {limit} bytes; a Keeper Gateway payload is far smaller, so this is not one"
    )]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// Stdin was not base64.
    #[error(
        "standard input is not base64; expected the one base64 line the Keeper Gateway pipes to a PAM script"
    )]
    NotBase64,
    /// The decoded payload was not JSON.
    #[error(
        "the decoded payload is not valid JSON (line {line}, column {column}); expected the Keeper Gateway's JSON object"
    )]
    NotJson {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
    },
    /// The decoded payload was JSON but not an object.
    #[error(
        "the decoded payload is a JSON {found}, not an object; expected the Keeper Gateway's JSON object"
    )]
    NotAnObject {
        /// The JSON kind found.
        found: &'static str,
    },
    /// A required top-level key was absent.
    #[error(
        "the payload has no `{field}`; the Keeper Gateway always sends it, so check what pipes into this program"
    )]
    MissingField {
        /// The missing key.
        field: &'static str,
    },
    /// A top-level key had the wrong JSON type.
    #[error(
        "the payload's `{field}` is a JSON {found}, expected a string; the Keeper Gateway sends text there, so check what pipes into this program"
    )]
    WrongType {
        /// The key.
        field: &'static str,
        /// The JSON kind found.
        found: &'static str,
    },
    /// A required top-level key was empty.
    #[error("the payload's `{field}` is empty; Keeper must supply it for this rotation")]
    EmptyField {
        /// The key.
        field: &'static str,
    },
    /// `records` was not base64.
    #[error("the payload's `records` is not base64; expected base64 of a JSON array of records")]
    RecordsNotBase64,
    /// `records` decoded to something that is not JSON.
    #[error(
        "the payload's `records` is not valid JSON once decoded (line {line}, column {column})"
    )]
    RecordsNotJson {
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
    },
    /// `records` decoded to JSON that is not an array.
    #[error("the payload's `records` is a JSON {found} once decoded, expected an array of records")]
    RecordsNotList {
        /// The JSON kind found.
        found: &'static str,
    },
    /// An element of `records` was not an object.
    #[error("record number {index} in `records` is a JSON {found}, expected an object")]
    RecordNotObject {
        /// 1-based position in the array.
        index: usize,
        /// The JSON kind found.
        found: &'static str,
    },
    /// No record matched.
    #[error(
        "no record titled '{title}' and none with a `{field}` field among the attached records ({found}); attach the Tenable key record to the PAM script as a rotation credential"
    )]
    NoRecord {
        /// The title looked for.
        title: String,
        /// The field looked for.
        field: String,
        /// The titles that were present, quoted and comma-separated.
        found: String,
    },
    /// More than one record matched.
    #[error(
        "more than one attached record could hold the Tenable keys ({found}); attach exactly one, or give each a distinct title and set TENABLE_ROTATE_RECORD_TITLE"
    )]
    AmbiguousRecord {
        /// The matching titles, quoted and comma-separated.
        found: String,
    },
}

/// Quotes and joins record titles for a message; `(none)` when there are none.
pub(crate) fn list_titles<'a>(titles: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = titles
        .map(|t| format!("'{}'", crate::untrusted::field(t)))
        .collect();
    if quoted.is_empty() {
        "none attached".to_owned()
    } else {
        crate::untrusted::list(quoted, 10)
    }
}
