//! Reading an answer body on a second thread, ahead of whoever parses it: for a list answer,
//! receiving and inflating the body (about a fifth of `discover`'s work at 200 000 users,
//! issue 13) then runs beside cutting and parsing it instead of between.
//!
//! The reading thread reads into buffers of [`CHUNK`] bytes and hands each read over a
//! channel that holds at most [`AHEAD`] of them, so memory stays bounded; emptied buffers go
//! back to be filled again. What the parser sees is the same bytes, in order, and the same error where
//! the body broke: the bytes read before an error are handed over first.
//!
//! The thread owns the body and is not waited for. When the parser stops early (a malformed
//! answer), the run goes on at once: a server that then holds the connection silent would
//! otherwise keep the run until the request's timeout (a minute, where the answer alone took
//! 28 ms). The thread stops at its next hand-over, or when its read returns.

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

/// Bytes read at a time.
pub const CHUNK: usize = 64 * 1024;

/// Buffers read ahead at most (besides the one being read and the one being parsed).
pub const AHEAD: usize = 4;

/// Calls `parse` with a reader of `body`'s bytes, while a second thread reads `body` ahead
/// of it; returns what `parse` returns. `parse` runs on this thread.
pub fn read_ahead<T>(
    mut body: impl Read + Send + 'static,
    parse: impl FnOnce(&mut dyn Read) -> T,
) -> T {
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(AHEAD);
    let (empty_tx, empty_rx) = channel::<Vec<u8>>();
    // Named for profilers; it fails to start only where `thread::spawn` would panic too.
    std::thread::Builder::new()
        .name("body-reader".into())
        .spawn(move || fill(&mut body, &full_tx, &empty_rx))
        .expect("the body reader thread could not start");
    let mut ahead = Ahead {
        full: full_rx,
        empty: empty_tx,
        chunk: Vec::new(),
        at: 0,
        failed: None,
    };
    // When `ahead` is dropped here, the channels close, and the thread ends at its next
    // hand-over.
    parse(&mut ahead)
}

/// The reading thread: fills buffers from `body` until its end, an error, or the parser is
/// gone.
fn fill(body: &mut impl Read, full: &SyncSender<io::Result<Vec<u8>>>, empty: &Receiver<Vec<u8>>) {
    loop {
        let mut chunk = empty
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        // Only what the buffer's last read did not fill is zeroed again.
        chunk.resize(CHUNK, 0);
        // What one read gives is handed over at once: a server that sends a little and then
        // holds the connection silent must not keep the parser from what it sent.
        let read = loop {
            match body.read(&mut chunk) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read,
            }
        };
        match read {
            // The end of the body: the channel closes when this thread returns.
            Ok(0) => return,
            Ok(n) => {
                chunk.truncate(n);
                if full.send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Err(e) => {
                let _ = full.send(Err(e));
                return;
            }
        }
    }
}

/// The parser's side: the buffers as one reader.
struct Ahead {
    full: Receiver<io::Result<Vec<u8>>>,
    empty: Sender<Vec<u8>>,
    chunk: Vec<u8>,
    at: usize,
    /// The body broke (or ended: `None` inside): every later read says so again.
    failed: Option<Option<io::ErrorKind>>,
}

impl Read for Ahead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            match self.failed {
                Some(None) => return Ok(0),
                Some(Some(kind)) => return Err(io::Error::new(kind, "the answer broke off")),
                None => {}
            }
            match self.full.recv() {
                Ok(Ok(chunk)) => {
                    let used = std::mem::replace(&mut self.chunk, chunk);
                    // The reading thread may be gone: the buffer is then dropped.
                    let _ = self.empty.send(used);
                    self.at = 0;
                }
                Ok(Err(e)) => {
                    self.failed = Some(Some(e.kind()));
                    return Err(e);
                }
                // The reading thread ended: the end of the body.
                Err(_) => self.failed = Some(None),
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body that gives at most `step` bytes a read, an `Interrupted` error every third
    /// read, and then, if set, fails.
    struct Body {
        bytes: Vec<u8>,
        at: usize,
        step: usize,
        reads: usize,
        fails: Option<io::ErrorKind>,
    }

    impl Read for Body {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            if self.reads % 3 == 0 {
                return Err(io::ErrorKind::Interrupted.into());
            }
            if self.at == self.bytes.len() {
                return match self.fails {
                    Some(kind) => Err(io::Error::new(kind, "broken")),
                    None => Ok(0),
                };
            }
            let n = buf.len().min(self.step).min(self.bytes.len() - self.at);
            buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn body(len: usize, step: usize, fails: Option<io::ErrorKind>) -> Body {
        Body {
            bytes: (0..len).map(|i| (i * 7 % 251) as u8).collect(),
            at: 0,
            step,
            reads: 0,
            fails,
        }
    }

    /// Everything the parser reads, in reads of at most `step` bytes, and how it ended.
    fn read_all(body: Body, step: usize) -> (Vec<u8>, io::Result<()>) {
        read_ahead(body, |reader| {
            let mut got = Vec::new();
            let mut buf = vec![0; step];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) => return (got, Ok(())),
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                    Err(e) => return (got, Err(e)),
                }
            }
        })
    }

    #[test]
    fn the_parser_reads_the_bodys_bytes_in_order_whatever_the_read_sizes() {
        for len in [
            0,
            1,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            3 * CHUNK + 17,
            10 * CHUNK,
        ] {
            for (body_step, parse_step) in [(1 << 20, 4096), (1000, 1), (7, CHUNK + 3)] {
                if body_step * 100 < len || parse_step * 1000 < len {
                    continue;
                }
                let b = body(len, body_step, None);
                let sent = b.bytes.clone();
                let (got, end) = read_all(b, parse_step);
                assert!(end.is_ok(), "{len} {body_step} {parse_step}");
                assert!(got == sent, "{len} {body_step} {parse_step}");
            }
        }
    }

    #[test]
    fn a_body_that_breaks_gives_every_byte_before_it_then_the_error_and_again_after() {
        for len in [0, 5, CHUNK, 2 * CHUNK + 5] {
            let b = body(len, 1000, Some(io::ErrorKind::ConnectionReset));
            let sent = b.bytes.clone();
            let (got, end) = read_all(b, 4096);
            assert!(got == sent, "{len}");
            assert_eq!(end.unwrap_err().kind(), io::ErrorKind::ConnectionReset);
        }
        let b = body(10, 1000, Some(io::ErrorKind::TimedOut));
        let kinds = read_ahead(b, |reader| {
            let mut buf = [0; 64];
            assert_eq!(reader.read(&mut buf).unwrap(), 10);
            let first = reader.read(&mut buf).unwrap_err().kind();
            let again = reader.read(&mut buf).unwrap_err().kind();
            (first, again)
        });
        assert_eq!(kinds, (io::ErrorKind::TimedOut, io::ErrorKind::TimedOut));
    }

    #[test]
    fn a_parser_that_stops_early_stops_the_reading_thread() {
        // An endless body: the thread must see that the parser is gone, and end.
        let (ended_tx, ended_rx) = channel();
        let endless = Endless { _ended: ended_tx };
        let first = read_ahead(endless, |reader| {
            let mut buf = [0; 10];
            reader.read(&mut buf).map(|n| buf[..n].to_vec())
        });
        assert_eq!(first.unwrap(), b"xxxxxxxxxx");
        // The body is dropped when the thread ends.
        assert!(
            ended_rx
                .recv_timeout(std::time::Duration::from_secs(10))
                .is_err_and(|e| e == std::sync::mpsc::RecvTimeoutError::Disconnected)
        );
    }

    /// Endless `x`; its sender closes when it is dropped.
    struct Endless {
        _ended: Sender<()>,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            buf.fill(b'x');
            Ok(buf.len())
        }
    }

    #[test]
    fn a_parser_that_stops_early_does_not_wait_for_a_silent_body() {
        // A body that gives a few bytes and then blocks (a server holding the connection
        // silent): the parser's answer comes back at once, not when the read returns.
        struct Silent(bool, std::sync::mpsc::Receiver<()>);
        impl Read for Silent {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if std::mem::replace(&mut self.0, false) {
                    buf[..3].copy_from_slice(b"{x}");
                    return Ok(3);
                }
                // Blocks until the test ends (its sender dropped), then ends the body.
                let _ = self.1.recv();
                Ok(0)
            }
        }
        let (hold, wait) = channel::<()>();
        let started = std::time::Instant::now();
        let first = read_ahead(Silent(true, wait), |reader| {
            let mut buf = [0; 3];
            reader.read(&mut buf).map(|n| buf[..n].to_vec())
        });
        assert_eq!(first.unwrap(), b"{x}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(hold);
    }
}
