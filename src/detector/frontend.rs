//! Turns frames of any size and rate into fixed 10 ms blocks of telephone-band audio at 8 kHz.
//!
//! Everything after this stage works at one rate, so thresholds mean the same at every input
//! rate and the per-call cost stays flat: wideband input is averaged down (speech above 4 kHz
//! carries little that tells a person from a machine), then a high-pass removes DC offset,
//! mains hum and rumble, which a plain level threshold would otherwise read as talking.

use crate::detector::dsp::wide::{wide_vectors, LANES};

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
    /// Internal-rate samples of the block being gathered: the filter and the statistics run on
    /// whole blocks only, so their rounding, and every decision, is the same however the
    /// input was cut into frames.
    pending: [f32; BLOCK],
    block_fill: usize,
    /// Ring of the last HISTORY filtered samples, for tone analysis.
    history: [f32; HISTORY],
    history_pos: usize,
}

// Butterworth high-pass, fc = 200 Hz at 8 kHz (bilinear transform, pre-warped); its b2 equals b0.
const HP_B0: f32 = 0.894_858_6;
const HP_B1: f32 = -1.789_717_2;
const HP_A1: f32 = -1.778_631_8;
const HP_A2: f32 = 0.800_802_7;

/// The feedback unrolled over four outputs. With f the feed-forward signal, output k of a group
/// is sum over j <= k of IMPULSE[k - j] f[j], plus FROM_Y1[k] and FROM_Y2[k] times the last and
/// the one-before-last output before the group.
const IMPULSE: [f32; 4] = feedback_response(1.0, 0.0, 0.0);
const FROM_Y1: [f32; 4] = feedback_response(0.0, 1.0, 0.0);
const FROM_Y2: [f32; 4] = feedback_response(0.0, 0.0, 1.0);

/// Four outputs of y[n] = input[n] - A1 y[n-1] - A2 y[n-2] for an input of `first` at n = 0
/// only, started from y[-1] = `y1` and y[-2] = `y2`.
const fn feedback_response(first: f32, y1: f32, y2: f32) -> [f32; 4] {
    let mut out = [0.0f32; 4];
    let (mut prev, mut prev2) = (y1, y2);
    let mut k = 0;
    while k < 4 {
        let input = if k == 0 { first } else { 0.0 };
        out[k] = input - HP_A1 * prev - HP_A2 * prev2;
        prev2 = prev;
        prev = out[k];
        k += 1;
    }
    out
}

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
            pending: [0.0; BLOCK],
            block_fill: 0,
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
            self.pending[self.block_fill..self.block_fill + made].copy_from_slice(&chunk[..made]);
            self.block_fill += made;
            if self.block_fill == BLOCK {
                let stats = self.filter_pending();
                self.block_fill = 0;
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

    /// High-passes the gathered block into the history ring and returns its statistics. In
    /// three passes, so that only the filter's feedback is done sample by sample: the
    /// feed-forward part and the statistics are plain loops over arrays, which the compiler
    /// turns into vector operations.
    fn filter_pending(&mut self) -> BlockStats {
        let n = BLOCK;
        // Input and output each with the two samples before them, so every tap is an index.
        let mut x = [0.0f32; BLOCK + 2];
        x[0] = self.x2;
        x[1] = self.x1;
        x[2..n + 2].copy_from_slice(&self.pending);
        let feed = feed_forward(&x);
        let mut y = [0.0f32; BLOCK + 2];
        y[0] = self.y2;
        y[1] = self.y1;
        // Four outputs at a time, each straight from the two outputs before the group: the
        // chain of dependent operations is one multiply-add per four samples.
        let (mut y1, mut y2) = (self.y1, self.y2);
        let mut i = 0;
        while i + 4 <= n {
            let f = &feed[i..i + 4];
            let g = [
                f[0],
                f[1] + IMPULSE[1] * f[0],
                f[2] + IMPULSE[1] * f[1] + IMPULSE[2] * f[0],
                f[3] + IMPULSE[1] * f[2] + IMPULSE[2] * f[1] + IMPULSE[3] * f[0],
            ];
            let group: [f32; 4] = std::array::from_fn(|k| g[k] + FROM_Y1[k] * y1 + FROM_Y2[k] * y2);
            y[i + 2..i + 6].copy_from_slice(&group);
            (y1, y2) = (group[3], group[2]);
            i += 4;
        }
        for i in i..n {
            let out = feed[i] + FROM_Y1[0] * y1 + FROM_Y2[0] * y2;
            y[i + 2] = out;
            (y1, y2) = (out, y1);
        }

        let [abs_sum, energy, lag1, lag2] = block_sums(&y, n);

        let out = &y[2..n + 2];
        let pos = self.history_pos;
        let first = (HISTORY - pos).min(n);
        self.history[pos..pos + first].copy_from_slice(&out[..first]);
        self.history[..n - first].copy_from_slice(&out[first..]);
        self.history_pos = (pos + n) & (HISTORY - 1);
        // Flush denormals so silence after sound never slows the filter down.
        let flush = |v: f32| if v.abs() < 1e-20 { 0.0 } else { v };
        (self.x1, self.x2) = (x[n + 1], x[n]);
        (self.y1, self.y2) = (flush(y[n + 1]), flush(y[n]));
        let (rho1, rho2) = if energy > 1.0 { (lag1 / energy, lag2 / energy) } else { (0.0, 0.0) };
        BlockStats { level: abs_sum / BLOCK as f32, rho1, rho2 }
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

wide_vectors! {
/// The high-pass's feed-forward part over a block's input, with the two samples before it first.
fn feed_forward(x: &[f32; BLOCK + 2]) -> [f32; BLOCK] {
    let mut feed = [0.0f32; BLOCK];
    for (i, f) in feed.iter_mut().enumerate() {
        *f = HP_B0 * (x[i + 2] + x[i]) + HP_B1 * x[i + 1];
    }
    feed
}
}

wide_vectors! {
/// Sums of |y|, y², y[n] y[n-1] and y[n] y[n-2] over the `n` outputs that follow the two
/// earlier ones at the start of `y`.
fn block_sums(y: &[f32; BLOCK + 2], n: usize) -> [f32; 4] {
    let out = &y[2..n + 2];
    let (lag1_of, lag2_of) = (&y[1..n + 1], &y[..n]);
    let whole = n - n % LANES;
    let mut lanes = [[0.0f32; LANES]; 4];
    let groups = out[..whole].chunks_exact(LANES).zip(lag1_of.chunks_exact(LANES)).zip(lag2_of.chunks_exact(LANES));
    for ((v, v1), v2) in groups {
        for l in 0..LANES {
            lanes[0][l] += v[l].abs();
            lanes[1][l] += v[l] * v[l];
            lanes[2][l] += v[l] * v1[l];
            lanes[3][l] += v[l] * v2[l];
        }
    }
    let mut sums = [0.0f32; 4];
    for j in whole..n {
        sums[0] += out[j].abs();
        sums[1] += out[j] * out[j];
        sums[2] += out[j] * lag1_of[j];
        sums[3] += out[j] * lag2_of[j];
    }
    for (sum, lane) in sums.iter_mut().zip(&lanes) {
        *sum += lane.iter().sum::<f32>();
    }
    sums
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

    /// Bit for bit, not just close: a block right on silent_threshold must not flip with the
    /// caller's frame size.
    #[test]
    fn block_statistics_do_not_depend_on_how_the_input_is_cut() {
        let mut seed = 12345u32;
        let noise: Vec<i16> = (0..16000 * 2)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) as i16) / 8
            })
            .collect();
        for rate in [8000, 16000] {
            let whole = blocks_for(rate, &noise);
            for size in [1, 7, 33, 160, 961] {
                let mut fe = FrontEnd::new(rate);
                let mut cut = Vec::new();
                for chunk in noise.chunks(size) {
                    fe.push(chunk, &mut |_, b| cut.push(b));
                }
                assert_eq!(cut.len(), whole.len());
                for (a, b) in cut.iter().zip(&whole) {
                    let bits = |s: &BlockStats| (s.level.to_bits(), s.rho1.to_bits(), s.rho2.to_bits());
                    assert_eq!(bits(a), bits(b), "rate {rate}, frames of {size} samples");
                }
            }
        }
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
    fn the_filter_is_the_textbook_biquad_whatever_the_chunking() {
        // Direct form I in f64, one sample at a time.
        let mut seed: u32 = 99;
        let input: Vec<i16> = (0..4000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 16) as i16) / 4
            })
            .collect();
        let (b0, b1, a1, a2) = (f64::from(HP_B0), f64::from(HP_B1), f64::from(HP_A1), f64::from(HP_A2));
        let (mut x1, mut x2, mut y1, mut y2) = (0.0f64, 0.0, 0.0, 0.0);
        let want: Vec<f64> = input
            .iter()
            .map(|&x| {
                let x = f64::from(x);
                let y = b0 * (x + x2) + b1 * x1 - a1 * y1 - a2 * y2;
                (x2, x1, y2, y1) = (x1, x, y1, y);
                y
            })
            .collect();
        // Chunks of 1 to 13 samples, so they straddle every block boundary.
        let mut fe = FrontEnd::new(8000);
        let mut fed = 0;
        let mut size = 1;
        while fed < input.len() {
            let end = (fed + size).min(input.len());
            fe.push(&input[fed..end], &mut |_, _| {});
            fed = end;
            size = size % 13 + 1;
            // The history holds the filtered samples up to the last whole block.
            let done = fed / BLOCK * BLOCK;
            let mut history = [0.0f32; HISTORY];
            fe.recent(&mut history);
            let n = HISTORY.min(done);
            for (got, want) in history[HISTORY - n..].iter().zip(&want[done - n..done]) {
                assert!((f64::from(*got) - want).abs() < 0.05, "after {fed} samples: {got} vs {want}");
            }
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
