//! A tone run as a few numbers: what the beep model (beep_model.rs) judges whether a tone is the
//! beep that ends a recorded greeting.
//!
//! Each figure is one a listener goes by: how long and how steady the tone is, how it stands
//! against the line's background and the greeting's voice, whether it came out of a pause and
//! how soon after the talk, whether the room behind the call is full of voices (a TV's notes),
//! how it dies away, how pure a tone it is, and how many tones the line carried before it. None
//! is the tone's frequency or its absolute level: beeps are made at any pitch, and lines carry
//! them at any gain.

use crate::detector::forest::feature_position;
use crate::detector::tones::tone::{self, ToneRun};

/// The names of the features, in the order [`features`] gives them. A beep model file names the
/// features it was trained on; it is refused unless they are these.
pub const BEEP_FEATURE_NAMES: [&str; BEEP_FEATURE_COUNT] = [
    "duration_ms",
    "two_tones",
    "over_background_db",
    "under_talker_db",
    "pitch_spread",
    "median_pitch_spread",
    "pitch_drift",
    "pitch_jumpy",
    "sound_before",
    "bridged",
    "background_periodicity",
    "since_talk_ms",
    "spoke_before",
    "words",
    "fall_db",
    "band_share",
    "level_wobble_db",
    "earlier_tones",
];
pub const BEEP_FEATURE_COUNT: usize = 18;

/// Where the features the beep model's hard gates read sit (see beep_model.rs).
pub const PITCH_SPREAD: usize = feature_position(&BEEP_FEATURE_NAMES, "pitch_spread");
pub const MEDIAN_PITCH_SPREAD: usize = feature_position(&BEEP_FEATURE_NAMES, "median_pitch_spread");
pub const PITCH_JUMPY: usize = feature_position(&BEEP_FEATURE_NAMES, "pitch_jumpy");
pub const SPOKE_BEFORE: usize = feature_position(&BEEP_FEATURE_NAMES, "spoke_before");

/// What a tone is measured against when nobody has talked yet (dB under the talker; ms since
/// the talk), and the largest values the features keep: beyond them a tone is as far off as it
/// gets, and a model should not split on how far.
const NO_TALKER_DB: f32 = 60.0;
const NO_TALK_MS: f32 = 10_000.0;
const MOST_SPREAD: f32 = 50.0;

/// The detector's state around one tone run: what [`features`] reads besides the run itself.
#[derive(Debug, Clone, Copy)]
pub struct ToneContext {
    /// The line's background level (dB, as the run's level).
    pub floor_db: f32,
    /// The greeting's voice level, once learnt.
    pub talker_db: Option<f32>,
    /// Blocks of sound among the five before the tone showed.
    pub sound_before: u32,
    /// Whether the tracker carried the run over a gap only a signalling tone is forgiven.
    pub bridged: bool,
    /// How periodic the background heard before the decision is (see voicing.rs), once known.
    pub background_periodicity: Option<f32>,
    /// End of the talk (or softer sound) before the tone, if any was heard.
    pub talk_end_ms: Option<u64>,
    /// Whether speech was heard before the tone started.
    pub spoke_before: bool,
    /// Words heard so far.
    pub words: u32,
    /// Tones of 50 ms or more heard since the answer and ended before this one. The beep is
    /// mostly the first tone of a call, or the second after a first part; music, a television
    /// or an engine behind the call sounds tone after tone, and each may pass for a beep alone.
    pub earlier_tones: u16,
}

/// The features of `run` in `context`, in the order of [`BEEP_FEATURE_NAMES`].
pub fn features(run: &ToneRun, context: &ToneContext) -> [f32; BEEP_FEATURE_COUNT] {
    let tolerance = tone::steady_pitch_tolerance(run);
    let p = &run.pitches;
    let relative = |hz: f32| (hz / tolerance).min(MOST_SPREAD);
    let since_talk = context.talk_end_ms.map_or(NO_TALK_MS, |end| (run.start_ms as f32 - end as f32).clamp(-NO_TALK_MS, NO_TALK_MS));
    [
        run.duration_ms as f32,
        f32::from(u8::from(run.freq2.is_some())),
        run.level_db - context.floor_db,
        context.talker_db.map_or(NO_TALKER_DB, |t| (t - run.level_db).min(NO_TALKER_DB)),
        relative(p.spread_hz()),
        relative(p.median_spread_hz()),
        relative(p.drift_hz()),
        f32::from(u8::from(p.is_jumpy())),
        context.sound_before as f32,
        f32::from(u8::from(context.bridged)),
        context.background_periodicity.unwrap_or(-1.0),
        since_talk,
        f32::from(u8::from(context.spoke_before)),
        context.words as f32,
        run.peak_level_db - run.level_db,
        run.mean_share(),
        run.mean_wobble_db(),
        f32::from(context.earlier_tones),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::tones::tone::PitchRange;

    fn run(pitches: &[f32], level_db: f32, peak_level_db: f32) -> ToneRun {
        let mut range = PitchRange::new(pitches[0]);
        for &p in &pitches[1..] {
            range.add(p);
        }
        ToneRun { start_ms: 3000, duration_ms: 10 * pitches.len() as u64, freq: pitches[0], freq2: None, level_db, peak_level_db, share_sum: 0.9 * pitches.len() as f32, wobble_sum: 0.0, pitches: range }
    }

    fn context() -> ToneContext {
        ToneContext {
            floor_db: 40.0,
            talker_db: Some(70.0),
            sound_before: 1,
            bridged: false,
            background_periodicity: Some(0.2),
            talk_end_ms: Some(2600),
            spoke_before: true,
            words: 4,
            earlier_tones: 0,
        }
    }

    fn named(f: &[f32; BEEP_FEATURE_COUNT], name: &str) -> f32 {
        f[feature_position(&BEEP_FEATURE_NAMES, name)]
    }

    #[test]
    fn the_gates_read_the_features_they_name() {
        assert_eq!(BEEP_FEATURE_NAMES[PITCH_SPREAD], "pitch_spread");
        assert_eq!(BEEP_FEATURE_NAMES[MEDIAN_PITCH_SPREAD], "median_pitch_spread");
        assert_eq!(BEEP_FEATURE_NAMES[PITCH_JUMPY], "pitch_jumpy");
        assert_eq!(BEEP_FEATURE_NAMES[SPOKE_BEFORE], "spoke_before");
    }

    #[test]
    fn a_beep_after_a_greeting_reads_as_such() {
        let f = features(&run(&[1000.0; 12], 64.0, 67.0), &context());
        assert_eq!(named(&f, "duration_ms"), 120.0);
        assert_eq!(named(&f, "over_background_db"), 24.0);
        assert_eq!(named(&f, "under_talker_db"), 6.0);
        assert_eq!(named(&f, "pitch_spread"), 0.0);
        assert_eq!(named(&f, "since_talk_ms"), 400.0);
        assert_eq!(named(&f, "fall_db"), 3.0);
        assert_eq!(named(&f, "words"), 4.0);
    }

    #[test]
    fn pitch_spread_is_relative_to_the_steadiness_allowed_and_bounded() {
        // 1000 Hz: 8 Hz allowed; a 4 Hz spread is half of it.
        let f = features(&run(&[1000.0, 1004.0, 1000.0], 64.0, 64.0), &context());
        assert_eq!(named(&f, "pitch_spread"), 0.5);
        let f = features(&run(&[1000.0, 1900.0, 1000.0], 64.0, 64.0), &context());
        assert_eq!(named(&f, "pitch_spread"), MOST_SPREAD);
    }

    #[test]
    fn with_nobody_heard_yet_the_talk_is_far_away() {
        let c = ToneContext { talker_db: None, talk_end_ms: None, spoke_before: false, words: 0, background_periodicity: None, ..context() };
        let f = features(&run(&[1000.0; 12], 64.0, 64.0), &c);
        assert_eq!(named(&f, "under_talker_db"), NO_TALKER_DB);
        assert_eq!(named(&f, "since_talk_ms"), NO_TALK_MS);
        assert_eq!(named(&f, "background_periodicity"), -1.0);
    }
}
