//! The one launcher of the real `duijie` binary, for tests that must run a command or kill
//! a process: quiet logs; each test adds its data directory, database and flags.

use std::process::Command;

/// `duijie` as built for this test run, logging warnings only.
pub fn duijie_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_duijie"));
    c.env("RUST_LOG", "warn");
    c
}
