//! What the command-line test binaries share: the real `faceemo`, isolated from the
//! user's caches and from the real hub, and reading its output.

// Each test binary uses only some of these.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// `faceemo` with an isolated Hugging Face cache (and map cache) and no route to the real hub.
pub fn faceemo(cache: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_faceemo"));
    command
        .env_remove("HF_HOME")
        .env_remove("HF_TOKEN")
        .env_remove("HF_HUB_OFFLINE")
        .env("HF_HUB_CACHE", cache)
        .env("XDG_CACHE_HOME", cache)
        .env("HF_ENDPOINT", "http://127.0.0.1:1");
    command
}

/// Runs a command to its end.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("faceemo runs")
}

/// The JSON a successful run printed.
pub fn json(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "faceemo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is JSON")
}
