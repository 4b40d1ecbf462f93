//! The POSIX `sh` scripts in `deploy/`, run the way the gateway runs a PAM script: the base64
//! line piped in with `echo`, the exit status judged. Besides the general wrapper, one drop-in
//! per Keeper sample, which must change the same kind of object as the sample it replaces.

use std::process::Command;

use serde_json::json;
use tenable_rotate::emulator::{Emulator, EmulatorConfig};

use super::util::*;

const WRAPPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/tenable-rotate.sh");

/// `deploy/NAME`.
fn script(name: &str) -> String {
    format!("{}/deploy/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// `echo "$LINE" | deploy/tenable-rotate.sh`, with the wrapper pointed at `bin`.
fn gateway_runs_wrapper(line: &str, bin: &str) -> Run {
    gateway_runs(WRAPPER, line, bin, &[])
}

/// `echo "$LINE" | SCRIPT`, with the script pointed at `bin`, our variables cleared and `env`
/// set, as a gateway would run the attached file.
fn gateway_runs(script: &str, line: &str, bin: &str, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "echo \"$LINE\" | \"$SCRIPT\""])
        .env("LINE", line.trim_end())
        .env("SCRIPT", script)
        .env("TENABLE_ROTATE_BIN", bin)
        .env_remove("TIO_URL");
    for var in tenable_rotate::config::env::ALL {
        cmd.env_remove(var);
    }
    let out = cmd.envs(env.iter().copied()).output().expect("run sh");
    // The line reaches the script through the environment; check the output for it all the same.
    checked(out, line.as_bytes(), env, &[])
}

#[test]
fn the_sh_wrapper_rotates_and_passes_the_exit_status_through() {
    let e = vm_emulator(&[(USER, OLD)]);
    let line = standard_payload(&e.url());
    let ok = gateway_runs_wrapper(&line, &binary());
    ok.expect_code(0).expect_no_secret(&SECRETS);
    assert!(ok.stdout.contains(USER), "{ok:#?}");
    assert!(e.vm_password_is(USER, NEW));

    // A failure keeps its code: the old password is now wrong and the new one is not NEW2.
    let stale = payload(
        USER,
        "An0ther-Passw0rd!",
        "Not-The-Passw0rd!1",
        serde_json::json!([key_record(serde_json::json!({"tenable_url": e.url()}))]),
    );
    gateway_runs_wrapper(&stale, &binary())
        .expect_code(5)
        .expect_error_line("Invalid current password");
    assert!(e.vm_password_is(USER, NEW));
}

#[test]
fn the_sh_wrapper_says_where_it_looked_when_the_binary_is_missing() {
    gateway_runs_wrapper(
        &standard_payload("http://127.0.0.1:9"),
        "/nonexistent/tenable-rotate",
    )
    .expect_code(2)
    .expect_error_line("no executable at /nonexistent/tenable-rotate")
    .expect_no_secret(&SECRETS);
}

const NAME: &str = "svc-scan@example.com";
const OTHER: &str = "Other-Passw0rd!2024";

/// A tenant where a user and a managed credential share one name, on both platforms: the
/// case where picking the wrong kind of object would silently change the wrong password.
fn same_name_emulator() -> Emulator {
    let credential = |kind: &str| format!("{kind}:{NAME}:svc-scan:{OTHER}").parse().unwrap();
    Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![(NAME.into(), OLD.into())],
        sc_users: vec![(NAME.into(), OLD.into())],
        credentials: vec![credential("windows")],
        sc_credentials: vec![credential("ssh")],
        ..EmulatorConfig::default()
    })
    .unwrap()
}

/// Keeper's sample record (keys only, or keys and `tenable_sc_host`), plus `extra`.
fn sample_line(extra: serde_json::Value) -> String {
    payload(
        NAME,
        NEW,
        OLD,
        json!([key_record(extra), user_record(NAME, OLD)]),
    )
}

#[test]
fn the_vm_user_drop_in_changes_the_user_and_takes_the_url_from_tio_url() {
    let e = same_name_emulator();
    let url = e.url();
    // The sample's record has no URL: pyTenable reads TIO_URL. A stray target in the record
    // does not turn it into a credential rotation.
    let line = sample_line(json!({"tenable_target": "credential"}));
    let run = gateway_runs(
        &script("tenable_io_user.sh"),
        &line,
        &binary(),
        &[("TIO_URL", url.as_str())],
    );
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(e.vm_password_is(NAME, NEW), "{run:#?}");
    assert_eq!(e.changes_applied("PUT /credentials/{uuid}"), 0);
    assert_eq!(
        e.vm_credential_secret(NAME, "password").as_deref(),
        Some(OTHER)
    );
    // A re-run is already in sync, and the status comes through.
    let again = gateway_runs(
        &script("tenable_io_user.sh"),
        &line,
        &binary(),
        &[("TIO_URL", url.as_str())],
    );
    again.expect_code(0);
    assert!(again.stdout.contains("already in sync"), "{again:#?}");
}

#[test]
fn the_credential_drop_in_never_touches_a_user_of_the_same_name() {
    let e = same_name_emulator();
    let url = e.url();
    let run = gateway_runs(
        &script("tenable_credential_record.sh"),
        &sample_line(json!({})),
        &binary(),
        &[("TIO_URL", url.as_str())],
    );
    run.expect_code(0)
        .expect_no_secret(&[NEW, OLD, OTHER, ACCESS, SECRET]);
    assert_eq!(
        e.vm_credential_secret(NAME, "password").as_deref(),
        Some(NEW),
        "{run:#?}"
    );
    assert!(
        e.vm_password_is(NAME, OLD),
        "the user must keep its password"
    );
    assert_eq!(e.request_count("PUT /users/{id}/chpasswd"), 0);

    // No credential of that name: the sample failed here too; ours says so, exit 4.
    let missing = payload(
        "nobody",
        NEW,
        OLD,
        json!([key_record(json!({})), user_record("nobody", OLD)]),
    );
    gateway_runs(
        &script("tenable_credential_record.sh"),
        &missing,
        &binary(),
        &[("TIO_URL", url.as_str())],
    )
    .expect_code(4);
}

#[test]
fn the_sc_user_drop_in_changes_the_security_center_user_only() {
    let e = same_name_emulator();
    let line = sample_line(json!({"tenable_sc_host": e.url(), "tenable_target": "credential"}));
    let run = gateway_runs(&script("tenable_sc_user.sh"), &line, &binary(), &[]);
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(e.sc_password_is(NAME, NEW), "{run:#?}");
    assert_eq!(e.changes_applied("PATCH /rest/credential/{id}"), 0);
    assert_eq!(e.request_count("PUT /users/{id}/chpasswd"), 0);
    assert!(e.vm_password_is(NAME, OLD));
}

#[test]
fn every_drop_in_exists_for_both_gateways_and_passes_the_missing_binary_as_exit_2() {
    for sample in [
        "tenable_io_user",
        "tenable_sc_user",
        "tenable_credential_record",
    ] {
        let ps1 = std::fs::read_to_string(script(&format!("{sample}.ps1"))).unwrap();
        let target = if sample == "tenable_credential_record" {
            "credential"
        } else {
            "user"
        };
        assert!(
            ps1.contains(&format!("$env:TENABLE_TARGET = '{target}'"))
                && ps1.contains("$input | & $Exe keeper")
                && ps1.contains("exit $LASTEXITCODE"),
            "{sample}.ps1"
        );
        gateway_runs(
            &script(&format!("{sample}.sh")),
            &sample_line(json!({})),
            "/nonexistent/tenable-rotate",
            &[],
        )
        .expect_code(2)
        .expect_error_line("no executable at /nonexistent/tenable-rotate");
    }
}

#[test]
fn a_password_tenable_quotes_back_never_reaches_the_job_log() {
    // Real services quote a rejected value in their message; the emulator does too when asked.
    let e = same_name_emulator();
    e.set_echo_submitted(true);
    let weak = "Weak-pw1!";
    let line = payload(
        NAME,
        weak,
        OLD,
        json!([key_record(json!({})), user_record(NAME, OLD)]),
    );
    let run = gateway_runs(
        &script("tenable_io_user.sh"),
        &line,
        &binary(),
        &[("TIO_URL", e.url().as_str())],
    );
    run.expect_code(5)
        .expect_no_secret(&[weak, OLD, ACCESS, SECRET])
        .expect_error_line("at least 12 characters");
    assert!(e.vm_password_is(NAME, OLD));
}
