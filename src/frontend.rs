//! Turns frames of any size and rate into fixed 10 ms blocks of telephone-band audio at 8 kHz.
//!
//! Everything after this stage works at one rate, so thresholds mean the same at every input
//! rate and the per-call cost stays flat: wideband input is averaged down (speech above 4 kHz
//! carries little that tells a person from a machine), then a high-pass removes DC offset,
//! mains hum and rumble, which a plain level threshold would otherwise read as talking.

/// Samples per block at the internal rate.
pub const BLOCK: usize = 80;
/// Length of one block in ms.
pub const BLOCK_MS: u64 = 10;
/// The internal analysis rate.
pub const INTERNAL_RATE: u32 = 8000;
/// How much recent audio the tone analysis looks at (a power of two for the FFT).
pub const HISTORY: usize = 256;

/// What one 10 ms block measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockStats {
    /// Mean absolute sample value (mod_conference's energy scale) after the high-pass.
    pub level: f32,
    /// Normalised lag-1 and lag-2 autocorrelations: a cheap fingerprint of the block's
    /// spectrum (a tone holds them steady, and one of them near ±1).
    pub rho1: f32,
    pub rho2: f32,
}

pub struct FrontEnd {
    decimation: u32,
    acc: i32,
    acc_len: u32,
    // Second-order high-pass (biquad) state, direct form I.
    x1: f32,
    x2: f32,
    y1: f32,
    y2: f32,
    block_fill: usize,
    abs_sum: f32,
    energy: f32,
    lag1: f32,
    lag2: f32,
    prev: f32,
    prev2: f32,
    /// Ring of the last HISTORY filtered samples, for tone analysis.
    history: [f32; HISTORY],
    history_pos: usize,
}

// Butterworth high-pass, fc = 200 Hz at 8 kHz (bilinear transform, pre-warped).
const HP_B0: f32 = 0.894_858_6;
const HP_B1: f32 = -1.789_717_2;
const HP_B2: f32 = 0.894_858_6;
const HP_A1: f32 = -1.778_631_8;
const HP_A2: f32 = 0.800_802_7;

impl FrontEnd {
    pub fn new(rate: u32) -> FrontEnd {
        FrontEnd {
            decimation: rate / INTERNAL_RATE,
            acc: 0,
            acc_len: 0,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
            block_fill: 0,
            abs_sum: 0.0,
            energy: 0.0,
            lag1: 0.0,
            lag2: 0.0,
            prev: 0.0,
            prev2: 0.0,
            history: [0.0; HISTORY],
            history_pos: 0,
        }
    }

    /// Switches the input rate; a partly averaged sample is dropped, the filters keep state.
    pub fn set_rate(&mut self, rate: u32) {
        self.decimation = rate / INTERNAL_RATE;
        self.acc = 0;
        self.acc_len = 0;
    }

    /// Feeds input samples; calls `on_block` each time a 10 ms block completes.
    #[inline]
    pub fn push(&mut self, samples: &[i16], on_block: &mut impl FnMut(&FrontEnd, BlockStats)) {
        if self.decimation == 1 {
            for &s in samples {
                self.push_internal(f32::from(s), on_block);
            }
            return;
        }
        for &s in samples {
            self.acc += i32::from(s);
            self.acc_len += 1;
            if self.acc_len == self.decimation {
                let x = self.acc as f32 / self.decimation as f32;
                self.acc = 0;
                self.acc_len = 0;
                self.push_internal(x, on_block);
            }
        }
    }

    #[inline]
    fn push_internal(&mut self, x: f32, on_block: &mut impl FnMut(&FrontEnd, BlockStats)) {
        let y = HP_B0 * x + HP_B1 * self.x1 + HP_B2 * self.x2 - HP_A1 * self.y1 - HP_A2 * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        // Flush denormals so silence after sound never slows the filter down.
        self.y1 = if y.abs() < 1e-20 { 0.0 } else { y };
        self.abs_sum += y.abs();
        self.energy += y * y;
        self.lag1 += y * self.prev;
        self.lag2 += y * self.prev2;
        self.prev2 = self.prev;
        self.prev = y;
        self.history[self.history_pos] = y;
        self.history_pos = (self.history_pos + 1) % HISTORY;
        self.block_fill += 1;
        if self.block_fill == BLOCK {
            let (rho1, rho2) = if self.energy > 1.0 { (self.lag1 / self.energy, self.lag2 / self.energy) } else { (0.0, 0.0) };
            let stats = BlockStats { level: self.abs_sum / BLOCK as f32, rho1, rho2 };
            self.block_fill = 0;
            self.abs_sum = 0.0;
            self.energy = 0.0;
            self.lag1 = 0.0;
            self.lag2 = 0.0;
            on_block(self, stats);
        }
    }

    /// Copies the last HISTORY filtered samples, oldest first.
    pub fn recent(&self, out: &mut [f32; HISTORY]) {
        let (newer, older) = self.history.split_at(self.history_pos);
        out[..older.len()].copy_from_slice(older);
        out[older.len()..].copy_from_slice(newer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks_for(rate: u32, samples: &[i16]) -> Vec<BlockStats> {
        let mut fe = FrontEnd::new(rate);
        let mut out = Vec::new();
        fe.push(samples, &mut |_, b| out.push(b));
        out
    }

    fn sine(rate: u32, freq: f32, amp: f32, ms: u32) -> Vec<i16> {
        let n = (rate * ms / 1000) as usize;
        (0..n)
            .map(|i| (amp * (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin()) as i16)
            .collect()
    }

    #[test]
    fn one_block_per_10_ms_at_every_rate() {
        for rate in [8000, 16000, 32000, 48000] {
            assert_eq!(blocks_for(rate, &sine(rate, 1000.0, 1000.0, 1000)).len(), 100, "rate {rate}");
        }
    }

    #[test]
    fn dc_and_hum_are_removed() {
        let dc: Vec<i16> = vec![600; 8000];
        let last = *blocks_for(8000, &dc).last().unwrap();
        assert!(last.level < 1.0, "DC level {}", last.level);
        // 60 Hz at mean |x| 1273 comes out at least 20 dB down.
        let hum = sine(8000, 60.0, 2000.0, 1000);
        let last = *blocks_for(8000, &hum).last().unwrap();
        assert!(last.level < 127.0, "hum level {}", last.level);
    }

    #[test]
    fn speech_band_level_matches_mean_abs_at_every_rate() {
        // A 1 kHz sine of amplitude A has mean |x| = 2A/pi.
        for rate in [8000, 16000, 48000] {
            let last = *blocks_for(rate, &sine(rate, 1000.0, 1000.0, 500)).last().unwrap();
            let expected = 2000.0 / std::f32::consts::PI;
            assert!((last.level - expected).abs() / expected < 0.15, "rate {rate}: {}", last.level);
        }
    }
}
