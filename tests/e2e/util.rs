//! Test helpers: run the binary with a payload on stdin, start emulators, build payloads, and
//! assert that no secret appears in any output.

use std::io::Write;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tenable_rotate::emulator::{Emulator, EmulatorConfig};

pub const ACCESS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const SECRET: &str = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
pub const OLD: &str = "Old-Passw0rd!2024";
pub const NEW: &str = "N3w-Passw0rd!2025";
pub const USER: &str = "alice@example.com";

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the whole run unless the exit code is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code; run: {self:#?}");
        self
    }

    /// Panics unless stderr is exactly one line containing `fragment`.
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

    /// Panics if any secret appears in stdout or stderr, plain, base64 or JSON-escaped.
    pub fn expect_no_secret(&self, secrets: &[&str]) -> &Self {
        for secret in secrets.iter().filter(|s| s.len() >= 4) {
            let forms = [
                secret.to_string(),
                STANDARD.encode(secret),
                serde_json::to_string(secret).unwrap(),
            ];
            for form in forms {
                let form = form.trim_matches('"');
                assert!(
                    !self.stdout.contains(form) && !self.stderr.contains(form),
                    "secret {secret:?} leaked: {self:#?}"
                );
            }
        }
        self
    }
}

/// The binary under test: the one cargo built, or `TENABLE_ROTATE_TEST_BIN` (CI points it at
/// the static release build, so the suite proves what ships).
pub fn binary() -> String {
    std::env::var("TENABLE_ROTATE_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_tenable-rotate").to_owned())
}

/// Runs the binary with `args`, `stdin` and `env` (our variables and proxies cleared first).
pub fn run(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
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
    cmd.envs(env.iter().copied());
    let mut child = cmd.spawn().expect("spawn tenable-rotate");
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // The binary may stop reading early (e.g. over the size limit); that is fine.
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for tenable-rotate");
    writer.join().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

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

/// The usual payload: `USER`, `NEW`/`OLD`, the key record pointing at `url`, and the user record.
pub fn standard_payload(url: &str) -> String {
    payload(
        USER,
        NEW,
        OLD,
        json!([
            key_record(json!({"tenable_url": url})),
            user_record(USER, OLD)
        ]),
    )
}

/// Base64 of any JSON value, as a stdin line.
pub fn encode(value: &Value) -> String {
    format!("{}\n", STANDARD.encode(value.to_string()))
}

/// Every secret the standard payload carries.
pub const SECRETS: [&str; 4] = [NEW, OLD, ACCESS, SECRET];
