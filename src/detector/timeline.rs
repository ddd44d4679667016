//! The call so far as a few numbers: what the learned decision (model.rs) judges a call on.
//!
//! Every figure is one the detector already works out for its own rules (the greeting's start
//! and length, the silence after it, its words, the talker's level over the line's background,
//! how much of it was voiced, how busy the room behind it is), taken at fixed points of the call
//! rather than compared with fixed limits. A model trained on labelled calls then weighs them
//! together, instead of one hand-set threshold per figure.

use crate::detector::forest::feature_position;

/// How often, in ms of audio, the timeline is read while a decision is due.
pub const STEP_MS: u64 = 100;

/// The names of the features, in the order of [`TimelinePoint::features`]. A model file names
/// the features it was trained on; it is refused unless they are these.
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "since_answer_ms",
    "greeting_start_ms",
    "greeting_ms",
    "silence_ms",
    "words",
    "longest_word_ms",
    "talk_segments",
    "sound_share",
    "voiced_share",
    "room_share",
    "talker_over_background_db",
    "now_under_talker_db",
    "recent_sound_share",
    "background_db",
];
pub const FEATURE_COUNT: usize = 14;

/// Where the feature called `name` sits in a point (see forest::feature_position).
pub const fn feature_index(name: &str) -> usize {
    feature_position(&FEATURE_NAMES, name)
}

/// The call's figures at one moment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimelinePoint {
    /// ms of audio from the answer.
    pub at_ms: u64,
    pub features: [f32; FEATURE_COUNT],
}

/// What the timeline counts from block to block; the rest it reads from the detector's state
/// when asked (see [`Moment`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Timeline {
    /// Blocks since the greeting started.
    blocks: u32,
    /// Of them: talk (above the background and in the foreground)...
    sound: u32,
    /// ... talk that was voiced ...
    voiced: u32,
    /// ... and above the background but not taken for talk: the room behind the talker.
    room: u32,
    /// Talk segments started (Start Talking edges).
    segments: u32,
}

/// The detector's own figures at the moment the timeline is read.
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    pub now_ms: u64,
    /// Where silence counts from: the answer, or the end of a ring tone heard after it.
    pub silence_from_ms: u64,
    pub greeting_start_ms: u64,
    pub greeting_ms: u64,
    pub silence_ms: u64,
    pub words: u32,
    pub longest_word_ms: u64,
    /// The talker's level and the line's background, dB of mean |sample|.
    pub talker_db: Option<f32>,
    pub background_db: f32,
    /// The smoothed level of the latest blocks, dB.
    pub envelope_db: f32,
    /// One bit per recent block, newest lowest: was it talk?
    pub sound_history: u32,
}

/// Blocks of the recent-talk share: the last 300 ms.
const RECENT_BLOCKS: u32 = 30;

impl Timeline {
    /// Counts one 10 ms block once the greeting has started.
    pub fn observe(&mut self, sound: bool, voiced: bool, above_background: bool, talk_started: bool) {
        self.blocks += 1;
        self.sound += u32::from(sound);
        self.voiced += u32::from(sound && voiced);
        self.room += u32::from(above_background && !sound);
        self.segments += u32::from(talk_started);
    }

    /// The timeline's figures at `m`.
    pub fn point(&self, m: &Moment) -> TimelinePoint {
        let share = |part: u32, whole: u32| if whole == 0 { 0.0 } else { part as f32 / whole as f32 };
        let talker_over_background = m.talker_db.map_or(0.0, |t| t - m.background_db);
        let now_under_talker = m.talker_db.map_or(0.0, |t| t - m.envelope_db);
        let recent = (m.sound_history & ((1u32 << RECENT_BLOCKS) - 1)).count_ones();
        TimelinePoint {
            at_ms: m.now_ms,
            features: [
                m.now_ms.saturating_sub(m.silence_from_ms) as f32,
                m.greeting_start_ms.saturating_sub(m.silence_from_ms) as f32,
                m.greeting_ms as f32,
                m.silence_ms as f32,
                m.words as f32,
                m.longest_word_ms as f32,
                self.segments as f32,
                share(self.sound, self.blocks),
                share(self.voiced, self.sound),
                share(self.room, self.blocks),
                talker_over_background,
                now_under_talker,
                share(recent, RECENT_BLOCKS),
                m.background_db,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment() -> Moment {
        Moment {
            now_ms: 2500,
            silence_from_ms: 500,
            greeting_start_ms: 900,
            greeting_ms: 1200,
            silence_ms: 400,
            words: 3,
            longest_word_ms: 450,
            talker_db: Some(40.0),
            background_db: 20.0,
            envelope_db: 25.0,
            sound_history: 0b1111,
        }
    }

    #[test]
    fn the_figures_are_in_the_order_their_names_say() {
        let mut t = Timeline::default();
        t.observe(true, true, true, true);
        t.observe(true, false, true, false);
        t.observe(false, false, true, false);
        t.observe(false, false, false, false);
        let p = t.point(&moment());
        let get = |name: &str| p.features[FEATURE_NAMES.iter().position(|n| *n == name).unwrap()];
        assert_eq!(p.at_ms, 2500);
        assert_eq!(get("since_answer_ms"), 2000.0, "counted from the end of the ring");
        assert_eq!(get("greeting_start_ms"), 400.0);
        assert_eq!((get("greeting_ms"), get("silence_ms"), get("words"), get("longest_word_ms")), (1200.0, 400.0, 3.0, 450.0));
        assert_eq!(get("talk_segments"), 1.0);
        assert_eq!((get("sound_share"), get("voiced_share"), get("room_share")), (0.5, 0.5, 0.25));
        assert_eq!((get("talker_over_background_db"), get("now_under_talker_db")), (20.0, 15.0));
        assert_eq!(get("recent_sound_share"), 4.0 / 30.0);
        assert_eq!(get("background_db"), 20.0);
    }

    #[test]
    fn a_feature_is_found_by_its_name() {
        for (i, name) in FEATURE_NAMES.iter().enumerate() {
            assert_eq!(feature_index(name), i);
        }
    }

    #[test]
    fn shares_of_nothing_are_zero() {
        let p = Timeline::default().point(&Moment { talker_db: None, ..moment() });
        assert!(p.features.iter().all(|f| f.is_finite()));
        let get = |name: &str| p.features[FEATURE_NAMES.iter().position(|n| *n == name).unwrap()];
        assert_eq!((get("sound_share"), get("voiced_share"), get("talker_over_background_db")), (0.0, 0.0, 0.0));
    }
}
