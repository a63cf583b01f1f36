//! Records the commit the binary is built from, for `ecma-host --version`.
//!
//! Outside a git checkout (a source tarball, a package built from an export) the commit comes
//! from `ECMA_BUILD_COMMIT`, else it is "unknown". The variable's name avoids the
//! `ECMA_HOST_` prefix, which the configuration reads as overrides.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=ECMA_BUILD_COMMIT");
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        // A new commit or a checkout changes HEAD or the ref it points to.
        println!("cargo:rerun-if-changed={dir}/HEAD");
        if let Some(head_ref) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={dir}/{head_ref}");
        }
    }
    let commit = git(&["rev-parse", "--short=12", "HEAD"])
        .or_else(|| {
            std::env::var("ECMA_BUILD_COMMIT")
                .ok()
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=ECMA_HOST_COMMIT={commit}");
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}
