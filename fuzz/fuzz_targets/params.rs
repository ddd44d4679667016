//! libFuzzer entry for checks/params.rs.
#![no_main]

#[path = "../checks/params.rs"]
mod check;

libfuzzer_sys::fuzz_target!(|data: &[u8]| check::check(data));
