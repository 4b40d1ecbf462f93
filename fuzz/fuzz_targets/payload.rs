//! Fuzzes the gateway payload parser, the record lookup and the settings built from the key
//! record. The first byte picks what the rest is:
//! - 0: the raw stdin bytes, as the gateway would send them;
//! - 1: the decoded top-level JSON (base64-encoded here, so the fuzzer explores JSON, not
//!   base64);
//! - anything else: the decoded `records` JSON, wrapped in a valid payload.
//!
//! Nothing may panic, and no error message may leak a secret. The seeds put the marker
//! `SECRETMARKER` in password and key values; the fuzzer moves it anywhere. The oracle:
//! - a payload error names fields and positions only, so it never contains the marker;
//! - a record or settings error may quote what an admin sees in the vault anyway (record
//!   titles, field labels, the rotated username, and the values of the non-secret `tenable_*`
//!   fields, URLs without their user info); with those scrubbed out, the marker must not
//!   remain.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use tenable_rotate::config::{self, Environment, Overrides};
use tenable_rotate::keeper::{self, FieldValue, Payload};

const MARKER: &str = "SECRETMARKER";

/// Fields whose values a settings error may quote: none of them is a secret.
const QUOTABLE_FIELDS: [&str; 6] = [
    config::field::URL,
    config::field::SC_HOST,
    config::field::TARGET,
    config::field::CREDENTIAL_NAME,
    config::field::CREDENTIAL_MATCH,
    config::field::VERIFY,
];

/// Asserts that `message`, without what may legitimately be quoted, holds no marker.
fn assert_no_leak(message: &str, payload: &Payload) {
    let mut printable: Vec<&str> = vec![payload.user.as_str()];
    for record in &payload.records {
        printable.push(record.title());
        for name in record.field_names() {
            printable.push(name);
            let quotable = QUOTABLE_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(name));
            if let (true, Some(FieldValue::Text(value))) = (quotable, record.field(name)) {
                // Quoted trimmed, as the settings read it.
                let value = value.expose().trim();
                printable.push(value);
                // A URL is quoted with its user info cut off, as `scheme://…@rest`.
                if let Some((_, rest)) = value.rsplit_once('@') {
                    printable.push(rest);
                    printable.extend(value.split_once("://").map(|(scheme, _)| scheme));
                }
            }
        }
    }
    // Longest first, replaced by a byte that cannot join two halves into a marker.
    printable.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut scrubbed = message.to_owned();
    for text in printable.into_iter().filter(|t| !t.is_empty()) {
        scrubbed = scrubbed.replace(text, "\u{0}");
    }
    assert!(!scrubbed.contains(MARKER), "leak: {message}");
}

fn check(stdin: &[u8]) {
    let payload = match keeper::parse_payload(stdin) {
        Ok(payload) => payload,
        Err(e) => {
            assert!(!e.to_string().contains(MARKER), "leak: {e}");
            return;
        }
    };
    let record = match keeper::find_record(
        &payload.records,
        config::DEFAULT_KEY_RECORD_TITLE,
        config::field::ACCESS_KEY,
    ) {
        Ok(record) => record,
        Err(e) => return assert_no_leak(&e.to_string(), &payload),
    };
    if let Err(e) = config::from_record(
        record,
        &payload.user,
        &Environment::default(),
        &Overrides::default(),
    ) {
        assert_no_leak(&e.to_string(), &payload);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode {
        0 => check(rest),
        1 => check(STANDARD.encode(rest).as_bytes()),
        _ => {
            let records = STANDARD.encode(rest);
            let top = format!(
                r#"{{"user":"u","newPassword":"{MARKER}-new","oldPassword":"{MARKER}-old","records":"{records}"}}"#
            );
            check(STANDARD.encode(top).as_bytes());
        }
    }
});
