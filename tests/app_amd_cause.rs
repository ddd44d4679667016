//! amd_cause in Asterisk app_amd's form, from real decisions of the detector on synthesized
//! talk, with the FlexML screening page's Amd settings given under app_amd's names.

mod common;

use common::Synth;
use mod_rust_amd::amd_cause;
use mod_rust_amd::{Detector, Params, Status};

/// The page's `<Amd initialSilence="5000" greeting="2000" afterGreetingSilence="500" totalAnalysisTime="8000"/>`.
const PAGE: &str = "initialSilence=5000,greeting=2000,afterGreetingSilence=500,totalAnalysisTime=8000";

fn params(data: &str) -> Params {
    let mut p = Params::default();
    // As voice_start takes its data: app_amd's timers select the rules they describe.
    let errors = p.apply_configuration_pairs(data);
    assert!(errors.is_empty(), "{errors:?}");
    p
}

/// (status, amd_cause) of the detector's decision on `s`.
fn cause(p: &Params, s: &Synth) -> (Status, String) {
    let mut d = Detector::new(p, s.rate).unwrap();
    for chunk in s.samples.chunks((s.rate / 50) as usize) {
        d.push(chunk, &mut |_| {});
        if d.is_finished() {
            break;
        }
    }
    let decision = d.decision().expect("a decision");
    (decision.status, amd_cause(&decision, &d.evidence(), p))
}

#[test]
fn silence_is_initialsilence_machine() {
    let mut s = Synth::new(8000);
    s.silence(9000);
    assert_eq!(cause(&params(PAGE), &s), (Status::Machine, "INITIALSILENCE-5000-5000".to_string()));
}

#[test]
fn a_short_hello_is_human_with_the_silence_after_it() {
    let mut s = Synth::new(8000);
    s.silence(700).noise_burst(400, 3000.0).silence(3000);
    assert_eq!(cause(&params(PAGE), &s), (Status::Person, "HUMAN-500-500".to_string()));
}

#[test]
fn a_long_greeting_is_longgreeting() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 180, 20, 3000.0).silence(1000);
    let (status, text) = cause(&params(PAGE), &s);
    assert_eq!(status, Status::Machine);
    // The greeting as measured when the limit was crossed: within a block or two of it.
    let (greeting, limit) = text.strip_prefix("LONGGREETING-").and_then(|r| r.split_once('-')).unwrap_or_else(|| panic!("{text}"));
    assert_eq!(limit, "2000", "{text}");
    assert!((2000..=2020).contains(&greeting.parse::<u32>().unwrap()), "{text}");
}

#[test]
fn many_words_are_maxwords_counted_past_the_limit() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 150, 50, 3000.0).silence(1000);
    // app_amd (since Asterisk 14) and we both fire on the word after maximum_number_of_words.
    assert_eq!(cause(&params("maximum_number_of_words=4,greeting=10000"), &s), (Status::Machine, "MAXWORDS-5-4".to_string()));
}

#[test]
fn one_overlong_word_is_maxwordlength() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(3000, 180, 20, 3000.0).silence(1000);
    assert_eq!(cause(&params("maximum_word_length=1500,greeting=10000"), &s), (Status::Machine, "MAXWORDLENGTH-1500".to_string()));
}

#[test]
fn undecided_talk_is_toolong() {
    let mut s = Synth::new(8000);
    s.silence(300);
    for _ in 0..8 {
        s.noise_burst(200, 3000.0).silence(500);
    }
    let p = params("greeting=20000,maximumNumberOfWords=1000,afterGreetingSilence=1000,totalAnalysisTime=3000");
    assert_eq!(cause(&p, &s), (Status::Unsure, "TOOLONG-3000".to_string()));
}

#[test]
fn a_fax_tone_is_fax_at_its_decision_time() {
    let mut s = Synth::new(8000);
    s.silence(300).tone(3000, 2100.0, 8000.0);
    let (status, text) = cause(&params(""), &s);
    assert_eq!(status, Status::Machine);
    let ms: u64 = text.strip_prefix("FAX-").unwrap_or_else(|| panic!("{text}")).parse().unwrap();
    assert!((300 + 450..=300 + 1000).contains(&ms), "{text}");
}
