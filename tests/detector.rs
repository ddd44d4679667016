//! Every cause of the detector driven by synthesized signals, at every rate and frame size.

mod common;

use common::Synth;
use mod_rust_amd::detector::timeline_feature_index;
use mod_rust_amd::{Cause, Decision, DecisionModel, Detector, Event, Node, Params, Status};

fn params(overrides: &str) -> Params {
    let mut p = Params::default();
    // As voice_start takes its data: a test that sets the timers gets mod_com_amd's rules.
    let errors = p.apply_configuration_pairs(overrides);
    assert!(errors.is_empty(), "{errors:?}");
    p
}

/// Feeds `samples` in frames of `frame_ms` and returns all events.
fn run(p: &Params, rate: u32, samples: &[i16], frame_ms: u32) -> Vec<Event> {
    let mut d = Detector::new(p, rate).expect("supported rate");
    let frame = (rate * frame_ms / 1000).max(1) as usize;
    let mut events = Vec::new();
    for chunk in samples.chunks(frame) {
        d.push(chunk, &mut |e| events.push(e));
    }
    events
}

fn decision(events: &[Event]) -> Decision {
    let decided: Vec<Decision> = events
        .iter()
        .filter_map(|e| if let Event::Decided(d) = e { Some(*d) } else { None })
        .collect();
    assert_eq!(decided.len(), 1, "exactly one decision in {events:?}");
    decided[0]
}

fn decide(p: &Params, s: &Synth) -> Decision {
    decision(&run(p, s.rate, &s.samples, 20))
}

#[test]
fn silence_is_a_person_at_silent_initial() {
    let mut s = Synth::new(8000);
    s.silence(6000);
    let d = decide(&params("silent_initial=2000"), &s);
    assert_eq!(d, Decision { status: Status::Person, cause: Cause::SilentInitial, at_ms: 2000 });
}

#[test]
fn app_amd_initial_silence_makes_silence_a_machine() {
    let mut s = Synth::new(8000);
    s.silence(6000);
    let d = decide(&params("initialSilence=2000"), &s);
    assert_eq!(d, Decision { status: Status::Machine, cause: Cause::SilentInitial, at_ms: 2000 });
    let d = decide(&params("silent_initial=2000,silent_initial_machine=false"), &s);
    assert_eq!(d.status, Status::Person);
}

#[test]
fn line_noise_alone_is_silence_too() {
    let mut s = Synth::new(8000);
    // Steady hiss far above silent_threshold: the noise floor takes it for background.
    s.noise_burst(6000, 2000.0);
    let d = decide(&params("silent_initial=3000"), &s);
    assert_eq!((d.status, d.cause, d.at_ms), (Status::Person, Cause::SilentInitial, 3000));
}

#[test]
fn a_short_hello_then_silence_is_a_person_after_silent_after_intro() {
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(400, 3000.0).silence(3000);
    let d = decide(&params("silent_after_intro=750"), &s);
    // The high-pass rings on for a few ms after an abrupt stop: sound ends one block late.
    assert_eq!(d, Decision { status: Status::Person, cause: Cause::SilentAfterIntro, at_ms: 910 + 750 });
}

#[test]
fn a_long_greeting_is_a_machine_at_noise_max_intro() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 180, 20, 3000.0).silence(1000);
    let d = decide(&params("noise_max_intro=2700,noise_max_count=1000"), &s);
    assert_eq!(d, Decision { status: Status::Machine, cause: Cause::MaxIntro, at_ms: 500 + 2700 });
}

#[test]
fn a_greeting_counts_from_the_syllables_that_lead_into_its_first_word() {
    // In loud noise only short syllables of a greeting's first words may come through: too short
    // for words, but with no silence between them the greeting has begun.
    let mut s = Synth::new(8000);
    s.silence(500);
    for _ in 0..6 {
        s.noise_burst(60, 3000.0).silence(200);
    }
    s.syllables(1500, 180, 20, 3000.0).silence(1000);
    let d = decide(&params("noise_max_intro=2700,noise_max_count=1000"), &s);
    assert_eq!(d.status, Status::Machine, "{d:?}");
    assert!((500 + 2700..=500 + 2700 + 20).contains(&d.at_ms), "{d:?}");
    // The same syllables parted from the words by silent_after_intro are not the greeting.
    let d = decide(&params("noise_max_intro=2700,noise_max_count=1000,silent_after_intro=150"), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{d:?}");
}

#[test]
fn many_words_are_a_machine_at_noise_max_count() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 150, 50, 3000.0).silence(1000);
    let d = decide(&params("noise_max_count=6,noise_max_intro=10000"), &s);
    // The 7th word (index 6) is counted once it has lasted noise_min_length.
    assert_eq!(d, Decision { status: Status::Machine, cause: Cause::MaxCount, at_ms: 500 + 6 * 200 + 120 });
}

#[test]
fn one_overlong_word_is_a_machine_at_noise_max_word_length_and_the_evidence_says_why() {
    let mut s = Synth::new(8000);
    // Syllables 30 dB down for only 20 ms: the gaps stay inside one word.
    s.silence(500).syllables(3000, 180, 20, 3000.0).silence(1000);
    let p = params("noise_max_word_length=1500,noise_max_intro=10000");
    let mut d = Detector::new(&p, 8000).unwrap();
    for chunk in s.samples.chunks(160) {
        d.push(chunk, &mut |_| {});
    }
    let decision = d.decision().expect("decided");
    assert_eq!((decision.status, decision.cause, decision.at_ms), (Status::Machine, Cause::MaxWordLength, 500 + 1500));
    let e = d.evidence();
    assert_eq!((e.words, e.longest_word_ms, e.greeting_ms), (1, 1500, 1500));

    // Off by default: the same audio is a long greeting instead.
    let d = decide(&params("noise_max_intro=2700"), &s);
    assert_eq!(d.cause, Cause::MaxIntro);
}

#[test]
fn evidence_of_a_short_greeting_counts_its_words_and_the_silence_after() {
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(300, 3000.0).silence(100).noise_burst(300, 3000.0).silence(3000);
    let p = params("silent_after_intro=750");
    let mut d = Detector::new(&p, 8000).unwrap();
    for chunk in s.samples.chunks(160) {
        d.push(chunk, &mut |_| {});
    }
    assert_eq!(d.decision().unwrap().cause, Cause::SilentAfterIntro);
    let e = d.evidence();
    assert_eq!(e.words, 2);
    assert_eq!(e.silence_ms, 750);
    assert!((700..=720).contains(&e.greeting_ms), "{e:?}");
}

#[test]
fn undecided_talk_is_unsure_at_total_analysis_time() {
    let mut s = Synth::new(8000);
    s.silence(300);
    for _ in 0..8 {
        s.noise_burst(200, 3000.0).silence(500);
    }
    let p = params("noise_max_intro=20000,noise_max_count=1000,silent_after_intro=1000,total_analysis_time=3000");
    assert_eq!(decide(&p, &s), Decision { status: Status::Unsure, cause: Cause::TooLong, at_ms: 3000 });
}

#[test]
fn clicks_shorter_than_a_word_do_not_start_a_greeting() {
    let mut s = Synth::new(8000);
    for _ in 0..5 {
        s.silence(400).noise_burst(60, 8000.0);
    }
    s.silence(4000);
    let d = decide(&params("silent_initial=2500"), &s);
    assert_eq!((d.status, d.cause, d.at_ms), (Status::Person, Cause::SilentInitial, 2500));
}

#[test]
fn a_beep_after_a_short_greeting_is_a_machine() {
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(600, 3000.0).silence(300).tone(400, 1000.0, 4000.0).silence(2000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep));
    assert!((1450..=1560).contains(&d.at_ms), "beep at 1400 decided at {}", d.at_ms);
    let d = decide(&params("detect_beep=false"), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "no beep rule: timing only");
}

#[test]
fn a_tone_under_the_beep_band_after_a_greeting_is_no_beep() {
    // 280 Hz: a mains hum's harmonic, or a pitch period that packet-loss concealment repeated,
    // can stand out of a pause that clear; beeps are made from 300 Hz up, as the beep that ends
    // a greeting already called machine must be.
    let call = |hz: f32| {
        let mut s = Synth::new(8000);
        s.silence(500).noise_burst(600, 3000.0).silence(300).tone(400, hz, 4000.0).silence(2000);
        let d = decide(&Params::default(), &s);
        (d.status, d.cause)
    };
    assert_eq!(call(280.0), (Status::Person, Cause::SilentAfterIntro));
    assert_eq!(call(440.0), (Status::Machine, Cause::Beep));
}

#[test]
fn two_tone_beeps_count_too() {
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(600, 3000.0).silence(300);
    s.tone(300, 700.0, 2500.0);
    let mut upper = Synth::new(8000);
    upper.silence(1400).tone(300, 1000.0, 2500.0);
    s.mix(&upper).silence(2000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep));
}

#[test]
fn a_tone_at_a_sit_pitch_after_a_greeting_is_a_beep_when_no_sit_follows() {
    // 913.8 Hz for 300 ms could open a SIT; nothing follows it, then digital silence.
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(600, 3000.0).silence(300).tone(300, 913.8, 4000.0).silence(2000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep));
    let d = decide(&params("detect_beep=false"), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "no beep rule: timing only");
}

#[test]
fn a_tone_at_a_sit_pitch_with_no_sit_after_it_is_a_beep_only_where_any_beep_would_be() {
    // With nobody speaking before it, 913.8 Hz for 300 ms is no beep.
    let mut s = Synth::new(8000);
    s.silence(500).tone(300, 913.8, 4000.0).silence(3000);
    let d = decide(&Params::default(), &s);
    assert_eq!(d.status, Status::Person, "{d:?}");

    // After a greeting and a pause it is one, judged when it ends (it might have opened a SIT).
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(600, 3000.0).silence(300).tone(300, 913.8, 4000.0).silence(2000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "{d:?}");
    assert!(d.at_ms >= 1400 + 300, "judged at its end: {d:?}");
}

#[test]
fn fax_answer_tone_is_a_fax_machine() {
    let mut s = Synth::new(8000);
    s.silence(300).tone(3000, 2100.0, 6000.0).silence(1000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax));
    assert!((750..=850).contains(&d.at_ms), "CED at 300 decided at {}", d.at_ms);
}

#[test]
fn fax_calling_tone_is_a_fax_machine() {
    let mut s = Synth::new(8000);
    s.silence(200).tone(500, 1100.0, 6000.0).silence(3000).tone(500, 1100.0, 6000.0).silence(500);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax));
    assert!(d.at_ms < 800, "CNG at 200 decided at {}", d.at_ms);
}

#[test]
fn a_calling_tone_whose_onset_runs_on_from_a_burst_of_noise_is_a_fax_but_one_after_a_greeting_is_a_beep() {
    // A comfort-noise gate switching on just before the CNG, or a codec smearing its onset, makes
    // one stretch of sound that runs on into the tone: that is no greeting before it.
    let mut s = Synth::new(8000);
    s.silence(300).noise_burst(400, 3000.0).tone(500, 1100.0, 6000.0).silence(3000).tone(500, 1100.0, 6000.0).silence(500);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax), "{d:?}");
    // A greeting, a pause, and a tone at 1100 Hz: a voicemail's beep.
    let mut s = Synth::new(8000);
    s.silence(300).syllables(1500, 180, 40, 3000.0).silence(400).tone(500, 1100.0, 3000.0).silence(3000);
    let d = decide(&params("decision=rules"), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "{d:?}");
}

/// Through a mobile codec in noise a signalling tone drops out for a coded frame or two, the
/// band filled with noise. CED every 250 ms, SIT a little after each segment starts.
#[test]
fn signalling_tones_that_drop_out_for_a_frame_or_two_are_still_named() {
    let mut s = Synth::new(8000);
    s.silence(300);
    for _ in 0..8 {
        s.tone(250, 2100.0, 4000.0).noise_burst(40, 3000.0);
    }
    s.silence(1000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax), "{d:?}");

    let mut s = Synth::new(8000);
    s.silence(200);
    for (ms, hz) in [(274, 913.8), (274, 1370.6), (380, 1776.7)] {
        s.tone(40, hz, 4000.0).noise_burst(40, 3000.0).tone(ms - 80, hz, 4000.0);
    }
    s.silence(500).syllables(2000, 180, 20, 3000.0).silence(1000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Sit), "{d:?}");
}

#[test]
fn special_information_tones_are_a_machine() {
    let mut s = Synth::new(8000);
    s.silence(200).tone(274, 913.8, 4000.0).tone(274, 1370.6, 4000.0).tone(380, 1776.7, 4000.0).silence(500);
    s.syllables(2000, 180, 20, 3000.0).silence(1000);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Sit));
    assert!(d.at_ms < 200 + 548 + 200, "SIT decided at {}", d.at_ms);
}

/// Two seconds of North American ring tone (440 + 480 Hz, beating against each other) from 200
/// ms, as a line that answered before anybody picked up sends it.
fn ring_tone_after_the_answer(rate: u32) -> Synth {
    let mut s = Synth::new(rate);
    s.silence(200).tone(2000, 440.0, 2000.0).mix_tone(200, 2000, 480.0, 2000.0);
    s
}

#[test]
fn a_ring_tone_after_the_answer_is_not_a_greeting() {
    for rate in [8000, 16000, 48000] {
        // "Hello?" after the ring stops: a person, timed from the hello. Taken for talk, the
        // ring and the hello would make a 2.7 s greeting (noise_max_intro) and a machine.
        let mut s = ring_tone_after_the_answer(rate);
        s.silence(300).noise_burst(400, 3000.0).silence(3000);
        let d = decide(&Params::default(), &s);
        assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{rate} Hz");
        assert!(d.at_ms.abs_diff(2910 + 750) <= 10, "{rate} Hz: {d:?}");

        // The ring and nothing after it: not a short greeting and the silence after it. Nobody
        // had answered while it rang, so silent_initial counts from its end.
        let mut s = ring_tone_after_the_answer(rate);
        s.silence(4000);
        let d = decide(&params("silent_initial=3000"), &s);
        assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentInitial), "{rate} Hz");
        // The ring is still heard while the analysis window holds its last samples, and for
        // the blocks a pulsed ring may drop out of.
        assert!((2200 + 3000..=2200 + 3000 + 80).contains(&d.at_ms), "{rate} Hz: {d:?}");
    }
}

#[test]
fn a_line_still_ringing_is_not_a_silent_person() {
    // North American cadence, 2 s on and 4 s off, from 200 ms: its off period is shorter than
    // silent_initial, so the analysis runs out with nobody heard.
    for rate in [8000, 16000] {
        let mut s = ring_tone_after_the_answer(rate);
        s.silence(4000).tone(2000, 440.0, 2000.0).mix_tone(6200, 2000, 480.0, 2000.0).silence(500);
        let d = decide(&Params::default(), &s);
        assert_eq!(d, Decision { status: Status::Unsure, cause: Cause::TooLong, at_ms: 6000 }, "{rate} Hz");
    }
}

#[test]
fn a_greeting_after_a_ring_tone_is_timed_from_its_first_word() {
    // A European ring (one 425 Hz tone for a second), then a long greeting from 1500 ms.
    let mut s = Synth::new(8000);
    s.silence(200).tone(1000, 425.0, 3000.0).silence(300).syllables(4000, 180, 20, 3000.0).silence(1000);
    let d = decide(&params("noise_max_intro=2700,noise_max_count=1000"), &s);
    assert_eq!(d, Decision { status: Status::Machine, cause: Cause::MaxIntro, at_ms: 1500 + 2700 });

    // A British ring (400 + 450 Hz, twice 400 ms): the onset of each burst passes for sound
    // until the ring is recognised, and must not lead into the greeting as its first syllables.
    let mut s = Synth::new(8000);
    s.silence(200).tone(400, 400.0, 2000.0).mix_tone(200, 400, 450.0, 2000.0);
    s.silence(200).tone(400, 400.0, 2000.0).mix_tone(800, 400, 450.0, 2000.0);
    s.silence(300).syllables(4000, 180, 20, 3000.0).silence(1000);
    let d = decide(&params("noise_max_intro=2700,noise_max_count=1000"), &s);
    assert_eq!(d, Decision { status: Status::Machine, cause: Cause::MaxIntro, at_ms: 1500 + 2700 });
}

#[test]
fn talking_edges_are_reported_with_their_audio_times() {
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(400, 3000.0).silence(3000);
    let events = run(&params("silent_max_session=200"), 8000, &s.samples, 20);
    assert_eq!(events[0], Event::StartTalking { at_ms: 500 });
    assert_eq!(events[1], Event::StopTalking { at_ms: 910 }, "one block of high-pass ring-down");
    assert!(matches!(events[2], Event::Decided(_)));
}

/// The same call gives the same answer at every rate and with any frame size (1-120 ms,
/// varying, some empty), give or take one 10 ms block.
type Scenario = Box<dyn Fn(&mut Synth)>;

#[test]
fn rates_and_frame_sizes_do_not_change_the_answer() {
    let scenarios: Vec<Scenario> = vec![
        Box::new(|s| {
            s.silence(500).noise_burst(400, 3000.0).silence(2000);
        }),
        Box::new(|s| {
            s.silence(500).syllables(4000, 180, 20, 3000.0);
        }),
        Box::new(|s| {
            s.silence(500).noise_burst(600, 3000.0).silence(300).tone(400, 1000.0, 4000.0).silence(1000);
        }),
    ];
    for (i, scenario) in scenarios.iter().enumerate() {
        let mut reference = Synth::new(8000);
        scenario(&mut reference);
        // The timers' own verdicts, which the learned model would otherwise weigh.
        let rules = params("decision=rules");
        let expected = decide(&rules, &reference);
        for rate in [8000, 16000, 32000, 48000] {
            let mut s = Synth::new(rate);
            scenario(&mut s);
            let mut d = Detector::new(&rules, rate).unwrap();
            let mut events = Vec::new();
            let mut pos = 0;
            let mut k = 0u32;
            while pos < s.samples.len() {
                // Frame lengths cycle through 0, 1 ms, 7 ms, ... up to 120 ms.
                let ms = [0, 1, 7, 10, 20, 30, 60, 120, 13][k as usize % 9];
                k += 1;
                let n = ((rate * ms / 1000) as usize).min(s.samples.len() - pos);
                d.push(&s.samples[pos..pos + n], &mut |e| events.push(e));
                pos += n;
            }
            let got = decision(&events);
            assert_eq!((got.status, got.cause), (expected.status, expected.cause), "scenario {i} at {rate} Hz");
            assert!(got.at_ms.abs_diff(expected.at_ms) <= 10, "scenario {i} at {rate} Hz: {} vs {}", got.at_ms, expected.at_ms);
        }
    }
}

#[test]
fn unsupported_rates_are_refused_and_rate_changes_keep_time() {
    assert!(Detector::new(&Params::default(), 11025).is_err());
    let mut d = Detector::new(&Params::default(), 8000).unwrap();
    d.push(&[0; 800], &mut |_| {});
    d.set_sample_rate(48000).unwrap();
    d.push(&[0; 4800], &mut |_| {});
    assert_eq!(d.elapsed_ms(), 200);
    assert!(d.set_sample_rate(22050).is_err());
}

#[test]
fn comfort_noise_switching_on_and_off_after_a_hello_is_not_talk() {
    // VoIP receive-side DTX: after "hello", comfort noise (-50 dBFS) cuts in and out.
    let mut s = Synth::new(8000);
    s.silence(500).syllables(500, 150, 40, 6000.0);
    for i in 0..16 {
        s.noise_burst(150 + 40 * (i % 3), 200.0).silence(150 + 50 * (i % 4));
    }
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{d:?}");
}

#[test]
fn a_tv_like_steady_background_after_a_hello_is_not_talk() {
    // A hello at -20 dBFS, then a steady mix of voices/music 12 dB down that never pauses.
    let mut s = Synth::new(8000);
    s.noise_burst(300, 400.0).syllables(500, 150, 40, 6000.0);
    s.noise_burst(4000, 1500.0);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{d:?}");
}

/// `lead_ms` of digital silence from the answer (media that starts late), then 4.5 s of the line's
/// hiss at peak `hiss` (none: a clean line) with a "hello" (syllables) 900 ms into it.
fn late_media_hello(lead_ms: u32, hiss: f32) -> Synth {
    let mut line = Synth::new(8000);
    line.noise_burst(4500, hiss);
    let mut hello = Synth::new(8000);
    hello.silence(900).syllables(500, 150, 40, 6000.0).silence(3100);
    line.mix(&hello);
    let mut s = Synth::new(8000);
    s.silence(lead_ms);
    s.samples.extend_from_slice(&line.samples);
    s
}

/// Media that starts late: digital silence from the answer, then the line's hiss, and a
/// "hello" (syllables) 900 ms after the first packet. Without the late start the greeting is
/// timed from the hello; with it, the hiss must not pass for talk either.
#[test]
fn media_that_starts_late_with_the_line_s_hiss_is_timed_from_the_hello_not_the_hiss() {
    let call = |lead_ms: u32| run(&Params::default(), 8000, &late_media_hello(lead_ms, 300.0).samples, 20);
    let starts = |events: &[Event]| events.iter().filter_map(|e| if let Event::StartTalking { at_ms } = e { Some(*at_ms) } else { None }).collect::<Vec<_>>();
    let straight = call(0);
    let late = call(600);
    let first_talk = starts(&late).into_iter().find(|&at| at >= 600 + 700).expect("the hello heard");
    assert_eq!(Some(first_talk - 600), starts(&straight).first().copied(), "{late:?}");
    let (d_straight, d_late) = (decision(&straight), decision(&late));
    assert_eq!((d_late.status, d_late.cause), (d_straight.status, d_straight.cause), "{late:?}");
    assert_eq!((d_late.status, d_late.cause), (Status::Person, Cause::SilentAfterIntro));
    assert_eq!(d_late.at_ms, d_straight.at_ms + 600, "decided as long after the hello");
    // The hiss before the hello was taken for talk only until it had held its level, and every
    // start it made is closed.
    let stops = late.iter().filter(|e| matches!(e, Event::StopTalking { .. })).count();
    assert_eq!(starts(&late).len(), stops, "{late:?}");
}

/// The learned decision times such a call from where its media began, as it times a call whose
/// media begins at the answer: the hello comes as long after the line's first sound.
#[test]
fn media_that_starts_late_with_the_line_s_hiss_is_timed_from_its_first_sound() {
    let timeline = |lead_ms: u32, hiss: bool| {
        let s = late_media_hello(lead_ms, if hiss { 300.0 } else { 0.0 });
        let mut d = Detector::new(&Params::default(), 8000).unwrap();
        d.collect_timeline();
        for chunk in s.samples.chunks(160) {
            d.push(chunk, &mut |_| {});
        }
        d.take_timeline()
    };
    let greeting_start = |points: &[mod_rust_amd::TimelinePoint]| points.first().expect("a greeting").features[timeline_feature_index("greeting_start_ms")];
    let straight = greeting_start(&timeline(0, true));
    assert!((straight - 900.0).abs() <= 30.0, "{straight}");
    assert_eq!(greeting_start(&timeline(600, true)), straight);
    // Digital silence until the hello itself: nothing says the media began before it, so the call
    // is timed from the answer.
    let clean = greeting_start(&timeline(600, false));
    assert!((clean - 1500.0).abs() <= 30.0, "{clean}");
}

/// Mean |x| of a signal, for setting up signal-to-noise ratios.
fn mean_abs(samples: &[i16]) -> f32 {
    samples.iter().map(|&x| f32::from(x).abs()).sum::<f32>() / samples.len() as f32
}

/// `lead_ms` of quiet, a greeting written by `greet`, 4.5 s of quiet, all under white line
/// noise of `noise_to_talk` times the greeting's mean |sample|: the default detector's decision
/// and where the greeting ended.
fn greeting_in_line_noise(lead_ms: u32, greet: impl FnOnce(&mut Synth), noise_to_talk: f32) -> (Decision, u32) {
    let mut s = Synth::new(8000);
    s.silence(lead_ms);
    let greeting_start = s.samples.len();
    greet(&mut s);
    let (greeting_end, talk) = (s.at_ms(), mean_abs(&s.samples[greeting_start..]));
    s.silence(4500);
    s.add_noise(talk * noise_to_talk);
    (decide(&Params::default(), &s), greeting_end)
}

/// The greeting was heard as somebody talking: it ended in silent-after-intro, within the
/// second after its end that a person may wait (`what` names the case in a failure).
fn assert_heard_as_a_greeting(d: &Decision, greeting_end: u32, what: &str) {
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{what}: {d:?}");
    assert!(d.at_ms <= u64::from(greeting_end) + 1000, "{what}: decided at {}", d.at_ms);
}

/// Four seconds of vowels at `pitch_hz` about 6 dB above white line noise (the softer ones level
/// with it), and the talk's mean |sample| before the noise went in.
fn long_greeting_in_loud_line_noise(pitch_hz: f32) -> (Synth, f32) {
    let mut s = Synth::new(8000);
    s.silence(700).vowels(4000, 190, 70, 6000.0, pitch_hz).silence(2000);
    let talk = mean_abs(&s.samples[5600..5600 + 32000]);
    s.add_noise(talk);
    (s, talk)
}

#[test]
fn a_long_voiced_greeting_in_loud_line_noise_is_a_machine() {
    // The noise fills the pauses, so the talk swings far less than 14 dB, but its periodicity
    // marks it as a voice.
    let (s, _) = long_greeting_in_loud_line_noise(120.0);
    let d = decide(&Params::default(), &s);
    assert_eq!(d.status, Status::Machine, "{d:?}");
}

#[test]
fn a_voiced_hello_in_loud_line_noise_is_still_a_person() {
    let mut s = Synth::new(8000);
    s.silence(700).vowels(500, 190, 70, 6000.0, 120.0).silence(4000);
    let talk = mean_abs(&s.samples[5600..5600 + 4000]);
    s.add_noise(talk);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{d:?}");
    assert!(d.at_ms <= 700 + 500 + 800, "decided at {}", d.at_ms);
}

#[test]
fn a_hello_split_by_a_weak_glide_in_loud_line_noise_is_heard() {
    // "Hel-lo" in white line noise: two short vowels, neither as long as noise_min_length, joined
    // by a voiced /l/ that sinks to a few dB over the noise. Heard as one word, the greeting ends
    // in silent-after-intro soon after it; heard as two blips, nobody spoke until silent_initial.
    for glide_amp in [2200.0, 3000.0] {
        let hello = |s: &mut Synth| {
            s.vowels(80, 80, 0, 6000.0, 120.0).vowels(40, 40, 0, glide_amp, 120.0).vowels(100, 100, 0, 6000.0, 120.0);
        };
        let (d, greeting_end) = greeting_in_line_noise(1000, hello, 0.7);
        assert_heard_as_a_greeting(&d, greeting_end, &format!("glide {glide_amp}"));
    }
}

#[test]
fn a_hello_heard_only_as_its_two_vowels_in_loud_line_noise_is_heard() {
    // Louder noise than above: "Hel-lo" reaches the caller as two vowels of 80 and 90 ms with
    // its /l/ lost in the noise. Together they are a word; the greeting ends in
    // silent-after-intro soon after it, where two blips would leave silent_initial to decide.
    let hello = |s: &mut Synth| {
        s.vowels(80, 80, 0, 6000.0, 120.0).silence(250).vowels(90, 90, 0, 6000.0, 120.0);
    };
    let (d, greeting_end) = greeting_in_line_noise(1000, hello, 0.9);
    assert_heard_as_a_greeting(&d, greeting_end, "two vowels");

    // One vowel alone is a blip in the noise, not somebody talking.
    let blip = |s: &mut Synth| {
        s.vowels(90, 90, 0, 6000.0, 120.0);
    };
    let (d, _) = greeting_in_line_noise(1000, blip, 0.9);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentInitial), "{d:?}");
}

#[test]
fn a_hello_at_the_answer_heard_as_two_vowels_in_loud_line_noise_is_heard() {
    // The same two vowels 20 ms after the answer: the greeting is over before the detector
    // has heard enough of the noise to know it is steady, and is heard once it does.
    let hello = |s: &mut Synth| {
        s.vowels(90, 90, 0, 6000.0, 120.0).silence(140).vowels(70, 70, 0, 6000.0, 120.0);
    };
    let (d, greeting_end) = greeting_in_line_noise(20, hello, 0.9);
    assert_heard_as_a_greeting(&d, greeting_end, "two vowels at the answer");
}

#[test]
fn a_hello_over_a_voice_in_the_room_is_still_a_person() {
    // Somebody talks on without pause behind the caller, 9 dB down, over loud line noise: it is
    // periodic, but so is the background the detector hears before the hello, so periodicity
    // must not make it the caller's talk.
    let mut room = Synth::new(8000);
    room.vowels(6000, 230, 30, 1500.0, 190.0);
    let mut s = Synth::new(8000);
    s.silence(900).vowels(600, 190, 70, 4200.0, 110.0).silence(4500).mix(&room);
    let talk = mean_abs(&s.samples[7200..7200 + 4800]);
    s.add_noise(talk * 0.6);
    let d = decide(&Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{d:?}");
}

#[test]
fn the_block_trace_shows_each_block_as_the_detector_judged_it() {
    let mut s = Synth::new(16000);
    s.silence(500).noise_burst(400, 3000.0).silence(1100);
    let mut d = Detector::new(&Params::default(), 16000).expect("supported rate");
    d.push(&s.samples[..1600], &mut |_| {});
    assert!(d.take_trace().is_empty(), "nothing is recorded unless asked for");
    d.keep_trace();
    for chunk in s.samples[1600..].chunks(320) {
        d.push(chunk, &mut |_| {});
    }
    let trace = d.take_trace();
    // 2 s of audio, the first 100 ms before recording began: one entry per 10 ms block after.
    assert_eq!(trace.len(), 190);
    assert_eq!((trace[0].end_ms, trace[189].end_ms), (110, 2000));
    let sound: Vec<u64> = trace.iter().filter(|b| b.sound).map(|b| b.end_ms).collect();
    assert!(sound.len() >= 35 && sound.len() <= 42, "{sound:?}");
    assert!(sound.iter().all(|&t| (510..=920).contains(&t)), "{sound:?}");
    // Uniform noise of peak 3000 has mean |x| 1500; the high-pass keeps most of it.
    let loud = trace.iter().find(|b| b.end_ms == 700).expect("block at 700 ms");
    assert!(loud.level > 1000.0 && loud.level < 1700.0, "{loud:?}");
    assert!(trace.iter().filter(|b| b.end_ms < 500).all(|b| b.level < 1.0 && !b.sound));
    assert!(d.take_trace().is_empty(), "taking empties it");
}

#[test]
fn a_long_greeting_with_a_voice_in_the_room_behind_it_is_still_a_machine() {
    // A voice talks on under a greeting (a room of vowels as behind the hello above). It
    // fills the dips between the greeting's syllables, so the greeting swings less than the
    // 14 dB that tells one talker from a mix of voices; but at its loudest it is as loud as its
    // first words and as periodic as one voice alone, so it is still the talker. The line has
    // its own faint noise under it all: a room is never digitally silent between its vowels.
    let mut room = Synth::new(8000);
    room.vowels(8000, 230, 10, 1500.0, 137.0);
    let mut s = Synth::new(8000);
    s.silence(900);
    // Five syllables a second over a 200 Hz voice, with no breath in it.
    voice(&mut s, 4000, 200.0, 3000.0, 0.0, five_syllables_a_second);
    s.silence(3100).mix(&room).add_noise(20.0);
    let d = decide(&Params::default(), &s);
    assert_eq!(d.status, Status::Machine, "{d:?}");
}

/// Appends a breathy voice at `pitch_hz` (twelve harmonics, softer as they go up, and noise of
/// peak `breath` between them) for `ms`, its amplitude `amp` times `envelope(seconds into it)`.
fn voice(s: &mut Synth, ms: u32, pitch_hz: f32, amp: f32, breath: f32, envelope: impl Fn(f32) -> f32) {
    let two_pi = 2.0 * std::f32::consts::PI;
    let mut seed = 7u32;
    for i in 0..ms * 8 {
        let t = i as f32 / 8000.0;
        let v: f32 = (1..=12).map(|h| (two_pi * pitch_hz * h as f32 * t).sin() / h as f32).sum();
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0 * breath;
        s.samples.push((amp * envelope(t) * (v + noise)) as i16);
    }
}

/// An envelope of five syllables a second, each rising from 5% to full and back, at `t` seconds.
fn five_syllables_a_second(t: f32) -> f32 {
    0.05 + 0.95 * (std::f32::consts::PI * 5.0 * t).sin().abs()
}

/// Mains hum at `mains_hz`: the fundamental and eight harmonics, as a bad ground puts on a line,
/// `amp` the fundamental's amplitude.
fn add_hum(s: &mut Synth, mains_hz: f32, amp: f32) {
    let two_pi = 2.0 * std::f32::consts::PI;
    let harmonics = [1.0, 0.35, 0.6, 0.15, 0.3, 0.08, 0.15, 0.05, 0.08];
    for (i, x) in s.samples.iter_mut().enumerate() {
        let t = i as f32 / 8000.0;
        let hum: f32 = harmonics.iter().enumerate().map(|(k, a)| a * (two_pi * mains_hz * (k + 1) as f32 * t).sin()).sum();
        *x = x.saturating_add((amp * hum) as i16);
    }
}

#[test]
fn a_long_voiced_greeting_in_loud_line_noise_with_mains_hum_under_it_is_a_machine() {
    // As in loud line noise alone, but the line also hums: the hum's harmonics make the
    // background look voiced, unless the hum is taken out first. The voice is at 113 Hz, whose
    // harmonics miss the hum filter's notches: a voice held dead steady on a multiple of the
    // mains frequency, as only a synthesiser holds it, would lose its period to them. At 60 Hz
    // the hum also beats against the 10 ms blocks, so the background's level swings 4-5 dB over
    // its floor: the background band has to take that in, or too little of the line is learnt
    // as background before the greeting starts. Judged by the timers alone: whether the greeting
    // is followed to its length is the front end's part, what the model then makes of a long
    // greeting over a humming, noisy line is the model's.
    for mains_hz in [50.0, 60.0] {
        let (mut s, talk) = long_greeting_in_loud_line_noise(113.0);
        add_hum(&mut s, mains_hz, 3.0 * talk);
        let d = decide(&params("decision=rules"), &s);
        assert_eq!((d.status, d.cause), (Status::Machine, Cause::MaxIntro), "{mains_hz} Hz hum: {d:?}");
    }
}

/// A model whose every answer is `p`: one leaf, no features read.
fn constant_model(p: f32, machine_at: f32) -> std::sync::Arc<DecisionModel> {
    let mut m = (*DecisionModel::builtin()).clone();
    m.base = 0.0;
    m.trees = vec![vec![Node::Leaf { value: (p / (1.0 - p)).ln() }]];
    m.policy.machine_at = machine_at;
    std::sync::Arc::new(DecisionModel::from_json(&m.to_json()).expect("a valid model"))
}

fn decide_with(model: std::sync::Arc<DecisionModel>, p: &Params, s: &Synth) -> (Decision, Option<f32>) {
    let mut d = Detector::with_model(p, s.rate, model).unwrap();
    let mut events = Vec::new();
    for chunk in s.samples.chunks((s.rate / 50) as usize) {
        d.push(chunk, &mut |e| events.push(e));
    }
    (decision(&events), d.confidence())
}

#[test]
fn machine_confidence_replaces_the_models_own_threshold() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 180, 20, 3000.0).silence(2000);
    // The model gives 0.95: enough for its own threshold (0.9) and for machine_confidence=95,
    // not for 96; 0 keeps the model's own.
    let model = || constant_model(0.95, 0.9);
    for (data, status) in [("", Status::Machine), ("machine_confidence=0", Status::Machine), ("machine_confidence=95", Status::Machine), ("machine_confidence=96", Status::Person)] {
        let (d, _) = decide_with(model(), &params(data), &s);
        assert_eq!(d.status, status, "{data}: {d:?}");
    }
    // The rules do not ask the model.
    let (d, _) = decide_with(model(), &params("decision=rules,machine_confidence=99"), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::MaxIntro));
    // 1 to 99 percent, or 0.
    let mut p = Params::default();
    assert!(p.set("machine_confidence", "100").is_err());
    assert!(p.set("machine_confidence", "0.99").is_err());
    assert!(p.set("machine_confidence", "99").is_ok());
    assert_eq!(p.get("machine_confidence").as_deref(), Some("99"));
}

#[test]
fn with_decision_model_a_timers_machine_verdict_stands_only_once_the_model_agrees() {
    let mut s = Synth::new(8000);
    s.silence(500).syllables(4000, 180, 20, 3000.0).silence(2000);
    let rules = decide(&params("decision=rules"), &s);
    assert_eq!((rules.status, rules.cause), (Status::Machine, Cause::MaxIntro));
    let model = Params::default();
    assert_eq!(model.decision, mod_rust_amd::DecisionMode::Model);

    // A model sure of a machine: the verdict stands at the model's next look (every 100 ms).
    let (d, confidence) = decide_with(constant_model(0.99, 0.9), &model, &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::MaxIntro));
    assert!(d.at_ms >= rules.at_ms && d.at_ms < rules.at_ms + 100 && d.at_ms % 100 == 0, "{d:?} vs {rules:?}");
    assert!((confidence.unwrap() - 0.99).abs() < 1e-3, "{confidence:?}");

    // A model sure of a person holds the verdict back; the silence after the greeting (which
    // ends at 4500 ms) then calls the person, as silent_after_intro says.
    let (d, confidence) = decide_with(constant_model(0.01, 0.9), &model, &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro), "{d:?}");
    assert!((4500 + 750 - 50..=4500 + 750 + 50).contains(&d.at_ms), "{d:?}");
    assert!((confidence.unwrap() - 0.99).abs() < 1e-3, "{confidence:?}");

    // The threshold is the policy's.
    assert_eq!(decide_with(constant_model(0.7, 0.6), &model, &s).0.status, Status::Machine);
    assert_eq!(decide_with(constant_model(0.7, 0.8), &model, &s).0.status, Status::Person);
    // With decision=rules the model changes nothing but the confidence.
    let (d, confidence) = decide_with(constant_model(0.01, 0.9), &params("decision=rules"), &s);
    assert_eq!(d, rules);
    assert!((confidence.unwrap() - 0.01).abs() < 1e-3, "the model doubted the timers: {confidence:?}");
}

#[test]
fn a_tone_is_decided_with_full_confidence_and_a_short_hello_by_the_model() {
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(600, 3000.0).silence(300).tone(400, 1000.0, 4000.0).silence(1000);
    let (d, confidence) = decide_with(constant_model(0.3, 0.9), &Params::default(), &s);
    assert_eq!((d.status, d.cause, confidence), (Status::Machine, Cause::Beep, Some(1.0)));
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(400, 3000.0).silence(2000);
    let (d, confidence) = decide_with(constant_model(0.3, 0.9), &Params::default(), &s);
    assert_eq!((d.status, d.cause), (Status::Person, Cause::SilentAfterIntro));
    assert!((confidence.unwrap() - 0.7).abs() < 1e-3, "{confidence:?}");
}

/// Runs a whole recording (past the decision) and returns its late machine, if any.
fn late_machine(p: &Params, s: &Synth) -> Option<mod_rust_amd::LateMachine> {
    let mut d = Detector::new(p, s.rate).unwrap();
    let mut late = None;
    for chunk in s.samples.chunks((s.rate / 50) as usize) {
        d.push(chunk, &mut |e| {
            if let Event::LateMachine(l) = e {
                late = Some(l);
            }
        });
    }
    late
}

#[test]
fn a_beep_after_the_person_decision_is_a_late_machine_unless_it_is_lost_in_a_room_of_voices() {
    let p = params("detect_late_machine=true");
    let hello_then_beep = || {
        let mut s = Synth::new(8000);
        s.silence(1200).noise_burst(450, 3000.0).silence(1300).syllables(1500, 180, 40, 3000.0).silence(300);
        s.tone(500, 1000.0, 3000.0).silence(3000);
        s
    };
    let s = hello_then_beep();
    assert_eq!(decide(&p, &s).status, Status::Person);
    let late = late_machine(&p, &s).expect("a late machine");
    assert_eq!(late.kind, mod_rust_amd::LateKind::Beep);
    assert!((4750..=4900).contains(&late.at_ms), "{late:?}");
    assert!(late_machine(&params(""), &s).is_none(), "only when asked for");

    // Over a room of voices (a TV, other talkers) about 10 dB under the caller, a tone well
    // under the voice is as likely the TV's, and a person connected must not be taken for a
    // machine; one as loud as the voice, far over the room, is no TV behind a caller.
    let over_the_room = |amp: f32| {
        let mut s = Synth::new(8000);
        s.silence(1200).noise_burst(450, 3000.0).silence(1300).syllables(1500, 180, 40, 3000.0).silence(300);
        s.tone(500, 1000.0, amp).silence(3000);
        let mut room = Synth::new(8000);
        room.vowels(9500, 230, 10, 1000.0, 190.0);
        s.mix(&room);
        s
    };
    let s = over_the_room(300.0);
    assert_eq!(decide(&p, &s).status, Status::Person);
    assert!(late_machine(&p, &s).is_none());
    let s = over_the_room(3000.0);
    assert_eq!(decide(&p, &s).status, Status::Person);
    assert!(late_machine(&p, &s).is_some_and(|l| (4750..=4900).contains(&l.at_ms)));
}

#[test]
fn with_foreground_drop_db_0_the_talker_is_still_learnt_and_a_beep_still_heard() {
    // foreground_drop_db=0 turns off only the room/background rule; the beep is judged against
    // the talker's level, which must still be learnt.
    let mut s = Synth::new(8000);
    s.silence(500).noise_burst(600, 3000.0).silence(300).tone(400, 1000.0, 4000.0).silence(1000);
    for p in [params(""), params("foreground_drop_db=0")] {
        let d = decide(&p, &s);
        assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "{p:?}");
    }
}

#[test]
fn a_tone_over_a_room_of_voices_is_no_beep_unless_it_is_as_loud_as_the_voice() {
    // A tone after "Hello?" is a voicemail's beep on a quiet line, but over a background of
    // voices heard before anybody spoke (a TV, other talkers) a tone under the voice is as likely
    // the TV's. One as loud as the voice, far over the room, is no TV behind a caller.
    let hello_then_tone = |amp: f32| {
        let mut s = Synth::new(8000);
        s.silence(1200).noise_burst(600, 3000.0).silence(300).tone(400, 1000.0, amp).silence(2500);
        s
    };
    let p = params("decision=rules");
    for amp in [600.0, 3000.0] {
        let d = decide(&p, &hello_then_tone(amp));
        assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "quiet line, tone at {amp}");
    }
    // A room of voices about 10 dB under the caller.
    let mut room = Synth::new(8000);
    room.vowels(5000, 230, 10, 1000.0, 190.0);
    let mut s = hello_then_tone(300.0);
    s.mix(&room);
    let d = decide(&p, &s);
    assert_ne!(d.cause, Cause::Beep, "a tone well under the voice over voices: {d:?}");
    let mut s = hello_then_tone(3000.0);
    s.mix(&room);
    let d = decide(&p, &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "a tone as loud as the voice over voices");
}

#[test]
fn a_tone_lost_in_the_background_far_under_the_voice_is_no_beep() {
    // After "Hello?" over a noisy line, a beep is made to be heard: a tone hardly over the noise
    // and far under the voice is not one; a louder one is.
    let hello_then_tone = |hello: f32, amp: f32| {
        let mut s = Synth::new(8000);
        s.silence(1200).noise_burst(600, hello).silence(300).tone(400, 1000.0, amp).silence(2500);
        s.add_noise(300.0);
        s
    };
    let p = params("decision=rules");
    for (hello, beep, lost) in [(10000.0, 2000.0, 450.0), (6000.0, 1000.0, 300.0)] {
        let d = decide(&p, &hello_then_tone(hello, beep));
        assert_eq!((d.status, d.cause), (Status::Machine, Cause::Beep), "hello {hello}, tone {beep}: {d:?}");
        let d = decide(&p, &hello_then_tone(hello, lost));
        assert_ne!(d.cause, Cause::Beep, "hello {hello}, tone {lost}: {d:?}");
    }
}

/// A line carrying nothing but mains hum, rich in harmonics (a ground loop: 60 Hz and its
/// multiples up to 600 Hz) and a DC offset, from the answer on: past the front end's high-pass
/// its harmonics look like a tone now at one pitch, now at another, block after block. The
/// line's background must still be learnt: a fax's CNG that follows is a fax, not the end of a
/// greeting that the hum began.
#[test]
fn a_cng_on_a_humming_line_is_a_fax() {
    let rate = 8000;
    let mut s = Synth::new(rate);
    s.silence(370).tone(500, 1100.0, 6000.0).silence(3000).tone(500, 1100.0, 6000.0).silence(1000);
    let harmonics = [300.0, 250.0, 150.0, 130.0, 120.0, 100.0, 90.0, 80.0, 60.0, 50.0];
    for (i, v) in s.samples.iter_mut().enumerate() {
        let t = i as f32 / rate as f32;
        // Harmonics out of phase with each other, as a transformer's are: a steady level.
        let hum: f32 = harmonics
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let n = (k + 1) as f32;
                a * (2.0 * std::f32::consts::PI * 60.0 * n * t + 0.7 * n * n).sin()
            })
            .sum();
        *v = (f32::from(*v) + hum + 360.0).clamp(-32768.0, 32767.0) as i16;
    }
    let d = decide(&params(""), &s);
    assert_eq!((d.status, d.cause), (Status::Machine, Cause::Fax), "{d:?}");
}


#[test]
fn a_late_beep_is_timed_from_the_end_of_a_greeting_that_went_on_quieter() {
    // "Hello?", a pause (decided `person`), then a recorded greeting that begins loud and goes
    // on quieter, heard above the room only in bits too short for words, and its beep. The beep
    // follows the greeting's end, not its last loud word.
    let p = params("detect_late_machine=true");
    for blip in [10, 30] {
        let mut s = Synth::new(8000);
        s.silence(1200).noise_burst(450, 6000.0).silence(1300).syllables(600, 180, 40, 6000.0);
        for _ in 0..4 {
            s.syllables(440, 180, 40, 2500.0).noise_burst(blip, 6000.0);
        }
        s.silence(300).tone(500, 1000.0, 6000.0).silence(3000);
        assert_eq!(decide(&p, &s).status, Status::Person);
        let late = late_machine(&p, &s).unwrap_or_else(|| panic!("a late machine (blips of {blip} ms)"));
        assert_eq!(late.kind, mod_rust_amd::LateKind::Beep);
    }
}
