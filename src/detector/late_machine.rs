//! After a `person` decision (with `detect_late_machine`): a machine that showed itself too late
//! for the decision. "Hello?", a pause of a second or more, then the recorded message and its
//! beep; a short greeting whose beep comes after a pause: waiting for them would keep every live
//! person in dead air, so the decision is taken and the line is still listened to.
//!
//! Only signals count, never speech: once a person is connected they talk to an agent, and the
//! detector hears only their side. A beep is judged by the beep model (beep_model.rs), with the
//! threshold it keeps for this place; a fax tone or SIT as they are before a decision. The watch ends quietly
//! `late_machine_window` after the decision when nothing was heard.

use crate::detector::decision::{Decision, Event, LateKind, LateMachine, Status};
use crate::detector::message_end::{beep_ended_at, beep_of};
use crate::detector::params::Params;
use crate::detector::tones::tone::{ToneRun, ToneUpdate};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// Not asked for, or the decision was not `person`.
    Off,
    Listening { until_ms: u64 },
    /// A late beep was found and is still sounding: its end comes next.
    BeepSounding { beep_start_ms: u64 },
    Done,
}

#[derive(Debug, Clone, Copy)]
pub struct LateWatch {
    phase: Phase,
}

impl LateWatch {
    pub fn off() -> LateWatch {
        LateWatch { phase: Phase::Off }
    }

    /// Starts listening after `decision` when the parameters ask for it and it is not `machine`:
    /// `unsure` is treated as a person too, and its machines are as late.
    pub fn start(params: &Params, decision: &Decision) -> LateWatch {
        if !params.detect_late_machine || decision.status == Status::Machine {
            return LateWatch::off();
        }
        LateWatch { phase: Phase::Listening { until_ms: decision.at_ms + u64::from(params.late_machine_window) } }
    }

    /// True while the detector still has to listen.
    pub fn pending(&self) -> bool {
        matches!(self.phase, Phase::Listening { .. } | Phase::BeepSounding { .. })
    }

    /// Follows one block: `tone` is the tone tracker's news, `signal` a fax or SIT the detector
    /// heard in it, `is_beep` whether a tone is a greeting's beep (the beep model's judgement, with
    /// the threshold it keeps for after a `person` decision, see beep_model.rs).
    pub fn on_block(
        &mut self,
        now: u64,
        tone: Option<ToneUpdate>,
        tone_active: bool,
        signal: Option<LateKind>,
        is_beep: impl Fn(&ToneRun) -> bool,
    ) -> Option<Event> {
        match self.phase {
            Phase::Off | Phase::Done => None,
            Phase::BeepSounding { beep_start_ms } => {
                beep_ended_at(now, tone, tone_active, beep_start_ms).map(|at_ms| {
                    self.phase = Phase::Done;
                    Event::BeepEnd { at_ms }
                })
            }
            Phase::Listening { until_ms } => {
                if let Some(kind) = signal {
                    self.phase = Phase::Done;
                    return Some(Event::LateMachine(LateMachine { kind, at_ms: now, beep: None }));
                }
                if let Some(ToneUpdate::Ongoing(run)) = tone {
                    if is_beep(&run) {
                        self.phase = Phase::BeepSounding { beep_start_ms: run.start_ms };
                        return Some(Event::LateMachine(LateMachine { kind: LateKind::Beep, at_ms: now, beep: Some(beep_of(&run)) }));
                    }
                }
                if now >= until_ms {
                    self.phase = Phase::Done;
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::decision::Cause;
    use crate::detector::tones::tone::PitchRange;

    fn person_at(at_ms: u64) -> Decision {
        Decision { status: Status::Person, cause: Cause::SilentAfterIntro, at_ms }
    }

    fn params(data: &str) -> Params {
        let mut p = Params::default();
        assert!(p.apply_pairs(data).is_empty());
        p
    }

    fn beep(start_ms: u64, duration_ms: u64) -> ToneRun {
        let mut pitches = PitchRange::new(1000.0);
        for _ in 0..duration_ms / 10 {
            pitches.add(1000.0);
        }
        ToneRun { start_ms, duration_ms, freq: 1000.0, freq2: None, level_db: -20.0, peak_level_db: -20.0, share_sum: 1.0, wobble_sum: 0.0, pitches }
    }

    #[test]
    fn only_a_person_decision_asked_for_is_watched() {
        assert!(!LateWatch::start(&params(""), &person_at(2000)).pending());
        let p = params("detect_late_machine=true");
        assert!(LateWatch::start(&p, &person_at(2000)).pending());
        let machine = Decision { status: Status::Machine, cause: Cause::MaxIntro, at_ms: 3000 };
        assert!(!LateWatch::start(&p, &machine).pending());
    }

    #[test]
    fn a_late_beep_is_reported_then_its_end() {
        let mut w = LateWatch::start(&params("detect_late_machine=true"), &person_at(2000));
        assert_eq!(w.on_block(2500, Some(ToneUpdate::Ongoing(beep(2450, 50))), true, None, |r: &ToneRun| r.duration_ms >= 80), None, "not yet");
        match w.on_block(2540, Some(ToneUpdate::Ongoing(beep(2450, 90))), true, None, |r: &ToneRun| r.duration_ms >= 80) {
            Some(Event::LateMachine(LateMachine { kind: LateKind::Beep, at_ms: 2540, beep: Some(b) })) => assert_eq!(b.start_ms, 2450),
            other => panic!("{other:?}"),
        }
        assert_eq!(w.on_block(2700, Some(ToneUpdate::Ended(beep(2450, 240))), false, None, |_| true), Some(Event::BeepEnd { at_ms: 2690 }));
        assert!(!w.pending());
    }

    #[test]
    fn a_tone_that_is_not_a_greetings_beep_is_not_reported() {
        let mut w = LateWatch::start(&params("detect_late_machine=true"), &person_at(2000));
        assert_eq!(w.on_block(2600, Some(ToneUpdate::Ongoing(beep(2450, 150))), true, None, |_| false), None);
        assert!(w.pending());
    }

    #[test]
    fn a_fax_or_sit_is_reported_and_the_window_ends_quietly() {
        let mut w = LateWatch::start(&params("detect_late_machine=true,late_machine_window=1000"), &person_at(2000));
        assert_eq!(
            w.on_block(2800, None, true, Some(LateKind::Fax), |_| true),
            Some(Event::LateMachine(LateMachine { kind: LateKind::Fax, at_ms: 2800, beep: None }))
        );
        assert!(!w.pending());
        let mut w = LateWatch::start(&params("detect_late_machine=true,late_machine_window=1000"), &person_at(2000));
        assert_eq!(w.on_block(2990, None, false, None, |_| true), None);
        assert!(w.pending());
        assert_eq!(w.on_block(3000, None, false, None, |_| true), None);
        assert!(!w.pending(), "over at the window's end, with nothing to say");
    }
}
