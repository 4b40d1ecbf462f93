//! Faults injected by the emulator: rate limits, 5xx, lost answers, slow answers. Each test
//! asserts the exit code, the exact number of password changes Tenable received and applied,
//! and that no secret leaked.

use std::time::{Duration, Instant};

use super::util::*;

const CHPASSWD: &str = "PUT /users/{id}/chpasswd";

fn faulted(spec: &str) -> tenable_rotate::emulator::Emulator {
    let e = vm_emulator(&[(USER, OLD)]);
    e.inject(spec.parse().expect("fault spec"));
    e
}

#[test]
fn rides_out_rate_limits_on_the_user_list() {
    let e = faulted("429:0@GET /users*2");
    run(&[], standard_payload(&e.url()).as_bytes(), &[])
        .expect_code(0)
        .expect_no_secret(&SECRETS);
    assert_eq!(e.request_count("GET /users"), 3);
    assert_eq!(e.changes_applied(CHPASSWD), 1);
    assert!(e.vm_password_is(USER, NEW));
}

#[test]
fn a_5xx_storm_ends_in_exit_6_within_the_deadline() {
    let e = faulted("503@GET /users*50");
    let started = Instant::now();
    run(
        &[],
        standard_payload(&e.url()).as_bytes(),
        &[("TENABLE_ROTATE_TIMEOUT", "3")],
    )
    .expect_code(6)
    .expect_error_line("HTTP 503")
    .expect_no_secret(&SECRETS);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "bounded by the deadline"
    );
    let lists = e.request_count("GET /users");
    assert!(
        (2..=6).contains(&lists),
        "retried within the budget: {lists}"
    );
    assert_eq!(e.request_count(CHPASSWD), 0);
}

#[test]
fn an_answer_lost_after_the_change_landed_is_confirmed_not_resent() {
    let e = faulted("drop-after@PUT /users*1");
    let run = run(&[], standard_payload(&e.url()).as_bytes(), &[]);
    run.expect_code(0).expect_no_secret(&SECRETS);
    assert!(run.stdout.contains("changed the password"), "{run:#?}");
    assert_eq!(e.request_count(CHPASSWD), 1, "never sent twice");
    assert_eq!(e.changes_applied(CHPASSWD), 1);
    assert!(e.vm_password_is(USER, NEW));
}

#[test]
fn an_answer_lost_before_the_change_landed_is_reported_and_safe_to_rerun() {
    let e = faulted("drop-before@PUT /users*1");
    let line = standard_payload(&e.url());
    run(&[], line.as_bytes(), &[])
        .expect_code(6)
        .expect_error_line(
            "the change did not land; the Tenable password was not changed; re-running is safe",
        )
        .expect_no_secret(&SECRETS);
    assert_eq!(e.request_count(CHPASSWD), 1, "never sent twice");
    assert_eq!(e.changes_applied(CHPASSWD), 0);
    assert!(e.vm_password_is(USER, OLD));
    run(&[], line.as_bytes(), &[]).expect_code(0);
    assert_eq!(e.changes_applied(CHPASSWD), 1);
}

#[test]
fn a_gateway_error_on_the_change_is_checked_not_resent() {
    let e = faulted("502@PUT /users*1");
    run(&[], standard_payload(&e.url()).as_bytes(), &[])
        .expect_code(6)
        .expect_error_line("did not land");
    assert_eq!(e.request_count(CHPASSWD), 1);
    assert!(e.vm_password_is(USER, OLD));
}

#[test]
fn a_rate_limited_change_is_retried_because_tenable_did_not_process_it() {
    let e = faulted("429:0@PUT /users*1");
    run(&[], standard_payload(&e.url()).as_bytes(), &[]).expect_code(0);
    assert_eq!(e.request_count(CHPASSWD), 2);
    assert_eq!(e.changes_applied(CHPASSWD), 1);
}

#[test]
fn the_deadline_bounds_a_hanging_tenable() {
    let e = faulted("delay:8000@GET /users*5");
    let started = Instant::now();
    run(
        &[],
        standard_payload(&e.url()).as_bytes(),
        &[("TENABLE_ROTATE_TIMEOUT", "2")],
    )
    .expect_code(6)
    .expect_error_line("the Tenable password was not changed")
    .expect_no_secret(&SECRETS);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert!(e.vm_password_is(USER, OLD));
}
