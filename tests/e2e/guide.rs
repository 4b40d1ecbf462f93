//! The operator's guide (`docs/keeper-setup.md`) must match the code: its troubleshooting table
//! has one row per exit code, its record-field table one row per field, and it names both
//! deploy wrappers by path.

use super::docs::{assert_exit_code_table, assert_record_field_table};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn guide() -> String {
    std::fs::read_to_string(format!("{ROOT}/docs/keeper-setup.md")).unwrap()
}

#[test]
fn guide_troubleshooting_table_has_one_row_per_exit_code_in_order() {
    assert_exit_code_table(&guide(), "## 6. Troubleshooting by exit code");
}

#[test]
fn guide_record_field_table_has_one_row_per_field_in_order() {
    assert_record_field_table(&guide(), "### Record fields");
}

#[test]
fn guide_names_both_deploy_wrappers_by_path() {
    let text = guide();
    for wrapper in ["deploy/tenable-rotate.sh", "deploy/tenable-rotate.ps1"] {
        assert!(
            std::path::Path::new(ROOT).join(wrapper).is_file(),
            "{wrapper} does not exist"
        );
        assert!(
            text.contains(&format!("`{wrapper}`")),
            "docs/keeper-setup.md does not name {wrapper}"
        );
    }
}
