//! When the process started: the one deadline of a run is counted from here, so that reading
//! stdin, settling settings and every request share it (issue 10, row 10: a stdin held open
//! must not keep a run alive past its deadline).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

static STARTED: OnceLock<Instant> = OnceLock::new();

/// Records the start; `main` calls it first. Later calls keep the first instant.
pub fn mark_start() -> Instant {
    *STARTED.get_or_init(Instant::now)
}

/// The instant `budget` after the start (the first call to this module, if `mark_start` was
/// never called, as in library tests).
pub fn since_start(budget: Duration) -> Instant {
    let start = mark_start();
    start
        .checked_add(budget)
        .unwrap_or(start + Duration::from_secs(86_400 * 365))
}

/// How much of `budget` is left now.
pub fn remaining(budget: Duration) -> Duration {
    since_start(budget).saturating_duration_since(Instant::now())
}
