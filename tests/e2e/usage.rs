//! The command line as a newcomer meets it: usage errors that name what is wrong, help with
//! examples and the exit codes, `help SUBCOMMAND`, flags only where they work, the man page's
//! sections, and the emulator kept on loopback.

use tenable_rotate::config::env;
use tenable_rotate::exit::ExitStatus;

use super::util::*;

/// Panics unless `args` is a usage error: exit 2, clap's whole message naming every fragment
/// in `names`, the subcommand's usage line (clap shows none for a wrong value, whose message
/// lists the right ones instead), and no terminal styling (stderr is a pipe).
fn usage_error(args: &[&str], usage: &str, names: &[&str]) {
    let wrong_value = names.iter().any(|n| n.starts_with("invalid value"));
    let run = run(args, b"", &[]);
    run.expect_code(2);
    assert!(run.stdout.is_empty(), "{run:#?}");
    assert!(run.stderr.starts_with("error: "), "{run:#?}");
    for name in names {
        assert!(run.stderr.contains(name), "stderr lacks {name:?}: {run:#?}");
    }
    assert!(
        wrong_value || run.stderr.contains(&format!("Usage: {usage}")),
        "stderr lacks the usage line {usage:?}: {run:#?}"
    );
    assert!(!run.stderr.contains('\u{1b}'), "ANSI on a pipe: {run:#?}");
}

#[test]
fn each_subcommand_names_its_missing_or_wrong_argument() {
    usage_error(
        &["rotate", "--url", "https://x.example"],
        "tenable-rotate rotate --user <NAME>",
        &["required arguments were not provided", "--user <NAME>"],
    );
    usage_error(
        &["payload"],
        "tenable-rotate payload --user <NAME>",
        &["--user <NAME>"],
    );
    usage_error(
        &["emulator", "--access-key", "a"],
        "tenable-rotate emulator --access-key <KEY> --secret-key <KEY>",
        &["--secret-key <KEY>"],
    );
    usage_error(
        &["completions"],
        "tenable-rotate completions <SHELL>",
        &["<SHELL>"],
    );
    // The commands with no required argument: a wrong value lists the right ones, a flag they
    // do not take is named.
    usage_error(
        &["keeper", "--output", "yaml"],
        "tenable-rotate keeper",
        &["invalid value 'yaml'", "--output", "text, json"],
    );
    usage_error(
        &["check", "--outptu", "json"],
        "tenable-rotate check",
        &["'--outptu'", "tip: a similar argument exists: '--output'"],
    );
    usage_error(
        &["demo", "--config", "x.toml"],
        "tenable-rotate demo",
        &["'--config'"],
    );
    usage_error(
        &["man", "--output", "json"],
        "tenable-rotate man",
        &["'--output'"],
    );
    usage_error(
        &["completions", "bash", "--config", "x"],
        "tenable-rotate completions",
        &["'--config'"],
    );
    usage_error(
        &[
            "emulator",
            "--access-key",
            "a",
            "--secret-key",
            "s",
            "--output",
            "json",
        ],
        "tenable-rotate emulator",
        &["'--output'"],
    );
}

#[test]
fn near_misses_get_clap_tips() {
    usage_error(
        &["rotat"],
        "tenable-rotate [OPTIONS] [COMMAND]",
        &["'rotat'", "tip: a similar subcommand exists: 'rotate'"],
    );
    usage_error(
        &["rotate", "--usr", "alice"],
        "tenable-rotate rotate --user <NAME>",
        &["tip: a similar argument exists: '--user'"],
    );
}

#[test]
fn target_verify_and_match_are_value_enums() {
    for (flag, values) in [
        ("--target", "user, credential"),
        ("--verify", "none, login"),
        ("--credential-match", "name, username"),
        ("--platform", "vm, sc"),
    ] {
        usage_error(
            &["rotate", "--user", "a", flag, "nope"],
            "tenable-rotate rotate --user <NAME>",
            &["invalid value 'nope'", flag, values],
        );
    }
    let help = run(&["rotate", "--help"], b"", &[]);
    help.expect_code(0);
    for value in ["credential: Managed scan credentials", "login: Log in once"] {
        assert!(help.stdout.contains(value), "{help:#?}");
    }
    let bash = run(&["completions", "bash"], b"", &[]);
    assert!(bash.stdout.contains("user credential"), "{bash:#?}");
    assert!(bash.stdout.contains("none login"), "{bash:#?}");
}

#[test]
fn help_shows_examples_exit_codes_and_the_environment() {
    let long = run(&["--help"], b"", &[]);
    long.expect_code(0);
    assert!(
        long.stdout.contains("Examples:\n  tenable-rotate demo"),
        "{long:#?}"
    );
    assert!(long.stdout.contains("Exit status:"), "{long:#?}");
    for status in ExitStatus::ALL {
        assert!(
            long.stdout.contains(&format!(
                "  {}  {}",
                status.code(),
                tenable_rotate::cli::describe(status)
            )),
            "exit {} is not in --help",
            status.code()
        );
    }
    for var in env::ALL {
        assert!(long.stdout.contains(var), "{var} is not in --help");
    }
    let short = run(&["-h"], b"", &[]);
    short.expect_code(0);
    assert!(
        short
            .stdout
            .contains("Exit status: 0 success, 1 internal-error"),
        "{short:#?}"
    );
    assert!(short.stdout.contains("7 unknown"), "{short:#?}");

    for sub in [
        "keeper",
        "check",
        "rotate",
        "payload",
        "demo",
        "emulator",
        "completions",
        "man",
    ] {
        let help = run(&[sub, "--help"], b"", &[]);
        help.expect_code(0);
        assert!(
            help.stdout.contains("Examples:\n"),
            "{sub} --help has no examples"
        );
    }
}

#[test]
fn help_is_a_subcommand_too() {
    let top = run(&["help"], b"", &[]);
    top.expect_code(0);
    assert!(
        top.stdout
            .contains("Usage: tenable-rotate [OPTIONS] [COMMAND]"),
        "{top:#?}"
    );
    let rotate = run(&["help", "rotate"], b"", &[]);
    rotate.expect_code(0);
    assert!(
        rotate.stdout.contains("Usage: tenable-rotate rotate"),
        "{rotate:#?}"
    );
    assert!(rotate.stdout.contains("--credential-match"), "{rotate:#?}");
}

#[test]
fn output_and_config_only_where_they_work() {
    for (sub, output, config) in [
        ("keeper", true, true),
        ("check", true, true),
        ("rotate", true, true),
        ("demo", true, false),
        ("payload", false, false),
        ("request", false, false),
        ("emulator", false, false),
        ("completions", false, false),
        ("man", false, false),
    ] {
        let help = run(&[sub, "--help"], b"", &[]);
        help.expect_code(0);
        assert_eq!(help.stdout.contains("--output"), output, "{sub}: {help:#?}");
        assert_eq!(help.stdout.contains("--config"), config, "{sub}: {help:#?}");
    }
}

#[test]
fn emulator_help_shows_the_fault_form_unescaped() {
    let help = run(&["emulator", "--help"], b"", &[]);
    help.expect_code(0);
    assert!(
        help.stdout.contains("KIND[@ROUTE_PREFIX][*COUNT]"),
        "{help:#?}"
    );
    assert!(!help.stdout.contains("\\["), "{help:#?}");
}

#[test]
fn the_emulator_refuses_a_non_loopback_address() {
    for addr in ["0.0.0.0:0", "[::]:0", "192.0.2.1:8834"] {
        run(
            &[
                "emulator",
                "--access-key",
                "a",
                "--secret-key",
                "s",
                "--listen",
                addr,
            ],
            b"",
            &[],
        )
        .expect_code(2)
        .expect_error_line(&format!("--listen {addr} is not a loopback address"))
        .expect_error_line("127.0.0.1:PORT");
    }
}

#[test]
fn the_man_page_has_the_sections_an_admin_looks_for() {
    let man = run(&["man"], b"", &[]);
    man.expect_code(0);
    let page = &man.stdout;
    let title = page
        .lines()
        .find(|l| l.starts_with(".TH "))
        .expect("a .TH line");
    assert_eq!(
        title,
        format!(
            ".TH TENABLE-ROTATE 1 \"\" \"tenable-rotate {}\" \"User Commands\"",
            env!("CARGO_PKG_VERSION")
        )
    );
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH COMMANDS",
        ".SH EXAMPLES",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
    ] {
        assert!(page.contains(&format!("{section}\n")), "no {section}");
    }
    for sub in [
        "keeper",
        "check",
        "rotate",
        "payload",
        "demo",
        "emulator",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!(".SS \"tenable-rotate {sub}\"")),
            "{sub} is not in COMMANDS"
        );
    }
    // No reference to a page that is never generated, such as tenable-rotate-keeper(1).
    assert!(!page.contains("(1)"), "a reference to another page");
    let exit =
        &page[page.find(".SH \"EXIT STATUS\"").unwrap()..page.find(".SH ENVIRONMENT").unwrap()];
    for status in ExitStatus::ALL {
        assert!(
            exit.contains(&format!("\\fB{}\\fR", status.code())),
            "exit {} is not in EXIT STATUS",
            status.code()
        );
    }
    let environment = &page[page.find(".SH ENVIRONMENT").unwrap()..];
    for var in env::ALL {
        assert!(environment.contains(var), "{var} not in ENVIRONMENT");
    }
    // One roff preamble, not one per rendered part.
    assert_eq!(page.matches(".ds Aq").count(), 2, "{page}");
}

#[test]
fn flags_before_a_subcommand_that_has_no_use_for_them_are_refused() {
    for args in [
        &["--output", "json", "man"][..],
        &["--config", "x.toml", "completions", "bash"],
        &["--config", "x.toml", "demo"],
    ] {
        run(args, b"", &[]).expect_code(2).expect_error_line("drop");
    }
    // Given before `demo`, --output still works.
    let run = run(&["--output", "json", "demo"], b"", &[]);
    run.expect_code(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["outcome"], "success", "{run:#?}");
}

#[test]
fn usage_errors_are_styled_on_a_terminal_only() {
    // `script` gives the binary a terminal; skip where util-linux's script is missing.
    let Ok(out) = std::process::Command::new("script")
        .args(["-qec", &format!("'{}' rotat", binary()), "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .output()
    else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("similar subcommand exists"), "{text}");
    assert!(
        text.contains('\u{1b}'),
        "no styling on a terminal: {text:?}"
    );
}
