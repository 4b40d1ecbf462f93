//! Test helpers: run the binary with a payload on stdin, start emulators, build payloads, and
//! check every run for secrets.
//!
//! Every [`Run`] is made by [`checked`], which looks for every secret the test gave in stdout
//! and stderr before the test sees the run: the test constants, the secrets in the stdin
//! payload (both passwords, both keys, `records`, the whole line), secret environment values,
//! and any the test names. A `Run` has a private field, so no test can build one unchecked.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde_json::{Value, json};
use tenable_rotate::emulator::{Emulator, EmulatorConfig};

pub const ACCESS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const SECRET: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
/// The passwords hold `"`, `\`, `%`, `+`, `/`, a space and a non-ASCII letter, so that their
/// plain, JSON-escaped, URL-encoded (`%XX` and form) and base64 forms all differ.
pub const OLD: &str = "Old \"P\\ass%w0rd+/ü-2024";
pub const NEW: &str = "N3w \"Pa\\ss%w0rd+/é-2025";
pub const USER: &str = "alice@example.com";

/// Every secret the standard payload carries.
pub const SECRETS: [&str; 4] = [NEW, OLD, ACCESS, SECRET];

/// Environment variables whose values are secrets.
const SECRET_VARS: [&str; 4] = [
    "TENABLE_ACCESS_KEY",
    "TENABLE_SECRET_KEY",
    "TENABLE_NEW_PASSWORD",
    "TENABLE_OLD_PASSWORD",
];

/// Payload and record fields whose values are secrets.
const SECRET_FIELDS: [&str; 11] = [
    "newPassword",
    "oldPassword",
    "records",
    "tenable_access_key",
    "tenable_secret_key",
    "password",
    // The machine interface's request.
    "new_password",
    "old_password",
    "access_key",
    "secret_key",
    "ca_pem",
];

/// Fragments this long of a secret's plain, JSON-escaped or URL-encoded form count as a leak.
const FRAGMENT: usize = 12;

/// What a run of the binary left behind; checked for secrets before anyone sees it.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Only [`checked`] makes a `Run`.
    _checked: (),
}

impl std::fmt::Debug for Run {
    /// The run, each stream cut at 4 KiB (a flooded stream would bury the failure).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut = |s: &str| -> String {
            match s.char_indices().nth(4096) {
                Some((i, _)) => format!("{}... ({} bytes in all)", &s[..i], s.len()),
                None => s.to_owned(),
            }
        };
        f.debug_struct("Run")
            .field("code", &self.code)
            .field("stdout", &cut(&self.stdout))
            .field("stderr", &cut(&self.stderr))
            .finish()
    }
}

impl Run {
    /// Panics with the whole run unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code; run: {self:#?}");
        self
    }

    /// Panics unless stderr is exactly one line starting `tenable-rotate: ` and containing
    /// `fragment`.
    pub fn expect_error_line(&self, fragment: &str) -> &Self {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected one stderr line: {self:#?}");
        assert!(lines[0].starts_with("tenable-rotate: "), "{self:#?}");
        assert!(
            lines[0].contains(fragment),
            "stderr lacks {fragment:?}: {self:#?}"
        );
        self
    }

    /// Panics if any of `secrets` appears in stdout or stderr in any form. (Every run is
    /// already checked for the test constants and the stdin payload; this adds `secrets`.)
    pub fn expect_no_secret(&self, secrets: &[&str]) -> &Self {
        let named: Vec<(String, String)> = secrets
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("expect_no_secret #{i}"), s.to_string()))
            .collect();
        assert_clean(&self.stdout, &self.stderr, &named);
        self
    }
}

/// The binary under test: the one cargo built, or `TENABLE_ROTATE_TEST_BIN` (CI points it at
/// the static release build, so the suite proves what ships).
pub fn binary() -> String {
    std::env::var("TENABLE_ROTATE_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_tenable-rotate").to_owned())
}

/// True, after printing `reason`, when the binary under test is the Windows .exe
/// (`TENABLE_ROTATE_TEST_TARGET=windows`, set by `scripts/windows-e2e.sh`, which runs it under
/// wine): a test that cannot apply to Windows returns early with it, and says why.
pub fn skip_on_windows(reason: &str) -> bool {
    let windows = std::env::var("TENABLE_ROTATE_TEST_TARGET").is_ok_and(|t| t == "windows");
    if windows {
        eprintln!("skipped on Windows: {reason}");
    }
    windows
}

/// A command for the binary with `args` and `env`, our variables and proxies cleared first.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(binary());
    cmd.args(args);
    clear_env(&mut cmd);
    cmd.envs(env.iter().copied());
    cmd
}

fn clear_env(cmd: &mut Command) {
    for var in tenable_rotate::config::env::ALL.iter().chain(&[
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ]) {
        cmd.env_remove(var);
    }
}

/// Runs the binary with `args`, `stdin` and `env` (our variables and proxies cleared first).
pub fn run(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    run_with_secrets(args, stdin, env, &[])
}

/// As [`run`], and also checks the output for `extra` secrets.
pub fn run_with_secrets(args: &[&str], stdin: &[u8], env: &[(&str, &str)], extra: &[&str]) -> Run {
    let mut cmd = command(args, env);
    let out = spawn_and_feed(&mut cmd, stdin);
    checked(out, stdin, env, extra)
}

fn spawn_and_feed(cmd: &mut Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn tenable-rotate");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may stop reading early (e.g. over the size limit); that is fine.
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for tenable-rotate");
    writer.join().unwrap();
    out
}

/// Makes a [`Run`] from a finished process, after checking its output for every secret: the
/// test constants, those in `stdin` and `env`, and `extra`. Panics on a leak, naming the
/// secret and the form found, never the value.
pub fn checked(out: Output, stdin: &[u8], env: &[(&str, &str)], extra: &[&str]) -> Run {
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        _checked: (),
    };
    assert_clean(&run.stdout, &run.stderr, &secrets_of(stdin, env, extra));
    run
}

/// Runs the binary under GNU time: the run and its peak resident set, in KiB, measured from
/// outside (the kernel's `ru_maxrss` of the child, as `wait4` reports it).
pub fn run_measured(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> (Run, u64) {
    let time = "/usr/bin/time";
    assert!(
        std::path::Path::new(time).exists(),
        "GNU time is needed to measure peak memory: apt-get install time"
    );
    let report = temp_path("peak-rss");
    // A 2 GiB address-space cap keeps a failing run (a bomb inflating) from taking the
    // machine down; such a run then dies, which the test reports.
    let mut cmd = Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -v 2097152 && exec \"$@\"",
        "sh",
        time,
        "-f",
        "%M",
        "-o",
    ])
    .arg(&report)
    .arg(binary())
    .args(args);
    clear_env(&mut cmd);
    cmd.envs(env.iter().copied());
    let out = spawn_and_feed(&mut cmd, stdin);
    let text = std::fs::read_to_string(&report).expect("GNU time's report");
    let _ = std::fs::remove_file(&report);
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let peak = text
        .lines()
        .filter_map(|l| l.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no peak RSS in GNU time's report: {text:?}"));
    let run = checked(out, stdin, env, &[]);
    (run, peak)
}

/// Runs the binary, writes `stdin` but keeps the pipe open, and waits at most `guard`; kills
/// it after that. Returns the run (code -1 when killed) and how long it took.
pub fn run_with_stdin_held_open(
    args: &[&str],
    stdin: &[u8],
    env: &[(&str, &str)],
    guard: Duration,
) -> (Run, Duration) {
    let mut cmd = command(args, env);
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn tenable-rotate");
    let mut pipe = child.stdin.take().unwrap();
    let _ = pipe.write_all(stdin);
    let _ = pipe.flush();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > guard {
            let _ = child.kill();
            break child.wait().expect("wait after kill");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = started.elapsed();
    drop(pipe);
    let out = Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err_reader.join().unwrap(),
    };
    (checked(out, stdin, env, &[]), elapsed)
}

/// A fresh path in the temp directory.
pub fn temp_path(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "tenable-rotate-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

// ---- the secret check ----

/// Every secret a run must not show, with a name for it: the test constants, each stdin line
/// and the secrets in a gateway payload on it, secret environment values, and `extra`.
fn secrets_of(stdin: &[u8], env: &[(&str, &str)], extra: &[&str]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![
        ("NEW".into(), NEW.into()),
        ("OLD".into(), OLD.into()),
        ("ACCESS".into(), ACCESS.into()),
        ("SECRET".into(), SECRET.into()),
    ];
    let text = String::from_utf8_lossy(stdin);
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        // A machine-interface request (`tenable-rotate request`) is a JSON object whose
        // settings are echoed back by design; its secret fields are what must not leak.
        if let Ok(request @ Value::Object(_)) = serde_json::from_str::<Value>(line) {
            collect_fields(&request, &format!("request line {}", i + 1), &mut out);
            continue;
        }
        out.push((format!("stdin line {}", i + 1), line.to_owned()));
        if let Some(payload) = STANDARD
            .decode(line)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        {
            collect_fields(&payload, &format!("stdin line {}", i + 1), &mut out);
        }
    }
    for (var, value) in env {
        if SECRET_VARS.contains(var) {
            out.push((format!("env {var}"), value.to_string()));
        }
    }
    for (i, s) in extra.iter().enumerate() {
        out.push((format!("extra secret #{i}"), s.to_string()));
    }
    let mut seen = HashSet::new();
    out.retain(|(_, v)| v.chars().count() >= 6 && seen.insert(v.clone()));
    out
}

/// Collects secret fields of a payload, and of the records inside its `records`.
fn collect_fields(v: &Value, origin: &str, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if SECRET_FIELDS.contains(&k.as_str()) {
                    let values: Vec<&str> = match v {
                        Value::String(s) => vec![s],
                        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
                        _ => vec![],
                    };
                    for s in values {
                        out.push((format!("`{k}` of {origin}"), s.to_owned()));
                    }
                }
                if k == "records" {
                    if let Some(records) = v
                        .as_str()
                        .and_then(|s| STANDARD.decode(s.trim()).ok())
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                    {
                        collect_fields(&records, &format!("the records of {origin}"), out);
                    }
                }
                collect_fields(v, origin, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| collect_fields(v, origin, out)),
        _ => {}
    }
}

/// Panics if any secret shows in `stdout` or `stderr` in any form; names the secret and form.
/// An output over 1 MiB is a failure of its own (a flooded job log), reported unchecked.
fn assert_clean(stdout: &str, stderr: &str, secrets: &[(String, String)]) {
    for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
        assert!(
            text.len() <= 1 << 20,
            "{stream} is {} bytes: a flooded job log (not shown)",
            text.len()
        );
    }
    let mut fragments: HashMap<String, (String, String)> = HashMap::new();
    for (name, secret) in secrets {
        let (forms, pieces) = forms_of(secret);
        for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
            for (form, value) in &forms {
                assert!(
                    !text.contains(value.as_str()),
                    "secret {name} leaked on {stream}, in form: {form} (value not shown)"
                );
            }
        }
        for (piece, form) in pieces {
            fragments
                .entry(piece)
                .or_insert_with(|| (name.clone(), form));
        }
    }
    for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
        let mut starts = VecDeque::with_capacity(FRAGMENT + 1);
        for (i, _) in text.char_indices().chain([(text.len(), ' ')]) {
            starts.push_back(i);
            if starts.len() > FRAGMENT {
                let from = starts.pop_front().unwrap_or_default();
                if let Some((name, form)) = fragments.get(&text[from..i]) {
                    panic!(
                        "secret {name} leaked on {stream}: a {FRAGMENT}-character fragment of its {form} form (value not shown)"
                    );
                }
            }
        }
    }
}

/// The forms a server or a careless message could show `secret` in, and the set of every
/// `FRAGMENT`-character piece of the textual ones (piece -> form name).
fn forms_of(
    secret: &str,
) -> (
    Vec<(String, String)>,
    std::collections::HashMap<String, String>,
) {
    let mut textual: Vec<(String, String)> = vec![("plain".into(), secret.to_owned())];
    for (name, v) in json_forms(secret) {
        textual.push((name, v));
    }
    for upper in [true, false] {
        for form_plus in [false, true] {
            textual.push((
                format!(
                    "URL-encoded ({} hex{})",
                    if upper { "upper" } else { "lower" },
                    if form_plus { ", space as +" } else { "" }
                ),
                url_encode(secret, upper, form_plus),
            ));
        }
    }
    let mut forms = textual.clone();
    // base64 of every textual form (a request body carries the JSON-escaped one), at every
    // alignment, in both alphabets: only the characters that depend on the secret alone.
    for (name, text) in &textual {
        for (alphabet, engine) in [("base64", &STANDARD), ("base64url", &URL_SAFE)] {
            for align in 0..3 {
                let mut bytes = vec![0u8; align];
                bytes.extend_from_slice(text.as_bytes());
                let enc = engine.encode(&bytes);
                let start = if align == 0 { 0 } else { 4 };
                let end = enc.len().saturating_sub(4);
                if end >= start + 8 {
                    forms.push((
                        format!("{alphabet} of its {name} form at alignment {align}"),
                        enc[start..end].to_owned(),
                    ));
                }
            }
        }
    }
    let mut fragments = HashMap::new();
    for (name, text) in &textual {
        let idx: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        for w in 0..idx.len().saturating_sub(FRAGMENT - 1) {
            let end = idx.get(w + FRAGMENT).copied().unwrap_or(text.len());
            fragments
                .entry(text[idx[w]..end].to_owned())
                .or_insert_with(|| name.clone());
        }
    }
    (forms, fragments)
}

/// JSON string contents: serde's, with non-ASCII as `\uXXXX`, and PHP's (`\/` too).
fn json_forms(secret: &str) -> Vec<(String, String)> {
    let plain = serde_json::to_string(secret).unwrap();
    let plain = plain[1..plain.len() - 1].to_owned();
    let ascii: String = plain
        .chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                let mut buf = [0u16; 2];
                c.encode_utf16(&mut buf)
                    .iter()
                    .map(|u| format!("\\u{u:04x}"))
                    .collect()
            }
        })
        .collect();
    let php = ascii.replace('/', "\\/");
    vec![
        ("JSON-escaped".into(), plain),
        ("JSON-escaped (ASCII only)".into(), ascii.clone()),
        ("JSON-escaped (ASCII, uppercase \\u)".into(), {
            // \u00e9 and \u00E9 are both valid.
            let mut s = String::new();
            let mut rest = ascii.as_str();
            while let Some(i) = rest.find("\\u") {
                s.push_str(&rest[..i + 2]);
                let hex = &rest[i + 2..(i + 6).min(rest.len())];
                s.push_str(&hex.to_ascii_uppercase());
                rest = &rest[(i + 6).min(rest.len())..];
            }
            s.push_str(rest);
            s
        }),
        ("JSON-escaped (PHP, \\/)".into(), php),
    ]
}

/// Percent-encoding of everything but RFC 3986's unreserved characters.
fn url_encode(s: &str, upper: bool, space_as_plus: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' if space_as_plus => out.push('+'),
            _ if upper => out.push_str(&format!("%{b:02X}")),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out
}

// ---- emulators and payloads ----

/// An emulator with the test keys and `users` (TVM).
pub fn vm_emulator(users: &[(&str, &str)]) -> Emulator {
    Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: users
            .iter()
            .map(|(u, p)| (u.to_string(), p.to_string()))
            .collect(),
        ..EmulatorConfig::default()
    })
    .expect("start emulator")
}

/// The key record as Keeper's Python sample expects it, plus `extra` fields.
pub fn key_record(extra: Value) -> Value {
    let mut record = json!({
        "uid": "TnbKeysRecord000000000",
        "title": "Tenable Authentication Record",
        "login": "",
        "password": "",
        "tenable_access_key": ACCESS,
        "tenable_secret_key": SECRET,
    });
    if let (Some(r), Some(e)) = (record.as_object_mut(), extra.as_object()) {
        r.extend(e.clone());
    }
    record
}

/// The PAM User record.
pub fn user_record(user: &str, password: &str) -> Value {
    json!({"uid": "UsrRecord0000000000000", "title": "PAM User", "login": user, "password": password})
}

/// The gateway's stdin line for `records`.
pub fn payload(user: &str, new: &str, old: &str, records: Value) -> String {
    tenable_rotate::demo::gateway_payload(user, new, old, &records)
}

/// A Tenable URL nothing listens on: port 1, below every ephemeral port. A port bound and
/// closed by a test could be handed to another test's fake server at once (it happened: two
/// tests failed together).
pub const UNREACHABLE_URL: &str = "http://127.0.0.1:1";

/// The usual payload: `USER`, `NEW`/`OLD`, the key record pointing at `url`, and the user record.
pub fn standard_payload(url: &str) -> String {
    user_payload(url, NEW, OLD)
}

/// The payload for `USER` on TVM at `url`, with `new` and `old` (the PAM User's password).
pub fn user_payload(url: &str, new: &str, old: &str) -> String {
    payload(
        USER,
        new,
        old,
        json!([
            key_record(json!({"tenable_url": url})),
            user_record(USER, old)
        ]),
    )
}

/// Base64 of any JSON value, as a stdin line.
pub fn encode(value: &Value) -> String {
    format!("{}\n", STANDARD.encode(value.to_string()))
}

#[test]
fn the_secret_check_finds_every_form_and_names_it() {
    let leak = |text: &str| {
        std::panic::catch_unwind(|| assert_clean("", text, &[("NEW".into(), NEW.into())]))
            .err()
            .map(|e| e.downcast_ref::<String>().cloned().unwrap_or_default())
    };
    let body = format!("{{\"password\":{}}}", serde_json::to_string(NEW).unwrap());
    let cases = [
        NEW.to_owned(),
        serde_json::to_string(NEW).unwrap(),
        url_encode(NEW, true, false),
        url_encode(NEW, false, true),
        STANDARD.encode(body.as_bytes()),
        STANDARD.encode(format!("x{NEW}")),
        STANDARD.encode(format!("xy{NEW}")),
        NEW[..14].to_owned(),
    ];
    for (i, case) in cases.iter().enumerate() {
        let found = leak(&format!("tenable-rotate: Tenable said {case}"));
        let message = found.unwrap_or_else(|| panic!("case {i} not found"));
        assert!(message.contains("secret NEW leaked"), "{message}");
        assert!(!message.contains(NEW), "the message never shows the value");
    }
    assert!(leak("tenable-rotate: changed the password of user 'alice'").is_none());
}
