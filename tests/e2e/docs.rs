//! The README's tables must match the code: every exit code, record field and environment
//! variable the code has is documented, and nothing documented is missing from the code.

use tenable_rotate::config::{env, field};
use tenable_rotate::exit::ExitStatus;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// Rows of the markdown table that follows `heading`: the first cell of each, unquoted.
fn first_cells(text: &str, heading: &str) -> Vec<String> {
    let after = &text[text.find(heading).unwrap_or_else(|| panic!("no {heading}"))..];
    after
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.split('|')
                .nth(1)
                .unwrap()
                .trim()
                .trim_matches('`')
                .to_owned()
        })
        .collect()
}

/// Panics unless the table after `heading` has one row per exit code, in code order.
pub fn assert_exit_code_table(text: &str, heading: &str) {
    let code: Vec<String> = ExitStatus::ALL
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    assert_eq!(
        first_cells(text, heading),
        code,
        "the table after {heading}"
    );
}

/// Panics unless the table after `heading` has one row per record field, in order.
pub fn assert_record_field_table(text: &str, heading: &str) {
    assert_eq!(
        first_cells(text, heading),
        field::ALL.to_vec(),
        "the table after {heading}"
    );
}

#[test]
fn readme_exit_codes_match_the_code() {
    assert_exit_code_table(&readme(), "## Exit codes");
}

#[test]
fn readme_record_fields_match_the_code() {
    assert_record_field_table(&readme(), "### Record fields");
}

#[test]
fn readme_lists_every_environment_variable() {
    let text = readme();
    for var in env::ALL {
        assert!(
            text.contains(&format!("`{var}`")),
            "{var} is not in README.md"
        );
    }
}

#[test]
fn readme_lists_every_config_file_key() {
    let text = readme();
    let section = &text[text.find("### Environment and the config file").unwrap()..];
    for key in tenable_rotate::config::file::KEYS {
        assert!(
            section.contains(&format!("`{key}`")),
            "config file key {key} is not in README.md"
        );
    }
}
