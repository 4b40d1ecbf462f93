//! The subcommands other than `keeper`: `emulator` as a separate process, `demo`, `--version`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

use super::util::*;

/// Kills the child when dropped, so a failing test leaves no emulator behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_emulator_subcommand_serves_until_killed_and_counts_requests() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_tenable-rotate"))
            .args([
                "emulator",
                "--access-key",
                ACCESS,
                "--secret-key",
                SECRET,
                "--user",
                &format!("{USER}:{OLD}"),
                "--seed-users",
                "50",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .expect("first line names the URL")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{first}");

    run(&[], standard_payload(&url).as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    let stats = get(url.trim_start_matches("http://"), "/_emulator/stats");
    let body: serde_json::Value =
        serde_json::from_str(stats.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["requests"]["PUT /users/{id}/chpasswd"], 1, "{body}");
    assert_eq!(body["applied"]["PUT /users/{id}/chpasswd"], 1, "{body}");
}

#[test]
fn the_emulator_refuses_a_bad_fault_spec_in_one_line() {
    run(
        &[
            "emulator",
            "--access-key",
            "a",
            "--secret-key",
            "s",
            "--fault",
            "teapot",
        ],
        b"",
        &[],
    )
    .expect_code(2)
    .expect_error_line("--fault 'teapot'");
}

#[test]
fn demo_runs_end_to_end_and_prints_no_secret() {
    let run = run(&["demo"], b"", &[]);
    run.expect_code(0);
    assert!(
        run.stdout
            .contains("the new password logs in and the old one no longer does"),
        "{run:#?}"
    );
    assert!(run.stdout.contains("already in sync"), "{run:#?}");
    assert!(!run.stdout.contains("newPassword"), "{run:#?}");
}

#[test]
fn version_names_the_commit_and_target() {
    let run = run(&["--version"], b"", &[]);
    run.expect_code(0);
    assert!(
        run.stdout.starts_with("tenable-rotate 0.1.0 (commit "),
        "{run:#?}"
    );
    assert!(
        run.stdout.contains("x86_64") || run.stdout.contains("aarch64"),
        "{run:#?}"
    );
}
