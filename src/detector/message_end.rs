//! After a `machine` decision: where the greeting ends, so a message left on the machine starts
//! when it records. A greeting ends with a beep (and recording starts when the beep stops), or,
//! on machines without one, with a long silence; a timeout bounds the wait.

use crate::detector::decision::{Beep, Cause, Decision, Event, MessageEnd, MessageEndKind, Status};
use crate::detector::params::Params;
use crate::detector::tones::tone::{ToneRun, ToneUpdate};

/// Beeps sit in the voice band; tones outside it are line signals, not recording prompts.
const BEEP_LOWEST_HZ: f32 = 300.0;
const BEEP_HIGHEST_HZ: f32 = 2500.0;
/// A "beep" still sounding after this long is a stuck tone: recording will not wait for it.
const LONGEST_BEEP_MS: u64 = 3000;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Not asked for, or not a voicemail (person, unsure, fax, SIT).
    Off,
    Listening,
    /// The beep was found and is still sounding.
    BeepSounding(MessageEnd),
    /// The beep that made the decision had already stopped (a tone near the SIT frequencies is
    /// judged only once it ends): its end is told in the next block.
    BeepEnded { at_ms: u64 },
    Done,
}

/// What the detector heard in one block, as far as the end of a greeting is concerned.
pub struct BlockView {
    pub now: u64,
    pub tone: Option<ToneUpdate>,
    /// A tone is being followed right now.
    pub tone_active: bool,
    /// End of the last sound heard (talk or shorter), if any.
    pub last_activity_ms: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
pub struct MessageEndWatch {
    phase: Phase,
    silence_ms: u64,
    timeout_ms: u64,
}

impl MessageEndWatch {
    pub fn off() -> MessageEndWatch {
        MessageEndWatch { phase: Phase::Off, silence_ms: 0, timeout_ms: 0 }
    }

    /// Starts watching after `decision` when the parameters ask for it and the call is a
    /// voicemail. `beep` is the tone that made the decision, if one did, and whether it is
    /// still sounding; the greeting then ended right there.
    pub fn start(params: &Params, decision: &Decision, beep: Option<(ToneRun, bool)>) -> (MessageEndWatch, Option<Event>) {
        let mut watch = MessageEndWatch {
            phase: Phase::Off,
            silence_ms: u64::from(params.message_end_silence),
            timeout_ms: u64::from(params.message_end_timeout),
        };
        let voicemail = decision.status == Status::Machine && !matches!(decision.cause, Cause::Fax | Cause::Sit);
        if !params.detect_message_end || !voicemail {
            return (watch, None);
        }
        watch.phase = Phase::Listening;
        match beep {
            Some((run, sounding)) => {
                let end = MessageEnd { kind: MessageEndKind::Beep, at_ms: decision.at_ms, beep: Some(beep_of(&run)) };
                watch.phase = if sounding { Phase::BeepSounding(end) } else { Phase::BeepEnded { at_ms: run.end_ms() } };
                (watch, Some(Event::MessageEnd(end)))
            }
            None => (watch, None),
        }
    }

    /// True while the detector still has to listen.
    pub fn pending(&self) -> bool {
        matches!(self.phase, Phase::Listening | Phase::BeepSounding(_) | Phase::BeepEnded { .. })
    }

    /// Follows one block; `is_beep` says whether a tone is the greeting's beep (the beep model's
    /// judgement, see beep_model.rs).
    /// At most one event per block: a beep's end cannot come in the block that found it.
    pub fn on_block(&mut self, view: &BlockView, is_beep: impl Fn(&ToneRun) -> bool) -> Option<Event> {
        match self.phase {
            Phase::Off | Phase::Done => None,
            Phase::BeepEnded { at_ms } => {
                self.phase = Phase::Done;
                Some(Event::BeepEnd { at_ms })
            }
            Phase::BeepSounding(end) => {
                let beep_start = end.beep.map_or(end.at_ms, |b| b.start_ms);
                beep_ended_at(view.now, view.tone, view.tone_active, beep_start).map(|at_ms| {
                    self.phase = Phase::Done;
                    Event::BeepEnd { at_ms }
                })
            }
            Phase::Listening => {
                if let Some(ToneUpdate::Ongoing(run)) = view.tone {
                    if is_beep(&run) {
                        let end = MessageEnd { kind: MessageEndKind::Beep, at_ms: view.now, beep: Some(beep_of(&run)) };
                        self.phase = Phase::BeepSounding(end);
                        return Some(Event::MessageEnd(end));
                    }
                }
                let quiet_for = view.now.saturating_sub(view.last_activity_ms.unwrap_or(0));
                let kind = if quiet_for >= self.silence_ms && !view.tone_active {
                    MessageEndKind::Silence
                } else if view.now >= self.timeout_ms {
                    MessageEndKind::Timeout
                } else {
                    return None;
                };
                self.phase = Phase::Done;
                Some(Event::MessageEnd(MessageEnd { kind, at_ms: view.now, beep: None }))
            }
        }
    }
}

/// When a beep that started at `beep_start_ms` and was sounding has stopped, as of the block
/// ending at `now`: where its run ended, or now if the tracker lost it; or now once it has
/// sounded LONGEST_BEEP_MS (a stuck tone recording will not wait for). None while it sounds.
pub fn beep_ended_at(now: u64, tone: Option<ToneUpdate>, tone_active: bool, beep_start_ms: u64) -> Option<u64> {
    match tone {
        Some(ToneUpdate::Ended(run)) => Some(run.end_ms().min(now)),
        _ if !tone_active => Some(now),
        _ if now >= beep_start_ms + LONGEST_BEEP_MS => Some(now),
        _ => None,
    }
}

/// Whether a tone lies in the band recording prompts' beeps are made in.
pub fn in_beep_band(run: &ToneRun) -> bool {
    let ok = |f: f32| (BEEP_LOWEST_HZ..=BEEP_HIGHEST_HZ).contains(&f);
    ok(run.freq) && run.freq2.is_none_or(ok)
}

pub fn beep_of(run: &ToneRun) -> Beep {
    Beep { start_ms: run.start_ms, freq_hz: run.freq.round() as u32, freq2_hz: run.freq2.map(|f| f.round() as u32) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::tones::tone::PitchRange;

    fn run(start_ms: u64, duration_ms: u64, freq: f32) -> ToneRun {
        ToneRun { start_ms, duration_ms, freq, freq2: None, level_db: -20.0, peak_level_db: -20.0, share_sum: 1.0, wobble_sum: 0.0, pitches: PitchRange::new(freq) }
    }

    fn machine(at_ms: u64, cause: Cause) -> Decision {
        Decision { status: Status::Machine, cause, at_ms }
    }

    fn on() -> Params {
        Params { detect_message_end: true, message_end_silence: 1000, message_end_timeout: 10_000, ..Params::default() }
    }

    fn view(now: u64, tone: Option<ToneUpdate>, last_activity_ms: u64) -> BlockView {
        BlockView { now, tone, tone_active: matches!(tone, Some(ToneUpdate::Ongoing(_))), last_activity_ms: Some(last_activity_ms) }
    }

    #[test]
    fn off_unless_asked_and_only_for_voicemail() {
        let (w, e) = MessageEndWatch::start(&Params::default(), &machine(3000, Cause::MaxIntro), None);
        assert!(!w.pending() && e.is_none());
        for d in [machine(1000, Cause::Fax), machine(1000, Cause::Sit), Decision { status: Status::Person, cause: Cause::SilentAfterIntro, at_ms: 2000 }] {
            assert!(!MessageEndWatch::start(&on(), &d, None).0.pending(), "{d:?}");
        }
    }

    /// The judge as the detector's beep model acts here: a tone counts once it is long enough.
    fn judged_long_enough(run: &ToneRun) -> bool {
        run.duration_ms >= 80
    }

    #[test]
    fn a_beep_ends_the_greeting_and_its_end_follows() {
        let (mut w, e) = MessageEndWatch::start(&on(), &machine(3000, Cause::MaxIntro), None);
        assert!(w.pending() && e.is_none());
        assert_eq!(w.on_block(&view(3500, Some(ToneUpdate::Ongoing(run(3440, 60, 1000.0))), 3400), judged_long_enough), None, "not yet");
        let e = w.on_block(&view(3530, Some(ToneUpdate::Ongoing(run(3440, 80, 1000.0))), 3400), judged_long_enough);
        let expected = MessageEnd { kind: MessageEndKind::Beep, at_ms: 3530, beep: Some(Beep { start_ms: 3440, freq_hz: 1000, freq2_hz: None }) };
        assert_eq!(e, Some(Event::MessageEnd(expected)));
        assert!(w.pending(), "still waiting for the beep to stop");
        let e = w.on_block(&view(3990, Some(ToneUpdate::Ended(run(3440, 500, 1000.0))), 3400), judged_long_enough);
        assert_eq!(e, Some(Event::BeepEnd { at_ms: 3940 }));
        assert!(!w.pending());
    }

    #[test]
    fn a_tone_the_judge_refuses_is_not_the_beep_and_the_band_is_the_voices() {
        let (mut w, _) = MessageEndWatch::start(&on(), &machine(3000, Cause::MaxIntro), None);
        assert_eq!(w.on_block(&view(3610, Some(ToneUpdate::Ongoing(run(3400, 210, 1000.0))), 3400), |_| false), None);
        assert!(w.pending());
        assert!(in_beep_band(&run(3400, 200, 1000.0)) && in_beep_band(&run(3400, 200, 440.0)));
        assert!(!in_beep_band(&run(3400, 200, 2900.0)) && !in_beep_band(&run(3400, 200, 200.0)));
    }

    #[test]
    fn silence_then_timeout() {
        let (mut w, _) = MessageEndWatch::start(&on(), &machine(3000, Cause::MaxCount), None);
        assert_eq!(w.on_block(&view(3990, None, 3000), |_| true), None);
        let e = w.on_block(&view(4000, None, 3000), |_| true);
        assert_eq!(e, Some(Event::MessageEnd(MessageEnd { kind: MessageEndKind::Silence, at_ms: 4000, beep: None })));
        let (mut w, _) = MessageEndWatch::start(&on(), &machine(3000, Cause::MaxCount), None);
        let e = w.on_block(&view(10_000, None, 9_950), |_| true);
        assert_eq!(e, Some(Event::MessageEnd(MessageEnd { kind: MessageEndKind::Timeout, at_ms: 10_000, beep: None })));
    }

    #[test]
    fn a_deciding_beep_is_the_message_end_at_once() {
        let (mut w, e) = MessageEndWatch::start(&on(), &machine(3200, Cause::Beep), Some((run(3100, 100, 1400.0), true)));
        assert!(matches!(e, Some(Event::MessageEnd(MessageEnd { kind: MessageEndKind::Beep, at_ms: 3200, .. }))));
        assert_eq!(w.on_block(&view(3210, Some(ToneUpdate::Ongoing(run(3100, 110, 1400.0))), 3000), |_| true), None);
        // A stuck tone is let go after LONGEST_BEEP_MS.
        assert_eq!(w.on_block(&view(6100, Some(ToneUpdate::Ongoing(run(3100, 3000, 1400.0))), 3000), |_| true), Some(Event::BeepEnd { at_ms: 6100 }));
    }
}
