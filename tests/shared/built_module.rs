//! Where the module that cargo built for this test run is, for the tests that load it.

use std::path::PathBuf;

/// target/<profile>/deps/libmod_rust_amd.so next to the test executable (where `cargo test`
/// leaves it), or target/<profile>/libmod_rust_amd.so (where `cargo build` puts it): the newer.
pub fn path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    let candidates = [deps.join("libmod_rust_amd.so"), deps.parent().unwrap().join("libmod_rust_amd.so")];
    candidates
        .iter()
        .filter_map(|p| Some((std::fs::metadata(p).ok()?.modified().ok()?, p.clone())))
        .max()
        .map(|(_, p)| p)
        .expect("libmod_rust_amd.so built next to the test executable")
}
