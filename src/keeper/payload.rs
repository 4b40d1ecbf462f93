//! Reads the gateway's stdin line into a [`Payload`], without ever holding a secret in a
//! type that can print it.
//!
//! The path is: read stdin's first line, bounded by [`MAX_PAYLOAD_BYTES`], into a wiped
//! buffer (Keeper sends one line; a pipe held open after it must not keep us waiting); trim;
//! base64-decode (standard alphabet, padding optional, line breaks ignored) into a wiped
//! buffer; walk the JSON with our own visitors. We do not go through `serde_json::Value`:
//! its strings are not wiped, and serde's error messages quote the offending value, which
//! here may be a password. Errors therefore carry JSON kinds, field names and positions only.

use std::fmt;
use std::io::Read;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use zeroize::Zeroizing;

use super::error::KeeperError;
use super::records::Record;
use crate::secret::Secret;

/// The largest stdin accepted. A real payload is a few kilobytes; anything near this is not one.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

/// Standard alphabet; padding optional. Python's `b64encode` pads, but a hand-built payload
/// (or a shell that trims `=`) may not, and accepting both costs nothing.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The decoded gateway payload.
#[derive(Debug)]
pub struct Payload {
    /// The PAM User's login: the Tenable username (or credential name) to update.
    pub user: String,
    /// The password Keeper just generated.
    pub new_password: Secret,
    /// The password before this rotation; empty when the record had none.
    pub old_password: Secret,
    /// UID of the PAM User record being rotated, when sent.
    pub user_record_uid: Option<String>,
    /// UID of the PAM Configuration record, when sent.
    pub provider_record_uid: Option<String>,
    /// UID of the PAM resource record; empty for "Run PAM scripts only" rotations.
    pub resource_record_uid: Option<String>,
    /// The attached records, in the order the gateway sent them.
    pub records: Vec<Record>,
}

/// Reads the gateway's line: up to the first line break that follows some text, or the end
/// of input, at most [`MAX_PAYLOAD_BYTES`], into a buffer that is wiped on drop.
pub fn read_line(input: impl Read) -> Result<Zeroizing<Vec<u8>>, KeeperError> {
    let raw = read_bounded(input, MAX_PAYLOAD_BYTES).map_err(|e| KeeperError::Read(e.kind()))?;
    if raw.len() > MAX_PAYLOAD_BYTES {
        return Err(KeeperError::TooLarge {
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    Ok(raw)
}

/// Where the first line that holds some text ends (just after its line break), if it has.
/// Zero bytes and byte-order-mark bytes are not text: a UTF-16 line from PowerShell (see
/// [`as_ascii_text`]) that follows a blank one is found as a UTF-8 or ASCII one is.
fn end_of_first_line(bytes: &[u8]) -> Option<usize> {
    let text_at = bytes.iter().position(|&b| {
        !(b.is_ascii_whitespace() || matches!(b, 0 | 0xEF | 0xBB | 0xBF | 0xFE | 0xFF))
    })?;
    let newline = bytes[text_at..].iter().position(|&b| b == b'\n')?;
    Some(text_at + newline + 1)
}

/// Reads at most `limit + 1` bytes into a buffer that is wiped on drop.
///
/// The buffer grows by copying into a new one and wiping the old, never by reallocating in
/// place, which could leave an unwiped copy of the secret behind. It starts small: a gateway
/// payload is a few KiB, and wiping a buffer sized for the 1 MiB limit touches every page
/// (measured: a bad-input run's peak RSS was 4.2 MiB with one, 3.0 MiB without).
fn read_bounded(input: impl Read, limit: usize) -> std::io::Result<Zeroizing<Vec<u8>>> {
    let mut input = input.take(limit as u64 + 1);
    let mut buf = Zeroizing::new(Vec::with_capacity(8 * 1024));
    loop {
        if buf.len() == buf.capacity() {
            let mut bigger = Zeroizing::new(Vec::with_capacity(buf.capacity() * 2));
            bigger.extend_from_slice(&buf);
            buf = bigger;
        }
        let filled = buf.len();
        let room = buf.capacity() - filled;
        buf.resize(filled + room, 0);
        match input.read(&mut buf[filled..]) {
            Ok(0) => {
                buf.truncate(filled);
                return Ok(buf);
            }
            Ok(n) => {
                buf.truncate(filled + n);
                if let Some(end) = end_of_first_line(&buf) {
                    buf.truncate(end);
                    return Ok(buf);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(filled),
            Err(e) => return Err(e),
        }
    }
}

/// Parses the raw stdin bytes: base64 text around a JSON object, in any form PowerShell sends
/// it (see `as_ascii_text`).
pub fn parse_payload(raw: &[u8]) -> Result<Payload, KeeperError> {
    let text = as_ascii_text(raw).map_err(|_| KeeperError::NotBase64)?;
    let json = decode_base64(&text).map_err(|e| match e {
        Base64Problem::Empty => KeeperError::Empty,
        Base64Problem::Invalid => KeeperError::NotBase64,
    })?;
    let top = parse_json(&json, TopVisitor)
        .map_err(|(line, column)| KeeperError::NotJson { line, column })?;
    let mut fields = match top {
        Shape::Object(fields) => fields,
        Shape::Other(found) => return Err(KeeperError::NotAnObject { found }),
    };

    let user = required_text(&mut fields, "user")?;
    let new_password = required_text(&mut fields, "newPassword")?;
    if new_password.is_empty() {
        return Err(KeeperError::EmptyField {
            field: "newPassword",
        });
    }
    // `oldPassword` must be present, but may be empty or null: a PAM User that had no
    // password before its first rotation sends it that way.
    let old_password = match fields.take("oldPassword") {
        None => {
            return Err(KeeperError::MissingField {
                field: "oldPassword",
            });
        }
        Some(FieldValue::Null) => Secret::new(String::new()),
        Some(FieldValue::Text(s)) => s,
        Some(other) => {
            return Err(KeeperError::WrongType {
                field: "oldPassword",
                found: other.kind(),
            });
        }
    };
    let records_b64 = required_text(&mut fields, "records")?;
    let records = parse_records(records_b64.expose().as_bytes())?;

    let user = user.expose().trim().to_owned();
    if user.is_empty() {
        return Err(KeeperError::EmptyField { field: "user" });
    }
    Ok(Payload {
        user,
        new_password,
        old_password,
        user_record_uid: fields.take_plain("userRecordUid"),
        provider_record_uid: fields.take_plain("providerRecordUid"),
        resource_record_uid: fields.take_plain("resourceRecordUid"),
        records,
    })
}

fn required_text(fields: &mut Fields, field: &'static str) -> Result<Secret, KeeperError> {
    match fields.take(field) {
        None => Err(KeeperError::MissingField { field }),
        Some(FieldValue::Text(s)) => Ok(s),
        Some(FieldValue::Null) => Err(KeeperError::EmptyField { field }),
        Some(other) => Err(KeeperError::WrongType {
            field,
            found: other.kind(),
        }),
    }
}

/// Decodes `records`: base64 of a JSON array of flat objects.
fn parse_records(b64: &[u8]) -> Result<Vec<Record>, KeeperError> {
    let json = decode_base64(b64).map_err(|_| KeeperError::RecordsNotBase64)?;
    let parsed = parse_json(&json, RecordsVisitor)
        .map_err(|(line, column)| KeeperError::RecordsNotJson { line, column })?;
    match parsed {
        RecordsShape::List(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| match item {
                Shape::Object(fields) => Ok(Record::from_fields(fields.0)),
                Shape::Other(found) => Err(KeeperError::RecordNotObject {
                    index: i + 1,
                    found,
                }),
            })
            .collect(),
        RecordsShape::Other(found) => Err(KeeperError::RecordsNotList { found }),
    }
}

/// The stdin line as 8-bit text, whatever encoding a PowerShell script piped it in.
///
/// A Windows gateway runs `deploy/*.ps1`, and PowerShell re-encodes what it pipes into a
/// native program with `$OutputEncoding`, ending each line with CRLF (Microsoft's
/// about_Preference_Variables): ASCII by default in Windows PowerShell 5.1, UTF-8 without a
/// byte-order mark in PowerShell 7. An administrator who set `$OutputEncoding` to
/// `[Text.Encoding]::UTF8` gets a UTF-8 BOM in front (5.1), and one who set it to
/// `[Text.Encoding]::Unicode` (or `BigEndianUnicode`, `UTF32`) gets UTF-16 (or UTF-32) with
/// its BOM. The payload is base64, ASCII in every one of these, so this strips a UTF-8 BOM and
/// narrows UTF-16 and UTF-32 (with a BOM, or UTF-16 LE/BE recognised by its zero bytes) to one
/// byte per character. A character beyond ASCII in a wide form cannot be base64: `Err`. The
/// last code unit may be cut short, as [`read_line`] stops right after the byte `\n`; its
/// missing bytes are zeros. Everything else passes through unchanged.
fn as_ascii_text(raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Base64Problem> {
    const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
    // (byte-order mark, code unit width, little-endian)
    const WIDE: [(&[u8], usize, bool); 4] = [
        (b"\xFF\xFE\0\0", 4, true),
        (b"\0\0\xFE\xFF", 4, false),
        (b"\xFF\xFE", 2, true),
        (b"\xFE\xFF", 2, false),
    ];
    let (body, width, little) = if let Some(rest) = raw.strip_prefix(UTF8_BOM) {
        (rest, 1, true)
    } else if let Some((rest, width, little)) = WIDE
        .iter()
        .find_map(|&(bom, w, le)| raw.strip_prefix(bom).map(|rest| (rest, w, le)))
    {
        (rest, width, little)
    } else if raw.len() >= 2 && raw[0] != 0 && raw[1] == 0 {
        (raw, 2, true)
    } else if raw.len() >= 2 && raw[0] == 0 && raw[1] != 0 {
        (raw, 2, false)
    } else {
        (raw, 1, true)
    };
    let mut out = Zeroizing::new(Vec::with_capacity(body.len() / width + 1));
    if width == 1 {
        out.extend_from_slice(body);
        return Ok(out);
    }
    for unit in body.chunks(width) {
        let mut value: u32 = 0;
        for i in 0..width {
            // A cut-short last unit: its missing bytes are zeros.
            let byte = u32::from(unit.get(i).copied().unwrap_or(0));
            let shift = if little { i } else { width - 1 - i };
            value |= byte << (8 * shift);
        }
        match u8::try_from(value) {
            Ok(b) if b.is_ascii() && b != 0 => out.push(b),
            _ => return Err(Base64Problem::Invalid),
        }
    }
    Ok(out)
}

enum Base64Problem {
    Empty,
    Invalid,
}

/// Strips all ASCII white space (a trailing newline or CRLF from `echo`, or a wrapped line)
/// and decodes into a buffer that is wiped on drop.
fn decode_base64(raw: &[u8]) -> Result<Zeroizing<Vec<u8>>, Base64Problem> {
    let mut compact = Zeroizing::new(Vec::with_capacity(raw.len()));
    compact.extend(raw.iter().copied().filter(|b| !b.is_ascii_whitespace()));
    if compact.is_empty() {
        return Err(Base64Problem::Empty);
    }
    let mut out = Zeroizing::new(Vec::with_capacity(compact.len() / 4 * 3 + 3));
    BASE64
        .decode_vec(&compact[..], &mut out)
        .map_err(|_| Base64Problem::Invalid)?;
    Ok(out)
}

/// Runs `visitor` over the whole of `json`; on a syntax error returns its line and column.
fn parse_json<'de, V: Visitor<'de>>(
    json: &'de [u8],
    visitor: V,
) -> Result<V::Value, (usize, usize)> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = de
        .deserialize_any(visitor)
        .map_err(|e| (e.line(), e.column()))?;
    de.end().map_err(|e| (e.line(), e.column()))?;
    Ok(value)
}

/// A field value from the payload or a record, reduced to what we use.
///
/// Keeper flattens single-value fields to a string, but the shape is not formally
/// specified (shared/reference/keeper-pam.md §1.3), so a one-element list of a string is
/// read as that string. Other shapes keep only their kind, for error messages.
pub enum FieldValue {
    /// A string (or a one-element list holding one). Kept as a secret: we cannot know which
    /// fields of an arbitrary record are sensitive.
    Text(Secret),
    /// A JSON number.
    Number,
    /// A JSON boolean.
    Bool,
    /// JSON null.
    Null,
    /// A list that is not a single string.
    List,
    /// A JSON object (for example a `host` field).
    Object,
}

impl fmt::Debug for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

impl FieldValue {
    /// The JSON kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            FieldValue::Text(_) => "string",
            FieldValue::Number => "number",
            FieldValue::Bool => "boolean",
            FieldValue::Null => "null",
            FieldValue::List => "list",
            FieldValue::Object => "object",
        }
    }
}

impl<'de> Deserialize<'de> for FieldValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(FieldValueVisitor)
    }
}

struct FieldValueVisitor;

impl<'de> Visitor<'de> for FieldValueVisitor {
    type Value = FieldValue;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(Secret::from(v)))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<FieldValue, E> {
        Ok(FieldValue::Text(Secret::new(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<FieldValue, E> {
        Ok(FieldValue::Bool)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<FieldValue, E> {
        Ok(FieldValue::Number)
    }
    fn visit_unit<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<FieldValue, E> {
        Ok(FieldValue::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FieldValue, A::Error> {
        let first: Option<FieldValue> = seq.next_element()?;
        let mut more = false;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            more = true;
        }
        Ok(match (first, more) {
            (Some(FieldValue::Text(s)), false) => FieldValue::Text(s),
            (None, _) => FieldValue::Null,
            _ => FieldValue::List,
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldValue, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(FieldValue::Object)
    }
}

/// The keys of one JSON object with their values, in document order.
pub(super) struct Fields(pub(super) Vec<(String, FieldValue)>);

impl Fields {
    /// Removes and returns the value of `key` (the first one, if repeated).
    fn take(&mut self, key: &str) -> Option<FieldValue> {
        let at = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(at).1)
    }

    /// A non-secret string field (a record UID), or `None` if absent, blank or not a string.
    fn take_plain(&mut self, key: &str) -> Option<String> {
        match self.take(key) {
            Some(FieldValue::Text(s)) if !s.is_blank() => Some(s.expose().to_owned()),
            _ => None,
        }
    }
}

/// An object, or the kind of whatever else was found.
enum Shape {
    Object(Fields),
    Other(&'static str),
}

/// Generates the visit methods that turn every non-object JSON value into `$other(kind)`.
macro_rules! other_kinds {
    ($value:ty, $other:path) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<$value, E> {
            Ok($other("string"))
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<$value, E> {
            Ok($other("boolean"))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<$value, E> {
            Ok($other("number"))
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<$value, E> {
            Ok($other("number"))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<$value, E> {
            Ok($other("number"))
        }
        fn visit_unit<E: de::Error>(self) -> Result<$value, E> {
            Ok($other("null"))
        }
    };
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Shape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    other_kinds!(Shape, Shape::Other);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape::Other("array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut fields = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value: FieldValue = map.next_value()?;
            fields.push((key, value));
        }
        Ok(Shape::Object(Fields(fields)))
    }
}

impl<'de> DeserializeSeed<'de> for TopVisitor {
    type Value = Shape;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(self)
    }
}

enum RecordsShape {
    List(Vec<Shape>),
    Other(&'static str),
}

struct RecordsVisitor;

impl<'de> Visitor<'de> for RecordsVisitor {
    type Value = RecordsShape;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of objects")
    }
    other_kinds!(RecordsShape, RecordsShape::Other);
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RecordsShape, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(RecordsShape::Other("object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RecordsShape, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(TopVisitor)? {
            items.push(item);
        }
        Ok(RecordsShape::List(items))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn payload_with(records_json: &str) -> String {
        format!(
            r#"{{"providerRecordUid":"P1","resourceRecordUid":"","userRecordUid":"U1","newPassword":"New-Pass-123!","oldPassword":"Old-Pass-123!","user":"alice@example.com","records":"{}"}}"#,
            b64(records_json)
        )
    }

    fn parse(json: &str) -> Result<Payload, KeeperError> {
        parse_payload(format!("{}\r\n", b64(json)).as_bytes())
    }

    #[test]
    fn parses_a_gateway_payload_with_crlf() {
        let p = parse(&payload_with(
            r#"[{"uid":"T1","title":"Tenable Authentication Record","tenable_access_key":"ak"}]"#,
        ))
        .unwrap();
        assert_eq!(p.user, "alice@example.com");
        assert_eq!(p.new_password.expose(), "New-Pass-123!");
        assert_eq!(p.old_password.expose(), "Old-Pass-123!");
        assert_eq!(p.user_record_uid.as_deref(), Some("U1"));
        assert_eq!(p.resource_record_uid, None);
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.records[0].title(), "Tenable Authentication Record");
        assert_eq!(p.records[0].uid(), Some("T1"));
    }

    /// The line as a PowerShell script pipes it to the .exe, for each `$OutputEncoding`
    /// (Microsoft's about_Preference_Variables and about_Character_Encoding), read the way the
    /// binary reads stdin: up to the first line break, with more held behind it.
    fn as_piped_by_powershell(line: &str, bom: &[u8], encode: fn(char) -> Vec<u8>) -> Vec<u8> {
        let mut bytes = bom.to_vec();
        for c in format!("{line}\r\n").chars().chain("more\r\n".chars()) {
            bytes.extend(encode(c));
        }
        bytes
    }

    fn utf16le(c: char) -> Vec<u8> {
        (c as u16).to_le_bytes().to_vec()
    }
    fn utf16be(c: char) -> Vec<u8> {
        (c as u16).to_be_bytes().to_vec()
    }
    fn utf32le(c: char) -> Vec<u8> {
        (c as u32).to_le_bytes().to_vec()
    }
    fn utf32be(c: char) -> Vec<u8> {
        (c as u32).to_be_bytes().to_vec()
    }
    fn utf8(c: char) -> Vec<u8> {
        c.to_string().into_bytes()
    }

    /// One encoding: its name, its byte-order mark, and how it encodes a character.
    type Form = (&'static str, &'static [u8], fn(char) -> Vec<u8>);

    #[test]
    fn reads_the_line_in_every_encoding_powershell_pipes() {
        let line = b64(&payload_with("[]"));
        let forms: [Form; 8] = [
            // Windows PowerShell 5.1's default: ASCIIEncoding, CRLF.
            ("ASCII (5.1 default)", b"", utf8),
            // PowerShell 7's default: UTF8Encoding without a BOM, CRLF.
            ("UTF-8 (7 default)", b"", utf8),
            // 5.1 with $OutputEncoding = [Text.Encoding]::UTF8.
            ("UTF-8 with BOM", b"\xEF\xBB\xBF", utf8),
            // $OutputEncoding = [Text.Encoding]::Unicode.
            ("UTF-16 LE with BOM", b"\xFF\xFE", utf16le),
            ("UTF-16 LE without BOM", b"", utf16le),
            // [Text.Encoding]::BigEndianUnicode.
            ("UTF-16 BE with BOM", b"\xFE\xFF", utf16be),
            // [Text.Encoding]::UTF32 and UTF32 big-endian.
            ("UTF-32 LE with BOM", b"\xFF\xFE\0\0", utf32le),
            ("UTF-32 BE with BOM", b"\0\0\xFE\xFF", utf32be),
        ];
        for (name, bom, encode) in forms {
            for blank_first in [false, true] {
                let text = if blank_first {
                    format!("\r\n{line}")
                } else {
                    line.clone()
                };
                let piped = as_piped_by_powershell(&text, bom, encode);
                let read = read_line(&piped[..]).unwrap();
                let p = parse_payload(&read)
                    .unwrap_or_else(|e| panic!("{name} (blank first: {blank_first}): {e}"));
                assert_eq!(p.user, "alice@example.com", "{name}");
                assert_eq!(p.new_password.expose(), "New-Pass-123!", "{name}");
            }
        }
    }

    #[test]
    fn a_wide_line_with_a_character_beyond_ascii_is_not_base64() {
        let line = format!("{}\u{e9}", b64(&payload_with("[]")));
        for (bom, encode) in [
            (&b"\xFF\xFE"[..], utf16le as fn(char) -> Vec<u8>),
            (b"\xFE\xFF", utf16be),
        ] {
            let piped = as_piped_by_powershell(&line, bom, encode);
            assert!(matches!(
                parse_payload(&read_line(&piped[..]).unwrap()),
                Err(KeeperError::NotBase64)
            ));
        }
        // A zero code unit is no character of base64 either.
        assert!(matches!(
            parse_payload(b"\xFF\xFEe\0\0\0"),
            Err(KeeperError::NotBase64)
        ));
        // A byte-order mark and nothing else is an empty line.
        assert!(matches!(
            parse_payload(b"\xEF\xBB\xBF\r\n"),
            Err(KeeperError::Empty)
        ));
    }

    #[test]
    fn accepts_missing_padding_and_wrapped_lines() {
        let json = payload_with("[]");
        let mut encoded = b64(&json).trim_end_matches('=').to_owned();
        encoded.insert(10, '\n');
        let p = parse_payload(encoded.as_bytes()).unwrap();
        assert!(p.records.is_empty());
    }

    #[test]
    fn reads_one_element_lists_as_strings() {
        let p = parse(&payload_with(r#"[{"title":"T","tenable_access_key":["ak"],"host":{"hostName":"h"},"multi":["a","b"]}]"#)).unwrap();
        let r = &p.records[0];
        assert!(
            matches!(r.field("tenable_access_key"), Some(FieldValue::Text(s)) if s.expose() == "ak")
        );
        assert!(matches!(r.field("host"), Some(FieldValue::Object)));
        assert!(matches!(r.field("multi"), Some(FieldValue::List)));
    }

    #[test]
    fn null_or_empty_old_password_is_allowed() {
        let json =
            payload_with("[]").replace(r#""oldPassword":"Old-Pass-123!""#, r#""oldPassword":null"#);
        assert!(parse(&json).unwrap().old_password.is_empty());
    }

    #[test]
    fn rejects_each_bad_shape_with_its_own_error() {
        assert!(matches!(parse_payload(b"  \n"), Err(KeeperError::Empty)));
        assert!(matches!(
            parse_payload(b"not base64!"),
            Err(KeeperError::NotBase64)
        ));
        assert!(matches!(
            parse("{not json"),
            Err(KeeperError::NotJson { line: 1, .. })
        ));
        assert!(matches!(
            parse("[1,2]"),
            Err(KeeperError::NotAnObject { found: "array" })
        ));
        assert!(matches!(
            parse("{} trailing"),
            Err(KeeperError::NotJson { .. })
        ));
        let full = payload_with("[]");
        for field in ["user", "newPassword", "oldPassword", "records"] {
            let without = full.replacen(&format!("\"{field}\""), "\"ignored\"", 1);
            match parse(&without) {
                Err(KeeperError::MissingField { field: f }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let numeric_user = full.replace(r#""user":"alice@example.com""#, r#""user":7"#);
        assert!(matches!(
            parse(&numeric_user),
            Err(KeeperError::WrongType {
                field: "user",
                found: "number"
            })
        ));
    }

    #[test]
    fn rejects_bad_records() {
        let base = payload_with("[]");
        let with_records = |r: &str| base.replace(&b64("[]"), r);
        assert!(matches!(
            parse(&with_records("%%%")),
            Err(KeeperError::RecordsNotBase64)
        ));
        assert!(matches!(
            parse(&with_records(&b64("{\"a\":1}"))),
            Err(KeeperError::RecordsNotList { found: "object" })
        ));
        assert!(matches!(
            parse(&with_records(&b64("[{}, 3]"))),
            Err(KeeperError::RecordNotObject {
                index: 2,
                found: "number"
            })
        ));
        assert!(matches!(
            parse(&with_records(&b64("[{"))),
            Err(KeeperError::RecordsNotJson { .. })
        ));
    }

    #[test]
    fn errors_never_quote_values() {
        // serde's own message for a type error would quote the string; ours must not.
        let json = payload_with("[]").replace(
            r#""user":"alice@example.com""#,
            r#""user":["secret-a","secret-b"]"#,
        );
        let err = parse(&json).unwrap_err().to_string();
        assert!(!err.contains("secret-a"), "{err}");
    }

    #[test]
    fn refuses_more_than_the_limit() {
        let big = vec![b'A'; MAX_PAYLOAD_BYTES + 10];
        assert!(matches!(
            read_line(&big[..]),
            Err(KeeperError::TooLarge { .. })
        ));
    }

    #[test]
    fn bounded_read_keeps_every_byte_across_growth() {
        for size in [
            0,
            1,
            8191,
            8192,
            8193,
            100_000,
            MAX_PAYLOAD_BYTES,
            MAX_PAYLOAD_BYTES + 5,
        ] {
            let input: Vec<u8> = (0..size).map(|i| b'A' + (i % 26) as u8).collect();
            let read = read_bounded(&input[..], MAX_PAYLOAD_BYTES).unwrap();
            let kept = size.min(MAX_PAYLOAD_BYTES + 1);
            assert_eq!(read.as_slice(), &input[..kept], "size {size}");
        }
    }

    #[test]
    fn stops_after_the_first_line_without_waiting_for_the_end() {
        /// Gives the line in two reads, then fails the test if read again: a gateway pipe
        /// held open would block there.
        struct HeldOpen(Vec<&'static [u8]>);
        impl Read for HeldOpen {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                assert!(!self.0.is_empty(), "read past the first line");
                let chunk = self.0.remove(0);
                buf[..chunk.len()].copy_from_slice(chunk);
                Ok(chunk.len())
            }
        }
        let line = read_line(HeldOpen(vec![b"\n\r\n  eyJh", b"IjoxfQ==\r\nmore"])).unwrap();
        assert_eq!(line.as_slice(), b"\n\r\n  eyJhIjoxfQ==\r\n");
    }

    #[test]
    fn bounded_read_retries_an_interrupted_read() {
        struct Interrupting(bool, &'static [u8]);
        impl Read for Interrupting {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, false) {
                    return Err(std::io::ErrorKind::Interrupted.into());
                }
                self.1.read(buf)
            }
        }
        let read = read_bounded(Interrupting(true, b"abc"), 10).unwrap();
        assert_eq!(read.as_slice(), b"abc");
    }

    #[test]
    fn accepts_exactly_one_mebibyte_and_refuses_one_byte_more() {
        let limit = 1024 * 1024;
        let exact = vec![b'A'; limit];
        assert_eq!(read_line(&exact[..]).unwrap().len(), limit);
        let over = vec![b'A'; limit + 1];
        let err = read_line(&over[..]).unwrap_err();
        assert!(
            matches!(err, KeeperError::TooLarge { limit: 1_048_576 }),
            "{err}"
        );
        assert!(
            err.to_string().contains("larger than 1048576 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_line_that_arrives_in_pieces_stays_in_the_first_small_buffer() {
        /// A pipe that hands over one byte per read.
        struct Trickle(&'static [u8]);
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some((&first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = first;
                self.0 = rest;
                Ok(1)
            }
        }
        let read = read_bounded(Trickle(b"eyJh"), MAX_PAYLOAD_BYTES).unwrap();
        assert_eq!(read.as_slice(), b"eyJh");
        // Grown only by copying when full, so four bytes never leave the first 8 KiB buffer.
        assert!(read.capacity() <= 8 * 1024, "{}", read.capacity());
    }

    #[test]
    fn a_failed_read_is_reported_not_retried() {
        /// Fails once the way a broken pipe does, then would give a line.
        struct FailsOnce(bool, &'static [u8]);
        impl Read for FailsOnce {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, false) {
                    return Err(std::io::ErrorKind::BrokenPipe.into());
                }
                self.1.read(buf)
            }
        }
        let err = read_line(FailsOnce(true, b"eyJhIjoxfQ==\n")).unwrap_err();
        assert!(
            matches!(err, KeeperError::Read(std::io::ErrorKind::BrokenPipe)),
            "{err}"
        );
        assert!(
            err.to_string().contains("could not read standard input"),
            "{err}"
        );
    }

    #[test]
    fn reads_utf16_big_endian_without_a_byte_order_mark() {
        let piped = as_piped_by_powershell(&b64(&payload_with("[]")), b"", utf16be);
        assert_eq!(piped[0], 0, "the line starts with a zero byte");
        let p = parse_payload(&read_line(&piped[..]).unwrap()).unwrap();
        assert_eq!(p.user, "alice@example.com");
    }

    #[test]
    fn empty_input_is_empty_not_a_crash() {
        assert!(matches!(parse_payload(b""), Err(KeeperError::Empty)));
        assert!(matches!(parse_payload(b"\n"), Err(KeeperError::Empty)));
    }

    #[test]
    fn a_wide_character_is_not_taken_for_the_ascii_letter_in_its_low_byte() {
        // The first letter moved up by 0x100: same low byte, but not ASCII, so not base64.
        let line = b64(&payload_with("[]"));
        let mut chars = line.chars();
        let first = chars.next().unwrap();
        let disguised: String = std::iter::once(char::from_u32(first as u32 + 0x100).unwrap())
            .chain(chars)
            .collect();
        let forms: [Form; 4] = [
            ("UTF-16 LE", b"\xFF\xFE", utf16le),
            ("UTF-16 BE", b"\xFE\xFF", utf16be),
            ("UTF-32 LE", b"\xFF\xFE\0\0", utf32le),
            ("UTF-32 BE", b"\0\0\xFE\xFF", utf32be),
        ];
        for (name, bom, encode) in forms {
            let honest = as_piped_by_powershell(&line, bom, encode);
            assert!(
                parse_payload(&read_line(&honest[..]).unwrap()).is_ok(),
                "{name}"
            );
            let piped = as_piped_by_powershell(&disguised, bom, encode);
            assert!(
                matches!(
                    parse_payload(&read_line(&piped[..]).unwrap()),
                    Err(KeeperError::NotBase64)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn narrowing_refuses_zero_and_non_ascii_code_units() {
        // Each is refused where it is found, as the one error "not ASCII text".
        for wide in [
            &b"\xFF\xFEe\0\0\0"[..],
            b"\xFF\xFEe\0\xE9\0",
            b"\xFE\xFF\0e\0\0",
            b"\xFE\xFF\0e\0\x80",
        ] {
            assert!(as_ascii_text(wide).is_err(), "{wide:?}");
        }
        let ascii = as_ascii_text(b"\xFF\xFEe\0y\0").ok().unwrap();
        assert_eq!(ascii.as_slice(), b"ey");
    }

    #[test]
    fn an_empty_list_is_no_value() {
        let json = payload_with(r#"[{"title":"T","login":[]}]"#)
            .replace(r#""oldPassword":"Old-Pass-123!""#, r#""oldPassword":[]"#);
        let p = parse(&json).unwrap();
        assert!(p.old_password.is_empty());
        assert!(matches!(
            p.records[0].field("login"),
            Some(FieldValue::Null)
        ));
    }

    #[test]
    fn debug_shows_a_fields_kind_never_its_value() {
        let secret = FieldValue::Text(Secret::from("Hunter2-secret"));
        assert_eq!(format!("{secret:?}"), "string");
        assert_eq!(format!("{:?}", FieldValue::Object), "object");
    }

    #[test]
    fn each_reader_says_what_it_expected_when_given_a_shape_json_never_has() {
        use serde::de::value::{BytesDeserializer, Error};
        let bytes = || BytesDeserializer::<Error>::new(b"\x01");
        let field = bytes().deserialize_any(FieldValueVisitor).unwrap_err();
        assert!(
            field.to_string().ends_with("expected any JSON value"),
            "{field}"
        );
        let top = bytes().deserialize_any(TopVisitor).err().unwrap();
        assert!(top.to_string().ends_with("expected a JSON object"), "{top}");
        let records = bytes().deserialize_any(RecordsVisitor).err().unwrap();
        assert!(
            records
                .to_string()
                .ends_with("expected a JSON array of objects"),
            "{records}"
        );
    }
}
