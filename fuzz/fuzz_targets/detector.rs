//! libFuzzer entry for checks/detector.rs.
#![no_main]

#[path = "../checks/detector.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
