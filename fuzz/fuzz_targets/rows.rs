//! Fuzzes what `discover` prints: users and credentials whose every text comes from the
//! fuzzer, printed in each format on each platform, with one of three sets of keys, which
//! decide which of the printer's shortcuts apply: hex keys as Tenable issues them (a row's
//! values screened one by one), keys with a comma (a CSV row screened whole) and keys with a
//! quote, a backslash and text past ASCII (every row to the redactor).
//!
//! The oracle is by origin, as in `answers`: the keys are what must never be printed, so
//! whatever the values hold (the keys themselves included), no line printed may quote one in
//! any encoding `Redactor::quotes_secret` decodes, and no line may hold a control or bidi
//! character. The JSON output must be one JSON document.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use tenable_rotate::discover::{DiscoverFormat, print_rows};
use tenable_rotate::secret::{Redactor, Secret};
use tenable_rotate::tenable::{Authorizations, ListedCredential, ListedUser, Platform};

const KEY_SETS: [[&str; 2]; 3] = [
    [
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210",
    ],
    ["0123456789,abcdef0123", "Administrator4567abcdef"],
    ["SECRET\"mark\\er/é%+1", "0123456789abcdefKEYMARKER"],
];

/// The roles TVM names, by `permissions`, as the list reader makes them.
const ROLES: [(u64, &str); 3] = [(32, "Standard [32]"), (64, "Administrator [64]"), (16, "Basic [16]")];

fn flag(bits: u8, at: u8) -> Option<bool> {
    match (bits >> at) & 3 {
        0 => None,
        1 => Some(true),
        _ => Some(false),
    }
}

fuzz_target!(|data: &[u8]| {
    let [choice, rest @ ..] = data else {
        return;
    };
    let format = [DiscoverFormat::Table, DiscoverFormat::Json, DiscoverFormat::Csv]
        [usize::from(choice % 3)];
    let platform = if choice / 3 % 2 == 0 { Platform::Vm } else { Platform::Sc };
    let keys = KEY_SETS[usize::from(choice / 6 % 3)];
    // Rows are parted by 0x1e and their fields by 0x1f; a row's first byte sets its flags.
    // Every third row is a credential.
    let text = String::from_utf8_lossy(rest);
    let mut users = Vec::new();
    let mut credentials = Vec::new();
    for (i, row) in text.split('\u{1e}').take(48).enumerate() {
        let bits = row.bytes().next().unwrap_or(0);
        let fields: Vec<&str> = row.get(1..).unwrap_or("").split('\u{1f}').collect();
        let field = |n: usize| fields.get(n).map(|s| s.to_string());
        if i % 3 == 2 {
            credentials.push(ListedCredential {
                id: field(0).unwrap_or_default(),
                name: field(1).unwrap_or_default(),
                kind: field(2).unwrap_or_default(),
                category: field(3),
                account: field(4),
                password_key: (bits & 1 == 1).then_some("password"),
                auth_method: field(5),
                can_edit: flag(bits, 1),
                // This program's own words, never Tenable's.
                unreadable: (bits & 0x08 != 0).then(|| "Tenable answered 404 to reading it".into()),
            });
            continue;
        }
        let mut user = ListedUser {
            id: Cow::Owned(field(0).unwrap_or_default()),
            username: Cow::Owned(field(1).unwrap_or_default()),
            name: field(2).map(Cow::Owned),
            email: field(3).map(Cow::Owned),
            role: field(4).map(Cow::Owned),
            permissions: field(5).and_then(|p| p.parse().ok()),
            enabled: flag(bits, 0),
            locked: flag(bits, 2),
            auth_type: field(6).map(Cow::Owned),
            authorizations: (bits & 0x10 != 0).then_some(Authorizations {
                password: bits & 0x20 != 0,
                saml: bits & 0x40 != 0,
                api: bits & 0x80 != 0,
            }),
            last_login: field(7).and_then(|t| t.parse().ok()),
        };
        // Often a role TVM names, handed over as the list reader hands it over.
        if bits & 0x0c == 0x0c {
            let (permissions, word) = ROLES[usize::from(bits >> 6) % ROLES.len()];
            user.permissions = Some(permissions);
            user.role = Some(Cow::Borrowed(word));
        }
        users.push(user);
    }
    let printed = print_rows(format, platform, &users, &credentials, &keys);
    let printed = String::from_utf8(printed).expect("what discover prints is UTF-8");
    let mut redactor = Redactor::default();
    for key in keys {
        redactor.add(&Secret::from(key));
    }
    for line in printed.lines() {
        assert!(!redactor.quotes_secret(line), "a key in {line:?}");
        assert!(
            !line.chars().any(|c| c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c)),
            "unsafe character in {line:?}"
        );
    }
    match format {
        DiscoverFormat::Json => {
            serde_json::from_str::<serde_json::Value>(&printed).expect("one JSON document");
        }
        // Every line is a whole CSV record (its quotes closed, or a spreadsheet reads the
        // lines after it into one cell) with the header's number of cells.
        DiscoverFormat::Csv => {
            let mut lines = printed.lines();
            let columns = csv_cells(lines.next().expect("a header")).expect("a header");
            for line in lines {
                assert_eq!(csv_cells(line), Some(columns), "{line:?}");
            }
        }
        DiscoverFormat::Table => {}
    }
});

/// How many cells a CSV line holds, or `None` when a quoted cell is not closed or a quote
/// stands inside an unquoted one.
fn csv_cells(line: &str) -> Option<usize> {
    let mut cells = 1;
    let mut chars = line.chars().peekable();
    loop {
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next()? {
                    '"' if chars.peek() == Some(&'"') => {
                        chars.next();
                    }
                    '"' => break,
                    _ => {}
                }
            }
        }
        loop {
            match chars.next() {
                None => return Some(cells),
                Some(',') => break,
                Some('"') => return None,
                Some(_) => {}
            }
        }
        cells += 1;
    }
}
