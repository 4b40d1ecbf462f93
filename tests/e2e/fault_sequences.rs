//! Random sequences of faults on every route a rotation uses, on every change path, each run
//! judged against what the emulator truly holds afterwards: no run may report a password
//! state it did not prove (issue 10), and the exit code must mean what README's table says.
//!
//! `fault_matrix` puts one fault on the change request. Here one to four rules are armed at
//! once, each on a route the path uses (the lookups, the change, the logins that prove an
//! unclear answer, the end of a session) or on every route; each is a connection lost before
//! or after the request is applied, a 4xx, a 5xx, a 429 or a short delay, used one to three
//! times. The start varies as well: Tenable may already hold the new password (a re-run), the
//! payload may carry no old password or one Tenable never had, Security Center's keys may be
//! the rotated user's own, a login may be asked to verify the change, and several
//! credentials may match one account, with `restore` or `keep`; one case in eight is a
//! `check`, which must send no change whatever it meets.
//!
//! The oracle, per run (`judge`):
//! - the JSON report is one object whose `exit_code` is the process's, never 1;
//! - exit 0 is `changed` or `in-sync`, and every object the run was to change holds the new
//!   password; exit 7 is `unknown` and `unknown` is exit 7;
//! - exits 2 to 6 say "not changed": every object holds what it held before; exit 8 is
//!   `partial` and `partial` is exit 8;
//! - every credential a run names has the result it holds (`set-back`: the old password;
//!   `kept-changed`: the new one; ...);
//! - a credential of another account is never touched; a change is sent at most twice to a
//!   user (the second only after a 429 or 503 proven not to have landed) and at most once to
//!   a credential, but to set it back.
//!
//! Cases are drawn from a fixed seed, so a run is repeatable; `TENABLE_ROTATE_SEQUENCES` sets
//! the cases per path (default 24) and `TENABLE_ROTATE_SEQUENCES_SEED` the first seed. A
//! failure names the case's seed and its faults.

use serde_json::{Value, json};
use tenable_rotate::emulator::{CredentialSeed, Emulator, EmulatorConfig};

use super::util::*;

const SVC: &str = "CORP\\svc-scan";
/// An old password the vault holds that Tenable never had (the two out of step).
const WRONG_OLD: &str = "Wr0ng \"old\\%+/ü-password";

/// The VM credentials: three hold the account `SVC` in one form or another, one holds it in a
/// type with no password (left alone), one holds another account (never touched).
const VM_CREDENTIALS: [(&str, &str, &str); 5] = [
    ("windows", "AD scan account", SVC),
    ("ssh", "Linux scan account", "svc-scan"),
    ("database", "Postgres scan", "svc-scan@corp.example.com"),
    ("snmp", "Switches", "svc-scan"),
    ("windows", "Other account", "CORP\\other"),
];
const SC_CREDENTIALS: [(&str, &str, &str); 3] = [
    ("windows", "SC AD scan", SVC),
    ("ssh", "SC Linux scan", "svc-scan"),
    ("ssh", "SC other", "root"),
];
/// The SNMP community, which is not a password and must never change.
const COMMUNITY: &str = "public-community";

/// What each fault does, as the emulator's spec names it.
const FAULT_KINDS: [&str; 14] = [
    "drop-before",
    "drop-after",
    "drop-after",
    "500",
    "502",
    "503",
    "504",
    "429:0",
    "408",
    "400",
    "401",
    "403",
    "404",
    "delay:20",
];

/// The routes each platform's rotations use (prefixes of `METHOD /path`).
const VM_ROUTES: [&str; 8] = [
    "GET /users",
    "PUT /users",
    "POST /session",
    "DELETE /session",
    "GET /credentials",
    "PUT /credentials",
    "GET /session",
    "GET /filters",
];
const SC_ROUTES: [&str; 8] = [
    "GET /rest/currentUser",
    "GET /rest/user",
    "PATCH /rest/user",
    "POST /rest/token",
    "DELETE /rest/token",
    "GET /rest/credential",
    "PATCH /rest/credential",
    "GET /rest/system",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    VmUser,
    ScUser,
    VmCredentials,
    ScCredentials,
}

impl Path {
    fn is_user(self) -> bool {
        matches!(self, Path::VmUser | Path::ScUser)
    }

    fn is_vm(self) -> bool {
        matches!(self, Path::VmUser | Path::VmCredentials)
    }

    fn routes(self) -> &'static [&'static str] {
        if self.is_vm() { &VM_ROUTES } else { &SC_ROUTES }
    }

    fn credentials(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Path::VmCredentials => &VM_CREDENTIALS,
            Path::ScCredentials => &SC_CREDENTIALS,
            _ => &[],
        }
    }

    /// The change route's template, as the emulator counts requests.
    fn change_route(self) -> &'static str {
        match self {
            Path::VmUser => "PUT /users/{id}/chpasswd",
            Path::ScUser => "PATCH /rest/user/{id}",
            Path::VmCredentials => "PUT /credentials/{uuid}",
            Path::ScCredentials => "PATCH /rest/credential/{id}",
        }
    }
}

/// splitmix64: small, and the same on every machine.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
}

/// One drawn case.
#[derive(Debug)]
struct Case {
    seed: u64,
    path: Path,
    /// Users: Tenable already holds the new password.
    holds_new: bool,
    /// The payload's old password (empty: Keeper had none; or one Tenable never had).
    old: &'static str,
    /// SC: the API keys are the rotated user's own (a self-change sends `currentPassword`).
    own_keys: bool,
    verify: bool,
    keep: bool,
    /// `check`: look everything up, change nothing.
    check: bool,
    faults: Vec<String>,
}

impl Case {
    /// The case for `seed`; seed 0 of every run is without faults, as a baseline.
    fn draw(path: Path, seed: u64, baseline: bool) -> Case {
        let mut d = Draw(seed ^ (path as u64).wrapping_mul(0x51_7cc1_b727_220a));
        let mut faults = Vec::new();
        if !baseline {
            for _ in 0..1 + d.below(4) {
                let kind = FAULT_KINDS[d.below(FAULT_KINDS.len())];
                let routes = path.routes();
                let route = if d.one_in(6) {
                    String::new()
                } else {
                    format!("@{}", routes[d.below(routes.len())])
                };
                // Rules are used in order: a pass-through rule first lets the fault fall on
                // a later request of the route (the second credential's change, the second
                // login).
                if d.one_in(3) {
                    faults.push(format!("delay:1{route}*{}", 1 + d.below(2)));
                }
                faults.push(format!("{kind}{route}*{}", 1 + d.below(3)));
            }
        }
        Case {
            seed,
            path,
            holds_new: !baseline && path.is_user() && d.one_in(5),
            old: match d.below(12) {
                _ if baseline => OLD,
                0 | 1 => "",
                2 => WRONG_OLD,
                _ => OLD,
            },
            own_keys: !baseline && path == Path::ScUser && d.one_in(3),
            verify: !baseline && path.is_user() && d.one_in(3),
            keep: !baseline && !path.is_user() && d.one_in(2),
            check: !baseline && d.one_in(8),
            faults,
        }
    }

    fn emulator(&self) -> Emulator {
        let seed = |&(kind, name, account): &(&str, &str, &str)| {
            let password = if kind == "snmp" { COMMUNITY } else { OLD };
            format!("{kind}:{name}:{account}:{password}")
                .parse::<CredentialSeed>()
                .expect("credential seed")
        };
        let start = if self.holds_new { NEW } else { OLD };
        let mut config = EmulatorConfig {
            access_key: ACCESS.into(),
            secret_key: SECRET.into(),
            ..EmulatorConfig::default()
        };
        match self.path {
            Path::VmUser => config.users = vec![(USER.into(), start.into())],
            Path::ScUser => {
                config.sc_users = vec![(USER.into(), start.into())];
                if self.own_keys {
                    config.sc_api_user = USER.into();
                }
            }
            Path::VmCredentials => config.credentials = VM_CREDENTIALS.iter().map(seed).collect(),
            Path::ScCredentials => {
                config.sc_credentials = SC_CREDENTIALS.iter().map(seed).collect();
            }
        }
        let e = Emulator::start(config).expect("start emulator");
        for spec in &self.faults {
            e.inject(spec.parse().expect("fault spec"));
        }
        e
    }

    fn line(&self, e: &Emulator) -> String {
        let host = if self.path.is_vm() {
            "tenable_url"
        } else {
            "tenable_sc_host"
        };
        if self.path.is_user() {
            let verify = if self.verify { "login" } else { "none" };
            payload(
                USER,
                NEW,
                self.old,
                json!([
                    key_record(json!({host: e.url(), "tenable_verify": verify})),
                    user_record(USER, self.old)
                ]),
            )
        } else {
            let on_failure = if self.keep { "keep" } else { "restore" };
            payload(
                SVC,
                NEW,
                self.old,
                json!([key_record(json!({
                    host: e.url(),
                    "tenable_target": "credential",
                    "tenable_credential_match": "username",
                    "tenable_on_partial_failure": on_failure,
                }))]),
            )
        }
    }
}

/// What Tenable holds for one object: a user, or a credential by name (an SNMP one's
/// community).
fn holds(e: &Emulator, path: Path, name: &str, password: &str) -> bool {
    if name == "Switches" {
        return e.vm_credential_secret(name, "community_string").as_deref() == Some(password);
    }
    match path {
        Path::VmUser => e.vm_password_is(name, password),
        Path::ScUser => e.sc_password_is(name, password),
        Path::VmCredentials => {
            e.vm_credential_secret(name, "password").as_deref() == Some(password)
        }
        Path::ScCredentials => {
            e.sc_credential_secret(name, "password").as_deref() == Some(password)
        }
    }
}

/// What the run said, and the states seen, for the tally.
struct Verdict {
    state: String,
    problems: Vec<String>,
}

/// Runs one case and judges it against what the emulator holds after.
fn judge(case: &Case) -> Verdict {
    let e = case.emulator();
    let args: &[&str] = if case.check {
        &["check", "--output", "json"]
    } else {
        &["--output", "json"]
    };
    let run = run(args, case.line(&e).as_bytes(), &[]);
    let mut problems = Vec::new();
    let v: Value = match serde_json::from_str(run.stdout.trim()) {
        Ok(v) => v,
        Err(err) => {
            return Verdict {
                state: "none".into(),
                problems: vec![format!("stdout is not one JSON object ({err})")],
            };
        }
    };
    let code = run.code;
    let state = v["password_state"].as_str().unwrap_or("missing").to_owned();
    if v["exit_code"].as_i64() != Some(i64::from(code)) {
        problems.push(format!("JSON exit_code {} but exit {code}", v["exit_code"]));
    }
    if !(0..=8).contains(&code) || code == 1 {
        problems.push(format!("exit {code}"));
    }
    let expected_states: &[&str] = match code {
        // A check that passed: everything found, nothing changed.
        0 if case.check => &["not-changed"],
        0 => &["changed", "in-sync"],
        7 => &["unknown"],
        8 => &["partial"],
        _ => &["not-changed"],
    };
    if !expected_states.contains(&state.as_str()) {
        problems.push(format!(
            "exit {code} with password_state {state} (README: {expected_states:?})"
        ));
    }
    // What every object must hold, by the run's word.
    let before = if case.holds_new { NEW } else { OLD };
    let sends = e.request_count(case.path.change_route());
    if case.check {
        // A check changes nothing, whatever it meets, and says so.
        if sends != 0 {
            problems.push(format!("check sent {sends} change requests"));
        }
        if state != "not-changed" {
            problems.push(format!("check ended {state}"));
        }
        let names: Vec<&str> = if case.path.is_user() {
            vec![USER]
        } else {
            case.path.credentials().iter().map(|c| c.1).collect()
        };
        for name in names {
            let was = match name {
                "Switches" => COMMUNITY,
                _ => before,
            };
            if !holds(&e, case.path, name, was) {
                problems.push(format!("check changed '{name}'"));
            }
        }
    } else if case.path.is_user() {
        let want = match (code, state.as_str()) {
            (0, _) | (_, "changed" | "in-sync") => Some(NEW),
            (_, "not-changed") => Some(before),
            _ => None,
        };
        if let Some(want) = want {
            if !holds(&e, case.path, USER, want) {
                problems.push(format!(
                    "said {state} (exit {code}), but the user does not hold the {} password",
                    if want == NEW { "new" } else { "previous" }
                ));
            }
        }
        if sends > 2 {
            problems.push(format!("{sends} change requests to one user"));
        }
    } else {
        judge_credentials(case, &e, code, &state, &v, &mut problems);
    }
    if !problems.is_empty() {
        problems.push(format!("stderr: {}", run.stderr.trim()));
    }
    Verdict { state, problems }
}

/// The credential paths: each credential's word against what it holds.
fn judge_credentials(
    case: &Case,
    e: &Emulator,
    code: i32,
    state: &str,
    v: &Value,
    problems: &mut Vec<String>,
) {
    let items: Vec<(String, String)> = v["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["name"].as_str().unwrap_or_default().to_owned(),
                        i["result"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for &(kind, name, account) in case.path.credentials() {
        let result = items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.as_str());
        let matched = account != "root" && account != "CORP\\other";
        if kind == "snmp" || !matched {
            let untouched = if kind == "snmp" { COMMUNITY } else { OLD };
            if !holds(e, case.path, name, untouched) {
                problems.push(format!("'{name}' was touched"));
            }
            continue;
        }
        let want = match (result, code, state) {
            (Some("changed" | "kept-changed" | "set-back-refused"), _, _) => Some(NEW),
            (Some("set-back"), _, _) => Some(case.old),
            (Some("failed-not-changed" | "not-reached"), _, _) => Some(OLD),
            (Some("set-back-unknown" | "failed-unknown"), _, _) => None,
            (Some(other), _, _) => {
                problems.push(format!("'{name}': result {other}"));
                None
            }
            (None, 0, _) => {
                problems.push(format!("'{name}' is missing from a run that succeeded"));
                None
            }
            (None, _, "not-changed") => Some(OLD),
            (None, _, _) => None,
        };
        if let Some(want) = want {
            if !holds(e, case.path, name, want) {
                problems.push(format!(
                    "'{name}' said {} (exit {code}, {state}), but does not hold the {} password",
                    result.unwrap_or("nothing"),
                    if want == NEW { "new" } else { "old" }
                ));
            }
        }
    }
    // One send each, and one more to set one back.
    let matched = case
        .path
        .credentials()
        .iter()
        .filter(|(kind, _, account)| {
            *kind != "snmp" && *account != "root" && *account != "CORP\\other"
        })
        .count() as u64;
    let sends = e.request_count(case.path.change_route());
    if sends > 2 * matched {
        problems.push(format!("{sends} change requests for {matched} credentials"));
    }
}

fn cases() -> (u64, u64) {
    let number = |var: &str, default: u64| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    (
        number("TENABLE_ROTATE_SEQUENCES", 24),
        number("TENABLE_ROTATE_SEQUENCES_SEED", 1),
    )
}

/// Runs the path's cases, reporting every failing one at once; then checks that the cases
/// reached the states they are there to reach, so that the oracle is not judging nothing.
fn sequences(path: Path) {
    let (count, first) = cases();
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeMap::<String, u64>::new();
    for i in 0..count {
        let case = Case::draw(path, first + i, i == 0);
        let verdict = judge(&case);
        if i == 0 && verdict.state != "changed" {
            failures.push(format!("baseline without faults: {}", verdict.state));
        }
        *seen.entry(verdict.state).or_default() += 1;
        if !verdict.problems.is_empty() {
            failures.push(format!(
                "seed {}: {case:?}\n  {}",
                case.seed,
                verdict.problems.join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    if count >= 24 {
        for state in ["changed", "not-changed"] {
            assert!(seen.contains_key(state), "no case ended {state}: {seen:?}");
        }
    }
    eprintln!("{path:?}: {count} cases: {seen:?}");
}

#[test]
fn tvm_user_under_random_fault_sequences() {
    sequences(Path::VmUser);
}

#[test]
fn sc_user_under_random_fault_sequences() {
    sequences(Path::ScUser);
}

#[test]
fn tvm_credentials_under_random_fault_sequences() {
    sequences(Path::VmCredentials);
}

#[test]
fn sc_credentials_under_random_fault_sequences() {
    sequences(Path::ScCredentials);
}
