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

use std::collections::HashSet;
use std::fmt;
use std::hash::{BuildHasher, RandomState};

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

/// Removes known secrets from text that came from outside (Tenable's answers), in every form a
/// server could echo them, and tells when text still quotes one.
///
/// A hostile or careless server can quote a submitted password in its error message in many
/// forms (issue 10, row 1): plain, JSON-escaped, URL-encoded, base64 of the whole request body
/// (so at any alignment), or cut short. Each secret is therefore kept as a set of forms, and:
/// - [`Redactor::redact`] replaces every form, and every run of [`FRAGMENT`] or more characters
///   shared with a form, by `[REDACTED]`;
/// - [`Redactor::quotes_secret`] decodes the text the ways a server could have encoded it
///   (JSON escapes, percent-encoding, base64 runs, one level nested) and says whether any
///   fragment of a secret is still there. The caller then withholds the text whole.
///
/// Fragments are found in linear time through keyed hashes of every [`FRAGMENT`]-byte window
/// of each form (random keys per process, so the sets hold no copy of a secret).
#[derive(Default, Clone)]
pub struct Redactor {
    /// Forms shorter than [`FRAGMENT`], matched whole.
    short_forms: Vec<Zeroizing<Vec<u8>>>,
    /// Plain values shorter than [`FRAGMENT`], for the decode check.
    short_plain: Vec<Zeroizing<Vec<u8>>>,
    /// Hashes of every window of every form.
    form_windows: HashSet<u64>,
    /// Hashes of every window of the plain values.
    plain_windows: HashSet<u64>,
    /// How many secrets were added.
    count: usize,
    /// The keys of the window hashes.
    keys: RandomState,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.count)
    }
}

/// What a redacted secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// What [`Redactor::screen_json`] puts in place of a string that still quotes a secret once
/// redacted.
pub const WITHHELD: &str = "[WITHHELD: it quoted a secret]";

/// Shortest shared run, in bytes, that counts as a fragment of a secret. Long enough that
/// ordinary words in an error message do not trip it, short enough that a password cut
/// short by a server (or by our own field cap) is still caught.
pub const FRAGMENT: usize = 8;

/// Values shorter than this are not redacted: redacting every `a` in a message would destroy
/// it and protect nothing.
const SHORTEST: usize = 4;

impl Redactor {
    /// Adds a secret to redact, with its encoded forms.
    pub fn add(&mut self, secret: &Secret) {
        self.add_text(secret.expose());
    }

    /// Adds a secret given as text (e.g. the whole gateway line, which is not a `Secret`).
    pub fn add_text(&mut self, value: &str) {
        let value = value.trim();
        if value.len() < SHORTEST {
            return;
        }
        if value.len() < FRAGMENT {
            if self
                .short_plain
                .iter()
                .any(|p| p.as_slice() == value.as_bytes())
            {
                return;
            }
            self.short_plain
                .push(Zeroizing::new(value.as_bytes().to_vec()));
        } else {
            for w in value.as_bytes().windows(FRAGMENT) {
                self.plain_windows.insert(self.keys.hash_one(w));
            }
        }
        self.count += 1;
        for form in encoded_forms(value) {
            if form.len() < FRAGMENT {
                if !self.short_forms.iter().any(|f| **f == *form) {
                    self.short_forms.push(form);
                }
            } else {
                for w in form.windows(FRAGMENT) {
                    self.form_windows.insert(self.keys.hash_one(w));
                }
            }
        }
    }

    /// True when no secret is known.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Returns `text` with every form of every secret, and every fragment of [`FRAGMENT`] or
    /// more bytes shared with one, replaced by `[REDACTED]`.
    pub fn redact(&self, text: &str) -> String {
        if self.count == 0 || text.is_empty() {
            return text.to_owned();
        }
        let bytes = text.as_bytes();
        let mut hidden = vec![false; bytes.len()];
        for form in &self.short_forms {
            // A short secret is hidden where it appears whole.
            mark_all(bytes, form, &mut hidden);
        }
        if !self.form_windows.is_empty() {
            for (start, w) in bytes.windows(FRAGMENT).enumerate() {
                if self.form_windows.contains(&self.keys.hash_one(w)) {
                    hidden[start..start + FRAGMENT].fill(true);
                }
            }
        }
        if !hidden.contains(&true) {
            return text.to_owned();
        }
        let mut out = String::with_capacity(text.len());
        let mut in_run = false;
        for (i, c) in text.char_indices() {
            if hidden[i..i + c.len_utf8()].contains(&true) {
                if !in_run {
                    out.push_str(REDACTED);
                    in_run = true;
                }
            } else {
                in_run = false;
                out.push(c);
            }
        }
        out
    }

    /// `value` as JSON text with each string in it redacted as [`Redactor::redact`] redacts
    /// it: in the string, not in the JSON text. Cutting a secret out of JSON text can leave
    /// half an escape (a `\` and then `[REDACTED]`), and the text would no longer be JSON (the
    /// `rows` fuzz target found it in `discover`'s output). The caller still screens the
    /// text with [`Redactor::quotes_secret`]: escaping can put a secret's form back together.
    pub fn redact_json(&self, mut value: serde_json::Value) -> String {
        each_string(&mut value, &mut |s| *s = self.redact(s));
        value.to_string()
    }

    /// A report or an audit line, `value`, as JSON text fit to print: each string redacted as
    /// [`Redactor::redact_json`] redacts it, and one that still quotes a secret, as it is or
    /// as JSON writes it (escaping can put a secret's form back together), replaced by
    /// [`WITHHELD`]. Member names are left as they are and not screened: they are this
    /// program's own (`password_state`, a record field's name), never text from outside.
    ///
    /// Screening the whole text instead withheld every report of a run whose password holds
    /// a word of those names: an old password with `password` in it turned the report of a
    /// rotation that succeeded into "the run failed ...; the Tenable password was not
    /// changed", and Keeper's plugin, finding no `password_state`, into UNKNOWN.
    pub fn screen_json(&self, mut value: serde_json::Value) -> String {
        each_string(&mut value, &mut |s| {
            let shown = self.redact(s);
            // Writing a string as JSON cannot fail.
            let written = serde_json::to_string(&shown).unwrap_or_default();
            *s = if self.quotes_secret(&shown) || self.quotes_secret(&written) {
                WITHHELD.to_owned()
            } else {
                shown
            };
        });
        value.to_string()
    }

    /// Whether `text`, decoded as a server might have encoded it, still holds a fragment of a
    /// secret. Checks the text as it is, JSON-unescaped, percent-decoded, and every base64
    /// run decoded (at each of the four offsets), and the same once more inside each decoding.
    pub fn quotes_secret(&self, text: &str) -> bool {
        self.count > 0 && self.holds_fragment(text.as_bytes(), 2)
    }

    fn holds_fragment(&self, bytes: &[u8], depth: u8) -> bool {
        let direct = |b: &[u8]| {
            self.short_plain.iter().any(|secret| contains(b, secret))
                || (!self.plain_windows.is_empty()
                    && b.windows(FRAGMENT)
                        .any(|w| self.plain_windows.contains(&self.keys.hash_one(w))))
        };
        if direct(bytes) {
            return true;
        }
        if depth == 0 {
            return false;
        }
        let decodings = [json_unescape(bytes), percent_decode(bytes)];
        if decodings
            .iter()
            .flatten()
            .any(|d| self.holds_fragment(d, depth - 1))
        {
            return true;
        }
        base64_runs(bytes).any(|decoded| self.holds_fragment(&decoded, depth - 1))
    }
}

/// Calls `f` on every string value in `value`, at any depth; member names are left alone.
fn each_string(value: &mut serde_json::Value, f: &mut impl FnMut(&mut String)) {
    match value {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| each_string(v, f)),
        serde_json::Value::Object(members) => {
            members.values_mut().for_each(|v| each_string(v, f));
        }
        _ => {}
    }
}

/// The forms a server could echo `value` in: plain; JSON-escaped (serde's way, and with
/// non-ASCII and `/` escaped too); percent-encoded (upper- and lower-case hex, and the form
/// encoding with `+`); and the alignment-independent core of its base64 at each of the three
/// byte offsets it can start at.
fn encoded_forms(value: &str) -> Vec<Zeroizing<Vec<u8>>> {
    let mut forms: Vec<Zeroizing<Vec<u8>>> = Vec::new();
    let mut push = |s: Vec<u8>| {
        if s.len() >= SHORTEST {
            forms.push(Zeroizing::new(s));
        }
    };
    push(value.as_bytes().to_vec());
    if let Ok(json) = serde_json::to_string(value) {
        let inner = json[1..json.len() - 1].to_owned();
        push(inner.replace('/', "\\/").into_bytes());
        push(inner.into_bytes());
    }
    for upper_hex in [false, true] {
        let mut ascii_json = String::new();
        for c in value.chars() {
            match c {
                '"' => ascii_json.push_str("\\\""),
                '\\' => ascii_json.push_str("\\\\"),
                c if c.is_ascii() && !c.is_ascii_control() => ascii_json.push(c),
                c => {
                    let mut units = [0u16; 2];
                    for unit in c.encode_utf16(&mut units) {
                        if upper_hex {
                            ascii_json.push_str(&format!("\\u{unit:04X}"));
                        } else {
                            ascii_json.push_str(&format!("\\u{unit:04x}"));
                        }
                    }
                }
            }
        }
        push(ascii_json.into_bytes());
    }
    let mut upper = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            upper.push(b as char);
        } else {
            upper.push_str(&format!("%{b:02X}"));
        }
    }
    push(upper.to_ascii_lowercase().into_bytes());
    push(
        url::form_urlencoded::byte_serialize(value.as_bytes())
            .collect::<String>()
            .into_bytes(),
    );
    push(upper.into_bytes());
    for offset in 0..3usize {
        let mut data = vec![0u8; offset];
        data.extend_from_slice(value.as_bytes());
        let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
        // Characters that depend only on the value's bits: skip those mixing in the prefix
        // and those mixing in the padding bits at the end.
        let first = (8 * offset).div_ceil(6);
        let last = (8 * data.len()) / 6; // exclusive
        if last > first {
            push(encoded.as_bytes()[first..last].to_vec());
        }
    }
    forms
}

use base64::Engine as _;
use zeroize::Zeroizing;

fn mark_all(haystack: &[u8], needle: &[u8], hidden: &mut [bool]) {
    if needle.is_empty() || needle.len() > haystack.len() {
        return;
    }
    for start in 0..=haystack.len() - needle.len() {
        if &haystack[start..start + needle.len()] == needle {
            hidden[start..start + needle.len()].fill(true);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && needle.len() <= haystack.len()
        && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Undoes JSON string escapes (`\"`, `\\`, `\/`, `\n`, `\uXXXX` with surrogate pairs);
/// `None` when the text has none.
fn json_unescape(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.contains(&b'\\') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let hex4 = |at: usize| -> Option<u16> {
        let digits = bytes.get(at..at + 4)?;
        u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
    };
    while i < bytes.len() {
        if bytes[i] != b'\\' || i + 1 >= bytes.len() {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let escaped = bytes[i + 1];
        i += 2;
        let simple = match escaped {
            b'n' => Some(b'\n'),
            b't' => Some(b'\t'),
            b'r' => Some(b'\r'),
            b'b' => Some(8),
            b'f' => Some(12),
            b'u' => None,
            other => Some(other),
        };
        if let Some(b) = simple {
            out.push(b);
            continue;
        }
        let Some(unit) = hex4(i) else {
            out.extend_from_slice(b"\\u");
            continue;
        };
        i += 4;
        let mut units = vec![unit];
        if (0xD800..0xDC00).contains(&unit) && bytes.get(i..i + 2) == Some(b"\\u") {
            if let Some(low) = hex4(i + 2) {
                units.push(low);
                i += 6;
            }
        }
        out.extend_from_slice(String::from_utf16_lossy(&units).as_bytes());
    }
    Some(out)
}

/// Undoes percent-encoding and the form encoding's `+`; `None` when the text has neither.
fn percent_decode(bytes: &[u8]) -> Option<Vec<u8>> {
    if !bytes.contains(&b'%') && !bytes.contains(&b'+') {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(out)
}

/// Every run of 12 or more base64 characters, decoded at each of the four phases a secret's
/// bytes can sit at. A phase is reached by putting zero to three `A`s in front, never by
/// dropping characters: the run's first characters may complete a group that carries secret
/// bits (found by the `answers` fuzz target: a run after a CR). Trailing partial groups are
/// dropped.
fn base64_runs(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    let is_b64 = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    let mut runs = Vec::new();
    let mut start = None;
    for (i, b) in bytes
        .iter()
        .enumerate()
        .chain(std::iter::once((bytes.len(), &b' ')))
    {
        match (is_b64(b) && i < bytes.len(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 12 {
                    runs.push(&bytes[s..i]);
                }
                start = None;
            }
            _ => {}
        }
    }
    runs.into_iter().flat_map(|run| {
        (0..4).filter_map(move |pad| {
            let mut body: Vec<u8> = vec![b'A'; pad];
            body.extend(run.iter().map(|b| match b {
                b'-' => b'+',
                b'_' => b'/',
                b => *b,
            }));
            body.truncate(body.len() / 4 * 4);
            base64::engine::general_purpose::STANDARD.decode(body).ok()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    /// A password with every character that encodings treat differently.
    const HARD: &str = "Kp\"7\\mZ/é%+q9!x&=Ab";

    fn redactor() -> Redactor {
        let mut r = Redactor::default();
        r.add(&Secret::from(HARD));
        r.add(&Secret::from("abcd"));
        r.add(&Secret::from("xy"));
        r
    }

    fn assert_hidden(text: &str) {
        let r = redactor();
        let out = r.redact(text);
        assert!(out.contains(REDACTED), "nothing redacted in {out:?}");
        assert!(!r.quotes_secret(&out), "still quotes the secret: {out:?}");
    }

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::from("hunter2-very-secret");
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
        assert!(!format!("{:?}", Some(&secret)).contains("hunter2"));
        assert_eq!(format!("{:?}", redactor()), "Redactor(2 secrets)");
        let mut twice = redactor();
        twice.add(&Secret::from(HARD));
        assert_eq!(
            format!("{twice:?}"),
            "Redactor(3 secrets)",
            "adding again is harmless"
        );
    }

    #[test]
    fn short_secrets_whole_and_tiny_ones_not_at_all() {
        let r = redactor();
        assert_eq!(r.redact("bad abcd, xy stays"), "bad [REDACTED], xy stays");
    }

    #[test]
    fn json_is_redacted_string_by_string_and_stays_json() {
        // The `rows` fuzz target's find: a text that holds part of a secret with a backslash,
        // next to an escape of its own.
        let mut r = Redactor::default();
        r.add(&Secret::from("SECRET\"mark\\er/é%+1"));
        let value = serde_json::json!({"id": "ark\\er/\\e\"Rmark"});
        // Redacted as text, the JSON escape of the second backslash is cut in half.
        let as_text = r.redact(&value.to_string());
        assert!(
            serde_json::from_str::<serde_json::Value>(&as_text).is_err(),
            "{as_text}"
        );
        // As a string it shares seven bytes with the secret, one short of a fragment: it is
        // shown as it is, and is JSON.
        let shown = r.redact_json(value);
        let read: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
        assert_eq!(read["id"], "ark\\er/\\e\"Rmark");
        assert!(!r.quotes_secret(&shown));
        // In arrays and objects at any depth; other values as they are.
        let secret = "SECRET\"mark\\er/é%+1";
        let value = serde_json::json!({
            "list": [format!("x {secret} y"), 7, [secret]],
            "inner": {"k": secret, "n": null, "t": true},
            "plain": "nothing here",
        });
        assert_eq!(
            r.redact_json(value),
            r#"{"inner":{"k":"[REDACTED]","n":null,"t":true},"list":["x [REDACTED] y",7,["[REDACTED]"]],"plain":"nothing here"}"#
        );
    }

    #[test]
    fn a_report_keeps_its_names_and_screens_its_strings() {
        // A human-chosen old password with a word of the report's own names in it.
        let mut r = Redactor::default();
        r.add(&Secret::from("my-old-password-2019"));
        let report = serde_json::json!({
            "password_state": "changed",
            "exit_code": 0,
            "error": "the Tenable password was not changed",
            "items": [{"name": "old-password-2019 echoed", "result": "changed"}],
        });
        let shown: serde_json::Value =
            serde_json::from_str(&r.screen_json(report)).expect("still JSON");
        assert_eq!(shown["password_state"], "changed");
        assert_eq!(shown["exit_code"], 0);
        assert_eq!(shown["error"], "the Tenable [REDACTED] was not changed");
        assert_eq!(shown["items"][0]["name"], "[REDACTED] echoed");
        assert_eq!(shown["items"][0]["result"], "changed");
        // The whole text, screened, would have been withheld for the name alone.
        assert!(r.quotes_secret(r#"{"password_state":"changed"}"#));
    }

    #[test]
    fn a_report_string_that_escaping_makes_a_secret_is_withheld() {
        // The secret holds a backslash and an `n`; the string, a line break in their place.
        // Neither it nor its decodings share a fragment with the secret; as JSON writes it,
        // it is the secret.
        let mut r = Redactor::default();
        r.add(&Secret::from("abc\\ndef"));
        let string = "abc\ndef";
        assert!(!r.quotes_secret(string));
        assert!(r.quotes_secret(&serde_json::to_string(string).unwrap()));
        let shown: serde_json::Value = serde_json::from_str(
            &r.screen_json(serde_json::json!({"error": string, "n": [string]})),
        )
        .expect("still JSON");
        assert_eq!(shown["error"], WITHHELD);
        assert_eq!(shown["n"][0], WITHHELD);
        // Redacted string by string only, it would be printed as the secret.
        assert!(r.quotes_secret(&r.redact_json(serde_json::json!({"error": string}))));
    }

    #[test]
    fn plain_json_escaped_and_ascii_escaped_forms() {
        assert_hidden(&format!("password {HARD} is too weak"));
        let json = serde_json::to_string(HARD).unwrap();
        assert_hidden(&format!("password {json} is too weak"));
        assert_hidden("password Kp\\\"7\\\\mZ\\/\\u00e9%+q9!x&=Ab is too weak");
        assert_hidden("password Kp\\\"7\\\\mZ/\\u00E9%+q9!x&=Ab is too weak");
    }

    #[test]
    fn url_encoded_forms() {
        let form: String = url::form_urlencoded::byte_serialize(HARD.as_bytes()).collect();
        assert_hidden(&format!("bad password={form}"));
        assert_hidden("bad password=Kp%227%5CmZ%2F%C3%A9%25%2Bq9%21x%26%3DAb");
        assert_hidden("bad password=Kp%227%5cmZ%2f%c3%a9%25%2bq9%21x%26%3dAb");
    }

    #[test]
    fn base64_at_every_alignment() {
        for prefix in ["", "a", "ab", "abc", "{\"password\":\""] {
            let encoded = STANDARD.encode(format!("{prefix}{HARD}\"}}"));
            assert_hidden(&format!("echo: {encoded}"));
        }
    }

    #[test]
    fn fragments_cut_short() {
        assert_hidden(&format!("password {}… is too weak", &HARD[..10]));
        let r = redactor();
        assert_eq!(r.redact("password is too short"), "password is too short");
        assert!(!r.quotes_secret("password is too short"));
    }

    #[test]
    fn a_base64_run_whose_first_group_is_cut_is_still_decoded() {
        // Found by fuzzing: base64 of a secret at a phase where the run starts mid-group,
        // right after a character that is not base64 (here a CR).
        let mut r = Redactor::default();
        r.add(&Secret::from(HARD));
        let encoded = STANDARD.encode(format!("xy{HARD}"));
        for cut in 1..4 {
            let text = format!("id\r{}", &encoded[cut..]);
            assert!(r.quotes_secret(&text), "cut {cut}: {text}");
        }
    }

    #[test]
    fn decoding_finds_what_forms_missed() {
        let r = redactor();
        // HTML-ish mixed escapes are not among the forms, but percent-decoding of a
        // lower-case encoding of the JSON form is found.
        let weird = "Kp%5C%227%5C%5CmZ%2F%C3%A9%25%2Bq9%21x";
        assert!(r.quotes_secret(weird));
        assert!(!r.quotes_secret("nothing here at all, 1234567890"));
    }

    /// A redactor that knows only `secrets`.
    fn knowing(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::default();
        for s in secrets {
            r.add(&Secret::from(*s));
        }
        r
    }

    /// `json_unescape` run on another thread, so that a decoder that stops making progress
    /// fails the test instead of hanging it.
    fn unescape_in_time(text: &str) -> Option<Vec<u8>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let bytes = text.as_bytes().to_vec();
        std::thread::spawn(move || {
            let _ = tx.send(json_unescape(&bytes));
        });
        rx.recv_timeout(std::time::Duration::from_secs(2))
            .unwrap_or_else(|_| panic!("json_unescape({text:?}) did not finish"))
    }

    #[test]
    fn a_redactor_is_empty_until_a_secret_long_enough_is_added() {
        let mut r = Redactor::default();
        assert!(r.is_empty());
        r.add_text("xy");
        r.add_text("   ");
        assert!(r.is_empty(), "values under four bytes are not kept");
        r.add_text("abcd");
        assert!(!r.is_empty());
        assert!(!knowing(&["correct-horse-battery"]).is_empty());
    }

    #[test]
    fn a_short_secret_quoted_whole_is_found() {
        let r = knowing(&["abcd"]);
        assert!(r.quotes_secret("bad abcd"));
        assert!(r.quotes_secret("abcd"));
        assert!(!r.quotes_secret("abc"));
        let r = knowing(&["abcdefg"]);
        assert!(r.quotes_secret("the password abcdefg is weak"));
    }

    #[test]
    fn two_different_short_secrets_are_both_redacted_and_found() {
        let r = knowing(&["abcd", "wxyz"]);
        assert_eq!(r.redact("wxyz and abcd"), "[REDACTED] and [REDACTED]");
        assert!(r.quotes_secret("only wxyz"));
        assert!(r.quotes_secret("only abcd"));
        assert_eq!(format!("{r:?}"), "Redactor(2 secrets)");
    }

    #[test]
    fn the_base64_of_a_short_secret_is_redacted() {
        let r = knowing(&["abcd"]);
        // "abcd" encodes to "YWJjZA==", whose first five characters carry only its bits.
        assert_eq!(r.redact("echo YWJjZA=="), "echo [REDACTED]A==");
    }

    #[test]
    fn a_secret_of_exactly_eight_bytes_is_kept_only_as_window_hashes() {
        let r = knowing(&["c0rrect8"]);
        assert!(
            r.short_plain.is_empty(),
            "no plain copy of a FRAGMENT-byte secret"
        );
        assert!(
            r.short_forms.is_empty(),
            "no plain copy of a FRAGMENT-byte form"
        );
        assert!(r.quotes_secret("bad c0rrect8!"));
        assert_eq!(r.redact("bad c0rrect8!"), "bad [REDACTED]!");
    }

    #[test]
    fn a_text_that_is_exactly_a_short_secret_is_redacted() {
        let r = knowing(&["abcd"]);
        assert_eq!(r.redact("abcd"), "[REDACTED]");
    }

    #[test]
    fn a_short_secret_at_the_end_of_the_text_is_redacted() {
        let r = knowing(&["abcd"]);
        assert_eq!(
            r.redact("the password is abcd"),
            "the password is [REDACTED]"
        );
    }

    #[test]
    fn a_text_shorter_than_a_short_secret_is_returned_unchanged() {
        let r = knowing(&["abcdefg"]);
        assert_eq!(r.redact("abc"), "abc");
        assert!(!r.quotes_secret("abc"));
    }

    #[test]
    fn the_quote_closing_a_json_string_survives_redaction() {
        let r = knowing(&["correct-horse"]);
        assert_eq!(
            r.redact(r#"{"p":"correct-horse"}"#),
            r#"{"p":"[REDACTED]"}"#
        );
    }

    #[test]
    fn non_ascii_characters_escaped_as_backslash_u_are_redacted() {
        let r = knowing(&["é1é2é3é4"]);
        assert_eq!(
            r.redact(r"x \u00e91\u00e92\u00e93\u00e94 y"),
            "x [REDACTED] y"
        );
        assert_eq!(
            r.redact(r"x \u00E91\u00E92\u00E93\u00E94 y"),
            "x [REDACTED] y"
        );
    }

    #[test]
    fn ascii_control_characters_escaped_as_backslash_u_are_redacted() {
        let r = knowing(&["tab\there-and-more"]);
        assert_eq!(r.redact(r"x tab\u0009here-and-more y"), "x [REDACTED] y");
        let r = knowing(&["ab\u{1f}cdefgh"]);
        assert_eq!(r.redact(r"x ab\u001Fcdefgh y"), "x [REDACTED] y");
        assert_eq!(r.redact(r"x ab\u001fcdefgh y"), "x [REDACTED] y");
    }

    #[test]
    fn percent_encoding_keeps_unreserved_characters_as_they_are() {
        let r = knowing(&["abc def ghi"]);
        assert_eq!(r.redact("q=abc%20def%20ghi&x=1"), "q=[REDACTED]&x=1");
        assert_eq!(r.redact("q=abc+def+ghi&x=1"), "q=[REDACTED]&x=1");
    }

    #[test]
    fn base64_of_a_secret_is_redacted_from_its_first_character() {
        let secret = "correcthorse"; // 12 bytes: 16 base64 characters, no padding
        let r = knowing(&[secret]);
        let encoded = STANDARD.encode(secret);
        assert_eq!(r.redact(&encoded), "[REDACTED]");
        assert_eq!(r.redact(&format!("{encoded} end")), "[REDACTED] end");
    }

    #[test]
    fn decoding_looks_two_levels_deep_and_no_further() {
        let secret = "correct-horse-battery";
        let r = knowing(&[secret]);
        let b64 = |s: &str| STANDARD.encode(s);
        assert!(r.quotes_secret(&b64(&b64(secret))));
        assert!(!r.quotes_secret(&b64(&b64(&b64(secret)))));
        let pct = |s: &str| s.bytes().map(|b| format!("%{b:02X}")).collect::<String>();
        assert!(r.quotes_secret(&pct(&pct(secret))));
        assert!(!r.quotes_secret(&pct(&pct(&pct(secret)))));
    }

    #[test]
    fn undecodable_escapes_do_not_decode_forever() {
        let r = knowing(&["correct-horse-battery"]);
        for text in ["%", "100%", r"\u", r"a \uZZZZ", "%zz \\u12"] {
            assert!(!r.quotes_secret(text), "{text:?}");
        }
    }

    #[test]
    fn json_unescape_decodes_backslash_u_escapes() {
        assert_eq!(json_unescape(br"\u0041").as_deref(), Some(&b"A"[..]));
        assert_eq!(json_unescape(br"x\u0041yz").as_deref(), Some(&b"xAyz"[..]));
        assert_eq!(
            json_unescape(br"\u00e9xy").as_deref(),
            Some("éxy".as_bytes())
        );
        assert_eq!(json_unescape(br"\u0041\u0042").as_deref(), Some(&b"AB"[..]));
        // A `\u` without four hex digits stays as it is.
        assert_eq!(json_unescape(br"\u00").as_deref(), Some(&br"\u00"[..]));
    }

    #[test]
    fn json_unescape_handles_a_backslash_at_either_end() {
        assert_eq!(json_unescape(br"\n").as_deref(), Some(&b"\n"[..]));
        assert_eq!(json_unescape(br"\/ab").as_deref(), Some(&b"/ab"[..]));
        assert_eq!(json_unescape(br"ab\").as_deref(), Some(&br"ab\"[..]));
        assert_eq!(json_unescape(br"\").as_deref(), Some(&br"\"[..]));
        assert_eq!(json_unescape(b"plain"), None);
    }

    #[test]
    fn json_unescape_joins_surrogate_pairs() {
        assert_eq!(
            unescape_in_time(r"\ud83d\ude00").as_deref(),
            Some("😀".as_bytes())
        );
        assert_eq!(
            unescape_in_time(r"ab\uD83D\uDE00cd").as_deref(),
            Some("ab😀cd".as_bytes())
        );
    }

    #[test]
    fn json_unescape_pairs_only_a_high_surrogate_with_a_following_escape() {
        // A unit that is not a high surrogate never takes the next escape or digits with it.
        assert_eq!(
            json_unescape(br"\u0041ab1234").as_deref(),
            Some(&b"Aab1234"[..])
        );
        // A lone high surrogate becomes U+FFFD; the text after it is kept.
        assert_eq!(
            json_unescape(br"\ud83dab1234").as_deref(),
            Some("\u{fffd}ab1234".as_bytes())
        );
    }

    #[test]
    fn percent_decode_undoes_plus_and_percent_and_skips_text_with_neither() {
        assert_eq!(percent_decode(b"a+b").as_deref(), Some(&b"a b"[..]));
        assert_eq!(percent_decode(b"a%41").as_deref(), Some(&b"aA"[..]));
        assert_eq!(percent_decode(b"50%").as_deref(), Some(&b"50%"[..]));
        assert_eq!(percent_decode(b"plain"), None);
    }

    #[test]
    fn base64_runs_shorter_than_twelve_characters_are_not_decoded() {
        assert_eq!(base64_runs(b"0123456789 abcdefgh").count(), 0);
        assert_eq!(base64_runs(b"0123456789ab").count(), 4);
        assert_eq!(base64_runs(b"x 0123456789ab").count(), 4);
    }
}
