//! The README's tables must match the code: every exit code, record field and environment
//! variable the code has is documented, and nothing documented is missing from the code.

use tenable_rotate::config::{env, field};
use tenable_rotate::exit::ExitStatus;

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap()
}

/// Rows of the markdown table that follows `heading`: the first cell of each, unquoted.
/// Shared with `guide.rs`, which checks the operator's guide the same way.
pub fn first_cells(text: &str, heading: &str) -> Vec<String> {
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

#[test]
fn readme_exit_codes_match_the_code() {
    let documented = first_cells(&readme(), "## Exit codes");
    let code: Vec<String> = ExitStatus::ALL
        .iter()
        .map(|s| s.code().to_string())
        .collect();
    assert_eq!(documented, code);
}

#[test]
fn readme_record_fields_match_the_code() {
    let documented = first_cells(&readme(), "### Record fields");
    assert_eq!(documented, field::ALL.to_vec());
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
