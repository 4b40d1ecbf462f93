//! Text this program did not write, made safe to print: Tenable's messages, ids, names and
//! request ids, and the payload's `user`.
//!
//! The job log in the vault shows stdout and stderr as they are, so a string from outside
//! could forge a line (a newline and "changed the password"), hide text (ESC sequences,
//! U+202E), flood the log (a 1 MB id) or carry a secret. Every such string goes through
//! [`field`] where it enters a message, and every line we print goes through [`line()`]:
//! - control characters (C0, DEL, C1), bidirectional controls and line separators are
//!   escaped as `\u{..}` (`\n`, `\r`, `\t` as themselves), so one line stays one line;
//! - each field is cut to [`FIELD_MAX_CHARS`], each line to [`LINE_MAX_BYTES`];
//! - secrets are removed by the [`Redactor`], and a line that still quotes one in some
//!   encoding is withheld whole, keeping only what we wrote ourselves.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::secret::Redactor;

/// Longest field from outside that a message shows, in characters.
pub const FIELD_MAX_CHARS: usize = 200;

/// Longest line printed, in bytes.
pub const LINE_MAX_BYTES: usize = 3000;

/// Whether `c` must not be printed raw: it could end a line, move the cursor, or reorder
/// what a reader sees.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// `text` with every unsafe character escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One field from outside, ready to be put in a message: escaped, and cut to
/// [`FIELD_MAX_CHARS`] with the full length said.
pub fn field(text: &str) -> String {
    if is_plain(text) {
        return text.to_owned();
    }
    let escaped = escape(text);
    let count = escaped.chars().count();
    if count <= FIELD_MAX_CHARS {
        return escaped;
    }
    let kept: String = escaped.chars().take(FIELD_MAX_CHARS).collect();
    format!("{kept}…(cut, {} bytes in all)", text.len())
}

/// [`field`] without a copy when `text` needs no change: short, printable ASCII (most ids,
/// names and addresses). `discover` prints some million such fields at 200 000 users.
pub fn field_cow(text: &str) -> Cow<'_, str> {
    if is_plain(text) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(field(text))
    }
}

/// Whether [`field`] leaves `text` as it is: short, printable ASCII.
fn is_plain(text: &str) -> bool {
    text.len() <= FIELD_MAX_CHARS
        && !any_byte(text.as_bytes(), |w| {
            bytes_below(w, 0x20) | (w & HIGH) | bytes_equal(w, 0x7f)
        })
}

/// 0x01 in every byte of a word.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte of a word.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is `byte`. Exact where it matters to
/// [`any_byte`]: no bit is set unless some byte is `byte` (a borrow may set bits above a
/// byte that is, as SWAR tests do).
#[inline(always)]
pub(crate) fn bytes_equal(w: u64, byte: u8) -> u64 {
    let x = w ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGH
}

/// The high bit of each byte of `w` below `n` (at most 0x80); as exact as [`bytes_equal`].
#[inline(always)]
pub(crate) fn bytes_below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// The high bit of each byte of `w` that a JSON string cannot hold as it is (a quote, a
/// backslash, a control character); as exact as [`bytes_equal`].
#[inline(always)]
pub(crate) fn json_special(w: u64) -> u64 {
    bytes_equal(w, b'"') | bytes_equal(w, b'\\') | bytes_below(w, 0x20)
}

/// Whether `pick` finds a byte of `bytes`, which are read eight at a time into words (the
/// last word overlapping the one before). `pick` is given a word and returns a non-zero
/// value when one of its bytes is marked ([`bytes_equal`], [`bytes_below`]).
///
/// For the short texts of a listing (ids, names, addresses): a byte-at-a-time fold, even
/// vectorized, took most of them byte by byte, and `discover` looks at some million such
/// texts at 200 000 users (issue 13). A text under eight bytes is read as one word of its
/// bytes repeated, so no byte is made up and none is copied through memory.
#[inline(always)]
pub(crate) fn any_byte(bytes: &[u8], pick: impl Fn(u64) -> u64) -> bool {
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let len = bytes.len();
    let marked = match len {
        0 => 0,
        1..4 => {
            let (first, middle, last) = (bytes[0], bytes[len / 2], bytes[len - 1]);
            pick(u64::from_le_bytes([
                first, middle, last, first, first, first, first, first,
            ]))
        }
        4..8 => {
            let mut w = [0; 8];
            w[..4].copy_from_slice(&bytes[..4]);
            w[4..].copy_from_slice(&bytes[len - 4..]);
            pick(u64::from_le_bytes(w))
        }
        // The words at 0, 8, 16, ... before the last eight bytes, and the last eight.
        _ => (0..len - 8)
            .step_by(8)
            .fold(pick(word(len - 8)), |marked, at| marked | pick(word(at))),
    };
    marked != 0
}

/// A list of fields from outside, at most `max` of them shown, then how many more.
pub fn list(items: impl IntoIterator<Item = String>, max: usize) -> String {
    let mut shown = Vec::new();
    let mut more = 0usize;
    for item in items {
        if shown.len() < max {
            shown.push(item);
        } else {
            more += 1;
        }
    }
    let mut out = shown.join(", ");
    if more > 0 {
        let _ = write!(out, " and {more} more");
    }
    out
}

/// A request id as Tenable sends it (32 hex digits, or a UUID), else `None`: an answer
/// header is shown only when it looks like what it claims to be.
pub fn request_id(value: &str) -> Option<String> {
    let v = value.trim();
    let ok = (8..=64).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    ok.then(|| v.to_owned())
}

/// One line for stdout or stderr: unsafe characters escaped, secrets redacted, length
/// capped. If the line still quotes a secret in some encoding, `fallback` (text we wrote, that
/// says the same outcome) is printed instead. The check runs on the escaped text, so what is
/// checked is exactly what is printed (escaping adds letters that could complete an encoding).
pub fn line(text: &str, redactor: &Redactor, fallback: &str) -> String {
    let redacted = redactor.redact(&escape(text));
    let mut out = if redactor.quotes_secret(&redacted) {
        escape(&format!(
            "{fallback} (the full message was withheld because it quoted a secret)"
        ))
    } else {
        redacted
    };
    if out.len() > LINE_MAX_BYTES {
        let mut cut = LINE_MAX_BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("…(cut)");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_byte_finds_a_marked_byte_at_every_position_of_every_length() {
        let pick = |w: u64| bytes_below(w, 0x20) | bytes_equal(w, b'"');
        for len in 0..50 {
            for at in 0..len {
                for marked in [b'"', b'\n', 0, 0x1f] {
                    let mut text = vec![b'a'; len];
                    text[at] = marked;
                    assert!(any_byte(&text, pick), "{len} {at} {marked}");
                    // Marked bytes after it change nothing.
                    text[at + 1..].fill(b'"');
                    assert!(any_byte(&text, pick), "{len} {at} {marked}");
                    text.fill(b'a');
                    text[at] = [b' ', b'!', b'#', 0x20][usize::from(marked) % 4];
                    assert!(!any_byte(&text, pick), "{len} {at}");
                }
            }
        }
        // Random bytes, against the byte-at-a-time answer.
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let text: Vec<u8> = (0..rng.usize(..40)).map(|_| rng.u8(..)).collect();
            let expected = text.iter().any(|&b| b < 0x20 || b == b'"');
            assert_eq!(any_byte(&text, pick), expected, "{text:?}");
        }
    }

    #[test]
    fn field_cow_is_field_and_borrows_only_what_field_keeps() {
        let long = "x".repeat(FIELD_MAX_CHARS + 1);
        let exact = "y".repeat(FIELD_MAX_CHARS);
        for text in [
            "alice@example.com",
            "",
            " ~!",
            "tab\there",
            "new\nline",
            "\u{7f}",
            "caf\u{e9}",
            "\u{202e}evil",
            &long,
            &exact,
        ] {
            let cow = field_cow(text);
            assert_eq!(cow, field(text), "{text:?}");
            let plain =
                text.len() <= FIELD_MAX_CHARS && text.bytes().all(|b| (0x20..0x7f).contains(&b));
            assert_eq!(matches!(cow, Cow::Borrowed(_)), plain, "{text:?}");
        }
    }
    use crate::secret::Secret;

    #[test]
    fn escapes_what_could_forge_or_hide_a_line() {
        assert_eq!(
            escape("a\nb\rc\td\u{1b}[31m\u{202e}e\u{85}"),
            "a\\nb\\rc\\td\\u{1b}[31m\\u{202e}e\\u{85}"
        );
        assert_eq!(escape("Ünïcødé names stay"), "Ünïcødé names stay");
    }

    #[test]
    fn fields_are_capped_and_say_their_length() {
        let long = "x".repeat(1_000_000);
        let shown = field(&long);
        assert!(shown.len() < FIELD_MAX_CHARS + 40, "{}", shown.len());
        assert!(shown.ends_with("…(cut, 1000000 bytes in all)"), "{shown}");
        assert_eq!(field("short"), "short");
    }

    #[test]
    fn lists_say_how_many_were_left_out() {
        let items = (0..300).map(|i| i.to_string());
        assert_eq!(list(items, 3), "0, 1, 2 and 297 more");
    }

    #[test]
    fn request_ids_are_shown_only_in_their_shape() {
        assert_eq!(
            request_id("5b356da3d212b6cdb16e12eaaecfbf00").as_deref(),
            Some("5b356da3d212b6cdb16e12eaaecfbf00")
        );
        assert_eq!(request_id("accessKey=abc; secretKey=def;"), None);
        assert_eq!(request_id("short"), None);
        assert_eq!(request_id(&"a".repeat(65)), None);
    }

    #[test]
    fn a_line_that_still_quotes_a_secret_is_replaced_by_the_fallback() {
        // No 8 bytes in a row of this password survive JSON escaping, so no form matches
        // base64 of the escaped body; only decoding (base64, then JSON) finds it.
        let mut r = Redactor::default();
        r.add(&Secret::from("Kp\"7\\mZ/é%+q9"));
        let body = r#"{"password":"Kp\"7\\mZ\/\u00e9%+q9"}"#;
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, body);
        let shown = line(
            &format!("server said: {b64}"),
            &r,
            "Tenable rejected the change",
        );
        assert!(
            shown.starts_with("Tenable rejected the change (the full message was withheld"),
            "{shown}"
        );
        assert_eq!(line("all fine", &r, "x"), "all fine");
    }

    #[test]
    fn lines_are_capped() {
        let r = Redactor::default();
        let shown = line(&"é".repeat(10_000), &r, "x");
        assert!(shown.len() <= LINE_MAX_BYTES + 10);
    }

    #[test]
    fn a_list_that_fits_says_nothing_was_left_out() {
        let items = || ["a", "b", "c"].map(String::from);
        assert_eq!(list(items(), 3), "a, b, c");
        assert_eq!(list(items(), 2), "a, b and 1 more");
        assert_eq!(list(Vec::new(), 3), "");
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_printed_whole() {
        let r = Redactor::default();
        let exact = "x".repeat(LINE_MAX_BYTES);
        assert_eq!(line(&exact, &r, "x"), exact);
        let over = "x".repeat(LINE_MAX_BYTES + 1);
        assert_eq!(
            line(&over, &r, "x"),
            format!("{}…(cut)", "x".repeat(LINE_MAX_BYTES))
        );
    }

    #[test]
    fn a_line_is_cut_before_a_character_that_straddles_the_cap() {
        let r = Redactor::default();
        // One ASCII byte, then two-byte characters: the cap falls inside one of them.
        let text = format!("a{}", "é".repeat(2000));
        let shown = line(&text, &r, "x");
        assert_eq!(shown, format!("a{}…(cut)", "é".repeat(1499)));
        assert_eq!(shown.len(), LINE_MAX_BYTES - 1 + "…(cut)".len());
    }
}
