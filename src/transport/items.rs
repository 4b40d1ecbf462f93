//! Streams the items of a list answer (`{"users": [item, …]}`) one at a time.
//!
//! Each item is cut from a large read buffer (its strings and brackets followed, 64 bytes at a
//! time where it can be) and handed over as a slice, and the buffer moves on: a list of any
//! length costs the memory of one item. An item cut by the end of the buffer is looked at
//! again once more has been read.
//!
//! A caller may first be shown each item where it starts, with what follows it, to read it
//! on its own and say where it ends ([`for_each_item_read`]: `discover`'s 200 000 users);
//! an item it does not read is cut as above.
//!
//! Every item handed over is then parsed by serde_json, as the caller's type, from its slice;
//! every other member of the envelope is parsed here as [`IgnoredAny`] (and its text checked
//! as UTF-8, which serde_json does not check in what it skips), and the envelope's own
//! grammar (one object, keys, colons, commas, nothing after it) is checked here. Only an item a
//! lookup does not want ([`for_each_item_text`]) is cut without being parsed. (Inside an item
//! parsed as a type, a member the type does not read is skipped by serde_json without its
//! UTF-8 being checked, as when serde_json parses a whole answer as a type: nothing skipped
//! is read or printed.) The answer's
//! total size is bounded by [`BodyLimits::total`], and one item (or other member) by
//! [`ITEM_MAX`], which bounds every string in it; serde_json's own recursion limit bounds
//! nesting.

use std::io::{self, Read};
use std::ops::Range;

use serde::de::{DeserializeOwned, Error as _, IgnoredAny};
use wide::u8x16;

use super::bounded::{BodyLimits, OverLimit};

/// The largest one item (or other member) of a list answer may be. A TVM user object is
/// about 400 bytes and a credential about 1 KB.
pub const ITEM_MAX: usize = 1024 * 1024;

/// Finds, in a text, the first span that may name what the caller looks for (see
/// [`for_each_item_text`]).
pub type Wanted<'a> = &'a dyn Fn(&[u8]) -> Option<Range<usize>>;

/// How much is read at a time.
const CHUNK: usize = 64 * 1024;

/// Streams the array under `key` in the JSON object `reader` holds, parsing each item as `T`
/// and handing it to `each`. Returns how many items there were.
///
/// Errors: a crossed bound or a broken read is an I/O error (`io_error_kind()` is `Some`;
/// a crossed bound carries [`OverLimit`]); anything else malformed, a missing list, or the
/// list twice, is a data error.
pub fn for_each_item<T: DeserializeOwned>(
    reader: impl Read,
    key: &str,
    limits: BodyLimits,
    each: &mut dyn FnMut(T),
) -> Result<u64, serde_json::Error> {
    for_each_wanted_item(reader, key, limits, None, each)
}

/// [`for_each_item`] for a lookup that needs few items of a long list: see
/// [`for_each_item_text`] for what `wanted` does.
pub fn for_each_wanted_item<T: DeserializeOwned>(
    reader: impl Read,
    key: &str,
    limits: BodyLimits,
    wanted: Option<Wanted<'_>>,
    each: &mut dyn FnMut(T),
) -> Result<u64, serde_json::Error> {
    for_each_item_text(reader, key, limits, wanted, &mut |text| {
        each(serde_json::from_slice(text)?);
        Ok(())
    })
}

/// Streams the array under `key` in the JSON object `reader` holds, handing each item's text
/// (one JSON value, no whitespace around it) to `each`, which parses it as it needs: into
/// types that borrow from the text, for `discover`'s 200 000 users (issue 13). An error from
/// `each` ends the stream. Returns how many items there were; errors as [`for_each_item`].
///
/// With `wanted`, for a lookup that needs few items of a long list: an item in whose text
/// `wanted` finds no span is only cut (its strings and brackets followed to find its end), not
/// handed to `each`. An item with an escape (`\`) is always handed over: it may spell in
/// escapes what `wanted` looks for. At 200 000 users most of `check`'s time was parsing users
/// it then dropped (issue 13).
///
/// `wanted` is asked once for all the text read ahead, not once per item, so it runs at search
/// speed: it must return the leftmost span it finds, and find one inside every escape-free
/// text that could parse to an item the caller needs.
pub fn for_each_item_text(
    reader: impl Read,
    key: &str,
    limits: BodyLimits,
    wanted: Option<Wanted<'_>>,
    each: &mut dyn FnMut(&[u8]) -> Result<(), serde_json::Error>,
) -> Result<u64, serde_json::Error> {
    for_each_item_read(reader, key, limits, wanted, None, each)
}

/// Reads an item at the start of a text that runs on past it (what is held of the list, up
/// to [`PLAIN_WINDOW`] bytes), when it can on its own, and returns the item's length; `None`
/// leaves the item to be cut and handed to `each`. See [`for_each_item_read`].
pub type ReadWhole<'a> = &'a mut dyn FnMut(&[u8]) -> Option<usize>;

/// The most of the list [`ReadWhole`] is shown at once.
pub const PLAIN_WINDOW: usize = 1024;

/// [`for_each_item_text`], where `whole` (when given, and no `wanted`) is first asked to read
/// each item from the text held, before it is cut: it finds the item's end as it reads, so
/// an item it reads is not also looked through to be cut (issue 13: cutting was a sixth of
/// reading 200 000 users). The item's length it answers must be that of the JSON value that
/// starts the text (the caller's reader accepts only what serde_json reads the same way);
/// then the list goes on after it, checked here as after any item.
pub fn for_each_item_read(
    reader: impl Read,
    key: &str,
    limits: BodyLimits,
    wanted: Option<Wanted<'_>>,
    whole: Option<ReadWhole<'_>>,
    each: &mut dyn FnMut(&[u8]) -> Result<(), serde_json::Error>,
) -> Result<u64, serde_json::Error> {
    for_each_item_from(&mut Reading(reader), key, limits, wanted, whole, each)
}

/// Where a list answer's bytes come from: [`Reading`] a reader into the list's buffer, or
/// the read-ahead (`transport::ahead`), which hands over the buffer it read into.
pub trait Source {
    /// Reads more bytes after `buf[*pos..*held]` (what is kept) and says how many; 0 at the
    /// end of the answer. What is before `*pos` may be dropped and what is kept may move:
    /// `*pos` and `*held` then say where it is. Past `*held`, `buf` is spare room.
    fn read_after(
        &mut self,
        buf: &mut Vec<u8>,
        pos: &mut usize,
        held: &mut usize,
    ) -> io::Result<usize>;
}

/// A [`Source`] that reads a reader: what is kept moves to the start of the buffer, and a
/// read goes after it.
pub struct Reading<R>(pub R);

impl<R: Read> Source for Reading<R> {
    fn read_after(
        &mut self,
        buf: &mut Vec<u8>,
        pos: &mut usize,
        held: &mut usize,
    ) -> io::Result<usize> {
        if *pos > 0 {
            buf.copy_within(*pos..*held, 0);
            *held -= *pos;
            *pos = 0;
        }
        // Zeroed once when it grows, not before every read.
        if buf.len() - *held < CHUNK {
            buf.resize(*held + CHUNK, 0);
        }
        loop {
            match self.0.read(&mut buf[*held..]) {
                Ok(n) => {
                    *held += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// [`for_each_item_read`] of the bytes of `source`.
pub fn for_each_item_from(
    source: &mut dyn Source,
    key: &str,
    limits: BodyLimits,
    wanted: Option<Wanted<'_>>,
    mut whole: Option<ReadWhole<'_>>,
    each: &mut dyn FnMut(&[u8]) -> Result<(), serde_json::Error>,
) -> Result<u64, serde_json::Error> {
    if wanted.is_some() {
        whole = None;
    }
    let mut cut = Cutter {
        source,
        buf: Vec::new(),
        held: 0,
        pos: 0,
        read: 0,
        eof: false,
        limits,
        found: None,
    };
    cut.expect(b'{', "an object")?;
    let mut count = None;
    let mut first = true;
    loop {
        match cut.peek()? {
            Some(b'}') if first => {
                cut.pos += 1;
                break;
            }
            Some(b'"') => {}
            _ => return Err(malformed("a member name")),
        }
        let name: String = cut.value()?;
        cut.expect(b':', "a colon")?;
        if name == key {
            if count.is_some() {
                return Err(malformed("the list only once"));
            }
            let whole = whole.as_mut().map(|w| &mut **w as ReadWhole<'_>);
            count = Some(cut.items(wanted, whole, each)?);
        } else {
            cut.skip_value()?;
        }
        match cut.peek()? {
            Some(b',') => {
                cut.pos += 1;
                first = false;
            }
            Some(b'}') => {
                cut.pos += 1;
                break;
            }
            _ => return Err(malformed("a comma or the object's end")),
        }
    }
    if cut.peek()?.is_some() {
        return Err(malformed("nothing after the object"));
    }
    count.ok_or_else(|| serde_json::Error::custom(format!("the {key} list is missing")))
}

/// Whether `text` may be the start of a bare number or literal (`true`, `false`, `null`).
fn bare_prefix(text: &[u8]) -> bool {
    text.iter().all(|b| b"0123456789+-.eEtrufalsn".contains(b))
}

fn malformed(expected: &str) -> serde_json::Error {
    serde_json::Error::custom(format!("malformed list answer: expected {expected}"))
}

fn over(what: &'static str) -> serde_json::Error {
    serde_json::Error::io(io::Error::new(io::ErrorKind::InvalidData, OverLimit(what)))
}

struct Cutter<'s> {
    source: &'s mut dyn Source,
    /// `buf[..held]` is what was read; from `pos` on it is not yet consumed, and what is
    /// before `pos` may be dropped. Past `held` the buffer is spare room.
    buf: Vec<u8>,
    held: usize,
    pos: usize,
    read: u64,
    eof: bool,
    limits: BodyLimits,
    /// The first span `wanted` found from an item's start to the end of what is held (or
    /// `Some(None)`: none), until `buf` moves.
    found: Option<Option<Range<usize>>>,
}

impl Cutter<'_> {
    /// Reads until at least `want` unconsumed bytes are held (or the input ends); what was
    /// consumed may be dropped, and what was not may move (`pos` says where it is).
    /// `false` when nothing more could be read.
    fn fill(&mut self, want: usize) -> Result<bool, serde_json::Error> {
        let before = self.held - self.pos;
        // A span `wanted` found is where the bytes were.
        self.found = None;
        while !self.eof && (self.held - self.pos == before || self.held - self.pos < want) {
            let n = self
                .source
                .read_after(&mut self.buf, &mut self.pos, &mut self.held)
                .map_err(serde_json::Error::io)?;
            self.read += n as u64;
            if self.read > self.limits.total {
                return Err(over("total size"));
            }
            self.eof = n == 0;
        }
        Ok(self.held - self.pos > before)
    }

    /// The next byte that is not whitespace, not consumed; `None` at the end of the input.
    fn peek(&mut self) -> Result<Option<u8>, serde_json::Error> {
        loop {
            while let Some(&b) = self.buf[..self.held].get(self.pos) {
                if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill(1)? {
                return Ok(None);
            }
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), serde_json::Error> {
        if self.peek()? != Some(byte) {
            return Err(malformed(what));
        }
        self.pos += 1;
        Ok(())
    }

    /// Parses the next value as `T`, reading more while it runs past what is held.
    fn value<T: DeserializeOwned>(&mut self) -> Result<T, serde_json::Error> {
        self.value_and_len().map(|(value, _)| value)
    }

    /// Reads the next value (another member of the envelope than the list) and drops it, its
    /// text checked as UTF-8: serde_json does not check the strings it skips (`IgnoredAny`),
    /// and an answer that is not UTF-8 is not JSON. (The `answers` fuzz target found an answer
    /// the stream took and serde_json refused whole: bytes that are not UTF-8 in a string of
    /// another member.)
    fn skip_value(&mut self) -> Result<(), serde_json::Error> {
        let (_, len) = self.value_and_len::<IgnoredAny>()?;
        // The value is what was consumed last: it ends at `pos`.
        match simdutf8::basic::from_utf8(&self.buf[self.pos - len..self.pos]) {
            Ok(_) => Ok(()),
            Err(_) => Err(malformed("text that is UTF-8")),
        }
    }

    /// [`Cutter::value`], and the length of its text.
    fn value_and_len<T: DeserializeOwned>(&mut self) -> Result<(T, usize), serde_json::Error> {
        if self.peek()?.is_none() {
            return Err(malformed("a value"));
        }
        loop {
            let held = self.held - self.pos;
            let mut values = serde_json::Deserializer::from_slice(&self.buf[self.pos..self.held])
                .into_iter::<T>();
            let parsed = values.next();
            let used = values.byte_offset();
            // A value that ends exactly where the buffer does may go on (a number's digits)
            // unless the input has ended; one cut by the buffer's end is parsed again.
            // serde_json calls a number cut short (`-`, `1.`, `2e`) invalid, not unfinished:
            // what is held being all number or literal bytes is read on too.
            let cut = match &parsed {
                Some(Ok(_)) => used == held && !self.eof,
                Some(Err(e)) => {
                    (e.is_eof() || bare_prefix(&self.buf[self.pos..self.held])) && !self.eof
                }
                None => !self.eof,
            };
            if !cut {
                let value = parsed.unwrap_or_else(|| Err(malformed("a value")))?;
                if used > ITEM_MAX {
                    return Err(over("one list item"));
                }
                self.pos += used;
                return Ok((value, used));
            }
            if held >= ITEM_MAX {
                return Err(over("one list item"));
            }
            self.fill((held * 2).clamp(CHUNK, ITEM_MAX + 1))?;
        }
    }

    /// Streams an array's item texts to `each` (those `wanted` says may matter, when given).
    fn items(
        &mut self,
        wanted: Option<Wanted<'_>>,
        mut whole: Option<ReadWhole<'_>>,
        each: &mut dyn FnMut(&[u8]) -> Result<(), serde_json::Error>,
    ) -> Result<u64, serde_json::Error> {
        self.expect(b'[', "an array")?;
        if self.peek()? == Some(b']') {
            self.pos += 1;
            return Ok(0);
        }
        let mut n = 0u64;
        loop {
            // `peek` has left `pos` on the item's first byte.
            let window = &self.buf[self.pos..self.held.min(self.pos + PLAIN_WINDOW)];
            if let Some(len) = whole.as_mut().and_then(|read| read(window)) {
                self.pos += len.min(window.len());
                n += 1;
                if !self.after_item()? {
                    return Ok(n);
                }
                continue;
            }
            let (end, escapes) = self.cut_value()?;
            // An escape may spell what `wanted` looks for in other bytes: hand it over.
            let hand = match wanted {
                None => true,
                Some(wanted) => escapes || self.is_wanted(wanted, end),
            };
            if hand {
                each(&self.buf[self.pos..end])?;
            }
            self.pos = end;
            n += 1;
            if !self.after_item()? {
                return Ok(n);
            }
        }
    }

    /// Reads what follows an item: `true` after a comma (another item follows, and `peek`
    /// has found its first byte), `false` at the array's end.
    fn after_item(&mut self) -> Result<bool, serde_json::Error> {
        match self.peek()? {
            Some(b',') => self.pos += 1,
            Some(b']') => {
                self.pos += 1;
                return Ok(false);
            }
            _ => return Err(malformed("a comma or the array's end")),
        }
        if self.peek()?.is_none() {
            return Err(malformed("a value"));
        }
        Ok(true)
    }

    /// Whether `wanted` finds a span inside `buf[pos..end]`, the text of one item. It searches
    /// from `pos` to the end of what is held, once: the first span (or none) then answers for
    /// every item up to it, until `buf` moves (`fill` forgets it). Items only move forward and
    /// never end past what is held, so that search always covered the item.
    fn is_wanted(&mut self, wanted: Wanted<'_>, end: usize) -> bool {
        let start = self.pos;
        let span = match &self.found {
            // A span behind this item was an earlier item's: search again from here.
            Some(Some(span)) if span.start < start => None,
            found => found.clone(),
        };
        let span = span.unwrap_or_else(|| {
            let span = wanted(&self.buf[start..self.held]).map(|s| start + s.start..start + s.end);
            self.found = Some(span.clone());
            span
        });
        match span {
            None => false,
            Some(span) if span.start >= end => false,
            Some(span) if span.end <= end => true,
            // The first span runs past the item: ask again about the item alone.
            Some(_) => wanted(&self.buf[start..end]).is_some(),
        }
    }

    /// Where the value that starts at `pos` ends, reading as needed: strings (with their
    /// escapes) and brackets are followed; the grammar in between is not checked. Also says
    /// whether a string in it holds an escape.
    fn cut_value(&mut self) -> Result<(usize, bool), serde_json::Error> {
        if self.peek()?.is_none() {
            return Err(malformed("a value"));
        }
        let mut scan = Scan::default();
        let mut at = self.pos;
        loop {
            let end = scan.run(&self.buf[..self.held], &mut at);
            if end.unwrap_or(at) - self.pos > ITEM_MAX {
                return Err(over("one list item"));
            }
            if let Some(end) = end {
                if end == self.pos {
                    return Err(malformed("a value"));
                }
                return Ok((end, scan.escapes));
            }
            let start = self.pos;
            let more = self.fill(CHUNK)?;
            // `fill` may have moved what was not consumed.
            at = at - start + self.pos;
            if !more {
                // A bare number or literal may end with the input; anything else is cut.
                return match (scan.depth, scan.in_string) {
                    (0, false) if at > self.pos => Ok((at, scan.escapes)),
                    _ => Err(malformed(
                        "the rest of a value (the answer ends inside one)",
                    )),
                };
            }
        }
    }
}

/// Where a value's end has been looked for, kept across reads.
#[derive(Default)]
struct Scan {
    /// Open brackets.
    depth: usize,
    in_string: bool,
    /// The previous byte in a string was a backslash.
    escaped: bool,
    /// A string held an escape.
    escapes: bool,
}

/// Where [`Scan::block`] left off.
enum Block {
    /// The value goes on past the block.
    Through,
    /// The value ends this many bytes into the block.
    EndsAt(usize),
    /// The block holds a backslash: it is for the byte-by-byte path.
    Escapes,
}

impl Scan {
    /// Looks at `buf[*at..]`, moving `at`; the value's end once seen.
    ///
    /// Inside a value's brackets, with no escape pending, 64 bytes are taken at a time
    /// ([`Scan::block`]); a block with a backslash, and everything at the value's top level,
    /// goes byte by byte.
    fn run(&mut self, buf: &[u8], at: &mut usize) -> Option<usize> {
        let mut bytewise_until = 0;
        while *at < buf.len() {
            if self.depth > 0 && !self.escaped && *at >= bytewise_until {
                if let Some(block) = buf[*at..].first_chunk::<64>() {
                    match self.block(block) {
                        Block::Through => {
                            *at += 64;
                            continue;
                        }
                        Block::EndsAt(n) => {
                            *at += n;
                            return Some(*at);
                        }
                        Block::Escapes => bytewise_until = *at + 64,
                    }
                }
            }
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    *at += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &buf[*at..]) {
                    None => *at = buf.len(),
                    Some(k) => {
                        *at += k + 1;
                        if buf[*at - 1] == b'\\' {
                            self.escaped = true;
                            self.escapes = true;
                        } else {
                            self.in_string = false;
                            if self.depth == 0 {
                                return Some(*at);
                            }
                        }
                    }
                }
                continue;
            }
            match buf[*at] {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' | b',' | b':' | b' ' | b'\t' | b'\r' | b'\n' if self.depth == 0 => {
                    // A bare number or literal ends before its delimiter.
                    return Some(*at);
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        *at += 1;
                        return Some(*at);
                    }
                }
                _ => {}
            }
            *at += 1;
        }
        None
    }

    /// Follows 64 bytes at once when they hold no backslash, so every quote in them opens or
    /// closes a string: bit masks of the quotes and brackets (SIMD compares), the running
    /// parity of the quotes for which bytes are inside a string, and only the brackets outside
    /// strings counted. Called with `depth > 0` and no escape pending.
    fn block(&mut self, block: &[u8; 64]) -> Block {
        let mut quotes = 0u64;
        let mut opens = 0u64;
        let mut closes = 0u64;
        for (i, lanes) in block.chunks_exact(16).enumerate() {
            let lanes = u8x16::new(lanes.try_into().expect("16 bytes"));
            // 16 lanes: move_mask sets bits 0 to 15 only.
            let mask = |byte: u8, of: u8x16| {
                (of.cmp_eq(u8x16::splat(byte)).move_mask() as u64) << (16 * i)
            };
            if mask(b'\\', lanes) != 0 {
                return Block::Escapes;
            }
            quotes |= mask(b'"', lanes);
            // `[` and `]` are `{` and `}` with bit 5 clear, and no other byte is.
            let folded = lanes | u8x16::splat(0x20);
            opens |= mask(b'{', folded);
            closes |= mask(b'}', folded);
        }
        // Bit i: byte i is inside a string (an opening quote counts as inside, a closing one
        // as outside).
        let mut inside = prefix_xor(quotes);
        if self.in_string {
            inside = !inside;
        }
        let mut brackets = (opens | closes) & !inside;
        while brackets != 0 {
            let i = brackets.trailing_zeros();
            if opens >> i & 1 == 1 {
                self.depth += 1;
            } else {
                self.depth -= 1;
                if self.depth == 0 {
                    self.in_string = false;
                    return Block::EndsAt(i as usize + 1);
                }
            }
            brackets &= brackets - 1;
        }
        self.in_string = inside >> 63 == 1;
        Block::Through
    }
}

/// Bit i of the result is the parity of bits 0..=i of `x`.
pub(crate) fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `step` bytes at a time, so every value falls across reads somewhere.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(buf.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The items of `text`'s `users` list, as compact JSON.
    fn items(
        text: &str,
        limits: BodyLimits,
        step: usize,
    ) -> Result<Vec<String>, serde_json::Error> {
        let mut out = Vec::new();
        let n = for_each_item(
            Trickle(text.as_bytes(), step),
            "users",
            limits,
            &mut |v: serde_json::Value| out.push(v.to_string()),
        )?;
        assert_eq!(n as usize, out.len());
        Ok(out)
    }

    #[test]
    fn hands_over_each_item_whatever_the_read_sizes() {
        let text = r#" { "total" : [1, {"a": "]}\"{"}], "users" : [ {"u":"a\\\"b"} , 2 ,"x,y" , [3,[]], true,-1.5e3, 1234567 ] , "z": null } "#;
        for step in [1, 2, 3, 7, 64, 4096] {
            let got = items(text, BodyLimits::LIST, step).unwrap();
            assert_eq!(
                got,
                [
                    r#"{"u":"a\\\"b"}"#,
                    "2",
                    r#""x,y""#,
                    "[3,[]]",
                    "true",
                    "-1500.0",
                    "1234567"
                ],
                "step {step}"
            );
        }
        assert_eq!(
            items(r#"{"users":[]}"#, BodyLimits::LIST, 1).unwrap().len(),
            0
        );
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for bad in [
            r#"{"users":[1,]}"#,
            r#"{"users":[1 2]}"#,
            r#"{"users":[{"a":1,}]}"#,
            r#"{"users":[{"a":1}x]}"#,
            r#"{"users":[tru]}"#,
            r#"{"users":[1x]}"#,
            r#"{"users":[1]"#,
            r#"{"users":[1"#,
            r#"{"users":[{"a":1"#,
            r#"{"users":[1]}x"#,
            r#"{"users":[1]},"#,
            r#"{"users":[1],}"#,
            r#"{"users" [1]}"#,
            r#"{users:[1]}"#,
            r#"{"users":[{"a":"b}]}"#,
            r#"{"a":[1 2],"users":[]}"#,
            r#"{"users":["\x"]}"#,
            r#"[{"users":[]}]"#,
            r#"{"users":[],"users":[]}"#,
            r#"{"other":[]}"#,
            r#"{}"#,
            "",
            "{",
        ] {
            for step in [1, 5, 4096] {
                let e = items(bad, BodyLimits::LIST, step).expect_err(bad);
                assert!(e.io_error_kind().is_none(), "{bad}: {e}");
            }
        }
        // Nesting beyond serde_json's recursion limit is refused, not a stack overflow.
        let deep = format!(r#"{{"users":[{}{}]}}"#, "[".repeat(5000), "]".repeat(5000));
        assert!(items(&deep, BodyLimits::LIST, 4096).is_err());
    }

    #[test]
    fn another_member_that_is_not_utf8_is_refused_as_serde_json_refuses_it() {
        // The `answers` fuzz target's find: bytes that are not UTF-8 in a string of another
        // member, which serde_json skips without looking. Before the list and after it, in a
        // value and in a name inside it, cut by every read size.
        for bad in [
            &b"{\"total\":[\"x\x8b\"],\"users\":[1]}"[..],
            b"{\"users\":[1],\"z\":\"\xde\x86\x8b\x9e\"}",
            b"{\"users\":[1],\"z\":{\"\xff\":1}}",
            b"{\"z\":[\"\xed\xa0\x80\"],\"users\":[]}",
        ] {
            assert!(serde_json::from_slice::<serde_json::Value>(bad).is_err());
            for step in [1, 5, 4096] {
                let read = for_each_item(
                    Trickle(bad, step),
                    "users",
                    BodyLimits::LIST,
                    &mut |_: serde_json::Value| {},
                );
                let e = read.expect_err(&String::from_utf8_lossy(bad));
                assert!(e.io_error_kind().is_none(), "{e}");
                assert!(e.to_string().contains("UTF-8"), "{e}");
            }
        }
        // Text past ASCII that is UTF-8 is read as before, whatever the read size.
        let good = "{\"total\":[\"é ü ✓ 𝄞\"],\"users\":[1],\"z\":{\"ж\":\"€\"}}";
        for step in [1, 2, 3, 4096] {
            assert_eq!(items(good, BodyLimits::LIST, step).unwrap(), ["1"]);
        }
    }

    /// With `wanted`: (items counted, items handed over as compact JSON).
    fn wanted_items(
        text: &str,
        step: usize,
        wanted: Wanted<'_>,
    ) -> Result<(u64, Vec<String>), serde_json::Error> {
        let mut out = Vec::new();
        let n = for_each_wanted_item(
            Trickle(text.as_bytes(), step),
            "users",
            BodyLimits::LIST,
            Some(wanted),
            &mut |v: serde_json::Value| out.push(v.to_string()),
        )?;
        Ok((n, out))
    }

    #[test]
    fn items_not_wanted_are_counted_but_neither_parsed_nor_handed_over() {
        let text = r#"{"total":[1],"users":[{"u":"a\\\"b]"},2,"x,y",[3,[]],{"v":"}"},true,-1.5e3,1234567],"z":null}"#;
        let with = |needle: &'static [u8]| {
            move |t: &[u8]| {
                let at = t.windows(needle.len()).position(|w| w == needle)?;
                Some(at..at + needle.len())
            }
        };
        for step in [1, 2, 3, 7, 64, 4096] {
            let (n, got) = wanted_items(text, step, &with(b"\"u\"")).unwrap();
            assert_eq!(
                (n, got.as_slice()),
                (8, &[r#"{"u":"a\\\"b]"}"#.to_owned()][..]),
                "step {step}"
            );
            let (n, got) = wanted_items(text, step, &|_| Some(0..0)).unwrap();
            assert_eq!((n, got.len()), (8, 8), "step {step}");
            assert_eq!(got[4], r#"{"v":"}"}"#);
            assert_eq!(got[7], "1234567");
        }
        // An item with an escape is parsed without asking: the escape may spell the needle.
        for step in [1, 2, 5, 4096] {
            let text = r#"{"users":[{"a":"b"},{"n":"\u0061lice"},{"c":"d\\"}]}"#;
            let (n, got) = wanted_items(text, step, &|_| None).unwrap();
            assert_eq!(
                (n, got.as_slice()),
                (
                    3,
                    &[r#"{"n":"alice"}"#.to_owned(), r#"{"c":"d\\"}"#.to_owned()][..]
                )
            );
        }
        // A wanted item is parsed, so its grammar is checked.
        assert!(wanted_items(r#"{"users":[{"u":1,}]}"#, 3, &|_| Some(0..0)).is_err());
    }

    #[test]
    fn skipped_items_still_end_where_json_says_and_the_envelope_is_checked() {
        for bad in [
            r#"{"users":[1,]}"#,
            r#"{"users":[,1]}"#,
            r#"{"users":[1 2]}"#,
            r#"{"users":[{"a":1}x]}"#,
            r#"{"users":[1]"#,
            r#"{"users":[1"#,
            r#"{"users":[{"a":1"#,
            r#"{"users":["a"#,
            r#"{"users":[1]}x"#,
            r#"{"users":[1],}"#,
            r#"{users:[1]}"#,
            r#"{"users":[{"a":"b}]}"#,
            r#"{"a":[1 2],"users":[]}"#,
            r#"[{"users":[]}]"#,
            r#"{"users":[],"users":[]}"#,
            r#"{"other":[]}"#,
            "",
            "{",
        ] {
            for step in [1, 5, 4096] {
                let e = wanted_items(bad, step, &|_| None).expect_err(bad);
                assert!(e.io_error_kind().is_none(), "{bad}: {e}");
            }
        }
        let big = format!(r#"{{"users":["{}"]}}"#, "x".repeat(ITEM_MAX));
        let Err(e) = wanted_items(&big, CHUNK, &|_| None) else {
            panic!("a skipped item over {ITEM_MAX} bytes was accepted");
        };
        assert!(is_over_limit(e));
    }

    /// A JSON value of random shape, with strings full of what the cutter must not be fooled
    /// by (brackets, quotes, backslashes, escapes), some long enough to cross 64-byte blocks.
    fn random_value(rng: &mut fastrand::Rng, depth: u32) -> serde_json::Value {
        use serde_json::Value;
        const PIECES: [&str; 10] = ["{", "}", "[", "]", "\"", "\\", "a", "é", "x y", "\u{1}"];
        match rng.u32(0..if depth > 3 { 4 } else { 7 }) {
            0 => Value::from(rng.i64(-1_000_000..1_000_000)),
            1 => Value::from(rng.bool()),
            2 => Value::Null,
            3 => Value::from(
                (0..rng.usize(0..40))
                    .map(|_| PIECES[rng.usize(0..PIECES.len())])
                    .collect::<String>(),
            ),
            4 | 5 => Value::Object(
                (0..rng.usize(0..8))
                    .map(|k| (format!("k{k}"), random_value(rng, depth + 1)))
                    .collect(),
            ),
            _ => Value::Array(
                (0..rng.usize(0..6))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
        }
    }

    #[test]
    fn cutting_64_bytes_at_a_time_ends_every_item_where_serde_json_does() {
        let mut rng = fastrand::Rng::with_seed(13);
        for round in 0..300 {
            let list: Vec<serde_json::Value> = (0..rng.usize(1..12))
                .map(|_| random_value(&mut rng, 0))
                .collect();
            // Pretty-printed too: whitespace between tokens, inside and between items.
            let body = serde_json::json!({ "users": list });
            let texts = [
                body.to_string(),
                serde_json::to_string_pretty(&body).unwrap(),
            ];
            let want: Vec<String> = list.iter().map(|v| v.to_string()).collect();
            for text in &texts {
                for step in [1, 63, 64, 65, 1000, 4096] {
                    let (n, got) = wanted_items(text, step, &|_| Some(0..0)).unwrap();
                    assert_eq!(
                        (n as usize, &got),
                        (want.len(), &want),
                        "round {round} step {step}"
                    );
                    let (n, got) = wanted_items(text, step, &|_| None).unwrap();
                    // Only items with an escape are parsed when nothing is wanted.
                    let escaped: Vec<&String> = want.iter().filter(|t| t.contains('\\')).collect();
                    assert_eq!(n as usize, want.len(), "round {round} step {step}");
                    assert_eq!(got.iter().collect::<Vec<_>>(), escaped, "round {round}");
                }
            }
        }
    }

    /// The items of `text` read `step` bytes at a time, objects read whole by serde_json
    /// before they are cut (as a caller's reader would), and how many were read so.
    fn items_read_whole(
        text: &str,
        step: usize,
    ) -> Result<(Vec<String>, usize), serde_json::Error> {
        let out = std::cell::RefCell::new(Vec::new());
        let mut whole_count = 0;
        let n = for_each_item_read(
            Trickle(text.as_bytes(), step),
            "users",
            BodyLimits::LIST,
            None,
            Some(&mut |held| {
                let mut values =
                    serde_json::Deserializer::from_slice(held).into_iter::<serde_json::Value>();
                match values.next() {
                    // An object's end is its own: one cut by the window is not read.
                    Some(Ok(v)) if v.is_object() => {
                        whole_count += 1;
                        out.borrow_mut().push(v.to_string());
                        Some(values.byte_offset())
                    }
                    _ => None,
                }
            }),
            &mut |t| {
                let v: serde_json::Value = serde_json::from_slice(t)?;
                out.borrow_mut().push(v.to_string());
                Ok(())
            },
        )?;
        let out = out.into_inner();
        assert_eq!(n as usize, out.len());
        Ok((out, whole_count))
    }

    #[test]
    fn items_read_whole_before_they_are_cut_are_the_items_of_the_list_in_order() {
        let mut rng = fastrand::Rng::with_seed(1024);
        let mut read_whole = 0;
        for round in 0..300 {
            let list: Vec<serde_json::Value> = (0..rng.usize(1..12))
                .map(|_| random_value(&mut rng, 0))
                .collect();
            let body = serde_json::json!({ "users": list, "total": 1 });
            let want: Vec<String> = list.iter().map(|v| v.to_string()).collect();
            for text in [
                body.to_string(),
                serde_json::to_string_pretty(&body).unwrap(),
            ] {
                for step in [1, 63, 1000, 4096] {
                    let (got, whole) = items_read_whole(&text, step).unwrap();
                    assert_eq!(got, want, "round {round} step {step}");
                    read_whole += whole;
                }
            }
        }
        assert!(read_whole > 1_000, "only {read_whole} read whole");
        // What follows an item read whole is checked as after any item.
        for bad in [
            r#"{"users":[{"a":1} {"b":2}]}"#,
            r#"{"users":[{"a":1},]}"#,
            r#"{"users":[{"a":1}"#,
            r#"{"users":[{"a":1}]"#,
        ] {
            assert!(items_read_whole(bad, 4096).is_err(), "{bad}");
            assert!(items(bad, BodyLimits::LIST, 4096).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_quote_or_bracket_on_a_block_edge_is_followed() {
        // Items long enough for the 64-byte path, with the telling byte moved across each
        // position of a block.
        for pad in 0..130 {
            let filler = "x".repeat(pad);
            let items = [
                format!(r#"{{"a":"{filler}}}","b":[1,{{"c":"]"}}]}}"#),
                format!(r#"{{"a":"{filler}","b":"{{[\"\\"}}"#),
                format!(r#"[[[["{filler}"]]],{{}},"}}{filler}"]"#),
                format!(r#"{{"{filler}":{{"{filler}":["{filler}",{{}}]}}}}"#),
            ];
            let text = format!(r#"{{"users":[{}],"after":"]}}"}}"#, items.join(","));
            let want: Vec<String> = items
                .iter()
                .map(|t| {
                    serde_json::from_str::<serde_json::Value>(t)
                        .unwrap()
                        .to_string()
                })
                .collect();
            for step in [7, 64, 4096] {
                let (n, got) = wanted_items(&text, step, &|_| Some(0..0)).unwrap();
                assert_eq!((n, got), (4, want.clone()), "pad {pad} step {step}");
            }
        }
    }

    #[test]
    fn prefix_xor_is_the_running_parity() {
        let mut rng = fastrand::Rng::with_seed(64);
        for x in [0, 1, u64::MAX, 1 << 63, 0b1001]
            .into_iter()
            .chain((0..1000).map(|_| rng.u64(..)))
        {
            let got = prefix_xor(x);
            for i in 0..64 {
                let parity = (x & (u64::MAX >> (63 - i))).count_ones() % 2;
                assert_eq!(got >> i & 1, u64::from(parity), "{x:#x} bit {i}");
            }
        }
    }

    #[test]
    fn the_search_runs_ahead_but_picks_only_items_that_hold_a_whole_span() {
        let needle = b"bob";
        let find = |t: &[u8]| {
            let at = t.windows(needle.len()).position(|w| w == needle)?;
            Some(at..at + needle.len())
        };
        let pad = "p".repeat(90);
        // "bo" + "b" across two items is no span inside either; the second and fifth hold one.
        let items = [
            format!(r#""{pad}bo""#),
            format!(r#"{{"u":"bob","p":"{pad}"}}"#),
            format!(r#""b{pad}""#),
            format!(r#""{pad}""#),
            format!(r#"["{pad}","xbobx"]"#),
            r#""bo""#.to_owned(),
        ];
        let text = format!(r#"{{"users":[{}]}}"#, items.join(","));
        for step in [1, 3, 64, 100, 4096] {
            let (n, got) = wanted_items(&text, step, &find).unwrap();
            assert_eq!(n, 6);
            assert_eq!(got.len(), 2, "step {step}: {got:?}");
            assert!(
                got[0].contains(r#""u":"bob""#) && got[1].contains("xbobx"),
                "{got:?}"
            );
        }
        // A finder whose first span runs past the item is asked again about the item alone.
        let long_or_short = |t: &[u8]| {
            let s = std::str::from_utf8(t).unwrap();
            s.find("ab,\"ab")
                .map(|at| at..at + 5)
                .or_else(|| s.find("ab").map(|at| at..at + 2))
        };
        let (n, got) = wanted_items(r#"{"users":["ab","ab"]}"#, 4096, &long_or_short).unwrap();
        assert_eq!((n, got.len()), (2, 2));
    }

    #[test]
    fn a_span_across_two_items_picks_neither() {
        // The span starts in the first user and ends in the second; a finder whose first span
        // runs past an item is asked again about the item alone, which holds none.
        let needle = br#"x"},{"y"#;
        let find = |t: &[u8]| {
            let at = t.windows(needle.len()).position(|w| w == needle)?;
            Some(at..at + needle.len())
        };
        let text = r#"{"users":[{"a":"x"},{"y":1},{"b":"x"},{"y":2}]}"#;
        for step in [1, 4, 4096] {
            let (n, got) = wanted_items(text, step, &find).unwrap();
            assert_eq!((n, got.len()), (4, 0), "step {step}: {got:?}");
        }
    }

    #[test]
    fn an_interrupted_read_is_read_again() {
        struct Interrupting<'a>(&'a [u8], bool);
        impl Read for Interrupting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.1 = !self.1;
                if self.1 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                Trickle(self.0, 3)
                    .read(buf)
                    .inspect(|n| self.0 = &self.0[*n..])
            }
        }
        let text = br#"{"users":[{"a":"b"},2,"c"]}"#;
        let mut got = Vec::new();
        let n = for_each_item(
            Interrupting(text, false),
            "users",
            BodyLimits::LIST,
            &mut |v: serde_json::Value| got.push(v),
        )
        .unwrap();
        assert_eq!((n, got.len()), (3, 3));
    }

    #[test]
    fn a_malformed_member_before_a_long_list_is_malformed_not_too_large() {
        // Only a value that may be a number or literal cut by the read is read on: this one
        // is refused where it stands, not after a mebibyte more.
        let long = format!(r#"{{"a":[1 2],"users":[{}1]}}"#, "1,".repeat(ITEM_MAX));
        for step in [64, CHUNK] {
            let e = items(&long, BodyLimits::LIST, step).unwrap_err();
            assert!(e.io_error_kind().is_none(), "{e}");
        }
    }

    #[test]
    fn a_number_member_cut_by_a_read_is_read_whole() {
        // Bare numbers beside the list, each split at every place by the read sizes.
        let text = r#"{"total":1234567890,"users":[1],"offset":-98.765e4}"#;
        for step in 1..=text.len() {
            assert_eq!(
                items(text, BodyLimits::LIST, step).unwrap(),
                ["1"],
                "step {step}"
            );
        }
    }

    fn is_over_limit(e: serde_json::Error) -> bool {
        super::super::bounded::is_over_limit(&io::Error::from(e))
    }

    #[test]
    fn the_total_bound_holds() {
        let small = BodyLimits {
            total: 200,
            ..BodyLimits::LIST
        };
        let long = format!(r#"{{"users":[{}]}}"#, vec!["1"; 100].join(","));
        assert!(is_over_limit(items(&long, small, 3).unwrap_err()));
        items(r#"{"users":[1,2,3]}"#, small, 3).unwrap();
    }

    #[test]
    fn one_item_over_the_item_bound_is_an_io_error() {
        let string = format!(r#"{{"users":["{}"]}}"#, "x".repeat(ITEM_MAX));
        let array = format!(r#"{{"users":[[{}1]]}}"#, "1,".repeat(ITEM_MAX / 2));
        let member = format!(r#"{{"other":"{}","users":[]}}"#, "x".repeat(ITEM_MAX));
        for big in [string, array, member] {
            let Err(e) = items(&big, BodyLimits::LIST, CHUNK) else {
                panic!("an item over {ITEM_MAX} bytes was accepted");
            };
            assert!(e.to_string().contains("one list item"), "{e}");
            assert!(is_over_limit(e));
        }
        // Just under the bound passes; so does a long list of small items.
        let under = format!(r#"{{"users":["{}"]}}"#, "x".repeat(ITEM_MAX - 10));
        assert_eq!(items(&under, BodyLimits::LIST, 1000).unwrap().len(), 1);
        let long = format!(r#"{{"users":[{}1]}}"#, "1,".repeat(ITEM_MAX / 2 + 10));
        assert_eq!(
            items(&long, BodyLimits::LIST, CHUNK).unwrap().len(),
            ITEM_MAX / 2 + 11
        );
    }

    #[test]
    fn a_broken_read_is_an_io_error() {
        struct Broken(bool);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(io::ErrorKind::ConnectionReset.into());
                }
                buf[..12].copy_from_slice(br#"{"users":[1,"#);
                Ok(12)
            }
        }
        let e = for_each_item(
            Broken(false),
            "users",
            BodyLimits::LIST,
            &mut |_: IgnoredAny| {},
        )
        .expect_err("broken");
        assert_eq!(e.io_error_kind(), Some(io::ErrorKind::ConnectionReset));
        assert!(!is_over_limit(e));
    }
}
