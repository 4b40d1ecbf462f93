//! Reading an answer body on a second thread, ahead of whoever parses it: for a list answer,
//! receiving and inflating the body (about a fifth of `discover`'s work at 200 000 users,
//! issue 13) then runs beside cutting and parsing it instead of between.
//!
//! The reading thread adds what each read gives to a shared buffer of at most [`HELD`] bytes
//! (and waits for room when it is full); the parser takes all of it whenever it needs more,
//! and waits only when it is empty. So every byte read is the parser's at once (a server that
//! sends a little and then holds the connection silent does not keep it from what it sent),
//! and when the parser is behind it takes large pieces: a hand-over per read, each waking the
//! other thread, cost `check` as much as the thread gained (53 to 77 ms at 200 000 users).
//! What the parser sees is the same bytes, in order, and the same error where the body broke:
//! the bytes read before an error come first. A list's parser ([`Source`]) takes each buffer
//! whole, with what it kept of the one before put in the room left at its start: the body's
//! bytes are copied once, into the shared buffer, not again into the parser's.
//!
//! The reading thread runs five steps of `nice` below the thread that parses (Linux, where a
//! priority is a thread's own): it has time to spare, and where it shares a core with the
//! parser or the printer, they come first (issue 13: at 200 000 users, interleaved series of
//! 21 to 25 rounds, `discover` was 3% to 10% faster in six of seven, 3% slower in one;
//! lowering the printing thread as well gained nothing more).
//!
//! The thread owns the body and is not waited for. When the parser stops early (a malformed
//! answer), the run goes on at once: a server that then holds the connection silent would
//! otherwise keep the run until the request's timeout (a minute, where the answer alone took
//! 28 ms). The thread stops after its read returns.

use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::items::Source;

/// Bytes read at a time. An inflating body keeps its last 32 KiB as the window after each
/// read: reads of 256 KiB copy an eighth of what is inflated there, where reads of 64 KiB
/// copied half (issue 13: 29 of 260 million instructions inflating 200 000 users).
pub const CHUNK: usize = 256 * 1024;

/// Bytes read and not yet taken by the parser, at most (one read more when none are held).
pub const HELD: usize = 256 * 1024;

/// Room left at the start of each buffer the reading thread fills: a list's parser puts what
/// it kept of the buffer before (the start of an item) there, and takes the buffer whole
/// (issue 13: copying each buffer into the parser's was a tenth of reading 200 000 users).
pub const HEADROOM: usize = 4 * 1024;

/// What both threads share.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// The parser waits here for bytes or the end.
    ready: Condvar,
    /// The reading thread waits here for room.
    room: Condvar,
}

#[derive(Default)]
struct State {
    /// Read, not yet taken: `data` bytes after [`HEADROOM`]. What is past them is room
    /// (buffers go round between the threads and are not cleared).
    held: Vec<u8>,
    data: usize,
    /// After `held`: `Some(Ok(()))` the end of the body, `Some(Err(_))` where it broke.
    end: Option<io::Result<()>>,
    /// The parser waits on `ready`.
    waiting: bool,
    /// The parser is done: the reading thread stops.
    gone: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic on the other thread while it held the lock leaves nothing half done here.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Calls `parse` with `body`'s bytes (as a list's [`Source`]), while a second thread reads
/// `body` ahead of it; returns what `parse` returns. `parse` runs on this thread.
pub fn read_ahead<T>(
    mut body: impl Read + Send + 'static,
    parse: impl FnOnce(&mut Ahead) -> T,
) -> T {
    let shared = Arc::new(Shared::default());
    let theirs = Arc::clone(&shared);
    // Named for profilers; it fails to start only where `thread::spawn` would panic too.
    std::thread::Builder::new()
        .name("body-reader".into())
        .spawn(move || {
            yield_to_the_parser();
            fill(&mut body, &theirs)
        })
        .expect("the body reader thread could not start");
    let mut ahead = Ahead {
        shared,
        chunk: Vec::new(),
        at: 0,
        end: 0,
        ended: None,
    };
    // When `ahead` is dropped here, the reading thread is told, and stops after its read.
    parse(&mut ahead)
}

/// How many steps of `nice` the reading thread goes below the thread that started it.
pub const NICER: i32 = 5;

/// Lowers the calling thread's priority by [`NICER`] (at most to 19, the lowest). Only on
/// Linux, where `setpriority` on the calling process's id 0 sets the calling thread's own;
/// elsewhere it would lower the whole process, and nothing is done. A failure (a sandbox that
/// forbids the call) leaves the priority as it was: it only ever concerns speed.
fn yield_to_the_parser() {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        if let Ok(now) = getpriority_process(None) {
            let _ = setpriority_process(None, (now + NICER).min(19));
        }
    }
}

/// The reading thread: reads `body` until its end, an error, or the parser is gone.
fn fill(body: &mut impl Read, shared: &Shared) {
    // Read into the room after a buffer's headroom; handed over whole when the shared
    // buffer is empty (as it is whenever the parser is behind and took it), added to it
    // otherwise.
    let mut mine = Vec::new();
    loop {
        if mine.len() < HEADROOM + CHUNK {
            // Zeroed only when it grows: buffers going round keep their length.
            mine.resize(HEADROOM + CHUNK, 0);
        }
        let read = loop {
            match body.read(&mut mine[HEADROOM..HEADROOM + CHUNK]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                read => break read,
            }
        };
        let mut state = shared.lock();
        match read {
            Ok(0) => state.end = Some(Ok(())),
            Ok(n) => {
                while !state.gone && state.data > 0 && state.data + n > HELD {
                    state = shared.room.wait(state).unwrap_or_else(|p| p.into_inner());
                }
                if state.gone {
                    return;
                }
                if state.data == 0 {
                    // The emptied buffer the parser left comes back to be read into.
                    std::mem::swap(&mut mine, &mut state.held);
                } else {
                    let end = HEADROOM + state.data;
                    state.held.truncate(end);
                    state.held.extend_from_slice(&mine[HEADROOM..HEADROOM + n]);
                }
                state.data += n;
            }
            Err(e) => state.end = Some(Err(e)),
        }
        if state.waiting {
            shared.ready.notify_one();
        }
        if state.end.is_some() || state.gone {
            return;
        }
    }
}

/// The parser's side: the bytes taken, as the [`Source`] of a list.
pub struct Ahead {
    shared: Arc<Shared>,
    /// Taken from the shared buffer; read from `at` to `end`.
    chunk: Vec<u8>,
    at: usize,
    end: usize,
    /// The body ended (`Ok`) or broke (the error's kind): every later read says so again.
    ended: Option<Result<(), io::ErrorKind>>,
}

impl Ahead {
    /// Makes sure bytes not yet read are in `chunk`, waiting for them: `false` at the end of
    /// the body, the error where it broke (again on every later call).
    fn more(&mut self) -> io::Result<bool> {
        if self.at < self.end {
            return Ok(true);
        }
        match self.ended {
            Some(Ok(())) => return Ok(false),
            Some(Err(kind)) => return Err(io::Error::new(kind, "the answer broke off")),
            None => {}
        }
        let mut state = self.shared.lock();
        while state.data == 0 && state.end.is_none() {
            state.waiting = true;
            state = self
                .shared
                .ready
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
        state.waiting = false;
        if state.data == 0 {
            // The end, after every byte read before it (the reading thread has returned).
            let end = state.end.take().unwrap_or(Ok(()));
            self.ended = Some(end.as_ref().map(|_| ()).map_err(io::Error::kind));
            return end.map(|()| false);
        }
        // The taken bytes swap places with the emptied buffer, which is filled next.
        std::mem::swap(&mut self.chunk, &mut state.held);
        self.at = HEADROOM;
        self.end = HEADROOM + std::mem::take(&mut state.data);
        self.shared.room.notify_one();
        Ok(true)
    }
}

impl Source for Ahead {
    fn read_after(
        &mut self,
        buf: &mut Vec<u8>,
        pos: &mut usize,
        held: &mut usize,
    ) -> io::Result<usize> {
        if !self.more()? {
            return Ok(0);
        }
        let fresh = self.end - self.at;
        let kept = *held - *pos;
        if kept <= self.at {
            // What is kept goes in the room just before the bytes read, and the two buffers
            // change places: the bytes read are not copied. The list's buffer comes back
            // here as read, and goes to the reading thread to be filled.
            let start = self.at - kept;
            self.chunk[start..self.at].copy_from_slice(&buf[*pos..*held]);
            std::mem::swap(buf, &mut self.chunk);
            *pos = start;
            *held = self.end;
        } else {
            // More kept than the room holds (a long item): the bytes read go after it.
            buf.truncate(*held);
            buf.drain(..*pos);
            buf.extend_from_slice(&self.chunk[self.at..self.end]);
            *pos = 0;
            *held = buf.len();
        }
        // All taken: this buffer goes back to the reading thread.
        self.at = 0;
        self.end = 0;
        Ok(fresh)
    }
}

impl Drop for Ahead {
    fn drop(&mut self) {
        self.shared.lock().gone = true;
        self.shared.room.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{Sender, channel};

    /// A body that says at what priority it is read.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    struct PriorityOfTheReader(Sender<i32>);

    #[cfg(any(target_os = "linux", target_os = "android"))]
    impl Read for PriorityOfTheReader {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            let _ = self.0.send(rustix::process::getpriority_process(None)?);
            Ok(0)
        }
    }

    #[test]
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn the_reading_thread_runs_below_the_parser_and_the_parser_as_it_was() {
        let before = rustix::process::getpriority_process(None).unwrap();
        let (tx, rx) = channel();
        read_ahead(PriorityOfTheReader(tx), |ahead| {
            let (mut buf, mut pos, mut held) = (Vec::new(), 0, 0);
            // The body ends at its first read.
            assert_eq!(ahead.read_after(&mut buf, &mut pos, &mut held).unwrap(), 0);
        });
        assert_eq!(rx.recv().unwrap(), (before + NICER).min(19));
        assert_eq!(rustix::process::getpriority_process(None).unwrap(), before);
    }

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

    /// Everything a list's parser takes when it uses at most `step` bytes between takes (the
    /// rest kept, as a cutter keeps an item cut short), and how it ended.
    fn read_all(body: Body, step: usize) -> (Vec<u8>, io::Result<()>) {
        read_ahead(body, |ahead| {
            let (mut buf, mut pos, mut held) = (Vec::new(), 0, 0);
            let mut got = Vec::new();
            loop {
                let end = match ahead.read_after(&mut buf, &mut pos, &mut held) {
                    Ok(0) => Ok(()),
                    Ok(_) => {
                        let n = step.min(held - pos);
                        got.extend_from_slice(&buf[pos..pos + n]);
                        pos += n;
                        continue;
                    }
                    Err(e) => Err(e),
                };
                got.extend_from_slice(&buf[pos..held]);
                return (got, end);
            }
        })
    }

    /// What the parser's first take holds.
    fn first_take(ahead: &mut Ahead) -> io::Result<Vec<u8>> {
        let (mut buf, mut pos, mut held) = (Vec::new(), 0, 0);
        ahead
            .read_after(&mut buf, &mut pos, &mut held)
            .map(|_| buf[pos..held].to_vec())
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
    fn a_list_parser_given_whole_buffers_sees_the_bodys_bytes_in_order() {
        // As a list's cutter takes them: it consumes some of what it holds and keeps the
        // rest (an item cut by the buffer's end), less or more than the room left for it.
        let mut rng = fastrand::Rng::with_seed(4096);
        for (len, body_step) in [
            (0, 1000),
            (10, 3),
            (3 * CHUNK + 17, 70_000),
            (HELD * 3, 1 << 20),
        ] {
            let b = body(len, body_step, None);
            let sent = b.bytes.clone();
            let (got, swapped) = read_ahead(b, |ahead| {
                let (mut buf, mut pos, mut held) = (Vec::new(), 0, 0);
                let (mut got, mut swapped) = (Vec::new(), 0);
                loop {
                    let before = buf.as_ptr();
                    let n = ahead.read_after(&mut buf, &mut pos, &mut held).unwrap();
                    swapped += usize::from(buf.as_ptr() != before && pos > 0);
                    if n == 0 {
                        got.extend_from_slice(&buf[pos..held]);
                        return (got, swapped);
                    }
                    let keep = match rng.u8(..4) {
                        0 => 0,
                        1 => rng.usize(..=HEADROOM),
                        2 => rng.usize(HEADROOM..2 * HEADROOM),
                        _ => rng.usize(..100),
                    };
                    let consumed = (held - pos).saturating_sub(keep);
                    got.extend_from_slice(&buf[pos..pos + consumed]);
                    pos += consumed;
                }
            });
            assert!(got == sent, "{len} {body_step}");
            // Buffers changed places (and were not copied) for the large bodies.
            assert!(len < CHUNK || swapped > 0, "{len}");
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
        let kinds = read_ahead(b, |ahead| {
            let (mut buf, mut pos, mut held) = (Vec::new(), 0, 0);
            let mut take = || ahead.read_after(&mut buf, &mut pos, &mut held);
            assert_eq!(take().unwrap(), 10);
            let first = take().unwrap_err().kind();
            let again = take().unwrap_err().kind();
            (first, again)
        });
        assert_eq!(kinds, (io::ErrorKind::TimedOut, io::ErrorKind::TimedOut));
    }

    #[test]
    fn a_parser_that_stops_early_stops_the_reading_thread() {
        // An endless body: the thread must see that the parser is gone, and end.
        let (ended_tx, ended_rx) = channel();
        let endless = Endless { _ended: ended_tx };
        let first = read_ahead(endless, first_take);
        assert_eq!(first.unwrap()[..10], *b"xxxxxxxxxx");
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
        let first = read_ahead(Silent(true, wait), first_take);
        assert_eq!(first.unwrap(), b"{x}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        drop(hold);
    }
}
