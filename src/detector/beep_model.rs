//! The learned beep: gradient-boosted decision trees over a tone run's features
//! (beep_features.rs), giving the probability that the tone is the beep that ends a recorded
//! greeting. The detector asks it of every tone in the beep band while the tone lasts; the
//! policy says from which probability it counts, in each of the three places a beep is looked
//! for: before the decision (a beep decides `machine`), after `machine` (the greeting's end) and
//! after `person` (a machine showing itself late).
//!
//! A model is a JSON file (`amd train-beep` writes one); one trained on generated calls is built
//! in. Reading one is parsing text only.

use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

use crate::detector::beep_features::{BEEP_FEATURE_COUNT, BEEP_FEATURE_NAMES, MEDIAN_PITCH_SPREAD, PITCH_JUMPY, PITCH_SPREAD, SPOKE_BEFORE};
use crate::detector::forest::{sigmoid, ModelKind, TreeModel};
use crate::detector::model::DecisionModel;

/// The first line of defence against a file that is not a beep model of ours.
pub const BEEP_MODEL_FORMAT: &str = "mod_rust_amd beep model 1";

/// The model built into the module, trained by `amd train-beep` on generated calls
/// (docs/reference.md, "The learned beep", says how to make it again).
const BUILTIN: &str = include_str!("default_beep_model.json");

/// Where in the call a tone is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeepContext {
    /// No decision yet: a beep decides `machine`.
    BeforeDecision,
    /// After `machine`: the beep ends the greeting.
    AfterMachine,
    /// After `person` or `unsure`: a beep reports a late machine.
    AfterPerson,
}

/// From which probability a tone counts as the beep, in each context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BeepPolicy {
    pub before_decision_at: f32,
    pub after_machine_at: f32,
    pub after_person_at: f32,
}

impl BeepPolicy {
    pub fn threshold(&self, context: BeepContext) -> f32 {
        match context {
            BeepContext::BeforeDecision => self.before_decision_at,
            BeepContext::AfterMachine => self.after_machine_at,
            BeepContext::AfterPerson => self.after_person_at,
        }
    }
}

/// What no model may overrule, because the generated calls it learns from cannot show it.
/// Before a decision a beep follows somebody's speech: a ring tone still on the line, or a SIT,
/// comes before any. And a beep is a generated tone: it holds its pitch within the tolerance a
/// steady tone is allowed (tone.rs); a sung or drawn-out vowel, a note with vibrato, glides.
/// A tone may stray beyond it as noise makes a tone's measured pitch jump, a block off and
/// straight back, which the running median of three pitches does not follow. (A fax's V.21
/// signal jumps just so, but nobody speaks before it.) Replayed on the built-in model's policy
/// calls, forgiving the jumps before the decision as well finds 9 more of their 2,418 beeps and
/// calls none of their people machines; the gates cost 7 beeps the model alone would find.
pub fn may_be_beep(features: &[f32; BEEP_FEATURE_COUNT], context: BeepContext) -> bool {
    let steady = features[PITCH_SPREAD] <= 1.0 || (features[PITCH_JUMPY] >= 1.0 && features[MEDIAN_PITCH_SPREAD] <= 1.0);
    match context {
        BeepContext::BeforeDecision => features[SPOKE_BEFORE] >= 1.0 && steady,
        BeepContext::AfterMachine | BeepContext::AfterPerson => steady,
    }
}

/// The beep model's kind: a tone run's features, a threshold for each place.
#[derive(Debug, Clone, PartialEq)]
pub struct BeepTrees;

impl ModelKind for BeepTrees {
    const NAME: &'static str = "beep model";
    const FORMAT: &'static str = BEEP_MODEL_FORMAT;
    const FEATURES: &'static [&'static str] = &BEEP_FEATURE_NAMES;
    type Policy = BeepPolicy;

    fn check_policy(p: &BeepPolicy) -> Result<(), String> {
        for (name, at) in [("before_decision_at", p.before_decision_at), ("after_machine_at", p.after_machine_at), ("after_person_at", p.after_person_at)] {
            if !(0.0..=1.0).contains(&at) {
                return Err(format!("policy: {name} is {at}, it must be from 0 to 1"));
            }
        }
        Ok(())
    }
}

/// The learned beep's model: trees over a tone run's features giving the log-odds of a beep.
pub type BeepModel = TreeModel<BeepTrees>;

/// The two learned models a detector decides with: the built-in ones unless an operator trained
/// their own (`decision_model`, `beep_model` in amd.conf.xml).
#[derive(Debug, Clone, PartialEq)]
pub struct Models {
    pub decision: Arc<DecisionModel>,
    pub beep: Arc<BeepModel>,
}

impl Models {
    pub fn builtin() -> Models {
        Models { decision: DecisionModel::builtin(), beep: BeepModel::builtin() }
    }
}

impl TreeModel<BeepTrees> {
    /// The built-in model, parsed once.
    pub fn builtin() -> Arc<BeepModel> {
        static MODEL: OnceLock<Arc<BeepModel>> = OnceLock::new();
        MODEL.get_or_init(|| Arc::new(BeepModel::from_json(BUILTIN).expect("the built-in beep model is checked by its tests"))).clone()
    }

    /// The probability that a tone with these features is a greeting's beep.
    pub fn probability(&self, features: &[f32; BEEP_FEATURE_COUNT]) -> f32 {
        sigmoid(self.log_odds(features))
    }

    /// Whether a tone with these features counts as the beep in `context`: it passes the gates
    /// ([`may_be_beep`]) and the model is sure enough.
    pub fn is_beep(&self, features: &[f32; BEEP_FEATURE_COUNT], context: BeepContext) -> bool {
        may_be_beep(features, context) && self.probability(features) >= self.policy.threshold(context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::beep_features::{self, ToneContext};
    use crate::detector::forest::{feature_position, Node};
    use crate::detector::tones::tone::{PitchRange, ToneRun};

    fn tiny() -> BeepModel {
        let duration = feature_position(&BEEP_FEATURE_NAMES, "duration_ms");
        let trees = vec![vec![
            Node::Split { feature: duration, threshold: 100.0, left: 1, right: 2 },
            Node::Leaf { value: -2.0 },
            Node::Leaf { value: 2.0 },
        ]];
        let policy = BeepPolicy { before_decision_at: 0.95, after_machine_at: 0.5, after_person_at: 0.8 };
        BeepModel::new(0.0, trees, policy, serde_json::Value::Null).unwrap()
    }

    #[test]
    fn each_context_has_its_threshold() {
        let m = tiny();
        let mut f = [0.0; BEEP_FEATURE_COUNT];
        f[0] = 150.0; // p = 0.88
        assert!(m.is_beep(&f, BeepContext::AfterMachine));
        assert!(m.is_beep(&f, BeepContext::AfterPerson));
        assert!(!m.is_beep(&f, BeepContext::BeforeDecision));
        f[0] = 50.0;
        assert!(!m.is_beep(&f, BeepContext::AfterMachine));
    }

    #[test]
    fn a_model_round_trips_through_json() {
        let m = tiny();
        assert_eq!(BeepModel::from_json(&m.to_json()).unwrap(), m);
    }

    #[test]
    fn malformed_models_are_refused_with_the_reason() {
        let refused = |edit: &dyn Fn(&mut BeepModel), needle: &str| {
            let mut m = tiny();
            edit(&mut m);
            let e = BeepModel::from_json(&m.to_json()).unwrap_err();
            assert!(e.contains(needle), "{e}");
        };
        refused(&|m| m.format = crate::detector::model::FORMAT.into(), "format");
        refused(&|m| m.features.swap(0, 1), "features");
        refused(&|m| m.trees[0][0] = Node::Split { feature: BEEP_FEATURE_COUNT, threshold: 1.0, left: 1, right: 2 }, "malformed");
        refused(&|m| m.policy.after_person_at = -0.1, "after_person_at");
        assert!(BeepModel::from_json("{").unwrap_err().contains("not a beep model"));
    }

    /// The features of a tone after a greeting whose pitch, block by block, was `pitches`.
    fn tone_with_pitches(pitches: &[f32]) -> [f32; BEEP_FEATURE_COUNT] {
        let mut range = PitchRange::new(pitches[0]);
        pitches[1..].iter().for_each(|&f| range.add(f));
        let freq = pitches.iter().sum::<f32>() / pitches.len() as f32;
        let run = ToneRun {
            start_ms: 3000,
            duration_ms: 10 * pitches.len() as u64,
            freq,
            freq2: None,
            level_db: 60.0,
            peak_level_db: 60.0,
            share_sum: pitches.len() as f32,
            wobble_sum: 0.0,
            pitches: range,
        };
        let context = ToneContext {
            floor_db: 30.0,
            talker_db: Some(62.0),
            sound_before: 0,
            bridged: false,
            background_periodicity: Some(0.2),
            talk_end_ms: Some(2700),
            spoke_before: true,
            words: 5,
            earlier_tones: 0,
        };
        beep_features::features(&run, &context)
    }

    #[test]
    fn a_low_tone_may_wander_less_in_hz_than_a_high_one() {
        // 7.5 Hz of smooth wander: at 1000 Hz within the 8 Hz cap; at 500 Hz 1.5% of the pitch,
        // as a low vowel or nasal held by a voice moves.
        let wander = [0.0, 3.0, 6.0, 7.5, 5.0, 2.0];
        let at = |base: f32| tone_with_pitches(&wander.map(|w| base + w));
        assert!(may_be_beep(&at(1000.0), BeepContext::AfterMachine));
        assert!(!may_be_beep(&at(500.0), BeepContext::AfterMachine));
        assert!(may_be_beep(&tone_with_pitches(&[500.0, 502.0, 504.0, 506.5, 505.0, 503.0]), BeepContext::AfterMachine), "1.3% of 500 Hz");
    }

    #[test]
    fn a_beep_jumping_a_few_hz_in_noise_still_holds_its_pitch() {
        // 850 Hz: 8 Hz of tolerance. An 850 Hz beep's pitches behind five talkers and GSM.
        let jumpy = [845.8, 851.3, 854.1, 842.3, 853.3, 849.5, 848.5, 850.1];
        assert!(may_be_beep(&tone_with_pitches(&jumpy), BeepContext::AfterMachine));
        let held_off = tone_with_pitches(&[850.0, 849.0, 859.0, 860.0, 851.0, 850.0, 849.0, 850.0]);
        assert!(!may_be_beep(&held_off, BeepContext::AfterMachine), "a pitch held off for two blocks is no jump");
    }

    #[test]
    fn a_gliding_vowel_and_a_vibrato_do_not_hold_their_pitch() {
        // A voice's harmonic at 445 Hz (6.2 Hz of tolerance) rising 10 Hz over 90 ms, then
        // levelling off with a little roughness.
        let glide = [441.5, 444.6, 446.1, 448.1, 449.0, 449.3, 451.4, 449.7, 449.4, 451.5];
        assert!(!may_be_beep(&tone_with_pitches(&glide), BeepContext::AfterMachine));
        // 440 Hz wavering by 9 Hz five times a second, sampled every 10 ms for 120 ms.
        let vibrato: Vec<f32> = (0..12).map(|i| 440.0 + 9.0 * (std::f32::consts::TAU * 5.0 * i as f32 / 100.0).sin()).collect();
        assert!(!may_be_beep(&tone_with_pitches(&vibrato), BeepContext::AfterMachine));
        assert!(may_be_beep(&tone_with_pitches(&[445.0; 4]), BeepContext::AfterMachine), "a held pitch holds from the start");
    }

    #[test]
    fn before_a_decision_only_a_steady_tone_after_speech_may_be_the_beep() {
        let mut f = tone_with_pitches(&[1000.0; 10]);
        assert!(may_be_beep(&f, BeepContext::BeforeDecision));
        f[SPOKE_BEFORE] = 0.0;
        assert!(!may_be_beep(&f, BeepContext::BeforeDecision));
        assert!(may_be_beep(&f, BeepContext::AfterPerson));
        // Pitches that jump as noise makes them, after speech: as steady there as after it.
        let mut jumpy = tone_with_pitches(&[845.8, 851.3, 854.1, 842.3, 853.3, 849.5, 848.5, 850.1]);
        assert!(may_be_beep(&jumpy, BeepContext::BeforeDecision));
        // The same jumps with nobody heard before them (a fax's V.21 signal jumps so): not yet.
        jumpy[SPOKE_BEFORE] = 0.0;
        assert!(!may_be_beep(&jumpy, BeepContext::BeforeDecision));
        // A glide is no beep before the decision either.
        let glide = tone_with_pitches(&[1000.0, 1006.0, 1012.0, 1018.0, 1024.0, 1030.0]);
        assert!(!may_be_beep(&glide, BeepContext::BeforeDecision));
    }

    /// What any model worth building in must have learnt from the calls: a tone that stands out
    /// of a pause after the greeting is more likely the beep than the same tone rising straight
    /// out of the talk, far under the voice, lost in the background, or one of many tones the
    /// line has carried.
    #[test]
    fn the_builtin_model_weighs_the_evidence_the_right_way() {
        let m = BeepModel::builtin();
        let beep = tone_with_pitches(&[1000.0; 12]);
        let p = m.probability(&beep);
        assert!(p >= m.policy.after_machine_at, "a clear beep after a greeting: {p}");
        let with = |name: &str, value: f32| {
            let mut f = beep;
            f[feature_position(&BEEP_FEATURE_NAMES, name)] = value;
            m.probability(&f)
        };
        assert!(with("sound_before", 5.0) < p, "out of the talk");
        assert!(with("under_talker_db", 30.0) < p, "far under the voice");
        assert!(with("over_background_db", 2.0) < p, "lost in the background");
        assert!(with("earlier_tones", 8.0) < p, "one tone of many");
    }

    #[test]
    fn the_builtin_model_loads() {
        let m = BeepModel::builtin();
        assert!(!m.trees.is_empty());
    }
}
