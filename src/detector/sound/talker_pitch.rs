//! The pitch of the voice at the phone, learnt from the blocks taken for its talk.
//!
//! Behind a greeting, other voices (a busy office, a TV, AGC pumping up the room) can fill its
//! pauses until it swings no more than they do, and it stops passing for foreground talk. Its
//! pitch still tells it apart: one talker keeps to their own pitch range, and a mix of other
//! voices sits at that pitch only now and then, not for a whole vowel.

use crate::detector::sound::voicing::{MAX_LAG, MIN_LAG};

const LAGS: usize = MAX_LAG - MIN_LAG + 1;
/// Voiced blocks of talk needed before the talker's pitch is known.
const LEARN_BLOCKS: u32 = 5;
/// How far a pitch period may be from the talker's typical one and still be theirs: a
/// speaker's pitch moves a few percent within a phrase.
const SAME_PITCH: f32 = 0.12;

#[derive(Debug, Clone)]
pub struct TalkerPitch {
    /// How often each pitch period was heard in the talker's voiced blocks.
    histogram: [u16; LAGS],
}

impl Default for TalkerPitch {
    fn default() -> Self {
        TalkerPitch { histogram: [0; LAGS] }
    }
}

impl TalkerPitch {
    /// Takes the pitch period (see `Voicing::pitch_lag`) of a voiced block of the talker's talk.
    pub fn learn(&mut self, lag: usize) {
        if let Some(count) = lag.checked_sub(MIN_LAG).and_then(|i| self.histogram.get_mut(i)) {
            *count = count.saturating_add(1);
        }
    }

    /// Whether a voiced block with this pitch period sounds at the talker's pitch, or an octave
    /// off it (where a pitch estimate slips most often).
    pub fn is_talkers(&self, lag: usize) -> bool {
        let Some(typical) = self.typical_lag() else {
            return false;
        };
        let lag = lag as f32;
        [typical, typical * 2.0, typical / 2.0].iter().any(|&t| (lag - t).abs() <= SAME_PITCH * t)
    }

    /// The median pitch period heard, once enough was heard.
    fn typical_lag(&self) -> Option<f32> {
        let blocks: u32 = self.histogram.iter().map(|&c| u32::from(c)).sum();
        if blocks < LEARN_BLOCKS {
            return None;
        }
        let mut seen = 0;
        for (i, &count) in self.histogram.iter().enumerate() {
            seen += u32::from(count);
            if 2 * seen >= blocks {
                return Some((MIN_LAG + i) as f32);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_the_talkers_until_enough_was_heard() {
        let mut p = TalkerPitch::default();
        for _ in 0..LEARN_BLOCKS - 1 {
            p.learn(16);
        }
        assert!(!p.is_talkers(16));
        p.learn(16);
        assert!(p.is_talkers(16));
    }

    #[test]
    fn the_talkers_pitch_is_their_typical_one_give_or_take_a_few_percent_and_octave_slips() {
        let mut p = TalkerPitch::default();
        // A 125 Hz voice (period 16 at 2 kHz), a few blocks of it misread.
        for lag in [16, 16, 15, 17, 16, 16, 30, 8, 16, 17] {
            p.learn(lag);
        }
        for lag in [15, 16, 17, 8, 30, 32] {
            assert!(p.is_talkers(lag), "lag {lag}");
        }
        // Another voice: 200 Hz (10), 95 Hz (21), 160 Hz (12).
        for lag in [10, 12, 21, 24, 5] {
            assert!(!p.is_talkers(lag), "lag {lag}");
        }
    }

    #[test]
    fn periods_outside_the_pitch_range_are_not_learnt() {
        let mut p = TalkerPitch::default();
        for lag in [0, 1, MIN_LAG - 1, MAX_LAG + 1, 400] {
            for _ in 0..LEARN_BLOCKS {
                p.learn(lag);
            }
        }
        assert!(!p.is_talkers(MIN_LAG));
        assert!(!p.is_talkers(MAX_LAG));
    }
}
