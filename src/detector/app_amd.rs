//! Asterisk app_amd's `AMDCAUSE` for a decision, so call flows written against app_amd (or the
//! hosted APIs that pass its `AMDCause` on, such as FlexML's Amd verb) can branch on `amd_cause`.
//!
//! app_amd's causes carry the measured figure and the limit it crossed:
//! `INITIALSILENCE-<silence>-<initial_silence>`, `HUMAN-<silence>-<after_greeting_silence>`,
//! `LONGGREETING-<greeting>-<greeting limit>`, `MAXWORDS-<words>-<maximum_number_of_words>`,
//! `MAXWORDLENGTH-<longest word>` and `TOOLONG-<time analysed>`, all in ms or words. The causes
//! app_amd lacks follow the one-figure form of TOOLONG: `BEEP-<ms>`, `FAX-<ms>`, `SIT-<ms>`, the
//! ms of audio at which the tone decided.

use crate::detector::decision::{Cause, Decision, Evidence};
use crate::detector::params::Params;

/// The `amd_cause` text for `decision`, from the figures the detector measured and the limits in
/// force for the call.
pub fn amd_cause(decision: &Decision, evidence: &Evidence, params: &Params) -> String {
    match decision.cause {
        Cause::SilentInitial => format!("INITIALSILENCE-{}-{}", evidence.silence_ms, params.silent_initial),
        Cause::SilentAfterIntro => format!("HUMAN-{}-{}", evidence.silence_ms, params.silent_after_intro),
        Cause::MaxIntro => format!("LONGGREETING-{}-{}", evidence.greeting_ms, params.noise_max_intro),
        Cause::MaxCount => format!("MAXWORDS-{}-{}", evidence.words, params.noise_max_count),
        Cause::MaxWordLength => format!("MAXWORDLENGTH-{}", evidence.longest_word_ms),
        Cause::TooLong => format!("TOOLONG-{}", decision.at_ms),
        Cause::Beep => format!("BEEP-{}", decision.at_ms),
        Cause::Fax => format!("FAX-{}", decision.at_ms),
        Cause::Sit => format!("SIT-{}", decision.at_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::Detector;
    use crate::detector::decision::Status;

    fn cause_of(cause: Cause, status: Status, at_ms: u64, evidence: Evidence, overrides: &str) -> String {
        let mut p = Params::default();
        assert!(p.apply_pairs(overrides).is_empty());
        amd_cause(&Decision { status, cause, at_ms }, &evidence, &p)
    }

    #[test]
    fn app_amd_forms_with_figure_and_limit() {
        let ev = |words, greeting_ms, silence_ms, longest_word_ms| Evidence { words, greeting_ms, silence_ms, longest_word_ms };
        let page = "initialSilence=5000,greeting=2000,afterGreetingSilence=500,totalAnalysisTime=8000";
        assert_eq!(cause_of(Cause::MaxIntro, Status::Machine, 2600, ev(4, 2000, 0, 900), page), "LONGGREETING-2000-2000");
        assert_eq!(cause_of(Cause::SilentAfterIntro, Status::Person, 1400, ev(1, 400, 500, 400), page), "HUMAN-500-500");
        assert_eq!(cause_of(Cause::SilentInitial, Status::Machine, 5000, ev(0, 0, 5000, 0), page), "INITIALSILENCE-5000-5000");
        assert_eq!(cause_of(Cause::TooLong, Status::Unsure, 8000, ev(3, 1500, 300, 700), page), "TOOLONG-8000");
        assert_eq!(cause_of(Cause::MaxCount, Status::Machine, 2100, ev(5, 1500, 0, 300), "maximum_number_of_words=4"), "MAXWORDS-5-4");
        assert_eq!(cause_of(Cause::MaxWordLength, Status::Machine, 3100, ev(1, 2500, 0, 2500), "maximum_word_length=2500"), "MAXWORDLENGTH-2500");
        assert_eq!(cause_of(Cause::Beep, Status::Machine, 6010, ev(9, 5200, 0, 800), ""), "BEEP-6010");
        assert_eq!(cause_of(Cause::Fax, Status::Machine, 760, Evidence::default(), ""), "FAX-760");
        assert_eq!(cause_of(Cause::Sit, Status::Machine, 1130, Evidence::default(), ""), "SIT-1130");
    }

    /// The figures are the detector's own (more cases on synthesized talk: tests/app_amd_cause.rs).
    #[test]
    fn figures_come_from_the_detector() {
        let mut p = Params::default();
        assert!(p.apply_pairs("initial_silence=3000").is_empty());
        let mut d = Detector::new(&p, 8000).unwrap();
        for _ in 0..300 {
            d.push(&[0i16; 160], &mut |_| {});
        }
        let decision = d.decision().expect("decided on silence");
        assert_eq!(decision.status, Status::Machine);
        assert_eq!(amd_cause(&decision, &d.evidence(), &p), "INITIALSILENCE-3000-3000");
    }
}
