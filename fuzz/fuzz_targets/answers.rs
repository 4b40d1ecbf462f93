//! Fuzzes what Tenable sends back: the streamed user list (through the body bounds),
//! credential details on both platforms, SC envelopes, error bodies and their
//! classification, `Retry-After`, ids on their way into a path, and the list cutter and
//! discover's plain user reader against serde_json. The first byte picks the parser, the
//! second (where used) an HTTP status. Any other text is printed, and screened in a JSON report.
//!
//! Nothing may panic, and the oracle is by origin, not by value: the only secrets are the
//! redactor's (they come from the payload, never from the answer), so whatever the answer
//! holds, a line made from it and passed through `untrusted::line` must not quote one in any
//! encoding, must hold no control or bidi character, and must stay within the line cap. An id
//! accepted for a path must be digits, hex and dashes only.
#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use tenable_rotate::secret::{Redactor, Secret};
use tenable_rotate::tenable::{self, Asked, Credential, IdShape, Platform};
use tenable_rotate::transport::{Reply, parse_retry_after};
use tenable_rotate::untrusted;

/// Secrets the answers are scanned for; they contain the characters encodings treat
/// differently, so every encoding of them is distinct.
const SECRETS: [&str; 2] = ["SECRET\"mark\\er/é%+1", "0123456789abcdefKEYMARKER"];

fn redactor() -> Redactor {
    let mut r = Redactor::default();
    for s in SECRETS {
        r.add(&Secret::from(s));
    }
    r
}

/// The printing oracle: what reaches the job log from `text`.
fn assert_printable(text: &str, r: &Redactor) {
    let line = untrusted::line(text, r, "fallback");
    assert!(!r.quotes_secret(&line), "secret in {line:?}");
    assert!(
        !line.chars().any(|c| c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)),
        "unsafe character in {line:?}"
    );
    assert!(line.len() <= untrusted::LINE_MAX_BYTES + 16, "line too long");
}

fn platform(b: u8) -> Platform {
    if b % 2 == 0 { Platform::Vm } else { Platform::Sc }
}

fuzz_target!(|data: &[u8]| {
    let [mode, status_byte, rest @ ..] = data else {
        return;
    };
    let r = redactor();
    let text = String::from_utf8_lossy(rest);
    match mode % 8 {
        // The streamed user list, within the same bounds as a live answer.
        0 => {
            if let Ok(found) = tenable::user_from_list(rest, "alice@example.com") {
                match found {
                    Ok(user) => assert_printable(&format!("{} {}", user.username, user.id), &r),
                    Err(e) => assert_printable(&e.to_string(), &r),
                }
            }
        }
        // Credential details, as TVM and SC send them.
        1 => {
            if let Ok(map) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(rest) {
                if let Ok(c) = Credential::from_vm("u".into(), map.clone()) {
                    assert_printable(&format!("{} {} {:?}", c.name, c.kind, c.username), &r);
                }
                let c = Credential::from_sc(&map);
                assert_printable(&format!("{} {} {}", c.id, c.name, c.kind), &r);
            }
        }
        // An error answer to any request, classified and printed.
        2 => {
            let status = 200 + u16::from(*status_byte) * 2;
            let reply = Reply {
                status,
                request_id: untrusted::request_id(&text),
                set_cookie: None,
                body: rest.to_vec(),
            };
            let asked = match status_byte % 3 {
                0 => Asked::Read { object: None },
                1 => Asked::Read {
                    object: Some(("credential", &text)),
                },
                _ => Asked::Change {
                    kind: "user",
                    name: &text,
                },
            };
            // Tenable's own message is redacted where it is read, before any line is made.
            if let Some(message) = tenable::error_message(platform(*status_byte), rest, &r) {
                assert!(!r.quotes_secret(&message), "secret in {message:?}");
            }
            let e = tenable::classify(platform(*status_byte), "the change", &reply, &r, asked);
            assert_printable(&e.to_string(), &r);
            let _ = tenable::sc_error_code(rest);
        }
        // Retry-After, seconds or a date, any value.
        3 => {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
            let _ = parse_retry_after(&text, now);
        }
        // Ids on their way into a path.
        4 => {
            let shape = if status_byte % 2 == 0 { IdShape::Number } else { IdShape::Uuid };
            match tenable::path_id(platform(*status_byte), "user", shape, &text) {
                Ok(segment) => assert!(
                    segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'),
                    "{segment:?}"
                ),
                Err(e) => assert_printable(&e.to_string(), &r),
            }
        }
        // The list cutter against serde_json: a list the streamer accepts is one serde_json
        // accepts, with the same items; cutting without parsing (a lookup's unwanted items)
        // finds the same item boundaries.
        5 => {
            use serde_json::Value;
            use tenable_rotate::transport::{BodyLimits, items};
            let mut streamed = Vec::new();
            let whole = serde_json::from_slice::<Value>(rest);
            let Ok(count) =
                items::for_each_item(rest, "users", BodyLimits::LIST, &mut |v: Value| streamed.push(v))
            else {
                return;
            };
            assert_eq!(count as usize, streamed.len());
            match whole {
                Ok(doc) => assert_eq!(doc.get("users"), Some(&Value::Array(streamed.clone()))),
                // An item is parsed on its own, two levels below the answer's own nesting.
                Err(e) => {
                    assert!(e.to_string().contains("recursion limit"), "{e}");
                    return;
                }
            }
            let mut escaped = Vec::new();
            let cut = items::for_each_wanted_item(
                rest,
                "users",
                BodyLimits::LIST,
                Some(&|_| None),
                &mut |v: Value| escaped.push(v),
            );
            assert_eq!(cut.ok(), Some(count));
            let with_escape = |v: &Value| serde_json::to_string(v).unwrap().contains('\\');
            // Every item handed over had an escape in its text (its re-serialization may not).
            assert!(escaped.len() <= streamed.len());
            assert!(streamed.iter().filter(|v| with_escape(v)).count() <= escaped.len());
        }
        // A listed user read plainly (discover's fast path) against serde_json: what the fast
        // path reads, serde_json reads the same; what it leaves, serde_json decides.
        6 => {
            let Ok(item) = std::str::from_utf8(rest) else {
                return;
            };
            if let Some(user) = tenable::listed_user_read_plainly(item) {
                assert_eq!(tenable::listed_user_read_by_serde(item).ok(), Some(user));
            }
            // Read from the start of a list's text, before it is cut: the user read is the
            // one its own text holds.
            let read = tenable::listed_user_read_from_list(item);
            // Read straight into a batch, as `discover` reads it: the same user, or none.
            assert_eq!(
                tenable::listed_user_packed_from_list(item),
                read.clone().map(|(user, len)| (user.into_owned(), len))
            );
            if let Some((user, len)) = read {
                assert_eq!(tenable::listed_user_read_plainly(&item[..len]), Some(user));
            }
        }
        // Any text from outside, printed; and in a JSON report (cut into several strings at
        // each `|`), screened string by string: still JSON, every member there, and no string
        // quotes a secret as it is or as JSON writes it.
        _ => {
            assert_printable(&text, &r);
            let parts: Vec<&str> = text.split('|').collect();
            let report = serde_json::json!({
                "password_state": "changed",
                "error": text,
                "items": parts.iter().map(|p| serde_json::json!({"name": p})).collect::<Vec<_>>(),
            });
            let shown: serde_json::Value =
                serde_json::from_str(&r.screen_json(report)).expect("a report stays JSON");
            assert_eq!(shown["password_state"], "changed");
            let items = shown["items"].as_array().expect("items");
            assert_eq!(items.len(), parts.len());
            let strings = items.iter().map(|i| &i["name"]).chain([&shown["error"]]);
            for s in strings {
                let s = s.as_str().expect("a string stays a string");
                assert!(!r.quotes_secret(s), "secret in {s:?}");
                assert!(!r.quotes_secret(&serde_json::to_string(s).unwrap()), "secret in {s:?} as JSON");
            }
        }
    }
});
