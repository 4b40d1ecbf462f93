//! A scriptable hostile Tenable on loopback, std only (flate2 for gzip).
//!
//! [`Fake`] speaks HTTP/1.1 by hand (request line, headers, `Content-Length` body, keep-alive)
//! on 127.0.0.1, one thread per connection, and serves both platforms' routes from its own
//! state (TVM users, sessions and credentials; SC users, tokens and credentials), so a test can
//! assert the TRUE password state after a run. A script sees every request first and picks an
//! [`Action`]: let the built-in routes answer, answer something else (any status, headers,
//! echoes of the request in any encoding, gzip, endless bodies, gzip bombs), apply the request
//! and then answer or close, close without applying, or hang. Every request is recorded.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use flate2::{Compress, Compression, FlushCompress, Status};
use serde_json::{Value, json};

use super::util::{ACCESS, SECRET};

/// One request as the fake read it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PUT`...
    pub method: String,
    /// The request target: path and query, as sent.
    pub target: String,
    /// Header names in lower case, values as sent.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// `METHOD /path` (no query).
    pub fn route(&self) -> String {
        format!("{} {}", self.method, self.path())
    }

    /// Whether this is `method` on a path starting with `prefix`.
    pub fn is(&self, method: &str, prefix: &str) -> bool {
        self.method == method && self.path().starts_with(prefix)
    }

    /// A password-changing request (any `PUT` or `PATCH`, whatever its path).
    pub fn is_change(&self) -> bool {
        self.method == "PUT" || self.method == "PATCH"
    }

    /// The body as JSON.
    pub fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The password the body carries: `password`, or `settings.password` (TVM credentials).
    pub fn password(&self) -> Option<String> {
        let v = self.json()?;
        v.get("password")
            .or_else(|| v.get("settings").and_then(|s| s.get("password")))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Every request header, `name: value; ...` (for echoing them back).
    pub fn headers_echo(&self) -> String {
        self.headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Decoded query pairs.
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, q)) = self.target.split_once('?') else {
            return Vec::new();
        };
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (form_decode(k), form_decode(v))
            })
            .collect()
    }
}

fn form_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'+', _) => out.push(b' '),
            (b'%', Some(v)) => {
                out.push(v);
                i += 2;
            }
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer body.
#[derive(Debug, Clone)]
pub enum Body {
    /// These bytes (gzipped when the answer says so).
    Bytes(Vec<u8>),
    /// `prefix`, `unit` `times` times (forever with `None`, chunked), then `suffix`; streamed.
    Repeat {
        prefix: Vec<u8>,
        unit: Vec<u8>,
        times: Option<u64>,
        suffix: Vec<u8>,
    },
    /// `prefix`, then the connection held silent for `hold` (a `Content-Length` far past the
    /// prefix promises more), then closed.
    Stall { prefix: Vec<u8>, hold: Duration },
    /// A gzip stream of `prefix`, `mebibytes` MiB of `fill`, `suffix`: a few KiB per GiB sent,
    /// `Content-Encoding: gzip`. Its CRC is deliberately wrong (not worth computing over GiBs):
    /// a client must have stopped long before it reads the trailer.
    GzipBomb {
        prefix: Vec<u8>,
        fill: u8,
        mebibytes: u64,
        suffix: Vec<u8>,
    },
}

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
    /// Gzip a `Body::Bytes` and say `Content-Encoding: gzip`.
    pub gzip: bool,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, value: &Value) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Body::Bytes(value.to_string().into_bytes()),
            gzip: false,
        }
    }

    /// An empty answer.
    pub fn empty(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            body: Body::Bytes(Vec::new()),
            gzip: false,
        }
    }

    /// TVM's (Hapi/Boom) error shape with `message`.
    pub fn boom(status: u16, message: &str) -> Answer {
        Answer::json(
            status,
            &json!({"statusCode": status, "error": "Error", "message": message}),
        )
    }

    /// An SC envelope with `response`.
    pub fn sc_ok(response: Value) -> Answer {
        Answer::json(200, &sc_envelope(response, 0, ""))
    }

    /// An SC error envelope.
    pub fn sc_error(status: u16, code: i64, message: &str) -> Answer {
        Answer::json(status, &sc_envelope(json!(""), code, message))
    }

    /// The same answer with one more header.
    pub fn header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The same answer, gzipped.
    pub fn gzipped(mut self) -> Answer {
        self.gzip = true;
        self
    }

    /// A streamed answer with `body`.
    pub fn streamed(status: u16, body: Body) -> Answer {
        Answer {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body,
            gzip: false,
        }
    }
}

/// SC's envelope.
pub fn sc_envelope(response: Value, code: i64, message: &str) -> Value {
    json!({"type": "regular", "response": response, "error_code": code, "error_msg": message, "warnings": [], "timestamp": 0})
}

/// What the fake does with one request.
#[derive(Debug, Clone)]
pub enum Action {
    /// The built-in routes answer (and apply).
    Default,
    /// Answer this; nothing is applied.
    Answer(Answer),
    /// Apply the request as the built-in routes would, then answer this instead.
    ApplyThen(Answer),
    /// Apply the request, then close the connection without answering.
    ApplyThenClose,
    /// Close the connection without answering; nothing applied.
    Close,
    /// Hold the connection this long without answering, then close it; nothing applied.
    Hang(Duration),
}

/// The script: each request and how many earlier requests had the same `METHOD /path`.
pub type Script = dyn Fn(&Request, usize) -> Action + Send + Sync;

#[derive(Debug, Clone)]
struct Account {
    id: Value,
    username: String,
    password: String,
}

#[derive(Debug, Clone)]
struct Cred {
    id: String,
    name: String,
    username: String,
    password: String,
}

#[derive(Default)]
struct State {
    vm_users: Vec<Account>,
    sc_users: Vec<Account>,
    vm_credentials: Vec<Cred>,
    sc_credentials: Vec<Cred>,
    applied: Vec<String>,
}

struct Shared {
    state: Mutex<State>,
    log: Mutex<Vec<Request>>,
    script: Mutex<Arc<Script>>,
}

/// The fake Tenable; it serves until the test process ends.
pub struct Fake {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

/// The SC user that owns the API keys (`GET /rest/currentUser`).
pub const SC_API_USER: &str = "api-admin";

impl Fake {
    /// Starts a fake with no users or credentials (the SC API user excepted) and no script.
    pub fn start() -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fake");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            log: Mutex::new(Vec::new()),
            script: Mutex::new(Arc::new(|_: &Request, _: usize| Action::Default)),
        });
        shared.state.lock().unwrap().sc_users.push(Account {
            id: json!("1"),
            username: SC_API_USER.into(),
            password: "Api-Owner-Passw0rd!".into(),
        });
        let s = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(stream, &s));
            }
        });
        Fake { addr, shared }
    }

    /// A TVM user (`id` as it appears in `GET /users`: a number or any string).
    pub fn with_vm_user(self, id: impl Into<Value>, username: &str, password: &str) -> Fake {
        self.state().vm_users.push(Account {
            id: id.into(),
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// An SC user.
    pub fn with_sc_user(self, id: &str, username: &str, password: &str) -> Fake {
        self.state().sc_users.push(Account {
            id: json!(id),
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// A TVM managed Windows credential with password authentication.
    pub fn with_vm_credential(
        self,
        uuid: &str,
        name: &str,
        username: &str,
        password: &str,
    ) -> Fake {
        self.state().vm_credentials.push(Cred {
            id: uuid.into(),
            name: name.into(),
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// An SC Windows credential with password authentication.
    pub fn with_sc_credential(self, id: &str, name: &str, username: &str, password: &str) -> Fake {
        self.state().sc_credentials.push(Cred {
            id: id.into(),
            name: name.into(),
            username: username.into(),
            password: password.into(),
        });
        self
    }

    /// Sets the script.
    pub fn script(self, f: impl Fn(&Request, usize) -> Action + Send + Sync + 'static) -> Fake {
        *self.shared.script.lock().unwrap() = Arc::new(f);
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.state.lock().unwrap()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.log.lock().unwrap().clone()
    }

    /// `METHOD target` of every request so far, for failure messages (never headers or
    /// bodies, which carry the keys and passwords).
    pub fn routes(&self) -> Vec<String> {
        self.requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }

    /// How many requests were `method` on a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.is(method, prefix))
            .count()
    }

    /// How many password-changing requests (`PUT` or `PATCH`, any path) arrived.
    pub fn changes(&self) -> usize {
        self.requests().iter().filter(|r| r.is_change()).count()
    }

    /// How many changes the fake applied.
    pub fn applied(&self) -> usize {
        self.state().applied.len()
    }

    /// The TVM user's password as the fake holds it.
    pub fn vm_password(&self, username: &str) -> Option<String> {
        find(&self.state().vm_users, username)
    }

    /// The SC user's password as the fake holds it.
    pub fn sc_password(&self, username: &str) -> Option<String> {
        find(&self.state().sc_users, username)
    }

    /// The TVM credential's password as the fake holds it.
    pub fn vm_credential_password(&self, name: &str) -> Option<String> {
        let s = self.state();
        s.vm_credentials
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.password.clone())
    }

    /// The SC credential's password as the fake holds it.
    pub fn sc_credential_password(&self, name: &str) -> Option<String> {
        let s = self.state();
        s.sc_credentials
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.password.clone())
    }
}

fn find(accounts: &[Account], username: &str) -> Option<String> {
    accounts
        .iter()
        .find(|a| a.username == username)
        .map(|a| a.password.clone())
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while let Some(req) = read_request(&mut reader) {
        let seen = {
            let mut log = shared.log.lock().unwrap();
            let route = req.route();
            let seen = log.iter().filter(|r| r.route() == route).count();
            log.push(req.clone());
            seen
        };
        let script = shared.script.lock().unwrap().clone();
        let action = script(&req, seen);
        let answer = match action {
            Action::Default => builtin(&mut shared.state.lock().unwrap(), &req),
            Action::Answer(a) => a,
            Action::ApplyThen(a) => {
                let _ = builtin(&mut shared.state.lock().unwrap(), &req);
                a
            }
            Action::ApplyThenClose => {
                let _ = builtin(&mut shared.state.lock().unwrap(), &req);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Action::Close => {
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
            Action::Hang(d) => {
                std::thread::sleep(d);
                let _ = writer.shutdown(Shutdown::Both);
                return;
            }
        };
        if write_answer(&mut writer, answer).is_err() {
            let _ = writer.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let target = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_answer(w: &mut TcpStream, answer: Answer) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", answer.status, reason(answer.status));
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match answer.body {
        Body::Bytes(bytes) => {
            let bytes = if answer.gzip {
                head.push_str("Content-Encoding: gzip\r\n");
                gzip(&bytes)
            } else {
                bytes
            };
            head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
            w.write_all(head.as_bytes())?;
            w.write_all(&bytes)?;
        }
        Body::Repeat {
            prefix,
            unit,
            times,
            suffix,
        } => {
            let block: Vec<u8> = unit.repeat((64 * 1024 / unit.len().max(1)).max(1));
            let per_block = (block.len() / unit.len().max(1)) as u64;
            match times {
                Some(n) => {
                    let total = prefix.len() as u64 + unit.len() as u64 * n + suffix.len() as u64;
                    head.push_str(&format!("Content-Length: {total}\r\n\r\n"));
                    w.write_all(head.as_bytes())?;
                    w.write_all(&prefix)?;
                    let mut left = n;
                    while left >= per_block {
                        w.write_all(&block)?;
                        left -= per_block;
                    }
                    for _ in 0..left {
                        w.write_all(&unit)?;
                    }
                    w.write_all(&suffix)?;
                }
                None => {
                    head.push_str("Transfer-Encoding: chunked\r\n\r\n");
                    w.write_all(head.as_bytes())?;
                    let chunk = |w: &mut TcpStream, b: &[u8]| -> std::io::Result<()> {
                        w.write_all(format!("{:x}\r\n", b.len()).as_bytes())?;
                        w.write_all(b)?;
                        w.write_all(b"\r\n")
                    };
                    chunk(w, &prefix)?;
                    loop {
                        // Ends when the client hangs up (the write fails).
                        chunk(w, &block)?;
                    }
                }
            }
        }
        Body::Stall { prefix, hold } => {
            head.push_str(&format!(
                "Content-Length: {}\r\n\r\n",
                prefix.len() + 1_000_000
            ));
            w.write_all(head.as_bytes())?;
            w.write_all(&prefix)?;
            w.flush()?;
            std::thread::sleep(hold);
        }
        Body::GzipBomb {
            prefix,
            fill,
            mebibytes,
            suffix,
        } => {
            let bomb = GzipBomb::new(&prefix, fill, &suffix);
            let total = 10
                + bomb.start.len() as u64
                + bomb.repeat.len() as u64 * mebibytes.saturating_sub(1)
                + bomb.end.len() as u64
                + 8;
            head.push_str("Content-Encoding: gzip\r\n");
            head.push_str(&format!("Content-Length: {total}\r\n\r\n"));
            w.write_all(head.as_bytes())?;
            w.write_all(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff])?;
            w.write_all(&bomb.start)?;
            for _ in 1..mebibytes {
                w.write_all(&bomb.repeat)?;
            }
            w.write_all(&bomb.end)?;
            let size = (prefix.len() as u64 + (mebibytes << 20) + suffix.len() as u64) as u32;
            w.write_all(&[0, 0, 0, 0])?;
            w.write_all(&size.to_le_bytes())?;
        }
    }
    w.flush()
}

/// Raw deflate pieces of a bomb: `start` is the prefix and the first MiB, `repeat` one more
/// MiB (identical after a full flush, which resets the history), `end` the suffix.
struct GzipBomb {
    start: Vec<u8>,
    repeat: Vec<u8>,
    end: Vec<u8>,
}

impl GzipBomb {
    fn new(prefix: &[u8], fill: u8, suffix: &[u8]) -> GzipBomb {
        let mut c = Compress::new(Compression::best(), false);
        let mib = vec![fill; 1 << 20];
        let mut start = deflate(&mut c, prefix, FlushCompress::Full);
        start.extend(deflate(&mut c, &mib, FlushCompress::Full));
        let repeat = deflate(&mut c, &mib, FlushCompress::Full);
        let again = deflate(&mut c, &mib, FlushCompress::Full);
        assert_eq!(repeat, again, "a full flush makes every MiB compress alike");
        let end = deflate(&mut c, suffix, FlushCompress::Finish);
        GzipBomb { start, repeat, end }
    }
}

fn deflate(c: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 64 + 4096);
    let mut consumed = 0usize;
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(64 * 1024);
        }
        let before = c.total_in();
        let status = c
            .compress_vec(&input[consumed..], &mut out, flush)
            .expect("deflate");
        consumed += (c.total_in() - before) as usize;
        let room_left = out.capacity() > out.len();
        match (status, flush) {
            (Status::StreamEnd, _) => break,
            (_, FlushCompress::Finish) => continue,
            _ if consumed == input.len() && room_left => break,
            _ => continue,
        }
    }
    out
}

/// Gzip of `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

// ---- the built-in routes ----

fn keys_ok(req: &Request, header: &str) -> bool {
    req.header(header).is_some_and(|v| {
        let v = v.to_ascii_lowercase();
        v.contains(&format!("accesskey={ACCESS}")) && v.contains(&format!("secretkey={SECRET}"))
    })
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn token() -> String {
    format!("{:032x}", fastrand::u128(..))
}

/// What Tenable would answer, applying changes to `state`.
fn builtin(state: &mut State, req: &Request) -> Answer {
    if req.path().starts_with("/rest/") || req.path() == "/rest" {
        return builtin_sc(state, req);
    }
    let segments: Vec<&str> = req.path().split('/').filter(|s| !s.is_empty()).collect();
    let body = req.json().unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["session"]) => {
            let (user, password) = (text("username"), text("password"));
            let ok = state.vm_users.iter().any(|a| {
                Some(&a.username) == user.as_ref() && Some(&a.password) == password.as_ref()
            });
            if ok {
                Answer::json(200, &json!({"token": token()}))
            } else {
                Answer::boom(401, "Invalid Credentials")
            }
        }
        ("DELETE", ["session"]) => Answer::empty(200),
        _ if !keys_ok(req, "x-apikeys") => Answer::boom(401, "Invalid Credentials"),
        ("GET", ["users"]) => {
            let users: Vec<Value> = state
                .vm_users
                .iter()
                .map(|a| json!({"id": a.id, "uuid": "d2f6c9a4-0000-4000-8000-000000000001", "username": a.username, "user_name": a.username, "email": a.username, "name": "", "type": "local", "permissions": 32, "enabled": true}))
                .collect();
            Answer::json(200, &json!({"users": users}))
        }
        ("PUT", ["users", id, "chpasswd"]) => {
            let Some(a) = state.vm_users.iter_mut().find(|a| id_text(&a.id) == *id) else {
                return Answer::boom(404, "Not Found");
            };
            let Some(new) = text("password") else {
                return Answer::boom(400, "password is required");
            };
            if let Some(current) = text("current_password") {
                if current != a.password {
                    return Answer::boom(400, "Invalid current password");
                }
            }
            a.password = new;
            state.applied.push(req.route());
            Answer::empty(200)
        }
        ("GET", ["credentials"]) => {
            let q = req.query();
            let name = q
                .iter()
                .find(|(k, v)| k == "f" && v.starts_with("name:eq:"))
                .map(|(_, v)| v["name:eq:".len()..].to_owned());
            let list: Vec<Value> = state
                .vm_credentials
                .iter()
                .filter(|c| name.as_ref().is_none_or(|n| *n == c.name))
                .map(|c| json!({"uuid": c.id, "name": c.name, "description": "", "category": {"id": "Host", "name": "Host"}, "type": {"id": "Windows", "name": "Windows"}, "permission": 64, "user_permissions": 64}))
                .collect();
            let total = list.len();
            Answer::json(
                200,
                &json!({"credentials": list, "pagination": {"total": total, "limit": 200, "offset": 0}}),
            )
        }
        ("GET", ["credentials", uuid]) => match state.vm_credentials.iter().find(|c| c.id == *uuid)
        {
            Some(c) => Answer::json(
                200,
                &json!({"name": c.name, "description": "", "category": {"id": "Host", "name": "Host"}, "type": {"id": "Windows", "name": "Windows"}, "ad_hoc": false, "user_permissions": 64,
                    "settings": {"username": c.username, "password": "********", "domain": "", "auth_method": "Password"}}),
            ),
            None => Answer::boom(404, "Not Found"),
        },
        ("PUT", ["credentials", uuid]) => {
            let Some(c) = state.vm_credentials.iter_mut().find(|c| c.id == *uuid) else {
                return Answer::boom(404, "Not Found");
            };
            if let Some(p) = req.password().filter(|p| p != "********") {
                c.password = p;
                state.applied.push(req.route());
            }
            Answer::json(200, &json!({"updated": true}))
        }
        _ => Answer::boom(404, "Not Found"),
    }
}

fn sc_user(a: &Account) -> Value {
    json!({"id": a.id, "username": a.username, "firstname": "", "lastname": ""})
}

fn sc_credential(c: &Cred) -> Value {
    json!({"id": c.id, "type": "windows", "name": c.name, "description": "",
        "typeFields": {"username": c.username, "password": "SET", "domain": "", "authType": "password"}})
}

fn builtin_sc(state: &mut State, req: &Request) -> Answer {
    let segments: Vec<&str> = req
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .skip(1)
        .collect();
    let body = req.json().unwrap_or(Value::Null);
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["system"]) => return Answer::sc_ok(json!({"version": "6.4.0"})),
        ("POST", ["token"]) => {
            let (user, password) = (text("username"), text("password"));
            let ok = state.sc_users.iter().any(|a| {
                Some(&a.username) == user.as_ref() && Some(&a.password) == password.as_ref()
            });
            return if ok {
                Answer::sc_ok(
                    json!({"token": fastrand::u32(1_000_000..), "unassociatedCert": "false"}),
                )
                .header(
                    "Set-Cookie",
                    &format!("TNS_SESSIONID={}; path=/; HttpOnly", token()),
                )
            } else {
                Answer::sc_error(403, 74, "Invalid login credentials.")
            };
        }
        ("DELETE", ["token"]) => return Answer::sc_ok(json!("")),
        _ => {}
    }
    if !keys_ok(req, "x-apikey") {
        return Answer::sc_error(403, 74, "Invalid API key or session token.");
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["currentUser"]) => Answer::sc_ok(sc_user(&state.sc_users[0])),
        ("GET", ["user"]) => {
            Answer::sc_ok(Value::Array(state.sc_users.iter().map(sc_user).collect()))
        }
        ("GET", ["user", id]) => match state.sc_users.iter().find(|a| id_text(&a.id) == *id) {
            Some(a) => Answer::sc_ok(sc_user(a)),
            None => Answer::sc_error(403, 147, "User does not exist."),
        },
        ("PATCH", ["user", id]) => {
            let Some(a) = state.sc_users.iter_mut().find(|a| id_text(&a.id) == *id) else {
                return Answer::sc_error(403, 147, "User does not exist.");
            };
            if let Some(current) = text("currentPassword") {
                if current != a.password {
                    return Answer::sc_error(403, 28, "The current password is incorrect.");
                }
            }
            if let Some(new) = text("password") {
                a.password = new;
                let v = sc_user(a);
                state.applied.push(req.route());
                return Answer::sc_ok(v);
            }
            Answer::sc_ok(sc_user(a))
        }
        ("GET", ["credential"]) => {
            let list: Vec<Value> = state
                .sc_credentials
                .iter()
                .map(|c| json!({"id": c.id, "name": c.name, "type": "windows", "description": ""}))
                .collect();
            Answer::sc_ok(json!({"usable": list, "manageable": list}))
        }
        ("GET", ["credential", id]) => match state.sc_credentials.iter().find(|c| c.id == *id) {
            Some(c) => Answer::sc_ok(sc_credential(c)),
            None => Answer::sc_error(403, 147, "Credential does not exist."),
        },
        ("PATCH", ["credential", id]) => {
            let Some(c) = state.sc_credentials.iter_mut().find(|c| c.id == *id) else {
                return Answer::sc_error(403, 147, "Credential does not exist.");
            };
            if let Some(p) = text("password").filter(|p| p != "SET") {
                c.password = p;
                let v = sc_credential(c);
                state.applied.push(req.route());
                return Answer::sc_ok(v);
            }
            Answer::sc_ok(sc_credential(c))
        }
        _ => Answer::sc_error(404, 1, "Resource not found."),
    }
}

// ---- echoes: how a server may quote what it was sent ----

/// The contents of a JSON string holding `s` (no quotes).
pub fn json_escaped(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap();
    q[1..q.len() - 1].to_owned()
}

/// `%XX` for every byte but RFC 3986's unreserved ones; `upper` hex digits or lower; a space
/// as `+` with `form`.
pub fn url_encoded(s: &str, upper: bool, form: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if form => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

/// Standard base64.
pub fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Base64 of `prefix` bytes of text, then `s`: `s` at another alignment.
pub fn b64_after(prefix: &str, s: &str) -> String {
    STANDARD.encode(format!("{prefix}{s}"))
}

/// The first `n` characters of `s`.
pub fn cut(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
