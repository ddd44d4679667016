//! Tracks the line's background level, so that hiss, hum residue, car noise or a TV that
//! sits above a fixed threshold is not taken for somebody talking.
//!
//! Minimum statistics: the background is the lowest the smoothed level has been over the
//! last second. Talk always has gaps within a second (between words, for breath), a line's
//! noise does not go away, so the minimum follows the noise and not the talk.

/// Level in dB of mean |sample| (0 dB = 1).
pub fn level_db(level: f32) -> f32 {
    20.0 * level.max(1.0).log10()
}

/// Blocks quieter than this are digital silence. A few of them are a lost packet and say
/// nothing about the background; a long run of them (comfort noise switched off, a line with
/// no noise at all) is the background.
pub const DIGITAL_SILENCE: f32 = 2.0;
const DIGITAL_SILENCE_BLOCKS: u32 = 10;
/// A lost packet's edges: the block where the line drops into digital silence, and the one where
/// it comes back, hold part of the packet before or after and part of the gap, and measure far
/// under the line's background without being any of it. A block this many dB under the floor
/// next to digital silence is such an edge, and says nothing about the background either.
const EDGE_UNDER_FLOOR_DB: f32 = 6.0;
/// Smoothing of the block level before taking minima (share of the gap closed per block).
const SMOOTHING: f32 = 0.3;
/// The window is SUBWINDOWS sub-windows of SUBWINDOW_BLOCKS blocks each.
const SUBWINDOWS: usize = 4;
const SUBWINDOW_BLOCKS: u32 = 25;
/// Blocks at the very start of a call that say nothing about its background: the far end's
/// decoder starting up (an AMR decoder puts out near silence for its first frame) and the
/// answer's transition. Taken as the floor, such a block holds it far under the line's noise for
/// a whole window, and every rustle of that noise then passes for a word.
const START_UP_BLOCKS: u32 = 2;

/// Media that starts late: a line digitally silent from the answer until the far end's first
/// packet. The first sound is then either the line's background (and the silence before it was no
/// background at all) or, on a clean line, the far end's first word, and only time tells them
/// apart: a background goes on at its level, a word (or a burst of noise standing in for one)
/// stops or swings within a syllable or two. So the floor goes on as if the silence were the
/// background, and a first word is heard at once; once the first sound has held its level for
/// LATE_MEDIA_STEADY_BLOCKS, it is learnt as the background, and the detector forgets what it
/// took for talk in it.
const LATE_MEDIA_STEADY_BLOCKS: u32 = 70;
/// How far the first sound's smoothed level may move and still be one steady background (dB):
/// a line's noise moves a few dB from block to block, talk drops by tens between syllables.
const LATE_MEDIA_STEADY_DB: f32 = 6.0;
/// Blocks at the start of the first sound left out of its range: the packet's edge, and the
/// smoothing settling on the level.
const LATE_MEDIA_SETTLE_BLOCKS: u32 = 3;

/// How far the line's media has got, as the floor sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Media {
    /// Nothing but digital silence since the answer.
    NotYet,
    /// A first sound after DIGITAL_SILENCE_BLOCKS or more of digital silence from the answer:
    /// its blocks so far, its smoothed level and the range that level has kept since it settled.
    FirstSound { blocks: u32, smoothed_db: f32, low_db: f32, high_db: f32 },
    /// The line's sound is understood: media from the answer, a first word, or a background learnt.
    Known,
}

#[derive(Debug, Clone)]
pub struct NoiseFloor {
    smoothed_db: Option<f32>,
    /// Minimum of each finished sub-window, newest last.
    minima: [f32; SUBWINDOWS],
    filled: usize,
    current_min: f32,
    current_blocks: u32,
    digital_silence_run: u32,
    /// The last block, held back while it stood EDGE_UNDER_FLOOR_DB under the floor: if digital
    /// silence follows, it was a lost packet's leading edge.
    held_back: Option<f32>,
    /// Blocks of the start-up still to pass over.
    start_up: u32,
    media: Media,
}

impl Default for NoiseFloor {
    fn default() -> Self {
        NoiseFloor {
            smoothed_db: None,
            minima: [f32::INFINITY; SUBWINDOWS],
            filled: 0,
            current_min: f32::INFINITY,
            current_blocks: 0,
            digital_silence_run: 0,
            held_back: None,
            start_up: START_UP_BLOCKS,
            media: Media::NotYet,
        }
    }
}

impl NoiseFloor {
    /// The current floor in dB (0 before the first block).
    pub fn db(&self) -> f32 {
        let windowed = self.minima[SUBWINDOWS - self.filled..].iter().fold(self.current_min, |a, &b| a.min(b));
        if windowed.is_finite() {
            windowed
        } else {
            0.0
        }
    }

    /// Whether the floor has heard enough of the line to say what its background is.
    pub fn is_settled(&self) -> bool {
        self.filled > 0 || self.current_blocks >= SUBWINDOW_BLOCKS / 2
    }

    /// Learns one block's level. True when the line's first sound, after digital silence from the
    /// answer, has just turned out to be its background (see LATE_MEDIA_STEADY_BLOCKS): the floor
    /// starts again from it, and what was taken for sound since it began was none.
    pub fn update(&mut self, level: f32) -> bool {
        let background_began = self.first_sound_is_background(level);
        if background_began {
            *self = NoiseFloor { media: Media::Known, start_up: 0, ..NoiseFloor::default() };
        }
        self.learn_block(level);
        background_began
    }

    /// Follows the line's first sound after digital silence from the answer; true on the block
    /// where it has held its level long enough to be the background.
    fn first_sound_is_background(&mut self, level: f32) -> bool {
        let silent = level < DIGITAL_SILENCE;
        match self.media {
            Media::NotYet if !silent => {
                self.media = if self.digital_silence_run >= DIGITAL_SILENCE_BLOCKS {
                    Media::FirstSound { blocks: 1, smoothed_db: level_db(level), low_db: f32::INFINITY, high_db: f32::NEG_INFINITY }
                } else {
                    Media::Known
                };
                false
            }
            // A lost packet or two is no end of the sound, and its edges say nothing of it; a
            // long silence is.
            Media::FirstSound { .. } if silent || self.digital_silence_run > 0 => {
                if self.digital_silence_run + u32::from(silent) >= DIGITAL_SILENCE_BLOCKS {
                    self.media = Media::Known;
                }
                false
            }
            Media::FirstSound { blocks, smoothed_db, low_db, high_db } => {
                let smoothed_db = smoothed_db + (level_db(level) - smoothed_db) * SMOOTHING;
                let (low_db, high_db) = if blocks >= LATE_MEDIA_SETTLE_BLOCKS { (low_db.min(smoothed_db), high_db.max(smoothed_db)) } else { (low_db, high_db) };
                let blocks = blocks + 1;
                self.media = if high_db - low_db > LATE_MEDIA_STEADY_DB {
                    Media::Known
                } else if blocks >= LATE_MEDIA_STEADY_BLOCKS {
                    return true;
                } else {
                    Media::FirstSound { blocks, smoothed_db, low_db, high_db }
                };
                false
            }
            _ => false,
        }
    }

    fn learn_block(&mut self, level: f32) {
        if level < DIGITAL_SILENCE {
            self.held_back = None;
            self.digital_silence_run += 1;
            if self.digital_silence_run < DIGITAL_SILENCE_BLOCKS {
                return;
            }
            self.learn(level);
            return;
        }
        let after_gap = self.digital_silence_run > 0;
        self.digital_silence_run = 0;
        let under = self.is_settled() && level_db(level) < self.db() - EDGE_UNDER_FLOOR_DB;
        if under && after_gap {
            return;
        }
        if let Some(held) = self.held_back.take() {
            self.learn(held);
        }
        if under {
            self.held_back = Some(level);
            return;
        }
        self.learn(level);
    }

    fn learn(&mut self, level: f32) {
        if self.start_up > 0 {
            self.start_up -= 1;
            return;
        }
        let db = level_db(level);
        let s = self.smoothed_db.get_or_insert(db);
        *s += (db - *s) * SMOOTHING;
        self.current_min = self.current_min.min(*s);
        self.current_blocks += 1;
        if self.current_blocks == SUBWINDOW_BLOCKS {
            self.minima.rotate_left(1);
            self.minima[SUBWINDOWS - 1] = self.current_min;
            self.filled = (self.filled + 1).min(SUBWINDOWS);
            self.current_min = f32::INFINITY;
            self.current_blocks = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(nf: &mut NoiseFloor, level: f32, blocks: usize) {
        for _ in 0..blocks {
            nf.update(level);
        }
    }

    fn assert_floor_at(nf: &NoiseFloor, level: f32) {
        assert!((nf.db() - level_db(level)).abs() < 0.5, "floor {} against {}", nf.db(), level_db(level));
    }

    #[test]
    fn settles_on_steady_noise_quickly() {
        let mut nf = NoiseFloor::default();
        feed(&mut nf, 400.0, 10);
        assert_floor_at(&nf, 400.0);
    }

    #[test]
    fn a_quiet_start_up_block_is_not_the_background() {
        let mut nf = NoiseFloor::default();
        nf.update(30.0);
        feed(&mut nf, 400.0, 50);
        assert_floor_at(&nf, 400.0);
    }

    #[test]
    fn follows_the_pauses_not_the_talk() {
        let mut nf = NoiseFloor::default();
        for i in 0..300 {
            // Words of 300 ms at 2000 with 60 ms gaps at the noise level 30.
            nf.update(if i % 36 < 30 { 2000.0 } else { 30.0 });
        }
        assert!(nf.db() < level_db(30.0) + 6.0, "floor {}", nf.db());
    }

    #[test]
    fn a_lost_packets_edges_are_not_the_background() {
        let mut nf = NoiseFloor::default();
        feed(&mut nf, 400.0, 200);
        for _ in 0..5 {
            // The block going into the gap, two of digital silence, the block coming out of it.
            for level in [60.0, 0.0, 0.0, 40.0] {
                nf.update(level);
            }
            feed(&mut nf, 400.0, 20);
        }
        assert_floor_at(&nf, 400.0);
    }

    #[test]
    fn a_quieter_background_that_stays_is_learnt() {
        let mut nf = NoiseFloor::default();
        feed(&mut nf, 400.0, 200);
        feed(&mut nf, 40.0, 130);
        assert_floor_at(&nf, 40.0);
    }

    /// Feeds blocks, and says at which of them (from 0) the floor found the first sound to be the
    /// line's background.
    fn background_found_at(nf: &mut NoiseFloor, levels: impl IntoIterator<Item = f32>) -> Vec<usize> {
        levels.into_iter().enumerate().filter_map(|(i, level)| nf.update(level).then_some(i)).collect()
    }

    #[test]
    fn a_steady_first_sound_after_digital_silence_from_the_answer_is_the_background() {
        let mut nf = NoiseFloor::default();
        assert!(background_found_at(&mut nf, std::iter::repeat_n(0.0, 60)).is_empty());
        // Noise whose blocks move by 1-2 dB, as a line's hiss does.
        let noise = (0..200).map(|i| if i % 3 == 0 { 300.0 } else { 360.0 });
        assert_eq!(background_found_at(&mut nf, noise), vec![LATE_MEDIA_STEADY_BLOCKS as usize - 1]);
        assert!(nf.db() > level_db(300.0) - 1.0 && nf.db() < level_db(360.0), "floor {}", nf.db());
    }

    #[test]
    fn a_first_word_after_digital_silence_stays_a_word() {
        // A burst that stops before the background would have been learnt, then the clean line.
        let mut nf = NoiseFloor::default();
        let call = std::iter::repeat_n(0.0, 60).chain(std::iter::repeat_n(2000.0, 60)).chain(std::iter::repeat_n(0.0, 100)).chain(std::iter::repeat_n(2000.0, 100));
        assert!(background_found_at(&mut nf, call).is_empty());
        // Syllables: the level drops by tens of dB between them.
        let mut nf = NoiseFloor::default();
        let syllables = std::iter::repeat_n(0.0, 60).chain((0..300).map(|i| if i % 25 < 18 { 2000.0 } else { 60.0 }));
        assert!(background_found_at(&mut nf, syllables).is_empty());
        assert!(nf.db() < level_db(60.0) + 6.0, "floor {}", nf.db());
    }

    #[test]
    fn a_lost_packet_in_the_first_sound_does_not_end_it() {
        let mut nf = NoiseFloor::default();
        let noise = |n: usize| std::iter::repeat_n(300.0, n);
        let call = std::iter::repeat_n(0.0, 60).chain(noise(30)).chain([0.0, 0.0, 40.0]).chain(noise(100));
        assert_eq!(background_found_at(&mut nf, call).len(), 1);
        assert_floor_at(&nf, 300.0);
    }

    #[test]
    fn a_line_with_sound_from_the_answer_is_not_watched_for_late_media() {
        let mut nf = NoiseFloor::default();
        assert!(background_found_at(&mut nf, std::iter::repeat_n(300.0, 300)).is_empty());
        // Nor a call whose first blocks are a lost packet's worth of silence.
        let mut nf = NoiseFloor::default();
        assert!(background_found_at(&mut nf, std::iter::repeat_n(0.0, 3).chain(std::iter::repeat_n(300.0, 300))).is_empty());
    }

    #[test]
    fn rises_within_a_second_when_the_noise_gets_louder_and_ignores_digital_silence() {
        let mut nf = NoiseFloor::default();
        feed(&mut nf, 30.0, 200);
        feed(&mut nf, 0.0, 5);
        assert!((nf.db() - level_db(30.0)).abs() < 0.5, "a lost packet is not the background");
        feed(&mut nf, 300.0, 130);
        assert_floor_at(&nf, 300.0);
        feed(&mut nf, 0.0, 30);
        assert!(nf.db() < 6.0, "a line gone digitally silent is quiet: floor {}", nf.db());
    }
}
