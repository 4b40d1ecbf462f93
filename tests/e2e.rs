//! End-to-end tests: the built binary, real HTTP on loopback, the emulator's state checked after.
//! One test binary, modules by behaviour (style rule 10).

mod e2e {
    pub mod audit;
    pub mod bad_input;
    pub mod config_file;
    pub mod deploy;
    pub mod discover;
    pub mod docs;
    pub mod exit_codes;
    pub mod fake_tenable;
    pub mod fault_matrix;
    pub mod fault_sequences;
    pub mod faults;
    pub mod guide;
    pub mod hostile;
    pub mod layers;
    pub mod load;
    pub mod machine;
    pub mod proxy;
    pub mod replay;
    pub mod rotate_credential;
    pub mod rotate_user;
    pub mod sc_answers;
    pub mod subcommands;
    pub mod usage;
    pub mod util;
}
