//! The POSIX `sh` wrapper in `deploy/`, run the way the gateway runs a PAM script: the base64
//! line piped in with `echo`, the exit status judged.

use std::process::Command;

use super::util::*;

const WRAPPER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/tenable-rotate.sh");

/// `echo "$LINE" | deploy/tenable-rotate.sh`, with the wrapper pointed at `bin`.
fn gateway_runs_wrapper(line: &str, bin: &str) -> Run {
    let out = Command::new("sh")
        .args(["-c", "echo \"$LINE\" | \"$WRAPPER\""])
        .env("LINE", line.trim_end())
        .env("WRAPPER", WRAPPER)
        .env("TENABLE_ROTATE_BIN", bin)
        .env_remove("TENABLE_URL")
        .output()
        .expect("run sh");
    // The line reaches the wrapper through the environment; check the output for it all the same.
    checked(out, line.as_bytes(), &[], &[])
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
