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
const DIGITAL_SILENCE: f32 = 2.0;
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

    pub fn update(&mut self, level: f32) {
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
