//! Many rotations against one emulator, one after another and in parallel processes: every
//! one succeeds, none is applied twice, none is lost (the final state is exactly the expected).
//! A correctness check under load, not a timing test.

use serde_json::json;
use tenable_rotate::emulator::{Emulator, EmulatorConfig};

use super::util::*;

fn password(i: usize, round: &str) -> String {
    format!("{round}-Passw0rd!{i:04}")
}

#[test]
fn two_hundred_in_a_row_and_fifty_in_parallel_all_land_exactly_once() {
    let users: Vec<(String, String)> = (0..250)
        .map(|i| (format!("load{i}@example.com"), password(i, "Old")))
        .collect();
    let e = Emulator::start(EmulatorConfig {
        access_key: ACCESS.into(),
        secret_key: SECRET.into(),
        users: users.clone(),
        ..EmulatorConfig::default()
    })
    .unwrap();
    let line = |i: usize| {
        payload(
            &users[i].0,
            &password(i, "New"),
            &password(i, "Old"),
            json!([key_record(json!({"tenable_url": e.url()}))]),
        )
    };
    for i in 0..200 {
        run(&[], line(i).as_bytes(), &[]).expect_code(0);
    }
    let parallel: Vec<_> = (200..250)
        .map(|i| {
            let stdin = line(i);
            std::thread::spawn(move || run(&[], stdin.as_bytes(), &[]))
        })
        .collect();
    for handle in parallel {
        handle.join().unwrap().expect_code(0);
    }
    assert_eq!(
        e.request_count("PUT /users/{id}/chpasswd"),
        250,
        "none sent twice"
    );
    assert_eq!(
        e.changes_applied("PUT /users/{id}/chpasswd"),
        250,
        "none lost"
    );
    for (i, (user, _)) in users.iter().enumerate() {
        assert!(e.vm_password_is(user, &password(i, "New")), "{user}");
    }
}
