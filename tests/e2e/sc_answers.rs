//! Security Center's answers read exactly (issue 11, items 1 and 3), against the scriptable
//! fake: an error envelope is classified by its `error_code` and message, not by HTTP status,
//! and a credential's type is judged from what SC says, never from an absent key.

use serde_json::json;

use super::fake_tenable::*;
use super::util::*;

fn sc_user_line(f: &Fake) -> String {
    payload(
        USER,
        NEW,
        OLD,
        json!([
            key_record(json!({"tenable_sc_host": f.url()})),
            user_record(USER, OLD)
        ]),
    )
}

#[test]
fn an_invalid_token_on_the_change_is_keys_refused_with_no_login() {
    // Recorded in pyTenable's test_system_current_locale: 403, error_code 12.
    let f = Fake::start().with_sc_user("7", USER, OLD).script(|req, _| {
        if req.is("PATCH", "/rest/user/") {
            Action::Answer(Answer::sc_error(
                403,
                12,
                "This request contains an invalid token.",
            ))
        } else {
            Action::Default
        }
    });
    run(&[], sc_user_line(&f).as_bytes(), &[])
        .expect_code(3)
        .expect_error_line(
            "refused the API keys (HTTP 403: This request contains an invalid token.",
        );
    assert_eq!(
        f.count("POST", "/rest/token"),
        0,
        "no login, no lockout count"
    );
    assert_eq!(f.sc_password(USER).as_deref(), Some(OLD));
}

#[test]
fn a_rights_refusal_on_the_change_is_exit_3_with_no_login() {
    // What the emulator's Security Analyst role gets: 403, code 146, a rights message.
    let f = Fake::start().with_sc_user("7", USER, OLD).script(|req, _| {
        if req.is("PATCH", "/rest/user/") {
            Action::Answer(Answer::sc_error(
                403,
                146,
                "You do not have permission to edit User #7.",
            ))
        } else {
            Action::Default
        }
    });
    run(&[], sc_user_line(&f).as_bytes(), &[])
        .expect_code(3)
        .expect_error_line(
            "refused the password change for lack of rights (HTTP 403: You do not have permission",
        );
    assert_eq!(f.count("POST", "/rest/token"), 0);
}

#[test]
fn an_unlisted_code_on_the_change_is_a_rejection_checked_by_one_login() {
    let f = Fake::start().with_sc_user("7", USER, OLD).script(|req, _| {
        if req.is("PATCH", "/rest/user/") {
            Action::Answer(Answer::sc_error(
                403,
                999,
                "Password does not meet complexity",
            ))
        } else {
            Action::Default
        }
    });
    run(&[], sc_user_line(&f).as_bytes(), &[])
        .expect_code(5)
        .expect_error_line("SC error 999: Password does not meet complexity");
    assert_eq!(
        f.count("POST", "/rest/token"),
        1,
        "one login: already in sync?"
    );
}

#[test]
fn a_credential_answer_without_type_fields_is_unusable_not_passwordless() {
    let f = Fake::start()
        .with_sc_credential("12", "AD scan account", "CORP\\svc-scan", OLD)
        .script(|req, _| {
            if req.is("GET", "/rest/credential/12") {
                // As SC answers when not asked for typeFields.
                Action::Answer(Answer::sc_ok(
                    json!({"id": "12", "name": "AD scan account", "type": "windows"}),
                ))
            } else {
                Action::Default
            }
        });
    let line = payload(
        "CORP\\svc-scan",
        NEW,
        OLD,
        json!([key_record(json!({
            "tenable_sc_host": f.url(),
            "tenable_target": "credential",
            "tenable_credential_name": "AD scan account"
        }))]),
    );
    run(&[], line.as_bytes(), &[])
        .expect_code(6)
        .expect_error_line("it has no typeFields");
    let asked = f
        .requests()
        .into_iter()
        .find(|r| r.is("GET", "/rest/credential/12"))
        .expect("details read");
    assert!(
        asked
            .query()
            .iter()
            .any(|(k, v)| k == "fields" && v.split(',').any(|f| f == "typeFields")),
        "asks for the fields it judges"
    );
    assert_eq!(f.changes(), 0);
}

#[test]
fn sc_gets_the_current_password_only_when_the_keys_change_their_own_user() {
    let patch_body = |f: &Fake| {
        f.requests()
            .into_iter()
            .find(|q| q.is("PATCH", "/rest/user/"))
            .and_then(|q| q.json())
            .expect("one PATCH with a JSON body")
    };
    // Another user (the keys belong to the fake's SC_API_USER): an administrator's change,
    // which SC takes without the user's current password, so none is sent.
    let f = Fake::start().with_sc_user("7", USER, OLD);
    run(&[], sc_user_line(&f).as_bytes(), &[]).expect_code(0);
    let body = patch_body(&f);
    assert!(body.get("currentPassword").is_none(), "{body}");
    assert_eq!(f.sc_password(USER).as_deref(), Some(NEW));
    // The keys' own user: SC asks for its current password.
    let own = "Api-Owner-Passw0rd!";
    let f = Fake::start();
    let line = payload(
        SC_API_USER,
        NEW,
        own,
        json!([
            key_record(json!({"tenable_sc_host": f.url()})),
            user_record(SC_API_USER, own)
        ]),
    );
    run(&[], line.as_bytes(), &[]).expect_code(0);
    assert_eq!(patch_body(&f)["currentPassword"], own);
    assert_eq!(f.sc_password(SC_API_USER).as_deref(), Some(NEW));
}
