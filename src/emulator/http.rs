//! A small HTTP/1.1 server over std sockets, with optional TLS, for the emulator and for tests
//! that replay recorded answers.
//!
//! One thread per connection, keep-alive, `Content-Length` request bodies only (our client
//! sends those), gzip for large answers when the client asks. It serves loopback test
//! traffic; it is not hardened for the open internet and does not try to be.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Largest request body accepted.
const MAX_BODY: usize = 64 * 1024 * 1024;
/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// How long an idle keep-alive connection is kept.
const IDLE: Duration = Duration::from_secs(5);

/// A parsed request.
#[derive(Debug, Clone)]
pub struct Request {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Raw query, still percent-encoded.
    pub query: Option<String>,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query's pairs, percent-decoded, `+` as space.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .as_deref()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// An answer. The server adds `Content-Length`, `Date` and `Connection`.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body bytes (already encoded if a `Content-Encoding` header is set).
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON answer.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::json_bytes(status, value.to_string().into_bytes())
    }

    /// A JSON answer from bytes already serialized.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body,
        }
    }

    /// An answer with no body and no content type.
    pub fn empty(status: u16) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// What a handler wants done.
#[derive(Debug)]
pub enum Reply {
    /// Send this answer.
    Send(Response),
    /// Close the connection without writing anything.
    Drop,
}

/// Turns requests into replies; called from many connection threads at once.
pub trait Handler: Send + Sync + 'static {
    /// Handles one request.
    fn handle(&self, request: Request) -> Reply;
}

/// A running server; stops on `shutdown` or drop.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for HttpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpServer({})", self.addr)
    }
}

impl HttpServer {
    /// Serves `listener` with `handler`, over TLS when `tls` is given.
    pub fn start(
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        handler: Arc<dyn Handler>,
    ) -> io::Result<HttpServer> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("emulator-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let handler = handler.clone();
                    let tls = tls.clone();
                    let _ = std::thread::Builder::new()
                        .name("emulator-conn".into())
                        .spawn(move || {
                            let _ = stream.set_read_timeout(Some(IDLE));
                            let _ = stream.set_nodelay(true);
                            match tls {
                                Some(config) => {
                                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                                        return;
                                    };
                                    serve(rustls::StreamOwned::new(conn, stream), &*handler);
                                }
                                None => serve(stream, &*handler),
                            }
                        });
                }
            })?;
        Ok(HttpServer {
            addr,
            stop,
            thread: Some(thread),
        })
    }

    /// The address served.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.stop_now();
        }
    }
}

/// Serves requests on one connection until it closes, errs or idles out.
fn serve<S: Read + Write>(mut stream: S, handler: &dyn Handler) {
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let (request, keep_alive) = match read_request(&mut stream, &mut buf) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(status) => {
                let _ = write_response(
                    &mut stream,
                    &Response::json(
                        status,
                        &serde_json::json!({"statusCode": status, "error": "Bad Request", "message": "malformed request"}),
                    ),
                    false,
                    false,
                );
                return;
            }
        };
        let gzip_ok = request
            .header("accept-encoding")
            .is_some_and(|v| v.contains("gzip"));
        match handler.handle(request) {
            Reply::Drop => return,
            Reply::Send(response) => {
                if write_response(&mut stream, &response, keep_alive, gzip_ok).is_err()
                    || !keep_alive
                {
                    return;
                }
            }
        }
    }
}

/// Reads one request; `Ok(None)` on a clean close, `Err(status)` on a malformed one.
fn read_request<S: Read>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Result<Option<(Request, bool)>, u16> {
    let mut chunk = [0u8; 8192];
    let (head_len, method, target, version, headers) = loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut slots);
        match parsed.parse(buf) {
            Ok(httparse::Status::Complete(len)) => {
                let headers = parsed
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.name.to_owned(),
                            String::from_utf8_lossy(h.value).into_owned(),
                        )
                    })
                    .collect::<Vec<_>>();
                break (
                    len,
                    parsed.method.unwrap_or("").to_owned(),
                    parsed.path.unwrap_or("/").to_owned(),
                    parsed.version.unwrap_or(1),
                    headers,
                );
            }
            Ok(httparse::Status::Partial) => {}
            Err(_) => return Err(400),
        }
        if buf.len() > MAX_HEAD {
            return Err(431);
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_owned())
    };
    if find("transfer-encoding").is_some() {
        return Err(411);
    }
    let length: usize = match find("content-length") {
        Some(v) => v.parse().map_err(|_| 400u16)?,
        None => 0,
    };
    if length > MAX_BODY {
        return Err(413);
    }
    while buf.len() < head_len + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf[head_len..head_len + length].to_vec();
    buf.drain(..head_len + length);
    let keep_alive = match find("connection").map(|v| v.to_ascii_lowercase()) {
        Some(v) if v.contains("close") => false,
        Some(v) if v.contains("keep-alive") => true,
        _ => version == 1,
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target, None),
    };
    Ok(Some((
        Request {
            method,
            path,
            query,
            headers,
            body,
        },
        keep_alive,
    )))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn write_response<S: Write>(
    stream: &mut S,
    response: &Response,
    keep_alive: bool,
    gzip_ok: bool,
) -> io::Result<()> {
    let already_encoded = response
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-encoding"));
    let compress = gzip_ok && !already_encoded && response.body.len() > 1024;
    let body: std::borrow::Cow<'_, [u8]> = if compress {
        let mut enc = flate2::write::GzEncoder::new(
            Vec::with_capacity(response.body.len() / 4),
            flate2::Compression::fast(),
        );
        enc.write_all(&response.body)?;
        enc.finish()?.into()
    } else {
        (&response.body[..]).into()
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (k, v) in &response.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if compress {
        head.push_str("Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n");
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: {}\r\n\r\n",
        body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    ));
    stream.write_all(head.as_bytes())?;
    stream.write_all(&body)?;
    stream.flush()
}
