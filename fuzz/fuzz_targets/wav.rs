//! libFuzzer entry for checks/wav.rs.
#![no_main]

#[path = "../checks/wav.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
