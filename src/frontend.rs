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
const _: () = assert!(HISTORY.is_power_of_two());

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

// Butterworth high-pass, fc = 200 Hz at 8 kHz (bilinear transform, pre-warped); its b2 equals b0.
const HP_B0: f32 = 0.894_858_6;
const HP_B1: f32 = -1.789_717_2;
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
    pub fn push(&mut self, samples: &[i16], on_block: &mut impl FnMut(&FrontEnd, BlockStats)) {
        let mut chunk = [0.0f32; BLOCK];
        let mut input = samples;
        loop {
            let room = BLOCK - self.block_fill;
            let (made, used) = self.decimate(input, &mut chunk[..room]);
            input = &input[used..];
            if made == 0 {
                return;
            }
            self.filter(&chunk[..made]);
            if self.block_fill == BLOCK {
                let (rho1, rho2) = if self.energy > 1.0 {
                    (self.lag1 / self.energy, self.lag2 / self.energy)
                } else {
                    (0.0, 0.0)
                };
                let stats = BlockStats { level: self.abs_sum / BLOCK as f32, rho1, rho2 };
                self.block_fill = 0;
                self.abs_sum = 0.0;
                self.energy = 0.0;
                self.lag1 = 0.0;
                self.lag2 = 0.0;
                on_block(self, stats);
            }
        }
    }

    /// Averages input down to the internal rate into `out`; returns (samples made, input used).
    fn decimate(&mut self, input: &[i16], out: &mut [f32]) -> (usize, usize) {
        if self.decimation == 1 {
            let n = input.len().min(out.len());
            for (o, &x) in out.iter_mut().zip(&input[..n]) {
                *o = f32::from(x);
            }
            return (n, n);
        }
        let mut made = 0;
        let mut used = 0;
        while made < out.len() && used < input.len() {
            self.acc += i32::from(input[used]);
            self.acc_len += 1;
            used += 1;
            if self.acc_len == self.decimation {
                out[made] = self.acc as f32 / self.decimation as f32;
                made += 1;
                self.acc = 0;
                self.acc_len = 0;
            }
        }
        (made, used)
    }

    /// High-passes internal-rate samples into the block statistics and the history ring.
    fn filter(&mut self, xs: &[f32]) {
        // Locals keep the recursion in registers.
        let (mut x1, mut x2, mut y1, mut y2) = (self.x1, self.x2, self.y1, self.y2);
        let (mut abs_sum, mut energy, mut lag1, mut lag2) = (self.abs_sum, self.energy, self.lag1, self.lag2);
        let (mut prev, mut prev2) = (self.prev, self.prev2);
        let mut pos = self.history_pos;
        for &x in xs {
            let y = HP_B0 * (x + x2) + HP_B1 * x1 - HP_A1 * y1 - HP_A2 * y2;
            x2 = x1;
            x1 = x;
            y2 = y1;
            y1 = y;
            abs_sum += y.abs();
            energy += y * y;
            lag1 += y * prev;
            lag2 += y * prev2;
            prev2 = prev;
            prev = y;
            self.history[pos] = y;
            pos = (pos + 1) & (HISTORY - 1);
        }
        // Flush denormals so silence after sound never slows the filter down.
        let flush = |v: f32| if v.abs() < 1e-20 { 0.0 } else { v };
        (self.x1, self.x2, self.y1, self.y2) = (x1, x2, flush(y1), flush(y2));
        (self.abs_sum, self.energy, self.lag1, self.lag2) = (abs_sum, energy, lag1, lag2);
        (self.prev, self.prev2) = (prev, prev2);
        self.history_pos = pos;
        self.block_fill += xs.len();
    }

    /// Copies the last BLOCK filtered samples (the block just completed), oldest first.
    pub fn last_block(&self, out: &mut [f32; BLOCK]) {
        let start = (self.history_pos + HISTORY - BLOCK) & (HISTORY - 1);
        let first = (HISTORY - start).min(BLOCK);
        out[..first].copy_from_slice(&self.history[start..start + first]);
        out[first..].copy_from_slice(&self.history[..BLOCK - first]);
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
    fn the_last_block_is_the_end_of_the_history() {
        let mut fe = FrontEnd::new(8000);
        // 3.5 blocks at a time, so the block boundary wanders through the history ring.
        for chunk in sine(8000, 300.0, 3000.0, 1000).chunks(280) {
            fe.push(chunk, &mut |front, _| {
                let mut history = [0.0; HISTORY];
                let mut block = [0.0; BLOCK];
                front.recent(&mut history);
                front.last_block(&mut block);
                assert_eq!(&history[HISTORY - BLOCK..], &block[..]);
            });
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
