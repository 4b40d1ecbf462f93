//! How long the steps of reading a large `GET /users` answer take on their own, in process,
//! for BENCHMARKS.md (issue 13): what a client that checks every user with serde_json cannot
//! go below, whatever it then does with them.
//!
//! Usage: `cargo run --release --example list_floor -- USERS.json.gz [ROUNDS]`, with the gzip
//! answer saved from the emulator, e.g.
//! `curl -s -H 'X-ApiKeys: accessKey=A; secretKey=S;' -H 'Accept-Encoding: gzip' URL/users`.
//! Prints, for each step, the median wall time of ROUNDS runs (default 9):
//! 1. inflate only, to nothing (what `curl --compressed -o /dev/null` does after the transfer);
//! 2. inflate and cut into items (`transport::items`, nothing parsed);
//! 3. inflate, cut, and parse every item with serde_json into nothing (`IgnoredAny`: every
//!    byte checked, no value built);
//! 4. inflate, cut, and read every item as `discover` does, into a listed user, the fast way
//!    (`tenable::listed_user_read_plainly`, serde_json only for an item that is not plain);
//! 5. inflate, and read every item as `discover` reads it: from the text of the list before it
//!    is cut (`tenable::listed_user_read_from_list`), an item it cannot read cut and read as 4;
//! 6. as 4, every item read by serde_json;
//! 7. as 3, into a `serde_json::Value` per item.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::de::IgnoredAny;
use tenable_rotate::tenable;
use tenable_rotate::transport::{BodyLimits, items};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: list_floor USERS.json.gz [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(9);
    let gz = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("list_floor: cannot read {path}: {e}");
        std::process::exit(2);
    });
    let inflate = || flate2::read::GzDecoder::new(&gz[..]);
    let steps: [(&str, &dyn Fn() -> u64); 7] = [
        ("inflate only", &|| {
            std::io::copy(&mut inflate(), &mut std::io::sink()).expect("inflate")
        }),
        ("inflate + cut", &|| each(inflate(), &mut |_| Ok(()))),
        ("inflate + cut + serde_json IgnoredAny", &|| {
            each(inflate(), &mut |text| {
                serde_json::from_slice::<IgnoredAny>(text).map(drop)
            })
        }),
        ("inflate + cut + a listed user read plainly", &|| {
            each(inflate(), &mut |text| {
                let text = simdutf8::basic::from_utf8(text).expect("UTF-8");
                std::hint::black_box(tenable::listed_user_read_plainly(text).expect("plain"));
                Ok(())
            })
        }),
        (
            "inflate + a listed user read from the list before it is cut",
            &|| {
                items::for_each_item_read(
                    inflate(),
                    "users",
                    BodyLimits::LIST,
                    None,
                    Some(&mut |held| {
                        // As `discover` does: the longest start that is whole UTF-8.
                        let text = match simdutf8::compat::from_utf8(held) {
                            Ok(text) => text,
                            Err(e) => std::str::from_utf8(&held[..e.valid_up_to()]).expect("UTF-8"),
                        };
                        let (user, len) = tenable::listed_user_read_from_list(text)?;
                        std::hint::black_box(user);
                        Some(len)
                    }),
                    &mut |text| {
                        let text = simdutf8::basic::from_utf8(text).expect("UTF-8");
                        std::hint::black_box(
                            tenable::listed_user_read_plainly(text).expect("plain"),
                        );
                        Ok(())
                    },
                )
                .expect("a user list")
            },
        ),
        ("inflate + cut + a listed user read by serde_json", &|| {
            each(inflate(), &mut |text| {
                let text = simdutf8::basic::from_utf8(text).expect("UTF-8");
                std::hint::black_box(tenable::listed_user_read_by_serde(text)?);
                Ok(())
            })
        }),
        ("inflate + cut + serde_json Value", &|| {
            each(inflate(), &mut |text| {
                serde_json::from_slice::<serde_json::Value>(text).map(drop)
            })
        }),
    ];
    for (name, step) in steps {
        let mut times: Vec<Duration> = (0..rounds)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(step());
                start.elapsed()
            })
            .collect();
        times.sort();
        println!("{name}: {} ms", times[rounds / 2].as_millis());
    }
}

/// Streams the `users` list of `reader`, handing each item's text to `each`; the item count.
fn each(reader: impl Read, each: &mut dyn FnMut(&[u8]) -> Result<(), serde_json::Error>) -> u64 {
    items::for_each_item_text(reader, "users", BodyLimits::LIST, None, each).expect("a user list")
}
