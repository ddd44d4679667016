//! The detector as the module drives it: audio at any read rate (brought to a rate the detector
//! takes by the module's resampler), in frames of any size, any samples, with any valid
//! parameters, and a codec change now and then. It never panics or hangs, decides once at most
//! (talking edges may go on after the decision, by design), reports a message end and a beep end
//! at most once each and only after the decision, and talking edges in order.
//!
//! Shared by the fuzz target (fuzz/fuzz_targets/) and the regression tests that replay saved
//! inputs without the fuzzer (tests/fuzz_regressions.rs).

use mod_rust_amd::module::resample::{target_rate, Resampler};
use mod_rust_amd::{Detector, Event, Params};

/// Read rates a FreeSWITCH codec can report, and some it should not.
const RATES: [u32; 12] = [8000, 16000, 32000, 48000, 11025, 22050, 44100, 24000, 12000, 96000, 0, 1];

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn rate(&mut self) -> u32 {
        let pick = self.byte();
        match RATES.get(pick as usize) {
            Some(r) => *r,
            None if pick == 255 => self.u32(),
            None => RATES[pick as usize % 4],
        }
    }
}

/// The module's chain for one call: rate adaptation, then the detector.
struct Chain {
    rate: u32,
    resampler: Option<Resampler>,
    detector: Detector,
    resampled: Vec<i16>,
}

impl Chain {
    fn new(params: &Params, rate: u32) -> Option<Chain> {
        let target = target_rate(rate)?;
        let detector = Detector::new(params, target).expect("target_rate gives a supported rate");
        Some(Chain { rate, resampler: (target != rate).then(|| Resampler::new(rate, target)), detector, resampled: Vec::new() })
    }

    fn set_rate(&mut self, rate: u32) -> bool {
        let Some(target) = target_rate(rate) else { return false };
        self.detector.set_sample_rate(target).expect("target_rate gives a supported rate");
        self.resampler = (target != rate).then(|| Resampler::new(rate, target));
        self.rate = rate;
        true
    }

    fn push(&mut self, pcm: &[i16], on_event: &mut dyn FnMut(Event)) {
        match &mut self.resampler {
            Some(r) => {
                r.process(pcm, &mut self.resampled);
                // Never more than the rate ratio (plus one for the carried-over position).
                let (from, to) = r.rates();
                let most = (pcm.len() as u64 * u64::from(to)).div_ceil(u64::from(from)) + 1;
                assert!(self.resampled.len() as u64 <= most, "{} samples out of {} at {from}->{to}", self.resampled.len(), pcm.len());
                self.detector.push(&self.resampled, on_event)
            }
            None => self.detector.push(pcm, on_event),
        }
    }
}

pub fn check(data: &[u8]) {
    let mut input = Input(data);
    let mut params = Params::default();
    let knobs = input.byte();
    if knobs & 1 != 0 {
        params.silent_threshold = u32::from(input.u16() % 32768);
        params.silent_initial = 10 + u32::from(input.u16());
        params.silent_after_intro = 10 + u32::from(input.u16());
        params.silent_max_session = 10 + u32::from(input.u16());
        params.noise_max_intro = 10 + u32::from(input.u16());
        params.noise_min_length = u32::from(input.u16());
        params.noise_inter_silence = u32::from(input.u16());
        params.noise_max_count = 1 + u32::from(input.u16() % 10_000);
        params.total_analysis_time = 100 + u32::from(input.u16());
        params.noise_max_word_length = u32::from(input.u16());
        params.noise_floor_margin_db = u32::from(input.byte() % 61);
        params.foreground_drop_db = u32::from(input.byte() % 61);
        params.detect_beep = knobs & 2 != 0;
        params.detect_message_end = knobs & 4 != 0;
        params.detect_late_machine = knobs & 8 != 0;
        params.late_machine_window = 100 + u32::from(input.u16());
        if knobs & 16 != 0 {
            params.decision = mod_rust_amd::DecisionMode::Rules;
        }
    }
    let rate = input.rate();
    let Some(mut chain) = Chain::new(&params, rate) else { return };

    let mut decided = None;
    let mut message_end = None;
    let mut late = None;
    let mut beep_ended = false;
    // Talking edges alternate, in order among themselves. They are dated at the sound's onset or
    // end, which the detector only knows to be talk some blocks later: an edge may come after
    // the decision with an earlier date.
    let mut last_edge: Option<(bool, u64)> = None;
    let mut check = |e: Event, elapsed: u64| {
        let at = match e {
            Event::StartTalking { at_ms } => {
                if let Some((was_start, prev)) = last_edge {
                    assert!(!was_start, "two starts without a stop: {e:?}");
                    assert!(at_ms >= prev, "talk starts at {at_ms} before the last stop at {prev}");
                }
                last_edge = Some((true, at_ms));
                at_ms
            }
            Event::StopTalking { at_ms } => {
                let (was_start, prev) = last_edge.expect("a stop without a start");
                assert!(was_start, "two stops without a start: {e:?}");
                assert!(at_ms >= prev, "talk stops at {at_ms} before it started at {prev}");
                last_edge = Some((false, at_ms));
                at_ms
            }
            Event::Decided(d) => {
                assert!(decided.is_none(), "a second decision {d:?} after {decided:?}");
                decided = Some(d);
                d.at_ms
            }
            Event::MessageEnd(m) => {
                assert!(decided.is_some(), "a message end before any decision: {m:?}");
                assert!(message_end.is_none(), "a second message end {m:?}");
                message_end = Some(m);
                m.at_ms
            }
            Event::LateMachine(l) => {
                let d = decided.expect("a late machine before any decision");
                assert_eq!(d.status, mod_rust_amd::Status::Person, "a late machine after {d:?}");
                assert!(late.is_none(), "a second late machine {l:?}");
                late = Some(l);
                l.at_ms
            }
            Event::BeepEnd { at_ms } => {
                assert!(decided.is_some(), "a beep end before any decision");
                assert!(!beep_ended, "a second beep end");
                beep_ended = true;
                at_ms
            }
        };
        assert!(at <= elapsed + 10, "event at {at} ms after {elapsed} ms of audio");
    };
    let mut frames = Vec::new();
    while !input.0.is_empty() {
        let head = input.u16();
        if head & 0x8000 != 0 && head & 0x4000 != 0 {
            // A codec change (or a read rate the module refuses, which leaves the chain as it was).
            let r = input.rate();
            chain.set_rate(r);
            continue;
        }
        // Frame sizes up to 4095 samples, filled from the input, then (bit 12) repeated as silence.
        let len = usize::from(head & 0x0FFF);
        let mut pcm: Vec<i16> = Vec::with_capacity(len);
        while pcm.len() < len && input.0.len() >= 2 {
            pcm.push(input.u16() as i16);
        }
        pcm.resize(len, 0);
        let repeats = if head & 0x1000 != 0 { 1 + usize::from(input.byte()) } else { 1 };
        for _ in 0..repeats {
            frames.clear();
            chain.push(&pcm, &mut |e| frames.push(e));
            let elapsed = chain.detector.elapsed_ms();
            for e in frames.drain(..) {
                check(e, elapsed);
            }
        }
    }
    assert_eq!(chain.detector.decision(), decided);
    let _ = chain.rate;
}
