//! The bad-input table: every row is one clear stderr line, a documented exit code, and no
//! secret from the payload in any output.

use serde_json::{Value, json};

use super::util::*;

/// A payload object with every field, for rows that remove or break one.
fn full(url: &str) -> Value {
    json!({
        "providerRecordUid": "P", "resourceRecordUid": "", "userRecordUid": "U",
        "newPassword": NEW, "oldPassword": OLD, "user": USER,
        "records": base64_of(&json!([key_record(json!({"tenable_url": url}))])),
    })
}

fn base64_of(v: &Value) -> String {
    encode(v).trim().to_owned()
}

fn without(field: &str) -> String {
    let mut v = full("http://127.0.0.1:9");
    v.as_object_mut().unwrap().remove(field);
    encode(&v)
}

fn with_records(records: Value) -> String {
    payload(USER, NEW, OLD, records)
}

/// Runs the binary on `stdin` and checks the row.
fn row(stdin: &str, env: &[(&str, &str)], code: i32, fragment: &str) {
    run(&[], stdin.as_bytes(), env)
        .expect_code(code)
        .expect_error_line(fragment)
        .expect_no_secret(&SECRETS);
}

macro_rules! rows {
    ($($name:ident: $stdin:expr, $code:expr, $fragment:expr;)*) => {$(
        #[test]
        fn $name() {
            row(&$stdin, &[], $code, $fragment);
        }
    )*};
}

rows! {
    rejects_empty_stdin: String::from("\n"), 2, "standard input is empty";
    rejects_stdin_that_is_not_base64: String::from("this is {not} base64!\n"), 2, "standard input is not base64";
    rejects_base64_of_non_json: String::from("bm90IGpzb24=\n"), 2, "not valid JSON";
    rejects_json_that_is_not_an_object: encode(&json!([NEW, OLD])), 2, "is a JSON array, not an object";
    rejects_a_payload_without_user: without("user"), 2, "the payload has no `user`";
    rejects_a_payload_without_new_password: without("newPassword"), 2, "the payload has no `newPassword`";
    rejects_a_payload_without_old_password: without("oldPassword"), 2, "the payload has no `oldPassword`";
    rejects_a_payload_without_records: without("records"), 2, "the payload has no `records`";
    rejects_records_that_are_not_base64: encode(&{ let mut v = full("http://127.0.0.1:9"); v["records"] = json!("%%%not-base64%%%"); v }), 2, "`records` is not base64";
    rejects_records_that_are_not_a_list: with_records(json!({"title": "Tenable Authentication Record"})), 2, "expected an array of records";
    rejects_a_payload_without_a_key_record: with_records(json!([user_record(USER, OLD)])), 2, "no record titled 'Tenable Authentication Record'";
    rejects_two_key_records: with_records(json!([
        {"title": "Keys A", "tenable_access_key": ACCESS, "tenable_secret_key": SECRET},
        {"title": "Keys B", "tenable_access_key": ACCESS, "tenable_secret_key": SECRET}])), 2, "'Keys A', 'Keys B'";
    rejects_empty_keys: with_records(json!([key_record(json!({"tenable_access_key": ""}))])), 2, "empty `tenable_access_key`";
    rejects_a_misspelt_tenable_field: with_records(json!([key_record(json!({"tenable_targt": "credential"}))])), 2, "unknown field `tenable_targt`";
    rejects_an_unknown_target: with_records(json!([key_record(json!({"tenable_target": "group"}))])), 2, "`tenable_target` is 'group'";
    rejects_plain_http_to_a_remote_host: with_records(json!([key_record(json!({"tenable_url": "http://cloud.tenable.com"}))])), 2, "http:// is allowed only for loopback hosts";
    rejects_a_bad_sc_host: with_records(json!([key_record(json!({"tenable_sc_host": "https://"}))])), 2, "is not usable";
}

#[test]
fn rejects_more_than_one_mebibyte() {
    let big = "A".repeat(1024 * 1024 + 1);
    row(&big, &[], 2, "larger than 1048576 bytes");
}

#[test]
fn rejects_an_unknown_user_with_exit_4() {
    let emulator = vm_emulator(&[("bob@example.com", OLD)]);
    row(
        &standard_payload(&emulator.url()),
        &[],
        4,
        "no Tenable Vulnerability Management user matches 'alice@example.com'",
    );
    assert_eq!(emulator.request_count("PUT /users/{id}/chpasswd"), 0);
}

#[test]
fn rejects_a_wrong_old_password_with_exit_5_and_changes_nothing() {
    let emulator = vm_emulator(&[(USER, "Another-Passw0rd!")]);
    row(
        &standard_payload(&emulator.url()),
        &[],
        5,
        "rejected the new password for user 'alice@example.com'",
    );
    assert!(emulator.vm_password_is(USER, "Another-Passw0rd!"));
}

#[test]
fn rejects_a_weak_new_password_with_tenables_message() {
    let emulator = vm_emulator(&[(USER, OLD)]);
    let line = payload(
        USER,
        "weakpass",
        OLD,
        json!([key_record(json!({"tenable_url": emulator.url()}))]),
    );
    run(&[], line.as_bytes(), &[])
        .expect_code(5)
        .expect_error_line("HTTP 400")
        .expect_no_secret(&["weakpass", OLD, ACCESS, SECRET]);
    assert!(emulator.vm_password_is(USER, OLD));
}

#[test]
fn rejects_bad_keys_with_exit_3() {
    let emulator = vm_emulator(&[(USER, OLD)]);
    let line = payload(
        USER,
        NEW,
        OLD,
        json!([key_record(
            json!({"tenable_url": emulator.url(), "tenable_secret_key": "wrong-secret-key"})
        )]),
    );
    run(&[], line.as_bytes(), &[])
        .expect_code(3)
        .expect_error_line("refused the API keys (HTTP 401")
        .expect_no_secret(&[NEW, OLD, ACCESS, "wrong-secret-key"]);
}

#[test]
fn reports_an_unreachable_tenable_with_exit_6() {
    row(
        &standard_payload(UNREACHABLE_URL),
        &[("TENABLE_ROTATE_TIMEOUT", "5")],
        6,
        "cannot connect to 127.0.0.1",
    );
}

#[test]
fn an_interactive_run_without_a_subcommand_asks_for_a_payload() {
    // Not a terminal here, so this is the empty-stdin row; the message names the contract.
    row("", &[], 2, "Keeper Gateway");
}

#[test]
fn a_usage_error_is_exit_2_and_names_the_values() {
    // clap's whole message (issue 14): the flag, the values it takes, the usage line.
    let run = run(&["rotate", "--platform", "nope", "--user", "a"], b"", &[]);
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("invalid value 'nope' for '--platform <PLATFORM>'")
            && run.stderr.contains("[possible values: vm, sc]"),
        "{run:#?}"
    );
}
