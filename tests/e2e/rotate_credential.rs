//! Managed scan credentials on both platforms, selected by name or by account, through the
//! binary; the emulator's stored (unmasked) settings are checked after.

use serde_json::json;
use tenable_rotate::emulator::{CredentialSeed, Emulator, EmulatorConfig};

use super::util::*;

const SVC: &str = "CORP\\svc-scan";
const SVC_OLD: &str = "Svc-Old-Passw0rd!";

fn seed(spec: &str) -> CredentialSeed {
    spec.parse().expect("credential seed")
}

fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        credentials: vec![
            seed(&format!("windows:AD scan account:{SVC}:{SVC_OLD}")),
            seed(&format!("ssh:Linux scan account:svc-scan:{SVC_OLD}")),
            seed(&format!(
                "database:Postgres scan:svc-scan@corp.example.com:{SVC_OLD}"
            )),
            seed(&format!("windows:Other account:CORP\\other:{SVC_OLD}")),
            seed("snmp:Switches:svc-scan:public-community"),
        ],
        sc_credentials: vec![
            seed(&format!("windows:SC AD scan:{SVC}:{SVC_OLD}")),
            seed(&format!("ssh:SC other:root:{SVC_OLD}")),
        ],
        ..EmulatorConfig::default()
    })
    .unwrap()
}

fn line(user: &str, extra: serde_json::Value) -> String {
    payload(
        user,
        NEW,
        SVC_OLD,
        json!([key_record(extra), user_record(user, SVC_OLD)]),
    )
}

#[test]
fn vm_credential_by_name_changes_only_its_password() {
    let e = emulator();
    let before_user = e.vm_credential_setting("AD scan account", "username");
    let run = run(&[], line(SVC, json!({"tenable_url": e.url(), "tenable_target": "credential", "tenable_credential_name": "AD scan account"})).as_bytes(), &[]);
    run.expect_code(0)
        .expect_no_secret(&[NEW, SVC_OLD, ACCESS, SECRET]);
    assert!(
        run.stdout.contains("credential 'AD scan account'"),
        "{run:#?}"
    );
    assert_eq!(
        e.vm_credential_secret("AD scan account", "password")
            .as_deref(),
        Some(NEW)
    );
    assert_eq!(
        e.vm_credential_setting("AD scan account", "username"),
        before_user,
        "other settings kept"
    );
    assert_eq!(
        e.vm_credential_secret("Linux scan account", "password")
            .as_deref(),
        Some(SVC_OLD),
        "others untouched"
    );
}

#[test]
fn vm_credential_name_defaults_to_the_payload_user() {
    let e = emulator();
    run(
        &[],
        line(
            "Linux scan account",
            json!({"tenable_url": e.url(), "tenable_target": "credential"}),
        )
        .as_bytes(),
        &[],
    )
    .expect_code(0);
    assert_eq!(
        e.vm_credential_secret("Linux scan account", "password")
            .as_deref(),
        Some(NEW)
    );
}

#[test]
fn vm_credentials_by_account_update_every_match_across_domain_forms() {
    let e = emulator();
    let run = run(&["--output", "json"], line(SVC, json!({"tenable_url": e.url(), "tenable_target": "credential", "tenable_credential_match": "username"})).as_bytes(), &[]);
    run.expect_code(0)
        .expect_no_secret(&[NEW, SVC_OLD, ACCESS, SECRET]);
    for name in ["AD scan account", "Linux scan account", "Postgres scan"] {
        assert_eq!(
            e.vm_credential_secret(name, "password").as_deref(),
            Some(NEW),
            "{name}"
        );
    }
    assert_eq!(
        e.vm_credential_secret("Other account", "password")
            .as_deref(),
        Some(SVC_OLD)
    );
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    let results: Vec<(&str, &str)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["result"].as_str().unwrap()))
        .collect();
    // SNMP holds a community string and no account, so it is neither matched nor touched.
    assert_eq!(
        results,
        [
            ("AD scan account", "changed"),
            ("Linux scan account", "changed"),
            ("Postgres scan", "changed")
        ]
    );
    assert_eq!(
        e.vm_credential_secret("Switches", "community_string")
            .as_deref(),
        Some("public-community")
    );
}

#[test]
fn vm_credential_by_account_with_no_match_is_exit_4() {
    let e = emulator();
    run(&[], line("nobody", json!({"tenable_url": e.url(), "tenable_target": "credential", "tenable_credential_match": "username"})).as_bytes(), &[])
        .expect_code(4)
        .expect_error_line("no Tenable Vulnerability Management credential matches 'nobody'");
}

#[test]
fn ambiguous_credential_names_are_refused_with_the_list() {
    // Tenable keeps names unique per container, but a name filter can still return more
    // than one (and the emulator seeds what it is given): we refuse rather than guess.
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        credentials: vec![
            seed("ssh:dup:a:P@ssw0rd-One!"),
            seed("ssh:dup:b:P@ssw0rd-Two!"),
        ],
        ..EmulatorConfig::default()
    })
    .unwrap();
    run(
        &[],
        line(
            "dup",
            json!({"tenable_url": e.url(), "tenable_target": "credential"}),
        )
        .as_bytes(),
        &[],
    )
    .expect_code(4)
    .expect_error_line("more than one Tenable Vulnerability Management credential matches 'dup'");
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 0);
}

#[test]
fn a_credential_type_without_a_password_is_refused() {
    let e = emulator();
    run(
        &[],
        line(
            "Switches",
            json!({"tenable_url": e.url(), "tenable_target": "credential"}),
        )
        .as_bytes(),
        &[],
    )
    .expect_code(2)
    .expect_error_line("has no password setting to rotate")
    .expect_no_secret(&["public-community", NEW, SVC_OLD]);
    assert_eq!(
        e.vm_credential_secret("Switches", "community_string")
            .as_deref(),
        Some("public-community")
    );
}

#[test]
fn sc_credential_by_name() {
    let e = emulator();
    run(&[], line(SVC, json!({"tenable_sc_host": e.url(), "tenable_target": "credential", "tenable_credential_name": "SC AD scan"})).as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&[NEW, SVC_OLD, ACCESS, SECRET]);
    assert_eq!(
        e.sc_credential_secret("SC AD scan", "password").as_deref(),
        Some(NEW)
    );
    assert_eq!(
        e.sc_credential_secret("SC other", "password").as_deref(),
        Some(SVC_OLD)
    );
}

#[test]
fn sc_credentials_by_account() {
    let e = emulator();
    run(&[], line("svc-scan@corp.example.com", json!({"tenable_sc_host": e.url(), "tenable_target": "credential", "tenable_credential_match": "username"})).as_bytes(), &[])
        .expect_code(0);
    assert_eq!(
        e.sc_credential_secret("SC AD scan", "password").as_deref(),
        Some(NEW)
    );
    assert_eq!(
        e.sc_credential_secret("SC other", "password").as_deref(),
        Some(SVC_OLD)
    );
}

#[test]
fn check_on_credentials_changes_nothing() {
    let e = emulator();
    let run = run(&["check"], line(SVC, json!({"tenable_url": e.url(), "tenable_target": "credential", "tenable_credential_match": "username"})).as_bytes(), &[]);
    run.expect_code(0);
    assert!(run.stdout.contains("would change"), "{run:#?}");
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 0);
    assert_eq!(
        e.vm_credential_secret("AD scan account", "password")
            .as_deref(),
        Some(SVC_OLD)
    );
}

#[test]
fn standalone_rotate_takes_keys_from_env_and_passwords_from_stdin() {
    let e = vm_emulator(&[(USER, OLD)]);
    let url = e.url();
    let stdin = format!("{NEW}\n{OLD}\n");
    let env = [
        ("TENABLE_ACCESS_KEY", ACCESS),
        ("TENABLE_SECRET_KEY", SECRET),
    ];
    run(
        &["rotate", "--platform", "vm", "--url", &url, "--user", USER],
        stdin.as_bytes(),
        &env,
    )
    .expect_code(0)
    .expect_no_secret(&SECRETS);
    assert!(e.vm_password_is(USER, NEW));
    run(
        &["rotate", "--url", &url, "--user", USER],
        stdin.as_bytes(),
        &[],
    )
    .expect_code(2)
    .expect_error_line("TENABLE_ACCESS_KEY is not set");
}

/// The TVM id the emulator gives its second seeded credential ("Linux scan account").
const LINUX_UUID: &str = "0000c4ed-0000-4000-8003-0000000003e9";

fn by_account(e: &Emulator, extra: serde_json::Value) -> String {
    let mut fields = json!({"tenable_url": e.url(), "tenable_target": "credential", "tenable_credential_match": "username"});
    fields
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    line(SVC, fields)
}

#[test]
fn a_refused_credential_sets_back_those_already_changed() {
    let e = emulator();
    e.inject(
        format!("403@PUT /credentials/{LINUX_UUID}")
            .parse()
            .unwrap(),
    );
    let run = run(
        &["--output", "json"],
        by_account(&e, json!({})).as_bytes(),
        &[],
    );
    run.expect_code(3);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["exit_code"], 3, "{run:#?}");
    assert_eq!(v["password_state"], "not-changed", "{run:#?}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("'AD scan account'") && error.contains("each was set back"),
        "{error}"
    );
    for name in ["AD scan account", "Linux scan account", "Postgres scan"] {
        assert_eq!(
            e.vm_credential_secret(name, "password").as_deref(),
            Some(SVC_OLD),
            "{name}: all or nothing"
        );
    }
    // AD: set, then set back; Linux: refused; Postgres: never reached.
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 3);
    let results: Vec<(&str, &str)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [
            ("AD scan account", "set-back"),
            ("Linux scan account", "failed-not-changed"),
            ("Postgres scan", "not-reached")
        ]
    );
}

#[test]
fn keep_leaves_the_changed_credentials_and_says_so() {
    let e = emulator();
    e.inject(
        format!("403@PUT /credentials/{LINUX_UUID}")
            .parse()
            .unwrap(),
    );
    let run = run(
        &[],
        by_account(&e, json!({"tenable_on_partial_failure": "keep"})).as_bytes(),
        &[],
    );
    // Partial: AD holds the new password, so no code meaning "not changed" (3 for the 403).
    run.expect_code(8)
        .expect_error_line("that credential was not changed; before it, 'AD scan account'")
        .expect_error_line("they keep the new password (tenable_on_partial_failure = keep)");
    assert_eq!(
        e.vm_credential_secret("AD scan account", "password")
            .as_deref(),
        Some(NEW)
    );
    assert_eq!(
        e.vm_credential_secret("Linux scan account", "password")
            .as_deref(),
        Some(SVC_OLD)
    );
}

#[test]
fn an_unclear_answer_on_a_credential_is_unknown_and_never_resent() {
    let e = emulator();
    e.inject(
        format!("503@PUT /credentials/{LINUX_UUID}")
            .parse()
            .unwrap(),
    );
    let run = run(
        &["--output", "json"],
        by_account(&e, json!({})).as_bytes(),
        &[],
    );
    run.expect_code(7);
    let v: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert_eq!(v["password_state"], "unknown", "{run:#?}");
    assert!(v["error"].as_str().unwrap().contains("UNKNOWN"), "{run:#?}");
    assert_eq!(
        e.request_count("PUT /credentials/{uuid}"),
        3,
        "AD set and set back, Linux sent once and never again"
    );
    assert_eq!(
        e.vm_credential_secret("AD scan account", "password")
            .as_deref(),
        Some(SVC_OLD)
    );
}

#[test]
fn a_404_reading_a_credential_is_not_found_with_its_name() {
    // Issue 11, item 2: a 404 on a read was "unavailable" (exit 6).
    let e = emulator();
    e.inject(
        format!("404@GET /credentials/{LINUX_UUID}")
            .parse()
            .unwrap(),
    );
    let run = run(
        &[],
        line(
            "Linux scan account",
            json!({"tenable_url": e.url(), "tenable_target": "credential"}),
        )
        .as_bytes(),
        &[],
    );
    run.expect_code(4).expect_error_line(
        "no Tenable Vulnerability Management credential matches 'Linux scan account'",
    );
    assert_eq!(e.request_count("PUT /credentials/{uuid}"), 0);
}

#[test]
fn with_no_target_a_name_that_is_also_a_credential_is_refused_not_guessed() {
    // Issue 11, item 4: a record set up for Keeper's credential sample (no target field) used
    // to change a user of the same name.
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: vec![("Linux scan account".into(), SVC_OLD.into())],
        credentials: vec![seed(&format!("ssh:Linux scan account:svc-scan:{SVC_OLD}"))],
        ..EmulatorConfig::default()
    })
    .unwrap();
    let no_target = line("Linux scan account", json!({"tenable_url": e.url()}));
    run(&[], no_target.as_bytes(), &[])
        .expect_code(2)
        .expect_error_line(
            "no tenable_target is set and 'Linux scan account' is the name of a managed credential",
        );
    run(&["check"], no_target.as_bytes(), &[]).expect_code(2);
    assert!(e.vm_password_is("Linux scan account", SVC_OLD));
    assert_eq!(e.request_count("PUT /users/{id}/chpasswd"), 0);
    // Saying which is enough.
    let as_user = line(
        "Linux scan account",
        json!({"tenable_url": e.url(), "tenable_target": "user"}),
    );
    run(&[], as_user.as_bytes(), &[]).expect_code(0);
    assert!(e.vm_password_is("Linux scan account", NEW));
    assert_eq!(
        e.vm_credential_secret("Linux scan account", "password")
            .as_deref(),
        Some(SVC_OLD)
    );
}
