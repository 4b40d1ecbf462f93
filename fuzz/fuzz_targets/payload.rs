//! Fuzzes the gateway payload parser, the record lookup and the settings built from the key
//! record. The first byte picks what the rest is:
//! - 0: the raw stdin bytes, as the gateway would send them;
//! - 1: the decoded top-level JSON (base64-encoded here, so the fuzzer explores JSON, not
//!   base64);
//! - 3: raw bytes around a valid payload: the next byte splits the rest into text put before
//!   and after the base64 of a payload whose records are the rest of the input;
//! - anything else: the decoded `records` JSON, wrapped in a valid payload.
//!
//! Nothing may panic, and the oracle is by origin, not by value (issue 15, item 6): the
//! secrets are put in by this harness, only where secrets go (`newPassword`, `oldPassword`,
//! and every record field whose name says it holds a secret: password, secret, key, token,
//! passphrase), after the fuzzer has shaped the rest. An input that itself quotes one of the
//! secrets, in any encoding, is skipped; so any secret in any output came from a secret field.
//! Every output is checked, on failure and on success (the error's text; the payload, record
//! and settings as `Debug` shows them; the base URL and key source that a success line
//! prints), with `Redactor::quotes_secret`: plain, JSON-escaped, percent-encoded, base64 at
//! any alignment, and any 8-byte fragment. Inputs over 4 KiB are explored with
//! `-max_len=65536` (SECURITY.md gives the command) and seeded in `corpus/payload`.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use tenable_rotate::config::{self, Environment, Overrides};
use tenable_rotate::keeper;
use tenable_rotate::secret::{Redactor, Secret};

/// The secrets, with the characters encodings treat differently, so each encoding differs.
const NEW: &str = "SECRET\"n3w\\pw/é%+MARKER1";
const OLD: &str = "SECRET\"0ld\\pw/ü%+MARKER2";
const ACCESS: &str = "ACCESSKEYMARKER0123456789abcdef";
const SECRET_KEY: &str = "SECRETKEYMARKER0123456789fedcba";
const RECORD_PASSWORD: &str = "RECORD\"pw\\x/ß%+MARKER3";
const OTHER: &str = "OTHER\"token\\y/ø%+MARKER4";
const ALL: [&str; 6] = [NEW, OLD, ACCESS, SECRET_KEY, RECORD_PASSWORD, OTHER];

/// Words that make a record field a secret one (as `Record::secret_values` reads them).
const SECRET_WORDS: [&str; 5] = ["password", "secret", "key", "token", "passphrase"];

fn redactor() -> Redactor {
    let mut r = Redactor::default();
    for s in ALL {
        r.add(&Secret::from(s));
    }
    r
}

/// The secret this harness puts in a field named `name`, if it is a secret field.
fn secret_for(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if !SECRET_WORDS.iter().any(|w| lower.contains(w)) {
        return None;
    }
    Some(if lower.contains("access") {
        ACCESS
    } else if lower.contains("secret") {
        SECRET_KEY
    } else if lower.contains("password") {
        RECORD_PASSWORD
    } else {
        OTHER
    })
}

/// Puts the secrets into every secret field of every object in `v`, at any depth. A list
/// value keeps its shape with the secret as each string (Keeper may send `["value"]`).
fn inject(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, value) in map.iter_mut() {
                match (secret_for(k), value) {
                    (Some(s), Value::Array(items)) => {
                        for item in items.iter_mut() {
                            *item = Value::from(s);
                        }
                    }
                    (Some(s), value) => *value = Value::from(s),
                    (None, value) => inject(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(inject),
        _ => {}
    }
}

/// A top-level payload around `records` (already base64), with the passwords put in.
fn top(user: &str, records: &str) -> String {
    let mut map = Map::new();
    map.insert("user".into(), Value::from(user));
    map.insert("newPassword".into(), Value::from(NEW));
    map.insert("oldPassword".into(), Value::from(OLD));
    map.insert("records".into(), Value::from(records));
    Value::Object(map).to_string()
}

/// The records JSON from the fuzzer, with secrets put in when it parses, else as it is.
fn records_of(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut v) => {
            inject(&mut v);
            STANDARD.encode(v.to_string())
        }
        Err(_) => STANDARD.encode(bytes),
    }
}

/// Panics if `text` quotes a secret in any encoding.
fn assert_clean(what: &str, text: &str, r: &Redactor) {
    assert!(
        !r.quotes_secret(text),
        "a secret leaked through {what}: {text}"
    );
}

fn check(stdin: &[u8], r: &Redactor) {
    let payload = match keeper::parse_payload(stdin) {
        Ok(payload) => payload,
        Err(e) => return assert_clean("a payload error", &e.to_string(), r),
    };
    assert_clean("the payload's Debug", &format!("{payload:?}"), r);
    let record = match keeper::find_record(
        &payload.records,
        config::DEFAULT_KEY_RECORD_TITLE,
        config::field::ACCESS_KEY,
    ) {
        Ok(record) => record,
        Err(e) => return assert_clean("a record error", &e.to_string(), r),
    };
    assert_clean("the record's Debug", &format!("{record:?}"), r);
    match config::from_record(
        record,
        &payload.user,
        &Environment::default(),
        &Overrides::default(),
    ) {
        Ok(settings) => {
            assert_clean("the settings' Debug", &format!("{settings:?}"), r);
            // What a success line prints.
            assert_clean("the base URL", settings.base_url.as_str(), r);
            assert_clean("the key source", &settings.key_source, r);
        }
        Err(e) => assert_clean("a settings error", &e.to_string(), r),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let r = redactor();
    // By origin: the fuzzer's own bytes must not already hold a secret.
    if r.quotes_secret(&String::from_utf8_lossy(rest)) {
        return;
    }
    match mode {
        0 => check(rest, &r),
        1 => {
            let json = match serde_json::from_slice::<Value>(rest) {
                Ok(mut v) => {
                    if let Value::Object(map) = &mut v {
                        map.insert("newPassword".into(), Value::from(NEW));
                        map.insert("oldPassword".into(), Value::from(OLD));
                        if let Some(Value::String(records)) = map.get_mut("records") {
                            if let Some(decoded) = STANDARD.decode(records.trim()).ok() {
                                *records = records_of(&decoded);
                            }
                        }
                    }
                    inject(&mut v);
                    v.to_string().into_bytes()
                }
                Err(_) => rest.to_vec(),
            };
            check(STANDARD.encode(json).as_bytes(), &r);
        }
        3 => {
            let [head, tail, rest @ ..] = rest else {
                return;
            };
            let (before, rest) = rest.split_at(usize::from(*head).min(rest.len()));
            let (records, after) = rest.split_at(rest.len() - usize::from(*tail).min(rest.len()));
            let mut line = before.to_vec();
            line.extend_from_slice(STANDARD.encode(top("u", &records_of(records))).as_bytes());
            line.extend_from_slice(after);
            check(&line, &r);
        }
        _ => check(STANDARD.encode(top("u", &records_of(rest))).as_bytes(), &r),
    }
});
