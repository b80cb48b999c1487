//! Checks that could not run, said where a person reads them.
//!
//! `cargo test` shows nothing a passing test prints, so a test that returns
//! early for want of root or a tool would pass in silence. [`skipped`]
//! prints the reason and appends it, with the test's name, to the file that
//! `BTF_SKIP_LOG` names; `scripts/test` sets it and lists the file at the
//! end of its run. In CI (`CI` set) a skip is a failure instead.
//!
//! Included by path from the other crates' tests, so it uses only `std`.
#![allow(dead_code, unreachable_pub)]

use std::io::Write;

/// Records that the calling test cannot run its check because of `reason`
/// (e.g. "needs root"); panics in CI, where nothing may be skipped.
pub fn skipped(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("(unnamed)")
        .to_owned();
    let line = format!("{}::{test}: {reason}", env!("CARGO_CRATE_NAME"));
    if std::env::var_os("CI").is_some() {
        panic!("CI must run every check: {line}");
    }
    eprintln!("SKIPPED {line}");
    if let Some(path) = std::env::var_os("BTF_SKIP_LOG") {
        // One write of one line to a file opened for appending: lines of
        // parallel tests and test binaries do not interleave.
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(format!("{line}\n").as_bytes()));
        if let Err(error) = written {
            eprintln!(
                "cannot record the skip in {}: {error}",
                path.to_string_lossy()
            );
        }
    }
}

/// True when this process runs as root (the effective uid, from
/// `/proc/self/status`: no `unsafe`). Otherwise records that the calling
/// test needs root for `needs` ([`skipped`]: a failure in CI) and returns
/// false.
pub fn have_root(needs: &str) -> bool {
    let euid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(str::to_owned))
        });
    if euid.as_deref() == Some("0") {
        return true;
    }
    skipped(&format!("needs root for {needs}"));
    false
}
