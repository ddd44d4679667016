//! A fax that answers with its V.21 control channel alone (no CED tone, or one too short to
//! count) is a fax; a beep at one of V.21's two frequencies, speech and music are not.

mod common;

use common::{ulaw_decode, ulaw_encode, Synth};
use mod_rust_amd::{Cause, Decision, Detector, Event, Params, Status};

/// Feeds the whole recording in 20 ms frames; the decision, if any.
fn decide(p: &Params, s: &Synth) -> Option<Decision> {
    let mut d = Detector::new(p, s.rate).expect("supported rate");
    let mut decided = Vec::new();
    for chunk in s.samples.chunks((s.rate / 50) as usize) {
        d.push(chunk, &mut |e| {
            if let Event::Decided(x) = e {
                decided.push(x);
            }
        });
    }
    assert!(decided.len() <= 1, "one decision at most: {decided:?}");
    decided.first().copied()
}

fn fax_decided(s: &Synth) -> Decision {
    let d = decide(&Params::default(), s).expect("a decision");
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax), "{d:?}");
    d
}

/// The detector calls V.21 once 44 of its 10 ms blocks held it: 440 ms after the signal starts
/// (430 when it starts inside a block), or a block or two later where noise, a codec or a level
/// step spoilt one. Well within 3.5 s.
fn assert_called_in_time(d: &Decision, v21_at: u32, slack_ms: u64) {
    let from = u64::from(v21_at) + 430;
    assert!((from..=from + 10 + slack_ms).contains(&d.at_ms), "V.21 at {v21_at} decided at {}", d.at_ms);
}

#[test]
fn a_fax_answering_with_v21_alone_is_a_fax_at_every_rate() {
    for rate in [8000, 16000, 32000, 48000] {
        let mut s = Synth::new(rate);
        s.silence(400).v21(2000, 1000, 6000.0).silence(3000);
        let d = fax_decided(&s);
        assert_called_in_time(&d, 400, 20);
    }
}

#[test]
fn v21_straight_after_answer_and_v21_of_frames_only_are_a_fax_too() {
    let mut s = Synth::new(8000);
    s.v21(1500, 1000, 6000.0).silence(3000);
    assert_called_in_time(&fax_decided(&s), 0, 20);
    // Frames only (the preamble lost): random bits.
    let mut s = Synth::new(8000);
    s.silence(300).v21(1500, 0, 6000.0).silence(3000);
    assert_called_in_time(&fax_decided(&s), 300, 20);
}

#[test]
fn v21_in_line_noise_through_g711_is_a_fax() {
    // V.21 at about -17 dBFS over white noise 10 dB under it, then mu-law.
    for rate in [8000, 16000, 48000] {
        let mut s = Synth::new(rate);
        s.silence(600).v21(1800, 1000, 6000.0).silence(3000).add_noise(2300.0).ulaw_round_trip();
        assert_called_in_time(&fax_decided(&s), 600, 30);
    }
}

#[test]
fn v21_quiet_or_changing_level_is_a_fax() {
    // About -45 dBFS.
    let mut s = Synth::new(8000);
    s.silence(500).v21(1500, 1000, 260.0).silence(3000);
    assert_called_in_time(&fax_decided(&s), 500, 20);
    // A 20 dB drop 200 ms in, then an AGC bringing it back up by 15 dB.
    let mut s = Synth::new(8000);
    s.silence(500).v21(1500, 1000, 8000.0).silence(3000).gain(700, 100, 0.0, -20.0).gain(800, 1200, -20.0, -5.0);
    s.add_noise(60.0).ulaw_round_trip();
    assert_called_in_time(&fax_decided(&s), 500, 30);
}

#[test]
fn a_ced_too_short_to_count_then_v21_is_a_fax() {
    // 300 ms of 2100 Hz (a fax answer tone counts from 450 ms), 75 ms of quiet, V.21.
    let mut s = Synth::new(8000);
    s.silence(400).tone(300, 2100.0, 6000.0).silence(75);
    let v21_at = s.at_ms();
    s.v21(1700, 1000, 5000.0).silence(3000);
    assert_called_in_time(&fax_decided(&s), v21_at, 20);
}

#[test]
fn a_ced_then_v21_is_still_called_by_the_ced() {
    let mut s = Synth::new(8000);
    s.silence(400).tone(2600, 2100.0, 6000.0).silence(75).v21(1500, 1000, 5000.0).silence(1000);
    let d = fax_decided(&s);
    assert!((850..=950).contains(&d.at_ms), "CED at 400 decided at {}", d.at_ms);
}

/// A short "hello", a pause, then what is under test.
fn after_a_hello(rate: u32) -> Synth {
    let mut s = Synth::new(rate);
    s.silence(500).noise_burst(600, 3000.0).silence(300);
    s
}

#[test]
fn a_beep_at_either_v21_frequency_after_a_greeting_is_a_beep() {
    for freq in [1650.0, 1850.0] {
        let mut s = after_a_hello(8000);
        s.tone(800, freq, 4000.0).silence(2000);
        let d = decide(&Params::default(), &s).expect("a decision");
        assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "{freq} Hz");
        // And with the beep rule off, the timers decide as if it were talk: never fax.
        let mut p = Params::default();
        assert!(p.apply_pairs("detect_beep=false").is_empty());
        let d = decide(&p, &s).expect("a decision");
        assert_ne!(d.cause, Cause::Fax, "{freq} Hz: {d:?}");
    }
}

#[test]
fn one_of_the_two_frequencies_then_the_other_is_no_fax() {
    // A two-part beep, 1650 then 1850 Hz, 300 ms each: a beep, with the rule on or off.
    let mut s = after_a_hello(8000);
    s.tone(300, 1650.0, 4000.0).tone(300, 1850.0, 4000.0).silence(2000);
    let d = decide(&Params::default(), &s).expect("a decision");
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep));
    let mut p = Params::default();
    assert!(p.apply_pairs("detect_beep=false").is_empty());
    assert_ne!(decide(&p, &s).expect("a decision").cause, Cause::Fax);
}

#[test]
fn long_tones_at_the_v21_frequencies_with_nothing_before_them_are_no_fax() {
    for freq in [1650.0, 1850.0] {
        let mut s = Synth::new(8000);
        s.silence(300).tone(3000, freq, 6000.0).silence(3000);
        let d = decide(&Params::default(), &s).expect("a decision");
        assert_ne!(d.cause, Cause::Fax, "{freq} Hz: {d:?}");
    }
    // Both at once.
    let mut s = Synth::new(8000);
    s.silence(300).tone(3000, 1650.0, 4000.0).mix_tone(300, 3000, 1850.0, 4000.0).silence(3000);
    let d = decide(&Params::default(), &s).expect("a decision");
    assert_ne!(d.cause, Cause::Fax, "{d:?}");
}

#[test]
fn a_trill_between_the_two_frequencies_is_no_fax() {
    // Twenty notes a second for 2 s, from the first moment: music, not 300 baud.
    let mut s = Synth::new(8000);
    s.silence(300);
    for note in 0..40 {
        s.tone(50, if note % 2 == 0 { 1650.0 } else { 1850.0 }, 5000.0);
    }
    s.silence(3000);
    let d = decide(&Params::default(), &s).expect("a decision");
    assert_ne!(d.cause, Cause::Fax, "{d:?}");
}

#[test]
fn speech_and_song_are_no_fax() {
    // The timers' verdicts on the synthetic greetings (the learned model weighs those).
    let p = Params { decision: mod_rust_amd::DecisionMode::Rules, ..Params::default() };
    // A hello; a long greeting; a long voiced greeting.
    let mut s = after_a_hello(8000);
    s.silence(3000);
    assert_eq!(decide(&p, &s).map(|d| (d.status, d.cause)), Some((Status::Person, Cause::SilentAfterIntro)));
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 180, 20, 3000.0).silence(1000);
    assert_eq!(decide(&p, &s).map(|d| (d.status, d.cause)), Some((Status::Machine, Cause::MaxIntro)));
    let mut s = Synth::new(8000);
    s.silence(500).vowels(4000, 250, 60, 6000.0, 180.0).silence(1000);
    assert_eq!(decide(&p, &s).map(|d| d.status), Some(Status::Machine));
    // A sung note sweeping between the two frequencies (1750 Hz, 100 Hz of vibrato at 5.5 Hz,
    // and a wild 200 Hz at 12 Hz).
    for (depth, rate) in [(100.0, 5.5), (200.0, 12.0)] {
        let mut s = after_a_hello(8000);
        s.vibrato(2500, 1750.0, depth, rate, 5000.0).silence(2000);
        let d = decide(&p, &s).expect("a decision");
        assert_ne!(d.cause, Cause::Fax, "vibrato {depth} Hz at {rate} Hz: {d:?}");
        let mut s = Synth::new(8000);
        s.silence(300).vibrato(2500, 1750.0, depth, rate, 5000.0).silence(3000);
        let d = decide(&p, &s).expect("a decision");
        assert_ne!(d.cause, Cause::Fax, "vibrato {depth} Hz at {rate} Hz, alone: {d:?}");
    }
}

#[test]
fn the_test_line_codec_is_mu_law() {
    // The helper is G.711 itself: exact at the segment ends, and the error within half a step.
    assert_eq!((ulaw_encode(0), ulaw_decode(0xFF), ulaw_decode(0x7F)), (0xFF, 0, 0));
    assert_eq!((ulaw_decode(0x80), ulaw_decode(0x00)), (32124, -32124));
    for x in (-32000i16..32000).step_by(37) {
        let y = ulaw_decode(ulaw_encode(x));
        let step = (i32::from(x).abs() + 0x84) >> 4;
        assert!((i32::from(y) - i32::from(x)).abs() <= step.max(8), "{x} -> {y}");
    }
}
