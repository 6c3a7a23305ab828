//! FireHOL's `iprange`, the reference the list engine is checked against.

use std::ffi::OsStr;
use std::process::Command;

/// Run `iprange ARGS...` and return its stdout; panics, saying how to install
/// it, when it is missing.
pub(crate) fn run<S: AsRef<OsStr>>(args: &[S]) -> Vec<u8> {
    let out = Command::new("iprange").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `iprange` ({e}): install iprange (apt-get install -y iprange) to run the differential tests")
    });
    assert!(
        out.status.success(),
        "iprange failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
