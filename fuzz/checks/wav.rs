//! The WAV reader: any bytes give audio or an error, never a panic; audio it returns is
//! consistent with what it says it is, and the analyzer runs on it.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression tests that replay saved
//! inputs without the fuzzer (tests/fuzz_regressions.rs).

use mod_rust_amd::analyzer::wav;
use mod_rust_amd::Params;

pub fn check(data: &[u8]) {
    match wav::parse(data) {
        Ok(audio) => {
            assert!(audio.samples.len() <= data.len(), "more samples than bytes");
            assert!(audio.sample_rate > 0);
            // The analyzer takes it or says the rate is unsupported; a few seconds at most.
            let short = wav::Audio { samples: audio.samples.iter().copied().take(48_000 * 3).collect(), ..audio };
            let _ = mod_rust_amd::analyzer::analyze::analyze(&short, &Params::default());
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}
