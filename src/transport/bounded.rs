//! Bounds on what one answer can make this process hold: total size, size of any one JSON
//! string or other token, and nesting depth.
//!
//! A 2xx `GET /users` answer is parsed as a stream, so its total size alone does not decide
//! memory; one string does. serde_json buffers a string whole before any visitor sees it, so
//! a gzip-bombed username grew the process to 4 GiB (issue 10, row 7). [`BoundedJson`] sits
//! between the decompressor and the parser and fails the read as soon as a bound is crossed,
//! so memory stays flat whatever the server sends. It knows JSON only as far as counting
//! needs: inside or outside a string, escapes, and brackets.

use std::io::{self, Read};

/// Limits for one answer body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Most bytes read (after decompression).
    pub total: u64,
    /// Longest JSON string, number or literal, in bytes.
    pub token: usize,
    /// Deepest nesting of objects and arrays.
    pub depth: usize,
}

impl BodyLimits {
    /// A list that may hold every user of a large tenant: 200 000 users are about 73 MB, so
    /// this allows some 350 000, while an endless answer ends in seconds, not at the deadline.
    pub const LIST: BodyLimits = BodyLimits {
        total: 128 * 1024 * 1024,
        token: 64 * 1024,
        depth: 32,
    };
    /// An answer read whole and parsed into a tree: one credential, one envelope. Small,
    /// because a parsed tree can be many times the size of its text.
    pub const DOCUMENT: BodyLimits = BodyLimits {
        total: 1024 * 1024,
        token: 64 * 1024,
        depth: 32,
    };
    /// A list read whole (Security Center's lists), parsed into typed rows only.
    pub const WHOLE_LIST: BodyLimits = BodyLimits {
        total: 8 * 1024 * 1024,
        token: 64 * 1024,
        depth: 32,
    };
    /// An error answer: only its message is ever shown, cut to a few hundred characters.
    pub const ERROR: BodyLimits = BodyLimits {
        total: 64 * 1024,
        token: 64 * 1024,
        depth: 32,
    };
}

/// The marker inside the `io::Error` a crossed bound produces, so callers can tell it from a
/// broken connection.
#[derive(Debug)]
pub struct OverLimit(pub &'static str);

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the answer is over the size bounds ({})", self.0)
    }
}

impl std::error::Error for OverLimit {}

/// Whether `error` (or the serde error wrapping it) came from a crossed bound.
pub fn is_over_limit(error: &io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.downcast_ref::<OverLimit>().is_some())
}

/// A reader that enforces [`BodyLimits`] on JSON passing through it.
pub struct BoundedJson<R> {
    inner: R,
    limits: BodyLimits,
    read: u64,
    in_string: bool,
    escaped: bool,
    token: usize,
    depth: usize,
}

impl<R: Read> BoundedJson<R> {
    /// Wraps `inner`.
    pub fn new(inner: R, limits: BodyLimits) -> Self {
        BoundedJson {
            inner,
            limits,
            read: 0,
            in_string: false,
            escaped: false,
            token: 0,
            depth: 0,
        }
    }

    fn over(what: &'static str) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, OverLimit(what))
    }

    fn scan(&mut self, bytes: &[u8]) -> io::Result<()> {
        for &b in bytes {
            if self.in_string {
                self.token += 1;
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.token = 0;
                }
            } else {
                match b {
                    b'"' => {
                        self.in_string = true;
                        self.token = 0;
                    }
                    b'{' | b'[' => {
                        self.depth += 1;
                        self.token = 0;
                        if self.depth > self.limits.depth {
                            return Err(Self::over("nesting"));
                        }
                    }
                    b'}' | b']' => {
                        self.depth = self.depth.saturating_sub(1);
                        self.token = 0;
                    }
                    b',' | b':' | b' ' | b'\t' | b'\r' | b'\n' => self.token = 0,
                    _ => self.token += 1,
                }
            }
            if self.token > self.limits.token {
                return Err(Self::over("one string or value"));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for BoundedJson<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.read >= self.limits.total {
            // One byte more tells a body of exactly the limit from a longer one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(Self::over("total size")),
            };
        }
        let room = (self.limits.total - self.read).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n as u64;
        self.scan(&buf[..n])?;
        Ok(n)
    }
}

/// Reads all of `reader` through the bounds into a vector.
pub fn read_bounded(reader: impl Read, limits: BodyLimits) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    BoundedJson::new(reader, limits).read_to_end(&mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: BodyLimits = BodyLimits {
        total: 100,
        token: 10,
        depth: 3,
    };

    fn read(text: &str) -> io::Result<Vec<u8>> {
        read_bounded(text.as_bytes(), SMALL)
    }

    #[test]
    fn passes_what_is_within_bounds() {
        assert!(read(r#"{"users":[{"id":1,"username":"a\"b"}]}"#).is_ok());
        assert!(
            read(&"x".repeat(100)).is_err(),
            "tokens count outside strings too"
        );
        assert!(read(&format!("[{}]", "1,".repeat(49))).is_ok());
    }

    #[test]
    fn refuses_a_long_string_even_with_escapes_inside() {
        let err = read(r#"{"a":"0123456789\"x"}"#).unwrap_err();
        assert!(is_over_limit(&err));
        assert!(read(r#"{"a":"012345678"}"#).is_ok());
    }

    #[test]
    fn refuses_long_numbers_depth_and_total() {
        assert!(is_over_limit(&read("[12345678901]").unwrap_err()));
        assert!(is_over_limit(&read("[[[[1]]]]").unwrap_err()));
        assert!(read("[[[1]]]").is_ok());
        assert!(is_over_limit(
            &read(&format!("[{}1]", "1,".repeat(60))).unwrap_err()
        ));
    }

    #[test]
    fn an_io_error_is_not_an_over_limit() {
        let e = io::Error::other("reset");
        assert!(!is_over_limit(&e));
    }
}
