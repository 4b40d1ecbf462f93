//! Process hardening done first thing in `main`, before any secret is read.
//!
//! A crash must not write the process's memory, which holds the passwords and API keys, to
//! disk (issue 10, row 9: with core dumps on, a core file held the secret key). As ssh-agent
//! and gpg-agent do, the core-file size limit is set to zero (soft and hard) and, on Linux,
//! the process is marked not dumpable, which also covers core handlers that ignore the limit
//! (a `core_pattern` pipe) and keeps other processes of the same user from attaching to it.
//! Failures are ignored: hardening that the system refuses is no reason to refuse a rotation.

/// Turns off core dumps for this process.
pub fn no_core_dumps() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, setrlimit};
        let _ = setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        );
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior};
        let _ = set_dumpable_behavior(DumpableBehavior::NotDumpable);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_os = "linux")]
    fn leaves_the_core_limit_at_zero() {
        super::no_core_dumps();
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let core = limits
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap();
        let fields: Vec<&str> = core.split_whitespace().collect();
        assert_eq!(&fields[4..6], ["0", "0"], "{core}");
    }
}
