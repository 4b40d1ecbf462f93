//! Reads a *plain* JSON object without serde: one whose members are all strings without an
//! escape, `true`, `false`, `null` or small non-negative integers, as every TVM user object
//! is. It is the fast path for the 200 000 users of a large `discover` (issue 13), where
//! serde_json's visitors were most of the time spent reading the list.
//!
//! It decides nothing on its own: on anything else (an escape, a negative, fractional or long
//! number, a nested value, a control character, text after the object, anything malformed)
//! it answers `false` and the caller parses the text with serde_json, which stays the
//! authority on what is valid JSON. What it accepts, serde_json accepts and reads the same
//! way; the unit tests and the `answers` fuzz target hold the two equal.
//!
//! An object of up to [`INDEXED_MAX`] bytes with no backslash and no byte below 0x20 (every
//! compact TVM user) has its quotes found 16 bytes at a time first (SIMD compares, as the
//! list cutter does): with no escape, quotes alternate between opening and closing a string,
//! so no string is looked through byte by byte. Any other object is read a byte at a time,
//! each string eight bytes at a time. An object can also be read where it starts in the text
//! of a list, before the list is cut ([`read_object_prefix`]): its quotes are then found 64
//! bytes at a time as the reading needs them, and the reading says where the object ends.

use std::borrow::Cow;

use serde_json::Number;
use wide::u8x16;

use super::lenient::Scalar;

/// The longest object whose quotes are found at once (a TVM user is about 370 bytes).
pub(crate) const INDEXED_MAX: usize = 1024;

/// A member's value as read plainly: a string, made a `&str` only for a caller that keeps it
/// (issue 13: slicing every name and value of 200 000 users as text, each end checked for a
/// character boundary, was 60 of the 791 million instructions reading them), or a literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    /// A string without an escape: its text is `text[start..end]`.
    Str {
        text: &'a str,
        start: usize,
        end: usize,
    },
    /// `true`, `false`, a number, or `null` (`None`).
    Literal(Option<Scalar<'static>>),
}

impl<'a> Value<'a> {
    /// The value as serde_json reads it into an `Option<Scalar>`: `None` for `null`.
    #[inline(always)]
    pub(crate) fn scalar(self) -> Option<Scalar<'a>> {
        match self {
            Value::Str { text, start, end } => Some(Scalar::Str(Cow::Borrowed(&text[start..end]))),
            Value::Literal(v) => v,
        }
    }
}

/// What is called with each member read: its name's bytes (a plain string's, so whole UTF-8)
/// and its value; `false` stops the reading.
pub(crate) trait Member<'a>: FnMut(&'a [u8], Value<'a>) -> bool {}
impl<'a, F: FnMut(&'a [u8], Value<'a>) -> bool> Member<'a> for F {}

/// Calls `each(key, value)` for every member of `text`, in order, when `text` is one plain
/// object (JSON whitespace around it allowed). Returns `false` when `text` is not plain or
/// `each` returned `false`; the caller then parses `text` another way, as some members may
/// have been handed over already.
pub(crate) fn for_each_member<'a>(
    text: &'a str,
    each: &mut dyn FnMut(&'a [u8], Value<'a>) -> bool,
) -> bool {
    let end = match QuoteIndex::of(text.as_bytes()) {
        Some(index) => walk(text, &mut { each }, index),
        None => walk(text, &mut { each }, ByteScan),
    };
    end.is_some_and(|end| skip_space(text.as_bytes(), end) == text.len())
}

/// Reads the plain object at the very start of `text`, which may run on past it (the rest of
/// a list answer), calling `each` as [`for_each_member`] does; returns its length. `None`
/// when what starts `text` is not a plain object whole within it, or `each` returned `false`:
/// the caller then cuts the item and reads it another way (some members may have been
/// handed over already).
///
/// Its quotes are found 64 bytes at a time as the reading needs them, so nothing past the
/// object's last string is looked at more than once (issue 13: a list's items were each
/// looked at twice, to cut them and then to find their quotes). A backslash or a control
/// character inside a string stops the reading (the first one is always seen where it is:
/// until then, quotes alternate).
// Inlined, with `walk`, into the caller and its `each`, whatever the compiler's partition of
// the crate: left out of line (as it was after unrelated changes elsewhere), `discover`'s list
// reader took 22 million more instructions for 200 000 users, 3% more time on one core.
#[inline(always)]
pub(crate) fn read_object_prefix<'a>(text: &'a str, each: &mut impl Member<'a>) -> Option<usize> {
    if text.as_bytes().first() != Some(&b'{') {
        return None;
    }
    walk(text, each, QuoteStream::new(text.as_bytes()))
}

/// How [`walk`] reads a string.
trait Strings {
    /// Where the text of the string that opens at `at` ends (its closing quote), or `None`
    /// when no string opens there or it is not plain.
    fn string(&mut self, text: &str, at: usize) -> Option<usize>;
}

/// Reads the members of the object that starts `text` (after any whitespace), its strings
/// read by `strings`; the position after its closing brace.
#[inline(always)]
fn walk<'a>(text: &'a str, each: &mut impl Member<'a>, mut strings: impl Strings) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    if bytes.get(at) == Some(&b'}') {
        return Some(at + 1);
    }
    loop {
        let key_end = strings.string(text, at)?;
        let key = bytes.get(at + 1..key_end)?;
        // Compact JSON (every TVM answer): the colon follows the name, and the value the
        // colon; whitespace is looked for only where the expected byte is not.
        at = if bytes.get(key_end + 1) == Some(&b':') {
            key_end + 2
        } else {
            let colon = skip_space(bytes, key_end + 1);
            if bytes.get(colon) != Some(&b':') {
                return None;
            }
            colon + 1
        };
        let mut first = *bytes.get(at)?;
        if first <= b' ' {
            at = skip_space(bytes, at);
            first = *bytes.get(at)?;
        }
        let (value, after_value) = match first {
            b'"' => {
                let end = strings.string(text, at)?;
                let value = Value::Str {
                    text,
                    start: at + 1,
                    end,
                };
                (value, end + 1)
            }
            _ => literal_at(bytes, at).map(|(v, end)| (Value::Literal(v), end))?,
        };
        if !each(key, value) {
            return None;
        }
        at = after_value;
        let mut next = *bytes.get(at)?;
        if next <= b' ' {
            at = skip_space(bytes, at);
            next = *bytes.get(at)?;
        }
        match next {
            b',' => at = skip_space(bytes, at + 1),
            b'}' => return Some(at + 1),
            _ => return None,
        }
    }
}

/// The first position at or after `at` that is not JSON whitespace.
#[inline(always)]
fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    // Compact JSON (every TVM answer) has none: one test for the byte being past a space.
    if bytes.get(at).is_some_and(|&b| b > b' ') {
        return at;
    }
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(at) {
        at += 1;
    }
    at
}

/// The quotes of an object, one bit per byte, 64 bytes to a word, read in order.
struct QuoteIndex {
    words: [u64; INDEXED_MAX / 64],
    /// The word being read, and its quotes not yet read.
    word: usize,
    bits: u64,
}

impl QuoteIndex {
    /// The quotes of `bytes`, when it is at most [`INDEXED_MAX`] long and holds no backslash
    /// and no byte below 0x20 (then no string in it has an escape or a byte serde_json
    /// refuses, and its only whitespace is the space).
    fn of(bytes: &[u8]) -> Option<QuoteIndex> {
        if bytes.len() > INDEXED_MAX {
            return None;
        }
        let mut words = [0u64; INDEXED_MAX / 64];
        let mut refused = 0;
        let mut mark = |i: usize, lanes: [u8; 16]| {
            let lanes = u8x16::new(lanes);
            let below_space = lanes.min(u8x16::splat(0x1f)).cmp_eq(lanes);
            refused |= (below_space | lanes.cmp_eq(u8x16::splat(b'\\'))).move_mask();
            // 16 lanes: move_mask sets bits 0 to 15 only.
            let quotes = lanes.cmp_eq(u8x16::splat(b'"')).move_mask() as u64;
            words[i / 4] |= quotes << (16 * (i % 4));
        };
        let mut chunks = bytes.chunks_exact(16);
        let mut i = 0;
        for chunk in &mut chunks {
            mark(i, chunk.try_into().expect("16 bytes"));
            i += 1;
        }
        // The last bytes are padded with spaces, which are neither quotes nor refused. There
        // are none when the length is a multiple of 16 (and no word for them at the limit).
        let tail = chunks.remainder();
        if !tail.is_empty() {
            let mut lanes = [b' '; 16];
            lanes[..tail.len()].copy_from_slice(tail);
            mark(i, lanes);
        }
        (refused == 0).then_some(QuoteIndex {
            bits: words[0],
            words,
            word: 0,
        })
    }
}

/// Quotes found ahead of the reading ([`QuoteIndex`], [`QuoteStream`]), in order.
trait Quotes {
    /// The position of the next quote, or `None`.
    fn next_quote(&mut self) -> Option<usize>;
}

impl Quotes for QuoteIndex {
    #[inline(always)]
    fn next_quote(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.word += 1;
            self.bits = *self.words.get(self.word)?;
        }
        let bit = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.word * 64 + bit)
    }
}

impl<Q: Quotes> Strings for Q {
    // Inlined, as `literal_at` and `next`: an answer returned through memory and read back
    // at once stalled the reader (store forwarding) on every member.
    #[inline(always)]
    fn string(&mut self, _text: &str, at: usize) -> Option<usize> {
        // With no escape in `text`, quotes alternate: the next one after an opening quote
        // closes its string. A quote that is not next is not at `at`.
        if self.next_quote()? != at {
            return None;
        }
        self.next_quote()
    }
}

/// The quotes of a text found 64 bytes at a time as they are needed ([`read_object_prefix`]).
struct QuoteStream<'t> {
    bytes: &'t [u8],
    /// Where the word in `bits` starts, and where the next one does.
    base: usize,
    next_word: usize,
    /// The quotes of the word not yet read.
    bits: u64,
    /// All ones when the text is inside a string where the word before ended.
    inside: u64,
}

impl<'t> QuoteStream<'t> {
    fn new(bytes: &'t [u8]) -> QuoteStream<'t> {
        QuoteStream {
            bytes,
            base: 0,
            next_word: 0,
            bits: 0,
            inside: 0,
        }
    }

    /// Finds the quotes of the next 64 bytes (past the end, spaces).
    fn index_word(&mut self) -> Option<()> {
        let start = self.next_word;
        let rest = self.bytes.get(start..).filter(|r| !r.is_empty())?;
        let mut padded = [b' '; 64];
        let word: &[u8; 64] = match rest.first_chunk::<64>() {
            Some(word) => word,
            None => {
                padded[..rest.len()].copy_from_slice(rest);
                &padded
            }
        };
        let mut quotes = 0u64;
        let mut refused = 0u64;
        for (i, lanes) in word.chunks_exact(16).enumerate() {
            let lanes = u8x16::new(lanes.try_into().expect("16 bytes"));
            // 16 lanes: move_mask sets bits 0 to 15 only.
            let bits = |m: u8x16| (m.move_mask() as u64) << (16 * i);
            quotes |= bits(lanes.cmp_eq(u8x16::splat(b'"')));
            let below_space = lanes.min(u8x16::splat(0x1f)).cmp_eq(lanes);
            refused |= bits(below_space | lanes.cmp_eq(u8x16::splat(b'\\')));
        }
        // Bit i: byte i is inside a string (an opening quote inside, a closing one outside).
        let inside = crate::transport::items::prefix_xor(quotes) ^ self.inside;
        if refused & inside != 0 {
            return None;
        }
        self.inside = 0u64.wrapping_sub(inside >> 63);
        self.base = start;
        self.next_word = start + 64;
        self.bits = quotes;
        Some(())
    }
}

impl Quotes for QuoteStream<'_> {
    /// `None` past the end of the text, or when a backslash or a control character is inside
    /// a string before the next quote.
    #[inline(always)]
    fn next_quote(&mut self) -> Option<usize> {
        while self.bits == 0 {
            self.index_word()?;
        }
        let bit = self.bits.trailing_zeros() as usize;
        self.bits &= self.bits - 1;
        Some(self.base + bit)
    }
}

/// Reads each string byte by byte (eight at a time).
struct ByteScan;

impl Strings for ByteScan {
    /// The string that opens at `at` ends at its first quote, when it has no escape and no
    /// control character (serde_json refuses those unescaped).
    fn string(&mut self, text: &str, at: usize) -> Option<usize> {
        let bytes = text.as_bytes();
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let end = at + 1 + string_stop(bytes.get(at + 1..)?)?;
        (bytes[end] == b'"').then_some(end)
    }
}

/// Where the first `"`, `\` or control character of `bytes` is, looked for eight bytes at a
/// time (as serde_json does): a byte-at-a-time search was a third of reading 200 000 users.
fn string_stop(bytes: &[u8]) -> Option<usize> {
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // A byte's high bit is set in `found` if the byte is a quote, a backslash or below
        // 0x20 (and may be set in bytes after such a byte, by the borrow: only the lowest
        // set one is read).
        let found = crate::untrusted::json_special(w);
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// The literal (not a string) that starts at `at` (`None` inside for `null`), and the
/// position after it.
#[inline(always)]
fn literal_at(bytes: &[u8], at: usize) -> Option<(Option<Scalar<'static>>, usize)> {
    let word = |w: &[u8]| bytes.get(at..at + w.len()) == Some(w);
    match bytes.get(at)? {
        b't' if word(b"true") => Some((Some(Scalar::Bool(true)), at + 4)),
        b'f' if word(b"false") => Some((Some(Scalar::Bool(false)), at + 5)),
        b'n' if word(b"null") => Some((None, at + 4)),
        b'0'..=b'9' => {
            let mut n = 0u64;
            let mut end = at;
            while let Some(&digit @ b'0'..=b'9') = bytes.get(end) {
                // 18 digits fit a u64; a longer number is serde_json's to read.
                if end - at == 18 {
                    return None;
                }
                n = n * 10 + u64::from(digit - b'0');
                end += 1;
            }
            // A leading zero is valid only alone; a fraction or an exponent is serde_json's.
            if (bytes[at] == b'0' && end - at > 1)
                || matches!(bytes.get(end), Some(b'.' | b'e' | b'E'))
            {
                return None;
            }
            Some((Some(Scalar::Num(Number::from(n))), end))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Members as read: names and values.
    type Members<'a> = Vec<(&'a str, Option<Scalar<'a>>)>;

    /// A name read plainly, as text: always whole UTF-8 (a slice of the text between quotes).
    fn name(k: &[u8]) -> &str {
        std::str::from_utf8(k).expect("a name read plainly is UTF-8")
    }

    /// The members read the plain way, or `None`.
    fn members(text: &str) -> Option<Members<'_>> {
        let mut out = Vec::new();
        for_each_member(text, &mut |k, v| {
            out.push((name(k), v.scalar()));
            true
        })
        .then_some(out)
    }

    fn owned(v: Scalar<'_>) -> Scalar<'static> {
        match v {
            Scalar::Str(s) => Scalar::Str(Cow::Owned(s.into_owned())),
            Scalar::Num(n) => Scalar::Num(n),
            Scalar::Bool(b) => Scalar::Bool(b),
            Scalar::Other => Scalar::Other,
        }
    }

    /// The members as serde_json reads them (a null as `None`, as `Option<Scalar>` reads it).
    fn serde_members(text: &str) -> Option<Vec<(String, Option<Scalar<'static>>)>> {
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).ok()?;
        Some(
            map.into_iter()
                .map(|(k, v)| {
                    let s = match &v {
                        serde_json::Value::Null => None,
                        other => Some(owned(Scalar::of(other))),
                    };
                    (k, s)
                })
                .collect(),
        )
    }

    /// What the plain reader accepts, serde_json accepts with the same members.
    fn agrees(text: &str) -> bool {
        let Some(plain) = members(text) else {
            return false;
        };
        let mut serde = serde_members(text).unwrap_or_else(|| panic!("serde refused {text:?}"));
        serde.sort_by(|a, b| a.0.cmp(&b.0));
        // serde_json's map keeps the last of a repeated key; these tests repeat none.
        let plain: Vec<(String, Option<Scalar<'static>>)> = plain
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.map(owned)))
            .collect();
        let mut sorted = plain.clone();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(sorted, serde, "{text:?}");
        true
    }

    #[test]
    fn a_tenable_user_object_is_read_plainly_and_as_serde_reads_it() {
        let user = r#"{"id":100001,"uuid":"000005e4-0000-4000-8186-0000000186a1","username":"user1@example.com","email":"user1@example.com","name":"","type":"local","permissions":32,"enabled":true,"login_fail_count":0,"lastlogin":1700000000000,"x":null}"#;
        assert!(agrees(user));
        assert!(agrees(" {\n\t\"a\" : \"é ü\" ,\r\"b\":false } \n"));
        assert!(agrees("{}"));
        assert!(agrees(" { } "));
        assert!(agrees(r#"{"n":0,"m":999999999999999999}"#));
    }

    #[test]
    fn anything_not_plain_is_left_to_serde() {
        let not_plain = [
            // Valid JSON, but serde_json's to read.
            r#"{"a":"b\"c"}"#,
            r#"{"a\u0062":1}"#,
            r#"{"a":-1}"#,
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":1E3}"#,
            r#"{"a":1000000000000000000}"#,
            r#"{"a":[1]}"#,
            r#"{"a":{}}"#,
            "[1,2]",
            r#""text""#,
            "1",
            // Not JSON at all.
            "",
            "{",
            "}",
            r#"{"a"}"#,
            r#"{"a":}"#,
            r#"{"a":1,}"#,
            r#"{,"a":1}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a":01}"#,
            r#"{"a":1}x"#,
            r#"{"a":1}{}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            r#"{"a":nul}"#,
            // Words of the right length and first letter (a mutation run found these untested).
            r#"{"a":trve}"#,
            r#"{"a":fa1se}"#,
            r#"{"a":nu11}"#,
            r#"{"a":fa1se,"b":1}"#,
            r#"{"a":nu11,"b":1}"#,
            r#"{"a":"unterminated}"#,
            "{\"a\":\"tab\tinside\"}",
            "{\"a\":\"line\nbreak\"}",
            "{\"a\":1}\u{a0}",
            "\u{feff}{}",
            r#"{a:1}"#,
            r#"{'a':1}"#,
            r#"{"a":1,"b":}"#,
            r#"{"a":+1}"#,
            r#"{"a":.5}"#,
            r#"{"a":1.}"#,
        ];
        for text in not_plain {
            assert!(members(text).is_none(), "{text:?} read plainly");
        }
    }

    #[test]
    fn a_string_stops_at_its_first_quote_backslash_or_control_character() {
        let plain = |b: u8| b != b'"' && b != b'\\' && b >= 0x20;
        // Every stop byte at every position of strings of up to 20 bytes, over every
        // filler byte (0x80 and above included, where the high bit is already set).
        for len in 0..20 {
            for stop_at in 0..=len {
                for stop in (0..=255u8).filter(|&b| !plain(b)) {
                    for fill in [b'a', b'~', 0x7f, 0x80, 0xc3, 0xff, b' ', b'!', b'#', b']'] {
                        let mut bytes = vec![fill; len];
                        if stop_at < len {
                            bytes[stop_at] = stop;
                        }
                        let want = bytes.iter().position(|&b| !plain(b));
                        assert_eq!(string_stop(&bytes), want, "{bytes:?}");
                    }
                }
            }
        }
        // A later stop byte does not hide an earlier one.
        assert_eq!(string_stop(b"ab\"cd\\ef\x01gh"), Some(2));
        assert_eq!(string_stop(b"\x1f\""), Some(0));
    }

    /// The members read with every string read byte by byte.
    fn scanned(text: &str) -> Option<Vec<(&str, Option<Scalar<'_>>)>> {
        let mut out = Vec::new();
        walk(
            text,
            &mut |k, v| {
                out.push((name(k), v.scalar()));
                true
            },
            ByteScan,
        )
        .is_some_and(|end| skip_space(text.as_bytes(), end) == text.len())
        .then_some(out)
    }

    /// The members and length of the object read from the start of `text` by
    /// [`read_object_prefix`].
    fn prefix(text: &str) -> Option<(Members<'_>, usize)> {
        let mut out = Vec::new();
        let len = read_object_prefix(text, &mut |k, v| {
            out.push((name(k), v.scalar()));
            true
        })?;
        Some((out, len))
    }

    #[test]
    fn quotes_found_at_once_read_as_strings_read_byte_by_byte() {
        let mut rng = fastrand::Rng::with_seed(64);
        let pieces = [
            "\"", "\"k\"", ":", ",", "{", "}", " ", "1", "true", "é", "x", "null", "\\", "\t",
        ];
        let mut indexed = 0;
        let mut prefixed = 0;
        for _ in 0..20_000 {
            // Members long enough that quotes fall on every position of a 16-byte chunk and
            // a 64-bit word.
            let parts: Vec<String> = (0..rng.usize(0..12))
                .map(|i| {
                    let pad = "a".repeat(rng.usize(0..70));
                    match rng.u8(..) {
                        0..=200 => format!("\"k{i}{pad}\":\"{pad}\""),
                        201..=235 => format!("\"k{i}\":{}", rng.u32(..)),
                        // Valid JSON whose quotes still alternate, but not plain: an escaped
                        // backslash, a raw control character (which serde_json refuses).
                        236..=240 => format!("\"k{i}\":\"{pad}\\\\\""),
                        241..=243 => format!("\"k{i}\":\"{pad}\t\""),
                        _ => (0..rng.usize(1..4))
                            .map(|_| *rng.choice(&pieces).unwrap())
                            .collect(),
                    }
                })
                .collect();
            let text = format!("{{{}}}", parts.join(","));
            if QuoteIndex::of(text.as_bytes()).is_some() {
                indexed += 1;
            }
            assert_eq!(members(&text), scanned(&text), "{text}");
            if members(&text).is_some() {
                assert!(agrees(&text));
            }
            // Read from the start of a list's text: what is read is one whole plain object,
            // read as it is alone; a plain object is read whole when what follows it is
            // plain too.
            let next = match rng.u8(..) {
                0..=150 => format!(",{{\"k\":\"{}\"}}]", "n".repeat(rng.usize(0..80))),
                151..=200 => format!(",{{\"k\":\"\\u0041{}\"}}]", "n".repeat(rng.usize(0..80))),
                _ => (0..rng.usize(0..4))
                    .map(|_| *rng.choice(&pieces).unwrap())
                    .collect(),
            };
            let listed = format!("{text}{next}");
            match prefix(&listed) {
                Some((read, len)) => {
                    prefixed += 1;
                    assert_eq!(members(&listed[..len]), Some(read), "{listed}");
                    assert!(agrees(&listed[..len]), "{listed}");
                }
                None => assert!(
                    members(&text).is_none() || !next.starts_with(",{\"k\":\"n"),
                    "{listed}"
                ),
            }
        }
        assert!(indexed > 10_000, "only {indexed} indexed");
        assert!(prefixed > 10_000, "only {prefixed} read from a list");
        // Longer than the index holds, or with a byte it refuses: read byte by byte.
        let long = format!("{{\"a\":\"{}\"}}", "b".repeat(INDEXED_MAX));
        assert!(QuoteIndex::of(long.as_bytes()).is_none());
        assert!(agrees(&long));
        assert!(QuoteIndex::of(b"{\"a\":\n1}").is_none());
        assert!(agrees("{\"a\":\n1}"));
        assert!(QuoteIndex::of(br#"{"a":"\u0041"}"#).is_none());
    }

    #[test]
    fn objects_of_every_length_up_to_the_index_limit_and_past_it_are_read() {
        // Every length from 2 to past the limit, so the last chunk is full, partial or absent
        // and the object ends on every position of a word, at the limit too.
        for len in 2..=INDEXED_MAX + 40 {
            let text = match len {
                2 => "{}".to_owned(),
                3..=8 => format!("{{{}}}", " ".repeat(len - 2)),
                _ => format!("{{\"a\":\"{}\"}}", "b".repeat(len - 8)),
            };
            assert_eq!(text.len(), len);
            assert_eq!(
                QuoteIndex::of(text.as_bytes()).is_some(),
                len <= INDEXED_MAX
            );
            assert!(agrees(&text), "{len}");
            assert_eq!(members(&text), scanned(&text), "{len}");
        }
    }

    #[test]
    fn the_callback_can_stop_the_read() {
        let mut seen = 0;
        let read = for_each_member(r#"{"a":1,"b":2,"c":3}"#, &mut |_, _| {
            seen += 1;
            seen < 2
        });
        assert!(!read);
        assert_eq!(seen, 2);
    }

    #[test]
    fn random_objects_are_read_as_serde_reads_them_or_left_to_it() {
        let atoms = [
            "fa1se",
            "nu11",
            "trve",
            "\"\"",
            "\"x\"",
            "\"é\"",
            "\"a\\\"b\"",
            "\"\\u0041\"",
            "0",
            "7",
            "-3",
            "12.5",
            "1e2",
            "007",
            "true",
            "false",
            "null",
            "[]",
            "{}",
            "[1,{\"a\":null}]",
            "tru",
            "\"",
            "18446744073709551615",
            "123456789012345678",
        ];
        let keys = [
            "\"id\"",
            "\"name\"",
            "\"\"",
            "\"k\\u0065y\"",
            "\"é\"",
            "id",
            "\"a\tb\"",
        ];
        let glue = ["", " ", "\n", "\t", "\r", "x", ",", ":"];
        let mut rng = fastrand::Rng::with_seed(13);
        let mut plain = 0;
        for _ in 0..20_000 {
            let mut text = String::from(*rng.choice(&["{", " {", "{ ", "[", ""]).unwrap());
            let members = rng.usize(0..5);
            let mut used = std::collections::HashSet::new();
            for m in 0..members {
                if m > 0 {
                    text.push_str(if rng.u8(..) < 250 { "," } else { ";" });
                }
                let key = *rng.choice(&keys).unwrap();
                if !used.insert(key) {
                    continue;
                }
                text.push_str(key);
                text.push_str(if rng.bool() { ":" } else { " : " });
                text.push_str(rng.choice(&atoms).unwrap());
                if rng.u8(..) < 10 {
                    text.push_str(rng.choice(&glue).unwrap());
                }
            }
            text.push_str(rng.choice(&["}", "} ", "}\n", "", "}}", "},"]).unwrap());
            // Refused here means left to serde_json, whatever it then decides.
            if agrees(&text) {
                plain += 1;
            }
        }
        // The generator makes plain objects often enough for the comparison to mean something.
        assert!(plain > 1_000, "only {plain} plain objects");
    }
}
