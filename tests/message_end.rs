//! After a machine decision: the end of the greeting (beep, silence, timeout), SIT codes and
//! fax timing, driven by synthesized signals with exact expectations.

mod common;

use common::Synth;
use mod_rust_amd::{Cause, DecisionMode, Detector, Event, MessageEnd, MessageEndKind, Params, Status};

/// The timers decide here: these tests need a `machine` verdict on synthetic greetings, which
/// the learned model (trained on speech) would weigh; what comes after it is the same either way.
fn params(overrides: &str) -> Params {
    let mut p = Params { decision: DecisionMode::Rules, ..Params::default() };
    assert!(p.apply_pairs(overrides).is_empty());
    p
}

/// Runs a whole recording (not stopping at the decision) and returns every event and whether
/// the detector said it was finished.
fn run(p: &Params, s: &Synth) -> (Vec<Event>, bool) {
    let mut d = Detector::new(p, s.rate).unwrap();
    let mut events = Vec::new();
    for chunk in s.samples.chunks((s.rate / 50) as usize) {
        d.push(chunk, &mut |e| events.push(e));
    }
    (events, d.is_finished())
}

fn message_end(events: &[Event]) -> Option<MessageEnd> {
    let ends: Vec<MessageEnd> = events.iter().filter_map(|e| if let Event::MessageEnd(m) = e { Some(*m) } else { None }).collect();
    assert!(ends.len() <= 1, "one message end at most: {events:?}");
    ends.first().copied()
}

fn beep_end(events: &[Event]) -> Option<u64> {
    events.iter().find_map(|e| if let Event::BeepEnd { at_ms } = e { Some(*at_ms) } else { None })
}

/// A greeting long enough to be a machine (max-intro at 500 + 2700), then a pause.
fn long_greeting(rate: u32) -> Synth {
    let mut s = Synth::new(rate);
    s.silence(500).syllables(4000, 180, 20, 3000.0).silence(400);
    s
}

#[test]
fn a_beep_after_the_greeting_is_the_message_end_and_its_end_is_reported() {
    for rate in [8000, 16000, 48000] {
        let mut s = long_greeting(rate);
        let beep_at = s.at_ms() as u64; // 4900
        s.tone(500, 1000.0, 3000.0).silence(2000);
        let (events, finished) = run(&params("detect_message_end=true"), &s);
        let m = message_end(&events).expect("message end");
        assert_eq!(m.kind, MessageEndKind::Beep, "{rate}");
        assert!((beep_at + 50..=beep_at + 150).contains(&m.at_ms), "{rate}: beep at {beep_at}, message end at {}", m.at_ms);
        let beep = m.beep.expect("the beep");
        assert!(beep.start_ms.abs_diff(beep_at) <= 20 && beep.freq_hz.abs_diff(1000) <= 5, "{rate}: {beep:?}");
        let end = beep_end(&events).expect("beep end");
        assert!(end.abs_diff(beep_at + 500) <= 30, "{rate}: beep ends at {}, reported {end}", beep_at + 500);
        assert!(finished);
        // The decision came first, then the message end, then the beep's end.
        let order: Vec<u8> = events
            .iter()
            .filter_map(|e| match e {
                Event::Decided(_) => Some(0),
                Event::MessageEnd(_) => Some(1),
                Event::BeepEnd { .. } => Some(2),
                _ => None,
            })
            .collect();
        assert_eq!(order, vec![0, 1, 2]);
    }
}

/// A beep near the SIT frequencies is judged only once it has stopped (it might have been the
/// first SIT segment); its end is still reported, right after the message end.
#[test]
fn a_beep_judged_after_it_stopped_still_reports_its_end() {
    for (freq, ms) in [(985.0, 600), (985.0, 300), (920.0, 700)] {
        let mut s = Synth::new(8000);
        s.silence(500).syllables(1000, 180, 20, 3000.0).silence(250);
        let beep_at = s.at_ms() as u64;
        s.tone(ms, freq, 3000.0).silence(3000);
        let (events, finished) = run(&params("detect_message_end=true"), &s);
        let decided = events.iter().find_map(|e| if let Event::Decided(d) = e { Some(*d) } else { None }).expect("decision");
        assert_eq!((decided.status, decided.cause), (Status::Machine, Cause::Beep), "{freq} Hz, {ms} ms");
        assert!(decided.at_ms >= beep_at + u64::from(ms), "{freq} Hz: judged at {} before the tone ended", decided.at_ms);
        let m = message_end(&events).expect("message end");
        assert_eq!(m.kind, MessageEndKind::Beep);
        let end = beep_end(&events).expect("beep end");
        assert!(end.abs_diff(beep_at + u64::from(ms)) <= 30, "{freq} Hz: tone ends at {}, reported {end}", beep_at + u64::from(ms));
        assert!(finished);
    }
}

/// Two tones at SIT pitches with no third after them are a two-step beep, not a SIT: the beep
/// reported starts where its first step did, at that step's pitch, and ends with the second.
#[test]
fn a_two_step_beep_at_sit_pitches_is_reported_from_its_first_step() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(1000, 180, 20, 3000.0).silence(250);
    let beep_at = s.at_ms() as u64;
    s.tone(380, 985.2, 3000.0).tone(274, 1428.5, 3000.0).silence(3000);
    let (events, finished) = run(&params("detect_message_end=true"), &s);
    let decided = events.iter().find_map(|e| if let Event::Decided(d) = e { Some(*d) } else { None }).expect("decision");
    assert_eq!((decided.status, decided.cause), (Status::Machine, Cause::Beep));
    let m = message_end(&events).expect("message end");
    let beep = m.beep.expect("the beep");
    assert!(beep.start_ms.abs_diff(beep_at) <= 20 && beep.freq_hz.abs_diff(985) <= 5, "beep at {beep_at}: {beep:?}");
    let end = beep_end(&events).expect("beep end");
    assert!(end.abs_diff(beep_at + 380 + 274) <= 30, "ends at {}, reported {end}", beep_at + 380 + 274);
    assert!(finished);
}

#[test]
fn off_by_default_the_detector_stops_at_the_decision() {
    let mut s = long_greeting(8000);
    s.tone(500, 1000.0, 3000.0).silence(2000);
    let (events, finished) = run(&params(""), &s);
    assert!(message_end(&events).is_none() && finished);
}

#[test]
fn no_beep_then_silence_ends_the_greeting() {
    let mut s = long_greeting(8000);
    let quiet_from = s.at_ms() as u64 - 400;
    s.silence(3000);
    let (events, finished) = run(&params("detect_message_end=true,message_end_silence=1200"), &s);
    let m = message_end(&events).expect("message end");
    assert_eq!(m.kind, MessageEndKind::Silence);
    assert!(m.at_ms.abs_diff(quiet_from + 1200) <= 20, "quiet from {quiet_from}: {m:?}");
    assert!(finished && beep_end(&events).is_none());
}

#[test]
fn a_greeting_that_goes_on_ends_at_the_timeout() {
    let mut s = Synth::new(8000);
    s.silence(300).syllables(9000, 180, 20, 3000.0);
    let (events, finished) = run(&params("detect_message_end=true,message_end_timeout=7000"), &s);
    assert_eq!(message_end(&events), Some(MessageEnd { kind: MessageEndKind::Timeout, at_ms: 7000, beep: None }));
    assert!(finished);
    let (_, finished) = run(&params("detect_message_end=true,message_end_timeout=20000"), &s);
    assert!(!finished, "still listening when the audio ran out");
}

#[test]
fn two_tone_and_stepped_beeps_end_the_greeting() {
    // Two tones at once.
    let mut s = long_greeting(8000);
    let at = s.at_ms();
    s.mix_tone(at, 400, 700.0, 2000.0).mix_tone(at, 400, 1000.0, 2000.0).silence(1500);
    let m = message_end(&run(&params("detect_message_end=true"), &s).0).expect("dual");
    assert_eq!(m.kind, MessageEndKind::Beep);
    assert!(m.beep.unwrap().freq2_hz.is_some(), "{m:?}");
    // One tone, then a lower one (a falling two-step beep): the first step is the end.
    let mut s = long_greeting(8000);
    let at = s.at_ms() as u64;
    s.tone(200, 1400.0, 3000.0).tone(200, 1000.0, 3000.0).silence(1500);
    let (events, _) = run(&params("detect_message_end=true"), &s);
    let m = message_end(&events).expect("stepped");
    assert_eq!((m.kind, m.beep.unwrap().freq_hz.abs_diff(1400) <= 10), (MessageEndKind::Beep, true));
    assert!(m.at_ms <= at + 150);
}

#[test]
fn a_beep_fading_into_line_noise_still_ends_the_greeting() {
    // 70 ms of beep 12 dB over the line's hiss, then fading by 1 dB per 10 ms until the hiss
    // covers it: it is the same beep for well over 100 ms. (A beep already down to a few dB over
    // the hiss when it is judged, and far under the greeting, is not made to be heard: see the
    // detector's tests.)
    for rate in [8000, 16000] {
        let mut s = Synth::new(rate);
        s.silence(500).syllables(4000, 180, 60, 5000.0).silence(400);
        let beep_at = s.at_ms() as u64;
        s.fading_tone(70, 250, 1000.0, 1000.0, 1.0).silence(1500).add_noise(335.0);
        let (events, _) = run(&params("detect_message_end=true"), &s);
        let m = message_end(&events).unwrap_or_else(|| panic!("{rate}: {events:?}"));
        assert_eq!(m.kind, MessageEndKind::Beep, "{rate}: {m:?}");
        assert!((beep_at..=beep_at + 150).contains(&m.at_ms), "{rate}: beep at {beep_at}, message end at {}", m.at_ms);
    }
}

#[test]
fn a_beep_that_dies_away_from_its_start_ends_the_greeting() {
    // A short beep whose level falls by 1.4 dB every 10 ms from its first moment (some machines'
    // beeps ring down like a struck bell): it is judged against where its decay takes it, not
    // against its level a moment ago, which it keeps leaving behind.
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 180, 20, 12000.0).silence(400);
    let beep_at = s.at_ms() as u64;
    s.fading_tone(0, 200, 600.0, 6000.0, 1.4).silence(1500).add_noise(200.0);
    let (events, _) = run(&params("detect_message_end=true"), &s);
    let m = message_end(&events).unwrap_or_else(|| panic!("{events:?}"));
    assert_eq!(m.kind, MessageEndKind::Beep, "{m:?}");
    assert!((beep_at..=beep_at + 150).contains(&m.at_ms), "beep at {beep_at}, message end at {}", m.at_ms);
}

#[test]
fn a_beep_with_a_hum_beside_it_is_still_one_beep() {
    // A 990 Hz beep, and 40 ms into it a weaker 400 Hz hum joins it for the rest of the call:
    // the run goes on as the same beep instead of ending when the second peak shows up.
    let mut s = long_greeting(8000);
    let beep_at = s.at_ms();
    s.tone(300, 990.0, 3000.0).silence(1500);
    s.mix_tone(beep_at + 40, 1700, 400.0, 2400.0);
    let m = message_end(&run(&params("detect_message_end=true"), &s).0).expect("message end");
    assert_eq!(m.kind, MessageEndKind::Beep, "{m:?}");
    let beep = m.beep.unwrap();
    assert!(beep.freq_hz.abs_diff(990) <= 5 && beep.freq2_hz.is_none(), "{beep:?}");
    assert!(m.at_ms <= u64::from(beep_at) + 150, "beep at {beep_at}, message end at {}", m.at_ms);
}

#[test]
fn a_held_voice_like_note_is_not_a_beep() {
    // 400 ms of a note wavering by 2% five times a second, as a sung or drawn-out vowel does,
    // after the greeting: not steady, so the greeting ends by silence instead.
    let mut s = long_greeting(8000);
    s.vibrato(400, 440.0, 9.0, 5.0, 3000.0).silence(3000);
    let m = message_end(&run(&params("detect_message_end=true"), &s).0).expect("message end");
    assert_eq!(m.kind, MessageEndKind::Silence, "{m:?}");
}

#[test]
fn tones_outside_the_voice_band_are_not_the_beep() {
    let mut s = long_greeting(8000);
    s.tone(400, 2900.0, 3000.0).silence(3000);
    let m = message_end(&run(&params("detect_message_end=true"), &s).0).expect("message end");
    assert_eq!(m.kind, MessageEndKind::Silence);
}

#[test]
fn no_message_end_for_a_person_a_fax_or_a_sit() {
    let p = params("detect_message_end=true");
    let mut person = Synth::new(8000);
    person.silence(500).noise_burst(400, 3000.0).silence(3000).tone(300, 1000.0, 3000.0).silence(500);
    let mut fax = Synth::new(8000);
    fax.silence(300).tone(3000, 2100.0, 6000.0).silence(3000);
    for (what, s, status) in [("person", &person, Status::Person), ("fax", &fax, Status::Machine)] {
        let (events, finished) = run(&p, s);
        assert!(message_end(&events).is_none() && finished, "{what}: {events:?}");
        assert!(events.iter().any(|e| matches!(e, Event::Decided(d) if d.status == status)));
    }
}

/// Three SIT segments (low/high frequency and short/long length per segment as given).
fn sit(first: (f32, u32), second: (f32, u32)) -> Synth {
    let mut s = Synth::new(8000);
    s.silence(200).tone(first.1, first.0, 4000.0).tone(second.1, second.0, 4000.0).tone(380, 1776.7, 4000.0).silence(300);
    s.syllables(2000, 180, 20, 3000.0).silence(1000);
    s
}

#[test]
fn sit_codes_are_told_from_the_segments_within_1500_ms() {
    let cases = [
        ("IC", (913.8, 274), (1370.6, 274)),
        ("VC", (985.2, 380), (1370.6, 274)),
        ("RO", (913.8, 274), (1428.5, 380)),
        ("NC", (913.8, 380), (1428.5, 380)),
        ("IO", (913.8, 380), (1370.6, 274)),
    ];
    for (code, first, second) in cases {
        let s = sit(first, second);
        let mut d = Detector::new(&Params::default(), 8000).unwrap();
        for chunk in s.samples.chunks(160) {
            d.push(chunk, &mut |_| {});
        }
        let decision = d.decision().expect("decided");
        assert_eq!((decision.status, decision.cause), (Status::Machine, Cause::Sit), "{code}");
        assert!(decision.at_ms <= 200 + 1500, "{code} decided at {}", decision.at_ms);
        assert_eq!(d.sit_code(), Some(code));
    }
}

#[test]
fn a_lost_packet_inside_a_sit_segment_does_not_hide_it() {
    let mut s = sit((913.8, 380), (1428.5, 380));
    // 20 ms of zeros inside the third segment.
    let at = (200 + 380 + 380 + 100) * 8;
    s.samples[at..at + 160].fill(0);
    let mut d = Detector::new(&Params::default(), 8000).unwrap();
    for chunk in s.samples.chunks(160) {
        d.push(chunk, &mut |_| {});
    }
    assert_eq!(d.decision().map(|x| x.cause), Some(Cause::Sit));
    assert_eq!(d.sit_code(), Some("NC"));
}

#[test]
fn a_fax_answer_tone_is_called_within_3500_ms_of_its_start() {
    for start in [0u32, 1200, 2500] {
        let mut s = Synth::new(8000);
        s.silence(start).tone(3300, 2100.0, 3000.0).silence(2000);
        let mut d = Detector::new(&Params::default(), 8000).unwrap();
        for chunk in s.samples.chunks(160) {
            d.push(chunk, &mut |_| {});
        }
        let decision = d.decision().expect("decided");
        assert_eq!(decision.cause, Cause::Fax, "CED at {start}");
        assert!(u64::from(start) + 3500 >= decision.at_ms, "CED at {start} decided at {}", decision.at_ms);
    }
}

#[test]
fn a_voiced_greeting_in_loud_line_noise_is_followed_to_its_real_end() {
    // Vowels about 6 dB above white line noise, the softer ones level with it: past the
    // decision, only their periodicity keeps them from passing for the quiet that ends the
    // greeting, so the detector must go on judging voicing until the message end is found.
    let mut s = Synth::new(8000);
    s.silence(700).vowels(7000, 190, 70, 6000.0, 120.0);
    let greeting_end = s.at_ms() as u64;
    s.silence(3000);
    let talk = {
        let part = &s.samples[5600..5600 + 32000];
        part.iter().map(|&x| f32::from(x).abs()).sum::<f32>() / part.len() as f32
    };
    s.add_noise(talk);
    let (events, finished) = run(&params("detect_message_end=true,message_end_silence=1200"), &s);
    let decided = events.iter().find_map(|e| if let Event::Decided(d) = e { Some(*d) } else { None }).expect("a decision");
    assert_eq!(decided.status, Status::Machine, "{decided:?}");
    assert!(decided.at_ms < greeting_end - 2000, "decided while the greeting goes on: {decided:?}");
    let m = message_end(&events).expect("message end");
    assert_eq!(m.kind, MessageEndKind::Silence, "{m:?}");
    assert!(
        (greeting_end + 1000..=greeting_end + 1400).contains(&m.at_ms),
        "greeting ends at {greeting_end}, message end found at {}",
        m.at_ms
    );
    assert!(finished);
}

/// Fax and SIT tones as GSM or AMR passes them on in noise (see Synth::coded_tone): their level
/// jumps several dB and their pitch tens of Hz from frame to frame, around their standard
/// frequency. They are still a fax and a SIT, with the SIT's code.
#[test]
fn fax_and_sit_tones_through_a_mobile_codec_are_still_named() {
    let p = params("");
    let decide = |s: &Synth| {
        let mut d = Detector::new(&p, 8000).unwrap();
        for chunk in s.samples.chunks(160) {
            d.push(chunk, &mut |_| {});
        }
        (d.decision().expect("decided"), d.sit_code())
    };
    let mut s = Synth::new(8000);
    s.silence(400).coded_tone(2600, 2100.0, 3000.0, 5.0, 25.0).v21(1200, 1000, 3000.0).silence(500).add_noise(300.0);
    let (d, _) = decide(&s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax), "CED: {d:?}");
    assert!(d.at_ms <= 400 + 1000, "CED decided at {}", d.at_ms);

    let mut s = Synth::new(8000);
    s.silence(300).coded_tone(500, 1100.0, 3000.0, 5.0, 25.0).silence(3000).coded_tone(500, 1100.0, 3000.0, 5.0, 25.0).silence(500);
    s.add_noise(300.0);
    let (d, _) = decide(&s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax), "CNG: {d:?}");

    let mut s = Synth::new(8000);
    s.silence(200).coded_tone(380, 913.8, 4000.0, 5.0, 12.0).coded_tone(380, 1428.5, 4000.0, 5.0, 12.0);
    s.coded_tone(380, 1776.7, 4000.0, 5.0, 25.0).silence(300).syllables(2000, 180, 20, 3000.0).silence(1000).add_noise(300.0);
    let (d, code) = decide(&s);
    assert_eq!((d.status, d.cause, code), (Status::Machine, Cause::Sit, Some("NC")), "SIT: {d:?}");
}

/// The beep model is told how many tones the line carried before the one it judges: music or a
/// television behind a call sounds tone after tone, where a beep mostly comes alone.
#[test]
fn each_tone_is_judged_knowing_the_tones_before_it() {
    use mod_rust_amd::detector::BEEP_FEATURE_NAMES;
    let earlier = BEEP_FEATURE_NAMES.iter().position(|n| *n == "earlier_tones").expect("the feature");
    let mut s = long_greeting(8000);
    let first = s.at_ms() as u64;
    s.tone(300, 700.0, 3000.0).silence(400);
    let second = s.at_ms() as u64;
    s.tone(300, 1000.0, 3000.0).silence(400);
    let third = s.at_ms() as u64;
    s.tone(300, 1400.0, 3000.0).silence(1000);
    let starts = [first, second, third];
    let mut d = Detector::new(&params(""), 8000).unwrap();
    d.collect_tone_candidates();
    for chunk in s.samples.chunks(160) {
        d.push(chunk, &mut |_| {});
    }
    let candidates = d.take_tone_candidates();
    for (heard_before, start) in starts.iter().enumerate() {
        let judged: Vec<f32> = candidates.iter().filter(|c| c.start_ms.abs_diff(*start) <= 30).map(|c| c.features[earlier]).collect();
        assert!(!judged.is_empty(), "the tone at {start} ms is judged: {candidates:?}");
        assert!(judged.iter().all(|&n| n == heard_before as f32), "the tone at {start} ms follows {heard_before}: {judged:?}");
    }
}
