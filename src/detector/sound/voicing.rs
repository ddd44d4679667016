//! Voicing: how periodic the last few tens of ms were, as a voice is while it sounds a vowel.
//!
//! Line hiss, pink noise, car rumble and road noise have no period; a voice does (its vocal
//! folds open and shut 80-400 times a second), and so keeps it in the narrowband harmonics
//! even when the fundamental itself was filtered away. So where the line's background is
//! noise, a periodic block is somebody's voice, even when it stands only a few dB above that
//! background and barely swings. Where the background is itself voices (other talkers, a TV)
//! periodicity says nothing about who is speaking: the detector learns which kind of
//! background it has (see `BackgroundVoicing`).
//!
//! Cost: the signal is averaged down to 2 kHz (speech's harmonics below 1 kHz carry the
//! period), then the autocorrelation at every lag of the pitch range is kept as a running sum
//! that forgets older blocks: 20 samples x 32 lags per 10 ms block.

use crate::detector::dsp::wide::{wide_vectors, LANES};
use crate::detector::frontend::BLOCK;
use crate::detector::sound::mains_hum::MainsHum;

/// Internal samples averaged into one: 8 kHz down to 2 kHz.
const DECIMATION: usize = 4;
const PER_BLOCK: usize = BLOCK / DECIMATION;
/// Lags at 2 kHz: 5 (400 Hz, a child's or a high female voice) to 31 (65 Hz, under the lowest
/// male voices; longer lags would mostly find mains hum and an idling engine's firing rate).
const MIN_LAG: usize = 5;
const MAX_LAG: usize = 31;
/// Share of the running autocorrelation kept from one block to the next: about 30 ms of memory,
/// a few pitch periods of the lowest voices, short enough to follow a syllable.
const KEEP: f32 = 0.72;

/// Lags worked out: MAX_LAG rounded up to whole lanes (the extra ones cost nothing).
const LAGS: usize = (MAX_LAG + 1).next_multiple_of(LANES);

#[derive(Debug, Clone)]
pub struct Voicing {
    /// The last PER_BLOCK + LAGS samples at 2 kHz, newest first: then x[n - lag] for every lag
    /// is one contiguous run, and the sums for all lags update side by side.
    recent: [f32; PER_BLOCK + LAGS],
    /// Running autocorrelation at lags 0..LAGS.
    acf: [f32; LAGS],
    hum: MainsHum,
}

impl Default for Voicing {
    fn default() -> Self {
        Voicing { recent: [0.0; PER_BLOCK + LAGS], acf: [0.0; LAGS], hum: MainsHum::default() }
    }
}

impl Voicing {
    /// Takes one block of internal-rate samples; returns its periodicity, 0 (none) to 1 (a
    /// perfectly periodic signal): the autocorrelation's highest peak in the pitch range,
    /// relative to the signal's power.
    pub fn update(&mut self, block: &[f32; BLOCK]) -> f32 {
        self.recent.copy_within(..LAGS, PER_BLOCK);
        self.hum.begin_block();
        for (i, group) in block.chunks_exact(DECIMATION).enumerate() {
            let sample = group.iter().sum::<f32>() * (1.0 / DECIMATION as f32);
            self.recent[PER_BLOCK - 1 - i] = self.hum.filter(sample);
        }
        for (a, s) in self.acf.iter_mut().zip(block_sums(&self.recent)) {
            *a = *a * KEEP + s;
        }
        let power = self.acf[0];
        if power <= 1.0 {
            return 0.0;
        }
        let peak = self.acf[MIN_LAG..=MAX_LAG].iter().fold(0.0f32, |m, &a| m.max(a));
        (peak / power).min(1.0)
    }

    /// The block just measured was the line's background: lets the hum filter learn from it.
    pub fn note_background(&mut self) {
        self.hum.note_background();
    }
}

wide_vectors! {
/// This block's autocorrelation sums, x[n] x[n - lag] over its PER_BLOCK samples, at every lag.
fn block_sums(recent: &[f32; PER_BLOCK + LAGS]) -> [f32; LAGS] {
    let mut out = [0.0f32; LAGS];
    // LANES lags at a time, their sums held in registers across the block.
    for (group, acf) in out.chunks_exact_mut(LANES).enumerate() {
        let mut sums = [0.0f32; LANES];
        for k in 0..PER_BLOCK {
            let x = recent[k];
            let start = k + group * LANES;
            let past: &[f32; LANES] = recent[start..start + LANES].try_into().expect("LANES long");
            for (s, p) in sums.iter_mut().zip(past) {
                *s += x * p;
            }
        }
        acf.copy_from_slice(&sums);
    }
    out
}
}

/// How periodic the line's background is, learnt from the blocks nobody is talking in.
///
/// Kept as a histogram of their periodicity that slowly forgets, and judged by a low
/// percentile: weak ends of words that slip into the "background" blocks raise the upper part
/// of the histogram, while a background of voices or music keeps even its lower part high.
#[derive(Debug, Clone)]
pub struct BackgroundVoicing {
    histogram: [f32; BINS],
    mass: f32,
}

const BINS: usize = 20;
/// Background blocks needed before the estimate is trusted (about a third of a second).
const LEARN_BLOCKS: f32 = 30.0;
/// Share of the histogram kept per background block (about two seconds of memory).
const FORGET: f32 = 0.995;
/// The percentile judged.
const PERCENTILE: f32 = 0.25;
/// A background whose lower quarter is no more periodic than this is noise: line hiss or
/// pink noise measure about 0.2, car noise 0.25; babble 0.35, a TV or music 0.5 and more.
const NOISE_BACKGROUND: f32 = 0.3;
/// Steady noise, line hiss to car noise, with no room for babble at the edge of NOISE_BACKGROUND:
/// what may join loose syllables into a word (see talk.rs).
const STEADY_NOISE_BACKGROUND: f32 = 0.25;

impl Default for BackgroundVoicing {
    fn default() -> Self {
        BackgroundVoicing { histogram: [0.0; BINS], mass: 0.0 }
    }
}

impl BackgroundVoicing {
    pub fn update(&mut self, voicing: f32) {
        for h in self.histogram.iter_mut() {
            *h *= FORGET;
        }
        self.mass = self.mass * FORGET + 1.0;
        let bin = ((voicing.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS - 1);
        self.histogram[bin] += 1.0;
    }

    /// The periodicity under which PERCENTILE of the background blocks fall.
    fn low_percentile(&self) -> f32 {
        let wanted = self.mass * PERCENTILE;
        let mut seen = 0.0;
        for (i, h) in self.histogram.iter().enumerate() {
            seen += h;
            if seen >= wanted {
                return (i + 1) as f32 / BINS as f32;
            }
        }
        1.0
    }

    /// How periodic the background is (the periodicity under which a quarter of its blocks fall),
    /// once it has been heard long enough.
    pub fn periodicity(&self) -> Option<f32> {
        (self.mass >= LEARN_BLOCKS).then(|| self.low_percentile())
    }

    /// True once the background has been heard long enough and has no period of its own.
    pub fn is_noise(&self) -> bool {
        self.mass >= LEARN_BLOCKS && self.low_percentile() <= NOISE_BACKGROUND
    }

    /// True once the background has been heard long enough and is plainly steady noise: hiss,
    /// pink or car noise, not faint voices that only just pass for noise.
    pub fn is_steady_noise(&self) -> bool {
        self.mass >= LEARN_BLOCKS && self.low_percentile() <= STEADY_NOISE_BACKGROUND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(f: impl Fn(usize) -> f32, n: usize) -> Vec<[f32; BLOCK]> {
        (0..n)
            .map(|b| {
                let mut out = [0.0; BLOCK];
                for (i, v) in out.iter_mut().enumerate() {
                    *v = f(b * BLOCK + i);
                }
                out
            })
            .collect()
    }

    fn last(v: &mut Voicing, bs: &[[f32; BLOCK]]) -> f32 {
        bs.iter().fold(0.0, |_, b| v.update(b))
    }

    fn noise(seed: &mut u32) -> f32 {
        *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        ((*seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2000.0
    }

    #[test]
    fn a_voice_like_pulse_train_is_periodic_and_noise_is_not() {
        // 125 Hz glottal-like pulses through a resonance at 700 Hz: a vowel's shape.
        let vowel = |n: usize| {
            let t = n as f32 / 8000.0;
            let since_pulse = t % (1.0 / 125.0);
            3000.0 * (-since_pulse * 400.0).exp() * (2.0 * std::f32::consts::PI * 700.0 * since_pulse).sin()
        };
        let mut v = Voicing::default();
        let p = last(&mut v, &blocks(vowel, 20));
        assert!(p > 0.8, "vowel periodicity {p}");

        let mut seed = 3;
        let samples: Vec<f32> = (0..8000).map(|_| noise(&mut seed)).collect();
        let mut v = Voicing::default();
        let worst = blocks(|n| samples[n], 100).iter().skip(5).map(|b| v.update(b)).fold(0.0f32, f32::max);
        assert!(worst < 0.4, "white noise periodicity up to {worst}");
    }

    #[test]
    fn silence_has_no_period() {
        let mut v = Voicing::default();
        assert_eq!(last(&mut v, &blocks(|_| 0.0, 10)), 0.0);
    }

    #[test]
    fn the_background_is_noise_only_after_enough_aperiodic_blocks() {
        let mut bg = BackgroundVoicing::default();
        let mut heard = 0;
        while !bg.is_noise() {
            bg.update(0.2);
            heard += 1;
            assert!(heard <= 40, "still not judged after {heard} blocks");
        }
        assert!(heard >= LEARN_BLOCKS as u32, "judged after only {heard} blocks");
        // A few voiced blocks (weak syllables slipping into the background) change nothing...
        for _ in 0..8 {
            bg.update(0.9);
        }
        assert!(bg.is_noise());
        // ...voices that go on behind the caller do.
        for _ in 0..300 {
            bg.update(0.6);
        }
        assert!(!bg.is_noise(), "voices behind the caller");
    }

    #[test]
    fn faint_babble_can_pass_for_noise_but_not_for_steady_noise() {
        let mut hiss = BackgroundVoicing::default();
        let mut babble = BackgroundVoicing::default();
        for i in 0..100 {
            hiss.update(if i % 2 == 0 { 0.15 } else { 0.3 });
            babble.update(if i % 2 == 0 { 0.27 } else { 0.45 });
        }
        assert!(hiss.is_noise() && hiss.is_steady_noise());
        assert!(babble.is_noise() && !babble.is_steady_noise());
    }
}
