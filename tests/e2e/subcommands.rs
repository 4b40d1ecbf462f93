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
        Command::new(binary())
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

#[test]
fn completions_and_the_man_page_come_from_the_cli_definition() {
    let bash = run(&["completions", "bash"], b"", &[]);
    bash.expect_code(0);
    assert!(
        bash.stdout.contains("complete -F _tenable__rotate"),
        "{bash:#?}"
    );
    for word in [
        "keeper",
        "check",
        "rotate",
        "demo",
        "emulator",
        "--config",
        "--credential-match",
    ] {
        assert!(bash.stdout.contains(word), "bash completion lacks {word}");
    }
    // Every command the script selects (`cmd="..."`) has its own case, or its flags would
    // not complete.
    let selected: Vec<&str> = bash
        .stdout
        .split("cmd=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|name| !name.is_empty())
        .collect();
    assert!(selected.len() >= 8, "{selected:?}");
    for name in selected {
        assert!(
            bash.stdout.contains(&format!("        {name})")),
            "no bash case for {name}"
        );
    }
    let fish = run(&["completions", "fish"], b"", &[]);
    fish.expect_code(0);
    assert!(
        fish.stdout.contains("complete -c tenable-rotate"),
        "{fish:#?}"
    );
    run(&["completions", "tcsh"], b"", &[]).expect_code(2);

    let man = run(&["man"], b"", &[]);
    man.expect_code(0);
    assert!(man.stdout.contains(".TH TENABLE-ROTATE 1"), "{man:#?}");
    assert!(
        man.stdout.contains("Keeper"),
        "the about text is in the page"
    );
}

#[test]
fn demo_output_json_is_one_object() {
    let run = run(&["demo", "--output", "json"], b"", &[]);
    run.expect_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "{run:#?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["outcome"], "success", "{report}");
    assert_eq!(report["exit_code"], 0, "{report}");
    assert_eq!(report["password_state"], "changed", "{report}");
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.len() >= 5, "{report}");
    assert!(
        steps
            .iter()
            .any(|s| s.as_str().unwrap().contains("already in sync")),
        "{report}"
    );
}

/// Runs `payload`, whose stdout is the gateway's line and so carries the secrets by design
/// (the leak check of [`run`] would refuse it): exit 0 and nothing on stderr.
fn payload_line(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> String {
    use std::io::Write as _;
    let mut child = command(args, env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stderr.is_empty(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The keys and passwords for `payload`, from the environment only.
const PAYLOAD_ENV: [(&str, &str); 4] = [
    ("TENABLE_ACCESS_KEY", ACCESS),
    ("TENABLE_SECRET_KEY", SECRET),
    ("TENABLE_NEW_PASSWORD", NEW),
    ("TENABLE_OLD_PASSWORD", OLD),
];

#[test]
fn payload_builds_the_gateway_line_that_check_and_keeper_accept() {
    let e = vm_emulator(&[(USER, OLD)]);
    let url = e.url();
    let field = format!("tenable_url={url}");
    let line = payload_line(
        &["payload", "--user", USER, "--record-field", &field],
        b"",
        &PAYLOAD_ENV,
    );
    assert_eq!(line.lines().count(), 1, "one line");
    // The same line the gateway (and the demo) builds.
    let decoded = tenable_rotate::keeper::parse_payload(line.trim_end().as_bytes())
        .expect("a payload the keeper path reads");
    assert_eq!(decoded.user, USER);

    // Checked with nothing in the environment: the keys come from the record, as on a gateway.
    let check = run(&["check", "--output", "json"], line.as_bytes(), &[]);
    check.expect_code(0).expect_no_secret(&SECRETS);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["mode"], "check", "{report}");
    assert_eq!(
        report["key_source"], "record 'Tenable Authentication Record'",
        "{report}"
    );
    assert!(e.vm_password_is(USER, OLD), "check changed nothing");

    run(&["keeper"], line.as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    assert!(e.vm_password_is(USER, NEW));
}

#[test]
fn payload_takes_passwords_from_stdin_and_secrets_never_from_argv() {
    let e = vm_emulator(&[(USER, OLD)]);
    let field = format!("tenable_url={}", e.url());
    let keys = &PAYLOAD_ENV[..2];
    let line = payload_line(
        &["payload", "--user", USER, "--record-field", &field],
        format!("{NEW}\n{OLD}\n").as_bytes(),
        keys,
    );
    run(&["keeper"], line.as_bytes(), &[]).expect_code(0);
    assert!(e.vm_password_is(USER, NEW));

    // A key on the command line is refused, and not echoed.
    let argv = run(
        &[
            "payload",
            "--user",
            USER,
            "--record-field",
            &format!("tenable_secret_key={SECRET}"),
        ],
        b"",
        &PAYLOAD_ENV,
    );
    argv.expect_code(2).expect_no_secret(&[SECRET]);
    assert!(argv.stderr.contains("TENABLE_SECRET_KEY"), "{argv:#?}");

    // Half a key pair, or no new password at all, is refused with what to set.
    run(&["payload", "--user", USER], b"", &PAYLOAD_ENV[1..])
        .expect_code(2)
        .expect_error_line("only one of TENABLE_ACCESS_KEY and TENABLE_SECRET_KEY is set");
    run(&["payload", "--user", USER], b"", keys)
        .expect_code(2)
        .expect_error_line("the new password is empty; set TENABLE_NEW_PASSWORD");
}
